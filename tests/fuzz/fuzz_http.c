/* libFuzzer target for the http protocol and its parser.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *         -std=gnu11 -Idaemon tests/fuzz/fuzz_http.c daemon/proto/http.c \
 *         daemon/proto/http_parse.c daemon/proto/http_chunked.c \
 *         tests/fuzz/http_parse_scalar.c -o fuzz_http
 *   ./fuzz_http -max_total_time=120 corpus-copy/
 *
 * The first bytes of an input set the limits, the output capacity and how
 * the rest is split into reads; the rest is what a client sends.  Besides
 * "never crash", it checks that
 *  - the parser never claims more than it was given or than the limit,
 *    gives the same answer when called again, the same answer when a head
 *    arrives in two pieces (resuming) as in one, and the same answer as
 *    the parser built without its SSE2 scans;
 *  - the chunked decoder gives the same result byte by byte as at once;
 *  - feed() consumes at most its input, never writes past out's capacity,
 *    reports delay offsets inside what it wrote, chains of waits within
 *    their bounds (rewait()), and produces exactly the
 *    same bytes and counts however the input is split and however small
 *    the output buffer (down to the largest response). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "proto/http.h"
#include "proto/http_parse.h"
#include "proto/proto.h"

extern const struct evd_proto evd_proto_http;
/* tests/fuzz/http_parse_scalar.c: the parser without SSE2. */
ssize_t http_parse_request_scalar(const char *buf, size_t len,
				  const struct http_limits *lim,
				  struct http_request *req);

#define CHECK(x) do { \
	if (!(x)) { \
		fprintf(stderr, "fuzz_http: check failed: %s (line %d)\n", \
			#x, __LINE__); \
		abort(); \
	} \
} while (0)

#define OUT_MAX (4u << 20)
#define BIG_CAP 65536

static time_t fixed_clock(void)
{
	return 784111777;
}

/* After feed(): a delayed response's further waits (/delay/a,b,...) are
 * each 1..60000 ms, at most HTTP_DELAY_WAITS in all with the first, their
 * sum at most 60000; a response not delayed has none. */
static void check_rewaits(void *st, uint32_t first)
{
	uint32_t ms, total = first;
	unsigned n = first ? 1 : 0;

	while (evd_proto_http.rewait(st, &ms)) {
		CHECK(first != 0);
		CHECK(ms > 0 && ms <= HTTP_DELAY_MAX_MS);
		total += ms;
		CHECK(++n <= HTTP_DELAY_WAITS);
	}
	CHECK(total <= HTTP_DELAY_MAX_MS);
}

/* ---- the parser ------------------------------------------------------------ */

static void same_request(const struct http_request *a,
			 const struct http_request *b, ssize_t r)
{
	if (r == -1) {
		CHECK(a->err == b->err);
		CHECK(a->err != HTTP_ERR_NONE && a->err < HTTP_ERR_MAX);
		return;
	}
	if (r == -2)
		return;
	CHECK(a->method_len == b->method_len);
	CHECK(a->target_len == b->target_len);
	CHECK(a->minor_version == b->minor_version);
	CHECK(a->nheaders == b->nheaders);
	CHECK(a->nhost == b->nhost);
	CHECK(a->content_length == b->content_length);
	CHECK(a->has_content_length == b->has_content_length);
	CHECK(a->chunked == b->chunked);
	CHECK(a->conn_close == b->conn_close);
	CHECK(a->conn_keep_alive == b->conn_keep_alive);
	CHECK(a->expect_continue == b->expect_continue);
}

