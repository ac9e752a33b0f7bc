/* The key exchange driver: starting a (re-)exchange, the method messages of
 * ECDH (RFC 5656 §4, RFC 8731) and fixed-group DH (RFC 4253 §8, RFC 8268),
 * the exchange hash, key derivation (RFC 4253 §7.2) and NEWKEYS (§7.3).
 * Group exchange's extra round trip lives in kex_gex.c; its INIT and REPLY
 * are the DH ones with the group in the hash. */
#include <string.h>

#include "sshrpc_config.h"
#include "transport/internal.h"

static const uint8_t dh_generator[1] = { 2 };

void sshrpc_tr_kex_reset(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	if (k->eph != NULL)
		sshrpc_kex_key_free(k->eph);
	k->eph = NULL;
	sshrpc_wipe(k->keys, sizeof k->keys);
	sshrpc_wipe(k->h, sizeof k->h);
	sshrpc_wipe(k->pub, sizeof k->pub);
	k->step = TKX_IDLE;
	k->sent_kexinit = k->got_kexinit = k->ignore_guess = k->newkeys_sent = false;
	k->method = NULL;
	k->hostkey_alg = NULL;
	k->hostkey = NULL;
	k->pub_len = 0;
	k->hlen = 0;
	k->gex_old = false;
	k->gex_glen = 0;
	sshrpc_buf_reset(&k->gex_p);
}

int sshrpc_tr_kex_start(sshrpc_transport *t)
{
	if (t->kex_active)
		return SSHRPC_OK;
	sshrpc_tr_kex_reset(t);
	t->kex_active = true;
	t->kex.initial = !t->first_kex_done;
	t->kex.step = TKX_KEXINIT;
	t->kex.t0_ns = sshrpc_tr_clock(t);
	if (!t->kex.initial)
		sshrpc_tr_log(t, SSHRPC_LOG_VERBOSE, "starting key re-exchange");
	return sshrpc_tr_kexinit_send(t);
}

static bool client_role(const sshrpc_transport *t)
{
	return t->role == SSHRPC_ROLE_CLIENT;
}

static int kex_failed(sshrpc_transport *t, int rc, const char *what)
{
	return sshrpc_tr_fail(t, rc < 0 ? rc : SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED, "%s: %s", what,
		sshrpc_strerror(rc));
}

/* The group of the DH method: fixed (RFC 4253 §8, RFC 8268) or the one
 * group exchange agreed on. */
static int dh_group(sshrpc_transport *t, const uint8_t **p, size_t *plen, const uint8_t **g, size_t *glen)
{
	tr_kex *k = &t->kex;
	if (k->method->type == TR_KEX_GEX) {
		*p = sshrpc_buf_ptr(&k->gex_p);
		*plen = sshrpc_buf_len(&k->gex_p);
		*g = k->gex_g;
		*glen = k->gex_glen;
		return SSHRPC_OK;
	}
	*p = sshrpc_dh_modp_prime(k->method->modp, plen);
	*g = dh_generator;
	*glen = 1;
	if (*p == NULL)
		return sshrpc_tr_fail(t, SSHRPC_E_UNSUPPORTED, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"MODP group %d is not built", k->method->modp);
	return SSHRPC_OK;
}

static int keygen(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	const uint8_t *p = NULL, *g = NULL;
	size_t plen = 0, glen = 0;
	int rc;
	if (k->method->type != TR_KEX_ECDH && (rc = dh_group(t, &p, &plen, &g, &glen)) != SSHRPC_OK)
		return rc;
	uint64_t t0 = sshrpc_tr_clock(t);
	rc = sshrpc_kex_keygen(
		t->alloc, k->method->group, p, plen, g, glen, &k->eph, k->pub, sizeof k->pub, &k->pub_len);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "ephemeral key generation failed");
	sshrpc_tr_trace_kex(t, "keygen", sshrpc_tr_clock(t) - t0);
	return SSHRPC_OK;
}

