/* What every model gets: the configuration, the listening sockets, the
 * scoreboard and the stop flag. */
#ifndef EVD_SERVER_H
#define EVD_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "config.h"
#include "model.h"
#include "proto/proto.h"
#include "stats.h"

struct listener {
	int fd;
	char text[64];	/* the bound address, the real port when 0 was asked */
};

struct server {
	const struct config *cfg;
	const struct evd_model *model;
	const struct evd_proto *proto;
	struct listener lis[CONFIG_MAX_LISTEN];
	unsigned nlis;
	struct scoreboard *sb;
	unsigned workers;		/* resolved from cfg */
	_Atomic bool stopping;

	/* Threads to interrupt (SIGUSR1) when stopping; see server_kick(). */
	pthread_mutex_t kick_lock;
	pthread_t *kick;
	unsigned nkick, kick_cap;
};

/* The signal that interrupts a worker's blocking system call. */
#define SIGKICK SIGUSR1

static inline bool server_stopping(struct server *srv)
{
	return atomic_load_explicit(&srv->stopping, memory_order_relaxed);
}

int server_init(struct server *srv, const struct config *cfg);
void server_fini(struct server *srv);

/*
 * Binds and listens on every configured address.  Returns 0, or -1 with a
 * message in err.  nonblock: listeners for multiplexing models.
 */
int listeners_open(struct server *srv, bool nonblock, char *err, size_t errlen);
void listeners_close(struct server *srv);
/* "127.0.0.1:7777,[::1]:7778" */
void listeners_text(const struct server *srv, char *out, size_t len);

/*
 * Accepts one connection from lfd.  Returns the new fd (CLOEXEC, and
 * NONBLOCK when asked, TCP_NODELAY set); -EAGAIN when none is pending;
 * -EINTR when interrupted; another -errno after counting the failure in
 * slot.  On descriptor exhaustion it sheds one pending connection (counted
 * as refused) so that a level-triggered loop does not spin.
 */
int server_accept(struct server *srv, int lfd, struct stats_slot *slot,
		  bool nonblock);

struct conn;

/*
 * Accepts one connection and wraps it in a conn.  Returns 1 with *out set;
 * 0 when it was shed at once (active >= max_connections, fd >= max_fd, no
 * memory: counted as refused); or -errno from server_accept().
 */
int server_accept_conn(struct server *srv, int lfd, struct stats_slot *slot,
		       bool nonblock, unsigned active, int max_fd,
		       struct conn **out);

/* Closes a connection the worker will not serve, counted as refused. */
void server_refuse(int fd, struct stats_slot *slot);

/* Registers the calling thread to be kicked when the server stops. */
int server_kick_register(struct server *srv);
void server_kick_unregister(struct server *srv);
/* Interrupts every registered thread's blocking call; safe to repeat. */
void server_kick(struct server *srv);

/* Installs the SIGKICK handler (no SA_RESTART: blocking calls fail EINTR). */
void server_signals_init(void);
/* In a worker thread: lets SIGKICK in, keeps SIGTERM & co. blocked. */
void server_worker_sigmask(void);

#endif
