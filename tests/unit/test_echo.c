/* Unit tests for the echo protocol, driven through its struct evd_proto.
 * Input and output buffers end exactly at a PROT_NONE page, so a read past
 * the input or a write past the output's capacity crashes the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/proto/proto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* n usable bytes that end where an inaccessible page begins. */
struct guarded {
	char *base;
	size_t maplen;
	char *p;
};

static void guarded_alloc(struct guarded *g, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (n + page - 1) / page;

	g->maplen = (data_pages + 1) * page;
	g->base = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
	assert_int_equal(mprotect(g->base + data_pages * page, page, PROT_NONE),
			 0);
	g->p = g->base + data_pages * page - n;
}

static void guarded_free(struct guarded *g)
{
	assert_int_equal(munmap(g->base, g->maplen), 0);
}

/* A copy of s (len bytes) ending at a guard page. */
static const char *guarded_input(struct guarded *g, const void *s, size_t len)
{
	guarded_alloc(g, len);
	memcpy(g->p, s, len);
	return g->p;
}

/* An empty output buffer of capacity cap ending at a guard page. */
static void guarded_out(struct guarded *g, struct buf *out, size_t cap)
{
	guarded_alloc(g, cap);
	memset(g->p, '#', cap);
	*out = (struct buf){ .data = g->p, .cap = cap };
}

struct echo {
	const struct evd_proto *p;
	void *state;
	struct config cfg;	/* the defaults: no delay */
};

static int setup(void **state)
{
	struct echo *e = calloc(1, sizeof(*e));

	if (!e)
		return -1;
	e->p = proto_find("echo");
	if (!e->p)
		return -1;
	e->state = malloc(e->p->state_size ? e->p->state_size : 1);
	if (!e->state)
		return -1;
	config_defaults(&e->cfg);
	e->p->init(e->state, &e->cfg);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct echo *e = *state;

	free(e->state);
	free(e);
	return 0;
}

/* One feed() with a fresh result. */
static size_t feed(struct echo *e, const char *in, size_t len, struct buf *out,
		   struct proto_result *res)
{
	*res = (struct proto_result){ 0 };
	return e->p->feed(e->state, in, len, out, res);
}

static void assert_result(const struct proto_result *res, unsigned requests,
			  bool partial)
{
	static const unsigned none[PROTO_REPLY_MAX];

	assert_int_equal(res->requests, requests);
	assert_int_equal(res->partial, partial);
	assert_false(res->close);
	assert_false(res->error);
	/* echo's replies are of no kind the stats count. */
	assert_memory_equal(res->replies, none, sizeof(none));
}

/* As assert_result, and the response is due after delay_ms (0: now). */
static void assert_delayed(const struct proto_result *res, unsigned requests,
			   bool partial, uint32_t delay_ms)
{
	assert_result(res, requests, partial);
	assert_int_equal(res->delay_ms, delay_ms);
	assert_int_equal(res->delay_off, 0);
}

/* Re-initialises e's state with [server] delay = ms. */
static void set_delay(struct echo *e, uint64_t ms)
{
	e->cfg.delay_ms = ms;
	e->p->init(e->state, &e->cfg);
}

static void test_echo_registered(void **state)
{
	const struct evd_proto *p = proto_find("echo");

	(void)state;
	assert_non_null(p);
	assert_ptr_equal(p, evd_protos[0]);
	assert_string_equal(p->name, "echo");
	assert_non_null(p->summary);
	assert_non_null(p->init);
	assert_non_null(p->feed);
	assert_null(proto_find("Echo"));
	assert_null(proto_find(""));
	assert_string_equal(proto_names(), "echo, http, resp, zmtp");
}

static void test_echo_copies_line(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "abc\n", 4);

	guarded_out(&go, &out, 64);
	assert_int_equal(feed(e, in, 4, &out, &res), 4);
	assert_result(&res, 1, false);
	assert_int_equal(out.off, 0);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "abc\n", 4);
	assert_int_equal(out.data[4], '#');	/* nothing written beyond */
	guarded_free(&gi);
	guarded_free(&go);
}

