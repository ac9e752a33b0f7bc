/* Interop with OpenSSH 9.2, the connection layer on top of our transport and
 * auth engines (driven over sockets by programs/common/sshconn):
 *
 *   our client -> sshd (tests/support starts it, MaxSessions 300):
 *     exec `cat` with 256 MiB pushed through it both ways, every byte
 *     checked; 200 exec channels at once on one connection; stdout, stderr,
 *     exit-status and exit-signal;
 *   ssh -> our server (a loopback socket driven here): exec and subsystem
 *     requests, and ControlMaster with 100 concurrent `ssh -S` sessions
 *     multiplexed over one connection.
 *
 * SSHRPC_INTEROP_MIB overrides the 256 MiB of the cat test. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../support/peer.h"
#include "pipe.h"
#include "sshconn.h"
#include "sshrpc/keys.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nonblocking(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	cr_assert_geq(fl, 0);
	cr_assert_eq(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
}

/* ssh-keygen an ed25519 key at path (and path.pub). */
static void keygen(const char *path)
{
	const char *argv[] = { "/usr/bin/ssh-keygen", "-q", "-N", "", "-C", "", "-t", "ed25519", "-f", path, NULL };
	cr_assert_eq(sshrpc_test_run(argv, 30000, NULL), 0, "ssh-keygen %s", path);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	char *buf = malloc(1 << 16);
	size_t n = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	buf[n] = 0;
	if (len != NULL)
		*len = n;
	return buf;
}

