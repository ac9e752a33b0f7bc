/* The client side of ssh-userauth (RFC 4252; keyboard-interactive RFC
 * 4256). It asks for the service, sends "none" to learn the methods, then
 * tries, in the preferred order, each identity (a query first, so that a
 * passphrase is asked only for a key the server would accept — RFC 4252 §7),
 * keyboard-interactive, and password. */
#include "auth_internal.h"

enum cli_state {
	CLI_START,	 /* SERVICE_REQUEST not sent yet */
	CLI_WAIT_ACCEPT, /* waiting for SERVICE_ACCEPT */
	CLI_WAIT_REPLY,	 /* a USERAUTH_REQUEST is outstanding */
	CLI_DONE,	 /* USERAUTH_SUCCESS received */
	CLI_FAILED,	 /* gave up or the session ended */
};

static const char *const state_names[] = { "start", "waiting for SERVICE_ACCEPT", "waiting for a userauth reply",
	"authenticated", "failed" };

enum pending { P_NONE, P_PK_QUERY, P_PK_SIGNED, P_PASSWORD, P_KBDINT };
static const char *const pending_method[] = { "none", "publickey", "publickey", "password", "keyboard-interactive" };

enum { M_PUBLICKEY, M_KBDINT, M_PASSWORD, M_COUNT };
static const char *const method_names[M_COUNT] = { "publickey", "keyboard-interactive", "password" };

#define KBDINT_TRIES 3
#define RESPONSE_MAX 1024

struct sshrpc_auth_client {
	const sshrpc_alloc *alloc;
	sshrpc_auth_client_config cfg;
	sshrpc_msg_io lower;
	sshrpc_msg_io upper;
	enum cli_state state;
	enum pending pending;
	const char *service;
	int order[M_COUNT];
	size_t n_order;
	size_t next_identity;
	const sshrpc_auth_identity *cur;
	const char *cur_alg;
	const sshrpc_auth_identity *success_id;
	unsigned password_attempts;
	unsigned password_tries;
	unsigned kbdint_attempts;
	bool password_off, kbdint_off;
	sshrpc_buf can_continue; /* the last FAILURE's list */
	char methods_used[160];
	char last_reason[200];
	sshrpc_err err;
};

/* ---- helpers ----------------------------------------------------------------- */

static int cli_fail(sshrpc_auth_client *c, int code, uint32_t reason, const char *fmt, ...) SSHRPC_PRINTF(4, 5);
static int cli_fail(sshrpc_auth_client *c, int code, uint32_t reason, const char *fmt, ...)
{
	char msg[220];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sshrpc_err_set(&c->err, code, reason, "%s", msg);
	if (c->state != CLI_FAILED) {
		c->state = CLI_FAILED;
		(void)c->lower.disconnect(c->lower.ctx, reason, msg);
	}
	return code;
}

static int protocol_error(sshrpc_auth_client *c, const char *what)
{
	return cli_fail(
		c, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "%s (in state %s)", what, state_names[c->state]);
}

static int send_failed(sshrpc_auth_client *c, int rc)
{
	const sshrpc_err *le = c->lower.error != NULL ? c->lower.error(c->lower.ctx) : NULL;
	if (le != NULL && le->code != 0)
		sshrpc_err_set(&c->err, le->code, le->reason, "%s", le->msg);
	else
		sshrpc_err_set(&c->err, rc, 0, "userauth: could not send a message: %s", sshrpc_strerror(rc));
	c->state = CLI_FAILED;
	return rc;
}

static void note_reason(sshrpc_auth_client *c, const char *fmt, ...) SSHRPC_PRINTF(2, 3);
static void note_reason(sshrpc_auth_client *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->last_reason, sizeof c->last_reason, fmt, ap);
	va_end(ap);
	auth_logf(c->cfg.log, c->cfg.log_ud, SSHRPC_LOG_INFO, "userauth: %s", c->last_reason);
}

static void note_method(sshrpc_auth_client *c, const char *m)
{
	size_t used = strlen(c->methods_used);
	snprintf(c->methods_used + used, sizeof c->methods_used - used, "%s%s", used > 0 ? "," : "", m);
}

