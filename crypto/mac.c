/* Packet MACs: hmac-sha2-256, hmac-sha2-512 (RFC 6668), hmac-sha1 (RFC 4253
 * §6.4, legacy) and their -etm@openssh.com twins (OpenSSH PROTOCOL §1.5:
 * the same HMAC, applied by transport to the ciphertext instead of the
 * plaintext).
 *
 * Why not EVP_MAC on the packet path: with libcrypto 3.0 (Debian 12),
 * re-initialising an HMAC EVP_MAC_CTX for a new message duplicates the
 * digest context on the heap (EVP_MD_CTX_copy_ex -> dupctx) in init and
 * again in final, so every packet would allocate twice; a plain EVP digest
 * init frees and allocates its state as well. The per-packet path must not
 * allocate (architecture.md, "Data path"), so HMAC (RFC 2104) is computed
 * here from the two hash states left after absorbing K^ipad and K^opad,
 * kept by value and copied per packet — libcrypto's own SHA code, no
 * allocation. Those SHA*_Init/Update/Final calls are deprecated in 3.0 but
 * still built by every distribution; where they are compiled out
 * (OPENSSL_NO_DEPRECATED_3_0), or when SSHRPC_MAC_EVP is defined, the EVP_MAC
 * path below is used instead, with the same results and the allocations
 * described. sshrpc_hmac (not on the packet path) always uses EVP_MAC. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/macros.h>

#include "sshrpc_config.h"
#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"

#if !defined(OPENSSL_NO_DEPRECATED_3_0) && !defined(SSHRPC_MAC_EVP)
#define MAC_HASH_STATES 1
#include <openssl/sha.h>
#else
#define MAC_HASH_STATES 0
#endif

/* Our order of preference: encrypt-then-MAC first; SHA-1 is legacy. */
static const sshrpc_mac_info mac_table[] = {
	{ "hmac-sha2-256-etm@openssh.com", SSHRPC_HASH_SHA256, 32, 32, true, false },
	{ "hmac-sha2-512-etm@openssh.com", SSHRPC_HASH_SHA512, 64, 64, true, false },
	{ "hmac-sha2-256", SSHRPC_HASH_SHA256, 32, 32, false, false },
	{ "hmac-sha2-512", SSHRPC_HASH_SHA512, 64, 64, false, false },
#if SSHRPC_WITH_LEGACY
	{ "hmac-sha1-etm@openssh.com", SSHRPC_HASH_SHA1, 20, 20, true, true },
	{ "hmac-sha1", SSHRPC_HASH_SHA1, 20, 20, false, true },
#endif
};

#define MAC_COUNT (sizeof mac_table / sizeof mac_table[0])

static const sshrpc_mac_info *const mac_list[] = {
	&mac_table[0],
	&mac_table[1],
	&mac_table[2],
	&mac_table[3],
#if SSHRPC_WITH_LEGACY
	&mac_table[4],
	&mac_table[5],
#endif
};

_Static_assert(sizeof mac_list / sizeof mac_list[0] == MAC_COUNT, "mac_list must name every mac_table entry");

const sshrpc_mac_info *sshrpc_mac_lookup(const char *name, size_t name_len)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < MAC_COUNT; i++) {
		const char *n = mac_table[i].name;
		if (strlen(n) == name_len && memcmp(n, name, name_len) == 0)
			return &mac_table[i];
	}
	return NULL;
}

const sshrpc_mac_info *const *sshrpc_mac_all(size_t *count)
{
	if (count != NULL)
		*count = MAC_COUNT;
	return mac_list;
}

static bool mac_is_ours(const sshrpc_mac_info *info)
{
	for (size_t i = 0; i < MAC_COUNT; i++)
		if (info == &mac_table[i])
			return true;
	return false;
}

#if MAC_HASH_STATES

typedef union hash_state {
	SHA_CTX sha1;
	SHA256_CTX sha256;
	SHA512_CTX sha512; /* also SHA-384 */
} hash_state;

struct sshrpc_mac {
	const sshrpc_alloc *a;
	const sshrpc_mac_info *info;
	hash_state inner; /* after K^ipad */
	hash_state outer; /* after K^opad */
	hash_state work;
};

