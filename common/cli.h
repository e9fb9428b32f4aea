/* Command-line helpers shared by evbench and the test tools (common/cli.c,
 * linked into each). */
#ifndef EVD_CLI_H
#define EVD_CLI_H

#include <stddef.h>

/*
 * getopt_long()'s complaint (with opterr = 0 and an optstring starting with
 * ':') as a message in err: ch ':' is a value missing, '?' an unknown option
 * or a value given to a long option that takes none.  arg is the argument
 * getopt_long() was reading (argv[optind - 1]), opt its optopt; hint
 * follows "unknown option X" ("" for none).  Returns -1.
 */
int cli_getopt_error(int ch, const char *arg, int opt, const char *hint,
		     char *err, size_t errlen);

#endif
