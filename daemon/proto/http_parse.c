/* The HTTP/1.x request parser (see http_parse.h).  Grammar from RFC 9112:
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF
 *
 * Strict where leniency lets two parsers disagree about where a message
 * ends or what it says (request smuggling): lines end with CRLF only; one
 * Content-Length, 1*DIGIT without leading zeros, never a list;
 * Transfer-Encoding exactly "chunked" and never next to a Content-Length;
 * no bare CR or LF, NUL, obs-fold or whitespace before a colon; exactly one
 * valid Host.  docs/protocols.md ("What evd refuses that RFC 9112
 * would allow, and why") lists each rule and why.
 *
 * Fast where requests are ordinary: a field line of the usual form (name
 * of letters and '-', ": ", printable value) is read from two masks of its
 * first 32 bytes (fast_line); other lines the general way, field values
 * and request-targets scanned 16 bytes at a time (http_chars.h); "GET "
 * and "HTTP/1.x\r\n" are compared as words, known field names by length
 * and then as words. */
#include "http_parse.h"

#include "http_chars.h"

#define C_T HC_TCHAR
#define C_V HC_VALUE
#define C_Q HC_QDTEXT
#define C_R HC_REGNAME
#define C_X HC_HEX
#define C_D HC_DIGIT
#define C_6 HC_IPV6
#define TVQ (C_T | C_V | C_Q)
/* ALPHA, DIGIT, hex digits: tokens, values, reg-names. */
#define ALPHA (TVQ | C_R)
#define HEXA (ALPHA | C_X | C_6)
#define DIGIT (ALPHA | C_X | C_D | C_6)

const uint8_t http_class[256] = {
	[0x00 ... 0x08] = HC_CTL, ['\t'] = C_V | C_Q | HC_CTL,
	[0x0a ... 0x1f] = HC_CTL, [0x7f] = HC_CTL,
	[' '] = C_V | C_Q,
	['!'] = TVQ | C_R, ['"'] = C_V, ['#'] = TVQ, ['$'] = TVQ | C_R,
	['%'] = TVQ, ['&'] = TVQ | C_R, ['\''] = TVQ | C_R,
	['('] = C_V | C_Q | C_R, [')'] = C_V | C_Q | C_R, ['*'] = TVQ | C_R,
	['+'] = TVQ | C_R, [','] = C_V | C_Q, ['-'] = TVQ | C_R,
	['.'] = TVQ | C_R | C_6, ['/'] = C_V | C_Q,
	['0' ... '9'] = DIGIT, [':'] = C_V | C_Q | C_6, [';'] = C_V | C_Q | C_R,
	['<'] = C_V | C_Q, ['='] = C_V | C_Q | C_R, ['>'] = C_V | C_Q,
	['?'] = C_V | C_Q, ['@'] = C_V | C_Q,
	['A' ... 'F'] = HEXA, ['G' ... 'Z'] = ALPHA,
	['['] = C_V | C_Q, ['\\'] = C_V, [']'] = C_V | C_Q, ['^'] = TVQ,
	['_'] = TVQ | C_R, ['`'] = TVQ,
	['a' ... 'f'] = HEXA, ['g' ... 'z'] = ALPHA,
	['{'] = C_V | C_Q, ['|'] = TVQ, ['}'] = C_V | C_Q, ['~'] = TVQ | C_R,
	[0x80 ... 0xff] = C_V | C_Q,
};

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
	[HTTP_ERR_BARE_LF] = "bare LF",
	[HTTP_ERR_CTL] = "control character in a field value",
	[HTTP_ERR_OBS_FOLD] = "obsolete line folding",
	[HTTP_ERR_FIELD_NAME_WS] = "whitespace before the colon",
	[HTTP_ERR_FIELD_NAME] = "invalid field name",
	[HTTP_ERR_NO_COLON] = "field line without a colon",
	[HTTP_ERR_CL_INVALID] = "invalid Content-Length",
	[HTTP_ERR_CL_LIST] = "Content-Length list",
	[HTTP_ERR_CL_OVERFLOW] = "Content-Length overflow",
	[HTTP_ERR_CL_DUP] = "more than one Content-Length",
	[HTTP_ERR_CL_AND_TE] = "Content-Length with Transfer-Encoding",
	[HTTP_ERR_TE_UNSUPPORTED] = "unsupported Transfer-Encoding",
	[HTTP_ERR_TE_HTTP10] = "Transfer-Encoding in HTTP/1.0",
	[HTTP_ERR_HOST_MISSING] = "missing Host",
	[HTTP_ERR_HOST_DUP] = "more than one Host",
	[HTTP_ERR_HOST_INVALID] = "invalid Host",
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

