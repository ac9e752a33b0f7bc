/* Key exchange primitives: RFC 7748 §5.2 and §6.1 vectors for X25519,
 * agreement and peer-value validation for ECDH and finite-field DH, and the
 * MODP primes checked against a second source (libcrypto's own copies),
 * pinned by SHA-256, and tested for primality. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/evp.h>

#include "sshrpc_config.h"

#include "crypto/crypto_internal.h"

#include "asym_util.h"

/* ---- X25519 -------------------------------------------------------------- */

static void x25519(const uint8_t k[32], const uint8_t u[32], uint8_t out[32])
{
	sshrpc_kex_key *key;
	uint8_t pub[32];
	size_t n;
	cr_assert_eq(sshrpc_kex_x25519_from_private(NULL, k, &key, pub), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_derive(key, u, 32, out, 32, &n), SSHRPC_OK);
	cr_assert_eq(n, 32);
	sshrpc_kex_key_free(key);
}

Test(x25519, rfc7748_5_2_vectors)
{
	static const char *const v[][3] = {
		{ "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			"e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			"c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552" },
		/* u has its top bit set: RFC 7748 §5 says to mask it. */
		{ "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			"e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			"95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957" },
	};
	for (size_t i = 0; i < 2; i++) {
		uint8_t k[32], u[32], want[32], got[32];
		tu_hex(v[i][0], k, 32);
		tu_hex(v[i][1], u, 32);
		tu_hex(v[i][2], want, 32);
		x25519(k, u, got);
		cr_assert_arr_eq(got, want, 32, "vector %zu", i);
	}
}

Test(x25519, rfc7748_5_2_iterated)
{
	uint8_t k[32] = { 9 }, u[32] = { 9 }, out[32], want1[32], want1000[32];
	tu_hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", want1, 32);
	tu_hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", want1000, 32);
	for (int i = 1; i <= 1000; i++) {
		x25519(k, u, out);
		memcpy(u, k, 32);
		memcpy(k, out, 32);
		if (i == 1)
			cr_assert_arr_eq(k, want1, 32);
	}
	cr_assert_arr_eq(k, want1000, 32);
}

Test(x25519, rfc7748_6_1_diffie_hellman)
{
	uint8_t a[32], apub_want[32], b[32], bpub_want[32], k_want[32];
	tu_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", a, 32);
	tu_hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a", apub_want, 32);
	tu_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", b, 32);
	tu_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f", bpub_want, 32);
	tu_hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742", k_want, 32);
	sshrpc_kex_key *ka, *kb;
	uint8_t apub[32], bpub[32], ka_out[32], kb_out[32];
	size_t n;
	cr_assert_eq(sshrpc_kex_x25519_from_private(NULL, a, &ka, apub), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_x25519_from_private(NULL, b, &kb, bpub), SSHRPC_OK);
	cr_assert_arr_eq(apub, apub_want, 32);
	cr_assert_arr_eq(bpub, bpub_want, 32);
	cr_assert_eq(sshrpc_kex_derive(ka, bpub, 32, ka_out, sizeof ka_out, &n), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_derive(kb, apub, 32, kb_out, sizeof kb_out, &n), SSHRPC_OK);
	cr_assert_arr_eq(ka_out, k_want, 32);
	cr_assert_arr_eq(kb_out, k_want, 32);
	sshrpc_kex_key_free(ka);
	sshrpc_kex_key_free(kb);
}

Test(x25519, ephemeral_agreement)
{
	sshrpc_kex_key *a, *b;
	uint8_t pa[64], pb[64], sa[64], sb[64];
	size_t la, lb, na, nb;
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_X25519, NULL, 0, NULL, 0, &a, pa, sizeof pa, &la), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_X25519, NULL, 0, NULL, 0, &b, pb, sizeof pb, &lb), SSHRPC_OK);
	cr_assert_eq(la, 32);
	cr_assert_eq(lb, 32);
	cr_assert_eq(sshrpc_kex_derive(a, pb, lb, sa, sizeof sa, &na), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_derive(b, pa, la, sb, sizeof sb, &nb), SSHRPC_OK);
	cr_assert_eq(na, 32);
	cr_assert_eq(nb, 32);
	cr_assert_arr_eq(sa, sb, 32);
	/* Too small an output buffer for the public value. */
	sshrpc_kex_key *c;
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_X25519, NULL, 0, NULL, 0, &c, pa, 31, &la), SSHRPC_E_TOO_LARGE);
	cr_assert_null(c);
	sshrpc_kex_key_free(a);
	sshrpc_kex_key_free(b);
}

