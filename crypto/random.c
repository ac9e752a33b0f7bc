/* Random bytes from libcrypto's DRBG (seeded from the OS). Used for
 * padding, cookies, ephemeral keys and nonces. */
#include <openssl/err.h>
#include <openssl/rand.h>

#include "sshrpc/crypto.h"

#include "crypto/sym_internal.h"

/* RAND_bytes takes an int length: larger requests go in pieces. */
#define RANDOM_CHUNK ((size_t)1 << 30)

int sshrpc_random(void *out, size_t n)
{
	uint8_t *p = out;

	if (p == NULL && n > 0)
		return SSHRPC_E_INVALID;
	while (n > 0) {
		size_t chunk = n < RANDOM_CHUNK ? n : RANDOM_CHUNK;
		if (RAND_bytes(p, (int)chunk) != 1)
			return sshrpc_sym_fail();
		p += chunk;
		n -= chunk;
	}
	return SSHRPC_OK;
}

int sshrpc_sym_fail(void)
{
	ERR_clear_error();
	return SSHRPC_E_CRYPTO;
}
