/* Interop with OpenSSH 9.2 (Debian's sshd and ssh), one algorithm at a
 * time, in both roles, and rekeying forced in each direction.
 *
 *   our client -> sshd (started by tests/support): kex, then SERVICE_REQUEST
 *     "ssh-userauth" answered by SERVICE_ACCEPT;
 *   ssh -vvv -> our server on a loopback socket, with a fake upper layer that
 *     accepts the service and, at the first USERAUTH_REQUEST, disconnects:
 *     ssh's log must show "SSH2_MSG_SERVICE_ACCEPT received".
 *
 * Rekeys need traffic and there is no connection layer here, so the
 * traffic is SSH_MSG_IGNORE packets pushed by our side (3 MiB against a
 * RekeyLimit of 1M). OpenSSH 9.2 takes no key re-exchange before user
 * authentication succeeded (sshd answers a KEXINIT in pre-auth with
 * UNIMPLEMENTED, ssh fails with "bad message during authentication: type
 * 20"), so the rekey tests authenticate first, minimally: our client signs a
 * publickey request with a key sshd's authorized_keys lists, and our server
 * lets ssh in with "none". */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../support/peer.h"
#include "pair.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- driving an engine over a socket --------------------------------------------- */

typedef struct session session;
struct session {
	sshrpc_transport *t;
	int fd;
	bool eof;
	/* test logic */
	bool asked, accepted, userauth_seen, done;
	bool do_auth, auth_sent, authed; /* publickey (client) or "none" accepted (server) */
	size_t ignore_to_push;
	uint32_t want_kex;
	int (*on_msg)(session *s, const uint8_t *m, size_t n);
	void (*step)(session *s);
};

/* text appears in out followed by the end of its line */
static bool has_line(const char *out, const char *text)
{
	size_t n = strlen(text);
	for (const char *p = strstr(out, text); p != NULL; p = strstr(p + 1, text))
		if (p[n] == '\r' || p[n] == '\n')
			return true;
	return false;
}

static int flush(session *s)
{
	size_t len;
	const uint8_t *o;
	while ((o = sshrpc_transport_output(s->t, &len)) != NULL && len > 0) {
		ssize_t k = write(s->fd, o, len);
		if (k <= 0)
			return -1;
		sshrpc_transport_output_consume(s->t, (size_t)k);
	}
	return 0;
}

/* Runs until s->done, a failure, or the deadline. */
static int run(session *s, int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;
	sshrpc_msg_io io = sshrpc_transport_io(s->t);
	for (;;) {
		if (flush(s) != 0 && !s->done)
			return -1;
		if (s->done)
			return 0;
		if (sshrpc_transport_get_state(s->t) == SSHRPC_TRANSPORT_CLOSED)
			return sshrpc_transport_error(s->t)->code;
		if (now_ms() > end)
			return SSHRPC_E_TIMEOUT;
		struct pollfd pf = { s->fd, POLLIN, 0 };
		if (!s->eof && poll(&pf, 1, 20) > 0) {
			size_t room;
			uint8_t *dst = sshrpc_transport_input_buffer(s->t, &room);
			if (room > 0) {
				ssize_t k = read(s->fd, dst, room);
				if (k > 0)
					cr_assert_eq(sshrpc_transport_input_commit(s->t, (size_t)k), SSHRPC_OK);
				else {
					s->eof = true;
					sshrpc_transport_input_eof(s->t);
				}
			}
		}
		cr_assert_eq(sshrpc_transport_tick(s->t, now_ms()) <= 0, true);
		for (;;) {
			const uint8_t *m;
			size_t n;
			int rc = io.recv(io.ctx, &m, &n);
			if (rc == SSHRPC_E_AGAIN)
				break;
			if (rc != SSHRPC_OK) {
				flush(s);
				return s->done ? 0 : rc;
			}
			if ((rc = s->on_msg(s, m, n)) != 0)
				return rc;
		}
		if (s->step != NULL)
			s->step(s);
	}
}

static int send_msg(sshrpc_transport *t, uint8_t type, const char *str)
{
	sshrpc_msg_io io = sshrpc_transport_io(t);
	sshrpc_buf *w;
	int rc = io.begin(io.ctx, type, &w);
	if (rc == SSHRPC_OK && str != NULL)
		rc = sshrpc_buf_put_cstring(w, str);
	if (rc == SSHRPC_OK)
		rc = io.end(io.ctx);
	return rc;
}

/* Pushes IGNORE packets while the output is short, so the peer sees a
 * steady stream. */
