/* The control thread's insides, shared by its rooms (not for the rest of
 * evd, which sees only control.h):
 *   control.c     the socket, its clients, the command table and dispatch,
 *                 the thread's event loop (evloop.h: every descriptor a
 *                 file event, every deadline a timer), the public
 *                 control_* calls
 *   ctl_stats.c   stats, workers, ping, version: counters, CPU time, rates;
 *                 the text of /metrics (served by metrics.c from the
 *                 event loop when [metrics] listen is set)
 *   ctl_probes.c  syscalls: the eBPF probes' commands and sampling windows
 *   lifecycle.c   signals, drain, reload (and its hand-over with the main
 *                 thread), the systemd watchdog and status line
 * Every function here runs on the control thread unless it says otherwise;
 * none logs unless it says so. */
#ifndef EVD_CONTROL_INT_H
#define EVD_CONTROL_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "control.h"
#include "ctl_socket.h"
#include "evloop.h"

#define RATE_SAMPLES 8		/* one per second */
#define KICK_INTERVAL_MS 50

#define SC_USAGE "syscalls [on|off|reset|workers|workers on|workers off|" \
		 "timing on|timing off|hist NAME|worker TID]"

struct out {
	char *data;
	size_t off, len, cap;
	bool overflow;
};

struct control;

struct client {
	int fd;			/* -1: free */
	struct control *ctl;
	char in[CTL_LINE_MAX + 2];
	size_t inlen;
	struct out out;
	bool eof;		/* peer sent everything it will send */
	bool discarding;	/* dropping the rest of an over-long line */
	bool closing;		/* close once out is flushed */
	struct timer idle;	/* closed when it fires (ctl_client_idle()) */
	uid_t uid;		/* the peer, from SO_PEERCRED */
	bool privileged;	/* root or evd's own user: may change state */
	unsigned wait_reload;	/* waits for the outcome of this reload
				 * (ctl->reload_seq); 0: not waiting */
};

struct rate_sample {
	uint64_t t;
	uint64_t requests;
};

/* The control thread's timed jobs: each a timer on its loop, armed by
 * ctl_at() and run by the function of its row in control.c's table. */
enum ctl_job_id {
	CT_SAMPLE,		/* ctl_tick(): the rate sample, a second apart */
	CT_STATUS,		/* ctl_status_update(): STATUS= to systemd */
	CT_WATCHDOG,		/* ctl_watchdog_check(): WATCHDOG=1 */
	CT_SC_WINDOW,		/* ctl_sc_window(): a sampling window turns */
	CT_KICK,		/* ctl_kick(): the serving side winds down */
	CT_DRAIN,		/* ctl_drain_check(): drain_timeout is over */
	CT_ACCEPT,		/* the socket is watched again (after EMFILE) */
	CT_MAX
};

struct ctl_job {
	struct timer t;
	struct control *ctl;
	enum ctl_job_id id;
};

struct control {
	struct server *srv;
	struct ctl_socket sock;		/* lfd's file and directory */
	int lfd, sigfd, quitfd;
	pthread_t thread;
	bool started;
	struct evloop *loop;		/* the thread's: every fd and deadline */
	bool quit;			/* quitfd was written: the thread ends */
	struct ctl_job jobs[CT_MAX];
	struct client cl[CTL_CLIENTS_MAX];
	struct rate_sample rate[RATE_SAMPLES];
	unsigned nrate;
	/* The syscall probes; requests served while they were attached. */
	struct probes *probes;
	struct ctl_profile *prof;	/* `profile` (ctl_profile.c) */
	uint64_t sc_requests;		/* before sc_requests_at */
	uint64_t sc_requests_at;	/* requests when last attached */
	/* On ([probes] syscalls, evctl syscalls on): attached for good, or,
	 * sampling, for sc_sample % of each second, toggled at sc_window. */
	bool sc_on;
	unsigned sc_sample;		/* 1..100 */
	uint64_t sc_window;		/* next attach or detach; 0: none */
	uint64_t sc_window_start;	/* when the last window opened */
	double cpu_user, cpu_sys;	/* the last CPU times shown */
	struct stats_total *tot;	/* scratch for totals(): this thread's */
	struct metrics *metrics;	/* [metrics] listen, or NULL */
	uint64_t next_emfile_log;

	/* Reloading and draining.  The lock orders the hand-over between
	 * this thread (which asks) and the main thread (which swaps between
	 * two runs of the model): pending, the drain deadline, and the
	 * server's draining/stopping/exiting flags change under it. */
	const char *cfg_path;
	char *const *overrides;
	int noverrides;
	pthread_mutex_t lock;
	struct config *pending;		/* the next configuration, if any */
	unsigned reload_seq;		/* reloads handed to the main thread */
	unsigned reload_taken;		/* the one the main thread swaps to */
	unsigned reload_done;		/* the last one whose swap is over */
	bool reload_ok;			/* how it went: */
	double reload_ms;		/*   drained in, when it went well */
	char reload_why[512];		/*   why not, otherwise */
	char not_applied[CONFIG_NAMES_MAX];	/* keys only a restart applies */
	int wakefd;			/* the main thread: a swap is over */
	struct client *cur;		/* whose command runs */
	uint64_t drain_deadline;	/* 0: not draining */
	unsigned drain_gen;		/* the run being drained */

