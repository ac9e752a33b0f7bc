/* The ETF codec and the term printer against the vectors OTP 25 made
 * (../shared/testdata/etf, README.md there): every line decodes to its
 * term, prints as TERM_TEXT, and TERM_TEXT parses and encodes back to the
 * same bytes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Decodes hex and returns the printed text (malloc'd) or NULL. */
static char *decode_print(test_alloc *ta, const char *hex, unsigned flags, int *rc_out)
{
	uint8_t *bin;
	size_t n = hex_decode(hex, &bin);
	sshrpc_heap h;
	sshrpc_heap_init(&h, &ta->a, 0);
	sshrpc_term t;
	sshrpc_err err = { 0 };
	int rc = sshrpc_etf_decode(&h, bin, n, flags, NULL, &t, NULL, &err);
	*rc_out = rc;
	char *txt = NULL;
	if (rc == SSHRPC_OK) {
		sshrpc_buf out;
		sshrpc_buf_init(&out, &ta->a, 0);
		if (sshrpc_term_print(&out, &t, &err) == SSHRPC_OK) {
			txt = malloc(sshrpc_buf_len(&out) + 1);
			memcpy(txt, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out));
			txt[sshrpc_buf_len(&out)] = '\0';
		}
		sshrpc_buf_free(&out);
	}
	sshrpc_heap_free(&h);
	free(bin);
	return txt;
}

/* Parses text and returns the hex of its encoding (malloc'd) or NULL. */
static char *parse_encode(test_alloc *ta, const char *text, const sshrpc_etf_enc_opts *opts, sshrpc_err *err)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, &ta->a, 0);
	sshrpc_term t;
	char *hex = NULL;
	if (sshrpc_term_parse(&h, text, strlen(text), &t, err) == SSHRPC_OK) {
		sshrpc_buf out;
		sshrpc_buf_init(&out, &ta->a, 0);
		if (sshrpc_etf_encode(&out, &t, opts, err) == SSHRPC_OK)
			hex = hex_encode(sshrpc_buf_ptr(&out), sshrpc_buf_len(&out));
		sshrpc_buf_free(&out);
	}
	sshrpc_heap_free(&h);
	return hex;
}

/* Decodes hex, re-encodes with opts: the hex of the result. */
static char *decode_encode(test_alloc *ta, const char *hex, const sshrpc_etf_enc_opts *opts)
{
	uint8_t *bin;
	size_t n = hex_decode(hex, &bin);
	sshrpc_heap h;
	sshrpc_heap_init(&h, &ta->a, 0);
	sshrpc_term t;
	char *res = NULL;
	if (sshrpc_etf_decode(&h, bin, n, 0, NULL, &t, NULL, NULL) == SSHRPC_OK) {
		sshrpc_buf out;
		sshrpc_buf_init(&out, &ta->a, 0);
		if (sshrpc_etf_encode(&out, &t, opts, NULL) == SSHRPC_OK)
			res = hex_encode(sshrpc_buf_ptr(&out), sshrpc_buf_len(&out));
		sshrpc_buf_free(&out);
	}
	sshrpc_heap_free(&h);
	free(bin);
	return res;
}

