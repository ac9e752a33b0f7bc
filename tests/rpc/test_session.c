/* Dispatch over a session: the sys module, ordering of mfa replies,
 * pipelined calls answered out of order, casts, access control, errors,
 * end of stream, backpressure, exec mode. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define EXPECT_REPLIES(H, want)                                                                                        \
	do {                                                                                                           \
		char *got_ = h_replies(H);                                                                             \
		cr_expect_str_eq(got_, want, "replies: %s\n    want: %s", got_, want);                                 \
		free(got_);                                                                                            \
	} while (0)

/* ---- test functions: test:wait/1 defers until the test answers it ---- */

struct waits {
	uint64_t token[16];
	sshrpc_term arg[16];
	sshrpc_rpc_session *s;
	size_t n;
	size_t cancelled;
};

static int t_wait(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	struct waits *w = sshrpc_rpc_call_userdata(call);
	w->token[w->n] = sshrpc_rpc_call_defer(call);
	w->arg[w->n] = argv[0];
	w->s = sshrpc_rpc_call_session(call);
	w->n++;
	return SSHRPC_RPC_ASYNC;
}

static void t_cancel(void *ud, sshrpc_rpc_session *s, uint64_t token)
{
	struct waits *w = ud;
	w->cancelled++;
}

/* answers from inside the handler, before returning ASYNC */
static int t_early(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	uint64_t tok = sshrpc_rpc_call_defer(call);
	sshrpc_term r = sshrpc_term_atom("early");
	cr_expect_eq(sshrpc_rpc_session_reply(sshrpc_rpc_call_session(call), tok, SSHRPC_RPC_OK, &r), SSHRPC_OK);
	return SSHRPC_RPC_ASYNC;
}

static int t_error(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	sshrpc_heap *h = sshrpc_rpc_call_heap(call);
	*result = SSHRPC_TUPLE(h, sshrpc_term_atom("custom"), sshrpc_term_int((int64_t)argc));
	return SSHRPC_RPC_ERROR;
}

static int t_invalid(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	*result = sshrpc_term_atom_n("\xff", 1); /* INVALID */
	return SSHRPC_RPC_OK;
}

static int t_any(sshrpc_rpc_call *call, size_t argc, const sshrpc_term *argv, sshrpc_term *result)
{
	*result = sshrpc_term_list(sshrpc_rpc_call_heap(call), argc, argv);
	return SSHRPC_RPC_OK;
}

static struct waits W;

static void setup(harness *H)
{
	memset(&W, 0, sizeof W);
	h_init(H);
	sshrpc_rpc_function fs[] = {
		{ .module = "test", .function = "wait", .arity = 1, .fn = t_wait, .cancel = t_cancel, .ud = &W },
		{ .module = "test", .function = "early", .arity = 0, .fn = t_early },
		{ .module = "test", .function = "error", .arity = SSHRPC_RPC_ANY_ARITY, .fn = t_error },
		{ .module = "test", .function = "invalid", .arity = 0, .fn = t_invalid },
		{ .module = "test", .function = "args", .arity = SSHRPC_RPC_ANY_ARITY, .fn = t_any },
	};
	for (size_t i = 0; i < sizeof fs / sizeof fs[0]; i++)
		cr_assert_eq(sshrpc_rpc_registry_add(H->reg, &fs[i]), SSHRPC_OK);
}

