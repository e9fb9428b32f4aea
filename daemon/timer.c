#include "timer.h"

#include <errno.h>
#include <stdlib.h>

static bool before(const struct timer *a, const struct timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void place(struct timer_heap *h, uint32_t i, struct timer *t)
{
	h->v[i] = t;
	t->idx = i;
}

static void sift_up(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!before(t, h->v[parent]))
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, t);
}

static void sift_down(struct timer_heap *h, uint32_t i)
{
	struct timer *t = h->v[i];

	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && before(h->v[child + 1], h->v[child]))
			child++;
		if (!before(h->v[child], t))
			break;
		place(h, i, h->v[child]);
		i = child;
	}
	place(h, i, t);
}

int timer_reserve(struct timer_heap *h, uint32_t n)
{
	if (n <= h->cap)
		return 0;
	struct timer **v = realloc(h->v, n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	h->cap = n;
	return 0;
}

int timer_add(struct timer_heap *h, struct timer *t, uint64_t when)
{
	if (timer_armed(t))
		timer_del(h, t);
	if (h->n == h->cap && timer_reserve(h, h->cap ? h->cap * 2 : 64) < 0)
		return -ENOMEM;
	t->when = when;
	t->seq = h->seq++;
	place(h, h->n++, t);
	sift_up(h, t->idx);
	return 0;
}

void timer_del(struct timer_heap *h, struct timer *t)
{
	uint32_t i = t->idx;

	if (i == TIMER_UNARMED)
		return;
	t->idx = TIMER_UNARMED;
	struct timer *last = h->v[--h->n];
	if (i == h->n)
		return;
	place(h, i, last);
	if (i > 0 && before(last, h->v[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

int timer_ms_until(const struct timer_heap *h, uint64_t now, int max_ms)
{
	if (h->n == 0)
		return max_ms;
	uint64_t when = h->v[0]->when;
	if (when <= now)
		return 0;
	uint64_t ms = (when - now + 999999) / 1000000;
	if (max_ms >= 0 && ms > (uint64_t)max_ms)
		return max_ms;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

unsigned timer_run(struct timer_heap *h, uint64_t now)
{
	unsigned ran = 0;

	while (h->n && h->v[0]->when <= now) {
		struct timer *t = h->v[0];
		timer_del(h, t);
		t->fn(t, t->arg);
		ran++;
	}
	return ran;
}

void timer_heap_free(struct timer_heap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->v[i]->idx = TIMER_UNARMED;
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
