#include <criterion/criterion.h>
#include <string.h>

#include "raw.h"

size_t raw_packet_fields(uint8_t *out, size_t cap, uint32_t len, uint8_t padlen, const uint8_t *body, size_t n)
{
	cr_assert(cap >= 5 + n);
	sshrpc_store_be32(out, len);
	out[4] = padlen;
	if (n > 0)
		memcpy(out + 5, body, n);
	return 5 + n;
}

size_t raw_packet(uint8_t *out, size_t cap, const uint8_t *payload, size_t n)
{
	size_t pad = 8 - ((4 + 1 + n) % 8);
	if (pad < 4)
		pad += 8;
	size_t len = 1 + n + pad;
	cr_assert(cap >= 4 + len);
	sshrpc_store_be32(out, (uint32_t)len);
	out[4] = (uint8_t)pad;
	memcpy(out + 5, payload, n);
	memset(out + 5 + n, 0, pad);
	return 4 + len;
}

size_t raw_kexinit(uint8_t *out, size_t cap, const char *kex, const char *hostkey, const char *cipher, const char *mac,
	bool follows)
{
	sshrpc_buf b;
	sshrpc_buf_init_fixed(&b, out, cap);
	static const uint8_t cookie[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	const char *lists[10] = { kex ? kex : "curve25519-sha256,kex-strict-c-v00@openssh.com",
		hostkey ? hostkey : "ssh-ed25519", cipher ? cipher : "aes128-ctr", cipher ? cipher : "aes128-ctr",
		mac ? mac : "hmac-sha2-256", mac ? mac : "hmac-sha2-256", "none", "none", "", "" };
	cr_assert_eq(sshrpc_buf_put_u8(&b, SSH_MSG_KEXINIT), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put(&b, cookie, 16), SSHRPC_OK);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(sshrpc_buf_put_cstring(&b, lists[i]), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_bool(&b, follows), SSHRPC_OK);
	cr_assert_eq(sshrpc_buf_put_u32(&b, 0), SSHRPC_OK);
	return b.len;
}

void raw_feed(sshrpc_transport *t, const void *p, size_t n)
{
	size_t taken = 0;
	int rc = sshrpc_transport_feed(t, p, n, &taken);
	cr_assert(rc == SSHRPC_OK && taken == n, "feed: rc %d, %zu of %zu taken", rc, taken, n);
}

int raw_recv_all(sshrpc_transport *t)
{
	sshrpc_msg_io io = sshrpc_transport_io(t);
	for (;;) {
		const uint8_t *m;
		size_t n;
		int rc = io.recv(io.ctx, &m, &n);
		if (rc != SSHRPC_OK)
			return rc;
	}
}

size_t raw_parse_output(sshrpc_transport *t, bool skip_version, raw_packet_fn fn, void *ud)
{
	size_t len, count = 0;
	const uint8_t *o = sshrpc_transport_output(t, &len);
	size_t pos = 0;
	if (skip_version) {
		const uint8_t *lf = len > 0 ? memchr(o, '\n', len) : NULL;
		cr_assert_not_null(lf, "no version line in the output");
		pos = (size_t)(lf - o) + 1;
	}
	while (pos + 5 <= len) {
		uint32_t plen = sshrpc_load_be32(o + pos);
		uint8_t pad = o[pos + 4];
		cr_assert(pos + 4 + plen <= len && pad + 1u <= plen, "bad packet in output");
		fn(ud, o + pos + 5, plen - 1 - pad);
		pos += 4 + plen;
		count++;
	}
	sshrpc_transport_output_consume(t, pos);
	return count;
}

static void find_disc(void *ud, const uint8_t *p, size_t n)
{
	uint32_t *reason = ud;
	if (n >= 5 && p[0] == SSH_MSG_DISCONNECT)
		*reason = sshrpc_load_be32(p + 1);
}

uint32_t raw_find_disconnect(sshrpc_transport *t, bool skip_version)
{
	uint32_t reason = 0;
	raw_parse_output(t, skip_version, find_disc, &reason);
	return reason;
}