void http_request_init(struct http_request *req)
{
	*req = (struct http_request){ .err = HTTP_ERR_NONE };
}

static ssize_t fail(struct http_request *req, enum http_err err)
{
	req->err = err;
	return -1;
}

/* ---- request line ------------------------------------------------------- */

/*
 * The version and line end at p, the slow way: "HTTP/" DIGIT "." DIGIT
 * CRLF, byte by byte, so that an error is the same however the bytes
 * arrived.  Returns the bytes used (10), -2 or -1.
 */
static ssize_t version_slow(const char *p, const char *end,
			    struct http_request *req)
{
	static const char proto[] = "HTTP/1.1";

	for (size_t i = 0; i < sizeof(proto) - 1; i++, p++) {
		if (p == end)
			return -2;
		bool ok = i == 5 || i == 7 ? hc(*p, HC_DIGIT) : *p == proto[i];
		if (!ok)
			return fail(req, HTTP_ERR_VERSION);
	}
	if (p == end)
		return -2;
	if (*p == '\n')
		return fail(req, HTTP_ERR_BARE_LF);
	if (*p != '\r')
		return fail(req, HTTP_ERR_VERSION);
	if (p + 1 == end)
		return -2;
	if (p[1] != '\n')
		return fail(req, HTTP_ERR_BARE_CR);
	if (p[-3] != '1' || p[-1] > '1')
		return fail(req, HTTP_ERR_VERSION_UNSUPPORTED);
	return 10;
}

/* Why a request line stops at c where a separator SP was due. */
static ssize_t bad_separator(struct http_request *req, char c,
			     enum http_err other)
{
	if (c == '\n')
		return fail(req, HTTP_ERR_BARE_LF);
	if (c == ' ' || c == '\r')
		return fail(req, HTTP_ERR_REQUEST_LINE);
	return fail(req, other);
}

/* The request line at buf.  Returns its length with the CRLF, -2, -1. */
static ssize_t parse_request_line(const char *buf, const char *end,
				  struct http_request *req)
{
	const char *p = buf;

	if (end - buf >= 4 && ld4(buf) == ld4("GET ")) {
		p = buf + 3;
	} else {
		p = scan_token(buf, end);
		if (p == end)
			return -2;
		if (*p != ' ')
			return bad_separator(req, *p, HTTP_ERR_METHOD);
		if (p == buf)
			return fail(req, HTTP_ERR_REQUEST_LINE);
	}
	req->method = buf;
	req->method_len = (size_t)(p - buf);

	const char *target = ++p;
	if (end - p >= 2 && p[0] == '/' && p[1] == ' ')
		p++;		/* "/", the usual target of a benchmark */
	else
		p = scan_target(buf, p, end);
	if (p == end)
		return -2;
	if (*p != ' ' || p == target)
		return bad_separator(req, *p, HTTP_ERR_TARGET);
	req->target = target;
	req->target_len = (size_t)(p - target);

	/* "HTTP/1.1\r\n" or "HTTP/1.0\r\n" as two words; anything else
	 * byte by byte. */
	p++;
	if (end - p >= 10 && (ld8(p) == ld8("HTTP/1.1") ||
			      ld8(p) == ld8("HTTP/1.0")) &&
	    ld2(p + 8) == ld2("\r\n")) {
		req->minor_version = (unsigned)(p[7] - '0');
		return p + 10 - buf;
	}
	ssize_t n = version_slow(p, end, req);
	if (n < 0)
		return n;
	req->minor_version = (unsigned)(p[7] - '0');
	return p + n - buf;
}

/* ---- fields --------------------------------------------------------------- */

