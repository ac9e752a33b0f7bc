/* authorized_keys (sshd(8), "AUTHORIZED_KEYS FILE FORMAT"): one key per
 * line, optionally preceded by comma-separated options, with our own
 * rpc-allow= / rpc-deny= (interface.md, "Access control") among them. The
 * whole file is read: a bad line is skipped with a warning naming file and
 * line, and never hides the lines after it. */
#include <stdlib.h>

#include "auth_internal.h"

struct sshrpc_authkeys {
	const sshrpc_alloc *alloc;
	sshrpc_authkeys_entry **entries;
	size_t n, cap;
};

/* ---- entries ------------------------------------------------------------ */

static void free_list(const sshrpc_alloc *a, const char **list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		auth_strfree(a, (char *)list[i]);
	sshrpc_free(a, list, n * sizeof *list);
}

void sshrpc_authkeys_entry_free(const sshrpc_alloc *a, sshrpc_authkeys_entry *e)
{
	if (e == NULL)
		return;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_key_free(e->key);
	auth_strfree(a, (char *)e->comment);
	sshrpc_authkeys_opts *o = &e->opts;
	auth_strfree(a, (char *)o->command);
	auth_strfree(a, (char *)o->from);
	auth_strfree(a, (char *)o->tunnel);
	auth_strfree(a, (char *)o->principals);
	auth_strfree(a, (char *)o->rpc_allow);
	auth_strfree(a, (char *)o->rpc_deny);
	free_list(a, o->environment, o->n_environment);
	free_list(a, o->permitopen, o->n_permitopen);
	free_list(a, o->permitlisten, o->n_permitlisten);
	sshrpc_free(a, e, sizeof *e);
}

static int dup_str(const sshrpc_alloc *a, const char *s, const char **out)
{
	*out = NULL;
	if (s == NULL)
		return SSHRPC_OK;
	*out = auth_strndup(a, s, strlen(s));
	return *out != NULL ? SSHRPC_OK : SSHRPC_E_NOMEM;
}

static int dup_list(const sshrpc_alloc *a, const char **src, size_t n, const char ***out)
{
	*out = NULL;
	if (n == 0)
		return SSHRPC_OK;
	const char **l = sshrpc_calloc(a, n * sizeof *l);
	if (l == NULL)
		return SSHRPC_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (dup_str(a, src[i], &l[i]) != SSHRPC_OK) {
			free_list(a, l, n);
			return SSHRPC_E_NOMEM;
		}
	}
	*out = l;
	return SSHRPC_OK;
}

int sshrpc_authkeys_entry_copy(const sshrpc_alloc *a, const sshrpc_authkeys_entry *e, sshrpc_authkeys_entry **out)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_authkeys_entry *c = sshrpc_calloc(a, sizeof *c);
	if (c == NULL)
		return SSHRPC_E_NOMEM;
	const sshrpc_authkeys_opts *o = &e->opts;
	sshrpc_authkeys_opts *co = &c->opts;
	/* Scalars first; every pointer is replaced below before any failure
	 * can reach the free. */
	c->line = e->line;
	*co = *o;
	co->command = co->from = co->tunnel = co->principals = co->rpc_allow = co->rpc_deny = NULL;
	co->environment = co->permitopen = co->permitlisten = NULL;
	co->n_environment = co->n_permitopen = co->n_permitlisten = 0;
	int rc = SSHRPC_OK;
	sshrpc_buf blob;
	sshrpc_buf_init(&blob, a, 0);
	rc = sshrpc_key_to_blob(e->key, &blob);
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_from_blob(a, sshrpc_buf_ptr(&blob), sshrpc_buf_len(&blob), &c->key);
	sshrpc_buf_free(&blob);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, e->comment != NULL ? e->comment : "", &c->comment);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, o->command, &co->command);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, o->from, &co->from);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, o->tunnel, &co->tunnel);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, o->principals, &co->principals);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, o->rpc_allow, &co->rpc_allow);
	if (rc == SSHRPC_OK)
		rc = dup_str(a, o->rpc_deny, &co->rpc_deny);
	if (rc == SSHRPC_OK && (rc = dup_list(a, o->environment, o->n_environment, &co->environment)) == SSHRPC_OK)
		co->n_environment = o->n_environment;
	if (rc == SSHRPC_OK && (rc = dup_list(a, o->permitopen, o->n_permitopen, &co->permitopen)) == SSHRPC_OK)
		co->n_permitopen = o->n_permitopen;
	if (rc == SSHRPC_OK && (rc = dup_list(a, o->permitlisten, o->n_permitlisten, &co->permitlisten)) == SSHRPC_OK)
		co->n_permitlisten = o->n_permitlisten;
	if (rc != SSHRPC_OK) {
		sshrpc_authkeys_entry_free(a, c);
		return rc;
	}
	*out = c;
	return SSHRPC_OK;
}

