/* One RPC session per channel stream: framing in, dispatch, replies out
 * (interface.md, "RPC wire format" and "Modes").
 *
 * Ordering: {mfa,...} replies go out in the order of their requests, so a
 * reply that is ready early waits (encoded, its arguments already freed)
 * for the ones before it; {call,Id,...} replies go out as each completes;
 * casts are never answered. A request that cannot be read at all is
 * answered like an mfa, in its place in the order.
 *
 * Memory: each request owns an arena holding its message (the decoded
 * terms point into it) and the handler's result, freed when the reply is
 * encoded. Input pauses (backpressure) while the output queue is above
 * output_high or max_inflight requests are held, so a peer that does not
 * read cannot make the session hold more than those bounds plus one reply
 * per held request. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_internal.h"
#include "sshrpc/rpc.h"

enum req_state {
	REQ_RUNNING, /* in its handler, or deferred */
	REQ_TIMER,   /* answer known, sent at deadline */
	REQ_DONE,    /* reply encoded, waiting for its turn */
};

enum out_mode { OUT_STREAM, OUT_EXEC_ETF, OUT_EXEC_TEXT };

struct sshrpc_rpc_call {
	sshrpc_rpc_session *s;
	struct req *r;
};

struct req {
	struct req *prev, *next; /* every live request */
	struct req *next_order;	 /* ordered replies (mfa, unreadable requests) */
	uint64_t token;
	int kind;
	bool ordered;
	bool deferred;
	bool in_handler;
	bool early; /* answered from inside its own handler */
	int state;
	sshrpc_heap heap;
	const sshrpc_rpc_function *fn;
	sshrpc_term module, function, id;
	unsigned arity;
	uint64_t deadline;
	int pend_status; /* REQ_TIMER / early: the answer */
	sshrpc_term pend_result;
	sshrpc_buf reply; /* REQ_DONE */
	sshrpc_rpc_call call;
};

struct sshrpc_rpc_session {
	sshrpc_rpc_config cfg;
	const sshrpc_alloc *alloc;
	char *prefix;
	size_t prefix_len;
	sshrpc_frame_rd fr;
	sshrpc_buf out;
	struct req *all;
	struct req *ord_head, *ord_tail;
	size_t nreqs;
	uint64_t next_token;
	uint64_t now;
	int out_mode;
	bool exec_used;
	bool input_closed;
	bool failed;
	bool done;
	int exit_status;
	sshrpc_rpc_stats st;
};

/* ---- logging ---------------------------------------------------------------- */

static void logf_(sshrpc_rpc_session *s, int level, const char *fmt, ...) SSHRPC_PRINTF(3, 4);
static void logf_(sshrpc_rpc_session *s, int level, const char *fmt, ...)
{
	if (s->cfg.log == NULL)
		return;
	char msg[400];
	int n = snprintf(msg, sizeof msg, "rpc%s%.*s: ", s->prefix_len > 0 ? " " : "", (int)s->prefix_len,
		s->prefix != NULL ? s->prefix : "");
	if (n < 0 || (size_t)n >= sizeof msg)
		n = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
	va_end(ap);
	s->cfg.log(s->cfg.log_ud, level, msg);
}

/* ---- small terms on the C stack ---------------------------------------------- */

static sshrpc_term tup(sshrpc_term *e, size_t n)
{
	sshrpc_term t = { .type = SSHRPC_TERM_TUPLE, .len = (uint32_t)n, .v.elems = e };
	return t;
}

/* ---- requests ------------------------------------------------------------------ */

static struct req *req_new(sshrpc_rpc_session *s)
{
	struct req *r = sshrpc_calloc(s->alloc, sizeof *r);
	if (r == NULL)
		return NULL;
	sshrpc_heap_init(&r->heap, s->alloc, s->cfg.max_heap);
	sshrpc_buf_init(&r->reply, s->alloc, 0);
	r->token = ++s->next_token;
	r->call.s = s;
	r->call.r = r;
	r->next = s->all;
	if (s->all != NULL)
		s->all->prev = r;
	s->all = r;
	s->nreqs++;
	return r;
}

static void req_free(sshrpc_rpc_session *s, struct req *r)
{
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		s->all = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	s->nreqs--;
	sshrpc_heap_free(&r->heap);
	sshrpc_buf_free(&r->reply);
	sshrpc_free(s->alloc, r, sizeof *r);
}