Test(session, sys_functions)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{mfa,{sys,ping,[]}}");
	h_send(&H, "{mfa,{sys,echo,[<<\"abc\">>]}}");
	h_send(&H, "{mfa,{sys,echo,[{a,[1,2|3],#{k => 1.5},\"str\",<<1:3>>}]}}");
	h_send(&H, "{mfa,{sys,add,[1,2]}}");
	h_send(&H, "{mfa,{sys,add,[1267650600228229401496703205376,1]}}");
	h_send(&H, "{mfa,{sys,add,[9223372036854775807,1]}}");
	h_send(&H, "{mfa,{sys,add,[-9223372036854775808,-1]}}");
	h_send(&H, "{mfa,{sys,add,[18446744073709551616,-18446744073709551617]}}");
	h_send(&H, "{mfa,{sys,add,[1,a]}}");
	h_send(&H, "{mfa,{sys,add,[1.0,2]}}");
	h_send(&H, "{mfa,{sys,sink,[<<0,0,0,0,0,0,0,0>>]}}");
	h_send(&H, "{mfa,{sys,sink,[<<1,2:3>>]}}");
	h_send(&H, "{mfa,{sys,sink,[abc]}}");
	h_send(&H, "{mfa,{sys,source,[16]}}");
	h_send(&H, "{mfa,{sys,source,[0]}}");
	h_send(&H, "{mfa,{sys,source,[-1]}}");
	h_send(&H, "{mfa,{sys,source,[x]}}");
	h_send(&H, "{mfa,{sys,sleep,[0]}}");
	h_send(&H, "{mfa,{sys,sleep,[-5]}}");
	EXPECT_REPLIES(&H, "{ok,pong} ; {ok,<<\"abc\">>} ; {ok,{a,[1,2|3],#{k => 1.5},\"str\",<<1:3>>}} ; {ok,3} ; "
			   "{ok,1267650600228229401496703205377} ; {ok,9223372036854775808} ; "
			   "{ok,-9223372036854775809} ; {ok,-1} ; {error,{badarg,{sys,add,2}}} ; "
			   "{error,{badarg,{sys,add,2}}} ; {ok,8} ; {ok,2} ; {error,{badarg,{sys,sink,1}}} ; "
			   "{ok,<<0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0>>} ; {ok,<<>>} ; {error,{badarg,{sys,source,1}}} ; "
			   "{error,{badarg,{sys,source,1}}}");
	/* sleep(0) answers at the next tick; the badarg behind it waits its turn */
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{ok,ok} ; {error,{badarg,{sys,sleep,1}}}");
	h_free(&H);
}

Test(session, errors)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{mfa,{lists,reverse,[[1,2,3]]}}");
	h_send(&H, "{mfa,{sys,ping,[extra]}}");
	h_send(&H, "{mfa,{sys,ping,[a|b]}}");
	h_send(&H, "{mfa,{sys,ping}}");
	h_send(&H, "{nope,1}");
	h_send(&H, "{call,7,{sys,ping,x}}");
	h_send(&H, "{call,8,{sys,nope,[]}}");
	h_send(&H, "{cast,garbage}");
	h_send(&H, "{mfa,{test,error,[a,b]}}");
	h_send(&H, "{mfa,{test,invalid,[]}}");
	h_send(&H, "{mfa,{test,args,[1,2,3,4]}}");
	h_send(&H, "{mfa,{test,args,[]}}");
	EXPECT_REPLIES(&H,
		"{error,{undef,{lists,reverse,1}}} ; {error,{undef,{sys,ping,1}}} ; "
		"{error,{badrpc,bad_request}} ; {error,{badrpc,bad_request}} ; {error,{badrpc,bad_request}} ; "
		"{reply,7,{error,{badrpc,bad_request}}} ; {reply,8,{error,{undef,{sys,nope,0}}}} ; "
		"{error,{custom,2}} ; {error,{badrpc,bad_result}} ; {ok,[1,2,3,4]} ; {ok,[]}");
	/* bytes that are not ETF at all, and ETF with a pid */
	uint8_t junk[] = { 0, 0, 0, 3, 1, 2, 3 };
	size_t used;
	cr_expect_eq(sshrpc_rpc_session_input(H.s, junk, sizeof junk, &used, H.now), SSHRPC_OK);
	uint8_t pid[] = { 0, 0, 0, 18, 131, 88, 100, 0, 1, 'a', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	cr_expect_eq(sshrpc_rpc_session_input(H.s, pid, sizeof pid, &used, H.now), SSHRPC_OK);
	uint8_t empty[] = { 0, 0, 0, 0 };
	cr_expect_eq(sshrpc_rpc_session_input(H.s, empty, sizeof empty, &used, H.now), SSHRPC_OK);
	char *r = h_replies(&H);
	cr_expect(
		strncmp(r, "{error,{badrpc,bad_etf}} ; {error,{badarg,<<\"ETF: badarg: NEW_PID_EXT (88): pids",
			strlen("{error,{badrpc,bad_etf}} ; {error,{badarg,<<\"ETF: badarg: NEW_PID_EXT (88): pids")) ==
			0,
		"%s", r);
	cr_expect(strstr(r, "} ; {error,{badrpc,bad_etf}}") != NULL, "%s", r);
	free(r);
	sshrpc_rpc_stats st;
	sshrpc_rpc_session_stats(H.s, &st);
	cr_expect_eq(st.requests, 15);
	cr_expect_eq(st.casts, 1);
	h_free(&H);
}

