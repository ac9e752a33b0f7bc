/* Protocol version exchange (RFC 4253 §4.2, §5): one line
 * "SSH-protoversion-softwareversion [comments]" CR LF of at most 255
 * characters. A server may send other lines first; a client may not. We
 * accept SSH-2.0 and SSH-1.99 (a server that also speaks SSH-1, §5.1). */
#include <string.h>

#include "transport/internal.h"

#define VERSION_MAX 255	  /* §4.2, CR LF included */
#define PRE_LINE_MAX 1024 /* a line a server sends before its version */
#define PRE_LINES_MAX 1024

static int bad_line(sshrpc_transport *t, const char *what)
{
	return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR, "%s (RFC 4253 §4.2)", what);
}

/* A complete version line (CR LF stripped) of n characters. */
static int take_version(sshrpc_transport *t, const uint8_t *line, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (line[i] < 0x20 || line[i] > 0x7e)
			return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_ERROR,
				"version line has a non-printable byte 0x%02x at offset %zu (RFC 4253 §4.2)",
				(unsigned)line[i], i);
	}
	/* "SSH-" protoversion "-" softwareversion */
	const uint8_t *dash = n > 4 ? memchr(line + 4, '-', n - 4) : NULL;
	if (dash == NULL)
		return bad_line(t, "version line has no '-' after the protocol version");
	size_t pv = (size_t)(dash - (line + 4));
	bool ok = (pv == 3 && memcmp(line + 4, "2.0", 3) == 0) || (pv == 4 && memcmp(line + 4, "1.99", 4) == 0);
	if (!ok)
		return sshrpc_tr_fail(t, SSHRPC_E_PROTOCOL, SSH_DISCONNECT_PROTOCOL_VERSION_NOT_SUPPORTED,
			"protocol version '%.*s' is not supported: 2.0 or 1.99 required (RFC 4253 §5)",
			(int)(pv > 20 ? 20 : pv), (const char *)line + 4);
	memcpy(t->peer_version, line, n);
	t->peer_version[n] = '\0';
	t->have_peer_version = true;
	t->state = SSHRPC_TRANSPORT_FIRST_KEX;
	sshrpc_tr_log(t, SSHRPC_LOG_VERBOSE, "peer version: %s", t->peer_version);
	return SSHRPC_OK;
}

int sshrpc_tr_version_input(sshrpc_transport *t)
{
	while (t->state == SSHRPC_TRANSPORT_VERSION) {
		const uint8_t *p = t->in + t->in_start;
		size_t avail = t->in_end - t->in_start;
		bool ssh = avail >= 4 && memcmp(p, "SSH-", 4) == 0;
		bool maybe_ssh = avail < 4 && memcmp(p, "SSH-", avail) == 0;
		if (!ssh && !maybe_ssh && t->role == SSHRPC_ROLE_SERVER)
			return bad_line(t, "the client's first line is not a version line starting with SSH-");
		size_t limit = ssh || maybe_ssh ? VERSION_MAX : PRE_LINE_MAX;
		size_t scan = avail < limit ? avail : limit;
		const uint8_t *lf = scan > 0 ? memchr(p, '\n', scan) : NULL;
		if (lf == NULL) {
			if (avail >= limit)
				return bad_line(t, ssh || maybe_ssh ? "version line longer than 255 characters"
								    : "line before the version longer than 1024 bytes");
			return SSHRPC_E_AGAIN;
		}
		size_t n = (size_t)(lf - p); /* without LF */
		size_t used = n + 1;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		/* A bare LF is accepted, as most implementations do. */
		if (ssh) {
			int rc = take_version(t, p, n);
			t->in_start += used;
			return rc;
		}
		if (t->role == SSHRPC_ROLE_SERVER)
			return bad_line(t, "the client's first line is not a version line starting with SSH-");
		if (memchr(p, '\0', n) != NULL)
			return bad_line(t, "line before the version contains a NUL");
		if (++t->pre_version_lines > PRE_LINES_MAX)
			return bad_line(t, "more than 1024 lines before the version line");
		t->in_start += used;
	}
	return SSHRPC_OK;
}
