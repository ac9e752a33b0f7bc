#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static void h_log(void *ud, int level, const char *msg)
{
	harness *H = ud;
	if (H->nlog < H_MAX_LOG)
		H->log[H->nlog++] = strdup(msg);
}

void h_init(harness *H)
{
	memset(H, 0, sizeof *H);
	test_alloc_init(&H->ta);
	cr_assert_eq(sshrpc_rpc_registry_new(&H->ta.a, &H->reg), SSHRPC_OK);
	cr_assert_eq(sshrpc_rpc_sys_register(H->reg), SSHRPC_OK);
	H->cfg.alloc = &H->ta.a;
	H->cfg.registry = H->reg;
	H->cfg.log = h_log;
	H->cfg.log_ud = H;
	H->cfg.log_prefix = "test";
	H->now = 1000;
	sshrpc_frame_rd_init(&H->rd, NULL, 0x7fffffff);
}

void h_start(harness *H)
{
	cr_assert_eq(sshrpc_rpc_session_new(&H->cfg, &H->s), SSHRPC_OK);
}

void h_free(harness *H)
{
	sshrpc_rpc_session_free(H->s);
	sshrpc_rpc_acl_free(H->acl);
	sshrpc_rpc_registry_free(H->reg);
	sshrpc_frame_rd_free(&H->rd);
	for (size_t i = 0; i < H->nlog; i++)
		free(H->log[i]);
	cr_expect_eq(H->ta.live_blocks, 0, "%zu blocks leaked", H->ta.live_blocks);
	cr_expect_eq(H->ta.live_bytes, 0, "%zu bytes leaked", H->ta.live_bytes);
}

uint8_t *h_frame(const char *req_text, size_t *len)
{
	sshrpc_heap h;
	sshrpc_heap_init(&h, NULL, 0);
	sshrpc_term t;
	sshrpc_err err = { 0 };
	cr_assert_eq(
		sshrpc_term_parse(&h, req_text, strlen(req_text), &t, &err), SSHRPC_OK, "%s: %s", req_text, err.msg);
	sshrpc_buf b;
	sshrpc_buf_init(&b, NULL, 0);
	cr_assert_eq(sshrpc_frame_write(&b, &t, NULL, 0, NULL), SSHRPC_OK);
	*len = sshrpc_buf_len(&b);
	uint8_t *p = malloc(*len);
	memcpy(p, sshrpc_buf_ptr(&b), *len);
	sshrpc_buf_free(&b);
	sshrpc_heap_free(&h);
	return p;
}

int h_send(harness *H, const char *req_text)
{
	size_t n, used;
	uint8_t *p = h_frame(req_text, &n);
	int rc = sshrpc_rpc_session_input(H->s, p, n, &used, H->now);
	if (rc == SSHRPC_OK)
		cr_expect_eq(used, n);
	free(p);
	return rc;
}

char *h_replies(harness *H)
{
	size_t cap = 256, len = 0;
	char *s = malloc(cap);
	s[0] = '\0';
	size_t n;
	const uint8_t *p = sshrpc_rpc_session_output(H->s, &n);
	size_t off = 0;
	while (off < n) {
		size_t used;
		int rc = sshrpc_frame_rd_feed(&H->rd, p + off, n - off, &used, NULL);
		off += used;
		if (rc != SSHRPC_OK)
			break;
		uint8_t *msg;
		size_t mlen;
		cr_assert_eq(sshrpc_frame_rd_take(&H->rd, &msg, &mlen), SSHRPC_OK);
		sshrpc_heap h;
		sshrpc_heap_init(&h, NULL, 0);
		sshrpc_term t;
		sshrpc_err err = { 0 };
		cr_assert_eq(
			sshrpc_etf_decode(&h, msg, mlen, 0, NULL, &t, NULL, &err), SSHRPC_OK, "reply: %s", err.msg);
		sshrpc_buf b;
		sshrpc_buf_init(&b, NULL, 0);
		cr_assert_eq(sshrpc_term_print(&b, &t, NULL), SSHRPC_OK);
		size_t need = len + sshrpc_buf_len(&b) + 4;
		if (need > cap) {
			while (cap < need)
				cap *= 2;
			s = realloc(s, cap);
		}
		if (len > 0) {
			memcpy(s + len, " ; ", 3);
			len += 3;
		}
		memcpy(s + len, sshrpc_buf_ptr(&b), sshrpc_buf_len(&b));
		len += sshrpc_buf_len(&b);
		s[len] = '\0';
		sshrpc_buf_free(&b);
		sshrpc_heap_free(&h);
		free(msg);
	}
	sshrpc_rpc_session_consume(H->s, off);
	return s;
}

bool h_logged(const harness *H, const char *needle)
{
	for (size_t i = 0; i < H->nlog; i++) {
		if (strstr(H->log[i], needle) != NULL)
			return true;
	}
	return false;
}
