/* The event loop of the async model, shared with reuseport (one loop per
 * worker thread, each over its own SO_REUSEPORT listener set). */
#ifndef EVD_MODELS_ASYNC_H
#define EVD_MODELS_ASYNC_H

#include <stdatomic.h>

struct listener;
struct server;
struct stats_slot;

/*
 * Serves the srv->nlis listeners of set (non-blocking) from an event loop
 * in the calling thread until server_stopping(srv), then closes every
 * connection it accepted.  slot: the caller's claimed scoreboard slot, which
 * this loop alone writes.  active: connections open under the same
 * max_connections budget, shared by every loop of the server (it is
 * reserved before each accept, so the limit holds across threads).
 * Returns 0, or -errno after logging a fatal error.
 */
int async_serve(struct server *srv, struct stats_slot *slot,
		const struct listener *set, _Atomic unsigned *active);

#endif
