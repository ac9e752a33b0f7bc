/* The sending half of the binary packet protocol (RFC 4253 §6): packets are
 * built in place in the output buffer — header room first, the payload
 * appended by whoever writes it, then padding, MAC or tag — and encrypted
 * there, so all pending output stays one span for one write. Messages of the
 * layers above wait in order while a key exchange runs (§7.1). */
#include <string.h>

#include "transport/internal.h"

/* ---- keys ----------------------------------------------------------------------- */

void sshrpc_tr_crypt_free(tr_crypt *c)
{
	if (c->cipher != NULL)
		sshrpc_cipher_free(c->cipher);
	if (c->mac != NULL)
		sshrpc_mac_free(c->mac);
	c->cipher = NULL;
	c->mac = NULL;
}

/* RFC 4344 §3.2: rekey after 2^(L/4) blocks of an L-bit block cipher. For
 * 8-byte blocks (chacha20-poly1305 pads to 8) that bound is meaningless, so
 * like OpenSSH we use 1 GiB; everything is capped at 1 GiB. */
static uint64_t cipher_bound(const sshrpc_cipher_info *ci)
{
	const uint64_t gib = (uint64_t)1 << 30;
	if (ci->block_size >= 16) {
		unsigned shift = (unsigned)ci->block_size * 2u;
		uint64_t blocks = shift >= 63 ? UINT64_MAX : (uint64_t)1 << shift;
		if (blocks < gib / ci->block_size)
			return blocks * ci->block_size;
	}
	return gib;
}

int sshrpc_tr_crypt_install(sshrpc_transport *t, tr_crypt *c, const tr_dir_keys *k, sshrpc_direction dir)
{
	sshrpc_cipher *nc = NULL;
	sshrpc_mac *nm = NULL;
	bool aead = k->cipher->kind == SSHRPC_CIPHER_GCM || k->cipher->kind == SSHRPC_CIPHER_CHACHAPOLY;
	int rc = sshrpc_cipher_new(t->alloc, k->cipher, k->key, k->iv, dir, &nc);
	if (rc != SSHRPC_OK)
		return rc;
	if (!aead && k->mac != NULL) {
		rc = sshrpc_mac_new(t->alloc, k->mac, k->mackey, &nm);
		if (rc != SSHRPC_OK) {
			sshrpc_cipher_free(nc);
			return rc;
		}
	}
	sshrpc_tr_crypt_free(c);
	c->cipher = nc;
	c->mac = nm;
	c->cinfo = k->cipher;
	c->minfo = aead ? NULL : k->mac;
	c->aead = aead;
	c->etm = !aead && k->mac != NULL && k->mac->etm;
	c->encrypted = k->cipher->kind != SSHRPC_CIPHER_NONE;
	c->block = k->cipher->block_size < 8 ? 8 : k->cipher->block_size;
	c->maclen = aead ? k->cipher->tag_len : (k->mac != NULL ? k->mac->out_len : 0);
	c->bytes = 0;
	c->packets = 0;
	uint64_t bound = cipher_bound(k->cipher);
	if (t->rekey_bytes == SSHRPC_REKEY_NEVER)
		c->limit = UINT64_MAX;
	else if (t->rekey_bytes == 0 || t->rekey_bytes > bound)
		c->limit = bound;
	else
		c->limit = t->rekey_bytes;
	return SSHRPC_OK;
}

/* ---- framing ------------------------------------------------------------------------ */

int sshrpc_tr_seal(tr_crypt *c, uint8_t *pkt, size_t total)
{
	int rc = SSHRPC_OK;
	if (!c->encrypted)
		return SSHRPC_OK;
	uint8_t *mac = pkt + total;
	if (c->aead)
		return sshrpc_cipher_aead_seal(c->cipher, c->seqnr, pkt, total, mac);
	if (c->etm) {
		/* OpenSSH PROTOCOL §1.5: encrypt, then MAC length || ciphertext */
		rc = sshrpc_cipher_crypt(c->cipher, pkt + 4, total - 4);
		if (rc == SSHRPC_OK && c->mac != NULL)
			rc = sshrpc_mac_compute(c->mac, c->seqnr, pkt, total, mac);
		return rc;
	}
	/* RFC 4253 §6.4: MAC over the plaintext, then encrypt it all */
	if (c->mac != NULL)
		rc = sshrpc_mac_compute(c->mac, c->seqnr, pkt, total, mac);
	if (rc == SSHRPC_OK)
		rc = sshrpc_cipher_crypt(c->cipher, pkt, total);
	return rc;
}

int sshrpc_tr_send_begin(sshrpc_transport *t, uint8_t type, sshrpc_buf **w, size_t *mark)
{
	uint8_t *h;
	size_t m = t->out.len;
	int rc = sshrpc_buf_reserve(&t->out, 5, &h);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put_u8(&t->out, type);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, m);
		return rc;
	}
	*mark = m;
	*w = &t->out;
	return SSHRPC_OK;
}

/* Finishes the packet that starts at mark: padding, MAC or tag, and
 * encryption in place. */
