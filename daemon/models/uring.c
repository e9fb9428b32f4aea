/* uring: one thread that does its socket I/O through io_uring (liburing).
 *
 * Accept, receive and send are submissions; every SQE prepared while
 * handling a batch of completions goes to the kernel in the one
 * io_uring_enter that also waits for the next batch.  Where the kernel has
 * them (5.19, 6.0), each listener has one multishot accept and each
 * connection one multishot recv that picks its buffers from a ring of
 * provided buffers; otherwise accepts are single-shot and each connection
 * receives into a buffer of its own.  The startup log line says which.
 *
 * Lifetime: user_data is a struct uconn pointer with the operation in its
 * low bits (cancels carry TAG_IGNORE and no pointer).  uc->inflight counts
 * the connection's operations whose final CQE (no IORING_CQE_F_MORE) has
 * not come yet; closing cancels them and frees the connection (closing its
 * fd) only once that count is 0, so a late CQE never meets freed memory and
 * the fd number is not reused while the kernel may still act on it.
 *
 * Backpressure: bytes from a provided buffer go in with conn_rx_copy(); what
 * it does not take stays in that buffer, queued on the connection, and the
 * multishot recv is cancelled.  CQEs that still arrive before the cancel
 * completes queue behind it.  The queue is fed, in order, as the connection
 * drains its output; a buffer returns to the ring once its bytes are taken;
 * a recv is armed again only when the queue is empty and input is wanted.
 * A recv that ends with -ENOBUFS (ring exhausted) is armed again at once as
 * a single-shot recv into the connection's own buffer, so that connections
 * holding buffers can never stall the others.
 *
 * EVD_URING_NO_MULTISHOT=1 in the environment forces the single-shot paths
 * (to test them on a kernel that has both). */
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"
#include "../util.h"

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
/* The provided-buffer ring: a small message takes a whole buffer, so the
 * count matters more than the size (1,000 busy connections need about that
 * many); 2048 x 8 KiB = 16 MiB.  -D overrides them for tests. */
#ifndef PBUF_SIZE
#define PBUF_SIZE (8 * 1024)
#endif
#ifndef PBUF_COUNT
#define PBUF_COUNT 2048
#endif
#define PBUF_GROUP 0
#define OWN_BUF_SIZE (16 * 1024)	/* single-shot recv buffer */
#define STOP_DRAIN_MS 2000
#define ACCEPT_FLAGS (SOCK_CLOEXEC | SOCK_NONBLOCK)

_Static_assert((PBUF_COUNT & (PBUF_COUNT - 1)) == 0 && PBUF_COUNT <= 32768,
	       "a provided-buffer ring has a power-of-two size up to 32768");

_Static_assert(alignof(max_align_t) >= 8,
	       "malloc'd pointers leave 3 low bits of user_data for the tag");

/* The operation in user_data's low 3 bits. */
enum tag {
	TAG_IGNORE,	/* cancels: nothing to do */
	TAG_ACCEPT,	/* listener index << 3 */
	TAG_RECV,	/* struct uconn * */
	TAG_SEND,	/* struct uconn * */
	TAG_MASK = 7,
};

/* A provided buffer queued on a connection: bytes [off, len) are left. */
struct pbuf {
	uint32_t off, len;
	int next;	/* next queued buffer id, -1 at the tail */
};

/* The model's side of a connection (c->model.uring points to it). */
struct uconn {
	struct conn *c;
	unsigned inflight;	/* operations whose final CQE is due */
	bool recv_armed;	/* a recv is in flight */
	bool recv_multi;	/* ... and it is multishot */
	bool recv_cancelled;	/* ... and a cancel was sent for it */
	bool send_armed;
	bool starved;		/* the last recv ended with -ENOBUFS */
	bool closing;		/* cancels sent; freed when inflight is 0 */
	bool idle;		/* closed by the idle timeout */
	bool dirty;		/* on the loop's dirty list */
	bool rx_end_set;	/* end of stream or error, after the queue */
	long rx_err;
	int hold_head, hold_tail;	/* queued provided buffers, -1: none */
	unsigned nheld;
	char *own;		/* single-shot recv buffer, on first use */
	uint32_t own_off, own_len;
	SLIST_ENTRY(uconn) dirty_link;		/* the loop's dirty list */
	LIST_ENTRY(uconn) closing_link;		/* the loop's closing list */
};

