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
 * the bytes they need, and memory does not grow with the message size. */
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

#define PROG "evclient"

#define CHUNK (64 * 1024)	/* bytes per send() or recv() */
#define IO_BUDGET 16		/* chunks per connection per wake-up */
#define SIZES_MAX 256		/* entries in -s */
#define MSG_SIZE_MAX (1ull << 30)
#define CONNS_MAX 1000000ull
#define COUNT_MAX 1000000000000ull
#define TIMEOUT_MAX_S 1e6
#define FD_SPARE 16		/* descriptors besides the connections */
#define DIAG_MAX 10		/* failures described on stderr */

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

enum disconnect {
	DISC_NONE,		/* exchange messages */
	DISC_CLOSE,		/* send a prefix, then close() */
	DISC_RESET,		/* send a prefix, then abort with an RST */
	DISC_MAX
};

static const char *const disc_names[] = {
	[DISC_NONE] = "none",
	[DISC_CLOSE] = "close",
	[DISC_RESET] = "reset",
};
_Static_assert(sizeof(disc_names) / sizeof(disc_names[0]) == DISC_MAX,
	       "disc_names must name every disconnect mode");

struct opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addr_text[INET6_ADDRSTRLEN + 16];	/* "[::1]:7777", for messages */
	uint64_t conns;		/* open at once */
	uint64_t total;		/* made in all */
	uint64_t messages;	/* per connection */
	uint64_t sizes[SIZES_MAX];
	unsigned nsizes;
	double timeout_s;
	uint64_t seed;
	enum disconnect disc;
	uint64_t after;		/* bytes sent before a disconnect */
	bool barrier;		/* lockstep: see --barrier */
};

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

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " -H HOST -p PORT [-c CONNS] [-n TOTAL_CONNS] "
		"[-m MESSAGES] [-s SIZES]\n"
		"                [-T TIMEOUT_S] [--seed N] [--barrier]\n"
		"                [--disconnect close|reset --after BYTES] [-h]\n"
		"\n"
		"Drives evd's echo protocol: opens connections, sends newline-ended\n"
		"messages, checks every echoed byte, prints one JSON line of totals.\n"
		"\n"
		"  -H, --host HOST       numeric IPv4 or IPv6 address "
		"(default 127.0.0.1)\n"
		"  -p, --port PORT       TCP port, 1..65535 (required)\n"
		"  -c, --conns N         connections open at the same time "
		"(default 1)\n"
		"  -n, --total N         connections made in total; when one ends "
		"the next\n"
		"                        starts (default: CONNS)\n"
		"  -m, --messages N      messages per connection, one at a time: "
		"send it,\n"
		"                        read its whole echo, verify it "
		"(default 1)\n"
		"  -s, --sizes LIST      message sizes in bytes, comma-separated, "
		"optional\n"
		"                        k or m suffix (1024-based), 1 to 1024m; "
		"a size\n"
		"                        includes the final '\\n'. Message k of "
		"connection j\n"
		"                        has size LIST[(j + k) %% entries] "
		"(default 100)\n"
		"  -T, --timeout SECS    stop the whole run after this long; what "
		"is left\n"
		"                        counts as timed out (default 60)\n"
		"      --seed N          seed of the printable pseudo-random "
		"contents (default 1)\n"
		"      --barrier         lockstep: no connection sends message "
		"k+1 before every\n"
		"                        connection of the run (failed ones "
		"aside) has received\n"
		"                        the whole echo of message k, so the "
		"server must hold\n"
		"                        them all open at once; one that "
		"cannot leaves the run\n"
		"                        stuck until -T (exit 3). Needs every "
		"connection open at\n"
		"                        once (TOTAL_CONNS <= CONNS)\n"
		"      --disconnect MODE instead of exchanging messages, send the "
		"first\n"
		"                        --after BYTES of the first message, read "
		"nothing, then\n"
		"                        close: close(); reset: SO_LINGER {1,0} "
		"and close() (RST)\n"
		"      --after BYTES     bytes to send before --disconnect "
		"(k/m suffix allowed)\n"
		"  -h, --help            this help\n"
		"\n"
		"Output, one line on stdout:\n"
		"  {\"connections\":N,\"completed\":N,\"requests\":N,"
		"\"bytes_sent\":N,\"bytes_received\":N,\n"
		"   \"errors\":N,\"mismatches\":N,\"eof\":N,\"connect_errors\":N,"
		"\"resets\":N,\"timeouts\":N,\n"
		"   \"elapsed_s\":F}\n"
		"connections: established; requests: messages echoed and "
		"verified;\n"
		"errors: the sum of the failure kinds that follow it. Every "
		"connection either\n"
		"completes or fails once, so completed + errors = TOTAL_CONNS.\n"
		"\n"
		"Exit status: 0 every connection completed, 1 some failed, 2 usage "
		"error,\n"
		"3 the timeout stopped the run.\n");
}

/* ---- parsing: no I/O, messages into err ------------------------------ */

/* The numbers themselves are common/num.c's; these word the messages. */

