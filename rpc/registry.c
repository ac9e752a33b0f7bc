/* The handler registry: module:function/arity to a C function. Built once
 * (sys, plugins, the program's own functions), then shared read-only by
 * every session, so a lookup is a hash probe and nothing else. */
#include <string.h>

#include "rpc/rpc_internal.h"
#include "sshrpc/rpc.h"

struct entry {
	sshrpc_rpc_function f; /* module/function point at the copies below */
	char *module, *function;
	size_t mlen, flen;
	uint32_t hash;
};

struct release {
	void (*fn)(void *);
	void *p;
};

struct sshrpc_rpc_registry {
	const sshrpc_alloc *alloc;
	struct entry *e;
	size_t n, cap;
	uint32_t *slots; /* entry index + 1, 0 when empty; size nslots (a power of two) */
	size_t nslots;
	struct release *rel;
	size_t nrel, caprel;
};

static uint32_t hash(const char *m, size_t ml, const char *f, size_t fl, int arity)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (size_t i = 0; i < ml; i++)
		h = (h ^ (uint8_t)m[i]) * 16777619u;
	h = (h ^ 0xffu) * 16777619u;
	for (size_t i = 0; i < fl; i++)
		h = (h ^ (uint8_t)f[i]) * 16777619u;
	h = (h ^ (uint32_t)(arity + 1)) * 16777619u;
	return h;
}

int sshrpc_rpc_registry_new(const sshrpc_alloc *a, sshrpc_rpc_registry **out)
{
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_rpc_registry *r = sshrpc_calloc(a, sizeof *r);
	if (r == NULL)
		return SSHRPC_E_NOMEM;
	r->alloc = a;
	*out = r;
	return SSHRPC_OK;
}

void sshrpc_rpc_registry_free(sshrpc_rpc_registry *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		sshrpc_free(r->alloc, r->e[i].module, r->e[i].mlen + 1);
		sshrpc_free(r->alloc, r->e[i].function, r->e[i].flen + 1);
	}
	sshrpc_free(r->alloc, r->e, r->cap * sizeof *r->e);
	sshrpc_free(r->alloc, r->slots, r->nslots * sizeof *r->slots);
	/* last registered first: a module's cleanup runs before its dlclose */
	for (size_t i = r->nrel; i-- > 0;)
		r->rel[i].fn(r->rel[i].p);
	sshrpc_free(r->alloc, r->rel, r->caprel * sizeof *r->rel);
	sshrpc_free(r->alloc, r, sizeof *r);
}

static const struct entry *lookup(
	const sshrpc_rpc_registry *r, const char *m, size_t ml, const char *f, size_t fl, int arity)
{
	if (r->nslots == 0)
		return NULL;
	uint32_t h = hash(m, ml, f, fl, arity);
	for (size_t i = h & (r->nslots - 1);; i = (i + 1) & (r->nslots - 1)) {
		uint32_t s = r->slots[i];
		if (s == 0)
			return NULL;
		const struct entry *e = &r->e[s - 1];
		if (e->hash == h && e->f.arity == arity && e->mlen == ml && e->flen == fl &&
			memcmp(e->module, m, ml) == 0 && memcmp(e->function, f, fl) == 0)
			return e;
	}
}

static int rehash(sshrpc_rpc_registry *r, size_t nslots)
{
	uint32_t *s = sshrpc_calloc(r->alloc, nslots * sizeof *s);
	if (s == NULL)
		return SSHRPC_E_NOMEM;
	for (size_t k = 0; k < r->n; k++) {
		size_t i = r->e[k].hash & (nslots - 1);
		while (s[i] != 0)
			i = (i + 1) & (nslots - 1);
		s[i] = (uint32_t)(k + 1);
	}
	sshrpc_free(r->alloc, r->slots, r->nslots * sizeof *r->slots);
	r->slots = s;
	r->nslots = nslots;
	return SSHRPC_OK;
}

