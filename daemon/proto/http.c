/* http: HTTP/1.1 and 1.0, GET and HEAD, keep-alive and pipelining.
 *
 *   /              200 with [http] body
 *   /delay/<ms>    200 with [http] body, due <ms> later (0..60000, else 400)
 *   /delay/<ms>,<ms>,...  the same after 1 to HTTP_DELAY_WAITS waits one
 *                  after another (a handler calling backends in sequence):
 *                  each 0..60000, 60000 in all (see http_delay_parse())
 *   anything else  404; methods other than GET and HEAD 405 (Allow: GET, HEAD)
 *
 * The query string is ignored for routing; an absolute-form target
 * ("http://host/path") routes on its path.  HEAD gets GET's headers,
 * Content-Length included, without the body.  [server] delay applies to
 * every response unless /delay/<ms> gives its own.
 *
 * Decisions:
 *  - Responses are written in request order, each once its request is
 *    complete (head and body).  A response is appended only if it fits in
 *    out: otherwise feed() stops before the request (or before the rest of
 *    its body) and the connection calls again once it has sent some.
 *  - Request bodies are read and thrown away as they arrive, never
 *    buffered: Content-Length bodies by counting (body_left), chunked
 *    bodies by decoding the framing (chunk-size lines with extensions,
 *    data, CRLFs, last chunk, trailer fields, final CRLF: see
 *    http_chunked_skip()).  Decoded data counts against max_body_bytes;
 *    trailers count against max_header_bytes and max_headers like a head.
 *  - Expect: 100-continue on an HTTP/1.1 request with a body gets
 *    "HTTP/1.1 100 Continue" before the body is read (counted as 1xx).
 *  - Errors close: 400 (malformed, or anything that could let two parsers
 *    frame a request differently: see http_parse.c), 413, 414, 431, 505.
 *    Their body names the problem; they have Connection: close and count
 *    as protocol errors.  The input after them is ignored.  404 and 405
 *    keep the connection.
 *  - HTTP/1.1 keeps the connection unless Connection: close; HTTP/1.0
 *    closes unless Connection: keep-alive, answered with the same.
 *  - HTTP/1.1 requests need exactly one Host (RFC 9112 3.2), any request
 *    at most one; HTTP/1.0 requests may not use Transfer-Encoding
 *    (RFC 9112 6.1).
 *  - Date is formatted once per second per thread (a thread-local cache).
 */
#include <string.h>
#include <strings.h>

#include "../config.h"
#include "../version.h"
#include "http.h"
#include "http_parse.h"
#include "proto.h"

#define DELAY_MAX_MS HTTP_DELAY_MAX_MS

enum phase {
	PH_HEAD,	/* reading a request head */
	PH_BODY,	/* skipping body_left bytes of body */
	PH_CHUNKED,	/* decoding a chunked body */
	PH_CLOSED,	/* an answer closed the connection */
};

enum conn_header {
	CONN_HDR_NONE,
	CONN_HDR_KEEP_ALIVE,
	CONN_HDR_CLOSE,
};

/* A response to write. */
struct reply {
	unsigned status;
	const char *body;
	size_t body_len;
	bool body_nl;		/* a newline after body */
	bool head_only;		/* HEAD: no body */
	bool allow;		/* Allow: GET, HEAD */
	bool close;		/* close once it is sent */
	bool error;		/* the request broke the protocol */
	uint8_t conn_hdr;
	uint32_t delay_ms;	/* the first wait */
	uint8_t nmore;		/* /delay/a,b,c: the waits after it */
	uint16_t more[HTTP_DELAY_WAITS - 1];
};

