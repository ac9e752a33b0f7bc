/* sshrpc-bench subcommands: each is a main() of its own. */
#ifndef SSHRPC_BENCH_H
#define SSHRPC_BENCH_H

int bench_crypto_main(int argc, char **argv);
/* Publickey sign+verify per key type; encrypted key load vs ssh-keygen. */
int bench_keys_main(int argc, char **argv);
/* ETF encode/decode rates and dispatch cost, in one process. */
int bench_codec_main(int argc, char **argv);
/* The RPC benchmark: also what runs with no subcommand. */
int bench_rpc_main(int argc, char **argv);

#endif
