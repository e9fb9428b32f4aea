/* Unit tests for evbench's histograms and reports (bench/report.c): known
 * latencies give known percentiles, per-thread histograms merge exactly,
 * and the JSON, CSV and table outputs carry the right figures. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/evbench.h"

#define US 1000ull
#define MS 1000000ull

static struct lat_hist *hist_new(void)
{
	struct lat_hist *h = calloc(1, sizeof(*h));

	assert_non_null(h);
	return h;
}

/* |got - want| within the histogram's 0.8 % (plus half a unit of the
 * microsecond rounding). */
static void assert_close(double got, double want)
{
	if (fabs(got - want) > want / 128 + 0.0005) {
		print_error("got %.3f, want %.3f (within 0.8 %%)\n", got, want);
		fail();
	}
}

static void test_empty(void **state)
{
	struct lat_hist *h = hist_new();
	struct lat_summary s;

	(void)state;
	lat_summarize(h, &s);
	assert_true(s.p50 == 0 && s.p90 == 0 && s.p99 == 0 && s.p999 == 0 &&
		    s.max == 0 && s.mean == 0);
	free(h);
}

/* 1..1000 us, once each: pN is N % of 1000 us. */
static void test_uniform(void **state)
{
	struct lat_hist *h = hist_new();
	struct lat_summary s;

	(void)state;
	for (uint64_t v = 1; v <= 1000; v++)
		lat_record(h, v * US);
	lat_summarize(h, &s);
	assert_int_equal(h->count, 1000);
	assert_close(s.p50, 500);
	assert_close(s.p90, 900);
	assert_close(s.p99, 990);
	assert_close(s.p999, 999);
	assert_true(s.max == 1000.0);		/* exact */
	assert_true(fabs(s.mean - 500.5) < 1e-9);	/* exact */
	free(h);
}

/* Values below 2^7 ns are exact; one value gives itself everywhere. */
static void test_exact_small(void **state)
{
	struct lat_hist *h = hist_new();
	struct lat_summary s;

	(void)state;
	for (int i = 0; i < 10; i++)
		lat_record(h, 100);
	lat_summarize(h, &s);
	assert_true(s.p50 == 0.1 && s.p99 == 0.1 && s.max == 0.1 &&
		    s.mean == 0.1);
	free(h);
}

/* 990 fast and 10 slow: p50 and p90 fast, p99.9 and max slow; p99 is the
 * 990th value, the last fast one. */
static void test_two_modes(void **state)
{
	struct lat_hist *h = hist_new();
	struct lat_summary s;

	(void)state;
	for (int i = 0; i < 990; i++)
		lat_record(h, 50 * MS);
	for (int i = 0; i < 10; i++)
		lat_record(h, 2000 * MS);
	lat_summarize(h, &s);
	assert_close(s.p50, 50000);
	assert_close(s.p90, 50000);
	assert_close(s.p99, 50000);
	assert_close(s.p999, 2000000);
	assert_true(s.max == 2000000.0);
	assert_close(s.mean, (990 * 50000.0 + 10 * 2000000.0) / 1000);
	free(h);
}

/* Merging per-thread histograms is the histogram of all the values. */
static void test_merge(void **state)
{
	struct lat_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t v = x % (5000 * MS);
		lat_record(i % 3 ? a : b, v);
		lat_record(all, v);
	}
	lat_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));
	free(a);
	free(b);
	free(all);
}

/* Values past 2^40 ns land in the last bucket; max stays exact. */
static void test_clamp(void **state)
{
	struct lat_hist *h = hist_new();
	struct lat_summary s;

	(void)state;
	lat_record(h, 1ull << 45);
	lat_summarize(h, &s);
	assert_int_equal(h->buckets[LAT_BUCKETS - 1], 1);
	assert_true(s.max == (double)(1ull << 45) / 1e3);
	assert_true(s.p50 == s.max);
	free(h);
}

static void test_exit_status(void **state)
{
	struct bench_result *r = calloc(1, sizeof(*r));

	(void)state;
	assert_non_null(r);
	r->c.requests = 10;
	assert_int_equal(result_exit_status(r), BEXIT_OK);
	r->c.errors[ERR_STATUS] = 1;
	assert_int_equal(result_errors(r), 1);
	assert_int_equal(result_exit_status(r), BEXIT_ERRORS);
	r->limit_hit = true;
	assert_int_equal(result_exit_status(r), BEXIT_LIMIT);
	free(r);
}

/* ---- outputs ----------------------------------------------------------- */

static struct bench_opts opts_of(enum bench_mode mode)
{
	return (struct bench_opts){
		.mode = mode, .proto = BP_HTTP, .target = "127.0.0.1:8080",
		.conns = 4, .threads = 2, .pipeline = 1, .path = "/a\"b",
		.workers = 4, .actions = 5, .messages = 6,
	};
}

static struct bench_result *result_of(void)
{
	struct bench_result *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->elapsed_s = 2;
	r->c.requests = 1000;
	r->c.errors[ERR_RESET] = 3;
	r->c.errors[ERR_STATUS] = 7;
	r->c.bytes_sent = 41000;
	r->c.bytes_received = 134000;
	r->c.connects = 20;
	r->c.retried = 5;
	r->c.exchange_ns = 20 * 3 * MS;
	r->c.exchange_blocks = 20;
	for (int i = 0; i < 1000; i++)
		lat_record(&r->lat, 100 * US);
	for (int i = 0; i < 20; i++)
		lat_record(&r->connect, 2 * MS);
	return r;
}

