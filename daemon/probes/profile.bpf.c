// SPDX-License-Identifier: GPL-2.0
/* The stack profiler's kernel side: stacks of evd's own threads, counted
 * in the kernel and read once by the loader at the end of a profile.
 *
 * evd's processes are the syscall probes' set (the members bitmap, which
 * the loader shares with syscalls.bpf.c: followed across fork and exit
 * there).  Threads the loader lists in ignore_tids (evd's control thread
 * and the profile's own) are never sampled.
 *
 * on_cpu runs on a software cpu-clock perf event, one per CPU, at the
 * frequency the loader asked for: a sample of one of evd's threads counts
 * 1 under (process, thread, user stack, kernel stack).
 *
 * off_cpu runs on sched_switch.  A thread of evd's switched out gets its
 * user stack read and a time stamp in task storage; when it is switched
 * in again after at least min_block_ns, the time it was off the CPU is
 * added under (process, thread, that user stack, its kernel stack).  The
 * kernel stack is read then, from the task that is about to run (it is
 * not running anywhere, so its stack is still the one it blocked with):
 * short blocks cost one stack walk, not two.  A thread that blocks where
 * it blocked last time (same instruction, stack and frame pointers), as
 * a loop's wait does, keeps the user stack it had: no walk at all.
 *
 * A stack is filed once in the stacks map under a 64-bit hash of its
 * frames; the counts refer to stacks by that hash.  Nothing is sent to
 * user space per sample.  The maps are preallocated (about 6 MiB in all,
 * while evd runs with [probes] profile = on). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "profile_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Written by the loader through the mmapped .bss. */
__u32 mode;			/* PF_MODE_*: what runs; OFF gates everything */
__u32 per_thread;		/* nonzero: keep threads apart (tid in the key) */
__u64 min_block_ns;		/* off_cpu: shorter blocks are not counted */
__u32 gen;			/* bumped at each profile's start */
__u32 ignore_tids[PF_IGNORE_MAX];	/* 0: a free entry */
__u64 whoami_pid_tgid;
/* evd's own code (its executable's text, the same in every process of
 * evd's: they are forks): built with frame pointers. */
__u64 text_lo, text_hi;
/* Its PLT, where its calls into libraries go (0, 0: unknown). */
__u64 plt_lo, plt_hi;

/* Read by the loader: what could not be kept. */
__u64 lost_stacks;		/* stacks not filed: the stacks map was full */
__u64 lost_counts;		/* samples or blocks lost: the counts map was full */
__u64 lost_value;		/* and their samples or ns */

/* The syscall probes' bitmap of evd's tgids; the loader hands this
 * program the same map (bpf_map__reuse_fd), sized as that one is. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} members SEC(".maps");

/* Preallocated: an allocation in the perf event's interrupt, or under the
 * scheduler's lock, fails when the allocator's per-CPU cache runs dry
 * (as it does at a profile's start, when every stack is new). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_STACKS_MAX);
	__type(key, __u64);
	__type(value, struct pf_stack);
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PF_COUNTS_MAX);
	__type(key, struct pf_key);
	__type(value, __u64);
} counts SEC(".maps");

/* Where a stack is read before it is hashed and filed: 1 KiB, too much
 * for the program's stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pf_scratch);
} scratch SEC(".maps");

/* A thread of evd's off the CPU: since when, and its user stack then. */
struct blocked {
	__u64 ts;
	__u64 ustack;
	/* Where it blocked last (registers and profile): a thread that
	 * blocks again at the same place, the usual case, keeps the stack
	 * walked then. */
	__u64 ip, sp, fp;
	__u32 gen;
	/* The kernel stack walked last, for blocks from the same user
	 * stack: walked again every PF_KSTACK_REUSE + 1 blocks. */
	__u32 kuses;
	__u64 kstack, kfor;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct blocked);
} blocked SEC(".maps");

static __always_inline bool is_member(__u32 tgid)
{
	__u32 w = tgid / 64;
	__u64 *word = bpf_map_lookup_elem(&members, &w);

	return word && (*word >> (tgid % 64)) & 1;
}

static __always_inline bool ignored(__u32 tid)
{
	for (int i = 0; i < PF_IGNORE_MAX; i++)
		if (ignore_tids[i] == tid)
			return true;
	return false;
}

/* A 64-bit hash of the frames, never 0 (0 is "no stack"). */
static __always_inline __u64 stack_hash(const struct pf_stack *s)
{
	__u64 h = 0xcbf29ce484222325ull ^ s->depth;

	for (__u32 i = 0; i < PF_DEPTH; i++) {
		if (i >= s->depth)
			break;
		h ^= s->ip[i];
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h ? h : 1;
}

/* Files the stack read into s (n bytes, or an error) under its hash:
 * returns the hash, 0 when there is no stack.  A stack the map has no
 * room for keeps its hash (the loader shows it as lost). */
static __always_inline __u64 file_stack(struct pf_stack *s, long n)
{
	if (n <= 0)
		return 0;
	s->depth = (__u32)(n / sizeof(__u64));
	__u64 id = stack_hash(s);
	if (bpf_map_lookup_elem(&stacks, &id))
		return id;
	long rc = bpf_map_update_elem(&stacks, &id, s, BPF_NOEXIST);
	if (rc < 0 && rc != -17 /* EEXIST: another CPU filed it */)
		__sync_fetch_and_add(&lost_stacks, 1);
	return id;
}

static __always_inline struct pf_scratch *scratch_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch, &zero);
}

