#define _GNU_SOURCE
/* sshrpc-bench with no subcommand: the RPC benchmark of issue 7. One
 * command starts every server it needs on free loopback ports (sshrpcd,
 * OpenSSH's sshd offering our stdio subsystem, a ControlMaster, Dropbear),
 * measures each mode on each side in interleaved repeats, prints the table
 * next to the paper's Table 1, writes JSON and a plot on request, and stops
 * everything it started, also on failure or interrupt. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bench_rpc.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: sshrpc-bench [--quick] [--json [FILE]] [--plot FILE.png|FILE.svg] [--connections N]\n"
		   "                    [--repeats R] [--payload BYTES] [--bulk-mib M] [--no-pin] [--cpu N]\n"
		   "                    [--only MODE,...]  (exec exec-mod shell subsystem pipe1 pipe16 pipe64 tcp bulk "
		   "connections)\n"
		   "                    [--target HOST:PORT --identity KEY [--known-hosts FILE]] [--compare | "
		   "--no-compare]\n"
		   "       sshrpc-bench crypto [--json] [--seconds S]\n"
		   "Without --target it starts sshrpcd (next to this program), OpenSSH's sshd and Dropbear\n"
		   "on free loopback ports with throwaway keys, and stops them at the end.\n");
}

bench_result *bench_result_add(bench_ctx *b, const char *id, const char *mode, int side, int depth)
{
	if (b->n_res >= BENCH_MAX_RESULTS)
		return NULL;
	bench_result *r = &b->res[b->n_res++];
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", id);
	snprintf(r->mode, sizeof r->mode, "%s", mode);
	r->side = side;
	r->depth = depth;
	return r;
}

bench_result *bench_result_find(bench_ctx *b, const char *id)
{
	for (int i = 0; i < b->n_res; i++)
		if (strcmp(b->res[i].id, id) == 0)
			return &b->res[i];
	return NULL;
}

/* ---- measuring one mode on several sides, interleaved ------------------------------------ */

typedef int (*run_fn)(
	bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen);

typedef struct job {
	bench_result *res;
	run_fn fn;
	const void *arg;
	bench_budget bud;
} job;

#define MAX_JOBS 8

static void pin_all(bench_ctx *b, int cpu)
{
	bench_pin(0, cpu);
	if (b->srv_pid > 0)
		bench_pin(b->srv_pid, cpu);
	if (b->sshd_pid > 0)
		bench_pin(b->sshd_pid, cpu); /* its per-connection children inherit it */
}

/* Runs every job once per repeat, alternating, so that a disturbance of
 * the shared machine lands on all sides alike; each figure is then the
 * median over the repeats. */
static void measure(bench_ctx *b, job *jobs, int n, bool pinned, unsigned watchdog_s)
{
	bool pin = pinned && b->pin;
	bench_stats reps[MAX_JOBS][16];
	int nrep[MAX_JOBS] = { 0 };
	if (n > MAX_JOBS)
		n = MAX_JOBS;
	if (pin)
		pin_all(b, b->cpu);
	for (int r = 0; r < b->repeats && !bench_stopped(); r++) {
		for (int j = 0; j < n; j++) {
			job *jb = &jobs[j];
			if (jb->res == NULL || jb->res->error[0] != '\0' || jb->fn == NULL)
				continue;
			bench_series s;
			if (bench_series_init(&s, jb->bud.max_calls + 16) != 0) {
				snprintf(jb->res->error, sizeof jb->res->error, "out of memory");
				continue;
			}
			bench_watchdog(watchdog_s);
			char err[240] = "";
			if (jb->fn(b, jb->arg, &s, &jb->bud, err, sizeof err) != 0) {
				snprintf(jb->res->error, sizeof jb->res->error, "%s",
					bench_stopped() ? "interrupted (or the watchdog fired)"
					: err[0]	? err
							: "failed");
			} else if (nrep[j] < 16) {
				bench_stats_of(&s, &reps[j][nrep[j]++]);
			}
			bench_watchdog(0);
			bench_series_free(&s);
			if (b->quick == false && r == 0)
				fprintf(stderr, ".");
		}
	}
	if (pin)
		pin_all(b, -1);
	for (int j = 0; j < n; j++) {
		if (jobs[j].res == NULL)
			continue;
		bench_stats_median(reps[j], (size_t)nrep[j], &jobs[j].res->st);
		jobs[j].res->pinned = pin;
	}
}

