// SPDX-License-Identifier: GPL-2.0
/* The syscall probes: per-CPU count, errors, time and a log2 latency
 * histogram per system call, for evd's own processes only.
 *
 * evd's processes are a set of tgids seeded by the loader (evd itself and
 * its descendants) and followed across fork (a child of a member joins) and
 * exit (the process leaves when its last thread exits).  The set is a
 * bitmap indexed by tgid: the syscall tracepoints run for every process on
 * the machine, and for all but evd's the whole work is one array load and a
 * bit test.  Threads the loader names in ignore_tids (the control thread)
 * are not counted.  The entry time of a call in flight lives in task
 * storage, which the kernel frees with the task: nothing leaks when a
 * thread exits inside a call.  A generation number, bumped by the loader at
 * each attach of sys_enter, marks the stamps of calls that were in flight
 * while the probes were detached as stale.
 *
 * Two modes (the loader's timing switch, [probes] timing).  With timing,
 * both tracepoints are attached: sys_enter stamps the call, sys_exit counts
 * it with its time.  Without, only sys_exit is: it counts calls and errors
 * by the number in the registers, and the kernel runs one program per call
 * instead of two (no clock reads, no task storage).  Either way a return
 * is counted, timed or not: a call in flight as the probes attach, or as
 * timing is turned on, counts once, untimed.
 *
 * The per-thread breakdown (an LRU hash update on every counted call, the
 * dearest part of the work) runs only while the loader sets per_thread:
 * `evctl syscalls workers on`. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "syscalls_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by the loader before loading (the numbers of this architecture). */
const volatile __u32 nr_exit = 60;
const volatile __u32 nr_exit_group = 231;
/* Return twice, in the parent and (0) in the new task: counted once, at
 * the parent's return. */
const volatile __u32 nr_clone = 56;
const volatile __u32 nr_fork = 57;
const volatile __u32 nr_vfork = 58;
const volatile __u32 nr_clone3 = 435;
/* Returns to the interrupted code, not to its caller: at sys_exit the
 * registers it restored no longer name it (orig_ax is -1). */
const volatile __u32 nr_rt_sigreturn = 15;

/* Written by the loader through the mmapped .bss. */
__u32 gen;
/* Nonzero: count per (thread, syscall) in tasks as well. */
__u32 per_thread;
__u32 ignore_tids[SC_IGNORE_MAX];	/* 0: a free entry */
/* The ids of the thread that last ran whoami, as the kernel sees them. */
__u64 whoami_pid_tgid;
/* Children not followed: their tgid lies beyond the bitmap (pid_max was
 * raised after the probes loaded). */
__u64 untracked;

const struct sc_task_stat task_zero = { 0 };

/* Nonzero: sys_enter is attached and stamps calls to time them. */
__u32 timing;

struct inflight {
	__u64 ts;
	__u32 nr;
	__u32 gen;
};

/* Bit (tgid % 64) of word (tgid / 64): the tgid is one of evd's processes.
 * The loader sizes it from pid_max and maps it to seed it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, SC_MEMBER_WORDS);
	__type(key, __u32);
	__type(value, __u64);
} members SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SC_NR_MAX);
	__type(key, __u32);
	__type(value, struct sc_stat);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, SC_TASKS_MAX);
	__type(key, struct sc_task_key);
	__type(value, struct sc_task_stat);
} tasks SEC(".maps");

static __always_inline __u64 *member_word(__u32 tgid)
{
	__u32 w = tgid / 64;

	return bpf_map_lookup_elem(&members, &w);
}

static __always_inline bool is_member(__u32 tgid)
{
	__u64 *w = member_word(tgid);

	return w && (*w >> (tgid % 64)) & 1;
}

static __always_inline bool ignored(__u32 tid)
{
	for (int i = 0; i < SC_IGNORE_MAX; i++)
		if (ignore_tids[i] == tid)
			return true;
	return false;
}

/* floor(log2(v)), 0 for 0; no loop, no clz (the BPF target has none). */
static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xffffffffull) << 5;
	v >>= shift;
	r |= shift;
	shift = (v > 0xffff) << 4;
	v >>= shift;
	r |= shift;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (__u32)(v >> 1);
	return r;
}

/* One call of nr returned (err: with an error); timed: it took ns.  The
 * histogram counts the timed calls only. */
