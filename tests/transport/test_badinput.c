/* Bad input: each case must end in the right DISCONNECT reason with a
 * message naming the rule, and the process stays up. */
#include <criterion/criterion.h>
#include <string.h>

#include "pair.h"
#include "raw.h"
#include "transport/internal.h"

static test_hostkeys hk;

static void setup(void)
{
	test_hostkeys_make(&hk, false);
}

static void teardown(void)
{
	test_hostkeys_free(&hk);
}

TestSuite(badinput, .init = setup, .fini = teardown);

static sshrpc_transport *server(uint32_t max_packet, bool strict)
{
	sshrpc_transport_config c = { 0 };
	c.role = SSHRPC_ROLE_SERVER;
	c.host_keys = hk.keys;
	c.n_host_keys = hk.n;
	c.max_packet = max_packet;
	c.no_strict_kex = !strict;
	sshrpc_transport *t = NULL;
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_transport_new(&c, &t, &err), SSHRPC_OK, "%s", err.msg);
	return t;
}

static sshrpc_transport *client(void)
{
	sshrpc_transport_config c = { 0 };
	c.hostkey_check = sshrpc_transport_hostkey_accept_any;
	sshrpc_transport *t = NULL;
	cr_assert_eq(sshrpc_transport_new(&c, &t, NULL), SSHRPC_OK);
	return t;
}

/* The transport failed with this reason and a message containing rule, and
 * told the peer with a DISCONNECT of the same reason. */
static void expect_fail(sshrpc_transport *t, int rc, uint32_t reason, const char *rule)
{
	const sshrpc_err *e = sshrpc_transport_error(t);
	cr_assert_lt(rc, 0, "expected a failure");
	cr_assert_eq(e->reason, reason, "reason %u (%s), expected %u; message '%s'", e->reason,
		sshrpc_disconnect_reason_name(e->reason), reason, e->msg);
	cr_assert_not_null(strstr(e->msg, rule), "message '%s' lacks '%s'", e->msg, rule);
	cr_assert_eq(sshrpc_transport_get_state(t), SSHRPC_TRANSPORT_CLOSED);
}

static void expect_disconnect_sent(sshrpc_transport *t, uint32_t reason)
{
	cr_assert_eq(raw_find_disconnect(t, true), reason, "no DISCONNECT with reason %u in the output", reason);
}

static const char cver[] = "SSH-2.0-test_client\r\n";

/* ---- version exchange ------------------------------------------------------ */

Test(badinput, version_garbage)
{
	sshrpc_transport *t = server(0, true);
	raw_feed(t, "GET / HTTP/1.1\r\n", 16);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "not a version line starting with SSH-");
	expect_disconnect_sent(t, SSH_DISCONNECT_PROTOCOL_ERROR);
	sshrpc_transport_free(t);
}

Test(badinput, version_too_long)
{
	sshrpc_transport *t = server(0, true);
	char line[300];
	memset(line, 'a', sizeof line);
	memcpy(line, "SSH-2.0-", 8);
	raw_feed(t, line, sizeof line);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "version line longer than 255 characters");
	sshrpc_transport_free(t);
}

Test(badinput, version_255_ok)
{
	/* 253 characters and CR LF: exactly the limit. */
	sshrpc_transport *t = server(0, true);
	char line[255];
	memset(line, 'a', sizeof line);
	memcpy(line, "SSH-2.0-", 8);
	line[253] = '\r';
	line[254] = '\n';
	raw_feed(t, line, sizeof line);
	cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN);
	cr_assert_eq(sshrpc_transport_get_state(t), SSHRPC_TRANSPORT_FIRST_KEX);
	cr_assert_eq(strlen(sshrpc_transport_peer_version(t)), 253);
	sshrpc_transport_free(t);
}

Test(badinput, version_unsupported)
{
	sshrpc_transport *t = server(0, true);
	raw_feed(t, "SSH-1.5-old\r\n", 13);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED,
		"protocol version '1.5' is not supported");
	sshrpc_transport_free(t);
}

Test(badinput, version_199_accepted)
{
	sshrpc_transport *t = client();
	raw_feed(t, "SSH-1.99-compat\r\n", 17);
	cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN);
	cr_assert_str_eq(sshrpc_transport_peer_version(t), "SSH-1.99-compat");
	sshrpc_transport_free(t);
}

