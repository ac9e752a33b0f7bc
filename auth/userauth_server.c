/* The server side of ssh-userauth (RFC 4252; keyboard-interactive RFC
 * 4256): the service dialogue, the methods none, publickey, password and
 * keyboard-interactive, OpenSSH's AuthenticationMethods chains with partial
 * success, MaxAuthTries and LoginGraceTime. One function takes a message in
 * a state (srv_handle); what a state does not expect ends the session with
 * a DISCONNECT naming both. */
#include "auth_internal.h"

enum srv_state {
	SRV_WAIT_SERVICE, /* before SERVICE_REQUEST "ssh-userauth" */
	SRV_USERAUTH,	  /* waiting for USERAUTH_REQUEST */
	SRV_KBDINT,	  /* an INFO_REQUEST is outstanding (RFC 4256 §3.2) */
	SRV_DONE,	  /* USERAUTH_SUCCESS sent: the connection layer's turn */
	SRV_CLOSED,	  /* DISCONNECT sent */
};

static const char *const state_names[] = { "waiting for SERVICE_REQUEST", "userauth", "keyboard-interactive",
	"authenticated", "closed" };

enum method { M_NONE, M_PUBLICKEY, M_PASSWORD, M_KBDINT, M_COUNT };
static const char *const method_names[M_COUNT] = { "none", "publickey", "password", "keyboard-interactive" };

#define MAX_CHAINS 16
#define MAX_STEPS 8
#define DEFAULT_PUBKEY_ALGS                                                                                            \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256"

typedef struct chain {
	uint8_t steps[MAX_STEPS];
	uint8_t n;
	uint8_t done;
} chain;

struct sshrpc_auth_server {
	const sshrpc_alloc *alloc;
	sshrpc_auth_server_config cfg;
	sshrpc_msg_io lower;
	sshrpc_msg_io upper;
	enum srv_state state;
	chain chains[MAX_CHAINS];
	size_t n_chains;
	const char *pubkey_algs;
	const char *service;
	uint64_t deadline;
	uint64_t now_ms;
	unsigned max_tries;
	unsigned failures;
	unsigned attempts;
	char user[SSHRPC_AUTH_USER_MAX + 1];
	char req_service[SSHRPC_NAME_MAX + 1];
	bool have_user;
	bool banner_sent;
	char methods_used[160];
	/* The authorized_keys entry of the last publickey step, and the keys
	 * used so far (a chain "publickey,publickey" wants two different ones,
	 * as OpenSSH does). */
	sshrpc_authkeys_entry *entry;
	uint8_t used_keys[MAX_STEPS][32];
	size_t n_used;
	size_t kbd_prompts;
	sshrpc_err err;
};

/* ---- small helpers ------------------------------------------------------- */

static int srv_disconnect(sshrpc_auth_server *s, int code, uint32_t reason, const char *fmt, ...) SSHRPC_PRINTF(4, 5);
static int srv_disconnect(sshrpc_auth_server *s, int code, uint32_t reason, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sshrpc_err_set(&s->err, code, reason, "%s", msg);
	if (s->state != SRV_CLOSED) {
		s->state = SRV_CLOSED;
		auth_logf(s->cfg.log, s->cfg.log_ud, SSHRPC_LOG_INFO, "userauth: disconnecting: %s", msg);
		(void)s->lower.disconnect(s->lower.ctx, reason, msg);
	}
	return code;
}

static int protocol_error(sshrpc_auth_server *s, const char *what)
{
	return srv_disconnect(
		s, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "%s (in state %s)", what, state_names[s->state]);
}

/* A failure of ours to send: the session is over, say so once. */
static int send_failed(sshrpc_auth_server *s, int rc)
{
	const sshrpc_err *le = s->lower.error != NULL ? s->lower.error(s->lower.ctx) : NULL;
	if (le != NULL && le->code != 0)
		sshrpc_err_set(&s->err, le->code, le->reason, "%s", le->msg);
	else
		sshrpc_err_set(&s->err, rc, 0, "userauth: could not send a message: %s", sshrpc_strerror(rc));
	s->state = SRV_CLOSED;
	return rc;
}

static int method_from_name(const uint8_t *p, size_t n)
{
	for (int m = 0; m < M_COUNT; m++)
		if (n == strlen(method_names[m]) && memcmp(p, method_names[m], n) == 0)
			return m;
	return -1;
}

static bool method_enabled(const sshrpc_auth_server_config *c, int m)
{
	switch (m) {
	case M_NONE:
		return true;
	case M_PUBLICKEY:
		return c->pubkey_allowed != NULL;
	case M_PASSWORD:
		return c->password != NULL;
	case M_KBDINT:
		return c->kbdint_start != NULL && c->kbdint_respond != NULL;
	default:
		return false;
	}
}

