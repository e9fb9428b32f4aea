/* evclient's command line: usage, the values of the options, the checks
 * across them, and the descriptor limit.  No I/O besides getaddrinfo() on
 * a numeric host and the limit; messages go into err. */
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../../common/cli.h"
#include "../../common/num.h"
#include "evclient.h"

static const char *const disc_names[] = {
	[DISC_NONE] = "none",
	[DISC_CLOSE] = "close",
	[DISC_RESET] = "reset",
};
_Static_assert(sizeof(disc_names) / sizeof(disc_names[0]) == DISC_MAX,
	       "disc_names must name every disconnect mode");

void evclient_usage(FILE *out)
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

/* What the command line gives besides struct opts. */
struct args {
	const char *host;
	uint64_t port;
	bool have_total, have_messages, have_after;
};

/* Takes option ch and its value.  Returns 0, or -1 with a message in
 * err. */
static int take_opt(int ch, const char *arg, struct opts *o, struct args *a,
		    char *err, size_t errlen)
{
	switch (ch) {
	case 'H':
		a->host = arg;
		return 0;
	case 'p':
		return parse_count("-p", arg, 1, 65535, &a->port, err, errlen);
	case 'c':
		return parse_count("-c", arg, 1, CONNS_MAX, &o->conns, err,
				   errlen);
	case 'n':
		a->have_total = true;
		return parse_count("-n", arg, 1, COUNT_MAX, &o->total, err,
				   errlen);
	case 'm':
		a->have_messages = true;
		return parse_count("-m", arg, 1, COUNT_MAX, &o->messages, err,
				   errlen);
	case 's':
		return parse_sizes(arg, o, err, errlen);
	case 'T':
		return parse_timeout(arg, &o->timeout_s, err, errlen);
	case OPT_SEED:
		return parse_count("--seed", arg, 0, UINT64_MAX, &o->seed, err,
				   errlen);
	case OPT_DISCONNECT:
		return parse_disconnect(arg, o, err, errlen);
	case OPT_AFTER:
		a->have_after = true;
		if (num_size(arg, 0, MSG_SIZE_MAX, &o->after) == 0)
			return 0;
		snprintf(err, errlen, "--after: \"%s\" is not a byte count "
			 "from 0 to 1073741824", arg);
		return -1;
	case OPT_BARRIER:
		o->barrier = true;
		return 0;
	default:
		snprintf(err, errlen, "unknown option");
		return -1;
	}
}

/* Returns 0, 1 when help is asked for, or -1 with a message in err. */
int evclient_parse_args(int argc, char **argv, struct opts *o, char *err,
			size_t errlen)
{
	struct args a = { .host = "127.0.0.1" };
	int ch;

	*o = (struct opts){ .conns = 1, .messages = 1, .sizes = { 100 },
			    .nsizes = 1, .timeout_s = 60, .seed = 1 };
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":H:p:c:n:m:s:T:h", long_opts,
				 NULL)) != -1) {
		if (ch == 'h')
			return 1;
		if (ch == ':' || ch == '?')
			return cli_getopt_error(ch, argv[optind - 1], optopt,
						"", err, errlen);
		if (take_opt(ch, optarg, o, &a, err, errlen) < 0)
			return -1;
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"",
			 argv[optind]);
		return -1;
	}
	if (a.port == 0) {
		snprintf(err, errlen, "-p PORT is required");
		return -1;
	}
	if (parse_addr(a.host, a.port, o, err, errlen) < 0)
		return -1;
	return check_opts(o, a.have_total, a.have_messages, a.have_after, err,
			  errlen);
}

/* Makes room for n descriptors, raising the soft limit if needed. */
int evclient_reserve_fds(uint64_t n, char *err, size_t errlen)
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