Test(session, mfa_replies_in_order)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{mfa,{sys,sleep,[100]}}");
	h_send(&H, "{mfa,{sys,ping,[]}}");
	h_send(&H, "{mfa,{test,wait,[x]}}");
	h_send(&H, "{mfa,{sys,echo,[y]}}");
	/* a call is not held up by the waiting mfa requests */
	h_send(&H, "{call,c1,{sys,echo,[now]}}");
	EXPECT_REPLIES(&H, "{reply,c1,{ok,now}}");
	uint64_t dl;
	cr_assert(sshrpc_rpc_session_next_deadline(H.s, &dl));
	cr_expect_eq(dl, H.now + 100);
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 99), SSHRPC_OK);
	EXPECT_REPLIES(&H, "");
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 100), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{ok,ok} ; {ok,pong}");
	cr_expect(!sshrpc_rpc_session_next_deadline(H.s, &dl));
	/* the wait answered: it and the echo behind it go out */
	sshrpc_term v = sshrpc_term_atom("waited");
	cr_assert_eq(W.n, 1);
	cr_expect_eq(sshrpc_rpc_session_reply(W.s, W.token[0], SSHRPC_RPC_OK, &v), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{ok,waited} ; {ok,y}");
	/* a token answers once */
	cr_expect_eq(sshrpc_rpc_session_reply(W.s, W.token[0], SSHRPC_RPC_OK, &v), SSHRPC_E_STATE);
	h_free(&H);
}

Test(session, pipelined_calls_out_of_order)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{call,1,{test,wait,[first]}}");
	h_send(&H, "{call,2,{test,wait,[second]}}");
	h_send(&H, "{call,3,{sys,sleep,[50]}}");
	h_send(&H, "{call,4,{sys,sleep,[10]}}");
	h_send(&H, "{call,<<\"five\">>,{sys,ping,[]}}");
	EXPECT_REPLIES(&H, "{reply,<<\"five\">>,{ok,pong}}");
	cr_assert_eq(W.n, 2);
	/* the handlers complete in the opposite order */
	sshrpc_heap *h = sshrpc_rpc_session_call_heap(W.s, W.token[1]);
	cr_assert_not_null(h);
	sshrpc_term r2 = SSHRPC_TUPLE(h, sshrpc_term_atom("done"), W.arg[1]);
	cr_expect_eq(sshrpc_rpc_session_reply(W.s, W.token[1], SSHRPC_RPC_OK, &r2), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{reply,2,{ok,{done,second}}}");
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 10), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{reply,4,{ok,ok}}");
	cr_expect_eq(sshrpc_rpc_session_reply(W.s, W.token[0], SSHRPC_RPC_BADARG, NULL), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{reply,1,{error,{badarg,{test,wait,1}}}}");
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 60), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{reply,3,{ok,ok}}");
	h_send(&H, "{call,6,{test,early,[]}}");
	EXPECT_REPLIES(&H, "{reply,6,{ok,early}}");
	h_free(&H);
}

