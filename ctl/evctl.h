/* evctl's pieces: the command table, the connection to evd, the reply
 * parsers and the output helpers shared by the per-command files.
 *
 * Adding a command: a file ctl/NAME.c that ends with
 *	const struct evctl_cmd evctl_cmd_NAME = { .name = "NAME", ... };
 * and one line in the table of ctl/commands.c.  The Makefile builds every C
 * file of ctl/; help, `evctl NAME --help`, option parsing and the check of -o
 * come from the row. */
#ifndef EVD_EVCTL_H
#define EVD_EVCTL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../common/ctl_wire.h"

struct json_object;

enum exit_code {
	EXIT_OK = 0,
	EXIT_REPLY_ERROR = 1,	/* evd answered ERROR */
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,	/* cannot connect, or no complete answer */
};

/* folded and svg: evctl profile's (its text is the folded stacks). */
enum format { FMT_TEXT, FMT_JSON, FMT_PROM, FMT_FOLDED, FMT_SVG, FMT_MAX };

#define FMT_BIT(f) (1u << (f))
#define FMTS_ALL (FMT_BIT(FMT_TEXT) | FMT_BIT(FMT_JSON) | FMT_BIT(FMT_PROM))
#define FMTS_TEXT_JSON (FMT_BIT(FMT_TEXT) | FMT_BIT(FMT_JSON))

extern const char *const format_names[FMT_MAX];

/* The JSON shapes' version: the "schema" member of every JSON object evctl
 * prints (evctl(8) documents each shape). */
#define EVCTL_JSON_SCHEMA 1

/* The connection to evd, opened on first use. */
struct evctl {
	const char *sock_opt;	/* -s, or NULL: $EVD_SOCKET and defaults */
	const char *path;	/* the socket connected to */
	int fd;			/* -1 until connected */
	int timeout_ms;
	bool timeout_given;	/* -T was on the command line */
	enum format fmt;
};

/* What one invocation asks for: filled by the command's opt() and
 * make_request(), read by its print() or run(). */
struct evctl_req {
	enum format fmt;	/* -o */
	char line[CTL_WIRE_LINE_MAX + 1];	/* the command line sent */
	void *priv;		/* the command's own parsed arguments */
	int count;		/* --count N: 0 = no limit */
	double interval;	/* --interval / --watch S: 0 = none */
};

struct evctl_cmd {
	const char *name;
	const char *args;	/* synopsis after the name ("" if none) */
	const char *summary;	/* one line for `evctl help` */
	const char *help;	/* more, for `evctl NAME --help`; may be NULL */
	/* Changes evd's state: root or evd's own user only (evd checks; the
	 * help says so).  Commands with both kinds of forms say which in
	 * their help and leave this false. */
	bool needs_admin;
	unsigned formats;	/* FMT_BIT()s it prints */
	int default_timeout_ms;	/* without -T; 0 = the global default */
	/* Its own long options ({0}-terminated) and their handler: 0, or
	 * EXIT_USAGE after saying why.  Values from 256 up (below: the
	 * global options' letters); a long name that is also a global
	 * option's replaces it after the command's name (profile's
	 * --output FILE; -o stays the format). */
	const struct option *options;
	int (*opt)(struct evctl_req *r, int val, const char *arg);
	/* Checks the words after the name, fills r->line (or leaves it
	 * empty when run() does the talking); 0 or EXIT_USAGE after saying
	 * why, before any connection is made. */
	int (*make_request)(struct evctl_req *r, int argc, char **argv);
	/* Prints a complete, non-ERROR reply (modifiable); an EXIT_* code. */
	int (*print)(struct evctl *e, struct evctl_req *r, char *reply);
	/* Replaces the one exchange + print when set (several exchanges,
	 * loops); an EXIT_* code. */
	int (*run)(struct evctl *e, struct evctl_req *r);
};

/* The table (ctl/commands.c), in the order of `evctl help`. */
extern const struct evctl_cmd *const evctl_commands[];
extern const size_t evctl_ncommands;

/* ---- ctl/conn.c: the control socket ---------------------------------- */

/* Connects if not yet connected; prints why not and returns
 * EXIT_NO_DAEMON on failure, else EXIT_OK. */
