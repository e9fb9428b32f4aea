/* The control protocol's command-line splitting: pure, fuzzed
 * (tests/fuzz/fuzz_ctl.c). */
#include "control.h"

int ctl_split(char *line, char **argv, int max, unsigned char *bad)
{
	int argc = 0;
	char *p = line;

	for (char *q = line; *q; q++) {
		unsigned char ch = (unsigned char)*q;
		if ((ch < 0x20 && ch != '\t') || ch > 0x7e) {
			*bad = ch;
			return -1;
		}
	}
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

