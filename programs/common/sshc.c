#include "sshc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "loop.h"

/* ---- host keys: known_hosts with StrictHostKeyChecking ------------------- */

static void home_path(char *out, size_t cap, const char *rel)
{
	const char *home = getenv("HOME");
	if (home == NULL) {
		struct passwd *pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : ".";
	}
	snprintf(out, cap, "%s/%s", home, rel);
}

static int hostkey_check(void *ud, const sshrpc_key *key, const char *alg)
{
	sshc *c = ((sshconn *)ud)->app;
	(void)alg;
	sshrpc_strict_hostkey mode = c->o->strict_host_key_checking == 1   ? SSHRPC_STRICT_YES
				     : c->o->strict_host_key_checking == 2 ? SSHRPC_STRICT_ACCEPT_NEW
									   : SSHRPC_STRICT_NO;
	unsigned line = 0;
	sshrpc_hostkey_status st = c->kh != NULL
					   ? sshrpc_known_hosts_check(c->kh, c->host, (unsigned)c->port, key, &line)
					   : SSHRPC_HOSTKEY_UNKNOWN;
	bool add = false;
	sshrpc_err err = { 0 };
	if (sshrpc_known_hosts_decide(st, mode, c->host, (unsigned)c->port, &add, &err) != SSHRPC_OK) {
		snprintf(c->hostkey_err, sizeof c->hostkey_err, "%s (%s%s%u)", err.msg, c->known_hosts_path,
			line ? ":" : "", line);
		return SSHRPC_E_HOSTKEY;
	}
	if (add && c->known_hosts_path[0] != '\0') {
		sshrpc_buf b;
		sshrpc_buf_init(&b, NULL, 0);
		if (sshrpc_known_hosts_line(c->host, (unsigned)c->port, key, false, &b) == SSHRPC_OK) {
			FILE *f = fopen(c->known_hosts_path, "a");
			if (f != NULL) {
				fwrite(sshrpc_buf_ptr(&b), 1, sshrpc_buf_len(&b), f);
				fclose(f);
				log_msg(c->lg, SSHRPC_LOG_VERBOSE, "added %s to %s", c->host, c->known_hosts_path);
			}
		}
		sshrpc_buf_free(&b);
	}
	return SSHRPC_OK;
}

static void load_known_hosts(sshc *c)
{
	if (c->o->user_known_hosts_file != NULL)
		snprintf(c->known_hosts_path, sizeof c->known_hosts_path, "%s", c->o->user_known_hosts_file);
	else
		home_path(c->known_hosts_path, sizeof c->known_hosts_path, ".ssh/known_hosts");
	if (strcmp(c->known_hosts_path, "/dev/null") == 0)
		c->known_hosts_path[0] = '\0';
	uint8_t *data = NULL;
	size_t len = 0;
	sshrpc_err err = { 0 };
	if (c->known_hosts_path[0] == '\0' ||
		sshrpc_keyfile_read(NULL, c->known_hosts_path, false, &data, &len, &err) != SSHRPC_OK)
		return; /* no file yet: every host is unknown */
	if (sshrpc_known_hosts_parse(NULL, c->known_hosts_path, data, len, log_from_lib, c->lg, &c->kh) != SSHRPC_OK)
		c->kh = NULL;
	sshrpc_keyfile_free(NULL, data, len);
}

/* ---- identities --------------------------------------------------------- */

static int ask_passphrase(void *ud, const char *label, unsigned attempt, char *out, size_t cap)
{
	sshc *c = ud;
	const char *env = getenv("SSHRPC_PASSPHRASE");
	if (env != NULL) {
		if (attempt > 1)
			return -1; /* the environment's passphrase was wrong: asking again gives the same */
		snprintf(out, cap, "%s", env);
		return 0;
	}
	if (c->o->batch_mode)
		return -1;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -1;
	dprintf(fd, "Enter passphrase for key '%s': ", label);
	struct termios t, saved;
	tcgetattr(fd, &saved);
	t = saved;
	t.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fd, TCSAFLUSH, &t);
	size_t n = 0;
	char ch;
	while (n + 1 < cap && read(fd, &ch, 1) == 1 && ch != '\n')
		out[n++] = ch;
	out[n] = '\0';
	tcsetattr(fd, TCSAFLUSH, &saved);
	dprintf(fd, "\n");
	close(fd);
	return 0;
}

