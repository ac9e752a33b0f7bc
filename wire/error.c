/* The error type shared by every layer (architecture.md, "Errors"). */
#include <stdio.h>
#include <string.h>

#include "sshrpc/common.h"

int sshrpc_err_set(sshrpc_err *e, int code, uint32_t reason, const char *fmt, ...)
{
	if (e == NULL || e->code != 0)
		return code;
	e->code = code;
	e->reason = reason;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	return code;
}

void sshrpc_err_clear(sshrpc_err *e)
{
	memset(e, 0, sizeof *e);
}

const char *sshrpc_strerror(int code)
{
	switch (code) {
	case SSHRPC_OK:
		return "success";
	case SSHRPC_E_AGAIN:
		return "more input needed";
	case SSHRPC_E_TRUNCATED:
		return "truncated input";
	case SSHRPC_E_INVALID:
		return "malformed input";
	case SSHRPC_E_TOO_LARGE:
		return "limit exceeded";
	case SSHRPC_E_NOMEM:
		return "out of memory";
	case SSHRPC_E_CRYPTO:
		return "crypto backend failure";
	case SSHRPC_E_MAC:
		return "integrity check failed";
	case SSHRPC_E_PROTOCOL:
		return "protocol error";
	case SSHRPC_E_UNSUPPORTED:
		return "unsupported";
	case SSHRPC_E_CLOSED:
		return "closed";
	case SSHRPC_E_DENIED:
		return "denied";
	case SSHRPC_E_STATE:
		return "call not valid in this state";
	case SSHRPC_E_WOULDBLOCK:
		return "would block";
	case SSHRPC_E_PASSPHRASE:
		return "missing or wrong passphrase";
	case SSHRPC_E_IO:
		return "I/O error";
	case SSHRPC_E_HOSTKEY:
		return "host key not accepted";
	case SSHRPC_E_TIMEOUT:
		return "timed out";
	default:
		return "unknown error";
	}
}

const char *sshrpc_disconnect_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		"none",
		"HOST_NOT_ALLOWED_TO_CONNECT",
		"PROTOCOL_ERROR",
		"KEY_EXCHANGE_FAILED",
		"RESERVED",
		"MAC_ERROR",
		"COMPRESSION_ERROR",
		"SERVICE_NOT_AVAILABLE",
		"PROTOCOL_VERSION_NOT_SUPPORTED",
		"HOST_KEY_NOT_VERIFIABLE",
		"CONNECTION_LOST",
		"BY_APPLICATION",
		"TOO_MANY_CONNECTIONS",
		"AUTH_CANCELLED_BY_USER",
		"NO_MORE_AUTH_METHODS_AVAILABLE",
		"ILLEGAL_USER_NAME",
	};
	if (reason < sizeof names / sizeof names[0])
		return names[reason];
	return "unknown";
}