/* Content-Length: 1*DIGIT, no leading zero, one field (RFC 9112 6.3). */
static enum http_err content_length(struct http_request *req, const char *v,
				    size_t n)
{
	uint64_t x = 0;

	if (req->chunked)
		return HTTP_ERR_CL_AND_TE;
	if (req->has_content_length)
		return HTTP_ERR_CL_DUP;
	if (n == 0)
		return HTTP_ERR_CL_INVALID;
	if (memchr(v, ',', n))
		return HTTP_ERR_CL_LIST;
	if (n > 1 && v[0] == '0')
		return HTTP_ERR_CL_INVALID;
	for (size_t i = 0; i < n; i++) {
		if (!hc(v[i], HC_DIGIT))
			return HTTP_ERR_CL_INVALID;
		unsigned d = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return HTTP_ERR_CL_OVERFLOW;
		x = x * 10 + d;
	}
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
	if (req->chunked || n != 7 || !ci4(v, "chun") || !ci4(v + 3, "nked"))
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
		if (t - s == 5 && ci4(s, "clos") && ci1(s[4], 'e'))
			req->conn_close = true;
		else if (t - s == 10 && ci8(s, "keep-ali") && ci2(s + 8, "ve"))
			req->conn_keep_alive = true;
		v = comma ? comma + 1 : end;
	}
}

/* unreserved (RFC 3986 2.3): ALPHA DIGIT "-" "." "_" "~". */
static bool unreserved(char c)
{
	char l = (char)(c | 0x20);	/* letters only come from letters */

	return (l >= 'a' && l <= 'z') || hc(c, HC_DIGIT) || c == '-' ||
	       c == '.' || c == '_' || c == '~';
}

/* The bytes of an IP-literal between "[" and "]": an IPv6 address (the
 * characters only), with an optional zone "%25" ZoneID, or IPvFuture. */
static bool ip_literal(const char *p, const char *end)
{
	if (p < end && ci1(*p, 'v')) {
		const char *h = ++p;
		while (p < end && hc(*p, HC_HEX))
			p++;
		if (p == h || p == end || *p++ != '.' || p == end)
			return false;
		for (; p < end; p++)
			if (!hc(*p, HC_REGNAME) && *p != ':')
				return false;
		return true;
	}
	const char *s = p;
	while (p < end && hc(*p, HC_IPV6))
		p++;
	if (!memchr(s, ':', (size_t)(p - s)))
		return false;
	if (p == end)
		return true;
	if (end - p < 4 || memcmp(p, "%25", 3) != 0)
		return false;
	for (p += 3; p < end; p++) {
		if (*p == '%' && end - p >= 3 && hc(p[1], HC_HEX) &&
		    hc(p[2], HC_HEX))
			p += 2;
		else if (!unreserved(*p))
			return false;
	}
	return true;
}

/*
 * Host = uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2): an
 * IP-literal in brackets, or a reg-name (IPv4 addresses are reg-names by
 * their characters) with its percent-encodings; an empty value is allowed.
 * A comma, which a reg-name may hold, is refused: an intermediary may have
 * joined two Host fields with it.
 */
static bool host_valid(const char *v, size_t n)
{
	const char *p = v, *end = v + n;

	if (p < end && *p == '[') {
		const char *close = memchr(p, ']', n);
		if (!close || !ip_literal(p + 1, close))
			return false;
		p = close + 1;
	} else {
		while (p < end) {
			if (hc(*p, HC_REGNAME)) {
				p++;
			} else if (*p == '%' && end - p >= 3 &&
				   hc(p[1], HC_HEX) && hc(p[2], HC_HEX)) {
				p += 3;
			} else {
				break;
			}
		}
	}
	if (p < end && *p++ != ':')
		return false;
	while (p < end && hc(*p, HC_DIGIT))
		p++;
	return p == end;
}

/* Host, in the head [lo, end). */
static enum http_err host(struct http_request *req, const char *lo,
			  const char *end, const char *v, size_t n)
{
	if (req->nhost)
		return HTTP_ERR_HOST_DUP;
	if (!host_simple(lo, v, n, end) && !host_valid(v, n))
		return HTTP_ERR_HOST_INVALID;
	req->nhost = 1;
	return HTTP_ERR_NONE;
}