static int agent_transact(void *ud, const uint8_t *req, size_t req_len, sshrpc_buf *reply)
{
	sshc *c = ud;
	size_t off = 0;
	while (off < req_len) {
		ssize_t n = write(c->agent_fd, req + off, req_len - off);
		if (n <= 0)
			return SSHRPC_E_IO;
		off += (size_t)n;
	}
	uint8_t hdr[4];
	size_t got = 0;
	while (got < 4) {
		ssize_t n = read(c->agent_fd, hdr + got, 4 - got);
		if (n <= 0)
			return SSHRPC_E_IO;
		got += (size_t)n;
	}
	uint32_t len = sshrpc_load_be32(hdr);
	if (len == 0 || len > SSHRPC_AGENT_MAX_MSG)
		return SSHRPC_E_INVALID;
	uint8_t *p;
	if (sshrpc_buf_put(reply, hdr, 4) != SSHRPC_OK || sshrpc_buf_reserve(reply, len, &p) != SSHRPC_OK)
		return SSHRPC_E_NOMEM;
	got = 0;
	while (got < len) {
		ssize_t n = read(c->agent_fd, p + got, len - got);
		if (n <= 0)
			return SSHRPC_E_IO;
		got += (size_t)n;
	}
	return SSHRPC_OK;
}

static int add_agent_key(void *ud, const sshrpc_agent_key *k)
{
	sshc *c = ud;
	if (c->n_ids >= SSHC_MAX_IDS)
		return 0;
	sshrpc_agent_identity *ai = &c->aids[c->n_aids];
	if (sshrpc_agent_identity_init(ai, NULL, k, agent_transact, c) != SSHRPC_OK)
		return 0;
	c->n_aids++;
	c->ids[c->n_ids++] = ai->id;
	return 0;
}

static void load_agent(sshc *c)
{
	c->agent_fd = -1;
	const char *sock = getenv("SSH_AUTH_SOCK");
	if (sock == NULL || c->o->identities_only)
		return;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(sock) >= sizeof sa.sun_path)
		return;
	strcpy(sa.sun_path, sock);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		if (fd >= 0)
			close(fd);
		log_msg(c->lg, SSHRPC_LOG_VERBOSE, "SSH_AUTH_SOCK %s: cannot connect", sock);
		return;
	}
	c->agent_fd = fd;
	sshrpc_buf req;
	sshrpc_buf_init(&req, NULL, 0);
	sshrpc_buf_init(&c->agent_buf, NULL, SSHRPC_AGENT_MAX_MSG + 4);
	if (sshrpc_agent_request_identities(&req) == SSHRPC_OK &&
		agent_transact(c, sshrpc_buf_ptr(&req), sshrpc_buf_len(&req), &c->agent_buf) == SSHRPC_OK) {
		size_t count = 0;
		/* The agent keys borrow from the reply, which stays in agent_buf. */
		SSHRPC_IGNORE(sshrpc_agent_parse_identities(sshrpc_buf_ptr(&c->agent_buf) + 4,
			sshrpc_buf_len(&c->agent_buf) - 4, add_agent_key, c, &count));
		log_msg(c->lg, SSHRPC_LOG_VERBOSE, "ssh-agent: %zu keys", count);
	}
	sshrpc_buf_free(&req);
}

static void add_file_identity(sshc *c, const char *path, bool must_exist)
{
	if (c->n_ids >= SSHC_MAX_IDS)
		return;
	uint8_t *data = NULL, *pub = NULL;
	size_t len = 0, pub_len = 0;
	sshrpc_err err = { 0 };
	if (!must_exist && access(path, F_OK) != 0)
		return;
	if (sshrpc_keyfile_read(NULL, path, true, &data, &len, &err) != SSHRPC_OK) {
		fprintf(stderr, "sshrpc: %s\n", err.msg);
		return;
	}
	char pubpath[4200];
	snprintf(pubpath, sizeof pubpath, "%s.pub", path);
	sshrpc_err perr = { 0 };
	if (sshrpc_keyfile_read(NULL, pubpath, false, &pub, &pub_len, &perr) != SSHRPC_OK)
		pub = NULL;
	sshrpc_file_identity *fi = &c->fids[c->n_fids];
	int rc = sshrpc_file_identity_init(fi, NULL, path, data, len, pub, pub_len, ask_passphrase, c, &err);
	sshrpc_keyfile_free(NULL, data, len);
	if (pub != NULL)
		sshrpc_keyfile_free(NULL, pub, pub_len);
	if (rc != SSHRPC_OK) {
		fprintf(stderr, "sshrpc: %s\n", err.msg);
		return;
	}
	c->n_fids++;
	c->ids[c->n_ids++] = fi->id;
}

