/* HTTP request heads and reply heads for /metrics (metrics_http.h). */
#include "metrics_http.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

/* RFC 9110 tchar: the bytes of a method or a header name. */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* Bytes of a line at p up to its LF, the LF and one CR before it left
 * out, within the first end bytes; -1 when no LF is there yet. */
static long line_len(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	if (!lf)
		return -1;
	return lf > p && lf[-1] == '\r' ? lf - p - 1 : lf - p;
}

/* The request line "METHOD SP TARGET SP HTTP/d.d": 0 when well formed
 * (method and target located), else 400 or 505. */
static int request_line(const char *p, size_t n, size_t *mlen,
			const char **target, size_t *tlen)
{
	size_t i = 0, t;

	while (i < n && tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return 400;
	*mlen = i;
	t = ++i;
	while (i < n && (unsigned char)p[i] > 0x20 && (unsigned char)p[i] < 0x7f)
		i++;
	if (i == t || i == n || p[i] != ' ')
		return 400;
	*target = p + t;
	*tlen = i - t;
	const char *v = p + i + 1;
	if (n - i - 1 != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' ||
	    v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
		return 400;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return 505;
	return 0;
}

/* A header line "name: value": true when well formed (no obs-fold). */
static bool header_line(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return false;
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c != '\t' && (c < 0x20 || c == 0x7f))
			return false;
	}
	return true;
}

/* What a well-formed request asks for. */
static int route(const char *m, size_t mlen, const char *t, size_t tlen,
		 bool *head)
{
	static const char path[] = "/metrics";
	const size_t plen = sizeof(path) - 1;

	*head = mlen == 4 && memcmp(m, "HEAD", 4) == 0;
	if (!*head && !(mlen == 3 && memcmp(m, "GET", 3) == 0))
		return 405;
	if (tlen < plen || memcmp(t, path, plen) != 0 ||
	    (tlen > plen && t[plen] != '?'))
		return 404;
	return 200;
}

int mh_parse(const char *buf, size_t len, bool *head)
{
	const char *end = buf + (len < MH_HEAD_MAX ? len : MH_HEAD_MAX);
	const char *target = NULL;
	size_t mlen = 0, tlen = 0;
	long n = line_len(buf, end);

	*head = false;
	if (n < 0)
		return len >= MH_HEAD_MAX ? 431 : 0;
	int rc = request_line(buf, (size_t)n, &mlen, &target, &tlen);
	if (rc)
		return rc;
	for (const char *p = memchr(buf, '\n', (size_t)(end - buf)) + 1;;) {
		n = line_len(p, end);
		if (n < 0)
			return len >= MH_HEAD_MAX ? 431 : 0;
		if (n == 0)
			return route(buf, mlen, target, tlen, head);
		if (!header_line(p, (size_t)n))
			return 400;
		p = memchr(p, '\n', (size_t)(end - p)) + 1;
	}
}

static const struct {
	int status;
	const char *reason, *body;
} replies[] = {
	{ 200, "OK", "" },
	{ 400, "Bad Request", "bad request: evd serves GET /metrics\n" },
	{ 404, "Not Found", "not found: evd serves /metrics\n" },
	{ 405, "Method Not Allowed", "method not allowed: evd serves GET "
				     "/metrics\n" },
	{ 431, "Request Header Fields Too Large",
	  "request head over 8192 bytes\n" },
	{ 500, "Internal Server Error", "evd could not make the metrics "
					"(out of memory)\n" },
	{ 505, "HTTP Version Not Supported", "evd speaks HTTP/1.0 and "
					     "HTTP/1.1\n" },
};

const char *mh_reason(int status)
{
	for (size_t i = 0; i < ARRAY_SIZE(replies); i++)
		if (replies[i].status == status)
			return replies[i].reason;
	return "Error";
}

const char *mh_error_body(int status)
{
	for (size_t i = 0; i < ARRAY_SIZE(replies); i++)
		if (replies[i].status == status)
			return replies[i].body;
	return "error\n";
}

size_t mh_head(char *buf, size_t len, int status, size_t body_len)
{
	int n = snprintf(buf, len, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
			 status, mh_reason(status),
			 status == 200 ? MH_PROM_TYPE :
					 "text/plain; charset=utf-8",
			 body_len, status == 405 ? "Allow: GET, HEAD\r\n" : "");

	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}
