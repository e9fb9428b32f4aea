/* resp: a subset of the Redis protocol (RESP2), enough for redis-cli and
 * redis-benchmark: PING, ECHO, QUIT, DELAY (a reply after a delay) and what
 * the clients send when they start (COMMAND, CONFIG GET, CLIENT SETNAME,
 * SELECT, HELLO).  Commands arrive as multibulk arrays or as inline lines
 * (words, with Redis's quoting rules); the answers and the error messages
 * are Redis 7.0's, byte for byte.
 *
 * Each feed() parses from the start of its input: a command is answered only
 * once all of it has arrived (the input buffer holds CONFIG_IN_BUFFER bytes,
 * and a command that cannot fit is a protocol error).  Nothing is allocated
 * and no state is kept between commands, so the parser is a pure function
 * of the bytes and the [resp] limits.  A protocol error is answered with
 * Redis's message, then the connection closes.
 *
 * Differences from Redis: a bulk must be followed by CRLF (Redis skips two
 * bytes unchecked); [resp] max_args and max_bulk_bytes bound inline commands
 * too; a NUL byte in an inline line is an ordinary byte; a command too big
 * for the input buffer is refused.  Messages of our own: "expected CRLF
 * after bulk", "too big multibulk request" and DELAY's. */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "../config.h"
#include "../util.h"
#include "../version.h"
#include "proto.h"
#include "resp_parse.h"

/* Defaults when init() gets no config (the [resp] defaults of config.c). */
#define RESP_DEFAULT_MAX_BULK 8192
#define RESP_DEFAULT_MAX_ARGS 64
#define DELAY_MAX_MS 60000
/* The arguments a call keeps at hand; handlers walk the rest. */
#define CALL_ARGV 3
/* Redis quotes user text in errors up to this many bytes ("%.128s"). */
#define TEXT_MAX 128

/* ---- replies ------------------------------------------------------------- */

/* Builds a reply at dst, or only measures it when dst is NULL. */
struct writer {
	char *dst;
	size_t cap;
	size_t len;
};

static void w_put(struct writer *w, const void *p, size_t n)
{
	if (w->dst && w->len + n <= w->cap)
		memcpy(w->dst + w->len, p, n);
	w->len += n;
}

/* The error replies' text (every caller is an error path).  Not inlined:
 * gcc would write each literal as 8-byte immediates in the code, cut at
 * random places, which lintian reads as misspelt words in the binary. */
static __attribute__((noinline)) void w_str(struct writer *w, const char *s)
{
	w_put(w, s, strlen(s));
}

static void w_crlf(struct writer *w)
{
	w_put(w, "\r\n", 2);
}

/* kind is one of "+-:$*", then n in decimal and CRLF. */
static void w_number(struct writer *w, char kind, int64_t n)
{
	char buf[24], *p = buf + sizeof(buf);
	uint64_t u = n < 0 ? 0 - (uint64_t)n : (uint64_t)n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (n < 0)
		*--p = '-';
	*--p = kind;
	w_put(w, p, (size_t)(buf + sizeof(buf) - p));
	w_crlf(w);
}

/* "+TEXT\r\n" for a literal TEXT, in one piece. */
#define W_STATUS(w, lit) w_put((w), "+" lit "\r\n", sizeof(lit) + 2)

static void w_bulk(struct writer *w, const char *s, size_t n)
{
	w_number(w, '$', (int64_t)n);
	w_put(w, s, n);
	w_crlf(w);
}

static void w_bulk_str(struct writer *w, const char *s)
{
	w_bulk(w, s, strlen(s));
}

static void w_bulk_arg(struct writer *w, const struct arg *a)
{
	w_number(w, '$', (int64_t)a->len);
	if (w->dst && w->len + a->len <= w->cap)
		resp_arg_copy(a, w->dst + w->len, a->len);
	w->len += a->len;
	w_crlf(w);
}

/*
 * User text inside an error line, as Redis prints it: at most max bytes,
 * up to a NUL ("%.*s" of a C string), CR and LF as spaces.  Returns its
 * length.
 */
