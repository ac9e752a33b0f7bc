/* sshrpc connection/: the SSH Connection Protocol (RFC 4254) in both roles —
 * a channel table, exact flow control, channel and global requests and
 * keepalives — as a sans-I/O state machine over the sshrpc_msg_io that the
 * auth layer offers once authentication succeeded.
 *
 * The caller drives it:
 *   - sshrpc_conn_process(c, now_ms) whenever the layer below may have a
 *     message; it drains them and reports what happened as events through
 *     the configuration's callback;
 *   - sshrpc_conn_tick(c, now_ms) at sshrpc_conn_next_deadline(c) for the
 *     keepalive probes;
 *   - the sshrpc_chan_* calls to open channels, send requests and data,
 *     read, send EOF and close, from anywhere (an event callback included).
 *
 * Channel ids given to the application are always our (local) ids; the
 * peer's ids are kept apart inside (sshrpc_chan_info shows both).
 *
 * Life of a channel, as the application sees it:
 *   - opened by us: sshrpc_chan_open* returns an id at once; the channel ends
 *     with exactly one of SSHRPC_CONN_EV_OPEN_FAILED or SSHRPC_CONN_EV_CLOSE;
 *   - opened by the peer: SSHRPC_CONN_EV_CHANNEL_OPEN; the application calls
 *     sshrpc_chan_accept (then the channel ends with SSHRPC_CONN_EV_CLOSE) or
 *     sshrpc_chan_reject (and hears no more of it);
 *   - after SSHRPC_CONN_EV_CLOSE (both CLOSE messages exchanged) the id is
 *     free and may be reused by a later open.
 */
#ifndef SSHRPC_CONNECTION_H
#define SSHRPC_CONNECTION_H

#include <stdbool.h>

#include "sshrpc/msgio.h"

typedef struct sshrpc_conn sshrpc_conn;

/* Defaults (RFC 4254 leaves them to the implementation): large enough to
 * reach full speed on a local link. */
#define SSHRPC_CONN_DEFAULT_WINDOW (2u * 1024 * 1024)
#define SSHRPC_CONN_DEFAULT_MAX_PACKET (32u * 1024)
#define SSHRPC_CONN_DEFAULT_MAX_CHANNELS 64u /* OpenSSH's MaxSessions default */
#define SSHRPC_CONN_DEFAULT_SEND_QUEUE ((size_t)256 * 1024)
#define SSHRPC_CONN_DEFAULT_ALIVE_COUNT_MAX 3u
/* The largest maximum packet size we advertise: the transport accepts
 * packets of 256 KiB (architecture.md, "Data path"), and a data message adds
 * its own header. */
#define SSHRPC_CONN_MAX_PACKET_LIMIT (256u * 1024 - 1024)
/* Requests awaiting a reply, per channel and per connection, each way. */
#define SSHRPC_CONN_MAX_PENDING_REPLIES 32u

enum sshrpc_conn_role {
	SSHRPC_CONN_CLIENT = 0,
	SSHRPC_CONN_SERVER = 1,
};

/* RFC 4254 §5.1 reason codes of SSH_MSG_CHANNEL_OPEN_FAILURE. */
enum sshrpc_open_failure {
	SSH_OPEN_ADMINISTRATIVELY_PROHIBITED = 1,
	SSH_OPEN_CONNECT_FAILED = 2,
	SSH_OPEN_UNKNOWN_CHANNEL_TYPE = 3,
	SSH_OPEN_RESOURCE_SHORTAGE = 4,
};

/* RFC 4254 §5.2 data_type_code of SSH_MSG_CHANNEL_EXTENDED_DATA. */
#define SSH_EXTENDED_DATA_STDERR 1u

/* Streams of a channel, as the read calls and data events name them. */
enum sshrpc_chan_stream {
	SSHRPC_CHAN_STDOUT = 0, /* SSH_MSG_CHANNEL_DATA */
	SSHRPC_CHAN_STDERR = 1, /* SSH_MSG_CHANNEL_EXTENDED_DATA, code 1 */
};

