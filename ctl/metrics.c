/* evctl metrics: everything in one Prometheus text, the families evd's
 * /metrics endpoint ([metrics] listen, daemon/metrics_text.c) serves: stats
 * with the latency histogram, the workers, and the system calls when the
 * probes count. */
#include <stdlib.h>
#include <string.h>

#include "syscalls.h"
#include "../common/prom.h"

static const struct prom_out out = { prom_stdout, NULL };

static int metrics_workers(struct evctl *e, const struct prom_ident *id)
{
	char *reply = NULL;
	struct worker_row *rows = NULL;
	struct prom_worker *pw = NULL;
	int rc = evctl_transact(e, CTL_CMD_WORKERS, &reply, false);
	long n = rc ? 0 : workers_parse(reply, &rows);

	if (n < 0)
		rc = bad_reply(e);
	else if (n > 0 && !(pw = workers_prom_rows(rows, n)))
		rc = EXIT_NO_DAEMON;
	if (rc == EXIT_OK)
		prom_workers(&out, id, pw, (size_t)n);
	free(pw);
	free(rows);
	free(reply);
	return rc;
}

/* The probes' table when they count; nothing (and success) when evd says
 * they are off or unavailable. */
static int metrics_syscalls(struct evctl *e, const struct stats_reply *s)
{
	char *reply = NULL;
	struct sc_reply sc = { 0 };
	int rc = evctl_transact(e, CTL_CMD_SYSCALLS, &reply, true);

	if (rc == EXIT_REPLY_ERROR) {
		rc = EXIT_OK;
	} else if (rc == EXIT_OK) {
		if (sc_parse(reply, &sc))
			sc_print_table(&sc, FMT_PROM, NULL, s->model,
				       s->protocol);
		else
			rc = bad_reply(e);
	}
	sc_free(&sc);
	free(reply);
	return rc;
}

static int metrics_run(struct evctl *e, struct evctl_req *r)
{
	struct stats_reply *s = malloc(sizeof(*s));
	int rc = s ? evctl_stats(e, true, s) : EXIT_NO_DAEMON;

	(void)r;
	if (rc == EXIT_OK) {
		const struct prom_ident id = { s->model, s->protocol };
		const struct prom_server ps = {
			.version = s->version, .uptime_s = s->uptime_s,
			.cpu_user_s = s->cpu_user_s, .cpu_sys_s = s->cpu_sys_s,
			.workers = s->workers,
			.max_connections = s->max_connections,
			.tot = &s->tot, .has_hist = s->has_hist,
		};
		prom_server(&out, &id, &ps);
		rc = metrics_workers(e, &id);
	}
	if (rc == EXIT_OK)
		rc = metrics_syscalls(e, s);
	free(s);
	return rc;
}

const struct evctl_cmd evctl_cmd_metrics = {
	.name = "metrics",
	.args = "",
	.summary = "all of evd's metrics as Prometheus text (stats with the\n"
		   "latency histogram, workers, and system calls when the\n"
		   "probes count): for node_exporter's textfile collector",
	.help = "\n"
		"The text passes `promtool check metrics`.  Counters end in\n"
		"_total, durations are in seconds; every series has the labels\n"
		"model and protocol, a worker's also worker and role, a system\n"
		"call's syscall.  evctl(8) lists the metrics.",
	.formats = FMT_BIT(FMT_TEXT) | FMT_BIT(FMT_PROM),
	.run = metrics_run,
};
