/* Public keys as text: OpenSSH's one-line form ("type base64 comment",
 * sshd(8) AUTHORIZED_KEYS and ssh-keygen's .pub files), RFC 4716's
 * "---- BEGIN SSH2 PUBLIC KEY ----" block, and SHA-256 fingerprints. */
#include "auth_internal.h"

int sshrpc_key_fingerprint(const sshrpc_key *k, char *out, size_t cap)
{
	sshrpc_buf blob, text;
	uint8_t digest[SSHRPC_HASH_MAX];
	sshrpc_buf_init(&blob, NULL, 0);
	sshrpc_buf_init(&text, NULL, 0);
	int rc = sshrpc_key_to_blob(k, &blob);
	if (rc == SSHRPC_OK)
		rc = sshrpc_hash(SSHRPC_HASH_SHA256, sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), digest);
	if (rc == SSHRPC_OK)
		rc = sshrpc_base64_encode(digest, 32, &text);
	if (rc == SSHRPC_OK) {
		/* ssh-keygen prints the SHA-256 fingerprint without padding. */
		size_t n = sshrpc_buf_len(&text);
		while (n > 0 && sshrpc_buf_ptr(&text)[n - 1] == '=')
			n--;
		if (cap < 8 + n)
			rc = SSHRPC_E_TOO_LARGE;
		else
			snprintf(out, cap, "SHA256:%.*s", (int)n, (const char *)sshrpc_buf_ptr(&text));
	}
	sshrpc_buf_free(&blob);
	sshrpc_buf_free(&text);
	return rc;
}

/* Decodes base64 text into a key, checking that the blob's own type name
 * is type_word when that is given. */
static int key_from_b64(
	const sshrpc_alloc *a, const char *b64, size_t n, const char *type_word, size_t type_len, sshrpc_key **out)
{
	sshrpc_buf blob;
	sshrpc_buf_init(&blob, a, SSHRPC_KEYFILE_MAX);
	int rc = sshrpc_base64_decode(b64, n, &blob);
	const char *name;
	size_t name_len;
	if (rc == SSHRPC_OK)
		rc = auth_blob_type(sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), &name, &name_len);
	if (rc == SSHRPC_OK && type_word != NULL && (name_len != type_len || memcmp(name, type_word, type_len) != 0))
		rc = SSHRPC_E_INVALID;
	if (rc == SSHRPC_OK && sshrpc_key_type_from_name(name, name_len) == SSHRPC_KEY_UNKNOWN)
		rc = SSHRPC_E_UNSUPPORTED;
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_from_blob(a, sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), out);
	sshrpc_buf_free(&blob);
	return rc;
}

int sshrpc_pubkey_parse_line(
	const sshrpc_alloc *a, const char *line, size_t len, sshrpc_key **out, const char **rest, size_t *rest_len)
{
	size_t i = 0;
	while (i < len && auth_is_blank(line[i]))
		i++;
	size_t t0 = i;
	while (i < len && !auth_is_blank(line[i]))
		i++;
	size_t t1 = i;
	while (i < len && auth_is_blank(line[i]))
		i++;
	size_t b0 = i;
	while (i < len && !auth_is_blank(line[i]) && line[i] != '\r' && line[i] != '\n')
		i++;
	size_t b1 = i;
	if (t1 == t0 || b1 == b0)
		return SSHRPC_E_INVALID;
	/* Unknown type words (certificates, security keys, DSA) are reported as
	 * unsupported before the blob is even decoded. */
	if (sshrpc_key_type_from_name(line + t0, t1 - t0) == SSHRPC_KEY_UNKNOWN)
		return SSHRPC_E_UNSUPPORTED;
	int rc = key_from_b64(a, line + b0, b1 - b0, line + t0, t1 - t0, out);
	if (rc != SSHRPC_OK)
		return rc;
	while (i < len && auth_is_blank(line[i]))
		i++;
	size_t end = len;
	while (end > i && (line[end - 1] == '\r' || line[end - 1] == '\n' || auth_is_blank(line[end - 1])))
		end--;
	if (rest != NULL) {
		*rest = line + i;
		*rest_len = end - i;
	}
	return SSHRPC_OK;
}

static bool starts_with(const char *p, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);
	return n >= k && memcmp(p, prefix, k) == 0;
}

/* RFC 4716 §3: BEGIN line, header lines "Tag: value" (a trailing backslash
 * continues a header on the next line), base64 body, END line. */
