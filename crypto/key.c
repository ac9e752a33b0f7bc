/* Public keys: type names, the SSH public key blob (RFC 4253 §6.6,
 * RFC 8709 §4, RFC 8332 §3, RFC 5656 §3.1), generation, and the private
 * components in openssh-key-v1 order (PROTOCOL.key §3; the fields as
 * OpenSSH's private key serialisation writes them).
 *
 * Parsing is strict: every field is read with the wire/ reader, mpints must
 * be minimal and non-negative, nothing may follow the last field, an ECDSA
 * blob's curve must be the one its type names, and the point must be
 * uncompressed and on the curve. */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "sshrpc_config.h"

#include "crypto/crypto_internal.h"

#define ED25519_LEN 32
#define EC_MAX_POINT (1 + 2 * 66)

static const sshrpc_key_info key_infos[] = {
	{ SSHRPC_KEY_ED25519, "ssh-ed25519", NULL, NULL, 0 },
#if SSHRPC_WITH_RSA
	{ SSHRPC_KEY_RSA, "ssh-rsa", NULL, NULL, 0 },
#endif
	{ SSHRPC_KEY_ECDSA_P256, "ecdsa-sha2-nistp256", "nistp256", "P-256", 32 },
	{ SSHRPC_KEY_ECDSA_P384, "ecdsa-sha2-nistp384", "nistp384", "P-384", 48 },
	{ SSHRPC_KEY_ECDSA_P521, "ecdsa-sha2-nistp521", "nistp521", "P-521", 66 },
};

const sshrpc_key_info *sshrpc_key_info_get(sshrpc_key_type t)
{
	for (size_t i = 0; i < sizeof key_infos / sizeof key_infos[0]; i++)
		if (key_infos[i].type == t)
			return &key_infos[i];
	return NULL;
}

const char *sshrpc_key_type_name(sshrpc_key_type t)
{
	const sshrpc_key_info *ki = sshrpc_key_info_get(t);
	return ki != NULL ? ki->name : NULL;
}

sshrpc_key_type sshrpc_key_type_from_name(const char *name, size_t len)
{
	if (name == NULL)
		return SSHRPC_KEY_UNKNOWN;
	for (size_t i = 0; i < sizeof key_infos / sizeof key_infos[0]; i++)
		if (strlen(key_infos[i].name) == len && memcmp(key_infos[i].name, name, len) == 0)
			return key_infos[i].type;
	return SSHRPC_KEY_UNKNOWN;
}

static bool is_ecdsa(sshrpc_key_type t)
{
	return t == SSHRPC_KEY_ECDSA_P256 || t == SSHRPC_KEY_ECDSA_P384 || t == SSHRPC_KEY_ECDSA_P521;
}

sshrpc_key_type sshrpc_key_type_of_pkey(EVP_PKEY *pkey)
{
	if (EVP_PKEY_is_a(pkey, "ED25519"))
		return SSHRPC_KEY_ED25519;
#if SSHRPC_WITH_RSA
	/* Plain RSA only: an RSA-PSS key (restricted to PSS) cannot make the
	 * PKCS#1 v1.5 signatures SSH uses. */
	if (EVP_PKEY_is_a(pkey, "RSA") && !EVP_PKEY_is_a(pkey, "RSA-PSS"))
		return SSHRPC_KEY_RSA;
#endif
	if (EVP_PKEY_is_a(pkey, "EC")) {
		char group[64];
		size_t n = 0;
		if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &n) != 1)
			return SSHRPC_KEY_UNKNOWN; /* explicit parameters: refused */
		int nid = OBJ_sn2nid(group);
		if (nid == NID_undef)
			nid = EC_curve_nist2nid(group);
		switch (nid) {
		case NID_X9_62_prime256v1:
			return SSHRPC_KEY_ECDSA_P256;
		case NID_secp384r1:
			return SSHRPC_KEY_ECDSA_P384;
		case NID_secp521r1:
			return SSHRPC_KEY_ECDSA_P521;
		default:
			return SSHRPC_KEY_UNKNOWN;
		}
	}
	return SSHRPC_KEY_UNKNOWN;
}