struct http_state {
	const char *body;	/* [http] body */
	size_t body_len;
	uint32_t delay_ms;	/* [server] delay */
	struct http_limits lim;
	uint8_t phase;
	uint64_t body_left;
	struct http_request req;
	struct http_chunked chunk;
	struct reply pending;	/* the response owed once the body is read */
	size_t pending_len;
	bool draining;		/* the server stops: answer one more, close */
	/* The held response's waits still to come (http_rewait()). */
	uint8_t nmore, imore;
	uint16_t more[HTTP_DELAY_WAITS - 1];
};

_Static_assert(DELAY_MAX_MS <= UINT16_MAX, "a wait fits in a uint16_t");

/* ---- Date ----------------------------------------------------------------- */

static time_t real_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return ts.tv_sec;
}

static time_t (*http_clock)(void) = real_clock;

static __thread time_t date_sec;
static __thread bool date_valid;
static __thread char date_text[HTTP_DATE_LEN];
static __thread unsigned long date_count;

void http_set_clock(time_t (*now)(void))
{
	http_clock = now ? now : real_clock;
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

void http_format_date(time_t t, char *out)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	char *p = out;

	if (!gmtime_r(&t, &tm))
		memset(&tm, 0, sizeof(tm));
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999)
		year = 0;
	memcpy(p, days + 3 * (tm.tm_wday % 7), 3);
	memcpy(p + 3, ", ", 2);
	put2(p + 5, tm.tm_mday);
	p[7] = ' ';
	memcpy(p + 8, months + 3 * (tm.tm_mon % 12), 3);
	p[11] = ' ';
	put2(p + 12, year / 100);
	put2(p + 14, year % 100);
	p[16] = ' ';
	put2(p + 17, tm.tm_hour);
	p[19] = ':';
	put2(p + 20, tm.tm_min);
	p[22] = ':';
	put2(p + 23, tm.tm_sec);
	memcpy(p + 25, " GMT", 4);
}

unsigned long http_date_formats(void)
{
	return date_count;
}

/* Reads the clock (once per feed() call) and formats the Date when the
 * second changed. */
static void date_tick(void)
{
	time_t now = http_clock();

	if (!date_valid || now != date_sec) {
		http_format_date(now, date_text);
		date_sec = now;
		date_valid = true;
		date_count++;
	}
}

/* ---- responses ------------------------------------------------------------ */

static const struct {
	unsigned code;
	const char *line;
} status_lines[] = {
	{ 200, "HTTP/1.1 200 OK\r\n" },
	{ 400, "HTTP/1.1 400 Bad Request\r\n" },
	{ 404, "HTTP/1.1 404 Not Found\r\n" },
	{ 405, "HTTP/1.1 405 Method Not Allowed\r\n" },
	{ 413, "HTTP/1.1 413 Content Too Large\r\n" },
	{ 414, "HTTP/1.1 414 URI Too Long\r\n" },
	{ 431, "HTTP/1.1 431 Request Header Fields Too Large\r\n" },
	{ 505, "HTTP/1.1 505 HTTP Version Not Supported\r\n" },
	{ 500, "HTTP/1.1 500 Internal Server Error\r\n" },	/* last */
};
#define NSTATUS (sizeof(status_lines) / sizeof(status_lines[0]))

static const char *status_line(unsigned code)
{
	for (size_t i = 0; i < NSTATUS - 1; i++)
		if (status_lines[i].code == code)
			return status_lines[i].line;
	return status_lines[NSTATUS - 1].line;
}

/* The status for each parse error; 0 means 400. */
static const unsigned short err_status[HTTP_ERR_MAX] = {
	[HTTP_ERR_VERSION_UNSUPPORTED] = 505,
	[HTTP_ERR_REQUEST_LINE_TOO_LONG] = 414,
	[HTTP_ERR_HEAD_TOO_LARGE] = 431,
	[HTTP_ERR_TOO_MANY_HEADERS] = 431,
	[HTTP_ERR_BODY_TOO_LARGE] = 413,
};

static const char CONTINUE[] = "HTTP/1.1 100 Continue\r\n\r\n";

struct piece {
	const char *p;
	size_t n;
};

