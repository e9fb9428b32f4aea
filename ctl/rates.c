/* evctl: rates and interval percentiles from two stats replies. */
#include <string.h>

#include "rates.h"

static const char *const keys[STAT_MAX] = {
#define X(f, k, d) k,
	STATS_COUNTERS(X)
#undef X
};

uint64_t errors_total(const struct stats_total *t)
{
	uint64_t n = 0;

	for (int k = 0; k < STAT_MAX; k++)
		if (!strncmp(keys[k], "errors_", 7))
			n += t->c[k];
	return n;
}

static double per_s(uint64_t a, uint64_t b, double s)
{
	return b >= a && s > 0 ? (double)(b - a) / s : 0;
}

/* The interval's latency at quantile q in us, -1 with no request. */
static double interval_quantile(const uint64_t *delta, double q)
{
	if (!hist_total(CTL_STATS_HIST_LAYOUT, delta))
		return -1;
	return (double)hist_quantile(CTL_STATS_HIST_LAYOUT, delta, q, 0) / 1e3;
}

void rates_between(const struct stats_reply *a, const struct stats_reply *b,
		   struct rates *r)
{
	uint64_t delta[STATS_HIST_BUCKETS];
	const uint64_t *ca = a->tot.c, *cb = b->tot.c;
	double s = b->uptime_s - a->uptime_s;

	memset(r, 0, sizeof(*r));
	r->seconds = s;
	r->req_s = per_s(ca[STAT_requests], cb[STAT_requests], s);
	r->conn_s = per_s(ca[STAT_accepted], cb[STAT_accepted], s);
	r->in_Bps = per_s(ca[STAT_bytes_in], cb[STAT_bytes_in], s);
	r->out_Bps = per_s(ca[STAT_bytes_out], cb[STAT_bytes_out], s);
	r->err_s = per_s(errors_total(&a->tot), errors_total(&b->tot), s);
	r->requests = cb[STAT_requests] >= ca[STAT_requests] ?
			      cb[STAT_requests] - ca[STAT_requests] : 0;
	/* A restarting reload keeps the counters: a bucket never shrinks
	 * but for a restart of evd itself, when nothing is comparable. */
	for (unsigned i = 0; i < STATS_HIST_BUCKETS; i++)
		delta[i] = b->tot.hist[i] >= a->tot.hist[i] ?
				   b->tot.hist[i] - a->tot.hist[i] : 0;
	r->p50_us = interval_quantile(delta, 0.50);
	r->p90_us = interval_quantile(delta, 0.90);
	r->p99_us = interval_quantile(delta, 0.99);
	double du = b->cpu_user_s - a->cpu_user_s;
	double ds = b->cpu_sys_s - a->cpu_sys_s;
	if (du < 0)
		du = 0;
	if (ds < 0)
		ds = 0;
	r->cpu_us_per_req = r->requests ? (du + ds) * 1e6 /
						  (double)r->requests : -1;
	r->cpu_user_pct = s > 0 ? 100.0 * du / s : 0;
	r->cpu_sys_pct = s > 0 ? 100.0 * ds / s : 0;
}
