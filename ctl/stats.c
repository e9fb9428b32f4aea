/* evctl stats [--watch S [--count N]]: evd's counters, latency and CPU
 * time as text, JSON or Prometheus text; --watch prints a line of rates
 * every S seconds, vmstat-style. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "evctl.h"
#include "rates.h"
#include "../common/prom.h"

#define WATCH_HEADER_EVERY 20

enum { OPT_WATCH = 256, OPT_COUNT };

int evctl_stats(struct evctl *e, bool hist, struct stats_reply *s)
{
	char *reply = NULL;
	int rc = evctl_transact(e, hist ? CTL_CMD_STATS " " CTL_STATS_HIST :
					  CTL_CMD_STATS, &reply, hist);

	/* An evd without `stats hist` says "ERROR usage: stats": the
	 * counters alone then (no histogram, no interval percentiles). */
	if (rc == EXIT_REPLY_ERROR && hist &&
	    !strncmp(reply, CTL_WIRE_ERROR " usage: " CTL_CMD_STATS,
		     strlen(CTL_WIRE_ERROR " usage: " CTL_CMD_STATS))) {
		free(reply);
		rc = evctl_transact(e, CTL_CMD_STATS, &reply, false);
	} else if (rc == EXIT_REPLY_ERROR && hist) {
		fprintf(stderr, "evctl: evd: %s", reply);
	}
	if (rc == EXIT_OK && stats_parse(reply, s) < 0)
		rc = bad_reply(e);
	free(reply);
	return rc;
}

/* ---- one reply ---------------------------------------------------------- */

static void text_pair(const char *k, const char *v, void *arg)
{
	(void)arg;
	printf("%-22s %s\n", k, v);
}

static void json_pair(const char *k, const char *v, void *arg)
{
	struct json_object *o = arg, *val;

	if (!strcmp(k, "listen")) {
		/* "a:1,b:2": an array of addresses. */
		char *copy = strdup(v), *save = NULL;
		val = json_object_new_array();
		for (char *a = copy ? strtok_r(copy, ",", &save) : NULL; a;
		     a = strtok_r(NULL, ",", &save))
			json_object_array_add(val, json_object_new_string(a));
		free(copy);
	} else {
		val = json_wire_value(v);
	}
	json_object_object_add(o, k, val);
}

/* The latency keys: null before the first request (no sample). */
static void json_no_latency(struct json_object *o)
{
	static const char *const lat[] = { "latency_p50_us", "latency_p90_us",
					   "latency_p99_us", "latency_max_us" };
	struct json_object *req;

	if (!json_object_object_get_ex(o, "requests", &req) ||
	    json_object_get_uint64(req) != 0)
		return;
	for (size_t i = 0; i < sizeof(lat) / sizeof(*lat); i++)
		if (json_object_object_get_ex(o, lat[i], NULL))
			json_object_object_add(o, lat[i], NULL);
}

/* Prometheus: `stats hist` parsed, to prom_server(). */
static int stats_prom(struct evctl *e)
{
	struct stats_reply s;
	const struct prom_out out = { prom_stdout, NULL };
	int rc = evctl_stats(e, true, &s);

	if (rc)
		return rc;
	const struct prom_ident id = { s.model, s.protocol };
	const struct prom_server ps = {
		.version = s.version,
		.uptime_s = s.uptime_s,
		.cpu_user_s = s.cpu_user_s,
		.cpu_sys_s = s.cpu_sys_s,
		.workers = s.workers,
		.max_connections = s.max_connections,
		.tot = &s.tot,
		.has_hist = s.has_hist,
	};
	prom_server(&out, &id, &ps);
	return EXIT_OK;
}

static int stats_print(struct evctl *e, struct evctl_req *r, char *reply)
{
	(void)e;
	if (r->fmt == FMT_TEXT) {
		each_pair(reply, text_pair, NULL);
		return EXIT_OK;
	}
	struct json_object *o = json_schema_object();
	each_pair(reply, json_pair, o);
	json_no_latency(o);
	json_print(o);
	return EXIT_OK;
}

/* ---- --watch ------------------------------------------------------------ */

static void watch_header(void)
{
	printf("%9s %7s %6s %8s %8s %6s %8s %8s %9s\n", "req/s", "conn/s",
	       "active", "in_kB/s", "out_kB/s", "err/s", "p50_us", "p99_us",
	       "cpu_us/rq");
}

