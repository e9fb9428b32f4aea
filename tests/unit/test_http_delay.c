/* Unit tests for HTTP's chained waits, /delay/50,25,50: the list parser
 * (http_delay_parse(), every input ending at a PROT_NONE page), what feed()
 * reports and what rewait() gives next, and a connection (conn.c) that
 * holds its response through each wait in turn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/conn.h"
#include "../../daemon/proto/http.h"
#include "../../daemon/proto/proto.h"
#include "../../daemon/server.h"
#include "../../daemon/stats.h"
#include "../../daemon/timer.h"
#include "../../daemon/util.h"
#include "../../daemon/version.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000ull

#define T0 784111777	/* Sun, 06 Nov 1994 08:49:37 GMT */
static time_t fixed_clock(void)
{
	return T0;
}

#define OK_GET "HTTP/1.1 200 OK\r\nServer: evd/" EVD_VERSION "\r\nDate: " \
	"Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 13\r\n" \
	"Content-Type: text/plain\r\n\r\nHello, World!"

/* ---- the parser ----------------------------------------------------------- */

/* s copied so that it ends where an inaccessible page begins. */
static const char *at_guard(const char *s, size_t n)
{
	static char *base;
	static size_t page;

	if (!base) {
		page = (size_t)sysconf(_SC_PAGESIZE);
		base = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(base != MAP_FAILED);
		assert_int_equal(mprotect(base + page, page, PROT_NONE), 0);
	}
	assert_true(n <= page);
	memcpy(base + page - n, s, n);
	return base + page - n;
}

static int parse(const char *s, uint32_t w[HTTP_DELAY_WAITS])
{
	memset(w, 0xee, HTTP_DELAY_WAITS * sizeof(*w));
	return http_delay_parse(at_guard(s, strlen(s)), strlen(s), w);
}

static void test_parse_ok(void **state)
{
	static const struct {
		const char *in;
		int n;
		uint32_t w[HTTP_DELAY_WAITS];
	} ok[] = {
		{ "0", 1, { 0 } },
		{ "50", 1, { 50 } },
		{ "60000", 1, { 60000 } },
		{ "00050", 1, { 50 } },		/* leading zeros, as /delay/N */
		{ "50,25,50", 3, { 50, 25, 50 } },
		{ "0,0", 2, { 0, 0 } },
		{ "0,60000", 2, { 0, 60000 } },
		{ "00001,00002", 2, { 1, 2 } },
		{ "1,2,3,4,5,6,7,8", 8, { 1, 2, 3, 4, 5, 6, 7, 8 } },
		{ "7500,7500,7500,7500,7500,7500,7500,7500", 8,
		  { 7500, 7500, 7500, 7500, 7500, 7500, 7500, 7500 } },
		{ "59999,1", 2, { 59999, 1 } },
	};
	uint32_t w[HTTP_DELAY_WAITS];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		int n = parse(ok[i].in, w);
		if (n != ok[i].n)
			fail_msg("\"%s\": %d, expected %d", ok[i].in, n,
				 ok[i].n);
		assert_memory_equal(w, ok[i].w, (size_t)n * sizeof(*w));
	}
}

static void test_parse_refused(void **state)
{
	static const struct {
		const char *in;
		int err;
	} bad[] = {
		{ "", HTTP_DELAY_BAD_WAIT },	/* /delay/ as today */
		{ "60001", HTTP_DELAY_BAD_WAIT },
		{ "99999", HTTP_DELAY_BAD_WAIT },
		{ "000001", HTTP_DELAY_BAD_WAIT },	/* 6 digits */
		{ "-1", HTTP_DELAY_BAD_WAIT },
		{ "+1", HTTP_DELAY_BAD_WAIT },
		{ "1 ", HTTP_DELAY_BAD_WAIT },
		{ "1, 2", HTTP_DELAY_BAD_WAIT },
		{ "1,x", HTTP_DELAY_BAD_WAIT },
		{ "1;2", HTTP_DELAY_BAD_WAIT },
		{ "5/x", HTTP_DELAY_BAD_WAIT },
		{ "1,60001", HTTP_DELAY_BAD_WAIT },
		{ "1,4294967296", HTTP_DELAY_BAD_WAIT },
		{ ",", HTTP_DELAY_EMPTY },
		{ "1,", HTTP_DELAY_EMPTY },
		{ ",1", HTTP_DELAY_EMPTY },
		{ "1,,2", HTTP_DELAY_EMPTY },
		{ "1,2,3,4,5,6,7,8,9", HTTP_DELAY_TOO_MANY },
		{ "1,2,3,4,5,6,7,8,", HTTP_DELAY_TOO_MANY },
		{ "0,0,0,0,0,0,0,0,0", HTTP_DELAY_TOO_MANY },
		{ "30000,30001", HTTP_DELAY_TOO_LONG },
		{ "60000,1", HTTP_DELAY_TOO_LONG },
		{ "7500,7500,7500,7500,7500,7500,7500,7501",
		  HTTP_DELAY_TOO_LONG },
		/* The first problem from the left. */
		{ "60000,1,x", HTTP_DELAY_TOO_LONG },
		{ "x,60000,1", HTTP_DELAY_BAD_WAIT },
	};
	uint32_t w[HTTP_DELAY_WAITS];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		int n = parse(bad[i].in, w);
		if (n != -bad[i].err)
			fail_msg("\"%s\": %d, expected %d", bad[i].in, n,
				 -bad[i].err);
	}
}

