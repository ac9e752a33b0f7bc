/* ChaCha20 in Bernstein's 64-bit-counter / 64-bit-nonce layout, which
 * chacha20-poly1305@openssh.com uses, over libcrypto's RFC 8439 ChaCha20;
 * and a one-shot Poly1305. The packet path keeps its own contexts
 * (cipher_aead.c); the one-shot functions serve the known-answer tests, and
 * share the IV mapping with the packet path so that those tests cover it. */
#include <limits.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"

void sshrpc_chacha20_iv(uint8_t iv[16], uint64_t counter, const uint8_t nonce[8])
{
	/* State words 12 and 13 hold the counter, least significant first, each
	 * word little-endian; words 14 and 15 the nonce bytes as they are. */
	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(counter >> (8 * i));
	for (int i = 0; i < 8; i++)
		iv[8 + i] = nonce[i];
}

int sshrpc_chacha20_xor(
	const uint8_t key[32], uint64_t counter, const uint8_t nonce[8], const uint8_t *in, uint8_t *out, size_t len)
{
	if (key == NULL || nonce == NULL || ((in == NULL || out == NULL) && len > 0) || len > INT_MAX)
		return SSHRPC_E_INVALID;
	uint8_t iv[16];
	sshrpc_chacha20_iv(iv, counter, nonce);
	EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, "ChaCha20", NULL);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0, ok = cipher != NULL && ctx != NULL && EVP_EncryptInit_ex2(ctx, cipher, key, iv, NULL) == 1 &&
			   (len == 0 || (EVP_EncryptUpdate(ctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len));
	EVP_CIPHER_CTX_free(ctx);
	EVP_CIPHER_free(cipher);
	return ok ? SSHRPC_OK : sshrpc_sym_fail();
}

int sshrpc_poly1305(const uint8_t key[32], const uint8_t *msg, size_t len, uint8_t tag[16])
{
	if (key == NULL || tag == NULL || (msg == NULL && len > 0))
		return SSHRPC_E_INVALID;
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	size_t outl = 0;
	int ok = ctx != NULL && EVP_MAC_init(ctx, key, 32, NULL) == 1 &&
		 (len == 0 || EVP_MAC_update(ctx, msg, len) == 1) && EVP_MAC_final(ctx, tag, &outl, 16) == 1 &&
		 outl == 16;
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return ok ? SSHRPC_OK : sshrpc_sym_fail();
}
