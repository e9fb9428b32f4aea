/* hostile: misbehaving clients for evd's tests (tests/integration/hostile.bats).
 *
 *   hold      N connections each send a prefix (a request's first half, or
 *             nothing) and then, with --trickle, one more byte every MS
 *             milliseconds (never a whole request): slowloris.  Runs until
 *             the server closed every connection, or -T, or SIGTERM.
 *   noread    N connections send the prefix over and over (pipelined
 *             requests) as fast as the server takes them and never read a
 *             reply: evd must stop reading rather than buffer without bound.
 *             Runs until -T or SIGTERM.
 *   bytewise  one connection sends the prefix one byte per write (TCP_NODELAY,
 *             --gap ms apart), then copies what comes back to stdout until
 *             the server closes or --expect bytes arrived.
 *
 * --ready FILE is created once every connection is open and has sent its
 * prefix (noread: once every connection is stalled, the kernel taking no
 * more for --stall ms), so a test waits on a condition, not a sleep.  hold
 * and noread print one JSON line of totals on exit.  Everything is bounded:
 * -c, -T, and bytes per connection (noread -b). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../common/num.h"

#define PROG "hostile"
#define CONNS_MAX 100000
#define PREFIX_MAX 65536

enum mode { MODE_HOLD, MODE_NOREAD, MODE_BYTEWISE };

struct opts {
	enum mode mode;
	struct sockaddr_in addr;
	long conns;
	char prefix[PREFIX_MAX];
	size_t prefix_len;
	char more[PREFIX_MAX];	/* --trickle bytes, cycled */
	size_t more_len;
	long trickle_ms;	/* 0: off */
	long gap_ms;		/* bytewise */
	long stall_ms;		/* noread */
	uint64_t max_bytes;	/* noread, per connection */
	uint64_t expect;	/* bytewise: bytes to read, 0 = until EOF */
	double limit_s;
	const char *ready;
	const char *go;		/* hold: send nothing until this file exists */
	char *chunk;		/* noread: the prefix repeated, whole copies */
	size_t chunk_len;
};

struct hconn {
	int fd;
	bool open;		/* connected, not yet closed by the server */
	bool connected;
	size_t off;		/* prefix bytes sent */
	size_t more_off;
	uint64_t sent;
	uint64_t t_first;	/* first byte sent (or connected), ns */
	uint64_t t_next;	/* next trickle byte due */
	uint64_t t_progress;	/* noread: last send that took bytes */
};

struct totals {
	long connections, connect_errors, closed, resets;
	uint64_t bytes_sent, bytes_received;
	uint64_t close_ms_min, close_ms_max;
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

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see " PROG " --help)\n");
	exit(2);
}

/* Copies s into out with \r \n \t \\ \xHH decoded; returns the length. */
static size_t unescape(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	for (; *s; s++) {
		char ch = *s;
		if (ch == '\\' && s[1]) {
			s++;
			switch (*s) {
			case 'r': ch = '\r'; break;
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'x':
				if (s[1] && s[2]) {
					char hex[3] = { s[1], s[2], 0 };
					ch = (char)strtol(hex, NULL, 16);
					s += 2;
				}
				break;
			default: ch = *s; break;
			}
		}
		if (n == cap)
			die("a string is longer than %s bytes", "65536");
		out[n++] = ch;
	}
	return n;
}

static long num(const char *name, const char *v, long lo, long hi)
{
	uint64_t n;

	if (num_uint(v, (uint64_t)lo, (uint64_t)hi, &n) < 0)
		die("%s: not a number in range", name);
	return (long)n;
}

