/* sshrpc-bench codec: the RPC layer on its own, in one process (issue 6,
 * "Performance"): ETF encode and decode rates for a small term and for a
 * 1 MiB binary, and the cost of one call through a session (frame in,
 * decode, dispatch to sys:echo, encode, frame out). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "loop.h"
#include "sshrpc/rpc.h"

static double now_s(void)
{
	return (double)loop_now_us() / 1e6;
}

/* Runs body in batches of 64 until min_s seconds passed; out = ops/s. */
#define RATE(out, min_s, body)                                                                                         \
	do {                                                                                                           \
		double t0_ = now_s(), el_;                                                                             \
		long n_ = 0;                                                                                           \
		do {                                                                                                   \
			for (int k_ = 0; k_ < 64; k_++) {                                                              \
				body;                                                                                  \
			}                                                                                              \
			n_ += 64;                                                                                      \
		} while ((el_ = now_s() - t0_) < (min_s));                                                             \
		(out) = (double)n_ / el_;                                                                              \
	} while (0)

static int codec_case(const char *label, const sshrpc_term *t, double secs)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	sshrpc_err err = { 0 };
	if (sshrpc_etf_encode(&b, t, NULL, &err) != SSHRPC_OK) {
		printf("%s: %s\n", label, err.msg);
		return 1;
	}
	size_t size = sshrpc_buf_len(&b);
	int bad = 0;
	double enc, dec_copy, dec_borrow;
	RATE(enc, secs, {
		sshrpc_buf_reset(&b);
		bad |= sshrpc_etf_encode(&b, t, NULL, &err);
	});
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_term out;
	RATE(dec_copy, secs, {
		bad |= sshrpc_etf_decode(&h, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), 0, NULL, &out, NULL, &err);
		sshrpc_heap_free(&h);
	});
	RATE(dec_borrow, secs, {
		bad |= sshrpc_etf_decode(
			&h, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), SSHRPC_ETF_BORROW, NULL, &out, NULL, &err);
		sshrpc_heap_free(&h);
	});
	printf("%-26s %9zu %12.0f %10.1f %12.0f %10.1f %12.0f %10.1f%s\n", label, size, enc, enc * (double)size / 1e6,
		dec_copy, dec_copy * (double)size / 1e6, dec_borrow, dec_borrow * (double)size / 1e6,
		bad ? "  (errors!)" : "");
	sshrpc_buf_free(&b);
	return bad != 0;
}

int bench_codec_main(int argc, char **argv)
{
	double secs = 0.5;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--quick") == 0)
			secs = 0.05;
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_err err = { 0 };
	sshrpc_term small, big;
	static const char text[] = "{mfa,{sys,echo,[{user,<<\"alice\">>,42,[1.5,ok,\"str\"],#{k => v}}]}}";
	if (sshrpc_term_parse(&h, text, sizeof text - 1, &small, &err) != SSHRPC_OK) {
		printf("parse: %s\n", err.msg);
		return 1;
	}
	uint8_t *mib = calloc(1, 1 << 20);
	big = sshrpc_term_binary(mib, 1 << 20);
	printf("ETF codec (one process; ops/s and MB/s of encoded bytes)\n");
	printf("%-26s %9s %12s %10s %12s %10s %12s %10s\n", "term", "bytes", "encode/s", "MB/s", "decode/s", "MB/s",
		"borrow/s", "MB/s");
	int bad = codec_case("request, 15 nodes", &small, secs);
	bad |= codec_case("1 MiB binary", &big, secs);

	/* One call through a session: framed request in, reply out. */
	sshrpc_rpc_registry *reg = NULL;
	sshrpc_rpc_session *s = NULL;
	if (sshrpc_rpc_registry_new(NULL, &reg) != SSHRPC_OK || sshrpc_rpc_sys_register(reg) != SSHRPC_OK)
		return 1;
	sshrpc_rpc_config cfg = { .registry = reg };
	if (sshrpc_rpc_session_new(&cfg, &s) != SSHRPC_OK)
		return 1;
	sshrpc_buf frame;
	sshrpc_buf_init(&frame, NULL, 0);
	sshrpc_term req;
	static const char call[] = "{mfa,{sys,echo,[<<\"0123456789abcdef\">>]}}";
	if (sshrpc_term_parse(&h, call, sizeof call - 1, &req, &err) != SSHRPC_OK ||
		sshrpc_frame_write(&frame, &req, NULL, 0, &err) != SSHRPC_OK)
		return 1;
	long replies = 0;
	double calls;
	RATE(calls, secs, {
		size_t used = 0;
		bad |= sshrpc_rpc_session_input(s, sshrpc_buf_ptr(&frame), sshrpc_buf_len(&frame), &used, 0) !=
		       SSHRPC_OK;
		size_t n = 0;
		(void)sshrpc_rpc_session_output(s, &n);
		replies += n > 0;
		sshrpc_rpc_session_consume(s, n);
	});
	printf("\nDispatch: {mfa,sys:echo(<<16 bytes>>)} framed in, reply framed out, one session\n");
	printf("  %.0f calls/s, %.2f us per call%s\n", calls, 1e6 / calls, bad || replies == 0 ? "  (errors!)" : "");
	sshrpc_buf_free(&frame);
	sshrpc_rpc_session_free(s);
	sshrpc_rpc_registry_free(reg);
	sshrpc_heap_free(&h);
	free(mib);
	return bad;
}
