/* sshrpc wire/: the SSH data types of RFC 4251 §5 — a bounds-checked reader
 * over borrowed bytes and a growable, capped writer (sshrpc_buf). Every other
 * layer parses and builds messages with these and nothing else. */
#ifndef SSHRPC_WIRE_H
#define SSHRPC_WIRE_H

#include <stdbool.h>

#include "sshrpc/common.h"

/* Hard cap on any one buffer, whatever its configured maximum. */
#define SSHRPC_BUF_HARD_MAX ((size_t)256 * 1024 * 1024)
/* RFC 4251 §6: names are at most 64 characters. */
#define SSHRPC_NAME_MAX 64

/* ---- reader ---------------------------------------------------------- */

/* A read cursor over bytes the caller owns. A failed read leaves the cursor
 * where it was and returns SSHRPC_E_TRUNCATED or SSHRPC_E_INVALID. */
typedef struct sshrpc_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
} sshrpc_reader;

void sshrpc_rd_init(sshrpc_reader *r, const void *p, size_t len);
size_t sshrpc_rd_left(const sshrpc_reader *r);
const uint8_t *sshrpc_rd_ptr(const sshrpc_reader *r);

SSHRPC_MUST_USE int sshrpc_rd_u8(sshrpc_reader *r, uint8_t *v);
/* boolean: any non-zero byte is TRUE (RFC 4251 §5). */
SSHRPC_MUST_USE int sshrpc_rd_bool(sshrpc_reader *r, bool *v);
SSHRPC_MUST_USE int sshrpc_rd_u32(sshrpc_reader *r, uint32_t *v);
SSHRPC_MUST_USE int sshrpc_rd_u64(sshrpc_reader *r, uint64_t *v);
/* n raw bytes, borrowed. */
SSHRPC_MUST_USE int sshrpc_rd_bytes(sshrpc_reader *r, size_t n, const uint8_t **p);
SSHRPC_MUST_USE int sshrpc_rd_skip(sshrpc_reader *r, size_t n);
/* string: borrowed pointer into the input, no copy. */
SSHRPC_MUST_USE int sshrpc_rd_string(sshrpc_reader *r, const uint8_t **p, size_t *len);
/* A string that is a sub-message: a reader over its contents. */
SSHRPC_MUST_USE int sshrpc_rd_sub(sshrpc_reader *r, sshrpc_reader *sub);
/* A string copied into out (NUL-terminated); refuses embedded NULs and
 * strings that do not fit in cap-1 bytes. */
SSHRPC_MUST_USE int sshrpc_rd_cstring(sshrpc_reader *r, char *out, size_t cap);
/* mpint (RFC 4251 §5): two's complement, big-endian, minimal. Rejects a
 * superfluous leading 0x00 or 0xff byte. (*p, *len) is the raw encoding
 * (empty for zero); *negative tells the sign. */
SSHRPC_MUST_USE int sshrpc_rd_mpint(sshrpc_reader *r, const uint8_t **p, size_t *len, bool *negative);
/* An mpint that must be >= 0: (*p, *len) is its unsigned magnitude without
 * the sign-padding zero byte. Negative values are SSHRPC_E_INVALID. */
SSHRPC_MUST_USE int sshrpc_rd_mpint_unsigned(sshrpc_reader *r, const uint8_t **p, size_t *len);
/* name-list (RFC 4251 §5, §6): validated — no empty names, no commas inside
 * a name, printable US-ASCII only, at most SSHRPC_NAME_MAX per name. */
SSHRPC_MUST_USE int sshrpc_rd_namelist(sshrpc_reader *r, const char **p, size_t *len);
/* SSHRPC_OK when nothing is left, SSHRPC_E_INVALID otherwise. */
SSHRPC_MUST_USE int sshrpc_rd_end(const sshrpc_reader *r);

/* Validates a name-list given as bytes (the rules of sshrpc_rd_namelist). */
SSHRPC_MUST_USE int sshrpc_namelist_check(const char *p, size_t len);
/* Iterates the names of a validated list: *pos starts at 0; returns false at
 * the end. */
bool sshrpc_namelist_next(const char *list, size_t len, size_t *pos, const char **name, size_t *name_len);
/* true when the comma-separated list holds exactly the name. */
bool sshrpc_namelist_has(const char *list, size_t len, const char *name, size_t name_len);

/* ---- writer / byte buffer -------------------------------------------- */

