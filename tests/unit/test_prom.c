/* Unit tests for common/prom.c: the Prometheus text evd's totals make,
 * byte for byte where it matters (what the daemon's /metrics will serve):
 * label escaping, the counter families from STATS_COUNTERS, the latency
 * histogram's cumulative buckets (bucket edges, the clamp, the exact sum),
 * the syscall histograms on log2 buckets, worker and thread series. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/prom.h"

struct buf {
	char *data;
	size_t len;
};

static void collect(void *arg, const char *s, size_t n)
{
	struct buf *b = arg;

	b->data = realloc(b->data, b->len + n + 1);
	assert_non_null(b->data);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

/* The value of the series (name and labels exactly), or NULL. */
static const char *value_of(const char *text, const char *series, char *out,
			    size_t len)
{
	size_t sl = strlen(series);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (!strncmp(p, series, sl) && p[sl] == ' ') {
			size_t n = strcspn(p + sl + 1, "\n");
			snprintf(out, len, "%.*s", (int)n, p + sl + 1);
			return out;
		}
	return NULL;
}

static void assert_series(const char *text, const char *series,
			  const char *want)
{
	char v[64];

	if (!value_of(text, series, v, sizeof(v)))
		fail_msg("no series %s in:\n%s", series, text);
	if (strcmp(v, want))
		fail_msg("%s = %s, expected %s", series, v, want);
}

static unsigned count_lines(const char *text, const char *line)
{
	unsigned n = 0;
	size_t l = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += !strncmp(p, line, l) && (p[l] == '\n' || !p[l]);
	return n;
}

static const struct hist_layout L = { STATS_HIST_SUB_BITS,
				      STATS_HIST_MAX_BITS };
#define LB "model=\"epoll\",protocol=\"echo\""

