/* The transport engine's life cycle, configuration, accessors, the network
 * side (input and output buffers, the clock) and the shared helpers:
 * fatal errors with DISCONNECT, the log and the JSON trace. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sshrpc_config.h"
#include "transport/internal.h"

#define DEFAULT_PENDING_LIMIT ((size_t)1 << 20)
#define DEFAULT_OUTPUT_LIMIT ((size_t)4 << 20)
#define DEFAULT_REKEY_INTERVAL_MS (3600u * 1000u)
/* Read-ahead room beyond one maximal packet, so that small packets can
 * arrive in bulk. */
#define INPUT_SLACK ((size_t)32 * 1024)

int sshrpc_transport_hostkey_accept_any(void *ud, const sshrpc_key *key, const char *alg)
{
	(void)ud;
	(void)key;
	(void)alg;
	return SSHRPC_OK;
}

/* ---- helpers ------------------------------------------------------------------ */

void sshrpc_tr_log(sshrpc_transport *t, int level, const char *fmt, ...)
{
	if (t->cfg.log == NULL || level > t->cfg.log_level)
		return;
	char line[320];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->cfg.log(t->cfg.log_ud, level, line);
}

static void send_disconnect(sshrpc_transport *t, uint32_t reason, const char *desc)
{
	sshrpc_buf *w;
	size_t mark;
	/* A message the layer above left open is dropped: DISCONNECT goes
	 * out right after the last complete packet. */
	if (t->open && !t->open_pending)
		sshrpc_buf_truncate(&t->out, t->open_mark);
	t->open = false;
	if (sshrpc_tr_send_begin(t, SSH_MSG_DISCONNECT, &w, &mark) != SSHRPC_OK)
		return;
	if (sshrpc_buf_put_u32(w, reason) != SSHRPC_OK || sshrpc_buf_put_cstring(w, desc) != SSHRPC_OK ||
		sshrpc_buf_put_cstring(w, "") != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		return;
	}
	(void)sshrpc_tr_send_end(t, mark);
}

int sshrpc_tr_fail(sshrpc_transport *t, int code, uint32_t reason, const char *fmt, ...)
{
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return t->err.code != 0 ? t->err.code : SSHRPC_E_CLOSED;
	char msg[sizeof t->err.msg];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sshrpc_err_set(&t->err, code, reason, "%s", msg);
	sshrpc_tr_log(t, SSHRPC_LOG_ERROR, "%s (%s)", msg, sshrpc_disconnect_reason_name(reason));
	/* The peer is gone for CONNECTION_LOST: nothing to tell it. */
	if (reason != 0 && reason != SSH_DISCONNECT_CONNECTION_LOST)
		send_disconnect(t, reason, msg);
	t->state = SSHRPC_TRANSPORT_CLOSED;
	return code;
}

uint64_t sshrpc_tr_clock(sshrpc_transport *t)
{
	return t->cfg.clock_ns != NULL ? t->cfg.clock_ns(t->cfg.clock_ud) : 0;
}