/* Channel requests this layer knows by name (RFC 4254 §6, OpenSSH
 * PROTOCOL §2.1). */
enum sshrpc_req_kind {
	SSHRPC_REQ_OTHER = 0,
	SSHRPC_REQ_PTY,		  /* "pty-req" */
	SSHRPC_REQ_X11,		  /* "x11-req" */
	SSHRPC_REQ_ENV,		  /* "env" */
	SSHRPC_REQ_SHELL,	  /* "shell" */
	SSHRPC_REQ_EXEC,	  /* "exec" */
	SSHRPC_REQ_SUBSYSTEM,	  /* "subsystem" */
	SSHRPC_REQ_WINDOW_CHANGE, /* "window-change" */
	SSHRPC_REQ_XON_XOFF,	  /* "xon-xoff" */
	SSHRPC_REQ_SIGNAL,	  /* "signal" */
	SSHRPC_REQ_EXIT_STATUS,	  /* "exit-status" */
	SSHRPC_REQ_EXIT_SIGNAL,	  /* "exit-signal" */
	SSHRPC_REQ_EOW,		  /* "eow@openssh.com" */
	SSHRPC_REQ_KEEPALIVE,	  /* "keepalive@openssh.com" */
};
/* The request name of a kind ("exec"); NULL for SSHRPC_REQ_OTHER. */
const char *sshrpc_req_name(int kind);

/* ---- configuration ------------------------------------------------------- */

typedef struct sshrpc_conn_event sshrpc_conn_event;
/* Events are reported synchronously from sshrpc_conn_process. The callback
 * may call any sshrpc_chan_* / sshrpc_conn_* function except
 * sshrpc_conn_free. */
typedef void (*sshrpc_conn_event_fn)(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev);

typedef struct sshrpc_conn_cfg {
	int role;		   /* enum sshrpc_conn_role */
	const sshrpc_alloc *alloc; /* NULL: sshrpc_alloc_default() */
	sshrpc_conn_event_fn on_event;
	void *event_ud;
	sshrpc_log_fn log; /* optional */
	void *log_ud;
	int log_level; /* enum sshrpc_log_level; 0 logs nothing */

	/* MaxSessions: channels open at once (ours and the peer's, any state
	 * until both CLOSEs). 0: SSHRPC_CONN_DEFAULT_MAX_CHANNELS. */
	uint32_t max_channels;
	/* Our receive window per channel, initial and kept (RFC 4254 §5.2).
	 * 0: SSHRPC_CONN_DEFAULT_WINDOW. */
	uint32_t window;
	/* Our maximum packet size (data bytes in one message). 0: default;
	 * clamped to SSHRPC_CONN_MAX_PACKET_LIMIT. */
	uint32_t max_packet;
	/* Bytes a channel queues beyond what the peer's window lets us send
	 * now, before writes report SSHRPC_E_WOULDBLOCK. 0: default. */
	size_t send_queue;

	/* Channel types and global requests refused unless enabled here
	 * (RFC 4254 §7): when enabled they reach the application as events. */
	bool allow_direct_tcpip;    /* "direct-tcpip" opens (server role) */
	bool allow_forwarded_tcpip; /* "forwarded-tcpip" opens (client role) */
	bool allow_tcpip_forward;   /* "tcpip-forward", "cancel-tcpip-forward" */

	/* ClientAliveInterval / ServerAliveInterval: after this long without a
	 * message from the peer, send keepalive@openssh.com; after
	 * alive_count_max probes without an answer, the peer is dead. 0 off. */
	uint32_t alive_interval_ms;
	uint32_t alive_count_max; /* 0: SSHRPC_CONN_DEFAULT_ALIVE_COUNT_MAX */
} sshrpc_conn_cfg;

/* ---- events ---------------------------------------------------------------- */

