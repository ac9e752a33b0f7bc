/* Ciphers: the table, NIST SP 800-38A (CTR, CBC) with the counter and IV
 * carried across calls, AES-GCM through the SSH packet API (RFC 5647), and
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305) with the
 * RFC 8439 ChaCha20 and Poly1305 vectors. */
#include <string.h>

#include <criterion/criterion.h>

#include "sshrpc_config.h"
#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"
#include "sym_test.h"

static const sshrpc_cipher_info *cipher(const char *name)
{
	const sshrpc_cipher_info *info = sshrpc_cipher_lookup(name, strlen(name));
	cr_assert_not_null(info, "%s is not built", name);
	return info;
}

static sshrpc_cipher *make(const char *name, const uint8_t *key, const uint8_t *iv, sshrpc_direction dir)
{
	sshrpc_cipher *c = NULL;
	cr_assert_eq(sshrpc_cipher_new(NULL, cipher(name), key, iv, dir, &c), SSHRPC_OK, "%s", name);
	cr_assert_not_null(c);
	return c;
}

/* ---- the table ------------------------------------------------------------ */

Test(cipher, list_order_and_properties)
{
	static const struct {
		const char *name;
		sshrpc_cipher_kind kind;
		uint8_t key_len, iv_len, block, tag;
		bool legacy;
	} want[] = {
		{ "chacha20-poly1305@openssh.com", SSHRPC_CIPHER_CHACHAPOLY, 64, 0, 8, 16, false },
		{ "aes128-gcm@openssh.com", SSHRPC_CIPHER_GCM, 16, 12, 16, 16, false },
		{ "aes256-gcm@openssh.com", SSHRPC_CIPHER_GCM, 32, 12, 16, 16, false },
		{ "aes128-ctr", SSHRPC_CIPHER_CTR, 16, 16, 16, 0, false },
		{ "aes192-ctr", SSHRPC_CIPHER_CTR, 24, 16, 16, 0, false },
		{ "aes256-ctr", SSHRPC_CIPHER_CTR, 32, 16, 16, 0, false },
#if SSHRPC_WITH_CBC
		{ "aes128-cbc", SSHRPC_CIPHER_CBC, 16, 16, 16, 0, true },
		{ "aes192-cbc", SSHRPC_CIPHER_CBC, 24, 16, 16, 0, true },
		{ "aes256-cbc", SSHRPC_CIPHER_CBC, 32, 16, 16, 0, true },
#endif
	};
	size_t n = 0;
	const sshrpc_cipher_info *const *all = sshrpc_cipher_all(&n);
	cr_assert_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(all[i]->name, want[i].name);
		cr_assert_eq(all[i]->kind, want[i].kind, "%s", want[i].name);
		cr_assert_eq(all[i]->key_len, want[i].key_len, "%s", want[i].name);
		cr_assert_eq(all[i]->iv_len, want[i].iv_len, "%s", want[i].name);
		cr_assert_eq(all[i]->block_size, want[i].block, "%s", want[i].name);
		cr_assert_eq(all[i]->tag_len, want[i].tag, "%s", want[i].name);
		cr_assert_eq(all[i]->legacy, want[i].legacy, "%s", want[i].name);
		cr_assert_eq(sshrpc_cipher_lookup(want[i].name, strlen(want[i].name)), all[i]);
	}
}

Test(cipher, lookup_exact_names_only)
{
	cr_assert_null(sshrpc_cipher_lookup("aes128", 6));
	cr_assert_null(sshrpc_cipher_lookup("aes128-ctrx", 11));
	cr_assert_null(sshrpc_cipher_lookup("AES128-CTR", 10));
	cr_assert_null(sshrpc_cipher_lookup("3des-cbc", 8));
	cr_assert_null(sshrpc_cipher_lookup("", 0));
	cr_assert_null(sshrpc_cipher_lookup(NULL, 3));
	/* A name inside a longer buffer: only name_len counts. */
	cr_assert_not_null(sshrpc_cipher_lookup("aes256-ctr,aes128-ctr", 10));
#if !SSHRPC_WITH_CBC
	cr_assert_null(sshrpc_cipher_lookup("aes128-cbc", 10));
#endif
}

Test(cipher, none_is_found_but_never_listed)
{
	const sshrpc_cipher_info *none = sshrpc_cipher_lookup("none", 4);
	cr_assert_not_null(none);
	cr_assert_eq(none->kind, SSHRPC_CIPHER_NONE);
	cr_assert_eq(none->block_size, 8);
	cr_assert_eq(none->key_len, 0);
	cr_assert_eq(none->tag_len, 0);
	cr_assert(none->legacy);
	size_t n = 0;
	const sshrpc_cipher_info *const *all = sshrpc_cipher_all(&n);
	for (size_t i = 0; i < n; i++)
		cr_assert_neq(all[i], none);

	sshrpc_cipher *c = NULL;
	cr_assert_eq(sshrpc_cipher_new(NULL, none, NULL, NULL, SSHRPC_ENCRYPT, &c), SSHRPC_OK);
	cr_assert_eq(sshrpc_cipher_get_info(c), none);
	uint8_t buf[16] = "plain text here";
	cr_assert_eq(sshrpc_cipher_crypt(c, buf, sizeof buf), SSHRPC_OK);
	cr_assert_str_eq((char *)buf, "plain text here");
	uint8_t tag[16];
	cr_assert_eq(sshrpc_cipher_aead_seal(c, 0, buf, sizeof buf, tag), SSHRPC_E_STATE);
	sshrpc_cipher_free(c);
}

