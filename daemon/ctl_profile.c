/* `profile` on the control socket (ctl_profile.h): the commands, run by
 * the control thread, and the profile's own thread, which waits out the
 * profile, reads the counts and names the frames. */
#include "ctl_profile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "../common/ctl_wire.h"
#include "../common/folded.h"
#include "../common/ksyms.h"
#include "../common/symbolize.h"
#include "evloop.h"
#include "log.h"
#include "probes/probes.h"
#include "probes/profile.h"
#include "server.h"
#include "util.h"

_Static_assert(PROFILE_SECONDS_MAX == CTL_PROFILE_SECONDS_MAX, "seconds");
_Static_assert(PROFILE_HZ_MAX == CTL_PROFILE_HZ_MAX, "hz");
_Static_assert(PROFILE_MIN_BLOCK_US_MAX == CTL_PROFILE_MIN_BLOCK_US_MAX,
	       "min block");
_Static_assert(PROFILE_PAGE_BYTES == CTL_PROFILE_PAGE_BYTES, "page");

#define KALLSYMS "/proc/kallsyms"

enum prof_state {
	PS_IDLE,		/* no result */
	PS_RUNNING,		/* attached, counting */
	PS_PROCESSING,		/* detached, naming frames */
	PS_DONE,		/* a result to read */
	PS_FAILED,		/* the last profile's error */
	PS_MAX
};

static const char *const state_names[PS_MAX] = {
	[PS_IDLE] = CTL_PROFILE_S_IDLE, [PS_RUNNING] = CTL_PROFILE_S_RUNNING,
	[PS_PROCESSING] = CTL_PROFILE_S_PROCESSING,
	[PS_DONE] = CTL_PROFILE_S_DONE, [PS_FAILED] = CTL_PROFILE_S_FAILED,
};

/* What the control thread asks of the profile's thread. */
enum want { WANT_NONE, WANT_STOP, WANT_CANCEL, WANT_QUIT };

struct prof_meta {
	enum profile_mode mode;
	unsigned hz;
	uint64_t min_block_us;
	bool per_thread;
	char model[32], proto[16];
	uint64_t started_ns, ends_ns;
	double seconds;			/* how long it ran */
};

/* A result: "VALUE FOLDED" lines, sorted by their frames. */
struct prof_result {
	char **lines;
	size_t n;
	uint64_t total;			/* samples, or us off the CPU */
	uint64_t lost;			/* of those, not counted */
	uint64_t lost_stacks;
};

struct ctl_profile {
	struct server *srv;
	struct profile *kern;		/* NULL: not loaded (why says why) */
	char why[384];
	int kallsyms_fd;		/* opened before the privilege drop */
	bool ctl_ignored;		/* the control thread is left out */
	struct evloop *loop;		/* the control thread's */
	struct timer end;		/* on loop: the running profile ends */

	pthread_mutex_t lock;		/* what follows */
	enum prof_state state;
	_Atomic int want;
	int wakefd;
	pthread_t thread;
	bool joinable;
	struct prof_meta meta;
	struct prof_result res;
	char error[256];		/* PS_FAILED */
};

/* ---- setup ----------------------------------------------------------- */

static void on_end(struct timer *t, void *arg);

void ctl_profile_set_loop(struct ctl_profile *cp, struct evloop *loop)
{
	if (cp)
		cp->loop = loop;
}

