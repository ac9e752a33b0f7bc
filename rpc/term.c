/* Terms: constructors, accessors, Erlang's term order, and the two
 * normalisations that keep one term one shape (maps of up to 32 keys in key
 * order like OTP's flatmaps; lists flat, never a list in a tail), so that
 * the encoder writes what term_to_binary writes for the same term. */
#include <string.h>

#include "rpc/rpc_internal.h"

static sshrpc_term invalid(void)
{
	sshrpc_term t = { .type = SSHRPC_TERM_INVALID };
	return t;
}

/* ---- scalars ------------------------------------------------------------- */

sshrpc_term sshrpc_term_float(double v)
{
	/* ETF has no NaN or infinity (NEW_FLOAT_EXT: "a finite float"). */
	if (v != v || v > 1.7976931348623157e308 || v < -1.7976931348623157e308)
		return invalid();
	sshrpc_term t = { .type = SSHRPC_TERM_FLOAT, .v.f = v };
	return t;
}

sshrpc_term sshrpc_term_atom_n(const char *utf8, size_t len)
{
	size_t chars;
	if (utf8 == NULL || !rpc_utf8_check((const uint8_t *)utf8, len, &chars) || chars > RPC_ATOM_MAX_CHARS)
		return invalid();
	sshrpc_term t = { .type = SSHRPC_TERM_ATOM, .len = (uint32_t)len, .v.bytes = (const uint8_t *)utf8 };
	return t;
}

sshrpc_term sshrpc_term_atom(const char *utf8)
{
	return sshrpc_term_atom_n(utf8, utf8 != NULL ? strlen(utf8) : 0);
}

sshrpc_term sshrpc_term_binary(const void *p, size_t len)
{
	if (len > UINT32_MAX || (p == NULL && len > 0))
		return invalid();
	sshrpc_term t = { .type = SSHRPC_TERM_BINARY, .len = (uint32_t)len, .v.bytes = p };
	return t;
}

/* ---- allocating constructors ---------------------------------------------- */

sshrpc_term sshrpc_term_uint64(sshrpc_heap *h, uint64_t v)
{
	uint8_t mag[8];
	for (int i = 0; i < 8; i++)
		mag[i] = (uint8_t)(v >> (8 * i));
	sshrpc_term t;
	if (rpc_integer_make(h, false, mag, 8, true, &t) != SSHRPC_OK)
		return invalid();
	return t;
}

sshrpc_term sshrpc_term_bigint(sshrpc_heap *h, bool negative, const uint8_t *mag_le, size_t len)
{
	sshrpc_term t;
	if ((mag_le == NULL && len > 0) || rpc_integer_make(h, negative, mag_le, len, true, &t) != SSHRPC_OK)
		return invalid();
	return t;
}

sshrpc_term sshrpc_term_binary_new(sshrpc_heap *h, size_t len, uint8_t **data)
{
	if (len > UINT32_MAX)
		return invalid();
	uint8_t *p = sshrpc_heap_alloc(h, len);
	if (p == NULL)
		return invalid();
	memset(p, 0, len);
	if (data != NULL)
		*data = p;
	sshrpc_term t = { .type = SSHRPC_TERM_BINARY, .len = (uint32_t)len, .v.bytes = p };
	return t;
}

sshrpc_term sshrpc_term_binary_copy(sshrpc_heap *h, const void *p, size_t len)
{
	uint8_t *d;
	if (p == NULL && len > 0)
		return invalid();
	sshrpc_term t = sshrpc_term_binary_new(h, len, &d);
	if (t.type != SSHRPC_TERM_INVALID && len > 0)
		memcpy(d, p, len);
	return t;
}

