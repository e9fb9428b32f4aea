/* What test_zmtp.c (the ZMTP wire) and test_zmtp_rpc.c (the RPC, sessions)
 * share: guarded memory (every input ends at a PROT_NONE page and every
 * output buffer at one, so an over-read or over-write crashes), builders of
 * ZMTP bytes (libzmq's greeting and READY), and a protocol instance. */
#ifndef EVD_TEST_ZMTP_FIXTURE_H
#define EVD_TEST_ZMTP_FIXTURE_H

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
static inline void guarded_alloc(struct guarded *g, size_t n)
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

static inline void guarded_free(struct guarded *g)
{
	assert_int_equal(munmap(g->base, g->maplen), 0);
}

/* ---- byte strings built by the tests -------------------------------------- */

struct bytes {
	unsigned char *p;
	size_t len, cap;
};

static inline void put(struct bytes *b, const void *p, size_t n)
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

static inline void put_byte(struct bytes *b, unsigned char c)
{
	put(b, &c, 1);
}

static inline void put_be32(struct bytes *b, uint32_t v)
{
	unsigned char p[4] = { v >> 24, v >> 16, v >> 8, v };
	put(b, p, 4);
}

/* A frame with a short or long size header, whatever its size (the tests
 * also send long headers for small frames). */
static inline void put_frame_as(struct bytes *b, uint8_t flags, bool lng,
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

static inline void put_frame(struct bytes *b, bool more, const void *p, size_t n)
{
	put_frame_as(b, more ? ZMTP_MORE : 0, n > 255, p, n);
}

/* A message of NUL-terminated strings, the last one ending it. */
static inline void put_msg(struct bytes *b, const char *const *parts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put_frame(b, i + 1 < n, parts[i], strlen(parts[i]));
}
#define MSG(b, ...) do { \
	const char *const parts_[] = { __VA_ARGS__ }; \
	put_msg((b), parts_, ARRAY_SIZE(parts_)); \
} while (0)

/* A command frame: name, then data. */
static inline void put_cmd(struct bytes *b, const char *name, const void *data,
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
static inline void put_prop(struct bytes *b, const char *name, const void *v,
		     size_t n)
{
	put_byte(b, (unsigned char)strlen(name));
	put(b, name, strlen(name));
	put_be32(b, (uint32_t)n);
	put(b, v, n);
}

/* The READY a libzmq socket of type TYPE sends (Identity for REQ, DEALER
 * and ROUTER, empty). */
static inline void put_ready(struct bytes *b, const char *type, bool identity)
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
static inline void put_greeting(struct bytes *b, unsigned major, unsigned minor,
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
static inline void put_hello(struct bytes *b, const char *type)
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

static inline void put_server_hello(struct bytes *b)
{
	put(b, server_greeting, 64);
	put(b, server_ready, sizeof(server_ready) - 1);
}

/* An ERROR command with this reason. */
static inline void put_error_cmd(struct bytes *b, const char *reason)
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

static inline void fx_reinit(struct fx *f)
{
	f->p->init(f->state, &f->cfg);
}

/* A fresh output buffer of capacity cap, '#' everywhere. */
static inline void fx_out(struct fx *f, size_t cap)
{
	if (f->out.data)
		guarded_free(&f->go);
	guarded_alloc(&f->go, cap);
	memset(f->go.p, '#', cap);
	f->out = (struct buf){ .data = f->go.p, .cap = cap };
}

static inline int setup(void **state)
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

static inline int teardown(void **state)
{
	struct fx *f = *state;

	guarded_free(&f->go);
	free(f->state);
	free(f);
	return 0;
}

static inline void assert_untouched(const struct buf *out)
{
	for (size_t i = out->len; i < out->cap; i++)
		if (out->data[i] != '#')
			fail_msg("byte %zu past len %zu written", i, out->len);
}

/* One feed() of in[0..len), copied to end at a guard page. */
static inline size_t feed(struct fx *f, const void *in, size_t len,
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
	/* conn.c counts only the kinds whose bit is set. */
	for (int k = 0; k < PROTO_REPLY_MAX; k++)
		assert_int_equal(!!(res->kinds & 1u << k), res->replies[k] != 0);
	assert_true(f->out.len <= f->out.cap);
	assert_untouched(&f->out);
	return n;
}

static inline void drain(struct fx *f)
{
	memset(f->out.data, '#', f->out.cap);
	f->out.off = f->out.len = 0;
}

static inline void dump(const char *what, const void *p, size_t n)
{
	const unsigned char *c = p;

	fprintf(stderr, "%s (%zu):", what, n);
	for (size_t i = 0; i < n && i < 400; i++)
		fprintf(stderr, (c[i] >= 0x20 && c[i] < 0x7f) ? "%c" : "\\x%02x",
			c[i]);
	fprintf(stderr, "\n");
}

static inline void assert_out(const struct fx *f, const void *want, size_t len)
{
	if (buf_used(&f->out) != len ||
	    memcmp(buf_head(&f->out), want, len) != 0) {
		dump("got", buf_head(&f->out), buf_used(&f->out));
		dump("expected", want, len);
		fail_msg("output differs");
	}
}

/* The handshake of a 3.1 DEALER, done: evd's greeting and READY drained. */
static inline void handshake(struct fx *f, const char *type)
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

/* ---- traffic ------------------------------------------------------------------- */

/* in after a DEALER's handshake must be answered with exactly want. */
static inline void expect(struct fx *f, const char *type, const struct bytes *in,
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

#endif
