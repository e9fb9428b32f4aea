/* A small event loop library in the spirit of Redis ae: file events (a
 * callback per descriptor, for reading and/or writing) and time events
 * (timers from timer.h), over epoll.  Single-threaded: one loop per thread. */
#ifndef EVD_EVLOOP_H
#define EVD_EVLOOP_H

#include <stdint.h>

#include "timer.h"

#define EV_READ 1u
#define EV_WRITE 2u
#define EV_HUP 4u	/* in a mask: stay registered for hang-ups alone;
			 * in events: the peer hung up or the fd failed */

struct evloop;
typedef void ev_io_fn(struct evloop *loop, int fd, unsigned events, void *arg);

/* NULL with errno set on failure. */
struct evloop *evloop_new(void);
/* Accepts NULL.  Does not close the registered descriptors. */
void evloop_free(struct evloop *loop);

/*
 * Watches fd for mask (EV_READ | EV_WRITE | EV_HUP) and calls fn(loop, fd,
 * events, arg) when ready; errors and hang-ups are reported as EV_READ |
 * EV_HUP, whatever the mask (EV_HUP alone watches for them only).  A mask
 * of 0 stops watching.  Returns 0 or -errno.
 */
int evloop_set(struct evloop *loop, int fd, unsigned mask, ev_io_fn *fn,
	       void *arg);
/* Forget fd without a system call: for a descriptor about to be closed. */
void evloop_forget(struct evloop *loop, int fd);
unsigned evloop_mask(const struct evloop *loop, int fd);

/* Time events: arm t (see timer.h) to fire at when (CLOCK_MONOTONIC ns).
 * Returns 0, or -ENOMEM (never while fewer timers are armed than
 * reserved). */
int evloop_timer_add(struct evloop *loop, struct timer *t, uint64_t when);
void evloop_timer_del(struct evloop *loop, struct timer *t);
/* Room for n armed timers, so that arming up to n never fails.  0 or
 * -ENOMEM. */
int evloop_timer_reserve(struct evloop *loop, uint32_t n);

/* Called around the wait of every evloop_once(): before (after the
 * timeout is computed) and after it (before any callback), e.g. to let go
 * of a lock while the thread sleeps.  NULL: nothing. */
typedef void ev_sleep_fn(struct evloop *loop, void *arg);
void evloop_set_sleep(struct evloop *loop, ev_sleep_fn *before,
		      ev_sleep_fn *after, void *arg);

/* In a forked child: closes the loop's own descriptor, frees nothing (the
 * child may not call malloc's functions).  Accepts NULL. */
void evloop_abandon(struct evloop *loop);

/*
 * Waits at most max_wait_ms (-1: until something happens) for file events
 * or the next timer, dispatches the ready file events, then the due
 * timers.  Returns the number of callbacks run, or -errno (-EINTR when a
 * signal interrupted the wait).
 */
int evloop_once(struct evloop *loop, int max_wait_ms);

#endif
