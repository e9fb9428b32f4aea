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

#include "../../daemon/proto/proto.h"

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
	e->p->init(e->state, NULL);
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
	assert_int_equal(res->requests, requests);
	assert_int_equal(res->partial, partial);
	assert_false(res->close);
	assert_false(res->error);
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
	assert_string_equal(proto_names(), "echo");
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
	e->p->init(other, NULL);
	guarded_out(&go, &out, 16);
	assert_int_equal(feed(e, in, 1, &out, &res), 1);	/* "a" */
	assert_result(&res, 0, true);
	res = (struct proto_result){ 0 };
	assert_int_equal(e->p->feed(other, in, 0, &out, &res), 0);
	assert_result(&res, 0, false);
	/* init resets a state in the middle of a line. */
	e->p->init(e->state, NULL);
	assert_int_equal(feed(e, in, 0, &out, &res), 0);
	assert_result(&res, 0, false);
	free(other);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
