/* The wire reader fed arbitrary bytes: the first byte of each step picks a
 * read, the rest is its input. Whatever is read successfully is written back
 * with the writer and read again, and must come back identical. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "sshrpc/wire.h"

static void check(int cond)
{
	if (!cond)
		abort();
}

int sshrpc_fuzz_one(const uint8_t *data, size_t len)
{
	sshrpc_reader r;
	sshrpc_rd_init(&r, data, len);
	sshrpc_buf out;
	sshrpc_buf_init(&out, NULL, 1 << 20);
	uint8_t op;
	while (sshrpc_rd_u8(&r, &op) == SSHRPC_OK) {
		size_t before = r.off;
		const uint8_t *p;
		size_t n;
		bool neg;
		int rc;
		switch (op % 8) {
		case 0: {
			uint32_t v;
			if ((rc = sshrpc_rd_u32(&r, &v)) == SSHRPC_OK)
				check(sshrpc_buf_put_u32(&out, v) == SSHRPC_OK);
			break;
		}
		case 1: {
			uint64_t v;
			if ((rc = sshrpc_rd_u64(&r, &v)) == SSHRPC_OK)
				check(sshrpc_buf_put_u64(&out, v) == SSHRPC_OK);
			break;
		}
		case 2:
			if ((rc = sshrpc_rd_string(&r, &p, &n)) == SSHRPC_OK) {
				check(p + n <= data + len);
				if (sshrpc_buf_put_string(&out, p, n) != SSHRPC_OK)
					rc = -1;
			}
			break;
		case 3:
			if ((rc = sshrpc_rd_mpint(&r, &p, &n, &neg)) == SSHRPC_OK) {
				/* A valid mpint re-encodes to itself. */
				sshrpc_buf t;
				sshrpc_buf_init(&t, NULL, 0);
				check(sshrpc_buf_put_mpint_twos(&t, p, n) == SSHRPC_OK);
				check(sshrpc_buf_len(&t) == r.off - before);
				check(memcmp(sshrpc_buf_ptr(&t), data + before, r.off - before) == 0);
				sshrpc_buf_free(&t);
			}
			break;
		case 4:
			if ((rc = sshrpc_rd_mpint_unsigned(&r, &p, &n)) == SSHRPC_OK) {
				sshrpc_buf t;
				sshrpc_buf_init(&t, NULL, 0);
				check(sshrpc_buf_put_mpint_unsigned(&t, p, n) == SSHRPC_OK);
				check(sshrpc_buf_len(&t) == r.off - before);
				check(memcmp(sshrpc_buf_ptr(&t), data + before, r.off - before) == 0);
				sshrpc_buf_free(&t);
			}
			break;
		case 5: {
			const char *l;
			if ((rc = sshrpc_rd_namelist(&r, &l, &n)) == SSHRPC_OK) {
				size_t pos = 0, nl;
				const char *name;
				while (sshrpc_namelist_next(l, n, &pos, &name, &nl))
					check(nl > 0 && nl <= SSHRPC_NAME_MAX);
			}
			break;
		}
		case 6: {
			char s[64];
			rc = sshrpc_rd_cstring(&r, s, sizeof s);
			if (rc == SSHRPC_OK)
				check(strlen(s) < sizeof s);
			break;
		}
		default: {
			sshrpc_reader sub;
			if ((rc = sshrpc_rd_sub(&r, &sub)) == SSHRPC_OK) {
				bool b;
				while (sshrpc_rd_bool(&sub, &b) == SSHRPC_OK)
					;
				check(sshrpc_rd_end(&sub) == SSHRPC_OK);
			}
			break;
		}
		}
		if (rc != SSHRPC_OK) {
			check(r.off == before); /* failed reads do not move */
			break;
		}
	}
	/* Everything written reads back. */
	sshrpc_reader back;
	sshrpc_buf_reader(&out, &back);
	check(back.len == sshrpc_buf_len(&out));
	sshrpc_buf_free(&out);
	return 0;
}