/* One socket, one engine stack; pumped until pred says stop. */
static void pump_once(sshconn *s, int timeout_ms)
{
	uint64_t now = now_ms();
	sshconn_pump(s, now);
	bool pending = sshconn_flush(s);
	if (s->dead)
		return;
	struct pollfd pf = { s->fd, (short)((sshconn_can_read(s) ? POLLIN : 0) | (pending ? POLLOUT : 0)), 0 };
	uint64_t d = sshconn_deadline(s);
	int t = timeout_ms;
	if (d != UINT64_MAX && d <= now)
		t = 0;
	if (poll(&pf, 1, t) > 0 && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
		sshconn_read(s);
	now = now_ms();
	if (d != UINT64_MAX && now >= d)
		sshconn_tick(s, now);
	sshconn_pump(s, now);
	sshconn_flush(s);
}

/* ---- our client against sshd -------------------------------------------------- */

struct ichan {
	uint32_t id, stream;
	size_t total, sent, got;
	bool echo; /* stdout must be the stream echoed back */
	bool replied, reply_ok, eof_sent, eof, closed;
	int exit_status;
	char signal[16];
	char out[256], err[256];
	size_t out_len, err_len;
};

struct icli {
	sshrpc_test_sshd d;
	char key[400];
	sshrpc_file_identity fi;
	sshrpc_auth_identity ids[1];
	sshrpc_transport_config tcfg;
	sshrpc_auth_client_config acfg;
	sshrpc_conn_cfg ccfg;
	sshconn s;
	uint8_t tmp[65536];
};

static int accept_any_hostkey(void *ud, const sshrpc_key *key, const char *alg)
{
	(void)ud;
	(void)key;
	(void)alg;
	return SSHRPC_OK;
}

static void ichan_fill(struct icli *c, struct ichan *ch)
{
	while (ch->sent < ch->total) {
		size_t k = ch->total - ch->sent;
		if (k > sizeof c->tmp)
			k = sizeof c->tmp;
		tp_gen_fill(ch->stream, ch->sent, c->tmp, k);
		size_t w;
		int rc = sshrpc_chan_write(c->s.c, ch->id, c->tmp, k, &w);
		ch->sent += w;
		if (rc == SSHRPC_E_WOULDBLOCK)
			return;
		cr_assert_eq(rc, SSHRPC_OK, "write: %s", sshrpc_strerror(rc));
	}
	if (!ch->eof_sent) {
		ch->eof_sent = true;
		cr_assert_eq(sshrpc_chan_eof(c->s.c, ch->id), SSHRPC_OK);
	}
}

static void icli_event(void *ud, sshrpc_conn *conn, sshrpc_conn_event *ev)
{
	struct icli *c = ud;
	struct ichan *ch = ev->userdata;
	(void)conn;
	if (ch == NULL)
		return;
	switch (ev->type) {
	case SSHRPC_CONN_EV_OPEN_FAILED:
		cr_assert_fail("sshd refused channel %u: %.*s", ev->id, (int)ev->u.open_failed.description_len,
			ev->u.open_failed.description);
		break;
	case SSHRPC_CONN_EV_REQUEST_REPLY:
		ch->replied = true;
		ch->reply_ok = ev->u.reply.success;
		if (ch->reply_ok)
			ichan_fill(c, ch);
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		if (ch->replied)
			ichan_fill(c, ch);
		break;
	case SSHRPC_CONN_EV_DATA:
		if (ev->u.data.stream == SSHRPC_CHAN_STDOUT && ch->echo) {
			size_t ok = tp_gen_check(ch->stream, ch->got, ev->u.data.p, ev->u.data.len);
			cr_assert_eq(ok, ev->u.data.len, "byte %zu of the echo differs", ch->got + ok);
			ch->got += ev->u.data.len;
		} else {
			char *dst = ev->u.data.stream == SSHRPC_CHAN_STDOUT ? ch->out : ch->err;
			size_t *dl = ev->u.data.stream == SSHRPC_CHAN_STDOUT ? &ch->out_len : &ch->err_len;
			size_t k = ev->u.data.len;
			if (k > 255 - *dl)
				k = 255 - *dl;
			memcpy(dst + *dl, ev->u.data.p, k);
			*dl += k;
		}
		ev->u.data.consumed = ev->u.data.len;
		break;
	case SSHRPC_CONN_EV_EXIT_STATUS:
		ch->exit_status = (int)ev->u.exit_status.status;
		break;
	case SSHRPC_CONN_EV_EXIT_SIGNAL:
		snprintf(ch->signal, sizeof ch->signal, "%.*s", (int)ev->u.exit_signal.signal_len,
			ev->u.exit_signal.signal);
		break;
	case SSHRPC_CONN_EV_EOF:
		ch->eof = true;
		break;
	case SSHRPC_CONN_EV_CLOSE:
		ch->closed = true;
		break;
	default:
		break;
	}
}

static struct icli *icli_start(const char *const *sshd_extra)
{
	struct icli *c = calloc(1, sizeof *c);
	static const char *const keys[] = { "ed25519", NULL };
	cr_assert_eq(sshrpc_test_sshd_start(&c->d, keys, sshd_extra), 0, "sshd did not start");
	snprintf(c->key, sizeof c->key, "%s/client_key", c->d.dir);
	keygen(c->key);
	char pubpath[420], akpath[420];
	snprintf(pubpath, sizeof pubpath, "%s.pub", c->key);
	snprintf(akpath, sizeof akpath, "%s/authorized_keys", c->d.dir);
	size_t publen;
	char *pub = slurp(pubpath, &publen);
	FILE *f = fopen(akpath, "w");
	cr_assert_not_null(f);
	fwrite(pub, 1, publen, f);
	fclose(f);
	uint8_t *data;
	size_t len;
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_keyfile_read(NULL, c->key, true, &data, &len, &err), SSHRPC_OK, "%s", err.msg);
	cr_assert_eq(sshrpc_file_identity_init(
			     &c->fi, NULL, c->key, data, len, (const uint8_t *)pub, publen, NULL, NULL, &err),
		SSHRPC_OK, "%s", err.msg);
	sshrpc_keyfile_free(NULL, data, len);
	free(pub);
	c->ids[0] = c->fi.id;

	int fd = sshrpc_test_connect(c->d.port);
	cr_assert_geq(fd, 0);
	nonblocking(fd);
	c->tcfg = (sshrpc_transport_config){ .role = SSHRPC_ROLE_CLIENT, .hostkey_check = accept_any_hostkey };
	c->acfg = (sshrpc_auth_client_config){
		.user = "root", .identities = c->ids, .n_identities = 1, .preferred = "publickey"
	};
	c->ccfg = (sshrpc_conn_cfg){
		.role = SSHRPC_CONN_CLIENT, .on_event = icli_event, .event_ud = c, .max_channels = 1000
	};
	cr_assert_eq(
		sshconn_init(&c->s, fd, &c->tcfg, NULL, &c->acfg, &c->ccfg, now_ms(), &err), SSHRPC_OK, "%s", err.msg);
	uint64_t end = now_ms() + 30000;
	while (!c->s.authed && !c->s.dead && now_ms() < end)
		pump_once(&c->s, 50);
	cr_assert(c->s.authed, "authentication to sshd: %s", c->s.why);
	return c;
}

