/* Public key text (OpenSSH one-line and RFC 4716) on arbitrary bytes: what
 * parses formats back to a line that parses to the same key, and has a
 * fingerprint. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/keys.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	sshrpc_err err;
	sshrpc_err_clear(&err);
	sshrpc_key *k = NULL;
	char comment[128];
	if (sshrpc_pubkey_parse(NULL, "fuzz", data, len, &k, comment, sizeof comment, &err) != SSHRPC_OK) {
		check(k == NULL && err.msg[0] != '\0');
		return 0;
	}
	char fp[80];
	check(sshrpc_key_fingerprint(k, fp, sizeof fp) == SSHRPC_OK);
	check(strncmp(fp, "SHA256:", 7) == 0);
	sshrpc_buf line;
	sshrpc_buf_init(&line, NULL, 0);
	check(sshrpc_pubkey_format(k, NULL, &line) == SSHRPC_OK);
	sshrpc_key *back = NULL;
	const char *rest;
	size_t rest_len;
	check(sshrpc_pubkey_parse_line(NULL, (const char *)sshrpc_buf_ptr(&line), sshrpc_buf_len(&line), &back, &rest,
		      &rest_len) == SSHRPC_OK);
	check(sshrpc_key_equal_public(k, back));
	check(rest_len == 0);
	sshrpc_key_free(back);
	sshrpc_buf_free(&line);
	sshrpc_key_free(k);
	return 0;
}
