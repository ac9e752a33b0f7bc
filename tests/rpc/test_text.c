/* Erlang term text: round trips over every vector (text -> term -> text and
 * text -> ETF -> text), the syntax the parser accepts beyond what ~p
 * prints, call syntax, and what it refuses. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* text -> term -> text; returns the printed text (malloc'd) or NULL. */
static char *reprint(sshrpc_heap *h, const char *text, sshrpc_err *err)
{
	sshrpc_term t;
	if (sshrpc_term_parse(h, text, strlen(text), &t, err) != SSHRPC_OK)
		return NULL;
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	char *s = NULL;
	if (sshrpc_term_print(&b, &t, err) == SSHRPC_OK) {
		s = malloc(sshrpc_buf_len(&b) + 1);
		memcpy(s, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b));
		s[sshrpc_buf_len(&b)] = '\0';
	}
	sshrpc_buf_free(&b);
	return s;
}

static void roundtrip_file(const char *name, int text_field)
{
	tsv_file f;
	tsv_load(&f, name);
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < f.nlines; i++) {
		const char *text = f.lines[i].field[text_field];
		if (text == NULL)
			continue;
		sshrpc_heap h;
		sshrpc_heap_init(&h, &ta.a, 0);
		sshrpc_err err = { 0 };
		char *back = reprint(&h, text, &err);
		cr_expect(back != NULL && strcmp(back, text) == 0, "%s:%zu: %.120s -> %.120s (%s)", name,
			f.lines[i].lineno, text, back ? back : "(null)", err.msg);
		/* with a final '.' and white space around, as a person writes it */
		size_t n = strlen(text);
		char *dotted = malloc(n + 8);
		snprintf(dotted, n + 8, "  %s .\n", text);
		char *back2 = reprint(&h, dotted, &err);
		cr_expect(back2 != NULL && strcmp(back2, text) == 0, "%s:%zu: dotted form", name, f.lines[i].lineno);
		free(back);
		free(back2);
		free(dotted);
		sshrpc_heap_free(&h);
	}
	tsv_free(&f);
	cr_expect_eq(ta.live_blocks, 0);
	cr_expect_eq(ta.live_bytes, 0);
}

Test(text, roundtrip_vectors)
{
	roundtrip_file("vectors.tsv", 0);
	roundtrip_file("minor_version_2.tsv", 0);
	roundtrip_file("minor_version_0.tsv", 0);
	roundtrip_file("compressed.tsv", 0);
	roundtrip_file("lenient.tsv", 1);
}

struct pair {
	const char *in, *out;
};

