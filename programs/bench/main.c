/* sshrpc-bench: what SSH costs, per layer and per RPC mode.
 *   sshrpc-bench [options]          the RPC benchmark (bench_rpc.c)
 *   sshrpc-bench crypto [options]   ciphers and MACs (bench_crypto.c)
 *   sshrpc-bench keys [--quick]     publickey auth cost per key type, encrypted key load (bench_keys.c)
 *   sshrpc-bench codec [--quick]    ETF codec and dispatch in one process (bench_codec.c) */
#include <string.h>

#include "bench.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "crypto") == 0)
		return bench_crypto_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "keys") == 0)
		return bench_keys_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "codec") == 0)
		return bench_codec_main(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "rpc") == 0)
		return bench_rpc_main(argc - 1, argv + 1);
	return bench_rpc_main(argc, argv);
}
