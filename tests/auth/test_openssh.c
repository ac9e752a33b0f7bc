/* Interop with OpenSSH 9.2 for user authentication, every key type, size
 * and file format ssh-keygen makes (ed25519, rsa 2048/3072/4096, ecdsa
 * 256/384/521; default, -m PEM, -m PKCS8; unencrypted and encrypted):
 *
 *   our client (transport + auth) -> sshd started by tests/support: the key
 *     file is loaded as a file identity (the passphrase through the
 *     callback, asked only after PK_OK) and USERAUTH_SUCCESS must come;
 *   ssh -v -i KEY -> our server (transport + auth) on a loopback socket:
 *     our server must accept, and ssh must say "Authenticated to". The
 *     encrypted keys' passphrases reach ssh through SSH_ASKPASS.
 *
 * No connection layer is involved: once authenticated, each side ends the
 * session. */
#include <criterion/criterion.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../support/peer.h"
#include "auth_test.h"
#include "sshrpc/transport.h"

#define PASS "interop passphrase"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the key files ------------------------------------------------------------ */

#define MAX_KEYS 48

typedef struct keyset {
	char dir[64];
	char path[MAX_KEYS][160];
	bool enc[MAX_KEYS];
	size_t n;
	sshrpc_buf authorized; /* every .pub line */
} keyset;

static void make_keys(keyset *ks)
{
	static const struct {
		const char *type;
		unsigned bits;
	} types[] = { { "ed25519", 256 }, { "rsa", 2048 }, { "rsa", 3072 }, { "rsa", 4096 }, { "ecdsa", 256 },
		{ "ecdsa", 384 }, { "ecdsa", 521 } };
	static const char *const formats[] = { "RFC4716", "PEM", "PKCS8" };
	memset(ks, 0, sizeof *ks);
	at_mkdtemp(ks->dir, sizeof ks->dir);
	sshrpc_buf_init(&ks->authorized, NULL, 0);
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		char base[128], pub[140];
		snprintf(base, sizeof base, "%s/%s%u", ks->dir, types[t].type, types[t].bits);
		snprintf(pub, sizeof pub, "%s.pub", base);
		cr_assert_eq(at_run("ssh-keygen -q -t %s -b %u -N '' -f %s", types[t].type, types[t].bits, base), 0);
		size_t n;
		uint8_t *d = at_read(pub, &n);
		cr_assert_eq(sshrpc_buf_put(&ks->authorized, d, n), SSHRPC_OK);
		free(d);
		for (size_t f = 0; f < 3; f++) {
			for (int enc = 0; enc < 2; enc++) {
				char *p = ks->path[ks->n];
				snprintf(p, 160, "%s-%s-%s", base, formats[f], enc ? "enc" : "plain");
				cr_assert_eq(
					at_run("cp %s %s && cp %s %s.pub && ssh-keygen -q -p -f %s -P '' -N '%s' -m %s "
					       ">/dev/null",
						base, p, pub, p, p, enc ? PASS : "", formats[f]),
					0);
				ks->enc[ks->n++] = enc;
			}
		}
	}
	cr_assert_eq(ks->n, 42);
}

/* ---- one endpoint over a socket ---------------------------------------------- */

typedef struct endpoint {
	sshrpc_transport *t;
	sshrpc_msg_io tio;
	int fd;
	bool eof;
	sshrpc_auth_client *c;
	sshrpc_auth_server *s;
	unsigned passphrase_calls;
	sshrpc_authkeys *ak; /* server */
	at_logbuf log;
} endpoint;

static int session_id(void *ud, const uint8_t **id, size_t *len)
{
	endpoint *e = ud;
	*id = sshrpc_transport_session_id(e->t, len);
	return *id != NULL ? SSHRPC_OK : SSHRPC_E_STATE;
}

static bool sig_algs(void *ud, const char **list, size_t *len)
{
	endpoint *e = ud;
	*list = sshrpc_transport_server_sig_algs(e->t);
	if (*list == NULL)
		return false;
	*len = strlen(*list);
	return true;
}

static int ask(void *ud, const char *label, unsigned attempt, char *out, size_t cap)
{
	endpoint *e = ud;
	e->passphrase_calls++;
	snprintf(out, cap, "%s", PASS);
	return SSHRPC_OK;
}

static int flush(endpoint *e)
{
	size_t len;
	const uint8_t *o;
	while ((o = sshrpc_transport_output(e->t, &len)) != NULL && len > 0) {
		ssize_t k = write(e->fd, o, len);
		if (k <= 0)
			return -1;
		sshrpc_transport_output_consume(e->t, (size_t)k);
	}
	return 0;
}

