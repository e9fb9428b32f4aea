/* epoll: one thread, level-triggered epoll_wait over the listeners and every
 * connection; interest follows what each connection wants next.  The loop
 * is ready.c's; this file is the mechanism. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../log.h"
#include "../server.h"
#include "ready.h"

#define EVENTS_MAX 256

struct api {
	int epfd;
	struct epoll_event events[EVENTS_MAX];
};

static uint32_t interest(unsigned want)
{
	return (want & CONN_WANT_READ ? EPOLLIN : 0) |
	       (want & CONN_WANT_WRITE ? EPOLLOUT : 0);
}

/* Listener tags are the small integers 0..nlis-1; a connection's is its
 * pointer. */
static int api_create(struct ready *r)
{
	struct api *a = calloc(1, sizeof(*a));

	r->api = a;
	if (!a)
		return -ENOMEM;
	a->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (a->epfd < 0) {
		int rc = -errno;
		log_error("epoll_create1");
		return rc;
	}
	for (unsigned i = 0; i < r->srv->nlis; i++) {
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = i };
		if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, r->srv->lis[i].fd, &e) < 0) {
			int rc = -errno;
			log_error("epoll_ctl(ADD listener)");
			return rc;
		}
	}
	return 0;
}

static void api_destroy(struct ready *r)
{
	struct api *a = r->api;

	if (a && a->epfd >= 0)
		close(a->epfd);
	free(a);
}

static void api_unlisten(struct ready *r)
{
	struct api *a = r->api;

	for (unsigned i = 0; i < r->srv->nlis; i++)
		epoll_ctl(a->epfd, EPOLL_CTL_DEL, r->srv->lis[i].fd, NULL);
}

static int api_add(struct ready *r, struct conn *c)
{
	struct api *a = r->api;
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };

	if (epoll_ctl(a->epfd, EPOLL_CTL_ADD, c->fd, &e) < 0)
		return -errno;
	c->model.events = EPOLLIN;
	return 0;
}

/* A connection waiting only for its timer leaves the epoll set (a hung-up
 * socket would otherwise report EPOLLHUP without end). */
static int api_set(struct ready *r, struct conn *c, unsigned want)
{
	struct api *a = r->api;
	uint32_t ev = interest(want), had = c->model.events;

	if (ev == had)
		return 0;
	struct epoll_event e = { .events = ev, .data.ptr = c };
	int op = !ev ? EPOLL_CTL_DEL : !had ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
	if (epoll_ctl(a->epfd, op, c->fd, &e) < 0)
		return -errno;
	c->model.events = ev;
	return 0;
}

static int api_wait(struct ready *r, int ms)
{
	struct api *a = r->api;
	int n = epoll_wait(a->epfd, a->events, EVENTS_MAX, ms);

	return n < 0 ? -errno : n;
}

static void api_fired(struct ready *r, int n)
{
	struct api *a = r->api;

	for (int i = 0; i < n; i++) {
		const struct epoll_event *e = &a->events[i];
		if (e->data.u64 < CONFIG_MAX_LISTEN) {
			ready_listener(r, r->srv->lis[e->data.u64].fd);
			continue;
		}
		ready_conn(r, e->data.ptr,
			   e->events & (EPOLLIN | EPOLLERR | EPOLLHUP) ?
				   READY_IN : READY_OUT);
	}
}

static const struct ready_ops epoll_ops = {
	.wait_name = "epoll_wait",
	.fd_limit = INT_MAX,
	.create = api_create,
	.destroy = api_destroy,
	.unlisten = api_unlisten,
	.add = api_add,
	.set = api_set,
	/* No del: close() also leaves the epoll set. */
	.wait = api_wait,
	.fired = api_fired,
};

static int epoll_run(struct server *srv)
{
	return ready_run(srv, &epoll_ops);
}

const struct evd_model evd_model_epoll = {
	.name = "epoll",
	.summary = "one thread, level-triggered epoll over every connection",
	.flags = 0,
	.slots = model_one_slot,
	.run = epoll_run,
};
