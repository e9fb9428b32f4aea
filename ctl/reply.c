/* evctl: parsing evd's replies ("key value" lines, tables) into types. */
#include <stdlib.h>
#include <string.h>

#include "evctl.h"

int next_pair(char *reply, char **save, char **key, char **value)
{
	for (char *line = strtok_r(reply, "\n", save); line;
	     line = strtok_r(NULL, "\n", save)) {
		if (!strcmp(line, CTL_WIRE_END))
			return 0;
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		*key = line;
		*value = sp + 1;
		return 1;
	}
	return -1;
}

void each_pair(char *reply, void (*fn)(const char *k, const char *v,
				       void *arg), void *arg)
{
	char *save = NULL;

	for (char *line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, CTL_WIRE_END) == 0)
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

const char *reply_value(const char *reply, const char *key, char *out,
			size_t outlen)
{
	size_t klen = strlen(key);

	snprintf(out, outlen, "?");
	for (const char *p = reply; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		if ((size_t)(nl - p) > klen && !strncmp(p, key, klen) &&
		    p[klen] == ' ') {
			snprintf(out, outlen, "%.*s", (int)(nl - p - klen - 1),
				 p + klen + 1);
			break;
		}
		p = nl + 1;
	}
	return out;
}

int split_words(char *line, char **w, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *t = strtok_r(line, " ", &save); t && n < max;
	     t = strtok_r(NULL, " ", &save))
		w[n++] = t;
	return n;
}

uint64_t u64_of(const char *s)
{
	return strtoull(s, NULL, 10);
}

/* ---- stats ------------------------------------------------------------ */

enum stats_field_kind { SF_STR, SF_LONG, SF_UINT, SF_U64, SF_DBL };

/* The keys stats_parse() keeps outside the counters. */
static const struct stats_field {
	const char *key;
	enum stats_field_kind kind;
	size_t off, size;
} stats_fields[] = {
#define F(k, kind, m) { k, kind, offsetof(struct stats_reply, m), \
			sizeof(((struct stats_reply *)0)->m) }
	F("version", SF_STR, version),
	F("model", SF_STR, model),
	F("protocol", SF_STR, protocol),
	F("listen", SF_STR, listen),
	F("pid", SF_LONG, pid),
	F("uptime_seconds", SF_DBL, uptime_s),
	F("workers", SF_UINT, workers),
	F("max_connections", SF_UINT, max_connections),
	F("connections_active", SF_U64, connections_active),
	F("request_rate", SF_DBL, request_rate),
	F("latency_p50_us", SF_DBL, p50_us),
	F("latency_p90_us", SF_DBL, p90_us),
	F("latency_p99_us", SF_DBL, p99_us),
	F("latency_max_us", SF_DBL, max_us),
	F("cpu_user_seconds", SF_DBL, cpu_user_s),
	F("cpu_sys_seconds", SF_DBL, cpu_sys_s),
#undef F
};

static const char *const counter_keys[STAT_MAX] = {
#define X(f, k, d) k,
	STATS_COUNTERS(X)
#undef X
};

static void stats_field_set(struct stats_reply *s, const struct stats_field *f,
			    const char *v)
{
	char *p = (char *)s + f->off;

	switch (f->kind) {
	case SF_STR:
		snprintf(p, f->size, "%s", v);
		break;
	case SF_LONG:
		*(long *)p = strtol(v, NULL, 10);
		break;
	case SF_UINT:
		*(unsigned *)p = (unsigned)strtoul(v, NULL, 10);
		break;
	case SF_U64:
		*(uint64_t *)p = u64_of(v);
		break;
	case SF_DBL:
		*(double *)p = strtod(v, NULL);
		break;
	}
}

