/* Flow control (RFC 4254 §5.2): windows and maximum packet sizes are never
 * exceeded, windows follow consumption, a slow consumer keeps memory
 * bounded, writes block and resume, zero-copy writes, a blocked lower
 * layer, extended data, eow@openssh.com. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

/* One channel, set up and confirmed; the server side's app reads only when
 * the test says so. */
struct flow {
	struct tp_world w;
	uint32_t cid, sid;
	bool srv_consume; /* server's data events consume everything */
	size_t srv_got;	  /* bytes the server verified */
	size_t cli_got;
	size_t cli_consume_max; /* per data event on the client */
	int cli_writable, srv_writable, srv_eow, cli_eof, cli_replies, cli_closes, cli_opened;
	bool cli_reply_ok;
	size_t srv_ext_other;
	uint8_t tmp[1 << 16];
};

static void flow_cli(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct flow *f = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_DATA: {
		size_t k = ev->u.data.len < f->cli_consume_max ? ev->u.data.len : f->cli_consume_max;
		cr_assert_eq(tp_gen_check(2, f->cli_got, ev->u.data.p, k), k);
		f->cli_got += k;
		ev->u.data.consumed = k;
		break;
	}
	case SSHRPC_CONN_EV_WRITABLE:
		f->cli_writable++;
		break;
	case SSHRPC_CONN_EV_EOF:
		f->cli_eof++;
		break;
	case SSHRPC_CONN_EV_REQUEST_REPLY:
		f->cli_replies++;
		f->cli_reply_ok = ev->u.reply.success;
		break;
	case SSHRPC_CONN_EV_CLOSE:
		f->cli_closes++;
		break;
	case SSHRPC_CONN_EV_OPENED:
		f->cli_opened++;
		break;
	default:
		break;
	}
	(void)c;
}

static void flow_srv(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct flow *f = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		f->sid = ev->id;
		cr_assert_eq(sshrpc_chan_accept(c, ev->id, NULL), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_DATA:
		if (f->srv_consume) {
			cr_assert_eq(tp_gen_check(1, f->srv_got, ev->u.data.p, ev->u.data.len), ev->u.data.len);
			f->srv_got += ev->u.data.len;
			ev->u.data.consumed = ev->u.data.len;
		}
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		f->srv_writable++;
		break;
	case SSHRPC_CONN_EV_EOW:
		f->srv_eow++;
		break;
	default:
		break;
	}
}

static struct flow *flow_new(sshrpc_conn_cfg *cc, sshrpc_conn_cfg *sc)
{
	struct flow *f = calloc(1, sizeof *f);
	f->srv_consume = true;
	f->cli_consume_max = SIZE_MAX;
	cc->on_event = flow_cli;
	cc->event_ud = f;
	sc->on_event = flow_srv;
	sc->event_ud = f;
	tp_world_init(&f->w, cc, sc);
	cr_assert_eq(sshrpc_chan_open_session(f->w.cli, NULL, &f->cid), SSHRPC_OK);
	tp_world_pump(&f->w);
	return f;
}

static void flow_free(struct flow *f)
{
	tp_world_free(&f->w);
	free(f);
}

