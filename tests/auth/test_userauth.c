/* The userauth client and server state machines wired together in one
 * process over fake message pipes (no transport), and the server fed
 * hand-made messages: publickey (a client offering refused keys before the
 * right one, encrypted keys whose passphrase is asked only after PK_OK),
 * password, keyboard-interactive, partial success, MaxAuthTries,
 * LoginGraceTime, signatures over the wrong session id, wrong algorithm
 * names, oversized fields, requests after success, and the answers for an
 * unknown user and a wrong key being the same bytes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth_test.h"
#include "fake_pipe.h"

#define MAX_IDS 12

typedef struct world {
	fp_end c_end, s_end; /* c_end is the client's pipe, s_end the server's */
	sshrpc_auth_server *srv;
	sshrpc_auth_client *cli;
	sshrpc_auth_server_config scfg;
	sshrpc_auth_client_config ccfg;
	uint8_t sid_c[32], sid_s[32];
	sshrpc_authkeys *ak;
	const char *allowed_user;
	unsigned policy_calls;
	/* server password */
	const char *right_password;
	int password_result_override;
	unsigned server_pw_calls;
	/* client answers */
	const char *client_passwords[4];
	unsigned client_pw_calls;
	const char *passphrases[4];
	unsigned passphrase_calls;
	unsigned kbd_rounds, kbd_round;
	const char *kbd_answers[2];
	unsigned kbd_client_calls;
	char banner[512];
	const char *server_sig_algs;
	sshrpc_key *keys[MAX_IDS];
	sshrpc_key_identity kid[MAX_IDS];
	sshrpc_auth_identity ids[MAX_IDS];
	size_t n_ids;
	at_logbuf slog, clog;
} world;

/* ---- callbacks -------------------------------------------------------------- */

static int sid_server(void *ud, const uint8_t **id, size_t *len)
{
	world *w = ud;
	*id = w->sid_s;
	*len = sizeof w->sid_s;
	return SSHRPC_OK;
}

static int sid_client(void *ud, const uint8_t **id, size_t *len)
{
	world *w = ud;
	*id = w->sid_c;
	*len = sizeof w->sid_c;
	return SSHRPC_OK;
}

static int policy(
	void *ud, const char *user, const sshrpc_key *key, uint64_t now_ms, const sshrpc_authkeys_entry **entry)
{
	world *w = ud;
	w->policy_calls++;
	sshrpc_authkeys_ctx ctx = { "192.0.2.1", NULL, now_ms / 1000, 0 };
	/* The lookup runs for every user name, known or not. */
	int rc = sshrpc_authkeys_lookup(w->ak, key, &ctx, entry, NULL, 0);
	if (strcmp(user, w->allowed_user) != 0)
		return SSHRPC_E_DENIED;
	return rc;
}

static int server_password(void *ud, const char *user, const char *pw, size_t len)
{
	world *w = ud;
	w->server_pw_calls++;
	if (w->password_result_override != 0)
		return w->password_result_override;
	if (strcmp(user, w->allowed_user) == 0 && len == strlen(w->right_password) &&
		strcmp(pw, w->right_password) == 0)
		return SSHRPC_OK;
	return SSHRPC_E_DENIED;
}

static int kbd_start(void *ud, const char *user, const char *submethods, sshrpc_kbdint_challenge *ch)
{
	world *w = ud;
	w->kbd_round = 0;
	ch->name = "Login";
	ch->instruction = "Answer\x1b[31m two questions";
	ch->n_prompts = 1;
	ch->prompts[0].text = "Password: ";
	ch->prompts[0].echo = false;
	return SSHRPC_OK;
}

static int kbd_respond(void *ud, const char *user, const char *const *responses, const size_t *lens, size_t n,
	sshrpc_kbdint_challenge *ch)
{
	world *w = ud;
	static const char *const want[] = { "secret", "123456" };
	if (n != 1 || strcmp(responses[0], want[w->kbd_round]) != 0 || strcmp(user, w->allowed_user) != 0)
		return SSHRPC_E_DENIED;
	w->kbd_round++;
	if (w->kbd_round < w->kbd_rounds) {
		ch->name = "";
		ch->instruction = "";
		ch->n_prompts = 1;
		ch->prompts[0].text = "One-time code: ";
		ch->prompts[0].echo = true;
		return SSHRPC_E_AGAIN;
	}
	return SSHRPC_OK;
}

static int client_password(void *ud, const char *user, unsigned attempt, char *out, size_t cap)
{
	world *w = ud;
	w->client_pw_calls++;
	if (attempt > 4 || w->client_passwords[attempt - 1] == NULL)
		return SSHRPC_E_DENIED;
	snprintf(out, cap, "%s", w->client_passwords[attempt - 1]);
	return SSHRPC_OK;
}

static int client_kbd(void *ud, const char *name, const char *instruction, sshrpc_kbdint_prompt *p, size_t n)
{
	world *w = ud;
	w->kbd_client_calls++;
	/* Control characters in server text are filtered. */
	cr_assert_null(strchr(instruction, '\x1b'));
	if (n != 1)
		return SSHRPC_E_DENIED;
	unsigned k = strstr(p[0].text, "code") != NULL ? 1 : 0;
	cr_assert_eq(p[0].echo, k == 1);
	snprintf(p[0].response, p[0].response_cap, "%s", w->kbd_answers[k]);
	return SSHRPC_OK;
}

static void client_banner(void *ud, const char *text)
{
	world *w = ud;
	snprintf(w->banner, sizeof w->banner, "%s", text);
}

static bool sig_algs(void *ud, const char **list, size_t *len)
{
	world *w = ud;
	if (w->server_sig_algs == NULL)
		return false;
	*list = w->server_sig_algs;
	*len = strlen(w->server_sig_algs);
	return true;
}

static int passphrase(void *ud, const char *label, unsigned attempt, char *out, size_t cap)
{
	world *w = ud;
	w->passphrase_calls++;
	if (attempt > 4 || w->passphrases[attempt - 1] == NULL)
		return SSHRPC_E_PASSPHRASE;
	snprintf(out, cap, "%s", w->passphrases[attempt - 1]);
	return SSHRPC_OK;
}

/* ---- set-up ---------------------------------------------------------------------- */

