/* evbench's command line: parsing and checks, messages into a buffer; the
 * only system call is getaddrinfo() on a numeric host (no DNS). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/num.h"
#include "evbench.h"

#define CONNS_MAX 1000000ull
#define THREADS_MAX 1024ull
#define COUNT_MAX 1000000000000ull
#define PIPELINE_MAX 1024ull
#define SIZE_MAX_BYTES (64ull * 1024 * 1024)
#define SECONDS_MAX 1e6
#define RATE_MAX 1e9
#define TEXT_MAX 4096		/* --path, --command */

const char *const bench_mode_names[MODE_MAX] = {
	[MODE_CLOSED] = "closed",
	[MODE_OPEN] = "open",
	[MODE_CPR] = "conn-per-request",
	[MODE_SEED001] = "seed001",
};

const char *const bench_proto_names[BP_MAX] = {
	[BP_ECHO] = "echo",
	[BP_HTTP] = "http",
	[BP_RESP] = "resp",
	[BP_ZMTP] = "zmtp",
};

/* The text of -h (one literal: the table of options reads as it prints). */
static const char usage_text[] =
"usage: evbench [options] HOST:PORT\n"
"\n"
"A load generator for evd's protocols. HOST is a numeric IPv4 address or\n"
"[IPv6] (no DNS). Every reply is verified; failures are counted by kind.\n"
"\n"
"Protocol:\n"
"  --proto echo|http|resp|zmtp  (default echo)\n"
"  --size BYTES            echo: message size, the final '\\n' included; k/m\n"
"                          suffix (default 100). Printable letters that shift\n"
"                          from one message to the next; the echo must be the\n"
"                          same bytes. zmtp: the argument of echo, the same\n"
"                          letters; the reply must be [OK, the argument]\n"
"  --path PATH             http: GET PATH HTTP/1.1 with Host, keep-alive\n"
"                          (default /). A reply needs a 'HTTP/1.x' status line\n"
"                          and Content-Length; non-2xx counts as a status error\n"
"  --command \"CMD ARGS\"    resp: sent as a multibulk array, words split on\n"
"                          spaces (default PING). Expected: PING -> +PONG,\n"
"                          PING x / ECHO x -> bulk x, DELAY n -> +OK; any\n"
"                          other command: any reply that is not an error\n"
"  --call \"METHOD ARGS\"    zmtp: this request every time instead of echo of\n"
"                          --size bytes, one frame per word. Expected: ping,\n"
"                          delay n -> [OK]; echo ARGS -> [OK, ARGS]; another\n"
"                          method: a reply whose first frame is OK\n"
"  --socket dealer|req     zmtp: the socket type evbench announces (default\n"
"                          dealer); req sends an empty delimiter first and\n"
"                          expects it back. Every connection first exchanges\n"
"                          ZMTP 3.1 greetings and READY (NULL); a refused\n"
"                          handshake counts as a connect error\n"
"\n"
"Load (one mode):\n"
"  closed loop (default)   each connection sends a round of --pipeline requests\n"
"                          in one write, waits for all their replies, repeats\n"
"  -c, --connections N     connections (default 10)\n"
"  -t, --threads N         threads, each one epoll loop over its share of the\n"
"                          connections (default 1; at most -c)\n"
"  -n, --requests N        requests in total (default 10000), or\n"
"  -d, --duration SECS     send for this long (s or ms suffix allowed), then\n"
"                          wait for the replies in flight\n"
"  --pipeline DEPTH        requests in flight per connection (default 1)\n"
"  --rate R                open loop, with -d: R requests/s over all\n"
"                          connections, each connection at fixed intervals\n"
"                          (c/R s apart, staggered), from when the thread's\n"
"                          connections are open. A request's latency runs\n"
"                          from its INTENDED send time (coordinated omission\n"
"                          corrected, as wrk2): a request that waits for its\n"
"                          connection (at most --pipeline in flight) is late,\n"
"                          and its lateness counts. Every request due within\n"
"                          -d is sent; the run ends when they are answered\n"
"  --conn-per-request      seed 004: each request on a new connection: connect,\n"
"                          send, read the whole reply, close; -c in flight;\n"
"                          reports connections/s and connect latency\n"
"  --workers W             seed 001's client: W workers (default 150), each\n"
"  --actions A             making A connections one after another (default 100),\n"
"  --messages M            each with M request/reply exchanges (default 50).\n"
"                          Reports the mean connect time and the mean time of\n"
"                          a connection's M exchanges (the seed's send/recv\n"
"                          column), in ms. Any of the three selects the mode.\n"
"                          --messages 0: connect and close, nothing sent (the\n"
"                          seed's client loop, range(50, 1), ran no exchange):\n"
"                          the unit is the connection, not the request (see\n"
"                          Counting); zmtp still exchanges its greeting, part\n"
"                          of connecting. No --pipeline, --size, --path,\n"
"                          --command or --call with it: nothing is sent\n"
"\n"
"Limits:\n"
"  -T, --limit SECS        hard limit for the whole run (default 60, or\n"
"                          -d + --timeout + 5 when that is longer): the run\n"
"                          stops; what is left counts as timeouts; exit 3\n"
"  --timeout SECS          a request with no reply this long after it was sent\n"
"                          (or a connect not done this long) fails, and its\n"
"                          connection is closed and opened again (default 10)\n"
"\n"
"Output (stdout):\n"
"  (default)               a table for people\n"
"  --json                  one JSON object: mode, proto, target, connections,\n"
"                          threads, pipeline, rate, duration_s, requests,\n"
"                          bytes_sent, bytes_received, errors{connect, reset,\n"
"                          timeout, mismatch, eof, status}, throughput_rps,\n"
"                          latency_us{p50, p90, p99, p999, max, mean}, connects,\n"
"                          retried, limit_hit; conn-per-request adds\n"
"                          connect_us{...} and connections_per_s; seed001\n"
"                          adds workers, actions, messages, connect_us{...},\n"
"                          connect_ms_mean, exchange_ms_mean and\n"
"                          connections_per_s. Every object has \"unit\":\n"
"                          \"requests\", or \"connections\" with --messages 0\n"
"                          (then requests and throughput_rps are 0, and\n"
"                          connections_per_s is the rate)\n"
"  --csv                   a header line and one row: the same fields\n"
"                          flattened (errors_connect, latency_us_p50, ...);\n"
"                          every column in every mode, empty where it does not\n"
"                          apply, so rows of several runs line up\n"
"  A progress line goes to stderr once a second when stderr is a terminal.\n"
"\n"
"Counting: requests = replies received complete and verified; each other\n"
"request counts once under one error kind: connect (its connection failed),\n"
"reset (socket error), timeout (--timeout, or left at -T), mismatch (wrong\n"
"bytes), eof (the server closed with the request unanswered), status (HTTP\n"
"non-2xx). With -n, requests + errors = N (a connection that finds nothing\n"
"left to claim is not opened: connects says how many were). An HTTP reply\n"
"with Connection: close is a success: evbench opens a new connection and\n"
"sends the requests pipelined behind it again, with their first send time\n"
"(retried counts them; a draining server ends connections this way).\n"
"Latency percentiles come from a log-linear histogram (0.8 % error) of every\n"
"complete reply, per thread, merged at the end; max and mean are exact.\n"
"duration_s runs from the start to the last reply.\n"
"With --messages 0 the connection is the unit: connects + errors = W x A,\n"
"each failed connection counting once (connect, or timeout at -T); requests\n"
"is 0, and the seed's send/recv mean is the time of close(2) alone.\n"
"\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 every request completed and verified; 1 some failed; 2 usage\n"
"error; 3 the hard limit (-T) or a signal stopped the run.\n"
"\n"
"Examples:\n"
"  evbench -c 50 -n 100000 127.0.0.1:7777\n"
"  evbench --proto http -c 100 -d 10 --pipeline 24 127.0.0.1:8080\n"
"  evbench --proto http --path /delay/50 --rate 1000 -c 200 -d 10 127.0.0.1:8080\n"
"  evbench --conn-per-request -c 20 -n 50000 127.0.0.1:7777\n"
"  evbench --proto zmtp --size 200 -c 10 -n 100000 127.0.0.1:5555\n"
"  evbench --workers 100 --actions 100 --messages 50 127.0.0.1:7777\n"
"  evbench --workers 100 --actions 100 --messages 0 127.0.0.1:7777\n";

