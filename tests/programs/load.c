/* The server under load (issue 7, "Tests"): many concurrent clients, each
 * with pipelined {call,Id,...} requests on a subsystem channel, every reply
 * checked; a client killed mid-call and a client that stops reading must
 * not disturb the others; a sys:sleep on one connection must not delay a
 * call on another. Counts are bounded; nothing is timed.
 * Usage: load PORT IDENTITY CLIENTS CALLS */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rpcwire.h"
#include "sshc.h"

static int port;
static options opts;
static logger lg = { SSHRPC_LOG_ERROR, "load" };
static atomic_int good_replies, bad_replies, failed_clients;
static int calls_per_client;

static int subsystem(sshc *c, sshc_chan **ch, char *err, size_t errlen)
{
	if (sshc_connect(c, &opts, &lg, "127.0.0.1", port, "load", NULL, err, errlen) != 0)
		return -1;
	if (sshc_open(c, ch) != 0 || sshc_request(c, *ch, SSHRPC_REQ_SUBSYSTEM, "sshrpc", 6) != 0) {
		snprintf(err, errlen, "subsystem refused: %s", sshc_error(c));
		sshc_close(c);
		return -1;
	}
	return 0;
}

/* Reads one frame into (p, n) from the channel buffer; consumes it later. */
static int read_frame(sshc *c, sshc_chan *ch, const uint8_t **p, uint32_t *n)
{
	if (sshc_read_at_least(c, ch, 4) != 0 || sshrpc_buf_len(&ch->in) < 4)
		return -1;
	*n = sshrpc_load_be32(sshrpc_buf_ptr(&ch->in));
	if (sshc_read_at_least(c, ch, 4 + (size_t)*n) != 0 || sshrpc_buf_len(&ch->in) < 4 + (size_t)*n)
		return -1;
	*p = sshrpc_buf_ptr(&ch->in) + 4;
	return 0;
}

static void *pipelined_client(void *arg)
{
	long k = (long)arg;
	sshc c;
	sshc_chan *ch;
	char err[512];
	if (subsystem(&c, &ch, err, sizeof err) != 0) {
		fprintf(stderr, "client %ld: %s\n", k, err);
		failed_clients++;
		return NULL;
	}
	/* Every call echoes a value unique to this client and call; the reply
	 * must carry the right Id and the same value back. */
	sshrpc_buf frames;
	sshrpc_buf_init(&frames, NULL, 0);
	for (int i = 0; i < calls_per_client; i++) {
		char text[96];
		snprintf(text, sizeof text, "sys:add(%ld,%d)", k * 1000000L, i);
		rpc_request rq;
		if (rpcwire_make_request(&rq, text, err, sizeof err) != 0 ||
			rpcwire_make_call_frame(&rq, (uint64_t)i, &frames) != 0)
			abort();
		rpcwire_request_free(&rq);
	}
	int bad = 0;
	if (sshc_write_all(&c, ch, sshrpc_buf_ptr(&frames), sshrpc_buf_len(&frames)) != 0)
		bad = calls_per_client;
	sshrpc_buf_free(&frames);
	uint8_t *seen = calloc((size_t)calls_per_client, 1);
	for (int i = 0; !bad && i < calls_per_client; i++) {
		const uint8_t *p;
		uint32_t n;
		if (read_frame(&c, ch, &p, &n) != 0) {
			bad = calls_per_client - i;
			break;
		}
		uint64_t id;
		int kind;
		sshrpc_buf txt;
		sshrpc_buf_init(&txt, NULL, 0);
		char why[32];
		rpcwire_print_reply(&txt, p, n, why, sizeof why);
		char want[96];
		if (rpcwire_reply_id(p, n, &id, &kind) == 0 && id < (uint64_t)calls_per_client && !seen[id] &&
			kind == RPC_REPLY_OK) {
			snprintf(want, sizeof want, "{reply,%llu,{ok,%ld}}\n", (unsigned long long)id,
				k * 1000000L + (long)id);
			if (sshrpc_buf_len(&txt) == strlen(want) &&
				memcmp(sshrpc_buf_ptr(&txt), want, strlen(want)) == 0) {
				seen[id] = 1;
				good_replies++;
			} else {
				bad++;
			}
		} else {
			bad++;
		}
		sshrpc_buf_free(&txt);
		sshrpc_buf_consume(&ch->in, 4 + (size_t)n);
	}
	free(seen);
	bad_replies += bad;
	if (bad)
		failed_clients++;
	sshc_close(&c);
	return NULL;
}

