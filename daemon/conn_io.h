/* The buffers of a connection while a request or reply is in flight, from
 * a per-thread pool: a readiness connection takes a block when input
 * arrives and gives it back once nothing is owed, so an idle keep-alive
 * connection holds only its struct conn (the C10K case). */
#ifndef EVD_CONN_IO_H
#define EVD_CONN_IO_H

#include <stdint.h>

#include "config.h"

#define CONN_IN_SIZE CONFIG_IN_BUFFER
#define CONN_OUT_SIZE (64 * 1024)
#define CONN_RUNS 16
/* Free blocks a thread keeps at most; more are unmapped at once.  Those
 * no connection needed for CONN_IO_DECAY_MS are unmapped too: the pool
 * follows the connections in flight at once, and empties when all idle. */
#define CONN_IO_POOL_MAX 1024
#define CONN_IO_DECAY_MS 1000

/* Requests whose responses end at out offset end_off, started at start_ns. */
struct req_run {
	uint64_t start_ns;
	uint64_t end_off;
	uint64_t count;
};

struct conn_io {
	struct conn_io *next;	/* the pool's free list */
	struct req_run runs[CONN_RUNS];	/* answered, not yet fully sent */
	char in[CONN_IN_SIZE];
	char out[CONN_OUT_SIZE];
};

/* A block from the calling thread's pool, or a new one (mapped, zeroed);
 * NULL when out of memory.  A pooled block's contents are undefined. */
struct conn_io *conn_io_get(void);

/* Gives io (not NULL) back to the calling thread's pool, or frees it when
 * the pool is full.  A thread's pool is freed when the thread exits. */
void conn_io_put(struct conn_io *io);

/*
 * The pool's clock, for the loop that owns it (conn_list_due() calls it):
 * once CONN_IO_DECAY_MS have passed since the last check, frees the blocks
 * that stayed unused all that time.  Returns when (CLOCK_MONOTONIC ns) the
 * next check is due, 0 when the pool is empty (nothing to wake up for).
 */
uint64_t conn_io_decay(uint64_t now);
/* The same due time, without checking (0: none). */
uint64_t conn_io_decay_due(void);

/* Frees the calling thread's pool; returns the blocks freed. */
unsigned conn_io_trim(void);

/* Blocks the calling thread's pool holds now (for tests). */
unsigned conn_io_pooled(void);

#endif
