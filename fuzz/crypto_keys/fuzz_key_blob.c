/* The public key blob parser (RFC 4253 §6.6, RFC 8709, RFC 8332, RFC 5656
 * §3.1) fed arbitrary bytes. A blob that parses must be canonical: written
 * back it gives the input again, byte for byte, and it equals itself. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/crypto.h"

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	sshrpc_key *k = NULL;
	int rc = sshrpc_key_from_blob(NULL, data, len, &k);
	if (rc != SSHRPC_OK) {
		if (k != NULL || (rc != SSHRPC_E_INVALID && rc != SSHRPC_E_UNSUPPORTED && rc != SSHRPC_E_NOMEM))
			abort();
		return 0;
	}
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	if (sshrpc_key_to_blob(k, &b) != SSHRPC_OK || b.len != len || memcmp(sshrpc_buf_ptr(&b), data, len) != 0)
		abort();
	if (!sshrpc_key_equal_public(k, k) || sshrpc_key_has_private(k) || sshrpc_key_bits(k) == 0 ||
		sshrpc_key_type_name(sshrpc_key_get_type(k)) == NULL)
		abort();
	/* A public key cannot sign. */
	sshrpc_buf_reset(&b);
	if (sshrpc_key_sign(k, NULL, data, len, &b) != SSHRPC_E_STATE || b.len != 0)
		abort();
	sshrpc_buf_free(&b);
	sshrpc_key_free(k);
	return 0;
}
