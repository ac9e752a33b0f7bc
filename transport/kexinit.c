/* SSH_MSG_KEXINIT: building ours, parsing the peer's, and the algorithm
 * negotiation of RFC 4253 §7.1, with the extension markers of RFC 8308
 * (ext-info-c) and strict kex (OpenSSH PROTOCOL §1.10, draft-ietf-sshm-
 * strict-kex §3.1), which count only in the first KEXINIT of a session. */
#include <stdio.h>
#include <string.h>

#include "transport/internal.h"

enum { L_KEX, L_HOSTKEY, L_ENC_CS, L_ENC_SC, L_MAC_CS, L_MAC_SC, L_COMP_CS, L_COMP_SC, L_LANG_CS, L_LANG_SC, L_N };

static const char *const list_names[L_N] = { "key exchange algorithm", "host key algorithm", "cipher client to server",
	"cipher server to client", "MAC client to server", "MAC server to client", "compression client to server",
	"compression server to client", "language client to server", "language server to client" };

typedef struct kexinit_lists {
	const char *l[L_N];
	size_t n[L_N];
	bool follows;
} kexinit_lists;

int sshrpc_tr_kexinit_send(sshrpc_transport *t)
{
	tr_kex *k = &t->kex;
	sshrpc_buf *b = &k->my_kexinit;
	uint8_t cookie[16];
	char kexl[1200];
	int rc;
	sshrpc_buf_reset(b);
	size_t kl = strlen(t->kex_list);
	if (kl + 100 > sizeof kexl)
		return sshrpc_tr_fail(t, SSHRPC_E_TOO_LARGE, 0, "key exchange list too long");
	/* Markers go only in the first KEXINIT and are ignored in later ones. */
	bool client = t->role == SSHRPC_ROLE_CLIENT;
	snprintf(kexl, sizeof kexl, "%s%s%s", t->kex_list,
		k->initial && !t->cfg.no_ext_info ? (client ? ",ext-info-c" : ",ext-info-s") : "",
		k->initial && !t->cfg.no_strict_kex ? (client ? ",kex-strict-c-v00@openssh.com,kex-strict-c"
							      : ",kex-strict-s-v00@openssh.com,kex-strict-s")
						    : "");
	if ((rc = sshrpc_random(cookie, sizeof cookie)) != SSHRPC_OK)
		return sshrpc_tr_fail(t, rc, 0, "no random bytes for the KEXINIT cookie");
	if ((rc = sshrpc_buf_put_u8(b, SSH_MSG_KEXINIT)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put(b, cookie, 16)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, kexl)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, t->hostkey_list)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, t->cipher_list)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, t->cipher_list)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, t->mac_list)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, t->mac_list)) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, "none")) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, "none")) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, "")) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_namelist(b, "")) != SSHRPC_OK ||
		(rc = sshrpc_buf_put_bool(b, false)) != SSHRPC_OK || (rc = sshrpc_buf_put_u32(b, 0)) != SSHRPC_OK)
		return sshrpc_tr_fail(t, rc, 0, "cannot build KEXINIT");
	rc = sshrpc_tr_send_payload(t, sshrpc_buf_ptr(b), sshrpc_buf_len(b));
	if (rc != SSHRPC_OK)
		return sshrpc_tr_fail(t, rc, 0, "cannot send KEXINIT");
	k->sent_kexinit = true;
	return SSHRPC_OK;
}

static int parse(const uint8_t *msg, size_t len, kexinit_lists *out)
{
	sshrpc_reader r;
	uint8_t type;
	uint32_t reserved;
	int rc;
	sshrpc_rd_init(&r, msg, len);
	if ((rc = sshrpc_rd_u8(&r, &type)) != SSHRPC_OK || (rc = sshrpc_rd_skip(&r, 16)) != SSHRPC_OK)
		return rc;
	for (int i = 0; i < L_N; i++)
		if ((rc = sshrpc_rd_namelist(&r, &out->l[i], &out->n[i])) != SSHRPC_OK)
			return rc;
	if ((rc = sshrpc_rd_bool(&r, &out->follows)) != SSHRPC_OK || (rc = sshrpc_rd_u32(&r, &reserved)) != SSHRPC_OK)
		return rc;
	/* §7.1: the reserved uint32 is for future extension; we accept any
	 * value and anything after it, as the RFC says nothing more. */
	return SSHRPC_OK;
}