/* The current task's kernel stack, filed; its id or 0. */
static __always_inline __u64 kernel_stack(void *ctx)
{
	struct pf_scratch *sc = scratch_get();

	if (!sc)
		return 0;
	return file_stack(&sc->s, bpf_get_stack(ctx, sc->s.ip,
						 sizeof(sc->s.ip), 0));
}

static __always_inline bool in_text(__u64 a)
{
	return a >= text_lo && a < text_hi;
}

/* Whether the instruction before ra, in evd's code, calls a library:
 * "call rel32" into evd's PLT, or "call *disp32(%rip)" through the GOT.
 * A word that merely points into evd's code (a stale return address from
 * an earlier call, a function pointer) mostly does not. */
static __always_inline bool calls_library(__u64 ra)
{
	__u8 b[6];

	if (!plt_hi)
		return true;
	if (bpf_probe_read_user(b, sizeof(b), (void *)(ra - 6)) < 0)
		return false;
	if (b[0] == 0xff && b[1] == 0x15)
		return true;
	if (b[1] != 0xe8)
		return false;
	__s32 rel = (__s32)((__u32)b[2] | (__u32)b[3] << 8 |
			    (__u32)b[4] << 16 | (__u32)b[5] << 24);
	__u64 to = ra + (__s64)rel;
	return to >= plt_lo && to < plt_hi;
}

/* Whether fp can be a frame pointer of evd's code for a return address
 * stored at ra_at: above it, not too far, and (strict) the return address
 * it keeps lies in evd's code. */
static __always_inline bool frame_ok(__u64 fp, __u64 ra_at, bool strict)
{
	__u64 ra;

	if (fp <= ra_at || fp - ra_at > PF_FRAME_MAX)
		return false;
	if (!strict)
		return true;
	return bpf_probe_read_user(&ra, sizeof(ra), (void *)(fp + 8)) == 0 &&
	       in_text(ra);
}

/*
 * The leaf sits in a library built without frame pointers (libc's system
 * call wrappers): its caller's return address is not where the frame
 * pointer says.  Looks for the first word at sp that points into evd's
 * code just after a call into a library; stores it as frame 1 and returns
 * the frame pointer to go on from (the register if the library left it
 * alone, else a copy the library saved below the return address), or 0.
 */
static __always_inline __u64 library_leaf(struct pf_scratch *sc, __u64 sp,
					  __u64 fp)
{
	struct pf_stack *s = &sc->s;
	__u64 *w = sc->scan;
	int j = -1;

	if (bpf_probe_read_user(w, sizeof(sc->scan), (void *)sp) < 0)
		return 0;
	for (int i = 0; i < PF_SCAN_WORDS; i++)
		if (in_text(w[i]) && calls_library(w[i])) {
			j = i;
			break;
		}
	if (j < 0 || j >= PF_SCAN_WORDS)
		return 0;
	s->ip[1] = w[j];
	s->depth = 2;
	__u64 ra_at = sp + 8 * (__u64)j;
	if (frame_ok(fp, ra_at, true))
		return fp;
	for (int i = PF_SCAN_WORDS - 1; i >= 0; i--)
		if (i < j && frame_ok(w[i], ra_at, true))
			return w[i];
	/* evd's outermost frame keeps a return address into libc. */
	return frame_ok(fp, ra_at, false) ? fp : 0;
}

/*
 * The user stack of task (current), walked here rather than by
 * bpf_get_stack(): evd is built with frame pointers, the libraries it
 * calls mostly are not, and a leaf in one of them (a system call wrapper,
 * where every blocked or system-call sample stops) would hide evd's
 * calling function or end the walk.  Frames are followed while they climb
 * the stack; the first return address outside evd's code is the last.
 * Filed; its id or 0.
 */
static __always_inline __u64 user_stack(__u64 ip, __u64 sp, __u64 fp)
{
	struct pf_scratch *sc = scratch_get();

	if (!sc || !ip)
		return 0;
	struct pf_stack *s = &sc->s;
	s->ip[0] = ip;
	s->depth = 1;
	if (!in_text(ip))
		fp = library_leaf(sc, sp, fp);
	for (int i = 0; i < PF_DEPTH && fp; i++) {
		__u64 fr[2];
		__u32 n = s->depth;
		if (n >= PF_DEPTH ||
		    bpf_probe_read_user(fr, sizeof(fr), (void *)fp) < 0 ||
		    !fr[1])
			break;
		s->ip[n] = fr[1];
		s->depth = n + 1;
		if (!in_text(fr[1]) || fr[0] <= fp)
			break;
		fp = fr[0];
	}
	return file_stack(s, s->depth * sizeof(__u64));
}

