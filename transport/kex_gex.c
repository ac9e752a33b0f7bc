/* Diffie-Hellman group exchange (RFC 4419): the client asks for a modulus
 * size (min, n, max), the server picks a group from its own set — the
 * built-in MODP groups 14, 16, 18 (RFC 3526) and any moduli(5) file the
 * program loaded — and the exchange continues as plain DH with the group in
 * the exchange hash (kex.c). */
#include <string.h>

#include "sshrpc_config.h"
#include "transport/internal.h"

#define GEX_MIN_BITS 1024u
#define GEX_MAX_BITS 8192u

static unsigned mag_bits(const uint8_t *p, size_t n)
{
	while (n > 0 && p[0] == 0) {
		p++;
		n--;
	}
	if (n == 0)
		return 0;
	unsigned b = (unsigned)(n - 1) * 8;
	for (uint8_t x = p[0]; x != 0; x >>= 1)
		b++;
	return b;
}

#if SSHRPC_WITH_DH && SSHRPC_WITH_CLIENT
/* OpenSSH's estimate of the modulus size that matches a symmetric
 * strength (NIST SP 800-57 part 1, table 2). */
static uint32_t estimate_bits(unsigned sym_bits)
{
	if (sym_bits <= 112)
		return 2048;
	if (sym_bits <= 128)
		return 3072;
	if (sym_bits <= 192)
		return 7680;
	return 8192;
}

int sshrpc_tr_gex_client_request(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	unsigned need = (unsigned)sshrpc_hash_len(k->method->hash);
	for (int d = 0; d < 2; d++) {
		const sshrpc_cipher_info *c = k->cipher[d];
		if (c->key_len > need)
			need = c->key_len;
		if (c->block_size > need)
			need = c->block_size;
		if (c->iv_len > need)
			need = c->iv_len;
		if (k->mac[d] != NULL && k->mac[d]->key_len > need)
			need = k->mac[d]->key_len;
	}
	k->gex_min = t->cfg.gex_min_bits != 0 ? t->cfg.gex_min_bits : 2048;
	k->gex_max = t->cfg.gex_max_bits != 0 ? t->cfg.gex_max_bits : GEX_MAX_BITS;
	if (k->gex_max < k->gex_min)
		k->gex_max = k->gex_min;
	k->gex_n = estimate_bits(need * 8);
	if (k->gex_n < k->gex_min)
		k->gex_n = k->gex_min;
	if (k->gex_n > k->gex_max)
		k->gex_n = k->gex_max;
	sshrpc_buf *w;
	size_t mark;
	int rc = sshrpc_tr_send_begin(t, SSH_MSG_KEX_DH_GEX_REQUEST, &w, &mark);
	if (rc == SSHRPC_OK) {
		if ((rc = sshrpc_buf_put_u32(w, k->gex_min)) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_u32(w, k->gex_n)) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_u32(w, k->gex_max)) != SSHRPC_OK)
			sshrpc_buf_truncate(&t->out, mark);
		else
			rc = sshrpc_tr_send_end(t, mark);
	}
	if (rc != SSHRPC_OK)
		return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "cannot send the GEX request");
	k->step = TKX_C_GEX_GROUP;
	return SSHRPC_OK;
}

int sshrpc_tr_gex_client_group(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	sshrpc_reader r;
	const uint8_t *p, *g;
	size_t plen, glen;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (sshrpc_rd_mpint_unsigned(&r, &p, &plen) != SSHRPC_OK ||
		sshrpc_rd_mpint_unsigned(&r, &g, &glen) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed KEX_DH_GEX_GROUP: mpint p and g expected (RFC 4419 §3)");
	unsigned bits = mag_bits(p, plen);
	if (bits < k->gex_min || bits > k->gex_max)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"the server's DH group has %u bits, outside the requested %lu..%lu (RFC 4419 §3)", bits,
			(unsigned long)k->gex_min, (unsigned long)k->gex_max);
	if ((p[plen - 1] & 1) == 0 || mag_bits(g, glen) < 2 || glen > sizeof k->gex_g)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"the server's DH group is unusable: even modulus or generator below 2 or above 64 bits");
	sshrpc_buf_reset(&k->gex_p);
	if (sshrpc_buf_put(&k->gex_p, p, plen) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_TOO_LARGE, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "DH group too large");
	memcpy(k->gex_g, g, glen);
	k->gex_glen = glen;
	return sshrpc_tr_kex_client_init(t);
}
#endif

