#define _GNU_SOURCE
/* sshrpcd: the SSH server that serves RPC calls (interface.md, "sshrpcd").
 * One process, one epoll loop, many connections; every connection is a
 * stack of sans-I/O engines (sshconn) driven from here. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"
#include "sshrpc/keys.h"

#define MAX_MODULES 16

static void usage(void)
{
	fprintf(stderr, "usage: sshrpcd [-p [ADDR:]PORT] [-h HOSTKEY]... [-f CONFIG] [-o Option=Value]...\n"
			"               [--module PATH.so]... [--trace FILE] [--stdio | --exec CALL]\n");
}

/* Bad use: one line naming the cause, exit status 2 (interface.md). */
static void die(const char *fmt, ...) SSHRPC_PRINTF(1, 2);
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sshrpcd: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- keys ------------------------------------------------------------ */

static sshrpc_key *load_host_key(const char *path)
{
	sshrpc_err err = { 0 };
	uint8_t *data;
	size_t len;
	if (sshrpc_keyfile_read(NULL, path, true, &data, &len, &err) != SSHRPC_OK)
		die("host key %s", err.msg);
	sshrpc_key *k = NULL;
	char comment[256];
	int rc = sshrpc_privkey_parse(
		NULL, path, data, len, getenv("SSHRPC_PASSPHRASE"), &k, comment, sizeof comment, &err);
	sshrpc_keyfile_free(NULL, data, len);
	if (rc != SSHRPC_OK)
		die("host key %s", err.msg);
	return k;
}

static sshrpc_key *create_default_host_key(const char *path, logger *lg)
{
	sshrpc_key *k = NULL;
	sshrpc_err err = { 0 };
	if (sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &k) != SSHRPC_OK)
		die("cannot generate a host key");
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	sshrpc_buf_set_secret(&b);
	if (sshrpc_privkey_write_openssh(k, "sshrpcd host key", &b) != SSHRPC_OK)
		die("cannot encode the host key");
	if (sshrpc_keyfile_write_new(path, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), 0600, &err) != SSHRPC_OK)
		die("%s", err.msg);
	sshrpc_buf_free(&b);
	log_msg(lg, SSHRPC_LOG_INFO, "created host key %s", path);
	return k;
}

static void load_authorized_keys(server *srv, bool fatal)
{
	sshrpc_err err = { 0 };
	uint8_t *data;
	size_t len;
	if (sshrpc_keyfile_read(NULL, srv->ak_path, false, &data, &len, &err) != SSHRPC_OK) {
		if (fatal)
			die("AuthorizedKeysFile %s", err.msg);
		log_msg(&srv->lg, SSHRPC_LOG_ERROR, "AuthorizedKeysFile %s; keeping the old keys", err.msg);
		return;
	}
	sshrpc_authkeys *ak = NULL;
	int rc = sshrpc_authkeys_parse(NULL, srv->ak_path, data, len, log_from_lib, &srv->lg, &ak);
	sshrpc_keyfile_free(NULL, data, len);
	if (rc != SSHRPC_OK) {
		if (fatal)
			die("%s: %s", srv->ak_path, sshrpc_strerror(rc));
		return;
	}
	sshrpc_authkeys_free(srv->ak);
	srv->ak = ak;
	log_msg(&srv->lg, SSHRPC_LOG_VERBOSE, "%s: %zu keys", srv->ak_path, sshrpc_authkeys_count(ak));
}

/* ---- per-connection callbacks ----------------------------------------- */

