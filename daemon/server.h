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
	char conf[64];	/* the configured address it answers ("" if passed
			 * by systemd) */
	struct sockaddr_storage addr;	/* the same, for binding more sets */
	socklen_t addrlen;
};

struct control;

struct server {
	const struct config *cfg;
	const struct evd_model *model;
	const struct evd_proto *proto;
	struct listener lis[CONFIG_MAX_LISTEN];	/* listener set 0 */
	unsigned nlis;			/* listeners per set */
	unsigned nsets;			/* SO_REUSEPORT sets, one per worker */
	struct listener *extra;		/* sets 1..nsets-1 */
	struct scoreboard *sb;
	unsigned workers;		/* resolved from cfg */
	struct control *ctl;		/* closed in forked children */
	_Atomic bool stopping;		/* leave now: close everything */
	_Atomic bool draining;		/* accept no more; finish what is in flight */
	_Atomic bool exiting;		/* SIGTERM: once drained, evd exits */
	bool activated;			/* listeners passed by systemd (LISTEN_FDS) */

	/* The serving side is replaced between two runs of the model (a
	 * reload): the main thread swaps cfg, model, proto, workers,
	 * listeners and scoreboard holding this lock for writing; the control
	 * thread reads them holding it for reading. */
	pthread_rwlock_t swap_lock;
	struct stats_total *base;	/* totals of the scoreboards replaced */
	unsigned generation;		/* runs of the serving side so far */
	uint64_t drain_started_ns;	/* when the last drain began */