/* Public values: strings for ECDH, mpints for DH. */
static int put_public(sshrpc_buf *b, const tr_kex_method *m, const uint8_t *v, size_t n)
{
	return m->type == TR_KEX_ECDH ? sshrpc_buf_put_string(b, v, n) : sshrpc_buf_put_mpint_unsigned(b, v, n);
}

static int read_public(sshrpc_reader *r, const tr_kex_method *m, const uint8_t **v, size_t *n)
{
	return m->type == TR_KEX_ECDH ? sshrpc_rd_string(r, v, n) : sshrpc_rd_mpint_unsigned(r, v, n);
}

#if SSHRPC_WITH_CLIENT
int sshrpc_tr_kex_client_init(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	sshrpc_buf *w;
	size_t mark;
	int rc = keygen(t);
	if (rc != SSHRPC_OK)
		return rc;
	uint8_t type = k->method->type == TR_KEX_GEX ? SSH_MSG_KEX_DH_GEX_INIT : SSH_MSG_KEX_30;
	if ((rc = sshrpc_tr_send_begin(t, type, &w, &mark)) != SSHRPC_OK)
		return kex_failed(t, rc, "cannot send the kex init");
	if ((rc = put_public(w, k->method, k->pub, k->pub_len)) != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		return kex_failed(t, rc, "cannot send the kex init");
	}
	if ((rc = sshrpc_tr_send_end(t, mark)) != SSHRPC_OK)
		return kex_failed(t, rc, "cannot send the kex init");
	k->step = k->method->type == TR_KEX_GEX ? TKX_C_GEX_REPLY : TKX_C_REPLY;
	return SSHRPC_OK;
}
#endif

int sshrpc_tr_kex_begin_method(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	/* transport_new refuses a role that was not built */
#if SSHRPC_WITH_CLIENT
	if (client_role(t)) {
#if SSHRPC_WITH_DH
		if (k->method->type == TR_KEX_GEX) {
			k->step = TKX_C_GEX_GROUP;
			return sshrpc_tr_gex_client_request(t);
		}
#endif
		return sshrpc_tr_kex_client_init(t);
	}
#endif
	k->step = k->method->type == TR_KEX_GEX ? TKX_S_GEX_REQUEST : TKX_S_INIT;
	return SSHRPC_OK;
}

/* ---- exchange hash ---------------------------------------------------------------- */

/* H = HASH(V_C || V_S || I_C || I_S || K_S || [group] || client value ||
 * server value || K): RFC 4253 §8, RFC 4419 §3, RFC 5656 §4, RFC 8731 §3. */
static int exchange_hash(sshrpc_transport *t, const uint8_t *ks, size_t kslen, const uint8_t *cpub, size_t cplen,
	const uint8_t *spub, size_t splen, const sshrpc_buf *kmp)
{
	tr_kex *k = &t->kex;
	const tr_kex_method *m = k->method;
	bool client = client_role(t);
	const sshrpc_buf *ic = client ? &k->my_kexinit : &k->peer_kexinit;
	const sshrpc_buf *is = client ? &k->peer_kexinit : &k->my_kexinit;
	const char *vc = client ? t->version : t->peer_version;
	const char *vs = client ? t->peer_version : t->version;
	sshrpc_buf hb;
	int rc;
	uint64_t t0 = sshrpc_tr_clock(t);
	sshrpc_buf_init(&hb, t->alloc, 0);
	sshrpc_buf_set_secret(&hb);
	if ((rc = sshrpc_buf_put_cstring(&hb, vc)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_cstring(&hb, vs)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_string(&hb, sshrpc_buf_ptr(ic), sshrpc_buf_len(ic))) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_string(&hb, sshrpc_buf_ptr(is), sshrpc_buf_len(is))) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_string(&hb, ks, kslen)) != SSHRPC_OK)
		goto out;
	if (m->type == TR_KEX_GEX) {
		if (k->gex_old)
			rc = sshrpc_buf_put_u32(&hb, k->gex_n);
		else if ((rc = sshrpc_buf_put_u32(&hb, k->gex_min)) == SSHRPC_OK &&
			 (rc = sshrpc_buf_put_u32(&hb, k->gex_n)) == SSHRPC_OK)
			rc = sshrpc_buf_put_u32(&hb, k->gex_max);
		if (rc != SSHRPC_OK ||
			(rc = sshrpc_buf_put_mpint_unsigned(
				 &hb, sshrpc_buf_ptr(&k->gex_p), sshrpc_buf_len(&k->gex_p))) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_mpint_unsigned(&hb, k->gex_g, k->gex_glen)) != SSHRPC_OK)
			goto out;
	}
	if ((rc = put_public(&hb, m, cpub, cplen)) != SSHRPC_OK ||
		(rc = put_public(&hb, m, spub, splen)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put(&hb, sshrpc_buf_ptr(kmp), sshrpc_buf_len(kmp))) != SSHRPC_OK)
		goto out;
	k->hlen = sshrpc_hash_len(m->hash);
	rc = sshrpc_hash(m->hash, sshrpc_buf_ptr(&hb), sshrpc_buf_len(&hb), k->h);
