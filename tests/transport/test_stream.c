/* Data streams through a client/server pair with many rekeys; messages
 * queued during a key exchange; the time-based rekey. */
#include <criterion/criterion.h>
#include <string.h>

#include "pair.h"

static test_hostkeys hk;

static void setup(void)
{
	test_hostkeys_make(&hk, false);
}

static void teardown(void)
{
	test_hostkeys_free(&hk);
}

TestSuite(stream, .init = setup, .fini = teardown);

/* Message i: type 94, uint32 i, then (i * 7919) % 30000 + 1 bytes of a
 * pattern that depends on i. */
static size_t msg_size(uint32_t i)
{
	return (i * 7919u) % 30000u + 1;
}

static uint8_t pattern(uint32_t i, size_t j)
{
	return (uint8_t)(i * 31u + j * 7u);
}

typedef struct stream_state {
	uint32_t next[2]; /* next expected index, [0] at the client, [1] at the server */
	uint32_t bad;
} stream_state;

static int on_msg(void *ud, bool server, const uint8_t *m, size_t n)
{
	stream_state *st = ud;
	uint32_t *next = &st->next[server ? 1 : 0];
	if (n < 5 || m[0] != SSH_MSG_CHANNEL_DATA) {
		st->bad++;
		return 0;
	}
	uint32_t i = sshrpc_load_be32(m + 1);
	if (i != *next || n != 5 + msg_size(i)) {
		st->bad++;
		return 0;
	}
	for (size_t j = 0; j < n - 5; j++)
		if (m[5 + j] != pattern(i, j)) {
			st->bad++;
			return 0;
		}
	(*next)++;
	return 0;
}

static int send_one(sshrpc_transport *t, uint32_t i)
{
	sshrpc_msg_io io = sshrpc_transport_io(t);
	sshrpc_buf *w;
	int rc = io.begin(io.ctx, SSH_MSG_CHANNEL_DATA, &w);
	if (rc != SSHRPC_OK)
		return rc;
	uint8_t *d;
	size_t n = msg_size(i);
	cr_assert_eq(sshrpc_buf_put_u32(w, i), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_reserve(w, n, &d), SSHRPC_OK);
	for (size_t j = 0; j < n; j++)
		d[j] = pattern(i, j);
	return io.end(io.ctx);
}

static void stream(const char *cipher, const char *mac, uint32_t count, uint64_t rekey_bytes)
{
	test_pair p;
	stream_state st = { { 0, 0 }, 0 };
	test_pair_config(&p, &hk);
	p.cc.ciphers = p.sc.ciphers = cipher;
	p.cc.macs = p.sc.macs = mac;
	p.cc.rekey_bytes = rekey_bytes;
	p.sc.rekey_bytes = rekey_bytes + rekey_bytes / 3;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	uint32_t sent[2] = { 0, 0 };
	while (sent[0] < count || sent[1] < count) {
		for (int side = 0; side < 2; side++) {
			sshrpc_transport *t = side == 0 ? p.c : p.s;
			for (int k = 0; k < 5 && sent[side] < count; k++) {
				int rc = send_one(t, sent[side]);
				if (rc == SSHRPC_E_WOULDBLOCK)
					break;
				cr_assert_eq(rc, SSHRPC_OK, "send %u: %d %s", sent[side], rc,
					sshrpc_transport_error(t)->msg);
				sent[side]++;
			}
		}
		cr_assert_eq(test_pair_run(&p, on_msg, &st), 0, "client '%s' server '%s'",
			sshrpc_transport_error(p.c)->msg, sshrpc_transport_error(p.s)->msg);
	}
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0);
	cr_assert_eq(st.bad, 0);
	cr_assert_eq(st.next[1], count, "server got %u of %u", st.next[1], count);
	cr_assert_eq(st.next[0], count, "client got %u of %u", st.next[0], count);
	const sshrpc_transport_stats *cs = sshrpc_transport_get_stats(p.c), *ss = sshrpc_transport_get_stats(p.s);
	cr_assert_eq(cs->packets_out, ss->packets_in);
	cr_assert_eq(ss->packets_out, cs->packets_in);
	cr_assert_eq(cs->bytes_out, ss->bytes_in);
	cr_assert_eq(cs->kex_count, ss->kex_count);
	uint64_t total = cs->bytes_out + cs->bytes_in;
	/* both directions count against each side's limit: roughly one kex
	 * per rekey_bytes of traffic */
	cr_assert_geq(cs->kex_count, total / (rekey_bytes * 2 + rekey_bytes), "only %u kex for %llu bytes",
		cs->kex_count, (unsigned long long)total);
	cr_log_info("%s/%s: %u messages each way, %llu bytes, %u key exchanges", cipher, mac, count,
		(unsigned long long)total, cs->kex_count);
	test_pair_free(&p);
}

