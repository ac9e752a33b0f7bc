#define _GNU_SOURCE
/* The other implementations doing the same work on the same machine in the
 * same run, driven the way their users drive them:
 *   exec       `ssh host '<sshrpcd> --exec CALL'`: a new ssh process,
 *              connection, kex, auth, and a real call answered by our
 *              stdio server under sshd (`ssh host true` too, as the floor
 *              of what sshd costs per command)
 *   exec-mod   `ssh -S CTL host '<sshrpcd> --exec CALL'` through a
 *              ControlMaster started once
 *   subsystem  one `ssh -s host sshrpc` session (our stdio server under
 *              sshd) fed frames on a pipe, replies read back
 *   Dropbear   `dbclient host true` (Dropbear offers no subsystem of ours)
 *   bulk       `ssh -c CIPHER [-m MAC] host 'cat >/dev/null'` fed as many
 *              bytes as our sys:sink run carries. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_rpc.h"

typedef struct sargs {
	char *v[64];
	int n;
	char port[16], kh[PATH_MAX + 32], user[160], ctl[PATH_MAX];
	char cmd[1100];
} sargs;

static void add(sargs *a, const char *s)
{
	if (a->n < 62)
		a->v[a->n++] = (char *)s;
	a->v[a->n] = NULL;
}

/* ssh isolated from the user's files (peers.md). */
static void ssh_base(bench_ctx *b, sargs *a)
{
	a->n = 0;
	snprintf(a->port, sizeof a->port, "%d", b->sshd_port);
	snprintf(a->kh, sizeof a->kh, "UserKnownHostsFile=%s", b->known_hosts);
	const char *base[] = { "ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o",
		a->kh, "-o", "IdentitiesOnly=yes", "-o", "LogLevel=ERROR", "-i", b->client_key, "-p", a->port, "-l",
		b->user };
	for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
		add(a, base[i]);
}

static int read_all(int fd, sshrpc_buf *out)
{
	for (;;) {
		uint8_t *p;
		if (sshrpc_buf_reserve(out, 4096, &p) != SSHRPC_OK)
			return -1;
		ssize_t r = read(fd, p, 4096);
		int e = errno;
		sshrpc_buf_truncate(out, sshrpc_buf_len(out) - 4096 + (size_t)(r > 0 ? r : 0));
		if (r > 0)
			continue;
		if (r < 0 && e == EINTR)
			continue;
		return r == 0 ? 0 : -1;
	}
}

static void why(bench_ctx *b, const char *what, int st, char *err, size_t errlen)
{
	char line[200], path[PATH_MAX];
	snprintf(path, sizeof path, "%s/peer.err", b->dir);
	bench_log_tail(path, line, sizeof line);
	snprintf(err, errlen, "%s: exit %d%s%s", what, st, line[0] ? ": " : "", line);
}

int bench_peer_exec(bench_ctx *b, int variant, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	sargs a;
	char errp[PATH_MAX], dbport[16], dest[200];
	snprintf(errp, sizeof errp, "%s/peer.err", b->dir);
	switch (variant) {
	case PEER_SSH_CALL:
		ssh_base(b, &a);
		add(&a, "127.0.0.1");
		add(&a, b->exec_cmd);
		break;
	case PEER_SSH_TRUE:
		ssh_base(b, &a);
		add(&a, "127.0.0.1");
		add(&a, "true");
		break;
	case PEER_SSH_MUX:
		a.n = 0;
		snprintf(a.port, sizeof a.port, "%d", b->sshd_port);
		add(&a, "ssh");
		add(&a, "-S");
		add(&a, b->ctl_path);
		add(&a, "-F");
		add(&a, "/dev/null");
		add(&a, "-o");
		add(&a, "BatchMode=yes");
		add(&a, "-p");
		add(&a, a.port);
		add(&a, "-l");
		add(&a, b->user);
		add(&a, "127.0.0.1");
		add(&a, b->exec_cmd);
		break;
	default:
		a.n = 0;
		snprintf(dbport, sizeof dbport, "%d", b->db_port);
		snprintf(dest, sizeof dest, "%s@127.0.0.1", b->user);
		add(&a, "dbclient");
		add(&a, "-y");
		add(&a, "-y");
		add(&a, "-i");
		add(&a, b->client_key_db);
		add(&a, "-p");
		add(&a, dbport);
		add(&a, dest);
		add(&a, "true");
		break;
	}
	bool real_call = variant == PEER_SSH_CALL || variant == PEER_SSH_MUX;
	sshrpc_buf out;
	sshrpc_buf_init(&out, NULL, 1u << 20);
	int rc = 0;
	s->start_ns = bench_now_ns();
	for (;;) {
		if (s->n % 10 == 0 &&
			(s->n >= bud->max_calls ||
				(s->n >= 10 && (double)(bench_now_ns() - s->start_ns) / 1e9 >= bud->max_s)))
			break;
		if (bench_stopped()) {
			rc = -1;
			break;
		}
		uint64_t t0 = bench_now_ns();
		int fd;
		pid_t pid = bench_spawn(a.v, -1, &fd, errp);
		if (pid < 0) {
			snprintf(err, errlen, "cannot run %s: %s", a.v[0], strerror(errno));
			rc = -1;
			break;
		}
		sshrpc_buf_consume(&out, sshrpc_buf_len(&out));
		int r = read_all(fd, &out);
		close(fd);
		int st = bench_wait(pid);
		uint64_t t1 = bench_now_ns();
		if (r != 0 || st != 0) {
			why(b, a.v[0], st, err, errlen);
			rc = -1;
			break;
		}
		if (real_call ? bench_call_check_mfa(b, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out)) != 0
			      : sshrpc_buf_len(&out) != 0) {
			snprintf(err, errlen, "%s: unexpected output (%zu bytes)", a.v[0], sshrpc_buf_len(&out));
			rc = -1;
			break;
		}
		bench_series_add(s, t0, t1);
	}
	sshrpc_buf_free(&out);
	return rc;
}