#define PIECE(s) ((struct piece){ (s), sizeof(s) - 1 })
#define REPLY_PIECES 11

/* n in decimal, written at the end of digits[24]. */
static struct piece format_size(size_t n, char digits[24])
{
	char *p = digits + 24;

	do {
		*--p = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	return (struct piece){ p, (size_t)(digits + 24 - p) };
}

/*
 * The bytes of r as pieces in v (REPLY_PIECES at most), digits holding the
 * Content-Length.  Returns the number of pieces; *total gets their length.
 */
static size_t reply_pieces(const struct reply *r, const char *date,
			   char digits[24], struct piece *v, size_t *total)
{
	size_t body_len = r->body_len + r->body_nl;
	size_t n = 0;

	v[n++] = (struct piece){ status_line(r->status),
				 strlen(status_line(r->status)) };
	v[n++] = PIECE("Server: evd/" EVD_VERSION "\r\nDate: ");
	v[n++] = (struct piece){ date, HTTP_DATE_LEN };
	v[n++] = PIECE("\r\nContent-Length: ");
	v[n++] = format_size(body_len, digits);
	v[n++] = PIECE("\r\nContent-Type: text/plain\r\n");
	if (r->allow)
		v[n++] = PIECE("Allow: GET, HEAD\r\n");
	if (r->conn_hdr == CONN_HDR_KEEP_ALIVE)
		v[n++] = PIECE("Connection: keep-alive\r\n");
	else if (r->conn_hdr == CONN_HDR_CLOSE)
		v[n++] = PIECE("Connection: close\r\n");
	v[n++] = PIECE("\r\n");
	if (!r->head_only) {
		v[n++] = (struct piece){ r->body, r->body_len };
		if (r->body_nl)
			v[n++] = PIECE("\n");
	}
	*total = 0;
	for (size_t i = 0; i < n; i++)
		*total += v[i].n;
	return n;
}

/*
 * Response heads (status line to the empty line), built from their pieces
 * once per second and kind and kept per thread: a response is then two
 * copies, head and body.  One slot per (200, 404, 405, other status) and
 * Connection header; "other" holds the last one built.
 */
#define HEAD_MAX 320
#define HEAD_ROWS 4

struct head {
	time_t sec;		/* the Date's second */
	uint64_t key;		/* head_key(); 0: empty */
	size_t len;
	char text[HEAD_MAX];
};

static __thread struct head heads[HEAD_ROWS * 3];

/* What a head depends on, besides the second: never 0. */
static uint64_t head_key(const struct reply *r)
{
	uint64_t clen = r->body_len + r->body_nl;

	return clen << 16 | (uint64_t)r->status << 4 | (uint64_t)r->allow << 2 |
	       r->conn_hdr;
}

/* Builds r's head in h for this second. */
static __attribute__((noinline)) void head_build(struct head *h,
						 const struct reply *r)
{
	struct piece v[REPLY_PIECES];
	struct reply head = *r;
	char digits[24];
	size_t total, n;

	head.head_only = true;
	n = reply_pieces(&head, date_text, digits, v, &total);
	h->sec = date_sec;
	h->key = head_key(r);
	h->len = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(h->text + h->len, v[i].p, v[i].n);
		h->len += v[i].n;
	}
}

/* The head of r, built if this second's is not cached yet. */
static inline const struct head *head_of(const struct reply *r)
{
	unsigned row = r->status == 200 ? 0 : r->status == 404 ? 1 :
		       r->status == 405 ? 2 : 3;
	struct head *h = &heads[row * 3 + r->conn_hdr];

	if (h->key != head_key(r) || h->sec != date_sec)
		head_build(h, r);
	return h;
}

/* The longest head: the longest status line, Content-Length of 20 digits,
 * Allow and Connection: keep-alive. */
