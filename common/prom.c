/* Prometheus text exposition of evd's metrics (prom.h). */
#include "prom.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"

/* A label set: `model="...",protocol="..."` plus the series' own. */
#define LABELS_MAX 512

/* The request latency histogram's bounds: nanoseconds and the le text. */
static const struct {
	uint64_t ns;
	const char *le;
} latency_bounds[] = {
	{ 10000, "1e-05" }, { 25000, "2.5e-05" }, { 50000, "5e-05" },
	{ 100000, "0.0001" }, { 250000, "0.00025" }, { 500000, "0.0005" },
	{ 1000000, "0.001" }, { 2500000, "0.0025" }, { 5000000, "0.005" },
	{ 10000000, "0.01" }, { 25000000, "0.025" }, { 50000000, "0.05" },
	{ 100000000, "0.1" }, { 250000000, "0.25" }, { 500000000, "0.5" },
	{ 1000000000, "1" }, { 2500000000, "2.5" }, { 5000000000, "5" },
	{ 10000000000, "10" },
};

/* Counter groups: KEY starting with prefix is family{label="rest"}. */
static const struct {
	const char *prefix, *family, *label, *help;
} groups[] = {
	{ "errors_", "evd_errors_total", "kind",
	  "Errors by kind (evctl stats: errors_KIND)." },
	{ "responses_", "evd_responses_total", "type",
	  "Responses by protocol and status class or reply type." },
};

static const struct {
	const char *key, *help;
} counters[STAT_MAX] = {
#define X(f, k, d) { k, d },
	STATS_COUNTERS(X)
#undef X
};

static void pr(const struct prom_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pr(const struct prom_out *o, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(buf)) {
		o->write(o->arg, buf, (size_t)n);
		return;
	}
	char *big = malloc((size_t)n + 1);
	if (!big)
		return;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	o->write(o->arg, big, (size_t)n);
	free(big);
}

void prom_escape(char *buf, size_t len, const char *value)
{
	size_t off = 0;

	if (!len)
		return;
	for (const char *p = value ? value : ""; *p; p++) {
		const char *rep = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" :
				  *p == '\n' ? "\\n" : NULL;
		size_t need = rep ? 2 : 1;
		if (off + need >= len)
			break;
		if (rep)
			memcpy(buf + off, rep, 2);
		else
			buf[off] = *p;
		off += need;
	}
	buf[off] = '\0';
}

/* `model="m",protocol="p"` into buf. */
static void base_labels(char *buf, size_t len, const struct prom_ident *id)
{
	char m[128], p[128];

	prom_escape(m, sizeof(m), id->model);
	prom_escape(p, sizeof(p), id->protocol);
	snprintf(buf, len, "model=\"%s\",protocol=\"%s\"", m, p);
}