static void check_literal_file(const char *name, const sshrpc_etf_enc_opts *opts, size_t expect_lines)
{
	tsv_file f;
	tsv_load(&f, name);
	cr_expect_eq(f.nlines, expect_lines, "%s: %zu lines, README says %zu", name, f.nlines, expect_lines);
	test_alloc ta;
	test_alloc_init(&ta);
	size_t bad = 0;
	for (size_t i = 0; i < f.nlines; i++) {
		tsv_line *l = &f.lines[i];
		const char *text = l->field[0], *hex = l->field[1];
		int rc;
		char *printed = decode_print(&ta, hex, 0, &rc);
		if (printed == NULL || strcmp(printed, text) != 0) {
			cr_log_error("%s:%zu: decode+print gave %s (rc %d), want %.200s", name, l->lineno,
				printed ? printed : "(null)", rc, text);
			bad++;
		}
		free(printed);
		sshrpc_err err = { 0 };
		char *enc = parse_encode(&ta, text, opts, &err);
		if (enc == NULL || strcmp(enc, hex) != 0) {
			cr_log_error("%s:%zu: parse+encode of %.200s gave %.200s (%s), want %.200s", name, l->lineno,
				text, enc ? enc : "(null)", err.msg, hex);
			bad++;
		}
		free(enc);
		char *re = decode_encode(&ta, hex, opts);
		if (re == NULL || strcmp(re, hex) != 0) {
			cr_log_error("%s:%zu: decode+encode gave %.200s", name, l->lineno, re ? re : "(null)");
			bad++;
		}
		free(re);
	}
	cr_expect_eq(bad, 0, "%s: %zu mismatches", name, bad);
	cr_expect_eq(ta.live_blocks, 0, "%s: %zu blocks leaked", name, ta.live_blocks);
	cr_expect_eq(ta.live_bytes, 0, "%s: %zu bytes leaked", name, ta.live_bytes);
	tsv_free(&f);
}

Test(etf, vectors)
{
	check_literal_file("vectors.tsv", NULL, 240);
}

Test(etf, minor_version_2)
{
	sshrpc_etf_enc_opts o = { .flags = SSHRPC_ETF_MINOR_2 };
	check_literal_file("minor_version_2.tsv", &o, 73);
}

Test(etf, minor_version_0)
{
	sshrpc_etf_enc_opts o = { .flags = SSHRPC_ETF_MINOR_0 };
	check_literal_file("minor_version_0.tsv", &o, 31);
}

Test(etf, deterministic)
{
	sshrpc_etf_enc_opts o = { .flags = SSHRPC_ETF_DETERMINISTIC };
	tsv_file f;
	tsv_load(&f, "deterministic.tsv");
	cr_expect_eq(f.nlines, 1);
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < f.nlines; i++) {
		/* The text is in OTP's hash order; the sorted encoding must follow
		 * from the term whatever order it was read in. */
		sshrpc_err err = { 0 };
		char *enc = parse_encode(&ta, f.lines[i].field[0], &o, &err);
		cr_expect(enc != NULL && strcmp(enc, f.lines[i].field[1]) == 0, "deterministic line %zu: %s",
			f.lines[i].lineno, enc ? enc : err.msg);
		free(enc);
	}
	/* and a map read from vectors.tsv's 33-key line encodes sorted too */
	tsv_file v;
	tsv_load(&v, "vectors.tsv");
	for (size_t i = 0; i < v.nlines; i++) {
		if (strcmp(v.lines[i].field[0], f.lines[0].field[0]) == 0) {
			char *re = decode_encode(&ta, v.lines[i].field[1], &o);
			cr_expect(re != NULL && strcmp(re, f.lines[0].field[1]) == 0);
			free(re);
		}
	}
	tsv_free(&v);
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
}

Test(etf, compressed)
{
	tsv_file f;
	tsv_load(&f, "compressed.tsv");
	cr_expect_eq(f.nlines, 16);
	test_alloc ta;
	test_alloc_init(&ta);
	sshrpc_etf_enc_opts o = { .compress = -1 };
	for (size_t i = 0; i < f.nlines; i++) {
		tsv_line *l = &f.lines[i];
		int rc;
		char *printed = decode_print(&ta, l->field[1], 0, &rc);
		cr_expect(printed != NULL && strcmp(printed, l->field[0]) == 0, "compressed:%zu decodes to %.100s",
			l->lineno, printed ? printed : "(null)");
		free(printed);
		/* Our zlib is the same 1.2.13 as the OTP build's, at the same
		 * level: the bytes match. A different zlib would only need the
		 * decode check below. */
		sshrpc_err err = { 0 };
		char *enc = parse_encode(&ta, l->field[0], &o, &err);
		cr_expect(enc != NULL, "compressed:%zu: %s", l->lineno, err.msg);
		if (enc != NULL) {
			char *back = decode_print(&ta, enc, 0, &rc);
			cr_expect(
				back != NULL && strcmp(back, l->field[0]) == 0, "compressed:%zu round trip", l->lineno);
			free(back);
			cr_expect_str_eq(enc, l->field[1], "compressed:%zu bytes differ from OTP's", l->lineno);
		}
		free(enc);
	}
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
	cr_expect_eq(ta.live_bytes, 0);
}