static size_t w_text(struct writer *w, const struct arg *a, size_t max)
{
	char buf[TEXT_MAX];
	size_t n = resp_arg_copy(a, buf, max < sizeof(buf) ? max : sizeof(buf));
	char *nul = memchr(buf, '\0', n);

	if (nul)
		n = (size_t)(nul - buf);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == '\r' || buf[i] == '\n')
			buf[i] = ' ';
	w_put(w, buf, n);
	return n;
}

/* ---- commands ------------------------------------------------------------ */

struct call;

struct command {
	const char *name;	/* upper case letters */
	size_t len;		/* strlen(name) */
	int arity;		/* n: exactly n arguments; -n: at least n */
	void (*fn)(struct writer *w, struct call *c);
	const struct command *subs;	/* subcommands, NULL-terminated */
};

/* A command being answered.  Handlers run twice (measure, then write). */
struct call {
	const struct cmd *cmd;
	struct arg argv[CALL_ARGV];	/* the first arguments */
	unsigned argc;
	const struct command *parent;	/* of a subcommand */
	const struct command *def;
	int64_t delay_ms;	/* DELAY's own; -1: the configured one */
	bool quit;
};

static void wrong_arity(struct writer *w, const struct command *parent,
			const struct command *def)
{
	w_str(w, "-ERR wrong number of arguments for '");
	for (int k = 0; k < 2; k++) {
		const struct command *d = k ? def : parent;
		if (!d)
			continue;
		if (k && parent)
			w_put(w, "|", 1);
		for (const char *s = d->name; *s; s++) {
			char lc = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
			w_put(w, &lc, 1);
		}
	}
	w_str(w, "' command\r\n");
}

static void cmd_ping(struct writer *w, struct call *c)
{
	if (c->argc > 2)
		wrong_arity(w, c->parent, c->def);
	else if (c->argc == 2)
		w_bulk_arg(w, &c->argv[1]);
	else
		W_STATUS(w, "PONG");
}

static void cmd_echo(struct writer *w, struct call *c)
{
	w_bulk_arg(w, &c->argv[1]);
}

static void cmd_quit(struct writer *w, struct call *c)
{
	W_STATUS(w, "OK");
	c->quit = true;
}

static void cmd_delay(struct writer *w, struct call *c)
{
	int64_t ms;

	if (!resp_arg_int(&c->argv[1], &ms) || ms < 0 || ms > DELAY_MAX_MS) {
		w_str(w, "-ERR DELAY takes milliseconds from 0 to 60000\r\n");
		return;
	}
	W_STATUS(w, "OK");
	c->delay_ms = ms;
}

static void cmd_select(struct writer *w, struct call *c)
{
	int64_t db;

	if (!resp_arg_int(&c->argv[1], &db))
		w_str(w, "-ERR value is not an integer or out of range\r\n");
	else if (db < INT32_MIN || db > INT32_MAX)
		w_str(w, "-ERR value is out of range, value must between "
			 "-2147483648 and 2147483647\r\n");	/* sic */
	else if (db != 0)
		w_str(w, "-ERR DB index is out of range\r\n");
	else
		W_STATUS(w, "OK");
}

static void cmd_ok(struct writer *w, struct call *c)
{
	W_STATUS(w, "OK");
}

