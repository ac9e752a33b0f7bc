#include <criterion/criterion.h>
#include <string.h>

#include "sshrpc/wire.h"

Test(reader, fixed_width)
{
	static const uint8_t in[] = { 0x01, 0x00, 0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0, 0, 0, 2, 0xff };
	sshrpc_reader r;
	sshrpc_rd_init(&r, in, sizeof in);
	uint8_t b;
	bool t;
	uint32_t u;
	uint64_t q;
	cr_assert_eq(sshrpc_rd_u8(&r, &b), SSHRPC_OK);
	cr_assert_eq(b, 1);
	cr_assert_eq(sshrpc_rd_bool(&r, &t), SSHRPC_OK);
	cr_assert(!t);
	cr_assert_eq(sshrpc_rd_u32(&r, &u), SSHRPC_OK);
	cr_assert_eq(u, 0x12345678u);
	cr_assert_eq(sshrpc_rd_u64(&r, &q), SSHRPC_OK);
	cr_assert_eq(q, 0x0000000100000002ull);
	cr_assert_eq(sshrpc_rd_bool(&r, &t), SSHRPC_OK);
	cr_assert(t, "any non-zero byte is TRUE (RFC 4251 §5)");
	cr_assert_eq(sshrpc_rd_end(&r), SSHRPC_OK);
	cr_assert_eq(sshrpc_rd_u8(&r, &b), SSHRPC_E_TRUNCATED);
}

Test(reader, truncation_leaves_cursor)
{
	static const uint8_t in[] = { 0, 0, 0 };
	sshrpc_reader r;
	sshrpc_rd_init(&r, in, sizeof in);
	uint32_t u;
	cr_assert_eq(sshrpc_rd_u32(&r, &u), SSHRPC_E_TRUNCATED);
	cr_assert_eq(r.off, 0);
	uint64_t q;
	cr_assert_eq(sshrpc_rd_u64(&r, &q), SSHRPC_E_TRUNCATED);
	cr_assert_eq(sshrpc_rd_end(&r), SSHRPC_E_INVALID);
}

Test(reader, string_bounds)
{
	/* RFC 4251 §5: "testing" is 00 00 00 07 t e s t i n g */
	static const uint8_t ok[] = { 0, 0, 0, 7, 't', 'e', 's', 't', 'i', 'n', 'g' };
	sshrpc_reader r;
	const uint8_t *p;
	size_t n;
	sshrpc_rd_init(&r, ok, sizeof ok);
	cr_assert_eq(sshrpc_rd_string(&r, &p, &n), SSHRPC_OK);
	cr_assert_eq(n, 7);
	cr_assert(memcmp(p, "testing", 7) == 0);

	static const uint8_t longer[] = { 0, 0, 0, 8, 't', 'e', 's', 't', 'i', 'n', 'g' };
	sshrpc_rd_init(&r, longer, sizeof longer);
	cr_assert_eq(sshrpc_rd_string(&r, &p, &n), SSHRPC_E_TRUNCATED);
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 0 };
	sshrpc_rd_init(&r, huge, sizeof huge);
	cr_assert_eq(sshrpc_rd_string(&r, &p, &n), SSHRPC_E_TRUNCATED);
	static const uint8_t empty[] = { 0, 0, 0, 0 };
	sshrpc_rd_init(&r, empty, sizeof empty);
	cr_assert_eq(sshrpc_rd_string(&r, &p, &n), SSHRPC_OK);
	cr_assert_eq(n, 0);
}