Test(cipher, rejects_foreign_info_and_missing_key)
{
	sshrpc_cipher_info fake = *cipher("aes128-ctr");
	uint8_t key[32] = { 0 }, iv[16] = { 0 };
	sshrpc_cipher *c = (sshrpc_cipher *)&fake;
	cr_assert_eq(sshrpc_cipher_new(NULL, &fake, key, iv, SSHRPC_ENCRYPT, &c), SSHRPC_E_UNSUPPORTED);
	cr_assert_null(c);
	cr_assert_eq(sshrpc_cipher_new(NULL, NULL, key, iv, SSHRPC_ENCRYPT, &c), SSHRPC_E_UNSUPPORTED);
	cr_assert_eq(sshrpc_cipher_new(NULL, cipher("aes128-ctr"), NULL, iv, SSHRPC_ENCRYPT, &c), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_cipher_new(NULL, cipher("aes128-ctr"), key, NULL, SSHRPC_ENCRYPT, &c), SSHRPC_E_INVALID);
	sshrpc_cipher_free(NULL);
}

/* ---- NIST SP 800-38A ---------------------------------------------------------- */

static const char *const sp800_38a_plain = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51"
					   "30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";

struct sp800_vector {
	const char *name, *key, *iv, *cipher;
};

/* F.5.1/F.5.3/F.5.5 (CTR, encrypt; F.5.2/4/6 decrypt the same data). */
static const struct sp800_vector ctr_vectors[] = {
	{ "aes128-ctr", "2b7e151628aed2a6abf7158809cf4f3c", "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"874d6191b620e3261bef6864990db6ce 9806f66b7970fdff8617187bb9fffdff"
		"5ae4df3edbd5d35e5b4f09020db03eab 1e031dda2fbe03d1792170a0f3009cee" },
	{ "aes192-ctr", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"1abc932417521ca24f2b0459fe7e6e0b 090339ec0aa6faefd5ccc2c6f4ce8e94"
		"1e36b26bd1ebc670d1bd1d665620abf7 4f78a7f6d29809585a97daec58c6b050" },
	{ "aes256-ctr", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		"601ec313775789a5b7a7f504bbf3d228 f443e3ca4d62b59aca84e990cacaf5c5"
		"2b0930daa23de94ce87017ba2d84988d dfc9c58db67aada613c2dd08457941a6" },
};

#if SSHRPC_WITH_CBC
/* F.2.1/F.2.3/F.2.5 (CBC, encrypt; F.2.2/4/6 decrypt). */
static const struct sp800_vector cbc_vectors[] = {
	{ "aes128-cbc", "2b7e151628aed2a6abf7158809cf4f3c", "000102030405060708090a0b0c0d0e0f",
		"7649abac8119b246cee98e9b12e9197d 5086cb9b507219ee95db113a917678b2"
		"73bed6b8e3c1743b7116e69e22229516 3ff1caa1681fac09120eca307586e1a7" },
	{ "aes192-cbc", "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b", "000102030405060708090a0b0c0d0e0f",
		"4f021db243bc633d7178183a9fa071e8 b4d9ada9ad7dedf4e5e738763f69145a"
		"571b242012fb7ae07fa9baac3df102e0 08b0e27988598881d920a9e64f5615cd" },
	{ "aes256-cbc", "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
		"000102030405060708090a0b0c0d0e0f",
		"f58c4c04d6e5f1ba779eabfb5f7bfbd6 9cfc4e967edb808d679f777bc6702c7d"
		"39f23369a9d9bacfa530e26304231461 b2eb05e2c39be9fcda6c19078c6a9d1b" },
};
#endif

/* Runs the 64-byte vector through one context in pieces of the given
 * sizes (in blocks), so that the counter or IV must carry over. */
static void sp800_run(const struct sp800_vector *v, sshrpc_direction dir, const size_t *pieces)
{
	uint8_t key[32], iv[16], plain[64], ct[64], buf[64];
	size_t kl = unhex(v->key, key, sizeof key);
	cr_assert_eq(kl, cipher(v->name)->key_len);
	unhex(v->iv, iv, sizeof iv);
	unhex(sp800_38a_plain, plain, sizeof plain);
	unhex(v->cipher, ct, sizeof ct);

	sshrpc_cipher *c = make(v->name, key, iv, dir);
	memcpy(buf, dir == SSHRPC_ENCRYPT ? plain : ct, 64);
	size_t off = 0;
	for (size_t i = 0; off < 64; i++) {
		size_t n = pieces[i] * 16;
		cr_assert_eq(sshrpc_cipher_crypt(c, buf + off, n), SSHRPC_OK);
		off += n;
	}
	cr_assert_eq(memcmp(buf, dir == SSHRPC_ENCRYPT ? ct : plain, 64), 0, "%s %s", v->name,
		dir == SSHRPC_ENCRYPT ? "encrypt" : "decrypt");
	sshrpc_cipher_free(c);
}

static const size_t whole[] = { 4 };
static const size_t by_block[] = { 1, 1, 1, 1 };
static const size_t ragged[] = { 1, 2, 1 };
static const size_t first_then_rest[] = { 1, 3 }; /* how transport reads a packet */

static void sp800_all(const struct sp800_vector *v)
{
	for (int d = 0; d < 2; d++) {
		sshrpc_direction dir = d ? SSHRPC_ENCRYPT : SSHRPC_DECRYPT;
		sp800_run(v, dir, whole);
		sp800_run(v, dir, by_block);
		sp800_run(v, dir, ragged);
		sp800_run(v, dir, first_then_rest);
	}
}

Test(cipher, sp800_38a_ctr)
{
	for (size_t i = 0; i < sizeof ctr_vectors / sizeof ctr_vectors[0]; i++)
		sp800_all(&ctr_vectors[i]);
}