static size_t block_len(sshrpc_hash_alg alg)
{
	return alg == SSHRPC_HASH_SHA384 || alg == SSHRPC_HASH_SHA512 ? 128 : 64;
}

static void hs_init(sshrpc_hash_alg alg, hash_state *s)
{
	switch (alg) {
	case SSHRPC_HASH_SHA1:
		SHA1_Init(&s->sha1);
		break;
	case SSHRPC_HASH_SHA256:
		SHA256_Init(&s->sha256);
		break;
	case SSHRPC_HASH_SHA384:
		SHA384_Init(&s->sha512);
		break;
	case SSHRPC_HASH_SHA512:
		SHA512_Init(&s->sha512);
		break;
	}
}

static void hs_update(sshrpc_hash_alg alg, hash_state *s, const void *p, size_t n)
{
	switch (alg) {
	case SSHRPC_HASH_SHA1:
		SHA1_Update(&s->sha1, p, n);
		break;
	case SSHRPC_HASH_SHA256:
		SHA256_Update(&s->sha256, p, n);
		break;
	case SSHRPC_HASH_SHA384:
		SHA384_Update(&s->sha512, p, n);
		break;
	case SSHRPC_HASH_SHA512:
		SHA512_Update(&s->sha512, p, n);
		break;
	}
}

static void hs_final(sshrpc_hash_alg alg, hash_state *s, uint8_t *out)
{
	switch (alg) {
	case SSHRPC_HASH_SHA1:
		SHA1_Final(out, &s->sha1);
		break;
	case SSHRPC_HASH_SHA256:
		SHA256_Final(out, &s->sha256);
		break;
	case SSHRPC_HASH_SHA384:
		SHA384_Final(out, &s->sha512);
		break;
	case SSHRPC_HASH_SHA512:
		SHA512_Final(out, &s->sha512);
		break;
	}
}

