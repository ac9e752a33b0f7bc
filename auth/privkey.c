/* Private key files: openssh-key-v1 (PROTOCOL.key) read and written here,
 * PEM handed to crypto's decoders. Every error names the file and the
 * reason, since a user sees it as the one line that explains a refused
 * key (issue 4, "Clear errors"). */
#include "auth_internal.h"

#define OPENSSH_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----"
#define OPENSSH_END "-----END OPENSSH PRIVATE KEY-----"
/* PROTOCOL.key §1: the magic includes its terminating NUL. */
#define AUTH_MAGIC "openssh-key-v1"
#define AUTH_MAGIC_LEN 15
/* bcrypt rounds above this are refused: ssh-keygen uses 16 by default and
 * nobody waits for millions, but a corrupt file could ask for them. */
#define BCRYPT_ROUNDS_MAX 100000
#define SALT_MAX 64

static const char *find_mem(const char *h, size_t hn, const char *needle)
{
	size_t nn = strlen(needle);
	if (nn == 0 || hn < nn)
		return NULL;
	for (size_t i = 0; i + nn <= hn; i++)
		if (h[i] == needle[0] && memcmp(h + i, needle, nn) == 0)
			return h + i;
	return NULL;
}

sshrpc_keyfile_format sshrpc_privkey_format(const uint8_t *data, size_t len)
{
	const char *s = (const char *)data;
	if (find_mem(s, len, OPENSSH_BEGIN) != NULL)
		return SSHRPC_KEYFILE_OPENSSH;
	const char *b = find_mem(s, len, "-----BEGIN ");
	if (b != NULL) {
		size_t rest = len - (size_t)(b - s);
		const char *eol = memchr(b, '\n', rest);
		size_t ll = eol != NULL ? (size_t)(eol - b) : rest;
		if (find_mem(b, ll, "PRIVATE KEY-----") != NULL)
			return SSHRPC_KEYFILE_PEM;
	}
	return SSHRPC_KEYFILE_UNKNOWN;
}

/* The decoded binary of an openssh-key-v1 file. */
static int openssh_dearmour(const uint8_t *data, size_t len, sshrpc_buf *bin)
{
	const char *s = (const char *)data;
	const char *b = find_mem(s, len, OPENSSH_BEGIN);
	if (b == NULL)
		return SSHRPC_E_INVALID;
	b += strlen(OPENSSH_BEGIN);
	size_t rest = len - (size_t)(b - s);
	const char *e = find_mem(b, rest, OPENSSH_END);
	if (e == NULL)
		return SSHRPC_E_TRUNCATED;
	return sshrpc_base64_decode(b, (size_t)(e - b), bin);
}

/* The parsed outer structure (PROTOCOL.key §1); pointers into the binary. */
typedef struct openssh_file {
	const char *cipher;
	size_t cipher_len;
	const char *kdf;
	size_t kdf_len;
	const uint8_t *kdfopts;
	size_t kdfopts_len;
	const uint8_t *pub;
	size_t pub_len;
	const uint8_t *enc;
	size_t enc_len;
	const uint8_t *tag; /* GCM only */
} openssh_file;

static bool name_is(const char *p, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(p, s, n) == 0;
}

static int openssh_outer(const sshrpc_buf *bin, openssh_file *f, const char *name, sshrpc_err *err)
{
	sshrpc_reader r;
	sshrpc_buf_reader(bin, &r);
	const uint8_t *magic, *p;
	uint32_t nkeys;
	memset(f, 0, sizeof *f);
	if (sshrpc_rd_bytes(&r, AUTH_MAGIC_LEN, &magic) != SSHRPC_OK || memcmp(magic, AUTH_MAGIC, AUTH_MAGIC_LEN) != 0)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: no openssh-key-v1 magic", name);
	if (sshrpc_rd_string(&r, &p, &f->cipher_len) != SSHRPC_OK)
		goto truncated;
	f->cipher = (const char *)p;
	if (sshrpc_rd_string(&r, &p, &f->kdf_len) != SSHRPC_OK)
		goto truncated;
	f->kdf = (const char *)p;
	if (sshrpc_rd_string(&r, &f->kdfopts, &f->kdfopts_len) != SSHRPC_OK || sshrpc_rd_u32(&r, &nkeys) != SSHRPC_OK)
		goto truncated;
	/* OpenSSH writes and reads exactly one key per file. */
	if (nkeys != 1)
		return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "%s: %u keys in one file (only 1 is supported)",
			name, (unsigned)nkeys);
	if (sshrpc_rd_string(&r, &f->pub, &f->pub_len) != SSHRPC_OK)
		goto truncated;
	if (sshrpc_rd_string(&r, &f->enc, &f->enc_len) != SSHRPC_OK)
		goto truncated;
	if (name_is(f->cipher, f->cipher_len, "aes256-gcm@openssh.com")) {
		if (sshrpc_rd_bytes(&r, 16, &f->tag) != SSHRPC_OK)
			goto truncated;
	}
	if (sshrpc_rd_left(&r) != 0)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: trailing data", name);
	return SSHRPC_OK;
