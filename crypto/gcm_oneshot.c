/* AES-GCM on one buffer with any additional data, for callers outside the
 * packet path: openssh-key-v1 files encrypt their private section with
 * aes256-gcm@openssh.com and no additional data (PROTOCOL.key), which the
 * packet-shaped sshrpc_cipher_aead_* calls cannot express. */
#include <openssl/evp.h>

#include "sshrpc/crypto.h"

int sshrpc_aes_gcm_oneshot(const uint8_t *key, size_t key_len, const uint8_t iv[12], const uint8_t *aad, size_t aad_len,
	uint8_t *buf, size_t len, uint8_t tag[16], sshrpc_direction dir)
{
	const EVP_CIPHER *c = key_len == 16 ? EVP_aes_128_gcm() : key_len == 32 ? EVP_aes_256_gcm() : NULL;
	if (c == NULL || len > INT32_MAX || aad_len > INT32_MAX)
		return SSHRPC_E_INVALID;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL)
		return SSHRPC_E_NOMEM;
	int rc = SSHRPC_E_CRYPTO, n = 0;
	int enc = dir == SSHRPC_ENCRYPT;
	if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc) != 1)
		goto out;
	if (aad_len > 0 && EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) != 1)
		goto out;
	if (!enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1)
		goto out;
	/* libcrypto writes the plaintext before the tag is checked, so a
	 * failed check wipes the buffer. */
	if (len > 0 && EVP_CipherUpdate(ctx, buf, &n, buf, (int)len) != 1)
		goto out;
	if (EVP_CipherFinal_ex(ctx, buf + len, &n) != 1) {
		rc = enc ? SSHRPC_E_CRYPTO : SSHRPC_E_MAC;
		if (!enc)
			sshrpc_wipe(buf, len);
		goto out;
	}
	if (enc && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1)
		goto out;
	rc = SSHRPC_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}
