/* Integers of any size. ETF carries bignums as a sign and a little-endian
 * magnitude (SMALL_BIG_EXT, LARGE_BIG_EXT), so that is the representation;
 * every value that fits int64_t is kept as an INT, so that two equal
 * integers always have the same form. The schoolbook conversions here are
 * quadratic in the number of digits; the decoder's max_bignum_bytes keeps
 * that bounded. */
#include <string.h>

#include "rpc/rpc_internal.h"

size_t rpc_int_mag(int64_t v, uint8_t out[8], bool *negative)
{
	uint64_t m = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	*negative = v < 0;
	size_t n = 0;
	while (m != 0) {
		out[n++] = (uint8_t)m;
		m >>= 8;
	}
	return n;
}

const uint8_t *rpc_integer_mag(const sshrpc_term *t, uint8_t tmp[8], size_t *len, bool *negative)
{
	if (t->type == SSHRPC_TERM_BIGINT) {
		*len = t->len;
		*negative = t->aux != 0;
		return t->v.bytes;
	}
	*len = rpc_int_mag(t->v.i, tmp, negative);
	return tmp;
}

int rpc_integer_make(sshrpc_heap *h, bool negative, const uint8_t *mag, size_t len, bool copy, sshrpc_term *out)
{
	while (len > 0 && mag[len - 1] == 0)
		len--;
	if (len <= 8) {
		uint64_t m = 0;
		for (size_t i = len; i-- > 0;)
			m = (m << 8) | mag[i];
		if (!negative && m <= (uint64_t)INT64_MAX) {
			*out = sshrpc_term_int((int64_t)m);
			return SSHRPC_OK;
		}
		if (negative && m <= (uint64_t)INT64_MAX + 1) {
			/* -m computed without overflowing: INT64_MIN is -(2^63). */
			*out = sshrpc_term_int(m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m);
			return SSHRPC_OK;
		}
	}
	if (len > UINT32_MAX)
		return SSHRPC_E_TOO_LARGE;
	const uint8_t *p = mag;
	if (copy) {
		uint8_t *q = sshrpc_heap_alloc(h, len);
		if (q == NULL)
			return h->failed;
		memcpy(q, mag, len);
		p = q;
	}
	memset(out, 0, sizeof *out);
	out->type = SSHRPC_TERM_BIGINT;
	out->aux = negative ? 1 : 0;
	out->len = (uint32_t)len;
	out->v.bytes = p;
	return SSHRPC_OK;
}

static int mag_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	while (an > 0 && a[an - 1] == 0)
		an--;
	while (bn > 0 && b[bn - 1] == 0)
		bn--;
	if (an != bn)
		return an < bn ? -1 : 1;
	for (size_t i = an; i-- > 0;) {
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return 0;
}

int rpc_integer_cmp(const sshrpc_term *a, const sshrpc_term *b)
{
	if (a->type == SSHRPC_TERM_INT && b->type == SSHRPC_TERM_INT)
		return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
	uint8_t ta[8], tb[8];
	size_t an, bn;
	bool aneg, bneg;
	const uint8_t *am = rpc_integer_mag(a, ta, &an, &aneg);
	const uint8_t *bm = rpc_integer_mag(b, tb, &bn, &bneg);
	if (aneg != bneg)
		return aneg ? -1 : 1;
	int c = mag_cmp(am, an, bm, bn);
	return aneg ? -c : c;
}

int rpc_integer_add(sshrpc_heap *h, const sshrpc_term *a, const sshrpc_term *b, sshrpc_term *out)
{
	if (a->type == SSHRPC_TERM_INT && b->type == SSHRPC_TERM_INT) {
		int64_t x = a->v.i, y = b->v.i;
		if (!((y > 0 && x > INT64_MAX - y) || (y < 0 && x < INT64_MIN - y))) {
			*out = sshrpc_term_int(x + y);
			return SSHRPC_OK;
		}
	}
	uint8_t ta[8], tb[8];
	size_t an, bn;
	bool aneg, bneg;
	const uint8_t *am = rpc_integer_mag(a, ta, &an, &aneg);
	const uint8_t *bm = rpc_integer_mag(b, tb, &bn, &bneg);
	size_t rn = (an > bn ? an : bn) + 1;
	uint8_t *r = sshrpc_heap_alloc(h, rn);
	if (r == NULL)
		return h->failed;
	bool rneg;
	if (aneg == bneg) {
		unsigned carry = 0;
		for (size_t i = 0; i < rn; i++) {
			unsigned s = carry + (i < an ? am[i] : 0u) + (i < bn ? bm[i] : 0u);
			r[i] = (uint8_t)s;
			carry = s >> 8;
		}
		rneg = aneg;
	} else {
		/* Different signs: subtract the smaller magnitude from the larger;
		 * the result takes the larger one's sign. */
		if (mag_cmp(am, an, bm, bn) < 0) {
			const uint8_t *tm = am;
			am = bm;
			bm = tm;
			size_t tn = an;
			an = bn;
			bn = tn;
			aneg = bneg;
		}
		int borrow = 0;
		for (size_t i = 0; i < rn; i++) {
			int d = (i < an ? am[i] : 0) - (i < bn ? bm[i] : 0) - borrow;
			borrow = d < 0;
			r[i] = (uint8_t)(d + (borrow ? 256 : 0));
		}
		rneg = aneg;
	}
	return rpc_integer_make(h, rneg, r, rn, false, out);
}

