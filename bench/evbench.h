/* evbench: a load generator for evd's protocols (echo, HTTP/1.1, RESP, ZMTP) that
 * reproduces the benchmarks of the source articles.
 *
 * The parts, one file each:
 *   opts.c    the command line (no I/O besides getaddrinfo on a numeric host)
 *   reqs.c    requests built and replies parsed: pure functions of bytes
 *   zmtp_client.c  the same for ZMTP (a DEALER or REQ peer's bytes)
 *   report.c  latency histograms, totals, and the table, JSON and CSV output
 *   engine.c  the threads: one epoll loop each over its connections
 *   slot.c    one connection's life: connect, write, read, fail (engine.h)
 *   protos.c  per protocol: a request's bytes, how replies are consumed
 *   evbench.c main: options, descriptors, the run, the report, the exit status
 */
#ifndef EVBENCH_H
#define EVBENCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "../common/hist.h"

#define PROG "evbench"

enum bench_exit {
	BEXIT_OK = 0,		/* every request completed and verified */
	BEXIT_ERRORS = 1,	/* some request failed (errors{} says how) */
	BEXIT_USAGE = 2,
	BEXIT_LIMIT = 3,	/* -T (or a signal) stopped the run */
};

enum bench_mode {
	MODE_CLOSED,		/* -c connections, each one round after another */
	MODE_OPEN,		/* --rate: requests at fixed intended times */
	MODE_CPR,		/* --conn-per-request (seed 004) */
	MODE_SEED001,		/* --workers/--actions/--messages (seed 001) */
	MODE_MAX
};
extern const char *const bench_mode_names[MODE_MAX];

enum bench_proto { BP_ECHO, BP_HTTP, BP_RESP, BP_ZMTP, BP_MAX };
extern const char *const bench_proto_names[BP_MAX];

/* How a request can fail; each request that does not complete verified
 * counts exactly once, under the first cause. */
enum err_kind {
	ERR_CONNECT,		/* its connection could not be established */
	ERR_RESET,		/* reset, or another socket error */
	ERR_TIMEOUT,		/* no reply within --timeout, or cut by -T */
	ERR_MISMATCH,		/* a reply that differs from the expected one */
	ERR_EOF,		/* the server closed before replying */
	ERR_STATUS,		/* HTTP: a complete reply with a non-2xx status */
	ERR_MAX
};
extern const char *const bench_err_keys[ERR_MAX];

enum bench_output { OUT_TABLE, OUT_JSON, OUT_CSV };

struct bench_opts {
	enum bench_mode mode;
	enum bench_proto proto;
	enum bench_output output;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char target[INET6_ADDRSTRLEN + 16];	/* "127.0.0.1:80", "[::1]:80" */

	uint64_t conns;		/* -c, or --workers in seed001 mode */
	uint64_t threads;	/* -t */
	uint64_t requests;	/* -n; 0 with -d (open loop: from rate) */
	double duration_s;	/* -d; 0 with -n */
	uint64_t pipeline;	/* --pipeline */
	double rate;		/* --rate, requests/s; 0 = closed loop */
	double limit_s;		/* -T */
	double timeout_s;	/* --timeout */

	uint64_t size;		/* echo, zmtp: --size */
	const char *path;	/* http: --path */
	const char *command;	/* resp: --command */
	const char *call;	/* zmtp: --call, NULL: echo of --size */
	bool zmtp_req;		/* zmtp: --socket req */

	uint64_t workers, actions, messages;	/* seed001 */
	bool connect_only;	/* seed001 with --messages 0: connect, close */
	bool progress;		/* stderr is a terminal */
};

/* ---- opts.c -------------------------------------------------------------- */

void opts_usage(FILE *out);
/* Returns 0, 1 when help is asked for, or -1 with a message in err. */
int opts_parse(int argc, char **argv, struct bench_opts *o, char *err,
	       size_t errlen);

/* ---- reqs.c: requests and replies, no I/O -------------------------------- */

/* What every request of a run looks like and how its reply is checked. */
struct reqspec {
	enum bench_proto proto;
	char *req;		/* http, resp: the request, the same each time */
	size_t req_len;
	char *expect;		/* resp: the exact reply; NULL = any non-error */
	size_t expect_len;
	uint64_t size;		/* echo: message size, '\n' included; zmtp:
				 * echo's argument */
	char *pattern;		/* echo: size - 1 + PATTERN_PERIOD letters */
	bool keyed;		/* zmtp: echo of letters that vary by key */
	bool delim;		/* zmtp: REQ's empty delimiter first */
};
#define PATTERN_PERIOD 26

/* Returns 0, or -1 with a message in err. */
int reqspec_init(struct reqspec *s, const struct bench_opts *o, char *err,
		 size_t errlen);
void reqspec_free(struct reqspec *s);

