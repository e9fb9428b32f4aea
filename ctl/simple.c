/* evctl ping, version, reload and raw: one exchange, a line or two. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "evctl.h"
#include "../common/prom.h"
#include "../daemon/version.h"

static void json_pair(const char *k, const char *v, void *arg)
{
	json_object_object_add(arg, k, json_wire_value(v));
}

/* {"schema": 1, key: value...} of a "key value" reply. */
static void print_json(char *reply)
{
	struct json_object *o = json_schema_object();

	each_pair(reply, json_pair, o);
	json_print(o);
}

/* evd_info and evd_uptime_seconds, labelled from a `stats` exchange. */
static int print_identity(struct evctl *e)
{
	struct stats_reply s;
	int rc = evctl_stats(e, false, &s);

	if (rc == EXIT_OK) {
		const struct prom_out out = { prom_stdout, NULL };
		const struct prom_ident id = { s.model, s.protocol };
		prom_identity(&out, &id, s.version, s.uptime_s);
	}
	return rc;
}

/* ---- ping ---------------------------------------------------------------- */

static int ping_print(struct evctl *e, struct evctl_req *r, char *reply)
{
	char pid[32], up[32];

	if (r->fmt == FMT_PROM)
		return print_identity(e);
	if (r->fmt == FMT_JSON) {
		print_json(reply);
		return EXIT_OK;
	}
	printf("evd is alive at %s (pid %s, up %s s)\n", e->path,
	       reply_value(reply, "pid", pid, sizeof(pid)),
	       reply_value(reply, "uptime_seconds", up, sizeof(up)));
	return EXIT_OK;
}

const struct evctl_cmd evctl_cmd_ping = {
	.name = CTL_CMD_PING,
	.args = "",
	.summary = "check that evd answers (pid, uptime)",
	.formats = FMTS_ALL,
	.print = ping_print,
};

/* ---- version --------------------------------------------------------------- */

static int version_print(struct evctl *e, struct evctl_req *r, char *reply)
{
	char v[64];

	if (r->fmt == FMT_PROM)
		return print_identity(e);
	if (r->fmt == FMT_JSON) {
		print_json(reply);
		return EXIT_OK;
	}
	printf("evctl %s\nevd %s\n", EVD_VERSION,
	       reply_value(reply, "version", v, sizeof(v)));
	return EXIT_OK;
}

const struct evctl_cmd evctl_cmd_version = {
	.name = CTL_CMD_VERSION,
	.args = "",
	.summary = "versions of evctl and of the running evd",
	.formats = FMTS_ALL,
	.print = version_print,
};

/* ---- reload ------------------------------------------------------------------ */

/* Prints every line of the reply up to END or ERROR: "reload X" as X (the
 * outcome, or a step before it), any other "key value" as is.  An ERROR
 * line (refused, failed) goes to stderr and gives exit 1. */
static int reload_run(struct evctl *e, struct evctl_req *r)
{
	char *reply = NULL, *save = NULL;
	int rc = evctl_transact(e, r->line, &reply, true);
	struct json_object *o = r->fmt == FMT_JSON ? json_schema_object() : NULL;
	size_t elen = strlen(CTL_WIRE_ERROR);

	for (char *l = reply && rc != EXIT_NO_DAEMON ?
			       strtok_r(reply, "\n", &save) : NULL;
	     l && strcmp(l, CTL_WIRE_END); l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, CTL_WIRE_ERROR, elen)) {
			fprintf(stderr, "evctl: evd: %s\n", l);
			break;
		}
		char *sp = strchr(l, ' ');
		if (sp)
			*sp = '\0';
		if (o)
			json_object_object_add(o, l, json_wire_value(sp ? sp + 1
									 : ""));
		else if (!strcmp(l, "reload"))
			printf("%s\n", sp ? sp + 1 : "");
		else
			printf("%s%s%s\n", l, sp ? " " : "", sp ? sp + 1 : "");
	}
	if (o && rc == EXIT_OK)
		json_print(o);
	else if (o)
		json_object_put(o);
	free(reply);
	return rc;
}

const struct evctl_cmd evctl_cmd_reload = {
	.name = CTL_CMD_RELOAD,
	.args = "",
	.summary = "re-read evd.ini, as SIGHUP does",
	.help = "Prints applied, unchanged or restarting (the serving side\n"
		"restarts on the same sockets), and what evd reports until the\n"
		"reload is over.  Exit 1 with evd's reason when the reload is\n"
		"refused (the file has errors: evd -t shows them; evd goes on\n"
		"with the previous configuration) or fails.  Waits up to 60 s\n"
		"for the outcome unless -T says otherwise.",
	.needs_admin = true,
	.formats = FMTS_TEXT_JSON,
	.default_timeout_ms = 60000,
	.run = reload_run,
};

/* ---- raw ------------------------------------------------------------------------- */

static int raw_request(struct evctl_req *r, int argc, char **argv)
{
	size_t used = 0;
	bool blank = true;

	r->line[0] = '\0';
	for (int i = 0; i < argc; i++) {
		int n = snprintf(r->line + used, sizeof(r->line) - used, "%s%s",
				 i ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof(r->line) - used) {
			fprintf(stderr, "evctl: command line too long (at most "
				"%d bytes)\n", CTL_WIRE_LINE_MAX);
			return EXIT_USAGE;
		}
		used += (size_t)n;
	}
	for (const char *p = r->line; *p; p++)
		blank &= *p == ' ' || *p == '\t';
	if (blank) {
		/* evd answers nothing to a blank line: evctl would wait. */
		fprintf(stderr, "evctl: raw needs a command line\n");
		return EXIT_USAGE;
	}
	return 0;
}

static int raw_print(struct evctl *e, struct evctl_req *r, char *reply)
{
	(void)e;
	(void)r;
	fputs(reply, stdout);
	return EXIT_OK;
}

const struct evctl_cmd evctl_cmd_raw = {
	.name = "raw",
	.args = "LINE",
	.summary = "send LINE as a command and print the reply as is",
	.formats = FMT_BIT(FMT_TEXT),
	.make_request = raw_request,
	.print = raw_print,
};