/* HELLO [protover [AUTH user pass] [SETNAME name]]: RESP2 only. */
static void cmd_hello(struct writer *w, struct call *c)
{
	struct iter it = resp_iter_start(c->cmd);
	struct arg a;
	int64_t ver;

	if (c->argc >= 2) {
		if (!resp_arg_int(&c->argv[1], &ver)) {
			w_str(w, "-ERR Protocol version is not an integer or "
				 "out of range\r\n");
			return;
		}
		if (ver != 2) {
			w_str(w, "-NOPROTO unsupported protocol version\r\n");
			return;
		}
	}
	resp_iter_next(&it, &a);
	resp_iter_next(&it, &a);
	for (unsigned left = c->argc > 2 ? c->argc - 2 : 0; left; left--) {
		resp_iter_next(&it, &a);
		if (resp_arg_is(&a, "AUTH") && left >= 3) {
			resp_iter_next(&it, &a);
			resp_iter_next(&it, &a);
			left -= 2;
		} else if (resp_arg_is(&a, "SETNAME") && left >= 2) {
			resp_iter_next(&it, &a);
			left--;
		} else {
			w_str(w, "-ERR Syntax error in HELLO option '");
			w_text(w, &a, TEXT_MAX);
			w_str(w, "'\r\n");
			return;
		}
	}
	w_number(w, '*', 12);
	w_bulk_str(w, "server");
	w_bulk_str(w, "evd");
	w_bulk_str(w, "version");
	w_bulk_str(w, EVD_VERSION);
	w_bulk_str(w, "proto");
	w_number(w, ':', 2);
	w_bulk_str(w, "mode");
	w_bulk_str(w, "standalone");
	w_bulk_str(w, "role");
	w_bulk_str(w, "master");
	w_bulk_str(w, "modules");
	w_number(w, '*', 0);
}

static void cmd_empty_array(struct writer *w, struct call *c)
{
	w_number(w, '*', 0);
}

static void cmd_command_count(struct writer *w, struct call *c)
{
	w_number(w, ':', 0);
}

/* The only parameters redis-benchmark asks for, named as the client did. */
static const char *config_value(const struct arg *a)
{
	if (resp_arg_is(a, "save"))
		return "";
	if (resp_arg_is(a, "appendonly"))
		return "no";
	return NULL;
}

static void cmd_config_get(struct writer *w, struct call *c)
{
	struct iter it;
	struct arg a;
	int64_t found = 0;

	for (int pass = 0; pass < 2; pass++) {
		it = resp_iter_start(c->cmd);
		resp_iter_next(&it, &a);
		resp_iter_next(&it, &a);
		if (pass)
			w_number(w, '*', 2 * found);
		while (resp_iter_next(&it, &a)) {
			const char *v = config_value(&a);
			if (!v)
				continue;
			if (!pass) {
				found++;
				continue;
			}
			w_bulk_arg(w, &a);
			w_bulk_str(w, v);
		}
	}
}

#define CMD(name, arity, fn, subs) { name, sizeof(name) - 1, arity, fn, subs }

static const struct command command_subs[] = {
	CMD("DOCS", -2, cmd_empty_array, NULL),
	CMD("COUNT", 2, cmd_command_count, NULL),
	{ NULL, 0, 0, NULL, NULL },
};

static const struct command config_subs[] = {
	CMD("GET", -3, cmd_config_get, NULL),
	{ NULL, 0, 0, NULL, NULL },
};

static const struct command client_subs[] = {
	CMD("SETNAME", 3, cmd_ok, NULL),
	CMD("SETINFO", 4, cmd_ok, NULL),
	{ NULL, 0, 0, NULL, NULL },
};

static const struct command commands[] = {
	CMD("PING", -1, cmd_ping, NULL),
	CMD("ECHO", 2, cmd_echo, NULL),
	CMD("QUIT", -1, cmd_quit, NULL),
	CMD("DELAY", 2, cmd_delay, NULL),
	CMD("SELECT", 2, cmd_select, NULL),
	CMD("HELLO", -1, cmd_hello, NULL),
	CMD("COMMAND", -1, cmd_empty_array, command_subs),
	CMD("CONFIG", -2, NULL, config_subs),
	CMD("CLIENT", -2, NULL, client_subs),
	{ NULL, 0, 0, NULL, NULL },
};

/* Whether p[0..n) is the n letters of name, ignoring case: for a letter,
 * OR-ing 0x20 folds case and makes nothing else that letter. */
static bool letters_eq(const char *p, const char *name, size_t n)
{
	uint32_t a, b;

	for (; n >= 4; n -= 4, p += 4, name += 4) {
		memcpy(&a, p, 4);
		memcpy(&b, name, 4);
		if ((a | 0x20202020u) != (b | 0x20202020u))
			return false;
	}
	for (; n; n--, p++, name++)
		if ((*p | 0x20) != (*name | 0x20))
			return false;
	return true;
}