/* ---- options --------------------------------------------------------------- */

/* The parse of one line, with the reason when it fails. */
typedef struct line_parse {
	const sshrpc_alloc *a;
	sshrpc_authkeys_entry *e;
	char why[160];
	bool unsupported; /* skipped for lack of support, not malformed */
} line_parse;

static int fail(line_parse *lp, const char *fmt, ...) SSHRPC_PRINTF(2, 3);
static int fail(line_parse *lp, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lp->why, sizeof lp->why, fmt, ap);
	va_end(ap);
	return SSHRPC_E_INVALID;
}

static bool word_eq(const char *p, size_t n, const char *w)
{
	size_t k = strlen(w);
	if (n != k)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != w[i])
			return false;
	}
	return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* expiry-time="YYYYMMDD[HHMM[SS]][Z]" (sshd(8)). */
static int parse_expiry(line_parse *lp, const char *v)
{
	size_t n = strlen(v);
	bool utc = n > 0 && (v[n - 1] == 'Z' || v[n - 1] == 'z');
	if (utc)
		n--;
	if (n != 8 && n != 12 && n != 14)
		return fail(lp, "bad expiry-time \"%s\"", v);
	for (size_t i = 0; i < n; i++)
		if (v[i] < '0' || v[i] > '9')
			return fail(lp, "bad expiry-time \"%s\"", v);
	unsigned f[7] = { 0 };
	/* year (4 digits), month, day, hour, minute, second */
	f[0] = (unsigned)((v[0] - '0') * 1000 + (v[1] - '0') * 100 + (v[2] - '0') * 10 + (v[3] - '0'));
	for (size_t k = 1; 2 * k + 4 <= n; k++)
		f[k] = (unsigned)((v[2 * k + 2] - '0') * 10 + (v[2 * k + 3] - '0'));
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > mdays[f[1] - 1] || f[3] > 23 || f[4] > 59 ||
		f[5] > 59)
		return fail(lp, "bad expiry-time \"%s\"", v);
	int64_t days = days_from_civil(f[0], f[1], f[2]);
	lp->e->opts.expiry_time = (uint64_t)(days * 86400 + f[3] * 3600 + f[4] * 60 + f[5]);
	lp->e->opts.has_expiry = true;
	lp->e->opts.expiry_local = !utc;
	return SSHRPC_OK;
}

static int push(line_parse *lp, const char ***list, size_t *n, const char *v)
{
	const char **nl = sshrpc_realloc(lp->a, *list, *n * sizeof **list, (*n + 1) * sizeof **list);
	if (nl == NULL)
		return SSHRPC_E_NOMEM;
	*list = nl;
	nl[*n] = auth_strndup(lp->a, v, strlen(v));
	if (nl[*n] == NULL)
		return SSHRPC_E_NOMEM;
	(*n)++;
	return SSHRPC_OK;
}

static int set_once(line_parse *lp, const char **slot, const char *name, const char *v)
{
	if (*slot != NULL)
		return fail(lp, "option %s given twice", name);
	*slot = auth_strndup(lp->a, v, strlen(v));
	return *slot != NULL ? SSHRPC_OK : SSHRPC_E_NOMEM;
}

static void set_restrict(sshrpc_authkeys_opts *o)
{
	o->restrict_all = true;
	o->no_pty = o->no_port_forwarding = o->no_agent_forwarding = o->no_x11_forwarding = o->no_user_rc = true;
}

