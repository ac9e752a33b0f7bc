/* sshrpc-bench crypto: throughput of every cipher+MAC pair on 32 KiB
 * packets, sealed through crypto/ the way transport seals them, next to raw
 * libcrypto EVP calls doing the same work in the same run. The two sides
 * take turns every few packets within each run, are timed in thread CPU
 * time, and each reports its median run, so that load from elsewhere on a
 * shared machine hits both alike.
 *
 * The work per packet (seqnr = the packet's sequence number):
 *   AEAD          sshrpc_cipher_aead_seal
 *   MAC, EtM      encrypt pkt[4..), then MAC(seqnr || pkt) (OpenSSH PROTOCOL §1.5)
 *   MAC, plain    MAC(seqnr || pkt), then encrypt pkt (RFC 4253 §6.4)
 * The raw side: EVP_EncryptUpdate / EVP_CIPHER_CTX_ctrl and EVP_MAC
 * (HMAC re-initialised with its key kept, Poly1305 keyed per packet), on
 * contexts made once, as a careful caller of libcrypto would write it.
 * Before timing, one packet sealed both ways must come out byte-identical,
 * so the comparison is of the same work. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "bench.h"
#include "sshrpc/crypto.h"

#define PKT_BYTES 32768 /* what the cipher sees: whole packet, or all after the length */
#define RUNS 5
#define TARGET 0.90

/* ---- one side: state for sealing packets ----------------------------------- */

typedef struct side {
	const sshrpc_cipher_info *ci;
	const sshrpc_mac_info *mi; /* NULL with an AEAD cipher */
	size_t total;		   /* packet bytes sealed per packet */
	uint8_t *pkt;
	uint8_t tag[64];
	uint32_t seqnr;
	/* through crypto/ */
	sshrpc_cipher *cipher;
	sshrpc_mac *mac;
	/* raw EVP */
	EVP_CIPHER *evp;
	EVP_CIPHER_CTX *ctx, *hdr;
	EVP_MAC *evp_mac;
	EVP_MAC_CTX *mctx;
	uint8_t gcm_iv[12];
} side;

static void key_material(uint8_t *p, size_t n, uint8_t salt)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 29 + salt);
}

static const char *evp_cipher_name(const sshrpc_cipher_info *ci)
{
	static const struct {
		const char *ssh, *evp;
	} map[] = {
		{ "chacha20-poly1305@openssh.com", "ChaCha20" },
		{ "aes128-gcm@openssh.com", "AES-128-GCM" },
		{ "aes256-gcm@openssh.com", "AES-256-GCM" },
		{ "aes128-ctr", "AES-128-CTR" },
		{ "aes192-ctr", "AES-192-CTR" },
		{ "aes256-ctr", "AES-256-CTR" },
		{ "aes128-cbc", "AES-128-CBC" },
		{ "aes192-cbc", "AES-192-CBC" },
		{ "aes256-cbc", "AES-256-CBC" },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].ssh, ci->name) == 0)
			return map[i].evp;
	return NULL;
}

static const char *evp_md_name(sshrpc_hash_alg h)
{
	switch (h) {
	case SSHRPC_HASH_SHA1:
		return "SHA1";
	case SSHRPC_HASH_SHA256:
		return "SHA256";
	case SSHRPC_HASH_SHA384:
		return "SHA384";
	case SSHRPC_HASH_SHA512:
		return "SHA512";
	}
	return NULL;
}

static bool is_aead(const sshrpc_cipher_info *ci)
{
	return ci->kind == SSHRPC_CIPHER_GCM || ci->kind == SSHRPC_CIPHER_CHACHAPOLY;
}

static void side_free(side *s)
{
	sshrpc_cipher_free(s->cipher);
	sshrpc_mac_free(s->mac);
	EVP_CIPHER_CTX_free(s->ctx);
	EVP_CIPHER_CTX_free(s->hdr);
	EVP_CIPHER_free(s->evp);
	EVP_MAC_CTX_free(s->mctx);
	EVP_MAC_free(s->evp_mac);
	free(s->pkt);
	memset(s, 0, sizeof *s);
}