enum sshrpc_conn_event_type {
	/* The peer asks to open a channel. Answer with sshrpc_chan_accept or
	 * sshrpc_chan_reject, in the callback or later. */
	SSHRPC_CONN_EV_CHANNEL_OPEN = 1,
	/* Our open was confirmed. */
	SSHRPC_CONN_EV_OPENED,
	/* Our open was refused; the id is free again after this event. */
	SSHRPC_CONN_EV_OPEN_FAILED,
	/* A channel request the application decides (exec, shell, subsystem,
	 * env, pty-req, window-change, signal). When want_reply, answer with
	 * sshrpc_chan_reply, in the callback or later: replies go out in the
	 * order of the requests (RFC 4254 §5.4). */
	SSHRPC_CONN_EV_REQUEST,
	/* The peer answered one of our requests sent with want_reply. */
	SSHRPC_CONN_EV_REQUEST_REPLY,
	/* Data arrived (or is still unread). Set ev->u.data.consumed to the
	 * number of bytes taken; the rest stays buffered for sshrpc_chan_read
	 * and the peer's window grows only as bytes are consumed. */
	SSHRPC_CONN_EV_DATA,
	/* A write that reported SSHRPC_E_WOULDBLOCK may be retried: the peer's
	 * window opened and the send queue drained. */
	SSHRPC_CONN_EV_WRITABLE,
	/* The peer sent EOF: no more data comes (buffered bytes stay readable). */
	SSHRPC_CONN_EV_EOF,
	/* exit-status / exit-signal (RFC 4254 §6.10); also kept for the close
	 * event. */
	SSHRPC_CONN_EV_EXIT_STATUS,
	SSHRPC_CONN_EV_EXIT_SIGNAL,
	/* eow@openssh.com: the peer stopped reading; writes now fail with
	 * SSHRPC_E_CLOSED and queued data is dropped. */
	SSHRPC_CONN_EV_EOW,
	/* Both CLOSE messages were exchanged (or the connection is being
	 * freed: aborted). The id is invalid after this event. */
	SSHRPC_CONN_EV_CLOSE,
	/* A global request the application decides (tcpip-forward,
	 * cancel-tcpip-forward when enabled). Answer with sshrpc_conn_global_reply
	 * when want_reply. */
	SSHRPC_CONN_EV_GLOBAL_REQUEST,
	/* The answer to one of our global requests sent with want_reply. */
	SSHRPC_CONN_EV_GLOBAL_REPLY,
};

/* Strings borrowed from the peer's message are (pointer, length), not
 * NUL-terminated, valid during the callback only. */
struct sshrpc_conn_event {
	int type;	/* enum sshrpc_conn_event_type */
	uint32_t id;	/* local channel id (channel events) */
	void *userdata; /* the channel's user data */
	union {
		struct {
			const char *type; /* "session", "direct-tcpip", ... */
			size_t type_len;
			uint32_t window, max_packet;
			const uint8_t *extra; /* type-specific data, RFC 4254 §7.2 */
			size_t extra_len;
		} open;
		struct {
			uint32_t reason; /* enum sshrpc_open_failure */
			const char *description;
			size_t description_len;
		} open_failed;
		struct {
			int kind; /* enum sshrpc_req_kind */
			const char *name;
			size_t name_len;
			bool want_reply;
			const uint8_t *extra; /* everything after want_reply */
			size_t extra_len;
			/* exec: command; subsystem: name; env: name = value;
			 * signal: name (without "SIG"); pty-req: term. */
			const char *str, *value;
			size_t str_len, value_len;
			/* pty-req, window-change (RFC 4254 §6.2, §6.7) */
			uint32_t cols, rows, width_px, height_px;
			const uint8_t *modes; /* pty-req encoded terminal modes */
			size_t modes_len;
		} request;
		struct {
			int kind; /* the request answered */
			bool success;
		} reply;
		struct {
			int stream; /* enum sshrpc_chan_stream */
			const uint8_t *p;
			size_t len;
			size_t consumed; /* set by the callback; starts at 0 */
		} data;
		struct {
			uint32_t status;
		} exit_status;
		struct {
			const char *signal; /* without "SIG" */
			size_t signal_len;
			bool core_dumped;
			const char *message;
			size_t message_len;
		} exit_signal;
		struct {
			bool by_peer; /* the peer sent CLOSE first */
			bool aborted; /* connection freed, no CLOSE exchanged */
			bool has_exit_status, has_exit_signal;
			uint32_t exit_status;
		} close;
		struct {
			const char *name;
			size_t name_len;
			bool want_reply;
			const uint8_t *extra;
			size_t extra_len;
		} global;
		struct {
			bool success;
			const uint8_t *extra; /* response-specific data */
			size_t extra_len;
		} global_reply;
	} u;
};