static void test_escape(void **state)
{
	char buf[32];

	(void)state;
	prom_escape(buf, sizeof(buf), "a\"b\\c\nd");
	assert_string_equal(buf, "a\\\"b\\\\c\\nd");
	prom_escape(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
	/* Cut at a whole character: never half an escape. */
	prom_escape(buf, 4, "ab\"c");
	assert_string_equal(buf, "ab");
}

static void test_server(void **state)
{
	struct stats_total *t = calloc(1, sizeof(*t));
	struct buf b = { 0 };
	const struct prom_out o = { collect, &b };
	const struct prom_ident id = { "epoll", "echo" };

	(void)state;
	t->c[STAT_accepted] = 7;
	t->c[STAT_closed] = 5;
	t->c[STAT_requests] = 6;
	t->c[STAT_err_read] = 2;
	t->c[STAT_http_2xx] = 3;
	/* Latencies: 9999 ns, 10000 ns exactly (le 1e-05), 10001 ns (the
	 * bucket [9984, 10111] straddles 10 us: counted above), 20 ms, and
	 * one clamped past 2^40 ns. */
	t->hist[hist_index(L, 9000)] += 1;
	t->hist[hist_index(L, 60)] += 1;
	t->hist[hist_index(L, 10001)] += 1;
	t->hist[hist_index(L, 20000000)] += 2;
	t->hist[hist_index(L, 1ull << 41)] += 1;
	t->lat_sum_ns = 9000 + 60 + 10001 + 40000000 + (1ull << 41);
	t->lat_max_ns = 1ull << 41;
	const struct prom_server s = {
		.version = "0.1.0", .uptime_s = 12.5, .cpu_user_s = 0.25,
		.cpu_sys_s = 1, .workers = 2, .max_connections = 100, .tot = t,
		.has_hist = true,
	};
	prom_server(&o, &id, &s);
	assert_series(b.data, "evd_info{" LB ",version=\"0.1.0\"}", "1");
	assert_series(b.data, "evd_uptime_seconds{" LB "}", "12.5");
	assert_series(b.data, "evd_connections_active{" LB "}", "2");
	assert_series(b.data, "evd_requests_total{" LB "}", "6");
	assert_series(b.data, "evd_connections_accepted_total{" LB "}", "7");
	assert_series(b.data, "evd_errors_total{" LB ",kind=\"read\"}", "2");
	assert_series(b.data, "evd_errors_total{" LB ",kind=\"accept\"}", "0");
	assert_series(b.data, "evd_responses_total{" LB ",type=\"http_2xx\"}",
		      "3");
	assert_series(b.data, "evd_cpu_seconds_total{" LB ",mode=\"user\"}",
		      "0.25");
	assert_series(b.data, "evd_cpu_seconds_total{" LB ",mode=\"system\"}",
		      "1");
	/* One family each, HELP and TYPE once. */
	assert_int_equal(count_lines(b.data, "# TYPE evd_errors_total counter"), 1);
	assert_int_equal(count_lines(b.data,
				     "# TYPE evd_request_duration_seconds histogram"),
			 1);
	/* No counter is left out, no grouped one appears on its own. */
	assert_null(strstr(b.data, "evd_errors_read_total"));
	assert_non_null(strstr(b.data, "evd_bytes_out_total{"));
	/* The histogram: cumulative, exact at the edges. */
	assert_series(b.data, "evd_request_duration_seconds_bucket{" LB
		      ",le=\"1e-05\"}", "2");
	assert_series(b.data, "evd_request_duration_seconds_bucket{" LB
		      ",le=\"2.5e-05\"}", "3");
	assert_series(b.data, "evd_request_duration_seconds_bucket{" LB
		      ",le=\"0.01\"}", "3");
	assert_series(b.data, "evd_request_duration_seconds_bucket{" LB
		      ",le=\"0.025\"}", "5");
	assert_series(b.data, "evd_request_duration_seconds_bucket{" LB
		      ",le=\"10\"}", "5");
	assert_series(b.data, "evd_request_duration_seconds_bucket{" LB
		      ",le=\"+Inf\"}", "6");
	assert_series(b.data, "evd_request_duration_seconds_count{" LB "}", "6");
	assert_series(b.data, "evd_request_duration_seconds_sum{" LB "}",
		      "2199.06327461");
	free(b.data);
	free(t);
}

static void test_no_hist(void **state)
{
	struct stats_total *t = calloc(1, sizeof(*t));
	struct buf b = { 0 };
	const struct prom_out o = { collect, &b };
	const struct prom_ident id = { "a\"b", "echo" };
	const struct prom_server s = { .version = "x", .tot = t };

	(void)state;
	prom_server(&o, &id, &s);
	assert_null(strstr(b.data, "evd_request_duration_seconds"));
	/* Label values escaped. */
	assert_non_null(strstr(b.data, "evd_workers{model=\"a\\\"b\","
				       "protocol=\"echo\"} 0\n"));
	free(b.data);
	free(t);
}

static void test_syscalls(void **state)
{
	uint64_t hist[PROM_SC_HIST_BUCKETS] = { 0 };
	struct buf b = { 0 };
	const struct prom_out o = { collect, &b };
	const struct prom_ident id = { "epoll", "echo" };

	(void)state;
	hist[3] = 1;	/* [8, 16) ns */
	hist[8] = 2;	/* [256, 512): above le 2^8 ns */
	hist[11] = 4;	/* [2048, 4096): le 2^12 ns */
	hist[39] = 1;	/* the last bucket: +Inf only */
	const struct prom_syscall v[2] = {
		{ "sendto", 8, 1, 3000000000ull, hist },
		{ "close", 5, 0, 0, NULL },
	};
	const struct prom_syscalls s = { .seconds = 2, .requests = 8, .n = 2,
					 .v = v };
	prom_syscalls(&o, &id, &s);
	assert_series(b.data, "evd_syscalls_total{" LB ",syscall=\"sendto\"}",
		      "8");
	assert_series(b.data, "evd_syscall_errors_total{" LB
		      ",syscall=\"sendto\"}", "1");
	assert_series(b.data, "evd_syscall_seconds_total{" LB
		      ",syscall=\"sendto\"}", "3");
	assert_series(b.data, "evd_syscall_duration_seconds_bucket{" LB
		      ",syscall=\"sendto\",le=\"2.56e-07\"}", "1");
	assert_series(b.data, "evd_syscall_duration_seconds_bucket{" LB
		      ",syscall=\"sendto\",le=\"1.024e-06\"}", "3");
	assert_series(b.data, "evd_syscall_duration_seconds_bucket{" LB
		      ",syscall=\"sendto\",le=\"4.096e-06\"}", "7");
	assert_series(b.data, "evd_syscall_duration_seconds_bucket{" LB
		      ",syscall=\"sendto\",le=\"17.179869184\"}", "7");
	assert_series(b.data, "evd_syscall_duration_seconds_bucket{" LB
		      ",syscall=\"sendto\",le=\"+Inf\"}", "8");
	assert_series(b.data, "evd_syscall_duration_seconds_count{" LB
		      ",syscall=\"sendto\"}", "8");
	/* An untimed row has counts and no histogram. */
	assert_series(b.data, "evd_syscalls_total{" LB ",syscall=\"close\"}",
		      "5");
	assert_null(strstr(b.data, "duration_seconds_count{" LB
				   ",syscall=\"close\"}"));
	free(b.data);
}

static void test_workers_threads(void **state)
{
	struct buf b = { 0 };
	const struct prom_out o = { collect, &b };
	const struct prom_ident id = { "epoll", "echo" };
	const struct prom_worker w[2] = {
		{ .id = 0, .role = "master", .state = "idle", .pid = 10,
		  .tid = 10, .active = -1 },
		{ .id = 1, .role = "worker", .state = "reading", .pid = 11,
		  .tid = 11, .requests = 5, .active = 2 },
	};
	const struct prom_thread t[1] = {
		{ .tid = 11, .pid = 11, .slot = -1, .calls = 4 },
	};

	(void)state;
	prom_workers(&o, &id, w, 2);
	prom_threads(&o, &id, t, 1);
	assert_series(b.data, "evd_worker_requests_total{" LB
		      ",worker=\"1\",role=\"worker\"}", "5");
	assert_series(b.data, "evd_worker_connections_active{" LB
		      ",worker=\"0\",role=\"master\"}", "-1");
	assert_series(b.data, "evd_worker_state{" LB ",worker=\"1\","
		      "role=\"worker\",state=\"reading\"}", "1");
	assert_series(b.data, "evd_worker_info{" LB ",worker=\"0\","
		      "role=\"master\",pid=\"10\",tid=\"10\"}", "1");
	/* A thread without a slot: empty worker and role labels. */
	assert_series(b.data, "evd_thread_syscalls_total{" LB ",tid=\"11\","
		      "pid=\"11\",worker=\"\",role=\"\"}", "4");
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_no_hist),
		cmocka_unit_test(test_syscalls),
		cmocka_unit_test(test_workers_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