/* AuthenticationMethods: "any", or space-separated chains of
 * comma-separated methods (sshd_config(5)). */
static int parse_chains(sshrpc_auth_server *s, sshrpc_err *err)
{
	const char *spec = s->cfg.auth_methods;
	if (spec == NULL || strcmp(spec, "any") == 0) {
		for (int m = M_PUBLICKEY; m < M_COUNT; m++) {
			if (!method_enabled(&s->cfg, m))
				continue;
			s->chains[s->n_chains].steps[0] = (uint8_t)m;
			s->chains[s->n_chains].n = 1;
			s->n_chains++;
		}
		if (s->n_chains == 0)
			return sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
				"userauth server: no authentication method is enabled (no callbacks set)");
		return SSHRPC_OK;
	}
	size_t i = 0, len = strlen(spec);
	while (i < len) {
		while (i < len && spec[i] == ' ')
			i++;
		if (i == len)
			break;
		if (s->n_chains == MAX_CHAINS)
			return sshrpc_err_set(
				err, SSHRPC_E_INVALID, 0, "AuthenticationMethods: more than %d lists", MAX_CHAINS);
		chain *c = &s->chains[s->n_chains++];
		for (;;) {
			size_t j = i;
			while (j < len && spec[j] != ',' && spec[j] != ' ' && spec[j] != ':')
				j++;
			int m = method_from_name((const uint8_t *)spec + i, j - i);
			if (m < 0)
				return sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
					"AuthenticationMethods: unknown method '%.*s'", (int)(j - i > 40 ? 40 : j - i),
					spec + i);
			if (!method_enabled(&s->cfg, m))
				return sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
					"AuthenticationMethods: %s is named but its callback is not set",
					method_names[m]);
			if (c->n == MAX_STEPS)
				return sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
					"AuthenticationMethods: more than %d steps", MAX_STEPS);
			if (m == M_NONE && (c->n > 0 || (j < len && spec[j] == ',')))
				return sshrpc_err_set(
					err, SSHRPC_E_INVALID, 0, "AuthenticationMethods: none can only stand alone");
			c->steps[c->n++] = (uint8_t)m;
			/* "keyboard-interactive:bsdauth": the submethod is accepted and
			 * not used. */
			if (j < len && spec[j] == ':')
				while (j < len && spec[j] != ',' && spec[j] != ' ')
					j++;
			i = j;
			if (i < len && spec[i] == ',') {
				i++;
				continue;
			}
			break;
		}
	}
	if (s->n_chains == 0)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "AuthenticationMethods: empty");
	return SSHRPC_OK;
}

static bool method_allowed_now(const sshrpc_auth_server *s, int m)
{
	for (size_t i = 0; i < s->n_chains; i++)
		if (s->chains[i].done < s->chains[i].n && s->chains[i].steps[s->chains[i].done] == m)
			return true;
	return false;
}

/* ---- output ------------------------------------------------------------- */

static int send_failure(sshrpc_auth_server *s, bool partial)
{
	sshrpc_buf *w;
	int rc = s->lower.begin(s->lower.ctx, SSH_MSG_USERAUTH_FAILURE, &w);
	if (rc != SSHRPC_OK)
		return send_failed(s, rc);
	/* RFC 4252 §5.1: the methods that may continue; "none" is never listed
	 * (§5.2). OpenSSH's order. */
	char list[80] = "";
	static const int order[] = { M_PUBLICKEY, M_PASSWORD, M_KBDINT };
	for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
		if (!method_allowed_now(s, order[k]))
			continue;
		if (list[0] != '\0')
			strcat(list, ",");
		strcat(list, method_names[order[k]]);
	}
	rc = sshrpc_buf_put_cstring(w, list);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(w, partial);
	if (rc == SSHRPC_OK)
		rc = s->lower.end(s->lower.ctx);
	return rc == SSHRPC_OK ? rc : send_failed(s, rc);
}

static int send_banner_once(sshrpc_auth_server *s)
{
	if (s->banner_sent || s->cfg.banner == NULL || s->cfg.banner[0] == '\0')
		return SSHRPC_OK;
	s->banner_sent = true;
	sshrpc_buf *w;
	int rc = s->lower.begin(s->lower.ctx, SSH_MSG_USERAUTH_BANNER, &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, s->cfg.banner);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, "");
	if (rc == SSHRPC_OK)
		rc = s->lower.end(s->lower.ctx);
	return rc == SSHRPC_OK ? rc : send_failed(s, rc);
}

/* A failed attempt: counted (unless it was the first "none", which every
 * client sends to learn the methods — OpenSSH does not count it either),
 * then FAILURE, or the DISCONNECT when MaxAuthTries is reached. */
