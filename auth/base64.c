/* base64 (RFC 4648 §4): every text key format (OpenSSH public key lines,
 * RFC 4716 blocks, PEM armour, hashed known_hosts names) carries binary
 * blobs this way. */
#include <string.h>

#include "sshrpc/keys.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sshrpc_base64_encode(const uint8_t *p, size_t n, sshrpc_buf *out)
{
	size_t olen = (n + 2) / 3 * 4;
	uint8_t *d;
	int rc = sshrpc_buf_reserve(out, olen, &d);
	if (rc != SSHRPC_OK)
		return rc;
	size_t i = 0, j = 0;
	for (; i + 3 <= n; i += 3) {
		uint32_t v = ((uint32_t)p[i] << 16) | ((uint32_t)p[i + 1] << 8) | p[i + 2];
		d[j++] = (uint8_t)alphabet[(v >> 18) & 63];
		d[j++] = (uint8_t)alphabet[(v >> 12) & 63];
		d[j++] = (uint8_t)alphabet[(v >> 6) & 63];
		d[j++] = (uint8_t)alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		d[j++] = (uint8_t)alphabet[(v >> 18) & 63];
		d[j++] = (uint8_t)alphabet[(v >> 12) & 63];
		d[j++] = i + 1 < n ? (uint8_t)alphabet[(v >> 6) & 63] : '=';
		d[j++] = '=';
	}
	return SSHRPC_OK;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int sshrpc_base64_decode(const char *s, size_t n, sshrpc_buf *out)
{
	size_t start = sshrpc_buf_len(out);
	uint32_t acc = 0;
	unsigned bits = 0, chars = 0, pad = 0;
	int rc;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			chars++;
			continue;
		}
		int v = b64_value(c);
		if (v < 0 || pad > 0)
			goto bad;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		chars++;
		if (bits >= 8) {
			bits -= 8;
			rc = sshrpc_buf_put_u8(out, (uint8_t)(acc >> bits));
			if (rc != SSHRPC_OK) {
				sshrpc_buf_truncate(out, start);
				return rc;
			}
			acc &= (1u << bits) - 1;
		}
	}
	/* Padding, when present, completes the last quantum exactly; without
	 * it the leftover bits must be fewer than a byte and all zero. */
	if (pad > 2 || (pad > 0 && chars % 4 != 0))
		goto bad;
	if ((chars - pad) % 4 == 1)
		goto bad;
	if (pad > 0 && (chars - pad) % 4 != 4 - pad)
		goto bad;
	if (acc != 0)
		goto bad;
	return SSHRPC_OK;
bad:
	sshrpc_buf_truncate(out, start);
	return SSHRPC_E_INVALID;
}