void opts_usage(FILE *out)
{
	fputs(usage_text, out);
}

/* ---- values -------------------------------------------------------------- */

/* The numbers themselves are common/num.c's; these word the messages. */

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

/* A byte count with an optional k or m suffix (1024-based). */
static int parse_size(const char *opt, const char *s, uint64_t min,
		      uint64_t max, uint64_t *out, char *err, size_t errlen)
{
	if (num_size(s, min, max, out) < 0) {
		snprintf(err, errlen, "%s: \"%s\" is not a size from %" PRIu64
			 " to %" PRIu64 " bytes (k and m suffixes allowed)", opt,
			 s, min, max);
		return -1;
	}
	return 0;
}

/* A positive decimal number, with an optional unit suffix when secs: "s" or
 * "ms". */
static int parse_number(const char *opt, const char *s, bool secs, double max,
			double *out, char *err, size_t errlen)
{
	int rc = secs ? num_seconds(s, max, out) : num_decimal(s, max, out);

	if (rc < 0) {
		snprintf(err, errlen, "%s: \"%s\" is not a number %sabove 0 and "
			 "up to %.0f", opt, s, secs ? "of seconds " : "", max);
		return -1;
	}
	return 0;
}

/* "127.0.0.1:80" or "[::1]:80": a numeric address and a port. */
static int parse_target(const char *arg, struct bench_opts *o, char *err,
			size_t errlen)
{
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	struct addrinfo *ai = NULL;
	char host[INET6_ADDRSTRLEN];
	const char *colon = strrchr(arg, ':'), *h = arg;
	size_t hlen;
	uint64_t port;
	bool v6 = false;

	if (!colon)
		goto bad;
	hlen = (size_t)(colon - arg);
	if (hlen >= 2 && arg[0] == '[' && arg[hlen - 1] == ']') {
		h++;
		hlen -= 2;
		v6 = true;
	}
	if (hlen == 0 || hlen >= sizeof(host) || (!v6 && memchr(h, ':', hlen)))
		goto bad;
	if (parse_count("port", colon + 1, 1, 65535, &port, err, errlen) < 0)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai ||
	    ai->ai_addrlen > sizeof(o->addr) ||
	    (ai->ai_family == AF_INET6) != v6) {
		if (ai)
			freeaddrinfo(ai);
		goto bad;
	}
	memcpy(&o->addr, ai->ai_addr, ai->ai_addrlen);
	o->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	snprintf(o->target, sizeof(o->target), v6 ? "[%s]:%" PRIu64 :
		 "%s:%" PRIu64, host, port);
	return 0;
