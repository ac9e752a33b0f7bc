/* Keys and signatures: RFC 8032 §7.1 Ed25519 vectors through the SSH
 * encoding, blob and private-component round trips, strict blob parsing,
 * sign/verify for every algorithm with tampering refused, PEM loading of
 * ssh-keygen's and openssl's files, and signatures cross-checked with
 * ssh-keygen in both directions (SSHSIG, `ssh-keygen -Y`). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "sshrpc_config.h"

#include "crypto/crypto_internal.h"

#include "asym_util.h"

static sshrpc_buf buf_new(void)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	return b;
}

/* ---- Ed25519: RFC 8032 §7.1 ------------------------------------------------ */

static const struct {
	const char *name, *sk, *pk, *msg, *sig;
} ed_vectors[] = {
	{ "TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5"
		"f0595bbe24655141438e7a100b" },
	{ "TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
		"3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
		"92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2e"
		"aeb4302aeeb00d291612bb0c00" },
	{ "TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
		"fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
		"6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15"
		"e9716ed28dc027beceea1ec40a" },
	{ "TEST SHA(abc)", "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
		"ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
		"ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
		"2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
		"dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca17"
		"9c138ac17ad9bef1177331a704" },
};

/* A key from RFC 8032 seed and public key, through the openssh-key-v1
 * private fields (string pk, string seed || pk). */
static sshrpc_key *ed_key(const uint8_t seed[32], const uint8_t pk[32])
{
	sshrpc_buf b = buf_new();
	uint8_t sk[64];
	memcpy(sk, seed, 32);
	memcpy(sk + 32, pk, 32);
	cr_assert_eq(sshrpc_buf_put_string(&b, pk, 32), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, sk, 64), SSHRPC_OK);
	sshrpc_reader r;
	sshrpc_buf_reader(&b, &r);
	sshrpc_key *k = NULL;
	cr_assert_eq(sshrpc_key_from_private(NULL, SSHRPC_KEY_ED25519, &r, &k), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_left(&r), 0);
	sshrpc_buf_free(&b);
	return k;
}

Test(ed25519, rfc8032_vectors_in_ssh_encoding)
{
	for (size_t i = 0; i < sizeof ed_vectors / sizeof ed_vectors[0]; i++) {
		uint8_t seed[32], pk[32], msg[128], sig[64];
		tu_hex(ed_vectors[i].sk, seed, 32);
		tu_hex(ed_vectors[i].pk, pk, 32);
		size_t mlen = tu_hex(ed_vectors[i].msg, msg, sizeof msg);
		tu_hex(ed_vectors[i].sig, sig, 64);
		sshrpc_key *k = ed_key(seed, pk);
		cr_assert(sshrpc_key_has_private(k));
		cr_assert_eq(sshrpc_key_bits(k), 256);

		/* RFC 8709 §6: string "ssh-ed25519", string signature. */
		sshrpc_buf want = buf_new(), got = buf_new();
		cr_assert_eq(sshrpc_buf_put_cstring(&want, "ssh-ed25519"), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_put_string(&want, sig, 64), SSHRPC_OK);
		cr_assert_eq(sshrpc_key_sign(k, "ssh-ed25519", msg, mlen, &got), SSHRPC_OK);
		cr_assert_eq(got.len, want.len, "%s", ed_vectors[i].name);
		cr_assert_arr_eq(sshrpc_buf_ptr(&got), sshrpc_buf_ptr(&want), want.len, "%s", ed_vectors[i].name);

		/* And the public half alone verifies it. */
		sshrpc_buf blob = buf_new();
		cr_assert_eq(sshrpc_buf_put_cstring(&blob, "ssh-ed25519"), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_put_string(&blob, pk, 32), SSHRPC_OK);
		sshrpc_key *pub;
		cr_assert_eq(sshrpc_key_from_blob(NULL, sshrpc_buf_ptr(&blob), blob.len, &pub), SSHRPC_OK);
		cr_assert(!sshrpc_key_has_private(pub));
		cr_assert(sshrpc_key_equal_public(pub, k));
		cr_assert_eq(
			sshrpc_key_verify(pub, "ssh-ed25519", sshrpc_buf_ptr(&want), want.len, msg, mlen), SSHRPC_OK);
		/* Another message, a flipped signature bit. */
		msg[mlen] = 0x55;
		cr_assert_eq(
			sshrpc_key_verify(pub, NULL, sshrpc_buf_ptr(&want), want.len, msg, mlen + 1), SSHRPC_E_DENIED);
		sshrpc_buf_ptr(&want)[want.len - 1] ^= 0x01;
		cr_assert_eq(sshrpc_key_verify(pub, NULL, sshrpc_buf_ptr(&want), want.len, msg, mlen), SSHRPC_E_DENIED);

		sshrpc_buf_free(&want);
		sshrpc_buf_free(&got);
		sshrpc_buf_free(&blob);
		sshrpc_key_free(pub);
		sshrpc_key_free(k);
	}
}