Test(stream, rekey_chacha)
{
	stream("chacha20-poly1305@openssh.com", "hmac-sha2-256", 2000, 300 * 1024);
}
Test(stream, rekey_gcm)
{
	stream("aes128-gcm@openssh.com", "hmac-sha2-256", 2000, 200 * 1024);
}
Test(stream, rekey_ctr_etm)
{
	stream("aes256-ctr", "hmac-sha2-512-etm@openssh.com", 2000, 400 * 1024);
}
Test(stream, rekey_cbc_hmac)
{
	stream("aes192-cbc", "hmac-sha1", 1000, 256 * 1024);
}

Test(stream, queued_during_rekey)
{
	test_pair p;
	stream_state st = { { 0, 0 }, 0 };
	test_pair_config(&p, &hk);
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0);
	size_t before;
	sshrpc_transport_output(p.c, &before);
	cr_assert_eq(before, 0);
	cr_assert_eq(sshrpc_transport_rekey(p.c), SSHRPC_OK);
	cr_assert(sshrpc_transport_in_kex(p.c));
	size_t kexinit_len;
	sshrpc_transport_output(p.c, &kexinit_len);
	/* RFC 4253 §7.1: these wait until our NEWKEYS */
	for (uint32_t i = 0; i < 40; i++)
		cr_assert_eq(send_one(p.c, i), SSHRPC_OK);
	size_t after;
	sshrpc_transport_output(p.c, &after);
	cr_assert_eq(after, kexinit_len, "messages went out during the key exchange");
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0, "%s / %s", sshrpc_transport_error(p.c)->msg,
		sshrpc_transport_error(p.s)->msg);
	cr_assert_eq(st.next[1], 40);
	cr_assert_eq(st.bad, 0);
	cr_assert_eq(sshrpc_transport_get_stats(p.c)->kex_count, 2);
	cr_assert(!sshrpc_transport_in_kex(p.c));
	/* the session id stays, the exchange hash changes */
	size_t l1, l2;
	const uint8_t *sid = sshrpc_transport_session_id(p.c, &l1), *h = sshrpc_transport_exchange_hash(p.c, &l2);
	cr_assert(l1 == l2 && memcmp(sid, h, l1) != 0);
	test_pair_free(&p);
}

Test(stream, rekey_by_server_and_both_at_once)
{
	test_pair p;
	stream_state st = { { 0, 0 }, 0 };
	test_pair_config(&p, &hk);
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0);
	cr_assert_eq(sshrpc_transport_rekey(p.s), SSHRPC_OK);
	cr_assert_eq(send_one(p.s, 0), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0);
	cr_assert_eq(sshrpc_transport_get_stats(p.c)->kex_count, 2);
	/* both sides start one before seeing the other's KEXINIT */
	cr_assert_eq(sshrpc_transport_rekey(p.s), SSHRPC_OK);
	cr_assert_eq(sshrpc_transport_rekey(p.c), SSHRPC_OK);
	cr_assert_eq(send_one(p.c, 0), SSHRPC_OK);
	cr_assert_eq(send_one(p.s, 1), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0, "%s / %s", sshrpc_transport_error(p.c)->msg,
		sshrpc_transport_error(p.s)->msg);
	cr_assert_eq(sshrpc_transport_get_stats(p.c)->kex_count, 3);
	cr_assert_eq(sshrpc_transport_get_stats(p.s)->kex_count, 3);
	cr_assert_eq(st.next[0], 2);
	cr_assert_eq(st.next[1], 1);
	cr_assert_eq(st.bad, 0);
	/* no ext-info after a rekey: the client still has the first one only */
	cr_assert_not_null(sshrpc_transport_server_sig_algs(p.c));
	test_pair_free(&p);
}

