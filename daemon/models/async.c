/* async: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int async_run(struct server *srv)
{
	(void)srv;
	log_errorx("model async is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_async = {
	.name = "async",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = async_run,
};
