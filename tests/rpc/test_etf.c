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
			cr_expect(back != NULL && strcmp(back, l->field[0]) == 0, "compressed:%zu round trip",
				l->lineno);
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
		bool trailing = strstr(l->field[2], "trailing") != NULL || strstr(l->field[2], "after the first") != NULL;
		printed = decode_print(&ta, l->field[0], 0, &rc);
		if (trailing) {
			cr_expect(printed == NULL && rc == SSHRPC_E_INVALID, "lenient:%zu strict decode accepted trailing bytes",
				l->lineno);
		} else {
			cr_expect(printed != NULL && strcmp(printed, l->field[1]) == 0, "lenient:%zu strict: %s",
				l->lineno, printed ? printed : "(null)");
		}
		free(printed);
	}
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
}
