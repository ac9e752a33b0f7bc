/* The call every latency run makes, sys:echo(<<payload>>), in each form a
 * mode needs: the {mfa,...} frame, the exec text, a {call,Id,...} frame
 * whose Id is patched in place (so that building a pipelined call costs
 * the client nothing worth measuring), and the command line that makes the
 * same call under OpenSSH. Every reply is checked: the first one is decoded
 * and printed as text and must read {ok,<<payload>>}; the others must be
 * byte-identical to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_rpc.h"

#define ID_MARK 0x5A5A5A5Au

static int shell_quote(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	if (cap < 3)
		return -1;
	out[n++] = '\'';
	for (; *s != '\0'; s++) {
		const char *piece = *s == '\'' ? "'\\''" : NULL;
		size_t pl = piece ? strlen(piece) : 1;
		if (n + pl + 2 > cap)
			return -1;
		if (piece)
			memcpy(out + n, piece, pl);
		else
			out[n] = *s;
		n += pl;
	}
	out[n++] = '\'';
	out[n] = '\0';
	return 0;
}

int bench_call_setup(bench_ctx *b, char *err, size_t errlen)
{
	size_t cap = b->payload + 64;
	char *text = malloc(cap);
	if (text == NULL)
		return -1;
	size_t n = (size_t)snprintf(text, cap, "sys:echo(<<\"");
	for (size_t i = 0; i < b->payload; i++)
		text[n++] = (char)('a' + i % 26);
	snprintf(text + n, cap - n, "\">>)");
	int rc = rpcwire_make_request(&b->echo, text, err, errlen);
	free(text);
	if (rc != 0)
		return -1;
	sshrpc_buf f;
	sshrpc_buf_init(&f, NULL, 0);
	if (rpcwire_make_call_frame(&b->echo, ID_MARK, &f) != 0) {
		snprintf(err, errlen, "cannot build the {call,Id,...} frame");
		sshrpc_buf_free(&f);
		return -1;
	}
	b->call_frame_len = sshrpc_buf_len(&f);
	b->call_frame = malloc(b->call_frame_len);
	memcpy(b->call_frame, sshrpc_buf_ptr(&f), b->call_frame_len);
	sshrpc_buf_free(&f);
	/* INTEGER_EXT (98) and the four bytes of the mark */
	static const uint8_t mark[5] = { 98, 0x5A, 0x5A, 0x5A, 0x5A };
	b->call_id_off = 0;
	for (size_t i = 4; i + 5 <= b->call_frame_len; i++)
		if (memcmp(b->call_frame + i, mark, 5) == 0) {
			b->call_id_off = i + 1;
			break;
		}
	if (b->call_id_off == 0) {
		snprintf(err, errlen, "the {call,Id,...} frame does not carry Id as INTEGER_EXT");
		return -1;
	}
	char q1[PATH_MAX + 16], q2[600];
	if (shell_quote(q1, sizeof q1, b->sshrpcd) != 0 || shell_quote(q2, sizeof q2, b->echo.mfa_text) != 0) {
		snprintf(err, errlen, "exec command too long");
		return -1;
	}
	if ((size_t)snprintf(b->exec_cmd, sizeof b->exec_cmd, "%s --exec %s", q1, q2) >= sizeof b->exec_cmd) {
		snprintf(err, errlen, "exec command too long");
		return -1;
	}
	return 0;
}

void bench_call_free(bench_ctx *b)
{
	rpcwire_request_free(&b->echo);
	free(b->reply);
	free(b->call_frame);
	b->reply = b->call_frame = NULL;
}

void bench_call_patch_id(uint8_t *frame, size_t off, uint32_t id)
{
	frame[off] = (uint8_t)(id >> 24);
	frame[off + 1] = (uint8_t)(id >> 16);
	frame[off + 2] = (uint8_t)(id >> 8);
	frame[off + 3] = (uint8_t)id;
}

int bench_call_check_mfa(bench_ctx *b, const uint8_t *etf, size_t len)
{
	if (b->reply != NULL)
		return len == b->reply_len && memcmp(etf, b->reply, len) == 0 ? 0 : -1;
	sshrpc_buf txt;
	sshrpc_buf_init(&txt, NULL, 0);
	char why[64];
	int kind = rpcwire_print_reply(&txt, etf, len, why, sizeof why);
	size_t want_len = b->payload + 12;
	char *want = malloc(want_len + 1);
	size_t n = (size_t)snprintf(want, want_len + 1, "{ok,<<\"");
	for (size_t i = 0; i < b->payload; i++)
		want[n++] = (char)('a' + i % 26);
	n += (size_t)snprintf(want + n, want_len + 1 - n, "\">>}\n");
	bool ok = kind == RPC_REPLY_OK && sshrpc_buf_len(&txt) == n && memcmp(sshrpc_buf_ptr(&txt), want, n) == 0;
	if (!ok)
		fprintf(stderr, "sshrpc-bench: unexpected reply: %.*s", (int)sshrpc_buf_len(&txt),
			(const char *)sshrpc_buf_ptr(&txt));
	free(want);
	sshrpc_buf_free(&txt);
	if (!ok)
		return -1;
	b->reply = malloc(len);
	memcpy(b->reply, etf, len);
	b->reply_len = len;
	return 0;
}

