/* Backend check for the data path (architecture.md, "Data path": no
 * allocation per packet). The other tests count what goes through the
 * sshrpc_alloc; this one also counts libcrypto's own allocations, by
 * installing counting hooks with CRYPTO_set_mem_functions before anything
 * in the process touches libcrypto (a constructor: Criterion's runner and
 * its test workers inherit them). It is tied to the OpenSSL backend on
 * purpose and is the one test file here that includes an OpenSSL header. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <openssl/crypto.h>

#include "sshrpc/crypto.h"

static long ossl_allocs;
static int hooks_installed;

static void *count_malloc(size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, const char *file, int line)
{
	(void)file;
	(void)line;
	ossl_allocs++;
	return realloc(p, n);
}

static void count_free(void *p, const char *file, int line)
{
	(void)file;
	(void)line;
	free(p);
}

__attribute__((constructor)) static void install_hooks(void)
{
	hooks_installed = CRYPTO_set_mem_functions(count_malloc, count_realloc, count_free);
}

static void require_hooks(void)
{
	cr_assert(hooks_installed, "libcrypto allocated before the counting hooks could be installed");
}

Test(sym_alloc, ciphers_allocate_nothing_per_packet)
{
	require_hooks();
	size_t n = 0;
	const sshrpc_cipher_info *const *all = sshrpc_cipher_all(&n);
	for (size_t k = 0; k < n; k++) {
		const sshrpc_cipher_info *info = all[k];
		uint8_t key[64] = { 1, 2, 3 }, iv[16] = { 4, 5, 6 }, pkt[4 + 256], tag[16];
		sshrpc_cipher *enc = NULL, *dec = NULL;
		cr_assert_eq(sshrpc_cipher_new(NULL, info, key, iv, SSHRPC_ENCRYPT, &enc), SSHRPC_OK);
		cr_assert_eq(sshrpc_cipher_new(NULL, info, key, iv, SSHRPC_DECRYPT, &dec), SSHRPC_OK);
		long before = ossl_allocs;
		for (uint32_t seq = 0; seq < 8; seq++) {
			memset(pkt, (int)seq, sizeof pkt);
			pkt[0] = pkt[1] = 0;
			pkt[2] = 1;
			pkt[3] = 0;
			if (info->tag_len > 0) {
				uint32_t len;
				cr_assert_eq(sshrpc_cipher_aead_seal(enc, seq, pkt, sizeof pkt, tag), SSHRPC_OK);
				cr_assert_eq(sshrpc_cipher_aead_length(dec, seq, pkt, &len), SSHRPC_OK);
				/* A forged tag too: the failure path must not allocate either. */
				tag[0] ^= 1;
				cr_assert_eq(sshrpc_cipher_aead_open(dec, seq, pkt, sizeof pkt, tag), SSHRPC_E_MAC);
				tag[0] ^= 1;
				cr_assert_eq(sshrpc_cipher_aead_open(dec, seq, pkt, sizeof pkt, tag), SSHRPC_OK);
			} else {
				cr_assert_eq(sshrpc_cipher_crypt(enc, pkt, 256), SSHRPC_OK);
				cr_assert_eq(sshrpc_cipher_crypt(dec, pkt, 16), SSHRPC_OK);
				cr_assert_eq(sshrpc_cipher_crypt(dec, pkt + 16, 240), SSHRPC_OK);
			}
		}
		cr_assert_eq(ossl_allocs, before, "%s: libcrypto allocated %ld times in 8 packets", info->name,
			ossl_allocs - before);
		sshrpc_cipher_free(enc);
		sshrpc_cipher_free(dec);
	}
}

Test(sym_alloc, macs_allocate_nothing_per_packet)
{
	require_hooks();
	size_t n = 0;
	const sshrpc_mac_info *const *all = sshrpc_mac_all(&n);
	for (size_t k = 0; k < n; k++) {
		uint8_t key[64] = { 7 }, data[300] = { 8 }, out[64];
		sshrpc_mac *m = NULL;
		cr_assert_eq(sshrpc_mac_new(NULL, all[k], key, &m), SSHRPC_OK);
		long before = ossl_allocs;
		for (uint32_t seq = 0; seq < 8; seq++) {
			cr_assert_eq(sshrpc_mac_compute(m, seq, data, sizeof data, out), SSHRPC_OK);
			cr_assert_eq(sshrpc_mac_verify(m, seq, data, sizeof data, out), SSHRPC_OK);
			out[0] ^= 1;
			cr_assert_eq(sshrpc_mac_verify(m, seq, data, sizeof data, out), SSHRPC_E_MAC);
		}
		cr_assert_eq(ossl_allocs, before, "%s: libcrypto allocated %ld times in 8 packets", all[k]->name,
			ossl_allocs - before);
		sshrpc_mac_free(m);
	}
}
