/* ETF encoder: byte for byte what term_to_binary/1,2 of OTP 25 writes
 * (testdata/etf/vectors.tsv and its siblings):
 *  - integers in the smallest form: SMALL_INTEGER_EXT for 0..255,
 *    INTEGER_EXT for the rest of int32, SMALL_BIG_EXT up to 255 digit bytes,
 *    LARGE_BIG_EXT beyond;
 *  - atoms that fit Latin-1 as ATOM_EXT (100), others as SMALL_ATOM_UTF8_EXT
 *    or ATOM_UTF8_EXT; with {minor_version,2} every atom as UTF-8;
 *  - floats as NEW_FLOAT_EXT, or FLOAT_EXT "%.20e" text with
 *    {minor_version,0};
 *  - proper lists of at most 65535 integers 0..255 as STRING_EXT;
 *  - maps in their stored order (key order up to 32 keys; for larger maps
 *    the reverse of the iteration order, as OTP's hash map encoder pops
 *    its nodes off a stack), or all in key order with [deterministic];
 *  - [compressed]: zlib at the given level, kept only when it is no larger
 *    than the plain encoding (OTP gives zlib an output buffer of the plain
 *    size minus 5 and falls back when it does not fit). */
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_internal.h"
#include "sshrpc_config.h"

/* meson -Dzlib=false (a firmware build without zlib) leaves out
 * compression: [compressed] then always writes the plain encoding, which
 * is what OTP writes too when compressing would not make the term smaller,
 * so the output stays what term_to_binary/2 may return. */
#if SSHRPC_WITH_ZLIB
#define ZLIB_CONST
#include <zlib.h>
#endif

struct enc_frame {
	const sshrpc_term *t;
	size_t i, n;
	uint32_t *idx; /* [deterministic] order of a large map */
};

struct enc {
	sshrpc_buf *out;
	unsigned flags;
	sshrpc_err *err;
	const sshrpc_alloc *alloc;
};

