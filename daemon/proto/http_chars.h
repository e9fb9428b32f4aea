/* Character classes and delimiter scans of the HTTP parser (http_parse.c,
 * http_chunked.c); not for other users.
 *
 * The scans find the first byte that ends a run (a control byte in a field
 * value, a byte a request-target cannot hold) 16 bytes at a time with SSE2,
 * which every x86-64 has, and one byte at a time elsewhere (or when
 * HTTP_SCAN_SCALAR is defined: the fuzz target compares the two).  They read only
 * inside [lo, end): the last block of a run is loaded so that it ends at
 * end, overlapping bytes already seen, never past it. */
#ifndef EVD_HTTP_CHARS_H
#define EVD_HTTP_CHARS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__) && !defined(HTTP_SCAN_SCALAR)
#include <emmintrin.h>
#define HTTP_SCAN_SSE2 1
#endif

enum {
	HC_TCHAR = 1 << 0,	/* token (RFC 9110 5.6.2) */
	HC_VALUE = 1 << 1,	/* field-value: HT, SP, VCHAR, obs-text */
	HC_QDTEXT = 1 << 2,	/* quoted-string text: VALUE less '"' and '\' */
	HC_REGNAME = 1 << 3,	/* reg-name: unreserved, sub-delims but ',' */
	HC_HEX = 1 << 4,	/* HEXDIG */
	HC_DIGIT = 1 << 5,
	HC_IPV6 = 1 << 6,	/* in an IPv6 literal: HEXDIG ':' '.' */
	HC_CTL = 1 << 7,	/* below 0x20 (HT too) or 0x7f: stops scan_ctl */
};

/* One entry per byte: a set of HC_ bits. */
extern const uint8_t http_class[256];

static inline bool hc(char c, unsigned cls)
{
	return http_class[(unsigned char)c] & cls;
}

static inline bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* The first byte of [p, end) that is not a tchar, or end. */
static inline const char *scan_token(const char *p, const char *end)
{
	while (end - p >= 4) {
		if (!hc(p[0], HC_TCHAR))
			return p;
		if (!hc(p[1], HC_TCHAR))
			return p + 1;
		if (!hc(p[2], HC_TCHAR))
			return p + 2;
		if (!hc(p[3], HC_TCHAR))
			return p + 3;
		p += 4;
	}
	while (p < end && hc(*p, HC_TCHAR))
		p++;
	return p;
}

#ifdef HTTP_SCAN_SSE2
/* The bytes of x in [a, b]. */
static inline __m128i in_range(__m128i x, char a, char b)
{
	__m128i d = _mm_sub_epi8(x, _mm_set1_epi8(a));

	return _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8((char)(b - a))), d);
}

static inline unsigned mask_of(__m128i x)
{
	return (unsigned)_mm_movemask_epi8(x);
}

/* Bytes of x other than ASCII letters and '-' (most field names): OR-ing
 * 0x20 makes a letter lower case and nothing else one; adding 0x1f then
 * takes 'a'..'z' to 0x80..0x99, the only bytes below -102 as signed. */
static inline unsigned name_ok(__m128i x)
{
	__m128i l = _mm_add_epi8(_mm_or_si128(x, _mm_set1_epi8(0x20)),
				 _mm_set1_epi8(0x1f));
	__m128i letter = _mm_cmplt_epi8(l, _mm_set1_epi8(-102));
	__m128i dash = _mm_cmpeq_epi8(x, _mm_set1_epi8('-'));

	return mask_of(_mm_or_si128(letter, dash));
}

static inline unsigned name_mask(__m128i x)
{
	return name_ok(x) ^ 0xffffu;
}

/* Bytes of x in 0x20..0x7e (SP and VCHAR): adding 1 takes those, and
 * only those, above 0x20 as signed bytes; vchar_mask() the others (CTLs,
 * DEL, obs-text). */
static inline unsigned vchar_ok(__m128i x)
{
	__m128i y = _mm_add_epi8(x, _mm_set1_epi8(1));

	return mask_of(_mm_cmpgt_epi8(y, _mm_set1_epi8(0x20)));
}

static inline unsigned vchar_mask(__m128i x)
{
	return vchar_ok(x) ^ 0xffffu;
}

/* Bytes of x below 0x20 or equal to 0x7f, as a bit mask. */
static inline unsigned ctl_mask(__m128i x)
{
	__m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1f)), x);
	__m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f));

	return (unsigned)_mm_movemask_epi8(_mm_or_si128(low, del));
}

/* Bytes of x that a request-target cannot hold: outside 0x21..0x7e, '#'. */
static inline unsigned target_mask(__m128i x)
{
	__m128i ok = _mm_and_si128(_mm_cmpgt_epi8(x, _mm_set1_epi8(0x20)),
				   _mm_cmplt_epi8(x, _mm_set1_epi8(0x7f)));
	__m128i hash = _mm_cmpeq_epi8(x, _mm_set1_epi8('#'));

	return ((unsigned)_mm_movemask_epi8(ok) ^ 0xffffu) |
	       (unsigned)_mm_movemask_epi8(hash);
}

#define HTTP_SCAN(name, mask_fn) \
static inline const char *name(const char *lo, const char *p, \
			       const char *end) \
{ \
	for (; end - p >= 16; p += 16) { \
		unsigned m = mask_fn(_mm_loadu_si128((const __m128i *)p)); \
		if (m) \
			return p + __builtin_ctz(m); \
	} \
	if (p == end || end - lo < 16) \
		return name##_bytes(p, end); \
	/* The last block ends at end and starts before p. */ \
	const char *q = end - 16; \
	unsigned m = mask_fn(_mm_loadu_si128((const __m128i *)q)) >> (p - q); \
	return m ? p + __builtin_ctz(m) : end; \
}
#else
#define HTTP_SCAN(name, mask_fn) \
static inline const char *name(const char *lo, const char *p, \
			       const char *end) \
{ \
	(void)lo; \
	return name##_bytes(p, end); \
}
#endif

