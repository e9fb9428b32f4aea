/* evctl syscalls: the table, one call's histogram and the per-thread rows,
 * as text, JSON or Prometheus text. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "syscalls.h"
#include "../common/prom.h"

static const struct prom_out out = { prom_stdout, NULL };

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0;
}

static double us_or_unknown(double ns)
{
	return ns < 0 ? -1 : ns / 1e3;
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

/* The header members shared by the table, --workers and --hist. */
static struct json_object *json_header(const struct sc_reply *rep)
{
	struct json_object *o = json_schema_object();

	add(o, "state", json_object_new_string(rep->state));
	add(o, "timing", rep->timing[0] ? json_object_new_string(rep->timing)
					: NULL);
	add(o, "sample_pct", rep->sample ? json_object_new_int((int)rep->sample)
					 : NULL);
	add(o, "seconds", json_fixed(rep->seconds, 3));
	add(o, "requests", json_object_new_uint64(rep->requests));
	add(o, "untracked_processes", json_object_new_uint64(rep->untracked));
	return o;
}

static struct json_object *json_row(const struct sc_row *r, double req,
				    uint64_t total_ns)
{
	struct json_object *o = json_object_new_object();
	bool timed = r->has_hist && sc_timed(r) > 0;

	add(o, "name", json_object_new_string(r->name));
	add(o, "nr", json_object_new_int((int)r->nr));
	add(o, "calls", json_object_new_uint64(r->calls));
	add(o, "calls_per_request",
	    json_fixed(req > 0 ? (double)r->calls / req : -1, 3));
	add(o, "errors", json_object_new_uint64(r->errors));
	add(o, "total_ms", json_fixed((double)r->total_ns / 1e6, 3));
	add(o, "avg_us", json_fixed(us_or_unknown(sc_avg_ns(r)), 3));
	add(o, "p50_us", json_fixed(us_or_unknown(sc_quantile_ns(r, 0.5)), 3));
	add(o, "p99_us", json_fixed(us_or_unknown(sc_quantile_ns(r, 0.99)), 3));
	add(o, "max_us", json_fixed(timed ? (double)r->max_ns / 1e3 : -1, 3));
	add(o, "time_pct", json_fixed(pct(r->total_ns, total_ns), 2));
	return o;
}

static void table_json(const struct sc_reply *rep, const char *tid,
		       uint64_t calls, uint64_t total_ns, double req)
{
	struct json_object *o = json_header(rep);
	struct json_object *rows = json_object_new_array();

	if (tid)
		add(o, "tid", json_object_new_int64(strtoll(tid, NULL, 10)));
	add(o, "calls", json_object_new_uint64(calls));
	add(o, "calls_per_request",
	    json_fixed(req > 0 ? (double)calls / req : -1, 3));
	add(o, "total_ms", json_fixed((double)total_ns / 1e6, 3));
	for (size_t i = 0; i < rep->n; i++)
		json_object_array_add(rows, json_row(&rep->rows[i], req,
						     total_ns));
	add(o, "syscalls", rows);
	json_print(o);
}

/* One prom_syscall per row; the histogram only for timed rows. */
static void table_prom(const struct sc_reply *rep, const char *tid,
		       const struct prom_ident *id)
{
	struct prom_syscall *v = calloc(rep->n ? rep->n : 1, sizeof(*v));

	if (!v)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		v[i] = (struct prom_syscall){
			.name = r->name, .calls = r->calls,
			.errors = r->errors, .total_ns = r->total_ns,
			.hist = r->has_hist && strcmp(rep->timing, "off") ?
					r->hist : NULL,
		};
	}
	const struct prom_syscalls s = {
		.tid = tid ? strtol(tid, NULL, 10) : 0,
		.seconds = rep->seconds, .requests = rep->requests,
		.n = rep->n, .v = v,
	};
	prom_syscalls(&out, id, &s);
	free(v);
}

static void table_notes(const struct sc_reply *rep, const char *tid,
			uint64_t calls, double req, bool per_req)
{
	char a[32];

	printf("system calls of evd's %s%s over %.1f s: %llu calls, %llu "
	       "requests%s%s%s\n", tid ? "thread " : "processes", tid ? tid : "",
	       rep->seconds, (unsigned long long)calls,
	       (unsigned long long)rep->requests, per_req ? ", " : "",
	       per_req ? num(a, sizeof(a), 2, (double)calls / req) : "",
	       per_req ? " calls per request" : "");
	if (rep->untracked)
		printf("(%llu processes were not followed: the set was full)\n",
		       (unsigned long long)rep->untracked);
	if (rep->sample && rep->sample < 100)
		printf("(sampled: attached %u %% of each second; the counts "
		       "and requests are those of the attached time)\n",
		       rep->sample);
	if (!strcmp(rep->timing, "off"))
		printf("(timing off: calls and errors only; `evctl syscalls "
		       "timing on` times them)\n");
}

