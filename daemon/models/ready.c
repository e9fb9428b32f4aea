/* The readiness loop shared by select, poll and epoll: everything but the
 * waiting itself (see ready.h). */
#include "ready.h"

#include <errno.h>

#include "../log.h"
#include "../server.h"
#include "../util.h"

#define ACCEPT_BATCH 64

/* c leaves the loop: its timer, the mechanism, the list; then it closes. */
static void drop(struct ready *r, struct conn *c)
{
	timer_del(&r->timers, &c->timer);
	if (r->ops->del)
		r->ops->del(r, c);
	conn_list_del(&r->conns, c);
	conn_close(c);
}

/* Applies what c wants next: new interest, a timer, or close. */
static void update(struct ready *r, struct conn *c, unsigned want)
{
	if (!want) {
		drop(r, c);
		return;
	}
	int rc = r->ops->set(r, c, want);
	if (rc < 0) {
		errno = -rc;
		log_warn("cannot watch connection %d", c->fd);
		drop(r, c);
		return;
	}
	conn_timer_sync(c, &r->timers, want);
	conn_list_touch(&r->conns, c);
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

/* conn_list_expire() calls this before closing a connection that timed
 * out. */
static void forget(struct conn *c, void *arg)
{
	struct ready *r = arg;

	timer_del(&r->timers, &c->timer);
	if (r->ops->del)
		r->ops->del(r, c);
}

/* Draining: stop accepting, let every connection finish.  Returns true
 * once none is left. */
static bool drain(struct ready *r, bool *started)
{
	if (!*started) {
		*started = true;
		r->ops->unlisten(r);
		conn_list_drain(&r->conns, drain_one, r);
	}
	return r->conns.n == 0;
}

void ready_listener(struct ready *r, int lfd)
{
	if (server_draining(r->srv))
		return;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;
		if (r->ops->reserve && r->ops->reserve(r) < 0)
			return;	/* no room to watch one more: it waits */
		int rc = server_accept_conn(r->srv, lfd, r->slot, true,
					    r->conns.n, r->ops->fd_limit, &c);
		if (rc < 0)
			return;	/* -EAGAIN: drained; others are counted */
		if (rc == 0)
			continue;	/* refused, counted */
		rc = r->ops->add(r, c);
		if (rc < 0) {
			errno = -rc;
			log_warn("cannot watch connection %d", c->fd);
			conn_close(c);
			continue;
		}
		timer_init(&c->timer, on_timer, r);
		conn_list_add(&r->conns, c);
		c->last_active = now_ns();
	}
}

void ready_conn(struct ready *r, struct conn *c, enum ready_event ev)
{
	update(r, c, ev == READY_IN ? conn_on_readable(c) :
				      conn_on_writable(c));
}

/* One pass: timeouts, the wait, what it found, the timers due.  Returns 0,
 * or -errno to stop on (logged). */
static int pass(struct ready *r)
{
	uint64_t now = now_ns();
	int ms = conn_list_expire(&r->conns, r->srv->cfg->idle_timeout_ms, now,
				  forget, r);

	ms = timer_ms_until(&r->timers, now, ms);
	slot_set_state(r->slot, WORKER_IDLE);
	int n = r->ops->wait(r, ms);
	if (n == -EINTR)
		return 0;	/* a signal: the loop looks at the server */
	if (n < 0) {
		errno = -n;
		log_error("%s", r->ops->wait_name);
		return n;
	}
	slot_set_state(r->slot, WORKER_READING);
	r->ops->fired(r, n);
	timer_run(&r->timers, now_ns());
	return 0;
}

int ready_run(struct server *srv, const struct ready_ops *ops)
{
	struct ready r = { .srv = srv, .ops = ops };
	bool draining = false;
	int rc;

	r.slot = scoreboard_claim(srv->sb, 0);
	rc = ops->create(&r);
	while (rc == 0 && !server_stopping(srv)) {
		if (server_draining(srv) && drain(&r, &draining))
			break;
		rc = pass(&r);
	}
	while (r.conns.head)
		drop(&r, r.conns.head);
	timer_heap_free(&r.timers);
	ops->destroy(&r);
	slot_set_state(r.slot, WORKER_FREE);
	return rc;
}
