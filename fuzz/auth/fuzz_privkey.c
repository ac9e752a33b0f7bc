/* Private key files (openssh-key-v1 and PEM) on arbitrary bytes. Whatever
 * loads must agree with the public half the file announces; an encrypted
 * openssh-key-v1 file is also tried with the passphrase "fuzz" when its
 * bcrypt rounds are few (so that one input stays fast). */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/keys.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

/* The bcrypt rounds of an openssh-key-v1 file, or 0 when it has none. */
static uint32_t bcrypt_rounds(const uint8_t *data, size_t len)
{
	static const char begin[] = "-----BEGIN OPENSSH PRIVATE KEY-----";
	const char *s = (const char *)data;
	size_t bl = sizeof begin - 1;
	size_t i = 0;
	while (i + bl <= len && memcmp(s + i, begin, bl) != 0)
		i++;
	if (i + bl > len)
		return 0;
	sshrpc_buf bin;
	sshrpc_buf_init(&bin, NULL, SSHRPC_KEYFILE_MAX);
	size_t j = i + bl;
	while (j < len && s[j] != '-')
		j++;
	uint32_t rounds = 0;
	if (sshrpc_base64_decode(s + i + bl, j - i - bl, &bin) == SSHRPC_OK) {
		sshrpc_reader r, k;
		const uint8_t *p;
		size_t n;
		sshrpc_buf_reader(&bin, &r);
		if (sshrpc_rd_skip(&r, 15) == SSHRPC_OK && sshrpc_rd_string(&r, &p, &n) == SSHRPC_OK &&
			sshrpc_rd_string(&r, &p, &n) == SSHRPC_OK && sshrpc_rd_sub(&r, &k) == SSHRPC_OK &&
			sshrpc_rd_string(&k, &p, &n) == SSHRPC_OK && sshrpc_rd_u32(&k, &rounds) != SSHRPC_OK)
			rounds = 0;
	}
	sshrpc_buf_free(&bin);
	return rounds;
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	sshrpc_err err;
	sshrpc_err_clear(&err);
	sshrpc_key *pub = NULL, *priv = NULL;
	(void)sshrpc_privkey_format(data, len);
	bool enc = sshrpc_privkey_is_encrypted(data, len);
	int rp = sshrpc_privkey_public(NULL, "fuzz", data, len, &pub, &err);
	char comment[64];
	const char *pass = NULL;
	uint32_t rounds = bcrypt_rounds(data, len);
	if (enc && rounds > 0 && rounds <= 4)
		pass = "fuzz";
	sshrpc_err_clear(&err);
	int rc = sshrpc_privkey_parse(NULL, "fuzz", data, len, pass, &priv, comment, sizeof comment, &err);
	if (rc == SSHRPC_OK) {
		check(sshrpc_key_has_private(priv));
		check(strlen(comment) < sizeof comment);
		if (rp == SSHRPC_OK)
			check(sshrpc_key_equal_public(pub, priv));
		/* What loads writes back and loads again, to the same key. */
		sshrpc_buf out;
		sshrpc_buf_init(&out, NULL, 0);
		if (sshrpc_privkey_write_openssh(priv, comment, &out) == SSHRPC_OK) {
			sshrpc_key *again = NULL;
			check(sshrpc_privkey_parse(NULL, "again", sshrpc_buf_ptr(&out), sshrpc_buf_len(&out), NULL,
				      &again, NULL, 0, &err) == SSHRPC_OK);
			check(sshrpc_key_equal_public(again, priv));
			sshrpc_key_free(again);
		}
		sshrpc_buf_free(&out);
	} else {
		check(priv == NULL);
		check(err.msg[0] != '\0');
	}
	sshrpc_key_free(pub);
	sshrpc_key_free(priv);
	return 0;
}
