#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "conn.h"
#include "control.h"
#include "log.h"

/* One spare descriptor per process, given up to shed a connection when the
 * descriptor table is full (the libev/nginx trick). */
static pthread_mutex_t reserve_lock = PTHREAD_MUTEX_INITIALIZER;

/* A worker process that finds its listener shut waits this long at most
 * for the signal that tells it to drain (server_accept()). */
#define SHUT_WAIT_MS 100
static int reserve_fd = -1;

int server_init(struct server *srv, const struct config *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
	srv->model = cfg->model;
	srv->proto = cfg->proto;
	srv->workers = config_workers(cfg);
	for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++)
		srv->lis[i].fd = -1;
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	srv->base = calloc(1, sizeof(*srv->base));
	if (!srv->base)
		return -ENOMEM;
	pthread_rwlock_init(&srv->swap_lock, NULL);
	pthread_mutex_init(&srv->slot_lock, NULL);
	return -pthread_mutex_init(&srv->kick_lock, NULL);
}

void server_sum(const struct server *srv, struct stats_total *t)
{
	const struct stats_total *b = srv->base;

	scoreboard_sum(srv->sb, t);
	for (int k = 0; k < STAT_MAX; k++)
		t->c[k] += b->c[k];
	for (int i = 0; i < STATS_HIST_BUCKETS; i++)
		t->hist[i] += b->hist[i];
	t->lat_sum_ns += b->lat_sum_ns;
	if (b->lat_max_ns > t->lat_max_ns)
		t->lat_max_ns = b->lat_max_ns;
}

void server_fini(struct server *srv)
{
	listeners_close(srv);
	free(srv->kick);
	srv->kick = NULL;
	free(srv->free_slots);
	srv->free_slots = NULL;
	free(srv->base);
	srv->base = NULL;
	pthread_rwlock_destroy(&srv->swap_lock);
	pthread_mutex_destroy(&srv->kick_lock);
	pthread_mutex_destroy(&srv->slot_lock);
}

static void addr_text(const struct sockaddr_storage *ss, char *out, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(out, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(out, len, "%s:%u", host, ntohs(s4->sin_port));
	}
}

/* Binds one listener to addr (a configured address, or the bound address
 * of set 0 for the other SO_REUSEPORT sets). */
/* 0 when addr can be bound without SO_REUSEPORT (port 0 always can),
 * else the errno of that bind. */
static int port_taken(const struct sockaddr_storage *addr, socklen_t addrlen)
{
	const struct sockaddr_in *s4 = (const void *)addr;
	const struct sockaddr_in6 *s6 = (const void *)addr;
	int one = 1, e = 0;

	if ((addr->ss_family == AF_INET && s4->sin_port == 0) ||
	    (addr->ss_family == AF_INET6 && s6->sin6_port == 0))
		return 0;
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;	/* the real bind will say */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)addr, addrlen) < 0)
		e = errno;
	close(fd);
	return e;
}

