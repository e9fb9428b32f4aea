/* evctl profile: starts a stack profile in evd (daemon/ctl_profile.h),
 * waits for it (a Ctrl-C ends it early and keeps what it has), reads the
 * result in pages and writes it as folded stacks, JSON or an SVG flame
 * graph.  Kernel frames evd could not name (its /proc/kallsyms hid the
 * addresses: under systemd's ProcSubset=pid, or without CAP_SYSLOG) are
 * named here when this evctl can read them. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evctl.h"
#include "../common/flame_svg.h"
#include "../common/folded.h"
#include "../common/ksyms.h"

#define PROCESS_WAIT_MS 120000	/* naming the frames, after the profile */
#define KEEPALIVE_MS 5000	/* a status request while a profile runs */
#define KERNEL_UNNAMED "[kernel.kallsyms]+0x"

enum {
	OPT_SECONDS = 256, OPT_HZ, OPT_MIN_BLOCK,	/* numeric[] order */
	OPT_CPU, OPT_OFF_CPU, OPT_WORKERS, OPT_LAST, OPT_CANCEL, OPT_OUTFILE,
};

struct prof_opts {
	bool cpu;
	unsigned seconds, hz;
	unsigned long min_block_us;
	bool workers, cancel, last;
	unsigned given;			/* bit i: numeric[i] was given */
	const char *output;
};

/* One invocation's options (evctl runs one command). */
static struct prof_opts opts = {
	.cpu = true, .seconds = CTL_PROFILE_SECONDS_DEFAULT,
	.hz = CTL_PROFILE_HZ_DEFAULT,
	.min_block_us = CTL_PROFILE_MIN_BLOCK_US_DEFAULT,
};

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The value of "key VALUE" in a reply, or NULL (copied into val). */
static const char *value_of(const char *reply, const char *key, char *val,
			    size_t len)
{
	size_t k = strlen(key);

	for (const char *p = reply; *p; p = strchr(p, '\n') + 1) {
		if (!strncmp(p, key, k) && p[k] == ' ') {
			size_t n = strcspn(p + k + 1, "\n");
			snprintf(val, len, "%.*s", (int)n, p + k + 1);
			return val;
		}
		if (!strchr(p, '\n'))
			break;
	}
	return NULL;
}

/* ---- options ------------------------------------------------------------- */

/* A whole number in [min, max] from s; false if it is not one. */
static bool whole(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*out = v;
	return true;
}

static const struct {
	const char *name;
	unsigned long min, max;
} numeric[] = {
	{ "--seconds", 1, CTL_PROFILE_SECONDS_MAX },
	{ "--hz", 1, CTL_PROFILE_HZ_MAX },
	{ "--min-block", 0, CTL_PROFILE_MIN_BLOCK_US_MAX },
};

/* One option that takes a number; 0 or EXIT_USAGE (printed). */
static int number_option(struct prof_opts *o, size_t which, const char *v)
{
	unsigned long n;

	if (!whole(v, numeric[which].min, numeric[which].max, &n)) {
		fprintf(stderr, "evctl: profile: %s wants a whole number in "
			"%lu..%lu, got \"%s\"\n", numeric[which].name,
			numeric[which].min, numeric[which].max, v);
		return EXIT_USAGE;
	}
	if (which == 0)
		o->seconds = (unsigned)n;
	else if (which == 1)
		o->hz = (unsigned)n;
	else
		o->min_block_us = n;
	o->given |= 1u << which;
	return 0;
}

/* The command's own options (evctl's table: -s, -T and -o are global). */
static int profile_opt(struct evctl_req *r, int val, const char *arg)
{
	struct prof_opts *o = &opts;

	r->priv = o;
	if (val >= OPT_SECONDS && val <= OPT_MIN_BLOCK)
		return number_option(o, (size_t)(val - OPT_SECONDS), arg);
	switch (val) {
	case OPT_CPU:
	case OPT_OFF_CPU:
		o->cpu = val == OPT_CPU;
		return 0;
	case OPT_WORKERS:
		o->workers = true;
		return 0;
	case OPT_LAST:
		o->last = true;
		return 0;
	case OPT_CANCEL:
		o->cancel = true;
		return 0;
	case OPT_OUTFILE:
		if (!*arg) {
			fprintf(stderr, "evctl: profile: --output wants a file "
				"name\n");
			return EXIT_USAGE;
		}
		o->output = arg;
		return 0;
	default:
		return EXIT_USAGE;
	}
}