out:
	sshrpc_buf_free(&hb);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "cannot compute the exchange hash");
	sshrpc_tr_trace_kex(t, "exchange_hash", sshrpc_tr_clock(t) - t0);
	return SSHRPC_OK;
}

/* The shared secret K from the peer's public value, as an mpint. */
static int shared_secret(sshrpc_transport *t, const uint8_t *peer, size_t plen, sshrpc_buf *kmp)
{
	uint8_t secret[TR_SECRET_MAX];
	size_t slen = 0;
	uint64_t t0 = sshrpc_tr_clock(t);
	int rc = sshrpc_kex_derive(t->kex.eph, peer, plen, secret, sizeof secret, &slen);
	if (rc != SSHRPC_OK) {
		sshrpc_wipe(secret, sizeof secret);
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"the peer's ephemeral public value is invalid (%s)", sshrpc_strerror(rc));
	}
	rc = sshrpc_buf_put_mpint_unsigned(kmp, secret, slen);
	sshrpc_wipe(secret, sizeof secret);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "cannot encode the shared secret");
	sshrpc_tr_trace_kex(t, "shared_secret", sshrpc_tr_clock(t) - t0);
	return SSHRPC_OK;
}

/* ---- key derivation (RFC 4253 §7.2) ------------------------------------------------ */

static int derive_one(
	sshrpc_transport *t, sshrpc_hash_ctx *hc, const sshrpc_buf *kmp, char letter, uint8_t *out, size_t need)
{
	tr_kex *k = &t->kex;
	uint8_t buf[256];
	size_t have = 0, hl = k->hlen;
	int rc;
	if (need == 0)
		return SSHRPC_OK;
	if (need > sizeof buf - SSHRPC_HASH_MAX)
		return SSHRPC_E_TOO_LARGE;
	uint8_t x = (uint8_t)letter;
	/* K1 = HASH(K || H || X || session_id) */
	if ((rc = sshrpc_hash_update(hc, sshrpc_buf_ptr(kmp), sshrpc_buf_len(kmp))) != SSHRPC_OK ||
		(rc = sshrpc_hash_update(hc, k->h, hl)) != SSHRPC_OK ||
		(rc = sshrpc_hash_update(hc, &x, 1)) != SSHRPC_OK ||
		(rc = sshrpc_hash_update(hc, t->session_id, t->sid_len)) != SSHRPC_OK ||
		(rc = sshrpc_hash_final(hc, buf)) != SSHRPC_OK)
		goto out;
	have = hl;
	/* Kn = HASH(K || H || K1 || ... || Kn-1) */
	while (have < need) {
		if ((rc = sshrpc_hash_update(hc, sshrpc_buf_ptr(kmp), sshrpc_buf_len(kmp))) != SSHRPC_OK ||
			(rc = sshrpc_hash_update(hc, k->h, hl)) != SSHRPC_OK ||
			(rc = sshrpc_hash_update(hc, buf, have)) != SSHRPC_OK ||
			(rc = sshrpc_hash_final(hc, buf + have)) != SSHRPC_OK)
			goto out;
		have += hl;
	}
	memcpy(out, buf, need);
out:
	sshrpc_wipe(buf, sizeof buf);
	return rc;
}

