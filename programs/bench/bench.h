/* sshrpc-bench subcommands: each is a main() of its own. */
#ifndef SSHRPC_BENCH_H
#define SSHRPC_BENCH_H

int bench_crypto_main(int argc, char **argv);

#endif
