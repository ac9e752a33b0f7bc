/* What the rpc/ files share and nobody else sees: an explicit stack (no
 * function of rpc/ recurses on the shape of a term, so a deep term from a
 * peer cannot exhaust the C stack), UTF-8, bignum and float helpers. */
#ifndef SSHRPC_RPC_INTERNAL_H
#define SSHRPC_RPC_INTERNAL_H

#include "sshrpc/rpc_term.h"

/* ---- explicit stack ------------------------------------------------------ */

/* A stack of fixed-size frames: the first few live inside the struct, more
 * come from the allocator, at most max frames (then SSHRPC_E_TOO_LARGE). */
#define RPC_STACK_INLINE 512
typedef struct rpc_stack {
	const sshrpc_alloc *a;
	uint8_t *p;
	size_t n;    /* frames in use */
	size_t cap;  /* frames that fit in p */
	size_t elem; /* frame size */
	size_t max;
	_Alignas(16) uint8_t inline_mem[RPC_STACK_INLINE];
} rpc_stack;

void rpc_stack_init(rpc_stack *s, const sshrpc_alloc *a, size_t elem, size_t max);
void rpc_stack_free(rpc_stack *s);
/* A new zeroed frame on top, or NULL (out of memory or over max; *rc says). */
void *rpc_stack_push(rpc_stack *s, int *rc);
static inline void *rpc_stack_top(rpc_stack *s)
{
	return s->n > 0 ? s->p + (s->n - 1) * s->elem : NULL;
}
static inline void rpc_stack_pop(rpc_stack *s)
{
	if (s->n > 0)
		s->n--;
}

/* ---- UTF-8 --------------------------------------------------------------- */

/* One code point from p: bytes used, or 0 when the bytes are not strict
 * UTF-8 (overlong forms, surrogates, beyond U+10FFFF, cut short). */
size_t rpc_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp);
/* Writes cp (at most 4 bytes); returns the length, 0 for an invalid cp. */
size_t rpc_utf8_encode(uint32_t cp, uint8_t *out);
/* Strict UTF-8 check; *chars gets the number of code points. */
bool rpc_utf8_check(const uint8_t *p, size_t n, size_t *chars);

/* ---- atoms --------------------------------------------------------------- */

#define RPC_ATOM_MAX_CHARS 255
bool rpc_atom_eq(const sshrpc_term *t, const char *name, size_t len);

/* ---- integers ------------------------------------------------------------ */

/* Magnitude of v in little-endian bytes (0..8 of them) and its sign. */
size_t rpc_int_mag(int64_t v, uint8_t out[8], bool *negative);
/* The magnitude and sign of any integer term: for INT it is written into
 * tmp. */
const uint8_t *rpc_integer_mag(const sshrpc_term *t, uint8_t tmp[8], size_t *len, bool *negative);
/* Builds the integer -1^neg * mag (little-endian), normalised: INT when it
 * fits int64_t, otherwise BIGINT. With copy false, a BIGINT points at mag. */
int rpc_integer_make(sshrpc_heap *h, bool negative, const uint8_t *mag, size_t len, bool copy, sshrpc_term *out);
/* Compares two integer terms by value. */
int rpc_integer_cmp(const sshrpc_term *a, const sshrpc_term *b);
/* a + b, any sizes. */
int rpc_integer_add(sshrpc_heap *h, const sshrpc_term *a, const sshrpc_term *b, sshrpc_term *out);
/* Decimal text of an integer. */
int rpc_integer_print(sshrpc_buf *out, const sshrpc_term *t);
/* An integer from digit values (each < base, most significant first). */
int rpc_integer_from_digits(
	sshrpc_heap *h, bool negative, const uint8_t *digits, size_t n, unsigned base, sshrpc_term *out);

/* ---- floats -------------------------------------------------------------- */

/* The shortest text that reads back to v, formatted as OTP 25's
 * io_lib_format:fwrite_g/1 does ("1.0e-10", "100.0", "9.007199254740992e15").
 * out needs 32 bytes; returns the length. */
size_t rpc_float_format(double v, char *out);
/* Parses [+-]digits[.digits][(e|E)[+-]digits] exactly (no locale, no hex,
 * no inf/nan); SSHRPC_E_INVALID on any other text or a non-finite result. */
int rpc_float_parse(const char *s, size_t n, double *out);

/* ---- terms --------------------------------------------------------------- */

/* Term comparison with the allocator that its stack may use. */
int rpc_term_cmp(const sshrpc_term *a, const sshrpc_term *b, const sshrpc_alloc *alloc, int *order);
/* Sorts a map's pairs by key when it has up to 32, and refuses duplicate
 * keys (SSHRPC_E_INVALID). Maps with more pairs keep their order, which is
 * OTP's iteration order for maps that came from OTP. */
int rpc_map_normalize(sshrpc_term *m, const sshrpc_alloc *alloc);
/* The pair indices of a map in key order: an array of 2 * m->len uint32_t
 * (the second half is scratch), freed with sshrpc_free(alloc, idx,
 * 2 * m->len * sizeof *idx). */
int rpc_map_sorted_index(const sshrpc_term *m, const sshrpc_alloc *alloc, uint32_t **idx);

/* OTP keeps maps of up to 32 keys as sorted flatmaps (MAP_SMALL_MAP_LIMIT). */
#define RPC_FLATMAP_MAX 32

/* Erlang's reserved words: printed quoted, refused unquoted by the parser
 * (term_print.c holds the list). */
bool sshrpc_rpc_is_reserved_word(const uint8_t *p, size_t n);

/* zlib's alloc_func and free_func over an sshrpc_alloc (opaque), in
 * zalloc.c; with SSHRPC_WITH_ZLIB only. */
void *rpc_zalloc(void *opaque, unsigned items, unsigned size);
void rpc_zfree(void *opaque, void *ptr);

#endif