static void check_parser(const char *d, size_t n,
			 const struct http_limits *lim, size_t split)
{
	struct http_request a, again, b;

	http_request_init(&a);
	ssize_t r = http_parse_request(d, n, lim, &a);
	CHECK(r == -1 || r == -2 || (r > 0 && (size_t)r <= n &&
				     (size_t)r <= lim->max_head_bytes));
	if (r > 0) {
		CHECK(a.method == d && a.method_len > 0);
		CHECK(a.target > d && a.target + a.target_len <= d + r);
		CHECK(a.minor_version <= 1);
		CHECK(a.nheaders <= lim->max_headers);
		CHECK(!(a.chunked && a.has_content_length));
	}
	if (r == -2)
		CHECK(n < lim->max_head_bytes);

	again = a;
	CHECK(http_parse_request(d, n, lim, &again) == r);
	same_request(&a, &again, r);

	/* The byte-at-a-time scans agree with the SSE2 ones. */
	struct http_request s;
	http_request_init(&s);
	CHECK(http_parse_request_scalar(d, n, lim, &s) == r);
	same_request(&a, &s, r);
	CHECK(s.parsed == a.parsed);

	/* In two pieces: a prefix first, then all of it. */
	if (split > n)
		split = n;
	http_request_init(&b);
	ssize_t rb = http_parse_request(d, split, lim, &b);
	if (rb == -2)
		rb = http_parse_request(d, n, lim, &b);
	CHECK(rb == r);
	same_request(&a, &b, r);
}

/* ---- the chunked decoder ------------------------------------------------- */

static void check_chunked(const char *d, size_t n,
			  const struct http_limits *lim)
{
	struct http_chunked a, b;
	size_t used_a, used_b = 0;
	int ra, rb = -2;

	http_chunked_init(&a);
	ra = http_chunked_skip(&a, d, n, lim, &used_a);
	CHECK(ra == 1 || ra == -2 || ra == -1);
	CHECK(used_a <= n);
	if (ra == -2)
		CHECK(used_a == n);
	if (ra == -1)
		CHECK(a.err != HTTP_ERR_NONE && a.err < HTTP_ERR_MAX);
	CHECK(a.total <= lim->max_body_bytes);

	http_chunked_init(&b);
	while (used_b < n) {
		size_t k;
		rb = http_chunked_skip(&b, d + used_b, 1, lim, &k);
		used_b += k;
		if (rb != -2)
			break;
	}
	CHECK(rb == ra || (n == 0 && ra == -2));
	CHECK(used_a == used_b);
	CHECK(a.total == b.total);
	if (ra == -1)
		CHECK(a.err == b.err);
}

/* ---- the protocol ------------------------------------------------------------ */

struct run {
	char *out;
	size_t out_len;
	unsigned requests;
	unsigned replies[PROTO_REPLY_MAX];
	unsigned errors;
	bool closed;
};

/* Moves up to n bytes of out to r->out (what the socket got). */
static void send_out(struct buf *out, size_t n, struct run *r)
{
	if (n > buf_used(out))
		n = buf_used(out);
	CHECK(r->out_len + n <= OUT_MAX);
	memcpy(r->out + r->out_len, buf_head(out), n);
	r->out_len += n;
	buf_consume(out, n);
	buf_compact(out);
}

/*
 * Feeds d[0..n) as a connection would: step bytes arrive at a time,
 * unconsumed bytes are offered again, and after each call out (capacity
 * cap) is sent whole, or only half when `dribble` is set.
 */
