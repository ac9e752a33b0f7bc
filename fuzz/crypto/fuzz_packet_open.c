/* Received packets through crypto/: the input is what a peer sent, run
 * through length, decrypt and verify the way transport will (RFC 4253 §6,
 * OpenSSH PROTOCOL §1.5, RFC 5647 §7, PROTOCOL.chacha20poly1305), for one
 * of four families with fixed keys.
 *
 *   byte 0      family: 0 aes128-ctr + hmac-sha2-256, 1 aes128-cbc +
 *               hmac-sha2-256-etm, 2 aes256-gcm, 3 chacha20-poly1305 (mod 4)
 *   bytes 1..4  sequence number of the first packet (big-endian)
 *   the rest    packets back to back, each followed by its MAC or tag
 *
 * Packets are taken until one fails a check. Beyond "no crash, no leak",
 * the harness checks two things: a packet that fails authentication is
 * left exactly as received, and one that passes re-seals, through a
 * sending side fed the same packets, to exactly the bytes received. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "packet_families.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

/* One packet at p (n bytes left): returns the bytes it took, 0 to stop. */
static size_t open_one(fam_end *rx, fam_end *tx, uint32_t seqnr, uint8_t *p, size_t n)
{
	const sshrpc_cipher_info *ci = rx->ci;
	size_t block = ci->block_size, tl = rx->tag_len;
	bool etm = rx->mi != NULL && rx->mi->etm;
	uint32_t plen;
	uint8_t saved[16]; /* the first block as received */

	if (block == 0 || block > sizeof saved || n < 4 + tl || n < block)
		return 0;
	memcpy(saved, p, block);
	if (rx->mi == NULL) {
		check(sshrpc_cipher_aead_length(rx->cipher, seqnr, p, &plen) == SSHRPC_OK);
		check(memcmp(saved, p, 4) == 0);
	} else if (etm) {
		plen = fam_be32(p);
	} else {
		/* The first block is decrypted alone to learn the length; the
		 * cipher state carries over to the rest (RFC 4253 §6.3). */
		check(sshrpc_cipher_crypt(rx->cipher, p, block) == SSHRPC_OK);
		plen = fam_be32(p);
	}
	/* Length rules: what is encrypted is whole blocks (RFC 4253 §6), at
	 * least one; within the limit; and all of it has arrived. */
	size_t enc_len = (rx->mi == NULL || etm) ? plen : (size_t)plen + 4;
	if (plen > FAM_MAX_PACKET || enc_len < block || enc_len % block != 0)
		return 0;
	size_t total = (size_t)plen + 4;
	if (total + tl > n)
		return 0;

	uint8_t *received = malloc(total + tl);
	check(received != NULL);
	memcpy(received, p, total + tl);
	memcpy(received, saved, block);

	int rc;
	if (rx->mi == NULL) {
		rc = sshrpc_cipher_aead_open(rx->cipher, seqnr, p, total, p + total);
	} else if (etm) {
		rc = sshrpc_mac_verify(rx->mac, seqnr, p, total, p + total);
		if (rc == SSHRPC_OK)
			check(sshrpc_cipher_crypt(rx->cipher, p + 4, total - 4) == SSHRPC_OK);
	} else {
		check(sshrpc_cipher_crypt(rx->cipher, p + block, total - block) == SSHRPC_OK);
		rc = sshrpc_mac_verify(rx->mac, seqnr, p, total, p + total);
	}
	size_t took = 0;
	if (rc != SSHRPC_OK) {
		check(rc == SSHRPC_E_MAC);
		/* Authenticated encryption gives nothing back on failure. */
		if (rx->mi == NULL || etm)
			check(memcmp(p, received, total + tl) == 0);
		goto out;
	}
	/* RFC 4253 §6: padding_length >= 4, and it leaves room for itself. */
	uint8_t pad = p[4];
	if (total < 5 || pad < 4 || (size_t)pad + 1 > plen)
		goto out;
	/* The sender, fed the same plaintext, produces the same bytes. */
	uint8_t *again = malloc(total + tl);
	check(again != NULL);
	memcpy(again, p, total);
	if (rx->mi == NULL && ci->kind == SSHRPC_CIPHER_CHACHAPOLY) {
		again[0] = (uint8_t)(plen >> 24);
		again[1] = (uint8_t)(plen >> 16);
		again[2] = (uint8_t)(plen >> 8);
		again[3] = (uint8_t)plen;
	}
	check(fam_seal(tx, seqnr, again, total) == SSHRPC_OK);
	check(memcmp(again, received, total + tl) == 0);
	free(again);
	took = total + tl;
out:
	free(received);
	return took;
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 5)
		return 0;
	int fam = data[0] % FAM_COUNT;
	uint32_t seqnr = fam_be32(data + 1);
	size_t n = len - 5;
	uint8_t *buf = malloc(n > 0 ? n : 1);
	check(buf != NULL);
	memcpy(buf, data + 5, n);

	fam_end rx, tx;
	check(fam_end_open(&rx, fam, SSHRPC_DECRYPT) == 0);
	check(fam_end_open(&tx, fam, SSHRPC_ENCRYPT) == 0);
	size_t off = 0, took;
	while ((took = open_one(&rx, &tx, seqnr, buf + off, n - off)) > 0) {
		off += took;
		seqnr++; /* wraps modulo 2^32 (RFC 4253 §6.4) */
	}
	fam_end_free(&rx);
	fam_end_free(&tx);
	free(buf);
	return 0;
}
