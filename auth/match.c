/* Pattern matching as OpenSSH's files use it (sshd(8) "PATTERNS",
 * ssh_config(5) "PATTERNS"): '*' and '?' wildcards, comma-separated lists
 * with '!' negation, and address/CIDR blocks for from=. */
#include <string.h>

#include "sshrpc/auth.h"

static unsigned char fold(unsigned char c, bool nocase)
{
	if (nocase && c >= 'A' && c <= 'Z')
		return (unsigned char)(c - 'A' + 'a');
	return c;
}

bool sshrpc_match_pattern(const char *s, size_t slen, const char *pat, size_t plen, bool nocase)
{
	/* Greedy matching that backtracks only to the last '*': linear in
	 * practice and never recursive, so a hostile pattern cannot blow the
	 * stack. */
	size_t si = 0, pi = 0;
	size_t star_p = (size_t)-1, star_s = 0;
	while (si < slen) {
		if (pi < plen && pat[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (pi < plen && (pat[pi] == '?' || fold((unsigned char)pat[pi], nocase) ==
								   fold((unsigned char)s[si], nocase))) {
			pi++;
			si++;
		} else if (star_p != (size_t)-1) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < plen && pat[pi] == '*')
		pi++;
	return pi == plen;
}

int sshrpc_match_list(const char *s, size_t slen, const char *list, size_t llen, bool nocase)
{
	int got = 0;
	size_t i = 0;
	while (i <= llen) {
		size_t j = i;
		while (j < llen && list[j] != ',')
			j++;
		const char *p = list + i;
		size_t n = j - i;
		bool neg = n > 0 && p[0] == '!';
		if (neg) {
			p++;
			n--;
		}
		if (n > 0 && sshrpc_match_pattern(s, slen, p, n, nocase)) {
			if (neg)
				return -1;
			got = 1;
		}
		i = j + 1;
	}
	return got;
}

/* An address as 16 bytes (IPv4 in the first 4) and its family. */
typedef struct ipaddr {
	int family; /* 4 or 6 */
	uint8_t b[16];
} ipaddr;

static int parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || s[i] != '.')
				return -1;
			i++;
		}
		unsigned v = 0, digits = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3 || v > 255)
				return -1;
			i++;
		}
		if (digits == 0)
			return -1;
		out[part] = (uint8_t)v;
	}
	return i == n ? 0 : -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* RFC 4291 §2.2 text forms, including "::" and a dotted IPv4 tail. */
static int parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t words[8];
	int nw = 0, gap = -1;
	size_t i = 0;
	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		gap = 0;
		i = 2;
		if (i == n)
			goto done;
	} else if (n > 0 && s[0] == ':') {
		return -1;
	}
	for (;;) {
		/* A dotted IPv4 tail takes the last two words. */
		size_t k = i;
		while (k < n && s[k] != ':' && s[k] != '.')
			k++;
		if (k < n && s[k] == '.') {
			uint8_t v4[4];
			if (nw > 6 || parse_v4(s + i, n - i, v4) != 0)
				return -1;
			words[nw++] = (uint16_t)((v4[0] << 8) | v4[1]);
			words[nw++] = (uint16_t)((v4[2] << 8) | v4[3]);
			break;
		}
		unsigned v = 0, digits = 0;
		while (i < n && hexval(s[i]) >= 0) {
			v = (v << 4) | (unsigned)hexval(s[i]);
			if (++digits > 4)
				return -1;
			i++;
		}
		if (digits == 0 || nw >= 8)
			return -1;
		words[nw++] = (uint16_t)v;
		if (i == n)
			break;
		if (s[i] != ':')
			return -1;
		i++;
		if (i < n && s[i] == ':') {
			if (gap >= 0)
				return -1;
			gap = nw;
			i++;
			if (i == n)
				break;
		} else if (i == n) {
			return -1;
		}
	}
