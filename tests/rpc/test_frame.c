/* {packet,4} framing: messages cut into 1-byte pieces, many messages in
 * one piece, a 16 MiB message, a length prefix of 2^32-1, a stream that
 * ends in the middle of a message. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

Test(frame, one_byte_pieces)
{
	test_alloc ta;
	test_alloc_init(&ta);
	sshrpc_frame_rd f;
	sshrpc_frame_rd_init(&f, &ta.a, 0);
	const uint8_t msg[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 0, 0, 0, 0, 2, 'x', 'y' };
	const char *want[] = { "hello", "", "xy" };
	size_t got = 0;
	for (size_t i = 0; i < sizeof msg; i++) {
		size_t used;
		int rc = sshrpc_frame_rd_feed(&f, msg + i, 1, &used, NULL);
		cr_assert_eq(used, 1);
		if (rc == SSHRPC_OK) {
			uint8_t *m;
			size_t n;
			cr_assert_eq(sshrpc_frame_rd_take(&f, &m, &n), SSHRPC_OK);
			cr_assert_lt(got, 3);
			cr_expect_eq(n, strlen(want[got]));
			cr_expect(n == 0 || memcmp(m, want[got], n) == 0);
			cr_expect(n > 0 || m == NULL);
			sshrpc_free(&ta.a, m, n);
			got++;
			cr_expect_eq(sshrpc_frame_rd_partial(&f), 0);
		} else {
			cr_expect_eq(rc, SSHRPC_E_AGAIN);
			cr_expect_gt(sshrpc_frame_rd_partial(&f), 0);
		}
	}
	cr_expect_eq(got, 3);
	sshrpc_frame_rd_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
}

Test(frame, session_one_byte_pieces)
{
	harness H;
	h_init(&H);
	h_start(&H);
	const char *reqs[] = { "{mfa,{sys,ping,[]}}", "{call,1,{sys,echo,[<<\"abc\">>]}}", "{mfa,{sys,add,[1,2]}}" };
	for (size_t k = 0; k < 3; k++) {
		size_t n;
		uint8_t *p = h_frame(reqs[k], &n);
		for (size_t i = 0; i < n; i++) {
			size_t used;
			cr_assert_eq(sshrpc_rpc_session_input(H.s, p + i, 1, &used, H.now), SSHRPC_OK);
			cr_assert_eq(used, 1);
		}
		free(p);
	}
	char *r = h_replies(&H);
	cr_expect_str_eq(r, "{ok,pong} ; {reply,1,{ok,<<\"abc\">>}} ; {ok,3}");
	free(r);
	h_free(&H);
}

Test(frame, hundred_messages_in_one_piece)
{
	harness H;
	h_init(&H);
	h_start(&H);
	size_t cap = 100 * 64, len = 0;
	uint8_t *all = malloc(cap);
	for (int i = 0; i < 100; i++) {
		char req[64];
		snprintf(req, sizeof req, "{call,%d,{sys,add,[%d,1]}}", i, i);
		size_t n;
		uint8_t *p = h_frame(req, &n);
		cr_assert_leq(len + n, cap);
		memcpy(all + len, p, n);
		len += n;
		free(p);
	}
	size_t used;
	cr_assert_eq(sshrpc_rpc_session_input(H.s, all, len, &used, H.now), SSHRPC_OK);
	cr_expect_eq(used, len);
	char *r = h_replies(&H);
	char *p = r;
	for (int i = 0; i < 100; i++) {
		char want[64];
		snprintf(want, sizeof want, "{reply,%d,{ok,%d}}", i, i + 1);
		char *q = strstr(p, want);
		cr_assert_not_null(q, "reply %d missing or out of order", i);
		p = q + strlen(want);
	}
	free(r);
	free(all);
	h_free(&H);
}

/* A request of exactly 16 MiB of ETF, sent in 32 KiB pieces as SSH
 * channel data would bring it; one byte more is refused. */
static uint8_t *sink_request(size_t etf_len, size_t *out_len, size_t *bin_len)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_term bin0 = sshrpc_term_binary(NULL, 0);
	sshrpc_term req = SSHRPC_TUPLE(&h, sshrpc_term_atom("mfa"),
		SSHRPC_TUPLE(&h, sshrpc_term_atom("sys"), sshrpc_term_atom("sink"), SSHRPC_LIST(&h, bin0)));
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_etf_encode(&b, &req, NULL, NULL), SSHRPC_OK);
	size_t overhead = sshrpc_buf_len(&b);
	/* the binary's bytes go where its (empty) data was: just before the
	 * final NIL of the argument list */
	size_t blen = etf_len - overhead;
	uint8_t *p = calloc(4 + etf_len, 1);
	sshrpc_store_be32(p, (uint32_t)etf_len);
	memcpy(p + 4, sshrpc_buf_ptr(&b), overhead - 1);
	sshrpc_store_be32(p + 4 + overhead - 5, (uint32_t)blen);
	p[4 + etf_len - 1] = 106;
	*out_len = 4 + etf_len;
	*bin_len = blen;
	sshrpc_buf_free(&b);
	sshrpc_heap_free(&h);
	return p;
}