/* ---- building EVP_PKEYs ------------------------------------------------- */

/* OSSL_PARAM arrays that carried private values are wiped before freeing
 * (libcrypto 3.0 has no OSSL_PARAM_clear_free). */
static void params_free(OSSL_PARAM *params, bool secret)
{
	if (params != NULL && secret)
		for (OSSL_PARAM *p = params; p->key != NULL; p++)
			if (p->data != NULL)
				OPENSSL_cleanse(p->data, p->data_size);
	OSSL_PARAM_free(params);
}

static int pkey_fromdata(const char *alg, int selection, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
	if (params == NULL)
		return SSHRPC_E_NOMEM;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	int rc = SSHRPC_OK;
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, out, selection, params) != 1) {
		ERR_clear_error();
		rc = SSHRPC_E_INVALID;
	}
	EVP_PKEY_CTX_free(ctx);
	params_free(params, selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY);
	return rc;
}

static int ec_pkey(const sshrpc_key_info *ki, const uint8_t *q, size_t qlen, const BIGNUM *d, EVP_PKEY **out)
{
	/* RFC 5656 §3.1: Q is a SEC1 §2.3.3 point; we accept the uncompressed
	 * form only, as OpenSSH does. Decoding checks that it is on the
	 * curve. */
	if (qlen != 1 + 2 * ki->field_len || q[0] != 0x04)
		return SSHRPC_E_INVALID;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	if (bld == NULL)
		return SSHRPC_E_NOMEM;
	int rc = SSHRPC_E_NOMEM;
	if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, ki->group, 0) == 1 &&
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, q, qlen) == 1 &&
		(d == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1))
		rc = pkey_fromdata("EC", d != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, bld, out);
	OSSL_PARAM_BLD_free(bld);
	return rc;
}

#if SSHRPC_WITH_RSA
/* e odd and at least 3, n odd and of a size we accept. */
static int rsa_check_public(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen)
{
	if (elen == 0 || (e[elen - 1] & 1) == 0 || (elen == 1 && e[0] < 3) || elen > nlen)
		return SSHRPC_E_INVALID;
	if (nlen == 0 || (n[nlen - 1] & 1) == 0)
		return SSHRPC_E_INVALID;
	size_t bits = nlen * 8;
	for (uint8_t top = n[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	if (bits < SSHRPC_RSA_MIN_BITS || bits > SSHRPC_RSA_MAX_BITS)
		return SSHRPC_E_UNSUPPORTED;
	return SSHRPC_OK;
}

static int rsa_pkey_public(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen, EVP_PKEY **out)
{
	int rc = rsa_check_public(e, elen, n, nlen);
	if (rc != SSHRPC_OK)
		return rc;
	BIGNUM *bn = BN_bin2bn(n, (int)nlen, NULL);
	BIGNUM *be = BN_bin2bn(e, (int)elen, NULL);
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	rc = SSHRPC_E_NOMEM;
	if (bn != NULL && be != NULL && bld != NULL && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) == 1 &&
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) == 1)
		rc = pkey_fromdata("RSA", EVP_PKEY_PUBLIC_KEY, bld, out);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	return rc;
}
#endif

/* ---- the public blob ------------------------------------------------------ */

static int put_bn(sshrpc_buf *b, const BIGNUM *bn)
{
	uint8_t tmp[SSHRPC_RSA_MAX_BITS / 8];
	int n = BN_num_bytes(bn);
	if (n < 0 || (size_t)n > sizeof tmp)
		return SSHRPC_E_TOO_LARGE;
	BN_bn2bin(bn, tmp);
	int rc = sshrpc_buf_put_mpint_unsigned(b, tmp, (size_t)n);
	sshrpc_wipe(tmp, (size_t)n);
	return rc;
}