int rpc_integer_print(sshrpc_buf *out, const sshrpc_term *t)
{
	if (t->type == SSHRPC_TERM_INT) {
		/* Digits by hand rather than snprintf "%" PRId64: newlib-nano's
		 * printf has no 64-bit conversions, and with some arm-none-eabi
		 * toolchains <inttypes.h> does not define PRId64 at all. */
		char tmp[24];
		char *p = tmp + sizeof tmp;
		uint64_t m = t->v.i < 0 ? (uint64_t)0 - (uint64_t)t->v.i : (uint64_t)t->v.i;
		do {
			*--p = (char)('0' + m % 10);
			m /= 10;
		} while (m != 0);
		if (t->v.i < 0)
			*--p = '-';
		return sshrpc_buf_put(out, p, (size_t)(tmp + sizeof tmp - p));
	}
	const sshrpc_alloc *a = out->alloc != NULL ? out->alloc : sshrpc_alloc_default();
	size_t nl = (t->len + 3) / 4;
	uint32_t *limbs = sshrpc_malloc(a, nl * sizeof *limbs);
	if (limbs == NULL)
		return SSHRPC_E_NOMEM;
	memset(limbs, 0, nl * sizeof *limbs);
	for (size_t i = 0; i < t->len; i++)
		limbs[i / 4] |= (uint32_t)t->v.bytes[i] << (8 * (i % 4));
	/* At most 2.41 decimal digits per byte: reserve, then write the groups of
	 * nine digits from the end backwards. */
	size_t maxd = t->len * 241 / 100 + 12;
	uint8_t *d;
	size_t before = sshrpc_buf_len(out);
	int rc = sshrpc_buf_reserve(out, maxd, &d);
	if (rc != SSHRPC_OK) {
		sshrpc_free(a, limbs, nl * sizeof *limbs);
		return rc;
	}
	size_t pos = maxd;
	size_t top = nl;
	while (top > 0 && limbs[top - 1] == 0)
		top--;
	while (top > 0) {
		uint64_t rem = 0;
		for (size_t i = top; i-- > 0;) {
			uint64_t cur = (rem << 32) | limbs[i];
			limbs[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		while (top > 0 && limbs[top - 1] == 0)
			top--;
		for (int k = 0; k < 9; k++) {
			if (top == 0 && rem == 0 && k > 0)
				break;
			d[--pos] = (uint8_t)('0' + rem % 10);
			rem /= 10;
		}
	}
	if (t->aux)
		d[--pos] = '-';
	memmove(d, d + pos, maxd - pos);
	sshrpc_buf_truncate(out, before + (maxd - pos));
	sshrpc_free(a, limbs, nl * sizeof *limbs);
	return SSHRPC_OK;
}

int rpc_integer_from_digits(
	sshrpc_heap *h, bool negative, const uint8_t *digits, size_t n, unsigned base, sshrpc_term *out)
{
	if (base < 2 || base > 36)
		return SSHRPC_E_INVALID;
	/* Digits per 32-bit step: base^k must stay below 2^32. */
	unsigned k = 0;
	uint64_t pk = 1;
	while (pk * base <= UINT32_MAX) {
		pk *= base;
		k++;
	}
	/* log2(36) < 6 bits per digit. */
	if (n > (SIZE_MAX - 64) / 6)
		return SSHRPC_E_TOO_LARGE;
	size_t nl = n * 6 / 32 + 2;
	uint32_t *limbs = sshrpc_heap_alloc(h, nl * sizeof *limbs);
	if (limbs == NULL)
		return h->failed;
	size_t used = 0;
	size_t i = 0;
	while (i < n) {
		uint64_t mul = 1, add = 0;
		for (unsigned j = 0; j < k && i < n; j++, i++) {
			mul *= base;
			add = add * base + digits[i];
		}
		uint64_t carry = add;
		for (size_t l = 0; l < used; l++) {
			uint64_t cur = (uint64_t)limbs[l] * mul + carry;
			limbs[l] = (uint32_t)cur;
			carry = cur >> 32;
		}
		if (carry != 0) {
			if (used == nl)
				return SSHRPC_E_TOO_LARGE; /* cannot happen: nl is an upper bound */
			limbs[used++] = (uint32_t)carry;
		}
	}
	uint8_t *mag = sshrpc_heap_alloc(h, used * 4 + 1);
	if (mag == NULL)
		return h->failed;
	for (size_t l = 0; l < used; l++) {
		mag[4 * l] = (uint8_t)limbs[l];
		mag[4 * l + 1] = (uint8_t)(limbs[l] >> 8);
		mag[4 * l + 2] = (uint8_t)(limbs[l] >> 16);
		mag[4 * l + 3] = (uint8_t)(limbs[l] >> 24);
	}
	return rpc_integer_make(h, negative, mag, used * 4, false, out);
}
