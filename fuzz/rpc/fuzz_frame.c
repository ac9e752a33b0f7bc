/* The {packet,4} reader fed a byte stream cut at places the input picks:
 * every message it hands out must have the length its prefix announced,
 * and the bytes it took must add up. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/rpc.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	if (len < 2)
		return 0;
	/* first byte: the size of the pieces; second: the size limit */
	size_t piece = (size_t)data[0] % 64 + 1;
	size_t max = (size_t)data[1] * 16;
	data += 2;
	len -= 2;
	sshrpc_frame_rd f;
	sshrpc_frame_rd_init(&f, NULL, max);
	size_t off = 0, msg_bytes = 0;
	bool broken = false;
	while (off < len && !broken) {
		size_t k = len - off < piece ? len - off : piece, pos = 0;
		while (pos < k) {
			size_t used;
			int rc = sshrpc_frame_rd_feed(&f, data + off + pos, k - pos, &used, NULL);
			check(used <= k - pos);
			pos += used;
			if (rc == SSHRPC_OK) {
				uint8_t *m;
				size_t n;
				check(sshrpc_frame_rd_take(&f, &m, &n) == SSHRPC_OK);
				check(n <= (max != 0 ? max : SSHRPC_RPC_MAX_MESSAGE_DEFAULT));
				/* the message is the bytes after its prefix */
				size_t start = msg_bytes + 4;
				check(start + n <= len);
				check(n == 0 || memcmp(m, data + start, n) == 0);
				check(sshrpc_load_be32(data + msg_bytes) == n);
				msg_bytes = start + n;
				sshrpc_free(f.alloc, m, n);
			} else if (rc == SSHRPC_E_AGAIN) {
				check(pos == k);
			} else {
				check(rc == SSHRPC_E_TOO_LARGE);
				check(f.declared > (max != 0 ? max : SSHRPC_RPC_MAX_MESSAGE_DEFAULT));
				broken = true;
				break;
			}
		}
		off += k;
	}
	if (!broken)
		check(sshrpc_frame_rd_partial(&f) == len - msg_bytes);
	sshrpc_frame_rd_free(&f);
	return 0;
}
