/* Blowfish against the published ECB vectors (Eric Young's set, as in
 * Schneier's vectors.txt), bcrypt_pbkdf against OpenBSD's regression
 * vectors, and end to end: a key that ssh-keygen encrypts with
 * bcrypt_pbkdf + aes256-ctr must decrypt with our key derivation. */
#include <criterion/criterion.h>
#include <string.h>

#include <openssl/evp.h>

#include "crypto/crypto_internal.h"

#include "asym_util.h"

/* ---- Blowfish ---------------------------------------------------------- */

static const struct {
	const char *key, *plain, *cipher;
} bf_vectors[] = {
	{ "0000000000000000", "0000000000000000", "4EF997456198DD78" },
	{ "FFFFFFFFFFFFFFFF", "FFFFFFFFFFFFFFFF", "51866FD5B85ECB8A" },
	{ "3000000000000000", "1000000000000001", "7D856F9A613063F2" },
	{ "1111111111111111", "1111111111111111", "2466DD878B963C9D" },
	{ "0123456789ABCDEF", "1111111111111111", "61F9C3802281B096" },
};

Test(blowfish, published_ecb_vectors)
{
	for (size_t i = 0; i < sizeof bf_vectors / sizeof bf_vectors[0]; i++) {
		uint8_t key[8], pt[8], ct[8], out[8], back[8];
		cr_assert_eq(tu_hex(bf_vectors[i].key, key, 8), 8);
		cr_assert_eq(tu_hex(bf_vectors[i].plain, pt, 8), 8);
		cr_assert_eq(tu_hex(bf_vectors[i].cipher, ct, 8), 8);
		sshrpc_bf_ctx c;
		sshrpc_bf_set_key(&c, key, sizeof key);
		sshrpc_bf_ecb_encrypt(&c, pt, out);
		cr_assert_arr_eq(out, ct, 8, "vector %zu encrypt", i);
		sshrpc_bf_ecb_decrypt(&c, ct, back);
		cr_assert_arr_eq(back, pt, 8, "vector %zu decrypt", i);
	}
}

Test(blowfish, initial_state_is_pi)
{
	/* First and last words of the pi digits (P[0], P[1], S3[255]). */
	sshrpc_bf_ctx c;
	sshrpc_bf_initstate(&c);
	cr_assert_eq(c.p[0], 0x243f6a88u);
	cr_assert_eq(c.p[1], 0x85a308d3u);
	cr_assert_eq(c.p[17], 0x8979fb1bu);
	cr_assert_eq(c.s[0][0], 0xd1310ba6u);
	cr_assert_eq(c.s[3][255], 0x3ac372e6u);
}

/* ---- bcrypt_pbkdf: OpenBSD's regression vectors ------------------------ */

static const struct {
	const char *pass;
	size_t pass_len;
	const char *salt;
	size_t salt_len;
	unsigned rounds;
	const char *out;
} pbkdf_vectors[] = {
	{ "password", 8, "salt", 4, 4, "5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9" },
	{ "password", 8, "\0", 1, 4, "c12b566235eee04c212598970a579a67" },
	{ "\0", 1, "salt", 4, 4, "6051be18c2f4f82cbf0efee5471b4bb9" },
	{ "password\0", 9, "salt\0", 5, 4, "7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050" },
	{ "pass\0wor", 8, "sa\0l", 4, 4, "c2bffd9db38f6569efef4372f4de83c0" },
	{ "pass\0word", 9, "sa\0lt", 5, 4, "4ba4ac3925c0e8d7f0cdb6bb1684a56f" },
	{ "password", 8, "salt", 4, 8,
		"e1367ec5151a33faac4cc1c144cd23fa15d5548493ecc99b9b5d9c0d3b27bec76227ea66088b849b20ab"
		"7aa478010246e74bba51723fefa9f9474d6508845e8d" },
	{ "password", 8, "salt", 4, 42, "833cf0dcf56db65608e8f0dc0ce882bd" },
	{ "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor incididunt ut "
	  "labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco "
	  "laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in "
	  "voluptate velit esse cillum dolore eu fugiat nulla pariatur. Excepteur sint occaecat cupidatat "
	  "non proident, sunt in culpa qui officia deserunt mollit anim id est laborum.",
		0, "salis\0", 6, 8, "10978b07253df57f71a162eb0e8ad30a" },
};

