/* evctl: talks to a running evd over its control socket.
 *
 * The protocol is line-oriented text: one command line out; "key value"
 * lines and "END" back, or one "ERROR reason" line.  evctl sends the line,
 * reads the reply with a timeout and prints it as text or JSON. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/version.h"
#include "profile.h"

#define DEFAULT_SOCKET "/run/evd/evd.sock"
#define TREE_SOCKET "run/evd.sock"
#define REPLY_MAX (4u << 20)

enum exit_code {
	EXIT_OK = 0,
	EXIT_REPLY_ERROR = 1,	/* evd answered ERROR */
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,	/* cannot connect, or no complete answer */
};

enum format { FMT_TEXT, FMT_JSON };

struct reply {
	char *data;
	size_t len;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evctl [-s SOCKET] [-T SECONDS] COMMAND [-o text|json]\n"
		"\n"
		"Commands:\n"
		"  stats      uptime, model, protocol, workers, connections,\n"
		"             requests, bytes, errors by kind, request rate,\n"
		"             latency p50/p90/p99/max, CPU time of the serving side\n"
		"  workers [all]  one row per worker (live ones, or every slot\n"
		"             ever used): id, role, pid, tid, state (idle, reading,\n"
		"             writing, waiting), connections accepted and active,\n"
		"             requests, bytes in and out, restarts\n"
		"  syscalls [on|off|reset|workers on|workers off|timing on|\n"
		"           timing off] [--hist NAME] [--workers] [--worker TID]\n"
		"           [--interval S]\n"
		"             the system calls of evd's processes, from the eBPF\n"
		"             probes, sorted by total time: calls, calls per\n"
		"             request, errors, total ms, avg, p50 and p99 us, %% of\n"
		"             time; on/off attach or detach the probes, reset\n"
		"             zeroes them; --hist NAME draws one syscall's log2\n"
		"             latency histogram; --workers one row per thread,\n"
		"             --worker TID one thread's table (per-thread\n"
		"             counting is off by default, it costs on every call:\n"
		"             `workers on` starts it, threads count from then on);\n"
		"             `timing off` counts calls and errors only, with\n"
		"             one tracepoint instead of two (cheaper), `timing\n"
		"             on` times every call again; --interval S the\n"
		"             difference over S seconds\n"
		"  reload     re-read evd.ini, as SIGHUP does: prints applied,\n"
		"             unchanged or restarting (the serving side restarts\n"
		"             on the same sockets); exit 1 when the file has\n"
		"             errors (they are in evd's log; evd -t shows them)\n"
		"  ping       check that evd answers (pid, uptime)\n"
		"  version    versions of evctl and of the running evd\n"
		"%s"
		"  raw LINE   send LINE as a command and print the reply as is\n"
		"  help       this text\n"
		"\n"
		"Options:\n"
		"  -s SOCKET  control socket; default $EVD_SOCKET, else\n"
		"             " DEFAULT_SOCKET ", else ./" TREE_SOCKET
		" (what `make run` uses)\n"
		"             when only that one exists\n"
		"  -o FORMAT  text (default) or json\n"
		"  -T SECONDS give up waiting for a reply after this long (default 5)\n"
		"  -h         this help;  -V  the version of evctl\n"
		"\n"
		"Exit status: 0 success, 1 evd answered an error, 2 usage error,\n"
		"3 evd not reachable (not running, wrong socket, no answer).\n"
		"reload, profile and syscalls on/off/reset/workers on|off/timing\n"
		"on|off need root or evd's own user; the other commands whoever may\n"
		"open the socket ([control] mode and group).\n", profile_usage);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Connects to the chosen socket; prints the reason and returns -1 if not. */
static int open_control(const char *explicit_path, const char **used)
{
	const char *path = explicit_path ? explicit_path : getenv("EVD_SOCKET");
	bool fallback = !path || !*path;

	if (fallback)
		path = DEFAULT_SOCKET;
	int fd = connect_to(path);
	if (fd < 0 && fallback && (errno == ENOENT || errno == ECONNREFUSED)) {
		struct stat st;
		if (stat(TREE_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode)) {
			path = TREE_SOCKET;
			fd = connect_to(path);
		} else {
			errno = ENOENT;
		}
	}
	if (fd < 0 && errno == EACCES) {
		struct stat st;
		bool got = stat(path, &st) == 0;
		fprintf(stderr, "evctl: cannot connect to %s: permission denied: "
			"the socket is mode %03o, group %u; run as root, as evd's "
			"user, or as a member of that group\n", path,
			got ? (unsigned)(st.st_mode & 0777) : 0u,
			got ? (unsigned)st.st_gid : 0u);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "evctl: cannot connect to %s: %s: is evd running?"
			"%s\n", path, strerror(errno),
			explicit_path ? "" : " (use -s SOCKET for another path)");
		return -1;
	}
	*used = path;
	return fd;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when buf ends with a complete reply: a line "END" or "ERROR ...". */
