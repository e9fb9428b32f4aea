/* The syscalls command: the eBPF probes' counts, histograms and per-thread
 * tables, switching them on and off, and their sampling windows. */
#include "control_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "probes/probes.h"
#include "server.h"
#include "util.h"
#include "../common/ctl_wire.h"

/* ---- syscalls: the eBPF probes ------------------------------------------------ */

uint64_t ctl_requests_now(const struct control *ctl)
{
	return ctl_totals(ctl)->c[STAT_requests];
}

/* Requests served while the probes counted, since the last reset. */
uint64_t ctl_sc_requests(const struct control *ctl)
{
	return ctl->sc_requests + (probes_enabled(ctl->probes) ?
				   ctl_requests_now(ctl) - ctl->sc_requests_at : 0);
}

/* True when the probes count (attached, or sampling); otherwise answers
 * why not. */
static bool sc_counting(struct control *ctl, struct out *o)
{
	if (ctl->probes && ctl->sc_on)
		return true;
	out_printf(o, "ERROR syscall probes are off (turn them on with "
		   "`evctl syscalls on`, or [probes] syscalls = on)\n");
	return false;
}

static void sc_header(struct control *ctl, struct out *o)
{
	out_printf(o, "state %s\n", ctl->sc_on ? "on" : "off");
	out_printf(o, "sample %u\n", ctl->sc_sample);
	out_printf(o, "seconds %.3f\n",
		   (double)probes_counted_ns(ctl->probes) / 1e9);
	out_printf(o, "requests %" PRIu64 "\n", ctl_sc_requests(ctl));
	out_printf(o, "untracked_processes %" PRIu64 "\n",
		   probes_untracked(ctl->probes));
	out_printf(o, "per_thread %s\n",
		   probes_per_thread(ctl->probes) ? "on" : "off");
	out_printf(o, "timing %s\n", probes_timing(ctl->probes) ? "on" : "off");
}

/* "k:count,..." for the non-empty buckets, or "-". */
static void sc_hist_field(struct out *o, const uint64_t *hist)
{
	bool any = false;

	for (unsigned b = 0; b < PROBES_HIST_BUCKETS; b++) {
		if (!hist[b])
			continue;
		out_printf(o, "%s%u:%" PRIu64, any ? "," : "", b, hist[b]);
		any = true;
	}
	if (!any)
		out_printf(o, "-");
}

static struct probes_syscall *sc_read(struct control *ctl, struct out *o)
{
	struct probes_syscall *v = calloc(PROBES_NR_MAX, sizeof(*v));
	int rc = v ? probes_read(ctl->probes, v) : -ENOMEM;

	if (rc < 0) {
		out_printf(o, "ERROR cannot read the syscall probes: %s\n",
			   strerror(-rc));
		free(v);
		return NULL;
	}
	return v;
}

/* The table: one row per syscall called, in number order. */
static void sc_table(struct control *ctl, struct out *o)
{
	struct probes_syscall *v = sc_read(ctl, o);
	char buf[32];

	if (!v)
		return;
	sc_header(ctl, o);
	out_printf(o, CTL_WIRE_FIELDS " " CTL_SC_FIELDS "\n");
	for (unsigned nr = 0; nr < PROBES_NR_MAX; nr++) {
		if (!v[nr].calls)
			continue;
		out_printf(o, "syscall %s %u %" PRIu64 " %" PRIu64 " %" PRIu64
			   " %" PRIu64 " ", probes_syscall_name(nr, buf,
								sizeof(buf)),
			   nr, v[nr].calls, v[nr].errors, v[nr].total_ns,
			   v[nr].max_ns);
		sc_hist_field(o, v[nr].hist);
		out_printf(o, "\n");
	}
	out_printf(o, "END\n");
	free(v);
}