static void load_identities(sshc *c)
{
	load_agent(c);
	if (c->o->n_identities > 0) {
		for (int i = 0; i < c->o->n_identities; i++)
			add_file_identity(c, c->o->identities[i], true);
		return;
	}
	static const char *const defaults[] = { ".ssh/id_ed25519", ".ssh/id_ecdsa", ".ssh/id_rsa" };
	for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
		char p[4096];
		home_path(p, sizeof p, defaults[i]);
		add_file_identity(c, p, false);
	}
}

/* ---- connection events ------------------------------------------------------ */

static sshc_chan *chan_of(sshc *c, uint32_t id)
{
	for (int i = 0; i < SSHC_MAX_CHANS; i++)
		if (c->chans[i].used && c->chans[i].id == id)
			return &c->chans[i];
	return NULL;
}

static void on_event(void *ud, sshrpc_conn *conn, sshrpc_conn_event *ev)
{
	sshc *c = ud;
	(void)conn;
	sshc_chan *ch = chan_of(c, ev->id);
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		SSHRPC_IGNORE(sshrpc_chan_reject(
			conn, ev->id, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED, "client accepts no channels"));
		return;
	default:
		break;
	}
	if (ch == NULL)
		return;
	switch (ev->type) {
	case SSHRPC_CONN_EV_OPENED:
		ch->opened = true;
		break;
	case SSHRPC_CONN_EV_OPEN_FAILED:
		ch->open_failed = true;
		ch->closed = true;
		break;
	case SSHRPC_CONN_EV_REQUEST_REPLY:
		ch->replies_pending--;
		ch->last_reply_ok = ev->u.reply.success;
		break;
	case SSHRPC_CONN_EV_DATA: {
		sshrpc_buf *b = ev->u.data.stream == SSHRPC_CHAN_STDERR ? &ch->err : &ch->in;
		if (sshrpc_buf_put(b, ev->u.data.p, ev->u.data.len) == SSHRPC_OK)
			ev->u.data.consumed = ev->u.data.len;
		break;
	}
	case SSHRPC_CONN_EV_EOF:
		ch->eof = true;
		break;
	case SSHRPC_CONN_EV_EXIT_STATUS:
		ch->exit_status = (int)ev->u.exit_status.status;
		break;
	case SSHRPC_CONN_EV_EXIT_SIGNAL:
		snprintf(ch->exit_signal, sizeof ch->exit_signal, "%.*s", (int)ev->u.exit_signal.signal_len,
			ev->u.exit_signal.signal);
		break;
	case SSHRPC_CONN_EV_CLOSE:
		ch->closed = true;
		ch->eof = true;
		break;
	default:
		break;
	}
}

/* ---- connecting ------------------------------------------------------------ */

static int tcp_connect(const char *host, int port, uint64_t timeout_ms, char *err, size_t errlen)
{
	char ps[16];
	snprintf(ps, sizeof ps, "%d", port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res;
	int g = getaddrinfo(host, ps, &hints, &res);
	if (g != 0) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(g));
		return -1;
	}
	int fd = -1;
	int last = 0;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct pollfd pfd = { fd, POLLOUT, 0 };
			int pr = poll(&pfd, 1, timeout_ms ? (int)timeout_ms : -1);
			int soerr = 0;
			socklen_t sl = sizeof soerr;
			if (pr == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
				break;
			last = pr == 0 ? ETIMEDOUT : soerr;
		} else {
			last = errno;
		}
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect to host %s port %d: %s", host, port,
			strerror(last ? last : ECONNREFUSED));
		return -1;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return fd;
}

static int resolve(
	sshrpc_alg_kind kind, const char *spec, const char *name, char *out, size_t cap, char *err, size_t errlen)
{
	if (spec == NULL)
		return sshrpc_algs_default(kind, out, cap) != NULL ? 0 : -1;
	sshrpc_err e = { 0 };
	if (sshrpc_algs_resolve(kind, spec, out, cap, &e) != SSHRPC_OK) {
		snprintf(err, errlen, "-o %s=%s: %s", name, spec, e.msg);
		return -1;
	}
	return 0;
}

