/* known_hosts (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"): host patterns or a
 * hashed name ("|1|" base64 salt "|" base64 HMAC-SHA1(salt, name)), a key,
 * an optional @revoked marker; "[host]:port" names a non-default port. The
 * check and StrictHostKeyChecking follow ssh(1) and ssh_config(5). */
#include "auth_internal.h"

#define HASH_MAGIC "|1|"
#define SHA1_LEN 20

typedef struct kh_entry {
	unsigned line;
	bool revoked;
	bool hashed;
	char *hosts; /* pattern list, when not hashed */
	uint8_t salt[SHA1_LEN];
	uint8_t hash[SHA1_LEN];
	sshrpc_key *key;
} kh_entry;

struct sshrpc_known_hosts {
	const sshrpc_alloc *alloc;
	kh_entry *e;
	size_t n, cap;
};

void sshrpc_known_hosts_free(sshrpc_known_hosts *kh)
{
	if (kh == NULL)
		return;
	for (size_t i = 0; i < kh->n; i++) {
		auth_strfree(kh->alloc, kh->e[i].hosts);
		sshrpc_key_free(kh->e[i].key);
	}
	sshrpc_free(kh->alloc, kh->e, kh->cap * sizeof *kh->e);
	sshrpc_free(kh->alloc, kh, sizeof *kh);
}

static int decode_exact(const char *s, size_t n, uint8_t *out, size_t want)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 256);
	int rc = sshrpc_base64_decode(s, n, &b);
	if (rc == SSHRPC_OK && sshrpc_buf_len(&b) != want)
		rc = SSHRPC_E_INVALID;
	if (rc == SSHRPC_OK)
		memcpy(out, sshrpc_buf_ptr(&b), want);
	sshrpc_buf_free(&b);
	return rc;
}

/* Parses one non-comment line; *why says what was wrong. */
static int parse_line(const sshrpc_alloc *a, const char *l, size_t ll, kh_entry *e, const char **why)
{
	size_t i = 0;
	while (i < ll && auth_is_blank(l[i]))
		i++;
	if (l[i] == '@') {
		size_t m = i;
		while (i < ll && !auth_is_blank(l[i]))
			i++;
		if (i - m == 8 && memcmp(l + m, "@revoked", 8) == 0) {
			e->revoked = true;
		} else if (i - m == 15 && memcmp(l + m, "@cert-authority", 15) == 0) {
			*why = "@cert-authority is not supported (certificates are not implemented)";
			return SSHRPC_E_UNSUPPORTED;
		} else {
			*why = "unknown marker";
			return SSHRPC_E_INVALID;
		}
		while (i < ll && auth_is_blank(l[i]))
			i++;
	}
	size_t h0 = i;
	while (i < ll && !auth_is_blank(l[i]))
		i++;
	size_t h1 = i;
	if (h1 == h0) {
		*why = "no host names";
		return SSHRPC_E_INVALID;
	}
	if (h1 - h0 > 3 && memcmp(l + h0, HASH_MAGIC, 3) == 0) {
		const char *salt = l + h0 + 3;
		const char *bar = memchr(salt, '|', h1 - h0 - 3);
		if (bar == NULL || decode_exact(salt, (size_t)(bar - salt), e->salt, SHA1_LEN) != SSHRPC_OK ||
			decode_exact(bar + 1, (size_t)(l + h1 - bar - 1), e->hash, SHA1_LEN) != SSHRPC_OK) {
			*why = "bad hashed host name";
			return SSHRPC_E_INVALID;
		}
		e->hashed = true;
	} else {
		if (l[h0] == '|') {
			*why = "unknown host name hash type";
			return SSHRPC_E_INVALID;
		}
		e->hosts = auth_strndup(a, l + h0, h1 - h0);
		if (e->hosts == NULL)
			return SSHRPC_E_NOMEM;
	}
	while (i < ll && auth_is_blank(l[i]))
		i++;
	int rc = sshrpc_pubkey_parse_line(a, l + i, ll - i, &e->key, NULL, NULL);
	if (rc == SSHRPC_E_UNSUPPORTED)
		*why = "unsupported key type";
	else if (rc != SSHRPC_OK && rc != SSHRPC_E_NOMEM)
		*why = "not a valid public key";
	return rc;
}

