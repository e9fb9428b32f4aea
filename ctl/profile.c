/* evctl profile (profile.h): starts a profile in evd, waits for it (a
 * Ctrl-C ends it early and keeps what it has), reads the result in pages
 * and writes it out.  Kernel frames evd could not name (its /proc/kallsyms
 * hid the addresses: under systemd's ProcSubset=pid, or without
 * CAP_SYSLOG) are named here when this evctl can read them. */
#include "profile.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../common/flame_svg.h"
#include "../common/folded.h"
#include "../common/ksyms.h"

#define DEFAULT_SOCKET "/run/evd/evd.sock"
#define TREE_SOCKET "run/evd.sock"
#define REPLY_MAX (4u << 20)
#define DEFAULT_SECONDS 10
#define DEFAULT_HZ 99
#define DEFAULT_MIN_BLOCK_US 1000
#define PROCESS_WAIT_MS 120000	/* naming the frames, after the profile */
#define KEEPALIVE_MS 5000	/* a status request while a profile runs */
#define KERNEL_UNNAMED "[kernel.kallsyms]+0x"

enum { EXIT_OK, EXIT_REPLY_ERROR, EXIT_USAGE, EXIT_NO_DAEMON };
enum out_format { OUT_FOLDED, OUT_SVG, OUT_JSON };

const char profile_usage[] =
	"  profile [--seconds N] [--hz F] [--cpu|--off-cpu] [--min-block US]\n"
	"          [--workers] [-o folded|svg|json] [--output FILE] | --last\n"
	"          [-o ...] [--output FILE] | --cancel\n"
	"             stack samples of evd's processes for N seconds (default\n"
	"             10, at most 300): on-CPU at F Hz (default 99, at most\n"
	"             1000), or off-CPU (--off-cpu: the time threads wait,\n"
	"             blocks of US microseconds or more, default 1000);\n"
	"             --workers keeps each thread apart; written as folded\n"
	"             stacks (default), JSON, or an SVG flame graph, to FILE\n"
	"             or stdout.  Ctrl-C ends a profile early and writes it;\n"
	"             --last writes the last one again (evd keeps it 10 min);\n"
	"             --cancel ends a running one and drops it.  Needs\n"
	"             [probes] profile = on; root or evd's user (but --last)\n";

struct prof_opts {
	bool cpu;
	unsigned seconds, hz;
	unsigned long min_block_us;
	bool workers, cancel, last;
	unsigned given;			/* bit i: numeric[i] was given */
	enum out_format format;
	const char *output;
	const char *sock;
	int timeout_ms;
};

/* ---- the control socket ----------------------------------------------- */

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* The socket evctl's other commands would use; -1 after saying why. */
static int open_socket(const char *explicit_path, const char **used)
{
	const char *path = explicit_path ? explicit_path : getenv("EVD_SOCKET");
	bool fallback = !path || !*path;
	struct stat st;

	if (fallback)
		path = DEFAULT_SOCKET;
	int fd = connect_to(path);
	if (fd < 0 && fallback && (errno == ENOENT || errno == ECONNREFUSED) &&
	    stat(TREE_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode))
		fd = connect_to(path = TREE_SOCKET);
	if (fd < 0) {
		fprintf(stderr, "evctl: cannot connect to %s: %s%s\n", path,
			strerror(errno), errno == EACCES ? " (run as root, as "
			"evd's user, or as a member of the socket's group)" :
			": is evd running?");
		return -1;
	}
	*used = path;
	return fd;
}

/* Whether buf ends with a whole reply: a line "END", or one "ERROR". */
static bool complete(const char *buf, size_t len)
{
	if (len == 0 || buf[len - 1] != '\n')
		return false;
	if (len >= 5 && strncmp(buf, "ERROR", 5) == 0)
		return true;
	return len == 4 ? memcmp(buf, "END\n", 4) == 0 :
	       len > 4 && memcmp(buf + len - 5, "\nEND\n", 5) == 0;
}

/* Sends line, reads the reply into *out (malloc'd, NUL-terminated).
 * EXIT_OK, EXIT_REPLY_ERROR (printed), or EXIT_NO_DAEMON (printed). */
