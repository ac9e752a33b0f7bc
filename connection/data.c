/* Data, extended data and flow control (RFC 4254 §5.2).
 *
 * Sending: never more than the peer's window, never more than its maximum
 * packet size in one message. What does not fit waits in the channel's send
 * queue, in order with the requests, EOF and CLOSE issued after it, up to a
 * bound; beyond that writes report SSHRPC_E_WOULDBLOCK.
 *
 * Receiving: the window we grant shrinks as data arrives and grows back only
 * as the application consumes it, so a slow consumer slows the peer instead
 * of growing our memory: what is buffered never exceeds the window. */
#include <string.h>

#include "conn_internal.h"

static size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* ---- the send queue ---------------------------------------------------- */

int data_record_begin(struct chan *ch, uint8_t kind, uint32_t code, size_t *mark)
{
	uint8_t *h;
	size_t at = sshrpc_buf_len(&ch->outq);
	int rc = sshrpc_buf_reserve(&ch->outq, QREC_HDR, &h);
	if (rc != SSHRPC_OK)
		return rc;
	h[0] = kind;
	sshrpc_store_be32(h + 1, code);
	sshrpc_store_be32(h + 5, 0);
	*mark = at;
	return SSHRPC_OK;
}

void data_record_end(struct chan *ch, size_t mark)
{
	uint8_t *h = sshrpc_buf_ptr(&ch->outq) + mark;
	sshrpc_store_be32(h + 5, (uint32_t)(sshrpc_buf_len(&ch->outq) - mark - QREC_HDR));
	ch->tail_rec = mark;
	ch->has_tail = true;
}

void data_record_cancel(struct chan *ch, size_t mark)
{
	sshrpc_buf_truncate(&ch->outq, mark);
}

static int queue_data(struct chan *ch, uint8_t kind, uint32_t code, const uint8_t *p, size_t n)
{
	int rc;
	if (ch->has_tail) {
		uint8_t *h = sshrpc_buf_ptr(&ch->outq) + ch->tail_rec;
		if (h[0] == kind && sshrpc_load_be32(h + 1) == code) {
			/* Extend the last data record rather than add headers. */
			uint32_t len = sshrpc_load_be32(h + 5);
			if ((rc = sshrpc_buf_put(&ch->outq, p, n)) != SSHRPC_OK)
				return rc;
			h = sshrpc_buf_ptr(&ch->outq) + ch->tail_rec; /* may have moved */
			sshrpc_store_be32(h + 5, len + (uint32_t)n);
			ch->outq_data += n;
			return SSHRPC_OK;
		}
	}
	size_t mark;
	if ((rc = data_record_begin(ch, kind, code, &mark)) != SSHRPC_OK)
		return rc;
	if ((rc = sshrpc_buf_put(&ch->outq, p, n)) != SSHRPC_OK) {
		data_record_cancel(ch, mark);
		return rc;
	}
	data_record_end(ch, mark);
	ch->outq_data += n;
	return SSHRPC_OK;
}

static void queue_pop(struct chan *ch, uint32_t len)
{
	size_t total = QREC_HDR + (size_t)len;
	sshrpc_buf_consume(&ch->outq, total);
	ch->head_sent = 0;
	if (ch->has_tail) {
		if (ch->tail_rec < total)
			ch->has_tail = false;
		else
			ch->tail_rec -= total;
	}
}

void data_drop_queue(struct chan *ch)
{
	sshrpc_buf_free(&ch->outq);
	ch->outq_data = 0;
	ch->head_sent = 0;
	ch->has_tail = false;
}

void data_free_buffers(struct chan *ch)
{
	sshrpc_buf_free(&ch->rx[0]);
	sshrpc_buf_free(&ch->rx[1]);
	sshrpc_buf_free(&ch->outq);
}

/* ---- sending ------------------------------------------------------------- */

/* One data message of n bytes. SSHRPC_E_WOULDBLOCK (not fatal) when the
 * layer below has no room now. */