static int attempt_failed(sshrpc_auth_server *s, int m, const char *why)
{
	if (why != NULL)
		auth_logf(s->cfg.log, s->cfg.log_ud, SSHRPC_LOG_VERBOSE, "userauth: %s for user %s failed: %s",
			m >= 0 ? method_names[m] : "unknown method", s->user, why);
	if (m != M_NONE || s->attempts > 1)
		s->failures++;
	if (s->failures >= s->max_tries)
		/* RFC 4252 §4 leaves the reason open; OpenSSH sends
		 * PROTOCOL_ERROR with this text, RFC 4250 has the precise code. */
		return srv_disconnect(s, SSHRPC_E_DENIED, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
			"Too many authentication failures");
	return send_failure(s, false);
}

static void note_method(sshrpc_auth_server *s, int m)
{
	size_t used = strlen(s->methods_used);
	snprintf(s->methods_used + used, sizeof s->methods_used - used, "%s%s", used > 0 ? "," : "", method_names[m]);
}

/* A method succeeded: advance every chain that wanted it next. */
static int method_succeeded(sshrpc_auth_server *s, int m)
{
	note_method(s, m);
	bool complete = false;
	for (size_t i = 0; i < s->n_chains; i++) {
		chain *c = &s->chains[i];
		if (c->done < c->n && c->steps[c->done] == m) {
			c->done++;
			if (c->done == c->n)
				complete = true;
		}
	}
	if (!complete) {
		auth_logf(s->cfg.log, s->cfg.log_ud, SSHRPC_LOG_VERBOSE,
			"userauth: %s for user %s succeeded; more methods required", method_names[m], s->user);
		return send_failure(s, true);
	}
	sshrpc_buf *w;
	int rc = s->lower.begin(s->lower.ctx, SSH_MSG_USERAUTH_SUCCESS, &w);
	if (rc == SSHRPC_OK)
		rc = s->lower.end(s->lower.ctx);
	if (rc != SSHRPC_OK)
		return send_failed(s, rc);
	s->state = SRV_DONE;
	auth_logf(s->cfg.log, s->cfg.log_ud, SSHRPC_LOG_INFO, "userauth: user %s authenticated (%s)", s->user,
		s->methods_used);
	return SSHRPC_OK;
}

/* RFC 4252 §5: a change of user or service flushes what was achieved. */
static void flush_progress(sshrpc_auth_server *s)
{
	for (size_t i = 0; i < s->n_chains; i++)
		s->chains[i].done = 0;
	s->methods_used[0] = '\0';
	s->n_used = 0;
	sshrpc_authkeys_entry_free(s->alloc, s->entry);
	s->entry = NULL;
}

/* ---- publickey (RFC 4252 §7) ---------------------------------------------- */

static int get_session_id(sshrpc_auth_server *s, const uint8_t **id, size_t *len)
{
	if (s->cfg.session_id == NULL || s->cfg.session_id(s->cfg.ud, id, len) != SSHRPC_OK || *len == 0)
		return srv_disconnect(
			s, SSHRPC_E_STATE, SSH_DISCONNECT_BY_APPLICATION, "userauth: no session identifier available");
	return SSHRPC_OK;
}

