/* Names for the stack profiler's user-space frames, through elfutils'
 * libdwfl (the library perf uses): each process's mappings from
 * /proc/PID/maps, the symbol tables of the executable and of every shared
 * library mapped, and their DWARF for inlined functions.
 *
 * Built from symbolize.c, or from symbolize_none.c with the stub profiler
 * (no libdw at build time), where sym_user() answers -ENOTSUP.  No
 * logging. */
#ifndef EVD_SYMBOLIZE_H
#define EVD_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYM_NAME_MAX 256	/* bytes of a frame's name, NUL included */
#define SYM_PROCS_MAX 64	/* processes with mappings of their own */

struct symbolizer;

/* Called once per frame; returns 0 to go on, or a negative value that
 * sym_user() returns at once. */
typedef int (*sym_emit_fn)(const char *name, void *arg);

/* NULL when out of memory. */
struct symbolizer *sym_new(void);

void sym_free(struct symbolizer *s);

/*
 * Names the code at addr in process pid, calling emit once per frame,
 * innermost first: each function inlined there (its name with "_[i]"
 * appended, as flame graph tools mark them), then the function itself.
 * caller: addr is a return address (any frame but the innermost), so the
 * call just before it is named.
 *
 * The mappings are pid's own (/proc/PID/maps), or this process's when
 * those cannot be read (the process is gone, or another user's): evd's
 * processes are forks of this one, with its mappings.  A frame without a
 * symbol reads "MODULE+0xOFFSET" (the module's file name, the offset as
 * addr2line takes it); an address outside every mapped file
 * "[unknown]+0xADDR".  Nothing is dropped.  Names are cleaned with
 * folded_clean() (folded.h).
 *
 * Returns the number of frames emitted, or -errno (ENOMEM; ENOTSUP in a
 * build without libdw).
 */
int sym_user(struct symbolizer *s, int pid, uint64_t addr, bool caller,
	     sym_emit_fn emit, void *arg);

#endif