/* ---- one ssh -s session ------------------------------------------------------------ */

typedef struct rbuf {
	uint8_t *p;
	size_t off, len, cap;
} rbuf;

/* Reads what the pipe has (blocking when block); -1 at EOF or error. */
static int rbuf_fill(rbuf *r, int fd)
{
	if (r->off > 0 && r->off == r->len)
		r->off = r->len = 0;
	if (r->len == r->cap) {
		memmove(r->p, r->p + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
		if (r->len == r->cap)
			return -1;
	}
	ssize_t n;
	while ((n = read(fd, r->p + r->len, r->cap - r->len)) < 0 && errno == EINTR)
		;
	if (n > 0) {
		r->len += (size_t)n;
		return 0;
	}
	if (n < 0 && errno == EAGAIN)
		return 0;
	return -1;
}

static int write_full(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			poll(&pf, 1, -1);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* The next whole frame in r, or NULL. */
static const uint8_t *rbuf_frame(rbuf *r, uint32_t *n)
{
	if (r->len - r->off < 4)
		return NULL;
	*n = sshrpc_load_be32(r->p + r->off);
	if (r->len - r->off < 4 + (size_t)*n)
		return NULL;
	const uint8_t *f = r->p + r->off + 4;
	r->off += 4 + (size_t)*n;
	return f;
}

static int one_frame(rbuf *r, int fd, uint32_t *n, const uint8_t **f)
{
	while ((*f = rbuf_frame(r, n)) == NULL)
		if (rbuf_fill(r, fd) != 0)
			return -1;
	return 0;
}

#define FIRST_ID 256u

int bench_peer_stream(bench_ctx *b, int depth, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	sargs a;
	char errp[PATH_MAX];
	snprintf(errp, sizeof errp, "%s/peer.err", b->dir);
	ssh_base(b, &a);
	add(&a, "-s");
	add(&a, "127.0.0.1");
	add(&a, "sshrpc");
	enum { MAXD = 4096 };
	pid_t *old = malloc(MAXD * sizeof *old);
	int n_old = old != NULL ? bench_descendants(b->sshd_pid, old, MAXD) : -1;
	int in, out;
	pid_t pid = bench_spawn_piped(a.v, &in, &out, errp);
	if (pid < 0) {
		free(old);
		snprintf(err, errlen, "cannot run ssh: %s", strerror(errno));
		return -1;
	}
	rbuf r = { malloc(1u << 20), 0, 0, 1u << 20 };
	uint64_t *sent = malloc(s->cap * sizeof *sent);
	int rc = r.p && sent ? 0 : -1;
	/* warm-up: the session is set up by the first call */
	for (int i = 0; i < 20 && rc == 0; i++) {
		uint32_t n;
		const uint8_t *f;
		if (write_full(in, b->echo.frame, b->echo.frame_len) != 0 || one_frame(&r, out, &n, &f) != 0)
			rc = -1;
		else if (bench_call_check_mfa(b, f, n) != 0)
			rc = -2;
	}
	/* CPU of the whole path: this thread, ssh, and the session's
	 * processes under sshd (its sshd processes and our stdio server) */
	int64_t tree0 = n_old >= 0 ? bench_tree_cpu_ns(b->sshd_pid, old, n_old, NULL) : -1, p0 = bench_proc_cpu_ns(pid);
	uint64_t c0 = bench_thread_cpu_ns(); /* after the /proc reads, which are not the path's */
	s->start_ns = bench_now_ns();
	if (rc == 0 && depth == 0) {
		for (;;) {
			if (s->n % 10 == 0 &&
				(s->n >= bud->max_calls ||
					(s->n >= 10 && (double)(bench_now_ns() - s->start_ns) / 1e9 >= bud->max_s)))
				break;
			if (bench_stopped()) {
				rc = -1;
				break;
			}
			uint64_t t0 = bench_now_ns();
			uint32_t n;
			const uint8_t *f;
			if (write_full(in, b->echo.frame, b->echo.frame_len) != 0 || one_frame(&r, out, &n, &f) != 0) {
				rc = -1;
				break;
			}
			uint64_t t1 = bench_now_ns();
			if (bench_call_check_mfa(b, f, n) != 0) {
				rc = -2;
				break;
			}
			bench_series_add(s, t0, t1);
		}
	} else if (rc == 0) {
		/* As on our side: the calls that can go are written together. */
		fcntl(in, F_SETFL, fcntl(in, F_GETFL) | O_NONBLOCK);
		fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK);
		uint8_t *batch = malloc((size_t)depth * b->call_frame_len);
		size_t n_sent = 0, n_done = 0, bl = 0, boff = 0; /* batch bytes, of which written */
		bool stop = false;
		if (batch == NULL)
			rc = -1;
		while (rc == 0 && (!stop || n_done < n_sent || boff < bl)) {
			if (boff == bl) {
				bl = boff = 0;
				uint64_t now = bench_now_ns();
				while (!stop && n_sent - n_done < (size_t)depth) {
					if (n_sent >= s->cap || bench_stopped() ||
						(n_sent % 10 == 0 &&
							(n_sent >= bud->max_calls ||
								(n_sent >= 10 && (double)(now - s->start_ns) / 1e9 >=
											 bud->max_s)))) {
						stop = true;
						break;
					}
					memcpy(batch + bl, b->call_frame, b->call_frame_len);
					bench_call_patch_id(batch + bl, b->call_id_off, FIRST_ID + (uint32_t)n_sent);
					sent[n_sent++] = now;
					bl += b->call_frame_len;
				}
			}
			if (boff < bl) {
				ssize_t w = write(in, batch + boff, bl - boff);
				if (w < 0 && errno != EAGAIN && errno != EINTR) {
					rc = -1;
					break;
				}
				if (w > 0)
					boff += (size_t)w;
			}
			uint32_t n;
			const uint8_t *f;
			uint64_t now = bench_now_ns();
			bool got = false;
			while ((f = rbuf_frame(&r, &n)) != NULL) {
				uint64_t id;
				if (bench_call_check_reply(b, f, n, &id) != 0 || id < FIRST_ID ||
					id - FIRST_ID >= n_sent || sent[id - FIRST_ID] == 0) {
					rc = -2;
					break;
				}
				bench_series_add(s, sent[id - FIRST_ID], now);
				sent[id - FIRST_ID] = 0;
				n_done++;
				got = true;
			}
			if (rc != 0 || got || (stop && n_done == n_sent && boff == bl))
				continue;
			struct pollfd pf[2] = { { out, POLLIN, 0 }, { in, (short)(boff < bl ? POLLOUT : 0), 0 } };
			if (poll(pf, 2, 30000) <= 0) {
				rc = -1;
				break;
			}
			if ((pf[0].revents & (POLLIN | POLLHUP | POLLERR)) && rbuf_fill(&r, out) != 0)
				rc = -1;
		}
		free(batch);
		fcntl(out, F_SETFL, fcntl(out, F_GETFL) & ~O_NONBLOCK);
	}
	uint64_t c1 = bench_thread_cpu_ns();
	int64_t p1 = bench_proc_cpu_ns(pid);
	int64_t tree1 = tree0 >= 0 ? bench_tree_cpu_ns(b->sshd_pid, old, n_old, NULL) : -1;
	if (rc == 0 && p0 >= 0 && p1 >= p0 && tree0 >= 0 && tree1 >= tree0)
		s->cpu_ns = (int64_t)(c1 - c0) + (p1 - p0) + (tree1 - tree0);
	free(old);
	/* EOF: the server answers what it has and ends the session
	 * (interface.md), so ssh exits 0. */
	close(in);
	sshrpc_buf rest;
	sshrpc_buf_init(&rest, NULL, 1u << 20);
	read_all(out, &rest);
	sshrpc_buf_free(&rest);
	close(out);
	int st = bench_wait(pid);
	if (rc == -2)
		snprintf(err, errlen, "ssh -s: wrong reply");
	else if (rc != 0 || st != 0)
		why(b, "ssh -s HOST sshrpc", st, err, errlen);
	free(r.p);
	free(sent);
	return rc == 0 && st == 0 ? 0 : -1;
}

/* ---- bulk ----------------------------------------------------------------------------------- */

int bench_peer_cat(bench_ctx *b, const char *cipher, const char *mac, uint64_t bytes, double *mbs, bench_cpu *cpu,
	char *err, size_t errlen)
{
	const size_t bin = 1u << 20;
	uint8_t *frame;
	size_t flen;
	if (bench_sink_frame(bin, &frame, &flen) != 0)
		return -1;
	uint64_t k = bytes / flen ? bytes / flen : 1;
	sargs a;
	char errp[PATH_MAX];
	snprintf(errp, sizeof errp, "%s/peer.err", b->dir);
	ssh_base(b, &a);
	add(&a, "-c");
	add(&a, cipher);
	if (mac != NULL) {
		add(&a, "-m");
		add(&a, mac);
	}
	add(&a, "127.0.0.1");
	/* "ready" says the session is up, so that the timing leaves out
	 * connection set-up as it does on our side; "done" that cat has read
	 * everything while the session's sshd processes are still there to
	 * be asked for their CPU time. */
	add(&a, "echo ready && cat >/dev/null && echo done");
	enum { MAXD = 4096 };
	pid_t *old = malloc(MAXD * sizeof *old);
	int n_old = old != NULL ? bench_descendants(b->sshd_pid, old, MAXD) : -1;
	int in, out;
	pid_t pid = bench_spawn_piped(a.v, &in, &out, errp);
	if (pid < 0) {
		free(frame);
		snprintf(err, errlen, "cannot run ssh: %s", strerror(errno));
		return -1;
	}
	fcntl(in, F_SETPIPE_SZ, 1 << 20);
	char ready[8];
	size_t got = 0;
	while (got < 6) {
		ssize_t n = read(out, ready + got, 6 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	int rc = got == 6 && memcmp(ready, "ready\n", 6) == 0 ? 0 : -1;
	int64_t s0 = n_old >= 0 ? bench_tree_cpu_ns(b->sshd_pid, old, n_old, "sshd") : -1;
	int64_t ssh0 = bench_proc_cpu_ns(pid);
	uint64_t t0 = bench_now_ns(), c0 = bench_thread_cpu_ns();
	for (uint64_t i = 0; rc == 0 && i < k; i++)
		rc = write_full(in, frame, flen);
	close(in);
	got = 0;
	while (rc == 0 && got < 5) {
		ssize_t n = read(out, ready + got, 5 - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	/* "done": cat has read every byte, as our last sys:sink reply says */
	uint64_t t1 = bench_now_ns(), c1 = bench_thread_cpu_ns();
	int64_t ssh1 = bench_proc_cpu_ns(pid);
	int64_t s1 = s0 >= 0 ? bench_tree_cpu_ns(b->sshd_pid, old, n_old, "sshd") : -1;
	if (got != 5 || memcmp(ready, "done\n", 5) != 0)
		rc = -1;
	char tmp[256];
	while (read(out, tmp, sizeof tmp) > 0)
		;
	close(out);
	int st = bench_wait(pid);
	free(frame);
	free(old);
	if (rc != 0 || st != 0) {
		why(b, "ssh 'cat >/dev/null'", st, err, errlen);
		return -1;
	}
	double mib = (double)(k * flen) / (1 << 20);
	*mbs = (double)(k * flen) / ((double)(t1 - t0) / 1e9) / 1e6;
	/* the client side: ssh, and this process feeding its pipe */
	cpu->client_ms = ssh1 >= ssh0 && ssh0 >= 0 ? ((double)(ssh1 - ssh0) + (double)(c1 - c0)) / 1e6 / mib : -1;
	cpu->server_ms = s1 >= s0 && s0 >= 0 ? (double)(s1 - s0) / 1e6 / mib : -1;
	return 0;
}
