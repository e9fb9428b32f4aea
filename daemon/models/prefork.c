/* prefork: N worker processes started up front, as seed 001's "prefork"
 * pattern.  Each worker loops: take the accept lock, accept, release it,
 * serve the connection with blocking I/O.  The lock (accept_lock) is an
 * fcntl lock on a lock file (seed 001), flock, a robust process-shared
 * mutex, or none (every idle worker blocks in accept() and the kernel wakes
 * one); with reuseport = yes each worker accepts on its own SO_REUSEPORT
 * socket instead.  The master restarts a worker that dies (with backoff
 * when it keeps dying, restarts counted) and stops them all on SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../children.h"
#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define STOP_GRACE_MS 2000
#define QUICK_DEATH_NS 1000000000ull	/* dying sooner counts as failing */
#define BACKOFF_MAX_MS 10000
/* A worker stopped (SIGSTOP, state T) while others cannot accept without
 * it, for this long, is killed and replaced; checked every WATCH_MS. */
#define STOPPED_MAX_MS 1000
#define WATCH_MS 100

/* Shared with the workers: who holds the accept lock, for the master's
 * watch on stopped workers. */
struct lock_shared {
	pthread_mutex_t mutex;	/* ACCEPT_LOCK_MUTEX */
	_Atomic int holder;	/* pid of the worker holding the lock, or 0 */
};

struct alock {
	enum accept_lock kind;
	int fd;			/* fcntl, flock: the lock file */
	struct lock_shared *sh;	/* in a shared mapping */
};

struct worker {
	unsigned fails;		/* quick deaths in a row */
	uint64_t respawn_at;	/* 0: running or not scheduled */
	bool running;
	int pid;
	uint64_t stopped_since;	/* seen stopped, blocking the others; 0: no */
};

struct prefork {
	struct server *srv;
	struct stats_slot *slot;
	struct alock lock;
	struct worker *w;
	struct children kids;
};

/* ---- the accept lock ------------------------------------------------------ */

static int lock_open(struct alock *l, enum accept_lock kind)
{
	l->kind = kind;
	l->fd = -1;
	l->sh = mmap(NULL, sizeof(*l->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (l->sh == MAP_FAILED) {
		l->sh = NULL;
		return -errno;
	}
	atomic_store(&l->sh->holder, 0);
	if (kind == ACCEPT_LOCK_FCNTL || kind == ACCEPT_LOCK_FLOCK) {
		/* An anonymous file: nothing to clean up, no name to guess. */
		l->fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (l->fd < 0) {
			char path[] = "/tmp/evd-accept-lock-XXXXXX";
			l->fd = mkostemp(path, O_CLOEXEC);
			if (l->fd < 0)
				return -errno;
			unlink(path);
		}
	} else if (kind == ACCEPT_LOCK_MUTEX) {
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		/* A worker killed while holding it must not stall the rest. */
		pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
		int rc = pthread_mutex_init(&l->sh->mutex, &a);
		pthread_mutexattr_destroy(&a);
		if (rc)
			return -rc;
	}
	return 0;
}

static void lock_close(struct alock *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->sh) {
		if (l->kind == ACCEPT_LOCK_MUTEX)
			pthread_mutex_destroy(&l->sh->mutex);
		munmap(l->sh, sizeof(*l->sh));
	}
}

/* In a new worker: flock locks belong to an open file description, which
 * the workers would share through the inherited fd; give this one its own. */
static int lock_child_init(struct alock *l)
{
	if (l->kind != ACCEPT_LOCK_FLOCK)
		return 0;
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", l->fd);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(l->fd);
	l->fd = fd;
	return 0;
}

/* Takes the lock: 0, or -EINTR when a signal interrupted the wait. */
static int lock_take(struct alock *l)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int rc;

	switch (l->kind) {
	case ACCEPT_LOCK_FCNTL:
		rc = fcntl(l->fd, F_SETLKW, &fl) < 0 ? errno : 0;
		break;
	case ACCEPT_LOCK_FLOCK:
		rc = flock(l->fd, LOCK_EX) < 0 ? errno : 0;
		break;
	case ACCEPT_LOCK_MUTEX:
		rc = pthread_mutex_lock(&l->sh->mutex);
		if (rc == EOWNERDEAD) {
			/* Its holder died; the lock guards no data. */
			pthread_mutex_consistent(&l->sh->mutex);
			rc = 0;
		}
		break;
	default:
		return 0;
	}
	if (rc == 0)
		atomic_store_explicit(&l->sh->holder, (int)getpid(),
				      memory_order_relaxed);
	return -rc;
}