/* Checks the combination (no words after the options); r->line stays
 * empty: profile_run() does the talking. */
static int profile_request(struct evctl_req *r, int argc, char **argv)
{
	const struct prof_opts *o = &opts;

	r->priv = &opts;
	if (argc) {
		fprintf(stderr, "evctl: profile takes options only (got \"%s\"; "
			"evctl profile --help lists them)\n", argv[0]);
		return EXIT_USAGE;
	}
	if ((o->cpu && (o->given & 4)) || (!o->cpu && (o->given & 2))) {
		fprintf(stderr, "evctl: profile: %s goes with %s\n",
			o->cpu ? "--min-block" : "--hz",
			o->cpu ? "--off-cpu" : "--cpu (the default)");
		return EXIT_USAGE;
	}
	if ((o->last || o->cancel) && (o->given || o->workers || !o->cpu ||
					(o->last && o->cancel))) {
		fprintf(stderr, "evctl: profile: %s takes -o and --output only\n",
			o->last ? "--last" : "--cancel");
		return EXIT_USAGE;
	}
	if (o->cancel && r->fmt != FMT_TEXT) {
		fprintf(stderr, "evctl: profile: --cancel writes nothing: no "
			"-o\n");
		return EXIT_USAGE;
	}
	if (o->cancel && o->output) {
		fprintf(stderr, "evctl: profile: --cancel writes nothing: no "
			"--output\n");
		return EXIT_USAGE;
	}
	r->line[0] = '\0';
	return 0;
}

/* ---- running it ------------------------------------------------------------ */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted++;
}