Test(badinput, version_control_char)
{
	sshrpc_transport *t = server(0, true);
	raw_feed(t,
		"SSH-2.0-a\x01"
		"b\r\n",
		13);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "non-printable byte 0x01");
	sshrpc_transport_free(t);
}

Test(badinput, version_no_dash)
{
	sshrpc_transport *t = server(0, true);
	raw_feed(t, "SSH-2.0\r\n", 9);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "no '-' after the protocol version");
	sshrpc_transport_free(t);
}

Test(badinput, client_skips_lines_before_version)
{
	sshrpc_transport *t = client();
	static const char in[] = "Welcome\r\nthis is not SSH\n\r\nSSH-2.0-srv banner text\r\n";
	/* byte by byte: lines may arrive split anywhere */
	for (size_t i = 0; i < sizeof in - 1; i++) {
		raw_feed(t, in + i, 1);
		cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN);
	}
	cr_assert_str_eq(sshrpc_transport_peer_version(t), "SSH-2.0-srv banner text");
	sshrpc_transport_free(t);
}

Test(badinput, server_refuses_lines_before_version)
{
	sshrpc_transport *t = server(0, true);
	raw_feed(t, "hello\r\nSSH-2.0-x\r\n", 18);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "not a version line");
	sshrpc_transport_free(t);
}

/* ---- packet framing --------------------------------------------------------- */

static void bad_length(uint32_t len, const char *rule)
{
	sshrpc_transport *t = server(35000, true);
	uint8_t pkt[64];
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_packet_fields(pkt, sizeof pkt, len, 4, (const uint8_t *)"\x14\0\0\0\0\0\0\0", 8);
	raw_feed(t, pkt, n);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, rule);
	expect_disconnect_sent(t, SSH_DISCONNECT_PROTOCOL_ERROR);
	sshrpc_transport_free(t);
}

Test(badinput, packet_length_0)
{
	bad_length(0, "packet length 0 is below the minimum of 12 (RFC 4253 §6)");
}
Test(badinput, packet_length_1)
{
	bad_length(1, "packet length 1 is below the minimum of 12");
}
Test(badinput, packet_length_35001)
{
	bad_length(35001, "packet length 35001 exceeds maximum 35000 (RFC 4253 §6.1)");
}
Test(badinput, packet_length_2_31)
{
	bad_length(0x80000000u, "packet length 2147483648 exceeds maximum 35000");
}
Test(badinput, packet_length_2_32_minus_1)
{
	bad_length(0xffffffffu, "packet length 4294967295 exceeds maximum 35000");
}
Test(badinput, packet_length_unaligned)
{
	bad_length(13, "packet length 13 is not a multiple of the cipher block size 8");
}

Test(badinput, packet_length_35000_accepted)
{
	/* The limit itself passes the length check: an IGNORE of that size. */
	sshrpc_transport *t = server(35000, false);
	static uint8_t pkt[35004];
	raw_feed(t, cver, sizeof cver - 1);
	sshrpc_store_be32(pkt, 35000 - 4); /* (4 + len) % 8 == 0 */
	pkt[4] = 4;
	pkt[5] = SSH_MSG_IGNORE;
	memset(pkt + 6, 0, sizeof pkt - 6);
	raw_feed(t, pkt, 4 + 35000 - 4);
	cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN, "%s", sshrpc_transport_error(t)->msg);
	cr_assert_eq(sshrpc_transport_get_stats(t)->packets_in, 1);
	sshrpc_transport_free(t);
}

Test(badinput, padding_longer_than_packet)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pkt[64], body[11] = { SSH_MSG_IGNORE };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_packet_fields(pkt, sizeof pkt, 12, 200, body, sizeof body);
	raw_feed(t, pkt, n);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR,
		"padding length 200 does not fit in packet length 12");
	sshrpc_transport_free(t);
}

Test(badinput, padding_below_4)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pkt[64], body[11] = { SSH_MSG_IGNORE };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_packet_fields(pkt, sizeof pkt, 12, 3, body, sizeof body);
	raw_feed(t, pkt, n);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "padding length 3 is below the minimum of 4");
	sshrpc_transport_free(t);
}

Test(badinput, empty_payload)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pkt[64], body[11] = { 0 };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_packet_fields(pkt, sizeof pkt, 12, 11, body, sizeof body);
	raw_feed(t, pkt, n);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "empty payload");
	sshrpc_transport_free(t);
}

