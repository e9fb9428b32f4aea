/* The timer heap: order, ties, cancellation, callbacks that re-arm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../../daemon/timer.h"

#define MS 1000000ull

static unsigned order[64];
static unsigned norder;

static void record(struct timer *t, void *arg)
{
	(void)t;
	order[norder++] = (unsigned)(uintptr_t)arg;
}

static void test_order_and_ties(void **state)
{
	struct timer_heap h = { 0 };
	struct timer t[6];
	const uint64_t when[6] = { 50, 10, 30, 10, 20, 10 };

	(void)state;
	norder = 0;
	for (unsigned i = 0; i < 6; i++) {
		timer_init(&t[i], record, (void *)(uintptr_t)i);
		assert_int_equal(timer_add(&h, &t[i], when[i] * MS), 0);
	}
	assert_int_equal(timer_ms_until(&h, 0, -1), 10);
	assert_int_equal(timer_ms_until(&h, 0, 5), 5);
	assert_int_equal(timer_run(&h, 9 * MS), 0);
	assert_int_equal(timer_run(&h, 30 * MS), 5);
	/* Equal deadlines run in the order they were armed. */
	const unsigned expect[5] = { 1, 3, 5, 4, 2 };
	assert_int_equal(norder, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(order[i], expect[i]);
	assert_true(timer_armed(&t[0]));
	assert_false(timer_armed(&t[1]));
	assert_int_equal(timer_ms_until(&h, 30 * MS, -1), 20);
	assert_int_equal(timer_ms_until(&h, 60 * MS, -1), 0);
	timer_heap_free(&h);
	assert_false(timer_armed(&t[0]));
}

static void test_delete_and_rearm(void **state)
{
	struct timer_heap h = { 0 };
	struct timer t[5];

	(void)state;
	norder = 0;
	for (unsigned i = 0; i < 5; i++) {
		timer_init(&t[i], record, (void *)(uintptr_t)i);
		timer_add(&h, &t[i], (i + 1) * 10 * MS);
	}
	timer_del(&h, &t[2]);
	timer_del(&h, &t[2]);	/* twice is harmless */
	timer_del(&h, &t[0]);
	timer_add(&h, &t[4], 5 * MS);	/* re-arm earlier */
	timer_add(&h, &t[1], 100 * MS);	/* re-arm later */
	assert_int_equal(h.n, 3);
	assert_int_equal(timer_run(&h, 1000 * MS), 3);
	const unsigned expect[3] = { 4, 3, 1 };
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(order[i], expect[i]);
	assert_int_equal(timer_ms_until(&h, 0, -1), -1);
	timer_heap_free(&h);
}

struct rearm {
	struct timer_heap *h;
	struct timer t;
	unsigned runs;
};

static void rearm_fn(struct timer *t, void *arg)
{
	struct rearm *r = arg;

	if (++r->runs < 3)
		timer_add(r->h, t, t->when + 10 * MS);
}

static void test_callback_rearms(void **state)
{
	struct timer_heap h = { 0 };
	struct rearm r = { .h = &h };

	(void)state;
	timer_init(&r.t, rearm_fn, &r);
	timer_add(&h, &r.t, 10 * MS);
	assert_int_equal(timer_run(&h, 15 * MS), 1);
	assert_int_equal(timer_run(&h, 100 * MS), 2);
	assert_int_equal(r.runs, 3);
	assert_false(timer_armed(&r.t));
	timer_heap_free(&h);
}

/* Random adds, deletes and runs against a brute-force model. */
static void test_random_against_model(void **state)
{
	enum { N = 500 };
	static struct timer t[N];
	struct timer_heap h = { 0 };
	uint64_t x = 88172645463325252ull;

	(void)state;
	for (unsigned i = 0; i < N; i++)
		timer_init(&t[i], record, NULL);
	for (unsigned step = 0; step < 20000; step++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		struct timer *p = &t[x % N];
		if ((x >> 20) % 3)
			timer_add(&h, p, (x >> 32) % 100000);
		else
			timer_del(&h, p);
		/* Heap invariant and index bookkeeping. */
		for (uint32_t i = 0; i < h.n; i++) {
			assert_int_equal(h.v[i]->idx, i);
			if (i)
				assert_true(h.v[(i - 1) / 2]->when <= h.v[i]->when);
		}
	}
	uint32_t armed = 0;
	for (unsigned i = 0; i < N; i++)
		armed += timer_armed(&t[i]);
	assert_int_equal(armed, h.n);
	uint64_t last = 0;
	while (h.n) {
		struct timer *first = h.v[0];
		assert_true(first->when >= last);
		last = first->when;
		timer_del(&h, first);
	}
	timer_heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_ties),
		cmocka_unit_test(test_delete_and_rearm),
		cmocka_unit_test(test_callback_rearms),
		cmocka_unit_test(test_random_against_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
