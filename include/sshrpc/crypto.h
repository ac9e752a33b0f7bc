/* sshrpc crypto/: the only layer that includes OpenSSL. Everything here is in
 * the project's own types so that another backend can replace it. Contexts
 * are made once per key and reused for every packet: none of the per-packet
 * calls allocate. */
#ifndef SSHRPC_CRYPTO_H
#define SSHRPC_CRYPTO_H

#include <stdbool.h>

#include "sshrpc/common.h"
#include "sshrpc/wire.h"

/* ---- random ------------------------------------------------------------ */

SSHRPC_MUST_USE int sshrpc_random(void *out, size_t n);

/* ---- hashes -------------------------------------------------------------- */

typedef enum sshrpc_hash_alg {
	SSHRPC_HASH_SHA1,
	SSHRPC_HASH_SHA256,
	SSHRPC_HASH_SHA384,
	SSHRPC_HASH_SHA512,
} sshrpc_hash_alg;

#define SSHRPC_HASH_MAX 64

size_t sshrpc_hash_len(sshrpc_hash_alg alg);
SSHRPC_MUST_USE int sshrpc_hash(sshrpc_hash_alg alg, const void *p, size_t n, uint8_t *out);

/* Incremental hashing (exchange hash, key derivation). */
typedef struct sshrpc_hash_ctx sshrpc_hash_ctx;
SSHRPC_MUST_USE int sshrpc_hash_new(const sshrpc_alloc *a, sshrpc_hash_alg alg, sshrpc_hash_ctx **out);
SSHRPC_MUST_USE int sshrpc_hash_update(sshrpc_hash_ctx *h, const void *p, size_t n);
/* Writes the digest and resets the context for reuse. */
SSHRPC_MUST_USE int sshrpc_hash_final(sshrpc_hash_ctx *h, uint8_t *out);
/* Copies the running state of src into dst (both made by sshrpc_hash_new
 * with the same alg; SSHRPC_E_INVALID otherwise): for K || H || X ||
 * session_id chains. */
SSHRPC_MUST_USE int sshrpc_hash_copy(sshrpc_hash_ctx *dst, const sshrpc_hash_ctx *src);
void sshrpc_hash_free(sshrpc_hash_ctx *h);

/* ---- ciphers --------------------------------------------------------------- */

typedef enum sshrpc_cipher_kind {
	SSHRPC_CIPHER_NONE,
	SSHRPC_CIPHER_CTR,
	SSHRPC_CIPHER_CBC,
	SSHRPC_CIPHER_GCM,	  /* aes*-gcm@openssh.com: AEAD, length in clear as AAD */
	SSHRPC_CIPHER_CHACHAPOLY, /* chacha20-poly1305@openssh.com: AEAD, length encrypted */
} sshrpc_cipher_kind;

typedef struct sshrpc_cipher_info {
	const char *name; /* SSH algorithm name */
	sshrpc_cipher_kind kind;
	uint8_t key_len;    /* bytes of key material derived for it (RFC 4253 §7.2) */
	uint8_t iv_len;	    /* bytes of IV derived for it */
	uint8_t block_size; /* padding granularity: 8 at least */
	uint8_t tag_len;    /* AEAD tag after the packet; 0 when a MAC is used */
	bool legacy;	    /* built but off unless named */
} sshrpc_cipher_info;

/* NULL when the name is not built. The list is in our order of preference.
 * "none" is found by lookup (kind NONE, block 8, legacy: only before the
 * first NEWKEYS) but never listed by sshrpc_cipher_all. */
const sshrpc_cipher_info *sshrpc_cipher_lookup(const char *name, size_t name_len);
const sshrpc_cipher_info *const *sshrpc_cipher_all(size_t *count);

typedef struct sshrpc_cipher sshrpc_cipher;
typedef enum { SSHRPC_DECRYPT = 0, SSHRPC_ENCRYPT = 1 } sshrpc_direction;

/* key and iv are key_len and iv_len bytes. A NULL allocator means the
 * default one (for every *_new of this header). Calls of the wrong kind
 * (crypt on an AEAD cipher, AEAD calls on CTR/CBC, seal on a decrypt
 * context, open on an encrypt context) give SSHRPC_E_STATE. */