static void usage(void)
{
	puts("usage: hostile -p PORT [options] hold|noread|bytewise\n"
	     "  -H ADDR        IPv4 address (default 127.0.0.1)\n"
	     "  -c N           connections (hold, noread; default 1, at most 100000)\n"
	     "  -s STRING      prefix each connection sends (\\r \\n \\t \\xHH decoded)\n"
	     "  --trickle MS   hold: then one byte of --more every MS ms\n"
	     "  --more STRING  hold: the trickled bytes, cycled (default \"x\")\n"
	     "  -b BYTES       noread: at most this many bytes per connection\n"
	     "                 (default 64 MiB)\n"
	     "  --stall MS     noread: a connection is stalled when the kernel took\n"
	     "                 nothing for MS ms (default 500)\n"
	     "  --gap MS       bytewise: pause between bytes (default 2)\n"
	     "  --expect N     bytewise: stop after N bytes of reply\n"
	     "  --ready FILE   created when all are open and sent (noread: stalled;\n"
	     "                 with --go: when all are open)\n"
	     "  --go FILE      hold: send nothing until FILE exists\n"
	     "  -T SECS        run at most this long (default 30)\n"
	     "Output: hold, noread: one JSON line (connections, connect_errors,\n"
	     "closed, open, resets, bytes_sent, bytes_received, close_ms_min,\n"
	     "close_ms_max: from a connection's first byte to the server's close).\n"
	     "bytewise: the reply bytes.  Exit 0; 1 if a connection failed to\n"
	     "connect (or bytewise got fewer bytes than --expect); 2 usage.");
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "trickle", required_argument, NULL, 't' },
		{ "more", required_argument, NULL, 'm' },
		{ "stall", required_argument, NULL, 'S' },
		{ "gap", required_argument, NULL, 'g' },
		{ "expect", required_argument, NULL, 'e' },
		{ "ready", required_argument, NULL, 'r' },
		{ "go", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = "127.0.0.1";
	long port = -1;
	int ch;

	memset(o, 0, sizeof(*o));
	o->conns = 1;
	o->stall_ms = 500;
	o->gap_ms = 2;
	o->max_bytes = 64ull << 20;
	o->limit_s = 30;
	o->more[0] = 'x';
	o->more_len = 1;
	while ((ch = getopt_long(argc, argv, "H:p:c:s:b:T:h", lo, NULL)) != -1) {
		switch (ch) {
		case 'H': host = optarg; break;
		case 'p': port = num("-p", optarg, 1, 65535); break;
		case 'c': o->conns = num("-c", optarg, 1, CONNS_MAX); break;
		case 's':
			o->prefix_len = unescape(optarg, o->prefix, PREFIX_MAX);
			break;
		case 'm':
			o->more_len = unescape(optarg, o->more, PREFIX_MAX);
			if (!o->more_len)
				die("--more: %s", "empty");
			break;
		case 't': o->trickle_ms = num("--trickle", optarg, 1, 60000); break;
		case 'S': o->stall_ms = num("--stall", optarg, 1, 60000); break;
		case 'g': o->gap_ms = num("--gap", optarg, 0, 60000); break;
		case 'e': o->expect = (uint64_t)num("--expect", optarg, 1, 1L << 30); break;
		case 'b': o->max_bytes = (uint64_t)num("-b", optarg, 1, 1L << 40); break;
		case 'T': o->limit_s = (double)num("-T", optarg, 1, 3600); break;
		case 'r': o->ready = optarg; break;
		case 'G': o->go = optarg; break;
		case 'h': usage(); exit(0);
		default: exit(2);
		}
	}
	if (port < 0)
		die("%s", "-p PORT is required");
	if (optind != argc - 1)
		die("%s", "one mode expected: hold, noread or bytewise");
	if (!strcmp(argv[optind], "hold"))
		o->mode = MODE_HOLD;
	else if (!strcmp(argv[optind], "noread"))
		o->mode = MODE_NOREAD;
	else if (!strcmp(argv[optind], "bytewise"))
		o->mode = MODE_BYTEWISE;
	else
		die("unknown mode \"%s\"", argv[optind]);
	if (o->mode == MODE_NOREAD && !o->prefix_len)
		die("%s", "noread needs -s (the request it repeats)");
	if (o->mode == MODE_NOREAD) {
		size_t copies = 65536 / o->prefix_len + 1;
		o->chunk_len = copies * o->prefix_len;
		o->chunk = malloc(o->chunk_len);
		if (!o->chunk)
			die("%s", "out of memory");
		for (size_t i = 0; i < copies; i++)
			memcpy(o->chunk + i * o->prefix_len, o->prefix,
			       o->prefix_len);
	}
	o->addr.sin_family = AF_INET;
	o->addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &o->addr.sin_addr) != 1)
		die("-H: \"%s\" is not a numeric IPv4 address", host);
}

