/* Per-key access control: the rpc-allow= and rpc-deny= options of an
 * authorized_keys line (interface.md, "Access control"), parsed from the
 * option text the auth layer hands over. Patterns:
 *     *              every function
 *     mod:*          every function of mod
 *     mod:fun        fun of mod with any arity
 *     mod:fun/N      exactly that function
 * separated by commas; module and function names are Erlang atoms, quoted
 * ('Elixir.Foo') when they are not plain. An allow list, once given, is the
 * whole of what the key may call (an empty one: nothing); deny patterns
 * win over allow patterns. */
#include <string.h>

#include "rpc/rpc_internal.h"
#include "sshrpc/rpc.h"

struct pattern {
	bool deny;
	char *module;	/* NULL: any */
	char *function; /* NULL: any */
	size_t mlen, flen;
	int arity; /* -1: any */
};

struct sshrpc_rpc_acl {
	const sshrpc_alloc *alloc;
	struct pattern *p;
	size_t n, cap;
	bool has_allow;
};

int sshrpc_rpc_acl_new(const sshrpc_alloc *a, sshrpc_rpc_acl **out)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_rpc_acl *acl = sshrpc_calloc(a, sizeof *acl);
	if (acl == NULL)
		return SSHRPC_E_NOMEM;
	acl->alloc = a;
	*out = acl;
	return SSHRPC_OK;
}

static void pattern_free(const sshrpc_alloc *a, struct pattern *p)
{
	if (p->module != NULL)
		sshrpc_free(a, p->module, p->mlen + 1);
	if (p->function != NULL)
		sshrpc_free(a, p->function, p->flen + 1);
}

void sshrpc_rpc_acl_free(sshrpc_rpc_acl *acl)
{
	if (acl == NULL)
		return;
	for (size_t i = 0; i < acl->n; i++)
		pattern_free(acl->alloc, &acl->p[i]);
	sshrpc_free(acl->alloc, acl->p, acl->cap * sizeof *acl->p);
	sshrpc_free(acl->alloc, acl, sizeof *acl);
}

struct pat_parser {
	const char *s;
	size_t n, pos;
	const sshrpc_alloc *a;
};

static void pws(struct pat_parser *pp)
{
	while (pp->pos < pp->n && (pp->s[pp->pos] == ' ' || pp->s[pp->pos] == '\t'))
		pp->pos++;
}

