/* The receiving half of the binary packet protocol (RFC 4253 §6): each
 * packet is decrypted and checked in place in the input buffer and its
 * payload lent to the caller until the next call.
 *
 * The length field is read per mode: in clear (none, EtM, GCM), decrypted
 * with the header key (chacha20-poly1305), or from the first decrypted
 * block (CTR and CBC with a MAC over the plaintext). In that last mode a
 * peer that tampers with the first block learns something from how we
 * react to the decrypted length (Albrecht, Paterson, Watson 2009). So there
 * a bad length and a bad MAC get the same treatment: we keep swallowing
 * input up to a maximal packet, then fail with one message that does not say
 * which check failed (the detail goes to the local log only). */
#include <string.h>

#include "transport/internal.h"

void sshrpc_tr_input_compact(sshrpc_transport *t)
{
	if (t->in_start == 0 || t->rx_release != 0)
		return;
	size_t n = t->in_end - t->in_start;
	if (n > 0)
		memmove(t->in, t->in + t->in_start, n);
	t->in_start = 0;
	t->in_end = n;
}

static uint32_t min_length(const tr_crypt *c)
{
	/* §6: at least 16 bytes (or a cipher block) of packet, MAC aside. With
	 * the length outside the encrypted part (EtM, AEAD) the smallest legal
	 * packet is one block after the length. */
	if (c->etm || c->aead)
		return c->block;
	return (c->block > 16 ? c->block : 16) - 4;
}

static const char integrity_msg[] = "packet failed the integrity check (RFC 4253 §6.4)";

/* Non-EtM block modes: swallow up to a maximal packet from the start of
 * this one, then fail (see the top of this file). */
static int start_discard(sshrpc_transport *t, const char *why)
{
	sshrpc_tr_log(t, SSHRPC_LOG_DEBUG, "discarding input before failing: %s", why);
	size_t have = t->in_end - t->in_start;
	uint64_t target = (uint64_t)t->max_packet + 4 + t->rx.maclen;
	t->rx_discard = target > have ? target - have : 1;
	t->in_start = t->in_end;
	t->rx_len_known = false;
	t->rx_first_done = false;
	if (have >= target)
		return sshrpc_tr_fail(t, SSHRPC_E_MAC, SSH_DISCONNECT_MAC_ERROR, "%s", integrity_msg);
	return SSHRPC_E_AGAIN;
}

static int check_length(sshrpc_transport *t, uint32_t len)
{
	tr_crypt *c = &t->rx;
	bool aad = c->etm || c->aead;
	if (len > t->max_packet)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"packet length %lu exceeds maximum %lu (RFC 4253 §6.1)", (unsigned long)len,
			(unsigned long)t->max_packet);
	if (len < min_length(c))
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"packet length %lu is below the minimum of %lu (RFC 4253 §6)", (unsigned long)len,
			(unsigned long)min_length(c));
	if (((aad ? 0u : 4u) + len) % c->block != 0)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"packet length %lu is not a multiple of the cipher block size %lu%s (RFC 4253 §6)",
			(unsigned long)len, (unsigned long)c->block, aad ? "" : " with its length field");
	return SSHRPC_OK;
}

static int mac_failed(sshrpc_transport *t, uint32_t seqnr)
{
	return sshrpc_tr_fail(t, SSHRPC_E_MAC, SSH_DISCONNECT_MAC_ERROR,
		"MAC check failed on packet %lu (RFC 4253 §6.4)", (unsigned long)seqnr);
}