static void lock_give(struct alock *l)
{
	struct flock fl = { .l_type = F_UNLCK, .l_whence = SEEK_SET };

	if (l->kind != ACCEPT_LOCK_NONE)
		atomic_store_explicit(&l->sh->holder, 0, memory_order_relaxed);
	switch (l->kind) {
	case ACCEPT_LOCK_FCNTL:
		fcntl(l->fd, F_SETLK, &fl);
		break;
	case ACCEPT_LOCK_FLOCK:
		flock(l->fd, LOCK_UN);
		break;
	case ACCEPT_LOCK_MUTEX:
		pthread_mutex_unlock(&l->sh->mutex);
		break;
	default:
		break;
	}
}

/* ---- a worker ------------------------------------------------------------------ */

static int worker_main(struct server *srv, struct stats_slot *s, void *arg)
{
	struct prefork *pf = arg;
	unsigned id = (unsigned)(s - srv->sb->slots) - 1;
	const struct listener *set = srv->cfg->reuseport ? server_set(srv, id) :
							   srv->lis;

	slot_set_role(s, ROLE_WORKER);
	if (srv->cfg->pin_workers)
		server_pin_worker(id);
	if (lock_child_init(&pf->lock) < 0) {
		log_error("worker %u: cannot open the accept lock", id);
		return -1;
	}
	while (!server_winding_down(srv)) {
		slot_set_state(s, WORKER_IDLE);
		if (lock_take(&pf->lock) < 0)
			continue;	/* interrupted */
		int fd = -EINTR;
		if (!server_winding_down(srv)) {
			int lfd = server_wait_listener(set, srv->nlis);
			if (lfd >= 0)
				fd = server_accept(srv, lfd, s, false);
		}
		lock_give(&pf->lock);
		if (fd < 0)
			continue;
		struct conn *c = conn_new(fd, srv, s, true);
		if (c)
			conn_serve_blocking(srv, c);
	}
	/* A reload closing this worker's own socket: what it holds first. */
	while (server_set_drains(srv, set) && !server_stopping(srv) &&
	       server_set_pending(set, srv->nlis)) {
		int lfd = server_wait_listener(set, srv->nlis);
		int fd = lfd >= 0 ? server_accept(srv, lfd, s, false) : lfd;
		struct conn *c = fd >= 0 ? conn_new(fd, srv, s, true) : NULL;
		if (c)
			conn_serve_blocking(srv, c);
	}
	return 0;
}

/* ---- the master ------------------------------------------------------------------ */

static int spawn(struct prefork *pf, unsigned id)
{
	struct server *srv = pf->srv;
	int keep = srv->cfg->reuseport ? (int)id : 0;
	int pid = server_fork(srv, 1 + id, keep, worker_main, pf);

	if (pid < 0) {
		errno = -pid;
		log_warn("worker %u: fork", id);
		return pid;
	}
	if (children_add(&pf->kids, pid, 1 + id) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -ENOMEM;
	}
	pf->w[id].running = true;
	pf->w[id].respawn_at = 0;
	pf->w[id].pid = pid;
	pf->w[id].stopped_since = 0;
	return 0;
}

/* ---- stopped workers --------------------------------------------------------- */

/* The state letter of /proc/PID/stat ('T': stopped), '?' if unknown. */
static char proc_state(int pid)
{
	char path[64], buf[512];

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = '\0';
	const char *p = strrchr(buf, ')');	/* the name may hold ')' */
	return p && p[1] == ' ' ? p[2] : '?';
}

