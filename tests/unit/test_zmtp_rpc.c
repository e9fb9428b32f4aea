/* Unit tests for protocol = zmtp, the RPC (daemon/proto/zmtp_rpc.c) through
 * the protocol: every method and error reply byte for byte, REQ's
 * delimiter, delays, and whole sessions split at every byte, through small
 * output buffers, a 1 MiB argument through 4 KiB. */
#include "zmtp_fixture.h"

/* ---- requests and replies --------------------------------------------------- */

static void test_zmtp_rpc_dealer(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };
	char big[300];

	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	MSG(&in, "ping");
	MSG(&want, "OK");
	MSG(&in, "echo");
	MSG(&want, "OK");
	MSG(&in, "echo", "a", "", "bc");
	MSG(&want, "OK", "a", "", "bc");
	MSG(&in, "echo", big);		/* a long frame comes back long */
	MSG(&want, "OK", big);
	MSG(&in, "delay", "0");
	MSG(&want, "OK");
	expect(f, "DEALER", &in, &want, 5, 0);
	/* Exact bytes of the first replies. */
	assert_memory_equal(want.p, "\x00\x02OK\x00\x02OK\x01\x02OK\x01\x01"
			    "a\x01\x00\x00\x02" "bc\x01\x02OK\x02\0\0\0\0\0\0"
			    "\x01\x2b", 33);
	free(in.p);
	free(want.p);
}

/* REQ: the empty delimiter comes first and comes back. */
static void test_zmtp_rpc_req(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };

	MSG(&in, "", "ping");
	MSG(&want, "", "OK");
	MSG(&in, "", "echo", "x", "y");
	MSG(&want, "", "OK", "x", "y");
	MSG(&in, "", "echo");
	MSG(&want, "", "OK");
	MSG(&in, "", "nope");
	MSG(&want, "", "ERR", "unknown-method",
	    "no method \"nope\" (expected one of: ping, echo, delay)");
	MSG(&in, "");		/* the delimiter alone */
	MSG(&want, "", "ERR", "no-method",
	    "a request is [method, argument...] after an optional empty "
	    "delimiter: no method frame came");
	MSG(&in, "", "");
	MSG(&want, "", "ERR", "unknown-method",
	    "no method \"\" (expected one of: ping, echo, delay)");
	expect(f, "REQ", &in, &want, 3, 3);
	assert_memory_equal(want.p, "\x01\x00\x00\x02OK", 6);
	free(in.p);
	free(want.p);
}

/* Error replies: every code, exact text. */
static void test_zmtp_rpc_errors(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };
	char name[41];
	static const char *const bad_delays[] = {
		"60001", "-1", "", "1.5", " 5", "123456789", "0x10",
	};

	MSG(&in, "PING");
	MSG(&want, "ERR", "unknown-method",
	    "no method \"PING\" (expected one of: ping, echo, delay)");
	MSG(&in, "ping", "x");
	MSG(&want, "ERR", "bad-arity", "ping takes no arguments, got 1");
	MSG(&in, "delay");
	MSG(&want, "ERR", "bad-arity",
	    "delay takes one argument (milliseconds), got 0");
	MSG(&in, "delay", "1", "2");
	MSG(&want, "ERR", "bad-arity",
	    "delay takes one argument (milliseconds), got 2");
	for (size_t i = 0; i < ARRAY_SIZE(bad_delays); i++) {
		MSG(&in, "delay", bad_delays[i]);
		MSG(&want, "ERR", "bad-argument",
		    "delay takes milliseconds from 0 to 60000");
	}
	/* A long name is cut at 32 bytes, unprintable bytes are '?'. */
	memset(name, 'n', 40);
	name[40] = '\0';
	name[1] = '\t';
	MSG(&in, name);
	MSG(&want, "ERR", "unknown-method",
	    "no method \"n?nnnnnnnnnnnnnnnnnnnnnnnnnnnnnn...\" (expected one "
	    "of: ping, echo, delay)");
	expect(f, "DEALER", &in, &want, 0, 5 + ARRAY_SIZE(bad_delays));
	free(in.p);
	free(want.p);
}

