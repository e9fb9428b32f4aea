/* zmtp: ZeroMQ's wire protocol, ZMTP 3.1 (rfc.zeromq.org spec 37) with the
 * NULL security mechanism, spoken as the binding peer of a ROUTER: REQ,
 * DEALER and ROUTER peers connect, send requests (the RPC of zmtp_rpc.c) and
 * get each reply on the connection it came from.  A 3.0 peer (spec 23) gets
 * 3.0's rules.  Choices where a reading could differ, each exact to the
 * specs' text:
 *
 * - Greeting: evd sends its whole greeting (signature, version 3.1, "NULL",
 *   as-server 0, zero filler) once the peer's 10-octet signature has come
 *   (%xFF, 8 octets of padding never looked at, %x7F): libzmq sends its
 *   signature first and waits for ours.  A first octet other than %xFF (a
 *   ZMTP 1.0 peer), a tenth other than %x7F, or a major version below 3 (a
 *   2.0 peer: evd does not downgrade) closes the connection at once.
 *   A higher version is accepted and spoken to in 3.1.
 * - The rest of the greeting: a mechanism other than "NULL" (PLAIN, CURVE),
 *   as-server other than 0 (NULL requires 0), or a filler that is not 31
 *   zero octets from a 3.0 or 3.1 peer is answered with an ERROR command
 *   (the reasons below are VCHARs, no spaces, as the grammar says), then
 *   the connection closes.
 * - Handshake: a 3.1 peer (the client, as it connects) sends READY first and
 *   evd answers with READY (Socket-Type ROUTER, no Identity, as the spec's
 *   worked example); a 3.0 peer gets evd's READY right after the greeting,
 *   as 3.0 asks of both peers.  The peer's READY must be well formed
 *   (properties of 1..255 name characters and 0..2^31-1 octets, an Identity
 *   of at most 255 octets not starting with zero) and its Socket-Type, if
 *   any, one that pairs with ROUTER: REQ, DEALER or ROUTER (names and
 *   values compared without case, as ABNF strings are); anything else
 *   before the handshake ends (another command, a message, a bad frame) is
 *   answered with ERROR, then the connection closes.  After evd's READY
 *   went out (3.0), the grammar leaves no room for ERROR: it just closes.
 * - Traffic: frames with a reserved flag bit set, a command with MORE, a
 *   command inside a multipart message, a long size over 2^63-1, a message
 *   frame over [zmtp] max_frame, a message of more than [zmtp] max_frames
 *   frames, a second READY, a malformed command name (1..255 letters) or
 *   PING (a 2-octet TTL and at most 16 octets of context) close the
 *   connection: after the handshake ZMTP has no error reply.  PING (3.1
 *   peers) is answered with PONG and its context; the TTL is not acted on
 *   ([server] idle_timeout governs idle connections).  PONG, SUBSCRIBE and
 *   unknown commands (PING from a 3.0 peer, to which PING is unknown) are
 *   ignored; an ERROR command closes the connection.
 * - A command (READY, PING...) must fit the input buffer: at most
 *   CONFIG_IN_BUFFER - 9 octets of body; a larger one is refused.
 *
 * Everything the peer breaks counts in errors_protocol, except an ERROR it
 * sends.  No allocation, no I/O: bytes in, bytes appended to out. */
#include <string.h>
#include <strings.h>

#include "../config.h"
#include "proto.h"
#include "zmtp.h"

#define SIGNATURE_LEN 10
#define GREETING_LEN 64
#define GREETING_REST (GREETING_LEN - SIGNATURE_LEN)
#define MECHANISM_LEN 20
#define CMD_MAX (CONFIG_IN_BUFFER - 9)
#define PING_CONTEXT_MAX 16
/* Defaults when init() gets no config (config.c's). */
#define ZMTP_DEFAULT_MAX_FRAME (1024 * 1024)
#define ZMTP_DEFAULT_MAX_FRAMES 64