static void push_ignore(session *s)
{
	while (s->ignore_to_push > 0 && sshrpc_transport_get_state(s->t) == SSHRPC_TRANSPORT_ESTABLISHED) {
		size_t len;
		sshrpc_transport_output(s->t, &len);
		if (len > 256 * 1024)
			break;
		size_t k = s->ignore_to_push < 30000 ? s->ignore_to_push : 30000;
		int rc = sshrpc_transport_send_ignore(s->t, k);
		if (rc == SSHRPC_E_STATE)
			break;
		cr_assert_eq(rc, SSHRPC_OK);
		s->ignore_to_push -= k;
	}
}

/* ---- our client against sshd ------------------------------------------------------ */

static sshrpc_test_sshd sshd;

static sshrpc_key *user_key;

/* RFC 4252 §7: a publickey request for root, signed with user_key. Just
 * enough user authentication to get OpenSSH past its pre-auth state, in
 * which it refuses key re-exchange. */
static void send_userauth(session *s)
{
	sshrpc_buf blob, data;
	size_t sidlen;
	const uint8_t *sid = sshrpc_transport_session_id(s->t, &sidlen);
	sshrpc_buf_init(&blob, NULL, 0);
	sshrpc_buf_init(&data, NULL, 0);
	cr_assert_eq(sshrpc_key_to_blob(user_key, &blob), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&data, sid, sidlen), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u8(&data, SSH_MSG_USERAUTH_REQUEST), SSHRPC_OK);
	size_t body = data.len;
	cr_assert_eq(sshrpc_buf_put_cstring(&data, "root"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&data, "ssh-connection"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&data, "publickey"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_bool(&data, true), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&data, "ssh-ed25519"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&data, sshrpc_buf_ptr(&blob), blob.len), SSHRPC_OK);
	sshrpc_msg_io io = sshrpc_transport_io(s->t);
	sshrpc_buf *w;
	size_t mark;
	cr_assert_eq(io.begin(io.ctx, SSH_MSG_USERAUTH_REQUEST, &w), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put(w, sshrpc_buf_ptr(&data) + body, data.len - body), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_string_begin(w, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_key_sign(user_key, "ssh-ed25519", sshrpc_buf_ptr(&data), data.len, w), SSHRPC_OK);
	sshrpc_buf_string_end(w, mark);
	cr_assert_eq(io.end(io.ctx), SSHRPC_OK);
	sshrpc_buf_free(&blob);
	sshrpc_buf_free(&data);
	s->auth_sent = true;
}

static void client_step(session *s)
{
	if (!s->asked && sshrpc_transport_get_state(s->t) == SSHRPC_TRANSPORT_ESTABLISHED) {
		cr_assert_eq(send_msg(s->t, SSH_MSG_SERVICE_REQUEST, "ssh-userauth"), SSHRPC_OK);
		s->asked = true;
	}
	if (s->do_auth && s->accepted && !s->auth_sent)
		send_userauth(s);
	if (s->do_auth && !s->authed)
		return;
	push_ignore(s);
	if (s->accepted && s->ignore_to_push == 0 && sshrpc_transport_get_stats(s->t)->kex_count >= s->want_kex)
		s->done = true;
}

static int client_msg(session *s, const uint8_t *m, size_t n)
{
	if (m[0] == SSH_MSG_SERVICE_ACCEPT && n == 17 && memcmp(m + 5, "ssh-userauth", 12) == 0) {
		s->accepted = true;
		return 0;
	}
	if (s->auth_sent && m[0] == SSH_MSG_USERAUTH_SUCCESS) {
		s->authed = true;
		return 0;
	}
	if (s->auth_sent && m[0] == SSH_MSG_USERAUTH_BANNER)
		return 0;
	if (s->authed && m[0] >= SSH_MSG_GLOBAL_REQUEST)
		return 0; /* e.g. hostkeys-00@openssh.com */
	cr_log_error("unexpected message %u", m[0]);
	return SSHRPC_E_PROTOCOL;
}