int sshc_connect(sshc *c, const options *o, logger *lg, const char *host, int port, const char *user, FILE *trace,
	char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->o = o;
	c->lg = lg;
	c->port = port;
	c->trace = trace;
	c->agent_fd = -1;
	snprintf(c->host, sizeof c->host, "%s", host);
	snprintf(c->user, sizeof c->user, "%s", user);
	if (resolve(SSHRPC_ALG_KEX, o->kex_algorithms, "KexAlgorithms", c->kex, sizeof c->kex, err, errlen) ||
		resolve(SSHRPC_ALG_CIPHER, o->ciphers, "Ciphers", c->ciphers, sizeof c->ciphers, err, errlen) ||
		resolve(SSHRPC_ALG_MAC, o->macs, "MACs", c->macs, sizeof c->macs, err, errlen) ||
		resolve(SSHRPC_ALG_HOSTKEY, o->hostkey_algorithms, "HostKeyAlgorithms", c->hostkey_algs,
			sizeof c->hostkey_algs, err, errlen))
		return -1;
	load_known_hosts(c);
	load_identities(c);
	int fd = tcp_connect(host, port, o->connect_timeout_ms, err, errlen);
	if (fd < 0) {
		sshc_close(c);
		return -1;
	}
	c->tcfg = (sshrpc_transport_config){
		.role = SSHRPC_ROLE_CLIENT,
		.kex_algs = c->kex,
		.ciphers = c->ciphers,
		.macs = c->macs,
		.hostkey_algs = c->hostkey_algs,
		.hostkey_check = hostkey_check,
		.hostkey_check_ud = &c->s, /* sshconn.app leads back to us */
		.rekey_bytes = o->rekey_bytes,
		.rekey_interval_ms = o->rekey_seconds * 1000,
		.log = log_from_lib,
		.log_ud = lg,
		.log_level = o->log_level,
	};
	if (trace != NULL) {
		c->tcfg.trace = sshconn_trace_line;
		c->tcfg.trace_ud = trace;
		c->tcfg.clock_ns = sshconn_clock_ns;
	}
	c->acfg = (sshrpc_auth_client_config){
		.user = c->user,
		.identities = c->ids,
		.n_identities = (size_t)c->n_ids,
		.preferred = "publickey",
		.log = log_from_lib,
		.log_ud = lg,
	};
	c->ccfg = (sshrpc_conn_cfg){
		.role = SSHRPC_CONN_CLIENT,
		.on_event = on_event,
		.event_ud = c,
		.log = log_from_lib,
		.log_ud = lg,
		.log_level = o->log_level,
		.alive_interval_ms = (uint32_t)o->server_alive_ms,
	};
	sshrpc_err e = { 0 };
	if (sshconn_init(&c->s, fd, &c->tcfg, NULL, &c->acfg, &c->ccfg, loop_now_ms(), &e) != SSHRPC_OK) {
		snprintf(err, errlen, "%s", e.msg);
		close(fd);
		sshc_close(c);
		return -1;
	}
	c->s.app = c;
	c->timeout_ms = o->connect_timeout_ms;
	uint64_t start = loop_now_ms();
	while (!c->s.authed) {
		if (sshc_wait(c) < 0) {
			if (c->hostkey_err[0] != '\0')
				snprintf(err, errlen, "%s", c->hostkey_err);
			else
				snprintf(err, errlen, "%s", c->s.why[0] ? c->s.why : "connection closed");
			sshc_close(c);
			return -1;
		}
		if (c->timeout_ms && loop_now_ms() - start > c->timeout_ms) {
			snprintf(err, errlen, "connection to %s port %d timed out during the handshake", host, port);
			sshc_close(c);
			return -1;
		}
	}
	c->timeout_ms = 0;
	return 0;
}

void sshc_close(sshc *c)
{
	if (c->s.t != NULL) {
		if (!c->s.dead) {
			SSHRPC_IGNORE(sshrpc_transport_disconnect(c->s.t, SSH_DISCONNECT_BY_APPLICATION, "bye"));
			sshconn_flush(&c->s);
		}
		close(c->s.fd);
		sshconn_free(&c->s);
	}
	for (int i = 0; i < SSHC_MAX_CHANS; i++)
		if (c->chans[i].used) {
			sshrpc_buf_free(&c->chans[i].in);
			sshrpc_buf_free(&c->chans[i].err);
			c->chans[i].used = false;
		}
	for (int i = 0; i < c->n_fids; i++)
		sshrpc_file_identity_free(&c->fids[i]);
	for (int i = 0; i < c->n_aids; i++)
		sshrpc_agent_identity_free(&c->aids[i]);
	c->n_fids = c->n_aids = c->n_ids = 0;
	if (c->agent_fd >= 0) {
		close(c->agent_fd);
		sshrpc_buf_free(&c->agent_buf);
		c->agent_fd = -1;
	}
	sshrpc_known_hosts_free(c->kh);
	c->kh = NULL;
}

