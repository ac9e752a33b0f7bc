/* Key exchange primitives: X25519 (RFC 7748, for curve25519-sha256 of
 * RFC 8731), ECDH on the NIST curves (RFC 5656 §4) and finite-field DH
 * (RFC 4253 §8, RFC 4419, RFC 8268). One ephemeral key per exchange; the
 * peer's value is checked here so that no caller can forget it.
 *
 * Errors from sshrpc_kex_derive: SSHRPC_E_INVALID when the peer value has
 * the wrong length or encoding, SSHRPC_E_PROTOCOL when it is well formed
 * but refused (a point off the curve, f outside (1, p-1), an all-zero
 * X25519 result). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "sshrpc_config.h"

#include "crypto/crypto_internal.h"

#define X25519_LEN 32
/* RFC 4419 §3: group-exchange moduli are at most 8192 bits; below 768 no
 * group exists even in the legacy set. */
#define DH_MIN_BITS 768
#define DH_MAX_BITS 8192

struct sshrpc_kex_key {
	const sshrpc_alloc *alloc;
	sshrpc_kex_group group;
	EVP_PKEY *pkey;
	size_t plen;		      /* DH: bytes of the modulus */
	uint8_t pm1[DH_MAX_BITS / 8]; /* DH: p - 1, big-endian, plen bytes */
};

static const char *ec_group_name(sshrpc_kex_group g, size_t *field_len)
{
	switch (g) {
	case SSHRPC_KEX_P256:
		*field_len = 32;
		return "P-256";
	case SSHRPC_KEX_P384:
		*field_len = 48;
		return "P-384";
	case SSHRPC_KEX_P521:
		*field_len = 66;
		return "P-521";
	default:
		*field_len = 0;
		return NULL;
	}
}

unsigned sshrpc_dh_private_bits(unsigned pbits)
{
	/* Security strength of a finite-field group by modulus size (NIST SP
	 * 800-57 Part 1 Table 2, with the same interpolation libcrypto uses
	 * between its rows). */
	unsigned s;
	if (pbits >= 15360)
		s = 256;
	else if (pbits >= 8192)
		s = 200;
	else if (pbits >= 7680)
		s = 192;
	else if (pbits >= 6144)
		s = 176;
	else if (pbits >= 4096)
		s = 152;
	else if (pbits >= 3072)
		s = 128;
	else if (pbits >= 2048)
		s = 112;
	else
		s = 80;
	unsigned bits = 2 * s;
	if (bits >= pbits)
		bits = pbits - 1;
	return bits;
}

static sshrpc_kex_key *kex_key_new(const sshrpc_alloc *a, sshrpc_kex_group g)
{
	sshrpc_kex_key *k = sshrpc_calloc(a, sizeof *k);
	if (k != NULL) {
		k->alloc = a;
		k->group = g;
	}
	return k;
}

void sshrpc_kex_key_free(sshrpc_kex_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	sshrpc_free_secret(k->alloc, k, sizeof *k);
}

/* Big-endian magnitude without its leading zero bytes. */
static void strip_zeros(const uint8_t **p, size_t *n)
{
	while (*n > 0 && (*p)[0] == 0) {
		(*p)++;
		(*n)--;
	}
}

/* a < b for unsigned big-endian magnitudes without leading zeros. */
static bool mag_less(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn)
		return an < bn;
	return memcmp(a, b, an) < 0;
}

#if SSHRPC_WITH_DH
static int dh_params(const uint8_t *p, size_t plen, const uint8_t *gen, size_t glen, EVP_PKEY **out)
{
	int rc = SSHRPC_E_CRYPTO;
	BIGNUM *bp = BN_bin2bn(p, (int)plen, NULL);
	BIGNUM *bg = BN_bin2bn(gen, (int)glen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	if (bp == NULL || bg == NULL || bld == NULL) {
		rc = SSHRPC_E_NOMEM;
		goto out;
	}
	/* For a modulus libcrypto knows (the RFC 3526 groups) it picks its own
	 * exponent length, also twice the strength; this one is for the rest
	 * (group-exchange moduli), where it would otherwise use the full size. */
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_P, bp) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_FFC_G, bg) != 1 ||
		OSSL_PARAM_BLD_push_int(bld, OSSL_PKEY_PARAM_DH_PRIV_LEN,
			(int)sshrpc_dh_private_bits((unsigned)BN_num_bits(bp))) != 1 ||
		(params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
		EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEY_PARAMETERS, params) != 1)
		goto out;
	rc = SSHRPC_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bp);
	BN_free(bg);
	return rc;
}

