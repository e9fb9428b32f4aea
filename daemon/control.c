/* The control socket: its clients, the command table and dispatch, and
 * the control thread's loop.  The commands themselves are in ctl_stats.c,
 * ctl_probes.c and lifecycle.c (control_int.h lists the rooms). */
#include "control_int.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "ctl_profile.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "probes/probes.h"
#include "server.h"
#include "util.h"
#include "../common/ctl_wire.h"

/* The daemon's limits are the wire's (common/ctl_wire.h, which evctl
 * reads too). */
_Static_assert(CTL_LINE_MAX == CTL_WIRE_LINE_MAX, "command line length");
_Static_assert(CTL_ARGS_MAX == CTL_WIRE_ARGS_MAX, "words in a command");
_Static_assert(PROBES_HIST_BUCKETS == CTL_SC_HIST_BUCKETS,
	       "syscall histogram buckets");

#define STR_(x) #x
#define STR(x) STR_(x)		/* a number's digits, for messages */

_Static_assert(CTL_OTHERS_MAX == CTL_CLIENTS_MAX - CTL_RESERVED,
	       "CTL_OTHERS_MAX");

/* ---- output --------------------------------------------------------------- */

void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->overflow)
		return;
	for (;;) {
		size_t room = o->cap - o->len;
		va_start(ap, fmt);
		int n = vsnprintf(o->data ? o->data + o->len : NULL,
				  o->data ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (cap < o->len + (size_t)n + 1)
			cap *= 2;
		if (cap > CTL_OUT_MAX) {
			o->overflow = true;
			return;
		}
		char *d = realloc(o->data, cap);
		if (!d) {
			o->overflow = true;
			return;
		}
		o->data = d;
		o->cap = cap;
	}
}

static void out_free(struct out *o)
{
	free(o->data);
	memset(o, 0, sizeof(*o));
}
/* ---- commands ---------------------------------------------------------------- */
static void cmd_quit(struct control *ctl, struct out *o, int argc, char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	out_printf(o, "END\n");
}
static void cmd_help(struct control *ctl, struct out *o, int argc, char **argv);

/* The syscalls subcommands only root and evd's user may run. */
static const struct ctl_admin_sub sc_admin[] = {
	{ "on", 0 }, { "off", 0 }, { "reset", 0 }, { "workers", 1 },
	{ "timing", 1 }, { NULL, 0 },
};

/* The profile subcommands only root and evd's user may run. */
static const struct ctl_admin_sub profile_admin[] = {
	{ CTL_PROFILE_START, 0 }, { CTL_PROFILE_STOP, 0 },
	{ CTL_PROFILE_CANCEL, 0 }, { NULL, 0 },
};

/* profile: ctl_profile.c answers, in the control thread. */
static void cmd_profile(struct control *ctl, struct out *o, int argc,
			char **argv)
{
	char *r = ctl_profile_cmd(ctl->prof, argc, argv);

	out_printf(o, "%s", r ? r : "ERROR out of memory\n");
	free(r);
}

static const struct ctl_cmd commands[] = {
	{ "stats", "[hist]", "counters, latency and CPU time", 0, 1,
	  cmd_stats },
	{ "workers", "[all]", "one line per worker: role, pid, state, counters",
	  0, 1, cmd_workers },
	{ "syscalls", SC_USAGE + sizeof("syscalls"),
	  "system calls of evd's processes, from the eBPF probes", 0, 2,
	  cmd_syscalls, .admin_subs = sc_admin },
	{ "profile", CTL_PROFILE_USAGE + sizeof("profile"),
	  "stack profiles of evd's processes (on-CPU, off-CPU)", 1, 5,
	  cmd_profile, .admin_subs = profile_admin },
	{ "reload", "", "re-read the configuration, as SIGHUP does", 0, 0,
	  cmd_reload, .admin = true },
	{ "ping", "", "liveness: pid and uptime", 0, 0, cmd_ping },
	{ "version", "", "daemon version", 0, 0, cmd_version },
	{ "help", "", "this list", 0, 0, cmd_help },
	{ "quit", "", "close this connection", 0, 0, cmd_quit },
};

