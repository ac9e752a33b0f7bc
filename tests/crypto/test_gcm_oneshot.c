#include <criterion/criterion.h>
#include <string.h>

#include "sshrpc/crypto.h"

/* McGrew & Viega, "The Galois/Counter Mode of Operation", test case 2:
 * K = 0^128, IV = 0^96, P = 0^128. */
Test(gcm_oneshot, test_case_2)
{
	static const uint8_t want_c[16] = { 0x03, 0x88, 0xda, 0xce, 0x60, 0xb6, 0xa3, 0x92, 0xf3, 0x28, 0xc2, 0xb9,
		0x71, 0xb2, 0xfe, 0x78 };
	static const uint8_t want_t[16] = { 0xab, 0x6e, 0x47, 0xd4, 0x2c, 0xec, 0x13, 0xbd, 0xf5, 0x3a, 0x67, 0xb2,
		0x12, 0x57, 0xbd, 0xdf };
	uint8_t key[16] = { 0 }, iv[12] = { 0 }, buf[16] = { 0 }, tag[16];
	cr_assert_eq(sshrpc_aes_gcm_oneshot(key, 16, iv, NULL, 0, buf, 16, tag, SSHRPC_ENCRYPT), SSHRPC_OK);
	cr_assert(memcmp(buf, want_c, 16) == 0);
	cr_assert(memcmp(tag, want_t, 16) == 0);
	cr_assert_eq(sshrpc_aes_gcm_oneshot(key, 16, iv, NULL, 0, buf, 16, tag, SSHRPC_DECRYPT), SSHRPC_OK);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(buf[i], 0);
}

Test(gcm_oneshot, tag_mismatch_wipes)
{
	uint8_t key[32] = { 1 }, iv[12] = { 2 }, buf[40], tag[16];
	uint8_t aad[5] = { 9, 8, 7, 6, 5 };
	memset(buf, 'x', sizeof buf);
	cr_assert_eq(sshrpc_aes_gcm_oneshot(key, 32, iv, aad, 5, buf, sizeof buf, tag, SSHRPC_ENCRYPT), SSHRPC_OK);
	uint8_t copy[40];
	memcpy(copy, buf, sizeof buf);
	aad[0] ^= 1; /* the additional data is authenticated too */
	cr_assert_eq(sshrpc_aes_gcm_oneshot(key, 32, iv, aad, 5, buf, sizeof buf, tag, SSHRPC_DECRYPT), SSHRPC_E_MAC);
	for (size_t i = 0; i < sizeof buf; i++)
		cr_assert_eq(buf[i], 0);
	aad[0] ^= 1;
	memcpy(buf, copy, sizeof buf);
	cr_assert_eq(sshrpc_aes_gcm_oneshot(key, 32, iv, aad, 5, buf, sizeof buf, tag, SSHRPC_DECRYPT), SSHRPC_OK);
	cr_assert_eq(buf[0], 'x');
	cr_assert_eq(sshrpc_aes_gcm_oneshot(key, 24, iv, NULL, 0, buf, 16, tag, SSHRPC_ENCRYPT), SSHRPC_E_INVALID);
}
