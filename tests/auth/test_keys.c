/* Key files: every key ssh-keygen makes for ed25519, rsa 2048/3072/4096 and
 * ecdsa 256/384/521, in each format (default openssh-key-v1, -m PEM,
 * -m PKCS8), unencrypted and encrypted, loads and matches its .pub; the
 * openssh-key-v1 ciphers; wrong and missing passphrases; too-open
 * permissions; truncated and corrupt files; writing a key ssh-keygen reads
 * back; RFC 4716 public keys and fingerprints against ssh-keygen. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth_test.h"

#define PASS "correct horse"

static sshrpc_err fresh_err(void)
{
	sshrpc_err e;
	sshrpc_err_clear(&e);
	return e;
}

/* Loads path (through the permission-checking reader) with passphrase. */
static int load_private(const char *path, const char *pass, sshrpc_key **key, sshrpc_err *err)
{
	uint8_t *d;
	size_t n;
	int rc = sshrpc_keyfile_read(NULL, path, true, &d, &n, err);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_privkey_parse(NULL, path, d, n, pass, key, NULL, 0, err);
	sshrpc_keyfile_free(NULL, d, n);
	return rc;
}

/* The private key signs, and its .pub verifies the signature. */
static void check_signs(const sshrpc_key *priv, const sshrpc_key *pub)
{
	const char *alg = sshrpc_key_get_type(pub) == SSHRPC_KEY_RSA ? "rsa-sha2-256"
								     : sshrpc_key_type_name(sshrpc_key_get_type(pub));
	sshrpc_buf sig;
	sshrpc_buf_init(&sig, NULL, 0);
	static const uint8_t msg[] = "data to sign";
	cr_assert_eq(sshrpc_key_sign(priv, alg, msg, sizeof msg, &sig), SSHRPC_OK);
	cr_assert_eq(
		sshrpc_key_verify(pub, alg, sshrpc_buf_ptr(&sig), sshrpc_buf_len(&sig), msg, sizeof msg), SSHRPC_OK);
	sshrpc_buf_free(&sig);
}

/* One key type: generated once, then re-encoded by ssh-keygen -p into each
 * format, with and without a passphrase. */
static void check_type(const char *type, unsigned bits)
{
	char dir[64], base[128], path[160];
	at_mkdtemp(dir, sizeof dir);
	snprintf(base, sizeof base, "%s/%s%u", dir, type, bits);
	cr_assert_eq(at_run("ssh-keygen -q -t %s -b %u -N '' -C 'test %s' -f %s", type, bits, type, base), 0);
	snprintf(path, sizeof path, "%s.pub", base);
	sshrpc_key *pub = at_load_pub(path);
	cr_assert_eq(sshrpc_key_bits(pub) == bits || strcmp(type, "ed25519") == 0, true, "bits %u", bits);

	static const char *const formats[] = { "RFC4716", "PEM", "PKCS8" };
	for (size_t f = 0; f < 3; f++) {
		for (int enc = 0; enc < 2; enc++) {
			snprintf(path, sizeof path, "%s-%s-%s", base, formats[f], enc ? "enc" : "plain");
			cr_assert_eq(at_run("cp %s %s && ssh-keygen -q -p -f %s -P '' -N '%s' -m %s >/dev/null", base,
					     path, path, enc ? PASS : "", formats[f]),
				0, "ssh-keygen -p %s", path);
			size_t n;
			uint8_t *d = at_read(path, &n);
			cr_assert_eq(sshrpc_privkey_is_encrypted(d, n), enc == 1, "%s: encrypted flag", path);
			free(d);
			sshrpc_err err = fresh_err();
			sshrpc_key *k = NULL;
			int rc = load_private(path, enc ? PASS : NULL, &k, &err);
			cr_assert_eq(rc, SSHRPC_OK, "%s: %s", path, err.msg);
			cr_assert(sshrpc_key_has_private(k));
			cr_assert(sshrpc_key_equal_public(k, pub), "%s: public half differs from .pub", path);
			check_signs(k, pub);
			sshrpc_key_free(k);
			if (!enc)
				continue;
			/* Wrong and missing passphrases say so, naming the file. */
			err = fresh_err();
			k = NULL;
			rc = load_private(path, "wrong passphrase", &k, &err);
			cr_assert_eq(rc, SSHRPC_E_PASSPHRASE, "%s: wrong passphrase gave %d (%s)", path, rc, err.msg);
			cr_assert_null(k);
			cr_assert(strstr(err.msg, path) != NULL && strstr(err.msg, "wrong passphrase") != NULL, "%s",
				err.msg);
			err = fresh_err();
			rc = load_private(path, NULL, &k, &err);
			cr_assert_eq(rc, SSHRPC_E_PASSPHRASE);
			cr_assert(strstr(err.msg, "passphrase required") != NULL, "%s", err.msg);
		}
	}
	sshrpc_key_free(pub);
	at_rmdir(dir);
}