static void icli_stop(struct icli *c)
{
	if (!c->s.dead) {
		SSHRPC_IGNORE(sshrpc_transport_disconnect(c->s.t, SSH_DISCONNECT_BY_APPLICATION, "bye"));
		sshconn_flush(&c->s);
	}
	close(c->s.fd);
	sshconn_free(&c->s);
	sshrpc_file_identity_free(&c->fi);
	sshrpc_test_sshd_stop(&c->d);
	free(c);
}

static bool all_closed(struct ichan *chs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!chs[i].closed)
			return false;
	return true;
}

static void icli_run(struct icli *c, struct ichan *chs, size_t n, int timeout_s)
{
	uint64_t end = now_ms() + (uint64_t)timeout_s * 1000;
	while (!all_closed(chs, n) && !c->s.dead && now_ms() < end)
		pump_once(&c->s, 50);
	if (c->s.dead || !all_closed(chs, n)) {
		char *log = sshrpc_test_sshd_log(&c->d, NULL);
		size_t ll = log ? strlen(log) : 0;
		fprintf(stderr, "sshd log (tail):\n%s\n", log ? log + (ll > 3000 ? ll - 3000 : 0) : "");
		free(log);
	}
	cr_assert_not(c->s.dead, "connection died: %s", c->s.why);
	cr_assert(all_closed(chs, n), "timed out");
}