static void test_echo_counts_newlines(void **state)
{
	static const char msg[] = "a\nb\n\n\nc";
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, msg, sizeof(msg) - 1);

	guarded_out(&go, &out, 64);
	assert_int_equal(feed(e, in, sizeof(msg) - 1, &out, &res), 7);
	assert_result(&res, 4, true);
	assert_int_equal(out.len, 7);
	assert_memory_equal(out.data, msg, 7);
	guarded_free(&gi);
	guarded_free(&go);
}

static void test_echo_partial_line(void **state)
{
	struct echo *e = *state;
	struct guarded gi1, gi2, go;
	struct buf out;
	struct proto_result res;
	const char *ab = guarded_input(&gi1, "ab", 2);
	const char *cnl = guarded_input(&gi2, "c\n", 2);

	guarded_out(&go, &out, 64);
	assert_int_equal(feed(e, ab, 2, &out, &res), 2);
	assert_result(&res, 0, true);
	/* Nothing new: still inside the line. */
	assert_int_equal(feed(e, ab, 0, &out, &res), 0);
	assert_result(&res, 0, true);
	assert_int_equal(feed(e, cnl, 2, &out, &res), 2);
	assert_result(&res, 1, false);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "abc\n", 4);
	/* A new line starts clean. */
	assert_int_equal(feed(e, cnl, 0, &out, &res), 0);
	assert_result(&res, 0, false);
	guarded_free(&gi1);
	guarded_free(&gi2);
	guarded_free(&go);
}

static void test_echo_binary_bytes(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	unsigned char all[256];

	for (unsigned i = 0; i < sizeof(all); i++)
		all[i] = (unsigned char)i;
	const char *in = guarded_input(&gi, all, sizeof(all));
	guarded_out(&go, &out, sizeof(all));
	assert_int_equal(feed(e, in, sizeof(all), &out, &res), 256);
	assert_result(&res, 1, true);	/* one '\n'; ends with 0xff */
	assert_int_equal(out.len, 256);
	assert_memory_equal(out.data, all, sizeof(all));
	guarded_free(&gi);
	guarded_free(&go);
}

/* The output buffer bounds what is consumed: never a byte past capacity. */
static void test_echo_small_out(void **state)
{
	static const char msg[] = "hello\nworld\n";
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, msg, 12);

	guarded_out(&go, &out, 5);
	assert_int_equal(feed(e, in, 12, &out, &res), 5);
	assert_result(&res, 0, true);	/* the '\n' did not fit */
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "hello", 5);

	/* Full: nothing consumed, nothing counted. */
	assert_int_equal(feed(e, in + 5, 7, &out, &res), 0);
	assert_result(&res, 0, true);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "hello", 5);

	buf_consume(&out, 5);
	assert_int_equal(feed(e, in + 5, 7, &out, &res), 5);
	assert_result(&res, 1, true);
	assert_memory_equal(out.data, "\nworl", 5);

	buf_consume(&out, 2);	/* part sent: 3 bytes left, 0 space */
	assert_int_equal(feed(e, in + 10, 2, &out, &res), 0);
	assert_result(&res, 0, true);
	buf_compact(&out);
	assert_int_equal(buf_space(&out), 2);
	assert_int_equal(feed(e, in + 10, 2, &out, &res), 2);
	assert_result(&res, 1, false);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.data, "orld\n", 5);
	guarded_free(&gi);
	guarded_free(&go);
}

/* Appends at len even when the head of out is already consumed. */
static void test_echo_appends_after_offset(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "xyz\n", 4);

	guarded_out(&go, &out, 8);
	memcpy(out.data, "ABCDEF", 6);
	out.off = 3;
	out.len = 6;
	assert_int_equal(feed(e, in, 4, &out, &res), 2);
	assert_result(&res, 0, true);
	assert_int_equal(out.off, 3);
	assert_int_equal(out.len, 8);
	assert_memory_equal(out.data, "ABCDEFxy", 8);
	guarded_free(&gi);
	guarded_free(&go);
}