/* The common head of every request: user, service, method. */
static int begin_request(sshrpc_auth_client *c, const char *method, sshrpc_buf **w)
{
	int rc = c->lower.begin(c->lower.ctx, SSH_MSG_USERAUTH_REQUEST, w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(*w, c->cfg.user);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(*w, c->service);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(*w, method);
	return rc;
}

/* ---- publickey ----------------------------------------------------------------------- */

static const char *identity_alg(sshrpc_auth_client *c, const sshrpc_auth_identity *id)
{
	const char *tn;
	size_t tl;
	if (auth_blob_type(id->pub_blob, id->pub_len, &tn, &tl) != SSHRPC_OK)
		return NULL;
	sshrpc_key_type t = sshrpc_key_type_from_name(tn, tl);
	const char *list = NULL;
	size_t list_len = 0;
	if (t == SSHRPC_KEY_RSA && c->cfg.server_sig_algs != NULL &&
		!c->cfg.server_sig_algs(c->cfg.ud, &list, &list_len))
		list = NULL;
	return sshrpc_auth_choose_sigalg(t, list, list_len);
}

static int send_pk_query(sshrpc_auth_client *c, const sshrpc_auth_identity *id, const char *alg)
{
	sshrpc_buf *w;
	int rc = begin_request(c, "publickey", &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(w, false);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, alg);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(w, id->pub_blob, id->pub_len);
	if (rc == SSHRPC_OK)
		rc = c->lower.end(c->lower.ctx);
	if (rc != SSHRPC_OK)
		return send_failed(c, rc);
	auth_logf(c->cfg.log, c->cfg.log_ud, SSHRPC_LOG_VERBOSE, "userauth: offering %s key %s", alg, id->label);
	c->cur = id;
	c->cur_alg = alg;
	c->pending = P_PK_QUERY;
	return SSHRPC_OK;
}

/* PK_OK came: load the private half, sign, send the signed request. */
static int send_pk_signed(sshrpc_auth_client *c, bool *skipped)
{
	const sshrpc_auth_identity *id = c->cur;
	*skipped = false;
	if (id->load_private != NULL) {
		sshrpc_err e;
		sshrpc_err_clear(&e);
		int rc = id->load_private(id->ud, &e);
		if (rc != SSHRPC_OK) {
			note_reason(c, "%s", e.msg[0] != '\0' ? e.msg : sshrpc_strerror(rc));
			*skipped = true;
			return SSHRPC_OK;
		}
	}
	const uint8_t *sid;
	size_t sid_len;
	if (c->cfg.session_id == NULL || c->cfg.session_id(c->cfg.ud, &sid, &sid_len) != SSHRPC_OK || sid_len == 0)
		return cli_fail(
			c, SSHRPC_E_STATE, SSH_DISCONNECT_BY_APPLICATION, "userauth: no session identifier available");
	/* RFC 4252 §7: the signature covers the session identifier and the
	 * request as it goes out, up to the key blob. */
	sshrpc_buf data, sig;
	sshrpc_buf_init(&data, c->alloc, 0);
	sshrpc_buf_init(&sig, c->alloc, 0);
	int rc = sshrpc_buf_put_string(&data, sid, sid_len);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u8(&data, SSH_MSG_USERAUTH_REQUEST);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&data, c->cfg.user);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&data, c->service);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&data, "publickey");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(&data, true);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&data, c->cur_alg);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(&data, id->pub_blob, id->pub_len);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_free(&data);
		return cli_fail(c, rc, SSH_DISCONNECT_BY_APPLICATION, "userauth: out of memory");
	}
	rc = id->sign(id->ud, c->cur_alg, sshrpc_buf_ptr(&data), sshrpc_buf_len(&data), &sig);
	sshrpc_buf_free(&data);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_free(&sig);
		note_reason(c, "%s: signing with %s failed: %s", id->label, c->cur_alg, sshrpc_strerror(rc));
		*skipped = true;
		return SSHRPC_OK;
	}
	sshrpc_buf *w;
	rc = begin_request(c, "publickey", &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(w, true);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, c->cur_alg);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(w, id->pub_blob, id->pub_len);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(w, sshrpc_buf_ptr(&sig), sshrpc_buf_len(&sig));
	sshrpc_buf_free(&sig);
	if (rc == SSHRPC_OK)
		rc = c->lower.end(c->lower.ctx);
	if (rc != SSHRPC_OK)
		return send_failed(c, rc);
	c->pending = P_PK_SIGNED;
	return SSHRPC_OK;
}

