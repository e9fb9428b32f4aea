/* prethread: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int prethread_run(struct server *srv)
{
	(void)srv;
	log_errorx("model prethread is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_prethread = {
	.name = "prethread",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = prethread_run,
};