static int send_data_msg(sshrpc_conn *c, struct chan *ch, bool ext, uint32_t code, const uint8_t *p, size_t n)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	/* Never ahead of messages waiting in the backlog. */
	if (c->lower_blocked)
		return SSHRPC_E_WOULDBLOCK;
	uint8_t type = ext ? SSH_MSG_CHANNEL_EXTENDED_DATA : SSH_MSG_CHANNEL_DATA;
	sshrpc_buf *w;
	int rc = c->lower.begin(c->lower.ctx, type, &w);
	if (rc == SSHRPC_E_WOULDBLOCK) {
		c->lower_blocked = true;
		return rc;
	}
	if (rc != SSHRPC_OK)
		return conn_lower_fail(c, rc);
	rc = sshrpc_buf_put_u32(w, ch->remote_id);
	if (rc == SSHRPC_OK && ext)
		rc = sshrpc_buf_put_u32(w, code);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(w, p, n);
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, type, rc);
	if ((rc = conn_end(c)) != SSHRPC_OK)
		return rc;
	ch->remote_window -= (uint32_t)n;
	ch->bytes_sent += n;
	return SSHRPC_OK;
}

/* How much one message may carry now (RFC 4254 §5.2: within the window and
 * the maximum packet size). */
static size_t send_allowance(const struct chan *ch, size_t want)
{
	/* Whatever the peer advertises, one message also fits the packets
	 * our transport sends (architecture.md: 256 KiB). */
	size_t n = min_sz(min_sz(want, ch->remote_window), ch->remote_max_packet);
	return min_sz(n, SSHRPC_CONN_MAX_PACKET_LIMIT);
}

