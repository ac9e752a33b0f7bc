/* A peer that breaks RFC 4254: each breach ends as the RFC and
 * architecture.md say — ignored, answered with a failure, or a disconnect
 * with PROTOCOL_ERROR and a message naming the rule and the channel. The
 * bad messages are injected straight into one end's input. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "pipe.h"

struct bad {
	struct tp_world w;
	bool defer_replies, defer_open, no_consume;
	int srv_requests, cli_data, srv_opens;
	uint8_t m[70000];
};

static void bad_cli(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct bad *b = ud;
	if (ev->type == SSHRPC_CONN_EV_DATA) {
		b->cli_data++;
		ev->u.data.consumed = ev->u.data.len;
	}
	(void)c;
}

static void bad_srv(void *ud, sshrpc_conn *c, sshrpc_conn_event *ev)
{
	struct bad *b = ud;
	switch (ev->type) {
	case SSHRPC_CONN_EV_CHANNEL_OPEN:
		b->srv_opens++;
		if (!b->defer_open)
			cr_assert_eq(sshrpc_chan_accept(c, ev->id, NULL), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_REQUEST:
		b->srv_requests++;
		if (!b->defer_replies && ev->u.request.want_reply)
			cr_assert_eq(sshrpc_chan_reply(c, ev->id, true), SSHRPC_OK);
		break;
	case SSHRPC_CONN_EV_DATA:
		if (!b->no_consume)
			ev->u.data.consumed = ev->u.data.len;
		break;
	default:
		break;
	}
}

/* A client and a server with channel 0 open between them. */
static struct bad *bad_new(uint32_t srv_window, uint32_t srv_max_packet)
{
	struct bad *b = calloc(1, sizeof *b);
	sshrpc_conn_cfg cc = { .on_event = bad_cli, .event_ud = b };
	sshrpc_conn_cfg sc = { .on_event = bad_srv, .event_ud = b, .window = srv_window, .max_packet = srv_max_packet };
	tp_world_init(&b->w, &cc, &sc);
	uint32_t id;
	cr_assert_eq(sshrpc_chan_open_session(b->w.cli, NULL, &id), SSHRPC_OK);
	cr_assert_eq(id, 0);
	tp_world_pump(&b->w);
	cr_assert_eq(b->srv_opens, 1);
	/* Injected messages are not the checker's business. */
	b->w.pipe->check = false;
	return b;
}

static void bad_free(struct bad *b)
{
	tp_world_free(&b->w);
	free(b);
}

static sshrpc_conn *conn_of(struct bad *b, int side)
{
	return side == 0 ? b->w.cli : b->w.srv;
}

/* Processes end side's input and expects it to end the connection. */
static void expect_disconnect(struct bad *b, int side, const char *needle)
{
	sshrpc_conn *c = conn_of(b, side);
	int rc = sshrpc_conn_process(c, 0);
	cr_assert_eq(rc, SSHRPC_E_PROTOCOL, "process returned %d (%s)", rc, sshrpc_strerror(rc));
	cr_assert(sshrpc_conn_is_dead(c));
	const sshrpc_err *e = sshrpc_conn_error(c);
	cr_assert_not_null(e);
	cr_assert_eq(e->reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert(strstr(e->msg, needle) != NULL, "message \"%s\" lacks \"%s\"", e->msg, needle);
	struct tp_end *end = &b->w.pipe->end[side];
	cr_assert(end->disconnected, "SSH_MSG_DISCONNECT was sent");
	cr_assert_eq(end->disc_reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert_str_eq(end->disc_msg, e->msg);
	/* Dead stays dead. */
	cr_assert_eq(sshrpc_conn_process(c, 0), SSHRPC_E_PROTOCOL);
	size_t n;
	cr_assert_eq(sshrpc_chan_write(c, 0, "x", 1, &n), SSHRPC_E_CLOSED);
}

static void expect_alive(struct bad *b, int side)
{
	sshrpc_conn *c = conn_of(b, side);
	int rc = sshrpc_conn_process(c, 0);
	cr_assert_eq(rc, SSHRPC_OK, "process: %s", sshrpc_conn_error(c) ? sshrpc_conn_error(c)->msg : "");
	cr_assert_not(b->w.pipe->end[side].disconnected);
}

static void inject(struct bad *b, int side, size_t len)
{
	tp_inject(b->w.pipe, side, b->m, len);
}

/* The next message end side sent (waiting for the other end). */
static void expect_sent(struct bad *b, int side, uint8_t type, uint32_t recipient)
{
	uint8_t *m;
	size_t len;
	cr_assert(tp_take(b->w.pipe, 1 - side, &m, &len), "end %d sent nothing", side);
	cr_assert_eq(m[0], type, "sent message %u, expected %u", m[0], type);
	if (len >= 5)
		cr_assert_eq(sshrpc_load_be32(m + 1), recipient);
	free(m);
}

static void expect_nothing_sent(struct bad *b, int side)
{
	cr_assert_eq(tp_pending(b->w.pipe, 1 - side), 0);
}

Test(bad_input, data_on_a_channel_never_opened)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 5u, "abc", (size_t)3));
	expect_disconnect(b, 1, "channel 5, which is not open");
	bad_free(b);
}

