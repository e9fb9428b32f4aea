/* A small event loop library in the spirit of Redis ae: file events (a
 * callback per descriptor, for reading and/or writing) and time events
 * (timers from timer.h), over epoll.  Single-threaded: one loop per thread. */
#ifndef EVD_EVLOOP_H
#define EVD_EVLOOP_H

#include <stdint.h>

#include "timer.h"

#define EV_READ 1u
#define EV_WRITE 2u

struct evloop;
typedef void ev_io_fn(struct evloop *loop, int fd, unsigned events, void *arg);

/* NULL with errno set on failure. */
struct evloop *evloop_new(void);
/* Accepts NULL.  Does not close the registered descriptors. */
void evloop_free(struct evloop *loop);

/*
 * Watches fd for mask (EV_READ | EV_WRITE) and calls fn(loop, fd, events,
 * arg) when ready; errors and hang-ups are reported as EV_READ.  A mask of 0
 * stops watching.  Returns 0 or -errno.
 */
int evloop_set(struct evloop *loop, int fd, unsigned mask, ev_io_fn *fn,
	       void *arg);
/* Forget fd without a system call: for a descriptor about to be closed. */
void evloop_forget(struct evloop *loop, int fd);
unsigned evloop_mask(const struct evloop *loop, int fd);

/* Time events: arm t (see timer.h) to fire at when (CLOCK_MONOTONIC ns). */
int evloop_timer_add(struct evloop *loop, struct timer *t, uint64_t when);
void evloop_timer_del(struct evloop *loop, struct timer *t);

/*
 * Waits at most max_wait_ms (-1: until something happens) for file events
 * or the next timer, dispatches the ready file events, then the due
 * timers.  Returns the number of callbacks run, or -errno (-EINTR when a
 * signal interrupted the wait).
 */
int evloop_once(struct evloop *loop, int max_wait_ms);

#endif