enum phase {
	PH_SIGNATURE,	/* waiting for the peer's 10-octet signature */
	PH_GREETING,	/* ... for the rest of its greeting */
	PH_READY,	/* ... for its READY command */
	PH_TRAFFIC,	/* messages and commands */
};

/* Why a handshake is refused: the ERROR command's reason. */
enum refusal {
	RF_MECHANISM,
	RF_AS_SERVER,
	RF_GREETING,
	RF_FRAME,
	RF_NOT_READY,
	RF_READY,
	RF_SOCKET_TYPE,
	RF_TOO_LARGE,
	RF_MAX
};

static const char *const refusal_reason[] = {
	[RF_MECHANISM] = "unsupported-mechanism",
	[RF_AS_SERVER] = "as-server-must-be-0",
	[RF_GREETING] = "malformed-greeting",
	[RF_FRAME] = "malformed-frame",
	[RF_NOT_READY] = "expected-READY",
	[RF_READY] = "malformed-READY",
	[RF_SOCKET_TYPE] = "incompatible-socket-type",
	[RF_TOO_LARGE] = "command-too-large",
};
_Static_assert(sizeof(refusal_reason) / sizeof(refusal_reason[0]) == RF_MAX,
	       "one reason per refusal");

struct zmtp_state {
	uint64_t max_frame;
	uint32_t max_frames;
	uint8_t phase;		/* enum phase */
	bool v31;		/* the peer speaks 3.1 or later (else 3.0) */
	bool ready_sent;	/* evd's READY went out */
	bool in_body;		/* a message frame's body is coming */
	bool in_message;	/* the last frame had MORE */
	uint64_t left;		/* bytes of that body still to come */
	uint32_t nframes;	/* frames of the current message */
	struct zmtp_rpc rpc;
};

/* evd's greeting: signature (zero padding), 3.1, NULL, as-server 0. */
static const unsigned char greeting[GREETING_LEN] = {
	0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 1, 'N', 'U', 'L', 'L',
};
static const char null_mechanism[MECHANISM_LEN] = "NULL";

/* evd's READY: Socket-Type ROUTER. */
static const char ready[] = "\x04\x1c\x05READY\x0bSocket-Type"
			    "\x00\x00\x00\x06ROUTER";
#define READY_LEN (sizeof(ready) - 1)
_Static_assert(READY_LEN == 30, "READY is 2 + 28 octets");

/* The socket types that pair with ROUTER (spec 37's table). */
static const char *const peer_types[] = { "REQ", "DEALER", "ROUTER" };

size_t zmtp_header_put(unsigned char *dst, uint8_t flags, uint64_t size)
{
	if (zmtp_header_len(size) == 2) {
		dst[0] = flags;
		dst[1] = (unsigned char)size;
		return 2;
	}
	dst[0] = flags | ZMTP_LONG;
	for (int i = 0; i < 8; i++)
		dst[1 + i] = (unsigned char)(size >> (56 - 8 * i));
	return 9;
}

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* One feed() call. */
struct ctx {
	struct zmtp_state *st;
	struct buf *out;
	struct proto_result *res;
	size_t out0;		/* out->len when it began */
	size_t msg_off;		/* where the current request's reply begins */
	bool msg_here;		/* ... when the request began in this call */
	bool stop;		/* a delayed reply: feed no more */
};

static bool room(const struct ctx *x, size_t extra)
{
	return buf_space(x->out) >= ZMTP_RESERVE + extra;
}

/* The peer broke the protocol: close, counted. */
static long fail(struct ctx *x)
{
	x->res->error = x->res->close = true;
	return -1;
}

/* During the handshake, before evd's READY: the ERROR command with the
 * reason, then close; after it, as fail().  The caller checked room(). */
