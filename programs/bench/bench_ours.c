/* Our side: sshc (the client sshrpc uses) in this process, against sshrpcd.
 * What one timed call covers in each mode:
 *   exec       connect, kex, auth, open, exec, reply, exit-status, close, disconnect
 *   exec-mod   open a channel on a kept connection, exec, reply, close
 *   shell / subsystem   one {mfa,...} frame written, its reply read
 *   pipelined  {call,Id,...} frames, depth of them outstanding; latency is
 *              from writing a call to reading its reply
 * Every reply is checked (bench_call.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rpc.h"

int bench_ours_connect(bench_ctx *b, const options *o, sshc *c, char *err, size_t errlen)
{
	return sshc_connect(c, o, &b->lg, b->host, b->port, b->user, NULL, err, errlen);
}

static bool budget_over(const bench_budget *bud, size_t done, uint64_t start_ns)
{
	if (done % 10 != 0)
		return false; /* whole sets of 10 only */
	if (done >= bud->max_calls)
		return true;
	return done >= 10 && (double)(bench_now_ns() - start_ns) / 1e9 >= bud->max_s;
}

/* One exec request on a new channel, to its CLOSE. */
static int exec_call(bench_ctx *b, sshc *c, char *err, size_t errlen)
{
	sshc_chan *ch;
	if (sshc_open(c, &ch) != 0) {
		snprintf(err, errlen, "cannot open a session channel");
		return -1;
	}
	const char *t = b->echo.mfa_text;
	if (sshrpc_chan_exec(c->s.c, ch->id, t, strlen(t), true) != SSHRPC_OK) {
		snprintf(err, errlen, "cannot send the exec request");
		return -1;
	}
	/* Counted here rather than through sshc_request, which waits for the
	 * reply alone: the server answers an exec call with reply, data,
	 * exit-status, EOF and CLOSE in one flight. */
	ch->replies_pending++;
	while (!ch->closed)
		if (sshc_wait(c) < 0) {
			snprintf(err, errlen, "%s", sshc_error(c));
			return -1;
		}
	bool accepted = !ch->open_failed && ch->replies_pending == 0 && ch->last_reply_ok;
	int chk = accepted ? bench_call_check_mfa(b, sshrpc_buf_ptr(&ch->in), sshrpc_buf_len(&ch->in)) : -1;
	int st = ch->exit_status;
	if (sshc_wait_closed(c, ch) != 0) {
		snprintf(err, errlen, "%s", sshc_error(c));
		return -1;
	}
	if (!accepted) {
		snprintf(err, errlen, "exec request refused (channel %s)", ch->open_failed ? "refused" : "opened");
		return -1;
	}
	if (chk != 0) {
		snprintf(err, errlen, "wrong exec reply");
		return -1;
	}
	if (st != 0) {
		snprintf(err, errlen, "exit-status %d after an {ok,_} reply", st);
		return -1;
	}
	return 0;
}

int bench_ours_exec(bench_ctx *b, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	sshc *c = malloc(sizeof *c);
	if (c == NULL)
		return -1;
	int rc = 0;
	s->start_ns = bench_now_ns();
	while (!budget_over(bud, s->n, s->start_ns) && !bench_stopped()) {
		uint64_t t0 = bench_now_ns();
		if (bench_ours_connect(b, &b->o, c, err, errlen) != 0) {
			rc = -1;
			break;
		}
		rc = exec_call(b, c, err, errlen);
		sshc_close(c);
		if (rc != 0)
			break;
		bench_series_add(s, t0, bench_now_ns());
	}
	free(c);
	return bench_stopped() ? -1 : rc;
}

int bench_ours_exec_mod(bench_ctx *b, sshc *c, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	s->start_ns = bench_now_ns();
	while (!budget_over(bud, s->n, s->start_ns) && !bench_stopped()) {
		uint64_t t0 = bench_now_ns();
		if (exec_call(b, c, err, errlen) != 0)
			return -1;
		bench_series_add(s, t0, bench_now_ns());
	}
	return bench_stopped() ? -1 : 0;
}

static int open_stream(sshc *c, int kind, sshc_chan **ch, char *err, size_t errlen)
{
	int rc = sshc_open(c, ch);
	if (rc == 0)
		rc = kind == SSHRPC_REQ_SHELL ? sshc_request(c, *ch, SSHRPC_REQ_SHELL, NULL, 0)
					      : sshc_request(c, *ch, SSHRPC_REQ_SUBSYSTEM, "sshrpc", 6);
	if (rc != 0)
		snprintf(err, errlen, "%s", rc == -1 ? sshc_error(c) : "shell/subsystem request refused");
	return rc;
}

