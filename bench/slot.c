/* One slot's connection: connecting, writing requests, reading replies,
 * moving on (the next round, the next connection, the end) as its mode
 * says, and failing with the accounting engine.c describes.  Everything
 * protocol-specific goes through bench_protos[]. */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "engine.h"

static const struct bench_proto_ops *ops(const struct worker *w)
{
	return bench_protos[w->run->spec->proto];
}

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

static uint64_t intended(const struct worker *w, const struct slot *c,
			 uint64_t k)
{
	double j = (double)k * (double)w->run->o->conns + (double)c->gid;

	return w->t_sched0 + (uint64_t)(j * w->run->ns_per_req);
}

void slot_enqueue(struct worker *w, struct slot *c)
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

int slot_out_reserve(struct slot *c, size_t n)
{
	return reserve(&c->out, &c->out_cap, c->out_len, n, SIZE_MAX);
}

/* Closes the connection (if any) and forgets its buffered bytes; the
 * requests in flight stay in the ring (ring_drop() forgets them). */
void slot_close(struct slot *c)
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

void slot_done(struct worker *w, struct slot *c)
{
	ring_drop(c);
	slot_close(c);
	c->state = CS_DONE;
	w->active--;
}

/*
 * The connection failed: what it had in flight and what it had claimed
 * count under kind (nothing if it had nothing: an idle connection the server
 * closed is no error); an open loop's due requests too if it never
 * connected.  The slot goes on the restart queue.
 */
void slot_fail(struct worker *w, struct slot *c, enum err_kind kind)
{
	uint64_t n = c->count + c->claimed;

	if (w->run->mode == MODE_OPEN && kind == ERR_CONNECT) {
		n += backlog(c);
		c->sent_k = c->sched_k;
	}
	w->res.c.errors[kind] += n;
	c->claimed = 0;
	ring_drop(c);
	slot_close(c);
	c->state = CS_IDLE;
	slot_enqueue(w, c);
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
	slot_close(c);
	c->state = CS_IDLE;
	slot_enqueue(w, c);
}

/* ---- writing ------------------------------------------------------------- */

/* Sends what is pending.  Returns 0, or -1 if the connection failed. */
int slot_flush(struct worker *w, struct slot *c)
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
		slot_fail(w, c, ERR_RESET);
		return -1;
	}
	c->out_off = c->out_len = 0;
	if (c->want_out && set_events(w, c, false) < 0) {
		slot_fail(w, c, ERR_RESET);
		return -1;
	}
	return 0;
}

/* Appends the bytes of request key to the output. */
static int out_append(struct worker *w, struct slot *c, uint64_t key)
{
	const struct reqspec *s = w->run->spec;
	size_t len = ops(w)->req_len(s);

	if (c->out_off) {
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if (reserve(&c->out, &c->out_cap, c->out_len, len, SIZE_MAX) < 0)
		return -1;
	ops(w)->req_fill(s, key, c->out + c->out_len);
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
			slot_fail(w, c, ERR_RESET);
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
			slot_fail(w, c, ERR_RESET);
			return -1;
		}
		c->claimed--;
	}
	return slot_flush(w, c);
}

/* Open loop: whatever is due, while fewer than depth are in flight; each
 * request's latency from its intended time. */
int slot_open_send(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	uint64_t k = min_u64(r->depth - c->count, backlog(c));

	if (k == 0 || c->hs_pending)
		return 0;
	for (uint64_t i = 0; i < k; i++) {
		if (push_request(w, c, intended(w, c, c->sent_k)) < 0) {
			slot_fail(w, c, ERR_RESET);
			return -1;
		}
		c->sent_k++;
	}
	return slot_flush(w, c);
}

/* ---- connecting ---------------------------------------------------------- */

/* seed001 with --messages 0: the connection is made (and the handshake
 * done, zmtp); close it, timing close(2) as the seed's send/recv column
 * did, and let the loop start the next (never recursively). */
static void connect_only_done(struct worker *w, struct slot *c)
{
	uint64_t t0 = now_ns();

	c->claimed = 0;
	slot_close(c);
	w->now = now_ns();
	w->res.c.exchange_ns += w->now - t0;
	w->res.c.exchange_blocks++;
	c->state = CS_IDLE;
	slot_enqueue(w, c);
}

