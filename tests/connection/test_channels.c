/* Channels end to end between our client and our server over the checking
 * pipe: a single exec, 1000 channels at once with data both ways and every
 * EOF/CLOSE order, the channel table's limits and id bookkeeping. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

/* ---- one exec, step by step ------------------------------------------------ */

struct basic {
	int opened, replies, exit_seen, eof_seen, closed, srv_closed;
	bool reply_ok;
	uint32_t exit_status;
	char out[64];
	size_t out_len;
	char err[64];
	size_t err_len;
	char cmd[64];
};

static void basic_client(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct basic *b = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_OPENED:
		b->opened++;
		break;
	case SSHRPC_CONN_EV_REQUEST_REPLY:
		cr_assert_eq(ev->u.reply.kind, SSHRPC_REQ_EXEC);
		b->reply_ok = ev->u.reply.success;
		b->replies++;
		break;
	case SSHRPC_CONN_EV_DATA: {
		char *dst = ev->u.data.stream == SSHRPC_CHAN_STDOUT ? b->out : b->err;
		size_t *dl = ev->u.data.stream == SSHRPC_CHAN_STDOUT ? &b->out_len : &b->err_len;
		cr_assert_leq(*dl + ev->u.data.len, 63);
		memcpy(dst + *dl, ev->u.data.p, ev->u.data.len);
		*dl += ev->u.data.len;
		ev->u.data.consumed = ev->u.data.len;
		break;
	}
	case SSHRPC_CONN_EV_EXIT_STATUS:
		b->exit_seen++;
		b->exit_status = ev->u.exit_status.status;
		break;
	case SSHRPC_CONN_EV_EOF:
		b->eof_seen++;
		break;
	case SSHRPC_CONN_EV_CLOSE:
		b->closed++;
		cr_assert(ev->u.close.by_peer);
		cr_assert(ev->u.close.has_exit_status);
		cr_assert_eq(ev->u.close.exit_status, 3);
		break;
	default:
		cr_assert_fail("unexpected client event %d", ev->type);
	}
	(void)c;
}