/* One option; v is the dequoted value or NULL for a flag. */
static int apply_option(line_parse *lp, const char *name, size_t nlen, const char *v)
{
	sshrpc_authkeys_opts *o = &lp->e->opts;
	static const struct {
		const char *name;
		int what; /* 0: sets a no-* flag, 1: clears it */
		size_t off;
	} flags[] = {
		{ "no-pty", 0, offsetof(sshrpc_authkeys_opts, no_pty) },
		{ "pty", 1, offsetof(sshrpc_authkeys_opts, no_pty) },
		{ "no-port-forwarding", 0, offsetof(sshrpc_authkeys_opts, no_port_forwarding) },
		{ "port-forwarding", 1, offsetof(sshrpc_authkeys_opts, no_port_forwarding) },
		{ "no-agent-forwarding", 0, offsetof(sshrpc_authkeys_opts, no_agent_forwarding) },
		{ "agent-forwarding", 1, offsetof(sshrpc_authkeys_opts, no_agent_forwarding) },
		{ "no-x11-forwarding", 0, offsetof(sshrpc_authkeys_opts, no_x11_forwarding) },
		{ "x11-forwarding", 1, offsetof(sshrpc_authkeys_opts, no_x11_forwarding) },
		{ "no-user-rc", 0, offsetof(sshrpc_authkeys_opts, no_user_rc) },
		{ "user-rc", 1, offsetof(sshrpc_authkeys_opts, no_user_rc) },
		{ "no-touch-required", 0, offsetof(sshrpc_authkeys_opts, no_touch_required) },
		{ "verify-required", 0, offsetof(sshrpc_authkeys_opts, verify_required) },
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (!word_eq(name, nlen, flags[i].name))
			continue;
		if (v != NULL)
			return fail(lp, "option %s takes no value", flags[i].name);
		bool *flag = (bool *)((char *)o + flags[i].off);
		*flag = flags[i].what == 0;
		return SSHRPC_OK;
	}
	if (word_eq(name, nlen, "restrict")) {
		if (v != NULL)
			return fail(lp, "option restrict takes no value");
		set_restrict(o);
		return SSHRPC_OK;
	}
	if (word_eq(name, nlen, "cert-authority")) {
		lp->unsupported = true;
		return fail(lp, "cert-authority is not supported (certificates are not implemented)");
	}
	static const char *const valued[] = { "command", "environment", "expiry-time", "from", "permitopen",
		"permitlisten", "principals", "tunnel", "rpc-allow", "rpc-deny" };
	size_t which = sizeof valued / sizeof valued[0];
	for (size_t i = 0; i < sizeof valued / sizeof valued[0]; i++)
		if (word_eq(name, nlen, valued[i]))
			which = i;
	if (which == sizeof valued / sizeof valued[0])
		return fail(lp, "bad option '%.*s'", (int)(nlen > 40 ? 40 : nlen), name);
	if (v == NULL)
		return fail(lp, "option %s needs a value", valued[which]);
	switch (which) {
	case 0:
		return set_once(lp, &o->command, "command", v);
	case 1:
		/* sshd(8): "NAME=value"; the name may not be empty. */
		if (strchr(v, '=') == NULL || v[0] == '=')
			return fail(lp, "bad environment \"%s\" (NAME=value expected)", v);
		return push(lp, &o->environment, &o->n_environment, v);
	case 2:
		if (o->has_expiry)
			return fail(lp, "option expiry-time given twice");
		return parse_expiry(lp, v);
	case 3:
		return set_once(lp, &o->from, "from", v);
	case 4:
	case 5: {
		const char *colon = strrchr(v, ':');
		if (colon == NULL || colon == v || colon[1] == '\0')
			return fail(lp, "bad %s \"%s\" (host:port expected)", valued[which], v);
		if (which == 4)
			return push(lp, &o->permitopen, &o->n_permitopen, v);
		return push(lp, &o->permitlisten, &o->n_permitlisten, v);
	}
	case 6:
		return set_once(lp, &o->principals, "principals", v);
	case 7:
		return set_once(lp, &o->tunnel, "tunnel", v);
	case 8:
		return set_once(lp, &o->rpc_allow, "rpc-allow", v);
	default:
		return set_once(lp, &o->rpc_deny, "rpc-deny", v);
	}
}

/* Parses the option string at *p (up to the first unquoted blank). A value
 * is a double-quoted string in which \" stands for a quote (sshd(8)). */
