/* The connection: configuration, the message loop over the layer below,
 * dispatch by message number, errors and disconnects, keepalive deadlines.
 * Channel messages are handled in channel.c, data.c and request.c, global
 * requests in global.c. */
#include <stdio.h>
#include <string.h>

#include "conn_internal.h"

const char *conn_msg_name(uint8_t t)
{
	switch (t) {
	case SSH_MSG_GLOBAL_REQUEST:
		return "SSH_MSG_GLOBAL_REQUEST";
	case SSH_MSG_REQUEST_SUCCESS:
		return "SSH_MSG_REQUEST_SUCCESS";
	case SSH_MSG_REQUEST_FAILURE:
		return "SSH_MSG_REQUEST_FAILURE";
	case SSH_MSG_CHANNEL_OPEN:
		return "SSH_MSG_CHANNEL_OPEN";
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION:
		return "SSH_MSG_CHANNEL_OPEN_CONFIRMATION";
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		return "SSH_MSG_CHANNEL_OPEN_FAILURE";
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		return "SSH_MSG_CHANNEL_WINDOW_ADJUST";
	case SSH_MSG_CHANNEL_DATA:
		return "SSH_MSG_CHANNEL_DATA";
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		return "SSH_MSG_CHANNEL_EXTENDED_DATA";
	case SSH_MSG_CHANNEL_EOF:
		return "SSH_MSG_CHANNEL_EOF";
	case SSH_MSG_CHANNEL_CLOSE:
		return "SSH_MSG_CHANNEL_CLOSE";
	case SSH_MSG_CHANNEL_REQUEST:
		return "SSH_MSG_CHANNEL_REQUEST";
	case SSH_MSG_CHANNEL_SUCCESS:
		return "SSH_MSG_CHANNEL_SUCCESS";
	case SSH_MSG_CHANNEL_FAILURE:
		return "SSH_MSG_CHANNEL_FAILURE";
	default:
		return "message";
	}
}

int conn_fatal(sshrpc_conn *c, int code, uint32_t reason, const char *fmt, ...)
{
	if (c->dead)
		return code;
	if (c->err.code == 0) {
		c->err.code = code;
		c->err.reason = reason;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err.msg, sizeof c->err.msg, fmt, ap);
		va_end(ap);
	}
	c->dead = true;
	conn_log(c, SSHRPC_LOG_ERROR, "connection: %s", c->err.msg);
	if (reason != 0 && c->lower.disconnect != NULL)
		(void)c->lower.disconnect(c->lower.ctx, reason, c->err.msg);
	return code;
}

/* The layer below failed: its error is the session's; nothing more can be
 * sent, so no SSH_MSG_DISCONNECT of ours. */
int conn_lower_fail(sshrpc_conn *c, int rc)
{
	if (!c->dead && c->err.code == 0) {
		const sshrpc_err *le = c->lower.error != NULL ? c->lower.error(c->lower.ctx) : NULL;
		if (le != NULL && le->code != 0)
			c->err = *le;
		else
			sshrpc_err_set(&c->err, rc, 0, "lower layer: %s", sshrpc_strerror(rc));
	}
	c->dead = true;
	return rc;
}

void conn_emit(sshrpc_conn *c, sshrpc_conn_event *ev)
{
	if (c->cfg.on_event != NULL)
		c->cfg.on_event(c->cfg.event_ud, c, ev);
}

void conn_log(sshrpc_conn *c, int level, const char *fmt, ...)
{
	if (c->cfg.log == NULL || level > c->cfg.log_level)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	c->cfg.log(c->cfg.log_ud, level, line);
}

int conn_begin(sshrpc_conn *c, uint8_t type, sshrpc_buf **w)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	if (sshrpc_buf_len(&c->backlog) == 0) {
		int rc = c->lower.begin(c->lower.ctx, type, w);
		if (rc == SSHRPC_OK)
			return SSHRPC_OK;
		if (rc != SSHRPC_E_WOULDBLOCK)
			return conn_lower_fail(c, rc);
	}
	/* Behind whatever already waits, in order. */
	c->lower_blocked = true;
	size_t mark = sshrpc_buf_len(&c->backlog);
	uint8_t *h;
	if (sshrpc_buf_reserve(&c->backlog, 5, &h) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_TOO_LARGE, SSH_DISCONNECT_BY_APPLICATION,
			"more than %zu bytes of messages wait for the layer below", c->backlog.max);
	h[4] = type;
	c->in_backlog = true;
	c->backlog_mark = mark;
	*w = &c->backlog;
	return SSHRPC_OK;
}

