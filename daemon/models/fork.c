/* fork: a process per connection, as seed 001's "multi-process" pattern.
 * The parent accepts; each connection is served by a new child with
 * blocking recv and send, which exits when the client leaves.  A child's
 * exit does not wake the parent (a wake-up per connection costs more than
 * the reaping): the parent reaps the children that exited once REAP_BATCH
 * are alive or exited, before refusing one for max_connections, and every
 * REAP_MS while any is, so no zombie outlives its connection by more than
 * that (or than REAP_BATCH - 1 later connections).
 *
 * What a child costs is mostly the pages it touches, each a fault, and its
 * system calls (see server_fork_conn()): it is made without glibc's fork
 * handlers, inherits only the mappings it uses, serves from memory the
 * parent never touches, closes what it inherited without reading the
 * structures that hold it, and inherits its signal handlers, TCP_NODELAY
 * and idle timeouts instead of setting them. */
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../children.h"
#include "../conn.h"
#include "../control.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define STOP_GRACE_MS 2000
#define REAP_MS 100
#define REAP_BATCH 16
#define LEFT_OUT_MAX 256

struct range {
	uintptr_t lo, hi;
};

struct ctx {
	struct server *srv;
	struct stats_slot *slot;	/* the parent's: refusals */
	struct children kids;
	uint64_t last_fork_warning;
	struct range out[LEFT_OUT_MAX];	/* mappings children do not inherit */
	unsigned nout;
};

/* ---- what a child inherits ------------------------------------------------ */

/*
 * Each mapping a child inherits costs it at fork and at exit (its page
 * tables are built and torn down), and the parent's memory is never
 * used by a child beyond its own code, libc, its stack and evd's data.
 * These are left out (MADV_DONTFORK) while the model runs: the libraries
 * other than libc, libm and the dynamic linker (libsystemd and its
 * compression and crypto libraries, libbpf, libelf, liburing, libinih):
 * every segment the dynamic linker loaded for them, bss included; the
 * probes' BPF maps; and the control thread's stack.  A child must not call
 * into them: see server_fork_conn().  (Not the control thread's malloc
 * heap: a configuration reloaded is parsed there, and children read it.)
 */
static bool inherited_library(const char *path)
{
	static const char *const keep[] = { "libc.so", "libm.so", "ld-linux",
					    "linux-vdso" };
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (!*base)
		return true;	/* evd itself */
	for (size_t i = 0; i < ARRAY_SIZE(keep); i++)
		if (!strncmp(base, keep[i], strlen(keep[i])))
			return true;
	return false;
}

static void leave_out(struct ctx *x, uintptr_t lo, uintptr_t hi)
{
	const uintptr_t page = 4096;

	lo &= ~(page - 1);
	hi = (hi + page - 1) & ~(page - 1);
	if (x->nout == LEFT_OUT_MAX || hi <= lo)
		return;
	if (madvise((void *)lo, hi - lo, MADV_DONTFORK) == 0)
		x->out[x->nout++] = (struct range){ lo, hi };
}

/* dl_iterate_phdr(): the loaded segments of a library left out. */
static int library_segments(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (inherited_library(info->dlpi_name))
		return 0;
	for (unsigned i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		leave_out(arg, lo, lo + ph->p_memsz);
	}
	return 0;
}

/* One line of /proc/self/maps: the probes' BPF maps. */
static void maps_line(struct ctx *x, const char *line)
{
	unsigned long lo, hi;
	char path[256] = "";

	if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255[^\n]", &lo, &hi,
		   path) == 3 && !strncmp(path, "anon_inode:bpf", 14))
		leave_out(x, lo, hi);
}

static void leave_out_all(struct ctx *x)
{
	char buf[65536];
	size_t len = 0;
	void *stack;
	size_t stack_len;

	dl_iterate_phdr(library_segments, x);
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		for (ssize_t n; len < sizeof(buf) - 1 &&
				(n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0;)
			len += (size_t)n;
		close(fd);
	}
	buf[len] = 0;
	for (char *line = buf, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = 0;
		maps_line(x, line);
	}
	if (control_stack(x->srv->ctl, &stack, &stack_len) == 0)
		leave_out(x, (uintptr_t)stack, (uintptr_t)stack + stack_len);
	log_debug("fork: %u mappings left out of the children", x->nout);
}

/* Other models fork with glibc (prefork): they get everything back. */
static void inherit_all(struct ctx *x)
{
	for (unsigned i = 0; i < x->nout; i++)
		madvise((void *)x->out[i].lo, x->out[i].hi - x->out[i].lo,
			MADV_DOFORK);
	x->nout = 0;
}