/* adapters from job to the measuring functions */
typedef struct stream_arg {
	sshc *c;
	int kind, depth;
} stream_arg;

static int run_ours_stream(
	bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	const stream_arg *a = arg;
	return bench_ours_stream(b, a->c, a->kind, a->depth, s, bud, err, errlen);
}

static int run_ours_exec_mod(
	bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	return bench_ours_exec_mod(b, (sshc *)arg, s, bud, err, errlen);
}

static int run_ours_exec(
	bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	(void)arg;
	return bench_ours_exec(b, s, bud, err, errlen);
}

static int run_peer_stream(
	bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	return bench_peer_stream(b, *(const int *)arg, s, bud, err, errlen);
}

static int run_peer_exec(
	bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	return bench_peer_exec(b, *(const int *)arg, s, bud, err, errlen);
}

static int run_tcp(bench_ctx *b, const void *arg, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	(void)arg;
	return bench_tcp_rtt(b, s, bud, err, errlen);
}

static bench_budget bud(const bench_ctx *b, size_t calls, double s)
{
	bench_budget x = { calls, s };
	if (b->quick) {
		x.max_calls = calls / 8 < 10 ? 10 : calls / 8 / 10 * 10;
		x.max_s = s / 5;
	}
	return x;
}

bool bench_wanted(const bench_ctx *b, const char *mode)
{
	if (b->only == NULL)
		return true;
	size_t ml = strlen(mode);
	for (const char *p = b->only; *p != '\0';) {
		size_t l = strcspn(p, ",");
		if (l == ml && strncmp(p, mode, l) == 0)
			return true;
		p += l + (p[l] == ',');
	}
	return false;
}

static bench_result *add_res(
	bench_ctx *b, const char *id, const char *mode, int side, int depth, const char *what, const char *error)
{
	if (!bench_wanted(b, mode))
		return NULL; /* not asked for: the job is skipped */
	bench_result *r = bench_result_add(b, id, mode, side, depth);
	if (r == NULL)
		return NULL;
	snprintf(r->what, sizeof r->what, "%s", what);
	if (error != NULL && error[0] != '\0')
		snprintf(r->error, sizeof r->error, "%s", error);
	return r;
}

/* ---- the phases ---------------------------------------------------------------------------- */

