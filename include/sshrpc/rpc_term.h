/* sshrpc rpc/: Erlang terms in C — the term tree, the arena it lives in,
 * constructors and accessors for handler authors, the Erlang external term
 * format (ETF, version 131) codec and the Erlang term text parser and
 * printer. Nothing here does I/O.
 *
 * A term is a small value struct (16 bytes on 64-bit targets). Scalars
 * (integers, floats, atoms, borrowed binaries, []) are built by value
 * without allocation; tuples, lists and maps hold their elements in an array
 * allocated from an sshrpc_heap, an arena freed all at once. */
#ifndef SSHRPC_RPC_TERM_H
#define SSHRPC_RPC_TERM_H

#include <stdbool.h>

#include "sshrpc/common.h"
#include "sshrpc/wire.h"

/* ---- the arena ---------------------------------------------------------- */

/* A bump allocator over chunks from an sshrpc_alloc, with a cap on the bytes
 * it may take. Everything allocated from it is freed by sshrpc_heap_free.
 * The first failure is remembered in `failed` (SSHRPC_E_NOMEM or
 * SSHRPC_E_TOO_LARGE) so that a chain of constructors can be checked once. */
typedef struct sshrpc_heap {
	const sshrpc_alloc *alloc;
	struct sshrpc_heap_chunk *chunks;
	uint8_t *cur;
	size_t left;
	size_t used; /* bytes charged against max */
	size_t max;
	size_t next_chunk;
	int failed;
} sshrpc_heap;

/* max == 0 means "no cap beyond SSHRPC_BUF_HARD_MAX". */
void sshrpc_heap_init(sshrpc_heap *h, const sshrpc_alloc *a, size_t max);
/* Frees every allocation; the heap may be used again afterwards. */
void sshrpc_heap_free(sshrpc_heap *h);
/* n bytes, 8-byte aligned; NULL (and h->failed set) over the cap or when
 * the allocator refuses. */
void *sshrpc_heap_alloc(sshrpc_heap *h, size_t n);
/* Takes ownership of a block made by the heap's allocator (for example a
 * received message that decoded terms point into): freed with the heap. */
SSHRPC_MUST_USE int sshrpc_heap_adopt(sshrpc_heap *h, void *p, size_t size);

/* ---- terms -------------------------------------------------------------- */

enum sshrpc_term_type {
	SSHRPC_TERM_INVALID = 0, /* a constructor failed; never encoded */
	SSHRPC_TERM_INT,	 /* v.i: every integer that fits int64_t */
	SSHRPC_TERM_BIGINT, /* |v| beyond int64_t: v.bytes little-endian magnitude, len bytes (no high zero byte), aux 1
			       if negative */
	SSHRPC_TERM_FLOAT,  /* v.f, finite */
	SSHRPC_TERM_ATOM,   /* v.bytes UTF-8 (not NUL-terminated), len bytes, at most 255 characters */
	SSHRPC_TERM_BINARY, /* v.bytes, len bytes; aux = unused low bits of the last byte (0..7): a bitstring when aux
			       != 0 */
	SSHRPC_TERM_NIL,    /* [] */
	SSHRPC_TERM_LIST,   /* v.elems: len >= 1 elements, then the tail at v.elems[len] ([] for a proper list; never a
			       list) */
	SSHRPC_TERM_TUPLE,  /* v.elems: len elements */
	SSHRPC_TERM_MAP,    /* v.elems: len pairs k0,v0,k1,v1,...; up to 32 pairs sorted by key (term order, as OTP's
			       flatmaps) */
};

typedef struct sshrpc_term {
	uint8_t type;
	uint8_t aux;
	uint16_t reserved; /* zero */
	uint32_t len;
	union {
		int64_t i;
		double f;
		const uint8_t *bytes;
		struct sshrpc_term *elems;
	} v;
} sshrpc_term;

