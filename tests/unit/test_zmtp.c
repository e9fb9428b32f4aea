/* Unit tests for protocol = zmtp (ZMTP 3.1 with NULL, and the RPC on top),
 * driven through its struct evd_proto.  Every input ends exactly at a
 * PROT_NONE page and every output buffer ends at one, so a read past the
 * input or a write past the output's capacity crashes the test.  The
 * handshakes are libzmq 4.3.4's bytes (a DEALER's and a REQ's READY as it
 * sends them); replies are checked byte for byte. */
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
#include "../../daemon/proto/zmtp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define S(x) x, sizeof(x) - 1
#define BIG_OUT 65536

/* ---- guarded memory ------------------------------------------------------ */

struct guarded {
	char *base;
	size_t maplen;
	char *p;
};

/* n usable bytes that end where an inaccessible page begins. */
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
	g->p = g->base + data_pages * page - n;
}

static void guarded_free(struct guarded *g)
{
	assert_int_equal(munmap(g->base, g->maplen), 0);
}

/* ---- byte strings built by the tests -------------------------------------- */

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void put_byte(struct bytes *b, unsigned char c)
{
	put(b, &c, 1);
}

static void put_be32(struct bytes *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };
	put(b, p, 4);
}

/* A frame with a short or long size header, whatever its size (the tests
 * also send long headers for small frames). */
static void put_frame_as(struct bytes *b, uint8_t flags, bool lng,
			 const void *p, size_t n)
{
	put_byte(b, flags | (lng ? ZMTP_LONG : 0));
	if (lng)
		for (int i = 7; i >= 0; i--)
			put_byte(b, (unsigned char)((uint64_t)n >> (8 * i)));
	else
		put_byte(b, (unsigned char)n);
	put(b, p, n);
}

static void put_frame(struct bytes *b, bool more, const void *p, size_t n)
{
	put_frame_as(b, more ? ZMTP_MORE : 0, n > 255, p, n);
}

/* A message of NUL-terminated strings, the last one ending it. */
static void put_msg(struct bytes *b, const char *const *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_frame(b, i + 1 < n, parts[i], strlen(parts[i]));
}
#define MSG(b, ...) do { \
	const char *const parts_[] = { __VA_ARGS__ }; \
	put_msg((b), parts_, ARRAY_SIZE(parts_)); \
} while (0)

/* A command frame: name, then data. */
static void put_cmd(struct bytes *b, const char *name, const void *data,
		    size_t n)
{
	struct bytes body = { 0 };

	put_byte(&body, (unsigned char)strlen(name));
	put(&body, name, strlen(name));
	put(&body, data, n);
	put_frame_as(b, ZMTP_COMMAND, body.len > 255, body.p, body.len);
	free(body.p);
}

/* A READY property. */
static void put_prop(struct bytes *b, const char *name, const void *v,
		     size_t n)
{
	put_byte(b, (unsigned char)strlen(name));
	put(b, name, strlen(name));
	put_be32(b, (uint32_t)n);
	put(b, v, n);
}

/* The READY a libzmq socket of type TYPE sends (Identity for REQ, DEALER
 * and ROUTER, empty). */
static void put_ready(struct bytes *b, const char *type, bool identity)
{
	struct bytes m = { 0 };

	put_prop(&m, "Socket-Type", type, strlen(type));
	if (identity)
		put_prop(&m, "Identity", "", 0);
	put_cmd(b, "READY", m.p, m.len);
	free(m.p);
}

/* A greeting: libzmq's signature (padding: identity size + 1 = 1), version,
 * mechanism, as-server, zero filler. */
static void put_greeting(struct bytes *b, unsigned major, unsigned minor,
			 const char *mech, unsigned as_server)
{
	unsigned char g[64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f };

	g[10] = (unsigned char)major;
	g[11] = (unsigned char)minor;
	memcpy(g + 12, mech, strlen(mech));
	g[32] = (unsigned char)as_server;
	put(b, g, 64);
}

