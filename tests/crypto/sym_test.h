/* Helpers shared by the symmetric crypto tests: hex vectors and an
 * allocator that counts what goes through it. */
#ifndef SSHRPC_TEST_SYM_H
#define SSHRPC_TEST_SYM_H

#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sshrpc/crypto.h"

/* Decodes hex (spaces and colons ignored) into out; returns the length. */
static inline size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (const char *p = hex; *p != '\0'; p++) {
		int v;
		if (*p >= '0' && *p <= '9')
			v = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			v = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			v = *p - 'A' + 10;
		else
			continue;
		if (hi < 0) {
			hi = v;
		} else {
			cr_assert_lt(n, cap, "hex vector longer than its buffer");
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	cr_assert_eq(hi, -1, "odd number of hex digits");
	return n;
}

static inline void assert_hex(const uint8_t *got, size_t len, const char *hex, const char *what)
{
	uint8_t want[1024];
	size_t n = unhex(hex, want, sizeof want);
	cr_assert_eq(len, n, "%s: length %zu, expected %zu", what, len, n);
	for (size_t i = 0; i < n; i++)
		cr_assert_eq(got[i], want[i], "%s: byte %zu is %02x, expected %02x", what, i, got[i], want[i]);
}

/* Counts calls, bytes live, and refuses after a budget when one is set. */
typedef struct counting_alloc {
	sshrpc_alloc a;
	long calls;
	long live;   /* blocks allocated and not yet freed */
	long budget; /* -1: unlimited; otherwise allocations allowed */
} counting_alloc;

static inline void *counting_realloc(void *ud, void *p, size_t old_size, size_t new_size)
{
	counting_alloc *c = ud;
	(void)old_size;
	c->calls++;
	if (new_size == 0) {
		if (p != NULL)
			c->live--;
		free(p);
		return NULL;
	}
	if (p == NULL) {
		if (c->budget == 0)
			return NULL;
		if (c->budget > 0)
			c->budget--;
		void *q = malloc(new_size);
		if (q != NULL)
			c->live++;
		return q;
	}
	return realloc(p, new_size);
}

static inline void counting_init(counting_alloc *c)
{
	c->a.realloc_fn = counting_realloc;
	c->a.ud = c;
	c->calls = 0;
	c->live = 0;
	c->budget = -1;
}

#endif
