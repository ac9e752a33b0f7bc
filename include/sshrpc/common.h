/* sshrpc: what every layer shares — the error type, the allocator, SSH
 * disconnect reason codes. No layer-specific types live here. */
#ifndef SSHRPC_COMMON_H
#define SSHRPC_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define SSHRPC_MUST_USE __attribute__((warn_unused_result))
#define SSHRPC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SSHRPC_MUST_USE
#define SSHRPC_PRINTF(a, b)
#endif

/* Drops a result on purpose (gcc ignores a (void) cast on warn_unused_result). */
#define SSHRPC_IGNORE(expr)                                                                                            \
	do {                                                                                                           \
		int sshrpc_ignored_ = (expr);                                                                          \
		(void)sshrpc_ignored_;                                                                                 \
	} while (0)

/* Status codes: 0 is success, every failure is negative. */
enum sshrpc_status {
	SSHRPC_OK = 0,
	SSHRPC_E_AGAIN = -1,	   /* nothing to do until more input arrives */
	SSHRPC_E_TRUNCATED = -2,   /* a read would pass the end of its input */
	SSHRPC_E_INVALID = -3,	   /* malformed encoding */
	SSHRPC_E_TOO_LARGE = -4,   /* a configured or hard limit is exceeded */
	SSHRPC_E_NOMEM = -5,	   /* the allocator refused */
	SSHRPC_E_CRYPTO = -6,	   /* the crypto backend failed */
	SSHRPC_E_MAC = -7,	   /* an integrity check failed */
	SSHRPC_E_PROTOCOL = -8,	   /* the peer broke a protocol rule */
	SSHRPC_E_UNSUPPORTED = -9, /* an algorithm or feature we do not have */
	SSHRPC_E_CLOSED = -10,	   /* the session or channel is closed */
	SSHRPC_E_DENIED = -11,	   /* refused by policy or authentication */
	SSHRPC_E_STATE = -12,	   /* the API was called in the wrong state */
	SSHRPC_E_WOULDBLOCK = -13, /* no room now: a window or queue is full */
	SSHRPC_E_PASSPHRASE = -14, /* missing or wrong passphrase */
	SSHRPC_E_IO = -15,	   /* a file or socket operation failed (programs) */
	SSHRPC_E_HOSTKEY = -16,	   /* host key not accepted */
	SSHRPC_E_TIMEOUT = -17,	   /* a deadline passed */
};

/* SSH_MSG_DISCONNECT reason codes, RFC 4250 §4.2.2. */
enum sshrpc_disconnect_reason {
	SSH_DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT = 1,
	SSH_DISCONNECT_PROTOCOL_ERROR = 2,
	SSH_DISCONNECT_KEY_EXCHANGE_FAILED = 3,
	SSH_DISCONNECT_RESERVED = 4,
	SSH_DISCONNECT_MAC_ERROR = 5,
	SSH_DISCONNECT_COMPRESSION_ERROR = 6,
	SSH_DISCONNECT_SERVICE_NOT_AVAILABLE = 7,
	SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED = 8,
	SSH_DISCONNECT_HOST_KEY_NOT_VERIFIABLE = 9,
	SSH_DISCONNECT_CONNECTION_LOST = 10,
	SSH_DISCONNECT_BY_APPLICATION = 11,
	SSH_DISCONNECT_TOO_MANY_CONNECTIONS = 12,
	SSH_DISCONNECT_AUTH_CANCELLED_BY_USER = 13,
	SSH_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE = 14,
	SSH_DISCONNECT_ILLEGAL_USER_NAME = 15,
};

/* One error type across layers (architecture.md, "Errors"): a status code,
 * the disconnect reason it maps to (0 when it ends nothing), and a message
 * that names the rule broken. The first error set is kept (sticky). */
typedef struct sshrpc_err {
	int code;
	uint32_t reason;
	char msg[240];
} sshrpc_err;

/* Records the error unless one is already recorded; returns code, so that
 * `return sshrpc_err_set(e, ...)` reads naturally. e may be NULL. */
int sshrpc_err_set(sshrpc_err *e, int code, uint32_t reason, const char *fmt, ...) SSHRPC_PRINTF(4, 5);
void sshrpc_err_clear(sshrpc_err *e);
const char *sshrpc_strerror(int code);
const char *sshrpc_disconnect_reason_name(uint32_t reason);

/* The allocator every layer allocates through. realloc_fn(ud, p, old, new)
 * with new == 0 frees p and returns NULL; with p == NULL it allocates. */
typedef struct sshrpc_alloc {
	void *(*realloc_fn)(void *ud, void *p, size_t old_size, size_t new_size);
	void *ud;
} sshrpc_alloc;

const sshrpc_alloc *sshrpc_alloc_default(void);
void *sshrpc_malloc(const sshrpc_alloc *a, size_t n);
void *sshrpc_calloc(const sshrpc_alloc *a, size_t n);
void *sshrpc_realloc(const sshrpc_alloc *a, void *p, size_t old_size, size_t new_size);
void sshrpc_free(const sshrpc_alloc *a, void *p, size_t size);
/* Wipes then frees: for anything that held key material. */
void sshrpc_free_secret(const sshrpc_alloc *a, void *p, size_t size);
/* A memset the compiler may not remove. */
void sshrpc_wipe(void *p, size_t n);
/* Constant-time comparison: 0 when equal. */
int sshrpc_ct_memcmp(const void *a, const void *b, size_t n);

/* Log levels, OpenSSH's LogLevel names. */
enum sshrpc_log_level {
	SSHRPC_LOG_QUIET = 0,
	SSHRPC_LOG_ERROR,
	SSHRPC_LOG_INFO,
	SSHRPC_LOG_VERBOSE,
	SSHRPC_LOG_DEBUG,
};
typedef void (*sshrpc_log_fn)(void *ud, int level, const char *msg);

#endif