static void family(const struct prom_out *o, const char *name,
		   const char *type, const char *help)
{
	pr(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A number in the shortest exact-enough form ("0.25", "1234.5"). */
static const char *dbl(char *buf, size_t len, double v)
{
	snprintf(buf, len, "%.12g", v);
	return buf;
}

void prom_identity(const struct prom_out *o, const struct prom_ident *id,
		   const char *version, double uptime_s)
{
	char l[LABELS_MAX], v[64], d[32];

	base_labels(l, sizeof(l), id);
	prom_escape(v, sizeof(v), version);
	family(o, "evd_info", "gauge", "evd's version, model and protocol.");
	pr(o, "evd_info{%s,version=\"%s\"} 1\n", l, v);
	family(o, "evd_uptime_seconds", "gauge", "Seconds since evd started.");
	pr(o, "evd_uptime_seconds{%s} %s\n", l, dbl(d, sizeof(d), uptime_s));
}

static int group_of(const char *key)
{
	for (size_t g = 0; g < sizeof(groups) / sizeof(*groups); g++)
		if (!strncmp(key, groups[g].prefix, strlen(groups[g].prefix)))
			return (int)g;
	return -1;
}

/* Every counter: the ungrouped ones, then each group as one family. */
static void server_counters(const struct prom_out *o, const char *l,
			    const struct stats_total *t)
{
	for (int k = 0; k < STAT_MAX; k++) {
		if (group_of(counters[k].key) >= 0)
			continue;
		char name[128];
		snprintf(name, sizeof(name), "evd_%s_total", counters[k].key);
		char help[160];
		snprintf(help, sizeof(help), "%c%s.",
			 toupper((unsigned char)counters[k].help[0]),
			 counters[k].help + 1);
		family(o, name, "counter", help);
		pr(o, "%s{%s} %" PRIu64 "\n", name, l, t->c[k]);
	}
	for (size_t g = 0; g < sizeof(groups) / sizeof(*groups); g++) {
		family(o, groups[g].family, "counter", groups[g].help);
		size_t plen = strlen(groups[g].prefix);
		for (int k = 0; k < STAT_MAX; k++)
			if (group_of(counters[k].key) == (int)g)
				pr(o, "%s{%s,%s=\"%s\"} %" PRIu64 "\n",
				   groups[g].family, l, groups[g].label,
				   counters[k].key + plen, t->c[k]);
	}
}

/* evd_request_duration_seconds from evd's log-linear histogram. */
static void server_latency(const struct prom_out *o, const char *l,
			   const struct stats_total *t)
{
	const struct hist_layout hl = { STATS_HIST_SUB_BITS,
					STATS_HIST_MAX_BITS };
	unsigned nb = hist_nbuckets(hl), i = 0;
	uint64_t cum = 0;
	char d[32];

	family(o, "evd_request_duration_seconds", "histogram",
	       "Request latency, first byte received to last byte sent.");
	for (size_t b = 0; b < sizeof(latency_bounds) / sizeof(*latency_bounds);
	     b++) {
		for (; i < nb && hist_bucket_high(hl, i) <= latency_bounds[b].ns;
		     i++)
			cum += t->hist[i];
		pr(o, "evd_request_duration_seconds_bucket{%s,le=\"%s\"} %"
		   PRIu64 "\n", l, latency_bounds[b].le, cum);
	}
	uint64_t total = hist_total(hl, t->hist);
	pr(o, "evd_request_duration_seconds_bucket{%s,le=\"+Inf\"} %" PRIu64
	   "\n", l, total);
	pr(o, "evd_request_duration_seconds_sum{%s} %s\n", l,
	   dbl(d, sizeof(d), (double)t->lat_sum_ns / 1e9));
	pr(o, "evd_request_duration_seconds_count{%s} %" PRIu64 "\n", l, total);
	family(o, "evd_request_duration_max_seconds", "gauge",
	       "The slowest request since evd started.");
	pr(o, "evd_request_duration_max_seconds{%s} %s\n", l,
	   dbl(d, sizeof(d), (double)t->lat_max_ns / 1e9));
}

void prom_server(const struct prom_out *o, const struct prom_ident *id,
		 const struct prom_server *s)
{
	const struct stats_total *t = s->tot;
	char l[LABELS_MAX], d[32];

	base_labels(l, sizeof(l), id);
	prom_identity(o, id, s->version, s->uptime_s);
	family(o, "evd_workers", "gauge",
	       "Workers of the model's pool ([server] workers).");
	pr(o, "evd_workers{%s} %u\n", l, s->workers);
	family(o, "evd_max_connections", "gauge",
	       "Connections served at once at most ([server] max_connections).");
	pr(o, "evd_max_connections{%s} %u\n", l, s->max_connections);
	family(o, "evd_connections_active", "gauge",
	       "Connections open now.");
	/* Slots are read one after the other: a close may be seen before
	 * its accept. */
	pr(o, "evd_connections_active{%s} %" PRIu64 "\n", l,
	   t->c[STAT_accepted] > t->c[STAT_closed] ?
		   t->c[STAT_accepted] - t->c[STAT_closed] : 0);
	server_counters(o, l, t);
	family(o, "evd_cpu_seconds_total", "counter",
	       "CPU time of the serving threads and processes.");
	pr(o, "evd_cpu_seconds_total{%s,mode=\"user\"} %s\n", l,
	   dbl(d, sizeof(d), s->cpu_user_s));
	pr(o, "evd_cpu_seconds_total{%s,mode=\"system\"} %s\n", l,
	   dbl(d, sizeof(d), s->cpu_sys_s));
	if (s->has_hist)
		server_latency(o, l, t);
}

/* ---- workers ---------------------------------------------------------- */

/* One family over every worker: name, type, help, and the value of each. */
static void worker_family(const struct prom_out *o, const char *l,
			  const struct prom_worker *w, size_t n,
			  const char *name, const char *type, const char *help,
			  size_t off, bool is_signed)
{
	char role[64];

	family(o, name, type, help);
	for (size_t i = 0; i < n; i++) {
		const char *p = (const char *)&w[i] + off;
		prom_escape(role, sizeof(role), w[i].role);
		if (is_signed)
			pr(o, "%s{%s,worker=\"%u\",role=\"%s\"} %" PRId64 "\n",
			   name, l, w[i].id, role, *(const int64_t *)p);
		else
			pr(o, "%s{%s,worker=\"%u\",role=\"%s\"} %" PRIu64 "\n",
			   name, l, w[i].id, role, *(const uint64_t *)p);
	}
}

void prom_workers(const struct prom_out *o, const struct prom_ident *id,
		  const struct prom_worker *w, size_t n)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		bool is_signed;
	} cols[] = {
#define C(n, t, h, m, s) { n, t, h, offsetof(struct prom_worker, m), s }
		C("evd_worker_connections_accepted_total", "counter",
		  "Connections the worker accepted.", accepted, false),
		C("evd_worker_connections_active", "gauge",
		  "Connections the worker holds (accepted minus closed).",
		  active, true),
		C("evd_worker_requests_total", "counter",
		  "Requests the worker answered.", requests, false),
		C("evd_worker_bytes_in_total", "counter",
		  "Bytes the worker received.", bytes_in, false),
		C("evd_worker_bytes_out_total", "counter",
		  "Bytes the worker sent.", bytes_out, false),
		C("evd_worker_restarts_total", "counter",
		  "Times the worker's process was started again.", restarts,
		  false),
#undef C
	};
	char l[LABELS_MAX], role[64], state[64];

	base_labels(l, sizeof(l), id);
	family(o, "evd_worker_info", "gauge",
	       "A worker slot: its role, process and thread.");
	for (size_t i = 0; i < n; i++) {
		prom_escape(role, sizeof(role), w[i].role);
		pr(o, "evd_worker_info{%s,worker=\"%u\",role=\"%s\",pid=\"%ld\","
		   "tid=\"%ld\"} 1\n", l, w[i].id, role, w[i].pid, w[i].tid);
	}
	family(o, "evd_worker_state", "gauge",
	       "1 for the state the worker is in now.");
	for (size_t i = 0; i < n; i++) {
		prom_escape(role, sizeof(role), w[i].role);
		prom_escape(state, sizeof(state), w[i].state);
		pr(o, "evd_worker_state{%s,worker=\"%u\",role=\"%s\",state=\"%s\"}"
		   " 1\n", l, w[i].id, role, state);
	}
	for (size_t c = 0; c < sizeof(cols) / sizeof(*cols); c++)
		worker_family(o, l, w, n, cols[c].name, cols[c].type,
			      cols[c].help, cols[c].off, cols[c].is_signed);
}

