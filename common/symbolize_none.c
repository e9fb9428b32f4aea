/* The symbolizer of a build without libdw (the stub profiler's): there
 * are no profiles to name frames for. */
#include "symbolize.h"

#include <errno.h>
#include <stdlib.h>

struct symbolizer {
	char unused;
};

struct symbolizer *sym_new(void)
{
	return calloc(1, sizeof(struct symbolizer));
}

void sym_free(struct symbolizer *s)
{
	free(s);
}

int sym_user(struct symbolizer *s, int pid, uint64_t addr, bool caller,
	     sym_emit_fn emit, void *arg)
{
	(void)s;
	(void)pid;
	(void)addr;
	(void)caller;
	(void)emit;
	(void)arg;
	return -ENOTSUP;
}