enum {
	SSHRPC_BUF_FIXED = 1,  /* memory is the caller's; never grows or frees */
	SSHRPC_BUF_SECRET = 2, /* wipe on free and on every reallocation */
};

/* A byte buffer: valid bytes are data[off .. off+len). Writes append at the
 * end; reads consume from the front. It grows only through its allocator and
 * never beyond max (itself never above SSHRPC_BUF_HARD_MAX). */
typedef struct sshrpc_buf {
	uint8_t *data;
	size_t off;
	size_t len;
	size_t cap;
	size_t max;
	const sshrpc_alloc *alloc;
	unsigned flags;
} sshrpc_buf;

void sshrpc_buf_init(sshrpc_buf *b, const sshrpc_alloc *a, size_t max);
void sshrpc_buf_init_fixed(sshrpc_buf *b, void *mem, size_t cap);
void sshrpc_buf_set_secret(sshrpc_buf *b);
void sshrpc_buf_free(sshrpc_buf *b);
/* Empties the buffer, keeping its memory. */
void sshrpc_buf_reset(sshrpc_buf *b);
static inline uint8_t *sshrpc_buf_ptr(const sshrpc_buf *b)
{
	return b->data + b->off;
}
static inline size_t sshrpc_buf_len(const sshrpc_buf *b)
{
	return b->len;
}
/* Makes room for n more bytes at the end without writing them. */
SSHRPC_MUST_USE int sshrpc_buf_ensure(sshrpc_buf *b, size_t n);
/* Appends n uninitialised bytes and points *p at them. */
SSHRPC_MUST_USE int sshrpc_buf_reserve(sshrpc_buf *b, size_t n, uint8_t **p);
void sshrpc_buf_consume(sshrpc_buf *b, size_t n);
/* Keeps the first n valid bytes. */
void sshrpc_buf_truncate(sshrpc_buf *b, size_t n);
/* Moves the valid bytes to the start of the memory. */
void sshrpc_buf_compact(sshrpc_buf *b);
void sshrpc_buf_reader(const sshrpc_buf *b, sshrpc_reader *r);

SSHRPC_MUST_USE int sshrpc_buf_put(sshrpc_buf *b, const void *p, size_t n);
SSHRPC_MUST_USE int sshrpc_buf_put_u8(sshrpc_buf *b, uint8_t v);
SSHRPC_MUST_USE int sshrpc_buf_put_bool(sshrpc_buf *b, bool v);
SSHRPC_MUST_USE int sshrpc_buf_put_u32(sshrpc_buf *b, uint32_t v);
SSHRPC_MUST_USE int sshrpc_buf_put_u64(sshrpc_buf *b, uint64_t v);
SSHRPC_MUST_USE int sshrpc_buf_put_string(sshrpc_buf *b, const void *p, size_t n);
SSHRPC_MUST_USE int sshrpc_buf_put_cstring(sshrpc_buf *b, const char *s);
/* mpint from an unsigned big-endian magnitude (leading zeros stripped, a
 * zero byte prepended when the top bit is set). */
SSHRPC_MUST_USE int sshrpc_buf_put_mpint_unsigned(sshrpc_buf *b, const uint8_t *mag, size_t n);
/* mpint from an already two's-complement big-endian value (minimised). */
SSHRPC_MUST_USE int sshrpc_buf_put_mpint_twos(sshrpc_buf *b, const uint8_t *p, size_t n);
/* A name-list given as a C string; validated before it is written. */
SSHRPC_MUST_USE int sshrpc_buf_put_namelist(sshrpc_buf *b, const char *list);
/* A length-prefixed string written in place: begin reserves the uint32 and
 * returns its position in *mark, end fills in the length. */
SSHRPC_MUST_USE int sshrpc_buf_string_begin(sshrpc_buf *b, size_t *mark);
void sshrpc_buf_string_end(sshrpc_buf *b, size_t mark);

/* Big-endian helpers for code that already holds checked bounds. */
static inline uint32_t sshrpc_load_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline void sshrpc_store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}
static inline uint64_t sshrpc_load_be64(const uint8_t *p)
{
	return ((uint64_t)sshrpc_load_be32(p) << 32) | sshrpc_load_be32(p + 4);
}
static inline void sshrpc_store_be64(uint8_t *p, uint64_t v)
{
	sshrpc_store_be32(p, (uint32_t)(v >> 32));
	sshrpc_store_be32(p + 4, (uint32_t)v);
}

#endif