static bool reply_complete(const char *buf, size_t len)
{
	if (len == 0 || buf[len - 1] != '\n')
		return false;
	size_t start = len - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	const char *line = buf + start;
	size_t llen = len - 1 - start;
	if (llen == 3 && memcmp(line, "END", 3) == 0)
		return true;
	/* An ERROR reply is a single line. */
	return start == 0 && llen >= 5 && memcmp(line, "ERROR", 5) == 0;
}

/* Sends one command and reads the whole reply; EXIT_* on failure. */
static int transact(int fd, const char *path, const char *cmd, int timeout_ms,
		    struct reply *r)
{
	size_t clen = strlen(cmd);
	char *line = malloc(clen + 2);
	size_t cap = 8192;

	if (!line)
		return EXIT_NO_DAEMON;
	memcpy(line, cmd, clen);
	line[clen] = '\n';
	if (send(fd, line, clen + 1, MSG_NOSIGNAL) != (ssize_t)(clen + 1)) {
		fprintf(stderr, "evctl: cannot send to %s: %s\n", path,
			strerror(errno));
		free(line);
		return EXIT_NO_DAEMON;
	}
	free(line);
	r->data = malloc(cap);
	r->len = 0;
	if (!r->data)
		return EXIT_NO_DAEMON;
	long long deadline = ms_now() + timeout_ms;
	while (!reply_complete(r->data, r->len)) {
		long long left = deadline - ms_now();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "evctl: no complete answer from %s within "
				"%d ms\n", path, timeout_ms);
			return EXIT_NO_DAEMON;
		}
		if (r->len + 1 >= cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "evctl: reply from %s too large\n",
					path);
				return EXIT_NO_DAEMON;
			}
			cap *= 2;
			char *d = realloc(r->data, cap);
			if (!d)
				return EXIT_NO_DAEMON;
			r->data = d;
		}
		ssize_t n = recv(fd, r->data + r->len, cap - r->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "evctl: %s closed the connection before "
				"answering%s%s\n", path, n < 0 ? ": " : "",
				n < 0 ? strerror(errno) : "");
			return EXIT_NO_DAEMON;
		}
		r->len += (size_t)n;
	}
	r->data[r->len] = '\0';
	if (strncmp(r->data, "ERROR", 5) == 0) {
		fprintf(stderr, "evctl: evd: %s", r->data);
		return EXIT_REPLY_ERROR;
	}
	return EXIT_OK;
}

/* ---- output ------------------------------------------------------------ */

static bool is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Calls fn(key, value) for each "key value" line before END. */
static void each_pair(char *reply, void (*fn)(const char *k, const char *v,
					      void *arg), void *arg)
{
	for (char *line = strtok(reply, "\n"); line; line = strtok(NULL, "\n")) {
		if (strcmp(line, "END") == 0)
			break;
		char *sp = strchr(line, ' ');
		const char *value = "";
		if (sp) {
			*sp = '\0';
			value = sp + 1;
		}
		fn(line, value, arg);
	}
}

struct json_state {
	bool first;
};

static void json_pair(const char *k, const char *v, void *arg)
{
	struct json_state *st = arg;

	printf("%s\n  ", st->first ? "{" : ",");
	st->first = false;
	json_string(k);
	printf(": ");
	if (is_json_number(v))
		fputs(v, stdout);
	else
		json_string(v);
}

static void text_pair(const char *k, const char *v, void *arg)
{
	(void)arg;
	printf("%-22s %s\n", k, v);
}

static void print_reply(char *reply, enum format fmt)
{
	if (fmt == FMT_JSON) {
		struct json_state st = { .first = true };
		each_pair(reply, json_pair, &st);
		puts(st.first ? "{}" : "\n}");
	} else {
		each_pair(reply, text_pair, NULL);
	}
}

/* ---- commands ------------------------------------------------------------ */

/* Prints a "fields a b c" + "worker v v v" reply as a table or a JSON
 * array of objects. */
static void print_table(char *reply, enum format fmt)
{
	char *fields[32];
	int nf = 0;
	bool first = true;
	char *save = NULL;

	if (fmt == FMT_JSON)
		fputs("[", stdout);
	for (char *line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "END") == 0)
			break;
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		char *rest = sp + 1, *fsave = NULL;
		if (strcmp(line, "fields") == 0) {
			for (char *f = strtok_r(rest, " ", &fsave); f && nf < 32;
			     f = strtok_r(NULL, " ", &fsave))
				fields[nf++] = f;
			if (fmt == FMT_TEXT) {
				for (int i = 0; i < nf; i++)
					printf(i ? " %10s" : "%4s", fields[i]);
				putchar('\n');
			}
			continue;
		}
		if (fmt == FMT_JSON)
			printf("%s\n  {", first ? "" : ",");
		first = false;
		int i = 0;
		for (char *v = strtok_r(rest, " ", &fsave); v && i < nf;
		     v = strtok_r(NULL, " ", &fsave), i++) {
			if (fmt == FMT_TEXT) {
				printf(i ? " %10s" : "%4s", v);
				continue;
			}
			printf("%s", i ? ", " : "");
			json_string(fields[i]);
			printf(": ");
			if (is_json_number(v))
				fputs(v, stdout);
			else
				json_string(v);
		}
		fputs(fmt == FMT_JSON ? "}" : "\n", stdout);
	}
	if (fmt == FMT_JSON)
		puts(first ? "]" : "\n]");
}

