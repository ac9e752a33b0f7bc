/* Algorithm lists (OpenSSH +/-/^ syntax), RekeyLimit, moduli files and
 * configuration checks. */
#include <criterion/criterion.h>
#include <string.h>

#include "pair.h"

static char out[1024];

static void resolve_ok(sshrpc_alg_kind kind, const char *spec, const char *want)
{
	sshrpc_err err = { 0 };
	int rc = sshrpc_algs_resolve(kind, spec, out, sizeof out, &err);
	cr_assert_eq(rc, SSHRPC_OK, "'%s': %s", spec, err.msg);
	cr_assert_str_eq(out, want, "'%s'", spec);
}

static void resolve_bad(sshrpc_alg_kind kind, const char *spec, const char *why)
{
	sshrpc_err err = { 0 };
	int rc = sshrpc_algs_resolve(kind, spec, out, sizeof out, &err);
	cr_assert_lt(rc, 0, "'%s' accepted as '%s'", spec, out);
	cr_assert_not_null(strstr(err.msg, why), "'%s': %s", spec, err.msg);
}

Test(algs, defaults_exclude_legacy)
{
	char def[1024], all[1024];
	sshrpc_algs_default(SSHRPC_ALG_CIPHER, def, sizeof def);
	sshrpc_algs_all(SSHRPC_ALG_CIPHER, all, sizeof all);
	cr_assert_str_eq(def, "chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,"
			      "aes128-ctr,aes192-ctr,aes256-ctr");
	cr_assert_not_null(strstr(all, "aes128-cbc"));
	sshrpc_algs_default(SSHRPC_ALG_KEX, def, sizeof def);
	cr_assert_str_eq(def, "curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,ecdh-sha2-nistp384,"
			      "ecdh-sha2-nistp521,diffie-hellman-group-exchange-sha256,diffie-hellman-group16-sha512,"
			      "diffie-hellman-group18-sha512,diffie-hellman-group14-sha256");
	sshrpc_algs_default(SSHRPC_ALG_HOSTKEY, def, sizeof def);
	cr_assert_str_eq(def, "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,"
			      "rsa-sha2-256");
	sshrpc_algs_default(SSHRPC_ALG_MAC, def, sizeof def);
	cr_assert_str_eq(
		def, "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512");
}

Test(algs, resolve)
{
	resolve_ok(SSHRPC_ALG_CIPHER, "aes128-ctr,aes256-gcm@openssh.com", "aes128-ctr,aes256-gcm@openssh.com");
	resolve_ok(SSHRPC_ALG_CIPHER, "+aes128-cbc",
		"chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,"
		"aes256-ctr,aes128-cbc");
	resolve_ok(SSHRPC_ALG_CIPHER, "-aes*-ctr,chacha20-poly1305@openssh.com",
		"aes128-gcm@openssh.com,aes256-gcm@openssh.com");
	resolve_ok(SSHRPC_ALG_CIPHER, "^aes256-ctr",
		"aes256-ctr,chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,"
		"aes192-ctr");
	resolve_ok(SSHRPC_ALG_CIPHER, "aes*-cbc", "aes128-cbc,aes192-cbc,aes256-cbc");
	resolve_ok(SSHRPC_ALG_MAC, "+hmac-sha1",
		"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
		"hmac-sha2-256,hmac-sha2-512,hmac-sha1");
	resolve_ok(SSHRPC_ALG_KEX, "-diffie-hellman-*",
		"curve25519-sha256,curve25519-sha256@libssh.org,"
		"ecdh-sha2-nistp256,ecdh-sha2-nistp384,ecdh-sha2-nistp521");
	resolve_ok(SSHRPC_ALG_HOSTKEY, "+ssh-rsa",
		"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,"
		"ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256,ssh-rsa");
	resolve_ok(SSHRPC_ALG_HOSTKEY, "rsa-sha2-512,rsa-sha2-512", "rsa-sha2-512");
	resolve_bad(SSHRPC_ALG_CIPHER, "aes128-ctr,3des-cbc", "unsupported cipher '3des-cbc'");
	resolve_bad(SSHRPC_ALG_CIPHER, "none", "unsupported cipher 'none'");
	resolve_bad(SSHRPC_ALG_CIPHER, "-nosuch", "unsupported cipher 'nosuch'");
	resolve_bad(SSHRPC_ALG_CIPHER, "-*", "leaves no algorithm");
	resolve_bad(SSHRPC_ALG_MAC, "umac*", "pattern 'umac*' matches no MAC");
	resolve_bad(SSHRPC_ALG_KEX, "", "empty");
	resolve_bad(SSHRPC_ALG_KEX, "curve25519-sha256,,ecdh-sha2-nistp256", "empty name");
	resolve_bad(SSHRPC_ALG_KEX, "sntrup761x25519-sha512@openssh.com", "unsupported key exchange algorithm");
	char small[10];
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_algs_resolve(SSHRPC_ALG_KEX, "curve25519-sha256", small, sizeof small, &err),
		SSHRPC_E_TOO_LARGE);
}

