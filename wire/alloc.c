/* The session allocator (architecture.md, "Memory"): every layer allocates
 * through one of these, so a test, a fuzzer or a firmware port can count,
 * cap or replace allocation. */
#include <stdlib.h>
#include <string.h>

#include "sshrpc/common.h"

static void *default_realloc(void *ud, void *p, size_t old_size, size_t new_size)
{
	(void)ud;
	(void)old_size;
	if (new_size == 0) {
		free(p);
		return NULL;
	}
	return realloc(p, new_size);
}

static const sshrpc_alloc default_alloc = { default_realloc, NULL };

const sshrpc_alloc *sshrpc_alloc_default(void)
{
	return &default_alloc;
}

void *sshrpc_malloc(const sshrpc_alloc *a, size_t n)
{
	if (n == 0)
		n = 1;
	return a->realloc_fn(a->ud, NULL, 0, n);
}

void *sshrpc_calloc(const sshrpc_alloc *a, size_t n)
{
	void *p = sshrpc_malloc(a, n);
	if (p != NULL)
		memset(p, 0, n);
	return p;
}

void *sshrpc_realloc(const sshrpc_alloc *a, void *p, size_t old_size, size_t new_size)
{
	if (new_size == 0)
		new_size = 1;
	return a->realloc_fn(a->ud, p, old_size, new_size);
}

void sshrpc_free(const sshrpc_alloc *a, void *p, size_t size)
{
	if (p != NULL)
		a->realloc_fn(a->ud, p, size, 0);
}

void sshrpc_free_secret(const sshrpc_alloc *a, void *p, size_t size)
{
	if (p == NULL)
		return;
	sshrpc_wipe(p, size);
	a->realloc_fn(a->ud, p, size, 0);
}

/* A volatile function pointer keeps the compiler from proving the memset
 * dead and removing it. */
static void *(*volatile wipe_memset)(void *, int, size_t) = memset;

void sshrpc_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		wipe_memset(p, 0, n);
}

int sshrpc_ct_memcmp(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a;
	const volatile uint8_t *y = b;
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)(x[i] ^ y[i]);
	return d != 0;
}
