/* Channel life: open, confirmation, failure, EOF and CLOSE (RFC 4254 §5.1,
 * §5.3), and the application's calls that drive them. */
#include <string.h>

#include "conn_internal.h"

const char *chan_state_name(int state)
{
	switch (state) {
	case SSHRPC_CHAN_FREE:
		return "free";
	case SSHRPC_CHAN_OPENING:
		return "opening (awaiting the peer's confirmation)";
	case SSHRPC_CHAN_PEER_OPENING:
		return "opening (not yet confirmed by us)";
	case SSHRPC_CHAN_OPEN:
		return "open";
	case SSHRPC_CHAN_CLOSING:
		return "closing (our CLOSE sent)";
	default:
		return "?";
	}
}

static bool name_is(const uint8_t *p, size_t n, const char *s)
{
	size_t l = strlen(s);
	return n == l && memcmp(p, s, l) == 0;
}

int chan_lookup(sshrpc_conn *c, uint32_t id, const char *msg, struct chan **out)
{
	struct chan *ch = table_get(c, id);
	if (ch == NULL)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s for channel %" PRIu32 ", which is not open (RFC 4254 §5: the recipient "
			"channel must be one the peer opened or confirmed)",
			msg, id);
	*out = ch;
	return SSHRPC_OK;
}

static void emit_close(sshrpc_conn *c, struct chan *ch, bool by_peer)
{
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_CLOSE, .id = ch->id, .userdata = ch->ud };
	ev.u.close.by_peer = by_peer;
	ev.u.close.has_exit_status = ch->has_exit_status;
	ev.u.close.has_exit_signal = ch->has_exit_signal;
	ev.u.close.exit_status = ch->exit_status;
	conn_emit(c, &ev);
}

/* ---- the peer opens ------------------------------------------------------- */

static int send_open_failure(sshrpc_conn *c, uint32_t recipient, uint32_t reason, const char *desc)
{
	sshrpc_buf *w;
	int rc = conn_begin(c, SSH_MSG_CHANNEL_OPEN_FAILURE, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_u32(w, recipient);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, reason);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, desc != NULL ? desc : "");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, ""); /* language tag */
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, SSH_MSG_CHANNEL_OPEN_FAILURE, rc);
	return conn_end(c);
}

/* Channel types RFC 4254 and OpenSSH define but that stay refused unless the
 * application enabled them: ADMINISTRATIVELY_PROHIBITED, as OpenSSH answers
 * for disabled forwarding. Anything else is UNKNOWN_CHANNEL_TYPE. */
static const char *const known_types[] = {
	"x11",
	"auth-agent@openssh.com",
	"direct-streamlocal@openssh.com",
	"forwarded-streamlocal@openssh.com",
	"tun@openssh.com",
	"direct-tcpip",
	"forwarded-tcpip",
};

int chan_handle_open(sshrpc_conn *c, sshrpc_reader *r)
{
	const uint8_t *type;
	size_t type_len;
	uint32_t sender, window, max_packet;
	if (sshrpc_rd_string(r, &type, &type_len) != SSHRPC_OK || sshrpc_rd_u32(r, &sender) != SSHRPC_OK ||
		sshrpc_rd_u32(r, &window) != SSHRPC_OK || sshrpc_rd_u32(r, &max_packet) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_OPEN (RFC 4254 §5.1: string type, uint32 "
			"sender channel, uint32 window, uint32 maximum packet)");
	bool server = c->cfg.role == SSHRPC_CONN_SERVER;
	bool session = name_is(type, type_len, "session");
	bool to_app = false;
	if (session) {
		if (!server)
			/* RFC 4254 §6.1: clients SHOULD reject session opens. */
			return send_open_failure(c, sender, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED,
				"session channels are opened by the client (RFC 4254 §6.1)");
		if (c->no_more_sessions)
			/* What OpenSSH's sshd does (PROTOCOL §2.2): abort. */
			return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"session channel opened after no-more-sessions@openssh.com "
				"(OpenSSH PROTOCOL §2.2)");
		to_app = true;
	} else if (name_is(type, type_len, "direct-tcpip")) {
		to_app = server && c->cfg.allow_direct_tcpip;
	} else if (name_is(type, type_len, "forwarded-tcpip")) {
		to_app = !server && c->cfg.allow_forwarded_tcpip;
	}
	if (!to_app || c->cfg.on_event == NULL) {
		bool known = session;
		for (size_t i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
			known = known || name_is(type, type_len, known_types[i]);
		if (known)
			return send_open_failure(
				c, sender, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "channel type not enabled");
		return send_open_failure(c, sender, SSH_OPEN_UNKNOWN_CHANNEL_TYPE, "unknown channel type");
	}

	struct chan *ch;
	int rc = table_alloc(c, &ch);
	if (rc == SSHRPC_E_TOO_LARGE)
		return send_open_failure(
			c, sender, SSH_OPEN_RESOURCE_SHORTAGE, "too many channels on this connection (MaxSessions)");
	if (rc != SSHRPC_OK)
		return send_open_failure(c, sender, SSH_OPEN_RESOURCE_SHORTAGE, "out of memory");
	ch->state = SSHRPC_CHAN_PEER_OPENING;
	ch->remote_id = sender;
	ch->remote_window = window;
	ch->remote_max_packet = max_packet;
	ch->is_session = session;
	conn_log(c, SSHRPC_LOG_DEBUG, "channel %" PRIu32 ": peer opens %.*s (peer id %" PRIu32 ")", ch->id,
		(int)type_len, (const char *)type, sender);

	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_CHANNEL_OPEN, .id = ch->id };
	ev.u.open.type = (const char *)type;
	ev.u.open.type_len = type_len;
	ev.u.open.window = window;
	ev.u.open.max_packet = max_packet;
	ev.u.open.extra = sshrpc_rd_ptr(r);
	ev.u.open.extra_len = sshrpc_rd_left(r);
	conn_emit(c, &ev);
	return SSHRPC_OK;
}