struct ctl_profile *ctl_profile_new(struct server *srv, struct probes *probes,
				    bool on)
{
	struct ctl_profile *cp = calloc(1, sizeof(*cp));
	char err[256] = "";

	if (!cp)
		return NULL;
	cp->srv = srv;
	cp->kallsyms_fd = -1;
	timer_init(&cp->end, on_end, cp);
	pthread_mutex_init(&cp->lock, NULL);
	cp->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (on && cp->wakefd < 0) {
		log_warn("[probes] profile = on: cannot make an eventfd");
		snprintf(cp->why, sizeof(cp->why), "the stack profiler could "
			 "not start: eventfd: %s", strerror(errno));
		return cp;
	}
	if (!on) {
		snprintf(cp->why, sizeof(cp->why), "the stack profiler is off: "
			 "set [probes] profile = on in evd.ini and restart evd "
			 "(it loads at startup, before evd drops its "
			 "privileges)");
		return cp;
	}
	int fd = probes ? probes_members_fd(probes, err, sizeof(err)) :
			  -ENOTSUP;
	cp->kern = fd >= 0 ? profile_new() : NULL;
	if (fd >= 0 && !cp->kern)
		snprintf(err, sizeof(err), "out of memory");
	if (fd < 0 || !cp->kern ||
	    profile_load(cp->kern, fd, err, sizeof(err)) < 0) {
		log_warnx("[probes] profile = on: cannot load the stack "
			  "profiler: %s; evctl profile answers so", err);
		snprintf(cp->why, sizeof(cp->why), "the stack profiler could "
			 "not load when evd started: %s", err);
		profile_free(cp->kern);
		cp->kern = NULL;
		return cp;
	}
	/* Kernel addresses show to whoever opened the file with CAP_SYSLOG
	 * (or perf_event_paranoid <= 1): open it now, while evd may. */
	cp->kallsyms_fd = open(KALLSYMS, O_RDONLY | O_CLOEXEC);
	log_info("stack profiler loaded ([probes] profile = on): evctl "
		 "profile samples evd's processes");
	return cp;
}

/* Asks the thread to end (QUIT or CANCEL) and joins it.  Called without
 * the lock. */
static void session_end(struct ctl_profile *cp, enum want w)
{
	uint64_t one = 1;

	pthread_mutex_lock(&cp->lock);
	bool join = cp->joinable;
	cp->joinable = false;
	pthread_mutex_unlock(&cp->lock);
	if (!join)
		return;
	atomic_store(&cp->want, (int)w);
	ssize_t n = write(cp->wakefd, &one, sizeof(one));
	(void)n;
	pthread_join(cp->thread, NULL);
}

static void result_free(struct prof_result *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->lines[i]);
	free(r->lines);
	memset(r, 0, sizeof(*r));
}

void ctl_profile_free(struct ctl_profile *cp)
{
	if (!cp)
		return;
	session_end(cp, WANT_QUIT);
	profile_free(cp->kern);
	result_free(&cp->res);
	if (cp->kallsyms_fd >= 0)
		close(cp->kallsyms_fd);
	if (cp->wakefd >= 0)
		close(cp->wakefd);
	pthread_mutex_destroy(&cp->lock);
	free(cp);
}

void ctl_profile_forget(struct ctl_profile *cp)
{
	if (!cp)
		return;
	profile_forget(cp->kern);
	if (cp->kallsyms_fd >= 0)
		close(cp->kallsyms_fd);
	if (cp->wakefd >= 0)
		close(cp->wakefd);
}

/* ---- naming the frames --------------------------------------------------- */

/* A thread of evd's, for root frames when threads are kept apart. */
struct thread_name {
	uint32_t tid;
	int slot, role;
};

struct build {
	struct ctl_profile *cp;
	struct symbolizer *sym;
	struct ksyms *ks;
	struct folded f;
	bool nested;			/* kernel pids are not ours */
	int self;
	struct thread_name *threads;
	unsigned nthreads;
	/* One stack being assembled, innermost first. */
	char (*names)[SYM_NAME_MAX];	/* FOLDED_DEPTH_MAX of them */
	unsigned nnames;
	unsigned nuser;			/* names[0..nuser) are user frames */
};

/* Appends one name to the stack being assembled (dropped past the
 * limit: the outermost frames go first). */
static int put_name(const char *name, void *arg)
{
	struct build *b = arg;

	if (b->nnames < FOLDED_DEPTH_MAX - 1) {
		size_t len = strnlen(name, SYM_NAME_MAX - 1);
		memcpy(b->names[b->nnames], name, len);
		b->names[b->nnames++][len] = '\0';
	}
	return 0;
}

static void user_frames(struct build *b, const struct profile_entry *e)
{
	uint64_t ips[PROFILE_DEPTH];
	int n = e->ustack ? profile_stack(b->cp->kern, e->ustack, ips,
					  PROFILE_DEPTH) : 0;

	if (n < 0)
		put_name("[lost_stack]", b);
	for (int i = 0; i < n; i++) {
		int pid = b->nested ? b->self : (int)e->tgid;
		char name[64];
		if (sym_user(b->sym, pid, ips[i], i > 0, put_name, b) >= 0)
			continue;
		snprintf(name, sizeof(name), "[unknown]+0x%" PRIx64, ips[i]);
		put_name(name, b);
	}
}

