/* The key exchange methods' messages after KEXINIT: with SERVER defined,
 * the server's parser of the client's INIT (and GEX REQUEST, GEX INIT);
 * otherwise the client's parser of the server's REPLY (and GEX GROUP).
 * Input: byte 0 picks the kex method, byte 1 the host key algorithm
 * (indexes into everything built); then records [u16 len][payload] fed as
 * plaintext packets after both KEXINITs (payloads start with their
 * message number). */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"
#include "fuzz_common.h"

static size_t nth(const char *list, size_t i, char *out, size_t cap)
{
	size_t count = 0;
	const char *p = list;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t l = e != NULL ? (size_t)(e - p) : strlen(p);
		if (count == i) {
			if (l >= cap)
				l = cap - 1;
			memcpy(out, p, l);
			out[l] = '\0';
			return l;
		}
		count++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static size_t count(const char *list)
{
	size_t n = 1;
	for (const char *p = list; *p; p++)
		n += *p == ',';
	return n;
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	fz_in in = { data, len, 0 };
	char all_kex[1024], all_hk[1024], kex[128], hk[128], kexl[200];
	sshrpc_algs_all(SSHRPC_ALG_KEX, all_kex, sizeof all_kex);
	sshrpc_algs_all(SSHRPC_ALG_HOSTKEY, all_hk, sizeof all_hk);
	nth(all_kex, fz_u8(&in) % count(all_kex), kex, sizeof kex);
	nth(all_hk, fz_u8(&in) % count(all_hk), hk, sizeof hk);
	sshrpc_transport_config c = { 0 };
	size_t nk;
#ifdef SERVER
	c.role = SSHRPC_ROLE_SERVER;
	c.host_keys = fz_host_keys(&nk);
	c.n_host_keys = nk;
	snprintf(kexl, sizeof kexl, "%s,ext-info-c,kex-strict-c-v00@openssh.com", kex);
#else
	c.role = SSHRPC_ROLE_CLIENT;
	c.hostkey_check = sshrpc_transport_hostkey_accept_any;
	/* keeps a fuzzed group's modular exponentiation affordable */
	c.gex_max_bits = 3072;
	snprintf(kexl, sizeof kexl, "%s,ext-info-s,kex-strict-s-v00@openssh.com", kex);
	(void)nk;
#endif
	c.kex_algs = kex;
	c.hostkey_algs = hk;
	c.ciphers = "aes128-ctr";
	c.macs = "hmac-sha2-256";
	c.max_packet = 35000;
	sshrpc_transport *t = NULL;
	if (sshrpc_transport_new(&c, &t, NULL) != SSHRPC_OK)
		return 0;
	static const char ver[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";
	fz_feed(t, (const uint8_t *)ver, sizeof ver - 1);
	uint8_t ki[2048];
	size_t kn = fz_kexinit(ki, sizeof ki, kexl, hk, false);
	fz_feed_packet(t, ki, kn);
	while (in.off < in.len && sshrpc_transport_get_state(t) != SSHRPC_TRANSPORT_CLOSED) {
		const uint8_t *p;
		size_t n = fz_take(&in, fz_u16(&in), &p);
		fz_feed_packet(t, p, n);
	}
	sshrpc_transport_free(t);
	return 0;
}
