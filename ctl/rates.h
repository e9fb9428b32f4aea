/* evctl: what changed between two `stats hist` replies (evctl top,
 * evctl stats --watch). */
#ifndef EVD_EVCTL_RATES_H
#define EVD_EVCTL_RATES_H

#include "evctl.h"

struct rates {
	double seconds;		/* between the two replies, by evd's clock */
	double req_s, conn_s, in_Bps, out_Bps, err_s;
	uint64_t requests;	/* answered in the interval */
	/* Latency of the interval's requests (histogram deltas), -1: none. */
	double p50_us, p90_us, p99_us;
	double cpu_us_per_req;	/* user + sys per request; -1: none */
	double cpu_user_pct, cpu_sys_pct;	/* of one CPU */
};

/* The rates from a to b (b later).  Both with their histograms. */
void rates_between(const struct stats_reply *a, const struct stats_reply *b,
		   struct rates *r);

/* Sum of the errors_* counters. */
uint64_t errors_total(const struct stats_total *t);

#endif
