/* Protocols are I/O-free state machines: bytes in, response bytes appended
 * to an output buffer, and what to do next.  Every model drives every
 * protocol through conn.c, so a model never parses. */
#ifndef EVD_PROTO_H
#define EVD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../buf.h"

struct config;

/* Kinds of responses, counted in the stats (responses_http_2xx ...). */
enum proto_reply {
	REPLY_HTTP_1XX,
	REPLY_HTTP_2XX,
	REPLY_HTTP_3XX,
	REPLY_HTTP_4XX,
	REPLY_HTTP_5XX,
	REPLY_RESP_STATUS,	/* +OK */
	REPLY_RESP_ERROR,	/* -ERR */
	REPLY_RESP_INTEGER,	/* :1 */
	REPLY_RESP_BULK,	/* $3 */
	REPLY_RESP_ARRAY,	/* *2 */
	REPLY_ZMTP_OK,		/* ["OK", ...] */
	REPLY_ZMTP_ERROR,	/* ["ERR", code, message] */
	PROTO_REPLY_MAX
};

/* What one feed() call did, besides consuming input. */
struct proto_result {
	unsigned requests;	/* requests whose response is now complete in out */
	bool partial;		/* a request is started but not complete */
	bool close;		/* close once out is flushed; ignore further input */
	bool error;		/* the peer broke the protocol (counted) */
	/*
	 * The last response appended is due delay_ms from now (backend I/O
	 * stand-in): it starts delay_off bytes after what out held when feed()
	 * was called.  feed() stops after a delayed request; the connection
	 * holds that response back, and feeds again once it is sent.
	 */
	uint32_t delay_ms;
	size_t delay_off;
	unsigned replies[PROTO_REPLY_MAX];	/* responses appended, by kind */
	uint32_t kinds;		/* bit k set when replies[k] is not 0 */
};

_Static_assert(PROTO_REPLY_MAX <= 32, "kinds has a bit per reply kind");

/* Counts one response of kind k in res (replies and kinds together). */
static inline void proto_count(struct proto_result *res, enum proto_reply k)
{
	res->replies[k]++;
	res->kinds |= 1u << k;
}

struct evd_proto {
	const char *name;
	const char *summary;
	size_t state_size;
	void (*init)(void *state, const struct config *cfg);
	/*
	 * Consumes a prefix of in[0..len) and appends responses to out without
	 * growing it past its capacity.  Returns the bytes consumed; 0 means it
	 * needs more input or more room in out.  res starts zeroed.
	 */
	size_t (*feed)(void *state, const char *in, size_t len, struct buf *out,
		       struct proto_result *res);
	/*
	 * Optional: the peer ended its stream and in[0..len) is what feed()
	 * left.  Answers what can be answered (as feed() does) and returns
	 * the bytes consumed; NULL drops an incomplete request.
	 */
	size_t (*finish)(void *state, const char *in, size_t len,
			 struct buf *out, struct proto_result *res);
	/*
	 * Optional: the server drains (stops or reloads).  Returns true when
	 * the protocol will end the connection itself after its next
	 * response (HTTP: Connection: close); without it (or when false) an
	 * idle connection is closed at once.
	 */
	bool (*drain)(void *state);
	/*
	 * Optional: the held response's wait is over.  True, with *ms > 0,
	 * when it waits again before it is due (HTTP's /delay/50,25,50: the
	 * next backend of a chain, called in sequence); false when it is due
	 * now.  Only called while a response is held.
	 */
	bool (*rewait)(void *state, uint32_t *ms);
};

extern const struct evd_proto *const evd_protos[];

const struct evd_proto *proto_find(const char *name);
const char *proto_names(void);

#endif
