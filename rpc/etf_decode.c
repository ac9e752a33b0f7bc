/* ETF decoder (erl_ext_dist, version 131), in three passes and without
 * recursion:
 *  1. scan: checks every tag, length and count against the bytes left and
 *     the limits, and counts the term slots and bytes the result will need,
 *     allocating nothing but a stack of counts (8 bytes per nesting level);
 *  2. build: one array of term slots, children laid out contiguously, plus
 *     whatever atoms need converting; binaries point into the input when
 *     the caller lets them (SSHRPC_ETF_BORROW), so a 1 MiB binary costs no
 *     copy here;
 *  3. normalise, only when needed: lists whose tail is a list are joined
 *     ([1|[2]] is [1,2]); maps are sorted (up to 32 keys) or put in OTP's
 *     iteration order (more), and duplicate keys refused.
 * Everything binary_to_term/1 refuses is refused here (invalid.tsv), and
 * what it accepts that term_to_binary never writes is accepted
 * (lenient.tsv). Pids, ports, references and funs are refused: the RPC
 * service has no use for them and they name things of another node. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_internal.h"
#include "sshrpc_config.h"

/* meson -Dzlib=false (a firmware build without zlib) leaves out
 * compressed terms (tag 80); they are refused as unsupported. */
#if SSHRPC_WITH_ZLIB
#define ZLIB_CONST
#include <zlib.h>
#endif

enum {
	TAG_NEW_FLOAT = 70,
	TAG_BIT_BINARY = 77,
	TAG_COMPRESSED = 80,
	TAG_SMALL_INTEGER = 97,
	TAG_INTEGER = 98,
	TAG_FLOAT = 99,
	TAG_ATOM = 100,
	TAG_SMALL_TUPLE = 104,
	TAG_LARGE_TUPLE = 105,
	TAG_NIL = 106,
	TAG_STRING = 107,
	TAG_LIST = 108,
	TAG_BINARY = 109,
	TAG_SMALL_BIG = 110,
	TAG_LARGE_BIG = 111,
	TAG_SMALL_ATOM = 115,
	TAG_MAP = 116,
	TAG_ATOM_UTF8 = 118,
	TAG_SMALL_ATOM_UTF8 = 119,
};

#define FLOAT_EXT_LEN 31
/* deflate cannot expand more than 1032:1 (a 258-byte match per two bits);
 * a size field beyond that cannot be honest and is refused before the
 * output buffer is allocated. */
#define DEFLATE_MAX_RATIO 1032u

static const sshrpc_etf_limits default_limits = {
	.max_depth = 100000,
	.max_terms = (size_t)16 * 1024 * 1024,
	.max_bignum_bytes = (size_t)128 * 1024,
	.max_inflated = (size_t)64 * 1024 * 1024,
};

struct dec {
	sshrpc_heap *h;
	sshrpc_err *err;
	sshrpc_etf_limits lim;
	bool borrow;
	/* filled by the scan */
	size_t slots;
	size_t extra;
	bool need_fixup;
};

static int bad(struct dec *d, const char *what, size_t off)
{
	return sshrpc_err_set(d->err, SSHRPC_E_INVALID, 0, "ETF: %s (at byte %zu)", what, off);
}

static int rd_u16(sshrpc_reader *r, uint16_t *v)
{
	const uint8_t *p;
	int rc = sshrpc_rd_bytes(r, 2, &p);
	if (rc == SSHRPC_OK)
		*v = (uint16_t)((p[0] << 8) | p[1]);
	return rc;
}

static const char *tag_name(unsigned tag)
{
	switch (tag) {
	case 88:
		return "NEW_PID_EXT (88): pids";
	case 103:
		return "PID_EXT (103): pids";
	case 89:
		return "NEW_PORT_EXT (89): ports";
	case 102:
		return "PORT_EXT (102): ports";
	case 120:
		return "V4_PORT_EXT (120): ports";
	case 90:
		return "NEWER_REFERENCE_EXT (90): references";
	case 101:
		return "REFERENCE_EXT (101): references";
	case 114:
		return "NEW_REFERENCE_EXT (114): references";
	case 112:
		return "NEW_FUN_EXT (112): funs";
	case 117:
		return "FUN_EXT (117): funs";
	case 113:
		return "EXPORT_EXT (113): funs";
	default:
		return NULL;
	}
}

/* FLOAT_EXT: "%.20e" text padded with NULs (minor version 0). */
static int float_ext(const uint8_t *p, double *v)
{
	size_t n = 0;
	while (n < FLOAT_EXT_LEN && p[n] != 0)
		n++;
	size_t s = 0;
	while (s < n && p[s] == ' ')
		s++;
	return rpc_float_parse((const char *)p + s, n - s, v);
}

