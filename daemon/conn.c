#include "conn.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proto/proto.h"
#include "server.h"
#include "stats.h"
#include "util.h"

#define MS 1000000ull
/* SO_RCVTIMEO is re-armed only when the deadline moved by more than this
 * (a timeout fires at most this late; streaming reads stay cheap). */
#define RCVTIMEO_SLACK_MS 10

/* Gives c a block of buffers if it has none.  False (counted in
 * errors_nomem, the connection failed) when memory ran out. */
static bool io_attach(struct conn *c)
{
	if (c->io)
		return true;
	struct conn_io *io = conn_io_get();
	if (!io) {
		slot_add(c->slot, STAT_err_nomem, 1);
		c->failed = true;
		return false;
	}
	c->io = io;
	c->in.data = io->in;
	c->out.data = io->out;
	return true;
}

static void io_detach(struct conn *c)
{
	conn_io_put(c->io);
	c->io = NULL;
	c->in = (struct buf){ .cap = CONN_IN_SIZE };
	c->out = (struct buf){ .cap = CONN_OUT_SIZE };
}

/* A connection with nothing in flight gives its buffers back (unless they
 * are pinned): no input waiting, no output, no send under way, no held
 * response. */
static void io_settle(struct conn *c)
{
	if (c->io && !c->io_pinned && !buf_used(&c->in) &&
	    !buf_used(&c->out) && !c->tx_busy && !c->held && !c->nruns)
		io_detach(c);
}

bool conn_pin_buffers(struct conn *c)
{
	c->io_pinned = true;
	return io_attach(c);
}

/* Fills a new connection's fields (c zeroed but for its buffers). */
static struct conn *conn_init(struct conn *c, int fd, struct server *srv,
			      struct stats_slot *slot, bool blocking)
{
	c->fd = fd;
	c->blocking = blocking;
	c->in.cap = CONN_IN_SIZE;
	c->out.cap = CONN_OUT_SIZE;
	c->slot = slot;
	c->proto = srv->proto;
	c->last_active = now_ns();
	c->request_ms = srv->cfg->request_timeout_ms;
	timer_init(&c->timer, NULL, c);
	srv->proto->init(c->state, srv->cfg);
	slot_add(slot, STAT_accepted, 1);
	return c;
}

/* The bytes of a struct conn and its protocol state, rounded up so that
 * what follows is aligned. */
