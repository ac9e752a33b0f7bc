#include "asym_util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;
	for (; *hex; hex++) {
		if (isspace((unsigned char)*hex))
			continue;
		int v = isdigit((unsigned char)*hex) ? *hex - '0' : (tolower((unsigned char)*hex) - 'a' + 10);
		if (hi < 0) {
			hi = v;
		} else {
			if (n < cap)
				out[n] = (uint8_t)(hi << 4 | v);
			n++;
			hi = -1;
		}
	}
	return n;
}

uint8_t *tu_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	size_t cap = 4096, n = 0;
	uint8_t *p = malloc(cap);
	size_t r;
	while ((r = fread(p + n, 1, cap - n - 1, f)) > 0) {
		n += r;
		if (cap - n - 1 == 0)
			p = realloc(p, cap *= 2);
	}
	fclose(f);
	p[n] = 0;
	*len = n;
	return p;
}

bool tu_write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (f == NULL)
		return false;
	bool ok = fwrite(p, 1, n, f) == n;
	return fclose(f) == 0 && ok;
}

const char *tu_data(const char *name)
{
	static char buf[4096];
	const char *root = getenv("SSHRPC_SOURCE_ROOT");
	snprintf(buf, sizeof buf, "%s/tests/crypto/data/%s", root != NULL ? root : ".", name);
	return buf;
}

uint8_t *tu_b64_decode(const char *s, size_t n, size_t *out_len)
{
	char *clean = malloc(n + 1);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (!isspace((unsigned char)s[i]))
			clean[m++] = s[i];
	uint8_t *out = malloc(m / 4 * 3 + 3);
	int r = m > 0 ? EVP_DecodeBlock(out, (const unsigned char *)clean, (int)m) : 0;
	if (r < 0) {
		free(clean);
		free(out);
		return NULL;
	}
	size_t len = (size_t)r;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	if (m >= 1 && clean[m - 1] == '=')
		len--;
	if (m >= 2 && clean[m - 2] == '=')
		len--;
	free(clean);
	*out_len = len;
	return out;
}

char *tu_b64_encode(const uint8_t *p, size_t n)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	return out;
}

int tu_run(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int st = system(cmd);
	return st;
}

char *tu_tmpdir(void)
{
	char tmpl[] = "/tmp/sshrpc-casym-XXXXXX";
	char *d = mkdtemp(tmpl);
	return d != NULL ? strdup(d) : NULL;
}

void tu_rmdir(char *dir)
{
	if (dir == NULL)
		return;
	tu_run("rm -rf '%s'", dir);
	free(dir);
}

uint8_t *tu_pub_blob(const char *path, size_t *len)
{
	size_t n;
	char *text = (char *)tu_read_file(path, &n);
	if (text == NULL)
		return NULL;
	char *sp = strchr(text, ' ');
	uint8_t *blob = NULL;
	if (sp != NULL) {
		char *b64 = sp + 1;
		char *end = b64;
		while (*end && !isspace((unsigned char)*end))
			end++;
		blob = tu_b64_decode(b64, (size_t)(end - b64), len);
	}
	free(text);
	return blob;
}

static bool rd_cstr(sshrpc_reader *r, char *out, size_t cap)
{
	return sshrpc_rd_cstring(r, out, cap) == SSHRPC_OK;
}

bool tu_osshkey_parse(const char *path, tu_osshkey *k)
{
	memset(k, 0, sizeof *k);
	size_t n;
	char *text = (char *)tu_read_file(path, &n);
	if (text == NULL)
		return false;
	const char *begin = strstr(text, "-----BEGIN OPENSSH PRIVATE KEY-----");
	const char *end = strstr(text, "-----END OPENSSH PRIVATE KEY-----");
	if (begin == NULL || end == NULL) {
		free(text);
		return false;
	}
	begin += strlen("-----BEGIN OPENSSH PRIVATE KEY-----");
	k->raw = tu_b64_decode(begin, (size_t)(end - begin), &k->raw_len);
	free(text);
	if (k->raw == NULL)
		return false;
	static const char magic[] = "openssh-key-v1";
	if (k->raw_len < sizeof magic || memcmp(k->raw, magic, sizeof magic) != 0)
		return false;
	sshrpc_reader r, opts;
	uint32_t nkeys;
	sshrpc_rd_init(&r, k->raw + sizeof magic, k->raw_len - sizeof magic);
	if (!rd_cstr(&r, k->cipher, sizeof k->cipher) || !rd_cstr(&r, k->kdf, sizeof k->kdf) ||
		sshrpc_rd_sub(&r, &opts) != SSHRPC_OK || sshrpc_rd_u32(&r, &nkeys) != SSHRPC_OK || nkeys != 1 ||
		sshrpc_rd_string(&r, &k->pub, &k->pub_len) != SSHRPC_OK ||
		sshrpc_rd_string(&r, &k->priv, &k->priv_len) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return false;
	if (strcmp(k->kdf, "bcrypt") == 0) {
		if (sshrpc_rd_string(&opts, &k->salt, &k->salt_len) != SSHRPC_OK ||
			sshrpc_rd_u32(&opts, &k->rounds) != SSHRPC_OK || sshrpc_rd_end(&opts) != SSHRPC_OK)
			return false;
	}
	return true;
}

void tu_osshkey_free(tu_osshkey *k)
{
	free(k->raw);
	memset(k, 0, sizeof *k);
}

int tu_osshkey_private(const uint8_t *plain, size_t len, sshrpc_key **out)
{
	sshrpc_reader r;
	uint32_t c1, c2;
	char type[64];
	sshrpc_rd_init(&r, plain, len);
	if (sshrpc_rd_u32(&r, &c1) != SSHRPC_OK || sshrpc_rd_u32(&r, &c2) != SSHRPC_OK || c1 != c2)
		return SSHRPC_E_PASSPHRASE;
	if (sshrpc_rd_cstring(&r, type, sizeof type) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	sshrpc_key_type t = sshrpc_key_type_from_name(type, strlen(type));
	int rc = sshrpc_key_from_private(NULL, t, &r, out);
	if (rc != SSHRPC_OK)
		return rc;
	/* string comment, then padding 1, 2, 3, ... */
	const uint8_t *c;
	size_t cl;
	rc = sshrpc_rd_string(&r, &c, &cl) == SSHRPC_OK ? SSHRPC_OK : SSHRPC_E_INVALID;
	for (uint8_t i = 1; rc == SSHRPC_OK && sshrpc_rd_left(&r) > 0; i++) {
		uint8_t b;
		if (sshrpc_rd_u8(&r, &b) != SSHRPC_OK || b != i)
			rc = SSHRPC_E_INVALID;
	}
	if (rc != SSHRPC_OK) {
		sshrpc_key_free(*out);
		*out = NULL;
	}
	return rc;
}