SSHRPC_MUST_USE int sshrpc_cipher_new(const sshrpc_alloc *a, const sshrpc_cipher_info *info, const uint8_t *key,
	const uint8_t *iv, sshrpc_direction dir, sshrpc_cipher **out);
void sshrpc_cipher_free(sshrpc_cipher *c);
const sshrpc_cipher_info *sshrpc_cipher_get_info(const sshrpc_cipher *c);

/* CTR and CBC: en/decrypts len bytes (a multiple of block_size) in place.
 * The counter (CTR) or the IV (CBC, RFC 4253 §6.3) carries over from one
 * call to the next, so the first block of a packet may be decrypted on its
 * own to learn the length, and the rest after. */
SSHRPC_MUST_USE int sshrpc_cipher_crypt(sshrpc_cipher *c, uint8_t *buf, size_t len);

/* AEAD ciphers (GCM, chacha20-poly1305). pkt points at the packet_length
 * field; total counts the 4 bytes of length plus the rest of the packet
 * (padding_length, payload, padding), tag is tag_len bytes after it.
 *
 * length: reads the packet length from the first 4 bytes as received —
 *   chacha20-poly1305 decrypts them with its header key (K_1) into *len
 *   without touching pkt; GCM reads them as they are.
 * seal: encrypts pkt[4..total) in place (chacha: also pkt[0..4)) and writes
 *   the tag. GCM's invocation counter advances (RFC 5647 §7.1).
 * open: checks the tag in constant time, then decrypts pkt[4..total) in
 *   place (chacha: pkt[0..4) stays as received). SSHRPC_E_MAC on mismatch:
 *   the packet then holds the bytes as received, and GCM's invocation
 *   counter does not advance.
 * crypt on a length that is not a whole number of blocks gives
 * SSHRPC_E_INVALID. */
SSHRPC_MUST_USE int sshrpc_cipher_aead_length(sshrpc_cipher *c, uint32_t seqnr, const uint8_t *pkt, uint32_t *len);
SSHRPC_MUST_USE int sshrpc_cipher_aead_seal(sshrpc_cipher *c, uint32_t seqnr, uint8_t *pkt, size_t total, uint8_t *tag);
SSHRPC_MUST_USE int sshrpc_cipher_aead_open(
	sshrpc_cipher *c, uint32_t seqnr, uint8_t *pkt, size_t total, const uint8_t *tag);

/* AES-GCM over one buffer in place, with any additional data (key files:
 * openssh-key-v1 uses aes256-gcm@openssh.com with none). key_len 16 or 32.
 * Decrypting checks tag; SSHRPC_E_MAC on mismatch, with buf wiped.
 * Encrypting writes tag. Not for the packet path (it allocates). */
SSHRPC_MUST_USE int sshrpc_aes_gcm_oneshot(const uint8_t *key, size_t key_len, const uint8_t iv[12], const uint8_t *aad,
	size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[16], sshrpc_direction dir);

/* ---- MACs ------------------------------------------------------------------ */

typedef struct sshrpc_mac_info {
	const char *name; /* e.g. "hmac-sha2-256-etm@openssh.com" */
	sshrpc_hash_alg hash;
	uint8_t key_len;
	uint8_t out_len;
	bool etm; /* encrypt-then-MAC (OpenSSH PROTOCOL §1.5) */
	bool legacy;
} sshrpc_mac_info;

const sshrpc_mac_info *sshrpc_mac_lookup(const char *name, size_t name_len);
const sshrpc_mac_info *const *sshrpc_mac_all(size_t *count);

typedef struct sshrpc_mac sshrpc_mac;
SSHRPC_MUST_USE int sshrpc_mac_new(
	const sshrpc_alloc *a, const sshrpc_mac_info *info, const uint8_t *key, sshrpc_mac **out);
