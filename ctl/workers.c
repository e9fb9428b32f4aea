/* evctl workers [all]: one row per scoreboard slot. */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "evctl.h"
#include "../common/prom.h"

#define TABLE_COLS 64

/* A "fields ..." + "KIND v v v" reply as a table: the first column 4
 * wide, the others 10, right-aligned. */
static void text_table(char *reply)
{
	char *save = NULL, *w[TABLE_COLS], *kind, *rest;

	for (char *r = reply; next_pair(r, &save, &kind, &rest) > 0; r = NULL) {
		int n = split_words(rest, w, TABLE_COLS);
		for (int i = 0; i < n; i++)
			printf(i ? " %10s" : "%4s", w[i]);
		putchar('\n');
	}
}

/* {"schema": 1, "workers": [{field: value, ...}, ...]}, the fields in the
 * order evd sends them, numbers as numbers. */
static int json_table(struct evctl *e, char *reply)
{
	char *save = NULL, *fields[TABLE_COLS], *w[TABLE_COLS], *kind, *rest;
	int nf = 0;
	struct json_object *o = json_schema_object();
	struct json_object *rows = json_object_new_array();

	json_object_object_add(o, "workers", rows);
	for (char *r = reply; next_pair(r, &save, &kind, &rest) > 0; r = NULL) {
		if (!strcmp(kind, CTL_WIRE_FIELDS)) {
			nf = split_words(rest, fields, TABLE_COLS);
			continue;
		}
		int n = split_words(rest, w, TABLE_COLS);
		if (n != nf) {
			json_object_put(o);
			return bad_reply(e);
		}
		struct json_object *row = json_object_new_object();
		for (int i = 0; i < n; i++)
			json_object_object_add(row, fields[i],
					       json_wire_value(w[i]));
		json_object_array_add(rows, row);
	}
	json_print(o);
	return EXIT_OK;
}

struct prom_worker *workers_prom_rows(const struct worker_row *rows, long n)
{
	struct prom_worker *pw = n > 0 ? calloc((size_t)n, sizeof(*pw)) : NULL;

	for (long i = 0; pw && i < n; i++)
		pw[i] = (struct prom_worker){
			.id = rows[i].id, .role = rows[i].role,
			.state = rows[i].state, .pid = rows[i].pid,
			.tid = rows[i].tid, .accepted = rows[i].accepted,
			.requests = rows[i].requests,
			.bytes_in = rows[i].bytes_in,
			.bytes_out = rows[i].bytes_out,
			.restarts = rows[i].restarts, .active = rows[i].active,
		};
	return pw;
}

static int workers_prom(struct evctl *e, char *reply)
{
	struct stats_reply s;
	struct worker_row *rows = NULL;
	long n = workers_parse(reply, &rows);
	int rc = n < 0 ? bad_reply(e) : evctl_stats(e, false, &s);
	struct prom_worker *pw = NULL;

	if (rc == EXIT_OK && n > 0 && !(pw = workers_prom_rows(rows, n)))
		rc = EXIT_NO_DAEMON;
	if (rc == EXIT_OK) {
		const struct prom_out out = { prom_stdout, NULL };
		const struct prom_ident id = { s.model, s.protocol };
		prom_workers(&out, &id, pw, (size_t)n);
	}
	free(pw);
	free(rows);
	return rc;
}

static int workers_print(struct evctl *e, struct evctl_req *r, char *reply)
{
	if (r->fmt == FMT_PROM)
		return workers_prom(e, reply);
	if (r->fmt == FMT_JSON)
		return json_table(e, reply);
	text_table(reply);
	return EXIT_OK;
}

static int workers_request(struct evctl_req *r, int argc, char **argv)
{
	if (argc > 1 || (argc == 1 && strcmp(argv[0], CTL_WORKERS_ALL))) {
		fprintf(stderr, "evctl: usage: workers [all]\n");
		return EXIT_USAGE;
	}
	snprintf(r->line, sizeof(r->line), "%s", argc ?
		 CTL_CMD_WORKERS " " CTL_WORKERS_ALL : CTL_CMD_WORKERS);
	return 0;
}

const struct evctl_cmd evctl_cmd_workers = {
	.name = CTL_CMD_WORKERS,
	.args = "[all]",
	.summary = "one row per worker (live ones, or every slot\n"
		   "ever used): id, role, pid, tid, state (idle, reading,\n"
		   "writing, waiting), connections accepted and active,\n"
		   "requests, bytes in and out, restarts",
	.help = "\n"
		"-o json     {\"schema\": 1, \"workers\": [{\"id\": 0, \"role\":\n"
		"            \"loop\", ...}, ...]}, the columns as keys",
	.formats = FMTS_ALL,
	.make_request = workers_request,
	.print = workers_print,
};