struct loop {
	struct server *srv;
	struct stats_slot *slot;
	struct io_uring ring;
	bool multi_accept;
	bool multi_recv;	/* also: the buffer ring is registered */
	bool cqe_skip;		/* IOSQE_CQE_SKIP_SUCCESS for cancels */
	int fatal;		/* -errno: leave the loop */
	bool accept_armed[CONFIG_MAX_LISTEN];	/* an accept or a poll */
	bool accept_poll[CONFIG_MAX_LISTEN];	/* ... it is the poll */
	unsigned inflight;	/* every operation whose final CQE is due */

	struct io_uring_buf_ring *br;
	size_t br_len;
	char *pbufs;
	struct pbuf *pb;
	unsigned pb_avail;	/* buffers the kernel may pick from */
	unsigned pb_return;	/* added to the ring, not yet published */

	/* For the debug line at exit. */
	uint64_t n_pause;	/* multishot recvs cancelled for backpressure */
	uint64_t n_held;	/* provided buffers queued on a connection */
	uint64_t n_enobufs;	/* recvs ended by an empty buffer ring */
	unsigned max_held;	/* most buffers queued on one connection */

	struct conn_list conns;	/* live connections, oldest activity first */
	struct timer_heap timers;	/* delayed responses */
	LIST_HEAD(, uconn) closing;	/* waiting for their last CQEs */
	SLIST_HEAD(, uconn) dirty;	/* to service after this batch of CQEs */
};

static inline uint64_t ud_make(const struct uconn *uc, enum tag t)
{
	return (uint64_t)(uintptr_t)uc | t;
}

static inline char *pbuf_addr(const struct loop *lp, unsigned bid)
{
	return lp->pbufs + (size_t)bid * PBUF_SIZE;
}

static inline struct uconn *uconn_of(const struct conn *c)
{
	return c->model.uring;
}

/* The connection takes no more input, ever. */
static inline bool rx_closed(const struct conn *c)
{
	return c->eof || c->closing || c->failed;
}

/* Services uc after this batch of completions. */
static void mark_dirty(struct loop *lp, struct uconn *uc)
{
	if (uc->dirty || uc->closing)
		return;
	uc->dirty = true;
	SLIST_INSERT_HEAD(&lp->dirty, uc, dirty_link);
}

/* ---- submission ---------------------------------------------------------- */

/* Publishes the buffers given back since the last call. */
static void bufs_publish(struct loop *lp)
{
	if (!lp->pb_return)
		return;
	io_uring_buf_ring_advance(lp->br, (int)lp->pb_return);
	lp->pb_avail += lp->pb_return;
	lp->pb_return = 0;
}