static void watch_line(const struct rates *rt, const struct stats_reply *b)
{
	char p50[32], p99[32], cpu[32];

	printf("%9.1f %7.1f %6llu %8.1f %8.1f %6.1f %8s %8s %9s\n", rt->req_s,
	       rt->conn_s, (unsigned long long)b->connections_active,
	       rt->in_Bps / 1e3, rt->out_Bps / 1e3, rt->err_s,
	       num(p50, sizeof(p50), 1, rt->p50_us),
	       num(p99, sizeof(p99), 1, rt->p99_us),
	       num(cpu, sizeof(cpu), 1, rt->cpu_us_per_req));
}

static int stats_watch(struct evctl *e, struct evctl_req *r)
{
	struct stats_reply *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	int rc = a && b ? evctl_stats(e, true, a) : EXIT_NO_DAEMON;

	for (int n = 0; rc == EXIT_OK && (!r->count || n < r->count); n++) {
		if (n % WATCH_HEADER_EVERY == 0)
			watch_header();
		fflush(stdout);
		evctl_sleep(r->interval, NULL);
		rc = evctl_stats(e, true, b);
		if (rc != EXIT_OK)
			break;
		struct rates rt;
		rates_between(a, b, &rt);
		watch_line(&rt, b);
		struct stats_reply *t = a;
		a = b;
		b = t;
	}
	free(a);
	free(b);
	return rc;
}

/* ---- the row ------------------------------------------------------------ */

static int stats_opt(struct evctl_req *r, int val, const char *arg)
{
	char *end;

	if (val == OPT_WATCH) {
		r->interval = strtod(arg, &end);
		if (end == arg || *end || !(r->interval >= 0.1) ||
		    r->interval > 3600) {
			fprintf(stderr, "evctl: --watch wants seconds in [0.1, "
				"3600], got \"%s\"\n", arg);
			return EXIT_USAGE;
		}
		return 0;
	}
	long n = strtol(arg, &end, 10);
	if (end == arg || *end || n < 1 || n > 1000000000) {
		fprintf(stderr, "evctl: --count wants a number of lines in [1, "
			"1000000000], got \"%s\"\n", arg);
		return EXIT_USAGE;
	}
	r->count = (int)n;
	return 0;
}

static int stats_request(struct evctl_req *r, int argc, char **argv)
{
	if (argc) {
		fprintf(stderr, "evctl: stats takes no argument (got \"%s\")\n",
			argv[0]);
		return EXIT_USAGE;
	}
	if (r->count && !r->interval) {
		fprintf(stderr, "evctl: --count goes with --watch S\n");
		return EXIT_USAGE;
	}
	if (r->interval && r->fmt != FMT_TEXT) {
		fprintf(stderr, "evctl: --watch prints text lines (no -o %s)\n",
			format_names[r->fmt]);
		return EXIT_USAGE;
	}
	snprintf(r->line, sizeof(r->line), "%s", CTL_CMD_STATS);
	return 0;
}

static int stats_run(struct evctl *e, struct evctl_req *r)
{
	char *reply = NULL;
	int rc;

	if (r->interval)
		return stats_watch(e, r);
	if (r->fmt == FMT_PROM)
		return stats_prom(e);
	rc = evctl_transact(e, r->line, &reply, false);
	if (rc == EXIT_OK)
		rc = stats_print(e, r, reply);
	free(reply);
	return rc;
}

static const struct option stats_options[] = {
	{ "watch", required_argument, NULL, OPT_WATCH },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

const struct evctl_cmd evctl_cmd_stats = {
	.name = CTL_CMD_STATS,
	.args = "[--watch S [--count N]]",
	.summary = "uptime, model, protocol, workers, connections, requests,\n"
		   "bytes, errors by kind, request rate, latency\n"
		   "p50/p90/p99/max, CPU time of the serving side",
	.help = "\n"
		"--watch S   a line of rates every S seconds (vmstat-style; the\n"
		"            header again every 20 lines): requests, connections,\n"
		"            kB in and out, and errors per second, connections\n"
		"            open now, p50 and p99 latency of the interval's\n"
		"            requests (us), CPU time per request (us, user + sys)\n"
		"--count N   stop after N lines\n"
		"-o json     one object, \"schema\": 1, the same keys as the text\n"
		"            (listen an array, latency null before any request)\n"
		"-o prometheus  counters, gauges and the latency histogram",
	.formats = FMTS_ALL,
	.options = stats_options,
	.opt = stats_opt,
	.make_request = stats_request,
	.run = stats_run,
};