int data_flush(sshrpc_conn *c, struct chan *ch)
{
	if (ch->state != SSHRPC_CHAN_OPEN || c->dead)
		return SSHRPC_OK;
	int rc;
	while (sshrpc_buf_len(&ch->outq) > 0) {
		const uint8_t *h = sshrpc_buf_ptr(&ch->outq);
		uint8_t kind = h[0];
		uint32_t code = sshrpc_load_be32(h + 1);
		uint32_t len = sshrpc_load_be32(h + 5);
		const uint8_t *payload = h + QREC_HDR;
		if (kind == QREC_REQUEST) {
			/* Everything before it was handed down, so it may join
			 * the backlog if the layer below is blocked. */
			if ((rc = req_send_queued(c, ch, payload, len)) != SSHRPC_OK)
				return rc;
		} else if (ch->eow_rcvd) {
			/* The peer stopped reading (OpenSSH PROTOCOL §2.1). */
			ch->outq_data -= len - ch->head_sent;
		} else {
			while (ch->head_sent < len) {
				size_t n = send_allowance(ch, len - ch->head_sent);
				if (n == 0) {
					ch->window_stalls++;
					return SSHRPC_OK;
				}
				rc = send_data_msg(c, ch, kind == QREC_EXT, code, payload + ch->head_sent, n);
				if (rc == SSHRPC_E_WOULDBLOCK)
					return SSHRPC_OK;
				if (rc != SSHRPC_OK)
					return rc;
				ch->head_sent += n;
				ch->outq_data -= n;
			}
		}
		queue_pop(ch, len);
	}
	if (ch->eof_pending && !ch->eof_sent) {
		ch->eof_pending = false;
		ch->eof_sent = true;
		if ((rc = conn_send_u32(c, SSH_MSG_CHANNEL_EOF, ch->remote_id)) != SSHRPC_OK)
			return rc;
	}
	if (ch->close_pending && !ch->close_sent) {
		ch->close_pending = false;
		ch->close_sent = true;
		ch->state = SSHRPC_CHAN_CLOSING;
		if ((rc = conn_send_u32(c, SSH_MSG_CHANNEL_CLOSE, ch->remote_id)) != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

int data_check_writable(sshrpc_conn *c, struct chan *ch)
{
	if (!ch->want_writable || c->dead || c->lower_blocked || ch->state != SSHRPC_CHAN_OPEN || ch->eow_rcvd ||
		ch->close_pending)
		return SSHRPC_OK;
	if (ch->remote_window == 0 || ch->remote_max_packet == 0 || ch->outq_data > c->cfg.send_queue / 2)
		return SSHRPC_OK;
	ch->want_writable = false;
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_WRITABLE, .id = ch->id, .userdata = ch->ud };
	conn_emit(c, &ev);
	return SSHRPC_OK;
}

static int write_common(sshrpc_conn *c, uint32_t id, bool ext, uint32_t code, const void *p, size_t n, size_t *written)
{
	*written = 0;
	struct chan *ch;
	int rc = chan_api(c, id, &ch);
	if (rc != SSHRPC_OK)
		return rc;
	if (ch->eow_rcvd || ch->eof_pending || ch->eof_sent)
		return SSHRPC_E_CLOSED;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	if (n == 0)
		return SSHRPC_OK;
	if (p == NULL)
		return SSHRPC_E_INVALID;
	const uint8_t *src = p;
	size_t left = n;
	if (ch->state == SSHRPC_CHAN_OPEN && sshrpc_buf_len(&ch->outq) == 0 && !c->lower_blocked) {
		while (left > 0) {
			size_t k = send_allowance(ch, left);
			if (k == 0) {
				ch->window_stalls++;
				break;
			}
			rc = send_data_msg(c, ch, ext, code, src, k);
			if (rc == SSHRPC_E_WOULDBLOCK)
				break;
			if (rc != SSHRPC_OK)
				return rc;
			src += k;
			left -= k;
			*written += k;
		}
	}
	if (left > 0 && ch->outq_data < c->cfg.send_queue) {
		size_t k = min_sz(left, c->cfg.send_queue - ch->outq_data);
		rc = queue_data(ch, ext ? QREC_EXT : QREC_DATA, code, src, k);
		if (rc == SSHRPC_OK) {
			left -= k;
			*written += k;
		} else if (rc != SSHRPC_E_TOO_LARGE) {
			return rc;
		}
	}
	if (left > 0) {
		ch->want_writable = true;
		return SSHRPC_E_WOULDBLOCK;
	}
	return SSHRPC_OK;
}

int sshrpc_chan_write(sshrpc_conn *c, uint32_t id, const void *p, size_t n, size_t *written)
{
	return write_common(c, id, false, 0, p, n, written);
}

int sshrpc_chan_write_ext(sshrpc_conn *c, uint32_t id, uint32_t code, const void *p, size_t n, size_t *written)
{
	return write_common(c, id, true, code, p, n, written);
}

int sshrpc_chan_write_begin(sshrpc_conn *c, uint32_t id, size_t want, uint8_t **p, size_t *avail)
{
	*p = NULL;
	*avail = 0;
	struct chan *ch;
	int rc = chan_api(c, id, &ch);
	if (rc != SSHRPC_OK)
		return rc;
	if (ch->eow_rcvd || ch->eof_pending || ch->eof_sent)
		return SSHRPC_E_CLOSED;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	if (want == 0)
		return SSHRPC_E_INVALID;
	size_t n = send_allowance(ch, want);
	if (ch->state != SSHRPC_CHAN_OPEN || sshrpc_buf_len(&ch->outq) > 0 || c->lower_blocked || n == 0) {
		if (ch->state == SSHRPC_CHAN_OPEN && n == 0)
			ch->window_stalls++;
		ch->want_writable = true;
		return SSHRPC_E_WOULDBLOCK;
	}
	sshrpc_buf *w;
	rc = c->lower.begin(c->lower.ctx, SSH_MSG_CHANNEL_DATA, &w);
	if (rc == SSHRPC_E_WOULDBLOCK) {
		c->lower_blocked = true;
		ch->want_writable = true;
		return rc;
	}
	if (rc != SSHRPC_OK)
		return conn_lower_fail(c, rc);
	size_t mark;
	uint8_t *dst;
	rc = sshrpc_buf_put_u32(w, ch->remote_id);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_string_begin(w, &mark);
	size_t start = sshrpc_buf_len(w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_reserve(w, n, &dst);
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, SSH_MSG_CHANNEL_DATA, rc);
	c->in_write_begin = true;
	c->wb_buf = w;
	c->wb_mark = mark;
	c->wb_start = start;
	c->wb_avail = n;
	c->wb_id = id;
	*p = dst;
	*avail = n;
	return SSHRPC_OK;
}

int sshrpc_chan_write_end(sshrpc_conn *c, uint32_t id, size_t n)
{
	if (!c->in_write_begin || c->wb_id != id)
		return SSHRPC_E_STATE;
	if (n > c->wb_avail)
		return SSHRPC_E_INVALID;
	struct chan *ch = table_get(c, id);
	c->in_write_begin = false;
	sshrpc_buf_truncate(c->wb_buf, c->wb_start + n);
	sshrpc_buf_string_end(c->wb_buf, c->wb_mark);
	int rc = conn_end(c);
	if (rc != SSHRPC_OK)
		return rc;
	if (ch != NULL) {
		ch->remote_window -= (uint32_t)n;
		ch->bytes_sent += n;
	}
	return SSHRPC_OK;
}

int data_handle_window_adjust(sshrpc_conn *c, sshrpc_reader *r)
{
	uint32_t recipient, add;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_u32(r, &add) != SSHRPC_OK ||
		sshrpc_rd_end(r) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_WINDOW_ADJUST (RFC 4254 §5.2: uint32 recipient "
			"channel, uint32 bytes to add)");
	struct chan *ch;
	int rc = chan_lookup_open(c, recipient, SSH_MSG_CHANNEL_WINDOW_ADJUST, &ch);
	if (rc != SSHRPC_OK)
		return rc < 0 ? rc : SSHRPC_OK;
	if ((uint64_t)ch->remote_window + add > UINT32_MAX)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"SSH_MSG_CHANNEL_WINDOW_ADJUST of %" PRIu32 " on channel %" PRIu32
			" raises the window from %" PRIu32 " "
			"above 2^32-1 (RFC 4254 §5.2)",
			add, recipient, ch->remote_window);
	ch->remote_window += add;
	if ((rc = data_flush(c, ch)) != SSHRPC_OK)
		return rc;
	return data_check_writable(c, ch);
}

/* ---- receiving ----------------------------------------------------------- */

int data_maybe_adjust(sshrpc_conn *c, struct chan *ch)
{
	if (c->dead || ch->state != SSHRPC_CHAN_OPEN || ch->eof_rcvd || ch->local_unacked == 0)
		return SSHRPC_OK;
	/* Credit back in halves of the window: few adjust messages, and the
	 * peer always keeps at least half a window in flight. */
	uint32_t threshold = c->cfg.window / 2;
	if (threshold == 0)
		threshold = 1;
	if (ch->local_unacked < threshold)
		return SSHRPC_OK;
	sshrpc_buf *w;
	int rc = conn_begin(c, SSH_MSG_CHANNEL_WINDOW_ADJUST, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_u32(w, ch->remote_id);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->local_unacked);
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, SSH_MSG_CHANNEL_WINDOW_ADJUST, rc);
	if ((rc = conn_end(c)) != SSHRPC_OK)
		return rc;
	ch->local_window += ch->local_unacked;
	ch->local_unacked = 0;
	return SSHRPC_OK;
}