Test(session, casts)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{cast,{sys,ping,[]}}");
	h_send(&H, "{cast,{sys,nope,[]}}");
	h_send(&H, "{cast,{sys,sleep,[5]}}");
	h_send(&H, "{mfa,{sys,ping,[]}}");
	EXPECT_REPLIES(&H, "{ok,pong}");
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 5), SSHRPC_OK);
	EXPECT_REPLIES(&H, "");
	sshrpc_rpc_stats st;
	sshrpc_rpc_session_stats(H.s, &st);
	cr_expect_eq(st.casts, 3);
	cr_expect_eq(st.replies, 1);
	cr_expect_eq(st.inflight, 0);
	/* a cast still running at the end of the stream is dropped */
	h_send(&H, "{cast,{test,wait,[x]}}");
	cr_expect_eq(sshrpc_rpc_session_input_eof(H.s, H.now), SSHRPC_OK);
	cr_expect(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_DONE);
	cr_expect_eq(W.cancelled, 1);
	h_free(&H);
}

Test(session, access_control)
{
	harness H;
	setup(&H);
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_rpc_acl_from_options(&H.ta.a, "sys:*, test:args/2", "sys:sleep", &H.acl, &err), SSHRPC_OK,
		"%s", err.msg);
	H.cfg.acl = H.acl;
	h_start(&H);
	h_send(&H, "{mfa,{sys,ping,[]}}");
	h_send(&H, "{mfa,{sys,sleep,[1]}}");
	h_send(&H, "{call,1,{test,args,[1]}}");
	h_send(&H, "{mfa,{test,args,[1,2]}}");
	h_send(&H, "{mfa,{lists,reverse,[[]]}}");
	EXPECT_REPLIES(&H, "{ok,pong} ; {error,{denied,{sys,sleep,1}}} ; {reply,1,{error,{denied,{test,args,1}}}} ; "
			   "{ok,[1,2]} ; {error,{denied,{lists,reverse,1}}}");
	cr_expect(h_logged(&H, "rpc test: denied sys:sleep/1"));
	cr_expect(h_logged(&H, "denied lists:reverse/1"));
	sshrpc_rpc_stats st;
	sshrpc_rpc_session_stats(H.s, &st);
	cr_expect_eq(st.denied, 3);
	h_free(&H);
}

Test(session, eof_answers_everything_then_done)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{call,1,{sys,sleep,[20]}}");
	h_send(&H, "{mfa,{test,wait,[a]}}");
	h_send(&H, "{mfa,{sys,ping,[]}}");
	cr_expect_eq(sshrpc_rpc_session_input_eof(H.s, H.now), SSHRPC_OK);
	unsigned st = sshrpc_rpc_session_state(H.s);
	cr_expect(!(st & SSHRPC_RPC_DONE) && !(st & SSHRPC_RPC_WANT_INPUT));
	size_t used;
	uint8_t b[4] = { 0 };
	cr_expect_eq(sshrpc_rpc_session_input(H.s, b, 4, &used, H.now), SSHRPC_E_CLOSED);
	cr_expect_eq(sshrpc_rpc_session_tick(H.s, H.now + 20), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{reply,1,{ok,ok}}");
	cr_expect(!(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_DONE));
	sshrpc_term v = sshrpc_term_int(42);
	cr_expect_eq(sshrpc_rpc_session_reply(W.s, W.token[0], SSHRPC_RPC_OK, &v), SSHRPC_OK);
	cr_expect(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_DONE);
	cr_expect(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_HAS_OUTPUT);
	EXPECT_REPLIES(&H, "{ok,42} ; {ok,pong}");
	cr_expect_eq(sshrpc_rpc_session_state(H.s), SSHRPC_RPC_DONE);
	cr_expect_eq(sshrpc_rpc_session_exit_status(H.s), 0);
	h_free(&H);
}

Test(session, free_cancels_deferred_calls)
{
	harness H;
	setup(&H);
	h_start(&H);
	h_send(&H, "{call,1,{test,wait,[a]}}");
	h_send(&H, "{mfa,{test,wait,[b]}}");
	h_send(&H, "{mfa,{sys,sleep,[1000]}}");
	sshrpc_rpc_session_free(H.s);
	H.s = NULL;
	cr_expect_eq(W.cancelled, 2);
	h_free(&H);
}