static int handle_publickey(sshrpc_auth_server *s, sshrpc_reader *r)
{
	bool has_sig;
	const uint8_t *alg, *blob, *sig = NULL;
	size_t alg_len, blob_len, sig_len = 0;
	if (sshrpc_rd_bool(r, &has_sig) != SSHRPC_OK || sshrpc_rd_string(r, &alg, &alg_len) != SSHRPC_OK ||
		sshrpc_rd_string(r, &blob, &blob_len) != SSHRPC_OK)
		return protocol_error(s, "truncated publickey request");
	size_t signed_len = r->off; /* the signature covers the request up to here */
	if (has_sig && sshrpc_rd_string(r, &sig, &sig_len) != SSHRPC_OK)
		return protocol_error(s, "truncated publickey signature");
	if (sshrpc_rd_end(r) != SSHRPC_OK)
		return protocol_error(s, "trailing bytes after publickey request");
	if (alg_len == 0 || alg_len > SSHRPC_NAME_MAX || memchr(alg, 0, alg_len) != NULL)
		return attempt_failed(s, M_PUBLICKEY, "bad algorithm name");
	char algname[SSHRPC_NAME_MAX + 1];
	memcpy(algname, alg, alg_len);
	algname[alg_len] = '\0';
	if (blob_len > SSHRPC_AUTH_BLOB_MAX || sig_len > SSHRPC_AUTH_BLOB_MAX)
		return attempt_failed(s, M_PUBLICKEY, "key or signature too large");
	if (!sshrpc_namelist_has(s->pubkey_algs, strlen(s->pubkey_algs), algname, alg_len))
		return attempt_failed(s, M_PUBLICKEY, "algorithm not accepted");
	/* The algorithm must fit the key: rsa-sha2-* and ssh-rsa go with an
	 * "ssh-rsa" blob, every other name with a blob of its own name. */
	sshrpc_key_type kt = sshrpc_sigalg_key_type(algname, alg_len);
	const char *bt;
	size_t btl;
	if (kt == SSHRPC_KEY_UNKNOWN || auth_blob_type(blob, blob_len, &bt, &btl) != SSHRPC_OK ||
		sshrpc_key_type_from_name(bt, btl) != kt)
		return attempt_failed(s, M_PUBLICKEY, "algorithm does not match the key");
	sshrpc_key *key = NULL;
	if (sshrpc_key_from_blob(s->alloc, blob, blob_len, &key) != SSHRPC_OK)
		return attempt_failed(s, M_PUBLICKEY, "malformed public key");
	uint8_t fp[32];
	int rc = sshrpc_hash(SSHRPC_HASH_SHA256, blob, blob_len, fp);
	bool reused = false;
	for (size_t i = 0; rc == SSHRPC_OK && i < s->n_used; i++)
		if (memcmp(s->used_keys[i], fp, 32) == 0)
			reused = true;
	if (rc != SSHRPC_OK) {
		sshrpc_key_free(key);
		return srv_disconnect(s, rc, SSH_DISCONNECT_BY_APPLICATION, "userauth: hashing failed");
	}

	bool verified = true;
	if (has_sig) {
		const uint8_t *sid;
		size_t sid_len;
		if ((rc = get_session_id(s, &sid, &sid_len)) != SSHRPC_OK) {
			sshrpc_key_free(key);
			return rc;
		}
		/* §7: string session id, then the request as sent, up to and
		 * including the key blob. r->p starts at the message number. */
		sshrpc_buf data;
		sshrpc_buf_init(&data, s->alloc, 0);
		rc = sshrpc_buf_put_string(&data, sid, sid_len);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put(&data, r->p, signed_len);
		if (rc == SSHRPC_OK)
			verified = sshrpc_key_verify(key, algname, sig, sig_len, sshrpc_buf_ptr(&data),
					   sshrpc_buf_len(&data)) == SSHRPC_OK;
		sshrpc_buf_free(&data);
		if (rc != SSHRPC_OK) {
			sshrpc_key_free(key);
			return srv_disconnect(s, rc, SSH_DISCONNECT_BY_APPLICATION, "userauth: out of memory");
		}
	}
	/* The policy is asked whatever the signature said, so that a wrong
	 * key, a bad signature and an unknown user cost the same. */
	const sshrpc_authkeys_entry *entry = NULL;
	bool allowed = s->cfg.pubkey_allowed(s->cfg.ud, s->user, key, s->now_ms, &entry) == SSHRPC_OK;
	if (!allowed || reused) {
		sshrpc_key_free(key);
		return attempt_failed(s, M_PUBLICKEY, reused ? "key already used" : "key not accepted");
	}
	if (!has_sig) {
		sshrpc_key_free(key);
		sshrpc_buf *w;
		rc = s->lower.begin(s->lower.ctx, SSH_MSG_USERAUTH_PK_OK, &w);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_string(w, alg, alg_len);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_string(w, blob, blob_len);
		if (rc == SSHRPC_OK)
			rc = s->lower.end(s->lower.ctx);
		return rc == SSHRPC_OK ? rc : send_failed(s, rc);
	}
	sshrpc_key_free(key);
	if (!verified)
		return attempt_failed(s, M_PUBLICKEY, "signature did not verify");
	sshrpc_authkeys_entry *copy = NULL;
	if (entry != NULL && (rc = sshrpc_authkeys_entry_copy(s->alloc, entry, &copy)) != SSHRPC_OK)
		return srv_disconnect(s, rc, SSH_DISCONNECT_BY_APPLICATION, "userauth: out of memory");
	sshrpc_authkeys_entry_free(s->alloc, s->entry);
	s->entry = copy;
	if (s->n_used < MAX_STEPS)
		memcpy(s->used_keys[s->n_used++], fp, 32);
	return method_succeeded(s, M_PUBLICKEY);
}

/* ---- password (RFC 4252 §8) ------------------------------------------------ */

