/* zmqref: the libzmq reference servers of seed 000's benchmark, serving the
 * same RPC as evd's protocol = zmtp (ping, echo; the same OK and ERR reply
 * frames), so that one client (evbench --proto zmtp) measures both.  The
 * seed's three raw variants:
 *
 *   single    one thread: a ROUTER, blocking zmq_msg_recv(), reply, again
 *   poll      one thread: zmq_poll() on the ROUTER, then every message that
 *             is there (ZMQ_DONTWAIT) answered before polling again
 *   workers   a ROUTER (tcp) and a DEALER (inproc) joined by zmq_proxy();
 *             W worker threads, each a DEALER on the inproc endpoint, answer
 *
 *   zmqref MODE [-w WORKERS] [-i IO_THREADS] ENDPOINT
 *
 * ENDPOINT is where to bind (tcp://127.0.0.1:5555, or tcp://127.0.0.1:* for
 * any port); the bound endpoint is printed on stdout, then it serves until
 * SIGTERM or SIGINT (their default action).  Not part of evd: built by
 * `make bench-zmq` for bench/compare. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define PROG "zmqref"
#define FRAMES_MAX 64	/* frames of one request, routing id included */
#define WORKERS_MAX 256
#define BACKEND "inproc://zmqref-workers"

/* A request as it came: the peer's routing id, then its frames. */
struct request {
	zmq_msg_t f[FRAMES_MAX];
	int n;
	bool overflow;	/* more frames came: dropped, the request refused */
};

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, what, zmq_strerror(errno));
	exit(1);
}

/* Receives one whole message; 0, or -1 (errno) when none is there (with
 * ZMQ_DONTWAIT) or on error.  Frames beyond FRAMES_MAX are dropped and the
 * request marked overflow. */
static int recv_request(void *s, struct request *r, int flags)
{
	int more = 1;
	size_t sz = sizeof(more);
	zmq_msg_t extra;

	r->n = 0;
	r->overflow = false;
	while (more) {
		zmq_msg_t *m = r->n < FRAMES_MAX ? &r->f[r->n] : &extra;
		zmq_msg_init(m);
		if (zmq_msg_recv(m, s, r->n ? 0 : flags) < 0) {
			zmq_msg_close(m);
			for (int i = 0; i < r->n; i++)
				zmq_msg_close(&r->f[i]);
			return -1;
		}
		if (m == &extra) {
			zmq_msg_close(m);
			r->overflow = true;
		} else {
			r->n++;
		}
		zmq_getsockopt(s, ZMQ_RCVMORE, &more, &sz);
	}
	return 0;
}

static bool frame_is(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);

	return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

static int send_str(void *s, const char *str, bool more)
{
	return zmq_send(s, str, strlen(str), more ? ZMQ_SNDMORE : 0);
}

/* Answers r as evd does (ping, echo; ERR for the rest), sending its frames
 * on s (the received ones moved, not copied); frees r's frames. */
static void answer(void *s, struct request *r)
{
	int first = 1;	/* after the routing id */
	int ok_len;

	if (r->n > 1 && zmq_msg_size(&r->f[1]) == 0)
		first = 2;	/* REQ's delimiter comes back */
	for (int i = 0; i < first && i < r->n; i++)
		zmq_msg_send(&r->f[i], s, ZMQ_SNDMORE);
	if (first >= r->n || r->overflow) {
		send_str(s, "ERR", true);
		send_str(s, "no-method", true);
		send_str(s, "a request is [method, argument...] (at most 62 "
			 "arguments here)", false);
	} else if (frame_is(&r->f[first], "echo")) {
		ok_len = r->n - first - 1;
		send_str(s, "OK", ok_len > 0);
		for (int i = first + 1; i < r->n; i++)
			zmq_msg_send(&r->f[i], s, i + 1 < r->n ? ZMQ_SNDMORE : 0);
	} else if (frame_is(&r->f[first], "ping") && r->n == first + 1) {
		send_str(s, "OK", false);
	} else {
		send_str(s, "ERR", true);
		send_str(s, "unknown-method", true);
		send_str(s, "zmqref serves ping and echo", false);
	}
	for (int i = 0; i < r->n; i++)
		zmq_msg_close(&r->f[i]);
}

/* ---- the three servers ------------------------------------------------------ */

static void serve_single(void *router)
{
	struct request r;

	for (;;) {
		if (recv_request(router, &r, 0) < 0) {
			if (errno == EINTR)
				continue;
			die("zmq_msg_recv");
		}
		answer(router, &r);
	}
}

static void serve_poll(void *router)
{
	zmq_pollitem_t item = { .socket = router, .events = ZMQ_POLLIN };
	struct request r;

	for (;;) {
		if (zmq_poll(&item, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("zmq_poll");
		}
		while (recv_request(router, &r, ZMQ_DONTWAIT) == 0)
			answer(router, &r);
		if (errno != EAGAIN && errno != EINTR)
			die("zmq_msg_recv");
	}
}

static void *worker(void *ctx)
{
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	struct request r;

	if (!s || zmq_connect(s, BACKEND) < 0)
		die("worker socket");
	for (;;) {
		if (recv_request(s, &r, 0) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ETERM)
				break;
			die("zmq_msg_recv");
		}
		answer(s, &r);
	}
	zmq_close(s);
	return NULL;
}

static void serve_workers(void *ctx, void *router, int n)
{
	void *backend = zmq_socket(ctx, ZMQ_DEALER);
	pthread_t th;

	if (!backend || zmq_bind(backend, BACKEND) < 0)
		die("backend socket");
	for (int i = 0; i < n; i++)
		if (pthread_create(&th, NULL, worker, ctx) != 0) {
			fprintf(stderr, "%s: cannot start worker %d\n", PROG, i);
			exit(1);
		}
	zmq_proxy(router, backend, NULL);
	die("zmq_proxy");
}

static void usage(FILE *out)
{
	fprintf(out, "usage: %s single|poll|workers [-w WORKERS] [-i IO_THREADS] "
		"ENDPOINT\n", PROG);
}

int main(int argc, char **argv)
{
	int workers = 4, io = 1, opt, linger = 0;
	char bound[256];
	size_t blen = sizeof(bound);

	while ((opt = getopt(argc, argv, "w:i:h")) != -1) {
		switch (opt) {
		case 'w': workers = atoi(optarg); break;
		case 'i': io = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind != 2 || workers < 1 || workers > WORKERS_MAX ||
	    io < 1 || io > 16 ||
	    (strcmp(argv[optind], "single") && strcmp(argv[optind], "poll") &&
	     strcmp(argv[optind], "workers"))) {
		usage(stderr);
		return 2;
	}
	void *ctx = zmq_ctx_new();
	if (!ctx || zmq_ctx_set(ctx, ZMQ_IO_THREADS, io) < 0)
		die("zmq_ctx_new");
	void *router = zmq_socket(ctx, ZMQ_ROUTER);
	if (!router)
		die("zmq_socket");
	zmq_setsockopt(router, ZMQ_LINGER, &linger, sizeof(linger));
	if (zmq_bind(router, argv[optind + 1]) < 0)
		die(argv[optind + 1]);
	zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, bound, &blen);
	printf("%s\n", bound);
	fflush(stdout);
	if (strcmp(argv[optind], "single") == 0)
		serve_single(router);
	else if (strcmp(argv[optind], "poll") == 0)
		serve_poll(router);
	else
		serve_workers(ctx, router, workers);
	return 1;
}