static void close_stream(sshc *c, sshc_chan *ch)
{
	if (!ch->closed)
		SSHRPC_IGNORE(sshrpc_chan_eof(c->s.c, ch->id));
	SSHRPC_IGNORE(sshc_close_chan(c, ch));
	SSHRPC_IGNORE(sshc_wait_closed(c, ch));
}

/* Waits for one whole {packet,4} message; *n gets its length. */
static int read_frame(sshc *c, sshc_chan *ch, uint32_t *n, char *err, size_t errlen)
{
	if (sshc_read_at_least(c, ch, 4) != 0 || sshrpc_buf_len(&ch->in) < 4)
		goto dead;
	*n = sshrpc_load_be32(sshrpc_buf_ptr(&ch->in));
	if (sshc_read_at_least(c, ch, 4 + (size_t)*n) != 0 || sshrpc_buf_len(&ch->in) < 4 + (size_t)*n)
		goto dead;
	return 0;
dead:
	snprintf(err, errlen, "channel ended before a reply: %s", c->s.dead ? sshc_error(c) : "EOF");
	return -1;
}

static int one_at_a_time(
	bench_ctx *b, sshc *c, sshc_chan *ch, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	s->start_ns = bench_now_ns();
	while (!budget_over(bud, s->n, s->start_ns) && !bench_stopped()) {
		uint64_t t0 = bench_now_ns();
		uint32_t n;
		if (sshc_write_all(c, ch, b->echo.frame, b->echo.frame_len) != 0 ||
			read_frame(c, ch, &n, err, errlen) != 0)
			return -1;
		if (bench_call_check_mfa(b, sshrpc_buf_ptr(&ch->in) + 4, n) != 0) {
			snprintf(err, errlen, "wrong reply");
			return -1;
		}
		sshrpc_buf_consume(&ch->in, 4 + (size_t)n);
		bench_series_add(s, t0, bench_now_ns());
	}
	return 0;
}

#define FIRST_ID 256u /* INTEGER_EXT from here on, as the frame template has it */

/* Keeps depth calls outstanding. The calls that can go are written
 * together, as ssh reads them from its pipe: one channel write, so the
 * connection layer may pack them into one packet. */
static int pipelined(bench_ctx *b, sshc *c, sshc_chan *ch, int depth, bench_series *s, const bench_budget *bud,
	char *err, size_t errlen)
{
	uint64_t *sent = malloc(s->cap * sizeof *sent);
	uint8_t *batch = malloc((size_t)depth * b->call_frame_len);
	if (sent == NULL || batch == NULL) {
		free(sent);
		free(batch);
		return -1;
	}
	size_t n_sent = 0, n_done = 0;
	bool stop = false;
	int rc = 0;
	s->start_ns = bench_now_ns();
	while ((!stop || n_done < n_sent) && rc == 0) {
		size_t nb = 0;
		uint64_t now = bench_now_ns();
		while (!stop && n_sent - n_done < (size_t)depth) {
			if (n_sent >= s->cap || budget_over(bud, n_sent, s->start_ns) || bench_stopped()) {
				stop = true;
				break;
			}
			uint8_t *f = batch + nb * b->call_frame_len;
			memcpy(f, b->call_frame, b->call_frame_len);
			bench_call_patch_id(f, b->call_id_off, FIRST_ID + (uint32_t)n_sent);
			sent[n_sent++] = now;
			nb++;
		}
		if (nb > 0 && sshc_write_all(c, ch, batch, nb * b->call_frame_len) != 0) {
			snprintf(err, errlen, "%s", sshc_error(c));
			rc = -1;
			break;
		}
		/* Every whole reply that has arrived. */
		const uint8_t *p = sshrpc_buf_ptr(&ch->in);
		size_t len = sshrpc_buf_len(&ch->in), off = 0;
		now = bench_now_ns();
		while (rc == 0 && len - off >= 4) {
			uint32_t n = sshrpc_load_be32(p + off);
			if (len - off < 4 + (size_t)n)
				break;
			uint64_t id;
			if (bench_call_check_reply(b, p + off + 4, n, &id) != 0 || id < FIRST_ID ||
				id - FIRST_ID >= n_sent || sent[id - FIRST_ID] == 0) {
				snprintf(err, errlen, "wrong or unexpected {reply,Id,_}");
				rc = -1;
				break;
			}
			bench_series_add(s, sent[id - FIRST_ID], now);
			sent[id - FIRST_ID] = 0;
			n_done++;
			off += 4 + (size_t)n;
		}
		sshrpc_buf_consume(&ch->in, off);
		if (rc == 0 && off == 0 && n_done < n_sent) {
			if (ch->eof || ch->closed || sshc_wait(c) < 0) {
				snprintf(err, errlen, "channel ended with %zu calls unanswered: %s", n_sent - n_done,
					sshc_error(c));
				rc = -1;
			}
		}
	}
	free(sent);
	free(batch);
	return rc;
}

