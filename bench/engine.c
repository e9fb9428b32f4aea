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
 *   seed001  connects A times one after another, M exchanges each.
 *
 * With --proto zmtp a connection first sends its greeting and READY and
 * sends no request before the server's have come (consume_zmtp(), then
 * on_ready()); a handshake that fails or takes --timeout is a connect
 * error.
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

#include "evbench.h"

#define RBUF_SIZE (256 * 1024)		/* the worker's shared read buffer */
#define IN_MIN (16 * 1024)		/* free room when reading into c->in */
#define IN_MAX (1024ull * 1024 * 1024)	/* a partial reply held, at most */
#define EVENTS_MAX 512
#define SCAN_NS_MAX 100000000ull	/* timeout scan period, at most */
#define NS 1000000000ull

enum cstate { CS_IDLE, CS_CONNECTING, CS_OPEN, CS_DONE };
enum rx_phase { RX_HEAD, RX_BODY };
#define OUTCOME_OK ERR_MAX		/* complete(): a verified reply */

/* A request in flight: when its latency starts, when it was written, and
 * its echo key. */
struct req {
	uint64_t t0;
	uint64_t t_sent;
	uint64_t key;
};

struct slot {
	int fd;
	uint32_t gen;		/* in epoll data: stale events are skipped */
	uint8_t state;
	uint8_t rx_phase;
	bool want_out;		/* EPOLLOUT registered */
	bool queued;		/* on the worker's restart queue */
	bool rx_bad;		/* echo: the reply so far differs */
	bool rx_status;		/* http: the reply has a non-2xx status */
	bool rx_close;		/* http: Connection: close seen */
	bool hs_pending;	/* zmtp: the server's greeting and READY not yet */
	uint32_t idx;		/* in the worker */
	uint64_t gid;		/* in the run, 0 .. conns - 1 */
	uint64_t rx_pos;	/* echo: bytes of the head reply seen; http:
				 * body bytes left */
	struct req *ring;	/* --pipeline entries */
	uint32_t head, count;
	uint64_t claimed;	/* requests reserved, not sent yet */
	uint64_t seq;		/* requests sent (echo keys) */
	char *out;
	size_t out_off, out_len, out_cap;
	char *in;		/* a partial reply carried between reads */
	size_t in_len, in_cap;
	uint64_t t_connect0, t_exch0;
	uint64_t actions_left;	/* seed001 */
	uint64_t sched_k, sent_k;	/* open loop: due so far, sent so far */
};

struct run;

struct worker {
	struct run *run;
	pthread_t th;
	bool joined;
	int epfd;
	struct slot *slots;
	uint32_t n;
	uint64_t g0;
	uint32_t *queue;	/* 2n entries: see run_queue() */
	uint32_t nqueue;
	uint32_t active;	/* slots not DONE */
	char *rbuf;
	uint64_t now;
	uint64_t next_scan;
	/* open loop: the schedule's origin (0 until the first connections are
	 * done), the next (k, slot) to become due */
	uint64_t t_sched0;
	uint64_t cur_k;
	uint32_t cur_i;
	bool sched_done;
	uint64_t next_due;
	struct bench_result res;
	uint64_t pub_requests, pub_errors;	/* for the progress line */
};