static void make_ready(const struct opts *o)
{
	if (!o->ready)
		return;
	int fd = open(o->ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

/* Marks c closed by the server (EOF or reset), once. */
static void server_closed(struct hconn *c, struct totals *t, bool reset)
{
	uint64_t ms = (now_ns() - c->t_first) / 1000000u;

	c->open = false;
	close(c->fd);
	c->fd = -1;
	t->closed++;
	t->resets += reset;
	if (t->closed == 1 || ms < t->close_ms_min)
		t->close_ms_min = ms;
	if (ms > t->close_ms_max)
		t->close_ms_max = ms;
}

/* Sends what is due on c: the prefix, a trickle byte, or (noread) the
 * prefix again.  Returns false if the server closed the connection. */
static bool pump_send(const struct opts *o, struct hconn *c, struct totals *t,
		      uint64_t now)
{
	for (;;) {
		const char *p;
		size_t n;
		if (c->off < o->prefix_len) {
			p = o->prefix + c->off;
			n = o->prefix_len - c->off;
		} else if (o->mode == MODE_NOREAD && c->sent < o->max_bytes) {
			size_t pos = (size_t)((c->sent - o->prefix_len) % o->chunk_len);
			p = o->chunk + pos;
			n = o->chunk_len - pos;
		} else if (o->mode == MODE_HOLD && o->trickle_ms &&
			   now >= c->t_next) {
			p = o->more + c->more_off;
			n = 1;
		} else {
			return true;
		}
		if (o->mode == MODE_NOREAD && n > o->max_bytes - c->sent)
			n = (size_t)(o->max_bytes - c->sent);
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return true;
			server_closed(c, t, errno == ECONNRESET);
			return false;
		}
		if (!c->sent)
			c->t_first = now;
		c->sent += (uint64_t)w;
		t->bytes_sent += (uint64_t)w;
		c->t_progress = now;
		if (c->off < o->prefix_len) {
			c->off += (size_t)w;
		} else if (o->mode == MODE_NOREAD) {
			continue;
		} else {
			c->more_off = (c->more_off + 1) % o->more_len;
			c->t_next = now + (uint64_t)o->trickle_ms * 1000000u;
			return true;
		}
		if (o->mode != MODE_NOREAD && c->off == o->prefix_len) {
			c->t_next = now + (uint64_t)o->trickle_ms * 1000000u;
			return true;
		}
	}
}

static void print_totals(const struct opts *o, const struct totals *t)
{
	(void)o;
	printf("{\"connections\":%ld,\"connect_errors\":%ld,\"closed\":%ld,"
	       "\"open\":%ld,\"resets\":%ld,\"bytes_sent\":%" PRIu64
	       ",\"bytes_received\":%" PRIu64 ",\"close_ms_min\":%" PRIu64
	       ",\"close_ms_max\":%" PRIu64 "}\n",
	       t->connections, t->connect_errors, t->closed,
	       t->connections - t->closed, t->resets, t->bytes_sent,
	       t->bytes_received, t->close_ms_min, t->close_ms_max);
	fflush(stdout);
}

/* hold and noread: every connection in one poll() loop. */
struct many {
	const struct opts *o;
	struct hconn *cs;
	struct pollfd *pfd;	/* parallel to cs */
	struct totals t;
	uint64_t end;		/* -T from the start */
	bool go;		/* --go's file exists (or no --go) */
	bool ready;		/* --ready's file was made */
	char sink[65536];
};

/* How the connections stand before a poll. */
struct census {
	long open, pending, stalled;
};

/* Starts every connection (non-blocking connects). */
static void open_all(struct many *m)
{
	const struct opts *o = m->o;

	for (long i = 0; i < o->conns; i++) {
		struct hconn *c = &m->cs[i];
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		c->fd = -1;
		if (fd < 0) {
			fprintf(stderr, PROG ": socket: %s (raise ulimit -n?)\n",
				strerror(errno));
			m->t.connect_errors++;
			continue;
		}
		if (connect(fd, (struct sockaddr *)&o->addr, sizeof(o->addr)) < 0 &&
		    errno != EINPROGRESS) {
			close(fd);
			m->t.connect_errors++;
			continue;
		}
		c->fd = fd;
		c->open = true;
		c->t_first = now_ns();
		m->t.connections++;
	}
}

/* What connection c waits for (pfd), counted in n; returns the poll
 * timeout in ms, at most timeout. */
static int plan_one(struct many *m, long i, uint64_t now, int timeout,
		    struct census *n)
{
	const struct opts *o = m->o;
	struct hconn *c = &m->cs[i];
	struct pollfd *p = &m->pfd[i];

	p->fd = c->open ? c->fd : -1;
	p->events = POLLIN;
	p->revents = 0;
	if (!c->open)
		return timeout;
	n->open++;
	if (!c->connected || (m->go && c->off < o->prefix_len))
		n->pending++;
	if (!c->connected) {
		p->events |= POLLOUT;
	} else if (o->mode == MODE_NOREAD) {
		if (c->sent >= o->max_bytes ||
		    now - c->t_progress >= (uint64_t)o->stall_ms * 1000000u)
			n->stalled++;
		else
			p->events = POLLOUT;
	} else if (!m->go) {
		;	/* nothing is sent before --go */
	} else if (c->off < o->prefix_len) {
		p->events |= POLLOUT;
	} else if (o->trickle_ms) {
		int ms = c->t_next > now ?
			(int)((c->t_next - now) / 1000000u) + 1 : 0;
		if (ms < timeout)
			timeout = ms;
	}
	return timeout;
}

/* Fills pfd for the next poll and counts how the connections stand;
 * returns the poll timeout in ms. */
static int plan(struct many *m, uint64_t now, struct census *n)
{
	int timeout = m->go ? 100 : 20;	/* 20: to notice --go */

	*n = (struct census){ 0 };
	for (long i = 0; i < m->o->conns; i++)
		timeout = plan_one(m, i, now, timeout, n);
	if (m->o->mode == MODE_NOREAD && timeout > 50)
		timeout = 50;	/* to notice a stall */
	return timeout;
}

/* hold: every prefix is sent; noread: every connection is stalled. */
static void check_ready(struct many *m, const struct census *n)
{
	const struct opts *o = m->o;

	if (!m->ready && ((o->mode == MODE_HOLD && !n->pending) ||
			  (o->mode == MODE_NOREAD && n->stalled == n->open))) {
		make_ready(o);
		m->ready = true;
	}
}

/* c's connect finished.  Returns false if it failed (counted). */
static bool on_connected(struct many *m, struct hconn *c, uint64_t now)
{
	int err = 0, one = 1;
	socklen_t len = sizeof(err);

	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err) {
		c->open = false;
		close(c->fd);
		m->t.connect_errors++;
		m->t.connections--;
		return false;
	}
	c->connected = true;
	c->t_first = now;
	c->t_progress = now;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return true;
}