static void buf_give_back(struct loop *lp, unsigned bid)
{
	io_uring_buf_ring_add(lp->br, pbuf_addr(lp, bid), PBUF_SIZE,
			      (unsigned short)bid,
			      io_uring_buf_ring_mask(PBUF_COUNT),
			      (int)lp->pb_return);
	lp->pb_return++;
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
		bufs_publish(lp);
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

static void arm_accept(struct loop *lp, unsigned i)
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
static void arm_listen_poll(struct loop *lp, unsigned i)
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
static void arm_recv(struct loop *lp, struct uconn *uc)
{
	bool multi = lp->multi_recv && !uc->starved && lp->pb_avail > 0;

	if (!multi && !uc->own) {
		uc->own = malloc(OWN_BUF_SIZE);
		if (!uc->own) {
			slot_add(lp->slot, STAT_err_nomem, 1);
			uc->rx_end_set = true;	/* ends the connection */
			uc->rx_err = -ENOMEM;
			mark_dirty(lp, uc);
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

static void arm_send(struct loop *lp, struct uconn *uc)
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
static void cancel(struct loop *lp, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe(lp);

	if (!sqe)
		return;
	io_uring_prep_cancel64(sqe, ud, 0);
	io_uring_sqe_set_data64(sqe, TAG_IGNORE);
	if (lp->cqe_skip)
		sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

/* ---- connections --------------------------------------------------------- */

static void hold_push(struct loop *lp, struct uconn *uc, unsigned bid)
{
	lp->pb[bid].next = -1;
	if (uc->hold_tail >= 0)
		lp->pb[uc->hold_tail].next = (int)bid;
	else
		uc->hold_head = (int)bid;
	uc->hold_tail = (int)bid;
	lp->n_held++;
	if (++uc->nheld > lp->max_held)
		lp->max_held = uc->nheld;
}

static void hold_drop(struct loop *lp, struct uconn *uc)
{
	while (uc->hold_head >= 0) {
		unsigned bid = (unsigned)uc->hold_head;
		uc->hold_head = lp->pb[bid].next;
		buf_give_back(lp, bid);
	}
	uc->nheld = 0;
	uc->hold_tail = -1;
	uc->own_off = uc->own_len = 0;
}

static bool holding(const struct uconn *uc)
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
static void feed(struct loop *lp, struct uconn *uc)
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
		buf_give_back(lp, bid);
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

/* The last CQE is in: close the socket and free everything. */
static void finish_close(struct loop *lp, struct uconn *uc)
{
	LIST_REMOVE(uc, closing_link);
	if (uc->idle)
		conn_close_idle(uc->c);
	else
		conn_close(uc->c);
	free(uc->own);
	free(uc);
}

/* Stops serving uc: cancels what is in flight, closes when nothing is. */
static void begin_close(struct loop *lp, struct uconn *uc)
{
	timer_del(&lp->timers, &uc->c->timer);
	uc->closing = true;
	conn_list_del(&lp->conns, uc->c);
	LIST_INSERT_HEAD(&lp->closing, uc, closing_link);
	hold_drop(lp, uc);
	if (uc->recv_armed && !uc->recv_cancelled) {
		cancel(lp, ud_make(uc, TAG_RECV));
		uc->recv_cancelled = true;
	}
	if (uc->send_armed)
		cancel(lp, ud_make(uc, TAG_SEND));
	if (!uc->inflight)
		finish_close(lp, uc);
}

/* After completions: feed held input, send, then receive or close,
 * following conn_want(). */
static void service(struct loop *lp, struct uconn *uc)
{
	struct conn *c = uc->c;

	feed(lp, uc);
	if (!uc->send_armed)
		arm_send(lp, uc);
	unsigned want = conn_want(c);
	if (!want) {
		begin_close(lp, uc);
		return;
	}
	conn_timer_sync(c, &lp->timers, want);
	if (uc->recv_armed) {
		/* Backpressure, or input no longer wanted: stop the
		 * multishot recv from taking more buffers. */
		if (uc->recv_multi && !uc->recv_cancelled &&
		    (holding(uc) || rx_closed(c))) {
			lp->n_pause += holding(uc);
			cancel(lp, ud_make(uc, TAG_RECV));
			uc->recv_cancelled = true;
		}
	} else if ((want & CONN_WANT_READ) && !holding(uc) && !uc->rx_end_set) {
		arm_recv(lp, uc);
	}
	conn_list_touch(&lp->conns, c);
}

/* A delayed response is due: release it; service() sends it. */
static void on_delay(struct timer *t, void *arg)
{
	struct conn *c = conn_of_timer(t);

	conn_release(c);
	mark_dirty(arg, uconn_of(c));
}

static void new_conn(struct loop *lp, int fd)
{
	struct server *srv = lp->srv;
	int one = 1;

	if (lp->conns.n >= srv->cfg->max_connections) {
		server_refuse(fd, lp->slot);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct conn *c = conn_new(fd, srv, lp->slot, false);
	if (!c)
		return;	/* counted */
	struct uconn *uc = calloc(1, sizeof(*uc));
	if (!uc) {
		slot_add(lp->slot, STAT_err_nomem, 1);
		conn_close(c);
		return;
	}
	uc->c = c;
	uc->hold_head = uc->hold_tail = -1;
	timer_init(&c->timer, on_delay, lp);
	c->model.uring = uc;
	conn_list_add(&lp->conns, c);
	if (server_draining(srv))
		conn_drain(c);
	mark_dirty(lp, uc);	/* arms its first recv */
}

/* ---- completions --------------------------------------------------------- */

static void on_accept(struct loop *lp, unsigned i,
		      const struct io_uring_cqe *cqe)
{
	struct server *srv = lp->srv;
	int res = cqe->res;
	bool full = false;

	if (lp->accept_poll[i]) {
		/* A connection is pending (or the poll was cancelled). */
		lp->accept_poll[i] = false;
		lp->accept_armed[i] = false;
		lp->inflight--;
		if (!server_winding_down(srv))
			arm_accept(lp, i);
		return;
	}
	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		lp->accept_armed[i] = false;
		lp->inflight--;
	}
	if (res >= 0) {
		if (server_stopping(srv))
			server_refuse(res, lp->slot);
		else
			new_conn(lp, res);
	} else {
		switch (-res) {
		case ECANCELED:
		case EINTR:
		case EAGAIN:
		case ECONNABORTED:
		case EPROTO:
			break;
		case EMFILE:
		case ENFILE: {
			/* server_accept() counts it if it recurs and sheds
			 * one pending connection; then wait for the next
			 * (arm_listen_poll) rather than fail again at once. */
			int fd = server_accept(srv, srv->lis[i].fd, lp->slot,
					       true);
			if (fd >= 0)
				new_conn(lp, fd);
			else
				full = true;
			break;
		}
		case EINVAL:
			if (lp->multi_accept) {
				log_warnx("uring: multishot accept refused "
					  "(EINVAL): using single-shot accept");
				lp->multi_accept = false;
				break;
			}
			/* fall through */
		default:
			slot_add(lp->slot, STAT_err_accept, 1);
			break;
		}
	}
	if (!lp->accept_armed[i] && !server_winding_down(srv)) {
		if (full)
			arm_listen_poll(lp, i);
		else
			arm_accept(lp, i);
	}
}

static void service_dirty(struct loop *lp);

/* Draining: cancel the accepts and let every connection finish (one
 * accepted before the cancel lands is served, drained, not refused). */
static void start_drain(struct loop *lp)
{
	for (unsigned i = 0; i < lp->srv->nlis; i++)
		if (lp->accept_armed[i])
			cancel(lp, ((uint64_t)i << 3) | TAG_ACCEPT);
	for (struct conn *c = lp->conns.head; c; c = c->next) {
		conn_drain(c);
		mark_dirty(lp, uconn_of(c));
	}
	service_dirty(lp);
}

static bool accepting(const struct loop *lp)
{
	for (unsigned i = 0; i < lp->srv->nlis; i++)
		if (lp->accept_armed[i])
			return true;
	return false;
}

/* A provided buffer with len > 0 bytes for a live connection. */
static void rx_buffer(struct loop *lp, struct uconn *uc, unsigned bid,
		      uint32_t len)
{
	struct pbuf *pb = &lp->pb[bid];

	pb->off = 0;
	pb->len = len;
	if (uc->hold_head < 0) {
		if (rx_closed(uc->c) ||
		    feed_chunk(uc->c, pbuf_addr(lp, bid), &pb->off, len)) {
			buf_give_back(lp, bid);
			return;
		}
	}
	hold_push(lp, uc, bid);	/* in order, behind what waits */
}

static void on_recv(struct loop *lp, struct uconn *uc,
		    const struct io_uring_cqe *cqe)
{
	int res = cqe->res;

	if (!(cqe->flags & IORING_CQE_F_MORE)) {
		uc->recv_armed = false;
		uc->recv_cancelled = false;
		uc->inflight--;
		lp->inflight--;
	}
	if (cqe->flags & IORING_CQE_F_BUFFER) {
		unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
		lp->pb_avail--;
		if (uc->closing || res <= 0)
			buf_give_back(lp, bid);
		else
			rx_buffer(lp, uc, bid, (uint32_t)res);
	} else if (res > 0 && !uc->closing) {
		uc->own_off = 0;	/* single-shot, into uc->own */
		uc->own_len = (uint32_t)res;
	}
	if (uc->closing) {
		if (!uc->inflight)
			finish_close(lp, uc);
		return;
	}
	if (res <= 0) {
		switch (-res) {
		case ECANCELED:	/* our backpressure cancel */
		case EINTR:
		case EAGAIN:
			break;
		case ENOBUFS:
			lp->n_enobufs++;
			uc->starved = true;
			break;
		case EINVAL:
			if (uc->recv_multi && lp->multi_recv) {
				log_warnx("uring: multishot recv refused "
					  "(EINVAL): using single-shot recv");
				lp->multi_recv = false;
				break;
			}
			/* fall through */
		default:	/* 0: end of stream; or an error */
			uc->rx_end_set = true;
			uc->rx_err = res;
			break;
		}
	}
	mark_dirty(lp, uc);
}

static void on_send(struct loop *lp, struct uconn *uc,
		    const struct io_uring_cqe *cqe)
{
	uc->send_armed = false;
	uc->inflight--;
	lp->inflight--;
	if (uc->closing) {
		/* Bytes that went out count; a cancelled send is no error. */
		conn_tx_done(uc->c, cqe->res > 0 ? cqe->res : -EINTR);
		if (!uc->inflight)
			finish_close(lp, uc);
		return;
	}
	conn_tx_done(uc->c, cqe->res);
	mark_dirty(lp, uc);
}

static void on_cqe(struct loop *lp, const struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	struct uconn *uc = (struct uconn *)(uintptr_t)(ud & ~(uint64_t)TAG_MASK);

	switch (ud & TAG_MASK) {
	case TAG_ACCEPT:
		on_accept(lp, (unsigned)(ud >> 3), cqe);
		break;
	case TAG_RECV:
		on_recv(lp, uc, cqe);
		break;
	case TAG_SEND:
		on_send(lp, uc, cqe);
		break;
	default:	/* a cancel that found nothing left to cancel */
		break;
	}
}

/* Handles every CQE ready, then services the connections they touched:
 * the SQEs this prepares go in with the next wait. */
/* Services every connection touched since the last call, once. */
static void service_dirty(struct loop *lp)
{
	struct uconn *uc;

	while ((uc = SLIST_FIRST(&lp->dirty))) {
		SLIST_REMOVE_HEAD(&lp->dirty, dirty_link);
		uc->dirty = false;
		if (!uc->closing)
			service(lp, uc);
	}
}

static void reap(struct loop *lp)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	io_uring_for_each_cqe(&lp->ring, head, cqe) {
		on_cqe(lp, cqe);
		n++;
	}
	io_uring_cq_advance(&lp->ring, n);
	service_dirty(lp);
}

/*
 * Closes connections idle for idle_timeout, or whose request is not whole
 * after request_timeout (counted as timeouts once their last CQE is in).
 * Returns the milliseconds until the next may expire, or -1.  Not
 * conn_list_expire(): it frees the connection at once, while the kernel
 * may still be sending from its output buffer.
 */
static int expire(struct loop *lp)
{
	struct conn *c;
	int ms;

	while ((c = conn_list_due(&lp->conns, lp->srv->cfg->idle_timeout_ms,
				  now_ns(), &ms))) {
		struct uconn *uc = uconn_of(c);
		uc->idle = true;
		begin_close(lp, uc);
	}
	return ms;
}

/* Submits what is prepared and waits for a completion, at most ms
 * milliseconds (-1: no limit).  Returns 0, or a -errno to stop on. */
static int submit_and_wait(struct loop *lp, int ms)
{
	struct __kernel_timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long long)(ms % 1000) * 1000000,
	};
	struct io_uring_cqe *cqe;

	bufs_publish(lp);
	int r = io_uring_submit_and_wait_timeout(&lp->ring, &cqe, 1,
						 ms >= 0 ? &ts : NULL, NULL);
	if (r >= 0 || r == -ETIME || r == -EINTR || r == -EAGAIN ||
	    r == -EBUSY)
		return 0;
	return r;
}

/* ---- setup --------------------------------------------------------------- */

static int read_int_file(const char *path, int *v)
{
	FILE *f = fopen(path, "re");
	int ok;

	if (!f)
		return -1;
	ok = fscanf(f, "%d", v) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/* Logs why io_uring_queue_init failed, and what to do about it. */
static void explain_setup_error(int err)
{
	int disabled = 0, group = -1;

	read_int_file("/proc/sys/kernel/io_uring_disabled", &disabled);
	read_int_file("/proc/sys/kernel/io_uring_group", &group);
	switch (err) {
	case ENOSYS:
		log_errorx("io_uring is not available: this kernel has no "
			   "io_uring (built without CONFIG_IO_URING, or older "
			   "than 5.1); pick another model");
		break;
	case EPERM:
		if (disabled == 2)
			log_errorx("io_uring is disabled by sysctl "
				   "kernel.io_uring_disabled=2: set it to 0 "
				   "(sysctl -w kernel.io_uring_disabled=0), or "
				   "pick another model");
		else if (disabled == 1 && group >= 0)
			log_errorx("io_uring is restricted by sysctl "
				   "kernel.io_uring_disabled=1 to CAP_SYS_ADMIN "
				   "and group %d (kernel.io_uring_group): run evd "
				   "in that group, set the sysctl to 0, or pick "
				   "another model", group);
		else if (disabled == 1)
			log_errorx("io_uring is restricted by sysctl "
				   "kernel.io_uring_disabled=1 to CAP_SYS_ADMIN "
				   "(kernel.io_uring_group is unset): set "
				   "kernel.io_uring_group to a group of evd's, "
				   "set kernel.io_uring_disabled to 0, or pick "
				   "another model");
		else
			log_errorx("io_uring_setup is not permitted (EPERM): "
				   "a seccomp filter (container runtime) or a "
				   "security module blocks io_uring; allow the "
				   "io_uring_* system calls, or pick another "
				   "model");
		break;
	case ENOMEM:
		log_errorx("io_uring_setup: not enough locked memory (ENOMEM): "
			   "raise RLIMIT_MEMLOCK (ulimit -l, LimitMEMLOCK=), "
			   "or pick another model");
		break;
	default:
		log_errorx("io_uring_setup failed: %s; pick another model",
			   strerror(err));
		break;
	}
}

/* Creates the ring with the best setup flags the kernel takes.  Returns 0
 * or -errno (logged). */
static int ring_open(struct loop *lp, const char **how)
{
	static const struct {
		unsigned flags;
		const char *name;
	} tries[] = {
		{ IORING_SETUP_SUBMIT_ALL | IORING_SETUP_SINGLE_ISSUER |
		  IORING_SETUP_DEFER_TASKRUN, "single-issuer, defer-taskrun" },
		{ IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN,
		  "coop-taskrun" },
		{ 0, "default" },
	};
	int r = -EINVAL;

	for (size_t i = 0; i < ARRAY_SIZE(tries); i++) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		p.flags = tries[i].flags | IORING_SETUP_CQSIZE;
		p.cq_entries = CQ_ENTRIES;
		r = io_uring_queue_init_params(SQ_ENTRIES, &lp->ring, &p);
		if (r == 0) {
			*how = tries[i].name;
			lp->cqe_skip = p.features & IORING_FEAT_CQE_SKIP;
			return 0;
		}
		if (r != -EINVAL)
			break;	/* not about the flags */
	}
	explain_setup_error(-r);
	return r;
}

/* Maps and registers the provided-buffer ring.  Returns 0 or -errno. */
static int bufs_open(struct loop *lp)
{
	struct io_uring_buf_reg reg;
	size_t len = (size_t)PBUF_COUNT * PBUF_SIZE;

	lp->br_len = PBUF_COUNT * sizeof(struct io_uring_buf);
	lp->br = mmap(NULL, lp->br_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lp->br == MAP_FAILED) {
		lp->br = NULL;
		return -errno;
	}
	lp->pbufs = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lp->pbufs == MAP_FAILED) {
		lp->pbufs = NULL;
		return -errno;
	}
	lp->pb = calloc(PBUF_COUNT, sizeof(*lp->pb));
	if (!lp->pb)
		return -ENOMEM;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)lp->br;
	reg.ring_entries = PBUF_COUNT;
	reg.bgid = PBUF_GROUP;
	int r = io_uring_register_buf_ring(&lp->ring, &reg, 0);
	if (r < 0)
		return r;
	io_uring_buf_ring_init(lp->br);
	for (unsigned bid = 0; bid < PBUF_COUNT; bid++)
		buf_give_back(lp, bid);
	bufs_publish(lp);
	return 0;
}