Test(badinput, eof_mid_packet)
{
	sshrpc_transport *t = server(0, true);
	raw_feed(t, cver, sizeof cver - 1);
	raw_feed(t, "\0\0\0\x0c\x04", 5);
	sshrpc_transport_input_eof(t);
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_CONNECTION_LOST, "in the middle of a packet");
	/* nothing is said to a peer that is gone */
	cr_assert_eq(raw_find_disconnect(t, true), 0);
	sshrpc_transport_free(t);
}

/* ---- kex -------------------------------------------------------------------- */

Test(badinput, kexinit_no_common_cipher)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.ciphers = "aes128-ctr";
	p.sc.ciphers = "aes256-ctr";
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	int rc = test_pair_run(&p, NULL, NULL);
	cr_assert_lt(rc, 0);
	const sshrpc_err *e = sshrpc_transport_error(p.s);
	cr_assert_eq(e->reason, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "%s", e->msg);
	cr_assert_not_null(strstr(e->msg, "no common cipher client to server: client offers 'aes128-ctr', server "
					  "offers 'aes256-ctr' (RFC 4253 §7.1)"),
		"%s", e->msg);
	test_pair_free(&p);
}

Test(badinput, kexinit_no_common_kex)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600];
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, "diffie-hellman-group1-sha1,ext-info-c", NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "no common key exchange algorithm");
	sshrpc_transport_free(t);
}

Test(badinput, kexinit_malformed)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600];
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n - 5)); /* no boolean, no reserved */
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "malformed KEXINIT");
	sshrpc_transport_free(t);
}

Test(badinput, newkeys_out_of_order)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600];
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	uint8_t nk = SSH_MSG_NEWKEYS;
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, &nk, 1));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR,
		"NEWKEYS out of order: key exchange state is 'waiting for the kex init' (RFC 4253 §7.3)");
	sshrpc_transport_free(t);
}

Test(badinput, second_kexinit)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600];
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "message 20 (KEXINIT) repeated");
	sshrpc_transport_free(t);
}

Test(badinput, unknown_message_before_kex_strict)
{
	/* A strict server learns only from the KEXINIT that the first packet
	 * should have been KEXINIT (draft-ietf-sshm-strict-kex §3.2). */
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600], unk[3] = { 25, 1, 2 };
	raw_feed(t, cver, sizeof cver - 1);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, unk, sizeof unk));
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR,
		"strict kex: KEXINIT was not the first packet received");
	sshrpc_transport_free(t);
}

Test(badinput, unknown_message_during_strict_kex)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600], unk[3] = { 25, 1, 2 };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, unk, sizeof unk));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR,
		"message 25 (UNKNOWN) is not allowed during a strict initial key exchange");
	sshrpc_transport_free(t);
}

static void count_unimpl(void *ud, const uint8_t *p, size_t n)
{
	uint32_t *seen = ud;
	if (n == 5 && p[0] == SSH_MSG_UNIMPLEMENTED)
		*seen = 0x100 | sshrpc_load_be32(p + 1);
}

Test(badinput, unknown_message_before_kex_not_strict)
{
	/* Without strict kex, RFC 4253 §11.4: UNIMPLEMENTED, and the kex goes on. */
	sshrpc_transport *t = server(0, false);
	uint8_t pkt[64], unk[3] = { 25, 1, 2 };
	raw_feed(t, cver, sizeof cver - 1);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, unk, sizeof unk));
	cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN);
	uint32_t seen = 0;
	raw_parse_output(t, true, count_unimpl, &seen);
	cr_assert_eq(seen, 0x100, "UNIMPLEMENTED for packet 0 expected");
	sshrpc_transport_free(t);
}

Test(badinput, ignore_during_strict_kex)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600], ign[5] = { SSH_MSG_IGNORE, 0, 0, 0, 0 };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, ign, sizeof ign));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR,
		"message 2 (IGNORE) is not allowed during a strict initial key exchange (OpenSSH PROTOCOL §1.10)");
	sshrpc_transport_free(t);
}

Test(badinput, ignore_during_kex_not_strict)
{
	/* The same peer without the strict marker: IGNORE is fine (§7.1). */
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600], ign[5] = { SSH_MSG_IGNORE, 0, 0, 0, 0 };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, "curve25519-sha256", NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, ign, sizeof ign));
	cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN, "%s", sshrpc_transport_error(t)->msg);
	sshrpc_transport_free(t);
}