/* The value of key in a reply, or "?" (copied into out). */
static const char *reply_value(const char *reply, const char *key, char *out,
			       size_t outlen)
{
	size_t klen = strlen(key);

	snprintf(out, outlen, "?");
	for (const char *p = reply; *p; p = strchr(p, '\n') + 1) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		if ((size_t)(nl - p) > klen && !strncmp(p, key, klen) &&
		    p[klen] == ' ') {
			snprintf(out, outlen, "%.*s", (int)(nl - p - klen - 1),
				 p + klen + 1);
			break;
		}
	}
	return out;
}

/* ---- syscalls: the eBPF probes ---------------------------------------------- */

#define SC_BUCKETS 40		/* log2(ns) buckets, as the daemon sends them */

struct sc_row {
	char name[40];
	unsigned nr;
	uint64_t calls, errors, total_ns, max_ns;
	bool has_hist;		/* hist and max_ns known (not per thread) */
	uint64_t hist[SC_BUCKETS];
	/* --workers rows */
	unsigned tid, pid;
	char slot[16], role[16];
};

struct sc_reply {
	char state[8];
	char timing[8];		/* "on", "off"; "" from an older evd */
	unsigned sample;	/* % of each second attached; 0: unknown */
	double seconds;
	uint64_t requests, untracked;
	struct sc_row *rows;
	size_t n;
	struct sc_row one;	/* the syscall of a `syscalls hist` reply */
};

struct sc_opts {
	const char *action;	/* on, off, reset, or NULL */
	const char *hist;	/* --hist NAME */
	const char *worker;	/* --worker TID */
	bool workers;		/* --workers */
	double interval;	/* --interval S: 0 = the totals */
};

static uint64_t u64_of(const char *s)
{
	return strtoull(s, NULL, 10);
}

static unsigned log2_u64(uint64_t v)
{
	return v ? 63u - (unsigned)__builtin_clzll(v) : 0;
}

/* "k:count,k:count" or "-". */
static bool sc_parse_hist(const char *s, struct sc_row *r)
{
	if (!strcmp(s, "-"))
		return true;
	while (*s) {
		char *end;
		unsigned long k = strtoul(s, &end, 10);
		if (*end != ':' || k >= SC_BUCKETS)
			return false;
		r->hist[k] = strtoull(end + 1, &end, 10);
		if (*end == ',')
			end++;
		else if (*end)
			return false;
		s = end;
	}
	return true;
}

static bool sc_add_row(struct sc_reply *rep, const struct sc_row *row)
{
	if (rep->n % 64 == 0) {
		struct sc_row *v = realloc(rep->rows,
					   (rep->n + 64) * sizeof(*v));
		if (!v)
			return false;
		rep->rows = v;
	}
	rep->rows[rep->n++] = *row;
	return true;
}

/* Parses a reply of `syscalls`, `syscalls worker`, `syscalls workers` or
 * `syscalls hist` (in place).  Returns false on a reply it does not know. */
static bool sc_parse(char *reply, struct sc_reply *rep)
{
	char *save = NULL;

	memset(rep, 0, sizeof(*rep));
	for (char *line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[10];
		int n = 0;
		char *wsave = NULL;
		if (!strcmp(line, "END"))
			return true;
		for (char *t = strtok_r(line, " ", &wsave); t && n < 10;
		     t = strtok_r(NULL, " ", &wsave))
			w[n++] = t;
		if (n < 2)
			continue;
		struct sc_row row = { 0 };
		if (!strcmp(w[0], "syscall") && n == 8) {
			snprintf(row.name, sizeof(row.name), "%s", w[1]);
			row.nr = (unsigned)u64_of(w[2]);
			row.calls = u64_of(w[3]);
			row.errors = u64_of(w[4]);
			row.total_ns = u64_of(w[5]);
			row.has_hist = strcmp(w[6], "-") != 0;
			row.max_ns = u64_of(w[6]);
			if (!sc_parse_hist(w[7], &row) || !sc_add_row(rep, &row))
				return false;
		} else if (!strcmp(w[0], "task") && n == 8) {
			row.tid = (unsigned)u64_of(w[1]);
			row.pid = (unsigned)u64_of(w[2]);
			snprintf(row.slot, sizeof(row.slot), "%s", w[3]);
			snprintf(row.role, sizeof(row.role), "%s", w[4]);
			row.calls = u64_of(w[5]);
			row.errors = u64_of(w[6]);
			row.total_ns = u64_of(w[7]);
			if (!sc_add_row(rep, &row))
				return false;
		} else if (!strcmp(w[0], "bucket") && n == 4) {
			uint64_t low = u64_of(w[1]);
			unsigned b = log2_u64(low);
			if (b < SC_BUCKETS)
				rep->one.hist[b] = u64_of(w[3]);
		} else if (!strcmp(w[0], "state")) {
			snprintf(rep->state, sizeof(rep->state), "%s", w[1]);
		} else if (!strcmp(w[0], "sample")) {
			rep->sample = (unsigned)u64_of(w[1]);
		} else if (!strcmp(w[0], "timing")) {
			snprintf(rep->timing, sizeof(rep->timing), "%s", w[1]);
		} else if (!strcmp(w[0], "seconds")) {
			rep->seconds = strtod(w[1], NULL);
		} else if (!strcmp(w[0], "requests")) {
			rep->requests = u64_of(w[1]);
		} else if (!strcmp(w[0], "untracked_processes")) {
			rep->untracked = u64_of(w[1]);
		} else if (!strcmp(w[0], "name")) {
			snprintf(rep->one.name, sizeof(rep->one.name), "%s", w[1]);
			rep->one.has_hist = true;
		} else if (!strcmp(w[0], "nr")) {
			rep->one.nr = (unsigned)u64_of(w[1]);
		} else if (!strcmp(w[0], "calls")) {
			rep->one.calls = u64_of(w[1]);
		} else if (!strcmp(w[0], "errors")) {
			rep->one.errors = u64_of(w[1]);
		} else if (!strcmp(w[0], "total_ns")) {
			rep->one.total_ns = u64_of(w[1]);
		} else if (!strcmp(w[0], "max_ns")) {
			rep->one.max_ns = u64_of(w[1]);
		}
	}
	return false;
}

