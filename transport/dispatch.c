/* The receive side's state machine: which message may arrive in which
 * state, the transport's own messages (RFC 4253 §11, RFC 8308), and the
 * hand-over of everything else to the layer above. */
#include <string.h>

#include "transport/internal.h"

/* "message N (NAME) <rule>" */
static int fail_protocol(sshrpc_transport *t, uint8_t type, const char *rule)
{
	return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "message %u (%s) %s", (unsigned)type,
		sshrpc_tr_msg_name(type), rule);
}

static bool kex_message(uint8_t type)
{
	return type == SSH_MSG_KEXINIT || type == SSH_MSG_NEWKEYS || (type >= 30 && type <= 49);
}

static int on_disconnect(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	sshrpc_reader r;
	uint32_t reason = 0;
	const uint8_t *desc = NULL;
	size_t dlen = 0;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (sshrpc_rd_u32(&r, &reason) != SSHRPC_OK || sshrpc_rd_string(&r, &desc, &dlen) != SSHRPC_OK)
		dlen = 0;
	/* Keep the description printable in our own messages. */
	char d[160];
	size_t n = 0;
	for (size_t i = 0; i < dlen && n + 1 < sizeof d; i++)
		d[n++] = desc[i] >= 0x20 && desc[i] < 0x7f ? (char)desc[i] : '?';
	d[n] = '\0';
	sshrpc_err_set(&t->err, SSHRPC_E_CLOSED, reason, "peer disconnected: %s (%lu): %s",
		sshrpc_disconnect_reason_name(reason), (unsigned long)reason, d);
	sshrpc_tr_log(t, SSHRPC_LOG_INFO, "%s", t->err.msg);
	t->state = SSHRPC_TRANSPORT_CLOSED;
	return SSHRPC_E_CLOSED;
}

static int on_debug(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	sshrpc_reader r;
	bool display;
	const uint8_t *m;
	size_t n;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (sshrpc_rd_bool(&r, &display) == SSHRPC_OK && sshrpc_rd_string(&r, &m, &n) == SSHRPC_OK) {
		char d[160];
		size_t k = 0;
		for (size_t i = 0; i < n && k + 1 < sizeof d; i++)
			d[k++] = m[i] >= 0x20 && m[i] < 0x7f ? (char)m[i] : '?';
		d[k] = '\0';
		sshrpc_tr_log(t, display ? SSHRPC_LOG_INFO : SSHRPC_LOG_DEBUG, "peer debug message: %s", d);
	}
	return SSHRPC_OK;
}

/* RFC 8308 §2.3: uint32 count, then (string name, string value) pairs. */
static int on_ext_info(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	sshrpc_reader r;
	uint32_t count;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (sshrpc_rd_u32(&r, &count) != SSHRPC_OK)
		goto bad;
	for (uint32_t i = 0; i < count; i++) {
		const uint8_t *name, *value;
		size_t nl, vl;
		if (sshrpc_rd_string(&r, &name, &nl) != SSHRPC_OK || sshrpc_rd_string(&r, &value, &vl) != SSHRPC_OK)
			goto bad;
		if (t->role == SSHRPC_ROLE_CLIENT && nl == 16 && memcmp(name, "ping@openssh.com", 16) == 0)
			t->peer_ping = true;
		if (t->role != SSHRPC_ROLE_CLIENT || nl != 15 || memcmp(name, "server-sig-algs", 15) != 0)
			continue; /* §2.5: unknown extensions are ignored */
		if (sshrpc_namelist_check((const char *)value, vl) != SSHRPC_OK)
			return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"EXT_INFO server-sig-algs is not a valid name-list (RFC 8308 §3.1)");
		if (t->server_sig_algs != NULL)
			sshrpc_free(t->alloc, t->server_sig_algs, t->server_sig_algs_size);
		t->server_sig_algs = sshrpc_malloc(t->alloc, vl + 1);
		if (t->server_sig_algs == NULL) {
			t->server_sig_algs_size = 0;
			return sshrpc_tr_fail(t, SSHRPC_E_NOMEM, SSH_DISCONNECT_BY_APPLICATION, "out of memory");
		}
		t->server_sig_algs_size = vl + 1;
		memcpy(t->server_sig_algs, value, vl);
		t->server_sig_algs[vl] = '\0';
		t->algs.ext_info = true;
	}
	return SSHRPC_OK;
bad:
	return sshrpc_tr_fail(
		t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "malformed EXT_INFO (RFC 8308 §2.3)");
}