static int parse_options(line_parse *lp, const char *s, size_t len, size_t *pos)
{
	size_t i = *pos;
	char *val = NULL;
	size_t val_cap = 0;
	int rc = SSHRPC_OK;
	for (;;) {
		size_t n0 = i;
		while (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
					  (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_'))
			i++;
		if (i == n0) {
			rc = fail(lp, "bad option syntax at column %zu", i + 1);
			break;
		}
		const char *name = s + n0;
		size_t nlen = i - n0;
		const char *v = NULL;
		if (i < len && s[i] == '=') {
			i++;
			if (i >= len || s[i] != '"') {
				rc = fail(lp, "option %.*s: value must be in double quotes",
					(int)(nlen > 40 ? 40 : nlen), name);
				break;
			}
			i++;
			size_t start = i, need = 0;
			while (i < len && s[i] != '"') {
				if (s[i] == '\\' && i + 1 < len && s[i + 1] == '"')
					i++;
				i++;
				need++;
			}
			if (i >= len) {
				rc = fail(lp, "option %.*s: unterminated quoted value", (int)(nlen > 40 ? 40 : nlen),
					name);
				break;
			}
			if (need + 1 > val_cap) {
				char *nv = sshrpc_realloc(lp->a, val, val_cap, need + 1);
				if (nv == NULL) {
					rc = SSHRPC_E_NOMEM;
					break;
				}
				val = nv;
				val_cap = need + 1;
			}
			size_t o = 0;
			for (size_t k = start; k < i; k++) {
				if (s[k] == '\\' && k + 1 < i && s[k + 1] == '"')
					k++;
				val[o++] = s[k];
			}
			val[o] = '\0';
			if (memchr(s + start, '\0', i - start) != NULL) {
				rc = fail(lp, "option value contains a NUL byte");
				break;
			}
			v = val;
			i++; /* closing quote */
		}
		rc = apply_option(lp, name, nlen, v);
		if (rc != SSHRPC_OK)
			break;
		if (i < len && s[i] == ',') {
			i++;
			continue;
		}
		if (i < len && !auth_is_blank(s[i])) {
			rc = fail(lp, "bad option syntax at column %zu", i + 1);
			break;
		}
		break;
	}
	if (val != NULL)
		sshrpc_free_secret(lp->a, val, val_cap);
	*pos = i;
	return rc;
}

/* Whether the first word names a key type (known to us or not): then the
 * line has no options. Options never start with these prefixes. */
static bool looks_like_key_type(const char *w, size_t n)
{
	if (sshrpc_key_type_from_name(w, n) != SSHRPC_KEY_UNKNOWN)
		return true;
	static const char *const prefixes[] = { "ssh-", "ecdsa-", "sk-", "rsa-", "x509v3-" };
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t k = strlen(prefixes[i]);
		if (n > k && memcmp(w, prefixes[i], k) == 0 && memchr(w, '=', n) == NULL && memchr(w, '"', n) == NULL)
			return true;
	}
	return false;
}

static int parse_line(line_parse *lp, const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && auth_is_blank(s[i]))
		i++;
	size_t w = i;
	while (w < len && !auth_is_blank(s[w]))
		w++;
	int rc;
	if (!looks_like_key_type(s + i, w - i)) {
		rc = parse_options(lp, s, len, &i);
		if (rc != SSHRPC_OK)
			return rc;
		while (i < len && auth_is_blank(s[i]))
			i++;
		if (i == len)
			return fail(lp, "options but no key");
	}
	const char *rest;
	size_t rest_len;
	size_t t = i;
	while (t < len && !auth_is_blank(s[t]))
		t++;
	rc = sshrpc_pubkey_parse_line(lp->a, s + i, len - i, &lp->e->key, &rest, &rest_len);
	if (rc == SSHRPC_E_UNSUPPORTED) {
		lp->unsupported = true;
		return fail(lp, "unsupported key type %.*s", (int)(t - i > 48 ? 48 : t - i), s + i);
	}
	if (rc == SSHRPC_E_NOMEM)
		return rc;
	if (rc != SSHRPC_OK)
		return fail(lp, "not a valid public key");
	lp->e->comment = auth_strndup(lp->a, rest, rest_len);
	return lp->e->comment != NULL ? SSHRPC_OK : SSHRPC_E_NOMEM;
}