static int mac_key(sshrpc_mac *m, const uint8_t *key)
{
	sshrpc_hash_alg alg = m->info->hash;
	size_t bl = block_len(alg);
	uint8_t pad[128];

	/* RFC 2104 §2: the key (never longer than a block here) zero-padded
	 * to the block length, XORed with ipad and opad. */
	memset(pad, 0, bl);
	memcpy(pad, key, m->info->key_len);
	for (size_t i = 0; i < bl; i++)
		pad[i] ^= 0x36;
	hs_init(alg, &m->inner);
	hs_update(alg, &m->inner, pad, bl);
	for (size_t i = 0; i < bl; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	hs_init(alg, &m->outer);
	hs_update(alg, &m->outer, pad, bl);
	OPENSSL_cleanse(pad, sizeof pad);
	return SSHRPC_OK;
}

static int mac_run(sshrpc_mac *m, const uint8_t seq[4], const uint8_t *data, size_t len, uint8_t out[SSHRPC_HASH_MAX])
{
	sshrpc_hash_alg alg = m->info->hash;
	uint8_t ih[SSHRPC_HASH_MAX];

	m->work = m->inner;
	hs_update(alg, &m->work, seq, 4);
	if (len > 0)
		hs_update(alg, &m->work, data, len);
	hs_final(alg, &m->work, ih);
	m->work = m->outer;
	hs_update(alg, &m->work, ih, sshrpc_hash_len(alg));
	hs_final(alg, &m->work, out);
	return SSHRPC_OK;
}

static void mac_release(sshrpc_mac *m)
{
	(void)m; /* the states live in the struct, wiped with it */
}

#else /* EVP_MAC */

struct sshrpc_mac {
	const sshrpc_alloc *a;
	const sshrpc_mac_info *info;
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

static int mac_key(sshrpc_mac *m, const uint8_t *key)
{
	OSSL_PARAM params[2];
	params[0] =
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)sshrpc_sym_md_name(m->info->hash), 0);
	params[1] = OSSL_PARAM_construct_end();
	m->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	m->ctx = m->mac != NULL ? EVP_MAC_CTX_new(m->mac) : NULL;
	if (m->ctx == NULL || EVP_MAC_init(m->ctx, key, m->info->key_len, params) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

static int mac_run(sshrpc_mac *m, const uint8_t seq[4], const uint8_t *data, size_t len, uint8_t out[SSHRPC_HASH_MAX])
{
	size_t outl = 0;
	/* A NULL key re-uses the one given at creation. */
	if (EVP_MAC_init(m->ctx, NULL, 0, NULL) != 1 || EVP_MAC_update(m->ctx, seq, 4) != 1 ||
		(len > 0 && EVP_MAC_update(m->ctx, data, len) != 1) ||
		EVP_MAC_final(m->ctx, out, &outl, SSHRPC_HASH_MAX) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

static void mac_release(sshrpc_mac *m)
{
	/* The HMAC provider wipes its key when its context is freed. */
	EVP_MAC_CTX_free(m->ctx);
	EVP_MAC_free(m->mac);
}

#endif

int sshrpc_mac_new(const sshrpc_alloc *a, const sshrpc_mac_info *info, const uint8_t *key, sshrpc_mac **out)
{
	if (out == NULL)
		return SSHRPC_E_INVALID;
	*out = NULL;
	if (info == NULL || !mac_is_ours(info))
		return SSHRPC_E_UNSUPPORTED;
	if (key == NULL)
		return SSHRPC_E_INVALID;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_mac *m = sshrpc_calloc(a, sizeof *m);
	if (m == NULL)
		return SSHRPC_E_NOMEM;
	m->a = a;
	m->info = info;
	int rc = mac_key(m, key);
	if (rc != SSHRPC_OK) {
		sshrpc_mac_free(m);
		return rc;
	}
	*out = m;
	return SSHRPC_OK;
}

void sshrpc_mac_free(sshrpc_mac *m)
{
	if (m == NULL)
		return;
	mac_release(m);
	sshrpc_free_secret(m->a, m, sizeof *m);
}

static int mac_packet(sshrpc_mac *m, uint32_t seqnr, const uint8_t *data, size_t len, uint8_t full[SSHRPC_HASH_MAX])
{
	if (m == NULL || (data == NULL && len > 0))
		return SSHRPC_E_INVALID;
	/* RFC 4253 §6.4: mac = MAC(key, uint32 sequence_number || packet). */
	uint8_t seq[4] = { (uint8_t)(seqnr >> 24), (uint8_t)(seqnr >> 16), (uint8_t)(seqnr >> 8), (uint8_t)seqnr };
	return mac_run(m, seq, data, len, full);
}

int sshrpc_mac_compute(sshrpc_mac *m, uint32_t seqnr, const uint8_t *data, size_t len, uint8_t *out)
{
	uint8_t full[SSHRPC_HASH_MAX];
	if (out == NULL)
		return SSHRPC_E_INVALID;
	int rc = mac_packet(m, seqnr, data, len, full);
	if (rc == SSHRPC_OK)
		memcpy(out, full, m->info->out_len);
	return rc;
}

int sshrpc_mac_verify(sshrpc_mac *m, uint32_t seqnr, const uint8_t *data, size_t len, const uint8_t *tag)
{
	uint8_t full[SSHRPC_HASH_MAX];
	if (tag == NULL)
		return SSHRPC_E_INVALID;
	int rc = mac_packet(m, seqnr, data, len, full);
	if (rc != SSHRPC_OK)
		return rc;
	return CRYPTO_memcmp(full, tag, m->info->out_len) == 0 ? SSHRPC_OK : SSHRPC_E_MAC;
}

int sshrpc_hmac(sshrpc_hash_alg alg, const void *key, size_t key_len, const void *data, size_t len, uint8_t *out)
{
	const char *md = sshrpc_sym_md_name(alg);
	static const uint8_t empty[1];
	size_t outl = 0;

	if (md == NULL)
		return SSHRPC_E_UNSUPPORTED;
	if (out == NULL || (key == NULL && key_len > 0) || (data == NULL && len > 0))
		return SSHRPC_E_INVALID;
	if (EVP_Q_mac(NULL, "HMAC", NULL, md, NULL, key_len > 0 ? key : empty, key_len, len > 0 ? data : empty, len,
		    out, sshrpc_hash_len(alg), &outl) == NULL ||
		outl != sshrpc_hash_len(alg))
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}
