/* The ssh-agent reply parser on arbitrary bytes: frames are cut as the
 * length prefixes say, identities answers and sign responses parsed; every
 * key handed out is within the input and becomes an agent identity. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/auth.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

typedef struct span {
	const uint8_t *p;
	size_t n;
} span;

static int each_key(void *ud, const sshrpc_agent_key *k)
{
	span *in = ud;
	check(k->blob >= in->p && k->blob + k->blob_len <= in->p + in->n);
	check(k->comment >= in->p && k->comment + k->comment_len <= in->p + in->n);
	sshrpc_agent_identity ai;
	if (sshrpc_agent_identity_init(&ai, NULL, k, NULL, NULL) == SSHRPC_OK) {
		check(ai.id.pub_len == k->blob_len);
		sshrpc_agent_identity_free(&ai);
	}
	sshrpc_key *key = NULL;
	if (sshrpc_key_from_blob(NULL, k->blob, k->blob_len, &key) == SSHRPC_OK)
		sshrpc_key_free(key);
	return 0;
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	size_t off = 0;
	while (off < len) {
		const uint8_t *msg;
		size_t msg_len, used;
		int rc = sshrpc_agent_reply(data + off, len - off, &msg, &msg_len, &used);
		if (rc != SSHRPC_OK)
			break;
		check(used == msg_len + 4 && used <= len - off);
		span in = { msg, msg_len };
		size_t count = 0;
		rc = sshrpc_agent_parse_identities(msg, msg_len, each_key, &in, &count);
		check(rc == SSHRPC_OK || rc == SSHRPC_E_DENIED || rc == SSHRPC_E_INVALID);
		const uint8_t *sig;
		size_t sig_len;
		if (sshrpc_agent_parse_sign_response(msg, msg_len, &sig, &sig_len) == SSHRPC_OK)
			check(sig >= msg && sig + sig_len <= msg + msg_len);
		off += used;
	}
	return 0;
}