int sshrpc_chan_accept(sshrpc_conn *c, uint32_t id, void *userdata)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	struct chan *ch = table_get(c, id);
	if (ch == NULL || ch->state != SSHRPC_CHAN_PEER_OPENING)
		return SSHRPC_E_STATE;
	sshrpc_buf *w;
	int rc = conn_begin(c, SSH_MSG_CHANNEL_OPEN_CONFIRMATION, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_u32(w, ch->remote_id);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->id);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->local_window);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->local_max_packet);
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, SSH_MSG_CHANNEL_OPEN_CONFIRMATION, rc);
	if ((rc = conn_end(c)) != SSHRPC_OK)
		return rc;
	ch->state = SSHRPC_CHAN_OPEN;
	ch->ud = userdata;
	return SSHRPC_OK;
}

int sshrpc_chan_reject(sshrpc_conn *c, uint32_t id, uint32_t reason, const char *description)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	struct chan *ch = table_get(c, id);
	if (ch == NULL || ch->state != SSHRPC_CHAN_PEER_OPENING)
		return SSHRPC_E_STATE;
	uint32_t remote = ch->remote_id;
	table_release(c, ch);
	return send_open_failure(c, remote, reason, description);
}

/* ---- we open ---------------------------------------------------------------- */

int sshrpc_chan_open(
	sshrpc_conn *c, const char *type, const uint8_t *extra, size_t extra_len, void *userdata, uint32_t *id)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	if (type == NULL || (extra == NULL && extra_len > 0))
		return SSHRPC_E_INVALID;
	bool session = strcmp(type, "session") == 0;
	if (session && c->no_more_sessions)
		return SSHRPC_E_STATE;
	struct chan *ch;
	int rc = table_alloc(c, &ch);
	if (rc != SSHRPC_OK)
		return rc;
	ch->state = SSHRPC_CHAN_OPENING;
	ch->is_session = session;
	ch->ud = userdata;
	sshrpc_buf *w;
	if ((rc = conn_begin(c, SSH_MSG_CHANNEL_OPEN, &w)) != SSHRPC_OK) {
		table_release(c, ch);
		return rc;
	}
	rc = sshrpc_buf_put_cstring(w, type);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->id);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->local_window);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, ch->local_max_packet);
	if (rc == SSHRPC_OK && extra_len > 0)
		rc = sshrpc_buf_put(w, extra, extra_len);
	if (rc != SSHRPC_OK) {
		table_release(c, ch);
		return conn_build_fail(c, SSH_MSG_CHANNEL_OPEN, rc);
	}
	if ((rc = conn_end(c)) != SSHRPC_OK) {
		table_release(c, ch);
		return rc;
	}
	*id = ch->id;
	return SSHRPC_OK;
}

int sshrpc_chan_open_session(sshrpc_conn *c, void *userdata, uint32_t *id)
{
	return sshrpc_chan_open(c, "session", NULL, 0, userdata, id);
}

/* The channel an OPEN_CONFIRMATION or OPEN_FAILURE answers: one of ours
 * still waiting for that answer (RFC 4254 §5.1). */
static int chan_awaiting_open(sshrpc_conn *c, uint32_t recipient, const char *msg, const char *what, struct chan **out)
{
	int rc = chan_lookup(c, recipient, msg, out);
	if (rc != SSHRPC_OK)
		return rc;
	if ((*out)->state != SSHRPC_CHAN_OPENING)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s for channel %" PRIu32 ", which is %s and was not awaiting %s (RFC 4254 §5.1)", msg,
			recipient, chan_state_name((*out)->state), what);
	return SSHRPC_OK;
}

