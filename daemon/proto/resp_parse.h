/* The RESP command parser (resp_parse.c), for resp.c: no I/O, no
 * allocation, no logging; commands and arguments point into the caller's
 * buffer.  A pure function of the bytes and the [resp] limits. */
#ifndef EVD_RESP_PARSE_H
#define EVD_RESP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct resp_state {
	uint32_t max_bulk;
	uint32_t max_args;
	uint32_t delay_ms;	/* [server] delay: for every reply */
};

/* Why a command is refused; resp_perr_text[] has Redis's words. */
enum perr {
	PERR_MBULK_LEN,
	PERR_BULK_LEN,
	PERR_DOLLAR,
	PERR_BULK_CRLF,
	PERR_BIG_INLINE,
	PERR_BIG_MBULK,
	PERR_QUOTES,
	PERR_MAX
};

extern const char *const resp_perr_text[PERR_MAX];

/* A whole command in the input. */
struct cmd {
	const char *args;	/* the first argument ("$..." or inline text) */
	const char *end;	/* past the last argument */
	unsigned argc;		/* 0: an empty command, nothing to answer */
	bool inl;
	enum perr err;		/* when parse() returns -1 */
	char got;		/* PERR_DOLLAR: the byte found instead */
};

/* One argument: raw bytes, or an inline token still to be unquoted. */
struct arg {
	const char *p;
	size_t rawlen;
	size_t len;		/* decoded */
	bool plain;		/* the decoded bytes are p[0..len) */
};

/* Walks the arguments of a parsed (so valid) command. */
struct iter {
	const char *p;
	const char *end;
	bool inl;
};

static inline struct iter resp_iter_start(const struct cmd *cmd)
{
	return (struct iter){ .p = cmd->args, .end = cmd->end,
			      .inl = cmd->inl };
}

/*
 * Parses the command at the start of in[0..len).  Returns its length (cmd
 * filled in; argc 0 for an empty command), 0 if it is not all there yet, -1
 * on a protocol error (cmd->err).  A command that cannot fit in the
 * connection's input buffer is an error, so that one always ends.
 */
long resp_parse(const struct resp_state *st, const char *in, size_t len,
		struct cmd *cmd);

/* The next argument of a parsed command into a; false after the last. */
bool resp_iter_next(struct iter *it, struct arg *a);

/* Copies at most cap decoded bytes of a to dst; returns how many. */
size_t resp_arg_copy(const struct arg *a, char *dst, size_t cap);

/* Whether a is name (upper-case letters only), ignoring case. */
bool resp_arg_is(const struct arg *a, const char *name);

/* Parses a as a Redis integer (string2ll rules). */
bool resp_arg_int(const struct arg *a, int64_t *v);

#endif