int sshrpc_tr_send_end(sshrpc_transport *t, size_t mark)
{
	tr_crypt *c = &t->tx;
	size_t payload = t->out.len - mark - 5;
	if (payload > t->max_packet - 64) {
		sshrpc_buf_truncate(&t->out, mark);
		return SSHRPC_E_TOO_LARGE;
	}
	/* With EtM and AEAD modes the length stays outside the encrypted part,
	 * so the padding aligns what follows it (OpenSSH PROTOCOL §1.5, §1.6). */
	bool aad = c->etm || c->aead;
	size_t body = 1 + payload;
	size_t pad = c->block - ((aad ? body : 4 + body) % c->block);
	if (pad < 4)
		pad += c->block;
	uint8_t *tail;
	int rc = sshrpc_buf_reserve(&t->out, pad + c->maclen, &tail);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		return rc;
	}
	uint8_t *pkt = sshrpc_buf_ptr(&t->out) + mark;
	uint32_t plen = (uint32_t)(body + pad);
	size_t total = 4 + (size_t)plen;
	sshrpc_store_be32(pkt, plen);
	pkt[4] = (uint8_t)pad;
	uint8_t type = pkt[5];
	/* RFC 4253 §6: random padding, each pool byte used once. */
	if (t->pad_left < pad) {
		rc = sshrpc_random(t->pad_pool, sizeof t->pad_pool);
		t->pad_left = rc == SSHRPC_OK ? sizeof t->pad_pool : 0;
	}
	if (t->pad_left >= pad) {
		memcpy(pkt + 5 + payload, t->pad_pool + sizeof t->pad_pool - t->pad_left, pad);
		t->pad_left -= pad;
		rc = SSHRPC_OK;
	}
	if (rc == SSHRPC_OK)
		rc = sshrpc_tr_seal(c, pkt, total);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		return rc;
	}
	size_t wire = total + c->maclen;
	sshrpc_tr_trace_packet(t, true, c->seqnr, type, payload, pad, c->maclen, wire);
	c->seqnr++; /* wraps at 2^32 (RFC 4253 §6.4) */
	c->bytes += wire;
	c->packets++;
	t->stats.packets_out++;
	t->stats.bytes_out += wire;
	t->stats.payload_out += payload;
	t->out_done = t->out.len;
	return SSHRPC_OK;
}

int sshrpc_tr_send_payload(sshrpc_transport *t, const uint8_t *payload, size_t len)
{
	sshrpc_buf *w;
	size_t mark;
	if (len == 0)
		return SSHRPC_E_INVALID;
	int rc = sshrpc_tr_send_begin(t, payload[0], &w, &mark);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put(w, payload + 1, len - 1);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		return rc;
	}
	return sshrpc_tr_send_end(t, mark);
}

/* ---- the upper layers' messages ------------------------------------------------------- */

int sshrpc_tr_io_begin(void *ctx, uint8_t type, sshrpc_buf **w)
{
	sshrpc_transport *t = ctx;
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return t->err.code != 0 ? t->err.code : SSHRPC_E_CLOSED;
	if (t->open)
		return SSHRPC_E_STATE;
	int rc;
	/* RFC 4253 §7.1: from our KEXINIT until our NEWKEYS only transport
	 * messages go out; the rest waits, in order. */
	if (t->kex_active && !t->kex.newkeys_sent) {
		if (t->pending.len >= t->pending_limit)
			return SSHRPC_E_WOULDBLOCK;
		size_t m = t->pending.len;
		if ((rc = sshrpc_buf_put_u32(&t->pending, 0)) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_u8(&t->pending, type)) != SSHRPC_OK) {
			sshrpc_buf_truncate(&t->pending, m);
			return rc;
		}
		t->open_mark = m;
		t->open_pending = true;
		*w = &t->pending;
	} else {
		if (t->out_done >= t->output_limit)
			return SSHRPC_E_WOULDBLOCK;
		size_t m;
		if ((rc = sshrpc_tr_send_begin(t, type, w, &m)) != SSHRPC_OK)
			return rc;
		t->open_mark = m;
		t->open_pending = false;
	}
	t->open = true;
	t->open_type = type;
	return SSHRPC_OK;
}

int sshrpc_tr_io_end(void *ctx)
{
	sshrpc_transport *t = ctx;
	if (!t->open)
		return SSHRPC_E_STATE;
	t->open = false;
	if (t->state == SSHRPC_TRANSPORT_CLOSED)
		return t->err.code != 0 ? t->err.code : SSHRPC_E_CLOSED;
	sshrpc_buf *b = t->open_pending ? &t->pending : &t->out;
	size_t hdr = t->open_pending ? 5 : 6;
	int rc;
	/* begin(UNIMPLEMENTED) + end(): the sequence number of the message
	 * recv returned last (RFC 4253 §11.4). */
	if (t->open_type == SSH_MSG_UNIMPLEMENTED && b->len == t->open_mark + hdr &&
		(rc = sshrpc_buf_put_u32(b, t->last_seqnr)) != SSHRPC_OK) {
		sshrpc_buf_truncate(b, t->open_mark);
		return rc;
	}
	if (t->open_pending) {
		size_t n = t->pending.len - t->open_mark - 4;
		if (n > t->max_packet - 64) {
			sshrpc_buf_truncate(&t->pending, t->open_mark);
			return SSHRPC_E_TOO_LARGE;
		}
		sshrpc_store_be32(sshrpc_buf_ptr(&t->pending) + t->open_mark, (uint32_t)n);
		return SSHRPC_OK;
	}
	rc = sshrpc_tr_send_end(t, t->open_mark);
	if (rc != SSHRPC_OK)
		return rc;
	return sshrpc_tr_maybe_rekey(t);
}

int sshrpc_tr_flush_pending(sshrpc_transport *t)
{
	sshrpc_reader r;
	sshrpc_buf_reader(&t->pending, &r);
	while (sshrpc_rd_left(&r) > 0) {
		const uint8_t *p;
		size_t n;
		int rc = sshrpc_rd_string(&r, &p, &n);
		if (rc == SSHRPC_OK)
			rc = sshrpc_tr_send_payload(t, p, n);
		if (rc != SSHRPC_OK)
			return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_BY_APPLICATION,
				"cannot send the messages queued during key exchange: %s", sshrpc_strerror(rc));
	}
	sshrpc_buf_reset(&t->pending);
	return SSHRPC_OK;
}
