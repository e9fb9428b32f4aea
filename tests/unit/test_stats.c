/* Unit tests for daemon/stats.c: the shared-memory scoreboard. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/proto/proto.h"
#include "../../daemon/stats.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct hist_layout L = {
	.sub_bits = STATS_HIST_SUB_BITS,
	.max_bits = STATS_HIST_MAX_BITS,
};

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(stat_keys[STAT_accepted], "connections_accepted");
	assert_string_equal(stat_keys[STAT_closed], "connections_closed");
	assert_string_equal(stat_keys[STAT_requests], "requests");
	assert_string_equal(stat_keys[STAT_bytes_in], "bytes_in");
	assert_string_equal(stat_keys[STAT_err_nomem], "errors_nomem");
	for (int i = 0; i < STAT_MAX; i++)
		assert_non_null(stat_keys[i]);
	for (int i = 0; i < WORKER_STATE_MAX; i++)
		assert_non_null(worker_state_names[i]);
	assert_string_equal(worker_state_names[WORKER_FREE], "free");
	assert_string_equal(worker_state_names[WORKER_WAITING], "waiting");
	assert_int_equal(stats_hist_layout.sub_bits, 6);
	assert_int_equal(stats_hist_layout.max_bits, 40);
}

/* Every counter, in order, with the key evctl prints: a change here is a
 * change of the stats output. */
static void test_all_keys(void **state)
{
	static const char *const keys[] = {
		"connections_accepted", "connections_closed",
		"connections_refused", "requests", "bytes_in", "bytes_out",
		"errors_accept", "errors_read", "errors_write", "errors_timeout",
		"errors_protocol", "errors_nomem", "errors_aborted",
		"responses_http_1xx", "responses_http_2xx", "responses_http_3xx",
		"responses_http_4xx", "responses_http_5xx",
		"responses_resp_status", "responses_resp_error",
		"responses_resp_integer", "responses_resp_bulk",
		"responses_resp_array", "responses_zmtp_ok",
		"responses_zmtp_error",
	};

	(void)state;
	assert_int_equal(STAT_MAX, ARRAY_SIZE(keys));
	for (int i = 0; i < STAT_MAX; i++)
		assert_string_equal(stat_keys[i], keys[i]);
	assert_string_equal(stat_keys[STAT_err_aborted], "errors_aborted");
	assert_string_equal(stat_keys[STAT_http_1xx], "responses_http_1xx");
	assert_string_equal(stat_keys[STAT_http_5xx], "responses_http_5xx");
	assert_string_equal(stat_keys[STAT_resp_status],
			    "responses_resp_status");
	assert_string_equal(stat_keys[STAT_resp_array], "responses_resp_array");
}

/* conn.c counts a protocol's replies[k] into STAT_http_1xx + k: the two
 * enums must line up. */
static void test_reply_kinds_map(void **state)
{
	static const struct {
		enum proto_reply r;
		enum stat_id s;
	} map[] = {
		{ REPLY_HTTP_1XX, STAT_http_1xx },
		{ REPLY_HTTP_2XX, STAT_http_2xx },
		{ REPLY_HTTP_3XX, STAT_http_3xx },
		{ REPLY_HTTP_4XX, STAT_http_4xx },
		{ REPLY_HTTP_5XX, STAT_http_5xx },
		{ REPLY_RESP_STATUS, STAT_resp_status },
		{ REPLY_RESP_ERROR, STAT_resp_error },
		{ REPLY_RESP_INTEGER, STAT_resp_integer },
		{ REPLY_RESP_BULK, STAT_resp_bulk },
		{ REPLY_RESP_ARRAY, STAT_resp_array },
		{ REPLY_ZMTP_OK, STAT_zmtp_ok },
		{ REPLY_ZMTP_ERROR, STAT_zmtp_error },
	};

	(void)state;
	assert_int_equal(ARRAY_SIZE(map), PROTO_REPLY_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		assert_int_equal(map[i].r, i);
		assert_int_equal(STAT_http_1xx + map[i].r, map[i].s);
	}
	assert_int_equal(STAT_http_1xx + PROTO_REPLY_MAX, STAT_MAX);
}