/* The connection is ready for requests: what the mode sends first. */
void slot_ready(struct worker *w, struct slot *c)
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
		if (r->o->connect_only) {
			connect_only_done(w, c);
			return;
		}
		c->t_exch0 = w->now;
		rc = send_round(w, c, 1);
		break;
	case MODE_OPEN:
		rc = slot_open_send(w, c);
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
		rc = slot_flush(w, c);	/* resent requests or a greeting */
	if (rc == 0 && c->want_out && c->out_len == 0 &&
	    set_events(w, c, false) < 0)
		slot_fail(w, c, ERR_RESET);
}

static void on_connected(struct worker *w, struct slot *c)
{
	c->state = CS_OPEN;
	w->res.c.connects++;
	lat_record(&w->res.connect, w->now - c->t_connect0);
	if (ops(w)->open && ops(w)->open(w, c) < 0)
		return;
	if (!c->hs_pending) {
		slot_ready(w, c);
		return;
	}
	/* A handshake first (zmtp): the greeting goes now, the requests once
	 * consume() has the server's (slot_ready()). */
	slot_flush(w, c);
}

void slot_connect(struct worker *w, struct slot *c)
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
	slot_fail(w, c, ERR_CONNECT);
}

void slot_connect_done(struct worker *w, struct slot *c, uint32_t ev)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err || !(ev & EPOLLOUT)) {
		slot_fail(w, c, ERR_CONNECT);
		return;
	}
	on_connected(w, c);
}

/* Starts (or restarts) a slot: claims its next requests and connects, or
 * finishes it. */
void slot_start(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	uint64_t k;

	/* After a Connection: close: go on with what is in flight and
	 * claimed. */
	if (c->count || c->claimed) {
		slot_connect(w, c);
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
		/* --messages 0: the connection itself is what is claimed
		 * (a failed one counts once). */
		c->claimed = r->o->connect_only ? 1 : r->o->messages;
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
	slot_connect(w, c);
}

/* ---- replies ------------------------------------------------------------- */

/* The reply to the oldest request in flight is complete. */
void slot_complete(struct worker *w, struct slot *c, unsigned outcome)
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
int64_t slot_stray(struct worker *w, struct slot *c)
{
	w->res.c.errors[ERR_MISMATCH]++;
	slot_fail(w, c, ERR_MISMATCH);
	return -1;
}

/* After replies: the next round, the next connection, or the end.  Returns
 * 0 when the connection stays open, -1 when it is gone. */
static int advance(struct worker *w, struct slot *c)
{
	struct run *r = w->run;
	uint64_t k;

	if (c->hs_pending)
		return 0;	/* slot_ready() sends the first requests */
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
		if (slot_open_send(w, c) < 0)
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
		slot_close(c);
		c->state = CS_IDLE;
		slot_start(w, c);
		return -1;
	case MODE_CPR:
		if (c->count)
			return 0;
		slot_close(c);
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
void slot_readable(struct worker *w, struct slot *c)
{
	for (;;) {
		char *buf = w->rbuf;
		size_t have = 0, room = RBUF_SIZE;

		if (c->in_len) {
			if (reserve(&c->in, &c->in_cap, c->in_len, IN_MIN,
				    IN_MAX) < 0) {
				slot_fail(w, c, ERR_MISMATCH);
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
			slot_fail(w, c, c->hs_pending ? ERR_CONNECT :
					n == 0 ? ERR_EOF : ERR_RESET);
			return;
		}
		w->now = now_ns();
		w->res.c.bytes_received += (uint64_t)n;
		size_t total = have + (size_t)n;
		int64_t used = ops(w)->consume(w, c, buf, total);
		if (used < 0)
			return;
		size_t left = total - (size_t)used;
		if (buf == c->in) {
			memmove(c->in, c->in + used, left);
			c->in_len = left;
		} else if (left) {
			if (reserve(&c->in, &c->in_cap, 0, left, IN_MAX) < 0) {
				slot_fail(w, c, ERR_MISMATCH);
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