/* ---- the protocol --------------------------------------------------------- */

struct proto_fx {
	const struct evd_proto *p;
	struct config cfg;
	void *state;
	char mem[4096];
	struct buf out;
};

static int proto_setup(void **state)
{
	struct proto_fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->p = proto_find("http");
	if (!f->p || !f->p->rewait)
		return -1;
	config_defaults(&f->cfg);
	f->state = malloc(f->p->state_size);
	if (!f->state)
		return -1;
	f->p->init(f->state, &f->cfg);
	http_set_clock(fixed_clock);
	*state = f;
	return 0;
}

static int proto_teardown(void **state)
{
	struct proto_fx *f = *state;

	http_set_clock(NULL);
	free(f->state);
	free(f);
	return 0;
}

/* Feeds one request for target; returns the proto_result. */
static struct proto_result get(struct proto_fx *f, const char *target)
{
	char req[256];
	struct proto_result res = { 0 };
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n",
			 target);

	f->out = (struct buf){ .data = f->mem, .cap = sizeof(f->mem) };
	assert_int_equal(f->p->feed(f->state, at_guard(req, (size_t)n),
				    (size_t)n, &f->out, &res), n);
	return res;
}

/* rewait() gives want[0..n) in turn, then false (and false again). */
static void expect_rewaits(struct proto_fx *f, const uint32_t *want,
			   size_t n)
{
	uint32_t ms;

	for (size_t i = 0; i < n; i++) {
		assert_true(f->p->rewait(f->state, &ms));
		assert_int_equal(ms, want[i]);
	}
	assert_false(f->p->rewait(f->state, &ms));
	assert_false(f->p->rewait(f->state, &ms));
}

static void test_feed_chain(void **state)
{
	struct proto_fx *f = *state;
	struct proto_result res;

	/* The first wait is the delay; the others follow; zeros are
	 * backends that answer at once. */
	res = get(f, "/delay/50,0,25,50");
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.delay_ms, 50);
	assert_int_equal(res.delay_off, 0);
	assert_int_equal(f->out.len, sizeof(OK_GET) - 1);
	assert_memory_equal(f->out.data, OK_GET, f->out.len);
	expect_rewaits(f, (const uint32_t[]){ 25, 50 }, 2);
	res = get(f, "/delay/0,30?x=1");
	assert_int_equal(res.delay_ms, 30);
	expect_rewaits(f, NULL, 0);
	res = get(f, "/delay/0,0,0");
	assert_int_equal(res.delay_ms, 0);
	expect_rewaits(f, NULL, 0);
	/* Today's /delay/N: one wait. */
	res = get(f, "/delay/7");
	assert_int_equal(res.delay_ms, 7);
	expect_rewaits(f, NULL, 0);
	res = get(f, "/delay/1,2,3,4,5,6,7,8");
	assert_int_equal(res.delay_ms, 1);
	expect_rewaits(f, (const uint32_t[]){ 2, 3, 4, 5, 6, 7, 8 }, 7);
}

/* A chain left unfinished (its connection went) never leaks into the
 * next response, delayed by [server] delay or not at all. */
static void test_feed_chain_reset(void **state)
{
	struct proto_fx *f = *state;
	struct proto_result res;

	res = get(f, "/delay/1,2,3");
	assert_int_equal(res.delay_ms, 1);
	res = get(f, "/");
	assert_int_equal(res.delay_ms, 0);
	expect_rewaits(f, NULL, 0);
	f->cfg.delay_ms = 40;
	f->p->init(f->state, &f->cfg);
	res = get(f, "/delay/1,2");
	assert_int_equal(res.delay_ms, 1);
	res = get(f, "/x");
	assert_int_equal(res.delay_ms, 40);
	expect_rewaits(f, NULL, 0);
}

/* Refusals: 400, the problem named in the body, Connection: close, no
 * wait. */
static void test_feed_refused(void **state)
{
	static const struct {
		const char *target, *text;
	} bad[] = {
		{ "/delay/1,,2", "invalid delay: an empty wait "
				 "(/delay/MS or /delay/MS,MS,...)" },
		{ "/delay/1,2,3,4,5,6,7,8,9", "invalid delay: more than 8 waits" },
		{ "/delay/30000,30001", "invalid delay: the waits add up to "
					"more than 60000 ms" },
		{ "/delay/5,60001", "invalid delay (0 to 60000 ms)" },
	};
	struct proto_fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[512];
		int n = snprintf(want, sizeof(want),
				 "HTTP/1.1 400 Bad Request\r\nServer: evd/"
				 EVD_VERSION "\r\nDate: Sun, 06 Nov 1994 "
				 "08:49:37 GMT\r\nContent-Length: %zu\r\n"
				 "Content-Type: text/plain\r\nConnection: "
				 "close\r\n\r\n%s\n", strlen(bad[i].text) + 1,
				 bad[i].text);
		f->p->init(f->state, &f->cfg);
		struct proto_result res = get(f, bad[i].target);
		assert_true(res.close);
		assert_true(res.error);
		assert_int_equal(res.delay_ms, 0);
		assert_int_equal(f->out.len, (size_t)n);
		assert_memory_equal(f->out.data, want, (size_t)n);
		expect_rewaits(f, NULL, 0);
	}
}

