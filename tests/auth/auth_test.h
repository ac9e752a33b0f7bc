/* Helpers for auth/'s tests: a scratch folder per test, running ssh-keygen
 * and friends, reading files, capturing log lines. */
#ifndef SSHRPC_AUTH_TEST_H
#define SSHRPC_AUTH_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sshrpc/auth.h"
#include "sshrpc/keys.h"

/* A fresh folder under /tmp (removed by at_rmdir). */
void at_mkdtemp(char *out, size_t cap);
void at_rmdir(const char *dir);
/* Runs a shell command (printf-style); returns its exit status. */
int at_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The whole file (malloc'd, NUL-terminated after len); NULL when absent. */
uint8_t *at_read(const char *path, size_t *len);
void at_write(const char *path, const void *data, size_t len, unsigned mode);

/* Log lines gathered by at_log (an sshrpc_log_fn). */
typedef struct at_logbuf {
	char text[8192];
	unsigned lines;
} at_logbuf;
void at_log(void *ud, int level, const char *msg);

/* Loads a public key file (.pub) or dies. */
sshrpc_key *at_load_pub(const char *path);

#endif