/* The lengths of the names field() looks at, as bits. */
#define FIELD_LENGTHS (1u << 4 | 1u << 6 | 1u << 10 | 1u << 14 | 1u << 17)

/* Applies one complete field; returns why it is refused, or NONE.  Names
 * are told apart by length first, then compared as words. */
static enum http_err field(struct http_request *req, const char *lo,
			   const char *end, const char *name, size_t nlen,
			   const char *v, size_t vlen)
{
	switch (nlen) {
	case 4:
		if (ci4(name, "host"))
			return host(req, lo, end, v, vlen);
		break;
	case 6:
		if (ci4(name, "expe") && ci2(name + 4, "ct") && vlen == 12 &&
		    ci8(v, "100-cont") && ci4(v + 8, "inue"))
			req->expect_continue = true;
		break;
	case 10:
		if (ci8(name, "connecti") && ci2(name + 8, "on"))
			connection(req, v, vlen);
		break;
	case 14:
		if (ci8(name, "content-") && ci8(name + 6, "t-length"))
			return content_length(req, v, vlen);
		break;
	case 17:
		if (ci8(name, "transfer") && ci8(name + 8, "-encodin") &&
		    ci1(name[16], 'g'))
			return transfer_encoding(req, v, vlen);
		break;
	}
	return HTTP_ERR_NONE;
}

/* Why the field name that starts the line at p0 stops at *p. */
static ssize_t bad_name(struct http_request *req, const char *p)
{
	if (is_ows(*p))
		return fail(req, HTTP_ERR_FIELD_NAME_WS);
	if (*p == '\r' || *p == '\n')
		return fail(req, HTTP_ERR_NO_COLON);
	return fail(req, *p == '\0' ? HTTP_ERR_NUL : HTTP_ERR_FIELD_NAME);
}

/* The byte *p ended a field value or starts an empty line: its CRLF
 * (returns 2), -2, or -1. */
static ssize_t crlf(struct http_request *req, const char *p, const char *end)
{
	if (*p == '\r') {
		if (p + 1 == end)
			return -2;
		return p[1] == '\n' ? 2 : fail(req, HTTP_ERR_BARE_CR);
	}
	if (*p == '\n')
		return fail(req, HTTP_ERR_BARE_LF);
	return fail(req, *p == '\0' ? HTTP_ERR_NUL : HTTP_ERR_CTL);
}

/* A line that does not start with a tchar: the empty line (returns 2),
 * -2, or -1. */
static ssize_t odd_line(struct http_request *req,
			const struct http_limits *lim, const char *p,
			const char *end)
{
	if (*p == '\r' || *p == '\n')
		return crlf(req, p, end);
	if (is_ows(*p))
		return fail(req, HTTP_ERR_OBS_FOLD);
	if (req->nheaders >= lim->max_headers)
		return fail(req, HTTP_ERR_TOO_MANY_HEADERS);
	return fail(req, *p == '\0' ? HTTP_ERR_NUL : HTTP_ERR_FIELD_NAME);
}

/* A field line's name and value, without OWS. */
struct fline {
	size_t nlen;
	const char *v;
	size_t vlen;
};

/*
 * The usual field line at p: a name of letters and '-', ": ", a value of
 * bytes 0x21..0x7e and SP that does not start with SP, CRLF.  Returns its
 * length with the CRLF and fills *f; 0 when the line is anything else
 * (another form, an error, not all there yet): field_line() then reads
 * it.  [lo, end) is readable.
 */
static inline size_t fast_line(const char *lo, const char *p, const char *end,
			       struct fline *f)
{
	uint32_t name, ctl;
	unsigned avail = line_masks(lo, p, end, &name, &ctl);

	if (!name)
		return 0;	/* no 32 bytes, or a name that fills them */
	unsigned i = (unsigned)__builtin_ctz(name);
	if (i == 0 || i + 2 >= avail || ld2(p + i) != ld2(": ") ||
	    p[i + 2] == ' ')
		return 0;
	const char *e, *s = p + i + 2;
	ctl >>= i + 2;
	if (ctl)
		e = s + __builtin_ctz(ctl);
	else if (avail == 32)
		e = scan_vchar(lo, p + 32, end);
	else
		return 0;
	if (e == s || end - e < 2 || ld2(e) != ld2("\r\n"))
		return 0;
	const char *t = e;
	while (t[-1] == ' ')
		t--;
	*f = (struct fline){ i, s, (size_t)(t - s) };
	return (size_t)(e - p) + 2;
}

