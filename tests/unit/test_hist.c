/* Unit tests for common/hist.c: bucket layout, value sweeps, relative error,
 * quantiles and clamping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/hist.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct hist_layout layouts[] = {
	{ .sub_bits = 6, .max_bits = 40 },
	{ .sub_bits = 7, .max_bits = 40 },
};

static const struct hist_layout L6 = { .sub_bits = 6, .max_bits = 40 };

/* xorshift64: a fixed sequence for reproducible sweeps. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The bucket that holds the largest value below the clamp. */
static unsigned last_regular(struct hist_layout l)
{
	return hist_index(l, (1ull << l.max_bits) - 1);
}

static void test_bucket_count(void **state)
{
	(void)state;
	assert_int_equal(hist_nbuckets(L6), HIST_BUCKETS(6, 40));
	for (size_t k = 0; k < ARRAY_SIZE(layouts); k++) {
		struct hist_layout l = layouts[k];
		/* Every value fits: the clamp bucket is the last one. */
		assert_int_equal(hist_index(l, UINT64_MAX), hist_nbuckets(l) - 1);
		/* No unreachable bucket between the last regular one and the clamp. */
		assert_int_equal(last_regular(l), hist_nbuckets(l) - 2);
	}
}

/* Buckets 0 .. last_regular tile [0, 2^max_bits) without gaps or overlap,
 * each bucket maps back to itself, and the clamp bucket holds the rest. */
static void test_buckets_contiguous(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(layouts); k++) {
		struct hist_layout l = layouts[k];
		unsigned last = last_regular(l);
		unsigned exact = 1u << l.sub_bits;

		assert_int_equal(hist_bucket_low(l, 0), 0);
		for (unsigned i = 0; i <= last; i++) {
			uint64_t lo = hist_bucket_low(l, i);
			uint64_t hi = hist_bucket_high(l, i);
			assert_true(lo <= hi);
			assert_int_equal(hist_index(l, lo), i);
			assert_int_equal(hist_index(l, hi), i);
			if (i > 0)
				assert_true(lo == hist_bucket_high(l, i - 1) + 1);
			if (i < exact) {
				assert_int_equal(lo, i);
				assert_int_equal(hi, i);
				continue;
			}
			/* Width a power of two, at most lo / 2^(sub_bits-1). */
			uint64_t width = hi - lo + 1;
			assert_int_equal(width & (width - 1), 0);
			assert_true(width << (l.sub_bits - 1) <= lo);
			assert_int_equal(lo % width, 0);
		}
		assert_true(hist_bucket_high(l, last) == (1ull << l.max_bits) - 1);

		unsigned clamp = hist_nbuckets(l) - 1;
		assert_true(hist_bucket_low(l, clamp) == 1ull << l.max_bits);
		assert_true(hist_bucket_high(l, clamp) == UINT64_MAX);
		assert_int_equal(hist_index(l, 1ull << l.max_bits), clamp);
	}
}

/* Checks low(index(v)) <= v <= high(index(v)) and the midpoint's error. */
static void check_value(struct hist_layout l, uint64_t v)
{
	unsigned i = hist_index(l, v);
	uint64_t lo = hist_bucket_low(l, i), hi = hist_bucket_high(l, i);

	assert_true(i < hist_nbuckets(l));
	if (lo > v || v > hi)
		fail_msg("sub_bits %u: %llu in bucket %u [%llu, %llu]", l.sub_bits,
			 (unsigned long long)v, i, (unsigned long long)lo,
			 (unsigned long long)hi);
	if (v >> l.max_bits)
		return;	/* clamped: no error bound */
	uint64_t mid = lo + (hi - lo) / 2;
	uint64_t err = mid > v ? mid - v : v - mid;
	/* err / v <= 1 / 2^sub_bits */
	if (err << l.sub_bits > v)
		fail_msg("sub_bits %u: %llu reported as %llu", l.sub_bits,
			 (unsigned long long)v, (unsigned long long)mid);
	if (v < (1ull << l.sub_bits))
		assert_true(mid == v);	/* small values are exact */
}

static void test_values_sweep(void **state)
{
	uint64_t seed = 0x2545F4914F6CDD1Dull;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(layouts); k++) {
		struct hist_layout l = layouts[k];
		for (uint64_t v = 0; v < 100000; v++)
			check_value(l, v);
		for (unsigned b = 0; b < 64; b++) {
			uint64_t p = 1ull << b;
			check_value(l, p - 1);
			check_value(l, p);
			check_value(l, p + 1);
		}
		check_value(l, UINT64_MAX);
		for (int n = 0; n < 1000000; n++) {
			uint64_t r = rng_next(&seed);
			check_value(l, r >> (r & 63));
		}
	}
}

/* Indices never decrease as values grow. */
static void test_index_monotonic(void **state)
{
	uint64_t seed = 42;

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(layouts); k++) {
		struct hist_layout l = layouts[k];
		for (int n = 0; n < 100000; n++) {
			uint64_t a = rng_next(&seed) >> (rng_next(&seed) & 63);
			uint64_t b = rng_next(&seed) >> (rng_next(&seed) & 63);
			if (a > b) {
				uint64_t t = a;
				a = b;
				b = t;
			}
			assert_true(hist_index(l, a) <= hist_index(l, b));
		}
	}
}

static uint64_t *counts_new(struct hist_layout l)
{
	uint64_t *c = calloc(hist_nbuckets(l), sizeof(*c));

	assert_non_null(c);
	return c;
}

static void add(struct hist_layout l, uint64_t *c, uint64_t v, uint64_t n)
{
	c[hist_index(l, v)] += n;
}

