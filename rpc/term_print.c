/* Term text as io_lib:format("~0tp", [T]) writes it on OTP 25, with the
 * default printable range (latin1), output in UTF-8: the TERM_TEXT column
 * of testdata/etf/. The rules, from io_lib and io_lib_pretty:
 *  - an atom is quoted unless it starts with a lower-case letter (a-z or
 *    Latin-1 ß..ÿ but ÷) and goes on with letters, digits, _ and @, and is
 *    not a reserved word;
 *  - a proper list of printable Latin-1 characters prints as "...";
 *  - a binary prints as <<"...">> when it is printable ASCII or Latin-1,
 *    as <<"..."/utf8>> when it is valid UTF-8 with printable characters
 *    beyond ASCII, else as bytes <<1,2,3>>; a bitstring as <<1,2,3:4>>;
 *  - floats in the shortest round-trip form (float.c);
 *  - in quoted text, the quote and \ are escaped, \n \r \t \v \b \f \e
 *    and \d (DEL) by name, other control characters below 160 in octal. */
#include <stdio.h>
#include <string.h>

#include "rpc/rpc_internal.h"

static const char *const reserved_words[] = {
	"after",
	"and",
	"andalso",
	"band",
	"begin",
	"bnot",
	"bor",
	"bsl",
	"bsr",
	"bxor",
	"case",
	"catch",
	"cond",
	"div",
	"end",
	"fun",
	"if",
	"let",
	"not",
	"of",
	"or",
	"orelse",
	"receive",
	"rem",
	"try",
	"when",
	"xor",
};

bool sshrpc_rpc_is_reserved_word(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < sizeof reserved_words / sizeof reserved_words[0]; i++) {
		if (strlen(reserved_words[i]) == n && memcmp(reserved_words[i], p, n) == 0)
			return true;
	}
	return false;
}

static bool name_start(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 0xdf && c <= 0xff && c != 0xf7);
}

static bool name_char(uint32_t c)
{
	return name_start(c) || (c >= 'A' && c <= 'Z') || (c >= 0xc0 && c <= 0xde && c != 0xd7) ||
	       (c >= '0' && c <= '9') || c == '_' || c == '@';
}

static bool atom_needs_quotes(const uint8_t *p, size_t n)
{
	if (n == 0 || sshrpc_rpc_is_reserved_word(p, n))
		return true;
	size_t i = 0;
	bool first = true;
	while (i < n) {
		uint32_t c = p[i];
		size_t l = c < 0x80 ? 1 : rpc_utf8_decode(p + i, n - i, &c);
		if (l == 0)
			return true;
		if (first ? !name_start(c) : !name_char(c))
			return true;
		first = false;
		i += l;
	}
	return false;
}

/* io_lib's string_char/4 for ~tp output. */
static int put_char(sshrpc_buf *b, uint32_t c, char quote)
{
	char x[5];
	size_t n;
	if (c == (uint32_t)quote || c == '\\') {
		x[0] = '\\';
		x[1] = (char)c;
		n = 2;
	} else if (c >= 32 && c <= 126) {
		x[0] = (char)c;
		n = 1;
	} else if (c >= 160) {
		n = rpc_utf8_encode(c, (uint8_t *)x);
		if (n == 0)
			return SSHRPC_E_INVALID;
	} else {
		const char *named = NULL;
		switch (c) {
		case '\n':
			named = "\\n";
			break;
		case '\r':
			named = "\\r";
			break;
		case '\t':
			named = "\\t";
			break;
		case '\v':
			named = "\\v";
			break;
		case '\b':
			named = "\\b";
			break;
		case '\f':
			named = "\\f";
			break;
		case 27:
			named = "\\e";
			break;
		case 127:
			named = "\\d";
			break;
		default:
			break;
		}
		if (named != NULL)
			return sshrpc_buf_put(b, named, 2);
		x[0] = '\\';
		x[1] = (char)('0' + ((c >> 6) & 7));
		x[2] = (char)('0' + ((c >> 3) & 7));
		x[3] = (char)('0' + (c & 7));
		n = 4;
	}
	return sshrpc_buf_put(b, x, n);
}