Test(reader, cstring)
{
	static const uint8_t nul[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	static const uint8_t abc[] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	char out[4];
	sshrpc_reader r;
	sshrpc_rd_init(&r, nul, sizeof nul);
	cr_assert_eq(sshrpc_rd_cstring(&r, out, sizeof out), SSHRPC_E_INVALID);
	cr_assert_eq(r.off, 0);
	sshrpc_rd_init(&r, abc, sizeof abc);
	cr_assert_eq(sshrpc_rd_cstring(&r, out, 3), SSHRPC_E_TOO_LARGE);
	cr_assert_eq(sshrpc_rd_cstring(&r, out, sizeof out), SSHRPC_OK);
	cr_assert_str_eq(out, "abc");
}

struct mpint_case {
	const char *value_hex; /* two's complement, as RFC 4251 §5 shows it */
	uint8_t enc[16];
	size_t enc_len;
	bool negative;
};

/* The examples of RFC 4251 §5. */
static const struct mpint_case rfc_examples[] = {
	{ "0", { 0, 0, 0, 0 }, 4, false },
	{ "9a378f9b2e332a7", { 0, 0, 0, 8, 0x09, 0xa3, 0x78, 0xf9, 0xb2, 0xe3, 0x32, 0xa7 }, 12, false },
	{ "80", { 0, 0, 0, 2, 0x00, 0x80 }, 6, false },
	{ "-1234", { 0, 0, 0, 2, 0xed, 0xcc }, 6, true },
	{ "-deadbeef", { 0, 0, 0, 5, 0xff, 0x21, 0x52, 0x41, 0x11 }, 9, true },
};

Test(reader, mpint_rfc4251_examples)
{
	for (size_t i = 0; i < sizeof rfc_examples / sizeof rfc_examples[0]; i++) {
		const struct mpint_case *c = &rfc_examples[i];
		sshrpc_reader r;
		const uint8_t *p;
		size_t n;
		bool neg;
		sshrpc_rd_init(&r, c->enc, c->enc_len);
		cr_assert_eq(sshrpc_rd_mpint(&r, &p, &n, &neg), SSHRPC_OK, "example %s", c->value_hex);
		cr_assert_eq(neg, c->negative, "sign of %s", c->value_hex);
		cr_assert_eq(n, c->enc_len - 4);
		cr_assert_eq(sshrpc_rd_end(&r), SSHRPC_OK);

		/* Writing the same two's-complement bytes back gives the same encoding. */
		sshrpc_buf b;
		sshrpc_buf_init(&b, NULL, 0);
		cr_assert_eq(sshrpc_buf_put_mpint_twos(&b, p, n), SSHRPC_OK);
		cr_assert_eq(sshrpc_buf_len(&b), c->enc_len);
		cr_assert(memcmp(sshrpc_buf_ptr(&b), c->enc, c->enc_len) == 0, "re-encoding %s", c->value_hex);
		sshrpc_buf_free(&b);
	}
}

Test(reader, mpint_rejects_non_minimal)
{
	static const uint8_t lead0[] = { 0, 0, 0, 2, 0x00, 0x7f };
	static const uint8_t leadff[] = { 0, 0, 0, 2, 0xff, 0x80 };
	static const uint8_t zero1[] = { 0, 0, 0, 1, 0x00 };
	const uint8_t *p;
	size_t n;
	bool neg;
	sshrpc_reader r;
	sshrpc_rd_init(&r, lead0, sizeof lead0);
	cr_assert_eq(sshrpc_rd_mpint(&r, &p, &n, &neg), SSHRPC_E_INVALID);
	cr_assert_eq(r.off, 0);
	sshrpc_rd_init(&r, leadff, sizeof leadff);
	cr_assert_eq(sshrpc_rd_mpint(&r, &p, &n, &neg), SSHRPC_E_INVALID);
	sshrpc_rd_init(&r, zero1, sizeof zero1);
	cr_assert_eq(sshrpc_rd_mpint(&r, &p, &n, &neg), SSHRPC_E_INVALID);
}

Test(reader, mpint_unsigned)
{
	static const uint8_t v80[] = { 0, 0, 0, 2, 0x00, 0x80 };
	static const uint8_t neg[] = { 0, 0, 0, 2, 0xed, 0xcc };
	const uint8_t *p;
	size_t n;
	sshrpc_reader r;
	sshrpc_rd_init(&r, v80, sizeof v80);
	cr_assert_eq(sshrpc_rd_mpint_unsigned(&r, &p, &n), SSHRPC_OK);
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0], 0x80);
	sshrpc_rd_init(&r, neg, sizeof neg);
	cr_assert_eq(sshrpc_rd_mpint_unsigned(&r, &p, &n), SSHRPC_E_INVALID);
}

static int namelist(const char *s)
{
	uint8_t buf[512];
	size_t n = strlen(s);
	sshrpc_store_be32(buf, (uint32_t)n);
	memcpy(buf + 4, s, n);
	sshrpc_reader r;
	sshrpc_rd_init(&r, buf, n + 4);
	const char *p;
	size_t len;
	return sshrpc_rd_namelist(&r, &p, &len);
}

Test(reader, namelist_rules)
{
	/* RFC 4251 §5 examples */
	cr_assert_eq(namelist(""), SSHRPC_OK);
	cr_assert_eq(namelist("zlib"), SSHRPC_OK);
	cr_assert_eq(namelist("zlib,none"), SSHRPC_OK);
	cr_assert_eq(namelist("aes128-gcm@openssh.com,chacha20-poly1305@openssh.com"), SSHRPC_OK);
	cr_assert_eq(namelist(","), SSHRPC_E_INVALID);
	cr_assert_eq(namelist("zlib,"), SSHRPC_E_INVALID);
	cr_assert_eq(namelist(",zlib"), SSHRPC_E_INVALID);
	cr_assert_eq(namelist("a,,b"), SSHRPC_E_INVALID);
	cr_assert_eq(namelist("has space"), SSHRPC_E_INVALID);
	cr_assert_eq(namelist("tab\tname"), SSHRPC_E_INVALID);
	cr_assert_eq(namelist("caf\xc3\xa9"), SSHRPC_E_INVALID);
	char name64[65], name65[66];
	memset(name64, 'a', 64);
	name64[64] = 0;
	memset(name65, 'a', 65);
	name65[65] = 0;
	cr_assert_eq(namelist(name64), SSHRPC_OK);
	cr_assert_eq(namelist(name65), SSHRPC_E_INVALID);
}

Test(reader, namelist_iterate)
{
	const char *l = "curve25519-sha256,ecdh-sha2-nistp256,x";
	size_t pos = 0, n;
	const char *name;
	int count = 0;
	while (sshrpc_namelist_next(l, strlen(l), &pos, &name, &n))
		count++;
	cr_assert_eq(count, 3);
	cr_assert(sshrpc_namelist_has(l, strlen(l), "x", 1));
	cr_assert(sshrpc_namelist_has(l, strlen(l), "ecdh-sha2-nistp256", 18));
	cr_assert(!sshrpc_namelist_has(l, strlen(l), "ecdh", 4));
}
