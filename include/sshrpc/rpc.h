/* sshrpc rpc/: the RPC service of interface.md ("RPC wire format",
 * "Modes", "Built-in module sys", "Access control") on a channel byte
 * stream. Sans-I/O: bytes in, bytes out, time as now_ms; it knows nothing
 * of SSH, so a program can run it on any channel (or a pipe, or a test).
 *
 *   request                 reply
 *   {mfa,{M,F,Args}}        {ok,Result} | {error,Reason}      in order
 *   {call,Id,{M,F,Args}}    {reply,Id,{ok,R}} | {reply,Id,{error,R}}  as each completes
 *   {cast,{M,F,Args}}       none
 *
 * Error reasons: {undef,{M,F,Arity}}, {badarg,Detail}, {denied,{M,F,Arity}},
 * {badrpc,Detail} (bad_etf, bad_request, too_large, nomem).
 *
 * docs/rpc.md explains the protocol and how to expose C functions. */
#ifndef SSHRPC_RPC_H
#define SSHRPC_RPC_H

#include "sshrpc/rpc_term.h"

#define SSHRPC_RPC_MAX_MESSAGE_DEFAULT ((size_t)16 * 1024 * 1024)
#define SSHRPC_RPC_SUBSYSTEM_DEFAULT "sshrpc"

/* ---- framing: {packet,4} -------------------------------------------------- */

/* Reassembles length-prefixed messages (4-byte big-endian length N, then N
 * bytes) from a byte stream cut anywhere. It holds at most one message,
 * grown as its bytes arrive, never beyond max. */
typedef struct sshrpc_frame_rd {
	const sshrpc_alloc *alloc;
	size_t max;
	uint8_t hdr[4];
	size_t hdr_have;
	uint8_t *msg;
	size_t msg_len;	 /* announced length */
	size_t msg_have; /* bytes of it received */
	size_t msg_cap;
	bool in_body;
	bool ready;
	uint32_t declared; /* the length prefix that was refused, after SSHRPC_E_TOO_LARGE */
} sshrpc_frame_rd;

void sshrpc_frame_rd_init(sshrpc_frame_rd *f, const sshrpc_alloc *a, size_t max);
void sshrpc_frame_rd_free(sshrpc_frame_rd *f);
/* Consumes bytes until one message is complete or the input is used up;
 * *used gets the bytes taken. Returns SSHRPC_OK when a message is ready
 * (take it before feeding more), SSHRPC_E_AGAIN when all input was taken
 * and no message is complete, SSHRPC_E_TOO_LARGE when a length prefix
 * exceeds max (the stream cannot be read further), SSHRPC_E_NOMEM. */
SSHRPC_MUST_USE int sshrpc_frame_rd_feed(sshrpc_frame_rd *f, const uint8_t *p, size_t n, size_t *used, sshrpc_err *err);
/* Hands the ready message over: a block of exactly *len bytes from the
 * reader's allocator (free with sshrpc_free(a, msg, len), or give it to a
 * heap with sshrpc_heap_adopt); NULL for a message of length 0. */
SSHRPC_MUST_USE int sshrpc_frame_rd_take(sshrpc_frame_rd *f, uint8_t **msg, size_t *len);
/* Bytes of an unfinished message held (0 at a message boundary): non-zero
 * at end of stream means the stream was cut in the middle of a message. */
size_t sshrpc_frame_rd_partial(const sshrpc_frame_rd *f);
/* Appends the 4-byte length and the ETF of t to out; SSHRPC_E_TOO_LARGE
 * (and nothing appended) when the ETF exceeds max (0: no limit). */
SSHRPC_MUST_USE int sshrpc_frame_write(
	sshrpc_buf *out, const sshrpc_term *t, const sshrpc_etf_enc_opts *opts, size_t max, sshrpc_err *err);

/* ---- requests and replies ------------------------------------------------------ */

