/* Hashes (FIPS 180-4 example vectors, one-shot and incremental) and
 * sshrpc_random. */
#include <string.h>

#include <criterion/criterion.h>

#include "sshrpc/crypto.h"

#include "sym_test.h"

static const char msg448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char msg896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnop"
			     "qklmnopqrlmnopqrsmnopqrstnopqrstu";

struct hash_vector {
	sshrpc_hash_alg alg;
	const char *msg;
	const char *digest;
};

/* FIPS 180-4 examples (NIST CSRC "Examples with Intermediate Values"). */
static const struct hash_vector vectors[] = {
	{ SSHRPC_HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ SSHRPC_HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ SSHRPC_HASH_SHA1, msg448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ SSHRPC_HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ SSHRPC_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ SSHRPC_HASH_SHA256, msg448, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ SSHRPC_HASH_SHA384, "abc",
		"cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c8"
		"25a7" },
	{ SSHRPC_HASH_SHA384, "",
		"38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898"
		"b95b" },
	{ SSHRPC_HASH_SHA384, msg448,
		"3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8"
		"452b" },
	{ SSHRPC_HASH_SHA384, msg896,
		"09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa9174"
		"6039" },
	{ SSHRPC_HASH_SHA512, "abc",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	{ SSHRPC_HASH_SHA512, "",
		"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
		"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
	{ SSHRPC_HASH_SHA512, msg448,
		"204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
		"96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
	{ SSHRPC_HASH_SHA512, msg896,
		"8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
		"501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
};

#define NVEC (sizeof vectors / sizeof vectors[0])

Test(hash, lengths)
{
	cr_assert_eq(sshrpc_hash_len(SSHRPC_HASH_SHA1), 20);
	cr_assert_eq(sshrpc_hash_len(SSHRPC_HASH_SHA256), 32);
	cr_assert_eq(sshrpc_hash_len(SSHRPC_HASH_SHA384), 48);
	cr_assert_eq(sshrpc_hash_len(SSHRPC_HASH_SHA512), 64);
	cr_assert_eq(sshrpc_hash_len((sshrpc_hash_alg)99), 0);
	cr_assert_leq(sshrpc_hash_len(SSHRPC_HASH_SHA512), SSHRPC_HASH_MAX);
}

Test(hash, fips180_one_shot)
{
	for (size_t i = 0; i < NVEC; i++) {
		uint8_t out[SSHRPC_HASH_MAX];
		cr_assert_eq(sshrpc_hash(vectors[i].alg, vectors[i].msg, strlen(vectors[i].msg), out), SSHRPC_OK);
		assert_hex(out, sshrpc_hash_len(vectors[i].alg), vectors[i].digest, vectors[i].msg);
	}
}

Test(hash, fips180_incremental_every_split)
{
	for (size_t i = 0; i < NVEC; i++) {
		const char *m = vectors[i].msg;
		size_t n = strlen(m);
		sshrpc_hash_ctx *h = NULL;
		cr_assert_eq(sshrpc_hash_new(NULL, vectors[i].alg, &h), SSHRPC_OK);
		/* Split at every point; final resets the context for the next run. */
		for (size_t cut = 0; cut <= n; cut++) {
			uint8_t out[SSHRPC_HASH_MAX];
			cr_assert_eq(sshrpc_hash_update(h, m, cut), SSHRPC_OK);
			cr_assert_eq(sshrpc_hash_update(h, m + cut, n - cut), SSHRPC_OK);
			cr_assert_eq(sshrpc_hash_final(h, out), SSHRPC_OK);
			assert_hex(out, sshrpc_hash_len(vectors[i].alg), vectors[i].digest, m);
		}
		sshrpc_hash_free(h);
	}
}

Test(hash, million_a_in_odd_pieces)
{
	static const struct {
		sshrpc_hash_alg alg;
		const char *digest;
	} v[] = {
		{ SSHRPC_HASH_SHA1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
		{ SSHRPC_HASH_SHA256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
		{ SSHRPC_HASH_SHA512, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
				      "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
	};
	static uint8_t as[1024]; /* steps below stay under 1010 bytes */
	memset(as, 'a', sizeof as);
	for (size_t i = 0; i < 3; i++) {
		sshrpc_hash_ctx *h = NULL;
		cr_assert_eq(sshrpc_hash_new(NULL, v[i].alg, &h), SSHRPC_OK);
		size_t left = 1000000, step = 1;
		while (left > 0) {
			size_t n = step < left ? step : left;
			cr_assert_eq(sshrpc_hash_update(h, as, n), SSHRPC_OK);
			left -= n;
			step = step % 997 + 13;
		}
		uint8_t out[SSHRPC_HASH_MAX];
		cr_assert_eq(sshrpc_hash_final(h, out), SSHRPC_OK);
		assert_hex(out, sshrpc_hash_len(v[i].alg), v[i].digest, "one million 'a'");
		sshrpc_hash_free(h);
	}
}

Test(hash, copy_forks_the_running_state)
{
	/* K || H || X || session_id: a common prefix, then different tails. */
	sshrpc_hash_ctx *base = NULL, *fork = NULL;
	cr_assert_eq(sshrpc_hash_new(NULL, SSHRPC_HASH_SHA256, &base), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_new(NULL, SSHRPC_HASH_SHA256, &fork), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_update(fork, "junk that the copy discards", 27), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_update(base, "ab", 2), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_copy(fork, base), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_update(fork, "c", 1), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_update(base, "cdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 54), SSHRPC_OK);
	uint8_t a[32], b[32];
	cr_assert_eq(sshrpc_hash_final(fork, a), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_final(base, b), SSHRPC_OK);
	assert_hex(a, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "abc via copy");
	assert_hex(b, 32, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "448-bit original");
	cr_assert_eq(sshrpc_hash_copy(fork, fork), SSHRPC_OK);

	sshrpc_hash_ctx *other = NULL;
	cr_assert_eq(sshrpc_hash_new(NULL, SSHRPC_HASH_SHA512, &other), SSHRPC_OK);
	cr_assert_eq(sshrpc_hash_copy(other, base), SSHRPC_E_INVALID);
	sshrpc_hash_free(other);
	sshrpc_hash_free(base);
	sshrpc_hash_free(fork);
	sshrpc_hash_free(NULL);
}

Test(hash, bad_arguments)
{
	uint8_t out[SSHRPC_HASH_MAX];
	sshrpc_hash_ctx *h = (sshrpc_hash_ctx *)out;
	cr_assert_eq(sshrpc_hash((sshrpc_hash_alg)42, "x", 1, out), SSHRPC_E_UNSUPPORTED);
	cr_assert_eq(sshrpc_hash(SSHRPC_HASH_SHA256, NULL, 1, out), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_hash(SSHRPC_HASH_SHA256, NULL, 0, out), SSHRPC_OK);
	assert_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "empty");
	cr_assert_eq(sshrpc_hash_new(NULL, (sshrpc_hash_alg)42, &h), SSHRPC_E_UNSUPPORTED);
	cr_assert_null(h);
}

Test(hash, allocates_through_the_given_allocator)
{
	counting_alloc ca;
	counting_init(&ca);
	sshrpc_hash_ctx *h = NULL;
	cr_assert_eq(sshrpc_hash_new(&ca.a, SSHRPC_HASH_SHA384, &h), SSHRPC_OK);
	cr_assert_eq(ca.live, 1);
	sshrpc_hash_free(h);
	cr_assert_eq(ca.live, 0);
	ca.budget = 0;
	cr_assert_eq(sshrpc_hash_new(&ca.a, SSHRPC_HASH_SHA384, &h), SSHRPC_E_NOMEM);
	cr_assert_null(h);
}

Test(random, fills_and_differs)
{
	uint8_t a[64], b[64], zero[64] = { 0 };
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	cr_assert_eq(sshrpc_random(a, sizeof a), SSHRPC_OK);
	cr_assert_eq(sshrpc_random(b, sizeof b), SSHRPC_OK);
	/* 2^-512 odds of a false failure. */
	cr_assert_neq(memcmp(a, zero, sizeof a), 0);
	cr_assert_neq(memcmp(a, b, sizeof a), 0);
	cr_assert_eq(sshrpc_random(NULL, 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_random(NULL, 1), SSHRPC_E_INVALID);
}

Test(random, large_request)
{
	size_t n = 3u << 20;
	uint8_t *p = calloc(1, n);
	cr_assert_not_null(p);
	cr_assert_eq(sshrpc_random(p, n), SSHRPC_OK);
	/* The tail was written too: 64 zero bytes in a row is 2^-512. */
	static const uint8_t zero[64];
	cr_assert_neq(memcmp(p + n - 64, zero, 64), 0);
	free(p);
}
