/* evclient: a test client for evd's echo protocol.
 *
 * One thread and one poll() loop drive up to CONNS non-blocking connections.
 * Each connection sends its messages one at a time and reads the echo while
 * it is still sending (a large message would otherwise dead-lock against the
 * server's backpressure), checks every byte, and only then starts the next
 * message.  Totals come out as one JSON line on stdout; the first few
 * failures are described on stderr.
 *
 * With --barrier the connections move in lockstep: none begins message k+1
 * before every connection still alive has completed message k, so the
 * server must hold all of them open at once (one that cannot leaves the run
 * stuck at the barrier until -T).
 *
 * A message's content is a pure function of (seed, connection, message,
 * offset), so nothing is buffered: the sender and the checker each generate
 * the bytes they need, and memory does not grow with the message size.
 *
 * The command line (usage, options, their checks) is in evclient_opts.c. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
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
#include "evclient.h"

enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* a connection failed */
	EXIT_USAGE = 2,
	EXIT_TIMEOUT = 3,	/* -T stopped the run */
};

/* How a connection can fail; each failed connection counts exactly once. */
enum fail_kind {
	FAIL_MISMATCH,		/* an echoed byte differs, or was never sent */
	FAIL_EOF,		/* evd closed before the echo was complete */
	FAIL_CONNECT,		/* socket() or connect() failed */
	FAIL_RESET,		/* reset, or another socket error once connected */
	FAIL_TIMEOUT,		/* still running (or not started) at -T */
	FAIL_MAX
};

/* The JSON keys, in output order. */
static const char *const fail_keys[] = {
	[FAIL_MISMATCH] = "mismatches",
	[FAIL_EOF] = "eof",
	[FAIL_CONNECT] = "connect_errors",
	[FAIL_RESET] = "resets",
	[FAIL_TIMEOUT] = "timeouts",
};
_Static_assert(sizeof(fail_keys) / sizeof(fail_keys[0]) == FAIL_MAX,
	       "fail_keys must name every fail_kind");

struct totals {
	uint64_t connections;	/* established */
	uint64_t completed;
	uint64_t requests;	/* messages echoed in full and verified */
	uint64_t bytes_sent;
	uint64_t bytes_received;
	uint64_t fail[FAIL_MAX];
};

enum phase {
	PH_FREE,		/* slot unused */
	PH_CONNECTING,		/* non-blocking connect() in progress */
	PH_RUNNING,		/* established */
};

struct conn {
	int fd;
	enum phase phase;
	uint64_t idx;		/* connection number j, from 0 */
	uint64_t msg;		/* current message k, from 0 */
	uint64_t key;		/* content key of (seed, j, k) */
	uint64_t size;		/* size of message k, final '\n' included */
	uint64_t limit;		/* bytes of it to send: size, or --after */
	uint64_t sent;		/* bytes of message k sent */
	uint64_t recvd;		/* bytes of its echo received and verified */
	bool waiting;		/* message k done, held at the barrier */
};

struct run {
	const struct opts *o;
	struct conn *conns;	/* nslots slots ... */
	struct pollfd *pfd;	/* ... and their poll entries (fd -1 if free) */
	unsigned nslots;
	unsigned active;	/* slots not free */
	uint64_t started;	/* connections begun (next index) */
	uint64_t deadline_ns;
	bool timed_out;
	uint64_t barrier_msg;	/* --barrier: the last message that may begin */
	uint64_t waiting;	/* connections held at the barrier */
	unsigned diags;		/* failures seen, for the DIAG_MAX limit */
	struct totals t;
	char *sbuf, *rbuf, *ebuf;	/* CHUNK each: to send, received, expected */
};

/* ---- message contents ------------------------------------------------- */

