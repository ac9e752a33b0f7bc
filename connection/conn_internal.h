/* Internals shared by the files of connection/. Not installed. */
#ifndef SSHRPC_CONN_INTERNAL_H
#define SSHRPC_CONN_INTERNAL_H

/* PRIu32 for uint32_t in messages: it is unsigned long, not unsigned, on
 * 32-bit targets such as arm-none-eabi. */
#include <inttypes.h>

#include "sshrpc/connection.h"

/* A ring of replies owed to the peer, in the order of its requests
 * (RFC 4254 §4 and §5.4 require that order). Bit i of the masks is the
 * entry (head + i) mod SSHRPC_CONN_MAX_PENDING_REPLIES. */
struct reply_ring {
	uint8_t head, count;
	uint32_t decided; /* the answer is known */
	uint32_t success; /* and it is SUCCESS */
};

/* A ring of what we asked with want_reply, to name the request its answer
 * belongs to. */
struct kind_ring {
	uint8_t head, count;
	uint8_t kind[SSHRPC_CONN_MAX_PENDING_REPLIES];
};

/* The send queue holds records [u8 kind][u32 code][u32 len][len bytes], in
 * the order the application issued them: data waits for the peer's window,
 * requests wait behind data and for the open confirmation. */
enum { QREC_DATA = 1, QREC_EXT = 2, QREC_REQUEST = 3 };
#define QREC_HDR 9u

struct chan {
	uint32_t id, remote_id;
	uint8_t state; /* enum sshrpc_chan_state */
	bool eof_sent, eof_rcvd, close_sent, close_rcvd, eow_rcvd;
	bool eof_pending, close_pending; /* after the queue drains */
	bool want_writable;		 /* a write reported WOULDBLOCK */
	bool is_session;
	bool in_data_cb;    /* a data event is being delivered */
	bool reply_ignored; /* the request being reported wants no reply */
	bool has_exit_status, has_exit_signal;
	uint32_t exit_status;

	uint32_t local_window;	/* credit the peer still has */
	uint32_t local_unacked; /* consumed, not yet credited back */
	uint32_t local_max_packet;
	uint32_t remote_window;
	uint32_t remote_max_packet;

	sshrpc_buf rx[2]; /* unconsumed stdout / stderr bytes */
	sshrpc_buf outq;
	size_t outq_data; /* data bytes in outq (bounded by send_queue) */
	size_t head_sent; /* payload bytes of the head record already sent */
	size_t tail_rec;  /* offset of the last record in outq, if any */
	bool has_tail;

	struct reply_ring replies; /* owed to the peer */
	struct kind_ring asked;	   /* our requests awaiting an answer */

	uint64_t bytes_sent, bytes_received, window_stalls;
	void *ud;
};

#define GREPLY_EXTRA_MAX 64u

struct global_reply {
	uint8_t state; /* 0 undecided, 1 failure, 2 success */
	uint8_t extra_len;
	uint8_t extra[GREPLY_EXTRA_MAX];
};

enum { GKIND_APP = 1, GKIND_KEEPALIVE = 2 };

struct sshrpc_conn {
	sshrpc_conn_cfg cfg;
	sshrpc_msg_io lower;
	const sshrpc_alloc *alloc;
	sshrpc_err err;
	bool dead;
	/* The layer below refused a message with SSHRPC_E_WOULDBLOCK (the
	 * transport bounds its output and what waits during a key exchange):
	 * data stays in the channels' queues, other messages wait in order in
	 * the backlog, as records [u32 length][type][payload]. */
	bool lower_blocked;
	sshrpc_buf backlog;
	bool in_backlog; /* the message being built goes to the backlog */
	size_t backlog_mark;
	bool no_more_sessions; /* received (server) or sent (client) */
	bool in_write_begin;
	bool greply_ignore; /* the global request being reported wants no reply */
	bool alive_armed;

	/* Channel table: slots[id] points to a channel or is NULL; free ids
	 * wait on a stack (lowest first after growth). */
	struct chan **slots;
	uint32_t cap, nchan;
	uint32_t *free_ids;
	uint32_t nfree;

	/* Global requests (RFC 4254 §4). */
	uint8_t greply_head, greply_count;
	struct global_reply greplies[16];
	struct kind_ring gasked;