static void cmd_help(struct control *ctl, struct out *o, int argc, char **argv)
{
	(void)ctl;
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		out_printf(o, "%s%s%s %s\n", commands[i].name,
			   commands[i].args[0] ? " " : "", commands[i].args,
			   commands[i].help);
	out_printf(o, "END\n");
}

/* Whether the words (argv[0] the command's name) change evd's state, by
 * the command's row. */
static bool changes_state(const struct ctl_cmd *cmd, int argc, char **argv)
{
	if (cmd->admin)
		return true;
	for (const struct ctl_admin_sub *s = cmd->admin_subs; s && s->word;
	     s++)
		if (argc >= 2 && strcmp(argv[1], s->word) == 0 &&
		    argc - 2 >= s->more)
			return true;
	return false;
}

/* Runs one command line; returns true if the client asked to leave. */
static bool execute(struct control *ctl, struct out *o, char *line,
		    size_t len, struct client *c)
{
	char *argv[CTL_ARGS_MAX];
	unsigned char bad = 0;
	int argc = ctl_split(line, len, argv, CTL_ARGS_MAX, &bad);

	if (argc < 0) {
		out_printf(o, "ERROR invalid byte 0x%02x in command (expected "
			   "printable ASCII)\n", bad);
		return false;
	}
	if (argc == 0)
		return false;	/* blank line: nothing to do */
	if (argc > CTL_ARGS_MAX) {
		out_printf(o, "ERROR too many words (at most %d)\n", CTL_ARGS_MAX);
		return false;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct ctl_cmd *cmd = &commands[i];
		if (strcmp(argv[0], cmd->name) != 0)
			continue;
		if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
			out_printf(o, "ERROR usage: %s%s%s\n", cmd->name,
				   cmd->args[0] ? " " : "", cmd->args);
			return false;
		}
		if (!c->privileged && changes_state(cmd, argc, argv)) {
			/* The command's words, up to "syscalls timing on". */
			const char *a1 = argc > 1 ? argv[1] : "",
				   *a2 = argc > 2 ? argv[2] : "";
			out_printf(o, "ERROR permission denied: \"%s%s%s%s%s\" "
				   "changes evd's state: only root or evd's user "
				   "(uid %u) may; you are uid %u\n", argv[0],
				   *a1 ? " " : "", a1, *a2 ? " " : "", a2,
				   (unsigned)geteuid(), (unsigned)c->uid);
			log_warnx("control: uid %u was refused \"%s%s%s%s%s\"",
				  (unsigned)c->uid, argv[0], *a1 ? " " : "", a1,
				  *a2 ? " " : "", a2);
			return false;
		}
		ctl->cur = c;
		cmd->fn(ctl, o, argc - 1, argv + 1);
		ctl->cur = NULL;
		return cmd->fn == cmd_quit;
	}
	char name[40];
	snprintf(name, sizeof(name), "%s", argv[0]);
	out_printf(o, "ERROR unknown command \"%s\" (try: help)\n", name);
	return false;
}

/* ---- clients ------------------------------------------------------------------ */

static void client_close(struct control *ctl, struct client *c)
{
	if (ctl->loop) {
		evloop_set(ctl->loop, c->fd, 0, NULL, NULL);
		evloop_timer_del(ctl->loop, &c->idle);
	}
	close(c->fd);
	c->fd = -1;
	out_free(&c->out);
}

void ctl_client_idle(struct control *ctl, struct client *c, uint64_t when)
{
	if (when == UINT64_MAX)
		evloop_timer_del(ctl->loop, &c->idle);
	else
		evloop_timer_add(ctl->loop, &c->idle, when);
}

/* Idle for CTL_IDLE_MS: closed, whatever it has left to say. */
static void on_idle(struct timer *t, void *arg)
{
	struct client *c = arg;

	(void)t;
	client_close(c->ctl, c);
}

/* A free slot for a new client, or NULL with the refusal in *why: the last
 * CTL_RESERVED slots are for root and evd's own user only, so that other
 * users, however many connections they open, never lock them out. */
