/* In-process handshakes: a client and a server transport over memory, for
 * every key exchange × host key × cipher × MAC we build. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "pair.h"

static test_hostkeys hk;

static void setup(void)
{
	test_hostkeys_make(&hk, true);
}

static void teardown(void)
{
	test_hostkeys_free(&hk);
}

TestSuite(handshake, .init = setup, .fini = teardown);

/* One handshake with single-algorithm lists on both sides; then a service
 * request and accept through the io, both ways checked. */
static void one(const char *kex, const char *hostkey, const char *cipher, const char *mac)
{
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.kex_algs = p.sc.kex_algs = kex;
	p.cc.hostkey_algs = p.sc.hostkey_algs = hostkey;
	p.cc.ciphers = p.sc.ciphers = cipher;
	p.cc.macs = p.sc.macs = mac;
	int rc = test_pair_start(&p);
	cr_assert_eq(rc, SSHRPC_OK, "new %s/%s/%s/%s: %d", kex, hostkey, cipher, mac, rc);
	rc = test_pair_run(&p, NULL, NULL);
	cr_assert_eq(rc, 0, "%s/%s/%s/%s: %d client '%s' server '%s'", kex, hostkey, cipher, mac, rc,
		sshrpc_transport_error(p.c)->msg, sshrpc_transport_error(p.s)->msg);
	cr_assert_eq(sshrpc_transport_get_state(p.c), SSHRPC_TRANSPORT_ESTABLISHED, "%s/%s/%s/%s", kex, hostkey, cipher,
		mac);
	cr_assert_eq(sshrpc_transport_get_state(p.s), SSHRPC_TRANSPORT_ESTABLISHED);
	const sshrpc_transport_algs *a = sshrpc_transport_get_algs(p.c);
	cr_assert_str_eq(a->kex, kex);
	cr_assert_str_eq(a->hostkey, hostkey);
	cr_assert_str_eq(a->cipher_c2s, cipher);
	cr_assert_str_eq(a->cipher_s2c, cipher);
	cr_assert(a->strict_kex);
	size_t l1, l2;
	const uint8_t *h1 = sshrpc_transport_session_id(p.c, &l1), *h2 = sshrpc_transport_session_id(p.s, &l2);
	cr_assert(l1 > 0 && l1 == l2 && memcmp(h1, h2, l1) == 0);
	cr_assert_not_null(sshrpc_transport_server_host_key(p.c));
	cr_assert_not_null(sshrpc_transport_server_sig_algs(p.c));

	/* a message each way after the kex */
	static const uint8_t req[] = { 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r', 'a', 'u', 't', 'h' };
	cr_assert_eq(test_send(p.c, SSH_MSG_SERVICE_REQUEST, req, sizeof req), SSHRPC_OK);
	test_move(p.c, p.s);
	sshrpc_msg_io io = sshrpc_transport_io(p.s);
	const uint8_t *m;
	size_t n;
	cr_assert_eq(io.recv(io.ctx, &m, &n), SSHRPC_OK, "%s", sshrpc_transport_error(p.s)->msg);
	cr_assert_eq(n, 1 + sizeof req);
	cr_assert_eq(m[0], SSH_MSG_SERVICE_REQUEST);
	cr_assert(memcmp(m + 1, req, sizeof req) == 0);
	cr_assert_eq(test_send(p.s, SSH_MSG_SERVICE_ACCEPT, req, sizeof req), SSHRPC_OK);
	test_move(p.s, p.c);
	io = sshrpc_transport_io(p.c);
	cr_assert_eq(io.recv(io.ctx, &m, &n), SSHRPC_OK, "%s", sshrpc_transport_error(p.c)->msg);
	cr_assert_eq(m[0], SSH_MSG_SERVICE_ACCEPT);
	test_pair_free(&p);
}

static const char *const hostkeys[] = { "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	"ecdsa-sha2-nistp521", "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa" };

/* Every cipher with every MAC (AEAD ciphers once: they take no MAC). */
static void all_ciphers_macs(const char *kex, const char *hostkey)
{
	char ciphers[1024], macs[1024];
	sshrpc_algs_all(SSHRPC_ALG_CIPHER, ciphers, sizeof ciphers);
	sshrpc_algs_all(SSHRPC_ALG_MAC, macs, sizeof macs);
	char *cs = NULL;
	for (char *c = strtok_r(ciphers, ",", &cs); c != NULL; c = strtok_r(NULL, ",", &cs)) {
		bool aead = strstr(c, "gcm") != NULL || strstr(c, "chacha") != NULL;
		char ml[1024];
		memcpy(ml, macs, sizeof ml);
		char *save = NULL;
		for (char *m = strtok_r(ml, ",", &save); m != NULL; m = strtok_r(NULL, ",", &save)) {
			one(kex, hostkey, c, m);
			if (aead)
				break;
		}
	}
}

/* The fast kex methods: the full product. */
static void full(const char *kex)
{
	for (size_t h = 0; h < sizeof hostkeys / sizeof hostkeys[0]; h++)
		all_ciphers_macs(kex, hostkeys[h]);
}

Test(handshake, defaults)
{
	test_pair p;
	test_pair_config(&p, &hk);
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0);
	const sshrpc_transport_algs *a = sshrpc_transport_get_algs(p.s);
	cr_assert_str_eq(a->kex, "curve25519-sha256");
	cr_assert_str_eq(a->hostkey, "ssh-ed25519");
	cr_assert_str_eq(a->cipher_c2s, "chacha20-poly1305@openssh.com");
	cr_assert_str_eq(a->mac_c2s, "<implicit>");
	cr_assert(a->strict_kex);
	cr_assert(a->ext_info);
	cr_assert_eq(sshrpc_transport_get_stats(p.c)->kex_count, 1);
	test_pair_free(&p);
}

Test(handshake, curve25519_sha256)
{
	full("curve25519-sha256");
}
Test(handshake, curve25519_sha256_libssh)
{
	full("curve25519-sha256@libssh.org");
}
Test(handshake, ecdh_nistp256)
{
	full("ecdh-sha2-nistp256");
}
Test(handshake, ecdh_nistp384)
{
	full("ecdh-sha2-nistp384");
}
Test(handshake, ecdh_nistp521)
{
	full("ecdh-sha2-nistp521");
}
Test(handshake, dh_group14_sha256)
{
	full("diffie-hellman-group14-sha256");
}
Test(handshake, dh_group14_sha1)
{
	full("diffie-hellman-group14-sha1");
}
Test(handshake, dh_group1_sha1)
{
	full("diffie-hellman-group1-sha1");
}
Test(handshake, dh_group16_sha512)
{
	full("diffie-hellman-group16-sha512");
}
Test(handshake, dh_group18_sha512)
{
	full("diffie-hellman-group18-sha512");
}
Test(handshake, dh_gex_sha256)
{
	full("diffie-hellman-group-exchange-sha256");
}
Test(handshake, dh_gex_sha1)
{
	full("diffie-hellman-group-exchange-sha1");
}
