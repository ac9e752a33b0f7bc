/* A blocking SSH client over sshconn, for sshrpc and sshrpc-bench: connect,
 * verify the host key against known_hosts, authenticate (agent keys first,
 * then identity files), open session channels, send requests, move data.
 * One sshc per thread; --hosts runs one thread per host. */
#ifndef SSHRPC_PROGRAMS_SSHC_H
#define SSHRPC_PROGRAMS_SSHC_H

#include <stdbool.h>

#include "log.h"
#include "options.h"
#include "sshconn.h"
#include "sshrpc/keys.h"

#define SSHC_MAX_CHANS 64
#define SSHC_MAX_IDS 24

typedef struct sshc_chan {
	bool used;
	uint32_t id;
	bool opened, open_failed, eof, closed;
	int replies_pending;
	bool last_reply_ok;
	int exit_status; /* -1 until exit-status */
	char exit_signal[32];
	sshrpc_buf in;	/* data received, not yet taken by the caller */
	sshrpc_buf err; /* stderr */
} sshc_chan;

typedef struct sshc {
	const options *o;
	logger *lg;
	char host[256];
	int port;
	char user[128];
	sshconn s;
	sshrpc_transport_config tcfg;
	sshrpc_auth_client_config acfg;
	sshrpc_conn_cfg ccfg;
	char kex[1024], ciphers[1024], macs[1024], hostkey_algs[1024];
	/* identities */
	sshrpc_auth_identity ids[SSHC_MAX_IDS];
	sshrpc_file_identity fids[SSHC_MAX_IDS];
	sshrpc_agent_identity aids[SSHC_MAX_IDS];
	int n_ids, n_fids, n_aids;
	int agent_fd;
	uint8_t *agent_reply;
	sshrpc_buf agent_buf;
	/* host keys */
	char known_hosts_path[1024];
	sshrpc_known_hosts *kh;
	char hostkey_err[1400];
	sshc_chan chans[SSHC_MAX_CHANS];
	uint64_t timeout_ms; /* per wait; 0 none */
	FILE *trace;
} sshc;

/* Resolves the algorithm options once (they are shared by every sshc made
 * from the same options): NULL on success, or an error line. */
int sshc_connect(sshc *c, const options *o, logger *lg, const char *host, int port, const char *user, FILE *trace,
	char *err, size_t errlen);
void sshc_close(sshc *c);
/* Waits for something to happen (at most timeout_ms; 0 = until the next
 * deadline or event). -1 when the connection is dead. */
int sshc_wait(sshc *c);
/* Blocking channel operations; -1 with c->s.why set when the connection
 * died, -2 when the peer refused. */
int sshc_open(sshc *c, sshc_chan **out);
int sshc_request(sshc *c, sshc_chan *ch, int kind, const char *arg, size_t len);
int sshc_write_all(sshc *c, sshc_chan *ch, const void *p, size_t n);
/* Waits until the channel has at least want bytes of data, EOF or close. */
int sshc_read_at_least(sshc *c, sshc_chan *ch, size_t want);
int sshc_close_chan(sshc *c, sshc_chan *ch);
/* Waits for the channel's CLOSE and frees its slot. */
int sshc_wait_closed(sshc *c, sshc_chan *ch);
const char *sshc_error(const sshc *c);

#endif
