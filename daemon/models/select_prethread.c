/* select-prethread: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int select_prethread_run(struct server *srv)
{
	(void)srv;
	log_errorx("model select-prethread is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_select_prethread = {
	.name = "select-prethread",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = select_prethread_run,
};
