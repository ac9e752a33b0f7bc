/* The cipher table and the block ciphers that run alongside a MAC:
 * aes*-ctr (RFC 4344 §4) and aes*-cbc (RFC 4253 §6.3). The AEAD ciphers
 * live in cipher_aead.c. */
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "sshrpc_config.h"
#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"

/* Ordered by our preference (the default offer): AEAD first, then CTR; CBC
 * is legacy, built but off unless named. */
static const sshrpc_cipher_def cipher_table[] = {
	{ { "chacha20-poly1305@openssh.com", SSHRPC_CIPHER_CHACHAPOLY, 64, 0, 8, 16, false }, "ChaCha20" },
	{ { "aes128-gcm@openssh.com", SSHRPC_CIPHER_GCM, 16, 12, 16, 16, false }, "AES-128-GCM" },
	{ { "aes256-gcm@openssh.com", SSHRPC_CIPHER_GCM, 32, 12, 16, 16, false }, "AES-256-GCM" },
	{ { "aes128-ctr", SSHRPC_CIPHER_CTR, 16, 16, 16, 0, false }, "AES-128-CTR" },
	{ { "aes192-ctr", SSHRPC_CIPHER_CTR, 24, 16, 16, 0, false }, "AES-192-CTR" },
	{ { "aes256-ctr", SSHRPC_CIPHER_CTR, 32, 16, 16, 0, false }, "AES-256-CTR" },
#if SSHRPC_WITH_CBC
	{ { "aes128-cbc", SSHRPC_CIPHER_CBC, 16, 16, 16, 0, true }, "AES-128-CBC" },
	{ { "aes192-cbc", SSHRPC_CIPHER_CBC, 24, 16, 16, 0, true }, "AES-192-CBC" },
	{ { "aes256-cbc", SSHRPC_CIPHER_CBC, 32, 16, 16, 0, true }, "AES-256-CBC" },
#endif
};

#define CIPHER_COUNT (sizeof cipher_table / sizeof cipher_table[0])

static const sshrpc_cipher_info *const cipher_list[] = {
	&cipher_table[0].info,
	&cipher_table[1].info,
	&cipher_table[2].info,
	&cipher_table[3].info,
	&cipher_table[4].info,
	&cipher_table[5].info,
#if SSHRPC_WITH_CBC
	&cipher_table[6].info,
	&cipher_table[7].info,
	&cipher_table[8].info,
#endif
};

_Static_assert(
	sizeof cipher_list / sizeof cipher_list[0] == CIPHER_COUNT, "cipher_list must name every cipher_table entry");

/* "none" (RFC 4253 §6.3) is what a direction uses before its first NEWKEYS.
 * It can be looked up by name but is never in the list, so it is never
 * offered from sshrpc_cipher_all(); block size 8 is the RFC 4253 §6 minimum
 * padding granularity. */
static const sshrpc_cipher_def cipher_none = { { "none", SSHRPC_CIPHER_NONE, 0, 0, 8, 0, true }, NULL };

const sshrpc_cipher_def *sshrpc_cipher_def_of(const sshrpc_cipher_info *info)
{
	if (info == &cipher_none.info)
		return &cipher_none;
	for (size_t i = 0; i < CIPHER_COUNT; i++)
		if (info == &cipher_table[i].info)
			return &cipher_table[i];
	return NULL;
}

const sshrpc_cipher_info *sshrpc_cipher_lookup(const char *name, size_t name_len)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < CIPHER_COUNT; i++) {
		const char *n = cipher_table[i].info.name;
		if (strlen(n) == name_len && memcmp(n, name, name_len) == 0)
			return &cipher_table[i].info;
	}
	if (name_len == 4 && memcmp(name, "none", 4) == 0)
		return &cipher_none.info;
	return NULL;
}

const sshrpc_cipher_info *const *sshrpc_cipher_all(size_t *count)
{
	if (count != NULL)
		*count = CIPHER_COUNT;
	return cipher_list;
}

const sshrpc_cipher_info *sshrpc_cipher_get_info(const sshrpc_cipher *c)
{
	return c != NULL ? &c->def->info : NULL;
}