static int send_unimplemented(sshrpc_transport *t, uint32_t seqnr)
{
	sshrpc_buf *w;
	size_t mark;
	int rc = sshrpc_tr_send_begin(t, SSH_MSG_UNIMPLEMENTED, &w, &mark);
	if (rc != SSHRPC_OK)
		return rc;
	if ((rc = sshrpc_buf_put_u32(w, seqnr)) != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		return rc;
	}
	return sshrpc_tr_send_end(t, mark);
}

/* OpenSSH PROTOCOL §1.9: PONG with the PING's data, in order, queued
 * during a rekey like any message of the layers above. */
static int on_ping(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	sshrpc_reader r;
	const uint8_t *data;
	size_t n;
	sshrpc_buf *w;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (sshrpc_rd_string(&r, &data, &n) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed PING: one string expected (OpenSSH PROTOCOL §1.9)");
	int rc = sshrpc_tr_io_begin(t, SSH_MSG_PONG, &w);
	if (rc == SSHRPC_E_WOULDBLOCK) {
		/* the driver is not taking our output: a flood of pings must
		 * not grow it further */
		sshrpc_tr_log(t, SSHRPC_LOG_DEBUG, "PING not answered: output full");
		return 0;
	}
	if (rc == SSHRPC_OK) {
		rc = sshrpc_buf_put_string(w, data, n);
		if (rc != SSHRPC_OK) {
			t->open = false;
			if (t->open_pending)
				sshrpc_buf_truncate(&t->pending, t->open_mark);
			else
				sshrpc_buf_truncate(&t->out, t->open_mark);
		} else {
			rc = sshrpc_tr_io_end(t);
		}
	}
	return rc < 0 ? sshrpc_tr_fail(t, rc, SSH_DISCONNECT_BY_APPLICATION, "cannot answer PING") : 0;
}

/* 1: the message is for the layer above; 0: handled here; < 0: fatal. */
static int handle(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	uint8_t type = msg[0];
	tr_kex *k = &t->kex;
	/* RFC 4253 §7.1: the peer's wrong guess is dropped unseen. */
	if (t->kex_active && k->ignore_guess) {
		k->ignore_guess = false;
		sshrpc_tr_log(t, SSHRPC_LOG_DEBUG, "ignoring the peer's guessed %s packet", sshrpc_tr_msg_name(type));
		return 0;
	}
	/* Strict kex (OpenSSH PROTOCOL §1.10 a): only kex messages in the
	 * initial kex, once both KEXINITs told us it is on. A DISCONNECT ends
	 * the connection as the rule wants, so we take it to learn why. */
	if (t->strict && !t->first_kex_done && !kex_message(type) && type != SSH_MSG_DISCONNECT)
		return fail_protocol(
			t, type, "is not allowed during a strict initial key exchange (OpenSSH PROTOCOL §1.10)");
	/* Between the peer's KEXINIT and its NEWKEYS only transport messages
	 * may come (§7.1). */
	bool peer_in_kex = t->kex_active && k->got_kexinit;
	switch (type) {
	case SSH_MSG_DISCONNECT:
		return on_disconnect(t, msg, len);
	case SSH_MSG_IGNORE:
		return 0;
	case SSH_MSG_UNIMPLEMENTED: {
		sshrpc_reader r;
		uint32_t seq = 0;
		sshrpc_rd_init(&r, msg + 1, len - 1);
		if (sshrpc_rd_u32(&r, &seq) != SSHRPC_OK)
			return fail_protocol(t, type, "is malformed: uint32 sequence number expected (RFC 4253 §11.4)");
		sshrpc_tr_log(t, SSHRPC_LOG_INFO, "peer did not implement our packet %lu", (unsigned long)seq);
		return 0;
	}
	case SSH_MSG_DEBUG:
		return on_debug(t, msg, len);
	case SSH_MSG_SERVICE_REQUEST:
	case SSH_MSG_SERVICE_ACCEPT:
		if (!t->first_kex_done)
			return fail_protocol(t, type, "before the first key exchange completed (RFC 4253 §10)");
		if (peer_in_kex)
			return fail_protocol(t, type, "during key exchange (RFC 4253 §7.1)");
		return 1;
	case SSH_MSG_EXT_INFO:
		/* RFC 8308 §2.4: only after NEWKEYS. */
		if (!t->first_kex_done)
			return fail_protocol(t, type, "before the first NEWKEYS (RFC 8308 §2.4)");
		return on_ext_info(t, msg, len);
	case SSH_MSG_KEXINIT: {
		if (peer_in_kex)
			return fail_protocol(t, type, "repeated in one key exchange (RFC 4253 §7.1)");
		int rc = sshrpc_tr_kex_start(t); /* the peer started: ours goes first */
		if (rc != SSHRPC_OK)
			return rc;
		rc = sshrpc_tr_kexinit_recv(t, msg, len);
		return rc < 0 ? rc : 0;
	}
	case SSH_MSG_NEWKEYS: {
		int rc = sshrpc_tr_kex_newkeys_recv(t, msg, len);
		return rc < 0 ? rc : 0;
	}
	default:
		break;
	}
	if (type >= 30 && type <= 49) {
		if (!peer_in_kex)
			return fail_protocol(t, type, "outside a key exchange (RFC 4253 §7.1)");
		int rc = sshrpc_tr_kex_message(t, msg, len);
		return rc < 0 ? rc : 0;
	}
	if (type < 50) {
		/* §11.4: unknown transport-range numbers get UNIMPLEMENTED. In a
		 * strict initial kex they were refused above. */
		int rc = send_unimplemented(t, t->last_seqnr);
		if (rc != SSHRPC_OK)
			return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_BY_APPLICATION, "cannot send UNIMPLEMENTED");
		sshrpc_tr_log(t, SSHRPC_LOG_INFO, "answered unknown message %u with UNIMPLEMENTED", (unsigned)type);
		return 0;
	}
	if (!t->first_kex_done)
		return fail_protocol(t, type, "before the first key exchange completed (RFC 4253 §7.1)");
	if (peer_in_kex)
		return fail_protocol(t, type, "during key exchange (RFC 4253 §7.1)");
	if (type == SSH_MSG_PING)
		return on_ping(t, msg, len);
	if (type == SSH_MSG_PONG)
		return 0;
	return 1;
}

