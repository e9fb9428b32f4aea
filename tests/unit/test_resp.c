/* Unit tests for the resp protocol, driven through its struct evd_proto.
 * Every input ends exactly at a PROT_NONE page and every output buffer ends
 * at one, so a read past the input or a write past the output's capacity
 * crashes the test.  Expected replies are Redis 7.0.15's, byte for byte
 * (checked against a real redis-server). */
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
#include "../../daemon/proto/proto.h"
#include "../../daemon/version.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* A string literal and its length, NUL bytes included. */
#define S(x) x, sizeof(x) - 1
#define BIG_OUT 65536

/* ---- guarded memory ------------------------------------------------------ */

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

/* ---- a protocol instance and an output buffer ---------------------------- */

struct fx {
	const struct evd_proto *p;
	void *state;
	struct config cfg;
	struct guarded go;
	struct buf out;
};

/* Re-initializes the state from f->cfg (after a test changed it). */
static void fx_reinit(struct fx *f)
{
	f->p->init(f->state, &f->cfg);
}

/* A fresh output buffer of capacity cap, '#' everywhere. */
static void fx_out(struct fx *f, size_t cap)
{
	if (f->out.data)
		guarded_free(&f->go);
	guarded_alloc(&f->go, cap);
	memset(f->go.p, '#', cap);
	f->out = (struct buf){ .data = f->go.p, .cap = cap };
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->p = proto_find("resp");
	if (!f->p)
		return -1;
	f->state = malloc(f->p->state_size);
	if (!f->state)
		return -1;
	config_defaults(&f->cfg);
	fx_reinit(f);
	fx_out(f, BIG_OUT);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	guarded_free(&f->go);
	free(f->state);
	free(f);
	return 0;
}

/* Checks that nothing was written past out.len. */
static void assert_untouched(const struct buf *out)
{
	for (size_t i = out->len; i < out->cap; i++)
		if (out->data[i] != '#')
			fail_msg("byte %zu past len %zu written", i, out->len);
}

/* One feed() of in[0..len), copied to end at a guard page. */
static size_t feed(struct fx *f, const void *in, size_t len,
		   struct proto_result *res)
{
	struct guarded gi;
	size_t n;

	guarded_alloc(&gi, len);
	memcpy(gi.p, in, len);
	*res = (struct proto_result){ 0 };
	n = f->p->feed(f->state, gi.p, len, &f->out, res);
	guarded_free(&gi);
	assert_true(n <= len);
	assert_true(f->out.len <= f->out.cap);
	assert_untouched(&f->out);
	return n;
}

/* Empties out and marks it '#' again. */
static void drain(struct fx *f)
{
	memset(f->out.data, '#', f->out.cap);
	f->out.off = f->out.len = 0;
}

/* ---- expected replies ---------------------------------------------------- */

/* End of the RESP reply at p (test-side parser), or NULL. */
static const char *reply_end(const char *p, const char *end)
{
	const char *nl;
	long n;

	if (p >= end)
		return NULL;
	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl || nl == p || nl[-1] != '\r')
		return NULL;
	switch (*p) {
	case '+':
	case '-':
	case ':':
		return nl + 1;
	case '$':
		n = strtol(p + 1, NULL, 10);
		if (n < 0)
			return nl + 1;
		return nl + 1 + n + 2 <= end ? nl + 1 + n + 2 : NULL;
	case '*':
		n = strtol(p + 1, NULL, 10);
		p = nl + 1;
		for (long i = 0; i < n && p; i++)
			p = reply_end(p, end);
		return p;
	}
	return NULL;
}

/* Counts the replies in want[0..len) by kind; returns how many. */
static unsigned count_replies(const char *want, size_t len,
			      unsigned kinds[PROTO_REPLY_MAX])
{
	static const char map[] = "+-:$*";
	unsigned total = 0;

	memset(kinds, 0, sizeof(unsigned) * PROTO_REPLY_MAX);
	for (const char *p = want, *end = want + len; p < end; total++) {
		const char *k = strchr(map, *p);
		assert_non_null(k);
		kinds[REPLY_RESP_STATUS + (k - map)]++;
		p = reply_end(p, end);
		assert_non_null(p);
	}
	return total;
}

static void assert_replies(const struct proto_result *res, const char *want,
			   size_t len)
{
	unsigned kinds[PROTO_REPLY_MAX];

	count_replies(want, len, kinds);
	for (int k = 0; k < PROTO_REPLY_MAX; k++)
		if (res->replies[k] != kinds[k])
			fail_msg("replies[%d] = %u, expected %u", k,
				 res->replies[k], kinds[k]);
}

static void assert_out(const struct fx *f, const char *want, size_t len)
{
	if (buf_used(&f->out) != len ||
	    memcmp(buf_head(&f->out), want, len) != 0)
		fail_msg("got %zu bytes \"%.*s\", expected %zu \"%.*s\"",
			 buf_used(&f->out), (int)buf_used(&f->out),
			 buf_head(&f->out), (int)len, want);
}

struct exchange {
	const char *in;
	size_t inlen;
	const char *out;
	size_t outlen;
};

/*
 * Each input is answered in one feed(), all consumed, with exactly the
 * expected bytes: one reply per command, counted by kind, no delay, the
 * connection kept.
 */
static void check_exchanges(struct fx *f, const struct exchange *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct proto_result res;
		unsigned kinds[PROTO_REPLY_MAX];

		drain(f);
		assert_int_equal(feed(f, x[i].in, x[i].inlen, &res), x[i].inlen);
		assert_out(f, x[i].out, x[i].outlen);
		assert_int_equal(res.requests,
				 count_replies(x[i].out, x[i].outlen, kinds));
		assert_replies(&res, x[i].out, x[i].outlen);
		assert_false(res.partial);
		assert_false(res.close);
		assert_false(res.error);
		assert_int_equal(res.delay_ms, 0);
		assert_int_equal(res.delay_off, 0);
	}
}

/*
 * Each input ends in a protocol error: everything consumed, the replies to
 * the commands before it and the error, close and error set.
 */
static void check_protocol_errors(struct fx *f, const struct exchange *x,
				  size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct proto_result res;
		unsigned kinds[PROTO_REPLY_MAX];
		unsigned replies = count_replies(x[i].out, x[i].outlen, kinds);

		drain(f);
		assert_int_equal(feed(f, x[i].in, x[i].inlen, &res), x[i].inlen);
		assert_out(f, x[i].out, x[i].outlen);
		assert_int_equal(res.requests, replies - 1);
		assert_replies(&res, x[i].out, x[i].outlen);
		assert_false(res.partial);
		assert_true(res.close);
		assert_true(res.error);
		assert_int_equal(res.delay_ms, 0);
	}
}