truncated:
	return sshrpc_err_set(err, SSHRPC_E_TRUNCATED, 0, "%s: corrupt key file: truncated", name);
}

static int parse_pub_blob(
	const sshrpc_alloc *a, const char *name, const uint8_t *blob, size_t len, sshrpc_key **out, sshrpc_err *err)
{
	const char *t;
	size_t tl;
	if (auth_blob_type(blob, len, &t, &tl) != SSHRPC_OK)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: bad public key", name);
	if (sshrpc_key_type_from_name(t, tl) == SSHRPC_KEY_UNKNOWN)
		return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "%s: unsupported key type %.*s", name,
			(int)(tl > 64 ? 64 : tl), t);
	int rc = sshrpc_key_from_blob(a, blob, len, out);
	if (rc == SSHRPC_E_UNSUPPORTED)
		return sshrpc_err_set(err, rc, 0, "%s: unsupported key type %.*s", name, (int)(tl > 64 ? 64 : tl), t);
	if (rc != SSHRPC_OK)
		return sshrpc_err_set(err, rc, 0, "%s: corrupt key file: bad public key", name);
	return SSHRPC_OK;
}

/* Decrypts the private section in place (sec holds a copy of it). */
static int openssh_decrypt(
	const openssh_file *f, const char *passphrase, sshrpc_buf *sec, const char *name, sshrpc_err *err)
{
	bool gcm = name_is(f->cipher, f->cipher_len, "aes256-gcm@openssh.com");
	const sshrpc_cipher_info *info = NULL;
	size_t key_len, iv_len, block;
	if (gcm) {
		key_len = 32;
		iv_len = 12;
		block = 16;
	} else {
		info = sshrpc_cipher_lookup(f->cipher, f->cipher_len);
		if (info == NULL || (info->kind != SSHRPC_CIPHER_CTR && info->kind != SSHRPC_CIPHER_CBC))
			return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "%s: unsupported cipher %.*s", name,
				(int)(f->cipher_len > 64 ? 64 : f->cipher_len), f->cipher);
		key_len = info->key_len;
		iv_len = info->iv_len;
		block = info->block_size;
	}
	if (!name_is(f->kdf, f->kdf_len, "bcrypt"))
		return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "%s: unsupported key derivation %.*s", name,
			(int)(f->kdf_len > 64 ? 64 : f->kdf_len), f->kdf);
	sshrpc_reader kr;
	const uint8_t *salt;
	size_t salt_len;
	uint32_t rounds;
	sshrpc_rd_init(&kr, f->kdfopts, f->kdfopts_len);
	if (sshrpc_rd_string(&kr, &salt, &salt_len) != SSHRPC_OK || sshrpc_rd_u32(&kr, &rounds) != SSHRPC_OK ||
		sshrpc_rd_end(&kr) != SSHRPC_OK || salt_len == 0 || salt_len > SALT_MAX)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: bad bcrypt options", name);
	if (rounds == 0 || rounds > BCRYPT_ROUNDS_MAX)
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: %u bcrypt rounds", name, (unsigned)rounds);
	if (f->enc_len % block != 0)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
			"%s: corrupt key file: private section not a multiple of the cipher block", name);
	if (passphrase == NULL || passphrase[0] == '\0')
		return sshrpc_err_set(err, SSHRPC_E_PASSPHRASE, 0, "%s: passphrase required", name);
	uint8_t kiv[64];
	int rc = sshrpc_bcrypt_pbkdf(passphrase, strlen(passphrase), salt, salt_len, kiv, key_len + iv_len, rounds);
	if (rc != SSHRPC_OK) {
		sshrpc_wipe(kiv, sizeof kiv);
		return sshrpc_err_set(err, rc, 0, "%s: bcrypt_pbkdf failed", name);
	}
	uint8_t *p = sshrpc_buf_ptr(sec);
	size_t n = sshrpc_buf_len(sec);
	if (gcm) {
		uint8_t tag[16];
		memcpy(tag, f->tag, 16);
		rc = sshrpc_aes_gcm_oneshot(kiv, 32, kiv + 32, NULL, 0, p, n, tag, SSHRPC_DECRYPT);
		if (rc == SSHRPC_E_MAC)
			rc = SSHRPC_E_PASSPHRASE;
	} else {
		sshrpc_cipher *c;
		rc = sshrpc_cipher_new(NULL, info, kiv, kiv + key_len, SSHRPC_DECRYPT, &c);
		if (rc == SSHRPC_OK) {
			if (n > 0)
				rc = sshrpc_cipher_crypt(c, p, n);
			sshrpc_cipher_free(c);
		}
	}
	sshrpc_wipe(kiv, sizeof kiv);
	if (rc == SSHRPC_E_PASSPHRASE)
		return sshrpc_err_set(err, rc, 0, "%s: wrong passphrase", name);
	if (rc != SSHRPC_OK)
		return sshrpc_err_set(err, rc, 0, "%s: decryption failed", name);
	return SSHRPC_OK;
}

