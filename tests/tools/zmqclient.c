/* zmqclient: a test client linked with libzmq, for protocol = zmtp.
 *
 *   zmqclient [-t TYPE] [-T MS] [-n N] ENDPOINT FRAME... [-- FRAME...]...
 *       Connects a TYPE socket (dealer, req, or router addressing the peer
 *       as "evd" through ZMQ_CONNECT_ROUTING_ID) and calls: each group of
 *       frames is one request, sent after the reply to the one before.
 *       Prints one line per reply: its frames as [bytes], C escapes for
 *       anything but printable ASCII.  With -n N the whole list runs N
 *       times; every round's replies must equal the first's, and only the
 *       first round is printed, then "N rounds".
 *   zmqclient -w [-t TYPE] [-P USER:PASS] [-T MS] ENDPOINT
 *       Watches a TYPE socket (any type, PLAIN as a client with -P) connect
 *       and prints its monitor events, one per line, until DISCONNECTED or
 *       -T ms (default 2000): what libzmq makes of evd's answer.  The
 *       socket never reconnects: one connection.
 *
 * Exit status: 0 done (for -w: DISCONNECTED seen), 1 a reply missing after
 * -T ms (default 5000) or a round that differs (-w: no DISCONNECTED), 2
 * usage. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

/* Under make test-tsan this tool is built with ThreadSanitizer but libzmq
 * is not: libzmq's I/O thread hands messages to the caller's thread with
 * atomics TSan cannot see, so every frame read here looked like a race.
 * What libzmq's own calls do is not watched (TSan reads this function when
 * it is present; other builds never call it). */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:libzmq.so\n";
}

#define PROG "zmqclient"
#define REPLY_MAX 65536	/* bytes of one printed reply line */

static const struct {
	const char *name;
	int type;
} types[] = {
	{ "dealer", ZMQ_DEALER }, { "req", ZMQ_REQ }, { "router", ZMQ_ROUTER },
	{ "rep", ZMQ_REP }, { "pub", ZMQ_PUB }, { "sub", ZMQ_SUB },
	{ "xpub", ZMQ_XPUB }, { "xsub", ZMQ_XSUB }, { "push", ZMQ_PUSH },
	{ "pull", ZMQ_PULL }, { "pair", ZMQ_PAIR },
};

static const struct {
	int event;
	const char *name;
} events[] = {
	{ ZMQ_EVENT_CONNECTED, "CONNECTED" },
	{ ZMQ_EVENT_CONNECT_DELAYED, "CONNECT_DELAYED" },
	{ ZMQ_EVENT_CONNECT_RETRIED, "CONNECT_RETRIED" },
	{ ZMQ_EVENT_CLOSED, "CLOSED" },
	{ ZMQ_EVENT_DISCONNECTED, "DISCONNECTED" },
	{ ZMQ_EVENT_HANDSHAKE_SUCCEEDED, "HANDSHAKE_SUCCEEDED" },
	{ ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, "HANDSHAKE_FAILED_NO_DETAIL" },
	{ ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, "HANDSHAKE_FAILED_PROTOCOL" },
	{ ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, "HANDSHAKE_FAILED_AUTH" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: %s [-t TYPE] [-T MS] [-n N] ENDPOINT FRAME... [-- FRAME...]...\n"
		"       %s -w [-t TYPE] [-P USER:PASS] [-T MS] ENDPOINT\n"
		"TYPE: dealer (default), req, router; -w also rep, pub, sub, xpub,\n"
		"xsub, push, pull, pair\n", PROG, PROG);
}

static int type_of(const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(types[i].name, name) == 0)
			return types[i].type;
	return -1;
}