/* Scalars: by value, no allocation. Atoms and binaries point at the
 * caller's bytes, which must stay valid while the term is used (a string
 * literal is fine). sshrpc_term_atom checks UTF-8 and the 255-character
 * limit, and sshrpc_term_float refuses NaN and infinities (ETF cannot carry
 * them): either returns an INVALID term instead. */
static inline sshrpc_term sshrpc_term_int(int64_t v)
{
	sshrpc_term t = { .type = SSHRPC_TERM_INT, .v.i = v };
	return t;
}
static inline sshrpc_term sshrpc_term_nil(void)
{
	sshrpc_term t = { .type = SSHRPC_TERM_NIL };
	return t;
}
sshrpc_term sshrpc_term_float(double v);
sshrpc_term sshrpc_term_atom(const char *utf8);
sshrpc_term sshrpc_term_atom_n(const char *utf8, size_t len);
sshrpc_term sshrpc_term_binary(const void *p, size_t len);

/* Allocating constructors. Each copies what it is given (element structs,
 * bytes) into h and returns an INVALID term when h refuses (h->failed says
 * why) or the input is not valid. */
sshrpc_term sshrpc_term_uint64(sshrpc_heap *h, uint64_t v);
/* An integer from a little-endian magnitude of any size. */
sshrpc_term sshrpc_term_bigint(sshrpc_heap *h, bool negative, const uint8_t *mag_le, size_t len);
sshrpc_term sshrpc_term_binary_copy(sshrpc_heap *h, const void *p, size_t len);
/* A binary of len bytes to fill in: *data points at them (zeroed). */
sshrpc_term sshrpc_term_binary_new(sshrpc_heap *h, size_t len, uint8_t **data);
/* A bitstring of nbits bits from p (the unused low bits are cleared). */
sshrpc_term sshrpc_term_bitstring(sshrpc_heap *h, const void *p, size_t nbits);
sshrpc_term sshrpc_term_tuple(sshrpc_heap *h, size_t n, const sshrpc_term *elems);
/* A proper list; n == 0 gives []. */
sshrpc_term sshrpc_term_list(sshrpc_heap *h, size_t n, const sshrpc_term *elems);
/* [E1,...,En | Tail]; a list tail is joined on, so the result is flat. */
sshrpc_term sshrpc_term_list_tail(sshrpc_heap *h, size_t n, const sshrpc_term *elems, const sshrpc_term *tail);
/* n pairs kv[0],kv[1],... ; a duplicate key gives INVALID. */
sshrpc_term sshrpc_term_map(sshrpc_heap *h, size_t n, const sshrpc_term *kv);
/* An Erlang string: the list of the code points of UTF-8 text ("" is []). */
sshrpc_term sshrpc_term_string(sshrpc_heap *h, const char *utf8, size_t len);
/* {ok,T} and {error,T}. */
sshrpc_term sshrpc_term_ok(sshrpc_heap *h, sshrpc_term t);
sshrpc_term sshrpc_term_error(sshrpc_heap *h, sshrpc_term t);

/* SSHRPC_TUPLE(h, a, b, c) and SSHRPC_LIST(h, a, b): the element count is
 * taken from the arguments. */
#define SSHRPC_TERM_COUNT_(...) (sizeof((const sshrpc_term[]){ __VA_ARGS__ }) / sizeof(sshrpc_term))
#define SSHRPC_TUPLE(h, ...)                                                                                           \
	sshrpc_term_tuple((h), SSHRPC_TERM_COUNT_(__VA_ARGS__), (const sshrpc_term[]){ __VA_ARGS__ })
#define SSHRPC_LIST(h, ...) sshrpc_term_list((h), SSHRPC_TERM_COUNT_(__VA_ARGS__), (const sshrpc_term[]){ __VA_ARGS__ })

/* ---- accessors ---------------------------------------------------------- */