static int put_bn_param(sshrpc_buf *b, EVP_PKEY *pkey, const char *name)
{
	BIGNUM *bn = NULL;
	if (EVP_PKEY_get_bn_param(pkey, name, &bn) != 1)
		return SSHRPC_E_CRYPTO;
	int rc = put_bn(b, bn);
	BN_clear_free(bn);
	return rc;
}

static int ec_point(EVP_PKEY *pkey, uint8_t *q, size_t cap, size_t *qlen)
{
	if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, q, cap, qlen) != 1)
		return SSHRPC_E_CRYPTO;
	return SSHRPC_OK;
}

/* The fields after the type string, which the blob and the private
 * serialisation share. */
static int put_public_fields(const sshrpc_key *k, sshrpc_buf *b, bool private_order)
{
	const sshrpc_key_info *ki = sshrpc_key_info_get(k->type);
	if (ki == NULL)
		return SSHRPC_E_UNSUPPORTED;
	int rc;
	switch (k->type) {
	case SSHRPC_KEY_ED25519: {
		uint8_t pk[ED25519_LEN];
		size_t n = sizeof pk;
		if (EVP_PKEY_get_raw_public_key(k->pkey, pk, &n) != 1 || n != ED25519_LEN)
			return SSHRPC_E_CRYPTO;
		return sshrpc_buf_put_string(b, pk, n);
	}
	case SSHRPC_KEY_RSA:
		/* RFC 4253 §6.6: e then n in the blob; openssh-key-v1 stores n
		 * first. */
		if (private_order) {
			rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_RSA_N);
			if (rc == SSHRPC_OK)
				rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_RSA_E);
		} else {
			rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_RSA_E);
			if (rc == SSHRPC_OK)
				rc = put_bn_param(b, k->pkey, OSSL_PKEY_PARAM_RSA_N);
		}
		return rc;
	case SSHRPC_KEY_ECDSA_P256:
	case SSHRPC_KEY_ECDSA_P384:
	case SSHRPC_KEY_ECDSA_P521: {
		uint8_t q[EC_MAX_POINT];
		size_t qlen = 0;
		rc = ec_point(k->pkey, q, sizeof q, &qlen);
		if (rc != SSHRPC_OK)
			return rc;
		if (qlen != 1 + 2 * ki->field_len || q[0] != 0x04)
			return SSHRPC_E_CRYPTO;
		rc = sshrpc_buf_put_cstring(b, ki->curve);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_string(b, q, qlen);
		return rc;
	}
	default:
		return SSHRPC_E_UNSUPPORTED;
	}
}

static int build_blob(sshrpc_key *k)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, k->alloc, 0);
	int rc = sshrpc_buf_put_cstring(&b, sshrpc_key_type_name(k->type));
	if (rc == SSHRPC_OK)
		rc = put_public_fields(k, &b, false);
	if (rc == SSHRPC_OK) {
		k->blob = sshrpc_malloc(k->alloc, b.len);
		if (k->blob == NULL)
			rc = SSHRPC_E_NOMEM;
		else {
			memcpy(k->blob, sshrpc_buf_ptr(&b), b.len);
			k->blob_len = b.len;
		}
	}
	sshrpc_buf_free(&b);
	return rc;
}

static unsigned pkey_bits(sshrpc_key_type t, EVP_PKEY *pkey)
{
	switch (t) {
	case SSHRPC_KEY_ED25519:
		return 256;
	case SSHRPC_KEY_ECDSA_P256:
		return 256;
	case SSHRPC_KEY_ECDSA_P384:
		return 384;
	case SSHRPC_KEY_ECDSA_P521:
		return 521;
	default:
		return (unsigned)EVP_PKEY_get_bits(pkey);
	}
}

