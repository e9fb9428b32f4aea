/* reuseport: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int reuseport_run(struct server *srv)
{
	(void)srv;
	log_errorx("model reuseport is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_reuseport = {
	.name = "reuseport",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = reuseport_run,
};