static int handle_password(sshrpc_auth_server *s, sshrpc_reader *r)
{
	bool change;
	const uint8_t *pw, *newpw;
	size_t pw_len, new_len;
	if (sshrpc_rd_bool(r, &change) != SSHRPC_OK || sshrpc_rd_string(r, &pw, &pw_len) != SSHRPC_OK ||
		(change && sshrpc_rd_string(r, &newpw, &new_len) != SSHRPC_OK))
		return protocol_error(s, "truncated password request");
	if (sshrpc_rd_end(r) != SSHRPC_OK)
		return protocol_error(s, "trailing bytes after password request");
	if (change)
		/* §8: FAILURE without partial success: "password changing was
		 * not supported". */
		return attempt_failed(s, M_PASSWORD, "password change requested (not supported)");
	if (pw_len > SSHRPC_AUTH_PASSWORD_MAX)
		return attempt_failed(s, M_PASSWORD, "password too long");
	char buf[SSHRPC_AUTH_PASSWORD_MAX + 1];
	memcpy(buf, pw, pw_len);
	buf[pw_len] = '\0';
	int res = s->cfg.password(s->cfg.ud, s->user, buf, pw_len);
	sshrpc_wipe(buf, sizeof buf);
	if (res == SSHRPC_OK)
		return method_succeeded(s, M_PASSWORD);
	if (res != SSHRPC_AUTH_PASSWORD_EXPIRED)
		return attempt_failed(s, M_PASSWORD, "wrong password");
	/* An expired password is never accepted (§8); it counts as a failure
	 * so that MaxAuthTries still bounds the guesses. */
	s->failures++;
	if (s->failures >= s->max_tries)
		return srv_disconnect(s, SSHRPC_E_DENIED, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE,
			"Too many authentication failures");
	sshrpc_buf *w;
	int rc = s->lower.begin(s->lower.ctx, SSH_MSG_USERAUTH_PASSWD_CHANGEREQ, &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, "Your password has expired; change it before logging in.");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, "");
	if (rc == SSHRPC_OK)
		rc = s->lower.end(s->lower.ctx);
	return rc == SSHRPC_OK ? rc : send_failed(s, rc);
}

/* ---- keyboard-interactive (RFC 4256) ---------------------------------------- */

static int send_info_request(sshrpc_auth_server *s, const sshrpc_kbdint_challenge *ch)
{
	if (ch->n_prompts > SSHRPC_KBDINT_MAX_PROMPTS)
		return srv_disconnect(s, SSHRPC_E_INVALID, SSH_DISCONNECT_BY_APPLICATION,
			"userauth: keyboard-interactive callback gave too many prompts");
	sshrpc_buf *w;
	int rc = s->lower.begin(s->lower.ctx, SSH_MSG_USERAUTH_INFO_REQUEST, &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, ch->name != NULL ? ch->name : "");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, ch->instruction != NULL ? ch->instruction : "");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, ""); /* language tag, deprecated (§3.2) */
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(w, (uint32_t)ch->n_prompts);
	for (size_t i = 0; rc == SSHRPC_OK && i < ch->n_prompts; i++) {
		rc = sshrpc_buf_put_cstring(w, ch->prompts[i].text != NULL ? ch->prompts[i].text : "");
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_bool(w, ch->prompts[i].echo);
	}
	if (rc == SSHRPC_OK)
		rc = s->lower.end(s->lower.ctx);
	if (rc != SSHRPC_OK)
		return send_failed(s, rc);
	s->kbd_prompts = ch->n_prompts;
	s->state = SRV_KBDINT;
	return SSHRPC_OK;
}

static int handle_kbdint(sshrpc_auth_server *s, sshrpc_reader *r)
{
	const uint8_t *lang, *sub;
	size_t lang_len, sub_len;
	if (sshrpc_rd_string(r, &lang, &lang_len) != SSHRPC_OK || sshrpc_rd_string(r, &sub, &sub_len) != SSHRPC_OK)
		return protocol_error(s, "truncated keyboard-interactive request");
	if (sshrpc_rd_end(r) != SSHRPC_OK)
		return protocol_error(s, "trailing bytes after keyboard-interactive request");
	char subs[256];
	auth_copy_text(subs, sizeof subs, sub, sub_len, true);
	sshrpc_kbdint_challenge ch;
	memset(&ch, 0, sizeof ch);
	if (s->cfg.kbdint_start(s->cfg.ud, s->user, subs, &ch) != SSHRPC_OK)
		return attempt_failed(s, M_KBDINT, "refused");
	return send_info_request(s, &ch);
}