Test(keys, ed25519_every_format, .timeout = 300)
{
	check_type("ed25519", 256);
}
Test(keys, rsa2048_every_format, .timeout = 300)
{
	check_type("rsa", 2048);
}
Test(keys, rsa3072_every_format, .timeout = 300)
{
	check_type("rsa", 3072);
}
Test(keys, rsa4096_every_format, .timeout = 300)
{
	check_type("rsa", 4096);
}
Test(keys, ecdsa256_every_format, .timeout = 300)
{
	check_type("ecdsa", 256);
}
Test(keys, ecdsa384_every_format, .timeout = 300)
{
	check_type("ecdsa", 384);
}
Test(keys, ecdsa521_every_format, .timeout = 300)
{
	check_type("ecdsa", 521);
}

/* openssh-key-v1 with each cipher ssh-keygen -Z offers that PROTOCOL.key
 * files use in practice. */
Test(keys, openssh_ciphers, .timeout = 300)
{
	static const char *const ciphers[] = { "aes256-ctr", "aes256-cbc", "aes256-gcm@openssh.com", "aes128-ctr",
		"aes192-cbc" };
	char dir[64], path[160], pubpath[170];
	at_mkdtemp(dir, sizeof dir);
	for (size_t i = 0; i < sizeof ciphers / sizeof ciphers[0]; i++) {
		snprintf(path, sizeof path, "%s/k%zu", dir, i);
		snprintf(pubpath, sizeof pubpath, "%s.pub", path);
		cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -a 4 -Z %s -N '%s' -f %s", ciphers[i], PASS, path), 0);
		sshrpc_key *pub = at_load_pub(pubpath), *k = NULL;
		sshrpc_err err = fresh_err();
		cr_assert_eq(load_private(path, PASS, &k, &err), SSHRPC_OK, "%s: %s", ciphers[i], err.msg);
		cr_assert(sshrpc_key_equal_public(k, pub));
		check_signs(k, pub);
		sshrpc_key_free(k);
		k = NULL;
		err = fresh_err();
		cr_assert_eq(
			load_private(path, "not it", &k, &err), SSHRPC_E_PASSPHRASE, "%s: %s", ciphers[i], err.msg);
		cr_assert(strstr(err.msg, "wrong passphrase") != NULL, "%s", err.msg);
		/* The public half is readable without the passphrase. */
		size_t n;
		uint8_t *d = at_read(path, &n);
		err = fresh_err();
		cr_assert_eq(sshrpc_privkey_public(NULL, path, d, n, &k, &err), SSHRPC_OK, "%s", err.msg);
		cr_assert(sshrpc_key_equal_public(k, pub));
		cr_assert_not(sshrpc_key_has_private(k));
		sshrpc_key_free(k);
		free(d);
		sshrpc_key_free(pub);
	}
	at_rmdir(dir);
}

Test(keys, comment_is_read)
{
	char dir[64], path[128];
	at_mkdtemp(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/k", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -N '' -C 'alice@example.org key' -f %s", path), 0);
	size_t n;
	uint8_t *d = at_read(path, &n);
	char comment[64];
	sshrpc_key *k = NULL;
	sshrpc_err err = fresh_err();
	cr_assert_eq(sshrpc_privkey_parse(NULL, path, d, n, NULL, &k, comment, sizeof comment, &err), SSHRPC_OK);
	cr_assert_str_eq(comment, "alice@example.org key");
	sshrpc_key_free(k);
	free(d);
	at_rmdir(dir);
}

