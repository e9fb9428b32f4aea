/* The load: threads, each one epoll loop over its share of the connections.
 *
 * A slot is one virtual client.  It owns at most one connection at a time
 * and moves through IDLE -> CONNECTING -> OPEN -> (IDLE again, or DONE).
 * What it does between those states is the mode's:
 *
 *   closed   claims a round of --pipeline requests from the run's budget
 *            (or until the -d deadline), writes the round in one send(),
 *            waits for every reply, claims the next round;
 *   open     the worker's scheduler makes requests due at fixed intended
 *            times (connection g's k-th at t0 + (k*C + g)/rate, t0 when
 *            the worker's connections are open: their setup is not load);
 *            a slot sends what is due while fewer than --pipeline are in
 *            flight, and a reply's latency runs from its intended time;
 *   cpr      claims one request, connects, sends it, reads the reply,
 *            closes, claims the next (seed 004);
 *   seed001  connects A times one after another, M exchanges each; with
 *            M = 0 it closes as soon as connected, and the connection is
 *            what is counted (claimed 1 while it is being made).
 *
 * With --proto zmtp a connection first sends its greeting and READY and
 * sends no request before the server's have come (protos.c: zmtp_open(),
 * then consume_zmtp() calls slot_ready()); a handshake that fails or takes
 * --timeout is a connect error.
 *
 * Accounting: every request claimed or scheduled ends exactly once, either
 * verified (requests) or under one error kind; when a connection fails, what
 * it had in flight and what it had claimed fail with it, under that kind.
 * One exception, HTTP's: a reply that says Connection: close is a success,
 * and the requests pipelined behind it were refused, not lost (RFC 9112
 * 9.3.1 lets a client retry them): they stay in flight, and go again, with
 * their first latency origin, on the slot's next connection ("retried").
 * A slot whose connection failed goes on a queue and starts again from the
 * loop (never recursively: a server that refuses every connection makes a
 * fast loop, not a deep stack).
 *
 * Each worker writes only its own result, merged by the caller at the end;
 * the progress line reads two published counters (relaxed atomics). */
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

static volatile sig_atomic_t stop_requested;

void engine_stop(void)
{
	stop_requested = 1;
}

/* ---- the loop ------------------------------------------------------------ */

/* Open loop: the schedule starts when no first connect is pending. */
static bool sched_started(struct worker *w)
{
	if (w->t_sched0)
		return true;
	for (uint32_t i = 0; i < w->n; i++)
		if (w->slots[i].state == CS_CONNECTING)
			return false;
	w->t_sched0 = w->now;
	return true;
}

/* Open loop: marks what has become due, slot by slot in schedule order. */
static void sched_tick(struct worker *w)
{
	struct run *r = w->run;

	if (!sched_started(w))
		return;
	while (!w->sched_done) {
		uint64_t j = w->cur_k * r->o->conns + w->g0 + w->cur_i;
		if (j >= r->o->requests) {
			w->sched_done = true;
			for (uint32_t i = 0; i < w->n; i++) {
				struct slot *c = &w->slots[i];
				if ((c->state == CS_IDLE && c->count == 0 &&
				     backlog(c) == 0) ||
				    (c->state == CS_OPEN && c->count == 0 &&
				     backlog(c) == 0))
					slot_done(w, c);
			}
			break;
		}
		uint64_t t = w->t_sched0 + (uint64_t)((double)j * r->ns_per_req);
		if (t > w->now) {
			w->next_due = t;
			break;
		}
		struct slot *c = &w->slots[w->cur_i];
		c->sched_k++;
		if (c->state == CS_OPEN)
			slot_open_send(w, c);
		else if (c->state == CS_IDLE)
			slot_enqueue(w, c);
		if (++w->cur_i == w->n) {
			w->cur_i = 0;
			w->cur_k++;
		}
	}
}

/* --timeout: connects and requests that have waited too long. */
static void scan_timeouts(struct worker *w)
{
	uint64_t limit = w->run->timeout_ns;

	for (uint32_t i = 0; i < w->n; i++) {
		struct slot *c = &w->slots[i];
		if ((c->state == CS_CONNECTING || c->hs_pending) &&
		    w->now - c->t_connect0 >= limit)
			slot_fail(w, c, ERR_CONNECT);
		else if (c->state == CS_OPEN && c->count &&
			 w->now - c->ring[c->head].t_sent >= limit)
			slot_fail(w, c, ERR_TIMEOUT);
	}
	w->next_scan = w->now + w->run->scan_ns;
}

