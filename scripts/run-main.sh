#!/bin/sh
# The README's main job: installs what is missing, builds, and runs what
# exists end to end.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
scripts/build.sh build
if [ -x build/programs/sshrpcd ] && [ -x build/programs/sshrpc ]; then
	exec scripts/demo.sh build
fi
echo "sshrpc: the server and client programs are not built yet; running what exists, the crypto benchmark." >&2
exec build/programs/sshrpc-bench crypto --seconds 0.2
