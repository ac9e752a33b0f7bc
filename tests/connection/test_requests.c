/* Channel requests (RFC 4254 §5.4, §6), global requests (§4, §7) and
 * keepalives between our client and our server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

struct rq {
	struct tp_world w;
	uint32_t cid, sid;
	/* server side */
	int nreq;
	int kinds[16];
	char strs[16][64], vals[16][64];
	uint32_t cols, rows, wpx, hpx;
	size_t modes_len;
	bool defer; /* leave replies for later */
	bool refuse_subsystem;
	int globals;
	char gname[64];
	/* client side */
	int nreplies;
	int reply_kind[16];
	bool reply_ok[16];
	int exit_signals;
	char signame[16], sigmsg[32];
	bool core;
	int greplies;
	bool gok;
	uint32_t gport;
	bool has_gport;
};

static void rq_cli(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct rq *r = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_REQUEST_REPLY:
		r->reply_kind[r->nreplies] = ev->u.reply.kind;
		r->reply_ok[r->nreplies] = ev->u.reply.success;
		r->nreplies++;
		break;
	case SSHRPC_CONN_EV_EXIT_SIGNAL:
		r->exit_signals++;
		snprintf(r->signame, sizeof r->signame, "%.*s", (int)ev->u.exit_signal.signal_len,
			ev->u.exit_signal.signal);
		snprintf(r->sigmsg, sizeof r->sigmsg, "%.*s", (int)ev->u.exit_signal.message_len,
			ev->u.exit_signal.message);
		r->core = ev->u.exit_signal.core_dumped;
		break;
	case SSHRPC_CONN_EV_GLOBAL_REPLY:
		r->greplies++;
		r->gok = ev->u.global_reply.success;
		r->has_gport = ev->u.global_reply.extra_len == 4;
		if (r->has_gport)
			r->gport = sshrpc_load_be32(ev->u.global_reply.extra);
		break;
	default:
		break;
	}
	(void)c;
}

static void rq_srv(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct rq *r = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		r->sid = ev->id;
		cr_assert_eq(sshrpc_chan_accept(c, ev->id, NULL), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_REQUEST: {
		int i = r->nreq++;
		r->kinds[i] = ev->u.request.kind;
		snprintf(
			r->strs[i], 64, "%.*s", (int)ev->u.request.str_len, ev->u.request.str ? ev->u.request.str : "");
		snprintf(r->vals[i], 64, "%.*s", (int)ev->u.request.value_len,
			ev->u.request.value ? ev->u.request.value : "");
		if (ev->u.request.kind == SSHRPC_REQ_PTY || ev->u.request.kind == SSHRPC_REQ_WINDOW_CHANGE) {
			r->cols = ev->u.request.cols;
			r->rows = ev->u.request.rows;
			r->wpx = ev->u.request.width_px;
			r->hpx = ev->u.request.height_px;
			r->modes_len = ev->u.request.modes_len;
		}
		if (!r->defer) {
			bool ok = !(r->refuse_subsystem && ev->u.request.kind == SSHRPC_REQ_SUBSYSTEM);
			/* For requests without want_reply the call is a no-op. */
			cr_assert_eq(sshrpc_chan_reply(c, ev->id, ok), SSHRPC_OK);
		}
		break;
	}
	case SSHRPC_CONN_EV_GLOBAL_REQUEST:
		r->globals++;
		snprintf(r->gname, sizeof r->gname, "%.*s", (int)ev->u.global.name_len, ev->u.global.name);
		if (!r->defer) {
			uint8_t port[4];
			sshrpc_store_be32(port, 40000);
			cr_assert_eq(sshrpc_conn_global_reply(c, true, port, 4), SSHRPC_OK);
		}
		break;
	default:
		break;
	}
}

static struct rq *rq_new(sshrpc_conn_cfg *cc, sshrpc_conn_cfg *sc)
{
	struct rq *r = calloc(1, sizeof *r);
	cc->on_event = rq_cli;
	cc->event_ud = r;
	sc->on_event = rq_srv;
	sc->event_ud = r;
	tp_world_init(&r->w, cc, sc);
	cr_assert_eq(sshrpc_chan_open_session(r->w.cli, NULL, &r->cid), SSHRPC_OK);
	tp_world_pump(&r->w);
	return r;
}

static void rq_free(struct rq *r)
{
	cr_assert_eq(r->w.pipe->violations, 0, "%s", r->w.pipe->first_violation);
	tp_world_free(&r->w);
	free(r);
}