static int listen_one(const struct sockaddr_storage *addr, socklen_t addrlen,
		      const char *text, unsigned backlog, bool nonblock,
		      bool probe, struct listener *l, char *err, size_t errlen)
{
	int one = 1;
	int fd = socket(addr->ss_family,
			SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0),
			0);

	if (fd < 0) {
		snprintf(err, errlen, "socket for %s: %s", text, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Always: a reload to a model with one socket set per worker binds
	 * more sockets to the port while this one keeps listening. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		snprintf(err, errlen, "SO_REUSEPORT on %s: %s", text,
			 strerror(errno));
		close(fd);
		return -1;
	}
	if (addr->ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	/* SO_REUSEPORT would let this socket join another server's port
	 * (one of the same user): a plain bind first tells whether the
	 * port is taken.  Not for the extra sets, which join our own. */
	int e = probe ? port_taken(addr, addrlen) : 0;
	if (e || bind(fd, (const struct sockaddr *)addr, addrlen) < 0) {
		if (!e)
			e = errno;
		snprintf(err, errlen, "cannot listen on %s: %s%s", text,
			 strerror(e),
			 e == EADDRINUSE ? " (another server holds that port: "
					   "stop it or change listen in the "
					   "config)" :
			 e == EACCES ? " (ports below 1024 need root or "
				       "CAP_NET_BIND_SERVICE)" : "");
		close(fd);
		return -1;
	}
	if (listen(fd, (int)backlog) < 0) {
		snprintf(err, errlen, "listen on %s: %s", text, strerror(errno));
		close(fd);
		return -1;
	}
	l->addrlen = sizeof(l->addr);
	if (getsockname(fd, (struct sockaddr *)&l->addr, &l->addrlen) == 0) {
		addr_text(&l->addr, l->text, sizeof(l->text));
	} else {
		memcpy(&l->addr, addr, addrlen);
		l->addrlen = addrlen;
		snprintf(l->text, sizeof(l->text), "%s", text);
	}
	l->fd = fd;
	return 0;
}

struct listener *server_set(struct server *srv, unsigned k)
{
	if (k >= srv->nsets)
		k = 0;
	return k == 0 ? srv->lis : srv->extra + (size_t)(k - 1) * srv->nlis;
}

/* Opens sets 1 .. nsets-1 on the addresses set 0 is bound to. */
static int extra_sets_open(struct server *srv, bool nonblock, unsigned nsets,
			   char *err, size_t errlen)
{
	size_t n = (size_t)(nsets - 1) * srv->nlis;

	srv->extra = NULL;
	srv->nsets = 1;
	if (nsets <= 1)
		return 0;
	srv->extra = calloc(n, sizeof(*srv->extra));
	if (!srv->extra) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		srv->extra[i].fd = -1;
	srv->nsets = nsets;
	for (unsigned k = 1; k < nsets; k++) {
		struct listener *set = server_set(srv, k);
		for (unsigned i = 0; i < srv->nlis; i++)
			if (listen_one(&srv->lis[i].addr, srv->lis[i].addrlen,
				       srv->lis[i].text, srv->cfg->backlog,
				       nonblock, false, &set[i], err, errlen) < 0)
				return -1;
	}
	return 0;
}

static void extra_sets_close(struct server *srv)
{
	size_t n = srv->nsets > 1 ? (size_t)(srv->nsets - 1) * srv->nlis : 0;

	for (size_t i = 0; i < n; i++)
		if (srv->extra[i].fd >= 0)
			close(srv->extra[i].fd);
	free(srv->extra);
	srv->extra = NULL;
	srv->nsets = 1;
}

int listeners_open(struct server *srv, bool nonblock, unsigned nsets,
		   char *err, size_t errlen)
{
	const struct config *cfg = srv->cfg;

	srv->nlis = cfg->nlisten;
	srv->nsets = 1;
	for (unsigned i = 0; i < cfg->nlisten; i++) {
		const struct listen_addr *la = &cfg->listen[i];
		if (listen_one(&la->ss, la->len, la->text, cfg->backlog,
			       nonblock, true, &srv->lis[i], err, errlen) < 0) {
			listeners_close(srv);
			return -1;
		}
		snprintf(srv->lis[i].conf, sizeof(srv->lis[i].conf), "%s",
			 la->text);
	}
	if (extra_sets_open(srv, nonblock, nsets, err, errlen) < 0) {
		listeners_close(srv);
		return -1;
	}
	return 0;
}

int listeners_adopt(struct server *srv, int n, bool nonblock, char *err,
		    size_t errlen)
{
	if (n > CONFIG_MAX_LISTEN) {
		snprintf(err, errlen, "systemd passed %d sockets; evd takes at "
			 "most %d", n, CONFIG_MAX_LISTEN);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		int fd = 3 + i, type = 0, acc = 0;
		socklen_t len = sizeof(type);
		struct listener *l = &srv->lis[i];

		l->addrlen = sizeof(l->addr);
		if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
		    type != SOCK_STREAM ||
		    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc,
			       &(socklen_t){ sizeof(acc) }) < 0 || !acc ||
		    getsockname(fd, (struct sockaddr *)&l->addr,
				&l->addrlen) < 0 ||
		    (l->addr.ss_family != AF_INET &&
		     l->addr.ss_family != AF_INET6)) {
			snprintf(err, errlen, "socket %d passed by systemd is not "
				 "a listening TCP socket (check ListenStream= "
				 "in evd.socket)", fd);
			return -1;
		}
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		addr_text(&l->addr, l->text, sizeof(l->text));
		l->conf[0] = '\0';
		l->fd = fd;
	}
	srv->nlis = (unsigned)n;
	srv->nsets = 1;
	srv->activated = true;
	return 0;
}

/* Connections waiting in a listener's accept queue; 0 when it does not
 * listen (shut for an exit). */