static struct client *client_slot(struct control *ctl, bool privileged,
				  const char **why)
{
	struct client *free_slot = NULL;
	unsigned others = 0;

	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		const struct client *c = &ctl->cl[i];
		if (c->fd < 0 && !free_slot)
			free_slot = &ctl->cl[i];
		else if (c->fd >= 0 && !c->privileged)
			others++;
	}
	if (!free_slot) {
		*why = "ERROR too many control clients (at most "
		       STR(CTL_CLIENTS_MAX) "); try again\n";
		return NULL;
	}
	if (!privileged && others >= CTL_CLIENTS_MAX - CTL_RESERVED) {
		*why = "ERROR too many control clients (at most "
		       STR(CTL_OTHERS_MAX) " for users other than root and "
		       "evd's own; " STR(CTL_RESERVED) " are kept for them); "
		       "try again\n";
		return NULL;
	}
	return free_slot;
}

/* The peer's uid (SO_PEERCRED), or -1. */
static uid_t peer_uid(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return (uid_t)-1;
	return cred.uid;
}

/* Out of descriptors: the socket is not watched for a while (a pending
 * client would wake the loop at once, again and again); CT_ACCEPT
 * watches it again. */
static void accept_pause(struct control *ctl, int e, uint64_t now)
{
	evloop_set(ctl->loop, ctl->lfd, 0, NULL, NULL);
	ctl_at(ctl, CT_ACCEPT, now + 100000000ull);
	if (now >= ctl->next_emfile_log) {
		log_warnx("control socket: accept: %s; evctl clients wait "
			  "until descriptors free up", strerror(e));
		ctl->next_emfile_log = now + 10000000000ull;
	}
}

/* Takes slot c for fd, or refuses fd with the reason (closed). */
static void client_open(struct control *ctl, int fd, uint64_t now)
{
	uid_t uid = peer_uid(fd);
	bool privileged = uid == 0 || uid == geteuid();
	const char *why = NULL;
	struct client *c = client_slot(ctl, privileged, &why);

	if (!c) {
		ssize_t w = send(fd, why, strlen(why),
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->ctl = ctl;
	c->uid = uid;
	c->privileged = privileged;
	timer_init(&c->idle, on_idle, c);
	ctl_client_idle(ctl, c, now + CTL_IDLE_MS * 1000000ull);
	ctl_client_update(ctl, c);
}

static void on_accept(struct evloop *loop, int lfd, unsigned events,
		      void *arg)
{
	struct control *ctl = arg;
	uint64_t now = now_ns();

	(void)loop;
	(void)events;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			if (e == EMFILE || e == ENFILE)
				accept_pause(ctl, e, now);
			else if (e != EAGAIN && e != EINTR &&
				 e != ECONNABORTED)
				log_warn("control socket: accept");
			return;
		}
		client_open(ctl, fd, now);
	}
}

/* CT_ACCEPT: the pause after EMFILE is over. */
static void accept_again(struct control *ctl, uint64_t now)
{
	(void)now;
	if (evloop_set(ctl->loop, ctl->lfd, EV_READ, on_accept, ctl) < 0)
		log_warn("control socket: cannot watch it again");
}

/* True when the n bytes at p are spaces and tabs only. */
static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t')
			return false;
	return true;
}

/* Executes every complete line in the client's buffer.  An over-long line
 * gets one error and is dropped up to its newline; the connection goes on. */
