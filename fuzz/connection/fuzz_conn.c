/* The connection layer's message handler in an established state: a client
 * or a server with three session channels open, fed a sequence of
 * connection messages from the input, while an application driven by the
 * same input accepts, refuses, defers, reads, writes, closes and ticks.
 *
 * Input: byte 0 picks the role and settings, bytes 1..4 seed the
 * application's choices, then records of [uint16 big-endian length][message
 * starting with its number]; an empty record is a pause. After each
 * message the harness makes one application call, so the state changes
 * between messages too.
 *
 * Checked beyond "no crash, no leak": buffered bytes never exceed our
 * window, queued bytes never exceed the send bound, every message we send
 * is well-formed as far as its fixed part goes, and data we send never
 * exceeds the maximum packet size the peer gave. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/connection.h"

#define NCHAN 3

/* Results the harness does not care about: any status is fine. */
static void ign(int rc)
{
	(void)rc;
}

static void check(int cond)
{
	if (!cond)
		abort();
}

struct harness {
	const uint8_t *in;
	size_t len, off;
	bool yield; /* recv reports AGAIN once after each message */
	uint8_t *cur;
	size_t cur_len;
	sshrpc_buf out;
	bool building, disconnected;
	sshrpc_err err;
	uint64_t rng;
	uint32_t window, max_packet;
	size_t send_queue;
	uint32_t peer_max_packet; /* what every peer open/confirmation in the setup gave */
	sshrpc_conn *c;
	uint8_t scratch[4096];
	int depth;
};

static uint32_t rnd(struct harness *h)
{
	h->rng ^= h->rng << 13;
	h->rng ^= h->rng >> 7;
	h->rng ^= h->rng << 17;
	return (uint32_t)(h->rng >> 11);
}

/* ---- the fake layer below ------------------------------------------------ */

static int h_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	struct harness *h = ctx;
	free(h->cur);
	h->cur = NULL;
	if (h->yield) {
		h->yield = false;
		return SSHRPC_E_AGAIN;
	}
	if (h->len - h->off < 2)
		return SSHRPC_E_AGAIN;
	size_t n = ((size_t)h->in[h->off] << 8) | h->in[h->off + 1];
	if (n > h->len - h->off - 2)
		n = h->len - h->off - 2;
	/* A copy of exactly the message, so that the sanitizers see any read
	 * past its end. */
	if (n == 0) {
		/* An empty record is a pause: one more application step, no
		 * message (keepalive deadlines pass meanwhile). */
		h->off += 2;
		return SSHRPC_E_AGAIN;
	}
	h->cur = malloc(n);
	check(h->cur != NULL);
	memcpy(h->cur, h->in + h->off + 2, n);
	h->off += 2 + n;
	h->yield = true;
	*msg = h->cur;
	*len = n;
	return SSHRPC_OK;
}

static int h_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	struct harness *h = ctx;
	check(!h->building);
	sshrpc_buf_reset(&h->out);
	check(sshrpc_buf_put_u8(&h->out, type) == SSHRPC_OK);
	h->building = true;
	*w = &h->out;
	return SSHRPC_OK;
}

/* What we send must at least parse. */
static int h_end(void *ctx)
{
	struct harness *h = ctx;
	check(h->building);
	h->building = false;
	sshrpc_reader r;
	sshrpc_buf_reader(&h->out, &r);
	uint8_t type;
	uint32_t u;
	const uint8_t *p;
	size_t n;
	check(sshrpc_rd_u8(&r, &type) == SSHRPC_OK);
	check(type >= SSH_MSG_GLOBAL_REQUEST && type <= SSH_MSG_CHANNEL_FAILURE);
	switch (type) {
	case SSH_MSG_CHANNEL_DATA:
		check(sshrpc_rd_u32(&r, &u) == SSHRPC_OK);
		check(sshrpc_rd_string(&r, &p, &n) == SSHRPC_OK);
		check(sshrpc_rd_end(&r) == SSHRPC_OK);
		break;
	case SSH_MSG_CHANNEL_EXTENDED_DATA:
		check(sshrpc_rd_u32(&r, &u) == SSHRPC_OK);
		check(sshrpc_rd_u32(&r, &u) == SSHRPC_OK);
		check(sshrpc_rd_string(&r, &p, &n) == SSHRPC_OK);
		check(sshrpc_rd_end(&r) == SSHRPC_OK);
		break;
	case SSH_MSG_CHANNEL_EOF:
	case SSH_MSG_CHANNEL_CLOSE:
	case SSH_MSG_CHANNEL_SUCCESS:
	case SSH_MSG_CHANNEL_FAILURE:
		check(sshrpc_rd_u32(&r, &u) == SSHRPC_OK);
		check(sshrpc_rd_end(&r) == SSHRPC_OK);
		break;
	case SSH_MSG_CHANNEL_WINDOW_ADJUST:
		check(sshrpc_rd_u32(&r, &u) == SSHRPC_OK);
		check(sshrpc_rd_u32(&r, &u) == SSHRPC_OK);
		check(u > 0);
		check(sshrpc_rd_end(&r) == SSHRPC_OK);
		break;
	default:
		break;
	}
	return SSHRPC_OK;
}