static const struct command *lookup(const struct command *table,
				    const struct arg *a)
{
	for (; table->name; table++) {
		if (a->len != table->len)
			continue;
		if (a->plain ? letters_eq(a->p, table->name, a->len) :
			       resp_arg_is(a, table->name))
			return table;
	}
	return NULL;
}

static void unknown_command(struct writer *w, const struct call *c)
{
	struct iter it = resp_iter_start(c->cmd);
	struct arg a;
	size_t shown = 0;

	w_str(w, "-ERR unknown command '");
	w_text(w, &c->argv[0], TEXT_MAX);
	w_str(w, "', with args beginning with: ");
	resp_iter_next(&it, &a);
	while (shown < TEXT_MAX && resp_iter_next(&it, &a)) {
		w_put(w, "'", 1);
		shown += w_text(w, &a, TEXT_MAX - shown) + 3;
		w_put(w, "' ", 2);
	}
	w_crlf(w);
}

static void unknown_subcommand(struct writer *w, const struct call *c,
			       const struct command *def)
{
	w_str(w, "-ERR unknown subcommand '");
	w_text(w, &c->argv[1], TEXT_MAX);
	w_str(w, "'. Try ");
	w_str(w, def->name);
	w_str(w, " HELP.\r\n");
}

static bool arity_ok(const struct command *def, unsigned argc)
{
	return def->arity >= 0 ? argc == (unsigned)def->arity
			       : argc >= (unsigned)-def->arity;
}

/* Writes (or measures) the reply to a parsed command with argc > 0. */
static void execute(struct writer *w, struct call *c)
{
	const struct command *parent = NULL;
	const struct command *def = lookup(commands, &c->argv[0]);

	c->delay_ms = -1;
	c->quit = false;
	if (!def) {
		unknown_command(w, c);
		return;
	}
	if (def->subs && c->argc >= 2) {
		const struct command *sub = lookup(def->subs, &c->argv[1]);
		if (!sub) {
			unknown_subcommand(w, c, def);
			return;
		}
		parent = def;
		def = sub;
	}
	c->parent = parent;
	c->def = def;
	if (!arity_ok(def, c->argc))
		wrong_arity(w, parent, def);
	else
		def->fn(w, c);
}

/* ---- feed ---------------------------------------------------------------- */

static void count_reply(struct proto_result *res, char kind)
{
	switch (kind) {
	case '+': proto_count(res, REPLY_RESP_STATUS); break;
	case '-': proto_count(res, REPLY_RESP_ERROR); break;
	case ':': proto_count(res, REPLY_RESP_INTEGER); break;
	case '$': proto_count(res, REPLY_RESP_BULK); break;
	case '*': proto_count(res, REPLY_RESP_ARRAY); break;
	}
}

static void w_protocol_error(struct writer *w, const struct cmd *cmd)
{
	w_str(w, "-ERR ");
	w_str(w, resp_perr_text[cmd->err]);
	if (cmd->err == PERR_DOLLAR) {
		/* Redis turns CR and LF in an error into spaces. */
		char got = cmd->got == '\r' || cmd->got == '\n' ?
			   ' ' : cmd->got;
		w_put(w, &got, 1);
		w_put(w, "'", 1);
	}
	w_crlf(w);
}

/* Appends "-ERR <protocol error>": false if out has no room for it. */
static bool protocol_error(const struct cmd *cmd, struct buf *out)
{
	struct writer w = { 0 };

	w_protocol_error(&w, cmd);
	if (w.len > buf_space(out))
		return false;
	w = (struct writer){ .dst = buf_tail(out), .cap = w.len };
	w_protocol_error(&w, cmd);
	out->len += w.len;
	return true;
}

/*
 * No reply is longer than this: fixed texts (HELLO's is the longest, under
 * 256 bytes), user text quoted in errors (TEXT_MAX in all), and bulks
 * that echo arguments (CONFIG GET: each with a value; PING, ECHO), at
 * most the command's bytes plus 64 per argument.
 */
