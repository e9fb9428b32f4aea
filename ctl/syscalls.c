/* evctl syscalls [ACTION] [--hist NAME | --workers | --worker TID]
 * [--interval S]: the eBPF probes' counts of evd's system calls, and the
 * actions that switch them (on, off, reset, workers on|off, timing on|off).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "syscalls.h"

enum { OPT_HIST = 256, OPT_WORKERS, OPT_WORKER, OPT_INTERVAL };

struct sc_opts {
	const char *action;	/* on, off, reset, workers on, ... or NULL */
	const char *hist;	/* --hist NAME */
	const char *worker;	/* --worker TID */
	bool workers;		/* --workers */
	double interval;	/* --interval S: 0 = the totals */
};

static struct sc_opts opts;

#define SC_USAGE "syscalls [on|off|reset|workers on|workers off|timing on|" \
		 "timing off] [--hist NAME] [--workers] [--worker TID] "    \
		 "[--interval S]"

static int sc_opt(struct evctl_req *r, int val, const char *arg)
{
	char *end;

	r->priv = &opts;
	switch (val) {
	case OPT_HIST:
		opts.hist = arg;
		return 0;
	case OPT_WORKERS:
		opts.workers = true;
		return 0;
	case OPT_WORKER:
		opts.worker = arg;
		return 0;
	default:
		opts.interval = strtod(arg, &end);
		if (end == arg || *end || !(opts.interval > 0) ||
		    opts.interval > 3600) {
			fprintf(stderr, "evctl: --interval wants seconds in (0, "
				"3600], got \"%s\"\n", arg);
			return EXIT_USAGE;
		}
		return 0;
	}
}

