/* Unit tests for protocol = zmtp, the wire (daemon/proto/zmtp.c): framing,
 * the greeting and NULL handshake (libzmq 4.3.4's own bytes: a DEALER's and
 * a REQ's READY as it sends them), every refusal with its exact bytes,
 * commands, limits and the partial flag.  The RPC and whole sessions are
 * test_zmtp_rpc.c's. */
#include "zmtp_fixture.h"

/* ---- registration and framing ---------------------------------------------- */

static void test_zmtp_registered(void **state)
{
	const struct evd_proto *p = proto_find("zmtp");

	(void)state;
	assert_non_null(p);
	assert_string_equal(p->name, "zmtp");
	assert_non_null(p->summary);
	assert_non_null(p->init);
	assert_non_null(p->feed);
	assert_null(p->finish);
	assert_null(proto_find("ZMTP"));
	assert_string_equal(proto_names(), "echo, http, resp, zmtp");
}

static void test_zmtp_header(void **state)
{
	unsigned char h[9];

	(void)state;
	assert_int_equal(zmtp_header_put(h, 0, 0), 2);
	assert_memory_equal(h, "\x00\x00", 2);
	assert_int_equal(zmtp_header_put(h, ZMTP_MORE, 255), 2);
	assert_memory_equal(h, "\x01\xff", 2);
	assert_int_equal(zmtp_header_put(h, ZMTP_MORE, 256), 9);
	assert_memory_equal(h, "\x03\x00\x00\x00\x00\x00\x00\x01\x00", 9);
	assert_int_equal(zmtp_header_put(h, 0, 0x0102030405ull), 9);
	assert_memory_equal(h, "\x02\x00\x00\x00\x01\x02\x03\x04\x05", 9);
	assert_int_equal(zmtp_header_len(255), 2);
	assert_int_equal(zmtp_header_len(256), 9);
}

/* ---- the handshake ---------------------------------------------------------- */

/* libzmq's order: its 10-octet signature, and only after evd's signature
 * its major version, then the rest; then READY. */
static void test_zmtp_handshake_libzmq_order(void **state)
{
	struct fx *f = *state;
	struct bytes b = { 0 };
	struct proto_result res;

	put_hello(&b, "DEALER");
	/* The signature: evd answers with its whole greeting. */
	assert_int_equal(feed(f, b.p, 10, &res), 10);
	assert_out(f, server_greeting, 64);
	assert_true(res.partial);
	assert_false(res.close || res.error);
	drain(f);
	/* The major version alone: nothing yet. */
	assert_int_equal(feed(f, b.p + 10, 1, &res), 0);
	assert_out(f, "", 0);
	assert_true(res.partial);
	/* The rest of the greeting: still waiting for READY. */
	assert_int_equal(feed(f, b.p + 10, 54, &res), 54);
	assert_out(f, "", 0);
	assert_true(res.partial);
	/* READY (41 octets of body, as libzmq's DEALER sends it). */
	assert_int_equal(b.len, 64 + 43);
	assert_memory_equal(b.p + 64, "\x04\x29\x05READY", 8);
	assert_int_equal(feed(f, b.p + 64, 43, &res), 43);
	assert_out(f, server_ready, 30);
	assert_false(res.partial || res.close || res.error);
	assert_int_equal(res.requests, 0);
	free(b.p);
}

/* Everything at once, a request behind the READY: one feed answers all. */
static void test_zmtp_handshake_at_once(void **state)
{
	struct fx *f = *state;
	struct bytes b = { 0 }, want = { 0 };
	struct proto_result res;

	put_hello(&b, "REQ");
	MSG(&b, "", "ping");
	put_server_hello(&want);
	MSG(&want, "", "OK");
	assert_int_equal(feed(f, b.p, b.len, &res), b.len);
	assert_out(f, want.p, want.len);
	assert_int_equal(res.requests, 1);
	assert_int_equal(res.replies[REPLY_ZMTP_OK], 1);
	assert_false(res.partial || res.close || res.error);
	free(b.p);
	free(want.p);
}

/* Peers evd pairs with, and READYs that are fine: case-insensitive names
 * and values, no Socket-Type, unknown properties, a non-empty Identity. */