enum sshrpc_rpc_kind {
	SSHRPC_RPC_MFA = 1,  /* {mfa,{M,F,Args}} */
	SSHRPC_RPC_CALL = 2, /* {call,Id,{M,F,Args}} */
	SSHRPC_RPC_CAST = 3, /* {cast,{M,F,Args}} */
};

/* A request taken apart; the pointers point into the term. */
typedef struct sshrpc_rpc_request {
	int kind;
	const sshrpc_term *id; /* {call,...} only */
	const sshrpc_term *module, *function;
	const sshrpc_term *args; /* proper list */
	size_t argc;
} sshrpc_rpc_request;

/* Checks that t is a request of the wire format. SSHRPC_E_INVALID if not;
 * r->kind and r->id are still filled in when t is recognisably a {call,Id,_}
 * or a {cast,_} with a malformed body (so that the error can be addressed). */
SSHRPC_MUST_USE int sshrpc_rpc_request_check(const sshrpc_term *t, sshrpc_rpc_request *r);

/* Builds a request of the given kind from call text "Module:Function(Args)"
 * (id: the Id of a {call,...}; ignored otherwise). */
SSHRPC_MUST_USE int sshrpc_rpc_request_parse(sshrpc_heap *h, const char *call_text, size_t len, int kind,
	const sshrpc_term *id, sshrpc_term *req, sshrpc_err *err);

/* A reply taken apart: {ok,V} / {error,V}, or {reply,Id,{ok|error,V}}. */
typedef struct sshrpc_rpc_reply {
	bool ok;
	const sshrpc_term *id; /* NULL for an {mfa,...} reply */
	const sshrpc_term *value;
} sshrpc_rpc_reply;
SSHRPC_MUST_USE int sshrpc_rpc_reply_check(const sshrpc_term *t, sshrpc_rpc_reply *r);

/* The two forms of an exec command (interface.md, "Exec command text"). */
enum sshrpc_rpc_exec_form {
	SSHRPC_RPC_EXEC_ETF = 1,  /* "{mfa,{M,F,Args}}." : reply as ETF bytes, exit-status 0/1 */
	SSHRPC_RPC_EXEC_TEXT = 2, /* "Module:Function(Args)." : reply as term text and a newline */
};
int sshrpc_rpc_exec_form(const char *cmd, size_t len);

/* ---- handlers, registry, modules -------------------------------------------------- */

typedef struct sshrpc_rpc_registry sshrpc_rpc_registry;
typedef struct sshrpc_rpc_session sshrpc_rpc_session;
typedef struct sshrpc_rpc_call sshrpc_rpc_call;

/* What a handler returns. */
enum sshrpc_rpc_status {
	SSHRPC_RPC_OK = 0,     /* reply {ok, *result} */
	SSHRPC_RPC_ERROR = 1,  /* reply {error, *result} */
	SSHRPC_RPC_BADARG = 2, /* reply {error,{badarg,{M,F,Arity}}}; *result unused */
	SSHRPC_RPC_ASYNC = 3,  /* the call was deferred (sshrpc_rpc_call_defer or
				  sshrpc_rpc_call_reply_after): answered later */
};

/* A C function callable over RPC. argv are the decoded arguments (argc of
 * them), valid until the call is answered; build the result in
 * sshrpc_rpc_call_heap(call), or from scalars and borrowed data that stay
 * valid until the handler returns. A negative SSHRPC_E_* return answers
 * {error,{badrpc,Reason}}. */
typedef int (*sshrpc_rpc_handler)(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result);
/* Called when a deferred call is dropped unanswered (its session is freed,
 * or a deferred cast outlives the end of its stream): the token is dead. */
typedef void (*sshrpc_rpc_cancel_fn)(void *ud, sshrpc_rpc_session *s, uint64_t token);

#define SSHRPC_RPC_ANY_ARITY (-1)

