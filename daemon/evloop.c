#include "evloop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util.h"

#define EVENTS_MAX 256

struct file_event {
	unsigned mask;
	ev_io_fn *fn;
	void *arg;
};

struct evloop {
	int epfd;
	struct file_event *fe;	/* indexed by fd */
	int nfe;
	struct timer_heap timers;
	ev_sleep_fn *before, *after;
	void *sleep_arg;
	struct epoll_event events[EVENTS_MAX];
};

struct evloop *evloop_new(void)
{
	struct evloop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int e = errno;
		free(loop);
		errno = e;
		return NULL;
	}
	return loop;
}

void evloop_free(struct evloop *loop)
{
	if (!loop)
		return;
	if (loop->epfd >= 0)
		close(loop->epfd);
	timer_heap_free(&loop->timers);
	free(loop->fe);
	free(loop);
}

static int grow(struct evloop *loop, int fd)
{
	int n = loop->nfe ? loop->nfe : 64;

	while (n <= fd)
		n *= 2;
	struct file_event *fe = realloc(loop->fe, (size_t)n * sizeof(*fe));
	if (!fe)
		return -ENOMEM;
	memset(fe + loop->nfe, 0, (size_t)(n - loop->nfe) * sizeof(*fe));
	loop->fe = fe;
	loop->nfe = n;
	return 0;
}

int evloop_set(struct evloop *loop, int fd, unsigned mask, ev_io_fn *fn,
	       void *arg)
{
	if (fd < 0)
		return -EBADF;
	if (fd >= loop->nfe && grow(loop, fd) < 0)
		return -ENOMEM;
	struct file_event *fe = &loop->fe[fd];
	unsigned old = fe->mask;
	if (mask != old) {
		struct epoll_event ev = {
			.events = (mask & EV_READ ? EPOLLIN : 0) |
				  (mask & EV_WRITE ? EPOLLOUT : 0),
			.data.fd = fd,
		};
		int op = !old ? EPOLL_CTL_ADD :
			 !mask ? EPOLL_CTL_DEL : EPOLL_CTL_MOD;
		if (epoll_ctl(loop->epfd, op, fd, &ev) < 0)
			return -errno;
	}
	fe->mask = mask;
	fe->fn = fn;
	fe->arg = arg;
	return 0;
}

void evloop_abandon(struct evloop *loop)
{
	if (loop && loop->epfd >= 0) {
		close(loop->epfd);
		loop->epfd = -1;
	}
}

void evloop_set_sleep(struct evloop *loop, ev_sleep_fn *before,
		      ev_sleep_fn *after, void *arg)
{
	loop->before = before;
	loop->after = after;
	loop->sleep_arg = arg;
}

void evloop_forget(struct evloop *loop, int fd)
{
	if (fd >= 0 && fd < loop->nfe)
		loop->fe[fd].mask = 0;
}

unsigned evloop_mask(const struct evloop *loop, int fd)
{
	return fd >= 0 && fd < loop->nfe ? loop->fe[fd].mask : 0;
}

int evloop_timer_add(struct evloop *loop, struct timer *t, uint64_t when)
{
	return timer_add(&loop->timers, t, when);
}

void evloop_timer_del(struct evloop *loop, struct timer *t)
{
	timer_del(&loop->timers, t);
}

int evloop_timer_reserve(struct evloop *loop, uint32_t n)
{
	return timer_reserve(&loop->timers, n);
}

int evloop_once(struct evloop *loop, int max_wait_ms)
{
	int timeout = timer_ms_until(&loop->timers, now_ns(), max_wait_ms);
	if (loop->before)
		loop->before(loop, loop->sleep_arg);
	int n = epoll_wait(loop->epfd, loop->events, EVENTS_MAX, timeout);
	int e = errno, ran = 0;
	if (loop->after)
		loop->after(loop, loop->sleep_arg);

	if (n < 0)
		return -e;
	for (int i = 0; i < n; i++) {
		int fd = loop->events[i].data.fd;
		uint32_t ev = loop->events[i].events;
		struct file_event *fe = &loop->fe[fd];
		/* An earlier callback of this batch may have dropped fd. */
		if (!fe->mask)
			continue;
		unsigned what = (ev & (EPOLLIN | EPOLLERR | EPOLLHUP) ? EV_READ : 0) |
				(ev & EPOLLOUT ? EV_WRITE : 0) |
				(ev & (EPOLLERR | EPOLLHUP) ? EV_HUP : 0);
		fe->fn(loop, fd, what & (fe->mask | EV_READ | EV_HUP), fe->arg);
		ran++;
	}
	ran += (int)timer_run(&loop->timers, now_ns());
	return ran;
}