/* True when connections wait on worker id's own SO_REUSEPORT sockets. */
static bool set_pending(struct server *srv, unsigned id)
{
	const struct listener *set = server_set(srv, id);
	struct pollfd pfd[CONFIG_MAX_LISTEN];

	for (unsigned i = 0; i < srv->nlis; i++)
		pfd[i] = (struct pollfd){ .fd = set[i].fd, .events = POLLIN };
	return poll(pfd, srv->nlis, 0) > 0;
}

/*
 * A stopped worker (SIGSTOP, a debugger) that the others wait for: it
 * holds the accept lock (fcntl, flock, mutex), or connections wait on its
 * own SO_REUSEPORT socket.  Stopped for STOPPED_MAX_MS, it is killed; the
 * usual restart replaces it, the lock is released by its death (a robust
 * mutex reports the dead owner) and the replacement takes its socket's
 * queue.  With accept_lock = none a stopped worker holds nothing: it is
 * left alone, and so is one stopped while serving (its own client waits).
 */
static void watch_stopped(struct prefork *pf)
{
	struct server *srv = pf->srv;
	int holder = atomic_load_explicit(&pf->lock.sh->holder,
					  memory_order_relaxed);
	uint64_t now = now_ns();

	for (unsigned id = 0; id < srv->workers; id++) {
		struct worker *w = &pf->w[id];
		bool blocks = w->running && w->pid > 0 &&
			      (srv->cfg->reuseport ? set_pending(srv, id) :
						     holder == w->pid) &&
			      proc_state(w->pid) == 'T';
		if (!blocks) {
			w->stopped_since = 0;
			continue;
		}
		if (!w->stopped_since) {
			w->stopped_since = now;
			continue;
		}
		if (now - w->stopped_since < STOPPED_MAX_MS * 1000000ull)
			continue;
		log_warnx("worker %u (pid %d) has been stopped for %d ms %s: "
			  "killing it; a new worker replaces it", id, w->pid,
			  STOPPED_MAX_MS, srv->cfg->reuseport ?
				  "with connections waiting on its own socket" :
				  "holding the accept lock the others wait for");
		kill(w->pid, SIGKILL);
		w->stopped_since = 0;
	}
}

/* A worker ended: count it and schedule its replacement, sooner or later
 * depending on whether it keeps dying. */