/* The connections a dead worker held: counted closed and aborted, once. */
static void test_abort_connections(void **state)
{
	struct scoreboard *sb = scoreboard_create(2);
	struct stats_total t;

	(void)state;
	assert_non_null(sb);
	struct stats_slot *s = scoreboard_claim(sb, 0);
	struct stats_slot *other = scoreboard_claim(sb, 1);

	/* None open: nothing changes. */
	assert_int_equal(slot_abort_connections(s), 0);
	assert_int_equal(s->c[STAT_closed], 0);
	assert_int_equal(s->c[STAT_err_aborted], 0);
	slot_add(s, STAT_accepted, 3);
	slot_add(s, STAT_closed, 3);
	assert_int_equal(slot_abort_connections(s), 0);
	assert_int_equal(s->c[STAT_closed], 3);
	assert_int_equal(s->c[STAT_err_aborted], 0);

	/* 7 accepted, 3 closed: 4 were open. */
	slot_add(s, STAT_accepted, 4);
	slot_add(other, STAT_accepted, 10);
	assert_int_equal(slot_abort_connections(s), 4);
	assert_int_equal(s->c[STAT_accepted], 7);
	assert_int_equal(s->c[STAT_closed], 7);
	assert_int_equal(s->c[STAT_err_aborted], 4);
	/* Once: a second call finds none open. */
	assert_int_equal(slot_abort_connections(s), 0);
	assert_int_equal(s->c[STAT_closed], 7);
	assert_int_equal(s->c[STAT_err_aborted], 4);
	/* Other slots are untouched. */
	assert_int_equal(other->c[STAT_closed], 0);
	assert_int_equal(other->c[STAT_err_aborted], 0);

	/* Large counts, and the totals balance. */
	slot_add(s, STAT_accepted, 1ull << 40);
	assert_true(slot_abort_connections(s) == 1ull << 40);
	assert_int_equal(slot_abort_connections(other), 10);
	scoreboard_sum(sb, &t);
	assert_true(t.c[STAT_accepted] == (1ull << 40) + 17);
	assert_true(t.c[STAT_closed] == t.c[STAT_accepted]);
	assert_true(t.c[STAT_err_aborted] == (1ull << 40) + 14);
	/* Nothing else moves. */
	for (int k = 0; k < STAT_MAX; k++)
		if (k != STAT_accepted && k != STAT_closed &&
		    k != STAT_err_aborted && t.c[k] != 0)
			fail_msg("%s: %llu", stat_keys[k],
				 (unsigned long long)t.c[k]);
	scoreboard_destroy(sb);
}

/* As evd uses it: a worker process dies holding connections; its parent
 * settles the slot once it has reaped it. */
static void test_abort_after_fork(void **state)
{
	struct scoreboard *sb = scoreboard_create(2);
	int status = -1;

	(void)state;
	assert_non_null(sb);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stats_slot *s = scoreboard_claim(sb, 1);
		slot_add(s, STAT_accepted, 5);
		slot_add(s, STAT_closed, 2);
		slot_add(s, STAT_requests, 9);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	struct stats_slot *s = &sb->slots[1];
	assert_int_equal(slot_abort_connections(s), 3);
	assert_int_equal(s->c[STAT_closed], 5);
	assert_int_equal(s->c[STAT_err_aborted], 3);
	assert_int_equal(s->c[STAT_requests], 9);
	assert_int_equal(slot_abort_connections(s), 0);
	scoreboard_destroy(sb);
}

static void test_create_zeroed(void **state)
{
	struct scoreboard *sb = scoreboard_create(5);
	static const struct stats_slot zero;

	(void)state;
	assert_non_null(sb);
	assert_int_equal(sb->nslots, 5);
	assert_int_equal(sb->used, 0);
	assert_true(sb->map_len >= sizeof(*sb) + 5 * sizeof(struct stats_slot));
	assert_true(sb->start_real_ns > 0);
	assert_int_equal(sizeof(struct stats_slot) % 64, 0);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal((uintptr_t)&sb->slots[i] % 64, 0);
		assert_memory_equal(&sb->slots[i], &zero, sizeof(zero));
	}
	struct stats_total t;
	memset(&t, 0xff, sizeof(t));
	scoreboard_sum(sb, &t);
	static const struct stats_total tzero;
	assert_memory_equal(&t, &tzero, sizeof(t));
	scoreboard_destroy(sb);
	scoreboard_destroy(NULL);
}