const char *sshrpc_tr_msg_name(uint8_t type)
{
	switch (type) {
	case SSH_MSG_DISCONNECT:
		return "DISCONNECT";
	case SSH_MSG_IGNORE:
		return "IGNORE";
	case SSH_MSG_UNIMPLEMENTED:
		return "UNIMPLEMENTED";
	case SSH_MSG_DEBUG:
		return "DEBUG";
	case SSH_MSG_SERVICE_REQUEST:
		return "SERVICE_REQUEST";
	case SSH_MSG_SERVICE_ACCEPT:
		return "SERVICE_ACCEPT";
	case SSH_MSG_EXT_INFO:
		return "EXT_INFO";
	case SSH_MSG_KEXINIT:
		return "KEXINIT";
	case SSH_MSG_NEWKEYS:
		return "NEWKEYS";
	case 30:
		return "KEX_INIT";
	case 31:
		return "KEX_REPLY";
	case 32:
		return "KEX_DH_GEX_INIT";
	case 33:
		return "KEX_DH_GEX_REPLY";
	case 34:
		return "KEX_DH_GEX_REQUEST";
	case SSH_MSG_USERAUTH_REQUEST:
		return "USERAUTH_REQUEST";
	case SSH_MSG_USERAUTH_FAILURE:
		return "USERAUTH_FAILURE";
	case SSH_MSG_USERAUTH_SUCCESS:
		return "USERAUTH_SUCCESS";
	case SSH_MSG_USERAUTH_BANNER:
		return "USERAUTH_BANNER";
	case 60:
		return "USERAUTH_60";
	case 61:
		return "USERAUTH_INFO_RESPONSE";
	case SSH_MSG_GLOBAL_REQUEST:
		return "GLOBAL_REQUEST";
	case SSH_MSG_REQUEST_SUCCESS:
		return "REQUEST_SUCCESS";
	case SSH_MSG_REQUEST_FAILURE:
		return "REQUEST_FAILURE";
	case SSH_MSG_CHANNEL_OPEN:
		return "CHANNEL_OPEN";
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION:
		return "CHANNEL_OPEN_CONFIRMATION";
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		return "CHANNEL_OPEN_FAILURE";
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		return "CHANNEL_WINDOW_ADJUST";
	case SSH_MSG_CHANNEL_DATA:
		return "CHANNEL_DATA";
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		return "CHANNEL_EXTENDED_DATA";
	case SSH_MSG_CHANNEL_EOF:
		return "CHANNEL_EOF";
	case SSH_MSG_CHANNEL_CLOSE:
		return "CHANNEL_CLOSE";
	case SSH_MSG_CHANNEL_REQUEST:
		return "CHANNEL_REQUEST";
	case SSH_MSG_CHANNEL_SUCCESS:
		return "CHANNEL_SUCCESS";
	case SSH_MSG_CHANNEL_FAILURE:
		return "CHANNEL_FAILURE";
	default:
		return "UNKNOWN";
	}
}

void sshrpc_tr_trace_packet(sshrpc_transport *t, bool out, uint32_t seq, uint8_t type, size_t payload, size_t padding,
	size_t mac, size_t wire)
{
	if (t->cfg.trace == NULL)
		return;
	char line[256];
	int n = snprintf(line, sizeof line,
		"{\"ev\":\"pkt\",\"t\":%llu,\"dir\":\"%s\",\"seq\":%lu,\"msg\":%u,\"name\":\"%s\","
		"\"payload\":%zu,\"padding\":%zu,\"mac\":%zu,\"wire\":%zu}",
		(unsigned long long)t->now_ms, out ? "out" : "in", (unsigned long)seq, (unsigned)type,
		sshrpc_tr_msg_name(type), payload, padding, mac, wire);
	if (n > 0 && (size_t)n < sizeof line)
		t->cfg.trace(t->cfg.trace_ud, line, (size_t)n);
}

void sshrpc_tr_trace_kex(sshrpc_transport *t, const char *step, uint64_t ns)
{
	if (t->cfg.trace == NULL)
		return;
	char line[256];
	int n = snprintf(line, sizeof line, "{\"ev\":\"kex\",\"t\":%llu,\"step\":\"%s\",\"alg\":\"%s\",\"ns\":%llu}",
		(unsigned long long)t->now_ms, step, t->kex.method != NULL ? t->kex.method->name : "",
		(unsigned long long)ns);
	if (n > 0 && (size_t)n < sizeof line)
		t->cfg.trace(t->cfg.trace_ud, line, (size_t)n);
}

/* ---- creation ----------------------------------------------------------------- */

static char *dup_str(const sshrpc_alloc *a, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = sshrpc_malloc(a, n);
	if (d != NULL)
		memcpy(d, s, n);
	return d;
}

static void free_str(const sshrpc_alloc *a, char *s)
{
	if (s != NULL)
		sshrpc_free(a, s, strlen(s) + 1);
}

/* A configured list, or the default; checked against what was built. */
static int take_list(sshrpc_transport *t, sshrpc_alg_kind kind, const char *cfg, char **out, sshrpc_err *err)
{
	char def[1024];
	const char *src = cfg;
	if (src == NULL) {
		src = sshrpc_algs_default(kind, def, sizeof def);
		if (src == NULL)
			return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "default algorithm list too long");
	}
	int rc = sshrpc_tr_list_check(kind, src, err);
	if (rc != SSHRPC_OK)
		return rc;
	*out = dup_str(t->alloc, src);
	return *out != NULL ? SSHRPC_OK : sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
}

