/* The worker processes a master keeps (fork, prefork): who they are, how
 * they are reaped and how they are stopped. */
#ifndef EVD_CHILDREN_H
#define EVD_CHILDREN_H

#include <stdint.h>
#include <sys/types.h>

struct child {
	pid_t pid;
	unsigned slot;		/* scoreboard slot the child writes */
	uint64_t started_ns;
};

struct children {
	struct child *v;
	unsigned n, cap;
};

typedef void child_exit_fn(const struct child *c, int status, void *arg);

/* Returns 0 or -ENOMEM. */
int children_add(struct children *ch, pid_t pid, unsigned slot);
/* Reaps every exited child without waiting: calls fn(child, wait status,
 * arg) and forgets it.  Returns how many were reaped. */
unsigned children_reap(struct children *ch, child_exit_fn *fn, void *arg);
void children_signal(const struct children *ch, int sig);
struct server;

/*
 * Ends every child and returns once all are reaped (fn called for each).
 * While the server drains, SIGTERM (the children drain: finish what is in
 * flight, accept no more); once it stops, SIGQUIT (close everything now),
 * then SIGKILL for those alive grace_ms later.  Signals repeat every 50 ms
 * (one can land just before a blocking call).  sigchld_fd: a SIGCHLD
 * signalfd to wait on.
 */
void children_stop(struct children *ch, int sigchld_fd, struct server *srv,
		   unsigned grace_ms, child_exit_fn *fn, void *arg);
void children_free(struct children *ch);

#endif
