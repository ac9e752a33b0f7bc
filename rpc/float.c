/* Floats as Erlang writes and reads them. OTP 25 prints a float with the
 * shortest digit string that reads back to the same double (Ryu), then
 * places the decimal point by io_lib_format:insert_decimal/3's rule: plain
 * notation when it is no longer than scientific notation and |v| < 2^53,
 * scientific otherwise ("100.0", "123456789.0", "1.0e10", "1.0e-10",
 * "9.007199254740992e15"; see testdata/etf/vectors.tsv).
 *
 * The shortest digits come from the C library's correctly rounded "%.*e"
 * and strtod: for each length p from 1 to 17, the correctly rounded p-digit
 * decimal and its neighbour on the other side of v are the only p-digit
 * candidates that can lie in v's rounding interval, so the first length
 * with a candidate that reads back to v is the shortest, and the rounded
 * one is preferred as the closer (Ryu's choice). The strings handed to
 * strtod carry no decimal point, so the locale does not matter. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rpc/rpc_internal.h"

/* digits (n of them, no leading zero) times 10^exp10, read back. */
static double read_back(const char *digits, size_t n, int exp10)
{
	char buf[48];
	memcpy(buf, digits, n);
	snprintf(buf + n, sizeof buf - n, "e%d", exp10);
	return strtod(buf, NULL);
}

/* The correctly rounded p-significant-digit decimal of a > 0: digits into
 * d (p of them), returns the decimal exponent of the first digit. */
static int round_digits(double a, int p, char *d)
{
	char buf[64];
	snprintf(buf, sizeof buf, "%.*e", p - 1, a);
	size_t n = 0;
	const char *s = buf;
	for (; *s != '\0' && *s != 'e' && *s != 'E'; s++) {
		if (*s >= '0' && *s <= '9')
			d[n++] = *s;
	}
	int x = 0;
	if (*s != '\0')
		x = atoi(s + 1);
	return x;
}

/* The p-digit decimal one unit in the last place away (up or down) from
 * d x 10^x; updates d and returns the new exponent. */
static int neighbour(char *d, int p, int x, bool up)
{
	if (up) {
		int i = p - 1;
		while (i >= 0 && d[i] == '9')
			d[i--] = '0';
		if (i < 0) {
			d[0] = '1'; /* 9.99e x + 1 ulp = 1.00e(x+1) */
			return x + 1;
		}
		d[i]++;
		return x;
	}
	int i = p - 1;
	while (i >= 0 && d[i] == '0')
		d[i--] = '9';
	d[i]--;
	if (d[0] == '0') {
		/* 1.00e x - 1 ulp = 9.99e(x-1) */
		for (int j = 0; j < p; j++)
			d[j] = '9';
		return x - 1;
	}
	return x;
}

/* Shortest digits of a > 0 (finite): digits into d, *place is the power of
 * ten of the last digit. Returns the digit count. */
static int shortest(double a, char *d, int *place)
{
	for (int p = 1; p <= 17; p++) {
		int x = round_digits(a, p, d);
		double back = read_back(d, (size_t)p, x - (p - 1));
		if (back == a) {
			*place = x - (p - 1);
			return p;
		}
		char nd[20];
		memcpy(nd, d, (size_t)p);
		int nx = neighbour(nd, p, x, back < a);
		if (read_back(nd, (size_t)p, nx - (p - 1)) == a) {
			memcpy(d, nd, (size_t)p);
			*place = nx - (p - 1);
			return p;
		}
	}
	/* 17 significant digits always identify a double. */
	int x = round_digits(a, 17, d);
	*place = x - 16;
	return 17;
}

size_t rpc_float_format(double v, char *out)
{
	size_t o = 0;
	if (signbit(v))
		out[o++] = '-';
	double a = fabs(v);
	if (a == 0) {
		memcpy(out + o, "0.0", 4);
		return o + 3;
	}
	char d[20] = { 0 };
	int place;
	int l = shortest(a, d, &place);
	/* trailing zeros cannot occur: a shorter string would have matched */
	int e = place + l - 1; /* scientific exponent */
	char el[12];
	int explen = snprintf(el, sizeof el, "%d", e);
	int expcost = explen + 2;
	bool sci;
	if (place < 0) {
		if (e >= 0) {
			/* the point falls inside the digits: 4.35 */
			int ip = l + place;
			memcpy(out + o, d, (size_t)ip);
			o += (size_t)ip;
			out[o++] = '.';
			memcpy(out + o, d + ip, (size_t)(l - ip));
			o += (size_t)(l - ip);
			out[o] = '\0';
			return o;
		}
		sci = !(2 - place - l <= expcost);
		if (!sci) {
			/* 0.000ddd */
			out[o++] = '0';
			out[o++] = '.';
			for (int i = 0; i < -place - l; i++)
				out[o++] = '0';
			memcpy(out + o, d, (size_t)l);
			o += (size_t)l;
			out[o] = '\0';
			return o;
		}
	} else {
		int dot = l == 1 ? 1 : 0;
		sci = !(expcost + dot >= place + 2 && a < 9007199254740992.0);
		if (!sci) {
			/* ddd000.0 */
			memcpy(out + o, d, (size_t)l);
			o += (size_t)l;
			for (int i = 0; i < place; i++)
				out[o++] = '0';
			memcpy(out + o, ".0", 3);
			return o + 2;
		}
	}
	out[o++] = d[0];
	out[o++] = '.';
	if (l == 1) {
		out[o++] = '0';
	} else {
		memcpy(out + o, d + 1, (size_t)(l - 1));
		o += (size_t)(l - 1);
	}
	out[o++] = 'e';
	memcpy(out + o, el, (size_t)explen + 1);
	return o + (size_t)explen;
}

int rpc_float_parse(const char *s, size_t n, double *out)
{
	/* Mantissa digits and a decimal exponent, re-assembled without a
	 * decimal point for a locale-independent strtod. */
	char buf[1100];
	size_t bl = 0, i = 0;
	if (i < n && (s[i] == '+' || s[i] == '-')) {
		if (s[i] == '-')
			buf[bl++] = '-';
		i++;
	}
	size_t mant = 0;
	long frac = 0;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		if (bl >= 1024)
			return SSHRPC_E_TOO_LARGE;
		buf[bl++] = s[i++];
		mant++;
	}
	if (mant == 0)
		return SSHRPC_E_INVALID;
	if (i < n && s[i] == '.') {
		i++;
		size_t fd = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			if (bl >= 1024)
				return SSHRPC_E_TOO_LARGE;
			buf[bl++] = s[i++];
			fd++;
		}
		if (fd == 0)
			return SSHRPC_E_INVALID;
		frac = (long)fd;
	}
	long ex = 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		bool eneg = false;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		size_t ed = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			/* Past a million the result is 0 or infinite anyway. */
			if (ex < 1000000)
				ex = ex * 10 + (s[i] - '0');
			i++;
			ed++;
		}
		if (ed == 0)
			return SSHRPC_E_INVALID;
		if (eneg)
			ex = -ex;
	}
	if (i != n)
		return SSHRPC_E_INVALID;
	snprintf(buf + bl, sizeof buf - bl, "e%ld", ex - frac);
	errno = 0;
	double v = strtod(buf, NULL);
	if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
		return SSHRPC_E_INVALID;
	*out = v;
	return SSHRPC_OK;
}