static void bufs_close(struct loop *lp)
{
	if (lp->pbufs)
		munmap(lp->pbufs, (size_t)PBUF_COUNT * PBUF_SIZE);
	if (lp->br)
		munmap(lp->br, lp->br_len);
	free(lp->pb);
}

/* Picks multishot accept and recv where the kernel has them, and logs the
 * mode.  Multishot accept came with IORING_OP_SOCKET (5.19), multishot recv
 * with IORING_OP_SEND_ZC (6.0); a multishot SQE refused with EINVAL later
 * also falls back. */
static void pick_modes(struct loop *lp, const char *how)
{
	struct io_uring_probe *probe = io_uring_get_probe_ring(&lp->ring);
	const char *env = getenv("EVD_URING_NO_MULTISHOT");
	bool forced = env && *env && strcmp(env, "0") != 0;
	bool has_socket = false, has_zc = false;
	const char *why_recv = "";
	char kernel[80] = "?";
	struct utsname u;
	int r;

	if (uname(&u) == 0)
		snprintf(kernel, sizeof(kernel), "%s", u.release);
	if (probe) {
		has_socket = io_uring_opcode_supported(probe, IORING_OP_SOCKET);
		has_zc = io_uring_opcode_supported(probe, IORING_OP_SEND_ZC);
		io_uring_free_probe(probe);
	}
	lp->multi_accept = has_socket && !forced;
	lp->multi_recv = false;
	if (forced) {
		why_recv = " (EVD_URING_NO_MULTISHOT)";
	} else if (!has_zc) {
		why_recv = " (kernel older than 6.0)";
	} else if ((r = bufs_open(lp)) < 0) {
		log_warnx("uring: cannot register a provided-buffer ring: %s",
			  strerror(-r));
		why_recv = " (no provided-buffer ring)";
	} else {
		lp->multi_recv = true;
	}
	if (lp->multi_recv)
		log_info("uring: kernel %s; %s accept, multishot recv from a "
			 "ring of %u x %u KiB provided buffers; ring flags: %s; "
			 "one io_uring_enter per loop", kernel,
			 lp->multi_accept ? "multishot" : "single-shot",
			 PBUF_COUNT, PBUF_SIZE / 1024, how);
	else
		log_info("uring: kernel %s; %s accept, single-shot recv into a "
			 "%u KiB buffer per connection%s; ring flags: %s; one "
			 "io_uring_enter per loop", kernel,
			 lp->multi_accept ? "multishot" : "single-shot",
			 OWN_BUF_SIZE / 1024, why_recv, how);
}