static void table_text(const struct sc_reply *rep, const char *tid,
		       uint64_t calls, uint64_t total_ns, double req)
{
	bool per_req = !tid && rep->requests > 0;
	char a[32], b[32], c[32], d[32];

	table_notes(rep, tid, calls, req, per_req);
	printf("%-22s %10s %9s %8s %10s %9s %9s %9s %6s\n", "syscall", "calls",
	       "calls/req", "errors", "total_ms", "avg_us", "p50_us", "p99_us",
	       "%time");
	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		printf("%-22s %10llu %9s %8llu %10.3f %9s %9s %9s %6.2f\n",
		       r->name, (unsigned long long)r->calls,
		       num(a, sizeof(a), 3,
			   per_req ? (double)r->calls / req : -1),
		       (unsigned long long)r->errors, (double)r->total_ns / 1e6,
		       num(d, sizeof(d), 2, us_or_unknown(sc_avg_ns(r))),
		       num(b, sizeof(b), 2,
			   us_or_unknown(sc_quantile_ns(r, 0.50))),
		       num(c, sizeof(c), 2,
			   us_or_unknown(sc_quantile_ns(r, 0.99))),
		       pct(r->total_ns, total_ns));
	}
}

void sc_print_table(struct sc_reply *rep, enum format fmt, const char *tid,
		    const char *model, const char *protocol)
{
	uint64_t calls = 0, total_ns = 0;
	bool per_req = !tid && rep->requests > 0;

	sc_sort_total(rep);
	for (size_t i = 0; i < rep->n; i++) {
		calls += rep->rows[i].calls;
		total_ns += rep->rows[i].total_ns;
	}
	double req = per_req ? (double)rep->requests : -1;
	if (fmt == FMT_PROM) {
		const struct prom_ident id = { model, protocol };
		table_prom(rep, tid, &id);
	} else if (fmt == FMT_JSON) {
		table_json(rep, tid, calls, total_ns, req);
	} else {
		table_text(rep, tid, calls, total_ns, req);
	}
}

/* ---- one call's histogram ------------------------------------------------ */

static void hist_range(const struct sc_row *r, int *first, int *last,
		       uint64_t *top)
{
	*first = *last = -1;
	*top = 0;
	for (int b = 0; b < CTL_SC_HIST_BUCKETS; b++)
		if (r->hist[b]) {
			if (*first < 0)
				*first = b;
			*last = b;
			if (r->hist[b] > *top)
				*top = r->hist[b];
		}
}

static void hist_json(const struct sc_reply *rep, int first, int last)
{
	const struct sc_row *r = &rep->one;
	struct json_object *o = json_header(rep);
	struct json_object *buckets = json_object_new_array();

	add(o, "name", json_object_new_string(r->name));
	add(o, "nr", json_object_new_int((int)r->nr));
	add(o, "calls", json_object_new_uint64(r->calls));
	add(o, "errors", json_object_new_uint64(r->errors));
	add(o, "total_ns", json_object_new_uint64(r->total_ns));
	add(o, "max_ns", json_object_new_uint64(r->max_ns));
	for (int b = first; first >= 0 && b <= last; b++) {
		struct json_object *k = json_object_new_object();
		add(k, "low_ns", json_object_new_uint64(b ? 1ull << b : 0));
		add(k, "high_ns", json_object_new_uint64(
			b == CTL_SC_HIST_BUCKETS - 1 ? r->max_ns :
						       (1ull << (b + 1)) - 1));
		add(k, "count", json_object_new_uint64(r->hist[b]));
		json_object_array_add(buckets, k);
	}
	add(o, "buckets", buckets);
	json_print(o);
}

