/* evd's life as the control thread drives it: SIGTERM/SIGINT (drain, then
 * stop), SIGHUP and evctl reload (read, apply live keys, or drain and hand
 * the new configuration to the main thread), the systemd watchdog and
 * status line. */
#include "control_int.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "log.h"
#include "notify.h"
#include "probes/probes.h"
#include "server.h"
#include "util.h"

#define STATUS_INTERVAL_MS 5000	/* STATUS= to systemd */

/* What a reload came to, for evctl (cmd_reload) and the log. */
enum reload_result {
	RL_UNCHANGED,
	RL_APPLIED,		/* live keys only */
	RL_RESTARTING,		/* the serving side drains; the main thread
				 * reports how the swap went */
	RL_REFUSED,		/* nothing changed: why says why */
};

struct reload_outcome {
	enum reload_result result;
	char why[900];				/* RL_REFUSED */
	char not_applied[CONFIG_NAMES_MAX];	/* keys only a restart applies */
};

/* ---- the thread ---------------------------------------------------------------- */

/* Starts draining the current run: the model stops accepting and returns
 * once its connections are done, or when the deadline forces it.  Called
 * with ctl->lock held. */
static void drain_start(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;
	uint64_t ms = srv->cfg->drain_timeout_ms;

	if (server_draining(srv) || server_stopping(srv))
		return;
	ctl->drain_gen = srv->generation;
	srv->drain_started_ns = now;
	if (ms == 0) {
		atomic_store(&srv->stopping, true);
	} else {
		atomic_store(&srv->draining, true);
		ctl->drain_deadline = now + ms * 1000000ull;
		ctl_at(ctl, CT_DRAIN, ctl->drain_deadline);
	}
	server_kick(srv);
	ctl_at(ctl, CT_KICK, now + KICK_INTERVAL_MS * 1000000ull);
}

void ctl_kick(struct control *ctl, uint64_t now)
{
	if (!server_winding_down(ctl->srv))
		return;
	server_kick(ctl->srv);
	ctl_at(ctl, CT_KICK, now + KICK_INTERVAL_MS * 1000000ull);
}

/* The drain took longer than drain_timeout: close what is left.  Only
 * the run that was asked to drain; a new one may have started since. */
void ctl_drain_check(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;

	pthread_mutex_lock(&ctl->lock);
	if (ctl->drain_deadline && now >= ctl->drain_deadline &&
	    ctl->drain_gen == srv->generation && server_draining(srv) &&
	    !server_stopping(srv)) {
		const struct stats_total *t = ctl_totals(ctl);
		uint64_t open = t->c[STAT_accepted] - t->c[STAT_closed];
		log_warnx("drain_timeout (%" PRIu64 " ms) is over: closing the "
			  "%" PRIu64 " connection%s still open",
			  srv->cfg->drain_timeout_ms, open, open == 1 ? "" : "s");
		atomic_store(&srv->stopping, true);
		server_kick(srv);
		ctl->drain_deadline = 0;
	}
	pthread_mutex_unlock(&ctl->lock);
}

static void on_stop_signal(struct control *ctl, const char *name)
{
	struct server *srv = ctl->srv;
	uint64_t now = now_ns();

	pthread_mutex_lock(&ctl->lock);
	if (atomic_load(&srv->exiting)) {
		if (!server_stopping(srv)) {
			log_info("%s again: stopping now, without waiting for the "
				 "connections still open", name);
			atomic_store(&srv->stopping, true);
			server_kick(srv);
		}
	} else {
		bool reloading = server_draining(srv);
		atomic_store(&srv->exiting, true);
		notify_stopping();
		drain_start(ctl, now);
		/* After the flags: a worker woken by it finds them set.  Before
		 * the log line: once it is out, connecting is refused. */
		unsigned shut = listeners_shut(srv);
		const char *how = srv->activated ? "; the sockets systemd passed "
			"stay open (it queues new connections for the next start)"
			: shut ? "; new connections are refused" : "";
		if (reloading)
			log_info("%s: stopping once the reload's drain is over "
				 "(the new configuration is not applied)%s", name,
				 how);
		else if (srv->cfg->drain_timeout_ms)
			log_info("%s: draining (requests in flight get up to "
				 "%" PRIu64 " ms), then stopping%s", name,
				 srv->cfg->drain_timeout_ms, how);
		else
			log_info("%s: stopping (drain_timeout = 0)%s", name, how);
	}
	pthread_mutex_unlock(&ctl->lock);
}

/* Reads the file for a reload; NULL when refused (logged, why set). */
static struct config *reload_read(struct control *ctl,
				  struct reload_outcome *out)
{
	static struct config_errors errs, warns;
	struct config *next = malloc(sizeof(*next));