int conn_end(sshrpc_conn *c)
{
	if (c->in_backlog) {
		c->in_backlog = false;
		size_t mark = c->backlog_mark;
		sshrpc_store_be32(
			sshrpc_buf_ptr(&c->backlog) + mark, (uint32_t)(sshrpc_buf_len(&c->backlog) - mark - 4));
		return SSHRPC_OK;
	}
	int rc = c->lower.end(c->lower.ctx);
	if (rc != SSHRPC_OK)
		return conn_lower_fail(c, rc);
	return SSHRPC_OK;
}

/* Hands the backlog to the layer below as far as it takes it. */
static int backlog_flush(sshrpc_conn *c)
{
	while (sshrpc_buf_len(&c->backlog) > 0) {
		const uint8_t *p = sshrpc_buf_ptr(&c->backlog);
		uint32_t n = sshrpc_load_be32(p);
		sshrpc_buf *w;
		int rc = c->lower.begin(c->lower.ctx, p[4], &w);
		if (rc == SSHRPC_E_WOULDBLOCK)
			return SSHRPC_OK;
		if (rc != SSHRPC_OK)
			return conn_lower_fail(c, rc);
		if ((rc = sshrpc_buf_put(w, p + 5, n - 1)) != SSHRPC_OK)
			return conn_build_fail(c, p[4], rc);
		if ((rc = c->lower.end(c->lower.ctx)) != SSHRPC_OK)
			return conn_lower_fail(c, rc);
		sshrpc_buf_consume(&c->backlog, 4 + (size_t)n);
	}
	return SSHRPC_OK;
}

int conn_send_u32(sshrpc_conn *c, uint8_t type, uint32_t v)
{
	sshrpc_buf *w;
	int rc = conn_begin(c, type, &w);
	if (rc != SSHRPC_OK)
		return rc;
	if ((rc = sshrpc_buf_put_u32(w, v)) != SSHRPC_OK)
		return conn_build_fail(c, type, rc);
	return conn_end(c);
}

/* A message could not be built (the allocator refused): the half-built
 * message must not go out, and the lower layer has no way to cancel one,
 * so the connection ends. */
int conn_build_fail(sshrpc_conn *c, uint8_t type, int rc)
{
	return conn_fatal(
		c, rc, SSH_DISCONNECT_BY_APPLICATION, "cannot build %s: %s", conn_msg_name(type), sshrpc_strerror(rc));
}

int sshrpc_conn_new(const sshrpc_conn_cfg *cfg, const sshrpc_msg_io *lower, sshrpc_conn **out)
{
	*out = NULL;
	if (cfg == NULL || lower == NULL || lower->recv == NULL || lower->begin == NULL || lower->end == NULL)
		return SSHRPC_E_INVALID;
	if (cfg->role != SSHRPC_CONN_CLIENT && cfg->role != SSHRPC_CONN_SERVER)
		return SSHRPC_E_INVALID;
	const sshrpc_alloc *a = cfg->alloc != NULL ? cfg->alloc : sshrpc_alloc_default();
	sshrpc_conn *c = sshrpc_calloc(a, sizeof *c);
	if (c == NULL)
		return SSHRPC_E_NOMEM;
	c->cfg = *cfg;
	c->alloc = a;
	c->cfg.alloc = a;
	c->lower = *lower;
	if (c->cfg.max_channels == 0)
		c->cfg.max_channels = SSHRPC_CONN_DEFAULT_MAX_CHANNELS;
	if (c->cfg.window == 0)
		c->cfg.window = SSHRPC_CONN_DEFAULT_WINDOW;
	if (c->cfg.max_packet == 0)
		c->cfg.max_packet = SSHRPC_CONN_DEFAULT_MAX_PACKET;
	if (c->cfg.max_packet > SSHRPC_CONN_MAX_PACKET_LIMIT)
		c->cfg.max_packet = SSHRPC_CONN_MAX_PACKET_LIMIT;
	if (c->cfg.send_queue == 0)
		c->cfg.send_queue = SSHRPC_CONN_DEFAULT_SEND_QUEUE;
	if (c->cfg.send_queue > SSHRPC_BUF_HARD_MAX / 2)
		c->cfg.send_queue = SSHRPC_BUF_HARD_MAX / 2;
	if (c->cfg.alive_count_max == 0)
		c->cfg.alive_count_max = SSHRPC_CONN_DEFAULT_ALIVE_COUNT_MAX;
	/* Messages other than data are small and few per channel (replies,
	 * adjusts, EOF, CLOSE): a bound that grows with the channel count.
	 * max_channels * 512 would wrap a 32-bit size_t past 8 Mi channels;
	 * the buffer never goes beyond SSHRPC_BUF_HARD_MAX anyway. */
	size_t backlog_max = c->cfg.max_channels > SSHRPC_BUF_HARD_MAX / 512 ? SSHRPC_BUF_HARD_MAX
									     : (size_t)c->cfg.max_channels * 512;
	sshrpc_buf_init(&c->backlog, a, backlog_max < 65536 ? 65536 : backlog_max);
	(void)table_init(c);
	*out = c;
	return SSHRPC_OK;
}

