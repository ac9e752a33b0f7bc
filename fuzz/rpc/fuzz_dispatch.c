/* A whole session fed a request stream (or, when the first byte is odd, an
 * exec command): input in pieces, timers run, deferred calls answered, end
 * of stream. Every reply must be a well-formed reply term, and the session
 * must end DONE without leaking. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/rpc.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

struct pending {
	uint64_t tok[64];
	size_t n;
	sshrpc_rpc_session *s;
};

static int fz_wait(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	struct pending *p = sshrpc_rpc_call_userdata(call);
	if (p->n == 64)
		return SSHRPC_RPC_BADARG;
	p->tok[p->n++] = sshrpc_rpc_call_defer(call);
	p->s = sshrpc_rpc_call_session(call);
	return SSHRPC_RPC_ASYNC;
}

static void fz_cancel(void *ud, sshrpc_rpc_session *s, uint64_t token)
{
	struct pending *p = ud;
	for (size_t i = 0; i < p->n; i++) {
		if (p->tok[i] == token) {
			p->tok[i] = p->tok[--p->n];
			return;
		}
	}
}

static void answer_all(struct pending *p)
{
	while (p->n > 0) {
		uint64_t t = p->tok[--p->n];
		sshrpc_term v = sshrpc_term_int((int64_t)t);
		check(sshrpc_rpc_session_reply(p->s, t, (t & 1) ? SSHRPC_RPC_OK : SSHRPC_RPC_ERROR, &v) == SSHRPC_OK);
	}
}

static const sshrpc_etf_limits limits = { .max_depth = 1000, .max_bignum_bytes = 1024, .max_inflated = 1 << 20 };

/* Reads the replies out of the output. */
static void drain(sshrpc_rpc_session *s, sshrpc_frame_rd *rd, bool framed)
{
	size_t n;
	const uint8_t *p = sshrpc_rpc_session_output(s, &n);
	if (!framed) {
		sshrpc_rpc_session_consume(s, n);
		return;
	}
	size_t off = 0;
	while (off < n) {
		size_t used;
		int rc = sshrpc_frame_rd_feed(rd, p + off, n - off, &used, NULL);
		off += used;
		if (rc != SSHRPC_OK) {
			check(rc == SSHRPC_E_AGAIN);
			break;
		}
		uint8_t *m;
		size_t mlen;
		check(sshrpc_frame_rd_take(rd, &m, &mlen) == SSHRPC_OK);
		sshrpc_heap h;
		sshrpc_heap_init(&h, NULL, 0);
		sshrpc_term t;
		sshrpc_rpc_reply r;
		check(sshrpc_etf_decode(&h, m, mlen, 0, NULL, &t, NULL, NULL) == SSHRPC_OK);
		check(sshrpc_rpc_reply_check(&t, &r) == SSHRPC_OK);
		sshrpc_heap_free(&h);
		sshrpc_free(rd->alloc, m, mlen);
	}
	sshrpc_rpc_session_consume(s, n);
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	bool exec = data[0] & 1;
	size_t piece = (size_t)(data[0] >> 1) + 1;
	data++;
	len--;
	struct pending pend = { .n = 0 };
	sshrpc_rpc_registry *reg;
	check(sshrpc_rpc_registry_new(NULL, &reg) == SSHRPC_OK);
	check(sshrpc_rpc_sys_register(reg) == SSHRPC_OK);
	sshrpc_rpc_function w = {
		.module = "fz", .function = "wait", .arity = 1, .fn = fz_wait, .cancel = fz_cancel, .ud = &pend
	};
	check(sshrpc_rpc_registry_add(reg, &w) == SSHRPC_OK);
	sshrpc_rpc_acl *acl = NULL;
	check(sshrpc_rpc_acl_from_options(NULL, NULL, "sys:sink/1", &acl, NULL) == SSHRPC_OK);
	sshrpc_rpc_config cfg = {
		.registry = reg,
		.acl = acl,
		.max_message = 1 << 16,
		.max_heap = 1 << 20,
		.max_inflight = 8,
		.output_high = 1 << 12,
		.limits = &limits,
	};
	sshrpc_rpc_session *s;
	check(sshrpc_rpc_session_new(&cfg, &s) == SSHRPC_OK);
	sshrpc_frame_rd rd;
	sshrpc_frame_rd_init(&rd, NULL, 1u << 30);
	uint64_t now = 0;
	if (exec) {
		check(sshrpc_rpc_session_exec(s, (const char *)data, len, now) == SSHRPC_OK);
	} else {
		size_t off = 0;
		while (off < len) {
			size_t k = len - off < piece ? len - off : piece, used;
			int rc = sshrpc_rpc_session_input(s, data + off, k, &used, now);
			off += used;
			if (rc == SSHRPC_E_CLOSED)
				break;
			check(rc == SSHRPC_OK || rc == SSHRPC_E_WOULDBLOCK);
			if (rc == SSHRPC_E_WOULDBLOCK) {
				/* make room: read the output, finish what runs */
				drain(s, &rd, true);
				answer_all(&pend);
				uint64_t dl;
				if (sshrpc_rpc_session_next_deadline(s, &dl)) {
					now = dl > now ? dl : now;
					check(sshrpc_rpc_session_tick(s, now) == SSHRPC_OK);
				}
			}
		}
		check(sshrpc_rpc_session_input_eof(s, now) == SSHRPC_OK);
	}
	/* run to the end: every timer fires, every deferred call is answered */
	for (int i = 0; i < 10000 && !(sshrpc_rpc_session_state(s) & SSHRPC_RPC_DONE); i++) {
		drain(s, &rd, !exec);
		answer_all(&pend);
		uint64_t dl;
		if (sshrpc_rpc_session_next_deadline(s, &dl)) {
			now = dl > now ? dl : now;
			check(sshrpc_rpc_session_tick(s, now) == SSHRPC_OK);
		}
	}
	check(sshrpc_rpc_session_state(s) & SSHRPC_RPC_DONE);
	if (exec) {
		size_t n;
		const uint8_t *p = sshrpc_rpc_session_output(s, &n);
		if (sshrpc_rpc_exec_form((const char *)data, len) == SSHRPC_RPC_EXEC_TEXT) {
			/* a line of term text */
			check(n > 0 && p[n - 1] == '\n');
			sshrpc_heap h;
			sshrpc_heap_init(&h, NULL, 0);
			sshrpc_term t;
			sshrpc_rpc_reply r;
			check(sshrpc_term_parse(&h, (const char *)p, n - 1, &t, NULL) == SSHRPC_OK);
			check(sshrpc_rpc_reply_check(&t, &r) == SSHRPC_OK);
			sshrpc_heap_free(&h);
		} else if (n > 0) {
			sshrpc_heap h;
			sshrpc_heap_init(&h, NULL, 0);
			sshrpc_term t;
			sshrpc_rpc_reply r;
			check(sshrpc_etf_decode(&h, p, n, 0, NULL, &t, NULL, NULL) == SSHRPC_OK);
			check(sshrpc_rpc_reply_check(&t, &r) == SSHRPC_OK);
			sshrpc_heap_free(&h);
		}
		int st = sshrpc_rpc_session_exit_status(s);
		check(st == 0 || st == 1);
	} else {
		drain(s, &rd, true);
		check(sshrpc_frame_rd_partial(&rd) == 0);
	}
	sshrpc_rpc_stats st;
	sshrpc_rpc_session_stats(s, &st);
	check(st.inflight == 0);
	sshrpc_rpc_session_free(s);
	check(pend.n == 0);
	sshrpc_frame_rd_free(&rd);
	sshrpc_rpc_acl_free(acl);
	sshrpc_rpc_registry_free(reg);
	return 0;
}