static double new_float(const uint8_t *p)
{
	uint64_t bits = sshrpc_load_be64(p);
	double v;
	memcpy(&v, &bits, sizeof v);
	return v;
}

/* ---- pass 1: scan --------------------------------------------------------- */

/* Bytes a Latin-1 atom needs once in UTF-8 beyond what it has. */
static size_t latin1_growth(const uint8_t *p, size_t n)
{
	size_t g = 0;
	for (size_t i = 0; i < n; i++)
		g += p[i] >= 0x80;
	return g;
}

static int add_slots(struct dec *d, size_t n, size_t off)
{
	if (n > d->lim.max_terms || d->slots > d->lim.max_terms - n)
		return sshrpc_err_set(d->err, SSHRPC_E_TOO_LARGE, 0,
			"ETF: more than %zu terms in one message (at byte %zu)", d->lim.max_terms, off);
	d->slots += n;
	return SSHRPC_OK;
}

static int add_extra(struct dec *d, size_t n)
{
	size_t a = (n + 7) & ~(size_t)7;
	if (a < n || d->extra > SIZE_MAX - a)
		return SSHRPC_E_TOO_LARGE;
	d->extra += a;
	return SSHRPC_OK;
}

/* Reads one atom body after its tag; checks it, and reports the bytes. */
static int scan_atom(struct dec *d, sshrpc_reader *r, unsigned tag, size_t at)
{
	size_t len;
	if (tag == TAG_SMALL_ATOM || tag == TAG_SMALL_ATOM_UTF8) {
		uint8_t l;
		if (sshrpc_rd_u8(r, &l) != SSHRPC_OK)
			return bad(d, "atom length truncated", at);
		len = l;
	} else {
		uint16_t l;
		if (rd_u16(r, &l) != SSHRPC_OK)
			return bad(d, "atom length truncated", at);
		len = l;
	}
	const uint8_t *p;
	if (sshrpc_rd_bytes(r, len, &p) != SSHRPC_OK) {
		char m[80];
		snprintf(m, sizeof m, "atom length %zu exceeds the %zu bytes left", len, sshrpc_rd_left(r));
		return bad(d, m, at);
	}
	if (tag == TAG_ATOM || tag == TAG_SMALL_ATOM) {
		if (len > RPC_ATOM_MAX_CHARS)
			return bad(d, "ATOM_EXT of more than 255 characters", at);
		size_t g = latin1_growth(p, len);
		if (g > 0 || !d->borrow)
			return add_extra(d, len + g);
		return SSHRPC_OK;
	}
	size_t chars;
	if (!rpc_utf8_check(p, len, &chars))
		return bad(d, "atom is not valid UTF-8", at);
	if (chars > RPC_ATOM_MAX_CHARS)
		return bad(d, "atom of more than 255 characters", at);
	return d->borrow ? SSHRPC_OK : add_extra(d, len);
}

/* Checks one term body; *children gets the terms it contains (to be read
 * next) and the slots are counted. */