static void kernel_frames(struct build *b, const struct profile_entry *e)
{
	uint64_t ips[PROFILE_DEPTH], off;
	int n = e->kstack ? profile_stack(b->cp->kern, e->kstack, ips,
					  PROFILE_DEPTH) : 0;
	char name[SYM_NAME_MAX + 8], clean[SYM_NAME_MAX - 4];

	if (n < 0)
		put_name("[lost_stack]_[k]", b);
	for (int i = 0; i < n; i++) {
		const char *s = b->ks ? ksyms_find(b->ks, ips[i], &off) : NULL;
		if (s) {
			folded_clean(clean, sizeof(clean), s);
			snprintf(name, sizeof(name), "%s_[k]", clean);
		} else {
			snprintf(name, sizeof(name), "[kernel.kallsyms]+0x%"
				 PRIx64 "_[k]", ips[i]);
		}
		put_name(name, b);
	}
}

/* The root frame naming a thread: "ROLE#SLOT:tid=TID", "thread:tid=TID"
 * for a thread without a scoreboard slot (the master of a pool, a
 * connection's process gone since). */
static void thread_frame(const struct build *b, uint32_t tid, char *out,
			 size_t len)
{
	for (unsigned i = 0; i < b->nthreads; i++) {
		const struct thread_name *t = &b->threads[i];
		if (t->tid != tid)
			continue;
		snprintf(out, len, "%s#%d:tid=%" PRIu32,
			 t->role >= 0 && t->role < ROLE_MAX ?
			 worker_role_names[t->role] : "worker", t->slot, tid);
		return;
	}
	snprintf(out, len, "thread:tid=%" PRIu32, tid);
}

/* One count: its frames named and added, root first. */
static int add_entry(const struct profile_entry *e, void *arg)
{
	struct build *b = arg;
	const char *frames[FOLDED_DEPTH_MAX];
	char root[64];
	unsigned d = 0;

	if (atomic_load(&b->cp->want) == WANT_CANCEL ||
	    atomic_load(&b->cp->want) == WANT_QUIT)
		return -ECANCELED;
	b->nnames = 0;
	user_frames(b, e);
	b->nuser = b->nnames;
	kernel_frames(b, e);
	if (b->cp->meta.per_thread) {
		thread_frame(b, e->tid, root, sizeof(root));
		frames[d++] = root;
	}
	for (unsigned i = b->nuser; i-- > 0;)
		frames[d++] = b->names[i];
	for (unsigned i = b->nnames; i-- > b->nuser;)
		frames[d++] = b->names[i];
	if (d == 0)
		frames[d++] = "[no_stack]";
	return folded_add(&b->f, frames, d, e->value);
}

/* The scoreboard's threads (the main thread may swap the scoreboard on
 * a reload: read under swap_lock). */
static void thread_names(struct build *b)
{
	struct server *srv = b->cp->srv;

	pthread_rwlock_rdlock(&srv->swap_lock);
	const struct scoreboard *sb = srv->sb;
	unsigned used = sb ? atomic_load(&((struct scoreboard *)sb)->used) : 0;
	if (sb && used > sb->nslots)
		used = sb->nslots;
	b->threads = calloc(used ? used : 1, sizeof(*b->threads));
	for (unsigned i = 0; b->threads && i < used; i++) {
		const struct stats_slot *s = &sb->slots[i];
		b->threads[b->nthreads++] = (struct thread_name){
			.tid = (uint32_t)atomic_load(&s->tid), .slot = (int)i,
			.role = atomic_load(&s->role),
		};
	}
	pthread_rwlock_unlock(&srv->swap_lock);
}

/* ns to us, to the nearest, in every stack (off-CPU). */
static void to_us(struct folded *f)
{
	f->total = 0;
	for (size_t i = 0; i < f->n; i++) {
		f->v[i].value = (f->v[i].value + 500) / 1000;
		f->total += f->v[i].value;
	}
}

/* "VALUE FOLDED" of stack s, malloc'd; its length in *len. */
static char *line_of(const struct folded_stack *s, size_t *len)
{
	char *buf = NULL;
	size_t sz = 0;
	FILE *m = open_memstream(&buf, &sz);

	if (!m)
		return NULL;
	fprintf(m, "%" PRIu64 " ", s->value);
	for (unsigned j = 0; j < s->depth; j++)
		fprintf(m, "%s%s", j ? ";" : "", s->frame[j]);
	if (fclose(m) != 0) {
		free(buf);
		return NULL;
	}
	*len = sz;
	return buf;
}

