/* sshrpcd's shared state: the listening server, its connections and the
 * channels that carry RPC. */
#ifndef SSHRPCD_SERVER_H
#define SSHRPCD_SERVER_H

#include <stdbool.h>
#include <stdio.h>

#include "log.h"
#include "loop.h"
#include "options.h"
#include "sshconn.h"

struct rpc_glue;
struct client;

/* One session channel and what runs on it. */
typedef struct chan {
	struct client *cl;
	uint32_t id;
	int mode;	      /* enum chan_mode */
	struct rpc_glue *rpc; /* NULL until exec/shell/subsystem */
	bool closing;
	struct chan *next;
} chan;

enum chan_mode { CHAN_IDLE, CHAN_EXEC, CHAN_STREAM };

typedef struct server server;

typedef struct client {
	server *srv;
	sshconn s;
	sshrpc_transport_config tcfg;
	sshrpc_auth_server_config acfg;
	sshrpc_conn_cfg ccfg;
	char addr[64];
	uint64_t started_ms;
	bool counted_unauth;
	uint32_t events; /* the epoll interest now registered */
	chan *chans;
	struct client *prev, *next;
} client;

struct server {
	options o;
	logger lg;
	loop *lp;
	sshrpc_key *host_keys[OPT_MAX_HOSTKEYS];
	size_t n_host_keys;
	char *ak_path;
	sshrpc_authkeys *ak;
	char kex[1024], ciphers[1024], macs[1024], hostkey_algs[1024], pubkey_algs[1024];
	int lfd;
	int sigfd;
	client *clients;
	int n_clients, n_unauth;
	bool stopping;
	FILE *trace;
	struct rpc_server *rpc; /* handler registry and limits, shared */
};

/* srv_rpc.c: RPC on channels. */
int rpc_server_init(server *srv, const char *const *modules, int n_modules);
void rpc_server_free(server *srv);
/* A channel request: exec / shell / subsystem. Returns true if accepted. */
bool rpc_chan_start(chan *ch, int kind, const char *arg, size_t len);
/* Data from the peer; returns bytes consumed. */
size_t rpc_chan_data(chan *ch, const uint8_t *p, size_t n);
void rpc_chan_eof(chan *ch);
/* Moves pending replies to the channel and finishes it when done. */
void rpc_chan_service(chan *ch, uint64_t now_ms);
uint64_t rpc_chan_deadline(const chan *ch);
void rpc_chan_free(chan *ch);

#endif
