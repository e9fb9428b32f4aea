#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <grp.h>
#include <pwd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "ctl_socket.h"
#include "log.h"
#include "notify.h"
#include "probes/probes.h"
#include "server.h"
#include "util.h"
#include "version.h"
#include "../common/ctl_wire.h"

/* The daemon's limits are the wire's (common/ctl_wire.h, which evctl
 * reads too). */
_Static_assert(CTL_LINE_MAX == CTL_WIRE_LINE_MAX, "command line length");
_Static_assert(CTL_ARGS_MAX == CTL_WIRE_ARGS_MAX, "words in a command");
_Static_assert(PROBES_HIST_BUCKETS == CTL_SC_HIST_BUCKETS,
	       "syscall histogram buckets");

#define STR_(x) #x
#define STR(x) STR_(x)		/* a number's digits, for messages */

_Static_assert(CTL_OTHERS_MAX == CTL_CLIENTS_MAX - CTL_RESERVED,
	       "CTL_OTHERS_MAX");

#define RATE_SAMPLES 8		/* one per second */
#define RATE_WINDOW_S 5
#define KICK_INTERVAL_MS 50
#define STATUS_INTERVAL_MS 5000	/* STATUS= to systemd */

struct out {
	char *data;
	size_t off, len, cap;
	bool overflow;
};

struct client {
	int fd;			/* -1: free */
	char in[CTL_LINE_MAX + 2];
	size_t inlen;
	struct out out;
	bool eof;		/* peer sent everything it will send */
	bool discarding;	/* dropping the rest of an over-long line */
	bool closing;		/* close once out is flushed */
	uint64_t deadline;
	uid_t uid;		/* the peer, from SO_PEERCRED */
	bool privileged;	/* root or evd's own user: may change state */
	unsigned wait_reload;	/* waits for the outcome of this reload
				 * (ctl->reload_seq); 0: not waiting */
};

struct rate_sample {
	uint64_t t;
	uint64_t requests;
};

struct control {
	struct server *srv;
	struct ctl_socket sock;		/* lfd's file and directory */
	int lfd, sigfd, quitfd;
	pthread_t thread;
	bool started;
	struct client cl[CTL_CLIENTS_MAX];
	struct rate_sample rate[RATE_SAMPLES];
	unsigned nrate;
	uint64_t next_sample, next_kick;
	/* The syscall probes; requests served while they were attached. */
	struct probes *probes;
	uint64_t sc_requests;		/* before sc_requests_at */
	uint64_t sc_requests_at;	/* requests when last attached */
	/* On ([probes] syscalls, evctl syscalls on): attached for good, or,
	 * sampling, for sc_sample % of each second, toggled at sc_window. */
	bool sc_on;
	unsigned sc_sample;		/* 1..100 */
	uint64_t sc_window;		/* next attach or detach; 0: none */
	uint64_t sc_window_start;	/* when the last window opened */
	double cpu_user, cpu_sys;	/* the last CPU times shown */
	struct stats_total *tot;	/* scratch for totals(): this thread's */
	uint64_t accept_pause;		/* no accept before (EMFILE) */
	uint64_t next_emfile_log;

	/* Reloading and draining.  The lock orders the hand-over between
	 * this thread (which asks) and the main thread (which swaps between
	 * two runs of the model): pending, the drain deadline, and the
	 * server's draining/stopping/exiting flags change under it. */
	const char *cfg_path;
	char *const *overrides;
	int noverrides;
	pthread_mutex_t lock;
	struct config *pending;		/* the next configuration, if any */
	unsigned reload_seq;		/* reloads handed to the main thread */
	unsigned reload_taken;		/* the one the main thread swaps to */
	unsigned reload_done;		/* the last one whose swap is over */
	bool reload_ok;			/* how it went: */
	double reload_ms;		/*   drained in, when it went well */
	char reload_why[512];		/*   why not, otherwise */
	char not_applied[CONFIG_NAMES_MAX];	/* keys only a restart applies */
	int wakefd;			/* the main thread: a swap is over */
	struct client *cur;		/* whose command runs */
	uint64_t drain_deadline;	/* 0: not draining */
	unsigned drain_gen;		/* the run being drained */

	/* systemd: STATUS= every few seconds, WATCHDOG=1 while serving. */
	uint64_t next_status;
	uint64_t wd_usec, next_wd;
	uint64_t wd_accepted;		/* accepted at the previous check */
	bool wd_backlog;		/* connections waited at the last check */
	bool wd_stuck;
};

/* ---- output --------------------------------------------------------------- */

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->overflow)
		return;
	for (;;) {
		size_t room = o->cap - o->len;
		va_start(ap, fmt);
		int n = vsnprintf(o->data ? o->data + o->len : NULL,
				  o->data ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		if (cap > CTL_OUT_MAX) {
			o->overflow = true;
			return;
		}
		char *d = realloc(o->data, cap);
		if (!d) {
			o->overflow = true;
			return;
		}
		o->data = d;
		o->cap = cap;
	}
}

static void out_free(struct out *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}

/* ---- commands -------------------------------------------------------------- */

struct ctl_cmd {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args;
	void (*fn)(struct control *ctl, struct out *o, int argc, char **argv);
};

/* Every counter since start, summed into the control thread's scratch
 * (valid until the next call). */
static const struct stats_total *totals(const struct control *ctl)
{
	server_sum(ctl->srv, ctl->tot);
	return ctl->tot;
}