static int pubkey_allowed(
	void *ud, const char *user, const sshrpc_key *key, uint64_t now_ms, const sshrpc_authkeys_entry **entry)
{
	/* sshconn owns the auth callbacks' ud (for the session id) */
	client *cl = ((sshconn *)ud)->app;
	server *srv = cl->srv;
	(void)user; /* one key file for the server's user: every user name maps to it */
	(void)now_ms;
	sshrpc_authkeys_ctx ctx = { .remote_addr = cl->addr, .now_s = (uint64_t)time(NULL) };
	struct tm tm;
	time_t t = time(NULL);
	if (localtime_r(&t, &tm) != NULL)
		ctx.utc_offset_s = (int32_t)tm.tm_gmtoff;
	char why[128] = "";
	if (srv->ak == NULL)
		return SSHRPC_E_DENIED;
	int rc = sshrpc_authkeys_lookup(srv->ak, key, &ctx, entry, why, sizeof why);
	if (rc != SSHRPC_OK)
		log_msg(&srv->lg, SSHRPC_LOG_VERBOSE, "%s: key refused: %s", cl->addr, why);
	return rc;
}

static chan *find_chan(client *cl, uint32_t id)
{
	for (chan *c = cl->chans; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void drop_chan(client *cl, uint32_t id)
{
	for (chan **pp = &cl->chans; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			chan *c = *pp;
			*pp = c->next;
			rpc_chan_free(c);
			free(c);
			return;
		}
}

static void on_conn_event(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	client *cl = ud;
	chan *ch;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		if (ev->u.open.type_len == 7 && memcmp(ev->u.open.type, "session", 7) == 0) {
			ch = calloc(1, sizeof *ch);
			if (ch == NULL) {
				SSHRPC_IGNORE(
					sshrpc_chan_reject(c, ev->id, SSH_OPEN_RESOURCE_SHORTAGE, "out of memory"));
				break;
			}
			ch->cl = cl;
			ch->id = ev->id;
			ch->next = cl->chans;
			cl->chans = ch;
			if (sshrpc_chan_accept(c, ev->id, ch) != SSHRPC_OK)
				drop_chan(cl, ev->id);
		} else {
			SSHRPC_IGNORE(
				sshrpc_chan_reject(c, ev->id, SSH_OPEN_UNKNOWN_CHANNEL_TYPE, "only session channels"));
		}
		break;
	case SSHRPC_CONN_EV_REQUEST: {
		ch = find_chan(cl, ev->id);
		bool ok = false;
		int kind = ev->u.request.kind;
		if (ch != NULL && ch->mode == CHAN_IDLE &&
			(kind == SSHRPC_REQ_EXEC || kind == SSHRPC_REQ_SHELL || kind == SSHRPC_REQ_SUBSYSTEM))
			ok = rpc_chan_start(ch, kind, ev->u.request.str, ev->u.request.str_len);
		else if (kind == SSHRPC_REQ_ENV)
			ok = false; /* no environment is passed to RPC handlers */
		if (ev->u.request.want_reply)
			SSHRPC_IGNORE(sshrpc_chan_reply(c, ev->id, ok));
		break;
	}
	case SSHRPC_CONN_EV_DATA:
		ch = find_chan(cl, ev->id);
		if (ch != NULL && ev->u.data.stream == SSHRPC_CHAN_STDOUT)
			ev->u.data.consumed = rpc_chan_data(ch, ev->u.data.p, ev->u.data.len);
		else
			ev->u.data.consumed = ev->u.data.len; /* stderr from a client means nothing here */
		break;
	case SSHRPC_CONN_EV_EOF:
		ch = find_chan(cl, ev->id);
		if (ch != NULL)
			rpc_chan_eof(ch);
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		ch = find_chan(cl, ev->id);
		if (ch != NULL)
			rpc_chan_service(ch, loop_now_ms());
		break;
	case SSHRPC_CONN_EV_CLOSE:
		drop_chan(cl, ev->id);
		break;
	default:
		break;
	}
}

/* ---- connections ------------------------------------------------------- */

static void client_io(loop *lp, int fd, uint32_t events, void *ud);

static void client_free(client *cl)
{
	server *srv = cl->srv;
	loop_del(srv->lp, cl->s.fd);
	sshconn_free(&cl->s); /* reports every channel closed (aborted) */
	while (cl->chans != NULL)
		drop_chan(cl, cl->chans->id);
	close(cl->s.fd);
	if (cl->counted_unauth)
		srv->n_unauth--;
	srv->n_clients--;
	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		srv->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	free(cl);
}

/* After anything happened: run the layers, move RPC replies onto their
 * channels, write what is pending, and wait for the right socket events. */
static void client_step(client *cl)
{
	server *srv = cl->srv;
	uint64_t now = loop_now_ms();
	sshconn_pump(&cl->s, now);
	if (cl->s.authed && cl->counted_unauth) {
		cl->counted_unauth = false;
		srv->n_unauth--;
		log_msg(&srv->lg, SSHRPC_LOG_VERBOSE, "%s: authenticated as %s (%s)", cl->addr,
			sshrpc_auth_server_user(cl->s.as), sshrpc_auth_server_methods(cl->s.as));
	}
	for (int pass = 0; pass < 2 && cl->s.authed && !cl->s.dead; pass++) {
		for (chan *ch = cl->chans; ch != NULL; ch = ch->next)
			rpc_chan_service(ch, now);
		/* Servicing may have queued messages and freed window credit:
		 * let the connection layer send them. */
		sshconn_pump(&cl->s, now);
	}
	bool pending = sshconn_flush(&cl->s);
	if (cl->s.dead && !pending) {
		log_msg(&srv->lg, SSHRPC_LOG_VERBOSE, "%s: closed: %s", cl->addr, cl->s.why);
		client_free(cl);
		return;
	}
	uint32_t want = (sshconn_can_read(&cl->s) ? EPOLLIN : 0) | (pending ? EPOLLOUT : 0);
	if (want == 0 && cl->s.eof && !pending) {
		client_free(cl);
		return;
	}
	/* One epoll_ctl only when the interest changes, not per call. */
	if (want != cl->events) {
		loop_mod(srv->lp, cl->s.fd, want, client_io, cl);
		cl->events = want;
	}
}

static void client_io(loop *lp, int fd, uint32_t events, void *ud)
{
	(void)lp;
	(void)fd;
	client *cl = ud;
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		sshconn_read(&cl->s);
	client_step(cl);
}

static void accept_one(server *srv, int fd, const struct sockaddr_storage *sa)
{
	set_nonblock(fd);
	int one = 1;
	/* peers.md: OpenSSH leaves Nagle on; without TCP_NODELAY each flight
	 * waits for delayed ACKs (~40 ms). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (srv->stopping || srv->n_unauth >= srv->o.max_startups) {
		close(fd); /* MaxStartups: unauthenticated connections beyond the limit are dropped */
		return;
	}
	client *cl = calloc(1, sizeof *cl);
	if (cl == NULL) {
		close(fd);
		return;
	}
	cl->srv = srv;
	if (sa->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, cl->addr, sizeof cl->addr);
	else if (sa->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, cl->addr, sizeof cl->addr);
	cl->tcfg = (sshrpc_transport_config){
		.role = SSHRPC_ROLE_SERVER,
		.kex_algs = srv->kex,
		.ciphers = srv->ciphers,
		.macs = srv->macs,
		.hostkey_algs = srv->hostkey_algs,
		.host_keys = srv->host_keys,
		.n_host_keys = srv->n_host_keys,
		.rekey_bytes = srv->o.rekey_bytes,
		.rekey_interval_ms = srv->o.rekey_seconds * 1000,
		.log = log_from_lib,
		.log_ud = &srv->lg,
		.log_level = srv->o.log_level,
		.server_sig_algs = srv->pubkey_algs[0] ? srv->pubkey_algs : NULL,
	};
	if (srv->trace != NULL) {
		cl->tcfg.trace = sshconn_trace_line;
		cl->tcfg.trace_ud = srv->trace;
		cl->tcfg.clock_ns = sshconn_clock_ns;
	}
	cl->acfg = (sshrpc_auth_server_config){
		.max_auth_tries = (unsigned)srv->o.max_auth_tries,
		.login_grace_ms = srv->o.login_grace_ms ? srv->o.login_grace_ms : UINT64_MAX,
		.pubkey_algorithms = srv->pubkey_algs[0] ? srv->pubkey_algs : NULL,
		.pubkey_allowed = pubkey_allowed,
		.log = log_from_lib,
		.log_ud = &srv->lg,
	};
	cl->ccfg = (sshrpc_conn_cfg){
		.role = SSHRPC_CONN_SERVER,
		.on_event = on_conn_event,
		.event_ud = cl,
		.log = log_from_lib,
		.log_ud = &srv->lg,
		.log_level = srv->o.log_level,
		.max_channels = (uint32_t)srv->o.max_sessions,
		.alive_interval_ms = (uint32_t)srv->o.client_alive_ms,
		.alive_count_max = (uint32_t)srv->o.client_alive_count_max,
	};
	sshrpc_err err = { 0 };
	uint64_t now = loop_now_ms();
	if (sshconn_init(&cl->s, fd, &cl->tcfg, &cl->acfg, NULL, &cl->ccfg, now, &err) != SSHRPC_OK) {
		log_msg(&srv->lg, SSHRPC_LOG_ERROR, "%s: cannot start a session: %s", cl->addr, err.msg);
		close(fd);
		free(cl);
		return;
	}
	cl->s.app = cl;
	cl->started_ms = now;
	cl->counted_unauth = true;
	srv->n_unauth++;
	srv->n_clients++;
	cl->next = srv->clients;
	if (srv->clients != NULL)
		srv->clients->prev = cl;
	srv->clients = cl;
	loop_add(srv->lp, fd, EPOLLIN, client_io, cl);
	cl->events = EPOLLIN;
	client_step(cl);
}