static int scan_one(struct dec *d, sshrpc_reader *r, size_t *children)
{
	size_t at = r->off;
	uint8_t tag;
	*children = 0;
	if (sshrpc_rd_u8(r, &tag) != SSHRPC_OK)
		return bad(d, "a term is missing: input ends", at);
	size_t left;
	switch (tag) {
	case TAG_SMALL_INTEGER:
		if (sshrpc_rd_skip(r, 1) != SSHRPC_OK)
			return bad(d, "SMALL_INTEGER_EXT truncated", at);
		return SSHRPC_OK;
	case TAG_INTEGER:
		if (sshrpc_rd_skip(r, 4) != SSHRPC_OK)
			return bad(d, "INTEGER_EXT truncated", at);
		return SSHRPC_OK;
	case TAG_NEW_FLOAT: {
		const uint8_t *p;
		if (sshrpc_rd_bytes(r, 8, &p) != SSHRPC_OK)
			return bad(d, "NEW_FLOAT_EXT truncated", at);
		if (!isfinite(new_float(p)))
			return bad(d, "NEW_FLOAT_EXT is not finite (NaN or infinity)", at);
		return SSHRPC_OK;
	}
	case TAG_FLOAT: {
		const uint8_t *p;
		double v;
		if (sshrpc_rd_bytes(r, FLOAT_EXT_LEN, &p) != SSHRPC_OK)
			return bad(d, "FLOAT_EXT truncated (31 bytes of text)", at);
		if (float_ext(p, &v) != SSHRPC_OK)
			return bad(d, "FLOAT_EXT text is not a finite float", at);
		return SSHRPC_OK;
	}
	case TAG_ATOM:
	case TAG_SMALL_ATOM:
	case TAG_ATOM_UTF8:
	case TAG_SMALL_ATOM_UTF8:
		return scan_atom(d, r, tag, at);
	case TAG_SMALL_TUPLE:
	case TAG_LARGE_TUPLE: {
		uint32_t n;
		if (tag == TAG_SMALL_TUPLE) {
			uint8_t a;
			if (sshrpc_rd_u8(r, &a) != SSHRPC_OK)
				return bad(d, "SMALL_TUPLE_EXT arity truncated", at);
			n = a;
		} else if (sshrpc_rd_u32(r, &n) != SSHRPC_OK) {
			return bad(d, "LARGE_TUPLE_EXT arity truncated", at);
		}
		*children = n;
		return add_slots(d, n, at);
	}
	case TAG_NIL:
		return SSHRPC_OK;
	case TAG_STRING: {
		uint16_t n;
		if (rd_u16(r, &n) != SSHRPC_OK || sshrpc_rd_skip(r, n) != SSHRPC_OK)
			return bad(d, "STRING_EXT length exceeds the bytes left", at);
		return n > 0 ? add_slots(d, (size_t)n + 1, at) : SSHRPC_OK;
	}
	case TAG_LIST: {
		uint32_t n;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return bad(d, "LIST_EXT length truncated", at);
		if ((size_t)n > sshrpc_rd_left(r))
			return bad(d, "LIST_EXT length exceeds the bytes left", at);
		/* n elements and a tail; LIST_EXT of length 0 is just its tail
		 * (lenient.tsv), which then takes the list's own slot. */
		*children = (size_t)n + 1;
		return n > 0 ? add_slots(d, (size_t)n + 1, at) : SSHRPC_OK;
	}
	case TAG_BINARY: {
		uint32_t n;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return bad(d, "BINARY_EXT length truncated", at);
		if (sshrpc_rd_skip(r, n) != SSHRPC_OK)
			return bad(d, "BINARY_EXT length exceeds the bytes left", at);
		return d->borrow ? SSHRPC_OK : add_extra(d, n);
	}
	case TAG_BIT_BINARY: {
		uint32_t n;
		uint8_t bits;
		const uint8_t *p;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK || sshrpc_rd_u8(r, &bits) != SSHRPC_OK)
			return bad(d, "BIT_BINARY_EXT header truncated", at);
		if (sshrpc_rd_bytes(r, n, &p) != SSHRPC_OK)
			return bad(d, "BIT_BINARY_EXT length exceeds the bytes left", at);
		/* Bits is 1..8 for a non-empty bitstring; 0 bytes go with 0 bits. */
		if (n == 0 ? bits != 0 : (bits < 1 || bits > 8))
			return bad(d, "BIT_BINARY_EXT bits field out of range", at);
		bool masked = n > 0 && bits < 8 && (p[n - 1] & (0xffu >> bits)) != 0;
		return d->borrow && !masked ? SSHRPC_OK : add_extra(d, n);
	}
	case TAG_SMALL_BIG:
	case TAG_LARGE_BIG: {
		uint32_t n;
		if (tag == TAG_SMALL_BIG) {
			uint8_t a;
			if (sshrpc_rd_u8(r, &a) != SSHRPC_OK)
				return bad(d, "SMALL_BIG_EXT length truncated", at);
			n = a;
		} else if (sshrpc_rd_u32(r, &n) != SSHRPC_OK) {
			return bad(d, "LARGE_BIG_EXT length truncated", at);
		}
		if (sshrpc_rd_skip(r, 1) != SSHRPC_OK)
			return bad(d, "bignum sign byte missing", at);
		left = sshrpc_rd_left(r);
		if (n > left)
			return bad(d, "bignum length exceeds the bytes left", at);
		if (n > d->lim.max_bignum_bytes)
			return sshrpc_err_set(d->err, SSHRPC_E_TOO_LARGE, 0,
				"ETF: integer of %" PRIu32 " bytes exceeds the limit of %zu (at byte %zu)", n,
				d->lim.max_bignum_bytes, at);
		if (sshrpc_rd_skip(r, n) != SSHRPC_OK)
			return bad(d, "bignum truncated", at);
		return d->borrow ? SSHRPC_OK : add_extra(d, n);
	}
	case TAG_MAP: {
		uint32_t n;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return bad(d, "MAP_EXT arity truncated", at);
		/* checked before doubling it (32-bit size_t) */
		if ((size_t)n > sshrpc_rd_left(r) / 2)
			return bad(d, "MAP_EXT arity exceeds the bytes left", at);
		*children = 2 * (size_t)n;
		d->need_fixup = d->need_fixup || n > 1;
		return add_slots(d, 2 * (size_t)n, at);
	}
	case TAG_COMPRESSED:
		return bad(d, "compressed term (tag 80) inside a term", at);
	case 82:
		return bad(d, "ATOM_CACHE_REF (82) outside a distribution header", at);
	case 68:
	case 69:
		return bad(d, "distribution header inside a term", at);
	case 121:
		return bad(d, "LOCAL_EXT (121) outside a local decode context", at);
	default: {
		const char *n = tag_name(tag);
		if (n != NULL)
			return sshrpc_err_set(d->err, SSHRPC_E_UNSUPPORTED, 0,
				"ETF: badarg: %s are not supported by sshrpc (at byte %zu)", n, at);
		char m[40];
		snprintf(m, sizeof m, "unknown tag %u", tag);
		return bad(d, m, at);
	}
	}
}