static double uptime_s(const struct control *ctl)
{
	return (double)(now_ns() - ctl->srv->sb->start_mono_ns) / 1e9;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* Adds the CPU time of a live process: the total in nanoseconds from
 * /proc/PID/schedstat, split between user and sys in the proportion of the
 * clock ticks in /proc/PID/stat (ticks alone are 10 ms coarse: a short-lived
 * worker would read 0).  With no tick yet, it counts as sys. */
/* Reads /proc/PID/NAME into buf (NUL-terminated); the length, or -1.
 * With read(2), not stdio: a worker forked by the main thread while this
 * thread is inside would inherit a FILE that nothing in it ever frees. */
static ssize_t read_proc(int pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static void proc_cpu(int pid, double *user, double *sys)
{
	char buf[1024];
	unsigned long long run_ns = 0;
	unsigned long ut = 0, st = 0;
	bool ticks = false;
	static long hz;

	if (!hz)
		hz = sysconf(_SC_CLK_TCK);
	if (read_proc(pid, "stat", buf, sizeof(buf)) < 0)
		return;
	/* Fields after the parenthesised command: state is the 3rd field,
	 * utime the 14th, stime the 15th. */
	char *p = strrchr(buf, ')');
	if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			"%lu %lu", &ut, &st) == 2)
		ticks = true;
	if (read_proc(pid, "schedstat", buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%llu", &run_ns) != 1)
		run_ns = 0;
	if (!run_ns) {
		if (ticks) {
			*user += (double)ut / (double)hz;
			*sys += (double)st / (double)hz;
		}
		return;
	}
	double total = (double)run_ns / 1e9;
	double u = ticks && ut + st ? total * (double)ut / (double)(ut + st) : 0;
	*user += u;
	*sys += total - u;
}

/* CPU time of the serving side: this process minus the control thread,
 * plus worker processes, live (from /proc) and reaped (RUSAGE_CHILDREN). */
static void serving_cpu(const struct server *srv, double *user, double *sys)
{
	struct rusage self, me, kids;

	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_THREAD, &me);
	*user = tv_s(self.ru_utime) - tv_s(me.ru_utime);
	*sys = tv_s(self.ru_stime) - tv_s(me.ru_stime);
	if (*user < 0)
		*user = 0;
	if (*sys < 0)
		*sys = 0;
	if (!(srv->model->flags & MODEL_PROCESSES))
		return;
	getrusage(RUSAGE_CHILDREN, &kids);
	*user += tv_s(kids.ru_utime);
	*sys += tv_s(kids.ru_stime);
	int me_pid = getpid();
	unsigned used = atomic_load(&srv->sb->used);
	for (unsigned i = 0; i < used && i < srv->sb->nslots; i++) {
		const struct stats_slot *sl = &srv->sb->slots[i];
		int pid = atomic_load_explicit(&sl->pid, memory_order_relaxed);
		if (pid > 0 && pid != me_pid &&
		    atomic_load_explicit(&sl->state, memory_order_relaxed) !=
			    WORKER_FREE)
			proc_cpu(pid, user, sys);
	}
}

static double request_rate(const struct control *ctl, uint64_t requests,
			   uint64_t now)
{
	/* The oldest sample no more than RATE_WINDOW_S seconds old. */
	const struct rate_sample *best = NULL;

	for (unsigned i = 0; i < ctl->nrate && i < RATE_SAMPLES; i++) {
		const struct rate_sample *s = &ctl->rate[i];
		if (now - s->t > (RATE_WINDOW_S + 0.5) * 1e9)
			continue;
		if (!best || s->t < best->t)
			best = s;
	}
	if (!best || now - best->t < 100000000u)
		return 0;
	return (double)(requests - best->requests) * 1e9 /
	       (double)(now - best->t);
}

/* `stats hist`: the exact latency sum, then the histogram's non-empty
 * buckets (evctl's Prometheus histogram and interval percentiles). */
static void stats_hist_lines(struct out *o, const struct stats_total *t)
{
	const struct hist_layout hl = stats_hist_layout;

	out_printf(o, CTL_KEY_LATENCY_SUM " %" PRIu64 "\n", t->lat_sum_ns);
	out_printf(o, CTL_WIRE_FIELDS " " CTL_BUCKET_FIELDS "\n");
	for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++)
		if (t->hist[i])
			out_printf(o, CTL_ROW_BUCKET " %" PRIu64 " %" PRIu64
				   " %" PRIu64 "\n", hist_bucket_low(hl, i),
				   hist_bucket_high(hl, i), t->hist[i]);
}

static void cmd_stats(struct control *ctl, struct out *o, int argc,
		      char **argv)
{
	struct server *srv = ctl->srv;
	bool hist = argc == 1 && strcmp(argv[0], CTL_STATS_HIST) == 0;

	if (argc == 1 && !hist) {
		out_printf(o, "ERROR usage: stats [hist]\n");
		return;
	}
	const struct stats_total *t = totals(ctl);
	char listen[CONFIG_MAX_LISTEN * 64];
	double user, sys;

	listeners_text(srv, listen, sizeof(listen));
	serving_cpu(srv, &user, &sys);
	/* A worker process's time leaves /proc before its reaping adds it
	 * to RUSAGE_CHILDREN: never show the total going back. */
	if (user < ctl->cpu_user)
		user = ctl->cpu_user;
	if (sys < ctl->cpu_sys)
		sys = ctl->cpu_sys;
	ctl->cpu_user = user;
	ctl->cpu_sys = sys;
	uint64_t now = now_ns();
	const struct hist_layout hl = stats_hist_layout;

	out_printf(o, "version %s\n", EVD_VERSION);
	out_printf(o, "pid %ld\n", (long)getpid());
	out_printf(o, "uptime_seconds %.3f\n", uptime_s(ctl));
	out_printf(o, "model %s\n", srv->model->name);
	out_printf(o, "protocol %s\n", srv->proto->name);
	out_printf(o, "workers %u\n", srv->workers);
	out_printf(o, "listen %s\n", listen);
	out_printf(o, "max_connections %u\n", srv->cfg->max_connections);
	out_printf(o, "connections_active %" PRIu64 "\n",
		   t->c[STAT_accepted] - t->c[STAT_closed]);
	for (int k = 0; k < STAT_MAX; k++)
		out_printf(o, "%s %" PRIu64 "\n", stat_keys[k], t->c[k]);
	out_printf(o, "request_rate %.1f\n",
		   request_rate(ctl, t->c[STAT_requests], now));
	out_printf(o, "latency_p50_us %.1f\n",
		   (double)hist_quantile(hl, t->hist, 0.50, t->lat_max_ns) / 1e3);
	out_printf(o, "latency_p90_us %.1f\n",
		   (double)hist_quantile(hl, t->hist, 0.90, t->lat_max_ns) / 1e3);
	out_printf(o, "latency_p99_us %.1f\n",
		   (double)hist_quantile(hl, t->hist, 0.99, t->lat_max_ns) / 1e3);
	out_printf(o, "latency_max_us %.1f\n", (double)t->lat_max_ns / 1e3);
	out_printf(o, "cpu_user_seconds %.3f\n", user);
	out_printf(o, "cpu_sys_seconds %.3f\n", sys);
	if (hist)
		stats_hist_lines(o, t);
	out_printf(o, "END\n");
}

static void cmd_ping(struct control *ctl, struct out *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	out_printf(o, "pid %ld\n", (long)getpid());
	out_printf(o, "uptime_seconds %.3f\n", uptime_s(ctl));
	out_printf(o, "END\n");
}

static void cmd_version(struct control *ctl, struct out *o, int argc,
			char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	out_printf(o, "version %s\n", EVD_VERSION);
	out_printf(o, "END\n");
}

static void cmd_help(struct control *ctl, struct out *o, int argc, char **argv);

