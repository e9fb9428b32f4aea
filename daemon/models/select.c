/* select: one thread, select() over fd_sets rebuilt on every pass.  A
 * connection whose descriptor does not fit below FD_SETSIZE is refused
 * (counted), never written past the set.  The loop is ready.c's; this file
 * is the mechanism. */
#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>

#include "../log.h"
#include "../server.h"
#include "ready.h"

struct api {
	struct conn *byfd[FD_SETSIZE];
	bool listening;
	fd_set rfds, wfds;	/* the last wait's result */
	int maxfd;
};

static int api_create(struct ready *r)
{
	struct server *srv = r->srv;
	struct api *a = calloc(1, sizeof(*a));

	r->api = a;
	if (!a)
		return -ENOMEM;
	a->listening = true;
	for (unsigned i = 0; i < srv->nlis; i++)
		if (srv->lis[i].fd >= FD_SETSIZE) {
			log_errorx("listener %s has descriptor %d, beyond "
				   "select's FD_SETSIZE (%d)", srv->lis[i].text,
				   srv->lis[i].fd, FD_SETSIZE);
			return -EMFILE;
		}
	return 0;
}

static void api_destroy(struct ready *r)
{
	free(r->api);
}

static void api_unlisten(struct ready *r)
{
	struct api *a = r->api;

	a->listening = false;
}

static int api_add(struct ready *r, struct conn *c)
{
	struct api *a = r->api;

	c->model.want = CONN_WANT_READ;
	a->byfd[c->fd] = c;
	return 0;
}

/* The sets are rebuilt from model.want before each wait. */
static int api_set(struct ready *r, struct conn *c, unsigned want)
{
	(void)r;
	c->model.want = want;
	return 0;
}

static void api_del(struct ready *r, struct conn *c)
{
	struct api *a = r->api;

	a->byfd[c->fd] = NULL;
}

static void watch(struct api *a, int fd, fd_set *set)
{
	FD_SET(fd, set);
	if (fd > a->maxfd)
		a->maxfd = fd;
}

static int api_wait(struct ready *r, int ms)
{
	struct api *a = r->api;
	struct server *srv = r->srv;
	struct timeval tv = { .tv_sec = ms / 1000,
			      .tv_usec = (ms % 1000) * 1000 };

	FD_ZERO(&a->rfds);
	FD_ZERO(&a->wfds);
	a->maxfd = -1;
	for (unsigned i = 0; i < srv->nlis && a->listening; i++)
		watch(a, srv->lis[i].fd, &a->rfds);
	for (struct conn *c = r->conns.head; c; c = c->next) {
		if (c->model.want & CONN_WANT_READ)
			FD_SET(c->fd, &a->rfds);
		if (c->model.want & CONN_WANT_WRITE)
			FD_SET(c->fd, &a->wfds);
		if (c->fd > a->maxfd)
			a->maxfd = c->fd;
	}
	int n = select(a->maxfd + 1, &a->rfds, &a->wfds, NULL,
		       ms >= 0 ? &tv : NULL);
	return n < 0 ? -errno : n;
}

static bool is_listener(const struct server *srv, int fd)
{
	for (unsigned i = 0; i < srv->nlis; i++)
		if (srv->lis[i].fd == fd)
			return true;
	return false;
}

static void api_fired(struct ready *r, int n)
{
	struct api *a = r->api;

	for (int fd = 0; fd <= a->maxfd && n > 0; fd++) {
		bool rd = FD_ISSET(fd, &a->rfds), wr = FD_ISSET(fd, &a->wfds);
		if (!rd && !wr)
			continue;
		n -= rd + wr;
		struct conn *c = a->byfd[fd];
		if (c)
			ready_conn(r, c, rd ? READY_IN : READY_OUT);
		else if (is_listener(r->srv, fd))
			ready_listener(r, fd);
	}
}

static const struct ready_ops select_ops = {
	.wait_name = "select",
	.fd_limit = FD_SETSIZE,
	.create = api_create,
	.destroy = api_destroy,
	.unlisten = api_unlisten,
	.add = api_add,
	.set = api_set,
	.del = api_del,
	.wait = api_wait,
	.fired = api_fired,
};

static int select_run(struct server *srv)
{
	return ready_run(srv, &select_ops);
}

const struct evd_model evd_model_select = {
	.name = "select",
	.summary = "one thread, select() over fd_sets rebuilt each pass "
		   "(descriptors below FD_SETSIZE only)",
	.flags = 0,
	.slots = model_one_slot,
	.run = select_run,
};