static void order_append(sshrpc_rpc_session *s, struct req *r)
{
	r->ordered = true;
	if (s->ord_tail != NULL)
		s->ord_tail->next_order = r;
	else
		s->ord_head = r;
	s->ord_tail = r;
}

static struct req *find_token(sshrpc_rpc_session *s, uint64_t token)
{
	for (struct req *r = s->all; r != NULL; r = r->next) {
		if (r->token == token)
			return r;
	}
	return NULL;
}

/* ---- output --------------------------------------------------------------------- */

static int append_out(sshrpc_rpc_session *s, const uint8_t *p, size_t n)
{
	int rc = sshrpc_buf_put(&s->out, p, n);
	if (rc != SSHRPC_OK) {
		/* The output queue is capped by SSHRPC_BUF_HARD_MAX only: this is
		 * memory exhaustion, and the stream cannot stay consistent. */
		s->failed = true;
		s->input_closed = true;
		logf_(s, SSHRPC_LOG_ERROR, "output queue full (%s): reply dropped, stream failed", sshrpc_strerror(rc));
	}
	return rc;
}

/* Encodes a reply term the way this session's output wants it. */
static int encode_reply(sshrpc_rpc_session *s, sshrpc_buf *b, const sshrpc_term *t, sshrpc_err *err)
{
	switch (s->out_mode) {
	case OUT_EXEC_TEXT: {
		size_t start = sshrpc_buf_len(b);
		int rc = sshrpc_term_print(b, t, err);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_u8(b, '\n');
		if (rc == SSHRPC_OK && sshrpc_buf_len(b) - start > s->cfg.max_message)
			rc = SSHRPC_E_TOO_LARGE;
		if (rc != SSHRPC_OK)
			sshrpc_buf_truncate(b, start);
		return rc;
	}
	case OUT_EXEC_ETF: {
		size_t start = sshrpc_buf_len(b);
		int rc = sshrpc_etf_encode(b, t, &s->cfg.reply_opts, err);
		if (rc == SSHRPC_OK && sshrpc_buf_len(b) - start > s->cfg.max_message) {
			sshrpc_buf_truncate(b, start);
			rc = SSHRPC_E_TOO_LARGE;
		}
		return rc;
	}
	default:
		return sshrpc_frame_write(b, t, &s->cfg.reply_opts, s->cfg.max_message, err);
	}
}

static void flush_order(sshrpc_rpc_session *s)
{
	while (s->ord_head != NULL && s->ord_head->state == REQ_DONE) {
		struct req *r = s->ord_head;
		s->ord_head = r->next_order;
		if (s->ord_head == NULL)
			s->ord_tail = NULL;
		append_out(s, sshrpc_buf_ptr(&r->reply), sshrpc_buf_len(&r->reply));
		req_free(s, r);
	}
}

static void check_done(sshrpc_rpc_session *s);

/* The reply of r is `inner` ({ok,R} / {error,R}): address it, encode it,
 * send it or queue it for its turn, and retire r. */