/* Appends the frame as [escaped bytes] to line (at *len, bounded). */
static void show_frame(char *line, size_t *len, const unsigned char *p,
		       size_t n)
{
	size_t l = *len;

	l += (size_t)snprintf(line + l, REPLY_MAX - l, "%s[", l ? " " : "");
	for (size_t i = 0; i < n && l + 8 < REPLY_MAX; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\')
			line[l++] = (char)p[i];
		else
			l += (size_t)snprintf(line + l, REPLY_MAX - l, "\\x%02x",
					      p[i]);
	}
	if (l + 2 < REPLY_MAX)
		line[l++] = ']';
	line[l] = '\0';
	*len = l;
}

/* A router addresses "evd" first: until the handshake is done libzmq
 * does not know that peer (EHOSTUNREACH, with ROUTER_MANDATORY); retries
 * every millisecond for at most ms. */
static int send_address(void *s, int ms)
{
	struct timespec one = { 0, 1000000 };

	for (int waited = 0;; waited++) {
		if (zmq_send(s, "evd", 3, ZMQ_SNDMORE) == 3)
			return 0;
		if (errno != EHOSTUNREACH || waited >= ms)
			return -1;
		nanosleep(&one, NULL);
	}
}

/* Sends frames [0, n) (a router first addresses "evd"); 0 or -1. */
static int send_request(void *s, int type, char **frames, int n, int ms)
{
	if (type == ZMQ_ROUTER && send_address(s, ms) < 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (zmq_send(s, frames[i], strlen(frames[i]),
			     i + 1 < n ? ZMQ_SNDMORE : 0) < 0)
			return -1;
	return 0;
}

/* Receives one whole reply into line; 0, or -1 on timeout or error. */
static int recv_reply(void *s, int type, char *line)
{
	size_t len = 0;
	int more = 1, first = 1;

	line[0] = '\0';
	while (more) {
		zmq_msg_t m;
		size_t sz = sizeof(more);
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, s, 0) < 0) {
			zmq_msg_close(&m);
			return -1;
		}
		if (!(type == ZMQ_ROUTER && first))	/* the peer's id */
			show_frame(line, &len, zmq_msg_data(&m),
				   zmq_msg_size(&m));
		first = 0;
		zmq_msg_close(&m);
		zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
	}
	return 0;
}

/* The requests: argv split at "--". */
struct calls {
	char **start[256];
	int count[256];
	int n;
};

static int split_calls(char **argv, int argc, struct calls *c)
{
	c->n = 0;
	for (int i = 0; i < argc;) {
		int j = i;
		while (j < argc && strcmp(argv[j], "--") != 0)
			j++;
		if (j == i || c->n == 256)
			return -1;
		c->start[c->n] = argv + i;
		c->count[c->n++] = j - i;
		i = j + 1;
	}
	return c->n ? 0 : -1;
}

static int run_calls(void *s, int type, const struct calls *c, long rounds,
		     int ms)
{
	char (*first)[REPLY_MAX] = calloc((size_t)c->n, REPLY_MAX);
	char *line = malloc(REPLY_MAX);
	int rc = 0;

	if (!first || !line) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		rc = 1;
		goto out;
	}
	for (long r = 0; r < rounds && rc == 0; r++) {
		for (int k = 0; k < c->n; k++) {
			if (send_request(s, type, c->start[k], c->count[k], ms) < 0 ||
			    recv_reply(s, type, line) < 0) {
				fprintf(stderr, "%s: round %ld, request %d: %s\n",
					PROG, r + 1, k + 1, zmq_strerror(errno));
				rc = 1;
				break;
			}
			if (r == 0) {
				strcpy(first[k], line);
				printf("%s\n", line);
			} else if (strcmp(first[k], line) != 0) {
				fprintf(stderr, "%s: round %ld, request %d: "
					"%s differs from %s\n", PROG, r + 1,
					k + 1, line, first[k]);
				rc = 1;
				break;
			}
		}
	}
	if (rc == 0 && rounds > 1)
		printf("%ld rounds\n", rounds);
out:
	free(first);
	free(line);
	return rc;
}

static const char *event_name(int ev)
{
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (events[i].event == ev)
			return events[i].name;
	return NULL;
}

