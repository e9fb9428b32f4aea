/* reuseport: one async event loop per worker thread, each over its own
 * SO_REUSEPORT listener set, so the kernel spreads new connections across
 * the workers and no accept is shared.  A connection stays with the worker
 * that accepted it.  The loop itself is async.c's. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "../log.h"
#include "../server.h"
#include "async.h"

struct worker {
	struct server *srv;
	unsigned k;		/* worker, slot and listener set index */
	_Atomic unsigned *active;	/* shared max_connections budget */
	pthread_t thread;
	int rc;
};

/* Workers, slots and listener sets are one per worker. */
static unsigned reuseport_workers(const struct config *cfg)
{
	return config_workers(cfg);
}

/* One failed worker stops them all: its listener set would otherwise keep
 * receiving its share of connections that nobody accepts. */
static void stop_all(struct server *srv)
{
	atomic_store(&srv->stopping, true);
	server_kick(srv);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->srv;

	/* The signal mask comes from the main thread: SIGKICK let in. */
	w->rc = server_kick_register(srv);
	if (w->rc < 0) {
		log_errorx("worker %u: out of memory", w->k);
		stop_all(srv);
		return NULL;
	}
	if (srv->cfg->pin_workers)
		server_pin_worker(w->k);
	struct stats_slot *slot = scoreboard_claim(srv->sb, w->k);
	slot_set_role(slot, ROLE_WORKER);
	w->rc = async_serve(srv, slot, server_set(srv, w->k), w->active);
	if (w->rc < 0)
		stop_all(srv);
	server_kick_unregister(srv);
	return NULL;
}

static int reuseport_run(struct server *srv)
{
	_Atomic unsigned active = 0;
	unsigned n = srv->workers, started = 0;
	int rc = 0;
	struct worker *w = calloc(n, sizeof(*w));

	if (!w) {
		log_errorx("cannot start %u workers: out of memory", n);
		return -ENOMEM;
	}
	/* listener_sets opened one set per worker: worker k serves set k. */
	for (unsigned k = 0; k < n; k++) {
		w[k] = (struct worker){ .srv = srv, .k = k, .active = &active };
		int e = pthread_create(&w[k].thread, NULL, worker_main, &w[k]);
		if (e) {
			rc = -e;
			log_errorx("cannot start worker %u: %s", k, strerror(e));
			stop_all(srv);
			break;
		}
		started++;
	}
	for (unsigned k = 0; k < started; k++) {
		pthread_join(w[k].thread, NULL);
		if (w[k].rc < 0 && rc == 0)
			rc = w[k].rc;
	}
	free(w);
	return rc;
}

const struct evd_model evd_model_reuseport = {
	.name = "reuseport",
	.summary = "one async event loop per worker thread, each with its own "
		   "SO_REUSEPORT listeners",
	.flags = MODEL_USES_WORKERS | MODEL_PINNABLE,
	.slots = reuseport_workers,
	.listener_sets = reuseport_workers,
	.run = reuseport_run,
};
