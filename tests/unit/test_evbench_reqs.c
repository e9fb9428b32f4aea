/* Unit tests for evbench's pure parts: requests built (bench/reqs.c), replies
 * parsed (HTTP heads, RESP values: complete, incomplete at every prefix,
 * malformed), and the command line (bench/opts.c): modes, defaults and the
 * usage errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../../bench/evbench.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A copy of s in its own allocation, so that ASan sees any read past it. */
static char *exact(const char *s, size_t n)
{
	char *p = malloc(n ? n : 1);

	assert_non_null(p);
	memcpy(p, s, n);
	return p;
}

static int64_t head_of(const char *s, struct http_head *h)
{
	size_t n = strlen(s);
	char *p = exact(s, n);
	int64_t rc = http_head_parse(p, n, h);

	free(p);
	return rc;
}

/* ---- HTTP ------------------------------------------------------------- */

static const char EVD_200[] =
	"HTTP/1.1 200 OK\r\nServer: evd/0.1.0\r\n"
	"Date: Wed, 25 Nov 2026 13:33:07 GMT\r\nContent-Length: 13\r\n"
	"Content-Type: text/plain\r\n\r\n";

static void test_http_ok(void **state)
{
	struct http_head h;

	(void)state;
	assert_int_equal(head_of(EVD_200, &h), strlen(EVD_200));
	assert_int_equal(h.status, 200);
	assert_int_equal(h.content_length, 13);
	assert_false(h.close);
	/* The body and the next reply do not change the head's length. */
	char two[512];
	snprintf(two, sizeof(two), "%sHello, World!%s", EVD_200, EVD_200);
	assert_int_equal(head_of(two, &h), strlen(EVD_200));
}

static void test_http_prefixes(void **state)
{
	struct http_head h;
	size_t n = strlen(EVD_200);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		char *p = exact(EVD_200, k);
		assert_int_equal(http_head_parse(p, k, &h), 0);
		free(p);
	}
}

static void test_http_fields(void **state)
{
	struct http_head h;

	(void)state;
	static const char nf[] = "HTTP/1.1 404 Not Found\r\ncontent-LENGTH:"
				 "  10 \r\nConnection: keep-alive, Close\r\n"
				 "\r\n";
	assert_int_equal(head_of(nf, &h), sizeof(nf) - 1);
	assert_int_equal(h.status, 404);
	assert_int_equal(h.content_length, 10);
	assert_true(h.close);
	/* No reason phrase; HTTP/1.0; a repeated equal length. */
	assert_true(head_of("HTTP/1.0 204\r\nContent-Length: 0\r\n"
			    "Content-Length: 0\r\n\r\n", &h) > 0);
	assert_int_equal(h.status, 204);
	assert_int_equal(h.content_length, 0);
	assert_true(head_of("HTTP/1.1 200 OK\r\nConnection: closed\r\n"
			    "Content-Length: 1\r\n\r\n", &h) > 0);
	assert_false(h.close);
}

static void test_http_bad(void **state)
{
	static const char *const bad[] = {
		"HTTP/1.1 200 OK\r\n\r\n",		/* no length */
		("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		 "Content-Length: 2\r\n\r\n"),
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"HTTP/2.0 200 OK\r\nContent-Length: 1\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 1\r\n\r\n",
		"HTTP/1.1 2000 OK\r\nContent-Length: 1\r\n\r\n",
		"http/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
		"SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 200 OK\r\nno colon\r\nContent-Length: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: x\r\nContent-Length: 1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA: b\rc\r\nContent-Length: 1\r\n\r\n",
	};
	struct http_head h;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (head_of(bad[i], &h) != -1) {
			print_error("accepted: %s\n", bad[i]);
			fail();
		}
	}
}