static void client_session(sshrpc_transport_config *c, size_t push, uint32_t want_kex, bool auth)
{
	session s = { 0 };
	sshrpc_err err = { 0 };
	c->role = SSHRPC_ROLE_CLIENT;
	c->hostkey_check = sshrpc_transport_hostkey_accept_any;
	c->now_ms = now_ms();
	cr_assert_eq(sshrpc_transport_new(c, &s.t, &err), SSHRPC_OK, "%s", err.msg);
	s.fd = sshrpc_test_connect(sshd.port);
	cr_assert_geq(s.fd, 0);
	s.on_msg = client_msg;
	s.step = client_step;
	s.ignore_to_push = push;
	s.want_kex = want_kex;
	s.do_auth = auth;
	int rc = run(&s, 20000);
	if (rc != 0) {
		char *log = sshrpc_test_sshd_log(&sshd, NULL);
		size_t ll = log != NULL ? strlen(log) : 0;
		FILE *f = getenv("SSHRPC_TEST_SSHD_LOG") != NULL ? fopen(getenv("SSHRPC_TEST_SSHD_LOG"), "w") : NULL;
		if (f != NULL) {
			fputs(log != NULL ? log : "", f);
			fclose(f);
		}
		cr_log_error("sshd log tail:\n%s", log != NULL ? log + (ll > 3000 ? ll - 3000 : 0) : "");
		free(log);
	}
	cr_assert_eq(rc, 0, "rc %d: %s", rc, sshrpc_transport_error(s.t)->msg);
	cr_assert(s.accepted);
	const sshrpc_transport_algs *a = sshrpc_transport_get_algs(s.t);
	if (c->kex_algs != NULL)
		cr_assert_str_eq(a->kex, c->kex_algs);
	if (c->hostkey_algs != NULL)
		cr_assert_str_eq(a->hostkey, c->hostkey_algs);
	if (c->ciphers != NULL)
		cr_assert_str_eq(a->cipher_c2s, c->ciphers);
	if (c->macs != NULL && strstr(a->cipher_c2s, "gcm") == NULL && strstr(a->cipher_c2s, "chacha") == NULL)
		cr_assert_str_eq(a->mac_s2c, c->macs);
	cr_assert(a->strict_kex, "OpenSSH 9.2 has strict kex");
	cr_assert_not_null(sshrpc_transport_server_sig_algs(s.t), "no server-sig-algs from sshd");
	cr_assert_geq(sshrpc_transport_get_stats(s.t)->kex_count, want_kex);
	cr_assert_eq(sshrpc_transport_disconnect(s.t, SSH_DISCONNECT_BY_APPLICATION, "test done"), SSHRPC_OK);
	flush(&s);
	close(s.fd);
	sshrpc_transport_free(s.t);
}

static const char *const sshd_extra[] = {
	"KexAlgorithms +diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1",
	"Ciphers +aes128-cbc,aes192-cbc,aes256-cbc", "MACs +hmac-sha1,hmac-sha1-etm@openssh.com",
	"HostKeyAlgorithms +ssh-rsa", "RekeyLimit 1M", NULL
};

static void base64(const uint8_t *p, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v =
			(uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		out[o++] = tab[v >> 18 & 63];
		out[o++] = tab[v >> 12 & 63];
		out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

static void start_sshd(void)
{
	cr_assert_eq(sshrpc_test_sshd_start(&sshd, NULL, sshd_extra), 0, "cannot start sshd");
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &user_key), SSHRPC_OK);
	sshrpc_buf blob;
	sshrpc_buf_init(&blob, NULL, 0);
	cr_assert_eq(sshrpc_key_to_blob(user_key, &blob), SSHRPC_OK);
	char b64[256], path[400];
	cr_assert_lt(blob.len, 150);
	base64(sshrpc_buf_ptr(&blob), blob.len, b64);
	sshrpc_buf_free(&blob);
	snprintf(path, sizeof path, "%s/authorized_keys", sshd.dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "ssh-ed25519 %s test\n", b64);
	fclose(f);
}

static void stop_sshd(void)
{
	sshrpc_test_sshd_stop(&sshd);
	sshrpc_key_free(user_key);
	user_key = NULL;
}

/* Each list, one algorithm at a time. */
static void each(sshrpc_alg_kind kind, void (*one)(sshrpc_alg_kind, const char *))
{
	char all[1024];
	cr_assert_not_null(sshrpc_algs_all(kind, all, sizeof all));
	char *save = NULL;
	for (char *a = strtok_r(all, ",", &save); a != NULL; a = strtok_r(NULL, ",", &save))
		one(kind, a);
}

static void client_one(sshrpc_alg_kind kind, const char *alg)
{
	sshrpc_transport_config c = { 0 };
	switch (kind) {
	case SSHRPC_ALG_KEX:
		c.kex_algs = alg;
		break;
	case SSHRPC_ALG_HOSTKEY:
		c.hostkey_algs = alg;
		break;
	case SSHRPC_ALG_CIPHER:
		c.ciphers = alg;
		break;
	case SSHRPC_ALG_MAC:
		c.ciphers = "aes128-ctr";
		c.macs = alg;
		break;
	}
	cr_log_info("client vs sshd: %s", alg);
	client_session(&c, 0, 1, false);
}

TestSuite(openssh_client, .init = start_sshd, .fini = stop_sshd, .timeout = 120);