static void hist_text(const struct sc_reply *rep, int first, int last,
		      uint64_t top)
{
	const struct sc_row *r = &rep->one;
	char avg_s[32];

	printf("%s: %llu calls, %llu errors, %.3f ms in all, avg %s us, "
	       "max %.2f us (over %.1f s)\n", r->name,
	       (unsigned long long)r->calls, (unsigned long long)r->errors,
	       (double)r->total_ns / 1e6,
	       num(avg_s, sizeof(avg_s), 2, us_or_unknown(sc_avg_ns(r))),
	       (double)r->max_ns / 1e3, rep->seconds);
	printf("%25s %10s  %s\n", "nanoseconds", "count", "distribution");
	for (int b = first; first >= 0 && b <= last; b++) {
		int stars = (int)((r->hist[b] * 40 + top - 1) / top);
		char bar[41];
		memset(bar, '*', (size_t)stars);
		memset(bar + stars, ' ', (size_t)(40 - stars));
		bar[40] = '\0';
		if (b == CTL_SC_HIST_BUCKETS - 1)
			printf("%11llu -> %-10s : %10llu  |%s|\n", 1ull << b,
			       "", (unsigned long long)r->hist[b], bar);
		else
			printf("%11llu -> %-10llu : %10llu  |%s|\n",
			       b ? 1ull << b : 0ull, (1ull << (b + 1)) - 1,
			       (unsigned long long)r->hist[b], bar);
	}
}

void sc_print_hist(const struct sc_reply *rep, enum format fmt,
		   const char *model, const char *protocol)
{
	int first, last;
	uint64_t top;

	hist_range(&rep->one, &first, &last, &top);
	if (fmt == FMT_JSON) {
		hist_json(rep, first, last);
	} else if (fmt == FMT_PROM) {
		const struct prom_ident id = { model, protocol };
		struct sc_reply one = *rep;
		one.rows = (struct sc_row *)&rep->one;
		one.n = 1;
		table_prom(&one, NULL, &id);
	} else {
		hist_text(rep, first, last, top);
	}
}

/* ---- per thread ------------------------------------------------------------ */

static int cmp_task(const void *x, const void *y)
{
	const struct sc_row *a = x, *b = y;

	if (a->total_ns != b->total_ns)
		return a->total_ns > b->total_ns ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static void workers_json(const struct sc_reply *rep, uint64_t total_ns)
{
	struct json_object *o = json_header(rep);
	struct json_object *rows = json_object_new_array();

	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		struct json_object *t = json_object_new_object();
		char *end;
		long slot = strtol(r->slot, &end, 10);
		add(t, "tid", json_object_new_int64(r->tid));
		add(t, "pid", json_object_new_int64(r->pid));
		add(t, "slot", *end || end == r->slot ? NULL :
			       json_object_new_int64(slot));
		add(t, "role", strcmp(r->role, "-") ?
			       json_object_new_string(r->role) : NULL);
		add(t, "calls", json_object_new_uint64(r->calls));
		add(t, "errors", json_object_new_uint64(r->errors));
		add(t, "total_ms", json_fixed((double)r->total_ns / 1e6, 3));
		add(t, "time_pct", json_fixed(pct(r->total_ns, total_ns), 2));
		json_object_array_add(rows, t);
	}
	add(o, "threads", rows);
	json_print(o);
}

static void workers_prom(const struct sc_reply *rep,
			 const struct prom_ident *id)
{
	struct prom_thread *t = calloc(rep->n ? rep->n : 1, sizeof(*t));

	if (!t)
		return;
	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		char *end;
		long slot = strtol(r->slot, &end, 10);
		t[i] = (struct prom_thread){
			.tid = r->tid, .pid = r->pid,
			.slot = *end || end == r->slot ? -1 : (int)slot,
			.role = strcmp(r->role, "-") ? r->role : NULL,
			.calls = r->calls, .errors = r->errors,
			.total_ns = r->total_ns,
		};
	}
	prom_threads(&out, id, t, rep->n);
	free(t);
}

void sc_print_workers(struct sc_reply *rep, enum format fmt,
		      const char *model, const char *protocol)
{
	uint64_t total_ns = 0;

	if (rep->n > 0)
		qsort(rep->rows, rep->n, sizeof(*rep->rows), cmp_task);
	for (size_t i = 0; i < rep->n; i++)
		total_ns += rep->rows[i].total_ns;
	if (fmt == FMT_JSON) {
		workers_json(rep, total_ns);
		return;
	}
	if (fmt == FMT_PROM) {
		const struct prom_ident id = { model, protocol };
		workers_prom(rep, &id);
		return;
	}
	printf("%8s %8s %5s %-9s %10s %8s %10s %6s\n", "tid", "pid", "slot",
	       "role", "calls", "errors", "total_ms", "%time");
	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		printf("%8u %8u %5s %-9s %10llu %8llu %10.3f %6.2f\n", r->tid,
		       r->pid, r->slot, r->role, (unsigned long long)r->calls,
		       (unsigned long long)r->errors, (double)r->total_ns / 1e6,
		       pct(r->total_ns, total_ns));
	}
}