static void finish(sshrpc_rpc_session *s, struct req *r, const sshrpc_term *inner, bool ok)
{
	if (r->kind == SSHRPC_RPC_CAST) {
		s->st.casts++;
		req_free(s, r);
		check_done(s);
		return;
	}
	sshrpc_term addr[3], term;
	if (r->kind == SSHRPC_RPC_CALL) {
		addr[0] = sshrpc_term_atom("reply");
		addr[1] = r->id;
		addr[2] = *inner;
		term = tup(addr, 3);
	} else {
		term = *inner;
	}
	bool direct = !r->ordered || s->ord_head == r;
	sshrpc_buf *b = direct ? &s->out : &r->reply;
	sshrpc_err err = { 0 };
	int rc = encode_reply(s, b, &term, &err);
	/* an INVALID term from a constructor the arena refused: say why */
	if (rc == SSHRPC_E_INVALID && r->heap.failed != 0)
		rc = r->heap.failed;
	if (rc != SSHRPC_OK) {
		/* what the handler returned cannot be sent: say why instead */
		const char *why = rc == SSHRPC_E_TOO_LARGE ? "too_large"
				  : rc == SSHRPC_E_NOMEM   ? "nomem"
							   : "bad_result";
		logf_(s, SSHRPC_LOG_INFO, "reply to %.*s:%.*s/%u not sent (%s): {badrpc,%s}", (int)r->module.len,
			(const char *)r->module.v.bytes, (int)r->function.len, (const char *)r->function.v.bytes,
			r->arity, err.msg[0] ? err.msg : sshrpc_strerror(rc), why);
		sshrpc_term br[2] = { sshrpc_term_atom("badrpc"), sshrpc_term_atom(why) };
		sshrpc_term e[2] = { sshrpc_term_atom("error"), tup(br, 2) };
		sshrpc_term ins = tup(e, 2);
		if (r->kind == SSHRPC_RPC_CALL)
			addr[2] = ins;
		else
			term = ins;
		ok = false;
		rc = encode_reply(s, b, &term, NULL);
		if (rc != SSHRPC_OK) {
			s->failed = true;
			s->input_closed = true;
			logf_(s, SSHRPC_LOG_ERROR, "cannot encode an error reply (%s): stream failed",
				sshrpc_strerror(rc));
		}
	}
	s->st.replies++;
	if (!ok)
		s->st.errors++;
	if (s->out_mode != OUT_STREAM)
		s->exit_status = ok ? 0 : 1;
	/* the arguments and the result are no longer needed */
	sshrpc_heap_free(&r->heap);
	if (direct) {
		if (r->ordered) {
			s->ord_head = r->next_order;
			if (s->ord_head == NULL)
				s->ord_tail = NULL;
		}
		req_free(s, r);
		flush_order(s);
	} else {
		r->state = REQ_DONE;
	}
	check_done(s);
}

/* Answers r with a handler status and result. */
static void complete(sshrpc_rpc_session *s, struct req *r, int status, const sshrpc_term *result)
{
	sshrpc_term inner[2], reason[2], mfa[3];
	bool ok = false;
	mfa[0] = r->module;
	mfa[1] = r->function;
	mfa[2] = sshrpc_term_int(r->arity);
	switch (status) {
	case SSHRPC_RPC_OK:
		inner[0] = sshrpc_term_atom("ok");
		inner[1] = *result;
		ok = true;
		break;
	case SSHRPC_RPC_ERROR:
		inner[0] = sshrpc_term_atom("error");
		inner[1] = *result;
		break;
	case SSHRPC_RPC_BADARG:
		inner[0] = sshrpc_term_atom("error");
		reason[0] = sshrpc_term_atom("badarg");
		reason[1] = tup(mfa, 3);
		inner[1] = tup(reason, 2);
		break;
	default: {
		const char *why = status == SSHRPC_E_NOMEM	 ? "nomem"
				  : status == SSHRPC_E_TOO_LARGE ? "too_large"
								 : "handler_failed";
		inner[0] = sshrpc_term_atom("error");
		reason[0] = sshrpc_term_atom("badrpc");
		reason[1] = sshrpc_term_atom(why);
		inner[1] = tup(reason, 2);
		break;
	}
	}
	sshrpc_term t = tup(inner, 2);
	finish(s, r, &t, ok);
}

/* {error,{Tag,Detail}} for r, built without r's heap (it may be full). */
static void fail2(sshrpc_rpc_session *s, struct req *r, const char *tag, sshrpc_term detail)
{
	sshrpc_term reason[2] = { sshrpc_term_atom(tag), detail };
	sshrpc_term inner[2] = { sshrpc_term_atom("error"), tup(reason, 2) };
	sshrpc_term t = tup(inner, 2);
	finish(s, r, &t, false);
}

/* ---- dispatch -------------------------------------------------------------------- */