static int by_value_desc(const void *a, const void *b)
{
	const struct folded_stack *x = *(struct folded_stack *const *)a,
				  *y = *(struct folded_stack *const *)b;

	return x->value > y->value ? -1 : x->value < y->value;
}

/*
 * Bounds the result: when the lines would pass PROFILE_OUT_MAX, the
 * heaviest stacks stay and the rest becomes one "[truncated:N_stacks]"
 * stack with their value (the total stays whole).  0 or -ENOMEM.
 */
static int bound(struct folded *f)
{
	size_t bytes = 0;

	for (size_t i = 0; i < f->n; i++) {
		bytes += 24;
		for (unsigned j = 0; j < f->v[i].depth; j++)
			bytes += strlen(f->v[i].frame[j]) + 1;
	}
	if (bytes <= PROFILE_OUT_MAX)
		return 0;
	struct folded_stack **by = malloc(f->n * sizeof(*by));
	struct folded kept = { 0 };
	if (!by)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++)
		by[i] = &f->v[i];
	qsort(by, f->n, sizeof(*by), by_value_desc);
	size_t used = 64, n = 0;
	uint64_t rest = 0;
	int rc = 0;
	for (size_t i = 0; i < f->n && rc == 0; i++) {
		size_t need = 24;
		for (unsigned j = 0; j < by[i]->depth; j++)
			need += strlen(by[i]->frame[j]) + 1;
		if (used + need > PROFILE_OUT_MAX) {
			rest += by[i]->value;
			n++;
			continue;
		}
		used += need;
		rc = folded_add(&kept, by[i]->frame, by[i]->depth,
				by[i]->value);
	}
	char name[48];
	snprintf(name, sizeof(name), "[truncated:%zu_stacks]", n);
	const char *frames[] = { name };
	if (rc == 0)
		rc = folded_add(&kept, frames, 1, rest);
	free(by);
	if (rc < 0) {
		folded_free(&kept);
		return rc;
	}
	folded_free(f);
	*f = kept;
	folded_sort(f);
	return 0;
}

/* The folded stacks as the result's lines. */
static int render(const struct folded *f, struct prof_result *r)
{
	r->lines = calloc(f->n ? f->n : 1, sizeof(*r->lines));
	if (!r->lines)
		return -ENOMEM;
	for (size_t i = 0; i < f->n; i++, r->n++) {
		size_t len;
		if (!(r->lines[i] = line_of(&f->v[i], &len)))
			return -ENOMEM;
	}
	r->total = f->total;
	return 0;
}

/* Reads the counts and names their frames into r.  0 or -errno
 * (-ECANCELED when asked to stop meanwhile), with err filled. */
static int build(struct ctl_profile *cp, struct prof_result *r, char *err,
		 size_t errlen)
{
	struct build b = { .cp = cp, .self = (int)getpid() };
	uint32_t ktgid = 0, ktid;
	int rc = -ENOMEM;

	b.sym = sym_new();
	b.names = malloc(FOLDED_DEPTH_MAX * sizeof(*b.names));
	if (!b.sym || !b.names) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	uint64_t t0 = now_ns();
	int kfd = cp->kallsyms_fd >= 0 ? cp->kallsyms_fd :
					 open(KALLSYMS, O_RDONLY | O_CLOEXEC);
	if (kfd >= 0)
		b.ks = ksyms_read(kfd);
	if (kfd >= 0 && kfd != cp->kallsyms_fd)
		close(kfd);
	log_debug("profile: %zu kernel symbols read in %.0f ms%s",
		  b.ks ? ksyms_count(b.ks) : 0, (double)(now_ns() - t0) / 1e6,
		  b.ks ? "" : " (none: kernel frames stay addresses)");
	b.nested = profile_kernel_ids(cp->kern, &ktgid, &ktid) == 0 &&
		   ktgid != (uint32_t)b.self;
	if (cp->meta.per_thread && !b.nested)
		thread_names(&b);
	rc = profile_read(cp->kern, add_entry, &b);
	if (rc < 0) {
		snprintf(err, errlen, "cannot read the counts: %s",
			 strerror(-rc));
		goto out;
	}
	folded_sort(&b.f);
	struct profile_lost lost;
	profile_lost(cp->kern, &lost);
	r->lost = lost.value;
	r->lost_stacks = lost.stacks;
	if (cp->meta.mode == PROFILE_OFFCPU) {
		to_us(&b.f);
		r->lost = (lost.value + 500) / 1000;
	}
	rc = bound(&b.f);
	if (rc == 0)
		rc = render(&b.f, r);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
out:
	folded_free(&b.f);
	sym_free(b.sym);
	ksyms_free(b.ks);
	free(b.names);
	free(b.threads);
	return rc;
}

