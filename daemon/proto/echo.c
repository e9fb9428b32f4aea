/* echo: every byte that comes in goes out, as it arrives, so messages of any
 * size stream through bounded buffers.  A newline ends a request: it is what
 * the request counter and the latency histogram count.  Bytes after the last
 * newline are echoed too; they form a request once their newline comes. */
#include <string.h>

#include "proto.h"

struct echo_state {
	bool in_line;	/* bytes of an unterminated line were echoed */
};

static void echo_init(void *state, const struct config *cfg)
{
	struct echo_state *st = state;

	(void)cfg;
	st->in_line = false;
}

static size_t echo_feed(void *state, const char *in, size_t len,
			struct buf *out, struct proto_result *res)
{
	struct echo_state *st = state;
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

const struct evd_proto evd_proto_echo = {
	.name = "echo",
	.summary = "every byte comes back; a newline ends a request",
	.state_size = sizeof(struct echo_state),
	.init = echo_init,
	.feed = echo_feed,
};
