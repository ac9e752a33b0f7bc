/* sshrpc-bench: what SSH costs, per layer and per RPC mode. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

static void usage(void)
{
	fprintf(stderr, "usage: sshrpc-bench crypto [--json] [--seconds S]\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "crypto") == 0)
		return bench_crypto_main(argc - 1, argv + 1);
	usage();
	return 2;
}