static void run_proto(const struct config *cfg, const char *d, size_t n,
		      size_t step, size_t cap, bool dribble, struct run *r)
{
	static union {
		unsigned char bytes[512];
		max_align_t align;
	} state;
	char *outbuf = malloc(cap);
	struct buf out = { .data = outbuf, .cap = cap };
	size_t arrived = 0, consumed = 0;

	CHECK(evd_proto_http.state_size <= sizeof(state.bytes));
	CHECK(outbuf != NULL);
	evd_proto_http.init(state.bytes, cfg);
	while (!r->closed) {
		size_t more = n - arrived < step ? n - arrived : step;
		arrived += more;
		for (;;) {
			struct proto_result res = { 0 };
			size_t avail = arrived - consumed, before = out.len;
			size_t waiting = buf_used(&out);
			size_t got = evd_proto_http.feed(state.bytes,
							 d + consumed, avail,
							 &out, &res);

			CHECK(got <= avail);
			for (int k = 0; k < PROTO_REPLY_MAX; k++)
				CHECK(!!(res.kinds & 1u << k) ==
				      (res.replies[k] != 0));
			CHECK(out.len <= out.cap && out.len >= before);
			size_t made = out.len - before;
			if (res.delay_ms) {
				CHECK(res.delay_off < made);
				CHECK(res.delay_ms <= 60000);
				CHECK(res.requests > 0);
			}
			check_rewaits(state.bytes, res.delay_ms);
			unsigned sum = 0;
			for (int k = REPLY_HTTP_2XX; k <= REPLY_HTTP_5XX; k++)
				sum += res.replies[k];
			CHECK(sum == res.requests);
			/* A 100 is for a request whose head came in this
			 * call: all but the last are answered in it too. */
			CHECK(res.replies[REPLY_HTTP_1XX] <= res.requests + 1);
			for (int k = REPLY_RESP_STATUS; k < PROTO_REPLY_MAX; k++)
				CHECK(res.replies[k] == 0);
			CHECK(!res.error || res.close);
			CHECK(made || (!res.requests &&
				       !res.replies[REPLY_HTTP_1XX]));
			if (got < avail && !res.close)
				CHECK(res.partial);
			consumed += got;
			r->requests += res.requests;
			for (int k = 0; k < PROTO_REPLY_MAX; k++)
				r->replies[k] += res.replies[k];
			r->errors += res.error;

			size_t used = buf_used(&out);
			send_out(&out, dribble && !res.close && used > 1 ?
				 used / 2 + 1 : used, r);
			if (res.close) {
				r->closed = true;
				break;
			}
			if (got == 0 && made == 0) {
				if (waiting == 0)
					break;	/* more input is needed */
				continue;	/* room was made: again */
			}
			if (consumed == arrived && !res.partial)
				break;
		}
		if (arrived == n)
			break;	/* nothing more can happen */
	}
	send_out(&out, buf_used(&out), r);
	free(outbuf);
}

static void same_run(const struct run *a, const struct run *b)
{
	CHECK(a->out_len == b->out_len);
	CHECK(memcmp(a->out, b->out, a->out_len) == 0);
	CHECK(a->requests == b->requests);
	CHECK(memcmp(a->replies, b->replies, sizeof(a->replies)) == 0);
	CHECK(a->errors == b->errors);
	CHECK(a->closed == b->closed);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *outs[3];
	struct config cfg;
	struct http_limits lim;

	if (size < 4)
		return 0;
	if (!outs[0])
		for (int i = 0; i < 3; i++)
			CHECK((outs[i] = malloc(OUT_MAX)) != NULL);
	http_set_clock(fixed_clock);

	/* Knobs: limits, the split, the output capacity, the body. */
	uint8_t k0 = data[0], k1 = data[1], k2 = data[2], k3 = data[3];
	const char *d = (const char *)data + 4;
	size_t n = size - 4;

	memset(&cfg, 0, sizeof(cfg));
	cfg.http_max_header_bytes = 256 + (unsigned)(k0 & 0x3f) * 8;
	cfg.http_max_headers = 1 + (k0 >> 6) * 4;
	cfg.http_max_body_bytes = (k1 & 0x80) ? 1024 * 1024 : (k1 & 0x7f);
	cfg.delay_ms = (k3 & 0x80) ? 5 : 0;
	size_t body_len = (k3 & 0x40) ? CONFIG_BODY_MAX : (k3 & 0x20) ? 0 : 13;
	memset(cfg.http_body, 'b', body_len);
	cfg.http_body[body_len] = '\0';
	cfg.http_body_len = body_len;

	lim.max_head_bytes = cfg.http_max_header_bytes;
	lim.max_headers = cfg.http_max_headers;
	lim.max_body_bytes = cfg.http_max_body_bytes;

	check_parser(d, n, &lim, (size_t)k2 * n / 256);
	check_chunked(d, n, &lim);

	/* Whole, split, and through a small dribbling output buffer. */
	struct run whole = { .out = outs[0] }, split = { .out = outs[1] };
	struct run small = { .out = outs[2] };

	run_proto(&cfg, d, n, n ? n : 1, BIG_CAP, false, &whole);
	run_proto(&cfg, d, n, 1 + (k2 & 0x0f), BIG_CAP, false, &split);
	same_run(&whole, &split);
	/* 1024 holds the largest response; below that, only invariants. */
	size_t cap = (k1 & 1) ? 1024 + k2 : 16 + (size_t)k2 * 4;
	run_proto(&cfg, d, n, 1 + (k2 >> 4), cap, true, &small);
	if (cap >= 1024)
		same_run(&whole, &small);
	return 0;
}
