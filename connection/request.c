/* Channel requests (RFC 4254 §5.4, §6; OpenSSH PROTOCOL §2.1): the peer's,
 * parsed and passed to the application's policy or answered here, and ours,
 * sent in order behind queued data. Replies go out in the order of the
 * requests, whatever order the application decides them in. */
#include <string.h>

#include "conn_internal.h"

static const char *const req_names[] = {
	[SSHRPC_REQ_PTY] = "pty-req",
	[SSHRPC_REQ_X11] = "x11-req",
	[SSHRPC_REQ_ENV] = "env",
	[SSHRPC_REQ_SHELL] = "shell",
	[SSHRPC_REQ_EXEC] = "exec",
	[SSHRPC_REQ_SUBSYSTEM] = "subsystem",
	[SSHRPC_REQ_WINDOW_CHANGE] = "window-change",
	[SSHRPC_REQ_XON_XOFF] = "xon-xoff",
	[SSHRPC_REQ_SIGNAL] = "signal",
	[SSHRPC_REQ_EXIT_STATUS] = "exit-status",
	[SSHRPC_REQ_EXIT_SIGNAL] = "exit-signal",
	[SSHRPC_REQ_EOW] = "eow@openssh.com",
	[SSHRPC_REQ_KEEPALIVE] = "keepalive@openssh.com",
};
#define NKINDS (sizeof req_names / sizeof req_names[0])

const char *sshrpc_req_name(int kind)
{
	if (kind <= 0 || (size_t)kind >= NKINDS)
		return NULL;
	return req_names[kind];
}

static int req_kind(const uint8_t *name, size_t len)
{
	for (size_t k = 1; k < NKINDS; k++)
		if (strlen(req_names[k]) == len && memcmp(req_names[k], name, len) == 0)
			return (int)k;
	return SSHRPC_REQ_OTHER;
}

/* ---- reply rings ------------------------------------------------------------ */

#define RING SSHRPC_CONN_MAX_PENDING_REPLIES

static bool ring_push(struct reply_ring *q, bool decided, bool success)
{
	if (q->count >= RING)
		return false;
	uint32_t bit = 1u << q->count;
	q->decided = decided ? q->decided | bit : q->decided & ~bit;
	q->success = success ? q->success | bit : q->success & ~bit;
	q->count++;
	return true;
}

static void ring_pop(struct reply_ring *q)
{
	q->decided >>= 1;
	q->success >>= 1;
	q->head = (uint8_t)((q->head + 1) % RING);
	q->count--;
}

/* Sends the answers known, in order, up to the first undecided one. */
static int replies_send(sshrpc_conn *c, struct chan *ch)
{
	struct reply_ring *q = &ch->replies;
	while (q->count > 0 && (q->decided & 1u)) {
		bool ok = q->success & 1u;
		ring_pop(q);
		/* After our CLOSE nothing more goes out on the channel. */
		if (ch->state != SSHRPC_CHAN_OPEN)
			continue;
		int rc = conn_send_u32(c, ok ? SSH_MSG_CHANNEL_SUCCESS : SSH_MSG_CHANNEL_FAILURE, ch->remote_id);
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

static int owe_reply(sshrpc_conn *c, struct chan *ch, bool decided, bool success)
{
	if (!ring_push(&ch->replies, decided, success))
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"more than %u requests awaiting our reply on channel %" PRIu32, RING, ch->id);
	return replies_send(c, ch);
}

int sshrpc_chan_reply(sshrpc_conn *c, uint32_t id, bool success)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	struct chan *ch = table_get(c, id);
	if (ch == NULL)
		return SSHRPC_E_STATE;
	/* A reply to a request that asked for none is a no-op. */
	if (ch->reply_ignored)
		return SSHRPC_OK;
	struct reply_ring *q = &ch->replies;
	for (uint32_t i = 0; i < q->count; i++) {
		uint32_t bit = 1u << i;
		if (q->decided & bit)
			continue;
		q->decided |= bit;
		if (success)
			q->success |= bit;
		return replies_send(c, ch);
	}
	return SSHRPC_E_STATE;
}

/* ---- the peer's requests ------------------------------------------------------ */