static void test_zmtp_ready_accepted(void **state)
{
	struct fx *f = *state;
	static const char *const types[] = { "REQ", "DEALER", "ROUTER",
					     "dealer", "Req" };

	for (size_t i = 0; i < ARRAY_SIZE(types) + 3; i++) {
		struct bytes b = { 0 }, m = { 0 };
		struct proto_result res;

		put_greeting(&b, 3, 1, "NULL", 0);
		if (i < ARRAY_SIZE(types)) {
			put_ready(&b, types[i], i % 2);
		} else if (i == ARRAY_SIZE(types)) {
			put_cmd(&b, "READY", "", 0);	/* no properties */
		} else if (i == ARRAY_SIZE(types) + 1) {
			put_prop(&m, "socket-type", "DEALER", 6);
			put_prop(&m, "X-Hello", "", 0);
			put_prop(&m, "Resource", "a/b", 3);
			put_prop(&m, "IDENTITY", "me", 2);
			put_cmd(&b, "ready", m.p, m.len);
		} else {
			char id[255];
			memset(id, 'i', sizeof(id));
			put_prop(&m, "Identity", id, sizeof(id));
			put_prop(&m, "Socket-Type", "DEALER", 6);
			put_cmd(&b, "READY", m.p, m.len);
		}
		fx_reinit(f);
		drain(f);
		assert_int_equal(feed(f, b.p, b.len, &res), b.len);
		assert_int_equal(buf_used(&f->out), 94);
		assert_memory_equal(buf_head(&f->out) + 64, server_ready, 30);
		assert_false(res.partial || res.close || res.error);
		free(b.p);
		free(m.p);
	}
}

/* A 3.0 peer gets evd's READY right after the greeting, before its own
 * READY; PING is no 3.0 command: ignored.  A higher version is 3.1. */
static void test_zmtp_versions(void **state)
{
	struct fx *f = *state;
	struct bytes b = { 0 }, want = { 0 };
	struct proto_result res;

	put_greeting(&b, 3, 0, "NULL", 0);
	fx_reinit(f);
	assert_int_equal(feed(f, b.p, 64, &res), 64);
	put_server_hello(&want);
	assert_out(f, want.p, want.len);
	assert_true(res.partial);
	drain(f);
	b.len = 0;
	put_ready(&b, "DEALER", true);
	put_cmd(&b, "PING", "\x00\x0a" "ctx", 5);
	MSG(&b, "ping");
	assert_int_equal(feed(f, b.p, b.len, &res), b.len);
	want.len = 0;
	MSG(&want, "OK");
	assert_out(f, want.p, want.len);
	assert_false(res.partial || res.close || res.error);

	/* 4.7 talks to evd: evd answers as 3.1 (READY after theirs, PONG). */
	b.len = 0;
	put_greeting(&b, 4, 7, "NULL", 0);
	memset(b.p + 33, 0xaa, 31);	/* a later version's filler */
	put_ready(&b, "DEALER", true);
	put_cmd(&b, "PING", "\x00\x00", 2);
	fx_reinit(f);
	drain(f);
	assert_int_equal(feed(f, b.p, b.len, &res), b.len);
	want.len = 0;
	put_server_hello(&want);
	put(&want, "\x04\x05\x04PONG", 7);
	assert_out(f, want.p, want.len);
	assert_false(res.close || res.error);
	free(b.p);
	free(want.p);
}

/* ---- bad handshakes: exact outcomes ---------------------------------------- */

struct bad {
	const char *what;
	struct bytes in;
	struct bytes out;	/* everything evd writes */
	bool error;		/* counted (the peer's own ERROR is not) */
	size_t consumed;	/* 0: all of it */
};

/* Each input closes the connection with exactly its output. */
static void check_bad(struct fx *f, struct bad *x, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct proto_result res;
		size_t want = x[i].consumed ? x[i].consumed : x[i].in.len;

		fx_reinit(f);
		drain(f);
		if (feed(f, x[i].in.p, x[i].in.len, &res) != want)
			fail_msg("%s: consumed", x[i].what);
		if (!res.close || res.error != x[i].error)
			fail_msg("%s: close %d error %d", x[i].what, res.close,
				 res.error);
		if (buf_used(&f->out) != x[i].out.len ||
		    (x[i].out.len &&
		     memcmp(buf_head(&f->out), x[i].out.p, x[i].out.len))) {
			dump("got", buf_head(&f->out), buf_used(&f->out));
			dump("expected", x[i].out.p, x[i].out.len);
			fail_msg("%s: output", x[i].what);
		}
		assert_int_equal(res.requests, 0);
		assert_false(res.partial);
		free(x[i].in.p);
		free(x[i].out.p);
	}
}

