/* The uring model's setup: the ring with the best flags the kernel takes
 * (and why it cannot be had), the provided-buffer ring, the choice of
 * multishot or single-shot operations.  See uring.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>

#include "../log.h"
#include "../util.h"
#include "uring.h"

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
int uring_ring_open(struct loop *lp, const char **how)
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
	/* Resident as touched, page by page: no huge page for a few bytes. */
	(void)madvise(lp->pbufs, len, MADV_NOHUGEPAGE);
	lp->pb = calloc(PBUF_COUNT, sizeof(*lp->pb));
	lp->stash = calloc(PBUF_COUNT, sizeof(*lp->stash));
	if (!lp->pb || !lp->stash)
		return -ENOMEM;
	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)lp->br;
	reg.ring_entries = PBUF_COUNT;
	reg.bgid = PBUF_GROUP;
	int r = io_uring_register_buf_ring(&lp->ring, &reg, 0);
	if (r < 0)
		return r;
	io_uring_buf_ring_init(lp->br);
	for (unsigned bid = PBUF_COUNT; bid-- > 0;)
		uring_buf_give_back(lp, bid);	/* buffer 0 on top */
	lp->pb_target = PBUF_TARGET_MIN < PBUF_COUNT ? PBUF_TARGET_MIN : PBUF_COUNT;
	uring_bufs_publish(lp);
	return 0;
}

void uring_bufs_close(struct loop *lp)
{
	if (lp->pbufs)
		munmap(lp->pbufs, (size_t)PBUF_COUNT * PBUF_SIZE);
	if (lp->br)
		munmap(lp->br, lp->br_len);
	free(lp->pb);
	free(lp->stash);
}

/* Picks multishot accept and recv where the kernel has them, and logs the
 * mode.  Multishot accept came with IORING_OP_SOCKET (5.19), multishot recv
 * with IORING_OP_SEND_ZC (6.0); a multishot SQE refused with EINVAL later
 * also falls back. */
void uring_pick_modes(struct loop *lp, const char *how)
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
			 "ring of up to %u x %u KiB provided buffers (%u "
			 "published at first); ring flags: %s; "
			 "one io_uring_enter per loop", kernel,
			 lp->multi_accept ? "multishot" : "single-shot",
			 PBUF_COUNT, PBUF_SIZE / 1024, PBUF_TARGET_MIN, how);
	else
		log_info("uring: kernel %s; %s accept, single-shot recv into a "
			 "%u KiB buffer per connection%s; ring flags: %s; one "
			 "io_uring_enter per loop", kernel,
			 lp->multi_accept ? "multishot" : "single-shot",
			 OWN_BUF_SIZE / 1024, why_recv, how);
}