/* Server: the host key algorithms of hostkey_list for which a key is held. */
static int filter_hostkeys(sshrpc_transport *t, sshrpc_err *err)
{
	char *list = t->hostkey_list;
	size_t len = strlen(list), pos = 0, nlen, used = 0;
	const char *name;
	char *outl = sshrpc_malloc(t->alloc, len + 1);
	if (outl == NULL)
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
	outl[0] = '\0';
	while (sshrpc_namelist_next(list, len, &pos, &name, &nlen)) {
		const tr_hostkey_alg *hk = sshrpc_tr_hostkey_lookup(name, nlen);
		bool have = false;
		for (size_t i = 0; hk != NULL && i < t->cfg.n_host_keys; i++)
			if (t->cfg.host_keys[i] != NULL && sshrpc_key_get_type(t->cfg.host_keys[i]) == hk->key_type &&
				sshrpc_key_has_private(t->cfg.host_keys[i]))
				have = true;
		if (!have)
			continue;
		if (used > 0)
			outl[used++] = ',';
		memcpy(outl + used, name, nlen);
		used += nlen;
		outl[used] = '\0';
	}
	sshrpc_free(t->alloc, list, len + 1);
	t->hostkey_list = NULL;
	if (used == 0) {
		sshrpc_free(t->alloc, outl, len + 1);
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "no host key with a private half for any of the host key algorithms");
	}
	/* Shrink to the exact size so that free_str's strlen matches. */
	char *exact = dup_str(t->alloc, outl);
	sshrpc_free(t->alloc, outl, len + 1);
	if (exact == NULL)
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
	t->hostkey_list = exact;
	return SSHRPC_OK;
}

static int check_version(const char *v, sshrpc_err *err)
{
	size_t n = strlen(v);
	if (n < 9 || strncmp(v, "SSH-2.0-", 8) != 0 || n > 253)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
			"version '%.60s' must start with SSH-2.0- and fit in 253 characters (RFC 4253 §4.2)", v);
	for (size_t i = 0; i < n; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return sshrpc_err_set(
				err, SSHRPC_E_INVALID, 0, "version contains a non-printable character (RFC 4253 §4.2)");
	return SSHRPC_OK;
}

int sshrpc_transport_new(const sshrpc_transport_config *cfg, sshrpc_transport **out, sshrpc_err *err)
{
	*out = NULL;
	const sshrpc_alloc *a = cfg->alloc != NULL ? cfg->alloc : sshrpc_alloc_default();
#if !SSHRPC_WITH_CLIENT
	if (cfg->role == SSHRPC_ROLE_CLIENT)
		return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "the client role was not built");
#endif
#if !SSHRPC_WITH_SERVER
	if (cfg->role == SSHRPC_ROLE_SERVER)
		return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "the server role was not built");