#if SSHRPC_WITH_CBC
Test(cipher, sp800_38a_cbc)
{
	for (size_t i = 0; i < sizeof cbc_vectors / sizeof cbc_vectors[0]; i++)
		sp800_all(&cbc_vectors[i]);
}
#endif

Test(cipher, ctr_counter_carries_across_packets)
{
	/* Two "packets" through one context equal one run over both. */
	uint8_t key[16] = { 1, 2, 3 }, iv[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xfe };
	uint8_t a[96] = { 0 }, b[96] = { 0 };
	sshrpc_cipher *one = make("aes128-ctr", key, iv, SSHRPC_ENCRYPT);
	sshrpc_cipher *two = make("aes128-ctr", key, iv, SSHRPC_ENCRYPT);
	cr_assert_eq(sshrpc_cipher_crypt(one, a, sizeof a), SSHRPC_OK);
	cr_assert_eq(sshrpc_cipher_crypt(two, b, 32), SSHRPC_OK);
	cr_assert_eq(sshrpc_cipher_crypt(two, b + 32, 64), SSHRPC_OK);
	/* The 128-bit counter wraps from all-ones to zero (RFC 4344 §4). */
	cr_assert_eq(memcmp(a, b, sizeof a), 0);
	sshrpc_cipher_free(one);
	sshrpc_cipher_free(two);
}

Test(cipher, crypt_rejects_partial_blocks_and_aead)
{
	uint8_t key[64] = { 0 }, iv[16] = { 0 }, buf[32] = { 0 };
	sshrpc_cipher *c = make("aes128-ctr", key, iv, SSHRPC_ENCRYPT);
	cr_assert_eq(sshrpc_cipher_crypt(c, buf, 15), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_cipher_crypt(c, buf, 17), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_cipher_crypt(c, buf, 0), SSHRPC_OK);
	uint8_t tag[16];
	uint32_t len;
	cr_assert_eq(sshrpc_cipher_aead_seal(c, 0, buf, sizeof buf, tag), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_cipher_aead_open(c, 0, buf, sizeof buf, tag), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_cipher_aead_length(c, 0, buf, &len), SSHRPC_E_STATE);
	sshrpc_cipher_free(c);

	c = make("aes128-gcm@openssh.com", key, iv, SSHRPC_ENCRYPT);
	cr_assert_eq(sshrpc_cipher_crypt(c, buf, 16), SSHRPC_E_STATE);
	cr_assert_eq(sshrpc_cipher_aead_seal(c, 0, buf, 3, tag), SSHRPC_E_INVALID);
	sshrpc_cipher_free(c);
	c = make("chacha20-poly1305@openssh.com", key, NULL, SSHRPC_ENCRYPT);
	cr_assert_eq(sshrpc_cipher_crypt(c, buf, 16), SSHRPC_E_STATE);
	sshrpc_cipher_free(c);
}

/* ---- AES-GCM (RFC 5647) ------------------------------------------------------ */

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3
 * (AES-128) and 15 (AES-256): 96-bit IV, 64 bytes of plaintext, no AAD. */
static const char gcm_tc_iv[] = "cafebabefacedbaddecaf888";
static const char gcm_tc_plain[] = "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72"
				   "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255";

struct gcm_case {
	const char *name, *key;
	const char *ct1; /* the test case's ciphertext */
	const char *tag1, *ct2, *tag2;
};

/* SSH adds the 4-byte packet length as AAD, so the ciphertext is the test
 * case's and the tags are not: tag1/ct2/tag2 (the next packet, invocation
 * counter + 1) were computed with Python's cryptography 48 AESGCM with
 * AAD = 00000040 and IV ...f888 / ...f889. */
static const struct gcm_case gcm_cases[] = {
	{ "aes128-gcm@openssh.com", "feffe9928665731c6d6a8f9467308308",
		"42831ec2217774244b7221b784d0d49c e3aa212f2c02a4e035c17e2329aca12e"
		"21d514b25466931c7d8f6a5aac84aa05 1ba30b396a0aac973d58e091473f5985",
		"e6114f6468325271e9b03b510a6dff85", "5c21c68aa9787c7294b2d7a47a6e8e4d",
		"18b9f3f32d9bd01561a21b00a1e07be5" },
	{ "aes256-gcm@openssh.com", "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		"522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
		"8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad",
		"4c94d832c068679ac9246e9aa8d1987a", "46446ebb3f662e2bc2c3b3306a49d8b1",
		"244a3a9811a09e1e9d1e8a41224a1e32" },
};

static void gcm_packet(uint8_t pkt[68])
{
	pkt[0] = 0;
	pkt[1] = 0;
	pkt[2] = 0;
	pkt[3] = 64;
	unhex(gcm_tc_plain, pkt + 4, 64);
}