static void rekey_ok(const char *s, uint64_t b, uint64_t ms)
{
	uint64_t bytes = 1, interval = 1;
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_rekey_limit_parse(s, &bytes, &interval, &err), SSHRPC_OK, "'%s': %s", s, err.msg);
	cr_assert_eq(bytes, b, "'%s' bytes %llu", s, (unsigned long long)bytes);
	cr_assert_eq(interval, ms, "'%s' ms %llu", s, (unsigned long long)interval);
}

Test(algs, rekey_limit)
{
	rekey_ok("1G 1h", 1ull << 30, 3600000);
	rekey_ok("500M", 500ull << 20, 0);
	rekey_ok("default none", 0, SSHRPC_REKEY_NEVER);
	rekey_ok("none", SSHRPC_REKEY_NEVER, 0);
	rekey_ok("1M 30", 1ull << 20, 30000);
	rekey_ok("64K 10m", 64ull << 10, 600000);
	rekey_ok("default 2d", 0, 2ull * 86400000);
	uint64_t b, ms;
	sshrpc_err err = { 0 };
	cr_assert_lt(sshrpc_rekey_limit_parse("1X", &b, &ms, &err), 0);
	cr_assert_lt(sshrpc_rekey_limit_parse("1G 5y", &b, &ms, NULL), 0);
	cr_assert_lt(sshrpc_rekey_limit_parse("1G 1h extra", &b, &ms, NULL), 0);
	cr_assert_lt(sshrpc_rekey_limit_parse("4", &b, &ms, NULL), 0);
	cr_assert_lt(sshrpc_rekey_limit_parse("99999999999999999999", &b, &ms, NULL), 0);
}

/* Two 2048-bit entries from a moduli file (RFC 3526 group 14 written as a
 * moduli line, twice, plus a non-safe-prime line that is skipped). */
static const char moduli_text[] =
	"#    $OpenBSD: moduli,v 1.1 test $\n"
	"# Time Type Tests Tries Size Generator Modulus\n"
	"20230101000000 2 6 100 2047 2 "
	"FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD"
	"3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F"
	"24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552"
	"BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF0"
	"6F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF\n"
	"20230101000000 4 6 100 1023 2 F7\n"
	"\n";

Test(algs, moduli)
{
	sshrpc_moduli *m = NULL;
	sshrpc_err err = { 0 };
	cr_assert_eq(
		sshrpc_moduli_parse(NULL, moduli_text, sizeof moduli_text - 1, &m, &err), SSHRPC_OK, "%s", err.msg);
	cr_assert_eq(sshrpc_moduli_count(m), 1);
	sshrpc_moduli_free(m);
	static const char bad[] = "20230101000000 2 6 100 2047 2\n";
	cr_assert_lt(sshrpc_moduli_parse(NULL, bad, sizeof bad - 1, &m, &err), 0);
	cr_assert_not_null(strstr(err.msg, "moduli line 1: 7 fields expected"), "%s", err.msg);
	static const char bad2[] = "# c\n20230101000000 2 6 100 2047 2 XYZ\n";
	sshrpc_err_clear(&err);
	cr_assert_lt(sshrpc_moduli_parse(NULL, bad2, sizeof bad2 - 1, &m, &err), 0);
	cr_assert_not_null(strstr(err.msg, "moduli line 2"), "%s", err.msg);
}