static void dispatch(sshrpc_rpc_session *s, struct req *r, const sshrpc_rpc_request *rq)
{
	r->kind = rq->kind;
	r->module = *rq->module;
	r->function = *rq->function;
	r->arity = rq->argc > UINT32_MAX ? UINT32_MAX : (unsigned)rq->argc;
	if (rq->id != NULL)
		r->id = *rq->id;
	if (r->kind == SSHRPC_RPC_MFA)
		order_append(s, r);
	const char *m = (const char *)r->module.v.bytes, *f = (const char *)r->function.v.bytes;
	size_t ml = r->module.len, fl = r->function.len;
	sshrpc_term mfa[3] = { r->module, r->function, sshrpc_term_int(r->arity) };
	if (!sshrpc_rpc_acl_permits(s->cfg.acl, m, ml, f, fl, r->arity)) {
		s->st.denied++;
		logf_(s, SSHRPC_LOG_INFO, "denied %.*s:%.*s/%u", (int)ml, m, (int)fl, f, r->arity);
		fail2(s, r, "denied", tup(mfa, 3));
		return;
	}
	r->fn = sshrpc_rpc_registry_find(s->cfg.registry, m, ml, f, fl, r->arity);
	if (r->fn == NULL) {
		logf_(s, SSHRPC_LOG_VERBOSE, "undef %.*s:%.*s/%u", (int)ml, m, (int)fl, f, r->arity);
		fail2(s, r, "undef", tup(mfa, 3));
		return;
	}
	sshrpc_term result = sshrpc_term_nil();
	const sshrpc_term *argv = rq->args->type == SSHRPC_TERM_LIST ? rq->args->v.elems : NULL;
	r->in_handler = true;
	int status = r->fn->fn(&r->call, rq->argc, argv, &result);
	r->in_handler = false;
	if (status == SSHRPC_RPC_ASYNC) {
		if (r->early) {
			complete(s, r, r->pend_status, &r->pend_result);
		} else if (!r->deferred && r->state != REQ_TIMER) {
			logf_(s, SSHRPC_LOG_ERROR, "%.*s:%.*s/%u returned ASYNC without deferring", (int)ml, m, (int)fl,
				f, r->arity);
			complete(s, r, SSHRPC_E_STATE, NULL);
		}
		return;
	}
	r->deferred = false; /* answered now: a token it took is dead */
	if (r->state == REQ_TIMER)
		r->state = REQ_RUNNING;
	complete(s, r, status, &result);
}

/* A request that could not be decoded or is not a request. */
static void handle_message(sshrpc_rpc_session *s, uint8_t *msg, size_t len)
{
	s->st.requests++;
	struct req *r = req_new(s);
	if (r == NULL) {
		sshrpc_free(s->alloc, msg, len);
		s->failed = true;
		s->input_closed = true;
		logf_(s, SSHRPC_LOG_ERROR, "out of memory: stream failed");
		return;
	}
	if (msg != NULL && sshrpc_heap_adopt(&r->heap, msg, len) != SSHRPC_OK) {
		sshrpc_free(s->alloc, msg, len);
		order_append(s, r);
		fail2(s, r, "badrpc", sshrpc_term_atom("too_large"));
		return;
	}
	sshrpc_term t;
	sshrpc_err err = { 0 };
	int rc = sshrpc_etf_decode(&r->heap, msg, len, SSHRPC_ETF_BORROW, s->cfg.limits, &t, NULL, &err);
	if (rc != SSHRPC_OK) {
		logf_(s, SSHRPC_LOG_VERBOSE, "unreadable request: %s", err.msg);
		order_append(s, r);
		if (rc == SSHRPC_E_UNSUPPORTED) {
			size_t ml = strlen(err.msg);
			fail2(s, r, "badarg", sshrpc_term_binary(err.msg, ml));
		} else {
			fail2(s, r, "badrpc",
				sshrpc_term_atom(rc == SSHRPC_E_TOO_LARGE ? "too_large"
						 : rc == SSHRPC_E_NOMEM	  ? "nomem"
									  : "bad_etf"));
		}
		return;
	}
	sshrpc_rpc_request rq;
	if (sshrpc_rpc_request_check(&t, &rq) != SSHRPC_OK) {
		r->kind = rq.kind;
		if (rq.kind == SSHRPC_RPC_CAST) {
			logf_(s, SSHRPC_LOG_VERBOSE, "malformed cast dropped");
			s->st.casts++;
			req_free(s, r);
			return;
		}
		if (rq.kind == SSHRPC_RPC_CALL) {
			r->id = *rq.id;
		} else {
			r->kind = SSHRPC_RPC_MFA;
			order_append(s, r);
		}
		logf_(s, SSHRPC_LOG_VERBOSE, "malformed request");
		fail2(s, r, "badrpc", sshrpc_term_atom("bad_request"));
		return;
	}
	dispatch(s, r, &rq);
}

/* ---- the session ----------------------------------------------------------------------- */