/* splitmix64's finalizer: a fast, well-mixed 64-bit hash. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t msg_key(uint64_t seed, uint64_t conn, uint64_t msg)
{
	return mix64(mix64(mix64(seed) ^ conn) ^ msg);
}

/* Bytes [off, off + n) of the message of this key and size: printable ASCII
 * (' ' to '~'), then '\n' as the last byte. */
static void msg_fill(uint64_t key, uint64_t size, uint64_t off, char *dst,
		     size_t n)
{
	uint64_t blk = UINT64_MAX, h = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t pos = off + i;
		if (pos == size - 1) {
			dst[i] = '\n';
			continue;
		}
		if (pos / 8 != blk) {
			blk = pos / 8;
			h = mix64(key ^ (blk * 0xd6e8feb86659fd93ull));
		}
		unsigned b = (unsigned)(h >> (8 * (pos % 8))) & 0xff;
		dst[i] = (char)(' ' + ((b * 95) >> 8));
	}
}

/* ---- connections ------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void conn_release(struct run *r, struct conn *c, bool reset)
{
	if (c->fd >= 0) {
		if (reset) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg,
				   sizeof(lg));
		}
		close(c->fd);
	}
	r->pfd[c - r->conns].fd = -1;
	r->pfd[c - r->conns].revents = 0;
	if (c->waiting)
		r->waiting--;
	c->waiting = false;
	c->fd = -1;
	c->phase = PH_FREE;
	r->active--;
}

static void conn_done(struct run *r, struct conn *c)
{
	r->t.completed++;
	conn_release(r, c, r->o->disc == DISC_RESET);
}

/* Counts a failure of c, describes it if it is among the first, closes c. */
__attribute__((format(printf, 4, 5)))
static void conn_fail(struct run *r, struct conn *c, enum fail_kind kind,
		      const char *fmt, ...)
{
	va_list ap;

	r->t.fail[kind]++;
	if (r->diags < DIAG_MAX) {
		fprintf(stderr, PROG ": connection %" PRIu64, c->idx);
		if (c->phase == PH_RUNNING && r->o->disc == DISC_NONE)
			fprintf(stderr, " message %" PRIu64, c->msg);
		fprintf(stderr, ": %s: ", fail_keys[kind]);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	} else if (r->diags == DIAG_MAX) {
		fprintf(stderr, PROG ": further failures not described\n");
	}
	r->diags++;
	conn_release(r, c, false);
}

static void msg_begin(struct run *r, struct conn *c, uint64_t k)
{
	const struct opts *o = r->o;

	c->msg = k;
	c->key = msg_key(o->seed, c->idx, k);
	c->size = o->sizes[(c->idx + k) % o->nsizes];
	c->limit = o->disc == DISC_NONE ? c->size : o->after;
	c->sent = 0;
	c->recvd = 0;
}

/* Renders a byte for a message: 'c' if printable, else \xNN. */
static const char *byte_text(unsigned char b, char out[8])
{
	if (b >= ' ' && b <= '~')
		snprintf(out, 8, "'%c'", b);
	else
		snprintf(out, 8, "\\x%02x", b);
	return out;
}

/* Checks n received bytes against the message.  Returns 0 if c goes on,
 * -1 if it is gone (failed, or done with its last message). */
