/* RPC on sshrpcd's channels: one sshrpc_rpc_session per exec, shell or
 * subsystem channel, fed with the channel's data and drained into it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server.h"
#include "sshrpc/rpc.h"

struct rpc_server {
	sshrpc_rpc_registry *reg;
};

struct rpc_glue {
	sshrpc_rpc_session *s;
	sshrpc_rpc_acl *acl;
	bool finished; /* exit-status, EOF and CLOSE sent */
	char prefix[96];
};

int rpc_server_init(server *srv, const char *const *modules, int n_modules)
{
	srv->rpc = calloc(1, sizeof *srv->rpc);
	if (srv->rpc == NULL || sshrpc_rpc_registry_new(NULL, &srv->rpc->reg) != SSHRPC_OK ||
		sshrpc_rpc_sys_register(srv->rpc->reg) != SSHRPC_OK) {
		fprintf(stderr, "sshrpcd: cannot set up the RPC registry\n");
		return -1;
	}
	for (int i = 0; i < n_modules; i++) {
		sshrpc_err err = { 0 };
		if (sshrpc_rpc_module_load(srv->rpc->reg, modules[i], &err) != SSHRPC_OK) {
			fprintf(stderr, "sshrpcd: --module %s: %s\n", modules[i], err.msg);
			return -1;
		}
	}
	return 0;
}

void rpc_server_free(server *srv)
{
	if (srv->rpc == NULL)
		return;
	sshrpc_rpc_registry_free(srv->rpc->reg);
	free(srv->rpc);
	srv->rpc = NULL;
}

bool rpc_chan_start(chan *ch, int kind, const char *arg, size_t len)
{
	client *cl = ch->cl;
	server *srv = cl->srv;
	const sshrpc_authkeys_entry *e = sshrpc_auth_server_entry(cl->s.as);
	const char *subsystem = srv->o.subsystem ? srv->o.subsystem : SSHRPC_RPC_SUBSYSTEM_DEFAULT;
	/* command= forces what runs, whatever the client asked (sshd(8)). */
	if (e != NULL && e->opts.command != NULL) {
		kind = SSHRPC_REQ_EXEC;
		arg = e->opts.command;
		len = strlen(arg);
	}
	if (kind == SSHRPC_REQ_SUBSYSTEM && (len != strlen(subsystem) || memcmp(arg, subsystem, len) != 0)) {
		log_msg(&srv->lg, SSHRPC_LOG_VERBOSE, "%s: subsystem '%.*s' refused: this server offers '%s'", cl->addr,
			(int)len, arg, subsystem);
		return false;
	}
	struct rpc_glue *g = calloc(1, sizeof *g);
	if (g == NULL)
		return false;
	sshrpc_err err = { 0 };
	if (e != NULL &&
		sshrpc_rpc_acl_from_options(NULL, e->opts.rpc_allow, e->opts.rpc_deny, &g->acl, &err) != SSHRPC_OK) {
		log_msg(&srv->lg, SSHRPC_LOG_ERROR, "%s: %s:%u: %s; every call of this key is refused", cl->addr,
			srv->ak_path, e->line, err.msg);
		/* A key whose restriction cannot be read gets nothing. */
		SSHRPC_IGNORE(sshrpc_rpc_acl_from_options(NULL, "nothing:nothing/0", NULL, &g->acl, &err));
	}
	snprintf(g->prefix, sizeof g->prefix, "%s chan %u", cl->addr, ch->id);
	sshrpc_rpc_config cfg = {
		.registry = srv->rpc->reg,
		.acl = g->acl,
		.max_message = srv->o.max_message_size,
		.log = log_from_lib,
		.log_ud = &srv->lg,
		.log_prefix = g->prefix,
	};
	uint64_t now = loop_now_ms();
	if (sshrpc_rpc_session_new(&cfg, &g->s) != SSHRPC_OK) {
		sshrpc_rpc_acl_free(g->acl);
		free(g);
		return false;
	}
	ch->rpc = g;
	if (kind == SSHRPC_REQ_EXEC) {
		ch->mode = CHAN_EXEC;
		/* A malformed command is answered on the channel, not refused. */
		SSHRPC_IGNORE(sshrpc_rpc_session_exec(g->s, arg, len, now));
	} else {
		ch->mode = CHAN_STREAM;
	}
	return true;
}

