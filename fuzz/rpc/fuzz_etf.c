/* The ETF decoder fed arbitrary bytes. Whatever decodes must re-encode to
 * bytes that decode to an equal term and encode to the same bytes again,
 * and its printed text must parse back to an equal term with the same
 * encoding: decode, encode, print and parse checked against each other. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/rpc_term.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

static const sshrpc_etf_limits limits = {
	.max_depth = 2000,
	.max_terms = 1 << 20,
	.max_bignum_bytes = 2048, /* printing a bignum is quadratic */
	.max_inflated = 1 << 20,
};

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 64u << 20);
	sshrpc_term t;
	unsigned flags = len > 0 && (data[len - 1] & 1) ? SSHRPC_ETF_BORROW : 0;
	size_t used = 0;
	if (sshrpc_etf_decode(&h, data, len, flags | SSHRPC_ETF_TRAILING, &limits, &t, &used, NULL) != SSHRPC_OK) {
		sshrpc_heap_free(&h);
		return 0;
	}
	check(used >= 2 && used <= len);
	/* strict decoding agrees on the same prefix */
	sshrpc_term t2;
	check(sshrpc_etf_decode(&h, data, used, flags, &limits, &t2, NULL, NULL) == SSHRPC_OK);
	check(sshrpc_term_equal(&t, &t2));

	sshrpc_buf e1, e2, txt;
	sshrpc_buf_init(&e1, NULL, 0);
	sshrpc_buf_init(&e2, NULL, 0);
	sshrpc_buf_init(&txt, NULL, 0);
	check(sshrpc_etf_encode(&e1, &t, NULL, NULL) == SSHRPC_OK);
	sshrpc_term back;
	check(sshrpc_etf_decode(&h, sshrpc_buf_ptr(&e1), sshrpc_buf_len(&e1), 0, &limits, &back, NULL, NULL) ==
		SSHRPC_OK);
	check(sshrpc_term_equal(&t, &back));
	check(sshrpc_etf_encode(&e2, &back, NULL, NULL) == SSHRPC_OK);
	check(sshrpc_buf_len(&e1) == sshrpc_buf_len(&e2));
	check(memcmp(sshrpc_buf_ptr(&e1), sshrpc_buf_ptr(&e2), sshrpc_buf_len(&e1)) == 0);

	/* text round trip */
	check(sshrpc_term_print(&txt, &t, NULL) == SSHRPC_OK);
	sshrpc_term parsed;
	check(sshrpc_term_parse(&h, (const char *)sshrpc_buf_ptr(&txt), sshrpc_buf_len(&txt), &parsed, NULL) ==
		SSHRPC_OK);
	check(sshrpc_term_equal(&t, &parsed));
	sshrpc_buf_reset(&e2);
	check(sshrpc_etf_encode(&e2, &parsed, NULL, NULL) == SSHRPC_OK);
	check(sshrpc_buf_len(&e1) == sshrpc_buf_len(&e2));
	check(memcmp(sshrpc_buf_ptr(&e1), sshrpc_buf_ptr(&e2), sshrpc_buf_len(&e1)) == 0);

	/* the other encodings decode back to the same term */
	static const sshrpc_etf_enc_opts variants[] = {
		{ .flags = SSHRPC_ETF_MINOR_0 },
		{ .flags = SSHRPC_ETF_MINOR_2 | SSHRPC_ETF_DETERMINISTIC },
		{ .compress = 1 },
	};
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		sshrpc_buf_reset(&e2);
		check(sshrpc_etf_encode(&e2, &t, &variants[i], NULL) == SSHRPC_OK);
		sshrpc_term v;
		check(sshrpc_etf_decode(&h, sshrpc_buf_ptr(&e2), sshrpc_buf_len(&e2), 0, &limits, &v, NULL, NULL) ==
			SSHRPC_OK);
		check(sshrpc_term_equal(&t, &v));
	}
	sshrpc_buf_free(&e1);
	sshrpc_buf_free(&e2);
	sshrpc_buf_free(&txt);
	sshrpc_heap_free(&h);
	return 0;
}
