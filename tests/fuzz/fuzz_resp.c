/* libFuzzer target for the resp protocol.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *         -std=gnu11 tests/fuzz/fuzz_resp.c daemon/proto/resp.c -o fuzz_resp
 *   ./fuzz_resp -max_total_time=120 corpus-copy/
 *
 * The first HEADER bytes of an input set the [resp] limits, the [server]
 * delay, a small output capacity and where the rest is split in two reads;
 * the rest is what a client sends.  Besides "never crash", it checks that
 * feed() consumes at most its input, never writes past out's capacity (nor
 * past out.len), reports partial and delay offsets consistently, appends
 * only well-formed RESP replies whose count matches requests and
 * replies[], and produces the same bytes, counts and delays whether the
 * input arrives at once or in two pieces, and whatever the output capacity
 * (a capacity too small for some reply stalls there: the output so far is
 * then a prefix). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/config.h"
#include "../../daemon/proto/proto.h"

extern const struct evd_proto evd_proto_resp;

#define CHECK(x) do { \
	if (!(x)) { \
		fprintf(stderr, "fuzz_resp: check failed: %s (line %d)\n", \
			#x, __LINE__); \
		abort(); \
	} \
} while (0)

#define HEADER 6
#define BIG_CAP 65536
#define OUT_MAX (1u << 20)
#define MAX_DELAYS 4096
#define FREE_BYTE ((char)0xA5)

/* What a connection saw. */
struct session {
	char *out;		/* everything sent, OUT_MAX bytes */
	size_t outlen;
	size_t consumed;
	unsigned requests;
	unsigned replies[PROTO_REPLY_MAX];
	bool error;
	bool close;
	unsigned ndelays;
	size_t delay_at[MAX_DELAYS];
	uint32_t delay_ms[MAX_DELAYS];
};

/* Checks the RESP reply at p (whole, well-formed); returns its end. */
static const char *reply_end(const char *p, const char *end, int depth,
			     char *kind)
{
	const char *nl, *q;
	long long n = 0;
	bool neg = false;

	CHECK(depth < 4);
	CHECK(p < end);
	*kind = *p;
	nl = memchr(p, '\n', (size_t)(end - p));
	CHECK(nl && nl > p + 1 && nl[-1] == '\r');
	if (*p == '+' || *p == '-') {
		for (q = p + 1; q < nl - 1; q++)
			CHECK(*q != '\r');
		return nl + 1;
	}
	CHECK(*p == ':' || *p == '$' || *p == '*');
	q = p + 1;
	if (*q == '-') {
		neg = true;
		q++;
	}
	CHECK(q < nl - 1);
	CHECK(*q != '0' || q + 1 == nl - 1);
	for (; q < nl - 1; q++) {
		CHECK(*q >= '0' && *q <= '9');
		n = n * 10 + (*q - '0');
		CHECK(n < (1ll << 40));
	}
	if (*p == ':')
		return nl + 1;
	CHECK(!neg);
	p = nl + 1;
	if (*kind == '$') {
		CHECK(end - p >= n + 2);
		CHECK(p[n] == '\r' && p[n + 1] == '\n');
		return p + n + 2;
	}
	for (long long i = 0; i < n; i++) {
		char k;
		p = reply_end(p, end, depth + 1, &k);
	}
	return p;
}

/* Checks out[0..len) is whole replies; counts them by kind. */
static unsigned check_replies(const char *out, size_t len,
			      unsigned kinds[PROTO_REPLY_MAX])
{
	static const char map[] = "+-:$*";
	unsigned n = 0;

	memset(kinds, 0, sizeof(unsigned) * PROTO_REPLY_MAX);
	for (const char *p = out, *end = out + len; p < end; n++) {
		char kind;
		p = reply_end(p, end, 0, &kind);
		kinds[REPLY_RESP_STATUS + (strchr(map, kind) - map)]++;
	}
	return n;
}

/*
 * Feeds in[0..len) as a connection does: the input arrives up to cut, then
 * up to len; feed() runs until it wants more; out (capacity cap) is emptied
 * after each call.  Every call is checked.
 */
