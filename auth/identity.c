/* Identities: the three ways a client holds a key — in memory, in a
 * (possibly encrypted) file, in ssh-agent — behind one small vtable, and
 * the choice of RSA signature algorithm (RFC 8332 §3.3, RFC 8308 §3.1). */
#include "auth_internal.h"

const char *sshrpc_auth_choose_sigalg(sshrpc_key_type t, const char *server_sig_algs, size_t len)
{
	switch (t) {
	case SSHRPC_KEY_ED25519:
	case SSHRPC_KEY_ECDSA_P256:
	case SSHRPC_KEY_ECDSA_P384:
	case SSHRPC_KEY_ECDSA_P521:
		return sshrpc_key_type_name(t);
	case SSHRPC_KEY_RSA:
		if (server_sig_algs == NULL)
			return "ssh-rsa"; /* RFC 8332 §3.3: no ext-info, no guess */
		if (sshrpc_namelist_has(server_sig_algs, len, "rsa-sha2-512", 12))
			return "rsa-sha2-512";
		if (sshrpc_namelist_has(server_sig_algs, len, "rsa-sha2-256", 12))
			return "rsa-sha2-256";
		if (sshrpc_namelist_has(server_sig_algs, len, "ssh-rsa", 7))
			return "ssh-rsa";
		return NULL;
	default:
		return NULL;
	}
}

/* ---- in-memory key ------------------------------------------------------- */

static int key_sign(void *ud, const char *alg, const uint8_t *data, size_t len, sshrpc_buf *out)
{
	sshrpc_key_identity *ki = ud;
	return sshrpc_key_sign(ki->key, alg, data, len, out);
}

int sshrpc_key_identity_init(sshrpc_key_identity *ki, const sshrpc_key *key, const char *label)
{
	memset(ki, 0, sizeof *ki);
	ki->key = key;
	sshrpc_buf_init(&ki->blob, NULL, SSHRPC_AUTH_BLOB_MAX);
	int rc = sshrpc_key_to_blob(key, &ki->blob);
	if (rc != SSHRPC_OK) {
		sshrpc_buf_free(&ki->blob);
		return rc;
	}
	ki->id.label = label != NULL ? label : "key";
	ki->id.pub_blob = sshrpc_buf_ptr(&ki->blob);
	ki->id.pub_len = sshrpc_buf_len(&ki->blob);
	ki->id.ud = ki;
	ki->id.sign = key_sign;
	return SSHRPC_OK;
}

void sshrpc_key_identity_free(sshrpc_key_identity *ki)
{
	sshrpc_buf_free(&ki->blob);
	memset(ki, 0, sizeof *ki);
}

/* ---- key file ------------------------------------------------------------------ */

#define PASSPHRASE_TRIES 3

static int file_load(void *ud, sshrpc_err *err)
{
	sshrpc_file_identity *fi = ud;
	if (fi->priv != NULL)
		return SSHRPC_OK;
	int rc;
	if (!sshrpc_privkey_is_encrypted(fi->data, fi->len)) {
		rc = sshrpc_privkey_parse(fi->alloc, fi->name, fi->data, fi->len, NULL, &fi->priv, NULL, 0, err);
	} else {
		rc = SSHRPC_E_PASSPHRASE;
		if (fi->ask == NULL)
			return sshrpc_err_set(err, rc, 0, "%s: passphrase required and none can be asked", fi->name);
		for (unsigned attempt = 1; attempt <= PASSPHRASE_TRIES && rc == SSHRPC_E_PASSPHRASE; attempt++) {
			char pass[1024];
			if (fi->ask(fi->ask_ud, fi->name, attempt, pass, sizeof pass) != SSHRPC_OK) {
				sshrpc_wipe(pass, sizeof pass);
				return sshrpc_err_set(err, SSHRPC_E_PASSPHRASE, 0, "%s: no passphrase given", fi->name);
			}
			pass[sizeof pass - 1] = '\0';
			/* Each try reports on its own; only the last one's reason
			 * stays in err. */
			sshrpc_err one;
			sshrpc_err_clear(&one);
			rc = sshrpc_privkey_parse(
				fi->alloc, fi->name, fi->data, fi->len, pass, &fi->priv, NULL, 0, &one);
			sshrpc_wipe(pass, sizeof pass);
			if (rc != SSHRPC_OK && (rc != SSHRPC_E_PASSPHRASE || attempt == PASSPHRASE_TRIES))
				sshrpc_err_set(err, one.code, one.reason, "%s", one.msg);
		}
	}
	if (rc != SSHRPC_OK)
		return rc;
	if (!sshrpc_key_equal_public(fi->pub, fi->priv)) {
		sshrpc_key_free(fi->priv);
		fi->priv = NULL;
		return sshrpc_err_set(
			err, SSHRPC_E_INVALID, 0, "%s: the private key does not match its public key", fi->name);
	}
	return SSHRPC_OK;
}

static int file_sign(void *ud, const char *alg, const uint8_t *data, size_t len, sshrpc_buf *out)
{
	sshrpc_file_identity *fi = ud;
	if (fi->priv == NULL)
		return SSHRPC_E_STATE;
	return sshrpc_key_sign(fi->priv, alg, data, len, out);
}