/* What poll() found on connection i: connect, read (hold), the server's
 * close, then what is due to send. */
static void serve_one(struct many *m, long i, uint64_t now)
{
	const struct opts *o = m->o;
	struct hconn *c = &m->cs[i];
	short re = m->pfd[i].revents;

	if (!c->open)
		return;
	if (!c->connected && (re & (POLLOUT | POLLERR | POLLHUP)) &&
	    !on_connected(m, c, now))
		return;
	if (o->mode != MODE_NOREAD && (re & (POLLIN | POLLERR | POLLHUP))) {
		ssize_t r = recv(c->fd, m->sink, sizeof(m->sink), MSG_DONTWAIT);
		if (r > 0) {
			m->t.bytes_received += (uint64_t)r;
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			server_closed(c, &m->t, r < 0);
			return;
		}
	} else if (o->mode == MODE_NOREAD && (re & (POLLERR | POLLHUP))) {
		server_closed(c, &m->t, true);
		return;
	}
	if (c->connected && m->go)
		pump_send(o, c, &m->t, now);
}

/* Polls until every connection is closed, -T, or a signal.  Returns 0, or
 * 1 if poll() failed. */
static int many_loop(struct many *m)
{
	const struct opts *o = m->o;

	while (!stop) {
		uint64_t now = now_ns();
		struct census n;

		if (now >= m->end)
			break;
		if (!m->go && access(o->go, F_OK) == 0)
			m->go = true;
		int timeout = plan(m, now, &n);
		if (!n.open)
			break;
		check_ready(m, &n);
		if (poll(m->pfd, (nfds_t)o->conns, timeout) < 0) {
			if (errno == EINTR)
				continue;
			perror(PROG ": poll");
			return 1;
		}
		now = now_ns();
		for (long i = 0; i < o->conns; i++)
			serve_one(m, i, now);
	}
	return 0;
}

