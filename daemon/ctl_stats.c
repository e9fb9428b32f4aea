/* The control commands that read counters: stats (with /proc CPU times
 * and the request rate), workers, ping, version; and the text of /metrics
 * ([metrics] listen). */
#include "control_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include "metrics.h"
#include "server.h"
#include "util.h"
#include "version.h"
#include "../common/ctl_wire.h"

#define RATE_WINDOW_S 5

/* Every counter since start, summed into the control thread's scratch
 * (valid until the next call). */
const struct stats_total *ctl_totals(const struct control *ctl)
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

/* serving_cpu(), never less than the last shown: a worker process's time
 * leaves /proc before its reaping adds it to RUSAGE_CHILDREN. */
static void cpu_now(struct control *ctl, double *user, double *sys)
{
	serving_cpu(ctl->srv, user, sys);
	if (*user < ctl->cpu_user)
		*user = ctl->cpu_user;
	if (*sys < ctl->cpu_sys)
		*sys = ctl->cpu_sys;
	ctl->cpu_user = *user;
	ctl->cpu_sys = *sys;
}

double ctl_request_rate(const struct control *ctl, uint64_t requests,
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

void cmd_stats(struct control *ctl, struct out *o, int argc,
		      char **argv)
{
	struct server *srv = ctl->srv;
	bool hist = argc == 1 && strcmp(argv[0], CTL_STATS_HIST) == 0;

	if (argc == 1 && !hist) {
		out_printf(o, "ERROR usage: stats [hist]\n");
		return;
	}
	const struct stats_total *t = ctl_totals(ctl);
	char listen[CONFIG_MAX_LISTEN * 64];
	double user, sys;

	listeners_text(srv, listen, sizeof(listen));
	cpu_now(ctl, &user, &sys);
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
		   ctl_request_rate(ctl, t->c[STAT_requests], now));
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

void cmd_ping(struct control *ctl, struct out *o, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	out_printf(o, "pid %ld\n", (long)getpid());
	out_printf(o, "uptime_seconds %.3f\n", uptime_s(ctl));
	out_printf(o, "END\n");
}

void cmd_version(struct control *ctl, struct out *o, int argc,
			char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	out_printf(o, "version %s\n", EVD_VERSION);
	out_printf(o, "END\n");
}

/* One line per worker slot: live ones, or every slot ever used ("all"). */
void cmd_workers(struct control *ctl, struct out *o, int argc,
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
void ctl_sample_rate(struct control *ctl, uint64_t now)
{
	ctl->rate[ctl->nrate % RATE_SAMPLES] =
		(struct rate_sample){ .t = now, .requests = ctl_requests_now(ctl) };
	ctl->nrate++;
	ctl_at(ctl, CT_SAMPLE, now + 1000000000ull);
}

/* ---- /metrics ------------------------------------------------------------------ */

void ctl_metrics_body(void *arg, const struct prom_out *o)
{
	struct control *ctl = arg;
	struct metrics_src src = { .srv = ctl->srv, .uptime_s = uptime_s(ctl) };

	if (ctl->probes && ctl->sc_on) {
		src.probes = ctl->probes;
		src.sc_requests = ctl_sc_requests(ctl);
	}
	cpu_now(ctl, &src.cpu_user, &src.cpu_sys);
	src.tot = ctl_totals(ctl);
	metrics_text(o, &src);
}
