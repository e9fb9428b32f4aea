/* libFuzzer target: the control protocol's command lines.  The input is
 * cut into lines as the control thread does, each line is split into words
 * by ctl_split(), and the words are checked: inside the line, non-empty,
 * without blanks, printable; a refusal names a byte the line holds, and a
 * line holding a NUL or a byte >= 0x80 anywhere is always refused. */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/control.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const uint8_t *p, size_t n)
{
	char line[CTL_LINE_MAX + 1], copy[CTL_LINE_MAX + 1];
	char *argv[CTL_ARGS_MAX];
	unsigned char bad = 0;

	if (n > CTL_LINE_MAX)
		return;	/* the control thread refuses it before splitting */
	memcpy(line, p, n);
	memcpy(copy, line, n);
	size_t len = n;
	bool unprintable = false;
	for (size_t i = 0; i < n; i++)
		unprintable |= (p[i] < 0x20 && p[i] != '\t') || p[i] > 0x7e;
	int argc = ctl_split(line, n, argv, CTL_ARGS_MAX, &bad);
	assert((argc < 0) == unprintable);
	if (argc < 0) {
		assert(memchr(copy, bad, len) != NULL);
		assert((bad < 0x20 && bad != '\t') || bad > 0x7e);
		return;
	}
	assert(argc <= CTL_ARGS_MAX + 1);
	int words = argc > CTL_ARGS_MAX ? CTL_ARGS_MAX : argc;
	for (int i = 0; i < words; i++) {
		assert(argv[i] >= line && argv[i] < line + len);
		size_t wl = strlen(argv[i]);
		assert(wl > 0 && argv[i] + wl <= line + len);
		/* The word is the same bytes as in the original line. */
		assert(memcmp(argv[i], copy + (argv[i] - line), wl) == 0);
		for (size_t k = 0; k < wl; k++) {
			unsigned char ch = (unsigned char)argv[i][k];
			assert(ch > 0x20 && ch <= 0x7e);
		}
		if (i)
			assert(argv[i] > argv[i - 1]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t start = 0;

	for (size_t i = 0; i < size; i++)
		if (data[i] == '\n') {
			size_t end = i;
			if (end > start && data[end - 1] == '\r')
				end--;
			check_line(data + start, end - start);
			start = i + 1;
		}
	check_line(data + start, size - start);
	return 0;
}