done:
	if (gap < 0 && nw != 8)
		return -1;
	if (gap >= 0 && nw > 7)
		return -1;
	memset(out, 0, 16);
	int tail = gap >= 0 ? nw - gap : 0;
	int head = gap >= 0 ? gap : nw;
	for (int w = 0; w < head; w++) {
		out[2 * w] = (uint8_t)(words[w] >> 8);
		out[2 * w + 1] = (uint8_t)words[w];
	}
	for (int w = 0; w < tail; w++) {
		int pos = 8 - tail + w;
		out[2 * pos] = (uint8_t)(words[head + w] >> 8);
		out[2 * pos + 1] = (uint8_t)words[head + w];
	}
	return 0;
}

static int parse_addr(const char *s, size_t n, ipaddr *a)
{
	memset(a, 0, sizeof *a);
	if (n == 0 || n > 64)
		return -1;
	if (memchr(s, ':', n) != NULL) {
		a->family = 6;
		return parse_v6(s, n, a->b);
	}
	a->family = 4;
	return parse_v4(s, n, a->b);
}

/* "addr/bits" or "addr"; host bits below the mask must be zero, as
 * OpenSSH's addr_pton_cidr insists. */
static int parse_cidr(const char *s, size_t n, ipaddr *a, unsigned *bits)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash != NULL ? (size_t)(slash - s) : n;
	if (parse_addr(s, alen, a) != 0)
		return -1;
	unsigned maxbits = a->family == 4 ? 32 : 128;
	*bits = maxbits;
	if (slash != NULL) {
		size_t i = alen + 1;
		unsigned v = 0, digits = 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			v = v * 10 + (unsigned)(s[i] - '0');
			if (++digits > 3)
				return -1;
			i++;
		}
		if (digits == 0 || i != n || v > maxbits)
			return -1;
		*bits = v;
	}
	for (unsigned bit = *bits; bit < maxbits; bit++)
		if (a->b[bit / 8] & (0x80u >> (bit % 8)))
			return -1;
	return 0;
}

static bool cidr_contains(const ipaddr *net, unsigned bits, const ipaddr *a)
{
	if (net->family != a->family)
		return false;
	for (unsigned bit = 0; bit < bits; bit++) {
		uint8_t m = (uint8_t)(0x80u >> (bit % 8));
		if ((net->b[bit / 8] & m) != (a->b[bit / 8] & m))
			return false;
	}
	return true;
}

int sshrpc_match_cidr(const char *addr, const char *cidr, size_t cidr_len)
{
	ipaddr a, net;
	unsigned bits;
	if (addr == NULL || parse_addr(addr, strlen(addr), &a) != 0)
		return -1;
	if (parse_cidr(cidr, cidr_len, &net, &bits) != 0)
		return -1;
	return cidr_contains(&net, bits, &a) ? 1 : 0;
}

/* The address against each entry: an entry that parses as an address or
 * CIDR block is compared as one, anything else as a wildcard pattern over
 * the address text ("192.168.1.*"). */
static int match_addr_list(const char *addr, const char *list, size_t llen)
{
	ipaddr a;
	size_t alen = strlen(addr);
	if (parse_addr(addr, alen, &a) != 0)
		return 0;
	int got = 0;
	size_t i = 0;
	while (i <= llen) {
		size_t j = i;
		while (j < llen && list[j] != ',')
			j++;
		const char *p = list + i;
		size_t n = j - i;
		bool neg = n > 0 && p[0] == '!';
		if (neg) {
			p++;
			n--;
		}
		if (n > 0) {
			ipaddr net;
			unsigned bits;
			bool m;
			if (parse_cidr(p, n, &net, &bits) == 0)
				m = cidr_contains(&net, bits, &a);
			else
				m = sshrpc_match_pattern(addr, alen, p, n, true);
			if (m) {
				if (neg)
					return -1;
				got = 1;
			}
		}
		i = j + 1;
	}
	return got;
}

int sshrpc_match_host_and_addr(const char *host, const char *addr, const char *list, size_t llen)
{
	int mip = addr != NULL ? match_addr_list(addr, list, llen) : 0;
	if (mip < 0)
		return -1;
	int mhost = host != NULL ? sshrpc_match_list(host, strlen(host), list, llen, true) : 0;
	if (mhost < 0)
		return -1;
	return (mip > 0 || mhost > 0) ? 1 : 0;
}
