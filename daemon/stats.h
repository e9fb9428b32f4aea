/* The scoreboard: one cache-line-aligned slot per worker in a shared
 * anonymous mapping made before any fork, so that threads and processes use
 * the same code.  A slot has exactly one writer (its worker), which updates
 * it with relaxed loads and stores: no lock, no atomic read-modify-write on
 * the hot path.  Readers sum the slots.  Counters are declared once, in
 * STATS_COUNTERS; adding one is one line. */
#ifndef EVD_STATS_H
#define EVD_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/hist.h"

/* X(field, key for evctl, description) */
#define STATS_COUNTERS(X)                                                     \
	X(accepted, "connections_accepted", "connections accepted and served") \
	X(closed, "connections_closed", "served connections closed")          \
	X(refused, "connections_refused", "connections shed at once (limits)") \
	X(requests, "requests", "requests answered (response fully sent)")    \
	X(bytes_in, "bytes_in", "bytes received from clients")                \
	X(bytes_out, "bytes_out", "bytes sent to clients")                    \
	X(err_accept, "errors_accept", "accept() failures")                   \
	X(err_read, "errors_read", "receive errors (resets included)")        \
	X(err_write, "errors_write", "send errors (peer gone included)")      \
	X(err_timeout, "errors_timeout", "closed by idle_timeout or request_timeout")   \
	X(err_protocol, "errors_protocol", "requests that broke the protocol") \
	X(err_nomem, "errors_nomem", "connections dropped for lack of memory") \
	X(err_aborted, "errors_aborted", "connections lost with their process") \
	X(http_1xx, "responses_http_1xx", "HTTP responses 100-199")            \
	X(http_2xx, "responses_http_2xx", "HTTP responses 200-299")            \
	X(http_3xx, "responses_http_3xx", "HTTP responses 300-399")            \
	X(http_4xx, "responses_http_4xx", "HTTP responses 400-499")            \
	X(http_5xx, "responses_http_5xx", "HTTP responses 500-599")            \
	X(resp_status, "responses_resp_status", "RESP simple-string replies")  \
	X(resp_error, "responses_resp_error", "RESP error replies")            \
	X(resp_integer, "responses_resp_integer", "RESP integer replies")      \
	X(resp_bulk, "responses_resp_bulk", "RESP bulk-string replies")        \
	X(resp_array, "responses_resp_array", "RESP array replies")            \
	X(zmtp_ok, "responses_zmtp_ok", "ZMTP RPC replies OK")                 \
	X(zmtp_error, "responses_zmtp_error", "ZMTP RPC replies ERR")

enum stat_id {
#define X(f, k, d) STAT_##f,
	STATS_COUNTERS(X)
#undef X
	STAT_MAX
};

extern const char *const stat_keys[STAT_MAX];

/* Latency in nanoseconds, 1.6 % relative error, up to 2^40 ns (18 min). */
#define STATS_HIST_SUB_BITS 6
#define STATS_HIST_MAX_BITS 40
#define STATS_HIST_BUCKETS HIST_BUCKETS(STATS_HIST_SUB_BITS, STATS_HIST_MAX_BITS)
extern const struct hist_layout stats_hist_layout;

enum worker_state {
	WORKER_FREE,		/* slot not in use */
	WORKER_IDLE,		/* waiting for a connection or an event */
	WORKER_READING,
	WORKER_WRITING,
	WORKER_WAITING,		/* waiting on a timer */
	WORKER_STATE_MAX
};

extern const char *const worker_state_names[WORKER_STATE_MAX];

/* What a slot's worker is, for evctl workers. */
enum worker_role {
	ROLE_LOOP,		/* serves everything from one thread */
	ROLE_MASTER,		/* starts, watches and stops worker processes */
	ROLE_ACCEPTOR,		/* accepts and hands connections out */
	ROLE_WORKER,		/* a member of a pool */
	ROLE_CONN,		/* one connection's process or thread */
	ROLE_MUX,		/* multiplexes accept and receive for a pool */
	ROLE_MAX
};

extern const char *const worker_role_names[ROLE_MAX];

struct stats_slot {
	_Atomic uint64_t c[STAT_MAX];
	_Atomic uint64_t lat_max_ns;
	_Atomic uint64_t lat_sum_ns;	/* of every request in hist */
	_Atomic int pid;
	_Atomic int tid;
	_Atomic int state;
	_Atomic int role;
	_Atomic uint64_t restarts;	/* written by the master (prefork) */
	_Atomic uint64_t hist[STATS_HIST_BUCKETS];
} __attribute__((aligned(64)));

struct scoreboard {
	unsigned nslots;
	_Atomic unsigned used;	/* high-water mark of slots handed out */
	/* A reload drains this run, whose workers have socket sets of their
	 * own: new connections go to set 0 (listeners_steer()), the others
	 * serve what they hold before they close.  Shared with the workers. */
	_Atomic bool steered;
	uint64_t start_mono_ns;
	uint64_t start_real_ns;
	size_t map_len;
	struct stats_slot slots[];
};

/* Maps a scoreboard of nslots slots; NULL with errno set on failure. */
struct scoreboard *scoreboard_create(unsigned nslots);
void scoreboard_destroy(struct scoreboard *sb);

/* Hands slot i to the calling worker (records pid and tid). */
struct stats_slot *scoreboard_claim(struct scoreboard *sb, unsigned i);
/* Hands slot i to the single-threaded process pid (the fork model's
 * parent does it for its child, which then writes only the slot). */
void scoreboard_claim_for(struct scoreboard *sb, unsigned i, int pid);

static inline void slot_set_role(struct stats_slot *s, enum worker_role r)
{
	atomic_store_explicit(&s->role, (int)r, memory_order_relaxed);
}

/* Single-writer updates. */
static inline void slot_add(struct stats_slot *s, enum stat_id id, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&s->c[id], memory_order_relaxed);
	atomic_store_explicit(&s->c[id], v + n, memory_order_relaxed);
}

static inline void slot_set_state(struct stats_slot *s, enum worker_state st)
{
	atomic_store_explicit(&s->state, (int)st, memory_order_relaxed);
}

/* After the worker process writing slot s died (its parent reaped it, so
 * nobody else writes the slot now): counts the connections it still held
 * as closed and aborted.  Returns how many. */
uint64_t slot_abort_connections(struct stats_slot *s);

/* Records count requests that each took ns nanoseconds (histogram, sum
 * and maximum). */
void slot_latency(struct stats_slot *s, uint64_t ns, uint64_t count);

/* The sum of every slot. */
struct stats_total {
	uint64_t c[STAT_MAX];
	uint64_t lat_max_ns;
	uint64_t lat_sum_ns;	/* exact: the histogram's _sum (Prometheus) */
	uint64_t hist[STATS_HIST_BUCKETS];
};

void scoreboard_sum(const struct scoreboard *sb, struct stats_total *t);

#endif