int sshrpc_rpc_session_new(const sshrpc_rpc_config *cfg, sshrpc_rpc_session **out)
{
	if (cfg == NULL || cfg->registry == NULL)
		return SSHRPC_E_INVALID;
	const sshrpc_alloc *a = cfg->alloc != NULL ? cfg->alloc : sshrpc_alloc_default();
	sshrpc_rpc_session *s = sshrpc_calloc(a, sizeof *s);
	if (s == NULL)
		return SSHRPC_E_NOMEM;
	s->cfg = *cfg;
	s->alloc = a;
	s->cfg.alloc = a;
	if (s->cfg.max_message == 0)
		s->cfg.max_message = SSHRPC_RPC_MAX_MESSAGE_DEFAULT;
	if (s->cfg.max_heap == 0)
		s->cfg.max_heap = (size_t)64 * 1024 * 1024;
	if (s->cfg.max_inflight == 0)
		s->cfg.max_inflight = 64;
	if (s->cfg.output_high == 0)
		s->cfg.output_high = (size_t)1024 * 1024;
	s->cfg.log_prefix = NULL;
	if (cfg->log_prefix != NULL) {
		s->prefix_len = strlen(cfg->log_prefix);
		s->prefix = sshrpc_malloc(a, s->prefix_len + 1);
		if (s->prefix == NULL) {
			sshrpc_free(a, s, sizeof *s);
			return SSHRPC_E_NOMEM;
		}
		memcpy(s->prefix, cfg->log_prefix, s->prefix_len + 1);
	}
	sshrpc_frame_rd_init(&s->fr, a, s->cfg.max_message);
	sshrpc_buf_init(&s->out, a, 0);
	*out = s;
	return SSHRPC_OK;
}

static void cancel(sshrpc_rpc_session *s, struct req *r)
{
	if (r->deferred && r->fn != NULL && r->fn->cancel != NULL)
		r->fn->cancel(r->fn->ud, s, r->token);
}

void sshrpc_rpc_session_free(sshrpc_rpc_session *s)
{
	if (s == NULL)
		return;
	while (s->all != NULL) {
		struct req *r = s->all;
		cancel(s, r);
		req_free(s, r);
	}
	sshrpc_frame_rd_free(&s->fr);
	sshrpc_buf_free(&s->out);
	if (s->prefix != NULL)
		sshrpc_free(s->alloc, s->prefix, s->prefix_len + 1);
	sshrpc_free(s->alloc, s, sizeof *s);
}

/* Input has ended and only casts (which nobody waits for) may still run:
 * those are dropped and the session is done. */
static void check_done(sshrpc_rpc_session *s)
{
	if (!s->input_closed || s->done)
		return;
	for (struct req *r = s->all; r != NULL; r = r->next) {
		if (r->kind != SSHRPC_RPC_CAST || r->in_handler)
			return;
	}
	while (s->all != NULL) {
		struct req *r = s->all;
		logf_(s, SSHRPC_LOG_VERBOSE, "cast %.*s:%.*s/%u dropped at end of stream", (int)r->module.len,
			(const char *)r->module.v.bytes, (int)r->function.len, (const char *)r->function.v.bytes,
			r->arity);
		cancel(s, r);
		req_free(s, r);
	}
	s->done = true;
}

static bool paused(const sshrpc_rpc_session *s)
{
	return sshrpc_buf_len(&s->out) >= s->cfg.output_high || s->nreqs >= s->cfg.max_inflight;
}

int sshrpc_rpc_session_input(sshrpc_rpc_session *s, const uint8_t *p, size_t n, size_t *used, uint64_t now_ms)
{
	*used = 0;
	s->now = now_ms;
	if (s->input_closed)
		return SSHRPC_E_CLOSED;
	size_t off = 0;
	while (off < n) {
		if (paused(s)) {
			*used = off;
			return SSHRPC_E_WOULDBLOCK;
		}
		size_t k;
		sshrpc_err err = { 0 };
		int rc = sshrpc_frame_rd_feed(&s->fr, p + off, n - off, &k, &err);
		off += k;
		if (rc == SSHRPC_OK) {
			uint8_t *msg;
			size_t len;
			if (sshrpc_frame_rd_take(&s->fr, &msg, &len) == SSHRPC_OK)
				handle_message(s, msg, len);
			if (s->input_closed)
				break;
			continue;
		}
		if (rc == SSHRPC_E_AGAIN)
			break;
		/* the stream cannot be followed any further */
		logf_(s, SSHRPC_LOG_INFO, "%s: stream closed", err.msg);
		s->failed = true;
		s->input_closed = true;
		sshrpc_frame_rd_free(&s->fr);
		struct req *r = req_new(s);
		if (r != NULL) {
			s->st.requests++;
			r->kind = SSHRPC_RPC_MFA;
			order_append(s, r);
			fail2(s, r, "badrpc", sshrpc_term_atom(rc == SSHRPC_E_TOO_LARGE ? "too_large" : "nomem"));
		}
		off = n; /* what follows is unreadable: taken and dropped */
		break;
	}
	*used = off;
	check_done(s);
	return SSHRPC_OK;
}