static int derive_keys(sshrpc_transport *t, const sshrpc_buf *kmp)
{
	tr_kex *k = &t->kex;
	sshrpc_hash_ctx *hc = NULL;
	uint64_t t0 = sshrpc_tr_clock(t);
	if (t->sid_len == 0) {
		/* §7.2: the first exchange hash is the session identifier. */
		memcpy(t->session_id, k->h, k->hlen);
		t->sid_len = k->hlen;
	}
	int rc = sshrpc_hash_new(t->alloc, k->method->hash, &hc);
	for (int d = 0; rc == SSHRPC_OK && d < 2; d++) {
		tr_dir_keys *dk = &k->keys[d];
		dk->cipher = k->cipher[d];
		dk->mac = k->mac[d];
		if (dk->cipher->key_len > sizeof dk->key || dk->cipher->iv_len > sizeof dk->iv ||
			(dk->mac != NULL && dk->mac->key_len > sizeof dk->mackey)) {
			rc = SSHRPC_E_TOO_LARGE;
			break;
		}
		/* A/B: IVs, C/D: keys, E/F: integrity keys; even letters are
		 * client to server. */
		if ((rc = derive_one(t, hc, kmp, (char)('A' + d), dk->iv, dk->cipher->iv_len)) != SSHRPC_OK ||
			(rc = derive_one(t, hc, kmp, (char)('C' + d), dk->key, dk->cipher->key_len)) != SSHRPC_OK)
			break;
		if (dk->mac != NULL)
			rc = derive_one(t, hc, kmp, (char)('E' + d), dk->mackey, dk->mac->key_len);
	}
	if (hc != NULL)
		sshrpc_hash_free(hc);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "key derivation failed");
	memcpy(t->h, k->h, k->hlen);
	t->h_len = k->hlen;
	sshrpc_tr_trace_kex(t, "derive", sshrpc_tr_clock(t) - t0);
	return SSHRPC_OK;
}

/* ---- NEWKEYS ------------------------------------------------------------------------ */

static int send_ext_info(sshrpc_transport *t)
{
	char def[1024];
	bool server = !client_role(t);
	const char *algs = t->cfg.server_sig_algs;
	if (server && algs == NULL)
		algs = sshrpc_algs_default(SSHRPC_ALG_HOSTKEY, def, sizeof def);
	if (server && algs == NULL)
		return SSHRPC_E_TOO_LARGE;
	sshrpc_buf *w;
	size_t mark;
	int rc = sshrpc_tr_send_begin(t, SSH_MSG_EXT_INFO, &w, &mark);
	if (rc != SSHRPC_OK)
		return rc;
	/* RFC 8308 §2.3. The server: server-sig-algs (§3.1) and the ping
	 * facility (OpenSSH PROTOCOL §1.9). The client: that it takes a
	 * second EXT_INFO during user authentication (§1.11). */
	if (server) {
		if ((rc = sshrpc_buf_put_u32(w, 2)) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_cstring(w, "server-sig-algs")) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_cstring(w, algs)) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_cstring(w, "ping@openssh.com")) != SSHRPC_OK ||
			(rc = sshrpc_buf_put_cstring(w, "0")) != SSHRPC_OK)
			goto fail;
	} else if ((rc = sshrpc_buf_put_u32(w, 1)) != SSHRPC_OK ||
		   (rc = sshrpc_buf_put_cstring(w, "ext-info-in-auth@openssh.com")) != SSHRPC_OK ||
		   (rc = sshrpc_buf_put_cstring(w, "0")) != SSHRPC_OK) {
		goto fail;
	}
	return sshrpc_tr_send_end(t, mark);
fail:
	sshrpc_buf_truncate(&t->out, mark);
	return rc;
}

