/* Unit tests for the http protocol (daemon/proto/http.c) and its parser
 * (http_parse.c): every response byte for byte with a fixed clock, every
 * error path, pipelining, keep-alive, bodies and chunked bodies split
 * across calls, a full output buffer, delays and counters.
 *
 * Every input handed to the code under test ends exactly where a PROT_NONE
 * page begins, and the output buffer ends at one too: reading past the
 * input or writing past the output's capacity crashes the test. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/proto/http.h"
#include "../../daemon/proto/http_parse.h"
#include "../../daemon/proto/proto.h"
#include "../../daemon/version.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define S(lit) lit, sizeof(lit) - 1

/* ---- fixed clock and expected responses ----------------------------------- */

#define T0 784111777	/* Sun, 06 Nov 1994 08:49:37 GMT */
#define DATE "Sun, 06 Nov 1994 08:49:37 GMT"

static time_t clock_now = T0;

static time_t fixed_clock(void)
{
	return clock_now;
}

#define HEAD_OF(status) \
	"HTTP/1.1 " status "\r\nServer: evd/" EVD_VERSION "\r\nDate: " DATE "\r\n"
#define TEXT_PLAIN "Content-Type: text/plain\r\n"

#define OK_HEADERS HEAD_OF("200 OK") "Content-Length: 13\r\n" TEXT_PLAIN
#define OK_GET OK_HEADERS "\r\nHello, World!"
#define OK_HEAD OK_HEADERS "\r\n"
#define OK_GET_CLOSE OK_HEADERS "Connection: close\r\n\r\nHello, World!"
#define OK_GET_KEEP OK_HEADERS "Connection: keep-alive\r\n\r\nHello, World!"
#define NOT_FOUND HEAD_OF("404 Not Found") "Content-Length: 10\r\n" \
	TEXT_PLAIN "\r\nnot found\n"
#define NOT_ALLOWED HEAD_OF("405 Method Not Allowed") \
	"Content-Length: 19\r\n" TEXT_PLAIN "Allow: GET, HEAD\r\n" \
	"\r\nmethod not allowed\n"
#define CONTINUE "HTTP/1.1 100 Continue\r\n\r\n"

#define GET_ROOT "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
#define HEAD_ROOT "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n"

/* The exact error response: status ("400 Bad Request"), body text. */
static const char *error_response(const char *status, const char *text,
				  bool head)
{
	static char buf[1024];
	int n = snprintf(buf, sizeof(buf),
			 "HTTP/1.1 %s\r\nServer: evd/" EVD_VERSION
			 "\r\nDate: " DATE "\r\nContent-Length: %zu\r\n"
			 TEXT_PLAIN "Connection: close\r\n\r\n%s%s",
			 status, strlen(text) + 1, head ? "" : text,
			 head ? "" : "\n");
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return buf;
}

/* ---- guarded memory --------------------------------------------------------- */

/* n usable bytes that end where an inaccessible page begins. */
struct guarded {
	char *base;
	size_t maplen;
	size_t cap;
	char *end;
};

static void guarded_alloc(struct guarded *g, size_t n)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data_pages = (n + page - 1) / page;

	if (data_pages == 0)
		data_pages = 1;
	g->maplen = (data_pages + 1) * page;
	g->base = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
	assert_int_equal(mprotect(g->base + data_pages * page, page, PROT_NONE),
			 0);
	g->end = g->base + data_pages * page;
	g->cap = data_pages * page;
}

static void guarded_free(struct guarded *g)
{
	assert_int_equal(munmap(g->base, g->maplen), 0);
}

/* A copy of s[0..n) that ends at the guard page. */
static const char *guarded_copy(struct guarded *g, const char *s, size_t n)
{
	assert_true(n <= g->cap);
	memmove(g->end - n, s, n);
	return g->end - n;
}

/* An empty output buffer of capacity cap ending at a guard page. */
static void guarded_out(struct guarded *g, struct buf *out, size_t cap)
{
	guarded_alloc(g, cap);
	memset(g->end - cap, '#', cap);
	*out = (struct buf){ .data = g->end - cap, .cap = cap };
}

/* ---- fixtures ------------------------------------------------------------- */

struct http {
	const struct evd_proto *p;
	struct config cfg;
	void *state;
	struct guarded in;	/* windows handed to feed() */
};

static int setup(void **state)
{
	struct http *h = calloc(1, sizeof(*h));

	if (!h)
		return -1;
	h->p = proto_find("http");
	if (!h->p)
		return -1;
	config_defaults(&h->cfg);
	h->state = malloc(h->p->state_size);
	if (!h->state)
		return -1;
	h->p->init(h->state, &h->cfg);
	guarded_alloc(&h->in, 1 << 20);
	clock_now = T0;
	http_set_clock(fixed_clock);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	struct http *h = *state;

	http_set_clock(NULL);
	guarded_free(&h->in);
	free(h->state);
	free(h);
	return 0;
}

/* Starts over with h->cfg (after a test changed it). */
static void reinit(struct http *h)
{
	h->p->init(h->state, &h->cfg);
}

/* One feed() of s[0..n), copied to end at the guard page. */
static size_t feed(struct http *h, const char *s, size_t n, struct buf *out,
		   struct proto_result *res)
{
	const char *in = guarded_copy(&h->in, s, n);
	size_t cap = out->cap, len = out->len;

	*res = (struct proto_result){ 0 };
	size_t used = h->p->feed(h->state, in, n, out, res);
	assert_true(used <= n);
	for (int k = 0; k < PROTO_REPLY_MAX; k++)
		assert_int_equal(!!(res->kinds & 1u << k), res->replies[k] != 0);
	assert_true(out->len <= cap);
	assert_true(out->len >= len);
	return used;
}

/* ---- a connection, simulated ------------------------------------------------ */

/* Everything a stream of feed() calls produced. */
struct session {
	char out[1 << 16];
	size_t out_len;
	unsigned requests;
	unsigned replies[PROTO_REPLY_MAX];
	unsigned errors;	/* calls that reported an error */
	unsigned delays;	/* calls that reported a delay */
	uint32_t last_delay;
	bool closed;
	bool partial;		/* after the last call */
	size_t consumed;
	unsigned calls;
};

/*
 * Feeds in[0..len) as a connection would: step bytes arrive at a time (0:
 * all at once), unconsumed bytes are offered again with the new ones, and
 * the output (capacity out_cap) is sent after every call.  Stops at a close.
 */
static void run(struct http *h, const char *in, size_t len, size_t step,
		size_t out_cap, struct session *s)
{
	struct guarded go;
	struct buf out;
	size_t arrived = 0;

	memset(s, 0, sizeof(*s));
	guarded_out(&go, &out, out_cap);
	while (!s->closed) {
		size_t more = step ? step : len;
		if (more > len - arrived)
			more = len - arrived;
		arrived += more;
		for (;;) {
			struct proto_result res;
			size_t avail = arrived - s->consumed;
			size_t n = feed(h, in + s->consumed, avail, &out, &res);
			size_t made = out.len;

			s->calls++;
			s->consumed += n;
			assert_true(s->out_len + made <= sizeof(s->out));
			memcpy(s->out + s->out_len, out.data, made);
			s->out_len += made;
			out.len = out.off = 0;
			s->requests += res.requests;
			for (int k = 0; k < PROTO_REPLY_MAX; k++)
				s->replies[k] += res.replies[k];
			s->errors += res.error;
			if (res.delay_ms) {
				s->delays++;
				s->last_delay = res.delay_ms;
				assert_true(res.delay_off < made);
			}
			s->partial = res.partial;
			if (res.close) {
				s->closed = true;
				break;
			}
			if (n == 0 && made == 0)
				break;	/* needs more input */
			if (s->consumed == arrived && !res.partial)
				break;
		}
		if (arrived == len)
			break;
	}
	guarded_free(&go);
}

static void assert_session_equal(const struct session *a,
				 const struct session *b)
{
	assert_int_equal(a->out_len, b->out_len);
	assert_memory_equal(a->out, b->out, a->out_len);
	assert_int_equal(a->requests, b->requests);
	assert_memory_equal(a->replies, b->replies, sizeof(a->replies));
	assert_int_equal(a->errors, b->errors);
	assert_int_equal(a->delays, b->delays);
	assert_int_equal(a->closed, b->closed);
	assert_int_equal(a->partial, b->partial);
}

static void assert_out(const struct session *s, const char *want, size_t n)
{
	if (s->out_len != n || memcmp(s->out, want, n) != 0)
		print_error("got %zu bytes:\n%.*s\nwanted %zu bytes:\n%.*s\n",
			    s->out_len, (int)s->out_len, s->out, n, (int)n,
			    want);
	assert_int_equal(s->out_len, n);
	assert_memory_equal(s->out, want, n);
}

/* One whole input in one call; the session's output must be want. */
static void expect(struct http *h, const char *in, size_t len,
		   const char *want, size_t want_len, struct session *s)
{
	reinit(h);
	run(h, in, len, 0, 1 << 16, s);
	assert_out(s, want, want_len);
}

/* ---- registration ------------------------------------------------------------ */

static void test_http_registered(void **state)
{
	const struct evd_proto *p = proto_find("http");

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->name, "http");
	assert_non_null(p->summary);
	assert_non_null(p->init);
	assert_non_null(p->feed);
	assert_true(p->state_size > 0);
	assert_null(proto_find("HTTP"));
	assert_non_null(strstr(proto_names(), "http"));
}

/* ---- responses ---------------------------------------------------------------- */

