#include <criterion/criterion.h>
#include <string.h>

#include "sshrpc/wire.h"

struct counting {
	size_t live;
	size_t peak;
	int fail_after; /* refuse the n-th allocation; <0 never */
};

static void *counting_realloc(void *ud, void *p, size_t old, size_t new_size)
{
	struct counting *c = ud;
	if (new_size == 0) {
		c->live -= old;
		free(p);
		return NULL;
	}
	if (c->fail_after == 0)
		return NULL;
	if (c->fail_after > 0)
		c->fail_after--;
	void *q = realloc(p, new_size);
	if (q != NULL) {
		c->live += new_size - old;
		if (c->live > c->peak)
			c->peak = c->live;
	}
	return q;
}

Test(buf, write_read_round_trip)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_buf_put_u8(&b, 7), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_bool(&b, true), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 0xdeadbeef), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u64(&b, 0x0102030405060708ull), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "ssh-userauth"), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_namelist(&b, "a,b,c"), SSHRPC_OK);
	static const uint8_t mag[] = { 0x00, 0x00, 0x80, 0x01 };
	cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, mag, sizeof mag), SSHRPC_OK);

	sshrpc_reader r;
	sshrpc_buf_reader(&b, &r);
	uint8_t u8;
	bool t;
	uint32_t u32;
	uint64_t u64;
	char s[32];
	const char *nl;
	size_t nll;
	const uint8_t *mp;
	size_t mpl;
	cr_assert_eq(sshrpc_rd_u8(&r, &u8), SSHRPC_OK);
	cr_assert_eq(u8, 7);
	cr_assert_eq(sshrpc_rd_bool(&r, &t), SSHRPC_OK);
	cr_assert(t);
	cr_assert_eq(sshrpc_rd_u32(&r, &u32), SSHRPC_OK);
	cr_assert_eq(u32, 0xdeadbeef);
	cr_assert_eq(sshrpc_rd_u64(&r, &u64), SSHRPC_OK);
	cr_assert_eq(u64, 0x0102030405060708ull);
	cr_assert_eq(sshrpc_rd_cstring(&r, s, sizeof s), SSHRPC_OK);
	cr_assert_str_eq(s, "ssh-userauth");
	cr_assert_eq(sshrpc_rd_namelist(&r, &nl, &nll), SSHRPC_OK);
	cr_assert_eq(nll, 5);
	cr_assert_eq(sshrpc_rd_mpint_unsigned(&r, &mp, &mpl), SSHRPC_OK);
	cr_assert_eq(mpl, 2);
	cr_assert_eq(mp[0], 0x80);
	cr_assert_eq(sshrpc_rd_end(&r), SSHRPC_OK);
	sshrpc_buf_free(&b);
}

Test(buf, mpint_zero_and_padding)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	static const uint8_t zero[] = { 0, 0 };
	cr_assert_eq(sshrpc_buf_put_mpint_unsigned(&b, zero, sizeof zero), SSHRPC_OK);
	static const uint8_t enc0[] = { 0, 0, 0, 0 };
	cr_assert_eq(sshrpc_buf_len(&b), 4);
	cr_assert(memcmp(sshrpc_buf_ptr(&b), enc0, 4) == 0);
	sshrpc_buf_free(&b);
}

Test(buf, namelist_validated_on_write)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_buf_put_namelist(&b, "a,,b"), SSHRPC_E_INVALID);
	cr_assert_eq(sshrpc_buf_len(&b), 0);
	sshrpc_buf_free(&b);
}

Test(buf, hard_cap)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 100);
	uint8_t *p;
	cr_assert_eq(sshrpc_buf_reserve(&b, 100, &p), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u8(&b, 1), SSHRPC_E_TOO_LARGE);
	cr_assert_eq(sshrpc_buf_len(&b), 100);
	cr_assert_eq(sshrpc_buf_reserve(&b, SIZE_MAX, &p), SSHRPC_E_TOO_LARGE);
	sshrpc_buf_free(&b);
}

Test(buf, grows_only_through_allocator)
{
	struct counting c = { 0, 0, -1 };
	sshrpc_alloc a = { counting_realloc, &c };
	sshrpc_buf b;
	sshrpc_buf_init(&b, &a, 1 << 20);
	for (int i = 0; i < 10000; i++)
		cr_assert_eq(sshrpc_buf_put_u32(&b, (uint32_t)i), SSHRPC_OK);
	cr_assert_eq(c.live, b.cap);
	cr_assert(c.peak <= 1 << 20);
	sshrpc_buf_free(&b);
	cr_assert_eq(c.live, 0);
}

Test(buf, allocation_failure_is_reported)
{
	struct counting c = { 0, 0, 0 };
	sshrpc_alloc a = { counting_realloc, &c };
	sshrpc_buf b;
	sshrpc_buf_init(&b, &a, 0);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 1), SSHRPC_E_NOMEM);
	cr_assert_eq(sshrpc_buf_len(&b), 0);
	sshrpc_buf_free(&b);
}

Test(buf, fixed_memory)
{
	uint8_t mem[8];
	sshrpc_buf b;
	sshrpc_buf_init_fixed(&b, mem, sizeof mem);
	cr_assert_eq(sshrpc_buf_put_u64(&b, 1), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u8(&b, 1), SSHRPC_E_TOO_LARGE);
	sshrpc_buf_consume(&b, 4);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 2), SSHRPC_OK, "consumed prefix is reused");
	cr_assert_eq(sshrpc_buf_len(&b), 8);
	sshrpc_buf_free(&b);
}

Test(buf, string_reservation)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	size_t mark;
	cr_assert_eq(sshrpc_buf_string_begin(&b, &mark), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_cstring(&b, "abc"), SSHRPC_OK);
	sshrpc_buf_string_end(&b, mark);
	sshrpc_reader r, sub;
	sshrpc_buf_reader(&b, &r);
	cr_assert_eq(sshrpc_rd_sub(&r, &sub), SSHRPC_OK);
	char s[8];
	cr_assert_eq(sshrpc_rd_cstring(&sub, s, sizeof s), SSHRPC_OK);
	cr_assert_str_eq(s, "abc");
	cr_assert_eq(sshrpc_rd_end(&sub), SSHRPC_OK);
	sshrpc_buf_free(&b);
}

Test(buf, secret_wiped_on_reset)
{
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	sshrpc_buf_set_secret(&b);
	cr_assert_eq(sshrpc_buf_put(&b, "key!", 4), SSHRPC_OK);
	uint8_t *mem = b.data;
	sshrpc_buf_reset(&b);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(mem[i], 0);
	sshrpc_buf_free(&b);
}

Test(common, ct_memcmp_and_errors)
{
	cr_assert_eq(sshrpc_ct_memcmp("abc", "abc", 3), 0);
	cr_assert_neq(sshrpc_ct_memcmp("abc", "abd", 3), 0);
	sshrpc_err e;
	sshrpc_err_clear(&e);
	cr_assert_eq(sshrpc_err_set(&e, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			     "packet length %u exceeds maximum %u", 35001u, 35000u),
		SSHRPC_E_PROTOCOL);
	cr_assert_eq(sshrpc_err_set(&e, SSHRPC_E_MAC, SSH_DISCONNECT_MAC_ERROR, "second"), SSHRPC_E_MAC);
	cr_assert_str_eq(e.msg, "packet length 35001 exceeds maximum 35000", "first error is kept");
	cr_assert_eq(e.reason, SSH_DISCONNECT_PROTOCOL_ERROR);
	cr_assert_str_eq(sshrpc_disconnect_reason_name(SSH_DISCONNECT_MAC_ERROR), "MAC_ERROR");
}