static int malformed(sshrpc_conn *c, uint32_t id, const uint8_t *name, size_t len, const char *layout)
{
	return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
		"malformed \"%.*s\" request on channel %" PRIu32 " (%s)", (int)(len > 64 ? 64 : len),
		(const char *)name, id, layout);
}

/* Parses the request-specific fields of the requests the application
 * decides or hears about into the event. */
static int parse_request(sshrpc_conn *c, struct chan *ch, int kind, sshrpc_reader *r, sshrpc_conn_event *ev,
	const uint8_t *name, size_t name_len)
{
	const uint8_t *s = NULL, *v = NULL;
	size_t sl = 0, vl = 0;
	bool ok = true;
	switch (kind) {
	case SSHRPC_REQ_EXEC:
	case SSHRPC_REQ_SUBSYSTEM:
	case SSHRPC_REQ_SIGNAL:
		ok = sshrpc_rd_string(r, &s, &sl) == SSHRPC_OK && sshrpc_rd_end(r) == SSHRPC_OK;
		break;
	case SSHRPC_REQ_SHELL:
	case SSHRPC_REQ_EOW:
		ok = sshrpc_rd_end(r) == SSHRPC_OK;
		break;
	case SSHRPC_REQ_ENV:
		ok = sshrpc_rd_string(r, &s, &sl) == SSHRPC_OK && sshrpc_rd_string(r, &v, &vl) == SSHRPC_OK &&
		     sshrpc_rd_end(r) == SSHRPC_OK;
		break;
	case SSHRPC_REQ_PTY: {
		const uint8_t *modes;
		size_t ml;
		ok = sshrpc_rd_string(r, &s, &sl) == SSHRPC_OK && sshrpc_rd_u32(r, &ev->u.request.cols) == SSHRPC_OK &&
		     sshrpc_rd_u32(r, &ev->u.request.rows) == SSHRPC_OK &&
		     sshrpc_rd_u32(r, &ev->u.request.width_px) == SSHRPC_OK &&
		     sshrpc_rd_u32(r, &ev->u.request.height_px) == SSHRPC_OK &&
		     sshrpc_rd_string(r, &modes, &ml) == SSHRPC_OK && sshrpc_rd_end(r) == SSHRPC_OK;
		if (ok) {
			ev->u.request.modes = modes;
			ev->u.request.modes_len = ml;
		}
		break;
	}
	case SSHRPC_REQ_WINDOW_CHANGE:
		ok = sshrpc_rd_u32(r, &ev->u.request.cols) == SSHRPC_OK &&
		     sshrpc_rd_u32(r, &ev->u.request.rows) == SSHRPC_OK &&
		     sshrpc_rd_u32(r, &ev->u.request.width_px) == SSHRPC_OK &&
		     sshrpc_rd_u32(r, &ev->u.request.height_px) == SSHRPC_OK && sshrpc_rd_end(r) == SSHRPC_OK;
		break;
	default:
		break;
	}
	if (!ok)
		return malformed(c, ch->id, name, name_len, "RFC 4254 §6 layout");
	ev->u.request.str = (const char *)s;
	ev->u.request.str_len = sl;
	ev->u.request.value = (const char *)v;
	ev->u.request.value_len = vl;
	return SSHRPC_OK;
}

/* Requests the application decides, by role (RFC 4254 §6: these come from
 * the client). */
static bool app_decides(const sshrpc_conn *c, int kind)
{
	if (c->cfg.role != SSHRPC_CONN_SERVER || c->cfg.on_event == NULL)
		return false;
	switch (kind) {
	case SSHRPC_REQ_EXEC:
	case SSHRPC_REQ_SHELL:
	case SSHRPC_REQ_SUBSYSTEM:
	case SSHRPC_REQ_ENV:
	case SSHRPC_REQ_PTY:
	case SSHRPC_REQ_WINDOW_CHANGE:
	case SSHRPC_REQ_SIGNAL:
		return true;
	default:
		return false;
	}
}