static void world_init(world *w)
{
	memset(w, 0, sizeof *w);
	fp_pair(&w->c_end, &w->s_end);
	memset(w->sid_c, 0x5a, sizeof w->sid_c);
	memset(w->sid_s, 0x5a, sizeof w->sid_s);
	w->allowed_user = "alice";
	w->right_password = "secret";
	w->kbd_rounds = 1;
	w->kbd_answers[0] = "secret";
	w->kbd_answers[1] = "123456";
	w->scfg.session_id = sid_server;
	w->scfg.pubkey_allowed = policy;
	w->scfg.ud = w;
	w->scfg.log = at_log;
	w->scfg.log_ud = &w->slog;
	w->ccfg.user = "alice";
	w->ccfg.session_id = sid_client;
	w->ccfg.server_sig_algs = sig_algs;
	w->ccfg.banner = client_banner;
	w->ccfg.ud = w;
	w->ccfg.log = at_log;
	w->ccfg.log_ud = &w->clog;
	w->server_sig_algs = "ssh-ed25519,ecdsa-sha2-nistp256,rsa-sha2-512,rsa-sha2-256";
}

/* n fresh in-memory keys as client identities; those in `authorized`
 * (a bit mask) go into authorized_keys, after 9 unrelated lines. */
static void add_keys(world *w, size_t n, sshrpc_key_type t, unsigned authorized)
{
	sshrpc_buf ak;
	sshrpc_buf_init(&ak, NULL, 0);
	for (size_t i = 0; i < 9; i++) {
		sshrpc_key *other = NULL;
		cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &other), SSHRPC_OK);
		cr_assert_eq(sshrpc_pubkey_format(other, "unrelated", &ak), SSHRPC_OK);
		sshrpc_key_free(other);
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = w->n_ids++;
		cr_assert_eq(sshrpc_key_generate(NULL, t, 2048, &w->keys[k]), SSHRPC_OK);
		char label[32];
		snprintf(label, sizeof label, "key%zu", k);
		cr_assert_eq(sshrpc_key_identity_init(&w->kid[k], w->keys[k], strdup(label)), SSHRPC_OK);
		w->ids[k] = w->kid[k].id;
		if (authorized & (1u << i)) {
			cr_assert_eq(sshrpc_buf_put(&ak, "rpc-allow=\"sys:*\" ", 18), SSHRPC_OK);
			cr_assert_eq(sshrpc_pubkey_format(w->keys[k], label, &ak), SSHRPC_OK);
		}
	}
	sshrpc_authkeys_free(w->ak);
	cr_assert_eq(sshrpc_authkeys_parse(NULL, "authorized_keys", sshrpc_buf_ptr(&ak), sshrpc_buf_len(&ak), at_log,
			     &w->slog, &w->ak),
		SSHRPC_OK);
	sshrpc_buf_free(&ak);
	w->ccfg.identities = w->ids;
	w->ccfg.n_identities = w->n_ids;
}

static void start_server(world *w)
{
	sshrpc_err err;
	sshrpc_err_clear(&err);
	cr_assert_eq(sshrpc_auth_server_new(&w->scfg, &w->s_end.io, 1000, &w->srv, &err), SSHRPC_OK, "%s", err.msg);
}

static void start(world *w)
{
	start_server(w);
	sshrpc_err err;
	sshrpc_err_clear(&err);
	cr_assert_eq(sshrpc_auth_client_new(&w->ccfg, &w->c_end.io, &w->cli, &err), SSHRPC_OK, "%s", err.msg);
}

static void pump(world *w)
{
	for (int i = 0; i < 500; i++) {
		unsigned before = w->c_end.sent + w->s_end.sent;
		/* Either side may have ended; the tests look at the states. */
		int rc_c = sshrpc_auth_client_process(w->cli);
		int rc_s = sshrpc_auth_server_process(w->srv);
		(void)rc_c;
		(void)rc_s;
		if (w->c_end.sent + w->s_end.sent == before && fp_pending(&w->c_end) == 0 && fp_pending(&w->s_end) == 0)
			return;
	}
	cr_assert_fail("pump did not settle");
}

static void world_free(world *w)
{
	sshrpc_auth_client_free(w->cli);
	sshrpc_auth_server_free(w->srv);
	for (size_t i = 0; i < w->n_ids; i++) {
		free((char *)w->kid[i].id.label);
		sshrpc_key_identity_free(&w->kid[i]);
		sshrpc_key_free(w->keys[i]);
	}
	sshrpc_authkeys_free(w->ak);
	fp_free(&w->c_end);
	fp_free(&w->s_end);
}

/* ---- both roles together -------------------------------------------------------------- */

Test(userauth, publickey_then_connection_messages_pass)
{
	world w;
	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_ED25519, 1);
	w.scfg.banner = "Authorized use only\r\n\x1b[2J";
	start(&w);
	/* Before success the upward pipes refuse to send. */
	sshrpc_buf *out;
	cr_assert_eq(sshrpc_auth_client_io(w.cli)->begin(sshrpc_auth_client_io(w.cli)->ctx, 90, &out), SSHRPC_E_STATE);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "client: %s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert(sshrpc_auth_server_done(w.srv), "server: %s", sshrpc_auth_server_error(w.srv)->msg);
	cr_assert_str_eq(sshrpc_auth_server_user(w.srv), "alice");
	cr_assert_str_eq(sshrpc_auth_server_methods(w.srv), "publickey");
	cr_assert_str_eq(sshrpc_auth_client_methods(w.cli), "publickey");
	cr_assert_eq(sshrpc_auth_client_identity(w.cli), &w.ids[0]);
	const sshrpc_authkeys_entry *e = sshrpc_auth_server_entry(w.srv);
	cr_assert_not_null(e);
	cr_assert_eq(e->line, 10);
	cr_assert_str_eq(e->opts.rpc_allow, "sys:*");
	cr_assert_str_eq(w.banner, "Authorized use only\r\n?[2J");
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 0);
	/* Connection messages now pass both ways. */
	const sshrpc_msg_io *cio = sshrpc_auth_client_io(w.cli), *sio = sshrpc_auth_server_io(w.srv);
	cr_assert_eq(cio->begin(cio->ctx, SSH_MSG_CHANNEL_OPEN, &out), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(out, "session"), SSHRPC_OK);
	cr_assert_eq(cio->end(cio->ctx), SSHRPC_OK);
	const uint8_t *msg;
	size_t len;
	cr_assert_eq(sio->recv(sio->ctx, &msg, &len), SSHRPC_OK);
	cr_assert_eq(msg[0], SSH_MSG_CHANNEL_OPEN);
	cr_assert_eq(len, 1 + 4 + 7);
	cr_assert_eq(sio->recv(sio->ctx, &msg, &len), SSHRPC_E_AGAIN);
	cr_assert_eq(sio->begin(sio->ctx, SSH_MSG_CHANNEL_OPEN_CONFIRMATION, &out), SSHRPC_OK);
	cr_assert_eq(sio->end(sio->ctx), SSHRPC_OK);
	cr_assert_eq(cio->recv(cio->ctx, &msg, &len), SSHRPC_OK);
	cr_assert_eq(msg[0], SSH_MSG_CHANNEL_OPEN_CONFIRMATION);
	/* The upward pipe does not carry auth-range messages. */
	cr_assert_eq(sio->begin(sio->ctx, SSH_MSG_USERAUTH_SUCCESS, &out), SSHRPC_E_STATE);
	world_free(&w);
}

