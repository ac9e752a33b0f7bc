/* The packet decoder after NEWKEYS with fixed keys, for each cipher family
 * (CTR + HMAC, CBC + EtM, AES-GCM, chacha20-poly1305), and the dispatch of
 * what it decodes. A second engine with the same keys seals what the input
 * asks for, so the fuzzer gets past the MAC.
 * Input: byte 0: family (low 2 bits), bit 2 role (1 server), bit 3 strict;
 * then records [u8 op][u16 len][len bytes]:
 *   op % 4 == 0: raw bytes for the receiver
 *   op % 4 == 1: a payload, framed and sealed properly
 *   op % 4 == 2: [u32 packet_length][u8 padding_length][body]: sealed as is
 *   op % 4 == 3: skip the sender's sequence number ahead by len */
#include <string.h>

#include "fuzz.h"
#include "fuzz_common.h"
#include "transport/internal.h"

static const struct {
	const char *cipher, *mac;
} families[4] = {
	{ "aes128-ctr", "hmac-sha2-256" },
	{ "aes128-cbc", "hmac-sha2-256-etm@openssh.com" },
	{ "aes256-gcm@openssh.com", NULL },
	{ "chacha20-poly1305@openssh.com", NULL },
};

/* Both ends of one direction, keyed alike, as after NEWKEYS. */
static bool keyed(sshrpc_transport *t, bool rx, const tr_dir_keys *k, bool strict)
{
	size_t olen;
	sshrpc_transport_output(t, &olen);
	sshrpc_transport_output_consume(t, olen);
	sshrpc_tr_kex_reset(t);
	t->kex_active = false;
	t->first_kex_done = true;
	t->strict = strict;
	t->state = SSHRPC_TRANSPORT_ESTABLISHED;
	tr_crypt *c = rx ? &t->rx : &t->tx;
	c->seqnr = 0;
	return sshrpc_tr_crypt_install(t, c, k, rx ? SSHRPC_DECRYPT : SSHRPC_ENCRYPT) == SSHRPC_OK;
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	fz_in in = { data, len, 0 };
	uint8_t ctl = fz_u8(&in);
	tr_dir_keys k;
	memset(&k, 0, sizeof k);
	k.cipher = sshrpc_cipher_lookup(families[ctl & 3].cipher, strlen(families[ctl & 3].cipher));
	if (k.cipher == NULL)
		k.cipher = sshrpc_cipher_lookup("aes256-ctr", 10); /* a build without CBC */
	if (families[ctl & 3].mac != NULL)
		k.mac = sshrpc_mac_lookup(families[ctl & 3].mac, strlen(families[ctl & 3].mac));
	for (size_t i = 0; i < sizeof k.key; i++)
		k.key[i] = (uint8_t)(i * 3 + 1);
	for (size_t i = 0; i < sizeof k.iv; i++)
		k.iv[i] = (uint8_t)(i * 5 + 2);
	for (size_t i = 0; i < sizeof k.mackey; i++)
		k.mackey[i] = (uint8_t)(i * 7 + 3);

	sshrpc_transport_config rc = { 0 }, sc = { 0 };
	size_t nk;
	rc.role = (ctl & 4) ? SSHRPC_ROLE_SERVER : SSHRPC_ROLE_CLIENT;
	rc.host_keys = fz_host_keys(&nk);
	rc.n_host_keys = 1;
	rc.max_packet = 35000;
	sc.max_packet = 35000;
	sshrpc_transport *r = NULL, *s = NULL;
	if (sshrpc_transport_new(&rc, &r, NULL) != SSHRPC_OK || sshrpc_transport_new(&sc, &s, NULL) != SSHRPC_OK ||
		!keyed(r, true, &k, (ctl & 8) != 0) || !keyed(s, false, &k, false))
		goto out;

	static uint8_t buf[70000];
	while (in.off < in.len && sshrpc_transport_get_state(r) != SSHRPC_TRANSPORT_CLOSED) {
		uint8_t op = fz_u8(&in);
		uint16_t n16 = fz_u16(&in);
		const uint8_t *p;
		size_t n = fz_take(&in, n16, &p);
		size_t olen;
		const uint8_t *o;
		switch (op % 4) {
		case 0:
			fz_feed(r, p, n);
			break;
		case 1:
			if (n > 0 && sshrpc_tr_send_payload(s, p, n) == SSHRPC_OK) {
				o = sshrpc_transport_output(s, &olen);
				fz_feed(r, o, olen);
				sshrpc_transport_output_consume(s, olen);
			}
			break;
		case 2: {
			if (n < 5)
				break;
			/* Whatever the fields say, seal a whole number of blocks. */
			tr_crypt *c = &s->tx;
			bool aad = c->etm || c->aead;
			size_t total = 4 + (n - 4);
			size_t body = aad ? total - 4 : total;
			size_t pad = (c->block - body % c->block) % c->block;
			if (total + pad + c->maclen > sizeof buf)
				break;
			memcpy(buf, p, n);
			memset(buf + n, 0, pad);
			if (sshrpc_tr_seal(c, buf, total + pad) == SSHRPC_OK) {
				c->seqnr++;
				fz_feed(r, buf, total + pad + c->maclen);
			}
			break;
		}
		default:
			s->tx.seqnr += n16;
			break;
		}
		fz_drive(r);
	}
	sshrpc_transport_input_eof(r);
	fz_drive(r);
out:
	sshrpc_transport_free(r);
	sshrpc_transport_free(s);
	return 0;
}