	if (!next) {
		snprintf(out->why, sizeof(out->why), "out of memory; still "
			 "serving with the previous configuration");
		log_errorx("reload: out of memory; still serving with the "
			   "previous configuration");
		return NULL;
	}
	if (config_read(next, ctl->cfg_path, ctl->overrides, ctl->noverrides,
			&errs, &warns) < 0) {
		for (unsigned i = 0; i < errs.n; i++)
			log_errorx("reload: %s", errs.msg[i]);
		unsigned n = errs.n + errs.dropped;
		log_errorx("reload refused: %s has %u error%s; still serving "
			   "with the previous configuration (evd -t -c %s "
			   "shows them)", ctl->cfg_path, n, n == 1 ? "" : "s",
			   ctl->cfg_path);
		notify_status("reload refused: %u error%s in %s; serving with "
			      "the previous configuration", n, n == 1 ? "" : "s",
			      ctl->cfg_path);
		snprintf(out->why, sizeof(out->why), "%s%s (evd -t -c %s shows "
			 "%s); still serving with the previous configuration",
			 errs.n ? errs.msg[0] : "errors", n > 1 ? " and more" :
			 "", ctl->cfg_path, n > 1 ? "them all" : "it");
		free(next);
		return NULL;
	}
	for (unsigned i = 0; i < warns.n; i++)
		log_warnx("reload: %s", warns.msg[i]);
	return next;
}

/* The keys that apply without touching a connection ([log] level, the
 * probes' switches): into cur at once. */
static void reload_live(struct control *ctl, struct config *cur,
			struct config *next)
{
	char err[512] = "";

	log_set_level(next->log_level);
	cur->log_level = next->log_level;
	if (!ctl->probes)
		return;
	if (next->probes_syscalls != cur->probes_syscalls) {
		bool on = next->probes_syscalls != PROBES_OFF;
		if (ctl_sc_set(ctl, on, now_ns(), err, sizeof(err)) < 0)
			log_warnx("reload: [probes] syscalls = %s: cannot load "
				  "the syscall probes: %s; they stay off",
				  probes_mode_names[next->probes_syscalls], err);
		cur->probes_syscalls = next->probes_syscalls;
	}
	if (next->probes_timing != cur->probes_timing) {
		if (probes_set_timing(ctl->probes, next->probes_timing, err,
				      sizeof(err)) < 0)
			log_warnx("reload: [probes] timing = yes: %s; counting "
				  "calls and errors only", err);
		cur->probes_timing = next->probes_timing =
			probes_timing(ctl->probes);
	}
	if (next->probes_sample != cur->probes_sample) {
		ctl_sc_set_sample(ctl, next->probes_sample, now_ns());
		cur->probes_sample = next->probes_sample;
	}
}

/* Hands next to the main thread and drains the current run.  false when
 * evd is stopping (nothing is applied; why set). */
static bool reload_restart(struct control *ctl, struct config *next,
			   const char *names, struct reload_outcome *out)
{
	struct server *srv = ctl->srv;

	pthread_mutex_lock(&ctl->lock);
	if (atomic_load(&srv->exiting)) {
		pthread_mutex_unlock(&ctl->lock);
		log_warnx("reload: evd is stopping; the new configuration is "
			  "not applied");
		snprintf(out->why, sizeof(out->why), "evd is stopping (the new "
			 "configuration is not applied)");
		free(next);
		return false;
	}
	free(ctl->pending);	/* a reload during a reload: the newest wins */
	ctl->pending = next;
	ctl->reload_seq++;
	if (!server_draining(srv)) {
		int rc = listeners_steer(srv);
		if (rc < 0)
			log_warnx("reload: cannot steer new connections to one "
				  "SO_REUSEPORT socket while the others drain: %s; "
				  "connections queued on the sockets that close "
				  "may be reset", strerror(-rc));
	}
	log_info("reload: %s changed: restarting the serving side (requests "
		 "in flight finish; the listening sockets stay open)", names);
	drain_start(ctl, now_ns());
	pthread_mutex_unlock(&ctl->lock);
	return true;
}

/* SIGHUP, evctl reload: re-reads the configuration.  A broken file changes
 * nothing; live keys apply at once; a change of any serving key drains the
 * current run, and the main thread starts the next one with the new
 * configuration on the same listening sockets (control_reload_done() says
 * how that went).  Returns what it came to (out->result; out says why and
 * which keys wait for a restart). */
