/* Worker processes: the signals a worker answers, and the two ways to make
 * one (server_fork() for a model's long-lived worker, server_fork_conn()
 * for one connection).  Split from server.c, which keeps the listeners,
 * slots and the master's signals. */
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "control.h"

static struct server *child_srv;

/* In a worker process: SIGTERM and SIGINT drain (finish what is in
 * flight, accept no more), SIGQUIT stops at once. */
static void on_child_signal(int sig)
{
	if (!child_srv)
		return;
	if (sig == SIGQUIT)
		atomic_store(&child_srv->stopping, true);
	else
		atomic_store(&child_srv->draining, true);
}

/* In this process, server_child_handlers() installed the handlers. */
static bool child_handlers_set;

/* SIGTERM, SIGINT and SIGQUIT to on_child_signal (on), or back to their
 * defaults; SIGHUP to its default. */
static void child_handlers(bool on)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on ? on_child_signal : SIG_DFL;	/* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGHUP, &sa, NULL);
}

void server_child_handlers(struct server *srv, bool on)
{
	child_srv = srv;
	child_handlers(on);
	child_handlers_set = on;
}

/* In a new worker process: SIGTERM, SIGINT and SIGQUIT end it (through
 * child_srv, which the caller has set), SIGHUP is left at its default, and
 * they and SIGKICK are let in.  Writes no memory. */
static void child_signals(void)
{
	if (!child_handlers_set)
		child_handlers(true);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGKICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

int server_fork(struct server *srv, unsigned slot, int keep_set,
		int (*fn)(struct server *srv, struct stats_slot *s, void *arg),
		void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid > 0)
		return pid;

	/* The child: one thread, a copy of the parent's memory. */
	control_forget(srv->ctl);
	if (keep_set != SERVER_KEEP_ALL_SETS)
		listeners_keep_only(srv, keep_set);
	child_srv = srv;
	child_signals();
	struct stats_slot *s = scoreboard_claim(srv->sb, slot);
	int rc = fn(srv, s, arg);
	slot_set_state(s, WORKER_FREE);
	_exit(rc < 0 ? 1 : 0);
}

/* The sanitizers follow processes through glibc's fork(), and so does
 * valgrind (its build defines EVD_PLAIN_FORK: a child cloned behind its
 * back answered echo but hung on HTTP under memcheck). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
	defined(EVD_PLAIN_FORK)
#define BARE_FORK false
#else
#define BARE_FORK true
#endif

/* A copy of this process, made without glibc's fork handlers (see
 * server_fork_conn()). */
static pid_t bare_fork(void)
{
	if (!BARE_FORK)
		return fork();
	return (pid_t)syscall(SYS_clone, (unsigned long)SIGCHLD, 0ul, 0ul, 0ul,
			      0ul);
}

bool server_fork_conn_bare(void)
{
	/* close_range() on an empty range: 0 where the kernel has it. */
	return BARE_FORK && close_range(~0u, ~0u, 0) == 0;
}

/* In the child: closes every descriptor but 0..2 and keep, without
 * touching memory; false if the kernel cannot (close_range: Linux 5.9). */
static bool close_all_but(int keep)
{
	if (keep > 3 &&
	    syscall(SYS_close_range, 3u, (unsigned)keep - 1, 0u) < 0)
		return false;
	return syscall(SYS_close_range, (unsigned)keep + 1, ~0u, 0u) == 0;
}

/* Lets the worker's signals in (the handlers are inherited), without
 * sigset_t helpers: the kernel's set is one word on Linux. */
static void conn_child_signals(void)
{
	uint64_t mask = 0;
	const int sigs[] = { SIGTERM, SIGINT, SIGQUIT, SIGKICK };

	if (!child_handlers_set) {
		child_signals();
		return;
	}
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		mask |= 1ull << (sigs[i] - 1);
	syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &mask, NULL, sizeof(mask));
}

int server_fork_conn(struct server *srv, unsigned slot, int fd,
		     int (*fn)(struct server *srv, struct stats_slot *s, int fd))
{
	if (child_srv != srv)
		child_srv = srv;	/* written once: its page stays shared */
	pid_t pid = bare_fork();

	if (pid < 0)
		return -errno;
	if (pid > 0) {
		scoreboard_claim_for(srv->sb, slot, pid);
		return pid;
	}
	/* The child: one thread, a copy of the parent's memory.  Every page
	 * it writes is a fault (a copy, or a new page): it writes its stack,
	 * its connection and its scoreboard slot, and closes what it does not
	 * use (the listeners, the control socket, the probes' links) without
	 * touching the structures that hold them.  Every page of code it runs
	 * is a fault too: its own system calls go through syscall(), whose
	 * page the clone's return has mapped already. */
	if (fd < 3 || !close_all_but(fd)) {
		control_forget(srv->ctl);
		listeners_keep_only(srv, SERVER_KEEP_NO_SET);
	}
	conn_child_signals();
	struct stats_slot *s = &srv->sb->slots[slot];
	int rc = fn(srv, s, fd);
	slot_set_state(s, WORKER_FREE);
	syscall(SYS_exit_group, rc < 0 ? 1 : 0);
	_exit(1);	/* not reached */
}