/* ---- stop ---------------------------------------------------------------- */

/* Closes every connection, cancels every operation and waits until the
 * kernel no longer references our memory. */
static void drain(struct loop *lp)
{
	while (lp->conns.head)
		begin_close(lp, uconn_of(lp->conns.head));
	for (unsigned i = 0; i < lp->srv->nlis; i++)
		if (lp->accept_armed[i])
			cancel(lp, ((uint64_t)i << 3) | TAG_ACCEPT);
	uint64_t deadline = now_ns() + STOP_DRAIN_MS * 1000000ull;
	while (lp->inflight && now_ns() < deadline && !lp->fatal) {
		if (submit_and_wait(lp, 50) < 0)
			break;
		reap(lp);
	}
	if (lp->inflight)
		log_warnx("uring: %u operations still in flight at exit",
			  lp->inflight);
	log_debug("uring: %llu recvs paused for backpressure, %llu buffers "
		  "held (at most %u on one connection), %llu recvs ended by "
		  "an empty buffer ring", (unsigned long long)lp->n_pause,
		  (unsigned long long)lp->n_held, lp->max_held,
		  (unsigned long long)lp->n_enobufs);
}

static int uring_run(struct server *srv)
{
	struct loop lp = { .srv = srv };
	const char *how = "";
	int rc;

	lp.slot = scoreboard_claim(srv->sb, 0);
	slot_set_role(lp.slot, ROLE_LOOP);
	rc = ring_open(&lp, &how);
	if (rc < 0)
		goto out;
	pick_modes(&lp, how);
	for (unsigned i = 0; i < srv->nlis; i++)
		arm_accept(&lp, i);

	bool draining = false;
	while (!server_stopping(srv) && !lp.fatal) {
		if (server_draining(srv) && !draining) {
			draining = true;
			start_drain(&lp);
		}
		if (draining && !lp.conns.n && !accepting(&lp))
			break;
		int ms = timer_ms_until(&lp.timers, now_ns(), expire(&lp));
		slot_set_state(lp.slot, WORKER_IDLE);
		int r = submit_and_wait(&lp, ms);
		slot_set_state(lp.slot, WORKER_READING);
		if (r < 0) {
			log_errorx("uring: io_uring_enter: %s", strerror(-r));
			lp.fatal = r;
			break;
		}
		reap(&lp);
		if (timer_run(&lp.timers, now_ns()))
			service_dirty(&lp);
	}
	rc = lp.fatal;
	drain(&lp);
	timer_heap_free(&lp.timers);
	io_uring_queue_exit(&lp.ring);
	if (lp.inflight) {
		/* The kernel may still write into our buffers: leak them
		 * rather than free memory it uses.  The process is exiting. */
		slot_set_state(lp.slot, WORKER_FREE);
		return rc;
	}
out:
	bufs_close(&lp);
	slot_set_state(lp.slot, WORKER_FREE);
	return rc;
}

const struct evd_model evd_model_uring = {
	.name = "uring",
	.summary = "one thread, io_uring: multishot accept and recv with "
		   "provided buffers, batched submissions",
	.flags = 0,
	.slots = model_one_slot,
	.run = uring_run,
};