/* Prints the monitor's events until DISCONNECTED (0) or the timeout (1). */
static int watch(void *ctx, void *s, const char *endpoint, int ms)
{
	void *mon = zmq_socket(ctx, ZMQ_PAIR);
	int rc = 1;

	if (zmq_socket_monitor(s, "inproc://zmqclient-monitor",
			       ZMQ_EVENT_ALL) < 0 || !mon ||
	    zmq_connect(mon, "inproc://zmqclient-monitor") < 0 ||
	    zmq_setsockopt(mon, ZMQ_RCVTIMEO, &ms, sizeof(ms)) < 0 ||
	    zmq_connect(s, endpoint) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, zmq_strerror(errno));
		goto out;
	}
	for (;;) {
		unsigned char head[6];
		char addr[256];
		if (zmq_recv(mon, head, sizeof(head), 0) < 0)
			break;	/* the timeout */
		zmq_recv(mon, addr, sizeof(addr), 0);
		int ev = head[0] | head[1] << 8;
		const char *name = event_name(ev);
		if (name)
			printf("%s\n", name);
		if (ev == ZMQ_EVENT_DISCONNECTED) {
			rc = 0;
			break;
		}
	}
out:
	zmq_socket_monitor(s, NULL, 0);
	if (mon)
		zmq_close(mon);
	return rc;
}

int main(int argc, char **argv)
{
	const char *tname = "dealer", *plain = NULL;
	int ms = -1, opt, type, rc = 2, linger = 0;
	long rounds = 1;
	bool watching = false;
	struct calls calls;
	void *ctx = NULL, *s = NULL;

	while ((opt = getopt(argc, argv, "+t:T:n:wP:h")) != -1) {
		switch (opt) {
		case 't': tname = optarg; break;
		case 'T': ms = atoi(optarg); break;
		case 'n': rounds = atol(optarg); break;
		case 'w': watching = true; break;
		case 'P': plain = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	type = type_of(tname);
	if (ms < 0)
		ms = watching ? 2000 : 5000;
	if (type < 0 || rounds < 1 || optind >= argc ||
	    (!watching && (split_calls(argv + optind + 1, argc - optind - 1,
				       &calls) < 0 ||
			   (type != ZMQ_DEALER && type != ZMQ_REQ &&
			    type != ZMQ_ROUTER)))) {
		usage(stderr);
		return 2;
	}
	ctx = zmq_ctx_new();
	s = ctx ? zmq_socket(ctx, type) : NULL;
	if (!s) {
		fprintf(stderr, "%s: %s\n", PROG, zmq_strerror(errno));
		goto out;
	}
	zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &ms, sizeof(ms));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &ms, sizeof(ms));
	if (plain) {
		const char *colon = strchr(plain, ':');
		char user[128];
		snprintf(user, sizeof(user), "%.*s",
			 colon ? (int)(colon - plain) : (int)strlen(plain), plain);
		zmq_setsockopt(s, ZMQ_PLAIN_USERNAME, user, strlen(user));
		zmq_setsockopt(s, ZMQ_PLAIN_PASSWORD, colon ? colon + 1 : "",
			       colon ? strlen(colon + 1) : 0);
	}
	if (watching) {
		int never = -1;
		zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &never, sizeof(never));
		rc = watch(ctx, s, argv[optind], ms);
		goto out;
	}
	if (type == ZMQ_ROUTER) {
		int one = 1;
		zmq_setsockopt(s, ZMQ_CONNECT_ROUTING_ID, "evd", 3);
		zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof(one));
	}
	if (zmq_connect(s, argv[optind]) < 0) {
		fprintf(stderr, "%s: %s: %s\n", PROG, argv[optind],
			zmq_strerror(errno));
		rc = 1;
		goto out;
	}
	rc = run_calls(s, type, &calls, rounds, ms);
out:
	if (s)
		zmq_close(s);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}
