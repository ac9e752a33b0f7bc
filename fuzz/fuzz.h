/* Every harness defines this one function; fuzz/driver_replay.c or
 * fuzz/driver_afl.c supplies main(). It must never crash, leak or hang on
 * any input: that is what the harness checks. */
#ifndef SSHRPC_FUZZ_H
#define SSHRPC_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int sshrpc_fuzz_one(const uint8_t *data, size_t len);

#endif
