/* idlers: N keep-alive HTTP connections that each get one request answered
 * and then stay open and silent: the C10K memory scenario (bench/c10k and
 * tests/integration/c10k.bats).
 *
 *   idlers -p PORT -c 10000 --ready FILE -T 120
 *
 * Connects at most --window connections at a time (so that a listen
 * backlog never overflows), sends each one GET request, reads its reply
 * (a head ending in a blank line, then Content-Length bytes), and once
 * every connection has its reply creates --ready FILE.  Then it holds them
 * until SIGTERM or -T, watching for closes.  On exit one JSON line:
 * connections, answered, failed (connect or reply errors), closed (by the
 * server while held), reply_bytes.  Exit 0 when every connection was
 * answered and none closed; 1 otherwise; 2 usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROG "idlers"
#define CONNS_MAX 100000
#define HEAD_MAX 4096

enum state { ST_NONE, ST_CONNECTING, ST_READING, ST_IDLE, ST_DONE };

struct iconn {
	int fd;
	enum state st;
	unsigned head_len;	/* bytes of the head seen so far */
	long body_left;		/* -1 until the head is complete */
	char head[HEAD_MAX];
};

struct opts {
	struct sockaddr_in addr;
	long conns;
	long window;
	double limit_s;
	const char *ready;
	char req[512];
	size_t req_len;
};

struct totals {
	long connections, answered, failed, closed;
	uint64_t reply_bytes;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	puts("usage: idlers -p PORT [options]\n"
	     "  -H ADDR       IPv4 address (default 127.0.0.1)\n"
	     "  -c N          connections (default 100, at most 100000)\n"
	     "  -w N          connections being set up at a time (default 256)\n"
	     "  --path PATH   the request's path (default /)\n"
	     "  --ready FILE  created once every connection has its reply\n"
	     "  -T SECS       run at most this long (default 60)\n"
	     "Output: one JSON line (connections, answered, failed, closed,\n"
	     "reply_bytes).  Exit 0: all answered, none closed; 1 otherwise.");
}

static long num(const char *name, const char *v, long lo, long hi)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < lo || n > hi) {
		fprintf(stderr, PROG ": %s: expected a number in %ld..%ld\n",
			name, lo, hi);
		exit(2);
	}
	return n;
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "path", required_argument, NULL, 'P' },
		{ "ready", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1", *path = "/";
	long port = -1;
	int ch;

	memset(o, 0, sizeof(*o));
	o->conns = 100;
	o->window = 256;
	o->limit_s = 60;
	while ((ch = getopt_long(argc, argv, "H:p:c:w:T:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = num("-p", optarg, 1, 65535); break;
		case 'c': o->conns = num("-c", optarg, 1, CONNS_MAX); break;
		case 'w': o->window = num("-w", optarg, 1, CONNS_MAX); break;
		case 'T': o->limit_s = (double)num("-T", optarg, 1, 3600); break;
		case 'P': path = optarg; break;
		case 'r': o->ready = optarg; break;
		case 'h': usage(); exit(0);
		default: exit(2);
		}
	}
	if (port < 0 || optind != argc) {
		fprintf(stderr, PROG ": -p PORT is required, and nothing else "
				"(see " PROG " --help)\n");
		exit(2);
	}
	int n = snprintf(o->req, sizeof(o->req),
			 "GET %s HTTP/1.1\r\nHost: idlers\r\n\r\n", path);
	if (n < 0 || (size_t)n >= sizeof(o->req)) {
		fprintf(stderr, PROG ": --path: too long\n");
		exit(2);
	}
	o->req_len = (size_t)n;
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &o->addr.sin_addr) != 1) {
		fprintf(stderr, PROG ": -H: \"%s\" is not an IPv4 address\n", host);
		exit(2);
	}
}

/* Starts connecting c; false if that failed at once. */
static bool start(const struct opts *o, int ep, struct iconn *c)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		fprintf(stderr, PROG ": socket: %s (raise ulimit -n?)\n",
			strerror(errno));
		return false;
	}
	if (connect(fd, (struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 &&
	    errno != EINPROGRESS) {
		close(fd);
		return false;
	}
	struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		close(fd);
		return false;
	}
	c->fd = fd;
	c->st = ST_CONNECTING;
	c->body_left = -1;
	return true;
}

