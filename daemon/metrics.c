/* [metrics] listen: /metrics over HTTP from the control thread
 * (metrics.h).  Each client goes READ (the request head) -> WRITE (the
 * whole reply) -> LINGER (its write side shut, what it still sends read
 * and dropped, so that closing with unread bytes does not reset the
 * connection before the reply is read) -> closed. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics_http.h"
#include "util.h"

#define HEAD_ROOM 512		/* before the body: the reply's head */
#define ACCEPT_PAUSE_NS 100000000ull
#define ACCEPT_BATCH 64
#define MS 1000000ull

enum mstate { M_FREE, M_READ, M_WRITE, M_LINGER };

struct mclient {
	int fd;
	enum mstate state;
	uint64_t seq, deadline;	/* seq: the order of accepts */
	size_t inlen;
	char in[MH_HEAD_MAX];
	char *out;		/* the reply, sent from off to len */
	size_t off, len;
};

struct metrics {
	int lfd;
	char addr[64];
	metrics_body_fn *body;
	void *arg;
	uint64_t accept_pause, next_emfile_log;
	uint64_t accepts;
	int pmap[METRICS_POLLFDS];	/* poll entry -> client */
	struct mclient cl[METRICS_CLIENTS_MAX];
};

/* The metrics text, growing up to METRICS_BODY_MAX after HEAD_ROOM. */
struct mbuf {
	char *d;
	size_t len, cap;
	bool fail;
};

static void mbuf_write(void *arg, const char *s, size_t n)
{
	struct mbuf *b = arg;

	if (b->fail)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap;
		while (cap < b->len + n)
			cap *= 2;
		char *d = cap <= HEAD_ROOM + METRICS_BODY_MAX ?
				  realloc(b->d, cap) : NULL;
		if (!d) {
			b->fail = true;
			return;
		}
		b->d = d;
		b->cap = cap;
	}
	memcpy(b->d + b->len, s, n);
	b->len += n;
}

static int ms_until(uint64_t when, uint64_t now)
{
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + MS - 1) / MS;
	return ms > 60000 ? 60000 : (int)ms;
}

static void client_close(struct mclient *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->state = M_FREE;
}

/* Makes the reply to a request answered with status: the metrics text
 * (500 when it cannot be made) or the error's line; no body for HEAD. */
static void client_answer(struct metrics *m, struct mclient *c, int status,
			  bool head)
{
	struct mbuf b = { .d = malloc(65536), .cap = 65536, .len = HEAD_ROOM };
	size_t body;

	if (!b.d) {
		client_close(c);
		return;
	}
	if (status == 200) {
		const struct prom_out o = { mbuf_write, &b };
		m->body(m->arg, &o);
		if (b.fail)
			status = 500;
	}
	if (status != 200) {
		const char *e = mh_error_body(status);
		b.fail = false;
		b.len = HEAD_ROOM;
		mbuf_write(&b, e, strlen(e));
	}
	if (b.fail) {		/* not even the error line fits in memory */
		free(b.d);
		client_close(c);
		return;
	}
	body = b.len - HEAD_ROOM;
	char h[HEAD_ROOM];
	size_t hl = mh_head(h, sizeof(h), status, body);
	memcpy(b.d + HEAD_ROOM - hl, h, hl);
	c->out = b.d;
	c->off = HEAD_ROOM - hl;
	c->len = head ? HEAD_ROOM : b.len;
	c->state = M_WRITE;
}

static void client_read(struct metrics *m, struct mclient *c)
{
	char drop[4096];

	for (;;) {
		char *p = c->state == M_READ ? c->in + c->inlen : drop;
		size_t room = c->state == M_READ ? sizeof(c->in) - c->inlen
						 : sizeof(drop);
		if (room == 0)
			return;
		ssize_t n = read(c->fd, p, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {	/* gone, or done sending after our reply */
			client_close(c);
			return;
		}
		if (c->state != M_READ)
			continue;
		c->inlen += (size_t)n;
		bool head;
		int status = mh_parse(c->in, c->inlen, &head);
		if (status) {
			client_answer(m, c, status, head);
			return;
		}
	}
}

static void client_write(struct mclient *c, uint64_t now)
{
	while (c->off < c->len) {
		ssize_t n = send(c->fd, c->out + c->off, c->len - c->off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			client_close(c);
			return;
		}
		c->off += (size_t)n;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = M_LINGER;
	if (c->deadline > now + METRICS_LINGER_MS * MS)
		c->deadline = now + METRICS_LINGER_MS * MS;
}

/* A slot for a new client: a free one; else one made free by closing a
 * client whose reply is sent (lingering), else the one that has waited
 * longest without a whole request (idle connections cannot lock scrapers
 * out); NULL when every client is being answered. */
static struct mclient *free_slot(struct metrics *m)
{
	struct mclient *linger = NULL, *oldest = NULL;

	for (int i = 0; i < METRICS_CLIENTS_MAX; i++) {
		struct mclient *c = &m->cl[i];
		if (c->state == M_FREE)
			return c;
		if (c->state == M_LINGER)
			linger = c;
		else if (c->state == M_READ &&
			 (!oldest || c->seq < oldest->seq))
			oldest = c;
	}
	struct mclient *c = linger ? linger : oldest;
	if (c)
		client_close(c);
	return c;
}

/* Accepts what waits, at most ACCEPT_BATCH per round: a flood of
 * connections cannot keep the thread from evctl's clients. */
static void client_accept(struct metrics *m, uint64_t now)
{
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		int fd = accept4(m->lfd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EMFILE || e == ENFILE) {
				m->accept_pause = now + ACCEPT_PAUSE_NS;
				if (now >= m->next_emfile_log) {
					log_warnx("metrics: accept: %s; "
						  "scrapers wait until "
						  "descriptors free up",
						  strerror(e));
					m->next_emfile_log = now + 10000 * MS;
				}
			} else if (e != EAGAIN && e != EINTR &&
				   e != ECONNABORTED) {
				log_warn("metrics: accept");
			}
			return;
		}
		struct mclient *c = free_slot(m);
		if (!c) {	/* every client is being answered */
			close(fd);
			continue;
		}
		*c = (struct mclient){ .fd = fd, .state = M_READ,
				       .seq = ++m->accepts,
				       .deadline = now + METRICS_TIMEOUT_MS * MS };
	}
}

