/* One SSH connection on a socket: the transport, auth and connection
 * engines stacked on a non-blocking fd. This is where bytes meet the sans-I/O
 * layers; the programs add what runs on the channels. */
#ifndef SSHRPC_PROGRAMS_SSHCONN_H
#define SSHRPC_PROGRAMS_SSHCONN_H

#include <stdbool.h>
#include <stdio.h>

#include "sshrpc/auth.h"
#include "sshrpc/connection.h"
#include "sshrpc/transport.h"

typedef struct sshconn {
	int fd;
	sshrpc_role role;
	sshrpc_transport *t;
	sshrpc_auth_server *as;
	sshrpc_auth_client *ac;
	sshrpc_conn *c;
	bool authed;
	bool eof;  /* the peer closed the socket */
	bool dead; /* nothing more will happen: close the fd */
	FILE *trace;
	void *app;     /* the program's per-connection state */
	char why[300]; /* why it ended, for the log */
} sshconn;

/* The caller fills the three configurations (role fields included); this
 * adds the session-id plumbing between transport and auth. The
 * configurations and what they point to must outlive the connection. */
int sshconn_init(sshconn *s, int fd, sshrpc_transport_config *tcfg, sshrpc_auth_server_config *scfg,
	sshrpc_auth_client_config *ccfg, sshrpc_conn_cfg *conncfg, uint64_t now_ms, sshrpc_err *err);
void sshconn_free(sshconn *s);
/* Reads what the socket has (until EAGAIN or the input buffer is full). */
void sshconn_read(sshconn *s);
/* Runs the layers on what was read; sets dead when the session ended. */
void sshconn_pump(sshconn *s, uint64_t now_ms);
/* Writes pending output; true when some is still pending (wait for POLLOUT). */
bool sshconn_flush(sshconn *s);
void sshconn_tick(sshconn *s, uint64_t now_ms);
uint64_t sshconn_deadline(const sshconn *s);
/* The input buffer has room: worth reading the socket. */
bool sshconn_can_read(sshconn *s);
/* Writes a --trace line. */
void sshconn_trace_line(void *ud, const char *json, size_t len);
uint64_t sshconn_clock_ns(void *ud);

#endif
