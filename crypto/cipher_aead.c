/* The AEAD ciphers: aes128/256-gcm@openssh.com (RFC 5647 §7, negotiated as
 * OpenSSH PROTOCOL §1.6 says) and chacha20-poly1305@openssh.com (OpenSSH
 * PROTOCOL.chacha20poly1305). Every libcrypto object is made once per key
 * in sshrpc_cipher_aead_init; the per-packet calls only re-initialise them
 * (new IV, new one-time Poly1305 key), which allocates nothing. */
#include <limits.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"

#define AEAD_TAG_LEN 16
#define CHACHA_KEY_LEN 32
#define POLY_KEY_LEN 32

/* 64 zero bytes: ChaCha20 block 0 of K_2, whose first 32 bytes of output
 * become the Poly1305 key. */
static const uint8_t zero_block[64];

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int gcm_init(sshrpc_cipher *c, const uint8_t *key, const uint8_t *iv)
{
	c->evp = EVP_CIPHER_fetch(NULL, c->def->evp_name, NULL);
	c->ctx = EVP_CIPHER_CTX_new();
	if (c->evp == NULL || c->ctx == NULL)
		return sshrpc_sym_fail();
	/* 12 bytes is GCM's default IV length, which RFC 5647 §7.1 uses. */
	if (EVP_CipherInit_ex2(c->ctx, c->evp, key, iv, c->dir == SSHRPC_ENCRYPT, NULL) != 1 ||
		EVP_CIPHER_CTX_get_iv_length(c->ctx) != (int)sizeof c->gcm_iv)
		return sshrpc_sym_fail();
	memcpy(c->gcm_iv, iv, sizeof c->gcm_iv);
	return SSHRPC_OK;
}

static int chachapoly_init(sshrpc_cipher *c, const uint8_t *key)
{
	uint8_t iv[16] = { 0 };

	c->evp = EVP_CIPHER_fetch(NULL, c->def->evp_name, NULL);
	c->ctx = EVP_CIPHER_CTX_new();
	c->hdr = EVP_CIPHER_CTX_new();
	c->poly_mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	c->poly = c->poly_mac != NULL ? EVP_MAC_CTX_new(c->poly_mac) : NULL;
	if (c->evp == NULL || c->ctx == NULL || c->hdr == NULL || c->poly == NULL)
		return sshrpc_sym_fail();
	/* The first 32 bytes are K_2 (payload and Poly1305 key), the last 32
	 * K_1 (length only). */
	int enc = c->dir == SSHRPC_ENCRYPT;
	if (EVP_CipherInit_ex2(c->ctx, c->evp, key, iv, enc, NULL) != 1 ||
		EVP_CipherInit_ex2(c->hdr, c->evp, key + CHACHA_KEY_LEN, iv, enc, NULL) != 1)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

int sshrpc_cipher_aead_init(sshrpc_cipher *c, const uint8_t *key, const uint8_t *iv)
{
	if (c->def->info.kind == SSHRPC_CIPHER_GCM)
		return gcm_init(c, key, iv);
	return chachapoly_init(c, key);
}

void sshrpc_cipher_aead_release(sshrpc_cipher *c)
{
	if (c->poly != NULL) {
		/* libcrypto frees the Poly1305 state without wiping it: overwrite
		 * the last one-time key first. */
		static const uint8_t zero_key[POLY_KEY_LEN];
		(void)EVP_MAC_init(c->poly, zero_key, sizeof zero_key, NULL);
	}
	EVP_MAC_CTX_free(c->poly);
	EVP_MAC_free(c->poly_mac);
	EVP_CIPHER_CTX_free(c->hdr);
	c->poly = NULL;
	c->poly_mac = NULL;
	c->hdr = NULL;
}

/* Common checks; total counts the 4-byte length and what follows it. */
static int aead_check(const sshrpc_cipher *c, const void *pkt, size_t total, const void *tag)
{
	if (c == NULL || pkt == NULL || tag == NULL)
		return SSHRPC_E_INVALID;
	sshrpc_cipher_kind kind = c->def->info.kind;
	if (kind != SSHRPC_CIPHER_GCM && kind != SSHRPC_CIPHER_CHACHAPOLY)
		return SSHRPC_E_STATE;
	if (total < 4 || total - 4 > INT_MAX)
		return SSHRPC_E_INVALID;
	return SSHRPC_OK;
}

/* ---- AES-GCM ------------------------------------------------------------ */

/* RFC 5647 §7.1: the 64-bit invocation counter in IV bytes 4..11 advances
 * by one per packet; the 4-byte fixed field never changes (so the counter
 * wraps modulo 2^64 without carrying into it). */
static void gcm_next(sshrpc_cipher *c)
{
	for (int i = 11; i >= 4; i--)
		if (++c->gcm_iv[i] != 0)
			break;
}

/* One GCM pass over the packet with the current IV: the clear length is
 * the AAD (RFC 5647 §7.3), pkt[4..total) is en/decrypted in place. */
static int gcm_pass(sshrpc_cipher *c, uint8_t *pkt, size_t total)
{
	int outl = 0, n = (int)(total - 4);
	if (EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, c->gcm_iv, -1) != 1 ||
		EVP_CipherUpdate(c->ctx, NULL, &outl, pkt, 4) != 1)
		return SSHRPC_E_CRYPTO;
	if (n > 0 && (EVP_CipherUpdate(c->ctx, pkt + 4, &outl, pkt + 4, n) != 1 || outl != n))
		return SSHRPC_E_CRYPTO;
	return SSHRPC_OK;
}