Test(userauth, every_key_type_and_rsa_algorithms, .timeout = 120)
{
	static const struct {
		sshrpc_key_type t;
		const char *server_sig_algs;
		const char *want_alg;
	} cases[] = {
		{ SSHRPC_KEY_ED25519, NULL, "ssh-ed25519" },
		{ SSHRPC_KEY_ECDSA_P256, NULL, "ecdsa-sha2-nistp256" },
		{ SSHRPC_KEY_ECDSA_P384, NULL, "ecdsa-sha2-nistp384" },
		{ SSHRPC_KEY_ECDSA_P521, NULL, "ecdsa-sha2-nistp521" },
		{ SSHRPC_KEY_RSA, "ssh-ed25519,rsa-sha2-256,rsa-sha2-512", "rsa-sha2-512" },
		{ SSHRPC_KEY_RSA, "ssh-ed25519,rsa-sha2-256", "rsa-sha2-256" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		world w;
		world_init(&w);
		w.server_sig_algs = cases[i].server_sig_algs;
		add_keys(&w, 1, cases[i].t, 1);
		w.scfg.log = at_log;
		start(&w);
		pump(&w);
		cr_assert(sshrpc_auth_client_done(w.cli), "case %zu: %s", i, sshrpc_auth_client_error(w.cli)->msg);
		cr_assert(sshrpc_auth_server_done(w.srv));
		char want[80];
		snprintf(want, sizeof want, "offering %s key", cases[i].want_alg);
		cr_assert(strstr(w.clog.text, want) != NULL, "case %zu: %s", i, w.clog.text);
		world_free(&w);
	}
	/* The choice itself (RFC 8332 §3.3). */
	cr_assert_str_eq(sshrpc_auth_choose_sigalg(SSHRPC_KEY_RSA, NULL, 0), "ssh-rsa");
	cr_assert_str_eq(sshrpc_auth_choose_sigalg(SSHRPC_KEY_RSA, "ssh-rsa,rsa-sha2-256", 20), "rsa-sha2-256");
	cr_assert_str_eq(sshrpc_auth_choose_sigalg(SSHRPC_KEY_RSA, "ssh-rsa", 7), "ssh-rsa");
	cr_assert_null(sshrpc_auth_choose_sigalg(SSHRPC_KEY_RSA, "ssh-ed25519", 11));
	cr_assert_str_eq(sshrpc_auth_choose_sigalg(SSHRPC_KEY_ED25519, "rsa-sha2-256", 12), "ssh-ed25519");
}

Test(userauth, three_refused_keys_before_the_right_one)
{
	world w;
	world_init(&w);
	add_keys(&w, 4, SSHRPC_KEY_ED25519, 1u << 3);
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert(sshrpc_auth_server_done(w.srv));
	cr_assert_eq(sshrpc_auth_client_identity(w.cli), &w.ids[3]);
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 3);
	/* 4 queries and 1 signed request, each asking the policy. */
	cr_assert_eq(w.policy_calls, 5);
	cr_assert_eq(sshrpc_auth_server_entry(w.srv)->line, 10);
	world_free(&w);
}

Test(userauth, max_auth_tries)
{
	world w;
	world_init(&w);
	add_keys(&w, 10, SSHRPC_KEY_ED25519, 1u << 9);
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_not(sshrpc_auth_server_done(w.srv));
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 6);
	cr_assert(w.s_end.sent_disconnect);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE);
	cr_assert_str_eq(w.s_end.disc_desc, "Too many authentication failures");
	const sshrpc_err *se = sshrpc_auth_server_error(w.srv);
	cr_assert_eq(se->code, SSHRPC_E_DENIED);
	cr_assert_eq(se->reason, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE);
	/* The client sees the session end. */
	cr_assert_eq(sshrpc_auth_client_process(w.cli), SSHRPC_E_CLOSED);
	cr_assert(strstr(sshrpc_auth_client_error(w.cli)->msg, "Too many authentication failures") != NULL);
	/* Configurable. */
	world_free(&w);
	world_init(&w);
	w.scfg.max_auth_tries = 2;
	add_keys(&w, 3, SSHRPC_KEY_ED25519, 1u << 2);
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_server_done(w.srv));
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 2);
	world_free(&w);
}