Test(keys, too_open_permissions_refused)
{
	char dir[64], path[128];
	at_mkdtemp(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/id_ed25519", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -N '' -f %s", path), 0);
	static const unsigned modes[] = { 0644, 0640, 0604, 0660, 0606 };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		chmod(path, modes[i]);
		uint8_t *d = NULL;
		size_t n = 0;
		sshrpc_err err = fresh_err();
		cr_assert_eq(sshrpc_keyfile_read(NULL, path, true, &d, &n, &err), SSHRPC_E_DENIED, "mode %o", modes[i]);
		cr_assert_null(d);
		cr_assert(strstr(err.msg, path) != NULL && strstr(err.msg, "too open") != NULL, "%s", err.msg);
		cr_assert_null(strchr(err.msg, '\n'), "one line");
		/* A public file may be world-readable. */
		err = fresh_err();
		cr_assert_eq(sshrpc_keyfile_read(NULL, path, false, &d, &n, &err), SSHRPC_OK);
		sshrpc_keyfile_free(NULL, d, n);
	}
	chmod(path, 0600);
	uint8_t *d;
	size_t n;
	sshrpc_err err = fresh_err();
	cr_assert_eq(sshrpc_keyfile_read(NULL, path, true, &d, &n, &err), SSHRPC_OK, "%s", err.msg);
	sshrpc_keyfile_free(NULL, d, n);
	chmod(path, 0400);
	cr_assert_eq(sshrpc_keyfile_read(NULL, path, true, &d, &n, &err), SSHRPC_OK, "%s", err.msg);
	sshrpc_keyfile_free(NULL, d, n);
	err = fresh_err();
	snprintf(path, sizeof path, "%s/missing", dir);
	cr_assert_eq(sshrpc_keyfile_read(NULL, path, true, &d, &n, &err), SSHRPC_E_IO);
	cr_assert(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
	at_rmdir(dir);
}

/* Every prefix of a key file, and every single-byte change in its base64,
 * is refused with an error (never accepted, never a crash). */
static void check_damaged(const char *path, const char *pass)
{
	size_t n;
	uint8_t *d = at_read(path, &n);
	cr_assert_not_null(d);
	sshrpc_key *k = NULL;
	sshrpc_err err = fresh_err();
	cr_assert_eq(sshrpc_privkey_parse(NULL, path, d, n, pass, &k, NULL, 0, &err), SSHRPC_OK, "%s", err.msg);
	sshrpc_key_free(k);
	/* Cut before the END line: the step keeps the test short. */
	size_t end = n - 40;
	for (size_t cut = 0; cut < end; cut += (cut < 200 ? 7 : 53)) {
		err = fresh_err();
		k = NULL;
		int rc = sshrpc_privkey_parse(NULL, path, d, cut, pass, &k, NULL, 0, &err);
		cr_assert_neq(rc, SSHRPC_OK, "%s cut at %zu accepted", path, cut);
		cr_assert_null(k);
		cr_assert(strstr(err.msg, path) != NULL, "error names the file: %s", err.msg);
	}
	/* Change one base64 character in the body (past the BEGIN line). */
	for (size_t pos = 40; pos < end; pos += 61) {
		if (d[pos] == '\n' || d[pos] == '-')
			continue;
		uint8_t save = d[pos];
		d[pos] = save == 'A' ? 'B' : 'A';
		err = fresh_err();
		k = NULL;
		int rc = sshrpc_privkey_parse(NULL, path, d, n, pass, &k, NULL, 0, &err);
		/* A change inside e.g. the comment or an RSA CRT value that is not
		 * checked may still load; what must never happen is a key whose
		 * public half differs from what the file says. */
		if (rc == SSHRPC_OK) {
			sshrpc_key *pub = NULL;
			if (sshrpc_privkey_format(d, n) == SSHRPC_KEYFILE_OPENSSH &&
				sshrpc_privkey_public(NULL, path, d, n, &pub, &err) == SSHRPC_OK)
				cr_assert(sshrpc_key_equal_public(k, pub));
			sshrpc_key_free(pub);
		} else {
			cr_assert(strstr(err.msg, path) != NULL, "%s", err.msg);
		}
		sshrpc_key_free(k);
		d[pos] = save;
	}
	free(d);
}