_Static_assert(sizeof("HTTP/1.1 431 Request Header Fields Too Large\r\n"
		      "Server: evd/" EVD_VERSION "\r\nDate: \r\n"
		      "Content-Length: 18446744073709551615\r\n"
		      "Content-Type: text/plain\r\nAllow: GET, HEAD\r\n"
		      "Connection: keep-alive\r\n\r\n") + HTTP_DATE_LEN <=
	       HEAD_MAX, "HEAD_MAX holds every head");

static size_t reply_size(const struct reply *r)
{
	size_t body = r->head_only ? 0 : r->body_len + r->body_nl;

	return head_of(r)->len + body;
}

/*
 * Appends r to out and reports it in res, unless it does not fit: then
 * nothing happens and it returns false.  base is out->len when feed()
 * started.
 */
static inline __attribute__((always_inline)) bool
emit(struct http_state *st, struct buf *out, const struct reply *r,
     struct proto_result *res, size_t base)
{
	const struct head *h = head_of(r);
	size_t body = r->head_only ? 0 : r->body_len + r->body_nl;

	if (buf_space(out) < h->len + body)
		return false;
	size_t off = out->len - base;
	buf_append(out, h->text, h->len);
	if (body) {
		buf_append(out, r->body, r->body_len);
		if (r->body_nl)
			out->data[out->len++] = '\n';
	}
	res->requests++;
	proto_count(res, (enum proto_reply)(REPLY_HTTP_1XX + r->status / 100 - 1));
	if (r->error)
		res->error = true;
	/* The chain of waits is this response's alone (none: nmore 0). */
	st->nmore = r->nmore;
	st->imore = 0;
	if (r->delay_ms) {
		res->delay_ms = r->delay_ms;
		res->delay_off = off;
		if (r->nmore)
			memcpy(st->more, r->more, r->nmore * sizeof(*r->more));
	}
	if (r->close) {
		res->close = true;
		st->phase = PH_CLOSED;
	}
	return true;
}

/* An answer that closes the connection: status, a text body. */
static void closing_reply(const struct http_state *st, unsigned status,
			  const char *text, size_t len, bool head_only,
			  struct reply *r)
{
	*r = (struct reply){
		.status = status,
		.body = text,
		.body_len = len,
		.body_nl = true,
		.head_only = head_only,
		.close = true,
		.error = true,
		.conn_hdr = CONN_HDR_CLOSE,
		.delay_ms = st->delay_ms,
	};
}

/* The answer to a refused request. */
static void error_reply(const struct http_state *st, enum http_err err,
			bool head_only, struct reply *r)
{
	unsigned status = err < HTTP_ERR_MAX ? err_status[err] : 0;
	const char *text = http_err_text(err);

	closing_reply(st, status ? status : 400, text, strlen(text), head_only,
		      r);
}

static bool is_get(const struct http_request *req)
{
	return req->method_len == 3 && memcmp(req->method, "GET", 3) == 0;
}

static bool is_head(const struct http_request *req)
{
	return req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0;
}

/*
 * The path of an origin-form ("/a?b") or absolute-form ("http://h/a?b")
 * target, query included.  Returns false for any other form, and for an
 * absolute-form with userinfo.
 */
static bool target_path(const char *t, size_t n, const char **path,
			size_t *len)
{
	const char *end = t + n, *p;

	if (n && t[0] == '/') {
		*path = t;
		*len = n;
		return true;
	}
	if (n > 7 && strncasecmp(t, "http://", 7) == 0)
		p = t + 7;
	else if (n > 8 && strncasecmp(t, "https://", 8) == 0)
		p = t + 8;
	else
		return false;
	const char *host = p;
	while (p < end && *p != '/' && *p != '?')
		p++;
	/* userinfo ("user@host") is refused (RFC 9110 4.2.4). */
	if (p == host || memchr(host, '@', (size_t)(p - host)))
		return false;
	if (p == end || *p == '?') {
		*path = "/";
		*len = 1;
	} else {
		*path = p;
		*len = (size_t)(end - p);
	}
	return true;
}