static inline int sshrpc_term_type(const sshrpc_term *t)
{
	return t->type;
}
static inline bool sshrpc_term_is_integer(const sshrpc_term *t)
{
	return t->type == SSHRPC_TERM_INT || t->type == SSHRPC_TERM_BIGINT;
}
/* A whole-byte binary (not a bitstring). */
static inline bool sshrpc_term_is_binary(const sshrpc_term *t)
{
	return t->type == SSHRPC_TERM_BINARY && t->aux == 0;
}
static inline bool sshrpc_term_is_list(const sshrpc_term *t)
{
	return t->type == SSHRPC_TERM_LIST || t->type == SSHRPC_TERM_NIL;
}
/* true when t is the atom named (UTF-8, NUL-terminated). */
bool sshrpc_term_is_atom(const sshrpc_term *t, const char *name);

/* Each returns SSHRPC_OK, SSHRPC_E_INVALID when t has another type, or
 * SSHRPC_E_TOO_LARGE when the integer does not fit. */
SSHRPC_MUST_USE int sshrpc_term_get_int64(const sshrpc_term *t, int64_t *v);
SSHRPC_MUST_USE int sshrpc_term_get_uint64(const sshrpc_term *t, uint64_t *v);
SSHRPC_MUST_USE int sshrpc_term_get_double(const sshrpc_term *t, double *v);
/* Whole-byte binaries only; *p is borrowed from the term. */
SSHRPC_MUST_USE int sshrpc_term_get_binary(const sshrpc_term *t, const uint8_t **p, size_t *len);
/* Atom name, UTF-8, not NUL-terminated. */
SSHRPC_MUST_USE int sshrpc_term_get_atom(const sshrpc_term *t, const char **name, size_t *len);

/* Tuple arity (0 for a non-tuple) and elements (NULL out of range). */
size_t sshrpc_term_tuple_size(const sshrpc_term *t);
const sshrpc_term *sshrpc_term_tuple_elem(const sshrpc_term *t, size_t i);
/* A proper list's length in *n (0 for []); SSHRPC_E_INVALID when t is not
 * a proper list. Its elements are sshrpc_term_list_elems(t)[0 .. n). */
SSHRPC_MUST_USE int sshrpc_term_list_length(const sshrpc_term *t, size_t *n);
const sshrpc_term *sshrpc_term_list_elems(const sshrpc_term *t);
/* Map size in pairs, the value for a key (NULL when absent), and the value
 * for an atom key given by name. */
size_t sshrpc_term_map_size(const sshrpc_term *t);
const sshrpc_term *sshrpc_term_map_get(const sshrpc_term *t, const sshrpc_term *key);
const sshrpc_term *sshrpc_term_map_get_atom(const sshrpc_term *t, const char *name);

/* Erlang's term order with exact comparison (=:=; an integer is never equal
 * to a float), the order OTP sorts map keys in. *order < 0, 0, > 0. Fails
 * only when memory for a very deep term cannot be had. */
SSHRPC_MUST_USE int sshrpc_term_compare(const sshrpc_term *a, const sshrpc_term *b, int *order);
/* =:= ; false also when the comparison could not run. */
bool sshrpc_term_equal(const sshrpc_term *a, const sshrpc_term *b);
/* A deep copy of t into h (for a term that must outlive its heap). */
SSHRPC_MUST_USE int sshrpc_term_copy(sshrpc_heap *h, const sshrpc_term *t, sshrpc_term *out);

/* ---- ETF: the Erlang external term format -------------------------------- */

/* Limits on a decode. Every count is checked against the bytes left in the
 * input and against these before anything is allocated; the decoded terms
 * themselves are capped by the heap's max. Zero fields take the defaults. */
typedef struct sshrpc_etf_limits {
	size_t max_depth;	 /* nesting depth, default 100000 (OTP has none; large.tsv nests 10000) */
	size_t max_terms;	 /* terms in one message, default 16 Mi */
	size_t max_bignum_bytes; /* digits of one integer, default 128 KiB */
	size_t max_inflated;	 /* size field of a compressed term (tag 80), default 64 MiB */
} sshrpc_etf_limits;