static int exit_signal(
	sshrpc_conn *c, struct chan *ch, sshrpc_reader *r, bool want, const uint8_t *name, size_t name_len)
{
	const uint8_t *sig, *msg, *lang;
	size_t sl, ml, ll;
	bool core;
	if (sshrpc_rd_string(r, &sig, &sl) != SSHRPC_OK || sshrpc_rd_bool(r, &core) != SSHRPC_OK ||
		sshrpc_rd_string(r, &msg, &ml) != SSHRPC_OK || sshrpc_rd_string(r, &lang, &ll) != SSHRPC_OK ||
		sshrpc_rd_end(r) != SSHRPC_OK)
		return malformed(c, ch->id, name, name_len,
			"RFC 4254 §6.10: string signal name, boolean core dumped, string "
			"message, string language tag");
	ch->has_exit_signal = true;
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_EXIT_SIGNAL, .id = ch->id, .userdata = ch->ud };
	ev.u.exit_signal.signal = (const char *)sig;
	ev.u.exit_signal.signal_len = sl;
	ev.u.exit_signal.core_dumped = core;
	ev.u.exit_signal.message = (const char *)msg;
	ev.u.exit_signal.message_len = ml;
	conn_emit(c, &ev);
	return want ? owe_reply(c, ch, true, true) : SSHRPC_OK;
}

int req_handle(sshrpc_conn *c, sshrpc_reader *r)
{
	uint32_t recipient;
	const uint8_t *name;
	size_t name_len;
	bool want;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_string(r, &name, &name_len) != SSHRPC_OK ||
		sshrpc_rd_bool(r, &want) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_REQUEST (RFC 4254 §5.4: uint32 recipient "
			"channel, string request type, boolean want reply)");
	struct chan *ch;
	int rc = chan_lookup_open(c, recipient, SSH_MSG_CHANNEL_REQUEST, &ch);
	if (rc != SSHRPC_OK)
		return rc < 0 ? rc : SSHRPC_OK;
	int kind = req_kind(name, name_len);
	bool server = c->cfg.role == SSHRPC_CONN_SERVER;
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_REQUEST, .id = ch->id, .userdata = ch->ud };
	ev.u.request.kind = kind;
	ev.u.request.name = (const char *)name;
	ev.u.request.name_len = name_len;
	ev.u.request.want_reply = want;
	ev.u.request.extra = sshrpc_rd_ptr(r);
	ev.u.request.extra_len = sshrpc_rd_left(r);

	if (app_decides(c, kind)) {
		if ((rc = parse_request(c, ch, kind, r, &ev, name, name_len)) != SSHRPC_OK)
			return rc;
		if (want && !ring_push(&ch->replies, false, false))
			return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"more than %u requests awaiting our reply on channel %" PRIu32, RING, ch->id);
		ch->reply_ignored = !want;
		conn_emit(c, &ev);
		ch->reply_ignored = false;
		return c->dead ? SSHRPC_E_CLOSED : replies_send(c, ch);
	}
	if (kind == SSHRPC_REQ_EXIT_STATUS && !server) {
		uint32_t st;
		if (sshrpc_rd_u32(r, &st) != SSHRPC_OK || sshrpc_rd_end(r) != SSHRPC_OK)
			return malformed(c, ch->id, name, name_len, "RFC 4254 §6.10: uint32 exit status");
		ch->has_exit_status = true;
		ch->exit_status = st;
		sshrpc_conn_event e2 = { .type = SSHRPC_CONN_EV_EXIT_STATUS, .id = ch->id, .userdata = ch->ud };
		e2.u.exit_status.status = st;
		conn_emit(c, &e2);
		return want ? owe_reply(c, ch, true, true) : SSHRPC_OK;
	}
	if (kind == SSHRPC_REQ_EXIT_SIGNAL && !server)
		return exit_signal(c, ch, r, want, name, name_len);
	if (kind == SSHRPC_REQ_EOW && ch->is_session) {
		if ((rc = parse_request(c, ch, kind, r, &ev, name, name_len)) != SSHRPC_OK)
			return rc;
		/* OpenSSH PROTOCOL §2.1: the peer SHOULD cease sending data; the
		 * channel stays open the other way. */
		ch->eow_rcvd = true;
		if ((rc = data_flush(c, ch)) != SSHRPC_OK)
			return rc;
		sshrpc_conn_event e2 = { .type = SSHRPC_CONN_EV_EOW, .id = ch->id, .userdata = ch->ud };
		conn_emit(c, &e2);
		return want ? owe_reply(c, ch, true, true) : SSHRPC_OK;
	}
	/* RFC 4254 §5.4: "If the request is not recognized or is not supported
	 * for the channel, SSH_MSG_CHANNEL_FAILURE is returned." This covers
	 * keepalive@openssh.com, as OpenSSH answers it. */
	conn_log(c, SSHRPC_LOG_DEBUG, "channel %" PRIu32 ": refusing request \"%.*s\"", ch->id,
		(int)(name_len > 64 ? 64 : name_len), (const char *)name);
	return want ? owe_reply(c, ch, true, false) : SSHRPC_OK;
}