int sshrpc_tr_kex_send_newkeys(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	static const uint8_t newkeys[1] = { SSH_MSG_NEWKEYS };
	int rc = sshrpc_tr_send_payload(t, newkeys, 1);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "cannot send NEWKEYS");
	/* §7.3: our keys change right after our NEWKEYS. */
	rc = sshrpc_tr_crypt_install(t, &t->tx, &k->keys[client_role(t) ? 0 : 1], SSHRPC_ENCRYPT);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "cannot set up the new outgoing keys");
	sshrpc_wipe(&k->keys[client_role(t) ? 0 : 1], sizeof k->keys[0]);
	if (t->strict)
		t->tx.seqnr = 0; /* strict kex: reset after each NEWKEYS sent */
	k->newkeys_sent = true;
	k->step = TKX_NEWKEYS;
	/* RFC 8308 §2.4: EXT_INFO is the next packet after the first NEWKEYS,
	 * when the peer said it takes one; never after later ones. */
	if (k->initial && t->peer_ext_info) {
		if ((rc = send_ext_info(t)) != SSHRPC_OK)
			return kex_failed(t, rc, "cannot send EXT_INFO");
		if (!client_role(t))
			t->algs.ext_info = true;
	}
	return sshrpc_tr_flush_pending(t);
}

int sshrpc_tr_kex_newkeys_recv(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	static const char *const step_names[] = { "idle", "KEXINIT sent", "waiting for the kex reply",
		"waiting for the GEX group", "waiting for the GEX reply", "waiting for the kex init",
		"waiting for the GEX request", "waiting for the GEX init", "NEWKEYS sent" };
	if (!t->kex_active || k->step != TKX_NEWKEYS)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"NEWKEYS out of order: key exchange state is '%s' (RFC 4253 §7.3)",
			t->kex_active ? step_names[k->step] : "no key exchange running");
	if (len != 1)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"NEWKEYS carries %zu unexpected bytes (RFC 4253 §7.3)", len - 1);
	(void)msg;
	int rc = sshrpc_tr_crypt_install(t, &t->rx, &k->keys[client_role(t) ? 1 : 0], SSHRPC_DECRYPT);
	if (rc != SSHRPC_OK)
		return kex_failed(t, rc, "cannot set up the new incoming keys");
	if (t->strict)
		t->rx.seqnr = 0; /* strict kex: reset after each NEWKEYS received */
	/* The kex is over. */
	t->algs.kex = k->method->name;
	t->algs.hostkey = k->hostkey_alg->name;
	t->algs.cipher_c2s = k->cipher[0]->name;
	t->algs.cipher_s2c = k->cipher[1]->name;
	t->algs.mac_c2s = k->mac[0] != NULL ? k->mac[0]->name : "<implicit>";
	t->algs.mac_s2c = k->mac[1] != NULL ? k->mac[1]->name : "<implicit>";
	t->algs.comp_c2s = t->algs.comp_s2c = "none";
	t->algs.strict_kex = t->strict;
	t->first_kex_done = true;
	t->state = SSHRPC_TRANSPORT_ESTABLISHED;
	t->stats.kex_count++;
	t->kex_done_ms = t->now_ms;
	sshrpc_tr_trace_kex(t, "done", sshrpc_tr_clock(t) - k->t0_ns);
	sshrpc_tr_log(t, SSHRPC_LOG_VERBOSE, "key exchange %lu done", (unsigned long)t->stats.kex_count);
	sshrpc_tr_kex_reset(t);
	t->kex_active = false;
	return SSHRPC_OK;
}

#if SSHRPC_WITH_SERVER
/* ---- server: the client's INIT (ECDH, DH, GEX) --------------------------------------- */

