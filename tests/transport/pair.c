#include <string.h>

#include "pair.h"

void test_hostkeys_make(test_hostkeys *hk, bool with_rsa)
{
	static const sshrpc_key_type types[] = { SSHRPC_KEY_ED25519, SSHRPC_KEY_RSA, SSHRPC_KEY_ECDSA_P256,
		SSHRPC_KEY_ECDSA_P384, SSHRPC_KEY_ECDSA_P521 };
	memset(hk, 0, sizeof *hk);
	for (size_t i = 0; i < 5; i++) {
		if (types[i] == SSHRPC_KEY_RSA && !with_rsa)
			continue;
		sshrpc_key *k = NULL;
		if (sshrpc_key_generate(NULL, types[i], 2048, &k) == SSHRPC_OK)
			hk->keys[hk->n++] = k;
	}
}

void test_hostkeys_free(test_hostkeys *hk)
{
	for (size_t i = 0; i < hk->n; i++)
		sshrpc_key_free(hk->keys[i]);
	hk->n = 0;
}

void test_pair_config(test_pair *p, const test_hostkeys *hk)
{
	memset(p, 0, sizeof *p);
	p->cc.role = SSHRPC_ROLE_CLIENT;
	p->cc.hostkey_check = sshrpc_transport_hostkey_accept_any;
	p->sc.role = SSHRPC_ROLE_SERVER;
	p->sc.host_keys = hk->keys;
	p->sc.n_host_keys = hk->n;
}

int test_pair_start(test_pair *p)
{
	sshrpc_err err = { 0 };
	int rc = sshrpc_transport_new(&p->cc, &p->c, &err);
	if (rc != SSHRPC_OK)
		return rc;
	return sshrpc_transport_new(&p->sc, &p->s, &err);
}

void test_pair_free(test_pair *p)
{
	sshrpc_transport_free(p->c);
	sshrpc_transport_free(p->s);
	p->c = p->s = NULL;
}

size_t test_move(sshrpc_transport *from, sshrpc_transport *to)
{
	size_t len, moved = 0;
	const uint8_t *o = sshrpc_transport_output(from, &len);
	while (len > 0) {
		size_t taken = 0;
		int rc = sshrpc_transport_feed(to, o, len, &taken);
		if (taken == 0 || rc != SSHRPC_OK)
			break;
		sshrpc_transport_output_consume(from, taken);
		moved += taken;
		o = sshrpc_transport_output(from, &len);
	}
	return moved;
}

static int drain(sshrpc_transport *t, bool server, test_msg_fn on_msg, void *ud, bool *progress)
{
	sshrpc_msg_io io = sshrpc_transport_io(t);
	for (;;) {
		const uint8_t *m;
		size_t n;
		int rc = io.recv(io.ctx, &m, &n);
		if (rc == SSHRPC_E_AGAIN)
			return 0;
		if (rc != SSHRPC_OK)
			return rc;
		*progress = true;
		if (on_msg == NULL)
			return SSHRPC_E_STATE;
		if ((rc = on_msg(ud, server, m, n)) != 0)
			return rc;
	}
}

int test_pair_run(test_pair *p, test_msg_fn on_msg, void *ud)
{
	for (int round = 0; round < 1000000; round++) {
		bool progress = false;
		size_t a = test_move(p->c, p->s), b = test_move(p->s, p->c);
		p->bytes_moved += a + b;
		if (a + b > 0)
			progress = true;
		int rc = drain(p->s, true, on_msg, ud, &progress);
		if (rc != 0)
			return rc;
		rc = drain(p->c, false, on_msg, ud, &progress);
		if (rc != 0)
			return rc;
		size_t l1, l2;
		sshrpc_transport_output(p->c, &l1);
		sshrpc_transport_output(p->s, &l2);
		if (!progress && l1 == 0 && l2 == 0)
			return 0;
	}
	return SSHRPC_E_STATE;
}

int test_send(sshrpc_transport *t, uint8_t type, const void *body, size_t len)
{
	sshrpc_msg_io io = sshrpc_transport_io(t);
	sshrpc_buf *w;
	int rc = io.begin(io.ctx, type, &w);
	if (rc != SSHRPC_OK)
		return rc;
	rc = sshrpc_buf_put(w, body, len);
	if (rc != SSHRPC_OK)
		return rc;
	return io.end(io.ctx);
}
