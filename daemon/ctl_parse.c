/* The control protocol's command-line splitting: pure, fuzzed
 * (tests/fuzz/fuzz_ctl.c). */
#include "control.h"

int ctl_split(char *line, size_t len, char **argv, int max,
	      unsigned char *bad)
{
	int argc = 0;
	char *p = line;

	/* Every byte of the line, a NUL among them: a NUL would otherwise
	 * end the line early and hide what follows ("ping\0reload"). */
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)line[i];
		if ((ch < 0x20 && ch != '\t') || ch > 0x7e) {
			*bad = ch;
			return -1;
		}
	}
	line[len] = '\0';
	for (;;) {
		while (*p == ' ' || *p == '\t')
			*p++ = '\0';
		if (!*p)
			return argc;
		if (argc == max)
			return argc + 1;	/* too many words: caller refuses */
		argv[argc++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
	}
}