static inline const char *scan_ctl_bytes(const char *p, const char *end)
{
	while (p < end && !hc(*p, HC_CTL))
		p++;
	return p;
}

static inline const char *scan_name_bytes(const char *p, const char *end)
{
	while (p < end && (*p == '-' || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')))
		p++;
	return p;
}

static inline const char *scan_vchar_bytes(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f)
		p++;
	return p;
}

static inline const char *scan_target_bytes(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p > 0x20 &&
	       (unsigned char)*p < 0x7f && *p != '#')
		p++;
	return p;
}

/* scan_ctl(lo, p, end): the first byte of [p, end) below 0x20 or 0x7f (HT
 * included: a caller that allows HT steps over it), or end.  Memory from
 * lo <= p on is readable. */
HTTP_SCAN(scan_ctl, ctl_mask)
/* scan_target(lo, p, end): the first byte of [p, end) outside 0x21..0x7e
 * or '#', or end. */
HTTP_SCAN(scan_target, target_mask)
/* scan_vchar(lo, p, end): the first byte of [p, end) outside 0x20..0x7e
 * (a CTL, DEL or obs-text), or end. */
HTTP_SCAN(scan_vchar, vchar_mask)
/* scan_name(lo, p, end): the first byte of [p, end) other than an ASCII
 * letter or '-', or end: the end of most field names. */
HTTP_SCAN(scan_name, name_mask)

#ifdef HTTP_SCAN_SSE2
/*
 * The 32 bytes from p, inside [lo, end), as two masks: *name has bit i set
 * where p[i] is neither an ASCII letter nor '-', *ctl where p[i] is
 * outside 0x20..0x7e.  Returns how many bytes they describe: 32, fewer
 * when end is nearer (the bits past it are 0), or 0 when [lo, end) is
 * shorter than 32 bytes (both masks 0).  Near end, the 32 bytes that end
 * at end are loaded: nothing is read outside [lo, end).
 */
static inline unsigned line_masks(const char *lo, const char *p,
				  const char *end, uint32_t *name,
				  uint32_t *ctl)
{
	const char *q = p;
	unsigned shift = 0;

	*name = *ctl = 0;
	if (end - p < 32) {
		if (end - lo < 32)
			return 0;
		q = end - 32;
		shift = (unsigned)(p - q);
	}
	__m128i a = _mm_loadu_si128((const __m128i *)q);
	__m128i b = _mm_loadu_si128((const __m128i *)(q + 16));

	*name = ~(name_ok(a) | name_ok(b) << 16) >> shift;
	*ctl = ~(vchar_ok(a) | vchar_ok(b) << 16) >> shift;
	return 32 - shift;
}

/*
 * Whether v[0..n), inside [lo, end), is a lower-case host name or IPv4
 * address with an optional port, [a-z0-9.-]* [":" *DIGIT], checked 16
 * bytes at once.  false when it is not, or is longer than 16 bytes: the
 * caller then checks it the long way.
 */
static inline bool host_simple(const char *lo, const char *v, size_t n,
			       const char *end)
{
	__m128i x;
	unsigned shift = 0;

	if (n > 16)
		return false;
	if (end - v >= 16) {
		x = _mm_loadu_si128((const __m128i *)v);
	} else if (v + n - lo >= 16) {
		x = _mm_loadu_si128((const __m128i *)(v + n - 16));
		shift = 16 - (unsigned)n;
	} else {
		return false;
	}
	__m128i dash_colon = _mm_andnot_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('/')),
					      in_range(x, '-', ':'));
	unsigned all = (1u << n) - 1;
	unsigned name = mask_of(_mm_or_si128(dash_colon, in_range(x, 'a', 'z')));
	unsigned colon = mask_of(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')));
	unsigned digit = mask_of(in_range(x, '0', '9'));

	if (((name >> shift) & all) != all)
		return false;
	colon = (colon >> shift) & all;
	if (colon & (colon - 1))
		return false;
	return !colon || !(all & ~((colon << 1) - 1) & ~(digit >> shift));
}
#else
/* Without SSE2 the parser reads every line the general way. */
static inline unsigned line_masks(const char *lo, const char *p,
				  const char *end, uint32_t *name,
				  uint32_t *ctl)
{
	(void)lo, (void)p, (void)end;
	*name = *ctl = 0;
	return 0;
}

static inline bool host_simple(const char *lo, const char *v, size_t n,
			       const char *end)
{
	(void)lo, (void)v, (void)n, (void)end;
	return false;
}
#endif

/* Loads for comparing with lower-case literals: OR-ing 0x20 into each byte
 * folds letters to lower case; no other byte a token or a field value may
 * hold becomes a letter, a digit or '-' that way (only CTLs would). */
static inline uint64_t ld8(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t ld4(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint16_t ld2(const char *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

#define LOWER8 0x2020202020202020ull
#define LOWER4 0x20202020u
#define LOWER2 0x2020u

/* p[0..8) equals the lower-case literal lit[0..8), ignoring case. */
static inline bool ci8(const char *p, const char *lit)
{
	return (ld8(p) | LOWER8) == ld8(lit);
}

static inline bool ci4(const char *p, const char *lit)
{
	return (ld4(p) | LOWER4) == ld4(lit);
}

static inline bool ci2(const char *p, const char *lit)
{
	return (uint16_t)(ld2(p) | LOWER2) == ld2(lit);
}

static inline bool ci1(char c, char lit)
{
	return (c | 0x20) == lit;
}

#endif
