/* What profile.bpf.c and profile.c share: map sizes and layouts.
 * Included after vmlinux.h in the BPF program and after <linux/types.h> in
 * user space. */
#ifndef EVD_PROFILE_BPF_H
#define EVD_PROFILE_BPF_H

/* Frames kept of one stack (user or kernel): the kernel's own default
 * limit, kernel.perf_event_max_stack. */
#define PF_DEPTH 127
/* Distinct stacks (user and kernel ones together) kept per profile, 1 KiB
 * each, preallocated; a stack past this is lost (its samples still count,
 * under "[lost_stack]") and counted in lost_stacks. */
#define PF_STACKS_MAX 4096
/* Distinct (process, thread, user stack, kernel stack) entries. */
#define PF_COUNTS_MAX 16384
#define PF_IGNORE_MAX 8		/* threads never sampled (evd's own helpers) */
/* Off-CPU: a kernel stack walked for a thread's block serves its next
 * blocks from the same user stack, this many, before it is walked again. */
#define PF_KSTACK_REUSE 31

/* One stack: its frames, innermost first.  Kept in a hash map under a
 * 64-bit hash of its frames; a stack id 0 means "no stack" (a sample taken
 * in user mode has no kernel stack). */
struct pf_stack {
	__u32 depth;
	__u32 pad;
	__u64 ip[PF_DEPTH];
};

/* The user stack walker's look at the words above a library leaf's stack
 * pointer, for its caller's return address; and how far above that a
 * frame pointer may point. */
#define PF_SCAN_WORDS 64
#define PF_FRAME_MAX (1 << 20)

/* Per-CPU room for a stack being read and the words scanned. */
struct pf_scratch {
	struct pf_stack s;
	__u64 scan[PF_SCAN_WORDS];
};

/* What one count is kept under.  tid is 0 unless threads are kept apart. */
struct pf_key {
	__u32 tgid;
	__u32 tid;
	__u64 ustack;		/* stack ids (hashes); 0: none */
	__u64 kstack;
};

/* Modes of the programs (bss mode). */
#define PF_MODE_OFF 0
#define PF_MODE_CPU 1		/* perf event: count samples */
#define PF_MODE_OFFCPU 2	/* sched_switch: sum ns blocked */

#endif