/* ---- system calls ------------------------------------------------------- */

/* One family over every syscall row: calls, errors or seconds. */
static void sc_family(const struct prom_out *o, const char *l,
		      const struct prom_syscalls *s, const char *name,
		      const char *help, int what)
{
	char sc[2 * 40 + 1], d[32];

	family(o, name, "counter", help);
	for (size_t i = 0; i < s->n; i++) {
		const struct prom_syscall *r = &s->v[i];
		prom_escape(sc, sizeof(sc), r->name);
		if (what == 2)
			pr(o, "%s{%s,syscall=\"%s\"} %s\n", name, l, sc,
			   dbl(d, sizeof(d), (double)r->total_ns / 1e9));
		else
			pr(o, "%s{%s,syscall=\"%s\"} %" PRIu64 "\n", name, l, sc,
			   what ? r->errors : r->calls);
	}
}

/* The timed rows' log2 histograms, on powers of 4 from 2^8 ns. */
static void sc_hists(const struct prom_out *o, const char *l,
		     const struct prom_syscalls *s)
{
	char sc[2 * 40 + 1], d[32];
	bool any = false;

	for (size_t i = 0; i < s->n; i++)
		any |= s->v[i].hist != NULL;
	if (!any)
		return;
	family(o, "evd_syscall_duration_seconds", "histogram",
	       "Time in each timed system call (the probes' log2 buckets).");
	for (size_t i = 0; i < s->n; i++) {
		const struct prom_syscall *r = &s->v[i];
		if (!r->hist)
			continue;
		prom_escape(sc, sizeof(sc), r->name);
		uint64_t cum = 0;
		unsigned k = 0;
		for (unsigned j = 8; j <= 34; j += 2) {
			for (; k < j; k++)
				cum += r->hist[k];
			pr(o, "evd_syscall_duration_seconds_bucket{%s,syscall="
			   "\"%s\",le=\"%s\"} %" PRIu64 "\n", l, sc,
			   dbl(d, sizeof(d), (double)(1ull << j) / 1e9), cum);
		}
		for (; k < PROM_SC_HIST_BUCKETS; k++)
			cum += r->hist[k];
		pr(o, "evd_syscall_duration_seconds_bucket{%s,syscall=\"%s\","
		   "le=\"+Inf\"} %" PRIu64 "\n", l, sc, cum);
		pr(o, "evd_syscall_duration_seconds_sum{%s,syscall=\"%s\"} %s\n",
		   l, sc, dbl(d, sizeof(d), (double)r->total_ns / 1e9));
		pr(o, "evd_syscall_duration_seconds_count{%s,syscall=\"%s\"} %"
		   PRIu64 "\n", l, sc, cum);
	}
}