Test(openssh_client, kex)
{
	each(SSHRPC_ALG_KEX, client_one);
}
Test(openssh_client, hostkey)
{
	each(SSHRPC_ALG_HOSTKEY, client_one);
}
Test(openssh_client, cipher)
{
	each(SSHRPC_ALG_CIPHER, client_one);
}
Test(openssh_client, mac)
{
	each(SSHRPC_ALG_MAC, client_one);
}

Test(openssh_client, rekey_by_sshd)
{
	/* sshd has RekeyLimit 1M: our 3 MiB of IGNORE make it start a kex */
	sshrpc_transport_config c = { 0 };
	c.rekey_bytes = SSHRPC_REKEY_NEVER;
	client_session(&c, 3u << 20, 2, true);
}

Test(openssh_client, rekey_by_us)
{
	sshrpc_transport_config c = { 0 };
	c.rekey_bytes = 512 * 1024;
	client_session(&c, 3u << 20, 3, true);
}

/* ---- ssh against our server -------------------------------------------------------- */

static test_hostkeys hk;

static void make_keys(void)
{
	test_hostkeys_make(&hk, true);
}

static void free_keys(void)
{
	test_hostkeys_free(&hk);
}

static int server_msg(session *s, const uint8_t *m, size_t n)
{
	if (m[0] == SSH_MSG_SERVICE_REQUEST) {
		/* echo the service name back (RFC 4253 §10) */
		sshrpc_reader r;
		const uint8_t *name;
		size_t nl;
		char svc[64];
		sshrpc_rd_init(&r, m + 1, n - 1);
		cr_assert_eq(sshrpc_rd_string(&r, &name, &nl), SSHRPC_OK);
		cr_assert_lt(nl, sizeof svc);
		memcpy(svc, name, nl);
		svc[nl] = '\0';
		cr_assert_str_eq(svc, "ssh-userauth");
		s->accepted = true;
		return send_msg(s->t, SSH_MSG_SERVICE_ACCEPT, svc);
	}
	if (m[0] == SSH_MSG_USERAUTH_REQUEST) {
		s->userauth_seen = true;
		if (s->do_auth && !s->authed) {
			/* let ssh in with "none": OpenSSH's client takes a key
			 * re-exchange only once authenticated */
			s->authed = true;
			return send_msg(s->t, SSH_MSG_USERAUTH_SUCCESS, NULL);
		}
		return 0;
	}
	if (s->authed && m[0] >= SSH_MSG_GLOBAL_REQUEST)
		return 0; /* the session channel ssh opens stays unanswered */
	cr_log_error("unexpected message %u", m[0]);
	return SSHRPC_E_PROTOCOL;
}

static void server_step(session *s)
{
	if (!s->userauth_seen)
		return;
	push_ignore(s);
	if (s->ignore_to_push == 0 && sshrpc_transport_get_stats(s->t)->kex_count >= s->want_kex && !s->done) {
		cr_assert_eq(
			sshrpc_transport_disconnect(s->t, SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, "test done"),
			SSHRPC_OK);
		s->done = true;
	}
}

/* Runs ssh with the given options against a fresh server engine; returns
 * ssh's output (free it). */