size_t rpc_chan_data(chan *ch, const uint8_t *p, size_t n)
{
	if (ch->rpc == NULL)
		return n; /* data before any request: nobody reads it */
	size_t used = 0;
	int rc = sshrpc_rpc_session_input(ch->rpc->s, p, n, &used, loop_now_ms());
	if (rc == SSHRPC_E_CLOSED)
		return n; /* input ended (exec, or a broken stream): drop the rest */
	return used;
}

void rpc_chan_eof(chan *ch)
{
	if (ch->rpc != NULL)
		SSHRPC_IGNORE(sshrpc_rpc_session_input_eof(ch->rpc->s, loop_now_ms()));
	else
		SSHRPC_IGNORE(sshrpc_chan_close(ch->cl->s.c, ch->id));
}

void rpc_chan_service(chan *ch, uint64_t now_ms)
{
	struct rpc_glue *g = ch->rpc;
	sshrpc_conn *c = ch->cl->s.c;
	if (g == NULL || g->finished)
		return;
	uint64_t d;
	if (sshrpc_rpc_session_next_deadline(g->s, &d) && d <= now_ms)
		SSHRPC_IGNORE(sshrpc_rpc_session_tick(g->s, now_ms));
	for (;;) {
		/* Replies onto the channel, as far as its window allows. */
		size_t len = 0;
		const uint8_t *p = sshrpc_rpc_session_output(g->s, &len);
		while (len > 0) {
			size_t w = 0;
			int rc = sshrpc_chan_write(c, ch->id, p, len, &w);
			sshrpc_rpc_session_consume(g->s, w);
			if (rc != SSHRPC_OK)
				break;
			p = sshrpc_rpc_session_output(g->s, &len);
		}
		/* Input left in the channel while the session paused. */
		unsigned st = sshrpc_rpc_session_state(g->s);
		size_t avail = 0;
		const uint8_t *in = NULL;
		if (!(st & SSHRPC_RPC_WANT_INPUT) ||
			sshrpc_chan_peek(c, ch->id, SSHRPC_CHAN_STDOUT, &in, &avail) != SSHRPC_OK || avail == 0)
			break;
		size_t used = 0;
		int rc = sshrpc_rpc_session_input(g->s, in, avail, &used, now_ms);
		SSHRPC_IGNORE(sshrpc_chan_consume(c, ch->id, SSHRPC_CHAN_STDOUT, rc == SSHRPC_E_CLOSED ? avail : used));
		if (used == 0)
			break;
	}
	unsigned st = sshrpc_rpc_session_state(g->s);
	size_t left = 0;
	(void)sshrpc_rpc_session_output(g->s, &left);
	/* FAILED may come while calls still run; DONE follows once every
	 * one of them is answered. */
	if ((st & SSHRPC_RPC_DONE) && left == 0) {
		/* interface.md: every reply, then exit-status, EOF and CLOSE. */
		SSHRPC_IGNORE(sshrpc_chan_exit_status(c, ch->id, (uint32_t)sshrpc_rpc_session_exit_status(g->s)));
		SSHRPC_IGNORE(sshrpc_chan_eof(c, ch->id));
		SSHRPC_IGNORE(sshrpc_chan_close(c, ch->id));
		g->finished = true;
	}
}

uint64_t rpc_chan_deadline(const chan *ch)
{
	uint64_t d;
	if (ch->rpc != NULL && !ch->rpc->finished && sshrpc_rpc_session_next_deadline(ch->rpc->s, &d))
		return d;
	return UINT64_MAX;
}

void rpc_chan_free(chan *ch)
{
	if (ch->rpc == NULL)
		return;
	sshrpc_rpc_session_free(ch->rpc->s);
	sshrpc_rpc_acl_free(ch->rpc->acl);
	free(ch->rpc);
	ch->rpc = NULL;
}
