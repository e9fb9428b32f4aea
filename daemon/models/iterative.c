/* iterative: one client at a time, as the first pattern of seed 001.  A
 * blocking accept, then blocking recv and send until the client leaves;
 * the next client waits in the listen backlog meanwhile. */
#include <errno.h>
#include <limits.h>

#include "../conn.h"
#include "../log.h"
#include "../server.h"

static int iterative_run(struct server *srv)
{
	struct stats_slot *slot = scoreboard_claim(srv->sb, 0);

	while (!server_winding_down(srv)) {
		struct conn *c;

		slot_set_state(slot, WORKER_IDLE);
		int lfd = server_wait_listener(srv->lis, srv->nlis);
		if (lfd < 0) {
			if (lfd == -EINTR || lfd == -EAGAIN)
				continue;
			errno = -lfd;
			log_error("poll");
			return lfd;
		}
		int r = server_accept_conn(srv, lfd, slot, false, 0, INT_MAX, &c);
		if (r <= 0)
			continue;	/* interrupted, or counted */
		conn_serve_blocking(srv, c);
	}
	slot_set_state(slot, WORKER_FREE);
	return 0;
}

const struct evd_model evd_model_iterative = {
	.name = "iterative",
	.summary = "one client at a time: blocking accept, recv and send",
	.flags = MODEL_BLOCKING,
	.slots = model_one_slot,
	.run = iterative_run,
};