sshrpc_term sshrpc_term_bitstring(sshrpc_heap *h, const void *p, size_t nbits)
{
	size_t len = nbits / 8 + (nbits % 8 != 0);
	uint8_t *d;
	sshrpc_term t = sshrpc_term_binary_copy(h, p, len);
	if (t.type == SSHRPC_TERM_INVALID)
		return t;
	if (nbits % 8 != 0) {
		d = (uint8_t *)t.v.bytes;
		t.aux = (uint8_t)(8 - nbits % 8);
		d[len - 1] &= (uint8_t)(0xff << t.aux);
	}
	return t;
}

static sshrpc_term *elems_copy(sshrpc_heap *h, size_t n, const sshrpc_term *elems, size_t extra)
{
	if (n > UINT32_MAX || extra > SIZE_MAX - n || n + extra > SIZE_MAX / sizeof(sshrpc_term))
		return NULL;
	sshrpc_term *e = sshrpc_heap_alloc(h, (n + extra) * sizeof *e);
	if (e != NULL && n > 0 && elems != NULL)
		memcpy(e, elems, n * sizeof *e);
	return e;
}

sshrpc_term sshrpc_term_tuple(sshrpc_heap *h, size_t n, const sshrpc_term *elems)
{
	if (n > 0 && elems == NULL)
		return invalid();
	sshrpc_term *e = elems_copy(h, n, elems, 0);
	if (e == NULL)
		return invalid();
	sshrpc_term t = { .type = SSHRPC_TERM_TUPLE, .len = (uint32_t)n, .v.elems = e };
	return t;
}

sshrpc_term sshrpc_term_list_tail(sshrpc_heap *h, size_t n, const sshrpc_term *elems, const sshrpc_term *tail)
{
	sshrpc_term nil = sshrpc_term_nil();
	if (tail == NULL)
		tail = &nil;
	if (n == 0)
		return *tail;
	if (elems == NULL)
		return invalid();
	/* A list tail is joined on: [a|[b]] is the list [a,b]. */
	size_t tn = tail->type == SSHRPC_TERM_LIST ? tail->len : 0;
	if (n > UINT32_MAX || tn > UINT32_MAX - n)
		return invalid();
	sshrpc_term *e = elems_copy(h, n, elems, tn + 1);
	if (e == NULL)
		return invalid();
	if (tn > 0)
		memcpy(e + n, tail->v.elems, (tn + 1) * sizeof *e);
	else
		e[n] = *tail;
	sshrpc_term t = { .type = SSHRPC_TERM_LIST, .len = (uint32_t)(n + tn), .v.elems = e };
	return t;
}

sshrpc_term sshrpc_term_list(sshrpc_heap *h, size_t n, const sshrpc_term *elems)
{
	return sshrpc_term_list_tail(h, n, elems, NULL);
}

sshrpc_term sshrpc_term_map(sshrpc_heap *h, size_t n, const sshrpc_term *kv)
{
	if (n > UINT32_MAX / 2 || (n > 0 && kv == NULL))
		return invalid();
	sshrpc_term *e = elems_copy(h, 2 * n, kv, 0);
	if (e == NULL)
		return invalid();
	sshrpc_term t = { .type = SSHRPC_TERM_MAP, .len = (uint32_t)n, .v.elems = e };
	if (rpc_map_normalize(&t, h->alloc) != SSHRPC_OK)
		return invalid();
	return t;
}

sshrpc_term sshrpc_term_string(sshrpc_heap *h, const char *utf8, size_t len)
{
	size_t chars;
	const uint8_t *p = (const uint8_t *)utf8;
	if ((p == NULL && len > 0) || !rpc_utf8_check(p, len, &chars))
		return invalid();
	if (chars == 0)
		return sshrpc_term_nil();
	sshrpc_term *e = elems_copy(h, chars, NULL, 1);
	if (e == NULL)
		return invalid();
	size_t i = 0, k = 0;
	while (i < len) {
		uint32_t cp = p[i];
		size_t l = cp < 0x80 ? 1 : rpc_utf8_decode(p + i, len - i, &cp);
		e[k++] = sshrpc_term_int(cp);
		i += l;
	}
	e[k] = sshrpc_term_nil();
	sshrpc_term t = { .type = SSHRPC_TERM_LIST, .len = (uint32_t)chars, .v.elems = e };
	return t;
}

