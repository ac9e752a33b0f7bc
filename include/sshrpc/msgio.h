/* The narrow interface between layers (architecture.md, "Layers"): each
 * layer offers the layer above it a message pipe of this shape and takes one
 * from the layer below. transport/ offers one over the binary packet
 * protocol, auth/ passes connection messages through its own once
 * authentication succeeded, and tests or fuzzers can offer a fake one. */
#ifndef SSHRPC_MSGIO_H
#define SSHRPC_MSGIO_H

#include "sshrpc/wire.h"

typedef struct sshrpc_msg_io {
	void *ctx;
	/* The next message for the layer above: *msg starts with the message
	 * number. Borrowed; valid until the next recv on this pipe.
	 * SSHRPC_E_AGAIN when none is complete yet. Any other negative value
	 * is fatal for the session (see err). */
	int (*recv)(void *ctx, const uint8_t **msg, size_t *len);
	/* Starts a message of the given number: *w is a buffer to append the
	 * rest of the payload to, valid until end. The message goes out (or
	 * waits in order during a key exchange) at end. */
	int (*begin)(void *ctx, uint8_t type, sshrpc_buf **w);
	int (*end)(void *ctx);
	/* Ends the session with SSH_MSG_DISCONNECT (RFC 4253 §11.1). */
	int (*disconnect)(void *ctx, uint32_t reason, const char *description);
	/* The session's error, once recv or end failed. */
	const sshrpc_err *(*error)(void *ctx);
} sshrpc_msg_io;

/* SSH message numbers (RFC 4250 §4.1, RFC 8308, OpenSSH PROTOCOL). */
enum {
	SSH_MSG_DISCONNECT = 1,
	SSH_MSG_IGNORE = 2,
	SSH_MSG_UNIMPLEMENTED = 3,
	SSH_MSG_DEBUG = 4,
	SSH_MSG_SERVICE_REQUEST = 5,
	SSH_MSG_SERVICE_ACCEPT = 6,
	SSH_MSG_EXT_INFO = 7,
	SSH_MSG_KEXINIT = 20,
	SSH_MSG_NEWKEYS = 21,
	SSH_MSG_KEX_30 = 30, /* KEXDH_INIT, KEX_ECDH_INIT, KEX_DH_GEX_REQUEST_OLD */
	SSH_MSG_KEX_31 = 31, /* KEXDH_REPLY, KEX_ECDH_REPLY, KEX_DH_GEX_GROUP */
	SSH_MSG_KEX_DH_GEX_INIT = 32,
	SSH_MSG_KEX_DH_GEX_REPLY = 33,
	SSH_MSG_KEX_DH_GEX_REQUEST = 34,
	SSH_MSG_USERAUTH_REQUEST = 50,
	SSH_MSG_USERAUTH_FAILURE = 51,
	SSH_MSG_USERAUTH_SUCCESS = 52,
	SSH_MSG_USERAUTH_BANNER = 53,
	SSH_MSG_USERAUTH_60 = 60, /* PK_OK, PASSWD_CHANGEREQ, INFO_REQUEST */
	SSH_MSG_USERAUTH_INFO_RESPONSE = 61,
	SSH_MSG_GLOBAL_REQUEST = 80,
	SSH_MSG_REQUEST_SUCCESS = 81,
	SSH_MSG_REQUEST_FAILURE = 82,
	SSH_MSG_CHANNEL_OPEN = 90,
	SSH_MSG_CHANNEL_OPEN_CONFIRMATION = 91,
	SSH_MSG_CHANNEL_OPEN_FAILURE = 92,
	SSH_MSG_CHANNEL_WINDOW_ADJUST = 93,
	SSH_MSG_CHANNEL_DATA = 94,
	SSH_MSG_CHANNEL_EXTENDED_DATA = 95,
	SSH_MSG_CHANNEL_EOF = 96,
	SSH_MSG_CHANNEL_CLOSE = 97,
	SSH_MSG_CHANNEL_REQUEST = 98,
	SSH_MSG_CHANNEL_SUCCESS = 99,
	SSH_MSG_CHANNEL_FAILURE = 100,
};

#endif
