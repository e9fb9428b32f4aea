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
 * (to test them on a kernel that has both).
 *
 * The files: uring.c the loop, connections and completions; uring_io.c
 * submissions and the input held for backpressure; uring_setup.c the ring,
 * the provided buffers and the choice of modes; uring.h what they share. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "../log.h"
#include "../server.h"
#include "../util.h"
#include "uring.h"

/* Services uc after this batch of completions. */
void uring_mark_dirty(struct loop *lp, struct uconn *uc)
{
	if (uc->dirty || uc->closing)
		return;
	uc->dirty = true;
	SLIST_INSERT_HEAD(&lp->dirty, uc, dirty_link);
}

/* ---- connections --------------------------------------------------------- */

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
	uring_hold_drop(lp, uc);
	if (uc->recv_armed && !uc->recv_cancelled) {
		uring_cancel(lp, ud_make(uc, TAG_RECV));
		uc->recv_cancelled = true;
	}
	if (uc->send_armed)
		uring_cancel(lp, ud_make(uc, TAG_SEND));
	if (!uc->inflight)
		finish_close(lp, uc);
}

/* After completions: feed held input, send, then receive or close,
 * following conn_want(). */
static void service(struct loop *lp, struct uconn *uc)
{
	struct conn *c = uc->c;

	uring_feed(lp, uc);
	if (!uc->send_armed)
		uring_arm_send(lp, uc);
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
		    (uring_holding(uc) || rx_closed(c))) {
			lp->n_pause += uring_holding(uc);
			uring_cancel(lp, ud_make(uc, TAG_RECV));
			uc->recv_cancelled = true;
		}
	} else if ((want & CONN_WANT_READ) && !uring_holding(uc) && !uc->rx_end_set) {
		uring_arm_recv(lp, uc);
	}
	conn_list_touch(&lp->conns, c);
}

/* A delayed response is due: release it; service() sends it. */
static void on_delay(struct timer *t, void *arg)
{
	struct conn *c = conn_of_timer(t);

	conn_release(c);
	uring_mark_dirty(arg, uconn_of(c));
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
	uring_mark_dirty(lp, uc);	/* arms its first recv */
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
			uring_arm_accept(lp, i);
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
			if (server_winding_down(srv))
				break;	/* shut for the exit: listeners_shut() */
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
			uring_arm_listen_poll(lp, i);
		else
			uring_arm_accept(lp, i);
	}
}

static void service_dirty(struct loop *lp);

/* Draining: cancel the accepts and let every connection finish (one
 * accepted before the cancel lands is served, drained, not refused). */
static void start_drain(struct loop *lp)
{
	for (unsigned i = 0; i < lp->srv->nlis; i++)
		if (lp->accept_armed[i])
			uring_cancel(lp, ((uint64_t)i << 3) | TAG_ACCEPT);
	for (struct conn *c = lp->conns.head; c; c = c->next) {
		conn_drain(c);
		uring_mark_dirty(lp, uconn_of(c));
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
		lp->pb_taken++;
		if (uc->closing || res <= 0)
			uring_buf_give_back(lp, bid);
		else
			uring_rx_buffer(lp, uc, bid, (uint32_t)res);
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
			if (lp->pb_target < PBUF_COUNT)
				lp->pb_target *= 2;
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
	uring_mark_dirty(lp, uc);
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
	uring_mark_dirty(lp, uc);
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

/* Handles every CQE ready, then services the connections they touched:
 * the SQEs this prepares go in with the next wait. */
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
 * Returns the milliseconds until the next may expire (or the buffer ring
 * is due for a trim), or -1.  Not conn_list_expire(): it frees the
 * connection at once, while the kernel may still be sending from its
 * output buffer.
 */
static int expire(struct loop *lp)
{
	struct conn *c;
	uint64_t now = now_ns();
	int ms;

	while ((c = conn_list_due(&lp->conns, lp->srv->cfg->idle_timeout_ms,
				  now, &ms))) {
		struct uconn *uc = uconn_of(c);
		uc->idle = true;
		begin_close(lp, uc);
	}
	uint64_t trim = uring_bufs_trim(lp, now);
	if (trim) {
		int left = trim > now ? (int)((trim - now + 999999) / 1000000) : 0;
		if (ms < 0 || left < ms)
			ms = left;
	}
	return ms;
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
			uring_cancel(lp, ((uint64_t)i << 3) | TAG_ACCEPT);
	uint64_t deadline = now_ns() + STOP_DRAIN_MS * 1000000ull;
	while (lp->inflight && now_ns() < deadline && !lp->fatal) {
		if (uring_submit_and_wait(lp, 50) < 0)
			break;
		reap(lp);
	}
	if (lp->inflight)
		log_warnx("uring: %u operations still in flight at exit",
			  lp->inflight);
	log_debug("uring: %llu recvs paused for backpressure, %llu buffers "
		  "held (at most %u on one connection), %llu recvs ended by "
		  "an empty buffer ring; a target of %u buffers at most",
		  (unsigned long long)lp->n_pause,
		  (unsigned long long)lp->n_held, lp->max_held,
		  (unsigned long long)lp->n_enobufs, lp->pb_target_max);
}

static int uring_run(struct server *srv)
{
	struct loop lp = { .srv = srv };
	const char *how = "";
	int rc;

	lp.slot = scoreboard_claim(srv->sb, 0);
	slot_set_role(lp.slot, ROLE_LOOP);
	rc = uring_ring_open(&lp, &how);
	if (rc < 0)
		goto out;
	uring_pick_modes(&lp, how);
	for (unsigned i = 0; i < srv->nlis; i++)
		uring_arm_accept(&lp, i);

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
		int r = uring_submit_and_wait(&lp, ms);
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
	uring_bufs_close(&lp);
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
