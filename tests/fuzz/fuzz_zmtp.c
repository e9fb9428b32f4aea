/* libFuzzer target for the zmtp protocol (ZMTP 3.1 wire and its RPC).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
 *         -std=gnu11 tests/fuzz/fuzz_zmtp.c daemon/proto/zmtp.c \
 *         daemon/proto/zmtp_rpc.c -o fuzz_zmtp
 *   ./fuzz_zmtp -max_total_time=120 corpus-copy/
 *
 * The first HEADER bytes of an input set [zmtp] max_frame and max_frames,
 * the [server] delay, a small output capacity, where the rest is split in
 * two reads, and whether a valid opening (greeting and READY of a 3.1
 * DEALER or REQ) goes first so that the fuzzer starts past the handshake;
 * the rest is what a client sends.  Besides "never crash", it checks that
 * feed() consumes at most its input, never writes past out's capacity (nor
 * past out.len), reports partial and delays consistently, writes a stream a
 * ZMTP peer can parse (evd's greeting, then well-formed frames, each reply
 * led by OK or ERR after an optional delimiter) whose finished replies match
 * requests and replies[], and produces the same bytes, counts and delays
 * whether the input arrives at once or in two pieces, and whatever the
 * output capacity (from ZMTP_RESERVE + 1 up), but for where a streamed
 * echo reply begins to be held under [server] delay. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/config.h"
#include "../../daemon/proto/proto.h"
#include "../../daemon/proto/zmtp.h"

extern const struct evd_proto evd_proto_zmtp;

#define CHECK(x) do { \
	if (!(x)) { \
		fprintf(stderr, "fuzz_zmtp: check failed: %s (line %d)\n", \
			#x, __LINE__); \
		abort(); \
	} \
} while (0)

#define HEADER 7
#define BIG_CAP 65536
#define OUT_MAX (4u << 20)
#define IN_MAX (1u << 20)
#define MAX_DELAYS 4096
#define FREE_BYTE ((char)0xA5)

struct session {
	char *out;
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

static const unsigned char greeting[64] = {
	0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 'N', 'U', 'L', 'L',
};

/* One frame of evd's output at p: flags, body and its length; returns its
 * end. */
static const unsigned char *frame(const unsigned char *p,
				  const unsigned char *end, uint8_t *flags,
				  const unsigned char **body, uint64_t *len)
{
	size_t h;

	CHECK(end - p >= 2);
	*flags = p[0];
	CHECK((*flags & ~(ZMTP_MORE | ZMTP_LONG | ZMTP_COMMAND)) == 0);
	CHECK(!((*flags & ZMTP_MORE) && (*flags & ZMTP_COMMAND)));
	h = *flags & ZMTP_LONG ? 9 : 2;
	CHECK((size_t)(end - p) >= h);
	*len = p[1];
	if (h == 9) {
		*len = 0;
		for (int i = 1; i < 9; i++)
			*len = *len << 8 | p[i];
		CHECK(*len > 255);	/* long only when it must be */
	}
	*body = p + h;
	return (size_t)(end - p) - h >= *len ? p + h + *len : NULL;
}

/*
 * Checks the whole output of a session: evd's greeting, then commands
 * (READY, ERROR, PONG) and reply messages; a reply is [""] "OK"|"ERR"
 * frames...  Counts the finished replies by kind (a reply cut off by the
 * end of the output, an unfinished streaming echo, is not counted).
 */
static void check_stream(const char *out, size_t len, unsigned *ok,
			 unsigned *err)
{
	const unsigned char *p = (const unsigned char *)out, *end = p + len;
	unsigned idx = 0;	/* frame index inside the current message */
	bool delim = false, status_ok = false;

	*ok = *err = 0;
	if (len == 0)
		return;
	CHECK(len >= 64 && memcmp(p, greeting, 64) == 0);
	p += 64;
	while (p < end) {
		uint8_t flags;
		const unsigned char *body;
		uint64_t n;
		const unsigned char *next = frame(p, end, &flags, &body, &n);
		if (!next)
			return;	/* cut off: an unfinished echo */
		if (flags & ZMTP_COMMAND) {
			CHECK(idx == 0);
			CHECK(n >= 5 && body[0] == 4 + (body[1] == 'R' ||
							body[1] == 'E'));
			CHECK(memcmp(body + 1, "READY", 5) == 0 ||
			      memcmp(body + 1, "ERROR", 5) == 0 ||
			      memcmp(body + 1, "PONG", 4) == 0);
		} else {
			if (idx == 0)
				delim = n == 0;
			if (idx == (delim ? 1u : 0u)) {
				CHECK((n == 2 && memcmp(body, "OK", 2) == 0) ||
				      (n == 3 && memcmp(body, "ERR", 3) == 0));
				status_ok = n == 2;
			}
			idx++;
			if (!(flags & ZMTP_MORE)) {
				CHECK(idx >= (delim ? 2u : 1u));
				if (status_ok)
					(*ok)++;
				else
					(*err)++;
				idx = 0;
			}
		}
		p = next;
	}
}

/* Feeds in[0..len) as a connection does: up to cut, then up to len;
 * feed() runs until it wants more; out (capacity cap) is emptied after each
 * call. */