/* ---- the connection ----------------------------------------------------- */

/* lower is copied; its ctx must outlive the connection. */
SSHRPC_MUST_USE int sshrpc_conn_new(const sshrpc_conn_cfg *cfg, const sshrpc_msg_io *lower, sshrpc_conn **out);
/* Frees every channel (reporting SSHRPC_CONN_EV_CLOSE with aborted set to
 * each open one, so that user data can be released) and the connection. */
void sshrpc_conn_free(sshrpc_conn *c);

/* Reads every message the layer below has and handles it. SSHRPC_OK when
 * the lower layer has no more for now; a negative status when the
 * connection ended (see sshrpc_conn_error): a peer's breach of RFC 4254 has
 * already been answered with SSH_MSG_DISCONNECT through the lower layer. */
SSHRPC_MUST_USE int sshrpc_conn_process(sshrpc_conn *c, uint64_t now_ms);
/* Runs the keepalive timer. SSHRPC_E_TIMEOUT when the peer left
 * alive_count_max probes unanswered (the connection is then dead). */
SSHRPC_MUST_USE int sshrpc_conn_tick(sshrpc_conn *c, uint64_t now_ms);
/* When sshrpc_conn_tick wants to run next; UINT64_MAX when never. */
uint64_t sshrpc_conn_next_deadline(const sshrpc_conn *c);
/* Retries output the layer below refused with SSHRPC_E_WOULDBLOCK (the
 * transport does so while its output is full or a key exchange runs):
 * meanwhile data waits in the channels' queues and every other message in
 * a bounded backlog, in order. sshrpc_conn_process does this first too;
 * a driver calls it after it drained the transport's output. It may
 * report SSHRPC_CONN_EV_WRITABLE. */
SSHRPC_MUST_USE int sshrpc_conn_flush(sshrpc_conn *c);
/* Ends the connection from our side (SSH_MSG_DISCONNECT below). */
int sshrpc_conn_disconnect(sshrpc_conn *c, uint32_t reason, const char *description);
/* The error that ended the connection (ours or the lower layer's); NULL
 * while it is alive. */
const sshrpc_err *sshrpc_conn_error(const sshrpc_conn *c);
bool sshrpc_conn_is_dead(const sshrpc_conn *c);
/* Channels in use (any state until both CLOSEs). */
uint32_t sshrpc_conn_channel_count(const sshrpc_conn *c);

/* Global requests (RFC 4254 §4). extra is the request-specific data. With
 * want_reply, the answer arrives as SSHRPC_CONN_EV_GLOBAL_REPLY. */
SSHRPC_MUST_USE int sshrpc_conn_global_request(
	sshrpc_conn *c, const char *name, bool want_reply, const uint8_t *extra, size_t extra_len);
/* Answers the oldest SSHRPC_CONN_EV_GLOBAL_REQUEST still unanswered; extra
 * (at most 64 bytes, e.g. the bound port of tcpip-forward) goes with a
 * success. */
SSHRPC_MUST_USE int sshrpc_conn_global_reply(sshrpc_conn *c, bool success, const uint8_t *extra, size_t extra_len);
/* Client: no-more-sessions@openssh.com (OpenSSH PROTOCOL §2.2); our own later
 * session opens then fail with SSHRPC_E_STATE. */
SSHRPC_MUST_USE int sshrpc_conn_no_more_sessions(sshrpc_conn *c);

/* ---- channels: opening --------------------------------------------------- */

/* Opens a "session" channel (RFC 4254 §6.1). *id is usable at once:
 * requests, writes, EOF and close made before the confirmation wait in
 * order and go out when it arrives. */
