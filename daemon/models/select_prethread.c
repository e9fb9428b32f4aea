/* select-prethread: one mux thread select()s over the listeners and every
 * idle connection, accepts, and does one receive per readable connection;
 * then it hands the connection to a pool of `workers` threads, which process
 * and send (waiting in poll() for room, so the mux never waits on a send)
 * and give it back once it wants input again.  Descriptors must fit below
 * FD_SETSIZE: a connection beyond is refused (counted).
 *
 * A connection belongs to exactly one thread at a time: the mux while it
 * sits in the mux's idle list, a pool thread from take() to give_back().
 * Its owner is the only one touching it, and c->slot always names the
 * owner's slot; the two queues' mutex orders the hand-overs.  Only the mux
 * accepts and closes (a pool thread gives back a finished connection with
 * its verdict), so each slot's accepted - closed, which evctl workers shows
 * as the row's active connections, stays exact. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/select.h>
#include <unistd.h>

#include "../config.h"
#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define ACCEPT_BATCH 64

/* What the pool decided, in c->model.sp.verdict when it gives c back. */
enum verdict {
	VERDICT_HOLD,	/* wants input: watch it again */
	VERDICT_CLOSE,	/* finished, failed, or the server stops */
	VERDICT_IDLE,	/* the peer did not read for idle_timeout */
	VERDICT_WAIT,	/* a delayed response: the mux's timer releases it */
};

/* A FIFO of connections (through c->model.sp.queue). */
STAILQ_HEAD(connq, conn);

struct worker {
	struct pool *pool;
	unsigned index;		/* scoreboard slot, 1..workers */
	pthread_t tid;
};

struct pool {
	struct server *srv;
	struct stats_slot *mux_slot;
	pthread_mutex_t lock;	/* guards the queues, quit and nup/up_err */
	pthread_cond_t ready;	/* work queued, or quit */
	pthread_cond_t up;	/* a worker finished starting */
	struct connq work;	/* mux -> pool: input received */
	struct connq back;	/* pool -> mux: wants input again */
	bool quit;
	unsigned nup;
	int up_err;
	int wakefd;		/* eventfd: back became non-empty */
	struct worker *w;
	unsigned nthreads;	/* started, to join */
};

struct mux {
	struct server *srv;
	struct pool *pool;
	struct stats_slot *slot;
	struct conn *byfd[FD_SETSIZE];
	struct conn_list idle;	/* connections waiting for input or a timer */
	struct timer_heap timers;	/* delayed responses */
	unsigned nconns;	/* every connection, in the mux or the pool */
	bool draining;		/* accepting is over */
};

/* ---- queues (callers hold pool->lock) ----------------------------------- */

static void connq_push(struct connq *q, struct conn *c)
{
	STAILQ_INSERT_TAIL(q, c, model.sp.queue);
}

static struct conn *connq_pop(struct connq *q)
{
	struct conn *c = STAILQ_FIRST(q);

	if (c)
		STAILQ_REMOVE_HEAD(q, model.sp.queue);
	return c;
}

/* ---- pool threads ------------------------------------------------------- */

/* The next connection to serve, or NULL when the pool stops. */
static struct conn *take(struct pool *p, struct stats_slot *s)
{
	struct conn *c;

	slot_set_state(s, WORKER_IDLE);
	pthread_mutex_lock(&p->lock);
	while (!p->quit && STAILQ_EMPTY(&p->work))
		pthread_cond_wait(&p->ready, &p->lock);
	c = p->quit ? NULL : connq_pop(&p->work);
	pthread_mutex_unlock(&p->lock);
	return c;
}