static unsigned queued(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 ||
	    ti.tcpi_state != TCP_LISTEN)
		return 0;
	return ti.tcpi_unacked;	/* for a listener: its accept queue */
}

bool server_set_pending(const struct listener *set, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (queued(set[i].fd))
			return true;
	return false;
}

bool server_set_drains(struct server *srv, const struct listener *set)
{
	return set != srv->lis && srv->sb &&
	       atomic_load_explicit(&srv->sb->steered, memory_order_relaxed) &&
	       !atomic_load_explicit(&srv->exiting, memory_order_relaxed);
}

int listeners_steer(struct server *srv)
{
	/* "Return 0": the socket at index 0 of the group, the first to
	 * listen on the address, which is set 0's and is never closed while
	 * the others stay. */
	struct sock_filter code[] = { BPF_STMT(BPF_RET | BPF_K, 0) };
	struct sock_fprog prog = { .len = 1, .filter = code };
	int rc = 0;

	if (srv->nsets <= 1 || srv->activated)
		return 0;
	for (unsigned i = 0; i < srv->nlis; i++)
		if (setsockopt(srv->lis[i].fd, SOL_SOCKET,
			       SO_ATTACH_REUSEPORT_CBPF, &prog,
			       sizeof(prog)) < 0 && !rc)
			rc = -errno;
	if (rc == 0)
		atomic_store(&srv->sb->steered, true);
	return rc;
}

/* The group spreads connections again (the next run's sets, or set 0
 * alone).  Nothing to undo is fine. */
static void steer_off(struct server *srv)
{
	for (unsigned i = 0; i < srv->nlis; i++)
		if (srv->lis[i].fd >= 0)
			setsockopt(srv->lis[i].fd, SOL_SOCKET,
				   SO_DETACH_REUSEPORT_BPF, NULL, 0);
}

/* Whether the kernel moves connections queued on a closing SO_REUSEPORT
 * listener to another of its group (Linux 5.14+). */
static bool migrate_req(void)
{
	char v = '0';
	int fd = open("/proc/sys/net/ipv4/tcp_migrate_req", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, &v, 1) != 1)
			v = '0';
		close(fd);
	}
	return v != '0';
}

static void set_nonblock(int fd, bool nonblock)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, nonblock ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/* Closes the old extra sets.  The drain steered new connections to set 0
 * and their workers served what the sets held (server_set_drains()): only
 * a handshake that completed after that can still be queued here, and is
 * reset unless the kernel moves it (net.ipv4.tcp_migrate_req = 1). */
static void extra_sets_retire(struct server *srv)
{
	size_t n = srv->nsets > 1 ? (size_t)(srv->nsets - 1) * srv->nlis : 0;
	unsigned left = 0;

	for (size_t i = 0; i < n; i++)
		left += queued(srv->extra[i].fd);
	if (left)
		log_warnx("reload: %u connection%s reached a closing "
			  "SO_REUSEPORT socket as the drain ended: %s", left,
			  left == 1 ? "" : "s", migrate_req() ?
			  "the kernel moves them to the socket that stays "
			  "(net.ipv4.tcp_migrate_req = 1)" : "they are reset "
			  "(net.ipv4.tcp_migrate_req = 1 would move them)");
	extra_sets_close(srv);
}