Test(text, syntax_beyond_print)
{
	static const struct pair cases[] = {
		{ "16#ff", "255" },
		{ "-16#FF", "-255" },
		{ "2#1010", "10" },
		{ "36#zz", "1295" },
		{ "16#1_0000_0000_0000_0000", "18446744073709551616" },
		{ "1_000_000", "1000000" },
		{ "$a", "97" },
		{ "$\\n", "10" },
		{ "-$a", "-97" },
		{ "[$a,$b]", "\"ab\"" },
		{ "\"ab\" \"cd\"", "\"abcd\"" },
		{ "\"\"", "[]" },
		{ "'abc'", "abc" },
		{ "'hello world'", "'hello world'" },
		{ "'\\x{2713}'", "'✓'" },
		{ "\"\\x41\\101\\s\\^A\"", "[65,65,32,1]" },
		{ "\"\\e\\d\"", "[27,127]" },
		{ "\"a\\eb\"", "\"a\\eb\"" },
		{ "[1|[2,3]]", "[1,2,3]" },
		{ "[1,2|[]]", "[1,2]" },
		{ "[a|[b|c]]", "[a,b|c]" },
		{ "{ a , b }", "{a,b}" },
		{ "#{ b => 2, a => 1 }", "#{a => 1,b => 2}" },
		{ "#{1.0 => x, 1 => y}", "#{1 => y,1.0 => x}" },
		{ "<< 1 , 2 >>", "<<1,2>>" },
		{ "<<\"abc\",1>>", "<<97,98,99,1>>" },
		{ "<<\"abc\",0>>", "<<97,98,99,0>>" },
		{ "<<\"ab\",\"c\">>", "<<\"abc\">>" },
		{ "<<$a,$b>>", "<<\"ab\">>" },
		{ "<<16#2713/utf8>>", "<<226,156,147>>" },
		{ "<<\"é\"/utf8>>", "<<\"é\"/utf8>>" },
		{ "<<\"é\">>", "<<\"é\">>" },
		{ "<<-1>>", "<<\"ÿ\">>" },
		{ "<<1:4,2:4>>", "<<18>>" },
		{ "<<1:1,0:1>>", "<<2:2>>" },
		{ "<<300:16>>", "<<1,44>>" },
		{ "<<0:0>>", "<<>>" },
		{ "1.5e3", "1.5e3" },
		{ "1500.5", "1500.5" },
		{ "1.0e3", "1.0e3" },
		{ "100.0", "100.0" },
		{ "1.0E-3", "0.001" },
		{ "0.000001", "1.0e-6" },
		{ "0.0001", "1.0e-4" },
		{ "0.0012", "0.0012" },
		{ "123.456", "123.456" },
		{ "1.0e15", "1.0e15" },
		{ "123456789012345.0", "123456789012345.0" },
		{ "1.0e16", "1.0e16" },
		{ "- 1", "-1" },
		{ "+1", "1" },
		{ "ab@c_D9", "ab@c_D9" },
		{ "'Ab'", "'Ab'" },
		{ "'end'", "'end'" },
		{ "'a\\'b'", "'a\\'b'" },
		{ "\"a\\\"b\"", "\"a\\\"b\"" },
		{ "{a, % a comment\n b}", "{a,b}" },
		{ "[-0.0, 0.0]", "[-0.0,0.0]" },
		{ "18446744073709551616", "18446744073709551616" },
		{ "-9223372036854775808", "-9223372036854775808" },
		{ "-9223372036854775809", "-9223372036854775809" },
		{ "[127]", "[127]" },
		{ "\"\\200\"", "[128]" },
		{ "'\\200'", "'\\200'" },
		{ "'\\177'", "'\\d'" },
		{ "'a\\nb'", "'a\\nb'" },
		{ "[1,2,3|4]", "[1,2,3|4]" },
		{ "{}.", "{}" },
		{ "#{}", "#{}" },
		{ "#{a => #{}}", "#{a => #{}}" },
	};
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sshrpc_heap h;
		sshrpc_heap_init(&h, &ta.a, 0);
		sshrpc_err err = { 0 };
		char *back = reprint(&h, cases[i].in, &err);
		cr_expect(back != NULL && strcmp(back, cases[i].out) == 0, "%s -> %s, want %s (%s)", cases[i].in,
			back ? back : "(null)", cases[i].out, err.msg);
		free(back);
		sshrpc_heap_free(&h);
	}
	cr_expect_eq(ta.live_blocks, 0);
}

Test(text, refused)
{
	static const char *const bad[] = {
		"",
		" ",
		".",
		"{",
		"}",
		"[1,",
		"[1|2|3]",
		"[1|2,3]",
		"{a b}",
		"#{a}",
		"#{a => }",
		"#{a => 1, a => 2}",
		"X",
		"_",
		"Foo",
		"end",
		"case",
		"1..",
		"1.e5",
		"1e5",
		"0x10",
		"37#1",
		"1#1",
		"2#2",
		"<<",
		"<<1,>>",
		"<<\"✓\">>",
		"<<1:65>>",
		"<<a>>",
		"'abc",
		"\"abc",
		"<0.1.0>",
		"#Ref<0.1.2.3>",
		"fun() -> ok end",
		"{a}.b",
		"1 2",
		"a.b",
		"'\\x{110000}'",
		"$",
		"1.0e309",
		"-",
		"--1",
		"\xff",
		"'\xc3('",
	};
	test_alloc ta;
	test_alloc_init(&ta);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sshrpc_heap h;
		sshrpc_heap_init(&h, &ta.a, 0);
		sshrpc_term t;
		sshrpc_err err = { 0 };
		int rc = sshrpc_term_parse(&h, bad[i], strlen(bad[i]), &t, &err);
		cr_expect(rc < 0, "accepted: %s", bad[i]);
		cr_expect(err.msg[0] != '\0', "no message for %s", bad[i]);
		sshrpc_heap_free(&h);
	}
	/* integer literals are capped at 10000 digits */
	char *digits = malloc(10002);
	memset(digits, '7', 10001);
	digits[10001] = '\0';
	sshrpc_heap hd;
	sshrpc_heap_init(&hd, &ta.a, 0);
	sshrpc_term td;
	cr_expect_eq(sshrpc_term_parse(&hd, digits, 10001, &td, NULL), SSHRPC_E_TOO_LARGE);
	cr_expect_eq(sshrpc_term_parse(&hd, digits, 10000, &td, NULL), SSHRPC_OK);
	sshrpc_heap_free(&hd);
	free(digits);
	/* a 256-character atom */
	char atom[300];
	memset(atom, 'a', 256);
	atom[256] = '\0';
	sshrpc_heap h;
	sshrpc_heap_init(&h, &ta.a, 0);
	sshrpc_term t;
	cr_expect_lt(sshrpc_term_parse(&h, atom, 256, &t, NULL), 0);
	cr_expect_eq(sshrpc_term_parse(&h, atom, 255, &t, NULL), SSHRPC_OK);
	sshrpc_heap_free(&h);
	cr_expect_eq(ta.live_blocks, 0);
}