Test(x25519, low_order_and_malformed_peers_refused)
{
	sshrpc_kex_key *a;
	uint8_t pub[32], out[32];
	size_t n;
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_X25519, NULL, 0, NULL, 0, &a, pub, sizeof pub, &n), SSHRPC_OK);
	/* Points of small order give the all-zero secret (RFC 7748 §6.1,
	 * RFC 8731 §3): 0, 1, a point of order 8, p-1 (order 2), p (= 0),
	 * p+1 (= 1), all little-endian. */
	static const char *const low[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	for (size_t i = 0; i < sizeof low / sizeof low[0]; i++) {
		uint8_t u[32];
		tu_hex(low[i], u, 32);
		memset(out, 0xaa, sizeof out);
		cr_assert_eq(
			sshrpc_kex_derive(a, u, 32, out, sizeof out, &n), SSHRPC_E_PROTOCOL, "low-order point %zu", i);
		cr_assert_eq(n, 0);
	}
	uint8_t u[33] = { 9 };
	cr_assert_eq(sshrpc_kex_derive(a, u, 31, out, sizeof out, &n), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_kex_derive(a, u, 33, out, sizeof out, &n), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_kex_derive(a, u, 0, out, sizeof out, &n), SSHRPC_E_INVALID);
	sshrpc_kex_key_free(a);
}

/* ---- ECDH ---------------------------------------------------------------- */

static const struct {
	sshrpc_kex_group g;
	size_t field;
} curves[] = { { SSHRPC_KEX_P256, 32 }, { SSHRPC_KEX_P384, 48 }, { SSHRPC_KEX_P521, 66 } };

Test(ecdh, agreement_on_each_curve)
{
	for (size_t i = 0; i < 3; i++) {
		sshrpc_kex_key *a, *b;
		uint8_t pa[200], pb[200], sa[100], sb[100];
		size_t la, lb, na, nb;
		cr_assert_eq(sshrpc_kex_keygen(NULL, curves[i].g, NULL, 0, NULL, 0, &a, pa, sizeof pa, &la), SSHRPC_OK);
		cr_assert_eq(sshrpc_kex_keygen(NULL, curves[i].g, NULL, 0, NULL, 0, &b, pb, sizeof pb, &lb), SSHRPC_OK);
		/* RFC 5656 §4: uncompressed SEC1 points. */
		cr_assert_eq(la, 1 + 2 * curves[i].field);
		cr_assert_eq(pa[0], 0x04);
		cr_assert_eq(pb[0], 0x04);
		cr_assert_eq(sshrpc_kex_derive(a, pb, lb, sa, sizeof sa, &na), SSHRPC_OK);
		cr_assert_eq(sshrpc_kex_derive(b, pa, la, sb, sizeof sb, &nb), SSHRPC_OK);
		/* The x coordinate, a field element. */
		cr_assert_eq(na, curves[i].field);
		cr_assert_eq(nb, na);
		cr_assert_arr_eq(sa, sb, na);
		/* Derive can run again with the same key (the kex retries
		 * nothing, but the API should not depend on that). */
		cr_assert_eq(sshrpc_kex_derive(a, pb, lb, sb, sizeof sb, &nb), SSHRPC_OK);
		cr_assert_arr_eq(sa, sb, na);
		sshrpc_kex_key_free(a);
		sshrpc_kex_key_free(b);
	}
}