int sshrpc_authkeys_parse(const sshrpc_alloc *a, const char *name, const uint8_t *data, size_t len, sshrpc_log_fn log,
	void *log_ud, sshrpc_authkeys **out)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	if (name == NULL)
		name = "authorized_keys";
	sshrpc_authkeys *ak = sshrpc_calloc(a, sizeof *ak);
	if (ak == NULL)
		return SSHRPC_E_NOMEM;
	ak->alloc = a;
	const char *s = (const char *)data;
	size_t i = 0;
	unsigned lineno = 0;
	int rc = SSHRPC_OK;
	const char *l;
	size_t ll;
	while (auth_next_line(s, len, &i, &lineno, &l, &ll)) {
		if (memchr(l, '\0', ll) != NULL) {
			auth_logf(log, log_ud, SSHRPC_LOG_ERROR, "%s:%u: NUL byte in line; line skipped", name, lineno);
			continue;
		}
		line_parse lp = { .a = a };
		lp.e = sshrpc_calloc(a, sizeof *lp.e);
		if (lp.e == NULL) {
			rc = SSHRPC_E_NOMEM;
			break;
		}
		lp.e->line = lineno;
		rc = parse_line(&lp, l, ll);
		if (rc == SSHRPC_E_NOMEM) {
			sshrpc_authkeys_entry_free(a, lp.e);
			break;
		}
		if (rc != SSHRPC_OK) {
			auth_logf(log, log_ud, lp.unsupported ? SSHRPC_LOG_INFO : SSHRPC_LOG_ERROR,
				"%s:%u: %s; line skipped", name, lineno, lp.why);
			sshrpc_authkeys_entry_free(a, lp.e);
			rc = SSHRPC_OK;
			continue;
		}
		if (ak->n == ak->cap) {
			size_t ncap = ak->cap == 0 ? 8 : ak->cap * 2;
			sshrpc_authkeys_entry **ne =
				sshrpc_realloc(a, ak->entries, ak->cap * sizeof *ne, ncap * sizeof *ne);
			if (ne == NULL) {
				sshrpc_authkeys_entry_free(a, lp.e);
				rc = SSHRPC_E_NOMEM;
				break;
			}
			ak->entries = ne;
			ak->cap = ncap;
		}
		ak->entries[ak->n++] = lp.e;
	}
	if (rc != SSHRPC_OK) {
		sshrpc_authkeys_free(ak);
		return rc;
	}
	*out = ak;
	return SSHRPC_OK;
}

void sshrpc_authkeys_free(sshrpc_authkeys *ak)
{
	if (ak == NULL)
		return;
	for (size_t i = 0; i < ak->n; i++)
		sshrpc_authkeys_entry_free(ak->alloc, ak->entries[i]);
	sshrpc_free(ak->alloc, ak->entries, ak->cap * sizeof *ak->entries);
	sshrpc_free(ak->alloc, ak, sizeof *ak);
}

size_t sshrpc_authkeys_count(const sshrpc_authkeys *ak)
{
	return ak != NULL ? ak->n : 0;
}

const sshrpc_authkeys_entry *sshrpc_authkeys_get(const sshrpc_authkeys *ak, size_t i)
{
	return ak != NULL && i < ak->n ? ak->entries[i] : NULL;
}

/* ---- lookup ----------------------------------------------------------------- */

int sshrpc_authkeys_lookup(const sshrpc_authkeys *ak, const sshrpc_key *key, const sshrpc_authkeys_ctx *ctx,
	const sshrpc_authkeys_entry **entry, char *why, size_t why_cap)
{
	const char *reason = "key not listed";
	unsigned reason_line = 0;
	for (size_t i = 0; ak != NULL && i < ak->n; i++) {
		const sshrpc_authkeys_entry *e = ak->entries[i];
		if (!sshrpc_key_equal_public(e->key, key))
			continue;
		/* As sshd does, a listed key whose options refuse this connection
		 * does not end the search: a later line may admit it. */
		if (e->opts.has_expiry) {
			int64_t exp = (int64_t)e->opts.expiry_time;
			if (e->opts.expiry_local && ctx != NULL)
				exp -= ctx->utc_offset_s;
			uint64_t now = ctx != NULL ? ctx->now_s : 0;
			if ((int64_t)now >= exp) {
				reason = "expiry-time passed";
				reason_line = e->line;
				continue;
			}
		}
		if (e->opts.from != NULL) {
			const char *addr = ctx != NULL ? ctx->remote_addr : NULL;
			const char *host = ctx != NULL ? ctx->remote_host : NULL;
			if (sshrpc_match_host_and_addr(host, addr, e->opts.from, strlen(e->opts.from)) != 1) {
				reason = "from= not matched";
				reason_line = e->line;
				continue;
			}
		}
		*entry = e;
		return SSHRPC_OK;
	}
	if (why != NULL && why_cap > 0) {
		if (reason_line != 0)
			snprintf(why, why_cap, "line %u: %s", reason_line, reason);
		else
			snprintf(why, why_cap, "%s", reason);
	}
	*entry = NULL;
	return SSHRPC_E_DENIED;
}
