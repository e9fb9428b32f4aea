#include "children.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "log.h"
#include "server.h"
#include "util.h"

/* The list lives in memory the children do not inherit: the parent
 * writes it for each child it makes, and a page it shared with a child
 * would be copied at its first write after each fork. */
static struct child *list_alloc(unsigned cap)
{
	size_t len = (size_t)cap * sizeof(struct child);
	void *v = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (v == MAP_FAILED)
		return NULL;
	(void)madvise(v, len, MADV_DONTFORK);
	return v;
}

static void list_free(struct child *v, unsigned cap)
{
	if (v)
		munmap(v, (size_t)cap * sizeof(*v));
}

int children_add(struct children *ch, pid_t pid, unsigned slot)
{
	if (ch->n == ch->cap) {
		/* A multiple of a page's worth. */
		unsigned cap = ch->cap ? ch->cap * 2 : 4096 / sizeof(struct child);
		struct child *v = list_alloc(cap);
		if (!v)
			return -ENOMEM;
		if (ch->n)
			memcpy(v, ch->v, ch->n * sizeof(*v));
		list_free(ch->v, ch->cap);
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
	list_free(ch->v, ch->cap);
	ch->v = NULL;
	ch->n = ch->cap = 0;
}
