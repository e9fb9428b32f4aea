/* What evbench does differently per protocol: the bytes of a request, how
 * the bytes of replies complete requests, and an opening handshake where
 * the protocol has one (zmtp: zmtp_client.c's bytes).  One row per
 * protocol in bench_protos[]; a new protocol is a file with its ops and one
 * row here.  The engine calls nothing protocol-specific besides these. */
#include <string.h>

#include "engine.h"

/* ---- requests ------------------------------------------------------------ */

static size_t echo_req_len(const struct reqspec *s)
{
	return s->size;
}

/* http, resp: the same request every time (reqspec_init() built it). */
static size_t fixed_req_len(const struct reqspec *s)
{
	return s->req_len;
}

static void fixed_req_fill(const struct reqspec *s, uint64_t key, char *dst)
{
	memcpy(dst, s->req, s->req_len);
}

/* ---- replies ------------------------------------------------------------- */

/* Each consume_*() takes the bytes at p, completes the replies they end,
 * and returns how many it used (the rest is a partial reply to keep), or -1
 * when the connection failed. */

static int64_t consume_echo(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	const struct reqspec *s = w->run->spec;
	size_t off = 0;

	while (off < n) {
		if (c->count == 0)
			return slot_stray(w, c);
		uint64_t pos = c->rx_pos;
		size_t take = (size_t)min_u64(s->size - pos, n - off);
		/* Letters up to size - 1, then the newline. */
		if (pos < s->size - 1) {
			size_t lt = (size_t)min_u64(take, s->size - 1 - pos);
			const char *exp = echo_letters(s, c->ring[c->head].key);
			if (memcmp(p + off, exp + pos, lt) != 0)
				c->rx_bad = true;
		}
		off += take;
		pos += take;
		if (pos == s->size) {
			if (p[off - 1] != '\n')
				c->rx_bad = true;
			slot_complete(w, c, c->rx_bad ? ERR_MISMATCH : OUTCOME_OK);
			c->rx_bad = false;
			pos = 0;
		}
		c->rx_pos = pos;
	}
	return (int64_t)n;
}

static void http_done(struct worker *w, struct slot *c)
{
	slot_complete(w, c, c->rx_status ? ERR_STATUS : OUTCOME_OK);
	c->rx_phase = RX_HEAD;
}

static int64_t consume_http(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	size_t off = 0;

	while (off < n) {
		if (c->rx_phase == RX_BODY) {
			size_t take = (size_t)min_u64(c->rx_pos, n - off);
			c->rx_pos -= take;
			off += take;
			if (c->rx_pos == 0)
				http_done(w, c);
			continue;
		}
		if (c->count == 0)
			return slot_stray(w, c);
		struct http_head h;
		int64_t len = http_head_parse(p + off, n - off, &h);
		if (len == 0)
			break;
		if (len < 0) {
			slot_fail(w, c, ERR_MISMATCH);
			return -1;
		}
		off += (size_t)len;
		c->rx_status = h.status < 200 || h.status > 299;
		c->rx_close |= h.close;
		c->rx_pos = (uint64_t)h.content_length;
		if (c->rx_pos == 0)
			http_done(w, c);
		else
			c->rx_phase = RX_BODY;
	}
	return (int64_t)off;
}

static int64_t consume_resp(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	const struct reqspec *s = w->run->spec;
	size_t off = 0;

	while (off < n) {
		if (c->count == 0)
			return slot_stray(w, c);
		int64_t len = resp_value_len(p + off, n - off);
		if (len == 0)
			break;
		if (len < 0) {
			slot_fail(w, c, ERR_MISMATCH);
			return -1;
		}
		bool ok = p[off] != '-';
		if (s->expect)
			ok = (size_t)len == s->expect_len &&
			     memcmp(p + off, s->expect, s->expect_len) == 0;
		slot_complete(w, c, ok ? OUTCOME_OK : ERR_MISMATCH);
		off += (size_t)len;
	}
	return (int64_t)off;
}

/* ZMTP: the server's greeting and READY, then whole reply messages
 * (commands between them, a PING, are skipped). */
static int64_t consume_zmtp(struct worker *w, struct slot *c, const char *p,
			    size_t n)
{
	const struct reqspec *s = w->run->spec;
	size_t off = 0;

	if (c->hs_pending) {
		int64_t len = zmtp_handshake_len(p, n);
		if (len == 0)
			return 0;
		if (len < 0) {
			slot_fail(w, c, ERR_CONNECT);
			return -1;
		}
		off = (size_t)len;
		c->hs_pending = false;
		slot_ready(w, c);
		if (c->state != CS_OPEN)
			return -1;	/* failed, or done (open loop) */
	}
	while (off < n) {
		bool command;
		int64_t len = zmtp_message_len(p + off, n - off, &command);
		if (len == 0)
			break;
		if (len < 0) {
			slot_fail(w, c, ERR_MISMATCH);
			return -1;
		}
		if (!command) {
			if (c->count == 0)
				return slot_stray(w, c);
			bool ok = zmtp_reply_ok(s, c->ring[c->head].key, p + off,
						(size_t)len);
			slot_complete(w, c, ok ? OUTCOME_OK : ERR_MISMATCH);
		}
		off += (size_t)len;
	}
	return (int64_t)off;
}

/* ---- opening ------------------------------------------------------------- */

/* ZMTP: the greeting and READY go first; consume_zmtp() calls slot_ready()
 * once the server's have come. */
static int zmtp_open(struct worker *w, struct slot *c)
{
	const struct reqspec *s = w->run->spec;

	if (slot_out_reserve(c, ZMTP_HELLO_MAX) < 0) {
		slot_fail(w, c, ERR_CONNECT);
		return -1;
	}
	c->out_len += zmtp_hello(s->delim, c->out + c->out_len);
	c->hs_pending = true;
	return 0;
}

/* ---- the table ----------------------------------------------------------- */

static const struct bench_proto_ops echo_ops = {
	.req_len = echo_req_len,
	.req_fill = echo_fill,
	.consume = consume_echo,
};

static const struct bench_proto_ops http_ops = {
	.req_len = fixed_req_len,
	.req_fill = fixed_req_fill,
	.consume = consume_http,
};

static const struct bench_proto_ops resp_ops = {
	.req_len = fixed_req_len,
	.req_fill = fixed_req_fill,
	.consume = consume_resp,
};

static const struct bench_proto_ops zmtp_ops = {
	.req_len = zmtp_request_len,
	.req_fill = zmtp_request_fill,
	.consume = consume_zmtp,
	.open = zmtp_open,
};

const struct bench_proto_ops *const bench_protos[BP_MAX] = {
	[BP_ECHO] = &echo_ops,
	[BP_HTTP] = &http_ops,
	[BP_RESP] = &resp_ops,
	[BP_ZMTP] = &zmtp_ops,
};