int sshrpc_tr_kex_server_init(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	sshrpc_reader r;
	const uint8_t *cpub;
	size_t cplen;
	sshrpc_buf kmp, ks, *w;
	size_t mark, smark;
	int rc;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (read_public(&r, k->method, &cpub, &cplen) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed %s: one %s expected (RFC %s)", sshrpc_tr_msg_name(msg[0]),
			k->method->type == TR_KEX_ECDH ? "string" : "mpint",
			k->method->type == TR_KEX_ECDH	? "5656 §4"
			: k->method->type == TR_KEX_GEX ? "4419 §3"
							: "4253 §8");
	if ((rc = keygen(t)) != SSHRPC_OK)
		return rc;
	sshrpc_buf_init(&kmp, t->alloc, 0);
	sshrpc_buf_set_secret(&kmp);
	sshrpc_buf_init(&ks, t->alloc, 0);
	if ((rc = shared_secret(t, cpub, cplen, &kmp)) != SSHRPC_OK)
		goto out;
	if ((rc = sshrpc_key_to_blob(k->hostkey, &ks)) != SSHRPC_OK) {
		rc = kex_failed(t, rc, "cannot encode the host key");
		goto out;
	}
	if ((rc = exchange_hash(t, sshrpc_buf_ptr(&ks), sshrpc_buf_len(&ks), cpub, cplen, k->pub, k->pub_len, &kmp)) !=
		SSHRPC_OK)
		goto out;
	if ((rc = derive_keys(t, &kmp)) != SSHRPC_OK)
		goto out;
	uint8_t type = k->method->type == TR_KEX_GEX ? SSH_MSG_KEX_DH_GEX_REPLY : SSH_MSG_KEX_31;
	if ((rc = sshrpc_tr_send_begin(t, type, &w, &mark)) != SSHRPC_OK) {
		rc = kex_failed(t, rc, "cannot send the kex reply");
		goto out;
	}
	uint64_t t0 = sshrpc_tr_clock(t);
	if ((rc = sshrpc_buf_put_string(w, sshrpc_buf_ptr(&ks), sshrpc_buf_len(&ks))) != SSHRPC_OK ||
		(rc = put_public(w, k->method, k->pub, k->pub_len)) != SSHRPC_OK ||
		(rc = sshrpc_buf_string_begin(w, &smark)) != SSHRPC_OK ||
		(rc = sshrpc_key_sign(k->hostkey, k->hostkey_alg->name, k->h, k->hlen, w)) != SSHRPC_OK) {
		sshrpc_buf_truncate(&t->out, mark);
		rc = kex_failed(t, rc, "cannot sign the exchange hash");
		goto out;
	}
	sshrpc_buf_string_end(w, smark);
	sshrpc_tr_trace_kex(t, "sign", sshrpc_tr_clock(t) - t0);
	if ((rc = sshrpc_tr_send_end(t, mark)) != SSHRPC_OK) {
		rc = kex_failed(t, rc, "cannot send the kex reply");
		goto out;
	}
	rc = sshrpc_tr_kex_send_newkeys(t);
out:
	sshrpc_buf_free(&kmp);
	sshrpc_buf_free(&ks);
	return rc;
}
#endif

#if SSHRPC_WITH_CLIENT
/* ---- client: the server's REPLY (ECDH, DH, GEX) ---------------------------------------- */

