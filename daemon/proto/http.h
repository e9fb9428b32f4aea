/* The http protocol's hooks for tests: the clock behind the Date header. */
#ifndef EVD_HTTP_H
#define EVD_HTTP_H

#include <time.h>

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
