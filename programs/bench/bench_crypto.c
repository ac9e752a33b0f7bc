#include <stdio.h>

#include "bench.h"

int bench_crypto_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "sshrpc-bench crypto: not built yet\n");
	return 2;
}