Test(badinput, upper_message_before_kex)
{
	sshrpc_transport *t = server(0, false);
	uint8_t pkt[64], m[5] = { SSH_MSG_USERAUTH_REQUEST, 0, 0, 0, 0 };
	raw_feed(t, cver, sizeof cver - 1);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, m, sizeof m));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR,
		"message 50 (USERAUTH_REQUEST) before the first key exchange completed");
	sshrpc_transport_free(t);
}

Test(badinput, kex_message_before_kexinit)
{
	sshrpc_transport *t = server(0, false);
	uint8_t pkt[64], m[5] = { 30, 0, 0, 0, 0 };
	raw_feed(t, cver, sizeof cver - 1);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, m, sizeof m));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "message 30 (KEX_INIT) outside a key exchange");
	sshrpc_transport_free(t);
}

Test(badinput, kex_init_malformed)
{
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600], m[6] = { 30, 0, 0, 0, 9, 1 };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, m, sizeof m));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_PROTOCOL_ERROR, "malformed KEX_INIT: one string expected");
	sshrpc_transport_free(t);
}

Test(badinput, kex_init_bad_point)
{
	/* An all-zero X25519 value gives an all-zero secret (RFC 7748 §6.1). */
	sshrpc_transport *t = server(0, true);
	uint8_t pl[512], pkt[600], m[37] = { 30, 0, 0, 0, 32 };
	raw_feed(t, cver, sizeof cver - 1);
	size_t n = raw_kexinit(pl, sizeof pl, NULL, NULL, NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, m, sizeof m));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "ephemeral public value is invalid");
	sshrpc_transport_free(t);
}

/* ---- first_kex_packet_follows (RFC 4253 §7.1) ---------------------------------- */

static void find_type(void *ud, const uint8_t *p, size_t n)
{
	uint8_t *t = ud;
	if (n > 0 && p[0] == *t)
		*t = 0;
}

static void guess(bool right)
{
	sshrpc_transport_config c = { 0 };
	c.role = SSHRPC_ROLE_SERVER;
	c.host_keys = hk.keys;
	c.n_host_keys = hk.n;
	c.kex_algs = "curve25519-sha256";
	sshrpc_transport *t = NULL;
	cr_assert_eq(sshrpc_transport_new(&c, &t, NULL), SSHRPC_OK);
	uint8_t pl[512], pkt[600], bogus[5] = { 30, 0, 0, 0, 1 };
	uint8_t init[37] = { 30, 0, 0, 0, 32 };
	raw_feed(t, cver, sizeof cver - 1);
	/* client prefers nistp256, server has only curve25519: a wrong guess */
	size_t n = raw_kexinit(pl, sizeof pl,
		right ? "curve25519-sha256,kex-strict-c-v00@openssh.com"
		      : "ecdh-sha2-nistp256,curve25519-sha256,kex-strict-c-v00@openssh.com",
		NULL, NULL, NULL, true);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	if (!right)
		raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, bogus, sizeof bogus));
	/* a valid X25519 public value: the base point u = 9 */
	init[5] = 9;
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, init, sizeof init));
	cr_assert_eq(raw_recv_all(t), SSHRPC_E_AGAIN, "%s", sshrpc_transport_error(t)->msg);
	uint8_t want = SSH_MSG_KEX_31;
	raw_parse_output(t, true, find_type, &want);
	cr_assert_eq(want, 0, "no KEX reply from the server");
	sshrpc_transport_free(t);
}

Test(badinput, first_kex_packet_follows_wrong_guess)
{
	guess(false);
}
Test(badinput, first_kex_packet_follows_right_guess)
{
	guess(true);
}

/* ---- after the kex ------------------------------------------------------------------ */