static int deliver(sshrpc_conn *c, struct chan *ch, int stream, const uint8_t *p, size_t len)
{
	sshrpc_buf *b = &ch->rx[stream];
	bool buffered = sshrpc_buf_len(b) > 0;
	int rc;
	if (buffered) {
		/* Bytes stay in order: the new ones go behind the unread ones,
		 * and the event shows them all. The window bounds the buffer. */
		if ((rc = sshrpc_buf_put(b, p, len)) != SSHRPC_OK)
			return rc;
		p = sshrpc_buf_ptr(b);
		len = sshrpc_buf_len(b);
	}
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_DATA, .id = ch->id, .userdata = ch->ud };
	ev.u.data.stream = stream;
	ev.u.data.p = p;
	ev.u.data.len = len;
	ch->in_data_cb = true;
	conn_emit(c, &ev);
	ch->in_data_cb = false;
	size_t used = min_sz(ev.u.data.consumed, len);
	if (buffered) {
		sshrpc_buf_consume(b, used);
	} else if (used < len) {
		if ((rc = sshrpc_buf_put(b, p + used, len - used)) != SSHRPC_OK)
			return rc;
	}
	ch->local_unacked += (uint32_t)used;
	return data_maybe_adjust(c, ch);
}

int data_handle(sshrpc_conn *c, sshrpc_reader *r, bool extended)
{
	uint8_t type = extended ? SSH_MSG_CHANNEL_EXTENDED_DATA : SSH_MSG_CHANNEL_DATA;
	uint32_t recipient, code = 0;
	const uint8_t *p;
	size_t len;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || (extended && sshrpc_rd_u32(r, &code) != SSHRPC_OK) ||
		sshrpc_rd_string(r, &p, &len) != SSHRPC_OK || sshrpc_rd_end(r) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "malformed %s (RFC 4254 §5.2)",
			conn_msg_name(type));
	struct chan *ch;
	int rc = chan_lookup_open(c, recipient, type, &ch);
	if (rc != SSHRPC_OK)
		return rc < 0 ? rc : SSHRPC_OK;
	if (ch->eof_rcvd)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s on channel %" PRIu32 " after its SSH_MSG_CHANNEL_EOF (RFC 4254 §5.3: no more "
			"data after EOF)",
			conn_msg_name(type), recipient);
	if (len > ch->local_max_packet)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s of %zu bytes on channel %" PRIu32 " exceeds our maximum packet size of %" PRIu32 " "
			"(RFC 4254 §5.2)",
			conn_msg_name(type), len, recipient, ch->local_max_packet);
	if (len > ch->local_window)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s of %zu bytes on channel %" PRIu32 " exceeds the window of %" PRIu32 " bytes left "
			"(RFC 4254 §5.2)",
			conn_msg_name(type), len, recipient, ch->local_window);
	ch->local_window -= (uint32_t)len;
	ch->bytes_received += len;
	if (len == 0)
		return SSHRPC_OK;
	if (extended && code != SSH_EXTENDED_DATA_STDERR) {
		/* RFC 4254 §5.2 defines only stderr; other codes count against
		 * the window and are dropped, as consumed. */
		ch->local_unacked += (uint32_t)len;
		return data_maybe_adjust(c, ch);
	}
	return deliver(c, ch, extended ? SSHRPC_CHAN_STDERR : SSHRPC_CHAN_STDOUT, p, len);
}