static void on_exit_worker(const struct child *c, int status, void *arg)
{
	struct prefork *pf = arg;
	struct server *srv = pf->srv;
	unsigned id = c->slot - 1;
	struct worker *w = &pf->w[id];
	struct stats_slot *s = &srv->sb->slots[c->slot];
	uint64_t now = now_ns();

	w->running = false;
	slot_set_state(s, WORKER_FREE);
	uint64_t lost = slot_abort_connections(s);
	if (server_winding_down(srv))
		return;
	if (WIFSIGNALED(status))
		log_warnx("worker %u (pid %d) killed by signal %d%s", id,
			  (int)c->pid, WTERMSIG(status),
			  lost ? ", with the connection it served" : "");
	else
		log_warnx("worker %u (pid %d) exited with status %d", id,
			  (int)c->pid, WEXITSTATUS(status));
	atomic_store_explicit(&s->restarts,
			      atomic_load_explicit(&s->restarts,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
	uint64_t delay_ms = 0;
	if (now - c->started_ns < QUICK_DEATH_NS) {
		w->fails++;
		delay_ms = 100ull << (w->fails < 8 ? w->fails - 1 : 7);
		if (delay_ms > BACKOFF_MAX_MS)
			delay_ms = BACKOFF_MAX_MS;
		log_warnx("worker %u died %u time%s in a row within a second of "
			  "starting: restarting it in %llu ms", id, w->fails,
			  w->fails == 1 ? "" : "s", (unsigned long long)delay_ms);
	} else {
		w->fails = 0;
	}
	w->respawn_at = now + delay_ms * 1000000u;
	if (!w->respawn_at)
		w->respawn_at = 1;
}

/* Starts the workers whose time has come; returns the ms until the next
 * one is due, -1 if none is waiting. */
static int respawn_due(struct prefork *pf)
{
	uint64_t now = now_ns();
	int next = -1;

	for (unsigned id = 0; id < pf->srv->workers; id++) {
		struct worker *w = &pf->w[id];
		if (w->running || !w->respawn_at)
			continue;
		if (w->respawn_at <= now) {
			if (spawn(pf, id) < 0)
				w->respawn_at = now + 1000000000u;	/* retry */
			continue;
		}
		int ms = (int)((w->respawn_at - now + 999999) / 1000000);
		if (next < 0 || ms < next)
			next = ms;
	}
	return next;
}

static int prefork_run(struct server *srv)
{
	struct prefork pf = { .srv = srv };
	int rc = 0, sigfd;

	pf.slot = scoreboard_claim(srv->sb, 0);
	slot_set_role(pf.slot, ROLE_MASTER);
	pf.w = calloc(srv->workers, sizeof(*pf.w));
	if (!pf.w)
		return -ENOMEM;
	rc = lock_open(&pf.lock, srv->cfg->reuseport ? ACCEPT_LOCK_NONE :
						      srv->cfg->accept_lock);
	if (rc < 0) {
		errno = -rc;
		log_error("cannot create the accept lock (%s)",
			  accept_lock_names[srv->cfg->accept_lock]);
		goto out;
	}
	sigfd = server_sigchld_fd();
	if (sigfd < 0) {
		rc = sigfd;
		goto out;
	}
	log_info("prefork: %u workers, %s", srv->workers,
		 srv->cfg->reuseport ? "one SO_REUSEPORT socket each" :
		 srv->cfg->accept_lock == ACCEPT_LOCK_NONE ?
				       "accept without a lock" :
				       srv->cfg->accept_lock == ACCEPT_LOCK_FCNTL ?
				       "accept under an fcntl lock" :
				       srv->cfg->accept_lock == ACCEPT_LOCK_FLOCK ?
				       "accept under an flock lock" :
				       "accept under a shared mutex");
	for (unsigned id = 0; id < srv->workers; id++) {
		rc = spawn(&pf, id);
		if (rc < 0) {
			log_errorx("cannot start worker %u", id);
			goto stop;
		}
	}
	bool watch = srv->cfg->reuseport ||
		     srv->cfg->accept_lock != ACCEPT_LOCK_NONE;
	while (!server_winding_down(srv)) {
		slot_set_state(pf.slot, WORKER_IDLE);
		int timeout = respawn_due(&pf);
		if (watch) {
			watch_stopped(&pf);
			if (timeout < 0 || timeout > WATCH_MS)
				timeout = WATCH_MS;
		}
		struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
		int n = poll(&pfd, 1, timeout);
		if (n < 0 && errno != EINTR) {
			rc = -errno;
			log_error("poll");
			break;
		}
		if (n > 0) {
			server_sigchld_drain(sigfd);
			children_reap(&pf.kids, on_exit_worker, &pf);
		}
	}
stop:
	children_stop(&pf.kids, sigfd, srv, STOP_GRACE_MS, on_exit_worker, &pf);
	close(sigfd);
out:
	children_free(&pf.kids);
	lock_close(&pf.lock);
	free(pf.w);
	slot_set_state(pf.slot, WORKER_FREE);
	return rc;
}

static unsigned prefork_slots(const struct config *cfg)
{
	return 1 + config_workers(cfg);
}

static unsigned prefork_sets(const struct config *cfg)
{
	return cfg->reuseport ? config_workers(cfg) : 1;
}

const struct evd_model evd_model_prefork = {
	.name = "prefork",
	.summary = "N worker processes from the start, each accepting in turn "
		   "(accept_lock) and serving with blocking I/O",
	.flags = MODEL_BLOCKING | MODEL_USES_WORKERS | MODEL_PREFORK_KEYS |
		 MODEL_PINNABLE | MODEL_PROCESSES,
	.slots = prefork_slots,
	.listener_sets = prefork_sets,
	.run = prefork_run,
};
