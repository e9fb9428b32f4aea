#include "conn_io.h"

#include <pthread.h>
#include <stdbool.h>
#include <sys/mman.h>

/* Blocks are mapped one by one, so that one freed is memory given back. */
#define BLOCK_LEN ((sizeof(struct conn_io) + 4095) & ~(size_t)4095)
#define DECAY_NS ((uint64_t)CONN_IO_DECAY_MS * 1000000u)

struct pool {
	struct conn_io *head;	/* the latest given back first */
	unsigned n;
	unsigned low;		/* fewest free blocks since decay_at was set */
	uint64_t decay_at;	/* 0: no check planned */
	bool keyed;		/* the exit destructor is set for this thread */
};

static __thread struct pool pool;
static pthread_key_t pool_key;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void block_free(struct conn_io *io)
{
	munmap(io, BLOCK_LEN);
}

/* Frees the blocks after the first keep. */
static void pool_cut(struct pool *p, unsigned keep)
{
	struct conn_io **link = &p->head;

	for (unsigned i = 0; i < keep && *link; i++)
		link = &(*link)->next;
	while (*link) {
		struct conn_io *io = *link;
		*link = io->next;
		block_free(io);
		p->n--;
	}
	p->low = p->n;
}

/* At thread exit: the thread's pool goes with it. */
static void on_thread_exit(void *arg)
{
	pool_cut(arg, 0);
}

static void make_key(void)
{
	(void)pthread_key_create(&pool_key, on_thread_exit);
}

struct conn_io *conn_io_get(void)
{
	struct conn_io *io = pool.head;

	if (io) {
		pool.head = io->next;
		if (--pool.n < pool.low)
			pool.low = pool.n;
		return io;
	}
	io = mmap(NULL, BLOCK_LEN, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return io == MAP_FAILED ? NULL : io;
}

void conn_io_put(struct conn_io *io)
{
	if (pool.n >= CONN_IO_POOL_MAX) {
		block_free(io);
		return;
	}
	if (!pool.keyed) {
		pthread_once(&pool_once, make_key);
		pool.keyed = pthread_setspecific(pool_key, &pool) == 0;
		if (!pool.keyed) {	/* nothing would free it at exit */
			block_free(io);
			return;
		}
	}
	io->next = pool.head;
	pool.head = io;
	pool.n++;
}

uint64_t conn_io_decay(uint64_t now)
{
	if (!pool.n) {
		pool.decay_at = 0;
		return 0;
	}
	if (!pool.decay_at) {
		pool.decay_at = now + DECAY_NS;
		pool.low = pool.n;
	} else if (now >= pool.decay_at) {
		/* pool.low blocks stayed unused for a whole period. */
		pool_cut(&pool, pool.n - pool.low);
		pool.decay_at = pool.n ? now + DECAY_NS : 0;
	}
	return pool.decay_at;
}

uint64_t conn_io_decay_due(void)
{
	return pool.n ? pool.decay_at : 0;
}

unsigned conn_io_trim(void)
{
	unsigned n = pool.n;

	pool_cut(&pool, 0);
	pool.decay_at = 0;
	return n;
}

unsigned conn_io_pooled(void)
{
	return pool.n;
}
