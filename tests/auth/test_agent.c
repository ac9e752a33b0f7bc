/* The ssh-agent protocol against a real ssh-agent started by the test:
 * keys added with ssh-add (one of them encrypted, its passphrase given
 * through SSH_ASKPASS), REQUEST_IDENTITIES and SIGN_REQUEST with the
 * rsa-sha2 flags, signatures checked with the .pub keys, and our userauth
 * client authenticating with agent keys only. The socket work here is what
 * a program does; auth/ only builds and parses the messages. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "auth_test.h"
#include "fake_pipe.h"

typedef struct agent {
	char dir[64];
	char sock[100];
	pid_t pid;
} agent;

static void agent_start(agent *ag)
{
	at_mkdtemp(ag->dir, sizeof ag->dir);
	snprintf(ag->sock, sizeof ag->sock, "%s/agent.sock", ag->dir);
	/* In the foreground (-D) as our own child, so that we can stop and
	 * reap it. */
	ag->pid = fork();
	cr_assert_geq(ag->pid, 0);
	if (ag->pid == 0) {
		int devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		execlp("ssh-agent", "ssh-agent", "-D", "-a", ag->sock, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1000 && access(ag->sock, F_OK) != 0; i++)
		usleep(10000);
	cr_assert_eq(access(ag->sock, F_OK), 0, "ssh-agent did not create its socket");
}

static void agent_stop(agent *ag)
{
	if (ag->pid > 0) {
		kill(ag->pid, SIGTERM);
		waitpid(ag->pid, NULL, 0);
		ag->pid = 0;
	}
	at_rmdir(ag->dir);
}

/* ssh-keygen a key in the agent's folder and ssh-add it; pass may be NULL. */
static sshrpc_key *agent_add(agent *ag, const char *name, const char *spec, const char *pass)
{
	char path[160], pub[170], askpass[170];
	snprintf(path, sizeof path, "%s/%s", ag->dir, name);
	snprintf(pub, sizeof pub, "%s.pub", path);
	cr_assert_eq(at_run("ssh-keygen -q %s -a 2 -N '%s' -C '%s comment' -f %s", spec, pass != NULL ? pass : "", name,
			     path),
		0);
	if (pass == NULL) {
		cr_assert_eq(at_run("SSH_AUTH_SOCK=%s ssh-add -q %s </dev/null 2>/dev/null", ag->sock, path), 0);
	} else {
		/* ssh-add asks through SSH_ASKPASS when forced to. */
		snprintf(askpass, sizeof askpass, "%s/askpass.sh", ag->dir);
		char script[256];
		snprintf(script, sizeof script, "#!/bin/sh\necho '%s'\n", pass);
		at_write(askpass, script, strlen(script), 0700);
		cr_assert_eq(at_run("SSH_AUTH_SOCK=%s SSH_ASKPASS=%s SSH_ASKPASS_REQUIRE=force DISPLAY=none "
				    "ssh-add -q %s </dev/null 2>/dev/null",
				     ag->sock, askpass, path),
			0);
	}
	return at_load_pub(pub);
}

/* What a program does: one request, one framed reply, over the socket. */
static int transact(void *ud, const uint8_t *req, size_t req_len, sshrpc_buf *reply)
{
	agent *ag = ud;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return SSHRPC_E_IO;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", ag->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		close(fd);
		return SSHRPC_E_IO;
	}
	size_t off = 0;
	while (off < req_len) {
		ssize_t w = write(fd, req + off, req_len - off);
		if (w <= 0) {
			close(fd);
			return SSHRPC_E_IO;
		}
		off += (size_t)w;
	}
	for (;;) {
		const uint8_t *msg;
		size_t msg_len, used;
		int rc = sshrpc_agent_reply(sshrpc_buf_ptr(reply), sshrpc_buf_len(reply), &msg, &msg_len, &used);
		if (rc == SSHRPC_OK)
			break;
		if (rc != SSHRPC_E_AGAIN) {
			close(fd);
			return rc;
		}
		uint8_t tmp[4096];
		ssize_t r = read(fd, tmp, sizeof tmp);
		if (r <= 0) {
			close(fd);
			return SSHRPC_E_IO;
		}
		rc = sshrpc_buf_put(reply, tmp, (size_t)r);
		if (rc != SSHRPC_OK) {
			close(fd);
			return rc;
		}
	}
	close(fd);
	return SSHRPC_OK;
}

typedef struct listing {
	sshrpc_agent_identity ids[8];
	size_t n;
	agent *ag;
} listing;

