#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Callbacks live in a table indexed by fd, so the epoll data is just the fd
 * and a stale event for a closed fd finds no callback. */
struct slot {
	loop_fd_fn fn;
	void *ud;
};

struct loop {
	int ep;
	struct slot *slots;
	int nslots;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t loop_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

loop *loop_new(void)
{
	loop *l = calloc(1, sizeof *l);
	if (l == NULL)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void loop_free(loop *l)
{
	if (l == NULL)
		return;
	close(l->ep);
	free(l->slots);
	free(l);
}

static int set_slot(loop *l, int fd, loop_fd_fn fn, void *ud)
{
	if (fd >= l->nslots) {
		int n = l->nslots ? l->nslots : 64;
		while (n <= fd)
			n *= 2;
		struct slot *s = realloc(l->slots, (size_t)n * sizeof *s);
		if (s == NULL)
			return -1;
		for (int i = l->nslots; i < n; i++)
			s[i] = (struct slot){ 0 };
		l->slots = s;
		l->nslots = n;
	}
	l->slots[fd] = (struct slot){ fn, ud };
	return 0;
}

int loop_add(loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ud)
{
	if (set_slot(l, fd, fn, ud) != 0)
		return -1;
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev);
}

int loop_mod(loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ud)
{
	if (set_slot(l, fd, fn, ud) != 0)
		return -1;
	struct epoll_event ev = { .events = events, .data.fd = fd };
	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del(loop *l, int fd)
{
	epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	if (fd < l->nslots)
		l->slots[fd] = (struct slot){ 0 };
}

int loop_run_once(loop *l, uint64_t deadline_ms)
{
	int timeout = -1;
	if (deadline_ms != 0) {
		uint64_t now = loop_now_ms();
		timeout = deadline_ms <= now ? 0 : (int)(deadline_ms - now > 60000 ? 60000 : deadline_ms - now);
	}
	struct epoll_event evs[128];
	int n = epoll_wait(l->ep, evs, 128, timeout);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd < l->nslots && l->slots[fd].fn != NULL)
			l->slots[fd].fn(l, fd, evs[i].events, l->slots[fd].ud);
	}
	return n;
}
