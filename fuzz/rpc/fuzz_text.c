/* The term text parser fed arbitrary text (and the call syntax). What
 * parses must print as text that parses to an equal term and prints the
 * same again, and must survive an ETF round trip. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/rpc_term.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static void roundtrip(sshrpc_heap *h, const sshrpc_term *t)
{
	sshrpc_buf p1, p2, e;
	sshrpc_buf_init(&p1, NULL, 0);
	sshrpc_buf_init(&p2, NULL, 0);
	sshrpc_buf_init(&e, NULL, 0);
	check(sshrpc_term_print(&p1, t, NULL) == SSHRPC_OK);
	sshrpc_term back;
	check(sshrpc_term_parse(h, (const char *)sshrpc_buf_ptr(&p1), sshrpc_buf_len(&p1), &back, NULL) == SSHRPC_OK);
	check(sshrpc_term_equal(t, &back));
	check(sshrpc_term_print(&p2, &back, NULL) == SSHRPC_OK);
	check(sshrpc_buf_len(&p1) == sshrpc_buf_len(&p2));
	check(memcmp(sshrpc_buf_ptr(&p1), sshrpc_buf_ptr(&p2), sshrpc_buf_len(&p1)) == 0);
	check(sshrpc_etf_encode(&e, t, NULL, NULL) == SSHRPC_OK);
	sshrpc_term d;
	check(sshrpc_etf_decode(h, sshrpc_buf_ptr(&e), sshrpc_buf_len(&e), 0, NULL, &d, NULL, NULL) == SSHRPC_OK);
	check(sshrpc_term_equal(t, &d));
	sshrpc_buf_free(&p1);
	sshrpc_buf_free(&p2);
	sshrpc_buf_free(&e);
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	/* keep bignum arithmetic (quadratic) cheap */
	if (len > 4096)
		return 0;
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 64u << 20);
	sshrpc_term t, m, f, a;
	if (sshrpc_term_parse(&h, (const char *)data, len, &t, NULL) == SSHRPC_OK)
		roundtrip(&h, &t);
	if (sshrpc_term_parse_call(&h, (const char *)data, len, &m, &f, &a, NULL) == SSHRPC_OK) {
		check(m.type == SSHRPC_TERM_ATOM && f.type == SSHRPC_TERM_ATOM);
		size_t n;
		check(sshrpc_term_list_length(&a, &n) == SSHRPC_OK);
		roundtrip(&h, &a);
	}
	sshrpc_heap_free(&h);
	return 0;
}
