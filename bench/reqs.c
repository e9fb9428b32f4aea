/* Requests and replies: what evbench sends and how it checks what comes
 * back.  Pure functions of bytes: no I/O, and allocation only in
 * reqspec_init(). */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "evbench.h"

#define RESP_LINE_MAX (64 * 1024)	/* a simple string or a length line */
#define RESP_DEPTH_MAX 16		/* nested arrays */
#define RESP_BULK_MAX (512ll * 1024 * 1024)

/* ---- building ------------------------------------------------------------ */

void echo_fill(const struct reqspec *s, uint64_t key, char *dst)
{
	memcpy(dst, echo_letters(s, key), s->size - 1);
	dst[s->size - 1] = '\n';
}

static char *build_http(const struct bench_opts *o, size_t *len)
{
	char *req = NULL;
	int n = asprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", o->path,
			 o->target);

	if (n < 0)
		return NULL;
	*len = (size_t)n;
	return req;
}

/* The words of a command line, split on spaces: at most n, into w. */
static size_t split_words(const char *s, const char **w, size_t *wl, size_t n)
{
	size_t k = 0;

	while (*s) {
		s += strspn(s, " ");
		if (!*s || k == n)
			break;
		w[k] = s;
		wl[k] = strcspn(s, " ");
		s += wl[k++];
	}
	return k;
}

#define WORDS_MAX 1024

