/* Helpers shared by the rpc/ tests: the shared test vectors, hex, a small
 * SHA-256 (FIPS 180-4) for large.tsv, and a counting allocator that
 * catches leaks and lets a test make allocation fail. */
#ifndef SSHRPC_TEST_RPC_UTIL_H
#define SSHRPC_TEST_RPC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "sshrpc/rpc.h"

/* A TSV file of the shared test data as lines of fields (tabs replaced by
 * NULs in place). */
typedef struct tsv_line {
	char *field[6];
	size_t nfields;
	size_t lineno;
} tsv_line;
typedef struct tsv_file {
	char *text;
	tsv_line *lines;
	size_t nlines;
} tsv_file;

/* Loads $SSHRPC_TESTDATA/etf/<name>; aborts the test when missing. */
void tsv_load(tsv_file *f, const char *name);
void tsv_free(tsv_file *f);

/* Hex to bytes (malloc'd); returns the length. */
size_t hex_decode(const char *hex, uint8_t **out);
/* Bytes to lower-case hex (malloc'd, NUL-terminated). */
char *hex_encode(const uint8_t *p, size_t n);

void sha256(const uint8_t *p, size_t n, uint8_t out[32]);

/* A counting allocator: live bytes and blocks, and a budget after which it
 * refuses (SIZE_MAX: never). */
typedef struct test_alloc {
	sshrpc_alloc a;
	size_t live_bytes, live_blocks, total_allocs;
	size_t fail_after; /* allocations that succeed before one fails */
} test_alloc;
void test_alloc_init(test_alloc *t);

#endif