SSHRPC_MUST_USE int sshrpc_chan_open_session(sshrpc_conn *c, void *userdata, uint32_t *id);
/* Any channel type; extra is the type-specific data (RFC 4254 §7.2). */
SSHRPC_MUST_USE int sshrpc_chan_open(
	sshrpc_conn *c, const char *type, const uint8_t *extra, size_t extra_len, void *userdata, uint32_t *id);
/* Answers SSHRPC_CONN_EV_CHANNEL_OPEN. */
SSHRPC_MUST_USE int sshrpc_chan_accept(sshrpc_conn *c, uint32_t id, void *userdata);
SSHRPC_MUST_USE int sshrpc_chan_reject(sshrpc_conn *c, uint32_t id, uint32_t reason, const char *description);

void *sshrpc_chan_userdata(const sshrpc_conn *c, uint32_t id);
SSHRPC_MUST_USE int sshrpc_chan_set_userdata(sshrpc_conn *c, uint32_t id, void *userdata);

/* ---- channels: requests --------------------------------------------------- */

/* A channel request (RFC 4254 §5.4) with request-specific data. With
 * want_reply the answer arrives as SSHRPC_CONN_EV_REQUEST_REPLY. */
SSHRPC_MUST_USE int sshrpc_chan_request(
	sshrpc_conn *c, uint32_t id, const char *name, bool want_reply, const uint8_t *extra, size_t extra_len);
SSHRPC_MUST_USE int sshrpc_chan_exec(sshrpc_conn *c, uint32_t id, const char *command, size_t len, bool want_reply);
SSHRPC_MUST_USE int sshrpc_chan_shell(sshrpc_conn *c, uint32_t id, bool want_reply);
SSHRPC_MUST_USE int sshrpc_chan_subsystem(sshrpc_conn *c, uint32_t id, const char *name, bool want_reply);
SSHRPC_MUST_USE int sshrpc_chan_env(sshrpc_conn *c, uint32_t id, const char *name, const char *value, bool want_reply);
SSHRPC_MUST_USE int sshrpc_chan_pty(sshrpc_conn *c, uint32_t id, const char *term, uint32_t cols, uint32_t rows,
	uint32_t width_px, uint32_t height_px, const uint8_t *modes, size_t modes_len, bool want_reply);
SSHRPC_MUST_USE int sshrpc_chan_window_change(
	sshrpc_conn *c, uint32_t id, uint32_t cols, uint32_t rows, uint32_t width_px, uint32_t height_px);
SSHRPC_MUST_USE int sshrpc_chan_signal(sshrpc_conn *c, uint32_t id, const char *name);
SSHRPC_MUST_USE int sshrpc_chan_exit_status(sshrpc_conn *c, uint32_t id, uint32_t status);
SSHRPC_MUST_USE int sshrpc_chan_exit_signal(
	sshrpc_conn *c, uint32_t id, const char *signal, bool core_dumped, const char *message);
/* eow@openssh.com: we stopped reading (OpenSSH PROTOCOL §2.1). */
SSHRPC_MUST_USE int sshrpc_chan_eow(sshrpc_conn *c, uint32_t id);
/* Answers the oldest SSHRPC_CONN_EV_REQUEST of the channel still
 * unanswered. During the event of a request that wants no reply it does
 * nothing. Answers still owed when the channel closes are dropped (after
 * SSHRPC_CONN_EV_CLOSE the id may name a new channel). */
SSHRPC_MUST_USE int sshrpc_chan_reply(sshrpc_conn *c, uint32_t id, bool success);

/* ---- channels: data ---------------------------------------------------- */

/* Sends what the peer's window and maximum packet size allow, queues the
 * rest up to the configured bound. *written is what was sent or queued;
 * SSHRPC_E_WOULDBLOCK when that is less than n (SSHRPC_CONN_EV_WRITABLE
 * follows once there is room). */
