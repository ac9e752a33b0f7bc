/* Private to crypto/'s symmetric half (random, hash, cipher, cipher_aead,
 * mac, chacha_poly): shared definitions that are not part of the public
 * contract in include/sshrpc/crypto.h. Only crypto/ and its tests include
 * this; it pulls in OpenSSL types. */
#ifndef SSHRPC_CRYPTO_SYM_INTERNAL_H
#define SSHRPC_CRYPTO_SYM_INTERNAL_H

#include <openssl/evp.h>

#include "sshrpc/crypto.h"

/* Empties libcrypto's error queue (so a failure here never surfaces in an
 * unrelated later check) and returns SSHRPC_E_CRYPTO. */
int sshrpc_sym_fail(void);

/* EVP name of a hash ("SHA256"), NULL when unknown. */
const char *sshrpc_sym_md_name(sshrpc_hash_alg alg);

/* A cipher table entry: the public info first, so that a pointer to the
 * info handed out by sshrpc_cipher_all() is a pointer to the entry. */
typedef struct sshrpc_cipher_def {
	sshrpc_cipher_info info;
	const char *evp_name; /* libcrypto fetch name; NULL for "none" */
} sshrpc_cipher_def;

/* The entry behind info, or NULL when info is not one of ours. */
const sshrpc_cipher_def *sshrpc_cipher_def_of(const sshrpc_cipher_info *info);

struct sshrpc_cipher {
	const sshrpc_alloc *a;
	const sshrpc_cipher_def *def;
	sshrpc_direction dir;
	EVP_CIPHER *evp;     /* fetched once per key */
	EVP_CIPHER_CTX *ctx; /* CTR/CBC/GCM: AES; chacha: K_2, the payload key */
	EVP_CIPHER_CTX *hdr; /* chacha: K_1, the length key */
	EVP_MAC *poly_mac;   /* chacha: Poly1305 */
	EVP_MAC_CTX *poly;
	uint8_t gcm_iv[12]; /* GCM: fixed (4) || invocation counter (8), RFC 5647 §7.1 */
};

/* AEAD halves of sshrpc_cipher_new/free (cipher_aead.c). */
int sshrpc_cipher_aead_init(struct sshrpc_cipher *c, const uint8_t *key, const uint8_t *iv);
void sshrpc_cipher_aead_release(struct sshrpc_cipher *c);

/* ---- ChaCha20 and Poly1305 (chacha_poly.c) --------------------------------
 * libcrypto's "ChaCha20" takes a 16-byte IV: a 32-bit little-endian block
 * counter and a 96-bit nonce (RFC 8439 layout). Bernstein's original layout,
 * which chacha20-poly1305@openssh.com uses, has a 64-bit counter and a 64-bit
 * nonce over the same four state words 12..15, so it maps to
 *   counter_lo (LE32) || counter_hi (LE32) || nonce (8 bytes as given). */
void sshrpc_chacha20_iv(uint8_t iv[16], uint64_t counter, const uint8_t nonce[8]);

/* One-shot ChaCha20 in that 64/64 layout (tests, known-answer vectors):
 * out = in XOR keystream(key, nonce) starting at block counter. */
int sshrpc_chacha20_xor(
	const uint8_t key[32], uint64_t counter, const uint8_t nonce[8], const uint8_t *in, uint8_t *out, size_t len);

/* One-shot Poly1305 (tests, known-answer vectors). */
int sshrpc_poly1305(const uint8_t key[32], const uint8_t *msg, size_t len, uint8_t tag[16]);

#endif