static void established(test_pair *p)
{
	cr_assert_eq(test_pair_start(p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(p, NULL, NULL), 0);
	cr_assert_eq(sshrpc_transport_get_state(p->s), SSHRPC_TRANSPORT_ESTABLISHED);
}

static void bad_mac(const char *cipher, const char *mac, bool corrupt_length)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.ciphers = p.sc.ciphers = cipher;
	p.cc.macs = p.sc.macs = mac;
	p.sc.max_packet = 35000;
	established(&p);
	uint8_t body[100] = { 0 };
	cr_assert_eq(test_send(p.c, SSH_MSG_SERVICE_REQUEST, body, sizeof body), SSHRPC_OK);
	size_t len;
	uint8_t *o = (uint8_t *)sshrpc_transport_output(p.c, &len);
	cr_assert_gt(len, 120);
	if (corrupt_length)
		o[1] ^= 0x40;
	else
		o[len - 30] ^= 1;
	test_move(p.c, p.s);
	int rc = raw_recv_all(p.s);
	bool block_mode =
		strstr(cipher, "gcm") == NULL && strstr(cipher, "chacha") == NULL && strstr(mac, "etm") == NULL;
	if (block_mode) {
		/* CTR/CBC with MAC-then-encrypt: the same answer for a bad length
		 * and a bad MAC, after swallowing up to a maximal packet. */
		cr_assert_eq(rc, SSHRPC_E_AGAIN, "%s", sshrpc_transport_error(p.s)->msg);
		static uint8_t zeros[40000];
		size_t taken = 0;
		cr_assert_eq(sshrpc_transport_feed(p.s, zeros, sizeof zeros, &taken), SSHRPC_OK);
		rc = raw_recv_all(p.s);
		cr_assert_lt(rc, 0);
		const sshrpc_err *e = sshrpc_transport_error(p.s);
		cr_assert_eq(e->reason, SSH_DISCONNECT_MAC_ERROR);
		cr_assert_str_eq(e->msg, "packet failed the integrity check (RFC 4253 §6.4)");
	} else if (corrupt_length && strstr(cipher, "chacha") == NULL) {
		/* length in clear: a precise complaint */
		const sshrpc_err *e = sshrpc_transport_error(p.s);
		cr_assert_lt(rc, 0);
		cr_assert_eq(e->reason, SSH_DISCONNECT_PROTOCOL_ERROR, "%s", e->msg);
		cr_assert_not_null(strstr(e->msg, "packet length"), "%s", e->msg);
	} else {
		const sshrpc_err *e = sshrpc_transport_error(p.s);
		cr_assert_lt(rc, 0);
		if (!corrupt_length) {
			cr_assert_eq(e->reason, SSH_DISCONNECT_MAC_ERROR, "%s", e->msg);
			/* packet 0 after NEWKEYS (strict kex) is the client's EXT_INFO */
			cr_assert_str_eq(e->msg, "MAC check failed on packet 1 (RFC 4253 §6.4)");
		} else {
			/* chacha: a garbled length is caught either way */
			cr_assert(e->reason == SSH_DISCONNECT_MAC_ERROR || e->reason == SSH_DISCONNECT_PROTOCOL_ERROR,
				"%s", e->msg);
		}
	}
	cr_assert_eq(sshrpc_transport_get_state(p.s), SSHRPC_TRANSPORT_CLOSED);
	test_pair_free(&p);
}

Test(badinput, bad_mac_etm)
{
	bad_mac("aes128-ctr", "hmac-sha2-256-etm@openssh.com", false);
}
Test(badinput, bad_mac_gcm)
{
	bad_mac("aes256-gcm@openssh.com", "hmac-sha2-256", false);
}
Test(badinput, bad_mac_chacha)
{
	bad_mac("chacha20-poly1305@openssh.com", "hmac-sha2-256", false);
}
Test(badinput, bad_mac_ctr)
{
	bad_mac("aes128-ctr", "hmac-sha2-256", false);
}
Test(badinput, bad_mac_cbc)
{
	bad_mac("aes128-cbc", "hmac-sha2-256", false);
}
Test(badinput, bad_length_cbc)
{
	bad_mac("aes128-cbc", "hmac-sha2-256", true);
}
Test(badinput, bad_length_ctr)
{
	bad_mac("aes256-ctr", "hmac-sha2-512", true);
}
Test(badinput, bad_length_etm)
{
	bad_mac("aes128-cbc", "hmac-sha2-256-etm@openssh.com", true);
}
Test(badinput, bad_length_gcm)
{
	bad_mac("aes128-gcm@openssh.com", "hmac-sha2-256", true);
}
Test(badinput, bad_length_chacha)
{
	bad_mac("chacha20-poly1305@openssh.com", "hmac-sha2-256", true);
}