int sshrpc_tr_kex_client_reply(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	sshrpc_reader r;
	const uint8_t *ks, *spub, *sig;
	size_t kslen, splen, siglen;
	sshrpc_key *key = NULL;
	sshrpc_buf kmp;
	int rc;
	sshrpc_rd_init(&r, msg + 1, len - 1);
	if (sshrpc_rd_string(&r, &ks, &kslen) != SSHRPC_OK || read_public(&r, k->method, &spub, &splen) != SSHRPC_OK ||
		sshrpc_rd_string(&r, &sig, &siglen) != SSHRPC_OK || sshrpc_rd_end(&r) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed %s: host key, %s and signature expected (RFC %s)", sshrpc_tr_msg_name(msg[0]),
			k->method->type == TR_KEX_ECDH ? "string" : "mpint",
			k->method->type == TR_KEX_ECDH	? "5656 §4"
			: k->method->type == TR_KEX_GEX ? "4419 §3"
							: "4253 §8");
	if ((rc = sshrpc_key_from_blob(t->alloc, ks, kslen, &key)) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"the server's host key does not parse (%s)", sshrpc_strerror(rc));
	sshrpc_key_type kt = sshrpc_key_get_type(key);
	if (kt != k->hostkey_alg->key_type) {
		sshrpc_key_free(key);
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"the server sent a %s host key for negotiated algorithm %s (RFC 4253 §7.1)",
			sshrpc_key_type_name(kt), k->hostkey_alg->name);
	}
	sshrpc_buf_init(&kmp, t->alloc, 0);
	sshrpc_buf_set_secret(&kmp);
	if ((rc = shared_secret(t, spub, splen, &kmp)) != SSHRPC_OK)
		goto out;
	if ((rc = exchange_hash(t, ks, kslen, k->pub, k->pub_len, spub, splen, &kmp)) != SSHRPC_OK)
		goto out;
	uint64_t t0 = sshrpc_tr_clock(t);
	rc = sshrpc_key_verify(key, k->hostkey_alg->name, sig, siglen, k->h, k->hlen);
	sshrpc_tr_trace_kex(t, "verify", sshrpc_tr_clock(t) - t0);
	if (rc != SSHRPC_OK) {
		rc = sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
			"the server's %s signature over the exchange hash does not verify (%s) (RFC 4253 §8)",
			k->hostkey_alg->name, sshrpc_strerror(rc));
		goto out;
	}
	if (k->initial) {
		rc = t->cfg.hostkey_check != NULL
			     ? t->cfg.hostkey_check(t->cfg.hostkey_check_ud, key, k->hostkey_alg->name)
			     : SSHRPC_E_HOSTKEY;
		if (rc != SSHRPC_OK) {
			rc = sshrpc_tr_fail(t, SSHRPC_E_HOSTKEY, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
				"%s host key refused by the host key check%s", k->hostkey_alg->name,
				t->cfg.hostkey_check == NULL ? " (none configured)" : "");
			goto out;
		}
		t->server_key = key;
		key = NULL;
	} else if (t->server_key == NULL || !sshrpc_key_equal_public(t->server_key, key)) {
		/* A re-exchange must not switch to a key nobody checked. */
		rc = sshrpc_tr_fail(t, SSHRPC_E_HOSTKEY, SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE,
			"the server's host key changed during key re-exchange");
		goto out;
	}
	if ((rc = derive_keys(t, &kmp)) != SSHRPC_OK)
		goto out;
	rc = sshrpc_tr_kex_send_newkeys(t);
out:
	if (key != NULL)
		sshrpc_key_free(key);
	sshrpc_buf_free(&kmp);
	return rc;
}
#endif

/* ---- dispatch of kex method messages ---------------------------------------------------- */

int sshrpc_tr_kex_message(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	uint8_t type = msg[0];
	/* Strict kex §3.2: each kex message is accepted once, which the step
	 * machine gives us: a repeated one no longer matches the step. */
	switch (k->step) {
#if SSHRPC_WITH_CLIENT
	case TKX_C_REPLY:
		if (type == SSH_MSG_KEX_31)
			return sshrpc_tr_kex_client_reply(t, msg, len);
		break;
#if SSHRPC_WITH_DH
	case TKX_C_GEX_GROUP:
		if (type == SSH_MSG_KEX_31)
			return sshrpc_tr_gex_client_group(t, msg, len);
		break;
	case TKX_C_GEX_REPLY:
		if (type == SSH_MSG_KEX_DH_GEX_REPLY)
			return sshrpc_tr_kex_client_reply(t, msg, len);
		break;
#endif
#endif
#if SSHRPC_WITH_SERVER
	case TKX_S_INIT:
		if (type == SSH_MSG_KEX_30)
			return sshrpc_tr_kex_server_init(t, msg, len);
		break;
#if SSHRPC_WITH_DH
	case TKX_S_GEX_REQUEST:
		if (type == SSH_MSG_KEX_DH_GEX_REQUEST || type == SSH_MSG_KEX_30)
			return sshrpc_tr_gex_server_request(t, msg, len);
		break;
	case TKX_S_GEX_INIT:
		if (type == SSH_MSG_KEX_DH_GEX_INIT)
			return sshrpc_tr_kex_server_init(t, msg, len);
		break;
#endif
#endif
	default:
		break;
	}
	return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
		"unexpected message %u (%s) during %s key exchange (RFC 4253 §7.1)", (unsigned)type,
		sshrpc_tr_msg_name(type), k->method != NULL ? k->method->name : "the");
}