static int scan(struct dec *d, const uint8_t *p, size_t n, size_t *end)
{
	sshrpc_reader r;
	sshrpc_rd_init(&r, p, n);
	/* Open compounds and how many of their children are still unfinished.
	 * The children not yet started never outnumber the bytes left (every
	 * term takes at least one byte): that is how a count is checked
	 * against the input before anything is built for it. */
	rpc_stack st;
	rpc_stack_init(&st, d->h->alloc, sizeof(size_t), d->lim.max_depth);
	size_t pending = 0;
	d->slots = 1;
	int rc = SSHRPC_OK;
	for (;;) {
		size_t at = r.off, kids;
		if ((rc = scan_one(d, &r, &kids)) != SSHRPC_OK)
			break;
		if (kids > 0) {
			/* Each open compound has one child in progress (an ancestor of
			 * this term), whose bytes are this term's: not counted. */
			size_t waiting = pending - st.n;
			if (kids > sshrpc_rd_left(&r) || waiting > sshrpc_rd_left(&r) - kids) {
				char m[96];
				snprintf(m, sizeof m, "%zu terms announced but only %zu bytes left", kids + waiting,
					sshrpc_rd_left(&r));
				rc = bad(d, m, at);
				break;
			}
			size_t *top = rpc_stack_push(&st, &rc);
			if (top == NULL) {
				rc = sshrpc_err_set(d->err, rc, 0, "ETF: nesting deeper than %zu (at byte %zu)",
					d->lim.max_depth, at);
				break;
			}
			*top = kids;
			pending += kids;
			continue;
		}
		/* one term complete: count it off its parent, closing parents */
		size_t *top;
		while ((top = rpc_stack_top(&st)) != NULL) {
			(*top)--;
			pending--;
			if (*top > 0)
				break;
			rpc_stack_pop(&st);
		}
		if (top == NULL)
			break;
	}
	rpc_stack_free(&st);
	*end = r.off;
	return rc;
}

/* ---- pass 2: build ---------------------------------------------------------- */

struct build_frame {
	sshrpc_term *node;
	uint32_t i, n;
};

static const uint8_t *keep(struct dec *d, const uint8_t *p, size_t n)
{
	if (d->borrow || n == 0)
		return p;
	uint8_t *q = sshrpc_heap_alloc(d->h, n);
	if (q != NULL)
		memcpy(q, p, n);
	return q;
}

/* Builds the term at r into *t. A compound gets its slots (from *next) and
 * is returned in *open for its children to be read into. *again is set for
 * LIST_EXT of length 0, whose tail is read into the same slot. */