Test(bad_input, data_on_a_closed_channel)
{
	struct bad *b = bad_new(0, 0);
	cr_assert_eq(sshrpc_chan_close(b->w.cli, 0), SSHRPC_OK);
	tp_world_pump(&b->w);
	cr_assert_eq(sshrpc_conn_channel_count(b->w.srv), 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, "abc", (size_t)3));
	expect_disconnect(b, 1, "SSH_MSG_CHANNEL_DATA for channel 0, which is not open");
	bad_free(b);
}

Test(bad_input, messages_after_our_close_are_ignored)
{
	/* RFC 4254 §5.3: the peer may have sent these before it saw our CLOSE. */
	struct bad *b = bad_new(0, 0);
	cr_assert_eq(sshrpc_chan_close(b->w.cli, 0), SSHRPC_OK);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, "abc", (size_t)3));
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_WINDOW_ADJUST, "uu", 0u, 100u));
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usbu", 0u, "exit-status", 1, 0u));
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EOF, "u", 0u));
	expect_alive(b, 0);
	cr_assert_eq(b->cli_data, 0);
	expect_sent(b, 0, SSH_MSG_CHANNEL_CLOSE, 0); /* our CLOSE, nothing after it */
	expect_nothing_sent(b, 0);
	bad_free(b);
}

Test(bad_input, data_after_eof)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EOF, "u", 0u));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, "late", (size_t)4));
	expect_disconnect(b, 1, "SSH_MSG_CHANNEL_DATA on channel 0 after its SSH_MSG_CHANNEL_EOF");
	bad_free(b);
}

Test(bad_input, extended_data_after_eof)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EOF, "u", 0u));
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EXTENDED_DATA, "uuS", 0u, 1u, "x", (size_t)1));
	expect_disconnect(b, 0, "SSH_MSG_CHANNEL_EXTENDED_DATA on channel 0 after its SSH_MSG_CHANNEL_EOF");
	bad_free(b);
}

Test(bad_input, second_eof)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EOF, "u", 0u));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EOF, "u", 0u));
	expect_disconnect(b, 1, "second SSH_MSG_CHANNEL_EOF on channel 0");
	bad_free(b);
}

Test(bad_input, window_adjust_overflowing_2_32)
{
	struct bad *b = bad_new(0, 0);
	sshrpc_chan_info ci;
	cr_assert_eq(sshrpc_chan_get_info(b->w.cli, 0, &ci), SSHRPC_OK);
	uint32_t room = UINT32_MAX - ci.remote_window;
	/* Up to exactly 2^32-1 is fine. */
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_WINDOW_ADJUST, "uu", 0u, room));
	expect_alive(b, 0);
	cr_assert_eq(sshrpc_chan_get_info(b->w.cli, 0, &ci), SSHRPC_OK);
	cr_assert_eq(ci.remote_window, UINT32_MAX);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_WINDOW_ADJUST, "uu", 0u, 1u));
	expect_disconnect(b, 0, "above 2^32-1");
	cr_assert(strstr(sshrpc_conn_error(b->w.cli)->msg, "channel 0") != NULL);
	bad_free(b);
}