Test(etf, invalid)
{
	tsv_file f;
	tsv_load(&f, "invalid.tsv");
	cr_expect_eq(f.nlines, 57);
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < f.nlines; i++) {
		tsv_line *l = &f.lines[i];
		const char *hex = l->nfields == 2 ? l->field[0] : "";
		const char *note = l->nfields == 2 ? l->field[1] : l->field[0];
		for (unsigned flags = 0; flags < 4; flags++) {
			uint8_t *bin;
			size_t n = hex_decode(hex, &bin);
			sshrpc_heap h;
			sshrpc_heap_init(&h, &ta.a, 0);
			sshrpc_term t;
			sshrpc_err err = { 0 };
			int rc = sshrpc_etf_decode(&h, bin, n, flags, NULL, &t, NULL, &err);
			cr_expect(rc < 0, "invalid:%zu (%s) accepted with flags %u", l->lineno, note, flags);
			cr_expect(err.code == rc && err.msg[0] != '\0', "invalid:%zu: no error message", l->lineno);
			if (flags == 0)
				cr_log_info("invalid:%zu %s -> %s", l->lineno, note, err.msg);
			sshrpc_heap_free(&h);
			free(bin);
		}
	}
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
	cr_expect_eq(ta.live_bytes, 0);
}

Test(etf, lenient)
{
	tsv_file f;
	tsv_load(&f, "lenient.tsv");
	cr_expect_eq(f.nlines, 24);
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < f.nlines; i++) {
		tsv_line *l = &f.lines[i];
		int rc;
		/* accepted as binary_to_term/1 does: trailing bytes ignored */
		char *printed = decode_print(&ta, l->field[0], SSHRPC_ETF_TRAILING, &rc);
		cr_expect(printed != NULL && strcmp(printed, l->field[1]) == 0, "lenient:%zu (%s) gave %s rc %d",
			l->lineno, l->field[2], printed ? printed : "(null)", rc);
		free(printed);
		/* one term per message: trailing bytes are refused, the rest is
		 * accepted the same */
		bool trailing =
			strstr(l->field[2], "trailing") != NULL || strstr(l->field[2], "after the first") != NULL;
		printed = decode_print(&ta, l->field[0], 0, &rc);
		if (trailing) {
			cr_expect(printed == NULL && rc == SSHRPC_E_INVALID,
				"lenient:%zu strict decode accepted trailing bytes", l->lineno);
		} else {
			cr_expect(printed != NULL && strcmp(printed, l->field[1]) == 0, "lenient:%zu strict: %s",
				l->lineno, printed ? printed : "(null)");
		}
		free(printed);
	}
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
}

/* ---- large.tsv: terms too big to write out, checked by size and SHA-256 ---- */

