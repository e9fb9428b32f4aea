/* `profile` on the control socket: stack profiles of evd's own processes
 * (daemon/probes/profile.h), run in a thread of their own so that the
 * control thread answers every other client while one runs.
 *
 * Where the work happens: the kernel side is loaded by evd at startup,
 * before it drops its privileges ([probes] profile = on), together with a
 * descriptor of /proc/kallsyms opened while evd may still read kernel
 * addresses.  The control thread attaches and, at the end (a timer on its
 * loop) or on `stop`, hands over to the profile's thread, which detaches,
 * reads the counts once and names every frame: user frames from each process's
 * /proc/PID/maps through libdw (evd can read its own processes' maps and
 * binaries; evctl, possibly unprivileged, cannot), kernel frames from
 * kallsyms.  It keeps the result as folded stacks until the next profile
 * (or PROFILE_KEEP_S); evctl reads it in pages and writes folded text,
 * JSON or the SVG flame graph.
 *
 * The protocol (each a command line; replies as for every command):
 *   profile start cpu SECONDS HZ [workers]
 *   profile start offcpu SECONDS MIN_BLOCK_US [workers]
 *       attach now, for SECONDS (1..PROFILE_SECONDS_MAX); "workers" keeps
 *       each thread apart under a root frame naming it
 *   profile status        state idle|running|processing|done|failed
 *   profile read OFFSET   the result: a header, then "stack VALUE FOLDED"
 *                         lines from stack OFFSET, at most
 *                         PROFILE_PAGE_BYTES of them; "next N"
 *   profile stop          end a running profile now (the result is kept)
 *   profile cancel        end it and drop the result
 * start, stop and cancel change evd's state (root or evd's user). */
#ifndef EVD_CTL_PROFILE_H
#define EVD_CTL_PROFILE_H

#include <stdbool.h>

struct evloop;
struct server;
struct probes;
struct ctl_profile;

#define PROFILE_KEEP_S 600		/* a result is kept this long */
#define PROFILE_PAGE_BYTES (256u << 10)	/* stack lines in one reply */
#define PROFILE_OUT_MAX (8u << 20)	/* all stack lines of a result */
#define PROFILE_MIN_BLOCK_US_MAX 10000000ull
#define CTL_PROFILE_TIMERS 1		/* armed on the control loop */
#define CTL_PROFILE_USAGE "profile start cpu SECONDS HZ [workers] | " \
	"profile start offcpu SECONDS MIN_BLOCK_US [workers] | " \
	"profile status|stop|cancel | profile read OFFSET"

/*
 * Made by main before privileges drop.  on ([probes] profile = on): loads
 * the kernel side, sharing the syscall probes' set of evd's processes,
 * and opens /proc/kallsyms; a failure is logged as a warning and kept as
 * the answer to `profile start`.  NULL only when out of memory.
 */
struct ctl_profile *ctl_profile_new(struct server *srv, struct probes *probes,
				    bool on);

/* Ends a running profile, joins its thread, frees.  Accepts NULL. */
void ctl_profile_free(struct ctl_profile *cp);

/* In a child just forked: closes its copies of a profile's attachments.
 * Accepts NULL. */
void ctl_profile_forget(struct ctl_profile *cp);

/* The control thread's loop, which times a profile's end (NULL: none,
 * before the loop is freed).  Accepts a NULL cp. */
void ctl_profile_set_loop(struct ctl_profile *cp, struct evloop *loop);

/* The control thread: the reply to "profile ARGS..." (argv without
 * "profile"), malloc'd; NULL when out of memory. */
char *ctl_profile_cmd(struct ctl_profile *cp, int argc, char **argv);

/* Whether "profile ARGS..." changes evd's state (start, stop, cancel). */
bool ctl_profile_changes_state(int argc, char **argv);

#endif