/* The one constructor: takes ownership of pkey; blob, when given, is the
 * already-validated canonical blob the key was parsed from. */
static int key_new(const sshrpc_alloc *a, sshrpc_key_type t, EVP_PKEY *pkey, bool priv, const uint8_t *blob,
	size_t blob_len, sshrpc_key **out)
{
	*out = NULL;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_key *k = sshrpc_calloc(a, sizeof *k);
	if (k == NULL) {
		EVP_PKEY_free(pkey);
		return SSHRPC_E_NOMEM;
	}
	k->alloc = a;
	k->type = t;
	k->pkey = pkey;
	k->has_private = priv;
	k->bits = pkey_bits(t, pkey);
	int rc;
	if (blob != NULL) {
		k->blob = sshrpc_malloc(a, blob_len);
		rc = k->blob != NULL ? SSHRPC_OK : SSHRPC_E_NOMEM;
		if (rc == SSHRPC_OK) {
			memcpy(k->blob, blob, blob_len);
			k->blob_len = blob_len;
		}
	} else {
		/* Keys from elsewhere (PEM, generation) write their point in
		 * the uncompressed form SSH uses. */
		if (is_ecdsa(t))
			EVP_PKEY_set_utf8_string_param(pkey, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
				OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED);
		rc = build_blob(k);
	}
	if (rc != SSHRPC_OK) {
		sshrpc_key_free(k);
		return rc;
	}
	*out = k;
	return SSHRPC_OK;
}

int sshrpc_key_wrap(const sshrpc_alloc *a, sshrpc_key_type t, EVP_PKEY *pkey, bool priv, sshrpc_key **out)
{
	if (pkey == NULL)
		return SSHRPC_E_CRYPTO;
	return key_new(a, t, pkey, priv, NULL, 0, out);
}

void sshrpc_key_free(sshrpc_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	sshrpc_free(k->alloc, k->blob, k->blob_len);
	sshrpc_free(k->alloc, k, sizeof *k);
}