/* One line per worker slot: live ones, or every slot ever used ("all"). */
static void cmd_workers(struct control *ctl, struct out *o, int argc,
			char **argv)
{
	const struct scoreboard *sb = ctl->srv->sb;
	bool all = argc == 1 && strcmp(argv[0], "all") == 0;

	if (argc == 1 && !all) {
		out_printf(o, "ERROR usage: workers [all]\n");
		return;
	}
	out_printf(o, CTL_WORKER_FIELDS_LINE "\n");
	unsigned used = atomic_load(&((struct scoreboard *)sb)->used);
	for (unsigned i = 0; i < used && i < sb->nslots; i++) {
		const struct stats_slot *s = &sb->slots[i];
#define LD(x) atomic_load_explicit(&s->x, memory_order_relaxed)
		int state = LD(state), role = LD(role);
		if (state == WORKER_FREE && !all)
			continue;
		uint64_t acc = LD(c[STAT_accepted]), clo = LD(c[STAT_closed]);
		/* Signed: a slot may close connections another accepted. */
		out_printf(o, "worker %u %s %d %d %s %" PRIu64 " %" PRId64 " %"
			   PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", i,
			   role >= 0 && role < ROLE_MAX ? worker_role_names[role]
							: "?",
			   LD(pid), LD(tid),
			   state >= 0 && state < WORKER_STATE_MAX ?
				   worker_state_names[state] : "?",
			   acc, (int64_t)(acc - clo), LD(c[STAT_requests]),
			   LD(c[STAT_bytes_in]), LD(c[STAT_bytes_out]),
			   LD(restarts));
#undef LD
	}
	out_printf(o, "END\n");
}

/* ---- syscalls: the eBPF probes ------------------------------------------------ */

#define SC_USAGE "syscalls [on|off|reset|workers|workers on|workers off|" \
		 "timing on|timing off|hist NAME|worker TID]"

static uint64_t requests_now(const struct control *ctl)
{
	return totals(ctl)->c[STAT_requests];
}

/* Requests served while the probes counted, since the last reset. */
static uint64_t sc_requests(const struct control *ctl)
{
	return ctl->sc_requests + (probes_enabled(ctl->probes) ?
				   requests_now(ctl) - ctl->sc_requests_at : 0);
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
	out_printf(o, "requests %" PRIu64 "\n", sc_requests(ctl));
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
	uint64_t req = requests_now(ctl);

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

/* Sampling: the window that opens now (the probes are attached). */
static void sc_open_window(struct control *ctl, uint64_t now)
{
	ctl->sc_window_start = now;
	ctl->sc_window = now + SC_PERIOD_NS * ctl->sc_sample / 100;
}

/* Turns the probes on (attached now: for good, or for the window that
 * opens now when sampling) or off.  0, or -1 with err filled (then off). */
static int sc_set(struct control *ctl, bool on, uint64_t now, char *err,
		  size_t errlen)
{
	ctl->sc_window = 0;
	if (probes_switch(ctl, on, err, errlen) < 0) {
		ctl->sc_on = false;
		return -1;
	}
	ctl->sc_on = on;
	if (on && ctl->sc_sample < 100)
		sc_open_window(ctl, now);
	return 0;
}

/* A sampling window closes (detach until the next period) or opens. */
static void sc_window(struct control *ctl, uint64_t now)
{
	char err[512] = "";

	if (!probes_enabled(ctl->probes)) {
		if (sc_set(ctl, true, now, err, sizeof(err)) < 0)
			log_warnx("syscall probes: cannot attach them for the "
				  "next sampling window: %s; they are off",
				  err);
		return;
	}
	if (probes_switch(ctl, false, err, sizeof(err)) < 0)
		return;		/* detaching does not fail */
	ctl->sc_window = ctl->sc_window_start + SC_PERIOD_NS;
	if (ctl->sc_window <= now)
		ctl->sc_window = now + 1;
}

/* [probes] sample changed to pct: windows from now on. */
static void sc_set_sample(struct control *ctl, unsigned pct, uint64_t now)
{
	char err[512] = "";

	ctl->sc_sample = pct;
	if (ctl->sc_on && sc_set(ctl, true, now, err, sizeof(err)) < 0)
		log_warnx("syscall probes: cannot attach them: %s; they are "
			  "off", err);
}

static void sc_switch(struct control *ctl, struct out *o, bool on)
{
	char err[512] = "";
	bool was = ctl->sc_on;

	if (sc_set(ctl, on, now_ns(), err, sizeof(err)) < 0) {
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
	ctl->sc_requests_at = requests_now(ctl);
	out_printf(o, "state %s\n", ctl->sc_on ? "on" : "off");
	out_printf(o, "END\n");
}

static void cmd_syscalls(struct control *ctl, struct out *o, int argc,
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

static void cmd_quit(struct control *ctl, struct out *o, int argc, char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	out_printf(o, "END\n");
}

/* What a reload came to, for evctl (cmd_reload) and the log. */
enum reload_result {
	RL_UNCHANGED,
	RL_APPLIED,		/* live keys only */
	RL_RESTARTING,		/* the serving side drains; the main thread
				 * reports how the swap went */
	RL_REFUSED,		/* nothing changed: why says why */
};

struct reload_outcome {
	enum reload_result result;
	char why[900];				/* RL_REFUSED */
	char not_applied[CONFIG_NAMES_MAX];	/* keys only a restart applies */
};

static void on_reload(struct control *ctl, struct reload_outcome *out);
static void cmd_reload_reply(struct control *ctl, struct out *o,
			     const struct reload_outcome *r);

/* reload: answered at once when nothing restarts or the file is refused;
 * otherwise once the main thread has swapped the serving side (the client
 * waits: control_reload_done(), reply_waiters()). */
static void cmd_reload(struct control *ctl, struct out *o, int argc,
		       char **argv)
{
	struct reload_outcome *r = malloc(sizeof(*r));

	(void)argc;
	(void)argv;
	if (!r) {
		out_printf(o, "ERROR reload refused: out of memory\n");
		return;
	}
	log_info("reload asked for on the control socket");
	on_reload(ctl, r);
	cmd_reload_reply(ctl, o, r);
	free(r);
}

static const struct ctl_cmd commands[] = {
	{ "stats", "[hist]", "counters, latency and CPU time", 0, 1,
	  cmd_stats },
	{ "workers", "[all]", "one line per worker: role, pid, state, counters",
	  0, 1, cmd_workers },
	{ "syscalls", SC_USAGE + sizeof("syscalls"),
	  "system calls of evd's processes, from the eBPF probes", 0, 2,
	  cmd_syscalls },
	{ "reload", "", "re-read the configuration, as SIGHUP does", 0, 0,
	  cmd_reload },
	{ "ping", "", "liveness: pid and uptime", 0, 0, cmd_ping },
	{ "version", "", "daemon version", 0, 0, cmd_version },
	{ "help", "", "this list", 0, 0, cmd_help },
	{ "quit", "", "close this connection", 0, 0, cmd_quit },
};

static void cmd_help(struct control *ctl, struct out *o, int argc, char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		out_printf(o, "%s%s%s %s\n", commands[i].name,
			   commands[i].args[0] ? " " : "", commands[i].args,
			   commands[i].help);
	out_printf(o, "END\n");
}

/* Runs one command line; returns true if the client asked to leave. */
/* Commands that change evd's state: root and evd's own user only.  The
 * rest is for whoever may connect (the socket's mode and group). */
static bool changes_state(int argc, char **argv)
{
	if (strcmp(argv[0], "reload") == 0)
		return true;
	return strcmp(argv[0], "syscalls") == 0 && argc >= 2 &&
	       (strcmp(argv[1], "on") == 0 || strcmp(argv[1], "off") == 0 ||
		strcmp(argv[1], "reset") == 0 ||
		(strcmp(argv[1], "workers") == 0 && argc >= 3) ||
		(strcmp(argv[1], "timing") == 0 && argc >= 3));
}

static bool execute(struct control *ctl, struct out *o, char *line,
		    size_t len, struct client *c)
{
	char *argv[CTL_ARGS_MAX];
	unsigned char bad = 0;
	int argc = ctl_split(line, len, argv, CTL_ARGS_MAX, &bad);

	if (argc < 0) {
		out_printf(o, "ERROR invalid byte 0x%02x in command (expected "
			   "printable ASCII)\n", bad);
		return false;
	}
	if (argc == 0)
		return false;	/* blank line: nothing to do */
	if (argc > CTL_ARGS_MAX) {
		out_printf(o, "ERROR too many words (at most %d)\n", CTL_ARGS_MAX);
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_cmd *cmd = &commands[i];
		if (strcmp(argv[0], cmd->name) != 0)
			continue;
		if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
			out_printf(o, "ERROR usage: %s%s%s\n", cmd->name,
				   cmd->args[0] ? " " : "", cmd->args);
			return false;
		}
		if (!c->privileged && changes_state(argc, argv)) {
			/* The command's words, up to "syscalls timing on". */
			const char *a1 = argc > 1 ? argv[1] : "",
				   *a2 = argc > 2 ? argv[2] : "";
			out_printf(o, "ERROR permission denied: \"%s%s%s%s%s\" "
				   "changes evd's state: only root or evd's user "
				   "(uid %u) may; you are uid %u\n", argv[0],
				   *a1 ? " " : "", a1, *a2 ? " " : "", a2,
				   (unsigned)geteuid(), (unsigned)c->uid);
			log_warnx("control: uid %u was refused \"%s%s%s%s%s\"",
				  (unsigned)c->uid, argv[0], *a1 ? " " : "", a1,
				  *a2 ? " " : "", a2);
			return false;
		}
		ctl->cur = c;
		cmd->fn(ctl, o, argc - 1, argv + 1);
		ctl->cur = NULL;
		return cmd->fn == cmd_quit;
	}
	char name[40];
	snprintf(name, sizeof(name), "%s", argv[0]);
	out_printf(o, "ERROR unknown command \"%s\" (try: help)\n", name);
	return false;
}

/* ---- clients ------------------------------------------------------------------ */

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
	out_free(&c->out);
}

/* A free slot for a new client, or NULL with the refusal in *why: the last
 * CTL_RESERVED slots are for root and evd's own user only, so that other
 * users, however many connections they open, never lock them out. */
static struct client *client_slot(struct control *ctl, bool privileged,
				  const char **why)
{
	struct client *free_slot = NULL;
	unsigned others = 0;

	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		const struct client *c = &ctl->cl[i];
		if (c->fd < 0 && !free_slot)
			free_slot = &ctl->cl[i];
		else if (c->fd >= 0 && !c->privileged)
			others++;
	}
	if (!free_slot) {
		*why = "ERROR too many control clients (at most "
		       STR(CTL_CLIENTS_MAX) "); try again\n";
		return NULL;
	}
	if (!privileged && others >= CTL_CLIENTS_MAX - CTL_RESERVED) {
		*why = "ERROR too many control clients (at most "
		       STR(CTL_OTHERS_MAX) " for users other than root and "
		       "evd's own; " STR(CTL_RESERVED) " are kept for them); "
		       "try again\n";
		return NULL;
	}
	return free_slot;
}