Test(keys, truncated_and_corrupt_files, .timeout = 300)
{
	char dir[64], path[128];
	at_mkdtemp(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/plain", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t ecdsa -N '' -f %s", path), 0);
	check_damaged(path, NULL);
	snprintf(path, sizeof path, "%s/pem", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -f %s", path), 0);
	check_damaged(path, NULL);
	snprintf(path, sizeof path, "%s/enc", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -a 1 -N '%s' -f %s", PASS, path), 0);
	check_damaged(path, PASS);

	/* Specific messages. */
	size_t n;
	uint8_t *d = at_read(path, &n);
	sshrpc_key *k = NULL;
	sshrpc_err err = fresh_err();
	const char *endl = strstr((char *)d, "-----END");
	cr_assert_eq(sshrpc_privkey_parse(NULL, "idfile", d, (size_t)(endl - (char *)d), PASS, &k, NULL, 0, &err),
		SSHRPC_E_TRUNCATED);
	cr_assert_str_eq(err.msg, "idfile: corrupt key file: truncated (no END line)");
	free(d);
	static const char garbage[] = "this is not a key\n";
	err = fresh_err();
	cr_assert_eq(
		sshrpc_privkey_parse(NULL, "junk", (const uint8_t *)garbage, strlen(garbage), NULL, &k, NULL, 0, &err),
		SSHRPC_E_INVALID);
	cr_assert_str_eq(err.msg, "junk: not a private key file (unknown format)");
	snprintf(path, sizeof path, "%s/plain.pub", dir);
	d = at_read(path, &n);
	err = fresh_err();
	cr_assert_eq(sshrpc_privkey_parse(NULL, "id.pub", d, n, NULL, &k, NULL, 0, &err), SSHRPC_E_INVALID);
	cr_assert_str_eq(err.msg, "id.pub: a public key, not a private key");
	free(d);
	at_rmdir(dir);
}

Test(keys, unsupported_key_type_named)
{
	char dir[64], path[128];
	at_mkdtemp(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/dsa", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t dsa -N '' -f %s 2>/dev/null", path), 0);
	size_t n;
	uint8_t *d = at_read(path, &n);
	sshrpc_key *k = NULL;
	sshrpc_err err = fresh_err();
	cr_assert_eq(sshrpc_privkey_parse(NULL, "id_dsa", d, n, NULL, &k, NULL, 0, &err), SSHRPC_E_UNSUPPORTED);
	cr_assert_str_eq(err.msg, "id_dsa: unsupported key type ssh-dss");
	free(d);
	snprintf(path, sizeof path, "%s/dsa.pub", dir);
	d = at_read(path, &n);
	err = fresh_err();
	cr_assert_eq(sshrpc_pubkey_parse(NULL, "id_dsa.pub", d, n, &k, NULL, 0, &err), SSHRPC_E_UNSUPPORTED);
	cr_assert_str_eq(err.msg, "id_dsa.pub: unsupported key type");
	free(d);
	at_rmdir(dir);
}

/* The server's host key: written by us, read back by ssh-keygen. */
Test(keys, written_openssh_key_read_by_ssh_keygen)
{
	char dir[64], path[128], out[160];
	at_mkdtemp(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/host_ed25519", dir);
	snprintf(out, sizeof out, "%s/derived.pub", dir);
	sshrpc_key *k = NULL;
	cr_assert_eq(sshrpc_key_generate(NULL, SSHRPC_KEY_ED25519, 0, &k), SSHRPC_OK);
	sshrpc_buf text;
	sshrpc_buf_init(&text, NULL, 0);
	cr_assert_eq(sshrpc_privkey_write_openssh(k, "sshrpcd host key", &text), SSHRPC_OK);
	sshrpc_err err = fresh_err();
	cr_assert_eq(sshrpc_keyfile_write_new(path, sshrpc_buf_ptr(&text), sshrpc_buf_len(&text), 0600, &err),
		SSHRPC_OK, "%s", err.msg);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	/* Never overwrites. */
	err = fresh_err();
	cr_assert_eq(sshrpc_keyfile_write_new(path, (const uint8_t *)"x", 1, 0600, &err), SSHRPC_E_IO);
	cr_assert_eq(at_run("ssh-keygen -y -f %s > %s", path, out), 0);
	sshrpc_key *pub = at_load_pub(out);
	cr_assert(sshrpc_key_equal_public(k, pub));
	cr_assert_eq(at_run("ssh-keygen -l -f %s > /dev/null", path), 0);
	/* And we read our own file back, comment included. */
	char comment[64];
	sshrpc_key *back = NULL;
	cr_assert_eq(sshrpc_privkey_parse(NULL, path, sshrpc_buf_ptr(&text), sshrpc_buf_len(&text), NULL, &back,
			     comment, sizeof comment, &err),
		SSHRPC_OK, "%s", err.msg);
	cr_assert_str_eq(comment, "sshrpcd host key");
	check_signs(back, pub);
	/* ssh-keygen can re-encrypt it, and we read that too. */
	cr_assert_eq(at_run("ssh-keygen -q -p -a 2 -f %s -P '' -N '%s' > /dev/null", path, PASS), 0);
	sshrpc_key_free(back);
	back = NULL;
	cr_assert_eq(load_private(path, PASS, &back, &err), SSHRPC_OK, "%s", err.msg);
	cr_assert(sshrpc_key_equal_public(back, pub));
	sshrpc_key_free(back);
	sshrpc_buf_free(&text);
	sshrpc_key_free(pub);
	sshrpc_key_free(k);
	at_rmdir(dir);
}

Test(keys, written_rsa_and_ecdsa_keys_read_by_ssh_keygen, .timeout = 120)
{
	static const sshrpc_key_type types[] = { SSHRPC_KEY_RSA, SSHRPC_KEY_ECDSA_P256, SSHRPC_KEY_ECDSA_P384,
		SSHRPC_KEY_ECDSA_P521 };
	char dir[64], path[128], out[160];
	at_mkdtemp(dir, sizeof dir);
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		snprintf(path, sizeof path, "%s/k%zu", dir, i);
		snprintf(out, sizeof out, "%s/k%zu.pub", dir, i);
		sshrpc_key *k = NULL;
		cr_assert_eq(sshrpc_key_generate(NULL, types[i], 2048, &k), SSHRPC_OK);
		sshrpc_buf text;
		sshrpc_buf_init(&text, NULL, 0);
		cr_assert_eq(sshrpc_privkey_write_openssh(k, NULL, &text), SSHRPC_OK);
		at_write(path, sshrpc_buf_ptr(&text), sshrpc_buf_len(&text), 0600);
		cr_assert_eq(at_run("ssh-keygen -y -f %s > %s", path, out), 0, "type %zu", i);
		sshrpc_key *pub = at_load_pub(out);
		cr_assert(sshrpc_key_equal_public(k, pub));
		sshrpc_key_free(pub);
		sshrpc_key_free(k);
		sshrpc_buf_free(&text);
	}
	at_rmdir(dir);
}

