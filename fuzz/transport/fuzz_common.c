#include <string.h>

#include "fuzz_common.h"

uint8_t fz_u8(fz_in *in)
{
	return in->off < in->len ? in->p[in->off++] : 0;
}

uint16_t fz_u16(fz_in *in)
{
	uint16_t hi = fz_u8(in);
	return (uint16_t)(hi << 8 | fz_u8(in));
}

size_t fz_take(fz_in *in, size_t n, const uint8_t **p)
{
	size_t left = in->len - in->off;
	if (n > left)
		n = left;
	*p = in->p + in->off;
	in->off += n;
	return n;
}

bool fz_drive(sshrpc_transport *t)
{
	sshrpc_msg_io io = sshrpc_transport_io(t);
	for (;;) {
		const uint8_t *m;
		size_t n, olen;
		int rc = io.recv(io.ctx, &m, &n);
		sshrpc_transport_output(t, &olen);
		sshrpc_transport_output_consume(t, olen);
		if (rc != SSHRPC_OK)
			return sshrpc_transport_get_state(t) != SSHRPC_TRANSPORT_CLOSED;
	}
}

void fz_feed(sshrpc_transport *t, const uint8_t *p, size_t n)
{
	while (n > 0) {
		size_t taken = 0;
		int rc = sshrpc_transport_feed(t, p, n, &taken);
		p += taken;
		n -= taken;
		if (!fz_drive(t) || (rc != SSHRPC_OK && rc != SSHRPC_E_WOULDBLOCK) ||
			(taken == 0 && n > 0 && rc != SSHRPC_E_WOULDBLOCK))
			return;
		if (taken == 0) {
			/* full and nothing consumed: the engine waits for a packet
			 * larger than its buffer can ever hold */
			size_t room;
			sshrpc_transport_input_buffer(t, &room);
			if (room == 0)
				return;
		}
	}
}

void fz_feed_packet(sshrpc_transport *t, const uint8_t *payload, size_t n)
{
	static uint8_t pkt[70000];
	if (n > sizeof pkt - 64)
		n = sizeof pkt - 64;
	size_t pad = 8 - ((5 + n) % 8);
	if (pad < 4)
		pad += 8;
	size_t len = 1 + n + pad;
	sshrpc_store_be32(pkt, (uint32_t)len);
	pkt[4] = (uint8_t)pad;
	if (n > 0)
		memcpy(pkt + 5, payload, n);
	memset(pkt + 5 + n, 0, pad);
	fz_feed(t, pkt, 4 + len);
}

size_t fz_kexinit(uint8_t *out, size_t cap, const char *kex, const char *hostkey, bool follows)
{
	sshrpc_buf b;
	char ciphers[512], macs[512];
	sshrpc_buf_init_fixed(&b, out, cap);
	static const uint8_t cookie[16] = { 0x5a };
	sshrpc_algs_all(SSHRPC_ALG_CIPHER, ciphers, sizeof ciphers);
	sshrpc_algs_all(SSHRPC_ALG_MAC, macs, sizeof macs);
	const char *lists[10] = { kex, hostkey, ciphers, ciphers, macs, macs, "none", "none", "", "" };
	if (sshrpc_buf_put_u8(&b, SSH_MSG_KEXINIT) != SSHRPC_OK || sshrpc_buf_put(&b, cookie, 16) != SSHRPC_OK)
		return 0;
	for (int i = 0; i < 10; i++)
		if (sshrpc_buf_put_cstring(&b, lists[i]) != SSHRPC_OK)
			return 0;
	if (sshrpc_buf_put_bool(&b, follows) != SSHRPC_OK || sshrpc_buf_put_u32(&b, 0) != SSHRPC_OK)
		return 0;
	return b.len;
}

sshrpc_key *const *fz_host_keys(size_t *n)
{
	static sshrpc_key *keys[5];
	static size_t count;
	static bool made;
	if (!made) {
		static const sshrpc_key_type types[] = { SSHRPC_KEY_ED25519, SSHRPC_KEY_RSA, SSHRPC_KEY_ECDSA_P256,
			SSHRPC_KEY_ECDSA_P384, SSHRPC_KEY_ECDSA_P521 };
		for (size_t i = 0; i < 5; i++)
			if (sshrpc_key_generate(NULL, types[i], 2048, &keys[count]) == SSHRPC_OK)
				count++;
		made = true;
	}
	*n = count;
	return keys;
}
