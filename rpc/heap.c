/* The term arena: decoded requests and the replies built for them live in
 * one of these and go away together when the reply has been encoded, so a
 * handler never frees anything and a request costs a few allocations, not
 * one per term. The cap makes a peer's message unable to take more memory
 * than configured (architecture.md, "Memory"). */
#include <string.h>

#include "sshrpc/rpc_term.h"

/* A chunk of arena memory, or a block adopted from the caller (data then
 * points outside the header). */
struct sshrpc_heap_chunk {
	struct sshrpc_heap_chunk *next;
	void *data;
	size_t size;  /* bytes given to the allocator for this record */
	size_t adopt; /* size of the adopted block, 0 for a chunk */
};

#define HEAP_ALIGN 8u
#define HEAP_FIRST_CHUNK 1024u
#define HEAP_MAX_CHUNK (64u * 1024)

static size_t hdr_size(void)
{
	return (sizeof(struct sshrpc_heap_chunk) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
}

void sshrpc_heap_init(sshrpc_heap *h, const sshrpc_alloc *a, size_t max)
{
	memset(h, 0, sizeof *h);
	h->alloc = a != NULL ? a : sshrpc_alloc_default();
	h->max = (max == 0 || max > SSHRPC_BUF_HARD_MAX) ? SSHRPC_BUF_HARD_MAX : max;
	h->next_chunk = HEAP_FIRST_CHUNK;
}

void sshrpc_heap_free(sshrpc_heap *h)
{
	struct sshrpc_heap_chunk *c = h->chunks;
	while (c != NULL) {
		struct sshrpc_heap_chunk *next = c->next;
		if (c->adopt > 0)
			sshrpc_free(h->alloc, c->data, c->adopt);
		sshrpc_free(h->alloc, c, c->size);
		c = next;
	}
	h->chunks = NULL;
	h->cur = NULL;
	h->left = 0;
	h->used = 0;
	h->failed = 0;
	h->next_chunk = HEAP_FIRST_CHUNK;
}

static int charge(sshrpc_heap *h, size_t n)
{
	if (n > h->max || h->used > h->max - n) {
		if (h->failed == 0)
			h->failed = SSHRPC_E_TOO_LARGE;
		return SSHRPC_E_TOO_LARGE;
	}
	h->used += n;
	return SSHRPC_OK;
}

static struct sshrpc_heap_chunk *new_record(sshrpc_heap *h, size_t payload)
{
	size_t total = hdr_size() + payload;
	if (total < payload || charge(h, total) != SSHRPC_OK)
		return NULL;
	struct sshrpc_heap_chunk *c = sshrpc_malloc(h->alloc, total);
	if (c == NULL) {
		h->used -= total;
		if (h->failed == 0)
			h->failed = SSHRPC_E_NOMEM;
		return NULL;
	}
	c->size = total;
	c->adopt = 0;
	c->data = (uint8_t *)c + hdr_size();
	return c;
}

void *sshrpc_heap_alloc(sshrpc_heap *h, size_t n)
{
	if (n == 0)
		n = 1;
	if (n > SIZE_MAX - HEAP_ALIGN) {
		if (h->failed == 0)
			h->failed = SSHRPC_E_TOO_LARGE;
		return NULL;
	}
	n = (n + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
	if (n <= h->left) {
		void *p = h->cur;
		h->cur += n;
		h->left -= n;
		return p;
	}
	/* Big requests get a record of their own, so that the current chunk's
	 * free tail is not thrown away for them. */
	if (n > h->next_chunk / 4) {
		struct sshrpc_heap_chunk *c = new_record(h, n);
		if (c == NULL)
			return NULL;
		c->next = h->chunks;
		h->chunks = c;
		return c->data;
	}
	struct sshrpc_heap_chunk *c = new_record(h, h->next_chunk);
	if (c == NULL)
		return NULL;
	c->next = h->chunks;
	h->chunks = c;
	h->cur = (uint8_t *)c->data + n;
	h->left = h->next_chunk - n;
	if (h->next_chunk < HEAP_MAX_CHUNK)
		h->next_chunk *= 2;
	return c->data;
}

int sshrpc_heap_adopt(sshrpc_heap *h, void *p, size_t size)
{
	if (p == NULL)
		return SSHRPC_OK;
	if (charge(h, size) != SSHRPC_OK)
		return SSHRPC_E_TOO_LARGE;
	struct sshrpc_heap_chunk *c = new_record(h, 0);
	if (c == NULL) {
		h->used -= size;
		return h->failed != 0 ? h->failed : SSHRPC_E_NOMEM;
	}
	c->data = p;
	c->adopt = size;
	c->next = h->chunks;
	h->chunks = c;
	return SSHRPC_OK;
}
