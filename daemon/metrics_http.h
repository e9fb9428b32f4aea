/* The HTTP side of [metrics] listen, without I/O: what a scraper's request
 * asks for, and the head of the reply.  evd answers one request per
 * connection (Connection: close): GET or HEAD /metrics, nothing else. */
#ifndef EVD_METRICS_HTTP_H
#define EVD_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#define MH_HEAD_MAX 8192	/* request line and headers, final CRLF included */

/*
 * Reads the head of an HTTP/1.x request from the len bytes received so
 * far.  Returns 0 while it is incomplete and may still fit, otherwise the
 * status to answer: 200 (GET or HEAD of /metrics, a query string allowed),
 * 400 (malformed request line or header), 404
 * (another path), 405 (another method), 431 (no end of the head within
 * MH_HEAD_MAX bytes), 505 (a version other than HTTP/1.0 and HTTP/1.1).
 * A malformed request line is answered as soon as its line is whole.
 * Bytes after the head (a body) are not looked at.  *head is set for a
 * well-formed HEAD request (200 or 404): its reply has no body.
 */
int mh_parse(const char *buf, size_t len, bool *head);

/* The reason phrase of a status mh_parse() returns (and 500, 503), or
 * "Error". */
const char *mh_reason(int status);

/*
 * Writes the head of a reply with status and a body of body_len bytes into
 * buf of len bytes: status line, Content-Type (Prometheus text 0.0.4 for
 * 200, plain text otherwise), Content-Length, Allow for 405, Connection:
 * close, and the blank line.  Returns its length, or 0 if it does not fit.
 */
size_t mh_head(char *buf, size_t len, int status, size_t body_len);

/* The body of an error reply: one line naming what evd serves. */
const char *mh_error_body(int status);

#define MH_PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