static void test_http_get_root(void **state)
{
	struct http *h = *state;
	struct session s;

	expect(h, S(GET_ROOT), S(OK_GET), &s);
	assert_int_equal(s.requests, 1);
	assert_int_equal(s.replies[REPLY_HTTP_2XX], 1);
	assert_int_equal(s.errors, 0);
	assert_false(s.closed);
	assert_false(s.partial);
	assert_int_equal(s.consumed, sizeof(GET_ROOT) - 1);
	assert_int_equal(s.calls, 1);
}

static void test_http_head_root(void **state)
{
	struct http *h = *state;
	struct session s;

	expect(h, S(HEAD_ROOT), S(OK_HEAD), &s);
	assert_int_equal(s.requests, 1);
	assert_int_equal(s.replies[REPLY_HTTP_2XX], 1);
	/* HEAD on other routes: the same headers, no body. */
	expect(h, S("HEAD /nope HTTP/1.1\r\nHost: a\r\n\r\n"),
	       S(HEAD_OF("404 Not Found") "Content-Length: 10\r\n" TEXT_PLAIN
		 "\r\n"), &s);
	assert_int_equal(s.replies[REPLY_HTTP_4XX], 1);
	expect(h, S("HEAD /delay/0 HTTP/1.1\r\nHost: a\r\n\r\n"), S(OK_HEAD),
	       &s);
	/* An error answer to HEAD has no body either. */
	expect(h, S("HEAD / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
	       error_response("400 Bad Request", "more than one Host", true),
	       strlen(error_response("400 Bad Request", "more than one Host",
				     true)), &s);
	assert_true(s.closed);
}

static void test_http_not_found(void **state)
{
	static const char *const targets[] = {
		"/x", "/index.html", "//", "/delay", "/delay?x=/delay/1",
		"/%2F", "/Delay/5", "/?", "/a|b^c{d}", "/%zz",
	};
	struct http *h = *state;
	struct session s;
	char req[128];

	for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.1\r\nHost: a\r\n\r\n",
				 targets[i]);
		reinit(h);
		run(h, req, (size_t)n, 0, 4096, &s);
		bool root = strcmp(targets[i], "/?") == 0;
		if (root)
			assert_out(&s, S(OK_GET));
		else
			assert_out(&s, S(NOT_FOUND));
		assert_false(s.closed);
		assert_int_equal(s.errors, 0);
		assert_int_equal(s.replies[root ? REPLY_HTTP_2XX :
					   REPLY_HTTP_4XX], 1);
	}
}

static void test_http_method_not_allowed(void **state)
{
	static const char *const methods[] = {
		"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "Get",
		"CONNECT", "TRACE", "BREW",
	};
	struct http *h = *state;
	struct session s;
	char req[128];

	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		int n = snprintf(req, sizeof(req),
				 "%s / HTTP/1.1\r\nHost: a\r\n\r\n", methods[i]);
		reinit(h);
		run(h, req, (size_t)n, 0, 4096, &s);
		assert_out(&s, S(NOT_ALLOWED));
		assert_false(s.closed);
		assert_int_equal(s.errors, 0);
		assert_int_equal(s.replies[REPLY_HTTP_4XX], 1);
	}
	/* Any target form: OPTIONS *, CONNECT authority. */
	expect(h, S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), S(NOT_ALLOWED),
	       &s);
	expect(h, S("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
	       S(NOT_ALLOWED), &s);
	/* A body is read and thrown away; the connection goes on. */
	expect(h, S("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
		    "hello" GET_ROOT), S(NOT_ALLOWED OK_GET), &s);
	assert_int_equal(s.requests, 2);
}

static void test_http_query_and_forms(void **state)
{
	struct http *h = *state;
	struct session s;

	expect(h, S("GET /?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"), S(OK_GET), &s);
	expect(h, S("GET /?/delay/5 HTTP/1.1\r\nHost: a\r\n\r\n"), S(OK_GET),
	       &s);
	assert_int_equal(s.delays, 0);
	expect(h, S("GET /nope?x HTTP/1.1\r\nHost: a\r\n\r\n"), S(NOT_FOUND),
	       &s);
	/* absolute-form routes on its path */
	expect(h, S("GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n"), S(OK_GET),
	       &s);
	expect(h, S("GET HTTP://a:80 HTTP/1.1\r\nHost: a\r\n\r\n"), S(OK_GET),
	       &s);
	expect(h, S("GET https://a?q HTTP/1.1\r\nHost: a\r\n\r\n"), S(OK_GET),
	       &s);
	expect(h, S("GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n"),
	       S(NOT_FOUND), &s);
	/* other forms are not for GET */
	static const char *const bad[] = {
		"GET * HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http:// HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
	};
	const char *want = error_response("400 Bad Request",
					  "invalid request target", false);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		expect(h, bad[i], strlen(bad[i]), want, strlen(want), &s);
		assert_true(s.closed);
		assert_int_equal(s.errors, 1);
	}
}

static void test_http_custom_body(void **state)
{
	struct http *h = *state;
	struct session s;

	strcpy(h->cfg.http_body, "abc");
	h->cfg.http_body_len = 3;
	expect(h, S(GET_ROOT HEAD_ROOT "GET /delay/1 HTTP/1.1\r\nHost: a\r\n\r\n"),
	       S(HEAD_OF("200 OK") "Content-Length: 3\r\n" TEXT_PLAIN
		 "\r\nabc"
		 HEAD_OF("200 OK") "Content-Length: 3\r\n" TEXT_PLAIN "\r\n"
		 HEAD_OF("200 OK") "Content-Length: 3\r\n" TEXT_PLAIN
		 "\r\nabc"), &s);
	h->cfg.http_body[0] = '\0';
	h->cfg.http_body_len = 0;
	expect(h, S(GET_ROOT), S(HEAD_OF("200 OK") "Content-Length: 0\r\n"
				 TEXT_PLAIN "\r\n"), &s);
}

/* Host values the grammar allows: uri-host [ ":" port ]. */
static void test_http_host_forms(void **state)
{
	static const char *const hosts[] = {
		"", "a", "127.0.0.1", "127.0.0.1:18181", "example.com:",
		"[::1]", "[::1]:8080", "[fe80::1%25eth0]", "[v1.x:y]",
		"xn--bcher-kva.example", "a%20b", "a_b~c!$&'()*+;=-.9",
		"EXAMPLE.COM:65535",
	};
	struct http *h = *state;
	struct session s;
	char req[256];

	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++) {
		int n = snprintf(req, sizeof(req),
				 "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i]);
		reinit(h);
		run(h, req, (size_t)n, 0, 4096, &s);
		if (s.errors)
			print_error("Host: %s\n", hosts[i]);
		assert_out(&s, S(OK_GET));
		assert_int_equal(s.errors, 0);
	}
}

/* ---- keep-alive ---------------------------------------------------------------- */

static void test_http_keep_alive_matrix(void **state)
{
	static const struct {
		const char *version;
		const char *connection;	/* NULL: no header */
		bool closes;
		const char *want;
	} cases[] = {
		{ "HTTP/1.1", NULL, false, OK_GET },
		{ "HTTP/1.1", "keep-alive", false, OK_GET },
		{ "HTTP/1.1", "close", true, OK_GET_CLOSE },
		{ "HTTP/1.1", "Close", true, OK_GET_CLOSE },
		{ "HTTP/1.1", "keep-alive, close", true, OK_GET_CLOSE },
		{ "HTTP/1.1", "Upgrade ,  CLOSE ", true, OK_GET_CLOSE },
		{ "HTTP/1.1", "closed", false, OK_GET },
		{ "HTTP/1.1", "", false, OK_GET },
		{ "HTTP/1.0", NULL, true, OK_GET_CLOSE },
		{ "HTTP/1.0", "keep-alive", false, OK_GET_KEEP },
		{ "HTTP/1.0", "Keep-Alive", false, OK_GET_KEEP },
		{ "HTTP/1.0", "foo,keep-alive", false, OK_GET_KEEP },
		{ "HTTP/1.0", "close", true, OK_GET_CLOSE },
		{ "HTTP/1.0", "keep-alive, close", true, OK_GET_CLOSE },
		{ "HTTP/1.0", "keep-alives", true, OK_GET_CLOSE },
	};
	struct http *h = *state;
	struct session s;
	char req[256], want[1024];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int n = snprintf(req, sizeof(req),
				 "GET / %s\r\nHost: a\r\n%s%s%s\r\n" GET_ROOT,
				 cases[i].version,
				 cases[i].connection ? "Connection: " : "",
				 cases[i].connection ? cases[i].connection : "",
				 cases[i].connection ? "\r\n" : "");
		reinit(h);
		run(h, req, (size_t)n, 0, 4096, &s);
		/* A second request follows: answered only if kept alive. */
		snprintf(want, sizeof(want), "%s%s", cases[i].want,
			 cases[i].closes ? "" : OK_GET);
		assert_out(&s, want, strlen(want));
		assert_int_equal(s.closed, cases[i].closes);
		assert_int_equal(s.requests, cases[i].closes ? 1 : 2);
		assert_int_equal(s.errors, 0);
	}
}

/* ---- pipelining ------------------------------------------------------------------ */

static void test_http_pipelined(void **state)
{
	static const char in[] = GET_ROOT HEAD_ROOT
		"GET /nope HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S(in), &out, &res), sizeof(in) - 1);
	assert_int_equal(res.requests, 3);
	assert_int_equal(res.replies[REPLY_HTTP_2XX], 2);
	assert_int_equal(res.replies[REPLY_HTTP_4XX], 1);
	assert_false(res.partial);
	assert_false(res.close);
	assert_false(res.error);
	assert_int_equal(res.delay_ms, 0);
	assert_int_equal(out.len, sizeof(OK_GET OK_HEAD NOT_FOUND) - 1);
	assert_memory_equal(out.data, OK_GET OK_HEAD NOT_FOUND, out.len);
	assert_int_equal(out.data[out.len], '#');
	guarded_free(&go);
}