/* xorshift64: a fixed sequence for reproducible streams. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* 1 MiB of random bytes through a 4 KiB output buffer in random pieces. */
static void test_echo_stream(void **state)
{
	enum { TOTAL = 1 << 20, CAP = 4096 };
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	unsigned char *src = malloc(TOTAL), *dst = malloc(TOTAL);
	size_t newlines = 0, requests = 0, in_off = 0, got = 0, calls = 0;

	assert_non_null(src);
	assert_non_null(dst);
	for (size_t i = 0; i < TOTAL; i++) {
		uint64_t r = rng_next(&seed);
		src[i] = (r & 0x30) == 0 ? '\n' : (unsigned char)(r >> 24);
		newlines += src[i] == '\n';
	}
	src[TOTAL - 1] = 'x';
	newlines -= src[TOTAL - 1] == '\n';
	const char *in = guarded_input(&gi, src, TOTAL);
	guarded_out(&go, &out, CAP);
	while (in_off < TOTAL) {
		size_t len = 1 + rng_next(&seed) % 9000;
		if (len > TOTAL - in_off)
			len = TOTAL - in_off;
		size_t space = buf_space(&out);
		size_t want = len < space ? len : space;
		size_t before = out.len;
		size_t n = feed(e, in + in_off, len, &out, &res);
		assert_int_equal(n, want);
		assert_int_equal(out.len, before + n);
		size_t nl = 0;
		for (size_t i = 0; i < n; i++)
			nl += in[in_off + i] == '\n';
		assert_int_equal(res.requests, nl);
		assert_int_equal(res.delay_ms, 0);
		if (n)
			assert_int_equal(res.partial, in[in_off + n - 1] != '\n');
		requests += res.requests;
		in_off += n;
		/* Send a random part of the output. */
		size_t take = rng_next(&seed) % (buf_used(&out) + 1);
		if (in_off == TOTAL || n == 0)
			take = buf_used(&out);
		memcpy(dst + got, buf_head(&out), take);
		got += take;
		buf_consume(&out, take);
		buf_compact(&out);
		calls++;
	}
	memcpy(dst + got, buf_head(&out), buf_used(&out));
	got += buf_used(&out);
	assert_int_equal(got, TOTAL);
	assert_memory_equal(dst, src, TOTAL);
	assert_int_equal(requests, newlines);
	assert_true(res.partial);
	assert_true(calls > 256);
	guarded_free(&gi);
	guarded_free(&go);
	free(src);
	free(dst);
}

/* Each connection has its own state. */
static void test_echo_states_independent(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "a\n", 2);
	void *other = malloc(e->p->state_size ? e->p->state_size : 1);

	assert_non_null(other);
	e->p->init(other, &e->cfg);
	guarded_out(&go, &out, 16);
	assert_int_equal(feed(e, in, 1, &out, &res), 1);	/* "a" */
	assert_result(&res, 0, true);
	res = (struct proto_result){ 0 };
	assert_int_equal(e->p->feed(other, in, 0, &out, &res), 0);
	assert_result(&res, 0, false);
	/* init resets a state in the middle of a line. */
	e->p->init(e->state, &e->cfg);
	assert_int_equal(feed(e, in, 0, &out, &res), 0);
	assert_result(&res, 0, false);
	free(other);
	guarded_free(&gi);
	guarded_free(&go);
}

/* ---- [server] delay ------------------------------------------------------ */

