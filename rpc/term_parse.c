/* Erlang term text to terms: the subset of Erlang syntax that names data
 * (erl_scan/erl_parse for literals), so that what term_print.c writes, what
 * OTP's ~p writes, and what a person types after `sshrpc host` all read
 * back. The parser keeps its own stacks (open compounds, finished values)
 * instead of recursing, like the rest of rpc/. */
#include <string.h>

#include "rpc/rpc_internal.h"

enum frame_kind { FR_TUPLE, FR_LIST, FR_MAP };

/* Reading (and later printing) an integer costs time quadratic in its
 * digits; an exec command is text from the peer, so a literal is capped
 * (10000 decimal digits is about 4 KiB of bignum; ETF carries bigger ones). */
#define TEXT_MAX_DIGITS 10000

struct pframe {
	uint8_t kind;
	uint8_t tail;	/* list: after '|' */
	size_t base;	/* first value of this compound on the value stack */
	size_t open_at; /* offset of the opening bracket, for messages */
};

struct parser {
	const uint8_t *s;
	size_t n, pos;
	sshrpc_heap *h;
	sshrpc_err *err;
	const sshrpc_alloc *a;
	sshrpc_term *vals;
	size_t nvals, capvals;
	rpc_stack frames;
};

static int perr(struct parser *p, const char *what)
{
	return sshrpc_err_set(p->err, SSHRPC_E_INVALID, 0, "term text: %s at offset %zu", what, p->pos);
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->n) {
		uint8_t c = p->s[p->pos];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
			p->pos++;
		} else if (c == '%') {
			/* a comment runs to the end of the line */
			while (p->pos < p->n && p->s[p->pos] != '\n')
				p->pos++;
		} else {
			break;
		}
	}
}

/* The next significant character (0 at the end), not consumed. */
static int peek(struct parser *p)
{
	skip_ws(p);
	return p->pos < p->n ? p->s[p->pos] : 0;
}

static bool eat(struct parser *p, const char *tok)
{
	size_t l = strlen(tok);
	skip_ws(p);
	if (p->n - p->pos >= l && memcmp(p->s + p->pos, tok, l) == 0) {
		p->pos += l;
		return true;
	}
	return false;
}

static int push_val(struct parser *p, sshrpc_term v)
{
	if (v.type == SSHRPC_TERM_INVALID)
		return p->h->failed != 0 ? sshrpc_err_set(p->err, p->h->failed, 0, "term text: out of memory")
					 : perr(p, "invalid value");
	if (p->nvals == p->capvals) {
		size_t nc = p->capvals == 0 ? 32 : p->capvals * 2;
		sshrpc_term *nv = p->vals == NULL
					  ? sshrpc_malloc(p->a, nc * sizeof *nv)
					  : sshrpc_realloc(p->a, p->vals, p->capvals * sizeof *nv, nc * sizeof *nv);
		if (nv == NULL)
			return sshrpc_err_set(p->err, SSHRPC_E_NOMEM, 0, "term text: out of memory");
		p->vals = nv;
		p->capvals = nc;
	}
	p->vals[p->nvals++] = v;
	return SSHRPC_OK;
}

/* ---- characters and escapes ----------------------------------------------- */

/* One UTF-8 character of the text. */
static int next_cp(struct parser *p, uint32_t *cp)
{
	if (p->pos >= p->n)
		return perr(p, "unexpected end of text");
	size_t l = rpc_utf8_decode(p->s + p->pos, p->n - p->pos, cp);
	if (l == 0)
		return perr(p, "text is not valid UTF-8");
	p->pos += l;
	return SSHRPC_OK;
}