static void phase_streams(bench_ctx *b, sshc *c)
{
	bool peer = b->compare && b->sshd_pid > 0;
	const char *perr = peer ? NULL : b->compare ? b->sshd_error : "not asked (--compare)";
	char what[240];
	static const int zero = 0, one = 1, sixteen = 16, sixtyfour = 64;

	stream_arg sub0 = { c, SSHRPC_REQ_SUBSYSTEM, 0 };
	stream_arg sh0 = { c, SSHRPC_REQ_SHELL, 0 };
	snprintf(what, sizeof what, "the same frames through `ssh -s 127.0.0.1 sshrpc`: sshd runs `%s --stdio`",
		"sshrpcd");
	job j1[] = {
		{ add_res(b, "sshrpc.subsystem", "subsystem", SIDE_SSHRPC, 1,
			  "one {mfa,...} frame written on a kept subsystem channel, its reply read", NULL),
			run_ours_stream, &sub0, bud(b, 4000, 0.4) },
		{ add_res(b, "openssh.subsystem", "subsystem", SIDE_OPENSSH, 1, what, perr), run_peer_stream, &zero,
			bud(b, 4000, 0.4) },
		{ add_res(b, "sshrpc.shell", "shell", SIDE_SSHRPC, 1,
			  "one {mfa,...} frame written on a kept shell channel, its reply read", NULL),
			run_ours_stream, &sh0, bud(b, 4000, 0.4) },
		{ add_res(b, "tcp.rtt", "tcp", SIDE_TCP, 1,
			  "the request frame out and the reply frame back on a plain TCP loopback socket (echo thread)",
			  NULL),
			run_tcp, NULL, bud(b, 20000, 0.3) },
	};
	/* The TCP echo sends the reference reply, which the first checked
	 * reply sets: the subsystem job runs before it in every repeat. */
	measure(b, j1, 4, true, 60);

	stream_arg p1 = { c, SSHRPC_REQ_SUBSYSTEM, 1 }, p16 = { c, SSHRPC_REQ_SUBSYSTEM, 16 },
		   p64 = { c, SSHRPC_REQ_SUBSYSTEM, 64 };
	job j2[] = {
		{ add_res(b, "sshrpc.pipe1", "pipe1", SIDE_SSHRPC, 1,
			  "{call,Id,...} frames on a subsystem channel, 1 outstanding", NULL),
			run_ours_stream, &p1, bud(b, 4000, 0.4) },
		{ add_res(b, "openssh.pipe1", "pipe1", SIDE_OPENSSH, 1, "the same frames through one `ssh -s` session",
			  perr),
			run_peer_stream, &one, bud(b, 4000, 0.4) },
	};
	measure(b, j2, 2, true, 60);
	job j3[] = {
		{ add_res(b, "sshrpc.pipe16", "pipe16", SIDE_SSHRPC, 16,
			  "{call,Id,...} frames on a subsystem channel, 16 outstanding", NULL),
			run_ours_stream, &p16, bud(b, 400000, 0.5) },
		{ add_res(b, "openssh.pipe16", "pipe16", SIDE_OPENSSH, 16,
			  "the same frames through one `ssh -s` session", perr),
			run_peer_stream, &sixteen, bud(b, 400000, 0.5) },
		{ add_res(b, "sshrpc.pipe64", "pipe64", SIDE_SSHRPC, 64,
			  "{call,Id,...} frames on a subsystem channel, 64 outstanding", NULL),
			run_ours_stream, &p64, bud(b, 600000, 0.6) },
		{ add_res(b, "openssh.pipe64", "pipe64", SIDE_OPENSSH, 64,
			  "the same frames through one `ssh -s` session", perr),
			run_peer_stream, &sixtyfour, bud(b, 600000, 0.6) },
	};
	measure(b, j3, 4, false, 60);
}

static void phase_exec(bench_ctx *b, sshc *c)
{
	bool peer = b->compare && b->sshd_pid > 0;
	const char *perr = peer ? NULL : b->compare ? b->sshd_error : "not asked (--compare)";
	const char *merr = !peer ? perr : b->master_pid > 0 ? NULL : b->master_error;
	const char *derr = !b->compare ? "not asked (--compare)" : b->db_pid > 0 ? NULL : b->db_error;
	static const int call = PEER_SSH_CALL, mux = PEER_SSH_MUX, tru = PEER_SSH_TRUE, db = PEER_DROPBEAR_TRUE;
	job jm[] = {
		{ add_res(b, "sshrpc.exec-mod", "exec-mod", SIDE_SSHRPC, 1,
			  "a new session channel on a kept connection: open, exec {mfa,...}, reply, exit-status, EOF, "
			  "close",
			  NULL),
			run_ours_exec_mod, c, bud(b, 2000, 0.4) },
		{ add_res(b, "openssh.exec-mod", "exec-mod", SIDE_OPENSSH, 1,
			  "`ssh -S CTL 127.0.0.1 '<sshrpcd> --exec CALL'` through a ControlMaster started once", merr),
			run_peer_exec, &mux, bud(b, 100, 1.0) },
	};
	measure(b, jm, 2, false, 120);
	job je[] = {
		{ add_res(b, "sshrpc.exec", "exec", SIDE_SSHRPC, 1,
			  "a new connection per call: TCP connect, kex, auth, open, exec {mfa,...}, reply, close, "
			  "disconnect",
			  NULL),
			run_ours_exec, NULL, bud(b, 400, 0.6) },
		{ add_res(b, "openssh.exec", "exec", SIDE_OPENSSH, 1,
			  "`ssh 127.0.0.1 '<sshrpcd> --exec CALL'`: a new ssh process and connection, the call "
			  "answered by "
			  "our stdio server under sshd",
			  perr),
			run_peer_exec, &call, bud(b, 20, 3) },
		{ add_res(b, "openssh.exec-true", "exec", SIDE_OPENSSH, 1,
			  "`ssh 127.0.0.1 true`: what sshd costs per command, with no RPC at all", perr),
			run_peer_exec, &tru, (bench_budget){ 10, 1 } },
		{ add_res(b, "dropbear.exec-true", "exec", SIDE_DROPBEAR, 1,
			  "`dbclient 127.0.0.1 true` against dropbear (no RPC server runs under Dropbear)", derr),
			run_peer_exec, &db, bud(b, 30, 1.5) },
	};
	measure(b, je, 4, false, 180);
}

