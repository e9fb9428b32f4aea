/* thread: a thread per connection, as seed 001's "multi-thread" pattern.
 * The main thread accepts with a blocking accept(); each connection gets a
 * detached thread that serves it with blocking recv and send.  At most
 * max_connections threads exist; further connections are refused. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define THREAD_STACK (256 * 1024)
#define STOP_WARN_MS 10000

struct pool {
	struct server *srv;
	pthread_mutex_t lock;
	pthread_cond_t done;
	unsigned running;
};

struct job {
	struct pool *pool;
	int fd;
	unsigned slot;
};

static void *serve_one(void *arg)
{
	struct job *j = arg;
	struct pool *p = j->pool;
	struct server *srv = p->srv;

	server_kick_register(srv);
	struct stats_slot *s = scoreboard_claim(srv->sb, j->slot);
	slot_set_role(s, ROLE_CONN);
	struct conn *c = conn_new(j->fd, srv, s, true);
	if (c) {
		c->timeouts_inherited = server_inherited_timeout_ms() ==
					srv->cfg->idle_timeout_ms;
		conn_serve_blocking(srv, c);
	}
	server_kick_unregister(srv);
	server_slot_put(srv, j->slot);
	free(j);

	pthread_mutex_lock(&p->lock);
	if (--p->running == 0)
		pthread_cond_signal(&p->done);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts a thread for fd, or refuses the connection. */
static void spawn(struct pool *p, pthread_attr_t *attr, int fd,
		  struct stats_slot *acc)
{
	struct server *srv = p->srv;
	struct job *j = malloc(sizeof(*j));
	int slot = j ? server_slot_get(srv) : -1;

	if (slot < 0) {	/* max_connections threads already run */
		free(j);
		server_refuse(fd, acc);
		return;
	}
	*j = (struct job){ .pool = p, .fd = fd, .slot = (unsigned)slot };
	pthread_mutex_lock(&p->lock);
	p->running++;
	pthread_mutex_unlock(&p->lock);
	pthread_t t;
	int rc = pthread_create(&t, attr, serve_one, j);
	if (rc) {
		static uint64_t last_warning;
		if (now_ns() - last_warning > 1000000000u) {
			log_warnx("pthread_create: %s", strerror(rc));
			last_warning = now_ns();
		}
		pthread_mutex_lock(&p->lock);
		p->running--;
		pthread_mutex_unlock(&p->lock);
		server_slot_put(srv, (unsigned)slot);
		free(j);
		server_refuse(fd, acc);
	}
}

/* Waits for the connection threads; the control thread keeps kicking them
 * out of their blocking calls meanwhile, so they all end. */
static void wait_all(struct pool *p)
{
	struct timespec deadline;

	pthread_mutex_lock(&p->lock);
	while (p->running) {
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += STOP_WARN_MS / 1000;
		if (pthread_cond_timedwait(&p->done, &p->lock, &deadline) ==
		    ETIMEDOUT)
			log_warnx("still waiting for %u connection threads",
				  p->running);
	}
	pthread_mutex_unlock(&p->lock);
}

static int thread_run(struct server *srv)
{
	struct pool p = { .srv = srv };
	pthread_attr_t attr;

	struct stats_slot *acc = scoreboard_claim(srv->sb, 0);
	slot_set_role(acc, ROLE_ACCEPTOR);
	if (server_slots_init(srv, 1, srv->cfg->max_connections) < 0)
		return -ENOMEM;
	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.done, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, THREAD_STACK);
	/* Accepted sockets inherit TCP_NODELAY and the idle timeouts. */
	server_listeners_inherit(srv, true);

	while (!server_winding_down(srv)) {
		slot_set_state(acc, WORKER_IDLE);
		int lfd = server_wait_listener(srv->lis, srv->nlis);
		if (lfd < 0)
			continue;	/* interrupted */
		int fd = server_accept(srv, lfd, acc, false);
		if (fd >= 0)
			spawn(&p, &attr, fd, acc);
	}
	wait_all(&p);
	server_listeners_inherit(srv, false);
	pthread_attr_destroy(&attr);
	slot_set_state(acc, WORKER_FREE);
	pthread_cond_destroy(&p.done);
	pthread_mutex_destroy(&p.lock);
	return 0;
}

static unsigned thread_slots(const struct config *cfg)
{
	return 1 + cfg->max_connections;
}

const struct evd_model evd_model_thread = {
	.name = "thread",
	.summary = "a thread per connection: the main thread accepts, a "
		   "detached thread serves with blocking I/O",
	.flags = MODEL_BLOCKING,
	.slots = thread_slots,
	.run = thread_run,
};