static void open_exec(struct icli *c, struct ichan *ch, const char *cmd)
{
	ch->exit_status = -1;
	cr_assert_eq(sshrpc_chan_open_session(c->s.c, ch, &ch->id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_exec(c->s.c, ch->id, cmd, strlen(cmd), true), SSHRPC_OK);
}

Test(openssh, our_client_pushes_256_mib_through_cat, .timeout = 600)
{
	struct icli *c = icli_start(NULL);
	size_t mib = 256;
	const char *env = getenv("SSHRPC_INTEROP_MIB");
	if (env != NULL && atoi(env) > 0)
		mib = (size_t)atoi(env);
	struct ichan ch = { .stream = 7, .total = mib << 20, .echo = true };
	open_exec(c, &ch, "cat");
	icli_run(c, &ch, 1, 540);
	cr_assert(ch.reply_ok);
	cr_assert_eq(ch.sent, ch.total);
	cr_assert_eq(ch.got, ch.total, "%zu of %zu bytes came back", ch.got, ch.total);
	cr_assert(ch.eof);
	cr_assert_eq(ch.exit_status, 0);
	sshrpc_chan_info info;
	cr_assert_neq(sshrpc_chan_get_info(c->s.c, ch.id, &info), SSHRPC_OK, "the id is free after both CLOSEs");
	icli_stop(c);
}

Test(openssh, our_client_runs_200_exec_channels_at_once, .timeout = 300)
{
	static const char *const extra[] = { "MaxSessions 300", NULL };
	struct icli *c = icli_start(extra);
	enum { N = 200 };
	struct ichan *chs = calloc(N, sizeof *chs);
	for (uint32_t i = 0; i < N; i++) {
		chs[i].stream = 100 + i;
		chs[i].total = 1000 + (size_t)i * 997;
		chs[i].echo = true;
		open_exec(c, &chs[i], "cat");
	}
	cr_assert_eq(sshrpc_conn_channel_count(c->s.c), N);
	icli_run(c, chs, N, 240);
	for (uint32_t i = 0; i < N; i++) {
		cr_assert(chs[i].reply_ok, "channel %u", i);
		cr_assert_eq(chs[i].got, chs[i].total, "channel %u: %zu of %zu", i, chs[i].got, chs[i].total);
		cr_assert_eq(chs[i].exit_status, 0, "channel %u", i);
	}
	cr_assert_eq(sshrpc_conn_channel_count(c->s.c), 0);
	free(chs);
	icli_stop(c);
}

Test(openssh, stderr_exit_status_and_exit_signal, .timeout = 120)
{
	struct icli *c = icli_start(NULL);
	struct ichan chs[4] = { 0 };
	open_exec(c, &chs[0], "printf out; printf err >&2; exit 7");
	open_exec(c, &chs[1], "kill -TERM $$");
	open_exec(c, &chs[2], "true");
	/* A subsystem sshd does not have: refused, and the channel closes. */
	chs[3].exit_status = -1;
	cr_assert_eq(sshrpc_chan_open_session(c->s.c, &chs[3], &chs[3].id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_subsystem(c->s.c, chs[3].id, "no-such-subsystem", true), SSHRPC_OK);
	uint64_t end = now_ms() + 60000;
	while (!(chs[0].closed && chs[1].closed && chs[2].closed && chs[3].replied) && !c->s.dead && now_ms() < end)
		pump_once(&c->s, 50);
	cr_assert_not(c->s.dead, "%s", c->s.why);
	cr_assert_eq(chs[0].out_len, 3);
	cr_assert_eq(memcmp(chs[0].out, "out", 3), 0);
	/* sshd at LogLevel DEBUG3 (the fixture's) copies its session
	 * child's debug lines to stderr ahead of the command's own output. */
	cr_assert_geq(chs[0].err_len, 3);
	cr_assert_eq(
		memcmp(chs[0].err + chs[0].err_len - 3, "err", 3), 0, "stderr: %.*s", (int)chs[0].err_len, chs[0].err);
	cr_assert_eq(chs[0].exit_status, 7);
	cr_assert_str_eq(chs[1].signal, "TERM");
	cr_assert_eq(chs[1].exit_status, -1);
	cr_assert_eq(chs[2].exit_status, 0);
	cr_assert(chs[3].replied);
	cr_assert_not(chs[3].reply_ok);
	cr_assert_eq(sshrpc_chan_close(c->s.c, chs[3].id), SSHRPC_OK);
	icli_run(c, &chs[3], 1, 30);
	icli_stop(c);
}

/* ---- OpenSSH's ssh against our server ------------------------------------------ */

struct schan {
	uint32_t id;
	bool echo, eof, finished;
};

/* With SSHRPC_CONN_RECORD=DIR, what each server connection's connection
 * layer receives from ssh is written to DIR in fuzz_conn.c's input format
 * (server role): that is where fuzz/connection/corpus_conn/openssh_* came
 * from. */
struct recorder {
	sshrpc_msg_io inner;
	FILE *f;
	unsigned n;
};

static int rec_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	struct recorder *r = ctx;
	int rc = r->inner.recv(r->inner.ctx, msg, len);
	if (rc == SSHRPC_OK && r->f != NULL && r->n < 400 && *len < 4096) {
		uint8_t h[2] = { (uint8_t)(*len >> 8), (uint8_t)*len };
		fwrite(h, 1, 2, r->f);
		fwrite(*msg, 1, *len, r->f);
		r->n++;
	}
	return rc;
}

static int rec_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	struct recorder *r = ctx;
	return r->inner.begin(r->inner.ctx, type, w);
}

static int rec_end(void *ctx)
{
	struct recorder *r = ctx;
	return r->inner.end(r->inner.ctx);
}

static int rec_disconnect(void *ctx, uint32_t reason, const char *description)
{
	struct recorder *r = ctx;
	return r->inner.disconnect(r->inner.ctx, reason, description);
}

static const sshrpc_err *rec_error(void *ctx)
{
	struct recorder *r = ctx;
	return r->inner.error(r->inner.ctx);
}

struct sconn {
	struct recorder rec;
	bool used;
	sshconn s;
	sshrpc_transport_config tcfg;
	sshrpc_auth_server_config acfg;
	sshrpc_conn_cfg ccfg;
	struct srv *srv;
};

#define MAX_SCONN 16