unsigned metrics_poll(struct metrics *m, struct pollfd *pfd, uint64_t now,
		      int *timeout_ms)
{
	unsigned n = 0;

	if (!m)
		return 0;
	bool paused = now < m->accept_pause;
	if (paused && ms_until(m->accept_pause, now) < *timeout_ms)
		*timeout_ms = ms_until(m->accept_pause, now);
	m->pmap[n] = -1;
	pfd[n++] = (struct pollfd){ .fd = paused ? -1 : m->lfd,
				    .events = POLLIN };
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++) {
		const struct mclient *c = &m->cl[i];
		if (c->state == M_FREE)
			continue;
		if (ms_until(c->deadline, now) < *timeout_ms)
			*timeout_ms = ms_until(c->deadline, now);
		m->pmap[n] = i;
		pfd[n++] = (struct pollfd){
			.fd = c->fd,
			.events = c->state == M_WRITE ? POLLOUT : POLLIN,
		};
	}
	return n;
}

void metrics_events(struct metrics *m, const struct pollfd *pfd, unsigned n,
		    uint64_t now)
{
	if (!m)
		return;
	if (n > 0 && pfd[0].revents)
		client_accept(m, now);
	for (unsigned k = 1; k < n; k++) {
		struct mclient *c = &m->cl[m->pmap[k]];
		if (c->state != M_WRITE &&
		    (pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
			client_read(m, c);
		if (c->state == M_WRITE)
			client_write(c, now);
	}
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		if (m->cl[i].state != M_FREE && m->cl[i].deadline <= now)
			client_close(&m->cl[i]);
}

/* "ADDR:PORT" or "[ADDR]:PORT" of a bound socket. */
static void bound_text(int fd, char *buf, size_t len, const char *dflt)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char a[INET6_ADDRSTRLEN];

	snprintf(buf, len, "%s", dflt);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *s = (const void *)&ss;
		if (inet_ntop(AF_INET, &s->sin_addr, a, sizeof(a)))
			snprintf(buf, len, "%s:%u", a, ntohs(s->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s = (const void *)&ss;
		if (inet_ntop(AF_INET6, &s->sin6_addr, a, sizeof(a)))
			snprintf(buf, len, "[%s]:%u", a, ntohs(s->sin6_port));
	}
}

static int listen_on(const struct listen_addr *la, char *err, size_t errlen)
{
	int one = 1, e;
	int fd = socket(la->ss.ss_family,
			SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		e = errno;
		goto fail;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (la->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&la->ss, la->len) == 0 &&
	    listen(fd, 64) == 0)
		return fd;
	e = errno;
	close(fd);
fail:
	snprintf(err, errlen, "[metrics] listen = %s: cannot listen: %s%s",
		 la->text, strerror(e),
		 e == EADDRINUSE ? " (another server holds that port: stop it "
				   "or change [metrics] listen)" :
		 e == EACCES ? " (ports below 1024 need root or "
			       "CAP_NET_BIND_SERVICE)" :
		 e == EADDRNOTAVAIL ? " (no interface has that address)" : "");
	return -1;
}

struct metrics *metrics_open(const struct listen_addr *la,
			     metrics_body_fn *body, void *arg, char *err,
			     size_t errlen)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (!m) {
		snprintf(err, errlen, "[metrics] listen: out of memory");
		return NULL;
	}
	m->lfd = listen_on(la, err, errlen);
	if (m->lfd < 0) {
		free(m);
		return NULL;
	}
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		m->cl[i].fd = -1;
	m->body = body;
	m->arg = arg;
	bound_text(m->lfd, m->addr, sizeof(m->addr), la->text);
	return m;
}

const char *metrics_address(const struct metrics *m)
{
	return m->addr;
}

void metrics_forget(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		if (m->cl[i].state != M_FREE)
			close(m->cl[i].fd);
	close(m->lfd);
}

void metrics_close(struct metrics *m)
{
	if (!m)
		return;
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++)
		if (m->cl[i].state != M_FREE)
			client_close(&m->cl[i]);
	close(m->lfd);
	free(m);
}