/* One wait: 1 to 5 digits (leading zeros allowed), at most DELAY_MAX_MS.
 * -1 if invalid. */
static long delay_value(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= (long)DELAY_MAX_MS ? v : -1;
}

int http_delay_parse(const char *s, size_t n,
		     uint32_t waits[HTTP_DELAY_WAITS])
{
	const char *end = s + n;
	uint32_t sum = 0;
	int k = 0;

	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *e = comma ? comma : end;
		if (k == HTTP_DELAY_WAITS)
			return -HTTP_DELAY_TOO_MANY;
		long v = delay_value(s, (size_t)(e - s));
		/* "/delay/" alone is today's bad wait; an empty one in a
		 * list says so. */
		if (v < 0)
			return e == s && (comma || k) ? -HTTP_DELAY_EMPTY :
							-HTTP_DELAY_BAD_WAIT;
		waits[k++] = (uint32_t)v;
		sum += (uint32_t)v;
		if (sum > DELAY_MAX_MS)
			return -HTTP_DELAY_TOO_LONG;
		if (!comma)
			return k;
		s = comma + 1;
	}
}

/* The body of a 400 for /delay/..., by http_delay_parse()'s error. */
static const char *const delay_errors[HTTP_DELAY_ERR_MAX] = {
	[HTTP_DELAY_BAD_WAIT] = "invalid delay (0 to 60000 ms)",
	[HTTP_DELAY_EMPTY] = "invalid delay: an empty wait "
			     "(/delay/MS or /delay/MS,MS,...)",
	[HTTP_DELAY_TOO_MANY] = "invalid delay: more than 8 waits",
	[HTTP_DELAY_TOO_LONG] = "invalid delay: the waits add up to more "
				"than 60000 ms",
};
_Static_assert(HTTP_DELAY_WAITS == 8, "delay_errors says 8");

/* The reply's waits from the digits after "/delay/": the first nonzero one
 * is its delay, the other nonzero ones follow it (a zero wait is a backend
 * that answers at once).  0, or http_delay_parse()'s -error. */
static int delay_route(const char *s, size_t n, struct reply *r)
{
	uint32_t w[HTTP_DELAY_WAITS];
	int k = http_delay_parse(s, n, w);

	if (k < 0)
		return k;
	r->delay_ms = 0;
	r->nmore = 0;
	for (int i = 0; i < k; i++) {
		if (!w[i])
			continue;
		if (!r->delay_ms)
			r->delay_ms = w[i];
		else
			r->more[r->nmore++] = (uint16_t)w[i];
	}
	return 0;
}

static void set_body(struct reply *r, const char *s, size_t n, bool nl)
{
	r->body = s;
	r->body_len = n;
	r->body_nl = nl;
}

#define SET_TEXT(r, s) set_body((r), (s), sizeof(s) - 1, false)

/* The answer to a well-formed request head. */
static void route(const struct http_state *st, const struct http_request *req,
		  struct reply *r)
{
	static const char delay_prefix[] = "/delay/";
	bool head = is_head(req);
	const char *path;
	size_t n;

	*r = (struct reply){ .status = 200, .head_only = head,
			     .delay_ms = st->delay_ms };
	if (!head && !is_get(req)) {
		r->status = 405;
		r->allow = true;
		SET_TEXT(r, "method not allowed\n");
		return;
	}
	if (!target_path(req->target, req->target_len, &path, &n)) {
		error_reply(st, HTTP_ERR_TARGET, head, r);
		return;
	}
	const char *q = n > 1 ? memchr(path, '?', n) : NULL;
	if (q)
		n = (size_t)(q - path);
	if (n == 1) {
		set_body(r, st->body, st->body_len, false);
		return;
	}
	if (n >= sizeof(delay_prefix) - 1 &&
	    memcmp(path, delay_prefix, sizeof(delay_prefix) - 1) == 0) {
		int rc = delay_route(path + sizeof(delay_prefix) - 1,
				     n - (sizeof(delay_prefix) - 1), r);
		if (rc < 0) {
			const char *bad = delay_errors[-rc];
			closing_reply(st, 400, bad, strlen(bad), head, r);
			return;
		}
		set_body(r, st->body, st->body_len, false);
		return;
	}
	r->status = 404;
	SET_TEXT(r, "not found\n");
}