int listeners_reconcile(struct server *srv, bool nonblock, unsigned nsets,
			char *err, size_t errlen)
{
	const struct config *cfg = srv->cfg;
	struct listener next[CONFIG_MAX_LISTEN];
	bool kept[CONFIG_MAX_LISTEN] = { false };
	unsigned n;

	if (srv->activated) {
		/* systemd owns the addresses: [server] listen does not apply. */
		n = srv->nlis;
		memcpy(next, srv->lis, sizeof(next));
	} else {
		n = cfg->nlisten;
		for (unsigned i = 0; i < n; i++) {
			const struct listen_addr *la = &cfg->listen[i];
			next[i].fd = -1;
			for (unsigned j = 0; j < srv->nlis; j++)
				if (!kept[j] && srv->lis[j].fd >= 0 &&
				    strcmp(srv->lis[j].conf, la->text) == 0) {
					next[i] = srv->lis[j];
					kept[j] = true;
					break;
				}
			if (next[i].fd >= 0)
				continue;
			if (listen_one(&la->ss, la->len, la->text, cfg->backlog,
				       nonblock, true, &next[i], err, errlen) < 0) {
				/* Undo: close what was opened, keep the old. */
				for (unsigned k = 0; k < i; k++) {
					bool old = false;
					for (unsigned j = 0; j < srv->nlis; j++)
						old |= srv->lis[j].fd == next[k].fd;
					if (!old)
						close(next[k].fd);
				}
				return -1;
			}
			snprintf(next[i].conf, sizeof(next[i].conf), "%s",
				 la->text);
		}
		for (unsigned j = 0; j < srv->nlis; j++)
			if (!kept[j] && srv->lis[j].fd >= 0) {
				log_info("reload: no longer listening on %s",
					 srv->lis[j].text);
				close(srv->lis[j].fd);
			}
	}
	bool same = n == srv->nlis;
	for (unsigned i = 0; same && i < n; i++)
		same = next[i].fd == srv->lis[i].fd;
	if (srv->activated)
		nsets = 1;
	if (same && nsets == srv->nsets) {
		/* The same sockets: the extra sets stay as they are. */
		for (unsigned k = 0; k < srv->nsets; k++) {
			struct listener *set = server_set(srv, k);
			for (unsigned i = 0; i < n; i++) {
				set_nonblock(set[i].fd, nonblock);
				if (!srv->activated)
					listen(set[i].fd, (int)cfg->backlog);
			}
		}
		steer_off(srv);
		return 0;
	}
	extra_sets_retire(srv);
	for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++)
		srv->lis[i] = i < n ? next[i] : (struct listener){ .fd = -1 };
	srv->nlis = n;
	for (unsigned i = 0; i < n; i++) {
		set_nonblock(srv->lis[i].fd, nonblock);
		/* A new backlog applies to a listening socket at once. */
		if (!srv->activated)
			listen(srv->lis[i].fd, (int)cfg->backlog);
	}
	int rc = extra_sets_open(srv, nonblock, nsets, err, errlen);
	steer_off(srv);
	return rc;
}

unsigned listeners_shut(struct server *srv)
{
	unsigned n = 0;

	if (srv->activated)
		return 0;	/* systemd's: it queues for the next start */
	for (unsigned k = 0; k < srv->nsets; k++) {
		struct listener *set = server_set(srv, k);
		for (unsigned i = 0; i < srv->nlis; i++)
			if (set[i].fd >= 0 && shutdown(set[i].fd, SHUT_RD) == 0)
				n++;
	}
	return n;
}

void listeners_keep_only(struct server *srv, int keep)
{
	if (keep >= (int)srv->nsets)
		keep = 0;	/* one set shared by every worker */
	for (unsigned k = 0; k < srv->nsets; k++) {
		if ((int)k == keep)
			continue;
		struct listener *set = server_set(srv, k);
		for (unsigned i = 0; i < srv->nlis; i++) {
			if (set[i].fd >= 0)
				close(set[i].fd);
			set[i].fd = -1;
		}
	}
}

void listeners_close(struct server *srv)
{
	for (unsigned i = 0; i < CONFIG_MAX_LISTEN; i++) {
		if (srv->lis[i].fd >= 0)
			close(srv->lis[i].fd);
		srv->lis[i].fd = -1;
	}
	extra_sets_close(srv);
	srv->nsets = 0;
}

void listeners_text(const struct server *srv, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < srv->nlis && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i ? "," : "", srv->lis[i].text);
}

/*
 * Descriptor exhaustion.  accept() takes a descriptor before it looks at
 * the queue, so with the table full it fails at once, connection pending
 * or not, and the pending one stays: a level-triggered loop would wake for
 * it without end.  shed_one() gives up the reserve descriptor to accept
 * that connection and close it (refused), then takes the reserve back.
 * Every other accept in the process runs under the read side of
 * accept_rw, so that a worker thread of the same process cannot take the
 * descriptor the reserve just freed (reuseport, prethread) and leave the
 * process without a reserve.
 */
static pthread_rwlock_t accept_rw =
	PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

/* Returns true if a pending connection was shed; false if none was
 * pending or the reserve is gone (another part of evd took the descriptor:
 * it comes back when one closes). */