static int put_u16(sshrpc_buf *b, uint16_t v)
{
	uint8_t x[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return sshrpc_buf_put(b, x, 2);
}

static int put_tag_u32(sshrpc_buf *b, uint8_t tag, uint32_t v)
{
	uint8_t x[5] = { tag };
	sshrpc_store_be32(x + 1, v);
	return sshrpc_buf_put(b, x, 5);
}

static int enc_integer(struct enc *e, const sshrpc_term *t)
{
	sshrpc_buf *b = e->out;
	if (t->type == SSHRPC_TERM_INT) {
		int64_t v = t->v.i;
		if (v >= 0 && v <= 255) {
			uint8_t x[2] = { 97, (uint8_t)v };
			return sshrpc_buf_put(b, x, 2);
		}
		if (v >= INT32_MIN && v <= INT32_MAX)
			return put_tag_u32(b, 98, (uint32_t)(int32_t)v);
	}
	uint8_t tmp[8];
	size_t n;
	bool neg;
	const uint8_t *mag = rpc_integer_mag(t, tmp, &n, &neg);
	while (n > 0 && mag[n - 1] == 0)
		n--;
	int rc;
	if (n <= 255) {
		uint8_t x[3] = { 110, (uint8_t)n, neg ? 1 : 0 };
		rc = sshrpc_buf_put(b, x, 3);
	} else {
		rc = put_tag_u32(b, 111, (uint32_t)n);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_u8(b, neg ? 1 : 0);
	}
	return rc != SSHRPC_OK ? rc : sshrpc_buf_put(b, mag, n);
}

static int enc_float(struct enc *e, double v)
{
	if (e->flags & SSHRPC_ETF_MINOR_0) {
		/* FLOAT_EXT: 31 bytes of "%.20e" text, NUL padded. The radix
		 * character of a non-C locale is put back to '.'. */
		char txt[40];
		memset(txt, 0, sizeof txt);
		int n = snprintf(txt, sizeof txt, "%.20e", v);
		if (n < 0 || n > 31)
			return sshrpc_err_set(e->err, SSHRPC_E_INVALID, 0, "ETF: float text does not fit FLOAT_EXT");
		for (int i = 0; i < n; i++) {
			char c = txt[i];
			if (!((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e'))
				txt[i] = '.';
		}
		int rc = sshrpc_buf_put_u8(e->out, 99);
		return rc != SSHRPC_OK ? rc : sshrpc_buf_put(e->out, txt, 31);
	}
	uint64_t bits;
	memcpy(&bits, &v, sizeof bits);
	uint8_t x[9] = { 70 };
	sshrpc_store_be64(x + 1, bits);
	return sshrpc_buf_put(e->out, x, 9);
}

static int enc_atom(struct enc *e, const sshrpc_term *t)
{
	size_t chars;
	if (!rpc_utf8_check(t->v.bytes, t->len, &chars) || chars > RPC_ATOM_MAX_CHARS)
		return sshrpc_err_set(e->err, SSHRPC_E_INVALID, 0, "ETF: atom is not UTF-8 of at most 255 characters");
	sshrpc_buf *b = e->out;
	if (!(e->flags & SSHRPC_ETF_MINOR_2)) {
		/* Latin-1 if every character is below 256 */
		bool latin1 = true;
		for (size_t i = 0; i < t->len && latin1; i++)
			latin1 = t->v.bytes[i] < 0x80 || t->v.bytes[i] == 0xc2 || t->v.bytes[i] == 0xc3 ||
				 (t->v.bytes[i] & 0xc0) == 0x80;
		if (latin1) {
			uint8_t *d;
			int rc = sshrpc_buf_reserve(b, 3 + chars, &d);
			if (rc != SSHRPC_OK)
				return rc;
			d[0] = 100;
			d[1] = (uint8_t)(chars >> 8);
			d[2] = (uint8_t)chars;
			d += 3;
			for (size_t i = 0; i < t->len;) {
				uint8_t c = t->v.bytes[i];
				if (c < 0x80) {
					*d++ = c;
					i++;
				} else {
					/* C2/C3 lead byte: two bits of the character */
					*d++ = (uint8_t)(((c & 0x03) << 6) | (t->v.bytes[i + 1] & 0x3f));
					i += 2;
				}
			}
			return SSHRPC_OK;
		}
	}
	bool small = t->len <= 255;
	uint8_t *d;
	int rc = sshrpc_buf_reserve(b, (small ? 2 : 3) + t->len, &d);
	if (rc != SSHRPC_OK)
		return rc;
	if (small) {
		*d++ = 119;
	} else {
		*d++ = 118;
		*d++ = (uint8_t)(t->len >> 8);
	}
	*d++ = (uint8_t)t->len;
	memcpy(d, t->v.bytes, t->len);
	return SSHRPC_OK;
}

static bool is_byte_string(const sshrpc_term *t)
{
	if (t->len > 65535 || t->v.elems[t->len].type != SSHRPC_TERM_NIL)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		const sshrpc_term *x = &t->v.elems[i];
		if (x->type != SSHRPC_TERM_INT || x->v.i < 0 || x->v.i > 255)
			return false;
	}
	return true;
}

/* Writes t's own bytes; for a compound, *kids gets its child count (the
 * children follow). */
static int enc_one(struct enc *e, const sshrpc_term *t, size_t *kids)
{
	sshrpc_buf *b = e->out;
	*kids = 0;
	switch (t->type) {
	case SSHRPC_TERM_INT:
	case SSHRPC_TERM_BIGINT:
		return enc_integer(e, t);
	case SSHRPC_TERM_FLOAT:
		if (t->v.f != t->v.f || t->v.f > 1.7976931348623157e308 || t->v.f < -1.7976931348623157e308)
			return sshrpc_err_set(e->err, SSHRPC_E_INVALID, 0, "ETF: a float must be finite");
		return enc_float(e, t->v.f);
	case SSHRPC_TERM_ATOM:
		return enc_atom(e, t);
	case SSHRPC_TERM_BINARY: {
		if (t->aux > 7 || (t->aux != 0 && t->len == 0))
			return sshrpc_err_set(e->err, SSHRPC_E_INVALID, 0, "ETF: malformed bitstring");
		int rc;
		if (t->aux == 0) {
			rc = put_tag_u32(b, 109, t->len);
		} else {
			rc = put_tag_u32(b, 77, t->len);
			if (rc == SSHRPC_OK)
				rc = sshrpc_buf_put_u8(b, (uint8_t)(8 - t->aux));
		}
		if (rc != SSHRPC_OK || t->len == 0)
			return rc;
		if (t->aux == 0)
			return sshrpc_buf_put(b, t->v.bytes, t->len);
		/* unused low bits are written as zero */
		rc = sshrpc_buf_put(b, t->v.bytes, t->len - 1);
		return rc != SSHRPC_OK ? rc : sshrpc_buf_put_u8(b, t->v.bytes[t->len - 1] & (uint8_t)(0xff << t->aux));
	}
	case SSHRPC_TERM_NIL:
		return sshrpc_buf_put_u8(b, 106);
	case SSHRPC_TERM_LIST: {
		if (t->len == 0 || t->v.elems[t->len].type == SSHRPC_TERM_LIST)
			return sshrpc_err_set(e->err, SSHRPC_E_INVALID, 0, "ETF: malformed list term");
		if (is_byte_string(t)) {
			int rc = sshrpc_buf_put_u8(b, 107);
			uint8_t *d;
			if (rc == SSHRPC_OK)
				rc = put_u16(b, (uint16_t)t->len);
			if (rc == SSHRPC_OK)
				rc = sshrpc_buf_reserve(b, t->len, &d);
			for (size_t i = 0; i < t->len && rc == SSHRPC_OK; i++)
				d[i] = (uint8_t)t->v.elems[i].v.i;
			return rc;
		}
		*kids = (size_t)t->len + 1;
		return put_tag_u32(b, 108, t->len);
	}
	case SSHRPC_TERM_TUPLE:
		*kids = t->len;
		if (t->len <= 255) {
			uint8_t x[2] = { 104, (uint8_t)t->len };
			return sshrpc_buf_put(b, x, 2);
		}
		return put_tag_u32(b, 105, t->len);
	case SSHRPC_TERM_MAP:
		*kids = 2 * (size_t)t->len;
		return put_tag_u32(b, 116, t->len);
	default:
		return sshrpc_err_set(
			e->err, SSHRPC_E_INVALID, 0, "ETF: cannot encode an INVALID term (a constructor failed)");
	}
}

static const sshrpc_term *child(const struct enc_frame *f, size_t j)
{
	const sshrpc_term *t = f->t;
	if (t->type != SSHRPC_TERM_MAP)
		return &t->v.elems[j];
	size_t p = j / 2, which = j % 2;
	if (f->idx != NULL)
		p = f->idx[p];
	else if (t->len > RPC_FLATMAP_MAX)
		p = t->len - 1 - p;
	return &t->v.elems[2 * p + which];
}

static int enc_plain(struct enc *e, const sshrpc_term *root)
{
	rpc_stack st;
	rpc_stack_init(&st, e->alloc, sizeof(struct enc_frame), 0);
	const sshrpc_term *t = root;
	int rc;
	for (;;) {
		size_t kids;
		if ((rc = enc_one(e, t, &kids)) != SSHRPC_OK)
			break;
		if (kids > 0) {
			struct enc_frame *f = rpc_stack_push(&st, &rc);
			if (f == NULL)
				break;
			f->t = t;
			f->n = kids;
			if (t->type == SSHRPC_TERM_MAP && t->len > RPC_FLATMAP_MAX &&
				(e->flags & SSHRPC_ETF_DETERMINISTIC)) {
				if ((rc = rpc_map_sorted_index(t, e->alloc, &f->idx)) != SSHRPC_OK)
					break;
			}
		}
		struct enc_frame *f;
		while ((f = rpc_stack_top(&st)) != NULL && f->i == f->n) {
			if (f->idx != NULL)
				sshrpc_free(e->alloc, f->idx, 2 * (size_t)f->t->len * sizeof *f->idx);
			rpc_stack_pop(&st);
		}
		if (f == NULL)
			break;
		t = child(f, f->i++);
	}
	while (st.n > 0) {
		struct enc_frame *f = rpc_stack_top(&st);
		if (f->idx != NULL)
			sshrpc_free(e->alloc, f->idx, 2 * (size_t)f->t->len * sizeof *f->idx);
		rpc_stack_pop(&st);
	}
	rpc_stack_free(&st);
	return rc;
}

#if SSHRPC_WITH_ZLIB

/* Replaces the plain encoding at out[start..] by the compressed form when
 * zlib fits it into the plain size minus 5 bytes, as erts does. */
static int compress_tail(struct enc *e, size_t start, int level)
{
	sshrpc_buf *b = e->out;
	size_t real = sshrpc_buf_len(b) - start - 1;
	if (real < 5 || real > UINT32_MAX)
		return SSHRPC_OK;
	size_t cap = real - 5;
	uint8_t *z = sshrpc_malloc(e->alloc, cap == 0 ? 1 : cap);
	if (z == NULL)
		return SSHRPC_E_NOMEM;
	z_stream s;
	memset(&s, 0, sizeof s);
	s.zalloc = rpc_zalloc;
	s.zfree = rpc_zfree;
	s.opaque = (voidpf)(uintptr_t)e->alloc;
	int rc = SSHRPC_OK;
	if (deflateInit(&s, level) != Z_OK) {
		sshrpc_free(e->alloc, z, cap == 0 ? 1 : cap);
		return SSHRPC_E_NOMEM;
	}
	s.next_in = sshrpc_buf_ptr(b) + start + 1;
	s.avail_in = (uInt)real;
	s.next_out = z;
	s.avail_out = (uInt)cap;
	int zr = deflate(&s, Z_FINISH);
	size_t zlen = cap - s.avail_out;
	deflateEnd(&s);
	if (zr == Z_STREAM_END) {
		sshrpc_buf_truncate(b, start);
		uint8_t hdr[6] = { SSHRPC_ETF_VERSION, 80 };
		sshrpc_store_be32(hdr + 2, (uint32_t)real);
		rc = sshrpc_buf_put(b, hdr, 6);
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put(b, z, zlen);
	} else if (zr == Z_MEM_ERROR || zr == Z_STREAM_ERROR) {
		rc = SSHRPC_E_NOMEM;
	}
	sshrpc_free(e->alloc, z, cap == 0 ? 1 : cap);
	return rc;
}
#endif /* SSHRPC_WITH_ZLIB */

int sshrpc_etf_encode(sshrpc_buf *out, const sshrpc_term *t, const sshrpc_etf_enc_opts *opts, sshrpc_err *err)
{
	struct enc e = {
		.out = out,
		.flags = opts != NULL ? opts->flags : 0,
		.err = err,
		.alloc = out->alloc != NULL ? out->alloc : sshrpc_alloc_default(),
	};
	size_t start = sshrpc_buf_len(out);
	int rc = sshrpc_buf_put_u8(out, SSHRPC_ETF_VERSION);
	if (rc == SSHRPC_OK)
		rc = enc_plain(&e, t);
#if SSHRPC_WITH_ZLIB
	if (rc == SSHRPC_OK && opts != NULL && opts->compress != 0) {
		int level = opts->compress < 0 ? Z_DEFAULT_COMPRESSION : opts->compress;
		if (level > 9)
			level = 9;
		rc = compress_tail(&e, start, level);
	}
#endif
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(out, start);
		if (rc == SSHRPC_E_TOO_LARGE || rc == SSHRPC_E_NOMEM)
			sshrpc_err_set(err, rc, 0, "ETF: encoding does not fit (%s)", sshrpc_strerror(rc));
	}
	return rc;
}