struct run {
	const struct bench_opts *o;
	const struct reqspec *spec;
	enum bench_mode mode;
	uint64_t depth;
	uint64_t t_start;
	uint64_t t_send_end;	/* -d: no request claimed after this */
	uint64_t t_deadline;	/* -T */
	uint64_t timeout_ns;
	uint64_t scan_ns;
	bool use_budget;
	uint64_t budget;	/* -n: requests not claimed yet (atomic) */
	double ns_per_req;	/* open loop: 1e9 / rate */
	struct worker *w;
	unsigned nw;
	/* The threads start together once all exist: go 1, or -1 to quit. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int go;
};

static volatile sig_atomic_t stop_requested;

void engine_stop(void)
{
	stop_requested = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* ---- small helpers ------------------------------------------------------- */

/* Up to k requests from the run: from the -n budget, or k while -d lasts. */
static uint64_t claim(struct worker *w, uint64_t k)
{
	struct run *r = w->run;

	if (!r->use_budget)
		return w->now < r->t_send_end ? k : 0;
	uint64_t have = __atomic_load_n(&r->budget, __ATOMIC_RELAXED);
	while (have) {
		uint64_t take = min_u64(have, k);
		if (__atomic_compare_exchange_n(&r->budget, &have, have - take,
						true, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return take;
	}
	return 0;
}

static uint64_t backlog(const struct slot *c)
{
	return c->sched_k - c->sent_k;
}

static uint64_t intended(const struct worker *w, const struct slot *c,
			 uint64_t k)
{
	double j = (double)k * (double)w->run->o->conns + (double)c->gid;

	return w->t_sched0 + (uint64_t)(j * w->run->ns_per_req);
}

static void enqueue(struct worker *w, struct slot *c)
{
	if (c->queued)
		return;
	c->queued = true;
	w->queue[w->nqueue++] = c->idx;
}

static int set_events(struct worker *w, struct slot *c, bool out)
{
	struct epoll_event ev = {
		.events = EPOLLIN | (out ? EPOLLOUT : 0),
		.data.u64 = (uint64_t)c->idx << 32 | c->gen,
	};

	c->want_out = out;
	return epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Room for n more bytes at the end of a buffer. */
static int reserve(char **buf, size_t *cap, size_t len, size_t n, size_t max)
{
	if (*cap - len >= n)
		return 0;
	size_t want = *cap ? *cap : 4096;
	while (want - len < n)
		want *= 2;
	if (want > max)
		return -1;
	char *p = realloc(*buf, want);
	if (!p)
		return -1;
	*buf = p;
	*cap = want;
	return 0;
}

/* Closes the connection (if any) and forgets its buffered bytes; the
 * requests in flight stay in the ring (ring_drop() forgets them). */
static void conn_close(struct slot *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->gen++;
	c->want_out = false;
	c->out_off = c->out_len = 0;
	c->in_len = 0;
	c->rx_phase = RX_HEAD;
	c->rx_pos = 0;
	c->rx_bad = c->rx_status = c->rx_close = false;
	c->hs_pending = false;
}

/* Forgets the requests in flight (the caller has counted them). */
static void ring_drop(struct slot *c)
{
	c->head = c->count = 0;
}

static void slot_done(struct worker *w, struct slot *c)
{
	ring_drop(c);
	conn_close(c);
	c->state = CS_DONE;
	w->active--;
}

/*
 * The connection failed: what it had in flight and what it had claimed
 * count under kind (nothing if it had nothing: an idle connection the server
 * closed is no error); an open loop's due requests too if it never
 * connected.  The slot goes on the restart queue.
 */
static void conn_fail(struct worker *w, struct slot *c, enum err_kind kind)
{
	uint64_t n = c->count + c->claimed;

	if (w->run->mode == MODE_OPEN && kind == ERR_CONNECT) {
		n += backlog(c);
		c->sent_k = c->sched_k;
	}
	w->res.c.errors[kind] += n;
	c->claimed = 0;
	ring_drop(c);
	conn_close(c);
	c->state = CS_IDLE;
	enqueue(w, c);
}

/*
 * HTTP: the reply just completed said Connection: close, and the server
 * closes after it.  What it did not answer stays in flight and goes again on
 * the slot's next connection (resend()); what the slot had claimed stays
 * claimed.  No error: a server that drains (reload, stop) ends its
 * connections this way.  A server that closes without answering anything
 * fails as usual (eof), so this cannot loop.
 */
static void conn_reopen(struct worker *w, struct slot *c)
{
	w->res.c.retried += c->count;
	if (w->run->mode == MODE_SEED001)
		w->res.c.exchange_ns += w->now - c->t_exch0;
	conn_close(c);
	c->state = CS_IDLE;
	enqueue(w, c);
}

/* ---- writing ------------------------------------------------------------- */

/* Sends what is pending.  Returns 0, or -1 if the connection failed. */
static int flush(struct worker *w, struct slot *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off,
				 c->out_len - c->out_off, MSG_NOSIGNAL);
		if (n > 0) {
			c->out_off += (size_t)n;
			w->res.c.bytes_sent += (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!c->want_out && set_events(w, c, true) < 0)
				break;
			return 0;
		}
		break;
	}
	if (c->out_off < c->out_len) {
		conn_fail(w, c, ERR_RESET);
		return -1;
	}
	c->out_off = c->out_len = 0;
	if (c->want_out && set_events(w, c, false) < 0) {
		conn_fail(w, c, ERR_RESET);
		return -1;
	}
	return 0;
}

/* Appends the bytes of request key to the output. */
static int out_append(struct worker *w, struct slot *c, uint64_t key)
{
	const struct reqspec *s = w->run->spec;
	size_t len = s->proto == BP_ECHO ? s->size :
		     s->proto == BP_ZMTP ? zmtp_request_len(s) : s->req_len;

	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (reserve(&c->out, &c->out_cap, c->out_len, len, SIZE_MAX) < 0)
		return -1;
	if (s->proto == BP_ECHO)
		echo_fill(s, key, c->out + c->out_len);
	else if (s->proto == BP_ZMTP)
		zmtp_request_fill(s, key, c->out + c->out_len);
	else
		memcpy(c->out + c->out_len, s->req, len);
	c->out_len += len;
	return 0;
}

/* Appends one request to the output and to the ring. */
static int push_request(struct worker *w, struct slot *c, uint64_t t0)
{
	uint64_t key = c->seq++ + c->gid * 7;

	if (out_append(w, c, key) < 0)
		return -1;
	uint32_t tail = (c->head + c->count) % (uint32_t)w->run->depth;
	c->ring[tail] = (struct req){ .t0 = t0, .t_sent = w->now, .key = key };
	c->count++;
	return 0;
}

/* A new connection: the requests still in flight from the last one (after a
 * Connection: close) go first, in order, each with its old key and latency
 * origin.  Returns 0, or -1 if the connection failed. */
static int resend(struct worker *w, struct slot *c)
{
	uint32_t depth = (uint32_t)w->run->depth;

	for (uint32_t i = 0; i < c->count; i++) {
		struct req *q = &c->ring[(c->head + i) % depth];
		if (out_append(w, c, q->key) < 0) {
			conn_fail(w, c, ERR_RESET);
			return -1;
		}
		q->t_sent = w->now;
	}
	return 0;
}

/* Closed loop, conn-per-request, seed001: k claimed requests in one write,
 * their latency from now. */
static int send_round(struct worker *w, struct slot *c, uint64_t k)
{
	for (uint64_t i = 0; i < k; i++) {
		if (push_request(w, c, w->now) < 0) {
			conn_fail(w, c, ERR_RESET);
			return -1;
		}
		c->claimed--;
	}
	return flush(w, c);
}

/* Open loop: whatever is due, while fewer than depth are in flight; each
 * request's latency from its intended time. */
static int open_send(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	uint64_t k = min_u64(r->depth - c->count, backlog(c));

	if (k == 0 || c->hs_pending)
		return 0;
	for (uint64_t i = 0; i < k; i++) {
		if (push_request(w, c, intended(w, c, c->sent_k)) < 0) {
			conn_fail(w, c, ERR_RESET);
			return -1;
		}
		c->sent_k++;
	}
	return flush(w, c);
}

/* ---- connecting ---------------------------------------------------------- */

/* The connection is ready for requests: what the mode sends first. */
static void on_ready(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	int rc = 0;

	if (resend(w, c) < 0)
		return;
	switch (r->mode) {
	case MODE_CLOSED:
	case MODE_CPR:
		rc = send_round(w, c, c->claimed);
		break;
	case MODE_SEED001:
		c->t_exch0 = w->now;
		rc = send_round(w, c, 1);
		break;
	case MODE_OPEN:
		rc = open_send(w, c);
		if (rc == 0 && w->sched_done && c->count == 0 &&
		    backlog(c) == 0) {
			slot_done(w, c);
			return;
		}
		break;
	case MODE_MAX:
		break;
	}
	if (rc == 0 && r->mode == MODE_OPEN && c->out_len > c->out_off)
		rc = flush(w, c);	/* resent requests, nothing due */
	if (rc == 0 && c->want_out && c->out_len == 0 &&
	    set_events(w, c, false) < 0)
		conn_fail(w, c, ERR_RESET);
}

static void on_connected(struct worker *w, struct slot *c)
{
	const struct reqspec *s = w->run->spec;

	c->state = CS_OPEN;
	w->res.c.connects++;
	lat_record(&w->res.connect, w->now - c->t_connect0);
	if (s->proto != BP_ZMTP) {
		on_ready(w, c);
		return;
	}
	/* ZMTP: the greeting and READY first; on_ready() once the server's
	 * have come. */
	if (reserve(&c->out, &c->out_cap, c->out_len, ZMTP_HELLO_MAX,
		    SIZE_MAX) < 0) {
		conn_fail(w, c, ERR_CONNECT);
		return;
	}
	c->out_len += zmtp_hello(s->delim, c->out + c->out_len);
	c->hs_pending = true;
	flush(w, c);
}

static void conn_connect(struct worker *w, struct slot *c)
{
	const struct bench_opts *o = w->run->o;
	static const int one = 1;
	struct epoll_event ev;

	c->t_connect0 = w->now = now_ns();
	c->fd = socket(o->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		goto fail;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int rc = connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen);
	if (rc < 0 && errno != EINPROGRESS)
		goto fail;
	c->state = rc == 0 ? CS_OPEN : CS_CONNECTING;
	c->want_out = rc != 0;
	ev = (struct epoll_event){
		.events = EPOLLIN | (rc != 0 ? EPOLLOUT : 0),
		.data.u64 = (uint64_t)c->idx << 32 | c->gen,
	};
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		goto fail;
	if (rc == 0) {
		w->now = now_ns();
		on_connected(w, c);
	}
	return;
fail:
	conn_fail(w, c, ERR_CONNECT);
}

static void on_connect_event(struct worker *w, struct slot *c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err || !(ev & EPOLLOUT)) {
		conn_fail(w, c, ERR_CONNECT);
		return;
	}
	on_connected(w, c);
}

/* Starts (or restarts) a slot: claims its next requests and connects, or
 * finishes it. */
static void slot_start(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	uint64_t k;

	/* After a Connection: close: go on with what is in flight and
	 * claimed. */
	if (c->count || c->claimed) {
		conn_connect(w, c);
		return;
	}
	switch (r->mode) {
	case MODE_CLOSED:
	case MODE_CPR:
		k = claim(w, r->mode == MODE_CPR ? 1 : r->depth);
		if (k == 0) {
			slot_done(w, c);
			return;
		}
		c->claimed = k;
		break;
	case MODE_SEED001:
		if (c->actions_left == 0) {
			slot_done(w, c);
			return;
		}
		c->actions_left--;
		c->claimed = r->o->messages;
		break;
	case MODE_OPEN:
		if (backlog(c) == 0) {
			if (w->sched_done)
				slot_done(w, c);
			return;	/* the scheduler queues it when one is due */
		}
		break;
	case MODE_MAX:
		return;
	}
	conn_connect(w, c);
}

/* ---- replies ------------------------------------------------------------- */

/* The reply to the oldest request in flight is complete. */
static void complete(struct worker *w, struct slot *c, unsigned outcome)
{
	const struct req *q = &c->ring[c->head];

	lat_record(&w->res.lat, w->now > q->t0 ? w->now - q->t0 : 0);
	if (outcome == OUTCOME_OK)
		w->res.c.requests++;
	else
		w->res.c.errors[outcome]++;
	c->head = (c->head + 1) % (uint32_t)w->run->depth;
	c->count--;
}

/* Bytes with no request in flight: one mismatch, and the connection goes. */
static int64_t stray(struct worker *w, struct slot *c)
{
	w->res.c.errors[ERR_MISMATCH]++;
	conn_fail(w, c, ERR_MISMATCH);
	return -1;
}

/* Each consume_*() takes the bytes at p, completes the replies they end,
 * and returns how many it used (the rest is a partial reply to keep), or -1
 * when the connection failed. */

static int64_t consume_echo(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	const struct reqspec *s = w->run->spec;
	size_t off = 0;

	while (off < n) {
		if (c->count == 0)
			return stray(w, c);
		uint64_t pos = c->rx_pos;
		size_t take = (size_t)min_u64(s->size - pos, n - off);
		/* Letters up to size - 1, then the newline. */
		if (pos < s->size - 1) {
			size_t lt = (size_t)min_u64(take, s->size - 1 - pos);
			const char *exp = echo_letters(s, c->ring[c->head].key);
			if (memcmp(p + off, exp + pos, lt) != 0)
				c->rx_bad = true;
		}
		off += take;
		pos += take;
		if (pos == s->size) {
			if (p[off - 1] != '\n')
				c->rx_bad = true;
			complete(w, c, c->rx_bad ? ERR_MISMATCH : OUTCOME_OK);
			c->rx_bad = false;
			pos = 0;
		}
		c->rx_pos = pos;
	}
	return (int64_t)n;
}

static void http_done(struct worker *w, struct slot *c)
{
	complete(w, c, c->rx_status ? ERR_STATUS : OUTCOME_OK);
	c->rx_phase = RX_HEAD;
}

static int64_t consume_http(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	size_t off = 0;

	while (off < n) {
		if (c->rx_phase == RX_BODY) {
			size_t take = (size_t)min_u64(c->rx_pos, n - off);
			c->rx_pos -= take;
			off += take;
			if (c->rx_pos == 0)
				http_done(w, c);
			continue;
		}
		if (c->count == 0)
			return stray(w, c);
		struct http_head h;
		int64_t len = http_head_parse(p + off, n - off, &h);
		if (len == 0)
			break;
		if (len < 0) {
			conn_fail(w, c, ERR_MISMATCH);
			return -1;
		}
		off += (size_t)len;
		c->rx_status = h.status < 200 || h.status > 299;
		c->rx_close |= h.close;
		c->rx_pos = (uint64_t)h.content_length;
		if (c->rx_pos == 0)
			http_done(w, c);
		else
			c->rx_phase = RX_BODY;
	}
	return (int64_t)off;
}

static int64_t consume_resp(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	const struct reqspec *s = w->run->spec;
	size_t off = 0;

	while (off < n) {
		if (c->count == 0)
			return stray(w, c);
		int64_t len = resp_value_len(p + off, n - off);
		if (len == 0)
			break;
		if (len < 0) {
			conn_fail(w, c, ERR_MISMATCH);
			return -1;
		}
		bool ok = p[off] != '-';
		if (s->expect)
			ok = (size_t)len == s->expect_len &&
			     memcmp(p + off, s->expect, s->expect_len) == 0;
		complete(w, c, ok ? OUTCOME_OK : ERR_MISMATCH);
		off += (size_t)len;
	}
	return (int64_t)off;
}

/* ZMTP: the server's greeting and READY, then whole reply messages
 * (commands between them, a PING, are skipped). */
static int64_t consume_zmtp(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	const struct reqspec *s = w->run->spec;
	size_t off = 0;

	if (c->hs_pending) {
		int64_t len = zmtp_handshake_len(p, n);
		if (len == 0)
			return 0;
		if (len < 0) {
			conn_fail(w, c, ERR_CONNECT);
			return -1;
		}
		off = (size_t)len;
		c->hs_pending = false;
		on_ready(w, c);
		if (c->state != CS_OPEN)
			return -1;	/* failed, or done (open loop) */
	}
	while (off < n) {
		bool command;
		int64_t len = zmtp_message_len(p + off, n - off, &command);
		if (len == 0)
			break;
		if (len < 0) {
			conn_fail(w, c, ERR_MISMATCH);
			return -1;
		}
		if (!command) {
			if (c->count == 0)
				return stray(w, c);
			bool ok = zmtp_reply_ok(s, c->ring[c->head].key, p + off,
						(size_t)len);
			complete(w, c, ok ? OUTCOME_OK : ERR_MISMATCH);
		}
		off += (size_t)len;
	}
	return (int64_t)off;
}

static int64_t consume(struct worker *w, struct slot *c, const char *p,
		       size_t n)
{
	switch (w->run->spec->proto) {
	case BP_ECHO:
		return consume_echo(w, c, p, n);
	case BP_HTTP:
		return consume_http(w, c, p, n);
	case BP_ZMTP:
		return consume_zmtp(w, c, p, n);
	default:
		return consume_resp(w, c, p, n);
	}
}

/* After replies: the next round, the next connection, or the end.  Returns
 * 0 when the connection stays open, -1 when it is gone. */
static int advance(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	uint64_t k;

	if (c->hs_pending)
		return 0;	/* zmtp: on_ready() sends the first requests */
	/* The server closes after this reply: go on on a new connection
	 * (unless the slot was about to close it anyway: conn-per-request,
	 * seed001's last exchange). */
	bool closing = (r->mode == MODE_CPR || r->mode == MODE_SEED001) &&
		       c->count == 0 && c->claimed == 0;
	if (c->rx_close && c->rx_phase == RX_HEAD && !closing) {
		conn_reopen(w, c);
		return -1;
	}
	switch (r->mode) {
	case MODE_CLOSED:
		if (c->count)
			return 0;
		k = claim(w, r->depth);
		if (k == 0) {
			slot_done(w, c);
			return -1;
		}
		c->claimed = k;
		return send_round(w, c, k);
	case MODE_OPEN:
		if (open_send(w, c) < 0)
			return -1;
		if (w->sched_done && c->count == 0 && backlog(c) == 0) {
			slot_done(w, c);
			return -1;
		}
		return 0;
	case MODE_SEED001:
		if (c->count)
			return 0;
		if (c->claimed)
			return send_round(w, c, 1);
		w->res.c.exchange_ns += w->now - c->t_exch0;
		w->res.c.exchange_blocks++;
		conn_close(c);
		c->state = CS_IDLE;
		slot_start(w, c);
		return -1;
	case MODE_CPR:
		if (c->count)
			return 0;
		conn_close(c);
		c->state = CS_IDLE;
		slot_start(w, c);
		return -1;
	case MODE_MAX:
		break;
	}
	return 0;
}

/* Reads until the socket is drained (a short read says so), completing
 * replies and moving on as they come. */
static void conn_readable(struct worker *w, struct slot *c)
{
	for (;;) {
		char *buf = w->rbuf;
		size_t have = 0, room = RBUF_SIZE;

		if (c->in_len) {
			if (reserve(&c->in, &c->in_cap, c->in_len, IN_MIN,
				    IN_MAX) < 0) {
				conn_fail(w, c, ERR_MISMATCH);
				return;
			}
			buf = c->in;
			have = c->in_len;
			room = c->in_cap - c->in_len;
		}
		ssize_t n = recv(c->fd, buf + have, room, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			conn_fail(w, c, c->hs_pending ? ERR_CONNECT :
					n == 0 ? ERR_EOF : ERR_RESET);
			return;
		}
		w->now = now_ns();
		w->res.c.bytes_received += (uint64_t)n;
		size_t total = have + (size_t)n;
		int64_t used = consume(w, c, buf, total);
		if (used < 0)
			return;
		size_t left = total - (size_t)used;
		if (buf == c->in) {
			memmove(c->in, c->in + used, left);
			c->in_len = left;
		} else if (left) {
			if (reserve(&c->in, &c->in_cap, 0, left, IN_MAX) < 0) {
				conn_fail(w, c, ERR_MISMATCH);
				return;
			}
			memcpy(c->in, buf + used, left);
			c->in_len = left;
		}
		if (advance(w, c) < 0)
			return;
		if ((size_t)n < room)
			return;
	}
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
			open_send(w, c);
		else if (c->state == CS_IDLE)
			enqueue(w, c);
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
			conn_fail(w, c, ERR_CONNECT);
		else if (c->state == CS_OPEN && c->count &&
			 w->now - c->ring[c->head].t_sent >= limit)
			conn_fail(w, c, ERR_TIMEOUT);
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
			n += c->actions_left * r->o->messages;
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
		on_connect_event(w, c, ev->events);
		return;
	}
	if (c->state != CS_OPEN)
		return;
	if ((ev->events & EPOLLOUT) && c->want_out && flush(w, c) < 0)
		return;
	if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_readable(w, c);
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
			conn_connect(w, &w->slots[i]);
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
			conn_close(&w->slots[i]);
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