static int print_atom(sshrpc_buf *b, const sshrpc_term *t)
{
	if (!atom_needs_quotes(t->v.bytes, t->len))
		return sshrpc_buf_put(b, t->v.bytes, t->len);
	int rc = sshrpc_buf_put_u8(b, '\'');
	for (size_t i = 0; i < t->len && rc == SSHRPC_OK;) {
		uint32_t c = t->v.bytes[i];
		size_t l = c < 0x80 ? 1 : rpc_utf8_decode(t->v.bytes + i, t->len - i, &c);
		if (l == 0)
			return SSHRPC_E_INVALID;
		rc = put_char(b, c, '\'');
		i += l;
	}
	return rc != SSHRPC_OK ? rc : sshrpc_buf_put_u8(b, '\'');
}

/* io_lib:printable_latin1_list/1 for one character. */
static bool printable_latin1(int64_t c)
{
	return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) || c == '\n' || c == '\r' || c == '\t' || c == '\v' ||
	       c == '\b' || c == '\f' || c == 27;
}

static bool printable_string(const sshrpc_term *t)
{
	if (t->v.elems[t->len].type != SSHRPC_TERM_NIL)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		const sshrpc_term *c = &t->v.elems[i];
		if (c->type != SSHRPC_TERM_INT || !printable_latin1(c->v.i))
			return false;
	}
	return true;
}

static int print_string(sshrpc_buf *b, const sshrpc_term *t)
{
	int rc = sshrpc_buf_put_u8(b, '"');
	for (size_t i = 0; i < t->len && rc == SSHRPC_OK; i++)
		rc = put_char(b, (uint32_t)t->v.elems[i].v.i, '"');
	return rc != SSHRPC_OK ? rc : sshrpc_buf_put_u8(b, '"');
}

static int put_uint(sshrpc_buf *b, unsigned v)
{
	char x[12];
	int n = snprintf(x, sizeof x, "%u", v);
	return sshrpc_buf_put(b, x, (size_t)n);
}

static int print_binary(sshrpc_buf *b, const sshrpc_term *t)
{
	const uint8_t *p = t->v.bytes;
	size_t n = t->len;
	int rc = sshrpc_buf_put(b, "<<", 2);
	if (rc != SSHRPC_OK)
		return rc;
	if (t->aux == 0 && n > 0) {
		/* io_lib_pretty:printable_bin/4: valid UTF-8 is judged by its
		 * characters, anything else byte by byte as Latin-1. */
		size_t chars;
		bool utf8 = rpc_utf8_check(p, n, &chars);
		bool printable = true;
		for (size_t i = 0; i < n && printable;) {
			uint32_t c = p[i];
			size_t l = 1;
			if (utf8 && c >= 0x80)
				l = rpc_utf8_decode(p + i, n - i, &c);
			printable = printable_latin1(c);
			i += l;
		}
		if (printable) {
			rc = sshrpc_buf_put_u8(b, '"');
			for (size_t i = 0; i < n && rc == SSHRPC_OK;) {
				uint32_t c = p[i];
				size_t l = 1;
				if (utf8 && c >= 0x80)
					l = rpc_utf8_decode(p + i, n - i, &c);
				rc = put_char(b, c, '"');
				i += l;
			}
			if (rc == SSHRPC_OK)
				rc = sshrpc_buf_put_u8(b, '"');
			if (rc == SSHRPC_OK && utf8 && chars != n)
				rc = sshrpc_buf_put(b, "/utf8", 5);
			return rc != SSHRPC_OK ? rc : sshrpc_buf_put(b, ">>", 2);
		}
	}
	size_t whole = t->aux == 0 ? n : n - 1;
	for (size_t i = 0; i < whole && rc == SSHRPC_OK; i++) {
		if (i > 0)
			rc = sshrpc_buf_put_u8(b, ',');
		if (rc == SSHRPC_OK)
			rc = put_uint(b, p[i]);
	}
	if (rc == SSHRPC_OK && t->aux != 0 && n > 0) {
		unsigned bits = 8u - t->aux;
		if (whole > 0)
			rc = sshrpc_buf_put_u8(b, ',');
		if (rc == SSHRPC_OK)
			rc = put_uint(b, (unsigned)(p[n - 1] >> t->aux));
		if (rc == SSHRPC_OK)
			rc = sshrpc_buf_put_u8(b, ':');
		if (rc == SSHRPC_OK)
			rc = put_uint(b, bits);
	}
	return rc != SSHRPC_OK ? rc : sshrpc_buf_put(b, ">>", 2);
}