	/* Keepalive (ClientAliveInterval / ServerAliveInterval). */
	uint64_t alive_deadline;
	uint32_t alive_missed;

	/* write_begin bookkeeping. */
	sshrpc_buf *wb_buf;
	size_t wb_mark, wb_start, wb_avail;
	uint32_t wb_id;
};

#define GREPLY_RING 16u

/* conn.c */
int conn_fatal(sshrpc_conn *c, int code, uint32_t reason, const char *fmt, ...) SSHRPC_PRINTF(4, 5);
int conn_lower_fail(sshrpc_conn *c, int rc);
void conn_emit(sshrpc_conn *c, sshrpc_conn_event *ev);
void conn_log(sshrpc_conn *c, int level, const char *fmt, ...) SSHRPC_PRINTF(3, 4);

/* table.c */
int table_init(sshrpc_conn *c);
void table_free(sshrpc_conn *c);
int table_alloc(sshrpc_conn *c, struct chan **out);
void table_release(sshrpc_conn *c, struct chan *ch);
struct chan *table_get(const sshrpc_conn *c, uint32_t id);

/* channel.c */
int chan_handle_open(sshrpc_conn *c, sshrpc_reader *r);
int chan_handle_open_confirmation(sshrpc_conn *c, sshrpc_reader *r);
int chan_handle_open_failure(sshrpc_conn *c, sshrpc_reader *r);
int chan_handle_eof(sshrpc_conn *c, sshrpc_reader *r);
int chan_handle_close(sshrpc_conn *c, sshrpc_reader *r);
/* The channel a peer's message names, in a state that takes it. */
int chan_lookup(sshrpc_conn *c, uint32_t id, const char *msg, struct chan **out);
/* Same, for messages only an open channel takes; 1: ignore it (our CLOSE
 * is out). */
int chan_lookup_open(sshrpc_conn *c, uint32_t id, uint8_t type, struct chan **out);
/* The channel an application call names, open or opening by us. */
int chan_api(sshrpc_conn *c, uint32_t id, struct chan **out);
const char *chan_state_name(int state);

/* data.c */
int data_handle(sshrpc_conn *c, sshrpc_reader *r, bool extended);
int data_handle_window_adjust(sshrpc_conn *c, sshrpc_reader *r);
/* Sends queued records as far as the window allows, then pending EOF and
 * CLOSE. */
int data_flush(sshrpc_conn *c, struct chan *ch);
/* Reports SSHRPC_CONN_EV_WRITABLE when a blocked writer may go on. */
int data_check_writable(sshrpc_conn *c, struct chan *ch);
/* Appends a record to the send queue: begin writes its header, the caller
 * appends the payload to ch->outq, end fills in its length (or, on
 * failure, removes it). */
int data_record_begin(struct chan *ch, uint8_t kind, uint32_t code, size_t *mark);
void data_record_end(struct chan *ch, size_t mark);
void data_record_cancel(struct chan *ch, size_t mark);
void data_drop_queue(struct chan *ch);
void data_free_buffers(struct chan *ch);
int data_maybe_adjust(sshrpc_conn *c, struct chan *ch);

/* request.c */
int req_handle(sshrpc_conn *c, sshrpc_reader *r);
int req_handle_reply(sshrpc_conn *c, sshrpc_reader *r, bool success);
/* Sends a queued request record's body (string name, bool want_reply,
 * extra). */
int req_send_queued(sshrpc_conn *c, struct chan *ch, const uint8_t *body, size_t len);

/* global.c */
int global_handle(sshrpc_conn *c, sshrpc_reader *r);
int global_handle_reply(sshrpc_conn *c, sshrpc_reader *r, bool success);
int global_send(sshrpc_conn *c, const char *name, bool want_reply, int kind, const uint8_t *extra, size_t extra_len);

/* Lower-layer helpers: begin a message, fail the connection on errors. */
int conn_begin(sshrpc_conn *c, uint8_t type, sshrpc_buf **w);
int conn_end(sshrpc_conn *c);
/* A message of one uint32 (recipient channel): EOF, CLOSE, SUCCESS, ... */
int conn_send_u32(sshrpc_conn *c, uint8_t type, uint32_t v);
int conn_build_fail(sshrpc_conn *c, uint8_t type, int rc);
const char *conn_msg_name(uint8_t type);

#endif