/* The peer's uid (SO_PEERCRED), or -1. */
static uid_t peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return (uid_t)-1;
	return cred.uid;
}

static void client_accept(struct control *ctl, uint64_t now)
{
	for (;;) {
		int fd = accept4(ctl->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EMFILE || e == ENFILE) {
				ctl->accept_pause = now + 100000000ull;
				if (now >= ctl->next_emfile_log) {
					log_warnx("control socket: accept: %s; "
						  "evctl clients wait until "
						  "descriptors free up",
						  strerror(e));
					ctl->next_emfile_log = now +
						10000000000ull;
				}
			} else if (e != EAGAIN && e != EINTR &&
				   e != ECONNABORTED) {
				log_warn("control socket: accept");
			}
			return;
		}
		uid_t uid = peer_uid(fd);
		bool privileged = uid == 0 || uid == geteuid();
		const char *why = NULL;
		struct client *c = client_slot(ctl, privileged, &why);
		if (!c) {
			ssize_t w = send(fd, why, strlen(why),
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			(void)w;
			close(fd);
			continue;
		}
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->deadline = now + CTL_IDLE_MS * 1000000ull;
		c->uid = uid;
		c->privileged = privileged;
	}
}

/* True when the n bytes at p are spaces and tabs only. */
static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* Executes every complete line in the client's buffer.  An over-long line
 * gets one error and is dropped up to its newline; the connection goes on. */
static void client_lines(struct control *ctl, struct client *c)
{
	size_t start = 0;

	while (!c->closing && !c->wait_reload && start < c->inlen &&
	       c->out.len < CTL_OUT_MAX / 2) {
		char *nl = memchr(c->in + start, '\n', c->inlen - start);
		if (!nl)
			break;
		size_t next = (size_t)(nl - c->in) + 1;
		if (c->discarding) {
			c->discarding = false;
			start = next;
			continue;
		}
		size_t len = (size_t)(nl - c->in) - start;
		if (len && c->in[start + len - 1] == '\r')
			len--;
		/* A command is activity; a blank line is not. */
		if (!blank(c->in + start, len))
			c->deadline = now_ns() + CTL_IDLE_MS * 1000000ull;
		if (execute(ctl, &c->out, c->in + start, len, c))
			c->closing = true;
		start = next;
	}
	memmove(c->in, c->in + start, c->inlen - start);
	c->inlen -= start;
	if (c->out.overflow) {
		out_free(&c->out);
		out_printf(&c->out, "ERROR reply too large\n");
		c->closing = true;
	}
	if (!c->closing && c->inlen > CTL_LINE_MAX) {
		if (!c->discarding)
			out_printf(&c->out, "ERROR line too long (at most %d "
				   "bytes)\n", CTL_LINE_MAX);
		c->discarding = true;
		c->inlen = 0;
	}
	if (c->closing)
		c->inlen = 0;
}

static void client_read(struct control *ctl, struct client *c, uint64_t now)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);

	if (n == 0) {
		c->eof = true;
	} else if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		c->eof = true;
		c->closing = true;
		c->out.len = c->out.off = 0;
		return;
	} else {
		/* Not activity yet: only a command line is (client_lines()). */
		c->inlen += (size_t)n;
	}
	(void)now;
	client_lines(ctl, c);
	if (c->eof && !c->wait_reload)
		c->closing = true;	/* after the reply it waits for */
}