void sshrpc_conn_free(sshrpc_conn *c)
{
	if (c == NULL)
		return;
	/* Tell the application about every channel it still knows, so that it
	 * can release its user data; nothing is sent any more. */
	c->dead = true;
	for (uint32_t i = 0; i < c->cap; i++) {
		struct chan *ch = c->slots[i];
		if (ch == NULL)
			continue;
		sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_CLOSE, .id = ch->id, .userdata = ch->ud };
		ev.u.close.aborted = true;
		ev.u.close.has_exit_status = ch->has_exit_status;
		ev.u.close.has_exit_signal = ch->has_exit_signal;
		ev.u.close.exit_status = ch->exit_status;
		conn_emit(c, &ev);
	}
	table_free(c);
	sshrpc_buf_free(&c->backlog);
	sshrpc_free(c->alloc, c, sizeof *c);
}

/* SSH_MSG_UNIMPLEMENTED must answer the message just received, so it goes
 * out at once or not at all: behind a backlog its sequence number would
 * be another message's. */
static int conn_unimplemented(sshrpc_conn *c, uint8_t type)
{
	sshrpc_buf *w;
	if (sshrpc_buf_len(&c->backlog) == 0 && c->lower.begin(c->lower.ctx, SSH_MSG_UNIMPLEMENTED, &w) == SSHRPC_OK) {
		int rc = c->lower.end(c->lower.ctx);
		return rc == SSHRPC_OK ? SSHRPC_OK : conn_lower_fail(c, rc);
	}
	(void)type;
	return SSHRPC_OK;
}

static int dispatch(sshrpc_conn *c, const uint8_t *msg, size_t len)
{
	sshrpc_reader r;
	sshrpc_rd_init(&r, msg, len);
	uint8_t type;
	if (sshrpc_rd_u8(&r, &type) != SSHRPC_OK)
		return conn_fatal(
			c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "empty message from the layer below");
	switch (type) {
	case SSH_MSG_GLOBAL_REQUEST:
		return global_handle(c, &r);
	case SSH_MSG_REQUEST_SUCCESS:
		return global_handle_reply(c, &r, true);
	case SSH_MSG_REQUEST_FAILURE:
		return global_handle_reply(c, &r, false);
	case SSH_MSG_CHANNEL_OPEN:
		return chan_handle_open(c, &r);
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION:
		return chan_handle_open_confirmation(c, &r);
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		return chan_handle_open_failure(c, &r);
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		return data_handle_window_adjust(c, &r);
	case SSH_MSG_CHANNEL_DATA:
		return data_handle(c, &r, false);
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		return data_handle(c, &r, true);
	case SSH_MSG_CHANNEL_EOF:
		return chan_handle_eof(c, &r);
	case SSH_MSG_CHANNEL_CLOSE:
		return chan_handle_close(c, &r);
	case SSH_MSG_CHANNEL_REQUEST:
		return req_handle(c, &r);
	case SSH_MSG_CHANNEL_SUCCESS:
		return req_handle_reply(c, &r, true);
	case SSH_MSG_CHANNEL_FAILURE:
		return req_handle_reply(c, &r, false);
	default:
		/* RFC 4253 §11.4: an unknown message number is answered with
		 * SSH_MSG_UNIMPLEMENTED. The transport fills in the sequence
		 * number of the message recv returned last, which is this one. */
		return conn_unimplemented(c, type);
	}
}

static void alive_reset(sshrpc_conn *c, uint64_t now_ms)
{
	c->alive_missed = 0;
	if (c->cfg.alive_interval_ms != 0) {
		c->alive_deadline = now_ms + c->cfg.alive_interval_ms;
		c->alive_armed = true;
	}
}