void prom_syscalls(const struct prom_out *o, const struct prom_ident *id,
		   const struct prom_syscalls *s)
{
	char l[LABELS_MAX], d[32];

	base_labels(l, sizeof(l), id);
	if (s->tid > 0) {
		size_t len = strlen(l);
		snprintf(l + len, sizeof(l) - len, ",tid=\"%ld\"", s->tid);
	}
	family(o, "evd_syscall_probe_seconds_total", "counter",
	       "Time the syscall probes were attached and counting.");
	pr(o, "evd_syscall_probe_seconds_total{%s} %s\n", l,
	   dbl(d, sizeof(d), s->seconds));
	family(o, "evd_syscall_probe_requests_total", "counter",
	       "Requests evd answered while the probes counted.");
	pr(o, "evd_syscall_probe_requests_total{%s} %" PRIu64 "\n", l,
	   s->requests);
	sc_family(o, l, s, "evd_syscalls_total",
		  "System calls made by evd's serving threads and processes.", 0);
	sc_family(o, l, s, "evd_syscall_errors_total",
		  "System calls that returned an error (EAGAIN included).", 1);
	sc_family(o, l, s, "evd_syscall_seconds_total",
		  "Time spent in system calls (timed calls only).", 2);
	sc_hists(o, l, s);
}

void prom_threads(const struct prom_out *o, const struct prom_ident *id,
		  const struct prom_thread *t, size_t n)
{
	static const char *const names[3][2] = {
		{ "evd_thread_syscalls_total", "System calls of the thread." },
		{ "evd_thread_syscall_errors_total",
		  "System calls of the thread that returned an error." },
		{ "evd_thread_syscall_seconds_total",
		  "Time the thread spent in system calls." },
	};
	char l[LABELS_MAX], role[64], slot[16];

	base_labels(l, sizeof(l), id);
	for (int f = 0; f < 3; f++) {
		family(o, names[f][0], "counter", names[f][1]);
		for (size_t i = 0; i < n; i++) {
			prom_escape(role, sizeof(role), t[i].role);
			if (t[i].slot >= 0)
				snprintf(slot, sizeof(slot), "%d", t[i].slot);
			else
				slot[0] = '\0';
			char v[32];
			if (f == 2)
				dbl(v, sizeof(v), (double)t[i].total_ns / 1e9);
			else
				snprintf(v, sizeof(v), "%" PRIu64,
					 f ? t[i].errors : t[i].calls);
			pr(o, "%s{%s,tid=\"%ld\",pid=\"%ld\",worker=\"%s\","
			   "role=\"%s\"} %s\n", names[f][0], l, t[i].tid,
			   t[i].pid, slot, role, v);
		}
	}
}
