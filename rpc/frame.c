/* {packet,4} framing on a channel byte stream (interface.md, "Framing on
 * shell and subsystem channels"): a message may be cut across any number
 * of SSH_MSG_CHANNEL_DATA packets and a packet may hold several. The
 * reader keeps one message at a time; past 1 MiB it grows its buffer as the
 * bytes arrive (doubling, capped at the announced length) rather than
 * trusting a bare length prefix with 16 MiB up front. */
#include <inttypes.h>
#include <string.h>

#include "sshrpc/rpc.h"

#define FRAME_FIRST_ALLOC ((size_t)1024 * 1024)

void sshrpc_frame_rd_init(sshrpc_frame_rd *f, const sshrpc_alloc *a, size_t max)
{
	memset(f, 0, sizeof *f);
	f->alloc = a != NULL ? a : sshrpc_alloc_default();
	f->max = max != 0 ? max : SSHRPC_RPC_MAX_MESSAGE_DEFAULT;
}

void sshrpc_frame_rd_free(sshrpc_frame_rd *f)
{
	sshrpc_free(f->alloc, f->msg, f->msg_cap);
	f->msg = NULL;
	f->msg_cap = f->msg_have = f->msg_len = 0;
	f->hdr_have = 0;
	f->in_body = f->ready = false;
}

/* Room for at least `need` bytes of the message, never beyond its length:
 * the buffer ends exactly at msg_len when the message is complete. */
static int grow(sshrpc_frame_rd *f, size_t need)
{
	if (need <= f->msg_cap)
		return SSHRPC_OK;
	/* Up to 1 MiB is allocated at once (one copy of the data, never a
	 * move); beyond that the buffer doubles as the bytes come. */
	size_t ncap = f->msg_cap < FRAME_FIRST_ALLOC ? FRAME_FIRST_ALLOC : f->msg_cap;
	while (ncap < need)
		ncap *= 2;
	if (ncap > f->msg_len)
		ncap = f->msg_len;
	uint8_t *p =
		f->msg == NULL ? sshrpc_malloc(f->alloc, ncap) : sshrpc_realloc(f->alloc, f->msg, f->msg_cap, ncap);
	if (p == NULL)
		return SSHRPC_E_NOMEM;
	f->msg = p;
	f->msg_cap = ncap;
	return SSHRPC_OK;
}

int sshrpc_frame_rd_feed(sshrpc_frame_rd *f, const uint8_t *p, size_t n, size_t *used, sshrpc_err *err)
{
	size_t off = 0;
	*used = 0;
	if (f->ready)
		return SSHRPC_OK;
	while (off < n || (f->in_body && f->msg_have == f->msg_len)) {
		if (!f->in_body) {
			size_t k = 4 - f->hdr_have;
			if (k > n - off)
				k = n - off;
			memcpy(f->hdr + f->hdr_have, p + off, k);
			f->hdr_have += k;
			off += k;
			if (f->hdr_have < 4)
				break;
			uint32_t len = sshrpc_load_be32(f->hdr);
			if (len > f->max) {
				f->declared = len;
				*used = off;
				return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0,
					"rpc: message length %" PRIu32 " exceeds MaxMessageSize %zu", len, f->max);
			}
			f->in_body = true;
			f->msg_len = len;
			f->msg_have = 0;
			continue;
		}
		size_t k = f->msg_len - f->msg_have;
		if (k > n - off)
			k = n - off;
		if (k > 0) {
			int rc = grow(f, f->msg_have + k);
			if (rc != SSHRPC_OK) {
				*used = off;
				return sshrpc_err_set(
					err, rc, 0, "rpc: no memory for a message of %zu bytes", f->msg_len);
			}
			memcpy(f->msg + f->msg_have, p + off, k);
			f->msg_have += k;
			off += k;
		}
		if (f->msg_have == f->msg_len) {
			f->ready = true;
			*used = off;
			return SSHRPC_OK;
		}
	}
	*used = off;
	return SSHRPC_E_AGAIN;
}

int sshrpc_frame_rd_take(sshrpc_frame_rd *f, uint8_t **msg, size_t *len)
{
	if (!f->ready)
		return SSHRPC_E_STATE;
	*msg = f->msg;
	*len = f->msg_len;
	f->msg = NULL;
	f->msg_cap = f->msg_have = f->msg_len = 0;
	f->hdr_have = 0;
	f->in_body = f->ready = false;
	return SSHRPC_OK;
}

size_t sshrpc_frame_rd_partial(const sshrpc_frame_rd *f)
{
	if (f->ready)
		return 0;
	return f->hdr_have + (f->in_body ? f->msg_have : 0);
}

int sshrpc_frame_write(
	sshrpc_buf *out, const sshrpc_term *t, const sshrpc_etf_enc_opts *opts, size_t max, sshrpc_err *err)
{
	size_t start = sshrpc_buf_len(out);
	int rc = sshrpc_buf_put_u32(out, 0);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_etf_encode(out, t, opts, err);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(out, start);
		return rc;
	}
	size_t n = sshrpc_buf_len(out) - start - 4;
	if ((max != 0 && n > max) || n > UINT32_MAX) {
		sshrpc_buf_truncate(out, start);
		return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "rpc: message of %zu bytes exceeds %zu", n, max);
	}
	sshrpc_store_be32(sshrpc_buf_ptr(out) + start, (uint32_t)n);
	return SSHRPC_OK;
}
