/* The RESP command parser (see resp_parse.h): multibulk arrays and inline
 * lines with Redis's quoting rules, every length checked. */
#include "resp_parse.h"

#include <string.h>
#include <strings.h>

#include "../config.h"
#include "../util.h"

/* A length line: "-9223372036854775808" and its '\r'. */
#define NUMBER_LINE_MAX 21

const char *const resp_perr_text[PERR_MAX] = {
	[PERR_MBULK_LEN] = "Protocol error: invalid multibulk length",
	[PERR_BULK_LEN] = "Protocol error: invalid bulk length",
	[PERR_DOLLAR] = "Protocol error: expected '$', got '",
	[PERR_BULK_CRLF] = "Protocol error: expected CRLF after bulk",
	[PERR_BIG_INLINE] = "Protocol error: too big inline request",
	[PERR_BIG_MBULK] = "Protocol error: too big multibulk request",
	[PERR_QUOTES] = "Protocol error: unbalanced quotes in request",
};
_Static_assert(sizeof(resp_perr_text) / sizeof(resp_perr_text[0]) == PERR_MAX,
	       "one message per protocol error");

/* Bytes that separate inline tokens (BLANK) and that end an unquoted
 * one (STOP: a separator redis-cli splits on, or a quote), one load each. */
enum { BLANK = 1, STOP = 2 };
static const unsigned char inline_class[256] = {
	[' '] = BLANK | STOP, ['\t'] = BLANK | STOP, ['\n'] = BLANK | STOP,
	['\r'] = BLANK | STOP, ['\v'] = BLANK, ['\f'] = BLANK,
	['"'] = STOP, ['\''] = STOP,
};

static bool is_blank(char c)
{
	return inline_class[(unsigned char)c] & BLANK;
}

/*
 * Redis's string2ll: an optional '-', then "0" or digits without a leading
 * zero, within int64_t ("-0" is refused).  Returns true with *v set.
 */
static bool strict_ll(const char *p, size_t n, int64_t *v)
{
	bool neg = false;
	uint64_t acc = 0, lim = INT64_MAX;

	if (n == 1 && p[0] == '0') {
		*v = 0;
		return true;
	}
	if (n && p[0] == '-') {
		neg = true;
		lim = (uint64_t)INT64_MAX + 1;
		p++;
		n--;
	}
	if (n == 0 || p[0] < '1' || p[0] > '9')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		unsigned d = (unsigned)(p[i] - '0');
		if (acc > (lim - d) / 10)
			return false;
		acc = acc * 10 + d;
	}
	*v = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return true;
}

/*
 * A length line at p ("123\r\n", after its '*' or '$').  Returns 1 with the
 * value and the bytes used, 0 if more input is needed, -1 if it cannot be a
 * valid number (a byte other than a digit or '-', no CRLF within
 * NUMBER_LINE_MAX bytes): refused as soon as that shows, whatever follows.
 */
static int number_line(const char *p, size_t avail, int64_t *v, size_t *used)
{
	size_t max = avail < NUMBER_LINE_MAX ? avail : NUMBER_LINE_MAX;
	size_t i;

	/* One digit, the usual count and length ("*1", "$4"). */
	if (avail >= 3 && p[0] >= '1' && p[0] <= '9' && p[1] == '\r' &&
	    p[2] == '\n') {
		*v = p[0] - '0';
		*used = 3;
		return 1;
	}
	for (i = 0; i < max && p[i] != '\r'; i++)
		if ((p[i] < '0' || p[i] > '9') && p[i] != '-')
			return -1;
	if (i == max)
		return max == NUMBER_LINE_MAX ? -1 : 0;
	if (i + 1 == avail)
		return 0;
	if (p[i + 1] != '\n' || !strict_ll(p, i, v))
		return -1;
	*used = i + 2;
	return 1;
}

/*
 * Scans the inline token at p (not a blank) up to end, as Redis's
 * sdssplitargs does: "double quotes" with \n \r \t \b \a \xHH escapes,
 * 'single quotes' with \', a closing quote followed by a blank or the end.
 * Writes at most cap decoded bytes to dst (may be NULL) and sets *len to the
 * decoded length and *plain to whether no quote was seen.  Returns where the
 * token ends, or NULL on unbalanced quotes.
 */