static bool shed_one(int lfd, struct stats_slot *slot)
{
	bool shed = false;

	pthread_rwlock_wrlock(&accept_rw);
	pthread_mutex_lock(&reserve_lock);
	if (reserve_fd < 0)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (reserve_fd >= 0) {
		close(reserve_fd);
		/* Non-blocking: only what is pending (a blocking listener
		 * is known to have one: see server_accept()). */
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd >= 0) {
			server_refuse(fd, slot);
			shed = true;
		}
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	pthread_mutex_unlock(&reserve_lock);
	pthread_rwlock_unlock(&accept_rw);
	return shed;
}

/* A blocking listener: waits (a kick interrupts it) until a connection is
 * pending.  Returns 0, or -errno. */
static int wait_pending(int lfd)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, -1) < 0 ? -errno : 0;
}

/* Set by server_listeners_inherit(): what accepted sockets inherit from
 * their listener (Linux copies the socket), so that it costs no call per
 * connection.  UINT64_MAX: nothing. */
static _Atomic uint64_t inherited_ms = UINT64_MAX;

static int accept_fd(int lfd, bool nonblock)
{
	int one = 1;

	pthread_rwlock_rdlock(&accept_rw);
	int fd = accept4(lfd, NULL, NULL,
			 SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
	int e = errno;
	pthread_rwlock_unlock(&accept_rw);
	if (fd < 0)
		return -e;
	if (atomic_load_explicit(&inherited_ms, memory_order_relaxed) ==
	    UINT64_MAX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* SO_RCVTIMEO and SO_SNDTIMEO of fd to ms (0: none). */
static int sock_timeouts(int fd, uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_usec = (suseconds_t)(ms % 1000) * 1000,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

void server_listeners_inherit(struct server *srv, bool on)
{
	uint64_t ms = on ? srv->cfg->idle_timeout_ms : 0;
	int one = 1;
	bool ok = true;

	atomic_store(&inherited_ms, UINT64_MAX);
	for (unsigned i = 0; i < srv->nlis; i++) {
		int fd = srv->lis[i].fd;
		if (fd < 0)
			continue;
		if (on && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				     sizeof(one)) < 0)
			ok = false;
		if (sock_timeouts(fd, ms) < 0)
			ok = false;
	}
	if (on && ok)
		atomic_store(&inherited_ms, ms);
}

uint64_t server_inherited_timeout_ms(void)
{
	return atomic_load_explicit(&inherited_ms, memory_order_relaxed);
}

int server_accept(struct server *srv, int lfd, struct stats_slot *slot,
		  bool nonblock)
{
	int fd = accept_fd(lfd, nonblock);

	if (fd >= 0)
		return fd;
	switch (-fd) {
	case EAGAIN:
	case EINTR:
		return fd;
	case ECONNABORTED:
	case EPROTO:
		/* The peer gave up before we accepted: not our failure. */
		return -EAGAIN;
	case EINVAL:
		/* Not listening: listeners_shut() stopped it for an exit.
		 * Not a failure.  This process knows already (the flags are
		 * set first); a worker process hears of it by a signal from
		 * the master in a moment: wait for it rather than spin. */
		if (!server_winding_down(srv))
			poll(NULL, 0, SHUT_WAIT_MS);
		return -EINTR;
	case EMFILE:
	case ENFILE:
		if (!nonblock) {
			/* Not spinning on a full table: wait for a
			 * connection, then serve it if a descriptor was
			 * freed meanwhile, or shed it. */
			int r = wait_pending(lfd);
			if (r < 0)
				return r;
			fd = accept_fd(lfd, false);
			if (fd >= 0 || (fd != -EMFILE && fd != -ENFILE))
				return fd == -ECONNABORTED ? -EAGAIN : fd;
		}
		slot_add(slot, STAT_err_accept, 1);
		/* Shed: the loop waits for readiness again (-EAGAIN).
		 * Nothing to shed: -EMFILE, the caller pauses. */
		return shed_one(lfd, slot) ? -EAGAIN : fd;
	default:
		slot_add(slot, STAT_err_accept, 1);
		return fd;
	}
}

int server_accept_conn(struct server *srv, int lfd, struct stats_slot *slot,
		       bool nonblock, unsigned active, int max_fd,
		       struct conn **out)
{
	int fd = server_accept(srv, lfd, slot, nonblock);

	if (fd < 0)
		return fd;
	if (active >= srv->cfg->max_connections || fd >= max_fd) {
		server_refuse(fd, slot);
		return 0;
	}
	*out = conn_new(fd, srv, slot, !nonblock);
	return *out ? 1 : 0;
}

void server_refuse(int fd, struct stats_slot *slot)
{
	close(fd);
	slot_add(slot, STAT_refused, 1);
}

int server_slots_init(struct server *srv, unsigned first, unsigned n)
{
	free(srv->free_slots);	/* the previous run's, after a reload */
	srv->free_slots = malloc((n ? n : 1) * sizeof(*srv->free_slots));
	if (!srv->free_slots)
		return -ENOMEM;
	/* A stack: the lowest slot is handed out first. */
	for (unsigned i = 0; i < n; i++)
		srv->free_slots[i] = first + n - 1 - i;
	srv->nfree = n;
	return 0;
}

int server_slot_get(struct server *srv)
{
	int i = -1;

	pthread_mutex_lock(&srv->slot_lock);
	if (srv->nfree)
		i = (int)srv->free_slots[--srv->nfree];
	pthread_mutex_unlock(&srv->slot_lock);
	return i;
}

void server_slot_put(struct server *srv, unsigned i)
{
	slot_set_state(&srv->sb->slots[i], WORKER_FREE);
	pthread_mutex_lock(&srv->slot_lock);
	srv->free_slots[srv->nfree++] = i;
	pthread_mutex_unlock(&srv->slot_lock);
}

int server_wait_listener(const struct listener *set, unsigned n)
{
	struct pollfd pfd[CONFIG_MAX_LISTEN];

	if (n == 1)
		return set[0].fd;
	for (unsigned i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = set[i].fd, .events = POLLIN };
	if (poll(pfd, n, -1) < 0)
		return -errno;
	for (unsigned i = 0; i < n; i++)
		if (pfd[i].revents)
			return pfd[i].fd;
	return -EAGAIN;
}

/* The k-th (mod n) of the n CPUs the calling thread may run on: all online
 * ones unless a cpuset or taskset narrowed them.  -1 if unknown. */
static int cpu_for(unsigned k)
{
	cpu_set_t allowed;

	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -1;
	int n = CPU_COUNT(&allowed);
	if (n <= 0)
		return -1;
	int want = (int)(k % (unsigned)n);
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
		if (CPU_ISSET(cpu, &allowed) && want-- == 0)
			return cpu;
	return -1;
}

int server_pin_worker(unsigned k)
{
	int cpu = cpu_for(k);
	cpu_set_t set;

	if (cpu < 0) {
		log_warnx("worker %u: cannot read the CPUs evd may use; it runs "
			  "unpinned", k);
		return -EINVAL;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int e = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (e) {
		log_warnx("worker %u: cannot pin to CPU %d: %s; it runs unpinned "
			  "(set server.pin_workers = no to silence this)", k, cpu,
			  strerror(e));
		return -e;
	}
	log_debug("worker %u (tid %d) pinned to CPU %d", k, (int)gettid(), cpu);
	return cpu;
}

int server_sigchld_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

void server_sigchld_drain(int fd)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
		;
}

int server_kick_register(struct server *srv)
{
	int rc = 0;

	pthread_mutex_lock(&srv->kick_lock);
	if (srv->nkick == srv->kick_cap) {
		unsigned cap = srv->kick_cap ? srv->kick_cap * 2 : 8;
		pthread_t *k = realloc(srv->kick, cap * sizeof(*k));
		if (!k) {
			rc = -ENOMEM;
			goto out;
		}
		srv->kick = k;
		srv->kick_cap = cap;
	}
	srv->kick[srv->nkick++] = pthread_self();
out:
	pthread_mutex_unlock(&srv->kick_lock);
	return rc;
}

void server_kick_unregister(struct server *srv)
{
	pthread_t self = pthread_self();

	pthread_mutex_lock(&srv->kick_lock);
	for (unsigned i = 0; i < srv->nkick; i++)
		if (pthread_equal(srv->kick[i], self)) {
			srv->kick[i] = srv->kick[--srv->nkick];
			break;
		}
	pthread_mutex_unlock(&srv->kick_lock);
}

void server_kick(struct server *srv)
{
	pthread_mutex_lock(&srv->kick_lock);
	for (unsigned i = 0; i < srv->nkick; i++)
		pthread_kill(srv->kick[i], SIGKICK);
	pthread_mutex_unlock(&srv->kick_lock);
}

static void on_kick(int sig)
{
	(void)sig;
}

void server_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART */
	sigaction(SIGKICK, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

void server_worker_sigmask(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGKICK);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}
