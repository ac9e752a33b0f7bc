/* The client half of the ssh-agent protocol (draft-miller-ssh-agent-17 §3,
 * §4.4, §4.5): each message is a uint32 length and that many bytes, the
 * first being the type. Sans-I/O: the program moves the bytes over
 * SSH_AUTH_SOCK. */
#include "auth_internal.h"

int sshrpc_agent_request_identities(sshrpc_buf *out)
{
	int rc = sshrpc_buf_put_u32(out, 1);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u8(out, SSH_AGENTC_REQUEST_IDENTITIES);
	return rc;
}

uint32_t sshrpc_agent_sign_flags(const char *alg)
{
	if (alg == NULL)
		return 0;
	if (strcmp(alg, "rsa-sha2-256") == 0)
		return SSHRPC_AGENT_RSA_SHA2_256;
	if (strcmp(alg, "rsa-sha2-512") == 0)
		return SSHRPC_AGENT_RSA_SHA2_512;
	return 0;
}

int sshrpc_agent_sign_request(
	sshrpc_buf *out, const uint8_t *key_blob, size_t blob_len, const uint8_t *data, size_t data_len, uint32_t flags)
{
	size_t mark;
	int rc = sshrpc_buf_string_begin(out, &mark);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u8(out, SSH_AGENTC_SIGN_REQUEST);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(out, key_blob, blob_len);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_string(out, data, data_len);
	if (rc == SSHRPC_OK)
		rc = sshrpc_buf_put_u32(out, flags);
	if (rc == SSHRPC_OK) {
		if (sshrpc_buf_len(out) - mark - 4 > SSHRPC_AGENT_MAX_MSG)
			return SSHRPC_E_TOO_LARGE;
		sshrpc_buf_string_end(out, mark);
	}
	return rc;
}

int sshrpc_agent_reply(const uint8_t *p, size_t len, const uint8_t **msg, size_t *msg_len, size_t *consumed)
{
	if (len < 4)
		return SSHRPC_E_AGAIN;
	uint32_t n = sshrpc_load_be32(p);
	if (n == 0)
		return SSHRPC_E_INVALID;
	if (n > SSHRPC_AGENT_MAX_MSG)
		return SSHRPC_E_TOO_LARGE;
	if (len - 4 < n)
		return SSHRPC_E_AGAIN;
	*msg = p + 4;
	*msg_len = n;
	*consumed = 4 + (size_t)n;
	return SSHRPC_OK;
}

/* FAILURE and its extension variant mean "no", not "malformed". */
static bool is_failure(uint8_t t)
{
	return t == SSH_AGENT_FAILURE || t == SSH_AGENT_EXTENSION_FAILURE;
}

int sshrpc_agent_parse_identities(
	const uint8_t *msg, size_t len, int (*cb)(void *ud, const sshrpc_agent_key *k), void *ud, size_t *count)
{
	sshrpc_reader r;
	uint8_t type;
	uint32_t n;
	sshrpc_rd_init(&r, msg, len);
	if (count != NULL)
		*count = 0;
	if (sshrpc_rd_u8(&r, &type) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	if (is_failure(type))
		return SSHRPC_E_DENIED;
	if (type != SSH_AGENT_IDENTITIES_ANSWER || sshrpc_rd_u32(&r, &n) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	/* Each key needs at least 8 bytes (two empty strings): a count that
	 * cannot fit is refused before anything is handed out. */
	if (n > sshrpc_rd_left(&r) / 8)
		return SSHRPC_E_INVALID;
	/* Validate the whole list first, so a bad tail yields no keys at all. */
	sshrpc_reader check = r;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *p;
		size_t l;
		if (sshrpc_rd_string(&check, &p, &l) != SSHRPC_OK || l == 0 ||
			sshrpc_rd_string(&check, &p, &l) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
	}
	if (sshrpc_rd_end(&check) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	for (uint32_t i = 0; i < n; i++) {
		sshrpc_agent_key k;
		if (sshrpc_rd_string(&r, &k.blob, &k.blob_len) != SSHRPC_OK ||
			sshrpc_rd_string(&r, &k.comment, &k.comment_len) != SSHRPC_OK)
			return SSHRPC_E_INVALID;
		if (count != NULL)
			(*count)++;
		if (cb != NULL) {
			int rc = cb(ud, &k);
			if (rc != 0)
				return rc;
		}
	}
	return SSHRPC_OK;
}

int sshrpc_agent_parse_sign_response(const uint8_t *msg, size_t len, const uint8_t **sig, size_t *sig_len)
{
	sshrpc_reader r;
	uint8_t type;
	sshrpc_rd_init(&r, msg, len);
	if (sshrpc_rd_u8(&r, &type) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	if (is_failure(type))
		return SSHRPC_E_DENIED;
	if (type != SSH_AGENT_SIGN_RESPONSE || sshrpc_rd_string(&r, sig, sig_len) != SSHRPC_OK ||
		sshrpc_rd_end(&r) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	/* The signature must itself be (string alg, string blob). */
	sshrpc_reader s;
	const uint8_t *p;
	size_t l;
	sshrpc_rd_init(&s, *sig, *sig_len);
	if (sshrpc_rd_string(&s, &p, &l) != SSHRPC_OK || l == 0 || sshrpc_rd_string(&s, &p, &l) != SSHRPC_OK ||
		sshrpc_rd_end(&s) != SSHRPC_OK)
		return SSHRPC_E_INVALID;
	return SSHRPC_OK;
}