static sshrpc_term build_large(sshrpc_heap *h, const char *name)
{
	if (strcmp(name, "binary_70000_zeros") == 0)
		return sshrpc_term_binary_new(h, 70000, NULL);
	if (strcmp(name, "binary_1MiB_pattern") == 0) {
		uint8_t *d;
		sshrpc_term t = sshrpc_term_binary_new(h, 1048576, &d);
		for (size_t i = 0; i < 1048576; i++)
			d[i] = (uint8_t) "0123456789abcdef"[i % 16];
		return t;
	}
	if (strncmp(name, "string_", 7) == 0) {
		size_t n = strtoul(name + 7, NULL, 10);
		sshrpc_term *e = sshrpc_heap_alloc(h, n * sizeof *e);
		for (size_t i = 0; i < n; i++)
			e[i] = sshrpc_term_int('a');
		return sshrpc_term_list(h, n, e);
	}
	if (strcmp(name, "list_100000_atoms") == 0) {
		sshrpc_term *e = sshrpc_heap_alloc(h, 100000 * sizeof *e);
		for (size_t i = 0; i < 100000; i++)
			e[i] = sshrpc_term_atom("ok");
		return sshrpc_term_list(h, 100000, e);
	}
	if (strcmp(name, "tuple_70000") == 0) {
		sshrpc_term *e = sshrpc_heap_alloc(h, 70000 * sizeof *e);
		for (size_t i = 0; i < 70000; i++)
			e[i] = sshrpc_term_int(0);
		return sshrpc_term_tuple(h, 70000, e);
	}
	if (strcmp(name, "bignum_70000_bytes") == 0) {
		/* 1 bsl 559999: 559999 = 8 * 69999 + 7 */
		uint8_t *mag = calloc(70000, 1);
		mag[69999] = 0x80;
		sshrpc_term t = sshrpc_term_bigint(h, false, mag, 70000);
		free(mag);
		return t;
	}
	if (strcmp(name, "nested_lists_10000") == 0) {
		sshrpc_term t = sshrpc_term_nil();
		for (int i = 0; i < 10000; i++)
			t = sshrpc_term_list(h, 1, &t);
		return t;
	}
	if (strcmp(name, "nested_tuples_10000") == 0) {
		sshrpc_term t = sshrpc_term_tuple(h, 0, NULL);
		for (int i = 0; i < 10000; i++)
			t = sshrpc_term_tuple(h, 1, &t);
		return t;
	}
	if (strcmp(name, "map_1000_keys") == 0) {
		sshrpc_term *kv = sshrpc_heap_alloc(h, 2000 * sizeof *kv);
		for (int i = 0; i < 1000; i++)
			kv[2 * i] = kv[2 * i + 1] = sshrpc_term_int(i + 1);
		return sshrpc_term_map(h, 1000, kv);
	}
	cr_assert_fail("large.tsv: unknown vector %s", name);
	return sshrpc_term_nil();
}

static void expect_sha(const char *what, const uint8_t *p, size_t n, const char *size_txt, const char *sha_hex)
{
	uint8_t d[32];
	sha256(p, n, d);
	char *hex = hex_encode(d, 32);
	cr_expect_eq(n, strtoul(size_txt, NULL, 10), "%s: %zu bytes, want %s", what, n, size_txt);
	cr_expect_str_eq(hex, sha_hex, "%s: SHA-256 differs", what);
	free(hex);
}

