/* The in-memory msg_io pair and its checking peer (see pipe.h). */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

/* ---- queues ------------------------------------------------------------ */

static void q_push(struct tp_queue *q, const uint8_t *p, size_t len)
{
	if (q->n == q->cap) {
		size_t ncap = q->cap ? q->cap * 2 : 64;
		struct tp_msg *nv = malloc(ncap * sizeof *nv);
		cr_assert_not_null(nv);
		for (size_t i = 0; i < q->n; i++)
			nv[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = nv;
		q->cap = ncap;
		q->head = 0;
	}
	uint8_t *copy = malloc(len ? len : 1);
	cr_assert_not_null(copy);
	memcpy(copy, p, len);
	q->v[(q->head + q->n) % q->cap] = (struct tp_msg){ copy, len };
	q->n++;
}

static bool q_pop(struct tp_queue *q, struct tp_msg *m)
{
	if (q->n == 0)
		return false;
	*m = q->v[q->head];
	q->head = (q->head + 1) % q->cap;
	q->n--;
	return true;
}

/* ---- the checking peer --------------------------------------------------- */

static void violation(struct tp_pipe *p, const char *fmt, ...) SSHRPC_PRINTF(2, 3);

static void violation(struct tp_pipe *p, const char *fmt, ...)
{
	if (p->violations++ == 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->first_violation, sizeof p->first_violation, fmt, ap);
		va_end(ap);
	}
}

static struct tp_chan *ck(struct tp_pipe *p, int side, uint32_t id)
{
	if (id >= TP_MAX_IDS)
		return NULL;
	return &p->ck[side][id];
}

/* Sender s's channel named by the recipient id r of the other end. */
static struct tp_chan *ck_sender(struct tp_pipe *p, int s, uint32_t r)
{
	struct tp_chan *rc = ck(p, 1 - s, r);
	if (rc == NULL || !rc->in_use || rc->pending)
		return NULL;
	return ck(p, s, rc->peer);
}

