/* The four packet protection families the packet_open harness and its
 * corpus generator share: fixed keys, a receiving and a sending side, and
 * the seal that transport performs (RFC 4253 §6, OpenSSH PROTOCOL §1.5,
 * RFC 5647 §7, PROTOCOL.chacha20poly1305). Header-only: two programs use it. */
#ifndef SSHRPC_FUZZ_PACKET_FAMILIES_H
#define SSHRPC_FUZZ_PACKET_FAMILIES_H

#include <string.h>

#include "sshrpc_config.h"
#include "sshrpc/crypto.h"

enum { FAM_CTR_HMAC, FAM_CBC_ETM, FAM_GCM, FAM_CHACHAPOLY, FAM_COUNT };

/* Largest packet_length accepted (architecture.md, "Data path"). */
#define FAM_MAX_PACKET (256u * 1024u)

static const struct {
	const char *cipher, *mac;
} fam_names[FAM_COUNT] = {
	{ "aes128-ctr", "hmac-sha2-256" },
#if SSHRPC_WITH_CBC
	{ "aes128-cbc", "hmac-sha2-256-etm@openssh.com" },
#else
	{ "aes256-ctr", "hmac-sha2-256-etm@openssh.com" }, /* CBC left out of this build */
#endif
	{ "aes256-gcm@openssh.com", NULL },
	{ "chacha20-poly1305@openssh.com", NULL },
};

/* One direction of a connection, as transport holds it after NEWKEYS. */
typedef struct fam_end {
	const sshrpc_cipher_info *ci;
	const sshrpc_mac_info *mi; /* NULL for AEAD */
	sshrpc_cipher *cipher;
	sshrpc_mac *mac;
	size_t tag_len; /* MAC or AEAD tag after the packet */
} fam_end;

static inline void fam_end_free(fam_end *e)
{
	sshrpc_cipher_free(e->cipher);
	sshrpc_mac_free(e->mac);
	memset(e, 0, sizeof *e);
}

static inline int fam_end_open(fam_end *e, int fam, sshrpc_direction dir)
{
	uint8_t key[64], iv[16], mkey[64];
	memset(e, 0, sizeof *e);
	for (int i = 0; i < 64; i++) {
		key[i] = (uint8_t)(0xa0 + i * 3 + fam);
		mkey[i] = (uint8_t)(0x11 * i + fam);
	}
	for (int i = 0; i < 16; i++)
		iv[i] = (uint8_t)(0x40 + i + fam);
	e->ci = sshrpc_cipher_lookup(fam_names[fam].cipher, strlen(fam_names[fam].cipher));
	if (fam_names[fam].mac != NULL)
		e->mi = sshrpc_mac_lookup(fam_names[fam].mac, strlen(fam_names[fam].mac));
	if (e->ci == NULL || (fam_names[fam].mac != NULL && e->mi == NULL))
		return -1;
	if (sshrpc_cipher_new(NULL, e->ci, key, iv, dir, &e->cipher) != SSHRPC_OK)
		return -1;
	if (e->mi != NULL && sshrpc_mac_new(NULL, e->mi, mkey, &e->mac) != SSHRPC_OK) {
		fam_end_free(e);
		return -1;
	}
	e->tag_len = e->mi != NULL ? e->mi->out_len : e->ci->tag_len;
	return 0;
}

/* Seals a plaintext packet (length in the clear at pkt[0..4)) in place and
 * writes the MAC or tag after it, at pkt + total. */
static inline int fam_seal(fam_end *e, uint32_t seqnr, uint8_t *pkt, size_t total)
{
	uint8_t *tag = pkt + total;
	if (e->mi == NULL)
		return sshrpc_cipher_aead_seal(e->cipher, seqnr, pkt, total, tag);
	if (e->mi->etm) {
		int rc = sshrpc_cipher_crypt(e->cipher, pkt + 4, total - 4);
		return rc != SSHRPC_OK ? rc : sshrpc_mac_compute(e->mac, seqnr, pkt, total, tag);
	}
	int rc = sshrpc_mac_compute(e->mac, seqnr, pkt, total, tag);
	return rc != SSHRPC_OK ? rc : sshrpc_cipher_crypt(e->cipher, pkt, total);
}

static inline uint32_t fam_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
