/* KEXINIT parsing and algorithm negotiation (RFC 4253 §7.1, strict kex and
 * ext-info markers). Input: byte 0: bit 0 role (1 server), bit 1 strict kex
 * off, bit 2 ext-info off, bit 3 message follows as is (else 20 is put in
 * front); then the peer's KEXINIT payload; anything after a 0xff 0xff 0xff
 * separator is fed as further plaintext packets ([u16 len][payload]...). */
#include <string.h>

#include "fuzz.h"
#include "fuzz_common.h"

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	fz_in in = { data, len, 0 };
	uint8_t ctl = fz_u8(&in);
	sshrpc_transport_config c = { 0 };
	size_t nk;
	c.role = (ctl & 1) ? SSHRPC_ROLE_SERVER : SSHRPC_ROLE_CLIENT;
	c.no_strict_kex = (ctl & 2) != 0;
	c.no_ext_info = (ctl & 4) != 0;
	c.hostkey_check = sshrpc_transport_hostkey_accept_any;
	c.host_keys = fz_host_keys(&nk);
	c.n_host_keys = nk;
	c.max_packet = 35000;
	/* legacy algorithms too: more of the negotiation is reachable */
	char k[1024], h[1024], ci[1024], m[1024];
	c.kex_algs = sshrpc_algs_all(SSHRPC_ALG_KEX, k, sizeof k);
	c.hostkey_algs = sshrpc_algs_all(SSHRPC_ALG_HOSTKEY, h, sizeof h);
	c.ciphers = sshrpc_algs_all(SSHRPC_ALG_CIPHER, ci, sizeof ci);
	c.macs = sshrpc_algs_all(SSHRPC_ALG_MAC, m, sizeof m);
	sshrpc_transport *t = NULL;
	if (sshrpc_transport_new(&c, &t, NULL) != SSHRPC_OK)
		return 0;
	static const char ver[] = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n";
	fz_feed(t, (const uint8_t *)ver, sizeof ver - 1);
	const uint8_t *rest = in.p + in.off;
	size_t rlen = in.len - in.off, klen = rlen;
	for (size_t i = 0; i + 3 <= rlen; i++)
		if (rest[i] == 0xff && rest[i + 1] == 0xff && rest[i + 2] == 0xff) {
			klen = i;
			break;
		}
	static uint8_t payload[40000];
	size_t pl = 0;
	if (!(ctl & 8))
		payload[pl++] = SSH_MSG_KEXINIT;
	if (klen > sizeof payload - 1)
		klen = sizeof payload - 1;
	memcpy(payload + pl, rest, klen);
	pl += klen;
	if (pl > 0)
		fz_feed_packet(t, payload, pl);
	if (klen + 3 <= rlen) {
		fz_in more = { rest + klen + 3, rlen - klen - 3, 0 };
		while (more.off < more.len && sshrpc_transport_get_state(t) != SSHRPC_TRANSPORT_CLOSED) {
			const uint8_t *p;
			size_t n = fz_take(&more, fz_u16(&more), &p);
			fz_feed_packet(t, p, n);
		}
	}
	sshrpc_transport_free(t);
	return 0;
}
