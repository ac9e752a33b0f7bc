/* Two sshrpc_msg_io ends joined in memory: what one end sends, the other
 * receives, in order. A DISCONNECT is recorded and closes both ends. Used
 * to wire the userauth client and server together without transport, and
 * to feed the server hand-made messages. */
#ifndef SSHRPC_FAKE_PIPE_H
#define SSHRPC_FAKE_PIPE_H

#include "sshrpc/msgio.h"

#define FP_QUEUE 512

typedef struct fp_end {
	struct fp_end *peer;
	uint8_t *q[FP_QUEUE];
	size_t ql[FP_QUEUE];
	size_t head, tail;
	uint8_t *cur; /* the message recv handed out last */
	sshrpc_buf out;
	bool closed;
	bool sent_disconnect;
	uint32_t disc_reason; /* of the DISCONNECT that closed the pipe */
	char disc_desc[256];
	unsigned sent; /* messages sent from this end */
	sshrpc_err err;
	sshrpc_msg_io io;
} fp_end;

void fp_pair(fp_end *a, fp_end *b);
void fp_free(fp_end *e);
/* Queues a hand-made message (type first) for e to receive. */
void fp_inject(fp_end *e, const void *msg, size_t len);
/* Takes the next message e's peer sent... i.e. what e would receive;
 * returns its length, 0 when none (caller frees *msg). */
size_t fp_take(fp_end *e, uint8_t **msg);
size_t fp_pending(const fp_end *e);

#endif