int chan_handle_open_confirmation(sshrpc_conn *c, sshrpc_reader *r)
{
	uint32_t recipient, sender, window, max_packet;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_u32(r, &sender) != SSHRPC_OK ||
		sshrpc_rd_u32(r, &window) != SSHRPC_OK || sshrpc_rd_u32(r, &max_packet) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_OPEN_CONFIRMATION (RFC 4254 §5.1)");
	struct chan *ch;
	int rc = chan_awaiting_open(c, recipient, "SSH_MSG_CHANNEL_OPEN_CONFIRMATION", "one", &ch);
	if (rc != SSHRPC_OK)
		return rc;
	ch->state = SSHRPC_CHAN_OPEN;
	ch->remote_id = sender;
	ch->remote_window = window;
	ch->remote_max_packet = max_packet;
	/* Requests, data, EOF and CLOSE issued before the confirmation. */
	if ((rc = data_flush(c, ch)) < 0)
		return rc;
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_OPENED, .id = ch->id, .userdata = ch->ud };
	conn_emit(c, &ev);
	return data_check_writable(c, ch);
}

int chan_handle_open_failure(sshrpc_conn *c, sshrpc_reader *r)
{
	uint32_t recipient, reason;
	const uint8_t *desc, *lang;
	size_t desc_len, lang_len;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_u32(r, &reason) != SSHRPC_OK ||
		sshrpc_rd_string(r, &desc, &desc_len) != SSHRPC_OK ||
		sshrpc_rd_string(r, &lang, &lang_len) != SSHRPC_OK || sshrpc_rd_end(r) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_OPEN_FAILURE (RFC 4254 §5.1: uint32 recipient, "
			"uint32 reason code, string description, string language tag)");
	struct chan *ch;
	int rc = chan_awaiting_open(c, recipient, "SSH_MSG_CHANNEL_OPEN_FAILURE", "an answer", &ch);
	if (rc != SSHRPC_OK)
		return rc;
	conn_log(c, SSHRPC_LOG_DEBUG, "channel %" PRIu32 ": open refused, reason %" PRIu32, ch->id, reason);
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_OPEN_FAILED, .id = ch->id, .userdata = ch->ud };
	ev.u.open_failed.reason = reason;
	ev.u.open_failed.description = (const char *)desc;
	ev.u.open_failed.description_len = desc_len;
	/* No CLOSE is exchanged for a channel that never opened. */
	ch->state = SSHRPC_CHAN_FREE;
	conn_emit(c, &ev);
	table_release(c, ch);
	return SSHRPC_OK;
}

/* ---- EOF and CLOSE (RFC 4254 §5.3) ---------------------------------------- */

/* The channel a data-path message names. Returns 1 when the message is to
 * be ignored: after our CLOSE the peer may still have sent anything before
 * it saw ours. */
int chan_lookup_open(sshrpc_conn *c, uint32_t id, uint8_t type, struct chan **out)
{
	int rc = chan_lookup(c, id, conn_msg_name(type), out);
	if (rc != SSHRPC_OK)
		return rc;
	struct chan *ch = *out;
	if (ch->state == SSHRPC_CHAN_CLOSING)
		return 1;
	if (ch->state != SSHRPC_CHAN_OPEN)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s for channel %" PRIu32 ", which is %s (RFC 4254 §5.1: only confirmed "
			"channels carry messages)",
			conn_msg_name(type), id, chan_state_name(ch->state));
	return SSHRPC_OK;
}

int chan_handle_eof(sshrpc_conn *c, sshrpc_reader *r)
{
	uint32_t recipient;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_end(r) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_EOF (RFC 4254 §5.3: uint32 recipient channel)");
	struct chan *ch;
	int rc = chan_lookup_open(c, recipient, SSH_MSG_CHANNEL_EOF, &ch);
	if (rc != SSHRPC_OK)
		return rc < 0 ? rc : SSHRPC_OK;
	if (ch->eof_rcvd)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"second SSH_MSG_CHANNEL_EOF on channel %" PRIu32 " (RFC 4254 §5.3: EOF ends the "
			"data in one direction once)",
			recipient);
	ch->eof_rcvd = true;
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_EOF, .id = ch->id, .userdata = ch->ud };
	conn_emit(c, &ev);
	return SSHRPC_OK;
}