/* ---- a connection --------------------------------------------------------- */

struct conn_fx {
	struct config cfg;
	struct server srv;
	struct stats_slot *slot;
	int peer;
	struct conn *c;
};

static int conn_setup(void **state)
{
	struct conn_fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f)
		return -1;
	config_defaults(&f->cfg);
	f->srv.cfg = &f->cfg;
	f->srv.model = f->cfg.model;
	f->srv.proto = proto_find("http");
	f->srv.sb = scoreboard_create(1);
	if (!f->srv.proto || !f->srv.sb)
		return -1;
	f->slot = scoreboard_claim(f->srv.sb, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		return -1;
	f->peer = sv[1];
	f->c = conn_new(sv[0], &f->srv, f->slot, false);
	if (!f->c)
		return -1;
	http_set_clock(fixed_clock);
	*state = f;
	return 0;
}

static int conn_teardown(void **state)
{
	struct conn_fx *f = *state;

	http_set_clock(NULL);
	conn_close(f->c);
	conn_io_trim();
	close(f->peer);
	scoreboard_destroy(f->srv.sb);
	free(f);
	return 0;
}

static void sleep_until_ns(uint64_t when)
{
	struct timespec ts = {
		.tv_sec = (time_t)(when / 1000000000u),
		.tv_nsec = (long)(when % 1000000000u),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

static void peer_expect_nothing(struct conn_fx *f)
{
	char b;

	assert_int_equal(read(f->peer, &b, 1), -1);
	assert_int_equal(errno, EAGAIN);
}

/* Each wait of /delay/30,20,10 starts when the last ended: the response
 * stays held (and the model's timer is asked for again) through all
 * three, then goes, counted once, its latency the sum at least. */
static void test_conn_chain(void **state)
{
	static const char req[] = "GET /delay/30,20,10 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const unsigned waits[] = { 30, 20, 10 };
	struct conn_fx *f = *state;
	char got[sizeof(OK_GET) + 16];

	assert_int_equal(write(f->peer, req, sizeof(req) - 1),
			 (ssize_t)sizeof(req) - 1);
	uint64_t t0 = now_ns();
	assert_int_equal(conn_on_readable(f->c),
			 CONN_WANT_READ | CONN_WANT_TIMER);
	uint64_t from = t0;	/* no later than the wait started */
	for (size_t i = 0; i < ARRAY_SIZE(waits); i++) {
		assert_true(f->c->held);
		assert_true(f->c->hold_until >= from + waits[i] * MS);
		peer_expect_nothing(f);
		assert_int_equal(atomic_load(&f->slot->c[STAT_requests]), 0);
		sleep_until_ns(f->c->hold_until);
		from = now_ns();
		unsigned want = conn_on_timer(f->c);
		if (i + 1 < ARRAY_SIZE(waits))
			assert_int_equal(want, CONN_WANT_READ | CONN_WANT_TIMER);
		else
			assert_int_equal(want, CONN_WANT_READ);
	}
	assert_false(f->c->held);
	assert_true(now_ns() - t0 >= 60 * MS);
	assert_int_equal(read(f->peer, got, sizeof(got)),
			 (ssize_t)sizeof(OK_GET) - 1);
	assert_memory_equal(got, OK_GET, sizeof(OK_GET) - 1);
	assert_int_equal(atomic_load(&f->slot->c[STAT_requests]), 1);
	assert_int_equal(atomic_load(&f->slot->c[STAT_http_2xx]), 1);
	struct stats_total t;
	scoreboard_sum(f->srv.sb, &t);
	assert_true(t.lat_max_ns >= 60 * MS);
	/* The next request on the connection is not held. */
	static const char root[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(write(f->peer, root, sizeof(root) - 1),
			 (ssize_t)sizeof(root) - 1);
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	assert_int_equal(read(f->peer, got, sizeof(got)),
			 (ssize_t)sizeof(OK_GET) - 1);
}

/* Other protocols have no chain. */
static void test_only_http_chains(void **state)
{
	(void)state;
	assert_non_null(proto_find("http")->rewait);
	assert_null(proto_find("echo")->rewait);
	assert_null(proto_find("resp")->rewait);
	assert_null(proto_find("zmtp")->rewait);
}

int main(void)
{
#define P(fn) cmocka_unit_test_setup_teardown(fn, proto_setup, proto_teardown)
#define C(fn) cmocka_unit_test_setup_teardown(fn, conn_setup, conn_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_refused),
		P(test_feed_chain),
		P(test_feed_chain_reset),
		P(test_feed_refused),
		C(test_conn_chain),
		cmocka_unit_test(test_only_http_chains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
#undef P
#undef C
}