Test(keys, public_key_forms_and_fingerprints)
{
	static const char *const types[] = { "ed25519", "rsa", "ecdsa" };
	char dir[64], path[128], pubp[160], rfc[160], fpfile[160];
	at_mkdtemp(dir, sizeof dir);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, types[i]);
		snprintf(pubp, sizeof pubp, "%s.pub", path);
		snprintf(rfc, sizeof rfc, "%s.rfc", path);
		snprintf(fpfile, sizeof fpfile, "%s.fp", path);
		cr_assert_eq(at_run("ssh-keygen -q -t %s -N '' -C 'c %s' -f %s", types[i], types[i], path), 0);
		cr_assert_eq(at_run("ssh-keygen -e -f %s > %s", pubp, rfc), 0);
		cr_assert_eq(at_run("ssh-keygen -l -E sha256 -f %s | cut -d' ' -f2 > %s", pubp, fpfile), 0);
		sshrpc_key *a = at_load_pub(pubp), *b = NULL;
		size_t n;
		uint8_t *d = at_read(rfc, &n);
		char comment[128];
		sshrpc_err err = fresh_err();
		cr_assert_eq(sshrpc_pubkey_parse(NULL, rfc, d, n, &b, comment, sizeof comment, &err), SSHRPC_OK, "%s",
			err.msg);
		cr_assert(sshrpc_key_equal_public(a, b));
		cr_assert(strstr(comment, "bit") != NULL || strstr(comment, "c ") != NULL, "comment '%s'", comment);
		free(d);
		/* Our fingerprint is ssh-keygen's. */
		char fp[80];
		cr_assert_eq(sshrpc_key_fingerprint(a, fp, sizeof fp), SSHRPC_OK);
		d = at_read(fpfile, &n);
		while (n > 0 && (d[n - 1] == '\n'))
			d[--n] = 0;
		cr_assert_str_eq(fp, (char *)d);
		free(d);
		/* Our one-line form reads back. */
		sshrpc_buf line;
		sshrpc_buf_init(&line, NULL, 0);
		cr_assert_eq(sshrpc_pubkey_format(a, "round trip", &line), SSHRPC_OK);
		sshrpc_key *c = NULL;
		cr_assert_eq(sshrpc_pubkey_parse(NULL, "line", sshrpc_buf_ptr(&line), sshrpc_buf_len(&line), &c,
				     comment, sizeof comment, &err),
			SSHRPC_OK);
		cr_assert(sshrpc_key_equal_public(a, c));
		cr_assert_str_eq(comment, "round trip");
		sshrpc_buf_free(&line);
		sshrpc_key_free(a);
		sshrpc_key_free(b);
		sshrpc_key_free(c);
	}
	at_rmdir(dir);
}