static int on_data(struct run *r, struct conn *c, size_t n)
{
	uint64_t owed = c->sent - c->recvd;
	size_t good = n < owed ? n : (size_t)owed;

	msg_fill(c->key, c->size, c->recvd, r->ebuf, good);
	if (memcmp(r->rbuf, r->ebuf, good) != 0) {
		char got[8], want[8];
		size_t i = 0;
		while (r->rbuf[i] == r->ebuf[i])
			i++;
		conn_fail(r, c, FAIL_MISMATCH, "byte %" PRIu64 " of %" PRIu64
			  ": got %s, expected %s", c->recvd + i, c->size,
			  byte_text((unsigned char)r->rbuf[i], got),
			  byte_text((unsigned char)r->ebuf[i], want));
		return -1;
	}
	if (n > good) {
		char got[8];
		conn_fail(r, c, FAIL_MISMATCH, "byte %" PRIu64 " of %" PRIu64
			  " (%s) arrived before it was sent (%" PRIu64
			  " sent)", c->recvd + good, c->size,
			  byte_text((unsigned char)r->rbuf[good], got),
			  c->sent);
		return -1;
	}
	c->recvd += n;
	if (c->recvd < c->size)
		return 0;
	r->t.requests++;
	if (c->msg + 1 == r->o->messages) {
		conn_done(r, c);
		return -1;
	}
	if (r->o->barrier && c->msg + 1 > r->barrier_msg) {
		/* Nothing is owed now: any byte that arrives is a mismatch. */
		c->waiting = true;
		r->waiting++;
		return 0;
	}
	msg_begin(r, c, c->msg + 1);
	return 0;
}

/* Reads what evd echoed.  Returns 0 if c goes on, -1 if it is gone. */
static int recv_some(struct run *r, struct conn *c)
{
	for (int i = 0; i < IO_BUDGET; i++) {
		ssize_t n = recv(c->fd, r->rbuf, CHUNK, 0);
		if (n > 0) {
			r->t.bytes_received += (uint64_t)n;
			if (on_data(r, c, (size_t)n) < 0)
				return -1;
			continue;
		}
		if (n == 0) {
			conn_fail(r, c, FAIL_EOF, "the server closed the "
				  "connection after echoing %" PRIu64 " of %" PRIu64
				  " bytes (%" PRIu64 " sent)", c->recvd,
				  c->size, c->sent);
			return -1;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno == EINTR)
			continue;
		conn_fail(r, c, FAIL_RESET, "recv: %s (after %" PRIu64 " of %"
			  PRIu64 " bytes echoed, %" PRIu64 " sent)",
			  strerror(errno), c->recvd, c->size, c->sent);
		return -1;
	}
	return 0;
}

/* Sends more of the message, up to c->limit.  Returns 0 if c goes on, -1
 * if it is gone. */
