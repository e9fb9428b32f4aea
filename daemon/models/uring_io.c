/* The uring model's submissions (accept, recv, send, cancel, the one
 * io_uring_enter per pass) and the input it holds for backpressure.  See
 * uring.c. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "../log.h"
#include "../server.h"
#include "uring.h"

/* ---- submissions ----------------------------------------------------- */

/* Tops the published buffers up to the target, from the stash's top (the
 * buffers used most recently, whose pages are resident).  The target
 * doubles when the kernel was left with under a quarter of it. */
void uring_bufs_publish(struct loop *lp)
{
	if (!lp->br)
		return;
	if (lp->pb_avail < lp->pb_low)
		lp->pb_low = lp->pb_avail;
	if (lp->pb_avail < lp->pb_target / 4 && lp->pb_target < PBUF_COUNT)
		lp->pb_target *= 2;
	if (lp->pb_target > lp->pb_target_max)
		lp->pb_target_max = lp->pb_target;
	while (lp->pb_avail + lp->pb_return < lp->pb_target && lp->nstash) {
		unsigned bid = lp->stash[--lp->nstash];
		io_uring_buf_ring_add(lp->br, pbuf_addr(lp, bid), PBUF_SIZE,
				      (unsigned short)bid,
				      io_uring_buf_ring_mask(PBUF_COUNT),
				      (int)lp->pb_return);
		lp->pb_return++;
	}
	if (!lp->pb_return)
		return;
	io_uring_buf_ring_advance(lp->br, (int)lp->pb_return);
	lp->pb_avail += lp->pb_return;
	lp->pb_return = 0;
}

void uring_buf_give_back(struct loop *lp, unsigned bid)
{
	lp->pb[bid].held = false;
	lp->stash[lp->nstash++] = (uint16_t)bid;
}

/* Gives the pages of buffers [from, to) back to the kernel (only whole
 * pages: a page shared with a buffer outside stays). */
static void bufs_drop_pages(struct loop *lp, unsigned from, unsigned to)
{
	const uintptr_t page = 4096;
	uintptr_t a = (uintptr_t)pbuf_addr(lp, from);
	uintptr_t b = (uintptr_t)pbuf_addr(lp, to);

	a = (a + page - 1) & ~(page - 1);
	b &= ~(page - 1);
	if (a < b)
		(void)madvise((void *)a, b - a, MADV_DONTNEED);
}

/*
 * Once a period: halves the target if no batch took a quarter of it, and
 * if buffers were filled since the last trim, gives back the pages of
 * every buffer not queued on a connection (published ones included: the
 * kernel's next write into one faults a page in).  Returns when the next
 * trim is worth a wake-up (CLOCK_MONOTONIC ns), 0 if none is.
 */
uint64_t uring_bufs_trim(struct loop *lp, uint64_t now)
{
	if (!lp->br)
		return 0;
	if (now >= lp->pb_trim_at) {
		if (lp->pb_low > lp->pb_target - lp->pb_target / 4 &&
		    lp->pb_target / 2 >= PBUF_TARGET_MIN)
			lp->pb_target /= 2;
		lp->pb_low = lp->pb_avail;
		if (lp->pb_taken != lp->pb_trimmed) {
			unsigned run = 0;
			for (unsigned bid = 0; bid < PBUF_COUNT; bid++) {
				if (!lp->pb[bid].held)
					continue;
				bufs_drop_pages(lp, run, bid);
				run = bid + 1;
			}
			bufs_drop_pages(lp, run, PBUF_COUNT);
			lp->pb_trimmed = lp->pb_taken;
		}
		lp->pb_trim_at = now + PBUF_TRIM_MS * 1000000ull;
	}
	return lp->pb_taken != lp->pb_trimmed ||
			       lp->pb_target > PBUF_TARGET_MIN ?
		       lp->pb_trim_at : 0;
}

/* A free SQE, submitting the full queue first if needed; NULL (and
 * lp->fatal set) only if the kernel refuses to take any. */