#endif
	if (cfg->role != SSHRPC_ROLE_CLIENT && cfg->role != SSHRPC_ROLE_SERVER)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "unknown transport role %d", (int)cfg->role);
	const char *version = cfg->version != NULL ? cfg->version : "SSH-2.0-sshrpc_" SSHRPC_VERSION;
	int rc = check_version(version, err);
	if (rc != SSHRPC_OK)
		return rc;

	sshrpc_transport *t = sshrpc_calloc(a, sizeof *t);
	if (t == NULL)
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
	t->alloc = a;
	t->cfg = *cfg;
	t->cfg.alloc = a;
	t->role = cfg->role;
	t->state = SSHRPC_TRANSPORT_VERSION;
	t->now_ms = cfg->now_ms;
	t->kex_done_ms = cfg->now_ms;
	snprintf(t->version, sizeof t->version, "%s", version);
	t->max_packet = cfg->max_packet == 0 ? SSHRPC_TRANSPORT_DEFAULT_PACKET : cfg->max_packet;
	if (t->max_packet < SSHRPC_TRANSPORT_MIN_PACKET)
		t->max_packet = SSHRPC_TRANSPORT_MIN_PACKET;
	t->pending_limit = cfg->pending_limit != 0 ? cfg->pending_limit : DEFAULT_PENDING_LIMIT;
	t->output_limit = cfg->output_limit != 0 ? cfg->output_limit : DEFAULT_OUTPUT_LIMIT;
	t->rekey_bytes = cfg->rekey_bytes;
	t->rekey_interval_ms = cfg->rekey_interval_ms != 0 ? cfg->rekey_interval_ms : DEFAULT_REKEY_INTERVAL_MS;
	t->tx.block = t->rx.block = 8;
	t->tx.limit = t->rx.limit = UINT64_MAX;

	if ((rc = take_list(t, SSHRPC_ALG_KEX, cfg->kex_algs, &t->kex_list, err)) != SSHRPC_OK ||
		(rc = take_list(t, SSHRPC_ALG_HOSTKEY, cfg->hostkey_algs, &t->hostkey_list, err)) != SSHRPC_OK ||
		(rc = take_list(t, SSHRPC_ALG_CIPHER, cfg->ciphers, &t->cipher_list, err)) != SSHRPC_OK ||
		(rc = take_list(t, SSHRPC_ALG_MAC, cfg->macs, &t->mac_list, err)) != SSHRPC_OK)
		goto fail;
	if (t->role == SSHRPC_ROLE_SERVER && (rc = filter_hostkeys(t, err)) != SSHRPC_OK)
		goto fail;
	if (cfg->server_sig_algs != NULL &&
		(rc = sshrpc_namelist_check(cfg->server_sig_algs, strlen(cfg->server_sig_algs))) != SSHRPC_OK) {
		rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "server-sig-algs is not a valid name-list");
		goto fail;
	}

	/* One maximal packet (length, packet, MAC) plus read-ahead room. */
	t->in_max = t->in_cap = (size_t)t->max_packet + 4 + SSHRPC_HASH_MAX + INPUT_SLACK;
	t->in = sshrpc_malloc(a, t->in_cap);
	sshrpc_buf_init(&t->out, a, t->output_limit + t->pending_limit + 2 * ((size_t)t->max_packet + 1024));
	sshrpc_buf_init(&t->pending, a, t->pending_limit + (size_t)t->max_packet + 1024);
	sshrpc_buf_init(&t->kex.my_kexinit, a, t->max_packet);
	sshrpc_buf_init(&t->kex.peer_kexinit, a, t->max_packet);
	sshrpc_buf_init(&t->kex.gex_p, a, 2048);
	if (t->in == NULL) {
		rc = sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
		goto fail;
	}

	/* RFC 4253 §4.2: the version line, then at once our KEXINIT (§7.1). */
	if ((rc = sshrpc_buf_put(&t->out, t->version, strlen(t->version))) != SSHRPC_OK ||
		(rc = sshrpc_buf_put(&t->out, "\r\n", 2)) != SSHRPC_OK) {
		sshrpc_err_set(err, rc, 0, "out of memory");
		goto fail;
	}
	t->out_done = t->out.len;
	t->stats.bytes_out += t->out.len;
	if ((rc = sshrpc_tr_kex_start(t)) != SSHRPC_OK) {
		sshrpc_err_set(err, rc, 0, "%s", t->err.code != 0 ? t->err.msg : "cannot queue KEXINIT");
		goto fail;
	}
	*out = t;
	return SSHRPC_OK;
fail:
	sshrpc_transport_free(t);
	return rc;
}

void sshrpc_transport_free(sshrpc_transport *t)
{
	if (t == NULL)
		return;
	const sshrpc_alloc *a = t->alloc;
	sshrpc_tr_kex_reset(t);
	sshrpc_buf_free(&t->kex.my_kexinit);
	sshrpc_buf_free(&t->kex.peer_kexinit);
	sshrpc_buf_free(&t->kex.gex_p);
	sshrpc_tr_crypt_free(&t->tx);
	sshrpc_tr_crypt_free(&t->rx);
	if (t->in != NULL) {
		/* Wipe what was ever written, not the whole 256 KiB: pages never
		 * touched need no faulting in just to be zeroed. */
		sshrpc_wipe(t->in, t->in_hwm);
		sshrpc_free(a, t->in, t->in_cap);
	}
	sshrpc_buf_free(&t->out);
	sshrpc_buf_free(&t->pending);
	free_str(a, t->kex_list);
	free_str(a, t->hostkey_list);
	free_str(a, t->cipher_list);
	free_str(a, t->mac_list);
	if (t->server_key != NULL)
		sshrpc_key_free(t->server_key);
	if (t->server_sig_algs != NULL)
		sshrpc_free(a, t->server_sig_algs, t->server_sig_algs_size);
	sshrpc_free_secret(a, t, sizeof *t);
}

