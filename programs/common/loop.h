/* A small epoll event loop: file descriptors with callbacks, and a wait that
 * wakes for the earliest deadline the program asks for. */
#ifndef SSHRPC_PROGRAMS_LOOP_H
#define SSHRPC_PROGRAMS_LOOP_H

#include <stdint.h>
#include <sys/epoll.h>

typedef struct loop loop;
typedef void (*loop_fd_fn)(loop *l, int fd, uint32_t events, void *ud);

loop *loop_new(void);
void loop_free(loop *l);
int loop_add(loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ud);
int loop_mod(loop *l, int fd, uint32_t events, loop_fd_fn fn, void *ud);
void loop_del(loop *l, int fd);
/* Waits until an fd is ready or deadline_ms (monotonic; 0 = none) passes,
 * then runs the callbacks. Returns the number of events, or -1. */
int loop_run_once(loop *l, uint64_t deadline_ms);
uint64_t loop_now_ms(void);
uint64_t loop_now_us(void);

#endif