int sshrpc_known_hosts_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len,
	sshrpc_log_fn log, void *log_ud, sshrpc_known_hosts **out)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	if (name == NULL)
		name = "known_hosts";
	sshrpc_known_hosts *kh = sshrpc_calloc(a, sizeof *kh);
	if (kh == NULL)
		return SSHRPC_E_NOMEM;
	kh->alloc = a;
	const char *s = (const char *)data;
	size_t i = 0;
	unsigned lineno = 0;
	const char *l;
	size_t ll;
	while (auth_next_line(s, len, &i, &lineno, &l, &ll)) {
		kh_entry e;
		memset(&e, 0, sizeof e);
		e.line = lineno;
		const char *why = "malformed";
		int rc = memchr(l, '\0', ll) != NULL ? SSHRPC_E_INVALID : parse_line(a, l, ll, &e, &why);
		if (rc == SSHRPC_OK && kh->n == kh->cap) {
			size_t ncap = kh->cap == 0 ? 8 : kh->cap * 2;
			kh_entry *ne = sshrpc_realloc(a, kh->e, kh->cap * sizeof *ne, ncap * sizeof *ne);
			if (ne == NULL) {
				rc = SSHRPC_E_NOMEM;
			} else {
				kh->e = ne;
				kh->cap = ncap;
			}
		}
		if (rc == SSHRPC_OK) {
			kh->e[kh->n++] = e;
			continue;
		}
		auth_strfree(a, e.hosts);
		sshrpc_key_free(e.key);
		if (rc == SSHRPC_E_NOMEM) {
			sshrpc_known_hosts_free(kh);
			return rc;
		}
		auth_logf(log, log_ud, rc == SSHRPC_E_UNSUPPORTED ? SSHRPC_LOG_INFO : SSHRPC_LOG_ERROR,
			"%s:%u: %s; line skipped", name, lineno, why);
	}
	*out = kh;
	return SSHRPC_OK;
}

/* The name entries are matched against: "host", or "[host]:port" when the
 * port is not 22; lower-cased, as ssh(1) does before hashing. */
static int lookup_name(const char *host, unsigned port, char *out, size_t cap)
{
	int n = port == 22 || port == 0 ? snprintf(out, cap, "%s", host) : snprintf(out, cap, "[%s]:%u", host, port);
	if (n < 0 || (size_t)n >= cap)
		return SSHRPC_E_TOO_LARGE;
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return SSHRPC_OK;
}

static bool entry_matches(const kh_entry *e, const char *name)
{
	if (e->hashed) {
		uint8_t mac[SSHRPC_HASH_MAX];
		if (sshrpc_hmac(SSHRPC_HASH_SHA1, e->salt, SHA1_LEN, name, strlen(name), mac) != SSHRPC_OK)
			return false;
		return sshrpc_ct_memcmp(mac, e->hash, SHA1_LEN) == 0;
	}
	return sshrpc_match_list(name, strlen(name), e->hosts, strlen(e->hosts), true) == 1;
}

