/* Global requests (RFC 4254 §4, §7; OpenSSH PROTOCOL §2.2): answered in the
 * order they arrived; forwarding refused unless enabled; keepalive probes and
 * anything unknown answered with SSH_MSG_REQUEST_FAILURE. */
#include <string.h>

#include "conn_internal.h"

static bool name_is(const uint8_t *p, size_t n, const char *s)
{
	size_t l = strlen(s);
	return n == l && memcmp(p, s, l) == 0;
}

/* Sends the answers known, in order, up to the first undecided one. */
static int greplies_send(sshrpc_conn *c)
{
	while (c->greply_count > 0) {
		struct global_reply *g = &c->greplies[c->greply_head];
		if (g->state == 0)
			break;
		sshrpc_buf *w;
		bool ok = g->state == 2;
		uint8_t type = ok ? SSH_MSG_REQUEST_SUCCESS : SSH_MSG_REQUEST_FAILURE;
		int rc = conn_begin(c, type, &w);
		if (rc != SSHRPC_OK)
			return rc;
		if (ok && g->extra_len > 0 && (rc = sshrpc_buf_put(w, g->extra, g->extra_len)) != SSHRPC_OK)
			return conn_build_fail(c, type, rc);
		if ((rc = conn_end(c)) != SSHRPC_OK)
			return rc;
		c->greply_head = (uint8_t)((c->greply_head + 1) % GREPLY_RING);
		c->greply_count--;
	}
	return SSHRPC_OK;
}

static struct global_reply *greply_push(sshrpc_conn *c)
{
	if (c->greply_count >= GREPLY_RING)
		return NULL;
	struct global_reply *g = &c->greplies[(c->greply_head + c->greply_count) % GREPLY_RING];
	memset(g, 0, sizeof *g);
	c->greply_count++;
	return g;
}

static int too_many(sshrpc_conn *c)
{
	return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
		"more than %u global requests awaiting our reply", GREPLY_RING);
}

int global_handle(sshrpc_conn *c, sshrpc_reader *r)
{
	const uint8_t *name;
	size_t name_len;
	bool want;
	if (sshrpc_rd_string(r, &name, &name_len) != SSHRPC_OK || sshrpc_rd_bool(r, &want) != SSHRPC_OK)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed SSH_MSG_GLOBAL_REQUEST (RFC 4254 §4: string request name, "
			"boolean want reply)");
	bool server = c->cfg.role == SSHRPC_CONN_SERVER;
	bool success = false;
	if (server && name_is(name, name_len, "no-more-sessions@openssh.com")) {
		/* OpenSSH PROTOCOL §2.2: later session opens abort the
		 * connection (chan_handle_open). sshd answers success. */
		if (sshrpc_rd_end(r) != SSHRPC_OK)
			return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"malformed no-more-sessions@openssh.com request (OpenSSH PROTOCOL "
				"§2.2: no request-specific data)");
		c->no_more_sessions = true;
		success = true;
	} else if (server && c->cfg.allow_tcpip_forward && c->cfg.on_event != NULL &&
		   (name_is(name, name_len, "tcpip-forward") || name_is(name, name_len, "cancel-tcpip-forward"))) {
		/* RFC 4254 §7.1: the application binds (or not) and answers,
		 * with the bound port when it chose one. */
		if (want && greply_push(c) == NULL)
			return too_many(c);
		sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_GLOBAL_REQUEST };
		ev.u.global.name = (const char *)name;
		ev.u.global.name_len = name_len;
		ev.u.global.want_reply = want;
		ev.u.global.extra = sshrpc_rd_ptr(r);
		ev.u.global.extra_len = sshrpc_rd_left(r);
		c->greply_ignore = !want;
		conn_emit(c, &ev);
		c->greply_ignore = false;
		return c->dead ? SSHRPC_E_CLOSED : greplies_send(c);
	} else {
		/* RFC 4254 §4: "If the recipient does not recognize or support
		 * the request, it simply responds with SSH_MSG_REQUEST_FAILURE."
		 * keepalive@openssh.com probes land here, as in OpenSSH. */
		conn_log(c, SSHRPC_LOG_DEBUG, "refusing global request \"%.*s\"", (int)(name_len > 64 ? 64 : name_len),
			(const char *)name);
	}
	if (!want)
		return SSHRPC_OK;
	struct global_reply *g = greply_push(c);
	if (g == NULL)
		return too_many(c);
	g->state = success ? 2 : 1;
	return greplies_send(c);
}