static struct io_uring_sqe *get_sqe(struct loop *lp)
{
	struct io_uring_sqe *sqe;

	for (int tries = 0; tries < 8; tries++) {
		sqe = io_uring_get_sqe(&lp->ring);
		if (sqe)
			return sqe;
		uring_bufs_publish(lp);
		int r = io_uring_submit(&lp->ring);
		if (r < 0 && r != -EINTR && r != -EAGAIN && r != -EBUSY) {
			log_errorx("uring: io_uring_submit: %s", strerror(-r));
			lp->fatal = r;
			return NULL;
		}
	}
	log_errorx("uring: the submission queue stays full");
	lp->fatal = -EBUSY;
	return NULL;
}

void uring_arm_accept(struct loop *lp, unsigned i)
{
	struct io_uring_sqe *sqe = get_sqe(lp);

	if (!sqe)
		return;
	if (lp->multi_accept)
		io_uring_prep_multishot_accept(sqe, lp->srv->lis[i].fd, NULL,
					       NULL, ACCEPT_FLAGS);
	else
		io_uring_prep_accept(sqe, lp->srv->lis[i].fd, NULL, NULL,
				     ACCEPT_FLAGS);
	io_uring_sqe_set_data64(sqe, ((uint64_t)i << 3) | TAG_ACCEPT);
	lp->accept_armed[i] = true;
	lp->inflight++;
}

/* Descriptor table full: an io_uring accept fails at once, connection
 * pending or not (it takes the descriptor first).  Wait for a pending
 * connection with a poll instead (same user_data: cancelled alike), then
 * accept again: served if a descriptor was freed, shed otherwise. */
void uring_arm_listen_poll(struct loop *lp, unsigned i)
{
	struct io_uring_sqe *sqe = get_sqe(lp);

	if (!sqe)
		return;
	io_uring_prep_poll_add(sqe, lp->srv->lis[i].fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ((uint64_t)i << 3) | TAG_ACCEPT);
	lp->accept_armed[i] = true;
	lp->accept_poll[i] = true;
	lp->inflight++;
}

/* A multishot recv from the ring, or a single-shot one into uc->own when
 * multishot is off or the ring ran dry. */
