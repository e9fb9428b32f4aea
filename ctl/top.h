/* evctl top: snapshots of evd and the frame drawn from two of them. */
#ifndef EVD_EVCTL_TOP_H
#define EVD_EVCTL_TOP_H

#include "rates.h"
#include "syscalls.h"

#define TOP_WIDTH_MAX 256
#define TOP_LINES_MAX 256

/* What one refresh reads: stats with the histogram, the workers, and the
 * syscall table when the probes count. */
struct top_snap {
	struct stats_reply st;
	struct worker_row *w;
	long nw;
	struct sc_reply sc;
	bool sc_ok;		/* sc holds a table */
	char sc_why[160];	/* else evd's reason ("syscall probes are off") */
};

/* Takes a snapshot: an EXIT_* code. */
int top_snap_take(struct evctl *e, struct top_snap *s);
void top_snap_free(struct top_snap *s);

/* The lines of a frame. */
struct top_frame {
	char line[TOP_LINES_MAX][TOP_WIDTH_MAX];
	int n;
};

/*
 * Draws the frame of cur against prev (NULL: the first, with totals and no
 * rates) into f, at most rows lines (0: no limit) of at most cols columns.
 * A terminal of 80x24 holds it all: workers beyond the room left are
 * summed up in one line.
 */
void top_frame_build(struct top_frame *f, const struct top_snap *prev,
		     const struct top_snap *cur, int rows, int cols,
		     double interval);

#endif