/* -T or a signal: what is left counts as timeouts. */
static void hard_stop(struct worker *w)
{
	struct run *r = w->run;

	for (uint32_t i = 0; i < w->n; i++) {
		struct slot *c = &w->slots[i];
		if (c->state == CS_DONE)
			continue;
		uint64_t n = c->count + c->claimed;
		if (r->mode == MODE_OPEN)
			n += backlog(c);
		if (r->mode == MODE_SEED001)
			n += c->actions_left * (r->o->connect_only ? 1 :
						r->o->messages);
		w->res.c.errors[ERR_TIMEOUT] += n;
		slot_done(w, c);
	}
	w->res.limit_hit = true;
}

/* Starts the slots on the restart queue; those that fail again go back on
 * it for the next turn. */
static void run_queue(struct worker *w)
{
	uint32_t n = w->nqueue;

	for (uint32_t i = 0; i < n; i++) {
		struct slot *c = &w->slots[w->queue[i]];
		c->queued = false;
		if (c->state == CS_IDLE)
			slot_start(w, c);
	}
	memmove(w->queue, w->queue + n, (w->nqueue - n) * sizeof(*w->queue));
	w->nqueue -= n;
}

static void handle_event(struct worker *w, const struct epoll_event *ev)
{
	uint32_t idx = (uint32_t)(ev->data.u64 >> 32);

	if (idx >= w->n)
		return;
	struct slot *c = &w->slots[idx];
	if (c->gen != (uint32_t)ev->data.u64 || c->fd < 0)
		return;
	if (c->state == CS_CONNECTING) {
		slot_connect_done(w, c, ev->events);
		return;
	}
	if (c->state != CS_OPEN)
		return;
	if ((ev->events & EPOLLOUT) && c->want_out && slot_flush(w, c) < 0)
		return;
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		slot_readable(w, c);
}

static void publish(struct worker *w)
{
	uint64_t e = 0;

	for (unsigned k = 0; k < ERR_MAX; k++)
		e += w->res.c.errors[k];
	__atomic_store_n(&w->pub_requests, w->res.c.requests,
			 __ATOMIC_RELAXED);
	__atomic_store_n(&w->pub_errors, e, __ATOMIC_RELAXED);
}

/* Waits for the start; false if the run is called off. */
static bool wait_go(struct run *r)
{
	pthread_mutex_lock(&r->lock);
	while (r->go == 0)
		pthread_cond_wait(&r->cond, &r->lock);
	bool go = r->go > 0;
	pthread_mutex_unlock(&r->lock);
	return go;
}

static void set_go(struct run *r, int go)
{
	pthread_mutex_lock(&r->lock);
	r->go = go;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct run *r = w->run;
	struct epoll_event ev[EVENTS_MAX];

	if (!wait_go(r))
		return NULL;
	w->now = now_ns();
	w->next_scan = w->now + r->scan_ns;
	for (uint32_t i = 0; i < w->n; i++) {
		if (r->mode == MODE_OPEN)
			slot_connect(w, &w->slots[i]);
		else
			slot_start(w, &w->slots[i]);
	}
	while (w->active > 0) {
		w->now = now_ns();
		if (stop_requested || w->now >= r->t_deadline) {
			hard_stop(w);
			break;
		}
		if (r->mode == MODE_OPEN)
			sched_tick(w);
		if (w->now >= w->next_scan)
			scan_timeouts(w);
		if (w->nqueue)
			run_queue(w);
		publish(w);
		if (w->active == 0)
			break;

		uint64_t wake = min_u64(r->t_deadline, w->next_scan);
		if (r->mode == MODE_OPEN && w->t_sched0 && !w->sched_done)
			wake = min_u64(wake, w->next_due);
		uint64_t wait = w->nqueue || wake <= w->now ? 0 : wake - w->now;
		struct timespec ts = { .tv_sec = (time_t)(wait / NS),
				       .tv_nsec = (long)(wait % NS) };
		int n = epoll_pwait2(w->epfd, ev, EVENTS_MAX, &ts, NULL);
		if (n < 0)
			continue;	/* EINTR: a signal; the top checks */
		w->now = now_ns();
		for (int i = 0; i < n; i++)
			handle_event(w, &ev[i]);
	}
	w->now = now_ns();
	w->res.elapsed_s = (double)(w->now - r->t_start) / 1e9;
	publish(w);
	return NULL;
}

/* ---- setup and the caller's side ----------------------------------------- */

static void worker_free(struct worker *w)
{
	if (w->slots) {
		for (uint32_t i = 0; i < w->n; i++) {
			slot_close(&w->slots[i]);
			free(w->slots[i].ring);
			free(w->slots[i].out);
			free(w->slots[i].in);
		}
	}
	free(w->slots);
	free(w->queue);
	free(w->rbuf);
	if (w->epfd >= 0)
		close(w->epfd);
}