static int parse_rfc4716(
	const sshrpc_alloc *a, const char *s, size_t n, sshrpc_key **out, char *comment, size_t comment_cap)
{
	sshrpc_buf body, text;
	sshrpc_buf_init(&body, a, SSHRPC_KEYFILE_MAX);
	sshrpc_buf_init(&text, a, SSHRPC_KEYFILE_MAX);
	bool in_block = false, ended = false, in_header = true, continued = false, comment_cont = false;
	size_t comment_len = 0;
	int rc = SSHRPC_OK;
	size_t i = 0;
	if (comment != NULL && comment_cap > 0)
		comment[0] = '\0';
	while (i < n && rc == SSHRPC_OK && !ended) {
		size_t j = i;
		while (j < n && s[j] != '\n')
			j++;
		const char *l = s + i;
		size_t ll = j - i;
		if (ll > 0 && l[ll - 1] == '\r')
			ll--;
		i = j + 1;
		if (!in_block) {
			if (starts_with(l, ll, "---- BEGIN SSH2 PUBLIC KEY ----"))
				in_block = true;
			else if (ll > 0)
				rc = SSHRPC_E_INVALID;
			continue;
		}
		if (starts_with(l, ll, "---- END SSH2 PUBLIC KEY ----")) {
			ended = true;
			break;
		}
		if (in_header && (continued || memchr(l, ':', ll) != NULL)) {
			/* A header line (or the continuation of one). */
			bool cont_next = ll > 0 && l[ll - 1] == '\\';
			size_t vlen = cont_next ? ll - 1 : ll;
			const char *v = l;
			if (!continued) {
				const char *colon = memchr(l, ':', ll);
				size_t tag_len = (size_t)(colon - l);
				bool is_comment =
					tag_len == 7 && (memcmp(l, "Comment", 7) == 0 || memcmp(l, "comment", 7) == 0);
				v = colon + 1;
				vlen -= tag_len + 1;
				while (vlen > 0 && auth_is_blank(*v)) {
					v++;
					vlen--;
				}
				comment_cont = is_comment;
			}
			if (comment_cont && comment != NULL && comment_cap > 0) {
				size_t room = comment_cap - 1 - comment_len;
				size_t k = vlen < room ? vlen : room;
				memcpy(comment + comment_len, v, k);
				comment_len += k;
				comment[comment_len] = '\0';
			}
			continued = cont_next;
			continue;
		}
		in_header = false;
		/* Lines split the base64 anywhere: decode it whole. */
		rc = sshrpc_buf_put(&text, l, ll);
	}
	if (rc == SSHRPC_OK && !ended)
		rc = SSHRPC_E_TRUNCATED;
	if (rc == SSHRPC_OK)
		rc = sshrpc_base64_decode((const char *)sshrpc_buf_ptr(&text), sshrpc_buf_len(&text), &body);
	sshrpc_buf_free(&text);
	/* A quoted comment value keeps its quotes in the file; strip them. */
	if (comment != NULL && comment_len >= 2 && comment[0] == '"' && comment[comment_len - 1] == '"') {
		memmove(comment, comment + 1, comment_len - 2);
		comment[comment_len - 2] = '\0';
	}
	const char *name;
	size_t name_len;
	if (rc == SSHRPC_OK)
		rc = auth_blob_type(sshrpc_buf_ptr(&body), sshrpc_buf_len(&body), &name, &name_len);
	if (rc == SSHRPC_OK && sshrpc_key_type_from_name(name, name_len) == SSHRPC_KEY_UNKNOWN)
		rc = SSHRPC_E_UNSUPPORTED;
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_from_blob(a, sshrpc_buf_ptr(&body), sshrpc_buf_len(&body), out);
	sshrpc_buf_free(&body);
	return rc;
}

int sshrpc_pubkey_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len, sshrpc_key **out,
	char *comment, size_t comment_cap, sshrpc_err *err)
{
	const char *s = (const char *)data;
	if (name == NULL)
		name = "public key";
	/* Skip blank lines and # comments to the first meaningful line. */
	size_t i = 0;
	for (;;) {
		while (i < len && (auth_is_blank(s[i]) || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i < len && s[i] == '#') {
			while (i < len && s[i] != '\n')
				i++;
			continue;
		}
		break;
	}
	if (i == len)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "%s: no public key in file", name);
	int rc;
	if (starts_with(s + i, len - i, "---- BEGIN SSH2 PUBLIC KEY ----")) {
		rc = parse_rfc4716(a, s + i, len - i, out, comment, comment_cap);
	} else {
		size_t j = i;
		while (j < len && s[j] != '\n')
			j++;
		const char *rest;
		size_t rest_len;
		rc = sshrpc_pubkey_parse_line(a, s + i, j - i, out, &rest, &rest_len);
		if (rc == SSHRPC_OK && comment != NULL)
			auth_copy_text(comment, comment_cap, (const uint8_t *)rest, rest_len, false);
	}
	if (rc == SSHRPC_E_UNSUPPORTED)
		return sshrpc_err_set(err, rc, 0, "%s: unsupported key type", name);
	if (rc == SSHRPC_E_NOMEM)
		return sshrpc_err_set(err, rc, 0, "%s: out of memory", name);
	if (rc != SSHRPC_OK)
		return sshrpc_err_set(err, rc, 0, "%s: not a valid public key (%s)", name,
			rc == SSHRPC_E_TRUNCATED ? "truncated" : "corrupt");
	return SSHRPC_OK;
}

int sshrpc_pubkey_format(const sshrpc_key *k, const char *comment, sshrpc_buf *out)
{
	sshrpc_buf blob;
	sshrpc_buf_init(&blob, NULL, 0);
	const char *type = sshrpc_key_type_name(sshrpc_key_get_type(k));
	int rc = type != NULL ? SSHRPC_OK : SSHRPC_E_UNSUPPORTED;
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_to_blob(k, &blob);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(out, type, strlen(type));
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u8(out, ' ');
	if (rc == SSHRPC_OK)
		rc = sshrpc_base64_encode(sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), out);
	if (rc == SSHRPC_OK && comment != NULL && comment[0] != '\0') {
		rc = sshrpc_buf_put_u8(out, ' ');
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put(out, comment, strlen(comment));
	}
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u8(out, '\n');
	sshrpc_buf_free(&blob);
	return rc;
}