static void basic_server(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct basic *b = ud;
	size_t w;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		cr_assert_eq(ev->u.open.type_len, 7);
		cr_assert_eq(memcmp(ev->u.open.type, "session", 7), 0);
		cr_assert_eq(sshrpc_chan_accept(c, ev->id, b), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_REQUEST:
		cr_assert_eq(ev->u.request.kind, SSHRPC_REQ_EXEC);
		cr_assert(ev->u.request.want_reply);
		memcpy(b->cmd, ev->u.request.str, ev->u.request.str_len);
		cr_assert_eq(sshrpc_chan_reply(c, ev->id, true), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_write_ext(c, ev->id, SSH_EXTENDED_DATA_STDERR, "warn", 4, &w), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_DATA:
		/* Echo in upper case. */
		cr_assert_eq(ev->u.data.stream, SSHRPC_CHAN_STDOUT);
		for (size_t i = 0; i < ev->u.data.len; i++) {
			char ch = (char)ev->u.data.p[i];
			if (ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 32);
			cr_assert_eq(sshrpc_chan_write(c, ev->id, &ch, 1, &w), SSHRPC_OK);
		}
		ev->u.data.consumed = ev->u.data.len;
		break;
	case SSHRPC_CONN_EV_EOF:
		cr_assert_eq(sshrpc_chan_exit_status(c, ev->id, 3), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_eof(c, ev->id), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_close(c, ev->id), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_CLOSE:
		b->srv_closed++;
		cr_assert_not(ev->u.close.by_peer);
		break;
	default:
		cr_assert_fail("unexpected server event %d", ev->type);
	}
}

Test(channels, one_exec_step_by_step)
{
	struct basic cb = { 0 }, sb = { 0 };
	sshrpc_conn_cfg cc = { .on_event = basic_client, .event_ud = &cb };
	sshrpc_conn_cfg sc = { .on_event = basic_server, .event_ud = &sb };
	struct tp_world w;
	tp_world_init(&w, &cc, &sc);
	uint32_t id;
	size_t n;
	cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_OK);
	/* All of this waits for the confirmation, in order. */
	cr_assert_eq(sshrpc_chan_exec(w.cli, id, "up case", 7, true), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_write(w.cli, id, "hello", 5, &n), SSHRPC_OK);
	cr_assert_eq(n, 5);
	cr_assert_eq(sshrpc_chan_eof(w.cli, id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_write(w.cli, id, "x", 1, &n), SSHRPC_E_CLOSED);
	cr_assert_eq(sshrpc_conn_channel_count(w.cli), 1);
	tp_world_pump(&w);
	cr_assert_eq(w.pipe->violations, 0, "%s", w.pipe->first_violation);
	cr_assert_str_eq(sb.cmd, "up case");
	cr_assert_eq(cb.opened, 1);
	cr_assert_eq(cb.replies, 1);
	cr_assert(cb.reply_ok);
	cr_assert_eq(cb.out_len, 5);
	cr_assert_eq(memcmp(cb.out, "HELLO", 5), 0);
	cr_assert_eq(cb.err_len, 4);
	cr_assert_eq(memcmp(cb.err, "warn", 4), 0);
	cr_assert_eq(cb.exit_seen, 1);
	cr_assert_eq(cb.exit_status, 3);
	cr_assert_eq(cb.eof_seen, 1);
	cr_assert_eq(cb.closed, 1);
	cr_assert_eq(sb.srv_closed, 1);
	cr_assert_eq(sshrpc_conn_channel_count(w.cli), 0);
	cr_assert_eq(sshrpc_conn_channel_count(w.srv), 0);
	cr_assert_not(sshrpc_conn_is_dead(w.cli));
	cr_assert_not(sshrpc_conn_is_dead(w.srv));
	tp_world_free(&w);
}

/* ---- 1000 channels at once ------------------------------------------------------ */

enum variant {
	V_NORMAL,	    /* client EOF; server exit-status, EOF, CLOSE */
	V_SRV_CLOSE_NOEOF,  /* server exit-status, CLOSE without EOF */
	V_CLI_CLOSES,	    /* server EOF, exit-status; client CLOSE first */
	V_CROSSING,	    /* both send CLOSE before seeing the other's */
	V_SRV_EOF_FIRST,    /* server sends its own data and EOF before the client's EOF */
	V_CLI_CLOSE_QUEUED, /* client CLOSE (no EOF) right behind queued data */
	NVARIANTS
};

struct cchan {
	uint32_t idx, id;
	int variant;
	size_t total, sent, expect_out, got_out, err_len;
	char err[32];
	bool opened, eof_sent, eof_rcvd, exit_seen, close_called, closed;
};

struct schan {
	uint32_t idx, id;
	int variant;
	size_t expect_in, got_in, own_total, own_sent;
	bool eof_rcvd, finished, closed;
};

struct many {
	struct tp_world w;
	uint32_t n;
	struct cchan *cc;
	struct schan *sc;
	uint32_t srv_peak, cli_closed, srv_closed;
	uint8_t tmp[65536];
};

#define OWN_STREAM(i) ((i) + 1000000u)

static void cli_fill(struct many *m, struct cchan *c)
{
	while (c->sent < c->total) {
		size_t k = c->total - c->sent;
		size_t chunk = 3000 + (c->idx * 37) % 9000;
		if (k > chunk)
			k = chunk;
		tp_gen_fill(c->idx, c->sent, m->tmp, k);
		size_t wr;
		int rc = sshrpc_chan_write(m->w.cli, c->id, m->tmp, k, &wr);
		c->sent += wr;
		if (rc == SSHRPC_E_WOULDBLOCK)
			return;
		cr_assert_eq(rc, SSHRPC_OK, "client write: %s", sshrpc_strerror(rc));
	}
	if (c->variant == V_CLI_CLOSE_QUEUED) {
		if (!c->close_called) {
			c->close_called = true;
			cr_assert_eq(sshrpc_chan_close(m->w.cli, c->id), SSHRPC_OK);
		}
	} else if (!c->eof_sent) {
		c->eof_sent = true;
		cr_assert_eq(sshrpc_chan_eof(m->w.cli, c->id), SSHRPC_OK);
	}
}

static void cli_maybe_close(struct many *m, struct cchan *c)
{
	if (c->close_called || c->got_out != c->expect_out || !c->eof_sent)
		return;
	if (c->variant == V_CROSSING || (c->variant == V_CLI_CLOSES && c->eof_rcvd && c->exit_seen)) {
		c->close_called = true;
		cr_assert_eq(sshrpc_chan_close(m->w.cli, c->id), SSHRPC_OK);
	}
}

static void many_client(void *ud, sshrpc_conn *conn, sshrpc_conn_event *ev)
{
	struct many *m = ud;
	struct cchan *c = ev->userdata;
	cr_assert_not_null(c);
	cr_assert_eq(c->id, ev->id);
	switch (ev->type) {
	case SSHRPC_CONN_EV_OPENED:
		c->opened = true;
		cli_fill(m, c);
		break;
	case SSHRPC_CONN_EV_REQUEST_REPLY:
		cr_assert(ev->u.reply.success);
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		cli_fill(m, c);
		break;
	case SSHRPC_CONN_EV_DATA:
		if (ev->u.data.stream == SSHRPC_CHAN_STDERR) {
			cr_assert_leq(c->err_len + ev->u.data.len, sizeof c->err);
			memcpy(c->err + c->err_len, ev->u.data.p, ev->u.data.len);
			c->err_len += ev->u.data.len;
		} else {
			uint32_t s = c->variant == V_SRV_EOF_FIRST ? OWN_STREAM(c->idx) : c->idx;
			size_t bad = tp_gen_check(s, c->got_out, ev->u.data.p, ev->u.data.len);
			cr_assert_eq(bad, ev->u.data.len, "channel %u: byte %zu differs", c->idx, c->got_out + bad);
			c->got_out += ev->u.data.len;
			cr_assert_leq(c->got_out, c->expect_out);
		}
		ev->u.data.consumed = ev->u.data.len;
		cli_maybe_close(m, c);
		break;
	case SSHRPC_CONN_EV_EOF:
		c->eof_rcvd = true;
		cli_maybe_close(m, c);
		break;
	case SSHRPC_CONN_EV_EXIT_STATUS:
		cr_assert_eq(ev->u.exit_status.status, c->idx % 256);
		c->exit_seen = true;
		cli_maybe_close(m, c);
		break;
	case SSHRPC_CONN_EV_CLOSE:
		cr_assert_not(c->closed);
		c->closed = true;
		m->cli_closed++;
		break;
	default:
		cr_assert_fail("client event %d", ev->type);
	}
	(void)conn;
}

static void srv_finish(struct many *m, struct schan *s)
{
	sshrpc_conn *c = m->w.srv;
	if (s->finished || !s->eof_rcvd || sshrpc_chan_readable(c, s->id, SSHRPC_CHAN_STDOUT) > 0)
		return;
	if (s->variant == V_SRV_EOF_FIRST && s->own_sent < s->own_total)
		return;
	s->finished = true;
	uint32_t st = s->idx % 256;
	switch (s->variant) {
	case V_NORMAL:
	case V_CROSSING:
		cr_assert_eq(sshrpc_chan_exit_status(c, s->id, st), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_eof(c, s->id), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_close(c, s->id), SSHRPC_OK);
		break;
	case V_SRV_CLOSE_NOEOF:
		cr_assert_eq(sshrpc_chan_exit_status(c, s->id, st), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_close(c, s->id), SSHRPC_OK);
		break;
	case V_CLI_CLOSES:
		cr_assert_eq(sshrpc_chan_eof(c, s->id), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_exit_status(c, s->id, st), SSHRPC_OK);
		break;
	case V_SRV_EOF_FIRST:
		cr_assert_eq(sshrpc_chan_exit_status(c, s->id, st), SSHRPC_OK);
		cr_assert_eq(sshrpc_chan_close(c, s->id), SSHRPC_OK);
		break;
	default:
		break;
	}
}

/* Echo what is buffered, as far as the client's window lets us. */
static void srv_echo_buffered(struct many *m, struct schan *s)
{
	const uint8_t *p;
	size_t len;
	while (sshrpc_chan_peek(m->w.srv, s->id, SSHRPC_CHAN_STDOUT, &p, &len) == SSHRPC_OK) {
		size_t wr;
		int rc = sshrpc_chan_write(m->w.srv, s->id, p, len, &wr);
		cr_assert(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK);
		cr_assert_eq(tp_gen_check(s->idx, s->got_in, p, wr), wr);
		s->got_in += wr;
		cr_assert_eq(sshrpc_chan_consume(m->w.srv, s->id, SSHRPC_CHAN_STDOUT, wr), SSHRPC_OK);
		if (rc == SSHRPC_E_WOULDBLOCK)
			break;
	}
}

static void srv_own_fill(struct many *m, struct schan *s)
{
	while (s->own_sent < s->own_total) {
		size_t k = s->own_total - s->own_sent;
		if (k > 20000)
			k = 20000;
		tp_gen_fill(OWN_STREAM(s->idx), s->own_sent, m->tmp, k);
		size_t wr;
		int rc = sshrpc_chan_write(m->w.srv, s->id, m->tmp, k, &wr);
		s->own_sent += wr;
		if (rc == SSHRPC_E_WOULDBLOCK)
			return;
		cr_assert_eq(rc, SSHRPC_OK);
	}
	cr_assert_eq(sshrpc_chan_eof(m->w.srv, s->id), SSHRPC_OK);
}

static bool echoes(int v)
{
	return v <= V_CROSSING;
}

static void many_server(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct many *m = ud;
	struct schan *s = ev->userdata;
	if (ev->type == SSHRPC_CONN_EV_CHANNEL_OPEN) {
		cr_assert_null(s);
		s = calloc(1, sizeof *s);
		s->id = ev->id;
		cr_assert_eq(sshrpc_chan_accept(c, ev->id, s), SSHRPC_OK);
		uint32_t n = sshrpc_conn_channel_count(c);
		if (n > m->srv_peak)
			m->srv_peak = n;
		return;
	}
	cr_assert_not_null(s);
	size_t wr;
	switch (ev->type) {
	case SSHRPC_CONN_EV_REQUEST: {
		char cmd[128];
		cr_assert_lt(ev->u.request.str_len, sizeof cmd);
		memcpy(cmd, ev->u.request.str, ev->u.request.str_len);
		cmd[ev->u.request.str_len] = 0;
		unsigned idx, v;
		cr_assert_eq(sscanf(cmd, "i=%u v=%u n=%zu o=%zu", &idx, &v, &s->expect_in, &s->own_total), 4);
		s->idx = idx;
		s->variant = (int)v;
		m->sc[idx] = *s; /* keep a record for the final checks */
		cr_assert_eq(sshrpc_chan_reply(c, ev->id, true), SSHRPC_OK);
		char err[32];
		int el = snprintf(err, sizeof err, "err:%u", idx);
		cr_assert_eq(
			sshrpc_chan_write_ext(c, ev->id, SSH_EXTENDED_DATA_STDERR, err, (size_t)el, &wr), SSHRPC_OK);
		if (s->variant == V_SRV_EOF_FIRST)
			srv_own_fill(m, s);
		break;
	}
	case SSHRPC_CONN_EV_DATA:
		cr_assert_eq(ev->u.data.stream, SSHRPC_CHAN_STDOUT);
		if (echoes(s->variant)) {
			int rc = sshrpc_chan_write(c, ev->id, ev->u.data.p, ev->u.data.len, &wr);
			cr_assert(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK, "%s", sshrpc_strerror(rc));
		} else {
			wr = ev->u.data.len;
		}
		cr_assert_eq(
			tp_gen_check(s->idx, s->got_in, ev->u.data.p, wr), wr, "server: channel %u corrupt", s->idx);
		s->got_in += wr;
		ev->u.data.consumed = wr;
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		if (echoes(s->variant))
			srv_echo_buffered(m, s);
		else if (s->variant == V_SRV_EOF_FIRST)
			srv_own_fill(m, s);
		srv_finish(m, s);
		break;
	case SSHRPC_CONN_EV_EOF:
		cr_assert_neq(s->variant, V_CLI_CLOSE_QUEUED);
		s->eof_rcvd = true;
		cr_assert_eq(s->got_in + sshrpc_chan_readable(c, ev->id, SSHRPC_CHAN_STDOUT), s->expect_in);
		srv_finish(m, s);
		break;
	case SSHRPC_CONN_EV_CLOSE:
		cr_assert_eq(s->got_in, s->expect_in, "server channel %u closed with %zu of %zu bytes", s->idx,
			s->got_in, s->expect_in);
		if (s->variant == V_CLI_CLOSES || s->variant == V_CLI_CLOSE_QUEUED)
			cr_assert(ev->u.close.by_peer);
		m->sc[s->idx].closed = true;
		m->sc[s->idx].got_in = s->got_in;
		m->srv_closed++;
		free(s);
		return;
	default:
		cr_assert_fail("server event %d", ev->type);
	}
	if (ev->type == SSHRPC_CONN_EV_DATA)
		srv_finish(m, s);
}

static void run_many(uint32_t n, uint32_t window, uint32_t max_packet, size_t send_queue, size_t scale)
{
	struct many *m = calloc(1, sizeof *m);
	m->n = n;
	m->cc = calloc(n, sizeof *m->cc);
	m->sc = calloc(n, sizeof *m->sc);
	sshrpc_conn_cfg cc = { .on_event = many_client,
		.event_ud = m,
		.max_channels = n,
		.window = window,
		.max_packet = max_packet,
		.send_queue = send_queue };
	sshrpc_conn_cfg sc = cc;
	sc.on_event = many_server;
	tp_world_init(&m->w, &cc, &sc);

	for (uint32_t i = 0; i < n; i++) {
		struct cchan *c = &m->cc[i];
		c->idx = i;
		c->variant = (int)(i % NVARIANTS);
		c->total = (i % 10 == 7) ? 0 : ((size_t)i * 7919) % scale;
		size_t own = c->variant == V_SRV_EOF_FIRST ? ((size_t)i * 104729) % scale : 0;
		c->expect_out = echoes(c->variant) ? c->total : own;
		cr_assert_eq(sshrpc_chan_open_session(m->w.cli, c, &c->id), SSHRPC_OK);
		char cmd[96];
		snprintf(cmd, sizeof cmd, "i=%u v=%d n=%zu o=%zu", i, c->variant, c->total, own);
		cr_assert_eq(sshrpc_chan_exec(m->w.cli, c->id, cmd, strlen(cmd), true), SSHRPC_OK);
		/* Half the channels write before the confirmation arrives. */
		if (i % 2 == 0)
			cli_fill(m, c);
	}
	cr_assert_eq(sshrpc_conn_channel_count(m->w.cli), n);
	uint32_t extra;
	cr_assert_eq(sshrpc_chan_open_session(m->w.cli, NULL, &extra), SSHRPC_E_TOO_LARGE);

	tp_world_pump(&m->w);

	cr_assert_eq(m->w.pipe->violations, 0, "checker: %s", m->w.pipe->first_violation);
	cr_assert_not(sshrpc_conn_is_dead(m->w.cli), "%s", m->w.pipe->end[1].disc_msg);
	cr_assert_not(sshrpc_conn_is_dead(m->w.srv), "%s", m->w.pipe->end[0].disc_msg);
	cr_assert_eq(m->srv_peak, n, "all %u channels were open at once on the server", n);
	for (uint32_t i = 0; i < n; i++) {
		struct cchan *c = &m->cc[i];
		cr_assert(c->closed, "client channel %u (variant %d) not closed", i, c->variant);
		cr_assert(m->sc[i].closed, "server channel %u not closed", i);
		cr_assert_eq(c->sent, c->total);
		cr_assert_eq(m->sc[i].got_in, c->total);
		if (c->variant != V_CLI_CLOSE_QUEUED)
			cr_assert_eq(
				c->got_out, c->expect_out, "channel %u got %zu of %zu", i, c->got_out, c->expect_out);
		char err[32];
		int el = snprintf(err, sizeof err, "err:%u", i);
		/* A client that closes right behind its data may have sent CLOSE
		 * before the server's stderr arrived; then it is dropped. */
		if (c->variant != V_CLI_CLOSE_QUEUED || c->err_len > 0) {
			cr_assert_eq(c->err_len, (size_t)el, "channel %u stderr", i);
			cr_assert_eq(memcmp(c->err, err, (size_t)el), 0);
		}
		if (c->variant != V_CROSSING && c->variant != V_CLI_CLOSE_QUEUED)
			cr_assert(c->exit_seen, "channel %u (variant %d) exit-status", i, c->variant);
	}
	cr_assert_eq(m->cli_closed, n);
	cr_assert_eq(m->srv_closed, n);
	cr_assert_eq(sshrpc_conn_channel_count(m->w.cli), 0);
	cr_assert_eq(sshrpc_conn_channel_count(m->w.srv), 0);
	uint32_t mp = max_packet ? max_packet : SSHRPC_CONN_DEFAULT_MAX_PACKET;
	cr_assert_leq(m->w.pipe->end[0].max_data_len, mp);
	cr_assert_leq(m->w.pipe->end[1].max_data_len, mp);
	tp_world_free(&m->w);
	free(m->cc);
	free(m->sc);
	free(m);
}

Test(channels, thousand_channels_small_windows, .timeout = 300)
{
	/* Windows far below the data sizes: every channel stalls and resumes
	 * many times, with 1000 of them interleaved. */
	run_many(1000, 16 * 1024, 4 * 1024, 8 * 1024, 40000);
}

Test(channels, thousand_channels_default_windows, .timeout = 300)
{
	run_many(1000, 0, 0, 0, 30000);
}

Test(channels, two_hundred_channels_large_transfers, .timeout = 300)
{
	run_many(200, 0, 0, 0, 600000);
}

/* ---- ids, limits, channel types ----------------------------------------------- */

struct acceptor {
	int opens, closes, failed;
	uint32_t fail_reason;
	char fail_desc[128];
	bool reject;
	const uint8_t *extra;
	size_t extra_len;
	uint8_t extra_copy[64];
	char type[32];
};

static void accept_all(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct acceptor *a = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		a->opens++;
		cr_assert_lt(ev->u.open.type_len, sizeof a->type);
		memcpy(a->type, ev->u.open.type, ev->u.open.type_len);
		a->type[ev->u.open.type_len] = 0;
		a->extra_len = ev->u.open.extra_len;
		if (a->extra_len <= sizeof a->extra_copy)
			memcpy(a->extra_copy, ev->u.open.extra, a->extra_len);
		if (a->reject)
			cr_assert_eq(sshrpc_chan_reject(c, ev->id, SSH_OPEN_CONNECT_FAILED, "nope"), SSHRPC_OK);
		else
			cr_assert_eq(sshrpc_chan_accept(c, ev->id, NULL), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_OPEN_FAILED:
		a->failed++;
		a->fail_reason = ev->u.open_failed.reason;
		snprintf(a->fail_desc, sizeof a->fail_desc, "%.*s", (int)ev->u.open_failed.description_len,
			ev->u.open_failed.description);
		break;
	case SSHRPC_CONN_EV_CLOSE:
		a->closes++;
		break;
	default:
		break;
	}
}

Test(channels, local_and_remote_ids_kept_apart)
{
	struct acceptor ca = { 0 }, sa = { 0 };
	sshrpc_conn_cfg cc = { .on_event = accept_all, .event_ud = &ca };
	sshrpc_conn_cfg sc = { .on_event = accept_all, .event_ud = &sa };
	struct tp_world w;
	tp_world_init(&w, &cc, &sc);
	uint32_t id[4];
	for (int i = 0; i < 3; i++)
		cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id[i]), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sshrpc_chan_close(w.cli, id[1]), SSHRPC_OK);
	/* The server sees the CLOSE and frees its id 1 at once; ours stays
	 * taken until the server's CLOSE reaches us. */
	cr_assert_eq(sshrpc_conn_process(w.srv, 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_conn_channel_count(w.srv), 2);
	cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id[3]), SSHRPC_OK);
	cr_assert_eq(id[3], 3);
	tp_world_pump(&w);
	sshrpc_chan_info ci, si;
	cr_assert_eq(sshrpc_chan_get_info(w.cli, 3, &ci), SSHRPC_OK);
	cr_assert_eq(ci.local_id, 3);
	cr_assert_eq(ci.remote_id, 1);
	cr_assert_eq(ci.state, SSHRPC_CHAN_OPEN);
	cr_assert_eq(sshrpc_chan_get_info(w.srv, 1, &si), SSHRPC_OK);
	cr_assert_eq(si.local_id, 1);
	cr_assert_eq(si.remote_id, 3);
	/* Data flows on the channel whose ids differ at the two ends. */
	size_t n;
	cr_assert_eq(sshrpc_chan_write(w.cli, 3, "abc", 3, &n), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sshrpc_chan_readable(w.srv, 1, SSHRPC_CHAN_STDOUT), 3);
	cr_assert_eq(sshrpc_chan_readable(w.srv, 0, SSHRPC_CHAN_STDOUT), 0);
	cr_assert_eq(w.pipe->violations, 0, "%s", w.pipe->first_violation);
	/* Id 1 is free again at the client: the lowest free id is reused. */
	uint32_t again;
	cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &again), SSHRPC_OK);
	cr_assert_eq(again, 1);
	tp_world_pump(&w);
	cr_assert_eq(w.pipe->violations, 0, "%s", w.pipe->first_violation);
	tp_world_free(&w);
	cr_assert_eq(ca.closes, 5, "freeing reports every open channel as aborted");
}

