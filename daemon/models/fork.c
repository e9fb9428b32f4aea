/* fork: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int fork_run(struct server *srv)
{
	(void)srv;
	log_errorx("model fork is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_fork = {
	.name = "fork",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = fork_run,
};