/* A head that never ends is refused once it passes the limit. */
static void test_http_too_long(void **state)
{
	size_t n = HTTP_HEAD_MAX + 10;
	char *p = malloc(n);
	struct http_head h;

	(void)state;
	assert_non_null(p);
	memset(p, 'a', n);
	memcpy(p, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(http_head_parse(p, HTTP_HEAD_MAX - 1, &h), 0);
	assert_int_equal(http_head_parse(p, n, &h), -1);
	free(p);
}

/* ---- RESP ------------------------------------------------------------- */

static int64_t resp_of(const char *s, size_t n)
{
	char *p = exact(s, n);
	int64_t rc = resp_value_len(p, n);

	free(p);
	return rc;
}

static void test_resp_values(void **state)
{
	static const char *const ok[] = {
		"+PONG\r\n", "-ERR unknown command\r\n", ":1000\r\n",
		"$5\r\nhello\r\n", "$0\r\n\r\n", "$-1\r\n", "*-1\r\n", "*0\r\n",
		"*2\r\n$4\r\nsave\r\n$0\r\n\r\n",
		"*3\r\n:1\r\n*2\r\n+a\r\n$1\r\n\n\r\n-E\r\n",
		"$6\r\na\r\nb\r\n\r\n",	/* a bulk may hold CRLF */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		size_t n = strlen(ok[i]);
		/* Complete: its own length, even with more behind it. */
		assert_int_equal(resp_of(ok[i], n), n);
		char two[256];
		snprintf(two, sizeof(two), "%s+PONG\r\n", ok[i]);
		assert_int_equal(resp_of(two, strlen(two)), n);
		/* Every proper prefix: more is needed. */
		for (size_t k = 0; k < n; k++)
			if (resp_of(ok[i], k) != 0) {
				print_error("prefix %zu of %s\n", k, ok[i]);
				fail();
			}
	}
}

static void test_resp_bad(void **state)
{
	static const char *const bad[] = {
		"PONG\r\n", "+PO\rNG\r\n", "+PONG\n", "$5\r\nhelloXY",
		"$-2\r\n", "$x\r\n", "$\r\n", "*-2\r\n", "*1\r\n?\r\n",
		"$99999999999999999999\r\n", "*1\r\n$1\r\nab\r\n",
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (resp_of(bad[i], strlen(bad[i])) != -1) {
			print_error("accepted: %s\n", bad[i]);
			fail();
		}
}

/* Arrays nested past the limit are refused, not recursed into. */
static void test_resp_deep(void **state)
{
	char buf[200] = "";

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(buf, "*1\r\n");
	strcat(buf, ":1\r\n");
	assert_int_equal(resp_of(buf, strlen(buf)), -1);
}

/* ---- requests ----------------------------------------------------------- */

static struct bench_opts base_opts(enum bench_proto proto)
{
	return (struct bench_opts){ .proto = proto, .target = "127.0.0.1:99",
				    .size = 5, .path = "/x?y=1",
				    .command = "PING" };
}

static void assert_bytes(const char *got, size_t n, const char *want)
{
	assert_int_equal(n, strlen(want));
	assert_memory_equal(got, want, n);
}

static void test_requests(void **state)
{
	struct bench_opts o = base_opts(BP_HTTP);
	struct reqspec s;
	char err[256], msg[8];

	(void)state;
	assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
	assert_bytes(s.req, s.req_len,
		     "GET /x?y=1 HTTP/1.1\r\nHost: 127.0.0.1:99\r\n\r\n");
	reqspec_free(&s);

	o = base_opts(BP_ECHO);
	assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
	echo_fill(&s, 0, msg);
	assert_memory_equal(msg, "abcd\n", 5);
	echo_fill(&s, 24, msg);
	assert_memory_equal(msg, "yzab\n", 5);
	echo_fill(&s, 26 + 1, msg);
	assert_memory_equal(msg, "bcde\n", 5);
	reqspec_free(&s);

	o = base_opts(BP_ECHO);
	o.size = 1;
	assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
	echo_fill(&s, 3, msg);
	assert_int_equal(msg[0], '\n');
	reqspec_free(&s);
}

static void test_resp_requests(void **state)
{
	static const struct {
		const char *command, *req, *expect;
	} cases[] = {
		{ "PING", "*1\r\n$4\r\nPING\r\n", "+PONG\r\n" },
		{ "  ping  ", "*1\r\n$4\r\nping\r\n", "+PONG\r\n" },
		{ "PING hi", "*2\r\n$4\r\nPING\r\n$2\r\nhi\r\n", "$2\r\nhi\r\n" },
		{ "ECHO hello", "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n",
		  "$5\r\nhello\r\n" },
		{ "DELAY 50", "*2\r\n$5\r\nDELAY\r\n$2\r\n50\r\n", "+OK\r\n" },
		{ "COMMAND", "*1\r\n$7\r\nCOMMAND\r\n", NULL },
		{ "ECHO a b", "*3\r\n$4\r\nECHO\r\n$1\r\na\r\n$1\r\nb\r\n",
		  NULL },
	};
	struct bench_opts o = base_opts(BP_RESP);
	struct reqspec s;
	char err[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		o.command = cases[i].command;
		assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
		assert_bytes(s.req, s.req_len, cases[i].req);
		if (cases[i].expect)
			assert_bytes(s.expect, s.expect_len, cases[i].expect);
		else
			assert_null(s.expect);
		reqspec_free(&s);
	}
}

/* ---- ZMTP (bench/zmtp_client.c) ----------------------------------------- */

/* The opening and evd's answer to it, byte for byte. */
static const char SERVER_HELLO[] =
	"\xff\0\0\0\0\0\0\0\0\x7f\x03\x01NULL\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	"\x04\x1c\x05READY\x0bSocket-Type\0\0\0\x06ROUTER";

static void test_zmtp_handshake(void **state)
{
	char hello[ZMTP_HELLO_MAX];
	size_t n = sizeof(SERVER_HELLO) - 1;

	(void)state;
	assert_int_equal(zmtp_hello(false, hello), 64 + 43);
	assert_memory_equal(hello, "\xff\0\0\0\0\0\0\0\0\x7f\x03\x01NULL", 16);
	assert_memory_equal(hello + 64, "\x04\x29\x05READY\x0bSocket-Type"
			    "\0\0\0\x06" "DEALER\x08Identity\0\0\0\0", 43);
	assert_int_equal(zmtp_hello(true, hello), 64 + 40);
	assert_memory_equal(hello + 64, "\x04\x26\x05READY\x0bSocket-Type"
			    "\0\0\0\x03REQ\x08Identity\0\0\0\0", 40);
	/* Every prefix is "more", the whole is its length. */
	for (size_t k = 0; k < n; k++) {
		char *p = exact(SERVER_HELLO, k);
		assert_int_equal(zmtp_handshake_len(p, k), 0);
		free(p);
	}
	char *p = exact(SERVER_HELLO, n);
	assert_int_equal(zmtp_handshake_len(p, n), 94);
	/* Refusals: not ZMTP, 2.0, PLAIN, an ERROR instead of READY. */
	p[0] = 'H';
	assert_int_equal(zmtp_handshake_len(p, 1), -1);
	p[0] = (char)0xff;
	p[10] = 2;
	assert_int_equal(zmtp_handshake_len(p, 11), -1);
	p[10] = 3;
	memcpy(p + 12, "PLAIN", 5);
	assert_int_equal(zmtp_handshake_len(p, n), -1);
	memcpy(p + 12, "NULL\0", 5);
	memcpy(p + 64, "\x04\x08\x05" "ERROR\x01x", 10);
	assert_int_equal(zmtp_handshake_len(p, 74), -1);
	free(p);
}

/* Requests by key, and which replies pass: frames compared by flags and
 * bytes, a long size encoding as good as a short one. */
static void test_zmtp_requests(void **state)
{
	struct bench_opts o = base_opts(BP_ZMTP);
	struct reqspec s;
	char err[256], req[64];

	(void)state;
	o.size = 3;
	assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
	assert_int_equal(zmtp_request_len(&s), 6 + 5);
	zmtp_request_fill(&s, 1, req);
	assert_memory_equal(req, "\x01\x04" "echo\x00\x03" "bcd", 11);
	assert_true(zmtp_reply_ok(&s, 1, "\x01\x02OK\x00\x03" "bcd", 9));
	assert_true(zmtp_reply_ok(&s, 1, "\x01\x02OK\x02\0\0\0\0\0\0\0\x03"
				  "bcd", 16));
	assert_false(zmtp_reply_ok(&s, 2, "\x01\x02OK\x00\x03" "bcd", 9));
	assert_false(zmtp_reply_ok(&s, 1, "\x01\x02OK\x01\x03" "bcd", 9));
	assert_false(zmtp_reply_ok(&s, 1, "\x00\x02OK", 4));
	assert_false(zmtp_reply_ok(&s, 1, "\x01\x03" "ERR\x00\x03" "bcd", 10));
	reqspec_free(&s);

	o.zmtp_req = true;
	assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
	zmtp_request_fill(&s, 0, req);
	assert_memory_equal(req, "\x01\x00\x01\x04" "echo\x00\x03" "abc", 13);
	assert_true(zmtp_reply_ok(&s, 0, "\x01\x00\x01\x02OK\x00\x03" "abc",
				  11));
	assert_false(zmtp_reply_ok(&s, 0, "\x01\x02OK\x00\x03" "abc", 9));
	reqspec_free(&s);

	static const struct {
		const char *call;
		const char *req;
		size_t req_len;
		const char *reply;
		size_t reply_len;
		bool ok;
	} calls[] = {
		{ "ping", "\x00\x04ping", 6, "\x00\x02OK", 4, true },
		{ "ping", "\x00\x04ping", 6, "\x01\x02OK\x00\x00", 6, false },
		{ " echo a  b ", "\x01\x04" "echo\x01\x01" "a\x00\x01" "b", 12,
		  "\x01\x02OK\x01\x01" "a\x00\x01" "b", 10, true },
		{ "delay 5", "\x01\x05" "delay\x00\x01" "5", 10, "\x00\x02OK", 4,
		  true },
		{ "stats x", "\x01\x05" "stats\x00\x01x", 10,
		  "\x01\x02OK\x00\x03" "any", 9, true },
		{ "stats x", "\x01\x05" "stats\x00\x01x", 10,
		  "\x01\x03" "ERR\x00\x01" "e", 8, false },
	};
	o.zmtp_req = false;
	for (size_t i = 0; i < ARRAY_SIZE(calls); i++) {
		o.call = calls[i].call;
		assert_int_equal(reqspec_init(&s, &o, err, sizeof(err)), 0);
		assert_int_equal(zmtp_request_len(&s), calls[i].req_len);
		zmtp_request_fill(&s, 7, req);
		assert_memory_equal(req, calls[i].req, calls[i].req_len);
		assert_int_equal(zmtp_reply_ok(&s, 7, calls[i].reply,
					       calls[i].reply_len), calls[i].ok);
		reqspec_free(&s);
	}
}

static void test_zmtp_messages(void **state)
{
	static const char two[] = "\x01\x02OK\x02\0\0\0\0\0\0\x01\x00";
	bool cmd;
	char *big = malloc(2 + 9 + 256);

	(void)state;
	assert_non_null(big);
	assert_int_equal(zmtp_message_len("\x04\x05\x04PONG", 7, &cmd), 7);
	assert_true(cmd);
	for (size_t k = 0; k < 15; k++)
		assert_int_equal(zmtp_message_len(two, k, &cmd), 0);
	memcpy(big, two, 13);
	memset(big + 13, 'x', 254);
	assert_int_equal(zmtp_message_len(big, 13 + 256, &cmd), 13 + 256);
	assert_false(cmd);
	assert_int_equal(zmtp_message_len("\x01\x00\x04\x00", 4, &cmd), -1);
	assert_int_equal(zmtp_message_len("\x08\x00", 2, &cmd), -1);
	free(big);
}

/* ---- the command line --------------------------------------------------- */

/* Parses a command line given as one string of space-separated words. */
static int parse(const char *line, struct bench_opts *o, char *err,
		 size_t errlen)
{
	char *copy = strdup(line), *argv[32] = { "evbench" };
	int argc = 1;

	assert_non_null(copy);
	for (char *w = strtok(copy, " "); w && argc < 31; w = strtok(NULL, " "))
		argv[argc++] = w;
	optind = 0;	/* glibc: start over */
	int rc = opts_parse(argc, argv, o, err, errlen);
	free(copy);
	return rc;
}

static void test_opts_modes(void **state)
{
	struct bench_opts o;
	char err[512];

	(void)state;
	assert_int_equal(parse("127.0.0.1:7777", &o, err, sizeof(err)), 0);
	assert_int_equal(o.mode, MODE_CLOSED);
	assert_int_equal(o.proto, BP_ECHO);
	assert_int_equal(o.conns, 10);
	assert_int_equal(o.threads, 1);
	assert_int_equal(o.requests, 10000);
	assert_int_equal(o.pipeline, 1);
	assert_int_equal(o.size, 100);
	assert_true(o.limit_s == 60 && o.timeout_s == 10);
	assert_string_equal(o.target, "127.0.0.1:7777");

	assert_int_equal(parse("--proto http -c 50 -t 2 -d 1.5 --pipeline 8 "
			       "[::1]:80", &o, err, sizeof(err)), 0);
	assert_int_equal(o.mode, MODE_CLOSED);
	assert_int_equal(o.requests, 0);
	assert_true(o.duration_s == 1.5);
	assert_string_equal(o.target, "[::1]:80");

	assert_int_equal(parse("--rate 1000 -d 2 127.0.0.1:1", &o, err,
			       sizeof(err)), 0);
	assert_int_equal(o.mode, MODE_OPEN);
	assert_int_equal(o.requests, 2000);

	assert_int_equal(parse("--conn-per-request -n 5 127.0.0.1:1", &o, err,
			       sizeof(err)), 0);
	assert_int_equal(o.mode, MODE_CPR);

	assert_int_equal(parse("--workers 3 --messages 4 127.0.0.1:1", &o, err,
			       sizeof(err)), 0);
	assert_int_equal(o.mode, MODE_SEED001);
	assert_int_equal(o.conns, 3);
	assert_int_equal(o.requests, 3 * 100 * 4);

	/* -d longer than the default -T moves -T; an explicit one stays. */
	assert_int_equal(parse("-d 100 127.0.0.1:1", &o, err, sizeof(err)), 0);
	assert_true(o.limit_s == 115);
	assert_int_equal(parse("-d 100 -T 5 127.0.0.1:1", &o, err,
			       sizeof(err)), 0);
	assert_true(o.limit_s == 5);
	assert_int_equal(parse("-d 250ms --size 4k --json 127.0.0.1:1", &o,
			       err, sizeof(err)), 0);
	assert_true(o.duration_s == 0.25);
	assert_int_equal(o.size, 4096);
	assert_int_equal(o.output, OUT_JSON);

	assert_int_equal(parse("--proto zmtp --size 200 --socket req "
			       "127.0.0.1:1", &o, err, sizeof(err)), 0);
	assert_int_equal(o.proto, BP_ZMTP);
	assert_int_equal(o.size, 200);
	assert_true(o.zmtp_req);
	assert_null(o.call);
	assert_int_equal(parse("--proto zmtp --call ping 127.0.0.1:1", &o, err,
			       sizeof(err)), 0);
	assert_non_null(o.call);	/* (in parse()'s freed copy) */
	assert_false(o.zmtp_req);

	assert_int_equal(parse("-h", &o, err, sizeof(err)), 1);
}

static void test_opts_errors(void **state)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "", "HOST:PORT is required" },
		{ "localhost:80", "is not HOST:PORT" },
		{ "127.0.0.1:70000", "is not HOST:PORT" },
		{ "::1:80", "is not HOST:PORT" },
		{ "127.0.0.1:1 x", "unexpected argument \"x\"" },
		{ "-n 5 -d 1 127.0.0.1:1", "-n and -d" },
		{ "--rate 5 127.0.0.1:1", "--rate needs -d" },
		{ "--rate 5 -d 1 --conn-per-request 127.0.0.1:1",
		  "choose one" },
		{ "--workers 2 -c 3 127.0.0.1:1", "no -c, -n or -d" },
		{ "--workers 2 --pipeline 2 127.0.0.1:1", "no --pipeline" },
		{ "--conn-per-request --pipeline 2 127.0.0.1:1",
		  "no --pipeline" },
		{ "-c 2 -t 3 127.0.0.1:1", "-t 3 is more than the 2" },
		{ "-c 0 127.0.0.1:1", "-c: \"0\" is not a number" },
		{ "--size 0 127.0.0.1:1", "--size: \"0\" is not a size" },
		{ "--size 10 --proto resp 127.0.0.1:1", "--size is for" },
		{ "--path /x 127.0.0.1:1", "--path is for" },
		{ "--proto http --path x 127.0.0.1:1", "--path: a path" },
		{ "--command PING 127.0.0.1:1", "--command is for" },
		{ "--proto gopher 127.0.0.1:1", "not one of: echo, http, resp" },
		{ "-d 0 127.0.0.1:1", "-d: \"0\" is not a number" },
		{ "-d inf 127.0.0.1:1", "-d: \"inf\"" },
		{ "-d 1.2.3 127.0.0.1:1", "-d: \"1.2.3\"" },
		{ "-T -1 127.0.0.1:1", "-T: \"-1\"" },
		{ "--json --csv 127.0.0.1:1", "choose one" },
		{ "--nope 127.0.0.1:1", "unknown option --nope" },
		{ "--json=1 127.0.0.1:1", "--json takes no value" },
		{ "127.0.0.1:1 -c", "-c needs a value" },
		{ "--rate 0.4 -d 1 127.0.0.1:1", "less than one request" },
		{ "--call ping 127.0.0.1:1", "--call and --socket are for" },
		{ "--socket req 127.0.0.1:1", "--call and --socket are for" },
		{ "--proto zmtp --socket router 127.0.0.1:1",
		  "--socket: dealer or req" },
		{ "--proto zmtp --call ping --size 5 127.0.0.1:1",
		  "--call and --size: choose one" },
		{ "--proto zmtp --call \x01 127.0.0.1:1", "--call: words" },
		{ "--proto smtp 127.0.0.1:1", "not one of: echo, http, resp, zmtp" },
	};
	struct bench_opts o;
	char err[512];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		int rc = parse(cases[i].line, &o, err, sizeof(err));
		if (rc != -1 || !strstr(err, cases[i].msg)) {
			print_error("\"%s\": rc %d, \"%s\" (want \"%s\")\n",
				    cases[i].line, rc, err, cases[i].msg);
			fail();
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_ok),
		cmocka_unit_test(test_http_prefixes),
		cmocka_unit_test(test_http_fields),
		cmocka_unit_test(test_http_bad),
		cmocka_unit_test(test_http_too_long),
		cmocka_unit_test(test_resp_values),
		cmocka_unit_test(test_resp_bad),
		cmocka_unit_test(test_resp_deep),
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_resp_requests),
		cmocka_unit_test(test_zmtp_handshake),
		cmocka_unit_test(test_zmtp_requests),
		cmocka_unit_test(test_zmtp_messages),
		cmocka_unit_test(test_opts_modes),
		cmocka_unit_test(test_opts_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