Test(session, backpressure)
{
	harness H;
	setup(&H);
	H.cfg.output_high = 64;
	h_start(&H);
	/* 50 requests in one chunk: the session stops taking them when its
	 * output passes 64 bytes, and goes on once the output is read */
	size_t total = 0, one;
	uint8_t *f = h_frame("{mfa,{sys,echo,[<<\"0123456789\">>]}}", &one);
	uint8_t *all = malloc(50 * one);
	for (int i = 0; i < 50; i++)
		memcpy(all + i * one, f, one);
	total = 50 * one;
	size_t off = 0, replies = 0;
	int rounds = 0;
	while (off < total) {
		size_t used;
		int rc = sshrpc_rpc_session_input(H.s, all + off, total - off, &used, H.now);
		off += used;
		if (off < total) {
			cr_assert_eq(rc, SSHRPC_E_WOULDBLOCK);
			cr_expect(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_PAUSED);
			cr_expect(!(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_WANT_INPUT));
		}
		char *r = h_replies(&H);
		for (char *p = r; (p = strstr(p, "{ok,")) != NULL; p++)
			replies++;
		free(r);
		rounds++;
	}
	cr_expect_eq(replies, 50);
	cr_expect_gt(rounds, 5);
	free(all);
	free(f);
	/* too many calls in flight pause input too */
	sshrpc_rpc_session_free(H.s);
	H.cfg.output_high = 0;
	H.cfg.max_inflight = 2;
	h_start(&H);
	cr_expect_eq(h_send(&H, "{call,1,{test,wait,[a]}}"), SSHRPC_OK);
	cr_expect_eq(h_send(&H, "{call,2,{test,wait,[b]}}"), SSHRPC_OK);
	cr_expect_eq(h_send(&H, "{call,3,{sys,ping,[]}}"), SSHRPC_E_WOULDBLOCK);
	cr_expect(sshrpc_rpc_session_state(H.s) & SSHRPC_RPC_PAUSED);
	cr_expect_eq(sshrpc_rpc_session_reply(W.s, W.token[0], SSHRPC_RPC_OK, NULL), SSHRPC_OK);
	cr_expect_eq(h_send(&H, "{call,3,{sys,ping,[]}}"), SSHRPC_OK);
	EXPECT_REPLIES(&H, "{reply,1,{ok,[]}} ; {reply,3,{ok,pong}}");
	h_free(&H);
}

Test(session, reply_too_large)
{
	harness H;
	setup(&H);
	H.cfg.max_message = 1024;
	h_start(&H);
	h_send(&H, "{mfa,{sys,source,[1000]}}");
	h_send(&H, "{mfa,{sys,source,[1020]}}");
	h_send(&H, "{call,x,{sys,source,[1024]}}");
	h_send(&H, "{mfa,{sys,source,[100000000000]}}");
	h_send(&H, "{mfa,{sys,source,[100000000000000000000000]}}");
	char *r = h_replies(&H);
	cr_expect(strncmp(r, "{ok,<<0,0,", 10) == 0);
	cr_expect(strstr(r, ",0>>} ; {error,{badrpc,too_large}} ; {reply,x,{error,{badrpc,too_large}}} ; "
			    "{error,{badrpc,too_large}} ; {error,{badrpc,too_large}}") != NULL,
		"%s", r);
	free(r);
	h_free(&H);
	/* the heap limit per request */
	setup(&H);
	H.cfg.max_heap = 64 * 1024;
	h_start(&H);
	h_send(&H, "{mfa,{sys,source,[100000]}}");
	EXPECT_REPLIES(&H, "{error,{badrpc,too_large}}");
	h_free(&H);
}

/* ---- exec mode ---- */