/* Runs a report into a string. */
static char *render(void (*fn)(FILE *, const struct bench_opts *,
			       const struct bench_result *),
		    const struct bench_opts *o, const struct bench_result *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, o, r);
	fclose(f);
	return buf;
}

static void assert_has(const char *text, const char *part)
{
	if (!strstr(text, part)) {
		print_error("\"%s\" not in:\n%s\n", part, text);
		fail();
	}
}

static void test_json_closed(void **state)
{
	struct bench_opts o = opts_of(MODE_CLOSED);
	struct bench_result *r = result_of();
	char *j = render(report_json, &o, r);

	(void)state;
	assert_has(j, "{\"mode\":\"closed\",\"unit\":\"requests\","
		      "\"proto\":\"http\","
		      "\"target\":\"127.0.0.1:8080\",\"path\":\"/a\\\"b\","
		      "\"connections\":4,\"threads\":2,\"pipeline\":1,"
		      "\"rate\":0.000,\"duration_s\":2.000000,"
		      "\"requests\":1000,\"bytes_sent\":41000,"
		      "\"bytes_received\":134000,\"errors\":{\"connect\":0,"
		      "\"reset\":3,\"timeout\":0,\"mismatch\":0,\"eof\":0,"
		      "\"status\":7},\"throughput_rps\":500.000,"
		      "\"latency_us\":{\"p50\":");
	assert_has(j, "\"max\":100.000,\"mean\":100.000},\"connects\":20,"
		      "\"retried\":5,\"limit_hit\":false}\n");
	/* The per-mode fields belong to their modes. */
	assert_null(strstr(j, "connect_us"));
	assert_null(strstr(j, "exchange_ms_mean"));
	free(j);
	free(r);
}

static void test_json_modes(void **state)
{
	struct bench_opts o = opts_of(MODE_CPR);
	struct bench_result *r = result_of();
	char *j = render(report_json, &o, r);

	(void)state;
	assert_has(j, "\"connect_us\":{\"p50\":");
	assert_has(j, "\"max\":2000.000,\"mean\":2000.000},"
		      "\"connections_per_s\":10.000}");
	assert_null(strstr(j, "exchange_ms_mean"));
	free(j);

	o = opts_of(MODE_SEED001);
	j = render(report_json, &o, r);
	assert_has(j, "\"workers\":4,\"actions\":5,\"messages\":6,"
		      "\"connect_ms_mean\":2.000000,"
		      "\"exchange_ms_mean\":3.000000");
	assert_has(j, "\"connections_per_s\":10.000}");
	free(j);
	free(r);
}

/* Same columns in every mode; mode fields empty where they do not apply. */
static void test_csv(void **state)
{
	struct bench_result *r = result_of();
	struct bench_opts o = opts_of(MODE_CLOSED);
	char *a = render(report_csv, &o, r);
	o = opts_of(MODE_SEED001);
	char *b = render(report_csv, &o, r);

	(void)state;
	size_t ha = strcspn(a, "\n"), hb = strcspn(b, "\n");
	assert_int_equal(ha, hb);
	assert_memory_equal(a, b, ha);
	assert_has(a, "mode,proto,target,connections,threads,pipeline,rate,"
		      "duration_s,requests,bytes_sent,bytes_received,"
		      "errors_connect,errors_reset,errors_timeout,"
		      "errors_mismatch,errors_eof,errors_status,"
		      "throughput_rps,latency_us_p50,");
	/* As many commas in the row as in the header. */
	int commas[2] = { 0, 0 }, line = 0;
	for (const char *p = a; *p; p++) {
		if (*p == '\n')
			line++;
		else if (*p == ',' && line < 2)
			commas[line]++;
	}
	assert_int_equal(line, 2);
	assert_int_equal(commas[0], commas[1]);
	assert_has(a, "\nclosed,http,127.0.0.1:8080,4,2,1,0.000,2.000000,1000,"
		      "41000,134000,0,3,0,0,0,7,500.000,");
	assert_has(a, ",20,5,false,,,,,,,,,,requests\n");
	assert_has(b, ",2.000000,3.000000,10.000,requests\n");
	free(a);
	free(b);
	free(r);
}

static void test_table(void **state)
{
	struct bench_opts o = opts_of(MODE_CPR);
	struct bench_result *r = result_of();
	char *t = render(report_table, &o, r);

	(void)state;
	assert_has(t, "  requests      1000 (500.0/s)\n");
	assert_has(t, "  errors        10 (connect 0, reset 3, timeout 0, "
		      "mismatch 0, eof 0, status 7)\n");
	assert_has(t, "  retried       5 (sent again on a new connection "
		      "after a reply with Connection: close)\n");
	assert_has(t, "  latency       p50 ");
	assert_has(t, "max 100.0us  mean 100.0us\n");
	assert_has(t, "  connect       p50 ");
	assert_has(t, "max 2.00ms  mean 2.00ms\n");
	free(t);
	/* Without retries, no line. */
	r->c.retried = 0;
	t = render(report_table, &o, r);
	assert_null(strstr(t, "retried"));
	free(t);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_uniform),
		cmocka_unit_test(test_exact_small),
		cmocka_unit_test(test_two_modes),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_clamp),
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_json_closed),
		cmocka_unit_test(test_json_modes),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
