#!/bin/bash
# Starts sshrpcd and runs the load test against it (tests/programs/load.c).
# SSHRPC_LOAD_CLIENTS / SSHRPC_LOAD_CALLS override the counts (500 x 200).
set -u
build=$(cd "${1:-build}" && pwd)
work=$(mktemp -d /tmp/sshrpc-load.XXXXXX)
trap 'kill $srv 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
ssh-keygen -q -t ed25519 -N '' -f "$work/id"
ssh-keygen -q -t ed25519 -N '' -f "$work/hostkey"
cp "$work/id.pub" "$work/ak"
ulimit -n 4096 2>/dev/null
"$build/programs/sshrpcd" -p 127.0.0.1:0 -h "$work/hostkey" -o AuthorizedKeysFile="$work/ak" \
	-o MaxStartups=1000 -o LogLevel=ERROR 2>"$work/log" &
srv=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/log")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { cat "$work/log"; exit 1; }
"$build/tests/programs/test-load" "$port" "$work/id" "${SSHRPC_LOAD_CLIENTS:-500}" "${SSHRPC_LOAD_CALLS:-200}"
rc=$?
kill -0 $srv 2>/dev/null || { echo "FAIL the server died"; cat "$work/log"; rc=1; }
exit $rc