#if SSHRPC_WITH_DH && SSHRPC_WITH_SERVER
int sshrpc_tr_gex_choose(const sshrpc_transport *t, uint32_t min, uint32_t n, uint32_t max, const uint8_t **p,
	size_t *plen, const uint8_t **g, size_t *glen)
{
	static const uint8_t two[1] = { 2 };
	static const int builtin[] = { 14, 16, 18 };
	const sshrpc_moduli *m = t->cfg.moduli;
	size_t nm = m != NULL ? m->count : 0;
	/* Best size: the smallest at or above n, else the largest below it,
	 * among those within [min, max]. */
	uint32_t best = 0;
	bool best_above = false;
	for (size_t i = 0; i < 3 + nm; i++) {
		uint32_t bits;
		if (i < 3) {
			size_t l;
			const uint8_t *q = sshrpc_dh_modp_prime(builtin[i], &l);
			if (q == NULL)
				continue;
			bits = mag_bits(q, l);
		} else {
			bits = m->m[i - 3].bits;
		}
		if (bits < min || bits > max)
			continue;
		bool above = bits >= n;
		if (best == 0 || (above && (!best_above || bits < best)) || (!above && !best_above && bits > best)) {
			best = bits;
			best_above = above;
		}
	}
	if (best == 0)
		return SSHRPC_E_UNSUPPORTED;
	/* A random one among the groups of that size. */
	size_t ties = 0;
	for (int pass = 0; pass < 2; pass++) {
		uint32_t pick = 0;
		if (pass == 1) {
			uint32_t r = 0;
			if (ties == 0)
				return SSHRPC_E_UNSUPPORTED;
			if (sshrpc_random(&r, sizeof r) != SSHRPC_OK)
				r = 0;
			pick = (uint32_t)(r % ties);
		}
		size_t seen = 0;
		for (size_t i = 0; i < 3 + nm; i++) {
			const uint8_t *q, *gg;
			size_t l, gl;
			if (i < 3) {
				q = sshrpc_dh_modp_prime(builtin[i], &l);
				if (q == NULL)
					continue;
				gg = two;
				gl = 1;
			} else {
				q = m->m[i - 3].p;
				l = m->m[i - 3].plen;
				gg = m->m[i - 3].g;
				gl = m->m[i - 3].glen;
			}
			if (mag_bits(q, l) != best)
				continue;
			if (pass == 1 && seen == pick) {
				*p = q;
				*plen = l;
				*g = gg;
				*glen = gl;
				return SSHRPC_OK;
			}
			seen++;
		}
		ties = seen;
	}
	return SSHRPC_E_UNSUPPORTED;
}

int sshrpc_tr_gex_server_request(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	sshrpc_reader r;
	int rc;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (msg[0] == SSH_MSG_KEX_30) {
		/* SSH_MSG_KEX_DH_GEX_REQUEST_OLD (RFC 4419 §5): n only. */
		if (sshrpc_rd_u32(&r, &k->gex_n) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
			return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"malformed KEX_DH_GEX_REQUEST_OLD: one uint32 expected (RFC 4419 §5)");
		k->gex_old = true;
		k->gex_min = GEX_MIN_BITS;
		k->gex_max = GEX_MAX_BITS;
	} else {
		if (sshrpc_rd_u32(&r, &k->gex_min) != SSHRPC_OK || sshrpc_rd_u32(&r, &k->gex_n) != SSHRPC_OK ||
			sshrpc_rd_u32(&r, &k->gex_max) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
			return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"malformed KEX_DH_GEX_REQUEST: min, n, max expected (RFC 4419 §3)");
		if (k->gex_min > k->gex_n || k->gex_n > k->gex_max)
			return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"KEX_DH_GEX_REQUEST needs min <= n <= max, got %lu, %lu, %lu (RFC 4419 §3)",
				(unsigned long)k->gex_min, (unsigned long)k->gex_n, (unsigned long)k->gex_max);
	}
	const uint8_t *p, *g;
	size_t plen, glen;
	uint32_t lo = k->gex_old ? GEX_MIN_BITS : k->gex_min, hi = k->gex_old ? GEX_MAX_BITS : k->gex_max;
	if (sshrpc_tr_gex_choose(t, lo, k->gex_n, hi, &p, &plen, &g, &glen) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_UNSUPPORTED, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"no DH group between %lu and %lu bits for the group exchange (RFC 4419 §3)", (unsigned long)lo,
			(unsigned long)hi);
	sshrpc_buf_reset(&k->gex_p);
	if (sshrpc_buf_put(&k->gex_p, p, plen) != SSHRPC_OK || glen > sizeof k->gex_g)
		return sshrpc_tr_fail(t, SSHRPC_E_TOO_LARGE, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "DH group too large");
	memcpy(k->gex_g, g, glen);
	k->gex_glen = glen;
	sshrpc_buf *w;
	size_t mark;
	rc = sshrpc_tr_send_begin(t, SSH_MSG_KEX_31, &w, &mark);
	if (rc == SSHRPC_OK) {
		if ((rc = sshrpc_buf_put_mpint_unsigned(w, p, plen)) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_mpint_unsigned(w, g, glen)) != SSHRPC_OK)
			sshrpc_buf_truncate(&t->out, mark);
		else
			rc = sshrpc_tr_send_end(t, mark);
	}
	if (rc != SSHRPC_OK)
		return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "cannot send the GEX group");
	k->step = TKX_S_GEX_INIT;
	return SSHRPC_OK;
}
#endif