/* Before evd's greeting: no output at all. */
static void test_zmtp_bad_signature(void **state)
{
	struct bad x[4] = {
		{ .what = "HTTP", .error = true },
		{ .what = "ZMTP 1.0 (no signature)", .error = true },
		{ .what = "octet 9 not 0x7f", .error = true },
		{ .what = "octet 9 0x7e", .error = true },
	};

	put(&x[0].in, "GET / HTTP/1.1\r\n", 16);
	put(&x[1].in, "\x01\x00", 2);
	put(&x[2].in, "\xff\0\0\0\0\0\0\0\x01\x01", 10);
	put(&x[3].in, "\xff\0\0\0\0\0\0\0\x01\x7e\x03", 11);
	check_bad(*state, x, ARRAY_SIZE(x));
}

/* The rest of the greeting: ERROR with a reason, then close. */
static void test_zmtp_bad_greeting(void **state)
{
	struct bad x[7] = {
		{ .what = "ZMTP 2.0", .error = true },
		{ .what = "PLAIN", .error = true },
		{ .what = "CURVE", .error = true },
		{ .what = "null", .error = true },
		{ .what = "as-server 1", .error = true },
		{ .what = "filler", .error = true },
		{ .what = "3.0 filler", .error = true },
	};
	static const char *const reasons[] = {
		NULL, "unsupported-mechanism", "unsupported-mechanism",
		"unsupported-mechanism", "as-server-must-be-0",
		"malformed-greeting", "malformed-greeting",
	};

	/* 2.0: octet 10 is 1; closed as soon as it shows. */
	put(&x[0].in, "\xff\0\0\0\0\0\0\0\x01\x7f\x01\x05", 12);
	put(&x[0].out, server_greeting, 64);
	put_greeting(&x[1].in, 3, 1, "PLAIN", 0);
	put_greeting(&x[2].in, 3, 1, "CURVE", 1);
	put_greeting(&x[3].in, 3, 1, "null", 0);
	put_greeting(&x[4].in, 3, 1, "NULL", 1);
	put_greeting(&x[5].in, 3, 1, "NULL", 0);
	x[5].in.p[63] = 1;
	put_greeting(&x[6].in, 3, 0, "NULL", 0);
	x[6].in.p[40] = 1;
	for (size_t i = 1; i < ARRAY_SIZE(x); i++) {
		put_ready(&x[i].in, "DEALER", true);	/* never read */
		put(&x[i].out, server_greeting, 64);
		put_error_cmd(&x[i].out, reasons[i]);
	}
	/* Exact bytes of one ERROR: flags, size, name, reason. */
	assert_memory_equal(x[1].out.p + 64, "\x04\x1c\x05" "ERROR\x15"
			    "unsupported-mechanism", 30);
	check_bad(*state, x, ARRAY_SIZE(x));
}

static void put_ready_props(struct bytes *b, const void *props, size_t n)
{
	put_cmd(b, "READY", props, n);
}

/* After the greeting, before READY: ERROR with a reason, then close. */
static void test_zmtp_bad_ready(void **state)
{
	static const char *const refused_types[] = {
		"PUB", "SUB", "XPUB", "XSUB", "PUSH", "PULL", "PAIR", "REP",
		"CLIENT", "SERVER", "RADIO", "DISH", "STREAM", "", "DEALERS",
	};
	enum { NT = ARRAY_SIZE(refused_types), NOTHER = 12 };
	struct bad x[NT + NOTHER] = { 0 };
	const char *reason[NT + NOTHER];
	char id[256];

	memset(id, 'i', sizeof(id));
	for (size_t i = 0; i < NT; i++) {
		x[i] = (struct bad){ .what = refused_types[i], .error = true };
		put_greeting(&x[i].in, 3, 1, "NULL", 0);
		put_ready(&x[i].in, refused_types[i], false);
		reason[i] = "incompatible-socket-type";
	}
	struct bad *o = x + NT;
	for (size_t i = 0; i < NOTHER; i++) {
		o[i] = (struct bad){ .what = "other", .error = true };
		put_greeting(&o[i].in, 3, 1, "NULL", 0);
		reason[NT + i] = "malformed-READY";
	}
	put_ready_props(&o[0].in, "\x00\x00\x00\x00\x00", 5);	/* empty name */
	put_ready_props(&o[1].in, "\x02" "a b\x00\x00\x00\x00", 8);
	put_ready_props(&o[2].in, "\x01" "a\x00\x00\x00\x05" "abcd", 10);
	put_ready_props(&o[3].in, "\x01" "a\x80\x00\x00\x00", 6);
	put_ready_props(&o[4].in, "\x01" "a\x00\x00", 4);	/* short size */
	put_prop(&o[5].out, "Identity", "\x00me", 3);	/* reserved first 0 */
	put_ready_props(&o[5].in, o[5].out.p, o[5].out.len);
	o[5].out.len = 0;
	put_prop(&o[6].out, "Identity", id, 256);
	put_ready_props(&o[6].in, o[6].out.p, o[6].out.len);
	o[6].out.len = 0;
	/* Not READY: another command, a message, ERROR's cousin. */
	put_cmd(&o[7].in, "PING", "\0\0", 2);
	reason[NT + 7] = "expected-READY";
	MSG(&o[8].in, "ping");
	reason[NT + 8] = "expected-READY";
	put(&o[9].in, "\x04\x05\x00READY", 7);	/* name length 0 */
	reason[NT + 9] = "malformed-frame";
	put(&o[10].in, "\x05\x00", 2);	/* a command with MORE */
	reason[NT + 10] = "malformed-frame";
	put(&o[11].in, "\x06\x00\x00\x00\x00\x00\x00\x40\x00", 9);
	reason[NT + 11] = "command-too-large";
	for (size_t i = 0; i < ARRAY_SIZE(x); i++) {
		put(&x[i].out, server_greeting, 64);
		put_error_cmd(&x[i].out, reason[i]);
	}
	check_bad(*state, x, ARRAY_SIZE(x));
}