Test(cipher, gcm_spec_vectors_through_packets)
{
	for (size_t i = 0; i < sizeof gcm_cases / sizeof gcm_cases[0]; i++) {
		const struct gcm_case *v = &gcm_cases[i];
		uint8_t key[32], iv[12], pkt[68], tag[16];
		unhex(v->key, key, sizeof key);
		unhex(gcm_tc_iv, iv, sizeof iv);
		sshrpc_cipher *enc = make(v->name, key, iv, SSHRPC_ENCRYPT);
		sshrpc_cipher *dec = make(v->name, key, iv, SSHRPC_DECRYPT);

		/* Packet 1: invocation counter as derived. */
		gcm_packet(pkt);
		cr_assert_eq(sshrpc_cipher_aead_seal(enc, 7, pkt, sizeof pkt, tag), SSHRPC_OK);
		assert_hex(pkt, 4, "00000040", "length stays in the clear");
		assert_hex(pkt + 4, 64, v->ct1, "GCM test case ciphertext");
		assert_hex(tag, 16, v->tag1, "tag with the length as AAD");
		uint32_t len = 0;
		cr_assert_eq(sshrpc_cipher_aead_length(dec, 7, pkt, &len), SSHRPC_OK);
		cr_assert_eq(len, 64);
		cr_assert_eq(sshrpc_cipher_aead_open(dec, 7, pkt, sizeof pkt, tag), SSHRPC_OK);
		assert_hex(pkt + 4, 64, gcm_tc_plain, "decrypted");

		/* Packet 2: the counter advanced by one (RFC 5647 §7.1); the
		 * sequence number plays no part. */
		gcm_packet(pkt);
		cr_assert_eq(sshrpc_cipher_aead_seal(enc, 0, pkt, sizeof pkt, tag), SSHRPC_OK);
		assert_hex(pkt + 4, 16, v->ct2, "second packet ciphertext");
		assert_hex(tag, 16, v->tag2, "second packet tag");
		cr_assert_eq(sshrpc_cipher_aead_open(dec, 99, pkt, sizeof pkt, tag), SSHRPC_OK);
		assert_hex(pkt + 4, 64, gcm_tc_plain, "second packet decrypted");
		sshrpc_cipher_free(enc);
		sshrpc_cipher_free(dec);
	}
}

Test(cipher, gcm_zero_key_vectors)
{
	/* Test cases 2 and 14: zero key, zero IV, 16 zero bytes. With the SSH
	 * length as AAD the ciphertext is unchanged; the tags come from
	 * Python's cryptography (AAD 00000010). */
	static const struct {
		const char *name, *ct, *tag;
	} v[] = {
		{ "aes128-gcm@openssh.com", "0388dace60b6a392f328c2b971b2fe78", "7bde8df968656abf7d473d1aacc6b7c5" },
		{ "aes256-gcm@openssh.com", "cea7403d4d606b6e074ec5d3baf39d18", "92d34e049cf271ba0733689588932259" },
	};
	for (size_t i = 0; i < 2; i++) {
		uint8_t key[32] = { 0 }, iv[12] = { 0 }, pkt[20] = { 0, 0, 0, 16 }, tag[16];
		sshrpc_cipher *enc = make(v[i].name, key, iv, SSHRPC_ENCRYPT);
		cr_assert_eq(sshrpc_cipher_aead_seal(enc, 0, pkt, sizeof pkt, tag), SSHRPC_OK);
		assert_hex(pkt + 4, 16, v[i].ct, v[i].name);
		assert_hex(tag, 16, v[i].tag, v[i].name);
		sshrpc_cipher_free(enc);
	}
}

Test(cipher, gcm_invocation_counter_wraps_without_carry)
{
	/* RFC 5647 §7.1: the 64-bit counter wraps; the fixed field stays.
	 * Expected values: Python cryptography 48, IV 00000001ffffffffffffffff
	 * then 000000010000000000000000, AAD 00000020. */
	uint8_t key[16], iv[12], pkt[36], tag[16];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	unhex("00000001ffffffffffffffff", iv, sizeof iv);
	sshrpc_cipher *enc = make("aes128-gcm@openssh.com", key, iv, SSHRPC_ENCRYPT);
	sshrpc_cipher *dec = make("aes128-gcm@openssh.com", key, iv, SSHRPC_DECRYPT);
	static const char *const want[2] = {
		"36235eeb929a1e9e81ca34ffbc34782e27c2439334c4ed7d915f59453f44375a"
		"b3a64e8f54f5fed9d8beff7b0b3469ed",
		"6380ffff9eeaa9ed32f656d3dba6e1839880264938107ce536efca1a4528368a"
		"12ea24badd77dac31a17c821200fae75",
	};
	for (int n = 0; n < 2; n++) {
		pkt[0] = pkt[1] = pkt[2] = 0;
		pkt[3] = 32;
		for (int i = 0; i < 32; i++)
			pkt[4 + i] = (uint8_t)i;
		cr_assert_eq(sshrpc_cipher_aead_seal(enc, 0, pkt, sizeof pkt, tag), SSHRPC_OK);
		uint8_t both[48];
		memcpy(both, pkt + 4, 32);
		memcpy(both + 32, tag, 16);
		assert_hex(both, sizeof both, want[n], n == 0 ? "last counter" : "wrapped counter");
		cr_assert_eq(sshrpc_cipher_aead_open(dec, 0, pkt, sizeof pkt, tag), SSHRPC_OK);
	}
	sshrpc_cipher_free(enc);
	sshrpc_cipher_free(dec);
}

/* Flips every byte of the packet and of the tag in turn: each must fail
 * with SSHRPC_E_MAC and leave the received bytes as they were; afterwards
 * the untouched packet still opens (a failed open does not move state). */
static void tamper_all(sshrpc_cipher *dec, uint32_t seqnr, uint8_t *pkt, size_t total, uint8_t *tag)
{
	uint8_t before[512], tag_before[16];
	cr_assert_leq(total, sizeof before);
	memcpy(before, pkt, total);
	memcpy(tag_before, tag, 16);
	for (size_t i = 0; i < total + 16; i++) {
		uint8_t *p = i < total ? pkt + i : tag + (i - total);
		*p ^= 0x01;
		int rc = sshrpc_cipher_aead_open(dec, seqnr, pkt, total, tag);
		cr_assert_eq(rc, SSHRPC_E_MAC, "flipped byte %zu of %zu: rc %d", i, total + 16, rc);
		*p ^= 0x01;
		cr_assert_eq(memcmp(pkt, before, total), 0, "byte %zu: packet changed on failure", i);
	}
	cr_assert_eq(memcmp(tag, tag_before, 16), 0);
	/* Wrong sequence number. */
	cr_assert_eq(sshrpc_cipher_aead_open(dec, seqnr + 1, pkt, total, tag),
		sshrpc_cipher_get_info(dec)->kind == SSHRPC_CIPHER_GCM ? SSHRPC_OK : SSHRPC_E_MAC);
	if (sshrpc_cipher_get_info(dec)->kind != SSHRPC_CIPHER_GCM)
		cr_assert_eq(sshrpc_cipher_aead_open(dec, seqnr, pkt, total, tag), SSHRPC_OK);
}