typedef struct sshrpc_rpc_function {
	const char *module; /* UTF-8 atom names, copied by the registry */
	const char *function;
	int arity; /* argument count, or SSHRPC_RPC_ANY_ARITY */
	sshrpc_rpc_handler fn;
	sshrpc_rpc_cancel_fn cancel; /* optional */
	void *ud;		     /* sshrpc_rpc_call_userdata() */
} sshrpc_rpc_function;

SSHRPC_MUST_USE int sshrpc_rpc_registry_new(const sshrpc_alloc *a, sshrpc_rpc_registry **out);
/* Frees the registry and runs its release hooks (dlclose of loaded
 * modules): no session may use it any more. */
void sshrpc_rpc_registry_free(sshrpc_rpc_registry *r);
/* Registers a function. SSHRPC_E_STATE if module:function/arity is taken
 * (an exact arity and ANY_ARITY may coexist: the exact one wins). */
SSHRPC_MUST_USE int sshrpc_rpc_registry_add(sshrpc_rpc_registry *r, const sshrpc_rpc_function *f);
/* Runs release(p) when the registry is freed (after every other hook
 * registered later). */
SSHRPC_MUST_USE int sshrpc_rpc_registry_on_free(sshrpc_rpc_registry *r, void (*release)(void *), void *p);
const sshrpc_rpc_function *sshrpc_rpc_registry_find(const sshrpc_rpc_registry *r, const char *module, size_t mlen,
	const char *function, size_t flen, unsigned arity);
size_t sshrpc_rpc_registry_count(const sshrpc_rpc_registry *r);

/* The built-in module sys (interface.md): ping/0, echo/1, add/2, sink/1,
 * source/1, sleep/1. */
SSHRPC_MUST_USE int sshrpc_rpc_sys_register(sshrpc_rpc_registry *r);

/* Plugin ABI: a shared object exports
 *     int sshrpc_rpc_module_init(sshrpc_rpc_registry *r, uint32_t abi_version);
 * which checks abi_version == SSHRPC_RPC_ABI_VERSION, registers its
 * functions with sshrpc_rpc_registry_add and returns SSHRPC_OK. It may
 * call sshrpc_rpc_registry_on_free for its own cleanup. SSHRPC_RPC_MODULE
 * below declares it with the right linkage. */
#define SSHRPC_RPC_ABI_VERSION 1u
#define SSHRPC_RPC_MODULE_INIT_SYMBOL "sshrpc_rpc_module_init"
typedef int (*sshrpc_rpc_module_init_fn)(sshrpc_rpc_registry *r, uint32_t abi_version);
#if defined(__GNUC__)
#define SSHRPC_RPC_EXPORT __attribute__((visibility("default")))
#else
#define SSHRPC_RPC_EXPORT
#endif
#define SSHRPC_RPC_MODULE(reg_param)                                                                                   \
	SSHRPC_RPC_EXPORT int sshrpc_rpc_module_init(sshrpc_rpc_registry *reg_param, uint32_t abi_version);            \
	SSHRPC_RPC_EXPORT int sshrpc_rpc_module_init(sshrpc_rpc_registry *reg_param, uint32_t abi_version)

/* Loads a plugin with dlopen and calls its init (rpc/module_load.c; the
 * only function of rpc/ that touches the file system). The object stays
 * loaded until the registry is freed. */
SSHRPC_MUST_USE int sshrpc_rpc_module_load(sshrpc_rpc_registry *r, const char *path, sshrpc_err *err);

/* ---- inside a handler ---------------------------------------------------------------- */

/* The arena of this call: arguments live there, build the result there. */
sshrpc_heap *sshrpc_rpc_call_heap(sshrpc_rpc_call *call);
void *sshrpc_rpc_call_userdata(const sshrpc_rpc_call *call);
uint64_t sshrpc_rpc_call_now(const sshrpc_rpc_call *call);
sshrpc_rpc_session *sshrpc_rpc_call_session(const sshrpc_rpc_call *call);
/* The called module and function (atoms). */
const sshrpc_term *sshrpc_rpc_call_module(const sshrpc_rpc_call *call);
const sshrpc_term *sshrpc_rpc_call_function(const sshrpc_rpc_call *call);
/* Makes the call asynchronous (return SSHRPC_RPC_ASYNC): answer it later
 * with sshrpc_rpc_session_reply(sshrpc_rpc_call_session(call), token, ...).
 * The arguments and the call's heap stay valid until then. */