static void run(const void *state, const char *in, size_t len, size_t cut,
		size_t cap, struct session *s)
{
	char *mem = malloc(cap);
	struct buf out = { .data = mem, .cap = cap };
	size_t pos = 0;
	size_t cuts[2] = { cut, len };

	CHECK(mem);
	memset(mem, FREE_BYTE, cap);
	for (int c = 0; c < 2 && !s->close; c++) {
		for (;;) {
			struct proto_result res = { 0 };
			unsigned kinds[PROTO_REPLY_MAX];
			size_t avail = cuts[c] - pos;
			size_t n = evd_proto_resp.feed((void *)state, in + pos,
						       avail, &out, &res);
			size_t got = out.len;

			CHECK(n <= avail);
			CHECK(out.off == 0 && out.len <= out.cap);
			/* Nothing written past len (ASan guards past cap). */
			for (size_t i = out.len; i < out.cap && i < got + 1024; i++)
				CHECK(mem[i] == FREE_BYTE);
			unsigned replies = check_replies(mem, got, kinds);
			for (int k = 0; k < PROTO_REPLY_MAX; k++) {
				CHECK(res.replies[k] == kinds[k]);
				CHECK(!!(res.kinds & 1u << k) == (kinds[k] != 0));
			}
			CHECK(res.requests == replies - (res.error ? 1 : 0));
			CHECK(!res.error || res.close);
			CHECK(res.partial == (!res.close && n < avail));
			CHECK(n > 0 || got == 0);
			if (res.delay_ms) {
				CHECK(res.delay_off < got);
				CHECK(!res.error);
				CHECK(s->ndelays < MAX_DELAYS);
				s->delay_at[s->ndelays] = s->outlen + res.delay_off;
				s->delay_ms[s->ndelays++] = res.delay_ms;
			} else {
				CHECK(res.delay_off == 0);
			}
			CHECK(s->outlen + got <= OUT_MAX);
			memcpy(s->out + s->outlen, mem, got);
			s->outlen += got;
			memset(mem, FREE_BYTE, got);
			out.len = 0;
			pos += n;
			s->requests += res.requests;
			for (int k = 0; k < PROTO_REPLY_MAX; k++)
				s->replies[k] += res.replies[k];
			s->error |= res.error;
			if (res.close) {
				s->close = true;
				break;
			}
			if (n == 0)
				break;	/* needs more, or a reply never fits */
		}
	}
	s->consumed = pos;
	free(mem);
}

static void same_session(const struct session *a, const struct session *b)
{
	CHECK(a->outlen == b->outlen);
	CHECK(memcmp(a->out, b->out, a->outlen) == 0);
	/* A protocol error takes all the input there is: it is discarded. */
	CHECK(a->consumed == b->consumed || (a->error && b->error));
	CHECK(a->requests == b->requests);
	CHECK(memcmp(a->replies, b->replies, sizeof(a->replies)) == 0);
	CHECK(a->error == b->error);
	CHECK(a->close == b->close);
	CHECK(a->ndelays == b->ndelays);
	CHECK(memcmp(a->delay_at, b->delay_at,
		     a->ndelays * sizeof(a->delay_at[0])) == 0);
	CHECK(memcmp(a->delay_ms, b->delay_ms,
		     a->ndelays * sizeof(a->delay_ms[0])) == 0);
}

/* One of three sessions, emptied (their buffers live on between inputs). */
static struct session *session_get(int i)
{
	static struct session s[3];
	static char out[3][OUT_MAX];

	s[i] = (struct session){ .out = out[i] };
	return &s[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static char state[256];
	struct session *whole, *split, *small;
	const char *in = (const char *)data + HEADER;
	size_t len, cut;

	if (size < HEADER)
		return 0;
	len = size - HEADER;
	CHECK(evd_proto_resp.state_size <= sizeof(state));
	cfg.resp_max_args = 1 + data[0];			/* 1..256 */
	cfg.resp_max_bulk_bytes =
		1 + (unsigned)(data[1] | data[2] << 8) % (CONFIG_IN_BUFFER - 1024);
	cfg.delay_ms = data[3] & 0x80 ? data[3] & 0x7f : 0;
	cut = len * data[5] / 256;
	evd_proto_resp.init(state, &cfg);

	whole = session_get(0);
	split = session_get(1);
	small = session_get(2);
	run(state, in, len, len, BIG_CAP, whole);
	CHECK(whole->consumed == len || whole->close ||
	      (len - whole->consumed < CONFIG_IN_BUFFER));

	run(state, in, len, cut, BIG_CAP, split);
	same_session(whole, split);

	/* A small output buffer: the same, or a prefix if a reply never fit. */
	run(state, in, len, len, 1 + (size_t)data[4] * 2, small);
	if (small->consumed < whole->consumed) {
		CHECK(small->outlen <= whole->outlen);
		CHECK(memcmp(small->out, whole->out, small->outlen) == 0);
		CHECK(small->consumed <= whole->consumed);
	} else {
		same_session(whole, small);
	}
	return 0;
}