static long refuse(struct ctx *x, enum refusal why)
{
	const char *reason = refusal_reason[why];
	size_t n = strlen(reason);
	unsigned char *p = (unsigned char *)buf_tail(x->out);

	if (x->st->phase == PH_TRAFFIC || x->st->ready_sent)
		return fail(x);
	p[0] = ZMTP_COMMAND;
	p[1] = (unsigned char)(1 + 5 + 1 + n);
	memcpy(p + 2, "\x05" "ERROR", 6);
	p[8] = (unsigned char)n;
	memcpy(p + 9, reason, n);
	x->out->len += 9 + n;
	return fail(x);
}

static void send_ready(struct ctx *x)
{
	buf_append(x->out, ready, READY_LEN);
	x->st->ready_sent = true;
}

/* ---- greeting -------------------------------------------------------------- */

static long on_signature(struct ctx *x, const unsigned char *in, size_t len)
{
	if (in[0] != 0xff)
		return fail(x);		/* ZMTP 1.0, or not ZMTP */
	if (len < SIGNATURE_LEN)
		return 0;
	if (in[9] != 0x7f)
		return fail(x);
	if (!room(x, 0))
		return 0;
	buf_append(x->out, greeting, GREETING_LEN);
	x->st->phase = PH_GREETING;
	return SIGNATURE_LEN;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* in: the greeting from its major version on (octet 10). */
static long on_greeting(struct ctx *x, const unsigned char *in, size_t len)
{
	struct zmtp_state *st = x->st;
	unsigned major = in[0];

	if (major < 3)
		return fail(x);		/* ZMTP 2.0: no downgrade here */
	if (len < GREETING_REST)
		return 0;
	if (!room(x, 0))
		return 0;
	st->v31 = major > 3 || in[1] >= 1;
	st->phase = PH_READY;
	if (memcmp(in + 2, null_mechanism, MECHANISM_LEN) != 0)
		return refuse(x, RF_MECHANISM);
	if (in[22] != 0)
		return refuse(x, RF_AS_SERVER);
	if (major == 3 && in[1] <= 1 && !all_zero(in + 23, 31))
		return refuse(x, RF_GREETING);
	if (!st->v31)
		send_ready(x);	/* 3.0: before reading the peer's */
	return GREETING_REST;
}

/* ---- commands ----------------------------------------------------------------- */

static bool name_is(const unsigned char *name, size_t n, const char *want)
{
	return n == strlen(want) &&
	       strncasecmp((const char *)name, want, n) == 0;
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '+';
}

/* One READY property's value: false if it is not acceptable. */
static bool property_ok(const unsigned char *name, size_t nlen,
			const unsigned char *v, uint32_t vlen, enum refusal *why)
{
	if (name_is(name, nlen, "Identity")) {
		*why = RF_READY;
		return vlen <= 255 && (vlen == 0 || v[0] != 0);
	}
	if (name_is(name, nlen, "Socket-Type")) {
		*why = RF_SOCKET_TYPE;
		for (size_t i = 0; i < sizeof(peer_types) / sizeof(*peer_types);
		     i++)
			if (name_is(v, vlen, peer_types[i]))
				return true;
		return false;
	}
	return true;
}

/* READY's metadata: 0 when it is acceptable, else 1 with why set. */
static int metadata_check(const unsigned char *p, size_t n, enum refusal *why)
{
	while (n) {
		size_t nlen = p[0];
		*why = RF_READY;
		if (nlen == 0 || 1 + nlen + 4 > n)
			return 1;
		for (size_t i = 0; i < nlen; i++)
			if (!is_name_char(p[1 + i]))
				return 1;
		const unsigned char *name = p + 1;
		uint32_t vlen = be32(p + 1 + nlen);
		p += 1 + nlen + 4;
		n -= 1 + nlen + 4;
		if (vlen > INT32_MAX || vlen > n)
			return 1;
		if (!property_ok(name, nlen, p, vlen, why))
			return 1;
		p += vlen;
		n -= vlen;
	}
	return 0;
}

static long handshake_command(struct ctx *x, const unsigned char *name,
			      size_t nlen, const unsigned char *data,
			      size_t dlen)
{
	enum refusal why;

	if (name_is(name, nlen, "ERROR")) {
		x->res->close = true;	/* the peer's own refusal */
		return -1;
	}
	if (!name_is(name, nlen, "READY"))
		return refuse(x, RF_NOT_READY);
	if (metadata_check(data, dlen, &why))
		return refuse(x, why);
	if (!x->st->ready_sent)
		send_ready(x);
	x->st->phase = PH_TRAFFIC;
	return 0;
}

static long traffic_command(struct ctx *x, const unsigned char *name,
			    size_t nlen, const unsigned char *data, size_t dlen)
{
	if (name_is(name, nlen, "READY"))
		return fail(x);
	if (name_is(name, nlen, "ERROR")) {
		x->res->close = true;
		return -1;
	}
	if (!x->st->v31 || !name_is(name, nlen, "PING"))
		return 0;	/* PONG, SUBSCRIBE, unknown: ignored */
	if (dlen < 2 || dlen > 2 + PING_CONTEXT_MAX)
		return fail(x);
	unsigned char *p = (unsigned char *)buf_tail(x->out);
	size_t ctx = dlen - 2;
	p[0] = ZMTP_COMMAND;
	p[1] = (unsigned char)(5 + ctx);
	memcpy(p + 2, "\x04" "PONG", 5);
	memcpy(p + 7, data + 2, ctx);
	x->out->len += 7 + ctx;
	return 0;
}

/* A whole command frame of size octets at in (after its hlen-octet header). */
static long on_command(struct ctx *x, const unsigned char *in, size_t len,
		       size_t hlen, uint64_t size)
{
	if (x->st->in_message)
		return fail(x);		/* inside a multipart message */
	if (size > CMD_MAX)
		return refuse(x, RF_TOO_LARGE);
	if (len < hlen + size)
		return 0;
	const unsigned char *body = in + hlen;
	size_t nlen = size ? body[0] : 0;
	if (nlen == 0 || nlen > size - 1)
		return refuse(x, RF_FRAME);
	for (size_t i = 0; i < nlen; i++)
		if (!((body[1 + i] | 0x20) >= 'a' && (body[1 + i] | 0x20) <= 'z'))
			return refuse(x, RF_FRAME);
	long r = x->st->phase == PH_READY ?
		 handshake_command(x, body + 1, nlen, body + 1 + nlen,
				   size - 1 - nlen) :
		 traffic_command(x, body + 1, nlen, body + 1 + nlen,
				 size - 1 - nlen);
	return r < 0 ? r : (long)(hlen + size);
}

/* ---- messages ----------------------------------------------------------------- */

/* The current frame is whole: the RPC may finish the request. */
static void frame_end(struct ctx *x)
{
	struct zmtp_state *st = x->st;
	struct rpc_done d;

	st->in_body = false;
	rpc_frame_end(&st->rpc, x->out, &d);
	if (!d.done)
		return;
	st->nframes = 0;
	x->res->requests++;
	proto_count(x->res, d.ok ? REPLY_ZMTP_OK : REPLY_ZMTP_ERROR);
	if (d.delay_ms) {
		x->res->delay_ms = d.delay_ms;
		x->res->delay_off = x->msg_here ? x->msg_off : 0;
		x->stop = true;
	}
}

static long on_message_frame(struct ctx *x, uint8_t flags, size_t hlen,
			     uint64_t size)
{
	struct zmtp_state *st = x->st;

	if (st->phase == PH_READY)
		return refuse(x, RF_NOT_READY);
	if (size > st->max_frame || st->nframes == st->max_frames)
		return fail(x);
	if (st->nframes == 0) {
		x->msg_off = x->out->len - x->out0;
		x->msg_here = true;
	}
	st->nframes++;
	st->in_message = flags & ZMTP_MORE;
	rpc_frame_begin(&st->rpc, size, flags & ZMTP_MORE, x->out);
	st->in_body = true;
	st->left = size;
	if (size == 0)
		frame_end(x);
	return (long)hlen;
}

/* A frame's header: a command (whole) or a message frame (its body comes
 * next, through on_body). */
static long on_frame(struct ctx *x, const unsigned char *in, size_t len)
{
	uint8_t flags = in[0];
	size_t hlen = flags & ZMTP_LONG ? 9 : 2;
	uint64_t size;

	if (!room(x, 0))
		return 0;
	if ((flags & ZMTP_RESERVED) ||
	    (flags & (ZMTP_COMMAND | ZMTP_MORE)) == (ZMTP_COMMAND | ZMTP_MORE))
		return refuse(x, RF_FRAME);
	if (len < hlen)
		return 0;
	size = flags & ZMTP_LONG ? be64(in + 1) : in[1];
	if (size > INT64_MAX)
		return refuse(x, RF_FRAME);
	if (flags & ZMTP_COMMAND)
		return on_command(x, in, len, hlen, size);
	return on_message_frame(x, flags, hlen, size);
}

/* Bytes of the current frame's body.  The last one is taken only with
 * ZMTP_RESERVE bytes of room, for what the end of the frame writes. */
static long on_body(struct ctx *x, const unsigned char *in, size_t len)
{
	struct zmtp_state *st = x->st;
	size_t chunk = len < st->left ? len : (size_t)st->left;
	bool last = chunk == st->left;
	size_t before = last ? chunk - 1 : chunk;
	size_t got = 0;

	if (before) {
		got = rpc_frame_data(&st->rpc, (const char *)in, before, x->out);
		st->left -= got;
		if (got < before || !last)
			return (long)got;
	}
	if (!room(x, rpc_data_copies(&st->rpc) ? 1 : 0))
		return (long)got;
	rpc_frame_data(&st->rpc, (const char *)in + before, 1, x->out);
	st->left = 0;
	frame_end(x);
	return (long)chunk;
}

/* ---- the protocol ---------------------------------------------------------------- */

static void zmtp_init(void *state, const struct config *cfg)
{
	struct zmtp_state *st = state;

	*st = (struct zmtp_state){
		.max_frame = cfg ? cfg->zmtp_max_frame : ZMTP_DEFAULT_MAX_FRAME,
		.max_frames = cfg ? cfg->zmtp_max_frames :
				    ZMTP_DEFAULT_MAX_FRAMES,
	};
	rpc_init(&st->rpc, cfg ? (uint32_t)cfg->delay_ms : 0);
}

static long step(struct ctx *x, const unsigned char *in, size_t len)
{
	switch (x->st->phase) {
	case PH_SIGNATURE:
		return on_signature(x, in, len);
	case PH_GREETING:
		return on_greeting(x, in, len);
	default:
		return x->st->in_body ? on_body(x, in, len) :
					on_frame(x, in, len);
	}
}

/*
 * Consumes what it can of in: the greeting, commands and message frames,
 * answering as it goes.  Stops when it needs more input, when out lacks
 * ZMTP_RESERVE bytes of room, after a delayed reply, and at an error
 * (everything consumed, res->close).
 */
static size_t zmtp_feed(void *state, const char *in, size_t len,
			struct buf *out, struct proto_result *res)
{
	struct ctx x = { .st = state, .out = out, .res = res,
			 .out0 = out->len };
	size_t pos = 0;

	while (pos < len && !x.stop) {
		long n = step(&x, (const unsigned char *)in + pos, len - pos);
		if (n < 0)
			return len;
		if (n == 0)
			break;
		pos += (size_t)n;
	}
	res->partial = pos < len || x.st->phase != PH_TRAFFIC ||
		       x.st->in_body || x.st->in_message;
	return pos;
}

const struct evd_proto evd_proto_zmtp = {
	.name = "zmtp",
	.summary = "ZeroMQ's ZMTP 3.1 (NULL): REQ/DEALER RPC ping, echo, delay",
	.state_size = sizeof(struct zmtp_state),
	.init = zmtp_init,
	.feed = zmtp_feed,
};