Test(userauth, encrypted_key_passphrase_asked_only_after_pk_ok)
{
	char dir[64], p1[128], p2[128];
	at_mkdtemp(dir, sizeof dir);
	snprintf(p1, sizeof p1, "%s/refused", dir);
	snprintf(p2, sizeof p2, "%s/accepted", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -a 2 -N 'pass one' -f %s", p1), 0);
	cr_assert_eq(at_run("ssh-keygen -q -t ecdsa -a 2 -N 'pass two' -f %s", p2), 0);
	world w;
	world_init(&w);
	add_keys(&w, 0, SSHRPC_KEY_ED25519, 0);
	/* authorized_keys: the second file's key. */
	char pub[140];
	snprintf(pub, sizeof pub, "%s.pub", p2);
	size_t n;
	uint8_t *pubtext = at_read(pub, &n);
	sshrpc_authkeys_free(w.ak);
	cr_assert_eq(sshrpc_authkeys_parse(NULL, "ak", pubtext, n, NULL, NULL, &w.ak), SSHRPC_OK);
	free(pubtext);
	sshrpc_file_identity fi[2];
	const char *paths[2] = { p1, p2 };
	for (int i = 0; i < 2; i++) {
		uint8_t *d;
		sshrpc_err err;
		sshrpc_err_clear(&err);
		cr_assert_eq(sshrpc_keyfile_read(NULL, paths[i], true, &d, &n, &err), SSHRPC_OK, "%s", err.msg);
		/* The public half comes from the file itself, no .pub needed. */
		cr_assert_eq(sshrpc_file_identity_init(&fi[i], NULL, paths[i], d, n, NULL, 0, passphrase, &w, &err),
			SSHRPC_OK, "%s", err.msg);
		sshrpc_keyfile_free(NULL, d, n);
		w.ids[i] = fi[i].id;
	}
	w.ccfg.identities = w.ids;
	w.ccfg.n_identities = 2;
	/* A wrong passphrase first, then the right one. */
	w.passphrases[0] = "not it";
	w.passphrases[1] = "pass two";
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert_eq(sshrpc_auth_client_identity(w.cli), &w.ids[1]);
	/* Never asked for the refused key's passphrase. */
	cr_assert_eq(w.passphrase_calls, 2);
	world_free(&w);

	/* Every passphrase wrong: the key is skipped, and the final error
	 * says why. */
	world_init(&w);
	add_keys(&w, 0, SSHRPC_KEY_ED25519, 0);
	pubtext = at_read(pub, &n);
	sshrpc_authkeys_free(w.ak);
	cr_assert_eq(sshrpc_authkeys_parse(NULL, "ak", pubtext, n, NULL, NULL, &w.ak), SSHRPC_OK);
	free(pubtext);
	fi[1].ask_ud = &w;
	sshrpc_key_free(fi[1].priv);
	fi[1].priv = NULL;
	w.ids[0] = fi[1].id;
	w.ccfg.identities = w.ids;
	w.ccfg.n_identities = 1;
	w.passphrases[0] = "a";
	w.passphrases[1] = "b";
	w.passphrases[2] = "c";
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_eq(w.passphrase_calls, 3);
	const sshrpc_err *ce = sshrpc_auth_client_error(w.cli);
	cr_assert_eq(ce->code, SSHRPC_E_DENIED);
	cr_assert(strstr(ce->msg, "Permission denied (publickey)") != NULL, "%s", ce->msg);
	cr_assert(strstr(ce->msg, "wrong passphrase") != NULL && strstr(ce->msg, p2) != NULL, "%s", ce->msg);
	cr_assert(w.c_end.sent_disconnect);
	cr_assert_eq(w.c_end.disc_reason, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE);
	world_free(&w);
	sshrpc_file_identity_free(&fi[0]);
	sshrpc_file_identity_free(&fi[1]);
	at_rmdir(dir);
}

Test(userauth, password)
{
	world w;
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	w.scfg.password = server_password;
	w.ccfg.password = client_password;
	w.client_passwords[0] = "wrong";
	w.client_passwords[1] = "secret";
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert_str_eq(sshrpc_auth_server_methods(w.srv), "password");
	cr_assert_null(sshrpc_auth_server_entry(w.srv));
	cr_assert_eq(w.server_pw_calls, 2);
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 1);
	world_free(&w);

	/* Three wrong passwords: the client gives up. */
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	w.scfg.password = server_password;
	w.ccfg.password = client_password;
	w.client_passwords[0] = w.client_passwords[1] = w.client_passwords[2] = w.client_passwords[3] = "bad";
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_eq(w.client_pw_calls, 3);
	cr_assert_str_eq(sshrpc_auth_client_error(w.cli)->msg, "Permission denied (password): password refused");
	world_free(&w);
}

Test(userauth, password_change_request_fails_clearly)
{
	world w;
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	w.scfg.password = server_password;
	w.password_result_override = SSHRPC_AUTH_PASSWORD_EXPIRED;
	w.ccfg.password = client_password;
	w.client_passwords[0] = "secret";
	w.client_passwords[1] = "secret";
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_not(sshrpc_auth_server_done(w.srv));
	/* Asked once: after the change request the password method is over. */
	cr_assert_eq(w.client_pw_calls, 1);
	const sshrpc_err *ce = sshrpc_auth_client_error(w.cli);
	cr_assert_eq(ce->code, SSHRPC_E_DENIED);
	cr_assert(strstr(ce->msg, "the server requires a password change (\"Your password has expired") != NULL, "%s",
		ce->msg);
	cr_assert(strstr(ce->msg, "sshrpc cannot change passwords") != NULL, "%s", ce->msg);
	world_free(&w);
}

Test(userauth, keyboard_interactive_two_rounds)
{
	world w;
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	w.scfg.kbdint_start = kbd_start;
	w.scfg.kbdint_respond = kbd_respond;
	w.ccfg.kbdint = client_kbd;
	w.kbd_rounds = 2;
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert_str_eq(sshrpc_auth_server_methods(w.srv), "keyboard-interactive");
	cr_assert_eq(w.kbd_client_calls, 2);
	world_free(&w);

	/* A wrong answer: FAILURE, the client tries again (up to 3 times). */
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	w.scfg.kbdint_start = kbd_start;
	w.scfg.kbdint_respond = kbd_respond;
	w.ccfg.kbdint = client_kbd;
	w.kbd_answers[0] = "wrong";
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_eq(w.kbd_client_calls, 3);
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 3);
	world_free(&w);
}

Test(userauth, partial_success_publickey_then_password)
{
	world w;
	world_init(&w);
	add_keys(&w, 2, SSHRPC_KEY_ED25519, 2);
	w.scfg.password = server_password;
	w.scfg.kbdint_start = kbd_start;
	w.scfg.kbdint_respond = kbd_respond;
	w.scfg.auth_methods = "publickey,password publickey,keyboard-interactive:pam";
	w.ccfg.password = client_password;
	w.ccfg.preferred = "publickey,password";
	w.client_passwords[0] = "secret";
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert_str_eq(sshrpc_auth_server_methods(w.srv), "publickey,password");
	cr_assert_str_eq(sshrpc_auth_client_methods(w.cli), "publickey,password");
	cr_assert_not_null(sshrpc_auth_server_entry(w.srv), "the publickey step's entry is kept");
	cr_assert(strstr(w.clog.text, "publickey succeeded with partial success") != NULL, "%s", w.clog.text);
	world_free(&w);

	/* Password alone is not enough: a client without keys fails. */
	world_init(&w);
	w.scfg.password = server_password;
	w.scfg.auth_methods = "publickey,password";
	w.ccfg.password = client_password;
	w.client_passwords[0] = "secret";
	add_keys(&w, 0, SSHRPC_KEY_ED25519, 0);
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_eq(w.server_pw_calls, 0);
	cr_assert_str_eq(sshrpc_auth_client_error(w.cli)->msg, "Permission denied (publickey)");
	world_free(&w);

	/* "publickey,publickey" wants two different keys. */
	world_init(&w);
	add_keys(&w, 2, SSHRPC_KEY_ED25519, 3);
	w.scfg.auth_methods = "publickey,publickey";
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert_str_eq(sshrpc_auth_server_methods(w.srv), "publickey,publickey");
	world_free(&w);
	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_ED25519, 1);
	w.ids[1] = w.ids[0]; /* the same key offered twice */
	w.ccfg.n_identities = 2;
	w.scfg.auth_methods = "publickey,publickey";
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert(strstr(w.slog.text, "key already used") != NULL, "%s", w.slog.text);
	world_free(&w);
}