static __always_inline void account(__u64 pid_tgid, __u32 nr, __u64 ns,
				    bool timed, bool err)
{
	struct sc_stat *s = bpf_map_lookup_elem(&stats, &nr);
	if (!s)
		return;
	s->calls++;
	s->errors += err;
	if (timed) {
		__u32 b = log2_u64(ns);
		if (b >= SC_HIST_BUCKETS)
			b = SC_HIST_BUCKETS - 1;
		s->total_ns += ns;
		if (ns > s->max_ns)
			s->max_ns = ns;
		s->hist[b]++;
	}

	if (!per_thread)
		return;
	struct sc_task_key k = { .tgid = pid_tgid >> 32,
				 .tid = (__u32)pid_tgid, .nr = nr };
	struct sc_task_stat *t = bpf_map_lookup_elem(&tasks, &k);
	if (!t) {
		/* A zero entry from rodata, then the sums as for any other:
		 * an initial value on the stack would push the program's
		 * stack to 64 bytes, which the kernel then moves to a
		 * private per-CPU stack, ~13 ns dearer on every run, for
		 * everyone's calls. */
		bpf_map_update_elem(&tasks, &k, &task_zero, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&tasks, &k);
		if (!t)
			return;
	}
	t->calls++;
	t->errors += err;
	t->total_ns += ns;	/* 0 when not timed */
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	/* The task, needed for its storage anyway, gives the ids: one
	 * helper call fewer than bpf_get_current_pid_tgid(). */
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid, tid = task->pid;

	if (!is_member(tgid) || id < 0 || id >= SC_NR_MAX || ignored(tid))
		return 0;
	/* These never return to their caller: count them here, untimed. */
	if (id == nr_exit || id == nr_exit_group || id == nr_rt_sigreturn) {
		account((__u64)tgid << 32 | tid, (__u32)id, 0, false, false);
		return 0;
	}
	struct inflight *f = bpf_task_storage_get(&inflight, task, 0,
						  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!f)
		return 0;
	f->nr = (__u32)id;
	f->gen = gen;
	f->ts = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = task->tgid, tid = task->pid;

	/* The bitmap first: the cheap test for everyone else's calls. */
	if (!is_member(tgid))
		return 0;
	/* The number the call was made with (x86-64). */
	long id = (long)regs->orig_ax;
	if (id < 0 || id >= SC_NR_MAX || ignored(tid))
		return 0;
	/* The new task's return from a fork or clone: the call is the
	 * parent's, counted at its own return. */
	if (ret == 0 && (id == nr_clone || id == nr_clone3 || id == nr_fork ||
			 id == nr_vfork))
		return 0;
	__u64 ns = 0;
	bool timed = false;
	if (timing) {
		/* Only threads that went through sys_enter have storage. */
		struct inflight *f = bpf_task_storage_get(&inflight, task, 0,
							  0);
		if (f && f->ts) {
			/* A stamp of an earlier attach is stale: its call
			 * returned while the probes were detached. */
			if (f->gen == gen && f->nr == (__u32)id) {
				ns = bpf_ktime_get_ns() - f->ts;
				timed = true;
			}
			f->ts = 0;
		}
	}
	account((__u64)tgid << 32 | tid, (__u32)id, ns, timed,
		ret < 0 && ret >= -4095);
	return 0;
}

/* Run by the loader with BPF_PROG_TEST_RUN, in its own thread: its pid and
 * tid outside any pid namespace, which are what the programs compare. */
SEC("raw_tp")
int whoami(void *ctx)
{
	whoami_pid_tgid = bpf_get_current_pid_tgid();
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;

	if (ctgid == ptgid || !is_member(ptgid))
		return 0;	/* a new thread, or not evd's */
	__u64 *w = member_word(ctgid);
	if (w)
		__sync_fetch_and_or(w, 1ull << (ctgid % 64));
	else
		__sync_fetch_and_add(&untracked, 1);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_task_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid, tid = p->pid;

	if (!is_member(tgid))
		return 0;
	/* A thread id may come back for another thread: forget it. */
	for (int i = 0; i < SC_IGNORE_MAX; i++)
		if (ignore_tids[i] == tid)
			ignore_tids[i] = 0;
	/* signal->live drops to 0 as the last thread of the group exits. */
	__u64 *w = member_word(tgid);
	if (w && p->signal->live.counter == 0)
		__sync_fetch_and_and(w, ~(1ull << (tgid % 64)));
	return 0;
}