/* Runs until authentication ends (done or failed) or the guard time. */
static int run(endpoint *e, int guard_ms)
{
	uint64_t end = now_ms() + (uint64_t)guard_ms;
	for (;;) {
		int rc = e->c != NULL ? sshrpc_auth_client_process(e->c) : sshrpc_auth_server_process(e->s);
		bool done = e->c != NULL ? sshrpc_auth_client_done(e->c) : sshrpc_auth_server_done(e->s);
		if (flush(e) != 0 && !done)
			return SSHRPC_E_IO;
		if (done)
			return SSHRPC_OK;
		if (rc != SSHRPC_OK)
			return rc;
		if (now_ms() > end)
			return SSHRPC_E_TIMEOUT;
		struct pollfd pf = { e->fd, POLLIN, 0 };
		if (!e->eof && poll(&pf, 1, 20) > 0) {
			size_t room;
			uint8_t *dst = sshrpc_transport_input_buffer(e->t, &room);
			if (room > 0) {
				ssize_t k = read(e->fd, dst, room);
				if (k > 0) {
					cr_assert_eq(sshrpc_transport_input_commit(e->t, (size_t)k), SSHRPC_OK);
				} else {
					e->eof = true;
					sshrpc_transport_input_eof(e->t);
				}
			}
		}
		int trc = sshrpc_transport_tick(e->t, now_ms());
		(void)trc;
		if (e->s != NULL && sshrpc_auth_server_tick(e->s, now_ms()) != SSHRPC_OK)
			return SSHRPC_E_TIMEOUT;
	}
}

static void endpoint_free(endpoint *e)
{
	sshrpc_auth_client_free(e->c);
	sshrpc_auth_server_free(e->s);
	sshrpc_transport_free(e->t);
	if (e->fd >= 0)
		close(e->fd);
}

/* ---- our client -> sshd ----------------------------------------------------------- */

static sshrpc_test_sshd sshd;
static keyset keys;

static void start_sshd(void)
{
	make_keys(&keys);
	cr_assert_eq(sshrpc_test_sshd_start(&sshd, (const char *const[]){ "ed25519", NULL }, NULL), 0);
	char path[400];
	snprintf(path, sizeof path, "%s/authorized_keys", sshd.dir);
	at_write(path, sshrpc_buf_ptr(&keys.authorized), sshrpc_buf_len(&keys.authorized), 0600);
}

static void stop_sshd(void)
{
	sshrpc_test_sshd_stop(&sshd);
	sshrpc_buf_free(&keys.authorized);
	at_rmdir(keys.dir);
}

Test(openssh, our_client_every_key_to_sshd, .init = start_sshd, .fini = stop_sshd, .timeout = 600)
{
	for (size_t i = 0; i < keys.n; i++) {
		endpoint e;
		memset(&e, 0, sizeof e);
		e.fd = sshrpc_test_connect(sshd.port);
		cr_assert_geq(e.fd, 0);
		sshrpc_transport_config tc = { .role = SSHRPC_ROLE_CLIENT,
			.hostkey_check = sshrpc_transport_hostkey_accept_any,
			.now_ms = now_ms() };
		sshrpc_err err;
		sshrpc_err_clear(&err);
		cr_assert_eq(sshrpc_transport_new(&tc, &e.t, &err), SSHRPC_OK, "%s", err.msg);
		e.tio = sshrpc_transport_io(e.t);
		/* The identity file the way sshrpc loads it: bytes read with the
		 * permission check, public half from the .pub. */
		uint8_t *d, *pubd;
		size_t n, pn;
		char pub[170];
		snprintf(pub, sizeof pub, "%s.pub", keys.path[i]);
		cr_assert_eq(sshrpc_keyfile_read(NULL, keys.path[i], true, &d, &n, &err), SSHRPC_OK, "%s", err.msg);
		pubd = at_read(pub, &pn);
		sshrpc_file_identity fi;
		cr_assert_eq(sshrpc_file_identity_init(&fi, NULL, keys.path[i], d, n, pubd, pn, ask, &e, &err),
			SSHRPC_OK, "%s", err.msg);
		sshrpc_keyfile_free(NULL, d, n);
		free(pubd);
		sshrpc_auth_client_config cc = { .user = "root",
			.session_id = session_id,
			.server_sig_algs = sig_algs,
			.identities = &fi.id,
			.n_identities = 1,
			.ud = &e,
			.log = at_log,
			.log_ud = &e.log };
		cr_assert_eq(sshrpc_auth_client_new(&cc, &e.tio, &e.c, &err), SSHRPC_OK);
		int rc = run(&e, 60000);
		cr_assert_eq(rc, SSHRPC_OK, "%s: %d %s / %s\n%s", keys.path[i], rc, sshrpc_auth_client_error(e.c)->msg,
			sshrpc_transport_error(e.t)->msg, e.log.text);
		cr_assert(sshrpc_auth_client_done(e.c));
		cr_assert_eq(sshrpc_auth_client_identity(e.c), &fi.id);
		cr_assert_eq(e.passphrase_calls, keys.enc[i] ? 1u : 0u, "%s", keys.path[i]);
		int drc = sshrpc_transport_disconnect(e.t, SSH_DISCONNECT_BY_APPLICATION, "done");
		(void)drc;
		flush(&e);
		endpoint_free(&e);
		sshrpc_file_identity_free(&fi);
	}
	/* sshd's log agrees, once per key. Its session processes write the
	 * line a moment after our client saw SUCCESS: read again until all
	 * are there (the guard only bounds the wait). */
	unsigned accepted = 0;
	for (int tries = 0; tries < 200 && accepted < keys.n; tries++) {
		if (tries > 0)
			usleep(50000);
		size_t len;
		char *log = sshrpc_test_sshd_log(&sshd, &len);
		accepted = 0;
		for (char *p = strstr(log, "Accepted publickey for root"); p != NULL;
			p = strstr(p + 1, "Accepted publickey for root"))
			accepted++;
		free(log);
	}
	cr_assert_eq(accepted, keys.n, "%u of %zu accepted by sshd", accepted, keys.n);
}