/* Both sides start from the same key, IV and packet bytes. */
static int side_init(side *s, const sshrpc_cipher_info *ci, const sshrpc_mac_info *mi, bool raw)
{
	uint8_t key[64], iv[16], mkey[64];
	memset(s, 0, sizeof *s);
	s->ci = ci;
	s->mi = mi;
	bool length_outside = is_aead(ci) || (mi != NULL && mi->etm);
	s->total = length_outside ? 4 + PKT_BYTES : PKT_BYTES;
	s->pkt = malloc(s->total);
	if (s->pkt == NULL)
		return -1;
	for (size_t i = 0; i < s->total; i++)
		s->pkt[i] = (uint8_t)(i * 7);
	uint32_t plen = (uint32_t)s->total - 4;
	s->pkt[0] = (uint8_t)(plen >> 24);
	s->pkt[1] = (uint8_t)(plen >> 16);
	s->pkt[2] = (uint8_t)(plen >> 8);
	s->pkt[3] = (uint8_t)plen;
	key_material(key, sizeof key, 1);
	key_material(iv, sizeof iv, 2);
	key_material(mkey, sizeof mkey, 3);

	if (!raw) {
		if (sshrpc_cipher_new(NULL, ci, key, iv, SSHRPC_ENCRYPT, &s->cipher) != SSHRPC_OK)
			return -1;
		if (mi != NULL && sshrpc_mac_new(NULL, mi, mkey, &s->mac) != SSHRPC_OK)
			return -1;
		return 0;
	}

	s->evp = EVP_CIPHER_fetch(NULL, evp_cipher_name(ci), NULL);
	s->ctx = EVP_CIPHER_CTX_new();
	if (s->evp == NULL || s->ctx == NULL)
		return -1;
	if (ci->kind == SSHRPC_CIPHER_CHACHAPOLY) {
		uint8_t zero_iv[16] = { 0 };
		s->hdr = EVP_CIPHER_CTX_new();
		s->evp_mac = EVP_MAC_fetch(NULL, "POLY1305", NULL);
		s->mctx = s->evp_mac != NULL ? EVP_MAC_CTX_new(s->evp_mac) : NULL;
		if (s->hdr == NULL || s->mctx == NULL || EVP_EncryptInit_ex2(s->ctx, s->evp, key, zero_iv, NULL) != 1 ||
			EVP_EncryptInit_ex2(s->hdr, s->evp, key + 32, zero_iv, NULL) != 1)
			return -1;
		return 0;
	}
	if (EVP_EncryptInit_ex2(s->ctx, s->evp, key, iv, NULL) != 1)
		return -1;
	if (ci->kind == SSHRPC_CIPHER_GCM) {
		memcpy(s->gcm_iv, iv, sizeof s->gcm_iv);
		return 0;
	}
	EVP_CIPHER_CTX_set_padding(s->ctx, 0);
	OSSL_PARAM params[2] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)evp_md_name(mi->hash), 0),
		OSSL_PARAM_construct_end(),
	};
	s->evp_mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	s->mctx = s->evp_mac != NULL ? EVP_MAC_CTX_new(s->evp_mac) : NULL;
	if (s->mctx == NULL || EVP_MAC_init(s->mctx, mkey, mi->key_len, params) != 1)
		return -1;
	return 0;
}

/* ---- sealing one packet ------------------------------------------------------ */

static int seal_sshrpc(side *s)
{
	uint32_t seq = s->seqnr++;
	if (is_aead(s->ci))
		return sshrpc_cipher_aead_seal(s->cipher, seq, s->pkt, s->total, s->tag);
	if (s->mi->etm) {
		if (sshrpc_cipher_crypt(s->cipher, s->pkt + 4, s->total - 4) != SSHRPC_OK)
			return -1;
		return sshrpc_mac_compute(s->mac, seq, s->pkt, s->total, s->tag);
	}
	if (sshrpc_mac_compute(s->mac, seq, s->pkt, s->total, s->tag) != SSHRPC_OK)
		return -1;
	return sshrpc_cipher_crypt(s->cipher, s->pkt, s->total);
}

static int raw_hmac(side *s, uint32_t seq)
{
	uint8_t sb[4] = { (uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8), (uint8_t)seq };
	size_t outl = 0;
	if (EVP_MAC_init(s->mctx, NULL, 0, NULL) != 1 || EVP_MAC_update(s->mctx, sb, 4) != 1 ||
		EVP_MAC_update(s->mctx, s->pkt, s->total) != 1 ||
		EVP_MAC_final(s->mctx, s->tag, &outl, sizeof s->tag) != 1)
		return -1;
	return 0;
}

static int raw_encrypt(side *s, uint8_t *p, size_t n)
{
	int outl = 0;
	return EVP_EncryptUpdate(s->ctx, p, &outl, p, (int)n) == 1 ? 0 : -1;
}