Test(userauth, server_configuration_errors)
{
	static const struct {
		const char *methods;
		const char *msg;
	} cases[] = {
		{ "publickey,smartcard", "AuthenticationMethods: unknown method 'smartcard'" },
		{ "password", "AuthenticationMethods: password is named but its callback is not set" },
		{ "publickey,none", "AuthenticationMethods: none can only stand alone" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		world w;
		world_init(&w);
		w.scfg.auth_methods = cases[i].methods;
		sshrpc_err err;
		sshrpc_err_clear(&err);
		cr_assert_eq(sshrpc_auth_server_new(&w.scfg, &w.s_end.io, 0, &w.srv, &err), SSHRPC_E_INVALID);
		cr_assert_str_eq(err.msg, cases[i].msg);
		world_free(&w);
	}
	world w;
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	sshrpc_err err;
	sshrpc_err_clear(&err);
	cr_assert_eq(sshrpc_auth_server_new(&w.scfg, &w.s_end.io, 0, &w.srv, &err), SSHRPC_E_INVALID);
	world_free(&w);
}

Test(userauth, signature_over_wrong_session_id)
{
	world w;
	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_ED25519, 1);
	w.sid_c[7] ^= 1;
	start(&w);
	pump(&w);
	cr_assert_not(sshrpc_auth_client_done(w.cli));
	cr_assert_not(sshrpc_auth_server_done(w.srv));
	cr_assert(strstr(w.slog.text, "signature did not verify") != NULL, "%s", w.slog.text);
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 1);
	cr_assert_str_eq(
		sshrpc_auth_client_error(w.cli)->msg, "Permission denied (publickey): key0: signature refused");
	world_free(&w);
}

Test(userauth, login_grace_time)
{
	world w;
	world_init(&w);
	add_keys(&w, 0, SSHRPC_KEY_ED25519, 0);
	start_server(&w);
	cr_assert_eq(sshrpc_auth_server_next_deadline(w.srv), 1000 + 120000);
	cr_assert_eq(sshrpc_auth_server_tick(w.srv, 120999), SSHRPC_OK);
	cr_assert_not(w.s_end.closed);
	cr_assert_eq(sshrpc_auth_server_tick(w.srv, 121000), SSHRPC_E_TIMEOUT);
	cr_assert(w.s_end.sent_disconnect);
	cr_assert(strstr(w.s_end.disc_desc, "LoginGraceTime") != NULL);
	cr_assert_eq(sshrpc_auth_server_next_deadline(w.srv), UINT64_MAX);
	world_free(&w);

	/* No deadline once authenticated. */
	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_ED25519, 1);
	w.scfg.login_grace_ms = 5000;
	start(&w);
	cr_assert_eq(sshrpc_auth_server_next_deadline(w.srv), 6000);
	pump(&w);
	cr_assert(sshrpc_auth_server_done(w.srv));
	cr_assert_eq(sshrpc_auth_server_next_deadline(w.srv), UINT64_MAX);
	cr_assert_eq(sshrpc_auth_server_tick(w.srv, 1000000), SSHRPC_OK);
	world_free(&w);
}

/* ---- the server fed by hand ------------------------------------------------------------ */

static sshrpc_buf msg_new(uint8_t type)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_buf_put_u8(&b, type), SSHRPC_OK);
	return b;
}

static void send_raw(world *w, sshrpc_buf *b)
{
	fp_inject(&w->s_end, sshrpc_buf_ptr(b), sshrpc_buf_len(b));
	sshrpc_buf_free(b);
	int rc = sshrpc_auth_server_process(w->srv);
	(void)rc;
}

/* The next message the server sent; its type, and its bytes in *out. */
static uint8_t reply(world *w, uint8_t **out, size_t *len)
{
	uint8_t *m;
	size_t n = fp_take(&w->c_end, &m);
	cr_assert_gt(n, 0, "no reply from the server");
	uint8_t t = m[0];
	if (out != NULL) {
		*out = m;
		*len = n;
	} else {
		free(m);
	}
	return t;
}

static void raw_service(world *w)
{
	sshrpc_buf b = msg_new(SSH_MSG_SERVICE_REQUEST);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-userauth"), SSHRPC_OK);
	send_raw(w, &b);
	cr_assert_eq(reply(w, NULL, NULL), SSH_MSG_SERVICE_ACCEPT);
}

static sshrpc_buf request(const char *user, const char *service, const char *method)
{
	sshrpc_buf b = msg_new(SSH_MSG_USERAUTH_REQUEST);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, user), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, service), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, method), SSHRPC_OK);
	return b;
}

static sshrpc_buf pk_query(const char *user, const char *alg, const sshrpc_key *k)
{
	sshrpc_buf b = request(user, "ssh-connection", "publickey");
	cr_assert_eq(sshrpc_buf_put_bool(&b, false), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, alg), SSHRPC_OK);
	size_t mark;
	cr_assert_eq(sshrpc_buf_string_begin(&b, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_key_to_blob(k, &b), SSHRPC_OK);
	sshrpc_buf_string_end(&b, mark);
	return b;
}

/* A signed request whose signature is made with sig_alg over the data a
 * request with alg would sign (so that the two may differ). */
static sshrpc_buf pk_signed(world *w, const char *user, const char *alg, const char *sig_alg, const sshrpc_key *k)
{
	sshrpc_buf b = request(user, "ssh-connection", "publickey");
	cr_assert_eq(sshrpc_buf_put_bool(&b, true), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, alg), SSHRPC_OK);
	size_t mark;
	cr_assert_eq(sshrpc_buf_string_begin(&b, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_key_to_blob(k, &b), SSHRPC_OK);
	sshrpc_buf_string_end(&b, mark);
	sshrpc_buf data;
	sshrpc_buf_init(&data, NULL, 0);
	cr_assert_eq(sshrpc_buf_put_string(&data, w->sid_s, sizeof w->sid_s), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put(&data, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b)), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_string_begin(&b, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_key_sign(k, sig_alg, sshrpc_buf_ptr(&data), sshrpc_buf_len(&data), &b), SSHRPC_OK);
	sshrpc_buf_string_end(&b, mark);
	sshrpc_buf_free(&data);
	return b;
}

