/* MACs: the table, RFC 4231 (HMAC-SHA-256/512) and RFC 2202 (HMAC-SHA-1)
 * through sshrpc_hmac and through the packet MAC, constant-time verify. */
#include <string.h>

#include <criterion/criterion.h>

#include "sshrpc_config.h"
#include "sshrpc/crypto.h"

#include "sym_test.h"

static const sshrpc_mac_info *mac(const char *name)
{
	const sshrpc_mac_info *info = sshrpc_mac_lookup(name, strlen(name));
	cr_assert_not_null(info, "%s is not built", name);
	return info;
}

Test(mac, list_order_and_properties)
{
	static const struct {
		const char *name;
		sshrpc_hash_alg hash;
		uint8_t len;
		bool etm, legacy;
	} want[] = {
		{ "hmac-sha2-256-etm@openssh.com", SSHRPC_HASH_SHA256, 32, true, false },
		{ "hmac-sha2-512-etm@openssh.com", SSHRPC_HASH_SHA512, 64, true, false },
		{ "hmac-sha2-256", SSHRPC_HASH_SHA256, 32, false, false },
		{ "hmac-sha2-512", SSHRPC_HASH_SHA512, 64, false, false },
#if SSHRPC_WITH_LEGACY
		{ "hmac-sha1-etm@openssh.com", SSHRPC_HASH_SHA1, 20, true, true },
		{ "hmac-sha1", SSHRPC_HASH_SHA1, 20, false, true },
#endif
	};
	size_t n = 0;
	const sshrpc_mac_info *const *all = sshrpc_mac_all(&n);
	cr_assert_eq(n, sizeof want / sizeof want[0]);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_eq(all[i]->name, want[i].name);
		cr_assert_eq(all[i]->hash, want[i].hash);
		/* RFC 4253 §7.2 / RFC 6668: key and output are the hash length. */
		cr_assert_eq(all[i]->key_len, want[i].len);
		cr_assert_eq(all[i]->out_len, want[i].len);
		cr_assert_eq(all[i]->etm, want[i].etm);
		cr_assert_eq(all[i]->legacy, want[i].legacy);
		cr_assert_eq(sshrpc_mac_lookup(want[i].name, strlen(want[i].name)), all[i]);
	}
	cr_assert_null(sshrpc_mac_lookup("hmac-sha2-256-etm", 17));
	cr_assert_null(sshrpc_mac_lookup("hmac-md5", 8));
	cr_assert_null(sshrpc_mac_lookup("none", 4));
	cr_assert_null(sshrpc_mac_lookup(NULL, 0));
#if !SSHRPC_WITH_LEGACY
	cr_assert_null(sshrpc_mac_lookup("hmac-sha1", 9));
#endif
}

/* A key or message: hex, or `fill` repeated `count` times, or text. */
struct bytes_spec {
	const char *text;
	uint8_t fill;
	size_t count;
	const char *hex;
};

static size_t spec_bytes(const struct bytes_spec *s, uint8_t *out, size_t cap)
{
	if (s->text != NULL) {
		size_t n = strlen(s->text);
		cr_assert_leq(n, cap);
		memcpy(out, s->text, n);
		return n;
	}
	if (s->hex != NULL)
		return unhex(s->hex, out, cap);
	cr_assert_leq(s->count, cap);
	memset(out, s->fill, s->count);
	return s->count;
}

struct hmac_case {
	struct bytes_spec key, data;
	const char *sha256, *sha512; /* RFC 4231 (case 5: the truncated 128 bits) */
};