static int dh_keygen(sshrpc_kex_key *k, const uint8_t *p, size_t plen, const uint8_t *gen, size_t glen)
{
	if (p == NULL || gen == NULL)
		return SSHRPC_E_INVALID;
	strip_zeros(&p, &plen);
	strip_zeros(&gen, &glen);
	/* p odd and within bounds; 1 < g < p-1 (g = p-1 has order 2). */
	if (plen == 0 || plen > DH_MAX_BITS / 8 || (p[plen - 1] & 1) == 0)
		return SSHRPC_E_INVALID;
	unsigned bits = (unsigned)plen * 8;
	for (uint8_t top = p[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	if (bits < DH_MIN_BITS)
		return SSHRPC_E_INVALID;
	memcpy(k->pm1, p, plen);
	k->pm1[plen - 1] ^= 1; /* p is odd: p - 1 just clears the low bit */
	k->plen = plen;
	if (glen == 0 || (glen == 1 && gen[0] == 1) || !mag_less(gen, glen, k->pm1, plen))
		return SSHRPC_E_INVALID;

	EVP_PKEY *params = NULL;
	int rc = dh_params(p, plen, gen, glen, &params);
	if (rc != SSHRPC_OK)
		return rc;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, params, NULL);
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 || EVP_PKEY_keygen(ctx, &k->pkey) != 1)
		rc = SSHRPC_E_CRYPTO;
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(params);
	return rc;
}
#endif

static int keygen(sshrpc_kex_key *k, const uint8_t *p, size_t plen, const uint8_t *gen, size_t glen)
{
	size_t field_len;
	switch (k->group) {
	case SSHRPC_KEX_X25519:
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
		return k->pkey != NULL ? SSHRPC_OK : SSHRPC_E_CRYPTO;
	case SSHRPC_KEX_P256:
	case SSHRPC_KEX_P384:
	case SSHRPC_KEX_P521: {
		const char *name = ec_group_name(k->group, &field_len);
		k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", name);
		return k->pkey != NULL ? SSHRPC_OK : SSHRPC_E_CRYPTO;
	}
	case SSHRPC_KEX_DH:
#if SSHRPC_WITH_DH
		return dh_keygen(k, p, plen, gen, glen);
#else
		return SSHRPC_E_UNSUPPORTED;
#endif
	}
	return SSHRPC_E_UNSUPPORTED;
}

/* Our public value in the encoding the key exchange puts on the wire. */
static int public_value(const sshrpc_kex_key *k, uint8_t *pub, size_t cap, size_t *pub_len)
{
	size_t n = 0;
	if (k->group == SSHRPC_KEX_X25519) {
		n = cap;
		if (cap < X25519_LEN || EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) != 1 || n != X25519_LEN)
			return cap < X25519_LEN ? SSHRPC_E_TOO_LARGE : SSHRPC_E_CRYPTO;
	} else {
		/* EC: the uncompressed SEC1 point (RFC 5656 §4 requires it in
		 * practice; libcrypto's default form). DH: e or f, padded to the
		 * modulus size, a valid unsigned big-endian number. */
		if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0, &n) != 1)
			return SSHRPC_E_CRYPTO;
		if (n > cap)
			return SSHRPC_E_TOO_LARGE;
		if (EVP_PKEY_get_octet_string_param(k->pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, cap, &n) != 1)
			return SSHRPC_E_CRYPTO;
	}
	*pub_len = n;
	return SSHRPC_OK;
}

int sshrpc_kex_keygen(const sshrpc_alloc *a, sshrpc_kex_group g, const uint8_t *p, size_t plen, const uint8_t *gen,
	size_t glen, sshrpc_kex_key **out, uint8_t *pub, size_t cap, size_t *pub_len)
{
	*out = NULL;
	*pub_len = 0;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_kex_key *k = kex_key_new(a, g);
	if (k == NULL)
		return SSHRPC_E_NOMEM;
	int rc = keygen(k, p, plen, gen, glen);
	if (rc == SSHRPC_OK)
		rc = public_value(k, pub, cap, pub_len);
	if (rc != SSHRPC_OK) {
		sshrpc_kex_key_free(k);
		return rc;
	}
	*out = k;
	return SSHRPC_OK;
}

int sshrpc_kex_x25519_from_private(const sshrpc_alloc *a, const uint8_t priv[32], sshrpc_kex_key **out, uint8_t pub[32])
{
	*out = NULL;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_kex_key *k = kex_key_new(a, SSHRPC_KEX_X25519);
	if (k == NULL)
		return SSHRPC_E_NOMEM;
	size_t n;
	k->pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, X25519_LEN);
	int rc = k->pkey != NULL ? public_value(k, pub, X25519_LEN, &n) : SSHRPC_E_CRYPTO;
	if (rc != SSHRPC_OK) {
		sshrpc_kex_key_free(k);
		return rc;
	}
	*out = k;
	return SSHRPC_OK;
}

/* The peer's public value as an EVP_PKEY, after the checks each method
 * requires. */
