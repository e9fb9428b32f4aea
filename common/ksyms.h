/* Kernel symbols from a /proc/kallsyms text, for the stack profiler's
 * kernel frames.  No I/O beyond the descriptor it is given, no logging. */
#ifndef EVD_KSYMS_H
#define EVD_KSYMS_H

#include <stddef.h>
#include <stdint.h>

struct ksyms;

/*
 * Reads a kallsyms text from fd, from its start (the descriptor may have
 * been read before: it is rewound), keeping the code symbols (types t, T,
 * w, W).  Returns the table, or NULL with errno set: EPERM when every
 * address reads 0 (the kernel hides them from this reader: kptr_restrict,
 * or no CAP_SYSLOG), ENOMEM, or the read error.
 */
struct ksyms *ksyms_read(int fd);

void ksyms_free(struct ksyms *k);

/* The symbols kept. */
size_t ksyms_count(const struct ksyms *k);

/*
 * The function holding addr: its name, and the offset of addr in it in
 * *off; NULL when addr lies below the first symbol or more than
 * KSYMS_SPAN_MAX above the last one it could belong to.
 */
#define KSYMS_SPAN_MAX (1u << 20)
const char *ksyms_find(const struct ksyms *k, uint64_t addr, uint64_t *off);

#endif
