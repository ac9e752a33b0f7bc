/* afl-fuzz entry point, persistent mode with shared-memory test cases.
 * Built only with -Dfuzz=afl and CC=afl-clang-fast, which define the
 * __AFL_* macros. */
#include <unistd.h>

#include "fuzz.h"

__AFL_FUZZ_INIT();

int main(void)
{
	__AFL_INIT();
	unsigned char *buf = __AFL_FUZZ_TESTCASE_BUF;
	while (__AFL_LOOP(100000)) {
		int len = __AFL_FUZZ_TESTCASE_LEN;
		sshrpc_fuzz_one(buf, (size_t)len);
	}
	return 0;
}
