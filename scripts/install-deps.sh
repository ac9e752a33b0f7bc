#!/bin/sh
# Installs what sshrpc needs on Debian 12 that is not there yet. As root it
# runs apt-get; otherwise it prints the exact command to run and fails.
# Usage: scripts/install-deps.sh [build|test|fuzz]
set -eu
want="meson ninja-build pkg-config gcc libssl-dev zlib1g-dev"
case "${1:-build}" in
build) want="$want openssh-client openssh-server gnuplot-nox" ;;
test) want="$want clang libcriterion-dev openssh-client openssh-server dropbear-bin" ;;
fuzz) want="$want afl++ clang" ;;
*) echo "install-deps.sh: unknown set '$1' (build, test or fuzz)" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "installing:$missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "missing packages:$missing" >&2
	echo "run: sudo apt-get update && sudo apt-get install -y$missing" >&2
	exit 1
fi