/* ---- choosing the next attempt --------------------------------------------------------- */

static int send_password(sshrpc_auth_client *c, bool *sent)
{
	char pw[SSHRPC_AUTH_PASSWORD_MAX + 1];
	*sent = false;
	c->password_attempts++;
	if (c->cfg.password(c->cfg.ud, c->cfg.user, c->password_attempts, pw, sizeof pw) != SSHRPC_OK) {
		sshrpc_wipe(pw, sizeof pw);
		c->password_off = true;
		return SSHRPC_OK;
	}
	pw[sizeof pw - 1] = '\0';
	sshrpc_buf *w;
	int rc = begin_request(c, "password", &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_bool(w, false);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, pw);
	sshrpc_wipe(pw, sizeof pw);
	if (rc == SSHRPC_OK)
		rc = c->lower.end(c->lower.ctx);
	if (rc != SSHRPC_OK)
		return send_failed(c, rc);
	c->pending = P_PASSWORD;
	c->cur = NULL;
	*sent = true;
	return SSHRPC_OK;
}

static int send_kbdint(sshrpc_auth_client *c)
{
	sshrpc_buf *w;
	c->kbdint_attempts++;
	int rc = begin_request(c, "keyboard-interactive", &w);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, ""); /* language, deprecated */
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(w, ""); /* submethods: the server chooses */
	if (rc == SSHRPC_OK)
		rc = c->lower.end(c->lower.ctx);
	if (rc != SSHRPC_OK)
		return send_failed(c, rc);
	c->pending = P_KBDINT;
	c->cur = NULL;
	return SSHRPC_OK;
}

static int next_attempt(sshrpc_auth_client *c)
{
	const char *list = (const char *)sshrpc_buf_ptr(&c->can_continue);
	size_t list_len = sshrpc_buf_len(&c->can_continue);
	for (size_t k = 0; k < c->n_order; k++) {
		int m = c->order[k];
		const char *name = method_names[m];
		if (!sshrpc_namelist_has(list, list_len, name, strlen(name)))
			continue;
		if (m == M_PUBLICKEY) {
			while (c->next_identity < c->cfg.n_identities) {
				const sshrpc_auth_identity *id = &c->cfg.identities[c->next_identity++];
				const char *alg = identity_alg(c, id);
				if (alg == NULL) {
					note_reason(c, "%s: no signature algorithm the server accepts for this key",
						id->label);
					continue;
				}
				return send_pk_query(c, id, alg);
			}
		} else if (m == M_KBDINT) {
			if (c->cfg.kbdint != NULL && !c->kbdint_off && c->kbdint_attempts < KBDINT_TRIES)
				return send_kbdint(c);
		} else {
			while (c->cfg.password != NULL && !c->password_off &&
				c->password_attempts < c->password_tries) {
				bool sent;
				int rc = send_password(c, &sent);
				if (rc != SSHRPC_OK || sent)
					return rc;
			}
		}
	}
	char shown[128];
	auth_copy_text(shown, sizeof shown, (const uint8_t *)list, list_len, true);
	return cli_fail(c, SSHRPC_E_DENIED, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, "Permission denied (%s)%s%s",
		shown, c->last_reason[0] != '\0' ? ": " : "", c->last_reason);
}

/* ---- messages ------------------------------------------------------------------------------ */