/* Keep-alive or close, from the version and Connection (RFC 9112 9.3). */
static void connection_mode(const struct http_request *req, struct reply *r)
{
	bool keep = req->minor_version == 1 ? !req->conn_close :
		    req->conn_keep_alive && !req->conn_close;

	if (r->close)
		return;		/* an error: Connection: close already */
	r->close = !keep;
	r->conn_hdr = !keep ? CONN_HDR_CLOSE :
		      req->minor_version == 0 ? CONN_HDR_KEEP_ALIVE :
		      CONN_HDR_NONE;
}

/* ---- the state machine ----------------------------------------------------- */

static void http_init(void *state, const struct config *cfg)
{
	static const char dflt_body[] = "Hello, World!";
	struct http_state *st = state;

	*st = (struct http_state){
		.body = dflt_body,
		.body_len = sizeof(dflt_body) - 1,
		.lim = { .max_head_bytes = 8192, .max_headers = 100,
			 .max_body_bytes = 1024 * 1024 },
		.phase = PH_HEAD,
	};
	if (cfg) {
		st->body = cfg->http_body;
		st->body_len = cfg->http_body_len;
		st->delay_ms = cfg->delay_ms < DELAY_MAX_MS ?
			       (uint32_t)cfg->delay_ms : DELAY_MAX_MS;
		st->lim.max_head_bytes = cfg->http_max_header_bytes;
		st->lim.max_headers = cfg->http_max_headers;
		st->lim.max_body_bytes = cfg->http_max_body_bytes;
	}
	http_request_init(&st->req);
	http_chunked_init(&st->chunk);
}

/* Whether the loop in feed() stops after a response. */
static bool stops(const struct reply *r)
{
	return r->close || r->delay_ms;
}

/*
 * PH_HEAD: one request head at in[*pos].  Returns true when feed() must
 * return (more input or room needed, a delay, or a close).
 */
static bool on_head(struct http_state *st, const char *in, size_t len,
		    size_t *pos, struct buf *out, struct proto_result *res,
		    size_t base)
{
	struct http_request *req = &st->req;
	struct reply r;
	size_t at = *pos;

	/* Empty lines (CRLF) before a request line are ignored (RFC 9112
	 * 2.2); a bare LF is refused there too, by the parser. */
	while (req->parsed == 0 && at + 1 < len && in[at] == '\r' &&
	       in[at + 1] == '\n')
		at += 2;
	*pos = at;
	if (at == len || (in[at] == '\r' && at + 1 == len))
		return true;

	ssize_t n = http_parse_request(in + at, len - at, &st->lim, req);
	if (n == -2)
		return true;
	if (n == -1) {
		error_reply(st, req->err, req->method && is_head(req), &r);
		emit(st, out, &r, res, base);
		return true;
	}
	route(st, req, &r);
	if (!r.close && req->content_length > st->lim.max_body_bytes)
		error_reply(st, HTTP_ERR_BODY_TOO_LARGE, r.head_only, &r);
	connection_mode(req, &r);
	if (st->draining && !r.close) {
		/* The server is stopping or reloading: this answer is the
		 * last on this connection, and says so. */
		r.close = true;
		r.conn_hdr = CONN_HDR_CLOSE;
	}

	bool body = !r.error && (req->chunked || req->content_length > 0);
	if (!body) {
		if (!emit(st, out, &r, res, base))
			return true;
		*pos = at + (size_t)n;
		http_request_init(req);
		return stops(&r);
	}
	if (req->expect_continue && req->minor_version == 1) {
		if (buf_space(out) < sizeof(CONTINUE) - 1)
			return true;
		buf_append(out, CONTINUE, sizeof(CONTINUE) - 1);
		proto_count(res, REPLY_HTTP_1XX);
	}
	st->pending = r;
	st->pending_len = reply_size(&r);
	if (req->chunked) {
		st->phase = PH_CHUNKED;
		http_chunked_init(&st->chunk);
	} else {
		st->phase = PH_BODY;
		st->body_left = req->content_length;
	}
	*pos = at + (size_t)n;
	http_request_init(req);
	return false;
}

