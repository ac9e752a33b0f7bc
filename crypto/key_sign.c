/* Signatures in their SSH encodings: string algorithm, string blob
 * (RFC 4253 §6.6), with the blob per algorithm:
 *   ssh-ed25519           the 64-byte RFC 8032 signature (RFC 8709 §6)
 *   rsa-sha2-256/512      the PKCS#1 v1.5 signature, modulus length (RFC 8332 §3)
 *   ssh-rsa               the same over SHA-1 (RFC 4253 §6.6; legacy)
 *   ecdsa-sha2-nistpN     mpint r, mpint s (RFC 5656 §3.1.2), hash by curve size
 *
 * Verification answers SSHRPC_E_INVALID for a malformed encoding and
 * SSHRPC_E_DENIED for anything well formed that is not a good signature by
 * this key with an acceptable algorithm. */
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>

#include "sshrpc_config.h"

#include "crypto/crypto_internal.h"

typedef struct sigalg {
	const char *name;
	sshrpc_key_type type;
	const char *md; /* NULL: the key type hashes itself (Ed25519) */
} sigalg;

/* The first entry for a key type is its default. */
static const sigalg sigalgs[] = {
	{ "ssh-ed25519", SSHRPC_KEY_ED25519, NULL },
#if SSHRPC_WITH_RSA
	{ "rsa-sha2-512", SSHRPC_KEY_RSA, "SHA512" },
	{ "rsa-sha2-256", SSHRPC_KEY_RSA, "SHA256" },
#if SSHRPC_WITH_LEGACY
	{ "ssh-rsa", SSHRPC_KEY_RSA, "SHA1" },
#endif
#endif
	/* RFC 5656 §6.2.1: SHA-256 up to 256-bit curves, SHA-384 up to 384,
	 * SHA-512 above. */
	{ "ecdsa-sha2-nistp256", SSHRPC_KEY_ECDSA_P256, "SHA256" },
	{ "ecdsa-sha2-nistp384", SSHRPC_KEY_ECDSA_P384, "SHA384" },
	{ "ecdsa-sha2-nistp521", SSHRPC_KEY_ECDSA_P521, "SHA512" },
};

static const sigalg *sigalg_find(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
		if (strlen(sigalgs[i].name) == len && memcmp(sigalgs[i].name, name, len) == 0)
			return &sigalgs[i];
	return NULL;
}

static const sigalg *sigalg_default(sshrpc_key_type t)
{
	for (size_t i = 0; i < sizeof sigalgs / sizeof sigalgs[0]; i++)
		if (sigalgs[i].type == t)
			return &sigalgs[i];
	return NULL;
}

sshrpc_key_type sshrpc_sigalg_key_type(const char *alg, size_t len)
{
	const sigalg *sa = alg != NULL ? sigalg_find(alg, len) : NULL;
	return sa != NULL ? sa->type : SSHRPC_KEY_UNKNOWN;
}

static bool is_ecdsa(sshrpc_key_type t)
{
	return t == SSHRPC_KEY_ECDSA_P256 || t == SSHRPC_KEY_ECDSA_P384 || t == SSHRPC_KEY_ECDSA_P521;
}

/* Largest DER ECDSA-Sig-Value: P-521, two 66-byte INTEGERs with sign
 * bytes, in a SEQUENCE with a two-byte length. */
#define ECDSA_DER_MAX 144

static int ecdsa_der_to_ssh(const uint8_t *der, size_t der_len, sshrpc_buf *out)
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (sig == NULL)
		return SSHRPC_E_CRYPTO;
	const BIGNUM *r, *s;
	ECDSA_SIG_get0(sig, &r, &s);
	uint8_t tmp[66];
	size_t mark;
	int rc = SSHRPC_E_CRYPTO;
	int rn = BN_num_bytes(r), sn = BN_num_bytes(s);
	if (rn < 0 || sn < 0 || (size_t)rn > sizeof tmp || (size_t)sn > sizeof tmp)
		goto out;
	rc = sshrpc_buf_string_begin(out, &mark);
	if (rc != SSHRPC_OK)
		goto out;
	BN_bn2bin(r, tmp);
	rc = sshrpc_buf_put_mpint_unsigned(out, tmp, (size_t)rn);
	if (rc != SSHRPC_OK)
		goto out;
	BN_bn2bin(s, tmp);
	rc = sshrpc_buf_put_mpint_unsigned(out, tmp, (size_t)sn);
	if (rc == SSHRPC_OK)
		sshrpc_buf_string_end(out, mark);
out:
	ECDSA_SIG_free(sig);
	return rc;
}

