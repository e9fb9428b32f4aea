/* async: one thread, an ae-style event loop (daemon/evloop.h).  Listeners
 * and connections are file events with callbacks; the idle timeout is one
 * time event armed for the oldest connection of the idle list.
 *
 * The idle timer is lazy: it is armed for head->last_active + idle_timeout
 * and is not moved when connections are touched (a touch only ever pushes
 * a deadline later).  When it fires, conn_list_expire() closes what really
 * expired and the timer is re-armed for the new head.  So the hot path pays
 * no heap operation per event, at the cost of at most one early wake-up per
 * idle period; a periodic cron (Redis serverCron) would instead wake an
 * idle server every tick and expire up to a tick late. */
#include "async.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "../conn.h"
#include "../evloop.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define ACCEPT_BATCH 64

struct async {
	struct server *srv;
	struct stats_slot *slot;
	struct evloop *ev;
	struct conn_list conns;	/* oldest activity first */
	struct timer idle;	/* armed for the head of conns */
	_Atomic unsigned *active;
};

/* A connection's model.loop is its loop: the file-event argument is the
 * connection itself. */
static struct async *owner(const struct conn *c)
{
	return c->model.loop;
}

static unsigned ev_mask(unsigned want)
{
	return (want & CONN_WANT_READ ? EV_READ : 0) |
	       (want & CONN_WANT_WRITE ? EV_WRITE : 0);
}

static void release(struct async *a)
{
	atomic_fetch_sub_explicit(a->active, 1, memory_order_relaxed);
}

/* conn_list_expire() calls this before closing an idle connection. */
static void forget(struct conn *c, void *arg)
{
	struct async *a = arg;

	evloop_timer_del(a->ev, &c->timer);
	evloop_forget(a->ev, c->fd);	/* close() leaves the epoll set */
	release(a);
}

static void drop(struct async *a, struct conn *c)
{
	conn_list_del(&a->conns, c);
	forget(c, a);
	conn_close(c);
}

/* Arms the idle timer for the first connection that may time out (the
 * oldest activity, or the oldest request under way: request_timeout),
 * unless it is armed no later (then it fires no later than needed) or
 * there is nothing to time out.  Only the first arming of a heap
 * allocates; if even that fails, the next event tries again. */
static void idle_arm(struct async *a)
{
	uint64_t due = conn_list_next_due(&a->conns,
					  a->srv->cfg->idle_timeout_ms);

	if (!due || (timer_armed(&a->idle) && a->idle.when <= due))
		return;
	(void)evloop_timer_add(a->ev, &a->idle, due);
}

static void on_idle(struct timer *t, void *arg)
{
	struct async *a = arg;

	(void)t;
	conn_list_expire(&a->conns, a->srv->cfg->idle_timeout_ms, now_ns(),
			 forget, a);
	idle_arm(a);
}

static void on_conn(struct evloop *ev, int fd, unsigned events, void *arg);

/* Applies what c wants next: file events (none while it only waits for its
 * timer: evloop_set(0) leaves the epoll set), a time event, or close. */
static void update(struct async *a, struct conn *c, unsigned want)
{
	if (!want) {
		drop(a, c);
		return;
	}
	/* No system call when the interest is unchanged. */
	int r = evloop_set(a->ev, c->fd, ev_mask(want), on_conn, c);
	if (r < 0) {
		errno = -r;
		log_warn("cannot watch connection %d", c->fd);
		drop(a, c);
		return;
	}
	if (!(want & CONN_WANT_TIMER))
		evloop_timer_del(a->ev, &c->timer);
	else if (!timer_armed(&c->timer))
		evloop_timer_add(a->ev, &c->timer, c->hold_until);
	conn_list_touch(&a->conns, c);
	idle_arm(a);	/* a request just started may be due first */
}

/* A delayed response is due. */
static void on_delay(struct timer *t, void *arg)
{
	struct conn *c = conn_of_timer(t);

	slot_set_state(owner(c)->slot, WORKER_WRITING);
	update(arg, c, conn_on_timer(c));
}

static void on_conn(struct evloop *ev, int fd, unsigned events, void *arg)
{
	struct conn *c = arg;
	struct async *a = owner(c);
	unsigned want;

	(void)ev;
	(void)fd;
	/* Reading also flushes what it answers: readable covers both. */
	if (events & EV_READ) {
		slot_set_state(a->slot, WORKER_READING);
		want = conn_on_readable(c);
	} else {
		slot_set_state(a->slot, WORKER_WRITING);
		want = conn_on_writable(c);
	}
	update(a, c, want);
}