static void phase_bulk(bench_ctx *b)
{
	static const char *const ciphers[][2] = {
		{ "aes128-gcm@openssh.com", NULL },
		{ "chacha20-poly1305@openssh.com", NULL },
		{ "aes128-ctr", "hmac-sha2-256" },
	};
	bool peer = b->compare && b->sshd_pid > 0;
	for (size_t i = 0; i < 3 && b->n_tput < BENCH_MAX_TPUT && !bench_stopped(); i++) {
		bench_tput *t = &b->tput[b->n_tput++];
		memset(t, 0, sizeof *t);
		snprintf(t->cipher, sizeof t->cipher, "%s", ciphers[i][0]);
		snprintf(t->mac, sizeof t->mac, "%s", ciphers[i][1] ? ciphers[i][1] : "");
		double ours[16], theirs[16], oc[2][16], tc[2][16];
		int no = 0, nt = 0, noc[2] = { 0, 0 }, ntc[2] = { 0, 0 };
		char err[240] = "";
		for (int r = 0; r < b->repeats && r < 16 && !bench_stopped(); r++) {
			double v;
			bench_cpu cpu;
			bench_watchdog(120);
			if (bench_ours_sink(
				    b, ciphers[i][0], ciphers[i][1], b->bulk_bytes, &v, &cpu, err, sizeof err) == 0) {
				ours[no++] = v;
				if (cpu.client_ms >= 0)
					oc[0][noc[0]++] = cpu.client_ms;
				if (cpu.server_ms >= 0)
					oc[1][noc[1]++] = cpu.server_ms;
			} else if (t->error[0] == '\0') {
				snprintf(t->error, sizeof t->error, "sshrpc: %s", err);
			}
			if (peer) {
				if (bench_peer_cat(b, ciphers[i][0], ciphers[i][1], b->bulk_bytes, &v, &cpu, err,
					    sizeof err) == 0) {
					theirs[nt++] = v;
					if (cpu.client_ms >= 0)
						tc[0][ntc[0]++] = cpu.client_ms;
					if (cpu.server_ms >= 0)
						tc[1][ntc[1]++] = cpu.server_ms;
				} else if (t->error[0] == '\0') {
					snprintf(t->error, sizeof t->error, "openssh: %s", err);
				}
			}
			bench_watchdog(0);
			if (!b->quick && r == 0)
				fprintf(stderr, ".");
		}
		t->bytes = b->bulk_bytes;
		t->ours_mbs = no ? bench_median(ours, (size_t)no) : 0;
		t->openssh_mbs = nt ? bench_median(theirs, (size_t)nt) : 0;
		t->ours_cpu.client_ms = noc[0] ? bench_median(oc[0], (size_t)noc[0]) : -1;
		t->ours_cpu.server_ms = noc[1] ? bench_median(oc[1], (size_t)noc[1]) : -1;
		t->openssh_cpu.client_ms = ntc[0] ? bench_median(tc[0], (size_t)ntc[0]) : -1;
		t->openssh_cpu.server_ms = ntc[1] ? bench_median(tc[1], (size_t)ntc[1]) : -1;
	}
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void phase_conns(bench_ctx *b)
{
	bench_conns *k = &b->conns;
	memset(k, 0, sizeof *k);
	k->n = b->connections;
	char err[240] = "";
	pid_t pid = 0;
	int port = 0;
	/* a fresh server: memory the earlier phases left in its heap would
	 * hide the growth */
	bench_watchdog(300);
	if (bench_start_sshrpcd(b, "conns", &pid, &port, err, sizeof err) != 0) {
		snprintf(k->error, sizeof k->error, "%s", err);
	} else {
		sleep_ms(200);
		int64_t c0 = bench_proc_cpu_ns(pid), t0 = bench_proc_ticks(pid, false), m0 = bench_proc_rss_kib(pid),
			k0 = bench_proc_stime(pid);
		sshc **cs = NULL;
		int opened = 0;
		int rc = bench_ours_idle_open(b, port, k->n, &cs, &opened, err, sizeof err);
		sleep_ms(200);
		int64_t c1 = bench_proc_cpu_ns(pid), t1 = bench_proc_ticks(pid, false), m1 = bench_proc_rss_kib(pid),
			k1 = bench_proc_stime(pid);
		if (rc != 0) {
			snprintf(k->error, sizeof k->error, "after %d connections: %s", opened, err);
		} else if (c0 < 0 || c1 < 0 || m0 < 0 || m1 < 0) {
			snprintf(k->error, sizeof k->error, "/proc/%d unreadable", (int)pid);
		} else {
			k->cpu_ms = (double)(c1 - c0) / 1e6 / k->n;
			k->cpu_ms_ticks = (double)(t1 - t0) * 1000.0 / (double)sysconf(_SC_CLK_TCK) / k->n;
			k->sys_ms_ticks = (double)(k1 - k0) * 1000.0 / (double)sysconf(_SC_CLK_TCK) / k->n;
			k->rss_kib = (double)(m1 - m0) / k->n;
		}
		bench_ours_idle_close(cs, opened);
		bench_stop_pid(pid);
		if (b->srv_pid == pid)
			b->srv_pid = 0;
	}
	bench_watchdog(0);
	if (!b->compare || b->sshd_pid <= 0) {
		snprintf(k->o_error, sizeof k->o_error, "%s", b->compare ? b->sshd_error : "not asked (--compare)");
		return;
	}
	/* OpenSSH: a process tree per connection (the re-executed sshd, its
	 * privilege-separated child, and the subsystem) */
	k->n_openssh = k->n < 50 ? k->n : 50;
	enum { MAXD = 4096 };
	pid_t *before = malloc(MAXD * sizeof *before), *after = malloc(MAXD * sizeof *after);
	int nb = bench_descendants(b->sshd_pid, before, MAXD);
	int64_t l0 = bench_proc_cpu_ns(b->sshd_pid);
	sshc **cs = NULL;
	int opened = 0;
	bench_watchdog(300);
	int rc = bench_ours_idle_open(b, b->sshd_port, k->n_openssh, &cs, &opened, err, sizeof err);
	sleep_ms(300);
	int na = bench_descendants(b->sshd_pid, after, MAXD);
	int64_t l1 = bench_proc_cpu_ns(b->sshd_pid);
	if (rc != 0) {
		snprintf(k->o_error, sizeof k->o_error, "after %d connections: %s", opened, err);
	} else {
		double cpu_ns = (double)(l1 - l0), rss = 0, pss = 0, sub = 0;
		double tick_ns = 1e9 / (double)sysconf(_SC_CLK_TCK);
		for (int i = 0; i < na; i++) {
			bool old = false;
			for (int j = 0; j < nb && !old; j++)
				old = before[j] == after[i];
			if (old)
				continue;
			char comm[64] = "";
			bench_proc_comm(after[i], comm, sizeof comm);
			int64_t r = bench_proc_rss_kib(after[i]);
			if (strcmp(comm, "sshd") == 0) {
				int64_t ns = bench_proc_cpu_ns(after[i]);
				int64_t all = bench_proc_ticks(after[i], true), own = bench_proc_ticks(after[i], false);
				/* own time precisely, reaped children (the pre-auth child) in ticks */
				cpu_ns += (double)(ns > 0 ? ns : 0) + (double)(all - own) * tick_ns;
				rss += (double)(r > 0 ? r : 0);
				int64_t p = bench_proc_pss_kib(after[i]);
				pss += (double)(p > 0 ? p : 0);
			} else {
				sub += (double)(r > 0 ? r : 0);
			}
		}
		k->o_cpu_ms = cpu_ns / 1e6 / k->n_openssh;
		k->o_rss_kib = rss / k->n_openssh;
		k->o_pss_kib = pss / k->n_openssh;
		k->o_sub_rss_kib = sub / k->n_openssh;
	}
	bench_ours_idle_close(cs, opened);
	bench_watchdog(0);
	free(before);
	free(after);
}

static int client_options(bench_ctx *b, const char *known_hosts, char *err, size_t errlen)
{
	options_init(&b->o, OPT_CLIENT);
	char opt[PATH_MAX + 64];
	const char *sets[] = { "BatchMode=yes", "IdentitiesOnly=yes", "LogLevel=ERROR", "ConnectTimeout=20" };
	for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
		if (options_set(&b->o, OPT_CLIENT, sets[i], "bench", err, errlen) != 0)
			return -1;
	snprintf(opt, sizeof opt, "IdentityFile=%s", b->client_key);
	if (options_set(&b->o, OPT_CLIENT, opt, "bench", err, errlen) != 0)
		return -1;
	snprintf(opt, sizeof opt, "UserKnownHostsFile=%s", known_hosts);
	if (options_set(&b->o, OPT_CLIENT, opt, "bench", err, errlen) != 0)
		return -1;
	snprintf(opt, sizeof opt, "StrictHostKeyChecking=%s", b->target ? "accept-new" : "yes");
	return options_set(&b->o, OPT_CLIENT, opt, "bench", err, errlen);
}

static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f != NULL) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

