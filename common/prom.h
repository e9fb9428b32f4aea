/* Prometheus text exposition (format 0.0.4) of evd's metrics.
 *
 * Built from evd's own types: evctl calls it with what it parsed from the
 * control socket (`evctl ... -o prometheus`), and evd's control thread can
 * call it with its totals (server_sum() into a struct stats_total) to serve
 * /metrics; the text is the same.  No I/O, no allocation but for a line
 * longer than 1 KiB; every byte goes through out->write.
 *
 * Naming: evd_ prefix, counters end in _total, durations in seconds, bytes
 * in bytes.  Every series carries the labels model and protocol; a
 * worker's also worker (and role), a system call's syscall, a thread's
 * tid.  Counters come from STATS_COUNTERS (daemon/stats.h): errors_KIND
 * become evd_errors_total{kind="KIND"}, responses_TYPE
 * evd_responses_total{type="TYPE"}, any other KEY evd_KEY_total; a counter
 * added there appears here with no change.
 *
 * The request latency histogram evd_request_duration_seconds has fixed
 * bounds from 10 us to 10 s (PROM_LATENCY_BOUNDS); a request counts in the
 * first bound at or above the upper end of its evd bucket (evd's buckets
 * are 1.6 % wide: a request is never counted faster than it was, at most
 * 1.6 % slower).  _sum is exact.  The syscall histograms use powers of 4
 * from 256 ns to 17.2 s, exact on evd's log2 buckets.
 */
#ifndef EVD_PROM_H
#define EVD_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../daemon/stats.h"

struct prom_out {
	void (*write)(void *arg, const char *s, size_t n);
	void *arg;
};

/* The labels on every series. */
struct prom_ident {
	const char *model, *protocol;
};

/* evd as a whole: `evctl stats`, and the first part of /metrics. */
struct prom_server {
	const char *version;
	double uptime_s;
	double cpu_user_s, cpu_sys_s;	/* serving side, since start */
	unsigned workers, max_connections;
	const struct stats_total *tot;	/* counters, latency */
	bool has_hist;			/* tot->hist and lat_sum_ns are set */
};

/* evd_info{version} 1 and evd_uptime_seconds (ping, version). */
void prom_identity(const struct prom_out *o, const struct prom_ident *id,
		   const char *version, double uptime_s);

/* prom_identity(), the gauges, every counter, CPU time and (has_hist) the
 * latency histogram. */
void prom_server(const struct prom_out *o, const struct prom_ident *id,
		 const struct prom_server *s);

/* One scoreboard slot (`evctl workers`). */
struct prom_worker {
	unsigned id;
	const char *role, *state;
	long pid, tid;
	uint64_t accepted, requests, bytes_in, bytes_out, restarts;
	int64_t active;
};

void prom_workers(const struct prom_out *o, const struct prom_ident *id,
		  const struct prom_worker *w, size_t n);

/* One system call's totals from the probes. */
struct prom_syscall {
	const char *name;
	uint64_t calls, errors, total_ns;
	/* PROM_SC_HIST_BUCKETS log2(ns) buckets, or NULL when the calls were
	 * not timed (timing off, a thread's table): no histogram. */
	const uint64_t *hist;
};

#define PROM_SC_HIST_BUCKETS 40

struct prom_syscalls {
	long tid;		/* a thread's table (its label), or 0: all */
	double seconds;		/* the probes' attached time */
	uint64_t requests;	/* requests served while they counted */
	size_t n;
	const struct prom_syscall *v;
};

void prom_syscalls(const struct prom_out *o, const struct prom_ident *id,
		   const struct prom_syscalls *s);

/* One thread's totals from the probes' per-thread counting. */
struct prom_thread {
	long tid, pid;
	int slot;		/* its scoreboard slot, or -1 */
	const char *role;	/* its slot's role, or NULL */
	uint64_t calls, errors, total_ns;
};

void prom_threads(const struct prom_out *o, const struct prom_ident *id,
		  const struct prom_thread *t, size_t n);

/* Writes the escaped form of a label value (\\, \", \n) to buf of len
 * bytes, NUL-terminated, truncated at a whole character.  Exposed for the
 * tests. */
void prom_escape(char *buf, size_t len, const char *value);

#endif
