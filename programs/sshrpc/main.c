/* sshrpc: the RPC client (interface.md, "sshrpc"). Makes each CALL over SSH
 * in the chosen mode and prints each reply as Erlang term text. */
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "options.h"
#include "rpcwire.h"
#include "sshc.h"

#define MAX_HOSTS 64

enum mode { MODE_EXEC, MODE_EXEC_MOD, MODE_SHELL, MODE_SUBSYSTEM };

typedef struct job {
	const options *o;
	logger *lg;
	enum mode mode;
	const char *subsystem;
	char host[256];
	int port;
	char user[128];
	int n_calls;
	rpc_request *calls;
	FILE *trace;
	/* results */
	sshrpc_buf out; /* the lines to print */
	int status;	/* 0, 1 or 255 */
	char err[1600];
} job;

static void usage(void)
{
	fprintf(stderr, "usage: sshrpc [-p PORT] [-l USER] [-i IDENTITY]... [-o Option=Value]... [--mode MODE]\n"
			"              [--hosts H1,H2,...] [--trace FILE] [user@]HOST CALL...\n"
			"       sshrpc --encode CALL...   (frames for ssh -s HOST sshrpc)\n"
			"       sshrpc --decode           (frames on stdin to term text)\n"
			"modes: exec, exec-mod, shell, subsystem (default)\n");
}

static void print_reply(job *j, const uint8_t *etf, size_t len)
{
	char line[64];
	int kind = rpcwire_print_reply(&j->out, etf, len, line, sizeof line);
	if (kind != RPC_REPLY_OK && j->status == 0)
		j->status = 1;
}

/* One call on a fresh channel with an exec request carrying the call as
 * {mfa,...} text; the reply is its ETF on the channel's data. */
static int exec_one(job *j, sshc *c, const rpc_request *rq)
{
	sshc_chan *ch;
	int rc = sshc_open(c, &ch);
	if (rc == 0)
		rc = sshc_request(c, ch, SSHRPC_REQ_EXEC, rq->mfa_text, strlen(rq->mfa_text));
	if (rc == 0)
		rc = sshc_read_at_least(c, ch, SIZE_MAX);
	if (rc == -1) {
		snprintf(j->err, sizeof j->err, "%s", sshc_error(c));
		return -1;
	}
	if (rc == -2) {
		snprintf(j->err, sizeof j->err, "%s: exec request refused", j->host);
		j->status = 255;
		return -1;
	}
	print_reply(j, sshrpc_buf_ptr(&ch->in), sshrpc_buf_len(&ch->in));
	if (!ch->closed)
		SSHRPC_IGNORE(sshc_close_chan(c, ch));
	return sshc_wait_closed(c, ch);
}

/* All calls as {packet,4} frames on one shell or subsystem channel. The
 * {mfa,...} replies come back in order, so the calls are pipelined. */
static int stream_calls(job *j, sshc *c)
{
	sshc_chan *ch;
	int rc = sshc_open(c, &ch);
	if (rc == 0)
		rc = j->mode == MODE_SHELL
			     ? sshc_request(c, ch, SSHRPC_REQ_SHELL, NULL, 0)
			     : sshc_request(c, ch, SSHRPC_REQ_SUBSYSTEM, j->subsystem, strlen(j->subsystem));
	if (rc == -2) {
		snprintf(j->err, sizeof j->err, "%s: %s request refused", j->host,
			j->mode == MODE_SHELL ? "shell" : "subsystem");
		return -1;
	}
	for (int i = 0; rc == 0 && i < j->n_calls; i++)
		rc = sshc_write_all(c, ch, j->calls[i].frame, j->calls[i].frame_len);
	if (rc == 0)
		rc = sshrpc_chan_eof(c->s.c, ch->id) == SSHRPC_OK ? 0 : -2;
	for (int i = 0; rc == 0 && i < j->n_calls; i++) {
		rc = sshc_read_at_least(c, ch, 4);
		if (rc != 0)
			break;
		if (sshrpc_buf_len(&ch->in) < 4) {
			snprintf(j->err, sizeof j->err, "%s: channel closed before reply %d", j->host, i + 1);
			return -1;
		}
		uint32_t n = sshrpc_load_be32(sshrpc_buf_ptr(&ch->in));
		rc = sshc_read_at_least(c, ch, 4 + (size_t)n);
		if (rc != 0)
			break;
		if (sshrpc_buf_len(&ch->in) < 4 + (size_t)n) {
			snprintf(j->err, sizeof j->err, "%s: channel closed inside reply %d", j->host, i + 1);
			return -1;
		}
		print_reply(j, sshrpc_buf_ptr(&ch->in) + 4, n);
		sshrpc_buf_consume(&ch->in, 4 + (size_t)n);
	}
	if (rc == -1) {
		snprintf(j->err, sizeof j->err, "%s", sshc_error(c));
		return -1;
	}
	if (!ch->closed)
		SSHRPC_IGNORE(sshc_close_chan(c, ch));
	return sshc_wait_closed(c, ch);
}

