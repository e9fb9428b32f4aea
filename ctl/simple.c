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

/* Prints the outcome evd waited for: "reload X" as X, "reload restarted"
 * with "drained_ms N" as "restarted (drained in N ms)", keys only a restart
 * applies ("not_applied") as a warning on stderr, any other "key value" as
 * is.  An ERROR line (refused, failed) goes to stderr and gives exit 1. */
static int reload_run(struct evctl *e, struct evctl_req *r)
{
	char *reply = NULL, *save = NULL;
	int rc = evctl_transact(e, r->line, &reply, true);
	struct json_object *o = r->fmt == FMT_JSON ? json_schema_object() : NULL;
	size_t elen = strlen(CTL_WIRE_ERROR);
	bool restarted = false;

	for (char *l = reply && rc != EXIT_NO_DAEMON ?
			       strtok_r(reply, "\n", &save) : NULL;
	     l && strcmp(l, CTL_WIRE_END); l = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(l, CTL_WIRE_ERROR, elen)) {
			fprintf(stderr, "evctl: evd: %s\n", l);
			break;
		}
		char *sp = strchr(l, ' ');
		const char *v = sp ? sp + 1 : "";
		if (sp)
			*sp = '\0';
		if (o)
			json_object_object_add(o, l, json_wire_value(v));
		else if (!strcmp(l, "reload") && !strcmp(v, "restarted"))
			restarted = true;
		else if (!strcmp(l, "reload"))
			printf("%s\n", v);
		else if (!strcmp(l, "drained_ms") && restarted)
			printf("restarted (drained in %s ms)\n", v);
		else if (!strcmp(l, "not_applied"))
			fprintf(stderr, "evctl: warning: not applied until evd "
				"restarts: %s (systemctl restart evd)\n", v);
		else
			printf("%s%s%s\n", l, sp ? " " : "", v);
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
	.summary = "re-read evd.ini, as SIGHUP does, and wait for the outcome",
	.help = "Prints applied, unchanged or \"restarted (drained in N ms)\"\n"
		"(the serving side drained and restarted on the same sockets;\n"
		"it serves the new configuration when evctl returns).  Keys only\n"
		"a restart applies are named on stderr (exit 0).  Exit 1 with\n"
		"evd's reason when the reload is refused (errors in the file:\n"
		"evd -t shows them all; a listen address that cannot be bound)\n"
		"or fails; evd goes on with the previous configuration.  Waits\n"
		"as long as the drain takes ([server] drain_timeout, at most an\n"
		"hour) unless -T says otherwise.",
	.needs_admin = true,
	.formats = FMTS_TEXT_JSON,
	.default_timeout_ms = (3600 + 60) * 1000,
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
	/* A newline would send a second command; evd refuses a line with a
	 * byte that is not printable ASCII anyway: said here, nothing sent. */
	for (const unsigned char *p = (const unsigned char *)r->line; *p; p++) {
		if ((*p < 0x20 && *p != '\t') || *p > 0x7e) {
			fprintf(stderr, "evctl: raw: byte 0x%02x in the command "
				"line (expected printable ASCII)\n", *p);
			return EXIT_USAGE;
		}
		blank &= *p == ' ' || *p == '\t';
	}
	if (blank) {
		/* evd answers nothing to a blank line: evctl would wait. */
		fprintf(stderr, "evctl: raw needs a command line (try: evctl "
			"raw help)\n");
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
	.summary = "send LINE as a command and print the reply as is\n(LINE: printable ASCII, not empty)",
	.formats = FMT_BIT(FMT_TEXT),
	.make_request = raw_request,
	.print = raw_print,
};