static int dead_status(const sshrpc_conn *c)
{
	return c->err.code != 0 ? c->err.code : SSHRPC_E_CLOSED;
}

int sshrpc_conn_process(sshrpc_conn *c, uint64_t now_ms)
{
	if (c->dead)
		return dead_status(c);
	if (c->lower_blocked) {
		int rc = sshrpc_conn_flush(c);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		const uint8_t *msg;
		size_t len;
		int rc = c->lower.recv(c->lower.ctx, &msg, &len);
		if (rc == SSHRPC_E_AGAIN)
			return SSHRPC_OK;
		if (rc < 0)
			return conn_lower_fail(c, rc);
		/* Any message from the peer shows it alive (what OpenSSH's
		 * ClientAliveInterval counts too). */
		alive_reset(c, now_ms);
		rc = dispatch(c, msg, len);
		if (rc < 0 && !c->dead)
			conn_fatal(c, rc, SSH_DISCONNECT_BY_APPLICATION, "connection layer: %s", sshrpc_strerror(rc));
		if (c->dead)
			return dead_status(c);
	}
}

int sshrpc_conn_tick(sshrpc_conn *c, uint64_t now_ms)
{
	if (c->dead)
		return dead_status(c);
	if (c->cfg.alive_interval_ms == 0)
		return SSHRPC_OK;
	if (!c->alive_armed) {
		c->alive_deadline = now_ms + c->cfg.alive_interval_ms;
		c->alive_armed = true;
		return SSHRPC_OK;
	}
	if (now_ms < c->alive_deadline)
		return SSHRPC_OK;
	if (c->alive_missed >= c->cfg.alive_count_max)
		return conn_fatal(c, SSHRPC_E_TIMEOUT, SSH_DISCONNECT_CONNECTION_LOST,
			"peer not responding: %" PRIu32 " keepalive probes unanswered, %" PRIu32 " ms apart "
			"(ClientAliveCountMax/ServerAliveCountMax)",
			c->alive_missed, c->cfg.alive_interval_ms);
	/* OpenSSH probes with keepalive@openssh.com and want_reply, which
	 * every peer must answer (RFC 4254 §4: failure when unknown). */
	if (c->gasked.count < SSHRPC_CONN_MAX_PENDING_REPLIES) {
		int rc = global_send(c, "keepalive@openssh.com", true, GKIND_KEEPALIVE, NULL, 0);
		if (rc < 0)
			return rc;
	}
	c->alive_missed++;
	c->alive_deadline = now_ms + c->cfg.alive_interval_ms;
	return SSHRPC_OK;
}

uint64_t sshrpc_conn_next_deadline(const sshrpc_conn *c)
{
	if (c->dead || c->cfg.alive_interval_ms == 0)
		return UINT64_MAX;
	return c->alive_armed ? c->alive_deadline : 0; /* the first tick arms it */
}

int sshrpc_conn_flush(sshrpc_conn *c)
{
	if (c->dead)
		return dead_status(c);
	if (!c->lower_blocked)
		return SSHRPC_OK;
	int rc = backlog_flush(c);
	if (rc < 0)
		return rc;
	if (sshrpc_buf_len(&c->backlog) > 0)
		return SSHRPC_OK; /* still blocked */
	c->lower_blocked = false;
	/* Then the channels' queued data, and the EOF, CLOSE and requests
	 * that wait behind it. */
	for (uint32_t i = 0; i < c->cap && !c->lower_blocked; i++) {
		struct chan *ch = c->slots[i];
		if (ch != NULL && (rc = data_flush(c, ch)) < 0)
			return rc;
	}
	for (uint32_t i = 0; i < c->cap && !c->lower_blocked && !c->dead; i++) {
		struct chan *ch = c->slots[i];
		if (ch != NULL && (rc = data_check_writable(c, ch)) < 0)
			return rc;
	}
	return c->dead ? dead_status(c) : SSHRPC_OK;
}

int sshrpc_conn_disconnect(sshrpc_conn *c, uint32_t reason, const char *description)
{
	if (c->dead)
		return dead_status(c);
	return conn_fatal(c, SSHRPC_E_CLOSED, reason, "%s", description != NULL ? description : "");
}

const sshrpc_err *sshrpc_conn_error(const sshrpc_conn *c)
{
	return c->dead ? &c->err : NULL;
}

bool sshrpc_conn_is_dead(const sshrpc_conn *c)
{
	return c->dead;
}

uint32_t sshrpc_conn_channel_count(const sshrpc_conn *c)
{
	return c->nchan;
}