/* The words: one action at most ("workers on" and "timing off" are one). */
static int sc_words(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (!opts.action && (!strcmp(a, "on") || !strcmp(a, "off") ||
				     !strcmp(a, "reset"))) {
			opts.action = a;
		} else if (!opts.action && has_value &&
			   (!strcmp(a, "workers") || !strcmp(a, "timing")) &&
			   (!strcmp(argv[i + 1], "on") ||
			    !strcmp(argv[i + 1], "off"))) {
			bool on = !strcmp(argv[++i], "on");
			if (a[0] == 'w')
				opts.action = on ? "workers on" : "workers off";
			else
				opts.action = on ? "timing on" : "timing off";
		} else {
			fprintf(stderr, "evctl: syscalls: unexpected \"%s\" "
				"(usage: " SC_USAGE ")\n", a);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* Checks the combination; fills r->line. */
static int sc_request(struct evctl_req *r, int argc, char **argv)
{
	int rc = sc_words(argc, argv);
	int views = !!opts.hist + !!opts.worker + opts.workers;

	r->priv = &opts;
	if (rc)
		return rc;
	if (views > 1 || (opts.action && (views || opts.interval))) {
		fprintf(stderr, "evctl: syscalls: choose one of on, off, reset, "
			"--hist, --workers and --worker\n");
		return EXIT_USAGE;
	}
	if (opts.worker) {
		char *end;
		unsigned long t = strtoul(opts.worker, &end, 10);
		if (*end || !t || t > 0x7fffffff ||
		    !isdigit((unsigned char)opts.worker[0])) {
			fprintf(stderr, "evctl: --worker wants a thread id (the "
				"tid column of evctl workers or syscalls "
				"--workers), got \"%s\"\n", opts.worker);
			return EXIT_USAGE;
		}
	}
	if (r->fmt == FMT_PROM && (opts.action || opts.interval)) {
		fprintf(stderr, "evctl: syscalls: -o prometheus shows the totals "
			"(no action, no --interval: Prometheus takes the rates)\n");
		return EXIT_USAGE;
	}
	if (opts.action)
		snprintf(r->line, sizeof(r->line), "syscalls %s", opts.action);
	else if (opts.hist)
		snprintf(r->line, sizeof(r->line), "syscalls hist %.60s",
			 opts.hist);
	else if (opts.worker)
		snprintf(r->line, sizeof(r->line), "syscalls worker %s",
			 opts.worker);
	else if (opts.workers)
		snprintf(r->line, sizeof(r->line), "syscalls workers");
	else
		snprintf(r->line, sizeof(r->line), "syscalls");
	return 0;
}

/* The answer to an action: "syscall probes on", or JSON. */
static void print_action(const char *reply, enum format fmt)
{
	char state[16];

	if (fmt == FMT_JSON) {
		struct json_object *o = json_schema_object();
		char *copy = strdup(reply), *save = NULL;
		for (char *l = copy ? strtok_r(copy, "\n", &save) : NULL;
		     l && strcmp(l, CTL_WIRE_END); l = strtok_r(NULL, "\n", &save)) {
			char *sp = strchr(l, ' ');
			if (sp) {
				*sp = '\0';
				json_object_object_add(o, l, json_wire_value(sp + 1));
			}
		}
		free(copy);
		json_print(o);
	} else if (!strncmp(opts.action, "workers", 7)) {
		printf("per-thread syscall counting %s\n",
		       reply_value(reply, "per_thread", state, sizeof(state)));
	} else if (!strncmp(opts.action, "timing", 6)) {
		printf("syscall timing %s\n",
		       reply_value(reply, "timing", state, sizeof(state)));
	} else {
		printf("syscall probes %s\n", !strcmp(opts.action, "reset") ?
		       "reset" : reply_value(reply, "state", state,
					     sizeof(state)));
	}
}

/* The view asked for, of a (delta) reply. */
static int print_view(struct evctl *e, struct evctl_req *r,
		      struct sc_reply *show)
{
	struct stats_reply s = { 0 };

	/* Prometheus: model and protocol for the labels. */
	if (r->fmt == FMT_PROM) {
		int rc = evctl_stats(e, false, &s);
		if (rc)
			return rc;
	}
	if (opts.hist)
		sc_print_hist(show, r->fmt, s.model, s.protocol);
	else if (opts.workers)
		sc_print_workers(show, r->fmt, s.model, s.protocol);
	else
		sc_print_table(show, r->fmt, opts.worker, s.model, s.protocol);
	return EXIT_OK;
}

/* One or two (--interval) exchanges on one connection. */
static int sc_run(struct evctl *e, struct evctl_req *r)
{
	char *r1 = NULL, *r2 = NULL;
	struct sc_reply a = { 0 }, b = { 0 };
	int rc = evctl_transact(e, r->line, &r1, false);

	if (rc == EXIT_OK && opts.interval > 0) {
		evctl_sleep(opts.interval, NULL);
		rc = evctl_transact(e, r->line, &r2, false);
	}
	if (rc != EXIT_OK)
		goto out;
	if (opts.action) {
		print_action(r1, r->fmt);
		goto out;
	}
	if (!sc_parse(r1, &a) || (opts.interval > 0 && !sc_parse(r2, &b))) {
		rc = bad_reply(e);
		goto out;
	}
	struct sc_reply *show = &a;
	if (opts.interval > 0) {
		sc_delta(&b, &a);
		show = &b;
	}
	rc = print_view(e, r, show);
out:
	sc_free(&a);
	sc_free(&b);
	free(r1);
	free(r2);
	return rc;
}

static const struct option sc_options[] = {
	{ "hist", required_argument, NULL, OPT_HIST },
	{ "workers", no_argument, NULL, OPT_WORKERS },
	{ "worker", required_argument, NULL, OPT_WORKER },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ NULL, 0, NULL, 0 },
};

const struct evctl_cmd evctl_cmd_syscalls = {
	.name = CTL_CMD_SYSCALLS,
	.args = "[on|off|reset|workers on|workers off|timing on|timing off]\n"
		"         [--hist NAME] [--workers] [--worker TID] [--interval S]",
	.summary = "the system calls of evd's processes, from the eBPF\n"
		   "probes, sorted by total time: calls, calls per\n"
		   "request, errors, total ms, avg, p50 and p99 us, % of\n"
		   "time",
	.help = "\n"
		"on, off      attach or detach the probes [admin]\n"
		"reset        zero the counts [admin]\n"
		"workers on|off  start or stop per-thread counting (off by\n"
		"             default: it costs on every call; threads count\n"
		"             from then on) [admin]\n"
		"timing on|off   time every call, or count calls and errors\n"
		"             only, with one tracepoint instead of two\n"
		"             (cheaper) [admin]\n"
		"--hist NAME  one system call's log2 latency histogram\n"
		"--workers    one row per thread (needs workers on)\n"
		"--worker TID one thread's table (needs workers on)\n"
		"--interval S the difference over S seconds\n"
		"-o json      {\"schema\": 1, \"state\", ..., \"syscalls\": [...]};\n"
		"             --workers: \"threads\": [...]; --hist: \"buckets\"\n"
		"-o prometheus  the totals: counts, errors, time and latency\n"
		"             histograms per system call",
	.formats = FMTS_ALL,
	.options = sc_options,
	.opt = sc_opt,
	.make_request = sc_request,
	.run = sc_run,
};