int bench_rpc_run(bench_ctx *b)
{
	char err[512] = "";
	int status = 0;
	uint64_t t_start = bench_now_ns();
	b->load_start = loadavg();
	b->lg = (logger){ SSHRPC_LOG_ERROR, "sshrpc-bench" };
	options_init(&b->o, OPT_CLIENT);
	if (bench_env_setup(b, err, sizeof err) != 0) {
		fprintf(stderr, "sshrpc-bench: %s\n", err);
		bench_env_cleanup(b);
		return 2;
	}
	options_free(&b->o);
	if (client_options(b, b->known_hosts, err, sizeof err) != 0 || bench_call_setup(b, err, sizeof err) != 0) {
		fprintf(stderr, "sshrpc-bench: %s\n", err);
		status = 2;
		goto out;
	}
	if ((b->target == NULL || b->compare) && !bench_have(b->sshrpcd)) {
		fprintf(stderr, "sshrpc-bench: %s: not found (sshrpcd must sit next to sshrpc-bench)\n", b->sshrpcd);
		status = 2;
		goto out;
	}
	if (b->target == NULL) {
		snprintf(b->host, sizeof b->host, "127.0.0.1");
		if (bench_start_sshrpcd(b, "main", &b->srv_pid, &b->port, err, sizeof err) != 0) {
			fprintf(stderr, "sshrpc-bench: %s\n", err);
			status = 1;
			goto out;
		}
	}
	if (b->compare) {
		char *sv[] = { "ssh", "-V", NULL }, *dv[] = { "/usr/sbin/dropbear", "-V", NULL };
		char out[256];
		if (bench_run(sv, out, sizeof out) == 0)
			snprintf(b->ssh_version, sizeof b->ssh_version, "%.*s", (int)strcspn(out, ",\n"), out);
		if (bench_have(dv[0]) && bench_run(dv, out, sizeof out) >= 0) {
			const char *v = strstr(out, "v20");
			if (v != NULL)
				snprintf(b->db_version, sizeof b->db_version, "Dropbear %.*s", (int)strcspn(v, " \n"),
					v);
		}
		if (bench_start_sshd(b) == 0)
			bench_start_master(b);
		bench_start_dropbear(b);
	}
	fprintf(stderr, "sshrpc-bench: measuring (%s run, %d repeat%s)", b->quick ? "short" : "full", b->repeats,
		b->repeats == 1 ? "" : "s");

	sshc *c = malloc(sizeof *c);
	bench_watchdog(60);
	if (c == NULL || bench_ours_connect(b, &b->o, c, err, sizeof err) != 0) {
		bench_watchdog(0);
		fprintf(stderr, "\nsshrpc-bench: cannot connect to %s port %d: %s\n", b->host, b->port, err);
		free(c);
		status = 1;
		goto out;
	}
	bench_watchdog(0);
	const sshrpc_transport_algs *a = sshrpc_transport_get_algs(c->s.t);
	snprintf(b->negotiated, sizeof b->negotiated, "%s, %s, %s, %s", a->kex ? a->kex : "?",
		a->hostkey ? a->hostkey : "?", a->cipher_c2s ? a->cipher_c2s : "?", a->mac_c2s ? a->mac_c2s : "?");

	/* One checked call first: it sets the reference reply every later
	 * reply is compared with (and that the TCP floor sends back). */
	bench_series first;
	bench_budget fb = { 10, 1 };
	int frc = bench_series_init(&first, 16);
	if (frc == 0) {
		bench_watchdog(60);
		frc = bench_ours_stream(b, c, SSHRPC_REQ_SUBSYSTEM, 0, &first, &fb, err, sizeof err);
		bench_watchdog(0);
		bench_series_free(&first);
	}
	if (frc != 0) {
		fprintf(stderr, "\nsshrpc-bench: the first sys:echo call over a subsystem channel failed: %s\n", err);
		if (!c->s.dead)
			sshc_close(c);
		free(c);
		status = 1;
		goto out;
	}
	phase_streams(b, c);
	if (!bench_stopped())
		phase_exec(b, c);
	if (!c->s.dead)
		sshc_close(c);
	free(c);
	if (!bench_stopped() && bench_wanted(b, "bulk"))
		phase_bulk(b);
	if (!bench_wanted(b, "connections"))
		b->connections = 0;
	if (!bench_stopped() && b->connections > 0 && b->target == NULL)
		phase_conns(b);
	else if (b->connections > 0 && b->target != NULL)
		snprintf(b->conns.error, sizeof b->conns.error, "--target: the server's process is not ours to read");
	fprintf(stderr, "\n");
	b->elapsed_s = (double)(bench_now_ns() - t_start) / 1e9;
	b->load_end = loadavg();
	if (bench_stopped()) {
		fprintf(stderr, "sshrpc-bench: interrupted; figures so far:\n");
		status = 1;
	}
	bench_report_table(b, b->json_path != NULL && strcmp(b->json_path, "-") == 0 ? stderr : stdout);
	if (b->json_path != NULL && bench_report_json(b, b->json_path) != 0) {
		fprintf(stderr, "sshrpc-bench: cannot write %s: %s\n", b->json_path, strerror(errno));
		status = status ? status : 1;
	}
	if (b->plot_path != NULL && bench_report_plot(b, b->plot_path, err, sizeof err) != 0) {
		fprintf(stderr, "sshrpc-bench: --plot: %s\n", err);
		status = status ? status : 1;
	}
	/* a mode that could not be measured on our side is a failure */
	for (int i = 0; i < b->n_res; i++)
		if (b->res[i].side == SIDE_SSHRPC && b->res[i].error[0] != '\0')
			status = status ? status : 1;
out:
	bench_call_free(b);
	options_free(&b->o);
	bench_env_cleanup(b);
	return status;
}