Test(algs, gex_with_moduli_and_bounds)
{
	test_hostkeys hk;
	test_hostkeys_make(&hk, false);
	sshrpc_moduli *m = NULL;
	cr_assert_eq(sshrpc_moduli_parse(NULL, moduli_text, sizeof moduli_text - 1, &m, NULL), SSHRPC_OK);
	test_pair p;
	test_pair_config(&p, &hk);
	p.cc.kex_algs = p.sc.kex_algs = "diffie-hellman-group-exchange-sha256";
	p.sc.moduli = m;
	p.cc.gex_max_bits = 4096;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_eq(test_pair_run(&p, NULL, NULL), 0, "%s", sshrpc_transport_error(p.c)->msg);
	test_pair_free(&p);
	/* 2048 bits: the built-in group 14 or the moduli entry, at random */
	for (int i = 0; i < 4; i++) {
		test_pair_config(&p, &hk);
		p.cc.kex_algs = p.sc.kex_algs = "diffie-hellman-group-exchange-sha256";
		p.sc.moduli = m;
		p.cc.gex_max_bits = 2048;
		cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
		cr_assert_eq(test_pair_run(&p, NULL, NULL), 0, "%s", sshrpc_transport_error(p.c)->msg);
		test_pair_free(&p);
	}
	/* a client that wants nothing the server has */
	test_pair_config(&p, &hk);
	p.cc.kex_algs = p.sc.kex_algs = "diffie-hellman-group-exchange-sha256";
	p.cc.gex_min_bits = 2100;
	p.cc.gex_max_bits = 3000;
	cr_assert_eq(test_pair_start(&p), SSHRPC_OK);
	cr_assert_lt(test_pair_run(&p, NULL, NULL), 0);
	const sshrpc_err *e = sshrpc_transport_error(p.s);
	cr_assert_eq(e->reason, SSH_DISCONNECT_KEY_EXCHANGE_FAILED);
	cr_assert_not_null(strstr(e->msg, "no DH group between 2100 and 3000 bits"), "%s", e->msg);
	test_pair_free(&p);
	sshrpc_moduli_free(m);
	test_hostkeys_free(&hk);
}

Test(algs, config_errors)
{
	sshrpc_transport_config c = { 0 };
	sshrpc_transport *t = NULL;
	sshrpc_err err = { 0 };
	c.ciphers = "aes128-ctr,rot13";
	cr_assert_eq(sshrpc_transport_new(&c, &t, &err), SSHRPC_E_UNSUPPORTED);
	cr_assert_null(t);
	cr_assert_str_eq(err.msg, "unsupported cipher 'rot13'");
	memset(&c, 0, sizeof c);
	sshrpc_err_clear(&err);
	c.version = "SSH-1.5-nope";
	cr_assert_lt(sshrpc_transport_new(&c, &t, &err), 0);
	memset(&c, 0, sizeof c);
	sshrpc_err_clear(&err);
	c.role = SSHRPC_ROLE_SERVER;
	cr_assert_lt(sshrpc_transport_new(&c, &t, &err), 0);
	cr_assert_not_null(strstr(err.msg, "no host key"), "%s", err.msg);
	/* a custom version line goes out as given */
	memset(&c, 0, sizeof c);
	c.version = "SSH-2.0-custom_1.0 comment";
	cr_assert_eq(sshrpc_transport_new(&c, &t, NULL), SSHRPC_OK);
	size_t len;
	const uint8_t *o = sshrpc_transport_output(t, &len);
	cr_assert(len > 28 && memcmp(o, "SSH-2.0-custom_1.0 comment\r\n", 28) == 0);
	sshrpc_transport_free(t);
	/* the default one */
	memset(&c, 0, sizeof c);
	cr_assert_eq(sshrpc_transport_new(&c, &t, NULL), SSHRPC_OK);
	o = sshrpc_transport_output(t, &len);
	cr_assert(memcmp(o, "SSH-2.0-sshrpc_", 15) == 0);
	sshrpc_transport_free(t);
}