/* Writes stream s from *pos up to total; returns on WOULDBLOCK. */
static int push(struct flow *f, sshrpc_conn *c, uint32_t id, uint32_t s, size_t *pos, size_t total)
{
	while (*pos < total) {
		size_t k = total - *pos;
		if (k > sizeof f->tmp)
			k = sizeof f->tmp;
		tp_gen_fill(s, *pos, f->tmp, k);
		size_t wr;
		int rc = sshrpc_chan_write(c, id, f->tmp, k, &wr);
		*pos += wr;
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

Test(flow, defaults_advertised)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct flow *f = flow_new(&cc, &sc);
	sshrpc_chan_info ci;
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	cr_assert_eq(ci.local_window, 2u * 1024 * 1024);
	cr_assert_eq(ci.local_max_packet, 32768);
	cr_assert_eq(ci.remote_window, 2u * 1024 * 1024);
	cr_assert_eq(ci.remote_max_packet, 32768);
	flow_free(f);
}

Test(flow, tiny_window_and_packet_never_exceeded)
{
	sshrpc_conn_cfg cc = { .window = 1000, .max_packet = 100 };
	sshrpc_conn_cfg sc = { .window = 777, .max_packet = 33 };
	struct flow *f = flow_new(&cc, &sc);
	size_t pos = 0, total = 300000;
	while (pos < total) {
		int rc = push(f, f->w.cli, f->cid, 1, &pos, total);
		cr_assert(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK);
		tp_world_pump(&f->w);
	}
	tp_world_pump(&f->w);
	cr_assert_eq(f->srv_got, total);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	cr_assert_leq(f->w.pipe->end[0].max_data_len, 33);
	cr_assert_eq(f->w.pipe->end[0].max_data_len, 33);
	/* And the other way, into the client's window of 1000 / 100. */
	size_t spos = 0;
	while (spos < total) {
		int rc = push(f, f->w.srv, f->sid, 2, &spos, total);
		cr_assert(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK);
		tp_world_pump(&f->w);
	}
	cr_assert_eq(f->cli_got, total);
	cr_assert_eq(f->w.pipe->end[1].max_data_len, 100);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	sshrpc_chan_info si;
	cr_assert_eq(sshrpc_chan_get_info(f->w.srv, f->sid, &si), SSHRPC_OK);
	cr_assert_gt(si.window_stalls, 0);
	flow_free(f);
}

Test(flow, window_follows_consumption_not_arrival)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { .window = 100000, .max_packet = 10000 };
	struct flow *f = flow_new(&cc, &sc);
	f->srv_consume = false;
	size_t pos = 0;
	int rc = push(f, f->w.cli, f->cid, 1, &pos, 250000);
	cr_assert_eq(rc, SSHRPC_OK); /* 100000 sent, the rest queued */
	sshrpc_chan_info ci;
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	cr_assert_eq(ci.remote_window, 0);
	cr_assert_eq(ci.queued, 150000);
	tp_world_pump(&f->w);
	sshrpc_chan_info si;
	cr_assert_eq(sshrpc_chan_get_info(f->w.srv, f->sid, &si), SSHRPC_OK);
	/* Everything arrived, nothing consumed: no credit given back. */
	cr_assert_eq(si.local_window, 0);
	cr_assert_eq(si.readable[0], 100000);
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	cr_assert_eq(ci.remote_window, 0);
	cr_assert_eq(ci.queued, 150000);
	/* Consuming less than half the window sends no adjust yet. */
	uint8_t buf[40000];
	size_t n;
	cr_assert_eq(sshrpc_chan_read(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT, buf, sizeof buf, &n), SSHRPC_OK);
	cr_assert_eq(n, 40000);
	cr_assert_eq(tp_gen_check(1, 0, buf, n), n);
	cr_assert_eq(tp_pending(f->w.pipe, 0), 0);
	/* Past half, the consumed bytes are credited back at once. */
	cr_assert_eq(sshrpc_chan_read(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT, buf, 10000, &n), SSHRPC_OK);
	cr_assert_eq(tp_gen_check(1, 40000, buf, n), n);
	cr_assert_eq(tp_pending(f->w.pipe, 0), 1);
	tp_world_pump(&f->w);
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	cr_assert_eq(ci.queued, 100000);
	cr_assert_eq(sshrpc_chan_get_info(f->w.srv, f->sid, &si), SSHRPC_OK);
	cr_assert_eq(si.readable[0], 100000);
	cr_assert_eq(si.local_window, 0);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	flow_free(f);
}

