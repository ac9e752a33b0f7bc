/* The server's userauth message handler fed arbitrary messages through a
 * fake transport pipe.
 *
 * Input: one flags byte, then messages, each a 2-byte big-endian length and
 * that many bytes (the message number first).
 *   flags bit 0: send SERVICE_REQUEST "ssh-userauth" first (to get past the
 *                service dialogue without the fuzzer finding it);
 *   bits 1-2:    AuthenticationMethods: any / "publickey,password" /
 *                "keyboard-interactive" / "publickey,publickey";
 *   bit 3:       MaxAuthTries 2 instead of 6;
 *   bit 4:       a LoginGraceTime tick after each message.
 * The server accepts the RFC 8032 test 1 ed25519 key (and ed25519 signatures
 * are deterministic, so seeds carry valid ones), password "secret", and
 * keyboard-interactive answers "secret" then "123456". Session id: 32 x 0x5a.
 * After success the upward pipe is read until empty. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/auth.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

/* ---- a one-sided pipe: the fuzzer's messages in, the server's out ---- */

typedef struct pipe_end {
	const uint8_t *in;
	size_t in_len, in_off;
	sshrpc_buf out;
	unsigned sent;
	bool closed;
	uint32_t reason;
	sshrpc_err err;
} pipe_end;

static int p_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	pipe_end *p = ctx;
	if (p->closed)
		return sshrpc_err_set(&p->err, SSHRPC_E_CLOSED, p->reason, "closed");
	if (p->in_len - p->in_off < 2)
		return SSHRPC_E_AGAIN;
	size_t n = ((size_t)p->in[p->in_off] << 8) | p->in[p->in_off + 1];
	if (n > p->in_len - p->in_off - 2)
		n = p->in_len - p->in_off - 2;
	*msg = p->in + p->in_off + 2;
	*len = n;
	p->in_off += 2 + n;
	/* One message per recv call, like transport: process() loops. */
	return SSHRPC_OK;
}

static int p_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	pipe_end *p = ctx;
	if (p->closed)
		return SSHRPC_E_CLOSED;
	sshrpc_buf_reset(&p->out);
	*w = &p->out;
	return sshrpc_buf_put_u8(&p->out, type);
}

static int p_end(void *ctx)
{
	pipe_end *p = ctx;
	check(sshrpc_buf_len(&p->out) >= 1);
	p->sent++;
	return SSHRPC_OK;
}

static int p_disconnect(void *ctx, uint32_t reason, const char *desc)
{
	pipe_end *p = ctx;
	check(desc != NULL && strlen(desc) < 256);
	p->closed = true;
	p->reason = reason;
	return SSHRPC_OK;
}

static const sshrpc_err *p_error(void *ctx)
{
	return &((pipe_end *)ctx)->err;
}

/* ---- policy ---- */

typedef struct world {
	sshrpc_key *key;
	uint8_t sid[32];
	unsigned kbd_round;
} world;

static int sid_cb(void *ud, const uint8_t **id, size_t *len)
{
	world *w = ud;
	*id = w->sid;
	*len = sizeof w->sid;
	return SSHRPC_OK;
}

static int allowed(
	void *ud, const char *user, const sshrpc_key *key, uint64_t now_ms, const sshrpc_authkeys_entry **entry)
{
	world *w = ud;
	check(strlen(user) <= SSHRPC_AUTH_USER_MAX);
	*entry = NULL;
	return sshrpc_key_equal_public(key, w->key) ? SSHRPC_OK : SSHRPC_E_DENIED;
}

static int password(void *ud, const char *user, const char *pw, size_t len)
{
	check(len <= SSHRPC_AUTH_PASSWORD_MAX && pw[len] == '\0');
	if (len == 6 && memcmp(pw, "secret", 6) == 0)
		return SSHRPC_OK;
	if (len == 7 && memcmp(pw, "expired", 7) == 0)
		return SSHRPC_AUTH_PASSWORD_EXPIRED;
	return SSHRPC_E_DENIED;
}

static int kbd_start(void *ud, const char *user, const char *sub, sshrpc_kbdint_challenge *ch)
{
	world *w = ud;
	w->kbd_round = 0;
	ch->name = "n";
	ch->instruction = "i";
	ch->n_prompts = 1;
	ch->prompts[0].text = "Password: ";
	return SSHRPC_OK;
}