/* ---- the profile's thread ------------------------------------------------ */

/* Waits until deadline (CLOCK_MONOTONIC ns; UINT64_MAX: none) or a
 * request; returns it
 * (WANT_NONE at the deadline) and clears it.  A result kept waits for
 * QUIT or CANCEL only (a STOP that came as the profile ended is moot). */
static enum want wait_until(struct ctl_profile *cp, uint64_t deadline,
			    bool kept)
{
	for (;;) {
		enum want w = (enum want)atomic_exchange(&cp->want, WANT_NONE);
		if (w != WANT_NONE && !(kept && w == WANT_STOP))
			return w;
		uint64_t now = now_ns();
		if (now >= deadline)
			return WANT_NONE;
		uint64_t ms = deadline - now > 60000000000ull ? 60000 :
			      (deadline - now + 999999) / 1000000;
		struct pollfd pfd = { .fd = cp->wakefd, .events = POLLIN };
		if (poll(&pfd, 1, (int)ms) > 0) {
			uint64_t v;
			ssize_t n = read(cp->wakefd, &v, sizeof(v));
			(void)n;
		}
	}
}

/* Detached: names the frames and publishes the result (or the error). */
static enum want process(struct ctl_profile *cp)
{
	struct prof_result r = { 0 };
	char err[256] = "";
	uint64_t t0 = now_ns();

	pthread_mutex_lock(&cp->lock);
	cp->state = PS_PROCESSING;
	pthread_mutex_unlock(&cp->lock);
	int rc = build(cp, &r, err, sizeof(err));
	profile_clear(cp->kern);
	if (rc == -ECANCELED) {
		result_free(&r);
		return (enum want)atomic_exchange(&cp->want, WANT_NONE);
	}
	pthread_mutex_lock(&cp->lock);
	if (rc < 0) {
		result_free(&r);
		cp->state = PS_FAILED;
		snprintf(cp->error, sizeof(cp->error), "%s", err);
		log_warnx("profile failed: %s", err);
	} else {
		cp->res = r;
		cp->state = PS_DONE;
		log_info("profile done: %zu stacks, %" PRIu64 " %s, named in "
			 "%.0f ms", r.n, r.total, cp->meta.mode == PROFILE_CPU ?
			 "samples" : "us off the CPU",
			 (double)(now_ns() - t0) / 1e6);
	}
	pthread_mutex_unlock(&cp->lock);
	return rc < 0 ? WANT_QUIT : wait_until(cp, now_ns() +
					       PROFILE_KEEP_S * 1000000000ull,
					       true);
}

static void *session(void *arg)
{
	struct ctl_profile *cp = arg;

	/* Its waiting is not evd's. */
	if (profile_ignore_thread(cp->kern, true) < 0)
		log_warnx("profile: cannot leave its own thread out");
	/* The control thread's timer (on_end) or `stop` ends it. */
	enum want w = wait_until(cp, UINT64_MAX, false);
	profile_stop(cp->kern);
	pthread_mutex_lock(&cp->lock);
	cp->meta.seconds = (double)(now_ns() - cp->meta.started_ns) / 1e9;
	pthread_mutex_unlock(&cp->lock);
	if (w != WANT_CANCEL && w != WANT_QUIT)
		w = process(cp);
	else
		profile_clear(cp->kern);
	/* Ended, cancelled or kept long enough: the result goes. */
	pthread_mutex_lock(&cp->lock);
	if (cp->state != PS_FAILED || w == WANT_CANCEL)
		cp->state = PS_IDLE;
	result_free(&cp->res);
	pthread_mutex_unlock(&cp->lock);
	profile_ignore_thread(cp->kern, false);
	return NULL;
}