/* ---- moduli(5) ------------------------------------------------------------------------ */

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

/* Hex digits to big-endian bytes (an odd count gets a leading zero nibble). */
static int hex_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t bytes = (n + 1) / 2;
	if (n == 0 || bytes > cap)
		return SSHRPC_E_TOO_LARGE;
	size_t o = 0, i = 0;
	if (n % 2 == 1) {
		int v = hexval(s[0]);
		if (v < 0)
			return SSHRPC_E_INVALID;
		out[o++] = (uint8_t)v;
		i = 1;
	}
	for (; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0)
			return SSHRPC_E_INVALID;
		out[o++] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = o;
	return SSHRPC_OK;
}

void sshrpc_moduli_free(sshrpc_moduli *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->count; i++)
		sshrpc_free(m->alloc, m->m[i].p, m->m[i].plen);
	sshrpc_free(m->alloc, m->m, m->count * sizeof *m->m);
	sshrpc_free(m->alloc, m, sizeof *m);
}

size_t sshrpc_moduli_count(const sshrpc_moduli *m)
{
	return m != NULL ? m->count : 0;
}

int sshrpc_moduli_parse(const sshrpc_alloc *a, const char *text, size_t len, sshrpc_moduli **out, sshrpc_err *err)
{
	*out = NULL;
	if (a == NULL)
		a = sshrpc_alloc_default();
	sshrpc_moduli *m = sshrpc_calloc(a, sizeof *m);
	if (m == NULL)
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
	m->alloc = a;
	size_t pos = 0, lineno = 0;
	int rc = SSHRPC_OK;
	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl != NULL ? (size_t)(nl - line) : len - pos;
		pos += ll + (nl != NULL ? 1 : 0);
		lineno++;
		const char *f[8];
		size_t fl[8], nf = 0, i = 0;
		while (i < ll && nf < 8) {
			while (i < ll && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
				i++;
			if (i >= ll || line[i] == '#')
				break;
			size_t s = i;
			while (i < ll && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
				i++;
			f[nf] = line + s;
			fl[nf++] = i - s;
		}
		if (nf == 0)
			continue;
		if (nf != 7) {
			rc = sshrpc_err_set(
				err, SSHRPC_E_INVALID, 0, "moduli line %zu: 7 fields expected, found %zu", lineno, nf);
			goto fail;
		}
		/* type 2: safe prime (moduli(5)); others are not for us. */
		if (fl[1] != 1 || f[1][0] != '2')
			continue;
		uint8_t g[8], p[GEX_MAX_BITS / 8 + 1];
		size_t glen, plen;
		if (hex_decode(f[5], fl[5], g, sizeof g, &glen) != SSHRPC_OK ||
			hex_decode(f[6], fl[6], p, sizeof p, &plen) != SSHRPC_OK) {
			rc = sshrpc_err_set(err, SSHRPC_E_INVALID, 0,
				"moduli line %zu: generator or modulus is not hex of a usable size", lineno);
			goto fail;
		}
		unsigned bits = mag_bits(p, plen);
		if (bits < GEX_MIN_BITS || bits > GEX_MAX_BITS || mag_bits(g, glen) < 2)
			continue;
		size_t skip = 0;
		while (p[skip] == 0)
			skip++;
		struct tr_modulus *nmv =
			sshrpc_realloc(a, m->m, m->count * sizeof *m->m, (m->count + 1) * sizeof *m->m);
		if (nmv == NULL) {
			rc = sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
			goto fail;
		}
		m->m = nmv;
		struct tr_modulus *e = &m->m[m->count++];
		memset(e, 0, sizeof *e);
		e->p = sshrpc_malloc(a, plen - skip);
		if (e->p == NULL) {
			rc = sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "out of memory");
			goto fail;
		}
		memcpy(e->p, p + skip, plen - skip);
		e->plen = plen - skip;
		e->bits = bits;
		memcpy(e->g, g, glen);
		e->glen = glen;
	}
	*out = m;
	return SSHRPC_OK;
fail:
	sshrpc_moduli_free(m);
	return rc;
}
