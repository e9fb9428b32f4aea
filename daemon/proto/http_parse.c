/* The HTTP/1.x request parser (see http_parse.h).  Grammar from RFC 9112:
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *
 * Strict where leniency lets two parsers disagree about where a message
 * ends (request smuggling): one Content-Length or several equal ones,
 * never a list; Transfer-Encoding exactly "chunked" and never next to a
 * Content-Length; no bare CR, NUL, obs-fold or whitespace before a colon. */
#include "http_parse.h"

#include <string.h>
#include <strings.h>

#include "../util.h"

static const char *const err_text[HTTP_ERR_MAX] = {
	[HTTP_ERR_NONE] = "no error",
	[HTTP_ERR_REQUEST_LINE] = "malformed request line",
	[HTTP_ERR_METHOD] = "invalid method",
	[HTTP_ERR_TARGET] = "invalid request target",
	[HTTP_ERR_VERSION] = "malformed HTTP version",
	[HTTP_ERR_VERSION_UNSUPPORTED] = "HTTP version not supported",
	[HTTP_ERR_REQUEST_LINE_TOO_LONG] = "request line too long",
	[HTTP_ERR_HEAD_TOO_LARGE] = "header section too large",
	[HTTP_ERR_TOO_MANY_HEADERS] = "too many header fields",
	[HTTP_ERR_NUL] = "NUL byte in a field",
	[HTTP_ERR_BARE_CR] = "bare CR",
	[HTTP_ERR_CTL] = "control character in a field value",
	[HTTP_ERR_OBS_FOLD] = "obsolete line folding",
	[HTTP_ERR_FIELD_NAME_WS] = "whitespace before the colon",
	[HTTP_ERR_FIELD_NAME] = "invalid field name",
	[HTTP_ERR_NO_COLON] = "field line without a colon",
	[HTTP_ERR_CL_INVALID] = "invalid Content-Length",
	[HTTP_ERR_CL_LIST] = "Content-Length list",
	[HTTP_ERR_CL_OVERFLOW] = "Content-Length overflow",
	[HTTP_ERR_CL_CONFLICT] = "conflicting Content-Length",
	[HTTP_ERR_CL_AND_TE] = "Content-Length with Transfer-Encoding",
	[HTTP_ERR_TE_UNSUPPORTED] = "unsupported Transfer-Encoding",
	[HTTP_ERR_TE_HTTP10] = "Transfer-Encoding in HTTP/1.0",
	[HTTP_ERR_HOST_MISSING] = "missing Host",
	[HTTP_ERR_HOST_DUP] = "more than one Host",
	[HTTP_ERR_BODY_TOO_LARGE] = "request body too large",
	[HTTP_ERR_CHUNK_SIZE] = "invalid chunk size",
	[HTTP_ERR_CHUNK_OVERFLOW] = "chunk size overflow",
	[HTTP_ERR_CHUNK_EXT] = "invalid chunk extension",
	[HTTP_ERR_CHUNK_LINE_TOO_LONG] = "chunk-size line too long",
	[HTTP_ERR_CHUNK_CRLF] = "chunk without CRLF",
};
_Static_assert(sizeof(err_text) / sizeof(err_text[0]) == HTTP_ERR_MAX,
	       "one text per enum http_err");

const char *http_err_text(enum http_err err)
{
	if ((unsigned)err >= HTTP_ERR_MAX || !err_text[err])
		return "unknown error";
	return err_text[err];
}

/* ---- character classes -------------------------------------------------- */

/* tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA (RFC 9110 5.6.2). */
static const unsigned char tchar[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
	['*'] = 1, ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1,
	['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0' ... '9'] = 1, ['A' ... 'Z'] = 1, ['a' ... 'z'] = 1,
};

static bool is_tchar(char c)
{
	return tchar[(unsigned char)c];
}

