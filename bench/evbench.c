/* evbench: load generator for evd (see evbench -h, and evbench.h for the
 * parts).  main() only glues them: options, descriptors, signals, the run,
 * the report, the exit status. */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "evbench.h"

#define FD_SPARE 64	/* descriptors besides the connections */

/* Makes room for n descriptors, raising the soft limit (and the hard one
 * when allowed) if needed. */
static int reserve_fds(uint64_t n, char *err, size_t errlen)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= n)
		return 0;
	struct rlimit want = { .rlim_cur = n, .rlim_max = rl.rlim_max };
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < n)
		want.rlim_max = n;
	if (setrlimit(RLIMIT_NOFILE, &want) == 0)
		return 0;
	if (rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= n)
		return 0;	/* unexpected; socket() will tell */
	want = (struct rlimit){ .rlim_cur = rl.rlim_max,
				.rlim_max = rl.rlim_max };
	setrlimit(RLIMIT_NOFILE, &want);
	snprintf(err, errlen, "%" PRIu64 " connections need %" PRIu64
		 " descriptors but the limit is %llu (raise it with ulimit -n, "
		 "or use fewer connections)", n - FD_SPARE, n,
		 (unsigned long long)rl.rlim_max);
	return -1;
}

static void on_signal(int sig)
{
	(void)sig;
	engine_stop();
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct reqspec spec = { 0 };
	struct bench_result *res = NULL;
	char err[512];
	int rc;

	rc = opts_parse(argc, argv, &o, err, sizeof(err));
	if (rc == 1) {
		opts_usage(stdout);
		return BEXIT_OK;
	}
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		fprintf(stderr, "usage: evbench [options] HOST:PORT (evbench -h "
			"for help)\n");
		return BEXIT_USAGE;
	}
	if (reserve_fds(o.conns + FD_SPARE, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return BEXIT_USAGE;
	}
	if (reqspec_init(&spec, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		return BEXIT_USAGE;
	}
	res = calloc(1, sizeof(*res));
	if (!res) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		reqspec_free(&spec);
		return BEXIT_ERRORS;
	}
	catch_signals();
	if (engine_run(&o, &spec, res, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", PROG, err);
		rc = BEXIT_ERRORS;
		goto out;
	}
	switch (o.output) {
	case OUT_JSON:
		report_json(stdout, &o, res);
		break;
	case OUT_CSV:
		report_csv(stdout, &o, res);
		break;
	case OUT_TABLE:
		report_table(stdout, &o, res);
		break;
	}
	fflush(stdout);
	rc = result_exit_status(res);
out:
	free(res);
	reqspec_free(&spec);
	return rc;
}
