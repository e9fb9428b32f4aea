/* The text of /metrics (metrics.h): what `evctl metrics` assembles from the
 * control socket, made here from the control thread's own view. */
#include <stdlib.h>

#include "metrics.h"
#include "model.h"
#include "probes/probes.h"
#include "proto/proto.h"
#include "server.h"
#include "version.h"

_Static_assert(PROBES_HIST_BUCKETS == PROM_SC_HIST_BUCKETS,
	       "syscall histogram buckets");

/* The live scoreboard slots, as `evctl workers` lists them. */
static void text_workers(const struct prom_out *o, const struct prom_ident *id,
			 const struct scoreboard *sb)
{
	unsigned used = atomic_load(&((struct scoreboard *)sb)->used);
	struct prom_worker *w = calloc(used ? used : 1, sizeof(*w));
	size_t n = 0;

	if (!w)
		return;
	for (unsigned i = 0; i < used && i < sb->nslots; i++) {
		const struct stats_slot *s = &sb->slots[i];
#define LD(x) atomic_load_explicit(&s->x, memory_order_relaxed)
		int state = LD(state), role = LD(role);
		if (state == WORKER_FREE)
			continue;
		uint64_t acc = LD(c[STAT_accepted]), clo = LD(c[STAT_closed]);
		w[n++] = (struct prom_worker){
			.id = i,
			.role = role >= 0 && role < ROLE_MAX ?
					worker_role_names[role] : "?",
			.state = state >= 0 && state < WORKER_STATE_MAX ?
					 worker_state_names[state] : "?",
			.pid = LD(pid), .tid = LD(tid), .accepted = acc,
			.requests = LD(c[STAT_requests]),
			.bytes_in = LD(c[STAT_bytes_in]),
			.bytes_out = LD(c[STAT_bytes_out]),
			.restarts = LD(restarts), .active = (int64_t)(acc - clo),
		};
#undef LD
	}
	prom_workers(o, id, w, n);
	free(w);
}

/* Every system call counted, in number order; the histogram when the calls
 * were timed (as `evctl syscalls -o prometheus`).  Nothing when the probes
 * cannot be read. */
static void text_syscalls(const struct prom_out *o,
			  const struct prom_ident *id,
			  const struct metrics_src *src)
{
	struct probes_syscall *v = calloc(PROBES_NR_MAX, sizeof(*v));
	struct prom_syscall *ps = calloc(PROBES_NR_MAX, sizeof(*ps));
	char (*names)[32] = calloc(PROBES_NR_MAX, sizeof(*names));
	bool timing = probes_timing(src->probes);
	size_t n = 0;

	if (!v || !ps || !names || probes_read(src->probes, v) < 0)
		goto out;
	for (unsigned nr = 0; nr < PROBES_NR_MAX; nr++) {
		if (!v[nr].calls)
			continue;
		bool timed = false;
		for (unsigned b = 0; timing && b < PROBES_HIST_BUCKETS; b++)
			timed |= v[nr].hist[b] != 0;
		ps[n] = (struct prom_syscall){
			.name = probes_syscall_name(nr, names[n],
						    sizeof(names[n])),
			.calls = v[nr].calls, .errors = v[nr].errors,
			.total_ns = v[nr].total_ns,
			.hist = timed ? v[nr].hist : NULL,
		};
		n++;
	}
	const struct prom_syscalls s = {
		.seconds = (double)probes_counted_ns(src->probes) / 1e9,
		.requests = src->sc_requests, .n = n, .v = ps,
	};
	prom_syscalls(o, id, &s);
out:
	free(names);
	free(ps);
	free(v);
}

void metrics_text(const struct prom_out *o, const struct metrics_src *src)
{
	const struct server *srv = src->srv;
	const struct prom_ident id = { srv->model->name, srv->proto->name };
	const struct prom_server ps = {
		.version = EVD_VERSION, .uptime_s = src->uptime_s,
		.cpu_user_s = src->cpu_user, .cpu_sys_s = src->cpu_sys,
		.workers = srv->workers,
		.max_connections = srv->cfg->max_connections,
		.tot = src->tot, .has_hist = true,
	};

	prom_server(o, &id, &ps);
	text_workers(o, &id, srv->sb);
	if (src->probes)
		text_syscalls(o, &id, src);
}