int evctl_connect(struct evctl *e);

/* Sends line and reads the whole reply into *out (malloc'd, NUL-ended, the
 * caller frees it, also on failure).  An ERROR reply is printed to stderr
 * ("evctl: evd: ERROR ...") and gives EXIT_REPLY_ERROR; quiet_error keeps
 * it quiet (the caller looks at *out). */
int evctl_transact(struct evctl *e, const char *line, char **out,
		   bool quiet_error);

/* True when buf ends with a complete reply: a last line END, or a last
 * line starting with ERROR. */
bool reply_complete(const char *buf, size_t len);

/* Sleeps s seconds (EINTR resumed); false when *stop became true. */
bool evctl_sleep(double s, volatile int *stop);

/* ---- ctl/reply.c: reply parsing ----------------------------------------- */

/*
 * The next "KEY VALUE" line of a reply, split in place at its first space
 * (lines without one are passed over): 1 with *key and *value set, 0 at
 * the END line, -1 when the reply ends without one.  *save is NULL on the
 * first call, which passes reply (NULL after), as for strtok_r.
 */
int next_pair(char *reply, char **save, char **key, char **value);

/* Calls fn(key, value, arg) for each "key value" line before END
 * (modifies reply). */
void each_pair(char *reply, void (*fn)(const char *k, const char *v,
				       void *arg), void *arg);

/* The value of key in a reply (copied into out, at most outlen), or "?". */
const char *reply_value(const char *reply, const char *key, char *out,
			size_t outlen);

/* Splits line in place on spaces into at most max words; the count. */
int split_words(char *line, char **w, int max);

uint64_t u64_of(const char *s);

/* The daemon's `stats [hist]` reply, typed. */
struct stats_reply {
	char version[32], model[32], protocol[32];
	long pid;
	double uptime_s, request_rate, cpu_user_s, cpu_sys_s;
	unsigned workers, max_connections;
	uint64_t connections_active;
	char listen[512];	/* comma-separated, as sent */
	double p50_us, p90_us, p99_us, max_us;
	struct stats_total tot;	/* counters; hist and sums with `hist` */
	bool has_hist;
};

/* Parses a stats reply (modifies it).  Returns 0, or -1 on a reply that is
 * not one (a histogram in another layout included). */
int stats_parse(char *reply, struct stats_reply *s);

/* One `stats` (hist: `stats hist`) exchange, parsed into *s: an EXIT_*
 * code (ctl/stats.c). */
int evctl_stats(struct evctl *e, bool hist, struct stats_reply *s);

/* The `workers` table, typed. */
struct worker_row {
	unsigned id;
	char role[16], state[16];
	long pid, tid;
	uint64_t accepted, requests, bytes_in, bytes_out, restarts;
	int64_t active;
};

/* Parses a workers reply (modifies it) into *rows (malloc'd, the caller
 * frees).  Returns the row count, or -1. */
long workers_parse(char *reply, struct worker_row **rows);

struct prom_worker;

/* The n rows as common/prom.h's workers, malloc'd (the caller frees); NULL
 * when out of memory, or when n is 0. */
struct prom_worker *workers_prom_rows(const struct worker_row *rows, long n);

/* ---- ctl/out.c: output helpers ---------------------------------------- */

/* A new JSON object with "schema" first. */
struct json_object *json_schema_object(void);

/* A JSON value for a wire value: an integer, a number (kept as written),
 * or a string. */
struct json_object *json_wire_value(const char *v);

/* A number with prec decimals, or null when v is negative (unknown). */
struct json_object *json_fixed(double v, int prec);

/* Prints obj (pretty) and a newline, and releases it. */
void json_print(struct json_object *obj);

/* Writes Prometheus text to stdout (struct prom_out's write). */
void prom_stdout(void *arg, const char *s, size_t n);

/* "-" when v is negative, else v with prec decimals. */
const char *num(char *buf, size_t len, int prec, double v);

/* Says on stderr that the reply from evd was not understood; returns
 * EXIT_NO_DAEMON. */
int bad_reply(const struct evctl *e);

/* Prints the usage text of one command (`evctl NAME --help`). */
void evctl_cmd_usage(const struct evctl_cmd *c, FILE *out);

#endif