static void sc_row_sub(struct sc_row *r, const struct sc_row *before)
{
	r->calls -= before->calls;
	r->errors -= before->errors;
	r->total_ns -= before->total_ns;
	for (int b = 0; b < SC_BUCKETS; b++)
		r->hist[b] -= before->hist[b];
	/* max_ns stays the maximum since the last reset. */
}

/* b becomes b - a, row by row (syscall number, or thread). */
static void sc_delta(struct sc_reply *b, const struct sc_reply *a)
{
	size_t keep = 0;

	b->seconds -= a->seconds;
	b->requests -= a->requests;
	sc_row_sub(&b->one, &a->one);
	for (size_t i = 0; i < b->n; i++) {
		struct sc_row *r = &b->rows[i];
		for (size_t j = 0; j < a->n; j++)
			if (a->rows[j].nr == r->nr && a->rows[j].tid == r->tid) {
				sc_row_sub(r, &a->rows[j]);
				break;
			}
		if (r->calls)
			b->rows[keep++] = *r;
	}
	b->n = keep;
}

/* Latency at quantile q from the log2 histogram, interpolated linearly
 * inside the bucket and never above the maximum; -1 without a histogram. */
static double sc_quantile_ns(const struct sc_row *r, double q)
{
	uint64_t total = 0, cum = 0;

	for (int b = 0; b < SC_BUCKETS; b++)
		total += r->hist[b];
	if (!r->has_hist || !total)
		return -1;
	uint64_t rank = (uint64_t)ceil(q * (double)total);
	if (rank < 1)
		rank = 1;
	for (int b = 0; b < SC_BUCKETS; b++) {
		if (cum + r->hist[b] < rank) {
			cum += r->hist[b];
			continue;
		}
		double low = b ? (double)(1ull << b) : 0;
		double high = b == SC_BUCKETS - 1 ? (double)r->max_ns :
						    (double)(1ull << (b + 1));
		double v = low + (high - low) * (double)(rank - cum) /
					 (double)r->hist[b];
		if (v > (double)r->max_ns)
			v = (double)r->max_ns;
		return v;
	}
	return -1;
}

/* Mean time of the timed calls in ns, -1 when none was timed.  The
 * histogram counts exactly the timed calls; a per-thread row has none and
 * times all its calls or, with timing off, none. */
static double sc_avg_ns(const struct sc_row *r)
{
	uint64_t timed = 0;

	if (!r->has_hist)
		timed = r->total_ns ? r->calls : 0;
	for (int b = 0; r->has_hist && b < SC_BUCKETS; b++)
		timed += r->hist[b];
	return timed ? (double)r->total_ns / (double)timed : -1;
}

