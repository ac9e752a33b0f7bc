/* Algorithm tables of the transport (kex methods, host key algorithms; the
 * ciphers and MACs come from crypto/), the default lists, and the
 * OpenSSH-style list resolver the programs use for Ciphers=, MACs=,
 * KexAlgorithms= and HostKeyAlgorithms= (ssh_config(5)). */
#include <string.h>

#include "sshrpc_config.h"
#include "transport/internal.h"

/* Our order of preference, OpenSSH 9's order minus the PQ hybrids. */
static const tr_kex_method kex_methods[] = {
	{ "curve25519-sha256", TR_KEX_ECDH, SSHRPC_KEX_X25519, 0, SSHRPC_HASH_SHA256, false },
	{ "curve25519-sha256@libssh.org", TR_KEX_ECDH, SSHRPC_KEX_X25519, 0, SSHRPC_HASH_SHA256, false },
	{ "ecdh-sha2-nistp256", TR_KEX_ECDH, SSHRPC_KEX_P256, 0, SSHRPC_HASH_SHA256, false },
	{ "ecdh-sha2-nistp384", TR_KEX_ECDH, SSHRPC_KEX_P384, 0, SSHRPC_HASH_SHA384, false },
	{ "ecdh-sha2-nistp521", TR_KEX_ECDH, SSHRPC_KEX_P521, 0, SSHRPC_HASH_SHA512, false },
#if SSHRPC_WITH_DH
	{ "diffie-hellman-group-exchange-sha256", TR_KEX_GEX, SSHRPC_KEX_DH, 0, SSHRPC_HASH_SHA256, false },
	{ "diffie-hellman-group16-sha512", TR_KEX_DH, SSHRPC_KEX_DH, 16, SSHRPC_HASH_SHA512, false },
	{ "diffie-hellman-group18-sha512", TR_KEX_DH, SSHRPC_KEX_DH, 18, SSHRPC_HASH_SHA512, false },
	{ "diffie-hellman-group14-sha256", TR_KEX_DH, SSHRPC_KEX_DH, 14, SSHRPC_HASH_SHA256, false },
#if SSHRPC_WITH_LEGACY
	/* SHA-1 exchange hashes: RFC 9142 §4 "SHOULD NOT"/"MUST NOT"; built so
	 * that conformance testers can reach them, never offered unless named.
	 * group1 is Oakley group 2 (RFC 4253 §8.1). */
	{ "diffie-hellman-group14-sha1", TR_KEX_DH, SSHRPC_KEX_DH, 14, SSHRPC_HASH_SHA1, true },
	{ "diffie-hellman-group1-sha1", TR_KEX_DH, SSHRPC_KEX_DH, 2, SSHRPC_HASH_SHA1, true },
	{ "diffie-hellman-group-exchange-sha1", TR_KEX_GEX, SSHRPC_KEX_DH, 0, SSHRPC_HASH_SHA1, true },
#endif
#endif
};

static const tr_hostkey_alg hostkey_algs[] = {
	{ "ssh-ed25519", SSHRPC_KEY_ED25519, false }, { "ecdsa-sha2-nistp256", SSHRPC_KEY_ECDSA_P256, false },
	{ "ecdsa-sha2-nistp384", SSHRPC_KEY_ECDSA_P384, false },
	{ "ecdsa-sha2-nistp521", SSHRPC_KEY_ECDSA_P521, false },
#if SSHRPC_WITH_RSA
	{ "rsa-sha2-512", SSHRPC_KEY_RSA, false }, { "rsa-sha2-256", SSHRPC_KEY_RSA, false },
#if SSHRPC_WITH_LEGACY
	{ "ssh-rsa", SSHRPC_KEY_RSA, true }, /* SHA-1 signatures: RFC 8332 §5 */
#endif
#endif
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool name_is(const char *a, const char *b, size_t blen)
{
	return strlen(a) == blen && memcmp(a, b, blen) == 0;
}

const tr_kex_method *sshrpc_tr_kex_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < COUNT(kex_methods); i++)
		if (name_is(kex_methods[i].name, name, len))
			return &kex_methods[i];
	return NULL;
}

const tr_hostkey_alg *sshrpc_tr_hostkey_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < COUNT(hostkey_algs); i++)
		if (name_is(hostkey_algs[i].name, name, len))
			return &hostkey_algs[i];
	return NULL;
}