static void client_write(struct client *c, uint64_t now)
{
	while (c->out.off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out.off,
				 c->out.len - c->out.off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			c->out.off = c->out.len = 0;
			c->closing = true;
			return;
		}
		c->out.off += (size_t)n;
		c->deadline = now + CTL_IDLE_MS * 1000000ull;
	}
	c->out.off = c->out.len = 0;
}

/* ---- the thread ---------------------------------------------------------------- */

/* Starts draining the current run: the model stops accepting and returns
 * once its connections are done, or when the deadline forces it.  Called
 * with ctl->lock held. */
static void drain_start(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;
	uint64_t ms = srv->cfg->drain_timeout_ms;

	if (server_draining(srv) || server_stopping(srv))
		return;
	ctl->drain_gen = srv->generation;
	srv->drain_started_ns = now;
	if (ms == 0) {
		atomic_store(&srv->stopping, true);
	} else {
		atomic_store(&srv->draining, true);
		ctl->drain_deadline = now + ms * 1000000ull;
	}
	server_kick(srv);
	ctl->next_kick = now + KICK_INTERVAL_MS * 1000000ull;
}

/* The drain took longer than drain_timeout: close what is left.  Only
 * the run that was asked to drain; a new one may have started since. */
static void drain_check(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;

	pthread_mutex_lock(&ctl->lock);
	if (ctl->drain_deadline && now >= ctl->drain_deadline &&
	    ctl->drain_gen == srv->generation && server_draining(srv) &&
	    !server_stopping(srv)) {
		const struct stats_total *t = totals(ctl);
		uint64_t open = t->c[STAT_accepted] - t->c[STAT_closed];
		log_warnx("drain_timeout (%" PRIu64 " ms) is over: closing the "
			  "%" PRIu64 " connection%s still open",
			  srv->cfg->drain_timeout_ms, open, open == 1 ? "" : "s");
		atomic_store(&srv->stopping, true);
		server_kick(srv);
		ctl->drain_deadline = 0;
	}
	pthread_mutex_unlock(&ctl->lock);
}

static void on_stop_signal(struct control *ctl, const char *name)
{
	struct server *srv = ctl->srv;
	uint64_t now = now_ns();

	pthread_mutex_lock(&ctl->lock);
	if (atomic_load(&srv->exiting)) {
		if (!server_stopping(srv)) {
			log_info("%s again: stopping now, without waiting for the "
				 "connections still open", name);
			atomic_store(&srv->stopping, true);
			server_kick(srv);
		}
	} else {
		bool reloading = server_draining(srv);
		atomic_store(&srv->exiting, true);
		notify_stopping();
		drain_start(ctl, now);
		/* After the flags: a worker woken by it finds them set.  Before
		 * the log line: once it is out, connecting is refused. */
		unsigned shut = listeners_shut(srv);
		const char *how = srv->activated ? "; the sockets systemd passed "
			"stay open (it queues new connections for the next start)"
			: shut ? "; new connections are refused" : "";
		if (reloading)
			log_info("%s: stopping once the reload's drain is over "
				 "(the new configuration is not applied)%s", name,
				 how);
		else if (srv->cfg->drain_timeout_ms)
			log_info("%s: draining (requests in flight get up to "
				 "%" PRIu64 " ms), then stopping%s", name,
				 srv->cfg->drain_timeout_ms, how);
		else
			log_info("%s: stopping (drain_timeout = 0)%s", name, how);
	}
	pthread_mutex_unlock(&ctl->lock);
}

static void status_update(struct control *ctl, uint64_t now);

/* Reads the file for a reload; NULL when refused (logged, why set). */
static struct config *reload_read(struct control *ctl,
				  struct reload_outcome *out)
{
	static struct config_errors errs, warns;
	struct config *next = malloc(sizeof(*next));

	if (!next) {
		snprintf(out->why, sizeof(out->why), "out of memory; still "
			 "serving with the previous configuration");
		log_errorx("reload: out of memory; still serving with the "
			   "previous configuration");
		return NULL;
	}
	if (config_read(next, ctl->cfg_path, ctl->overrides, ctl->noverrides,
			&errs, &warns) < 0) {
		for (unsigned i = 0; i < errs.n; i++)
			log_errorx("reload: %s", errs.msg[i]);
		unsigned n = errs.n + errs.dropped;
		log_errorx("reload refused: %s has %u error%s; still serving "
			   "with the previous configuration (evd -t -c %s "
			   "shows them)", ctl->cfg_path, n, n == 1 ? "" : "s",
			   ctl->cfg_path);
		notify_status("reload refused: %u error%s in %s; serving with "
			      "the previous configuration", n, n == 1 ? "" : "s",
			      ctl->cfg_path);
		snprintf(out->why, sizeof(out->why), "%s%s (evd -t -c %s shows "
			 "%s); still serving with the previous configuration",
			 errs.n ? errs.msg[0] : "errors", n > 1 ? " and more" :
			 "", ctl->cfg_path, n > 1 ? "them all" : "it");
		free(next);
		return NULL;
	}
	for (unsigned i = 0; i < warns.n; i++)
		log_warnx("reload: %s", warns.msg[i]);
	return next;
}

/* The keys that apply without touching a connection ([log] level, the
 * probes' switches): into cur at once. */
static void reload_live(struct control *ctl, struct config *cur,
			struct config *next)
{
	char err[512] = "";

	log_set_level(next->log_level);
	cur->log_level = next->log_level;
	if (!ctl->probes)
		return;
	if (next->probes_syscalls != cur->probes_syscalls) {
		bool on = next->probes_syscalls != PROBES_OFF;
		if (sc_set(ctl, on, now_ns(), err, sizeof(err)) < 0)
			log_warnx("reload: [probes] syscalls = %s: cannot load "
				  "the syscall probes: %s; they stay off",
				  probes_mode_names[next->probes_syscalls], err);
		cur->probes_syscalls = next->probes_syscalls;
	}
	if (next->probes_timing != cur->probes_timing) {
		if (probes_set_timing(ctl->probes, next->probes_timing, err,
				      sizeof(err)) < 0)
			log_warnx("reload: [probes] timing = yes: %s; counting "
				  "calls and errors only", err);
		cur->probes_timing = next->probes_timing =
			probes_timing(ctl->probes);
	}
	if (next->probes_sample != cur->probes_sample) {
		sc_set_sample(ctl, next->probes_sample, now_ns());
		cur->probes_sample = next->probes_sample;
	}
}

/* Hands next to the main thread and drains the current run.  false when
 * evd is stopping (nothing is applied; why set). */
