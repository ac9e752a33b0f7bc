/* The floor: the same bytes as one subsystem call (the request frame out,
 * the reply frame back) over a plain TCP loopback connection to a thread
 * of this process, with TCP_NODELAY on both ends as sshrpcd and sshc set
 * it. No SSH, no RPC decoding: what the kernel's round trip costs. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_rpc.h"

typedef struct echo {
	int lfd;
	const uint8_t *reply; /* the reply frame: 4-byte length and ETF */
	size_t reply_len;
	size_t req_len;
} echo;

static int read_n(int fd, uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_n(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *echo_main(void *arg)
{
	echo *e = arg;
	int fd = accept(e->lfd, NULL, NULL);
	if (fd < 0)
		return NULL;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	uint8_t *req = malloc(e->req_len);
	/* a frame in, the reply frame out, until the client goes */
	while (req != NULL && read_n(fd, req, 4) == 0) {
		uint32_t n = sshrpc_load_be32(req);
		if (n + 4 > e->req_len || read_n(fd, req + 4, n) != 0 || write_n(fd, e->reply, e->reply_len) != 0)
			break;
	}
	free(req);
	close(fd);
	return NULL;
}

int bench_tcp_rtt(bench_ctx *b, bench_series *s, const bench_budget *bud, char *err, size_t errlen)
{
	if (b->reply == NULL) {
		snprintf(err, errlen, "no reference reply yet");
		return -1;
	}
	uint8_t *reply = malloc(4 + b->reply_len);
	sshrpc_store_be32(reply, (uint32_t)b->reply_len);
	memcpy(reply + 4, b->reply, b->reply_len);
	echo e = { .reply = reply, .reply_len = 4 + b->reply_len, .req_len = b->echo.frame_len };
	e.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;
	if (e.lfd < 0 || bind(e.lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(e.lfd, 1) != 0 ||
		getsockname(e.lfd, (struct sockaddr *)&sa, &sl) != 0) {
		snprintf(err, errlen, "tcp echo: %s", strerror(errno));
		if (e.lfd >= 0)
			close(e.lfd);
		free(reply);
		return -1;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, echo_main, &e) != 0) {
		close(e.lfd);
		free(reply);
		snprintf(err, errlen, "cannot start the echo thread");
		return -1;
	}
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, rc = 0;
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		snprintf(err, errlen, "tcp echo: connect: %s", strerror(errno));
		rc = -1;
	}
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	uint8_t *back = malloc(4 + b->reply_len);
	/* warm-up, then the timed calls */
	for (int i = 0; i < 100 && rc == 0; i++)
		if (write_n(fd, b->echo.frame, b->echo.frame_len) != 0 || read_n(fd, back, 4 + b->reply_len) != 0)
			rc = -1;
	s->start_ns = bench_now_ns();
	uint64_t c0 = bench_process_cpu_ns(); /* both threads */
	while (rc == 0 && !bench_stopped()) {
		if (s->n % 10 == 0 &&
			(s->n >= bud->max_calls ||
				(s->n >= 10 && (double)(bench_now_ns() - s->start_ns) / 1e9 >= bud->max_s)))
			break;
		uint64_t t0 = bench_now_ns();
		if (write_n(fd, b->echo.frame, b->echo.frame_len) != 0 || read_n(fd, back, 4 + b->reply_len) != 0) {
			snprintf(err, errlen, "tcp echo: %s", strerror(errno));
			rc = -1;
			break;
		}
		bench_series_add(s, t0, bench_now_ns());
	}
	if (rc == 0)
		s->cpu_ns = (int64_t)(bench_process_cpu_ns() - c0);
	if (fd >= 0)
		close(fd);
	shutdown(e.lfd, SHUT_RDWR);
	pthread_join(th, NULL);
	close(e.lfd);
	free(back);
	free(reply);
	return rc;
}
