/* What syscalls.bpf.c and probes.c share: map sizes and value layouts.
 * Included after vmlinux.h in the BPF program and after <linux/types.h> in
 * user space. */
#ifndef EVD_SYSCALLS_BPF_H
#define EVD_SYSCALLS_BPF_H

#define SC_NR_MAX 512		/* syscall numbers counted: 0..SC_NR_MAX-1 */
/* Latency histogram: bucket k counts calls of [2^k, 2^(k+1)) ns (bucket 0
 * also 0 ns); the last bucket holds everything from 2^(SC_HIST_BUCKETS-1). */
#define SC_HIST_BUCKETS 40
/* The bitmap of evd's tgids: words of 64 bits, resized by the loader to
 * cover pid_max; this default covers the largest pid_max (2^22). */
#define SC_MEMBER_WORDS (4194304 / 64)
#define SC_IGNORE_MAX 8		/* threads whose calls are not counted */
#define SC_TASKS_MAX 16384	/* (thread, syscall) pairs; least recent evicted */

/* One syscall's totals on one CPU (a per-CPU array indexed by number). */
struct sc_stat {
	__u64 calls;
	__u64 errors;		/* returned -4095..-1 */
	__u64 total_ns;		/* from entry to return */
	__u64 max_ns;
	__u64 hist[SC_HIST_BUCKETS];
};

/* The per-thread breakdown: one entry per (process, thread, syscall). */
struct sc_task_key {
	__u32 tgid;
	__u32 tid;
	__u32 nr;
};

struct sc_task_stat {
	__u64 calls;
	__u64 errors;
	__u64 total_ns;
};

#endif