/* Returns c to the mux, to be watched again or closed. */
static void give_back(struct pool *p, struct conn *c, enum verdict v)
{
	bool was_empty;

	c->model.sp.verdict = v;
	c->slot = p->mux_slot;
	pthread_mutex_lock(&p->lock);
	was_empty = STAILQ_EMPTY(&p->back);
	connq_push(&p->back, c);
	pthread_mutex_unlock(&p->lock);
	/* The mux drains wakefd before it takes the queue, so one byte per
	 * empty -> non-empty transition is enough. */
	if (was_empty) {
		uint64_t one = 1;
		if (write(p->wakefd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_warn("select-prethread: waking the mux");
	}
}

/*
 * Processes and sends c's input from this thread, waiting in poll() while
 * the socket is full, then gives it back to the mux.
 */
static void serve(struct pool *p, struct stats_slot *s, struct conn *c)
{
	struct server *srv = p->srv;
	uint64_t idle_ms = srv->cfg->idle_timeout_ms;
	int ms = idle_ms ? (idle_ms > INT_MAX ? INT_MAX : (int)idle_ms) : -1;
	enum verdict v = VERDICT_CLOSE;

	c->slot = s;	/* this thread counts it from now on */
	slot_set_state(s, WORKER_WRITING);
	if (server_draining(srv))
		conn_drain(c);
	unsigned want = conn_pump(c);
	while ((want & CONN_WANT_WRITE) && !server_stopping(srv)) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLOUT };
		int n = poll(&pfd, 1, ms);
		if (n == 0) {
			v = VERDICT_IDLE;	/* the peer stopped reading */
			break;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("select-prethread: poll");
			break;
		}
		want = conn_pump(c);
	}
	if (v != VERDICT_IDLE && !server_stopping(srv) && want &&
	    !(want & CONN_WANT_WRITE))
		v = want & CONN_WANT_TIMER ? VERDICT_WAIT : VERDICT_HOLD;
	give_back(p, c, v);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool *p = w->pool;
	struct stats_slot *s = scoreboard_claim(p->srv->sb, w->index);
	struct conn *c;

	slot_set_role(s, ROLE_WORKER);
	server_worker_sigmask();
	/* Registered, the stop's SIGKICK interrupts poll(); a thread that
	 * cannot be interrupted must not serve. */
	int rc = server_kick_register(p->srv);
	pthread_mutex_lock(&p->lock);
	if (rc < 0 && !p->up_err)
		p->up_err = rc;
	p->nup++;
	pthread_cond_signal(&p->up);
	pthread_mutex_unlock(&p->lock);
	if (rc == 0) {
		while ((c = take(p, s)))
			serve(p, s, c);
		server_kick_unregister(p->srv);
	}
	slot_set_state(s, WORKER_FREE);
	return NULL;
}

/* Ends the pool: no thread takes work after this returns. */
static void pool_stop(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->ready);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->w[i].tid, NULL);
	p->nthreads = 0;
}

/* Starts the workers and waits until each is ready.  Returns 0 or -errno
 * (after logging; the threads started are stopped by pool_stop()). */
static int pool_start(struct pool *p, unsigned n)
{
	int rc = 0;

	p->w = calloc(n, sizeof(*p->w));
	if (!p->w) {
		log_errorx("select-prethread: out of memory for %u workers", n);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		p->w[i].pool = p;
		p->w[i].index = 1 + i;
		rc = -pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]);
		if (rc < 0) {
			log_errorx("select-prethread: cannot start worker "
				   "%u of %u: %s (lower server.workers)", i + 1,
				   n, strerror(-rc));
			break;
		}
		p->nthreads++;
	}
	pthread_mutex_lock(&p->lock);
	while (p->nup < p->nthreads)
		pthread_cond_wait(&p->up, &p->lock);
	if (rc == 0 && p->up_err) {
		rc = p->up_err;
		log_errorx("select-prethread: cannot start the workers: %s",
			   strerror(-rc));
	}
	pthread_mutex_unlock(&p->lock);
	return rc;
}

/* ---- the mux ------------------------------------------------------------ */

/* Drops the mux's references before an idle close. */
static void forget(struct conn *c, void *arg)
{
	struct mux *m = arg;

	m->byfd[c->fd] = NULL;
	m->nconns--;
}

/* Closes a connection the mux owns (not in its idle list). */
static void finish(struct mux *m, struct conn *c, bool idle)
{
	timer_del(&m->timers, &c->timer);
	m->nconns--;
	if (idle)
		conn_close_idle(c);
	else
		conn_close(c);
}

/* Starts watching c for input. */
static void mux_hold(struct mux *m, struct conn *c)
{
	m->byfd[c->fd] = c;
	conn_list_add(&m->idle, c);
	c->last_active = now_ns();
}

static void mux_drop(struct mux *m, struct conn *c)
{
	m->byfd[c->fd] = NULL;
	conn_list_del(&m->idle, c);
}

static void hand_off(struct mux *m, struct conn *c);

/* A delayed response is due: release it (no I/O here) and let the pool
 * send it, or, when it waits again (a chain of waits), keep it. */
