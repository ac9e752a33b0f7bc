#include "rpcwire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshrpc/rpc_term.h"

static int encode_frame(const sshrpc_term *t, uint8_t **frame, size_t *len)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	size_t mark;
	sshrpc_err err = { 0 };
	if (sshrpc_buf_string_begin(&b, &mark) != SSHRPC_OK || sshrpc_etf_encode(&b, t, NULL, &err) != SSHRPC_OK) {
		sshrpc_buf_free(&b);
		return -1;
	}
	sshrpc_buf_string_end(&b, mark);
	*len = sshrpc_buf_len(&b);
	*frame = malloc(*len);
	memcpy(*frame, sshrpc_buf_ptr(&b), *len);
	sshrpc_buf_free(&b);
	return 0;
}

int rpcwire_make_request(rpc_request *rq, const char *call, char *err, size_t errlen)
{
	memset(rq, 0, sizeof *rq);
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 64u << 20);
	sshrpc_err e = { 0 };
	sshrpc_term req;
	const char *p = call;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '{') {
		if (sshrpc_term_parse(&h, call, strlen(call), &req, &e) != SSHRPC_OK) {
			snprintf(err, errlen, "%s", e.msg);
			sshrpc_heap_free(&h);
			return -1;
		}
	} else {
		sshrpc_term m, f, args;
		if (sshrpc_term_parse_call(&h, call, strlen(call), &m, &f, &args, &e) != SSHRPC_OK) {
			snprintf(err, errlen, "%s", e.msg);
			sshrpc_heap_free(&h);
			return -1;
		}
		sshrpc_term mfa = sshrpc_term_tuple(&h, 3, (const sshrpc_term[]){ m, f, args });
		req = sshrpc_term_tuple(&h, 2, (const sshrpc_term[]){ sshrpc_term_atom("mfa"), mfa });
	}
	sshrpc_buf text;
	sshrpc_buf_init(&text, NULL, 0);
	int rc = sshrpc_term_print(&text, &req, &e);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(&text, ".", 2); /* the final '.' and a NUL */
	if (rc != SSHRPC_OK || encode_frame(&req, &rq->frame, &rq->frame_len) != 0) {
		snprintf(err, errlen, "cannot encode: %s", e.msg[0] ? e.msg : sshrpc_strerror(rc));
		sshrpc_buf_free(&text);
		sshrpc_heap_free(&h);
		return -1;
	}
	rq->mfa_text = strdup((const char *)sshrpc_buf_ptr(&text));
	sshrpc_buf_free(&text);
	sshrpc_heap_free(&h);
	return 0;
}

void rpcwire_request_free(rpc_request *rq)
{
	free(rq->mfa_text);
	free(rq->frame);
	memset(rq, 0, sizeof *rq);
}

int rpcwire_make_call_frame(const rpc_request *rq, uint64_t id, sshrpc_buf *out)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 64u << 20);
	sshrpc_err e = { 0 };
	sshrpc_term req;
	int rc = sshrpc_etf_decode(&h, rq->frame + 4, rq->frame_len - 4, SSHRPC_ETF_BORROW, NULL, &req, NULL, &e);
	if (rc != SSHRPC_OK || sshrpc_term_tuple_size(&req) != 2) {
		sshrpc_heap_free(&h);
		return -1;
	}
	sshrpc_term call = sshrpc_term_tuple(&h, 3,
		(const sshrpc_term[]){
			sshrpc_term_atom("call"), sshrpc_term_uint64(&h, id), *sshrpc_term_tuple_elem(&req, 1) });
	size_t mark;
	rc = sshrpc_buf_string_begin(out, &mark);
	if (rc == SSHRPC_OK)
		rc = sshrpc_etf_encode(out, &call, NULL, &e);
	if (rc == SSHRPC_OK)
		sshrpc_buf_string_end(out, mark);
	sshrpc_heap_free(&h);
	return rc == SSHRPC_OK ? 0 : -1;
}

int rpcwire_print_reply(sshrpc_buf *out, const uint8_t *etf, size_t len, char *why, size_t whylen)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 512u << 20);
	sshrpc_err e = { 0 };
	sshrpc_term t;
	int kind = RPC_REPLY_BAD;
	if (sshrpc_etf_decode(&h, etf, len, SSHRPC_ETF_BORROW, NULL, &t, NULL, &e) != SSHRPC_OK) {
		snprintf(why, whylen, "undecodable reply");
		int rc = sshrpc_buf_put(out, "{error,{badrpc,undecodable_reply}}\n", 35);
		(void)rc;
		sshrpc_heap_free(&h);
		return RPC_REPLY_BAD;
	}
	if (sshrpc_term_type(&t) == SSHRPC_TERM_TUPLE && sshrpc_term_tuple_size(&t) == 2) {
		if (sshrpc_term_is_atom(sshrpc_term_tuple_elem(&t, 0), "ok"))
			kind = RPC_REPLY_OK;
		else if (sshrpc_term_is_atom(sshrpc_term_tuple_elem(&t, 0), "error"))
			kind = RPC_REPLY_ERROR;
	}
	if (sshrpc_term_print(out, &t, &e) != SSHRPC_OK || sshrpc_buf_put(out, "\n", 1) != SSHRPC_OK)
		kind = RPC_REPLY_BAD;
	sshrpc_heap_free(&h);
	return kind;
}

int rpcwire_reply_id(const uint8_t *etf, size_t len, uint64_t *id, int *kind)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 512u << 20);
	sshrpc_err e = { 0 };
	sshrpc_term t;
	int rc = -1;
	if (sshrpc_etf_decode(&h, etf, len, SSHRPC_ETF_BORROW, NULL, &t, NULL, &e) == SSHRPC_OK &&
		sshrpc_term_type(&t) == SSHRPC_TERM_TUPLE && sshrpc_term_tuple_size(&t) == 3 &&
		sshrpc_term_is_atom(sshrpc_term_tuple_elem(&t, 0), "reply") &&
		sshrpc_term_get_uint64(sshrpc_term_tuple_elem(&t, 1), id) == SSHRPC_OK) {
		const sshrpc_term *r = sshrpc_term_tuple_elem(&t, 2);
		*kind = sshrpc_term_type(r) == SSHRPC_TERM_TUPLE && sshrpc_term_tuple_size(r) == 2 &&
					sshrpc_term_is_atom(sshrpc_term_tuple_elem(r, 0), "ok")
				? RPC_REPLY_OK
				: RPC_REPLY_ERROR;
		rc = 0;
	}
	sshrpc_heap_free(&h);
	return rc;
}
