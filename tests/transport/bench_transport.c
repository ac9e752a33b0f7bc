/* The transport's own benchmark (until sshrpc-bench covers it): CPU time of
 * a whole in-process handshake with its per-step breakdown, and bulk
 * throughput per cipher+MAC next to the crypto bound measured in the same
 * run (the same bytes sealed and opened with crypto/ directly, no framing).
 * Not a test: run it by hand, on an idle machine, and compare ratios.
 *   build/tests/transport/bench-transport [handshakes] [MiB] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pair.h"
#include "transport/internal.h"

static uint64_t cpu_ns(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- handshake ---------------------------------------------------------------------- */

static const char *const steps[] = { "keygen", "shared_secret", "exchange_hash", "sign", "verify", "derive", "done" };
#define NSTEPS (sizeof steps / sizeof steps[0])
static uint64_t step_ns[2][NSTEPS];

static void trace(void *ud, const char *json, size_t len)
{
	int side = *(int *)ud;
	(void)len;
	const char *st = strstr(json, "\"step\":\"");
	const char *ns = strstr(json, "\"ns\":");
	if (st == NULL || ns == NULL)
		return;
	st += 8;
	for (size_t i = 0; i < NSTEPS; i++)
		if (strncmp(st, steps[i], strlen(steps[i])) == 0 && st[strlen(steps[i])] == '"')
			step_ns[side][i] += strtoull(ns + 5, NULL, 10);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void handshakes(const test_hostkeys *hk, int n)
{
	uint64_t *t = calloc((size_t)n, sizeof *t);
	static int side_c = 0, side_s = 1;
	memset(step_ns, 0, sizeof step_ns);
	for (int i = 0; i < n; i++) {
		test_pair p;
		test_pair_config(&p, hk);
		p.cc.trace = p.sc.trace = trace;
		p.cc.trace_ud = &side_c;
		p.sc.trace_ud = &side_s;
		p.cc.clock_ns = p.sc.clock_ns = cpu_ns;
		uint64_t t0 = cpu_ns(NULL);
		if (test_pair_start(&p) != SSHRPC_OK || test_pair_run(&p, NULL, NULL) != 0 ||
			sshrpc_transport_get_state(p.c) != SSHRPC_TRANSPORT_ESTABLISHED) {
			fprintf(stderr, "handshake failed\n");
			exit(1);
		}
		t[i] = cpu_ns(NULL) - t0;
		test_pair_free(&p);
	}
	qsort(t, (size_t)n, sizeof *t, cmp_u64);
	printf("handshake curve25519-sha256 + ssh-ed25519 + chacha20-poly1305, client and server in one process:\n");
	printf("  CPU per handshake: median %.1f us, min %.1f us (%d runs; includes trace overhead)\n",
		(double)t[n / 2] / 1e3, (double)t[0] / 1e3, n);
	printf("  %-14s %10s %10s   (mean us per handshake)\n", "step", "client", "server");
	for (size_t i = 0; i < NSTEPS; i++)
		printf("  %-14s %10.1f %10.1f\n", steps[i], (double)step_ns[0][i] / n / 1e3,
			(double)step_ns[1][i] / n / 1e3);
	free(t);
}

/* ---- throughput ------------------------------------------------------------------------- */

#define CHUNK (32 * 1024)

/* Transport: client sends total bytes in CHUNK-byte messages, server
 * receives them. CPU ns for both ends, with one copy of every byte from the
 * client's output to the server's input (what a socket costs at least). */
static uint64_t transport_run(const test_hostkeys *hk, const char *cipher, const char *mac, uint64_t total)
{
	test_pair p;
	test_pair_config(&p, hk);
	p.cc.ciphers = p.sc.ciphers = cipher;
	p.cc.macs = p.sc.macs = mac != NULL ? mac : "hmac-sha2-256";
	p.cc.rekey_bytes = p.sc.rekey_bytes = SSHRPC_REKEY_NEVER;
	if (test_pair_start(&p) != SSHRPC_OK || test_pair_run(&p, NULL, NULL) != 0)
		exit(1);
	uint64_t got = 0;
	sshrpc_msg_io cio = sshrpc_transport_io(p.c), sio = sshrpc_transport_io(p.s);
	uint64_t t0 = cpu_ns(NULL);
	for (uint64_t sent = 0; sent < total; sent += CHUNK) {
		sshrpc_buf *w;
		uint8_t *d;
		/* The layer above writes its data in place (a zero-copy producer):
		 * producing it is not the transport's cost. */
		if (cio.begin(cio.ctx, SSH_MSG_CHANNEL_DATA, &w) != SSHRPC_OK ||
			sshrpc_buf_reserve(w, CHUNK, &d) != SSHRPC_OK || cio.end(cio.ctx) != SSHRPC_OK)
			exit(1);
		test_move(p.c, p.s);
		const uint8_t *m;
		size_t n;
		while (sio.recv(sio.ctx, &m, &n) == SSHRPC_OK)
			got += n;
	}
	uint64_t dt = cpu_ns(NULL) - t0;
	if (got < total) {
		fprintf(stderr, "lost data: %llu of %llu\n", (unsigned long long)got, (unsigned long long)total);
		exit(1);
	}
	test_pair_free(&p);
	return dt;
}

/* The crypto bound: the same packets sealed and opened with crypto/
 * alone, through the transport's own seal and one open per packet. */
static uint64_t crypto_run(const char *cipher, const char *mac, uint64_t total)
{
	tr_dir_keys k;
	memset(&k, 0x42, sizeof k);
	k.cipher = sshrpc_cipher_lookup(cipher, strlen(cipher));
	k.mac = mac != NULL ? sshrpc_mac_lookup(mac, strlen(mac)) : NULL;
	sshrpc_cipher *enc, *dec;
	sshrpc_mac *menc = NULL, *mdec = NULL;
	if (sshrpc_cipher_new(NULL, k.cipher, k.key, k.iv, SSHRPC_ENCRYPT, &enc) != SSHRPC_OK ||
		sshrpc_cipher_new(NULL, k.cipher, k.key, k.iv, SSHRPC_DECRYPT, &dec) != SSHRPC_OK)
		exit(1);
	bool aead = k.cipher->tag_len > 0;
	if (!aead && (sshrpc_mac_new(NULL, k.mac, k.mackey, &menc) != SSHRPC_OK ||
			     sshrpc_mac_new(NULL, k.mac, k.mackey, &mdec) != SSHRPC_OK))
		exit(1);
	size_t total_pkt = 4 + 1 + 1 + CHUNK + 10; /* header, type, payload, padding; block aligned enough */
	total_pkt += (16 - (total_pkt - (aead || k.mac->etm ? 4 : 0)) % 16) % 16;
	static uint8_t pkt[CHUNK + 256];
	uint8_t tag[64];
	uint32_t seq = 0;
	uint64_t t0 = cpu_ns(NULL);
	for (uint64_t sent = 0; sent < total; sent += CHUNK, seq++) {
		int rc;
		if (aead) {
			rc = sshrpc_cipher_aead_seal(enc, seq, pkt, total_pkt, tag);
			if (rc == SSHRPC_OK)
				rc = sshrpc_cipher_aead_open(dec, seq, pkt, total_pkt, tag);
		} else if (k.mac->etm) {
			rc = sshrpc_cipher_crypt(enc, pkt + 4, total_pkt - 4);
			if (rc == SSHRPC_OK)
				rc = sshrpc_mac_compute(menc, seq, pkt, total_pkt, tag);
			if (rc == SSHRPC_OK)
				rc = sshrpc_mac_verify(mdec, seq, pkt, total_pkt, tag);
			if (rc == SSHRPC_OK)
				rc = sshrpc_cipher_crypt(dec, pkt + 4, total_pkt - 4);
		} else {
			rc = sshrpc_mac_compute(menc, seq, pkt, total_pkt, tag);
			if (rc == SSHRPC_OK)
				rc = sshrpc_cipher_crypt(enc, pkt, total_pkt);
			if (rc == SSHRPC_OK)
				rc = sshrpc_cipher_crypt(dec, pkt, total_pkt);
			if (rc == SSHRPC_OK)
				rc = sshrpc_mac_verify(mdec, seq, pkt, total_pkt, tag);
		}
		if (rc != SSHRPC_OK) {
			fprintf(stderr, "crypto bound run failed for %s\n", cipher);
			exit(1);
		}
	}
	uint64_t dt = cpu_ns(NULL) - t0;
	sshrpc_cipher_free(enc);
	sshrpc_cipher_free(dec);
	if (menc != NULL)
		sshrpc_mac_free(menc);
	if (mdec != NULL)
		sshrpc_mac_free(mdec);
	return dt;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 200;
	uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 256;
	test_hostkeys hk;
	test_hostkeys_make(&hk, false);
	handshakes(&hk, n);
	static const char *const suites[][2] = { { "aes128-gcm@openssh.com", NULL }, { "aes256-gcm@openssh.com", NULL },
		{ "chacha20-poly1305@openssh.com", NULL }, { "aes128-ctr", "hmac-sha2-256-etm@openssh.com" },
		{ "aes128-ctr", "hmac-sha2-256" }, { "aes256-ctr", "hmac-sha2-512-etm@openssh.com" } };
	uint64_t total = mib << 20;
	printf("\nbulk, %llu MiB in %d-byte messages, one direction, CPU of both ends:\n", (unsigned long long)mib,
		CHUNK);
	printf("  %-48s %10s %10s %7s\n", "cipher + MAC", "transport", "crypto", "ratio");
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
		uint64_t bt[3], ct[3];
		for (int r = 0; r < 3; r++) {
			ct[r] = crypto_run(suites[i][0], suites[i][1], total);
			bt[r] = transport_run(&hk, suites[i][0], suites[i][1], total);
		}
		qsort(bt, 3, sizeof bt[0], cmp_u64);
		qsort(ct, 3, sizeof ct[0], cmp_u64);
		char name[96];
		snprintf(name, sizeof name, "%s%s%s", suites[i][0], suites[i][1] ? " + " : "",
			suites[i][1] ? suites[i][1] : "");
		double mbt = (double)total / 1048576.0 / ((double)bt[1] / 1e9);
		double mbc = (double)total / 1048576.0 / ((double)ct[1] / 1e9);
		printf("  %-48s %7.0f MiB/s %7.0f MiB/s %6.1f%%\n", name, mbt, mbc, 100.0 * mbt / mbc);
	}
	test_hostkeys_free(&hk);
	return 0;
}