Test(ed25519, private_fields_checked)
{
	uint8_t seed[32], pk[32];
	tu_hex(ed_vectors[0].sk, seed, 32);
	tu_hex(ed_vectors[0].pk, pk, 32);
	uint8_t sk[64];
	memcpy(sk, seed, 32);
	memcpy(sk + 32, pk, 32);
	sshrpc_key *k = NULL;
	sshrpc_reader r;
	/* The public key stored twice must agree, and must be the seed's. */
	uint8_t other[32];
	memcpy(other, pk, 32);
	other[0] ^= 1;
	sshrpc_buf b = buf_new();
	cr_assert_eq(sshrpc_buf_put_string(&b, other, 32), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, sk, 64), SSHRPC_OK);
	sshrpc_buf_reader(&b, &r);
	cr_assert_eq(sshrpc_key_from_private(NULL, SSHRPC_KEY_ED25519, &r, &k), SSHRPC_E_INVALID);
	cr_assert_eq(r.off, 0, "a failed parse leaves the reader in place");
	memcpy(sk + 32, other, 32);
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_string(&b, other, 32), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, sk, 64), SSHRPC_OK);
	sshrpc_buf_reader(&b, &r);
	cr_assert_eq(sshrpc_key_from_private(NULL, SSHRPC_KEY_ED25519, &r, &k), SSHRPC_E_INVALID);
	/* Truncated. */
	sshrpc_buf_reader(&b, &r);
	r.len -= 1;
	cr_assert_eq(sshrpc_key_from_private(NULL, SSHRPC_KEY_ED25519, &r, &k), SSHRPC_E_INVALID);
	cr_assert_null(k);
	sshrpc_buf_free(&b);
}

/* ---- every key type ---------------------------------------------------------- */

typedef struct kt {
	sshrpc_key_type type;
	unsigned bits;
	const char *algs[4];
} kt;

static const kt key_types[] = {
	{ SSHRPC_KEY_ED25519, 256, { "ssh-ed25519", NULL } },
#if SSHRPC_WITH_RSA
#if SSHRPC_WITH_LEGACY
	{ SSHRPC_KEY_RSA, 2048, { "rsa-sha2-256", "rsa-sha2-512", "ssh-rsa", NULL } },
#else
	{ SSHRPC_KEY_RSA, 2048, { "rsa-sha2-256", "rsa-sha2-512", NULL } },
#endif
#endif
	{ SSHRPC_KEY_ECDSA_P256, 256, { "ecdsa-sha2-nistp256", NULL } },
	{ SSHRPC_KEY_ECDSA_P384, 384, { "ecdsa-sha2-nistp384", NULL } },
	{ SSHRPC_KEY_ECDSA_P521, 521, { "ecdsa-sha2-nistp521", NULL } },
};
#define N_TYPES (sizeof key_types / sizeof key_types[0])

static sshrpc_key *generated[N_TYPES];

static sshrpc_key *gen(size_t i)
{
	if (generated[i] == NULL)
		cr_assert_eq(sshrpc_key_generate(NULL, key_types[i].type, key_types[i].bits, &generated[i]), SSHRPC_OK);
	return generated[i];
}

static void free_generated(void)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		sshrpc_key_free(generated[i]);
		generated[i] = NULL;
	}
}

TestSuite(keys, .fini = free_generated);

Test(keys, names)
{
	cr_assert_str_eq(sshrpc_key_type_name(SSHRPC_KEY_ED25519), "ssh-ed25519");
	cr_assert_str_eq(sshrpc_key_type_name(SSHRPC_KEY_ECDSA_P384), "ecdsa-sha2-nistp384");
	cr_assert_null(sshrpc_key_type_name(SSHRPC_KEY_UNKNOWN));
	cr_assert_eq(sshrpc_key_type_from_name("ecdsa-sha2-nistp521", 19), SSHRPC_KEY_ECDSA_P521);
	cr_assert_eq(sshrpc_key_type_from_name("ecdsa-sha2-nistp52", 18), SSHRPC_KEY_UNKNOWN);
	cr_assert_eq(sshrpc_key_type_from_name("ssh-dss", 7), SSHRPC_KEY_UNKNOWN);
	cr_assert_eq(sshrpc_key_type_from_name("rsa-sha2-256", 12), SSHRPC_KEY_UNKNOWN);
	cr_assert_eq(sshrpc_sigalg_key_type("ssh-ed25519", 11), SSHRPC_KEY_ED25519);
	cr_assert_eq(sshrpc_sigalg_key_type("ecdsa-sha2-nistp256", 19), SSHRPC_KEY_ECDSA_P256);
	cr_assert_eq(sshrpc_sigalg_key_type("ssh-dss", 7), SSHRPC_KEY_UNKNOWN);
#if SSHRPC_WITH_RSA
	cr_assert_eq(sshrpc_key_type_from_name("ssh-rsa", 7), SSHRPC_KEY_RSA);
	cr_assert_eq(sshrpc_sigalg_key_type("rsa-sha2-256", 12), SSHRPC_KEY_RSA);
	cr_assert_eq(sshrpc_sigalg_key_type("rsa-sha2-512", 12), SSHRPC_KEY_RSA);
	cr_assert_eq(sshrpc_sigalg_key_type("ssh-rsa", 7), SSHRPC_WITH_LEGACY ? SSHRPC_KEY_RSA : SSHRPC_KEY_UNKNOWN);
#endif
}