/* A request-target byte: visible ASCII. */
static bool is_target(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

/* A field-value byte: HT, SP, VCHAR, obs-text. */
static bool is_value(char c)
{
	unsigned char u = (unsigned char)c;

	return u == '\t' || (u >= 0x20 && u != 0x7f);
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool equals_ci(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* ---- request head ------------------------------------------------------- */

void http_request_init(struct http_request *req)
{
	*req = (struct http_request){ .err = HTTP_ERR_NONE };
}

static ssize_t fail(struct http_request *req, enum http_err err)
{
	req->err = err;
	return -1;
}

/*
 * The line end at *p: CRLF or LF.  Returns 1 and moves *p past it, 0 if
 * *p is no line end, -2 if buf ends after a CR, -1 on a bare CR.
 */
static int line_end(const char **p, const char *end)
{
	if (**p == '\n') {
		(*p)++;
		return 1;
	}
	if (**p != '\r')
		return 0;
	if (*p + 1 == end)
		return -2;
	if ((*p)[1] != '\n')
		return -1;
	*p += 2;
	return 1;
}

/* The request line at buf.  Returns its length with the line end, -2, -1. */
static ssize_t parse_request_line(const char *buf, const char *end,
				  struct http_request *req)
{
	static const char proto[] = "HTTP/1.1";
	const char *p = buf;
	int r;

	while (p < end && is_tchar(*p))
		p++;
	if (p == end)
		return -2;
	if (*p != ' ')
		return fail(req, *p == '\r' || *p == '\n' ?
			    HTTP_ERR_REQUEST_LINE : HTTP_ERR_METHOD);
	if (p == buf)
		return fail(req, HTTP_ERR_REQUEST_LINE);
	req->method = buf;
	req->method_len = (size_t)(p - buf);

	const char *target = ++p;
	while (p < end && is_target(*p))
		p++;
	if (p == end)
		return -2;
	if (*p != ' ' || p == target)
		return fail(req, *p == ' ' || *p == '\r' || *p == '\n' ?
			    HTTP_ERR_REQUEST_LINE : HTTP_ERR_TARGET);

	/* "HTTP/" DIGIT "." DIGIT, compared byte by byte: "HTTP/1.1" is the
	 * pattern with the digits taken as any digit. */
	const char *v = ++p;
	for (size_t i = 0; i < sizeof(proto) - 1; i++, p++) {
		if (p == end)
			return -2;
		bool ok = i == 5 || i == 7 ? is_digit(*p) : *p == proto[i];
		if (!ok)
			return fail(req, HTTP_ERR_VERSION);
	}
	if (p == end)
		return -2;
	r = line_end(&p, end);
	if (r == -2)
		return -2;
	if (r < 0)
		return fail(req, HTTP_ERR_BARE_CR);
	if (r == 0)
		return fail(req, HTTP_ERR_VERSION);
	if (v[5] != '1' || v[7] > '1')
		return fail(req, HTTP_ERR_VERSION_UNSUPPORTED);
	req->target = target;
	req->target_len = (size_t)(v - 1 - target);
	req->minor_version = (unsigned)(v[7] - '0');
	return p - buf;
}

/* Content-Length: 1*DIGIT, several equal ones allowed (RFC 9112 6.3). */
static enum http_err content_length(struct http_request *req, const char *v,
				    size_t n)
{
	uint64_t x = 0;

	if (req->chunked)
		return HTTP_ERR_CL_AND_TE;
	if (n == 0)
		return HTTP_ERR_CL_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (v[i] == ',')
			return HTTP_ERR_CL_LIST;
		if (!is_digit(v[i]))
			return HTTP_ERR_CL_INVALID;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return HTTP_ERR_CL_OVERFLOW;
		x = x * 10 + d;
	}
	if (req->has_content_length && x != req->content_length)
		return HTTP_ERR_CL_CONFLICT;
	req->content_length = x;
	req->has_content_length = true;
	return HTTP_ERR_NONE;
}

/* Transfer-Encoding: exactly one "chunked" (case-insensitive, RFC 9112 7). */
static enum http_err transfer_encoding(struct http_request *req,
				       const char *v, size_t n)
{
	if (req->minor_version == 0)
		return HTTP_ERR_TE_HTTP10;
	if (req->has_content_length)
		return HTTP_ERR_CL_AND_TE;
	if (req->chunked || !equals_ci(v, n, "chunked"))
		return HTTP_ERR_TE_UNSUPPORTED;
	req->chunked = true;
	return HTTP_ERR_NONE;
}

/* Connection: a comma-separated list of tokens; close wins. */
static void connection(struct http_request *req, const char *v, size_t n)
{
	const char *end = v + n;

	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		const char *e = comma ? comma : end;
		const char *s = v;
		while (s < e && is_ows(*s))
			s++;
		const char *t = e;
		while (t > s && is_ows(t[-1]))
			t--;
		if (equals_ci(s, (size_t)(t - s), "close"))
			req->conn_close = true;
		else if (equals_ci(s, (size_t)(t - s), "keep-alive"))
			req->conn_keep_alive = true;
		v = comma ? comma + 1 : end;
	}
}

/* Applies one complete field; returns why it is refused, or NONE. */
static enum http_err field(struct http_request *req, const char *name,
			   size_t nlen, const char *v, size_t vlen)
{
	switch (nlen) {
	case 4:
		if (equals_ci(name, nlen, "host") && ++req->nhost > 1)
			return HTTP_ERR_HOST_DUP;
		break;
	case 6:
		if (equals_ci(name, nlen, "expect") &&
		    equals_ci(v, vlen, "100-continue"))
			req->expect_continue = true;
		break;
	case 10:
		if (equals_ci(name, nlen, "connection"))
			connection(req, v, vlen);
		break;
	case 14:
		if (equals_ci(name, nlen, "content-length"))
			return content_length(req, v, vlen);
		break;
	case 17:
		if (equals_ci(name, nlen, "transfer-encoding"))
			return transfer_encoding(req, v, vlen);
		break;
	}
	return HTTP_ERR_NONE;
}

/*
 * The field line or empty line at p.  Returns the line's length with its
 * end (the empty line: 1 or 2 and *last set), -2, or -1.
 */
static ssize_t parse_field_line(const char *p0, const char *end,
				const struct http_limits *lim,
				struct http_request *req, bool *last)
{
	const char *p = p0;
	int r;

	r = line_end(&p, end);
	if (r == -2)
		return -2;
	if (r < 0)
		return fail(req, HTTP_ERR_BARE_CR);
	if (r == 1) {
		*last = true;
		return p - p0;
	}
	if (is_ows(*p))
		return fail(req, HTTP_ERR_OBS_FOLD);
	if (req->nheaders >= lim->max_headers)
		return fail(req, HTTP_ERR_TOO_MANY_HEADERS);

	while (p < end && is_tchar(*p))
		p++;
	if (p == end)
		return -2;
	if (*p != ':' || p == p0) {
		if (*p == ':')
			return fail(req, HTTP_ERR_FIELD_NAME);
		if (is_ows(*p))
			return fail(req, HTTP_ERR_FIELD_NAME_WS);
		if (*p == '\r' || *p == '\n')
			return fail(req, HTTP_ERR_NO_COLON);
		return fail(req, *p == '\0' ? HTTP_ERR_NUL : HTTP_ERR_FIELD_NAME);
	}
	const char *name = p0;
	size_t nlen = (size_t)(p - p0);

	p++;
	while (p < end && is_ows(*p))
		p++;
	const char *v = p;
	while (p < end && *p != '\r' && *p != '\n') {
		if (!is_value(*p))
			return fail(req, *p == '\0' ? HTTP_ERR_NUL : HTTP_ERR_CTL);
		p++;
	}
	if (p == end)
		return -2;
	const char *vend = p;
	while (vend > v && is_ows(vend[-1]))
		vend--;
	r = line_end(&p, end);
	if (r == -2)
		return -2;
	if (r < 0)
		return fail(req, HTTP_ERR_BARE_CR);

	enum http_err e = field(req, name, nlen, v, (size_t)(vend - v));
	if (e != HTTP_ERR_NONE)
		return fail(req, e);
	req->nheaders++;
	return p - p0;
}

ssize_t http_parse_request(const char *buf, size_t len,
			   const struct http_limits *lim,
			   struct http_request *req)
{
	size_t window = len < lim->max_head_bytes ? len : lim->max_head_bytes;
	const char *end = buf + window;
	ssize_t r;

	if (req->parsed == 0) {
		r = parse_request_line(buf, end, req);
		if (r == -1)
			return -1;
		if (r == -2)
			goto more;
		req->parsed = (size_t)r;
	} else {
		/* Resuming: the same bytes, maybe somewhere else. */
		req->method = buf;
		req->target = buf + req->method_len + 1;
	}
	for (;;) {
		bool last = false;

		if (req->parsed >= window)
			goto more;
		r = parse_field_line(buf + req->parsed, end, lim, req, &last);
		if (r == -1)
			return -1;
		if (r == -2)
			goto more;
		if (last)
			break;
		req->parsed += (size_t)r;
	}
	/* The empty line is not recorded in req->parsed: another call with
	 * the same bytes returns the same result. */
	if (req->minor_version == 1 && req->nhost == 0)
		return fail(req, HTTP_ERR_HOST_MISSING);
	return (ssize_t)(req->parsed + (size_t)r);
more:
	if (len < lim->max_head_bytes)
		return -2;
	return fail(req, req->parsed == 0 ? HTTP_ERR_REQUEST_LINE_TOO_LONG :
		    HTTP_ERR_HEAD_TOO_LARGE);
}

/* ---- chunked bodies ----------------------------------------------------- */

enum chunk_state {
	CH_SIZE_FIRST,	/* the first hex digit of a chunk size */
	CH_SIZE,	/* more hex digits, ';', BWS or CR */
	CH_SIZE_BWS,	/* whitespace after the size: ';' must follow */
	CH_EXT,		/* extensions up to CR */
	CH_SIZE_LF,	/* LF after the chunk-size line */
	CH_DATA,	/* size bytes of data */
	CH_DATA_CR,	/* CR after the data */
	CH_DATA_LF,	/* LF after the data */
	CH_TRAILER,	/* the start of a trailer line or the final CRLF */
	CH_TR_NAME,	/* a trailer field name */
	CH_TR_VALUE,	/* a trailer field value */
	CH_TR_LF,	/* LF after a trailer line's CR */
	CH_END_LF,	/* LF after the final CR */
	CH_DONE,
};

void http_chunked_init(struct http_chunked *d)
{
	*d = (struct http_chunked){ .state = CH_SIZE_FIRST };
}

/* The next state for byte c, or -1 with d->err set; does not consume c. */
static int chunk_step(struct http_chunked *d, char c,
		      const struct http_limits *lim)
{
	int h;

	switch (d->state) {
	case CH_SIZE_FIRST:
	case CH_SIZE:
		h = hex_value(c);
		if (h >= 0) {
			if (d->size > (UINT64_MAX >> 4)) {
				d->err = HTTP_ERR_CHUNK_OVERFLOW;
				return -1;
			}
			uint64_t size = d->size << 4 | (uint64_t)h;
			if (size > lim->max_body_bytes - d->total) {
				d->err = HTTP_ERR_BODY_TOO_LARGE;
				return -1;
			}
			d->size = size;
			return CH_SIZE;
		}
		if (d->state == CH_SIZE_FIRST)
			break;
		if (c == ';')
			return CH_EXT;
		if (is_ows(c))
			return CH_SIZE_BWS;
		if (c == '\r')
			return CH_SIZE_LF;
		if (c == '\n') {
			d->err = HTTP_ERR_CHUNK_CRLF;
			return -1;
		}
		break;
	case CH_SIZE_BWS:
		if (is_ows(c))
			return CH_SIZE_BWS;
		if (c == ';')
			return CH_EXT;
		break;
	case CH_EXT:
		if (c == '\r')
			return CH_SIZE_LF;
		if (c == '\n') {
			d->err = HTTP_ERR_CHUNK_CRLF;
			return -1;
		}
		if (!is_value(c)) {
			d->err = HTTP_ERR_CHUNK_EXT;
			return -1;
		}
		return CH_EXT;
	case CH_SIZE_LF:
		if (c != '\n') {
			d->err = HTTP_ERR_CHUNK_CRLF;
			return -1;
		}
		return d->size ? CH_DATA : CH_TRAILER;
	case CH_DATA_CR:
		if (c != '\r') {
			d->err = HTTP_ERR_CHUNK_CRLF;
			return -1;
		}
		return CH_DATA_LF;
	case CH_DATA_LF:
		if (c != '\n') {
			d->err = HTTP_ERR_CHUNK_CRLF;
			return -1;
		}
		return CH_SIZE_FIRST;
	case CH_TRAILER:
		if (c == '\r')
			return CH_END_LF;
		if (c == '\n')
			return CH_DONE;
		if (is_ows(c)) {
			d->err = HTTP_ERR_OBS_FOLD;
			return -1;
		}
		if (!is_tchar(c)) {
			d->err = c == '\0' ? HTTP_ERR_NUL : HTTP_ERR_FIELD_NAME;
			return -1;
		}
		if (d->ntrailers >= lim->max_headers) {
			d->err = HTTP_ERR_TOO_MANY_HEADERS;
			return -1;
		}
		d->ntrailers++;
		return CH_TR_NAME;
	case CH_TR_NAME:
		if (is_tchar(c))
			return CH_TR_NAME;
		if (c == ':')
			return CH_TR_VALUE;
		d->err = is_ows(c) ? HTTP_ERR_FIELD_NAME_WS :
			 c == '\r' || c == '\n' ? HTTP_ERR_NO_COLON :
			 c == '\0' ? HTTP_ERR_NUL : HTTP_ERR_FIELD_NAME;
		return -1;
	case CH_TR_VALUE:
		if (c == '\r')
			return CH_TR_LF;
		if (c == '\n')
			return CH_TRAILER;
		if (!is_value(c)) {
			d->err = c == '\0' ? HTTP_ERR_NUL : HTTP_ERR_CTL;
			return -1;
		}
		return CH_TR_VALUE;
	case CH_TR_LF:
	case CH_END_LF:
		if (c != '\n') {
			d->err = HTTP_ERR_BARE_CR;
			return -1;
		}
		return d->state == CH_TR_LF ? CH_TRAILER : CH_DONE;
	}
	d->err = HTTP_ERR_CHUNK_SIZE;
	return -1;
}

/* Counts a byte of a chunk-size line or of the trailers against its limit. */
static bool line_byte(struct http_chunked *d, const struct http_limits *lim)
{
	bool trailer = d->state >= CH_TRAILER;
	size_t max = trailer ? lim->max_head_bytes : HTTP_CHUNK_LINE_MAX;

	if (d->line >= max) {
		d->err = trailer ? HTTP_ERR_HEAD_TOO_LARGE :
			 HTTP_ERR_CHUNK_LINE_TOO_LONG;
		return false;
	}
	d->line++;
	return true;
}

int http_chunked_skip(struct http_chunked *d, const char *buf, size_t len,
		      const struct http_limits *lim, size_t *consumed)
{
	size_t i = 0;

	while (i < len && d->state != CH_DONE) {
		if (d->state == CH_DATA) {
			size_t n = len - i;
			if (n > d->size)
				n = (size_t)d->size;
			i += n;
			d->size -= n;
			d->total += n;
			if (d->size == 0)
				d->state = CH_DATA_CR;
			continue;
		}
		bool counted = d->state <= CH_SIZE_LF || d->state >= CH_TRAILER;
		if (counted && !line_byte(d, lim)) {
			*consumed = i;
			return -1;
		}
		int next = chunk_step(d, buf[i], lim);
		if (next < 0) {
			if (counted)
				d->line--;	/* the byte stays unconsumed */
			*consumed = i;
			return -1;
		}
		i++;
		/* A new line to count: a chunk-size line or the trailers. */
		if (next == CH_DATA || next == CH_SIZE_FIRST ||
		    (next == CH_TRAILER && d->state == CH_SIZE_LF))
			d->line = 0;
		d->state = (uint8_t)next;
	}
	*consumed = i;
	return d->state == CH_DONE ? 1 : -2;
}