static void raw_world(world *w, sshrpc_key_type t)
{
	world_init(w);
	add_keys(w, 1, t, 1);
	start_server(w);
	raw_service(w);
}

Test(userauth_server, signed_request_accepted_and_later_requests_ignored)
{
	world w;
	raw_world(&w, SSHRPC_KEY_ED25519);
	sshrpc_buf b = pk_signed(&w, "alice", "ssh-ed25519", "ssh-ed25519", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_SUCCESS);
	cr_assert(sshrpc_auth_server_done(w.srv));
	/* RFC 4252 §5.1: requests after SUCCESS are silently ignored; the
	 * connection layer sees only its own messages. */
	b = pk_signed(&w, "alice", "ssh-ed25519", "ssh-ed25519", w.keys[0]);
	fp_inject(&w.s_end, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b));
	sshrpc_buf_free(&b);
	b = request("mallory", "ssh-connection", "none");
	fp_inject(&w.s_end, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b));
	sshrpc_buf_free(&b);
	uint8_t info_resp[] = { SSH_MSG_USERAUTH_INFO_RESPONSE, 0, 0, 0, 0 };
	fp_inject(&w.s_end, info_resp, sizeof info_resp);
	uint8_t global[] = { SSH_MSG_GLOBAL_REQUEST, 0, 0, 0, 1, 'x', 0 };
	fp_inject(&w.s_end, global, sizeof global);
	const sshrpc_msg_io *sio = sshrpc_auth_server_io(w.srv);
	const uint8_t *m;
	size_t n;
	cr_assert_eq(sio->recv(sio->ctx, &m, &n), SSHRPC_OK);
	cr_assert_eq(m[0], SSH_MSG_GLOBAL_REQUEST);
	cr_assert_eq(n, sizeof global);
	cr_assert_eq(fp_pending(&w.c_end), 0, "nothing answered");
	cr_assert_str_eq(sshrpc_auth_server_user(w.srv), "alice");
	cr_assert_eq(sio->recv(sio->ctx, &m, &n), SSHRPC_E_AGAIN);
	world_free(&w);
}

Test(userauth_server, wrong_algorithm_names)
{
	world w;
	raw_world(&w, SSHRPC_KEY_ED25519);
	w.scfg.max_auth_tries = 100;
	sshrpc_auth_server_free(w.srv);
	fp_free(&w.c_end);
	fp_free(&w.s_end);
	fp_pair(&w.c_end, &w.s_end);
	start_server(&w);
	raw_service(&w);
	static const char *const algs[] = {
		"ssh-ed448",	       /* unknown */
		"rsa-sha2-256",	       /* not the key's type */
		"ecdsa-sha2-nistp256", /* not the key's type */
		"ssh-ed25519-cert-v01@openssh.com", "", "ssh-ed25519\x01",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* > 64 */
	};
	for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
		sshrpc_buf b = pk_query("alice", algs[i], w.keys[0]);
		send_raw(&w, &b);
		cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE, "alg '%s'", algs[i]);
	}
	/* The right name is answered with PK_OK, echoing algorithm and blob. */
	sshrpc_buf b = pk_query("alice", "ssh-ed25519", w.keys[0]);
	send_raw(&w, &b);
	uint8_t *m;
	size_t n;
	cr_assert_eq(reply(&w, &m, &n), SSH_MSG_USERAUTH_PK_OK);
	sshrpc_reader r;
	const uint8_t *alg, *blob;
	size_t alg_len, blob_len;
	sshrpc_rd_init(&r, m + 1, n - 1);
	cr_assert_eq(sshrpc_rd_string(&r, &alg, &alg_len), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_string(&r, &blob, &blob_len), SSHRPC_OK);
	cr_assert_eq(alg_len, 11);
	cr_assert(memcmp(alg, "ssh-ed25519", 11) == 0);
	cr_assert_eq(blob_len, w.ids[0].pub_len);
	free(m);
	cr_assert_eq(sshrpc_auth_server_failures(&*w.srv), 7);
	cr_assert_not(w.s_end.closed);
	world_free(&w);
}

Test(userauth_server, rsa_signature_algorithm_must_match_the_request, .timeout = 60)
{
	world w;
	raw_world(&w, SSHRPC_KEY_RSA);
	/* Signed with rsa-sha2-512 but announced as rsa-sha2-256. */
	sshrpc_buf b = pk_signed(&w, "alice", "rsa-sha2-256", "rsa-sha2-512", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE);
	/* ssh-rsa (SHA-1) is refused unless configured. */
	b = pk_signed(&w, "alice", "ssh-rsa", "ssh-rsa", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE);
	b = pk_signed(&w, "alice", "rsa-sha2-256", "rsa-sha2-256", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_SUCCESS);
	world_free(&w);

	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_RSA, 1);
	w.scfg.pubkey_algorithms = "ssh-rsa";
	start_server(&w);
	raw_service(&w);
	b = pk_signed(&w, "alice", "ssh-rsa", "ssh-rsa", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_SUCCESS);
	world_free(&w);
}

Test(userauth_server, unknown_user_and_wrong_key_answered_alike)
{
	world w;
	raw_world(&w, SSHRPC_KEY_ED25519);
	sshrpc_key *other = NULL;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &other), SSHRPC_OK);
	uint8_t *a, *b2;
	size_t alen, blen;
	/* A listed key for a user who does not exist... */
	sshrpc_buf b = pk_signed(&w, "nobody", "ssh-ed25519", "ssh-ed25519", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, &a, &alen), SSH_MSG_USERAUTH_FAILURE);
	/* ...and an unlisted key for alice. */
	b = pk_signed(&w, "alice", "ssh-ed25519", "ssh-ed25519", other);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, &b2, &blen), SSH_MSG_USERAUTH_FAILURE);
	cr_assert_eq(alen, blen);
	cr_assert(memcmp(a, b2, alen) == 0);
	free(a);
	free(b2);
	/* Queries too. */
	b = pk_query("nobody", "ssh-ed25519", w.keys[0]);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, &a, &alen), SSH_MSG_USERAUTH_FAILURE);
	b = pk_query("alice", "ssh-ed25519", other);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, &b2, &blen), SSH_MSG_USERAUTH_FAILURE);
	cr_assert(alen == blen && memcmp(a, b2, alen) == 0);
	free(a);
	free(b2);
	/* Both paths did the same work: the policy was asked each time. */
	cr_assert_eq(w.policy_calls, 4);
	sshrpc_key_free(other);
	world_free(&w);
}