static int handle_info_response(sshrpc_auth_server *s, sshrpc_reader *r)
{
	uint32_t n;
	if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
		return protocol_error(s, "truncated INFO_RESPONSE");
	s->state = SRV_USERAUTH;
	/* RFC 4256 §3.4: a count other than the prompts' is a failure. */
	if (n != s->kbd_prompts || n > SSHRPC_KBDINT_MAX_PROMPTS)
		return attempt_failed(s, M_KBDINT, "number of responses does not match the prompts");
	const uint8_t *p[SSHRPC_KBDINT_MAX_PROMPTS];
	size_t l[SSHRPC_KBDINT_MAX_PROMPTS];
	for (uint32_t i = 0; i < n; i++)
		if (sshrpc_rd_string(r, &p[i], &l[i]) != SSHRPC_OK)
			return protocol_error(s, "truncated INFO_RESPONSE");
	if (sshrpc_rd_end(r) != SSHRPC_OK)
		return protocol_error(s, "trailing bytes after INFO_RESPONSE");
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (l[i] > SSHRPC_AUTH_PASSWORD_MAX)
			return attempt_failed(s, M_KBDINT, "response too long");
		total += l[i] + 1;
	}
	char *store = sshrpc_malloc(s->alloc, total == 0 ? 1 : total);
	if (store == NULL)
		return srv_disconnect(s, SSHRPC_E_NOMEM, SSH_DISCONNECT_BY_APPLICATION, "userauth: out of memory");
	const char *resp[SSHRPC_KBDINT_MAX_PROMPTS];
	size_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(store + off, p[i], l[i]);
		store[off + l[i]] = '\0';
		resp[i] = store + off;
		off += l[i] + 1;
	}
	sshrpc_kbdint_challenge ch;
	memset(&ch, 0, sizeof ch);
	int res = s->cfg.kbdint_respond(s->cfg.ud, s->user, resp, l, n, &ch);
	sshrpc_free_secret(s->alloc, store, total == 0 ? 1 : total);
	if (res == SSHRPC_OK)
		return method_succeeded(s, M_KBDINT);
	if (res == SSHRPC_E_AGAIN)
		return send_info_request(s, &ch);
	return attempt_failed(s, M_KBDINT, "wrong answers");
}

/* ---- the request (RFC 4252 §5) ------------------------------------------------ */

static int handle_request(sshrpc_auth_server *s, const uint8_t *msg, size_t len)
{
	sshrpc_reader r;
	const uint8_t *user, *service, *method;
	size_t user_len, service_len, method_len;
	sshrpc_rd_init(&r, msg, len);
	if (sshrpc_rd_skip(&r, 1) != SSHRPC_OK || sshrpc_rd_string(&r, &user, &user_len) != SSHRPC_OK ||
		sshrpc_rd_string(&r, &service, &service_len) != SSHRPC_OK ||
		sshrpc_rd_string(&r, &method, &method_len) != SSHRPC_OK)
		return protocol_error(s, "truncated USERAUTH_REQUEST");
	if (user_len > SSHRPC_AUTH_USER_MAX || memchr(user, 0, user_len) != NULL)
		return srv_disconnect(s, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_ILLEGAL_USER_NAME,
			"user name of %zu bytes (at most %d, no NUL)", user_len, SSHRPC_AUTH_USER_MAX);
	if (service_len > SSHRPC_NAME_MAX || memchr(service, 0, service_len) != NULL)
		return protocol_error(s, "service name longer than 64 bytes (RFC 4251 §6)");
	/* A new request abandons an unfinished keyboard-interactive exchange,
	 * without a FAILURE for it (RFC 4252 §5.1). */
	if (s->state == SRV_KBDINT)
		s->state = SRV_USERAUTH;
	/* RFC 4252 §5: a service we do not offer is never accepted. */
	if (service_len != strlen(s->service) || memcmp(service, s->service, service_len) != 0)
		return srv_disconnect(s, SSHRPC_E_DENIED, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE,
			"service '%.*s' not available", (int)service_len, (const char *)service);
	if (s->have_user &&
		(user_len != strlen(s->user) || memcmp(user, s->user, user_len) != 0 ||
			service_len != strlen(s->req_service) || memcmp(service, s->req_service, service_len) != 0))
		flush_progress(s);
	memcpy(s->user, user, user_len);
	s->user[user_len] = '\0';
	memcpy(s->req_service, service, service_len);
	s->req_service[service_len] = '\0';
	s->have_user = true;
	s->attempts++;
	int rc = send_banner_once(s);
	if (rc != SSHRPC_OK)
		return rc;
	int m = method_from_name(method, method_len);
	if (m < 0 || !method_allowed_now(s, m)) {
		if (m == M_NONE)
			return attempt_failed(s, M_NONE, NULL);
		char mname[SSHRPC_NAME_MAX + 1];
		auth_copy_text(mname, sizeof mname, method, method_len, true);
		auth_logf(
			s->cfg.log, s->cfg.log_ud, SSHRPC_LOG_VERBOSE, "userauth: method '%s' not allowed now", mname);
		return attempt_failed(s, m, NULL);
	}
	switch (m) {
	case M_NONE:
		if (sshrpc_rd_end(&r) != SSHRPC_OK)
			return protocol_error(s, "trailing bytes after none request");
		return method_succeeded(s, M_NONE);
	case M_PUBLICKEY:
		return handle_publickey(s, &r);
	case M_PASSWORD:
		return handle_password(s, &r);
	default:
		return handle_kbdint(s, &r);
	}
}