sshrpc_hostkey_status sshrpc_known_hosts_check(
	const sshrpc_known_hosts *kh, const char *host, unsigned port, const sshrpc_key *key, unsigned *line)
{
	char name[512];
	unsigned ok_line = 0, changed_line = 0;
	if (line != NULL)
		*line = 0;
	if (kh == NULL || lookup_name(host, port, name, sizeof name) != SSHRPC_OK)
		return SSHRPC_HOSTKEY_UNKNOWN;
	for (size_t i = 0; i < kh->n; i++) {
		const kh_entry *e = &kh->e[i];
		/* A revoked key is refused whatever host line it is on. */
		if (e->revoked) {
			if (sshrpc_key_equal_public(e->key, key)) {
				if (line != NULL)
					*line = e->line;
				return SSHRPC_HOSTKEY_REVOKED;
			}
			continue;
		}
		if (!entry_matches(e, name))
			continue;
		if (sshrpc_key_equal_public(e->key, key)) {
			if (ok_line == 0)
				ok_line = e->line;
		} else if (sshrpc_key_get_type(e->key) == sshrpc_key_get_type(key) && changed_line == 0) {
			changed_line = e->line;
		}
	}
	if (ok_line != 0) {
		if (line != NULL)
			*line = ok_line;
		return SSHRPC_HOSTKEY_OK;
	}
	if (changed_line != 0) {
		if (line != NULL)
			*line = changed_line;
		return SSHRPC_HOSTKEY_CHANGED;
	}
	return SSHRPC_HOSTKEY_UNKNOWN;
}

int sshrpc_known_hosts_decide(sshrpc_hostkey_status st, sshrpc_strict_hostkey mode, const char *host, unsigned port,
	bool *add, sshrpc_err *err)
{
	*add = false;
	switch (st) {
	case SSHRPC_HOSTKEY_OK:
		return SSHRPC_OK;
	case SSHRPC_HOSTKEY_REVOKED:
		return sshrpc_err_set(err, SSHRPC_E_HOSTKEY, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
			"host key for %s port %u is marked @revoked", host, port);
	case SSHRPC_HOSTKEY_CHANGED:
		if (mode == SSHRPC_STRICT_NO)
			return SSHRPC_OK; /* ssh(1) goes on with a warning; nothing is added */
		return sshrpc_err_set(err, SSHRPC_E_HOSTKEY, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
			"host key for %s port %u has changed (possible man-in-the-middle attack); "
			"remove the old key from known_hosts to accept the new one",
			host, port);
	case SSHRPC_HOSTKEY_UNKNOWN:
	default:
		if (mode == SSHRPC_STRICT_YES)
			return sshrpc_err_set(err, SSHRPC_E_HOSTKEY, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
				"no host key is known for %s port %u and StrictHostKeyChecking is yes", host, port);
		*add = true;
		return SSHRPC_OK;
	}
}

int sshrpc_strict_hostkey_parse(const char *s, sshrpc_strict_hostkey *mode)
{
	if (strcmp(s, "yes") == 0 || strcmp(s, "true") == 0)
		*mode = SSHRPC_STRICT_YES;
	else if (strcmp(s, "accept-new") == 0)
		*mode = SSHRPC_STRICT_ACCEPT_NEW;
	else if (strcmp(s, "no") == 0 || strcmp(s, "off") == 0 || strcmp(s, "false") == 0)
		*mode = SSHRPC_STRICT_NO;
	else
		return SSHRPC_E_INVALID;
	return SSHRPC_OK;
}

int sshrpc_known_hosts_line(const char *host, unsigned port, const sshrpc_key *key, bool hashed, sshrpc_buf *out)
{
	char name[512];
	int rc;
	if (hashed) {
		rc = lookup_name(host, port, name, sizeof name);
		uint8_t salt[SHA1_LEN], mac[SSHRPC_HASH_MAX];
		if (rc == SSHRPC_OK)
			rc = sshrpc_random(salt, sizeof salt);
		if (rc == SSHRPC_OK)
			rc = sshrpc_hmac(SSHRPC_HASH_SHA1, salt, sizeof salt, name, strlen(name), mac);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put(out, HASH_MAGIC, 3);
		if (rc == SSHRPC_OK)
			rc = sshrpc_base64_encode(salt, sizeof salt, out);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_u8(out, '|');
		if (rc == SSHRPC_OK)
			rc = sshrpc_base64_encode(mac, SHA1_LEN, out);
	} else {
		/* Lower-cased, as ssh(1) writes it. */
		rc = lookup_name(host, port, name, sizeof name);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put(out, name, strlen(name));
	}
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u8(out, ' ');
	if (rc == SSHRPC_OK)
		rc = sshrpc_pubkey_format(key, NULL, out);
	return rc;
}
