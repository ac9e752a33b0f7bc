/* Helpers shared by the asymmetric crypto tests (test_kex.c, test_sign.c,
 * test_bcrypt.c): hex, files, base64, running ssh-keygen, and a minimal
 * reader of the openssh-key-v1 envelope (PROTOCOL.key) — just enough to
 * check our primitives against what ssh-keygen writes. */
#ifndef SSHRPC_TEST_ASYM_UTIL_H
#define SSHRPC_TEST_ASYM_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sshrpc/crypto.h"

/* Decodes hex (whitespace ignored) into out; returns the byte count. */
size_t tu_hex(const char *hex, uint8_t *out, size_t cap);
/* Whole file, NUL-terminated (not counted in *len); NULL if missing. */
uint8_t *tu_read_file(const char *path, size_t *len);
bool tu_write_file(const char *path, const void *p, size_t n);
/* Path of a fixture under tests/crypto/data (static buffer). */
const char *tu_data(const char *name);
/* Base64 with whitespace skipped; malloc'd. */
uint8_t *tu_b64_decode(const char *s, size_t n, size_t *out_len);
char *tu_b64_encode(const uint8_t *p, size_t n);
/* Runs a shell command; its exit status. */
int tu_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A fresh temporary directory (malloc'd path), and its removal. */
char *tu_tmpdir(void);
void tu_rmdir(char *dir);
/* The blob of a one-line public key file ("type base64 comment"). */
uint8_t *tu_pub_blob(const char *path, size_t *len);

/* openssh-key-v1, one key. */
typedef struct tu_osshkey {
	uint8_t *raw; /* decoded file, owns the pointers below */
	size_t raw_len;
	char cipher[64];
	char kdf[64];
	const uint8_t *salt;
	size_t salt_len;
	uint32_t rounds;
	const uint8_t *pub; /* the public key blob */
	size_t pub_len;
	const uint8_t *priv; /* the (encrypted) private section */
	size_t priv_len;
} tu_osshkey;

bool tu_osshkey_parse(const char *path, tu_osshkey *k);
void tu_osshkey_free(tu_osshkey *k);
/* For an unencrypted key (or after decryption in place): checks the
 * checkints, reads the type and hands the private fields to
 * sshrpc_key_from_private. */
int tu_osshkey_private(const uint8_t *plain, size_t len, sshrpc_key **out);

#endif