SSHRPC_MUST_USE int sshrpc_chan_write(sshrpc_conn *c, uint32_t id, const void *p, size_t n, size_t *written);
/* Extended data (RFC 4254 §5.2); code SSH_EXTENDED_DATA_STDERR for stderr. */
SSHRPC_MUST_USE int sshrpc_chan_write_ext(
	sshrpc_conn *c, uint32_t id, uint32_t code, const void *p, size_t n, size_t *written);
/* Zero-copy send: *p points into the outgoing packet for at most *avail
 * bytes (the least of want, the peer's window and maximum packet size);
 * sshrpc_chan_write_end sends the first n of them (n <= *avail). Only when
 * nothing is queued; SSHRPC_E_WOULDBLOCK otherwise (or when the window is
 * closed). Nothing else may be sent on the connection in between. */
SSHRPC_MUST_USE int sshrpc_chan_write_begin(sshrpc_conn *c, uint32_t id, size_t want, uint8_t **p, size_t *avail);
/* n may be less than *avail, 0 included (an empty data message goes out:
 * the layer below cannot cancel a begun message). */
SSHRPC_MUST_USE int sshrpc_chan_write_end(sshrpc_conn *c, uint32_t id, size_t n);

/* Buffered bytes of a stream (those data events left unconsumed). */
size_t sshrpc_chan_readable(const sshrpc_conn *c, uint32_t id, int stream);
/* Copies up to cap buffered bytes out and consumes them (the window grows
 * accordingly). SSHRPC_E_AGAIN when none are buffered and the stream is
 * still open, SSHRPC_E_CLOSED when none are buffered after EOF. */
SSHRPC_MUST_USE int sshrpc_chan_read(sshrpc_conn *c, uint32_t id, int stream, void *buf, size_t cap, size_t *n);
/* Zero-copy read: the buffered bytes in place; then consume n of them. */
SSHRPC_MUST_USE int sshrpc_chan_peek(const sshrpc_conn *c, uint32_t id, int stream, const uint8_t **p, size_t *len);
SSHRPC_MUST_USE int sshrpc_chan_consume(sshrpc_conn *c, uint32_t id, int stream, size_t n);

/* EOF (RFC 4254 §5.3): no more data from us; sent after queued data. */
SSHRPC_MUST_USE int sshrpc_chan_eof(sshrpc_conn *c, uint32_t id);
/* CLOSE after queued data and requests; the channel lives until the peer's
 * CLOSE (SSHRPC_CONN_EV_CLOSE). */
SSHRPC_MUST_USE int sshrpc_chan_close(sshrpc_conn *c, uint32_t id);
/* CLOSE now, dropping whatever is queued. */
SSHRPC_MUST_USE int sshrpc_chan_abort(sshrpc_conn *c, uint32_t id);

/* ---- channels: state --------------------------------------------------- */

enum sshrpc_chan_state {
	SSHRPC_CHAN_FREE = 0,
	SSHRPC_CHAN_OPENING,	  /* we sent OPEN, no answer yet */
	SSHRPC_CHAN_PEER_OPENING, /* the peer sent OPEN, the application decides */
	SSHRPC_CHAN_OPEN,
	SSHRPC_CHAN_CLOSING, /* we sent CLOSE, the peer's has not arrived */
};

/* Flow-control and state figures of a channel (for tests, logs and
 * researchers sweeping window settings). */
typedef struct sshrpc_chan_info {
	int state; /* enum sshrpc_chan_state */
	uint32_t local_id, remote_id;
	uint32_t local_window; /* what the peer may still send us */
	uint32_t local_max_packet;
	uint32_t remote_window; /* what we may still send */
	uint32_t remote_max_packet;
	size_t queued;	    /* data bytes waiting for the peer's window */
	size_t readable[2]; /* buffered, unconsumed bytes per stream */
	bool eof_sent, eof_received, close_sent, close_received, eow_received;
	uint64_t bytes_sent, bytes_received;
	uint64_t window_stalls; /* times data waited for the peer's window */
} sshrpc_chan_info;

SSHRPC_MUST_USE int sshrpc_chan_get_info(const sshrpc_conn *c, uint32_t id, sshrpc_chan_info *info);

#endif