static char *exec_run(harness *H, const char *cmd, int *status, size_t *outlen)
{
	h_start(H);
	cr_assert_eq(sshrpc_rpc_session_exec(H->s, cmd, strlen(cmd), H->now), SSHRPC_OK);
	for (int i = 0; i < 10 && !(sshrpc_rpc_session_state(H->s) & SSHRPC_RPC_DONE); i++) {
		uint64_t dl;
		if (sshrpc_rpc_session_next_deadline(H->s, &dl))
			cr_assert_eq(sshrpc_rpc_session_tick(H->s, dl), SSHRPC_OK);
	}
	cr_expect(sshrpc_rpc_session_state(H->s) & SSHRPC_RPC_DONE);
	size_t n;
	const uint8_t *p = sshrpc_rpc_session_output(H->s, &n);
	char *s = malloc(n + 1);
	if (n > 0)
		memcpy(s, p, n);
	s[n] = '\0';
	*outlen = n;
	*status = sshrpc_rpc_session_exit_status(H->s);
	sshrpc_rpc_session_free(H->s);
	H->s = NULL;
	return s;
}

Test(session, exec_etf_form)
{
	harness H;
	setup(&H);
	int st;
	size_t n;
	char *out = exec_run(&H, "{mfa,{sys,ping,[]}}.", &st, &n);
	char *hex = hex_encode((uint8_t *)out, n);
	cr_expect_str_eq(hex, "8368026400026f6b640004706f6e67"); /* {ok,pong}, vectors.tsv */
	cr_expect_eq(st, 0);
	free(hex);
	free(out);
	out = exec_run(&H, " {mfa,{sys,sleep,[30]}} ", &st, &n);
	hex = hex_encode((uint8_t *)out, n);
	cr_expect_str_eq(hex, "8368026400026f6b6400026f6b");
	cr_expect_eq(st, 0);
	free(hex);
	free(out);
	out = exec_run(&H, "{mfa,{sys,nope,[]}}", &st, &n);
	hex = hex_encode((uint8_t *)out, n);
	cr_expect_str_eq(hex, "8368026400056572726f726802640005756e64656668036400037379736400046e6f70656100");
	cr_expect_eq(st, 1);
	free(hex);
	free(out);
	out = exec_run(&H, "{call,9,{sys,echo,[1]}}", &st, &n);
	hex = hex_encode((uint8_t *)out, n);
	cr_expect_str_eq(hex, "8368036400057265706c79610968026400026f6b6101");
	free(hex);
	free(out);
	out = exec_run(&H, "{mfa,{sys,ping,[]}", &st, &n);
	hex = hex_encode((uint8_t *)out, n);
	cr_expect_str_eq(hex, "8368026400056572726f72680264000662616472706364000b6261645f72657175657374");
	cr_expect_eq(st, 1);
	free(hex);
	free(out);
	out = exec_run(&H, "{cast,{sys,ping,[]}}", &st, &n);
	cr_expect_eq(n, 0);
	cr_expect_eq(st, 0);
	free(out);
	h_free(&H);
}

Test(session, exec_text_form)
{
	harness H;
	setup(&H);
	int st;
	size_t n;
	char *out = exec_run(&H, "sys:echo(<<\"abc\">>).", &st, &n);
	cr_expect_str_eq(out, "{ok,<<\"abc\">>}\n");
	cr_expect_eq(st, 0);
	free(out);
	out = exec_run(&H, "lists:reverse([1,2,3])", &st, &n);
	cr_expect_str_eq(out, "{error,{undef,{lists,reverse,1}}}\n");
	cr_expect_eq(st, 1);
	free(out);
	out = exec_run(&H, "sys:add(1267650600228229401496703205376, 1)", &st, &n);
	cr_expect_str_eq(out, "{ok,1267650600228229401496703205377}\n");
	free(out);
	out = exec_run(&H, "sys:sleep(5).", &st, &n);
	cr_expect_str_eq(out, "{ok,ok}\n");
	free(out);
	out = exec_run(&H, "sys ping", &st, &n);
	cr_expect_str_eq(out, "{error,{badrpc,bad_request}}\n");
	cr_expect_eq(st, 1);
	free(out);
	/* exec takes no stream input and runs once */
	h_start(&H);
	cr_expect_eq(sshrpc_rpc_session_exec(H.s, "sys:ping()", 10, H.now), SSHRPC_OK);
	cr_expect_eq(sshrpc_rpc_session_exec(H.s, "sys:ping()", 10, H.now), SSHRPC_E_STATE);
	size_t used;
	cr_expect_eq(sshrpc_rpc_session_input(H.s, (const uint8_t *)"x", 1, &used, H.now), SSHRPC_E_CLOSED);
	h_free(&H);
}