/* |got - want| / want <= 1 / 2^sub_bits */
static void assert_near(struct hist_layout l, uint64_t got, uint64_t want)
{
	uint64_t err = got > want ? got - want : want - got;

	if (err << l.sub_bits > want)
		fail_msg("%llu is not within 1/%u of %llu",
			 (unsigned long long)got, 1u << l.sub_bits,
			 (unsigned long long)want);
}

static void test_quantiles_uniform(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(layouts); k++) {
		struct hist_layout l = layouts[k];
		uint64_t *c = counts_new(l);
		for (uint64_t v = 1; v <= 1000; v++)
			add(l, c, v, 1);
		assert_int_equal(hist_total(l, c), 1000);
		assert_near(l, hist_quantile(l, c, 0.5, 1000), 500);
		assert_near(l, hist_quantile(l, c, 0.9, 1000), 900);
		assert_near(l, hist_quantile(l, c, 0.99, 1000), 990);
		assert_near(l, hist_quantile(l, c, 0.999, 1000), 999);
		assert_int_equal(hist_quantile(l, c, 1.0, 1000), 1000);
		assert_int_equal(hist_quantile(l, c, 0.001, 1000), 1);
		/* q out of range: the smallest and the largest sample. */
		assert_int_equal(hist_quantile(l, c, 0.0, 1000), 1);
		assert_int_equal(hist_quantile(l, c, -1.0, 1000), 1);
		assert_int_equal(hist_quantile(l, c, NAN, 1000), 1);
		assert_int_equal(hist_quantile(l, c, 2.0, 1000), 1000);
		free(c);
	}

	/* Exact values for sub_bits 6: bucket midpoints. */
	uint64_t *c = counts_new(L6);
	for (uint64_t v = 1; v <= 1000; v++)
		add(L6, c, v, 1);
	assert_int_equal(hist_quantile(L6, c, 0.5, 1000), 499);	/* [496, 503] */
	assert_int_equal(hist_quantile(L6, c, 0.99, 1000), 983);	/* [976, 991] */
	assert_int_equal(hist_quantile(L6, c, 1.0, 0), 999);	/* [992, 1007] */
	assert_int_equal(hist_quantile(L6, c, 0.05, 0), 50);	/* exact */
	free(c);
}

static void test_quantiles_two_points(void **state)
{
	uint64_t *c = counts_new(L6);

	(void)state;
	add(L6, c, 100, 900);
	add(L6, c, 1000000, 100);
	assert_int_equal(hist_total(L6, c), 1000);
	assert_int_equal(hist_quantile(L6, c, 0.5, 1000000), 100);
	assert_int_equal(hist_quantile(L6, c, 0.9, 1000000), 100);
	/* [999424, 1015807]: the midpoint is above the maximum seen. */
	assert_int_equal(hist_quantile(L6, c, 0.901, 1000000), 1000000);
	assert_int_equal(hist_quantile(L6, c, 0.901, 0), 1007615);
	assert_int_equal(hist_quantile(L6, c, 1.0, 1000000), 1000000);
	free(c);
}

static void test_quantiles_one_value(void **state)
{
	uint64_t *c = counts_new(L6);

	(void)state;
	add(L6, c, 12345, 1000);	/* bucket [12288, 12543] */
	assert_int_equal(hist_quantile(L6, c, 0.5, 0), 12415);
	assert_int_equal(hist_quantile(L6, c, 0.5, 12345), 12345);
	assert_int_equal(hist_quantile(L6, c, 1.0, 12345), 12345);
	free(c);

	c = counts_new(L6);
	add(L6, c, 7, 1);
	assert_int_equal(hist_quantile(L6, c, 0.5, 0), 7);
	assert_int_equal(hist_quantile(L6, c, 1.0, 7), 7);
	free(c);
}

static void test_quantile_empty(void **state)
{
	uint64_t *c = counts_new(L6);

	(void)state;
	assert_int_equal(hist_total(L6, c), 0);
	assert_int_equal(hist_quantile(L6, c, 0.5, 0), 0);
	assert_int_equal(hist_quantile(L6, c, 1.0, 0), 0);
	assert_int_equal(hist_quantile(L6, c, 0.99, 123), 0);
	free(c);
}

/* Values from 2^max_bits up share the last bucket, which reports its lower
 * bound, or the exact maximum when it is given. */
static void test_clamp(void **state)
{
	uint64_t *c = counts_new(L6);
	unsigned clamp = hist_nbuckets(L6) - 1;

	(void)state;
	assert_int_equal(hist_index(L6, 1ull << 40), clamp);
	assert_int_equal(hist_index(L6, (1ull << 40) + 12345), clamp);
	assert_int_equal(hist_index(L6, 1ull << 63), clamp);
	assert_int_equal(hist_index(L6, UINT64_MAX), clamp);
	assert_true(hist_index(L6, (1ull << 40) - 1) < clamp);

	add(L6, c, 1ull << 45, 3);
	add(L6, c, UINT64_MAX, 1);
	assert_int_equal(c[clamp], 4);
	assert_int_equal(hist_total(L6, c), 4);
	assert_true(hist_quantile(L6, c, 0.5, 0) == 1ull << 40);
	assert_true(hist_quantile(L6, c, 1.0, 0) == 1ull << 40);
	assert_true(hist_quantile(L6, c, 0.5, UINT64_MAX) == 1ull << 40);
	assert_true(hist_quantile(L6, c, 1.0, UINT64_MAX) == UINT64_MAX);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_count),
		cmocka_unit_test(test_buckets_contiguous),
		cmocka_unit_test(test_values_sweep),
		cmocka_unit_test(test_index_monotonic),
		cmocka_unit_test(test_quantiles_uniform),
		cmocka_unit_test(test_quantiles_two_points),
		cmocka_unit_test(test_quantiles_one_value),
		cmocka_unit_test(test_quantile_empty),
		cmocka_unit_test(test_clamp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