int sshrpc_key_sign(const sshrpc_key *k, const char *alg, const uint8_t *data, size_t len, sshrpc_buf *out)
{
	if (!k->has_private)
		return SSHRPC_E_STATE;
	const sigalg *sa = alg != NULL ? sigalg_find(alg, strlen(alg)) : sigalg_default(k->type);
	if (sa == NULL)
		return SSHRPC_E_UNSUPPORTED;
	if (sa->type != k->type)
		return SSHRPC_E_INVALID;

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		return SSHRPC_E_NOMEM;
	size_t start = out->len;
	int rc = SSHRPC_E_CRYPTO;
	size_t siglen = 0;
	if (EVP_DigestSignInit_ex(md, NULL, sa->md, NULL, NULL, k->pkey, NULL) != 1 ||
		EVP_DigestSign(md, NULL, &siglen, data, len) != 1)
		goto out;
	rc = sshrpc_buf_put_cstring(out, sa->name);
	if (rc != SSHRPC_OK)
		goto out;
	if (is_ecdsa(k->type)) {
		uint8_t der[ECDSA_DER_MAX];
		if (siglen > sizeof der) {
			rc = SSHRPC_E_CRYPTO;
			goto out;
		}
		siglen = sizeof der;
		if (EVP_DigestSign(md, der, &siglen, data, len) != 1) {
			rc = SSHRPC_E_CRYPTO;
			goto out;
		}
		rc = ecdsa_der_to_ssh(der, siglen, out);
	} else {
		/* Ed25519 and RSA: the signature is the blob. RSA's is always
		 * the modulus length, zero-padded (RFC 8332 §3). */
		size_t mark;
		uint8_t *p;
		rc = sshrpc_buf_string_begin(out, &mark);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_reserve(out, siglen, &p);
		if (rc != SSHRPC_OK)
			goto out;
		size_t before = out->len - siglen;
		if (EVP_DigestSign(md, p, &siglen, data, len) != 1) {
			rc = SSHRPC_E_CRYPTO;
			goto out;
		}
		sshrpc_buf_truncate(out, before + siglen);
		sshrpc_buf_string_end(out, mark);
	}
out:
	EVP_MD_CTX_free(md);
	if (rc != SSHRPC_OK) {
		ERR_clear_error();
		sshrpc_buf_truncate(out, start);
	}
	return rc;
}

/* DER for libcrypto from the SSH r, s (each an mpint inside the blob). */
static int ecdsa_ssh_to_der(sshrpc_key_type t, const uint8_t *blob, size_t blob_len, uint8_t *der, size_t *der_len)
{
	sshrpc_reader r;
	const uint8_t *rp, *sp;
	size_t rl, sl;
	sshrpc_rd_init(&r, blob, blob_len);
	if (sshrpc_rd_mpint_unsigned(&r, &rp, &rl) != SSHRPC_OK ||
		sshrpc_rd_mpint_unsigned(&r, &sp, &sl) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	const sshrpc_key_info *ki = sshrpc_key_info_get(t);
	if (ki == NULL)
		return SSHRPC_E_UNSUPPORTED;
	/* r and s are below the group order, so no longer than a field
	 * element; zero is never valid (FIPS 186-4 §6.4). */
	if (rl == 0 || sl == 0 || rl > ki->field_len || sl > ki->field_len)
		return SSHRPC_E_DENIED;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = BN_bin2bn(rp, (int)rl, NULL);
	BIGNUM *bs = BN_bin2bn(sp, (int)sl, NULL);
	if (sig == NULL || br == NULL || bs == NULL || ECDSA_SIG_set0(sig, br, bs) != 1) {
		ECDSA_SIG_free(sig);
		BN_free(br);
		BN_free(bs);
		return SSHRPC_E_NOMEM;
	}
	int rc = SSHRPC_E_CRYPTO;
	int n = i2d_ECDSA_SIG(sig, NULL);
	if (n > 0 && (size_t)n <= ECDSA_DER_MAX) {
		unsigned char *p = der;
		*der_len = (size_t)i2d_ECDSA_SIG(sig, &p);
		rc = SSHRPC_OK;
	}
	ECDSA_SIG_free(sig);
	return rc;
}

int sshrpc_key_verify(const sshrpc_key *k, const char *expect_alg, const uint8_t *sig, size_t sig_len,
	const uint8_t *data, size_t len)
{
	sshrpc_reader r;
	const uint8_t *name, *blob;
	size_t name_len, blob_len;
	sshrpc_rd_init(&r, sig, sig_len);
	if (sig == NULL || sshrpc_rd_string(&r, &name, &name_len) != SSHRPC_OK ||
		sshrpc_rd_string(&r, &blob, &blob_len) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	/* The algorithm must be the one expected (RFC 4252 §7, RFC 8332 §3.2)
	 * and one this key can make. */
	if (expect_alg != NULL && (strlen(expect_alg) != name_len || memcmp(expect_alg, name, name_len) != 0))
		return SSHRPC_E_DENIED;
	const sigalg *sa = sigalg_find((const char *)name, name_len);
	if (sa == NULL || sa->type != k->type)
		return SSHRPC_E_DENIED;

	uint8_t der[ECDSA_DER_MAX];
	uint8_t padded[SSHRPC_RSA_MAX_BITS / 8];
	const uint8_t *s = blob;
	size_t slen = blob_len;
	int rc;
	switch (k->type) {
	case SSHRPC_KEY_ED25519:
		if (blob_len != 64)
			return SSHRPC_E_INVALID;
		break;
	case SSHRPC_KEY_RSA: {
		/* Longer than the modulus is malformed. Shorter happens: some
		 * signers drop leading zero bytes, and OpenSSH pads them back
		 * (ssh-rsa.c); so do we. */
		size_t modlen = (k->bits + 7) / 8;
		if (blob_len > modlen || modlen > sizeof padded)
			return SSHRPC_E_INVALID;
		if (blob_len < modlen) {
			memset(padded, 0, modlen - blob_len);
			memcpy(padded + (modlen - blob_len), blob, blob_len);
			s = padded;
			slen = modlen;
		}
		break;
	}
	default:
		rc = ecdsa_ssh_to_der(k->type, blob, blob_len, der, &slen);
		if (rc != SSHRPC_OK)
			return rc;
		s = der;
		break;
	}

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (md == NULL)
		return SSHRPC_E_NOMEM;
	rc = SSHRPC_E_CRYPTO;
	if (EVP_DigestVerifyInit_ex(md, NULL, sa->md, NULL, NULL, k->pkey, NULL) == 1)
		rc = EVP_DigestVerify(md, s, slen, data, len) == 1 ? SSHRPC_OK : SSHRPC_E_DENIED;
	EVP_MD_CTX_free(md);
	if (rc != SSHRPC_OK)
		ERR_clear_error();
	return rc;
}
