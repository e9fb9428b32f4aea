/* libFuzzer target: the /metrics request parser (daemon/metrics_http.c).
 * Every answer is one of the statuses it documents; "need more" only below
 * MH_HEAD_MAX; HEAD only with 200 or 404; and an answer, once given for a prefix,
 * stays the same whatever follows (evd answers as soon as it can). */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const uint8_t *data, size_t n, bool *head)
{
	char *copy = malloc(n ? n : 1);	/* exact size: ASan sees overreads */

	assert(copy);
	memcpy(copy, data, n);
	int rc = mh_parse(copy, n, head);
	free(copy);
	return rc;
}

static void check(int rc, bool head, size_t n)
{
	assert(rc == 0 || rc == 200 || rc == 400 || rc == 404 || rc == 405 ||
	       rc == 431 || rc == 505);
	assert(rc != 0 || n < MH_HEAD_MAX);
	assert(!head || rc == 200 || rc == 404);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	bool head, phead;
	int rc = parse(data, size, &head);

	check(rc, head, size);
	const size_t cuts[] = { size / 2, size ? size - 1 : 0, size / 3 };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		int prc = parse(data, cuts[i], &phead);
		check(prc, phead, cuts[i]);
		if (prc)
			assert(prc == rc && phead == head);
	}
	return 0;
}
