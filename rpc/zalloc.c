/* zlib allocates through the session's allocator (architecture.md,
 * "Memory"): each block remembers its size for sshrpc_free. Shared by the
 * ETF decoder (inflate) and encoder (deflate). */
#include "rpc_internal.h"
#include "sshrpc_config.h"

#if SSHRPC_WITH_ZLIB
#include <string.h>
#include <zlib.h>

void *rpc_zalloc(void *opaque, unsigned items, unsigned size)
{
	const sshrpc_alloc *a = opaque;
	if (size != 0 && items > (SIZE_MAX - 16) / size)
		return Z_NULL;
	size_t n = (size_t)items * size + 16;
	uint8_t *p = sshrpc_malloc(a, n);
	if (p == NULL)
		return Z_NULL;
	memcpy(p, &n, sizeof n);
	return p + 16;
}

void rpc_zfree(void *opaque, void *ptr)
{
	if (ptr == Z_NULL)
		return;
	uint8_t *p = (uint8_t *)ptr - 16;
	size_t n;
	memcpy(&n, p, sizeof n);
	sshrpc_free(opaque, p, n);
}
#endif
