/* poll: one thread, poll() over an array holding the listeners and every
 * connection; a connection's index in the array is kept in the conn
 * (c->model.index).  The loop is ready.c's; this file is the mechanism. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>

#include "../server.h"
#include "ready.h"

struct api {
	struct pollfd *pfd;	/* listeners first, then connections */
	struct conn **conn;	/* parallel to pfd; NULL for listeners */
	unsigned n, cap;
};

static short interest(unsigned want)
{
	return (short)((want & CONN_WANT_READ ? POLLIN : 0) |
		       (want & CONN_WANT_WRITE ? POLLOUT : 0));
}

static int grow(struct api *a)
{
	unsigned cap = a->cap ? a->cap * 2 : 64;
	struct pollfd *p = realloc(a->pfd, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	a->pfd = p;
	struct conn **c = realloc(a->conn, cap * sizeof(*c));
	if (!c)
		return -ENOMEM;
	a->conn = c;
	a->cap = cap;
	return 0;
}

static int api_create(struct ready *r)
{
	struct api *a = calloc(1, sizeof(*a));
	unsigned nlis = r->srv->nlis;

	r->api = a;
	if (!a)
		return -ENOMEM;
	while (a->cap < nlis + 1)
		if (grow(a) < 0)
			return -ENOMEM;
	for (unsigned i = 0; i < nlis; i++) {
		a->pfd[i] = (struct pollfd){ .fd = r->srv->lis[i].fd,
					     .events = POLLIN };
		a->conn[i] = NULL;
	}
	a->n = nlis;
	return 0;
}

static void api_destroy(struct ready *r)
{
	struct api *a = r->api;

	if (a) {
		free(a->pfd);
		free(a->conn);
	}
	free(a);
}

static void api_unlisten(struct ready *r)
{
	struct api *a = r->api;

	for (unsigned i = 0; i < r->srv->nlis; i++)
		a->pfd[i].fd = -1;	/* poll() skips it */
}

/* No room to watch one more: the connection stays in the backlog. */
static int api_reserve(struct ready *r)
{
	struct api *a = r->api;

	return a->n == a->cap ? grow(a) : 0;
}

static int api_add(struct ready *r, struct conn *c)
{
	struct api *a = r->api;

	a->pfd[a->n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	a->conn[a->n] = c;
	c->model.index = a->n++;
	return 0;
}

/* A connection waiting only for its timer is left out of poll() (a
 * negative fd), where a hung-up socket would report POLLHUP without end. */
static int api_set(struct ready *r, struct conn *c, unsigned want)
{
	struct api *a = r->api;
	unsigned i = c->model.index;
	short ev = interest(want);

	a->pfd[i].events = ev;
	a->pfd[i].fd = ev ? c->fd : -1;
	return 0;
}

/* Drops c's entry by moving the last entry into its place. */
static void api_del(struct ready *r, struct conn *c)
{
	struct api *a = r->api;
	unsigned i = c->model.index, last = --a->n;

	if (i != last) {
		a->pfd[i] = a->pfd[last];
		a->conn[i] = a->conn[last];
		a->conn[i]->model.index = i;
	}
}

static int api_wait(struct ready *r, int ms)
{
	struct api *a = r->api;
	int n = poll(a->pfd, a->n, ms);

	return n < 0 ? -errno : n;
}

/* Backwards: a removal moves the last entry, already visited, into the
 * hole; new entries go past the start; listeners come last. */
static void api_fired(struct ready *r, int n)
{
	struct api *a = r->api;
	unsigned nlis = r->srv->nlis;

	for (unsigned i = a->n; i-- > 0 && n > 0;) {
		short re = a->pfd[i].revents;
		if (!re)
			continue;
		n--;
		a->pfd[i].revents = 0;
		if (i < nlis) {
			ready_listener(r, a->pfd[i].fd);
			continue;
		}
		ready_conn(r, a->conn[i],
			   re & (POLLIN | POLLERR | POLLHUP | POLLNVAL) ?
				   READY_IN : READY_OUT);
	}
}

static const struct ready_ops poll_ops = {
	.wait_name = "poll",
	.fd_limit = INT_MAX,
	.create = api_create,
	.destroy = api_destroy,
	.unlisten = api_unlisten,
	.reserve = api_reserve,
	.add = api_add,
	.set = api_set,
	.del = api_del,
	.wait = api_wait,
	.fired = api_fired,
};

static int poll_run(struct server *srv)
{
	return ready_run(srv, &poll_ops);
}

const struct evd_model evd_model_poll = {
	.name = "poll",
	.summary = "one thread, poll() over an array of every connection",
	.flags = 0,
	.slots = model_one_slot,
	.run = poll_run,
};
