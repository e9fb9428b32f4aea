/* The http protocol's hooks for tests: the clock behind the Date header,
 * the /delay/ parser. */
#ifndef EVD_HTTP_H
#define EVD_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* /delay/: a wait, and all the waits of one request, at most this long;
 * at most this many waits in one request. */
#define HTTP_DELAY_MAX_MS 60000u
#define HTTP_DELAY_WAITS 8

/* Why http_delay_parse() refused (negated). */
enum http_delay_err {
	HTTP_DELAY_OK,
	HTTP_DELAY_BAD_WAIT,	/* not 1 to 5 digits, or above 60000 */
	HTTP_DELAY_EMPTY,	/* nothing between commas, or at an end */
	HTTP_DELAY_TOO_MANY,	/* more than HTTP_DELAY_WAITS */
	HTTP_DELAY_TOO_LONG,	/* the sum is above HTTP_DELAY_MAX_MS */
	HTTP_DELAY_ERR_MAX
};

/*
 * The waits of "/delay/<s>" (s[0..n), the path after "/delay/", no query):
 * "50" or "50,25,50", each 1 to 5 digits (leading zeros allowed) from 0
 * to 60000, 1 to HTTP_DELAY_WAITS of them, their sum at most 60000 ms.
 * Fills waits[] in order and returns how many, or -enum http_delay_err
 * for the first problem from the left.  No I/O, no allocation.
 */
int http_delay_parse(const char *s, size_t n,
		     uint32_t waits[HTTP_DELAY_WAITS]);

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
#define HTTP_DATE_LEN 29

/* Replaces the clock the Date header reads (seconds since the epoch);
 * NULL restores the real one.  Not thread-safe: set it before serving. */
void http_set_clock(time_t (*now)(void));

/* Writes t as an IMF-fixdate (RFC 9110 5.6.7): HTTP_DATE_LEN bytes, no NUL. */
void http_format_date(time_t t, char *out);

/* How many times this thread formatted a Date (once per distinct second). */
unsigned long http_date_formats(void);

#endif