int chan_handle_close(sshrpc_conn *c, sshrpc_reader *r)
{
	uint32_t recipient;
	if (sshrpc_rd_u32(r, &recipient) != SSHRPC_OK || sshrpc_rd_end(r) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_CHANNEL_CLOSE (RFC 4254 §5.3: uint32 recipient channel)");
	struct chan *ch;
	int rc = chan_lookup(c, recipient, "SSH_MSG_CHANNEL_CLOSE", &ch);
	if (rc != SSHRPC_OK)
		return rc;
	if (ch->state != SSHRPC_CHAN_OPEN && ch->state != SSHRPC_CHAN_CLOSING)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"SSH_MSG_CHANNEL_CLOSE for channel %" PRIu32 ", which is %s (RFC 4254 §5.3)", recipient,
			chan_state_name(ch->state));
	ch->close_rcvd = true;
	bool by_peer = !ch->close_sent;
	if (!ch->close_sent) {
		/* RFC 4254 §5.3: "Upon receiving this message, a party MUST send
		 * back an SSH_MSG_CHANNEL_CLOSE unless it has already sent this
		 * message for the channel." Queued data can no longer matter. */
		data_drop_queue(ch);
		ch->close_sent = true;
		if ((rc = conn_send_u32(c, SSH_MSG_CHANNEL_CLOSE, ch->remote_id)) != SSHRPC_OK)
			return rc;
	}
	ch->state = SSHRPC_CHAN_FREE;
	emit_close(c, ch, by_peer);
	table_release(c, ch);
	return SSHRPC_OK;
}

/* A channel the application names in a call: ours to act on. */
int chan_api(sshrpc_conn *c, uint32_t id, struct chan **out)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	struct chan *ch = table_get(c, id);
	if (ch == NULL || ch->state == SSHRPC_CHAN_FREE)
		return SSHRPC_E_STATE;
	if (ch->state == SSHRPC_CHAN_PEER_OPENING)
		return SSHRPC_E_STATE;
	if (ch->state == SSHRPC_CHAN_CLOSING || ch->close_pending)
		return SSHRPC_E_CLOSED;
	*out = ch;
	return SSHRPC_OK;
}

int sshrpc_chan_eof(sshrpc_conn *c, uint32_t id)
{
	struct chan *ch;
	int rc = chan_api(c, id, &ch);
	if (rc != SSHRPC_OK)
		return rc;
	if (ch->eof_pending || ch->eof_sent)
		return SSHRPC_OK;
	ch->eof_pending = true;
	return data_flush(c, ch);
}

int sshrpc_chan_close(sshrpc_conn *c, uint32_t id)
{
	struct chan *ch;
	int rc = chan_api(c, id, &ch);
	if (rc == SSHRPC_E_CLOSED)
		return SSHRPC_OK; /* already closing */
	if (rc != SSHRPC_OK)
		return rc;
	ch->close_pending = true;
	return data_flush(c, ch);
}

int sshrpc_chan_abort(sshrpc_conn *c, uint32_t id)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	struct chan *ch = table_get(c, id);
	if (ch == NULL || ch->state == SSHRPC_CHAN_FREE || ch->state == SSHRPC_CHAN_PEER_OPENING)
		return SSHRPC_E_STATE;
	if (ch->state == SSHRPC_CHAN_CLOSING)
		return SSHRPC_OK;
	data_drop_queue(ch);
	ch->close_pending = true;
	return data_flush(c, ch);
}

void *sshrpc_chan_userdata(const sshrpc_conn *c, uint32_t id)
{
	struct chan *ch = table_get(c, id);
	return ch != NULL ? ch->ud : NULL;
}

int sshrpc_chan_set_userdata(sshrpc_conn *c, uint32_t id, void *userdata)
{
	struct chan *ch = table_get(c, id);
	if (ch == NULL)
		return SSHRPC_E_STATE;
	ch->ud = userdata;
	return SSHRPC_OK;
}

int sshrpc_chan_get_info(const sshrpc_conn *c, uint32_t id, sshrpc_chan_info *info)
{
	struct chan *ch = table_get(c, id);
	if (ch == NULL)
		return SSHRPC_E_STATE;
	memset(info, 0, sizeof *info);
	info->state = ch->state;
	info->local_id = ch->id;
	info->remote_id = ch->remote_id;
	info->local_window = ch->local_window;
	info->local_max_packet = ch->local_max_packet;
	info->remote_window = ch->remote_window;
	info->remote_max_packet = ch->remote_max_packet;
	info->queued = ch->outq_data;
	info->readable[0] = sshrpc_buf_len(&ch->rx[0]);
	info->readable[1] = sshrpc_buf_len(&ch->rx[1]);
	info->eof_sent = ch->eof_sent;
	info->eof_received = ch->eof_rcvd;
	info->close_sent = ch->close_sent;
	info->close_received = ch->close_rcvd;
	info->eow_received = ch->eow_rcvd;
	info->bytes_sent = ch->bytes_sent;
	info->bytes_received = ch->bytes_received;
	info->window_stalls = ch->window_stalls;
	return SSHRPC_OK;
}
