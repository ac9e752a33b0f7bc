/* SHA-1/256/384/512 over EVP: one-shot for small inputs, incremental
 * contexts for the exchange hash and key derivation (RFC 4253 §7.2, §8). */
#include <openssl/err.h>
#include <openssl/evp.h>

#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"

struct sshrpc_hash_ctx {
	const sshrpc_alloc *a;
	sshrpc_hash_alg alg;
	EVP_MD *md; /* fetched once per context: no implicit fetch per init */
	EVP_MD_CTX *ctx;
};

const char *sshrpc_sym_md_name(sshrpc_hash_alg alg)
{
	switch (alg) {
	case SSHRPC_HASH_SHA1:
		return "SHA1";
	case SSHRPC_HASH_SHA256:
		return "SHA256";
	case SSHRPC_HASH_SHA384:
		return "SHA384";
	case SSHRPC_HASH_SHA512:
		return "SHA512";
	}
	return NULL;
}

size_t sshrpc_hash_len(sshrpc_hash_alg alg)
{
	switch (alg) {
	case SSHRPC_HASH_SHA1:
		return 20;
	case SSHRPC_HASH_SHA256:
		return 32;
	case SSHRPC_HASH_SHA384:
		return 48;
	case SSHRPC_HASH_SHA512:
		return 64;
	}
	return 0;
}

static const EVP_MD *builtin_md(sshrpc_hash_alg alg)
{
	switch (alg) {
	case SSHRPC_HASH_SHA1:
		return EVP_sha1();
	case SSHRPC_HASH_SHA256:
		return EVP_sha256();
	case SSHRPC_HASH_SHA384:
		return EVP_sha384();
	case SSHRPC_HASH_SHA512:
		return EVP_sha512();
	}
	return NULL;
}

int sshrpc_hash(sshrpc_hash_alg alg, const void *p, size_t n, uint8_t *out)
{
	const EVP_MD *md = builtin_md(alg);

	if (md == NULL)
		return SSHRPC_E_UNSUPPORTED;
	if (out == NULL || (p == NULL && n > 0))
		return SSHRPC_E_INVALID;
	if (EVP_Digest(n > 0 ? p : "", n, out, NULL, md, NULL) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

int sshrpc_hash_new(const sshrpc_alloc *a, sshrpc_hash_alg alg, sshrpc_hash_ctx **out)
{
	const char *name = sshrpc_sym_md_name(alg);

	if (out == NULL)
		return SSHRPC_E_INVALID;
	*out = NULL;
	if (name == NULL)
		return SSHRPC_E_UNSUPPORTED;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_hash_ctx *h = sshrpc_calloc(a, sizeof *h);
	if (h == NULL)
		return SSHRPC_E_NOMEM;
	h->a = a;
	h->alg = alg;
	h->md = EVP_MD_fetch(NULL, name, NULL);
	h->ctx = EVP_MD_CTX_new();
	if (h->md == NULL || h->ctx == NULL || EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1) {
		sshrpc_hash_free(h);
		return sshrpc_sym_fail();
	}
	*out = h;
	return SSHRPC_OK;
}

int sshrpc_hash_update(sshrpc_hash_ctx *h, const void *p, size_t n)
{
	if (h == NULL || (p == NULL && n > 0))
		return SSHRPC_E_INVALID;
	if (n > 0 && EVP_DigestUpdate(h->ctx, p, n) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

int sshrpc_hash_final(sshrpc_hash_ctx *h, uint8_t *out)
{
	if (h == NULL || out == NULL)
		return SSHRPC_E_INVALID;
	if (EVP_DigestFinal_ex(h->ctx, out, NULL) != 1 || EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

int sshrpc_hash_copy(sshrpc_hash_ctx *dst, const sshrpc_hash_ctx *src)
{
	if (dst == NULL || src == NULL)
		return SSHRPC_E_INVALID;
	if (dst == src)
		return SSHRPC_OK;
	if (dst->alg != src->alg)
		return SSHRPC_E_INVALID;
	if (EVP_MD_CTX_copy_ex(dst->ctx, src->ctx) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

void sshrpc_hash_free(sshrpc_hash_ctx *h)
{
	if (h == NULL)
		return;
	/* The provider wipes its state when the context is freed. */
	EVP_MD_CTX_free(h->ctx);
	EVP_MD_free(h->md);
	sshrpc_free(h->a, h, sizeof *h);
}