/* ---- answers to our requests -------------------------------------------------- */

int req_handle_reply(sshrpc_conn *c, sshrpc_reader *r, bool success)
{
	uint8_t type = success ? SSH_MSG_CHANNEL_SUCCESS : SSH_MSG_CHANNEL_FAILURE;
	uint32_t recipient;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_end(r) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed %s (RFC 4254 §5.4: uint32 recipient channel)", conn_msg_name(type));
	struct chan *ch;
	int rc = chan_lookup_open(c, recipient, type, &ch);
	if (rc != SSHRPC_OK)
		return rc < 0 ? rc : SSHRPC_OK;
	struct kind_ring *q = &ch->asked;
	if (q->count == 0)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s on channel %" PRIu32 ", which has no request awaiting a reply (RFC 4254 §5.4)",
			conn_msg_name(type), recipient);
	int kind = q->kind[q->head];
	q->head = (uint8_t)((q->head + 1) % RING);
	q->count--;
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_REQUEST_REPLY, .id = ch->id, .userdata = ch->ud };
	ev.u.reply.kind = kind;
	ev.u.reply.success = success;
	conn_emit(c, &ev);
	return SSHRPC_OK;
}

/* ---- our requests ------------------------------------------------------------- */

static int put_body(sshrpc_buf *b, const char *name, bool want, const uint8_t *extra, size_t extra_len)
{
	int rc = sshrpc_buf_put_cstring(b, name);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(b, want);
	if (rc == SSHRPC_OK && extra_len > 0)
		rc = sshrpc_buf_put(b, extra, extra_len);
	return rc;
}

int req_send_queued(sshrpc_conn *c, struct chan *ch, const uint8_t *body, size_t len)
{
	sshrpc_buf *w;
	int rc = conn_begin(c, SSH_MSG_CHANNEL_REQUEST, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_u32(w, ch->remote_id);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(w, body, len);
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, SSH_MSG_CHANNEL_REQUEST, rc);
	return conn_end(c);
}

int sshrpc_chan_request(
	sshrpc_conn *c, uint32_t id, const char *name, bool want_reply, const uint8_t *extra, size_t extra_len)
{
	struct chan *ch;
	int rc = chan_api(c, id, &ch);
	if (rc != SSHRPC_OK)
		return rc;
	if (name == NULL || (extra == NULL && extra_len > 0))
		return SSHRPC_E_INVALID;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	struct kind_ring *q = &ch->asked;
	if (want_reply && q->count >= RING)
		return SSHRPC_E_WOULDBLOCK;
	size_t nlen = strlen(name);
	if (ch->state == SSHRPC_CHAN_OPEN && sshrpc_buf_len(&ch->outq) == 0 && !c->lower_blocked) {
		sshrpc_buf *w;
		if ((rc = conn_begin(c, SSH_MSG_CHANNEL_REQUEST, &w)) != SSHRPC_OK)
			return rc;
		rc = sshrpc_buf_put_u32(w, ch->remote_id);
		if (rc == SSHRPC_OK)
			rc = put_body(w, name, want_reply, extra, extra_len);
		if (rc != SSHRPC_OK)
			return conn_build_fail(c, SSH_MSG_CHANNEL_REQUEST, rc);
		if ((rc = conn_end(c)) != SSHRPC_OK)
			return rc;
	} else {
		/* Behind queued data, or until the open is confirmed. */
		size_t mark;
		if ((rc = data_record_begin(ch, QREC_REQUEST, 0, &mark)) != SSHRPC_OK)
			return rc;
		if ((rc = put_body(&ch->outq, name, want_reply, extra, extra_len)) != SSHRPC_OK) {
			data_record_cancel(ch, mark);
			return rc;
		}
		data_record_end(ch, mark);
	}
	if (want_reply) {
		q->kind[(q->head + q->count) % RING] = (uint8_t)req_kind((const uint8_t *)name, nlen);
		q->count++;
	}
	return SSHRPC_OK;
}