bool sshrpc_tr_kex_pseudo(const char *name, size_t len)
{
	static const char *const pseudo[] = { "ext-info-c", "ext-info-s", "kex-strict-c", "kex-strict-s",
		"kex-strict-c-v00@openssh.com", "kex-strict-s-v00@openssh.com" };
	for (size_t i = 0; i < COUNT(pseudo); i++)
		if (name_is(pseudo[i], name, len))
			return true;
	return false;
}

/* One entry of a kind's table, uniformly: name and legacy flag. A cipher
 * of kind none and a MAC named "none" are left out: "none" is only the
 * state before the first NEWKEYS, never negotiated. */
static bool alg_at(sshrpc_alg_kind kind, size_t i, const char **name, bool *legacy)
{
	size_t n;
	switch (kind) {
	case SSHRPC_ALG_KEX:
		if (i >= COUNT(kex_methods))
			return false;
		*name = kex_methods[i].name;
		*legacy = kex_methods[i].legacy;
		return true;
	case SSHRPC_ALG_HOSTKEY:
		if (i >= COUNT(hostkey_algs))
			return false;
		*name = hostkey_algs[i].name;
		*legacy = hostkey_algs[i].legacy;
		return true;
	case SSHRPC_ALG_CIPHER: {
		const sshrpc_cipher_info *const *all = sshrpc_cipher_all(&n);
		if (i >= n)
			return false;
		*name = all[i]->kind == SSHRPC_CIPHER_NONE ? NULL : all[i]->name;
		*legacy = all[i]->legacy;
		return true;
	}
	case SSHRPC_ALG_MAC: {
		const sshrpc_mac_info *const *all = sshrpc_mac_all(&n);
		if (i >= n)
			return false;
		*name = strcmp(all[i]->name, "none") == 0 ? NULL : all[i]->name;
		*legacy = all[i]->legacy;
		return true;
	}
	}
	return false;
}

static bool alg_known(sshrpc_alg_kind kind, const char *name, size_t len)
{
	const char *n;
	bool legacy;
	for (size_t i = 0; alg_at(kind, i, &n, &legacy); i++)
		if (n != NULL && name_is(n, name, len))
			return true;
	return false;
}

static const char *kind_name(sshrpc_alg_kind kind)
{
	switch (kind) {
	case SSHRPC_ALG_KEX:
		return "key exchange algorithm";
	case SSHRPC_ALG_HOSTKEY:
		return "host key algorithm";
	case SSHRPC_ALG_CIPHER:
		return "cipher";
	case SSHRPC_ALG_MAC:
		return "MAC";
	}
	return "algorithm";
}

/* Appends ",name" (or "name") to out; false when it does not fit. */
static bool list_add(char *out, size_t cap, size_t *used, const char *name, size_t len)
{
	size_t need = len + (*used > 0 ? 1 : 0);
	if (*used + need + 1 > cap)
		return false;
	if (*used > 0)
		out[(*used)++] = ',';
	memcpy(out + *used, name, len);
	*used += len;
	out[*used] = '\0';
	return true;
}

static const char *list_of(sshrpc_alg_kind kind, bool with_legacy, char *out, size_t cap)
{
	size_t used = 0;
	const char *n;
	bool legacy;
	if (cap == 0)
		return NULL;
	out[0] = '\0';
	for (size_t i = 0; alg_at(kind, i, &n, &legacy); i++) {
		if (n == NULL || (legacy && !with_legacy))
			continue;
		if (!list_add(out, cap, &used, n, strlen(n)))
			return NULL;
	}
	return out;
}

const char *sshrpc_algs_all(sshrpc_alg_kind kind, char *out, size_t cap)
{
	return list_of(kind, true, out, cap);
}

const char *sshrpc_algs_default(sshrpc_alg_kind kind, char *out, size_t cap)
{
	return list_of(kind, false, out, cap);
}

int sshrpc_tr_list_check(sshrpc_alg_kind kind, const char *list, sshrpc_err *err)
{
	size_t len = strlen(list), pos = 0, nlen;
	const char *name;
	if (len == 0 || sshrpc_namelist_check(list, len) != SSHRPC_OK)
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "%s list '%.80s' is not a valid name-list", kind_name(kind), list);
	while (sshrpc_namelist_next(list, len, &pos, &name, &nlen)) {
		if (!alg_known(kind, name, nlen))
			return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "unsupported %s '%.*s'", kind_name(kind),
				(int)nlen, name);
	}
	return SSHRPC_OK;
}