static int send_some(struct run *r, struct conn *c)
{
	for (int i = 0; i < IO_BUDGET && c->sent < c->limit; i++) {
		uint64_t left = c->limit - c->sent;
		size_t want = left < CHUNK ? (size_t)left : CHUNK;

		msg_fill(c->key, c->size, c->sent, r->sbuf, want);
		ssize_t n = send(c->fd, r->sbuf, want, MSG_NOSIGNAL);
		if (n > 0) {
			c->sent += (uint64_t)n;
			r->t.bytes_sent += (uint64_t)n;
			if ((size_t)n < want)
				return 0;	/* the socket is full */
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		conn_fail(r, c, FAIL_RESET, "send: %s (after %" PRIu64 " of %"
			  PRIu64 " bytes sent)", n < 0 ? strerror(errno) :
			  "sent nothing", c->sent, c->limit);
		return -1;
	}
	return 0;
}

/* Moves an established connection on as far as it can without waiting. */
static void conn_io(struct run *r, struct conn *c)
{
	struct pollfd *p = &r->pfd[c - r->conns];

	if (r->o->disc == DISC_NONE && recv_some(r, c) < 0)
		return;
	if (send_some(r, c) < 0)
		return;
	if (r->o->disc != DISC_NONE) {
		if (c->sent == c->limit)
			conn_done(r, c);
		else
			p->events = POLLOUT;
		return;
	}
	p->events = (short)(POLLIN | (c->sent < c->limit ? POLLOUT : 0));
}

static void conn_established(struct run *r, struct conn *c)
{
	r->t.connections++;
	c->phase = PH_RUNNING;
	msg_begin(r, c, 0);
	conn_io(r, c);
}

/* Starts connection number r->started in the free slot c. */
static void conn_start(struct run *r, struct conn *c)
{
	const struct opts *o = r->o;
	struct pollfd *p = &r->pfd[c - r->conns];

	*c = (struct conn){ .fd = -1, .idx = r->started++,
			    .phase = PH_CONNECTING };
	r->active++;
	c->fd = socket(o->addr.ss_family,
		       SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		conn_fail(r, c, FAIL_CONNECT, "socket: %s", strerror(errno));
		return;
	}
	p->fd = c->fd;
	p->events = POLLOUT;
	p->revents = 0;
	if (connect(c->fd, (const struct sockaddr *)&o->addr, o->addrlen) == 0)
		conn_established(r, c);
	else if (errno != EINPROGRESS && errno != EINTR)
		conn_fail(r, c, FAIL_CONNECT, "connect to %s: %s",
			  o->addr_text, strerror(errno));
}

/* A non-blocking connect() finished, one way or the other. */
static void conn_connected(struct run *r, struct conn *c)
{
	int e = 0;
	socklen_t len = sizeof(e);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
		e = errno;
	if (e) {
		conn_fail(r, c, FAIL_CONNECT, "connect to %s: %s",
			  r->o->addr_text, strerror(e));
		return;
	}
	conn_established(r, c);
}

/* Fills free slots while connections remain to be made. */
static void refill(struct run *r)
{
	for (unsigned i = 0; i < r->nslots && r->started < r->o->total; i++)
		while (r->conns[i].phase == PH_FREE &&
		       r->started < r->o->total)
			conn_start(r, &r->conns[i]);
}

/* --barrier: once every connection still alive (every one was started at
 * once) has completed the current message, lets them all begin the next. */
static void barrier_check(struct run *r)
{
	while (r->o->barrier && r->waiting > 0 && r->waiting == r->active) {
		r->barrier_msg++;
		r->waiting = 0;
		for (unsigned i = 0; i < r->nslots; i++) {
			struct conn *c = &r->conns[i];
			if (!c->waiting)
				continue;
			c->waiting = false;
			msg_begin(r, c, c->msg + 1);
			conn_io(r, c);
		}
	}
}

/* -T hit: what runs, and what never started, counts as timed out. */
static void time_out(struct run *r)
{
	uint64_t unstarted = r->o->total - r->started;

	r->timed_out = true;
	if (r->o->barrier)
		fprintf(stderr, PROG ": at the barrier after message %" PRIu64
			": %" PRIu64 " of %u connections had completed it\n",
			r->barrier_msg, r->waiting, r->active);
	for (unsigned i = 0; i < r->nslots; i++) {
		struct conn *c = &r->conns[i];
		if (c->phase == PH_CONNECTING)
			conn_fail(r, c, FAIL_TIMEOUT, "still connecting to %s "
				  "after %g s", r->o->addr_text,
				  r->o->timeout_s);
		else if (c->waiting)
			conn_fail(r, c, FAIL_TIMEOUT, "waiting at the barrier "
				  "after %g s (message %" PRIu64 " done)",
				  r->o->timeout_s, c->msg);
		else if (c->phase == PH_RUNNING)
			conn_fail(r, c, FAIL_TIMEOUT, "still running after "
				  "%g s (%" PRIu64 " of %" PRIu64 " bytes sent, %"
				  PRIu64 " echoed)", r->o->timeout_s, c->sent,
				  c->limit, c->recvd);
	}
	r->t.fail[FAIL_TIMEOUT] += unstarted;
	r->started = r->o->total;
	if (unstarted)
		fprintf(stderr, PROG ": %" PRIu64 " connections not started "
			"before the %g s timeout\n", unstarted,
			r->o->timeout_s);
}

/* Milliseconds until the deadline, rounded up; 0 once it has passed. */
static int ms_left(const struct run *r)
{
	uint64_t now = now_ns();

	if (now >= r->deadline_ns)
		return 0;
	uint64_t ms = (r->deadline_ns - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* The poll loop.  Returns 0, or -errno if poll() itself fails. */
static int run_loop(struct run *r)
{
	refill(r);
	while (r->active) {
		int ms = ms_left(r);
		if (ms == 0) {
			time_out(r);
			break;
		}
		int n = poll(r->pfd, r->nslots, ms);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (unsigned i = 0; i < r->nslots && n > 0; i++) {
			struct conn *c = &r->conns[i];
			if (!r->pfd[i].revents)
				continue;
			n--;
			if (c->phase == PH_CONNECTING)
				conn_connected(r, c);
			else if (c->phase == PH_RUNNING)
				conn_io(r, c);
		}
		refill(r);
		barrier_check(r);
	}
	return 0;
}

static void print_totals(const struct totals *t, double elapsed_s)
{
	uint64_t errors = 0;

	for (int k = 0; k < FAIL_MAX; k++)
		errors += t->fail[k];
	printf("{\"connections\":%" PRIu64 ",\"completed\":%" PRIu64
	       ",\"requests\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
	       ",\"bytes_received\":%" PRIu64 ",\"errors\":%" PRIu64,
	       t->connections, t->completed, t->requests, t->bytes_sent,
	       t->bytes_received, errors);
	for (int k = 0; k < FAIL_MAX; k++)
		printf(",\"%s\":%" PRIu64, fail_keys[k], t->fail[k]);
	printf(",\"elapsed_s\":%.3f}\n", elapsed_s);
}

static void run_free(struct run *r)
{
	if (!r)
		return;
	for (unsigned i = 0; r->conns && i < r->nslots; i++)
		if (r->conns[i].fd >= 0)
			close(r->conns[i].fd);
	free(r->conns);
	free(r->pfd);
	free(r->sbuf);
	free(r->rbuf);
	free(r->ebuf);
	free(r);
}

static struct run *run_new(const struct opts *o)
{
	struct run *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->o = o;
	r->nslots = (unsigned)(o->conns < o->total ? o->conns : o->total);
	r->conns = calloc(r->nslots, sizeof(*r->conns));
	r->pfd = calloc(r->nslots, sizeof(*r->pfd));
	r->sbuf = malloc(CHUNK);
	r->rbuf = malloc(CHUNK);
	r->ebuf = malloc(CHUNK);
	if (!r->conns || !r->pfd || !r->sbuf || !r->rbuf || !r->ebuf) {
		run_free(r);
		return NULL;
	}
	for (unsigned i = 0; i < r->nslots; i++) {
		r->conns[i].fd = -1;
		r->pfd[i].fd = -1;
	}
	return r;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct run *r = NULL;
	char err[512];
	int rc = EXIT_FAILED;

	switch (evclient_parse_args(argc, argv, &o, err, sizeof(err))) {
	case 1:
		evclient_usage(stdout);
		return EXIT_OK;
	case 0:
		break;
	default:
		fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", err);
		return EXIT_USAGE;
	}
	if (evclient_reserve_fds((o.conns < o.total ? o.conns : o.total) + FD_SPARE,
			err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return EXIT_USAGE;
	}
	r = run_new(&o);
	if (!r) {
		fprintf(stderr, PROG ": out of memory\n");
		goto out;
	}
	uint64_t start = now_ns();
	r->deadline_ns = start + (uint64_t)(o.timeout_s * 1e9);
	int e = run_loop(r);
	if (e < 0) {
		fprintf(stderr, PROG ": poll: %s\n", strerror(-e));
		goto out;
	}
	print_totals(&r->t, (double)(now_ns() - start) / 1e9);
	if (fflush(stdout) != 0) {
		fprintf(stderr, PROG ": stdout: %s\n", strerror(errno));
		goto out;
	}
	if (r->timed_out)
		rc = EXIT_TIMEOUT;
	else if (r->t.completed == o.total)
		rc = EXIT_OK;
out:
	run_free(r);
	return rc;
}
