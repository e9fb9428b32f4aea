/* select: one thread, select() over fd_sets rebuilt on every pass.  A
 * connection whose descriptor does not fit below FD_SETSIZE is refused
 * (counted), never written past the set. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/select.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define ACCEPT_BATCH 64

struct loop {
	struct server *srv;
	struct stats_slot *slot;
	struct conn *byfd[FD_SETSIZE];
	struct conn_list conns;
	struct timer_heap timers;	/* delayed responses */
};

static void forget(struct conn *c, void *arg)
{
	struct loop *lp = arg;

	timer_del(&lp->timers, &c->timer);
	lp->byfd[c->fd] = NULL;
}

/* Applies what c wants next (the sets are rebuilt from model.want), a
 * timer, or close. */
static void update(struct loop *lp, struct conn *c, unsigned want)
{
	if (!want) {
		forget(c, lp);
		conn_list_del(&lp->conns, c);
		conn_close(c);
		return;
	}
	c->model.want = want;
	conn_timer_sync(c, &lp->timers, want);
	conn_list_touch(&lp->conns, c);
}

static void on_timer(struct timer *t, void *arg)
{
	struct conn *c = conn_of_timer(t);

	update(arg, c, conn_on_timer(c));
}

static void drain_one(struct conn *c, unsigned want, void *arg)
{
	update(arg, c, want);
}

static void on_listener(struct loop *lp, int lfd)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;
		int r = server_accept_conn(lp->srv, lfd, lp->slot, true,
					   lp->conns.n, FD_SETSIZE, &c);
		if (r < 0)
			return;
		if (r == 0)
			continue;
		c->model.want = CONN_WANT_READ;
		timer_init(&c->timer, on_timer, lp);
		lp->byfd[c->fd] = c;
		conn_list_add(&lp->conns, c);
		c->last_active = now_ns();
	}
}

static bool is_listener(const struct server *srv, int fd)
{
	for (unsigned i = 0; i < srv->nlis; i++)
		if (srv->lis[i].fd == fd)
			return true;
	return false;
}

static int select_run(struct server *srv)
{
	struct loop *lp = calloc(1, sizeof(*lp));
	int rc = 0;

	if (!lp)
		return -ENOMEM;
	lp->srv = srv;
	lp->slot = scoreboard_claim(srv->sb, 0);
	for (unsigned i = 0; i < srv->nlis; i++)
		if (srv->lis[i].fd >= FD_SETSIZE) {
			log_errorx("listener %s has descriptor %d, beyond "
				   "select's FD_SETSIZE (%d)", srv->lis[i].text,
				   srv->lis[i].fd, FD_SETSIZE);
			rc = -EMFILE;
			goto out;
		}

	bool draining = false;
	while (!server_stopping(srv)) {
		fd_set rfds, wfds;
		int maxfd = -1;

		/* Draining: no more accepts; every connection finishes. */
		if (server_draining(srv) && !draining) {
			draining = true;
			conn_list_drain(&lp->conns, drain_one, lp);
		}
		if (draining && !lp->conns.n)
			break;

		uint64_t now = now_ns();
		int ms = conn_list_expire(&lp->conns, srv->cfg->idle_timeout_ms,
					  now, forget, lp);
		ms = timer_ms_until(&lp->timers, now, ms);
		FD_ZERO(&rfds);
		FD_ZERO(&wfds);
		for (unsigned i = 0; i < srv->nlis && !draining; i++) {
			FD_SET(srv->lis[i].fd, &rfds);
			if (srv->lis[i].fd > maxfd)
				maxfd = srv->lis[i].fd;
		}
		for (struct conn *c = lp->conns.head; c; c = c->next) {
			if (c->model.want & CONN_WANT_READ)
				FD_SET(c->fd, &rfds);
			if (c->model.want & CONN_WANT_WRITE)
				FD_SET(c->fd, &wfds);
			if (c->fd > maxfd)
				maxfd = c->fd;
		}
		struct timeval tv, *tvp = NULL;
		if (ms >= 0) {
			tv.tv_sec = ms / 1000;
			tv.tv_usec = (ms % 1000) * 1000;
			tvp = &tv;
		}
		slot_set_state(lp->slot, WORKER_IDLE);
		int n = select(maxfd + 1, &rfds, &wfds, NULL, tvp);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_error("select");
			break;
		}
		slot_set_state(lp->slot, WORKER_READING);
		for (int fd = 0; fd <= maxfd && n > 0; fd++) {
			bool r = FD_ISSET(fd, &rfds), w = FD_ISSET(fd, &wfds);
			if (!r && !w)
				continue;
			n -= r + w;
			struct conn *c = lp->byfd[fd];
			if (!c) {
				if (is_listener(srv, fd))
					on_listener(lp, fd);
				continue;
			}
			update(lp, c, r ? conn_on_readable(c) :
					  conn_on_writable(c));
		}
		timer_run(&lp->timers, now_ns());
	}
out:
	while (lp->conns.head)
		update(lp, lp->conns.head, 0);
	timer_heap_free(&lp->timers);
	slot_set_state(lp->slot, WORKER_FREE);
	free(lp);
	return rc;
}

const struct evd_model evd_model_select = {
	.name = "select",
	.summary = "one thread, select() over fd_sets rebuilt each pass "
		   "(descriptors below FD_SETSIZE only)",
	.flags = 0,
	.slots = model_one_slot,
	.run = select_run,
};
