#include "children.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "log.h"
#include "server.h"
#include "util.h"

int children_add(struct children *ch, pid_t pid, unsigned slot)
{
	if (ch->n == ch->cap) {
		unsigned cap = ch->cap ? ch->cap * 2 : 16;
		struct child *v = realloc(ch->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ch->v = v;
		ch->cap = cap;
	}
	ch->v[ch->n++] = (struct child){
		.pid = pid, .slot = slot, .started_ns = now_ns(),
	};
	return 0;
}

unsigned children_reap(struct children *ch, child_exit_fn *fn, void *arg)
{
	unsigned reaped = 0;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < ch->n; i++) {
			if (ch->v[i].pid != pid)
				continue;
			struct child c = ch->v[i];
			ch->v[i] = ch->v[--ch->n];
			if (fn)
				fn(&c, status, arg);
			break;
		}
		reaped++;
	}
	return reaped;
}

void children_signal(const struct children *ch, int sig)
{
	for (unsigned i = 0; i < ch->n; i++)
		kill(ch->v[i].pid, sig);
}

void children_stop(struct children *ch, int sigchld_fd, struct server *srv,
		   unsigned grace_ms, child_exit_fn *fn, void *arg)
{
	uint64_t deadline = 0;
	bool killed = false;

	while (ch->n) {
		if (!server_stopping(srv)) {
			children_signal(ch, SIGTERM);	/* drain */
		} else if (!deadline) {
			deadline = now_ns() + (uint64_t)grace_ms * 1000000u;
			children_signal(ch, SIGQUIT);	/* stop now */
		} else if (!killed && now_ns() >= deadline) {
			log_warnx("%u worker process%s still running %u ms after "
				  "SIGQUIT: sending SIGKILL", ch->n,
				  ch->n == 1 ? "" : "es", grace_ms);
			children_signal(ch, SIGKILL);
			killed = true;
		} else if (!killed) {
			children_signal(ch, SIGQUIT);
		}
		struct pollfd pfd = { .fd = sigchld_fd, .events = POLLIN };
		if (poll(&pfd, 1, 50) > 0)
			server_sigchld_drain(sigchld_fd);
		children_reap(ch, fn, arg);
	}
}

void children_free(struct children *ch)
{
	free(ch->v);
	ch->v = NULL;
	ch->n = ch->cap = 0;
}