static int kbd_respond(
	void *ud, const char *user, const char *const *r, const size_t *l, size_t n, sshrpc_kbdint_challenge *ch)
{
	world *w = ud;
	static const char *const want[] = { "secret", "123456" };
	check(n <= SSHRPC_KBDINT_MAX_PROMPTS);
	if (n != 1 || strcmp(r[0], want[w->kbd_round]) != 0)
		return SSHRPC_E_DENIED;
	if (++w->kbd_round == 2)
		return SSHRPC_OK;
	ch->n_prompts = 1;
	ch->prompts[0].text = "Code: ";
	ch->prompts[0].echo = true;
	return SSHRPC_E_AGAIN;
}

/* RFC 8032 §7.1 TEST 1. */
static const uint8_t seed[32] = { 0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec,
	0x2c, 0xc4, 0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60 };
static const uint8_t pk[32] = { 0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7, 0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64,
	0x07, 0x3a, 0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25, 0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a };

static sshrpc_key *fixed_key(void)
{
	sshrpc_buf b;
	uint8_t sk[64];
	memcpy(sk, seed, 32);
	memcpy(sk + 32, pk, 32);
	sshrpc_buf_init(&b, NULL, 0);
	check(sshrpc_buf_put_string(&b, pk, 32) == SSHRPC_OK);
	check(sshrpc_buf_put_string(&b, sk, 64) == SSHRPC_OK);
	sshrpc_reader r;
	sshrpc_buf_reader(&b, &r);
	sshrpc_key *k = NULL;
	check(sshrpc_key_from_private(NULL, SSHRPC_KEY_ED25519, &r, &k) == SSHRPC_OK);
	sshrpc_buf_free(&b);
	return k;
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	uint8_t flags = data[0];
	static const uint8_t service[] = { 0, 17, 5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't',
		'h' };
	/* The input with the optional SERVICE_REQUEST in front. */
	uint8_t *in = malloc(len - 1 + sizeof service);
	size_t in_len = 0;
	if (flags & 1) {
		memcpy(in, service, sizeof service);
		in_len = sizeof service;
	}
	memcpy(in + in_len, data + 1, len - 1);
	in_len += len - 1;

	world w;
	memset(&w, 0, sizeof w);
	memset(w.sid, 0x5a, sizeof w.sid);
	w.key = fixed_key();
	pipe_end p;
	memset(&p, 0, sizeof p);
	p.in = in;
	p.in_len = in_len;
	sshrpc_buf_init(&p.out, NULL, 1 << 20);
	sshrpc_msg_io io = { &p, p_recv, p_begin, p_end, p_disconnect, p_error };
	static const char *const methods[] = { NULL, "publickey,password", "keyboard-interactive",
		"publickey,publickey" };
	sshrpc_auth_server_config cfg = {
		.session_id = sid_cb,
		.auth_methods = methods[(flags >> 1) & 3],
		.max_auth_tries = (flags & 8) ? 2 : 0,
		.banner = "fuzz banner",
		.pubkey_allowed = allowed,
		.password = password,
		.kbdint_start = kbd_start,
		.kbdint_respond = kbd_respond,
		.ud = &w,
	};
	sshrpc_auth_server *s = NULL;
	sshrpc_err err;
	sshrpc_err_clear(&err);
	check(sshrpc_auth_server_new(&cfg, &io, 0, &s, &err) == SSHRPC_OK);
	uint64_t now = 0;
	for (;;) {
		size_t before = p.in_off;
		int rc = sshrpc_auth_server_process(s);
		if (rc != SSHRPC_OK) {
			/* Fatal: a DISCONNECT went out, or the pipe closed. */
			check(p.closed || sshrpc_auth_server_error(s)->code != 0);
			check(!sshrpc_auth_server_done(s));
			break;
		}
		if (flags & 16) {
			now += 40000;
			if (sshrpc_auth_server_tick(s, now) != SSHRPC_OK) {
				check(p.closed);
				break;
			}
		}
		if (sshrpc_auth_server_done(s) || p.in_off == before)
			break;
	}
	check(sshrpc_auth_server_failures(s) <= 6);
	if (sshrpc_auth_server_done(s)) {
		check(sshrpc_auth_server_user(s) != NULL);
		check(strlen(sshrpc_auth_server_methods(s)) > 0);
		const sshrpc_msg_io *up = sshrpc_auth_server_io(s);
		const uint8_t *m;
		size_t n;
		int rc;
		while ((rc = up->recv(up->ctx, &m, &n)) == SSHRPC_OK)
			check(n >= 1 && m[0] >= 80);
	}
	sshrpc_auth_server_free(s);
	sshrpc_key_free(w.key);
	sshrpc_buf_free(&p.out);
	free(in);
	return 0;
}
