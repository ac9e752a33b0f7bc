/* Writes the seed corpora of the transport harnesses from real sessions
 * with OpenSSH 9.2: sshd started by the test fixture (tests/support), and
 * ssh run against our server engine. Run by hand:
 *   ninja -C BUILD fuzz/transport/gen-transport-corpus
 *   BUILD/fuzz/transport/gen-transport-corpus fuzz/transport
 * Plaintext packets before the first NEWKEYS are taken from the wire as they
 * were received. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../tests/support/peer.h"
#include "sshrpc/transport.h"

static const char *outdir;

static void save(const char *corpus, const char *name, const uint8_t *p, size_t n)
{
	char path[1024];
	snprintf(path, sizeof path, "%s/corpus_%s", outdir, corpus);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/corpus_%s/%s", outdir, corpus, name);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(p, 1, n, f) != n) {
		fprintf(stderr, "cannot write %s\n", path);
		exit(1);
	}
	fclose(f);
}

/* ---- a recorded session ------------------------------------------------------------- */

typedef struct rec {
	uint8_t *in; /* every byte the peer sent */
	size_t len, cap;
} rec;

static void rec_add(rec *r, const uint8_t *p, size_t n)
{
	if (r->len + n > r->cap) {
		r->cap = (r->len + n) * 2;
		r->in = realloc(r->in, r->cap);
	}
	memcpy(r->in + r->len, p, n);
	r->len += n;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs the engine on fd until established (both NEWKEYS) or 10 s. */
static int session(sshrpc_transport *t, int fd, rec *r)
{
	uint64_t end = now_ms() + 10000;
	sshrpc_msg_io io = sshrpc_transport_io(t);
	while (now_ms() < end) {
		size_t len;
		const uint8_t *o;
		while ((o = sshrpc_transport_output(t, &len)) != NULL && len > 0) {
			ssize_t k = write(fd, o, len);
			if (k <= 0)
				return -1;
			sshrpc_transport_output_consume(t, (size_t)k);
		}
		if (sshrpc_transport_get_state(t) == SSHRPC_TRANSPORT_ESTABLISHED)
			return 0;
		if (sshrpc_transport_get_state(t) == SSHRPC_TRANSPORT_CLOSED)
			return -1;
		struct pollfd pf = { fd, POLLIN, 0 };
		if (poll(&pf, 1, 50) > 0) {
			uint8_t buf[65536];
			ssize_t k = read(fd, buf, sizeof buf);
			if (k <= 0)
				return -1;
			rec_add(r, buf, (size_t)k);
			size_t taken;
			if (sshrpc_transport_feed(t, buf, (size_t)k, &taken) != SSHRPC_OK || taken != (size_t)k)
				return -1;
		}
		const uint8_t *m;
		size_t n;
		while (io.recv(io.ctx, &m, &n) == SSHRPC_OK) {
		}
	}
	return -1;
}

/* The plaintext payloads of a recording after the version line, up to and
 * including NEWKEYS: calls fn for each. */
static void payloads(const rec *r, void (*fn)(void *, const uint8_t *, size_t), void *ud)
{
	const uint8_t *lf = memchr(r->in, '\n', r->len);
	size_t pos = lf != NULL ? (size_t)(lf - r->in) + 1 : r->len;
	while (pos + 5 <= r->len) {
		uint32_t plen = sshrpc_load_be32(r->in + pos);
		uint8_t pad = r->in[pos + 4];
		if (pos + 4 + plen > r->len || pad + 1u > plen)
			break;
		const uint8_t *p = r->in + pos + 5;
		size_t n = plen - 1 - pad;
		fn(ud, p, n);
		pos += 4 + plen;
		if (n > 0 && p[0] == SSH_MSG_NEWKEYS)
			break;
	}
}

/* ---- seeds -------------------------------------------------------------------------------- */

typedef struct seed {
	uint8_t buf[65536];
	size_t len;
	bool skip_kexinit;
} seed;

static void seed_put(seed *s, const void *p, size_t n)
{
	if (s->len + n <= sizeof s->buf) {
		memcpy(s->buf + s->len, p, n);
		s->len += n;
	}
}

/* kex harness records: [u16 len][payload], KEXINIT left out (the harness
 * makes its own). */
static void kex_record(void *ud, const uint8_t *p, size_t n)
{
	seed *s = ud;
	if (n == 0 || p[0] == SSH_MSG_KEXINIT)
		return;
	uint8_t l[2] = { (uint8_t)(n >> 8), (uint8_t)n };
	seed_put(s, l, 2);
	seed_put(s, p, n);
}

static void first_kexinit(void *ud, const uint8_t *p, size_t n)
{
	seed *s = ud;
	if (s->len == 0 && n > 0 && p[0] == SSH_MSG_KEXINIT)
		seed_put(s, p, n);
}

static void fill_all(char *kex, char *hk, char *ci, char *mac)
{
	sshrpc_algs_all(SSHRPC_ALG_KEX, kex, 1024);
	sshrpc_algs_all(SSHRPC_ALG_HOSTKEY, hk, 1024);
	sshrpc_algs_all(SSHRPC_ALG_CIPHER, ci, 1024);
	sshrpc_algs_all(SSHRPC_ALG_MAC, mac, 1024);
}

static size_t split(char *list, char **names, size_t cap)
{
	size_t n = 0;
	char *save = NULL;
	for (char *p = strtok_r(list, ",", &save); p != NULL && n < cap; p = strtok_r(NULL, ",", &save))
		names[n++] = p;
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s FUZZ_TRANSPORT_DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	static const char *const extra[] = {
		"KexAlgorithms "
		"+diffie-hellman-group1-sha1,diffie-hellman-group14-sha1,diffie-hellman-group-exchange-sha1",
		"Ciphers +aes128-cbc,aes192-cbc,aes256-cbc", "MACs +hmac-sha1,hmac-sha1-etm@openssh.com",
		"HostKeyAlgorithms +ssh-rsa", NULL
	};
	sshrpc_test_sshd sshd;
	if (sshrpc_test_sshd_start(&sshd, NULL, extra) != 0)
		return 1;
	char kexes[1024], hks[1024], cis[1024], macs[1024];
	fill_all(kexes, hks, cis, macs);
	char *kex[32], *hk[16];
	size_t nkex = split(kexes, kex, 32), nhk = split(hks, hk, 16);

	/* our client against sshd, one kex method at a time (host keys in turn) */
	for (size_t i = 0; i < nkex; i++) {
		size_t h = i % nhk;
		sshrpc_transport_config c = { 0 };
		c.hostkey_check = sshrpc_transport_hostkey_accept_any;
		c.kex_algs = kex[i];
		c.hostkey_algs = hk[h];
		c.gex_max_bits = 3072;
		c.ciphers = "aes128-ctr";
		c.macs = "hmac-sha2-256";
		sshrpc_transport *t = NULL;
		rec r = { 0 };
		int fd = sshrpc_test_connect(sshd.port);
		if (fd < 0 || sshrpc_transport_new(&c, &t, NULL) != SSHRPC_OK || session(t, fd, &r) != 0) {
			fprintf(stderr, "client session %s/%s failed: %s\n", kex[i], hk[h],
				t != NULL ? sshrpc_transport_error(t)->msg : "");
			return 1;
		}
		close(fd);
		seed s = { .len = 0 };
		uint8_t sel[2] = { (uint8_t)i, (uint8_t)h };
		seed_put(&s, sel, 2);
		payloads(&r, kex_record, &s);
		char name[160];
		snprintf(name, sizeof name, "sshd_%s_%s", kex[i], hk[h]);
		save("kex_client", name, s.buf, s.len);
		if (i == 0) {
			/* the version harness: client role, 64-byte chunks */
			seed v = { .len = 0 };
			uint8_t ctl = (uint8_t)(63 << 1);
			seed_put(&v, &ctl, 1);
			seed_put(&v, r.in, r.len < 4096 ? r.len : 4096);
			save("version", "sshd_hello", v.buf, v.len);
			seed k = { .len = 0 };
			payloads(&r, first_kexinit, &k);
			seed ks = { .len = 0 };
			uint8_t kctl = 8; /* client role, payload as is */
			seed_put(&ks, &kctl, 1);
			seed_put(&ks, k.buf, k.len);
			save("kexinit", "sshd_kexinit", ks.buf, ks.len);
			/* the packet harness replays the KEXINIT sshd sent as a rekey */
			for (int f = 0; f < 4; f++) {
				seed p = { .len = 0 };
				uint8_t pctl = (uint8_t)(f | 8);
				seed_put(&p, &pctl, 1);
				static const uint8_t svc[] = { 5, 0, 0, 0, 12, 's', 's', 'h', '-', 'u', 's', 'e', 'r',
					'a', 'u', 't', 'h' };
				static const uint8_t ign[] = { 2, 0, 0, 0, 3, 'a', 'b', 'c' };
				static const uint8_t dbg[] = { 4, 1, 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 0 };
				static const uint8_t unimpl[] = { 3, 0, 0, 0, 7 };
				static const uint8_t data[] = { 94, 0, 0, 0, 0, 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
				const struct {
					const uint8_t *p;
					size_t n;
				} msgs[] = { { svc, sizeof svc }, { ign, sizeof ign }, { dbg, sizeof dbg },
					{ unimpl, sizeof unimpl }, { data, sizeof data }, { k.buf, k.len } };
				for (size_t m = 0; m < sizeof msgs / sizeof msgs[0]; m++) {
					uint8_t hdr[3] = { 1, (uint8_t)(msgs[m].n >> 8), (uint8_t)msgs[m].n };
					seed_put(&p, hdr, 3);
					seed_put(&p, msgs[m].p, msgs[m].n);
				}
				/* a hand-framed packet: length 28, padding 6, an IGNORE */
				static const uint8_t framed[] = { 0, 0, 0, 28, 6, 2, 0, 0, 0, 16, 'x', 'x', 'x', 'x',
					'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 0, 0, 0, 0, 0, 0 };
				uint8_t hdr[3] = { 2, 0, sizeof framed };
				seed_put(&p, hdr, 3);
				seed_put(&p, framed, sizeof framed);
				char pname[32];
				snprintf(pname, sizeof pname, "session_family%d", f);
				save("packet", pname, p.buf, p.len);
			}
		}
		free(r.in);
		sshrpc_transport_free(t);
	}
	sshrpc_test_sshd_stop(&sshd);

	/* ssh against our server, one kex method at a time */
	size_t nkeys;
	static sshrpc_key *keys[5];
	static const sshrpc_key_type types[] = { SSHRPC_KEY_ED25519, SSHRPC_KEY_RSA, SSHRPC_KEY_ECDSA_P256,
		SSHRPC_KEY_ECDSA_P384, SSHRPC_KEY_ECDSA_P521 };
	nkeys = 0;
	for (size_t i = 0; i < 5; i++)
		if (sshrpc_key_generate(NULL, types[i], 2048, &keys[nkeys]) == SSHRPC_OK)
			nkeys++;
	for (size_t i = 0; i < nkex; i++) {
		size_t h = 0; /* ssh-ed25519 */
		char all_k[1024], all_h[1024], all_c[1024], all_m[1024];
		fill_all(all_k, all_h, all_c, all_m);
		sshrpc_transport_config c = { 0 };
		c.role = SSHRPC_ROLE_SERVER;
		c.host_keys = keys;
		c.n_host_keys = nkeys;
		c.kex_algs = all_k;
		c.hostkey_algs = all_h;
		c.ciphers = all_c;
		c.macs = all_m;
		sshrpc_transport *t = NULL;
		if (sshrpc_transport_new(&c, &t, NULL) != SSHRPC_OK)
			return 1;
		int port, lfd = sshrpc_test_listen(&port);
		char kexopt[200], portbuf[16];
		snprintf(kexopt, sizeof kexopt, "KexAlgorithms=%s", kex[i]);
		const char *opts[] = { "-o", kexopt, "-o", "HostKeyAlgorithms=ssh-ed25519", NULL };
		static const char *const cmd[] = { "true", NULL };
		const char *sargv[64];
		sshrpc_test_ssh_argv(sargv, 64, portbuf, sizeof portbuf, port, opts, cmd);
		sshrpc_test_proc p;
		if (sshrpc_test_spawn(&p, sargv, NULL) != 0)
			return 1;
		int fd = sshrpc_test_accept(lfd, 10000);
		close(lfd);
		rec r = { 0 };
		if (fd < 0 || session(t, fd, &r) != 0) {
			fprintf(stderr, "server session %s failed: %s\n", kex[i], sshrpc_transport_error(t)->msg);
			return 1;
		}
		close(fd);
		sshrpc_test_proc_wait(&p, 5000);
		sshrpc_test_proc_cleanup(&p);
		seed s = { .len = 0 };
		uint8_t sel[2] = { (uint8_t)i, (uint8_t)h };
		seed_put(&s, sel, 2);
		payloads(&r, kex_record, &s);
		char name[160];
		snprintf(name, sizeof name, "ssh_%s", kex[i]);
		save("kex_server", name, s.buf, s.len);
		if (i == 0) {
			seed v = { .len = 0 };
			uint8_t ctl = (uint8_t)(1 | (31 << 1)); /* server role, 32-byte chunks */
			seed_put(&v, &ctl, 1);
			seed_put(&v, r.in, r.len < 4096 ? r.len : 4096);
			save("version", "ssh_hello", v.buf, v.len);
			seed k = { .len = 0 };
			payloads(&r, first_kexinit, &k);
			seed ks = { .len = 0 };
			uint8_t kctl = 9; /* server role, payload as is */
			seed_put(&ks, &kctl, 1);
			seed_put(&ks, k.buf, k.len);
			save("kexinit", "ssh_kexinit", ks.buf, ks.len);
		}
		free(r.in);
		sshrpc_transport_free(t);
	}
	for (size_t i = 0; i < nkeys; i++)
		sshrpc_key_free(keys[i]);

	/* hand-made version seeds: banner lines before the version, SSH-1.99 */
	static const char banner[] = "\x7e"
				     "Welcome to a test host\r\nsecond line\r\nSSH-1.99-OpenSSH_9.2\r\n";
	save("version", "banner_lines", (const uint8_t *)banner, sizeof banner - 1);
	static const char bad[] = "\x01"
				  "SSH-1.5-old\r\n";
	save("version", "ssh15", (const uint8_t *)bad, sizeof bad - 1);
	return 0;
}