void sshrpc_mac_free(sshrpc_mac *m);
/* mac = MAC(key, uint32 seqnr || data) (RFC 4253 §6.4); out is out_len. */
SSHRPC_MUST_USE int sshrpc_mac_compute(sshrpc_mac *m, uint32_t seqnr, const uint8_t *data, size_t len, uint8_t *out);
/* Constant-time check; SSHRPC_E_MAC on mismatch. */
SSHRPC_MUST_USE int sshrpc_mac_verify(
	sshrpc_mac *m, uint32_t seqnr, const uint8_t *data, size_t len, const uint8_t *tag);

/* Plain HMAC for callers outside the packet path (tests, hashed known_hosts). */
SSHRPC_MUST_USE int sshrpc_hmac(
	sshrpc_hash_alg alg, const void *key, size_t key_len, const void *data, size_t len, uint8_t *out);

/* ---- key exchange primitives ------------------------------------------------ */

typedef enum sshrpc_kex_group {
	SSHRPC_KEX_X25519,
	SSHRPC_KEX_P256,
	SSHRPC_KEX_P384,
	SSHRPC_KEX_P521,
	SSHRPC_KEX_DH, /* finite field: modulus and generator given */
} sshrpc_kex_group;

/* The MODP groups of RFC 2409/3526 by number (1, 2, 14, 16, 18): big-endian
 * prime, generator 2. NULL when not built. 1 is the 768-bit Oakley group;
 * SSH's diffie-hellman-group1-sha1 uses group 2 (RFC 4253 §8.1). */
const uint8_t *sshrpc_dh_modp_prime(int group, size_t *len);

typedef struct sshrpc_kex_key sshrpc_kex_key;
/* Makes an ephemeral key pair. For SSHRPC_KEX_DH, p/g are the big-endian
 * modulus and generator (NULL otherwise).
 * The public value is written to pub (cap bytes): X25519 32 bytes, ECDH an
 * uncompressed SEC1 point, DH the unsigned big-endian e/f (put it on the wire
 * as an mpint). */
SSHRPC_MUST_USE int sshrpc_kex_keygen(const sshrpc_alloc *a, sshrpc_kex_group g, const uint8_t *p, size_t plen,
	const uint8_t *gen, size_t glen, sshrpc_kex_key **out, uint8_t *pub, size_t cap, size_t *pub_len);
/* Computes the shared secret from the peer's public value (same encodings).
 * Validates the peer value (point on curve, 1 < f < p-1, X25519 not all
 * zero). *secret is the unsigned big-endian shared secret to be encoded as
 * an mpint for the exchange hash (RFC 8731 §3, RFC 5656 §4, RFC 4253 §8).
 * SSHRPC_E_INVALID for a wrong length or encoding, SSHRPC_E_PROTOCOL for a
 * value the rules refuse. */
SSHRPC_MUST_USE int sshrpc_kex_derive(
	sshrpc_kex_key *k, const uint8_t *peer, size_t peer_len, uint8_t *secret, size_t cap, size_t *secret_len);
void sshrpc_kex_key_free(sshrpc_kex_key *k);

/* ---- public keys and signatures ----------------------------------------------- */

typedef enum sshrpc_key_type {
	SSHRPC_KEY_UNKNOWN = 0,
	SSHRPC_KEY_ED25519,
	SSHRPC_KEY_RSA,
	SSHRPC_KEY_ECDSA_P256,
	SSHRPC_KEY_ECDSA_P384,
	SSHRPC_KEY_ECDSA_P521,
} sshrpc_key_type;

/* Key type names as in blobs ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256"). */
const char *sshrpc_key_type_name(sshrpc_key_type t);
sshrpc_key_type sshrpc_key_type_from_name(const char *name, size_t len);
/* Signature algorithm names: "ssh-ed25519", "rsa-sha2-256", "rsa-sha2-512",
 * "ssh-rsa", "ecdsa-sha2-nistp256/384/521". The key type a signature
 * algorithm uses, or SSHRPC_KEY_UNKNOWN. */
sshrpc_key_type sshrpc_sigalg_key_type(const char *alg, size_t len);

typedef struct sshrpc_key sshrpc_key;

