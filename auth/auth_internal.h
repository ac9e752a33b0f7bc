/* Helpers shared by the files of auth/; not part of the public API. */
#ifndef SSHRPC_AUTH_INTERNAL_H
#define SSHRPC_AUTH_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sshrpc/auth.h"
#include "sshrpc/keys.h"

static inline bool auth_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Formats a message and hands it to log (when set). */
void auth_logf(sshrpc_log_fn log, void *ud, int level, const char *fmt, ...) SSHRPC_PRINTF(4, 5);

/* A NUL-terminated copy of (p, n) through a; NULL when a refuses. Free with
 * auth_strfree. */
char *auth_strndup(const sshrpc_alloc *a, const char *p, size_t n);
void auth_strfree(const sshrpc_alloc *a, char *s);

/* The key type name at the start of a public key blob. */
int auth_blob_type(const uint8_t *blob, size_t len, const char **name, size_t *name_len);

/* Copies (p, n) into a fixed C string, truncating; replaces control
 * characters (RFC 4251 §9.2: terminal escapes) with '?' when filter. */
void auth_copy_text(char *out, size_t cap, const uint8_t *p, size_t n, bool filter);

/* The next line of a text file (authorized_keys, known_hosts) that is
 * neither blank nor a # comment: *line and *line_len without the CR LF,
 * *lineno its 1-based number. *pos starts at 0; false at the end. */
bool auth_next_line(const char *s, size_t len, size_t *pos, unsigned *lineno, const char **line, size_t *line_len);

#endif