/* One syscall's log2 histogram, from the first to the last used bucket. */
static void sc_hist(struct control *ctl, struct out *o, const char *name)
{
	int nr = probes_syscall_nr(name);

	if (nr < 0) {
		char n[40];
		snprintf(n, sizeof(n), "%s", name);
		out_printf(o, "ERROR unknown syscall \"%s\" (expected a name "
			   "such as sendto, or syscall_N)\n", n);
		return;
	}
	struct probes_syscall *v = sc_read(ctl, o);
	if (!v)
		return;
	const struct probes_syscall *s = &v[nr];
	char buf[32];
	int first = -1, last = -1;
	for (int b = 0; b < PROBES_HIST_BUCKETS; b++)
		if (s->hist[b]) {
			if (first < 0)
				first = b;
			last = b;
		}
	sc_header(ctl, o);
	out_printf(o, "name %s\n", probes_syscall_name((unsigned)nr, buf,
						      sizeof(buf)));
	out_printf(o, "nr %d\n", nr);
	out_printf(o, "calls %" PRIu64 "\n", s->calls);
	out_printf(o, "errors %" PRIu64 "\n", s->errors);
	out_printf(o, "total_ns %" PRIu64 "\n", s->total_ns);
	out_printf(o, "max_ns %" PRIu64 "\n", s->max_ns);
	out_printf(o, "fields low_ns high_ns count\n");
	for (int b = first; first >= 0 && b <= last; b++) {
		uint64_t low = b ? 1ull << b : 0;
		uint64_t high = b == PROBES_HIST_BUCKETS - 1 ?
					(s->max_ns > low ? s->max_ns : low) :
					(1ull << (b + 1)) - 1;
		out_printf(o, "bucket %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			   low, high, s->hist[b]);
	}
	out_printf(o, "END\n");
	free(v);
}

struct sc_tasks {
	struct probes_task *v;
	size_t n, cap;
	bool nomem;
};

static void sc_task_add(const struct probes_task *t, void *arg)
{
	struct sc_tasks *ts = arg;

	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 256;
		struct probes_task *v = realloc(ts->v, cap * sizeof(*v));
		if (!v) {
			ts->nomem = true;
			return;
		}
		ts->v = v;
		ts->cap = cap;
	}
	ts->v[ts->n++] = *t;
}

static int sc_task_cmp(const void *a, const void *b)
{
	const struct probes_task *x = a, *y = b;

	if (x->tid != y->tid)
		return x->tid < y->tid ? -1 : 1;
	return x->nr < y->nr ? -1 : x->nr > y->nr;
}

/* The per-thread entries sorted by thread then syscall; false after
 * answering an error (per-thread counting off, among others). */
static bool sc_tasks_read(struct control *ctl, struct out *o,
			  struct sc_tasks *ts)
{
	if (!probes_per_thread(ctl->probes)) {
		out_printf(o, "ERROR per-thread counting is off (turn it on "
			   "with `evctl syscalls workers on`: threads are "
			   "counted from then on)\n");
		return false;
	}
	int rc = probes_read_tasks(ctl->probes, sc_task_add, ts);

	if (rc == 0 && ts->nomem)
		rc = -ENOMEM;
	if (rc < 0) {
		out_printf(o, "ERROR cannot read the syscall probes: %s\n",
			   strerror(-rc));
		free(ts->v);
		return false;
	}
	if (ts->n)
		qsort(ts->v, ts->n, sizeof(*ts->v), sc_task_cmp);
	return true;
}

/* The scoreboard slot a thread works for, or -1. */
static int sc_slot_of(const struct control *ctl, uint32_t tid, int *role)
{
	const struct scoreboard *sb = ctl->srv->sb;
	unsigned used = atomic_load(&((struct scoreboard *)sb)->used);

	for (unsigned i = 0; i < used && i < sb->nslots; i++) {
		const struct stats_slot *s = &sb->slots[i];
		if ((uint32_t)atomic_load_explicit(&s->tid,
						   memory_order_relaxed) != tid)
			continue;
		*role = atomic_load_explicit(&s->role, memory_order_relaxed);
		return (int)i;
	}
	return -1;
}

/* One row per thread: its totals, and its scoreboard slot if it has one. */
static void sc_workers(struct control *ctl, struct out *o)
{
	struct sc_tasks ts = { 0 };

	if (!sc_tasks_read(ctl, o, &ts))
		return;
	sc_header(ctl, o);
	out_printf(o, CTL_WIRE_FIELDS " " CTL_SC_TASK_FIELDS "\n");
	for (size_t i = 0; i < ts.n;) {
		struct probes_task sum = ts.v[i];
		size_t j = i + 1;
		for (; j < ts.n && ts.v[j].tid == sum.tid; j++) {
			sum.calls += ts.v[j].calls;
			sum.errors += ts.v[j].errors;
			sum.total_ns += ts.v[j].total_ns;
		}
		int role = -1, slot = sc_slot_of(ctl, sum.tid, &role);
		char sl[16] = "-";
		if (slot >= 0)
			snprintf(sl, sizeof(sl), "%d", slot);
		out_printf(o, "task %" PRIu32 " %" PRIu32 " %s %s %" PRIu64 " %"
			   PRIu64 " %" PRIu64 "\n", sum.tid, sum.tgid, sl,
			   role >= 0 && role < ROLE_MAX ? worker_role_names[role]
							: "-",
			   sum.calls, sum.errors, sum.total_ns);
		i = j;
	}
	out_printf(o, "END\n");
	free(ts.v);
}