static const struct hmac_case rfc4231[] = {
	{ { NULL, 0x0b, 20, NULL }, { "Hi There", 0, 0, NULL },
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
		"daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ { "Jefe", 0, 0, NULL }, { "what do ya want for nothing?", 0, 0, NULL },
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
		"9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ { NULL, 0xaa, 20, NULL }, { NULL, 0xdd, 50, NULL },
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		"fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39"
		"bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb" },
	{ { NULL, 0, 0, "0102030405060708090a0b0c0d0e0f10111213141516171819" }, { NULL, 0xcd, 50, NULL },
		"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		"b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db"
		"a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd" },
	{ { NULL, 0x0c, 20, NULL }, { "Test With Truncation", 0, 0, NULL }, "a3b6167473100ee06e0c796c2955552b",
		"415fad6271580a531d4179bc891d87a6" },
	{ { NULL, 0xaa, 131, NULL }, { "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0, NULL },
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		"80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
		"6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ { NULL, 0xaa, 131, NULL },
		{ "This is a test using a larger than block-size key and a larger than block-size data. "
		  "The key needs to be hashed before being used by the HMAC algorithm.",
			0, 0, NULL },
		"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
		"e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944"
		"b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58" },
};

struct sha1_case {
	struct bytes_spec key, data;
	const char *sha1;
};

static const struct sha1_case rfc2202[] = {
	{ { NULL, 0x0b, 20, NULL }, { "Hi There", 0, 0, NULL }, "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ { "Jefe", 0, 0, NULL }, { "what do ya want for nothing?", 0, 0, NULL },
		"effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ { NULL, 0xaa, 20, NULL }, { NULL, 0xdd, 50, NULL }, "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
	{ { NULL, 0, 0, "0102030405060708090a0b0c0d0e0f10111213141516171819" }, { NULL, 0xcd, 50, NULL },
		"4c9007f4026250c6bc8414f9bf50c86c2d7235da" },
	{ { NULL, 0x0c, 20, NULL }, { "Test With Truncation", 0, 0, NULL },
		"4c1a03424b55e07fe7f27be1d58bb9324a9a5a04" },
	{ { NULL, 0xaa, 80, NULL }, { "Test Using Larger Than Block-Size Key - Hash Key First", 0, 0, NULL },
		"aa4ae5e15272d00e95705637ce8a3b55ed402112" },
	{ { NULL, 0xaa, 80, NULL },
		{ "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data", 0, 0, NULL },
		"e8e99d0f45237d786d6bbaa7965c7808bbff1a91" },
};

static void check_hmac(sshrpc_hash_alg alg, const struct bytes_spec *ks, const struct bytes_spec *ds, const char *want,
	const char *what)
{
	uint8_t key[256], data[256], out[SSHRPC_HASH_MAX];
	size_t kl = spec_bytes(ks, key, sizeof key), dl = spec_bytes(ds, data, sizeof data);
	cr_assert_eq(sshrpc_hmac(alg, key, kl, data, dl, out), SSHRPC_OK);
	size_t wl = strlen(want) / 2;
	assert_hex(out, wl, want, what);
}

Test(mac, rfc4231_hmac_sha2)
{
	for (size_t i = 0; i < sizeof rfc4231 / sizeof rfc4231[0]; i++) {
		check_hmac(
			SSHRPC_HASH_SHA256, &rfc4231[i].key, &rfc4231[i].data, rfc4231[i].sha256, "RFC 4231 SHA-256");
		check_hmac(
			SSHRPC_HASH_SHA512, &rfc4231[i].key, &rfc4231[i].data, rfc4231[i].sha512, "RFC 4231 SHA-512");
	}
}

Test(mac, rfc2202_hmac_sha1)
{
	for (size_t i = 0; i < sizeof rfc2202 / sizeof rfc2202[0]; i++)
		check_hmac(SSHRPC_HASH_SHA1, &rfc2202[i].key, &rfc2202[i].data, rfc2202[i].sha1, "RFC 2202");
	/* Case 5's published 96-bit truncation is a prefix of the full MAC. */
	check_hmac(SSHRPC_HASH_SHA1, &rfc2202[4].key, &rfc2202[4].data, "4c1a03424b55e07fe7f27be1", "RFC 2202 #5/96");
}

Test(mac, hmac_edge_arguments)
{
	uint8_t out[SSHRPC_HASH_MAX];
	/* Empty key and empty message (value from Python's hmac module). */
	cr_assert_eq(sshrpc_hmac(SSHRPC_HASH_SHA256, NULL, 0, NULL, 0, out), SSHRPC_OK);
	assert_hex(out, 32, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad", "HMAC('', '')");
	cr_assert_eq(sshrpc_hmac((sshrpc_hash_alg)9, "k", 1, "d", 1, out), SSHRPC_E_UNSUPPORTED);
	cr_assert_eq(sshrpc_hmac(SSHRPC_HASH_SHA256, NULL, 1, "d", 1, out), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_hmac(SSHRPC_HASH_SHA256, "k", 1, "d", 1, NULL), SSHRPC_E_INVALID);
}

/* The packet MAC is HMAC(key, uint32 seqnr || data) with a key of exactly
 * key_len bytes. An RFC case maps onto it when its first 4 data bytes are
 * read as the sequence number and its key can be written as key_len bytes:
 * a shorter key zero-padded (HMAC pads it so anyway, RFC 2104 §2), a key
 * longer than the hash block as its hash (which HMAC uses in its place).
 * A key between key_len and the block length cannot be; false then. */
static bool packet_key(const sshrpc_mac_info *info, const uint8_t *key, size_t kl, uint8_t *out)
{
	size_t block = info->hash == SSHRPC_HASH_SHA512 ? 128 : 64;
	memset(out, 0, info->key_len);
	if (kl <= info->key_len) {
		memcpy(out, key, kl);
		return true;
	}
	if (kl > block) {
		cr_assert_eq(sshrpc_hash(info->hash, key, kl, out), SSHRPC_OK);
		return true;
	}
	return false;
}

static int check_packet_mac(
	const char *name, const struct bytes_spec *ks, const struct bytes_spec *ds, const char *want)
{
	const sshrpc_mac_info *info = mac(name);
	uint8_t key[256], data[256], pk[64], out[SSHRPC_HASH_MAX];
	size_t kl = spec_bytes(ks, key, sizeof key), dl = spec_bytes(ds, data, sizeof data);
	if (!packet_key(info, key, kl, pk))
		return 0;
	cr_assert_geq(dl, 4);
	uint32_t seqnr = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 | data[3];
	sshrpc_mac *m = NULL;
	cr_assert_eq(sshrpc_mac_new(NULL, info, pk, &m), SSHRPC_OK);
	/* Twice: the context is reused packet after packet. */
	for (int round = 0; round < 2; round++) {
		memset(out, 0, sizeof out);
		cr_assert_eq(sshrpc_mac_compute(m, seqnr, data + 4, dl - 4, out), SSHRPC_OK);
		assert_hex(out, strlen(want) / 2, want, name);
	}
	if (strlen(want) / 2 == info->out_len)
		cr_assert_eq(sshrpc_mac_verify(m, seqnr, data + 4, dl - 4, out), SSHRPC_OK);
	sshrpc_mac_free(m);
	return 1;
}

Test(mac, rfc4231_through_packet_macs)
{
	int run = 0;
	for (size_t i = 0; i < sizeof rfc4231 / sizeof rfc4231[0]; i++) {
		const struct hmac_case *c = &rfc4231[i];
		run += check_packet_mac("hmac-sha2-256", &c->key, &c->data, c->sha256);
		run += check_packet_mac("hmac-sha2-256-etm@openssh.com", &c->key, &c->data, c->sha256);
		run += check_packet_mac("hmac-sha2-512", &c->key, &c->data, c->sha512);
		run += check_packet_mac("hmac-sha2-512-etm@openssh.com", &c->key, &c->data, c->sha512);
	}
	cr_assert_eq(run, 28, "every RFC 4231 case maps onto the packet MACs");
}

#if SSHRPC_WITH_LEGACY
Test(mac, rfc2202_through_packet_macs)
{
	int run = 0;
	for (size_t i = 0; i < sizeof rfc2202 / sizeof rfc2202[0]; i++) {
		run += check_packet_mac("hmac-sha1", &rfc2202[i].key, &rfc2202[i].data, rfc2202[i].sha1);
		run += check_packet_mac(
			"hmac-sha1-etm@openssh.com", &rfc2202[i].key, &rfc2202[i].data, rfc2202[i].sha1);
	}
	/* Case 4's 25-byte key is longer than hmac-sha1's 20-byte key and
	 * shorter than the block: it has no packet-key form. */
	cr_assert_eq(run, 12);
}
#endif

Test(mac, verify_rejects_any_change)
{
	size_t n = 0;
	const sshrpc_mac_info *const *all = sshrpc_mac_all(&n);
	for (size_t k = 0; k < n; k++) {
		const sshrpc_mac_info *info = all[k];
		uint8_t key[64], data[100], tag[SSHRPC_HASH_MAX];
		for (size_t i = 0; i < sizeof key; i++)
			key[i] = (uint8_t)(i * 7 + k);
		for (size_t i = 0; i < sizeof data; i++)
			data[i] = (uint8_t)i;
		sshrpc_mac *m = NULL;
		cr_assert_eq(sshrpc_mac_new(NULL, info, key, &m), SSHRPC_OK);
		cr_assert_eq(sshrpc_mac_compute(m, 77, data, sizeof data, tag), SSHRPC_OK);
		cr_assert_eq(sshrpc_mac_verify(m, 77, data, sizeof data, tag), SSHRPC_OK);
		for (size_t i = 0; i < info->out_len; i++) {
			tag[i] ^= 0x80;
			cr_assert_eq(sshrpc_mac_verify(m, 77, data, sizeof data, tag), SSHRPC_E_MAC, "%s tag byte %zu",
				info->name, i);
			tag[i] ^= 0x80;
		}
		for (size_t i = 0; i < sizeof data; i++) {
			data[i] ^= 1;
			cr_assert_eq(sshrpc_mac_verify(m, 77, data, sizeof data, tag), SSHRPC_E_MAC);
			data[i] ^= 1;
		}
		cr_assert_eq(sshrpc_mac_verify(m, 78, data, sizeof data, tag), SSHRPC_E_MAC);
		cr_assert_eq(sshrpc_mac_verify(m, 77, data, sizeof data - 1, tag), SSHRPC_E_MAC);
		cr_assert_eq(sshrpc_mac_verify(m, 77, data, sizeof data, tag), SSHRPC_OK);
		/* Same as the plain HMAC over seqnr || data. */
		uint8_t buf[104] = { 0, 0, 0, 77 }, plain[SSHRPC_HASH_MAX];
		memcpy(buf + 4, data, sizeof data);
		cr_assert_eq(sshrpc_hmac(info->hash, key, info->key_len, buf, sizeof buf, plain), SSHRPC_OK);
		cr_assert_eq(memcmp(plain, tag, info->out_len), 0, "%s", info->name);
		/* Empty data: the MAC covers the sequence number alone. */
		cr_assert_eq(sshrpc_mac_compute(m, 77, NULL, 0, tag), SSHRPC_OK);
		cr_assert_eq(sshrpc_hmac(info->hash, key, info->key_len, buf, 4, plain), SSHRPC_OK);
		cr_assert_eq(memcmp(plain, tag, info->out_len), 0);
		sshrpc_mac_free(m);
	}
	sshrpc_mac_free(NULL);
}

Test(mac, etm_twin_computes_the_same)
{
	uint8_t key[64] = { 5, 4, 3 }, a[64], b[64];
	static const char *const pairs[][2] = {
		{ "hmac-sha2-256", "hmac-sha2-256-etm@openssh.com" },
		{ "hmac-sha2-512", "hmac-sha2-512-etm@openssh.com" },
#if SSHRPC_WITH_LEGACY
		{ "hmac-sha1", "hmac-sha1-etm@openssh.com" },
#endif
	};
	for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
		sshrpc_mac *m1 = NULL, *m2 = NULL;
		cr_assert_eq(sshrpc_mac_new(NULL, mac(pairs[i][0]), key, &m1), SSHRPC_OK);
		cr_assert_eq(sshrpc_mac_new(NULL, mac(pairs[i][1]), key, &m2), SSHRPC_OK);
		cr_assert_eq(sshrpc_mac_compute(m1, 3, key, 40, a), SSHRPC_OK);
		cr_assert_eq(sshrpc_mac_compute(m2, 3, key, 40, b), SSHRPC_OK);
		cr_assert_eq(memcmp(a, b, mac(pairs[i][0])->out_len), 0);
		sshrpc_mac_free(m1);
		sshrpc_mac_free(m2);
	}
}

Test(mac, bad_arguments_and_allocation)
{
	uint8_t key[64] = { 0 }, out[64];
	sshrpc_mac *m = (sshrpc_mac *)out;
	sshrpc_mac_info fake = *mac("hmac-sha2-256");
	cr_assert_eq(sshrpc_mac_new(NULL, &fake, key, &m), SSHRPC_E_UNSUPPORTED);
	cr_assert_null(m);
	cr_assert_eq(sshrpc_mac_new(NULL, NULL, key, &m), SSHRPC_E_UNSUPPORTED);
	cr_assert_eq(sshrpc_mac_new(NULL, mac("hmac-sha2-256"), NULL, &m), SSHRPC_E_INVALID);

	counting_alloc ca;
	counting_init(&ca);
	cr_assert_eq(sshrpc_mac_new(&ca.a, mac("hmac-sha2-512"), key, &m), SSHRPC_OK);
	long calls = ca.calls;
	for (uint32_t s = 0; s < 10; s++) {
		cr_assert_eq(sshrpc_mac_compute(m, s, key, sizeof key, out), SSHRPC_OK);
		cr_assert_eq(sshrpc_mac_verify(m, s, key, sizeof key, out), SSHRPC_OK);
	}
	cr_assert_eq(ca.calls, calls, "the per-packet calls allocated");
	cr_assert_eq(sshrpc_mac_compute(m, 0, NULL, 5, out), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_mac_compute(m, 0, key, 5, NULL), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_mac_verify(m, 0, key, 5, NULL), SSHRPC_E_INVALID);
	sshrpc_mac_free(m);
	cr_assert_eq(ca.live, 0);
	ca.budget = 0;
	cr_assert_eq(sshrpc_mac_new(&ca.a, mac("hmac-sha2-512"), key, &m), SSHRPC_E_NOMEM);
}