/* A request and a half: the half stays unconsumed and partial is set. */
static void test_http_partial(void **state)
{
	static const char in[] = GET_ROOT "GET / HTTP/1.1\r\nHo";
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S("GE"), &out, &res), 0);
	assert_int_equal(res.requests, 0);
	assert_true(res.partial);
	assert_int_equal(out.len, 0);
	assert_int_equal(feed(h, S(in), &out, &res), sizeof(GET_ROOT) - 1);
	assert_int_equal(res.requests, 1);
	assert_true(res.partial);
	assert_memory_equal(out.data, OK_GET, sizeof(OK_GET) - 1);
	out.len = 0;
	assert_int_equal(feed(h, S(GET_ROOT), &out, &res),
			 sizeof(GET_ROOT) - 1);
	assert_false(res.partial);
	assert_int_equal(res.requests, 1);
	/* Nothing in: nothing happens. */
	out.len = 0;
	assert_int_equal(feed(h, "", 0, &out, &res), 0);
	assert_false(res.partial);
	assert_int_equal(res.requests, 0);
	assert_int_equal(out.len, 0);
	guarded_free(&go);
}

/* Empty lines before a request line are skipped. */
static void test_http_leading_empty_lines(void **state)
{
	struct http *h = *state;
	struct session s;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	expect(h, S("\r\n\r\n\r\n" GET_ROOT "\r\n" GET_ROOT),
	       S(OK_GET OK_GET), &s);
	/* Only CRLF: a bare LF is refused there too. */
	const char *lf = error_response("400 Bad Request", "bare LF", false);
	expect(h, S("\r\n\n" GET_ROOT), lf, strlen(lf), &s);
	assert_true(s.closed);
	reinit(h);
	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S("\r\n\r"), &out, &res), 2);
	assert_true(res.partial);
	assert_int_equal(out.len, 0);
	/* A CR that is not followed by LF starts a bad request line. */
	reinit(h);
	const char *want = error_response("400 Bad Request",
					  "malformed request line", false);
	expect(h, S("\r\rGET / HTTP/1.1\r\n\r\n"), want, strlen(want), &s);
	guarded_free(&go);
}

/* ---- split input ------------------------------------------------------------------ */

/* Inputs whose output must not depend on how they are split. */
static const struct {
	const char *in;
	size_t len;
} split_inputs[] = {
#define IN(s) { s, sizeof(s) - 1 }
	IN(GET_ROOT),
	IN(GET_ROOT HEAD_ROOT "GET /nope HTTP/1.1\r\nHost: a\r\n\r\n"),
	IN("\r\n" GET_ROOT "\n" "GET / HTTP/1.0\n\n"),
	IN("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" GET_ROOT),
	IN("GET /delay/15 HTTP/1.1\r\nHost: a\r\n\r\n" GET_ROOT),
	IN("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n"
	   "hello world" GET_ROOT),
	IN("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "5;a=b\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n"
	   GET_ROOT),
	IN("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
	   "Content-Length: 3\r\n\r\nabc" GET_ROOT),
	IN("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: a\r\n X: y\r\n\r\n"),
	IN("GET / HTTP/2.0\r\nHost: a\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
	   "Transfer-Encoding: chunked\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "5\r\nhelloX\r\n0\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "0\r\nBad Trailer: x\r\n\r\n"),
	IN("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	IN(GET_ROOT "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,1\r\n\r\n"
	   GET_ROOT),
	IN(GET_ROOT "GET /delay/60001 HTTP/1.1\r\nHost: a\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "1 ; a = \"\\\" ;\" ; b=c\r\nx\r\n0\r\n\r\n" GET_ROOT
	   "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	   "1;a=\"b\" \r\nx\r\n0\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"
	   "GET / HTTP/1.1\r\nHost: a:1\r\nX: y\nZ: 1\r\n\r\n"),
	IN("GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: Mozilla/5.0 (X11; Linux "
	   "x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\nAccept: text/html,"
	   "application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
	   "Accept-Language: en-US,en;q=0.5\r\nX-Tab: a\tb\t\r\n\r\n"
	   "GET / HTTP/1.1\r\nHost: a\r\nX-Long: 0123456789abcdef0123456789"
	   "abcdef\x01\r\n\r\n"),
#undef IN
};

/* One byte at a time gives what all at once gives. */
static void test_http_byte_at_a_time(void **state)
{
	struct http *h = *state;
	struct session all, bytes;

	for (size_t i = 0; i < ARRAY_SIZE(split_inputs); i++) {
		reinit(h);
		run(h, split_inputs[i].in, split_inputs[i].len, 0, 1 << 16, &all);
		assert_true(all.out_len > 0);
		reinit(h);
		run(h, split_inputs[i].in, split_inputs[i].len, 1, 1 << 16,
		    &bytes);
		assert_session_equal(&all, &bytes);
		/* At least one call per byte until the end or a close. */
		if (!bytes.closed)
			assert_true(bytes.calls >= split_inputs[i].len);
	}
}

/* Two pieces, split at every byte boundary: still the same. */
static void test_http_split_everywhere(void **state)
{
	struct http *h = *state;
	struct session all, two;

	for (size_t i = 0; i < ARRAY_SIZE(split_inputs); i++) {
		const char *in = split_inputs[i].in;
		size_t len = split_inputs[i].len;

		reinit(h);
		run(h, in, len, 0, 1 << 16, &all);
		for (size_t k = 1; k < len; k++) {
			reinit(h);
			run(h, in, len, k, 1 << 16, &two);
			assert_session_equal(&all, &two);
		}
	}
}

/* ---- bodies ------------------------------------------------------------------------ */

/* A Content-Length body over several calls: partial until it ends. */
static void test_http_body_across_feeds(void **state)
{
#define head "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n"
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S(head "012"), &out, &res),
			 sizeof(head) - 1 + 3);
	assert_true(res.partial);
	assert_int_equal(res.requests, 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(feed(h, S("3456"), &out, &res), 4);
	assert_true(res.partial);
	assert_int_equal(out.len, 0);
	assert_int_equal(feed(h, S("789" "GET"), &out, &res), 3);
	assert_int_equal(res.requests, 1);
	assert_true(res.partial);	/* "GET" */
	assert_memory_equal(out.data, OK_GET, sizeof(OK_GET) - 1);
	out.len = 0;
	assert_int_equal(feed(h, S(GET_ROOT), &out, &res),
			 sizeof(GET_ROOT) - 1);
	assert_false(res.partial);
	assert_memory_equal(out.data, OK_GET, sizeof(OK_GET) - 1);
	/* Content-Length: 0 is no body; equal duplicates are allowed. */
	struct session s;
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
		    GET_ROOT), S(OK_GET OK_GET), &s);
	/* A body exactly max_body_bytes long is fine. */
	h->cfg.http_max_body_bytes = 4;
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"
		    "abcd" GET_ROOT), S(OK_GET OK_GET), &s);
	guarded_free(&go);
#undef head
}

/* A large body streams through without being buffered. */
static void test_http_large_body(void **state)
{
	enum { BODY = 1 << 20 };
	static const char head[] = "PUT /x HTTP/1.1\r\nHost: a\r\n"
				   "Content-Length: 1048576\r\n\r\n";
	struct http *h = *state;
	struct session s;
	char *in = malloc(sizeof(head) - 1 + BODY + sizeof(GET_ROOT) - 1);

	assert_non_null(in);
	memcpy(in, head, sizeof(head) - 1);
	memset(in + sizeof(head) - 1, 'x', BODY);
	memcpy(in + sizeof(head) - 1 + BODY, GET_ROOT, sizeof(GET_ROOT) - 1);
	run(h, in, sizeof(head) - 1 + BODY + sizeof(GET_ROOT) - 1, 16384,
	    4096, &s);
	assert_out(&s, S(NOT_ALLOWED OK_GET));
	assert_int_equal(s.requests, 2);
	assert_false(s.partial);
	free(in);
}

static void test_http_chunked(void **state)
{
	struct http *h = *state;
	struct session s;

	/* Sizes in hex, extensions, trailers, then the next request. */
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "5\r\nhello\r\n"
		    "1A \t ; name=value;x=\"q ;\"\r\n01234567890123456789012345\r\n"
		    "0000\r\n"
		    "Trailer-One: 1\r\nTrailer-Two:\r\n\r\n"
		    GET_ROOT), S(OK_GET OK_GET), &s);
	assert_int_equal(s.requests, 2);
	assert_int_equal(s.errors, 0);
	/* Transfer-Encoding is case-insensitive, OWS around it trimmed. */
	expect(h, S("HEAD / HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding:  Chunked \r\n\r\n0\r\n\r\n"),
	       S(OK_HEAD), &s);
	/* Chunk extensions: every form of the grammar (RFC 9112 7.1.1). */
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "1;a\r\nx\r\n"
		    "1 ;\ta\t=\t\"\"\r\nx\r\n"
		    "1;a;b=c;d=\"\\\"\\\\ ;=\xff\"\r\nx\r\n"
		    "1;!#$%&'*+-.^_`|~09AZaz=!#$%&'*+-.^_`|~09AZaz\r\nx\r\n"
		    "0;last=\"\t\"\r\n\r\n" GET_ROOT), S(OK_GET OK_GET), &s);
	assert_int_equal(s.errors, 0);
	/* Data up to max_body_bytes exactly; over it, 413. */
	h->cfg.http_max_body_bytes = 6;
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n" GET_ROOT),
	       S(OK_GET OK_GET), &s);
	const char *want = error_response("413 Content Too Large",
					  "request body too large", false);
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n"
		    "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n" GET_ROOT),
	       want, strlen(want), &s);
	assert_true(s.closed);
	assert_int_equal(s.errors, 1);
}

