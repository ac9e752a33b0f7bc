/* bcrypt_pbkdf, the key derivation OpenSSH uses for encrypted
 * openssh-key-v1 files (PROTOCOL.key §2; OpenBSD bcrypt_pbkdf(3)).
 *
 * It is PBKDF2's structure with SHA-512 as the pseudo-random function's
 * hash and a "bcrypt hash" (an eksblowfish cost-6 key schedule, 64
 * expansions, over the SHA-512 digests of passphrase and salt) as the
 * function itself. Two details differ from PBKDF2 and matter for
 * compatibility:
 *   - each output block is 32 bytes, the 8 words of the bcrypt hash written
 *     little-endian;
 *   - output bytes are spread over the key, not concatenated: byte i of
 *     block n lands at key[i * stride + n - 1], so every block influences
 *     the whole key (the "nonlinear mixing" of the man page's CAVEATS). */
#include <string.h>

#include "crypto/crypto_internal.h"

#define BCRYPT_WORDS 8
#define BCRYPT_HASHSIZE (BCRYPT_WORDS * 4)
#define SHA512_LEN 64

/* The 32-byte text that the bcrypt hash encrypts 64 times. */
static const uint8_t bcrypt_magic[BCRYPT_HASHSIZE] = {
	'O',
	'x',
	'y',
	'c',
	'h',
	'r',
	'o',
	'm',
	'a',
	't',
	'i',
	'c',
	'B',
	'l',
	'o',
	'w',
	'f',
	'i',
	's',
	'h',
	'S',
	'w',
	'a',
	't',
	'D',
	'y',
	'n',
	'a',
	'm',
	'i',
	't',
	'e',
};

static void bcrypt_hash(sshrpc_bf_ctx *st, const uint8_t sha2pass[SHA512_LEN], const uint8_t sha2salt[SHA512_LEN],
	uint8_t out[BCRYPT_HASHSIZE])
{
	sshrpc_bf_initstate(st);
	sshrpc_bf_expand(st, sha2salt, SHA512_LEN, sha2pass, SHA512_LEN);
	for (int i = 0; i < 64; i++) {
		sshrpc_bf_expand0(st, sha2salt, SHA512_LEN);
		sshrpc_bf_expand0(st, sha2pass, SHA512_LEN);
	}
	uint32_t cdata[BCRYPT_WORDS];
	for (int i = 0; i < BCRYPT_WORDS; i++)
		cdata[i] = sshrpc_load_be32(bcrypt_magic + 4 * i);
	for (int i = 0; i < 64; i++)
		for (int j = 0; j < BCRYPT_WORDS; j += 2)
			sshrpc_bf_encipher(st, &cdata[j], &cdata[j + 1]);
	for (int i = 0; i < BCRYPT_WORDS; i++) {
		out[4 * i + 0] = (uint8_t)cdata[i];
		out[4 * i + 1] = (uint8_t)(cdata[i] >> 8);
		out[4 * i + 2] = (uint8_t)(cdata[i] >> 16);
		out[4 * i + 3] = (uint8_t)(cdata[i] >> 24);
	}
	sshrpc_wipe(cdata, sizeof cdata);
}

static int sha512(
	EVP_MD_CTX *md, const EVP_MD *alg, const void *p, size_t n, const void *p2, size_t n2, uint8_t out[SHA512_LEN])
{
	unsigned len = 0;
	if (EVP_DigestInit_ex(md, alg, NULL) != 1 || EVP_DigestUpdate(md, p, n) != 1 ||
		(n2 > 0 && EVP_DigestUpdate(md, p2, n2) != 1) || EVP_DigestFinal_ex(md, out, &len) != 1 ||
		len != SHA512_LEN)
		return SSHRPC_E_CRYPTO;
	return SSHRPC_OK;
}

int sshrpc_bcrypt_pbkdf(const char *pass, size_t pass_len, const uint8_t *salt, size_t salt_len, uint8_t *key,
	size_t key_len, unsigned rounds)
{
	/* The limits of the reference implementation: at most 32 blocks of 32
	 * bytes, and a salt up to 1 MiB. An empty passphrase or salt is refused
	 * there too. */
	if (rounds < 1 || pass == NULL || pass_len == 0 || salt == NULL || salt_len == 0 || salt_len > (1u << 20) ||
		key == NULL || key_len == 0 || key_len > (size_t)BCRYPT_HASHSIZE * BCRYPT_HASHSIZE)
		return SSHRPC_E_INVALID;

	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_MD *alg = EVP_MD_fetch(NULL, "SHA512", NULL);
	if (md == NULL || alg == NULL) {
		EVP_MD_CTX_free(md);
		EVP_MD_free(alg);
		return SSHRPC_E_NOMEM;
	}
	/* 4 KiB of cipher state: on the stack, as no allocator is passed. */
	sshrpc_bf_ctx state;
	sshrpc_bf_ctx *st = &state;

	uint8_t sha2pass[SHA512_LEN], sha2salt[SHA512_LEN];
	uint8_t out[BCRYPT_HASHSIZE], tmp[BCRYPT_HASHSIZE], countsalt[4];
	const size_t stride = (key_len + BCRYPT_HASHSIZE - 1) / BCRYPT_HASHSIZE;
	size_t amt = (key_len + stride - 1) / stride;
	size_t left = key_len;
	int rc = sha512(md, alg, pass, pass_len, NULL, 0, sha2pass);

	for (uint32_t count = 1; rc == SSHRPC_OK && left > 0; count++) {
		sshrpc_store_be32(countsalt, count);
		rc = sha512(md, alg, salt, salt_len, countsalt, sizeof countsalt, sha2salt);
		if (rc != SSHRPC_OK)
			break;
		bcrypt_hash(st, sha2pass, sha2salt, tmp);
		memcpy(out, tmp, sizeof out);
		for (unsigned i = 1; i < rounds; i++) {
			rc = sha512(md, alg, tmp, sizeof tmp, NULL, 0, sha2salt);
			if (rc != SSHRPC_OK)
				break;
			bcrypt_hash(st, sha2pass, sha2salt, tmp);
			for (size_t j = 0; j < sizeof out; j++)
				out[j] ^= tmp[j];
		}
		if (rc != SSHRPC_OK)
			break;
		if (amt > left)
			amt = left;
		size_t i;
		for (i = 0; i < amt; i++) {
			size_t dest = i * stride + (count - 1);
			if (dest >= key_len)
				break;
			key[dest] = out[i];
		}
		left -= i;
	}

	sshrpc_wipe(st, sizeof *st);
	sshrpc_wipe(sha2pass, sizeof sha2pass);
	sshrpc_wipe(sha2salt, sizeof sha2salt);
	sshrpc_wipe(out, sizeof out);
	sshrpc_wipe(tmp, sizeof tmp);
	EVP_MD_CTX_free(md);
	EVP_MD_free(alg);
	if (rc != SSHRPC_OK)
		sshrpc_wipe(key, key_len);
	return rc;
}