uint64_t sshrpc_rpc_call_defer(sshrpc_rpc_call *call);
/* Answers the call at now + delay_ms (a timer of the session; nothing
 * waits in the meantime) with status SSHRPC_RPC_OK/ERROR and result, which
 * is encoded now. Then return SSHRPC_RPC_ASYNC. */
SSHRPC_MUST_USE int sshrpc_rpc_call_reply_after(
	sshrpc_rpc_call *call, uint64_t delay_ms, int status, const sshrpc_term *result);

/* ---- access control ------------------------------------------------------------------- */

/* rpc-allow="sys:*,lists:reverse/1" and rpc-deny="..." of an authorized_keys
 * line. A pattern is `*`, `mod:*`, `mod:fun` (any arity) or
 * `mod:fun/arity`; module and function are atoms (quoted as in Erlang when
 * needed). A call is permitted when it matches some allow pattern (or no
 * allow list was given) and no deny pattern. */
typedef struct sshrpc_rpc_acl sshrpc_rpc_acl;
SSHRPC_MUST_USE int sshrpc_rpc_acl_new(const sshrpc_alloc *a, sshrpc_rpc_acl **out);
void sshrpc_rpc_acl_free(sshrpc_rpc_acl *acl);
/* Adds a comma-separated pattern list; SSHRPC_E_INVALID (err names the
 * pattern) when it does not parse. */
SSHRPC_MUST_USE int sshrpc_rpc_acl_allow(sshrpc_rpc_acl *acl, const char *patterns, size_t len, sshrpc_err *err);
SSHRPC_MUST_USE int sshrpc_rpc_acl_deny(sshrpc_rpc_acl *acl, const char *patterns, size_t len, sshrpc_err *err);
/* Both options of a key at once (NUL-terminated, either may be NULL); *out
 * is NULL when both are NULL: everything is permitted. */
SSHRPC_MUST_USE int sshrpc_rpc_acl_from_options(
	const sshrpc_alloc *a, const char *allow, const char *deny, sshrpc_rpc_acl **out, sshrpc_err *err);
bool sshrpc_rpc_acl_permits(
	const sshrpc_rpc_acl *acl, const char *module, size_t mlen, const char *function, size_t flen, unsigned arity);

/* ---- the per-stream session ---------------------------------------------------------------- */

typedef struct sshrpc_rpc_config {
	const sshrpc_alloc *alloc;	     /* NULL: the default allocator */
	const sshrpc_rpc_registry *registry; /* required; shared, outlives the session */
	const sshrpc_rpc_acl *acl;	     /* NULL: every registered function */
	size_t max_message;		     /* largest request and reply, default 16 MiB (MaxMessageSize) */
	size_t max_heap;		     /* per request: decoded terms and result, default 64 MiB */
	size_t max_inflight; /* requests held (running or waiting for their turn) before input pauses, default 64 */
	size_t output_high;  /* queued output above which input pauses, default 1 MiB */
	const sshrpc_etf_limits *limits; /* NULL: the decoder's defaults */
	sshrpc_etf_enc_opts reply_opts;	 /* default: OTP 25's term_to_binary/1 */
	sshrpc_log_fn log;		 /* denied calls, malformed requests, broken streams */
	void *log_ud;
	const char *log_prefix; /* e.g. "alice@192.0.2.1 chan 0": copied */
} sshrpc_rpc_config;