void ctl_client_lines(struct control *ctl, struct client *c)
{
	size_t start = 0;

	while (!c->closing && !c->wait_reload && start < c->inlen &&
	       c->out.len < CTL_OUT_MAX / 2) {
		char *nl = memchr(c->in + start, '\n', c->inlen - start);
		if (!nl)
			break;
		size_t next = (size_t)(nl - c->in) + 1;
		if (c->discarding) {
			c->discarding = false;
			start = next;
			continue;
		}
		size_t len = (size_t)(nl - c->in) - start;
		if (len && c->in[start + len - 1] == '\r')
			len--;
		/* A command is activity; a blank line is not. */
		if (!blank(c->in + start, len))
			ctl_client_idle(ctl, c, now_ns() +
					CTL_IDLE_MS * 1000000ull);
		if (execute(ctl, &c->out, c->in + start, len, c))
			c->closing = true;
		start = next;
	}
	memmove(c->in, c->in + start, c->inlen - start);
	c->inlen -= start;
	if (c->out.overflow) {
		out_free(&c->out);
		out_printf(&c->out, "ERROR reply too large\n");
		c->closing = true;
	}
	if (!c->closing && c->inlen > CTL_LINE_MAX) {
		if (!c->discarding)
			out_printf(&c->out, "ERROR line too long (at most %d "
				   "bytes)\n", CTL_LINE_MAX);
		c->discarding = true;
		c->inlen = 0;
	}
	if (c->closing)
		c->inlen = 0;
}

static void client_read(struct control *ctl, struct client *c)
{
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);

	if (n == 0) {
		c->eof = true;
	} else if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		c->eof = true;
		c->closing = true;
		c->out.len = c->out.off = 0;
		return;
	} else {
		/* Not activity yet: only a command line is (ctl_client_lines()). */
		c->inlen += (size_t)n;
	}
	ctl_client_lines(ctl, c);
	if (c->eof && !c->wait_reload)
		c->closing = true;	/* after the reply it waits for */
}

/* Sends what fits of c's output (c is closing when the peer failed). */
static void client_write(struct control *ctl, struct client *c, uint64_t now)
{
	while (c->out.off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out.off,
				 c->out.len - c->out.off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			c->out.off = c->out.len = 0;
			c->closing = true;
			return;
		}
		c->out.off += (size_t)n;
		if (ctl->loop)
			ctl_client_idle(ctl, c, now + CTL_IDLE_MS * 1000000ull);
	}
	c->out.off = c->out.len = 0;
}

static void on_client(struct evloop *loop, int fd, unsigned events,
		      void *arg);

void ctl_client_update(struct control *ctl, struct client *c)
{
	if (c->out.len > c->out.off)
		client_write(ctl, c, now_ns());
	if (!c->closing && !c->wait_reload && c->inlen &&
	    c->out.len < CTL_OUT_MAX / 2) {
		ctl_client_lines(ctl, c);
		if (c->out.len > c->out.off)
			client_write(ctl, c, now_ns());
	}
	bool pending = c->out.len > c->out.off;
	if (c->closing && !pending && !c->wait_reload) {
		client_close(ctl, c);
		return;
	}
	/* Hang-ups always: one that waits for its reload and has nothing to
	 * read or write is told when its peer is gone. */
	unsigned mask = EV_HUP | (pending ? EV_WRITE : 0);
	if (!c->closing && !c->eof && c->out.len < CTL_OUT_MAX / 2)
		mask |= EV_READ;
	if (evloop_set(ctl->loop, c->fd, mask, on_client, c) < 0)
		client_close(ctl, c);
}

static void on_client(struct evloop *loop, int fd, unsigned events,
		      void *arg)
{
	struct client *c = arg;
	struct control *ctl = c->ctl;

	(void)loop;
	(void)fd;
	if (c->wait_reload && (events & EV_HUP)) {
		/* Gone while it waited for its reload: no one to answer. */
		client_close(ctl, c);
		return;
	}
	if (events & EV_READ)
		client_read(ctl, c);
	ctl_client_update(ctl, c);
}

/* ---- the thread ---------------------------------------------------------------- */

/* CT_SAMPLE: the rate sample, and a look at the serving side, which may
 * wind down of its own accord (a model that failed). */
static void ctl_tick(struct control *ctl, uint64_t now)
{
	ctl_sample_rate(ctl, now);
	if (!timer_armed(&ctl->jobs[CT_KICK].t))
		ctl_kick(ctl, now);
}

