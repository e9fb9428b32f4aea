/* prefork: not written yet. */
#include <errno.h>

#include "../log.h"
#include "../server.h"

static int prefork_run(struct server *srv)
{
	(void)srv;
	log_errorx("model prefork is not implemented yet");
	return -ENOSYS;
}

const struct evd_model evd_model_prefork = {
	.name = "prefork",
	.summary = "(not implemented yet)",
	.flags = 0,
	.slots = model_one_slot,
	.run = prefork_run,
};