static int hexval(uint32_t c)
{
	if (c >= '0' && c <= '9')
		return (int)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (int)(c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (int)(c - 'A' + 10);
	return -1;
}

/* The character after a backslash (erl_scan's escapes). */
static int escape(struct parser *p, uint32_t *out)
{
	uint32_t c;
	int rc = next_cp(p, &c);
	if (rc != SSHRPC_OK)
		return rc;
	switch (c) {
	case 'b':
		*out = '\b';
		return SSHRPC_OK;
	case 'd':
		*out = 127;
		return SSHRPC_OK;
	case 'e':
		*out = 27;
		return SSHRPC_OK;
	case 'f':
		*out = '\f';
		return SSHRPC_OK;
	case 'n':
		*out = '\n';
		return SSHRPC_OK;
	case 'r':
		*out = '\r';
		return SSHRPC_OK;
	case 's':
		*out = ' ';
		return SSHRPC_OK;
	case 't':
		*out = '\t';
		return SSHRPC_OK;
	case 'v':
		*out = '\v';
		return SSHRPC_OK;
	case '^': {
		if ((rc = next_cp(p, &c)) != SSHRPC_OK)
			return rc;
		*out = c & 31;
		return SSHRPC_OK;
	}
	case 'x': {
		uint32_t v = 0;
		if (p->pos < p->n && p->s[p->pos] == '{') {
			p->pos++;
			int digits = 0;
			while (p->pos < p->n && hexval(p->s[p->pos]) >= 0) {
				if (v > 0x10ffff)
					return perr(p, "\\x{...} beyond U+10FFFF");
				v = v * 16 + (uint32_t)hexval(p->s[p->pos++]);
				digits++;
			}
			if (digits == 0 || p->pos >= p->n || p->s[p->pos] != '}')
				return perr(p, "malformed \\x{...} escape");
			p->pos++;
		} else {
			for (int i = 0; i < 2; i++) {
				if (p->pos >= p->n || hexval(p->s[p->pos]) < 0)
					return perr(p, "\\x needs two hex digits");
				v = v * 16 + (uint32_t)hexval(p->s[p->pos++]);
			}
		}
		if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
			return perr(p, "escape is not a Unicode character");
		*out = v;
		return SSHRPC_OK;
	}
	default:
		if (c >= '0' && c <= '7') {
			uint32_t v = c - '0';
			for (int i = 0; i < 2 && p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '7'; i++)
				v = v * 8 + (uint32_t)(p->s[p->pos++] - '0');
			*out = v;
			return SSHRPC_OK;
		}
		*out = c; /* \\ \' \" and any other character stand for themselves */
		return SSHRPC_OK;
	}
}

/* Reads quoted text up to the closing quote q into a growable array of code
 * points (*cps, allocated with p->a). */
static int quoted(struct parser *p, uint8_t q, uint32_t **cps, size_t *ncp, size_t *cap)
{
	p->pos++; /* opening quote */
	for (;;) {
		if (p->pos >= p->n)
			return perr(p, q == '"' ? "string not closed" : "quoted atom not closed");
		uint32_t c;
		int rc;
		if (p->s[p->pos] == q) {
			p->pos++;
			return SSHRPC_OK;
		}
		if (p->s[p->pos] == '\\') {
			p->pos++;
			rc = escape(p, &c);
		} else {
			rc = next_cp(p, &c);
		}
		if (rc != SSHRPC_OK)
			return rc;
		if (*ncp == *cap) {
			size_t nc = *cap == 0 ? 64 : *cap * 2;
			uint32_t *nb = *cps == NULL ? sshrpc_malloc(p->a, nc * sizeof *nb)
						    : sshrpc_realloc(p->a, *cps, *cap * sizeof *nb, nc * sizeof *nb);
			if (nb == NULL)
				return sshrpc_err_set(p->err, SSHRPC_E_NOMEM, 0, "term text: out of memory");
			*cps = nb;
			*cap = nc;
		}
		(*cps)[(*ncp)++] = c;
	}
}

/* "..." "..." (adjacent strings join, as in Erlang) into code points. */
static int string_lit(struct parser *p, uint32_t **cps, size_t *ncp, size_t *cap)
{
	int rc;
	do {
		if ((rc = quoted(p, '"', cps, ncp, cap)) != SSHRPC_OK)
			return rc;
	} while (peek(p) == '"');
	return SSHRPC_OK;
}

/* ---- atoms ------------------------------------------------------------------- */

static bool lower_start(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 0xdf && c <= 0xff && c != 0xf7);
}