/* ---- registration and commands ------------------------------------------- */

static void test_resp_registered(void **state)
{
	const struct evd_proto *p = proto_find("resp");

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->name, "resp");
	assert_non_null(p->summary);
	assert_true(p->state_size > 0);
	assert_non_null(p->init);
	assert_non_null(p->feed);
	assert_null(proto_find("RESP"));
	assert_non_null(strstr(proto_names(), "resp"));
}

static void test_resp_ping(void **state)
{
	static const struct exchange x[] = {
		{ S("PING\r\n"), S("+PONG\r\n") },
		{ S("ping\n"), S("+PONG\r\n") },
		{ S("*1\r\n$4\r\nPiNg\r\n"), S("+PONG\r\n") },
		{ S("PING hello\r\n"), S("$5\r\nhello\r\n") },
		{ S("*2\r\n$4\r\nPING\r\n$0\r\n\r\n"), S("$0\r\n\r\n") },
		{ S("PING a b\r\n"),
		  S("-ERR wrong number of arguments for 'ping' command\r\n") },
	};

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

static void test_resp_echo(void **state)
{
	static const struct exchange x[] = {
		{ S("ECHO hello\r\n"), S("$5\r\nhello\r\n") },
		{ S("*2\r\n$4\r\necho\r\n$5\r\na\0\r\nb\r\n"),
		  S("$5\r\na\0\r\nb\r\n") },
		{ S("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), S("$0\r\n\r\n") },
		{ S("ECHO\r\n"),
		  S("-ERR wrong number of arguments for 'echo' command\r\n") },
		{ S("ECHO a b\r\n"),
		  S("-ERR wrong number of arguments for 'echo' command\r\n") },
	};

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

/* +OK, then close; what follows QUIT is not answered. */
static void test_resp_quit(void **state)
{
	static const struct exchange x[] = {
		{ S("QUIT\r\nPING\r\n"), S("+OK\r\n") },
		{ S("*1\r\n$4\r\nquit\r\n*1\r\n$4\r\nPING\r\n"), S("+OK\r\n") },
		{ S("quit x y\r\n"), S("+OK\r\n") },
		{ S("PING\r\nQUIT\r\n"), S("+PONG\r\n+OK\r\n") },
	};
	static const size_t consumed[] = { 6, 14, 10, 12 };
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(x); i++) {
		struct proto_result res;

		drain(f);
		assert_int_equal(feed(f, x[i].in, x[i].inlen, &res),
				 consumed[i]);
		assert_out(f, x[i].out, x[i].outlen);
		assert_int_equal(res.requests, i == 3 ? 2 : 1);
		assert_int_equal(res.replies[REPLY_RESP_STATUS], i == 3 ? 2 : 1);
		assert_true(res.close);
		assert_false(res.error);
		assert_false(res.partial);
	}
}

/* DELAY: +OK due after its delay; feed() stops right after it. */
static void test_resp_delay(void **state)
{
	static const char in[] = "PING\r\nDELAY 25\r\nPING\r\n";
	struct fx *f = *state;
	struct proto_result res;

	assert_int_equal(feed(f, S("DELAY 10\r\n"), &res), 10);
	assert_out(f, S("+OK\r\n"));
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.replies[REPLY_RESP_STATUS], 1);
	assert_int_equal(res.delay_ms, 10);
	assert_int_equal(res.delay_off, 0);
	assert_false(res.partial);
	assert_false(res.close);

	drain(f);
	assert_int_equal(feed(f, S(in), &res), 16);
	assert_out(f, S("+PONG\r\n+OK\r\n"));
	assert_int_equal(res.requests, 2);
	assert_int_equal(res.delay_ms, 25);
	assert_int_equal(res.delay_off, 7);
	assert_true(res.partial);	/* the last PING waits */
	assert_int_equal(feed(f, in + 16, 6, &res), 6);
	assert_out(f, S("+PONG\r\n+OK\r\n+PONG\r\n"));
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.delay_ms, 0);
	assert_false(res.partial);

	/* delay_off counts from what out held when feed() was called. */
	drain(f);
	memcpy(f->out.data, "XYZ", 3);
	f->out.off = 1;
	f->out.len = 3;
	assert_int_equal(feed(f, S("PING\r\n*2\r\n$5\r\nDELAY\r\n$5\r\n60000\r\n"),
			      &res), 32);
	assert_out(f, S("YZ+PONG\r\n+OK\r\n"));
	assert_int_equal(res.delay_ms, 60000);
	assert_int_equal(res.delay_off, 7);

	drain(f);
	assert_int_equal(feed(f, S("DELAY 1\r\nPING\r\n"), &res), 9);
	assert_out(f, S("+OK\r\n"));
	assert_int_equal(res.delay_ms, 1);

	/* DELAY 0 is not delayed: the next command is answered too. */
	drain(f);
	assert_int_equal(feed(f, S("DELAY 0\r\nPING\r\n"), &res), 15);
	assert_out(f, S("+OK\r\n+PONG\r\n"));
	assert_int_equal(res.requests, 2);
	assert_int_equal(res.delay_ms, 0);
}

static void test_resp_delay_errors(void **state)
{
#define DELAY_ERR "-ERR DELAY takes milliseconds from 0 to 60000\r\n"
	static const struct exchange x[] = {
		{ S("DELAY 60001\r\n"), S(DELAY_ERR) },
		{ S("DELAY -1\r\n"), S(DELAY_ERR) },
		{ S("DELAY abc\r\n"), S(DELAY_ERR) },
		{ S("DELAY 010\r\n"), S(DELAY_ERR) },
		{ S("DELAY 99999999999999999999\r\n"), S(DELAY_ERR) },
		{ S("DELAY\r\n"),
		  S("-ERR wrong number of arguments for 'delay' command\r\n") },
		{ S("delay 1 2\r\n"),
		  S("-ERR wrong number of arguments for 'delay' command\r\n") },
	};
#undef DELAY_ERR

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

/* [server] delay: every reply is delayed, unless DELAY gives its own. */
static void test_resp_configured_delay(void **state)
{
	struct fx *f = *state;
	struct proto_result res;

	f->cfg.delay_ms = 50;
	fx_reinit(f);
	assert_int_equal(feed(f, S("PING\r\nPING\r\n"), &res), 6);
	assert_out(f, S("+PONG\r\n"));
	assert_int_equal(res.delay_ms, 50);
	assert_int_equal(res.delay_off, 0);
	assert_true(res.partial);

	drain(f);
	assert_int_equal(feed(f, S("DELAY 0\r\nfoo\r\n"), &res), 14);
	assert_out(f, S("+OK\r\n-ERR unknown command 'foo', with args "
			"beginning with: \r\n"));
	assert_int_equal(res.requests, 2);
	assert_int_equal(res.delay_ms, 50);
	assert_int_equal(res.delay_off, 5);
	assert_false(res.partial);

	drain(f);
	assert_int_equal(feed(f, S("DELAY 7\r\n"), &res), 9);
	assert_int_equal(res.delay_ms, 7);

	/* A protocol error closes at once. */
	drain(f);
	assert_int_equal(feed(f, S("*x\r\n"), &res), 4);
	assert_int_equal(res.delay_ms, 0);
	assert_true(res.close);
}

/* What redis-cli and redis-benchmark send when they start, and kin. */
static void test_resp_client_startup(void **state)
{
	static const struct exchange x[] = {
		/* redis-cli (interactive) */
		{ S("*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n"), S("*0\r\n") },
		/* redis-benchmark, pipelined */
		{ S("*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$4\r\nsave\r\n"
		    "*3\r\n$6\r\nCONFIG\r\n$3\r\nGET\r\n$10\r\nappendonly\r\n"),
		  S("*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
		    "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n") },
		{ S("config get SAVE appendonly nosuch\r\n"),
		  S("*4\r\n$4\r\nSAVE\r\n$0\r\n\r\n"
		    "$10\r\nappendonly\r\n$2\r\nno\r\n") },
		{ S("CONFIG GET maxmemory\r\n"), S("*0\r\n") },
		{ S("COMMAND\r\n"), S("*0\r\n") },
		{ S("command docs get set\r\n"), S("*0\r\n") },
		{ S("COMMAND COUNT\r\n"), S(":0\r\n") },
		{ S("COMMAND COUNT x\r\n"),
		  S("-ERR wrong number of arguments for 'command|count' "
		    "command\r\n") },
		{ S("CLIENT SETNAME evd-test\r\n"), S("+OK\r\n") },
		{ S("client setinfo lib-name redis-py\r\n"), S("+OK\r\n") },
		{ S("CLIENT SETNAME\r\n"),
		  S("-ERR wrong number of arguments for 'client|setname' "
		    "command\r\n") },
		{ S("SELECT 0\r\n"), S("+OK\r\n") },
		{ S("SELECT 1\r\n"), S("-ERR DB index is out of range\r\n") },
		{ S("SELECT -1\r\n"), S("-ERR DB index is out of range\r\n") },
		{ S("SELECT x\r\n"),
		  S("-ERR value is not an integer or out of range\r\n") },
		{ S("SELECT -0\r\n"),
		  S("-ERR value is not an integer or out of range\r\n") },
		{ S("SELECT 4294967296\r\n"),
		  S("-ERR value is out of range, value must between "
		    "-2147483648 and 2147483647\r\n") },
		{ S("HELLO 3\r\n"), S("-NOPROTO unsupported protocol version\r\n") },
		{ S("HELLO 1 SETNAME x\r\n"),
		  S("-NOPROTO unsupported protocol version\r\n") },
		{ S("HELLO 3x\r\n"),
		  S("-ERR Protocol version is not an integer or out of "
		    "range\r\n") },
		{ S("HELLO 2 foo\r\n"),
		  S("-ERR Syntax error in HELLO option 'foo'\r\n") },
		{ S("HELLO 2 SETNAME\r\n"),
		  S("-ERR Syntax error in HELLO option 'SETNAME'\r\n") },
		{ S("HELLO 2 setname x auth a\r\n"),
		  S("-ERR Syntax error in HELLO option 'auth'\r\n") },
	};

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

/* HELLO and HELLO 2 answer the server map as a RESP2 array. */
static void test_resp_hello(void **state)
{
	static const char *const in[] = {
		"HELLO\r\n", "hello 2\r\n", "HELLO 2 AUTH u p SETNAME n\r\n",
	};
	char want[512];
	int n = snprintf(want, sizeof(want),
			 "*12\r\n$6\r\nserver\r\n$3\r\nevd\r\n"
			 "$7\r\nversion\r\n$%zu\r\n%s\r\n"
			 "$5\r\nproto\r\n:2\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
			 "$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n",
			 strlen(EVD_VERSION), EVD_VERSION);
	struct exchange x[ARRAY_SIZE(in)];

	assert_true(n > 0 && (size_t)n < sizeof(want));
	for (size_t i = 0; i < ARRAY_SIZE(in); i++)
		x[i] = (struct exchange){ in[i], strlen(in[i]), want, (size_t)n };
	check_exchanges(*state, x, ARRAY_SIZE(x));
}

static void test_resp_subcommands(void **state)
{
	static const struct exchange x[] = {
		{ S("CONFIG\r\n"),
		  S("-ERR wrong number of arguments for 'config' command\r\n") },
		{ S("config foo\r\n"),
		  S("-ERR unknown subcommand 'foo'. Try CONFIG HELP.\r\n") },
		{ S("CONFIG GET\r\n"),
		  S("-ERR wrong number of arguments for 'config|get' "
		    "command\r\n") },
		{ S("config set save x\r\n"),
		  S("-ERR unknown subcommand 'set'. Try CONFIG HELP.\r\n") },
		{ S("CLIENT\r\n"),
		  S("-ERR wrong number of arguments for 'client' command\r\n") },
		{ S("client foo\r\n"),
		  S("-ERR unknown subcommand 'foo'. Try CLIENT HELP.\r\n") },
		{ S("command foo\r\n"),
		  S("-ERR unknown subcommand 'foo'. Try COMMAND HELP.\r\n") },
		{ S("*2\r\n$6\r\nCLIENT\r\n$3\r\na\r\n\r\n"),
		  S("-ERR unknown subcommand 'a  '. Try CLIENT HELP.\r\n") },
	};

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

static void test_resp_unknown_command(void **state)
{
	static const struct exchange x[] = {
		{ S("foo\r\n"),
		  S("-ERR unknown command 'foo', with args beginning with: \r\n") },
		{ S("FOO a b\r\n"),
		  S("-ERR unknown command 'FOO', with args beginning with: "
		    "'a' 'b' \r\n") },
		{ S("*1\r\n$0\r\n\r\n"),
		  S("-ERR unknown command '', with args beginning with: \r\n") },
		/* CR and LF become spaces; a NUL ends the text as in C. */
		{ S("*3\r\n$3\r\nfoo\r\n$3\r\na\rb\r\n$0\r\n\r\n"),
		  S("-ERR unknown command 'foo', with args beginning with: "
		    "'a b' '' \r\n") },
		{ S("*3\r\n$3\r\nf\no\r\n$3\r\na\0b\r\n$1\r\nc\r\n"),
		  S("-ERR unknown command 'f o', with args beginning with: "
		    "'a' 'c' \r\n") },
		{ S("\"fo o\" \"x\\ny\" 'z'\r\n"),
		  S("-ERR unknown command 'fo o', with args beginning with: "
		    "'x y' 'z' \r\n") },
		{ S("PINGX\r\n"),
		  S("-ERR unknown command 'PINGX', with args beginning with: "
		    "\r\n") },
		{ S("*2\r\n$3\r\nPIN\r\n$1\r\nG\r\n"),
		  S("-ERR unknown command 'PIN', with args beginning with: "
		    "'G' \r\n") },
	};

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

/* Redis shows at most 128 bytes of the name and about 128 of the args. */
static void test_resp_unknown_command_truncated(void **state)
{
	struct fx *f = *state;
	char in[512], want[512];
	struct proto_result res;
	int n, w;

	/* 100 x, then 25 of the 100 y (103 + 28 >= 128), c not shown. */
	n = snprintf(in, sizeof(in), "foo %.100s %.100s c\r\n",
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
		     "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy");
	w = snprintf(want, sizeof(want),
		     "-ERR unknown command 'foo', with args beginning with: "
		     "'%.100s' '%.25s' \r\n", in + 4, in + 105);
	assert_int_equal(feed(f, in, (size_t)n, &res), n);
	assert_out(f, want, (size_t)w);

	/* A 200-byte name is cut at 128. */
	drain(f);
	memset(in, 'F', 200);
	memcpy(in + 200, " a\r\n", 4);
	w = snprintf(want, sizeof(want),
		     "-ERR unknown command '%.128s', with args beginning with: "
		     "'a' \r\n", in);
	assert_int_equal(feed(f, in, 204, &res), 204);
	assert_out(f, want, (size_t)w);

	/* 60 one-byte args: 32 of them ("'a' " is 4 bytes) make 128. */
	drain(f);
	memcpy(in, "foo", 3);
	for (int i = 0; i < 60; i++)
		memcpy(in + 3 + 2 * i, " a", 2);
	memcpy(in + 123, "\r\n", 2);
	w = snprintf(want, sizeof(want),
		     "-ERR unknown command 'foo', with args beginning with: ");
	for (int i = 0; i < 32; i++)
		w += snprintf(want + w, sizeof(want) - (size_t)w, "'a' ");
	w += snprintf(want + w, sizeof(want) - (size_t)w, "\r\n");
	assert_int_equal(feed(f, in, 125, &res), 125);
	assert_out(f, want, (size_t)w);
}

/* Inline commands split as Redis's sdssplitargs does. */
static void test_resp_inline(void **state)
{
	static const struct exchange x[] = {
		{ S("echo \"a b\"\r\n"), S("$3\r\na b\r\n") },
		{ S("echo 'c d'\r\n"), S("$3\r\nc d\r\n") },
		{ S("echo \"\\x41\\x4g\\q\\n\\r\\t\\b\\a\\\\\\\"\"\r\n"),
		  S("$12\r\nAx4gq\n\r\t\b\a\\\"\r\n") },
		{ S("echo 'it\\'s \\n'\r\n"), S("$7\r\nit's \\n\r\n") },
		{ S("echo a\"b c\"\r\n"), S("$4\r\nab c\r\n") },
		{ S("echo \"\"\r\n"), S("$0\r\n\r\n") },
		{ S("\"ECHO\" x\r\n"), S("$1\r\nx\r\n") },
		{ S("echo \"x\"\t\r\n"), S("$1\r\nx\r\n") },
		{ S("echo \vx\r\n"), S("$1\r\nx\r\n") },
		{ S("echo a\vb\r\n"), S("$3\r\na\vb\r\n") },
		{ S("echo a\0b\r\n"), S("$3\r\na\0b\r\n") },
		{ S("PING\rPING\r\n"), S("$4\r\nPING\r\n") },
		{ S("  PING  \r\n"), S("+PONG\r\n") },
		{ S("PING\nPING\n"), S("+PONG\r\n+PONG\r\n") },
		{ S("\r\n\n   \r\n\t\n"), S("") },
		{ S("*0\r\n*-1\r\n*-5\r\n\r\nPING\r\n"), S("+PONG\r\n") },
	};

	check_exchanges(*state, x, ARRAY_SIZE(x));
}

static void test_resp_protocol_errors(void **state)
{
#define MBULK "-ERR Protocol error: invalid multibulk length\r\n"
#define BULK "-ERR Protocol error: invalid bulk length\r\n"
#define CRLF "-ERR Protocol error: expected CRLF after bulk\r\n"
#define QUOTES "-ERR Protocol error: unbalanced quotes in request\r\n"
	static const struct exchange x[] = {
		{ S("*x\r\n"), S(MBULK) },
		{ S("*1x"), S(MBULK) },	/* refused before its CRLF */
		{ S("*01\r\n"), S(MBULK) },
		{ S("*+1\r\n"), S(MBULK) },
		{ S("*\r\n"), S(MBULK) },
		{ S("*-\r\n"), S(MBULK) },
		{ S("*1-\r\n"), S(MBULK) },
		{ S("*1\rx"), S(MBULK) },
		{ S("*65\r\n"), S(MBULK) },	/* max_args 64 */
		{ S("*99999999999999999999\r\n"), S(MBULK) },
		{ S("*-99999999999999999999\r\n"), S(MBULK) },
		{ S("*123456789012345678901"), S(MBULK) },
		{ S("*1\r\n$-1\r\n"), S(BULK) },
		{ S("*1\r\n$04\r\n"), S(BULK) },
		{ S("*1\r\n$\r\n"), S(BULK) },
		{ S("*1\r\n$x"), S(BULK) },
		{ S("*1\r\n$8193\r\n"), S(BULK) },	/* max_bulk_bytes 8k */
		{ S("*1\r\n:4\r\n"),
		  S("-ERR Protocol error: expected '$', got ':'\r\n") },
		{ S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"),
		  S("-ERR Protocol error: expected '$', got 'f'\r\n") },
		{ S("*1\r\n\r\n"),
		  S("-ERR Protocol error: expected '$', got ' '\r\n") },
		{ S("*1\r\n$4\r\nPINGxx"), S(CRLF) },
		{ S("*1\r\n$4\r\nPING\rx"), S(CRLF) },
		{ S("*1\r\n$4\r\nPING\n"), S(CRLF) },
		{ S("*1\r\n$4\r\nPINGx"), S(CRLF) },
		{ S("echo \"abc\r\n"), S(QUOTES) },
		{ S("echo 'abc\n"), S(QUOTES) },
		{ S("echo \"a\"b\r\n"), S(QUOTES) },
		{ S("echo 'a'b\r\n"), S(QUOTES) },
		{ S("echo \"a\\\"\r\n"), S(QUOTES) },
		{ S("echo \"a\\\r\n"), S(QUOTES) },
		/* Commands before the error are answered; what follows is not. */
		{ S("PING\r\n*x\r\nPING\r\n"), S("+PONG\r\n" MBULK) },
		{ S("PING\r\nECHO a\r\necho \"\r\n"),
		  S("+PONG\r\n$1\r\na\r\n" QUOTES) },
	};
#undef MBULK
#undef BULK
#undef CRLF
#undef QUOTES

	check_protocol_errors(*state, x, ARRAY_SIZE(x));
}

/* [resp] max_args and max_bulk_bytes, at and past the limit. */
static void test_resp_limits(void **state)
{
#define BIG_INLINE "-ERR Protocol error: too big inline request\r\n"
	static const struct exchange ok[] = {
		{ S("*3\r\n$3\r\nfoo\r\n$5\r\nabcde\r\n$0\r\n\r\n"),
		  S("-ERR unknown command 'foo', with args beginning with: "
		    "'abcde' '' \r\n") },
		{ S("foo a b\r\n"),
		  S("-ERR unknown command 'foo', with args beginning with: "
		    "'a' 'b' \r\n") },
		{ S("echo abcde\r\n"), S("$5\r\nabcde\r\n") },
		/* The decoded length counts, not the quoted one. */
		{ S("echo \"\\x41\\x42\\x43\\x44\\x45\"\r\n"), S("$5\r\nABCDE\r\n") },
	};
	static const struct exchange bad[] = {
		{ S("*4\r\n"),
		  S("-ERR Protocol error: invalid multibulk length\r\n") },
		{ S("*2\r\n$4\r\necho\r\n$6\r\n"),
		  S("-ERR Protocol error: invalid bulk length\r\n") },
		{ S("foo a b c\r\n"), S(BIG_INLINE) },
		{ S("echo abcdef\r\n"), S(BIG_INLINE) },
		{ S("echo 'abcdef'\r\n"), S(BIG_INLINE) },
	};
#undef BIG_INLINE
	struct fx *f = *state;

	f->cfg.resp_max_args = 3;
	f->cfg.resp_max_bulk_bytes = 5;
	fx_reinit(f);
	check_exchanges(f, ok, ARRAY_SIZE(ok));
	check_protocol_errors(f, bad, ARRAY_SIZE(bad));
}

/* The remembered command (a thread's last one) answers only the same
 * bytes under the same limits; DELAY and QUIT keep their effect. */
static void test_resp_memo(void **state)
{
	static const struct exchange echo[] = {
		{ S("*2\r\n$4\r\nECHO\r\n$6\r\nabcdef\r\n"),
		  S("$6\r\nabcdef\r\n") },
		{ S("*2\r\n$4\r\nECHO\r\n$6\r\nabcdef\r\n"),
		  S("$6\r\nabcdef\r\n") },
	};
	static const struct exchange too_long[] = {
		{ S("*2\r\n$4\r\nECHO\r\n$6\r\nabcdef\r\n"),
		  S("-ERR Protocol error: invalid bulk length\r\n") },
	};
	struct fx *f = *state;
	struct proto_result res;

	check_exchanges(f, echo, ARRAY_SIZE(echo));
	f->cfg.resp_max_bulk_bytes = 5;
	fx_reinit(f);
	check_protocol_errors(f, too_long, ARRAY_SIZE(too_long));
	f->cfg.resp_max_bulk_bytes = 8192;
	fx_reinit(f);
	for (int i = 0; i < 2; i++) {
		drain(f);
		assert_int_equal(feed(f, S("DELAY 7\r\n"), &res), 9);
		assert_int_equal(res.delay_ms, 7);
		assert_memory_equal(f->out.data, "+OK\r\n", 5);
		drain(f);
	}
	for (int i = 0; i < 2; i++) {
		drain(f);
		assert_int_equal(feed(f, S("QUIT\r\n"), &res), 6);
		assert_true(res.close);
		assert_memory_equal(f->out.data, "+OK\r\n", 5);
		fx_reinit(f);
	}
}

/* Without a config: max_bulk_bytes 8k, max_args 64, no delay. */
static void test_resp_init_defaults(void **state)
{
	struct fx *f = *state;
	struct proto_result res;
	char *in = malloc(9000);
	int n;

	assert_non_null(in);
	f->p->init(f->state, NULL);
	n = sprintf(in, "*2\r\n$4\r\nECHO\r\n$8192\r\n");
	memset(in + n, 'z', 8192);
	memcpy(in + n + 8192, "\r\n", 2);
	assert_int_equal(feed(f, in, (size_t)n + 8194, &res), n + 8194);
	assert_int_equal(buf_used(&f->out), 8192 + 9);
	assert_memory_equal(f->out.data, "$8192\r\nzz", 9);
	assert_int_equal(res.delay_ms, 0);

	drain(f);
	n = sprintf(in, "*64\r\n");
	for (int i = 0; i < 64; i++)
		n += sprintf(in + n, "$1\r\n%c\r\n", i ? 'a' : 'x');
	assert_int_equal(feed(f, in, (size_t)n, &res), n);
	assert_false(res.error);
	assert_int_equal(res.replies[REPLY_RESP_ERROR], 1);	/* unknown 'x' */

	drain(f);
	assert_int_equal(feed(f, S("*65\r\n"), &res), 5);
	assert_true(res.error);
	drain(f);
	assert_int_equal(feed(f, S("*2\r\n$4\r\nECHO\r\n$8193\r\n"), &res), 21);
	assert_true(res.error);
	free(in);
}

/* A command that cannot fit in the input buffer (16 KiB) is refused. */
static void test_resp_too_big(void **state)
{
	struct fx *f = *state;
	struct proto_result res;
	char *in = malloc(CONFIG_IN_BUFFER + 64);
	size_t n;

	assert_non_null(in);
	/* An inline line: need more until the buffer is full. */
	memset(in, 'a', CONFIG_IN_BUFFER);
	assert_int_equal(feed(f, in, CONFIG_IN_BUFFER - 1, &res), 0);
	assert_true(res.partial);
	assert_int_equal(buf_used(&f->out), 0);
	assert_int_equal(feed(f, in, CONFIG_IN_BUFFER, &res), CONFIG_IN_BUFFER);
	assert_out(f, S("-ERR Protocol error: too big inline request\r\n"));
	assert_true(res.close && res.error);

	/* A line of exactly 16 KiB is fine. */
	drain(f);
	memcpy(in, "PING", 4);
	memset(in + 4, ' ', CONFIG_IN_BUFFER - 5);
	in[CONFIG_IN_BUFFER - 1] = '\n';
	assert_int_equal(feed(f, in, CONFIG_IN_BUFFER, &res), CONFIG_IN_BUFFER);
	assert_out(f, S("+PONG\r\n"));

	/* The largest bulk the config allows fits. */
	drain(f);
	f->cfg.resp_max_bulk_bytes = CONFIG_IN_BUFFER - 1024;
	f->cfg.resp_max_args = 1024;
	fx_reinit(f);
	n = (size_t)sprintf(in, "*2\r\n$4\r\nECHO\r\n$%d\r\n",
			    CONFIG_IN_BUFFER - 1024);
	memset(in + n, 'b', CONFIG_IN_BUFFER - 1024);
	n += CONFIG_IN_BUFFER - 1024;
	memcpy(in + n, "\r\n", 2);
	assert_int_equal(feed(f, in, n + 2, &res), n + 2);
	assert_int_equal(res.requests, 1);

	/* Refused from its header, before the bulk arrives. */
	drain(f);
	n = (size_t)sprintf(in, "*3\r\n$4\r\nECHO\r\n$15000\r\n");
	memset(in + n, 'c', 15000);
	n += 15000;
	n += (size_t)sprintf(in + n, "\r\n$1500\r\n");
	assert_int_equal(feed(f, in, n, &res), n);
	assert_out(f, S("-ERR Protocol error: too big multibulk request\r\n"));
	assert_true(res.close && res.error);

	/* Exactly 16 KiB: 4 + (8 + 15360 + 2) + (7 + 1001 + 2). */
	drain(f);
	n = (size_t)sprintf(in, "*2\r\n$15360\r\n");
	memset(in + n, 'e', 15360);
	n += 15360;
	n += (size_t)sprintf(in + n, "\r\n$1001\r\n");
	assert_int_equal(feed(f, in, n, &res), 0);	/* waits for the bulk */
	assert_true(res.partial);
	memset(in + n, 'f', 1001);
	memcpy(in + n + 1001, "\r\n", 2);
	assert_int_equal(n + 1003, CONFIG_IN_BUFFER);
	assert_int_equal(feed(f, in, CONFIG_IN_BUFFER, &res), CONFIG_IN_BUFFER);
	assert_int_equal(res.requests, 1);
	assert_false(res.error);
	/* One byte more is refused from the header. */
	drain(f);
	memcpy(in + n - 3, "2\r\n", 3);	/* $1002 */
	assert_int_equal(feed(f, in, n, &res), n);
	assert_out(f, S("-ERR Protocol error: too big multibulk request\r\n"));
	assert_true(res.close && res.error);

	/* Refused when the buffer is full and a header is cut. */
	drain(f);
	n = (size_t)sprintf(in, "*1024\r\n$15000\r\n");
	memset(in + n, 'd', 15000);
	n += 15000;
	n += (size_t)sprintf(in + n, "\r\n");
	while (n + 7 <= CONFIG_IN_BUFFER)
		n += (size_t)sprintf(in + n, "$1\r\nx\r\n");
	memcpy(in + n, "$1\r\nx\r\n", CONFIG_IN_BUFFER - n);
	n = CONFIG_IN_BUFFER;
	assert_int_equal(feed(f, in, n - 1, &res), 0);
	assert_true(res.partial);
	assert_int_equal(feed(f, in, n, &res), n);
	assert_out(f, S("-ERR Protocol error: too big multibulk request\r\n"));
	assert_true(res.close && res.error);
	free(in);
}

/* Every strict prefix of a command: nothing consumed, partial, no output. */
static void test_resp_partial(void **state)
{
	static const struct exchange x[] = {
		{ S("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"), S("$5\r\nhello\r\n") },
		{ S("echo \"a b\"\r\n"), S("$3\r\na b\r\n") },
		{ S("*-1\r\n"), S("") },
		{ S("\r\n"), S("") },
	};
	struct fx *f = *state;
	struct proto_result res;

	for (size_t i = 0; i < ARRAY_SIZE(x); i++) {
		for (size_t k = 1; k < x[i].inlen; k++) {
			assert_int_equal(feed(f, x[i].in, k, &res), 0);
			assert_true(res.partial);
			assert_int_equal(res.requests, 0);
			assert_false(res.close || res.error);
			assert_int_equal(buf_used(&f->out), 0);
		}
		assert_int_equal(feed(f, x[i].in, x[i].inlen, &res), x[i].inlen);
		assert_false(res.partial);
		assert_out(f, x[i].out, x[i].outlen);
		drain(f);
	}
	/* Nothing at all. */
	assert_int_equal(feed(f, "", 0, &res), 0);
	assert_false(res.partial);
	/* A whole command and the start of the next. */
	assert_int_equal(feed(f, S("PING\r\n*1\r\n$4\r\nPI"), &res), 6);
	assert_true(res.partial);
	assert_int_equal(res.requests, 1);
	assert_out(f, S("+PONG\r\n"));
}

/* ---- pipelining, splitting and a full output buffer ---------------------- */

/* Appends the inline or multibulk form of one command and its reply. */
struct script {
	char in[16384];
	size_t inlen;
	char out[32768];
	size_t outlen;
	unsigned kinds[PROTO_REPLY_MAX];
	unsigned n;
};

static void script_add(struct script *s, const char *in, const char *out)
{
	size_t a = strlen(in), b = strlen(out);

	assert_true(s->inlen + a <= sizeof(s->in));
	assert_true(s->outlen + b <= sizeof(s->out));
	memcpy(s->in + s->inlen, in, a);
	memcpy(s->out + s->outlen, out, b);
	s->inlen += a;
	s->outlen += b;
	s->n++;
}

static void build_pipeline(struct script *s)
{
	static const char *const cmds[][2] = {
		{ "PING\r\n", "+PONG\r\n" },
		{ "*1\r\n$4\r\nPING\r\n", "+PONG\r\n" },
		{ "*2\r\n$4\r\nECHO\r\n$3\r\nabc\r\n", "$3\r\nabc\r\n" },
		{ "echo \"x y\"\n", "$3\r\nx y\r\n" },
		{ "COMMAND DOCS\r\n", "*0\r\n" },
		{ "COMMAND COUNT\r\n", ":0\r\n" },
		{ "SELECT 1\r\n", "-ERR DB index is out of range\r\n" },
		{ "*2\r\n$3\r\nfoo\r\n$1\r\nb\r\n",
		  "-ERR unknown command 'foo', with args beginning with: "
		  "'b' \r\n" },
		{ "CONFIG GET appendonly\r\n",
		  "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n" },
	};

	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 100; i++) {
		script_add(s, cmds[i % ARRAY_SIZE(cmds)][0],
			   cmds[i % ARRAY_SIZE(cmds)][1]);
		if (i % 7 == 3)	/* empty commands answer nothing */
			script_add(s, i % 2 ? "\r\n" : "*0\r\n", "");
	}
	s->n = count_replies(s->out, s->outlen, s->kinds);
	assert_int_equal(s->n, 100);
}

static void test_resp_pipeline(void **state)
{
	struct fx *f = *state;
	struct script *s = malloc(sizeof(*s));
	struct proto_result res;

	assert_non_null(s);
	build_pipeline(s);
	assert_int_equal(feed(f, s->in, s->inlen, &res), s->inlen);
	assert_out(f, s->out, s->outlen);
	assert_int_equal(res.requests, 100);
	for (int k = 0; k < PROTO_REPLY_MAX; k++)
		assert_int_equal(res.replies[k], s->kinds[k]);
	assert_int_equal(res.replies[REPLY_RESP_STATUS], 23);
	assert_int_equal(res.replies[REPLY_RESP_ERROR], 22);
	assert_int_equal(res.replies[REPLY_RESP_INTEGER], 11);
	assert_int_equal(res.replies[REPLY_RESP_BULK], 22);
	assert_int_equal(res.replies[REPLY_RESP_ARRAY], 22);
	assert_false(res.partial || res.close || res.error);
	free(s);
}

/* What a connection saw: all output, counters, delays. */
struct session {
	char out[32768];
	size_t outlen;
	unsigned requests;
	unsigned replies[PROTO_REPLY_MAX];
	bool close, error;
	size_t consumed;
	unsigned ndelays;
	size_t delay_at[64];	/* offset in out where the delayed reply starts */
	uint32_t delay_ms[64];
	unsigned calls;
};

/*
 * Emulates a connection: input arrives up to each cut in turn (the last cut
 * is the length); after each arrival, feed() runs until it needs more input.
 * Output is taken out after each call; cap bounds the output buffer.
 */
static void run_session(struct fx *f, const char *in, const size_t *cuts,
			size_t ncuts, size_t cap, struct session *s)
{
	size_t pos = 0;

	memset(s, 0, sizeof(*s));
	fx_out(f, cap);
	for (size_t c = 0; c < ncuts && !s->close; c++) {
		for (;;) {
			struct proto_result res;
			size_t n = feed(f, in + pos, cuts[c] - pos, &res);
			size_t got = buf_used(&f->out);

			assert_true(s->outlen + got <= sizeof(s->out));
			if (res.delay_ms) {
				assert_true(s->ndelays < 64);
				assert_true(res.delay_off < got);
				s->delay_at[s->ndelays] = s->outlen + res.delay_off;
				s->delay_ms[s->ndelays++] = res.delay_ms;
			}
			memcpy(s->out + s->outlen, buf_head(&f->out), got);
			s->outlen += got;
			drain(f);
			pos += n;
			s->requests += res.requests;
			for (int k = 0; k < PROTO_REPLY_MAX; k++)
				s->replies[k] += res.replies[k];
			s->error |= res.error;
			s->calls++;
			assert_int_equal(res.partial, !res.close && pos < cuts[c]);
			if (res.close) {
				s->close = true;
				break;
			}
			if (n == 0 && got == 0)
				break;	/* needs more input, or a reply never fits */
		}
	}
	s->consumed = pos;
}

static void assert_same_session(const struct session *a,
				const struct session *b)
{
	assert_int_equal(a->outlen, b->outlen);
	assert_memory_equal(a->out, b->out, a->outlen);
	assert_int_equal(a->requests, b->requests);
	assert_memory_equal(a->replies, b->replies, sizeof(a->replies));
	assert_int_equal(a->close, b->close);
	assert_int_equal(a->error, b->error);
	assert_int_equal(a->ndelays, b->ndelays);
	assert_memory_equal(a->delay_at, b->delay_at,
			    a->ndelays * sizeof(a->delay_at[0]));
	assert_memory_equal(a->delay_ms, b->delay_ms,
			    a->ndelays * sizeof(a->delay_ms[0]));
}

static const struct {
	const char *in;
	size_t len;
} split_inputs[] = {
	{ S("PING\r\nECHO hello\r\n*2\r\n$4\r\nECHO\r\n$5\r\na\0\r\nb\r\n"
	    "\r\n*0\r\n*-1\r\nfoo 'a b' \"c\\x41\"\r\nCONFIG GET save\r\n"
	    "DELAY 5\r\nPING x\nDELAY 0\r\n*1\r\n$7\r\nCOMMAND\r\n") },
	{ S("PING\r\nDELAY 20\r\nDELAY 30\r\nQUIT\r\nPING\r\n") },
	{ S("PING\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabcd\r\n") },
	{ S("ECHO x\r\n*1\r\n$4\r\nPING\r\n*12345678901234567890123\r\n") },
	{ S("ECHO x\r\n*1\r\n:4\r\n") },
	{ S("echo \"a\\\"b\" 'c\r\n") },
	{ S("HELLO 2 SETNAME x\r\nSELECT 0\r\n*2\r\n$1\r\nx\r\n$-1\r\n") },
};

static void test_resp_split_every_byte(void **state)
{
	struct fx *f = *state;
	struct session *whole = malloc(sizeof(*whole));
	struct session *split = malloc(sizeof(*split));

	assert_non_null(whole);
	assert_non_null(split);
	for (size_t i = 0; i < ARRAY_SIZE(split_inputs); i++) {
		const char *in = split_inputs[i].in;
		size_t len = split_inputs[i].len;
		size_t cuts[512];

		assert_true(len < ARRAY_SIZE(cuts));
		run_session(f, in, &len, 1, BIG_OUT, whole);
		assert_true(whole->outlen > 0);
		/* In two pieces, at every boundary. */
		for (size_t s = 1; s < len; s++) {
			cuts[0] = s;
			cuts[1] = len;
			run_session(f, in, cuts, 2, BIG_OUT, split);
			assert_same_session(whole, split);
		}
		/* One byte at a time. */
		for (size_t s = 0; s < len; s++)
			cuts[s] = s + 1;
		run_session(f, in, cuts, len, BIG_OUT, split);
		assert_same_session(whole, split);
	}
	/* The sessions are what they should be. */
	run_session(f, split_inputs[1].in, &split_inputs[1].len, 1, BIG_OUT,
		    whole);
	assert_int_equal(whole->outlen, 22);
	assert_memory_equal(whole->out, "+PONG\r\n+OK\r\n+OK\r\n+OK\r\n", 22);
	assert_int_equal(whole->ndelays, 2);
	assert_int_equal(whole->delay_at[0], 7);
	assert_int_equal(whole->delay_ms[0], 20);
	assert_int_equal(whole->delay_at[1], 12);
	assert_int_equal(whole->delay_ms[1], 30);
	assert_true(whole->close);
	assert_false(whole->error);
	assert_int_equal(whole->requests, 4);
	free(whole);
	free(split);
}

/* Output buffers of every size from 1 byte give the same session. */
static void test_resp_small_out(void **state)
{
	struct fx *f = *state;
	struct session *whole = malloc(sizeof(*whole));
	struct session *small = malloc(sizeof(*small));
	size_t len = split_inputs[0].len;

	assert_non_null(whole);
	assert_non_null(small);
	run_session(f, split_inputs[0].in, &len, 1, BIG_OUT, whole);
	/* Its largest reply is the unknown-command error, 67 bytes. */
	for (size_t cap = 67; cap < 300; cap++) {
		run_session(f, split_inputs[0].in, &len, 1, cap, small);
		assert_same_session(whole, small);
		assert_true(small->calls >= whole->calls);
	}
	/* One byte short: that command is never answered. */
	run_session(f, split_inputs[0].in, &len, 1, 66, small);
	assert_true(small->consumed < len);
	assert_true(small->outlen < whole->outlen);
	assert_memory_equal(small->out, whole->out, small->outlen);
	free(whole);
	free(small);
}

/* A reply that does not fit: stop before its command, write nothing. */
static void test_resp_out_full(void **state)
{
	struct fx *f = *state;
	struct proto_result res;

	fx_out(f, 10);
	assert_int_equal(feed(f, S("PING\r\nPING\r\n"), &res), 6);
	assert_out(f, S("+PONG\r\n"));
	assert_int_equal(res.requests, 1);
	assert_true(res.partial);
	/* 3 bytes left: nothing consumed, nothing written past len. */
	assert_int_equal(feed(f, S("PING\r\n"), &res), 0);
	assert_int_equal(res.requests, 0);
	assert_int_equal(res.replies[REPLY_RESP_STATUS], 0);
	assert_true(res.partial);
	assert_out(f, S("+PONG\r\n"));
	/* Sent in part: room at the end only after compacting. */
	buf_consume(&f->out, 5);
	assert_int_equal(feed(f, S("PING\r\n"), &res), 0);
	buf_compact(&f->out);
	memset(f->out.data + f->out.len, '#', f->out.cap - f->out.len);
	assert_int_equal(feed(f, S("PING\r\n"), &res), 6);
	assert_out(f, S("\r\n+PONG\r\n"));

	/* An exact fit. */
	fx_out(f, 7);
	assert_int_equal(feed(f, S("PING\r\n"), &res), 6);
	assert_out(f, S("+PONG\r\n"));

	/* A reply larger than the whole buffer never goes. */
	fx_out(f, 10);
	assert_int_equal(feed(f, S("ECHO hello\r\n"), &res), 0);	/* 11 */
	assert_int_equal(buf_used(&f->out), 0);
	assert_true(res.partial);

	/* A protocol error waits for room too. */
	fx_out(f, 50);
	assert_int_equal(feed(f, S("PING\r\n*x\r\n"), &res), 6);
	assert_false(res.close);
	assert_false(res.error);
	assert_int_equal(feed(f, S("*x\r\n"), &res), 0);
	assert_false(res.close);
	assert_int_equal(res.replies[REPLY_RESP_ERROR], 0);
	drain(f);
	assert_int_equal(feed(f, S("*x\r\n"), &res), 4);
	assert_out(f, S("-ERR Protocol error: invalid multibulk length\r\n"));
	assert_true(res.close && res.error);
}

/* The state holds only the configuration: instances do not interfere. */
static void test_resp_states_independent(void **state)
{
	struct fx *f = *state;
	struct proto_result res;
	void *other = malloc(f->p->state_size);
	struct config cfg;

	assert_non_null(other);
	config_defaults(&cfg);
	cfg.resp_max_args = 1;
	f->p->init(other, &cfg);
	assert_int_equal(f->p->feed(other, "ECHO a\r\n", 8, &f->out,
				    &(struct proto_result){ 0 }), 8);
	assert_out(f, S("-ERR Protocol error: too big inline request\r\n"));
	drain(f);
	assert_int_equal(feed(f, S("ECHO a\r\n"), &res), 8);
	assert_out(f, S("$1\r\na\r\n"));
	free(other);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resp_registered),
		T(test_resp_ping),
		T(test_resp_echo),
		T(test_resp_quit),
		T(test_resp_delay),
		T(test_resp_delay_errors),
		T(test_resp_configured_delay),
		T(test_resp_client_startup),
		T(test_resp_hello),
		T(test_resp_subcommands),
		T(test_resp_unknown_command),
		T(test_resp_unknown_command_truncated),
		T(test_resp_inline),
		T(test_resp_protocol_errors),
		T(test_resp_limits),
		T(test_resp_memo),
		T(test_resp_init_defaults),
		T(test_resp_too_big),
		T(test_resp_partial),
		T(test_resp_pipeline),
		T(test_resp_split_every_byte),
		T(test_resp_small_out),
		T(test_resp_out_full),
		T(test_resp_states_independent),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