void uring_arm_recv(struct loop *lp, struct uconn *uc)
{
	bool multi = lp->multi_recv && !uc->starved && lp->pb_avail > 0;

	if (multi && uc->own && !uc->own_len) {
		free(uc->own);	/* the fallback is over */
		uc->own = NULL;
	}
	if (!multi && !uc->own) {
		uc->own = malloc(OWN_BUF_SIZE);
		if (!uc->own) {
			slot_add(lp->slot, STAT_err_nomem, 1);
			uc->rx_end_set = true;	/* ends the connection */
			uc->rx_err = -ENOMEM;
			uring_mark_dirty(lp, uc);
			return;
		}
	}
	struct io_uring_sqe *sqe = get_sqe(lp);
	if (!sqe)
		return;
	if (multi) {
		io_uring_prep_recv_multishot(sqe, uc->c->fd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = PBUF_GROUP;
	} else {
		io_uring_prep_recv(sqe, uc->c->fd, uc->own, OWN_BUF_SIZE, 0);
	}
	io_uring_sqe_set_data64(sqe, ud_make(uc, TAG_RECV));
	uc->starved = false;
	uc->recv_armed = true;
	uc->recv_multi = multi;
	uc->recv_cancelled = false;
	uc->inflight++;
	lp->inflight++;
}

void uring_arm_send(struct loop *lp, struct uconn *uc)
{
	const char *p;
	size_t n = conn_tx_pending(uc->c, &p);

	if (!n)
		return;
	struct io_uring_sqe *sqe = get_sqe(lp);
	if (!sqe)
		return;
	io_uring_prep_send(sqe, uc->c->fd, p, n, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud_make(uc, TAG_SEND));
	conn_tx_start(uc->c);
	uc->send_armed = true;
	uc->inflight++;
	lp->inflight++;
}

/* Cancels the operation tagged ud; its final CQE follows. */
void uring_cancel(struct loop *lp, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe(lp);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, ud, 0);
	io_uring_sqe_set_data64(sqe, TAG_IGNORE);
	if (lp->cqe_skip)
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* Submits what is prepared and waits for a completion, at most ms
 * milliseconds (-1: no limit).  Returns 0, or a -errno to stop on. */
int uring_submit_and_wait(struct loop *lp, int ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long long)(ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;

	uring_bufs_publish(lp);
	int r = io_uring_submit_and_wait_timeout(&lp->ring, &cqe, 1,
						 ms >= 0 ? &ts : NULL, NULL);
	if (r >= 0 || r == -ETIME || r == -EINTR || r == -EAGAIN ||
	    r == -EBUSY)
		return 0;
	return r;
}

/* ---- input held for backpressure -------------------------------------- */

static void hold_push(struct loop *lp, struct uconn *uc, unsigned bid)
{
	lp->pb[bid].next = -1;
	lp->pb[bid].held = true;
	if (uc->hold_tail >= 0)
		lp->pb[uc->hold_tail].next = (int)bid;
	else
		uc->hold_head = (int)bid;
	uc->hold_tail = (int)bid;
	lp->n_held++;
	if (++uc->nheld > lp->max_held)
		lp->max_held = uc->nheld;
}

void uring_hold_drop(struct loop *lp, struct uconn *uc)
{
	while (uc->hold_head >= 0) {
		unsigned bid = (unsigned)uc->hold_head;
		uc->hold_head = lp->pb[bid].next;
		uring_buf_give_back(lp, bid);
	}
	uc->nheld = 0;
	uc->hold_tail = -1;
	uc->own_off = uc->own_len = 0;
}

bool uring_holding(const struct uconn *uc)
{
	return uc->hold_head >= 0 || uc->own_len;
}

/* Feeds p[*off, len) to c.  Returns true when all of it was taken. */
static bool feed_chunk(struct conn *c, const char *p, uint32_t *off,
		       uint32_t len)
{
	while (*off < len) {
		size_t n = conn_rx_copy(c, p + *off, len - *off);
		if (!n)
			return false;
		*off += (uint32_t)n;
	}
	return true;
}

/* Feeds the held input in order while the connection takes it, then the
 * end of stream or error that came after it. */
void uring_feed(struct loop *lp, struct uconn *uc)
{
	struct conn *c = uc->c;

	while (uc->hold_head >= 0) {
		unsigned bid = (unsigned)uc->hold_head;
		struct pbuf *pb = &lp->pb[bid];
		if (!rx_closed(c) &&
		    !feed_chunk(c, pbuf_addr(lp, bid), &pb->off, pb->len))
			return;
		uc->hold_head = pb->next;
		if (uc->hold_head < 0)
			uc->hold_tail = -1;
		uc->nheld--;
		uring_buf_give_back(lp, bid);
	}
	if (uc->own_len) {
		if (!rx_closed(c) &&
		    !feed_chunk(c, uc->own, &uc->own_off, uc->own_len))
			return;
		uc->own_off = uc->own_len = 0;
	}
	if (uc->rx_end_set) {
		uc->rx_end_set = false;
		conn_rx_end(c, uc->rx_err);
	}
}

/* A provided buffer with len > 0 bytes for a live connection. */
void uring_rx_buffer(struct loop *lp, struct uconn *uc, unsigned bid,
		      uint32_t len)
{
	struct pbuf *pb = &lp->pb[bid];

	pb->off = 0;
	pb->len = len;
	if (uc->hold_head < 0) {
		if (rx_closed(uc->c) ||
		    feed_chunk(uc->c, pbuf_addr(lp, bid), &pb->off, len)) {
			uring_buf_give_back(lp, bid);
			return;
		}
	}
	hold_push(lp, uc, bid);	/* in order, behind what waits */
}