Test(bad_input, close_twice)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_CLOSE, "u", 0u));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_CLOSE, "u", 0u));
	expect_disconnect(b, 1, "SSH_MSG_CHANNEL_CLOSE for channel 0, which is not open");
	/* The first CLOSE was answered before the second broke the rule. */
	expect_sent(b, 1, SSH_MSG_CHANNEL_CLOSE, 0);
	bad_free(b);
}

Test(bad_input, request_on_unknown_channel)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usbs", 9u, "exec", 1, "ls"));
	expect_disconnect(b, 1, "SSH_MSG_CHANNEL_REQUEST for channel 9, which is not open");
	bad_free(b);
}

Test(bad_input, reply_on_unknown_channel)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_SUCCESS, "u", 4000000000u));
	expect_disconnect(b, 0, "channel 4000000000, which is not open");
	bad_free(b);
}

Test(bad_input, confirmation_for_a_channel_never_opened)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_OPEN_CONFIRMATION, "uuuu", 7u, 3u, 1000u, 1000u));
	expect_disconnect(b, 0, "SSH_MSG_CHANNEL_OPEN_CONFIRMATION for channel 7, which is not open");
	bad_free(b);
}

Test(bad_input, confirmation_for_an_open_channel)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_OPEN_CONFIRMATION, "uuuu", 0u, 3u, 1000u, 1000u));
	expect_disconnect(b, 0, "was not awaiting one");
	bad_free(b);
}

Test(bad_input, failure_for_an_open_channel)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_OPEN_FAILURE, "uuss", 0u, 2u, "no", ""));
	expect_disconnect(b, 0, "SSH_MSG_CHANNEL_OPEN_FAILURE for channel 0");
	bad_free(b);
}

Test(bad_input, messages_before_confirmation)
{
	struct bad *b = bad_new(0, 0);
	uint32_t id;
	cr_assert_eq(sshrpc_chan_open_session(b->w.cli, NULL, &id), SSHRPC_OK);
	/* The server has not confirmed channel 1 yet: it cannot carry data. */
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", id, "x", (size_t)1));
	expect_disconnect(b, 0, "awaiting the peer's confirmation");
	bad_free(b);
}

Test(bad_input, messages_before_our_confirmation)
{
	struct bad *b = bad_new(0, 0);
	b->defer_open = true;
	/* A session open the server application has not answered yet: the
	 * peer cannot know our id, so nothing may name it. */
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_OPEN, "suuu", "session", 50u, 1000u, 1000u));
	expect_alive(b, 1);
	expect_nothing_sent(b, 1);
	cr_assert_eq(sshrpc_conn_channel_count(b->w.srv), 2);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_CLOSE, "u", 1u));
	expect_disconnect(b, 1, "SSH_MSG_CHANNEL_CLOSE for channel 1, which is opening (not yet confirmed by us)");
	bad_free(b);
}

Test(bad_input, data_beyond_the_window)
{
	struct bad *b = bad_new(1000, 600);
	b->no_consume = true;
	static uint8_t d[601];
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, d, (size_t)600));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, d, (size_t)401));
	expect_disconnect(b, 1, "SSH_MSG_CHANNEL_DATA of 401 bytes on channel 0 exceeds the window of 400");
	bad_free(b);
}

Test(bad_input, data_at_the_window_edge_is_fine)
{
	struct bad *b = bad_new(1000, 600);
	static uint8_t d[600];
	/* The server consumes at once: after 600 it credits back (threshold
	 * 500), so 600 + 400 + 600 all fit. */
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, d, (size_t)600));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uS", 0u, d, (size_t)400));
	expect_alive(b, 1);
	sshrpc_chan_info si;
	cr_assert_eq(sshrpc_chan_get_info(b->w.srv, 0, &si), SSHRPC_OK);
	cr_assert_eq(si.local_window, 600);
	bad_free(b);
}

