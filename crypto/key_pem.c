/* PEM private keys through libcrypto's decoders: PKCS#1 "RSA PRIVATE KEY",
 * SEC1 "EC PRIVATE KEY" (both possibly with the legacy "Proc-Type:
 * 4,ENCRYPTED" header and DEK-Info), PKCS#8 "PRIVATE KEY" and "ENCRYPTED
 * PRIVATE KEY" (PBES2). These are what `ssh-keygen -m PEM` and
 * `-m PKCS8` write.
 *
 * The passphrase is given or absent: the decoder never prompts. When a key
 * is encrypted and the passphrase is missing or does not decrypt it, the
 * answer is SSHRPC_E_PASSPHRASE (libcrypto cannot tell a wrong passphrase
 * from a damaged ciphertext, and neither can anyone: OpenSSH says
 * "incorrect passphrase" too). */
#include <string.h>

#include <openssl/decoder.h>
#include <openssl/err.h>

#include "crypto/crypto_internal.h"

typedef struct pass_state {
	const char *pass;
	bool asked;
} pass_state;

/* Hands libcrypto the passphrase, or fails when there is none, so that no
 * default (terminal) prompt is ever used. */
static int pass_cb(char *buf, size_t size, size_t *len, const OSSL_PARAM params[], void *ud)
{
	(void)params;
	pass_state *ps = ud;
	ps->asked = true;
	if (ps->pass == NULL)
		return 0;
	size_t n = strlen(ps->pass);
	if (n > size)
		return 0;
	memcpy(buf, ps->pass, n);
	*len = n;
	return 1;
}

/* Offset of needle in hay at or after from, or n when absent. */
static size_t find(const uint8_t *hay, size_t n, size_t from, const char *needle)
{
	size_t m = strlen(needle);
	for (size_t i = from; m <= n && i <= n - m; i++)
		if (hay[i] == (uint8_t)needle[0] && memcmp(hay + i, needle, m) == 0)
			return i;
	return n;
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
	return find(hay, n, 0, needle) < n;
}

/* The first PEM block whose label ends in "PRIVATE KEY" (RFC 7468 §2
 * labels: "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", and the legacy "RSA
 * PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY"). The decoder reads
 * only the first block, and `openssl ecparam -genkey` puts an "EC
 * PARAMETERS" block before the key, as other tools put text. */
static size_t private_key_block(const uint8_t *pem, size_t len)
{
	static const char begin[] = "-----BEGIN ";
	static const char label_end[] = "PRIVATE KEY-----";
	for (size_t at = find(pem, len, 0, begin); at < len; at = find(pem, len, at + 1, begin)) {
		size_t close = find(pem, len, at + sizeof begin - 1, "-----");
		size_t eol = find(pem, len, at, "\n");
		if (close >= len || close > eol)
			continue;
		size_t end = close + 5;
		if (end - (at + sizeof begin - 1) >= sizeof label_end - 1 &&
			memcmp(pem + end - (sizeof label_end - 1), label_end, sizeof label_end - 1) == 0)
			return at;
	}
	return len;
}

int sshrpc_key_from_pem(const sshrpc_alloc *a, const uint8_t *pem, size_t len, const char *passphrase, sshrpc_key **out)
{
	*out = NULL;
	if (pem == NULL || len == 0)
		return SSHRPC_E_INVALID;
	size_t start = private_key_block(pem, len);
	if (start >= len)
		return SSHRPC_E_INVALID;
	pem += start;
	len -= start;
	/* Encrypted: the PKCS#8 label, or RFC 1421's header on a PKCS#1 or
	 * SEC1 key. */
	bool encrypted = contains(pem, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
			 contains(pem, len, "Proc-Type: 4,ENCRYPTED");

	EVP_PKEY *pkey = NULL;
	pass_state ps = { passphrase, false };
	OSSL_DECODER_CTX *dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dctx == NULL)
		return SSHRPC_E_NOMEM;
	int rc = SSHRPC_OK;
	if (OSSL_DECODER_CTX_set_passphrase_cb(dctx, pass_cb, &ps) != 1) {
		rc = SSHRPC_E_CRYPTO;
	} else {
		const unsigned char *p = pem;
		size_t left = len;
		if (OSSL_DECODER_from_data(dctx, &p, &left) != 1 || pkey == NULL) {
			if (encrypted || ps.asked)
				rc = SSHRPC_E_PASSPHRASE;
			else
				rc = SSHRPC_E_INVALID;
		}
	}
	OSSL_DECODER_CTX_free(dctx);
	ERR_clear_error();
	if (rc != SSHRPC_OK) {
		EVP_PKEY_free(pkey);
		return rc;
	}
	/* DSA, other curves, X25519 and the like decode fine but are not
	 * key types we sign with. */
	sshrpc_key_type t = sshrpc_key_type_of_pkey(pkey);
	if (t == SSHRPC_KEY_UNKNOWN) {
		EVP_PKEY_free(pkey);
		return SSHRPC_E_UNSUPPORTED;
	}
	if (t == SSHRPC_KEY_RSA &&
		(EVP_PKEY_get_bits(pkey) < SSHRPC_RSA_MIN_BITS || EVP_PKEY_get_bits(pkey) > SSHRPC_RSA_MAX_BITS)) {
		EVP_PKEY_free(pkey);
		return SSHRPC_E_UNSUPPORTED;
	}
	return sshrpc_key_wrap(a, t, pkey, true, out);
}