#define REPLY_BOUND(cmd) (1024 + 64 * (size_t)(cmd)->argc + \
			  2 * (size_t)((cmd)->end - (cmd)->args))

/*
 * Appends the reply to a parsed command (argc > 0), measured first: false,
 * with nothing appended, if out has no room for it.
 */
static bool answer(const struct cmd *cmd, struct buf *out, struct call *call)
{
	struct writer w = { 0 };
	struct iter it = resp_iter_start(cmd);

	call->cmd = cmd;
	call->argc = 0;
	call->parent = call->def = NULL;
	while (call->argc < CALL_ARGV && call->argc < cmd->argc &&
	       resp_iter_next(&it, &call->argv[call->argc]))
		call->argc++;
	call->argc = cmd->argc;
	/* With room for the longest reply the command can get, write it at
	 * once; otherwise measure it first. */
	if (buf_space(out) >= REPLY_BOUND(cmd)) {
		w = (struct writer){ .dst = buf_tail(out),
				     .cap = buf_space(out) };
		execute(&w, call);
		out->len += w.len;
		return true;
	}
	execute(&w, call);
	if (w.len > buf_space(out))
		return false;
	w = (struct writer){ .dst = buf_tail(out), .cap = w.len };
	execute(&w, call);
	out->len += w.len;
	return true;
}

static void resp_init(void *state, const struct config *cfg)
{
	struct resp_state *st = state;

	st->max_bulk = cfg ? cfg->resp_max_bulk_bytes : RESP_DEFAULT_MAX_BULK;
	st->max_args = cfg ? cfg->resp_max_args : RESP_DEFAULT_MAX_ARGS;
	st->delay_ms = cfg ? (uint32_t)cfg->delay_ms : 0;
}

/*
 * Answers the command at in[0..len) into out: parsed and executed.  Returns its length (call's quit and delay_ms set; 0 replies
 * for an empty command), 0 when it is incomplete or out has no room, or
 * -1 on a protocol error (answered, if out had room: *answered).
 */
static long one_command(const struct resp_state *st, const char *in,
			size_t len, struct buf *out, struct call *call,
			bool *answered)
{
	struct cmd cmd;
	long n = resp_parse(st, in, len, &cmd);
	if (n < 0) {
		*answered = protocol_error(&cmd, out);
		return -1;
	}
	if (n == 0 || cmd.argc == 0) {
		call->quit = false;
		call->delay_ms = -1;
		return n;
	}
	if (!answer(&cmd, out, call))
		return 0;
	return n;
}

/*
 * Answers the whole commands at the start of in, in order.  Stops before a
 * command whose reply does not fit in out, after a delayed reply, after QUIT
 * and after a protocol error.
 */
static size_t resp_feed(void *state, const char *in, size_t len,
			struct buf *out, struct proto_result *res)
{
	const struct resp_state *st = state;
	size_t pos = 0, start = out->len;

	while (pos < len) {
		struct call call;
		size_t at = out->len;
		bool answered = false;
		long n = one_command(st, in + pos, len - pos, out, &call,
				     &answered);

		if (n < 0) {
			if (!answered)
				break;
			proto_count(res, REPLY_RESP_ERROR);
			res->error = res->close = true;
			return len;
		}
		if (n == 0)
			break;
		pos += (size_t)n;
		if (out->len == at)
			continue;	/* an empty command */
		res->requests++;
		count_reply(res, out->data[at]);
		if (call.quit) {
			res->close = true;
			return pos;
		}
		if (call.delay_ms < 0)
			call.delay_ms = st->delay_ms;
		if (call.delay_ms > 0) {
			res->delay_ms = (uint32_t)call.delay_ms;
			res->delay_off = at - start;
			break;
		}
	}
	res->partial = pos < len;
	return pos;
}

const struct evd_proto evd_proto_resp = {
	.name = "resp",
	.summary = "a Redis protocol (RESP2) subset: PING, ECHO, QUIT, DELAY",
	.state_size = sizeof(struct resp_state),
	.init = resp_init,
	.feed = resp_feed,
};
