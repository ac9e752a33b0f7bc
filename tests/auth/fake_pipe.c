#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_pipe.h"

static void push(fp_end *to, const uint8_t *p, size_t n)
{
	cr_assert_lt(to->tail - to->head, (size_t)FP_QUEUE, "fake pipe queue full");
	uint8_t *c = malloc(n == 0 ? 1 : n);
	memcpy(c, p, n);
	to->q[to->tail % FP_QUEUE] = c;
	to->ql[to->tail % FP_QUEUE] = n;
	to->tail++;
}

static int fp_recv(void *ctx, const uint8_t **msg, size_t *len)
{
	fp_end *e = ctx;
	free(e->cur);
	e->cur = NULL;
	if (e->head == e->tail) {
		if (e->closed)
			return sshrpc_err_set(
				&e->err, SSHRPC_E_CLOSED, e->disc_reason, "disconnected: %s", e->disc_desc);
		return SSHRPC_E_AGAIN;
	}
	e->cur = e->q[e->head % FP_QUEUE];
	*msg = e->cur;
	*len = e->ql[e->head % FP_QUEUE];
	e->head++;
	return SSHRPC_OK;
}

static int fp_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	fp_end *e = ctx;
	if (e->closed)
		return SSHRPC_E_CLOSED;
	sshrpc_buf_reset(&e->out);
	int rc = sshrpc_buf_put_u8(&e->out, type);
	*w = &e->out;
	return rc;
}

static int fp_end_msg(void *ctx)
{
	fp_end *e = ctx;
	if (e->closed)
		return SSHRPC_E_CLOSED;
	push(e->peer, sshrpc_buf_ptr(&e->out), sshrpc_buf_len(&e->out));
	e->sent++;
	return SSHRPC_OK;
}

static int fp_disconnect(void *ctx, uint32_t reason, const char *description)
{
	fp_end *e = ctx;
	if (e->closed)
		return SSHRPC_OK;
	e->sent_disconnect = true;
	e->closed = e->peer->closed = true;
	e->disc_reason = e->peer->disc_reason = reason;
	snprintf(e->disc_desc, sizeof e->disc_desc, "%s", description);
	snprintf(e->peer->disc_desc, sizeof e->peer->disc_desc, "%s", description);
	return SSHRPC_OK;
}

static const sshrpc_err *fp_error(void *ctx)
{
	fp_end *e = ctx;
	return &e->err;
}

static void init_end(fp_end *e, fp_end *peer)
{
	memset(e, 0, sizeof *e);
	e->peer = peer;
	sshrpc_buf_init(&e->out, NULL, 1 << 20);
	sshrpc_err_clear(&e->err);
	e->io.ctx = e;
	e->io.recv = fp_recv;
	e->io.begin = fp_begin;
	e->io.end = fp_end_msg;
	e->io.disconnect = fp_disconnect;
	e->io.error = fp_error;
}

void fp_pair(fp_end *a, fp_end *b)
{
	init_end(a, b);
	init_end(b, a);
}

void fp_free(fp_end *e)
{
	free(e->cur);
	e->cur = NULL;
	while (e->head != e->tail)
		free(e->q[e->head++ % FP_QUEUE]);
	sshrpc_buf_free(&e->out);
}

void fp_inject(fp_end *e, const void *msg, size_t len)
{
	push(e, msg, len);
}

size_t fp_take(fp_end *e, uint8_t **msg)
{
	if (e->head == e->tail)
		return 0;
	*msg = e->q[e->head % FP_QUEUE];
	size_t n = e->ql[e->head % FP_QUEUE];
	e->head++;
	return n;
}

size_t fp_pending(const fp_end *e)
{
	return e->tail - e->head;
}