/* The chunked body arrives one byte at a time: partial all along. */
static void test_http_chunked_partial(void **state)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	static const char body[] = "3\r\nabc\r\n0\r\n\r\n";
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S(head), &out, &res), sizeof(head) - 1);
	assert_true(res.partial);
	assert_int_equal(out.len, 0);
	for (size_t i = 0; i < sizeof(body) - 2; i++) {
		assert_int_equal(feed(h, body + i, 1, &out, &res), 1);
		assert_true(res.partial);
		assert_int_equal(res.requests, 0);
		assert_int_equal(out.len, 0);
	}
	assert_int_equal(feed(h, body + sizeof(body) - 2, 1, &out, &res), 1);
	assert_false(res.partial);
	assert_int_equal(res.requests, 1);
	assert_memory_equal(out.data, OK_GET, sizeof(OK_GET) - 1);
	guarded_free(&go);
}

static void test_http_chunked_errors(void **state)
{
	static const struct {
		const char *body;
		const char *status;
		const char *text;
	} cases[] = {
		{ "x\r\n", "400 Bad Request", "invalid chunk size" },
		{ "\r\n", "400 Bad Request", "invalid chunk size" },
		{ ";a\r\n", "400 Bad Request", "invalid chunk size" },
		{ "-1\r\n", "400 Bad Request", "invalid chunk size" },
		{ "5 \r\nhello\r\n", "400 Bad Request", "invalid chunk size" },
		{ "0x5\r\n", "400 Bad Request", "invalid chunk size" },
		{ "5\nhello\r\n", "400 Bad Request", "chunk without CRLF" },
		{ "5\rhello\r\n", "400 Bad Request", "chunk without CRLF" },
		{ "5;a\nhello\r\n", "400 Bad Request", "chunk without CRLF" },
		{ "5\r\nhelloX\r\n", "400 Bad Request", "chunk without CRLF" },
		{ "5\r\nhello\n0\r\n\r\n", "400 Bad Request",
		  "chunk without CRLF" },
		{ "5\r\nhello\rX", "400 Bad Request", "chunk without CRLF" },
		{ "5\r\nhello\r\n0\r\n\rX", "400 Bad Request", "bare CR" },
		{ "5;a=\x01\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\x7f\r\n", "400 Bad Request", "invalid chunk extension" },
		/* the grammar: ";" token [ "=" ( token / quoted-string ) ],
		 * BWS around ";" and "=" only */
		{ "5;\r\nhello\r\n", "400 Bad Request", "invalid chunk extension" },
		{ "5;;a\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a;\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;=b\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a==b\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a b\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a \r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=b c\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=b \r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a@b\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=b@\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=b\"\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\"x\"y\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\"x\" \r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\"x\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\"\x01\"\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\"\x7f\"\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=\"\\\x01\"\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;\xff\r\nhello\r\n", "400 Bad Request",
		  "invalid chunk extension" },
		{ "5;a=b\nhello\r\n", "400 Bad Request", "chunk without CRLF" },
		{ "5;a=\"b\"\nhello\r\n", "400 Bad Request",
		  "chunk without CRLF" },
		/* trailer lines end with CRLF, like header lines */
		{ "0\r\nA: b\n\r\n", "400 Bad Request", "bare LF" },
		{ "0\r\n\n", "400 Bad Request", "bare LF" },
		{ "0\r\nA: b\r\n\n", "400 Bad Request", "bare LF" },
		{ "0\r\n X: y\r\n\r\n", "400 Bad Request",
		  "obsolete line folding" },
		{ "0\r\nX : y\r\n\r\n", "400 Bad Request",
		  "whitespace before the colon" },
		{ "0\r\nX\r\n\r\n", "400 Bad Request",
		  "field line without a colon" },
		{ "0\r\n:y\r\n\r\n", "400 Bad Request", "invalid field name" },
		{ "0\r\nX@: y\r\n\r\n", "400 Bad Request", "invalid field name" },
		{ "0\r\nX: a\rb\r\n\r\n", "400 Bad Request", "bare CR" },
		{ "0\r\nX: \x01\r\n\r\n", "400 Bad Request",
		  "control character in a field value" },
		{ "10000000000000000\r\n", "400 Bad Request",
		  "chunk size overflow" },
		{ "100001\r\n", "413 Content Too Large",
		  "request body too large" },
		{ "ffffffffffffffffffff\r\n", "413 Content Too Large",
		  "request body too large" },
	};
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	struct http *h = *state;
	struct session s;
	char in[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int n = snprintf(in, sizeof(in), "%s%s" GET_ROOT, head,
				 cases[i].body);
		const char *want = error_response(cases[i].status,
						  cases[i].text, false);
		/* overflow needs a body limit past 2^64 - 1 to show */
		h->cfg.http_max_body_bytes =
			strstr(cases[i].text, "overflow") ? UINT64_MAX :
			1024 * 1024;
		reinit(h);
		run(h, in, (size_t)n, 0, 4096, &s);
		assert_out(&s, want, strlen(want));
		assert_true(s.closed);
		assert_int_equal(s.errors, 1);
		assert_int_equal(s.requests, 1);
		/* NUL bytes need their length: a separate case below. */
	}
	h->cfg.http_max_body_bytes = 1024 * 1024;
	const char *want = error_response("400 Bad Request", "NUL byte in a field",
					  false);
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\nX: a\0b\r\n\r\n";
	expect(h, S(nul), want, strlen(want), &s);
	static const char nul_name[] = "GET / HTTP/1.1\r\nHost: a\r\n"
		"Transfer-Encoding: chunked\r\n\r\n0\r\n\0X: a\r\n\r\n";
	expect(h, S(nul_name), want, strlen(want), &s);
	/* The data itself may hold anything. */
	static const char any[] = "GET / HTTP/1.1\r\nHost: a\r\n"
		"Transfer-Encoding: chunked\r\n\r\n4\r\n\0\r\n\xff\r\n0\r\n\r\n";
	expect(h, S(any), S(OK_GET), &s);
}

/* The chunk-size line and the trailers have limits. */
static void test_http_chunked_limits(void **state)
{
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	struct http *h = *state;
	struct session s;
	char *in = malloc(65536);
	size_t n;

	assert_non_null(in);
	/* A chunk-size line of HTTP_CHUNK_LINE_MAX bytes with its CRLF. */
	for (int over = 0; over <= 1; over++) {
		n = (size_t)sprintf(in, "%s1;", head);
		size_t ext = HTTP_CHUNK_LINE_MAX - 4 + (size_t)over;
		memset(in + n, 'e', ext);
		n += ext;
		n += (size_t)sprintf(in + n, "\r\nx\r\n0\r\n\r\n");
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		if (over) {
			const char *want = error_response("400 Bad Request",
				"chunk-size line too long", false);
			assert_out(&s, want, strlen(want));
		} else {
			assert_out(&s, S(OK_GET));
		}
	}
	/* Trailers: max_headers fields, max_header_bytes bytes. */
	h->cfg.http_max_headers = 3;
	for (int over = 0; over <= 1; over++) {
		n = (size_t)sprintf(in, "%s0\r\n", head);
		for (int i = 0; i < 3 + over; i++)
			n += (size_t)sprintf(in + n, "T%d: x\r\n", i);
		n += (size_t)sprintf(in + n, "\r\n");
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		if (over) {
			const char *want = error_response(
				"431 Request Header Fields Too Large",
				"too many header fields", false);
			assert_out(&s, want, strlen(want));
		} else {
			assert_out(&s, S(OK_GET));
		}
	}
	h->cfg.http_max_headers = 100;
	h->cfg.http_max_header_bytes = 256;
	for (int over = 0; over <= 1; over++) {
		/* "T: " + value + CRLF + final CRLF = 256 (+1) */
		n = (size_t)sprintf(in, "%s0\r\nT: ", head);
		size_t v = 256 - 3 - 2 - 2 + (size_t)over;
		memset(in + n, 'v', v);
		n += v;
		n += (size_t)sprintf(in + n, "\r\n\r\n");
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		if (over) {
			const char *want = error_response(
				"431 Request Header Fields Too Large",
				"header section too large", false);
			assert_out(&s, want, strlen(want));
		} else {
			assert_out(&s, S(OK_GET));
		}
	}
	free(in);
}

