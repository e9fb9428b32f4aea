/* The optional eBPF syscall probes: per-syscall counts, errors, time and a
 * log2 latency histogram for evd's own processes (master and every worker,
 * forked ones included), the control thread excluded.
 *
 * Built from probes.c (libbpf CO-RE) or, without the BPF tool chain or with
 * `make BPF=0`, from probes_none.c, where everything but probes_new(),
 * probes_free() and the calls that cannot fail answers -ENOTSUP.  Helpers
 * return 0 or -errno and fill err for people; they never log. */
#ifndef EVD_PROBES_H
#define EVD_PROBES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBES_HIST_BUCKETS 40	/* log2(ns) buckets: [2^k, 2^(k+1)) ns */

struct probes;

/* One syscall's totals, summed over the CPUs. */
struct probes_syscall {
	uint64_t calls;
	uint64_t errors;	/* returned -4095..-1 (EAGAIN included) */
	uint64_t total_ns;
	uint64_t max_ns;
	uint64_t hist[PROBES_HIST_BUCKETS];
};

/* One (thread, syscall) entry of the per-thread breakdown. */
struct probes_task {
	uint32_t tgid, tid, nr;
	uint64_t calls, errors, total_ns;
};

/* Allocates the state; no kernel work yet.  NULL when out of memory. */
struct probes *probes_new(void);

/* Detaches, unloads and frees.  Accepts NULL. */
void probes_free(struct probes *p);

/*
 * Loads the probes if they are not loaded yet (this needs CAP_BPF and
 * CAP_PERFMON, or root, and kernel BTF), follows evd's processes from now
 * on (this process and its descendants), and attaches the syscall
 * tracepoints (on) or detaches them (off).  Returns 0, or -errno with the
 * reason in err.
 */
int probes_enable(struct probes *p, bool on, char *err, size_t errlen);

bool probes_enabled(const struct probes *p);

/*
 * The map of evd's processes (a bitmap of tgids, followed across fork and
 * exit), for other programs to share: loads the probes if they are not
 * loaded yet, without attaching the syscall tracepoints.  The descriptor,
 * or -errno with the reason in err.
 */
int probes_members_fd(struct probes *p, char *err, size_t errlen);

/*
 * Times every call (on: the default), or counts calls and errors only
 * (off: the sys_enter tracepoint detached, one program per call instead of
 * two; exit and exit_group, which never return, go uncounted).  Takes
 * effect at once while the probes are on; remembered until then.  0, or
 * -errno with the reason in err (the setting unchanged).
 */
int probes_set_timing(struct probes *p, bool on, char *err, size_t errlen);
bool probes_timing(const struct probes *p);

/* Nanoseconds the syscall tracepoints have been attached since the last
 * reset. */
uint64_t probes_counted_ns(const struct probes *p);

/*
 * Leaves the calling thread's system calls uncounted (the control thread
 * calls it as it starts).  Remembered until the probes load.  0 or -errno.
 */
int probes_ignore_thread(struct probes *p);

/* In a child just forked: closes its copies of the probes' descriptors so
 * that the parent alone decides when they detach.  Accepts NULL. */
void probes_forget(struct probes *p);

/* Zeroes every count.  0 or -errno. */
int probes_reset(struct probes *p);

/* Fills out[0..PROBES_NR_MAX) (syscall number n at out[n]).  0 or -errno. */
#define PROBES_NR_MAX 512
int probes_read(struct probes *p, struct probes_syscall *out);

/*
 * Counts per (thread, syscall) as well, from now on (on), or stops (off;
 * the entries are kept).  Off by default: it costs an LRU hash update on
 * every counted call.  Remembered until the probes load.
 */
void probes_set_per_thread(struct probes *p, bool on);
bool probes_per_thread(const struct probes *p);

/*
 * Calls fn for every (thread, syscall) entry of the per-thread breakdown;
 * the least recently used entries are evicted past 16384.  0 or -errno.
 */
int probes_read_tasks(struct probes *p,
		      void (*fn)(const struct probes_task *t, void *arg),
		      void *arg);

/* Processes not followed: their pid lay beyond pid_max as it was when the
 * probes loaded (pid_max raised since). */
uint64_t probes_untracked(const struct probes *p);

/* The name of syscall nr ("syscall_N" when unknown), in buf or static. */
const char *probes_syscall_name(unsigned nr, char *buf, size_t len);

/* The number of a syscall name (or "syscall_N"), or -1. */
int probes_syscall_nr(const char *name);

#endif