static int request(int fd, const char *path, const char *line,
		   int timeout_ms, char **out)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	char msg[128];
	long long deadline = ms_now() + timeout_ms;

	snprintf(msg, sizeof(msg), "%s\n", line);
	if (!buf || send(fd, msg, strlen(msg), MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "evctl: cannot send to %s: %s\n", path,
			strerror(buf ? errno : ENOMEM));
		free(buf);
		return EXIT_NO_DAEMON;
	}
	while (!complete(buf, len)) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long left = deadline - ms_now();
		if (len + 1 >= cap) {
			char *nb = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
			if (!nb) {
				fprintf(stderr, "evctl: reply from %s too "
					"large\n", path);
				free(buf);
				return EXIT_NO_DAEMON;
			}
			buf = nb;
			cap *= 2;
		}
		int ready = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (ready < 0 && errno == EINTR)
			continue;	/* Ctrl-C: the caller sees the flag */
		ssize_t n = ready <= 0 ? -2 :
			    recv(fd, buf + len, cap - len - 1, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "evctl: %s: %s\n", path, n == -2 ?
				"no complete answer in time" :
				"connection closed before the answer");
			free(buf);
			return EXIT_NO_DAEMON;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (strncmp(buf, "ERROR", 5) == 0) {
		fprintf(stderr, "evctl: evd: %s", buf);
		free(buf);
		return EXIT_REPLY_ERROR;
	}
	*out = buf;
	return EXIT_OK;
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
	{ "--seconds", 1, 300 },
	{ "--hz", 1, 1000 },
	{ "--min-block", 0, 10000000 },
};

/* One option that takes a number; EXIT_OK or EXIT_USAGE (printed). */
static int number_option(struct prof_opts *o, size_t which, const char *v)
{
	unsigned long n;

	if (!v || !whole(v, numeric[which].min, numeric[which].max, &n)) {
		fprintf(stderr, "evctl: profile: %s wants a whole number in "
			"%lu..%lu, got \"%s\"\n", numeric[which].name,
			numeric[which].min, numeric[which].max, v ? v : "");
		return EXIT_USAGE;
	}
	if (which == 0)
		o->seconds = (unsigned)n;
	else if (which == 1)
		o->hz = (unsigned)n;
	else
		o->min_block_us = n;
	o->given |= 1u << which;
	return EXIT_OK;
}

static int format_option(struct prof_opts *o, const char *v)
{
	static const char *const names[] = { "folded", "svg", "json" };

	for (int i = 0; v && i < 3; i++)
		if (!strcmp(v, names[i])) {
			o->format = (enum out_format)i;
			return EXIT_OK;
		}
	fprintf(stderr, "evctl: profile: unknown format \"%s\" (expected "
		"folded, svg or json)\n", v ? v : "");
	return EXIT_USAGE;
}