/* The table for one thread (no histogram or maximum per thread). */
static void sc_worker(struct control *ctl, struct out *o, const char *arg)
{
	uint64_t tid;
	char why[160];

	if (parse_uint(arg, 1, INT32_MAX, &tid, why, sizeof(why)) < 0) {
		out_printf(o, "ERROR worker: %s\n", why);
		return;
	}
	struct sc_tasks ts = { 0 };
	if (!sc_tasks_read(ctl, o, &ts))
		return;
	char buf[32];
	bool found = false;
	for (size_t i = 0; i < ts.n && !found; i++)
		found = ts.v[i].tid == tid;
	if (!found) {
		out_printf(o, "ERROR no system call counted for thread %" PRIu64
			   " (evctl syscalls --workers lists them)\n", tid);
		free(ts.v);
		return;
	}
	sc_header(ctl, o);
	out_printf(o, "tid %" PRIu64 "\n", tid);
	out_printf(o, CTL_WIRE_FIELDS " " CTL_SC_FIELDS "\n");
	for (size_t i = 0; i < ts.n; i++) {
		const struct probes_task *t = &ts.v[i];
		if (t->tid != tid)
			continue;
		out_printf(o, "syscall %s %" PRIu32 " %" PRIu64 " %" PRIu64 " %"
			   PRIu64 " - -\n", probes_syscall_name(t->nr, buf,
								sizeof(buf)),
			   t->nr, t->calls, t->errors, t->total_ns);
	}
	out_printf(o, "END\n");
	free(ts.v);
}

/* Attaches or detaches the probes, keeping the count of requests served
 * while they counted (calls per request).  Returns whether they were on
 * before, or -1 with err filled. */
static int probes_switch(struct control *ctl, bool on, char *err,
			 size_t errlen)
{
	bool was = probes_enabled(ctl->probes);
	uint64_t req = ctl_requests_now(ctl);

	if (probes_enable(ctl->probes, on, err, errlen) < 0)
		return -1;
	if (on && !was)
		ctl->sc_requests_at = req;
	else if (!on && was)
		ctl->sc_requests += req - ctl->sc_requests_at;
	return was;
}

/* Sampling: one period, of which the probes are attached sc_sample %. */
#define SC_PERIOD_NS 1000000000ull

/* Sampling: the next attach or detach is at when (0: none). */
static void sc_window_at(struct control *ctl, uint64_t when)
{
	ctl->sc_window = when;
	ctl_at(ctl, CT_SC_WINDOW, when);
}

/* Sampling: the window that opens now (the probes are attached). */
void ctl_sc_open_window(struct control *ctl, uint64_t now)
{
	ctl->sc_window_start = now;
	sc_window_at(ctl, now + SC_PERIOD_NS * ctl->sc_sample / 100);
}

/* Turns the probes on (attached now: for good, or for the window that
 * opens now when sampling) or off.  0, or -1 with err filled (then off). */
int ctl_sc_set(struct control *ctl, bool on, uint64_t now, char *err,
		  size_t errlen)
{
	sc_window_at(ctl, 0);
	if (probes_switch(ctl, on, err, errlen) < 0) {
		ctl->sc_on = false;
		return -1;
	}
	ctl->sc_on = on;
	if (on && ctl->sc_sample < 100)
		ctl_sc_open_window(ctl, now);
	return 0;
}

/* A sampling window closes (detach until the next period) or opens. */
void ctl_sc_window(struct control *ctl, uint64_t now)
{
	char err[512] = "";

	if (!probes_enabled(ctl->probes)) {
		if (ctl_sc_set(ctl, true, now, err, sizeof(err)) < 0)
			log_warnx("syscall probes: cannot attach them for the "
				  "next sampling window: %s; they are off",
				  err);
		return;
	}
	if (probes_switch(ctl, false, err, sizeof(err)) < 0)
		return;		/* detaching does not fail */
	uint64_t next = ctl->sc_window_start + SC_PERIOD_NS;
	sc_window_at(ctl, next <= now ? now + 1 : next);
}

/* [probes] sample changed to pct: windows from now on. */
void ctl_sc_set_sample(struct control *ctl, unsigned pct, uint64_t now)
{
	char err[512] = "";

	ctl->sc_sample = pct;
	if (ctl->sc_on && ctl_sc_set(ctl, true, now, err, sizeof(err)) < 0)
		log_warnx("syscall probes: cannot attach them: %s; they are "
			  "off", err);
}