	/* Free scoreboard slots for models that start workers on demand. */
	pthread_mutex_t slot_lock;
	unsigned *free_slots;
	unsigned nfree;

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

/* Draining (a graceful stop or a reload): models stop accepting, call
 * conn_drain() on every connection, and return once none is left (or when
 * server_stopping() says the drain time is over). */
static inline bool server_draining(struct server *srv)
{
	return atomic_load_explicit(&srv->draining, memory_order_relaxed);
}

/* Accepting is over: draining or stopping. */
static inline bool server_winding_down(struct server *srv)
{
	return server_stopping(srv) || server_draining(srv);
}

int server_init(struct server *srv, const struct config *cfg);
/* Every counter since start: the live scoreboard plus those replaced by
 * reloads.  The caller holds swap_lock (or is the main thread). */
void server_sum(const struct server *srv, struct stats_total *t);
void server_fini(struct server *srv);

/*
 * Binds and listens on every configured address, nsets times: with more
 * than one set every socket has SO_REUSEPORT and set k serves worker k
 * (the kernel spreads connections across sets).  Returns 0, or -1 with a
 * message in err.  nonblock: listeners for multiplexing models.
 */
int listeners_open(struct server *srv, bool nonblock, unsigned nsets,
		   char *err, size_t errlen);
/*
 * Takes the n listening sockets systemd passed (fds 3 .. 3+n-1) as listener
 * set 0 (the only set: models that want one set per worker share it).
 * Returns 0, or -1 with a message in err.
 */
int listeners_adopt(struct server *srv, int n, bool nonblock, char *err,
		    size_t errlen);
/*
 * Between two runs (a reload): makes the listeners match srv->cfg and
 * nsets, keeping every socket whose configured address is still listed
 * (so no connection attempt is refused), opening new ones, closing those
 * no longer configured, and setting O_NONBLOCK as the next model wants.
 * On failure the old listeners stay and -1 is returned with err set.
 */
int listeners_reconcile(struct server *srv, bool nonblock, unsigned nsets,
			char *err, size_t errlen);
void listeners_close(struct server *srv);
/*
 * A reload begins to drain a run whose workers have socket sets of their
 * own (reuseport, prefork with reuseport = yes): a reuseport BPF program
 * on each address's group sends every new connection to set 0's socket,
 * which the next run keeps, so that nothing new lands on the sockets the
 * next run may close; workers of the other sets serve what their sets
 * still hold (server_set_drains()).  listeners_reconcile() takes the
 * program off.  Nothing to do with one set.  0, or -errno (the kernel
 * refused: connections spread as before).
 */
int listeners_steer(struct server *srv);
/* While draining: true when the worker of this set must go on accepting
 * until server_set_pending() says its queue is empty (a steered reload,
 * set other than set 0, evd not exiting). */
bool server_set_drains(struct server *srv, const struct listener *set);
/* True when a connection waits in the accept queue of one of the n
 * listeners (listening ones: a shut listener holds none). */
bool server_set_pending(const struct listener *set, unsigned n);
/* Listener set k, nlis entries; k >= nsets (listeners passed by systemd
 * make one set) gives set 0. */
struct listener *server_set(struct server *srv, unsigned k);
/*
 * An exit's drain begins: every listening socket of every set stops
 * listening now (shutdown(SHUT_RD)), so a new connection is refused
 * (ECONNREFUSED) instead of waiting in a backlog nobody will accept from
 * and being reset when evd exits; connections queued and not yet accepted
 * are reset.  The sockets stay open (and bound).  It acts on the sockets
 * themselves, so worker processes that share them see it too: a blocked
 * accept() wakes with EINVAL, which server_accept() turns into -EINTR.
 * Not for a reload (the next run takes the listeners over) and not for
 * sockets systemd passed (it keeps them and queues for the next start).
 * Returns how many sockets were shut.  Call with the winding-down flags
 * already set.
 */
unsigned listeners_shut(struct server *srv);
/* Closes every listener except set keep (a worker's own); -1 closes all. */
void listeners_keep_only(struct server *srv, int keep);
/* "127.0.0.1:7777,[::1]:7778" */
void listeners_text(const struct server *srv, char *out, size_t len);

/*
 * Accepts one connection from lfd.  Returns the new fd (CLOEXEC, and
 * NONBLOCK when asked, TCP_NODELAY set); -EAGAIN when none is pending;
 * -EINTR when interrupted; another -errno after counting the failure in
 * slot; -EINTR too when the listener no longer listens (listeners_shut():
 * not counted).  On descriptor exhaustion (EMFILE, ENFILE: counted in
 * errors_accept) it sheds one pending connection with the reserve
 * descriptor (counted as refused) and returns -EAGAIN, so that a
 * level-triggered loop does not spin; a blocking listener first waits for
 * a pending connection (and serves it if a descriptor was freed
 * meanwhile).  -EMFILE/-ENFILE: nothing could be shed.
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

/*
 * For the blocking models that accept on listener set 0 (thread, fork):
 * on sets TCP_NODELAY and SO_RCVTIMEO/SO_SNDTIMEO = idle_timeout on the
 * listeners, which accepted sockets inherit (Linux copies the socket), so
 * that accepting and serving a connection make no setsockopt: while it is
 * in effect server_accept() sets no TCP_NODELAY and
 * server_inherited_timeout_ms() returns idle_timeout.  A blocking accept()
 * then returns -EAGAIN every idle_timeout without a connection.  off puts
 * the listeners' timeouts back to none (another model may block in
 * accept()).  If a setsockopt fails, nothing is inherited: connections are
 * set up one by one, as without it.
 */
void server_listeners_inherit(struct server *srv, bool on);
/* The idle timeout accepted sockets have from their listener, or
 * UINT64_MAX when they have none (set it on each). */
uint64_t server_inherited_timeout_ms(void);

/* Closes a connection the worker will not serve, counted as refused. */
void server_refuse(int fd, struct stats_slot *slot);

/* Slots [first, first + n) are handed out on demand (fork, thread). */
int server_slots_init(struct server *srv, unsigned first, unsigned n);
/* A free slot index, or -1 when none is left. */
int server_slot_get(struct server *srv);
void server_slot_put(struct server *srv, unsigned i);

#define SERVER_KEEP_ALL_SETS (-1)
#define SERVER_KEEP_NO_SET (-2)

/*
 * Forks a worker process.  The child closes the control socket and the
 * listener sets it does not keep (keep_set: one set, SERVER_KEEP_ALL_SETS or
 * SERVER_KEEP_NO_SET), claims slot, stops on SIGTERM/SIGINT (they set
 * srv->stopping and interrupt blocking calls), runs fn(srv, slot, arg) and
 * exits: 0 when fn returned >= 0, 1 otherwise.  Returns the child's pid to
 * the parent, or -errno.
 */
int server_fork(struct server *srv, unsigned slot, int keep_set,
		int (*fn)(struct server *srv, struct stats_slot *s, void *arg),
		void *arg);

/*
 * The fork model's child: a process for the connection fd, which runs
 * fn(srv, slot, fd) and exits (0 when fn returned >= 0, 1 otherwise).
 * Made with the clone system call, not glibc's fork(): glibc's fork
 * handlers (malloc arenas, stdio, the dynamic linker's lock, the other
 * threads' stacks) write a dozen pages in both processes, each a
 * copy-on-write fault, which on this kind of machine costs more than the
 * rest of a short connection.  So fn must not call malloc or free, stdio,
 * or anything that takes a lock another thread of evd may hold (they may
 * have held it when the child was made): conn_new_at() and
 * conn_serve_blocking() do not.  The child closes every descriptor but fd
 * and 0..2; SIGTERM/SIGINT drain it, SIGQUIT stops it.  The parent claims
 * the slot for it (pid, state).  Returns the child's pid, or -errno.
 */
int server_fork_conn(struct server *srv, unsigned slot, int fd,
		     int (*fn)(struct server *srv, struct stats_slot *s, int fd));
/* The fork model's parent: installs (on) or removes (off) the handlers a
 * worker process has for SIGTERM, SIGINT and SIGQUIT, in this process,
 * where every thread blocks them (they reach the control thread through its
 * signalfd either way): server_fork_conn()'s children inherit them and only
 * unblock them. */
void server_child_handlers(struct server *srv, bool on);
/* True when server_fork_conn()'s child runs no glibc fork handler and
 * reads none of the parent's structures (not in sanitizer builds, and the
 * kernel has close_range): the parent may then leave mappings the child
 * never uses out of it (MADV_DONTFORK). */
bool server_fork_conn_bare(void);

/* Waits (blocking; EINTR when kicked) until one of the n listeners of set
 * can accept; returns its fd, or -errno.  With one listener it returns at
 * once and the caller's blocking accept() does the waiting. */
int server_wait_listener(const struct listener *set, unsigned n);

/* Binds the calling thread (worker k) to the k-th CPU, modulo the CPUs evd
 * may use; logs the result.  Returns the CPU, or -errno (runs unpinned). */
int server_pin_worker(unsigned k);

/* Blocks SIGCHLD in the calling thread and returns a signalfd for it
 * (non-blocking, close-on-exec), or -errno. */
int server_sigchld_fd(void);
/* Drains a SIGCHLD signalfd. */
void server_sigchld_drain(int fd);

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