static void check_sent(struct tp_pipe *p, int s, const uint8_t *m, size_t len)
{
	int r = 1 - s;
	sshrpc_reader rd;
	sshrpc_rd_init(&rd, m, len);
	uint8_t type;
	uint32_t a = 0, b = 0, w = 0, mp = 0;
	const uint8_t *str;
	size_t sl;
	if (sshrpc_rd_u8(&rd, &type) != SSHRPC_OK)
		return violation(p, "end %d sent an empty message", s);
	switch (type) {
	case SSH_MSG_CHANNEL_OPEN: {
		if (sshrpc_rd_string(&rd, &str, &sl) || sshrpc_rd_u32(&rd, &a) || sshrpc_rd_u32(&rd, &w) ||
			sshrpc_rd_u32(&rd, &mp))
			return violation(p, "end %d: malformed OPEN", s);
		struct tp_chan *c = ck(p, s, a);
		if (c == NULL)
			return violation(p, "end %d: OPEN with id %u beyond the checker's table", s, a);
		if (c->in_use)
			return violation(p, "end %d reuses channel id %u before both CLOSEs", s, a);
		*c = (struct tp_chan){ .in_use = true, .pending = true, .window = w, .max_packet = mp };
		break;
	}
	case SSH_MSG_CHANNEL_OPEN_CONFIRMATION: {
		if (sshrpc_rd_u32(&rd, &a) || sshrpc_rd_u32(&rd, &b) || sshrpc_rd_u32(&rd, &w) ||
			sshrpc_rd_u32(&rd, &mp))
			return violation(p, "end %d: malformed CONFIRMATION", s);
		struct tp_chan *opener = ck(p, r, a), *c = ck(p, s, b);
		if (opener == NULL || !opener->in_use || !opener->pending)
			return violation(p, "end %d confirms channel %u that end %d did not open", s, a, r);
		if (c == NULL || c->in_use)
			return violation(p, "end %d confirms with id %u already in use", s, b);
		opener->pending = false;
		opener->peer = b;
		*c = (struct tp_chan){ .in_use = true, .peer = a, .window = w, .max_packet = mp };
		break;
	}
	case SSH_MSG_CHANNEL_OPEN_FAILURE:
		break;
	case SSH_MSG_CHANNEL_WINDOW_ADJUST: {
		if (sshrpc_rd_u32(&rd, &a) || sshrpc_rd_u32(&rd, &b))
			return violation(p, "end %d: malformed WINDOW_ADJUST", s);
		struct tp_chan *c = ck_sender(p, s, a);
		if (c == NULL)
			return violation(p, "end %d: WINDOW_ADJUST for unknown channel %u", s, a);
		if (c->close_sent)
			return violation(p, "end %d: WINDOW_ADJUST after its CLOSE", s);
		c->window += b;
		if (c->window > UINT32_MAX)
			return violation(p, "end %d: window of channel raised above 2^32-1", s);
		break;
	}
	case SSH_MSG_CHANNEL_DATA:
	case SSH_MSG_CHANNEL_EXTENDED_DATA: {
		if (sshrpc_rd_u32(&rd, &a) || (type == SSH_MSG_CHANNEL_EXTENDED_DATA && sshrpc_rd_u32(&rd, &b)) ||
			sshrpc_rd_string(&rd, &str, &sl))
			return violation(p, "end %d: malformed DATA", s);
		struct tp_chan *dst = ck(p, r, a), *src = ck_sender(p, s, a);
		if (dst == NULL || !dst->in_use || src == NULL)
			return violation(p, "end %d: DATA for channel %u not open at end %d", s, a, r);
		if (src->eof_sent || src->close_sent)
			return violation(p, "end %d: DATA on its channel %u after its EOF/CLOSE", s, dst->peer);
		if (sl > dst->max_packet)
			return violation(p, "end %d: DATA of %zu above the maximum packet %u", s, sl, dst->max_packet);
		if (sl > dst->window)
			return violation(p, "end %d: DATA of %zu beyond the window %llu on channel %u", s, sl,
				(unsigned long long)dst->window, a);
		dst->window -= sl;
		if (sl > p->end[s].max_data_len)
			p->end[s].max_data_len = sl;
		p->end[s].data_msgs_sent++;
		break;
	}
	case SSH_MSG_CHANNEL_EOF:
	case SSH_MSG_CHANNEL_CLOSE: {
		if (sshrpc_rd_u32(&rd, &a))
			return violation(p, "end %d: malformed EOF/CLOSE", s);
		struct tp_chan *src = ck_sender(p, s, a);
		if (src == NULL)
			return violation(p, "end %d: EOF/CLOSE for channel %u not open", s, a);
		if (src->close_sent)
			return violation(p, "end %d: %s after its CLOSE", s,
				type == SSH_MSG_CHANNEL_EOF ? "EOF" : "second CLOSE");
		if (type == SSH_MSG_CHANNEL_EOF) {
			if (src->eof_sent)
				return violation(p, "end %d: second EOF", s);
			src->eof_sent = true;
		} else {
			src->close_sent = true;
			if (src->close_rcvd)
				src->in_use = false;
		}
		break;
	}
	case SSH_MSG_CHANNEL_REQUEST:
	case SSH_MSG_CHANNEL_SUCCESS:
	case SSH_MSG_CHANNEL_FAILURE: {
		if (sshrpc_rd_u32(&rd, &a))
			return violation(p, "end %d: malformed channel message", s);
		struct tp_chan *src = ck_sender(p, s, a);
		if (src == NULL)
			return violation(p, "end %d: request/reply for channel %u not open", s, a);
		if (src->close_sent)
			return violation(p, "end %d: request/reply after its CLOSE", s);
		break;
	}
	default:
		break;
	}
}

/* Ids come free at an end when it has sent and received CLOSE, or when the
 * refusal of its open reaches it. */
static void check_delivered(struct tp_pipe *p, int r, const uint8_t *m, size_t len)
{
	sshrpc_reader rd;
	sshrpc_rd_init(&rd, m, len);
	uint8_t type;
	uint32_t a;
	if (sshrpc_rd_u8(&rd, &type) || sshrpc_rd_u32(&rd, &a))
		return;
	struct tp_chan *c = ck(p, r, a);
	if (c == NULL)
		return;
	if (type == SSH_MSG_CHANNEL_OPEN_FAILURE && c->in_use && c->pending)
		c->in_use = false;
	if (type == SSH_MSG_CHANNEL_CLOSE && c->in_use && !c->pending) {
		c->close_rcvd = true;
		if (c->close_sent)
			c->in_use = false;
	}
}