static void on_delay(struct timer *t, void *arg)
{
	struct conn *c = conn_of_timer(t);
	struct mux *m = arg;

	conn_release(c);
	/* The next wait of a chain: still the mux's, on its timer. */
	if (c->held && timer_add(&m->timers, &c->timer, c->hold_until) == 0)
		return;
	hand_off(m, c);
}

static void hand_off(struct mux *m, struct conn *c)
{
	struct pool *p = m->pool;

	mux_drop(m, c);
	pthread_mutex_lock(&p->lock);
	connq_push(&p->work, c);
	pthread_cond_signal(&p->ready);
	pthread_mutex_unlock(&p->lock);
}

/* One receive; data goes to the pool, the end of the stream or an error
 * closes.  (conn_want() is asked only without new data: input not processed
 * yet may fill the buffer, which it reads as a stuck connection.) */
static void on_readable(struct mux *m, struct conn *c)
{
	int r = conn_read(c);

	if (r > 0) {
		hand_off(m, c);
	} else if (!conn_want(c)) {
		mux_drop(m, c);
		finish(m, c, false);
	}
	/* -EAGAIN/-EINTR: nothing this time; select() will tell. */
}

/* Takes back the connections the pool is done with. */
static void on_wake(struct mux *m)
{
	struct pool *p = m->pool;
	struct connq back = STAILQ_HEAD_INITIALIZER(back);
	uint64_t v;
	struct conn *c;

	/* Drain first: a byte written after this read stays for the next
	 * pass, so no hand-back is missed. */
	if (read(p->wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("select-prethread: reading the wake-up eventfd");
	pthread_mutex_lock(&p->lock);
	STAILQ_CONCAT(&back, &p->back);
	pthread_mutex_unlock(&p->lock);
	while ((c = connq_pop(&back))) {
		if (c->model.sp.verdict == VERDICT_HOLD && m->draining &&
		    !conn_drain(c)) {
			finish(m, c, false);	/* drained: nothing owed */
		} else if (c->model.sp.verdict == VERDICT_HOLD) {
			mux_hold(m, c);
		} else if (c->model.sp.verdict == VERDICT_WAIT) {
			/* Watched by its timer only (build_set skips held
			 * connections); the idle timeout spares it. */
			mux_hold(m, c);
			timer_add(&m->timers, &c->timer, c->hold_until);
		} else
			finish(m, c, c->model.sp.verdict == VERDICT_IDLE);
	}
}

static void on_listener(struct mux *m, int lfd)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct conn *c;
		int r = server_accept_conn(m->srv, lfd, m->slot, true,
					   m->nconns, FD_SETSIZE, &c);
		if (r < 0)
			return;	/* -EAGAIN: drained; others are counted */
		if (r == 0)
			continue;
		m->nconns++;
		/* It moves between threads, and pools are per thread. */
		if (!conn_pin_buffers(c)) {
			finish(m, c, false);
			continue;
		}
		timer_init(&c->timer, on_delay, m);
		mux_hold(m, c);
	}
}

/* The read set: listeners, the wake-up eventfd, every idle connection. */
static int build_set(struct mux *m, fd_set *rfds)
{
	struct server *srv = m->srv;
	int maxfd = m->pool->wakefd;

	FD_ZERO(rfds);
	FD_SET(m->pool->wakefd, rfds);
	for (unsigned i = 0; i < srv->nlis && !m->draining; i++) {
		FD_SET(srv->lis[i].fd, rfds);
		if (srv->lis[i].fd > maxfd)
			maxfd = srv->lis[i].fd;
	}
	for (struct conn *c = m->idle.head; c; c = c->next) {
		if (c->held)
			continue;
		FD_SET(c->fd, rfds);
		if (c->fd > maxfd)
			maxfd = c->fd;
	}
	return maxfd;
}