Test(stream, rekey_on_time)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.now_ms = p.sc.now_ms = 5000;
	p.cc.rekey_interval_ms = 60000;
	p.sc.rekey_interval_ms = SSHRPC_REKEY_NEVER;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(sshrpc_transport_next_deadline(p.c), UINT64_MAX); /* not established yet */
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	cr_assert_eq(sshrpc_transport_next_deadline(p.c), 65000);
	cr_assert_eq(sshrpc_transport_next_deadline(p.s), UINT64_MAX);
	cr_assert_eq(sshrpc_transport_tick(p.c, 64999), SSHRPC_OK);
	cr_assert(!sshrpc_transport_in_kex(p.c));
	cr_assert_eq(sshrpc_transport_tick(p.c, 65000), SSHRPC_OK);
	cr_assert(sshrpc_transport_in_kex(p.c));
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	cr_assert_eq(sshrpc_transport_get_stats(p.s)->kex_count, 2);
	cr_assert_eq(sshrpc_transport_next_deadline(p.c), 125000);
	test_pair_free(&p);
}

Test(stream, pending_limit)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.pending_limit = 100000;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	/* before the first kex everything waits; the bound holds */
	uint32_t i = 0;
	int rc;
	while ((rc = send_one(p.c, i)) == SSHRPC_OK)
		i++;
	cr_assert_eq(rc, SSHRPC_E_WOULDBLOCK);
	cr_assert_gt(i, 3);
	stream_state st = { { 0, 0 }, 0 };
	cr_assert_eq(test_pair_run(&p, on_msg, &st), 0);
	cr_assert_eq(st.next[1], i);
	cr_assert_eq(st.bad, 0);
	test_pair_free(&p);
}

static size_t trace_lines;
static void trace(void *ud, const char *json, size_t len)
{
	(void)ud;
	cr_assert(len > 10 && json[0] == '{' && json[len - 1] == '}');
	cr_assert_eq(strlen(json), len);
	trace_lines++;
}

Test(stream, trace_lines)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.trace = trace;
	trace_lines = 0;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	/* KEXINIT, ECDH INIT, NEWKEYS out; KEXINIT, REPLY, NEWKEYS, EXT_INFO
	 * in; keygen, shared secret, hash, verify, derive, done */
	cr_assert_geq(trace_lines, 13, "%zu lines", trace_lines);
	test_pair_free(&p);
}

Test(stream, ping_pong)
{
	test_pair p;
	test_pair_config(&p, &hk);
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(sshrpc_transport_ping(p.c, "x", 1), SSHRPC_E_UNSUPPORTED); /* no EXT_INFO yet */
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	cr_assert_eq(sshrpc_transport_ping(p.s, "x", 1), SSHRPC_E_UNSUPPORTED); /* servers do not ping */
	uint64_t sin = sshrpc_transport_get_stats(p.s)->packets_in, cin = sshrpc_transport_get_stats(p.c)->packets_in;
	cr_assert_eq(sshrpc_transport_ping(p.c, "hello", 5), SSHRPC_OK);
	/* during a rekey the PONG waits for NEWKEYS, like other messages */
	cr_assert_eq(sshrpc_transport_rekey(p.s), SSHRPC_OK);
	cr_assert_eq(sshrpc_transport_ping(p.c, "", 0), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0, "%s / %s", sshrpc_transport_error(p.c)->msg,
		sshrpc_transport_error(p.s)->msg);
	cr_assert_eq(sshrpc_transport_get_stats(p.c)->kex_count, 2);
	/* two PINGs in, two PONGs out, nothing for the layers above (the
	 * test_pair_run callback is NULL: an upper message would fail it) */
	cr_assert_geq(sshrpc_transport_get_stats(p.s)->packets_in, sin + 2);
	cr_assert_geq(sshrpc_transport_get_stats(p.c)->packets_in, cin + 2);
	test_pair_free(&p);
}

Test(stream, client_ext_info)
{
	/* our server offers ext-info-s, so our client says it takes EXT_INFO
	 * during user authentication (OpenSSH PROTOCOL §1.11); the server
	 * ignores it, and a second EXT_INFO from the server replaces
	 * server-sig-algs */
	test_pair p;
	test_pair_config(&p, &hk);
	p.sc.server_sig_algs = "ssh-ed25519";
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	cr_assert_str_eq(sshrpc_transport_server_sig_algs(p.c), "ssh-ed25519");
	static const uint8_t ext[] = { 0, 0, 0, 1, 0, 0, 0, 15, 's', 'e', 'r', 'v', 'e', 'r', '-', 's', 'i', 'g', '-',
		'a', 'l', 'g', 's', 0, 0, 0, 12, 'r', 's', 'a', '-', 's', 'h', 'a', '2', '-', '2', '5', '6' };
	cr_assert_eq(test_send(p.s, SSH_MSG_EXT_INFO, ext, sizeof ext), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	cr_assert_str_eq(sshrpc_transport_server_sig_algs(p.c), "rsa-sha2-256");
	test_pair_free(&p);
}