static void drain_one(struct conn *c, unsigned want, void *arg)
{
	update(arg, c, want);
}

static void on_accept(struct evloop *ev, int lfd, unsigned events, void *arg)
{
	struct async *a = arg;

	(void)events;
	slot_set_state(a->slot, WORKER_READING);
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		/* Reserve a place first: with several loops the limit holds
		 * even when they accept at the same moment. */
		unsigned before = atomic_fetch_add_explicit(a->active, 1,
							    memory_order_relaxed);
		struct conn *c;
		int r = server_accept_conn(a->srv, lfd, a->slot, true, before,
					   INT_MAX, &c);
		if (r <= 0) {
			release(a);
			if (r < 0)
				return;	/* -EAGAIN: drained; others counted */
			continue;	/* refused, counted */
		}
		c->model.loop = a;
		timer_init(&c->timer, on_delay, a);
		r = evloop_set(ev, c->fd, EV_READ, on_conn, c);
		if (r < 0) {
			errno = -r;
			log_warn("cannot watch connection %d", c->fd);
			release(a);
			conn_close(c);
			continue;
		}
		conn_list_add(&a->conns, c);
		idle_arm(a);
		if (server_draining(a->srv))	/* a set that drains its queue */
			update(a, c, conn_drain(c));
	}
}

/* Stops watching the listeners of set. */
static void unwatch(struct async *a, const struct listener *set)
{
	for (unsigned i = 0; i < a->srv->nlis; i++)
		evloop_set(a->ev, set[i].fd, 0, NULL, NULL);
}

int async_serve(struct server *srv, struct stats_slot *slot,
		const struct listener *set, _Atomic unsigned *active)
{
	struct async a = { .srv = srv, .slot = slot, .active = active };
	int rc = 0;

	timer_init(&a.idle, on_idle, &a);
	a.ev = evloop_new();
	if (!a.ev) {
		rc = -errno;
		log_error("cannot create an event loop");
		goto out;
	}
	for (unsigned i = 0; i < srv->nlis; i++) {
		rc = evloop_set(a.ev, set[i].fd, EV_READ, on_accept, &a);
		if (rc < 0) {
			errno = -rc;
			log_error("cannot watch listener %s", set[i].text);
			goto out;
		}
	}
	bool draining = false, sweep = false;
	while (!server_stopping(srv)) {
		/* Draining: no more accepts, unless a reload is about to close
		 * this worker's own sockets (server_set_drains(): then what
		 * they hold is served first); every connection finishes. */
		if (server_draining(srv) && !draining) {
			draining = true;
			sweep = server_set_drains(srv, set);
			if (!sweep)
				unwatch(&a, set);
			conn_list_drain(&a.conns, drain_one, &a);
		}
		if (sweep && !server_set_drains(srv, set)) {
			sweep = false;	/* a SIGTERM meanwhile */
			unwatch(&a, set);
		}
		if (draining && !a.conns.n &&
		    !(sweep && server_set_pending(set, srv->nlis)))
			break;
		slot_set_state(slot, WORKER_IDLE);
		int n = evloop_once(a.ev, -1);
		/* -EINTR: kicked, the loop condition decides. */
		if (n < 0 && n != -EINTR) {
			rc = n;
			errno = -n;
			log_error("event loop");
			break;
		}
	}
out:
	while (a.conns.head)
		drop(&a, a.conns.head);
	if (a.ev)
		evloop_timer_del(a.ev, &a.idle);
	evloop_free(a.ev);
	slot_set_state(slot, WORKER_FREE);
	return rc;
}

static int async_run(struct server *srv)
{
	_Atomic unsigned active = 0;
	struct stats_slot *slot = scoreboard_claim(srv->sb, 0);

	slot_set_role(slot, ROLE_LOOP);
	return async_serve(srv, slot, srv->lis, &active);
}

const struct evd_model evd_model_async = {
	.name = "async",
	.summary = "one thread, an event loop of file and time events (ae-style)",
	.flags = 0,
	.slots = model_one_slot,
	.run = async_run,
};
