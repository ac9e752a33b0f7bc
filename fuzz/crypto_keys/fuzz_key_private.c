/* The openssh-key-v1 private fields (PROTOCOL.key; the part after the key
 * type) fed arbitrary bytes: the first byte picks the key type, the rest
 * is read by sshrpc_key_from_private. What it accepts must serialise back
 * to exactly the bytes it consumed, sign, and verify its own signature. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/crypto.h"

static const sshrpc_key_type types[] = {
	SSHRPC_KEY_ED25519,
	SSHRPC_KEY_RSA,
	SSHRPC_KEY_ECDSA_P256,
	SSHRPC_KEY_ECDSA_P384,
	SSHRPC_KEY_ECDSA_P521,
};

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	sshrpc_key_type t = types[data[0] % (sizeof types / sizeof types[0])];
	sshrpc_reader r;
	sshrpc_rd_init(&r, data + 1, len - 1);
	sshrpc_key *k = NULL;
	int rc = sshrpc_key_from_private(NULL, t, &r, &k);
	if (rc != SSHRPC_OK) {
		if (k != NULL || r.off != 0)
			abort();
		return 0;
	}
	/* to_private writes the type string, then the fields as read. */
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	sshrpc_buf_set_secret(&b);
	if (sshrpc_key_to_private(k, &b) != SSHRPC_OK)
		abort();
	sshrpc_reader w;
	char name[64];
	sshrpc_buf_reader(&b, &w);
	if (sshrpc_rd_cstring(&w, name, sizeof name) != SSHRPC_OK ||
		sshrpc_key_type_from_name(name, strlen(name)) != t || sshrpc_rd_left(&w) != r.off ||
		memcmp(sshrpc_rd_ptr(&w), data + 1, r.off) != 0)
		abort();
	sshrpc_buf_reset(&b);
	if (sshrpc_key_sign(k, NULL, data, len, &b) != SSHRPC_OK ||
		sshrpc_key_verify(k, NULL, sshrpc_buf_ptr(&b), b.len, data, len) != SSHRPC_OK)
		abort();
	sshrpc_buf_free(&b);
	sshrpc_key_free(k);
	return 0;
}