static sshrpc_term pair(sshrpc_heap *h, const char *tag, sshrpc_term t)
{
	if (t.type == SSHRPC_TERM_INVALID)
		return t;
	return SSHRPC_TUPLE(h, sshrpc_term_atom(tag), t);
}

sshrpc_term sshrpc_term_ok(sshrpc_heap *h, sshrpc_term t)
{
	return pair(h, "ok", t);
}

sshrpc_term sshrpc_term_error(sshrpc_heap *h, sshrpc_term t)
{
	return pair(h, "error", t);
}

/* ---- accessors ------------------------------------------------------------ */

bool rpc_atom_eq(const sshrpc_term *t, const char *name, size_t len)
{
	return t->type == SSHRPC_TERM_ATOM && t->len == len && (len == 0 || memcmp(t->v.bytes, name, len) == 0);
}

bool sshrpc_term_is_atom(const sshrpc_term *t, const char *name)
{
	return rpc_atom_eq(t, name, strlen(name));
}

int sshrpc_term_get_int64(const sshrpc_term *t, int64_t *v)
{
	if (t->type == SSHRPC_TERM_INT) {
		*v = t->v.i;
		return SSHRPC_OK;
	}
	return t->type == SSHRPC_TERM_BIGINT ? SSHRPC_E_TOO_LARGE : SSHRPC_E_INVALID;
}

int sshrpc_term_get_uint64(const sshrpc_term *t, uint64_t *v)
{
	if (t->type == SSHRPC_TERM_INT) {
		if (t->v.i < 0)
			return SSHRPC_E_TOO_LARGE;
		*v = (uint64_t)t->v.i;
		return SSHRPC_OK;
	}
	if (t->type != SSHRPC_TERM_BIGINT)
		return SSHRPC_E_INVALID;
	if (t->aux != 0 || t->len > 8)
		return SSHRPC_E_TOO_LARGE;
	uint64_t m = 0;
	for (size_t i = t->len; i-- > 0;)
		m = (m << 8) | t->v.bytes[i];
	*v = m;
	return SSHRPC_OK;
}

int sshrpc_term_get_double(const sshrpc_term *t, double *v)
{
	if (t->type != SSHRPC_TERM_FLOAT)
		return SSHRPC_E_INVALID;
	*v = t->v.f;
	return SSHRPC_OK;
}

int sshrpc_term_get_binary(const sshrpc_term *t, const uint8_t **p, size_t *len)
{
	if (!sshrpc_term_is_binary(t))
		return SSHRPC_E_INVALID;
	*p = t->v.bytes;
	*len = t->len;
	return SSHRPC_OK;
}

int sshrpc_term_get_atom(const sshrpc_term *t, const char **name, size_t *len)
{
	if (t->type != SSHRPC_TERM_ATOM)
		return SSHRPC_E_INVALID;
	*name = (const char *)t->v.bytes;
	*len = t->len;
	return SSHRPC_OK;
}

size_t sshrpc_term_tuple_size(const sshrpc_term *t)
{
	return t->type == SSHRPC_TERM_TUPLE ? t->len : 0;
}

const sshrpc_term *sshrpc_term_tuple_elem(const sshrpc_term *t, size_t i)
{
	return t->type == SSHRPC_TERM_TUPLE && i < t->len ? &t->v.elems[i] : NULL;
}

int sshrpc_term_list_length(const sshrpc_term *t, size_t *n)
{
	if (t->type == SSHRPC_TERM_NIL) {
		*n = 0;
		return SSHRPC_OK;
	}
	if (t->type != SSHRPC_TERM_LIST || t->v.elems[t->len].type != SSHRPC_TERM_NIL)
		return SSHRPC_E_INVALID;
	*n = t->len;
	return SSHRPC_OK;
}

