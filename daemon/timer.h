/* A binary min-heap of timers.  Timers are embedded in their owners (no
 * allocation per timer) and know their heap index, so cancelling is
 * O(log n).  One heap per thread: no locking. */
#ifndef EVD_TIMER_H
#define EVD_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#define TIMER_UNARMED UINT32_MAX

struct timer;
typedef void timer_fn(struct timer *t, void *arg);

struct timer {
	uint64_t when;		/* CLOCK_MONOTONIC deadline, ns */
	uint64_t seq;		/* insertion order breaks ties: FIFO */
	uint32_t idx;		/* heap index, TIMER_UNARMED when not armed */
	timer_fn *fn;
	void *arg;
};

struct timer_heap {
	struct timer **v;
	uint32_t n, cap;
	uint64_t seq;
};

static inline void timer_init(struct timer *t, timer_fn *fn, void *arg)
{
	t->idx = TIMER_UNARMED;
	t->fn = fn;
	t->arg = arg;
	t->when = 0;
	t->seq = 0;
}

static inline bool timer_armed(const struct timer *t)
{
	return t->idx != TIMER_UNARMED;
}

/* Arms (or re-arms) t for when.  Returns 0, or -ENOMEM. */
int timer_add(struct timer_heap *h, struct timer *t, uint64_t when);
/* Room for n armed timers: timer_add() does not fail while at most n are
 * armed.  0, or -ENOMEM. */
int timer_reserve(struct timer_heap *h, uint32_t n);
/* Disarms t if armed. */
void timer_del(struct timer_heap *h, struct timer *t);
/* Milliseconds (rounded up) until the first deadline, 0 if one is due,
 * max_ms if no timer is armed (-1: none, wait forever); capped at max_ms
 * when max_ms >= 0. */
int timer_ms_until(const struct timer_heap *h, uint64_t now, int max_ms);
/* Disarms and runs every timer due at now, earliest first; a callback may
 * add or delete timers.  Returns how many ran. */
unsigned timer_run(struct timer_heap *h, uint64_t now);
void timer_heap_free(struct timer_heap *h);

#endif