Test(userauth_server, oversized_fields)
{
	world w;
	raw_world(&w, SSHRPC_KEY_ED25519);
	w.scfg.password = server_password;
	sshrpc_auth_server_free(w.srv);
	fp_free(&w.c_end);
	fp_free(&w.s_end);
	fp_pair(&w.c_end, &w.s_end);
	start_server(&w);
	raw_service(&w);
	/* A key blob and a signature over 16 KiB: refused, the session lives. */
	static uint8_t big[20000];
	memset(big, 'A', sizeof big);
	sshrpc_buf b = request("alice", "ssh-connection", "publickey");
	cr_assert_eq(sshrpc_buf_put_bool(&b, false), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-ed25519"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, big, sizeof big), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE);
	b = request("alice", "ssh-connection", "publickey");
	cr_assert_eq(sshrpc_buf_put_bool(&b, true), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-ed25519"), SSHRPC_OK);
	size_t mark;
	cr_assert_eq(sshrpc_buf_string_begin(&b, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_key_to_blob(w.keys[0], &b), SSHRPC_OK);
	sshrpc_buf_string_end(&b, mark);
	cr_assert_eq(sshrpc_buf_put_string(&b, big, sizeof big), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE);
	/* A 2000-byte password. */
	b = request("alice", "ssh-connection", "password");
	cr_assert_eq(sshrpc_buf_put_bool(&b, false), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, big, 2000), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE);
	cr_assert_eq(w.server_pw_calls, 0);
	/* A string length past the end of the message: PROTOCOL_ERROR. */
	b = request("alice", "ssh-connection", "password");
	cr_assert_eq(sshrpc_buf_put_bool(&b, false), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 0x7fffffff), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert(w.s_end.sent_disconnect);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert_str_eq(w.s_end.disc_desc, "truncated password request (in state userauth)");
	world_free(&w);

	/* A 300-byte user name: ILLEGAL_USER_NAME. */
	raw_world(&w, SSHRPC_KEY_ED25519);
	char user[301];
	memset(user, 'u', 300);
	user[300] = 0;
	b = request(user, "ssh-connection", "none");
	send_raw(&w, &b);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_ILLEGAL_USER_NAME);
	cr_assert_eq(sshrpc_auth_server_process(w.srv), SSHRPC_E_PROTOCOL);
	world_free(&w);

	/* A 100-byte service name: PROTOCOL_ERROR (RFC 4251 §6). */
	raw_world(&w, SSHRPC_KEY_ED25519);
	char svc[101];
	memset(svc, 's', 100);
	svc[100] = 0;
	b = request("alice", svc, "none");
	send_raw(&w, &b);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	world_free(&w);
}

Test(userauth_server, service_dialogue)
{
	world w;
	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_ED25519, 1);
	start_server(&w);
	/* A USERAUTH_REQUEST before SERVICE_REQUEST. */
	sshrpc_buf b = request("alice", "ssh-connection", "none");
	send_raw(&w, &b);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert_str_eq(w.s_end.disc_desc, "message 50 before SERVICE_REQUEST (in state waiting for SERVICE_REQUEST)");
	world_free(&w);

	/* Another service name. */
	world_init(&w);
	add_keys(&w, 1, SSHRPC_KEY_ED25519, 1);
	start_server(&w);
	b = msg_new(SSH_MSG_SERVICE_REQUEST);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-connection"), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE);
	cr_assert_str_eq(w.s_end.disc_desc, "service 'ssh-connection' not available");
	world_free(&w);

	/* Authentication for a service we do not run (RFC 4252 §5). */
	raw_world(&w, SSHRPC_KEY_ED25519);
	b = request("alice", "ssh-forbidden", "none");
	send_raw(&w, &b);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_SERVICE_NOT_AVAILABLE);
	world_free(&w);

	/* A connection-protocol message before authentication (RFC 4252 §6). */
	raw_world(&w, SSHRPC_KEY_ED25519);
	uint8_t open[] = { SSH_MSG_CHANNEL_OPEN, 0, 0, 0, 7, 's', 'e', 's', 's', 'i', 'o', 'n' };
	fp_inject(&w.s_end, open, sizeof open);
	const sshrpc_msg_io *sio = sshrpc_auth_server_io(w.srv);
	const uint8_t *m;
	size_t n;
	cr_assert_eq(sio->recv(sio->ctx, &m, &n), SSHRPC_E_PROTOCOL);
	cr_assert_eq(w.s_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert(strstr(w.s_end.disc_desc, "message 90 (connection protocol) before authentication completed") != NULL,
		"%s", w.s_end.disc_desc);
	world_free(&w);

	/* An INFO_RESPONSE nobody asked for. */
	raw_world(&w, SSHRPC_KEY_ED25519);
	uint8_t resp[] = { SSH_MSG_USERAUTH_INFO_RESPONSE, 0, 0, 0, 0 };
	fp_inject(&w.s_end, resp, sizeof resp);
	cr_assert_eq(sshrpc_auth_server_process(w.srv), SSHRPC_E_PROTOCOL);
	cr_assert_str_eq(w.s_end.disc_desc, "unexpected message 61 (in state userauth)");
	world_free(&w);
}

Test(userauth_server, keyboard_interactive_wrong_count_and_abandon)
{
	world w;
	world_init(&w);
	w.scfg.pubkey_allowed = NULL;
	w.scfg.kbdint_start = kbd_start;
	w.scfg.kbdint_respond = kbd_respond;
	start_server(&w);
	raw_service(&w);
	sshrpc_buf b = request("alice", "ssh-connection", "keyboard-interactive");
	cr_assert_eq(sshrpc_buf_put_cstring(&b, ""), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, ""), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_INFO_REQUEST);
	/* Two answers to one prompt: FAILURE (RFC 4256 §3.4). */
	b = msg_new(SSH_MSG_USERAUTH_INFO_RESPONSE);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 2), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "secret"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "secret"), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_FAILURE);
	/* A new request abandons an exchange with no FAILURE for it. */
	b = request("alice", "ssh-connection", "keyboard-interactive");
	cr_assert_eq(sshrpc_buf_put_cstring(&b, ""), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, ""), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_INFO_REQUEST);
	b = request("alice", "ssh-connection", "keyboard-interactive");
	cr_assert_eq(sshrpc_buf_put_cstring(&b, ""), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, ""), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_INFO_REQUEST);
	cr_assert_eq(fp_pending(&w.c_end), 0);
	b = msg_new(SSH_MSG_USERAUTH_INFO_RESPONSE);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 1), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "secret"), SSHRPC_OK);
	send_raw(&w, &b);
	cr_assert_eq(reply(&w, NULL, NULL), SSH_MSG_USERAUTH_SUCCESS);
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 1);
	world_free(&w);
}

