/* sshrpc-bench subcommands: each is a main() of its own. */
#ifndef SSHRPC_BENCH_H
#define SSHRPC_BENCH_H

int bench_crypto_main(int argc, char **argv);
/* The RPC benchmark: also what runs with no subcommand. */
int bench_rpc_main(int argc, char **argv);

#endif
