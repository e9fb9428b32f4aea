/* uring: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int uring_run(struct server *srv)
{
	(void)srv;
	log_errorx("model uring is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_uring = {
	.name = "uring",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = uring_run,
};
