#!/usr/bin/env bash
# The benchmark of docs/benchmarks.md in one command: sshrpc-bench with
# every comparison (OpenSSH, Dropbear, TCP floor), its table saved to
# docs/bench/results.txt, its JSON to docs/bench/results.json and its plot
# to docs/bench/latency.png.
# Usage: scripts/bench.sh [BUILD_DIR] [more sshrpc-bench options]
set -euo pipefail
build=${1:-build}
[ $# -gt 0 ] && shift
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -x "$build/programs/sshrpc-bench" ] || [ ! -x "$build/programs/sshrpcd" ]; then
	echo "bench.sh: build first: meson setup $build && ninja -C $build" >&2
	exit 2
fi
build=$(cd "$build" && pwd)
cd "$root"
mkdir -p docs/bench
load=$(cut -d' ' -f1 /proc/loadavg)
echo "bench.sh: load average $load (figures are steadier on an idle machine)" >&2
"$build/programs/sshrpc-bench" --json docs/bench/results.json --plot docs/bench/latency.png "$@" |
	tee docs/bench/results.txt