Test(flow, slow_consumer_keeps_memory_bounded, .timeout = 120)
{
	struct tp_counting ca, sa;
	tp_counting_init(&ca);
	tp_counting_init(&sa);
	const uint32_t window = 256 * 1024;
	const size_t queue = 64 * 1024;
	sshrpc_conn_cfg cc = { .alloc = &ca.a, .window = window, .max_packet = 32768, .send_queue = queue };
	sshrpc_conn_cfg sc = { .alloc = &sa.a, .window = window, .max_packet = 32768, .send_queue = queue };
	struct flow *f = flow_new(&cc, &sc);
	f->cli_consume_max = 0; /* the client application reads nothing in events */
	size_t base_c = ca.live, base_s = sa.live;
	size_t total = 64u * 1024 * 1024, pos = 0, got = 0;
	uint8_t *buf = malloc(7000);
	int blocked = 0;
	while (got < total) {
		int rc = push(f, f->w.srv, f->sid, 2, &pos, total);
		if (rc == SSHRPC_E_WOULDBLOCK)
			blocked++;
		else
			cr_assert_eq(rc, SSHRPC_OK);
		tp_world_pump(&f->w);
		/* The client reads a little at a time, later. */
		size_t n;
		for (int i = 0; i < 8; i++) {
			rc = sshrpc_chan_read(f->w.cli, f->cid, SSHRPC_CHAN_STDOUT, buf, 7000, &n);
			if (rc == SSHRPC_E_AGAIN)
				break;
			cr_assert_eq(rc, SSHRPC_OK);
			cr_assert_eq(tp_gen_check(2, got, buf, n), n, "byte %zu", got);
			got += n;
		}
		cr_assert_leq(ca.live - base_c, (size_t)window + 64 * 1024, "client holds %zu", ca.live - base_c);
		cr_assert_leq(sa.live - base_s, queue + 64 * 1024 + 4096, "server holds %zu", sa.live - base_s);
		sshrpc_chan_info si;
		cr_assert_eq(sshrpc_chan_get_info(f->w.srv, f->sid, &si), SSHRPC_OK);
		cr_assert_leq(si.queued, queue);
	}
	cr_assert_gt(blocked, 100, "the writer was slowed down");
	cr_assert_gt(f->srv_writable, 100);
	cr_assert_leq(ca.peak - base_c, (size_t)window + 64 * 1024);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	free(buf);
	flow_free(f);
	cr_assert_eq(ca.live, 0);
	cr_assert_eq(sa.live, 0);
}