/*
 * The line at p the general way: returns its length with *f filled for a
 * field line, 0 for the empty line (its CRLF complete), -2 when it is not
 * all there, -1 when it is refused.
 */
static ssize_t field_line(const char *buf, const char *end,
			  const struct http_limits *lim,
			  struct http_request *req, const char *line,
			  struct fline *f)
{
	const char *p = line;
	ssize_t r;

	if (!hc(*p, HC_TCHAR)) {
		r = odd_line(req, lim, p, end);
		return r == 2 ? 0 : r;
	}
	if (req->nheaders >= lim->max_headers)
		return fail(req, HTTP_ERR_TOO_MANY_HEADERS);
	/* Letters and '-' 16 at a time, then any other tchar. */
	p = scan_name(buf, p + 1, end);
	if (p < end && *p != ':')
		p = scan_token(p, end);
	if (p == end)
		return -2;
	if (*p != ':')
		return bad_name(req, p);
	f->nlen = (size_t)(p - line);

	/* ": value" is the usual form (a byte above SP is no OWS). */
	if (end - p > 2 && p[1] == ' ' && (unsigned char)p[2] > ' ') {
		p += 2;
	} else {
		do
			p++;
		while (p < end && is_ows(*p));
	}
	const char *v = p;
	p = scan_ctl(buf, p, end);
	while (p < end && *p == '\t')
		p = scan_ctl(buf, p + 1, end);
	if (p == end)
		return -2;
	r = crlf(req, p, end);
	if (r != 2)
		return r;
	/* The value holds no CTL but HT: a byte up to SP is OWS. */
	const char *vend = p;
	while (vend > v && (unsigned char)vend[-1] <= ' ')
		vend--;
	f->v = v;
	f->vlen = (size_t)(vend - v);
	return p + 2 - line;
}

/*
 * The field lines from buf + req->parsed on, up to the empty line.
 * Returns the head's length, -2 (req->parsed then where the incomplete
 * line starts), or -1 (req->parsed where the line at fault starts).
 */
static ssize_t parse_fields(const char *buf, const char *end,
			    const struct http_limits *lim,
			    struct http_request *req)
{
	const char *p = buf + req->parsed;
	const unsigned max = lim->max_headers;
	unsigned nh = req->nheaders;
	ssize_t r = -2;

	while (p < end) {
		struct fline f;

		bool empty = *p == '\r' && end - p >= 2 && p[1] == '\n';

		r = 0;
		if (!empty && nh < max)
			r = (ssize_t)fast_line(buf, p, end, &f);
		if (!empty && r == 0) {
			req->nheaders = nh;
			r = field_line(buf, end, lim, req, p, &f);
		}
		if (r == 0) {
			req->nheaders = nh;
			req->parsed = (size_t)(p - buf);
			if (req->minor_version == 1 && req->nhost == 0)
				return fail(req, HTTP_ERR_HOST_MISSING);
			return p + 2 - buf;
		}
		if (r < 0)
			break;
		if (f.nlen < 32 && (FIELD_LENGTHS >> f.nlen & 1)) {
			enum http_err e = field(req, buf, end, p, f.nlen, f.v,
						f.vlen);
			if (e != HTTP_ERR_NONE) {
				r = fail(req, e);
				break;
			}
		}
		nh++;
		p += r;
		r = -2;		/* if the input ends here */
	}
	req->nheaders = nh;
	req->parsed = (size_t)(p - buf);
	return r;
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
	/* The empty line is not recorded in req->parsed: another call with
	 * the same bytes returns the same result. */
	r = parse_fields(buf, end, lim, req);
	if (r != -2)
		return r;
more:
	if (len < lim->max_head_bytes)
		return -2;
	return fail(req, req->parsed == 0 ? HTTP_ERR_REQUEST_LINE_TOO_LONG :
		    HTTP_ERR_HEAD_TOO_LARGE);
}