static void listener_io(loop *lp, int fd, uint32_t events, void *ud)
{
	(void)lp;
	(void)events;
	server *srv = ud;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof sa;
		int cfd = accept4(fd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (cfd < 0)
			return;
		accept_one(srv, cfd, &sa);
	}
}

static void signal_io(loop *lp, int fd, uint32_t events, void *ud)
{
	(void)lp;
	(void)events;
	server *srv = ud;
	struct signalfd_siginfo si;
	while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGHUP) {
			log_msg(&srv->lg, SSHRPC_LOG_INFO, "SIGHUP: re-reading %s", srv->ak_path);
			load_authorized_keys(srv, false);
		} else {
			srv->stopping = true;
		}
	}
}

/* ---- start-up ------------------------------------------------------------- */

static int listen_on(const char *spec, char *bound, size_t cap)
{
	char host[256] = "127.0.0.1";
	const char *port = spec;
	const char *colon = strrchr(spec, ':');
	if (colon != NULL) {
		size_t hl = (size_t)(colon - spec);
		if (hl >= sizeof host)
			die("-p %s: address too long", spec);
		memcpy(host, spec, hl);
		host[hl] = '\0';
		if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = '\0';
		}
		port = colon + 1;
	}
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res;
	int g = getaddrinfo(host, port, &hints, &res);
	if (g != 0)
		die("-p %s: %s", spec, gai_strerror(g));
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("-p %s: socket: %s", spec, strerror(errno));
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0)
		die("-p %s: cannot listen: %s", spec, strerror(errno));
	if (listen(fd, 1024) != 0)
		die("-p %s: listen: %s", spec, strerror(errno));
	freeaddrinfo(res);
	struct sockaddr_storage sa;
	socklen_t sl = sizeof sa;
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	char ab[INET6_ADDRSTRLEN] = "?";
	unsigned p = 0;
	if (sa.ss_family == AF_INET) {
		inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, ab, sizeof ab);
		p = ntohs(((struct sockaddr_in *)&sa)->sin_port);
		snprintf(bound, cap, "%s:%u", ab, p);
	} else {
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr, ab, sizeof ab);
		p = ntohs(((struct sockaddr_in6 *)&sa)->sin6_port);
		snprintf(bound, cap, "[%s]:%u", ab, p);
	}
	return fd;
}