Test(badinput, unknown_message_after_kex)
{
	test_pair p;
	test_pair_config(&p, &hk);
	established(&p);
	uint32_t seq_before = p.s->rx.seqnr;
	cr_assert_eq(test_send(p.c, 25, "xy", 2), SSHRPC_OK);
	test_move(p.c, p.s);
	cr_assert_eq(raw_recv_all(p.s), SSHRPC_E_AGAIN);
	/* the server answered UNIMPLEMENTED for that packet's number */
	cr_assert_eq(p.s->last_seqnr, seq_before);
	test_move(p.s, p.c);
	cr_assert_eq(raw_recv_all(p.c), SSHRPC_E_AGAIN);
	cr_assert_eq(sshrpc_transport_get_state(p.c), SSHRPC_TRANSPORT_ESTABLISHED);
	cr_assert_eq(sshrpc_transport_get_state(p.s), SSHRPC_TRANSPORT_ESTABLISHED);
	cr_assert_eq(sshrpc_transport_get_stats(p.c)->packets_in, sshrpc_transport_get_stats(p.s)->packets_out);
	test_pair_free(&p);
}

Test(badinput, upper_unimplemented_for_unknown_high_number)
{
	/* Numbers from 50 up go to the layer above, which answers with
	 * begin(UNIMPLEMENTED) + end(): the transport fills in the number. */
	test_pair p;
	test_pair_config(&p, &hk);
	established(&p);
	cr_assert_eq(test_send(p.c, 200, "", 0), SSHRPC_OK);
	test_move(p.c, p.s);
	sshrpc_msg_io io = sshrpc_transport_io(p.s);
	const uint8_t *m;
	size_t n;
	cr_assert_eq(io.recv(io.ctx, &m, &n), SSHRPC_OK);
	cr_assert_eq(m[0], 200);
	uint32_t seq = sshrpc_transport_last_seqnr(p.s);
	sshrpc_buf *w;
	cr_assert_eq(io.begin(io.ctx, SSH_MSG_UNIMPLEMENTED, &w), SSHRPC_OK);
	cr_assert_eq(io.end(io.ctx), SSHRPC_OK);
	/* what the client receives: decrypt through the client engine and look
	 * at the raw payload in its input buffer */
	test_move(p.s, p.c);
	uint8_t *pl;
	size_t pn;
	cr_assert_eq(sshrpc_tr_packet_next(p.c, &pl, &pn), SSHRPC_OK);
	cr_assert_eq(pn, 5);
	cr_assert_eq(pl[0], SSH_MSG_UNIMPLEMENTED);
	cr_assert_eq(sshrpc_load_be32(pl + 1), seq);
	test_pair_free(&p);
}

Test(badinput, kex_message_outside_kex)
{
	test_pair p;
	test_pair_config(&p, &hk);
	established(&p);
	cr_assert_eq(test_send(p.c, 31, "\0\0\0\0", 4), SSHRPC_OK);
	test_move(p.c, p.s);
	expect_fail(
		p.s, raw_recv_all(p.s), SSH_DISCONNECT_PROTOCOL_ERROR, "message 31 (KEX_REPLY) outside a key exchange");
	test_pair_free(&p);
}

Test(badinput, newkeys_outside_kex)
{
	test_pair p;
	test_pair_config(&p, &hk);
	established(&p);
	cr_assert_eq(test_send(p.c, SSH_MSG_NEWKEYS, "", 0), SSHRPC_OK);
	test_move(p.c, p.s);
	expect_fail(p.s, raw_recv_all(p.s), SSH_DISCONNECT_PROTOCOL_ERROR,
		"NEWKEYS out of order: key exchange state is 'no key exchange running'");
	test_pair_free(&p);
}

static int refuse(void *ud, const sshrpc_key *key, const char *alg)
{
	(void)ud;
	(void)key;
	(void)alg;
	return SSHRPC_E_HOSTKEY;
}

Test(badinput, host_key_refused)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.hostkey_check = refuse;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_lt(test_pair_run(&p, NULL, NULL), 0);
	const sshrpc_err *e = sshrpc_transport_error(p.c);
	cr_assert_eq(e->reason, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE, "%s", e->msg);
	cr_assert_not_null(strstr(e->msg, "ssh-ed25519 host key refused by the host key check"), "%s", e->msg);
	/* the server hears why */
	test_move(p.c, p.s);
	cr_assert_eq(raw_recv_all(p.s), SSHRPC_E_CLOSED);
	const sshrpc_err *se = sshrpc_transport_error(p.s);
	cr_assert_eq(se->reason, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE, "%s", se->msg);
	cr_assert_not_null(strstr(se->msg, "peer disconnected"), "%s", se->msg);
	test_pair_free(&p);
}