Test(flow, writable_after_would_block)
{
	sshrpc_conn_cfg cc = { .send_queue = 1000 }, sc = { .window = 5000, .max_packet = 1000 };
	struct flow *f = flow_new(&cc, &sc);
	f->srv_consume = false;
	size_t pos = 0;
	cr_assert_eq(push(f, f->w.cli, f->cid, 1, &pos, 100000), SSHRPC_E_WOULDBLOCK);
	cr_assert_eq(pos, 6000, "window 5000 sent, 1000 queued");
	size_t n;
	cr_assert_eq(sshrpc_chan_write(f->w.cli, f->cid, "x", 1, &n), SSHRPC_E_WOULDBLOCK);
	cr_assert_eq(n, 0);
	tp_world_pump(&f->w);
	cr_assert_eq(f->cli_writable, 0);
	/* The server consumes: the window reopens, the queue drains, and
	 * the writer hears about it once. */
	const uint8_t *p;
	size_t len;
	cr_assert_eq(sshrpc_chan_peek(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT, &p, &len), SSHRPC_OK);
	cr_assert_eq(len, 5000);
	cr_assert_eq(sshrpc_chan_consume(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT, len), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(f->cli_writable, 1);
	cr_assert_eq(sshrpc_chan_readable(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT), 1000);
	cr_assert_eq(push(f, f->w.cli, f->cid, 1, &pos, 9000), SSHRPC_OK);
	flow_free(f);
}

Test(flow, zero_copy_write)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { .window = 3000, .max_packet = 1200 };
	struct flow *f = flow_new(&cc, &sc);
	f->srv_consume = false;
	uint8_t *p;
	size_t avail, pos = 0;
	cr_assert_eq(sshrpc_chan_write_begin(f->w.cli, f->cid, 5000, &p, &avail), SSHRPC_OK);
	cr_assert_eq(avail, 1200);
	/* Nothing else goes out while a zero-copy message is open. */
	size_t n;
	cr_assert_eq(sshrpc_chan_write(f->w.cli, f->cid, "x", 1, &n), SSHRPC_E_STATE);
	tp_gen_fill(1, pos, p, 1000);
	cr_assert_eq(sshrpc_chan_write_end(f->w.cli, f->cid, 1000), SSHRPC_OK);
	pos += 1000;
	while (sshrpc_chan_write_begin(f->w.cli, f->cid, 5000, &p, &avail) == SSHRPC_OK) {
		tp_gen_fill(1, pos, p, avail);
		cr_assert_eq(sshrpc_chan_write_end(f->w.cli, f->cid, avail), SSHRPC_OK);
		pos += avail;
	}
	cr_assert_eq(pos, 3000);
	tp_world_pump(&f->w);
	const uint8_t *q;
	size_t len;
	cr_assert_eq(sshrpc_chan_peek(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT, &q, &len), SSHRPC_OK);
	cr_assert_eq(len, 3000);
	cr_assert_eq(tp_gen_check(1, 0, q, len), len);
	cr_assert_eq(sshrpc_chan_consume(f->w.srv, f->sid, SSHRPC_CHAN_STDOUT, len), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(f->cli_writable, 1);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	cr_assert_eq(f->w.pipe->end[0].max_data_len, 1200);
	flow_free(f);
}

Test(flow, blocked_lower_layer_keeps_order)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { 0 };
	struct flow *f = flow_new(&cc, &sc);
	f->w.pipe->end[0].block_data = true;
	size_t pos = 0;
	cr_assert_eq(push(f, f->w.cli, f->cid, 1, &pos, 100000), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_exit_status(f->w.cli, f->cid, 5), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_eof(f->w.cli, f->cid), SSHRPC_OK);
	cr_assert_eq(tp_pending(f->w.pipe, 1), 0, "everything waits behind the blocked data");
	f->w.pipe->end[0].block_data = false;
	cr_assert_eq(sshrpc_conn_flush(f->w.cli), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(f->srv_got, 100000);
	sshrpc_chan_info si;
	cr_assert_eq(sshrpc_chan_get_info(f->w.srv, f->sid, &si), SSHRPC_OK);
	cr_assert(si.eof_received);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	flow_free(f);
}

Test(flow, extended_data_stderr_and_other_codes)
{
	sshrpc_conn_cfg cc = { .window = 1000, .max_packet = 500 }, sc = { 0 };
	struct flow *f = flow_new(&cc, &sc);
	f->cli_consume_max = 0;
	size_t n;
	cr_assert_eq(sshrpc_chan_write_ext(f->w.srv, f->sid, SSH_EXTENDED_DATA_STDERR, "oops", 4, &n), SSHRPC_OK);
	/* An unknown code counts against the window and is dropped as read. */
	uint8_t junk[400] = { 0 };
	cr_assert_eq(sshrpc_chan_write_ext(f->w.srv, f->sid, 77, junk, sizeof junk, &n), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(sshrpc_chan_readable(f->w.cli, f->cid, SSHRPC_CHAN_STDERR), 4);
	cr_assert_eq(sshrpc_chan_readable(f->w.cli, f->cid, SSHRPC_CHAN_STDOUT), 0);
	char buf[8];
	cr_assert_eq(sshrpc_chan_read(f->w.cli, f->cid, SSHRPC_CHAN_STDERR, buf, sizeof buf, &n), SSHRPC_OK);
	cr_assert_eq(n, 4);
	cr_assert_eq(memcmp(buf, "oops", 4), 0);
	cr_assert_eq(sshrpc_chan_read(f->w.cli, f->cid, SSHRPC_CHAN_STDERR, buf, sizeof buf, &n), SSHRPC_E_AGAIN);
	sshrpc_chan_info ci;
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	/* 404 bytes consumed, under the adjust threshold of half the window. */
	cr_assert_eq(ci.local_window, 596);
	cr_assert_eq(tp_pending(f->w.pipe, 1), 0);
	/* 200 more of the unknown code pass the threshold: all credited. */
	cr_assert_eq(sshrpc_chan_write_ext(f->w.srv, f->sid, 77, junk, 200, &n), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	cr_assert_eq(ci.local_window, 1000);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	cr_assert_eq(sshrpc_chan_eof(f->w.srv, f->sid), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(sshrpc_chan_read(f->w.cli, f->cid, SSHRPC_CHAN_STDERR, buf, sizeof buf, &n), SSHRPC_E_CLOSED);
	flow_free(f);
}

Test(flow, eow_stops_our_writes)
{
	sshrpc_conn_cfg cc = { 0 }, sc = { .window = 1000, .max_packet = 1000 };
	struct flow *f = flow_new(&cc, &sc);
	f->srv_consume = false;
	size_t pos = 0;
	cr_assert_eq(push(f, f->w.cli, f->cid, 1, &pos, 5000), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_eow(f->w.srv, f->sid), SSHRPC_OK);
	tp_world_pump(&f->w);
	sshrpc_chan_info ci;
	cr_assert_eq(sshrpc_chan_get_info(f->w.cli, f->cid, &ci), SSHRPC_OK);
	cr_assert(ci.eow_received);
	cr_assert_eq(ci.queued, 0, "queued data dropped");
	size_t n;
	cr_assert_eq(sshrpc_chan_write(f->w.cli, f->cid, "x", 1, &n), SSHRPC_E_CLOSED);
	/* The other direction stays open. */
	size_t spos = 0;
	cr_assert_eq(push(f, f->w.srv, f->sid, 2, &spos, 2000), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_eof(f->w.cli, f->cid), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(f->cli_got, 2000);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	flow_free(f);
}

Test(flow, blocked_lower_layer_holds_every_message_in_order)
{
	/* The transport refuses all upper-layer messages while its output is
	 * full or a key exchange runs: replies, adjusts, confirmations and
	 * CLOSE wait in order, data waits in its channel. */
	sshrpc_conn_cfg cc = { 0 }, sc = { .window = 100000, .max_packet = 30000 };
	struct flow *f = flow_new(&cc, &sc);
	f->w.pipe->end[1].block_all = true;
	uint8_t one = 1;
	cr_assert_eq(sshrpc_chan_request(f->w.cli, f->cid, "nosuch@example.com", true, &one, 1), SSHRPC_OK);
	size_t pos = 0;
	int rc = push(f, f->w.cli, f->cid, 1, &pos, 300000);
	cr_assert(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK);
	uint32_t second;
	cr_assert_eq(sshrpc_chan_open_session(f->w.cli, NULL, &second), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(f->srv_got, 100000, "a window's worth arrived and was consumed");
	cr_assert_eq(f->cli_replies, 0);
	cr_assert_eq(f->cli_opened, 1, "only the first channel's confirmation");
	/* The server keeps answering into its backlog meanwhile. */
	size_t n;
	cr_assert_eq(sshrpc_chan_write(f->w.srv, f->sid, "late", 4, &n), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_eof(f->w.srv, f->sid), SSHRPC_OK);
	cr_assert_eq(sshrpc_chan_close(f->w.srv, f->sid), SSHRPC_OK);
	tp_world_pump(&f->w);
	cr_assert_eq(tp_pending(f->w.pipe, 0), 0);
	f->w.pipe->end[1].block_all = false;
	f->cli_consume_max = 0;
	while (pos < 300000 && f->cli_closes == 0) {
		tp_world_pump(&f->w);
		rc = push(f, f->w.cli, f->cid, 1, &pos, 300000);
		if (rc == SSHRPC_E_CLOSED)
			break;
	}
	tp_world_pump(&f->w);
	cr_assert_eq(f->cli_replies, 1);
	cr_assert_not(f->cli_reply_ok);
	cr_assert_eq(f->cli_opened, 2);
	cr_assert_eq(f->cli_eof, 1);
	cr_assert_eq(f->cli_closes, 1);
	cr_assert_eq(f->w.pipe->violations, 0, "%s", f->w.pipe->first_violation);
	cr_assert_not(sshrpc_conn_is_dead(f->w.cli));
	cr_assert_not(sshrpc_conn_is_dead(f->w.srv));
	flow_free(f);
}