int sshrpc_key_from_blob(const sshrpc_alloc *a, const uint8_t *blob, size_t len, sshrpc_key **out)
{
	*out = NULL;
	if (blob == NULL)
		return SSHRPC_E_INVALID;
	sshrpc_reader r;
	sshrpc_rd_init(&r, blob, len);
	const uint8_t *name;
	size_t name_len;
	int rc = sshrpc_rd_string(&r, &name, &name_len);
	if (rc != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	sshrpc_key_type t = sshrpc_key_type_from_name((const char *)name, name_len);
	const sshrpc_key_info *ki = sshrpc_key_info_get(t);
	if (ki == NULL)
		return SSHRPC_E_UNSUPPORTED;

	EVP_PKEY *pkey = NULL;
	const uint8_t *f1, *f2;
	size_t l1, l2;
	switch (t) {
	case SSHRPC_KEY_ED25519:
		/* RFC 8709 §4: string key, 32 bytes. */
		if (sshrpc_rd_string(&r, &f1, &l1) != SSHRPC_OK || l1 != ED25519_LEN || sshrpc_rd_end(&r) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL, f1, l1);
		if (pkey == NULL)
			return SSHRPC_E_INVALID;
		break;
#if SSHRPC_WITH_RSA
	case SSHRPC_KEY_RSA:
		/* RFC 4253 §6.6: mpint e, mpint n. */
		if (sshrpc_rd_mpint_unsigned(&r, &f1, &l1) != SSHRPC_OK ||
			sshrpc_rd_mpint_unsigned(&r, &f2, &l2) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		rc = rsa_pkey_public(f1, l1, f2, l2, &pkey);
		if (rc != SSHRPC_OK)
			return rc;
		break;
#endif
	default:
		/* RFC 5656 §3.1: string curve identifier, string Q; the
		 * identifier must be the one the key type names. */
		if (sshrpc_rd_string(&r, &f1, &l1) != SSHRPC_OK || l1 != strlen(ki->curve) ||
			memcmp(f1, ki->curve, l1) != 0 || sshrpc_rd_string(&r, &f2, &l2) != SSHRPC_OK ||
			sshrpc_rd_end(&r) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		rc = ec_pkey(ki, f2, l2, NULL, &pkey);
		if (rc != SSHRPC_OK)
			return rc;
		break;
	}
	return key_new(a, t, pkey, false, blob, len, out);
}

int sshrpc_key_to_blob(const sshrpc_key *k, sshrpc_buf *out)
{
	return sshrpc_buf_put(out, k->blob, k->blob_len);
}

sshrpc_key_type sshrpc_key_get_type(const sshrpc_key *k)
{
	return k->type;
}

bool sshrpc_key_has_private(const sshrpc_key *k)
{
	return k->has_private;
}

unsigned sshrpc_key_bits(const sshrpc_key *k)
{
	return k->bits;
}

bool sshrpc_key_equal_public(const sshrpc_key *a, const sshrpc_key *b)
{
	return a != NULL && b != NULL && a->type == b->type && a->blob_len == b->blob_len &&
	       memcmp(a->blob, b->blob, a->blob_len) == 0;
}

int sshrpc_key_generate(const sshrpc_alloc *a, sshrpc_key_type t, unsigned bits, sshrpc_key **out)
{
	*out = NULL;
	const sshrpc_key_info *ki = sshrpc_key_info_get(t);
	if (ki == NULL)
		return SSHRPC_E_UNSUPPORTED;
	EVP_PKEY *pkey = NULL;
	switch (t) {
	case SSHRPC_KEY_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case SSHRPC_KEY_RSA:
		if (bits < 2048 || bits > SSHRPC_RSA_MAX_BITS)
			return SSHRPC_E_INVALID;
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
		break;
	default:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", ki->group);
		break;
	}
	if (pkey == NULL)
		return SSHRPC_E_CRYPTO;
	return key_new(a, t, pkey, true, NULL, 0, out);
}

/* ---- private components (openssh-key-v1) ----------------------------------- */

#if SSHRPC_WITH_RSA
/* OpenSSH stores n, e, d, iqmp, p, q; libcrypto wants the CRT exponents as
 * well. The checks are the cheap identities a corrupt or mismatched file
 * breaks: n = p*q, iqmp*q = 1 (mod p), e*d = 1 (mod p-1) and (mod q-1). */
static int rsa_from_private(sshrpc_reader *r, EVP_PKEY **out)
{
	const uint8_t *v[6];
	size_t l[6];
	for (int i = 0; i < 6; i++)
		if (sshrpc_rd_mpint_unsigned(r, &v[i], &l[i]) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
	int rc = rsa_check_public(v[1], l[1], v[0], l[0]);
	if (rc != SSHRPC_OK)
		return rc;
	BIGNUM *bn[6] = { NULL };
	BIGNUM *dmp1 = BN_new(), *dmq1 = BN_new(), *t = BN_new(), *pm1 = BN_new(), *qm1 = BN_new();
	BN_CTX *ctx = BN_CTX_new();
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	rc = SSHRPC_E_NOMEM;
	if (dmp1 == NULL || dmq1 == NULL || t == NULL || pm1 == NULL || qm1 == NULL || ctx == NULL || bld == NULL)
		goto out;
	for (int i = 0; i < 6; i++)
		if ((bn[i] = BN_bin2bn(v[i], (int)l[i], NULL)) == NULL)
			goto out;
	BIGNUM *n = bn[0], *e = bn[1], *d = bn[2], *iqmp = bn[3], *p = bn[4], *q = bn[5];
	rc = SSHRPC_E_CRYPTO;
	if (BN_is_zero(p) || BN_is_zero(q) || BN_is_one(p) || BN_is_one(q)) {
		rc = SSHRPC_E_INVALID;
		goto out;
	}
	if (BN_mul(t, p, q, ctx) != 1)
		goto out;
	if (BN_cmp(t, n) != 0) {
		rc = SSHRPC_E_INVALID;
		goto out;
	}
	if (BN_sub(pm1, p, BN_value_one()) != 1 || BN_sub(qm1, q, BN_value_one()) != 1 ||
		BN_mod_mul(t, iqmp, q, p, ctx) != 1)
		goto out;
	if (!BN_is_one(t)) {
		rc = SSHRPC_E_INVALID;
		goto out;
	}
	if (BN_mod_mul(t, e, d, pm1, ctx) != 1)
		goto out;
	if (!BN_is_one(t)) {
		rc = SSHRPC_E_INVALID;
		goto out;
	}
	if (BN_mod_mul(t, e, d, qm1, ctx) != 1)
		goto out;
	if (!BN_is_one(t)) {
		rc = SSHRPC_E_INVALID;
		goto out;
	}
	if (BN_mod(dmp1, d, pm1, ctx) != 1 || BN_mod(dmq1, d, qm1, ctx) != 1)
		goto out;
	rc = SSHRPC_E_NOMEM;
	if (OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR1, p) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_FACTOR2, q) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1) != 1 ||
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp) != 1)
		goto out;
	rc = pkey_fromdata("RSA", EVP_PKEY_KEYPAIR, bld, out);
out:
	OSSL_PARAM_BLD_free(bld);
	BN_CTX_free(ctx);
	for (int i = 0; i < 6; i++)
		BN_clear_free(bn[i]);
	BN_clear_free(dmp1);
	BN_clear_free(dmq1);
	BN_clear_free(t);
	BN_clear_free(pm1);
	BN_clear_free(qm1);
	return rc;
}
#endif