Test(keys, blob_and_private_round_trips, .timeout = 60)
{
	for (size_t i = 0; i < N_TYPES; i++) {
		sshrpc_key *k = gen(i);
		cr_assert_eq(sshrpc_key_get_type(k), key_types[i].type);
		cr_assert_eq(sshrpc_key_bits(k), key_types[i].bits);
		cr_assert(sshrpc_key_has_private(k));

		sshrpc_buf blob = buf_new();
		cr_assert_eq(sshrpc_key_to_blob(k, &blob), SSHRPC_OK);
		sshrpc_key *pub;
		cr_assert_eq(sshrpc_key_from_blob(NULL, sshrpc_buf_ptr(&blob), blob.len, &pub), SSHRPC_OK);
		cr_assert(sshrpc_key_equal_public(k, pub));
		cr_assert(!sshrpc_key_has_private(pub));
		cr_assert_eq(sshrpc_key_bits(pub), key_types[i].bits);
		sshrpc_buf blob2 = buf_new();
		cr_assert_eq(sshrpc_key_to_blob(pub, &blob2), SSHRPC_OK);
		cr_assert_eq(blob2.len, blob.len);
		cr_assert_arr_eq(sshrpc_buf_ptr(&blob2), sshrpc_buf_ptr(&blob), blob.len);

		/* Private components: type string, then fields; from_private
		 * reads them back to the same key, which signs for the
		 * original. */
		sshrpc_buf priv = buf_new();
		sshrpc_buf_set_secret(&priv);
		cr_assert_eq(sshrpc_key_to_private(k, &priv), SSHRPC_OK);
		sshrpc_reader r;
		sshrpc_buf_reader(&priv, &r);
		char name[64];
		cr_assert_eq(sshrpc_rd_cstring(&r, name, sizeof name), SSHRPC_OK);
		cr_assert_str_eq(name, sshrpc_key_type_name(key_types[i].type));
		sshrpc_key *back;
		cr_assert_eq(sshrpc_key_from_private(NULL, key_types[i].type, &r, &back), SSHRPC_OK);
		cr_assert_eq(sshrpc_rd_left(&r), 0);
		cr_assert(sshrpc_key_equal_public(back, k));
		cr_assert(sshrpc_key_has_private(back));
		sshrpc_buf sig = buf_new();
		cr_assert_eq(sshrpc_key_sign(back, NULL, (const uint8_t *)"data", 4, &sig), SSHRPC_OK);
		cr_assert_eq(sshrpc_key_verify(pub, NULL, sshrpc_buf_ptr(&sig), sig.len, (const uint8_t *)"data", 4),
			SSHRPC_OK);
		/* A public key has no private half to write or sign with. */
		size_t before = sig.len;
		cr_assert_eq(sshrpc_key_to_private(pub, &priv), SSHRPC_E_STATE);
		cr_assert_eq(sshrpc_key_sign(pub, NULL, (const uint8_t *)"data", 4, &sig), SSHRPC_E_STATE);
		cr_assert_eq(sig.len, before);

		sshrpc_buf_free(&sig);
		sshrpc_buf_free(&priv);
		sshrpc_buf_free(&blob);
		sshrpc_buf_free(&blob2);
		sshrpc_key_free(pub);
		sshrpc_key_free(back);
	}
	/* Two different keys of a type differ. */
	sshrpc_key *other;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &other), SSHRPC_OK);
	cr_assert(!sshrpc_key_equal_public(other, gen(0)));
	cr_assert(!sshrpc_key_equal_public(other, gen(N_TYPES - 1)));
	sshrpc_key_free(other);
}

