/* poll: one thread, poll() over an array holding the listeners and every
 * connection; a connection's index in the array is kept in the conn. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define ACCEPT_BATCH 64

struct loop {
	struct server *srv;
	struct stats_slot *slot;
	struct pollfd *pfd;	/* listeners first, then connections */
	struct conn **conn;	/* parallel to pfd; NULL for listeners */
	unsigned n, cap;
	struct conn_list conns;
	struct timer_heap timers;	/* delayed responses */
};

static short interest(unsigned want)
{
	return (short)((want & CONN_WANT_READ ? POLLIN : 0) |
		       (want & CONN_WANT_WRITE ? POLLOUT : 0));
}

static int grow(struct loop *lp)
{
	unsigned cap = lp->cap ? lp->cap * 2 : 64;
	struct pollfd *p = realloc(lp->pfd, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	lp->pfd = p;
	struct conn **c = realloc(lp->conn, cap * sizeof(*c));
	if (!c)
		return -ENOMEM;
	lp->conn = c;
	lp->cap = cap;
	return 0;
}

/* Drops entry i by moving the last entry into its place. */
static void remove_at(struct loop *lp, unsigned i)
{
	unsigned last = --lp->n;

	if (i != last) {
		lp->pfd[i] = lp->pfd[last];
		lp->conn[i] = lp->conn[last];
		lp->conn[i]->model.index = i;
	}
}

static void forget(struct conn *c, void *arg)
{
	struct loop *lp = arg;

	timer_del(&lp->timers, &c->timer);
	remove_at(lp, c->model.index);
}

/* Applies what c wants next: new interest, a timer, or close.  A
 * connection waiting only for its timer is left out of poll() (a negative
 * fd), where a hung-up socket would report POLLHUP without end. */
static void update(struct loop *lp, struct conn *c, unsigned want)
{
	unsigned i = c->model.index;

	if (!want) {
		forget(c, lp);
		conn_list_del(&lp->conns, c);
		conn_close(c);
		return;
	}
	short ev = interest(want);
	lp->pfd[i].events = ev;
	lp->pfd[i].fd = ev ? c->fd : -1;
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

/* Draining: stop accepting, let every connection finish.  Returns true
 * once none is left. */
static bool drain(struct loop *lp, bool *started)
{
	if (!*started) {
		*started = true;
		for (unsigned i = 0; i < lp->srv->nlis; i++)
			lp->pfd[i].fd = -1;	/* poll() skips it */
		conn_list_drain(&lp->conns, drain_one, lp);
	}
	return lp->conns.n == 0;
}

static void on_listener(struct loop *lp, int lfd)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;
		if (lp->n == lp->cap && grow(lp) < 0) {
			/* No room to watch one more: leave it in the backlog. */
			return;
		}
		int r = server_accept_conn(lp->srv, lfd, lp->slot, true,
					   lp->conns.n, INT_MAX, &c);
		if (r < 0)
			return;
		if (r == 0)
			continue;
		lp->pfd[lp->n] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
		lp->conn[lp->n] = c;
		c->model.index = lp->n++;
		timer_init(&c->timer, on_timer, lp);
		conn_list_add(&lp->conns, c);
		c->last_active = now_ns();
	}
}

static int poll_run(struct server *srv)
{
	struct loop lp = { .srv = srv };
	int rc = 0;

	lp.slot = scoreboard_claim(srv->sb, 0);
	while (lp.cap < srv->nlis + 1)
		if (grow(&lp) < 0) {
			rc = -ENOMEM;
			goto out;
		}
	for (unsigned i = 0; i < srv->nlis; i++) {
		lp.pfd[i] = (struct pollfd){ .fd = srv->lis[i].fd, .events = POLLIN };
		lp.conn[i] = NULL;
	}
	lp.n = srv->nlis;

	bool draining = false;
	while (!server_stopping(srv)) {
		if (server_draining(srv) && drain(&lp, &draining))
			break;
		uint64_t now = now_ns();
		int timeout = conn_list_expire(&lp.conns,
					       srv->cfg->idle_timeout_ms, now,
					       forget, &lp);
		timeout = timer_ms_until(&lp.timers, now, timeout);
		slot_set_state(lp.slot, WORKER_IDLE);
		int n = poll(lp.pfd, lp.n, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_error("poll");
			break;
		}
		slot_set_state(lp.slot, WORKER_READING);
		/* Backwards: removal moves the last entry, already visited, into
		 * the hole; listeners come last so new entries are not seen. */
		unsigned nlis = srv->nlis;
		for (unsigned i = lp.n; i-- > 0 && n > 0;) {
			short re = lp.pfd[i].revents;
			if (!re)
				continue;
			n--;
			lp.pfd[i].revents = 0;
			if (i < nlis) {
				on_listener(&lp, lp.pfd[i].fd);
				continue;
			}
			struct conn *c = lp.conn[i];
			unsigned want = re & (POLLIN | POLLERR | POLLHUP | POLLNVAL) ?
						conn_on_readable(c) :
						conn_on_writable(c);
			update(&lp, c, want);
		}
		timer_run(&lp.timers, now_ns());
	}
out:
	while (lp.conns.head)
		update(&lp, lp.conns.head, 0);
	timer_heap_free(&lp.timers);
	free(lp.pfd);
	free(lp.conn);
	slot_set_state(lp.slot, WORKER_FREE);
	return rc;
}

const struct evd_model evd_model_poll = {
	.name = "poll",
	.summary = "one thread, poll() over an array of every connection",
	.flags = 0,
	.slots = model_one_slot,
	.run = poll_run,
};
