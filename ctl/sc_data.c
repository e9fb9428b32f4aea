/* evctl syscalls: parsing the probes' replies, deltas and quantiles. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syscalls.h"

static unsigned log2_u64(uint64_t v)
{
	return v ? 63u - (unsigned)__builtin_clzll(v) : 0;
}

/* "k:count,k:count" or "-". */
static bool parse_hist(const char *s, struct sc_row *r)
{
	if (!strcmp(s, "-"))
		return true;
	while (*s) {
		char *end;
		unsigned long k = strtoul(s, &end, 10);
		if (*end != ':' || k >= CTL_SC_HIST_BUCKETS)
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

static bool add_row(struct sc_reply *rep, const struct sc_row *row)
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

/* A "syscall ..." or "task ..." row; false when malformed. */
static bool table_row(struct sc_reply *rep, char **w, int n)
{
	struct sc_row row = { 0 };

	if (!strcmp(w[0], CTL_ROW_SYSCALL) && n == 8) {
		snprintf(row.name, sizeof(row.name), "%s", w[1]);
		row.nr = (unsigned)u64_of(w[2]);
		row.calls = u64_of(w[3]);
		row.errors = u64_of(w[4]);
		row.total_ns = u64_of(w[5]);
		row.has_hist = strcmp(w[6], "-") != 0;
		row.max_ns = u64_of(w[6]);
		return parse_hist(w[7], &row) && add_row(rep, &row);
	}
	row.tid = (unsigned)u64_of(w[1]);
	row.pid = (unsigned)u64_of(w[2]);
	snprintf(row.slot, sizeof(row.slot), "%s", w[3]);
	snprintf(row.role, sizeof(row.role), "%s", w[4]);
	row.calls = u64_of(w[5]);
	row.errors = u64_of(w[6]);
	row.total_ns = u64_of(w[7]);
	return add_row(rep, &row);
}

/* The header keys and those of a `syscalls hist` reply. */
static void key_value(struct sc_reply *rep, const char *k, const char *v)
{
	if (!strcmp(k, "state"))
		snprintf(rep->state, sizeof(rep->state), "%s", v);
	else if (!strcmp(k, "sample"))
		rep->sample = (unsigned)u64_of(v);
	else if (!strcmp(k, "timing"))
		snprintf(rep->timing, sizeof(rep->timing), "%s", v);
	else if (!strcmp(k, "seconds"))
		rep->seconds = strtod(v, NULL);
	else if (!strcmp(k, "requests"))
		rep->requests = u64_of(v);
	else if (!strcmp(k, "untracked_processes"))
		rep->untracked = u64_of(v);
	else if (!strcmp(k, "name")) {
		snprintf(rep->one.name, sizeof(rep->one.name), "%s", v);
		rep->one.has_hist = true;
	} else if (!strcmp(k, "nr"))
		rep->one.nr = (unsigned)u64_of(v);
	else if (!strcmp(k, "calls"))
		rep->one.calls = u64_of(v);
	else if (!strcmp(k, "errors"))
		rep->one.errors = u64_of(v);
	else if (!strcmp(k, "total_ns"))
		rep->one.total_ns = u64_of(v);
	else if (!strcmp(k, "max_ns"))
		rep->one.max_ns = u64_of(v);
}

bool sc_parse(char *reply, struct sc_reply *rep)
{
	char *save = NULL;

	memset(rep, 0, sizeof(*rep));
	for (char *line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[10];
		if (!strcmp(line, CTL_WIRE_END))
			return true;
		int n = split_words(line, w, 10);
		if (n < 2)
			continue;
		if ((!strcmp(w[0], CTL_ROW_SYSCALL) ||
		     !strcmp(w[0], CTL_ROW_TASK)) && n == 8) {
			if (!table_row(rep, w, n))
				return false;
		} else if (!strcmp(w[0], CTL_ROW_BUCKET) && n == 4) {
			unsigned b = log2_u64(u64_of(w[1]));
			if (b < CTL_SC_HIST_BUCKETS)
				rep->one.hist[b] = u64_of(w[3]);
		} else {
			key_value(rep, w[0], w[1]);
		}
	}
	return false;
}

void sc_free(struct sc_reply *rep)
{
	free(rep->rows);
	rep->rows = NULL;
	rep->n = 0;
}

static void row_sub(struct sc_row *r, const struct sc_row *before)
{
	r->calls -= before->calls;
	r->errors -= before->errors;
	r->total_ns -= before->total_ns;
	for (int b = 0; b < CTL_SC_HIST_BUCKETS; b++)
		r->hist[b] -= before->hist[b];
	/* max_ns stays the maximum since the last reset. */
}

void sc_delta(struct sc_reply *b, const struct sc_reply *a)
{
	size_t keep = 0;

	b->seconds -= a->seconds;
	b->requests -= a->requests;
	row_sub(&b->one, &a->one);
	for (size_t i = 0; i < b->n; i++) {
		struct sc_row *r = &b->rows[i];
		for (size_t j = 0; j < a->n; j++)
			if (a->rows[j].nr == r->nr && a->rows[j].tid == r->tid) {
				row_sub(r, &a->rows[j]);
				break;
			}
		if (r->calls)
			b->rows[keep++] = *r;
	}
	b->n = keep;
}

uint64_t sc_timed(const struct sc_row *r)
{
	uint64_t total = 0;

	for (int b = 0; b < CTL_SC_HIST_BUCKETS; b++)
		total += r->hist[b];
	return total;
}

double sc_quantile_ns(const struct sc_row *r, double q)
{
	uint64_t total = sc_timed(r), cum = 0;

	if (!r->has_hist || !total)
		return -1;
	uint64_t rank = (uint64_t)ceil(q * (double)total);
	if (rank < 1)
		rank = 1;
	for (int b = 0; b < CTL_SC_HIST_BUCKETS; b++) {
		if (cum + r->hist[b] < rank) {
			cum += r->hist[b];
			continue;
		}
		double low = b ? (double)(1ull << b) : 0;
		double high = b == CTL_SC_HIST_BUCKETS - 1 ?
				      (double)r->max_ns : (double)(1ull << (b + 1));
		double v = low + (high - low) * (double)(rank - cum) /
					 (double)r->hist[b];
		if (v > (double)r->max_ns)
			v = (double)r->max_ns;
		return v;
	}
	return -1;
}

/* The histogram counts exactly the timed calls; a per-thread row has none
 * and times all its calls or, with timing off, none. */
double sc_avg_ns(const struct sc_row *r)
{
	uint64_t timed = r->has_hist ? sc_timed(r) :
				       (r->total_ns ? r->calls : 0);

	return timed ? (double)r->total_ns / (double)timed : -1;
}

static int cmp_total(const void *x, const void *y)
{
	const struct sc_row *a = x, *b = y;

	if (a->total_ns != b->total_ns)
		return a->total_ns > b->total_ns ? -1 : 1;
	if (a->calls != b->calls)
		return a->calls > b->calls ? -1 : 1;
	return strcmp(a->name, b->name);
}

void sc_sort_total(struct sc_reply *rep)
{
	/* No rows: rows is NULL, which qsort must not get even for n = 0. */
	if (rep->n > 0)
		qsort(rep->rows, rep->n, sizeof(*rep->rows), cmp_total);
}