/* Worker i's share of the slots: a contiguous range of global ids. */
static int worker_init(struct run *r, struct worker *w, unsigned i)
{
	const struct bench_opts *o = r->o;
	uint64_t base = o->conns / r->nw, extra = o->conns % r->nw;

	w->run = r;
	w->g0 = i * base + (i < extra ? i : extra);
	w->n = (uint32_t)(base + (i < extra ? 1 : 0));
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->slots = calloc(w->n, sizeof(*w->slots));
	w->queue = calloc(2 * (size_t)w->n, sizeof(*w->queue));
	w->rbuf = malloc(RBUF_SIZE);
	if (w->epfd < 0 || !w->slots || !w->queue || !w->rbuf)
		return -1;
	w->active = w->n;
	for (uint32_t k = 0; k < w->n; k++) {
		struct slot *c = &w->slots[k];
		c->fd = -1;
		c->idx = k;
		c->gid = w->g0 + k;
		c->actions_left = o->actions;
		c->ring = calloc(r->depth, sizeof(*c->ring));
		if (!c->ring)
			return -1;
	}
	return 0;
}

static void progress(const struct run *r, uint64_t *last, double t)
{
	uint64_t req = 0, err = 0;

	for (unsigned i = 0; i < r->nw; i++) {
		req += __atomic_load_n(&r->w[i].pub_requests, __ATOMIC_RELAXED);
		err += __atomic_load_n(&r->w[i].pub_errors, __ATOMIC_RELAXED);
	}
	fprintf(stderr, "\r\033[K%s: %.0f s, %" PRIu64 " requests (%" PRIu64
		"/s), %" PRIu64 " errors", PROG, t, req, req - *last, err);
	*last = req;
}

/* Joins every thread, drawing the progress line once a second. */
static void wait_workers(struct run *r)
{
	struct timespec tick;
	uint64_t last = 0;
	double t = 0;

	clock_gettime(CLOCK_REALTIME, &tick);
	for (unsigned i = 0; i < r->nw; i++) {
		for (;;) {
			tick.tv_sec += 1;
			int rc = pthread_timedjoin_np(r->w[i].th, NULL, &tick);
			if (rc != ETIMEDOUT)
				break;
			t += 1;
			if (r->o->progress)
				progress(r, &last, t);
		}
		/* The tick moved past the join: take it back. */
		tick.tv_sec -= 1;
		r->w[i].joined = true;
	}
	if (r->o->progress && t > 0)
		fputs("\r\033[K", stderr);
}

static void run_free(struct run *r)
{
	if (!r->w)
		return;
	for (unsigned i = 0; i < r->nw; i++)
		worker_free(&r->w[i]);
	free(r->w);
	r->w = NULL;
}

int engine_run(const struct bench_opts *o, const struct reqspec *spec,
	       struct bench_result *res, char *err, size_t errlen)
{
	struct run r = {
		.o = o,
		.spec = spec,
		.mode = o->mode,
		.depth = o->pipeline,
		.timeout_ns = (uint64_t)(o->timeout_s * 1e9),
		.use_budget = (o->mode == MODE_CLOSED || o->mode == MODE_CPR) &&
			      o->requests > 0,
		.budget = o->requests,
		.ns_per_req = o->rate > 0 ? 1e9 / o->rate : 0,
		.nw = (unsigned)o->threads,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.cond = PTHREAD_COND_INITIALIZER,
	};
	unsigned started = 0;
	int rc = -1;

	r.scan_ns = min_u64(SCAN_NS_MAX, r.timeout_ns / 10);
	if (r.scan_ns < 1000000)
		r.scan_ns = 1000000;
	*res = (struct bench_result){ 0 };
	r.w = calloc(r.nw, sizeof(*r.w));
	if (!r.w) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < r.nw; i++)
		r.w[i].epfd = -1;
	for (unsigned i = 0; i < r.nw; i++)
		if (worker_init(&r, &r.w[i], i) < 0) {
			snprintf(err, errlen, "cannot set up thread %u: out of "
				 "memory or descriptors", i);
			goto out;
		}
	for (; started < r.nw; started++) {
		int e = pthread_create(&r.w[started].th, NULL, worker_main,
				       &r.w[started]);
		if (e) {
			snprintf(err, errlen, "cannot start thread %u: %s",
				 started, strerror(e));
			set_go(&r, -1);
			for (unsigned i = 0; i < started; i++)
				pthread_join(r.w[i].th, NULL);
			goto out;
		}
	}
	r.t_start = now_ns();
	r.t_send_end = o->duration_s > 0 ?
			       r.t_start + (uint64_t)(o->duration_s * 1e9) :
			       UINT64_MAX;
	r.t_deadline = r.t_start + (uint64_t)(o->limit_s * 1e9);
	set_go(&r, 1);
	wait_workers(&r);
	for (unsigned i = 0; i < r.nw; i++)
		result_merge(res, &r.w[i].res);
	/* -n: what was never claimed did not happen in time either. */
	if (res->limit_hit && r.use_budget)
		res->c.errors[ERR_TIMEOUT] += r.budget;
	rc = 0;
out:
	run_free(&r);
	return rc;
}