Test(keys, sign_verify_every_algorithm, .timeout = 60)
{
	static const uint8_t data[] = "session id || userauth request";
	for (size_t i = 0; i < N_TYPES; i++) {
		sshrpc_key *k = gen(i);
		for (size_t j = 0; key_types[i].algs[j] != NULL; j++) {
			const char *alg = key_types[i].algs[j];
			sshrpc_buf sig = buf_new();
			cr_assert_eq(sshrpc_buf_put_u8(&sig, 0x77), SSHRPC_OK); /* sign appends */
			cr_assert_eq(sshrpc_key_sign(k, alg, data, sizeof data, &sig), SSHRPC_OK, "%s", alg);
			const uint8_t *s = sshrpc_buf_ptr(&sig) + 1;
			size_t sl = sig.len - 1;
			cr_assert_eq(sshrpc_key_verify(k, alg, s, sl, data, sizeof data), SSHRPC_OK, "%s", alg);
			cr_assert_eq(sshrpc_key_verify(k, NULL, s, sl, data, sizeof data), SSHRPC_OK);

			/* The outer encoding names the algorithm. */
			sshrpc_reader r;
			char name[64];
			const uint8_t *blob;
			size_t blen;
			sshrpc_rd_init(&r, s, sl);
			cr_assert_eq(sshrpc_rd_cstring(&r, name, sizeof name), SSHRPC_OK);
			cr_assert_str_eq(name, alg);
			cr_assert_eq(sshrpc_rd_string(&r, &blob, &blen), SSHRPC_OK);
			cr_assert_eq(sshrpc_rd_end(&r), SSHRPC_OK);
			if (key_types[i].type == SSHRPC_KEY_RSA)
				cr_assert_eq(blen, 256, "RFC 8332 §3: modulus length");
			if (key_types[i].type == SSHRPC_KEY_ED25519)
				cr_assert_eq(blen, 64);
			if (key_types[i].type >= SSHRPC_KEY_ECDSA_P256) {
				/* RFC 5656 §3.1.2: mpint r, mpint s, nothing else. */
				sshrpc_reader rs;
				const uint8_t *m;
				size_t ml;
				sshrpc_rd_init(&rs, blob, blen);
				cr_assert_eq(sshrpc_rd_mpint_unsigned(&rs, &m, &ml), SSHRPC_OK);
				cr_assert_eq(sshrpc_rd_mpint_unsigned(&rs, &m, &ml), SSHRPC_OK);
				cr_assert_eq(sshrpc_rd_end(&rs), SSHRPC_OK);
			}

			/* Other data, or the wrong expected algorithm: denied. */
			cr_assert_eq(sshrpc_key_verify(k, alg, s, sl, data, sizeof data - 1), SSHRPC_E_DENIED);
			cr_assert_eq(sshrpc_key_verify(k, "ssh-ed25519x", s, sl, data, sizeof data), SSHRPC_E_DENIED);
			/* Each byte of the signature blob matters (sampled). */
			uint8_t *mut = malloc(sl);
			for (size_t off = sl - blen; off < sl; off += 7) {
				memcpy(mut, s, sl);
				mut[off] ^= 0x40;
				int rc = sshrpc_key_verify(k, alg, mut, sl, data, sizeof data);
				cr_assert(rc == SSHRPC_E_DENIED || rc == SSHRPC_E_INVALID, "%s byte %zu: %d", alg, off,
					rc);
			}
			/* Truncated, or with a byte after it: malformed. */
			cr_assert_eq(sshrpc_key_verify(k, alg, s, sl - 1, data, sizeof data), SSHRPC_E_INVALID);
			memcpy(mut, s, sl);
			cr_assert_eq(sshrpc_key_verify(k, alg, s, 3, data, sizeof data), SSHRPC_E_INVALID);
			free(mut);
			uint8_t *longer = malloc(sl + 1);
			memcpy(longer, s, sl);
			longer[sl] = 0;
			cr_assert_eq(sshrpc_key_verify(k, alg, longer, sl + 1, data, sizeof data), SSHRPC_E_INVALID);
			free(longer);
			/* Another key of another type does not accept it. */
			sshrpc_key *other = gen((i + 1) % N_TYPES);
			cr_assert_eq(sshrpc_key_verify(other, NULL, s, sl, data, sizeof data), SSHRPC_E_DENIED);
			sshrpc_buf_free(&sig);
		}
		/* An algorithm of another key type is refused for signing and
		 * leaves the output alone. */
		sshrpc_buf sig = buf_new();
		const char *foreign = key_types[(i + 1) % N_TYPES].algs[0];
		cr_assert_eq(sshrpc_key_sign(k, foreign, data, sizeof data, &sig), SSHRPC_E_INVALID);
		cr_assert_eq(sshrpc_key_sign(k, "ssh-dss", data, sizeof data, &sig), SSHRPC_E_UNSUPPORTED);
		cr_assert_eq(sig.len, 0);
		sshrpc_buf_free(&sig);
	}
}

#if SSHRPC_WITH_RSA
Test(keys, rsa_signature_short_by_leading_zero_accepted, .timeout = 120)
{
	/* Find a signature whose first byte is zero (1 in 256), strip it, and
	 * check that verification pads it back as OpenSSH does. */
	size_t idx = 1;
	sshrpc_key *k = gen(idx);
	bool found = false;
	for (uint32_t n = 0; n < 4000 && !found; n++) {
		uint8_t data[4];
		sshrpc_store_be32(data, n);
		sshrpc_buf sig = buf_new();
		cr_assert_eq(sshrpc_key_sign(k, "rsa-sha2-256", data, 4, &sig), SSHRPC_OK);
		sshrpc_reader r;
		const uint8_t *name, *blob;
		size_t nl, bl;
		sshrpc_buf_reader(&sig, &r);
		cr_assert_eq(sshrpc_rd_string(&r, &name, &nl), SSHRPC_OK);
		cr_assert_eq(sshrpc_rd_string(&r, &blob, &bl), SSHRPC_OK);
		if (blob[0] == 0) {
			found = true;
			sshrpc_buf shortsig = buf_new();
			cr_assert_eq(sshrpc_buf_put_cstring(&shortsig, "rsa-sha2-256"), SSHRPC_OK);
			cr_assert_eq(sshrpc_buf_put_string(&shortsig, blob + 1, bl - 1), SSHRPC_OK);
			cr_assert_eq(sshrpc_key_verify(k, NULL, sshrpc_buf_ptr(&shortsig), shortsig.len, data, 4),
				SSHRPC_OK);
			sshrpc_buf_free(&shortsig);
		}
		sshrpc_buf_free(&sig);
	}
	cr_assert(found);
}

