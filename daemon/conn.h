/* Connections: buffers, partial reads and writes, the protocol driven over
 * them, and per-request latency.  Shared by every model: a readiness model
 * calls conn_on_readable/conn_on_writable and waits for what conn_want()
 * asks; a blocking model hands the connection to conn_serve_blocking(). */
#ifndef EVD_CONN_H
#define EVD_CONN_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "buf.h"
#include "config.h"
#include "conn_io.h"
#include "timer.h"

struct server;
struct stats_slot;
struct evd_proto;
struct async;
struct uconn;
struct conn;

/* What a model keeps in each connection: each model uses its own member
 * (and only its own), so the compiler checks every use's type. */
union conn_model {
	uint32_t events;	/* epoll: EPOLLIN|EPOLLOUT in the epoll set,
				 * 0: not in it */
	unsigned index;		/* poll: its entry in the pollfd array */
	unsigned want;		/* select: the CONN_WANT_* bits it waits for */
	struct async *loop;	/* async, reuseport: the loop that owns it */
	struct uconn *uring;	/* uring: the model's side of it */
	struct {		/* select-prethread: */
		unsigned verdict;		/* the pool's (enum verdict) */
		STAILQ_ENTRY(conn) queue;	/* the mux <-> pool queues */
	} sp;
};

enum conn_want {
	CONN_WANT_READ = 1u << 0,
	CONN_WANT_WRITE = 1u << 1,
	/* A response is held until c->hold_until: call conn_on_timer() then
	 * (readiness models keep c->timer on their heap: conn_timer_sync). */
	CONN_WANT_TIMER = 1u << 2,
	/* 0: the connection is finished; close it. */
};

struct conn {
	int fd;
	bool blocking;
	bool eof;		/* the peer closed its sending side */
	bool closing;		/* the protocol asked to close after flushing */
	bool failed;		/* a socket error: close now */
	bool tx_busy;		/* a completion-based send owns out's head */
	bool held;		/* a delayed response waits for hold_until */
	bool draining;		/* finish what is in flight, then close */
	bool drain_polite;	/* the protocol closes after its next answer */
	bool io_pinned;		/* io stays for the connection's life */
	bool io_inline;		/* io is part of this allocation */
	bool placed;		/* in the caller's memory (conn_new_at) */
	/* The socket's SO_RCVTIMEO and SO_SNDTIMEO are idle_timeout already
	 * (inherited from its listener): conn_serve_blocking() sets none. */
	bool timeouts_inherited;
	bool drain_first;	/* new and silent when the drain came: its
				 * first request is read and answered */
	uint64_t hold_off;	/* out offset (like out_total) where it starts */
	uint64_t hold_until;	/* CLOCK_MONOTONIC ns */
	struct timer timer;	/* for the model's heap; arg is the conn */
	/* in and out point into io while a request or reply is in flight; a
	 * non-blocking connection with nothing owed gives io back to the pool
	 * (data NULL, nothing used; cap stays). */
	struct conn_io *io;
	struct buf in;
	struct buf out;
	uint64_t out_total;	/* bytes ever appended to out */
	uint64_t sent_total;	/* bytes ever sent */
	uint64_t t_read;	/* time of the latest read */
	uint64_t t_pending;	/* start of the oldest unfinished request, 0 if none */
	uint64_t last_active;	/* latest event, for idle timeouts (conn_list) */
	/* request_timeout: the clock runs while a request is under way (see
	 * conn_request_waits()); rq_start is when it started, 0 if stopped. */
	uint64_t request_ms;	/* [server] request_timeout; 0: off */
	uint64_t rq_start;
	bool rq_restart;	/* a request completed: the next one starts anew */
	bool rq_linked;		/* on its conn_list's request list */
	struct conn *rq_prev, *rq_next;
	unsigned run_head, nruns;	/* io->runs in use */
	struct stats_slot *slot;
	const struct evd_proto *proto;
	/* For the model: idle list links (conn_list) and its own data. */
	struct conn *prev, *next;
	union conn_model model;
	alignas(max_align_t) unsigned char state[];
};

/* The connection whose timer fired (a model's timer callback gets t). */
static inline struct conn *conn_of_timer(struct timer *t)
{
	return (struct conn *)((char *)t - offsetof(struct conn, timer));
}

/*
 * Wraps an accepted fd and counts it as accepted.  On allocation failure it
 * closes fd, counts it (errors_nomem, connections_refused) and returns NULL.
 */
struct conn *conn_new(int fd, struct server *srv, struct stats_slot *slot,
		      bool blocking);

/*
 * For a process that ends with its one connection (the fork model's
 * child): a blocking connection laid out in the caller's mem (len bytes,
 * aligned for max_align_t; CONN_AT_SIZE is enough), with no allocation:
 * no malloc, no lock.  conn_close() counts it closed (after the gentle
 * close a protocol's end asks for) but leaves the socket to the process's
 * exit and frees nothing.  NULL when len is too small (counted in
 * errors_nomem; fd closed, counted as refused).
 */
#define CONN_AT_SIZE (sizeof(struct conn_io) + 4096)
struct conn *conn_new_at(int fd, struct server *srv, struct stats_slot *slot,
			 void *mem, size_t len);

/*
 * Keeps c's buffers for its whole life, as a blocking connection does (the
 * default lends them only while a request or reply is in flight): for a
 * model that hands connections between threads, since each thread has a
 * pool of its own.  False when memory ran out (counted in errors_nomem;
 * the connection has failed: close it).
 */
bool conn_pin_buffers(struct conn *c);

/* Closes the socket, counts the connection as closed and frees it. */
void conn_close(struct conn *c);

/* Counts a timeout close (idle_timeout or request_timeout, both in
 * errors_timeout), then closes. */