struct srv {
	char dir[64];
	char key[128];
	sshrpc_key *hostkey;
	int lfd, port;
	struct sconn conns[MAX_SCONN];
	unsigned sessions, execs, subsystems;
};

static int srv_pubkey_allowed(
	void *ud, const char *user, const sshrpc_key *key, uint64_t now, const sshrpc_authkeys_entry **entry)
{
	/* Authentication is not under test here: any key the client proves
	 * it holds is accepted. */
	(void)ud;
	(void)user;
	(void)key;
	(void)now;
	*entry = NULL;
	return SSHRPC_OK;
}

static void schan_finish(sshrpc_conn *c, struct schan *ch)
{
	if (ch->finished || !ch->eof || sshrpc_chan_readable(c, ch->id, SSHRPC_CHAN_STDOUT) > 0)
		return;
	ch->finished = true;
	cr_assert_eq(sshrpc_chan_exit_status(c, ch->id, 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_eof(c, ch->id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_close(c, ch->id), SSHRPC_OK);
}

static void schan_echo_buffered(sshrpc_conn *c, struct schan *ch)
{
	const uint8_t *p;
	size_t len, w;
	while (sshrpc_chan_peek(c, ch->id, SSHRPC_CHAN_STDOUT, &p, &len) == SSHRPC_OK) {
		int rc = sshrpc_chan_write(c, ch->id, p, len, &w);
		cr_assert_eq(sshrpc_chan_consume(c, ch->id, SSHRPC_CHAN_STDOUT, w), SSHRPC_OK);
		if (rc != SSHRPC_OK)
			break;
	}
}

static void srv_event(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct sconn *sc = ud;
	struct srv *srv = sc->srv;
	struct schan *ch = ev->userdata;
	size_t w;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		ch = calloc(1, sizeof *ch);
		ch->id = ev->id;
		srv->sessions++;
		cr_assert_eq(sshrpc_chan_accept(c, ev->id, ch), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_REQUEST: {
		const char *s = ev->u.request.str;
		size_t sl = ev->u.request.str_len;
		if (ev->u.request.kind == SSHRPC_REQ_EXEC && sl > 5 && memcmp(s, "echo ", 5) == 0) {
			srv->execs++;
			cr_assert_eq(sshrpc_chan_reply(c, ev->id, true), SSHRPC_OK);
			cr_assert_eq(sshrpc_chan_write(c, ev->id, s + 5, sl - 5, &w), SSHRPC_OK);
			cr_assert_eq(sshrpc_chan_write(c, ev->id, "\n", 1, &w), SSHRPC_OK);
			ch->eof = true;
			schan_finish(c, ch);
		} else if ((ev->u.request.kind == SSHRPC_REQ_EXEC && sl == 3 && memcmp(s, "cat", 3) == 0) ||
			   (ev->u.request.kind == SSHRPC_REQ_SUBSYSTEM && sl == 4 && memcmp(s, "echo", 4) == 0)) {
			if (ev->u.request.kind == SSHRPC_REQ_SUBSYSTEM)
				srv->subsystems++;
			else
				srv->execs++;
			ch->echo = true;
			cr_assert_eq(sshrpc_chan_reply(c, ev->id, true), SSHRPC_OK);
		} else {
			cr_assert_eq(sshrpc_chan_reply(c, ev->id, ev->u.request.kind == SSHRPC_REQ_ENV), SSHRPC_OK);
		}
		break;
	}
	case SSHRPC_CONN_EV_DATA:
		if (ch->echo && ev->u.data.stream == SSHRPC_CHAN_STDOUT) {
			int rc = sshrpc_chan_write(c, ev->id, ev->u.data.p, ev->u.data.len, &w);
			cr_assert(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK);
			ev->u.data.consumed = w;
		} else {
			ev->u.data.consumed = ev->u.data.len;
		}
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		schan_echo_buffered(c, ch);
		schan_finish(c, ch);
		break;
	case SSHRPC_CONN_EV_EOF:
		ch->eof = true;
		if (ch->echo)
			schan_finish(c, ch);
		break;
	case SSHRPC_CONN_EV_CLOSE:
		free(ch);
		break;
	default:
		break;
	}
}

static void srv_start(struct srv *srv)
{
	memset(srv, 0, sizeof *srv);
	snprintf(srv->dir, sizeof srv->dir, "/tmp/sshrpc-conn-XXXXXX");
	cr_assert_not_null(mkdtemp(srv->dir));
	snprintf(srv->key, sizeof srv->key, "%s/host_ed25519", srv->dir);
	keygen(srv->key);
	uint8_t *data;
	size_t len;
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_keyfile_read(NULL, srv->key, true, &data, &len, &err), SSHRPC_OK, "%s", err.msg);
	cr_assert_eq(sshrpc_privkey_parse(NULL, srv->key, data, len, NULL, &srv->hostkey, NULL, 0, &err), SSHRPC_OK,
		"%s", err.msg);
	sshrpc_keyfile_free(NULL, data, len);
	srv->lfd = sshrpc_test_listen(&srv->port);
	cr_assert_geq(srv->lfd, 0);
	nonblocking(srv->lfd);
}

static void srv_accept(struct srv *srv)
{
	int fd = sshrpc_test_accept(srv->lfd, 0);
	if (fd < 0)
		return;
	struct sconn *sc = NULL;
	for (int i = 0; i < MAX_SCONN; i++)
		if (!srv->conns[i].used) {
			sc = &srv->conns[i];
			break;
		}
	cr_assert_not_null(sc, "too many connections");
	memset(sc, 0, sizeof *sc);
	sc->used = true;
	sc->srv = srv;
	nonblocking(fd);
	sc->tcfg =
		(sshrpc_transport_config){ .role = SSHRPC_ROLE_SERVER, .host_keys = &srv->hostkey, .n_host_keys = 1 };
	sc->acfg = (sshrpc_auth_server_config){ .pubkey_allowed = srv_pubkey_allowed, .login_grace_ms = UINT64_MAX };
	sc->ccfg = (sshrpc_conn_cfg){
		.role = SSHRPC_CONN_SERVER, .on_event = srv_event, .event_ud = sc, .max_channels = 200
	};
	sshrpc_err err = { 0 };
	cr_assert_eq(sshconn_init(&sc->s, fd, &sc->tcfg, &sc->acfg, NULL, &sc->ccfg, now_ms(), &err), SSHRPC_OK, "%s",
		err.msg);
	const char *dir = getenv("SSHRPC_CONN_RECORD");
	if (dir != NULL) {
		static unsigned seq;
		char path[512];
		snprintf(path, sizeof path, "%s/openssh_%u_%u", dir, (unsigned)getpid(), seq++);
		sc->rec.f = fopen(path, "wb");
		cr_assert_not_null(sc->rec.f);
		fwrite("\x01\x00\x00\x00\x2a", 1, 5, sc->rec.f);
		sc->rec.inner = *sshrpc_auth_server_io(sc->s.as);
		sshrpc_msg_io io = { &sc->rec, rec_recv, rec_begin, rec_end, rec_disconnect, rec_error };
		sshrpc_conn_free(sc->s.c);
		cr_assert_eq(sshrpc_conn_new(&sc->ccfg, &io, &sc->s.c), SSHRPC_OK);
	}
}

static void sconn_close(struct sconn *sc)
{
	close(sc->s.fd);
	sshconn_free(&sc->s);
	if (sc->rec.f != NULL)
		fclose(sc->rec.f);
	sc->rec.f = NULL;
	sc->used = false;
}

/* One round of the server's loop. */
static void srv_round(struct srv *srv, int timeout_ms)
{
	struct pollfd pf[MAX_SCONN + 1];
	int map[MAX_SCONN + 1];
	nfds_t n = 0;
	pf[n] = (struct pollfd){ srv->lfd, POLLIN, 0 };
	map[n++] = -1;
	uint64_t now = now_ms();
	for (int i = 0; i < MAX_SCONN; i++) {
		struct sconn *sc = &srv->conns[i];
		if (!sc->used)
			continue;
		sshconn_pump(&sc->s, now);
		bool pending = sshconn_flush(&sc->s);
		if (sc->s.dead) {
			sconn_close(sc);
			continue;
		}
		pf[n] = (struct pollfd){ sc->s.fd,
			(short)((sshconn_can_read(&sc->s) ? POLLIN : 0) | (pending ? POLLOUT : 0)), 0 };
		map[n++] = i;
	}
	if (poll(pf, n, timeout_ms) <= 0)
		return;
	if (pf[0].revents & POLLIN)
		srv_accept(srv);
	now = now_ms();
	for (nfds_t k = 1; k < n; k++) {
		struct sconn *sc = &srv->conns[map[k]];
		if (pf[k].revents & (POLLIN | POLLHUP | POLLERR))
			sshconn_read(&sc->s);
		sshconn_pump(&sc->s, now);
		sshconn_flush(&sc->s);
	}
}

static void srv_stop(struct srv *srv)
{
	for (int i = 0; i < MAX_SCONN; i++)
		if (srv->conns[i].used)
			sconn_close(&srv->conns[i]);
	close(srv->lfd);
	sshrpc_key_free(srv->hostkey);
	sshrpc_test_rmtree(srv->dir);
}

/* Runs ssh (argv) to completion while serving; returns its status and
 * output. */
static int srv_run_ssh(struct srv *srv, const char *const *argv, char **out, int timeout_s)
{
	sshrpc_test_proc p;
	cr_assert_eq(sshrpc_test_spawn(&p, argv, srv->dir), 0);
	uint64_t end = now_ms() + (uint64_t)timeout_s * 1000;
	while (!sshrpc_test_proc_poll(&p) && now_ms() < end)
		srv_round(srv, 10);
	int rc = sshrpc_test_proc_wait(&p, 100);
	*out = sshrpc_test_proc_output(&p, NULL);
	sshrpc_test_proc_cleanup(&p);
	return rc;
}

static void ssh_args(struct srv *srv, const char **argv, size_t cap, char *portbuf, const char *key,
	const char *const *extra_in, const char *const *cmd)
{
	const char *extra[16];
	size_t n = 0;
	extra[n++] = "-i";
	extra[n++] = key;
	extra[n++] = "-o";
	extra[n++] = "LogLevel=ERROR";
	for (size_t i = 0; extra_in != NULL && extra_in[i] != NULL; i++)
		extra[n++] = extra_in[i];
	extra[n] = NULL;
	cr_assert_eq(sshrpc_test_ssh_argv(argv, cap, portbuf, 16, srv->port, extra, cmd), 0);
}

Test(openssh, ssh_client_exec_and_subsystem_on_our_server, .timeout = 120)
{
	struct srv *srv = calloc(1, sizeof *srv);
	srv_start(srv);
	char key[160];
	snprintf(key, sizeof key, "%s/client_key", srv->dir);
	keygen(key);
	const char *argv[40];
	char portbuf[16];
	char *out;

	static const char *const cmd1[] = { "echo", "hello", NULL };
	ssh_args(srv, argv, 40, portbuf, key, NULL, cmd1);
	cr_assert_eq(srv_run_ssh(srv, argv, &out, 60), 0, "ssh said: %s", out);
	cr_assert_str_eq(out, "hello\n");
	free(out);

	/* A subsystem with data on stdin, echoed back until EOF. */
	ssh_args(srv, argv, 40, portbuf, key, (const char *const[]){ "-s", NULL },
		(const char *const[]){ "echo", NULL });
	char shcmd[4096];
	int sl = snprintf(shcmd, sizeof shcmd, "cd %s && head -c 3000000 /dev/urandom > in.bin && ", srv->dir);
	for (size_t i = 0; argv[i] != NULL; i++)
		sl += snprintf(shcmd + sl, sizeof shcmd - (size_t)sl, "%s ", argv[i]);
	snprintf(shcmd + sl, sizeof shcmd - (size_t)sl, "< in.bin > out.bin && cmp in.bin out.bin && echo same");
	const char *sh[] = { "/bin/sh", "-c", shcmd, NULL };
	cr_assert_eq(srv_run_ssh(srv, sh, &out, 60), 0, "sh said: %s", out);
	cr_assert_str_eq(out, "same\n");
	free(out);
	cr_assert_eq(srv->subsystems, 1);
	cr_assert_eq(srv->execs, 1);
	srv_stop(srv);
	free(srv);
}

Test(openssh, controlmaster_with_100_ssh_S_sessions, .timeout = 300)
{
	struct srv *srv = calloc(1, sizeof *srv);
	srv_start(srv);
	char key[160], sock[160], cp[200];
	snprintf(key, sizeof key, "%s/client_key", srv->dir);
	snprintf(sock, sizeof sock, "%s/mux", srv->dir);
	snprintf(cp, sizeof cp, "ControlPath=%s", sock);
	keygen(key);
	const char *argv[40];
	char portbuf[16];

	const char *const mextra[] = { "-o", "ControlMaster=yes", "-o", cp, "-N", NULL };
	ssh_args(srv, argv, 40, portbuf, key, mextra, NULL);
	sshrpc_test_proc master;
	cr_assert_eq(sshrpc_test_spawn(&master, argv, srv->dir), 0);
	struct stat st;
	uint64_t end = now_ms() + 30000;
	while (stat(sock, &st) != 0 && now_ms() < end && !sshrpc_test_proc_poll(&master))
		srv_round(srv, 10);
	cr_assert_eq(stat(sock, &st), 0, "the master's control socket appeared");

	enum { N = 100 };
	sshrpc_test_proc *procs = calloc(N, sizeof *procs);
	char words[N][16];
	for (int i = 0; i < N; i++) {
		snprintf(words[i], sizeof words[i], "mux-%d", i);
		const char *const sextra[] = { "-S", sock, NULL };
		const char *const cmd[] = { "echo", words[i], NULL };
		ssh_args(srv, argv, 40, portbuf, key, sextra, cmd);
		cr_assert_eq(sshrpc_test_spawn(&procs[i], argv, srv->dir), 0);
	}
	end = now_ms() + 240000;
	for (;;) {
		int running = 0;
		for (int i = 0; i < N; i++)
			running += !sshrpc_test_proc_poll(&procs[i]);
		if (running == 0 || now_ms() > end)
			break;
		srv_round(srv, 10);
	}
	int used = 0;
	for (int i = 0; i < MAX_SCONN; i++)
		used += srv->conns[i].used;
	cr_assert_eq(used, 1, "all sessions went over the master's one connection");
	for (int i = 0; i < N; i++) {
		int rc = sshrpc_test_proc_wait(&procs[i], 100);
		char *out = sshrpc_test_proc_output(&procs[i], NULL);
		char want[32];
		snprintf(want, sizeof want, "%s\n", words[i]);
		cr_assert_eq(rc, 0, "ssh -S %d: %s", i, out);
		cr_assert_str_eq(out, want);
		free(out);
		sshrpc_test_proc_cleanup(&procs[i]);
	}
	cr_assert_eq(srv->sessions, N);
	cr_assert_eq(srv->execs, N);

	const char *const oextra[] = { "-S", sock, "-O", "exit", NULL };
	ssh_args(srv, argv, 40, portbuf, key, oextra, NULL);
	char *out;
	cr_assert_eq(srv_run_ssh(srv, argv, &out, 30), 0, "%s", out);
	free(out);
	end = now_ms() + 10000;
	while (!sshrpc_test_proc_poll(&master) && now_ms() < end)
		srv_round(srv, 10);
	int mrc = sshrpc_test_proc_wait(&master, 1000);
	out = sshrpc_test_proc_output(&master, NULL);
	/* A -N master stopped with -O exit has no session status: OpenSSH
	 * 9.2 exits 255 then, against its own sshd too. */
	cr_assert_eq(mrc, 255, "master: status %d: %s", mrc, out);
	free(out);
	end = now_ms() + 10000;
	for (used = 1; used > 0 && now_ms() < end;) {
		srv_round(srv, 10);
		used = 0;
		for (int i = 0; i < MAX_SCONN; i++)
			used += srv->conns[i].used;
	}
	cr_assert_eq(used, 0, "the master's connection ended");
	sshrpc_test_proc_cleanup(&master);
	free(procs);
	srv_stop(srv);
	free(srv);
}