Test(keys, rsa_generate_sizes)
{
	sshrpc_key *k = NULL;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_RSA, 1024, &k), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_RSA, 16385, &k), SSHRPC_E_INVALID);
	cr_assert_null(k);
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_UNKNOWN, 0, &k), SSHRPC_E_UNSUPPORTED);
}
#endif

/* ---- strict blob parsing ------------------------------------------------------ */

static int parse(const sshrpc_buf *b)
{
	sshrpc_key *k = NULL;
	int rc = sshrpc_key_from_blob(NULL, sshrpc_buf_ptr(b), b->len, &k);
	if (rc == SSHRPC_OK)
		sshrpc_key_free(k);
	else
		cr_assert_null(k);
	return rc;
}

Test(keys, blob_parser_is_strict, .timeout = 60)
{
	sshrpc_buf b = buf_new();
	/* Trailing byte after a valid blob, and every truncation. */
	for (size_t i = 0; i < N_TYPES; i++) {
		sshrpc_buf_reset(&b);
		cr_assert_eq(sshrpc_key_to_blob(gen(i), &b), SSHRPC_OK);
		cr_assert_eq(parse(&b), SSHRPC_OK);
		for (size_t cut = 0; cut < b.len; cut++) {
			sshrpc_key *k = NULL;
			int rc = sshrpc_key_from_blob(NULL, sshrpc_buf_ptr(&b), cut, &k);
			cr_assert(
				rc == SSHRPC_E_INVALID || (cut == 0 && rc == SSHRPC_E_INVALID), "cut %zu: %d", cut, rc);
		}
		cr_assert_eq(sshrpc_buf_put_u8(&b, 0), SSHRPC_OK);
		cr_assert_eq(parse(&b), SSHRPC_E_INVALID);
	}

	/* Unknown and unsupported types. */
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-dss"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, "x", 1), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_UNSUPPORTED);

	/* Ed25519 key of the wrong length. */
	uint8_t pk[33] = { 0 };
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-ed25519"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, pk, 31), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-ed25519"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, pk, 33), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);

	/* ECDSA: the curve must match the type; points uncompressed and on
	 * the curve. */
	sshrpc_buf good = buf_new();
	cr_assert_eq(sshrpc_key_to_blob(gen(N_TYPES - 3), &good), SSHRPC_OK); /* P-256 */
	sshrpc_reader r;
	const uint8_t *f;
	size_t fl;
	const uint8_t *q;
	size_t ql;
	sshrpc_buf_reader(&good, &r);
	cr_assert_eq(sshrpc_rd_string(&r, &f, &fl), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_string(&r, &f, &fl), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_string(&r, &q, &ql), SSHRPC_OK);
	cr_assert_eq(ql, 65);
	uint8_t pt[65];
	memcpy(pt, q, 65);

	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ecdsa-sha2-nistp256"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "nistp384"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, pt, 65), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);

	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ecdsa-sha2-nistp384"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "nistp384"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, pt, 65), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);

	uint8_t comp[33];
	memcpy(comp, pt, 33);
	comp[0] = (uint8_t)(0x02 | (pt[64] & 1));
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ecdsa-sha2-nistp256"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "nistp256"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, comp, 33), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);

	pt[64] ^= 1;
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ecdsa-sha2-nistp256"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "nistp256"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&b, pt, 65), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID, "point off the curve");
	sshrpc_buf_free(&good);

#if SSHRPC_WITH_RSA
	/* RSA: e odd and > 1, n odd, 1024..16384 bits, mpints minimal. */
	uint8_t n[257];
	memset(n, 0xc5, sizeof n);
	n[0] = 0;
	n[256] |= 1;
	const uint8_t e3[] = { 3 }, e4[] = { 4 }, e1[] = { 1 }, e65537[] = { 1, 0, 1 };
	struct {
		const uint8_t *e;
		size_t el;
		size_t nl;
		int want;
	} rsa_cases[] = {
		{ e65537, 3, 256, SSHRPC_OK }, { e3, 1, 256, SSHRPC_OK }, { e4, 1, 256, SSHRPC_E_INVALID },
		{ e1, 1, 256, SSHRPC_E_INVALID }, { e65537, 3, 96, SSHRPC_E_UNSUPPORTED }, /* 768 bits */
		{ e65537, 3, 127, SSHRPC_E_UNSUPPORTED },				   /* 1016 bits */
		{ e65537, 3, 128, SSHRPC_OK },						   /* 1024 bits */
	};
	for (size_t i = 0; i < sizeof rsa_cases / sizeof rsa_cases[0]; i++) {
		sshrpc_buf_reset(&b);
		cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-rsa"), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, rsa_cases[i].e, rsa_cases[i].el), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, n + 257 - rsa_cases[i].nl, rsa_cases[i].nl), SSHRPC_OK);
		cr_assert_eq(parse(&b), rsa_cases[i].want, "rsa case %zu", i);
	}
	/* Even modulus. */
	n[256] &= 0xfe;
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-rsa"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, e65537, 3), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, n + 1, 256), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);
	/* A non-minimal mpint (extra zero byte before e). */
	n[256] |= 1;
	sshrpc_buf_reset(&b);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-rsa"), SSHRPC_OK);
	const uint8_t e_padded[] = { 0, 1, 0, 1 };
	cr_assert_eq(sshrpc_buf_put_string(&b, e_padded, 4), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, n + 1, 256), SSHRPC_OK);
	cr_assert_eq(parse(&b), SSHRPC_E_INVALID);
