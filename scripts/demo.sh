#!/bin/sh
# The main job: throwaway keys, sshrpcd on a free loopback port, calls in
# every mode with sshrpc, a short sshrpc-bench, then the server is stopped.
# Usage: scripts/demo.sh BUILD_DIR
set -eu
build=${1:-build}
bin=$(cd "$build/programs" && pwd)
work=$(mktemp -d /tmp/sshrpc-demo.XXXXXX)
server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

ssh-keygen -q -t ed25519 -N '' -C demo-client -f "$work/id_ed25519"
cp "$work/id_ed25519.pub" "$work/authorized_keys"
# No -h: sshrpcd makes ./sshrpcd_host_ed25519_key in its folder on first start.
(cd "$work" && exec "$bin/sshrpcd" -p 127.0.0.1:0 \
	-o AuthorizedKeysFile="$work/authorized_keys" -o LogLevel=ERROR 2>"$work/server.log") &
server_pid=$!
port=
for _ in $(seq 100); do
	port=$(sed -n 's/^.*listening on 127\.0\.0\.1:\([0-9]*\).*$/\1/p' "$work/server.log")
	[ -n "$port" ] && break
	sleep 0.05
done
if [ -z "$port" ]; then
	echo "demo: sshrpcd did not start:" >&2
	cat "$work/server.log" >&2
	exit 1
fi
echo "sshrpcd listening on 127.0.0.1:$port (host key and client key made for this run)"
client() {
	"$bin/sshrpc" -p "$port" -i "$work/id_ed25519" \
		-o UserKnownHostsFile="$work/known_hosts" -o StrictHostKeyChecking=accept-new "$@"
}
for mode in exec exec-mod shell subsystem; do
	echo "--- mode $mode"
	client --mode "$mode" 127.0.0.1 'sys:ping()' 'sys:echo(<<"abc">>)' 'sys:add(2,3)' \
		'sys:add(18446744073709551616,1)' 'nosuch:call(1)'  || true
done
echo "--- benchmark (short run; docs/benchmarks.md has the full one)"
"$bin/sshrpc-bench" --quick --target "127.0.0.1:$port" --identity "$work/id_ed25519" \
	--known-hosts "$work/known_hosts"