int bench_ours_stream(
	bench_ctx *b, sshc *c, int kind, int depth, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	sshc_chan *ch;
	if (open_stream(c, kind, &ch, err, errlen) != 0)
		return -1;
	/* A few calls first: the channel's first frames are not the steady state. */
	bench_series warm;
	bench_budget wb = { 20, 1 };
	int rc = bench_series_init(&warm, 64);
	if (rc == 0)
		rc = one_at_a_time(b, c, ch, &warm, &wb, err, errlen);
	bench_series_free(&warm);
	/* CPU of the whole path: this thread and, when the bench started
	 * it, the server */
	uint64_t c0 = bench_thread_cpu_ns();
	int64_t s0 = b->srv_pid > 0 ? bench_proc_cpu_ns(b->srv_pid) : -1;
	if (rc == 0)
		rc = depth == 0 ? one_at_a_time(b, c, ch, s, bud, err, errlen)
				: pipelined(b, c, ch, depth, s, bud, err, errlen);
	int64_t s1 = s0 >= 0 ? bench_proc_cpu_ns(b->srv_pid) : -1;
	if (rc == 0 && s1 >= s0 && s0 >= 0)
		s->cpu_ns = (int64_t)(bench_thread_cpu_ns() - c0) + (s1 - s0);
	if (!c->s.dead)
		close_stream(c, ch);
	return bench_stopped() ? -1 : rc;
}

/* ---- bulk: sys:sink with 1 MiB binaries -------------------------------------------- */