Test(ecdh, invalid_points_refused)
{
	for (size_t i = 0; i < 3; i++) {
		sshrpc_kex_key *a, *b;
		uint8_t pa[200], pb[200], s[100];
		size_t la, lb, n;
		cr_assert_eq(sshrpc_kex_keygen(NULL, curves[i].g, NULL, 0, NULL, 0, &a, pa, sizeof pa, &la), SSHRPC_OK);
		cr_assert_eq(sshrpc_kex_keygen(NULL, curves[i].g, NULL, 0, NULL, 0, &b, pb, sizeof pb, &lb), SSHRPC_OK);
		/* Off the curve: y changed. */
		uint8_t bad[200];
		memcpy(bad, pb, lb);
		bad[lb - 1] ^= 1;
		cr_assert_eq(sshrpc_kex_derive(a, bad, lb, s, sizeof s, &n), SSHRPC_E_PROTOCOL, "curve %zu", i);
		/* (0, 0) is on none of them. */
		memset(bad, 0, lb);
		bad[0] = 0x04;
		cr_assert_eq(sshrpc_kex_derive(a, bad, lb, s, sizeof s, &n), SSHRPC_E_PROTOCOL);
		/* Compressed form, the point at infinity, wrong lengths. */
		memcpy(bad, pb, 1 + curves[i].field);
		bad[0] = (uint8_t)(0x02 | (pb[lb - 1] & 1));
		cr_assert_eq(sshrpc_kex_derive(a, bad, 1 + curves[i].field, s, sizeof s, &n), SSHRPC_E_INVALID);
		bad[0] = 0x00;
		cr_assert_eq(sshrpc_kex_derive(a, bad, 1, s, sizeof s, &n), SSHRPC_E_INVALID);
		cr_assert_eq(sshrpc_kex_derive(a, pb, lb - 1, s, sizeof s, &n), SSHRPC_E_INVALID);
		memcpy(bad, pb, lb);
		bad[lb] = 0;
		cr_assert_eq(sshrpc_kex_derive(a, bad, lb + 1, s, sizeof s, &n), SSHRPC_E_INVALID);
		/* A point on another curve. */
		size_t j = (i + 1) % 3;
		sshrpc_kex_key *c;
		uint8_t pc[200];
		size_t lc;
		cr_assert_eq(sshrpc_kex_keygen(NULL, curves[j].g, NULL, 0, NULL, 0, &c, pc, sizeof pc, &lc), SSHRPC_OK);
		cr_assert_eq(sshrpc_kex_derive(a, pc, lc, s, sizeof s, &n), SSHRPC_E_INVALID);
		/* Output buffer too small. */
		cr_assert_eq(sshrpc_kex_derive(a, pb, lb, s, curves[i].field - 1, &n), SSHRPC_E_TOO_LARGE);
		sshrpc_kex_key_free(a);
		sshrpc_kex_key_free(b);
		sshrpc_kex_key_free(c);
	}
}

/* ---- finite-field DH -------------------------------------------------------- */

#if SSHRPC_WITH_DH

static void dh_agree(const uint8_t *p, size_t plen, const uint8_t *g, size_t glen)
{
	sshrpc_kex_key *a, *b;
	uint8_t pa[1024], pb[1024], sa[1024], sb[1024];
	size_t la, lb, na, nb;
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, g, glen, &a, pa, sizeof pa, &la), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, g, glen, &b, pb, sizeof pb, &lb), SSHRPC_OK);
	cr_assert_eq(la, plen);
	cr_assert_eq(lb, plen);
	cr_assert_eq(sshrpc_kex_derive(a, pb, lb, sa, sizeof sa, &na), SSHRPC_OK);
	cr_assert_eq(sshrpc_kex_derive(b, pa, la, sb, sizeof sb, &nb), SSHRPC_OK);
	/* The same number, whatever zero-padding each side used. */
	const uint8_t *x = sa, *y = sb;
	while (na > 0 && *x == 0) {
		x++;
		na--;
	}
	while (nb > 0 && *y == 0) {
		y++;
		nb--;
	}
	cr_assert_eq(na, nb);
	cr_assert(na > plen / 2);
	cr_assert_arr_eq(x, y, na);
	sshrpc_kex_key_free(a);
	sshrpc_kex_key_free(b);
}

Test(dh, modp_groups_agree, .timeout = 60)
{
	static const int groups[] = { 1, 2, 14, 16, 18 };
	const uint8_t g = 2;
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++) {
		size_t plen;
		const uint8_t *p = sshrpc_dh_modp_prime(groups[i], &plen);
#if !SSHRPC_WITH_LEGACY
		if (groups[i] < 14) {
			cr_assert_null(p);
			continue;
		}
#endif
		cr_assert_not_null(p, "group %d", groups[i]);
		dh_agree(p, plen, &g, 1);
	}
	size_t n;
	cr_assert_null(sshrpc_dh_modp_prime(5, &n));
	cr_assert_eq(n, 0);
	cr_assert_null(sshrpc_dh_modp_prime(15, &n));
}

/* A 2048-bit safe prime from OpenSSH 9.2's /etc/ssh/moduli (generator 2),
 * as a group-exchange server would offer (RFC 4419): not one libcrypto
 * knows by name, so our exponent length applies. */
static const char gex_modulus[] =
	"E98F2A209BA9F4C8C1FFB02490E599A99FBE28F6A053E240A4BD5FEDE80B23FEA8A1476E9EF6605A4B4B41CC74CB945C"
	"7E168A91DB112424480A85CBF5853234B9B1F60F030D38F678BA80AE1461F716C463D7396151EB5F037CC88690FEEF8D"
	"16A1B67F56C11874DB5AA3D541BEFF390077C79C86434EDBC2B46821D2AE5D2FA4FFF1B086B07669B09498EA11B0FE26"
	"C773F79ACA044E085E0BA43BBE1EBE954AA1EC7A465A3232699E54958B1760AB7A04D9627EC1810970706C96B58BF849"
	"99EBED8846D8B384CB945BF782141B1BE2B7C0E04D531A2334DB41BBFD1BEA428C5FD22F50BABDBDFCC5B848F64CBA8D"
	"039636311F8D844DFFFBD77A429A9923";