/* An atom, plain or quoted, into a NUL-terminated UTF-8 copy. */
static int pat_atom(struct pat_parser *pp, char **out, size_t *len)
{
	char buf[RPC_ATOM_MAX_CHARS * 4 + 1];
	size_t o = 0;
	if (pp->pos < pp->n && pp->s[pp->pos] == '\'') {
		pp->pos++;
		for (;;) {
			if (pp->pos >= pp->n)
				return SSHRPC_E_INVALID;
			char c = pp->s[pp->pos++];
			if (c == '\'')
				break;
			if (c == '\\') {
				if (pp->pos >= pp->n)
					return SSHRPC_E_INVALID;
				c = pp->s[pp->pos++];
			}
			if (o + 1 >= sizeof buf)
				return SSHRPC_E_INVALID;
			buf[o++] = c;
		}
	} else {
		while (pp->pos < pp->n) {
			unsigned char c = (unsigned char)pp->s[pp->pos];
			bool ok = (c >= 'a' && c <= 'z') ||
				  (o > 0 && ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@'));
			if (!ok)
				break;
			if (o + 1 >= sizeof buf)
				return SSHRPC_E_INVALID;
			buf[o++] = (char)c;
			pp->pos++;
		}
		if (o == 0)
			return SSHRPC_E_INVALID;
	}
	sshrpc_term t = sshrpc_term_atom_n(buf, o);
	if (t.type != SSHRPC_TERM_ATOM)
		return SSHRPC_E_INVALID;
	char *d = sshrpc_malloc(pp->a, o + 1);
	if (d == NULL)
		return SSHRPC_E_NOMEM;
	memcpy(d, buf, o);
	d[o] = '\0';
	*out = d;
	*len = o;
	return SSHRPC_OK;
}

static int one_pattern(struct pat_parser *pp, struct pattern *p)
{
	memset(p, 0, sizeof *p);
	p->arity = -1;
	pws(pp);
	if (pp->pos < pp->n && pp->s[pp->pos] == '*') {
		pp->pos++;
		return SSHRPC_OK;
	}
	int rc = pat_atom(pp, &p->module, &p->mlen);
	if (rc != SSHRPC_OK)
		return rc;
	pws(pp);
	if (pp->pos >= pp->n || pp->s[pp->pos] != ':')
		return SSHRPC_E_INVALID;
	pp->pos++;
	pws(pp);
	if (pp->pos < pp->n && pp->s[pp->pos] == '*') {
		pp->pos++;
		return SSHRPC_OK;
	}
	if ((rc = pat_atom(pp, &p->function, &p->flen)) != SSHRPC_OK)
		return rc;
	pws(pp);
	if (pp->pos < pp->n && pp->s[pp->pos] == '/') {
		pp->pos++;
		pws(pp);
		if (pp->pos < pp->n && pp->s[pp->pos] == '*') {
			pp->pos++;
			return SSHRPC_OK;
		}
		int a = 0, digits = 0;
		while (pp->pos < pp->n && pp->s[pp->pos] >= '0' && pp->s[pp->pos] <= '9') {
			a = a * 10 + (pp->s[pp->pos++] - '0');
			if (a > 255)
				return SSHRPC_E_INVALID;
			digits++;
		}
		if (digits == 0)
			return SSHRPC_E_INVALID;
		p->arity = a;
	}
	return SSHRPC_OK;
}

static int add_list(sshrpc_rpc_acl *acl, bool deny, const char *s, size_t n, sshrpc_err *err)
{
	struct pat_parser pp = { s, n, 0, acl->alloc };
	size_t first = acl->n;
	int rc = SSHRPC_OK;
	pws(&pp);
	if (pp.pos == n) {
		/* an empty list: nothing allowed (or nothing more denied) */
		if (!deny)
			acl->has_allow = true;
		return SSHRPC_OK;
	}
	for (;;) {
		size_t start = pp.pos;
		struct pattern p;
		rc = one_pattern(&pp, &p);
		pws(&pp);
		if (rc == SSHRPC_OK && pp.pos < n && s[pp.pos] != ',')
			rc = SSHRPC_E_INVALID;
		if (rc == SSHRPC_OK && acl->n == acl->cap) {
			size_t nc = acl->cap == 0 ? 8 : acl->cap * 2;
			struct pattern *np = acl->p == NULL ? sshrpc_malloc(acl->alloc, nc * sizeof *np)
							    : sshrpc_realloc(acl->alloc, acl->p, acl->cap * sizeof *np,
								      nc * sizeof *np);
			if (np == NULL) {
				rc = SSHRPC_E_NOMEM;
			} else {
				acl->p = np;
				acl->cap = nc;
			}
		}
		if (rc != SSHRPC_OK) {
			pattern_free(acl->alloc, &p);
			size_t end = start;
			while (end < n && s[end] != ',')
				end++;
			sshrpc_err_set(err, rc, 0, "rpc-%s: pattern \"%.*s\" is not *, mod:*, mod:fun or mod:fun/arity",
				deny ? "deny" : "allow", (int)(end - start > 64 ? 64 : end - start), s + start);
			break;
		}
		p.deny = deny;
		acl->p[acl->n++] = p;
		if (pp.pos >= n)
			break;
		pp.pos++; /* ',' */
	}
	if (rc != SSHRPC_OK) {
		/* all or nothing: drop what this list added */
		while (acl->n > first)
			pattern_free(acl->alloc, &acl->p[--acl->n]);
		return rc;
	}
	if (!deny)
		acl->has_allow = true;
	return SSHRPC_OK;
}

int sshrpc_rpc_acl_allow(sshrpc_rpc_acl *acl, const char *patterns, size_t len, sshrpc_err *err)
{
	return add_list(acl, false, patterns, len, err);
}

int sshrpc_rpc_acl_deny(sshrpc_rpc_acl *acl, const char *patterns, size_t len, sshrpc_err *err)
{
	return add_list(acl, true, patterns, len, err);
}

int sshrpc_rpc_acl_from_options(
	const sshrpc_alloc *a, const char *allow, const char *deny, sshrpc_rpc_acl **out, sshrpc_err *err)
{
	*out = NULL;
	if (allow == NULL && deny == NULL)
		return SSHRPC_OK;
	sshrpc_rpc_acl *acl;
	int rc = sshrpc_rpc_acl_new(a, &acl);
	if (rc != SSHRPC_OK)
		return rc;
	if (allow != NULL)
		rc = sshrpc_rpc_acl_allow(acl, allow, strlen(allow), err);
	if (rc == SSHRPC_OK && deny != NULL)
		rc = sshrpc_rpc_acl_deny(acl, deny, strlen(deny), err);
	if (rc != SSHRPC_OK) {
		sshrpc_rpc_acl_free(acl);
		return rc;
	}
	*out = acl;
	return SSHRPC_OK;
}

static bool matches(const struct pattern *p, const char *m, size_t ml, const char *f, size_t fl, unsigned arity)
{
	if (p->module != NULL && (p->mlen != ml || memcmp(p->module, m, ml) != 0))
		return false;
	if (p->function != NULL && (p->flen != fl || memcmp(p->function, f, fl) != 0))
		return false;
	return p->arity < 0 || (unsigned)p->arity == arity;
}

bool sshrpc_rpc_acl_permits(
	const sshrpc_rpc_acl *acl, const char *module, size_t mlen, const char *function, size_t flen, unsigned arity)
{
	if (acl == NULL)
		return true;
	bool allowed = !acl->has_allow;
	for (size_t i = 0; i < acl->n; i++) {
		const struct pattern *p = &acl->p[i];
		if (!matches(p, module, mlen, function, flen, arity))
			continue;
		if (p->deny)
			return false;
		allowed = true;
	}
	return allowed;
}