/* ---- ssh -> our server -------------------------------------------------------------- */

static int allowed(void *ud, const char *user, const sshrpc_key *key, uint64_t now, const sshrpc_authkeys_entry **entry)
{
	endpoint *e = ud;
	sshrpc_authkeys_ctx ctx = { "127.0.0.1", NULL, (uint64_t)time(NULL), 0 };
	return sshrpc_authkeys_lookup(e->ak, key, &ctx, entry, NULL, 0);
}

static void make_only(void)
{
	make_keys(&keys);
}

static void free_only(void)
{
	sshrpc_buf_free(&keys.authorized);
	at_rmdir(keys.dir);
}

Test(openssh, ssh_every_key_to_our_server, .init = make_only, .fini = free_only, .timeout = 600)
{
	sshrpc_key *host = NULL;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &host), SSHRPC_OK);
	sshrpc_authkeys *ak = NULL;
	cr_assert_eq(sshrpc_authkeys_parse(NULL, "authorized_keys", sshrpc_buf_ptr(&keys.authorized),
			     sshrpc_buf_len(&keys.authorized), NULL, NULL, &ak),
		SSHRPC_OK);
	/* ssh reads the encrypted keys' passphrase from SSH_ASKPASS. */
	char askpass[128];
	static const char script[] = "#!/bin/sh\necho '" PASS "'\n";
	snprintf(askpass, sizeof askpass, "%s/askpass.sh", keys.dir);
	at_write(askpass, script, strlen(script), 0700);
	setenv("SSH_ASKPASS", askpass, 1);
	setenv("SSH_ASKPASS_REQUIRE", "force", 1);
	setenv("DISPLAY", "none", 1);
	for (size_t i = 0; i < keys.n; i++) {
		int port;
		int lfd = sshrpc_test_listen(&port);
		cr_assert_geq(lfd, 0);
		char portbuf[16];
		snprintf(portbuf, sizeof portbuf, "%d", port);
		const char *argv[] = { "/usr/bin/ssh", "-v", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o",
			"UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
			"-o", "KbdInteractiveAuthentication=no", "-o", "IdentityAgent=none", "-i", keys.path[i], "-p",
			portbuf, "-l", "tester", "127.0.0.1", "true", NULL };
		sshrpc_test_proc ssh;
		cr_assert_eq(sshrpc_test_spawn(&ssh, argv, keys.dir), 0);
		endpoint e;
		memset(&e, 0, sizeof e);
		e.ak = ak;
		e.fd = sshrpc_test_accept(lfd, 20000);
		close(lfd);
		cr_assert_geq(e.fd, 0, "ssh did not connect");
		sshrpc_transport_config tc = {
			.role = SSHRPC_ROLE_SERVER, .host_keys = &host, .n_host_keys = 1, .now_ms = now_ms()
		};
		sshrpc_err err;
		sshrpc_err_clear(&err);
		cr_assert_eq(sshrpc_transport_new(&tc, &e.t, &err), SSHRPC_OK, "%s", err.msg);
		e.tio = sshrpc_transport_io(e.t);
		sshrpc_auth_server_config sc = {
			.session_id = session_id, .pubkey_allowed = allowed, .ud = &e, .log = at_log, .log_ud = &e.log
		};
		cr_assert_eq(sshrpc_auth_server_new(&sc, &e.tio, now_ms(), &e.s, &err), SSHRPC_OK, "%s", err.msg);
		int rc = run(&e, 60000);
		bool done = sshrpc_auth_server_done(e.s);
		int drc = sshrpc_transport_disconnect(e.t, SSH_DISCONNECT_BY_APPLICATION, "test over");
		(void)drc;
		flush(&e);
		endpoint_free(&e);
		sshrpc_test_proc_wait(&ssh, 20000);
		char *out = sshrpc_test_proc_output(&ssh, NULL);
		cr_assert(rc == SSHRPC_OK && done, "%s: server %d\n%s\nssh:\n%s", keys.path[i], rc, e.log.text, out);
		cr_assert(strstr(out, "Authenticated to 127.0.0.1") != NULL, "%s:\n%s", keys.path[i], out);
		free(out);
		sshrpc_test_proc_cleanup(&ssh);
	}
	sshrpc_authkeys_free(ak);
	sshrpc_key_free(host);
}