Test(requests, session_requests_parsed_and_answered_by_policy)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	r->refuse_subsystem = true;
	uint8_t modes[] = { 53, 0, 0, 0, 1, 0 }; /* ECHO 1, TTY_OP_END */
	cr_assert_eq(
		sshrpc_chan_pty(r->w.cli, r->cid, "xterm", 80, 24, 640, 480, modes, sizeof modes, true), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_env(r->w.cli, r->cid, "LANG", "C", false), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_subsystem(r->w.cli, r->cid, "sshrpc", true), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_exec(r->w.cli, r->cid, "sys:ping().", 11, true), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(sshrpc_chan_window_change(r->w.cli, r->cid, 100, 40, 0, 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_signal(r->w.cli, r->cid, "INT"), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_shell(r->w.cli, r->cid, true), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->nreq, 7);
	cr_assert_eq(r->kinds[0], SSHRPC_REQ_PTY);
	cr_assert_str_eq(r->strs[0], "xterm");
	cr_assert_eq(r->kinds[1], SSHRPC_REQ_ENV);
	cr_assert_str_eq(r->strs[1], "LANG");
	cr_assert_str_eq(r->vals[1], "C");
	cr_assert_eq(r->kinds[2], SSHRPC_REQ_SUBSYSTEM);
	cr_assert_str_eq(r->strs[2], "sshrpc");
	cr_assert_eq(r->kinds[3], SSHRPC_REQ_EXEC);
	cr_assert_str_eq(r->strs[3], "sys:ping().");
	cr_assert_eq(r->kinds[4], SSHRPC_REQ_WINDOW_CHANGE);
	cr_assert_eq(r->cols, 100);
	cr_assert_eq(r->rows, 40);
	cr_assert_eq(r->kinds[5], SSHRPC_REQ_SIGNAL);
	cr_assert_str_eq(r->strs[5], "INT");
	cr_assert_eq(r->kinds[6], SSHRPC_REQ_SHELL);
	/* Replies for pty-req, subsystem (refused), exec, shell. */
	cr_assert_eq(r->nreplies, 4);
	cr_assert_eq(r->reply_kind[0], SSHRPC_REQ_PTY);
	cr_assert(r->reply_ok[0]);
	cr_assert_eq(r->reply_kind[1], SSHRPC_REQ_SUBSYSTEM);
	cr_assert_not(r->reply_ok[1]);
	cr_assert_eq(r->reply_kind[2], SSHRPC_REQ_EXEC);
	cr_assert(r->reply_ok[2]);
	cr_assert_eq(r->reply_kind[3], SSHRPC_REQ_SHELL);
	rq_free(r);
}

Test(requests, pty_fields)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	cr_assert_eq(sshrpc_chan_pty(r->w.cli, r->cid, "vt100", 132, 50, 1, 2, NULL, 0, false), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->cols, 132);
	cr_assert_eq(r->rows, 50);
	cr_assert_eq(r->wpx, 1);
	cr_assert_eq(r->hpx, 2);
	cr_assert_eq(r->modes_len, 1, "an empty mode list is TTY_OP_END alone");
	cr_assert_eq(r->nreplies, 0);
	rq_free(r);
}

Test(requests, deferred_replies_keep_request_order)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	r->defer = true;
	cr_assert_eq(sshrpc_chan_env(r->w.cli, r->cid, "A", "1", true), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_exec(r->w.cli, r->cid, "x", 1, true), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->nreq, 2);
	cr_assert_eq(r->nreplies, 0);
	/* An unknown request behind them is refused at once by this layer,
	 * but its FAILURE must wait for the two before it. */
	uint8_t dummy = 0;
	cr_assert_eq(sshrpc_chan_request(r->w.cli, r->cid, "nosuch@example.com", true, &dummy, 1), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->nreplies, 0);
	/* The application answers env then exec: each goes out in order. */
	cr_assert_eq(sshrpc_chan_reply(r->w.srv, r->sid, false), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->nreplies, 1);
	cr_assert_eq(r->reply_kind[0], SSHRPC_REQ_ENV);
	cr_assert_not(r->reply_ok[0]);
	cr_assert_eq(sshrpc_chan_reply(r->w.srv, r->sid, true), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->nreplies, 3);
	cr_assert_eq(r->reply_kind[1], SSHRPC_REQ_EXEC);
	cr_assert(r->reply_ok[1]);
	cr_assert_eq(r->reply_kind[2], SSHRPC_REQ_OTHER);
	cr_assert_not(r->reply_ok[2]);
	cr_assert_eq(sshrpc_chan_reply(r->w.srv, r->sid, true), SSHRPC_E_STATE, "nothing left to answer");
	rq_free(r);
}

Test(requests, exit_status_and_exit_signal_reach_the_client)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	cr_assert_eq(sshrpc_chan_exit_signal(r->w.srv, r->sid, "KILL", true, "killed"), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->exit_signals, 1);
	cr_assert_str_eq(r->signame, "KILL");
	cr_assert_str_eq(r->sigmsg, "killed");
	cr_assert(r->core);
	/* And a server does not take exit-status from a client. */
	cr_assert_eq(
		sshrpc_chan_request(r->w.cli, r->cid, "exit-status", true, (const uint8_t *)"\0\0\0\1", 4), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->nreplies, 1);
	cr_assert_not(r->reply_ok[0]);
	rq_free(r);
}