/* "*N\r\n$len\r\nword\r\n..." */
static char *build_resp(const char *cmd, size_t *len, const char **w,
			size_t *wl, size_t *nw)
{
	size_t n = split_words(cmd, w, wl, WORDS_MAX), size = 32;
	char *req, *p;

	for (size_t i = 0; i < n; i++)
		size += wl[i] + 32;
	req = malloc(size);
	if (!req)
		return NULL;
	p = req + sprintf(req, "*%zu\r\n", n);
	for (size_t i = 0; i < n; i++) {
		p += sprintf(p, "$%zu\r\n", wl[i]);
		memcpy(p, w[i], wl[i]);
		p += wl[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	*len = (size_t)(p - req);
	*nw = n;
	return req;
}

static bool word_is(const char *w, size_t wl, const char *name)
{
	return wl == strlen(name) && strncasecmp(w, name, wl) == 0;
}

/* The exact reply evd (or Redis) gives, for the commands whose reply is
 * known; NULL (and no error) for any other command. */
static char *resp_expected(const char **w, const size_t *wl, size_t n,
			   size_t *len)
{
	char *e = NULL;
	int k = -1;

	if (n == 1 && word_is(w[0], wl[0], "PING"))
		k = asprintf(&e, "+PONG\r\n");
	else if (n == 2 && (word_is(w[0], wl[0], "PING") ||
			    word_is(w[0], wl[0], "ECHO")))
		k = asprintf(&e, "$%zu\r\n%.*s\r\n", wl[1], (int)wl[1], w[1]);
	else if (n == 2 && word_is(w[0], wl[0], "DELAY"))
		k = asprintf(&e, "+OK\r\n");
	if (k < 0)
		return NULL;
	*len = (size_t)k;
	return e;
}

int reqspec_init(struct reqspec *s, const struct bench_opts *o, char *err,
		 size_t errlen)
{
	static const char *w[WORDS_MAX];
	static size_t wl[WORDS_MAX];
	size_t nw = 0;

	*s = (struct reqspec){ .proto = o->proto, .size = o->size };
	switch (o->proto) {
	case BP_ECHO:
		s->pattern = malloc(s->size - 1 + PATTERN_PERIOD);
		if (!s->pattern)
			goto nomem;
		for (uint64_t i = 0; i < s->size - 1 + PATTERN_PERIOD; i++)
			s->pattern[i] = (char)('a' + i % PATTERN_PERIOD);
		s->req_len = s->size;
		return 0;
	case BP_HTTP:
		s->req = build_http(o, &s->req_len);
		if (!s->req)
			goto nomem;
		return 0;
	case BP_RESP:
		s->req = build_resp(o->command, &s->req_len, w, wl, &nw);
		if (!s->req)
			goto nomem;
		if (nw == WORDS_MAX) {
			snprintf(err, errlen, "--command: more than %d words",
				 WORDS_MAX - 1);
			reqspec_free(s);
			return -1;
		}
		s->expect = resp_expected(w, wl, nw, &s->expect_len);
		return 0;
	case BP_ZMTP:
		if (zmtp_reqspec_init(s, o, err, errlen) == 0)
			return 0;
		reqspec_free(s);
		return -1;
	case BP_MAX:
		break;
	}
nomem:
	snprintf(err, errlen, "out of memory");
	reqspec_free(s);
	return -1;
}

void reqspec_free(struct reqspec *s)
{
	if (!s)
		return;
	free(s->req);
	free(s->expect);
	free(s->pattern);
	*s = (struct reqspec){ 0 };
}

/* ---- HTTP response heads ------------------------------------------------- */

/* A field value's digits (optional blanks around them) as a length. */
static int64_t parse_length(const char *v, const char *end)
{
	int64_t n = 0;

	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if (v == end)
		return -1;
	for (; v < end; v++) {
		if (*v < '0' || *v > '9' || n > (INT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (*v - '0');
	}
	return n;
}

/* Whether a Connection value lists the token "close". */
static bool has_close(const char *v, const char *end)
{
	while (v < end) {
		while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		const char *t = v;
		while (v < end && *v != ',' && *v != ' ' && *v != '\t')
			v++;
		if (v - t == 5 && strncasecmp(t, "close", 5) == 0)
			return true;
	}
	return false;
}

static bool name_is(const char *p, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

/* One field line [p, end) (no CRLF); updates h.  Returns -1 if it is
 * malformed or frames the body in a way evbench does not follow. */
static int head_field(const char *p, const char *end, struct http_head *h)
{
	const char *colon = memchr(p, ':', (size_t)(end - p));

	if (!colon || colon == p)
		return -1;
	size_t nl = (size_t)(colon - p);
	if (name_is(p, nl, "content-length")) {
		int64_t n = parse_length(colon + 1, end);
		if (n < 0 || (h->content_length >= 0 && h->content_length != n))
			return -1;
		h->content_length = n;
	} else if (name_is(p, nl, "transfer-encoding")) {
		return -1;
	} else if (name_is(p, nl, "connection")) {
		h->close |= has_close(colon + 1, end);
	}
	return 0;
}

int64_t http_head_parse(const char *p, size_t n, struct http_head *h)
{
	const char *end = memmem(p, n < HTTP_HEAD_MAX ? n : HTTP_HEAD_MAX,
				 "\r\n\r\n", 4);

	if (!end)
		return n >= HTTP_HEAD_MAX ? -1 : 0;
	*h = (struct http_head){ .content_length = -1 };
	/* "HTTP/1.1 200 OK": version, 3 digits, then a space or the CRLF. */
	if (end - p < 12 || memcmp(p, "HTTP/1.", 7) != 0 ||
	    (p[7] != '0' && p[7] != '1') || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]) || (p[12] != ' ' && p[12] != '\r'))
		return -1;
	h->status = (unsigned)((p[9] - '0') * 100 + (p[10] - '0') * 10 +
			       (p[11] - '0'));
	/* Field lines run from after the status line to end + 2 (end is the
	 * CRLF of the last one, or of the status line itself). */
	const char *q = (const char *)memchr(p, '\n', (size_t)(end + 2 - p)) + 1;
	while (q < end + 2) {
		const char *eol = memchr(q, '\r', (size_t)(end + 2 - q));
		if (!eol || eol[1] != '\n' || head_field(q, eol, h) < 0)
			return -1;
		q = eol + 2;
	}
	if (h->content_length < 0)
		return -1;
	return end + 4 - p;
}

/* ---- RESP2 values -------------------------------------------------------- */

/* The line at p through its CRLF: its length (CRLF included), 0 if more is
 * needed, -1 if a bare CR or LF is in it or it is too long. */
static int64_t resp_line(const char *p, size_t n)
{
	size_t lim = n < RESP_LINE_MAX ? n : RESP_LINE_MAX;
	const char *lf = memchr(p, '\n', lim);

	if (!lf)
		return n >= RESP_LINE_MAX ? -1 : 0;
	if (lf == p || lf[-1] != '\r' || memchr(p, '\r', (size_t)(lf - p - 1)))
		return -1;
	return lf + 1 - p;
}

/* The integer of a length line "$123\r\n" / "*-1\r\n" (from p + 1). */
static int resp_int(const char *p, int64_t line, int64_t *out)
{
	const char *q = p + 1, *end = p + line - 2;
	bool neg = q < end && *q == '-';
	int64_t v = 0;

	if (neg)
		q++;
	if (q == end)
		return -1;
	for (; q < end; q++) {
		if (*q < '0' || *q > '9' || v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (*q - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

static int64_t resp_value_at(const char *p, size_t n, unsigned depth)
{
	int64_t line, v;

	if (n == 0)
		return 0;
	if (depth > RESP_DEPTH_MAX)
		return -1;
	switch (p[0]) {
	case '+':
	case '-':
	case ':':
		return resp_line(p, n);
	case '$':
		line = resp_line(p, n);
		if (line <= 0)
			return line;
		if (resp_int(p, line, &v) < 0 || v < -1 || v > RESP_BULK_MAX)
			return -1;
		if (v == -1)
			return line;
		if ((uint64_t)(line + v + 2) > n)
			return 0;
		if (p[line + v] != '\r' || p[line + v + 1] != '\n')
			return -1;
		return line + v + 2;
	case '*':
		line = resp_line(p, n);
		if (line <= 0)
			return line;
		if (resp_int(p, line, &v) < 0 || v < -1)
			return -1;
		int64_t off = line;
		for (int64_t i = 0; i < v; i++) {
			int64_t e = resp_value_at(p + off, n - (size_t)off,
						  depth + 1);
			if (e <= 0)
				return e;
			off += e;
		}
		return off;
	default:
		return -1;
	}
}

int64_t resp_value_len(const char *p, size_t n)
{
	return resp_value_at(p, n, 0);
}
