/* Private to crypto/'s asymmetric half (kex, keys, PEM, bcrypt_pbkdf) and
 * its tests: the key structure, helpers shared between key.c, key_sign.c
 * and key_pem.c, and the Blowfish core under bcrypt_pbkdf. Nothing outside
 * crypto/ and tests/crypto/ includes this file. */
#ifndef SSHRPC_CRYPTO_INTERNAL_H
#define SSHRPC_CRYPTO_INTERNAL_H

/* Only the OpenSSL 3 EVP interfaces: a deprecated call fails to compile. */
#ifndef OPENSSL_NO_DEPRECATED
#define OPENSSL_NO_DEPRECATED 1
#endif

#include <openssl/evp.h>

#include "sshrpc/crypto.h"

/* ---- keys ------------------------------------------------------------ */

/* RFC 8332 §3.3 leaves the minimum to policy; OpenSSH refuses RSA keys
 * below 1024 bits, and 16384 is the most it makes. */
#define SSHRPC_RSA_MIN_BITS 1024
#define SSHRPC_RSA_MAX_BITS 16384

/* The EVP_PKEY is made once (parse, load or generate) and used for every
 * signature; the public blob is kept so that writing and comparing keys
 * costs a copy or a memcmp. */
struct sshrpc_key {
	const sshrpc_alloc *alloc;
	sshrpc_key_type type;
	bool has_private;
	unsigned bits;
	EVP_PKEY *pkey;
	uint8_t *blob;
	size_t blob_len;
};

/* Per key type: SSH names, the OpenSSL group for ECDSA, the hash. */
typedef struct sshrpc_key_info {
	sshrpc_key_type type;
	const char *name;  /* key type in blobs */
	const char *curve; /* RFC 5656 §6.1 curve identifier, ECDSA only */
	const char *group; /* OpenSSL group name, ECDSA only */
	size_t field_len;  /* bytes of a field element, ECDSA only */
} sshrpc_key_info;

const sshrpc_key_info *sshrpc_key_info_get(sshrpc_key_type t);

/* Wraps a key made by OpenSSL (generated, decoded from PEM, built from
 * components): takes ownership of pkey even on failure, fills bits and the
 * public blob. */
SSHRPC_MUST_USE int sshrpc_key_wrap(
	const sshrpc_alloc *a, sshrpc_key_type t, EVP_PKEY *pkey, bool priv, sshrpc_key **out);

/* The key type of an EVP_PKEY we support, SSHRPC_KEY_UNKNOWN otherwise
 * (DSA, P-224, X25519, explicit curve parameters, ...). */
sshrpc_key_type sshrpc_key_type_of_pkey(EVP_PKEY *pkey);

/* ---- key exchange ------------------------------------------------------ */

/* Test hook for the RFC 7748 vectors: an X25519 key from a fixed private
 * scalar (32 bytes, clamped by X25519 itself); pub gets its 32-byte public
 * value. */
SSHRPC_MUST_USE int sshrpc_kex_x25519_from_private(
	const sshrpc_alloc *a, const uint8_t priv[32], sshrpc_kex_key **out, uint8_t pub[32]);

/* Bits of private exponent for a finite-field group of pbits: twice the
 * modulus's security strength (RFC 4419 §6.2, NIST SP 800-57 Table 2),
 * never less than 160 and always below pbits. */
unsigned sshrpc_dh_private_bits(unsigned pbits);

/* ---- Blowfish (for bcrypt_pbkdf) -------------------------------------- */

typedef struct sshrpc_bf_ctx {
	uint32_t s[4][256];
	uint32_t p[18];
} sshrpc_bf_ctx;

/* P-array and S-boxes set to the hexadecimal digits of pi. */
void sshrpc_bf_initstate(sshrpc_bf_ctx *c);
/* Blowfish's key schedule with the key cycled over P (key may be any
 * length from 1 byte). */
void sshrpc_bf_expand0(sshrpc_bf_ctx *c, const uint8_t *key, size_t key_len);
/* eksblowfish's salted key schedule: as expand0, but each block encrypted
 * is first XORed with the next 8 bytes of the cycled data. */
void sshrpc_bf_expand(sshrpc_bf_ctx *c, const uint8_t *data, size_t data_len, const uint8_t *key, size_t key_len);
void sshrpc_bf_encipher(const sshrpc_bf_ctx *c, uint32_t *l, uint32_t *r);
void sshrpc_bf_decipher(const sshrpc_bf_ctx *c, uint32_t *l, uint32_t *r);
/* Classic Blowfish with a 1..72 byte key, 8-byte blocks big-endian, for
 * the published test vectors. */
void sshrpc_bf_set_key(sshrpc_bf_ctx *c, const uint8_t *key, size_t key_len);
void sshrpc_bf_ecb_encrypt(const sshrpc_bf_ctx *c, const uint8_t in[8], uint8_t out[8]);
void sshrpc_bf_ecb_decrypt(const sshrpc_bf_ctx *c, const uint8_t in[8], uint8_t out[8]);

#endif