/* The first name on the client's list that the server also lists and that
 * `ok` accepts. */
static bool choose(const char *cl, size_t cn, const char *sl, size_t sn, bool (*ok)(const char *, size_t),
	const char **name, size_t *nlen)
{
	size_t pos = 0, l;
	const char *n;
	while (sshrpc_namelist_next(cl, cn, &pos, &n, &l)) {
		if (ok != NULL && !ok(n, l))
			continue;
		if (sshrpc_namelist_has(sl, sn, n, l)) {
			*name = n;
			*nlen = l;
			return true;
		}
	}
	return false;
}

static bool real_kex(const char *n, size_t l)
{
	return !sshrpc_tr_kex_pseudo(n, l) && sshrpc_tr_kex_lookup(n, l) != NULL;
}

static bool known_hostkey(const char *n, size_t l)
{
	return sshrpc_tr_hostkey_lookup(n, l) != NULL;
}

static bool known_cipher(const char *n, size_t l)
{
	const sshrpc_cipher_info *ci = sshrpc_cipher_lookup(n, l);
	return ci != NULL && ci->kind != SSHRPC_CIPHER_NONE;
}

static bool known_mac(const char *n, size_t l)
{
	return sshrpc_mac_lookup(n, l) != NULL && !(l == 4 && memcmp(n, "none", 4) == 0);
}

static bool is_none(const char *n, size_t l)
{
	return l == 4 && memcmp(n, "none", 4) == 0;
}

static int no_common(sshrpc_transport *t, int which, const kexinit_lists *c, const kexinit_lists *s)
{
	return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
		"no common %s: client offers '%.60s%s', server offers '%.60s%s' (RFC 4253 §7.1)", list_names[which],
		c->l[which], c->n[which] > 60 ? "..." : "", s->l[which], s->n[which] > 60 ? "..." : "");
}

static bool first_is(const char *list, size_t len, const char *name)
{
	size_t pos = 0, l;
	const char *n;
	return sshrpc_namelist_next(list, len, &pos, &n, &l) && l == strlen(name) && memcmp(n, name, l) == 0;
}

static bool has(const kexinit_lists *k, const char *name)
{
	return sshrpc_namelist_has(k->l[L_KEX], k->n[L_KEX], name, strlen(name));
}