static void run(void *state, const struct config *cfg, const char *in,
		size_t len, size_t cut, size_t cap, struct session *s)
{
	char *mem = malloc(cap);
	struct buf out = { .data = mem, .cap = cap };
	size_t pos = 0;
	size_t cuts[2] = { cut, len };

	CHECK(mem);
	memset(mem, FREE_BYTE, cap);
	evd_proto_zmtp.init(state, cfg);
	for (int c = 0; c < 2 && !s->close; c++) {
		for (;;) {
			struct proto_result res = { 0 };
			size_t avail = cuts[c] - pos;
			size_t n = evd_proto_zmtp.feed(state, in + pos, avail,
						       &out, &res);
			size_t got = out.len;

			CHECK(n <= avail);
			CHECK(out.off == 0 && out.len <= out.cap);
			for (size_t i = got; i < cap && i < got + 1024; i++)
				CHECK(mem[i] == FREE_BYTE);
			CHECK(!res.error || res.close);
			CHECK(res.partial || res.close || n == avail);
			for (int r = 0; r < PROTO_REPLY_MAX; r++)
				CHECK(!!(res.kinds & 1u << r) ==
				      (res.replies[r] != 0));
			unsigned k = res.replies[REPLY_ZMTP_OK] +
				     res.replies[REPLY_ZMTP_ERROR];
			CHECK(res.requests == k);
			if (res.delay_ms) {
				CHECK(res.delay_off < got);
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
			for (int r = 0; r < PROTO_REPLY_MAX; r++)
				s->replies[r] += res.replies[r];
			s->error |= res.error;
			if (res.close) {
				s->close = true;
				break;
			}
			if (n == 0 && got == 0)
				break;
		}
	}
	s->consumed = pos;
	free(mem);
}

/*
 * b is the session a ran again with the input split or a smaller output
 * buffer.  With [server] delay on (streamed), echo's reply is held from
 * where the call that finished the request began writing: split further,
 * that is later in the reply, never earlier (the client, which sees whole
 * messages, sees no difference).
 */
static void same_session(const struct session *a, const struct session *b,
			 bool streamed_delays)
{
	CHECK(a->outlen == b->outlen);
	CHECK(memcmp(a->out, b->out, a->outlen) == 0);
	CHECK(a->consumed == b->consumed || (a->close && b->close));
	CHECK(a->requests == b->requests);
	CHECK(memcmp(a->replies, b->replies, sizeof(a->replies)) == 0);
	CHECK(a->error == b->error);
	CHECK(a->close == b->close);
	CHECK(a->ndelays == b->ndelays);
	for (unsigned i = 0; i < a->ndelays; i++)
		CHECK(a->delay_at[i] == b->delay_at[i] ||
		      (streamed_delays && a->delay_at[i] < b->delay_at[i]));
	CHECK(memcmp(a->delay_ms, b->delay_ms,
		     a->ndelays * sizeof(a->delay_ms[0])) == 0);
}

static struct session *session_get(int i)
{
	static struct session s[3];
	static char out[3][OUT_MAX];

	s[i] = (struct session){ .out = out[i] };
	return &s[i];
}

/* A 3.1 DEALER's or REQ's greeting and READY (libzmq's bytes). */
static size_t opening(char *dst, bool req)
{
	static const char ready_dealer[] =
		"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06" "DEALER"
		"\x08Identity\x00\x00\x00\x00";
	static const char ready_req[] =
		"\x04\x26\x05READY\x0bSocket-Type\x00\x00\x00\x03" "REQ"
		"\x08Identity\x00\x00\x00\x00";
	const char *r = req ? ready_req : ready_dealer;
	size_t rn = req ? sizeof(ready_req) - 1 : sizeof(ready_dealer) - 1;

	memcpy(dst, greeting, 64);
	dst[8] = 1;
	memcpy(dst + 64, r, rn);
	return 64 + rn;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	static char state[512];
	static char in[IN_MAX];
	struct session *whole, *split, *small;
	size_t len = 0, cut;
	unsigned ok, err;

	if (size < HEADER || size - HEADER > IN_MAX - 128)
		return 0;
	CHECK(evd_proto_zmtp.state_size <= sizeof(state));
	cfg.zmtp_max_frames = 1 + data[0];			/* 1..256 */
	cfg.zmtp_max_frame = 1 + (uint64_t)(data[1] | data[2] << 8);
	cfg.delay_ms = data[3] & 0x80 ? data[3] & 0x7f : 0;
	if (data[6] & 3)
		len = opening(in, data[6] & 2);
	memcpy(in + len, data + HEADER, size - HEADER);
	len += size - HEADER;
	cut = len * data[5] / 256;

	whole = session_get(0);
	split = session_get(1);
	small = session_get(2);
	run(state, &cfg, in, len, len, BIG_CAP, whole);
	CHECK(whole->consumed == len || whole->close ||
	      len - whole->consumed < CONFIG_IN_BUFFER);
	check_stream(whole->out, whole->outlen, &ok, &err);
	CHECK(ok == whole->replies[REPLY_ZMTP_OK]);
	CHECK(err == whole->replies[REPLY_ZMTP_ERROR]);

	run(state, &cfg, in, len, cut, BIG_CAP, split);
	same_session(whole, split, cfg.delay_ms > 0);

	run(state, &cfg, in, len, len, ZMTP_RESERVE + 1 + (size_t)data[4] * 4,
	    small);
	same_session(whole, small, cfg.delay_ms > 0);
	return 0;
}
