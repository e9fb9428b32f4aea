#include "hist.h"

#include <math.h>

uint64_t hist_bucket_low(struct hist_layout l, unsigned i)
{
	if (i < (1u << l.sub_bits))
		return i;
	/* hist_index() clamps every value from 2^max_bits up into the last
	 * bucket: that is where it starts. */
	if (i + 1 >= hist_nbuckets(l))
		return 1ull << l.max_bits;
	unsigned half = 1u << (l.sub_bits - 1);
	unsigned shift = i / half - 1;
	uint64_t mant = half + i % half;
	return mant << shift;
}

uint64_t hist_bucket_high(struct hist_layout l, unsigned i)
{
	if (i + 1 >= hist_nbuckets(l))
		return UINT64_MAX;
	return hist_bucket_low(l, i + 1) - 1;
}

uint64_t hist_total(struct hist_layout l, const uint64_t *counts)
{
	uint64_t t = 0;
	unsigned n = hist_nbuckets(l);

	for (unsigned i = 0; i < n; i++)
		t += counts[i];
	return t;
}

uint64_t hist_quantile(struct hist_layout l, const uint64_t *counts, double q,
		       uint64_t max_seen)
{
	uint64_t total = hist_total(l, counts);
	unsigned n = hist_nbuckets(l);

	if (total == 0)
		return 0;
	if (!(q > 0))
		q = 0;
	if (q > 1)
		q = 1;
	uint64_t rank = (uint64_t)ceil(q * (double)total);
	if (rank == 0)
		rank = 1;
	/* The largest sample is known exactly. */
	if (max_seen && rank >= total)
		return max_seen;

	uint64_t seen = 0;
	for (unsigned i = 0; i < n; i++) {
		seen += counts[i];
		if (seen < rank)
			continue;
		uint64_t lo = hist_bucket_low(l, i);
		uint64_t hi = i + 1 < n ? hist_bucket_high(l, i) : lo;
		uint64_t mid = lo + (hi - lo) / 2;
		if (max_seen && mid > max_seen)
			mid = max_seen;
		return mid;
	}
	return max_seen;
}
