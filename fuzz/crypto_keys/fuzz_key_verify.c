/* Signature verification with arbitrary signatures against fixed public
 * keys of every type: the first byte picks the key and whether the
 * algorithm is pinned, the rest is the SSH signature encoding, over fixed
 * data. Nothing may crash or leak, the answer is one of OK, DENIED,
 * INVALID, and a signature that verifies must name an algorithm of the
 * key's type. The seed corpus holds real signatures (made with the
 * private halves when fixed_keys.h was generated). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/crypto.h"

#include "fixed_keys.h"

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 1)
		return 0;
	size_t nkeys = sizeof fixed_keys / sizeof fixed_keys[0];
	size_t which = data[0] % nkeys;
	bool pin = (data[0] / nkeys) % 2 == 1;
	sshrpc_key *k = NULL;
	if (sshrpc_key_from_blob(NULL, fixed_keys[which].blob, fixed_keys[which].len, &k) != SSHRPC_OK)
		return 0; /* built without this key type */
	const char *alg = pin ? fixed_keys[which].alg : NULL;
	int rc = sshrpc_key_verify(k, alg, data + 1, len - 1, (const uint8_t *)FIXED_DATA, sizeof FIXED_DATA - 1);
	if (rc != SSHRPC_OK && rc != SSHRPC_E_DENIED && rc != SSHRPC_E_INVALID && rc != SSHRPC_E_NOMEM)
		abort();
	if (rc == SSHRPC_OK) {
		sshrpc_reader r;
		const uint8_t *name;
		size_t nl;
		sshrpc_rd_init(&r, data + 1, len - 1);
		if (sshrpc_rd_string(&r, &name, &nl) != SSHRPC_OK ||
			sshrpc_sigalg_key_type((const char *)name, nl) != sshrpc_key_get_type(k))
			abort();
	}
	sshrpc_key_free(k);
	return 0;
}