static void test_http_expect_continue(void **state)
{
	struct http *h = *state;
	struct session s;
	struct guarded go;
	struct buf out;
	struct proto_result res;
	static const char head[] = "GET / HTTP/1.1\r\nHost: a\r\n"
		"Expect: 100-Continue\r\nContent-Length: 3\r\n\r\n";

	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S(head), &out, &res), sizeof(head) - 1);
	assert_int_equal(res.replies[REPLY_HTTP_1XX], 1);
	assert_int_equal(res.requests, 0);
	assert_true(res.partial);
	assert_int_equal(out.len, sizeof(CONTINUE) - 1);
	assert_memory_equal(out.data, CONTINUE, out.len);
	out.len = 0;
	assert_int_equal(feed(h, S("abc"), &out, &res), 3);
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.replies[REPLY_HTTP_1XX], 0);
	assert_memory_equal(out.data, OK_GET, sizeof(OK_GET) - 1);
	/* The expectation's value is case-insensitive (RFC 9110 10.1.1),
	 * OWS around it is not part of it. */
	static const char *const spellings[] = {
		"100-continue", "100-CONTINUE", "100-cOnTiNuE", "100-continue \t",
	};
	for (size_t i = 0; i < ARRAY_SIZE(spellings); i++) {
		char req[256];
		int n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: a\r\n"
				 "Expect: %s\r\nContent-Length: 1\r\n\r\nx",
				 spellings[i]);
		reinit(h);
		run(h, req, (size_t)n, 0, 4096, &s);
		assert_out(&s, S(CONTINUE NOT_ALLOWED));
		assert_int_equal(s.replies[REPLY_HTTP_1XX], 1);
	}
	/* Anything else is not that expectation. */
	expect(h, S("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continued\r\n"
		    "Content-Length: 1\r\n\r\nx"), S(NOT_ALLOWED), &s);
	/* No body, HTTP/1.0, or a refused request: no 100. */
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n"),
	       S(OK_GET), &s);
	expect(h, S("GET / HTTP/1.0\r\nExpect: 100-continue\r\n"
		    "Content-Length: 1\r\n\r\nx"), S(OK_GET_CLOSE), &s);
	const char *want = error_response("413 Content Too Large",
					  "request body too large", false);
	expect(h, S("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		    "Content-Length: 1048577\r\n\r\n"), want, strlen(want), &s);
	/* Not enough room for the 100: nothing consumed. */
	reinit(h);
	out.len = out.cap - (sizeof(CONTINUE) - 2);
	assert_int_equal(feed(h, S(head), &out, &res), 0);
	assert_int_equal(out.len, out.cap - (sizeof(CONTINUE) - 2));
	assert_true(res.partial);
	guarded_free(&go);
}

/* ---- errors ------------------------------------------------------------------------- */

/* Malformed requests, smuggling attempts, unsupported versions. */
static void test_http_errors(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *status;
		const char *text;
	} cases[] = {
#define E(in, status, text) { in, sizeof(in) - 1, status, text }
#define BAD "400 Bad Request"
		/* request line */
		E("GET\r\n\r\n", BAD, "malformed request line"),
		E(" GET / HTTP/1.1\r\n\r\n", BAD, "malformed request line"),
		E("GET  / HTTP/1.1\r\n\r\n", BAD, "malformed request line"),
		E("GET / HTTP/1.1 \r\n\r\n", BAD, "malformed HTTP version"),
		E("GET /\r\n\r\n", BAD, "malformed request line"),
		E("GET / \r\n\r\n", BAD, "malformed HTTP version"),
		E("G(T / HTTP/1.1\r\n\r\n", BAD, "invalid method"),
		E("G\0T / HTTP/1.1\r\n\r\n", BAD, "invalid method"),
		E("\x16\x03\x01", BAD, "invalid method"),
		E("GET /a\x01 HTTP/1.1\r\n\r\n", BAD, "invalid request target"),
		E("GET /\x7f HTTP/1.1\r\n\r\n", BAD, "invalid request target"),
		E("GET /\xc3\xa9 HTTP/1.1\r\n\r\n", BAD, "invalid request target"),
		E("GET /\0 HTTP/1.1\r\n\r\n", BAD, "invalid request target"),
		E("GET / http/1.1\r\n\r\n", BAD, "malformed HTTP version"),
		E("GET / HTTP/1.10\r\n\r\n", BAD, "malformed HTTP version"),
		E("GET / HTTP/11\r\n\r\n", BAD, "malformed HTTP version"),
		E("GET / HTTP/1.x\r\n\r\n", BAD, "malformed HTTP version"),
		E("GET / HTTP/1.1\rX\r\n\r\n", BAD, "bare CR"),
		/* a line ends with CRLF, never a bare LF (RFC 9112 2.2 allows
		 * it; a front proxy may not split there: smuggling) */
		E("GET / HTTP/1.1\nHost: a\r\n\r\n", BAD, "bare LF"),
		E("GET / HTTP/1.0\n\n", BAD, "bare LF"),
		E("GET / HTTP/1.1\r\nHost: a\n\r\n", BAD, "bare LF"),
		E("GET / HTTP/1.1\r\nHost: a\r\n\n", BAD, "bare LF"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX:\n\r\n", BAD, "bare LF"),
		E("GET / HTTP/1.1\r\nHost: a\r\nDummy: x\nContent-Length: 23"
		  "\r\n\r\n", BAD, "bare LF"),
		E("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", BAD, "bare LF"),
		E("\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", BAD, "bare LF"),
		/* a fragment is never sent (RFC 9112 3.2); userinfo is refused
		 * (RFC 9110 4.2.4) */
		E("GET /#x HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid request target"),
		E("GET /a?b#c HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid request target"),
		E("GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid request target"),
		E("GET http://u:p@a HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid request target"),
		E("GET / HTTP/2.0\r\nHost: a\r\n\r\n",
		  "505 HTTP Version Not Supported", "HTTP version not supported"),
		E("GET / HTTP/1.2\r\nHost: a\r\n\r\n",
		  "505 HTTP Version Not Supported", "HTTP version not supported"),
		E("GET / HTTP/0.9\r\n\r\n",
		  "505 HTTP Version Not Supported", "HTTP version not supported"),
		E("GET / HTTP/3.1\r\n\r\n",
		  "505 HTTP Version Not Supported", "HTTP version not supported"),
		/* fields */
		E("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", BAD,
		  "NUL byte in a field"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX\0: b\r\n\r\n", BAD,
		  "NUL byte in a field"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", BAD, "bare CR"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", BAD, "bare CR"),
		E("GET / HTTP/1.1\r\nHost: a\r\n\rX", BAD, "bare CR"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", BAD,
		  "control character in a field value"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", BAD,
		  "control character in a field value"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", BAD,
		  "obsolete line folding"),
		E("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", BAD,
		  "obsolete line folding"),
		E("GET / HTTP/1.1\r\nHost : a\r\n\r\n", BAD,
		  "whitespace before the colon"),
		E("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", BAD,
		  "whitespace before the colon"),
		E("GET / HTTP/1.1\r\nContent Length: 1\r\n\r\n", BAD,
		  "whitespace before the colon"),
		E("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", BAD,
		  "invalid field name"),
		E("GET / HTTP/1.1\r\n: a\r\n\r\n", BAD, "invalid field name"),
		E("GET / HTTP/1.1\r\nHost\r\n\r\n", BAD,
		  "field line without a colon"),
		E("GET / HTTP/1.1\r\nHost: a\r\nX\n\r\n", BAD,
		  "field line without a colon"),
		/* Host */
		E("GET / HTTP/1.1\r\n\r\n", BAD, "missing Host"),
		E("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", BAD,
		  "more than one Host"),
		E("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", BAD,
		  "more than one Host"),
		/* Host = uri-host [ ":" port ] (RFC 9112 3.2: 400 if not) */
		E("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a?b\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a#b\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n", BAD,
		  "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a:b:c\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: [::g]\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: []\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.1\r\nHost: a]\r\n\r\n", BAD, "invalid Host"),
		E("GET / HTTP/1.0\r\nHost: a b\r\n\r\n", BAD, "invalid Host"),
		/* framing: no smuggling */
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
		  "Content-Length: 2\r\n\r\nab", BAD,
		  "more than one Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n"
		  "Content-Length: 1\r\n\r\na", BAD,
		  "more than one Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 01\r\n\r\na",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 00\r\n\r\n",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\na",
		  BAD, "Content-Length list"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1,2\r\n\r\na",
		  BAD, "Content-Length list"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\na",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 1\r\n\r\n",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n",
		  BAD, "invalid Content-Length"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\x0b\r\n\r\n",
		  BAD, "control character in a field value"),
		E("GET / HTTP/1.1\r\nHost: a\r\n"
		  "Content-Length: 18446744073709551616\r\n\r\n",
		  BAD, "Content-Length overflow"),
		E("GET / HTTP/1.1\r\nHost: a\r\n"
		  "Content-Length: 99999999999999999999999\r\n\r\n",
		  BAD, "Content-Length overflow"),
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", BAD,
		  "Content-Length with Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n", BAD,
		  "Content-Length with Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
		  BAD, "unsupported Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\n"
		  "Transfer-Encoding: gzip, chunked\r\n\r\n",
		  BAD, "unsupported Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\n"
		  "Transfer-Encoding: chunked, chunked\r\n\r\n",
		  BAD, "unsupported Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n",
		  BAD, "unsupported Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n"
		  "\r\n", BAD, "unsupported Transfer-Encoding"),
		E("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n",
		  BAD, "unsupported Transfer-Encoding"),
		E("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
		  BAD, "Transfer-Encoding in HTTP/1.0"),
		/* routes */
		E("GET /delay/60001 HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid delay (0 to 60000 ms)"),
		E("GET /delay/ HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid delay (0 to 60000 ms)"),
		E("GET /delay/abc HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid delay (0 to 60000 ms)"),
		E("GET /delay/-1 HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid delay (0 to 60000 ms)"),
		E("GET /delay/100000 HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid delay (0 to 60000 ms)"),
		E("GET /delay/5/x HTTP/1.1\r\nHost: a\r\n\r\n", BAD,
		  "invalid delay (0 to 60000 ms)"),
		/* body limit */
		E("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1048577\r\n\r\n",
		  "413 Content Too Large", "request body too large"),
		E("POST /x HTTP/1.1\r\nHost: a\r\n"
		  "Content-Length: 18446744073709551615\r\n\r\n",
		  "413 Content Too Large", "request body too large"),
#undef E
#undef BAD
	};
	struct http *h = *state;
	struct session s;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		/* The error closes: a request after it is never answered. */
		char in[512];
		memcpy(in, cases[i].in, cases[i].len);
		memcpy(in + cases[i].len, GET_ROOT, sizeof(GET_ROOT) - 1);
		size_t n = cases[i].len + sizeof(GET_ROOT) - 1;
		const char *want = error_response(cases[i].status,
						  cases[i].text, false);
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		if (s.out_len != strlen(want))
			print_error("case %zu: %s\n", i, cases[i].in);
		assert_out(&s, want, strlen(want));
		assert_true(s.closed);
		assert_int_equal(s.errors, 1);
		assert_int_equal(s.requests, 1);
		unsigned cls = (unsigned)(cases[i].status[0] - '0');
		assert_int_equal(s.replies[REPLY_HTTP_1XX + cls - 1], 1);
		/* Byte by byte: the same. */
		struct session b;
		reinit(h);
		run(h, in, n, 1, 4096, &b);
		assert_session_equal(&s, &b);
	}
}