/* What each timed job runs (its timer fired; the job re-arms it). */
static void (*const job_fn[CT_MAX])(struct control *ctl, uint64_t now) = {
	[CT_SAMPLE] = ctl_tick,
	[CT_STATUS] = ctl_status_update,
	[CT_WATCHDOG] = ctl_watchdog_check,
	[CT_SC_WINDOW] = ctl_sc_window,
	[CT_KICK] = ctl_kick,
	[CT_DRAIN] = ctl_drain_check,
	[CT_ACCEPT] = accept_again,
};

static void on_job(struct timer *t, void *arg)
{
	struct ctl_job *j = arg;

	(void)t;
	job_fn[j->id](j->ctl, now_ns());
}

void ctl_at(struct control *ctl, enum ctl_job_id id, uint64_t when)
{
	if (when)
		evloop_timer_add(ctl->loop, &ctl->jobs[id].t, when);
	else
		evloop_timer_del(ctl->loop, &ctl->jobs[id].t);
}

static void on_quit(struct evloop *loop, int fd, unsigned events, void *arg)
{
	struct control *ctl = arg;

	(void)loop;
	(void)fd;
	(void)events;
	ctl->quit = true;
}

static void on_signal(struct evloop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	ctl_on_signal(arg);
}

static void on_wake(struct evloop *loop, int fd, unsigned events, void *arg)
{
	(void)loop;
	(void)fd;
	(void)events;
	ctl_reply_waiters(arg, now_ns());
}

/* Between two rounds of the loop (while it sleeps) the main thread may
 * swap the serving side (a reload); the rounds hold swap_lock. */
static void sleep_begins(struct evloop *loop, void *arg)
{
	struct control *ctl = arg;

	(void)loop;
	pthread_rwlock_unlock(&ctl->srv->swap_lock);
}

static void sleep_ends(struct evloop *loop, void *arg)
{
	struct control *ctl = arg;

	(void)loop;
	pthread_rwlock_rdlock(&ctl->srv->swap_lock);
}

/* The thread's descriptors and timers on its loop (the clients join as
 * they come).  0, or -errno. */
static int loop_init(struct control *ctl)
{
	struct evloop *loop = ctl->loop;
	int rc;

	for (int i = 0; i < CT_MAX; i++) {
		ctl->jobs[i] = (struct ctl_job){ .ctl = ctl, .id = i };
		timer_init(&ctl->jobs[i].t, on_job, &ctl->jobs[i]);
	}
	evloop_set_sleep(loop, sleep_begins, sleep_ends, ctl);
	if ((rc = evloop_timer_reserve(loop, CT_MAX + CTL_CLIENTS_MAX +
				       METRICS_TIMERS + CTL_PROFILE_TIMERS)) ||
	    (rc = evloop_set(loop, ctl->quitfd, EV_READ, on_quit, ctl)) ||
	    (rc = evloop_set(loop, ctl->sigfd, EV_READ, on_signal, ctl)) ||
	    (rc = evloop_set(loop, ctl->wakefd, EV_READ, on_wake, ctl)) ||
	    (rc = evloop_set(loop, ctl->lfd, EV_READ, on_accept, ctl)))
		return rc;
	return metrics_attach(ctl->metrics, loop);
}

/* The control thread: its event loop (the quit, signal and wake
 * descriptors, the socket and its clients, /metrics and its scrapers; the
 * timed jobs), until control_stop() writes quitfd. */
static void *control_main(void *arg)
{
	struct control *ctl = arg;
	sigset_t all;

	/* Signals are for the serving side (SIGCHLD, SIGKICK) or read here
	 * through signalfd (SIGTERM, SIGINT, SIGHUP). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* This thread's calls (answering evctl) are not evd's serving work. */
	if (ctl->probes && probes_ignore_thread(ctl->probes) < 0)
		log_warnx("syscall probes: cannot leave the control thread out");

	pthread_rwlock_rdlock(&ctl->srv->swap_lock);
	ctl_sample_rate(ctl, now_ns());
	ctl_status_update(ctl, now_ns());
	ctl->wd_usec = notify_watchdog_usec();
	if (ctl->wd_usec)
		ctl_watchdog_check(ctl, now_ns());
	while (!ctl->quit) {
		int r = evloop_once(ctl->loop, -1);
		if (r < 0 && r != -EINTR) {
			errno = -r;
			log_error("control thread: epoll_wait");
			break;
		}
	}
	pthread_rwlock_unlock(&ctl->srv->swap_lock);
	return NULL;
}