static int feed_pieces(harness *H, const uint8_t *p, size_t n, size_t piece)
{
	size_t off = 0;
	while (off < n) {
		size_t k = n - off < piece ? n - off : piece, used;
		int rc = sshrpc_rpc_session_input(H->s, p + off, k, &used, H->now);
		off += used;
		if (rc == SSHRPC_E_CLOSED && (sshrpc_rpc_session_state(H->s) & SSHRPC_RPC_DONE))
			return SSHRPC_OK; /* the session gave up on the stream */
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

Test(frame, sixteen_mib_message, .timeout = 60)
{
	harness H;
	h_init(&H);
	h_start(&H);
	size_t mib16 = (size_t)16 * 1024 * 1024, n, blen;
	uint8_t *p = sink_request(mib16, &n, &blen);
	cr_assert_eq(feed_pieces(&H, p, n, 32768), SSHRPC_OK);
	char *r = h_replies(&H);
	char want[64];
	cr_expect_gt(blen, mib16 - 64);
	snprintf(want, sizeof want, "{ok,%zu}", blen);
	cr_expect_str_eq(r, want);
	free(r);
	free(p);
	/* peak memory: the message once, not more */
	cr_expect(H.ta.live_bytes < 64 * 1024, "%zu bytes held after the reply", H.ta.live_bytes);
	/* one byte over MaxMessageSize */
	p = sink_request(mib16 + 1, &n, &blen);
	cr_assert_eq(feed_pieces(&H, p, n, 32768), SSHRPC_OK);
	r = h_replies(&H);
	cr_expect_str_eq(r, "{error,{badrpc,too_large}}");
	free(r);
	free(p);
	unsigned st = sshrpc_rpc_session_state(H.s);
	cr_expect(st & SSHRPC_RPC_DONE);
	cr_expect(st & SSHRPC_RPC_FAILED);
	cr_expect_eq(sshrpc_rpc_session_exit_status(H.s), 1);
	cr_expect(h_logged(&H, "exceeds MaxMessageSize 16777216"));
	h_free(&H);
}

Test(frame, length_prefix_max)
{
	test_alloc ta;
	test_alloc_init(&ta);
	sshrpc_frame_rd f;
	sshrpc_frame_rd_init(&f, &ta.a, 0);
	const uint8_t hdr[] = { 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
	size_t used;
	sshrpc_err err = { 0 };
	cr_expect_eq(sshrpc_frame_rd_feed(&f, hdr, sizeof hdr, &used, &err), SSHRPC_E_TOO_LARGE);
	cr_expect_eq(used, 4);
	cr_expect_eq(f.declared, 0xffffffffu);
	cr_expect_eq(ta.total_allocs, 0, "nothing allocated for it");
	sshrpc_frame_rd_free(&f);

	harness H;
	h_init(&H);
	h_start(&H);
	h_send(&H, "{mfa,{test_before,x,[]}}");
	cr_expect_eq(sshrpc_rpc_session_input(H.s, hdr, sizeof hdr, &used, H.now), SSHRPC_OK);
	cr_expect_eq(used, sizeof hdr);
	char *r = h_replies(&H);
	cr_expect_str_eq(r, "{error,{undef,{test_before,x,0}}} ; {error,{badrpc,too_large}}");
	free(r);
	cr_expect(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_DONE);
	cr_expect_eq(sshrpc_rpc_session_input(H.s, hdr, sizeof hdr, &used, H.now), SSHRPC_E_CLOSED);
	h_free(&H);
}

Test(frame, stream_closed_mid_message)
{
	harness H;
	h_init(&H);
	h_start(&H);
	h_send(&H, "{call,1,{sys,sleep,[10]}}");
	h_send(&H, "{mfa,{sys,ping,[]}}");
	size_t n, used;
	uint8_t *p = h_frame("{mfa,{sys,echo,[<<\"never finished\">>]}}", &n);
	cr_assert_eq(sshrpc_rpc_session_input(H.s, p, n / 2, &used, H.now), SSHRPC_OK);
	free(p);
	cr_expect_eq(sshrpc_rpc_session_input_eof(H.s, H.now), SSHRPC_OK);
	cr_expect(h_logged(&H, "stream ended inside a message"));
	cr_expect(!(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_DONE));
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 10), SSHRPC_OK);
	char *r = h_replies(&H);
	cr_expect_str_eq(r, "{ok,pong} ; {reply,1,{ok,ok}}");
	free(r);
	unsigned st = sshrpc_rpc_session_state(H.s);
	cr_expect_eq(st, SSHRPC_RPC_DONE | SSHRPC_RPC_FAILED);
	/* cut inside the length prefix */
	sshrpc_rpc_session_free(H.s);
	h_start(&H);
	const uint8_t two[] = { 0, 0 };
	cr_assert_eq(sshrpc_rpc_session_input(H.s, two, 2, &used, H.now), SSHRPC_OK);
	cr_expect_eq(sshrpc_rpc_session_input_eof(H.s, H.now), SSHRPC_OK);
	cr_expect_eq(sshrpc_rpc_session_state(H.s), SSHRPC_RPC_DONE | SSHRPC_RPC_FAILED);
	/* a clean end */
	sshrpc_rpc_session_free(H.s);
	h_start(&H);
	cr_expect_eq(sshrpc_rpc_session_input_eof(H.s, H.now), SSHRPC_OK);
	cr_expect_eq(sshrpc_rpc_session_state(H.s), SSHRPC_RPC_DONE);
	cr_expect_eq(sshrpc_rpc_session_exit_status(H.s), 0);
	h_free(&H);
}

Test(frame, write_limits)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	sshrpc_term t = sshrpc_term_binary("0123456789", 10);
	cr_expect_eq(sshrpc_frame_write(&b, &t, NULL, 16, NULL), SSHRPC_OK);
	cr_expect_eq(sshrpc_buf_len(&b), 4 + 16);
	cr_expect_eq(sshrpc_load_be32(sshrpc_buf_ptr(&b)), 16);
	cr_expect_eq(sshrpc_frame_write(&b, &t, NULL, 15, NULL), SSHRPC_E_TOO_LARGE);
	cr_expect_eq(sshrpc_buf_len(&b), 20, "nothing appended");
	sshrpc_buf_free(&b);
}