int sshrpc_tr_packet_next(sshrpc_transport *t, uint8_t **payload, size_t *plen)
{
	tr_crypt *c = &t->rx;
	size_t avail = t->in_end - t->in_start;
	uint8_t *p = t->in + t->in_start;
	int rc;

	if (t->rx_discard > 0) {
		size_t k = avail < t->rx_discard ? avail : (size_t)t->rx_discard;
		t->in_start += k;
		t->rx_discard -= k;
		if (t->rx_discard > 0)
			return SSHRPC_E_AGAIN;
		return sshrpc_tr_fail(t, SSHRPC_E_MAC, SSH_DISCONNECT_MAC_ERROR, "%s", integrity_msg);
	}

	bool block_mode = c->encrypted && !c->aead && !c->etm;
	if (!t->rx_len_known) {
		if (block_mode) {
			if (avail < c->block)
				return SSHRPC_E_AGAIN;
			if (!t->rx_first_done) {
				if ((rc = sshrpc_cipher_crypt(c->cipher, p, c->block)) != SSHRPC_OK)
					return sshrpc_tr_fail(
						t, rc, SSH_DISCONNECT_PROTOCOL_ERROR, "decryption failed");
				t->rx_first_done = true;
			}
			t->rx_len = sshrpc_load_be32(p);
		} else {
			if (avail < 4)
				return SSHRPC_E_AGAIN;
			if (c->aead) {
				if ((rc = sshrpc_cipher_aead_length(c->cipher, c->seqnr, p, &t->rx_len)) != SSHRPC_OK)
					return sshrpc_tr_fail(
						t, rc, SSH_DISCONNECT_PROTOCOL_ERROR, "cannot read the packet length");
			} else {
				t->rx_len = sshrpc_load_be32(p);
			}
		}
		if (block_mode) {
			bool bad = t->rx_len > t->max_packet || t->rx_len < min_length(c) ||
				   (4 + (uint64_t)t->rx_len) % c->block != 0;
			if (bad)
				return start_discard(t, "bad packet length");
		} else if ((rc = check_length(t, t->rx_len)) != SSHRPC_OK) {
			return rc;
		}
		t->rx_len_known = true;
	}

	uint32_t len = t->rx_len;
	size_t total = 4 + (size_t)len;
	size_t need = total + c->maclen;
	if (avail < need) {
		/* The whole packet must fit from in_start: make room now if the
		 * buffer tail is too short (nothing is lent out here). */
		if (t->in_cap - t->in_start < need)
			sshrpc_tr_input_compact(t);
		return SSHRPC_E_AGAIN;
	}
	uint32_t seqnr = c->seqnr;
	if (!c->encrypted) {
		/* before the first NEWKEYS: nothing to check */
	} else if (c->aead) {
		if (sshrpc_cipher_aead_open(c->cipher, seqnr, p, total, p + total) != SSHRPC_OK)
			return mac_failed(t, seqnr);
	} else if (c->etm) {
		/* OpenSSH PROTOCOL §1.5: MAC over length || ciphertext, checked
		 * before anything is decrypted. */
		if (c->mac != NULL && sshrpc_mac_verify(c->mac, seqnr, p, total, p + total) != SSHRPC_OK)
			return mac_failed(t, seqnr);
		if ((rc = sshrpc_cipher_crypt(c->cipher, p + 4, len)) != SSHRPC_OK)
			return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_PROTOCOL_ERROR, "decryption failed");
	} else {
		if (total > c->block &&
			(rc = sshrpc_cipher_crypt(c->cipher, p + c->block, total - c->block)) != SSHRPC_OK)
			return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_PROTOCOL_ERROR, "decryption failed");
		if (c->mac != NULL && sshrpc_mac_verify(c->mac, seqnr, p, total, p + total) != SSHRPC_OK)
			return start_discard(t, "bad MAC");
	}

	/* The packet is authentic (or nothing protects it yet): its fields
	 * can be judged now. */
	uint8_t padlen = p[4];
	if (padlen < 4)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"padding length %u is below the minimum of 4 (RFC 4253 §6)", (unsigned)padlen);
	if ((uint32_t)padlen + 1 > len)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"padding length %u does not fit in packet length %lu (RFC 4253 §6)", (unsigned)padlen,
			(unsigned long)len);
	size_t n = (size_t)len - 1 - padlen;
	c->seqnr++; /* wraps at 2^32 (RFC 4253 §6.4) */
	c->bytes += need;
	c->packets++;
	t->stats.packets_in++;
	t->stats.payload_in += n;
	t->last_seqnr = seqnr;
	t->rx_len_known = false;
	t->rx_first_done = false;
	t->rx_release = need;
	sshrpc_tr_trace_packet(t, false, seqnr, n > 0 ? p[5] : 0, n, padlen, c->maclen, need);
	if (n == 0)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"packet %lu has an empty payload: no message number (RFC 4253 §6)", (unsigned long)seqnr);
	*payload = p + 5;
	*plen = n;
	return SSHRPC_OK;
}