static int build_one(
	struct dec *d, sshrpc_reader *r, sshrpc_term *t, sshrpc_term *slots, size_t *next, bool *open, bool *again)
{
	uint8_t tag;
	const uint8_t *p;
	*open = false;
	*again = false;
	memset(t, 0, sizeof *t);
	if (sshrpc_rd_u8(r, &tag) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	switch (tag) {
	case TAG_SMALL_INTEGER: {
		uint8_t v;
		if (sshrpc_rd_u8(r, &v) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		*t = sshrpc_term_int(v);
		return SSHRPC_OK;
	}
	case TAG_INTEGER: {
		uint32_t v;
		if (sshrpc_rd_u32(r, &v) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		*t = sshrpc_term_int((int32_t)v);
		return SSHRPC_OK;
	}
	case TAG_NEW_FLOAT:
		if (sshrpc_rd_bytes(r, 8, &p) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		t->type = SSHRPC_TERM_FLOAT;
		t->v.f = new_float(p);
		return SSHRPC_OK;
	case TAG_FLOAT:
		if (sshrpc_rd_bytes(r, FLOAT_EXT_LEN, &p) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		t->type = SSHRPC_TERM_FLOAT;
		return float_ext(p, &t->v.f);
	case TAG_ATOM:
	case TAG_SMALL_ATOM:
	case TAG_ATOM_UTF8:
	case TAG_SMALL_ATOM_UTF8: {
		size_t len;
		if (tag == TAG_SMALL_ATOM || tag == TAG_SMALL_ATOM_UTF8) {
			uint8_t l;
			if (sshrpc_rd_u8(r, &l) != SSHRPC_OK)
				return SSHRPC_E_INVALID;
			len = l;
		} else {
			uint16_t l;
			if (rd_u16(r, &l) != SSHRPC_OK)
				return SSHRPC_E_INVALID;
			len = l;
		}
		if (sshrpc_rd_bytes(r, len, &p) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		t->type = SSHRPC_TERM_ATOM;
		size_t g = (tag == TAG_ATOM || tag == TAG_SMALL_ATOM) ? latin1_growth(p, len) : 0;
		if (g == 0) {
			t->len = (uint32_t)len;
			t->v.bytes = keep(d, p, len);
			return t->v.bytes != NULL || len == 0 ? SSHRPC_OK : d->h->failed;
		}
		/* Latin-1 to UTF-8: OTP 20+ atoms are UTF-8 inside. */
		uint8_t *q = sshrpc_heap_alloc(d->h, len + g);
		if (q == NULL)
			return d->h->failed;
		size_t o = 0;
		for (size_t i = 0; i < len; i++)
			o += rpc_utf8_encode(p[i], q + o);
		t->len = (uint32_t)o;
		t->v.bytes = q;
		return SSHRPC_OK;
	}
	case TAG_SMALL_TUPLE:
	case TAG_LARGE_TUPLE: {
		uint32_t n;
		if (tag == TAG_SMALL_TUPLE) {
			uint8_t a;
			if (sshrpc_rd_u8(r, &a) != SSHRPC_OK)
				return SSHRPC_E_INVALID;
			n = a;
		} else if (sshrpc_rd_u32(r, &n) != SSHRPC_OK) {
			return SSHRPC_E_INVALID;
		}
		t->type = SSHRPC_TERM_TUPLE;
		t->len = n;
		t->v.elems = slots + *next;
		*next += n;
		*open = n > 0;
		return SSHRPC_OK;
	}
	case TAG_NIL:
		t->type = SSHRPC_TERM_NIL;
		return SSHRPC_OK;
	case TAG_STRING: {
		uint16_t n;
		if (rd_u16(r, &n) != SSHRPC_OK || sshrpc_rd_bytes(r, n, &p) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		if (n == 0) {
			t->type = SSHRPC_TERM_NIL;
			return SSHRPC_OK;
		}
		sshrpc_term *e = slots + *next;
		*next += (size_t)n + 1;
		for (size_t i = 0; i < n; i++)
			e[i] = sshrpc_term_int(p[i]);
		e[n] = sshrpc_term_nil();
		t->type = SSHRPC_TERM_LIST;
		t->len = n;
		t->v.elems = e;
		return SSHRPC_OK;
	}
	case TAG_LIST: {
		uint32_t n;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		if (n == 0) {
			*again = true;
			return SSHRPC_OK;
		}
		t->type = SSHRPC_TERM_LIST;
		t->len = n;
		t->v.elems = slots + *next;
		*next += (size_t)n + 1;
		*open = true;
		return SSHRPC_OK;
	}
	case TAG_BINARY:
	case TAG_BIT_BINARY: {
		uint32_t n;
		uint8_t bits = 8;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		if (tag == TAG_BIT_BINARY && sshrpc_rd_u8(r, &bits) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		if (sshrpc_rd_bytes(r, n, &p) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		t->type = SSHRPC_TERM_BINARY;
		t->len = n;
		t->aux = n > 0 && bits < 8 ? (uint8_t)(8 - bits) : 0;
		uint8_t mask = (uint8_t)(0xffu << t->aux);
		if (n > 0 && (p[n - 1] & mask) != p[n - 1]) {
			/* OTP masks unused low bits off (lenient.tsv) */
			uint8_t *q = sshrpc_heap_alloc(d->h, n);
			if (q == NULL)
				return d->h->failed;
			memcpy(q, p, n);
			q[n - 1] &= mask;
			t->v.bytes = q;
			return SSHRPC_OK;
		}
		t->v.bytes = keep(d, p, n);
		return t->v.bytes != NULL || n == 0 ? SSHRPC_OK : d->h->failed;
	}
	case TAG_SMALL_BIG:
	case TAG_LARGE_BIG: {
		uint32_t n;
		uint8_t sign;
		if (tag == TAG_SMALL_BIG) {
			uint8_t a;
			if (sshrpc_rd_u8(r, &a) != SSHRPC_OK)
				return SSHRPC_E_INVALID;
			n = a;
		} else if (sshrpc_rd_u32(r, &n) != SSHRPC_OK) {
			return SSHRPC_E_INVALID;
		}
		if (sshrpc_rd_u8(r, &sign) != SSHRPC_OK || sshrpc_rd_bytes(r, n, &p) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		/* any non-zero sign byte is negative (lenient.tsv) */
		return rpc_integer_make(d->h, sign != 0, p, n, !d->borrow, t);
	}
	case TAG_MAP: {
		uint32_t n;
		if (sshrpc_rd_u32(r, &n) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		t->type = SSHRPC_TERM_MAP;
		t->len = n;
		t->v.elems = slots + *next;
		*next += 2 * (size_t)n;
		*open = n > 0;
		return SSHRPC_OK;
	}
	default:
		return SSHRPC_E_INVALID; /* the scan refused it already */
	}
}

static int build(struct dec *d, const uint8_t *p, size_t n, sshrpc_term *slots)
{
	sshrpc_reader r;
	sshrpc_rd_init(&r, p, n);
	rpc_stack st;
	rpc_stack_init(&st, d->h->alloc, sizeof(struct build_frame), d->lim.max_depth);
	size_t next = 1;
	sshrpc_term *dst = &slots[0];
	int rc = SSHRPC_OK;
	for (;;) {
		bool open, again;
		rc = build_one(d, &r, dst, slots, &next, &open, &again);
		if (rc != SSHRPC_OK)
			break;
		if (again)
			continue;
		if (open) {
			struct build_frame *f = rpc_stack_push(&st, &rc);
			if (f == NULL)
				break;
			f->node = dst;
			f->n = dst->type == SSHRPC_TERM_LIST  ? dst->len + 1
			       : dst->type == SSHRPC_TERM_MAP ? 2 * dst->len
							      : dst->len;
			dst = &dst->v.elems[0];
			f->i = 1;
			continue;
		}
		struct build_frame *f;
		while ((f = rpc_stack_top(&st)) != NULL && f->i == f->n) {
			sshrpc_term *node = f->node;
			if (node->type == SSHRPC_TERM_LIST && node->v.elems[node->len].type == SSHRPC_TERM_LIST) {
				/* [a|[b]]: the tail list is a segment of this one */
				node->v.elems[node->len].reserved = 1;
				d->need_fixup = true;
			}
			rpc_stack_pop(&st);
		}
		if (f == NULL)
			break;
		dst = &f->node->v.elems[f->i++];
	}
	rpc_stack_free(&st);
	return rc;
}

/* ---- pass 3: normalise ------------------------------------------------------ */

/* Joins the chain of list segments starting at head into one array. */
static int join_chain(struct dec *d, sshrpc_term *head)
{
	size_t total = 0;
	const sshrpc_term *s = head;
	while (s->type == SSHRPC_TERM_LIST) {
		total += s->len;
		s = &s->v.elems[s->len];
	}
	if (total > UINT32_MAX)
		return sshrpc_err_set(d->err, SSHRPC_E_TOO_LARGE, 0, "ETF: list longer than 2^32-1 elements");
	sshrpc_term *e = sshrpc_heap_alloc(d->h, (total + 1) * sizeof *e);
	if (e == NULL)
		return d->h->failed;
	size_t o = 0;
	s = head;
	while (s->type == SSHRPC_TERM_LIST) {
		memcpy(e + o, s->v.elems, s->len * sizeof *e);
		o += s->len;
		s = &s->v.elems[s->len];
	}
	e[o] = *s;
	head->len = (uint32_t)total;
	head->v.elems = e;
	return SSHRPC_OK;
}

static void reverse_pairs(sshrpc_term *m)
{
	sshrpc_term *e = m->v.elems;
	for (size_t i = 0, j = m->len - 1; i < j; i++, j--) {
		sshrpc_term k = e[2 * i], v = e[2 * i + 1];
		e[2 * i] = e[2 * j];
		e[2 * i + 1] = e[2 * j + 1];
		e[2 * j] = k;
		e[2 * j + 1] = v;
	}
}

static int fixup(struct dec *d, sshrpc_term *slots, size_t n)
{
	/* Children always sit at higher slots than their parent, so walking the
	 * slots downwards finishes every subterm before the term holding it. */
	for (size_t i = n; i-- > 0;) {
		sshrpc_term *t = &slots[i];
		if (t->type == SSHRPC_TERM_LIST && t->reserved == 0 && t->v.elems[t->len].type == SSHRPC_TERM_LIST) {
			int rc = join_chain(d, t);
			if (rc != SSHRPC_OK)
				return rc;
		} else if (t->type == SSHRPC_TERM_MAP && t->len > 1) {
			/* OTP writes a hash map (more than 32 keys) by popping its
			 * nodes off a stack: the reverse of the order maps:to_list/1
			 * and io_lib print it in. */
			if (t->len > RPC_FLATMAP_MAX)
				reverse_pairs(t);
			int rc = rpc_map_normalize(t, d->h->alloc);
			if (rc == SSHRPC_E_INVALID)
				return sshrpc_err_set(d->err, rc, 0, "ETF: MAP_EXT with a duplicate key");
			if (rc != SSHRPC_OK)
				return sshrpc_err_set(
					d->err, rc, 0, "ETF: map keys cannot be compared (%s)", sshrpc_strerror(rc));
		}
	}
	for (size_t i = 0; i < n; i++)
		slots[i].reserved = 0;
	return SSHRPC_OK;
}

/* ---- compressed terms -------------------------------------------------------- */

#if SSHRPC_WITH_ZLIB

/* Inflates exactly size bytes from p; *used gets the compressed bytes the
 * zlib stream took. */
static int inflate_exact(struct dec *d, const uint8_t *p, size_t n, size_t size, uint8_t **out, size_t *used)
{
	uint8_t *dst = sshrpc_heap_alloc(d->h, size);
	if (dst == NULL)
		return sshrpc_err_set(d->err, d->h->failed, 0,
			"ETF: compressed term of %zu bytes does not fit the memory limit", size);
	z_stream z;
	memset(&z, 0, sizeof z);
	z.zalloc = rpc_zalloc;
	z.zfree = rpc_zfree;
	z.opaque = (voidpf)(uintptr_t)d->h->alloc;
	if (inflateInit(&z) != Z_OK)
		return sshrpc_err_set(d->err, SSHRPC_E_NOMEM, 0, "ETF: zlib inflateInit failed");
	/* size came from a 32-bit field, so it fits avail_out; the input is
	 * capped the same way (a stream that long is refused as too long). */
	z.next_in = p;
	z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	z.next_out = dst;
	z.avail_out = (uInt)size;
	int zr = inflate(&z, Z_FINISH);
	int rc = SSHRPC_OK;
	if (zr == Z_STREAM_END) {
		if (z.avail_out != 0)
			rc = bad(d, "compressed term inflates to less than its size field", 2);
	} else if (zr == Z_BUF_ERROR && z.avail_out == 0) {
		/* output full, stream not finished: more data than announced, or
		 * a stream cut short */
		uint8_t spare;
		z.next_out = &spare;
		z.avail_out = 1;
		(void)inflate(&z, Z_FINISH);
		if (z.avail_out == 0)
			rc = bad(d, "compressed term inflates to more than its size field", 2);
		else
			rc = bad(d, "compressed data is not a complete zlib stream", 6);
	} else if (zr == Z_MEM_ERROR) {
		rc = sshrpc_err_set(d->err, SSHRPC_E_NOMEM, 0, "ETF: zlib ran out of memory");
	} else {
		rc = bad(d, "compressed data is not a complete zlib stream", 6);
	}
	*used = n - z.avail_in - (n > UINT32_MAX ? n - UINT32_MAX : 0);
	inflateEnd(&z);
	if (rc != SSHRPC_OK)
		return rc;
	*out = dst;
	return SSHRPC_OK;
}
#endif /* SSHRPC_WITH_ZLIB */

/* ---- entry point --------------------------------------------------------------- */

static int decode_body(struct dec *d, const uint8_t *p, size_t n, sshrpc_term *out, size_t *end)
{
	int rc = scan(d, p, n, end);
	if (rc != SSHRPC_OK)
		return rc;
	size_t left = d->h->max - d->h->used;
	if (d->slots > SIZE_MAX / sizeof(sshrpc_term) || d->slots * sizeof(sshrpc_term) > left ||
		d->extra > left - d->slots * sizeof(sshrpc_term))
		return sshrpc_err_set(d->err, SSHRPC_E_TOO_LARGE, 0,
			"ETF: decoded term needs %zu term slots and %zu bytes, more than the %zu bytes allowed",
			d->slots, d->extra, left);
	sshrpc_term *slots = sshrpc_heap_alloc(d->h, d->slots * sizeof(sshrpc_term));
	if (slots == NULL)
		return sshrpc_err_set(d->err, d->h->failed, 0, "ETF: no memory for %zu terms", d->slots);
	rc = build(d, p, *end, slots);
	if (rc != SSHRPC_OK)
		return sshrpc_err_set(d->err, rc, 0, "ETF: building the term failed (%s)", sshrpc_strerror(rc));
	if (d->need_fixup && (rc = fixup(d, slots, d->slots)) != SSHRPC_OK)
		return rc;
	*out = slots[0];
	return SSHRPC_OK;
}

int sshrpc_etf_decode(sshrpc_heap *h, const uint8_t *p, size_t len, unsigned flags, const sshrpc_etf_limits *limits,
	sshrpc_term *out, size_t *used, sshrpc_err *err)
{
	struct dec d;
	memset(&d, 0, sizeof d);
	d.h = h;
	d.err = err;
	d.borrow = (flags & SSHRPC_ETF_BORROW) != 0;
	d.lim = default_limits;
	if (limits != NULL) {
		if (limits->max_depth != 0)
			d.lim.max_depth = limits->max_depth;
		if (limits->max_terms != 0)
			d.lim.max_terms = limits->max_terms;
		if (limits->max_bignum_bytes != 0)
			d.lim.max_bignum_bytes = limits->max_bignum_bytes;
		if (limits->max_inflated != 0)
			d.lim.max_inflated = limits->max_inflated;
	}
	*out = (sshrpc_term){ .type = SSHRPC_TERM_INVALID };
	if (len == 0)
		return bad(&d, "empty input", 0);
	if (p[0] != SSHRPC_ETF_VERSION) {
		char m[64];
		snprintf(m, sizeof m, "version byte %u, expected 131", p[0]);
		return bad(&d, m, 0);
	}
	if (len == 1)
		return bad(&d, "nothing after the version byte", 1);
	size_t end, total;
	sshrpc_term t;
	int rc;
	if (p[1] == TAG_COMPRESSED) {
#if !SSHRPC_WITH_ZLIB
		return sshrpc_err_set(err, SSHRPC_E_UNSUPPORTED, 0,
			"ETF: compressed term (tag 80) at byte 1, and this build has no zlib (meson -Dzlib=false)");
#else
		if (len < 6)
			return bad(&d, "compressed term: size field truncated", 2);
		size_t size = sshrpc_load_be32(p + 2);
		size_t zlen = len - 6;
		if (size == 0)
			return bad(&d, "compressed term of size 0", 2);
		if (size > d.lim.max_inflated)
			return sshrpc_err_set(err, SSHRPC_E_TOO_LARGE, 0,
				"ETF: compressed term of %zu bytes exceeds the limit of %zu", size, d.lim.max_inflated);
		if (size / DEFLATE_MAX_RATIO > zlen + 1)
			return bad(&d, "compressed term's size field exceeds what deflate can expand its data to", 2);
		uint8_t *body = NULL;
		size_t zused = 0;
		if ((rc = inflate_exact(&d, p + 6, zlen, size, &body, &zused)) != SSHRPC_OK)
			return rc;
		/* the inflated bytes are in h: terms may point into them */
		d.borrow = true;
		if ((rc = decode_body(&d, body, size, &t, &end)) != SSHRPC_OK)
			return rc;
		if (end != size)
			return bad(&d, "bytes left over inside the compressed term", 6);
		total = 6 + zused;
#endif
	} else {
		if ((rc = decode_body(&d, p + 1, len - 1, &t, &end)) != SSHRPC_OK)
			return rc;
		total = 1 + end;
	}
	if (total != len && !(flags & SSHRPC_ETF_TRAILING)) {
		char m[80];
		snprintf(m, sizeof m, "%zu bytes after the term", len - total);
		return bad(&d, m, total);
	}
	if (used != NULL)
		*used = total;
	*out = t;
	return SSHRPC_OK;
}
