/* aes256-gcm@openssh.com for openssh-key-v1 files. OpenSSH encrypts the
 * private section with AES-GCM and no additional data, the 16-byte tag
 * following the encrypted string (PROTOCOL.key; its cipher_crypt with
 * aadlen 0). crypto/'s GCM entry points are shaped for packets (the length
 * word as additional data), so GCM is assembled here from the pieces NIST
 * SP 800-38D §7 defines: AES-CTR for the keystream, GHASH for the tag. The
 * data is a few kilobytes, so a bit-at-a-time GHASH is plenty. */
#include "auth_internal.h"

typedef struct block128 {
	uint64_t hi, lo;
} block128;

static block128 load128(const uint8_t *p)
{
	block128 b = { sshrpc_load_be64(p), sshrpc_load_be64(p + 8) };
	return b;
}

/* X * Y in GF(2^128) with GCM's bit order (SP 800-38D §6.3, Algorithm 1). */
static block128 gf_mul(block128 x, block128 y)
{
	block128 z = { 0, 0 }, v = y;
	for (int i = 0; i < 128; i++) {
		uint64_t bit = i < 64 ? (x.hi >> (63 - i)) & 1 : (x.lo >> (127 - i)) & 1;
		uint64_t mask = (uint64_t)0 - bit;
		z.hi ^= v.hi & mask;
		z.lo ^= v.lo & mask;
		uint64_t carry = v.lo & 1;
		v.lo = (v.lo >> 1) | (v.hi << 63);
		v.hi >>= 1;
		v.hi ^= ((uint64_t)0 - carry) & 0xe100000000000000ull;
	}
	return z;
}

static int aes_ctr_block(const uint8_t key[32], const uint8_t counter[16], uint8_t *buf, size_t len)
{
	const sshrpc_cipher_info *info = sshrpc_cipher_lookup("aes256-ctr", 10);
	if (info == NULL || info->key_len != 32 || info->iv_len != 16)
		return SSHRPC_E_UNSUPPORTED;
	sshrpc_cipher *c;
	int rc = sshrpc_cipher_new(NULL, info, key, counter, SSHRPC_ENCRYPT, &c);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_cipher_crypt(c, buf, len);
	sshrpc_cipher_free(c);
	return rc;
}

static int ghash_tag(const uint8_t key[32], const uint8_t iv[12], const uint8_t *ct, size_t len, uint8_t tag[16])
{
	uint8_t h_bytes[16] = { 0 }, zero_ctr[16] = { 0 }, j0[16], ej0[16] = { 0 };
	int rc = aes_ctr_block(key, zero_ctr, h_bytes, 16); /* H = E_K(0^128) */
	if (rc != SSHRPC_OK)
		return rc;
	memcpy(j0, iv, 12);
	sshrpc_store_be32(j0 + 12, 1);
	rc = aes_ctr_block(key, j0, ej0, 16); /* E_K(J0) */
	if (rc != SSHRPC_OK)
		return rc;
	block128 h = load128(h_bytes), x = { 0, 0 };
	for (size_t off = 0; off < len; off += 16) {
		uint8_t blk[16] = { 0 };
		size_t k = len - off < 16 ? len - off : 16;
		memcpy(blk, ct + off, k);
		block128 c = load128(blk);
		x.hi ^= c.hi;
		x.lo ^= c.lo;
		x = gf_mul(x, h);
	}
	/* len(A) = 0 || len(C) in bits. */
	x.lo ^= (uint64_t)len * 8;
	x = gf_mul(x, h);
	sshrpc_store_be64(tag, x.hi);
	sshrpc_store_be64(tag + 8, x.lo);
	for (int i = 0; i < 16; i++)
		tag[i] ^= ej0[i];
	sshrpc_wipe(h_bytes, sizeof h_bytes);
	sshrpc_wipe(ej0, sizeof ej0);
	return SSHRPC_OK;
}

int auth_keyfile_gcm(const uint8_t key[32], const uint8_t iv[12], uint8_t *buf, size_t len, uint8_t tag[16],
	bool encrypt)
{
	if (len % 16 != 0)
		return SSHRPC_E_INVALID;
	int rc;
	if (!encrypt) {
		uint8_t want[16];
		rc = ghash_tag(key, iv, buf, len, want);
		if (rc != SSHRPC_OK)
			return rc;
		if (sshrpc_ct_memcmp(want, tag, 16) != 0)
			return SSHRPC_E_MAC;
	}
	uint8_t ctr[16];
	memcpy(ctr, iv, 12);
	sshrpc_store_be32(ctr + 12, 2); /* inc32(J0): the first data block */
	if (len > 0) {
		rc = aes_ctr_block(key, ctr, buf, len);
		if (rc != SSHRPC_OK)
			return rc;
	}
	if (encrypt)
		return ghash_tag(key, iv, buf, len, tag);
	return SSHRPC_OK;
}