/* ---- network side --------------------------------------------------------------- */

uint8_t *sshrpc_transport_input_buffer(sshrpc_transport *t, size_t *room)
{
	/* Bytes move only while no payload is lent to the layer above. */
	if (t->in_end == t->in_cap && t->in_start > 0 && t->rx_release == 0)
		sshrpc_tr_input_compact(t);
	*room = t->state == SSHRPC_TRANSPORT_CLOSED || t->in_eof ? 0 : t->in_cap - t->in_end;
	return t->in + t->in_end;
}

int sshrpc_transport_input_commit(sshrpc_transport *t, size_t n)
{
	if (n > t->in_cap - t->in_end)
		return SSHRPC_E_INVALID;
	t->in_end += n;
	if (t->in_end > t->in_hwm)
		t->in_hwm = t->in_end;
	t->stats.bytes_in += n;
	return SSHRPC_OK;
}

int sshrpc_transport_feed(sshrpc_transport *t, const uint8_t *p, size_t n, size_t *taken)
{
	*taken = 0;
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return t->err.code != 0 ? t->err.code : SSHRPC_E_CLOSED;
	if (n == 0)
		return SSHRPC_OK;
	size_t room;
	uint8_t *dst = sshrpc_transport_input_buffer(t, &room);
	if (room == 0)
		return SSHRPC_E_WOULDBLOCK;
	size_t k = n < room ? n : room;
	memcpy(dst, p, k);
	t->in_end += k;
	if (t->in_end > t->in_hwm)
		t->in_hwm = t->in_end;
	t->stats.bytes_in += k;
	*taken = k;
	return SSHRPC_OK;
}

void sshrpc_transport_input_eof(sshrpc_transport *t)
{
	t->in_eof = true;
}

const uint8_t *sshrpc_transport_output(sshrpc_transport *t, size_t *len)
{
	*len = t->out_done;
	return t->out_done > 0 ? sshrpc_buf_ptr(&t->out) : NULL;
}

void sshrpc_transport_output_consume(sshrpc_transport *t, size_t n)
{
	if (n > t->out_done)
		n = t->out_done;
	sshrpc_buf_consume(&t->out, n);
	t->out_done -= n;
	if (t->open && !t->open_pending)
		t->open_mark -= n;
}

int sshrpc_transport_tick(sshrpc_transport *t, uint64_t now_ms)
{
	if (now_ms > t->now_ms)
		t->now_ms = now_ms;
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return t->err.code != 0 ? t->err.code : SSHRPC_E_CLOSED;
	return sshrpc_tr_maybe_rekey(t);
}

uint64_t sshrpc_transport_next_deadline(const sshrpc_transport *t)
{
	if (t->state != SSHRPC_TRANSPORT_ESTABLISHED || t->kex_active || t->rekey_interval_ms == SSHRPC_REKEY_NEVER)
		return UINT64_MAX;
	if (t->kex_done_ms > UINT64_MAX - t->rekey_interval_ms)
		return UINT64_MAX;
	return t->kex_done_ms + t->rekey_interval_ms;
}

/* ---- upper side --------------------------------------------------------------------- */

static int io_disconnect(void *ctx, uint32_t reason, const char *description)
{
	return sshrpc_transport_disconnect(ctx, reason, description);
}

static const sshrpc_err *io_error(void *ctx)
{
	return sshrpc_transport_error(ctx);
}

sshrpc_msg_io sshrpc_transport_io(sshrpc_transport *t)
{
	sshrpc_msg_io io = {
		.ctx = t,
		.recv = sshrpc_tr_io_recv,
		.begin = sshrpc_tr_io_begin,
		.end = sshrpc_tr_io_end,
		.disconnect = io_disconnect,
		.error = io_error,
	};
	return io;
}

