#include "sshconn.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int session_id_cb(void *ud, const uint8_t **id, size_t *len)
{
	sshconn *s = ud;
	*id = sshrpc_transport_session_id(s->t, len);
	return *id != NULL ? SSHRPC_OK : SSHRPC_E_STATE;
}

static bool server_sig_algs_cb(void *ud, const char **list, size_t *len)
{
	sshconn *s = ud;
	const char *l = sshrpc_transport_server_sig_algs(s->t);
	if (l == NULL)
		return false;
	*list = l;
	*len = strlen(l);
	return true;
}

void sshconn_trace_line(void *ud, const char *json, size_t len)
{
	FILE *f = ud;
	fwrite(json, 1, len, f);
	fputc('\n', f);
}

uint64_t sshconn_clock_ns(void *ud)
{
	(void)ud;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int sshconn_init(sshconn *s, int fd, sshrpc_transport_config *tcfg, sshrpc_auth_server_config *scfg,
	sshrpc_auth_client_config *ccfg, sshrpc_conn_cfg *conncfg, uint64_t now_ms, sshrpc_err *err)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->role = tcfg->role;
	tcfg->now_ms = now_ms;
	int rc = sshrpc_transport_new(tcfg, &s->t, err);
	if (rc != SSHRPC_OK)
		return rc;
	sshrpc_msg_io tio = sshrpc_transport_io(s->t);
	const sshrpc_msg_io *upper;
	if (s->role == SSHRPC_ROLE_SERVER) {
		scfg->session_id = session_id_cb;
		scfg->ud = s;
		rc = sshrpc_auth_server_new(scfg, &tio, now_ms, &s->as, err);
		if (rc != SSHRPC_OK)
			goto fail;
		upper = sshrpc_auth_server_io(s->as);
	} else {
		ccfg->session_id = session_id_cb;
		ccfg->server_sig_algs = server_sig_algs_cb;
		ccfg->ud = s;
		rc = sshrpc_auth_client_new(ccfg, &tio, &s->ac, err);
		if (rc != SSHRPC_OK)
			goto fail;
		upper = sshrpc_auth_client_io(s->ac);
	}
	rc = sshrpc_conn_new(conncfg, upper, &s->c);
	if (rc != SSHRPC_OK) {
		sshrpc_err_set(err, rc, 0, "cannot make the connection layer: %s", sshrpc_strerror(rc));
		goto fail;
	}
	return SSHRPC_OK;
fail:
	sshconn_free(s);
	return rc;
}

void sshconn_free(sshconn *s)
{
	/* Top down: the connection layer reports aborted channels while the
	 * layers below still exist. */
	sshrpc_conn_free(s->c);
	sshrpc_auth_server_free(s->as);
	sshrpc_auth_client_free(s->ac);
	sshrpc_transport_free(s->t);
	s->c = NULL;
	s->as = NULL;
	s->ac = NULL;
	s->t = NULL;
}

bool sshconn_can_read(sshconn *s)
{
	size_t room = 0;
	if (s->dead || s->eof)
		return false;
	(void)sshrpc_transport_input_buffer(s->t, &room);
	return room > 0;
}

void sshconn_read(sshconn *s)
{
	while (!s->dead && !s->eof) {
		size_t room = 0;
		uint8_t *p = sshrpc_transport_input_buffer(s->t, &room);
		if (p == NULL || room == 0)
			return;
		ssize_t n = read(s->fd, p, room);
		if (n > 0) {
			if (sshrpc_transport_input_commit(s->t, (size_t)n) != SSHRPC_OK)
				return;
			if ((size_t)n < room)
				return; /* the socket is drained */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		s->eof = true;
		sshrpc_transport_input_eof(s->t);
	}
}

static void set_dead(sshconn *s, const sshrpc_err *e, const char *fallback)
{
	if (s->dead)
		return;
	s->dead = true;
	if (e != NULL && e->code != 0)
		snprintf(s->why, sizeof s->why, "%s", e->msg);
	else
		snprintf(s->why, sizeof s->why, "%s", fallback);
}

void sshconn_pump(sshconn *s, uint64_t now_ms)
{
	if (s->dead)
		return;
	int rc = SSHRPC_OK;
	if (!s->authed) {
		if (s->as != NULL) {
			rc = sshrpc_auth_server_process(s->as);
			if (rc != SSHRPC_OK) {
				set_dead(s, sshrpc_auth_server_error(s->as), "authentication ended the session");
				return;
			}
			s->authed = sshrpc_auth_server_done(s->as);
		} else {
			rc = sshrpc_auth_client_process(s->ac);
			if (rc != SSHRPC_OK) {
				set_dead(s, sshrpc_auth_client_error(s->ac), "authentication failed");
				return;
			}
			s->authed = sshrpc_auth_client_done(s->ac);
		}
	}
	if (s->authed) {
		rc = sshrpc_conn_process(s->c, now_ms);
		if (rc != SSHRPC_OK) {
			set_dead(s, sshrpc_conn_error(s->c), "connection ended");
			return;
		}
	}
	if (sshrpc_transport_get_state(s->t) == SSHRPC_TRANSPORT_CLOSED) {
		const sshrpc_err *e = sshrpc_transport_error(s->t);
		set_dead(s, e, s->eof ? "connection closed by peer" : "transport closed");
	} else if (s->eof) {
		set_dead(s, sshrpc_transport_error(s->t), "connection closed by peer");
	}
}

bool sshconn_flush(sshconn *s)
{
	for (;;) {
		size_t len = 0;
		const uint8_t *p = sshrpc_transport_output(s->t, &len);
		if (p == NULL || len == 0)
			return false;
		ssize_t n = write(s->fd, p, len);
		if (n > 0) {
			sshrpc_transport_output_consume(s->t, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		/* The peer is gone: nothing more can be said to it. */
		sshrpc_transport_output_consume(s->t, len);
		if (!s->dead) {
			s->dead = true;
			snprintf(s->why, sizeof s->why, "write failed: %s", strerror(errno));
		}
		return false;
	}
}

void sshconn_tick(sshconn *s, uint64_t now_ms)
{
	if (s->dead)
		return;
	if (sshrpc_transport_tick(s->t, now_ms) != SSHRPC_OK) {
		set_dead(s, sshrpc_transport_error(s->t), "transport timer failed");
		return;
	}
	if (s->as != NULL && !s->authed && sshrpc_auth_server_tick(s->as, now_ms) != SSHRPC_OK) {
		set_dead(s, sshrpc_auth_server_error(s->as), "login grace time passed");
		return;
	}
	if (s->authed && sshrpc_conn_tick(s->c, now_ms) != SSHRPC_OK)
		set_dead(s, sshrpc_conn_error(s->c), "peer did not answer keepalives");
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t sshconn_deadline(const sshconn *s)
{
	uint64_t d = sshrpc_transport_next_deadline(s->t);
	if (s->as != NULL && !s->authed)
		d = min64(d, sshrpc_auth_server_next_deadline(s->as));
	if (s->authed)
		d = min64(d, sshrpc_conn_next_deadline(s->c));
	return d;
}