static bool reload_restart(struct control *ctl, struct config *next,
			   const char *names, struct reload_outcome *out)
{
	struct server *srv = ctl->srv;

	pthread_mutex_lock(&ctl->lock);
	if (atomic_load(&srv->exiting)) {
		pthread_mutex_unlock(&ctl->lock);
		log_warnx("reload: evd is stopping; the new configuration is "
			  "not applied");
		snprintf(out->why, sizeof(out->why), "evd is stopping (the new "
			 "configuration is not applied)");
		free(next);
		return false;
	}
	free(ctl->pending);	/* a reload during a reload: the newest wins */
	ctl->pending = next;
	ctl->reload_seq++;
	if (!server_draining(srv)) {
		int rc = listeners_steer(srv);
		if (rc < 0)
			log_warnx("reload: cannot steer new connections to one "
				  "SO_REUSEPORT socket while the others drain: %s; "
				  "connections queued on the sockets that close "
				  "may be reset", strerror(-rc));
	}
	log_info("reload: %s changed: restarting the serving side (requests "
		 "in flight finish; the listening sockets stay open)", names);
	drain_start(ctl, now_ns());
	pthread_mutex_unlock(&ctl->lock);
	return true;
}

/* SIGHUP, evctl reload: re-reads the configuration.  A broken file changes
 * nothing; live keys apply at once; a change of any serving key drains the
 * current run, and the main thread starts the next one with the new
 * configuration on the same listening sockets (control_reload_done() says
 * how that went). */
static void on_reload(struct control *ctl, struct reload_outcome *out)
{
	struct server *srv = ctl->srv;
	struct config *cur = (struct config *)srv->cfg;
	char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];

	memset(out, 0, sizeof(*out));
	out->result = RL_REFUSED;
	notify_reloading();
	log_info("SIGHUP: reloading %s", ctl->cfg_path);
	struct config *next = reload_read(ctl, out);
	if (!next)
		goto ready;
	unsigned changed = config_compare(cur, next, names);
	if (changed & (1u << RELOAD_RESTART)) {
		log_warnx("reload: %s changed: only a restart of evd applies "
			  "that (systemctl restart evd); keeping the running "
			  "value", names[RELOAD_RESTART]);
		snprintf(out->not_applied, sizeof(out->not_applied), "%s",
			 names[RELOAD_RESTART]);
		memcpy(next->control_socket, cur->control_socket,
		       sizeof(next->control_socket));
		next->control_mode = cur->control_mode;
		memcpy(next->control_group, cur->control_group,
		       sizeof(next->control_group));
		memcpy(next->user, cur->user, sizeof(next->user));
	}
	if (changed & (1u << RELOAD_LIVE)) {
		reload_live(ctl, cur, next);
		log_info("reload: applied at once: %s", names[RELOAD_LIVE]);
	}
	out->result = changed ? RL_APPLIED : RL_UNCHANGED;
	if (!changed)
		log_info("reload: %s has no change", ctl->cfg_path);
	if (!(changed & (1u << RELOAD_SERVING))) {
		free(next);
		goto ready;
	}
	if (reload_restart(ctl, next, names[RELOAD_SERVING], out)) {
		/* The main thread says READY=1 once the new run starts. */
		out->result = RL_RESTARTING;
		return;
	}
	out->result = RL_REFUSED;
ready:
	notify_ready();
	status_update(ctl, now_ns());
}

/* The reply to reload: at once, or (restarting) the client waits. */
static void cmd_reload_reply(struct control *ctl, struct out *o,
			     const struct reload_outcome *r)
{
	static const char *const word[] = { "unchanged", "applied" };
	struct client *c = ctl->cur;

	if (r->result == RL_REFUSED) {
		out_printf(o, "ERROR reload refused: %s\n", r->why);
		return;
	}
	if (r->result == RL_RESTARTING) {
		snprintf(ctl->not_applied, sizeof(ctl->not_applied), "%s",
			 r->not_applied);
		c->wait_reload = ctl->reload_seq;
		c->deadline = UINT64_MAX;
		return;
	}
	out_printf(o, "reload %s\n", word[r->result]);
	if (r->not_applied[0])
		out_printf(o, "not_applied %s\n", r->not_applied);
	out_printf(o, "END\n");
}

/* The outcome of the swap the client waited for. */
static void reload_waited(struct control *ctl, struct client *c)
{
	if (ctl->reload_ok) {
		out_printf(&c->out, "reload restarted\ndrained_ms %.0f\n",
			   ctl->reload_ms);
		if (ctl->not_applied[0])
			out_printf(&c->out, "not_applied %s\n",
				   ctl->not_applied);
		out_printf(&c->out, "END\n");
	} else {
		out_printf(&c->out, "ERROR reload failed: %s; still serving "
			   "with the previous configuration\n",
			   ctl->reload_why);
	}
	c->wait_reload = 0;
}

/* The main thread has swapped (control_reload_done()): answer the clients
 * that waited for it, then run what they sent meanwhile. */
static void reply_waiters(struct control *ctl, uint64_t now)
{
	uint64_t v;
	ssize_t r = read(ctl->wakefd, &v, sizeof(v));

	(void)r;
	pthread_mutex_lock(&ctl->lock);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->cl[i];
		if (c->fd < 0 || !c->wait_reload ||
		    (int)(ctl->reload_done - c->wait_reload) < 0)
			continue;
		reload_waited(ctl, c);
		c->deadline = now + CTL_IDLE_MS * 1000000ull;
	}
	pthread_mutex_unlock(&ctl->lock);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->cl[i];
		if (c->fd < 0 || c->wait_reload)
			continue;
		client_lines(ctl, c);
		if (c->eof)
			c->closing = true;
	}
}

static void on_signal(struct control *ctl)
{
	struct signalfd_siginfo si;

	while (read(ctl->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
			on_stop_signal(ctl, "SIGTERM");
			break;
		case SIGINT:
			on_stop_signal(ctl, "SIGINT");
			break;
		case SIGHUP: {
			struct reload_outcome out;
			on_reload(ctl, &out);
			break;
		}
		default:
			break;
		}
	}
}

/* Connections waiting in the listeners' accept queues. */
static unsigned accept_queue(struct server *srv)
{
	unsigned n = 0;

	for (unsigned k = 0; k < srv->nsets; k++) {
		const struct listener *set = server_set(srv, k);
		for (unsigned i = 0; i < srv->nlis; i++) {
			struct tcp_info ti;
			socklen_t len = sizeof(ti);
			/* For a listener, tcpi_unacked is its accept queue. */
			if (set[i].fd >= 0 &&
			    getsockopt(set[i].fd, IPPROTO_TCP, TCP_INFO, &ti,
				       &len) == 0)
				n += ti.tcpi_unacked;
		}
	}
	return n;
}

/* WATCHDOG=1 every half period while the serving side makes progress:
 * it is stuck when connections wait to be accepted at two checks in a row
 * and none was accepted in between (a hung worker pool; an idle evd is
 * fine).  A drain is bounded by drain_timeout and not checked. */
