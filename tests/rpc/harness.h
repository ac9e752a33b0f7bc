/* A session driven from a test: requests written as term text, replies
 * read back as term text. */
#ifndef SSHRPC_TEST_RPC_HARNESS_H
#define SSHRPC_TEST_RPC_HARNESS_H

#include "util.h"

#define H_MAX_LOG 64

typedef struct harness {
	test_alloc ta;
	sshrpc_rpc_registry *reg;
	sshrpc_rpc_session *s;
	sshrpc_rpc_config cfg;
	sshrpc_rpc_acl *acl;
	uint64_t now;
	char *log[H_MAX_LOG];
	size_t nlog;
	sshrpc_frame_rd rd; /* replies */
} harness;

/* A registry with sys and the test functions of test_session.c registered
 * by the caller; cfg may be adjusted before h_start. */
void h_init(harness *H);
void h_start(harness *H);
void h_free(harness *H);
/* Frames and sends a request given as text; returns session_input's rc. */
int h_send(harness *H, const char *req_text);
/* The ETF of a request text, framed (malloc'd). */
uint8_t *h_frame(const char *req_text, size_t *len);
/* Drains the output: the replies as text, joined by " ; " (malloc'd, "" if
 * none). */
char *h_replies(harness *H);
bool h_logged(const harness *H, const char *needle);

#endif