/* Parses a public key blob (RFC 4253 §6.6, RFC 8709, RFC 5656 §3.1). */
SSHRPC_MUST_USE int sshrpc_key_from_blob(const sshrpc_alloc *a, const uint8_t *blob, size_t len, sshrpc_key **out);
/* Writes the public key blob. */
SSHRPC_MUST_USE int sshrpc_key_to_blob(const sshrpc_key *k, sshrpc_buf *out);
sshrpc_key_type sshrpc_key_get_type(const sshrpc_key *k);
bool sshrpc_key_has_private(const sshrpc_key *k);
unsigned sshrpc_key_bits(const sshrpc_key *k);
/* Same public half. */
bool sshrpc_key_equal_public(const sshrpc_key *a, const sshrpc_key *b);
void sshrpc_key_free(sshrpc_key *k);

/* New key: bits is used for RSA only (2048..16384). */
SSHRPC_MUST_USE int sshrpc_key_generate(const sshrpc_alloc *a, sshrpc_key_type t, unsigned bits, sshrpc_key **out);

/* Signs data and appends the SSH signature encoding (string alg, string
 * sig — RFC 4253 §6.6, RFC 8332 §3, RFC 5656 §3.1.2) to out. alg picks the
 * hash for RSA; for other keys it must match the key type. alg NULL: the
 * key's default (ssh-ed25519, rsa-sha2-512, the matching ecdsa name). An
 * algorithm of another key type gives SSHRPC_E_INVALID, an unknown one
 * SSHRPC_E_UNSUPPORTED, a key without its private half SSHRPC_E_STATE; on
 * failure out is unchanged. */
SSHRPC_MUST_USE int sshrpc_key_sign(
	const sshrpc_key *k, const char *alg, const uint8_t *data, size_t len, sshrpc_buf *out);
/* Verifies an SSH signature encoding (as sshrpc_key_sign writes it) over
 * data. The algorithm named in the signature must be one the key type
 * allows; when expect_alg is non-NULL it must be exactly that.
 * SSHRPC_E_DENIED when the signature is wrong (or names an unknown
 * algorithm, or one of another key type), SSHRPC_E_INVALID when it is
 * malformed. */
SSHRPC_MUST_USE int sshrpc_key_verify(const sshrpc_key *k, const char *expect_alg, const uint8_t *sig, size_t sig_len,
	const uint8_t *data, size_t len);

/* Private key components, as openssh-key-v1 stores them after the key type
 * (PROTOCOL.key; the public fields as in the blob):
 *   ed25519: string pk(32), string sk(64 = seed || pk)
 *   rsa:     mpint n, mpint e, mpint d, mpint iqmp, mpint p, mpint q
 *   ecdsa:   string curve, string Q, mpint d
 * from_private reads exactly one key's fields (after the type string) from r;
 * to_private writes the type string and the fields. */
SSHRPC_MUST_USE int sshrpc_key_from_private(
	const sshrpc_alloc *a, sshrpc_key_type t, sshrpc_reader *r, sshrpc_key **out);
SSHRPC_MUST_USE int sshrpc_key_to_private(const sshrpc_key *k, sshrpc_buf *out);

/* PEM private keys (PKCS#1 RSA, SEC1 EC, PKCS#8 plain and encrypted with
 * PBES2, and the legacy "Proc-Type: 4,ENCRYPTED" form), through libcrypto's
 * decoders. passphrase may be NULL; SSHRPC_E_PASSPHRASE when one is needed
 * or wrong. */
SSHRPC_MUST_USE int sshrpc_key_from_pem(
	const sshrpc_alloc *a, const uint8_t *pem, size_t len, const char *passphrase, sshrpc_key **out);

/* ---- bcrypt_pbkdf ------------------------------------------------------------ */

/* bcrypt_pbkdf as OpenSSH uses it for openssh-key-v1 (PROTOCOL.key), with
 * its own Blowfish (libcrypto's lives in the legacy provider). */
SSHRPC_MUST_USE int sshrpc_bcrypt_pbkdf(const char *pass, size_t pass_len, const uint8_t *salt, size_t salt_len,
	uint8_t *key, size_t key_len, unsigned rounds);

#endif