static const char *inline_token(const char *p, const char *end, char *dst,
				size_t cap, size_t *len, bool *plain)
{
	enum { UNQUOTED, DOUBLE, SINGLE } q = UNQUOTED;
	size_t n = 0;

#define PUT(ch) do { \
	if (dst && n < cap) \
		dst[n] = (ch); \
	n++; \
} while (0)
	*plain = true;
	if (!dst) {
		/* Measuring: a token without quotes is the usual case. */
		const char *s = p;
		while (s < end && !(inline_class[(unsigned char)*s] & STOP))
			s++;
		if (s == end || (*s != '"' && *s != '\'')) {
			*len = (size_t)(s - p);
			return s;
		}
	}
	for (;;) {
		if (p == end) {
			if (q != UNQUOTED)
				return NULL;
			break;
		}
		char c = *p;
		if (q == DOUBLE) {
			if (c == '\\' && end - p >= 4 && p[1] == 'x' &&
			    hex_value(p[2]) >= 0 && hex_value(p[3]) >= 0) {
				PUT((char)(hex_value(p[2]) << 4 |
					   hex_value(p[3])));
				p += 4;
			} else if (c == '\\' && end - p >= 2) {
				char e = p[1];
				PUT(e == 'n' ? '\n' : e == 'r' ? '\r' :
				    e == 't' ? '\t' : e == 'b' ? '\b' :
				    e == 'a' ? '\a' : e);
				p += 2;
			} else if (c == '"') {
				p++;
				if (p != end && !is_blank(*p))
					return NULL;
				break;
			} else {
				PUT(c);
				p++;
			}
		} else if (q == SINGLE) {
			if (c == '\\' && end - p >= 2 && p[1] == '\'') {
				PUT('\'');
				p += 2;
			} else if (c == '\'') {
				p++;
				if (p != end && !is_blank(*p))
					return NULL;
				break;
			} else {
				PUT(c);
				p++;
			}
		} else {
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				break;
			if (c == '"' || c == '\'') {
				q = c == '"' ? DOUBLE : SINGLE;
				*plain = false;
			} else {
				PUT(c);
			}
			p++;
		}
	}
#undef PUT
	*len = n;
	return p;
}

static const char *skip_blanks(const char *p, const char *end)
{
	while (p < end && is_blank(*p))
		p++;
	return p;
}

/* Returns bytes of the inline command at in, 0 or -1 as resp_parse() does. */
static long parse_inline(const struct resp_state *st, const char *in,
			 size_t len, struct cmd *cmd)
{
	const char *nl = memchr(in, '\n', len);
	const char *p, *end;

	if (!nl) {
		if (len < CONFIG_IN_BUFFER)
			return 0;
		cmd->err = PERR_BIG_INLINE;
		return -1;
	}
	end = nl;
	if (end > in && end[-1] == '\r')
		end--;
	cmd->inl = true;
	cmd->argc = 0;
	cmd->args = in;
	cmd->end = end;
	for (p = skip_blanks(in, end); p < end; p = skip_blanks(p, end)) {
		size_t n;
		bool plain;

		p = inline_token(p, end, NULL, 0, &n, &plain);
		if (!p) {
			cmd->err = PERR_QUOTES;
			return -1;
		}
		if (++cmd->argc > st->max_args || n > st->max_bulk) {
			cmd->err = PERR_BIG_INLINE;
			return -1;
		}
	}
	return nl - in + 1;
}