	/* systemd: STATUS= every few seconds, WATCHDOG=1 while serving. */
	uint64_t wd_usec;
	uint64_t wd_accepted;		/* accepted at the previous check */
	bool wd_backlog;		/* connections waited at the last check */
	bool wd_stuck;
};

/* A subcommand that changes evd's state: its first word and how many
 * words must follow it ("syscalls workers" reads, "syscalls workers on"
 * changes). */
struct ctl_admin_sub {
	const char *word;
	int more;
};

/* A row of the command table.  Commands that change evd's state are for
 * root and evd's own user only (admin: the whole command; admin_subs: the
 * subcommands listed, ended by a NULL word); the rest is for whoever may
 * connect (the socket's mode and group). */
struct ctl_cmd {
	const char *name;
	const char *args;
	const char *help;
	int min_args, max_args;
	void (*fn)(struct control *ctl, struct out *o, int argc, char **argv);
	bool admin;
	const struct ctl_admin_sub *admin_subs;
};

/* ---- control.c ---------------------------------------------------------- */

/* Appends to o, growing it up to CTL_OUT_MAX; past that (or out of memory)
 * o->overflow is set and nothing more is added. */
void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Runs the complete lines c has buffered, while its output has room. */
void ctl_client_lines(struct control *ctl, struct client *c);

/* Writes what c has to say, closes it when done, and watches it for what
 * it waits for next: after anything that may change c's state. */
void ctl_client_update(struct control *ctl, struct client *c);

/* c is closed at when unless active before (UINT64_MAX: never). */
void ctl_client_idle(struct control *ctl, struct client *c, uint64_t when);

/* Arms the job id for when (0: disarms it).  Never fails: control_open()
 * reserves a timer for each job and client. */
void ctl_at(struct control *ctl, enum ctl_job_id id, uint64_t when);

/* ---- ctl_stats.c -------------------------------------------------------- */

/* Every counter since start, summed into the control thread's scratch
 * (valid until the next call). */
const struct stats_total *ctl_totals(const struct control *ctl);

/* Requests per second over the last few one-second samples, requests
 * being the count now. */
double ctl_request_rate(const struct control *ctl, uint64_t requests,
			uint64_t now);

/* Takes this second's requests sample (the next is due a second later:
 * CT_SAMPLE). */
void ctl_sample_rate(struct control *ctl, uint64_t now);

struct prom_out;

/* The text of /metrics ([metrics] listen): what evctl metrics prints, from
 * this thread's view (a metrics_body_fn; arg is the control). */
void ctl_metrics_body(void *arg, const struct prom_out *o);

void cmd_stats(struct control *ctl, struct out *o, int argc, char **argv);
void cmd_ping(struct control *ctl, struct out *o, int argc, char **argv);
void cmd_version(struct control *ctl, struct out *o, int argc, char **argv);
void cmd_workers(struct control *ctl, struct out *o, int argc, char **argv);

/* ---- ctl_probes.c ------------------------------------------------------- */

/* Requests served since start (every model, every worker). */
uint64_t ctl_requests_now(const struct control *ctl);

/* Requests served while the probes counted, since the last reset. */
uint64_t ctl_sc_requests(const struct control *ctl);

/* Sampling: the first window opens now (attached for sc_sample %). */
void ctl_sc_open_window(struct control *ctl, uint64_t now);

/* Turns the probes on or off (for good, or sampled); 0, or -1 with a
 * message in err. */
int ctl_sc_set(struct control *ctl, bool on, uint64_t now, char *err,
	       size_t errlen);

/* Sampling: a window's end or start is due; attaches or detaches. */
void ctl_sc_window(struct control *ctl, uint64_t now);

/* A new [probes] sample (1..100) from a reload. */
void ctl_sc_set_sample(struct control *ctl, unsigned pct, uint64_t now);

void cmd_syscalls(struct control *ctl, struct out *o, int argc, char **argv);

/* ---- lifecycle.c -------------------------------------------------------- */

/* SIGTERM, SIGINT and SIGHUP, read from the signalfd (logs). */
void ctl_on_signal(struct control *ctl);

/* While the serving side winds down, kicks it (blocking models notice
 * only when interrupted) and again KICK_INTERVAL_MS later (CT_KICK). */
void ctl_kick(struct control *ctl, uint64_t now);

/* drain_timeout is over for the run being drained: stop it (logs). */
void ctl_drain_check(struct control *ctl, uint64_t now);

/* The main thread finished a swap: answer the clients that waited. */
void ctl_reply_waiters(struct control *ctl, uint64_t now);

/* Answers c, which waited for a reload that is now over. */
void ctl_reload_waited(struct control *ctl, struct client *c);

/* STATUS= to systemd; the next is due STATUS_INTERVAL_MS later
 * (CT_STATUS). */
void ctl_status_update(struct control *ctl, uint64_t now);

/* WATCHDOG=1 unless the serving side is stuck (logs the change); the
 * next check half a watchdog period later (CT_WATCHDOG). */
void ctl_watchdog_check(struct control *ctl, uint64_t now);

void cmd_reload(struct control *ctl, struct out *o, int argc, char **argv);

#endif