#define SSHRPC_ETF_VERSION 131

enum {
	/* Binaries, atoms and integers may point into the input instead of
	 * being copied: the input must outlive the heap (sshrpc_heap_adopt). */
	SSHRPC_ETF_BORROW = 1u << 0,
	/* Ignore bytes after the term, as binary_to_term/1 does. Without it a
	 * decode must consume the whole input (one term per message). */
	SSHRPC_ETF_TRAILING = 1u << 1,
};

/* Decodes one term (starting with the version byte 131) into h. *used (may
 * be NULL) gets the bytes consumed. Errors, each with err naming the rule:
 * SSHRPC_E_INVALID (malformed: binary_to_term's badarg), SSHRPC_E_UNSUPPORTED
 * (pids, ports, references, funs: badarg too), SSHRPC_E_TOO_LARGE (a limit),
 * SSHRPC_E_NOMEM. On error nothing in *out is usable; what the decode took
 * from h stays there until sshrpc_heap_free. */
SSHRPC_MUST_USE int sshrpc_etf_decode(sshrpc_heap *h, const uint8_t *p, size_t len, unsigned flags,
	const sshrpc_etf_limits *limits, sshrpc_term *out, size_t *used, sshrpc_err *err);

/* Encoding options; NULL or all-zero is term_to_binary/1 of OTP 25
 * (minor_version 1: Latin-1 atoms as ATOM_EXT, floats as NEW_FLOAT_EXT). */
enum {
	SSHRPC_ETF_MINOR_0 = 1u << 8,	     /* {minor_version,0}: floats as FLOAT_EXT text */
	SSHRPC_ETF_MINOR_2 = 1u << 9,	     /* {minor_version,2}: every atom as UTF-8 (OTP 26's default) */
	SSHRPC_ETF_DETERMINISTIC = 1u << 10, /* deterministic: maps of any size in key order */
};
typedef struct sshrpc_etf_enc_opts {
	unsigned flags;
	int compress; /* 0: plain; 1..9: {compressed,Level}; -1: compressed (zlib's default, 6) */
} sshrpc_etf_enc_opts;

/* Appends the encoding of t (version byte included) to out. Fails with
 * SSHRPC_E_INVALID for an INVALID term or a malformed one built by hand. */
SSHRPC_MUST_USE int sshrpc_etf_encode(
	sshrpc_buf *out, const sshrpc_term *t, const sshrpc_etf_enc_opts *opts, sshrpc_err *err);

/* ---- Erlang term text ---------------------------------------------------- */

/* Parses one term written in Erlang syntax (UTF-8): atoms plain and quoted,
 * integers (up to 10000 digits: reading them is quadratic), Base#Digits and
 * $c, floats, "strings", binaries
 * <<"..">>, <<"..."/utf8>>, <<1,2,3:4>>, lists (improper too), tuples, maps
 * #{K => V}; surrounding white space and one final '.' allowed. */
SSHRPC_MUST_USE int sshrpc_term_parse(sshrpc_heap *h, const char *text, size_t len, sshrpc_term *out, sshrpc_err *err);
/* The call syntax Module:Function(Arg, ...) with an optional final '.':
 * *mod and *fun are atoms, *args the proper list of the arguments. */
SSHRPC_MUST_USE int sshrpc_term_parse_call(sshrpc_heap *h, const char *text, size_t len, sshrpc_term *mod,
	sshrpc_term *fun, sshrpc_term *args, sshrpc_err *err);
/* Appends t as io_lib:format("~0tp", [T]) prints it on OTP 25 (one line,
 * printable range latin1, UTF-8 output). No NUL is appended. */
SSHRPC_MUST_USE int sshrpc_term_print(sshrpc_buf *out, const sshrpc_term *t, sshrpc_err *err);

#endif