static void watchdog_check(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;
	const struct stats_total *t = totals(ctl);
	uint64_t accepted = t->c[STAT_accepted] + t->c[STAT_refused];

	ctl->next_wd = now + ctl->wd_usec * 1000 / 2;
	bool backlog = !server_winding_down(srv) && accept_queue(srv) > 0;
	bool stuck = backlog && ctl->wd_backlog && accepted == ctl->wd_accepted;
	ctl->wd_accepted = accepted;
	ctl->wd_backlog = backlog;
	if (stuck != ctl->wd_stuck) {
		if (stuck)
			log_warnx("watchdog: connections wait to be accepted and "
				  "no worker accepted one for %.1f s: not "
				  "telling systemd that evd is alive",
				  (double)ctl->wd_usec / 2e6);
		else
			log_info("watchdog: the workers accept again");
		ctl->wd_stuck = stuck;
	}
	if (!stuck)
		notify_watchdog();
}

static void status_update(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;
	const struct stats_total *t = totals(ctl);

	ctl->next_status = now + STATUS_INTERVAL_MS * 1000000ull;
	notify_status("%s %s: %" PRIu64 " connections, %.1f requests/s, %"
		      PRIu64 " requests since start%s", srv->proto->name,
		      srv->model->name, t->c[STAT_accepted] - t->c[STAT_closed],
		      request_rate(ctl, t->c[STAT_requests], now),
		      t->c[STAT_requests],
		      atomic_load(&srv->exiting) ? " (stopping)" :
		      server_draining(srv) ? " (reloading)" : "");
}

static void sample_rate(struct control *ctl, uint64_t now)
{
	ctl->rate[ctl->nrate % RATE_SAMPLES] =
		(struct rate_sample){ .t = now, .requests = requests_now(ctl) };
	ctl->nrate++;
	ctl->next_sample = now + 1000000000ull;
}

static int ms_until(uint64_t when, uint64_t now)
{
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999999) / 1000000;
	return ms > 60000 ? 60000 : (int)ms;
}

static void *control_main(void *arg)
{
	struct control *ctl = arg;
	struct pollfd pfd[4 + CTL_CLIENTS_MAX];
	int map[4 + CTL_CLIENTS_MAX];
	sigset_t all;

	/* Signals are for the serving side (SIGCHLD, SIGKICK) or read here
	 * through signalfd (SIGTERM, SIGINT, SIGHUP). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* This thread's calls (answering evctl) are not evd's serving work. */
	if (ctl->probes && probes_ignore_thread(ctl->probes) < 0)
		log_warnx("syscall probes: cannot leave the control thread out");

	pthread_rwlock_rdlock(&ctl->srv->swap_lock);
	sample_rate(ctl, now_ns());
	status_update(ctl, now_ns());
	ctl->wd_usec = notify_watchdog_usec();
	if (ctl->wd_usec)
		watchdog_check(ctl, now_ns());
	for (;;) {
		uint64_t now = now_ns();
		int timeout = ms_until(ctl->next_sample, now);
		unsigned n = 0;

		if (server_winding_down(ctl->srv)) {
			/* Blocking models notice only when interrupted. */
			if (ctl->next_kick <= now) {
				server_kick(ctl->srv);
				ctl->next_kick = now + KICK_INTERVAL_MS * 1000000ull;
			}
			int k = ms_until(ctl->next_kick, now);
			if (k < timeout)
				timeout = k;
			if (ctl->drain_deadline) {
				k = ms_until(ctl->drain_deadline, now);
				if (k < timeout)
					timeout = k;
			}
		}
		if (ms_until(ctl->next_status, now) < timeout)
			timeout = ms_until(ctl->next_status, now);
		if (ctl->wd_usec && ms_until(ctl->next_wd, now) < timeout)
			timeout = ms_until(ctl->next_wd, now);
		if (ctl->sc_window && ms_until(ctl->sc_window, now) < timeout)
			timeout = ms_until(ctl->sc_window, now);
		pfd[n++] = (struct pollfd){ .fd = ctl->quitfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ctl->sigfd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = ctl->wakefd, .events = POLLIN };
		/* Out of descriptors: the socket waits a little (a pending
		 * client would wake poll at once, again and again). */
		bool paused = now < ctl->accept_pause;
		pfd[n++] = (struct pollfd){ .fd = paused ? -1 : ctl->lfd,
					    .events = POLLIN };
		if (paused && ms_until(ctl->accept_pause, now) < timeout)
			timeout = ms_until(ctl->accept_pause, now);
		for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
			struct client *c = &ctl->cl[i];
			if (c->fd < 0)
				continue;
			short ev = 0;
			if (!c->closing && !c->eof && c->out.len < CTL_OUT_MAX / 2)
				ev |= POLLIN;
			if (c->out.len > c->out.off)
				ev |= POLLOUT;
			int left = ms_until(c->deadline, now);
			if (left < timeout)
				timeout = left;
			map[n] = i;
			pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		}
		/* Between two rounds the main thread may swap the serving
		 * side (a reload). */
		pthread_rwlock_unlock(&ctl->srv->swap_lock);
		int r = poll(pfd, n, timeout);
		pthread_rwlock_rdlock(&ctl->srv->swap_lock);
		if (r < 0 && errno != EINTR) {
			log_error("control thread: poll");
			break;
		}
		now = now_ns();
		if (r > 0 && pfd[0].revents)
			break;
		if (r > 0 && pfd[1].revents)
			on_signal(ctl);
		if (r > 0 && pfd[2].revents)
			reply_waiters(ctl, now);
		if (r > 0 && pfd[3].revents)
			client_accept(ctl, now);
		for (unsigned i = 4; r > 0 && i < n; i++) {
			struct client *c = &ctl->cl[map[i]];
			if (c->wait_reload &&
			    (pfd[i].revents & (POLLHUP | POLLERR))) {
				/* Gone while it waited for its reload: no one
				 * to answer (and POLLHUP would wake us at
				 * once, again and again). */
				client_close(c);
				continue;
			}
			if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
				client_read(ctl, c, now);
			if (c->out.len > c->out.off)
				client_write(c, now);
			if (!c->closing && !c->wait_reload && c->inlen &&
			    c->out.len < CTL_OUT_MAX / 2)
				client_lines(ctl, c);
		}
		for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
			struct client *c = &ctl->cl[i];
			if (c->fd < 0)
				continue;
			bool flushed = c->out.len == c->out.off;
			if ((c->closing && flushed && !c->wait_reload) ||
			    c->deadline <= now)
				client_close(c);
		}
		if (now >= ctl->next_sample)
			sample_rate(ctl, now);
		if (ctl->drain_deadline && now >= ctl->drain_deadline)
			drain_check(ctl, now);
		if (now >= ctl->next_status)
			status_update(ctl, now);
		if (ctl->wd_usec && now >= ctl->next_wd)
			watchdog_check(ctl, now);
		if (ctl->sc_window && now >= ctl->sc_window)
			sc_window(ctl, now);
	}
	pthread_rwlock_unlock(&ctl->srv->swap_lock);
	return NULL;
}

/* ---- socket setup ------------------------------------------------------------- */

