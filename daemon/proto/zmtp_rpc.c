/* The RPC on top of ZMTP: a request is one multipart message
 * [method, argument...], after an optional empty delimiter frame (what a
 * REQ socket puts first; a DEALER sends its frames as they are).  The reply
 * begins with that delimiter when the request had one, then:
 *
 *   ping               -> "OK"
 *   echo [arg...]      -> "OK", arg...            (the arguments, as sent)
 *   delay <ms>         -> "OK", ms later          (0 .. 60000)
 *   anything wrong     -> "ERR", code, message
 *
 * where code is one of unknown-method, bad-arity, bad-argument, no-method
 * and message says what was wrong in words.  Method names are
 * case-sensitive.  echo's reply streams: each argument goes out as it comes
 * in, so an argument of any size up to [zmtp] max_frame passes through the
 * connection's bounded buffers.  The other replies are written when the
 * request's last frame has come.  [server] delay holds every reply: echo's,
 * which may have begun to go out, from what the request's last bytes
 * completed (the peer, which receives whole messages, sees the whole reply
 * only then). */
#include <stdio.h>
#include <string.h>

#include "zmtp.h"

enum rpc_method { M_NONE, M_PING, M_ECHO, M_DELAY, M_UNKNOWN, M_MAX };

/* Builds frames at out's tail; the caller made sure they fit. */
struct writer {
	struct buf *out;
};

static void w_frame(struct writer *w, bool more, const void *p, size_t n)
{
	unsigned char *dst = (unsigned char *)buf_tail(w->out);
	size_t h = zmtp_header_put(dst, more ? ZMTP_MORE : 0, n);

	memcpy(dst + h, p, n);
	w->out->len += h + n;
}

static void w_str(struct writer *w, bool more, const char *s)
{
	w_frame(w, more, s, strlen(s));
}

/* The head of every reply: the delimiter (when the request had one), then
 * the status frame. */
static void w_status(struct writer *w, const struct zmtp_rpc *r, bool ok,
		     bool more)
{
	if (r->delim)
		w_frame(w, true, "", 0);
	w_str(w, more, ok ? "OK" : "ERR");
}

static void w_error(struct writer *w, const struct zmtp_rpc *r,
		    const char *code, const char *msg)
{
	w_status(w, r, false, true);
	w_str(w, true, code);
	w_str(w, false, msg);
}

/* ---- methods ------------------------------------------------------------- */

struct method {
	const char *name;
	uint8_t id;
	uint32_t min_args, max_args;
	const char *arity;	/* "NAME takes ...", for bad-arity */
	/* Answers at the end of the request (NULL: echo, which streams). */
	void (*answer)(struct writer *w, const struct zmtp_rpc *r,
		       struct rpc_done *d);
};

static void answer_ping(struct writer *w, const struct zmtp_rpc *r,
			struct rpc_done *d)
{
	w_status(w, r, true, false);
	d->ok = true;
}

/* delay's argument: decimal milliseconds, 0 .. RPC_DELAY_MAX_MS. */
static bool delay_value(const struct zmtp_rpc *r, uint32_t *ms)
{
	uint32_t v = 0;

	if (r->arg_cut || r->arg_len == 0)
		return false;
	for (unsigned i = 0; i < r->arg_len; i++) {
		if (r->arg[i] < '0' || r->arg[i] > '9')
			return false;
		v = v * 10 + (uint32_t)(r->arg[i] - '0');
	}
	if (v > RPC_DELAY_MAX_MS)
		return false;
	*ms = v;
	return true;
}

static void answer_delay(struct writer *w, const struct zmtp_rpc *r,
			 struct rpc_done *d)
{
	uint32_t ms;

	if (!delay_value(r, &ms)) {
		w_error(w, r, "bad-argument",
			"delay takes milliseconds from 0 to 60000");
		return;
	}
	w_status(w, r, true, false);
	d->ok = true;
	d->delay_ms = ms;
}

#define ANY_ARGS UINT32_MAX

static const struct method methods[] = {
	{ "ping", M_PING, 0, 0, "takes no arguments", answer_ping },
	{ "echo", M_ECHO, 0, ANY_ARGS, NULL, NULL },
	{ "delay", M_DELAY, 1, 1, "takes one argument (milliseconds)",
	  answer_delay },
};
#define NMETHODS (sizeof(methods) / sizeof(methods[0]))

static const struct method *method_of(const struct zmtp_rpc *r)
{
	for (size_t i = 0; i < NMETHODS; i++)
		if (methods[i].id == r->method)
			return &methods[i];
	return NULL;
}

