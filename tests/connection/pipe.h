/* A pair of fake sshrpc_msg_io pipes joined in memory: what one end sends
 * (begin/end) the other receives (recv), message by message, in order.
 * Between them sits a checking peer that follows every channel's windows,
 * maximum packet sizes, EOF and CLOSE from the messages it sees and counts
 * every breach of RFC 4254 §5 by either end. Tests can also inject raw
 * messages that bypass the checker, and make an end's begin() report
 * SSHRPC_E_WOULDBLOCK for data. */
#ifndef TEST_CONN_PIPE_H
#define TEST_CONN_PIPE_H

#include <stdbool.h>

#include "sshrpc/connection.h"

#define TP_MAX_IDS 4096

struct tp_msg {
	uint8_t *p;
	size_t len;
};

struct tp_queue {
	struct tp_msg *v;
	size_t head, n, cap;
};

struct tp_end;

/* What the checker knows of one end's channel (indexed by that end's id). */
struct tp_chan {
	bool in_use, pending;
	uint32_t peer;	     /* the other end's id */
	uint64_t window;     /* what the other end may still send here */
	uint32_t max_packet; /* this end's advertised maximum */
	bool eof_sent, close_sent, close_rcvd;
};

struct tp_end {
	struct tp_pipe *pipe;
	int side;
	sshrpc_buf out;
	uint8_t out_type;
	bool building;
	uint8_t *cur; /* the message last handed out by recv */
	bool disconnected;
	uint32_t disc_reason;
	char disc_msg[256];
	sshrpc_err err;
	bool block_data; /* begin() of data messages reports WOULDBLOCK */
	bool block_all;	 /* begin() of any message reports WOULDBLOCK */
	uint64_t msgs_sent, data_msgs_sent;
	size_t max_data_len; /* largest data message payload sent */
};

struct tp_pipe {
	struct tp_end end[2]; /* 0: client, 1: server */
	struct tp_queue q[2]; /* q[i]: messages waiting for end i */
	struct tp_chan ck[2][TP_MAX_IDS];
	unsigned violations;
	char first_violation[256];
	bool check; /* run the checker (default on) */
};

void tp_init(struct tp_pipe *p);
void tp_free(struct tp_pipe *p);
sshrpc_msg_io tp_io(struct tp_pipe *p, int side);
/* Puts a raw message in front of end side's receiver, unchecked. */
void tp_inject(struct tp_pipe *p, int side, const void *msg, size_t len);
size_t tp_pending(const struct tp_pipe *p, int side);
/* Drops whatever waits for end side. */
void tp_drain(struct tp_pipe *p, int side);

/* Runs both ends until neither has anything more to read. Returns the
 * number of rounds; fails the test when it does not settle. */
int tp_pump(struct tp_pipe *p, sshrpc_conn *client, sshrpc_conn *server, uint64_t now_ms);

/* A deterministic byte stream per channel: byte k of stream s. */
static inline uint8_t tp_gen(uint32_t s, uint64_t k)
{
	uint64_t z = ((uint64_t)s << 40) ^ (k >> 3) ^ 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint8_t)(z >> ((k & 7) * 8));
}
void tp_gen_fill(uint32_t s, uint64_t k, uint8_t *out, size_t n);
/* Index of the first byte of p (stream s from k) that differs, or n. */
size_t tp_gen_check(uint32_t s, uint64_t k, const uint8_t *p, size_t n);

/* A counting allocator: live and peak bytes. */
struct tp_counting {
	sshrpc_alloc a;
	size_t live, peak;
	long fail_after; /* refuse the n-th allocation from now; <0 never */
};
void tp_counting_init(struct tp_counting *c);

/* A client and a server joined by a pipe. cfg roles are set here. */
struct tp_world {
	struct tp_pipe *pipe;
	sshrpc_conn *cli, *srv;
};
void tp_world_init(struct tp_world *w, sshrpc_conn_cfg *ccfg, sshrpc_conn_cfg *scfg);
void tp_world_free(struct tp_world *w);
int tp_world_pump(struct tp_world *w);

/* Takes the next message waiting for end side (the caller frees *msg). */
bool tp_take(struct tp_pipe *p, int side, uint8_t **msg, size_t *len);

/* Message builders for injected input. */
size_t tp_build(uint8_t *out, size_t cap, uint8_t type, const char *fmt, ...);

#endif
