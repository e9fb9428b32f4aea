/* echo: every byte that comes in goes out, as it arrives, so messages of any
 * size stream through bounded buffers.  A newline ends a request: it is what
 * the request counter and the latency histogram count.  Bytes after the last
 * newline are echoed too; they form a request once their newline comes.
 *
 * With [server] delay, each line is echoed whole, delay after its newline
 * arrived (a stand-in for a backend call per request).  A line that does
 * not fit the input buffer streams through undelayed until its last piece,
 * which is delayed with its newline. */
#include <string.h>

#include "../config.h"
#include "proto.h"

struct echo_state {
	bool in_line;		/* bytes of an unterminated line were echoed */
	uint32_t delay_ms;
};

static void echo_init(void *state, const struct config *cfg)
{
	struct echo_state *st = state;

	st->in_line = false;
	st->delay_ms = (uint32_t)cfg->delay_ms;
}

/* One whole line, echoed and held for the delay; 0 while it is incomplete
 * or out lacks room for it. */
static size_t echo_line_delayed(struct echo_state *st, const char *in,
				size_t len, struct buf *out,
				struct proto_result *res)
{
	const char *nl = memchr(in, '\n', len);
	size_t n = nl ? (size_t)(nl - in) + 1 : 0;

	if (!n || n > buf_space(out)) {
		res->partial = true;
		return 0;
	}
	buf_append(out, in, n);
	res->requests = 1;
	res->delay_ms = st->delay_ms;
	res->delay_off = 0;
	st->in_line = false;
	return n;
}

/* Echoes what fits, at once. */
static size_t echo_stream(struct echo_state *st, const char *in, size_t len,
			  struct buf *out, struct proto_result *res)
{
	size_t n = len < buf_space(out) ? len : buf_space(out);

	if (n == 0) {
		res->partial = st->in_line;
		return 0;
	}
	buf_append(out, in, n);
	for (const char *p = in, *end = in + n;
	     (p = memchr(p, '\n', (size_t)(end - p))) != NULL; p++)
		res->requests++;
	st->in_line = in[n - 1] != '\n';
	res->partial = st->in_line;
	return n;
}

static size_t echo_feed(void *state, const char *in, size_t len,
			struct buf *out, struct proto_result *res)
{
	struct echo_state *st = state;

	if (st->delay_ms && (memchr(in, '\n', len) || len < CONFIG_IN_BUFFER))
		return echo_line_delayed(st, in, len, out, res);
	return echo_stream(st, in, len, out, res);
}

/* End of stream with delay: the unterminated last line still comes back
 * (at once: without its newline it is no request). */
static size_t echo_finish(void *state, const char *in, size_t len,
			  struct buf *out, struct proto_result *res)
{
	return echo_stream(state, in, len, out, res);
}

const struct evd_proto evd_proto_echo = {
	.name = "echo",
	.summary = "every byte comes back; a newline ends a request",
	.state_size = sizeof(struct echo_state),
	.init = echo_init,
	.feed = echo_feed,
	.finish = echo_finish,
};
