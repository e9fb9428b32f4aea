/* What the files of the uring model share (see uring.c for how it works);
 * nothing else includes it. */
#ifndef EVD_MODELS_URING_H
#define EVD_MODELS_URING_H

#include <liburing.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include "../conn.h"

#define SQ_ENTRIES 4096
#define CQ_ENTRIES 16384
/* The provided buffers: a small message takes a whole buffer, so the count
 * matters more than the size (1,000 busy connections need about that many);
 * 2048 x 2 KiB = 4 MiB of address space, two buffers a page.  The ring is
 * sized to need: PBUF_TARGET_MIN buffers are published to the kernel at
 * first; the target doubles when a batch of completions left fewer than a
 * quarter of it (or a recv found none), and halves after a PBUF_TRIM_MS
 * period in which no batch took a quarter.  Buffers come back last in,
 * first out, and once a period the pages of every buffer not queued on a
 * connection are given back to the kernel (MADV_DONTNEED: the next write
 * faults in a zeroed page): what stays resident follows the connections
 * that receive at once, not the ring's size.  -D overrides them for tests. */
#ifndef PBUF_SIZE
#define PBUF_SIZE (2 * 1024)
#endif
#ifndef PBUF_COUNT
#define PBUF_COUNT 2048
#endif
#ifndef PBUF_TARGET_MIN
#define PBUF_TARGET_MIN 64
#endif
#define PBUF_TRIM_MS 1000
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
	bool held;	/* queued: its bytes must stay */
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
	unsigned pb_target;	/* buffers to keep published */
	unsigned pb_low;	/* fewest published at a batch's end, this period */
	unsigned pb_target_max;	/* for the debug line at exit */
	uint64_t pb_taken;	/* buffers the kernel filled, ever */
	uint64_t pb_trimmed;	/* pb_taken at the last trim */
	uint64_t pb_trim_at;	/* CLOCK_MONOTONIC ns */
	uint16_t *stash;	/* ids of buffers not published, the latest
				 * given back on top */
	unsigned nstash;

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

/* ---- uring.c ------------------------------------------------------------ */

/* Services uc after this batch of completions. */
void uring_mark_dirty(struct loop *lp, struct uconn *uc);

/* ---- uring_io.c: submissions ------------------------------------------- */

/* Tops the published buffers up to the target, from the stash's top (the
 * buffers used most recently, whose pages are resident).  The target
 * doubles when the kernel was left with under a quarter of it. */
void uring_bufs_publish(struct loop *lp);
/* Gives provided buffer bid back to the stash (published later). */
void uring_buf_give_back(struct loop *lp, unsigned bid);
/* Once a period: halves the target if no batch took a quarter of it, and
 * gives back the pages of the buffers not queued on a connection.  Returns
 * when the next trim is worth a wake-up (CLOCK_MONOTONIC ns), 0 if none
 * is. */
uint64_t uring_bufs_trim(struct loop *lp, uint64_t now);
/* An accept on listener i: multishot where the kernel has it. */
void uring_arm_accept(struct loop *lp, unsigned i);
/* Descriptor table full: a poll on listener i, then accept again. */
void uring_arm_listen_poll(struct loop *lp, unsigned i);
/* A recv for uc: multishot from the ring, or single-shot into uc->own. */
void uring_arm_recv(struct loop *lp, struct uconn *uc);
/* A send of uc's pending output, if any. */
void uring_arm_send(struct loop *lp, struct uconn *uc);
/* Cancels the operation tagged ud; its final CQE follows. */
void uring_cancel(struct loop *lp, uint64_t ud);
/* Submits what is prepared and waits for a completion, at most ms
 * milliseconds (-1: no limit).  Returns 0, or a -errno to stop on. */
int uring_submit_and_wait(struct loop *lp, int ms);

/* ---- uring_io.c: input held for backpressure --------------------------- */

/* Gives back every buffer uc holds, and forgets its own buffer's bytes. */
void uring_hold_drop(struct loop *lp, struct uconn *uc);
/* Whether uc holds input the connection has not taken yet. */
bool uring_holding(const struct uconn *uc);
/* Feeds the held input in order while the connection takes it, then the
 * end of stream or error that came after it. */
void uring_feed(struct loop *lp, struct uconn *uc);
/* A provided buffer with len > 0 bytes for a live connection. */
void uring_rx_buffer(struct loop *lp, struct uconn *uc, unsigned bid,
		     uint32_t len);

/* ---- uring_setup.c ----------------------------------------------------- */

/* Creates the ring with the best setup flags the kernel takes.  Returns 0
 * or -errno (logged, with what to do about it). */
int uring_ring_open(struct loop *lp, const char **how);
/* Picks multishot accept and recv where the kernel has them (registering
 * the provided-buffer ring), and logs the mode. */
void uring_pick_modes(struct loop *lp, const char *how);
/* Unmaps the provided buffers. */
void uring_bufs_close(struct loop *lp);

#endif