static int srv_handle(sshrpc_auth_server *s, const uint8_t *msg, size_t len)
{
	char what[96];
	if (len == 0)
		return protocol_error(s, "empty message");
	uint8_t type = msg[0];
	if (s->state == SRV_WAIT_SERVICE) {
		if (type != SSH_MSG_SERVICE_REQUEST) {
			snprintf(what, sizeof what, "message %u before SERVICE_REQUEST", type);
			return protocol_error(s, what);
		}
		sshrpc_reader r;
		const uint8_t *name;
		size_t name_len;
		sshrpc_rd_init(&r, msg + 1, len - 1);
		if (sshrpc_rd_string(&r, &name, &name_len) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
			return protocol_error(s, "malformed SERVICE_REQUEST");
		if (name_len != 12 || memcmp(name, "ssh-userauth", 12) != 0)
			/* RFC 4253 §10. */
			return srv_disconnect(s, SSHRPC_E_DENIED, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE,
				"service '%.*s' not available", (int)(name_len > 64 ? 64 : name_len),
				(const char *)name);
		sshrpc_buf *w;
		int rc = s->lower.begin(s->lower.ctx, SSH_MSG_SERVICE_ACCEPT, &w);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_cstring(w, "ssh-userauth");
		if (rc == SSHRPC_OK)
			rc = s->lower.end(s->lower.ctx);
		if (rc != SSHRPC_OK)
			return send_failed(s, rc);
		s->state = SRV_USERAUTH;
		return SSHRPC_OK;
	}
	if (type == SSH_MSG_USERAUTH_REQUEST)
		return handle_request(s, msg, len);
	if (type == SSH_MSG_USERAUTH_INFO_RESPONSE && s->state == SRV_KBDINT) {
		sshrpc_reader r;
		sshrpc_rd_init(&r, msg + 1, len - 1);
		return handle_info_response(s, &r);
	}
	if (type >= 80)
		snprintf(what, sizeof what,
			"message %u (connection protocol) before authentication completed "
			"(RFC 4252 §6)",
			type);
	else
		snprintf(what, sizeof what, "unexpected message %u", type);
	return protocol_error(s, what);
}

/* ---- driving --------------------------------------------------------------------- */

int sshrpc_auth_server_process(sshrpc_auth_server *s)
{
	while (s->state != SRV_DONE) {
		if (s->state == SRV_CLOSED)
			return s->err.code != 0 ? s->err.code : SSHRPC_E_CLOSED;
		const uint8_t *msg;
		size_t len;
		int rc = s->lower.recv(s->lower.ctx, &msg, &len);
		if (rc == SSHRPC_E_AGAIN)
			return SSHRPC_OK;
		if (rc != SSHRPC_OK) {
			const sshrpc_err *le = s->lower.error != NULL ? s->lower.error(s->lower.ctx) : NULL;
			if (le != NULL && le->code != 0)
				sshrpc_err_set(&s->err, le->code, le->reason, "%s", le->msg);
			else
				sshrpc_err_set(&s->err, rc, 0, "userauth: transport failed: %s", sshrpc_strerror(rc));
			s->state = SRV_CLOSED;
			return rc;
		}
		rc = srv_handle(s, msg, len);
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

int sshrpc_auth_server_tick(sshrpc_auth_server *s, uint64_t now_ms)
{
	if (now_ms > s->now_ms)
		s->now_ms = now_ms;
	if (s->state == SRV_CLOSED)
		return s->err.code != 0 ? s->err.code : SSHRPC_E_CLOSED;
	if (s->state != SRV_DONE && s->now_ms >= s->deadline)
		return srv_disconnect(s, SSHRPC_E_TIMEOUT, SSH_DISCONNECT_BY_APPLICATION,
			"LoginGraceTime passed before authentication completed");
	return SSHRPC_OK;
}

uint64_t sshrpc_auth_server_next_deadline(const sshrpc_auth_server *s)
{
	if (s->state == SRV_DONE || s->state == SRV_CLOSED)
		return UINT64_MAX;
	return s->deadline;
}

/* ---- the pipe offered to the connection layer ---------------------------------- */

static int up_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	sshrpc_auth_server *s = ctx;
	int rc = sshrpc_auth_server_process(s);
	if (rc != SSHRPC_OK)
		return rc;
	if (s->state != SRV_DONE)
		return SSHRPC_E_AGAIN;
	for (;;) {
		rc = s->lower.recv(s->lower.ctx, msg, len);
		if (rc != SSHRPC_OK)
			return rc;
		if (*len == 0)
			return protocol_error(s, "empty message");
		uint8_t type = (*msg)[0];
		/* RFC 4252 §5.1, §5.3: authentication messages after SUCCESS are
		 * silently ignored. */
		if (type >= 50 && type <= 79)
			continue;
		if (type < 50) {
			char what[64];
			snprintf(what, sizeof what, "unexpected message %u", type);
			return protocol_error(s, what);
		}
		return SSHRPC_OK;
	}
}

static int up_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	sshrpc_auth_server *s = ctx;
	/* The connection layer sends its own messages, and UNIMPLEMENTED for
	 * a message number it does not know (RFC 4253 §11.4). */
	if (s->state != SRV_DONE || (type < 80 && type != SSH_MSG_UNIMPLEMENTED))
		return SSHRPC_E_STATE;
	return s->lower.begin(s->lower.ctx, type, w);
}

static int up_end(void *ctx)
{
	sshrpc_auth_server *s = ctx;
	return s->lower.end(s->lower.ctx);
}

static int up_disconnect(void *ctx, uint32_t reason, const char *description)
{
	sshrpc_auth_server *s = ctx;
	s->state = SRV_CLOSED;
	return s->lower.disconnect(s->lower.ctx, reason, description);
}

static const sshrpc_err *up_error(void *ctx)
{
	sshrpc_auth_server *s = ctx;
	if (s->err.code != 0)
		return &s->err;
	return s->lower.error != NULL ? s->lower.error(s->lower.ctx) : &s->err;
}

/* ---- life cycle ---------------------------------------------------------------- */

int sshrpc_auth_server_new(const sshrpc_auth_server_config *cfg, const sshrpc_msg_io *lower, uint64_t now_ms,
	sshrpc_auth_server **out, sshrpc_err *err)
{
	const sshrpc_alloc *a = cfg->alloc != NULL ? cfg->alloc : sshrpc_alloc_default();
	sshrpc_auth_server *s = sshrpc_calloc(a, sizeof *s);
	if (s == NULL)
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "userauth server: out of memory");
	s->alloc = a;
	s->cfg = *cfg;
	s->lower = *lower;
	s->pubkey_algs = cfg->pubkey_algorithms != NULL ? cfg->pubkey_algorithms : DEFAULT_PUBKEY_ALGS;
	s->service = cfg->service != NULL ? cfg->service : "ssh-connection";
	s->max_tries = cfg->max_auth_tries != 0 ? cfg->max_auth_tries : 6;
	uint64_t grace = cfg->login_grace_ms != 0 ? cfg->login_grace_ms : 120000;
	s->deadline = grace == UINT64_MAX || now_ms > UINT64_MAX - grace ? UINT64_MAX : now_ms + grace;
	s->now_ms = now_ms;
	s->state = SRV_WAIT_SERVICE;
	int rc = SSHRPC_OK;
	if (sshrpc_namelist_check(s->pubkey_algs, strlen(s->pubkey_algs)) != SSHRPC_OK)
		rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "PubkeyAcceptedAlgorithms: not a valid name list");
	if (rc == SSHRPC_OK)
		rc = parse_chains(s, err);
	if (rc != SSHRPC_OK) {
		sshrpc_free(a, s, sizeof *s);
		return rc;
	}
	s->upper.ctx = s;
	s->upper.recv = up_recv;
	s->upper.begin = up_begin;
	s->upper.end = up_end;
	s->upper.disconnect = up_disconnect;
	s->upper.error = up_error;
	*out = s;
	return SSHRPC_OK;
}

void sshrpc_auth_server_free(sshrpc_auth_server *s)
{
	if (s == NULL)
		return;
	sshrpc_authkeys_entry_free(s->alloc, s->entry);
	sshrpc_free_secret(s->alloc, s, sizeof *s);
}

bool sshrpc_auth_server_done(const sshrpc_auth_server *s)
{
	return s->state == SRV_DONE;
}

const char *sshrpc_auth_server_user(const sshrpc_auth_server *s)
{
	return s->state == SRV_DONE ? s->user : NULL;
}

const char *sshrpc_auth_server_methods(const sshrpc_auth_server *s)
{
	return s->methods_used;
}

const sshrpc_authkeys_entry *sshrpc_auth_server_entry(const sshrpc_auth_server *s)
{
	return s->state == SRV_DONE ? s->entry : NULL;
}

unsigned sshrpc_auth_server_failures(const sshrpc_auth_server *s)
{
	return s->failures;
}

const sshrpc_msg_io *sshrpc_auth_server_io(sshrpc_auth_server *s)
{
	return &s->upper;
}

const sshrpc_err *sshrpc_auth_server_error(const sshrpc_auth_server *s)
{
	return &s->err;
}