static int openssh_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	const char *passphrase, sshrpc_key **out, char *comment, size_t comment_cap, sshrpc_err *err)
{
	sshrpc_buf bin, sec;
	sshrpc_buf_init(&bin, a, SSHRPC_KEYFILE_MAX);
	sshrpc_buf_set_secret(&bin);
	sshrpc_buf_init(&sec, a, SSHRPC_KEYFILE_MAX);
	sshrpc_buf_set_secret(&sec);
	sshrpc_key *pub = NULL, *key = NULL;
	openssh_file f;
	int rc = openssh_dearmour(data, len, &bin);
	if (rc != SSHRPC_OK) {
		rc = sshrpc_err_set(err, rc, 0, "%s: corrupt key file: %s", name,
			rc == SSHRPC_E_TRUNCATED ? "truncated (no END line)" : "bad base64");
		goto out;
	}
	if ((rc = openssh_outer(&bin, &f, name, err)) != SSHRPC_OK)
		goto out;
	if ((rc = parse_pub_blob(a, name, f.pub, f.pub_len, &pub, err)) != SSHRPC_OK)
		goto out;
	bool encrypted = !name_is(f.cipher, f.cipher_len, "none");
	if ((rc = sshrpc_buf_put(&sec, f.enc, f.enc_len)) != SSHRPC_OK) {
		rc = sshrpc_err_set(err, rc, 0, "%s: out of memory", name);
		goto out;
	}
	size_t block = 8;
	if (encrypted) {
		if ((rc = openssh_decrypt(&f, passphrase, &sec, name, err)) != SSHRPC_OK)
			goto out;
		block = 16;
		const sshrpc_cipher_info *info = sshrpc_cipher_lookup(f.cipher, f.cipher_len);
		if (info != NULL)
			block = info->block_size;
	} else if (!name_is(f.kdf, f.kdf_len, "none") || f.kdfopts_len != 0) {
		rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: cipher none with a KDF", name);
		goto out;
	}
	sshrpc_reader r;
	sshrpc_buf_reader(&sec, &r);
	uint32_t check1, check2;
	if (sshrpc_rd_u32(&r, &check1) != SSHRPC_OK || sshrpc_rd_u32(&r, &check2) != SSHRPC_OK) {
		rc = sshrpc_err_set(
			err, SSHRPC_E_TRUNCATED, 0, "%s: corrupt key file: truncated private section", name);
		goto out;
	}
	/* PROTOCOL.key §3: equal checkints show the decryption worked. For CTR
	 * and CBC a wrong passphrase shows up only here. */
	if (check1 != check2) {
		if (encrypted)
			rc = sshrpc_err_set(err, SSHRPC_E_PASSPHRASE, 0, "%s: wrong passphrase", name);
		else
			rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: check bytes differ", name);
		goto out;
	}
	const uint8_t *tp;
	size_t tl;
	if (sshrpc_rd_string(&r, &tp, &tl) != SSHRPC_OK) {
		rc = sshrpc_err_set(
			err, SSHRPC_E_TRUNCATED, 0, "%s: corrupt key file: truncated private section", name);
		goto out;
	}
	sshrpc_key_type kt = sshrpc_key_type_from_name((const char *)tp, tl);
	if (kt == SSHRPC_KEY_UNKNOWN) {
		rc = sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "%s: unsupported key type %.*s", name,
			(int)(tl > 64 ? 64 : tl), (const char *)tp);
		goto out;
	}
	rc = sshrpc_key_from_private(a, kt, &r, &key);
	if (rc != SSHRPC_OK) {
		rc = sshrpc_err_set(err, rc == SSHRPC_E_NOMEM ? rc : SSHRPC_E_INVALID, 0,
			"%s: corrupt key file: bad private key fields", name);
		goto out;
	}
	const uint8_t *cp;
	size_t cl;
	if (sshrpc_rd_string(&r, &cp, &cl) != SSHRPC_OK) {
		rc = sshrpc_err_set(
			err, SSHRPC_E_TRUNCATED, 0, "%s: corrupt key file: truncated private section", name);
		goto out;
	}
	/* Padding 1, 2, 3, ... up to the block size, nothing else. */
	size_t left = sshrpc_rd_left(&r);
	const uint8_t *pad;
	if (left >= block || sshrpc_rd_bytes(&r, left, &pad) != SSHRPC_OK) {
		rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: bad padding", name);
		goto out;
	}
	for (size_t i = 0; i < left; i++) {
		if (pad[i] != (uint8_t)(i + 1)) {
			rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: corrupt key file: bad padding", name);
			goto out;
		}
	}
	if (!sshrpc_key_equal_public(pub, key)) {
		rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
			"%s: corrupt key file: private key does not match its public key", name);
		goto out;
	}
	if (comment != NULL)
		auth_copy_text(comment, comment_cap, cp, cl, false);
	*out = key;
	key = NULL;
	rc = SSHRPC_OK;
