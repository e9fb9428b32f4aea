#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <getopt.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "ctl_profile.h"
#include "log.h"
#include "model.h"
#include "notify.h"
#include "paths.h"
#include "privs.h"
#include "probes/probes.h"
#include "server.h"
#include "util.h"
#include "version.h"
#include "../common/ctl_wire.h"

#define DEFAULT_CONFIG "/etc/evd.ini"
/* A configuration evd cannot start with (EX_CONFIG, sysexits.h): starting
 * again will not help, so evd.service does not (RestartPreventExitStatus). */
#define EXIT_CONFIG 78
#define MAX_OVERRIDES 64

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evd [-c FILE] [-o SECTION.KEY=VALUE]... [-t [-q]] [-f] [-V] [-h]\n"
		"\n"
		"Serves echo, HTTP/1.1 or a Redis protocol subset with the concurrency\n"
		"model named in the configuration.\n"
		"\n"
		"  -c FILE    configuration file (default " DEFAULT_CONFIG ")\n"
		"  -o S.K=V   set one key after reading the file, e.g.\n"
		"             -o server.model=poll (repeatable)\n"
		"  -t         check the configuration (and that [server] user and\n"
		"             [control] group exist), print the effective settings\n"
		"             and exit: 0 if valid, 1 with the errors otherwise\n"
		"  -q         with -t: print only errors and warnings\n"
		"  -f         run in the foreground (always the case: evd never\n"
		"             forks itself away; systemd and terminals want that)\n"
		"  -V         print the version and exit\n"
		"  --list-models  print each model with a one-line summary\n"
		"  --list-keys    print each configuration key, its default and "
		"what it does\n"
		"  -h         print this help and exit\n"
		"\n"
		"Models: %s\n"
		"Signals: SIGTERM and SIGINT drain (requests in flight finish within\n"
		"[server] drain_timeout) and stop evd, exit 0; a second one stops at\n"
		"once.  SIGHUP reloads the configuration (a broken file is refused).\n"
		"Under systemd: Type=notify, socket activation (LISTEN_FDS), watchdog.\n"
		"Exit status: 0 after a stop; 78 (EX_CONFIG) when the configuration\n"
		"has errors; 1 when evd cannot start otherwise; 2 usage error.\n"
		"Query a running evd with: evctl -s SOCKET stats\n",
		model_names());
}

static void print_errors(const struct config_errors *e, const char *kind)
{
	/* Under the journal: error <3>, warning <4>. */
	const char *prio = !log_to_journal() ? "" : kind[0] ? "<4>" : "<3>";

	for (unsigned i = 0; i < e->n; i++)
		fprintf(stderr, "%sevd: %s%s\n", prio, kind, e->msg[i]);
	if (e->dropped)
		fprintf(stderr, "%sevd: ... and %u more\n", prio, e->dropped);
}

/* Reads the file and the overrides, and checks that the user and group it
 * names exist (before anything starts, as -t does); returns 0 or
 * exit-worthy -1. */