/* Request line and head sizes around max_header_bytes; max_headers. */
static void test_http_limits(void **state)
{
	struct http *h = *state;
	struct session s;
	char *in = malloc(32768);
	const char *want;
	size_t n;

	assert_non_null(in);
	h->cfg.http_max_header_bytes = 512;
	/* A head of exactly 512 bytes: fine.  513: 431. */
	for (int over = 0; over <= 1; over++) {
		n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
		size_t v = 512 - n - 4 + (size_t)over;
		memset(in + n, 'v', v);
		n += v;
		n += (size_t)sprintf(in + n, "\r\n\r\n");
		assert_int_equal(n, 512 + (size_t)over);
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		want = over ? error_response("431 Request Header Fields Too Large",
					     "header section too large", false) :
		       OK_GET;
		assert_out(&s, want, strlen(want));
		/* Split: the same. */
		struct session b;
		reinit(h);
		run(h, in, n, 7, 4096, &b);
		assert_session_equal(&s, &b);
	}
	/* The head never ends: 431 once 512 bytes are in. */
	n = (size_t)sprintf(in, "GET / HTTP/1.1\r\n");
	for (; n < 600; n += 32)
		memcpy(in + n, "X: vvvvvvvvvvvvvvvvvvvvvvvvvvv\r\n", 32);
	reinit(h);
	run(h, in, 511, 0, 4096, &s);
	assert_int_equal(s.out_len, 0);
	assert_true(s.partial);
	reinit(h);
	run(h, in, 512, 0, 4096, &s);
	want = error_response("431 Request Header Fields Too Large",
			      "header section too large", false);
	assert_out(&s, want, strlen(want));
	/* The request line alone too long: 414, its CRLF included. */
	for (int over = 0; over <= 1; over++) {
		n = (size_t)sprintf(in, "GET /");
		size_t t = 512 - 5 - 11 + (size_t)over;	/* " HTTP/1.1\r\n" */
		memset(in + n, 'a', t);
		n += t;
		n += (size_t)sprintf(in + n, " HTTP/1.1\r\n");
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		want = over ? error_response("414 URI Too Long",
					     "request line too long", false) :
		       error_response("431 Request Header Fields Too Large",
				      "header section too large", false);
		assert_out(&s, want, strlen(want));
	}
	/* The request line never ends. */
	memset(in, 'A', 600);
	reinit(h);
	run(h, in, 600, 100, 4096, &s);
	want = error_response("414 URI Too Long", "request line too long",
			      false);
	assert_out(&s, want, strlen(want));
	/* max_headers fields: fine; one more: 431. */
	h->cfg.http_max_header_bytes = 8192;
	h->cfg.http_max_headers = 4;
	for (int over = 0; over <= 1; over++) {
		n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: a\r\n");
		for (int i = 0; i < 3 + over; i++)
			n += (size_t)sprintf(in + n, "X-%d: %d\r\n", i, i);
		n += (size_t)sprintf(in + n, "\r\n");
		reinit(h);
		run(h, in, n, 0, 4096, &s);
		want = over ? error_response("431 Request Header Fields Too Large",
					     "too many header fields", false) :
		       OK_GET;
		assert_out(&s, want, strlen(want));
	}
	/* The configured maximum, 16 KiB: a 16 KiB head passes. */
	h->cfg.http_max_header_bytes = CONFIG_IN_BUFFER;
	h->cfg.http_max_headers = 100;
	n = (size_t)sprintf(in, "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	memset(in + n, 'v', CONFIG_IN_BUFFER - n - 4);
	n = CONFIG_IN_BUFFER - 4;
	n += (size_t)sprintf(in + n, "\r\n\r\n");
	reinit(h);
	run(h, in, n, 0, 4096, &s);
	assert_out(&s, S(OK_GET));
	free(in);
}

/* ---- the output buffer ----------------------------------------------------------- */

/* Responses go in only whole; feed() stops before a request that does not
 * fit and takes it up again when there is room. */
static void test_http_out_full(void **state)
{
	static const char in[] = GET_ROOT GET_ROOT GET_ROOT;
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;
	size_t one = sizeof(OK_GET) - 1;

	/* Room for one response and a bit. */
	guarded_out(&go, &out, one + one / 2);
	assert_int_equal(feed(h, S(in), &out, &res), sizeof(GET_ROOT) - 1);
	assert_int_equal(res.requests, 1);
	assert_true(res.partial);
	assert_int_equal(out.len, one);
	assert_memory_equal(out.data, OK_GET, one);
	/* Full: nothing consumed, nothing written. */
	assert_int_equal(feed(h, in + sizeof(GET_ROOT) - 1,
			      sizeof(in) - sizeof(GET_ROOT), &out, &res), 0);
	assert_int_equal(res.requests, 0);
	assert_true(res.partial);
	assert_int_equal(out.len, one);
	/* Sent some: room for exactly one more. */
	buf_consume(&out, one - one / 2);
	buf_compact(&out);
	assert_int_equal(buf_space(&out), one);
	assert_int_equal(feed(h, in + sizeof(GET_ROOT) - 1,
			      sizeof(in) - sizeof(GET_ROOT), &out, &res),
			 sizeof(GET_ROOT) - 1);
	assert_int_equal(res.requests, 1);
	assert_true(res.partial);
	assert_int_equal(out.len, one / 2 + one);
	assert_memory_equal(out.data + one / 2, OK_GET, one);
	guarded_free(&go);

	/* Exactly the room for one response. */
	reinit(h);
	guarded_out(&go, &out, one);
	assert_int_equal(feed(h, S(in), &out, &res), sizeof(GET_ROOT) - 1);
	assert_int_equal(out.len, one);
	guarded_free(&go);

	/* One byte short: nothing. */
	reinit(h);
	guarded_out(&go, &out, one - 1);
	assert_int_equal(feed(h, S(in), &out, &res), 0);
	assert_int_equal(res.requests, 0);
	assert_true(res.partial);
	assert_int_equal(out.len, 0);
	guarded_free(&go);

	/* An error response waits for room too. */
	reinit(h);
	const char *want = error_response("400 Bad Request", "missing Host",
					  false);
	size_t wl = strlen(want);
	guarded_out(&go, &out, wl);
	out.len = 1;
	assert_int_equal(feed(h, S("GET / HTTP/1.1\r\n\r\n"), &out, &res), 0);
	assert_false(res.close);
	out.len = 0;
	assert_int_equal(feed(h, S("GET / HTTP/1.1\r\n\r\n"), &out, &res),
			 sizeof("GET / HTTP/1.1\r\n\r\n") - 1);
	assert_true(res.close);
	assert_true(res.error);
	assert_memory_equal(out.data, want, wl);
	guarded_free(&go);
}

/* A body is not read while its response could not follow it. */
static void test_http_out_full_body(void **state)
{
#define head "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\n"
#define chead "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;
	size_t one = sizeof(OK_GET) - 1;

	guarded_out(&go, &out, one);
	out.len = 10;
	assert_int_equal(feed(h, S(head "abcd"), &out, &res), sizeof(head) - 1);
	assert_true(res.partial);
	assert_int_equal(feed(h, S("abcd"), &out, &res), 0);
	assert_true(res.partial);
	assert_int_equal(out.len, 10);
	out.len = 0;
	assert_int_equal(feed(h, S("abcd"), &out, &res), 4);
	assert_int_equal(res.requests, 1);
	assert_false(res.partial);
	assert_memory_equal(out.data, OK_GET, one);

	reinit(h);
	out.len = 10;
	assert_int_equal(feed(h, S(chead "0\r\n\r\n"), &out, &res),
			 sizeof(chead) - 1);
	assert_int_equal(feed(h, S("0\r\n\r\n"), &out, &res), 0);
	out.len = 0;
	assert_int_equal(feed(h, S("0\r\n\r\n"), &out, &res), 5);
	assert_int_equal(res.requests, 1);
	assert_memory_equal(out.data, OK_GET, one);

	/* A chunked error stops before the bad byte while out is full. */
	reinit(h);
	out.len = 0;
	assert_int_equal(feed(h, S(chead), &out, &res), sizeof(chead) - 1);
	out.len = 100;
	assert_int_equal(feed(h, S("0\r\nX"), &out, &res), 0);
	out.len = 0;
	assert_int_equal(feed(h, S("0\r\nX"), &out, &res), 4);	/* "X" ok */
	assert_int_equal(out.len, 0);
	out.len = 1;
	assert_int_equal(feed(h, S("\r\n"), &out, &res), 0);
	guarded_free(&go);

	const char *want = error_response("400 Bad Request",
					  "field line without a colon", false);
	guarded_out(&go, &out, strlen(want));
	assert_int_equal(feed(h, S("\r\n"), &out, &res), 2);
	assert_true(res.close);
	assert_int_equal(out.len, strlen(want));
	assert_memory_equal(out.data, want, strlen(want));
	guarded_free(&go);
#undef head
#undef chead
}

/* Small output buffers over a long pipelined stream: all answered. */
static void test_http_small_out_stream(void **state)
{
	struct http *h = *state;
	struct session all, small;

	for (size_t i = 0; i < ARRAY_SIZE(split_inputs); i++) {
		reinit(h);
		run(h, split_inputs[i].in, split_inputs[i].len, 0, 1 << 16, &all);
		for (size_t cap = 300; cap <= 1024; cap += 181) {
			reinit(h);
			run(h, split_inputs[i].in, split_inputs[i].len, 3, cap,
			    &small);
			assert_session_equal(&all, &small);
		}
	}
}

/* ---- delays ----------------------------------------------------------------------- */

static void test_http_delay(void **state)
{
	static const char delayed[] = "GET /delay/250 HTTP/1.1\r\nHost: a\r\n\r\n";
	static const char in[] = GET_ROOT "GET /delay/250 HTTP/1.1\r\nHost: a\r\n"
				 "\r\n" GET_ROOT;
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 4096);
	/* feed() stops right after the delayed request. */
	assert_int_equal(feed(h, S(in), &out, &res),
			 sizeof(GET_ROOT) - 1 + sizeof(delayed) - 1);
	assert_int_equal(res.requests, 2);
	assert_int_equal(res.delay_ms, 250);
	assert_int_equal(res.delay_off, sizeof(OK_GET) - 1);
	assert_true(res.partial);
	assert_int_equal(out.len, 2 * (sizeof(OK_GET) - 1));
	assert_memory_equal(out.data, OK_GET OK_GET, out.len);
	/* delay_off counts from what out held at the call. */
	assert_int_equal(feed(h, S(delayed), &out, &res), sizeof(delayed) - 1);
	assert_int_equal(res.delay_ms, 250);
	assert_int_equal(res.delay_off, 0);
	assert_false(res.partial);
	/* The next one is not delayed. */
	assert_int_equal(feed(h, S(GET_ROOT), &out, &res),
			 sizeof(GET_ROOT) - 1);
	assert_int_equal(res.delay_ms, 0);
	assert_int_equal(res.delay_off, 0);

	/* Bounds and forms. */
	static const struct {
		const char *target;
		uint32_t ms;
	} ok[] = {
		{ "/delay/0", 0 }, { "/delay/1", 1 }, { "/delay/60000", 60000 },
		{ "/delay/00007", 7 }, { "/delay/5?x=1", 5 },
		{ "http://h/delay/9", 9 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char req[128];
		int n = snprintf(req, sizeof(req),
				 "GET %s HTTP/1.1\r\nHost: a\r\n\r\n",
				 ok[i].target);
		out.len = 0;
		reinit(h);
		assert_int_equal(feed(h, req, (size_t)n, &out, &res), n);
		assert_int_equal(res.delay_ms, ok[i].ms);
		assert_int_equal(res.delay_off, 0);
		assert_memory_equal(out.data, OK_GET, sizeof(OK_GET) - 1);
	}
	guarded_free(&go);
}

/* [server] delay: every response, errors included, unless the route
 * gives its own. */
static void test_http_config_delay(void **state)
{
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;
	static const char in[] = GET_ROOT "GET /x HTTP/1.1\r\nHost: a\r\n\r\n";

	h->cfg.delay_ms = 40;
	reinit(h);
	guarded_out(&go, &out, 4096);
	assert_int_equal(feed(h, S(in), &out, &res), sizeof(GET_ROOT) - 1);
	assert_int_equal(res.delay_ms, 40);
	assert_int_equal(res.delay_off, 0);
	assert_int_equal(res.requests, 1);
	assert_true(res.partial);
	size_t first = out.len;
	assert_int_equal(feed(h, in + sizeof(GET_ROOT) - 1,
			      sizeof(in) - sizeof(GET_ROOT), &out, &res),
			 sizeof(in) - sizeof(GET_ROOT));
	assert_int_equal(res.delay_ms, 40);
	assert_int_equal(res.delay_off, 0);
	assert_memory_equal(out.data + first, NOT_FOUND,
			    sizeof(NOT_FOUND) - 1);
	/* The route's own: /delay/0 is not delayed, /delay/7 is 7. */
	out.len = 0;
	assert_int_equal(feed(h, S("GET /delay/0 HTTP/1.1\r\nHost: a\r\n\r\n"),
			      &out, &res), 34);
	assert_int_equal(res.delay_ms, 0);
	assert_int_equal(feed(h, S("GET /delay/7 HTTP/1.1\r\nHost: a\r\n\r\n"),
			      &out, &res), 34);
	assert_int_equal(res.delay_ms, 7);
	assert_int_equal(res.delay_off, 0);
	/* An error is delayed too, and closes. */
	out.len = 0;
	assert_int_equal(feed(h, S("GET / HTTP/9.9\r\n\r\n"), &out, &res), 18);
	assert_int_equal(res.delay_ms, 40);
	assert_true(res.close);
	assert_true(res.error);
	guarded_free(&go);
	h->cfg.delay_ms = 0;
}

/* ---- counters ------------------------------------------------------------------------ */

static void test_http_reply_counts(void **state)
{
	static const char in[] =
		GET_ROOT HEAD_ROOT
		"GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
		"POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		"Content-Length: 1\r\n\r\nx"
		"DELETE /y HTTP/1.1\r\nHost: a\r\n\r\n"
		"GET / HTTP/1.3\r\nHost: a\r\n\r\n"
		GET_ROOT;
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 8192);
	assert_int_equal(feed(h, S(in), &out, &res), sizeof(in) - 1);
	assert_int_equal(res.requests, 6);
	assert_int_equal(res.replies[REPLY_HTTP_1XX], 1);
	assert_int_equal(res.replies[REPLY_HTTP_2XX], 2);
	assert_int_equal(res.replies[REPLY_HTTP_3XX], 0);
	assert_int_equal(res.replies[REPLY_HTTP_4XX], 3);
	assert_int_equal(res.replies[REPLY_HTTP_5XX], 1);
	for (int k = REPLY_RESP_STATUS; k < PROTO_REPLY_MAX; k++)
		assert_int_equal(res.replies[k], 0);
	assert_true(res.close);
	assert_true(res.error);
	assert_false(res.partial);
	/* After a close, feed() takes nothing more. */
	size_t len = out.len;
	assert_int_equal(feed(h, S(GET_ROOT), &out, &res),
			 sizeof(GET_ROOT) - 1);
	assert_true(res.close);
	assert_int_equal(res.requests, 0);
	assert_int_equal(out.len, len);
	guarded_free(&go);
}

