/* Numbers as people write them in evd.ini and on command lines: one parser
 * for evd's config, evbench and the test tools.
 *
 * Every function reads the whole string (no blanks, no sign, no "0x", no
 * exponent), returns 0 with the value in *out, -EINVAL when the string is
 * not that kind of number, or -ERANGE when it is one but lies outside the
 * bounds (or past 64 bits).  *out is left alone on error.  No I/O, no
 * allocation, no messages: the caller words them (it knows the option or
 * the key).
 */
#ifndef EVD_NUM_H
#define EVD_NUM_H

#include <stdint.h>

/* Decimal digits only, min <= value <= max. */
int num_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Bytes: digits with an optional k or m (either case; 1024-based), a
 * whole-string multiple of that unit within [min, max]. */
int num_size(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Milliseconds: digits with the unit ms or s ("250ms", "60s"); "0" may go
 * without one.  At most max_ms. */
int num_duration_ms(const char *s, uint64_t max_ms, uint64_t *out);

/* A share: digits with an optional trailing '%' ("10%", "10"), within
 * [min, max]. */
int num_percent(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* A positive decimal: digits and at most one point ("2", "0.5", "1."),
 * above 0 and at most max. */
int num_decimal(const char *s, double max, double *out);

/* Seconds: a num_decimal() with an optional unit, s or ms ("1.5", "2s",
 * "250ms"), above 0 and at most max seconds. */
int num_seconds(const char *s, double max, double *out);

#endif