/* The peer refuses, a 3.0 peer that does not pair: closed, no ERROR. */
static void test_zmtp_handshake_close(void **state)
{
	struct bad x[2] = {
		{ .what = "peer ERROR", .error = false },
		{ .what = "3.0 PUB", .error = true },
	};

	put_greeting(&x[0].in, 3, 1, "NULL", 0);
	put_error_cmd(&x[0].in, "go-away");
	put(&x[0].out, server_greeting, 64);
	put_greeting(&x[1].in, 3, 0, "NULL", 0);
	put_ready(&x[1].in, "PUB", false);
	put_server_hello(&x[1].out);
	check_bad(*state, x, ARRAY_SIZE(x));
}

/* PING gets PONG with its context (3.1); other commands are ignored. */
static void test_zmtp_commands(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };
	char ctx16[18] = "\x01\x2c" "0123456789abcdef";

	put_cmd(&in, "PING", "\x00\x00", 2);
	put(&want, "\x04\x05\x04PONG", 7);
	put_cmd(&in, "PING", ctx16, 18);
	put(&want, "\x04\x15\x04PONG" "0123456789abcdef", 23);
	put_cmd(&in, "ping", "\x00\x01" "c", 3);
	put(&want, "\x04\x06\x04PONG" "c", 8);
	put_cmd(&in, "PONG", "xyz", 3);
	put_cmd(&in, "SUBSCRIBE", "topic", 5);
	put_cmd(&in, "HELLO", "", 0);
	MSG(&in, "ping");
	MSG(&want, "OK");
	/* A long-sized command with a small body is fine too. */
	put_frame_as(&in, ZMTP_COMMAND, true, "\x04PING\x00\x00", 7);
	put(&want, "\x04\x05\x04PONG", 7);
	expect(f, "DEALER", &in, &want, 1, 0);
	free(in.p);
	free(want.p);
}