/* ---- the msg_io ---------------------------------------------------------- */

static int e_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	struct tp_end *e = ctx;
	struct tp_pipe *p = e->pipe;
	free(e->cur);
	e->cur = NULL;
	struct tp_msg m;
	if (!q_pop(&p->q[e->side], &m)) {
		struct tp_end *peer = &p->end[1 - e->side];
		if (peer->disconnected) {
			sshrpc_err_set(
				&e->err, SSHRPC_E_CLOSED, peer->disc_reason, "peer disconnected: %s", peer->disc_msg);
			return SSHRPC_E_CLOSED;
		}
		return SSHRPC_E_AGAIN;
	}
	if (p->check)
		check_delivered(p, e->side, m.p, m.len);
	e->cur = m.p;
	*msg = m.p;
	*len = m.len;
	return SSHRPC_OK;
}

static int e_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	struct tp_end *e = ctx;
	cr_assert(!e->building, "begin while a message is open");
	if (e->block_all)
		return SSHRPC_E_WOULDBLOCK;
	if (e->block_data && (type == SSH_MSG_CHANNEL_DATA || type == SSH_MSG_CHANNEL_EXTENDED_DATA))
		return SSHRPC_E_WOULDBLOCK;
	sshrpc_buf_reset(&e->out);
	cr_assert_eq(sshrpc_buf_put_u8(&e->out, type), SSHRPC_OK);
	e->out_type = type;
	e->building = true;
	*w = &e->out;
	return SSHRPC_OK;
}

static int e_end(void *ctx)
{
	struct tp_end *e = ctx;
	struct tp_pipe *p = e->pipe;
	cr_assert(e->building, "end without begin");
	e->building = false;
	if (e->disconnected)
		return SSHRPC_E_CLOSED;
	if (p->check)
		check_sent(p, e->side, sshrpc_buf_ptr(&e->out), sshrpc_buf_len(&e->out));
	q_push(&p->q[1 - e->side], sshrpc_buf_ptr(&e->out), sshrpc_buf_len(&e->out));
	e->msgs_sent++;
	return SSHRPC_OK;
}

static int e_disconnect(void *ctx, uint32_t reason, const char *description)
{
	struct tp_end *e = ctx;
	if (!e->disconnected) {
		e->disconnected = true;
		e->disc_reason = reason;
		snprintf(e->disc_msg, sizeof e->disc_msg, "%s", description);
	}
	return SSHRPC_OK;
}

static const sshrpc_err *e_error(void *ctx)
{
	struct tp_end *e = ctx;
	return &e->err;
}

void tp_init(struct tp_pipe *p)
{
	memset(p, 0, sizeof *p);
	p->check = true;
	for (int i = 0; i < 2; i++) {
		p->end[i].pipe = p;
		p->end[i].side = i;
		sshrpc_buf_init(&p->end[i].out, NULL, 0);
	}
}

void tp_free(struct tp_pipe *p)
{
	for (int i = 0; i < 2; i++) {
		tp_drain(p, i);
		free(p->q[i].v);
		free(p->end[i].cur);
		sshrpc_buf_free(&p->end[i].out);
	}
}

sshrpc_msg_io tp_io(struct tp_pipe *p, int side)
{
	return (sshrpc_msg_io){
		.ctx = &p->end[side],
		.recv = e_recv,
		.begin = e_begin,
		.end = e_end,
		.disconnect = e_disconnect,
		.error = e_error,
	};
}

void tp_inject(struct tp_pipe *p, int side, const void *msg, size_t len)
{
	q_push(&p->q[side], msg, len);
}

size_t tp_pending(const struct tp_pipe *p, int side)
{
	return p->q[side].n;
}

void tp_drain(struct tp_pipe *p, int side)
{
	struct tp_msg m;
	while (q_pop(&p->q[side], &m))
		free(m.p);
}

int tp_pump(struct tp_pipe *p, sshrpc_conn *client, sshrpc_conn *server, uint64_t now_ms)
{
	sshrpc_conn *cs[2] = { client, server };
	for (int round = 1; round < 1000000; round++) {
		for (int i = 0; i < 2; i++) {
			if (cs[i] == NULL)
				continue;
			if (sshrpc_conn_is_dead(cs[i]))
				tp_drain(p, i);
			else if (sshrpc_conn_process(cs[i], now_ms) < 0)
				tp_drain(p, i);
		}
		if (tp_pending(p, 0) == 0 && tp_pending(p, 1) == 0)
			return round;
	}
	cr_assert_fail("the two ends did not settle");
	return -1;
}