/* fnmatch-like matching with * and ? (OpenSSH's match_pattern), no '!'. */
static bool glob_match(const char *s, size_t slen, const char *p, size_t plen)
{
	size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;
	while (si < slen) {
		if (pi < plen && (p[pi] == '?' || p[pi] == s[si])) {
			si++;
			pi++;
		} else if (pi < plen && p[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (star_p != SIZE_MAX) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

static bool is_pattern(const char *p, size_t len)
{
	return memchr(p, '*', len) != NULL || memchr(p, '?', len) != NULL;
}

/* true when name matches some entry (name or pattern) of the spec list. */
static bool spec_matches(const char *spec, size_t slen, const char *name, size_t nlen)
{
	size_t pos = 0;
	while (pos <= slen) {
		const char *e = memchr(spec + pos, ',', slen - pos);
		size_t end = e != NULL ? (size_t)(e - spec) : slen;
		if (end > pos && glob_match(name, nlen, spec + pos, end - pos))
			return true;
		if (e == NULL)
			break;
		pos = end + 1;
	}
	return false;
}

static bool in_list(const char *list, size_t used, const char *name, size_t nlen)
{
	return used > 0 && sshrpc_namelist_has(list, used, name, nlen);
}

/* Appends each entry of spec, patterns expanded over every built name,
 * skipping names already present. */
static int add_expanded(
	sshrpc_alg_kind kind, const char *spec, size_t slen, char *out, size_t cap, size_t *used, sshrpc_err *err)
{
	size_t pos = 0;
	while (pos <= slen) {
		const char *e = memchr(spec + pos, ',', slen - pos);
		size_t end = e != NULL ? (size_t)(e - spec) : slen;
		const char *item = spec + pos;
		size_t ilen = end - pos;
		if (ilen == 0)
			return sshrpc_err_set(
				err, SSHRPC_E_INVALID, 0, "empty name in %s list '%.80s'", kind_name(kind), spec);
		if (is_pattern(item, ilen)) {
			const char *n;
			bool legacy, any = false;
			for (size_t i = 0; alg_at(kind, i, &n, &legacy); i++) {
				if (n == NULL || !glob_match(n, strlen(n), item, ilen))
					continue;
				any = true;
				if (!in_list(out, *used, n, strlen(n)) && !list_add(out, cap, used, n, strlen(n)))
					return sshrpc_err_set(
						err, SSHRPC_E_TOO_LARGE, 0, "%s list too long", kind_name(kind));
			}
			if (!any)
				return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "pattern '%.*s' matches no %s",
					(int)ilen, item, kind_name(kind));
		} else {
			if (!alg_known(kind, item, ilen))
				return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "unsupported %s '%.*s'",
					kind_name(kind), (int)ilen, item);
			if (!in_list(out, *used, item, ilen) && !list_add(out, cap, used, item, ilen))
				return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "%s list too long", kind_name(kind));
		}
		if (e == NULL)
			break;
		pos = end + 1;
	}
	return SSHRPC_OK;
}

int sshrpc_algs_resolve(sshrpc_alg_kind kind, const char *spec, char *out, size_t cap, sshrpc_err *err)
{
	char def[1024];
	size_t used = 0;
	int rc;
	if (cap == 0)
		return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "no room for the %s list", kind_name(kind));
	out[0] = '\0';
	if (sshrpc_algs_default(kind, def, sizeof def) == NULL)
		return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "default %s list too long", kind_name(kind));
	char op = spec[0];
	const char *body = spec;
	if (op == '+' || op == '-' || op == '^')
		body++;
	size_t blen = strlen(body);
	if (blen == 0)
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "empty %s list", kind_name(kind));

	size_t dlen = strlen(def), pos = 0, nlen;
	const char *name;
	switch (op) {
	case '+':
		if (!list_add(out, cap, &used, def, dlen))
			return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "%s list too long", kind_name(kind));
		rc = add_expanded(kind, body, blen, out, cap, &used, err);
		break;
	case '^':
		rc = add_expanded(kind, body, blen, out, cap, &used, err);
		while (rc == SSHRPC_OK && sshrpc_namelist_next(def, dlen, &pos, &name, &nlen))
			if (!in_list(out, used, name, nlen) && !list_add(out, cap, &used, name, nlen))
				rc = sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "%s list too long", kind_name(kind));
		break;
	case '-': {
		/* Names given exactly must exist, so typos do not pass silently. */
		size_t p2 = 0;
		while (p2 <= blen) {
			const char *e = memchr(body + p2, ',', blen - p2);
			size_t end = e != NULL ? (size_t)(e - body) : blen;
			if (end == p2)
				return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "empty name in %s list '%.80s'",
					kind_name(kind), spec);
			if (!is_pattern(body + p2, end - p2) && !alg_known(kind, body + p2, end - p2))
				return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0, "unsupported %s '%.*s'",
					kind_name(kind), (int)(end - p2), body + p2);
			if (e == NULL)
				break;
			p2 = end + 1;
		}
		rc = SSHRPC_OK;
		while (sshrpc_namelist_next(def, dlen, &pos, &name, &nlen))
			if (!spec_matches(body, blen, name, nlen) && !list_add(out, cap, &used, name, nlen))
				return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0, "%s list too long", kind_name(kind));
		break;
	}
	default:
		rc = add_expanded(kind, body, blen, out, cap, &used, err);
		break;
	}
	if (rc != SSHRPC_OK)
		return rc;
	if (used == 0)
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "%s list '%.80s' leaves no algorithm", kind_name(kind), spec);
	return SSHRPC_OK;
}