/* A whole line is echoed at once and held for the delay. */
static void test_echo_delay_line(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "abc\n", 4);

	set_delay(e, 100);
	guarded_out(&go, &out, 64);
	assert_int_equal(feed(e, in, 4, &out, &res), 4);
	assert_delayed(&res, 1, false, 100);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "abc\n", 4);
	assert_int_equal(out.data[4], '#');
	/* delay_off counts from what out held before the call: the held
	 * response starts right there. */
	assert_int_equal(feed(e, in, 4, &out, &res), 4);
	assert_delayed(&res, 1, false, 100);
	assert_int_equal(out.len, 8);
	assert_memory_equal(out.data, "abc\nabc\n", 8);
	/* The largest delay fits delay_ms. */
	set_delay(e, 60000);
	buf_consume(&out, 8);
	buf_compact(&out);
	assert_int_equal(feed(e, in, 4, &out, &res), 4);
	assert_delayed(&res, 1, false, 60000);
	guarded_free(&gi);
	guarded_free(&go);
}

/* An incomplete line consumes nothing: it waits whole for its newline. */
static void test_echo_delay_incomplete(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "abc\n", 4);

	set_delay(e, 100);
	guarded_out(&go, &out, 64);
	for (size_t len = 1; len < 4; len++) {
		assert_int_equal(feed(e, in, len, &out, &res), 0);
		assert_delayed(&res, 0, true, 0);
		assert_int_equal(out.len, 0);
		assert_int_equal(out.data[0], '#');
	}
	/* Once the newline is there, the whole line goes. */
	assert_int_equal(feed(e, in, 4, &out, &res), 4);
	assert_delayed(&res, 1, false, 100);
	assert_memory_equal(out.data, "abc\n", 4);
	guarded_free(&gi);
	guarded_free(&go);
}

/* At end of stream the unterminated last line comes back at once through
 * finish(): no newline, so no request and no delay. */
static void test_echo_delay_finish(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "abc", 3);

	set_delay(e, 100);
	guarded_out(&go, &out, 64);
	assert_int_equal(feed(e, in, 3, &out, &res), 0);
	assert_non_null(e->p->finish);
	memset(&res, 0, sizeof(res));
	assert_int_equal(e->p->finish(e->state, in, 3, &out, &res), 3);
	assert_delayed(&res, 0, true, 0);
	assert_int_equal(out.len, 3);
	assert_memory_equal(out.data, "abc", 3);
	assert_int_equal(out.data[3], '#');
	guarded_free(&gi);
	guarded_free(&go);
}

/* A line that does not fit out waits for room, whole. */
static void test_echo_delay_no_room(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "abcd\n", 5);

	set_delay(e, 7);
	guarded_out(&go, &out, 5);
	buf_append(&out, "Z", 1);
	assert_int_equal(feed(e, in, 5, &out, &res), 0);
	assert_delayed(&res, 0, true, 0);
	assert_int_equal(out.len, 1);
	buf_consume(&out, 1);
	buf_compact(&out);
	assert_int_equal(feed(e, in, 5, &out, &res), 5);
	assert_delayed(&res, 1, false, 7);
	assert_memory_equal(out.data, "abcd\n", 5);
	guarded_free(&gi);
	guarded_free(&go);
}

/* Pipelined lines: one per call, each with its own delay, so that the
 * connection can hold each response in turn. */
static void test_echo_delay_pipelined(void **state)
{
	static const char msg[] = "a\nbb\n\nccc\nd";
	static const struct {
		size_t n;
		const char *line;
	} want[] = { { 2, "a\n" }, { 3, "bb\n" }, { 1, "\n" }, { 4, "ccc\n" } };
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	size_t len = sizeof(msg) - 1, off = 0;
	const char *in = guarded_input(&gi, msg, len);

	set_delay(e, 250);
	guarded_out(&go, &out, 64);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		size_t before = out.len;
		assert_int_equal(feed(e, in + off, len - off, &out, &res),
				 want[i].n);
		assert_delayed(&res, 1, false, 250);
		assert_int_equal(out.len, before + want[i].n);
		assert_memory_equal(out.data + before, want[i].line, want[i].n);
		off += want[i].n;
	}
	/* "d" waits for its newline. */
	assert_int_equal(off, len - 1);
	assert_int_equal(feed(e, in + off, 1, &out, &res), 0);
	assert_delayed(&res, 0, true, 0);
	assert_int_equal(out.len, 10);
	assert_memory_equal(out.data, "a\nbb\n\nccc\n", 10);
	guarded_free(&gi);
	guarded_free(&go);
}