/* Typed requests: the request-specific data built in a small buffer. */
static int request_with(sshrpc_conn *c, uint32_t id, const char *name, bool want, sshrpc_buf *b, int rc)
{
	if (rc == SSHRPC_OK)
		rc = sshrpc_chan_request(c, id, name, want, sshrpc_buf_ptr(b), sshrpc_buf_len(b));
	sshrpc_buf_free(b);
	return rc;
}

int sshrpc_chan_exec(sshrpc_conn *c, uint32_t id, const char *command, size_t len, bool want_reply)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, c->alloc, 0);
	return request_with(c, id, "exec", want_reply, &b, sshrpc_buf_put_string(&b, command, len));
}

int sshrpc_chan_shell(sshrpc_conn *c, uint32_t id, bool want_reply)
{
	return sshrpc_chan_request(c, id, "shell", want_reply, NULL, 0);
}

int sshrpc_chan_subsystem(sshrpc_conn *c, uint32_t id, const char *name, bool want_reply)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, c->alloc, 0);
	return request_with(c, id, "subsystem", want_reply, &b, sshrpc_buf_put_cstring(&b, name));
}

int sshrpc_chan_env(sshrpc_conn *c, uint32_t id, const char *name, const char *value, bool want_reply)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, c->alloc, 0);
	int rc = sshrpc_buf_put_cstring(&b, name);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&b, value);
	return request_with(c, id, "env", want_reply, &b, rc);
}

int sshrpc_chan_pty(sshrpc_conn *c, uint32_t id, const char *term, uint32_t cols, uint32_t rows, uint32_t width_px,
	uint32_t height_px, const uint8_t *modes, size_t modes_len, bool want_reply)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, c->alloc, 0);
	/* RFC 4254 §8: an empty modes string still ends with TTY_OP_END. */
	static const uint8_t no_modes[] = { 0 };
	if (modes == NULL || modes_len == 0) {
		modes = no_modes;
		modes_len = sizeof no_modes;
	}
	int rc = sshrpc_buf_put_cstring(&b, term);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&b, cols);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&b, rows);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&b, width_px);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&b, height_px);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(&b, modes, modes_len);
	return request_with(c, id, "pty-req", want_reply, &b, rc);
}

int sshrpc_chan_window_change(
	sshrpc_conn *c, uint32_t id, uint32_t cols, uint32_t rows, uint32_t width_px, uint32_t height_px)
{
	uint8_t d[16];
	sshrpc_store_be32(d, cols);
	sshrpc_store_be32(d + 4, rows);
	sshrpc_store_be32(d + 8, width_px);
	sshrpc_store_be32(d + 12, height_px);
	/* RFC 4254 §6.7: want reply is FALSE. */
	return sshrpc_chan_request(c, id, "window-change", false, d, sizeof d);
}

int sshrpc_chan_signal(sshrpc_conn *c, uint32_t id, const char *name)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, c->alloc, 0);
	/* RFC 4254 §6.9: want reply is FALSE. */
	return request_with(c, id, "signal", false, &b, sshrpc_buf_put_cstring(&b, name));
}

int sshrpc_chan_exit_status(sshrpc_conn *c, uint32_t id, uint32_t status)
{
	uint8_t d[4];
	sshrpc_store_be32(d, status);
	/* RFC 4254 §6.10: want reply is FALSE. */
	return sshrpc_chan_request(c, id, "exit-status", false, d, sizeof d);
}

int sshrpc_chan_exit_signal(sshrpc_conn *c, uint32_t id, const char *signal, bool core_dumped, const char *message)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, c->alloc, 0);
	int rc = sshrpc_buf_put_cstring(&b, signal);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(&b, core_dumped);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&b, message != NULL ? message : "");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&b, "");
	return request_with(c, id, "exit-signal", false, &b, rc);
}

int sshrpc_chan_eow(sshrpc_conn *c, uint32_t id)
{
	/* OpenSSH PROTOCOL §2.1: want reply FALSE, no window consumed. */
	return sshrpc_chan_request(c, id, "eow@openssh.com", false, NULL, 0);
}