/* ---- data streams ---------------------------------------------------------- */

void tp_gen_fill(uint32_t s, uint64_t k, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = tp_gen(s, k + i);
}

size_t tp_gen_check(uint32_t s, uint64_t k, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != tp_gen(s, k + i))
			return i;
	return n;
}

/* ---- counting allocator ------------------------------------------------------ */

static void *counting_realloc(void *ud, void *p, size_t old, size_t new_size)
{
	struct tp_counting *c = ud;
	if (new_size == 0) {
		c->live -= old;
		free(p);
		return NULL;
	}
	if (c->fail_after == 0)
		return NULL;
	if (c->fail_after > 0)
		c->fail_after--;
	void *q = realloc(p, new_size);
	if (q != NULL) {
		c->live = c->live - old + new_size;
		if (c->live > c->peak)
			c->peak = c->live;
	}
	return q;
}

void tp_counting_init(struct tp_counting *c)
{
	memset(c, 0, sizeof *c);
	c->a.realloc_fn = counting_realloc;
	c->a.ud = c;
	c->fail_after = -1;
}

/* ---- message builder ---------------------------------------------------------- */

/* fmt: 'u' uint32, 'b' boolean (int), 's' C string as an SSH string,
 * 'S' string from (const void *, size_t), 'r' raw bytes (const void *, size_t). */
size_t tp_build(uint8_t *out, size_t cap, uint8_t type, const char *fmt, ...)
{
	sshrpc_buf b;
	sshrpc_buf_init_fixed(&b, out, cap);
	int rc = sshrpc_buf_put_u8(&b, type);
	va_list ap;
	va_start(ap, fmt);
	for (const char *f = fmt; *f && rc == SSHRPC_OK; f++) {
		switch (*f) {
		case 'u':
			rc = sshrpc_buf_put_u32(&b, va_arg(ap, uint32_t));
			break;
		case 'b':
			rc = sshrpc_buf_put_bool(&b, va_arg(ap, int) != 0);
			break;
		case 's':
			rc = sshrpc_buf_put_cstring(&b, va_arg(ap, const char *));
			break;
		case 'S': {
			const void *q = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = sshrpc_buf_put_string(&b, q, n);
			break;
		}
		case 'r': {
			const void *q = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);
			rc = sshrpc_buf_put(&b, q, n);
			break;
		}
		default:
			cr_assert_fail("bad tp_build format");
		}
	}
	va_end(ap);
	cr_assert_eq(rc, SSHRPC_OK, "tp_build overflow");
	return sshrpc_buf_len(&b);
}

/* ---- worlds ------------------------------------------------------------------ */

void tp_world_init(struct tp_world *w, sshrpc_conn_cfg *ccfg, sshrpc_conn_cfg *scfg)
{
	w->pipe = malloc(sizeof *w->pipe);
	cr_assert_not_null(w->pipe);
	tp_init(w->pipe);
	ccfg->role = SSHRPC_CONN_CLIENT;
	scfg->role = SSHRPC_CONN_SERVER;
	sshrpc_msg_io ci = tp_io(w->pipe, 0), si = tp_io(w->pipe, 1);
	cr_assert_eq(sshrpc_conn_new(ccfg, &ci, &w->cli), SSHRPC_OK);
	cr_assert_eq(sshrpc_conn_new(scfg, &si, &w->srv), SSHRPC_OK);
}

void tp_world_free(struct tp_world *w)
{
	sshrpc_conn_free(w->cli);
	sshrpc_conn_free(w->srv);
	tp_free(w->pipe);
	free(w->pipe);
}

int tp_world_pump(struct tp_world *w)
{
	return tp_pump(w->pipe, w->cli, w->srv, 0);
}

bool tp_take(struct tp_pipe *p, int side, uint8_t **msg, size_t *len)
{
	struct tp_msg m;
	if (!q_pop(&p->q[side], &m))
		return false;
	*msg = m.p;
	*len = m.len;
	return true;
}
