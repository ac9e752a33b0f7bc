/* Client-side RPC messages for the programs: a call's text turned into the
 * {mfa,...} request (as ETF frame and as exec text), and replies printed. */
#ifndef SSHRPC_PROGRAMS_RPCWIRE_H
#define SSHRPC_PROGRAMS_RPCWIRE_H

#include <stddef.h>
#include <stdint.h>

#include "sshrpc/wire.h"

typedef struct rpc_request {
	char *mfa_text; /* "{mfa,{M,F,Args}}." for exec requests */
	uint8_t *frame; /* 4-byte length + ETF of {mfa,{M,F,Args}} */
	size_t frame_len;
} rpc_request;

enum { RPC_REPLY_OK = 0, RPC_REPLY_ERROR = 1, RPC_REPLY_BAD = 2 };

/* call is "Module:Function(Args)" (a final '.' allowed) or a request term
 * "{mfa,{M,F,Args}}". */
int rpcwire_make_request(rpc_request *rq, const char *call, char *err, size_t errlen);
void rpcwire_request_free(rpc_request *rq);
/* Builds the frame of {call,Id,{M,F,Args}} from a request's frame. */
int rpcwire_make_call_frame(const rpc_request *rq, uint64_t id, sshrpc_buf *out);
/* Appends the reply term as text and a newline; says whether it is
 * {ok,_}, {error,_} or not a reply at all. */
int rpcwire_print_reply(sshrpc_buf *out, const uint8_t *etf, size_t len, char *why, size_t whylen);
/* Decodes {reply,Id,R}: *id, and whether R is {ok,_}. -1 if malformed. */
int rpcwire_reply_id(const uint8_t *etf, size_t len, uint64_t *id, int *kind);

#endif