Test(dh, group_exchange_modulus_agrees)
{
	uint8_t p[256];
	cr_assert_eq(tu_hex(gex_modulus, p, sizeof p), 256);
	BIGNUM *bp = BN_bin2bn(p, 256, NULL);
	cr_assert_eq(BN_check_prime(bp, NULL, NULL), 1);
	BN_free(bp);
	const uint8_t g = 2;
	dh_agree(p, sizeof p, &g, 1);
	/* A generator given with a leading zero byte is the same number. */
	const uint8_t g0[2] = { 0, 2 };
	dh_agree(p, sizeof p, g0, 2);
}

Test(dh, private_exponent_size)
{
	/* Twice the strength (RFC 4419 §6.2, SP 800-57). */
	cr_assert_eq(sshrpc_dh_private_bits(1024), 160);
	cr_assert_eq(sshrpc_dh_private_bits(2048), 224);
	cr_assert_eq(sshrpc_dh_private_bits(3072), 256);
	cr_assert_eq(sshrpc_dh_private_bits(4096), 304);
	cr_assert_eq(sshrpc_dh_private_bits(8192), 400);
}

Test(dh, invalid_peer_values_refused)
{
	size_t plen;
	const uint8_t *p = sshrpc_dh_modp_prime(14, &plen);
	cr_assert_not_null(p);
	const uint8_t g = 2;
	sshrpc_kex_key *a;
	uint8_t pub[1024], s[1024], f[1024];
	size_t n, sn;
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, &g, 1, &a, pub, sizeof pub, &n), SSHRPC_OK);

	/* f = 0, 1 (short and padded), p-1, p, above p: RFC 8268 §4 wants
	 * 1 < f < p-1. */
	uint8_t zero = 0, one = 1;
	cr_assert_eq(sshrpc_kex_derive(a, &zero, 1, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	cr_assert_eq(sshrpc_kex_derive(a, &zero, 0, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	cr_assert_eq(sshrpc_kex_derive(a, &one, 1, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	memset(f, 0, plen);
	f[plen - 1] = 1;
	cr_assert_eq(sshrpc_kex_derive(a, f, plen, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	memcpy(f, p, plen);
	f[plen - 1] -= 1;
	cr_assert_eq(sshrpc_kex_derive(a, f, plen, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	memcpy(f, p, plen);
	cr_assert_eq(sshrpc_kex_derive(a, f, plen, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	/* Above p (the MODP primes end in 64 one bits, so take 2^2048 - 1). */
	memset(f, 0xff, plen);
	cr_assert_eq(sshrpc_kex_derive(a, f, plen, s, sizeof s, &sn), SSHRPC_E_PROTOCOL);
	/* p-2 is fine, and so is 2; one byte longer with a leading zero too. */
	memcpy(f, p, plen);
	f[plen - 1] -= 2;
	cr_assert_eq(sshrpc_kex_derive(a, f, plen, s, sizeof s, &sn), SSHRPC_OK);
	uint8_t two = 2;
	cr_assert_eq(sshrpc_kex_derive(a, &two, 1, s, sizeof s, &sn), SSHRPC_OK);
	f[0] = 0;
	memcpy(f + 1, pub, n);
	cr_assert_eq(sshrpc_kex_derive(a, f, n + 1, s, sizeof s, &sn), SSHRPC_OK);
	/* Far too long. */
	memset(f, 0, sizeof f);
	f[sizeof f - 1] = 5;
	cr_assert_eq(sshrpc_kex_derive(a, f, plen + 2, s, sizeof s, &sn), SSHRPC_E_INVALID);
	sshrpc_kex_key_free(a);
}

Test(dh, invalid_group_parameters_refused)
{
	size_t plen;
	const uint8_t *p = sshrpc_dh_modp_prime(14, &plen);
	uint8_t q[256], pub[1024];
	size_t n;
	sshrpc_kex_key *a;
	const uint8_t g2 = 2, g1 = 1, g0 = 0;
	/* Even modulus. */
	memcpy(q, p, plen);
	q[plen - 1] ^= 1;
	cr_assert_eq(
		sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, q, plen, &g2, 1, &a, pub, sizeof pub, &n), SSHRPC_E_INVALID);
	/* Too small: 512 bits. */
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, 64, &g2, 1, &a, pub, sizeof pub, &n), SSHRPC_E_INVALID);
	/* g = 0, 1, p-1, missing. */
	cr_assert_eq(
		sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, &g0, 1, &a, pub, sizeof pub, &n), SSHRPC_E_INVALID);
	cr_assert_eq(
		sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, &g1, 1, &a, pub, sizeof pub, &n), SSHRPC_E_INVALID);
	memcpy(q, p, plen);
	q[plen - 1] -= 1;
	cr_assert_eq(
		sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, q, plen, &a, pub, sizeof pub, &n), SSHRPC_E_INVALID);
	cr_assert_eq(
		sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, NULL, 0, &a, pub, sizeof pub, &n), SSHRPC_E_INVALID);
	/* Public value buffer too small. */
	cr_assert_eq(
		sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, plen, &g2, 1, &a, pub, plen - 1, &n), SSHRPC_E_TOO_LARGE);
	cr_assert_null(a);
}

#else

Test(dh, not_built)
{
	const uint8_t p[128] = { 0xff, [127] = 0xff }, g = 2;
	uint8_t pub[128];
	size_t n;
	sshrpc_kex_key *a;
	cr_assert_eq(sshrpc_kex_keygen(NULL, SSHRPC_KEX_DH, p, sizeof p, &g, 1, &a, pub, sizeof pub, &n),
		SSHRPC_E_UNSUPPORTED);
	cr_assert_null(a);
}

#endif

/* ---- the MODP primes --------------------------------------------------------- */

Test(dh, modp_primes_match_libcrypto_and_pins)
{
	static const struct {
		int group;
		unsigned bits;
		const char *sha256;
	} pins[] = {
		{ 1, 768, "b52ba6a3026520a6c49d37e4587601801bee500123b3259b6bf03e7cecc3e63d" },
		{ 2, 1024, "3f35a3f5f6c4376a744acad409bb22f8d897f949d2311d885adaa890981b67a0" },
		{ 14, 2048, "d66436f79bbd6b2e38c0ffbd079be904d2641415e2e67140e09448be9a60890e" },
		{ 16, 4096, "4ee95187682bcb230ad26a95205f6920e84708f6251b3894329b09ec23919e33" },
		{ 18, 8192, "39ab4feab950a3128fb71accb9fc3965d857012e081998a85996e3ea8b3c3bcf" },
	};
	for (size_t i = 0; i < sizeof pins / sizeof pins[0]; i++) {
		size_t len;
		const uint8_t *p = sshrpc_dh_modp_prime(pins[i].group, &len);
		if (!(SSHRPC_WITH_DH && (SSHRPC_WITH_LEGACY || pins[i].group >= 14))) {
			cr_assert_null(p);
			continue;
		}
		cr_assert_not_null(p);
		cr_assert_eq(len * 8, pins[i].bits);
		uint8_t want[32], got[32];
		unsigned dl = 0;
		tu_hex(pins[i].sha256, want, 32);
		cr_assert_eq(EVP_Digest(p, len, got, &dl, EVP_sha256(), NULL), 1);
		cr_assert_arr_eq(got, want, 32, "group %d", pins[i].group);

		BIGNUM *ref = NULL;
		switch (pins[i].group) {
		case 1:
			ref = BN_get_rfc2409_prime_768(NULL);
			break;
		case 2:
			ref = BN_get_rfc2409_prime_1024(NULL);
			break;
		case 14:
			ref = BN_get_rfc3526_prime_2048(NULL);
			break;
		case 16:
			ref = BN_get_rfc3526_prime_4096(NULL);
			break;
		case 18:
			ref = BN_get_rfc3526_prime_8192(NULL);
			break;
		}
		BIGNUM *ours = BN_bin2bn(p, (int)len, NULL);
		cr_assert_eq(BN_cmp(ours, ref), 0, "group %d differs from libcrypto's", pins[i].group);
		/* Primality of the smaller ones here (the 4096- and 8192-bit
		 * tests take many seconds; their match with libcrypto's copy
		 * and the pin above stand for them). Safe primes: (p-1)/2 is
		 * prime too. */
		if (pins[i].bits <= 2048) {
			BN_CTX *ctx = BN_CTX_new();
			cr_assert_eq(BN_check_prime(ours, ctx, NULL), 1);
			cr_assert_eq(BN_rshift1(ref, ours), 1);
			cr_assert_eq(BN_check_prime(ref, ctx, NULL), 1);
			BN_CTX_free(ctx);
		}
		BN_free(ours);
		BN_free(ref);
	}
}