/* One option at argv[*i] (its value taken too). */
static int one_option(struct prof_opts *o, int argc, char **argv, int *i)
{
	const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;

	for (size_t k = 0; k < sizeof(numeric) / sizeof(numeric[0]); k++)
		if (!strcmp(a, numeric[k].name)) {
			(*i)++;
			return number_option(o, k, v);
		}
	if (!strcmp(a, "--cpu") || !strcmp(a, "--off-cpu"))
		o->cpu = a[2] == 'c';
	else if (!strcmp(a, "--workers"))
		o->workers = true;
	else if (!strcmp(a, "--cancel"))
		o->cancel = true;
	else if (!strcmp(a, "--last"))
		o->last = true;
	else if (!strcmp(a, "-o") || !strcmp(a, "--output") ||
		 !strcmp(a, "-s") || !strcmp(a, "-T")) {
		(*i)++;
		if (!v) {
			fprintf(stderr, "evctl: profile: %s needs a value\n", a);
			return EXIT_USAGE;
		}
		if (a[1] == 'o')
			return format_option(o, v);
		if (a[1] == 's')
			o->sock = v;
		else if (a[1] == '-')
			o->output = v;
		else {
			unsigned long s;
			if (!whole(v, 1, 3600, &s)) {
				fprintf(stderr, "evctl: -T wants seconds in "
					"1..3600, got \"%s\"\n", v);
				return EXIT_USAGE;
			}
			o->timeout_ms = (int)(s * 1000);
		}
	} else {
		fprintf(stderr, "evctl: profile: unknown option \"%s\"\n"
			"usage: evctl [-s SOCKET] [-T SECONDS] ...\n%s", a,
			profile_usage);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int parse(struct prof_opts *o, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("usage: evctl [-s SOCKET] [-T SECONDS] ...\n%s",
			       profile_usage);
			exit(EXIT_OK);
		}
		int rc = one_option(o, argc, argv, &i);
		if (rc)
			return rc;
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
	if (o->output && !*o->output) {
		fprintf(stderr, "evctl: profile: --output wants a file name\n");
		return EXIT_USAGE;
	}
	return EXIT_OK;
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

/* Waits for the profile to end (a first Ctrl-C ends it now) and for evd
 * to name its frames.  EXIT_* (printed). */
static int wait_done(int fd, const char *path, const struct prof_opts *o)
{
	long long end = ms_now() + (long long)o->seconds * 1000;
	long long give_up = end + PROCESS_WAIT_MS;
	bool stopped = false;
	char state[32], err[256], *r = NULL;

	for (;;) {
		/* Asking now and then keeps the connection (evd drops silent
		 * clients after 30 s) and notices a profile cancelled. */
		long long now = ms_now();
		if (now < end && !interrupted) {
			nap(end - now < KEEPALIVE_MS ? end - now : KEEPALIVE_MS);
			if (ms_now() < end && !interrupted) {
				int rc = request(fd, path, "profile status",
						 o->timeout_ms, &r);
				if (rc)
					return rc;
				bool running = value_of(r, "state", state,
							sizeof(state)) &&
					       !strcmp(state, "running");
				free(r);
				r = NULL;
				if (running)
					continue;
			}
		}
		if (interrupted && !stopped && ms_now() < end) {
			stopped = true;
			fprintf(stderr, "evctl: ending the profile now\n");
			int rc = request(fd, path, "profile stop", o->timeout_ms,
					 &r);
			free(r);
			if (rc == EXIT_NO_DAEMON)
				return rc;
		}
		int rc = request(fd, path, "profile status", o->timeout_ms, &r);
		if (rc)
			return rc;
		value_of(r, "state", state, sizeof(state));
		if (!strcmp(state, "done") || !strcmp(state, "failed") ||
		    !strcmp(state, "idle")) {
			bool ok = !strcmp(state, "done");
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
static int read_result(int fd, const char *path, const struct prof_opts *o,
		       struct result *res)
{
	unsigned long long off = 0, n = 0;

	for (int page = 0;; page++) {
		char line[64], *r = NULL;
		unsigned long long next = off;
		snprintf(line, sizeof(line), "profile read %llu", off);
		int rc = request(fd, path, line, o->timeout_ms, &r);
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
			fprintf(stderr, "evctl: unexpected reply from %s\n",
				path);
			return EXIT_NO_DAEMON;
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
static int write_out(FILE *out, const struct result *res,
		     const struct prof_opts *o)
{
	char title[256], sub[256];

	switch (o->format) {
	case OUT_FOLDED:
		return folded_write(out, &res->f);
	case OUT_JSON:
		return folded_write_json(out, &res->f, &res->m);
	default:
		titles(res, title, sizeof(title), sub, sizeof(sub));
		return flame_svg_write(out, &res->f, &(struct flame_opts){
			.title = title, .subtitle = sub,
			.unit = !strcmp(res->mode, "cpu") ? "samples" : "us" });
	}
}

/* To stdout, or to FILE through FILE.tmp.PID renamed when complete. */
static int save(const struct result *res, const struct prof_opts *o)
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
	int rc = write_out(out, res, o);
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

int profile_main(const char *sock, int timeout_ms, bool json, int argc,
		 char **argv)
{
	struct prof_opts o = {
		.cpu = true, .seconds = DEFAULT_SECONDS, .hz = DEFAULT_HZ,
		.min_block_us = DEFAULT_MIN_BLOCK_US, .sock = sock,
		.timeout_ms = timeout_ms, .format = json ? OUT_JSON : OUT_FOLDED,
	};
	struct result res = { 0 };
	const char *path;
	char line[128], *r = NULL;
	int rc = parse(&o, argc, argv);

	if (rc)
		return rc;
	int fd = open_socket(o.sock, &path);
	if (fd < 0)
		return EXIT_NO_DAEMON;
	if (o.cancel) {
		rc = request(fd, path, "profile cancel", o.timeout_ms, &r);
		goto out;
	}
	snprintf(line, sizeof(line), "profile start %s %u %lu%s",
		 o.cpu ? "cpu" : "offcpu", o.seconds,
		 o.cpu ? (unsigned long)o.hz : o.min_block_us,
		 o.workers ? " workers" : "");
	struct sigaction sa = { .sa_handler = on_interrupt };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (!o.last && ((rc = request(fd, path, line, o.timeout_ms, &r)) ||
			(rc = wait_done(fd, path, &o))))
		goto out;
	if ((rc = read_result(fd, path, &o, &res)))
		goto out;
	if (name_kernel(&res.f) < 0) {
		fprintf(stderr, "evctl: out of memory\n");
		rc = EXIT_REPLY_ERROR;
		goto out;
	}
	notes(&res);
	rc = save(&res, &o);
out:
	free(r);
	folded_free(&res.f);
	close(fd);
	return rc;
}