/* The largest replies fit ZMTP_RESERVE: a cut name behind a delimiter. */
static void test_zmtp_reserve_bound(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 };
	struct proto_result res;
	char name[200];

	memset(name, 0x01, sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	MSG(&in, "", name);
	handshake(f, "REQ");
	assert_int_equal(feed(f, in.p, in.len, &res), in.len);
	assert_true(buf_used(&f->out) <= ZMTP_RESERVE);
	assert_true(buf_used(&f->out) > 100);
	drain(f);
	in.len = 0;
	MSG(&in, "");
	assert_int_equal(feed(f, in.p, in.len, &res), in.len);
	assert_true(buf_used(&f->out) <= ZMTP_RESERVE);
	free(in.p);
}

/* delay N: the reply is held N ms; feed() stops after it.  [server] delay
 * holds every reply; delay's own argument wins. */
static void test_zmtp_delay(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };
	struct proto_result res;

	MSG(&in, "ping");
	MSG(&in, "", "delay", "50");
	size_t first = in.len;
	MSG(&in, "ping");
	handshake(f, "DEALER");
	assert_int_equal(feed(f, in.p, in.len, &res), first);
	MSG(&want, "OK");
	MSG(&want, "", "OK");
	assert_out(f, want.p, want.len);
	assert_int_equal(res.requests, 2);
	assert_int_equal(res.delay_ms, 50);
	assert_int_equal(res.delay_off, 4);
	assert_true(res.partial);	/* the ping behind it waits */

	f->cfg.delay_ms = 7;
	handshake(f, "DEALER");
	assert_int_equal(feed(f, in.p, in.len, &res), 6);
	assert_int_equal(res.delay_ms, 7);
	assert_int_equal(res.delay_off, 0);
	drain(f);
	assert_int_equal(feed(f, in.p + 6, in.len - 6, &res), first - 6);
	assert_int_equal(res.delay_ms, 50);
	MSG(&in, "nope");
	drain(f);
	assert_int_equal(feed(f, in.p + first, in.len - first, &res), 6);
	assert_int_equal(res.delay_ms, 7);	/* errors too */
	f->cfg.delay_ms = 0;
	free(in.p);
	free(want.p);
}

/* ---- sessions: split input, small output ------------------------------------ */

struct session {
	struct bytes out;
	unsigned requests;
	unsigned replies[PROTO_REPLY_MAX];
	bool close, error;
	size_t consumed;
	unsigned ndelays;
	size_t delay_at[16];
	uint32_t delay_ms[16];
	unsigned calls;
};

/*
 * A connection: input arrives up to each cut in turn (the last cut is the
 * length); after each arrival, feed() runs until it needs more input.
 * Output is taken out after each call; cap bounds the output buffer.
 */
static void run_session(struct fx *f, const unsigned char *in,
			const size_t *cuts, size_t ncuts, size_t cap,
			struct session *s)
{
	size_t pos = 0;

	s->out.len = 0;
	s->requests = s->ndelays = s->calls = 0;
	memset(s->replies, 0, sizeof(s->replies));
	s->close = s->error = false;
	fx_out(f, cap);
	fx_reinit(f);
	for (size_t c = 0; c < ncuts && !s->close; c++) {
		for (;;) {
			struct proto_result res;
			size_t n = feed(f, in + pos, cuts[c] - pos, &res);
			size_t got = buf_used(&f->out);

			if (res.delay_ms) {
				assert_true(s->ndelays < 16);
				assert_true(res.delay_off < got);
				s->delay_at[s->ndelays] = s->out.len + res.delay_off;
				s->delay_ms[s->ndelays++] = res.delay_ms;
			}
			put(&s->out, buf_head(&f->out), got);
			drain(f);
			pos += n;
			s->requests += res.requests;
			for (int k = 0; k < PROTO_REPLY_MAX; k++)
				s->replies[k] += res.replies[k];
			s->error |= res.error;
			s->calls++;
			if (pos < cuts[c] && !res.close)
				assert_true(res.partial);
			if (res.close) {
				s->close = true;
				break;
			}
			if (n == 0 && got == 0)
				break;
		}
	}
	s->consumed = pos;
}

