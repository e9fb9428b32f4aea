/* The engine's insides, shared by its files (not part of evbench.h: only
 * engine.c, slot.c and protos.c see them).
 *
 *   engine.c  the run: threads, each one epoll loop over its slots; the open
 *             loop's scheduler, timeouts, -T, the progress line
 *   slot.c    one virtual client's connection: connect, write, read, move on
 *             to the next round or connection, fail; what a mode does when
 *   protos.c  what is protocol-specific: a request's bytes, how replies
 *             are consumed, an opening handshake (zmtp), one row per
 *             protocol in bench_protos[]
 *
 * See engine.c for the slot's life and the accounting rules. */
#ifndef EVBENCH_ENGINE_H
#define EVBENCH_ENGINE_H

#include <pthread.h>
#include <time.h>

#include "evbench.h"

#define RBUF_SIZE (256 * 1024)		/* the worker's shared read buffer */
#define IN_MIN (16 * 1024)		/* free room when reading into c->in */
#define IN_MAX (1024ull * 1024 * 1024)	/* a partial reply held, at most */
#define EVENTS_MAX 512
#define SCAN_NS_MAX 100000000ull	/* timeout scan period, at most */
#define NS 1000000000ull

enum cstate { CS_IDLE, CS_CONNECTING, CS_OPEN, CS_DONE };
enum rx_phase { RX_HEAD, RX_BODY };
#define OUTCOME_OK ERR_MAX		/* slot_complete(): a verified reply */

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
	bool hs_pending;	/* a handshake under way (zmtp: the server's
				 * greeting and READY not yet): no request
				 * until slot_ready() */
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
	uint32_t *queue;	/* 2n entries: see run_queue() in engine.c */
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

/* ---- small helpers ------------------------------------------------------- */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Open loop: requests due on the slot and not sent yet. */
static inline uint64_t backlog(const struct slot *c)
{
	return c->sched_k - c->sent_k;
}

/* ---- protos.c: one row per protocol -------------------------------------- */

struct bench_proto_ops {
	/* The bytes of request key: req_len() of them, written at dst. */
	size_t (*req_len)(const struct reqspec *s);
	void (*req_fill)(const struct reqspec *s, uint64_t key, char *dst);
	/* Takes the bytes at p, completes (slot_complete()) the replies they
	 * end, and returns how many it used (the rest is a partial reply the
	 * caller keeps and hands back with more), or -1 when the connection
	 * failed (slot_fail() or slot_stray() done). */
	int64_t (*consume)(struct worker *w, struct slot *c, const char *p,
			   size_t n);
	/* Optional: called once a connection is established, before any
	 * request is written: may append bytes to c->out (a greeting) and set
	 * up the slot's receive state.  If it sets c->hs_pending, the slot
	 * sends what is in c->out and no request until consume() calls
	 * slot_ready() (the server's side of the handshake has come); a
	 * handshake that fails, ends or takes --timeout is a connect error.
	 * Returns 0, or -1 if the connection failed (slot_fail() done). */
	int (*open)(struct worker *w, struct slot *c);
};
extern const struct bench_proto_ops *const bench_protos[BP_MAX];

/* ---- slot.c: a slot's connection ----------------------------------------- */

/* Connects (the socket, the epoll registration) and, if the connect
 * completes at once, sends what the mode wants. */
void slot_connect(struct worker *w, struct slot *c);
/* A CONNECTING slot's socket is ready (events ev): on with the mode, or a
 * connect error. */
void slot_connect_done(struct worker *w, struct slot *c, uint32_t ev);
/* Starts (or restarts) a slot: claims its next requests and connects, or
 * finishes it. */
void slot_start(struct worker *w, struct slot *c);
/* The connection is ready for requests (at once, or once a handshake is
 * done): sends what the mode sends first.  The slot may be failed or done
 * afterwards (c->state says). */
void slot_ready(struct worker *w, struct slot *c);
/* Room for n more bytes at the end of c->out; 0, or -1 (out of memory). */
int slot_out_reserve(struct slot *c, size_t n);
/* Sends what is pending.  Returns 0, or -1 if the connection failed. */
int slot_flush(struct worker *w, struct slot *c);
/* Open loop: sends whatever is due while fewer than depth are in flight.
 * Returns 0, or -1 if the connection failed. */
int slot_open_send(struct worker *w, struct slot *c);
/* Reads until the socket is drained, completing replies and moving on. */
void slot_readable(struct worker *w, struct slot *c);
/* Puts the slot on the worker's restart queue (once). */
void slot_enqueue(struct worker *w, struct slot *c);
/* Closes the connection (if any) and forgets its buffered bytes. */
void slot_close(struct slot *c);
/* The slot has nothing more to do: DONE, connection closed. */
void slot_done(struct worker *w, struct slot *c);
/* The connection failed: what it had in flight and claimed counts under
 * kind; the slot goes on the restart queue. */
void slot_fail(struct worker *w, struct slot *c, enum err_kind kind);
/* The reply to the oldest request in flight is complete: outcome is
 * OUTCOME_OK or an err_kind. */
void slot_complete(struct worker *w, struct slot *c, unsigned outcome);
/* Bytes with no request in flight: one mismatch, and the connection goes.
 * Returns -1 (for consume()). */
int64_t slot_stray(struct worker *w, struct slot *c);

#endif