const sshrpc_term *sshrpc_term_list_elems(const sshrpc_term *t)
{
	return t->type == SSHRPC_TERM_LIST ? t->v.elems : NULL;
}

size_t sshrpc_term_map_size(const sshrpc_term *t)
{
	return t->type == SSHRPC_TERM_MAP ? t->len : 0;
}

const sshrpc_term *sshrpc_term_map_get(const sshrpc_term *t, const sshrpc_term *key)
{
	if (t->type != SSHRPC_TERM_MAP)
		return NULL;
	for (size_t i = 0; i < t->len; i++) {
		if (sshrpc_term_equal(&t->v.elems[2 * i], key))
			return &t->v.elems[2 * i + 1];
	}
	return NULL;
}

const sshrpc_term *sshrpc_term_map_get_atom(const sshrpc_term *t, const char *name)
{
	if (t->type != SSHRPC_TERM_MAP)
		return NULL;
	size_t len = strlen(name);
	for (size_t i = 0; i < t->len; i++) {
		if (rpc_atom_eq(&t->v.elems[2 * i], name, len))
			return &t->v.elems[2 * i + 1];
	}
	return NULL;
}

/* ---- term order ------------------------------------------------------------ */

/* Erlang's order of types: number < atom < reference < fun < port < pid <
 * tuple < map < nil < list < bit string. */
static int rank(const sshrpc_term *t)
{
	switch (t->type) {
	case SSHRPC_TERM_INT:
	case SSHRPC_TERM_BIGINT:
	case SSHRPC_TERM_FLOAT:
		return 1;
	case SSHRPC_TERM_ATOM:
		return 2;
	case SSHRPC_TERM_TUPLE:
		return 7;
	case SSHRPC_TERM_MAP:
		return 8;
	case SSHRPC_TERM_NIL:
		return 9;
	case SSHRPC_TERM_LIST:
		return 10;
	case SSHRPC_TERM_BINARY:
		return 11;
	default:
		return 0;
	}
}

static int bytes_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t m = an < bn ? an : bn;
	int c = m > 0 ? memcmp(a, b, m) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