/* ---- socket setup ------------------------------------------------------------- */

/* Who the control socket is for: its group ([control] group, else the
 * primary group of [server] user, else -1: evd's own, unchanged) and evd's
 * user (who besides root may own its directory: [server] user, else the
 * user evd runs as).  0, or -1 with err. */
static int socket_owner(const struct config *cfg, gid_t *gid, uid_t *uid,
			char *err, size_t errlen)
{
	char buf[4096];

	*gid = (gid_t)-1;
	*uid = geteuid();
	if (cfg->user[0]) {
		struct passwd pw, *p = NULL;
		if (getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &p) || !p) {
			snprintf(err, errlen, "[server] user = %s: no such user "
				 "(create it, e.g. with systemd-sysusers, or "
				 "leave user empty)", cfg->user);
			return -1;
		}
		*gid = p->pw_gid;
		*uid = p->pw_uid;
	}
	if (cfg->control_group[0]) {
		struct group gr, *g = NULL;
		if (getgrnam_r(cfg->control_group, &gr, buf, sizeof(buf), &g) ||
		    !g) {
			snprintf(err, errlen, "[control] group = %s: no such "
				 "group (create it, e.g. groupadd --system %s, "
				 "or leave group empty)", cfg->control_group,
				 cfg->control_group);
			return -1;
		}
		*gid = g->gr_gid;
	}
	return 0;
}

static int bind_socket(struct control *ctl, char *err, size_t errlen)
{
	const struct config *cfg = ctl->srv->cfg;
	gid_t gid;
	uid_t uid;

	if (socket_owner(cfg, &gid, &uid, err, errlen) < 0)
		return -1;
	ctl->lfd = ctl_socket_open(&ctl->sock, cfg->control_socket,
				   cfg->control_mode, gid, uid, err, errlen);
	if (ctl->lfd < 0)
		return -1;
	if (ctl->sock.made_dir)
		log_info("created the directory of control socket %s",
			 ctl->sock.path);
	if (ctl->sock.removed_stale)
		log_info("replaced the stale control socket %s",
			 ctl->sock.path);
	return 0;
}

struct control *control_open(struct server *srv, char *err, size_t errlen)
{
	struct control *ctl = calloc(1, sizeof(*ctl));
	sigset_t set;

	if (!ctl) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ctl->srv = srv;
	ctl->lfd = ctl->sigfd = ctl->quitfd = ctl->wakefd = -1;
	ctl->sock.dirfd = -1;
	pthread_mutex_init(&ctl->lock, NULL);
	ctl->tot = malloc(sizeof(*ctl->tot));
	if (!ctl->tot) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		ctl->cl[i].fd = -1;
	ctl->loop = evloop_new();
	if (!ctl->loop) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		goto fail;
	}
	if (bind_socket(ctl, err, errlen) < 0)
		goto fail;
	if (srv->cfg->metrics_listen.len) {
		ctl->metrics = metrics_open(&srv->cfg->metrics_listen,
					    ctl_metrics_body, ctl, err, errlen);
		if (!ctl->metrics)
			goto fail;
		log_info("metrics: serving http://%s/metrics",
			 metrics_address(ctl->metrics));
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	ctl->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ctl->quitfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ctl->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctl->sigfd < 0 || ctl->quitfd < 0 || ctl->wakefd < 0) {
		snprintf(err, errlen, "control thread: %s", strerror(errno));
		goto fail;
	}
	int rc = loop_init(ctl);
	if (rc < 0) {
		snprintf(err, errlen, "control thread: %s", strerror(-rc));
		goto fail;
	}
	return ctl;
fail:
	control_stop(ctl);
	return NULL;
}