/* Session state flags (sshrpc_rpc_session_state). */
enum {
	SSHRPC_RPC_WANT_INPUT = 1u << 0, /* input is taken now */
	SSHRPC_RPC_PAUSED = 1u << 1,	 /* backpressure: drain the output (or let calls finish) first */
	SSHRPC_RPC_HAS_OUTPUT = 1u << 2, /* bytes wait in sshrpc_rpc_session_output */
	SSHRPC_RPC_DONE = 1u << 3,	 /* input ended and every request is answered: once the
					    output is sent, send exit-status, EOF and CLOSE */
	SSHRPC_RPC_FAILED = 1u << 4,	 /* the stream broke (message too large, cut at EOF) */
};

SSHRPC_MUST_USE int sshrpc_rpc_session_new(const sshrpc_rpc_config *cfg, sshrpc_rpc_session **out);
/* Frees the session; deferred calls still pending are cancelled (their
 * cancel hooks run). */
void sshrpc_rpc_session_free(sshrpc_rpc_session *s);

/* Stream mode (shell, subsystem): framed requests in. Takes what it can;
 * *used gets the bytes taken. SSHRPC_OK: all taken; SSHRPC_E_WOULDBLOCK:
 * paused (see SSHRPC_RPC_PAUSED) with bytes left over, offer them again
 * later; SSHRPC_E_CLOSED: input has ended (EOF, exec, or a broken stream)
 * and nothing is taken. */
SSHRPC_MUST_USE int sshrpc_rpc_session_input(
	sshrpc_rpc_session *s, const uint8_t *p, size_t n, size_t *used, uint64_t now_ms);
/* The peer sent EOF: every complete request is still answered, then DONE. */
SSHRPC_MUST_USE int sshrpc_rpc_session_input_eof(sshrpc_rpc_session *s, uint64_t now_ms);
/* Exec mode: one request given as the exec command text, in either form
 * (sshrpc_rpc_exec_form); no further input. The output is the bare reply
 * (ETF bytes, or term text and "\n"), then DONE. */
SSHRPC_MUST_USE int sshrpc_rpc_session_exec(sshrpc_rpc_session *s, const char *cmd, size_t len, uint64_t now_ms);

/* Output waiting to be sent, and how much of it was sent. */
const uint8_t *sshrpc_rpc_session_output(const sshrpc_rpc_session *s, size_t *len);
void sshrpc_rpc_session_consume(sshrpc_rpc_session *s, size_t n);

/* Timers: fire what is due at now_ms; the next deadline (false: none). */
SSHRPC_MUST_USE int sshrpc_rpc_session_tick(sshrpc_rpc_session *s, uint64_t now_ms);
bool sshrpc_rpc_session_next_deadline(const sshrpc_rpc_session *s, uint64_t *deadline_ms);

unsigned sshrpc_rpc_session_state(const sshrpc_rpc_session *s);
/* The channel's exit-status once DONE: exec: 0 for {ok,_}, 1 for an error
 * reply; streams: 0, or 1 when the stream broke. */
int sshrpc_rpc_session_exit_status(const sshrpc_rpc_session *s);

/* Answers a deferred call. status: SSHRPC_RPC_OK / ERROR / BADARG; result
 * may live in sshrpc_rpc_session_call_heap(s, token). SSHRPC_E_STATE for
 * an unknown token (answered or cancelled already). */
SSHRPC_MUST_USE int sshrpc_rpc_session_reply(
	sshrpc_rpc_session *s, uint64_t token, int status, const sshrpc_term *result);
/* The heap of a deferred call (NULL for an unknown token). */
sshrpc_heap *sshrpc_rpc_session_call_heap(sshrpc_rpc_session *s, uint64_t token);

/* Counters, for logs and benchmarks. */
typedef struct sshrpc_rpc_stats {
	uint64_t requests, replies, casts, errors, denied;
	size_t inflight;
} sshrpc_rpc_stats;
void sshrpc_rpc_session_stats(const sshrpc_rpc_session *s, sshrpc_rpc_stats *st);

#endif