int sshrpc_rpc_session_input_eof(sshrpc_rpc_session *s, uint64_t now_ms)
{
	s->now = now_ms;
	if (s->input_closed)
		return SSHRPC_OK;
	s->input_closed = true;
	size_t partial = sshrpc_frame_rd_partial(&s->fr);
	if (partial > 0) {
		s->failed = true;
		logf_(s, SSHRPC_LOG_INFO, "stream ended inside a message (%zu bytes of it received): dropped", partial);
	}
	sshrpc_frame_rd_free(&s->fr);
	check_done(s);
	return SSHRPC_OK;
}

int sshrpc_rpc_session_exec(sshrpc_rpc_session *s, const char *cmd, size_t len, uint64_t now_ms)
{
	if (s->exec_used || s->input_closed || s->st.requests > 0 || sshrpc_frame_rd_partial(&s->fr) > 0)
		return SSHRPC_E_STATE;
	s->now = now_ms;
	s->exec_used = true;
	s->input_closed = true;
	int form = sshrpc_rpc_exec_form(cmd, len);
	s->out_mode = form == SSHRPC_RPC_EXEC_ETF ? OUT_EXEC_ETF : OUT_EXEC_TEXT;
	s->st.requests++;
	struct req *r = req_new(s);
	if (r == NULL)
		return SSHRPC_E_NOMEM;
	sshrpc_err err = { 0 };
	sshrpc_rpc_request rq;
	sshrpc_term t;
	int rc;
	if (form == SSHRPC_RPC_EXEC_ETF) {
		rc = sshrpc_term_parse(&r->heap, cmd, len, &t, &err);
		if (rc == SSHRPC_OK && sshrpc_rpc_request_check(&t, &rq) != SSHRPC_OK) {
			rc = SSHRPC_E_INVALID;
			snprintf(err.msg, sizeof err.msg, "not a request term");
		}
	} else {
		rc = sshrpc_rpc_request_parse(&r->heap, cmd, len, SSHRPC_RPC_MFA, NULL, &t, &err);
		if (rc == SSHRPC_OK)
			rc = sshrpc_rpc_request_check(&t, &rq);
	}
	if (rc != SSHRPC_OK) {
		logf_(s, SSHRPC_LOG_VERBOSE, "exec command not understood: %s", err.msg);
		r->kind = SSHRPC_RPC_MFA;
		order_append(s, r);
		fail2(s, r, "badrpc", sshrpc_term_atom(rc == SSHRPC_E_INVALID ? "bad_request" : "too_large"));
		return SSHRPC_OK;
	}
	if (rq.kind == SSHRPC_RPC_CAST)
		s->exit_status = 0;
	dispatch(s, r, &rq);
	/* a cast still running is dropped, as at the end of a stream */
	check_done(s);
	return SSHRPC_OK;
}

const uint8_t *sshrpc_rpc_session_output(const sshrpc_rpc_session *s, size_t *len)
{
	*len = sshrpc_buf_len(&s->out);
	return sshrpc_buf_ptr(&s->out);
}

void sshrpc_rpc_session_consume(sshrpc_rpc_session *s, size_t n)
{
	sshrpc_buf_consume(&s->out, n);
}

int sshrpc_rpc_session_tick(sshrpc_rpc_session *s, uint64_t now_ms)
{
	s->now = now_ms;
	/* Fire every due timer; firing one can free others (a cast dropped at
	 * the end of the stream), so restart the walk after each. */
	for (;;) {
		struct req *due = NULL;
		for (struct req *r = s->all; r != NULL; r = r->next) {
			if (r->state == REQ_TIMER && r->deadline <= now_ms &&
				(due == NULL || r->deadline < due->deadline))
				due = r;
		}
		if (due == NULL)
			break;
		due->state = REQ_RUNNING;
		complete(s, due, due->pend_status, &due->pend_result);
	}
	check_done(s);
	return SSHRPC_OK;
}