static char *server_session(
	sshrpc_transport_config *c, const char *const *opts, size_t push, uint32_t want_kex, bool auth)
{
	static char every[4][1024];
	session s = { 0 };
	sshrpc_err err = { 0 };
	c->role = SSHRPC_ROLE_SERVER;
	c->host_keys = hk.keys;
	c->n_host_keys = hk.n;
	/* everything we built, so that ssh's forced choice is there */
	c->kex_algs = sshrpc_algs_all(SSHRPC_ALG_KEX, every[0], sizeof every[0]);
	c->hostkey_algs = sshrpc_algs_all(SSHRPC_ALG_HOSTKEY, every[1], sizeof every[1]);
	c->ciphers = sshrpc_algs_all(SSHRPC_ALG_CIPHER, every[2], sizeof every[2]);
	c->macs = sshrpc_algs_all(SSHRPC_ALG_MAC, every[3], sizeof every[3]);
	c->now_ms = now_ms();
	cr_assert_eq(sshrpc_transport_new(c, &s.t, &err), SSHRPC_OK, "%s", err.msg);
	int port;
	int lfd = sshrpc_test_listen(&port);
	cr_assert_geq(lfd, 0);
	const char *argv[64];
	char portbuf[16];
	static const char *const cmd[] = { "true", NULL };
	const char *extra[24] = { "-vvv" };
	size_t ne = 1;
	for (size_t i = 0; opts[i] != NULL && ne + 1 < 24; i++)
		extra[ne++] = opts[i];
	extra[ne] = NULL;
	cr_assert_eq(sshrpc_test_ssh_argv(argv, 64, portbuf, sizeof portbuf, port, extra, cmd), 0);
	sshrpc_test_proc p;
	cr_assert_eq(sshrpc_test_spawn(&p, argv, NULL), 0);
	s.fd = sshrpc_test_accept(lfd, 10000);
	close(lfd);
	cr_assert_geq(s.fd, 0, "ssh did not connect");
	s.on_msg = server_msg;
	s.step = server_step;
	s.ignore_to_push = push;
	s.want_kex = want_kex;
	s.do_auth = auth;
	int rc = run(&s, 20000);
	close(s.fd);
	sshrpc_test_proc_wait(&p, 10000);
	char *out = sshrpc_test_proc_output(&p, NULL);
	sshrpc_test_proc_cleanup(&p);
	if (rc != 0)
		cr_log_error("ssh output:\n%s", out);
	cr_assert_eq(rc, 0, "rc %d: %s", rc, sshrpc_transport_error(s.t)->msg);
	cr_assert(s.accepted && s.userauth_seen);
	cr_assert_not_null(strstr(out, "SSH2_MSG_SERVICE_ACCEPT received"), "%s", out);
	cr_assert(sshrpc_transport_get_algs(s.t)->strict_kex);
	cr_assert(sshrpc_transport_get_algs(s.t)->ext_info, "ssh offers ext-info-c");
	cr_assert_geq(sshrpc_transport_get_stats(s.t)->kex_count, want_kex);
	sshrpc_transport_free(s.t);
	return out;
}

static void server_one(sshrpc_alg_kind kind, const char *alg)
{
	char opt[256], expect[300];
	const char *opts[5] = { NULL };
	switch (kind) {
	case SSHRPC_ALG_KEX:
		snprintf(opt, sizeof opt, "KexAlgorithms=%s", alg);
		opts[0] = "-o";
		opts[1] = opt;
		snprintf(expect, sizeof expect, "kex: algorithm: %s", alg);
		break;
	case SSHRPC_ALG_HOSTKEY:
		snprintf(opt, sizeof opt, "HostKeyAlgorithms=%s", alg);
		opts[0] = "-o";
		opts[1] = opt;
		snprintf(expect, sizeof expect, "kex: host key algorithm: %s", alg);
		break;
	case SSHRPC_ALG_CIPHER:
		opts[0] = "-c";
		opts[1] = alg;
		snprintf(expect, sizeof expect, "kex: server->client cipher: %s MAC: %s compression: none", alg,
			strstr(alg, "gcm") != NULL || strstr(alg, "chacha") != NULL ? "<implicit>"
										    : "hmac-sha2-256-etm@openssh.com");
		break;
	case SSHRPC_ALG_MAC:
		opts[0] = "-c";
		opts[1] = "aes128-ctr";
		opts[2] = "-m";
		opts[3] = alg;
		snprintf(
			expect, sizeof expect, "kex: server->client cipher: aes128-ctr MAC: %s compression: none", alg);
		break;
	}
	cr_log_info("ssh vs our server: %s", alg);
	sshrpc_transport_config c = { 0 };
	char *out = server_session(&c, opts, 0, 1, false);
	cr_assert(has_line(out, expect), "'%s' not in ssh's output:\n%s", expect, out);
	free(out);
}

TestSuite(openssh_server, .init = make_keys, .fini = free_keys, .timeout = 120);

Test(openssh_server, kex)
{
	each(SSHRPC_ALG_KEX, server_one);
}
Test(openssh_server, hostkey)
{
	each(SSHRPC_ALG_HOSTKEY, server_one);
}
Test(openssh_server, cipher)
{
	each(SSHRPC_ALG_CIPHER, server_one);
}
Test(openssh_server, mac)
{
	each(SSHRPC_ALG_MAC, server_one);
}

Test(openssh_server, rekey_by_ssh)
{
	static const char *const opts[] = { "-o", "RekeyLimit=1M", NULL };
	sshrpc_transport_config c = { 0 };
	c.rekey_bytes = SSHRPC_REKEY_NEVER;
	char *out = server_session(&c, opts, 3u << 20, 2, true);
	free(out);
}

Test(openssh_server, rekey_by_us)
{
	static const char *const opts[] = { NULL };
	sshrpc_transport_config c = { 0 };
	c.rekey_bytes = 512 * 1024;
	char *out = server_session(&c, opts, 3u << 20, 3, true);
	cr_assert_not_null(strstr(out, "SSH2_MSG_KEXINIT received"));
	free(out);
}