static int collect(void *ud, const sshrpc_agent_key *k)
{
	listing *l = ud;
	cr_assert_lt(l->n, 8);
	cr_assert_eq(sshrpc_agent_identity_init(&l->ids[l->n], NULL, k, transact, l->ag), SSHRPC_OK);
	l->n++;
	return 0;
}

static void list_keys(agent *ag, listing *l, sshrpc_buf *reply)
{
	memset(l, 0, sizeof *l);
	l->ag = ag;
	sshrpc_buf req;
	sshrpc_buf_init(&req, NULL, 0);
	sshrpc_buf_init(reply, NULL, SSHRPC_AGENT_MAX_MSG + 4);
	cr_assert_eq(sshrpc_agent_request_identities(&req), SSHRPC_OK);
	static const uint8_t want[] = { 0, 0, 0, 1, 11 };
	cr_assert_eq(sshrpc_buf_len(&req), 5);
	cr_assert(memcmp(sshrpc_buf_ptr(&req), want, 5) == 0);
	cr_assert_eq(transact(ag, sshrpc_buf_ptr(&req), sshrpc_buf_len(&req), reply), SSHRPC_OK);
	const uint8_t *msg;
	size_t msg_len, used, count;
	cr_assert_eq(
		sshrpc_agent_reply(sshrpc_buf_ptr(reply), sshrpc_buf_len(reply), &msg, &msg_len, &used), SSHRPC_OK);
	cr_assert_eq(sshrpc_agent_parse_identities(msg, msg_len, collect, l, &count), SSHRPC_OK);
	cr_assert_eq(count, l->n);
	sshrpc_buf_free(&req);
}

static void list_free(listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		sshrpc_agent_identity_free(&l->ids[i]);
}

static bool same_key(const sshrpc_auth_identity *id, const sshrpc_key *k)
{
	sshrpc_key *a = NULL;
	cr_assert_eq(sshrpc_key_from_blob(NULL, id->pub_blob, id->pub_len, &a), SSHRPC_OK);
	bool eq = sshrpc_key_equal_public(a, k);
	sshrpc_key_free(a);
	return eq;
}

/* One agent per test; .fini stops it even when an assertion failed. */
static agent the_agent;
static void setup_agent(void)
{
	agent_start(&the_agent);
}
static void stop_agent(void)
{
	agent_stop(&the_agent);
}

Test(agent, identities_and_signatures, .init = setup_agent, .fini = stop_agent, .timeout = 120)
{
	agent ag = the_agent;
	sshrpc_key *keys[4];
	keys[0] = agent_add(&ag, "ed", "-t ed25519", NULL);
	keys[1] = agent_add(&ag, "ec", "-t ecdsa -b 384", NULL);
	keys[2] = agent_add(&ag, "rsa", "-t rsa -b 2048", NULL);
	keys[3] = agent_add(&ag, "enc", "-t ed25519", "agent passphrase");
	listing l;
	sshrpc_buf reply;
	list_keys(&ag, &l, &reply);
	cr_assert_eq(l.n, 4);
	static const char *const comments[] = { "ed comment", "ec comment", "rsa comment", "enc comment" };
	for (size_t i = 0; i < 4; i++) {
		cr_assert(same_key(&l.ids[i].id, keys[i]), "key %zu", i);
		cr_assert_str_eq(l.ids[i].id.label, comments[i]);
	}
	static const uint8_t data[] = "session id and request";
	static const struct {
		size_t key;
		const char *alg;
	} sigs[] = { { 0, "ssh-ed25519" }, { 1, "ecdsa-sha2-nistp384" }, { 2, "rsa-sha2-256" }, { 2, "rsa-sha2-512" },
		{ 2, "ssh-rsa" }, { 3, "ssh-ed25519" } };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		const sshrpc_auth_identity *id = &l.ids[sigs[i].key].id;
		sshrpc_buf sig;
		sshrpc_buf_init(&sig, NULL, 0);
		cr_assert_eq(id->sign(id->ud, sigs[i].alg, data, sizeof data, &sig), SSHRPC_OK, "%s", sigs[i].alg);
		cr_assert_eq(sshrpc_key_verify(keys[sigs[i].key], sigs[i].alg, sshrpc_buf_ptr(&sig),
				     sshrpc_buf_len(&sig), data, sizeof data),
			SSHRPC_OK, "%s", sigs[i].alg);
		sshrpc_buf_free(&sig);
	}
	/* A key the agent does not hold: it answers FAILURE. */
	sshrpc_key *other = NULL;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &other), SSHRPC_OK);
	sshrpc_buf blob;
	sshrpc_buf_init(&blob, NULL, 0);
	cr_assert_eq(sshrpc_key_to_blob(other, &blob), SSHRPC_OK);
	sshrpc_agent_key ak = { sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), (const uint8_t *)"x", 1 };
	sshrpc_agent_identity ai;
	cr_assert_eq(sshrpc_agent_identity_init(&ai, NULL, &ak, transact, &ag), SSHRPC_OK);
	sshrpc_buf sig;
	sshrpc_buf_init(&sig, NULL, 0);
	cr_assert_eq(ai.id.sign(ai.id.ud, "ssh-ed25519", data, sizeof data, &sig), SSHRPC_E_DENIED);
	cr_assert_eq(sshrpc_buf_len(&sig), 0);
	sshrpc_agent_identity_free(&ai);
	sshrpc_buf_free(&blob);
	sshrpc_key_free(other);
	list_free(&l);
	sshrpc_buf_free(&reply);
	for (size_t i = 0; i < 4; i++)
		sshrpc_key_free(keys[i]);
}

