/* thread: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int thread_run(struct server *srv)
{
	(void)srv;
	log_errorx("model thread is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_thread = {
	.name = "thread",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = thread_run,
};