/* The child's connection: in this process's memory, which the parent
 * never touches, so the child pays only for the pages it writes (no
 * malloc: see server_fork_conn()). */
static alignas(4096) unsigned char child_mem[CONN_AT_SIZE];

static int serve_one(struct server *srv, struct stats_slot *s, int fd)
{
	slot_set_role(s, ROLE_CONN);
	slot_set_state(s, WORKER_IDLE);
	struct conn *c = conn_new_at(fd, srv, s, child_mem, sizeof(child_mem));
	if (!c)
		return -ENOMEM;
	c->timeouts_inherited =
		server_inherited_timeout_ms() == srv->cfg->idle_timeout_ms;
	conn_serve_blocking(srv, c);
	return 0;
}

static void on_exit_child(const struct child *c, int status, void *arg)
{
	struct ctx *x = arg;

	uint64_t lost = slot_abort_connections(&x->srv->sb->slots[c->slot]);
	if (WIFSIGNALED(status) && !server_stopping(x->srv))
		log_warnx("connection process %d died of signal %d%s",
			  (int)c->pid, WTERMSIG(status),
			  lost ? " with its connection" : "");
	server_slot_put(x->srv, c->slot);
}

static void spawn(struct ctx *x, int fd)
{
	struct server *srv = x->srv;

	if (x->kids.n >= REAP_BATCH || x->kids.n >= srv->cfg->max_connections)
		children_reap(&x->kids, on_exit_child, x);
	int slot = x->kids.n < srv->cfg->max_connections ?
			   server_slot_get(srv) : -1;

	if (slot < 0) {
		server_refuse(fd, x->slot);
		return;
	}
	int pid = server_fork_conn(srv, (unsigned)slot, fd, serve_one);
	close(fd);	/* the child has its own copy */
	if (pid < 0 || children_add(&x->kids, pid, (unsigned)slot) < 0) {
		uint64_t now = now_ns();
		if (pid < 0 && now - x->last_fork_warning > 1000000000u) {
			errno = -pid;
			log_warn("fork");
			x->last_fork_warning = now;
		}
		if (pid > 0)	/* untracked: stop it rather than lose it */
			kill(pid, SIGKILL);
		else
			server_slot_put(srv, (unsigned)slot);
		slot_add(x->slot, STAT_refused, 1);
	}
}

static int fork_run(struct server *srv)
{
	struct ctx x = { .srv = srv };
	struct pollfd pfd[CONFIG_MAX_LISTEN];
	int rc = 0;

	x.slot = scoreboard_claim(srv->sb, 0);
	slot_set_role(x.slot, ROLE_ACCEPTOR);
	int sigfd = server_sigchld_fd();
	if (sigfd < 0) {
		errno = -sigfd;
		log_error("signalfd");
		return sigfd;
	}
	if (server_slots_init(srv, 1, srv->cfg->max_connections) < 0) {
		close(sigfd);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < srv->nlis; i++)
		pfd[i] = (struct pollfd){ .fd = srv->lis[i].fd, .events = POLLIN };
	conn_io_trim();	/* a previous model's buffers */
	if (server_fork_conn_bare())
		leave_out_all(&x);
	server_child_handlers(srv, true);
	server_listeners_inherit(srv, true);

	/* SIGCHLD stays pending on sigfd (children_stop() waits on it). */
	while (!server_winding_down(srv)) {
		slot_set_state(x.slot, WORKER_IDLE);
		int n = poll(pfd, srv->nlis, x.kids.n ? REAP_MS : -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			log_error("poll");
			break;
		}
		if (n == 0) {
			server_sigchld_drain(sigfd);
			children_reap(&x.kids, on_exit_child, &x);
		}
		for (unsigned i = 0; i < srv->nlis; i++) {
			if (!pfd[i].revents)
				continue;
			int fd = server_accept(srv, pfd[i].fd, x.slot, false);
			if (fd >= 0)
				spawn(&x, fd);
		}
	}
	children_stop(&x.kids, sigfd, srv, STOP_GRACE_MS, on_exit_child, &x);
	children_free(&x.kids);
	inherit_all(&x);
	server_listeners_inherit(srv, false);
	server_child_handlers(srv, false);
	close(sigfd);
	slot_set_state(x.slot, WORKER_FREE);
	return rc;
}

static unsigned fork_slots(const struct config *cfg)
{
	return 1 + cfg->max_connections;
}

const struct evd_model evd_model_fork = {
	.name = "fork",
	.summary = "a process per connection: the parent accepts, a child "
		   "serves with blocking I/O",
	.flags = MODEL_PROCESSES,
	.slots = fork_slots,
	.run = fork_run,
};
