/* prethread: N threads started up front, as seed 001's "prethread"
 * pattern.  Each thread loops: lock a mutex, accept, unlock, serve the
 * connection with blocking I/O.  At most N connections are served at once;
 * the rest wait in the listen backlog. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"

struct pool {
	struct server *srv;
	pthread_mutex_t accept_lock;
};

struct worker {
	struct pool *pool;
	unsigned id;		/* also the slot index */
	pthread_t thread;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct server *srv = w->pool->srv;

	if (server_kick_register(srv) < 0) {
		log_errorx("worker %u: out of memory", w->id);
		atomic_store(&srv->stopping, true);
		server_kick(srv);
		return NULL;
	}
	struct stats_slot *s = scoreboard_claim(srv->sb, w->id);
	slot_set_role(s, ROLE_WORKER);
	if (srv->cfg->pin_workers)
		server_pin_worker(w->id);
	while (!server_winding_down(srv)) {
		int fd = -EINTR;

		slot_set_state(s, WORKER_IDLE);
		pthread_mutex_lock(&w->pool->accept_lock);
		if (!server_winding_down(srv)) {
			int lfd = server_wait_listener(srv->lis, srv->nlis);
			if (lfd >= 0)
				fd = server_accept(srv, lfd, s, false);
		}
		pthread_mutex_unlock(&w->pool->accept_lock);
		if (fd < 0)
			continue;
		struct conn *c = conn_new(fd, srv, s, true);
		if (c)
			conn_serve_blocking(srv, c);
	}
	server_kick_unregister(srv);
	return NULL;
}

static int prethread_run(struct server *srv)
{
	struct pool pool = { .srv = srv };
	unsigned n = srv->workers, started = 0;
	struct worker *w = calloc(n, sizeof(*w));
	int rc = 0;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&pool.accept_lock, NULL);
	for (; started < n; started++) {
		w[started] = (struct worker){ .pool = &pool, .id = started };
		int e = pthread_create(&w[started].thread, NULL, worker_main,
				       &w[started]);
		if (e) {
			log_errorx("cannot start worker %u: %s", started,
				   strerror(e));
			rc = -e;
			atomic_store(&srv->stopping, true);
			server_kick(srv);
			break;
		}
	}
	/* The workers end when the server stops (they are kicked out of
	 * accept and recv); the main thread only waits for them. */
	for (unsigned i = 0; i < started; i++)
		pthread_join(w[i].thread, NULL);
	pthread_mutex_destroy(&pool.accept_lock);
	free(w);
	return rc;
}

static unsigned prethread_slots(const struct config *cfg)
{
	return config_workers(cfg);
}

const struct evd_model evd_model_prethread = {
	.name = "prethread",
	.summary = "N threads from the start, each accepting under a mutex and "
		   "serving with blocking I/O",
	.flags = MODEL_BLOCKING | MODEL_USES_WORKERS | MODEL_PINNABLE,
	.slots = prethread_slots,
	.run = prethread_run,
};