static void assert_same_session(const struct session *a,
				const struct session *b)
{
	assert_int_equal(a->out.len, b->out.len);
	assert_memory_equal(a->out.p, b->out.p, a->out.len);
	assert_int_equal(a->requests, b->requests);
	assert_memory_equal(a->replies, b->replies, sizeof(a->replies));
	assert_int_equal(a->close, b->close);
	assert_int_equal(a->error, b->error);
	if (!a->close)	/* a close takes all that came in that call */
		assert_int_equal(a->consumed, b->consumed);
	assert_int_equal(a->ndelays, b->ndelays);
	assert_memory_equal(a->delay_at, b->delay_at,
			    a->ndelays * sizeof(a->delay_at[0]));
	assert_memory_equal(a->delay_ms, b->delay_ms,
			    a->ndelays * sizeof(a->delay_ms[0]));
}

/* Sessions: a REQ's, a 3.0 DEALER's, and one that ends in an error. */
static void build_session(struct bytes *b, int which)
{
	char big[700];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	b->len = 0;
	switch (which) {
	case 0:
		put_hello(b, "REQ");
		MSG(b, "", "ping");
		MSG(b, "", "echo", "hello", "", big);
		MSG(b, "", "delay", "5");
		put_cmd(b, "PING", "\x00\x0a" "ab", 4);
		MSG(b, "", "nope", "x");
		MSG(b, "", "delay", "0");
		MSG(b, "", "ping", "x");
		break;
	case 1:
		put_greeting(b, 3, 0, "NULL", 0);
		put_ready(b, "DEALER", true);
		MSG(b, "echo", big, big);
		MSG(b, "delay", "7");
		MSG(b, "ping");
		break;
	default:
		put_hello(b, "DEALER");
		MSG(b, "echo", "a");
		MSG(b, "ping");
		put(b, "\x10\x00", 2);	/* reserved flag */
		MSG(b, "ping");
		break;
	}
}

static void test_zmtp_split_every_byte(void **state)
{
	struct fx *f = *state;
	struct session whole = { 0 }, split = { 0 };
	struct bytes in = { 0 };
	size_t *cuts;

	for (int which = 0; which < 3; which++) {
		build_session(&in, which);
		cuts = malloc((in.len + 1) * sizeof(*cuts));
		assert_non_null(cuts);
		run_session(f, in.p, &in.len, 1, BIG_OUT, &whole);
		assert_true(whole.out.len > 94);
		for (size_t s = 1; s < in.len; s++) {
			cuts[0] = s;
			cuts[1] = in.len;
			run_session(f, in.p, cuts, 2, BIG_OUT, &split);
			assert_same_session(&whole, &split);
		}
		for (size_t s = 0; s < in.len; s++)
			cuts[s] = s + 1;
		run_session(f, in.p, cuts, in.len, BIG_OUT, &split);
		assert_same_session(&whole, &split);
		free(cuts);
		if (which == 0) {
			assert_int_equal(whole.requests, 6);
			assert_int_equal(whole.replies[REPLY_ZMTP_OK], 4);
			assert_int_equal(whole.replies[REPLY_ZMTP_ERROR], 2);
			assert_int_equal(whole.ndelays, 1);
			assert_int_equal(whole.delay_ms[0], 5);
			assert_false(whole.close || whole.error);
		} else if (which == 1) {
			assert_int_equal(whole.requests, 3);
			assert_int_equal(whole.ndelays, 1);
			assert_int_equal(whole.delay_ms[0], 7);
		} else {
			assert_int_equal(whole.requests, 2);
			assert_true(whole.close && whole.error);
		}
	}
	free(in.p);
	free(whole.out.p);
	free(split.out.p);
}

/* Output buffers from ZMTP_RESERVE + 1 up give the same session: echo's
 * arguments stream through whatever room there is. */