static enum reload_result on_reload(struct control *ctl,
				    struct reload_outcome *out)
{
	struct server *srv = ctl->srv;
	struct config *cur = (struct config *)srv->cfg;
	char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];

	memset(out, 0, sizeof(*out));
	out->result = RL_REFUSED;
	notify_reloading();
	log_info("SIGHUP: reloading %s", ctl->cfg_path);
	struct config *next = reload_read(ctl, out);
	if (!next)
		goto ready;
	unsigned changed = config_compare(cur, next, names);
	if (changed & (1u << RELOAD_RESTART)) {
		log_warnx("reload: %s changed: only a restart of evd applies "
			  "that (systemctl restart evd); keeping the running "
			  "value", names[RELOAD_RESTART]);
		snprintf(out->not_applied, sizeof(out->not_applied), "%s",
			 names[RELOAD_RESTART]);
		config_keep(next, cur, RELOAD_RESTART);
	}
	if (changed & (1u << RELOAD_LIVE)) {
		reload_live(ctl, cur, next);
		log_info("reload: applied at once: %s", names[RELOAD_LIVE]);
	}
	out->result = changed ? RL_APPLIED : RL_UNCHANGED;
	if (!changed)
		log_info("reload: %s has no change", ctl->cfg_path);
	if (!(changed & (1u << RELOAD_SERVING))) {
		free(next);
		goto ready;
	}
	if (reload_restart(ctl, next, names[RELOAD_SERVING], out)) {
		/* The main thread says READY=1 once the new run starts. */
		return out->result = RL_RESTARTING;
	}
	out->result = RL_REFUSED;
ready:
	notify_ready();
	ctl_status_update(ctl, now_ns());
	return out->result;
}

/* The reply to reload: at once, or (restarting) the client waits. */
static void cmd_reload_reply(struct control *ctl, struct out *o,
			     const struct reload_outcome *r)
{
	static const char *const word[] = { "unchanged", "applied" };
	struct client *c = ctl->cur;

	if (r->result == RL_REFUSED) {
		out_printf(o, "ERROR reload refused: %s\n", r->why);
		return;
	}
	if (r->result == RL_RESTARTING) {
		snprintf(ctl->not_applied, sizeof(ctl->not_applied), "%s",
			 r->not_applied);
		c->wait_reload = ctl->reload_seq;
		ctl_client_idle(ctl, c, UINT64_MAX);
		return;
	}
	out_printf(o, "reload %s\n", word[r->result]);
	if (r->not_applied[0])
		out_printf(o, "not_applied %s\n", r->not_applied);
	out_printf(o, "END\n");
}

/* The outcome of the swap the client waited for. */
void ctl_reload_waited(struct control *ctl, struct client *c)
{
	if (ctl->reload_ok) {
		out_printf(&c->out, "reload restarted\ndrained_ms %.0f\n",
			   ctl->reload_ms);
		if (ctl->not_applied[0])
			out_printf(&c->out, "not_applied %s\n",
				   ctl->not_applied);
		out_printf(&c->out, "END\n");
	} else {
		out_printf(&c->out, "ERROR reload failed: %s; still serving "
			   "with the previous configuration\n",
			   ctl->reload_why);
	}
	c->wait_reload = 0;
}

/* The main thread has swapped (control_reload_done()): answer the clients
 * that waited for it, then run what they sent meanwhile. */
void ctl_reply_waiters(struct control *ctl, uint64_t now)
{
	uint64_t v;
	ssize_t r = read(ctl->wakefd, &v, sizeof(v));

	(void)r;
	pthread_mutex_lock(&ctl->lock);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->cl[i];
		if (c->fd < 0 || !c->wait_reload ||
		    (int)(ctl->reload_done - c->wait_reload) < 0)
			continue;
		ctl_reload_waited(ctl, c);
		ctl_client_idle(ctl, c, now + CTL_IDLE_MS * 1000000ull);
	}
	pthread_mutex_unlock(&ctl->lock);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->cl[i];
		if (c->fd < 0 || c->wait_reload)
			continue;
		ctl_client_lines(ctl, c);
		if (c->eof)
			c->closing = true;
	}
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl->cl[i].fd >= 0)
			ctl_client_update(ctl, &ctl->cl[i]);
}

void ctl_on_signal(struct control *ctl)
{
	struct signalfd_siginfo si;

	while (read(ctl->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
			on_stop_signal(ctl, "SIGTERM");
			break;
		case SIGINT:
			on_stop_signal(ctl, "SIGINT");
			break;
		case SIGHUP: {
			struct reload_outcome out;
			on_reload(ctl, &out);
			break;
		}
		default:
			break;
		}
	}
}