/* One "key value" line of a stats reply; false for an unknown bucket. */
static bool stats_line(struct stats_reply *s, char *key, char *v)
{
	const struct hist_layout hl = CTL_STATS_HIST_LAYOUT;

	if (!strcmp(key, CTL_ROW_BUCKET)) {
		char *w[3];
		if (split_words(v, w, 3) != 3)
			return false;
		uint64_t low = u64_of(w[0]);
		unsigned i = hist_index(hl, low);
		/* The same layout on both sides, or the reply is refused. */
		if (hist_bucket_low(hl, i) != low)
			return false;
		s->tot.hist[i] = u64_of(w[2]);
		return true;
	}
	if (!strcmp(key, CTL_KEY_LATENCY_SUM)) {
		s->tot.lat_sum_ns = u64_of(v);
		s->has_hist = true;
		return true;
	}
	for (size_t i = 0; i < sizeof(stats_fields) / sizeof(*stats_fields); i++)
		if (!strcmp(key, stats_fields[i].key)) {
			stats_field_set(s, &stats_fields[i], v);
			return true;
		}
	for (int k = 0; k < STAT_MAX; k++)
		if (!strcmp(key, counter_keys[k])) {
			s->tot.c[k] = u64_of(v);
			return true;
		}
	return true;	/* a key of a newer evd: not needed here */
}

int stats_parse(char *reply, struct stats_reply *s)
{
	char *save = NULL, *key, *value;

	memset(s, 0, sizeof(*s));
	for (char *r = reply; next_pair(r, &save, &key, &value) > 0; r = NULL)
		if (!stats_line(s, key, value))
			return -1;
	s->tot.lat_max_ns = (uint64_t)(s->max_us * 1e3 + 0.5);
	return s->model[0] ? 0 : -1;
}

/* ---- workers ---------------------------------------------------------- */

static const char *const worker_fields[CTL_WF_MAX] = {
#define X(e, n) n,
	CTL_WORKER_FIELDS(X)
#undef X
};

/* The column of each wire field in this reply's "fields" line, or -1. */
static bool workers_header(char *rest, int col[CTL_WF_MAX], int *ncols)
{
	char *w[64];
	int n = split_words(rest, w, 64);

	for (int f = 0; f < CTL_WF_MAX; f++) {
		col[f] = -1;
		for (int i = 0; i < n; i++)
			if (!strcmp(w[i], worker_fields[f]))
				col[f] = i;
		if (col[f] < 0)
			return false;
	}
	*ncols = n;
	return true;
}

static void worker_set(struct worker_row *r, char **w, const int *col)
{
	r->id = (unsigned)u64_of(w[col[CTL_WF_ID]]);
	snprintf(r->role, sizeof(r->role), "%s", w[col[CTL_WF_ROLE]]);
	snprintf(r->state, sizeof(r->state), "%s", w[col[CTL_WF_STATE]]);
	r->pid = strtol(w[col[CTL_WF_PID]], NULL, 10);
	r->tid = strtol(w[col[CTL_WF_TID]], NULL, 10);
	r->accepted = u64_of(w[col[CTL_WF_ACCEPTED]]);
	r->active = strtoll(w[col[CTL_WF_ACTIVE]], NULL, 10);
	r->requests = u64_of(w[col[CTL_WF_REQUESTS]]);
	r->bytes_in = u64_of(w[col[CTL_WF_BYTES_IN]]);
	r->bytes_out = u64_of(w[col[CTL_WF_BYTES_OUT]]);
	r->restarts = u64_of(w[col[CTL_WF_RESTARTS]]);
}

long workers_parse(char *reply, struct worker_row **rows)
{
	char *save = NULL, *line, *rest;
	int col[CTL_WF_MAX], ncols = 0, more;
	long n = 0;

	*rows = NULL;
	for (char *r = reply; (more = next_pair(r, &save, &line, &rest)) > 0;
	     r = NULL) {
		char *w[64];
		if (!strcmp(line, CTL_WIRE_FIELDS)) {
			if (!workers_header(rest, col, &ncols))
				return -1;
			continue;
		}
		if (strcmp(line, CTL_ROW_WORKER) || !ncols ||
		    split_words(rest, w, 64) != ncols)
			return -1;
		if (n % 64 == 0) {
			struct worker_row *v = realloc(*rows, (size_t)(n + 64) *
							       sizeof(*v));
			if (!v)
				return -1;
			*rows = v;
		}
		memset(&(*rows)[n], 0, sizeof(**rows));
		worker_set(&(*rows)[n++], w, col);
	}
	return more == 0 && ncols ? n : -1;
}