static void test_zmtp_small_out(void **state)
{
	struct fx *f = *state;
	struct session whole = { 0 }, small = { 0 };
	struct bytes in = { 0 };

	for (int which = 0; which < 3; which++) {
		build_session(&in, which);
		run_session(f, in.p, &in.len, 1, BIG_OUT, &whole);
		for (size_t cap = ZMTP_RESERVE + 1; cap < ZMTP_RESERVE + 80;
		     cap++) {
			run_session(f, in.p, &in.len, 1, cap, &small);
			assert_same_session(&whole, &small);
		}
	}
	/* Below the reserve nothing moves (the connection's buffer is 64k). */
	run_session(f, in.p, &in.len, 1, ZMTP_RESERVE - 1, &small);
	assert_int_equal(small.consumed, 0);
	free(in.p);
	free(whole.out.p);
	free(small.out.p);
}

/* A 1 MiB argument through a 4 KiB output buffer, arriving 16 KiB at a
 * time (the connection's input buffer): the reply is the argument. */
static void test_zmtp_echo_streams(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };
	struct session s = { 0 };
	size_t arg = 1024 * 1024;
	unsigned char *p = malloc(arg);
	size_t cuts[200], n = 0;

	assert_non_null(p);
	for (size_t i = 0; i < arg; i++)
		p[i] = (unsigned char)(i * 7 + i / 251);
	put_hello(&in, "DEALER");
	put_frame(&in, true, "echo", 4);
	put_frame(&in, false, p, arg);
	MSG(&in, "ping");
	put_server_hello(&want);
	put_frame(&want, true, "OK", 2);
	put_frame(&want, false, p, arg);
	MSG(&want, "OK");
	for (size_t c = 16384; c < in.len; c += 16384)
		cuts[n++] = c;
	cuts[n++] = in.len;
	assert_true(n < ARRAY_SIZE(cuts));
	run_session(f, in.p, cuts, n, 4096, &s);
	assert_int_equal(s.out.len, want.len);
	assert_memory_equal(s.out.p, want.p, want.len);
	assert_int_equal(s.requests, 2);
	assert_false(s.close || s.error);
	assert_true(s.calls > want.len / 4096);
	free(p);
	free(in.p);
	free(want.p);
	free(s.out.p);
}

/* 200 requests in one feed: all answered in order, counted. */
static void test_zmtp_pipeline(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };

	for (int i = 0; i < 200; i++) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", i);
		if (i % 5 == 4) {
			MSG(&in, "ping", arg);
			MSG(&want, "ERR", "bad-arity",
			    "ping takes no arguments, got 1");
		} else {
			MSG(&in, "echo", arg);
			MSG(&want, "OK", arg);
		}
	}
	expect(f, "DEALER", &in, &want, 160, 40);
	free(in.p);
	free(want.p);
}

/* Without a config: max_frame 1 MiB, max_frames 64, no delay. */
static void test_zmtp_no_config(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 };
	struct proto_result res;

	f->p->init(f->state, NULL);
	put_hello(&in, "DEALER");
	for (int i = 0; i < 64; i++)
		put_frame(&in, i < 63, i ? "" : "echo", i ? 0 : 4);
	drain(f);
	assert_int_equal(feed(f, in.p, in.len, &res), in.len);
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.delay_ms, 0);
	in.len = 0;
	for (int i = 0; i < 65; i++)
		put_frame(&in, i < 64, i ? "" : "echo", i ? 0 : 4);
	assert_int_equal(feed(f, in.p, in.len, &res), in.len);
	assert_true(res.close && res.error);
	free(in.p);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_zmtp_rpc_dealer),
		T(test_zmtp_rpc_req),
		T(test_zmtp_rpc_errors),
		T(test_zmtp_reserve_bound),
		T(test_zmtp_delay),
		T(test_zmtp_split_every_byte),
		T(test_zmtp_small_out),
		T(test_zmtp_echo_streams),
		T(test_zmtp_pipeline),
		T(test_zmtp_no_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
