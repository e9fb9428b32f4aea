/* evctl top: reading a snapshot and drawing one frame. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"

#define SC_ROWS_MAX 5		/* system calls shown */

int top_snap_take(struct evctl *e, struct top_snap *s)
{
	char *reply = NULL;
	int rc = evctl_stats(e, true, &s->st);

	s->w = NULL;
	s->nw = 0;
	memset(&s->sc, 0, sizeof(s->sc));
	s->sc_ok = false;
	s->sc_why[0] = '\0';
	if (rc == EXIT_OK)
		rc = evctl_transact(e, CTL_CMD_WORKERS, &reply, false);
	if (rc == EXIT_OK && (s->nw = workers_parse(reply, &s->w)) < 0)
		rc = bad_reply(e);
	free(reply);
	reply = NULL;
	if (rc != EXIT_OK)
		return rc;
	rc = evctl_transact(e, CTL_CMD_SYSCALLS, &reply, true);
	if (rc == EXIT_REPLY_ERROR) {
		/* "ERROR syscall probes are off (turn them on ...)": the
		 * reason, without the hint in parentheses. */
		const char *why = reply + strlen(CTL_WIRE_ERROR " ");
		int len = (int)strcspn(why, "(\n");
		while (len > 0 && why[len - 1] == ' ')
			len--;
		snprintf(s->sc_why, sizeof(s->sc_why), "%.*s", len, why);
		rc = EXIT_OK;
	} else if (rc == EXIT_OK) {
		s->sc_ok = sc_parse(reply, &s->sc);
		if (!s->sc_ok)
			rc = bad_reply(e);
	}
	free(reply);
	return rc;
}

void top_snap_free(struct top_snap *s)
{
	free(s->w);
	s->w = NULL;
	sc_free(&s->sc);
}

