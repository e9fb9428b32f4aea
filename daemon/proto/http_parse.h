/* An HTTP/1.x request parser in the picohttpparser manner: no I/O, no
 * allocation, no logging; results point into the caller's buffer.
 *
 * http_parse_request() reads a request line and header fields and reports
 * what framing and connection handling need (Content-Length, chunked,
 * Connection tokens, Expect, Host).  http_chunked_skip() walks a chunked
 * body as it streams by, without buffering it.
 *
 * Every error is decided at one byte position: any input that contains
 * that byte gives the same error, however it was split into calls. */
#ifndef EVD_HTTP_PARSE_H
#define EVD_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest chunk-size line (size, extensions and CRLF). */
#define HTTP_CHUNK_LINE_MAX 1024

struct http_limits {
	size_t max_head_bytes;		/* request line + fields + CRLFs */
	unsigned max_headers;		/* header (or trailer) fields */
	uint64_t max_body_bytes;	/* decoded chunked data */
};

/* Why a request was refused.  http_err_text() names each for people. */
enum http_err {
	HTTP_ERR_NONE,
	HTTP_ERR_REQUEST_LINE,		/* not "method SP target SP version" */
	HTTP_ERR_METHOD,		/* the method is not a token */
	HTTP_ERR_TARGET,		/* a byte a request-target cannot hold */
	HTTP_ERR_VERSION,		/* not "HTTP/" DIGIT "." DIGIT */
	HTTP_ERR_VERSION_UNSUPPORTED,	/* well formed, not 1.0 or 1.1 */
	HTTP_ERR_REQUEST_LINE_TOO_LONG,	/* longer than max_head_bytes */
	HTTP_ERR_HEAD_TOO_LARGE,	/* head (or trailers) over max_head_bytes */
	HTTP_ERR_TOO_MANY_HEADERS,	/* more than max_headers fields */
	HTTP_ERR_NUL,			/* a NUL byte in a field */
	HTTP_ERR_BARE_CR,		/* CR not followed by LF */
	HTTP_ERR_BARE_LF,		/* LF not preceded by CR */
	HTTP_ERR_CTL,			/* another control byte in a field value */
	HTTP_ERR_OBS_FOLD,		/* a field line starting with SP or HT */
	HTTP_ERR_FIELD_NAME_WS,		/* whitespace between name and colon */
	HTTP_ERR_FIELD_NAME,		/* the field name is not a token */
	HTTP_ERR_NO_COLON,		/* a field line without a colon */
	HTTP_ERR_CL_INVALID,		/* Content-Length not 1*DIGIT */
	HTTP_ERR_CL_LIST,		/* Content-Length: 5, 5 */
	HTTP_ERR_CL_OVERFLOW,		/* Content-Length over 2^64 - 1 */
	HTTP_ERR_CL_DUP,		/* more than one Content-Length */
	HTTP_ERR_CL_AND_TE,		/* Content-Length and Transfer-Encoding */
	HTTP_ERR_TE_UNSUPPORTED,	/* Transfer-Encoding other than chunked */
	HTTP_ERR_TE_HTTP10,		/* Transfer-Encoding in HTTP/1.0 */
	HTTP_ERR_HOST_MISSING,		/* HTTP/1.1 without Host */
	HTTP_ERR_HOST_DUP,		/* more than one Host */
	HTTP_ERR_HOST_INVALID,		/* Host not uri-host [ ":" port ] */
	HTTP_ERR_BODY_TOO_LARGE,	/* body over max_body_bytes */
	HTTP_ERR_CHUNK_SIZE,		/* a chunk-size line that is not hex */
	HTTP_ERR_CHUNK_OVERFLOW,	/* a chunk size over 2^64 - 1 */
	HTTP_ERR_CHUNK_EXT,		/* a chunk extension off its grammar */
	HTTP_ERR_CHUNK_LINE_TOO_LONG,	/* over HTTP_CHUNK_LINE_MAX */
	HTTP_ERR_CHUNK_CRLF,		/* chunk framing without its CRLF */
	HTTP_ERR_MAX
};

/* A short description ("bare CR in a field"); never NULL. */
const char *http_err_text(enum http_err err);

/*
 * One request head.  Fill it with http_request_init() before the first
 * call; while a call returns -2 the struct remembers the complete lines
 * already parsed, so the next call (with the same bytes and more) resumes
 * there instead of starting over.  A call after a complete head or an
 * error, with the same bytes, returns the same again: a caller that could
 * not act on the result yet may simply call later.  Initialize it again
 * for the next request.
 */
struct http_request {
	const char *method;		/* set once the method is read */
	size_t method_len;
	const char *target;		/* set once the request line is read */
	size_t target_len;
	unsigned minor_version;		/* 0 or 1 */
	unsigned nheaders;
	unsigned nhost;
	uint64_t content_length;
	bool has_content_length;
	bool chunked;			/* Transfer-Encoding: chunked */
	bool conn_close;		/* Connection: close */
	bool conn_keep_alive;		/* Connection: keep-alive */
	bool expect_continue;		/* Expect: 100-continue */
	enum http_err err;		/* why -1 was returned */
	/* Resume point: bytes of complete lines parsed so far. */
	size_t parsed;
};

void http_request_init(struct http_request *req);

/*
 * Parses the head at the start of buf[0..len).  Returns its length (the
 * request line through the empty line) once complete, -2 if more bytes are
 * needed, or -1 with req->err set.  No more than lim->max_head_bytes are
 * read: a head that does not end within them is HTTP_ERR_HEAD_TOO_LARGE, or
 * HTTP_ERR_REQUEST_LINE_TOO_LONG if its first line does not end either.
 * A line ends with CRLF only: a bare LF is HTTP_ERR_BARE_LF (RFC 9112 2.2
 * lets a recipient accept it; a front proxy that does not would frame the
 * request differently).
 */
ssize_t http_parse_request(const char *buf, size_t len,
			   const struct http_limits *lim,
			   struct http_request *req);

/* Where a chunked body is; zero it with http_chunked_init(). */
struct http_chunked {
	uint8_t state;
	uint64_t size;		/* the chunk size being read, then bytes left */
	uint64_t total;		/* data bytes so far */
	size_t line;		/* bytes in the chunk-size line or trailers */
	unsigned ntrailers;
	enum http_err err;
};

void http_chunked_init(struct http_chunked *d);

/*
 * Walks chunked framing in buf[0..len), skipping the data.  Sets *consumed
 * and returns 1 once the last chunk and trailer section ended (*consumed
 * stops right after them), -2 when all of buf was consumed and more is
 * needed, or -1 with d->err set, *consumed stopping before the byte at
 * fault (calling again reports the same error).  Every line ends with
 * CRLF; chunk extensions follow RFC 9112 7.1.1's grammar.  Data over
 * lim->max_body_bytes is HTTP_ERR_BODY_TOO_LARGE, trailers over
 * lim->max_head_bytes or lim->max_headers are refused like a head.
 */
int http_chunked_skip(struct http_chunked *d, const char *buf, size_t len,
		      const struct http_limits *lim, size_t *consumed);

#endif