static int bits_cmp(const sshrpc_term *a, const sshrpc_term *b)
{
	uint64_t abits = (uint64_t)a->len * 8 - a->aux;
	uint64_t bbits = (uint64_t)b->len * 8 - b->aux;
	uint64_t common = abits < bbits ? abits : bbits;
	size_t full = (size_t)(common / 8);
	int c = full > 0 ? memcmp(a->v.bytes, b->v.bytes, full) : 0;
	if (c != 0)
		return c < 0 ? -1 : 1;
	unsigned rest = (unsigned)(common % 8);
	if (rest > 0) {
		uint8_t mask = (uint8_t)(0xff << (8 - rest));
		uint8_t x = a->v.bytes[full] & mask, y = b->v.bytes[full] & mask;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return abits < bbits ? -1 : abits > bbits;
}

/* Two terms that are not both compounds of the same kind, or the sizes of
 * two that are: the order if it is decided here, 0 when the children must
 * be compared. */
static int shallow_cmp(const sshrpc_term *a, const sshrpc_term *b, bool *descend)
{
	*descend = false;
	int ra = rank(a), rb = rank(b);
	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (a->type) {
	case SSHRPC_TERM_INT:
	case SSHRPC_TERM_BIGINT:
	case SSHRPC_TERM_FLOAT:
		/* Exact order: every integer before every float (OTP compares an
		 * integer and a float by type under =:=, which is how map keys
		 * 1 and 1.0 are ordered). */
		if (a->type == SSHRPC_TERM_FLOAT && b->type == SSHRPC_TERM_FLOAT)
			return a->v.f < b->v.f ? -1 : a->v.f > b->v.f;
		if (a->type == SSHRPC_TERM_FLOAT)
			return 1;
		if (b->type == SSHRPC_TERM_FLOAT)
			return -1;
		return rpc_integer_cmp(a, b);
	case SSHRPC_TERM_ATOM:
		return bytes_cmp(a->v.bytes, a->len, b->v.bytes, b->len);
	case SSHRPC_TERM_BINARY:
		return bits_cmp(a, b);
	case SSHRPC_TERM_NIL:
		return 0;
	case SSHRPC_TERM_TUPLE:
	case SSHRPC_TERM_MAP:
		/* by size first */
		if (a->len != b->len)
			return a->len < b->len ? -1 : 1;
		*descend = a->len > 0;
		return 0;
	case SSHRPC_TERM_LIST:
		*descend = true;
		return 0;
	default:
		return 0;
	}
}

/* Large maps (more than 32 pairs) are kept in OTP's iteration order, not
 * key order; comparing or checking one needs a sorted index. Sorting calls
 * the comparison, which may meet another large map inside a key: that
 * nesting is capped so that the C stack stays bounded. */
#define RPC_MAP_SORT_NEST_MAX 8

static int cmp_nest(const sshrpc_term *a, const sshrpc_term *b, const sshrpc_alloc *alloc, int nest, int *order);

static int sort_index(const sshrpc_term *m, const sshrpc_alloc *alloc, int nest, uint32_t **out)
{
	/* the index array is 2n entries: the second half is merge space */
	size_t n = m->len;
	if (nest >= RPC_MAP_SORT_NEST_MAX)
		return SSHRPC_E_TOO_LARGE;
	uint32_t *idx = sshrpc_malloc(alloc, 2 * n * sizeof *idx);
	if (idx == NULL)
		return SSHRPC_E_NOMEM;
	uint32_t *tmp = idx + n;
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t)i;
	/* bottom-up merge sort: O(n log n) comparisons, stable */
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n;
			size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				int o;
				int rc =
					cmp_nest(&m->v.elems[2 * idx[j]], &m->v.elems[2 * idx[i]], alloc, nest + 1, &o);
				if (rc != SSHRPC_OK) {
					sshrpc_free(alloc, idx, 2 * n * sizeof *idx);
					return rc;
				}
				tmp[k++] = o < 0 ? idx[j++] : idx[i++];
			}
			while (i < mid)
				tmp[k++] = idx[i++];
			while (j < hi)
				tmp[k++] = idx[j++];
		}
		memcpy(idx, tmp, n * sizeof *idx);
	}
	*out = idx;
	return SSHRPC_OK;
}

struct cmp_frame {
	const sshrpc_term *a, *b;
	size_t i, n;
	uint32_t *ia, *ib; /* sorted key indices of large maps */
	uint8_t phase;	   /* maps: 0 keys, 1 values */
};

static void cmp_frame_release(struct cmp_frame *f, const sshrpc_alloc *alloc)
{
	if (f->ia != NULL)
		sshrpc_free(alloc, f->ia, 2 * (size_t)f->a->len * sizeof *f->ia);
	if (f->ib != NULL)
		sshrpc_free(alloc, f->ib, 2 * (size_t)f->b->len * sizeof *f->ib);
	f->ia = f->ib = NULL;
}