/* A 3.1 DEALER's opening: greeting and READY. */
static void put_hello(struct bytes *b, const char *type)
{
	put_greeting(b, 3, 1, "NULL", 0);
	put_ready(b, type, true);
}

/* evd's greeting and READY, as they must be. */
static const unsigned char server_greeting[64] = {
	0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 'N', 'U', 'L', 'L',
};
static const char server_ready[] = "\x04\x1c\x05READY\x0bSocket-Type"
				   "\x00\x00\x00\x06ROUTER";

static void put_server_hello(struct bytes *b)
{
	put(b, server_greeting, 64);
	put(b, server_ready, sizeof(server_ready) - 1);
}

/* An ERROR command with this reason. */
static void put_error_cmd(struct bytes *b, const char *reason)
{
	unsigned char n = (unsigned char)strlen(reason);
	struct bytes d = { 0 };

	put_byte(&d, n);
	put(&d, reason, n);
	put_cmd(b, "ERROR", d.p, d.len);
	free(d.p);
}

/* ---- a protocol instance and an output buffer ---------------------------- */

struct fx {
	const struct evd_proto *p;
	void *state;
	struct config cfg;
	struct guarded go;
	struct buf out;
};

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
	f->p = proto_find("zmtp");
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

static void drain(struct fx *f)
{
	memset(f->out.data, '#', f->out.cap);
	f->out.off = f->out.len = 0;
}

static void dump(const char *what, const void *p, size_t n)
{
	const unsigned char *c = p;

	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n && i < 400; i++)
		fprintf(stderr, (c[i] >= 0x20 && c[i] < 0x7f) ? "%c" : "\\x%02x",
			c[i]);
	fprintf(stderr, "\n");
}

static void assert_out(const struct fx *f, const void *want, size_t len)
{
	if (buf_used(&f->out) != len ||
	    memcmp(buf_head(&f->out), want, len) != 0) {
		dump("got", buf_head(&f->out), buf_used(&f->out));
		dump("expected", want, len);
		fail_msg("output differs");
	}
}

/* The handshake of a 3.1 DEALER, done: evd's greeting and READY drained. */
static void handshake(struct fx *f, const char *type)
{
	struct bytes b = { 0 };
	struct proto_result res;

	put_hello(&b, type);
	fx_reinit(f);
	drain(f);
	assert_int_equal(feed(f, b.p, b.len, &res), b.len);
	assert_false(res.close || res.error || res.partial);
	assert_int_equal(buf_used(&f->out), 94);
	drain(f);
	free(b.p);
}

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

/* ---- traffic ------------------------------------------------------------------- */

/* in after a DEALER's handshake must be answered with exactly want. */
static void expect(struct fx *f, const char *type, const struct bytes *in,
		   const struct bytes *want, unsigned ok, unsigned err)
{
	struct proto_result res;

	handshake(f, type);
	assert_int_equal(feed(f, in->p, in->len, &res), in->len);
	assert_out(f, want->p, want->len);
	assert_int_equal(res.requests, ok + err);
	assert_int_equal(res.replies[REPLY_ZMTP_OK], ok);
	assert_int_equal(res.replies[REPLY_ZMTP_ERROR], err);
	assert_false(res.partial || res.close || res.error);
	assert_int_equal(res.delay_ms, 0);
}

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
		T(test_zmtp_rpc_dealer),
		T(test_zmtp_rpc_req),
		T(test_zmtp_rpc_errors),
		T(test_zmtp_reserve_bound),
		T(test_zmtp_delay),
		T(test_zmtp_commands),
		T(test_zmtp_bad_traffic),
		T(test_zmtp_limits),
		T(test_zmtp_partial),
		T(test_zmtp_split_every_byte),
		T(test_zmtp_small_out),
		T(test_zmtp_echo_streams),
		T(test_zmtp_pipeline),
		T(test_zmtp_no_config),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