struct print_frame {
	const sshrpc_term *t;
	size_t i, n;
};

/* Prints a scalar, or the opening of a compound (returned in *open with
 * its child count). */
static int print_one(sshrpc_buf *b, const sshrpc_term *t, size_t *open)
{
	*open = 0;
	switch (t->type) {
	case SSHRPC_TERM_INT:
	case SSHRPC_TERM_BIGINT:
		return rpc_integer_print(b, t);
	case SSHRPC_TERM_FLOAT: {
		char x[32];
		size_t n = rpc_float_format(t->v.f, x);
		return sshrpc_buf_put(b, x, n);
	}
	case SSHRPC_TERM_ATOM:
		return print_atom(b, t);
	case SSHRPC_TERM_BINARY:
		return print_binary(b, t);
	case SSHRPC_TERM_NIL:
		return sshrpc_buf_put(b, "[]", 2);
	case SSHRPC_TERM_LIST:
		if (printable_string(t))
			return print_string(b, t);
		*open = (size_t)t->len + 1;
		return sshrpc_buf_put_u8(b, '[');
	case SSHRPC_TERM_TUPLE:
		if (t->len == 0)
			return sshrpc_buf_put(b, "{}", 2);
		*open = t->len;
		return sshrpc_buf_put_u8(b, '{');
	case SSHRPC_TERM_MAP:
		if (t->len == 0)
			return sshrpc_buf_put(b, "#{}", 3);
		*open = 2 * (size_t)t->len;
		return sshrpc_buf_put(b, "#{", 2);
	default:
		return SSHRPC_E_INVALID;
	}
}

int sshrpc_term_print(sshrpc_buf *out, const sshrpc_term *t, sshrpc_err *err)
{
	rpc_stack st;
	rpc_stack_init(&st, out->alloc, sizeof(struct print_frame), 0);
	size_t start = sshrpc_buf_len(out);
	int rc;
	for (;;) {
		size_t open;
		if ((rc = print_one(out, t, &open)) != SSHRPC_OK)
			break;
		if (open > 0) {
			struct print_frame *f = rpc_stack_push(&st, &rc);
			if (f == NULL)
				break;
			f->t = t;
			f->n = open;
		}
		/* close finished compounds, then find the next child and write the
		 * separator before it */
		struct print_frame *f;
		t = NULL;
		while (rc == SSHRPC_OK && (f = rpc_stack_top(&st)) != NULL) {
			const sshrpc_term *c = f->t;
			if (f->i == f->n) {
				if (c->type == SSHRPC_TERM_LIST)
					rc = sshrpc_buf_put_u8(out, ']');
				else
					rc = sshrpc_buf_put_u8(out, '}');
				rpc_stack_pop(&st);
				continue;
			}
			size_t i = f->i++;
			if (c->type == SSHRPC_TERM_LIST && i == c->len) {
				/* the tail: nothing for [], "|T" otherwise */
				if (c->v.elems[i].type == SSHRPC_TERM_NIL)
					continue;
				rc = sshrpc_buf_put_u8(out, '|');
			} else if (c->type == SSHRPC_TERM_MAP && i % 2 == 1) {
				rc = sshrpc_buf_put(out, " => ", 4);
			} else if (i > 0) {
				rc = sshrpc_buf_put_u8(out, ',');
			}
			t = &c->v.elems[i];
			break;
		}
		if (rc != SSHRPC_OK || t == NULL)
			break;
	}
	rpc_stack_free(&st);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(out, start);
		return sshrpc_err_set(err, rc, 0, "term text: cannot print the term (%s)", sshrpc_strerror(rc));
	}
	return SSHRPC_OK;
}
