/* epoll: one thread, level-triggered epoll_wait over the listeners and every
 * connection; interest follows what each connection wants next. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define EVENTS_MAX 256
#define ACCEPT_BATCH 64

struct loop {
	struct server *srv;
	struct stats_slot *slot;
	int epfd;
	struct conn_list conns;
	struct timer_heap timers;	/* delayed responses */
};

static uint32_t interest(unsigned want)
{
	return (want & CONN_WANT_READ ? EPOLLIN : 0) |
	       (want & CONN_WANT_WRITE ? EPOLLOUT : 0);
}

static void drop(struct loop *lp, struct conn *c)
{
	timer_del(&lp->timers, &c->timer);
	conn_list_del(&lp->conns, c);
	conn_close(c);	/* close() also leaves the epoll set */
}

/* Applies what c wants next: new interest, a timer, or close.  A
 * connection waiting only for its timer leaves the epoll set (a hung-up
 * socket would otherwise report EPOLLHUP without end). */
static void update(struct loop *lp, struct conn *c, unsigned want)
{
	if (!want) {
		drop(lp, c);
		return;
	}
	uint32_t ev = interest(want);
	uint32_t had = c->model.events;
	if (ev != had) {
		struct epoll_event e = { .events = ev, .data.ptr = c };
		int op = !ev ? EPOLL_CTL_DEL : !had ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
		if (epoll_ctl(lp->epfd, op, c->fd, &e) < 0) {
			log_warn("epoll_ctl");
			drop(lp, c);
			return;
		}
		c->model.events = ev;
	}
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
	struct server *srv = lp->srv;

	if (!*started) {
		*started = true;
		for (unsigned i = 0; i < srv->nlis; i++)
			epoll_ctl(lp->epfd, EPOLL_CTL_DEL, srv->lis[i].fd, NULL);
		conn_list_drain(&lp->conns, drain_one, lp);
	}
	return lp->conns.n == 0;
}

static void on_listener(struct loop *lp, int lfd)
{
	if (server_draining(lp->srv))
		return;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;
		int r = server_accept_conn(lp->srv, lfd, lp->slot, true,
					   lp->conns.n, INT_MAX, &c);
		if (r < 0)
			return;	/* -EAGAIN: drained; others are counted */
		if (r == 0)
			continue;
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) {
			log_warn("epoll_ctl(ADD)");
			conn_close(c);
			continue;
		}
		c->model.events = EPOLLIN;
		timer_init(&c->timer, on_timer, lp);
		conn_list_add(&lp->conns, c);
		c->last_active = now_ns();
	}
}

static void forget(struct conn *c, void *arg)
{
	struct loop *lp = arg;

	timer_del(&lp->timers, &c->timer);	/* close() leaves the epoll set */
}

static int epoll_run(struct server *srv)
{
	struct loop lp = { .srv = srv };
	struct epoll_event events[EVENTS_MAX];
	int rc = 0;

	lp.slot = scoreboard_claim(srv->sb, 0);
	lp.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (lp.epfd < 0) {
		rc = -errno;
		log_error("epoll_create1");
		return rc;
	}
	for (unsigned i = 0; i < srv->nlis; i++) {
		/* Listener tags are the small integers 0..nlis-1. */
		struct epoll_event e = { .events = EPOLLIN, .data.u64 = i };
		if (epoll_ctl(lp.epfd, EPOLL_CTL_ADD, srv->lis[i].fd, &e) < 0) {
			rc = -errno;
			log_error("epoll_ctl(ADD listener)");
			goto out;
		}
	}
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
		int n = epoll_wait(lp.epfd, events, EVENTS_MAX, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_error("epoll_wait");
			break;
		}
		slot_set_state(lp.slot, WORKER_READING);
		for (int i = 0; i < n; i++) {
			if (events[i].data.u64 < CONFIG_MAX_LISTEN) {
				on_listener(&lp, srv->lis[events[i].data.u64].fd);
				continue;
			}
			struct conn *c = events[i].data.ptr;
			uint32_t ev = events[i].events;
			unsigned want;
			if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))
				want = conn_on_readable(c);
			else
				want = conn_on_writable(c);
			update(&lp, c, want);
		}
		timer_run(&lp.timers, now_ns());
	}
out:
	while (lp.conns.head)
		drop(&lp, lp.conns.head);
	timer_heap_free(&lp.timers);
	close(lp.epfd);
	slot_set_state(lp.slot, WORKER_FREE);
	return rc;
}

const struct evd_model evd_model_epoll = {
	.name = "epoll",
	.summary = "one thread, level-triggered epoll over every connection",
	.flags = 0,
	.slots = model_one_slot,
	.run = epoll_run,
};