bad:
	snprintf(err, errlen, "\"%s\" is not HOST:PORT with a numeric IPv4 "
		 "address or [IPv6] address and a port from 1 to 65535 "
		 "(e.g. 127.0.0.1:7777, [::1]:7777)", arg);
	return -1;
}

/* Printable ASCII from 0x21 (or a space when spaces) to 0x7e. */
static bool printable(const char *s, bool spaces)
{
	for (; *s; s++)
		if (!((*s > ' ' && *s < 0x7f) || (spaces && *s == ' ')))
			return false;
	return true;
}

/* ---- the command line ---------------------------------------------------- */

enum {
	OPT_PROTO = 0x100, OPT_SIZE, OPT_PATH, OPT_COMMAND, OPT_PIPELINE,
	OPT_RATE, OPT_CPR, OPT_WORKERS, OPT_ACTIONS, OPT_MESSAGES,
	OPT_TIMEOUT, OPT_JSON, OPT_CSV, OPT_CALL, OPT_SOCKET,
};

static const struct option long_opts[] = {
	{ "proto", required_argument, NULL, OPT_PROTO },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "command", required_argument, NULL, OPT_COMMAND },
	{ "call", required_argument, NULL, OPT_CALL },
	{ "socket", required_argument, NULL, OPT_SOCKET },
	{ "connections", required_argument, NULL, 'c' },
	{ "threads", required_argument, NULL, 't' },
	{ "requests", required_argument, NULL, 'n' },
	{ "duration", required_argument, NULL, 'd' },
	{ "pipeline", required_argument, NULL, OPT_PIPELINE },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "conn-per-request", no_argument, NULL, OPT_CPR },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "actions", required_argument, NULL, OPT_ACTIONS },
	{ "messages", required_argument, NULL, OPT_MESSAGES },
	{ "limit", required_argument, NULL, 'T' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Which options were given: the checks across options need to know. */
struct given {
	bool c, n, d, pipeline, rate, cpr, seed, limit, size, path, command;
	bool json, csv, call, socket;
	bool unused;	/* for the options nothing checks */
};

/* The options that take a number, one row each: which parser, into which
 * field of struct bench_opts (uint64_t for counts and sizes, double for the
 * others), within what, and which struct given flag it sets. */
enum num_kind { NK_COUNT, NK_SIZE, NK_DECIMAL, NK_SECONDS };

struct num_opt {
	int ch;
	const char *name;
	enum num_kind kind;
	size_t field;
	uint64_t min, max;	/* counts and sizes; decimals: (0, max] */
	size_t given;
};

#define FIELD(f) offsetof(struct bench_opts, f)
#define GIVEN(f) offsetof(struct given, f)

static const struct num_opt num_opts[] = {
	{ OPT_SIZE, "--size", NK_SIZE, FIELD(size), 1, SIZE_MAX_BYTES,
	  GIVEN(size) },
	{ 'c', "-c", NK_COUNT, FIELD(conns), 1, CONNS_MAX, GIVEN(c) },
	{ 't', "-t", NK_COUNT, FIELD(threads), 1, THREADS_MAX, GIVEN(unused) },
	{ 'n', "-n", NK_COUNT, FIELD(requests), 1, COUNT_MAX, GIVEN(n) },
	{ 'd', "-d", NK_SECONDS, FIELD(duration_s), 0, SECONDS_MAX, GIVEN(d) },
	{ OPT_PIPELINE, "--pipeline", NK_COUNT, FIELD(pipeline), 1, PIPELINE_MAX,
	  GIVEN(pipeline) },
	{ OPT_RATE, "--rate", NK_DECIMAL, FIELD(rate), 0, RATE_MAX,
	  GIVEN(rate) },
	{ OPT_WORKERS, "--workers", NK_COUNT, FIELD(workers), 1, CONNS_MAX,
	  GIVEN(seed) },
	{ OPT_ACTIONS, "--actions", NK_COUNT, FIELD(actions), 1, COUNT_MAX,
	  GIVEN(seed) },
	{ OPT_MESSAGES, "--messages", NK_COUNT, FIELD(messages), 0, COUNT_MAX,
	  GIVEN(seed) },
	{ 'T', "-T", NK_SECONDS, FIELD(limit_s), 0, SECONDS_MAX, GIVEN(limit) },
	{ OPT_TIMEOUT, "--timeout", NK_SECONDS, FIELD(timeout_s), 0,
	  SECONDS_MAX, GIVEN(unused) },
};

static int parse_proto(const char *s, struct bench_opts *o, char *err,
		       size_t errlen)
{
	for (unsigned i = 0; i < BP_MAX; i++)
		if (strcmp(s, bench_proto_names[i]) == 0) {
			o->proto = (enum bench_proto)i;
			return 0;
		}
	snprintf(err, errlen, "--proto: \"%s\" is not one of: echo, http, "
		 "resp, zmtp", s);
	return -1;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

/* The options of one protocol given with another. */
static int check_proto_opts(const struct bench_opts *o, const struct given *g,
			    char *err, size_t errlen)
{
	if (g->size && o->proto != BP_ECHO && o->proto != BP_ZMTP)
		return fail(err, errlen, "--size is for --proto echo or zmtp");
	if ((g->call || g->socket) && o->proto != BP_ZMTP)
		return fail(err, errlen, "--call and --socket are for --proto "
			    "zmtp");
	if (g->call && g->size)
		return fail(err, errlen, "--call and --size: choose one (--size "
			    "is echo's argument)");
	if (g->path && o->proto != BP_HTTP)
		return fail(err, errlen, "--path is for --proto http");
	if (g->command && o->proto != BP_RESP)
		return fail(err, errlen, "--command is for --proto resp");
	return 0;
}

/* seed001 mode: its counts, and --messages 0 (connect and close) refusing
 * the options that shape a request it never sends. */
static int check_seed001(struct bench_opts *o, const struct given *g,
			 char *err, size_t errlen)
{
	if (o->messages == 0) {
		if (g->pipeline)
			return fail(err, errlen, "--messages 0 connects and "
				    "closes without sending: no --pipeline");
		if (g->size || g->path || g->command || g->call)
			return fail(err, errlen, "--messages 0 connects and "
				    "closes without sending: no --size, --path, "
				    "--command or --call (they shape a request)");
	} else if (g->pipeline && o->pipeline > 1) {
		return fail(err, errlen, "seed001 mode exchanges one request "
			    "at a time: no --pipeline");
	}
	o->mode = MODE_SEED001;
	o->connect_only = o->messages == 0;
	o->conns = o->workers;
	if (o->actions > COUNT_MAX / o->workers)
		return fail(err, errlen, "--workers x --actions is too large");
	o->requests = o->workers * o->actions * o->messages;
	if ((o->messages && o->requests / o->workers / o->actions !=
			    o->messages) || o->requests > COUNT_MAX)
		return fail(err, errlen, "--workers x --actions x --messages "
			    "is too large");
	return 0;
}

/* Picks the mode and checks what only the whole command line can tell. */
static int check_opts(struct bench_opts *o, const struct given *g, char *err,
		      size_t errlen)
{
	if (g->json && g->csv)
		return fail(err, errlen, "--json and --csv: choose one");
	if (check_proto_opts(o, g, err, errlen) < 0)
		return -1;
	if (g->n && g->d)
		return fail(err, errlen, "-n and -d: choose one (a number of "
			    "requests or a duration)");
	if ((g->cpr ? 1 : 0) + (g->seed ? 1 : 0) + (g->rate ? 1 : 0) > 1)
		return fail(err, errlen, "--conn-per-request, --rate and "
			    "--workers/--actions/--messages are different "
			    "modes: choose one");
	if (g->seed) {
		if (g->c || g->n || g->d)
			return fail(err, errlen, "seed001 mode (--workers, "
				    "--actions, --messages) sets the "
				    "connections and requests itself: no -c, "
				    "-n or -d");
		if (check_seed001(o, g, err, errlen) < 0)
			return -1;
	} else if (g->cpr) {
		if (o->pipeline > 1)
			return fail(err, errlen, "--conn-per-request sends one "
				    "request per connection: no --pipeline");
		o->mode = MODE_CPR;
	} else if (g->rate) {
		if (!g->d)
			return fail(err, errlen, "--rate needs -d SECONDS (an "
				    "open loop runs for a duration)");
		o->mode = MODE_OPEN;
		double total = floor(o->rate * o->duration_s + 0.5);
		if (total < 1)
			return fail(err, errlen, "--rate x -d is less than "
				    "one request");
		if (total > (double)COUNT_MAX)
			return fail(err, errlen, "--rate x -d is too many "
				    "requests");
		o->requests = (uint64_t)total;
	} else {
		o->mode = MODE_CLOSED;
	}
	if (o->mode != MODE_OPEN && g->d)
		o->requests = 0;
	if (o->threads > o->conns) {
		snprintf(err, errlen, "-t %" PRIu64 " is more than the %" PRIu64
			 " connections: each thread needs one", o->threads,
			 o->conns);
		return -1;
	}
	if (!g->limit && o->duration_s + o->timeout_s + 5 > o->limit_s)
		o->limit_s = o->duration_s + o->timeout_s + 5;
	return 0;
}

/* The value of a numeric option, into its field. */
static int parse_num(const struct num_opt *n, const char *arg,
		     struct bench_opts *o, char *err, size_t errlen)
{
	void *f = (char *)o + n->field;

	switch (n->kind) {
	case NK_COUNT:
		return parse_count(n->name, arg, n->min, n->max, f, err, errlen);
	case NK_SIZE:
		return parse_size(n->name, arg, n->min, n->max, f, err, errlen);
	case NK_DECIMAL:
	case NK_SECONDS:
		return parse_number(n->name, arg, n->kind == NK_SECONDS,
				    (double)n->max, f, err, errlen);
	}
	return fail(err, errlen, "internal error: unknown kind of number");
}

/* --path, --command and --call: printable text, checked. */
static int parse_text(int ch, const char *arg, struct bench_opts *o,
		      struct given *g, char *err, size_t errlen)
{
	if (ch == OPT_CALL) {
		g->call = true;
		o->call = arg;
		if (arg[strspn(arg, " ")] == '\0' || !printable(arg, true) ||
		    strlen(arg) > TEXT_MAX)
			return fail(err, errlen, "--call: words of printable "
				    "characters separated by spaces (at most "
				    "4096 characters), e.g. \"ping\", "
				    "\"echo hello\", \"delay 50\"");
		return 0;
	}
	if (ch == OPT_PATH) {
		g->path = true;
		o->path = arg;
		if (arg[0] != '/' || !printable(arg, false) ||
		    strlen(arg) > TEXT_MAX)
			return fail(err, errlen, "--path: a path starts with "
				    "'/' and holds printable characters, no "
				    "spaces (at most 4096)");
		return 0;
	}
	g->command = true;
	o->command = arg;
	if (arg[strspn(arg, " ")] == '\0' || !printable(arg, true) ||
	    strlen(arg) > TEXT_MAX)
		return fail(err, errlen, "--command: words of printable "
			    "characters separated by spaces (at most 4096 "
			    "characters), e.g. \"PING\", \"ECHO hello\", "
			    "\"DELAY 50\"");
	return 0;
}

/* One option; returns 0, 1 for help, -1 with a message. */
static int parse_one(int ch, const char *arg, struct bench_opts *o,
		     struct given *g, char *err, size_t errlen)
{
	for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++)
		if (num_opts[i].ch == ch) {
			*(bool *)((char *)g + num_opts[i].given) = true;
			return parse_num(&num_opts[i], arg, o, err, errlen);
		}
	switch (ch) {
	case OPT_PROTO:
		return parse_proto(arg, o, err, errlen);
	case OPT_PATH:
	case OPT_COMMAND:
	case OPT_CALL:
		return parse_text(ch, arg, o, g, err, errlen);
	case OPT_SOCKET:
		g->socket = true;
		if (strcmp(arg, "dealer") != 0 && strcmp(arg, "req") != 0)
			return fail(err, errlen, "--socket: dealer or req");
		o->zmtp_req = strcmp(arg, "req") == 0;
		return 0;
	case OPT_CPR:
		g->cpr = true;
		return 0;
	case OPT_JSON:
		g->json = true;
		o->output = OUT_JSON;
		return 0;
	case OPT_CSV:
		g->csv = true;
		o->output = OUT_CSV;
		return 0;
	case 'h':
		return 1;
	}
	return fail(err, errlen, "internal error: unhandled option");
}

int opts_parse(int argc, char **argv, struct bench_opts *o, char *err,
	       size_t errlen)
{
	struct given g = { 0 };
	int ch, rc = 0;

	*o = (struct bench_opts){
		.mode = MODE_CLOSED, .proto = BP_ECHO, .output = OUT_TABLE,
		.conns = 10, .threads = 1, .requests = 10000, .pipeline = 1,
		.limit_s = 60, .timeout_s = 10, .size = 100, .path = "/",
		.command = "PING", .workers = 150, .actions = 100,
		.messages = 50,
	};
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:t:n:d:T:h", long_opts,
				 NULL)) != -1) {
		if (ch == ':' || ch == '?')
			return cli_getopt_error(ch, argv[optind - 1], optopt,
						" (see evbench -h)", err,
						errlen);
		rc = parse_one(ch, optarg, o, &g, err, errlen);
		if (rc != 0)
			return rc;
	}
	if (optind >= argc)
		return fail(err, errlen, "HOST:PORT is required (e.g. "
			    "127.0.0.1:7777)");
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\" after "
			 "HOST:PORT", argv[optind + 1]);
		return -1;
	}
	if (parse_target(argv[optind], o, err, errlen) < 0)
		return -1;
	o->progress = isatty(STDERR_FILENO) == 1;
	return check_opts(o, &g, err, errlen);
}