Test(text, call_syntax)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_term m, f, a;
	sshrpc_err err = { 0 };
	cr_assert_eq(
		sshrpc_term_parse_call(&h, "sys:echo(<<\"abc\">>)", 19, &m, &f, &a, &err), SSHRPC_OK, "%s", err.msg);
	cr_expect(sshrpc_term_is_atom(&m, "sys") && sshrpc_term_is_atom(&f, "echo"));
	size_t n;
	cr_assert_eq(sshrpc_term_list_length(&a, &n), SSHRPC_OK);
	cr_expect_eq(n, 1);
	const char *txt = " lists : reverse ( [1,2,3] ) . ";
	cr_assert_eq(sshrpc_term_parse_call(&h, txt, strlen(txt), &m, &f, &a, &err), SSHRPC_OK, "%s", err.msg);
	cr_expect(sshrpc_term_is_atom(&f, "reverse"));
	txt = "sys:ping()";
	cr_assert_eq(sshrpc_term_parse_call(&h, txt, strlen(txt), &m, &f, &a, &err), SSHRPC_OK);
	cr_expect_eq(a.type, SSHRPC_TERM_NIL);
	txt = "'Elixir.Foo':'bar baz'(1, {2}, [3], #{4 => 5}).";
	cr_assert_eq(sshrpc_term_parse_call(&h, txt, strlen(txt), &m, &f, &a, &err), SSHRPC_OK, "%s", err.msg);
	cr_expect(sshrpc_term_is_atom(&m, "Elixir.Foo") && sshrpc_term_is_atom(&f, "bar baz"));
	cr_expect_eq(sshrpc_term_list_length(&a, &n), SSHRPC_OK);
	cr_expect_eq(n, 4);
	static const char *const bad[] = { "sys:ping", "sys:ping(", "sys:ping(1,)", "1:ping()", "sys:2()", "sys ping()",
		"sys:ping() x", "{mfa,{sys,ping,[]}}", "sys:ping().." };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		sshrpc_err_clear(&err);
		cr_expect_lt(
			sshrpc_term_parse_call(&h, bad[i], strlen(bad[i]), &m, &f, &a, &err), 0, "accepted %s", bad[i]);
	}
	sshrpc_heap_free(&h);
}

/* Deep terms print and parse without recursion. */
Test(text, deep_nesting)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_term t = sshrpc_term_nil();
	for (int i = 0; i < 100000; i++)
		t = sshrpc_term_list(&h, 1, &t);
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_term_print(&b, &t, NULL), SSHRPC_OK);
	cr_expect_eq(sshrpc_buf_len(&b), 200002);
	sshrpc_term back;
	sshrpc_err err = { 0 };
	cr_assert_eq(sshrpc_term_parse(&h, (const char *)sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), &back, &err),
		SSHRPC_OK, "%s", err.msg);
	cr_expect(sshrpc_term_equal(&t, &back));
	sshrpc_buf_free(&b);
	sshrpc_heap_free(&h);
}

/* Floats print in the shortest form that reads back, for many doubles. */
Test(text, float_shortest)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		double d;
		memcpy(&d, &x, sizeof d);
		if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308)
			continue;
		sshrpc_term t = sshrpc_term_float(d);
		sshrpc_buf b;
		sshrpc_buf_init(&b, NULL, 0);
		cr_assert_eq(sshrpc_term_print(&b, &t, NULL), SSHRPC_OK);
		sshrpc_term back;
		cr_assert_eq(sshrpc_term_parse(&h, (const char *)sshrpc_buf_ptr(&b), sshrpc_buf_len(&b), &back, NULL),
			SSHRPC_OK, "%.*s", (int)sshrpc_buf_len(&b), sshrpc_buf_ptr(&b));
		cr_expect(back.type == SSHRPC_TERM_FLOAT && memcmp(&back.v.f, &d, sizeof d) == 0,
			"%.*s does not read back", (int)sshrpc_buf_len(&b), sshrpc_buf_ptr(&b));
		sshrpc_buf_free(&b);
	}
	sshrpc_heap_free(&h);
}