Test(userauth_server, none_counts_after_the_first)
{
	world w;
	raw_world(&w, SSHRPC_KEY_ED25519);
	for (int i = 0; i < 5; i++) {
		sshrpc_buf b = request("alice", "ssh-connection", "none");
		send_raw(&w, &b);
		uint8_t *m;
		size_t n;
		cr_assert_eq(reply(&w, &m, &n), SSH_MSG_USERAUTH_FAILURE);
		/* "publickey" listed, partial success FALSE, "none" never listed. */
		static const uint8_t want[] = { 51, 0, 0, 0, 9, 'p', 'u', 'b', 'l', 'i', 'c', 'k', 'e', 'y', 0 };
		cr_assert_eq(n, sizeof want);
		cr_assert(memcmp(m, want, n) == 0);
		free(m);
	}
	cr_assert_eq(sshrpc_auth_server_failures(w.srv), 4);
	world_free(&w);

	/* "none" as the whole policy lets anyone in. */
	world_init(&w);
	w.scfg.auth_methods = "none";
	add_keys(&w, 0, SSHRPC_KEY_ED25519, 0);
	start(&w);
	pump(&w);
	cr_assert(sshrpc_auth_client_done(w.cli), "%s", sshrpc_auth_client_error(w.cli)->msg);
	cr_assert_str_eq(sshrpc_auth_server_methods(w.srv), "none");
	world_free(&w);
}

/* ---- the client fed by hand ------------------------------------------------------------ */

static void client_send_raw(world *w, const void *m, size_t n)
{
	fp_inject(&w->c_end, m, n);
	int rc = sshrpc_auth_client_process(w->cli);
	(void)rc;
}

/* The client up to its "none" request, answered by FAILURE "publickey". */
static void raw_client(world *w)
{
	world_init(w);
	add_keys(w, 2, SSHRPC_KEY_ED25519, 0);
	sshrpc_err err;
	sshrpc_err_clear(&err);
	cr_assert_eq(sshrpc_auth_client_new(&w->ccfg, &w->c_end.io, &w->cli, &err), SSHRPC_OK);
	cr_assert_eq(sshrpc_auth_client_process(w->cli), SSHRPC_OK);
	uint8_t *m;
	cr_assert_gt(fp_take(&w->s_end, &m), 0);
	cr_assert_eq(m[0], SSH_MSG_SERVICE_REQUEST);
	free(m);
	static const uint8_t accept[] = { 6, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h' };
	client_send_raw(w, accept, sizeof accept);
	size_t n = fp_take(&w->s_end, &m);
	cr_assert_gt(n, 0);
	cr_assert_eq(m[0], SSH_MSG_USERAUTH_REQUEST);
	free(m);
	static const uint8_t fail[] = { 51, 0, 0, 0, 9, 'p', 'u', 'b', 'l', 'i', 'c', 'k', 'e', 'y', 0 };
	client_send_raw(w, fail, sizeof fail);
	n = fp_take(&w->s_end, &m);
	cr_assert_gt(n, 0, "a publickey query follows");
	free(m);
}

Test(userauth_client, pk_ok_for_a_key_not_offered)
{
	world w;
	raw_client(&w);
	/* PK_OK naming the second key while the first was offered. */
	sshrpc_buf b = msg_new(SSH_MSG_USERAUTH_PK_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-ed25519"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, w.ids[1].pub_blob, w.ids[1].pub_len), SSHRPC_OK);
	client_send_raw(&w, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b));
	sshrpc_buf_free(&b);
	cr_assert(w.c_end.sent_disconnect);
	cr_assert_eq(w.c_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert(strstr(w.c_end.disc_desc, "USERAUTH_PK_OK for a key that was not offered") != NULL, "%s",
		w.c_end.disc_desc);
	world_free(&w);
}

Test(userauth_client, connection_message_before_success)
{
	world w;
	raw_client(&w);
	static const uint8_t data[] = { SSH_MSG_CHANNEL_DATA, 0, 0, 0, 0, 0, 0, 0, 0 };
	client_send_raw(&w, data, sizeof data);
	cr_assert(w.c_end.sent_disconnect);
	cr_assert_eq(w.c_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert(strstr(w.c_end.disc_desc, "message 94 (connection protocol) before USERAUTH_SUCCESS") != NULL);
	cr_assert_eq(sshrpc_auth_client_process(w.cli), SSHRPC_E_PROTOCOL);
	world_free(&w);
}

Test(userauth_client, bad_failure_list_and_banner_after_success)
{
	world w;
	raw_client(&w);
	/* A name-list with an empty name is malformed (RFC 4251 §5). */
	static const uint8_t bad[] = { 51, 0, 0, 0, 2, 'a', ',', 0 };
	client_send_raw(&w, bad, sizeof bad);
	cr_assert_eq(w.c_end.disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	world_free(&w);

	raw_client(&w);
	static const uint8_t success[] = { SSH_MSG_USERAUTH_SUCCESS };
	client_send_raw(&w, success, 1);
	cr_assert(sshrpc_auth_client_done(w.cli));
	/* Auth messages after SUCCESS are ignored; the connection layer gets
	 * its own. */
	static const uint8_t banner[] = { 53, 0, 0, 0, 1, 'x', 0, 0, 0, 0 };
	fp_inject(&w.c_end, banner, sizeof banner);
	static const uint8_t global[] = { SSH_MSG_REQUEST_SUCCESS };
	fp_inject(&w.c_end, global, 1);
	const sshrpc_msg_io *cio = sshrpc_auth_client_io(w.cli);
	const uint8_t *m;
	size_t n;
	cr_assert_eq(cio->recv(cio->ctx, &m, &n), SSHRPC_OK);
	cr_assert_eq(m[0], SSH_MSG_REQUEST_SUCCESS);
	cr_assert_str_eq(w.banner, "");
	world_free(&w);
}