Test(channels, max_sessions_enforced_both_sides)
{
	struct acceptor ca = { 0 }, sa = { 0 };
	sshrpc_conn_cfg cc = { .on_event = accept_all, .event_ud = &ca, .max_channels = 10 };
	sshrpc_conn_cfg sc = { .on_event = accept_all, .event_ud = &sa, .max_channels = 4 };
	struct tp_world w;
	tp_world_init(&w, &cc, &sc);
	uint32_t id;
	for (int i = 0; i < 6; i++)
		cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sa.opens, 4);
	cr_assert_eq(ca.failed, 2);
	cr_assert_eq(ca.fail_reason, SSH_OPEN_RESOURCE_SHORTAGE);
	cr_assert(strstr(ca.fail_desc, "MaxSessions") != NULL, "%s", ca.fail_desc);
	cr_assert_eq(sshrpc_conn_channel_count(w.cli), 4);
	cr_assert_eq(sshrpc_conn_channel_count(w.srv), 4);
	for (int i = 0; i < 6; i++)
		cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_E_TOO_LARGE);
	tp_world_pump(&w);
	cr_assert_eq(w.pipe->violations, 0, "%s", w.pipe->first_violation);
	tp_world_free(&w);
}

Test(channels, table_grows_through_the_allocator_and_is_bounded)
{
	struct tp_counting ca, sa;
	tp_counting_init(&ca);
	tp_counting_init(&sa);
	struct acceptor cacc = { 0 }, sacc = { 0 };
	sshrpc_conn_cfg cc = { .on_event = accept_all, .event_ud = &cacc, .max_channels = 1500, .alloc = &ca.a };
	sshrpc_conn_cfg sc = { .on_event = accept_all, .event_ud = &sacc, .max_channels = 1500, .alloc = &sa.a };
	struct tp_world w;
	tp_world_init(&w, &cc, &sc);
	size_t base = sa.live;
	uint32_t id;
	for (int i = 0; i < 1500; i++)
		cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sacc.opens, 1500);
	/* An open channel with nothing buffered costs a few hundred bytes. */
	cr_assert_lt(sa.live - base, (size_t)1500 * 512, "server holds %zu bytes", sa.live - base);
	for (uint32_t i = 0; i < 1500; i++)
		cr_assert_eq(sshrpc_chan_close(w.cli, i), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sacc.closes, 1500);
	cr_assert_eq(cacc.closes, 1500);
	/* Refused allocations fail cleanly: the open is refused, not the
	 * connection. */
	sa.fail_after = 0;
	cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	sa.fail_after = -1;
	cr_assert_eq(cacc.failed, 1);
	cr_assert_eq(cacc.fail_reason, SSH_OPEN_RESOURCE_SHORTAGE);
	cr_assert_not(sshrpc_conn_is_dead(w.srv));
	tp_world_free(&w);
	cr_assert_eq(sa.live, 0, "server leaked %zu bytes", sa.live);
	cr_assert_eq(ca.live, 0, "client leaked %zu bytes", ca.live);
}