/* Serves until the server stops; returns 0 or -errno. */
static int mux_loop(struct mux *m)
{
	struct server *srv = m->srv;
	int wakefd = m->pool->wakefd;

	while (!server_stopping(srv)) {
		fd_set rfds;

		/* Draining: no more accepts; idle connections end now, the
		 * pool's when it gives them back. */
		if (server_draining(srv) && !m->draining) {
			m->draining = true;
			struct conn *c = m->idle.head;
			for (unsigned i = 0, n = m->idle.n; i < n && c; i++) {
				struct conn *next = c->next;
				if (!conn_drain(c)) {
					mux_drop(m, c);
					finish(m, c, false);
				}
				c = next;
			}
		}
		if (m->draining && !m->nconns)
			break;
		uint64_t now = now_ns();
		int ms = conn_list_expire(&m->idle, srv->cfg->idle_timeout_ms,
					  now, forget, m);
		ms = timer_ms_until(&m->timers, now, ms);
		int maxfd = build_set(m, &rfds);
		struct timeval tv, *tvp = NULL;
		if (ms >= 0) {
			tv.tv_sec = ms / 1000;
			tv.tv_usec = (ms % 1000) * 1000;
			tvp = &tv;
		}
		slot_set_state(m->slot, WORKER_IDLE);
		int n = select(maxfd + 1, &rfds, NULL, NULL, tvp);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int rc = -errno;
			log_error("select");
			return rc;
		}
		slot_set_state(m->slot, WORKER_READING);
		/* Connections first: until accept runs, no descriptor number
		 * set in rfds can be reused by another connection. */
		for (int fd = 0; fd <= maxfd; fd++)
			if (FD_ISSET(fd, &rfds) && m->byfd[fd])
				on_readable(m, m->byfd[fd]);
		if (FD_ISSET(wakefd, &rfds))
			on_wake(m);
		for (unsigned i = 0; i < srv->nlis && !m->draining; i++)
			if (FD_ISSET(srv->lis[i].fd, &rfds))
				on_listener(m, srv->lis[i].fd);
		timer_run(&m->timers, now_ns());
	}
	return 0;
}

/* After the pool stopped: every connection left is the mux's to close. */
static void close_all(struct mux *m)
{
	struct pool *p = m->pool;
	struct conn *c;

	while ((c = connq_pop(&p->work)))
		finish(m, c, false);
	while ((c = connq_pop(&p->back)))
		finish(m, c, c->model.sp.verdict == VERDICT_IDLE);
	while ((c = m->idle.head)) {
		mux_drop(m, c);
		finish(m, c, false);
	}
}

static int select_prethread_run(struct server *srv)
{
	struct pool *p = calloc(1, sizeof(*p));
	struct mux *m = calloc(1, sizeof(*m));
	int rc = 0;

	if (!p || !m) {
		free(p);
		free(m);
		log_errorx("select-prethread: out of memory");
		return -ENOMEM;
	}
	m->srv = srv;
	m->pool = p;
	m->slot = scoreboard_claim(srv->sb, 0);
	slot_set_role(m->slot, ROLE_MUX);
	p->srv = srv;
	p->mux_slot = m->slot;
	p->wakefd = -1;
	STAILQ_INIT(&p->work);
	STAILQ_INIT(&p->back);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->ready, NULL);
	pthread_cond_init(&p->up, NULL);

	for (unsigned i = 0; i < srv->nlis; i++)
		if (srv->lis[i].fd >= FD_SETSIZE) {
			log_errorx("listener %s has descriptor %d, beyond "
				   "select's FD_SETSIZE (%d)", srv->lis[i].text,
				   srv->lis[i].fd, FD_SETSIZE);
			rc = -EMFILE;
			goto out;
		}
	p->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (p->wakefd < 0) {
		rc = -errno;
		log_error("select-prethread: eventfd");
		goto out;
	}
	if (p->wakefd >= FD_SETSIZE) {
		log_errorx("select-prethread: the wake-up eventfd has "
			   "descriptor %d, beyond select's FD_SETSIZE (%d)",
			   p->wakefd, FD_SETSIZE);
		rc = -EMFILE;
		goto out;
	}
	rc = pool_start(p, srv->workers);
	if (rc == 0)
		rc = mux_loop(m);
out:
	pool_stop(p);
	close_all(m);
	timer_heap_free(&m->timers);
	if (p->wakefd >= 0)
		close(p->wakefd);
	pthread_cond_destroy(&p->up);
	pthread_cond_destroy(&p->ready);
	pthread_mutex_destroy(&p->lock);
	slot_set_state(m->slot, WORKER_FREE);
	free(p->w);
	free(p);
	free(m);
	return rc;
}

static unsigned select_prethread_slots(const struct config *cfg)
{
	return 1 + config_workers(cfg);
}

const struct evd_model evd_model_select_prethread = {
	.name = "select-prethread",
	.summary = "one select() thread accepts and receives, a pool of "
		   "`workers` threads sends (descriptors below FD_SETSIZE)",
	.flags = MODEL_USES_WORKERS,
	.slots = select_prethread_slots,
	.run = select_prethread_run,
};