static size_t conn_head(const struct server *srv)
{
	size_t head = sizeof(struct conn) + srv->proto->state_size;

	return (head + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
}

/* c's buffers are the block at io, for its life (not from the pool). */
static void io_inline(struct conn *c, struct conn_io *io)
{
	c->io = io;
	c->io_pinned = true;
	c->io_inline = true;
	c->in.data = io->in;
	c->out.data = io->out;
}

struct conn *conn_new(int fd, struct server *srv, struct stats_slot *slot,
		      bool blocking)
{
	/* A blocking connection keeps its buffers for its life: one
	 * allocation, as the thread that serves it may be gone after. */
	size_t head = conn_head(srv);
	struct conn *c = malloc(head + (blocking ? sizeof(struct conn_io) : 0));

	if (!c) {
		slot_add(slot, STAT_err_nomem, 1);
		server_refuse(fd, slot);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	if (blocking)
		io_inline(c, (struct conn_io *)((char *)c + head));
	return conn_init(c, fd, srv, slot, blocking);
}

struct conn *conn_new_at(int fd, struct server *srv, struct stats_slot *slot,
			 void *mem, size_t len)
{
	size_t head = conn_head(srv);

	if (len < head + sizeof(struct conn_io) ||
	    (uintptr_t)mem % alignof(max_align_t)) {
		slot_add(slot, STAT_err_nomem, 1);
		server_refuse(fd, slot);
		return NULL;
	}
	/* conn, its state, the runs and the input's start share a page; the
	 * output starts on another: two pages for a short exchange. */
	struct conn *c = mem;
	memset(c, 0, sizeof(*c));
	c->placed = true;
	io_inline(c, (struct conn_io *)((char *)mem + head));
	return conn_init(c, fd, srv, slot, true);
}

/* Before closing a connection the protocol ended (an error response, QUIT,
 * Connection: close): a close with unread input makes the kernel send a
 * reset, which can destroy the response before the client reads it.  Send
 * our end of stream first and discard what already arrived. */
static void close_gently(struct conn *c)
{
	char sink[4096];

	shutdown(c->fd, SHUT_WR);
	for (int i = 0; i < 16; i++)
		if (recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT) <= 0)
			break;
}

void conn_close(struct conn *c)
{
	if (!c)
		return;
	if (c->closing && !c->failed)
		close_gently(c);
	/* In the caller's memory, the process ends with it: its exit closes
	 * the socket, one system call fewer. */
	if (!c->placed)
		close(c->fd);
	slot_add(c->slot, STAT_closed, 1);
	if (c->io && !c->io_inline)
		conn_io_put(c->io);
	if (!c->placed)
		free(c);
}

void conn_close_idle(struct conn *c)
{
	slot_add(c->slot, STAT_err_timeout, 1);
	conn_close(c);
}

/* ---- latency bookkeeping ------------------------------------------------ */

/* n requests whose responses end at out offset end began at start; apart
 * (a held response) keeps them out of the previous run. */
static void runs_push(struct conn *c, uint64_t n, uint64_t start, uint64_t end,
		      bool apart)
{
	if (c->nruns) {
		struct req_run *last =
			&c->io->runs[(c->run_head + c->nruns - 1) % CONN_RUNS];
		/* Same start, or no room left: fold into the last run; its
		 * requests then complete with it (never early). */
		if ((last->start_ns == start && !apart) ||
		    c->nruns == CONN_RUNS) {
			last->count += n;
			last->end_off = end;
			return;
		}
	}
	struct req_run *r = &c->io->runs[(c->run_head + c->nruns) % CONN_RUNS];
	r->start_ns = start;
	r->end_off = end;
	r->count = n;
	c->nruns++;
}

/* Counts the requests whose responses are now fully sent. */
static void runs_complete(struct conn *c, uint64_t now)
{
	while (c->nruns && c->io->runs[c->run_head].end_off <= c->sent_total) {
		struct req_run *r = &c->io->runs[c->run_head];
		slot_add(c->slot, STAT_requests, r->count);
		slot_latency(c->slot, now - r->start_ns, r->count);
		c->run_head = (c->run_head + 1) % CONN_RUNS;
		c->nruns--;
	}
}

/* ---- protocol ----------------------------------------------------------- */

/* process() counts res.replies[k] in STAT_http_1xx + k: each reply kind
 * must sit at its counter's offset. */
#define REPLY_AT(kind, stat) \
	_Static_assert(STAT_http_1xx + (kind) == (stat), #kind " counts in " #stat)
REPLY_AT(REPLY_HTTP_1XX, STAT_http_1xx);
REPLY_AT(REPLY_HTTP_2XX, STAT_http_2xx);
REPLY_AT(REPLY_HTTP_3XX, STAT_http_3xx);
REPLY_AT(REPLY_HTTP_4XX, STAT_http_4xx);
REPLY_AT(REPLY_HTTP_5XX, STAT_http_5xx);
REPLY_AT(REPLY_RESP_STATUS, STAT_resp_status);
REPLY_AT(REPLY_RESP_ERROR, STAT_resp_error);
REPLY_AT(REPLY_RESP_INTEGER, STAT_resp_integer);
REPLY_AT(REPLY_RESP_BULK, STAT_resp_bulk);
REPLY_AT(REPLY_RESP_ARRAY, STAT_resp_array);
_Static_assert(STAT_http_1xx + PROTO_REPLY_MAX <= STAT_MAX,
	       "every reply kind has a counter");
#undef REPLY_AT

/* Feeds buffered input to the protocol.  Returns true if input was used. */
static bool process(struct conn *c)
{
	bool progress = false;
	bool final = false;	/* end of stream: let the protocol finish */

	while (!c->closing && !c->held && buf_used(&c->in)) {
		struct proto_result res = { 0 };
		size_t before;

		if (c->out.off && !c->tx_busy &&
		    buf_space(&c->out) < buf_used(&c->in))
			buf_compact(&c->out);
		before = buf_used(&c->out);
		uint64_t total_before = c->out_total;
		size_t n = (final ? c->proto->finish : c->proto->feed)(
			c->state, buf_head(&c->in), buf_used(&c->in), &c->out,
			&res);
		buf_consume(&c->in, n);
		c->out_total += buf_used(&c->out) - before;
		for (uint32_t m = res.kinds; m; m &= m - 1) {
			int k = __builtin_ctz(m);
			slot_add(c->slot, (enum stat_id)(STAT_http_1xx + k),
				 res.replies[k]);
		}
		if (res.requests) {
			c->rq_restart = true;
			/* A held response's request is a run of its own: the
			 * responses before it (ending at its offset) may go
			 * now and count when sent, not a delay later. */
			unsigned held = res.delay_ms ? 1 : 0;
			uint64_t start = c->t_pending ? c->t_pending : c->t_read;
			uint64_t end = held ? total_before + res.delay_off :
					      c->out_total;
			if (res.requests > held) {
				runs_push(c, 1, start, end, false);
				if (res.requests - held > 1)
					runs_push(c, res.requests - held - 1,
						  c->t_read, end, false);
				start = c->t_read;
			}
			if (held)
				runs_push(c, 1, start, c->out_total, true);
		}
		if (res.partial || buf_used(&c->in)) {
			if (res.requests || !c->t_pending)
				c->t_pending = c->t_read;
		} else {
			c->t_pending = 0;
		}
		if (res.error)
			slot_add(c->slot, STAT_err_protocol, 1);
		if (res.close) {
			c->closing = true;
			buf_consume(&c->in, buf_used(&c->in));
		}
		if (n == 0 && !res.requests && !res.close) {
			if (!final && c->eof && c->proto->finish) {
				final = true;	/* nothing more will come */
				continue;
			}
			break;
		}
		progress = true;
		if (res.delay_ms) {
			/* Hold the delayed response (and feed nothing more)
			 * until its time; what came before it may go now. */
			c->held = true;
			c->hold_off = total_before + res.delay_off;
			c->hold_until = now_ns() + (uint64_t)res.delay_ms * 1000000u;
			break;
		}
	}
	return progress;
}

/* ---- socket I/O --------------------------------------------------------- */

/*
 * recv(2) and send(2) as the bare system calls (recvfrom, sendto: what
 * glibc's recv and send make too).  glibc's wrappers are cancellation
 * points, which evd never uses, and enabling and disabling asynchronous
 * cancellation around each call costs ~45 instructions per call, a tenth
 * of evd's per-request cost on a keep-alive connection.
 */
static inline ssize_t sock_recv(int fd, void *p, size_t n, int flags)
{
	return syscall(SYS_recvfrom, fd, p, n, flags, NULL, NULL);
}

static inline ssize_t sock_send(int fd, const void *p, size_t n, int flags)
{
	return syscall(SYS_sendto, fd, p, n, flags, NULL, 0);
}

/* Output that may go now: all of it, or what precedes a held response. */
static size_t sendable(const struct conn *c)
{
	if (c->held)
		return (size_t)(c->hold_off - c->sent_total);
	return buf_used(&c->out);
}

/* Counts n > 0 bytes just appended to the input buffer. */
static void rx_account(struct conn *c, size_t n)
{
	uint64_t now = now_ns();

	c->in.len += n;
	slot_add(c->slot, STAT_bytes_in, (uint64_t)n);
	c->t_read = now;
	c->last_active = now;
	if (!c->t_pending)
		c->t_pending = now;
}

/* Counts n > 0 bytes of out that reached the socket. */
static void tx_account(struct conn *c, size_t n)
{
	buf_consume(&c->out, n);
	slot_add(c->slot, STAT_bytes_out, (uint64_t)n);
	c->sent_total += (uint64_t)n;
	runs_complete(c, now_ns());
}

/* Records a failed recv (e != EAGAIN/EINTR). */
static void rx_failed(struct conn *c)
{
	slot_add(c->slot, STAT_err_read, 1);
	c->failed = true;
}

static void tx_failed(struct conn *c)
{
	slot_add(c->slot, STAT_err_write, 1);
	c->failed = true;
}

/* One recv into the input buffer: 1 data, 0 end of stream, or -errno. */
static int do_read(struct conn *c)
{
	if (!io_attach(c))
		return -ENOMEM;
	if (buf_space(&c->in) == 0)
		buf_compact(&c->in);
	ssize_t n = sock_recv(c->fd, buf_tail(&c->in), buf_space(&c->in), 0);
	if (n > 0) {
		rx_account(c, (size_t)n);
		return 1;
	}
	if (n == 0) {
		c->eof = true;
		return 0;
	}
	int e = errno;
	if (e == EAGAIN || e == EINTR)
		return -e;
	rx_failed(c);
	return -e;
}

/*
 * Sends buffered output.  Returns 0 when out is empty, -EAGAIN when the
 * socket is full, -EINTR when interrupted, another -errno on failure.
 */
static int flush(struct conn *c)
{
	while (sendable(c)) {
		size_t want = sendable(c);
		ssize_t n = sock_send(c->fd, buf_head(&c->out), want,
				      MSG_NOSIGNAL);
		if (n > 0) {
			tx_account(c, (size_t)n);
			/* A short non-blocking send means the socket is full:
			 * don't pay a system call to hear EAGAIN. */
			if (!c->blocking && (size_t)n < want)
				return -EAGAIN;
			continue;
		}
		int e = n < 0 ? errno : EIO;
		if (e == EAGAIN || e == EINTR)
			return -e;
		tx_failed(c);
		return -e;
	}
	return 0;
}

/* Processes and sends until neither makes progress.  Input left over
 * because out was full is processed again once a send has made room: the
 * caller may not hear from this connection again otherwise. */
static void pump(struct conn *c)
{
	for (;;) {
		bool progress = process(c);
		uint64_t sent = c->sent_total;
		int r = flush(c);
		if (r < 0 && r != -EAGAIN && r != -EINTR)
			return;
		if (buf_used(&c->out) || !buf_used(&c->in))
			return;
		if (!progress && c->sent_total == sent)
			return;
	}
}

/* Something is owed to the peer: output, a held response, or a request
 * partly received. */
static bool want_owed(const struct conn *c)
{
	return buf_used(&c->out) || c->held || c->t_pending ||
	       buf_used(&c->in);
}

unsigned conn_want(const struct conn *c)
{
	bool can_read = !c->eof && !c->closing &&
			buf_used(&c->in) < c->in.cap;
	unsigned want = 0;

	if (c->failed)
		return 0;
	if (sendable(c))
		want |= CONN_WANT_WRITE;
	if (can_read)
		want |= CONN_WANT_READ;
	if (c->held)
		want |= CONN_WANT_TIMER;
	/* Draining: done once nothing is owed.  A polite protocol (HTTP)
	 * closes itself after its next answer, so its idle connections wait
	 * for one more request (the drain deadline bounds that). */
	if (c->draining && !c->drain_polite && !want_owed(c) &&
	    !(c->drain_first && !c->t_read && can_read))
		return 0;
	/* 0: nothing to send, nothing to wait for, and more input cannot
	 * help (end of stream, asked to close, or input stuck): finished. */
	return want;
}

bool conn_request_waits(const struct conn *c)
{
	return c->request_ms && c->t_pending && !c->held && !c->eof &&
	       !c->closing && !c->failed && buf_used(&c->in) < c->in.cap;
}

static void rq_unlink(struct conn_list *l, struct conn *c)
{
	if (c->rq_prev)
		c->rq_prev->rq_next = c->rq_next;
	else
		l->rq_head = c->rq_next;
	if (c->rq_next)
		c->rq_next->rq_prev = c->rq_prev;
	else
		l->rq_tail = c->rq_prev;
	c->rq_prev = c->rq_next = NULL;
	c->rq_linked = false;
}

/* Inserts c in order of rq_start: at the tail but for a connection that
 * comes back (select-prethread's pool hands it back with its clock). */
static void rq_link(struct conn_list *l, struct conn *c)
{
	struct conn *after = l->rq_tail;

	while (after && after->rq_start > c->rq_start)
		after = after->rq_prev;
	c->rq_prev = after;
	c->rq_next = after ? after->rq_next : l->rq_head;
	if (c->rq_next)
		c->rq_next->rq_prev = c;
	else
		l->rq_tail = c;
	if (after)
		after->rq_next = c;
	else
		l->rq_head = c;
	c->rq_linked = true;
}

/* Starts, restarts or stops c's request clock from its state now, and
 * keeps it on l's request list while it runs (l NULL: blocking models). */
static void rq_sync(struct conn_list *l, struct conn *c, uint64_t now)
{
	bool waits = conn_request_waits(c);

	if (!waits || c->rq_restart) {
		if (c->rq_linked)
			rq_unlink(l, c);
		c->rq_start = 0;
	}
	c->rq_restart = false;
	if (!waits)
		return;
	if (!c->rq_start)
		c->rq_start = now;
	if (l && !c->rq_linked)
		rq_link(l, c);
}

static uint64_t rq_due(const struct conn *c)
{
	return c->rq_start + c->request_ms * MS;
}

/* A connection's idle limit in ms (0: none): draining, a polite one waits
 * at most CONN_DRAIN_IDLE_MS for its last request. */
static uint64_t idle_limit_ms(const struct conn *c, uint64_t idle_ms)
{
	if (c->draining && (!idle_ms || idle_ms > CONN_DRAIN_IDLE_MS))
		return CONN_DRAIN_IDLE_MS;
	return idle_ms;
}

unsigned conn_drain(struct conn *c)
{
	if (!c->draining) {
		/* A connection that spoke within CONN_DRAIN_IDLE_MS is likely
		 * to send again: a polite protocol answers that request and
		 * closes.  One silent for longer closes now (it may race a
		 * request: the usual keep-alive race, which clients retry). */
		uint64_t now = now_ns();
		bool recent = now < c->last_active + CONN_DRAIN_IDLE_MS * 1000000ull;
		c->draining = true;
		c->drain_polite = recent && c->proto->drain &&
				  c->proto->drain(c->state);
		/* New and silent: its request is most likely on the way (a
		 * connection accepted just now from a queue the drain
		 * serves): read it once, answer, then close. */
		c->drain_first = recent && !c->t_read;
		/* Blocking: conn_serve_blocking() shortens SO_RCVTIMEO. */
	}
	return conn_want(c);
}

void conn_release(struct conn *c)
{
	uint32_t ms;

	/* A chain of waits (HTTP /delay/50,25,50): the next one starts
	 * now, as a handler calls its next backend once the last answered. */
	if (!c->failed && c->proto->rewait && c->proto->rewait(c->state, &ms)) {
		c->hold_until = now_ns() + (uint64_t)ms * 1000000u;
		return;
	}
	c->held = false;
	if (!c->failed)
		process(c);	/* input that waited behind the held response */
	io_settle(c);
}

unsigned conn_on_timer(struct conn *c)
{
	conn_release(c);
	return conn_pump(c);
}

void conn_timer_sync(struct conn *c, struct timer_heap *h, unsigned want)
{
	if (!(want & CONN_WANT_TIMER)) {
		timer_del(h, &c->timer);
		return;
	}
	if (!timer_armed(&c->timer) || c->timer.when != c->hold_until)
		timer_add(h, &c->timer, c->hold_until);
}

unsigned conn_on_readable(struct conn *c)
{
	if (!c->eof && !c->closing && buf_used(&c->in) < c->in.cap)
		(void)do_read(c);
	if (!c->failed)
		pump(c);
	io_settle(c);
	return conn_want(c);
}

unsigned conn_on_writable(struct conn *c)
{
	if (!c->failed)
		pump(c);
	io_settle(c);
	return conn_want(c);
}

int conn_read(struct conn *c)
{
	if (c->eof || c->closing || c->failed || buf_used(&c->in) == c->in.cap)
		return -EAGAIN;
	return do_read(c);
}

unsigned conn_pump(struct conn *c)
{
	if (!c->failed)
		pump(c);
	io_settle(c);
	return conn_want(c);
}

/* ---- completion-based I/O (io_uring) -------------------------------------- */

/* Free input space, compacted; 0 when no input is wanted now. */
static size_t rx_room(struct conn *c, char **p)
{
	if (c->eof || c->closing || c->failed || !io_attach(c))
		return 0;
	if (buf_space(&c->in) == 0)
		buf_compact(&c->in);
	*p = buf_tail(&c->in);
	return buf_space(&c->in);
}

void conn_rx_end(struct conn *c, long err)
{
	if (err == 0) {
		c->eof = true;
		if (!c->failed)
			process(c);	/* the protocol may finish a request */
	} else if (err != -EAGAIN && err != -EINTR && err != -ENOBUFS) {
		rx_failed(c);
	}
	io_settle(c);
}

size_t conn_rx_copy(struct conn *c, const char *p, size_t n)
{
	char *room;
	size_t len = rx_room(c, &room);

	if (n > len)
		n = len;
	if (n) {
		memcpy(room, p, n);
		rx_account(c, n);
		process(c);
	}
	io_settle(c);
	return n;
}

size_t conn_tx_pending(struct conn *c, const char **p)
{
	if (c->failed || c->tx_busy)
		return 0;
	size_t n = sendable(c);
	if (n)
		*p = buf_head(&c->out);
	return n;
}

void conn_tx_start(struct conn *c)
{
	c->tx_busy = true;
}

void conn_tx_done(struct conn *c, long n)
{
	c->tx_busy = false;
	if (n > 0) {
		tx_account(c, (size_t)n);
		if (!sendable(c) && buf_used(&c->in))
			process(c);	/* input that waited for room */
	} else if (n != -EAGAIN && n != -EINTR) {
		tx_failed(c);
	}
	io_settle(c);
}

static void set_timeout(struct conn *c, int opt, uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_usec = (suseconds_t)(ms % 1000) * 1000,
	};

	setsockopt(c->fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

/*
 * Points SO_RCVTIMEO (*cur ms, 0: none) at due (0: none) before a blocking
 * read.  Lazy: a timeout already shorter is kept (the read wakes early and
 * the caller re-arms with force), one longer by less than the slack too.
 */
static void rcv_arm(struct conn *c, uint64_t *cur, uint64_t due, uint64_t now,
		    bool force)
{
	uint64_t want = 0;

	if (due)
		want = due > now ? (due - now + MS - 1) / MS : 1;
	if (want == *cur)
		return;
	if (!force && *cur && want && *cur < want + RCVTIMEO_SLACK_MS)
		return;
	set_timeout(c, SO_RCVTIMEO, want);
	*cur = want;
}

/* Sleeps until the held response is due; false if interrupted. */
static bool sleep_until(uint64_t when)
{
	struct timespec ts = {
		.tv_sec = (time_t)(when / 1000000000u),
		.tv_nsec = (long)(when % 1000000000u),
	};

	return clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == 0;
}

void conn_serve_blocking(struct server *srv, struct conn *c)
{
	uint64_t idle_ns = srv->cfg->idle_timeout_ms * MS;
	uint64_t rcv_ms = 0;		/* SO_RCVTIMEO now */
	uint64_t idle_from = now_ns();	/* the latest progress */
	bool idle = false, early = false;

	if (idle_ns) {
		if (!c->timeouts_inherited) {
			set_timeout(c, SO_SNDTIMEO, srv->cfg->idle_timeout_ms);
			set_timeout(c, SO_RCVTIMEO, srv->cfg->idle_timeout_ms);
		}
		rcv_ms = srv->cfg->idle_timeout_ms;
	}
	while (!server_stopping(srv)) {
		unsigned want = server_draining(srv) ? conn_drain(c) :
						       conn_want(c);
		int r;

		if (!want)
			break;
		if (!(want & CONN_WANT_WRITE) && (want & CONN_WANT_TIMER)) {
			/* A delayed reply: this worker waits, as blocking
			 * models do; a kick ends the wait early. */
			slot_set_state(c->slot, WORKER_WAITING);
			if (sleep_until(c->hold_until))
				conn_on_timer(c);
			idle_from = now_ns();
			continue;
		}
		if (want & CONN_WANT_WRITE) {
			slot_set_state(c->slot, WORKER_WRITING);
			r = flush(c);
			if (r == -EAGAIN) {	/* SO_SNDTIMEO expired */
				idle = true;
				break;
			}
			if (r == 0) {
				idle_from = now_ns();
				pump(c);
			}
			continue;
		}
		/* Reading: the nearer of the idle and request deadlines
		 * (draining, a polite connection's idle limit is shorter). */
		uint64_t now = now_ns();
		rq_sync(NULL, c, now);
		idle_ns = idle_limit_ms(c, srv->cfg->idle_timeout_ms) * MS;
		uint64_t due = idle_ns ? idle_from + idle_ns : 0;
		if (c->rq_start && (!due || rq_due(c) < due))
			due = rq_due(c);
		rcv_arm(c, &rcv_ms, due, now, early);
		early = false;
		slot_set_state(c->slot, WORKER_READING);
		r = do_read(c);
		if (r == -EAGAIN) {	/* SO_RCVTIMEO expired */
			now = now_ns();
			if ((c->rq_start && now >= rq_due(c)) ||
			    (idle_ns && now >= idle_from + idle_ns)) {
				idle = true;
				break;
			}
			early = true;	/* armed for an earlier deadline */
			continue;
		}
		if (r >= 0) {
			idle_from = now_ns();
			pump(c);
		}
	}
	slot_set_state(c->slot, WORKER_IDLE);
	if (idle)
		conn_close_idle(c);
	else
		conn_close(c);
}

/* ---- idle list ------------------------------------------------------------ */

static void act_append(struct conn_list *l, struct conn *c)
{
	c->next = NULL;
	c->prev = l->tail;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
}

static void act_unlink(struct conn_list *l, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		l->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		l->tail = c->prev;
	c->prev = c->next = NULL;
}

void conn_list_add(struct conn_list *l, struct conn *c)
{
	act_append(l, c);
	l->n++;
	if (c->request_ms)
		rq_sync(l, c, now_ns());
}

void conn_list_del(struct conn_list *l, struct conn *c)
{
	act_unlink(l, c);
	l->n--;
	/* Its clock keeps running (rq_start): it may come back. */
	if (c->rq_linked)
		rq_unlink(l, c);
}

void conn_list_touch(struct conn_list *l, struct conn *c)
{
	uint64_t now = now_ns();

	c->last_active = now;
	if (c->request_ms)
		rq_sync(l, c, now);
	if (l->tail == c)
		return;
	act_unlink(l, c);
	act_append(l, c);
}

void conn_list_drain(struct conn_list *l,
		     void (*update)(struct conn *c, unsigned want, void *arg),
		     void *arg)
{
	struct conn *c = l->head;

	/* update() may move c to the tail (touch) or drop it: at most n
	 * steps along the saved next pointers visit each one once. */
	for (unsigned i = 0, n = l->n; i < n && c; i++) {
		struct conn *next = c->next;
		update(c, conn_drain(c), arg);
		c = next;
	}
}

/* ns as milliseconds, rounded up. */
static int ms_of(uint64_t ns)
{
	uint64_t ms = (ns + MS - 1) / MS;

	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Folds the time until due (CLOCK_MONOTONIC ns, 0: none) into *next ms. */
static void next_min(int *next, uint64_t due, uint64_t now)
{
	if (!due)
		return;
	int left = due > now ? ms_of(due - now) : 0;
	if (*next < 0 || left < *next)
		*next = left;
}

struct conn *conn_list_due(struct conn_list *l, uint64_t idle_ms,
			   uint64_t now, int *ms)
{
	int next = -1;

	/* The buffer pool of this thread shrinks while connections idle. */
	next_min(&next, conn_io_decay(now), now);
	if (l->rq_head) {
		struct conn *c = l->rq_head;
		if (now >= rq_due(c))
			return c;
		next_min(&next, rq_due(c), now);
	}
	while (l->head) {
		struct conn *c = l->head;
		uint64_t idle_ns = idle_limit_ms(c, idle_ms) * MS;
		if (!idle_ns)
			break;
		uint64_t age = now > c->last_active ? now - c->last_active : 0;
		if (age < idle_ns) {
			next_min(&next, now + idle_ns - age, now);
			break;
		}
		if (c->held) {
			/* Waiting on evd, not on the peer: not idle. */
			conn_list_touch(l, c);
			c->last_active = now;
			continue;
		}
		return c;
	}
	*ms = next;
	return NULL;
}

uint64_t conn_list_next_due(const struct conn_list *l, uint64_t idle_ms)
{
	uint64_t due = conn_io_decay_due();

	if (l->head && idle_limit_ms(l->head, idle_ms)) {
		uint64_t idle = l->head->last_active +
				idle_limit_ms(l->head, idle_ms) * MS;
		if (!due || idle < due)
			due = idle;
	}
	if (l->rq_head && (!due || rq_due(l->rq_head) < due))
		due = rq_due(l->rq_head);
	return due;
}

int conn_list_expire(struct conn_list *l, uint64_t idle_ms, uint64_t now,
		     void (*forget)(struct conn *c, void *arg), void *arg)
{
	struct conn *c;
	int ms;

	while ((c = conn_list_due(l, idle_ms, now, &ms))) {
		conn_list_del(l, c);
		if (forget)
			forget(c, arg);
		conn_close_idle(c);
	}
	return ms;
}