static int block_init(sshrpc_cipher *c, const uint8_t *key, const uint8_t *iv)
{
	c->evp = EVP_CIPHER_fetch(NULL, c->def->evp_name, NULL);
	c->ctx = EVP_CIPHER_CTX_new();
	if (c->evp == NULL || c->ctx == NULL)
		return sshrpc_sym_fail();
	if (EVP_CipherInit_ex2(c->ctx, c->evp, key, iv, c->dir == SSHRPC_ENCRYPT, NULL) != 1)
		return sshrpc_sym_fail();
	/* SSH pads packets itself (RFC 4253 §6); the cipher sees whole blocks. */
	if (EVP_CIPHER_CTX_set_padding(c->ctx, 0) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

int sshrpc_cipher_new(const sshrpc_alloc *a, const sshrpc_cipher_info *info, const uint8_t *key, const uint8_t *iv,
	sshrpc_direction dir, sshrpc_cipher **out)
{
	if (out == NULL)
		return SSHRPC_E_INVALID;
	*out = NULL;
	const sshrpc_cipher_def *def = sshrpc_cipher_def_of(info);
	if (def == NULL)
		return SSHRPC_E_UNSUPPORTED;
	if ((info->key_len > 0 && key == NULL) || (info->iv_len > 0 && iv == NULL))
		return SSHRPC_E_INVALID;
	if (dir != SSHRPC_ENCRYPT && dir != SSHRPC_DECRYPT)
		return SSHRPC_E_INVALID;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_cipher *c = sshrpc_calloc(a, sizeof *c);
	if (c == NULL)
		return SSHRPC_E_NOMEM;
	c->a = a;
	c->def = def;
	c->dir = dir;
	int rc = SSHRPC_OK;
	switch (info->kind) {
	case SSHRPC_CIPHER_NONE:
		break;
	case SSHRPC_CIPHER_CTR:
	case SSHRPC_CIPHER_CBC:
		rc = block_init(c, key, iv);
		break;
	case SSHRPC_CIPHER_GCM:
	case SSHRPC_CIPHER_CHACHAPOLY:
		rc = sshrpc_cipher_aead_init(c, key, iv);
		break;
	}
	if (rc != SSHRPC_OK) {
		sshrpc_cipher_free(c);
		return rc;
	}
	*out = c;
	return SSHRPC_OK;
}

void sshrpc_cipher_free(sshrpc_cipher *c)
{
	if (c == NULL)
		return;
	/* libcrypto wipes the key schedules when the contexts are freed; the
	 * struct itself holds the GCM IV. */
	sshrpc_cipher_aead_release(c);
	EVP_CIPHER_CTX_free(c->ctx);
	EVP_CIPHER_free(c->evp);
	sshrpc_free_secret(c->a, c, sizeof *c);
}

/* EVP_CipherUpdate counts in int: longer runs go in block-aligned pieces. */
#define CRYPT_CHUNK ((size_t)1 << 30)

int sshrpc_cipher_crypt(sshrpc_cipher *c, uint8_t *buf, size_t len)
{
	if (c == NULL || (buf == NULL && len > 0))
		return SSHRPC_E_INVALID;
	const sshrpc_cipher_info *info = &c->def->info;
	switch (info->kind) {
	case SSHRPC_CIPHER_NONE:
		return SSHRPC_OK;
	case SSHRPC_CIPHER_CTR:
	case SSHRPC_CIPHER_CBC:
		break;
	default:
		return SSHRPC_E_STATE; /* AEAD ciphers go through sshrpc_cipher_aead_* */
	}
	if (len % info->block_size != 0)
		return SSHRPC_E_INVALID;
	while (len > 0) {
		size_t n = len < CRYPT_CHUNK ? len : CRYPT_CHUNK;
		int outl = 0;
		/* In place: libcrypto allows out == in exactly. The counter (CTR)
		 * and the last ciphertext block (CBC) stay in the context, so they
		 * carry over to the next call. */
		if (EVP_CipherUpdate(c->ctx, buf, &outl, buf, (int)n) != 1 || (size_t)outl != n)
			return sshrpc_sym_fail();
		buf += n;
		len -= n;
	}
	return SSHRPC_OK;
}