int bench_ours_sink(bench_ctx *b, const char *cipher, const char *mac, uint64_t bytes, double *mbs, bench_cpu *cpu,
	char *err, size_t errlen)
{
	uint64_t c0 = 0;
	int64_t s0 = -1;
	const size_t bin = 1u << 20;
	uint8_t *frame, *ref = NULL;
	size_t flen, ref_len = 0;
	if (bench_sink_frame(bin, &frame, &flen) != 0)
		return -1;
	options o;
	options_init(&o, OPT_CLIENT);
	char opt[PATH_MAX + 64];
	int rc = 0;
	const char *sets[] = { "BatchMode=yes", "IdentitiesOnly=yes", "LogLevel=ERROR" };
	for (size_t i = 0; i < sizeof sets / sizeof sets[0] && rc == 0; i++)
		rc = options_set(&o, OPT_CLIENT, sets[i], "bench", err, errlen);
	snprintf(opt, sizeof opt, "IdentityFile=%s", b->client_key);
	rc = rc ? rc : options_set(&o, OPT_CLIENT, opt, "bench", err, errlen);
	snprintf(opt, sizeof opt, "UserKnownHostsFile=%s", b->known_hosts);
	rc = rc ? rc : options_set(&o, OPT_CLIENT, opt, "bench", err, errlen);
	snprintf(opt, sizeof opt, "StrictHostKeyChecking=%s", b->target ? "accept-new" : "yes");
	rc = rc ? rc : options_set(&o, OPT_CLIENT, opt, "bench", err, errlen);
	snprintf(opt, sizeof opt, "Ciphers=%s", cipher);
	rc = rc ? rc : options_set(&o, OPT_CLIENT, opt, "bench", err, errlen);
	if (mac != NULL && rc == 0) {
		snprintf(opt, sizeof opt, "MACs=%s", mac);
		rc = options_set(&o, OPT_CLIENT, opt, "bench", err, errlen);
	}
	sshc *c = malloc(sizeof *c);
	bool connected = false;
	if (rc == 0 && c != NULL) {
		rc = bench_ours_connect(b, &o, c, err, errlen);
		connected = rc == 0;
	}
	sshc_chan *ch = NULL;
	if (rc == 0)
		rc = open_stream(c, SSHRPC_REQ_SUBSYSTEM, &ch, err, errlen);
	if (rc == 0) {
		const sshrpc_transport_algs *a = sshrpc_transport_get_algs(c->s.t);
		if (a->cipher_c2s == NULL || strcmp(a->cipher_c2s, cipher) != 0) {
			snprintf(err, errlen, "negotiated %s, not %s", a->cipher_c2s ? a->cipher_c2s : "nothing",
				cipher);
			rc = -1;
		}
	}
	uint64_t k = bytes / flen;
	if (k == 0)
		k = 1;
	uint64_t t0 = 0;
	/* one call untimed, then k timed; replies gather while writing */
	for (uint64_t i = 0; rc == 0 && i <= k; i++) {
		if (i == 1) {
			t0 = bench_now_ns();
			c0 = bench_thread_cpu_ns();
			s0 = b->srv_pid > 0 ? bench_proc_cpu_ns(b->srv_pid) : -1;
		}
		if (sshc_write_all(c, ch, frame, flen) != 0) {
			snprintf(err, errlen, "%s", sshc_error(c));
			rc = -1;
			break;
		}
		if (i == 0) {
			uint32_t n;
			rc = read_frame(c, ch, &n, err, errlen);
			if (rc == 0 && bench_sink_check(bin, sshrpc_buf_ptr(&ch->in) + 4, n, &ref, &ref_len) != 0) {
				snprintf(err, errlen, "wrong sys:sink reply");
				rc = -1;
			}
			sshrpc_buf_consume(&ch->in, 4 + (size_t)n);
		}
	}
	for (uint64_t i = 0; rc == 0 && i < k; i++) {
		uint32_t n;
		rc = read_frame(c, ch, &n, err, errlen);
		if (rc == 0 && bench_sink_check(bin, sshrpc_buf_ptr(&ch->in) + 4, n, &ref, &ref_len) != 0) {
			snprintf(err, errlen, "wrong sys:sink reply");
			rc = -1;
		}
		if (rc == 0)
			sshrpc_buf_consume(&ch->in, 4 + (size_t)n);
	}
	if (rc == 0) {
		double s = (double)(bench_now_ns() - t0) / 1e9;
		double mib = (double)(k * flen) / (1 << 20);
		*mbs = (double)(k * flen) / s / 1e6;
		cpu->client_ms = (double)(bench_thread_cpu_ns() - c0) / 1e6 / mib;
		int64_t s1 = s0 >= 0 ? bench_proc_cpu_ns(b->srv_pid) : -1;
		cpu->server_ms = s1 >= s0 && s0 >= 0 ? (double)(s1 - s0) / 1e6 / mib : -1;
	}
	if (ch != NULL && !c->s.dead)
		close_stream(c, ch);
	if (connected)
		sshc_close(c);
	free(c);
	free(frame);
	free(ref);
	options_free(&o);
	return rc;
}

/* ---- idle sessions for --connections ------------------------------------------------- */

int bench_ours_idle_open(bench_ctx *b, int port, int n, sshc ***out, int *opened, char *err, size_t errlen)
{
	sshc **cs = calloc((size_t)n, sizeof *cs);
	*out = cs;
	*opened = 0;
	if (cs == NULL)
		return -1;
	for (int i = 0; i < n && !bench_stopped(); i++) {
		sshc *c = malloc(sizeof *c);
		if (c == NULL)
			return -1;
		if (sshc_connect(c, &b->o, &b->lg, "127.0.0.1", port, b->user, NULL, err, errlen) != 0) {
			free(c);
			return -1;
		}
		cs[i] = c;
		(*opened)++;
		sshc_chan *ch;
		if (open_stream(c, SSHRPC_REQ_SUBSYSTEM, &ch, err, errlen) != 0)
			return -1;
	}
	return bench_stopped() ? -1 : 0;
}

void bench_ours_idle_close(sshc **cs, int n)
{
	if (cs == NULL)
		return;
	for (int i = 0; i < n; i++)
		if (cs[i] != NULL) {
			sshc_close(cs[i]);
			free(cs[i]);
		}
	free(cs);
}