/* PH_BODY: skips Content-Length body bytes; as on_head(). */
static bool on_body(struct http_state *st, size_t len, size_t *pos,
		    struct buf *out, struct proto_result *res, size_t base)
{
	uint64_t n = len - *pos;

	if (buf_space(out) < st->pending_len)
		return true;	/* the response could not follow */
	if (n > st->body_left)
		n = st->body_left;
	*pos += (size_t)n;
	st->body_left -= n;
	if (st->body_left)
		return true;
	st->phase = PH_HEAD;
	emit(st, out, &st->pending, res, base);
	return stops(&st->pending);
}

/* PH_CHUNKED: decodes chunked framing; as on_head(). */
static bool on_chunked(struct http_state *st, const char *in, size_t len,
		       size_t *pos, struct buf *out, struct proto_result *res,
		       size_t base)
{
	struct reply r;
	size_t n;

	if (buf_space(out) < st->pending_len)
		return true;
	int done = http_chunked_skip(&st->chunk, in + *pos, len - *pos,
				     &st->lim, &n);
	*pos += n;
	if (done == -2)
		return true;
	if (done == -1) {
		error_reply(st, st->chunk.err, st->pending.head_only, &r);
		emit(st, out, &r, res, base);
		return true;
	}
	st->phase = PH_HEAD;
	emit(st, out, &st->pending, res, base);
	return stops(&st->pending);
}

static size_t http_feed(void *state, const char *in, size_t len,
			struct buf *out, struct proto_result *res)
{
	struct http_state *st = state;
	size_t base = out->len, pos = 0;
	bool stop = false;

	date_tick();
	while (!stop && st->phase != PH_CLOSED && pos < len) {
		switch (st->phase) {
		case PH_HEAD:
			stop = on_head(st, in, len, &pos, out, res, base);
			break;
		case PH_BODY:
			stop = on_body(st, len, &pos, out, res, base);
			break;
		case PH_CHUNKED:
			stop = on_chunked(st, in, len, &pos, out, res, base);
			break;
		}
	}
	if (st->phase == PH_CLOSED) {
		/* What follows a closing answer is never read. */
		res->close = true;
		res->partial = false;
		return len;
	}
	res->partial = st->phase != PH_HEAD || pos < len;
	return pos;
}

/* The held response's wait is over: the next of its chain, if any. */
static bool http_rewait(void *state, uint32_t *ms)
{
	struct http_state *st = state;

	if (st->imore >= st->nmore)
		return false;
	*ms = st->more[st->imore++];
	return true;
}

/* The server drains: the next response closes the connection cleanly
 * (Connection: close), so a client under load loses no request. */
static bool http_drain(void *state)
{
	struct http_state *st = state;

	st->draining = true;
	return true;
}

const struct evd_proto evd_proto_http = {
	.name = "http",
	.summary = "HTTP/1.1 GET and HEAD: /, /delay/<ms>[,<ms>...]; "
		   "keep-alive, pipelining",
	.state_size = sizeof(struct http_state),
	.init = http_init,
	.feed = http_feed,
	.drain = http_drain,
	.rewait = http_rewait,
};