static void *run_job(void *arg)
{
	job *j = arg;
	sshc c;
	char err[1400];
	int connections = j->mode == MODE_EXEC ? j->n_calls : 1;
	for (int k = 0; k < connections; k++) {
		if (sshc_connect(&c, j->o, j->lg, j->host, j->port, j->user, j->trace, err, sizeof err) != 0) {
			snprintf(j->err, sizeof j->err, "%s", err);
			j->status = 255;
			return NULL;
		}
		int rc = 0;
		if (j->mode == MODE_EXEC)
			rc = exec_one(j, &c, &j->calls[k]);
		else if (j->mode == MODE_EXEC_MOD)
			for (int i = 0; rc == 0 && i < j->n_calls; i++)
				rc = exec_one(j, &c, &j->calls[i]);
		else
			rc = stream_calls(j, &c);
		if (rc != 0 && j->err[0] == '\0')
			snprintf(j->err, sizeof j->err, "%s", sshc_error(&c));
		sshc_close(&c);
		if (rc != 0) {
			j->status = 255;
			return NULL;
		}
	}
	return NULL;
}

/* --encode CALL...: the {packet,4} frames of the calls on stdout, for
 * `sshrpc --encode 'sys:ping()' | ssh -s HOST sshrpc | sshrpc --decode`. */
static int encode_calls(int n, char **calls)
{
	char err[512];
	for (int k = 0; k < n; k++) {
		rpc_request rq;
		if (rpcwire_make_request(&rq, calls[k], err, sizeof err) != 0) {
			fprintf(stderr, "sshrpc: call '%s': %s\n", calls[k], err);
			return 255;
		}
		fwrite(rq.frame, 1, rq.frame_len, stdout);
		rpcwire_request_free(&rq);
	}
	return fflush(stdout) == 0 ? 0 : 255;
}

/* --decode: frames on stdin, one reply term per line on stdout. */
static int decode_replies(void)
{
	int status = 0;
	uint8_t hdr[4];
	while (fread(hdr, 1, 4, stdin) == 4) {
		uint32_t n = sshrpc_load_be32(hdr);
		if (n > (256u << 20)) {
			fprintf(stderr, "sshrpc: --decode: frame length %u exceeds 256 MiB\n", n);
			return 255;
		}
		uint8_t *p = malloc(n ? n : 1);
		if (p == NULL || fread(p, 1, n, stdin) != n) {
			fprintf(stderr, "sshrpc: --decode: input ends inside a frame\n");
			free(p);
			return 255;
		}
		sshrpc_buf out;
		sshrpc_buf_init(&out, NULL, 0);
		char why[64];
		int kind = rpcwire_print_reply(&out, p, n, why, sizeof why);
		fwrite(sshrpc_buf_ptr(&out), 1, sshrpc_buf_len(&out), stdout);
		sshrpc_buf_free(&out);
		free(p);
		if (kind != RPC_REPLY_OK && status == 0)
			status = 1;
	}
	return status;
}

static void split_host(const char *spec, const char *default_user, int default_port, job *j)
{
	const char *at = strchr(spec, '@');
	if (at != NULL) {
		snprintf(j->user, sizeof j->user, "%.*s", (int)(at - spec), spec);
		spec = at + 1;
	} else {
		snprintf(j->user, sizeof j->user, "%s", default_user);
	}
	j->port = default_port;
	const char *colon = strrchr(spec, ':');
	if (colon != NULL && strchr(spec, ':') == colon) {
		snprintf(j->host, sizeof j->host, "%.*s", (int)(colon - spec), spec);
		j->port = atoi(colon + 1);
	} else {
		snprintf(j->host, sizeof j->host, "%s", spec);
	}
}