int sshrpc_transport_disconnect(sshrpc_transport *t, uint32_t reason, const char *description)
{
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return SSHRPC_E_CLOSED;
	const char *d = description != NULL ? description : "";
	sshrpc_err_set(&t->err, SSHRPC_E_CLOSED, reason, "disconnected by us: %s", d);
	send_disconnect(t, reason, d);
	t->state = SSHRPC_TRANSPORT_CLOSED;
	return SSHRPC_OK;
}

int sshrpc_transport_rekey(sshrpc_transport *t)
{
	if (t->state != SSHRPC_TRANSPORT_ESTABLISHED || t->kex_active || t->open)
		return SSHRPC_E_STATE;
	return sshrpc_tr_kex_start(t);
}

int sshrpc_transport_send_ignore(sshrpc_transport *t, size_t n)
{
	uint8_t chunk[256];
	sshrpc_buf *w;
	size_t mark, mark2;
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return SSHRPC_E_CLOSED;
	/* Strict kex allows nothing but kex messages in the initial kex. */
	if (t->open || (t->kex_active && t->kex.initial))
		return SSHRPC_E_STATE;
	if (n > t->max_packet - 64)
		return SSHRPC_E_TOO_LARGE;
	int rc = sshrpc_tr_send_begin(t, SSH_MSG_IGNORE, &w, &mark);
	if (rc != SSHRPC_OK)
		return rc;
	if ((rc = sshrpc_buf_string_begin(w, &mark2)) != SSHRPC_OK)
		goto fail;
	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
		if ((rc = sshrpc_random(chunk, k)) != SSHRPC_OK || (rc = sshrpc_buf_put(w, chunk, k)) != SSHRPC_OK)
			goto fail;
		done += k;
	}
	sshrpc_buf_string_end(w, mark2);
	if ((rc = sshrpc_tr_send_end(t, mark)) != SSHRPC_OK)
		return rc;
	return sshrpc_tr_maybe_rekey(t);
fail:
	sshrpc_buf_truncate(&t->out, mark);
	return rc;
}

int sshrpc_transport_ping(sshrpc_transport *t, const void *data, size_t n)
{
	sshrpc_buf *w;
	if (t->role != SSHRPC_ROLE_CLIENT || !t->peer_ping)
		return SSHRPC_E_UNSUPPORTED;
	int rc = sshrpc_tr_io_begin(t, SSH_MSG_PING, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_string(w, data, n);
	if (rc != SSHRPC_OK) {
		t->open = false;
		sshrpc_buf_truncate(t->open_pending ? &t->pending : &t->out, t->open_mark);
		return rc;
	}
	return sshrpc_tr_io_end(t);
}

/* ---- accessors ------------------------------------------------------------------------ */

sshrpc_transport_state sshrpc_transport_get_state(const sshrpc_transport *t)
{
	return t->state;
}

sshrpc_role sshrpc_transport_role(const sshrpc_transport *t)
{
	return t->role;
}

bool sshrpc_transport_in_kex(const sshrpc_transport *t)
{
	return t->kex_active;
}

const uint8_t *sshrpc_transport_session_id(const sshrpc_transport *t, size_t *len)
{
	*len = t->sid_len;
	return t->sid_len > 0 ? t->session_id : NULL;
}

const uint8_t *sshrpc_transport_exchange_hash(const sshrpc_transport *t, size_t *len)
{
	*len = t->h_len;
	return t->h_len > 0 ? t->h : NULL;
}

const sshrpc_transport_algs *sshrpc_transport_get_algs(const sshrpc_transport *t)
{
	return &t->algs;
}

const char *sshrpc_transport_peer_version(const sshrpc_transport *t)
{
	return t->have_peer_version ? t->peer_version : NULL;
}

const sshrpc_key *sshrpc_transport_server_host_key(const sshrpc_transport *t)
{
	return t->server_key;
}

const char *sshrpc_transport_server_sig_algs(const sshrpc_transport *t)
{
	return t->server_sig_algs;
}

const sshrpc_transport_stats *sshrpc_transport_get_stats(const sshrpc_transport *t)
{
	return &t->stats;
}

const sshrpc_err *sshrpc_transport_error(const sshrpc_transport *t)
{
	return &t->err;
}

uint32_t sshrpc_transport_last_seqnr(const sshrpc_transport *t)
{
	return t->last_seqnr;
}