Test(cipher, gcm_tamper_detected_and_packet_untouched)
{
	uint8_t key[32] = { 9 }, iv[12] = { 1, 2, 3, 4 }, pkt[68], tag[16];
	sshrpc_cipher *enc = make("aes256-gcm@openssh.com", key, iv, SSHRPC_ENCRYPT);
	sshrpc_cipher *dec = make("aes256-gcm@openssh.com", key, iv, SSHRPC_DECRYPT);
	gcm_packet(pkt);
	cr_assert_eq(sshrpc_cipher_aead_seal(enc, 0, pkt, sizeof pkt, tag), SSHRPC_OK);
	tamper_all(dec, 0, pkt, sizeof pkt, tag);
	assert_hex(pkt + 4, 64, gcm_tc_plain, "opened after the failures");
	sshrpc_cipher_free(enc);
	sshrpc_cipher_free(dec);
}

Test(cipher, aead_direction_is_enforced)
{
	uint8_t key[64] = { 0 }, iv[12] = { 0 }, pkt[36] = { 0, 0, 0, 32 }, tag[16] = { 0 };
	static const char *const names[] = { "aes128-gcm@openssh.com", "chacha20-poly1305@openssh.com" };
	for (int i = 0; i < 2; i++) {
		sshrpc_cipher *dec = make(names[i], key, iv, SSHRPC_DECRYPT);
		sshrpc_cipher *enc = make(names[i], key, iv, SSHRPC_ENCRYPT);
		cr_assert_eq(sshrpc_cipher_aead_seal(dec, 0, pkt, sizeof pkt, tag), SSHRPC_E_STATE);
		cr_assert_eq(sshrpc_cipher_aead_open(enc, 0, pkt, sizeof pkt, tag), SSHRPC_E_STATE);
		sshrpc_cipher_free(dec);
		sshrpc_cipher_free(enc);
	}
}

/* ---- RFC 8439: ChaCha20 and Poly1305 -------------------------------------------- */

/* The 96-bit IETF nonce n0..n11 with a 32-bit counter is, in the 64/64
 * layout, counter | LE32(n0..n3) << 32 and nonce n4..n11. */
Test(chacha, rfc8439_2_3_2_block_function)
{
	uint8_t key[32], nonce[8], zero[64] = { 0 }, out[64];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	unhex("0000004a00000000", nonce, sizeof nonce); /* n = 00000009 0000004a 00000000 */
	cr_assert_eq(sshrpc_chacha20_xor(key, 0x0900000000000001ULL, nonce, zero, out, 64), SSHRPC_OK);
	assert_hex(out, 64,
		"10 f1 e7 e4 d1 3b 59 15 50 0f dd 1f a3 20 71 c4"
		"c7 d1 f4 c7 33 c0 68 03 04 22 aa 9a c3 d4 6c 4e"
		"d2 82 64 46 07 9f aa 09 14 c2 d7 05 d9 8b 02 a2"
		"b5 12 9c d1 de 16 4e b9 cb d0 83 e8 a2 50 3c 4e",
		"RFC 8439 2.3.2 serialized block");
}

