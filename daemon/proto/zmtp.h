/* What the ZMTP wire layer (zmtp.c: greeting, NULL handshake, frames,
 * commands) and the RPC on top of it (zmtp_rpc.c: [method, arg...] requests
 * and their replies) share.  Internal to protocol = zmtp: the daemon sees
 * only evd_proto_zmtp; the unit tests and the fuzz target see this too. */
#ifndef EVD_PROTO_ZMTP_H
#define EVD_PROTO_ZMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../buf.h"

/* The flags octet of a frame (ZMTP 3.1, spec 37). */
#define ZMTP_MORE 0x01
#define ZMTP_LONG 0x02
#define ZMTP_COMMAND 0x04
#define ZMTP_RESERVED 0xf8

/* Free room in the output buffer before any step that may write: the
 * largest thing one step writes (a greeting, a READY, ERROR or PONG
 * command, an RPC reply finished at the end of a request, or a frame
 * header) is smaller.  The unit tests check the largest replies. */
#define ZMTP_RESERVE 256

/* The frame header for a body of size bytes: short (2 octets) up to 255,
 * long (9 octets) beyond, as spec 37 says a sender SHOULD. */
static inline size_t zmtp_header_len(uint64_t size)
{
	return size > 255 ? 9 : 2;
}

/* Writes that header (flags gets ZMTP_LONG as needed); returns its length. */
size_t zmtp_header_put(unsigned char *dst, uint8_t flags, uint64_t size);

/* ---- the RPC (zmtp_rpc.c) ------------------------------------------------ */

/* The method name and delay's argument are kept up to these sizes. */
#define RPC_NAME_MAX 32
#define RPC_ARG_MAX 8
/* delay <ms>: at most this many milliseconds. */
#define RPC_DELAY_MAX_MS 60000

/* One request in progress: the frames of a message go through it in order
 * (frame_begin, frame_data..., frame_end); the reply is written to the
 * output buffer as it becomes known.  No allocation, no I/O. */
struct zmtp_rpc {
	uint32_t delay_ms;	/* [server] delay: every reply is due this late */
	uint32_t index;		/* frames of the request begun so far */
	uint32_t argc;		/* arguments begun so far */
	uint64_t seen;		/* bytes of the current frame seen */
	bool more;		/* the current frame has MORE */
	bool delim;		/* the request began with an empty frame */
	bool streaming;		/* echo: its reply goes out as it comes in */
	bool name_cut;		/* the method name is longer than name[] */
	bool arg_cut;		/* delay's argument is longer than arg[] */
	uint8_t method;		/* enum rpc_method, once the name is whole */
	uint8_t name_len;
	uint8_t arg_len;
	char name[RPC_NAME_MAX];
	char arg[RPC_ARG_MAX];
};

/* What frame_end() says about the request. */
struct rpc_done {
	bool done;		/* the request is answered (its reply is whole) */
	bool ok;		/* the reply says OK (else ERR) */
	uint32_t delay_ms;	/* the reply is due this much later */
};

void rpc_init(struct zmtp_rpc *r, uint32_t delay_ms);

/*
 * A frame of the request begins: size bytes, more frames after it or not.
 * The caller has checked that out has ZMTP_RESERVE bytes free (an echo
 * argument's header is written here).
 */
void rpc_frame_begin(struct zmtp_rpc *r, uint64_t size, bool more,
		     struct buf *out);

/* Whether the current frame's bytes go to out as they come (an argument
 * of echo), so that each needs a byte of room. */
bool rpc_data_copies(const struct zmtp_rpc *r);

/* Bytes of the current frame: returns how many it took, all of them but
 * when they are copied to out and out is short of room. */
size_t rpc_frame_data(struct zmtp_rpc *r, const char *p, size_t n,
		      struct buf *out);

/*
 * The current frame is whole.  The caller has checked that out has
 * ZMTP_RESERVE bytes free: the reply is finished here when this was the
 * request's last frame (done->done), or its head written when this was
 * echo's name.  After a finished request, r is ready for the next one.
 */
void rpc_frame_end(struct zmtp_rpc *r, struct buf *out, struct rpc_done *done);

#endif