/* A line longer than the input buffer cannot wait whole: a full buffer
 * without a newline streams through undelayed, as without delay; the last
 * piece, with the newline, is delayed. */
static void test_echo_delay_long_line(void **state)
{
	enum { FULL = CONFIG_IN_BUFFER };
	struct echo *e = *state;
	struct guarded gi, go, gt, gn;
	struct buf out;
	struct proto_result res;
	char *big = malloc(FULL);

	assert_non_null(big);
	for (size_t i = 0; i < FULL; i++)
		big[i] = (char)('a' + i % 26);
	const char *in = guarded_input(&gi, big, FULL);
	const char *tail = guarded_input(&gt, "xyz\nq", 5);
	set_delay(e, 100);
	guarded_out(&go, &out, 2 * FULL);

	/* One byte short of full: it waits. */
	assert_int_equal(feed(e, in, FULL - 1, &out, &res), 0);
	assert_delayed(&res, 0, true, 0);
	assert_int_equal(out.len, 0);
	/* Full: all of it now, undelayed, not a request yet. */
	assert_int_equal(feed(e, in, FULL, &out, &res), FULL);
	assert_delayed(&res, 0, true, 0);
	assert_int_equal(out.len, FULL);
	assert_memory_equal(out.data, big, FULL);
	/* The last piece ends the line: delayed, one request. */
	assert_int_equal(feed(e, tail, 5, &out, &res), 4);
	assert_delayed(&res, 1, false, 100);
	assert_int_equal(out.len, FULL + 4);
	assert_memory_equal(out.data + FULL, "xyz\n", 4);
	/* The next line is short again: it waits for its newline. */
	assert_int_equal(feed(e, tail + 4, 1, &out, &res), 0);
	assert_delayed(&res, 0, true, 0);

	/* A full buffer streams only what out has room for. */
	set_delay(e, 100);
	buf_consume(&out, out.len);
	buf_compact(&out);
	out.cap = 10;
	assert_int_equal(feed(e, in, FULL, &out, &res), 10);
	assert_delayed(&res, 0, true, 0);
	assert_memory_equal(out.data, big, 10);
	/* A full buffer with a newline is one delayed line. */
	big[FULL - 1] = '\n';
	const char *nl_in = guarded_input(&gn, big, FULL);
	out.cap = 2 * FULL;
	buf_consume(&out, out.len);
	buf_compact(&out);
	set_delay(e, 100);
	assert_int_equal(feed(e, nl_in, FULL, &out, &res), FULL);
	assert_delayed(&res, 1, false, 100);
	assert_memory_equal(out.data, big, FULL);
	free(big);
	guarded_free(&gi);
	guarded_free(&go);
	guarded_free(&gt);
	guarded_free(&gn);
}

/* Without delay nothing is ever delayed, whatever the input. */
static void test_echo_no_delay(void **state)
{
	struct echo *e = *state;
	struct guarded gi, go;
	struct buf out;
	struct proto_result res;
	const char *in = guarded_input(&gi, "a\nb\nc", 5);

	assert_int_equal(e->cfg.delay_ms, 0);
	guarded_out(&go, &out, 64);
	assert_int_equal(feed(e, in, 5, &out, &res), 5);
	assert_delayed(&res, 2, true, 0);
	guarded_free(&gi);
	guarded_free(&go);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_registered),
		cmocka_unit_test_setup_teardown(test_echo_copies_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_counts_newlines, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_partial_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_binary_bytes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_small_out, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_appends_after_offset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_stream, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_states_independent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_delay_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_delay_incomplete, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_delay_finish, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_delay_no_room, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_delay_pipelined, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_delay_long_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_echo_no_delay, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
