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
#include "evloop.h"
#include "log.h"
#include "metrics_http.h"
#include "util.h"

#define HEAD_ROOM 512		/* before the body: the reply's head */
#define ACCEPT_PAUSE_NS 100000000ull
#define ACCEPT_BATCH 64
#define MS 1000000ull

enum mstate { M_FREE, M_READ, M_WRITE, M_LINGER };

struct metrics;

struct mclient {
	int fd;
	enum mstate state;
	uint64_t seq;		/* the order of accepts */
	struct timer deadline;	/* closed when it fires */
	struct metrics *m;
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
	uint64_t next_emfile_log;
	uint64_t accepts;
	struct evloop *loop;		/* the control thread's */
	struct timer accept_pause;	/* accepting again (after EMFILE) */
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

static void client_close(struct mclient *c)
{
	if (c->m->loop) {
		evloop_set(c->m->loop, c->fd, 0, NULL, NULL);
		evloop_timer_del(c->m->loop, &c->deadline);
	}
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
	if (c->deadline.when > now + METRICS_LINGER_MS * MS)
		evloop_timer_add(c->m->loop, &c->deadline,
				 now + METRICS_LINGER_MS * MS);
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

static void on_client(struct evloop *loop, int fd, unsigned events,
		      void *arg);

/* The client's deadline is over: closed, whatever it was doing. */
static void on_deadline(struct timer *t, void *arg)
{
	(void)t;
	client_close(arg);
}

/* Watches c for what its state waits for: the reply's room (WRITE), else
 * the request or what follows the reply (READ). */
static void client_watch(struct mclient *c)
{
	if (c->state == M_FREE)
		return;
	unsigned mask = c->state == M_WRITE ? EV_WRITE : EV_READ;
	if (evloop_set(c->m->loop, c->fd, mask, on_client, c) < 0)
		client_close(c);
}

static void on_client(struct evloop *loop, int fd, unsigned events,
		      void *arg)
{
	struct mclient *c = arg;

	(void)loop;
	(void)fd;
	if (c->state != M_WRITE && (events & EV_READ))
		client_read(c->m, c);
	if (c->state == M_WRITE)
		client_write(c, now_ns());
	client_watch(c);
}

static void on_accept(struct evloop *loop, int fd, unsigned events,
		      void *arg);

/* Out of descriptors a while ago: the socket is watched again. */
static void on_accept_pause(struct timer *t, void *arg)
{
	struct metrics *m = arg;

	(void)t;
	if (evloop_set(m->loop, m->lfd, EV_READ, on_accept, m) < 0)
		log_warn("metrics: cannot watch the socket again");
}

/* Out of descriptors: the socket is not watched for ACCEPT_PAUSE_NS (a
 * pending client would wake the loop at once, again and again). */
static void accept_pause(struct metrics *m, int e, uint64_t now)
{
	evloop_set(m->loop, m->lfd, 0, NULL, NULL);
	evloop_timer_add(m->loop, &m->accept_pause, now + ACCEPT_PAUSE_NS);
	if (now >= m->next_emfile_log) {
		log_warnx("metrics: accept: %s; scrapers wait until "
			  "descriptors free up", strerror(e));
		m->next_emfile_log = now + 10000 * MS;
	}
}

/* Accepts what waits, at most ACCEPT_BATCH per round: a flood of
 * connections cannot keep the thread from evctl's clients. */
static void on_accept(struct evloop *loop, int lfd, unsigned events,
		      void *arg)
{
	struct metrics *m = arg;
	uint64_t now = now_ns();

	(void)loop;
	(void)events;
	for (int k = 0; k < ACCEPT_BATCH; k++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EMFILE || e == ENFILE)
				accept_pause(m, e, now);
			else if (e != EAGAIN && e != EINTR &&
				 e != ECONNABORTED)
				log_warn("metrics: accept");
			return;
		}
		struct mclient *c = free_slot(m);
		if (!c) {	/* every client is being answered */
			close(fd);
			continue;
		}
		*c = (struct mclient){ .fd = fd, .state = M_READ,
				       .seq = ++m->accepts, .m = m };
		timer_init(&c->deadline, on_deadline, c);
		if (evloop_timer_add(m->loop, &c->deadline,
				     now + METRICS_TIMEOUT_MS * MS) < 0) {
			close(fd);
			c->state = M_FREE;
			c->fd = -1;
			continue;
		}
		client_watch(c);
	}
}

int metrics_attach(struct metrics *m, struct evloop *loop)
{
	if (!m)
		return 0;
	m->loop = loop;
	timer_init(&m->accept_pause, on_accept_pause, m);
	return evloop_set(loop, m->lfd, EV_READ, on_accept, m);
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
	for (int i = 0; i < METRICS_CLIENTS_MAX; i++) {
		m->cl[i].fd = -1;
		m->cl[i].m = m;
		timer_init(&m->cl[i].deadline, on_deadline, &m->cl[i]);
	}
	timer_init(&m->accept_pause, on_accept_pause, m);
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
	if (m->loop) {
		evloop_forget(m->loop, m->lfd);
		evloop_timer_del(m->loop, &m->accept_pause);
	}
	close(m->lfd);
	free(m);
}