/* ---- commands -------------------------------------------------------------- */

/* Asks the profile's thread to stop a running profile; false when none
 * runs. */
static bool ask_stop(struct ctl_profile *cp)
{
	uint64_t one = 1;

	pthread_mutex_lock(&cp->lock);
	bool running = cp->state == PS_RUNNING;
	pthread_mutex_unlock(&cp->lock);
	if (!running)
		return false;
	atomic_store(&cp->want, WANT_STOP);
	ssize_t n = write(cp->wakefd, &one, sizeof(one));
	(void)n;
	return true;
}

/* The control thread's timer: the running profile's time is up. */
static void on_end(struct timer *t, void *arg)
{
	(void)t;
	ask_stop(arg);
}

/* A reply being written (open_memstream). */
struct reply {
	char *buf;
	size_t len;
	FILE *f;
};

static bool reply_open(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->buf, &r->len);
	return r->f != NULL;
}

/* The reply's text, or NULL when out of memory. */
static char *reply_close(struct reply *r)
{
	if (fclose(r->f) != 0) {
		free(r->buf);
		return NULL;
	}
	return r->buf;
}

/* Parses a whole decimal number in [min, max]. */
static bool number(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || strlen(s) > 12)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return v >= min && v <= max;
}

/* "start cpu|offcpu SECONDS HZ|MIN_BLOCK_US [workers]" into o and m;
 * false with the ERROR line written. */
static bool parse_start(FILE *f, int argc, char **argv,
			struct profile_opts *o, struct prof_meta *m)
{
	uint64_t secs, third;
	bool cpu = !strcmp(argv[0], CTL_PROFILE_CPU);

	if (!cpu && strcmp(argv[0], CTL_PROFILE_OFFCPU)) {
		fprintf(f, "ERROR unknown profile \"%.20s\" (expected cpu or "
			"offcpu)\n", argv[0]);
		return false;
	}
	if (!number(argv[1], 1, PROFILE_SECONDS_MAX, &secs)) {
		fprintf(f, "ERROR seconds \"%.20s\" out of range (1..%d)\n",
			argv[1], PROFILE_SECONDS_MAX);
		return false;
	}
	if (cpu && !number(argv[2], 1, PROFILE_HZ_MAX, &third)) {
		fprintf(f, "ERROR frequency \"%.20s\" out of range (1..%d "
			"Hz)\n", argv[2], PROFILE_HZ_MAX);
		return false;
	}
	if (!cpu && !number(argv[2], 0, PROFILE_MIN_BLOCK_US_MAX, &third)) {
		fprintf(f, "ERROR minimum block \"%.20s\" out of range (0..%llu "
			"us)\n", argv[2], PROFILE_MIN_BLOCK_US_MAX);
		return false;
	}
	if (argc == 4 && strcmp(argv[3], CTL_PROFILE_WORKERS)) {
		fprintf(f, "ERROR unknown option \"%.20s\" (expected "
			"workers)\n", argv[3]);
		return false;
	}
	*o = (struct profile_opts){
		.mode = cpu ? PROFILE_CPU : PROFILE_OFFCPU,
		.hz = cpu ? (unsigned)third : 0,
		.min_block_ns = cpu ? 0 : third * 1000,
		.per_thread = argc == 4,
	};
	memset(m, 0, sizeof(*m));
	m->mode = o->mode;
	m->hz = o->hz;
	m->min_block_us = cpu ? 0 : third;
	m->per_thread = o->per_thread;
	m->ends_ns = secs;	/* seconds until started */
	return true;
}

/* Attaches and starts the thread (the lock held, no thread alive);
 * false with the ERROR line written. */
static bool launch(struct ctl_profile *cp, FILE *f, const struct profile_opts *o,
		   struct prof_meta *m)
{
	char err[256] = "";
	uint64_t secs = m->ends_ns;