Test(bad_input, data_above_max_packet)
{
	struct bad *b = bad_new(100000, 600);
	static uint8_t d[601];
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EXTENDED_DATA, "uuS", 0u, 1u, d, (size_t)601));
	expect_disconnect(
		b, 1, "SSH_MSG_CHANNEL_EXTENDED_DATA of 601 bytes on channel 0 exceeds our maximum packet size of 600");
	bad_free(b);
}

Test(bad_input, channel_reply_without_request)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_FAILURE, "u", 0u));
	expect_disconnect(b, 0, "SSH_MSG_CHANNEL_FAILURE on channel 0, which has no request awaiting a reply");
	bad_free(b);
}

Test(bad_input, global_reply_without_request)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_REQUEST_SUCCESS, ""));
	expect_disconnect(b, 1, "SSH_MSG_REQUEST_SUCCESS without a global request");
	bad_free(b);
}

Test(bad_input, malformed_messages)
{
	/* Each cut short: a recipient alone (or nothing) where more must
	 * follow. */
	struct {
		uint8_t type;
		bool recipient;
		const char *needle;
	} cases[] = {
		{ SSH_MSG_CHANNEL_DATA, true, "malformed SSH_MSG_CHANNEL_DATA" },
		{ SSH_MSG_CHANNEL_EXTENDED_DATA, true, "malformed SSH_MSG_CHANNEL_EXTENDED_DATA" },
		{ SSH_MSG_CHANNEL_OPEN, true, "malformed SSH_MSG_CHANNEL_OPEN" },
		{ SSH_MSG_CHANNEL_OPEN_CONFIRMATION, true, "malformed SSH_MSG_CHANNEL_OPEN_CONFIRMATION" },
		{ SSH_MSG_CHANNEL_OPEN_FAILURE, true, "malformed SSH_MSG_CHANNEL_OPEN_FAILURE" },
		{ SSH_MSG_CHANNEL_WINDOW_ADJUST, true, "malformed SSH_MSG_CHANNEL_WINDOW_ADJUST" },
		{ SSH_MSG_CHANNEL_EOF, false, "malformed SSH_MSG_CHANNEL_EOF" },
		{ SSH_MSG_CHANNEL_CLOSE, false, "malformed SSH_MSG_CHANNEL_CLOSE" },
		{ SSH_MSG_CHANNEL_REQUEST, true, "malformed SSH_MSG_CHANNEL_REQUEST" },
		{ SSH_MSG_CHANNEL_SUCCESS, false, "malformed SSH_MSG_CHANNEL_SUCCESS" },
		{ SSH_MSG_GLOBAL_REQUEST, true, "malformed SSH_MSG_GLOBAL_REQUEST" },
		{ SSH_MSG_GLOBAL_REQUEST, false, "malformed SSH_MSG_GLOBAL_REQUEST" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct bad *b = bad_new(0, 0);
		size_t len = cases[i].recipient ? tp_build(b->m, sizeof b->m, cases[i].type, "u", 0u)
						: tp_build(b->m, sizeof b->m, cases[i].type, "");
		inject(b, 1, len);
		expect_disconnect(b, 1, cases[i].needle);
		bad_free(b);
	}
	/* A string whose length runs past the end. */
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_DATA, "uu", 0u, 100u));
	expect_disconnect(b, 1, "malformed SSH_MSG_CHANNEL_DATA");
	bad_free(b);
	/* Trailing bytes after a fixed layout. */
	b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_EOF, "uu", 0u, 0u));
	expect_disconnect(b, 1, "malformed SSH_MSG_CHANNEL_EOF");
	bad_free(b);
	/* A known request with a bad body. */
	b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usbu", 0u, "exec", 1, 50u));
	expect_disconnect(b, 1, "malformed \"exec\" request on channel 0");
	bad_free(b);
}

Test(bad_input, message_numbers_outside_rfc4254)
{
	uint8_t types[] = { 85, 101, 127, 200 };
	for (size_t i = 0; i < sizeof types; i++) {
		struct bad *b = bad_new(0, 0);
		inject(b, 1, tp_build(b->m, sizeof b->m, types[i], "u", 0u));
		/* RFC 4253 §11.4: answered with SSH_MSG_UNIMPLEMENTED (its body,
		 * the sequence number, is the transport's to fill in). */
		expect_alive(b, 1);
		expect_sent(b, 1, SSH_MSG_UNIMPLEMENTED, 0);
		expect_nothing_sent(b, 1);
		bad_free(b);
	}
}

