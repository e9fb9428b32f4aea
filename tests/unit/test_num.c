/* Unit tests for common/num.c: every kind of number, exact values, exact
 * errors (-EINVAL: not that kind of number; -ERANGE: outside the bounds),
 * the bounds themselves and 64-bit overflow.  Each input is a heap copy of
 * its exact length, so that ASan catches a read past its end. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/num.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define SENTINEL 0xdeadbeefull

struct ucase {
	const char *s;
	uint64_t min, max;
	int rc;
	uint64_t v;	/* when rc == 0 */
};

typedef int uint_fn(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Runs each case on a heap copy; on error *out must stay untouched. */
static void run_ucases(uint_fn *fn, const struct ucase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *copy = strdup(c[i].s);
		uint64_t v = SENTINEL;

		assert_non_null(copy);
		int rc = fn(copy, c[i].min, c[i].max, &v);
		if (rc != c[i].rc)
			fail_msg("\"%s\": rc %d, expected %d", c[i].s, rc, c[i].rc);
		if (v != (c[i].rc == 0 ? c[i].v : SENTINEL))
			fail_msg("\"%s\": value %llu", c[i].s, (unsigned long long)v);
		free(copy);
	}
}

static void test_uint(void **state)
{
	static const struct ucase c[] = {
		{ "0", 0, 10, 0, 0 },
		{ "10", 0, 10, 0, 10 },
		{ "007", 0, 10, 0, 7 },
		{ "11", 0, 10, -ERANGE, 0 },
		{ "0", 1, 10, -ERANGE, 0 },
		{ "18446744073709551615", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551616", 0, UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT64_MAX, -ERANGE, 0 },
		{ "", 0, 10, -EINVAL, 0 },
		{ " 1", 0, 10, -EINVAL, 0 },
		{ "1 ", 0, 10, -EINVAL, 0 },
		{ "+1", 0, 10, -EINVAL, 0 },
		{ "-1", 0, 10, -EINVAL, 0 },
		{ "0x10", 0, 100, -EINVAL, 0 },
		{ "1e2", 0, 1000, -EINVAL, 0 },
		{ "1.0", 0, 10, -EINVAL, 0 },
		{ "1k", 0, 10000, -EINVAL, 0 },
		{ "99999999999999999999999x", 0, UINT64_MAX, -EINVAL, 0 },
	};

	(void)state;
	run_ucases(num_uint, c, ARRAY_SIZE(c));
}

static void test_size(void **state)
{
	static const struct ucase c[] = {
		{ "0", 0, 100, 0, 0 },
		{ "100", 0, 100, 0, 100 },
		{ "1k", 0, UINT64_MAX, 0, 1024 },
		{ "1K", 0, UINT64_MAX, 0, 1024 },
		{ "3m", 0, UINT64_MAX, 0, 3 * 1048576 },
		{ "3M", 0, UINT64_MAX, 0, 3 * 1048576 },
		{ "0k", 0, 10, 0, 0 },
		{ "2k", 0, 2048, 0, 2048 },
		{ "2k", 0, 2047, -ERANGE, 0 },
		{ "2k", 2049, 4096, -ERANGE, 0 },
		{ "1025", 0, 1024, -ERANGE, 0 },
		{ "255", 256, 1024, -ERANGE, 0 },
		{ "17592186044415m", 0, UINT64_MAX, 0, 17592186044415ull << 20 },
		{ "17592186044416m", 0, UINT64_MAX, -ERANGE, 0 },
		{ "18014398509481984k", 0, UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999", 0, UINT64_MAX, -ERANGE, 0 },
		{ "", 0, 100, -EINVAL, 0 },
		{ "k", 0, 100, -EINVAL, 0 },
		{ "1kb", 0, 10000, -EINVAL, 0 },
		{ "1g", 0, UINT64_MAX, -EINVAL, 0 },
		{ "1 k", 0, 10000, -EINVAL, 0 },
		{ "1.5k", 0, 10000, -EINVAL, 0 },
		{ "-1", 0, 10000, -EINVAL, 0 },
		{ "99999999999999999999999kb", 0, UINT64_MAX, -EINVAL, 0 },
	};

	(void)state;
	run_ucases(num_size, c, ARRAY_SIZE(c));
}

static int duration_fn(const char *s, uint64_t min, uint64_t max,
		       uint64_t *out)
{
	(void)min;
	return num_duration_ms(s, max, out);
}

static void test_duration(void **state)
{
	static const struct ucase c[] = {
		{ "0", 0, 1000, 0, 0 },
		{ "000", 0, 1000, 0, 0 },
		{ "0ms", 0, 1000, 0, 0 },
		{ "0s", 0, 1000, 0, 0 },
		{ "250ms", 0, 1000, 0, 250 },
		{ "1s", 0, 1000, 0, 1000 },
		{ "1000ms", 0, 1000, 0, 1000 },
		{ "1001ms", 0, 1000, -ERANGE, 0 },
		{ "2s", 0, 1999, -ERANGE, 0 },
		{ "86400s", 0, 86400000, 0, 86400000 },
		{ "18446744073709551615ms", 0, UINT64_MAX, 0, UINT64_MAX },
		{ "18446744073709551s", 0, UINT64_MAX, 0, 18446744073709551000ull },
		{ "18446744073709552s", 0, UINT64_MAX, -ERANGE, 0 },
		{ "18446744073709551615s", 0, UINT64_MAX, -ERANGE, 0 },
		{ "99999999999999999999999s", 0, 86400000, -ERANGE, 0 },
		{ "99999999999999999999999", 0, 86400000, -EINVAL, 0 },
		{ "99999999999999999999999x", 0, 86400000, -EINVAL, 0 },
		{ "1", 0, 1000, -EINVAL, 0 },
		{ "", 0, 1000, -EINVAL, 0 },
		{ "s", 0, 1000, -EINVAL, 0 },
		{ "1m", 0, 100000, -EINVAL, 0 },
		{ "1min", 0, 100000, -EINVAL, 0 },
		{ "1S", 0, 1000, -EINVAL, 0 },
		{ "1.5s", 0, 10000, -EINVAL, 0 },
		{ "1 s", 0, 10000, -EINVAL, 0 },
		{ "1ms ", 0, 10000, -EINVAL, 0 },
	};

	(void)state;
	run_ucases(duration_fn, c, ARRAY_SIZE(c));
}

static void test_percent(void **state)
{
	static const struct ucase c[] = {
		{ "10%", 1, 100, 0, 10 },
		{ "10", 1, 100, 0, 10 },
		{ "100%", 1, 100, 0, 100 },
		{ "1", 1, 100, 0, 1 },
		{ "0000000000000000050%", 1, 100, 0, 50 },
		{ "0%", 1, 100, -ERANGE, 0 },
		{ "101%", 1, 100, -ERANGE, 0 },
		{ "99999999999999999999999%", 1, 100, -ERANGE, 0 },
		{ "%", 1, 100, -EINVAL, 0 },
		{ "", 1, 100, -EINVAL, 0 },
		{ "10%%", 1, 100, -EINVAL, 0 },
		{ "%10", 1, 100, -EINVAL, 0 },
		{ "10 %", 1, 100, -EINVAL, 0 },
		{ "1.5%", 1, 100, -EINVAL, 0 },
		{ "-5%", 1, 100, -EINVAL, 0 },
	};

	(void)state;
	run_ucases(num_percent, c, ARRAY_SIZE(c));
}

struct dcase {
	const char *s;
	double max;
	int rc;
	double v;
};

typedef int double_fn(const char *s, double max, double *out);

static void run_dcases(double_fn *fn, const struct dcase *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *copy = strdup(c[i].s);
		double v = -1;

		assert_non_null(copy);
		int rc = fn(copy, c[i].max, &v);
		if (rc != c[i].rc)
			fail_msg("\"%s\": rc %d, expected %d", c[i].s, rc, c[i].rc);
		/* Exact: each value is the double nearest the decimal, the
		 * same one the compiler makes of the literal. */
		if (v != (c[i].rc == 0 ? c[i].v : -1))
			fail_msg("\"%s\": value %.17g", c[i].s, v);
		free(copy);
	}
}

/* Shared by num_decimal and num_seconds: what no number of either is. */
static const struct dcase not_decimals[] = {
	{ "", 10, -EINVAL, 0 },
	{ ".", 10, -EINVAL, 0 },
	{ "1.2.3", 10, -EINVAL, 0 },
	{ "..5", 10, -EINVAL, 0 },
	{ " 1", 10, -EINVAL, 0 },
	{ "1 ", 10, -EINVAL, 0 },
	{ "+1", 10, -EINVAL, 0 },
	{ "-1", 10, -EINVAL, 0 },
	{ "inf", 1e300, -EINVAL, 0 },
	{ "nan", 10, -EINVAL, 0 },
	{ "0x1p4", 100, -EINVAL, 0 },
	{ "1e2", 1000, -EINVAL, 0 },
	{ "1,5", 10, -EINVAL, 0 },
};

static void test_decimal(void **state)
{
	static const struct dcase c[] = {
		{ "2", 10, 0, 2 },
		{ "0.5", 10, 0, 0.5 },
		{ "1.", 10, 0, 1 },
		{ ".25", 10, 0, 0.25 },
		{ "10", 10, 0, 10 },
		{ "10.000001", 10, -ERANGE, 0 },
		{ "0", 10, -ERANGE, 0 },
		{ "0.0", 10, -ERANGE, 0 },
		{ "1000000000000000000000000000000000001", 1e300, 0, 1e36 },
		{ "2s", 10, -EINVAL, 0 },
		{ "2ms", 10, -EINVAL, 0 },
	};

	(void)state;
	run_dcases(num_decimal, c, ARRAY_SIZE(c));
	run_dcases(num_decimal, not_decimals, ARRAY_SIZE(not_decimals));
}

static void test_seconds(void **state)
{
	static const struct dcase c[] = {
		{ "2", 10, 0, 2 },
		{ "2s", 10, 0, 2 },
		{ "1.5s", 10, 0, 1.5 },
		{ "250ms", 10, 0, 250 * 1e-3 },
		{ "0.5ms", 10, 0, 0.5 * 1e-3 },
		{ "10000ms", 10, 0, 10 },
		{ "10001ms", 10, -ERANGE, 0 },
		{ "11s", 10, -ERANGE, 0 },
		{ "0s", 10, -ERANGE, 0 },
		{ "0ms", 10, -ERANGE, 0 },
		{ "s", 10, -EINVAL, 0 },
		{ "ms", 10, -EINVAL, 0 },
		{ ".s", 10, -EINVAL, 0 },
		{ "1m", 100, -EINVAL, 0 },
		{ "1S", 10, -EINVAL, 0 },
		{ "1 s", 10, -EINVAL, 0 },
		{ "1sms", 10, -EINVAL, 0 },
		{ "1.2.3s", 10, -EINVAL, 0 },
	};

	(void)state;
	run_dcases(num_seconds, c, ARRAY_SIZE(c));
	run_dcases(num_seconds, not_decimals, ARRAY_SIZE(not_decimals));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_percent),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