/* Sends half a frame and vanishes: the server must drop it quietly. */
static void killed_client(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		sshc c;
		sshc_chan *ch;
		char err[256];
		if (subsystem(&c, &ch, err, sizeof err) == 0) {
			static const uint8_t half[] = { 0, 0, 0, 40, 131, 104 };
			SSHRPC_IGNORE(sshc_write_all(&c, ch, half, sizeof half));
			sshconn_flush(&c.s);
		}
		_exit(0); /* no DISCONNECT, no close: as if killed */
	}
	int st;
	waitpid(pid, &st, 0);
}

/* Asks for a lot of output and never reads it. Returns with the connection
 * left open (the caller closes it at the end). */
static int stalled_client(sshc *c)
{
	sshc_chan *ch;
	char err[256];
	if (subsystem(c, &ch, err, sizeof err) != 0)
		return -1;
	rpc_request rq;
	if (rpcwire_make_request(&rq, "sys:source(1048576)", err, sizeof err) != 0)
		return -1;
	for (int i = 0; i < 64; i++)
		if (sshc_write_all(c, ch, rq.frame, rq.frame_len) != 0)
			break;
	sshconn_flush(&c->s);
	rpcwire_request_free(&rq);
	/* From here on nothing reads this socket: its window closes. */
	return 0;
}

/* sys:sleep(1000) on connection A, then sys:ping() on connection B: B's
 * answer must come while A's call is still outstanding. */
static int sleep_does_not_block(void)
{
	sshc a, b;
	sshc_chan *cha, *chb;
	char err[256];
	if (subsystem(&a, &cha, err, sizeof err) != 0 || subsystem(&b, &chb, err, sizeof err) != 0)
		return -1;
	rpc_request s, p;
	if (rpcwire_make_request(&s, "sys:sleep(1000)", err, sizeof err) != 0 ||
		rpcwire_make_request(&p, "sys:ping()", err, sizeof err) != 0)
		return -1;
	int rc = -1;
	if (sshc_write_all(&a, cha, s.frame, s.frame_len) == 0) {
		sshconn_flush(&a.s);
		const uint8_t *r;
		uint32_t n;
		if (sshc_write_all(&b, chb, p.frame, p.frame_len) == 0 && read_frame(&b, chb, &r, &n) == 0) {
			/* B answered; A must not have: its reply needs the timer. */
			sshconn_read(&a.s);
			sshconn_pump(&a.s, 0);
			rc = sshrpc_buf_len(&cha->in) == 0 ? 0 : -2;
			if (rc == 0 && read_frame(&a, cha, &r, &n) != 0)
				rc = -3; /* and A's reply does come, later */
		}
	}
	rpcwire_request_free(&s);
	rpcwire_request_free(&p);
	sshc_close(&a);
	sshc_close(&b);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: load PORT IDENTITY CLIENTS CALLS\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	port = atoi(argv[1]);
	options_init(&opts, OPT_CLIENT);
	opts.identities[opts.n_identities++] = strdup(argv[2]);
	opts.strict_host_key_checking = 0;
	opts.user_known_hosts_file = strdup("/dev/null");
	opts.identities_only = true;
	int clients = atoi(argv[3]);
	calls_per_client = atoi(argv[4]);
	int failures = 0;

	killed_client();
	sshc stalled;
	if (stalled_client(&stalled) != 0) {
		fprintf(stderr, "FAIL stalled client could not start\n");
		failures++;
	}

	pthread_t *th = calloc((size_t)clients, sizeof *th);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (long k = 0; k < clients; k++)
		if (pthread_create(&th[k], &attr, pipelined_client, (void *)k) != 0) {
			fprintf(stderr, "cannot start thread %ld\n", k);
			return 2;
		}
	for (int k = 0; k < clients; k++)
		pthread_join(th[k], NULL);
	long want = (long)clients * calls_per_client;
	printf("%s %d clients x %d pipelined calls: %d good replies of %ld, %d bad, %d clients failed\n",
		good_replies == want && bad_replies == 0 ? "ok  " : "FAIL", clients, calls_per_client,
		(int)good_replies, want, (int)bad_replies, (int)failed_clients);
	if (good_replies != want || bad_replies != 0)
		failures++;
	int s = sleep_does_not_block();
	printf("%s sys:sleep(1000) on one connection does not delay a call on another (%d)\n", s == 0 ? "ok  " : "FAIL",
		s);
	if (s != 0)
		failures++;
	sshc_close(&stalled);
	free(th);
	options_free(&opts);
	return failures ? 1 : 0;
}
