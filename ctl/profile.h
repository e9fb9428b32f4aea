/* evctl profile: runs a stack profile in evd (daemon/ctl_profile.h) and
 * writes it as folded stacks, JSON or an SVG flame graph. */
#ifndef EVCTL_PROFILE_H
#define EVCTL_PROFILE_H

#include <stdbool.h>

/*
 * argv: the words after "profile".  sock: evctl's -s (NULL: $EVD_SOCKET,
 * then the default paths); timeout_ms: its -T, per exchange; json: its
 * -o json (the output's default format).  Returns evctl's exit status:
 * 0, 1 (evd answered an error, or the output could not be written),
 * 2 (usage), 3 (evd not reachable).
 */
int profile_main(const char *sock, int timeout_ms, bool json, int argc,
		 char **argv);

/* The options' help, for evctl's usage. */
extern const char profile_usage[];

#endif
