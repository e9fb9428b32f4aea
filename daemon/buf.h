/* A bounded byte buffer: data lives in [off, len) of a capacity-sized
 * allocation.  Producers append at len, consumers take from off. */
#ifndef EVD_BUF_H
#define EVD_BUF_H

#include <stddef.h>
#include <string.h>

struct buf {
	char *data;
	size_t off;
	size_t len;
	size_t cap;
};

static inline size_t buf_used(const struct buf *b)
{
	return b->len - b->off;
}

static inline size_t buf_space(const struct buf *b)
{
	return b->cap - b->len;
}

static inline char *buf_head(const struct buf *b)
{
	return b->data + b->off;
}

static inline char *buf_tail(const struct buf *b)
{
	return b->data + b->len;
}

/* Moves the unread bytes to the start so that all free space is at the end. */
static inline void buf_compact(struct buf *b)
{
	if (b->off == 0)
		return;
	size_t n = buf_used(b);
	if (n)
		memmove(b->data, b->data + b->off, n);
	b->off = 0;
	b->len = n;
}

static inline void buf_consume(struct buf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

/* Appends n bytes; the caller has checked buf_space() (after compacting). */
static inline void buf_append(struct buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

#endif
