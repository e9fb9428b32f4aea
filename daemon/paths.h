#ifndef EVD_PATHS_H
#define EVD_PATHS_H

#include <stddef.h>

/*
 * Where evd's companions are, found from evd's own executable so that the
 * answer holds for a build tree, `make install PREFIX=...` and the .deb
 * alike (no path fixed at build time, when the prefix is not known yet).
 */

/* The shipped data file NAME (e.g. "evd-probes.conf") in PREFIX/share/evd
 * for evd in PREFIX/sbin or PREFIX/bin; its path in buf and 0, or -ENOENT
 * when evd does not run from an installed tree that has it. */
int paths_data_file(const char *name, char *buf, size_t len);

/* How a user runs evctl from where they are: "./evctl" when evd runs from
 * the current directory's build, the full path when evd's directory holds
 * an evctl that is not the one on $PATH, else "evctl" (installed). */
void paths_evctl(char *buf, size_t len);

#endif