static int cmp_nest(const sshrpc_term *a, const sshrpc_term *b, const sshrpc_alloc *alloc, int nest, int *order)
{
	rpc_stack st;
	rpc_stack_init(&st, alloc, sizeof(struct cmp_frame), 0);
	int rc = SSHRPC_OK, res = 0;
	const sshrpc_term *x = a, *y = b;
	for (;;) {
		/* compare x with y, descending into compounds */
		if (x != NULL) {
			bool descend;
			res = shallow_cmp(x, y, &descend);
			if (res != 0)
				break;
			if (descend) {
				struct cmp_frame *f = rpc_stack_push(&st, &rc);
				if (f == NULL)
					break;
				f->a = x;
				f->b = y;
				if (x->type == SSHRPC_TERM_LIST) {
					f->n = x->len < y->len ? x->len : y->len;
				} else {
					f->n = x->len;
				}
				if (x->type == SSHRPC_TERM_MAP &&
					(x->len > RPC_FLATMAP_MAX || y->len > RPC_FLATMAP_MAX)) {
					if ((rc = sort_index(x, alloc, nest, &f->ia)) != SSHRPC_OK ||
						(rc = sort_index(y, alloc, nest, &f->ib)) != SSHRPC_OK)
						break;
				}
			}
			x = y = NULL;
		}
		struct cmp_frame *f = rpc_stack_top(&st);
		if (f == NULL)
			break; /* equal */
		if (f->i < f->n) {
			size_t i = f->i++;
			switch (f->a->type) {
			case SSHRPC_TERM_MAP: {
				size_t ka = f->ia != NULL ? f->ia[i] : i, kb = f->ib != NULL ? f->ib[i] : i;
				x = &f->a->v.elems[2 * ka + f->phase];
				y = &f->b->v.elems[2 * kb + f->phase];
				break;
			}
			default:
				x = &f->a->v.elems[i];
				y = &f->b->v.elems[i];
				break;
			}
			continue;
		}
		if (f->a->type == SSHRPC_TERM_MAP && f->phase == 0) {
			/* all keys equal: now the values, in key order */
			f->phase = 1;
			f->i = 0;
			continue;
		}
		if (f->a->type == SSHRPC_TERM_LIST) {
			const sshrpc_term *la = f->a, *lb = f->b;
			cmp_frame_release(f, alloc);
			rpc_stack_pop(&st);
			if (la->len == lb->len) {
				x = &la->v.elems[la->len];
				y = &lb->v.elems[lb->len];
				continue;
			}
			/* One list ended: its tail (never a list) meets the rest of
			 * the other list, a list. */
			const sshrpc_term *tail = la->len < lb->len ? &la->v.elems[la->len] : &lb->v.elems[lb->len];
			int r = rank(tail) < rank(la) ? -1 : 1;
			res = la->len < lb->len ? r : -r;
			break;
		}
		cmp_frame_release(f, alloc);
		rpc_stack_pop(&st);
	}
	while (st.n > 0) {
		cmp_frame_release(rpc_stack_top(&st), alloc);
		rpc_stack_pop(&st);
	}
	rpc_stack_free(&st);
	if (rc != SSHRPC_OK)
		return rc;
	*order = res;
	return SSHRPC_OK;
}

int rpc_map_sorted_index(const sshrpc_term *m, const sshrpc_alloc *alloc, uint32_t **idx)
{
	return sort_index(m, alloc != NULL ? alloc : sshrpc_alloc_default(), 0, idx);
}

int rpc_term_cmp(const sshrpc_term *a, const sshrpc_term *b, const sshrpc_alloc *alloc, int *order)
{
	return cmp_nest(a, b, alloc != NULL ? alloc : sshrpc_alloc_default(), 0, order);
}

int sshrpc_term_compare(const sshrpc_term *a, const sshrpc_term *b, int *order)
{
	return rpc_term_cmp(a, b, NULL, order);
}

bool sshrpc_term_equal(const sshrpc_term *a, const sshrpc_term *b)
{
	int o;
	return rpc_term_cmp(a, b, NULL, &o) == SSHRPC_OK && o == 0;
}

/* ---- normalisation ---------------------------------------------------------- */