/* ---- Date ------------------------------------------------------------------------------ */

static void test_http_date_format(void **state)
{
	static const struct {
		time_t t;
		const char *text;
	} cases[] = {
		{ 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
		{ T0, DATE },
		{ 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
		{ 1700000000, "Tue, 14 Nov 2023 22:13:20 GMT" },
		{ 4102444799, "Thu, 31 Dec 2099 23:59:59 GMT" },
	};
	char buf[HTTP_DATE_LEN + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(buf, '#', sizeof(buf));
		http_format_date(cases[i].t, buf);
		assert_int_equal(buf[HTTP_DATE_LEN], '#');
		buf[HTTP_DATE_LEN] = '\0';
		assert_string_equal(buf, cases[i].text);
	}
}

/* The Date follows the clock and is formatted once per second. */
static void test_http_date_cached(void **state)
{
	struct http *h = *state;
	struct guarded go;
	struct buf out;
	struct proto_result res;

	guarded_out(&go, &out, 4096);
	clock_now = T0 + 1;
	unsigned long before = http_date_formats();
	for (int i = 0; i < 5; i++) {
		out.len = 0;
		assert_int_equal(feed(h, S(GET_ROOT GET_ROOT), &out, &res),
				 2 * (sizeof(GET_ROOT) - 1));
		assert_non_null(memmem(out.data, out.len,
				       S("Date: Sun, 06 Nov 1994 08:49:38 GMT\r\n")));
	}
	assert_int_equal(http_date_formats() - before, 1);
	clock_now = T0 + 3600 * 24 + 61;
	out.len = 0;
	assert_int_equal(feed(h, S(GET_ROOT), &out, &res), sizeof(GET_ROOT) - 1);
	assert_non_null(memmem(out.data, out.len,
			       S("Date: Mon, 07 Nov 1994 08:50:38 GMT\r\n")));
	assert_int_equal(http_date_formats() - before, 2);
	clock_now = T0;
	guarded_free(&go);
}

/* ---- the parser alone -------------------------------------------------------------- */

static const struct http_limits limits = {
	.max_head_bytes = 8192, .max_headers = 100,
	.max_body_bytes = 1024 * 1024,
};

static void test_parse_request_fields(void **state)
{
	static const char in[] = "HEAD /a?b HTTP/1.0\r\nHost: x\r\n"
		"connection: Keep-Alive\r\ncontent-length:  42 \r\n"
		"Expect: 100-continue\r\n\r\nBODY";
	struct http *h = *state;
	const char *p = guarded_copy(&h->in, in, sizeof(in) - 1);
	struct http_request req;

	http_request_init(&req);
	assert_int_equal(http_parse_request(p, sizeof(in) - 1, &limits, &req),
			 sizeof(in) - 5);
	assert_ptr_equal(req.method, p);
	assert_int_equal(req.method_len, 4);
	assert_ptr_equal(req.target, p + 5);
	assert_int_equal(req.target_len, 4);
	assert_int_equal(req.minor_version, 0);
	assert_int_equal(req.nheaders, 4);
	assert_int_equal(req.nhost, 1);
	assert_true(req.has_content_length);
	assert_int_equal(req.content_length, 42);
	assert_false(req.chunked);
	assert_true(req.conn_keep_alive);
	assert_false(req.conn_close);
	assert_true(req.expect_continue);
	/* Same bytes again: same answer. */
	assert_int_equal(http_parse_request(p, sizeof(in) - 1, &limits, &req),
			 sizeof(in) - 5);
	assert_int_equal(req.nheaders, 4);
	/* Every shorter prefix needs more. */
	for (size_t n = 0; n < sizeof(in) - 5; n++) {
		http_request_init(&req);
		p = guarded_copy(&h->in, in, n);
		assert_int_equal(http_parse_request(p, n, &limits, &req), -2);
	}
	assert_string_equal(http_err_text(HTTP_ERR_BARE_CR), "bare CR");
	assert_string_equal(http_err_text(HTTP_ERR_MAX), "unknown error");
	for (int e = 0; e < HTTP_ERR_MAX; e++)
		assert_true(strlen(http_err_text((enum http_err)e)) > 0);
}

/* Resuming: parsing a growing buffer gives what parsing it whole gives,
 * even when the buffer moves between calls. */
static void test_parse_resume(void **state)
{
	static const char in[] = "GET /x HTTP/1.1\r\nHost: x\r\nA: 1\r\n"
				 "Transfer-Encoding: chunked\r\n"
				 "Connection: close\r\n\r\n";
	struct http *h = *state;
	struct http_request whole, part;
	const char *p = guarded_copy(&h->in, in, sizeof(in) - 1);

	http_request_init(&whole);
	assert_int_equal(http_parse_request(p, sizeof(in) - 1, &limits, &whole),
			 sizeof(in) - 1);
	http_request_init(&part);
	for (size_t n = 1; n < sizeof(in) - 1; n++) {
		/* Each call sees the bytes at a new address. */
		p = guarded_copy(&h->in, in, n);
		assert_int_equal(http_parse_request(p, n, &limits, &part), -2);
	}
	p = guarded_copy(&h->in, in, sizeof(in) - 1);
	assert_int_equal(http_parse_request(p, sizeof(in) - 1, &limits, &part),
			 sizeof(in) - 1);
	assert_true(part.parsed > 0);
	assert_ptr_equal(part.method, p);
	assert_ptr_equal(part.target, p + 4);
	assert_int_equal(part.target_len, 2);
	assert_int_equal(part.nheaders, whole.nheaders);
	assert_int_equal(part.chunked, whole.chunked);
	assert_true(part.chunked);
	assert_true(part.conn_close);
	assert_int_equal(part.minor_version, 1);
}

/* Parses in[0..n) whole from a guarded copy; returns the result. */
static ssize_t parse_whole(struct http *h, const char *in, size_t n,
			   const struct http_limits *lim,
			   struct http_request *req)
{
	const char *p = guarded_copy(&h->in, in, n);

	http_request_init(req);
	return http_parse_request(p, n, lim, req);
}

/* Field lines of the usual form ("name: value", letters and '-', printable
 * ASCII) and lines of every other form side by side, values longer than
 * 32 bytes, trailing SP: each field counts and applies, the same whether
 * the head is whole or still growing; errors inside long lines are the
 * same as anywhere else. */
static void test_parse_field_forms(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: example.com\r\n"
		"User-Agent: a-client-with-a-long-name/1.2.3 (x; y)\r\n"
		"Content-Length: 7   \r\n"
		"X-Obs: caf\xc3\xa9 ok\r\n"
		"X-Tab: a\tb\r\n"
		"connection:keep-alive\r\n"
		"upgrade-insecure-requests-and-more: 1\r\n"
		"Expect:  100-continue\r\n"
		"\r\nBODY";
	const size_t head = sizeof(in) - 5;
	struct http *h = *state;
	struct http_request req;

	assert_int_equal(parse_whole(h, in, sizeof(in) - 1, &limits, &req),
			 head);
	assert_int_equal(req.nheaders, 8);
	assert_int_equal(req.nhost, 1);
	assert_true(req.has_content_length);
	assert_int_equal(req.content_length, 7);
	assert_true(req.conn_keep_alive);
	assert_true(req.expect_continue);
	for (size_t n = 0; n < head; n++)
		assert_int_equal(parse_whole(h, in, n, &limits, &req), -2);

	static const struct {
		const char *line;	/* after the request line and Host */
		enum http_err err;
	} bad[] = {
		{ "X-Long-Value: 0123456789abcdef0123456789\x01z\r\n", HTTP_ERR_CTL },
		{ "X-Long-Value: 0123456789abcdef0123456789\rz\r\n", HTTP_ERR_BARE_CR },
		{ "X-Long-Value: 0123456789abcdef0123456789\nz\r\n", HTTP_ERR_BARE_LF },
		{ "X-Long-Value: 0123456789abcdef0123456789\x7f\r\n", HTTP_ERR_CTL },
		{ "Content-Length: 07\r\n", HTTP_ERR_CL_INVALID },
		{ "Content-Length: 1\r\nContent-Length: 1\r\n", HTTP_ERR_CL_DUP },
		{ "Host: y\r\n", HTTP_ERR_HOST_DUP },
		{ "Transfer-Encoding: gzip\r\n", HTTP_ERR_TE_UNSUPPORTED },
		{ "X-Name-With-A-Space : v\r\n", HTTP_ERR_FIELD_NAME_WS },
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int n = snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nHost: x\r\n"
				 "%s\r\n", bad[i].line);
		assert_int_equal(parse_whole(h, buf, (size_t)n, &limits, &req), -1);
		assert_int_equal(req.err, bad[i].err);
	}

	/* The header limit holds on the usual form too. */
	struct http_limits two = limits;
	two.max_headers = 2;
	static const char three[] = "GET / HTTP/1.1\r\nHost: x\r\n"
		"Accept: */*\r\nUser-Agent: test\r\n\r\n";
	assert_int_equal(parse_whole(h, three, sizeof(three) - 1, &two, &req), -1);
	assert_int_equal(req.err, HTTP_ERR_TOO_MANY_HEADERS);
	assert_int_equal(req.parsed, sizeof("GET / HTTP/1.1\r\nHost: x\r\n"
					    "Accept: */*\r\n") - 1);
	assert_int_equal(parse_whole(h, three, sizeof(three) - 1, &limits, &req),
			 sizeof(three) - 1);
	assert_int_equal(req.nheaders, 3);
}

/* The chunked decoder by itself: consumed counts, done, limits. */
static void test_parse_chunked(void **state)
{
	static const char in[] = "3\r\nabc\r\n0\r\n\r\nNEXT";
	struct http *h = *state;
	struct http_chunked d;
	size_t n;
	const char *p = guarded_copy(&h->in, in, sizeof(in) - 1);

	http_chunked_init(&d);
	assert_int_equal(http_chunked_skip(&d, p, sizeof(in) - 1, &limits, &n),
			 1);
	assert_int_equal(n, sizeof(in) - 5);
	assert_int_equal(d.total, 3);
	/* Done stays done and takes nothing. */
	assert_int_equal(http_chunked_skip(&d, p + n, 4, &limits, &n), 1);
	assert_int_equal(n, 0);
	/* An error: consumed stops before the bad byte, and repeats. */
	static const char bad[] = "3\r\nabcX";
	p = guarded_copy(&h->in, bad, sizeof(bad) - 1);
	http_chunked_init(&d);
	assert_int_equal(http_chunked_skip(&d, p, sizeof(bad) - 1, &limits, &n),
			 -1);
	assert_int_equal(n, 6);
	assert_int_equal(d.err, HTTP_ERR_CHUNK_CRLF);
	assert_int_equal(http_chunked_skip(&d, p + 6, 1, &limits, &n), -1);
	assert_int_equal(n, 0);
	/* Need more. */
	http_chunked_init(&d);
	assert_int_equal(http_chunked_skip(&d, p, 5, &limits, &n), -2);
	assert_int_equal(n, 5);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_registered),
		T(test_http_get_root),
		T(test_http_head_root),
		T(test_http_not_found),
		T(test_http_method_not_allowed),
		T(test_http_query_and_forms),
		T(test_http_custom_body),
		T(test_http_host_forms),
		T(test_http_keep_alive_matrix),
		T(test_http_pipelined),
		T(test_http_partial),
		T(test_http_leading_empty_lines),
		T(test_http_byte_at_a_time),
		T(test_http_split_everywhere),
		T(test_http_body_across_feeds),
		T(test_http_large_body),
		T(test_http_chunked),
		T(test_http_chunked_partial),
		T(test_http_chunked_errors),
		T(test_http_chunked_limits),
		T(test_http_expect_continue),
		T(test_http_errors),
		T(test_http_limits),
		T(test_http_out_full),
		T(test_http_out_full_body),
		T(test_http_small_out_stream),
		T(test_http_delay),
		T(test_http_config_delay),
		T(test_http_reply_counts),
		cmocka_unit_test(test_http_date_format),
		T(test_http_date_cached),
		T(test_parse_request_fields),
		T(test_parse_resume),
		T(test_parse_field_forms),
		T(test_parse_chunked),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