/* Sleeps ms, or less when a signal comes. */
static void nap(long long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000,
			       .tv_nsec = (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* One exchange; the reply in *r (NULL on failure: freed here). */
static int ask(struct evctl *e, const char *line, char **r)
{
	int rc = evctl_transact(e, line, r, false);

	if (rc) {
		free(*r);
		*r = NULL;
	}
	return rc;
}

/* While the profile runs: a status now and then keeps the connection (evd
 * drops silent clients after 30 s) and notices a profile cancelled.  0
 * when the time is up or a Ctrl-C came, 1 when evd no longer runs it, or
 * an EXIT_* code (printed, negated). */
static int wait_running(struct evctl *e, long long end)
{
	char state[32], *r = NULL;

	while (ms_now() < end && !interrupted) {
		long long now = ms_now();
		nap(end - now < KEEPALIVE_MS ? end - now : KEEPALIVE_MS);
		if (ms_now() >= end || interrupted)
			break;
		int rc = ask(e, CTL_CMD_PROFILE " " CTL_PROFILE_STATUS, &r);
		if (rc)
			return -rc;
		bool running = value_of(r, "state", state, sizeof(state)) &&
			       !strcmp(state, CTL_PROFILE_S_RUNNING);
		free(r);
		r = NULL;
		if (!running)
			return 1;
	}
	return 0;
}

/* Waits for the profile to end (a first Ctrl-C ends it now) and for evd
 * to name its frames.  EXIT_* (printed). */
static int wait_done(struct evctl *e, const struct prof_opts *o)
{
	long long end = ms_now() + (long long)o->seconds * 1000;
	long long give_up = end + PROCESS_WAIT_MS;
	char state[32] = "", err[256], *r = NULL;
	int rc = wait_running(e, end);

	if (rc < 0)
		return -rc;
	if (rc == 0 && interrupted && ms_now() < end) {
		fprintf(stderr, "evctl: ending the profile now\n");
		rc = ask(e, CTL_CMD_PROFILE " " CTL_PROFILE_STOP, &r);
		free(r);
		if (rc == EXIT_NO_DAEMON)
			return rc;
	}
	for (;;) {
		if ((rc = ask(e, CTL_CMD_PROFILE " " CTL_PROFILE_STATUS, &r)))
			return rc;
		value_of(r, "state", state, sizeof(state));
		if (!strcmp(state, CTL_PROFILE_S_DONE) ||
		    !strcmp(state, CTL_PROFILE_S_FAILED) ||
		    !strcmp(state, CTL_PROFILE_S_IDLE)) {
			bool ok = !strcmp(state, CTL_PROFILE_S_DONE);
			if (!ok)
				fprintf(stderr, "evctl: evd: the profile %s\n",
					value_of(r, "error", err, sizeof(err)) ?
					err : "was cancelled");
			free(r);
			return ok ? EXIT_OK : EXIT_REPLY_ERROR;
		}
		free(r);
		if (ms_now() > give_up) {
			fprintf(stderr, "evctl: evd is still processing the "
				"profile after %d s; giving up\n",
				PROCESS_WAIT_MS / 1000);
			return EXIT_NO_DAEMON;
		}
		nap(100);
	}
}

/* What the result's header says. */
struct result {
	struct folded f;
	struct folded_meta m;
	char mode[16], model[32], proto[16], unit[16];
	unsigned long long lost_stacks;
};

static unsigned long long ull_of(const char *reply, const char *key)
{
	char v[32];

	return value_of(reply, key, v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
}

/* The header of the first page. */
static void header_of(const char *r, struct result *res)
{
	char v[32];

	value_of(r, "mode", res->mode, sizeof(res->mode));
	value_of(r, "model", res->model, sizeof(res->model));
	value_of(r, "protocol", res->proto, sizeof(res->proto));
	value_of(r, "unit", res->unit, sizeof(res->unit));
	res->m = (struct folded_meta){
		.mode = res->mode, .model = res->model,
		.protocol = res->proto, .unit = res->unit,
		.seconds = value_of(r, "seconds", v, sizeof(v)) ?
			   strtod(v, NULL) : 0,
		.hz = (unsigned)ull_of(r, "hz"),
		.min_block_us = ull_of(r, "min_block_us"),
		.lost = ull_of(r, "lost"),
	};
	res->lost_stacks = ull_of(r, "lost_stacks");
}

/* The "stack VALUE FOLDED" lines of one page into res; the next offset
 * in *next.  false on a malformed page. */
static bool stacks_of(char *r, struct result *res, unsigned long long *next)
{
	for (char *p = r; *p;) {
		char *nl = strchr(p, '\n');
		if (!nl)
			return false;
		*nl = '\0';
		if (!strncmp(p, "stack ", 6)) {
			char *end;
			unsigned long long v = strtoull(p + 6, &end, 10);
			if (*end != ' ' || folded_add_joined(&res->f, end + 1,
							     v) < 0)
				return false;
		} else if (!strncmp(p, "next ", 5)) {
			*next = strtoull(p + 5, NULL, 10);
		}
		p = nl + 1;
	}
	return true;
}

/* Reads every page.  EXIT_* (printed). */
static int read_result(struct evctl *e, struct result *res)
{
	unsigned long long off = 0, n = 0;

	for (int page = 0;; page++) {
		char line[64], *r = NULL;
		unsigned long long next = off;
		snprintf(line, sizeof(line), CTL_CMD_PROFILE " " CTL_PROFILE_READ
			 " %llu", off);
		int rc = ask(e, line, &r);
		if (rc)
			return rc;
		if (page == 0) {
			header_of(r, res);
			n = ull_of(r, "stacks");
		} else if (ull_of(r, "stacks") != n) {
			free(r);
			fprintf(stderr, "evctl: the profile changed while it was "
				"read (another client started one); try again\n");
			return EXIT_REPLY_ERROR;
		}
		bool ok = stacks_of(r, res, &next);
		free(r);
		if (!ok || next <= off || next > n) {
			if (ok && next == n && n == off)
				break;
			return bad_reply(e);
		}
		if ((off = next) == n)
			break;
	}
	return EXIT_OK;
}

/* ---- writing it ------------------------------------------------------------ */

/* The kernel frames evd left unnamed, named from this machine's
 * /proc/kallsyms when it shows addresses to this evctl (then merged
 * again); left as they are otherwise.  0 or -ENOMEM. */
static int name_kernel(struct folded *f)
{
	struct ksyms *ks = NULL;
	struct folded named = { 0 };
	bool any = false;
	int rc = 0;

	for (size_t i = 0; i < f->n && !any; i++)
		for (unsigned j = 0; j < f->v[i].depth && !any; j++)
			any = !strncmp(f->v[i].frame[j], KERNEL_UNNAMED,
				       sizeof(KERNEL_UNNAMED) - 1);
	int fd = any ? open("/proc/kallsyms", O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		ks = ksyms_read(fd);
		close(fd);
	}
	/* One name per frame of a stack, for folded_add() to copy. */
	char (*names)[160] = ks ? malloc(FOLDED_DEPTH_MAX * sizeof(*names)) :
				  NULL;
	if (!names) {
		ksyms_free(ks);
		return ks ? -ENOMEM : 0;
	}
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		const char *frames[FOLDED_DEPTH_MAX];
		for (unsigned j = 0; j < f->v[i].depth; j++) {
			const char *s = f->v[i].frame[j], *sym;
			uint64_t off, a;
			frames[j] = s;
			if (strncmp(s, KERNEL_UNNAMED, sizeof(KERNEL_UNNAMED) - 1))
				continue;
			a = strtoull(s + sizeof(KERNEL_UNNAMED) - 1, NULL, 16);
			if (!(sym = ksyms_find(ks, a, &off)))
				continue;
			char clean[150];
			folded_clean(clean, sizeof(clean), sym);
			snprintf(names[j], sizeof(names[j]), "%s_[k]", clean);
			frames[j] = names[j];
		}
		rc = folded_add(&named, frames, f->v[i].depth, f->v[i].value);
	}
	free(names);
	ksyms_free(ks);
	if (rc < 0) {
		folded_free(&named);
		return rc;
	}
	folded_free(f);
	*f = named;
	folded_sort(f);
	return 0;
}

/* The flame graph's title and subtitle. */
static void titles(const struct result *res, char *title, size_t tlen,
		   char *sub, size_t slen)
{
	static const char how[] = "kernel frames _[k], inlined _[i]; click "
				  "to zoom, Search or Ctrl-F to find";

	if (!strcmp(res->mode, "cpu")) {
		snprintf(title, tlen, "evd on-CPU: model %s, protocol %s, %.1f s "
			 "at %u Hz, %llu samples", res->model, res->proto,
			 res->m.seconds, res->m.hz,
			 (unsigned long long)res->f.total);
		snprintf(sub, slen, "width: samples on the CPU; %s", how);
		return;
	}
	snprintf(title, tlen, "evd off-CPU: model %s, protocol %s, %.1f s, "
		 "%.3f s blocked", res->model, res->proto, res->m.seconds,
		 (double)res->f.total / 1e6);
	snprintf(sub, slen, "width: time off the CPU (blocks of %llu us or "
		 "more); %s", (unsigned long long)res->m.min_block_us, how);
}

/* The result in its format to out.  0 or -errno. */
static int write_out(FILE *out, const struct result *res, enum format fmt)
{
	char title[256], sub[256];

	switch (fmt) {
	case FMT_JSON:
		return folded_write_json(out, &res->f, &res->m);
	case FMT_SVG:
		break;
	default:	/* text is the folded stacks */
		return folded_write(out, &res->f);
	}
	{
		titles(res, title, sizeof(title), sub, sizeof(sub));
		return flame_svg_write(out, &res->f, &(struct flame_opts){
			.title = title, .subtitle = sub,
			.unit = !strcmp(res->mode, "cpu") ? "samples" : "us" });
	}
}

/* To stdout, or to FILE through FILE.tmp.PID renamed when complete. */
static int save(const struct result *res, const struct prof_opts *o,
		enum format fmt)
{
	char tmp[4096];
	FILE *out = stdout;

	if (o->output) {
		if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", o->output,
			     (int)getpid()) >= (int)sizeof(tmp)) {
			fprintf(stderr, "evctl: --output: name too long\n");
			return EXIT_REPLY_ERROR;
		}
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			      0644);
		if (fd < 0 || !(out = fdopen(fd, "w"))) {
			fprintf(stderr, "evctl: cannot write %s: %s\n", tmp,
				strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(tmp);
			}
			return EXIT_REPLY_ERROR;
		}
	}
	int rc = write_out(out, res, fmt);
	if (fflush(out) != 0 && rc == 0)
		rc = -errno;
	if (o->output) {
		if (fclose(out) != 0 && rc == 0)
			rc = -errno;
		if (rc == 0 && rename(tmp, o->output) < 0)
			rc = -errno;
		if (rc < 0)
			unlink(tmp);
	}
	if (rc < 0) {
		fprintf(stderr, "evctl: cannot write %s: %s\n",
			o->output ? o->output : "the output", strerror(-rc));
		return EXIT_REPLY_ERROR;
	}
	return EXIT_OK;
}