static void test_claim(void **state)
{
	struct scoreboard *sb = scoreboard_create(4);

	(void)state;
	assert_non_null(sb);
	struct stats_slot *s2 = scoreboard_claim(sb, 2);
	assert_ptr_equal(s2, &sb->slots[2]);
	assert_int_equal(sb->used, 3);
	assert_int_equal(s2->pid, getpid());
	assert_int_equal(s2->tid, gettid());
	assert_int_equal(s2->state, WORKER_IDLE);
	assert_int_equal(sb->slots[0].state, WORKER_FREE);
	/* The high-water mark never goes down. */
	assert_ptr_equal(scoreboard_claim(sb, 0), &sb->slots[0]);
	assert_int_equal(sb->used, 3);
	slot_set_state(s2, WORKER_WRITING);
	assert_int_equal(s2->state, WORKER_WRITING);
	scoreboard_destroy(sb);
}

static void test_sum(void **state)
{
	struct scoreboard *sb = scoreboard_create(3);
	struct stats_total t;

	(void)state;
	assert_non_null(sb);
	struct stats_slot *a = scoreboard_claim(sb, 0);
	struct stats_slot *b = scoreboard_claim(sb, 1);
	struct stats_slot *c = scoreboard_claim(sb, 2);
	slot_add(a, STAT_requests, 5);
	slot_add(b, STAT_requests, 7);
	slot_add(c, STAT_requests, 11);
	slot_add(a, STAT_bytes_in, 1ull << 40);
	slot_add(a, STAT_bytes_in, 3);
	slot_add(c, STAT_bytes_in, 1ull << 40);
	slot_add(b, STAT_err_nomem, 1);
	for (int i = 0; i < 1000; i++)
		slot_add(b, STAT_accepted, 1);
	scoreboard_sum(sb, &t);
	for (int k = 0; k < STAT_MAX; k++) {
		uint64_t want = 0;
		switch (k) {
		case STAT_requests: want = 23; break;
		case STAT_bytes_in: want = (2ull << 40) + 3; break;
		case STAT_err_nomem: want = 1; break;
		case STAT_accepted: want = 1000; break;
		}
		if (t.c[k] != want)
			fail_msg("%s: %llu, expected %llu", stat_keys[k],
				 (unsigned long long)t.c[k],
				 (unsigned long long)want);
	}
	assert_int_equal(a->c[STAT_requests], 5);
	assert_int_equal(hist_total(L, t.hist), 0);
	assert_int_equal(t.lat_max_ns, 0);
	assert_int_equal(t.lat_sum_ns, 0);
	scoreboard_destroy(sb);
}

static void test_latency(void **state)
{
	struct scoreboard *sb = scoreboard_create(2);
	struct stats_total t;

	(void)state;
	assert_non_null(sb);
	struct stats_slot *a = scoreboard_claim(sb, 0);
	struct stats_slot *b = scoreboard_claim(sb, 1);
	slot_latency(a, 1000, 3);
	slot_latency(a, 999, 2);
	slot_latency(a, 50, 1);
	slot_latency(b, 1000, 4);
	slot_latency(b, 1ull << 41, 1);	/* clamped, max kept exact */
	slot_latency(a, 7, 1);
	assert_int_equal(a->lat_max_ns, 1000);
	assert_true(b->lat_max_ns == 1ull << 41);
	assert_int_equal(a->hist[hist_index(L, 1000)], 5);	/* 999 too */
	assert_int_equal(a->hist[hist_index(L, 50)], 1);
	scoreboard_sum(sb, &t);
	assert_int_equal(hist_total(L, t.hist), 12);
	/* 999 and 1000 share the bucket [992, 1007]. */
	assert_int_equal(hist_index(L, 999), hist_index(L, 1000));
	assert_int_equal(t.hist[hist_index(L, 1000)], 9);
	assert_int_equal(t.hist[hist_index(L, 50)], 1);
	assert_int_equal(t.hist[7], 1);
	assert_int_equal(t.hist[STATS_HIST_BUCKETS - 1], 1);
	assert_true(t.lat_max_ns == 1ull << 41);
	/* The sum is exact, clamped values included. */
	assert_true(t.lat_sum_ns == 3000 + 1998 + 50 + 4000 + (1ull << 41) + 7);
	assert_true(a->lat_sum_ns == 3000 + 1998 + 50 + 7);
	assert_int_equal(hist_quantile(L, t.hist, 0.5, t.lat_max_ns), 999);
	assert_true(hist_quantile(L, t.hist, 1.0, t.lat_max_ns) == 1ull << 41);
	scoreboard_destroy(sb);
}