void conn_close_idle(struct conn *c);

/*
 * True while evd waits for the rest of a request the peer has started:
 * bytes of an incomplete request are buffered (echo: a line without its
 * newline; http: a head without its blank line, or a body not all there;
 * resp: a command not complete), and evd is reading: not while a delayed
 * response is held, nor while the input buffer is full because the peer
 * does not read its answers (backpressure: then idle_timeout applies).
 * request_timeout counts only these periods, and starts anew after a
 * pause and after every request completed.
 */
bool conn_request_waits(const struct conn *c);

/* Event handlers for readiness models; return conn_want(). */
unsigned conn_on_readable(struct conn *c);
unsigned conn_on_writable(struct conn *c);

/* For models that split the work (select-prethread): one recv into the
 * input buffer (1 data, 0 end of stream, -EAGAIN nothing to do or no room,
 * other -errno counted), and processing plus sending (returns conn_want()). */
int conn_read(struct conn *c);
unsigned conn_pump(struct conn *c);

/*
 * For models that do their own I/O (io_uring).  Receiving: bytes received
 * elsewhere (a provided buffer) go in with conn_rx_copy(), which runs the
 * protocol and returns the bytes taken (fewer when the input buffer is
 * full: backpressure; 0 when no input is wanted); conn_rx_end() records end
 * of stream (0) or a receive failure (-errno).  Sending: conn_tx_pending()
 * gives the output to send (0 when none, or a send is in flight); call
 * conn_tx_start() when submitting it and conn_tx_done() with the result
 * (bytes sent or -errno); out's bytes do not move in between.
 */
size_t conn_rx_copy(struct conn *c, const char *p, size_t n);
void conn_rx_end(struct conn *c, long err);
size_t conn_tx_pending(struct conn *c, const char **p);
void conn_tx_start(struct conn *c);
void conn_tx_done(struct conn *c, long n);

/* What the connection waits for next; 0 when it is finished. */
unsigned conn_want(const struct conn *c);

/* Draining, a connection silent this long is closed. */
#define CONN_DRAIN_IDLE_MS 1000

/* The server drains (graceful stop or reload): from now on the connection
 * ends as soon as no request is in flight (a protocol that can say so,
 * HTTP, answers one more request with Connection: close; a connection
 * accepted within CONN_DRAIN_IDLE_MS that has sent nothing yet, most
 * likely its request is on the way, waits that long for it and gets it
 * answered).  Returns conn_want(); calling it again is harmless. */
unsigned conn_drain(struct conn *c);

/* The held response is due: release it and send (returns conn_want()).
 * conn_release() releases it and processes the input that waited, without
 * I/O: for a thread that must not send, or a model that sends itself.
 * When the protocol chains waits (proto rewait: HTTP /delay/50,25,50) the
 * response stays held for the next one: hold_until moves on and
 * CONN_WANT_TIMER stays, so the model arms its timer again (a blocking
 * model sleeps again). */
unsigned conn_on_timer(struct conn *c);
void conn_release(struct conn *c);

/* Keeps c->timer armed on h for hold_until while want has
 * CONN_WANT_TIMER, disarmed otherwise.  The model sets c->timer.fn (and
 * may set .arg) once; the timer's callback calls conn_on_timer(). */
void conn_timer_sync(struct conn *c, struct timer_heap *h, unsigned want);

/* Serves a blocking-socket connection until it ends or the server stops,
 * then closes it.  Idle timeouts come from SO_SNDTIMEO and SO_RCVTIMEO (set
 * here unless c->timeouts_inherited);
 * while a request is under way SO_RCVTIMEO is shortened to the request's
 * deadline (request_timeout). */
void conn_serve_blocking(struct server *srv, struct conn *c);

/* An intrusive list in order of last activity, oldest first: the idle
 * timeout of a readiness model checks only the head.  A second list, in
 * the same struct, holds the connections with a request under way in order
 * of its start, for request_timeout; add, del and touch keep it in step
 * (a model calls conn_list_touch() after every event of a connection). */
struct conn_list {
	struct conn *head, *tail;
	unsigned n;
	struct conn *rq_head, *rq_tail;
};

void conn_list_add(struct conn_list *l, struct conn *c);
void conn_list_del(struct conn_list *l, struct conn *c);
/* Marks c active now and moves it to the tail. */
void conn_list_touch(struct conn_list *l, struct conn *c);

/* Calls update(c, conn_drain(c), arg) for every connection of l; update
 * may remove c from the list (and close it). */
void conn_list_drain(struct conn_list *l,
		     void (*update)(struct conn *c, unsigned want, void *arg),
		     void *arg);

/*
 * Closes connections idle for idle_ms or more, and those whose request has
 * been under way for request_timeout (both counted as timeouts), calling
 * forget(c, arg) first so the model drops its references.  Returns the
 * milliseconds until the next connection may expire, or -1 if none can.
 */
int conn_list_expire(struct conn_list *l, uint64_t idle_ms, uint64_t now,
		     void (*forget)(struct conn *c, void *arg), void *arg);

/* For a model that closes in its own way (io_uring): the first connection
 * of l due to time out at now (still in l), or NULL with *ms set to the
 * milliseconds until the next may (-1: none).  It also runs the calling
 * thread's buffer pool clock (conn_io_decay()), and *ms counts its next
 * check: a readiness loop calls this, or conn_list_expire(), every turn. */
struct conn *conn_list_due(struct conn_list *l, uint64_t idle_ms,
			   uint64_t now, int *ms);

/* The earliest time (CLOCK_MONOTONIC ns) a connection of l may time out,
 * or the buffer pool's next check is due, 0 if neither: for a model that
 * keeps one timer for it (async). */
uint64_t conn_list_next_due(const struct conn_list *l, uint64_t idle_ms);

#endif