static int handle_banner(sshrpc_auth_client *c, sshrpc_reader *r)
{
	const uint8_t *text, *lang;
	size_t text_len, lang_len;
	if (sshrpc_rd_string(r, &text, &text_len) != SSHRPC_OK || sshrpc_rd_string(r, &lang, &lang_len) != SSHRPC_OK)
		return protocol_error(c, "malformed USERAUTH_BANNER");
	if (c->cfg.banner != NULL) {
		/* RFC 4252 §5.4: filter control characters before display. */
		char shown[SSHRPC_AUTH_TEXT_MAX + 1];
		auth_copy_text(shown, sizeof shown, text, text_len, true);
		c->cfg.banner(c->cfg.ud, shown);
	}
	return SSHRPC_OK;
}

static int handle_failure(sshrpc_auth_client *c, sshrpc_reader *r)
{
	const char *list;
	size_t list_len;
	bool partial;
	if (sshrpc_rd_namelist(r, &list, &list_len) != SSHRPC_OK || sshrpc_rd_bool(r, &partial) != SSHRPC_OK)
		return protocol_error(c, "malformed USERAUTH_FAILURE");
	sshrpc_buf_reset(&c->can_continue);
	if (sshrpc_buf_put(&c->can_continue, list, list_len) != SSHRPC_OK)
		return protocol_error(c, "USERAUTH_FAILURE method list too long");
	if (partial) {
		note_method(c, pending_method[c->pending]);
		auth_logf(c->cfg.log, c->cfg.log_ud, SSHRPC_LOG_VERBOSE,
			"userauth: %s succeeded with partial success; more methods required",
			pending_method[c->pending]);
	} else if (c->pending == P_PK_SIGNED) {
		note_reason(c, "%s: signature refused", c->cur->label);
	} else if (c->pending == P_PASSWORD) {
		note_reason(c, "password refused");
	} else if (c->pending == P_KBDINT) {
		note_reason(c, "keyboard-interactive refused");
	}
	return next_attempt(c);
}

