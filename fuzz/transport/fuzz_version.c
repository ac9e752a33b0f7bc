/* Version exchange (RFC 4253 §4.2) in either role, bytes arriving in
 * chunks of a size the input chooses, then whatever follows as packets.
 * Input: byte 0: bit 0 role (1 server), bits 1-7 chunk size - 1; the rest
 * is the peer's byte stream. */
#include "fuzz.h"
#include "fuzz_common.h"

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	fz_in in = { data, len, 0 };
	uint8_t ctl = fz_u8(&in);
	sshrpc_transport_config c = { 0 };
	size_t nk;
	c.role = (ctl & 1) ? SSHRPC_ROLE_SERVER : SSHRPC_ROLE_CLIENT;
	c.hostkey_check = sshrpc_transport_hostkey_accept_any;
	c.host_keys = fz_host_keys(&nk);
	c.n_host_keys = 1; /* ed25519 */
	c.max_packet = 35000;
	sshrpc_transport *t = NULL;
	if (sshrpc_transport_new(&c, &t, NULL) != SSHRPC_OK)
		return 0;
	size_t chunk = (size_t)(ctl >> 1) + 1;
	const uint8_t *p;
	size_t n;
	while ((n = fz_take(&in, chunk, &p)) > 0) {
		fz_feed(t, p, n);
		if (sshrpc_transport_get_state(t) == SSHRPC_TRANSPORT_CLOSED)
			break;
	}
	sshrpc_transport_input_eof(t);
	fz_drive(t);
	sshrpc_transport_free(t);
	return 0;
}