static void resolve_algs(sshrpc_alg_kind kind, const char *spec, const char *option, char *out, size_t cap)
{
	if (spec == NULL) {
		out[0] = '\0';
		if (sshrpc_algs_default(kind, out, cap) == NULL)
			die("%s: no default list", option);
		return;
	}
	sshrpc_err err = { 0 };
	if (sshrpc_algs_resolve(kind, spec, out, cap, &err) != SSHRPC_OK)
		die("-o %s=%s: %s", option, spec, err.msg);
}

int stdio_main(int n_modules, const char *const *modules, const options *o, const char *exec_text);

int main(int argc, char **argv)
{
	server srv;
	memset(&srv, 0, sizeof srv);
	options_init(&srv.o, OPT_SERVER);
	srv.lg.prog = "sshrpcd";
	const char *oargs[256];
	int n_oargs = 0;
	const char *config = NULL, *listen_spec = NULL, *trace_path = NULL;
	const char *modules[MAX_MODULES];
	int n_modules = 0;
	bool stdio_mode = false;
	const char *exec_text = NULL;
	char err[512];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-p") == 0 && v) {
			listen_spec = v;
			i++;
		} else if (strcmp(a, "-h") == 0 && v) {
			if (srv.o.n_host_keys >= OPT_MAX_HOSTKEYS)
				die("-h: at most %d host keys", OPT_MAX_HOSTKEYS);
			srv.o.host_keys[srv.o.n_host_keys++] = strdup(v);
			i++;
		} else if (strcmp(a, "-f") == 0 && v) {
			config = v;
			i++;
		} else if (strcmp(a, "-o") == 0 && v) {
			if (n_oargs < 256)
				oargs[n_oargs++] = v;
			i++;
		} else if (strncmp(a, "-o", 2) == 0 && a[2] != '\0') {
			if (n_oargs < 256)
				oargs[n_oargs++] = a + 2;
		} else if (strcmp(a, "--module") == 0 && v) {
			if (n_modules >= MAX_MODULES)
				die("--module: at most %d modules", MAX_MODULES);
			modules[n_modules++] = v;
			i++;
		} else if (strcmp(a, "--trace") == 0 && v) {
			trace_path = v;
			i++;
		} else if (strcmp(a, "--stdio") == 0) {
			stdio_mode = true;
		} else if (strcmp(a, "--exec") == 0 && v) {
			stdio_mode = true;
			exec_text = v;
			i++;
		} else if (strcmp(a, "--help") == 0) {
			usage();
			return 0;
		} else {
			usage();
			die("unknown argument '%s'", a);
		}
	}
	/* The file first, then -o: the command line wins, as with sshd. */
	if (config != NULL && options_read_file(&srv.o, OPT_SERVER, config, err, sizeof err) != 0)
		die("%s", err);
	for (int i = 0; i < n_oargs; i++)
		if (options_set(&srv.o, OPT_SERVER, oargs[i], "-o", err, sizeof err) != 0)
			die("%s", err);
	srv.lg.level = srv.o.log_level;

	if (stdio_mode)
		return stdio_main(n_modules, modules, &srv.o, exec_text);

	signal(SIGPIPE, SIG_IGN);
	resolve_algs(SSHRPC_ALG_KEX, srv.o.kex_algorithms, "KexAlgorithms", srv.kex, sizeof srv.kex);
	resolve_algs(SSHRPC_ALG_CIPHER, srv.o.ciphers, "Ciphers", srv.ciphers, sizeof srv.ciphers);
	resolve_algs(SSHRPC_ALG_MAC, srv.o.macs, "MACs", srv.macs, sizeof srv.macs);
	resolve_algs(SSHRPC_ALG_HOSTKEY, srv.o.hostkey_algorithms, "HostKeyAlgorithms", srv.hostkey_algs,
		sizeof srv.hostkey_algs);
	if (srv.o.pubkey_accepted_algorithms != NULL)
		resolve_algs(SSHRPC_ALG_HOSTKEY, srv.o.pubkey_accepted_algorithms, "PubkeyAcceptedAlgorithms",
			srv.pubkey_algs, sizeof srv.pubkey_algs);

	if (srv.o.n_host_keys == 0) {
		const char *def = "./sshrpcd_host_ed25519_key";
		if (access(def, F_OK) == 0)
			srv.host_keys[srv.n_host_keys++] = load_host_key(def);
		else
			srv.host_keys[srv.n_host_keys++] = create_default_host_key(def, &srv.lg);
	}
	for (int i = 0; i < srv.o.n_host_keys; i++)
		srv.host_keys[srv.n_host_keys++] = load_host_key(srv.o.host_keys[i]);

	if (srv.o.authorized_keys_file != NULL) {
		srv.ak_path = strdup(srv.o.authorized_keys_file);
	} else {
		const char *home = getenv("HOME");
		struct passwd *pw = getpwuid(getuid());
		if (home == NULL && pw != NULL)
			home = pw->pw_dir;
		char p[4096];
		snprintf(p, sizeof p, "%s/.ssh/authorized_keys", home ? home : ".");
		srv.ak_path = strdup(p);
	}
	load_authorized_keys(&srv, true);

	if (trace_path != NULL) {
		srv.trace = fopen(trace_path, "a");
		if (srv.trace == NULL)
			die("--trace %s: %s", trace_path, strerror(errno));
		setvbuf(srv.trace, NULL, _IOLBF, 0);
	}
	if (rpc_server_init(&srv, modules, n_modules) != 0)
		return 2;

	char bound[128];
	if (listen_spec == NULL) {
		static char def[32];
		snprintf(def, sizeof def, "127.0.0.1:%d", srv.o.port);
		listen_spec = srv.o.listen ? srv.o.listen : def;
	}
	srv.lfd = listen_on(listen_spec, bound, sizeof bound);
	fprintf(stderr, "listening on %s\n", bound);
	fflush(stderr);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	srv.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);

	srv.lp = loop_new();
	if (srv.lp == NULL)
		die("cannot create the event loop");
	loop_add(srv.lp, srv.lfd, EPOLLIN, listener_io, &srv);
	loop_add(srv.lp, srv.sigfd, EPOLLIN, signal_io, &srv);

	while (!srv.stopping) {
		uint64_t deadline = UINT64_MAX;
		for (client *cl = srv.clients; cl != NULL; cl = cl->next) {
			uint64_t d = sshconn_deadline(&cl->s);
			for (chan *ch = cl->chans; ch != NULL; ch = ch->next) {
				uint64_t cd = rpc_chan_deadline(ch);
				d = cd < d ? cd : d;
			}
			deadline = d < deadline ? d : deadline;
		}
		loop_run_once(srv.lp, deadline == UINT64_MAX ? 0 : deadline);
		uint64_t now = loop_now_ms();
		if (deadline != UINT64_MAX && now >= deadline) {
			for (client *cl = srv.clients, *next; cl != NULL; cl = next) {
				next = cl->next;
				sshconn_tick(&cl->s, now);
				client_step(cl);
			}
		}
	}

	/* SIGTERM/SIGINT: every connection gets DISCONNECT "by application". */
	log_msg(&srv.lg, SSHRPC_LOG_INFO, "shutting down %d connections", srv.n_clients);
	while (srv.clients != NULL) {
		client *cl = srv.clients;
		SSHRPC_IGNORE(
			sshrpc_transport_disconnect(cl->s.t, SSH_DISCONNECT_BY_APPLICATION, "server shutting down"));
		int fl = fcntl(cl->s.fd, F_GETFL);
		fcntl(cl->s.fd, F_SETFL, fl & ~O_NONBLOCK);
		struct timeval tv = { 1, 0 };
		setsockopt(cl->s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
		sshconn_flush(&cl->s);
		client_free(cl);
	}
	rpc_server_free(&srv);
	for (size_t i = 0; i < srv.n_host_keys; i++)
		sshrpc_key_free(srv.host_keys[i]);
	sshrpc_authkeys_free(srv.ak);
	free(srv.ak_path);
	if (srv.trace != NULL)
		fclose(srv.trace);
	loop_free(srv.lp);
	close(srv.lfd);
	options_free(&srv.o);
	return 0;
}