Test(keys, rfc4716_headers_and_continuations)
{
	char dir[64], path[128];
	at_mkdtemp(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/k", dir);
	cr_assert_eq(at_run("ssh-keygen -q -t ed25519 -N '' -f %s", path), 0);
	snprintf(path, sizeof path, "%s/k.pub", dir);
	sshrpc_key *a = at_load_pub(path);
	sshrpc_buf blob, b64;
	sshrpc_buf_init(&blob, NULL, 0);
	sshrpc_buf_init(&b64, NULL, 0);
	cr_assert_eq(sshrpc_key_to_blob(a, &blob), SSHRPC_OK);
	cr_assert_eq(sshrpc_base64_encode(sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), &b64), SSHRPC_OK);
	/* RFC 4716 §3.3: a quoted comment continued with a backslash, another
	 * header, the body split over lines. */
	char text[1024];
	int half = (int)sshrpc_buf_len(&b64) / 2;
	cr_assert_eq(sshrpc_buf_put_u8(&b64, 0), SSHRPC_OK);
	snprintf(text, sizeof text,
		"---- BEGIN SSH2 PUBLIC KEY ----\r\n"
		"Comment: \"a comment that is long enough to be con\\\r\n"
		"tinued on the next line\"\r\n"
		"x-Private: something\r\n"
		"%.*s\r\n%s\r\n"
		"---- END SSH2 PUBLIC KEY ----\r\n",
		half, (const char *)sshrpc_buf_ptr(&b64), (const char *)sshrpc_buf_ptr(&b64) + half);
	sshrpc_key *b = NULL;
	char comment[128];
	sshrpc_err err = fresh_err();
	sshrpc_buf_free(&b64);
	cr_assert_eq(sshrpc_pubkey_parse(
			     NULL, "rfc", (const uint8_t *)text, strlen(text), &b, comment, sizeof comment, &err),
		SSHRPC_OK, "%s", err.msg);
	cr_assert(sshrpc_key_equal_public(a, b));
	cr_assert_str_eq(comment, "a comment that is long enough to be continued on the next line");
	/* Without its END line it is truncated. */
	char *end = strstr(text, "---- END");
	*end = 0;
	sshrpc_key_free(b);
	b = NULL;
	err = fresh_err();
	cr_assert_neq(
		sshrpc_pubkey_parse(NULL, "rfc", (const uint8_t *)text, strlen(text), &b, NULL, 0, &err), SSHRPC_OK);
	cr_assert_str_eq(err.msg, "rfc: not a valid public key (truncated)");
	sshrpc_buf_free(&blob);
	sshrpc_key_free(a);
	at_rmdir(dir);
}

/* RFC 4648 §10 test vectors. */
Test(keys, base64_vectors)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < 7; i++) {
		sshrpc_buf b;
		sshrpc_buf_init(&b, NULL, 0);
		cr_assert_eq(sshrpc_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), &b), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_len(&b), strlen(enc[i]));
		cr_assert(strlen(enc[i]) == 0 || memcmp(sshrpc_buf_ptr(&b), enc[i], strlen(enc[i])) == 0);
		sshrpc_buf_reset(&b);
		cr_assert_eq(sshrpc_base64_decode(enc[i], strlen(enc[i]), &b), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_len(&b), strlen(plain[i]));
		cr_assert(strlen(plain[i]) == 0 || memcmp(sshrpc_buf_ptr(&b), plain[i], strlen(plain[i])) == 0);
		sshrpc_buf_free(&b);
	}
	static const char *const bad[] = { "Z", "Zg=", "Zg===", "Zm9v!", "Zg==Zg==", "Zh==", "=", "Zm9=" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sshrpc_buf b;
		sshrpc_buf_init(&b, NULL, 0);
		cr_assert_eq(sshrpc_base64_decode(bad[i], strlen(bad[i]), &b), SSHRPC_E_INVALID, "'%s'", bad[i]);
		cr_assert_eq(sshrpc_buf_len(&b), 0);
		sshrpc_buf_free(&b);
	}
	/* Unpadded and whitespace-split forms are accepted. */
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_base64_decode("Zm9v\nYm E", 9, &b), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_len(&b), 5);
	sshrpc_buf_free(&b);
}
