/* libFuzzer target: the control protocol's command lines.  The input is
 * cut into lines as the control thread does, each line is split into words
 * by ctl_split(), and the words are checked: inside the line, non-empty,
 * without blanks, printable; a refusal names a byte the line holds. */
#include <assert.h>
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
	line[n] = '\0';
	memcpy(copy, line, n + 1);
	size_t len = strlen(line);	/* a NUL byte ends the line early */
	int argc = ctl_split(line, argv, CTL_ARGS_MAX, &bad);
	if (argc < 0) {
		assert(bad != 0 && memchr(copy, bad, len) != NULL);
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