static int handle_60(sshrpc_auth_client *c, sshrpc_reader *r)
{
	if (c->pending == P_PK_QUERY) {
		const uint8_t *alg, *blob;
		size_t alg_len, blob_len;
		if (sshrpc_rd_string(r, &alg, &alg_len) != SSHRPC_OK ||
			sshrpc_rd_string(r, &blob, &blob_len) != SSHRPC_OK)
			return protocol_error(c, "malformed USERAUTH_PK_OK");
		/* RFC 4252 §7: PK_OK echoes the algorithm and blob of the query. */
		if (alg_len != strlen(c->cur_alg) || memcmp(alg, c->cur_alg, alg_len) != 0 ||
			blob_len != c->cur->pub_len || memcmp(blob, c->cur->pub_blob, blob_len) != 0)
			return protocol_error(c, "USERAUTH_PK_OK for a key that was not offered");
		bool skipped;
		int rc = send_pk_signed(c, &skipped);
		if (rc != SSHRPC_OK || !skipped)
			return rc;
		return next_attempt(c);
	}
	if (c->pending == P_PASSWORD) {
		const uint8_t *prompt, *lang;
		size_t prompt_len, lang_len;
		if (sshrpc_rd_string(r, &prompt, &prompt_len) != SSHRPC_OK ||
			sshrpc_rd_string(r, &lang, &lang_len) != SSHRPC_OK)
			return protocol_error(c, "malformed USERAUTH_PASSWD_CHANGEREQ");
		/* RFC 4252 §8 lets the client go on with another method; changing
		 * a password is not something an RPC client does. */
		char shown[160];
		auth_copy_text(shown, sizeof shown, prompt, prompt_len, true);
		for (char *p = shown; *p != '\0'; p++)
			if (*p == '\n' || *p == '\r')
				*p = ' ';
		note_reason(c, "the server requires a password change (\"%s\"); sshrpc cannot change passwords", shown);
		c->password_off = true;
		return next_attempt(c);
	}
	if (c->pending == P_KBDINT) {
		const uint8_t *name, *instr, *lang;
		size_t name_len, instr_len, lang_len;
		uint32_t n;
		if (sshrpc_rd_string(r, &name, &name_len) != SSHRPC_OK ||
			sshrpc_rd_string(r, &instr, &instr_len) != SSHRPC_OK ||
			sshrpc_rd_string(r, &lang, &lang_len) != SSHRPC_OK || sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return protocol_error(c, "malformed USERAUTH_INFO_REQUEST");
		if (n > SSHRPC_KBDINT_MAX_PROMPTS) {
			note_reason(c, "keyboard-interactive: %u prompts (at most %d)", (unsigned)n,
				SSHRPC_KBDINT_MAX_PROMPTS);
			c->kbdint_off = true;
			return next_attempt(c);
		}
		char texts[SSHRPC_KBDINT_MAX_PROMPTS][256];
		sshrpc_kbdint_prompt prompts[SSHRPC_KBDINT_MAX_PROMPTS];
		char sname[256], sinstr[SSHRPC_AUTH_TEXT_MAX + 1];
		for (uint32_t i = 0; i < n; i++) {
			const uint8_t *pt;
			size_t pl;
			bool echo;
			if (sshrpc_rd_string(r, &pt, &pl) != SSHRPC_OK || sshrpc_rd_bool(r, &echo) != SSHRPC_OK)
				return protocol_error(c, "malformed USERAUTH_INFO_REQUEST");
			auth_copy_text(texts[i], sizeof texts[i], pt, pl, true);
			prompts[i].text = texts[i];
			prompts[i].echo = echo;
			prompts[i].response = NULL;
			prompts[i].response_cap = RESPONSE_MAX;
		}
		if (sshrpc_rd_end(r) != SSHRPC_OK)
			return protocol_error(c, "trailing bytes after USERAUTH_INFO_REQUEST");
		auth_copy_text(sname, sizeof sname, name, name_len, true);
		auth_copy_text(sinstr, sizeof sinstr, instr, instr_len, true);
		char *answers = sshrpc_calloc(c->alloc, (size_t)(n == 0 ? 1 : n) * RESPONSE_MAX);
		if (answers == NULL)
			return cli_fail(c, SSHRPC_E_NOMEM, SSH_DISCONNECT_BY_APPLICATION, "userauth: out of memory");
		for (uint32_t i = 0; i < n; i++)
			prompts[i].response = answers + (size_t)i * RESPONSE_MAX;
		int rc;
		if (c->cfg.kbdint(c->cfg.ud, sname, sinstr, prompts, n) != SSHRPC_OK) {
			sshrpc_free_secret(c->alloc, answers, (size_t)(n == 0 ? 1 : n) * RESPONSE_MAX);
			note_reason(c, "keyboard-interactive: no answer given");
			c->kbdint_off = true;
			return next_attempt(c);
		}
		sshrpc_buf *w;
		rc = c->lower.begin(c->lower.ctx, SSH_MSG_USERAUTH_INFO_RESPONSE, &w);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_u32(w, n);
		for (uint32_t i = 0; rc == SSHRPC_OK && i < n; i++) {
			prompts[i].response[RESPONSE_MAX - 1] = '\0';
			rc = sshrpc_buf_put_cstring(w, prompts[i].response);
		}
		sshrpc_free_secret(c->alloc, answers, (size_t)(n == 0 ? 1 : n) * RESPONSE_MAX);
		if (rc == SSHRPC_OK)
			rc = c->lower.end(c->lower.ctx);
		return rc == SSHRPC_OK ? rc : send_failed(c, rc);
	}
	return protocol_error(c, "unexpected message 60");
}

static int cli_handle(sshrpc_auth_client *c, const uint8_t *msg, size_t len)
{
	char what[96];
	if (len == 0)
		return protocol_error(c, "empty message");
	uint8_t type = msg[0];
	sshrpc_reader r;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (type == SSH_MSG_USERAUTH_BANNER && c->state != CLI_START)
		return handle_banner(c, &r);
	if (c->state == CLI_WAIT_ACCEPT) {
		const uint8_t *name;
		size_t name_len;
		if (type != SSH_MSG_SERVICE_ACCEPT) {
			snprintf(what, sizeof what, "message %u instead of SERVICE_ACCEPT", type);
			return protocol_error(c, what);
		}
		if (sshrpc_rd_string(&r, &name, &name_len) != SSHRPC_OK || name_len != 12 ||
			memcmp(name, "ssh-userauth", 12) != 0)
			return protocol_error(c, "SERVICE_ACCEPT for another service than ssh-userauth");
		/* "none" first: its FAILURE lists the methods (RFC 4252 §5.2). */
		sshrpc_buf *w;
		int rc = begin_request(c, "none", &w);
		if (rc == SSHRPC_OK)
			rc = c->lower.end(c->lower.ctx);
		if (rc != SSHRPC_OK)
			return send_failed(c, rc);
		c->state = CLI_WAIT_REPLY;
		c->pending = P_NONE;
		return SSHRPC_OK;
	}
	switch (type) {
	case SSH_MSG_USERAUTH_SUCCESS:
		note_method(c, pending_method[c->pending]);
		if (c->pending == P_PK_SIGNED)
			c->success_id = c->cur;
		c->state = CLI_DONE;
		auth_logf(c->cfg.log, c->cfg.log_ud, SSHRPC_LOG_INFO, "userauth: authenticated as %s (%s)", c->cfg.user,
			c->methods_used);
		return SSHRPC_OK;
	case SSH_MSG_USERAUTH_FAILURE:
		return handle_failure(c, &r);
	case SSH_MSG_USERAUTH_60:
		return handle_60(c, &r);
	default:
		if (type >= 80)
			snprintf(what, sizeof what, "message %u (connection protocol) before USERAUTH_SUCCESS", type);
		else
			snprintf(what, sizeof what, "unexpected message %u", type);
		return protocol_error(c, what);
	}
}

/* ---- driving ------------------------------------------------------------------------------------- */

int sshrpc_auth_client_process(sshrpc_auth_client *c)
{
	if (c->state == CLI_START) {
		sshrpc_buf *w;
		int rc = c->lower.begin(c->lower.ctx, SSH_MSG_SERVICE_REQUEST, &w);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_cstring(w, "ssh-userauth");
		if (rc == SSHRPC_OK)
			rc = c->lower.end(c->lower.ctx);
		if (rc != SSHRPC_OK)
			return send_failed(c, rc);
		c->state = CLI_WAIT_ACCEPT;
	}
	while (c->state != CLI_DONE) {
		if (c->state == CLI_FAILED)
			return c->err.code != 0 ? c->err.code : SSHRPC_E_CLOSED;
		const uint8_t *msg;
		size_t len;
		int rc = c->lower.recv(c->lower.ctx, &msg, &len);
		if (rc == SSHRPC_E_AGAIN)
			return SSHRPC_OK;
		if (rc != SSHRPC_OK) {
			const sshrpc_err *le = c->lower.error != NULL ? c->lower.error(c->lower.ctx) : NULL;
			if (le != NULL && le->code != 0)
				sshrpc_err_set(&c->err, le->code, le->reason, "%s", le->msg);
			else
				sshrpc_err_set(&c->err, rc, 0, "userauth: transport failed: %s", sshrpc_strerror(rc));
			c->state = CLI_FAILED;
			return rc;
		}
		rc = cli_handle(c, msg, len);
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

static int up_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	sshrpc_auth_client *c = ctx;
	int rc = sshrpc_auth_client_process(c);
	if (rc != SSHRPC_OK)
		return rc;
	if (c->state != CLI_DONE)
		return SSHRPC_E_AGAIN;
	for (;;) {
		rc = c->lower.recv(c->lower.ctx, msg, len);
		if (rc != SSHRPC_OK)
			return rc;
		if (*len == 0)
			return protocol_error(c, "empty message");
		uint8_t type = (*msg)[0];
		/* RFC 4252 §5.3: authentication messages after SUCCESS are ignored. */
		if (type >= 50 && type <= 79)
			continue;
		if (type < 50) {
			char what[64];
			snprintf(what, sizeof what, "unexpected message %u", type);
			return protocol_error(c, what);
		}
		return SSHRPC_OK;
	}
}

static int up_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	sshrpc_auth_client *c = ctx;
	/* The connection layer sends its own messages, and UNIMPLEMENTED for
	 * a message number it does not know (RFC 4253 §11.4). */
	if (c->state != CLI_DONE || (type < 80 && type != SSH_MSG_UNIMPLEMENTED))
		return SSHRPC_E_STATE;
	return c->lower.begin(c->lower.ctx, type, w);
}

static int up_end(void *ctx)
{
	sshrpc_auth_client *c = ctx;
	return c->lower.end(c->lower.ctx);
}

static int up_disconnect(void *ctx, uint32_t reason, const char *description)
{
	sshrpc_auth_client *c = ctx;
	c->state = CLI_FAILED;
	return c->lower.disconnect(c->lower.ctx, reason, description);
}

static const sshrpc_err *up_error(void *ctx)
{
	sshrpc_auth_client *c = ctx;
	if (c->err.code != 0)
		return &c->err;
	return c->lower.error != NULL ? c->lower.error(c->lower.ctx) : &c->err;
}

/* ---- life cycle ------------------------------------------------------------------------------------ */

int sshrpc_auth_client_new(
	const sshrpc_auth_client_config *cfg, const sshrpc_msg_io *lower, sshrpc_auth_client **out, sshrpc_err *err)
{
	const sshrpc_alloc *a = cfg->alloc != NULL ? cfg->alloc : sshrpc_alloc_default();
	if (cfg->user == NULL || strlen(cfg->user) > SSHRPC_AUTH_USER_MAX)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "userauth client: user name missing or too long");
	for (size_t i = 0; i < cfg->n_identities; i++)
		if (cfg->identities[i].sign == NULL || cfg->identities[i].pub_blob == NULL)
			return sshrpc_err_set(
				err, SSHRPC_E_INVALID, 0, "userauth client: identity %zu lacks a key or sign", i);
	sshrpc_auth_client *c = sshrpc_calloc(a, sizeof *c);
	if (c == NULL)
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "userauth client: out of memory");
	c->alloc = a;
	c->cfg = *cfg;
	c->lower = *lower;
	c->service = cfg->service != NULL ? cfg->service : "ssh-connection";
	c->password_tries = cfg->password_tries != 0 ? cfg->password_tries : 3;
	sshrpc_buf_init(&c->can_continue, a, 4096);
	const char *pref = cfg->preferred != NULL ? cfg->preferred : "publickey,keyboard-interactive,password";
	size_t plen = strlen(pref), pos = 0, nl;
	const char *name;
	if (sshrpc_namelist_check(pref, plen) != SSHRPC_OK) {
		sshrpc_free(a, c, sizeof *c);
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "PreferredAuthentications: not a valid name list");
	}
	while (sshrpc_namelist_next(pref, plen, &pos, &name, &nl)) {
		for (int m = 0; m < M_COUNT; m++) {
			bool seen = false;
			for (size_t k = 0; k < c->n_order; k++)
				seen |= c->order[k] == m;
			if (!seen && nl == strlen(method_names[m]) && memcmp(name, method_names[m], nl) == 0)
				c->order[c->n_order++] = m;
		}
	}
	c->upper.ctx = c;
	c->upper.recv = up_recv;
	c->upper.begin = up_begin;
	c->upper.end = up_end;
	c->upper.disconnect = up_disconnect;
	c->upper.error = up_error;
	*out = c;
	return SSHRPC_OK;
}

void sshrpc_auth_client_free(sshrpc_auth_client *c)
{
	if (c == NULL)
		return;
	sshrpc_buf_free(&c->can_continue);
	sshrpc_free_secret(c->alloc, c, sizeof *c);
}

bool sshrpc_auth_client_done(const sshrpc_auth_client *c)
{
	return c->state == CLI_DONE;
}

const sshrpc_auth_identity *sshrpc_auth_client_identity(const sshrpc_auth_client *c)
{
	return c->success_id;
}

const char *sshrpc_auth_client_methods(const sshrpc_auth_client *c)
{
	return c->methods_used;
}

const sshrpc_msg_io *sshrpc_auth_client_io(sshrpc_auth_client *c)
{
	return &c->upper;
}

const sshrpc_err *sshrpc_auth_client_error(const sshrpc_auth_client *c)
{
	return &c->err;
}
