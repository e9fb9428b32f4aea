/* [metrics] listen: evd's Prometheus text at /metrics over HTTP, served by
 * the control thread from its event loop (never by the serving side).  One
 * request per connection; at most METRICS_CLIENTS_MAX at once (beyond,
 * a new one takes the slot of the one that waited longest without a whole
 * request, or is closed at accept when every client is being answered);
 * each gets METRICS_TIMEOUT_MS from accept to close,
 * whatever it sends.  Non-blocking throughout: a slow or hostile scraper
 * holds one slot, never the thread. */
#ifndef EVD_METRICS_H
#define EVD_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/prom.h"

struct listen_addr;
struct metrics;

#define METRICS_CLIENTS_MAX 16
#define METRICS_TIMEOUT_MS 10000	/* from accept to close */
#define METRICS_LINGER_MS 1000		/* reading what follows a reply */
#define METRICS_BODY_MAX (16u << 20)	/* bytes of metrics text */
#define METRICS_TIMERS (1 + METRICS_CLIENTS_MAX)

/* Writes the metrics text through o (called once per GET or HEAD). */
typedef void metrics_body_fn(void *arg, const struct prom_out *o);

/*
 * Binds and listens on la (CLOEXEC, NONBLOCK; before privileges drop).
 * Returns NULL with "[metrics] listen = ADDR: why" in err on failure.
 */
struct metrics *metrics_open(const struct listen_addr *la,
			     metrics_body_fn *body, void *arg, char *err,
			     size_t errlen);

/* The bound address ("127.0.0.1:9477", the port resolved when 0). */
const char *metrics_address(const struct metrics *m);

struct evloop;

/*
 * Serves m from loop (the control thread's, which then runs every call on
 * m): the listening socket, then each client, with a timer for its
 * deadline (at most METRICS_TIMERS armed at once).  0, or -errno; 0 for a
 * NULL m.  metrics_close() must come before the loop's evloop_free().
 */
int metrics_attach(struct metrics *m, struct evloop *loop);

/* In a forked child: closes the descriptors, frees nothing.  Accepts NULL. */
void metrics_forget(struct metrics *m);

/* Closes every connection and the socket.  Accepts NULL. */
void metrics_close(struct metrics *m);

/* ---- the text (metrics_text.c) ------------------------------------------- */

struct server;
struct probes;
struct stats_total;

/* What the control thread knows when a scrape comes. */
struct metrics_src {
	const struct server *srv;
	const struct stats_total *tot;	/* every counter since start */
	double uptime_s;
	double cpu_user, cpu_sys;	/* the serving side's, as evctl stats */
	struct probes *probes;		/* NULL unless the probes count */
	uint64_t sc_requests;		/* requests while they counted */
};

/* The families `evctl metrics` prints: evd with its latency histogram, the
 * live workers, and the system calls when the probes count. */
void metrics_text(const struct prom_out *o, const struct metrics_src *s);

#endif
