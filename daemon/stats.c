#include "stats.h"

#include <pthread.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util.h"

const char *const stat_keys[STAT_MAX] = {
#define X(f, k, d) [STAT_##f] = k,
	STATS_COUNTERS(X)
#undef X
};

const char *const worker_state_names[WORKER_STATE_MAX] = {
	[WORKER_FREE] = "free",
	[WORKER_IDLE] = "idle",
	[WORKER_READING] = "reading",
	[WORKER_WRITING] = "writing",
	[WORKER_WAITING] = "waiting",
};

const char *const worker_role_names[ROLE_MAX] = {
	[ROLE_LOOP] = "loop",
	[ROLE_MASTER] = "master",
	[ROLE_ACCEPTOR] = "acceptor",
	[ROLE_WORKER] = "worker",
	[ROLE_CONN] = "conn",
	[ROLE_MUX] = "mux",
};

const struct hist_layout stats_hist_layout = {
	.sub_bits = STATS_HIST_SUB_BITS,
	.max_bits = STATS_HIST_MAX_BITS,
};

struct scoreboard *scoreboard_create(unsigned nslots)
{
	size_t len = sizeof(struct scoreboard) +
		     (size_t)nslots * sizeof(struct stats_slot);
	struct scoreboard *sb = mmap(NULL, len, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (sb == MAP_FAILED)
		return NULL;
	/* Fresh anonymous pages are zero: every counter starts at 0. */
	sb->nslots = nslots;
	sb->map_len = len;
	sb->start_mono_ns = now_ns();
	sb->start_real_ns = now_real_ns();
	return sb;
}

void scoreboard_destroy(struct scoreboard *sb)
{
	if (sb)
		munmap(sb, sb->map_len);
}

/* getpid() once per process (a thread per connection claims a slot each):
 * forgotten in a child of fork(). */
static _Atomic int self_pid;
static pthread_once_t self_pid_once = PTHREAD_ONCE_INIT;

static void self_pid_forget(void)
{
	atomic_store(&self_pid, 0);
}

static void self_pid_init(void)
{
	pthread_atfork(NULL, NULL, self_pid_forget);
}

static int my_pid(void)
{
	int pid = atomic_load_explicit(&self_pid, memory_order_relaxed);

	if (!pid) {
		pthread_once(&self_pid_once, self_pid_init);
		pid = (int)getpid();
		atomic_store_explicit(&self_pid, pid, memory_order_relaxed);
	}
	return pid;
}

struct stats_slot *scoreboard_claim(struct scoreboard *sb, unsigned i)
{
	if (i >= sb->nslots)
		abort();	/* a model asked for more slots than it sized */
	struct stats_slot *s = &sb->slots[i];
	unsigned used = atomic_load(&sb->used);

	while (used < i + 1 &&
	       !atomic_compare_exchange_weak(&sb->used, &used, i + 1))
		;
	atomic_store_explicit(&s->pid, my_pid(), memory_order_relaxed);
	atomic_store_explicit(&s->tid, (int)gettid(), memory_order_relaxed);
	slot_set_state(s, WORKER_IDLE);
	return s;
}

void scoreboard_claim_for(struct scoreboard *sb, unsigned i, int pid)
{
	if (i >= sb->nslots)
		abort();	/* a model asked for more slots than it sized */
	struct stats_slot *s = &sb->slots[i];
	unsigned used = atomic_load(&sb->used);

	while (used < i + 1 &&
	       !atomic_compare_exchange_weak(&sb->used, &used, i + 1))
		;
	atomic_store_explicit(&s->pid, pid, memory_order_relaxed);
	atomic_store_explicit(&s->tid, pid, memory_order_relaxed);
}

uint64_t slot_abort_connections(struct stats_slot *s)
{
	uint64_t acc = atomic_load_explicit(&s->c[STAT_accepted],
					    memory_order_relaxed);
	uint64_t clo = atomic_load_explicit(&s->c[STAT_closed],
					    memory_order_relaxed);

	if (acc <= clo)
		return 0;
	slot_add(s, STAT_closed, acc - clo);
	slot_add(s, STAT_err_aborted, acc - clo);
	return acc - clo;
}

void slot_latency(struct stats_slot *s, uint64_t ns, uint64_t count)
{
	unsigned i = hist_index(stats_hist_layout, ns);
	uint64_t v = atomic_load_explicit(&s->hist[i], memory_order_relaxed);

	atomic_store_explicit(&s->hist[i], v + count, memory_order_relaxed);
	v = atomic_load_explicit(&s->lat_sum_ns, memory_order_relaxed);
	atomic_store_explicit(&s->lat_sum_ns, v + ns * count,
			      memory_order_relaxed);
	if (ns > atomic_load_explicit(&s->lat_max_ns, memory_order_relaxed))
		atomic_store_explicit(&s->lat_max_ns, ns, memory_order_relaxed);
}

void scoreboard_sum(const struct scoreboard *sb, struct stats_total *t)
{
	unsigned used = atomic_load(&((struct scoreboard *)sb)->used);

	memset(t, 0, sizeof(*t));
	for (unsigned i = 0; i < used && i < sb->nslots; i++) {
		const struct stats_slot *s = &sb->slots[i];
		for (int k = 0; k < STAT_MAX; k++)
			t->c[k] += atomic_load_explicit(&s->c[k],
							memory_order_relaxed);
		for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++)
			t->hist[b] += atomic_load_explicit(&s->hist[b],
							   memory_order_relaxed);
		t->lat_sum_ns += atomic_load_explicit(&s->lat_sum_ns,
						      memory_order_relaxed);
		uint64_t m = atomic_load_explicit(&s->lat_max_ns,
						  memory_order_relaxed);
		if (m > t->lat_max_ns)
			t->lat_max_ns = m;
	}
}