/* ---- our client, agent keys only, against our server ------------------------------ */

typedef struct pair {
	fp_end c, s;
	sshrpc_authkeys *ak;
	uint8_t sid[32];
} pair;

static int sid_cb(void *ud, const uint8_t **id, size_t *len)
{
	pair *p = ud;
	*id = p->sid;
	*len = sizeof p->sid;
	return SSHRPC_OK;
}

static int allowed(
	void *ud, const char *user, const sshrpc_key *key, uint64_t now_ms, const sshrpc_authkeys_entry **entry)
{
	pair *p = ud;
	sshrpc_authkeys_ctx ctx = { "127.0.0.1", NULL, now_ms / 1000, 0 };
	return sshrpc_authkeys_lookup(p->ak, key, &ctx, entry, NULL, 0);
}

static bool sig_algs(void *ud, const char **list, size_t *len)
{
	*list = "rsa-sha2-256,rsa-sha2-512,ssh-ed25519,ecdsa-sha2-nistp384";
	*len = strlen(*list);
	return true;
}

static void authenticate_with(agent *ag, size_t allowed_key, sshrpc_key **keys, size_t nkeys)
{
	listing l;
	sshrpc_buf reply;
	list_keys(ag, &l, &reply);
	cr_assert_eq(l.n, nkeys);
	pair p;
	memset(&p, 0, sizeof p);
	memset(p.sid, 0x42, sizeof p.sid);
	fp_pair(&p.c, &p.s);
	sshrpc_buf line;
	sshrpc_buf_init(&line, NULL, 0);
	cr_assert_eq(sshrpc_pubkey_format(keys[allowed_key], "the agent key", &line), SSHRPC_OK);
	cr_assert_eq(sshrpc_authkeys_parse(NULL, "ak", sshrpc_buf_ptr(&line), sshrpc_buf_len(&line), NULL, NULL, &p.ak),
		SSHRPC_OK);
	sshrpc_buf_free(&line);
	sshrpc_auth_identity ids[8];
	for (size_t i = 0; i < l.n; i++)
		ids[i] = l.ids[i].id;
	sshrpc_auth_server_config sc = { .session_id = sid_cb, .pubkey_allowed = allowed, .ud = &p };
	sshrpc_auth_client_config cc = { .user = "alice",
		.session_id = sid_cb,
		.server_sig_algs = sig_algs,
		.identities = ids,
		.n_identities = l.n,
		.ud = &p };
	sshrpc_auth_server *srv;
	sshrpc_auth_client *cli;
	sshrpc_err err;
	sshrpc_err_clear(&err);
	cr_assert_eq(sshrpc_auth_server_new(&sc, &p.s.io, 0, &srv, &err), SSHRPC_OK);
	cr_assert_eq(sshrpc_auth_client_new(&cc, &p.c.io, &cli, &err), SSHRPC_OK);
	for (int i = 0; i < 100 && !sshrpc_auth_client_done(cli); i++) {
		int rc = sshrpc_auth_client_process(cli);
		cr_assert_eq(rc, SSHRPC_OK, "%s", sshrpc_auth_client_error(cli)->msg);
		rc = sshrpc_auth_server_process(srv);
		cr_assert_eq(rc, SSHRPC_OK, "%s", sshrpc_auth_server_error(srv)->msg);
	}
	cr_assert(sshrpc_auth_client_done(cli));
	cr_assert(sshrpc_auth_server_done(srv));
	cr_assert_eq(sshrpc_auth_client_identity(cli), &ids[allowed_key]);
	cr_assert_eq(sshrpc_auth_server_failures(srv), allowed_key);
	sshrpc_auth_client_free(cli);
	sshrpc_auth_server_free(srv);
	sshrpc_authkeys_free(p.ak);
	fp_free(&p.c);
	fp_free(&p.s);
	list_free(&l);
	sshrpc_buf_free(&reply);
}