Test(bcrypt_pbkdf, openbsd_vectors)
{
	for (size_t i = 0; i < sizeof pbkdf_vectors / sizeof pbkdf_vectors[0]; i++) {
		uint8_t want[128], got[128];
		size_t n = tu_hex(pbkdf_vectors[i].out, want, sizeof want);
		size_t pl = pbkdf_vectors[i].pass_len ? pbkdf_vectors[i].pass_len : strlen(pbkdf_vectors[i].pass);
		cr_assert_eq(sshrpc_bcrypt_pbkdf(pbkdf_vectors[i].pass, pl, (const uint8_t *)pbkdf_vectors[i].salt,
				     pbkdf_vectors[i].salt_len, got, n, pbkdf_vectors[i].rounds),
			SSHRPC_OK);
		cr_assert_arr_eq(got, want, n, "vector %zu", i);
	}
}

Test(bcrypt_pbkdf, refuses_bad_parameters)
{
	uint8_t key[2048];
	const uint8_t salt[4] = "salt";
	cr_assert_eq(sshrpc_bcrypt_pbkdf("pw", 2, salt, 4, key, 32, 0), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_bcrypt_pbkdf("pw", 0, salt, 4, key, 32, 4), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_bcrypt_pbkdf("pw", 2, salt, 0, key, 32, 4), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_bcrypt_pbkdf("pw", 2, salt, 4, key, 0, 4), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_bcrypt_pbkdf("pw", 2, salt, 4, key, 1025, 4), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_bcrypt_pbkdf("pw", 2, salt, 4, key, 1024, 1), SSHRPC_OK);
}

/* ---- end to end with ssh-keygen ------------------------------------------ */

/* Decrypts the private section of an ssh-keygen key with our bcrypt_pbkdf
 * and libcrypto's aes256-ctr; returns a malloc'd plaintext. */
static uint8_t *decrypt_with(const tu_osshkey *k, const char *pass)
{
	uint8_t kiv[32 + 16];
	cr_assert_eq(
		sshrpc_bcrypt_pbkdf(pass, strlen(pass), k->salt, k->salt_len, kiv, sizeof kiv, k->rounds), SSHRPC_OK);
	uint8_t *plain = malloc(k->priv_len);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n1 = 0, n2 = 0;
	cr_assert_eq(EVP_DecryptInit_ex(c, EVP_aes_256_ctr(), NULL, kiv, kiv + 32), 1);
	cr_assert_eq(EVP_DecryptUpdate(c, plain, &n1, k->priv, (int)k->priv_len), 1);
	cr_assert_eq(EVP_DecryptFinal_ex(c, plain + n1, &n2), 1);
	cr_assert_eq((size_t)(n1 + n2), k->priv_len);
	EVP_CIPHER_CTX_free(c);
	return plain;
}

static void keygen_round_trip(const char *type_args, const char *rounds_arg)
{
	char *dir = tu_tmpdir();
	cr_assert_not_null(dir);
	char path[512];
	snprintf(path, sizeof path, "%s/key", dir);
	cr_assert_eq(tu_run("ssh-keygen -q %s %s -N secret -C e2e -f '%s' </dev/null >/dev/null 2>&1", type_args,
			     rounds_arg, path),
		0, "ssh-keygen failed (is openssh-client installed?)");
	tu_osshkey k;
	cr_assert(tu_osshkey_parse(path, &k));
	cr_assert_str_eq(k.cipher, "aes256-ctr");
	cr_assert_str_eq(k.kdf, "bcrypt");
	cr_assert_eq(k.salt_len, 16);

	/* Right passphrase: checkint1 == checkint2, and the key inside is the
	 * public key the envelope names. */
	uint8_t *plain = decrypt_with(&k, "secret");
	cr_assert_eq(memcmp(plain, plain + 4, 4), 0, "checkints differ: bcrypt_pbkdf output is wrong");
	sshrpc_key *key = NULL;
	cr_assert_eq(tu_osshkey_private(plain, k.priv_len, &key), SSHRPC_OK);
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_key_to_blob(key, &b), SSHRPC_OK);
	cr_assert_eq(b.len, k.pub_len);
	cr_assert_arr_eq(sshrpc_buf_ptr(&b), k.pub, k.pub_len);
	sshrpc_buf_free(&b);
	sshrpc_key_free(key);
	free(plain);

	/* Wrong passphrase: the checkints do not match. */
	plain = decrypt_with(&k, "Secret");
	cr_assert_neq(memcmp(plain, plain + 4, 4), 0);
	free(plain);

	tu_osshkey_free(&k);
	tu_rmdir(dir);
}

Test(bcrypt_pbkdf, decrypts_ssh_keygen_ed25519_default_rounds, .timeout = 60)
{
	keygen_round_trip("-t ed25519", "");
}

Test(bcrypt_pbkdf, decrypts_ssh_keygen_ecdsa_few_rounds, .timeout = 60)
{
	keygen_round_trip("-t ecdsa -b 384", "-a 3");
}