static void add(struct top_frame *f, int cols, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Appends a line, cut at cols columns. */
static void add(struct top_frame *f, int cols, const char *fmt, ...)
{
	va_list ap;

	if (f->n >= TOP_LINES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(f->line[f->n], sizeof(f->line[0]), fmt, ap);
	va_end(ap);
	if (cols > 0 && cols < TOP_WIDTH_MAX)
		f->line[f->n][cols] = '\0';
	f->n++;
}

/* "123.4us", "12.35ms", "1.234s"; "-" when unknown (negative). */
static const char *dur(char *buf, size_t len, double us)
{
	if (us < 0)
		snprintf(buf, len, "-");
	else if (us < 10000)
		snprintf(buf, len, "%.1fus", us);
	else if (us < 10000000)
		snprintf(buf, len, "%.2fms", us / 1e3);
	else
		snprintf(buf, len, "%.3fs", us / 1e6);
	return buf;
}

static const char *uptime(char *buf, size_t len, double s)
{
	long t = (long)s;

	if (t >= 86400)
		snprintf(buf, len, "%ldd%02ldh%02ldm", t / 86400, t / 3600 % 24,
			 t / 60 % 60);
	else if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60,
			 t % 60);
	else
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	return buf;
}

/* A rate, or "-" on the first frame. */
static const char *rate(char *buf, size_t len, const struct rates *r,
			double v)
{
	if (!r)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", v);
	return buf;
}

static void header(struct top_frame *f, const struct top_snap *c,
		   const struct rates *r, int cols)
{
	const struct stats_reply *s = &c->st;
	const uint64_t *k = s->tot.c;
	char a[32], b[32], d[32], x[32], y[32];

	add(f, cols, "evd %s  pid %ld  up %s  listen %s", s->version, s->pid,
	    uptime(a, sizeof(a), s->uptime_s), s->listen);
	add(f, cols, "model %s  protocol %s  workers %u  max_connections %u",
	    s->model, s->protocol, s->workers, s->max_connections);
	add(f, cols, "requests %llu (%s/s)  connections %llu (%s/s)  active %llu",
	    (unsigned long long)k[STAT_requests],
	    rate(a, sizeof(a), r, r ? r->req_s : 0),
	    (unsigned long long)k[STAT_accepted],
	    rate(b, sizeof(b), r, r ? r->conn_s : 0),
	    (unsigned long long)s->connections_active);
	add(f, cols, "errors %llu (%s/s)  in %s kB/s  out %s kB/s",
	    (unsigned long long)errors_total(&s->tot),
	    rate(a, sizeof(a), r, r ? r->err_s : 0),
	    rate(b, sizeof(b), r, r ? r->in_Bps / 1e3 : 0),
	    rate(d, sizeof(d), r, r ? r->out_Bps / 1e3 : 0));
	add(f, cols, "latency p50 %s  p90 %s  p99 %s  (interval)",
	    dur(a, sizeof(a), r ? r->p50_us : -1),
	    dur(b, sizeof(b), r ? r->p90_us : -1),
	    dur(d, sizeof(d), r ? r->p99_us : -1));
	add(f, cols, "cpu user %s%%  sys %s%%  per request %s",
	    rate(x, sizeof(x), r, r ? r->cpu_user_pct : 0),
	    rate(y, sizeof(y), r, r ? r->cpu_sys_pct : 0),
	    dur(a, sizeof(a), r ? r->cpu_us_per_req : -1));
}

/* The worker's row in prev with the same slot, or NULL. */
static const struct worker_row *same_worker(const struct top_snap *p,
					    const struct worker_row *w)
{
	for (long i = 0; p && i < p->nw; i++)
		if (p->w[i].id == w->id && p->w[i].pid == w->pid)
			return &p->w[i];
	return NULL;
}

static void workers(struct top_frame *f, const struct top_snap *p,
		    const struct top_snap *c, const struct rates *r, int room,
		    int cols)
{
	char a[32];
	long shown = c->nw;

	add(f, cols, "%4s %-9s %8s %8s %-8s %7s %9s %10s", "id", "role", "pid",
	    "tid", "state", "active", "req/s", "requests");
	if (room > 0 && shown > room - 1)
		shown = room > 2 ? room - 2 : 0;
	for (long i = 0; i < shown; i++) {
		const struct worker_row *w = &c->w[i], *o = same_worker(p, w);
		double rs = o && r && r->seconds > 0 && w->requests >= o->requests ?
				    (double)(w->requests - o->requests) / r->seconds :
				    0;
		add(f, cols, "%4u %-9s %8ld %8ld %-8s %7lld %9s %10llu", w->id,
		    w->role, w->pid, w->tid, w->state, (long long)w->active,
		    rate(a, sizeof(a), o && r ? r : NULL, rs),
		    (unsigned long long)w->requests);
	}
	if (shown < c->nw)
		add(f, cols, "(+%ld more workers: evctl workers lists them)",
		    c->nw - shown);
}

/* The interval's busiest system calls (by time, then calls). */
static void syscalls(struct top_frame *f, const struct top_snap *p,
		     const struct top_snap *c, const struct rates *r, int cols)
{
	if (!c->sc_ok) {
		add(f, cols, "system calls: %s", c->sc_why);
		return;
	}
	struct sc_reply d = c->sc;
	d.rows = malloc((c->sc.n ? c->sc.n : 1) * sizeof(*d.rows));
	if (!d.rows)
		return;
	memcpy(d.rows, c->sc.rows, c->sc.n * sizeof(*d.rows));
	if (p && p->sc_ok)
		sc_delta(&d, &p->sc);
	sc_sort_total(&d);
	uint64_t total = 0;
	for (size_t i = 0; i < d.n; i++)
		total += d.rows[i].total_ns;
	add(f, cols, "%-20s %9s %10s %9s %7s", "syscall", "calls/s",
	    "calls/req", "avg_us", "%time");
	for (size_t i = 0; i < d.n && i < SC_ROWS_MAX; i++) {
		const struct sc_row *s = &d.rows[i];
		char a[32], b[32], e[32];
		double avg = sc_avg_ns(s);
		add(f, cols, "%-20s %9s %10s %9s %7.2f", s->name,
		    rate(a, sizeof(a), p ? r : NULL,
			 r && r->seconds > 0 ? (double)s->calls / r->seconds : 0),
		    num(b, sizeof(b), 2, d.requests ? (double)s->calls /
						      (double)d.requests : -1),
		    num(e, sizeof(e), 2, avg < 0 ? -1 : avg / 1e3),
		    total ? 100.0 * (double)s->total_ns / (double)total : 0.0);
	}
	free(d.rows);
}

void top_frame_build(struct top_frame *f, const struct top_snap *prev,
		     const struct top_snap *cur, int rows, int cols,
		     double interval)
{
	struct rates rt;
	const struct rates *r = NULL;

	f->n = 0;
	if (prev) {
		rates_between(&prev->st, &cur->st, &rt);
		r = &rt;
	}
	header(f, cur, r, cols);
	add(f, cols, "%s", "");
	/* Room for the workers: what the syscalls (a blank line, a header,
	 * up to SC_ROWS_MAX rows, or one line) and the footer leave. */
	int sc_lines = cur->sc_ok ? 2 + SC_ROWS_MAX : 2;
	int room = rows > 0 ? rows - f->n - sc_lines - 1 : 0;
	if (rows > 0 && room < 2)
		room = 2;
	workers(f, prev, cur, r, room, cols);
	add(f, cols, "%s", "");
	syscalls(f, prev, cur, r, cols);
	if (rows > 0)
		add(f, cols, "q quits; every %g s%s", interval,
		    prev ? "" : "; rates after the first interval");
}