Test(agent, client_authenticates_with_agent_keys_only, .init = setup_agent, .fini = stop_agent, .timeout = 120)
{
	agent ag = the_agent;
	sshrpc_key *keys[3];
	keys[0] = agent_add(&ag, "ec", "-t ecdsa -b 384", NULL);
	keys[1] = agent_add(&ag, "rsa", "-t rsa -b 2048", NULL);
	keys[2] = agent_add(&ag, "enc", "-t ed25519", "agent passphrase");
	/* Each key in turn is the authorized one; the agent's order is kept. */
	for (size_t k = 0; k < 3; k++)
		authenticate_with(&ag, k, keys, 3);
	for (size_t i = 0; i < 3; i++)
		sshrpc_key_free(keys[i]);
}

/* ---- the parsers on their own ----------------------------------------------------------- */

static int count_only(void *ud, const sshrpc_agent_key *k)
{
	(*(size_t *)ud)++;
	return 0;
}

Test(agent, reply_parsing)
{
	const uint8_t *msg;
	size_t msg_len, used, n = 0, count;
	static const uint8_t partial[] = { 0, 0, 0, 5, 12, 0 };
	cr_assert_eq(sshrpc_agent_reply(partial, 3, &msg, &msg_len, &used), SSHRPC_E_AGAIN);
	cr_assert_eq(sshrpc_agent_reply(partial, sizeof partial, &msg, &msg_len, &used), SSHRPC_E_AGAIN);
	static const uint8_t huge[] = { 0, 0x10, 0, 1, 12 };
	cr_assert_eq(sshrpc_agent_reply(huge, sizeof huge, &msg, &msg_len, &used), SSHRPC_E_TOO_LARGE);
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	cr_assert_eq(sshrpc_agent_reply(zero, sizeof zero, &msg, &msg_len, &used), SSHRPC_E_INVALID);
	static const uint8_t failure[] = { SSH_AGENT_FAILURE };
	cr_assert_eq(sshrpc_agent_parse_identities(failure, 1, count_only, &n, &count), SSHRPC_E_DENIED);
	cr_assert_eq(sshrpc_agent_parse_sign_response(failure, 1, &msg, &msg_len), SSHRPC_E_DENIED);
	/* Two keys announced, one present: nothing is handed out. */
	static const uint8_t short_list[] = { 12, 0, 0, 0, 2, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'c' };
	n = 0;
	cr_assert_eq(
		sshrpc_agent_parse_identities(short_list, sizeof short_list, count_only, &n, &count), SSHRPC_E_INVALID);
	cr_assert_eq(n, 0);
	static const uint8_t one[] = { 12, 0, 0, 0, 1, 0, 0, 0, 1, 'k', 0, 0, 0, 1, 'c' };
	cr_assert_eq(sshrpc_agent_parse_identities(one, sizeof one, count_only, &n, &count), SSHRPC_OK);
	cr_assert_eq(n, 1);
	static const uint8_t absurd[] = { 12, 0xff, 0xff, 0xff, 0xff };
	cr_assert_eq(sshrpc_agent_parse_identities(absurd, sizeof absurd, count_only, &n, &count), SSHRPC_E_INVALID);
	/* A sign response must hold (string alg, string sig). */
	static const uint8_t sig_ok[] = { 14, 0, 0, 0, 10, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 's' };
	cr_assert_eq(sshrpc_agent_parse_sign_response(sig_ok, sizeof sig_ok, &msg, &msg_len), SSHRPC_OK);
	cr_assert_eq(msg_len, 10);
	static const uint8_t sig_bad[] = { 14, 0, 0, 0, 5, 0, 0, 0, 1, 'a' };
	cr_assert_eq(sshrpc_agent_parse_sign_response(sig_bad, sizeof sig_bad, &msg, &msg_len), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_agent_sign_flags("rsa-sha2-256"), SSHRPC_AGENT_RSA_SHA2_256);
	cr_assert_eq(sshrpc_agent_sign_flags("rsa-sha2-512"), SSHRPC_AGENT_RSA_SHA2_512);
	cr_assert_eq(sshrpc_agent_sign_flags("ssh-ed25519"), 0);
}
