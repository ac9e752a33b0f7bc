/* Writes the seed corpus of the packet_open harness: valid sealed packets
 * for each family (one; three in a row across the 2^32 sequence number
 * wrap; a larger one), plus one with a bad tag and one cut short.
 *   gen-packet-open-corpus OUTDIR
 * Deterministic: the keys are fixed and the padding is a pattern. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packet_families.h"

static void reopen(fam_end *tx, int fam)
{
	if (fam_end_open(tx, fam, SSHRPC_ENCRYPT) != 0) {
		fprintf(stderr, "family %d: cannot set up\n", fam);
		exit(1);
	}
}

typedef struct out {
	uint8_t buf[8192];
	size_t len;
} out;

/* Appends one sealed packet carrying payload (n bytes). */
static void add_packet(out *o, fam_end *tx, uint32_t seqnr, const char *payload, size_t n)
{
	size_t block = tx->ci->block_size;
	bool len_outside = tx->mi == NULL || tx->mi->etm; /* length not part of the blocks */
	size_t x = (len_outside ? 0 : 4) + 1 + n;
	size_t pad = block - x % block;
	if (pad < 4)
		pad += block;
	uint32_t plen = (uint32_t)(1 + n + pad);
	size_t total = 4 + plen;
	if (o->len + total + tx->tag_len > sizeof o->buf) {
		fprintf(stderr, "corpus entry too large\n");
		exit(1);
	}
	uint8_t *p = o->buf + o->len;
	p[0] = (uint8_t)(plen >> 24);
	p[1] = (uint8_t)(plen >> 16);
	p[2] = (uint8_t)(plen >> 8);
	p[3] = (uint8_t)plen;
	p[4] = (uint8_t)pad;
	memcpy(p + 5, payload, n);
	for (size_t i = 0; i < pad; i++)
		p[5 + n + i] = (uint8_t)(0x5a ^ i);
	if (fam_seal(tx, seqnr, p, total) != SSHRPC_OK) {
		fprintf(stderr, "seal failed\n");
		exit(1);
	}
	o->len += total + tx->tag_len;
}

static void write_entry(const char *dir, int fam, const char *what, uint32_t seqnr, const out *o, size_t cut)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%d_%s", dir, fam, what);
	FILE *f = fopen(path, "wb");
	if (f == NULL) {
		perror(path);
		exit(1);
	}
	uint8_t head[5] = { (uint8_t)fam, (uint8_t)(seqnr >> 24), (uint8_t)(seqnr >> 16), (uint8_t)(seqnr >> 8),
		(uint8_t)seqnr };
	if (fwrite(head, 1, 5, f) != 5 || fwrite(o->buf, 1, o->len - cut, f) != o->len - cut || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const char hello[] = "\x05\x00\x00\x00\x0cssh-userauth";	     /* SSH_MSG_SERVICE_REQUEST */
	static const char data[] = "^\x00\x00\x00\x01\x00\x00\x00\x05hello"; /* SSH_MSG_CHANNEL_DATA */
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	for (int fam = 0; fam < FAM_COUNT; fam++) {
		fam_end tx;
		out o;
		reopen(&tx, fam);
		o.len = 0;
		add_packet(&o, &tx, 3, hello, sizeof hello - 1);
		write_entry(argv[1], fam, "one", 3, &o, 0);
		fam_end_free(&tx);

		/* Fresh state again for each entry: the harness starts fresh. */
		reopen(&tx, fam);
		o.len = 0;
		add_packet(&o, &tx, 0xfffffffe, hello, sizeof hello - 1);
		add_packet(&o, &tx, 0xffffffff, data, sizeof data - 1);
		add_packet(&o, &tx, 0, data, sizeof data - 1);
		write_entry(argv[1], fam, "three_seq_wrap", 0xfffffffe, &o, 0);
		fam_end_free(&tx);

		char big[1500];
		for (size_t i = 0; i < sizeof big; i++)
			big[i] = (char)(i * 13);
		big[0] = 94;
		reopen(&tx, fam);
		o.len = 0;
		add_packet(&o, &tx, 1000, big, sizeof big);
		write_entry(argv[1], fam, "large", 1000, &o, 0);
		fam_end_free(&tx);

		reopen(&tx, fam);
		o.len = 0;
		add_packet(&o, &tx, 7, data, sizeof data - 1);
		o.buf[o.len - 1] ^= 0x20;
		write_entry(argv[1], fam, "bad_tag", 7, &o, 0);
		write_entry(argv[1], fam, "cut_short", 7, &o, 1);
		fam_end_free(&tx);
	}
	return 0;
}
