/* --proto zmtp: evbench as a ZMTP 3.1 DEALER (or REQ) peer with the NULL
 * mechanism, calling evd's RPC (or the libzmq reference servers' same RPC).
 * Pure functions of bytes, like reqs.c: the opening, the server's greeting
 * and READY, requests, and the check of each reply.
 *
 * The requests: by default [echo, PAYLOAD] with --size bytes of letters
 * that shift with each request (so a lost, repeated or reordered reply is
 * seen), expecting exactly [OK, PAYLOAD]; with --call "METHOD ARG...", that
 * request every time, expecting [OK] for ping and delay, [OK, ARG...] for
 * echo, and a reply led by OK for any other method.  --socket req puts REQ's
 * empty delimiter first and expects it back.  Frames are compared by flags
 * and bytes, whatever size encoding the server chose. */
#include <stdlib.h>
#include <string.h>

#include "evbench.h"

#define F_MORE 0x01
#define F_LONG 0x02
#define F_COMMAND 0x04
#define GREETING_LEN 64
#define WORDS_MAX 256

/* One frame at p: its flags (LONG cleared), body and total length; 0 when
 * it is not all there, -1 when it is malformed. */
static int64_t frame_at(const char *p, size_t n, uint8_t *flags,
			const char **body, uint64_t *blen)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t h;
	uint64_t len;

	if (n < 1)
		return 0;
	if (u[0] & ~(F_MORE | F_LONG | F_COMMAND))
		return -1;
	h = u[0] & F_LONG ? 9 : 2;
	if (n < h)
		return 0;
	len = u[1];
	if (h == 9) {
		len = 0;
		for (int i = 1; i < 9; i++)
			len = len << 8 | u[i];
		if (len > (1ull << 40))
			return -1;	/* no reply of evbench's is that big */
	}
	if (n - h < len)
		return 0;
	*flags = u[0] & (F_MORE | F_COMMAND);
	*body = p + h;
	*blen = len;
	return (int64_t)(h + len);
}