Test(chacha, rfc8439_2_4_2_encryption)
{
	static const char plain[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
				    "the future, sunscreen would be it.";
	uint8_t key[32], nonce[8], out[114];
	for (int i = 0; i < 32; i++)
		key[i] = (uint8_t)i;
	unhex("0000004a00000000", nonce, sizeof nonce); /* n = 00000000 0000004a 00000000 */
	cr_assert_eq(strlen(plain), sizeof out);
	cr_assert_eq(sshrpc_chacha20_xor(key, 1, nonce, (const uint8_t *)plain, out, sizeof out), SSHRPC_OK);
	assert_hex(out, sizeof out,
		"6e 2e 35 9a 25 68 f9 80 41 ba 07 28 dd 0d 69 81"
		"e9 7e 7a ec 1d 43 60 c2 0a 27 af cc fd 9f ae 0b"
		"f9 1b 65 c5 52 47 33 ab 8f 59 3d ab cd 62 b3 57"
		"16 39 d6 24 e6 51 52 ab 8f 53 0c 35 9f 08 61 d8"
		"07 ca 0d bf 50 0d 6a 61 56 a3 8e 08 8a 22 b6 5e"
		"52 bc 51 4d 16 cc f8 06 81 8c e9 1a b7 79 37 36"
		"5a f9 0b bf 74 a3 5b e6 b4 0b 8e ed f2 78 5e 42"
		"87 4d",
		"RFC 8439 2.4.2 ciphertext");
	/* Decrypting in place gives the text back. */
	cr_assert_eq(sshrpc_chacha20_xor(key, 1, nonce, out, out, sizeof out), SSHRPC_OK);
	cr_assert_eq(memcmp(out, plain, sizeof out), 0);
}

Test(chacha, rfc8439_poly1305_key_generation)
{
	/* 2.6.2 and A.4 #2, #3: block 0 of the keystream, first 32 bytes. */
	static const struct {
		const char *key, *nonce8, *out;
	} v[] = {
		{ "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "0001020304050607",
			"8ad5a08b905f81cc815040274ab29471a833b637e3fd0da508dbb8e2fdd1a646" },
		{ "0000000000000000000000000000000000000000000000000000000000000001", "0000000000000002",
			"ecfa254f845f647473d3cb140da9e87606cb33066c447b87bc2666dde3fbb739" },
		{ "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0", "0000000000000002",
			"965e3bc6f9ec7ed9560808f4d229f94b137ff275ca9b3fcbdd59deaad23310ae" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		uint8_t key[32], nonce[8], zero[32] = { 0 }, out[32];
		unhex(v[i].key, key, sizeof key);
		unhex(v[i].nonce8, nonce, sizeof nonce);
		cr_assert_eq(sshrpc_chacha20_xor(key, 0, nonce, zero, out, sizeof out), SSHRPC_OK);
		assert_hex(out, sizeof out, v[i].out, "Poly1305 one-time key");
	}
}

Test(chacha, rfc8439_poly1305)
{
	uint8_t key[32], tag[16];
	/* 2.5.2 */
	unhex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b", key, sizeof key);
	static const char msg[] = "Cryptographic Forum Research Group";
	cr_assert_eq(sshrpc_poly1305(key, (const uint8_t *)msg, strlen(msg), tag), SSHRPC_OK);
	assert_hex(tag, 16, "a8061dc1305136c6c22b8baf0c0127a9", "RFC 8439 2.5.2 tag");
	/* A.3 #1: zero key, 64 zero bytes. */
	uint8_t zero[64] = { 0 };
	memset(key, 0, sizeof key);
	cr_assert_eq(sshrpc_poly1305(key, zero, sizeof zero, tag), SSHRPC_OK);
	assert_hex(tag, 16, "00000000000000000000000000000000", "A.3 #1");
	/* A.3 #2: r = 0, so the tag is s whatever the text. */
	unhex("0000000000000000000000000000000036e5f6b5c5e06070f0efca96227a863e", key, sizeof key);
	static const char ietf[] =
		"Any submission to the IETF intended by the Contributor for publication as all or "
		"part of an IETF Internet-Draft or RFC and any statement made within the context "
		"of an IETF activity is considered an \"IETF Contribution\". Such statements include "
		"oral statements in IETF sessions, as well as written and electronic communications "
		"made at any time or place, which are addressed to";
	cr_assert_eq(strlen(ietf), 375);
	cr_assert_eq(sshrpc_poly1305(key, (const uint8_t *)ietf, strlen(ietf), tag), SSHRPC_OK);
	assert_hex(tag, 16, "36e5f6b5c5e06070f0efca96227a863e", "A.3 #2");
}

/* ---- chacha20-poly1305@openssh.com ------------------------------------------------ */

struct chacha_case {
	const char *key; /* K_2 || K_1 */
	uint32_t seqnr;
	const char *plain, *sealed, *tag;
};

/* The sealed packets and tags were computed with an independent Python
 * implementation of PROTOCOL.chacha20poly1305 over cryptography 48's
 * ChaCha20 and Poly1305. Cases a-e use all-zero plaintext so that the
 * ciphertext is RFC 8439 keystream, checked below against the RFC. */
static const struct chacha_case chacha_cases[] = {
	/* a: K_1 = K_2 = 0, seqnr 0: length under A.1 #1, payload = A.1 #2. */
	{ "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000",
		0, "0000007c",
		"76b8e0d19f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d571"
		"33b074d839d531ed1f28510afb45ace10a1f4b794d6f2d09a0e663266ce1ae7ed1081968a0758e718e997bd362c6"
		"b0c34634a9a0b35d012737681f7b5d0f281e3afde458bc1e73d2d313c9cf94c05ff37162",
		"cc0a19008e259f8abe7048a78b60465f" },
	/* b: K_2 = 00..01: payload = A.1 #3. */
	{ "000000000000000000000000000000000000000000000000000000000000000100000000000000000000000000000000000"
	  "00000000000000000000000000000",
		0, "0000007c",
		"76b8e0d13aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a8eca00bbb4a73bdad192"
		"b5c42f73f2fd4e273644c8b36125a64addeb006c13a096d68b9ff7b57e7090f880392effd5b297a83bbaf2fbe8cf"
		"5d4618965e3dc776cd430d9b4e7eda8a767fb0e860319aadb5fd96a855de1fbfc92cb048",
		"f255e31e1c4bb2e8a0f3f3eeb961b720" },
	/* c: K_2 = 00ff00..: payload bytes 64..127 = A.1 #4 (block 2). */
	{ "00ff00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000",
		0, "0000007c",
		"76b8e0d1a635083f2dcf3766f4f2b85aa2e0583b57564ee26b09f7ceb69b6db92419d441a95c6322dc3c85ad755f"
		"347d004ecdbdcae35434deae7c05dfbe59298cd262ee72d54dfbf12ec44b362692df94137f328fea8da73990265e"
		"c1bbbea1ae9af0ca13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f487",
		"3d1e81f00b527f722f3b17e62c469527" },
	/* d: seqnr 2: length under A.1 #5 (nonce ..02). */
	{ "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
	  "00000000000000000000000000000",
		2, "0000003c",
		"c2c64d0b1a91288c874ec254f322c2a197340c55bb3e9b3998f7de2309486a0bb494abd20c9c5ef99c1370d61e77"
		"f408ac5514f49202bcc6828d45409d2d1416",
		"fe0037fb4afc5c3a718bb628d0e9edf8" },
	/* e: K_2 of A.4 #3, seqnr 2: its Poly1305 key is A.4 #3's. */
	{ "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c000000000000000000000000000000000000"
	  "00000000000000000000000000000",
		2, "0000001c", "c2c64d2b30859f340ad3fbf9e8e82ba2015d45a764276d0b4277ee671b758787",
		"551a2c347a03531b07b94a78271db5c0" },
	/* f: a packet-shaped plaintext, distinct halves of the key. */
	{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303"
	  "132333435363738393a3b3c3d3e3f",
		0x01020304,
		"0000003c0763686163686132302d706f6c7931333035406f70656e7373682e636f6d207061636b65742c20737368"
		"727063207465737420362e01020304050607",
		"bc79804791a174d3b879479be4405493c4396b47311854b843dc03adfe1a62c94e370fa801be4b24515cd932b16a"
		"59eb18c8aa6afd3b9b33e54c0c68ec473903",
		"a0f35522d970dbbad5548f4f8c8fc3bc" },
};

/* The plaintext is the given prefix followed by zeros up to the length of
 * the sealed packet. */
static size_t chacha_plain(const struct chacha_case *v, uint8_t *pkt, size_t cap)
{
	uint8_t sealed[256];
	size_t total = unhex(v->sealed, sealed, sizeof sealed);
	cr_assert_leq(total, cap);
	memset(pkt, 0, total);
	unhex(v->plain, pkt, cap);
	return total;
}

Test(chacha, openssh_packets)
{
	for (size_t i = 0; i < sizeof chacha_cases / sizeof chacha_cases[0]; i++) {
		const struct chacha_case *v = &chacha_cases[i];
		uint8_t key[64], pkt[256], plain[256], tag[16];
		unhex(v->key, key, sizeof key);
		size_t total = chacha_plain(v, pkt, sizeof pkt);
		memcpy(plain, pkt, total);
		sshrpc_cipher *enc = make("chacha20-poly1305@openssh.com", key, NULL, SSHRPC_ENCRYPT);
		sshrpc_cipher *dec = make("chacha20-poly1305@openssh.com", key, NULL, SSHRPC_DECRYPT);
		cr_assert_eq(sshrpc_cipher_aead_seal(enc, v->seqnr, pkt, total, tag), SSHRPC_OK);
		assert_hex(pkt, total, v->sealed, "sealed packet");
		assert_hex(tag, 16, v->tag, "Poly1305 tag");

		uint8_t received[256];
		memcpy(received, pkt, total);
		uint32_t len = 0;
		cr_assert_eq(sshrpc_cipher_aead_length(dec, v->seqnr, pkt, &len), SSHRPC_OK);
		cr_assert_eq(memcmp(pkt, received, total), 0, "length must not touch the packet");
		cr_assert_eq(
			len, (uint32_t)plain[0] << 24 | (uint32_t)plain[1] << 16 | (uint32_t)plain[2] << 8 | plain[3]);
		cr_assert_eq(sshrpc_cipher_aead_open(dec, v->seqnr, pkt, total, tag), SSHRPC_OK);
		cr_assert_eq(memcmp(pkt, received, 4), 0, "the length bytes stay as received");
		cr_assert_eq(memcmp(pkt + 4, plain + 4, total - 4), 0, "payload decrypted");
		sshrpc_cipher_free(enc);
		sshrpc_cipher_free(dec);
	}
}

Test(chacha, openssh_packets_match_rfc8439_keystream)
{
	uint8_t a[128], b[128], c[128], d[64];
	unhex(chacha_cases[0].sealed, a, sizeof a);
	unhex(chacha_cases[1].sealed, b, sizeof b);
	unhex(chacha_cases[2].sealed, c, sizeof c);
	unhex(chacha_cases[3].sealed, d, sizeof d);
	/* A.1 #1 (K = 0, block 0) starts 76 b8 e0 ad; XOR the length 0000007c. */
	assert_hex(a, 4, "76b8e0d1", "length under K_1 = 0, seqnr 0");
	assert_hex(a + 4, 64,
		"9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed"
		"29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f",
		"A.1 #2: K_2 = 0, block 1");
	assert_hex(b + 4, 64,
		"3aeb5224ecf849929b9d828db1ced4dd832025e8018b8160b82284f3c949aa5a"
		"8eca00bbb4a73bdad192b5c42f73f2fd4e273644c8b36125a64addeb006c13a0",
		"A.1 #3: K_2 = 00..01, block 1");
	/* The packet ends 4 bytes before the block does. */
	assert_hex(c + 4 + 64, 60,
		"72d54dfbf12ec44b362692df94137f328fea8da73990265ec1bbbea1ae9af0ca"
		"13b25aa26cb4a648cb9b9d1be65b2c0924a66c54d545ec1b7374f487",
		"A.1 #4: K_2 = 00ff.., block 2");
	/* A.1 #5 (nonce ..02, block 0) starts c2 c6 4d 37; XOR 0000003c. */
	assert_hex(d, 4, "c2c64d0b", "length under K_1 = 0, seqnr 2");
}

Test(chacha, tamper_detected_and_packet_untouched)
{
	const struct chacha_case *v = &chacha_cases[5];
	uint8_t key[64], pkt[256], tag[16];
	unhex(v->key, key, sizeof key);
	size_t total = chacha_plain(v, pkt, sizeof pkt);
	sshrpc_cipher *enc = make("chacha20-poly1305@openssh.com", key, NULL, SSHRPC_ENCRYPT);
	sshrpc_cipher *dec = make("chacha20-poly1305@openssh.com", key, NULL, SSHRPC_DECRYPT);
	cr_assert_eq(sshrpc_cipher_aead_seal(enc, v->seqnr, pkt, total, tag), SSHRPC_OK);
	tamper_all(dec, v->seqnr, pkt, total, tag);
	sshrpc_cipher_free(enc);
	sshrpc_cipher_free(dec);
}

/* ---- every cipher: packets back and forth ------------------------------------------ */

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

Test(cipher, every_cipher_round_trips_many_packets)
{
	size_t n = 0;
	const sshrpc_cipher_info *const *all = sshrpc_cipher_all(&n);
	for (size_t k = 0; k < n; k++) {
		const sshrpc_cipher_info *info = all[k];
		uint8_t key[64], iv[16];
		fill(key, sizeof key, (uint32_t)k);
		fill(iv, sizeof iv, (uint32_t)k + 100);
		sshrpc_cipher *enc = NULL, *dec = NULL;
		cr_assert_eq(sshrpc_cipher_new(NULL, info, key, iv, SSHRPC_ENCRYPT, &enc), SSHRPC_OK);
		cr_assert_eq(sshrpc_cipher_new(NULL, info, key, iv, SSHRPC_DECRYPT, &dec), SSHRPC_OK);
		bool aead = info->tag_len > 0;
		for (uint32_t seq = 0; seq < 40; seq++) {
			/* Packets of 1 to 40 blocks after the length (AEAD) or in all. */
			size_t blocks = 1 + (seq * 7) % 40;
			size_t total = aead ? 4 + blocks * info->block_size : blocks * info->block_size;
			uint8_t pkt[4 + 40 * 16], orig[sizeof pkt], tag[16];
			fill(pkt, total, seq * 31 + (uint32_t)k);
			memcpy(orig, pkt, total);
			if (aead) {
				cr_assert_eq(sshrpc_cipher_aead_seal(enc, seq, pkt, total, tag), SSHRPC_OK);
				uint32_t len;
				cr_assert_eq(sshrpc_cipher_aead_length(dec, seq, pkt, &len), SSHRPC_OK);
				cr_assert_eq(len, (uint32_t)orig[0] << 24 | (uint32_t)orig[1] << 16 |
							  (uint32_t)orig[2] << 8 | orig[3]);
				cr_assert_eq(sshrpc_cipher_aead_open(dec, seq, pkt, total, tag), SSHRPC_OK, "%s #%u",
					info->name, seq);
				cr_assert_eq(memcmp(pkt + 4, orig + 4, total - 4), 0, "%s #%u", info->name, seq);
			} else {
				cr_assert_eq(sshrpc_cipher_crypt(enc, pkt, total), SSHRPC_OK);
				cr_assert_neq(memcmp(pkt, orig, total), 0);
				/* As transport reads: the first block, then the rest. */
				cr_assert_eq(sshrpc_cipher_crypt(dec, pkt, info->block_size), SSHRPC_OK);
				cr_assert_eq(memcmp(pkt, orig, info->block_size), 0);
				cr_assert_eq(sshrpc_cipher_crypt(dec, pkt + info->block_size, total - info->block_size),
					SSHRPC_OK);
				cr_assert_eq(memcmp(pkt, orig, total), 0, "%s #%u", info->name, seq);
			}
		}
		sshrpc_cipher_free(enc);
		sshrpc_cipher_free(dec);
	}
}

Test(cipher, contexts_allocate_through_the_given_allocator_only_at_creation)
{
	size_t n = 0;
	const sshrpc_cipher_info *const *all = sshrpc_cipher_all(&n);
	for (size_t k = 0; k < n; k++) {
		counting_alloc ca;
		counting_init(&ca);
		uint8_t key[64] = { 3 }, iv[16] = { 4 }, pkt[4 + 64] = { 0, 0, 0, 64 }, tag[16];
		sshrpc_cipher *enc = NULL, *dec = NULL;
		cr_assert_eq(sshrpc_cipher_new(&ca.a, all[k], key, iv, SSHRPC_ENCRYPT, &enc), SSHRPC_OK);
		cr_assert_eq(sshrpc_cipher_new(&ca.a, all[k], key, iv, SSHRPC_DECRYPT, &dec), SSHRPC_OK);
		cr_assert_gt(ca.calls, 0);
		long calls = ca.calls;
		for (uint32_t seq = 0; seq < 5; seq++) {
			if (all[k]->tag_len > 0) {
				uint32_t len;
				cr_assert_eq(sshrpc_cipher_aead_seal(enc, seq, pkt, sizeof pkt, tag), SSHRPC_OK);
				cr_assert_eq(sshrpc_cipher_aead_length(dec, seq, pkt, &len), SSHRPC_OK);
				cr_assert_eq(sshrpc_cipher_aead_open(dec, seq, pkt, sizeof pkt, tag), SSHRPC_OK);
			} else {
				cr_assert_eq(sshrpc_cipher_crypt(enc, pkt, 64), SSHRPC_OK);
				cr_assert_eq(sshrpc_cipher_crypt(dec, pkt, 64), SSHRPC_OK);
			}
		}
		cr_assert_eq(ca.calls, calls, "%s: the per-packet calls allocated", all[k]->name);
		sshrpc_cipher_free(enc);
		sshrpc_cipher_free(dec);
		cr_assert_eq(ca.live, 0, "%s: leaked", all[k]->name);

		/* A refusing allocator is an error, not a crash. */
		counting_init(&ca);
		ca.budget = 0;
		cr_assert_eq(sshrpc_cipher_new(&ca.a, all[k], key, iv, SSHRPC_ENCRYPT, &enc), SSHRPC_E_NOMEM);
		cr_assert_null(enc);
	}
}