Test(etf, large, .timeout = 120)
{
	tsv_file f;
	tsv_load(&f, "large.tsv");
	cr_expect_eq(f.nlines, 10);
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < f.nlines; i++) {
		tsv_line *l = &f.lines[i];
		const char *name = l->field[0];
		sshrpc_heap h;
		sshrpc_heap_init(&h, &ta.a, 0);
		sshrpc_term built = build_large(&h, name);
		cr_assert_neq(built.type, SSHRPC_TERM_INVALID, "%s: not built", name);
		sshrpc_buf out;
		sshrpc_buf_init(&out, &ta.a, 0);
		/* encoding the term built here: only a map of more than 32 keys
		 * can differ, as its order is OTP's hash order */
		cr_assert_eq(sshrpc_etf_encode(&out, &built, NULL, NULL), SSHRPC_OK, "%s: encode", name);
		if (strcmp(name, "map_1000_keys") != 0)
			expect_sha(name, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out), l->field[2], l->field[3]);
		/* OTP's compressed encoding decodes to the same term */
		uint8_t *z;
		size_t zn = hex_decode(l->field[4], &z);
		sshrpc_term dec;
		sshrpc_err err = { 0 };
		cr_assert_eq(
			sshrpc_etf_decode(&h, z, zn, 0, NULL, &dec, NULL, &err), SSHRPC_OK, "%s: %s", name, err.msg);
		cr_expect(sshrpc_term_equal(&dec, &built), "%s: decoded term differs", name);
		/* and re-encodes to OTP's plain bytes exactly, maps included */
		sshrpc_buf_reset(&out);
		cr_assert_eq(sshrpc_etf_encode(&out, &dec, NULL, NULL), SSHRPC_OK);
		expect_sha(name, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out), l->field[2], l->field[3]);
		/* our own compressed form decodes back */
		sshrpc_buf_reset(&out);
		sshrpc_etf_enc_opts zo = { .compress = -1 };
		cr_assert_eq(sshrpc_etf_encode(&out, &built, &zo, NULL), SSHRPC_OK);
		sshrpc_term back;
		cr_assert_eq(
			sshrpc_etf_decode(&h, sshrpc_buf_ptr(&out), sshrpc_buf_len(&out), 0, NULL, &back, NULL, &err),
			SSHRPC_OK, "%s: %s", name, err.msg);
		cr_expect(sshrpc_term_equal(&back, &built), "%s: compressed round trip", name);
		sshrpc_buf_free(&out);
		free(z);
		sshrpc_heap_free(&h);
	}
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
	cr_expect_eq(ta.live_bytes, 0);
}

/* A 1 MiB binary decoded with SSHRPC_ETF_BORROW points into the message:
 * no copy at all. */
Test(etf, binary_zero_copy)
{
	size_t n = 1 << 20;
	uint8_t *msg = malloc(n + 6);
	msg[0] = 131;
	msg[1] = 109;
	sshrpc_store_be32(msg + 2, (uint32_t)n);
	memset(msg + 6, 0x5a, n);
	test_alloc ta;
	test_alloc_init(&ta);
	sshrpc_heap h;
	sshrpc_heap_init(&h, &ta.a, 0);
	sshrpc_term t;
	cr_assert_eq(sshrpc_etf_decode(&h, msg, n + 6, SSHRPC_ETF_BORROW, NULL, &t, NULL, NULL), SSHRPC_OK);
	cr_expect_eq(t.v.bytes, msg + 6);
	cr_expect(ta.live_bytes < 4096, "decode took %zu bytes", ta.live_bytes);
	/* without BORROW: one copy */
	sshrpc_term c;
	cr_assert_eq(sshrpc_etf_decode(&h, msg, n + 6, 0, NULL, &c, NULL, NULL), SSHRPC_OK);
	cr_expect_neq(c.v.bytes, msg + 6);
	cr_expect(memcmp(c.v.bytes, msg + 6, n) == 0);
	sshrpc_heap_free(&h);
	free(msg);
	cr_expect_eq(ta.live_blocks, 0);
}

