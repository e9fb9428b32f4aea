/* The control protocol's wire constants, shared by evd (daemon/control.c)
 * and evctl (ctl/): command names, the terminating and error lines, the
 * row layouts and the histogram bucket counts.  A client never hard-codes
 * what the daemon defines; both sides include this one header.
 *
 * The protocol: one command line in (at most CTL_WIRE_LINE_MAX bytes,
 * printable ASCII, words split on blanks); zero or more lines out, then a
 * line CTL_WIRE_END, or a line starting with CTL_WIRE_ERROR.  A reply is
 * "key value" lines, or a table: a line "fields NAME..." and one line per
 * row, "KIND VALUE..." with one value per field.
 *
 * The counters (their keys and descriptions) and the latency histogram's
 * layout are the scoreboard's: daemon/stats.h, included here. */
#ifndef EVD_CTL_WIRE_H
#define EVD_CTL_WIRE_H

#include "../daemon/stats.h"

/* Where evctl looks without -s or $EVD_SOCKET: the system's socket, else
 * the tree's (what `make run` uses, relative to the current directory). */
#define CTL_WIRE_DEFAULT_SOCKET "/run/evd/evd.sock"
#define CTL_WIRE_TREE_SOCKET "run/evd.sock"

#define CTL_WIRE_END "END"
#define CTL_WIRE_ERROR "ERROR"
#define CTL_WIRE_LINE_MAX 1024	/* bytes in a command line, newline excluded */
#define CTL_WIRE_ARGS_MAX 16	/* words in a command line */
#define CTL_WIRE_FIELDS "fields"	/* a table's header line */

/* Command names. */
#define CTL_CMD_STATS "stats"
#define CTL_CMD_WORKERS "workers"
#define CTL_CMD_SYSCALLS "syscalls"
#define CTL_CMD_RELOAD "reload"
#define CTL_CMD_PING "ping"
#define CTL_CMD_VERSION "version"
#define CTL_CMD_HELP "help"
#define CTL_CMD_QUIT "quit"
#define CTL_CMD_PROFILE "profile"

/* `stats hist`: the stats lines, then CTL_KEY_LATENCY_SUM, then a table of
 * the latency histogram's non-empty buckets, "bucket LOW_NS HIGH_NS COUNT",
 * in the layout of stats_hist_layout (STATS_HIST_SUB_BITS, _MAX_BITS). */
#define CTL_STATS_HIST "hist"
#define CTL_KEY_LATENCY_SUM "latency_sum_ns"
#define CTL_ROW_BUCKET "bucket"
#define CTL_BUCKET_FIELDS "low_ns high_ns count"
#define CTL_STATS_HIST_LAYOUT \
	((struct hist_layout){ STATS_HIST_SUB_BITS, STATS_HIST_MAX_BITS })

/* `workers [all]`: one row "worker ..." per slot, these fields in order.
 * X(enum suffix, name) */
#define CTL_WORKER_FIELDS(X)                                                  \
	X(ID, "id") X(ROLE, "role") X(PID, "pid") X(TID, "tid")               \
	X(STATE, "state") X(ACCEPTED, "accepted") X(ACTIVE, "active")         \
	X(REQUESTS, "requests") X(BYTES_IN, "bytes_in")                       \
	X(BYTES_OUT, "bytes_out") X(RESTARTS, "restarts")
#define CTL_ROW_WORKER "worker"
#define CTL_WORKERS_ALL "all"

#define CTL_WIRE_FIELD_STR_(e, n) " " n
#define CTL_WORKER_FIELDS_LINE \
	CTL_WIRE_FIELDS CTL_WORKER_FIELDS(CTL_WIRE_FIELD_STR_)

enum ctl_worker_field {
#define X(e, n) CTL_WF_##e,
	CTL_WORKER_FIELDS(X)
#undef X
	CTL_WF_MAX
};

/* `syscalls`: the system call probes.  Latency histograms have
 * CTL_SC_HIST_BUCKETS log2 buckets: bucket k holds [2^k, 2^(k+1)) ns
 * (bucket 0 also 0), the last one everything above.  Table rows:
 * "syscall NAME NR CALLS ERRORS TOTAL_NS MAX_NS HIST" where HIST is
 * "k:count,k:count" for the non-empty buckets or "-" (and MAX_NS "-" too
 * in a per-thread table); "task TID PID SLOT ROLE CALLS ERRORS TOTAL_NS"
 * (SLOT and ROLE "-" for a thread with no scoreboard slot). */
#define CTL_SC_HIST_BUCKETS 40
#define CTL_ROW_SYSCALL "syscall"
#define CTL_ROW_TASK "task"
#define CTL_SC_FIELDS "name nr calls errors total_ns max_ns hist"
#define CTL_SC_TASK_FIELDS "tid pid slot role calls errors total_ns"
#define CTL_SC_NAME_MAX 40	/* a syscall's name, NUL included */

/* `profile` (daemon/ctl_profile.h has the protocol): its words, the limits
 * both sides check, evctl's defaults and the states of `profile status`
 * ("state NAME").  `profile read OFFSET` pages are at most
 * CTL_PROFILE_PAGE_BYTES of "stack VALUE FOLDED" lines. */
#define CTL_PROFILE_START "start"
#define CTL_PROFILE_STATUS "status"
#define CTL_PROFILE_READ "read"
#define CTL_PROFILE_STOP "stop"
#define CTL_PROFILE_CANCEL "cancel"
#define CTL_PROFILE_CPU "cpu"
#define CTL_PROFILE_OFFCPU "offcpu"
#define CTL_PROFILE_WORKERS "workers"
#define CTL_PROFILE_SECONDS_MAX 300
#define CTL_PROFILE_HZ_MAX 1000
#define CTL_PROFILE_MIN_BLOCK_US_MAX 10000000ul
#define CTL_PROFILE_SECONDS_DEFAULT 10
#define CTL_PROFILE_HZ_DEFAULT 99
#define CTL_PROFILE_MIN_BLOCK_US_DEFAULT 1000
#define CTL_PROFILE_PAGE_BYTES (256u << 10)
#define CTL_PROFILE_S_IDLE "idle"
#define CTL_PROFILE_S_RUNNING "running"
#define CTL_PROFILE_S_PROCESSING "processing"
#define CTL_PROFILE_S_DONE "done"
#define CTL_PROFILE_S_FAILED "failed"

#endif