static int gcm_seal(sshrpc_cipher *c, uint8_t *pkt, size_t total, uint8_t *tag)
{
	uint8_t none[16];
	int outl = 0;
	if (gcm_pass(c, pkt, total) != SSHRPC_OK || EVP_CipherFinal_ex(c->ctx, none, &outl) != 1 ||
		EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_GET_TAG, AEAD_TAG_LEN, tag) != 1)
		return sshrpc_sym_fail();
	gcm_next(c);
	return SSHRPC_OK;
}

static int gcm_open(sshrpc_cipher *c, uint8_t *pkt, size_t total, const uint8_t *tag)
{
	uint8_t expect[AEAD_TAG_LEN], none[16];
	int outl = 0;
	memcpy(expect, tag, sizeof expect);
	if (EVP_CIPHER_CTX_ctrl(c->ctx, EVP_CTRL_AEAD_SET_TAG, AEAD_TAG_LEN, expect) != 1 ||
		gcm_pass(c, pkt, total) != SSHRPC_OK)
		return sshrpc_sym_fail();
	/* libcrypto decrypts before it checks the tag (in constant time, in
	 * Final). On a mismatch the same keystream is applied once more, so the
	 * caller gets back the bytes it received and never unauthenticated
	 * plaintext; the invocation counter does not advance. */
	if (EVP_CipherFinal_ex(c->ctx, none, &outl) != 1) {
		int rc = gcm_pass(c, pkt, total);
		ERR_clear_error();
		return rc == SSHRPC_OK ? SSHRPC_E_MAC : SSHRPC_E_CRYPTO;
	}
	gcm_next(c);
	return SSHRPC_OK;
}

/* ---- chacha20-poly1305@openssh.com ---------------------------------------- */

/* Nonce: the sequence number as an SSH uint64. */
static void chacha_nonce(uint8_t nonce[8], uint32_t seqnr)
{
	memset(nonce, 0, 4);
	put_be32(nonce + 4, seqnr);
}

/* Sets K_2's IV to (counter 0, seqnr), takes block 0 of its keystream and
 * keys Poly1305 with the first 32 bytes; K_2 is left at block 1, where the
 * payload starts. */
static int chacha_poly_key(sshrpc_cipher *c, uint32_t seqnr)
{
	uint8_t nonce[8], iv[16], block[64];
	int outl = 0, ok;
	chacha_nonce(nonce, seqnr);
	sshrpc_chacha20_iv(iv, 0, nonce);
	ok = EVP_CipherInit_ex(c->ctx, NULL, NULL, NULL, iv, -1) == 1 &&
	     EVP_CipherUpdate(c->ctx, block, &outl, zero_block, sizeof block) == 1 && outl == (int)sizeof block &&
	     EVP_MAC_init(c->poly, block, POLY_KEY_LEN, NULL) == 1;
	OPENSSL_cleanse(block, sizeof block);
	return ok ? SSHRPC_OK : SSHRPC_E_CRYPTO;
}

static int chacha_tag(sshrpc_cipher *c, const uint8_t *pkt, size_t total, uint8_t tag[AEAD_TAG_LEN])
{
	size_t outl = 0;
	if (EVP_MAC_update(c->poly, pkt, total) != 1 || EVP_MAC_final(c->poly, tag, &outl, AEAD_TAG_LEN) != 1 ||
		outl != AEAD_TAG_LEN)
		return SSHRPC_E_CRYPTO;
	return SSHRPC_OK;
}