void control_set_probes(struct control *ctl, struct probes *probes)
{
	ctl->probes = probes;
	ctl->sc_on = probes_enabled(probes);
	ctl->sc_sample = ctl->srv->cfg->probes_sample;
	/* The first window opens now. */
	if (ctl->sc_on && ctl->sc_sample < 100) {
		ctl_sc_open_window(ctl, now_ns());
		log_info("syscall probes sampled: attached %u %% of each second "
			 "([probes] sample)", ctl->sc_sample);
	}
}

void control_set_reload(struct control *ctl, const char *path,
			char *const *overrides, int noverrides)
{
	ctl->cfg_path = path;
	ctl->overrides = overrides;
	ctl->noverrides = noverrides;
}
int control_run(struct control *ctl, char *err, size_t errlen)
{
	/* The thread inherits the caller's mask: SIGTERM & co. are blocked
	 * (read through signalfd), and so is SIGKICK. */
	int rc = pthread_create(&ctl->thread, NULL, control_main, ctl);
	if (rc) {
		snprintf(err, errlen, "control thread: %s", strerror(rc));
		return -1;
	}
	ctl->started = true;
	return 0;
}

void control_set_profile(struct control *ctl, struct ctl_profile *prof)
{
	ctl->prof = prof;
	ctl_profile_set_loop(prof, ctl->loop);
}

/* The socket's directory and the thread's own descriptors (the signal,
 * quit and wake descriptors), closed. */
static void close_own(struct control *ctl)
{
	ctl_socket_forget(&ctl->sock);
	if (ctl->sigfd >= 0)
		close(ctl->sigfd);
	if (ctl->quitfd >= 0)
		close(ctl->quitfd);
	if (ctl->wakefd >= 0)
		close(ctl->wakefd);
}

void control_forget(struct control *ctl)
{
	if (!ctl)
		return;
	probes_forget(ctl->probes);
	ctl_profile_forget(ctl->prof);
	metrics_forget(ctl->metrics);
	for (int i = 0; i < CTL_CLIENTS_MAX; i++)
		if (ctl->cl[i].fd >= 0)
			close(ctl->cl[i].fd);
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	close_own(ctl);
	evloop_abandon(ctl->loop);
}

int control_stack(struct control *ctl, void **lo, size_t *len)
{
	pthread_attr_t attr;

	if (!ctl || !ctl->started)
		return -ESRCH;
	int r = pthread_getattr_np(ctl->thread, &attr);
	if (r)
		return -r;
	size_t guard = 0;
	r = pthread_attr_getstack(&attr, lo, len);
	if (!r)
		r = pthread_attr_getguardsize(&attr, &guard);
	pthread_attr_destroy(&attr);
	if (r)
		return -r;
	*lo = (char *)*lo - guard;	/* the guard pages below it too */
	*len += guard;
	return 0;
}

void control_stop(struct control *ctl)
{
	if (!ctl)
		return;
	if (ctl->started) {
		uint64_t one = 1;
		ssize_t w = write(ctl->quitfd, &one, sizeof(one));
		(void)w;
		pthread_join(ctl->thread, NULL);
	}
	for (int i = 0; i < CTL_CLIENTS_MAX; i++) {
		struct client *c = &ctl->cl[i];
		if (c->fd < 0)
			continue;
		if (c->wait_reload && (int)(ctl->reload_done - c->wait_reload) >= 0)
			ctl_reload_waited(ctl, c);
		else if (c->wait_reload)
			out_printf(&c->out, "ERROR reload not applied: evd is "
				   "stopping\n");
		client_write(ctl, c, now_ns());	/* what fits, without waiting */
		client_close(ctl, c);
	}
	metrics_close(ctl->metrics);
	ctl_profile_set_loop(ctl->prof, NULL);
	evloop_free(ctl->loop);
	ctl->loop = NULL;
	if (ctl->lfd >= 0) {
		char why[512];
		close(ctl->lfd);
		if (ctl_socket_remove(&ctl->sock, why, sizeof(why)) <= 0)
			log_warnx("%s", why);
	}
	close_own(ctl);
	free(ctl->pending);
	free(ctl->tot);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl);
}