bool sshrpc_rpc_session_next_deadline(const sshrpc_rpc_session *s, uint64_t *deadline_ms)
{
	bool any = false;
	uint64_t best = 0;
	for (const struct req *r = s->all; r != NULL; r = r->next) {
		if (r->state == REQ_TIMER && (!any || r->deadline < best)) {
			best = r->deadline;
			any = true;
		}
	}
	if (any)
		*deadline_ms = best;
	return any;
}

unsigned sshrpc_rpc_session_state(const sshrpc_rpc_session *s)
{
	unsigned f = 0;
	if (!s->input_closed) {
		if (paused(s))
			f |= SSHRPC_RPC_PAUSED;
		else
			f |= SSHRPC_RPC_WANT_INPUT;
	}
	if (sshrpc_buf_len(&s->out) > 0)
		f |= SSHRPC_RPC_HAS_OUTPUT;
	if (s->done)
		f |= SSHRPC_RPC_DONE;
	if (s->failed)
		f |= SSHRPC_RPC_FAILED;
	return f;
}

int sshrpc_rpc_session_exit_status(const sshrpc_rpc_session *s)
{
	if (s->out_mode != OUT_STREAM)
		return s->exit_status;
	return s->failed ? 1 : 0;
}

int sshrpc_rpc_session_reply(sshrpc_rpc_session *s, uint64_t token, int status, const sshrpc_term *result)
{
	struct req *r = find_token(s, token);
	if (r == NULL || !r->deferred || r->state != REQ_RUNNING || r->early)
		return SSHRPC_E_STATE;
	if (status != SSHRPC_RPC_OK && status != SSHRPC_RPC_ERROR && status != SSHRPC_RPC_BADARG)
		return SSHRPC_E_INVALID;
	sshrpc_term nil = sshrpc_term_nil();
	if (result == NULL)
		result = &nil;
	if (r->in_handler) {
		/* answered before its handler returned: sent when it does */
		r->early = true;
		r->pend_status = status;
		r->pend_result = *result;
		return SSHRPC_OK;
	}
	r->deferred = false;
	complete(s, r, status, result);
	return SSHRPC_OK;
}

sshrpc_heap *sshrpc_rpc_session_call_heap(sshrpc_rpc_session *s, uint64_t token)
{
	struct req *r = find_token(s, token);
	return r != NULL && r->state == REQ_RUNNING ? &r->heap : NULL;
}

void sshrpc_rpc_session_stats(const sshrpc_rpc_session *s, sshrpc_rpc_stats *st)
{
	*st = s->st;
	st->inflight = s->nreqs;
}

/* ---- the call context ---------------------------------------------------------------------- */

sshrpc_heap *sshrpc_rpc_call_heap(sshrpc_rpc_call *call)
{
	return &call->r->heap;
}

void *sshrpc_rpc_call_userdata(const sshrpc_rpc_call *call)
{
	return call->r->fn != NULL ? call->r->fn->ud : NULL;
}

uint64_t sshrpc_rpc_call_now(const sshrpc_rpc_call *call)
{
	return call->s->now;
}

sshrpc_rpc_session *sshrpc_rpc_call_session(const sshrpc_rpc_call *call)
{
	return call->s;
}

const sshrpc_term *sshrpc_rpc_call_module(const sshrpc_rpc_call *call)
{
	return &call->r->module;
}

const sshrpc_term *sshrpc_rpc_call_function(const sshrpc_rpc_call *call)
{
	return &call->r->function;
}

uint64_t sshrpc_rpc_call_defer(sshrpc_rpc_call *call)
{
	call->r->deferred = true;
	return call->r->token;
}

int sshrpc_rpc_call_reply_after(sshrpc_rpc_call *call, uint64_t delay_ms, int status, const sshrpc_term *result)
{
	struct req *r = call->r;
	if (!r->in_handler || r->deferred)
		return SSHRPC_E_STATE;
	if (status != SSHRPC_RPC_OK && status != SSHRPC_RPC_ERROR && status != SSHRPC_RPC_BADARG)
		return SSHRPC_E_INVALID;
	r->state = REQ_TIMER;
	r->deadline = delay_ms > UINT64_MAX - call->s->now ? UINT64_MAX : call->s->now + delay_ms;
	r->pend_status = status;
	r->pend_result = result != NULL ? *result : sshrpc_term_nil();
	return SSHRPC_OK;
}