/* The method named by the whole name frame (M_UNKNOWN when none is). */
static uint8_t method_lookup(const struct zmtp_rpc *r)
{
	for (size_t i = 0; i < NMETHODS && !r->name_cut; i++)
		if (strlen(methods[i].name) == r->name_len &&
		    memcmp(methods[i].name, r->name, r->name_len) == 0)
			return methods[i].id;
	return M_UNKNOWN;
}

/* "no method "NAME" (expected one of: ping, echo, delay)": the name as
 * printable ASCII (other bytes as '?'), cut at RPC_NAME_MAX with "...". */
static void unknown_text(const struct zmtp_rpc *r, char *dst, size_t cap)
{
	char name[RPC_NAME_MAX + 4];
	size_t n = 0, used;

	for (unsigned i = 0; i < r->name_len; i++)
		name[n++] = r->name[i] >= 0x20 && r->name[i] < 0x7f ?
			    r->name[i] : '?';
	if (r->name_cut) {
		memcpy(name + n, "...", 3);
		n += 3;
	}
	name[n] = '\0';
	used = (size_t)snprintf(dst, cap, "no method \"%s\" (expected one of: ",
				name);
	for (size_t i = 0; i < NMETHODS && used < cap; i++)
		used += (size_t)snprintf(dst + used, cap - used, "%s%s",
					 i ? ", " : "", methods[i].name);
	if (used < cap)
		snprintf(dst + used, cap - used, ")");
}

/* The reply to a request whose last frame came, echo's excepted. */
static void answer(struct writer *w, const struct zmtp_rpc *r,
		   struct rpc_done *d)
{
	const struct method *m = method_of(r);
	char text[160];

	if (r->method == M_NONE) {
		w_error(w, r, "no-method", "a request is [method, argument...] "
			"after an optional empty delimiter: no method frame came");
		return;
	}
	if (!m) {
		unknown_text(r, text, sizeof(text));
		w_error(w, r, "unknown-method", text);
		return;
	}
	if (r->argc < m->min_args || r->argc > m->max_args) {
		snprintf(text, sizeof(text), "%s %s, got %u", m->name, m->arity,
			 r->argc);
		w_error(w, r, "bad-arity", text);
		return;
	}
	m->answer(w, r, d);
}

/* ---- the request, frame by frame ----------------------------------------- */

void rpc_init(struct zmtp_rpc *r, uint32_t delay_ms)
{
	*r = (struct zmtp_rpc){ .delay_ms = delay_ms };
}

/* The index of the method frame in the request. */
static uint32_t name_index(const struct zmtp_rpc *r)
{
	return r->delim ? 1 : 0;
}

void rpc_frame_begin(struct zmtp_rpc *r, uint64_t size, bool more,
		     struct buf *out)
{
	r->seen = 0;
	r->more = more;
	if (r->index == 0 && size == 0) {
		r->delim = true;	/* REQ's envelope: it comes back */
	} else if (r->index > name_index(r)) {
		r->argc++;
		if (r->streaming) {
			unsigned char *dst = (unsigned char *)buf_tail(out);
			out->len += zmtp_header_put(dst, more ? ZMTP_MORE : 0,
						    size);
		}
	}
	r->index++;
}

bool rpc_data_copies(const struct zmtp_rpc *r)
{
	return r->streaming;
}

/* Keeps up to cap bytes of p in dst (at *len); *cut when there were more. */
static void keep(char *dst, uint8_t *len, bool *cut, size_t cap, const char *p,
		 size_t n)
{
	size_t room = cap - *len;
	size_t k = n < room ? n : room;

	memcpy(dst + *len, p, k);
	*len = (uint8_t)(*len + k);
	if (k < n)
		*cut = true;
}

size_t rpc_frame_data(struct zmtp_rpc *r, const char *p, size_t n,
		      struct buf *out)
{
	uint32_t frame = r->index - 1;

	if (r->streaming) {
		size_t k = n < buf_space(out) ? n : buf_space(out);
		buf_append(out, p, k);
		r->seen += k;
		return k;
	}
	if (frame == name_index(r))
		keep(r->name, &r->name_len, &r->name_cut, RPC_NAME_MAX, p, n);
	else if (frame == name_index(r) + 1)
		keep(r->arg, &r->arg_len, &r->arg_cut, RPC_ARG_MAX, p, n);
	r->seen += n;
	return n;
}

void rpc_frame_end(struct zmtp_rpc *r, struct buf *out, struct rpc_done *d)
{
	struct writer w = { .out = out };

	*d = (struct rpc_done){ .delay_ms = r->delay_ms };
	if (r->index - 1 == name_index(r)) {
		r->method = method_lookup(r);
		if (r->method == M_ECHO) {
			r->streaming = true;
			w_status(&w, r, true, r->more);
		}
	}
	if (r->more)
		return;
	if (r->streaming)
		d->ok = true;
	else
		answer(&w, r, d);
	d->done = true;
	rpc_init(r, r->delay_ms);
}