/* After the handshake: each closes at once, counted, nothing written. */
static void test_zmtp_bad_traffic(void **state)
{
	struct fx *f = *state;
	struct {
		const char *what;
		struct bytes in;
		bool error;
	} x[14] = {
		{ "reserved bit", { 0 }, true },
		{ "reserved bit 7", { 0 }, true },
		{ "command with MORE", { 0 }, true },
		{ "command inside a message", { 0 }, true },
		{ "size over 2^63-1", { 0 }, true },
		{ "second READY", { 0 }, true },
		{ "PING without TTL", { 0 }, true },
		{ "PING context of 17", { 0 }, true },
		{ "command name 0", { 0 }, true },
		{ "command name too long", { 0 }, true },
		{ "command name digit", { 0 }, true },
		{ "command over the buffer", { 0 }, true },
		{ "peer ERROR", { 0 }, false },
		{ "empty command", { 0 }, true },
	};
	char ctx17[19] = "\0\0" "0123456789abcdefg";

	put(&x[0].in, "\x08\x00", 2);
	put(&x[1].in, "\x80\x00", 2);
	put(&x[2].in, "\x05\x07\x04PING\0\0", 9);
	put_frame(&x[3].in, true, "ping", 4);
	put_cmd(&x[3].in, "PING", "\0\0", 2);
	put(&x[4].in, "\x02\x80\x00\x00\x00\x00\x00\x00\x00", 9);
	put_ready(&x[5].in, "DEALER", true);
	put_cmd(&x[6].in, "PING", "\0", 1);
	put_cmd(&x[7].in, "PING", ctx17, 19);
	put(&x[8].in, "\x04\x01\x00", 3);
	put(&x[9].in, "\x04\x03\x05PIN", 5);
	put(&x[10].in, "\x04\x03\x02P1", 5);
	put(&x[11].in, "\x06\x00\x00\x00\x00\x00\x00\x3f\xf8", 9);
	put_error_cmd(&x[12].in, "bye");
	put(&x[13].in, "\x04\x00", 2);
	for (size_t i = 0; i < ARRAY_SIZE(x); i++) {
		struct proto_result res;

		handshake(f, "DEALER");
		MSG(&x[i].in, "ping");	/* never answered */
		if (feed(f, x[i].in.p, x[i].in.len, &res) != x[i].in.len ||
		    !res.close || res.error != x[i].error ||
		    buf_used(&f->out) != 0 || res.requests)
			fail_msg("%s: close %d error %d out %zu", x[i].what,
				 res.close, res.error, buf_used(&f->out));
		free(x[i].in.p);
	}
}

/* [zmtp] max_frame and max_frames: at the limit fine, past it closed. */
static void test_zmtp_limits(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 }, want = { 0 };
	struct proto_result res;
	char body[101];

	memset(body, 'z', 100);
	body[100] = '\0';
	f->cfg.zmtp_max_frame = 100;
	f->cfg.zmtp_max_frames = 4;
	MSG(&in, "echo", body, "", body);
	MSG(&want, "OK", body, "", body);
	expect(f, "DEALER", &in, &want, 1, 0);
	/* One byte over: closed before a byte of it is answered. */
	in.len = 0;
	MSG(&in, "echo", "x", "y", "z");
	size_t keep = in.len;
	put_frame(&in, false, body, 100);
	in.p[keep - 3] |= ZMTP_MORE;	/* "z" now has MORE: 5 frames */
	handshake(f, "DEALER");
	assert_int_equal(feed(f, in.p, in.len, &res), in.len);
	assert_true(res.close && res.error);
	assert_int_equal(res.requests, 0);
	/* (echo's reply streams: its head and the first arguments went.) */
	want.len = 0;
	MSG(&want, "OK", "x", "y", "z");
	want.p[want.len - 3] |= ZMTP_MORE;
	assert_out(f, want.p, want.len);
	in.len = 0;
	put_frame(&in, true, "ping", 4);
	put(&in, "\x00\x65", 2);	/* 101 octets announced */
	handshake(f, "DEALER");
	assert_int_equal(feed(f, in.p, in.len, &res), in.len);
	assert_true(res.close && res.error);
	assert_out(f, "", 0);
	f->cfg.zmtp_max_frame = 1024 * 1024;
	f->cfg.zmtp_max_frames = 64;
	free(in.p);
	free(want.p);
}

/* partial: true from the first byte to the end of the handshake, and
 * inside a message (request_timeout runs), false between messages. */
static void test_zmtp_partial(void **state)
{
	struct fx *f = *state;
	struct bytes in = { 0 };
	struct proto_result res;

	MSG(&in, "echo", "abc");
	handshake(f, "DEALER");
	for (size_t cut = 1; cut < in.len; cut++) {
		handshake(f, "DEALER");
		size_t n = feed(f, in.p, cut, &res);
		assert_true(res.partial);
		assert_int_equal(res.requests, 0);
		assert_int_equal(feed(f, in.p + n, in.len - n, &res),
				 in.len - n);
		assert_false(res.partial);
		assert_int_equal(res.requests, 1);
	}
	free(in.p);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_zmtp_registered),
		T(test_zmtp_header),
		T(test_zmtp_handshake_libzmq_order),
		T(test_zmtp_handshake_at_once),
		T(test_zmtp_ready_accepted),
		T(test_zmtp_versions),
		T(test_zmtp_bad_signature),
		T(test_zmtp_bad_greeting),
		T(test_zmtp_bad_ready),
		T(test_zmtp_handshake_close),
		T(test_zmtp_commands),
		T(test_zmtp_bad_traffic),
		T(test_zmtp_limits),
		T(test_zmtp_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