static int load_config(struct config *cfg, const char *path, char **overrides,
		       int noverrides, bool check_only)
{
	static struct config_errors errs, warns;

	/* Every error, those of the file's other keys too; the user and group
	 * it names are checked before anything starts, as -t does. */
	config_read(cfg, path, overrides, noverrides, &errs, &warns);
	config_check_names(cfg, &errs);
	print_errors(&warns, "warning: ");
	if (errs.n || errs.dropped) {
		print_errors(&errs, "");
		fprintf(stderr, "%sevd: configuration %s has %u error%s%s\n",
			log_to_journal() ? "<3>" : "", path,
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
	char err[512] = "";

	/* Before they load: nothing can fail yet. */
	probes_set_timing(probes, cfg->probes_timing, err, sizeof(err));
	if (cfg->probes_syscalls == PROBES_OFF)
		return 0;
	if (probes_enable(probes, true, err, sizeof(err)) == 0) {
		log_info("syscall probes on: counting the system calls of evd's "
			 "processes%s (evctl syscalls)", cfg->probes_timing ? ""
			 : ", calls and errors only ([probes] timing = no)");
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

/* Whether cfg's model wants non-blocking listeners. */
static bool listen_nonblock(const struct config *cfg)
{
	return !(cfg->model->flags & MODEL_BLOCKING);
}

/* The listener sets cfg's model wants: one per worker, or one. */
static unsigned listen_sets(const struct config *cfg)
{
	return cfg->model->listener_sets ? cfg->model->listener_sets(cfg) : 1;
}

/* The listening sockets: those systemd passed (socket activation), or
 * the configured addresses. */
static int open_listeners(struct server *srv, char *err, size_t errlen)
{
	bool nonblock = listen_nonblock(srv->cfg);
	unsigned nsets = listen_sets(srv->cfg);
	int n = notify_listen_fds();

	if (n < 0) {
		snprintf(err, errlen, "LISTEN_FDS from systemd: %s", strerror(-n));
		return -1;
	}
	if (n == 0)
		return listeners_open(srv, nonblock, nsets, err, errlen);
	if (listeners_adopt(srv, n, nonblock, err, errlen) < 0)
		return -1;
	log_info("socket activation: serving the %d socket%s systemd passed "
		 "([server] listen is not used)%s", n, n == 1 ? "" : "s",
		 nsets > 1 ? "; its workers share them instead of one "
			     "SO_REUSEPORT set each" : "");
	return 0;
}

static void log_serving(struct server *srv, const char *what)
{
	char listen[CONFIG_MAX_LISTEN * 64], evctl[PATH_MAX + 8];
	const char *sock = srv->cfg->control_socket;
	/* evctl finds these two without -s (the tree's from the same
	 * directory). */
	bool found = !strcmp(sock, CTL_WIRE_DEFAULT_SOCKET) ||
		     !strcmp(sock, CTL_WIRE_TREE_SOCKET);

	listeners_text(srv, listen, sizeof(listen));
	paths_evctl(evctl, sizeof(evctl));
	log_info("%s %s on %s with model %s (%u worker%s); control socket %s: "
		 "try `%s%s%s stats`", what, srv->proto->name, listen,
		 srv->model->name, srv->workers, srv->workers == 1 ? "" : "s",
		 sock, evctl, found ? "" : " -s ", found ? "" : sock);
}

/*
 * Between two runs: the serving side takes the configuration next asked
 * for (the listeners it still names stay open, so no connection attempt
 * is refused; the counters carry over).  Returns the configuration now in
 * force; on failure the previous one, with the reason logged and in err.
 */
static struct config *swap_config(struct server *srv, struct config *cur,
				  struct config *next, char *err, size_t errlen)
{
	struct stats_total *t = malloc(sizeof(*t));
	struct scoreboard *sb = scoreboard_create(next->model->slots(next));

	if (!t || !sb) {
		snprintf(err, errlen, "out of memory");
		log_errorx("reload failed: out of memory; serving with the "
			   "previous configuration");
		goto fail;
	}
	srv->cfg = next;
	if (listeners_reconcile(srv, listen_nonblock(next), listen_sets(next),
				err, errlen) < 0) {
		char again[512];
		log_errorx("reload failed: %s; serving with the previous "
			   "configuration", err);
		srv->cfg = cur;
		if (listeners_reconcile(srv, listen_nonblock(cur),
					listen_sets(cur), again,
					sizeof(again)) < 0)
			log_errorx("cannot reopen the previous listeners: %s",
				   again);
		goto fail;
	}
	srv->model = next->model;
	srv->proto = next->proto;
	srv->workers = config_workers(next);
	server_sum(srv, t);
	*srv->base = *t;
	sb->start_mono_ns = srv->sb->start_mono_ns;
	sb->start_real_ns = srv->sb->start_real_ns;
	scoreboard_destroy(srv->sb);
	srv->sb = sb;
	free(t);
	free(cur);
	return next;
fail:
	free(t);
	scoreboard_destroy(sb);
	free(next);
	return cur;
}

/* Drops to [server] user and the capabilities evd still needs; logs what
 * it kept, or why it could not (then returns -1). */
static int drop_privileges(const struct config *cfg)
{
	char err[512];
	uint64_t keep = privs_needed(cfg);
	int dropped = privs_drop(cfg, keep, err, sizeof(err));

	if (dropped < 0) {
		log_errorx("%s", err);
		return -1;
	}
	if (dropped > 0 || geteuid() != 0) {
		char caps[128];
		privs_caps_text(keep, caps, sizeof(caps));
		log_info("running as uid %u gid %u; capabilities kept: %s",
			 (unsigned)geteuid(), (unsigned)getegid(), caps);
	}
	return 0;
}

/*
 * Between two runs of the model, under swap_lock: swaps the serving side to
 * next (a reload's configuration; freed here if not taken) and tells the
 * control thread how it went.  *cfgp is the configuration in force after.
 * Returns true to run again, false when evd is to exit.
 */
static bool swap_between_runs(struct server *srv, struct control *ctl,
			      struct config **cfgp, struct config *next)
{
	pthread_rwlock_wrlock(&srv->swap_lock);
	if (atomic_load(&srv->exiting)) {
		/* A SIGTERM since the run ended: its listeners are shut
		 * (listeners_shut); a swap would listen on them again. */
		pthread_rwlock_unlock(&srv->swap_lock);
		free(next);
		return false;
	}
	/* Read under the lock: a SIGTERM's drain_start() may write it. */
	uint64_t drain_began = srv->drain_started_ns;
	struct config *was = *cfgp;
	char why[512] = "";
	*cfgp = swap_config(srv, was, next, why, sizeof(why));
	bool again = control_resume(ctl);
	pthread_rwlock_unlock(&srv->swap_lock);
	double ms = (double)(now_ns() - drain_began) / 1e6;
	control_reload_done(ctl, ms, *cfgp != was ? NULL : why);
	if (again && *cfgp != was) {
		char what[64];
		snprintf(what, sizeof(what), "reloaded (drained in %.0f ms): "
			 "serving", ms);
		log_serving(srv, what);
	}
	return again;
}

/* Runs the model until evd is to exit, swapping the serving side between
 * two runs when a reload asks.  Returns the exit status: 0 after a stop,
 * 1 when the model failed. */
static int run_models(struct server *srv, struct control *ctl,
		      struct config **cfgp)
{
	for (;;) {
		int r = srv->model->run(srv);
		if (r < 0) {
			log_errorx("model %s failed: %s", srv->model->name,
				   strerror(-r));
			return 1;
		}
		struct config *next = control_next_run(ctl);
		if (!next || !swap_between_runs(srv, ctl, cfgp, next))
			return 0;
		notify_ready();
	}
}

/* What evd holds while it serves, torn down in reverse by serve(). */
struct evd {
	struct server srv;
	struct control *ctl;
	struct probes *probes;
	struct ctl_profile *prof;
};

/* The control socket, the listeners, the probes and profiler, the
 * scoreboard; then privileges drop and the control thread starts.
 * 0, or -1 (logged). */
static int start(struct evd *e, struct config *cfg, const char *path,
		 char **overrides, int noverrides)
{
	struct server *srv = &e->srv;
	char err[512];

	e->ctl = control_open(srv, err, sizeof(err));
	if (!e->ctl) {
		log_errorx("%s", err);
		return -1;
	}
	srv->ctl = e->ctl;
	control_set_reload(e->ctl, path, overrides, noverrides);
	if (open_listeners(srv, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		return -1;
	}
	/* Before any worker exists and before privileges could drop. */
	e->probes = probes_new();
	if (!e->probes) {
		log_errorx("cannot initialise: out of memory");
		return -1;
	}
	if (start_probes(e->probes, cfg) < 0)
		return -1;
	control_set_probes(e->ctl, e->probes);
	e->prof = ctl_profile_new(srv, e->probes, cfg->probes_profile);
	if (!e->prof) {
		log_errorx("cannot initialise: out of memory");
		return -1;
	}
	control_set_profile(e->ctl, e->prof);
	srv->sb = scoreboard_create(srv->model->slots(cfg));
	if (!srv->sb) {
		log_error("cannot map the scoreboard");
		return -1;
	}
	/* Listeners, control socket and probes exist; no other thread or
	 * process yet, so all of them inherit what is left. */
	if (drop_privileges(cfg) < 0)
		return -1;
	if (control_run(e->ctl, err, sizeof(err)) < 0) {
		log_errorx("%s", err);
		return -1;
	}
	return 0;
}

/* Serves cfg (freed here) until evd is to exit; the exit status. */
static int serve(struct config *cfg, const char *path, char **overrides,
		 int noverrides)
{
	struct evd e = { .ctl = NULL };
	struct server *srv = &e.srv;
	int rc = 1;

	log_set_level(cfg->log_level);
	raise_nofile();
	if (server_init(srv, cfg) < 0) {
		log_errorx("cannot initialise: out of memory");
		free(cfg);
		return 1;
	}
	server_signals_init();
	block_signals();
	if (start(&e, cfg, path, overrides, noverrides) < 0)
		goto out;
	log_serving(srv, "evd " EVD_VERSION " serving");

	server_worker_sigmask();
	if (server_kick_register(srv) < 0) {
		log_errorx("cannot initialise: out of memory");
		goto out;
	}
	/* The sockets listen: connections queue until the model accepts. */
	notify_ready();
	rc = run_models(srv, e.ctl, &cfg);
	server_kick_unregister(srv);
out:
	atomic_store(&srv->exiting, true);
	atomic_store(&srv->stopping, true);
	notify_stopping();
	control_stop(e.ctl);
	ctl_profile_free(e.prof);
	probes_free(e.probes);
	scoreboard_destroy(srv->sb);
	server_fini(srv);
	free(cfg);
	if (rc == 0)
		log_info("stopped");
	return rc;
}

/* evd's command line. */
struct opts {
	const char *path;
	char *overrides[MAX_OVERRIDES];
	int noverrides;
	bool check_only, quiet;
};

/* Reads the options into o; -1 to go on, else the exit status (a
 * question answered, such as --version, or a usage error). */
static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list-models", no_argument, NULL, 'M' },
		{ "list-keys", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	while ((opt = getopt_long(argc, argv, "c:o:tqfVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			o->path = optarg;
			break;
		case 'o':
			if (o->noverrides == MAX_OVERRIDES) {
				fprintf(stderr, "evd: too many -o options (at most "
					"%d)\n", MAX_OVERRIDES);
				return 2;
			}
			o->overrides[o->noverrides++] = optarg;
			break;
		case 't':
			o->check_only = true;
			break;
		case 'q':
			o->quiet = true;
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
		case 'K':
			config_list_keys(stdout);
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
	if (o->quiet && !o->check_only) {
		fprintf(stderr, "evd: -q goes with -t (evd -t -q -c FILE)\n");
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct opts o = { .path = DEFAULT_CONFIG };
	struct config *cfg;

	log_init("evd");
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	cfg = malloc(sizeof(*cfg));
	if (!cfg) {
		fprintf(stderr, "evd: out of memory\n");
		return 1;
	}
	if (load_config(cfg, o.path, o.overrides, o.noverrides,
			o.check_only) < 0) {
		free(cfg);
		return o.check_only ? 1 : EXIT_CONFIG;
	}
	if (o.check_only) {
		if (!o.quiet) {
			config_print(cfg, stdout);
			fprintf(stderr, "evd: configuration %s is valid\n",
				o.path);
		}
		free(cfg);
		return 0;
	}
	return serve(cfg, o.path, o.overrides, o.noverrides);
}