out:
	sshrpc_key_free(key);
	sshrpc_key_free(pub);
	sshrpc_buf_free(&bin);
	sshrpc_buf_free(&sec);
	return rc;
}

bool sshrpc_privkey_is_encrypted(const uint8_t *data, size_t len)
{
	const char *s = (const char *)data;
	switch (sshrpc_privkey_format(data, len)) {
	case SSHRPC_KEYFILE_OPENSSH: {
		sshrpc_buf bin;
		openssh_file f;
		bool enc = false;
		sshrpc_buf_init(&bin, NULL, SSHRPC_KEYFILE_MAX);
		if (openssh_dearmour(data, len, &bin) == SSHRPC_OK && openssh_outer(&bin, &f, "", NULL) == SSHRPC_OK)
			enc = !name_is(f.cipher, f.cipher_len, "none");
		sshrpc_buf_free(&bin);
		return enc;
	}
	case SSHRPC_KEYFILE_PEM:
		return find_mem(s, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") != NULL ||
		       find_mem(s, len, "Proc-Type: 4,ENCRYPTED") != NULL;
	default:
		return false;
	}
}

int sshrpc_privkey_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	const char *passphrase, sshrpc_key **out, char *comment, size_t comment_cap, sshrpc_err *err)
{
	if (name == NULL)
		name = "private key";
	if (comment != NULL && comment_cap > 0)
		comment[0] = '\0';
	switch (sshrpc_privkey_format(data, len)) {
	case SSHRPC_KEYFILE_OPENSSH:
		return openssh_parse(a, name, data, len, passphrase, out, comment, comment_cap, err);
	case SSHRPC_KEYFILE_PEM: {
		bool enc = sshrpc_privkey_is_encrypted(data, len);
		if (enc && (passphrase == NULL || passphrase[0] == '\0'))
			return sshrpc_err_set(err, SSHRPC_E_PASSPHRASE, 0, "%s: passphrase required", name);
		int rc = sshrpc_key_from_pem(a, data, len, enc ? passphrase : NULL, out);
		if (rc == SSHRPC_OK)
			return rc;
		if (rc == SSHRPC_E_PASSPHRASE)
			return sshrpc_err_set(
				err, rc, 0, "%s: %s", name, enc ? "wrong passphrase" : "passphrase required");
		if (rc == SSHRPC_E_UNSUPPORTED)
			return sshrpc_err_set(err, rc, 0, "%s: unsupported key type", name);
		if (rc == SSHRPC_E_NOMEM)
			return sshrpc_err_set(err, rc, 0, "%s: out of memory", name);
		return sshrpc_err_set(err, rc, 0, "%s: corrupt or truncated PEM key file", name);
	}
	default: {
		/* A public key given where a private one belongs is a common slip. */
		const char *s = (const char *)data;
		size_t i = 0;
		while (i < len && (auth_is_blank(s[i]) || s[i] == '\n' || s[i] == '\r'))
			i++;
		if (find_mem(s + i, len - i < 40 ? len - i : 40, "ssh-") == s + i ||
			find_mem(s + i, len - i < 40 ? len - i : 40, "ecdsa-") == s + i ||
			find_mem(s, len, "BEGIN SSH2 PUBLIC KEY") != NULL)
			return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: a public key, not a private key", name);
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: not a private key file (unknown format)", name);
	}
	}
}