static int sc_cmp_total(const void *x, const void *y)
{
	const struct sc_row *a = x, *b = y;

	if (a->total_ns != b->total_ns)
		return a->total_ns > b->total_ns ? -1 : 1;
	if (a->calls != b->calls)
		return a->calls > b->calls ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* A number for the text table: "-" when unknown (negative). */
static const char *num(char *buf, size_t len, int prec, double v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

/* "key": v with prec decimals, or null when unknown (negative). */
static void json_num(const char *key, double v, int prec, bool more)
{
	printf("\"%s\": ", key);
	if (v < 0)
		fputs("null", stdout);
	else
		printf("%.*f", prec, v);
	if (more)
		fputs(", ", stdout);
}

static void sc_print_table(struct sc_reply *rep, enum format fmt,
			   const char *tid)
{
	uint64_t calls = 0, total_ns = 0;
	bool per_req = !tid && rep->requests > 0;

	/* No rows: rows is NULL, which qsort must not get even for n = 0. */
	if (rep->n > 0)
		qsort(rep->rows, rep->n, sizeof(*rep->rows), sc_cmp_total);
	for (size_t i = 0; i < rep->n; i++) {
		calls += rep->rows[i].calls;
		total_ns += rep->rows[i].total_ns;
	}
	double req = (double)rep->requests;
	if (fmt == FMT_JSON) {
		printf("{\"state\": \"%s\", \"timing\": \"%s\", \"sample_pct\": "
		       "%u, \"seconds\": %.3f, \"requests\": %llu, "
		       "\"untracked_processes\": %llu, ",
		       rep->state, rep->timing, rep->sample, rep->seconds,
		       (unsigned long long)rep->requests,
		       (unsigned long long)rep->untracked);
		if (tid)
			printf("\"tid\": %s, ", tid);
		printf("\"calls\": %llu, ", (unsigned long long)calls);
		json_num("calls_per_request", per_req ? (double)calls / req : -1,
			 3, true);
		printf("\"total_ms\": %.3f, \"syscalls\": [",
		       (double)total_ns / 1e6);
		for (size_t i = 0; i < rep->n; i++) {
			const struct sc_row *r = &rep->rows[i];
			printf("%s\n  {\"name\": ", i ? "," : "");
			json_string(r->name);
			printf(", \"nr\": %u, \"calls\": %llu, ", r->nr,
			       (unsigned long long)r->calls);
			json_num("calls_per_request",
				 per_req ? (double)r->calls / req : -1, 3, true);
			printf("\"errors\": %llu, ", (unsigned long long)r->errors);
			json_num("total_ms", (double)r->total_ns / 1e6, 3, true);
			double avg = sc_avg_ns(r);
			json_num("avg_us", avg < 0 ? -1 : avg / 1e3, 3, true);
			double p50 = sc_quantile_ns(r, 0.50);
			double p99 = sc_quantile_ns(r, 0.99);
			json_num("p50_us", p50 < 0 ? -1 : p50 / 1e3, 3, true);
			json_num("p99_us", p99 < 0 ? -1 : p99 / 1e3, 3, true);
			json_num("max_us", r->has_hist ? (double)r->max_ns / 1e3
						       : -1, 3, true);
			json_num("time_pct", total_ns ? 100.0 * (double)r->total_ns /
						      (double)total_ns : 0,
				 2, false);
			putchar('}');
		}
		puts(rep->n ? "\n]}" : "]}");
		return;
	}
	char a[32], b[32], c[32], d[32];
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
	printf("%-22s %10s %9s %8s %10s %9s %9s %9s %6s\n", "syscall", "calls",
	       "calls/req", "errors", "total_ms", "avg_us", "p50_us", "p99_us",
	       "%time");
	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		double p50 = sc_quantile_ns(r, 0.50), p99 = sc_quantile_ns(r, 0.99);
		double avg = sc_avg_ns(r);
		printf("%-22s %10llu %9s %8llu %10.3f %9s %9s %9s %6.2f\n",
		       r->name, (unsigned long long)r->calls,
		       num(a, sizeof(a), 3,
			   per_req ? (double)r->calls / req : -1),
		       (unsigned long long)r->errors, (double)r->total_ns / 1e6,
		       num(d, sizeof(d), 2, avg < 0 ? -1 : avg / 1e3),
		       num(b, sizeof(b), 2, p50 < 0 ? -1 : p50 / 1e3),
		       num(c, sizeof(c), 2, p99 < 0 ? -1 : p99 / 1e3),
		       total_ns ? 100.0 * (double)r->total_ns / (double)total_ns
				: 0.0);
	}
}

static void sc_print_hist(const struct sc_reply *rep, enum format fmt)
{
	const struct sc_row *r = &rep->one;
	int first = -1, last = -1;
	uint64_t top = 0;

	for (int b = 0; b < SC_BUCKETS; b++)
		if (r->hist[b]) {
			if (first < 0)
				first = b;
			last = b;
			if (r->hist[b] > top)
				top = r->hist[b];
		}
	if (fmt == FMT_JSON) {
		printf("{\"name\": ");
		json_string(r->name);
		printf(", \"nr\": %u, \"seconds\": %.3f, \"calls\": %llu, "
		       "\"errors\": %llu, \"total_ns\": %llu, \"max_ns\": %llu, "
		       "\"buckets\": [", r->nr, rep->seconds,
		       (unsigned long long)r->calls,
		       (unsigned long long)r->errors,
		       (unsigned long long)r->total_ns,
		       (unsigned long long)r->max_ns);
		for (int b = first; first >= 0 && b <= last; b++)
			printf("%s\n  {\"low_ns\": %llu, \"high_ns\": %llu, "
			       "\"count\": %llu}", b > first ? "," : "",
			       b ? 1ull << b : 0ull,
			       b == SC_BUCKETS - 1 ? (unsigned long long)r->max_ns
						   : (1ull << (b + 1)) - 1,
			       (unsigned long long)r->hist[b]);
		puts(first >= 0 ? "\n]}" : "]}");
		return;
	}
	double avg = sc_avg_ns(r);
	char avg_s[32];
	printf("%s: %llu calls, %llu errors, %.3f ms in all, avg %s us, "
	       "max %.2f us (over %.1f s)\n", r->name,
	       (unsigned long long)r->calls, (unsigned long long)r->errors,
	       (double)r->total_ns / 1e6,
	       num(avg_s, sizeof(avg_s), 2, avg < 0 ? -1 : avg / 1e3),
	       (double)r->max_ns / 1e3, rep->seconds);
	printf("%25s %10s  %s\n", "nanoseconds", "count", "distribution");
	for (int b = first; first >= 0 && b <= last; b++) {
		int stars = (int)((r->hist[b] * 40 + top - 1) / top);
		char bar[41];
		memset(bar, '*', (size_t)stars);
		memset(bar + stars, ' ', (size_t)(40 - stars));
		bar[40] = '\0';
		if (b == SC_BUCKETS - 1)
			printf("%11llu -> %-10s : %10llu  |%s|\n", 1ull << b,
			       "", (unsigned long long)r->hist[b], bar);
		else
			printf("%11llu -> %-10llu : %10llu  |%s|\n",
			       b ? 1ull << b : 0ull, (1ull << (b + 1)) - 1,
			       (unsigned long long)r->hist[b], bar);
	}
}

static int sc_cmp_task(const void *x, const void *y)
{
	const struct sc_row *a = x, *b = y;

	if (a->total_ns != b->total_ns)
		return a->total_ns > b->total_ns ? -1 : 1;
	return a->tid < b->tid ? -1 : a->tid > b->tid;
}

static void sc_print_workers(struct sc_reply *rep, enum format fmt)
{
	uint64_t total_ns = 0;

	if (rep->n > 0)
		qsort(rep->rows, rep->n, sizeof(*rep->rows), sc_cmp_task);
	for (size_t i = 0; i < rep->n; i++)
		total_ns += rep->rows[i].total_ns;
	if (fmt == FMT_JSON)
		fputs("[", stdout);
	else
		printf("%8s %8s %5s %-9s %10s %8s %10s %6s\n", "tid", "pid",
		       "slot", "role", "calls", "errors", "total_ms", "%time");
	for (size_t i = 0; i < rep->n; i++) {
		const struct sc_row *r = &rep->rows[i];
		double pct = total_ns ? 100.0 * (double)r->total_ns /
						(double)total_ns : 0;
		if (fmt == FMT_TEXT) {
			printf("%8u %8u %5s %-9s %10llu %8llu %10.3f %6.2f\n",
			       r->tid, r->pid, r->slot, r->role,
			       (unsigned long long)r->calls,
			       (unsigned long long)r->errors,
			       (double)r->total_ns / 1e6, pct);
			continue;
		}
		printf("%s\n  {\"tid\": %u, \"pid\": %u, \"slot\": ",
		       i ? "," : "", r->tid, r->pid);
		if (is_json_number(r->slot))
			fputs(r->slot, stdout);
		else
			fputs("null", stdout);
		printf(", \"role\": ");
		json_string(r->role);
		printf(", \"calls\": %llu, \"errors\": %llu, \"total_ms\": %.3f, "
		       "\"time_pct\": %.2f}", (unsigned long long)r->calls,
		       (unsigned long long)r->errors, (double)r->total_ns / 1e6,
		       pct);
	}
	if (fmt == FMT_JSON)
		puts(rep->n ? "\n]" : "]");
}

/* Returns 0 with opts filled, or prints why not and returns EXIT_USAGE. */
static int sc_parse_args(int nargs, char **args, struct sc_opts *o)
{
	memset(o, 0, sizeof(*o));
	for (int i = 0; i < nargs; i++) {
		const char *a = args[i];
		bool has_value = i + 1 < nargs;
		if (!strcmp(a, "--workers")) {
			o->workers = true;
		} else if (!strcmp(a, "--hist") || !strcmp(a, "--worker") ||
			   !strcmp(a, "--interval")) {
			if (!has_value) {
				fprintf(stderr, "evctl: %s needs an argument\n", a);
				return EXIT_USAGE;
			}
			const char *v = args[++i];
			if (a[2] == 'h') {
				o->hist = v;
			} else if (a[3] == 'o') {
				o->worker = v;
			} else {
				char *end;
				o->interval = strtod(v, &end);
				if (*end || !(o->interval > 0) ||
				    o->interval > 3600) {
					fprintf(stderr, "evctl: --interval wants "
						"seconds in (0, 3600], got \"%s\"\n",
						v);
					return EXIT_USAGE;
				}
			}
		} else if (!o->action && (!strcmp(a, "on") || !strcmp(a, "off") ||
					  !strcmp(a, "reset"))) {
			o->action = a;
		} else if (!o->action && has_value &&
			   (!strcmp(a, "workers") || !strcmp(a, "timing")) &&
			   (!strcmp(args[i + 1], "on") ||
			    !strcmp(args[i + 1], "off"))) {
			bool on = !strcmp(args[++i], "on");
			if (a[0] == 'w')
				o->action = on ? "workers on" : "workers off";
			else
				o->action = on ? "timing on" : "timing off";
		} else {
			fprintf(stderr, "evctl: syscalls: unexpected \"%s\" "
				"(usage: syscalls [on|off|reset|workers on|"
				"workers off|timing on|timing off] [--hist NAME] "
				"[--workers] [--worker TID] [--interval S])\n", a);
			return EXIT_USAGE;
		}
	}
	int views = !!o->hist + !!o->worker + o->workers;
	if (views > 1 || (o->action && (views || o->interval))) {
		fprintf(stderr, "evctl: syscalls: choose one of on, off, reset, "
			"--hist, --workers and --worker\n");
		return EXIT_USAGE;
	}
	if (o->worker) {
		char *end;
		unsigned long t = strtoul(o->worker, &end, 10);
		if (*end || !t || t > 0x7fffffff || !isdigit((unsigned char)
							      o->worker[0])) {
			fprintf(stderr, "evctl: --worker wants a thread id (the "
				"tid column of evctl workers or syscalls "
				"--workers), got \"%s\"\n", o->worker);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* evctl syscalls ...: one or two (--interval) exchanges on one connection. */
static int syscalls_main(int fd, const char *used, int timeout_ms,
			 enum format fmt, int nargs, char **args)
{
	struct sc_opts o;
	char line[128];
	int rc = sc_parse_args(nargs, args, &o);

	if (rc)
		return rc;
	if (o.action)
		snprintf(line, sizeof(line), "syscalls %s", o.action);
	else if (o.hist)
		snprintf(line, sizeof(line), "syscalls hist %.60s", o.hist);
	else if (o.worker)
		snprintf(line, sizeof(line), "syscalls worker %s", o.worker);
	else if (o.workers)
		snprintf(line, sizeof(line), "syscalls workers");
	else
		snprintf(line, sizeof(line), "syscalls");

	struct reply r1 = { 0 }, r2 = { 0 };
	struct sc_reply a = { 0 }, b = { 0 };
	rc = transact(fd, used, line, timeout_ms, &r1);
	if (rc == EXIT_OK && o.interval > 0) {
		struct timespec ts = {
			.tv_sec = (time_t)o.interval,
			.tv_nsec = (long)((o.interval - (double)(time_t)o.interval) *
					  1e9),
		};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		rc = transact(fd, used, line, timeout_ms, &r2);
	}
	if (rc != EXIT_OK)
		goto out;
	if (o.action) {
		char state[16];
		if (fmt == FMT_JSON)
			print_reply(r1.data, fmt);
		else if (!strncmp(o.action, "workers", 7))
			printf("per-thread syscall counting %s\n",
			       reply_value(r1.data, "per_thread", state,
					   sizeof(state)));
		else if (!strncmp(o.action, "timing", 6))
			printf("syscall timing %s\n",
			       reply_value(r1.data, "timing", state,
					   sizeof(state)));
		else
			printf("syscall probes %s\n", !strcmp(o.action, "reset") ?
				"reset" : reply_value(r1.data, "state", state,
						      sizeof(state)));
		goto out;
	}
	if (!sc_parse(r1.data, &a) ||
	    (o.interval > 0 && !sc_parse(r2.data, &b))) {
		fprintf(stderr, "evctl: unexpected reply from %s\n", used);
		rc = EXIT_NO_DAEMON;
		goto out;
	}
	struct sc_reply *show = &a;
	if (o.interval > 0) {
		sc_delta(&b, &a);
		show = &b;
	}
	if (o.hist)
		sc_print_hist(show, fmt);
	else if (o.workers)
		sc_print_workers(show, fmt);
	else
		sc_print_table(show, fmt, o.worker);
out:
	free(a.rows);
	free(b.rows);
	free(r1.data);
	free(r2.data);
	return rc;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *used = NULL;
	const char *command = NULL;
	char raw[1100];
	enum format fmt = FMT_TEXT;
	int timeout_ms = 5000;
	int nargs = 0;
	char *args[16];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help") ||
		    (!command && !strcmp(a, "help"))) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("evctl %s\n", EVD_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "-s") || !strcmp(a, "-o") ||
			   !strcmp(a, "-T")) {
			if (i + 1 == argc) {
				fprintf(stderr, "evctl: %s needs an argument\n", a);
				return EXIT_USAGE;
			}
			const char *v = argv[++i];
			if (a[1] == 's') {
				sock = v;
			} else if (a[1] == 'o') {
				if (!strcmp(v, "json"))
					fmt = FMT_JSON;
				else if (!strcmp(v, "text"))
					fmt = FMT_TEXT;
				else {
					fprintf(stderr, "evctl: unknown format "
						"\"%s\" (expected text or json)\n",
						v);
					return EXIT_USAGE;
				}
			} else {
				char *end;
				double s = strtod(v, &end);
				if (*end || !(s > 0) || s > 3600) {
					fprintf(stderr, "evctl: -T wants seconds "
						"in (0, 3600], got \"%s\"\n", v);
					return EXIT_USAGE;
				}
				timeout_ms = (int)(s * 1000);
				if (timeout_ms < 1)
					timeout_ms = 1;
			}
		} else if (!command && !strcmp(a, "profile")) {
			return profile_main(sock, timeout_ms, fmt == FMT_JSON,
					    argc - i - 1, argv + i + 1);
		} else if (command && !strcmp(command, "syscalls") &&
			   !strncmp(a, "--", 2) && a[2]) {
			/* Its own options, checked by sc_parse_args(). */
			bool value = !strcmp(a, "--hist") ||
				     !strcmp(a, "--worker") ||
				     !strcmp(a, "--interval");
			if (nargs + 1 + value > (int)(sizeof(args) /
						      sizeof(args[0]))) {
				fprintf(stderr, "evctl: too many arguments\n");
				return EXIT_USAGE;
			}
			args[nargs++] = argv[i];
			if (value && i + 1 < argc)
				args[nargs++] = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "evctl: unknown option \"%s\"\n", a);
			usage(stderr);
			return EXIT_USAGE;
		} else if (!command) {
			command = a;
		} else if (nargs < (int)(sizeof(args) / sizeof(args[0]))) {
			args[nargs++] = argv[i];
		} else {
			fprintf(stderr, "evctl: too many arguments\n");
			return EXIT_USAGE;
		}
	}
	if (!command) {
		usage(stderr);
		return EXIT_USAGE;
	}

	if (!strcmp(command, "syscalls")) {
		struct sc_opts o;
		int rc = sc_parse_args(nargs, args, &o);
		if (rc)
			return rc;
		int fd = open_control(sock, &used);
		if (fd < 0)
			return EXIT_NO_DAEMON;
		rc = syscalls_main(fd, used, timeout_ms, fmt, nargs, args);
		close(fd);
		return rc;
	}

	const char *line = command;
	bool is_raw = !strcmp(command, "raw");
	if (is_raw) {
		size_t used_len = 0;
		raw[0] = '\0';
		if (nargs == 0) {
			fprintf(stderr, "evctl: raw needs a command line\n");
			return EXIT_USAGE;
		}
		for (int i = 0; i < nargs; i++) {
			int n = snprintf(raw + used_len, sizeof(raw) - used_len,
					 "%s%s", i ? " " : "", args[i]);
			if (n < 0 || (size_t)n >= sizeof(raw) - used_len) {
				fprintf(stderr, "evctl: command line too long\n");
				return EXIT_USAGE;
			}
			used_len += (size_t)n;
		}
		line = raw;
	} else if (!strcmp(command, "workers")) {
		if (nargs > 1 || (nargs == 1 && strcmp(args[0], "all"))) {
			fprintf(stderr, "evctl: usage: workers [all]\n");
			return EXIT_USAGE;
		}
		line = nargs ? "workers all" : "workers";
	} else if (strcmp(command, "stats") && strcmp(command, "ping") &&
		   strcmp(command, "version") && strcmp(command, "reload")) {
		fprintf(stderr, "evctl: unknown command \"%s\" (expected stats, "
			"workers, syscalls, reload, ping, version, raw or help)\n",
			command);
		return EXIT_USAGE;
	} else if (nargs) {
		fprintf(stderr, "evctl: %s takes no argument (got \"%s\")\n",
			command, args[0]);
		return EXIT_USAGE;
	}

	int fd = open_control(sock, &used);
	if (fd < 0)
		return EXIT_NO_DAEMON;
	struct reply r = { 0 };
	int rc = transact(fd, used, line, timeout_ms, &r);
	close(fd);
	if (rc != EXIT_OK) {
		free(r.data);
		return rc;
	}

	if (is_raw) {
		fputs(r.data, stdout);
	} else if (!strcmp(command, "workers")) {
		print_table(r.data, fmt);
	} else if (!strcmp(command, "ping") && fmt == FMT_TEXT) {
		char pid[32], up[32];
		printf("evd is alive at %s (pid %s, up %s s)\n", used,
		       reply_value(r.data, "pid", pid, sizeof(pid)),
		       reply_value(r.data, "uptime_seconds", up, sizeof(up)));
	} else if (!strcmp(command, "reload") && fmt == FMT_TEXT) {
		char v[32];
		printf("%s\n", reply_value(r.data, "reload", v, sizeof(v)));
	} else if (!strcmp(command, "version") && fmt == FMT_TEXT) {
		char v[64];
		printf("evctl %s\nevd %s\n", EVD_VERSION,
		       reply_value(r.data, "version", v, sizeof(v)));
	} else {
		print_reply(r.data, fmt);
	}
	free(r.data);
	return EXIT_OK;
}