/* Who the control socket is for: its group ([control] group, else the
 * primary group of [server] user, else -1: evd's own, unchanged) and evd's
 * user (who besides root may own its directory: [server] user, else the
 * user evd runs as).  0, or -1 with err. */
static int socket_owner(const struct config *cfg, gid_t *gid, uid_t *uid,
			char *err, size_t errlen)
{
	char buf[4096];

	*gid = (gid_t)-1;
	*uid = geteuid();
	if (cfg->user[0]) {
		struct passwd pw, *p = NULL;
		if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &p) || !p) {
			snprintf(err, errlen, "[server] user = %s: no such user "
				 "(create it, e.g. with systemd-sysusers, or "
				 "leave user empty)", cfg->user);
			return -1;
		}
		*gid = p->pw_gid;
		*uid = p->pw_uid;
	}
	if (cfg->control_group[0]) {
		struct group gr, *g = NULL;
		if (getgrnam_r(cfg->control_group, &gr, buf, sizeof(buf), &g) ||
		    !g) {
			snprintf(err, errlen, "[control] group = %s: no such "
				 "group (create it, e.g. groupadd --system %s, "
				 "or leave group empty)", cfg->control_group,
				 cfg->control_group);
			return -1;
		}
		*gid = g->gr_gid;
	}
	return 0;
}

static int bind_socket(struct control *ctl, char *err, size_t errlen)
{
	const struct config *cfg = ctl->srv->cfg;
	gid_t gid;
	uid_t uid;

	if (socket_owner(cfg, &gid, &uid, err, errlen) < 0)
		return -1;
	ctl->lfd = ctl_socket_open(&ctl->sock, cfg->control_socket,
				   cfg->control_mode, gid, uid, err, errlen);
	if (ctl->lfd < 0)
		return -1;
	if (ctl->sock.made_dir)
		log_info("created the directory of control socket %s",
			 ctl->sock.path);
	if (ctl->sock.removed_stale)
		log_info("replaced the stale control socket %s",
			 ctl->sock.path);
	return 0;
}

struct control *control_open(struct server *srv, char *err, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	sigset_t set;

	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->srv = srv;
	ctl->lfd = ctl->sigfd = ctl->quitfd = ctl->wakefd = -1;
	ctl->sock.dirfd = -1;
	pthread_mutex_init(&ctl->lock, NULL);
	ctl->tot = malloc(sizeof(*ctl->tot));
	if (!ctl->tot) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		ctl->cl[i].fd = -1;
	if (bind_socket(ctl, err, errlen) < 0)
		goto fail;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	ctl->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ctl->quitfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ctl->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctl->sigfd < 0 || ctl->quitfd < 0 || ctl->wakefd < 0) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		goto fail;
	}
	return ctl;
fail:
	control_stop(ctl);
	return NULL;
}

void control_set_probes(struct control *ctl, struct probes *probes)
{
	ctl->probes = probes;
	ctl->sc_on = probes_enabled(probes);
	ctl->sc_sample = ctl->srv->cfg->probes_sample;
	/* The first window opens now. */
	if (ctl->sc_on && ctl->sc_sample < 100) {
		sc_open_window(ctl, now_ns());
		log_info("syscall probes sampled: attached %u %% of each second "
			 "([probes] sample)", ctl->sc_sample);
	}
}

void control_set_reload(struct control *ctl, const char *path,
			char *const *overrides, int noverrides)
{
	ctl->cfg_path = path;
	ctl->overrides = overrides;
	ctl->noverrides = noverrides;
}

struct config *control_next_run(struct control *ctl)
{
	struct config *next = NULL;

	pthread_mutex_lock(&ctl->lock);
	if (!atomic_load(&ctl->srv->exiting)) {
		next = ctl->pending;
		ctl->pending = NULL;
		ctl->reload_taken = ctl->reload_seq;
	}
	pthread_mutex_unlock(&ctl->lock);
	return next;
}

bool control_resume(struct control *ctl)
{
	struct server *srv = ctl->srv;
	bool run = false;

	pthread_mutex_lock(&ctl->lock);
	srv->generation++;
	ctl->drain_deadline = 0;
	if (!atomic_load(&srv->exiting)) {
		atomic_store(&srv->stopping, false);
		atomic_store(&srv->draining, false);
		run = true;
	}
	pthread_mutex_unlock(&ctl->lock);
	return run;
}

void control_reload_done(struct control *ctl, double drained_ms,
			 const char *why)
{
	uint64_t one = 1;

	pthread_mutex_lock(&ctl->lock);
	ctl->reload_done = ctl->reload_taken;
	ctl->reload_ok = !why;
	ctl->reload_ms = drained_ms;
	snprintf(ctl->reload_why, sizeof(ctl->reload_why), "%s", why ? why : "");
	pthread_mutex_unlock(&ctl->lock);
	ssize_t w = write(ctl->wakefd, &one, sizeof(one));
	(void)w;
}

int control_run(struct control *ctl, char *err, size_t errlen)
{
	/* The thread inherits the caller's mask: SIGTERM & co. are blocked
	 * (read through signalfd), and so is SIGKICK. */
	int rc = pthread_create(&ctl->thread, NULL, control_main, ctl);
	if (rc) {
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		return -1;
	}
	ctl->started = true;
	return 0;
}

void control_forget(struct control *ctl)
{
	if (!ctl)
		return;
	probes_forget(ctl->probes);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl->cl[i].fd >= 0)
			close(ctl->cl[i].fd);
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	ctl_socket_forget(&ctl->sock);
	if (ctl->sigfd >= 0)
		close(ctl->sigfd);
	if (ctl->quitfd >= 0)
		close(ctl->quitfd);
	if (ctl->wakefd >= 0)
		close(ctl->wakefd);
}

void control_stop(struct control *ctl)
{
	if (!ctl)
		return;
	if (ctl->started) {
		uint64_t one = 1;
		ssize_t w = write(ctl->quitfd, &one, sizeof(one));
		(void)w;
		pthread_join(ctl->thread, NULL);
	}
	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->cl[i];
		if (c->fd < 0)
			continue;
		if (c->wait_reload && (int)(ctl->reload_done - c->wait_reload) >= 0)
			reload_waited(ctl, c);
		else if (c->wait_reload)
			out_printf(&c->out, "ERROR reload not applied: evd is "
				   "stopping\n");
		client_write(c, now_ns());	/* what fits, without waiting */
		client_close(c);
	}
	if (ctl->lfd >= 0) {
		char why[512];
		close(ctl->lfd);
		if (ctl_socket_remove(&ctl->sock, why, sizeof(why)) <= 0)
			log_warnx("%s", why);
	}
	ctl_socket_forget(&ctl->sock);
	if (ctl->sigfd >= 0)
		close(ctl->sigfd);
	if (ctl->quitfd >= 0)
		close(ctl->quitfd);
	if (ctl->wakefd >= 0)
		close(ctl->wakefd);
	free(ctl->pending);
	free(ctl->tot);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}
