/* The byte buffer and writer. Growth goes through the buffer's allocator
 * and stops at its maximum, so a peer can never make it hold more than the
 * configured limit (architecture.md, "Memory"). */
#include <string.h>

#include "sshrpc/wire.h"

void sshrpc_buf_init(sshrpc_buf *b, const sshrpc_alloc *a, size_t max)
{
	memset(b, 0, sizeof *b);
	b->alloc = a != NULL ? a : sshrpc_alloc_default();
	b->max = (max == 0 || max > SSHRPC_BUF_HARD_MAX) ? SSHRPC_BUF_HARD_MAX : max;
}

void sshrpc_buf_init_fixed(sshrpc_buf *b, void *mem, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->data = mem;
	b->cap = cap;
	b->max = cap;
	b->flags = SSHRPC_BUF_FIXED;
}

void sshrpc_buf_set_secret(sshrpc_buf *b)
{
	b->flags |= SSHRPC_BUF_SECRET;
}

void sshrpc_buf_free(sshrpc_buf *b)
{
	if (b->flags & SSHRPC_BUF_SECRET)
		sshrpc_wipe(b->data, b->cap);
	if (!(b->flags & SSHRPC_BUF_FIXED))
		sshrpc_free(b->alloc, b->data, b->cap);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

void sshrpc_buf_reset(sshrpc_buf *b)
{
	if (b->flags & SSHRPC_BUF_SECRET)
		sshrpc_wipe(b->data, b->cap);
	b->off = 0;
	b->len = 0;
}

void sshrpc_buf_compact(sshrpc_buf *b)
{
	if (b->off == 0)
		return;
	if (b->len > 0)
		memmove(b->data, b->data + b->off, b->len);
	if (b->flags & SSHRPC_BUF_SECRET)
		sshrpc_wipe(b->data + b->len, b->off);
	b->off = 0;
}

int sshrpc_buf_ensure(sshrpc_buf *b, size_t n)
{
	if (n > b->max || b->len > b->max - n)
		return SSHRPC_E_TOO_LARGE;
	if (b->cap - b->off - b->len >= n)
		return SSHRPC_OK;
	/* Reuse the consumed prefix before growing. */
	if (b->off > 0 && b->cap - b->len >= n) {
		sshrpc_buf_compact(b);
		return SSHRPC_OK;
	}
	if (b->flags & SSHRPC_BUF_FIXED)
		return SSHRPC_E_TOO_LARGE;
	sshrpc_buf_compact(b);
	size_t need = b->len + n;
	size_t ncap = b->cap < 256 ? 256 : b->cap;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (ncap > b->max)
		ncap = b->max;
	uint8_t *nd;
	if (b->flags & SSHRPC_BUF_SECRET) {
		/* Never let realloc leave a copy of secrets behind. */
		nd = sshrpc_malloc(b->alloc, ncap);
		if (nd == NULL)
			return SSHRPC_E_NOMEM;
		if (b->len > 0)
			memcpy(nd, b->data, b->len);
		sshrpc_free_secret(b->alloc, b->data, b->cap);
	} else {
		nd = b->data == NULL ? sshrpc_malloc(b->alloc, ncap) : sshrpc_realloc(b->alloc, b->data, b->cap, ncap);
		if (nd == NULL)
			return SSHRPC_E_NOMEM;
	}
	b->data = nd;
	b->cap = ncap;
	return SSHRPC_OK;
}

int sshrpc_buf_reserve(sshrpc_buf *b, size_t n, uint8_t **p)
{
	int rc = sshrpc_buf_ensure(b, n);
	if (rc != SSHRPC_OK)
		return rc;
	*p = b->data + b->off + b->len;
	b->len += n;
	return SSHRPC_OK;
}

void sshrpc_buf_consume(sshrpc_buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = 0;
		b->len = 0;
		return;
	}
	b->off += n;
	b->len -= n;
}

void sshrpc_buf_truncate(sshrpc_buf *b, size_t n)
{
	if (n < b->len)
		b->len = n;
}

void sshrpc_buf_reader(const sshrpc_buf *b, sshrpc_reader *r)
{
	sshrpc_rd_init(r, b->data + b->off, b->len);
}

int sshrpc_buf_put(sshrpc_buf *b, const void *p, size_t n)
{
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, n, &d);
	if (rc == SSHRPC_OK && n > 0)
		memcpy(d, p, n);
	return rc;
}

int sshrpc_buf_put_u8(sshrpc_buf *b, uint8_t v)
{
	return sshrpc_buf_put(b, &v, 1);
}

int sshrpc_buf_put_bool(sshrpc_buf *b, bool v)
{
	return sshrpc_buf_put_u8(b, v ? 1 : 0);
}

int sshrpc_buf_put_u32(sshrpc_buf *b, uint32_t v)
{
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, 4, &d);
	if (rc == SSHRPC_OK)
		sshrpc_store_be32(d, v);
	return rc;
}

int sshrpc_buf_put_u64(sshrpc_buf *b, uint64_t v)
{
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, 8, &d);
	if (rc == SSHRPC_OK)
		sshrpc_store_be64(d, v);
	return rc;
}

int sshrpc_buf_put_string(sshrpc_buf *b, const void *p, size_t n)
{
	if (n > UINT32_MAX)
		return SSHRPC_E_TOO_LARGE;
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, 4 + n, &d);
	if (rc != SSHRPC_OK)
		return rc;
	sshrpc_store_be32(d, (uint32_t)n);
	if (n > 0)
		memcpy(d + 4, p, n);
	return SSHRPC_OK;
}

int sshrpc_buf_put_cstring(sshrpc_buf *b, const char *s)
{
	return sshrpc_buf_put_string(b, s, strlen(s));
}

int sshrpc_buf_put_mpint_unsigned(sshrpc_buf *b, const uint8_t *mag, size_t n)
{
	while (n > 0 && mag[0] == 0) {
		mag++;
		n--;
	}
	bool pad = n > 0 && (mag[0] & 0x80) != 0;
	if (n > UINT32_MAX - 1)
		return SSHRPC_E_TOO_LARGE;
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, 4 + n + (pad ? 1 : 0), &d);
	if (rc != SSHRPC_OK)
		return rc;
	sshrpc_store_be32(d, (uint32_t)(n + (pad ? 1 : 0)));
	if (pad)
		d[4] = 0;
	if (n > 0)
		memcpy(d + 4 + (pad ? 1 : 0), mag, n);
	return SSHRPC_OK;
}

int sshrpc_buf_put_mpint_twos(sshrpc_buf *b, const uint8_t *p, size_t n)
{
	/* Drop redundant sign bytes (RFC 4251 §5). */
	while (n >= 2 && ((p[0] == 0x00 && (p[1] & 0x80) == 0) || (p[0] == 0xff && (p[1] & 0x80) != 0))) {
		p++;
		n--;
	}
	if (n == 1 && p[0] == 0)
		n = 0;
	return sshrpc_buf_put_string(b, p, n);
}

int sshrpc_buf_put_namelist(sshrpc_buf *b, const char *list)
{
	size_t n = strlen(list);
	int rc = sshrpc_namelist_check(list, n);
	if (rc != SSHRPC_OK)
		return rc;
	return sshrpc_buf_put_string(b, list, n);
}

int sshrpc_buf_string_begin(sshrpc_buf *b, size_t *mark)
{
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, 4, &d);
	if (rc == SSHRPC_OK)
		*mark = b->len - 4;
	return rc;
}

void sshrpc_buf_string_end(sshrpc_buf *b, size_t mark)
{
	sshrpc_store_be32(b->data + b->off + mark, (uint32_t)(b->len - mark - 4));
}