static void sc_switch(struct control *ctl, struct out *o, bool on)
{
	char err[512] = "";
	bool was = ctl->sc_on;

	if (ctl_sc_set(ctl, on, now_ns(), err, sizeof(err)) < 0) {
		out_printf(o, "ERROR cannot turn the syscall probes on: %s\n", err);
		return;
	}
	if (on != was)
		log_info("syscall probes %s (evctl syscalls %s)",
			 on ? "attached" : "detached", on ? "on" : "off");
	out_printf(o, "state %s\n", on ? "on" : "off");
	out_printf(o, "END\n");
}

/* syscalls workers on|off: the per-thread breakdown, off by default (an
 * LRU hash update on every counted call).  Allowed while the probes are
 * off: it takes effect when they count. */
static void sc_per_thread(struct control *ctl, struct out *o, const char *arg)
{
	bool on = !strcmp(arg, "on");

	if (!on && strcmp(arg, "off")) {
		out_printf(o, "ERROR usage: %s\n", SC_USAGE);
		return;
	}
	if (on != probes_per_thread(ctl->probes))
		log_info("per-thread syscall counting %s (evctl syscalls "
			 "workers %s)", on ? "started" : "stopped",
			 on ? "on" : "off");
	probes_set_per_thread(ctl->probes, on);
	out_printf(o, "per_thread %s\n",
		   probes_per_thread(ctl->probes) ? "on" : "off");
	out_printf(o, "END\n");
}

/* syscalls timing on|off: time each call (on, [probes] timing's default)
 * or count calls and errors only, with one tracepoint instead of two. */
static void sc_timing(struct control *ctl, struct out *o, const char *arg)
{
	bool on = !strcmp(arg, "on");
	char err[512] = "";

	if (!on && strcmp(arg, "off")) {
		out_printf(o, "ERROR usage: syscalls timing on|off\n");
		return;
	}
	bool was = probes_timing(ctl->probes);
	if (probes_set_timing(ctl->probes, on, err, sizeof(err)) < 0) {
		out_printf(o, "ERROR cannot turn timing on: %s\n", err);
		return;
	}
	if (on != was)
		log_info("syscall timing %s (evctl syscalls timing %s)",
			 on ? "on" : "off: counting calls and errors only",
			 on ? "on" : "off");
	out_printf(o, "timing %s\n", on ? "on" : "off");
	out_printf(o, "END\n");
}

static void sc_reset(struct control *ctl, struct out *o)
{
	int rc = probes_reset(ctl->probes);

	if (rc < 0) {
		out_printf(o, "ERROR cannot reset the syscall probes: %s\n",
			   strerror(-rc));
		return;
	}
	ctl->sc_requests = 0;
	ctl->sc_requests_at = ctl_requests_now(ctl);
	out_printf(o, "state %s\n", ctl->sc_on ? "on" : "off");
	out_printf(o, "END\n");
}

void cmd_syscalls(struct control *ctl, struct out *o, int argc,
			 char **argv)
{
	const char *sub = argc ? argv[0] : "";
	bool one = argc == 1, two = argc == 2;

	if (!ctl->probes) {
		out_printf(o, "ERROR syscall probes unavailable\n");
	} else if (one && !strcmp(sub, "on")) {
		sc_switch(ctl, o, true);
	} else if (one && !strcmp(sub, "off")) {
		sc_switch(ctl, o, false);
	} else if (two && !strcmp(sub, "workers")) {
		sc_per_thread(ctl, o, argv[1]);
	} else if (two && !strcmp(sub, "timing")) {
		sc_timing(ctl, o, argv[1]);
	} else if (argc == 0 || (one && !strcmp(sub, "reset")) ||
		   (one && !strcmp(sub, "workers")) ||
		   (two && !strcmp(sub, "hist")) ||
		   (two && !strcmp(sub, "worker"))) {
		if (!sc_counting(ctl, o))
			return;
		if (argc == 0)
			sc_table(ctl, o);
		else if (!strcmp(sub, "reset"))
			sc_reset(ctl, o);
		else if (!strcmp(sub, "workers"))
			sc_workers(ctl, o);
		else if (!strcmp(sub, "hist"))
			sc_hist(ctl, o, argv[1]);
		else
			sc_worker(ctl, o, argv[1]);
	} else {
		out_printf(o, "ERROR usage: %s\n", SC_USAGE);
	}
}