Test(badinput, disconnect_from_peer)
{
	test_pair p;
	test_pair_config(&p, &hk);
	established(&p);
	sshrpc_msg_io io = sshrpc_transport_io(p.c);
	cr_assert_eq(io.disconnect(io.ctx, SSH_DISCONNECT_BY_APPLICATION, "bye now"), SSHRPC_OK);
	test_move(p.c, p.s);
	int rc = raw_recv_all(p.s);
	cr_assert_eq(rc, SSHRPC_E_CLOSED);
	const sshrpc_err *e = sshrpc_transport_error(p.s);
	cr_assert_eq(e->reason, SSH_DISCONNECT_BY_APPLICATION);
	cr_assert_not_null(strstr(e->msg, "bye now"), "%s", e->msg);
	test_pair_free(&p);
}

Test(badinput, backpressure)
{
	sshrpc_transport *t = server(35000, false);
	static uint8_t junk[200000];
	memset(junk, 0, sizeof junk);
	size_t taken = 0;
	cr_assert_eq(sshrpc_transport_feed(t, junk, sizeof junk, &taken), SSHRPC_OK);
	cr_assert(taken > 0 && taken < sizeof junk);
	size_t more = 0;
	cr_assert_eq(sshrpc_transport_feed(t, junk, sizeof junk, &more), SSHRPC_E_WOULDBLOCK);
	cr_assert_eq(more, 0);
	sshrpc_transport_free(t);
}

Test(badinput, seqnr_wraps)
{
	/* RFC 4253 §6.4: sequence numbers wrap at 2^32; without strict kex
	 * nothing resets them, so start both ends near the end. */
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.no_strict_kex = p.sc.no_strict_kex = true;
	p.cc.ciphers = p.sc.ciphers = "aes128-ctr";
	p.cc.macs = p.sc.macs = "hmac-sha2-256-etm@openssh.com";
	established(&p);
	p.c->tx.seqnr = p.s->rx.seqnr = UINT32_MAX - 2;
	for (int i = 0; i < 6; i++)
		cr_assert_eq(test_send(p.c, 100, "abc", 3), SSHRPC_OK);
	test_move(p.c, p.s);
	sshrpc_msg_io io = sshrpc_transport_io(p.s);
	for (int i = 0; i < 6; i++) {
		const uint8_t *m;
		size_t n;
		cr_assert_eq(io.recv(io.ctx, &m, &n), SSHRPC_OK, "%d: %s", i, sshrpc_transport_error(p.s)->msg);
		cr_assert_eq(sshrpc_transport_last_seqnr(p.s), (uint32_t)(UINT32_MAX - 2 + (uint32_t)i));
	}
	cr_assert_eq(p.s->rx.seqnr, 3);
	test_pair_free(&p);
}

Test(badinput, host_key_of_wrong_type)
{
	/* a regression found by the fuzzer (use after free in the message) */
	sshrpc_transport_config c = { 0 };
	c.hostkey_check = sshrpc_transport_hostkey_accept_any;
	c.hostkey_algs = "ssh-ed25519";
	sshrpc_transport *t = NULL;
	cr_assert_eq(sshrpc_transport_new(&c, &t, NULL), SSHRPC_OK);
	raw_feed(t, "SSH-2.0-srv\r\n", 13);
	uint8_t pl[512], pkt[1200];
	size_t n = raw_kexinit(pl, sizeof pl, "curve25519-sha256", "ssh-ed25519", NULL, NULL, false);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, pl, n));
	sshrpc_key *k = NULL;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ECDSA_P256, 0, &k), SSHRPC_OK);
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_buf_put_u8(&b, SSH_MSG_KEX_31), SSHRPC_OK);
	size_t mark;
	cr_assert_eq(sshrpc_buf_string_begin(&b, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_key_to_blob(k, &b), SSHRPC_OK);
	sshrpc_buf_string_end(&b, mark);
	uint8_t q[32] = { 9 };
	cr_assert_eq(sshrpc_buf_put_string(&b, q, sizeof q), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, "sig", 3), SSHRPC_OK);
	raw_feed(t, pkt, raw_packet(pkt, sizeof pkt, sshrpc_buf_ptr(&b), b.len));
	expect_fail(t, raw_recv_all(t), SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
		"the server sent a ecdsa-sha2-nistp256 host key for negotiated algorithm ssh-ed25519");
	sshrpc_buf_free(&b);
	sshrpc_key_free(k);
	sshrpc_transport_free(t);
}
