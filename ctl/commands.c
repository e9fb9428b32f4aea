/* evctl's command table, in the order of `evctl help`.  Adding a command:
 * its file ctl/NAME.c defines `const struct evctl_cmd evctl_cmd_NAME`, and
 * NAME goes in this list (the Makefile builds every C file of ctl/). */
#include "evctl.h"

#define EVCTL_COMMANDS(X)                                                     \
	X(stats) X(workers) X(syscalls) X(top) X(metrics) X(profile)          \
	X(reload) X(ping) X(version) X(raw) X(help)

#define X(n) extern const struct evctl_cmd evctl_cmd_##n;
EVCTL_COMMANDS(X)
#undef X

const struct evctl_cmd *const evctl_commands[] = {
#define X(n) &evctl_cmd_##n,
	EVCTL_COMMANDS(X)
#undef X
};

const size_t evctl_ncommands = sizeof(evctl_commands) /
			       sizeof(evctl_commands[0]);
