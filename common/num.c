#include "num.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Reads a run of decimal digits at s.  Returns its length (0 if none) and
 * sets *overflow when its value does not fit in 64 bits. */
static size_t digits(const char *s, uint64_t *out, bool *overflow)
{
	uint64_t v = 0;
	size_t i = 0;

	*overflow = false;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			*overflow = true;
		v = v * 10 + d;
	}
	*out = v;
	return i;
}

/* v * mult when it fits in [min, max], else -ERANGE. */
static int in_range(uint64_t v, bool overflow, uint64_t mult, uint64_t min,
		    uint64_t max, uint64_t *out)
{
	if (overflow || v > max / mult || v * mult < min)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int num_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	bool overflow;
	size_t n = digits(s, &v, &overflow);

	if (n == 0 || s[n] != '\0')
		return -EINVAL;
	return in_range(v, overflow, 1, min, max, out);
}

int num_size(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v, mult = 1;
	bool overflow;
	size_t n = digits(s, &v, &overflow);
	const char *unit = s + n;

	if (n == 0)
		return -EINVAL;
	if (*unit == 'k' || *unit == 'K')
		mult = 1024, unit++;
	else if (*unit == 'm' || *unit == 'M')
		mult = 1024 * 1024, unit++;
	if (*unit != '\0')
		return -EINVAL;
	return in_range(v, overflow, mult, min, max, out);
}

int num_duration_ms(const char *s, uint64_t max_ms, uint64_t *out)
{
	uint64_t v, mult;
	bool overflow;
	size_t n = digits(s, &v, &overflow);
	const char *unit = s + n;

	if (n == 0)
		return -EINVAL;
	if (strcmp(unit, "ms") == 0)
		mult = 1;
	else if (strcmp(unit, "s") == 0)
		mult = 1000;
	else if (*unit == '\0' && v == 0 && !overflow)
		mult = 1;
	else
		return -EINVAL;
	return in_range(v, overflow, mult, 0, max_ms, out);
}

int num_percent(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;
	bool overflow;
	size_t n = digits(s, &v, &overflow);

	if (n == 0 || (s[n] != '\0' && strcmp(s + n, "%") != 0))
		return -EINVAL;
	return in_range(v, overflow, 1, min, max, out);
}

/* The decimal at the start of s, n characters of digits and at most one
 * point; the rest of s is the caller's.  strtod() alone would also take
 * blanks, signs, "inf", hex and exponents: only digits and a point reach
 * it. */
static int decimal(const char *s, size_t n, double mult, double max,
		   double *out)
{
	const char *point = memchr(s, '.', n);
	char *end;
	double v;

	if (n == 0 || (point && memchr(point + 1, '.', n - (size_t)(point - s) - 1)))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end != s + n)
		return -EINVAL;
	v *= mult;
	if (errno == ERANGE || !(v > 0) || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int num_decimal(const char *s, double max, double *out)
{
	size_t n = strspn(s, "0123456789.");

	if (s[n] != '\0')
		return -EINVAL;
	return decimal(s, n, 1, max, out);
}

int num_seconds(const char *s, double max, double *out)
{
	size_t n = strspn(s, "0123456789.");
	double mult;

	if (strcmp(s + n, "ms") == 0)
		mult = 1e-3;
	else if (strcmp(s + n, "s") == 0 || s[n] == '\0')
		mult = 1;
	else
		return -EINVAL;
	return decimal(s, n, mult, max, out);
}