/* Appends a frame with the canonical size encoding; returns its length. */
static size_t put_frame(char *dst, bool more, const void *p, size_t n)
{
	unsigned char *u = (unsigned char *)dst;
	size_t h = 2;

	if (n > 255) {
		u[0] = (more ? F_MORE : 0) | F_LONG;
		for (int i = 0; i < 8; i++)
			u[1 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		h = 9;
	} else {
		u[0] = more ? F_MORE : 0;
		u[1] = (unsigned char)n;
	}
	memcpy(dst + h, p, n);
	return h + n;
}

static size_t frame_len(size_t n)
{
	return (n > 255 ? 9 : 2) + n;
}

size_t zmtp_hello(bool req, char *dst)
{
	static const char ready_dealer[] =
		"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06" "DEALER"
		"\x08Identity\x00\x00\x00\x00";
	static const char ready_req[] =
		"\x04\x26\x05READY\x0bSocket-Type\x00\x00\x00\x03" "REQ"
		"\x08Identity\x00\x00\x00\x00";
	const char *r = req ? ready_req : ready_dealer;
	size_t rn = req ? sizeof(ready_req) - 1 : sizeof(ready_dealer) - 1;

	memset(dst, 0, GREETING_LEN);
	dst[0] = (char)0xff;
	dst[9] = 0x7f;
	dst[10] = 3;
	dst[11] = 1;
	memcpy(dst + 12, "NULL", 4);
	memcpy(dst + GREETING_LEN, r, rn);
	return GREETING_LEN + rn;
}

int64_t zmtp_handshake_len(const char *p, size_t n)
{
	static const char null_mech[20] = "NULL";
	const unsigned char *u = (const unsigned char *)p;
	uint8_t flags;
	const char *body;
	uint64_t blen;
	int64_t k;

	if (n >= 1 && u[0] != 0xff)
		return -1;
	if (n >= 10 && u[9] != 0x7f)
		return -1;
	if (n >= 11 && u[10] < 3)
		return -1;
	if (n < GREETING_LEN)
		return 0;
	if (memcmp(p + 12, null_mech, sizeof(null_mech)) != 0)
		return -1;
	k = frame_at(p + GREETING_LEN, n - GREETING_LEN, &flags, &body, &blen);
	if (k <= 0)
		return k;
	/* The server's READY; its ERROR (or anything else) ends the run of
	 * this connection. */
	if (!(flags & F_COMMAND) || blen < 6 || memcmp(body, "\x05READY", 6))
		return -1;
	return GREETING_LEN + k;
}

int64_t zmtp_message_len(const char *p, size_t n, bool *command)
{
	size_t off = 0;

	*command = false;
	for (;;) {
		uint8_t flags;
		const char *body;
		uint64_t blen;
		int64_t k = frame_at(p + off, n - off, &flags, &body, &blen);
		if (k <= 0)
			return k;
		if (flags & F_COMMAND) {
			if (off)
				return -1;	/* inside a message */
			*command = true;
			return k;
		}
		off += (size_t)k;
		if (!(flags & F_MORE))
			return (int64_t)off;
	}
}

/* ---- requests and expected replies ---------------------------------------- */

size_t zmtp_request_len(const struct reqspec *s)
{
	if (!s->keyed)
		return s->req_len;
	return (s->delim ? 2 : 0) + frame_len(4) + frame_len(s->size);
}

void zmtp_request_fill(const struct reqspec *s, uint64_t key, char *dst)
{
	if (!s->keyed) {
		memcpy(dst, s->req, s->req_len);
		return;
	}
	if (s->delim)
		dst += put_frame(dst, true, "", 0);
	dst += put_frame(dst, true, "echo", 4);
	put_frame(dst, false, echo_letters(s, key), s->size);
}

/* The frames of words w (after the delimiter), into a new buffer. */
static char *frames_of(const char *const *w, const size_t *wl, size_t n,
		       bool delim, size_t *len)
{
	size_t size = 2;
	char *buf, *p;

	for (size_t i = 0; i < n; i++)
		size += frame_len(wl[i]);
	buf = malloc(size);
	if (!buf)
		return NULL;
	p = buf;
	if (delim)
		p += put_frame(p, n > 0, "", 0);
	for (size_t i = 0; i < n; i++)
		p += put_frame(p, i + 1 < n, w[i], wl[i]);
	*len = (size_t)(p - buf);
	return buf;
}

static bool word_is(const char *w, size_t wl, const char *name)
{
	return wl == strlen(name) && memcmp(w, name, wl) == 0;
}

/* --call: the request, and the reply when the method is one of evd's. */
static int build_call(struct reqspec *s, const char *call, char *err,
		      size_t errlen)
{
	const char *w[WORDS_MAX + 1];
	size_t wl[WORDS_MAX + 1], n = 0;

	for (const char *p = call; *p && n <= WORDS_MAX;) {
		p += strspn(p, " ");
		if (!*p)
			break;
		w[n] = p;
		wl[n] = strcspn(p, " ");
		p += wl[n++];
	}
	if (n == 0 || n > WORDS_MAX) {
		snprintf(err, errlen, "--call: a method and at most %d "
			 "arguments, separated by spaces", WORDS_MAX - 1);
		return -1;
	}
	s->req = frames_of(w, wl, n, s->delim, &s->req_len);
	if (!s->req)
		return -2;
	bool echo = word_is(w[0], wl[0], "echo");
	bool ok_only = (word_is(w[0], wl[0], "ping") && n == 1) ||
		       (word_is(w[0], wl[0], "delay") && n == 2);
	if (!echo && !ok_only)
		return 0;	/* any reply led by OK */
	w[0] = "OK";
	wl[0] = 2;
	s->expect = frames_of(w, wl, echo ? n : 1, s->delim, &s->expect_len);
	return s->expect ? 0 : -2;
}

int zmtp_reqspec_init(struct reqspec *s, const struct bench_opts *o,
		      char *err, size_t errlen)
{
	int rc;

	s->delim = o->zmtp_req;
	if (!o->call) {
		s->keyed = true;
		s->pattern = malloc(s->size + PATTERN_PERIOD);
		if (!s->pattern)
			goto nomem;
		for (uint64_t i = 0; i < s->size + PATTERN_PERIOD; i++)
			s->pattern[i] = (char)('a' + i % PATTERN_PERIOD);
		return 0;
	}
	rc = build_call(s, o->call, err, errlen);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Matches the reply's frames against the expected ones at e[0..elen);
 * lead_only: only as many frames as e has, the rest of the reply free. */
static bool frames_match(const char *p, size_t n, const char *e, size_t elen,
			 bool lead_only)
{
	size_t off = 0, eoff = 0;

	while (eoff < elen) {
		uint8_t f, ef;
		const char *b, *eb;
		uint64_t bl, ebl;
		int64_t k = frame_at(p + off, n - off, &f, &b, &bl);
		int64_t ek = frame_at(e + eoff, elen - eoff, &ef, &eb, &ebl);
		if (k <= 0 || ek <= 0 || bl != ebl || memcmp(b, eb, bl) != 0)
			return false;
		off += (size_t)k;
		eoff += (size_t)ek;
		if (eoff == elen && lead_only)
			return true;
		if (f != ef)
			return false;
	}
	return off == n;
}

bool zmtp_reply_ok(const struct reqspec *s, uint64_t key, const char *p,
		   size_t n)
{
	char lead[4];
	size_t ll;

	if (s->expect)
		return frames_match(p, n, s->expect, s->expect_len, false);
	if (!s->keyed) {	/* any reply led by OK */
		ll = s->delim ? put_frame(lead, true, "", 0) : 0;
		ll += put_frame(lead + ll, true, "OK", 2);
		return frames_match(p, n, lead, ll, true);
	}
	/* [delimiter] OK PAYLOAD, compared without building it. */
	uint8_t f;
	const char *b;
	uint64_t bl;
	size_t off = 0;
	int64_t k;
	if (s->delim) {
		k = frame_at(p, n, &f, &b, &bl);
		if (k <= 0 || f != F_MORE || bl != 0)
			return false;
		off += (size_t)k;
	}
	k = frame_at(p + off, n - off, &f, &b, &bl);
	if (k <= 0 || f != F_MORE || bl != 2 || memcmp(b, "OK", 2) != 0)
		return false;
	off += (size_t)k;
	k = frame_at(p + off, n - off, &f, &b, &bl);
	return k > 0 && f == 0 && bl == s->size && off + (size_t)k == n &&
	       memcmp(b, echo_letters(s, key), s->size) == 0;
}