Test(channels, forwarding_and_unknown_types_refused_unless_enabled)
{
	struct acceptor ca = { 0 }, sa = { 0 };
	sshrpc_conn_cfg cc = { .on_event = accept_all, .event_ud = &ca };
	sshrpc_conn_cfg sc = { .on_event = accept_all, .event_ud = &sa };
	struct tp_world w;
	tp_world_init(&w, &cc, &sc);
	uint8_t extra[64];
	sshrpc_buf b;
	sshrpc_buf_init_fixed(&b, extra, sizeof extra);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "127.0.0.1"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 80), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "10.0.0.1"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 5555), SSHRPC_OK);
	uint32_t id;
	cr_assert_eq(sshrpc_chan_open(w.cli, "direct-tcpip", extra, sshrpc_buf_len(&b), NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sa.opens, 0);
	cr_assert_eq(ca.failed, 1);
	cr_assert_eq(ca.fail_reason, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
	cr_assert_eq(sshrpc_chan_open(w.cli, "x-custom@example.com", NULL, 0, NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(ca.failed, 2);
	cr_assert_eq(ca.fail_reason, SSH_OPEN_UNKNOWN_CHANNEL_TYPE);
	/* A server may not open a session towards the client (RFC 4254 §6.1). */
	cr_assert_eq(sshrpc_chan_open_session(w.srv, NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(ca.opens, 0);
	cr_assert_eq(sa.failed, 1);
	cr_assert_eq(sa.fail_reason, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
	/* forwarded-tcpip towards a client that did not enable it. */
	cr_assert_eq(sshrpc_chan_open(w.srv, "forwarded-tcpip", extra, sshrpc_buf_len(&b), NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sa.failed, 2);
	cr_assert_eq(sa.fail_reason, SSH_OPEN_ADMINISTRATIVELY_PROHIBITED);
	cr_assert_eq(sshrpc_conn_channel_count(w.cli), 0);
	cr_assert_eq(sshrpc_conn_channel_count(w.srv), 0);
	tp_world_free(&w);

	/* Enabled: the application sees the type-specific data and decides. */
	memset(&ca, 0, sizeof ca);
	memset(&sa, 0, sizeof sa);
	cc.allow_forwarded_tcpip = true;
	sc.allow_direct_tcpip = true;
	tp_world_init(&w, &cc, &sc);
	cr_assert_eq(sshrpc_chan_open(w.cli, "direct-tcpip", extra, sshrpc_buf_len(&b), NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(sa.opens, 1);
	cr_assert_str_eq(sa.type, "direct-tcpip");
	cr_assert_eq(sa.extra_len, sshrpc_buf_len(&b));
	cr_assert_eq(memcmp(sa.extra_copy, extra, sa.extra_len), 0);
	cr_assert_eq(ca.failed, 0);
	ca.reject = true;
	cr_assert_eq(sshrpc_chan_open(w.srv, "forwarded-tcpip", extra, sshrpc_buf_len(&b), NULL, &id), SSHRPC_OK);
	tp_world_pump(&w);
	cr_assert_eq(ca.opens, 1);
	cr_assert_eq(sa.failed, 1);
	cr_assert_eq(sa.fail_reason, SSH_OPEN_CONNECT_FAILED);
	cr_assert_str_eq(sa.fail_desc, "nope");
	cr_assert_eq(w.pipe->violations, 0, "%s", w.pipe->first_violation);
	tp_world_free(&w);
}

/* Calls on channels in the wrong state fail without touching the wire. */
Test(channels, api_state_errors)
{
	struct acceptor ca = { 0 }, sa = { 0 };
	sshrpc_conn_cfg cc = { .on_event = accept_all, .event_ud = &ca };
	sshrpc_conn_cfg sc = { .on_event = accept_all, .event_ud = &sa };
	struct tp_world w;
	tp_world_init(&w, &cc, &sc);
	size_t n;
	cr_assert_eq(sshrpc_chan_write(w.cli, 7, "x", 1, &n), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_chan_eof(w.cli, 7), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_chan_close(w.cli, 7), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_chan_reply(w.cli, 7, true), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_chan_accept(w.cli, 7, NULL), SSHRPC_E_STATE);
	uint32_t id;
	cr_assert_eq(sshrpc_chan_open_session(w.cli, NULL, &id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_accept(w.cli, id, NULL), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_chan_reply(w.cli, id, true), SSHRPC_E_STATE);
	tp_world_pump(&w);
	cr_assert_eq(sshrpc_chan_close(w.cli, id), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_close(w.cli, id), SSHRPC_OK); /* idempotent */
	cr_assert_eq(sshrpc_chan_write(w.cli, id, "x", 1, &n), SSHRPC_E_CLOSED);
	cr_assert_eq(sshrpc_chan_exec(w.cli, id, "x", 1, true), SSHRPC_E_CLOSED);
	tp_world_pump(&w);
	cr_assert_eq(sshrpc_chan_write(w.cli, id, "x", 1, &n), SSHRPC_E_STATE);
	cr_assert_eq(w.pipe->violations, 0, "%s", w.pipe->first_violation);
	tp_world_free(&w);
}