static int h_disconnect(void *ctx, uint32_t reason, const char *description)
{
	struct harness *h = ctx;
	check(reason != 0 && description != NULL && description[0] != 0);
	h->disconnected = true;
	return SSHRPC_OK;
}

static const sshrpc_err *h_error(void *ctx)
{
	struct harness *h = ctx;
	return &h->err;
}

/* ---- the application --------------------------------------------------- */

static void on_event(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct harness *h = ud;
	uint32_t r = rnd(h);
	size_t w;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		if (r % 4 == 0)
			ign(sshrpc_chan_reject(c, ev->id, SSH_OPEN_CONNECT_FAILED, "no"));
		else if (r % 4 != 1) /* 1: decide later */
			ign(sshrpc_chan_accept(c, ev->id, NULL));
		break;
	case SSHRPC_CONN_EV_REQUEST:
		if (r % 3 != 0)
			ign(sshrpc_chan_reply(c, ev->id, r % 3 == 1));
		if (r % 7 == 0)
			ign(sshrpc_chan_write(c, ev->id, h->scratch, r % 3000, &w));
		break;
	case SSHRPC_CONN_EV_DATA:
		check(ev->u.data.len <= h->window);
		ev->u.data.consumed = (r % 3 == 0) ? 0 : (r % 3 == 1 ? ev->u.data.len : r % (ev->u.data.len + 1));
		/* Consuming here as well is refused during a data event. */
		check(sshrpc_chan_consume(c, ev->id, ev->u.data.stream, 0) == SSHRPC_E_STATE);
		break;
	case SSHRPC_CONN_EV_WRITABLE:
		ign(sshrpc_chan_write(c, ev->id, h->scratch, r % sizeof h->scratch, &w));
		break;
	case SSHRPC_CONN_EV_EOF:
		if (r % 2)
			ign(sshrpc_chan_close(c, ev->id));
		break;
	case SSHRPC_CONN_EV_GLOBAL_REQUEST:
		if (r % 2)
			ign(sshrpc_conn_global_reply(c, r % 4 == 1, h->scratch, r % 8));
		break;
	case SSHRPC_CONN_EV_CLOSE:
	case SSHRPC_CONN_EV_OPEN_FAILED:
		/* The id is about to go: calls on it must fail cleanly. */
		check(sshrpc_chan_write(c, ev->id, "x", 1, &w) != SSHRPC_OK);
		break;
	default:
		break;
	}
}

/* One application call between messages. */
static void act(struct harness *h, uint64_t now)
{
	sshrpc_conn *c = h->c;
	uint32_t r = rnd(h);
	uint32_t id = (r >> 8) % 6;
	size_t w, n;
	uint8_t *p;
	switch (r % 16) {
	case 0:
		ign(sshrpc_chan_write(c, id, h->scratch, (r >> 4) % sizeof h->scratch, &w));
		break;
	case 1:
		ign(sshrpc_chan_write_ext(c, id, 1, h->scratch, (r >> 4) % 500, &w));
		break;
	case 2:
		ign(sshrpc_chan_eof(c, id));
		break;
	case 3:
		ign(sshrpc_chan_close(c, id));
		break;
	case 4:
		ign(sshrpc_chan_abort(c, id));
		break;
	case 5:
		ign(sshrpc_chan_read(c, id, (int)(r >> 20) % 2, h->scratch, (r >> 4) % 5000, &n));
		break;
	case 6:
		ign(sshrpc_chan_exec(c, id, "cmd", 3, (r >> 5) & 1));
		break;
	case 7:
		ign(sshrpc_chan_open_session(c, NULL, &id));
		break;
	case 8:
		ign(sshrpc_chan_reply(c, id, (r >> 5) & 1));
		break;
	case 9:
		ign(sshrpc_chan_accept(c, id, NULL));
		break;
	case 10:
		ign(sshrpc_conn_tick(c, now));
		break;
	case 11:
		if (sshrpc_chan_write_begin(c, id, (r >> 4) % 70000, &p, &n) == SSHRPC_OK) {
			memset(p, 0x5a, n);
			check(sshrpc_chan_write_end(c, id, n - (n > 0 ? (r >> 12) % (n + 1) : 0)) == SSHRPC_OK ||
				sshrpc_conn_is_dead(c));
		}
		break;
	case 12:
		ign(sshrpc_conn_global_request(c, "keepalive@openssh.com", true, NULL, 0));
		break;
	case 13:
		ign(sshrpc_chan_exit_status(c, id, r));
		break;
	case 14:
		ign(sshrpc_chan_eow(c, id));
		break;
	default:
		break;
	}
	/* Invariants of every channel. */
	for (uint32_t i = 0; i < 8; i++) {
		sshrpc_chan_info info;
		if (sshrpc_chan_get_info(c, i, &info) != SSHRPC_OK)
			continue;
		check(info.readable[0] + info.readable[1] <= h->window);
		check(info.local_window <= h->window);
		check(info.queued <= h->send_queue);
		check(info.local_id == i);
	}
}

