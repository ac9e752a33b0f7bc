/* The channel table: local channel ids are indexes into an array of
 * pointers that grows through the session's allocator up to MaxSessions.
 * Channels are allocated one by one so that a pointer held across an event
 * callback stays valid when the callback opens more channels and the array
 * grows. A freed id goes back on a stack, and only once both CLOSE messages
 * were exchanged (RFC 4254 §5.3), so a late message can never reach a new
 * channel that took an old one's number. */
#include <string.h>

#include "conn_internal.h"

#define TABLE_INITIAL 16u

/* slots and free_ids share one block, so that growth either fully happens
 * or leaves the table as it was. */
static size_t table_bytes(uint32_t cap)
{
	return (size_t)cap * (sizeof(struct chan *) + sizeof(uint32_t));
}

static int table_grow(sshrpc_conn *c)
{
	uint32_t max = c->cfg.max_channels;
	if (c->cap >= max)
		return SSHRPC_E_TOO_LARGE;
	uint32_t ncap = c->cap == 0 ? TABLE_INITIAL : c->cap * 2;
	if (ncap > max || ncap < c->cap)
		ncap = max;
	/* With a 32-bit size_t, MaxSessions near 2^32 would wrap the block's
	 * size: the table stops where size_t can still count its bytes. */
	if (table_bytes(ncap) / (sizeof(struct chan *) + sizeof(uint32_t)) != ncap) {
		ncap = (uint32_t)(SIZE_MAX / (sizeof(struct chan *) + sizeof(uint32_t)));
		if (ncap <= c->cap)
			return SSHRPC_E_NOMEM;
	}
	uint8_t *block = sshrpc_malloc(c->alloc, table_bytes(ncap));
	if (block == NULL)
		return SSHRPC_E_NOMEM;
	struct chan **ns = (struct chan **)(void *)block;
	uint32_t *nf = (uint32_t *)(void *)(block + (size_t)ncap * sizeof(struct chan *));
	if (c->cap > 0) {
		memcpy(ns, c->slots, (size_t)c->cap * sizeof *ns);
		memcpy(nf, c->free_ids, (size_t)c->nfree * sizeof *nf);
	}
	for (uint32_t i = c->cap; i < ncap; i++)
		ns[i] = NULL;
	/* Push the new ids highest first, so that the lowest is taken next. */
	for (uint32_t i = ncap; i > c->cap; i--)
		nf[c->nfree++] = i - 1;
	sshrpc_free(c->alloc, c->slots, table_bytes(c->cap));
	c->slots = ns;
	c->free_ids = nf;
	c->cap = ncap;
	return SSHRPC_OK;
}

int table_init(sshrpc_conn *c)
{
	c->slots = NULL;
	c->free_ids = NULL;
	c->cap = c->nchan = c->nfree = 0;
	return SSHRPC_OK;
}

void table_free(sshrpc_conn *c)
{
	for (uint32_t i = 0; i < c->cap; i++) {
		struct chan *ch = c->slots[i];
		if (ch != NULL) {
			data_free_buffers(ch);
			sshrpc_free(c->alloc, ch, sizeof *ch);
		}
	}
	sshrpc_free(c->alloc, c->slots, table_bytes(c->cap));
	c->slots = NULL;
	c->free_ids = NULL;
	c->cap = c->nchan = c->nfree = 0;
}

int table_alloc(sshrpc_conn *c, struct chan **out)
{
	if (c->nchan >= c->cfg.max_channels)
		return SSHRPC_E_TOO_LARGE;
	if (c->nfree == 0) {
		int rc = table_grow(c);
		if (rc != SSHRPC_OK)
			return rc;
	}
	struct chan *ch = sshrpc_calloc(c->alloc, sizeof *ch);
	if (ch == NULL)
		return SSHRPC_E_NOMEM;
	uint32_t id = c->free_ids[--c->nfree];
	ch->id = id;
	sshrpc_buf_init(&ch->rx[0], c->alloc, c->cfg.window);
	sshrpc_buf_init(&ch->rx[1], c->alloc, c->cfg.window);
	/* Room for the data bound plus queued requests and record headers. */
	sshrpc_buf_init(&ch->outq, c->alloc, c->cfg.send_queue + 65536);
	ch->local_window = c->cfg.window;
	ch->local_max_packet = c->cfg.max_packet;
	c->slots[id] = ch;
	c->nchan++;
	*out = ch;
	return SSHRPC_OK;
}

void table_release(sshrpc_conn *c, struct chan *ch)
{
	uint32_t id = ch->id;
	data_free_buffers(ch);
	sshrpc_free(c->alloc, ch, sizeof *ch);
	c->slots[id] = NULL;
	c->free_ids[c->nfree++] = id;
	c->nchan--;
}

struct chan *table_get(const sshrpc_conn *c, uint32_t id)
{
	if (id >= c->cap)
		return NULL;
	return c->slots[id];
}