/* A whole decimal number in [min, max]. */
static int parse_count(const char *opt, const char *s, uint64_t min,
		       uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	if (num_uint(s, min, max, out) < 0) {
		snprintf(err, errlen, "%s: \"%s\" is not a number from %" PRIu64
			 " to %" PRIu64, opt, s, min, max);
		return -1;
	}
	return 0;
}

/* -s: comma-separated byte counts, each with an optional k or m suffix. */
static int parse_sizes(const char *s, struct opts *o, char *err,
		       size_t errlen)
{
	const char *p = s;

	o->nsizes = 0;
	for (;;) {
		const char *end = strchrnul(p, ',');
		char item[64] = "";
		if (o->nsizes == SIZES_MAX) {
			snprintf(err, errlen, "-s: more than %d sizes",
				 SIZES_MAX);
			return -1;
		}
		if ((size_t)(end - p) < sizeof(item))
			memcpy(item, p, (size_t)(end - p));
		if (num_size(item, 1, MSG_SIZE_MAX, &o->sizes[o->nsizes]) < 0) {
			snprintf(err, errlen, "-s: \"%.*s\" in \"%s\" is not a "
				 "size from 1 to 1073741824 bytes (e.g. "
				 "1,100,4k,1m)", (int)(end - p), p, s);
			return -1;
		}
		o->nsizes++;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int parse_timeout(const char *s, double *out, char *err,
			 size_t errlen)
{
	if (num_decimal(s, TIMEOUT_MAX_S, out) < 0) {
		snprintf(err, errlen, "-T: \"%s\" is not a number of seconds "
			 "above 0 and up to %.0f", s, TIMEOUT_MAX_S);
		return -1;
	}
	return 0;
}

/* A numeric address ("::1", "[::1]", "127.0.0.1") and a port. */
static int parse_addr(const char *host, uint64_t port, struct opts *o,
		      char *err, size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai = NULL;
	char name[INET6_ADDRSTRLEN + 32], serv[24];
	size_t len = strlen(host);

	if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
		host++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(name)) {
		snprintf(err, errlen, "-H: \"%s\" is not a numeric IPv4 or "
			 "IPv6 address", host);
		return -1;
	}
	memcpy(name, host, len);
	name[len] = '\0';
	snprintf(serv, sizeof(serv), "%" PRIu64, port);
	int rc = getaddrinfo(name, serv, &hints, &ai);
	if (rc != 0 || !ai || ai->ai_addrlen > sizeof(o->addr)) {
		snprintf(err, errlen, "-H: \"%s\" is not a numeric IPv4 or "
			 "IPv6 address (%s)", name,
			 rc ? gai_strerror(rc) : "no address");
		if (ai)
			freeaddrinfo(ai);
		return -1;
	}
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addrlen = ai->ai_addrlen;
	snprintf(o->addr_text, sizeof(o->addr_text),
		 ai->ai_family == AF_INET6 ? "[%s]:%s" : "%s:%s", name, serv);
	freeaddrinfo(ai);
	return 0;
}

static int parse_disconnect(const char *s, struct opts *o, char *err,
			    size_t errlen)
{
	for (unsigned i = DISC_NONE + 1; i < DISC_MAX; i++)
		if (strcmp(s, disc_names[i]) == 0) {
			o->disc = (enum disconnect)i;
			return 0;
		}
	snprintf(err, errlen, "--disconnect: \"%s\" is not one of: close, "
		 "reset", s);
	return -1;
}

enum { OPT_SEED = 0x100, OPT_DISCONNECT, OPT_AFTER, OPT_BARRIER };

static const struct option long_opts[] = {
	{ "host", required_argument, NULL, 'H' },
	{ "port", required_argument, NULL, 'p' },
	{ "conns", required_argument, NULL, 'c' },
	{ "total", required_argument, NULL, 'n' },
	{ "messages", required_argument, NULL, 'm' },
	{ "sizes", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "disconnect", required_argument, NULL, OPT_DISCONNECT },
	{ "after", required_argument, NULL, OPT_AFTER },
	{ "barrier", no_argument, NULL, OPT_BARRIER },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Checks what only the whole command line can tell. */
static int check_opts(struct opts *o, bool have_total, bool have_messages,
		      bool have_after, char *err, size_t errlen)
{
	if (!have_total)
		o->total = o->conns;
	if (o->barrier && o->total > o->conns) {
		snprintf(err, errlen, "--barrier needs every connection open at "
			 "once: -n %" PRIu64 " is more than -c %" PRIu64,
			 o->total, o->conns);
		return -1;
	}
	if (o->barrier && o->disc != DISC_NONE) {
		snprintf(err, errlen, "--barrier has no meaning with "
			 "--disconnect (no message is completed)");
		return -1;
	}
	if (o->disc == DISC_NONE && have_after) {
		snprintf(err, errlen, "--after needs --disconnect close|reset");
		return -1;
	}
	if (o->disc == DISC_NONE)
		return 0;
	if (!have_after) {
		snprintf(err, errlen, "--disconnect %s needs --after BYTES",
			 disc_names[o->disc]);
		return -1;
	}
	if (have_messages) {
		snprintf(err, errlen, "-m has no meaning with --disconnect "
			 "(each connection sends part of one message)");
		return -1;
	}
	/* Connection j sends a prefix of its first message, sizes[j % n]. */
	for (uint64_t j = 0; j < o->nsizes && j < o->total; j++)
		if (o->after > o->sizes[j]) {
			snprintf(err, errlen, "--after %" PRIu64 " is longer "
				 "than the first message of connection %" PRIu64
				 " (%" PRIu64 " bytes, from -s)", o->after, j,
				 o->sizes[j]);
			return -1;
		}
	return 0;
}

/* The option getopt_long() complained about: arg is the argument it was
 * reading, optopt the short option (or a long option's value). */
static const char *opt_name(const char *arg, int opt, char *out, size_t len)
{
	if (strncmp(arg, "--", 2) == 0)
		snprintf(out, len, "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(out, len, "-%c", opt > 0 && opt < 0x80 ? opt : '?');
	return out;
}

/* Returns 0, 1 when help is asked for, or -1 with a message in err. */
static int parse_args(int argc, char **argv, struct opts *o, char *err,
		      size_t errlen)
{
	const char *host = "127.0.0.1";
	uint64_t port = 0;
	bool have_total = false, have_messages = false, have_after = false;
	char name[64];
	int ch, rc = 0;

	*o = (struct opts){ .conns = 1, .messages = 1, .sizes = { 100 },
			    .nsizes = 1, .timeout_s = 60, .seed = 1 };
	opterr = 0;
	while (rc == 0 &&
	       (ch = getopt_long(argc, argv, ":H:p:c:n:m:s:T:h", long_opts,
				 NULL)) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			rc = parse_count("-p", optarg, 1, 65535, &port, err,
					 errlen);
			break;
		case 'c':
			rc = parse_count("-c", optarg, 1, CONNS_MAX, &o->conns,
					 err, errlen);
			break;
		case 'n':
			have_total = true;
			rc = parse_count("-n", optarg, 1, COUNT_MAX, &o->total,
					 err, errlen);
			break;
		case 'm':
			have_messages = true;
			rc = parse_count("-m", optarg, 1, COUNT_MAX,
					 &o->messages, err, errlen);
			break;
		case 's':
			rc = parse_sizes(optarg, o, err, errlen);
			break;
		case 'T':
			rc = parse_timeout(optarg, &o->timeout_s, err, errlen);
			break;
		case OPT_SEED:
			rc = parse_count("--seed", optarg, 0, UINT64_MAX,
					 &o->seed, err, errlen);
			break;
		case OPT_DISCONNECT:
			rc = parse_disconnect(optarg, o, err, errlen);
			break;
		case OPT_AFTER:
			have_after = true;
			if (num_size(optarg, 0, MSG_SIZE_MAX, &o->after) < 0) {
				snprintf(err, errlen, "--after: \"%s\" is not a "
					 "byte count from 0 to 1073741824",
					 optarg);
				rc = -1;
			}
			break;
		case OPT_BARRIER:
			o->barrier = true;
			break;
		case 'h':
			return 1;
		case ':':
			snprintf(err, errlen, "%s needs a value",
				 opt_name(argv[optind - 1], optopt, name,
					  sizeof(name)));
			return -1;
		default:
			/* optopt names a known long option given a value. */
			snprintf(err, errlen,
				 strncmp(argv[optind - 1], "--", 2) == 0 &&
						 optopt ?
					 "%s takes no value" :
					 "unknown option %s",
				 opt_name(argv[optind - 1], optopt, name,
					  sizeof(name)));
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind]);
		return -1;
	}
	if (port == 0) {
		snprintf(err, errlen, "-p PORT is required");
		return -1;
	}
	if (parse_addr(host, port, o, err, errlen) < 0)
		return -1;
	return check_opts(o, have_total, have_messages, have_after, err,
			  errlen);
}

/* Makes room for n descriptors, raising the soft limit if needed. */
static int reserve_fds(uint64_t n, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;	/* unknown: let socket() tell */
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > n ?
				      (rlim_t)n : rl.rlim_max;
		struct rlimit nl = { .rlim_cur = want, .rlim_max = rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &nl) == 0)
			rl.rlim_cur = want;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n) {
		snprintf(err, errlen, "-c needs %" PRIu64 " descriptors but the "
			 "limit is %llu (raise it with ulimit -n, or lower -c)",
			 n, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

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

	switch (parse_args(argc, argv, &o, err, sizeof(err))) {
	case 1:
		usage(stdout);
		return EXIT_OK;
	case 0:
		break;
	default:
		fprintf(stderr, PROG ": %s\nTry '" PROG " --help'.\n", err);
		return EXIT_USAGE;
	}
	if (reserve_fds((o.conns < o.total ? o.conns : o.total) + FD_SPARE,
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