	if (!cp->loop || evloop_timer_reserve(cp->loop, 1) < 0) {
		fprintf(f, "ERROR cannot start the profile: the control thread "
			"cannot time it\n");
		return false;
	}
	if (!cp->ctl_ignored)
		cp->ctl_ignored = profile_ignore_thread(cp->kern, true) == 0;
	snprintf(m->model, sizeof(m->model), "%s", cp->srv->model->name);
	snprintf(m->proto, sizeof(m->proto), "%s", cp->srv->proto->name);
	if (profile_start(cp->kern, o, err, sizeof(err)) < 0) {
		fprintf(f, "ERROR cannot start the profile: %s\n", err);
		return false;
	}
	m->started_ns = now_ns();
	m->ends_ns = m->started_ns + secs * 1000000000ull;
	cp->meta = *m;
	cp->state = PS_RUNNING;
	atomic_store(&cp->want, WANT_NONE);
	int rc = pthread_create(&cp->thread, NULL, session, cp);
	if (rc) {
		profile_stop(cp->kern);
		cp->state = PS_IDLE;
		fprintf(f, "ERROR cannot start the profile's thread: %s\n",
			strerror(rc));
		return false;
	}
	cp->joinable = true;
	/* Room reserved (control_open()): arming cannot fail. */
	evloop_timer_add(cp->loop, &cp->end, m->ends_ns);
	if (m->mode == PROFILE_CPU)
		log_info("profile started: on-CPU for %" PRIu64 " s at %u Hz%s",
			 secs, m->hz, m->per_thread ? ", per thread" : "");
	else
		log_info("profile started: off-CPU for %" PRIu64 " s, blocks "
			 "from %" PRIu64 " us%s", secs, m->min_block_us,
			 m->per_thread ? ", per thread" : "");
	return true;
}

static void cmd_start(struct ctl_profile *cp, FILE *f, int argc, char **argv)
{
	struct profile_opts o;
	struct prof_meta m;

	if (!parse_start(f, argc, argv, &o, &m))
		return;
	pthread_mutex_lock(&cp->lock);
	enum prof_state st = cp->state;
	uint64_t ends = cp->meta.ends_ns;
	pthread_mutex_unlock(&cp->lock);
	if (st == PS_RUNNING || st == PS_PROCESSING) {
		fprintf(f, "ERROR a profile is %s (%.0f s left); wait for it, "
			"or end it with `evctl profile --cancel`\n",
			st == PS_RUNNING ? "running" : "being processed",
			st == PS_RUNNING && ends > now_ns() ?
			(double)(ends - now_ns()) / 1e9 : 0.0);
		return;
	}
	session_end(cp, WANT_QUIT);	/* a kept result goes */
	pthread_mutex_lock(&cp->lock);
	result_free(&cp->res);
	cp->state = PS_IDLE;
	if (launch(cp, f, &o, &m))
		fprintf(f, "state running\nseconds %" PRIu64 "\nEND\n",
			(uint64_t)((m.ends_ns - m.started_ns) / 1000000000u));
	pthread_mutex_unlock(&cp->lock);
}

static void cmd_status(struct ctl_profile *cp, FILE *f, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	pthread_mutex_lock(&cp->lock);
	fprintf(f, "state %s\n", state_names[cp->state]);
	if (cp->state == PS_RUNNING) {
		uint64_t now = now_ns();
		fprintf(f, "seconds_left %.1f\n", cp->meta.ends_ns > now ?
			(double)(cp->meta.ends_ns - now) / 1e9 : 0.0);
	} else if (cp->state == PS_DONE) {
		fprintf(f, "stacks %zu\ntotal %" PRIu64 "\n", cp->res.n,
			cp->res.total);
	} else if (cp->state == PS_FAILED) {
		fprintf(f, "error %s\n", cp->error);
	}
	pthread_mutex_unlock(&cp->lock);
	fprintf(f, "END\n");
}

/* Why there is nothing to read now (the lock held). */
static void no_result(struct ctl_profile *cp, FILE *f)
{
	uint64_t now = now_ns();

	switch (cp->state) {
	case PS_RUNNING:
		fprintf(f, "ERROR the profile is running (%.1f s left)\n",
			cp->meta.ends_ns > now ?
			(double)(cp->meta.ends_ns - now) / 1e9 : 0.0);
		break;
	case PS_PROCESSING:
		fprintf(f, "ERROR the profile is being processed; try again "
			"in a moment\n");
		break;
	case PS_FAILED:
		fprintf(f, "ERROR the profile failed: %s\n", cp->error);
		break;
	default:
		fprintf(f, "ERROR no profile to read (start one: evctl "
			"profile)\n");
	}
}