static size_t skip_atom(const uint8_t *p, size_t len, const char *name)
{
	size_t nl = strlen(name), hl, al;
	if (len < 2)
		return 0;
	switch (p[0]) {
	case 115: /* SMALL_ATOM_EXT */
	case 119: /* SMALL_ATOM_UTF8_EXT */
		hl = 2;
		al = p[1];
		break;
	case 100: /* ATOM_EXT */
	case 118: /* ATOM_UTF8_EXT */
		if (len < 3)
			return 0;
		hl = 3;
		al = (size_t)p[1] << 8 | p[2];
		break;
	default:
		return 0;
	}
	if (al != nl || len < hl + al || memcmp(p + hl, name, nl) != 0)
		return 0;
	return hl + al;
}

int bench_call_check_reply(const bench_ctx *b, const uint8_t *etf, size_t len, uint64_t *id)
{
	/* 131, SMALL_TUPLE_EXT 3, 'reply', Id, then R as in the {mfa,...} reply */
	if (b->reply == NULL || len < 4 || etf[0] != 131 || etf[1] != 104 || etf[2] != 3)
		return -1;
	size_t off = 3;
	size_t a = skip_atom(etf + off, len - off, "reply");
	if (a == 0)
		return -1;
	off += a;
	if (off + 2 > len)
		return -1;
	if (etf[off] == 97) { /* SMALL_INTEGER_EXT */
		*id = etf[off + 1];
		off += 2;
	} else if (etf[off] == 98 && off + 5 <= len) { /* INTEGER_EXT */
		*id = (uint64_t)sshrpc_load_be32(etf + off + 1);
		off += 5;
	} else if (etf[off] == 110 && off + 3 <= len && etf[off + 2] == 0 && etf[off + 1] <= 8 &&
		   off + 3 + etf[off + 1] <= len) { /* SMALL_BIG_EXT, positive */
		uint64_t v = 0;
		for (int i = etf[off + 1]; i > 0; i--)
			v = v << 8 | etf[off + 2 + i];
		*id = v;
		off += 3 + etf[off + 1];
	} else {
		return -1;
	}
	return len - off == b->reply_len - 1 && memcmp(etf + off, b->reply + 1, len - off) == 0 ? 0 : -1;
}

int bench_sink_frame(size_t n, uint8_t **frame, size_t *len)
{
	/* {mfa,{sys,sink,[<<n bytes>>]}} in ETF, built directly: the term
	 * text of a megabyte binary would take longer to parse than to send. */
	static const uint8_t head[] = { 131, 104, 2, 119, 3, 'm', 'f', 'a', 104, 3, 119, 3, 's', 'y', 's', 119, 4, 's',
		'i', 'n', 'k', 108, 0, 0, 0, 1, 109 };
	size_t body = sizeof head + 4 + n + 1;
	uint8_t *f = malloc(4 + body);
	if (f == NULL)
		return -1;
	sshrpc_store_be32(f, (uint32_t)body);
	memcpy(f + 4, head, sizeof head);
	sshrpc_store_be32(f + 4 + sizeof head, (uint32_t)n);
	uint8_t *d = f + 4 + sizeof head + 4;
	uint64_t x = 0x9E3779B97F4A7C15u;
	for (size_t i = 0; i < n; i++) { /* xorshift bytes: nothing a compressor or a zero page could shortcut */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
	f[4 + body - 1] = 106; /* NIL */
	*frame = f;
	*len = 4 + body;
	return 0;
}

int bench_sink_check(size_t n, const uint8_t *etf, size_t len, uint8_t **ref, size_t *ref_len)
{
	if (*ref != NULL)
		return len == *ref_len && memcmp(etf, *ref, len) == 0 ? 0 : -1;
	sshrpc_buf txt;
	sshrpc_buf_init(&txt, NULL, 0);
	char why[64], want[48];
	int kind = rpcwire_print_reply(&txt, etf, len, why, sizeof why);
	int wl = snprintf(want, sizeof want, "{ok,%zu}\n", n);
	bool ok = kind == RPC_REPLY_OK && sshrpc_buf_len(&txt) == (size_t)wl &&
		  memcmp(sshrpc_buf_ptr(&txt), want, (size_t)wl) == 0;
	if (!ok)
		fprintf(stderr, "sshrpc-bench: unexpected sys:sink reply: %.*s", (int)sshrpc_buf_len(&txt),
			(const char *)sshrpc_buf_ptr(&txt));
	sshrpc_buf_free(&txt);
	if (!ok)
		return -1;
	*ref = malloc(len);
	memcpy(*ref, etf, len);
	*ref_len = len;
	return 0;
}