/* Only slots below the high-water mark are summed. */
static void test_used_limits_sum(void **state)
{
	struct scoreboard *sb = scoreboard_create(4);
	struct stats_total t;

	(void)state;
	assert_non_null(sb);
	slot_add(scoreboard_claim(sb, 1), STAT_closed, 2);
	slot_add(&sb->slots[3], STAT_closed, 100);	/* not handed out */
	slot_latency(&sb->slots[3], 5, 1);
	scoreboard_sum(sb, &t);
	assert_int_equal(sb->used, 2);
	assert_int_equal(t.c[STAT_closed], 2);
	assert_int_equal(hist_total(L, t.hist), 0);
	assert_int_equal(t.lat_max_ns, 0);
	scoreboard_claim(sb, 3);
	scoreboard_sum(sb, &t);
	assert_int_equal(sb->used, 4);
	assert_int_equal(t.c[STAT_closed], 102);
	assert_int_equal(hist_total(L, t.hist), 1);
	assert_int_equal(t.lat_max_ns, 5);
	scoreboard_destroy(sb);
}

/* In a child process: claims slot i and counts n requests of 3 bytes. */
static void child_work(struct scoreboard *sb, unsigned i, unsigned n)
{
	struct stats_slot *s = scoreboard_claim(sb, i);

	for (unsigned k = 0; k < n; k++) {
		slot_add(s, STAT_requests, 1);
		slot_add(s, STAT_bytes_in, 3);
		slot_latency(s, 100 + i, 1);
	}
	slot_set_state(s, WORKER_WAITING);
	_exit(0);
}

/* Processes forked after scoreboard_create() share it: counts written by
 * children are exact in the parent. */
static void test_fork(void **state)
{
	enum { CHILDREN = 4, N = 20000 };
	struct scoreboard *sb = scoreboard_create(CHILDREN + 1);
	pid_t pids[CHILDREN];
	struct stats_total t;

	(void)state;
	assert_non_null(sb);
	struct stats_slot *mine = scoreboard_claim(sb, 0);
	slot_add(mine, STAT_accepted, 1);
	for (unsigned i = 0; i < CHILDREN; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			child_work(sb, i + 1, N);
	}
	for (unsigned i = 0; i < CHILDREN; i++) {
		int status = -1;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	/* Written by the parent after the forks. */
	slot_add(mine, STAT_accepted, 1);
	scoreboard_sum(sb, &t);
	assert_int_equal(sb->used, CHILDREN + 1);
	assert_int_equal(t.c[STAT_requests], CHILDREN * N);
	assert_int_equal(t.c[STAT_bytes_in], 3 * CHILDREN * N);
	assert_int_equal(t.c[STAT_accepted], 2);
	assert_int_equal(hist_total(L, t.hist), CHILDREN * N);
	assert_int_equal(t.lat_max_ns, 100 + CHILDREN);
	for (unsigned i = 0; i < CHILDREN; i++) {
		struct stats_slot *s = &sb->slots[i + 1];
		assert_int_equal(s->pid, pids[i]);
		assert_int_equal(s->tid, pids[i]);
		assert_int_equal(s->state, WORKER_WAITING);
		assert_int_equal(s->c[STAT_requests], N);
		assert_int_equal(s->hist[hist_index(L, 100 + i + 1)], N);
	}
	scoreboard_destroy(sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_reply_kinds_map),
		cmocka_unit_test(test_abort_connections),
		cmocka_unit_test(test_abort_after_fork),
		cmocka_unit_test(test_create_zeroed),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_sum),
		cmocka_unit_test(test_latency),
		cmocka_unit_test(test_used_limits_sum),
		cmocka_unit_test(test_fork),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