/* ---- RekeyLimit (ssh_config(5)) ------------------------------------------ */

static int parse_scaled(const char *s, size_t len, const char *units, const uint64_t *scale, uint64_t *v)
{
	uint64_t x = 0;
	size_t i = 0;
	if (len == 0)
		return SSHRPC_E_INVALID;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (x > (UINT64_MAX - 9) / 10)
			return SSHRPC_E_TOO_LARGE;
		x = x * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	if (i == 0)
		return SSHRPC_E_INVALID;
	uint64_t mul = 1;
	if (i < len) {
		const char *u = i + 1 == len ? strchr(units, s[i]) : NULL;
		if (u == NULL || s[i] == '\0')
			return SSHRPC_E_INVALID;
		mul = scale[u - units];
	}
	if (mul != 0 && x > UINT64_MAX / mul)
		return SSHRPC_E_TOO_LARGE;
	*v = x * mul;
	return SSHRPC_OK;
}

int sshrpc_rekey_limit_parse(const char *s, uint64_t *bytes, uint64_t *interval_ms, sshrpc_err *err)
{
	static const uint64_t size_scale[] = { 1024ull, 1024ull, 1024ull * 1024, 1024ull * 1024, 1024ull * 1024 * 1024,
		1024ull * 1024 * 1024 };
	static const uint64_t time_scale[] = { 1000ull, 1000ull, 60000ull, 60000ull, 3600000ull, 3600000ull,
		86400000ull, 86400000ull, 604800000ull, 604800000ull };
	const char *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *e = p;
	while (*e != '\0' && *e != ' ' && *e != '\t')
		e++;
	size_t len = (size_t)(e - p);
	uint64_t b = 0, ms = 0;
	if (len == 7 && memcmp(p, "default", 7) == 0) {
		b = 0;
	} else if (len == 4 && memcmp(p, "none", 4) == 0) {
		b = SSHRPC_REKEY_NEVER;
	} else if (parse_scaled(p, len, "kKmMgG", size_scale, &b) != SSHRPC_OK) {
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "RekeyLimit: bad size '%.*s'", (int)len, p);
	} else if (b < 16) {
		/* OpenSSH refuses sizes under 16 bytes too: each packet would rekey. */
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "RekeyLimit: size %llu is too small", (unsigned long long)b);
	}
	p = e;
	while (*p == ' ' || *p == '\t')
		p++;
	e = p;
	while (*e != '\0' && *e != ' ' && *e != '\t')
		e++;
	len = (size_t)(e - p);
	if (len == 0 || (len == 7 && memcmp(p, "default", 7) == 0)) {
		ms = 0;
	} else if (len == 4 && memcmp(p, "none", 4) == 0) {
		ms = SSHRPC_REKEY_NEVER;
	} else if (parse_scaled(p, len, "sSmMhHdDwW", time_scale, &ms) != SSHRPC_OK) {
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "RekeyLimit: bad time '%.*s'", (int)len, p);
	} else if (ms == 0) {
		ms = SSHRPC_REKEY_NEVER;
	} else if (strspn(p, "0123456789") == len) {
		ms *= 1000; /* a bare number is seconds */
	}
	while (*e == ' ' || *e == '\t')
		e++;
	if (*e != '\0')
		return sshrpc_err_set(err, SSHRPC_E_INVALID, 0, "RekeyLimit: unexpected '%s'", e);
	*bytes = b;
	*interval_ms = ms;
	return SSHRPC_OK;
}
