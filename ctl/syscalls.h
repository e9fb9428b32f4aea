/* evctl syscalls: the replies of evd's `syscalls` commands, typed, and
 * what the views of ctl/syscalls.c and ctl/sc_out.c share (evctl top reads
 * them too). */
#ifndef EVD_EVCTL_SYSCALLS_H
#define EVD_EVCTL_SYSCALLS_H

#include "evctl.h"

struct sc_row {
	char name[CTL_SC_NAME_MAX];
	unsigned nr;
	uint64_t calls, errors, total_ns, max_ns;
	bool has_hist;		/* hist and max_ns known (not per thread) */
	uint64_t hist[CTL_SC_HIST_BUCKETS];
	/* --workers rows */
	unsigned tid, pid;
	char slot[16], role[16];
};

struct sc_reply {
	char state[8];
	char timing[8];		/* "on", "off"; "" from an older evd */
	unsigned sample;	/* % of each second attached; 0: unknown */
	double seconds;
	uint64_t requests, untracked;
	struct sc_row *rows;
	size_t n;
	struct sc_row one;	/* the syscall of a `syscalls hist` reply */
};

/* Parses a reply of `syscalls`, `syscalls worker`, `syscalls workers` or
 * `syscalls hist` (in place).  Returns false on a reply it does not know;
 * rep->rows is malloc'd either way (sc_free()). */
bool sc_parse(char *reply, struct sc_reply *rep);

void sc_free(struct sc_reply *rep);

/* b becomes b - a, row by row (syscall number, or thread); rows with no
 * call in between are dropped. */
void sc_delta(struct sc_reply *b, const struct sc_reply *a);

/* Latency at quantile q in ns from the log2 histogram, interpolated
 * linearly inside the bucket and never above the maximum; -1 without a
 * histogram. */
double sc_quantile_ns(const struct sc_row *r, double q);

/* Mean time of the timed calls in ns, -1 when none was timed. */
double sc_avg_ns(const struct sc_row *r);

/* Calls timed (the histogram's total). */
uint64_t sc_timed(const struct sc_row *r);

/* Sorts the rows: the most total time first (then calls, then name). */
void sc_sort_total(struct sc_reply *rep);

/* The views (ctl/sc_out.c); tid is the thread of a `--worker` table or
 * NULL. */
void sc_print_table(struct sc_reply *rep, enum format fmt, const char *tid,
		    const char *model, const char *protocol);
void sc_print_hist(const struct sc_reply *rep, enum format fmt,
		   const char *model, const char *protocol);
void sc_print_workers(struct sc_reply *rep, enum format fmt,
		      const char *model, const char *protocol);

#endif