int sshrpc_tr_kexinit_recv(sshrpc_transport *t, const uint8_t *msg, size_t len)
{
	tr_kex *k = &t->kex;
	kexinit_lists peer, mine;
	int rc = parse(msg, len, &peer);
	if (rc != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
			"malformed KEXINIT: %s (RFC 4253 §7.1)", sshrpc_strerror(rc));
	sshrpc_buf_reset(&k->peer_kexinit);
	if ((rc = sshrpc_buf_put(&k->peer_kexinit, msg, len)) != SSHRPC_OK)
		return sshrpc_tr_fail(t, rc, SSH_DISCONNECT_BY_APPLICATION, "cannot keep the peer's KEXINIT");
	k->got_kexinit = true;
	/* Ours was built by us and parses. */
	if (parse(sshrpc_buf_ptr(&k->my_kexinit), sshrpc_buf_len(&k->my_kexinit), &mine) != SSHRPC_OK)
		return sshrpc_tr_fail(t, SSHRPC_E_STATE, 0, "our own KEXINIT does not parse");
	bool client = t->role == SSHRPC_ROLE_CLIENT;
	const kexinit_lists *c = client ? &mine : &peer;
	const kexinit_lists *s = client ? &peer : &mine;

	if (k->initial) {
		/* draft-ietf-sshm-strict-kex §3.1: the standard names pair with
		 * each other and the pre-standard names with each other. */
		if (!t->cfg.no_strict_kex)
			t->strict =
				(has(c, "kex-strict-c-v00@openssh.com") && has(s, "kex-strict-s-v00@openssh.com")) ||
				(has(c, "kex-strict-c") && has(s, "kex-strict-s"));
		/* RFC 8308 §2.1: each side's marker says it accepts EXT_INFO */
		t->peer_ext_info = !t->cfg.no_ext_info && (client ? has(s, "ext-info-s") : has(c, "ext-info-c"));
		/* §3.2 of the draft: KEXINIT must have been the first packet. */
		if (t->strict && t->stats.packets_in != 1)
			return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"strict kex: KEXINIT was not the first packet received (packet %lu) "
				"(OpenSSH PROTOCOL §1.10)",
				(unsigned long)t->stats.packets_in);
	}

	const char *n;
	size_t nl;
	if (!choose(c->l[L_KEX], c->n[L_KEX], s->l[L_KEX], s->n[L_KEX], real_kex, &n, &nl))
		return no_common(t, L_KEX, c, s);
	k->method = sshrpc_tr_kex_lookup(n, nl);
	/* Every method we have needs a signature-capable host key, and every
	 * host key algorithm we have is one (§7.1). */
	if (!choose(c->l[L_HOSTKEY], c->n[L_HOSTKEY], s->l[L_HOSTKEY], s->n[L_HOSTKEY], known_hostkey, &n, &nl))
		return no_common(t, L_HOSTKEY, c, s);
	k->hostkey_alg = sshrpc_tr_hostkey_lookup(n, nl);
	for (int d = 0; d < 2; d++) {
		int el = d == 0 ? L_ENC_CS : L_ENC_SC, ml = d == 0 ? L_MAC_CS : L_MAC_SC,
		    cl = d == 0 ? L_COMP_CS : L_COMP_SC;
		if (!choose(c->l[el], c->n[el], s->l[el], s->n[el], known_cipher, &n, &nl))
			return no_common(t, el, c, s);
		k->cipher[d] = sshrpc_cipher_lookup(n, nl);
		k->mac[d] = NULL;
		/* AEAD ciphers authenticate themselves: the MAC lists are not
		 * negotiated for them (draft-miller-sshm-aes-gcm §4, OpenSSH). */
		bool aead = k->cipher[d]->kind == SSHRPC_CIPHER_GCM || k->cipher[d]->kind == SSHRPC_CIPHER_CHACHAPOLY;
		if (!aead) {
			if (!choose(c->l[ml], c->n[ml], s->l[ml], s->n[ml], known_mac, &n, &nl))
				return no_common(t, ml, c, s);
			k->mac[d] = sshrpc_mac_lookup(n, nl);
		}
		if (!choose(c->l[cl], c->n[cl], s->l[cl], s->n[cl], NULL, &n, &nl) || !is_none(n, nl))
			return no_common(t, cl, c, s);
	}
	if (!client) {
		k->hostkey = NULL;
		for (size_t i = 0; i < t->cfg.n_host_keys && k->hostkey == NULL; i++)
			if (t->cfg.host_keys[i] != NULL &&
				sshrpc_key_get_type(t->cfg.host_keys[i]) == k->hostkey_alg->key_type)
				k->hostkey = t->cfg.host_keys[i];
		if (k->hostkey == NULL)
			return sshrpc_tr_fail(t, SSHRPC_E_STATE, SSH_DISCONNECT_KEY_EXCHANGE_FAILED,
				"no host key for %s", k->hostkey_alg->name);
	}
	/* §7.1: a guessed packet follows; it counts only if the guess (the
	 * peer's first kex and host key algorithms) was right. */
	k->ignore_guess = peer.follows && !(first_is(peer.l[L_KEX], peer.n[L_KEX], k->method->name) &&
						  first_is(peer.l[L_HOSTKEY], peer.n[L_HOSTKEY], k->hostkey_alg->name));
	sshrpc_tr_log(t, SSHRPC_LOG_VERBOSE, "kex: %s, host key %s, %s/%s, %s/%s%s", k->method->name,
		k->hostkey_alg->name, k->cipher[0]->name, k->cipher[1]->name,
		k->mac[0] != NULL ? k->mac[0]->name : "<implicit>", k->mac[1] != NULL ? k->mac[1]->name : "<implicit>",
		t->strict ? ", strict" : "");
	return sshrpc_tr_kex_begin_method(t);
}
