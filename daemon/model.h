/* A concurrency model decides only how I/O is scheduled: who waits, on
 * what, who reads and who writes.  Each lives in daemon/models/<name>.c and
 * ends with one `const struct evd_model evd_model_<name>`; models.c lists
 * them all.  Connections and protocols are shared (conn.c, proto/). */
#ifndef EVD_MODEL_H
#define EVD_MODEL_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct server;

enum model_flags {
	/* Sockets are blocking: a worker sleeps in accept/recv/send. */
	MODEL_BLOCKING = 1u << 0,
	/* The `workers` key sizes a pool of threads or processes. */
	MODEL_USES_WORKERS = 1u << 1,
	/* Shaped by the [prefork] keys accept_lock and reuseport. */
	MODEL_PREFORK_KEYS = 1u << 2,
	/* pin_workers binds worker i to CPU i mod the CPU count. */
	MODEL_PINNABLE = 1u << 3,
	/* Serves from worker processes (fork): their CPU time is counted
	 * through the scoreboard's pids. */
	MODEL_PROCESSES = 1u << 4,
};

struct evd_model {
	const char *name;
	const char *summary;	/* one line for --help and the README */
	unsigned flags;
	/* Scoreboard slots the model needs for this configuration. */
	unsigned (*slots)(const struct config *cfg);
	/* SO_REUSEPORT listener sets, one per worker (NULL: one set). */
	unsigned (*listener_sets)(const struct config *cfg);
	/* Serves until srv->stopping; returns 0, or -errno on a fatal error
	 * (after logging it). */
	int (*run)(struct server *srv);
};

/* NULL-terminated, in the order of the README's table. */
extern const struct evd_model *const evd_models[];

const struct evd_model *model_find(const char *name);
/* "a, b" for the models having every flag in flags. */
void model_list_with(unsigned flags, char *out, size_t len);
/* slots() of the single-threaded models. */
unsigned model_one_slot(const struct config *cfg);
/* "iterative, select, ..." for error messages. */
const char *model_names(void);

#endif