static int raw_gcm(side *s)
{
	int outl = 0;
	uint8_t fin[16];
	if (EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, s->gcm_iv) != 1 ||
		EVP_EncryptUpdate(s->ctx, NULL, &outl, s->pkt, 4) != 1 ||
		EVP_EncryptUpdate(s->ctx, s->pkt + 4, &outl, s->pkt + 4, (int)s->total - 4) != 1 ||
		EVP_EncryptFinal_ex(s->ctx, fin, &outl) != 1 ||
		EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_AEAD_GET_TAG, 16, s->tag) != 1)
		return -1;
	for (int i = 11; i >= 4; i--)
		if (++s->gcm_iv[i] != 0)
			break;
	return 0;
}

static int raw_chachapoly(side *s, uint32_t seq)
{
	static const uint8_t zero[64];
	uint8_t iv[16] = { 0 }, poly_key[64];
	int outl = 0;
	size_t tl = 0;
	/* IV: block counter 0 (LE64), then seqnr as a big-endian uint64. */
	iv[12] = (uint8_t)(seq >> 24);
	iv[13] = (uint8_t)(seq >> 16);
	iv[14] = (uint8_t)(seq >> 8);
	iv[15] = (uint8_t)seq;
	if (EVP_EncryptInit_ex(s->hdr, NULL, NULL, NULL, iv) != 1 ||
		EVP_EncryptUpdate(s->hdr, s->pkt, &outl, s->pkt, 4) != 1 ||
		EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, iv) != 1 ||
		EVP_EncryptUpdate(s->ctx, poly_key, &outl, zero, 64) != 1 ||
		EVP_EncryptUpdate(s->ctx, s->pkt + 4, &outl, s->pkt + 4, (int)s->total - 4) != 1 ||
		EVP_MAC_init(s->mctx, poly_key, 32, NULL) != 1 || EVP_MAC_update(s->mctx, s->pkt, s->total) != 1 ||
		EVP_MAC_final(s->mctx, s->tag, &tl, 16) != 1)
		return -1;
	return 0;
}

static int seal_raw(side *s)
{
	uint32_t seq = s->seqnr++;
	switch (s->ci->kind) {
	case SSHRPC_CIPHER_GCM:
		return raw_gcm(s);
	case SSHRPC_CIPHER_CHACHAPOLY:
		return raw_chachapoly(s, seq);
	default:
		break;
	}
	if (s->mi->etm) {
		if (raw_encrypt(s, s->pkt + 4, s->total - 4) != 0)
			return -1;
		return raw_hmac(s, seq);
	}
	if (raw_hmac(s, seq) != 0)
		return -1;
	return raw_encrypt(s, s->pkt, s->total);
}

/* ---- timing ------------------------------------------------------------------------ */

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Wall time bounds a run; the two sides are timed in this thread's CPU
 * time, so time spent descheduled (other jobs on a shared machine) counts
 * for neither. On an idle machine the two agree. */
static double now_s(void)
{
	return clock_s(CLOCK_MONOTONIC);
}

static double cpu_s(void)
{
	return clock_s(CLOCK_THREAD_CPUTIME_ID);
}

/* One run: the two sides take turns, a slice of SLICE packets each, until
 * secs of wall time have passed, and each side is timed (in CPU time) over
 * its own slices only; so whatever else the machine does lands on both
 * sides alike. The side that goes first alternates from slice to slice.
 * MB/s is 10^6 bytes per second of CPU time. */
#define SLICE 4

