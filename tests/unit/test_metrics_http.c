/* Unit tests for the /metrics request parser and reply heads
 * (daemon/metrics_http.c).  Each input is parsed from a heap copy of its
 * exact length, so a read past it is an ASan error. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/metrics_http.h"

static int parse_n(const char *s, size_t len, bool *head)
{
	char *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, s, len);
	int rc = mh_parse(copy, len, head);
	free(copy);
	return rc;
}

static int parse(const char *s, bool *head)
{
	return parse_n(s, strlen(s), head);
}

#define GET "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:9477\r\n" \
	    "Accept: text/plain;version=0.0.4;q=1,*/*;q=0.1\r\n\r\n"

static void test_get_head(void **state)
{
	bool head = true;

	(void)state;
	assert_int_equal(parse(GET, &head), 200);
	assert_false(head);
	assert_int_equal(parse("HEAD /metrics HTTP/1.0\r\n\r\n", &head), 200);
	assert_true(head);
	/* Bare LF line ends, no header, a query string. */
	assert_int_equal(parse("GET /metrics?x=1 HTTP/1.0\n\n", &head), 200);
	assert_false(head);
	/* HEAD of another path: 404, still without a body. */
	assert_int_equal(parse("HEAD /x HTTP/1.1\r\n\r\n", &head), 404);
	assert_true(head);
	/* A body after the head is not looked at. */
	assert_int_equal(parse(GET "\x01\x02garbage", &head), 200);
}

/* Every proper prefix of a good request is "need more". */
static void test_incomplete(void **state)
{
	bool head;

	(void)state;
	for (size_t n = 0; n < strlen(GET); n++)
		assert_int_equal(parse_n(GET, n, &head), 0);
}

static void test_routes(void **state)
{
	static const struct {
		const char *req;
		int status;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", 404 },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 404 },
		{ "GET /metric HTTP/1.1\r\n\r\n", 404 },
		{ "GET /Metrics HTTP/1.1\r\n\r\n", 404 },
		{ "GET http://h/metrics HTTP/1.1\r\n\r\n", 404 },
		{ "POST /metrics HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
		  405 },
		{ "PUT /x HTTP/1.1\r\n\r\n", 405 },
		{ "get /metrics HTTP/1.1\r\n\r\n", 405 },
		{ "GET /metrics HTTP/2.0\r\n\r\n", 505 },
		{ "GET /metrics HTTP/1.2\r\n\r\n", 505 },
		{ "GET /metrics HTTP/0.9\r\n\r\n", 505 },
	};
	bool head;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = parse(cases[i].req, &head);
		if (rc != cases[i].status)
			fail_msg("\"%s\": %d, expected %d", cases[i].req, rc,
				 cases[i].status);
	}
}

/* Malformed request lines are answered as soon as the line is whole;
 * malformed headers as soon as theirs is. */
static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"GET /metrics\r\n",
		"GET  /metrics HTTP/1.1\r\n",
		"GET /metrics  HTTP/1.1\r\n",
		"GET /metrics HTTP/1.1 \r\n",
		" GET /metrics HTTP/1.1\r\n",
		"\r\n",
		"GET /metrics HTTP/x.1\r\n",
		"GET /metrics HTTP/11\r\n",
		"GET /metrics http/1.1\r\n",
		"GET /met\x01rics HTTP/1.1\r\n",
		"GET /m\xc3\xa9 HTTP/1.1\r\n",
		"G(T /metrics HTTP/1.1\r\n",
		"GET /metrics HTTP/1.1\r\nHost 127.0.0.1\r\n",
		"GET /metrics HTTP/1.1\r\n: empty name\r\n",
		"GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n",
		"GET /metrics HTTP/1.1\r\nX: a\rb\r\n",
		"GET /metrics HTTP/1.1\r\nX: a\x7f\r\n",
		"GET /metrics HTTP/1.1\r\nX y: 1\r\n",
	};
	bool head;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i], &head);
		if (rc != 400)
			fail_msg("case %zu: %d, expected 400", i, rc);
	}
	/* A NUL in a header value. */
	static const char nul[] = "GET /metrics HTTP/1.1\r\nX: a\0b\r\n\r\n";
	assert_int_equal(parse_n(nul, sizeof(nul) - 1, &head), 400);
	/* Obs-text (bytes >= 0x80) in a value is allowed. */
	assert_int_equal(parse("GET /metrics HTTP/1.1\r\nX: \xc3\xa9\r\n\r\n",
			       &head), 200);
}

/* A head of exactly MH_HEAD_MAX bytes is read; one byte more, or that many
 * without its end, is 431. */
static void test_head_limit(void **state)
{
	static const char line[] = "GET /metrics HTTP/1.1\r\nX: ";
	char *buf = malloc(MH_HEAD_MAX + 2);
	size_t fill = MH_HEAD_MAX - (sizeof(line) - 1) - 4;
	bool head;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, line, sizeof(line) - 1);
	memset(buf + sizeof(line) - 1, 'a', fill);
	memcpy(buf + MH_HEAD_MAX - 4, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, MH_HEAD_MAX, &head), 200);
	assert_int_equal(parse_n(buf, MH_HEAD_MAX - 1, &head), 0);
	/* One more byte of header. */
	memset(buf + sizeof(line) - 1, 'a', fill + 1);
	memcpy(buf + MH_HEAD_MAX - 3, "\r\n\r\n", 4);
	assert_int_equal(parse_n(buf, MH_HEAD_MAX + 1, &head), 431);
	assert_int_equal(parse_n(buf, MH_HEAD_MAX, &head), 431);
	assert_int_equal(parse_n(buf, MH_HEAD_MAX - 1, &head), 0);
	/* A request line longer than the limit. */
	memset(buf, 'G', MH_HEAD_MAX + 2);
	assert_int_equal(parse_n(buf, MH_HEAD_MAX + 2, &head), 431);
	free(buf);
}

static void test_reply_heads(void **state)
{
	char buf[512];
	size_t n;

	(void)state;
	n = mh_head(buf, sizeof(buf), 200, 6945);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "HTTP/1.1 200 OK\r\n"
			    "Content-Type: text/plain; version=0.0.4; "
			    "charset=utf-8\r\nContent-Length: 6945\r\n"
			    "Connection: close\r\n\r\n");
	n = mh_head(buf, sizeof(buf), 405, 44);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "HTTP/1.1 405 Method Not Allowed\r\n"
			    "Content-Type: text/plain; charset=utf-8\r\n"
			    "Content-Length: 44\r\nAllow: GET, HEAD\r\n"
			    "Connection: close\r\n\r\n");
	assert_int_equal(strlen(mh_error_body(405)), 44);
	mh_head(buf, sizeof(buf), 431, 0);
	assert_int_equal(strncmp(buf, "HTTP/1.1 431 Request Header Fields "
				 "Too Large\r\n", 45), 0);
	/* Too small a buffer: nothing. */
	assert_int_equal(mh_head(buf, 20, 200, 1), 0);
	for (int s = 400; s <= 505; s++)
		assert_non_null(mh_reason(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_head),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_reply_heads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
