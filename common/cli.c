/* Command-line helpers shared by evbench and the test tools. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The contract is in cli.h. */
int cli_getopt_error(int ch, const char *arg, int opt, const char *hint,
		     char *err, size_t errlen)
{
	char name[64];
	bool is_long = strncmp(arg, "--", 2) == 0;

	if (is_long)
		snprintf(name, sizeof(name), "%.*s", (int)strcspn(arg, "="),
			 arg);
	else
		snprintf(name, sizeof(name), "-%c",
			 opt > 0 && opt < 0x80 ? opt : '?');
	if (ch == ':')
		snprintf(err, errlen, "%s needs a value", name);
	else if (is_long && opt)
		/* opt names a known long option given a value. */
		snprintf(err, errlen, "%s takes no value", name);
	else
		snprintf(err, errlen, "unknown option %s%s", name, hint);
	return -1;
}