int bench_rpc_main(int argc, char **argv)
{
	bench_ctx *b = calloc(1, sizeof *b);
	if (b == NULL)
		return 2;
	b->repeats = 5;
	b->pin = true;
	b->cpu = 0;
	b->payload = 16;
	b->connections = -1;
	b->bulk_bytes = 256u << 20;
	int compare = -1, repeats = -1;
	long bulk_mib = -1;
	size_t used = 0;
	for (int i = 0; i < argc && used + 2 < sizeof b->command; i++)
		used += (size_t)snprintf(b->command + used, sizeof b->command - used, "%s%s", i ? " " : "",
			i == 0 ? "sshrpc-bench" : argv[i]);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--quick") == 0) {
			b->quick = true;
		} else if (strcmp(a, "--json") == 0) {
			if (v != NULL && (v[0] != '-' || strcmp(v, "-") == 0)) {
				b->json_path = v;
				i++;
			} else {
				b->json_path = "-";
			}
		} else if (strcmp(a, "--plot") == 0 && v) {
			b->plot_path = v;
			i++;
		} else if (strcmp(a, "--connections") == 0 && v) {
			b->connections = atoi(v);
			i++;
		} else if (strcmp(a, "--repeats") == 0 && v) {
			repeats = atoi(v);
			i++;
		} else if (strcmp(a, "--payload") == 0 && v) {
			b->payload = (size_t)atol(v);
			i++;
		} else if (strcmp(a, "--bulk-mib") == 0 && v) {
			bulk_mib = atol(v);
			i++;
		} else if (strcmp(a, "--only") == 0 && v) {
			b->only = v;
			i++;
		} else if (strcmp(a, "--no-pin") == 0) {
			b->pin = false;
		} else if (strcmp(a, "--cpu") == 0 && v) {
			b->cpu = atoi(v);
			i++;
		} else if (strcmp(a, "--target") == 0 && v) {
			b->target = v;
			i++;
		} else if ((strcmp(a, "--identity") == 0 || strcmp(a, "-i") == 0) && v) {
			snprintf(b->client_key, sizeof b->client_key, "%s", v);
			i++;
		} else if (strcmp(a, "--known-hosts") == 0 && v) {
			snprintf(b->known_hosts_arg, sizeof b->known_hosts_arg, "%s", v);
			i++;
		} else if (strcmp(a, "--compare") == 0) {
			compare = 1;
		} else if (strcmp(a, "--no-compare") == 0) {
			compare = 0;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			free(b);
			return 0;
		} else {
			usage(stderr);
			fprintf(stderr, "sshrpc-bench: unknown or incomplete argument '%s'\n", a);
			free(b);
			return 2;
		}
	}
	if (b->target != NULL) {
		const char *colon = strrchr(b->target, ':');
		if (colon == NULL || atoi(colon + 1) <= 0 || b->client_key[0] == '\0') {
			fprintf(stderr, "sshrpc-bench: --target HOST:PORT needs a port and --identity KEY\n");
			free(b);
			return 2;
		}
		snprintf(b->host, sizeof b->host, "%.*s", (int)(colon - b->target), b->target);
		b->port = atoi(colon + 1);
	}
	if (b->payload == 0 || b->payload > 65536 || (repeats != -1 && (repeats < 1 || repeats > 16)) || b->cpu < 0 ||
		bulk_mib == 0 || bulk_mib < -1) {
		fprintf(stderr, "sshrpc-bench: --payload 1..65536, --repeats 1..16, --bulk-mib > 0, --cpu >= 0\n");
		free(b);
		return 2;
	}
	b->compare = compare == -1 ? b->target == NULL : compare == 1;
	/* Pinning makes sense only when every process of the path is ours
	 * to pin: not with a server someone else started. */
	if (b->target != NULL)
		b->pin = false;
	if (repeats == -1)
		repeats = b->quick ? 1 : 5;
	b->repeats = repeats;
	if (b->connections < 0)
		b->connections = b->quick || b->target != NULL ? 0 : 200;
	if (bulk_mib > 0)
		b->bulk_bytes = (uint64_t)bulk_mib << 20;
	else if (b->quick)
		b->bulk_bytes = 32u << 20;
	int st = bench_rpc_run(b);
	free(b);
	return st;
}
