/* Bounds-checked reading of the RFC 4251 §5 data types. Every function
 * checks the length it needs against what is left before it looks at a
 * byte, and leaves the cursor unchanged when it fails. */
#include <string.h>

#include "sshrpc/wire.h"

void sshrpc_rd_init(sshrpc_reader *r, const void *p, size_t len)
{
	r->p = p;
	r->len = p != NULL ? len : 0;
	r->off = 0;
}

size_t sshrpc_rd_left(const sshrpc_reader *r)
{
	return r->len - r->off;
}

const uint8_t *sshrpc_rd_ptr(const sshrpc_reader *r)
{
	return r->p + r->off;
}

int sshrpc_rd_bytes(sshrpc_reader *r, size_t n, const uint8_t **p)
{
	if (n > sshrpc_rd_left(r))
		return SSHRPC_E_TRUNCATED;
	*p = r->p + r->off;
	r->off += n;
	return SSHRPC_OK;
}

int sshrpc_rd_skip(sshrpc_reader *r, size_t n)
{
	const uint8_t *p;
	return sshrpc_rd_bytes(r, n, &p);
}

int sshrpc_rd_u8(sshrpc_reader *r, uint8_t *v)
{
	const uint8_t *p;
	int rc = sshrpc_rd_bytes(r, 1, &p);
	if (rc == SSHRPC_OK)
		*v = p[0];
	return rc;
}

int sshrpc_rd_bool(sshrpc_reader *r, bool *v)
{
	uint8_t b;
	int rc = sshrpc_rd_u8(r, &b);
	if (rc == SSHRPC_OK)
		*v = b != 0;
	return rc;
}

int sshrpc_rd_u32(sshrpc_reader *r, uint32_t *v)
{
	const uint8_t *p;
	int rc = sshrpc_rd_bytes(r, 4, &p);
	if (rc == SSHRPC_OK)
		*v = sshrpc_load_be32(p);
	return rc;
}

int sshrpc_rd_u64(sshrpc_reader *r, uint64_t *v)
{
	const uint8_t *p;
	int rc = sshrpc_rd_bytes(r, 8, &p);
	if (rc == SSHRPC_OK)
		*v = sshrpc_load_be64(p);
	return rc;
}

int sshrpc_rd_string(sshrpc_reader *r, const uint8_t **p, size_t *len)
{
	if (sshrpc_rd_left(r) < 4)
		return SSHRPC_E_TRUNCATED;
	uint32_t n = sshrpc_load_be32(r->p + r->off);
	if (n > sshrpc_rd_left(r) - 4)
		return SSHRPC_E_TRUNCATED;
	*p = r->p + r->off + 4;
	*len = n;
	r->off += 4 + (size_t)n;
	return SSHRPC_OK;
}

int sshrpc_rd_sub(sshrpc_reader *r, sshrpc_reader *sub)
{
	const uint8_t *p;
	size_t n;
	int rc = sshrpc_rd_string(r, &p, &n);
	if (rc == SSHRPC_OK)
		sshrpc_rd_init(sub, p, n);
	return rc;
}

int sshrpc_rd_cstring(sshrpc_reader *r, char *out, size_t cap)
{
	size_t save = r->off;
	const uint8_t *p;
	size_t n;
	int rc = sshrpc_rd_string(r, &p, &n);
	if (rc != SSHRPC_OK)
		return rc;
	if (cap == 0 || n > cap - 1) {
		r->off = save;
		return SSHRPC_E_TOO_LARGE;
	}
	if (n > 0 && memchr(p, 0, n) != NULL) {
		r->off = save;
		return SSHRPC_E_INVALID;
	}
	if (n > 0)
		memcpy(out, p, n);
	out[n] = '\0';
	return SSHRPC_OK;
}

int sshrpc_rd_mpint(sshrpc_reader *r, const uint8_t **p, size_t *len, bool *negative)
{
	size_t save = r->off;
	const uint8_t *v;
	size_t n;
	int rc = sshrpc_rd_string(r, &v, &n);
	if (rc != SSHRPC_OK)
		return rc;
	/* RFC 4251 §5: "Unnecessary leading bytes with the value 0 or 255 MUST
	 * NOT be included." A leading 0x00 is needed only when the next byte
	 * has its top bit set; a leading 0xff only when the next has it clear. */
	if (n >= 2 && ((v[0] == 0x00 && (v[1] & 0x80) == 0) || (v[0] == 0xff && (v[1] & 0x80) != 0))) {
		r->off = save;
		return SSHRPC_E_INVALID;
	}
	/* Zero is the empty string, never a single 0x00 byte. */
	if (n == 1 && v[0] == 0x00) {
		r->off = save;
		return SSHRPC_E_INVALID;
	}
	*p = v;
	*len = n;
	*negative = n > 0 && (v[0] & 0x80) != 0;
	return SSHRPC_OK;
}

int sshrpc_rd_mpint_unsigned(sshrpc_reader *r, const uint8_t **p, size_t *len)
{
	size_t save = r->off;
	const uint8_t *v;
	size_t n;
	bool neg;
	int rc = sshrpc_rd_mpint(r, &v, &n, &neg);
	if (rc != SSHRPC_OK)
		return rc;
	if (neg) {
		r->off = save;
		return SSHRPC_E_INVALID;
	}
	if (n > 0 && v[0] == 0x00) {
		v++;
		n--;
	}
	*p = v;
	*len = n;
	return SSHRPC_OK;
}

int sshrpc_namelist_check(const char *p, size_t len)
{
	size_t name_len = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == ',') {
			if (name_len == 0)
				return SSHRPC_E_INVALID; /* empty name */
			name_len = 0;
			continue;
		}
		/* RFC 4251 §6: printable US-ASCII, no whitespace or controls. */
		if (c <= 0x20 || c >= 0x7f)
			return SSHRPC_E_INVALID;
		if (++name_len > SSHRPC_NAME_MAX)
			return SSHRPC_E_INVALID;
	}
	if (len > 0 && name_len == 0)
		return SSHRPC_E_INVALID; /* trailing comma */
	return SSHRPC_OK;
}

int sshrpc_rd_namelist(sshrpc_reader *r, const char **p, size_t *len)
{
	size_t save = r->off;
	const uint8_t *v;
	size_t n;
	int rc = sshrpc_rd_string(r, &v, &n);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_namelist_check((const char *)v, n);
	if (rc != SSHRPC_OK) {
		r->off = save;
		return rc;
	}
	*p = (const char *)v;
	*len = n;
	return SSHRPC_OK;
}

int sshrpc_rd_end(const sshrpc_reader *r)
{
	return sshrpc_rd_left(r) == 0 ? SSHRPC_OK : SSHRPC_E_INVALID;
}

bool sshrpc_namelist_next(const char *list, size_t len, size_t *pos, const char **name, size_t *name_len)
{
	if (*pos >= len)
		return false;
	const char *start = list + *pos;
	const char *comma = memchr(start, ',', len - *pos);
	size_t n = comma != NULL ? (size_t)(comma - start) : len - *pos;
	*name = start;
	*name_len = n;
	*pos += n + (comma != NULL ? 1 : 0);
	return true;
}

bool sshrpc_namelist_has(const char *list, size_t len, const char *name, size_t name_len)
{
	size_t pos = 0;
	const char *n;
	size_t nl;
	while (sshrpc_namelist_next(list, len, &pos, &n, &nl)) {
		if (nl == name_len && memcmp(n, name, nl) == 0)
			return true;
	}
	return false;
}