/* ---- reading what data events left ------------------------------------ */

static struct chan *rx_chan(const sshrpc_conn *c, uint32_t id, int stream)
{
	if (stream != SSHRPC_CHAN_STDOUT && stream != SSHRPC_CHAN_STDERR)
		return NULL;
	struct chan *ch = table_get(c, id);
	if (ch == NULL || (ch->state != SSHRPC_CHAN_OPEN && ch->state != SSHRPC_CHAN_CLOSING))
		return NULL;
	return ch;
}

size_t sshrpc_chan_readable(const sshrpc_conn *c, uint32_t id, int stream)
{
	struct chan *ch = rx_chan(c, id, stream);
	return ch != NULL ? sshrpc_buf_len(&ch->rx[stream]) : 0;
}

int sshrpc_chan_peek(const sshrpc_conn *c, uint32_t id, int stream, const uint8_t **p, size_t *len)
{
	*p = NULL;
	*len = 0;
	struct chan *ch = rx_chan(c, id, stream);
	if (ch == NULL)
		return SSHRPC_E_STATE;
	*len = sshrpc_buf_len(&ch->rx[stream]);
	*p = sshrpc_buf_ptr(&ch->rx[stream]);
	if (*len == 0)
		return ch->eof_rcvd || ch->close_rcvd ? SSHRPC_E_CLOSED : SSHRPC_E_AGAIN;
	return SSHRPC_OK;
}

int sshrpc_chan_consume(sshrpc_conn *c, uint32_t id, int stream, size_t n)
{
	struct chan *ch = rx_chan(c, id, stream);
	if (ch == NULL)
		return SSHRPC_E_STATE;
	/* During a data event the event's consumed field says it; consuming
	 * here as well would count the same bytes twice. */
	if (ch->in_data_cb)
		return SSHRPC_E_STATE;
	sshrpc_buf *b = &ch->rx[stream];
	if (n > sshrpc_buf_len(b))
		return SSHRPC_E_INVALID;
	sshrpc_buf_consume(b, n);
	ch->local_unacked += (uint32_t)n;
	return data_maybe_adjust(c, ch);
}

int sshrpc_chan_read(sshrpc_conn *c, uint32_t id, int stream, void *buf, size_t cap, size_t *n)
{
	*n = 0;
	const uint8_t *p;
	size_t len;
	int rc = sshrpc_chan_peek(c, id, stream, &p, &len);
	if (rc != SSHRPC_OK)
		return rc;
	size_t k = min_sz(cap, len);
	if (k > 0)
		memcpy(buf, p, k);
	if ((rc = sshrpc_chan_consume(c, id, stream, k)) != SSHRPC_OK)
		return rc;
	*n = k;
	return SSHRPC_OK;
}
