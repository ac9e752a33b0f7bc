/* Strict UTF-8 (RFC 3629 §3-4): what OTP accepts in ATOM_UTF8_EXT and in
 * <<X/utf8>> segments. invalid.tsv has the cases a lax decoder lets
 * through: overlong C0 80, the surrogate ED A0 80, a cut sequence. */
#include "rpc/rpc_internal.h"

size_t rpc_utf8_decode(const uint8_t *p, size_t n, uint32_t *cp)
{
	if (n == 0)
		return 0;
	uint8_t b0 = p[0];
	if (b0 < 0x80) {
		*cp = b0;
		return 1;
	}
	size_t len;
	uint32_t v, min;
	if (b0 >= 0xc2 && b0 <= 0xdf) {
		len = 2;
		v = b0 & 0x1f;
		min = 0x80;
	} else if (b0 >= 0xe0 && b0 <= 0xef) {
		len = 3;
		v = b0 & 0x0f;
		min = 0x800;
	} else if (b0 >= 0xf0 && b0 <= 0xf4) {
		len = 4;
		v = b0 & 0x07;
		min = 0x10000;
	} else {
		return 0; /* continuation byte, C0/C1 (always overlong), F5..FF */
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

size_t rpc_utf8_encode(uint32_t cp, uint8_t *out)
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | (cp >> 6));
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp >= 0xd800 && cp <= 0xdfff)
		return 0;
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | (cp >> 12));
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	if (cp <= 0x10ffff) {
		out[0] = (uint8_t)(0xf0 | (cp >> 18));
		out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (uint8_t)(0x80 | (cp & 0x3f));
		return 4;
	}
	return 0;
}

bool rpc_utf8_check(const uint8_t *p, size_t n, size_t *chars)
{
	size_t count = 0, i = 0;
	while (i < n) {
		if (p[i] < 0x80) {
			i++;
		} else {
			uint32_t cp;
			size_t l = rpc_utf8_decode(p + i, n - i, &cp);
			if (l == 0)
				return false;
			i += l;
		}
		count++;
	}
	if (chars != NULL)
		*chars = count;
	return true;
}