/* The user registers of task (current): 0 when it has none. */
static __always_inline __u64 user_regs(struct task_struct *task, __u64 *sp,
				       __u64 *fp)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	if (!regs)
		return 0;
	*sp = BPF_CORE_READ(regs, sp);
	*fp = BPF_CORE_READ(regs, bp);
	return BPF_CORE_READ(regs, ip);
}

/* Adds v under k. */
static __always_inline void add(struct pf_key *k, __u64 v)
{
	__u64 *c = bpf_map_lookup_elem(&counts, k);

	if (!c) {
		if (bpf_map_update_elem(&counts, k, &v, BPF_NOEXIST) == 0)
			return;
		c = bpf_map_lookup_elem(&counts, k);	/* another CPU's */
	}
	if (c) {
		__sync_fetch_and_add(c, v);
		return;
	}
	__sync_fetch_and_add(&lost_counts, 1);
	__sync_fetch_and_add(&lost_value, v);
}

SEC("perf_event")
int on_cpu(struct bpf_perf_event_data *ctx)
{
	if (mode != PF_MODE_CPU)
		return 0;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tgid = id >> 32, tid = (__u32)id;
	if (!is_member(tgid) || ignored(tid))
		return 0;
	struct pf_key k = { .tgid = tgid, .tid = per_thread ? tid : 0 };
	__u64 sp = 0, fp = 0, ip = user_regs(bpf_get_current_task_btf(), &sp,
					     &fp);
	k.ustack = user_stack(ip, sp, fp);
	k.kstack = kernel_stack(ctx);
	add(&k, 1);
	return 0;
}

/* One of evd's threads leaves the CPU (prev is current: its user stack
 * is readable). */
static __always_inline void switched_out(struct task_struct *prev,
					 struct blocked *b)
{
	__u64 sp = 0, fp = 0, ip = user_regs(prev, &sp, &fp);

	if (b->gen != gen || b->ip != ip || b->sp != sp || b->fp != fp ||
	    !b->ustack) {
		b->ustack = user_stack(ip, sp, fp);
		b->ip = ip;
		b->sp = sp;
		b->fp = fp;
		if (b->gen != gen)
			b->kstack = 0;	/* filed in a profile gone since */
		b->gen = gen;
	}
	b->ts = bpf_ktime_get_ns();
}

/*
 * The kernel stack next blocked with (it is about to run, not running
 * anywhere).  Walking a sleeping task's stack is the dearest part of the
 * work (microseconds, against well under one for the rest), and a thread
 * that blocks again from the same user stack (a loop's wait, a worker's
 * recv) blocks on the same kernel path nearly always: the stack walked
 * for that user stack serves the next PF_KSTACK_REUSE blocks.  Its id, or
 * 0.
 */
static __always_inline __u64 blocked_kernel_stack(struct task_struct *next,
						  struct blocked *b)
{
	if (b->kfor == b->ustack && b->kstack && b->kuses < PF_KSTACK_REUSE) {
		b->kuses++;
		return b->kstack;
	}
	struct pf_scratch *sc = scratch_get();
	if (!sc)
		return 0;
	b->kstack = file_stack(&sc->s, bpf_get_task_stack(next, sc->s.ip,
							 sizeof(sc->s.ip), 0));
	b->kfor = b->ustack;
	b->kuses = 0;
	return b->kstack;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(off_cpu, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	if (mode != PF_MODE_OFFCPU)
		return 0;
	if (is_member(prev->tgid) && !ignored(prev->pid)) {
		struct blocked *b = bpf_task_storage_get(&blocked, prev, 0,
					BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (b)
			switched_out(prev, b);
	}
	__u32 tgid = next->tgid;
	if (!is_member(tgid))
		return 0;
	struct blocked *b = bpf_task_storage_get(&blocked, next, 0, 0);
	/* A time stamp of an earlier profile's (gen) is not this block's
	 * start: the thread ran and blocked again, unseen, in between. */
	if (!b || !b->ts || b->gen != gen)
		return 0;
	__u64 ns = bpf_ktime_get_ns() - b->ts;
	b->ts = 0;
	if (ns < min_block_ns)
		return 0;
	struct pf_key k = { .tgid = tgid, .tid = per_thread ? next->pid : 0,
			    .ustack = b->ustack };
	k.kstack = blocked_kernel_stack(next, b);
	add(&k, ns);
	return 0;
}

/* Run by the loader with BPF_PROG_TEST_RUN in a thread it wants ignored:
 * its ids outside any pid namespace, which are what the programs see. */
SEC("raw_tp")
int whoami(void *ctx)
{
	whoami_pid_tgid = bpf_get_current_pid_tgid();
	return 0;
}