/* The 4 length bytes under K_1 with block counter 0. */
static int chacha_length_crypt(sshrpc_cipher *c, uint32_t seqnr, const uint8_t in[4], uint8_t out[4])
{
	uint8_t nonce[8], iv[16];
	int outl = 0;
	chacha_nonce(nonce, seqnr);
	sshrpc_chacha20_iv(iv, 0, nonce);
	if (EVP_CipherInit_ex(c->hdr, NULL, NULL, NULL, iv, -1) != 1 ||
		EVP_CipherUpdate(c->hdr, out, &outl, in, 4) != 1 || outl != 4)
		return SSHRPC_E_CRYPTO;
	return SSHRPC_OK;
}

static int chacha_seal(sshrpc_cipher *c, uint32_t seqnr, uint8_t *pkt, size_t total, uint8_t *tag)
{
	int outl = 0, n = (int)(total - 4);
	if (chacha_length_crypt(c, seqnr, pkt, pkt) != SSHRPC_OK || chacha_poly_key(c, seqnr) != SSHRPC_OK)
		return sshrpc_sym_fail();
	if (n > 0 && (EVP_CipherUpdate(c->ctx, pkt + 4, &outl, pkt + 4, n) != 1 || outl != n))
		return sshrpc_sym_fail();
	/* The tag covers the encrypted length and the encrypted rest. */
	if (chacha_tag(c, pkt, total, tag) != SSHRPC_OK)
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

static int chacha_open(sshrpc_cipher *c, uint32_t seqnr, uint8_t *pkt, size_t total, const uint8_t *tag)
{
	uint8_t expect[AEAD_TAG_LEN];
	int outl = 0, n = (int)(total - 4);
	if (chacha_poly_key(c, seqnr) != SSHRPC_OK || chacha_tag(c, pkt, total, expect) != SSHRPC_OK)
		return sshrpc_sym_fail();
	/* The MAC is checked before anything is decrypted (PROTOCOL.chacha20poly1305,
	 * "Packet Handling"). */
	if (CRYPTO_memcmp(expect, tag, AEAD_TAG_LEN) != 0)
		return SSHRPC_E_MAC;
	if (n > 0 && (EVP_CipherUpdate(c->ctx, pkt + 4, &outl, pkt + 4, n) != 1 || outl != n))
		return sshrpc_sym_fail();
	return SSHRPC_OK;
}

/* ---- the public AEAD calls ------------------------------------------------ */

int sshrpc_cipher_aead_length(sshrpc_cipher *c, uint32_t seqnr, const uint8_t *pkt, uint32_t *len)
{
	int rc = aead_check(c, pkt, 4, pkt);
	if (rc != SSHRPC_OK)
		return rc;
	if (len == NULL)
		return SSHRPC_E_INVALID;
	if (c->def->info.kind == SSHRPC_CIPHER_GCM) {
		/* RFC 5647 §7.3: the length travels in the clear (it is the AAD). */
		*len = get_be32(pkt);
		return SSHRPC_OK;
	}
	uint8_t plain[4];
	if (chacha_length_crypt(c, seqnr, pkt, plain) != SSHRPC_OK)
		return sshrpc_sym_fail();
	*len = get_be32(plain);
	return SSHRPC_OK;
}

int sshrpc_cipher_aead_seal(sshrpc_cipher *c, uint32_t seqnr, uint8_t *pkt, size_t total, uint8_t *tag)
{
	int rc = aead_check(c, pkt, total, tag);
	if (rc != SSHRPC_OK)
		return rc;
	if (c->dir != SSHRPC_ENCRYPT)
		return SSHRPC_E_STATE;
	if (c->def->info.kind == SSHRPC_CIPHER_GCM)
		return gcm_seal(c, pkt, total, tag);
	return chacha_seal(c, seqnr, pkt, total, tag);
}

int sshrpc_cipher_aead_open(sshrpc_cipher *c, uint32_t seqnr, uint8_t *pkt, size_t total, const uint8_t *tag)
{
	int rc = aead_check(c, pkt, total, tag);
	if (rc != SSHRPC_OK)
		return rc;
	if (c->dir != SSHRPC_DECRYPT)
		return SSHRPC_E_STATE;
	if (c->def->info.kind == SSHRPC_CIPHER_GCM)
		return gcm_open(c, pkt, total, tag);
	return chacha_open(c, seqnr, pkt, total, tag);
}