/* Echo message number key: size - 1 printable letters starting at the
 * key's place in the alphabet, then '\n'.  Consecutive keys differ, so a
 * lost, repeated or reordered message is seen. */
static inline const char *echo_letters(const struct reqspec *s, uint64_t key)
{
	return s->pattern + key % PATTERN_PERIOD;
}
void echo_fill(const struct reqspec *s, uint64_t key, char *dst);

/* An HTTP response head. */
struct http_head {
	unsigned status;
	int64_t content_length;	/* -1: none */
	bool close;		/* Connection: close */
};
#define HTTP_HEAD_MAX (64 * 1024)

/* Parses the head at p (status line, fields, blank line).  Returns its
 * length, 0 if it is not complete yet, -1 if it is malformed (or longer than
 * HTTP_HEAD_MAX, or framed in a way evbench does not follow: no
 * Content-Length, Transfer-Encoding, conflicting lengths). */
int64_t http_head_parse(const char *p, size_t n, struct http_head *h);

/* Length of the complete RESP2 value at p, 0 if more bytes are needed, -1
 * if it is malformed. */
int64_t resp_value_len(const char *p, size_t n);

/* ---- zmtp_client.c: ZMTP 3.1 as a DEALER or REQ peer, no I/O ------------- */

#define ZMTP_HELLO_MAX 128

/* The opening: evbench's greeting (3.1, NULL) and READY; returns its
 * length (at most ZMTP_HELLO_MAX). */
size_t zmtp_hello(bool req, char *dst);
/* Length of the server's greeting and READY at p when both are there, 0 if
 * more bytes are needed, -1 when they refuse (a bad greeting, another
 * mechanism, an ERROR command). */
int64_t zmtp_handshake_len(const char *p, size_t n);
/* Fills the ZMTP part of s from --call, --size and --socket; 0, or -1 with
 * a message in err. */
int zmtp_reqspec_init(struct reqspec *s, const struct bench_opts *o,
		      char *err, size_t errlen);
size_t zmtp_request_len(const struct reqspec *s);
void zmtp_request_fill(const struct reqspec *s, uint64_t key, char *dst);
/* Length of the whole message (or command: *command) at p, 0 if it is not
 * all there, -1 if it is malformed. */
int64_t zmtp_message_len(const char *p, size_t n, bool *command);
/* Whether the reply message p[0..n) is the one expected for key. */
bool zmtp_reply_ok(const struct reqspec *s, uint64_t key, const char *p,
		   size_t n);

/* ---- report.c ------------------------------------------------------------ */

/* Latencies in nanoseconds; sub_bits 7 (0.8 %), up to 2^40 ns (18 min). */
#define LAT_SUB_BITS 7
#define LAT_MAX_BITS 40
#define LAT_BUCKETS HIST_BUCKETS(LAT_SUB_BITS, LAT_MAX_BITS)
extern const struct hist_layout bench_lat_layout;

struct lat_hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t buckets[LAT_BUCKETS];
};

static inline void lat_record(struct lat_hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->buckets[hist_index(bench_lat_layout, ns)]++;
}

void lat_merge(struct lat_hist *dst, const struct lat_hist *src);

/* In microseconds; all 0 for an empty histogram. */
struct lat_summary {
	double p50, p90, p99, p999, max, mean;
};
void lat_summarize(const struct lat_hist *h, struct lat_summary *s);

struct bench_counts {
	uint64_t requests;		/* completed and verified */
	uint64_t errors[ERR_MAX];
	uint64_t bytes_sent, bytes_received;
	uint64_t connects;		/* connections established */
	uint64_t retried;		/* http: sent again after a reply
					 * with Connection: close */
	uint64_t exchange_ns;		/* seed001: each connection's exchanges */
	uint64_t exchange_blocks;	/* ... and how many connections */
};

struct bench_result {
	struct bench_counts c;
	struct lat_hist lat;		/* every complete reply */
	struct lat_hist connect;	/* every established connection */
	double elapsed_s;
	bool limit_hit;			/* stopped by -T or a signal */
};

void result_merge(struct bench_result *dst, const struct bench_result *src);
uint64_t result_errors(const struct bench_result *r);
int result_exit_status(const struct bench_result *r);

void report_table(FILE *out, const struct bench_opts *o,
		  const struct bench_result *r);
void report_json(FILE *out, const struct bench_opts *o,
		 const struct bench_result *r);
void report_csv(FILE *out, const struct bench_opts *o,
		const struct bench_result *r);

/* ---- engine.c ------------------------------------------------------------ */

/* Runs the benchmark; fills r.  Returns 0, or -1 with a message in err if
 * it could not start (no thread, no epoll). */
int engine_run(const struct bench_opts *o, const struct reqspec *spec,
	       struct bench_result *r, char *err, size_t errlen);
/* Asks a running engine_run() to stop as at -T (async-signal-safe). */
void engine_stop(void);

#endif