/* The length in a Content-Length header of the complete head h, or -1. */
static long content_length(const char *h, unsigned len)
{
	static const char key[] = "\r\ncontent-length:";

	for (unsigned i = 0; i + sizeof(key) - 1 < len; i++) {
		if (strncasecmp(h + i, key, sizeof(key) - 1))
			continue;
		return strtol(h + i + sizeof(key) - 1, NULL, 10);
	}
	return -1;
}

/* Takes n reply bytes: the head (up to its blank line) and then its
 * Content-Length bytes of body.  Returns 1 when the reply is complete and
 * nothing follows it, 0 for more, -1 on a malformed or overlong reply. */
static int take(struct iconn *c, const char *p, size_t n)
{
	size_t i = 0;

	while (c->body_left < 0 && i < n) {
		if (c->head_len == HEAD_MAX)
			return -1;
		c->head[c->head_len++] = p[i++];
		if (c->head_len >= 4 &&
		    !memcmp(c->head + c->head_len - 4, "\r\n\r\n", 4)) {
			c->body_left = content_length(c->head, c->head_len);
			if (c->body_left < 0)
				return -1;
		}
	}
	if (c->body_left < 0)
		return 0;
	if ((long)(n - i) > c->body_left)
		return -1;	/* more than one reply */
	c->body_left -= (long)(n - i);
	return c->body_left == 0 ? 1 : 0;
}

/* Reads what arrived on c; returns 1 when its reply is complete, 0 for
 * more, -1 on an error or end of stream. */
static int on_reply(struct iconn *c, struct totals *t)
{
	char buf[4096];

	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		t->reply_bytes += (uint64_t)n;
		int r = take(c, buf, (size_t)n);
		if (r)
			return r;
	}
}

/* Handles an event on c: connected, reply bytes, or (held) a close. */
static void on_event(const struct opts *o, int ep, struct iconn *c,
		     uint32_t ev, struct totals *t, long *busy)
{
	if (c->st == ST_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct epoll_event e = { .events = EPOLLIN, .data.ptr = c };
		if (err || send(c->fd, o->req, o->req_len, MSG_NOSIGNAL) !=
				   (ssize_t)o->req_len ||
		    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
			goto failed;
		t->connections++;
		c->st = ST_READING;
		return;
	}
	if (c->st == ST_READING) {
		int r = on_reply(c, t);
		if (r < 0)
			goto failed;
		if (r > 0) {
			c->st = ST_IDLE;
			t->answered++;
			(*busy)--;
		}
		return;
	}
	if (c->st == ST_IDLE && (ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) {
		t->closed++;
		c->st = ST_DONE;
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	}
	return;
failed:
	t->failed++;
	(*busy)--;
	c->st = ST_DONE;
	close(c->fd);
	c->fd = -1;
}

static void make_ready(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd >= 0)
		close(fd);
}

static int run(const struct opts *o)
{
	struct iconn *cs = calloc((size_t)o->conns, sizeof(*cs));
	struct epoll_event ev[256];
	struct totals t = { 0 };
	uint64_t end = now_ns() + (uint64_t)(o->limit_s * 1e9);
	long next = 0, busy = 0;
	bool ready = false;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (!cs || ep < 0) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	while (!stop && now_ns() < end) {
		while (next < o->conns && busy < o->window) {
			if (start(o, ep, &cs[next]))
				busy++;
			else
				t.failed++;
			next++;
		}
		if (!ready && next == o->conns && busy == 0) {
			ready = true;
			if (o->ready)
				make_ready(o->ready);
		}
		int n = epoll_wait(ep, ev, 256, 100);
		for (int i = 0; i < n; i++)
			on_event(o, ep, ev[i].data.ptr, ev[i].events, &t, &busy);
	}
	printf("{\"connections\":%ld,\"answered\":%ld,\"failed\":%ld,"
	       "\"closed\":%ld,\"reply_bytes\":%" PRIu64 "}\n",
	       t.connections, t.answered, t.failed, t.closed, t.reply_bytes);
	fflush(stdout);
	for (long i = 0; i < o->conns; i++)
		if (cs[i].fd > 0)
			close(cs[i].fd);
	free(cs);
	close(ep);
	return t.answered == o->conns && !t.closed ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct sigaction sa;
	struct rlimit rl;

	parse(argc, argv, &o);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	return run(&o);
}