static int run_many(const struct opts *o)
{
	struct many *m = calloc(1, sizeof(*m));
	int rc = 1;

	if (m) {
		m->o = o;
		m->end = now_ns() + (uint64_t)(o->limit_s * 1e9);
		m->go = !o->go;
		m->cs = calloc((size_t)o->conns, sizeof(*m->cs));
		m->pfd = calloc((size_t)o->conns, sizeof(*m->pfd));
	}
	if (!m || !m->cs || !m->pfd) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	open_all(m);
	if (many_loop(m) != 0)
		goto out;
	print_totals(o, &m->t);
	rc = m->t.connect_errors ? 1 : 0;
out:
	for (long i = 0; m && m->cs && i < o->conns; i++)
		if (m->cs[i].open)
			close(m->cs[i].fd);
	if (m) {
		free(m->cs);
		free(m->pfd);
	}
	free(m);
	return rc;
}

static int run_bytewise(const struct opts *o)
{
	uint64_t end = now_ns() + (uint64_t)(o->limit_s * 1e9);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	uint64_t got = 0;
	char buf[65536];

	if (fd < 0 || connect(fd, (struct sockaddr *)&o->addr, sizeof(o->addr)) < 0) {
		perror(PROG ": connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (size_t i = 0; i < o->prefix_len && !stop; i++) {
		if (send(fd, o->prefix + i, 1, MSG_NOSIGNAL) != 1) {
			perror(PROG ": send");
			return 1;
		}
		if (o->gap_ms) {
			struct timespec ts = { .tv_sec = o->gap_ms / 1000,
					       .tv_nsec = (o->gap_ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		}
	}
	make_ready(o);
	while (!stop && (!o->expect || got < o->expect)) {
		uint64_t now = now_ns();
		if (now >= end)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)((end - now) / 1000000u) + 1) <= 0)
			continue;
		size_t want = sizeof(buf);
		if (o->expect && o->expect - got < want)
			want = (size_t)(o->expect - got);
		ssize_t r = recv(fd, buf, want, 0);
		if (r <= 0)
			break;
		fwrite(buf, 1, (size_t)r, stdout);
		got += (uint64_t)r;
	}
	fflush(stdout);
	close(fd);
	return o->expect && got < o->expect ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct opts *o = malloc(sizeof(*o));
	struct sigaction sa;
	struct rlimit rl;

	if (!o)
		return 1;
	parse(argc, argv, o);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Room for every connection. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int rc = o->mode == MODE_BYTEWISE ? run_bytewise(o) : run_many(o);
	free(o->chunk);
	free(o);
	return rc;
}