int rpc_map_normalize(sshrpc_term *m, const sshrpc_alloc *alloc)
{
	size_t n = m->len;
	sshrpc_term *e = m->v.elems;
	if (alloc == NULL)
		alloc = sshrpc_alloc_default();
	if (n <= RPC_FLATMAP_MAX) {
		/* insertion sort of at most 32 pairs, refusing equal keys */
		for (size_t i = 1; i < n; i++) {
			sshrpc_term k = e[2 * i], v = e[2 * i + 1];
			size_t j = i;
			while (j > 0) {
				int o;
				int rc = rpc_term_cmp(&e[2 * (j - 1)], &k, alloc, &o);
				if (rc != SSHRPC_OK)
					return rc;
				if (o == 0)
					return SSHRPC_E_INVALID;
				if (o < 0)
					break;
				e[2 * j] = e[2 * (j - 1)];
				e[2 * j + 1] = e[2 * (j - 1) + 1];
				j--;
			}
			e[2 * j] = k;
			e[2 * j + 1] = v;
		}
		return SSHRPC_OK;
	}
	uint32_t *idx;
	int rc = sort_index(m, alloc, 0, &idx);
	if (rc != SSHRPC_OK)
		return rc;
	for (size_t i = 1; i < n && rc == SSHRPC_OK; i++) {
		int o;
		rc = rpc_term_cmp(&e[2 * idx[i - 1]], &e[2 * idx[i]], alloc, &o);
		if (rc == SSHRPC_OK && o == 0)
			rc = SSHRPC_E_INVALID;
	}
	sshrpc_free(alloc, idx, 2 * n * sizeof *idx);
	return rc;
}

/* ---- deep copy -------------------------------------------------------------- */

struct copy_frame {
	sshrpc_term *arr;
	size_t i, n;
};

/* Copies what *t points at into h, in place: t holds the source's fields on
 * entry. A compound's new element array is returned in *kids for the
 * caller to walk. */
static int copy_one(sshrpc_heap *h, sshrpc_term *t, sshrpc_term **kids, size_t *nkids)
{
	*kids = NULL;
	*nkids = 0;
	size_t n;
	switch (t->type) {
	case SSHRPC_TERM_BIGINT:
	case SSHRPC_TERM_ATOM:
	case SSHRPC_TERM_BINARY: {
		if (t->len == 0)
			return SSHRPC_OK;
		uint8_t *d = sshrpc_heap_alloc(h, t->len);
		if (d == NULL)
			return h->failed;
		memcpy(d, t->v.bytes, t->len);
		t->v.bytes = d;
		return SSHRPC_OK;
	}
	case SSHRPC_TERM_LIST:
		n = (size_t)t->len + 1;
		break;
	case SSHRPC_TERM_TUPLE:
		n = t->len;
		break;
	case SSHRPC_TERM_MAP:
		n = 2 * (size_t)t->len;
		break;
	default:
		return SSHRPC_OK;
	}
	if (n == 0)
		return SSHRPC_OK;
	sshrpc_term *e = elems_copy(h, n, t->v.elems, 0);
	if (e == NULL)
		return h->failed != 0 ? h->failed : SSHRPC_E_TOO_LARGE;
	t->v.elems = e;
	*kids = e;
	*nkids = n;
	return SSHRPC_OK;
}

int sshrpc_term_copy(sshrpc_heap *h, const sshrpc_term *t, sshrpc_term *out)
{
	rpc_stack st;
	rpc_stack_init(&st, h->alloc, sizeof(struct copy_frame), 0);
	*out = *t;
	sshrpc_term *kids;
	size_t nk;
	int rc = copy_one(h, out, &kids, &nk);
	if (rc == SSHRPC_OK && kids != NULL) {
		struct copy_frame *f = rpc_stack_push(&st, &rc);
		if (f != NULL) {
			f->arr = kids;
			f->n = nk;
		}
	}
	while (rc == SSHRPC_OK && st.n > 0) {
		struct copy_frame *f = rpc_stack_top(&st);
		if (f->i == f->n) {
			rpc_stack_pop(&st);
			continue;
		}
		sshrpc_term *c = &f->arr[f->i++];
		rc = copy_one(h, c, &kids, &nk);
		if (rc == SSHRPC_OK && kids != NULL) {
			struct copy_frame *nf = rpc_stack_push(&st, &rc);
			if (nf != NULL) {
				nf->arr = kids;
				nf->n = nk;
			}
		}
	}
	rpc_stack_free(&st);
	return rc;
}