Test(bad_input, unknown_channel_requests_get_failure)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usb", 0u, "frobnicate@example.com", 1));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usb", 0u, "keepalive@openssh.com", 1));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usb", 0u, "x11-req", 0));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usbu", 0u, "exit-status", 1, 0u));
	expect_alive(b, 1);
	expect_sent(b, 1, SSH_MSG_CHANNEL_FAILURE, 0);
	expect_sent(b, 1, SSH_MSG_CHANNEL_FAILURE, 0);
	/* x11-req wanted no reply; exit-status is not for a server. */
	expect_sent(b, 1, SSH_MSG_CHANNEL_FAILURE, 0);
	expect_nothing_sent(b, 1);
	cr_assert_eq(b->srv_requests, 0);
	bad_free(b);
}

Test(bad_input, unknown_global_requests_get_failure)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_GLOBAL_REQUEST, "sb", "keepalive@openssh.com", 1));
	inject(b, 1,
		tp_build(b->m, sizeof b->m, SSH_MSG_GLOBAL_REQUEST, "sbr", "what@example.com", 1, "zz", (size_t)2));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_GLOBAL_REQUEST, "sb", "quiet@example.com", 0));
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_GLOBAL_REQUEST, "sbsu", "tcpip-forward", 1, "0.0.0.0", 80u));
	expect_alive(b, 1);
	for (int i = 0; i < 3; i++) {
		uint8_t *m;
		size_t len;
		cr_assert(tp_take(b->w.pipe, 0, &m, &len));
		cr_assert_eq(m[0], SSH_MSG_REQUEST_FAILURE);
		cr_assert_eq(len, 1);
		free(m);
	}
	expect_nothing_sent(b, 1);
	bad_free(b);
}

Test(bad_input, session_after_no_more_sessions)
{
	struct bad *b = bad_new(0, 0);
	cr_assert_eq(sshrpc_conn_no_more_sessions(b->w.cli), SSHRPC_OK);
	uint32_t id;
	cr_assert_eq(sshrpc_chan_open_session(b->w.cli, NULL, &id), SSHRPC_E_STATE);
	expect_alive(b, 1);
	/* Other channel types are still refused the ordinary way. */
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_OPEN, "suuu", "x11", 3u, 1000u, 1000u));
	expect_alive(b, 1);
	expect_sent(b, 1, SSH_MSG_CHANNEL_OPEN_FAILURE, 3);
	inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_OPEN, "suuu", "session", 3u, 1000u, 1000u));
	expect_disconnect(b, 1, "session channel opened after no-more-sessions@openssh.com");
	bad_free(b);
}

Test(bad_input, too_many_requests_awaiting_a_reply)
{
	struct bad *b = bad_new(0, 0);
	b->defer_replies = true;
	for (unsigned i = 0; i < SSHRPC_CONN_MAX_PENDING_REPLIES; i++)
		inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usbs", 0u, "env", 1, "A"));
	expect_disconnect(b, 1, "malformed \"env\"");
	bad_free(b);

	b = bad_new(0, 0);
	b->defer_replies = true;
	for (unsigned i = 0; i <= SSHRPC_CONN_MAX_PENDING_REPLIES; i++)
		inject(b, 1, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_REQUEST, "usbss", 0u, "env", 1, "A", "1"));
	expect_disconnect(b, 1, "more than 32 requests awaiting our reply on channel 0");
	cr_assert_eq(b->srv_requests, SSHRPC_CONN_MAX_PENDING_REPLIES);
	bad_free(b);
}

Test(bad_input, window_adjust_on_unknown_channel)
{
	struct bad *b = bad_new(0, 0);
	inject(b, 0, tp_build(b->m, sizeof b->m, SSH_MSG_CHANNEL_WINDOW_ADJUST, "uu", 1u, 10u));
	expect_disconnect(b, 0, "SSH_MSG_CHANNEL_WINDOW_ADJUST for channel 1, which is not open");
	bad_free(b);
}