int main(int argc, char **argv)
{
	options o;
	options_init(&o, OPT_CLIENT);
	logger lg = { SSHRPC_LOG_ERROR, "sshrpc" };
	const char *mode_s = "subsystem", *hosts = NULL, *trace_path = NULL, *user = NULL;
	int port = 0;
	char err[512];
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (a[0] != '-')
			break;
		if (strcmp(a, "-p") == 0 && v) {
			port = atoi(v);
			if (port <= 0 || port > 65535) {
				fprintf(stderr, "sshrpc: -p %s: not a port number\n", v);
				return 255;
			}
			i++;
		} else if (strcmp(a, "-l") == 0 && v) {
			user = v;
			i++;
		} else if (strcmp(a, "-i") == 0 && v) {
			if (o.n_identities < OPT_MAX_IDENTITIES)
				o.identities[o.n_identities++] = strdup(v);
			i++;
		} else if (strcmp(a, "-o") == 0 && v) {
			if (options_set(&o, OPT_CLIENT, v, "-o", err, sizeof err) != 0) {
				fprintf(stderr, "sshrpc: %s\n", err);
				return 255;
			}
			i++;
		} else if (strcmp(a, "--mode") == 0 && v) {
			mode_s = v;
			i++;
		} else if (strcmp(a, "--hosts") == 0 && v) {
			hosts = v;
			i++;
		} else if (strcmp(a, "--trace") == 0 && v) {
			trace_path = v;
			i++;
		} else if (strcmp(a, "--encode") == 0) {
			return encode_calls(argc - i - 1, argv + i + 1);
		} else if (strcmp(a, "--decode") == 0) {
			return decode_replies();
		} else if (strcmp(a, "-v") == 0) {
			o.log_level = lg.level = SSHRPC_LOG_DEBUG;
		} else {
			usage();
			fprintf(stderr, "sshrpc: unknown argument '%s'\n", a);
			return 255;
		}
	}
	if (o.log_level > lg.level)
		lg.level = o.log_level == SSHRPC_LOG_INFO ? SSHRPC_LOG_ERROR : o.log_level;
	enum mode mode;
	if (strcmp(mode_s, "exec") == 0)
		mode = MODE_EXEC;
	else if (strcmp(mode_s, "exec-mod") == 0)
		mode = MODE_EXEC_MOD;
	else if (strcmp(mode_s, "shell") == 0)
		mode = MODE_SHELL;
	else if (strcmp(mode_s, "subsystem") == 0)
		mode = MODE_SUBSYSTEM;
	else {
		fprintf(stderr, "sshrpc: --mode %s: not one of exec, exec-mod, shell, subsystem\n", mode_s);
		return 255;
	}
	const char *host_arg = NULL;
	if (hosts == NULL) {
		if (i >= argc) {
			usage();
			return 255;
		}
		host_arg = argv[i++];
	}
	int n_calls = argc - i;
	if (n_calls == 0) {
		usage();
		fprintf(stderr, "sshrpc: no CALL given\n");
		return 255;
	}
	rpc_request *calls = calloc((size_t)n_calls, sizeof *calls);
	for (int k = 0; k < n_calls; k++)
		if (rpcwire_make_request(&calls[k], argv[i + k], err, sizeof err) != 0) {
			fprintf(stderr, "sshrpc: call '%s': %s\n", argv[i + k], err);
			for (int m = 0; m < k; m++)
				rpcwire_request_free(&calls[m]);
			free(calls);
			options_free(&o);
			return 255;
		}
	FILE *trace = NULL;
	if (trace_path != NULL && (trace = fopen(trace_path, "a")) == NULL) {
		fprintf(stderr, "sshrpc: --trace %s: cannot open\n", trace_path);
		return 255;
	}
	const char *default_user = user ? user : o.user;
	if (default_user == NULL) {
		struct passwd *pw = getpwuid(getuid());
		default_user = pw != NULL ? pw->pw_name : "root";
	}
	int default_port = port ? port : o.port;

	job *jobs = calloc(MAX_HOSTS, sizeof *jobs);
	int n_jobs = 0;
	char *hosts_copy = hosts ? strdup(hosts) : strdup(host_arg);
	for (char *save = NULL, *h = strtok_r(hosts_copy, ",", &save); h != NULL && n_jobs < MAX_HOSTS;
		h = strtok_r(NULL, ",", &save)) {
		job *j = &jobs[n_jobs++];
		j->o = &o;
		j->lg = &lg;
		j->mode = mode;
		j->subsystem = "sshrpc";
		j->n_calls = n_calls;
		j->calls = calls;
		j->trace = trace;
		sshrpc_buf_init(&j->out, NULL, 0);
		split_host(h, default_user, default_port, j);
	}
	if (n_jobs == 1) {
		run_job(&jobs[0]);
	} else {
		pthread_t th[MAX_HOSTS];
		for (int k = 0; k < n_jobs; k++)
			pthread_create(&th[k], NULL, run_job, &jobs[k]);
		for (int k = 0; k < n_jobs; k++)
			pthread_join(th[k], NULL);
	}
	int status = 0;
	for (int k = 0; k < n_jobs; k++) {
		job *j = &jobs[k];
		/* With several hosts each line says whose reply it is. */
		const char *p = (const char *)sshrpc_buf_ptr(&j->out);
		size_t len = sshrpc_buf_len(&j->out);
		while (len > 0) {
			const char *nl = memchr(p, '\n', len);
			size_t ll = nl ? (size_t)(nl - p) + 1 : len;
			if (n_jobs > 1)
				printf("%s: ", j->host);
			fwrite(p, 1, ll, stdout);
			p += ll;
			len -= ll;
		}
		if (j->status == 255)
			fprintf(stderr, "sshrpc: %s\n", j->err);
		if (j->status > status)
			status = j->status;
		sshrpc_buf_free(&j->out);
	}
	for (int k = 0; k < n_calls; k++)
		rpcwire_request_free(&calls[k]);
	free(calls);
	free(jobs);
	free(hosts_copy);
	if (trace != NULL)
		fclose(trace);
	options_free(&o);
	return status;
}
