/* One readiness loop for the models that differ only in how they wait:
 * select, poll and epoll (as redis's ae.c runs one loop over
 * ae_select.c, ae_poll.c, ae_epoll.c).  ready.c owns the loop: draining,
 * idle and request timeouts, delayed responses on a timer heap, the
 * worker's idle/reading state, EINTR, accepting and closing.  A mechanism
 * owns only its descriptor sets, behind r->api, through struct ready_ops. */
#ifndef EVD_MODELS_READY_H
#define EVD_MODELS_READY_H

#include <stdbool.h>

#include "../conn.h"
#include "../timer.h"

struct server;
struct stats_slot;

struct ready {
	struct server *srv;
	struct stats_slot *slot;
	const struct ready_ops *ops;
	void *api;			/* the mechanism's state */
	struct conn_list conns;		/* oldest activity first */
	struct timer_heap timers;	/* delayed responses */
};

/* What a mechanism reports of one ready connection. */
enum ready_event {
	READY_IN,	/* readable, or an error or hang-up to read */
	READY_OUT,	/* writable */
};

/* The mechanism: every function but reserve and del is required.
 * Connection functions see only connections the loop added. */
struct ready_ops {
	const char *wait_name;	/* the waiting call, for messages */
	int fd_limit;		/* accept only descriptors below it */
	/* Sets up r->api with every listener (r->srv->lis) watched for
	 * reading.  Returns 0, or -errno after logging why. */
	int (*create)(struct ready *r);
	/* Frees r->api; also after a create that failed. */
	void (*destroy)(struct ready *r);
	/* Draining: stop watching the listeners. */
	void (*unlisten)(struct ready *r);
	/* Optional: makes room for one more connection before an accept;
	 * -errno leaves the connection in the backlog. */
	int (*reserve)(struct ready *r);
	/* Watches a new connection for reading.  Returns 0 or -errno. */
	int (*add)(struct ready *r, struct conn *c);
	/* c now waits for want's CONN_WANT_READ and CONN_WANT_WRITE (neither:
	 * only for its timer, and the mechanism must not report it).
	 * Returns 0 or -errno. */
	int (*set)(struct ready *r, struct conn *c, unsigned want);
	/* Optional: forgets c, which is about to close. */
	void (*del)(struct ready *r, struct conn *c);
	/* Waits at most ms milliseconds (-1: no limit).  Returns how many
	 * descriptors are ready, or -errno (-EINTR: a signal came). */
	int (*wait)(struct ready *r, int ms);
	/* For each of the n ready descriptors of the last wait, calls
	 * ready_listener() or ready_conn().  Either may add connections
	 * and close the one it is given. */
	void (*fired)(struct ready *r, int n);
};

/* Runs the loop with mechanism ops until the server stops; a model's run().
 * Returns 0, or -errno on a fatal error (logged). */
int ready_run(struct server *srv, const struct ready_ops *ops);

/* For fired(): listener lfd is readable: accept what is pending. */
void ready_listener(struct ready *r, int lfd);
/* For fired(): connection c is ready. */
void ready_conn(struct ready *r, struct conn *c, enum ready_event ev);

#endif