Test(requests, tcpip_forward_refused_unless_enabled)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	uint8_t extra[32];
	sshrpc_buf b;
	sshrpc_buf_init_fixed(&b, extra, sizeof extra);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "127.0.0.1"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_conn_global_request(r->w.cli, "tcpip-forward", true, extra, sshrpc_buf_len(&b)), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->globals, 0);
	cr_assert_eq(r->greplies, 1);
	cr_assert_not(r->gok);
	rq_free(r);

	sshrpc_conn_cfg cc2 = { 0 }, sc2 = { .allow_tcpip_forward = true };
	r = rq_new(&cc2, &sc2);
	cr_assert_eq(sshrpc_conn_global_request(r->w.cli, "tcpip-forward", true, extra, sshrpc_buf_len(&b)), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->globals, 1);
	cr_assert_str_eq(r->gname, "tcpip-forward");
	cr_assert_eq(r->greplies, 1);
	cr_assert(r->gok);
	cr_assert(r->has_gport);
	cr_assert_eq(r->gport, 40000);
	/* Deferred, and in order with an automatic refusal behind it. */
	r->defer = true;
	cr_assert_eq(sshrpc_conn_global_request(r->w.cli, "cancel-tcpip-forward", true, extra, sshrpc_buf_len(&b)),
		SSHRPC_OK);
	cr_assert_eq(sshrpc_conn_global_request(r->w.cli, "keepalive@openssh.com", true, NULL, 0), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->globals, 2);
	cr_assert_eq(r->greplies, 1);
	cr_assert_eq(sshrpc_conn_global_reply(r->w.srv, true, NULL, 0), SSHRPC_OK);
	tp_world_pump(&r->w);
	cr_assert_eq(r->greplies, 3);
	cr_assert_not(r->gok, "the keepalive probe is refused, last");
	cr_assert_eq(sshrpc_conn_global_reply(r->w.srv, true, NULL, 0), SSHRPC_E_STATE);
	rq_free(r);
}

Test(requests, keepalive_probes_and_dead_peer)
{
	sshrpc_conn_cfg cc = { .alive_interval_ms = 1000, .alive_count_max = 3 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	sshrpc_conn *c = r->w.cli;
	/* The last message (the open confirmation, at 0) armed the timer. */
	cr_assert_eq(sshrpc_conn_next_deadline(c), 1000);
	cr_assert_eq(sshrpc_conn_tick(c, 999), SSHRPC_OK);
	cr_assert_eq(tp_pending(r->w.pipe, 1), 0);
	/* A live peer answers each probe, which keeps the count at zero. */
	uint64_t now = 1000;
	for (int i = 0; i < 9; i++) {
		cr_assert_eq(sshrpc_conn_tick(c, now), SSHRPC_OK);
		cr_assert_eq(tp_pending(r->w.pipe, 1), 1, "one probe at %llu", (unsigned long long)now);
		tp_pump(r->w.pipe, r->w.cli, r->w.srv, now + 1);
		cr_assert_eq(sshrpc_conn_next_deadline(c), now + 1001);
		now += 1001;
	}
	cr_assert_eq(r->greplies, 0, "keepalive answers are not the application's");
	/* A silent peer: three unanswered probes, then dead. */
	uint64_t t = sshrpc_conn_next_deadline(c);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(sshrpc_conn_tick(c, t), SSHRPC_OK);
		t = sshrpc_conn_next_deadline(c);
	}
	tp_drain(r->w.pipe, 1);
	cr_assert_eq(sshrpc_conn_tick(c, t - 1), SSHRPC_OK);
	cr_assert_eq(sshrpc_conn_tick(c, t), SSHRPC_E_TIMEOUT);
	cr_assert(sshrpc_conn_is_dead(c));
	cr_assert(strstr(sshrpc_conn_error(c)->msg, "3 keepalive probes unanswered") != NULL);
	cr_assert_eq(r->w.pipe->end[0].disc_reason, SSH_DISCONNECT_CONNECTION_LOST);
	cr_assert_eq(sshrpc_conn_next_deadline(c), UINT64_MAX);
	rq_free(r);
}

Test(requests, keepalive_off_by_default)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct rq *r = rq_new(&cc, &sc);
	cr_assert_eq(sshrpc_conn_next_deadline(r->w.cli), UINT64_MAX);
	cr_assert_eq(sshrpc_conn_tick(r->w.cli, 1u << 30), SSHRPC_OK);
	cr_assert_eq(tp_pending(r->w.pipe, 1), 0);
	rq_free(r);
}

Test(requests, request_names)
{
	cr_assert_str_eq(sshrpc_req_name(SSHRPC_REQ_EXEC), "exec");
	cr_assert_str_eq(sshrpc_req_name(SSHRPC_REQ_EOW), "eow@openssh.com");
	cr_assert_null(sshrpc_req_name(SSHRPC_REQ_OTHER));
	cr_assert_null(sshrpc_req_name(999));
}