int sshrpc_conn_global_reply(sshrpc_conn *c, bool success, const uint8_t *extra, size_t extra_len)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	if (c->greply_ignore)
		return SSHRPC_OK;
	if (extra_len > GREPLY_EXTRA_MAX || (extra == NULL && extra_len > 0))
		return SSHRPC_E_TOO_LARGE;
	for (uint32_t i = 0; i < c->greply_count; i++) {
		struct global_reply *g = &c->greplies[(c->greply_head + i) % GREPLY_RING];
		if (g->state != 0)
			continue;
		g->state = success ? 2 : 1;
		if (success && extra_len > 0) {
			memcpy(g->extra, extra, extra_len);
			g->extra_len = (uint8_t)extra_len;
		}
		return greplies_send(c);
	}
	return SSHRPC_E_STATE;
}

int global_send(sshrpc_conn *c, const char *name, bool want_reply, int kind, const uint8_t *extra, size_t extra_len)
{
	if (c->dead)
		return SSHRPC_E_CLOSED;
	struct kind_ring *q = &c->gasked;
	if (want_reply && q->count >= SSHRPC_CONN_MAX_PENDING_REPLIES)
		return SSHRPC_E_WOULDBLOCK;
	sshrpc_buf *w;
	int rc = conn_begin(c, SSH_MSG_GLOBAL_REQUEST, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_cstring(w, name);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(w, want_reply);
	if (rc == SSHRPC_OK && extra_len > 0)
		rc = sshrpc_buf_put(w, extra, extra_len);
	if (rc != SSHRPC_OK)
		return conn_build_fail(c, SSH_MSG_GLOBAL_REQUEST, rc);
	if ((rc = conn_end(c)) != SSHRPC_OK)
		return rc;
	if (want_reply) {
		q->kind[(q->head + q->count) % SSHRPC_CONN_MAX_PENDING_REPLIES] = (uint8_t)kind;
		q->count++;
	}
	return SSHRPC_OK;
}

int sshrpc_conn_global_request(
	sshrpc_conn *c, const char *name, bool want_reply, const uint8_t *extra, size_t extra_len)
{
	if (name == NULL || (extra == NULL && extra_len > 0))
		return SSHRPC_E_INVALID;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	return global_send(c, name, want_reply, GKIND_APP, extra, extra_len);
}

int sshrpc_conn_no_more_sessions(sshrpc_conn *c)
{
	if (c->cfg.role != SSHRPC_CONN_CLIENT)
		return SSHRPC_E_STATE;
	if (c->in_write_begin)
		return SSHRPC_E_STATE;
	/* OpenSSH sends it without asking for a reply. */
	int rc = global_send(c, "no-more-sessions@openssh.com", false, GKIND_APP, NULL, 0);
	if (rc == SSHRPC_OK)
		c->no_more_sessions = true;
	return rc;
}

int global_handle_reply(sshrpc_conn *c, sshrpc_reader *r, bool success)
{
	struct kind_ring *q = &c->gasked;
	if (q->count == 0)
		return conn_fatal(c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"%s without a global request of ours awaiting a reply (RFC 4254 §4)",
			success ? "SSH_MSG_REQUEST_SUCCESS" : "SSH_MSG_REQUEST_FAILURE");
	int kind = q->kind[q->head];
	q->head = (uint8_t)((q->head + 1) % SSHRPC_CONN_MAX_PENDING_REPLIES);
	q->count--;
	if (kind == GKIND_KEEPALIVE)
		return SSHRPC_OK; /* its arrival reset the keepalive timer */
	sshrpc_conn_event ev = { .type = SSHRPC_CONN_EV_GLOBAL_REPLY };
	ev.u.global_reply.success = success;
	ev.u.global_reply.extra = sshrpc_rd_ptr(r);
	ev.u.global_reply.extra_len = sshrpc_rd_left(r);
	conn_emit(c, &ev);
	return SSHRPC_OK;
}