static bool atom_char(uint32_t c)
{
	return lower_start(c) || (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	       (c >= '0' && c <= '9') || c == '_' || c == '@';
}

static int make_atom(struct parser *p, const uint32_t *cps, size_t n, sshrpc_term *out)
{
	if (n > RPC_ATOM_MAX_CHARS)
		return perr(p, "atom longer than 255 characters");
	uint8_t *b = sshrpc_heap_alloc(p->h, n * 4 + 1);
	if (b == NULL)
		return sshrpc_err_set(p->err, p->h->failed, 0, "term text: out of memory");
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t l = rpc_utf8_encode(cps[i], b + o);
		if (l == 0)
			return perr(p, "atom holds a character that is not Unicode");
		o += l;
	}
	*out = sshrpc_term_atom_n((const char *)b, o);
	return out->type == SSHRPC_TERM_ATOM ? SSHRPC_OK : perr(p, "invalid atom");
}

/* A plain atom (lower-case start) at p->pos. */
static int plain_atom(struct parser *p, sshrpc_term *out)
{
	size_t start = p->pos;
	while (p->pos < p->n) {
		uint32_t c;
		size_t l = rpc_utf8_decode(p->s + p->pos, p->n - p->pos, &c);
		if (l == 0 || !atom_char(c))
			break;
		p->pos += l;
	}
	size_t len = p->pos - start;
	if (sshrpc_rpc_is_reserved_word(p->s + start, len)) {
		p->pos = start;
		return perr(p, "reserved word used as an atom (quote it)");
	}
	uint8_t *b = sshrpc_heap_alloc(p->h, len);
	if (b == NULL)
		return sshrpc_err_set(p->err, p->h->failed, 0, "term text: out of memory");
	memcpy(b, p->s + start, len);
	*out = sshrpc_term_atom_n((const char *)b, len);
	return out->type == SSHRPC_TERM_ATOM ? SSHRPC_OK : perr(p, "atom longer than 255 characters");
}

static int quoted_atom(struct parser *p, sshrpc_term *out)
{
	uint32_t *cps = NULL;
	size_t n = 0, cap = 0;
	int rc = quoted(p, '\'', &cps, &n, &cap);
	if (rc == SSHRPC_OK)
		rc = make_atom(p, cps, n, out);
	sshrpc_free(p->a, cps, cap * sizeof *cps);
	return rc;
}

/* ---- numbers ------------------------------------------------------------------ */

static int digit_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

/* Digits in base (with _ between digits, as OTP 23+ reads them) into
 * values; returns how many. */
static int digits(struct parser *p, unsigned base, uint8_t **out, size_t *count, size_t *cap)
{
	*count = 0;
	while (p->pos < p->n) {
		uint8_t c = p->s[p->pos];
		if (c == '_' && *count > 0 && p->pos + 1 < p->n && (unsigned)digit_value(p->s[p->pos + 1]) < base) {
			p->pos++;
			continue;
		}
		unsigned v = (unsigned)digit_value(c);
		if (v >= base)
			break;
		if (*count == *cap) {
			size_t nc = *cap == 0 ? 64 : *cap * 2;
			uint8_t *nb = *out == NULL ? sshrpc_malloc(p->a, nc) : sshrpc_realloc(p->a, *out, *cap, nc);
			if (nb == NULL)
				return sshrpc_err_set(p->err, SSHRPC_E_NOMEM, 0, "term text: out of memory");
			*out = nb;
			*cap = nc;
		}
		(*out)[(*count)++] = (uint8_t)v;
		p->pos++;
	}
	return SSHRPC_OK;
}

