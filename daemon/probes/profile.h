/* The stack profiler's kernel side: on-CPU samples of evd's threads from a
 * software cpu-clock perf event per CPU, or the time they spend off the
 * CPU from sched_switch, counted per (process, thread, user stack, kernel
 * stack) in BPF maps and read once at the end.  Symbols are not its
 * business (common/symbolize.h); ctl_profile.c runs the sessions.
 *
 * Built from profile.c (libbpf CO-RE) or, without the BPF tool chain or
 * with `make BPF=0`, from profile_none.c, where profile_load() answers
 * -ENOTSUP with the reason.  Helpers return 0 or -errno and fill err for
 * people; they never log. */
#ifndef EVD_PROFILE_H
#define EVD_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROFILE_DEPTH 127	/* frames kept per stack, user and kernel */
#define PROFILE_HZ_MAX 1000
#define PROFILE_SECONDS_MAX 300

enum profile_mode {
	PROFILE_CPU,		/* samples while on the CPU */
	PROFILE_OFFCPU,		/* nanoseconds off the CPU */
	PROFILE_MODE_MAX
};

struct profile_opts {
	enum profile_mode mode;
	unsigned hz;			/* on-CPU: samples per second per CPU */
	uint64_t min_block_ns;		/* off-CPU: shorter blocks not counted */
	bool per_thread;		/* keep threads apart (tid in entries) */
};

/* One count: samples (on-CPU) or nanoseconds (off-CPU).  The stacks are
 * ids for profile_stack(); 0 means none (a sample taken in user mode has
 * no kernel stack; a kernel thread no user stack). */
struct profile_entry {
	uint32_t tgid;			/* as the kernel sees it */
	uint32_t tid;			/* 0 unless per_thread */
	uint64_t ustack, kstack;
	uint64_t value;
};

/* What the maps had no room for (their sizes are fixed at load). */
struct profile_lost {
	uint64_t stacks;		/* distinct stacks not kept */
	uint64_t entries;		/* samples or blocks not counted */
	uint64_t value;			/* their samples or ns */
};

struct profile;

/* Allocates the state; no kernel work yet.  NULL when out of memory. */
struct profile *profile_new(void);

/* Stops, unloads and frees.  Accepts NULL. */
void profile_free(struct profile *p);

/*
 * Loads the programs and creates the maps (CAP_BPF and CAP_PERFMON, or
 * root, and kernel BTF), sharing the syscall probes' set of evd's
 * processes (members_fd: probes_members_fd()).  Nothing is attached yet.
 * 0, or -errno with the reason in err.
 */
int profile_load(struct profile *p, int members_fd, char *err, size_t errlen);

bool profile_loaded(const struct profile *p);

/* The calling thread's process and thread ids as the kernel, and so the
 * entries, give them (not getpid() when evd runs in a pid namespace of its
 * own).  0 or -errno. */
int profile_kernel_ids(struct profile *p, uint32_t *tgid, uint32_t *tid);

/* Leaves the calling thread out of every profile (on), or lets it in
 * again (off; call it before the thread exits).  0 or -errno. */
int profile_ignore_thread(struct profile *p, bool on);

/*
 * Empties the counts and attaches: one perf event per online CPU at o->hz
 * (PROFILE_CPU), or sched_switch (PROFILE_OFFCPU).  Needs CAP_PERFMON (the
 * perf events watch every CPU).  0, or -errno with the reason in err (then
 * nothing is attached).
 */
int profile_start(struct profile *p, const struct profile_opts *o, char *err,
		  size_t errlen);

/* Detaches (the programs stop counting at once, in every process that
 * holds a copy of the descriptors).  Accepts a profile not started. */
void profile_stop(struct profile *p);

/* Calls fn for every count; fn returns 0 to go on, or a negative value
 * that stops the walk and is returned.  0 or -errno. */
int profile_read(struct profile *p,
		 int (*fn)(const struct profile_entry *e, void *arg),
		 void *arg);

/* The frames of stack id, innermost first, into ips[0..max): returns
 * their number, or -ENOENT when the stack was not kept (lost). */
int profile_stack(struct profile *p, uint64_t id, uint64_t *ips,
		  unsigned max);

void profile_lost(const struct profile *p, struct profile_lost *out);

/* Empties the counts and stacks (memory back to the kernel).  0 or -errno. */
int profile_clear(struct profile *p);

/* In a child just forked: closes its copies of the attachments so that
 * the parent alone decides when they end.  Accepts NULL. */
void profile_forget(struct profile *p);

#endif
