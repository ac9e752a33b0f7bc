#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void tsv_load(tsv_file *f, const char *name)
{
	const char *root = getenv("SSHRPC_TESTDATA");
	cr_assert_not_null(root, "SSHRPC_TESTDATA is not set");
	char path[4096];
	snprintf(path, sizeof path, "%s/etf/%s", root, name);
	FILE *fp = fopen(path, "rb");
	cr_assert_not_null(fp, "cannot open %s", path);
	fseek(fp, 0, SEEK_END);
	long size = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	f->text = malloc((size_t)size + 1);
	cr_assert_not_null(f->text);
	cr_assert_eq(fread(f->text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	f->text[size] = '\0';
	size_t cap = 16;
	f->lines = malloc(cap * sizeof *f->lines);
	f->nlines = 0;
	char *s = f->text;
	size_t lineno = 0;
	while (*s != '\0') {
		char *nl = strchr(s, '\n');
		if (nl != NULL)
			*nl = '\0';
		lineno++;
		if (*s != '\0') {
			if (f->nlines == cap) {
				cap *= 2;
				f->lines = realloc(f->lines, cap * sizeof *f->lines);
			}
			tsv_line *l = &f->lines[f->nlines++];
			memset(l, 0, sizeof *l);
			l->lineno = lineno;
			char *fld = s;
			for (;;) {
				char *tab = strchr(fld, '\t');
				if (l->nfields < 6)
					l->field[l->nfields++] = fld;
				if (tab == NULL)
					break;
				*tab = '\0';
				fld = tab + 1;
			}
		}
		if (nl == NULL)
			break;
		s = nl + 1;
	}
}

void tsv_free(tsv_file *f)
{
	free(f->text);
	free(f->lines);
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t hex_decode(const char *hex, uint8_t **out)
{
	size_t n = strlen(hex) / 2;
	uint8_t *p = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(hexv(hex[2 * i]) * 16 + hexv(hex[2 * i + 1]));
	*out = p;
	return n;
}

char *hex_encode(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	for (size_t i = 0; i < n; i++)
		sprintf(s + 2 * i, "%02x", p[i]);
	s[2 * n] = '\0';
	return s;
}

/* ---- SHA-256 (FIPS 180-4 §6.2) ---- */

static const uint32_t K[64] = {
	0x428a2f98,
	0x71374491,
	0xb5c0fbcf,
	0xe9b5dba5,
	0x3956c25b,
	0x59f111f1,
	0x923f82a4,
	0xab1c5ed5,
	0xd807aa98,
	0x12835b01,
	0x243185be,
	0x550c7dc3,
	0x72be5d74,
	0x80deb1fe,
	0x9bdc06a7,
	0xc19bf174,
	0xe49b69c1,
	0xefbe4786,
	0x0fc19dc6,
	0x240ca1cc,
	0x2de92c6f,
	0x4a7484aa,
	0x5cb0a9dc,
	0x76f988da,
	0x983e5152,
	0xa831c66d,
	0xb00327c8,
	0xbf597fc7,
	0xc6e00bf3,
	0xd5a79147,
	0x06ca6351,
	0x14292967,
	0x27b70a85,
	0x2e1b2138,
	0x4d2c6dfc,
	0x53380d13,
	0x650a7354,
	0x766a0abb,
	0x81c2c92e,
	0x92722c85,
	0xa2bfe8a1,
	0xa81a664b,
	0xc24b8b70,
	0xc76c51a3,
	0xd192e819,
	0xd6990624,
	0xf40e3585,
	0x106aa070,
	0x19a4c116,
	0x1e376c08,
	0x2748774c,
	0x34b0bcb5,
	0x391c0cb3,
	0x4ed8aa4a,
	0x5b9cca4f,
	0x682e6ff3,
	0x748f82ee,
	0x78a5636f,
	0x84c87814,
	0x8cc70208,
	0x90befffa,
	0xa4506ceb,
	0xbef9a3f7,
	0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return (x >> n) | (x << (32 - n));
}

static void block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
		0x5be0cd19 };
	size_t i = 0;
	for (; i + 64 <= n; i += 64)
		block(h, p + i);
	uint8_t last[128];
	size_t rest = n - i;
	memset(last, 0, sizeof last);
	memcpy(last, p + i, rest);
	last[rest] = 0x80;
	size_t total = rest + 9 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)n * 8;
	for (int k = 0; k < 8; k++)
		last[total - 1 - k] = (uint8_t)(bits >> (8 * k));
	block(h, last);
	if (total == 128)
		block(h, last + 64);
	for (int k = 0; k < 8; k++) {
		out[4 * k] = (uint8_t)(h[k] >> 24);
		out[4 * k + 1] = (uint8_t)(h[k] >> 16);
		out[4 * k + 2] = (uint8_t)(h[k] >> 8);
		out[4 * k + 3] = (uint8_t)h[k];
	}
}

/* ---- counting allocator ---- */

static void *counting_realloc(void *ud, void *p, size_t old_size, size_t new_size)
{
	test_alloc *t = ud;
	if (new_size == 0) {
		if (p != NULL) {
			t->live_bytes -= old_size;
			t->live_blocks--;
		}
		free(p);
		return NULL;
	}
	if (t->fail_after == 0)
		return NULL;
	if (t->fail_after != SIZE_MAX)
		t->fail_after--;
	void *q = realloc(p, new_size);
	if (q == NULL)
		return NULL;
	t->total_allocs++;
	if (p == NULL) {
		t->live_blocks++;
		t->live_bytes += new_size;
	} else {
		t->live_bytes += new_size - old_size;
	}
	return q;
}

void test_alloc_init(test_alloc *t)
{
	memset(t, 0, sizeof *t);
	t->a.realloc_fn = counting_realloc;
	t->a.ud = t;
	t->fail_after = SIZE_MAX;
}