int sshc_wait(sshc *c)
{
	sshconn *s = &c->s;
	uint64_t now = loop_now_ms();
	sshconn_pump(s, now);
	bool pending = sshconn_flush(s);
	if (s->dead)
		return -1;
	uint64_t d = sshconn_deadline(s);
	int timeout = -1;
	if (d != UINT64_MAX)
		timeout = d <= now ? 0 : (int)(d - now > 60000 ? 60000 : d - now);
	if (c->timeout_ms && (timeout < 0 || (uint64_t)timeout > c->timeout_ms))
		timeout = (int)c->timeout_ms;
	struct pollfd pfd = { s->fd, (short)((sshconn_can_read(s) ? POLLIN : 0) | (pending ? POLLOUT : 0)), 0 };
	int pr = poll(&pfd, 1, timeout);
	if (pr < 0 && errno != EINTR)
		return -1;
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
		sshconn_read(s);
	now = loop_now_ms();
	if (d != UINT64_MAX && now >= d)
		sshconn_tick(s, now);
	sshconn_pump(s, now);
	sshconn_flush(s);
	return s->dead ? -1 : 0;
}

const char *sshc_error(const sshc *c)
{
	return c->s.why[0] ? c->s.why : "connection closed";
}

int sshc_open(sshc *c, sshc_chan **out)
{
	sshc_chan *ch = NULL;
	for (int i = 0; i < SSHC_MAX_CHANS; i++)
		if (!c->chans[i].used) {
			ch = &c->chans[i];
			break;
		}
	if (ch == NULL)
		return -2;
	memset(ch, 0, sizeof *ch);
	ch->exit_status = -1;
	sshrpc_buf_init(&ch->in, NULL, 256u << 20);
	sshrpc_buf_init(&ch->err, NULL, 1u << 20);
	if (sshrpc_chan_open_session(c->s.c, ch, &ch->id) != SSHRPC_OK) {
		sshrpc_buf_free(&ch->in);
		sshrpc_buf_free(&ch->err);
		return -2;
	}
	ch->used = true;
	*out = ch;
	return 0;
}

int sshc_request(sshc *c, sshc_chan *ch, int kind, const char *arg, size_t len)
{
	int rc;
	switch (kind) {
	case SSHRPC_REQ_EXEC:
		rc = sshrpc_chan_exec(c->s.c, ch->id, arg, len, true);
		break;
	case SSHRPC_REQ_SUBSYSTEM:
		rc = sshrpc_chan_subsystem(c->s.c, ch->id, arg, true);
		break;
	default:
		rc = sshrpc_chan_shell(c->s.c, ch->id, true);
		break;
	}
	if (rc != SSHRPC_OK)
		return -2;
	ch->replies_pending++;
	while (ch->replies_pending > 0 && !ch->closed)
		if (sshc_wait(c) < 0)
			return -1;
	/* An exec may be answered, replied to and closed in one flight. */
	return ch->last_reply_ok ? 0 : -2;
}

int sshc_write_all(sshc *c, sshc_chan *ch, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n > 0) {
		size_t w = 0;
		int rc = sshrpc_chan_write(c->s.c, ch->id, b, n, &w);
		b += w;
		n -= w;
		if (rc != SSHRPC_OK && rc != SSHRPC_E_WOULDBLOCK)
			return -2;
		if (n > 0 && sshc_wait(c) < 0)
			return -1;
	}
	return 0;
}

int sshc_read_at_least(sshc *c, sshc_chan *ch, size_t want)
{
	while (sshrpc_buf_len(&ch->in) < want && !ch->eof && !ch->closed)
		if (sshc_wait(c) < 0)
			return -1;
	return 0;
}

int sshc_close_chan(sshc *c, sshc_chan *ch)
{
	return sshrpc_chan_close(c->s.c, ch->id) == SSHRPC_OK ? 0 : -2;
}

int sshc_wait_closed(sshc *c, sshc_chan *ch)
{
	while (!ch->closed)
		if (sshc_wait(c) < 0)
			return -1;
	sshrpc_buf_free(&ch->in);
	sshrpc_buf_free(&ch->err);
	ch->used = false;
	return 0;
}