/* ---- client helpers ---- */

Test(session, request_and_reply_helpers)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_term req, id = sshrpc_term_int(4294967296LL);
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_rpc_request_parse(&h, "sys:echo([])", 12, SSHRPC_RPC_CALL, &id, &req, &err), SSHRPC_OK);
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_etf_encode(&b, &req, NULL, NULL), SSHRPC_OK);
	char *hex = hex_encode(sshrpc_buf_ptr(&b), sshrpc_buf_len(&b));
	cr_expect_str_eq(hex, "83680364000463616c6c6e0500000000000168036400037379736400046563686f6c000000016a6a");
	free(hex);
	sshrpc_rpc_request rq;
	cr_assert_eq(sshrpc_rpc_request_check(&req, &rq), SSHRPC_OK);
	cr_expect_eq(rq.kind, SSHRPC_RPC_CALL);
	cr_expect_eq(rq.argc, 1);
	cr_expect(sshrpc_term_equal(rq.id, &id));
	cr_assert_eq(sshrpc_rpc_request_parse(&h, "sys:ping()", 10, SSHRPC_RPC_MFA, NULL, &req, &err), SSHRPC_OK);
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_term_print(&b, &req, NULL), SSHRPC_OK);
	cr_expect(sshrpc_buf_len(&b) == 19 && memcmp(sshrpc_buf_ptr(&b), "{mfa,{sys,ping,[]}}", 19) == 0);
	cr_assert_eq(sshrpc_rpc_request_parse(&h, "sys:sleep(0)", 12, SSHRPC_RPC_CAST, NULL, &req, &err), SSHRPC_OK);
	cr_expect_eq(sshrpc_rpc_request_check(&req, &rq), SSHRPC_OK);
	cr_expect_eq(rq.kind, SSHRPC_RPC_CAST);
	cr_expect_lt(sshrpc_rpc_request_parse(&h, "sys:ping", 8, SSHRPC_RPC_MFA, NULL, &req, &err), 0);
	sshrpc_term t;
	const char *txt = "{reply,4294967296,{error,{undef,{sys,nope,0}}}}";
	cr_assert_eq(sshrpc_term_parse(&h, txt, strlen(txt), &t, NULL), SSHRPC_OK);
	sshrpc_rpc_reply rp;
	cr_assert_eq(sshrpc_rpc_reply_check(&t, &rp), SSHRPC_OK);
	cr_expect(!rp.ok && rp.id != NULL && sshrpc_term_equal(rp.id, &id));
	txt = "{ok,pong}";
	cr_assert_eq(sshrpc_term_parse(&h, txt, strlen(txt), &t, NULL), SSHRPC_OK);
	cr_assert_eq(sshrpc_rpc_reply_check(&t, &rp), SSHRPC_OK);
	cr_expect(rp.ok && rp.id == NULL && sshrpc_term_is_atom(rp.value, "pong"));
	txt = "{okay,pong}";
	cr_assert_eq(sshrpc_term_parse(&h, txt, strlen(txt), &t, NULL), SSHRPC_OK);
	cr_expect_eq(sshrpc_rpc_reply_check(&t, &rp), SSHRPC_E_INVALID);
	cr_expect_eq(sshrpc_rpc_exec_form("{mfa,{sys,ping,[]}}", 19), SSHRPC_RPC_EXEC_ETF);
	cr_expect_eq(sshrpc_rpc_exec_form("  sys:ping()", 12), SSHRPC_RPC_EXEC_TEXT);
	sshrpc_buf_free(&b);
	sshrpc_heap_free(&h);
}
