/* fork: a process per connection, as seed 001's "multi-process" pattern.
 * The parent accepts; each connection is served by a new child with
 * blocking recv and send, which exits when the client leaves.  The parent
 * reaps every child as it exits (SIGCHLD through a signalfd), so no zombie
 * outlives its connection. */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../children.h"
#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define STOP_GRACE_MS 2000

struct ctx {
	struct server *srv;
	struct stats_slot *slot;	/* the parent's: refusals */
	struct children kids;
	uint64_t last_fork_warning;
};

static int serve_one(struct server *srv, struct stats_slot *s, void *arg)
{
	int fd = (int)(intptr_t)arg;

	slot_set_role(s, ROLE_CONN);
	struct conn *c = conn_new(fd, srv, s, true);
	if (!c)
		return -ENOMEM;
	conn_serve_blocking(srv, c);
	return 0;
}

static void on_exit_child(const struct child *c, int status, void *arg)
{
	struct ctx *x = arg;

	uint64_t lost = slot_abort_connections(&x->srv->sb->slots[c->slot]);
	if (WIFSIGNALED(status) && !server_stopping(x->srv))
		log_warnx("connection process %d died of signal %d%s",
			  (int)c->pid, WTERMSIG(status),
			  lost ? " with its connection" : "");
	server_slot_put(x->srv, c->slot);
}

static void spawn(struct ctx *x, int fd)
{
	struct server *srv = x->srv;
	int slot = x->kids.n < srv->cfg->max_connections ?
			   server_slot_get(srv) : -1;

	if (slot < 0) {
		server_refuse(fd, x->slot);
		return;
	}
	int pid = server_fork(srv, (unsigned)slot, SERVER_KEEP_NO_SET,
			      serve_one, (void *)(intptr_t)fd);
	close(fd);	/* the child has its own copy */
	if (pid < 0 || children_add(&x->kids, pid, (unsigned)slot) < 0) {
		uint64_t now = now_ns();
		if (pid < 0 && now - x->last_fork_warning > 1000000000u) {
			errno = -pid;
			log_warn("fork");
			x->last_fork_warning = now;
		}
		if (pid > 0)	/* untracked: stop it rather than lose it */
			kill(pid, SIGKILL);
		else
			server_slot_put(srv, (unsigned)slot);
		slot_add(x->slot, STAT_refused, 1);
	}
}

static int fork_run(struct server *srv)
{
	struct ctx x = { .srv = srv };
	struct pollfd pfd[1 + CONFIG_MAX_LISTEN];
	int rc = 0;

	x.slot = scoreboard_claim(srv->sb, 0);
	slot_set_role(x.slot, ROLE_ACCEPTOR);
	int sigfd = server_sigchld_fd();
	if (sigfd < 0) {
		errno = -sigfd;
		log_error("signalfd");
		return sigfd;
	}
	if (server_slots_init(srv, 1, srv->cfg->max_connections) < 0) {
		close(sigfd);
		return -ENOMEM;
	}
	pfd[0] = (struct pollfd){ .fd = sigfd, .events = POLLIN };
	for (unsigned i = 0; i < srv->nlis; i++)
		pfd[1 + i] = (struct pollfd){ .fd = srv->lis[i].fd, .events = POLLIN };

	while (!server_winding_down(srv)) {
		slot_set_state(x.slot, WORKER_IDLE);
		if (poll(pfd, 1 + srv->nlis, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_error("poll");
			break;
		}
		if (pfd[0].revents) {
			server_sigchld_drain(sigfd);
			children_reap(&x.kids, on_exit_child, &x);
		}
		for (unsigned i = 0; i < srv->nlis; i++) {
			if (!pfd[1 + i].revents)
				continue;
			int fd = server_accept(srv, pfd[1 + i].fd, x.slot, false);
			if (fd >= 0)
				spawn(&x, fd);
		}
	}
	children_stop(&x.kids, sigfd, srv, STOP_GRACE_MS, on_exit_child, &x);
	children_free(&x.kids);
	close(sigfd);
	slot_set_state(x.slot, WORKER_FREE);
	return rc;
}

static unsigned fork_slots(const struct config *cfg)
{
	return 1 + cfg->max_connections;
}

const struct evd_model evd_model_fork = {
	.name = "fork",
	.summary = "a process per connection: the parent accepts, a child "
		   "serves with blocking I/O",
	.flags = MODEL_PROCESSES,
	.slots = fork_slots,
	.run = fork_run,
};
