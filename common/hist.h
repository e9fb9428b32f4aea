/* Log-linear latency histogram in the spirit of HdrHistogram.
 *
 * Values are unsigned 64-bit integers (evd records nanoseconds).  Every
 * power-of-two range [2^k, 2^(k+1)) is split into 2^(SUB_BITS-1) equal
 * sub-buckets, so a bucket is at most 1/2^(SUB_BITS-1) of its lower bound
 * wide; reporting the bucket midpoint bounds the relative error by
 * 1/2^SUB_BITS (SUB_BITS 6: 1.6 %, SUB_BITS 7: 0.8 %).  Values below
 * 2^SUB_BITS are exact.  Values of 2^MAX_BITS and above are clamped into the
 * last bucket (the exact maximum is tracked separately by callers).
 *
 * The functions work on a bare counter array so that the same code serves
 * the shared-memory scoreboard (relaxed atomic counters, one writer) and
 * plain private histograms in evbench and the tests.
 */
#ifndef EVD_HIST_H
#define EVD_HIST_H

#include <stddef.h>
#include <stdint.h>

/* Number of buckets for a layout, the last one holding every value of
 * 2^max_bits and above; a constant expression. */
#define HIST_BUCKETS(sub_bits, max_bits) \
	((((max_bits) - (sub_bits) + 2) << ((sub_bits) - 1)) + 1)

struct hist_layout {
	unsigned sub_bits;	/* 2..16 */
	unsigned max_bits;	/* > sub_bits, <= 63 */
};

static inline unsigned hist_nbuckets(struct hist_layout l)
{
	return HIST_BUCKETS(l.sub_bits, l.max_bits);
}

/* Bucket index of a value; values >= 2^max_bits land in the last bucket. */
static inline unsigned hist_index(struct hist_layout l, uint64_t v)
{
	if (v < (1ull << l.sub_bits))
		return (unsigned)v;
	if (v >> l.max_bits)
		return hist_nbuckets(l) - 1;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - l.sub_bits + 1;
	return (shift << (l.sub_bits - 1)) + (unsigned)(v >> shift);
}

/* Smallest value that maps to bucket i. */
uint64_t hist_bucket_low(struct hist_layout l, unsigned i);
/* Largest value that maps to bucket i. */
uint64_t hist_bucket_high(struct hist_layout l, unsigned i);

/* Total of all counters. */
uint64_t hist_total(struct hist_layout l, const uint64_t *counts);

/*
 * Value at quantile q (0 < q <= 1): the midpoint of the bucket holding the
 * ceil(q * total)-th smallest sample, never above max_seen when max_seen is
 * non-zero, and max_seen itself for the last sample.  Returns 0 for an
 * empty histogram.
 */
uint64_t hist_quantile(struct hist_layout l, const uint64_t *counts, double q,
		       uint64_t max_seen);

#endif