/* Connections waiting in the listeners' accept queues. */
static unsigned accept_queue(struct server *srv)
{
	unsigned n = 0;

	for (unsigned k = 0; k < srv->nsets; k++) {
		const struct listener *set = server_set(srv, k);
		for (unsigned i = 0; i < srv->nlis; i++) {
			struct tcp_info ti;
			socklen_t len = sizeof(ti);
			/* For a listener, tcpi_unacked is its accept queue. */
			if (set[i].fd >= 0 &&
			    getsockopt(set[i].fd, IPPROTO_TCP, TCP_INFO, &ti,
				       &len) == 0)
				n += ti.tcpi_unacked;
		}
	}
	return n;
}

/* WATCHDOG=1 every half period while the serving side makes progress:
 * it is stuck when connections wait to be accepted at two checks in a row
 * and none was accepted in between (a hung worker pool; an idle evd is
 * fine).  A drain is bounded by drain_timeout and not checked. */
void ctl_watchdog_check(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;
	const struct stats_total *t = ctl_totals(ctl);
	uint64_t accepted = t->c[STAT_accepted] + t->c[STAT_refused];

	ctl_at(ctl, CT_WATCHDOG, now + ctl->wd_usec * 1000 / 2);
	bool backlog = !server_winding_down(srv) && accept_queue(srv) > 0;
	bool stuck = backlog && ctl->wd_backlog && accepted == ctl->wd_accepted;
	ctl->wd_accepted = accepted;
	ctl->wd_backlog = backlog;
	if (stuck != ctl->wd_stuck) {
		if (stuck)
			log_warnx("watchdog: connections wait to be accepted and "
				  "no worker accepted one for %.1f s: not "
				  "telling systemd that evd is alive",
				  (double)ctl->wd_usec / 2e6);
		else
			log_info("watchdog: the workers accept again");
		ctl->wd_stuck = stuck;
	}
	if (!stuck)
		notify_watchdog();
}

void ctl_status_update(struct control *ctl, uint64_t now)
{
	struct server *srv = ctl->srv;
	const struct stats_total *t = ctl_totals(ctl);

	ctl_at(ctl, CT_STATUS, now + STATUS_INTERVAL_MS * 1000000ull);
	notify_status("%s %s: %" PRIu64 " connections, %.1f requests/s, %"
		      PRIu64 " requests since start%s", srv->proto->name,
		      srv->model->name, t->c[STAT_accepted] - t->c[STAT_closed],
		      ctl_request_rate(ctl, t->c[STAT_requests], now),
		      t->c[STAT_requests],
		      atomic_load(&srv->exiting) ? " (stopping)" :
		      server_draining(srv) ? " (reloading)" : "");
}

/* reload: answered at once when nothing restarts or the file is refused;
 * otherwise once the main thread has swapped the serving side (the client
 * waits: control_reload_done(), ctl_reply_waiters()). */
void cmd_reload(struct control *ctl, struct out *o, int argc,
		       char **argv)
{
	struct reload_outcome *r = malloc(sizeof(*r));

	(void)argc;
	(void)argv;
	if (!r) {
		out_printf(o, "ERROR reload refused: out of memory\n");
		return;
	}
	log_info("reload asked for on the control socket");
	on_reload(ctl, r);
	cmd_reload_reply(ctl, o, r);
	free(r);
}
struct config *control_next_run(struct control *ctl)
{
	struct config *next = NULL;

	pthread_mutex_lock(&ctl->lock);
	if (!atomic_load(&ctl->srv->exiting)) {
		next = ctl->pending;
		ctl->pending = NULL;
		ctl->reload_taken = ctl->reload_seq;
	}
	pthread_mutex_unlock(&ctl->lock);
	return next;
}

bool control_resume(struct control *ctl)
{
	struct server *srv = ctl->srv;
	bool run = false;

	pthread_mutex_lock(&ctl->lock);
	srv->generation++;
	ctl->drain_deadline = 0;
	if (!atomic_load(&srv->exiting)) {
		atomic_store(&srv->stopping, false);
		atomic_store(&srv->draining, false);
		run = true;
	}
	pthread_mutex_unlock(&ctl->lock);
	return run;
}

void control_reload_done(struct control *ctl, double drained_ms,
			 const char *why)
{
	uint64_t one = 1;

	pthread_mutex_lock(&ctl->lock);
	ctl->reload_done = ctl->reload_taken;
	ctl->reload_ok = !why;
	ctl->reload_ms = drained_ms;
	snprintf(ctl->reload_why, sizeof(ctl->reload_why), "%s", why ? why : "");
	pthread_mutex_unlock(&ctl->lock);
	ssize_t w = write(ctl->wakefd, &one, sizeof(one));
	(void)w;
}