static char *dup_name(const sshrpc_alloc *a, const char *s, size_t n)
{
	char *d = sshrpc_malloc(a, n + 1);
	if (d != NULL) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

int sshrpc_rpc_registry_add(sshrpc_rpc_registry *r, const sshrpc_rpc_function *f)
{
	if (f == NULL || f->module == NULL || f->function == NULL || f->fn == NULL || f->arity < -1 || f->arity > 255)
		return SSHRPC_E_INVALID;
	size_t ml = strlen(f->module), fl = strlen(f->function);
	/* names must be atoms */
	sshrpc_term ta = sshrpc_term_atom_n(f->module, ml), tf = sshrpc_term_atom_n(f->function, fl);
	if (ta.type != SSHRPC_TERM_ATOM || tf.type != SSHRPC_TERM_ATOM)
		return SSHRPC_E_INVALID;
	if (lookup(r, f->module, ml, f->function, fl, f->arity) != NULL)
		return SSHRPC_E_STATE;
	if (r->n >= UINT32_MAX - 1)
		return SSHRPC_E_TOO_LARGE;
	if (r->n == r->cap) {
		size_t nc = r->cap == 0 ? 16 : r->cap * 2;
		struct entry *ne = r->e == NULL ? sshrpc_malloc(r->alloc, nc * sizeof *ne)
						: sshrpc_realloc(r->alloc, r->e, r->cap * sizeof *ne, nc * sizeof *ne);
		if (ne == NULL)
			return SSHRPC_E_NOMEM;
		r->e = ne;
		r->cap = nc;
	}
	struct entry *e = &r->e[r->n];
	memset(e, 0, sizeof *e);
	e->module = dup_name(r->alloc, f->module, ml);
	e->function = dup_name(r->alloc, f->function, fl);
	if (e->module == NULL || e->function == NULL) {
		sshrpc_free(r->alloc, e->module, ml + 1);
		sshrpc_free(r->alloc, e->function, fl + 1);
		return SSHRPC_E_NOMEM;
	}
	e->mlen = ml;
	e->flen = fl;
	e->f = *f;
	e->f.module = e->module;
	e->f.function = e->function;
	e->hash = hash(e->module, ml, e->function, fl, f->arity);
	r->n++;
	/* keep the table at most half full */
	if (r->n * 2 > r->nslots) {
		int rc = rehash(r, r->nslots == 0 ? 32 : r->nslots * 2);
		if (rc != SSHRPC_OK) {
			r->n--;
			sshrpc_free(r->alloc, e->module, ml + 1);
			sshrpc_free(r->alloc, e->function, fl + 1);
			return rc;
		}
	} else {
		size_t i = e->hash & (r->nslots - 1);
		while (r->slots[i] != 0)
			i = (i + 1) & (r->nslots - 1);
		r->slots[i] = (uint32_t)r->n;
	}
	return SSHRPC_OK;
}

int sshrpc_rpc_registry_on_free(sshrpc_rpc_registry *r, void (*release)(void *), void *p)
{
	if (release == NULL)
		return SSHRPC_E_INVALID;
	if (r->nrel == r->caprel) {
		size_t nc = r->caprel == 0 ? 4 : r->caprel * 2;
		struct release *nr =
			r->rel == NULL ? sshrpc_malloc(r->alloc, nc * sizeof *nr)
				       : sshrpc_realloc(r->alloc, r->rel, r->caprel * sizeof *nr, nc * sizeof *nr);
		if (nr == NULL)
			return SSHRPC_E_NOMEM;
		r->rel = nr;
		r->caprel = nc;
	}
	r->rel[r->nrel].fn = release;
	r->rel[r->nrel].p = p;
	r->nrel++;
	return SSHRPC_OK;
}

const sshrpc_rpc_function *sshrpc_rpc_registry_find(const sshrpc_rpc_registry *r, const char *module, size_t mlen,
	const char *function, size_t flen, unsigned arity)
{
	const struct entry *e = NULL;
	if (arity <= 255)
		e = lookup(r, module, mlen, function, flen, (int)arity);
	if (e == NULL)
		e = lookup(r, module, mlen, function, flen, SSHRPC_RPC_ANY_ARITY);
	return e != NULL ? &e->f : NULL;
}

size_t sshrpc_rpc_registry_count(const sshrpc_rpc_registry *r)
{
	return r->n;
}