int sshrpc_privkey_public(
	const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len, sshrpc_key **out, sshrpc_err *err)
{
	if (name == NULL)
		name = "private key";
	if (sshrpc_privkey_format(data, len) == SSHRPC_KEYFILE_PEM) {
		if (sshrpc_privkey_is_encrypted(data, len))
			return sshrpc_err_set(err, SSHRPC_E_PASSPHRASE, 0,
				"%s: encrypted PEM key: its public half needs the passphrase or a .pub file", name);
		return sshrpc_privkey_parse(a, name, data, len, NULL, out, NULL, 0, err);
	}
	if (sshrpc_privkey_format(data, len) != SSHRPC_KEYFILE_OPENSSH)
		return sshrpc_privkey_parse(a, name, data, len, NULL, out, NULL, 0, err);
	sshrpc_buf bin;
	openssh_file f;
	sshrpc_buf_init(&bin, a, SSHRPC_KEYFILE_MAX);
	int rc = openssh_dearmour(data, len, &bin);
	if (rc != SSHRPC_OK)
		rc = sshrpc_err_set(err, rc, 0, "%s: corrupt key file: %s", name,
			rc == SSHRPC_E_TRUNCATED ? "truncated (no END line)" : "bad base64");
	if (rc == SSHRPC_OK)
		rc = openssh_outer(&bin, &f, name, err);
	if (rc == SSHRPC_OK)
		rc = parse_pub_blob(a, name, f.pub, f.pub_len, out, err);
	sshrpc_buf_free(&bin);
	return rc;
}

int sshrpc_privkey_write_openssh(const sshrpc_key *k, const char *comment, sshrpc_buf *out)
{
	sshrpc_buf bin, sec;
	sshrpc_buf_init(&bin, NULL, SSHRPC_KEYFILE_MAX);
	sshrpc_buf_set_secret(&bin);
	sshrpc_buf_init(&sec, NULL, SSHRPC_KEYFILE_MAX);
	sshrpc_buf_set_secret(&sec);
	uint32_t check;
	int rc = sshrpc_key_has_private(k) ? SSHRPC_OK : SSHRPC_E_INVALID;
	if (comment == NULL)
		comment = "";
	size_t mark;
	if (rc == SSHRPC_OK)
		rc = sshrpc_random(&check, sizeof check);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(&bin, AUTH_MAGIC, AUTH_MAGIC_LEN);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&bin, "none");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&bin, "none");
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(&bin, NULL, 0);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&bin, 1);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_string_begin(&bin, &mark);
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_to_blob(k, &bin);
	if (rc == SSHRPC_OK)
		sshrpc_buf_string_end(&bin, mark);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&sec, check);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(&sec, check);
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_to_private(k, &sec);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_cstring(&sec, comment);
	/* PROTOCOL.key §3: pad with 1, 2, 3, ... to the block size (8 for
	 * "none"). */
	for (uint8_t i = 1; rc == SSHRPC_OK && sshrpc_buf_len(&sec) % 8 != 0; i++)
		rc = sshrpc_buf_put_u8(&sec, i);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(&bin, sshrpc_buf_ptr(&sec), sshrpc_buf_len(&sec));
	sshrpc_buf text;
	sshrpc_buf_init(&text, NULL, SSHRPC_KEYFILE_MAX);
	sshrpc_buf_set_secret(&text);
	if (rc == SSHRPC_OK)
		rc = sshrpc_base64_encode(sshrpc_buf_ptr(&bin), sshrpc_buf_len(&bin), &text);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(out, OPENSSH_BEGIN "\n", strlen(OPENSSH_BEGIN) + 1);
	/* ssh-keygen wraps the base64 at 70 columns. */
	for (size_t off = 0; rc == SSHRPC_OK && off < sshrpc_buf_len(&text); off += 70) {
		size_t n = sshrpc_buf_len(&text) - off < 70 ? sshrpc_buf_len(&text) - off : 70;
		rc = sshrpc_buf_put(out, sshrpc_buf_ptr(&text) + off, n);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_u8(out, '\n');
	}
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(out, OPENSSH_END "\n", strlen(OPENSSH_END) + 1);
	sshrpc_buf_free(&text);
	sshrpc_buf_free(&bin);
	sshrpc_buf_free(&sec);
	return rc;
}