static int run_pair(side *w, side *r, double secs, double *w_mbps, double *r_mbps)
{
	double start = now_s(), wt = 0, rt = 0;
	unsigned long slices = 0;
	do {
		for (int turn = 0; turn < 2; turn++) {
			bool raw = (turn == 0) == (slices % 2 == 1);
			double t0 = cpu_s();
			for (int i = 0; i < SLICE; i++)
				if ((raw ? seal_raw(r) : seal_sshrpc(w)) != 0)
					return -1;
			double dt = cpu_s() - t0;
			if (raw)
				rt += dt;
			else
				wt += dt;
		}
		slices++;
	} while (now_s() - start < secs);
	*w_mbps = (double)(slices * SLICE) * (double)w->total / wt / 1e6;
	*r_mbps = (double)(slices * SLICE) * (double)r->total / rt / 1e6;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct result {
	const char *cipher, *mac;
	double sshrpc, evp;
} result;

static int measure(const sshrpc_cipher_info *ci, const sshrpc_mac_info *mi, double secs, result *out)
{
	side w = { 0 }, r = { 0 };
	int rc = -1;
	if (side_init(&w, ci, mi, false) != 0 || side_init(&r, ci, mi, true) != 0) {
		fprintf(stderr, "sshrpc-bench crypto: cannot set up %s %s\n", ci->name, mi ? mi->name : "");
		goto out;
	}
	/* Same work: one packet sealed both ways must match, tag included. */
	if (seal_sshrpc(&w) != 0 || seal_raw(&r) != 0 || memcmp(w.pkt, r.pkt, w.total) != 0 ||
		memcmp(w.tag, r.tag, mi != NULL ? mi->out_len : ci->tag_len) != 0) {
		fprintf(stderr, "sshrpc-bench crypto: %s %s: crypto/ and raw EVP disagree\n", ci->name,
			mi ? mi->name : "");
		goto out;
	}
	double per = secs / RUNS, ws[RUNS], rs[RUNS];
	/* Warm-up (caches, clock ramp-up), not counted. */
	if (run_pair(&w, &r, per / 4, &ws[0], &rs[0]) != 0)
		goto out;
	for (int i = 0; i < RUNS; i++)
		if (run_pair(&w, &r, per, &ws[i], &rs[i]) != 0)
			goto out;
	qsort(ws, RUNS, sizeof ws[0], cmp_double);
	qsort(rs, RUNS, sizeof rs[0], cmp_double);
	out->cipher = ci->name;
	out->mac = mi != NULL ? mi->name : NULL;
	out->sshrpc = ws[RUNS / 2];
	out->evp = rs[RUNS / 2];
	rc = 0;
out:
	side_free(&w);
	side_free(&r);
	return rc;
}

/* ---- main -------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: sshrpc-bench crypto [--json] [--seconds S]\n"
		"  --seconds S  measuring time per pair, both sides together (default 1), in %d runs\n",
		RUNS);
}

int bench_crypto_main(int argc, char **argv)
{
	bool json = false;
	double secs = 1.0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
			char *end;
			errno = 0;
			secs = strtod(argv[++i], &end);
			if (errno != 0 || *end != '\0' || !(secs > 0 && secs <= 3600)) {
				fprintf(stderr, "sshrpc-bench crypto: --seconds wants a number of seconds in "
						"(0, 3600]\n");
				return 2;
			}
		} else {
			usage();
			return 2;
		}
	}

	size_t nc = 0, nm = 0;
	const sshrpc_cipher_info *const *ciphers = sshrpc_cipher_all(&nc);
	const sshrpc_mac_info *const *macs = sshrpc_mac_all(&nm);
	result *res = calloc(nc * (nm + 1), sizeof *res);
	size_t nr = 0;
	if (res == NULL)
		return 1;

	if (!json)
		printf("sshrpc-bench crypto: %d-byte packets (%s), median of %d runs of %.2f s, sides "
		       "interleaved\n"
		       "%-30s %-30s %11s %11s %7s\n",
			PKT_BYTES, OpenSSL_version(OPENSSL_VERSION), RUNS, secs / RUNS, "cipher", "mac", "crypto/MB/s",
			"EVP MB/s", "ratio");
	int failed = 0;
	for (size_t c = 0; c < nc; c++) {
		size_t passes = is_aead(ciphers[c]) ? 1 : nm;
		for (size_t m = 0; m < passes; m++) {
			const sshrpc_mac_info *mi = is_aead(ciphers[c]) ? NULL : macs[m];
			if (measure(ciphers[c], mi, secs, &res[nr]) != 0) {
				failed = 1;
				continue;
			}
			result *r = &res[nr++];
			if (!json) {
				double ratio = r->sshrpc / r->evp;
				printf("%-30s %-30s %11.1f %11.1f %6.1f%%%s\n", r->cipher, r->mac ? r->mac : "-",
					r->sshrpc, r->evp, 100 * ratio, ratio < TARGET ? "  below 90%" : "");
				fflush(stdout);
			}
		}
	}
	if (json) {
		printf("{\"benchmark\":\"crypto\",\"packet_bytes\":%d,\"runs\":%d,\"seconds_per_run\":%g,"
		       "\"libcrypto\":\"%s\",\"unit\":\"MB per CPU second (10^6 bytes)\",\"results\":[",
			PKT_BYTES, RUNS, secs / RUNS, OpenSSL_version(OPENSSL_VERSION));
		for (size_t i = 0; i < nr; i++) {
			double ratio = res[i].sshrpc / res[i].evp;
			printf("%s\n "
			       "{\"cipher\":\"%s\",\"mac\":%s%s%s,\"sshrpc_mbps\":%.1f,\"evp_mbps\":%.1f,"
			       "\"ratio\":%.3f,\"meets_target\":%s}",
				i ? "," : "", res[i].cipher, res[i].mac ? "\"" : "", res[i].mac ? res[i].mac : "null",
				res[i].mac ? "\"" : "", res[i].sshrpc, res[i].evp, ratio,
				ratio >= TARGET ? "true" : "false");
		}
		printf("\n]}\n");
	}
	free(res);
	return failed;
}
