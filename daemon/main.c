#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "model.h"
#include "probes/probes.h"
#include "server.h"
#include "version.h"

#define DEFAULT_CONFIG "/etc/evd.ini"
#define MAX_OVERRIDES 64

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evd [-c FILE] [-o SECTION.KEY=VALUE]... [-t] [-f] [-V] [-h]\n"
		"\n"
		"Serves echo, HTTP/1.1 or a Redis protocol subset with the concurrency\n"
		"model named in the configuration.\n"
		"\n"
		"  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
		"  -o S.K=V   set one key after reading the file, e.g.\n"
		"             -o server.model=poll (repeatable)\n"
		"  -t         check the configuration, print the effective settings\n"
		"             and exit: 0 if valid, 1 with the errors otherwise\n"
		"  -f         run in the foreground (always the case: evd never\n"
		"             forks itself away; systemd and terminals want that)\n"
		"  -V         print the version and exit\n"
		"  --list-models  print each model with a one-line summary\n"
		"  -h         print this help and exit\n"
		"\n"
		"Models: %s\n"
		"Signals: SIGTERM and SIGINT stop evd (exit 0).\n"
		"Query a running evd with: evctl -s SOCKET stats\n",
		model_names());
}

static void print_errors(const struct config_errors *e, const char *kind)
{
	for (unsigned i = 0; i < e->n; i++)
		fprintf(stderr, "evd: %s%s\n", kind, e->msg[i]);
	if (e->dropped)
		fprintf(stderr, "evd: ... and %u more\n", e->dropped);
}

/* Reads the file and the overrides; returns 0 or exits-worthy -1. */
static int load_config(struct config *cfg, const char *path, char **overrides,
		       int noverrides, bool check_only)
{
	static struct config_errors errs, warns;

	config_defaults(cfg);
	config_load(cfg, path, &errs);
	for (int i = 0; i < noverrides; i++)
		config_set(cfg, overrides[i], &errs);
	if (errs.n == 0)
		config_finish(cfg, &errs, &warns);
	print_errors(&warns, "warning: ");
	if (errs.n || errs.dropped) {
		print_errors(&errs, "");
		fprintf(stderr, "evd: configuration %s has %u error%s%s\n", path,
			errs.n + errs.dropped, errs.n + errs.dropped == 1 ? "" : "s",
			check_only ? ": test failed" : ": not starting");
		return -1;
	}
	return 0;
}

static void block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGKICK);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

/* Lets evd hold as many descriptors as the hard limit allows. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rlim_t was = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			log_debug("descriptor limit raised from %llu to %llu",
				  (unsigned long long)was,
				  (unsigned long long)rl.rlim_cur);
	}
}

/*
 * Loads and attaches the syscall probes as [probes] syscalls asks: off
 * leaves them for `evctl syscalls on`; on refuses to start without them;
 * auto warns and goes on.  Returns 0, or -1 after logging why not.
 */
static int start_probes(struct probes *probes, const struct config *cfg)
{
	char err[256] = "";

	if (cfg->probes_syscalls == PROBES_OFF)
		return 0;
	if (probes_enable(probes, true, err, sizeof(err)) == 0) {
		log_info("syscall probes on: counting the system calls of evd's "
			 "processes (evctl syscalls)");
		return 0;
	}
	if (cfg->probes_syscalls == PROBES_ON) {
		log_errorx("[probes] syscalls = on: cannot load the syscall "
			   "probes: %s", err);
		return -1;
	}
	log_warnx("[probes] syscalls = auto: running without the syscall "
		  "probes: %s", err);
	return 0;
}

static int serve(struct config *cfg)
{
	struct server srv;
	struct control *ctl = NULL;
	struct probes *probes = NULL;
	char err[512];
	char listen[CONFIG_MAX_LISTEN * 64];
	int rc = 1;

	log_set_level(cfg->log_level);
	raise_nofile();
	if (server_init(&srv, cfg) < 0) {
		log_errorx("cannot initialise: out of memory");
		return 1;
	}
	server_signals_init();
	block_signals();

	ctl = control_open(&srv, err, sizeof(err));
	if (!ctl) {
		log_errorx("%s", err);
		goto out;
	}
	srv.ctl = ctl;
	unsigned nsets = srv.model->listener_sets ?
				 srv.model->listener_sets(cfg) : 1;
	if (listeners_open(&srv, !(srv.model->flags & MODEL_BLOCKING), nsets,
			   err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		goto out;
	}
	/* Before any worker exists and before privileges could drop. */
	probes = probes_new();
	if (!probes) {
		log_errorx("cannot initialise: out of memory");
		goto out;
	}
	if (start_probes(probes, cfg) < 0)
		goto out;
	control_set_probes(ctl, probes);
	srv.sb = scoreboard_create(srv.model->slots(cfg));
	if (!srv.sb) {
		log_error("cannot map the scoreboard");
		goto out;
	}
	if (control_run(ctl, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		goto out;
	}
	listeners_text(&srv, listen, sizeof(listen));
	log_info("evd %s serving %s on %s with model %s (%u worker%s); "
		 "control socket %s: try `evctl -s %s stats`", EVD_VERSION,
		 srv.proto->name, listen, srv.model->name, srv.workers,
		 srv.workers == 1 ? "" : "s", cfg->control_socket,
		 cfg->control_socket);

	server_worker_sigmask();
	if (server_kick_register(&srv) < 0) {
		log_errorx("cannot initialise: out of memory");
		goto out;
	}
	int r = srv.model->run(&srv);
	server_kick_unregister(&srv);
	if (r < 0)
		log_errorx("model %s failed: %s", srv.model->name, strerror(-r));
	else
		rc = 0;
out:
	atomic_store(&srv.stopping, true);
	control_stop(ctl);
	probes_free(probes);
	scoreboard_destroy(srv.sb);
	server_fini(&srv);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	const char *path = DEFAULT_CONFIG;
	char *overrides[MAX_OVERRIDES];
	int noverrides = 0;
	bool check_only = false;
	int opt;

	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-models", no_argument, NULL, 'M' },
		{ NULL, 0, NULL, 0 },
	};
	log_init("evd");
	while ((opt = getopt_long(argc, argv, "c:o:tfVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 'o':
			if (noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "evd: too many -o options (at most "
					"%d)\n", MAX_OVERRIDES);
				return 2;
			}
			overrides[noverrides++] = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'f':
			break;
		case 'V':
			printf("evd %s\n", EVD_VERSION);
			return 0;
		case 'M':
			for (size_t i = 0; evd_models[i]; i++)
				printf("%-18s %s\n", evd_models[i]->name,
				       evd_models[i]->summary);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "evd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load_config(&cfg, path, overrides, noverrides, check_only) < 0)
		return 1;
	if (check_only) {
		config_print(&cfg, stdout);
		fprintf(stderr, "evd: configuration %s is valid\n", path);
		return 0;
	}
	return serve(&cfg);
}