/* "read OFFSET": the header, then stack lines from OFFSET. */
static void cmd_read(struct ctl_profile *cp, FILE *f, int argc, char **argv)
{
	uint64_t off;
	const struct prof_meta *m = &cp->meta;

	(void)argc;
	pthread_mutex_lock(&cp->lock);
	if (cp->state != PS_DONE) {
		no_result(cp, f);
		goto out;
	}
	if (!number(argv[0], 0, cp->res.n, &off)) {
		fprintf(f, "ERROR offset \"%.20s\" out of range (0..%zu)\n",
			argv[0], cp->res.n);
		goto out;
	}
	bool cpu = m->mode == PROFILE_CPU;
	fprintf(f, "mode %s\nmodel %s\nprotocol %s\nseconds %.3f\n",
		cpu ? "cpu" : "offcpu", m->model, m->proto, m->seconds);
	if (cpu)
		fprintf(f, "hz %u\n", m->hz);
	else
		fprintf(f, "min_block_us %" PRIu64 "\n", m->min_block_us);
	fprintf(f, "workers %s\nunit %s\ntotal %" PRIu64 "\nlost %" PRIu64
		"\nlost_stacks %" PRIu64 "\nstacks %zu\noffset %" PRIu64 "\n",
		m->per_thread ? "yes" : "no", cpu ? "samples" : "us",
		cp->res.total, cp->res.lost, cp->res.lost_stacks, cp->res.n,
		off);
	size_t i = (size_t)off, bytes = 0;
	for (; i < cp->res.n; i++) {
		size_t len = strlen(cp->res.lines[i]);
		if (bytes && bytes + len > PROFILE_PAGE_BYTES)
			break;
		bytes += len + 7;
		fprintf(f, "stack %s\n", cp->res.lines[i]);
	}
	fprintf(f, "next %zu\nEND\n", i);
out:
	pthread_mutex_unlock(&cp->lock);
}

static void cmd_stop(struct ctl_profile *cp, FILE *f, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	if (!ask_stop(cp)) {
		fprintf(f, "ERROR no profile is running\n");
		return;
	}
	evloop_timer_del(cp->loop, &cp->end);
	fprintf(f, "state stopping\nEND\n");
}

/* Ends a profile at once and drops its result (joining the thread: it
 * only detaches and empties the maps, or leaves off naming frames). */
static void cmd_cancel(struct ctl_profile *cp, FILE *f, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	evloop_timer_del(cp->loop, &cp->end);
	session_end(cp, WANT_CANCEL);
	pthread_mutex_lock(&cp->lock);
	cp->state = PS_IDLE;
	result_free(&cp->res);
	pthread_mutex_unlock(&cp->lock);
	fprintf(f, "state idle\nEND\n");
}

static const struct {
	const char *name;
	int min_args, max_args;
	bool changes_state;
	bool needs_kern;
	void (*fn)(struct ctl_profile *cp, FILE *f, int argc, char **argv);
} subs[] = {
	{ CTL_PROFILE_START, 3, 4, true, true, cmd_start },
	{ CTL_PROFILE_STATUS, 0, 0, false, false, cmd_status },
	{ CTL_PROFILE_READ, 1, 1, false, false, cmd_read },
	{ CTL_PROFILE_STOP, 0, 0, true, false, cmd_stop },
	{ CTL_PROFILE_CANCEL, 0, 0, true, false, cmd_cancel },
};

bool ctl_profile_changes_state(int argc, char **argv)
{
	for (size_t i = 0; argc > 0 && i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[0], subs[i].name))
			return subs[i].changes_state;
	return false;
}

char *ctl_profile_cmd(struct ctl_profile *cp, int argc, char **argv)
{
	struct reply r;

	if (!reply_open(&r))
		return NULL;
	size_t i = 0;
	for (; argc > 0 && i < ARRAY_SIZE(subs); i++)
		if (!strcmp(argv[0], subs[i].name))
			break;
	if (argc == 0 || i == ARRAY_SIZE(subs) ||
	    argc - 1 < subs[i].min_args || argc - 1 > subs[i].max_args)
		fprintf(r.f, "ERROR usage: %s\n", CTL_PROFILE_USAGE);
	else if (!cp || (subs[i].needs_kern && !cp->kern))
		fprintf(r.f, "ERROR %s\n", cp ? cp->why :
			"the stack profiler is unavailable");
	else
		subs[i].fn(cp, r.f, argc - 1, argv + 1);
	return reply_close(&r);
}