/* Notes for people, on stderr: what was not counted. */
static void notes(const struct result *res)
{
	if (res->m.lost)
		fprintf(stderr, "evctl: note: %llu %s not counted: evd's "
			"table of stacks was full\n",
			(unsigned long long)res->m.lost, res->unit);
	if (res->lost_stacks)
		fprintf(stderr, "evctl: note: %llu stacks not kept (shown as "
			"[lost_stack])\n", res->lost_stacks);
	if (res->f.n == 0)
		fprintf(stderr, "evctl: note: no samples: evd's threads did "
			"not %s during the profile\n", !strcmp(res->mode, "cpu") ?
			"run" : "block long enough");
}

/* The signals that end a profile early (the first one; it is written). */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_interrupt };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static int profile_run(struct evctl *e, struct evctl_req *req)
{
	const struct prof_opts *o = &opts;
	struct result res = { 0 };
	char line[128], *r = NULL;
	int rc;

	if (o->cancel) {
		rc = ask(e, CTL_CMD_PROFILE " " CTL_PROFILE_CANCEL, &r);
		free(r);
		return rc;
	}
	snprintf(line, sizeof(line), "%s %s %s %u %lu%s", CTL_CMD_PROFILE,
		 CTL_PROFILE_START, o->cpu ? CTL_PROFILE_CPU :
		 CTL_PROFILE_OFFCPU, o->seconds,
		 o->cpu ? (unsigned long)o->hz : o->min_block_us,
		 o->workers ? " " CTL_PROFILE_WORKERS : "");
	catch_signals();
	if (!o->last) {
		if ((rc = ask(e, line, &r)))
			return rc;
		free(r);
		if ((rc = wait_done(e, o)))
			return rc;
	}
	if ((rc = read_result(e, &res)))
		goto out;
	if (name_kernel(&res.f) < 0) {
		fprintf(stderr, "evctl: out of memory\n");
		rc = EXIT_REPLY_ERROR;
		goto out;
	}
	notes(&res);
	rc = save(&res, o, req->fmt);
out:
	folded_free(&res.f);
	return rc;
}

