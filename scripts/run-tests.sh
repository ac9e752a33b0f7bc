#!/bin/sh
# The README's test command: installs what is missing, builds, and runs the
# whole test suite — once in a plain build and once under ASan and UBSan.
# The last line sums both runs as "N passed, M failed".
set -u
cd "$(dirname "$0")/.."
scripts/install-deps.sh test || exit 1
passed=0
failed=0
run_suite() {
	dir=$1
	shift
	if ! scripts/build.sh "$dir" "$@"; then
		echo "build of $dir failed" >&2
		failed=$((failed + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs --num-processes 2 >"$dir/test-output.txt" 2>&1
	grep -E '^ *[0-9]+/[0-9]+ ' "$dir/test-output.txt" | sed "s|^|[$dir] |"
	grep -E -A40 '^(=+ [0-9]+/[0-9]+ =+|--- .* ---)' "$dir/test-output.txt" | grep -E 'FAIL|Assertion|ERROR|error' | head -40
	ok=$(sed -n 's/^Ok: *\([0-9]*\)/\1/p' "$dir/test-output.txt")
	fail=$(sed -n 's/^Fail: *\([0-9]*\)/\1/p' "$dir/test-output.txt")
	to=$(sed -n 's/^Timeout: *\([0-9]*\)/\1/p' "$dir/test-output.txt")
	passed=$((passed + ${ok:-0}))
	failed=$((failed + ${fail:-0} + ${to:-0}))
	if [ -z "$ok" ]; then
		echo "no test summary from $dir" >&2
		failed=$((failed + 1))
	fi
}
run_suite build
# -Werror is the plain build's job; this one is for what runs.
run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug -Dwerror=false
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