int sshrpc_file_identity_init(sshrpc_file_identity *fi, const sshrpc_alloc *a, const char *name, const uint8_t *data,
	size_t len, const uint8_t *pub_data, size_t pub_len, sshrpc_passphrase_fn ask, void *ask_ud, sshrpc_err *err)
{
	memset(fi, 0, sizeof *fi);
	if (a == NULL)
		a = sshrpc_alloc_default();
	fi->alloc = a;
	fi->ask = ask;
	fi->ask_ud = ask_ud;
	sshrpc_buf_init(&fi->blob, a, SSHRPC_AUTH_BLOB_MAX);
	if (name == NULL)
		name = "identity";
	fi->name = auth_strndup(a, name, strlen(name));
	fi->data = sshrpc_malloc(a, len == 0 ? 1 : len);
	fi->len = len;
	if (fi->name == NULL || fi->data == NULL) {
		sshrpc_file_identity_free(fi);
		return sshrpc_err_set(err, SSHRPC_E_NOMEM, 0, "%s: out of memory", name);
	}
	if (len > 0)
		memcpy(fi->data, data, len);
	int rc;
	if (pub_data != NULL)
		rc = sshrpc_pubkey_parse(a, name, pub_data, pub_len, &fi->pub, NULL, 0, err);
	else
		rc = sshrpc_privkey_public(a, name, data, len, &fi->pub, err);
	if (rc == SSHRPC_OK)
		rc = sshrpc_key_to_blob(fi->pub, &fi->blob);
	if (rc != SSHRPC_OK) {
		sshrpc_file_identity_free(fi);
		return rc;
	}
	fi->id.label = fi->name;
	fi->id.pub_blob = sshrpc_buf_ptr(&fi->blob);
	fi->id.pub_len = sshrpc_buf_len(&fi->blob);
	fi->id.ud = fi;
	fi->id.load_private = file_load;
	fi->id.sign = file_sign;
	return SSHRPC_OK;
}

void sshrpc_file_identity_free(sshrpc_file_identity *fi)
{
	if (fi->alloc == NULL)
		return;
	auth_strfree(fi->alloc, fi->name);
	if (fi->data != NULL)
		sshrpc_free_secret(fi->alloc, fi->data, fi->len == 0 ? 1 : fi->len);
	sshrpc_key_free(fi->pub);
	sshrpc_key_free(fi->priv);
	sshrpc_buf_free(&fi->blob);
	memset(fi, 0, sizeof *fi);
}

/* ---- ssh-agent key ---------------------------------------------------------- */

static int agent_sign(void *ud, const char *alg, const uint8_t *data, size_t len, sshrpc_buf *out)
{
	sshrpc_agent_identity *ai = ud;
	sshrpc_buf req, reply;
	sshrpc_buf_init(&req, ai->alloc, SSHRPC_AGENT_MAX_MSG + 4);
	sshrpc_buf_init(&reply, ai->alloc, SSHRPC_AGENT_MAX_MSG + 4);
	int rc = sshrpc_agent_sign_request(&req, ai->blob, ai->blob_len, data, len, sshrpc_agent_sign_flags(alg));
	if (rc == SSHRPC_OK)
		rc = ai->transact(ai->transact_ud, sshrpc_buf_ptr(&req), sshrpc_buf_len(&req), &reply);
	const uint8_t *msg, *sig;
	size_t msg_len, used, sig_len;
	if (rc == SSHRPC_OK) {
		rc = sshrpc_agent_reply(sshrpc_buf_ptr(&reply), sshrpc_buf_len(&reply), &msg, &msg_len, &used);
		if (rc == SSHRPC_E_AGAIN)
			rc = SSHRPC_E_TRUNCATED;
	}
	if (rc == SSHRPC_OK)
		rc = sshrpc_agent_parse_sign_response(msg, msg_len, &sig, &sig_len);
	/* An agent that ignores the rsa-sha2 flags answers with ssh-rsa; that
	 * signature would not verify as the algorithm we announced. */
	const char *got;
	size_t got_len;
	if (rc == SSHRPC_OK && auth_blob_type(sig, sig_len, &got, &got_len) == SSHRPC_OK &&
		(got_len != strlen(alg) || memcmp(got, alg, got_len) != 0))
		rc = SSHRPC_E_UNSUPPORTED;
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put(out, sig, sig_len);
	sshrpc_buf_free(&req);
	sshrpc_buf_free(&reply);
	return rc;
}

int sshrpc_agent_identity_init(sshrpc_agent_identity *ai, const sshrpc_alloc *a, const sshrpc_agent_key *k,
	sshrpc_agent_transact_fn transact, void *transact_ud)
{
	memset(ai, 0, sizeof *ai);
	if (a == NULL)
		a = sshrpc_alloc_default();
	ai->alloc = a;
	ai->blob = sshrpc_malloc(a, k->blob_len == 0 ? 1 : k->blob_len);
	ai->blob_len = k->blob_len;
	ai->comment = auth_strndup(a, (const char *)k->comment, k->comment_len);
	if (ai->blob == NULL || ai->comment == NULL) {
		sshrpc_agent_identity_free(ai);
		return SSHRPC_E_NOMEM;
	}
	/* A comment is shown to the user: no terminal escapes. */
	auth_copy_text(ai->comment, k->comment_len + 1, k->comment, k->comment_len, true);
	memcpy(ai->blob, k->blob, k->blob_len);
	ai->transact = transact;
	ai->transact_ud = transact_ud;
	ai->id.label = ai->comment[0] != '\0' ? ai->comment : "agent key";
	ai->id.pub_blob = ai->blob;
	ai->id.pub_len = ai->blob_len;
	ai->id.ud = ai;
	ai->id.sign = agent_sign;
	return SSHRPC_OK;
}

void sshrpc_agent_identity_free(sshrpc_agent_identity *ai)
{
	if (ai->alloc == NULL)
		return;
	if (ai->blob != NULL)
		sshrpc_free(ai->alloc, ai->blob, ai->blob_len == 0 ? 1 : ai->blob_len);
	auth_strfree(ai->alloc, ai->comment);
	memset(ai, 0, sizeof *ai);
}