static const struct option profile_options[] = {
	{ "seconds", required_argument, NULL, OPT_SECONDS },
	{ "hz", required_argument, NULL, OPT_HZ },
	{ "min-block", required_argument, NULL, OPT_MIN_BLOCK },
	{ "cpu", no_argument, NULL, OPT_CPU },
	{ "off-cpu", no_argument, NULL, OPT_OFF_CPU },
	{ "workers", no_argument, NULL, OPT_WORKERS },
	{ "last", no_argument, NULL, OPT_LAST },
	{ "cancel", no_argument, NULL, OPT_CANCEL },
	/* Here --output is the file; -o stays the format. */
	{ "output", required_argument, NULL, OPT_OUTFILE },
	{ NULL, 0, NULL, 0 },
};

const struct evctl_cmd evctl_cmd_profile = {
	.name = CTL_CMD_PROFILE,
	.args = "[--seconds N] [--cpu [--hz F] | --off-cpu [--min-block US]]\n"
		"         [--workers] [--output FILE] | --last [--output FILE] | --cancel",
	.summary = "stack samples of evd's processes, on-CPU or off-CPU,\n"
		   "as folded stacks, JSON or an SVG flame graph",
	.help = "\n"
		"For N seconds (default 10, at most 300): on-CPU at F Hz\n"
		"(default 99, at most 1000), or off-CPU (--off-cpu: the time\n"
		"threads wait, in blocks of US microseconds or more, default\n"
		"1000).  --workers keeps each thread apart under a root frame\n"
		"naming it.  -o text (the default) or folded: Brendan Gregg's\n"
		"folded stacks; json; svg: a flame graph (click to zoom,\n"
		"Search or Ctrl-F to find).  --output FILE writes FILE\n"
		"(through FILE.tmp.PID, renamed when complete) instead of\n"
		"stdout.  Ctrl-C ends a profile early and writes it.  --last\n"
		"writes the last profile again (evd keeps it 10 minutes; it\n"
		"needs no admin); --cancel ends a running one and drops it.\n"
		"Needs [probes] profile = on in evd.ini (loaded at startup).",
	.formats = FMT_BIT(FMT_TEXT) | FMT_BIT(FMT_FOLDED) | FMT_BIT(FMT_JSON) |
		   FMT_BIT(FMT_SVG),
	.options = profile_options,
	.opt = profile_opt,
	.make_request = profile_request,
	.run = profile_run,
};