#endif
	sshrpc_buf_free(&b);
}

/* ---- PEM -------------------------------------------------------------------------- */

static sshrpc_key *load_pem(const char *name, const char *pass, int want)
{
	size_t len;
	uint8_t *pem = tu_read_file(tu_data(name), &len);
	cr_assert_not_null(pem, "fixture %s", name);
	sshrpc_key *k = NULL;
	int rc = sshrpc_key_from_pem(NULL, pem, len, pass, &k);
	free(pem);
	cr_assert_eq(rc, want, "%s: got %d (%s), want %d", name, rc, sshrpc_strerror(rc), want);
	if (rc != SSHRPC_OK)
		cr_assert_null(k);
	return k;
}

Test(pem, loads_every_format, .timeout = 60)
{
	static const struct {
		const char *file;
		const char *pass;
		sshrpc_key_type type;
		unsigned bits;
	} cases[] = {
#if SSHRPC_WITH_RSA
		{ "rsa2048_pkcs1.pem", NULL, SSHRPC_KEY_RSA, 2048 },
		{ "rsa3072_pkcs1_enc.pem", "fixture-pass", SSHRPC_KEY_RSA, 3072 },
		{ "rsa2048_pkcs8.pem", NULL, SSHRPC_KEY_RSA, 2048 },
		{ "rsa2048_pkcs8_enc.pem", "fixture-pass", SSHRPC_KEY_RSA, 2048 },
#endif
		{ "ec256_sec1.pem", NULL, SSHRPC_KEY_ECDSA_P256, 256 },
		/* An "EC PARAMETERS" block first, as `openssl ecparam -genkey`
		 * writes it. */
		{ "ec256_with_params.pem", NULL, SSHRPC_KEY_ECDSA_P256, 256 },
		{ "ec384_sec1_enc.pem", "fixture-pass", SSHRPC_KEY_ECDSA_P384, 384 },
		{ "ec521_pkcs8.pem", NULL, SSHRPC_KEY_ECDSA_P521, 521 },
		{ "ec256_pkcs8_enc.pem", "fixture-pass", SSHRPC_KEY_ECDSA_P256, 256 },
		{ "ed25519_pkcs8.pem", NULL, SSHRPC_KEY_ED25519, 256 },
		{ "ed25519_pkcs8_enc.pem", "fixture-pass", SSHRPC_KEY_ED25519, 256 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sshrpc_key *k = load_pem(cases[i].file, cases[i].pass, SSHRPC_OK);
		cr_assert_eq(sshrpc_key_get_type(k), cases[i].type, "%s", cases[i].file);
		cr_assert_eq(sshrpc_key_bits(k), cases[i].bits, "%s", cases[i].file);
		cr_assert(sshrpc_key_has_private(k));
		/* The public half is the one ssh-keygen wrote next to it. */
		char pubname[128];
		snprintf(pubname, sizeof pubname, "%s.pub", cases[i].file);
		size_t bl;
		uint8_t *blob = tu_pub_blob(tu_data(pubname), &bl);
		cr_assert_not_null(blob, "%s", pubname);
		sshrpc_key *pub;
		cr_assert_eq(sshrpc_key_from_blob(NULL, blob, bl, &pub), SSHRPC_OK, "%s", pubname);
		cr_assert(sshrpc_key_equal_public(k, pub), "%s", cases[i].file);
		free(blob);
		/* It signs, and the public half verifies. */
		sshrpc_buf sig = buf_new();
		cr_assert_eq(sshrpc_key_sign(k, NULL, (const uint8_t *)"pem", 3, &sig), SSHRPC_OK);
		cr_assert_eq(sshrpc_key_verify(pub, NULL, sshrpc_buf_ptr(&sig), sig.len, (const uint8_t *)"pem", 3),
			SSHRPC_OK);
		sshrpc_buf_free(&sig);
		sshrpc_key_free(pub);
		sshrpc_key_free(k);
		/* A passphrase given for an unencrypted key is not used. */
		if (cases[i].pass == NULL)
			sshrpc_key_free(load_pem(cases[i].file, "unused", SSHRPC_OK));
	}
}

Test(pem, passphrase_missing_or_wrong)
{
	static const char *const enc[] = {
#if SSHRPC_WITH_RSA
		"rsa3072_pkcs1_enc.pem",
		"rsa2048_pkcs8_enc.pem",
#endif
		"ec384_sec1_enc.pem",
		"ec256_pkcs8_enc.pem",
		"ed25519_pkcs8_enc.pem",
	};
	for (size_t i = 0; i < sizeof enc / sizeof enc[0]; i++) {
		load_pem(enc[i], NULL, SSHRPC_E_PASSPHRASE);
		load_pem(enc[i], "", SSHRPC_E_PASSPHRASE);
		load_pem(enc[i], "fixture-pas", SSHRPC_E_PASSPHRASE);
		load_pem(enc[i], "wrong wrong wrong", SSHRPC_E_PASSPHRASE);
	}
}

Test(pem, unsupported_and_malformed)
{
	load_pem("dsa_pkcs1.pem", NULL, SSHRPC_E_UNSUPPORTED);
	load_pem("ec224_sec1.pem", NULL, SSHRPC_E_UNSUPPORTED);
	load_pem("rsa768_pkcs8.pem", NULL, SSHRPC_E_UNSUPPORTED);
	sshrpc_key *k = NULL;
	static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
	cr_assert_eq(
		sshrpc_key_from_pem(NULL, (const uint8_t *)garbage, sizeof garbage - 1, NULL, &k), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_key_from_pem(NULL, (const uint8_t *)"x", 1, NULL, &k), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_key_from_pem(NULL, (const uint8_t *)"x", 0, NULL, &k), SSHRPC_E_INVALID);
	/* A public key is not a private key. */
	static const char pubpem[] = "-----BEGIN PUBLIC KEY-----\n"
				     "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
				     "-----END PUBLIC KEY-----\n";
	cr_assert_eq(sshrpc_key_from_pem(NULL, (const uint8_t *)pubpem, sizeof pubpem - 1, NULL, &k), SSHRPC_E_INVALID);
	/* A truncated PEM body. */
	size_t len;
	uint8_t *pem = tu_read_file(tu_data("ec256_sec1.pem"), &len);
	cr_assert_eq(sshrpc_key_from_pem(NULL, pem, len / 2, NULL, &k), SSHRPC_E_INVALID);
	free(pem);
	cr_assert_null(k);
}

/* ---- cross-checks with ssh-keygen (SSHSIG, PROTOCOL.sshsig) -------------------------- */

/* The blob SSHSIG signs: "SSHSIG", string namespace, string reserved,
 * string hash algorithm, string H(message). */
static void sshsig_signed_data(const char *ns, const uint8_t *msg, size_t len, sshrpc_buf *out)
{
	uint8_t h[64];
	unsigned hl = 0;
	cr_assert_eq(EVP_Digest(msg, len, h, &hl, EVP_sha512(), NULL), 1);
	cr_assert_eq(sshrpc_buf_put(out, "SSHSIG", 6), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(out, ns), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(out, "", 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(out, "sha512"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(out, h, hl), SSHRPC_OK);
}

static void cross_check(const char *keygen_args, const char *expect_alg)
{
	char *dir = tu_tmpdir();
	char key[512], msgf[512], sigf[512], oursig[512];
	snprintf(key, sizeof key, "%s/id", dir);
	snprintf(msgf, sizeof msgf, "%s/msg", dir);
	snprintf(sigf, sizeof sigf, "%s/msg.sig", dir);
	snprintf(oursig, sizeof oursig, "%s/ours.sig", dir);
	cr_assert_eq(tu_run("ssh-keygen -q %s -N '' -C x -f '%s' </dev/null >/dev/null 2>&1", keygen_args, key), 0,
		"ssh-keygen failed (is openssh-client installed?)");
	static const char msg[] = "a message signed by ssh-keygen and by sshrpc\n";
	cr_assert(tu_write_file(msgf, msg, sizeof msg - 1));

	/* The public key as ssh-keygen wrote it, and the private key from
	 * its unencrypted openssh-key-v1 file: the same key. */
	char pubf[600];
	snprintf(pubf, sizeof pubf, "%s.pub", key);
	size_t bl;
	uint8_t *blob = tu_pub_blob(pubf, &bl);
	cr_assert_not_null(blob);
	sshrpc_key *pub, *priv;
	cr_assert_eq(sshrpc_key_from_blob(NULL, blob, bl, &pub), SSHRPC_OK);
	tu_osshkey ok;
	cr_assert(tu_osshkey_parse(key, &ok));
	cr_assert_str_eq(ok.cipher, "none");
	cr_assert_eq(ok.pub_len, bl);
	cr_assert_arr_eq(ok.pub, blob, bl);
	cr_assert_eq(tu_osshkey_private(ok.priv, ok.priv_len, &priv), SSHRPC_OK);
	cr_assert(sshrpc_key_equal_public(pub, priv));
	tu_osshkey_free(&ok);

	/* ssh-keygen signs; we verify. */
	cr_assert_eq(tu_run("ssh-keygen -Y sign -q -f '%s' -n sshrpc-test '%s' >/dev/null 2>&1", key, msgf), 0);
	size_t sl;
	char *armored = (char *)tu_read_file(sigf, &sl);
	cr_assert_not_null(armored);
	const char *b = strstr(armored, "-----BEGIN SSH SIGNATURE-----");
	const char *e = strstr(armored, "-----END SSH SIGNATURE-----");
	cr_assert(b != NULL && e != NULL);
	b += strlen("-----BEGIN SSH SIGNATURE-----");
	size_t rawlen;
	uint8_t *raw = tu_b64_decode(b, (size_t)(e - b), &rawlen);
	free(armored);
	sshrpc_reader r;
	uint32_t version;
	const uint8_t *f, *sig;
	size_t fl, siglen;
	cr_assert(rawlen > 6 && memcmp(raw, "SSHSIG", 6) == 0);
	sshrpc_rd_init(&r, raw + 6, rawlen - 6);
	cr_assert_eq(sshrpc_rd_u32(&r, &version), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_string(&r, &f, &fl), SSHRPC_OK); /* public key */
	cr_assert_eq(fl, bl);
	cr_assert_arr_eq(f, blob, bl);
	cr_assert_eq(sshrpc_rd_string(&r, &f, &fl), SSHRPC_OK); /* namespace */
	cr_assert_eq(sshrpc_rd_string(&r, &f, &fl), SSHRPC_OK); /* reserved */
	cr_assert_eq(sshrpc_rd_string(&r, &f, &fl), SSHRPC_OK); /* hash */
	cr_assert(fl == 6 && memcmp(f, "sha512", 6) == 0);
	cr_assert_eq(sshrpc_rd_string(&r, &sig, &siglen), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_end(&r), SSHRPC_OK);

	sshrpc_buf signed_data = buf_new();
	sshsig_signed_data("sshrpc-test", (const uint8_t *)msg, sizeof msg - 1, &signed_data);
	cr_assert_eq(sshrpc_key_verify(pub, expect_alg, sig, siglen, sshrpc_buf_ptr(&signed_data), signed_data.len),
		SSHRPC_OK, "ssh-keygen's %s signature refused", expect_alg);
	/* Not over other data. */
	cr_assert_eq(sshrpc_key_verify(pub, expect_alg, sig, siglen, sshrpc_buf_ptr(&signed_data), signed_data.len - 1),
		SSHRPC_E_DENIED);
	free(raw);

	/* We sign (with the key read from ssh-keygen's file); ssh-keygen
	 * verifies. */
	sshrpc_buf ours = buf_new();
	cr_assert_eq(sshrpc_buf_put(&ours, "SSHSIG", 6), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&ours, 1), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&ours, blob, bl), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&ours, "sshrpc-test"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_string(&ours, "", 0), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&ours, "sha512"), SSHRPC_OK);
	size_t mark;
	cr_assert_eq(sshrpc_buf_string_begin(&ours, &mark), SSHRPC_OK);
	cr_assert_eq(
		sshrpc_key_sign(priv, expect_alg, sshrpc_buf_ptr(&signed_data), signed_data.len, &ours), SSHRPC_OK);
	sshrpc_buf_string_end(&ours, mark);
	char *b64 = tu_b64_encode(sshrpc_buf_ptr(&ours), ours.len);
	FILE *out = fopen(oursig, "w");
	cr_assert_not_null(out);
	fprintf(out, "-----BEGIN SSH SIGNATURE-----\n");
	for (size_t i = 0; i < strlen(b64); i += 70)
		fprintf(out, "%.70s\n", b64 + i);
	fprintf(out, "-----END SSH SIGNATURE-----\n");
	fclose(out);
	cr_assert_eq(
		tu_run("ssh-keygen -Y check-novalidate -n sshrpc-test -s '%s' < '%s' >/dev/null 2>&1", oursig, msgf), 0,
		"ssh-keygen refused our %s signature", expect_alg);
	/* ... and refuses it for another message. */
	cr_assert(tu_write_file(msgf, "another message\n", 16));
	cr_assert_neq(
		tu_run("ssh-keygen -Y check-novalidate -n sshrpc-test -s '%s' < '%s' >/dev/null 2>&1", oursig, msgf),
		0);

	free(b64);
	free(blob);
	sshrpc_buf_free(&ours);
	sshrpc_buf_free(&signed_data);
	sshrpc_key_free(pub);
	sshrpc_key_free(priv);
	tu_rmdir(dir);
}

Test(ssh_keygen, ed25519_both_ways, .timeout = 60)
{
	cross_check("-t ed25519", "ssh-ed25519");
}

#if SSHRPC_WITH_RSA
Test(ssh_keygen, rsa_both_ways, .timeout = 60)
{
	/* ssh-keygen -Y signs RSA with rsa-sha2-512. */
	cross_check("-t rsa -b 2048", "rsa-sha2-512");
}
#endif

Test(ssh_keygen, ecdsa_both_ways, .timeout = 60)
{
	cross_check("-t ecdsa -b 256", "ecdsa-sha2-nistp256");
	cross_check("-t ecdsa -b 384", "ecdsa-sha2-nistp384");
	cross_check("-t ecdsa -b 521", "ecdsa-sha2-nistp521");
}