/* Limits are checked before anything is allocated for a count. */
Test(etf, limits)
{
	test_alloc ta;
	test_alloc_init(&ta);
	sshrpc_heap h;
	sshrpc_heap_init(&h, &ta.a, 4096);
	sshrpc_term t;
	sshrpc_err err = { 0 };
	/* a list of 1000 small integers needs 16 KiB of terms: over the heap */
	uint8_t big[6 + 1000 * 2 + 1];
	big[0] = 131;
	big[1] = 108;
	sshrpc_store_be32(big + 2, 1000);
	for (int i = 0; i < 1000; i++) {
		big[6 + 2 * i] = 97;
		big[7 + 2 * i] = 1;
	}
	big[sizeof big - 1] = 106;
	cr_expect_eq(sshrpc_etf_decode(&h, big, sizeof big, 0, NULL, &t, NULL, &err), SSHRPC_E_TOO_LARGE);
	cr_expect(h.used == 0, "allocated %zu bytes before refusing", h.used);
	/* depth */
	sshrpc_etf_limits lim = { .max_depth = 10 };
	uint8_t deep[2 + 20 * 2 + 1];
	deep[0] = 131;
	for (int i = 0; i < 20; i++) {
		deep[1 + 2 * i] = 104;
		deep[2 + 2 * i] = 1;
	}
	deep[41] = 106;
	sshrpc_err_clear(&err);
	cr_expect_eq(sshrpc_etf_decode(&h, deep, 42, 0, &lim, &t, NULL, &err), SSHRPC_E_TOO_LARGE);
	cr_expect(strstr(err.msg, "nesting") != NULL, "%s", err.msg);
	lim.max_depth = 21;
	cr_expect_eq(sshrpc_etf_decode(&h, deep, 42, 0, &lim, &t, NULL, NULL), SSHRPC_OK);
	/* bignum size */
	lim.max_bignum_bytes = 8;
	uint8_t bn[] = { 131, 110, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	cr_expect_eq(sshrpc_etf_decode(&h, bn, sizeof bn, 0, &lim, &t, NULL, NULL), SSHRPC_E_TOO_LARGE);
	/* a compressed term claiming more than deflate can produce */
	uint8_t zc[] = { 131, 80, 0x01, 0, 0, 0, 0x78, 0x9c, 0x03, 0x00 };
	cr_expect_eq(sshrpc_etf_decode(&h, zc, sizeof zc, 0, NULL, &t, NULL, NULL), SSHRPC_E_INVALID);
	/* pids are refused as such */
	uint8_t pid[] = { 131, 88, 100, 0, 1, 'a', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	sshrpc_err_clear(&err);
	cr_expect_eq(sshrpc_etf_decode(&h, pid, sizeof pid, 0, NULL, &t, NULL, &err), SSHRPC_E_UNSUPPORTED);
	cr_expect(strstr(err.msg, "badarg") != NULL && strstr(err.msg, "pid") != NULL, "%s", err.msg);
	sshrpc_heap_free(&h);
	cr_expect_eq(ta.live_blocks, 0);
}

/* Every allocation failing in turn: an error, never a crash or a leak. */
Test(etf, allocation_failures)
{
	const char *text =
		"{ok,[1,2,{a,#{k => [<<\"v\">>],1 => 2.5}}],\"str\",'\\x{2713}',123456789012345678901234567890}";
	for (size_t budget = 0; budget < 64; budget++) {
		test_alloc ta;
		test_alloc_init(&ta);
		ta.fail_after = budget;
		sshrpc_heap h;
		sshrpc_heap_init(&h, &ta.a, 0);
		sshrpc_term t;
		if (sshrpc_term_parse(&h, text, strlen(text), &t, NULL) == SSHRPC_OK) {
			sshrpc_buf b;
			sshrpc_buf_init(&b, &ta.a, 0);
			sshrpc_etf_enc_opts o = { .compress = -1 };
			if (sshrpc_etf_encode(&b, &t, &o, NULL) == SSHRPC_OK) {
				sshrpc_term d;
				int drc = sshrpc_etf_decode(
					&h, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), 0, NULL, &d, NULL, NULL);
				cr_expect(drc == SSHRPC_OK || drc == SSHRPC_E_NOMEM, "budget %zu: decode %d", budget,
					drc);
			}
			sshrpc_buf_reset(&b);
			int prc = sshrpc_term_print(&b, &t, NULL);
			cr_expect(prc == SSHRPC_OK || prc == SSHRPC_E_NOMEM, "budget %zu: print %d", budget, prc);
			sshrpc_buf_free(&b);
		}
		sshrpc_heap_free(&h);
		cr_expect_eq(ta.live_blocks, 0, "budget %zu: %zu blocks leaked", budget, ta.live_blocks);
		cr_expect_eq(ta.live_bytes, 0, "budget %zu: %zu bytes leaked", budget, ta.live_bytes);
	}
}