/* Returns bytes of the multibulk command at in ('*'), 0 or -1. */
static long parse_multibulk(const struct resp_state *st, const char *in,
			    size_t len, struct cmd *cmd)
{
	size_t pos = 1, used;
	int64_t n;
	int r = number_line(in + pos, len - pos, &n, &used);

	if (r <= 0) {
		cmd->err = PERR_MBULK_LEN;
		return r;
	}
	pos += used;
	cmd->inl = false;
	cmd->argc = 0;
	cmd->args = cmd->end = in + pos;
	if (n <= 0)
		return (long)pos;	/* "*0", "*-1": nothing to do */
	if (n > st->max_args) {
		cmd->err = PERR_MBULK_LEN;
		return -1;
	}
	for (int64_t k = 0; k < n; k++) {
		int64_t blen;

		if (pos == len)
			return 0;
		if (in[pos] != '$') {
			cmd->err = PERR_DOLLAR;
			cmd->got = in[pos];
			return -1;
		}
		pos++;
		r = number_line(in + pos, len - pos, &blen, &used);
		if (r == 0)
			return 0;
		if (r < 0 || blen < 0 || blen > st->max_bulk) {
			cmd->err = PERR_BULK_LEN;
			return -1;
		}
		pos += used;
		if (pos + (size_t)blen + 2 > CONFIG_IN_BUFFER) {
			cmd->err = PERR_BIG_MBULK;
			return -1;
		}
		if (len - pos > (size_t)blen && in[pos + blen] != '\r') {
			cmd->err = PERR_BULK_CRLF;
			return -1;
		}
		if (len - pos < (size_t)blen + 2)
			return 0;
		if (in[pos + blen + 1] != '\n') {
			cmd->err = PERR_BULK_CRLF;
			return -1;
		}
		pos += (size_t)blen + 2;
	}
	cmd->argc = (unsigned)n;
	cmd->end = in + pos;
	return (long)pos;
}

/*
 * Parses the command at the start of in[0..len).  Returns its length (cmd
 * filled in; argc 0 for an empty command), 0 if it is not all there yet, -1
 * on a protocol error (cmd->err).  A command that cannot fit in the
 * connection's input buffer is an error, so that one always ends.
 */
long resp_parse(const struct resp_state *st, const char *in, size_t len,
		  struct cmd *cmd)
{
	long r;

	if (in[0] != '*')
		return parse_inline(st, in, len, cmd);
	r = parse_multibulk(st, in, len, cmd);
	if (r == 0 && len >= CONFIG_IN_BUFFER) {
		cmd->err = PERR_BIG_MBULK;
		return -1;
	}
	return r;
}

bool resp_iter_next(struct iter *it, struct arg *a)
{
	if (it->inl) {
		const char *p = skip_blanks(it->p, it->end);
		if (p == it->end)
			return false;
		it->p = inline_token(p, it->end, NULL, 0, &a->len, &a->plain);
		a->p = p;
		a->rawlen = (size_t)(it->p - p);
		return true;
	}
	if (it->p == it->end)
		return false;
	size_t n = 0;
	const char *p = it->p + 1;	/* past '$' */
	while (*p != '\r')
		n = n * 10 + (size_t)(*p++ - '0');
	a->p = p + 2;
	a->len = a->rawlen = n;
	a->plain = true;
	it->p = a->p + n + 2;
	return true;
}

/* Copies at most cap decoded bytes of a to dst; returns how many. */
size_t resp_arg_copy(const struct arg *a, char *dst, size_t cap)
{
	size_t n = a->len < cap ? a->len : cap;
	size_t len;
	bool plain;

	if (a->plain)
		memcpy(dst, a->p, n);
	else
		inline_token(a->p, a->p + a->rawlen, dst, cap, &len, &plain);
	return n;
}

/* Whether a is name (letters only), ignoring case. */
bool resp_arg_is(const struct arg *a, const char *name)
{
	char buf[16];
	size_t n;

	if (a->plain) {
		/* For a letter, OR-ing 0x20 folds case and makes nothing
		 * else that letter. */
		for (n = 0; n < a->len; n++)
			if (!name[n] || (a->p[n] | 0x20) != (name[n] | 0x20))
				return false;
		return !name[n];
	}
	n = strlen(name);
	if (a->len != n || n > sizeof(buf))
		return false;
	resp_arg_copy(a, buf, sizeof(buf));
	return strncasecmp(buf, name, n) == 0;
}

/* Parses a as a Redis integer (string2ll rules). */
bool resp_arg_int(const struct arg *a, int64_t *v)
{
	char buf[NUMBER_LINE_MAX];

	if (a->len >= sizeof(buf))
		return false;
	return strict_ll(buf, resp_arg_copy(a, buf, sizeof(buf)), v);
}