static int number(struct parser *p, bool negative, sshrpc_term *out)
{
	size_t start = p->pos;
	uint8_t *dv = NULL;
	size_t nd = 0, cap = 0;
	int rc = digits(p, 10, &dv, &nd, &cap);
	unsigned base = 10;
	if (rc == SSHRPC_OK && p->pos < p->n && p->s[p->pos] == '#') {
		/* Base#Digits */
		unsigned b = 0;
		for (size_t i = 0; i < nd && b <= 36; i++)
			b = b * 10 + dv[i];
		if (b < 2 || b > 36) {
			rc = perr(p, "base of Base#Digits must be 2..36");
		} else {
			p->pos++;
			base = b;
			rc = digits(p, base, &dv, &nd, &cap);
			if (rc == SSHRPC_OK && nd == 0)
				rc = perr(p, "Base#Digits without digits");
		}
	} else if (rc == SSHRPC_OK && p->pos + 1 < p->n && p->s[p->pos] == '.' && p->s[p->pos + 1] >= '0' &&
		   p->s[p->pos + 1] <= '9') {
		/* a float: digits.digits[e[+-]digits] */
		p->pos++;
		while (p->pos < p->n && ((p->s[p->pos] >= '0' && p->s[p->pos] <= '9') || p->s[p->pos] == '_'))
			p->pos++;
		if (p->pos < p->n && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E')) {
			size_t save = p->pos++;
			if (p->pos < p->n && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
				p->pos++;
			if (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
				while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
					p->pos++;
			} else {
				p->pos = save;
			}
		}
		sshrpc_free(p->a, dv, cap);
		/* copy without the digit separators */
		size_t len = p->pos - start;
		char tmp[1100];
		if (len >= sizeof tmp)
			return perr(p, "float literal too long");
		size_t k = 0;
		if (negative)
			tmp[k++] = '-';
		for (size_t i = start; i < p->pos; i++) {
			if (p->s[i] != '_')
				tmp[k++] = (char)p->s[i];
		}
		double v;
		if (rpc_float_parse(tmp, k, &v) != SSHRPC_OK)
			return perr(p, "float out of range");
		*out = sshrpc_term_float(v);
		return SSHRPC_OK;
	}
	if (rc == SSHRPC_OK && nd > TEXT_MAX_DIGITS)
		rc = sshrpc_err_set(p->err, SSHRPC_E_TOO_LARGE, 0,
			"term text: integer of more than %d digits at offset %zu", TEXT_MAX_DIGITS, start);
	if (rc == SSHRPC_OK) {
		rc = rpc_integer_from_digits(p->h, negative, dv, nd, base, out);
		if (rc != SSHRPC_OK)
			rc = sshrpc_err_set(p->err, rc, 0, "term text: integer too large");
	}
	sshrpc_free(p->a, dv, cap);
	return rc;
}

/* $c: the code of a character. */
static int char_lit(struct parser *p, bool negative, sshrpc_term *out)
{
	p->pos++; /* $ */
	uint32_t c = 0;
	int rc;
	if (p->pos < p->n && p->s[p->pos] == '\\') {
		p->pos++;
		rc = escape(p, &c);
	} else {
		rc = next_cp(p, &c);
	}
	if (rc != SSHRPC_OK)
		return rc;
	*out = sshrpc_term_int(negative ? -(int64_t)c : (int64_t)c);
	return SSHRPC_OK;
}

/* ---- binaries ------------------------------------------------------------------ */

struct bits {
	sshrpc_buf buf;
	unsigned used; /* bits used in the last byte, 0 when byte aligned */
};

static int put_bits(struct bits *b, uint64_t v, unsigned n)
{
	if (b->used == 0 && n % 8 == 0) {
		for (unsigned k = n; k > 0; k -= 8) {
			int rc = sshrpc_buf_put_u8(&b->buf, (uint8_t)(v >> (k - 8)));
			if (rc != SSHRPC_OK)
				return rc;
		}
		return SSHRPC_OK;
	}
	for (unsigned k = n; k-- > 0;) {
		unsigned bit = (unsigned)(v >> k) & 1;
		if (b->used == 0) {
			int rc = sshrpc_buf_put_u8(&b->buf, 0);
			if (rc != SSHRPC_OK)
				return rc;
		}
		uint8_t *last = sshrpc_buf_ptr(&b->buf) + sshrpc_buf_len(&b->buf) - 1;
		*last |= (uint8_t)(bit << (7 - b->used));
		b->used = (b->used + 1) % 8;
	}
	return SSHRPC_OK;
}

static int put_utf8(struct bits *b, uint32_t cp)
{
	uint8_t x[4];
	size_t l = rpc_utf8_encode(cp, x);
	if (l == 0)
		return SSHRPC_E_INVALID;
	for (size_t i = 0; i < l; i++) {
		int rc = put_bits(b, x[i], 8);
		if (rc != SSHRPC_OK)
			return rc;
	}
	return SSHRPC_OK;
}

/* /Type-Type... after a segment: only the ones that do not change the
 * meaning of integer and string segments, and utf8. */
static int seg_types(struct parser *p, bool *utf8)
{
	*utf8 = false;
	if (!eat(p, "/"))
		return SSHRPC_OK;
	for (;;) {
		skip_ws(p);
		size_t s = p->pos;
		while (p->pos < p->n &&
			((p->s[p->pos] >= 'a' && p->s[p->pos] <= 'z') || (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')))
			p->pos++;
		size_t l = p->pos - s;
		const char *w = (const char *)p->s + s;
		if (l == 4 && memcmp(w, "utf8", 4) == 0)
			*utf8 = true;
		else if (!((l == 7 && memcmp(w, "integer", 7) == 0) || (l == 8 && memcmp(w, "unsigned", 8) == 0) ||
				 (l == 3 && memcmp(w, "big", 3) == 0)))
			return perr(p, "unsupported binary segment type (integer, unsigned, big, utf8)");
		if (!eat(p, "-"))
			return SSHRPC_OK;
	}
}

static int binary_lit(struct parser *p, sshrpc_term *out)
{
	struct bits b;
	sshrpc_buf_init(&b.buf, p->a, p->h->max);
	b.used = 0;
	int rc = SSHRPC_OK;
	if (!eat(p, ">>")) {
		for (;;) {
			int c = peek(p);
			bool neg = false;
			if (c == '"') {
				uint32_t *cps = NULL;
				size_t n = 0, cap = 0;
				bool utf8;
				rc = string_lit(p, &cps, &n, &cap);
				if (rc == SSHRPC_OK)
					rc = seg_types(p, &utf8);
				for (size_t i = 0; i < n && rc == SSHRPC_OK; i++) {
					if (utf8)
						rc = put_utf8(&b, cps[i]);
					else if (cps[i] > 255)
						rc = perr(p, "character above 255 in a binary string without /utf8");
					else
						rc = put_bits(&b, cps[i], 8);
				}
				sshrpc_free(p->a, cps, cap * sizeof *cps);
			} else {
				if (c == '-' || c == '+') {
					neg = c == '-';
					p->pos++;
					c = peek(p);
				}
				sshrpc_term v = { .type = SSHRPC_TERM_INVALID };
				if (c == '$')
					rc = char_lit(p, neg, &v);
				else if (c >= '0' && c <= '9')
					rc = number(p, neg, &v);
				else
					rc = perr(p, "expected an integer or a string in a binary");
				if (rc == SSHRPC_OK && v.type != SSHRPC_TERM_INT)
					rc = perr(p, "binary segment value must be an integer that fits 64 bits");
				unsigned size = 8;
				bool utf8 = false;
				if (rc == SSHRPC_OK && eat(p, ":")) {
					skip_ws(p);
					size = 0;
					size_t s = p->pos;
					while (p->pos < p->n && p->s[p->pos] >= '0' && p->s[p->pos] <= '9' &&
						size <= 64)
						size = size * 10 + (unsigned)(p->s[p->pos++] - '0');
					if (p->pos == s || size > 64)
						rc = perr(p, "segment size must be 0..64 bits");
				}
				if (rc == SSHRPC_OK)
					rc = seg_types(p, &utf8);
				if (rc == SSHRPC_OK && utf8) {
					if (v.v.i < 0 || v.v.i > 0x10ffff || put_utf8(&b, (uint32_t)v.v.i) != SSHRPC_OK)
						rc = perr(p, "not a Unicode code point for /utf8");
				} else if (rc == SSHRPC_OK) {
					rc = put_bits(&b, (uint64_t)v.v.i, size);
				}
			}
			if (rc != SSHRPC_OK)
				break;
			if (eat(p, ">>"))
				break;
			if (!eat(p, ",")) {
				rc = perr(p, "expected ',' or '>>' in a binary");
				break;
			}
		}
	}
	if (rc == SSHRPC_OK) {
		size_t len = sshrpc_buf_len(&b.buf);
		size_t nbits = len * 8 - (b.used == 0 ? 0 : 8 - b.used);
		*out = sshrpc_term_bitstring(p->h, sshrpc_buf_ptr(&b.buf), nbits);
		if (out->type == SSHRPC_TERM_INVALID)
			rc = sshrpc_err_set(p->err, SSHRPC_E_TOO_LARGE, 0, "term text: binary does not fit");
	} else if (rc == SSHRPC_E_TOO_LARGE || rc == SSHRPC_E_NOMEM) {
		sshrpc_err_set(p->err, rc, 0, "term text: binary does not fit");
	} else if (rc == SSHRPC_E_INVALID) {
		perr(p, "invalid binary");
	}
	sshrpc_buf_free(&b.buf);
	return rc;
}

/* ---- values ------------------------------------------------------------------------ */

/* A scalar, or the opening of a compound (pushed as a frame; *opened). */
static int start_value(struct parser *p, sshrpc_term *out, bool *opened)
{
	*opened = false;
	int c = peek(p);
	size_t at = p->pos;
	int rc;
	struct pframe *f;
	switch (c) {
	case 0:
		return perr(p, "unexpected end of text: a term is missing");
	case '{':
	case '[':
		p->pos++;
		if (eat(p, c == '{' ? "}" : "]")) {
			*out = c == '{' ? sshrpc_term_tuple(p->h, 0, NULL) : sshrpc_term_nil();
			return SSHRPC_OK;
		}
		f = rpc_stack_push(&p->frames, &rc);
		if (f == NULL)
			return sshrpc_err_set(p->err, rc, 0, "term text: nesting too deep");
		f->kind = c == '{' ? FR_TUPLE : FR_LIST;
		f->base = p->nvals;
		f->open_at = at;
		*opened = true;
		return SSHRPC_OK;
	case '#':
		p->pos++;
		if (!eat(p, "{"))
			return perr(p, "expected '{' after '#' (pids, refs and funs are not terms here)");
		if (eat(p, "}")) {
			*out = sshrpc_term_map(p->h, 0, NULL);
			return SSHRPC_OK;
		}
		f = rpc_stack_push(&p->frames, &rc);
		if (f == NULL)
			return sshrpc_err_set(p->err, rc, 0, "term text: nesting too deep");
		f->kind = FR_MAP;
		f->base = p->nvals;
		f->open_at = at;
		*opened = true;
		return SSHRPC_OK;
	case '<':
		if (!eat(p, "<<"))
			return perr(p, "pids and ports are not supported");
		return binary_lit(p, out);
	case '"': {
		uint32_t *cps = NULL;
		size_t n = 0, cap = 0;
		rc = string_lit(p, &cps, &n, &cap);
		if (rc == SSHRPC_OK) {
			if (n == 0) {
				*out = sshrpc_term_nil();
			} else {
				sshrpc_term *e = sshrpc_heap_alloc(p->h, (n + 1) * sizeof *e);
				if (e == NULL) {
					rc = sshrpc_err_set(p->err, p->h->failed, 0, "term text: out of memory");
				} else {
					for (size_t i = 0; i < n; i++)
						e[i] = sshrpc_term_int(cps[i]);
					e[n] = sshrpc_term_nil();
					*out = (sshrpc_term){
						.type = SSHRPC_TERM_LIST, .len = (uint32_t)n, .v.elems = e
					};
				}
			}
		}
		sshrpc_free(p->a, cps, cap * sizeof *cps);
		return rc;
	}
	case '\'':
		return quoted_atom(p, out);
	case '$':
		return char_lit(p, false, out);
	case '-':
	case '+': {
		p->pos++;
		int d = peek(p);
		if (d == '$')
			return char_lit(p, c == '-', out);
		if (d >= '0' && d <= '9')
			return number(p, c == '-', out);
		return perr(p, "a sign must be followed by a number");
	}
	default:
		if (c >= '0' && c <= '9')
			return number(p, false, out);
		{
			uint32_t cp;
			size_t l = rpc_utf8_decode(p->s + p->pos, p->n - p->pos, &cp);
			if (l > 0 && lower_start(cp))
				return plain_atom(p, out);
			if (l > 0 && ((cp >= 'A' && cp <= 'Z') || cp == '_'))
				return perr(p, "variables are not terms");
		}
		return perr(p, "unexpected character");
	}
}

/* Builds the compound of the top frame from its values. */
static int close_frame(struct parser *p, struct pframe *f, sshrpc_term *out)
{
	size_t n = p->nvals - f->base;
	const sshrpc_term *v = p->vals + f->base;
	switch (f->kind) {
	case FR_TUPLE:
		*out = sshrpc_term_tuple(p->h, n, v);
		break;
	case FR_LIST:
		if (f->tail)
			*out = sshrpc_term_list_tail(p->h, n - 1, v, &v[n - 1]);
		else
			*out = sshrpc_term_list(p->h, n, v);
		break;
	default:
		*out = sshrpc_term_map(p->h, n / 2, v);
		if (out->type == SSHRPC_TERM_INVALID && p->h->failed == 0) {
			p->pos = f->open_at;
			return perr(p, "map with a duplicate key");
		}
		break;
	}
	p->nvals = f->base;
	if (out->type == SSHRPC_TERM_INVALID)
		return sshrpc_err_set(
			p->err, p->h->failed != 0 ? p->h->failed : SSHRPC_E_INVALID, 0, "term text: term does not fit");
	return SSHRPC_OK;
}

/* Parses one complete term. */
static int value(struct parser *p, sshrpc_term *out)
{
	size_t depth0 = p->frames.n;
	int rc;
	sshrpc_term v;
	for (;;) {
		bool opened;
		if ((rc = start_value(p, &v, &opened)) != SSHRPC_OK)
			return rc;
		if (opened)
			continue;
		/* v is complete: hand it to the open compound, closing those that
		 * end here */
		for (;;) {
			if (p->frames.n == depth0) {
				*out = v;
				return SSHRPC_OK;
			}
			if ((rc = push_val(p, v)) != SSHRPC_OK)
				return rc;
			struct pframe *f = rpc_stack_top(&p->frames);
			size_t count = p->nvals - f->base;
			bool more;
			if (f->kind == FR_TUPLE) {
				if (eat(p, "}"))
					more = false;
				else if (eat(p, ","))
					more = true;
				else
					return perr(p, "expected ',' or '}' in a tuple");
			} else if (f->kind == FR_LIST) {
				if (eat(p, "]")) {
					more = false;
				} else if (!f->tail && eat(p, ",")) {
					more = true;
				} else if (!f->tail && eat(p, "|")) {
					f->tail = 1;
					more = true;
				} else {
					return perr(p, f->tail ? "expected ']' after a list tail"
							       : "expected ',', '|' or ']' in a list");
				}
			} else if (count % 2 == 1) {
				if (!eat(p, "=>"))
					return perr(p, "expected '=>' in a map");
				more = true;
			} else if (eat(p, "}")) {
				more = false;
			} else if (eat(p, ",")) {
				more = true;
			} else {
				return perr(p, "expected ',' or '}' in a map");
			}
			if (more)
				break;
			if ((rc = close_frame(p, f, &v)) != SSHRPC_OK)
				return rc;
			rpc_stack_pop(&p->frames);
		}
	}
}

static void parser_init(struct parser *p, sshrpc_heap *h, const char *text, size_t len, sshrpc_err *err)
{
	memset(p, 0, sizeof *p);
	p->s = (const uint8_t *)text;
	p->n = len;
	p->h = h;
	p->err = err;
	p->a = h->alloc;
	rpc_stack_init(&p->frames, h->alloc, sizeof(struct pframe), 0);
}

static void parser_free(struct parser *p)
{
	sshrpc_free(p->a, p->vals, p->capvals * sizeof *p->vals);
	rpc_stack_free(&p->frames);
}

/* An optional final '.', then nothing. */
static int finish(struct parser *p)
{
	if (peek(p) == '.')
		p->pos++;
	if (peek(p) != 0)
		return perr(p, "text after the term");
	return SSHRPC_OK;
}

int sshrpc_term_parse(sshrpc_heap *h, const char *text, size_t len, sshrpc_term *out, sshrpc_err *err)
{
	struct parser p;
	parser_init(&p, h, text, len, err);
	sshrpc_term t;
	int rc = value(&p, &t);
	if (rc == SSHRPC_OK)
		rc = finish(&p);
	parser_free(&p);
	if (rc == SSHRPC_OK)
		*out = t;
	return rc;
}

int sshrpc_term_parse_call(sshrpc_heap *h, const char *text, size_t len, sshrpc_term *mod, sshrpc_term *fun,
	sshrpc_term *args, sshrpc_err *err)
{
	struct parser p;
	parser_init(&p, h, text, len, err);
	sshrpc_term m = { .type = SSHRPC_TERM_INVALID }, f = m, a = m;
	int rc = value(&p, &m);
	if (rc == SSHRPC_OK && m.type != SSHRPC_TERM_ATOM)
		rc = perr(&p, "the module must be an atom");
	if (rc == SSHRPC_OK && !eat(&p, ":"))
		rc = perr(&p, "expected ':' after the module");
	if (rc == SSHRPC_OK)
		rc = value(&p, &f);
	if (rc == SSHRPC_OK && f.type != SSHRPC_TERM_ATOM)
		rc = perr(&p, "the function must be an atom");
	if (rc == SSHRPC_OK && !eat(&p, "("))
		rc = perr(&p, "expected '(' after the function");
	if (rc == SSHRPC_OK) {
		/* the arguments: collected on the value stack, then one list */
		size_t base = p.nvals;
		if (!eat(&p, ")")) {
			for (;;) {
				sshrpc_term v;
				if ((rc = value(&p, &v)) != SSHRPC_OK || (rc = push_val(&p, v)) != SSHRPC_OK)
					break;
				if (eat(&p, ")"))
					break;
				if (!eat(&p, ",")) {
					rc = perr(&p, "expected ',' or ')' in the arguments");
					break;
				}
			}
		}
		if (rc == SSHRPC_OK) {
			a = sshrpc_term_list(h, p.nvals - base, p.vals + base);
			if (a.type == SSHRPC_TERM_INVALID)
				rc = sshrpc_err_set(err, h->failed != 0 ? h->failed : SSHRPC_E_NOMEM, 0,
					"term text: out of memory");
		}
	}
	if (rc == SSHRPC_OK)
		rc = finish(&p);
	parser_free(&p);
	if (rc == SSHRPC_OK) {
		*mod = m;
		*fun = f;
		*args = a;
	}
	return rc;
}