int sshrpc_tr_maybe_rekey(sshrpc_transport *t)
{
	if (t->state != SSHRPC_TRANSPORT_ESTABLISHED || t->kex_active || t->open)
		return SSHRPC_OK;
	/* RFC 4344 §3.1: also well before the sequence numbers wrap. */
	const uint64_t max_packets = (uint64_t)1 << 31;
	bool due = t->tx.bytes >= t->tx.limit || t->rx.bytes >= t->rx.limit || t->tx.packets >= max_packets ||
		   t->rx.packets >= max_packets;
	if (!due && t->rekey_interval_ms != SSHRPC_REKEY_NEVER && t->now_ms - t->kex_done_ms >= t->rekey_interval_ms)
		due = true;
	if (!due)
		return SSHRPC_OK;
	sshrpc_tr_log(t, SSHRPC_LOG_VERBOSE, "rekey limit reached (%llu bytes out, %llu in)",
		(unsigned long long)t->tx.bytes, (unsigned long long)t->rx.bytes);
	return sshrpc_tr_kex_start(t);
}

int sshrpc_tr_io_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	sshrpc_transport *t = ctx;
	if (t->open)
		return SSHRPC_E_STATE;
	/* The payload lent last time is given back now. */
	t->in_start += t->rx_release;
	t->rx_release = 0;
	for (;;) {
		if (t->state == SSHRPC_TRANSPORT_CLOSED)
			return t->err.code != 0 ? t->err.code : SSHRPC_E_CLOSED;
		int rc;
		if (t->state == SSHRPC_TRANSPORT_VERSION) {
			rc = sshrpc_tr_version_input(t);
			if (rc == SSHRPC_E_AGAIN)
				goto again;
			if (rc != SSHRPC_OK)
				return rc;
			continue;
		}
		uint8_t *p;
		size_t n;
		rc = sshrpc_tr_packet_next(t, &p, &n);
		if (rc == SSHRPC_E_AGAIN)
			goto again;
		if (rc != SSHRPC_OK)
			return rc;
		rc = handle(t, p, n);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			*msg = p;
			*len = n;
			/* A data-limit rekey starts here; the message is still ours. */
			rc = sshrpc_tr_maybe_rekey(t);
			return rc < 0 ? rc : SSHRPC_OK;
		}
		t->in_start += t->rx_release;
		t->rx_release = 0;
		if ((rc = sshrpc_tr_maybe_rekey(t)) < 0)
			return rc;
	}
again:
	if (t->in_eof) {
		size_t left = t->in_end - t->in_start;
		return sshrpc_tr_fail(t, SSHRPC_E_CLOSED, SSH_DISCONNECT_CONNECTION_LOST,
			left > 0 || t->rx_discard > 0 ? "connection closed by the peer in the middle of a packet"
						      : "connection closed by the peer");
	}
	sshrpc_tr_input_compact(t);
	return SSHRPC_E_AGAIN;
}