/* ---- set-up: an established connection with NCHAN channels ------------ */

static void feed(struct harness *h, const uint8_t *msg, size_t len)
{
	/* Runs a set-up message through the same path as fuzz input. */
	const uint8_t *in = h->in;
	size_t ilen = h->len, ioff = h->off;
	uint8_t buf[256];
	check(len + 2 <= sizeof buf);
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	memcpy(buf + 2, msg, len);
	h->in = buf;
	h->len = len + 2;
	h->off = 0;
	h->yield = false;
	ign(sshrpc_conn_process(h->c, 0));
	ign(sshrpc_conn_process(h->c, 0));
	h->in = in;
	h->len = ilen;
	h->off = ioff;
	h->yield = false;
}

static size_t build(uint8_t *out, size_t cap, uint8_t type, const char *s, const uint32_t *v, size_t nv)
{
	sshrpc_buf b;
	sshrpc_buf_init_fixed(&b, out, cap);
	check(sshrpc_buf_put_u8(&b, type) == SSHRPC_OK);
	if (s != NULL)
		check(sshrpc_buf_put_cstring(&b, s) == SSHRPC_OK);
	for (size_t i = 0; i < nv; i++)
		check(sshrpc_buf_put_u32(&b, v[i]) == SSHRPC_OK);
	return sshrpc_buf_len(&b);
}

static void setup_server(struct harness *h)
{
	uint8_t m[128];
	for (uint32_t i = 0; i < NCHAN; i++) {
		uint32_t v[] = { 100 + i, 65536, h->peer_max_packet };
		feed(h, m, build(m, sizeof m, SSH_MSG_CHANNEL_OPEN, "session", v, 3));
	}
	for (uint32_t i = 0; i < NCHAN; i++)
		ign(sshrpc_chan_accept(h->c, i, NULL));
}

static void setup_client(struct harness *h)
{
	uint8_t m[128];
	uint32_t id;
	for (uint32_t i = 0; i < NCHAN; i++) {
		ign(sshrpc_chan_open_session(h->c, NULL, &id));
		ign(sshrpc_chan_exec(h->c, i, "sys:ping().", 11, true));
	}
	for (uint32_t i = 0; i < NCHAN; i++) {
		uint32_t v[] = { i, 100 + i, 65536, h->peer_max_packet };
		feed(h, m, build(m, sizeof m, SSH_MSG_CHANNEL_OPEN_CONFIRMATION, NULL, v, 4));
	}
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 5)
		return 0;
	struct harness *h = calloc(1, sizeof *h);
	check(h != NULL);
	uint8_t opt = data[0];
	h->rng = ((uint64_t)data[1] << 24 | (uint64_t)data[2] << 16 | (uint64_t)data[3] << 8 | data[4]) * 2654435761u +
		 1;
	h->window = (opt & 2) ? 1000 : 65536;
	h->max_packet = (opt & 4) ? 100 : 32768;
	h->send_queue = (opt & 8) ? 500 : 8192;
	h->peer_max_packet = (opt & 16) ? 7 : 32768;
	sshrpc_buf_init(&h->out, NULL, 0);
	memset(h->scratch, 0xa5, sizeof h->scratch);
	sshrpc_conn_cfg cfg = {
		.role = (opt & 1) ? SSHRPC_CONN_SERVER : SSHRPC_CONN_CLIENT,
		.on_event = on_event,
		.event_ud = h,
		.max_channels = 6,
		.window = h->window,
		.max_packet = h->max_packet,
		.send_queue = h->send_queue,
		.allow_direct_tcpip = (opt & 32) != 0,
		.allow_forwarded_tcpip = (opt & 32) != 0,
		.allow_tcpip_forward = (opt & 64) != 0,
		.alive_interval_ms = (opt & 128) ? 1000 : 0,
		.alive_count_max = 2,
	};
	sshrpc_msg_io io = { h, h_recv, h_begin, h_end, h_disconnect, h_error };
	check(sshrpc_conn_new(&cfg, &io, &h->c) == SSHRPC_OK);
	if (cfg.role == SSHRPC_CONN_SERVER)
		setup_server(h);
	else
		setup_client(h);
	check(!sshrpc_conn_is_dead(h->c));

	h->in = data;
	h->len = len;
	h->off = 5;
	uint64_t now = 0;
	while (h->len - h->off >= 2 && !sshrpc_conn_is_dead(h->c)) {
		now += 300;
		int rc = sshrpc_conn_process(h->c, now);
		if (rc != SSHRPC_OK) {
			/* A dead connection says why, and said it to the peer. */
			const sshrpc_err *e = sshrpc_conn_error(h->c);
			check(e != NULL && e->code == rc && e->msg[0] != 0);
			check(h->disconnected || rc == SSHRPC_E_TIMEOUT);
			break;
		}
		act(h, now);
	}
	sshrpc_conn_free(h->c);
	free(h->cur);
	sshrpc_buf_free(&h->out);
	free(h);
	return 0;
}