static int peer_key(const sshrpc_kex_key *k, const uint8_t *peer, size_t peer_len, EVP_PKEY **out)
{
	size_t field_len;
	EVP_PKEY *pk = NULL;
	switch (k->group) {
	case SSHRPC_KEX_X25519:
		/* RFC 8731 §3: exactly 32 bytes. Every 32-byte string is a
		 * valid u-coordinate (RFC 7748 §5); the all-zero result is
		 * refused after the multiplication. */
		if (peer_len != X25519_LEN)
			return SSHRPC_E_INVALID;
		pk = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, peer_len);
		break;
	case SSHRPC_KEX_P256:
	case SSHRPC_KEX_P384:
	case SSHRPC_KEX_P521:
		/* RFC 5656 §4: Q_C/Q_S are octet strings of SEC1 §2.3.3 points;
		 * we take the uncompressed form only (as OpenSSH), never the
		 * point at infinity. Decoding the point checks that it lies on
		 * the curve (SEC1 §3.2.2.1); the curves have cofactor 1, so
		 * that is the whole validation. */
		ec_group_name(k->group, &field_len);
		if (peer_len != 1 + 2 * field_len || peer[0] != 0x04)
			return SSHRPC_E_INVALID;
		pk = EVP_PKEY_new();
		if (pk == NULL)
			return SSHRPC_E_NOMEM;
		if (EVP_PKEY_copy_parameters(pk, k->pkey) != 1) {
			EVP_PKEY_free(pk);
			return SSHRPC_E_CRYPTO;
		}
		if (EVP_PKEY_set1_encoded_public_key(pk, peer, peer_len) != 1) {
			EVP_PKEY_free(pk);
			return SSHRPC_E_PROTOCOL;
		}
		break;
	case SSHRPC_KEX_DH: {
		/* RFC 8268 §4 (correcting RFC 4253 §8): 1 < f < p-1. f = p-1
		 * has order 2 and would make the secret 1 or p-1. */
		const uint8_t *f = peer;
		size_t flen = peer_len;
		if (peer_len > k->plen + 1)
			return SSHRPC_E_INVALID;
		strip_zeros(&f, &flen);
		if (flen == 0 || (flen == 1 && f[0] == 1) || !mag_less(f, flen, k->pm1, k->plen))
			return SSHRPC_E_PROTOCOL;
		pk = EVP_PKEY_new();
		if (pk == NULL)
			return SSHRPC_E_NOMEM;
		/* ENCODED_PUBLIC_KEY for DH is the value padded to the modulus. */
		uint8_t padded[DH_MAX_BITS / 8];
		memset(padded, 0, k->plen - flen);
		memcpy(padded + (k->plen - flen), f, flen);
		if (EVP_PKEY_copy_parameters(pk, k->pkey) != 1 ||
			EVP_PKEY_set1_encoded_public_key(pk, padded, k->plen) != 1) {
			EVP_PKEY_free(pk);
			return SSHRPC_E_CRYPTO;
		}
		break;
	}
	}
	if (pk == NULL)
		return SSHRPC_E_CRYPTO;
	*out = pk;
	return SSHRPC_OK;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int sshrpc_kex_derive(
	sshrpc_kex_key *k, const uint8_t *peer, size_t peer_len, uint8_t *secret, size_t cap, size_t *secret_len)
{
	*secret_len = 0;
	if (k == NULL || k->pkey == NULL || peer == NULL)
		return SSHRPC_E_STATE;
	EVP_PKEY *pk = NULL;
	int rc = peer_key(k, peer, peer_len, &pk);
	if (rc != SSHRPC_OK)
		return rc;

	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k->pkey, NULL);
	size_t n = 0;
	rc = SSHRPC_E_CRYPTO;
	/* The peer value was checked above as each method requires; the
	 * generic check (validate_peer = 1) would add a full-size
	 * exponentiation or scalar multiplication for nothing. */
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 || EVP_PKEY_derive_set_peer_ex(ctx, pk, 0) != 1 ||
		EVP_PKEY_derive(ctx, NULL, &n) != 1)
		goto out;
	if (n > cap) {
		rc = SSHRPC_E_TOO_LARGE;
		goto out;
	}
	if (EVP_PKEY_derive(ctx, secret, &n) != 1) {
		/* libcrypto refuses an all-zero X25519 output itself. */
		rc = k->group == SSHRPC_KEX_X25519 ? SSHRPC_E_PROTOCOL : SSHRPC_E_CRYPTO;
		goto out;
	}
	/* RFC 8731 §3 (X25519) and RFC 7748 §6.1: an all-zero shared secret
	 * means a low-order peer point; abort. */
	if (k->group == SSHRPC_KEX_X25519 && all_zero(secret, n)) {
		sshrpc_wipe(secret, n);
		rc = SSHRPC_E_PROTOCOL;
		goto out;
	}
	*secret_len = n;
	rc = SSHRPC_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return rc;
}