static int ed25519_from_private(sshrpc_reader *r, EVP_PKEY **out)
{
	const uint8_t *pk, *sk;
	size_t pklen, sklen;
	/* string pk (32), string sk (64): the seed then the public key again. */
	if (sshrpc_rd_string(r, &pk, &pklen) != SSHRPC_OK || pklen != ED25519_LEN ||
		sshrpc_rd_string(r, &sk, &sklen) != SSHRPC_OK || sklen != 2 * ED25519_LEN ||
		memcmp(sk + ED25519_LEN, pk, ED25519_LEN) != 0)
		return SSHRPC_E_INVALID;
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key_ex(NULL, "ED25519", NULL, sk, ED25519_LEN);
	if (pkey == NULL)
		return SSHRPC_E_CRYPTO;
	/* The stored public key must be the seed's. */
	uint8_t derived[ED25519_LEN];
	size_t n = sizeof derived;
	if (EVP_PKEY_get_raw_public_key(pkey, derived, &n) != 1 || n != ED25519_LEN ||
		memcmp(derived, pk, ED25519_LEN) != 0) {
		EVP_PKEY_free(pkey);
		return SSHRPC_E_INVALID;
	}
	*out = pkey;
	return SSHRPC_OK;
}

static int ecdsa_from_private(const sshrpc_key_info *ki, sshrpc_reader *r, EVP_PKEY **out)
{
	const uint8_t *curve, *q, *d;
	size_t clen, qlen, dlen;
	if (sshrpc_rd_string(r, &curve, &clen) != SSHRPC_OK || clen != strlen(ki->curve) ||
		memcmp(curve, ki->curve, clen) != 0 || sshrpc_rd_string(r, &q, &qlen) != SSHRPC_OK ||
		sshrpc_rd_mpint_unsigned(r, &d, &dlen) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	if (dlen == 0 || dlen > ki->field_len)
		return SSHRPC_E_INVALID;
	BIGNUM *bd = BN_bin2bn(d, (int)dlen, NULL);
	if (bd == NULL)
		return SSHRPC_E_NOMEM;
	EVP_PKEY *pkey = NULL;
	int rc = ec_pkey(ki, q, qlen, bd, &pkey);
	BN_clear_free(bd);
	if (rc != SSHRPC_OK)
		return rc;
	/* 0 < d < order and Q = d*G: a mismatched pair would sign with one
	 * key and advertise another. */
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (ctx == NULL || EVP_PKEY_pairwise_check(ctx) != 1) {
		ERR_clear_error();
		EVP_PKEY_CTX_free(ctx);
		EVP_PKEY_free(pkey);
		return ctx == NULL ? SSHRPC_E_NOMEM : SSHRPC_E_INVALID;
	}
	EVP_PKEY_CTX_free(ctx);
	*out = pkey;
	return SSHRPC_OK;
}

int sshrpc_key_from_private(const sshrpc_alloc *a, sshrpc_key_type t, sshrpc_reader *r, sshrpc_key **out)
{
	*out = NULL;
	const sshrpc_key_info *ki = sshrpc_key_info_get(t);
	if (ki == NULL)
		return SSHRPC_E_UNSUPPORTED;
	/* A failed parse leaves the reader where it was. */
	size_t start = r->off;
	EVP_PKEY *pkey = NULL;
	int rc;
	switch (t) {
	case SSHRPC_KEY_ED25519:
		rc = ed25519_from_private(r, &pkey);
		break;
#if SSHRPC_WITH_RSA
	case SSHRPC_KEY_RSA:
		rc = rsa_from_private(r, &pkey);
		break;
#endif
	default:
		rc = ecdsa_from_private(ki, r, &pkey);
		break;
	}
	if (rc == SSHRPC_OK)
		rc = key_new(a, t, pkey, true, NULL, 0, out);
	if (rc != SSHRPC_OK)
		r->off = start;
	return rc;
}

int sshrpc_key_to_private(const sshrpc_key *k, sshrpc_buf *out)
{
	if (!k->has_private)
		return SSHRPC_E_STATE;
	size_t start = out->len;
	int rc = sshrpc_buf_put_cstring(out, sshrpc_key_type_name(k->type));
	switch (k->type) {
	case SSHRPC_KEY_ED25519: {
		uint8_t sk[2 * ED25519_LEN];
		size_t n = ED25519_LEN, m = ED25519_LEN;
		if (rc == SSHRPC_OK &&
			(EVP_PKEY_get_raw_private_key(k->pkey, sk, &n) != 1 || n != ED25519_LEN ||
				EVP_PKEY_get_raw_public_key(k->pkey, sk + ED25519_LEN, &m) != 1 || m != ED25519_LEN))
			rc = SSHRPC_E_CRYPTO;
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_string(out, sk + ED25519_LEN, ED25519_LEN);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_string(out, sk, sizeof sk);
		sshrpc_wipe(sk, sizeof sk);
		break;
	}
	case SSHRPC_KEY_RSA: {
		static const char *const rest[] = { OSSL_PKEY_PARAM_RSA_D, OSSL_PKEY_PARAM_RSA_COEFFICIENT1,
			OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2 };
		if (rc == SSHRPC_OK)
			rc = put_public_fields(k, out, true);
		for (size_t i = 0; rc == SSHRPC_OK && i < sizeof rest / sizeof rest[0]; i++)
			rc = put_bn_param(out, k->pkey, rest[i]);
		break;
	}
	default:
		if (rc == SSHRPC_OK)
			rc = put_public_fields(k, out, true);
		if (rc == SSHRPC_OK)
			rc = put_bn_param(out, k->pkey, OSSL_PKEY_PARAM_PRIV_KEY);
		break;
	}
	if (rc != SSHRPC_OK) {
		/* Nothing half-written stays behind, least of all a secret. */
		sshrpc_wipe(sshrpc_buf_ptr(out) + start, out->len - start);
		sshrpc_buf_truncate(out, start);
	}
	return rc;
}
