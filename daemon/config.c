/* The keys of evd.ini, one row each in keys[]: section, name, default,
 * type, field, bounds, names, help.  A key of a known type is one row (and
 * its field in struct config); only listen, protocol, model, workers and
 * sample have parsers of their own.  Sections, "expected one of" lists,
 * defaults, evd -t's output and reload classes all come from the table. */
#include "config.h"
#include "config_int.h"

#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/num.h"
#include "model.h"
#include "proto/proto.h"

#define WORKERS_MAX 4096

/* ---- the keys with parsers of their own -------------------------------- */

static int key_listen(struct config *cfg, const char *v, char *why,
		      size_t whylen)
{
	struct listen_addr addrs[CONFIG_MAX_LISTEN];
	unsigned n = 0;
	const char *p = v;

	for (;;) {
		char item[80];
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			return config_why(why, whylen, "empty address in "
					  "\"%s\" (expected HOST:PORT[, "
					  "HOST:PORT...])", v);
		if (len >= sizeof(item))
			return config_why(why, whylen,
					  "address too long in \"%s\"", v);
		if (n == CONFIG_MAX_LISTEN)
			return config_why(why, whylen, "more than %d addresses",
					  CONFIG_MAX_LISTEN);
		memcpy(item, p, len);
		item[len] = '\0';
		if (parse_listen_one(item, &addrs[n], why, whylen) < 0)
			return -1;
		for (unsigned i = 0; i < n; i++)
			if (listen_addr_port(&addrs[n]) != 0 &&
			    addrs[i].len == addrs[n].len &&
			    !memcmp(&addrs[i].ss, &addrs[n].ss, addrs[n].len))
				return config_why(why, whylen, "address %s is "
						  "listed twice", item);
		n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	memcpy(cfg->listen, addrs, sizeof(addrs[0]) * n);
	cfg->nlisten = n;
	return 0;
}

static void print_listen(const struct config *cfg, FILE *out)
{
	for (unsigned i = 0; i < cfg->nlisten; i++)
		fprintf(out, "%s%s", i ? ", " : "", cfg->listen[i].text);
}

static int key_protocol(struct config *cfg, const char *v, char *why,
			size_t whylen)
{
	const struct evd_proto *p = proto_find(v);

	if (!p)
		return config_why(why, whylen, "unknown protocol \"%s\" "
				  "(expected one of: %s)", v, proto_names());
	cfg->proto = p;
	return 0;
}

static void print_protocol(const struct config *cfg, FILE *out)
{
	fputs(cfg->proto->name, out);
}

static int key_model(struct config *cfg, const char *v, char *why,
		     size_t whylen)
{
	const struct evd_model *m = model_find(v);

	if (!m)
		return config_why(why, whylen, "unknown model \"%s\" "
				  "(expected one of: %s)", v, model_names());
	cfg->model = m;
	return 0;
}

static void print_model(const struct config *cfg, FILE *out)
{
	fputs(cfg->model->name, out);
}

static int key_workers(struct config *cfg, const char *v, char *why,
		       size_t whylen)
{
	uint64_t n;

	if (strcmp(v, "auto") == 0) {
		cfg->workers = 0;
		return 0;
	}
	if (parse_uint(v, 1, WORKERS_MAX, &n, why, whylen) < 0) {
		/* Mention "auto" in the accepted values. */
		char inner[200];
		snprintf(inner, sizeof(inner), "%s", why);
		char *paren = strstr(inner, "(expected ");
		if (paren)
			*paren = '\0';
		return config_why(why, whylen, "%s(expected auto or 1..%d)",
				  inner, WORKERS_MAX);
	}
	cfg->workers = (unsigned)n;
	return 0;
}

static void print_workers(const struct config *cfg, FILE *out)
{
	if (cfg->workers == 0)
		fputs("auto", out);
	else
		fprintf(out, "%u", cfg->workers);
}

/* [probes] sample: "N%" or "N", 1..100. */
static int key_sample(struct config *cfg, const char *v, char *why,
		      size_t whylen)
{
	uint64_t n;

	if (num_percent(v, 1, 100, &n) < 0)
		return config_why(why, whylen, "\"%s\" is not a share of the "
				  "time (expected 1%%..100%%, such as 10%%)",
				  v);
	cfg->probes_sample = (unsigned)n;
	return 0;
}

static void print_sample(const struct config *cfg, FILE *out)
{
	fprintf(out, "%u%%", cfg->probes_sample);
}

/* [metrics] listen: one HOST:PORT, or "" (off). */
static int key_metrics_listen(struct config *cfg, const char *v, char *why,
			      size_t whylen)
{
	memset(&cfg->metrics_listen, 0, sizeof(cfg->metrics_listen));
	if (strchr(v, ','))
		return config_why(why, whylen, "one address only (\"%s\" is "
				  "a list)", v);
	if (*v && parse_listen_one(v, &cfg->metrics_listen, why, whylen) < 0) {
		memset(&cfg->metrics_listen, 0, sizeof(cfg->metrics_listen));
		return -1;
	}
	return 0;
}

static void print_metrics_listen(const struct config *cfg, FILE *out)
{
	fputs(cfg->metrics_listen.len ? cfg->metrics_listen.text : "", out);
}

/* ---- the table --------------------------------------------------------- */

const char *const accept_lock_names[ACCEPT_LOCK_MAX] = {
	[ACCEPT_LOCK_NONE] = "none",
	[ACCEPT_LOCK_FCNTL] = "fcntl",
	[ACCEPT_LOCK_FLOCK] = "flock",
	[ACCEPT_LOCK_MUTEX] = "mutex",
};

const char *const probes_mode_names[PROBES_MODE_MAX] = {
	[PROBES_OFF] = "off",
	[PROBES_ON] = "on",
	[PROBES_AUTO] = "auto",
};

const char *const probes_profile_names[PROFILE_MAX] = {
	[PROFILE_OFF] = "off",
	[PROFILE_ON] = "on",
};

/* KT_ENUM fields are written as int. */
_Static_assert(sizeof(enum accept_lock) == sizeof(int), "enum size");
_Static_assert(sizeof(enum probes_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(enum probes_profile) == sizeof(int), "enum size");
_Static_assert(sizeof(enum log_level) == sizeof(int), "enum size");

#define F(f) .off = offsetof(struct config, f), \
	     .size = sizeof(((struct config *)0)->f)
#define NAMES(t) .names = (t), .nnames = sizeof(t) / sizeof((t)[0])
#define CUSTOM(p, q) .type = KT_CUSTOM, .parse = (p), .print = (q)

/* One row a key, in the order evd -t prints them; a section's keys
 * together.  Positional: section, key, default, then the type and its
 * field; bounds follow (min, max) where the type takes them. */
static const struct key keys[] = {
	{ "server", "listen", "127.0.0.1:7777",
	  CUSTOM(key_listen, print_listen),
	  .help = "addresses to listen on: HOST:PORT, comma-separated" },
	{ "server", "protocol", "echo", CUSTOM(key_protocol, print_protocol),
	  .help = "what is served: echo, http, resp or zmtp" },
	{ "server", "model", "epoll", CUSTOM(key_model, print_model),
	  .help = "the concurrency model (evd --list-models)" },
	{ "server", "workers", "auto", CUSTOM(key_workers, print_workers),
	  .help = "pool size, where the model has one; auto: one per CPU" },
	{ "server", "backlog", "511", KT_UINT, F(backlog), 1, 65535,
	  .help = "listen(2) backlog" },
	{ "server", "max_connections", "10000", KT_UINT, F(max_connections),
	  1, 1000000, .help = "connections open at once" },
	{ "server", "idle_timeout", "60s", KT_DURATION, F(idle_timeout_ms),
	  0, 86400 * 1000ull, .help = "an idle connection closes; 0: never" },
	{ "server", "pin_workers", "no", KT_BOOL, F(pin_workers),
	  .needs = MODEL_PINNABLE, .help = "bind worker k to the k-th CPU" },
	{ "server", "delay", "0ms", KT_DURATION, F(delay_ms), 0, 60 * 1000ull,
	  .help = "every reply is due this much later (backend I/O)" },
	{ "server", "request_timeout", "10s", KT_DURATION,
	  F(request_timeout_ms), 0, 3600 * 1000ull,
	  .help = "a started request must be whole by then; 0: off" },
	{ "server", "drain_timeout", "10s", KT_DURATION, F(drain_timeout_ms),
	  0, 3600 * 1000ull,
	  .help = "at a stop or reload, requests in flight get this long" },
	{ "server", "user", "", KT_NAME, F(user), .what = "user",
	  .reload = RELOAD_RESTART,
	  .help = "started as root, run as this user; empty: stay" },
	{ "prefork", "accept_lock", "none", KT_ENUM, F(accept_lock),
	  NAMES(accept_lock_names), .what = "lock", .needs = MODEL_PREFORK_KEYS,
	  .help = "how prefork workers take turns at accept()" },
	{ "prefork", "reuseport", "no", KT_BOOL, F(reuseport),
	  .needs = MODEL_PREFORK_KEYS,
	  .help = "each worker accepts on its own SO_REUSEPORT socket" },
	{ "http", "body", "Hello, World!", KT_TEXT, F(http_body),
	  0, CONFIG_BODY_MAX, .aux = offsetof(struct config, http_body_len),
	  .help = "what GET / answers" },
	{ "http", "max_header_bytes", "8k", KT_SIZE, F(http_max_header_bytes),
	  256, CONFIG_IN_BUFFER, .help = "request line and headers together" },
	{ "http", "max_headers", "100", KT_UINT, F(http_max_headers), 1, 1000,
	  .help = "header fields in a request" },
	{ "http", "max_body_bytes", "1m", KT_SIZE, F(http_max_body_bytes),
	  0, 1024ull * 1024 * 1024, .help = "a request's body" },
	/* A whole command must fit the input buffer, headers included. */
	{ "resp", "max_bulk_bytes", "8k", KT_SIZE, F(resp_max_bulk_bytes),
	  1, CONFIG_IN_BUFFER - 1024, .help = "one bulk string of a command" },
	{ "resp", "max_args", "64", KT_UINT, F(resp_max_args), 1, 1024,
	  .help = "arguments of a command" },
	{ "zmtp", "max_frame", "1m", KT_SIZE, F(zmtp_max_frame),
	  1, 1024ull * 1024 * 1024, .help = "bytes in one message frame" },
	{ "zmtp", "max_frames", "64", KT_UINT, F(zmtp_max_frames), 1, 65536,
	  .help = "frames in one message" },
	{ "control", "socket", "/run/evd/evd.sock", KT_SOCKET,
	  F(control_socket), .what = "control socket", .reload = RELOAD_RESTART,
	  .help = "the control socket's path" },
	{ "control", "mode", "0660", KT_MODE, F(control_mode),
	  .reload = RELOAD_RESTART, .help = "the control socket's file mode" },
	{ "control", "group", "", KT_NAME, F(control_group), .what = "group",
	  .reload = RELOAD_RESTART, .help = "the control socket's group" },
	{ "probes", "syscalls", "off", KT_ENUM, F(probes_syscalls),
	  NAMES(probes_mode_names), .what = "value", .reload = RELOAD_LIVE,
	  .help = "the eBPF syscall probes: off, on or auto" },
	{ "probes", "timing", "yes", KT_BOOL, F(probes_timing),
	  .reload = RELOAD_LIVE, .help = "time each call, or count only" },
	{ "probes", "sample", "100%", CUSTOM(key_sample, print_sample),
	  .reload = RELOAD_LIVE, .help = "share of each second attached" },
	{ "probes", "profile", "off", KT_ENUM, F(probes_profile),
	  NAMES(probes_profile_names), .what = "value",
	  .reload = RELOAD_RESTART,
	  .help = "the stack profiler, loaded at start: off or on" },
	{ "log", "level", "info", KT_ENUM, F(log_level), NAMES(log_level_names),
	  .what = "level", .reload = RELOAD_LIVE,
	  .help = "the least severe messages logged" },
	{ "metrics", "listen", "",
	  CUSTOM(key_metrics_listen, print_metrics_listen), F(metrics_listen),
	  .reload = RELOAD_RESTART,
	  .help = "serve Prometheus text at /metrics: HOST:PORT; empty: off" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

_Static_assert(NKEYS <= CONFIG_MAX_KEYS,
	       "config.origin and the reader's seen[] need a slot per key");

/* ---- the table checks itself (for the unit tests) ---------------------- */

/* What is wrong with row k, or NULL: a field of the size its type writes,
 * names for an enum, functions for a custom key, sane bounds, a help line,
 * and a default that its own parser takes. */
static const char *row_problem(const struct key *k)
{
	struct config scratch;
	char why[256];
	bool num = k->type == KT_UINT || k->type == KT_SIZE ||
		   k->type == KT_MODE;

	if (k->type >= KT_MAX)
		return "unknown type";
	if (num && k->size != sizeof(unsigned) && k->size != sizeof(uint64_t))
		return "an integer field is neither unsigned nor uint64_t";
	if (k->type == KT_DURATION && k->size != sizeof(uint64_t))
		return "a duration field is not uint64_t";
	if (k->type == KT_BOOL && k->size != sizeof(bool))
		return "a yes/no field is not bool";
	if (k->type == KT_ENUM && (k->size != sizeof(int) || !k->names ||
				   !k->nnames || !k->what))
		return "an enum needs an int-sized field, names[] and what";
	if ((k->type == KT_NAME || k->type == KT_SOCKET) && !k->what)
		return "its messages need what";
	if (k->type == KT_TEXT && (!k->aux || k->max >= k->size))
		return "text needs aux and max below its field's size";
	if (k->type == KT_CUSTOM && (!k->parse || !k->print))
		return "a custom key needs parse() and print()";
	if (k->reload == RELOAD_RESTART && !k->size)
		return "a restart-only key needs its field (config_keep)";
	if ((num || k->type == KT_DURATION) && k->min > k->max)
		return "min above max";
	if (!k->help || !k->help[0])
		return "no help line";
	memset(&scratch, 0, sizeof(scratch));
	if (config_value_parse(k, &scratch, k->dflt, why, sizeof(why)) < 0)
		return "its default does not parse";
	return NULL;
}

/* Row i's place: no key twice, a section's keys together. */
static const char *place_problem(size_t i)
{
	for (size_t j = 0; j < i; j++) {
		if (strcmp(keys[j].section, keys[i].section) != 0)
			continue;
		if (strcmp(keys[j].name, keys[i].name) == 0)
			return "a duplicate key";
		if (strcmp(keys[i - 1].section, keys[i].section) != 0)
			return "its section's keys are not together";
	}
	return NULL;
}

int config_table_check(char *why, size_t whylen)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const char *p = row_problem(&keys[i]);
		if (!p)
			p = place_problem(i);
		if (p)
			return config_why(why, whylen, "[%s] %s: %s",
					  keys[i].section, keys[i].name, p);
	}
	return 0;
}

/* ---- errors ------------------------------------------------------------ */

void config_err_add(struct config_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (!errs)
		return;
	if (errs->n == CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errs->msg[errs->n++], sizeof(errs->msg[0]), fmt, ap);
	va_end(ap);
}

bool config_section_known(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(name, keys[i].section) == 0)
			return true;
	return false;
}

/* The sections in the order of the table: a section's keys are together. */
void config_section_list(char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NKEYS && used < len; i++)
		if (i == 0 || strcmp(keys[i].section, keys[i - 1].section) != 0)
			used += (size_t)snprintf(out + used, len - used,
						 "%s[%s]", i ? ", " : "",
						 keys[i].section);
}

static void key_list(const char *section, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NKEYS && used < len; i++)
		if (strcmp(keys[i].section, section) == 0)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "",
						 keys[i].name);
}

/* ---- applying one key -------------------------------------------------- */

/* Where a key was set, for messages and evd -t's comments: control
 * characters (from -o) become '?', so that the comment stays one line. */
static void origin_set(char *out, size_t len, const char *where)
{
	snprintf(out, len, "%s", where);
	for (; *out; out++)
		if ((unsigned char)*out < ' ' || *out == 0x7f)
			*out = '?';
}

int config_apply(struct config *cfg, const char *section, const char *name,
		 const char *value, const char *where, bool *seen,
		 struct config_errors *errs)
{
	char why[256];

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 ||
		    strcmp(keys[i].name, name) != 0)
			continue;
		if (seen && seen[i]) {
			config_err_add(errs, "%s: duplicate key \"%s\" in [%s] "
				       "(first set at %s); keep one", where,
				       name, section, cfg->origin[i]);
			return -1;
		}
		if (config_value_parse(&keys[i], cfg, value, why,
				       sizeof(why)) < 0) {
			config_err_add(errs, "%s: %s: %s", where, name, why);
			return -1;
		}
		if (seen)
			seen[i] = true;
		origin_set(cfg->origin[i], sizeof(cfg->origin[i]), where);
		return 0;
	}
	char list[256];
	key_list(section, list, sizeof(list));
	config_err_add(errs,
		       "%s: unknown key \"%s\" in [%s] (expected one of: %s)",
		       where, name, section, list);
	return -1;
}

void config_defaults(struct config *cfg)
{
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		int rc = config_value_parse(&keys[i], cfg, keys[i].dflt, why,
					    sizeof(why));
		(void)rc;	/* the defaults are valid: a unit test checks */
	}
}

unsigned config_workers(const struct config *cfg)
{
	if (!(cfg->model->flags & MODEL_USES_WORKERS))
		return 1;
	unsigned n = cfg->workers;
	if (!n) {	/* auto: one per CPU evd may run on */
		cpu_set_t allowed;
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		n = sched_getaffinity(0, sizeof(allowed), &allowed) == 0 ?
			    (unsigned)CPU_COUNT(&allowed) :
			    online > 0 ? (unsigned)online : 1;
	}
	/* A blocking pool serves one connection per worker: more workers
	 * than max_connections would serve more than the limit. */
	if ((cfg->model->flags & MODEL_BLOCKING) && n > cfg->max_connections)
		n = cfg->max_connections;
	return n;
}

static int key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keys[i].section, section) &&
		    !strcmp(keys[i].name, name))
			return (int)i;
	return -1;
}

int config_finish(struct config *cfg, struct config_errors *errs,
		  struct config_errors *warnings)
{
	unsigned before = errs->n + errs->dropped;
	int wi = key_index("server", "workers");

	if (!(cfg->model->flags & MODEL_USES_WORKERS) && cfg->workers > 1 &&
	    cfg->origin[wi][0])
		config_err_add(warnings, "%s: workers = %u is ignored: model %s "
			       "serves from one thread", cfg->origin[wi],
			       cfg->workers, cfg->model->name);
	/* Other keys that shape only some models. */
	for (size_t i = 0; i < NKEYS; i++) {
		if (!keys[i].needs || !cfg->origin[i][0] ||
		    (cfg->model->flags & keys[i].needs) == keys[i].needs)
			continue;
		char users[160];
		model_list_with(keys[i].needs, users, sizeof(users));
		config_err_add(warnings, "%s: [%s] %s is ignored: model %s does "
			       "not use it (it shapes: %s)", cfg->origin[i],
			       keys[i].section, keys[i].name, cfg->model->name,
			       users);
	}
	int li = key_index("prefork", "accept_lock");
	if ((cfg->model->flags & MODEL_PREFORK_KEYS) && cfg->reuseport &&
	    cfg->origin[li][0] && cfg->accept_lock != ACCEPT_LOCK_NONE)
		config_err_add(warnings, "%s: accept_lock = %s is ignored with "
			       "reuseport = yes: each worker accepts on its own "
			       "socket", cfg->origin[li],
			       accept_lock_names[cfg->accept_lock]);
	return errs->n + errs->dropped == before ? 0 : -1;
}

int config_check_names(const struct config *cfg, struct config_errors *errs)
{
	unsigned before = errs->n + errs->dropped;
	char buf[16384];
	int rc;

	if (cfg->user[0]) {
		struct passwd pw, *found = NULL;
		const char *where = cfg->origin[key_index("server", "user")];
		rc = getpwnam_r(cfg->user, &pw, buf, sizeof(buf), &found);
		if (rc)
			config_err_add(errs, "%s: user: cannot read the user "
				       "database: %s", where, strerror(rc));
		else if (!found)
			config_err_add(errs, "%s: user: no such user \"%s\" "
				       "(create it, e.g. `systemd-sysusers` or "
				       "`adduser --system %s`, or change the "
				       "key)", where, cfg->user, cfg->user);
	}
	if (cfg->control_group[0]) {
		struct group gr, *found = NULL;
		const char *where = cfg->origin[key_index("control", "group")];
		rc = getgrnam_r(cfg->control_group, &gr, buf, sizeof(buf),
				&found);
		if (rc)
			config_err_add(errs, "%s: group: cannot read the group "
				       "database: %s", where, strerror(rc));
		else if (!found)
			config_err_add(errs, "%s: group: no such group \"%s\" "
				       "(create it, e.g. `groupadd --system %s`, "
				       "or leave group empty)", where,
				       cfg->control_group, cfg->control_group);
	}
	return errs->n + errs->dropped == before ? 0 : -1;
}

void config_list_keys(FILE *out)
{
	for (size_t i = 0; i < NKEYS; i++) {
		char name[64], dflt[CONFIG_MAX_LINE + 1];
		snprintf(name, sizeof(name), "%s.%s", keys[i].section,
			 keys[i].name);
		config_quote(keys[i].dflt, dflt, sizeof(dflt));
		fprintf(out, "%-24s %-18s %s\n", name, dflt[0] ? dflt : "\"\"",
			keys[i].help);
	}
}

/* The value of key i in cfg, as evd -t prints it. */
static void key_value(const struct config *cfg, size_t i, char *out,
		      size_t len)
{
	FILE *v = fmemopen(out, len, "w");

	out[0] = '\0';
	if (!v)
		return;
	config_value_print(&keys[i], cfg, v);
	fclose(v);
}

void config_print(const struct config *cfg, FILE *out)
{
	const char *section = "";

	for (size_t i = 0; i < NKEYS; i++) {
		if (strcmp(section, keys[i].section) != 0) {
			section = keys[i].section;
			fprintf(out, "%s[%s]\n", i ? "\n" : "", section);
		}
		char value[CONFIG_MAX_LINE + 1], quoted[CONFIG_MAX_LINE + 1];
		key_value(cfg, i, value, sizeof(value));
		config_quote(value, quoted, sizeof(quoted));
		const char *origin = cfg->origin[i][0] ? cfg->origin[i] :
							 "default";
		size_t len = strlen(keys[i].name) + 3 + strlen(quoted) + 3 +
			     strlen(origin);
		/* Keep each line within what the parser reads back: a long
		 * value gets its origin on the line before. */
		if (len > CONFIG_MAX_LINE)
			fprintf(out, "; %s\n%s = %s\n", origin, keys[i].name,
				quoted);
		else
			fprintf(out, "%s = %s\t; %s\n", keys[i].name, quoted,
				origin);
	}
}

unsigned config_compare(const struct config *a, const struct config *b,
			char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX])
{
	unsigned classes = 0;

	for (int r = 0; r < CONFIG_RELOAD_MAX; r++)
		names[r][0] = '\0';
	for (size_t i = 0; i < NKEYS; i++) {
		char va[CONFIG_MAX_LINE + 1], vb[CONFIG_MAX_LINE + 1];
		key_value(a, i, va, sizeof(va));
		key_value(b, i, vb, sizeof(vb));
		if (strcmp(va, vb) == 0)
			continue;
		enum config_reload r = keys[i].reload;
		classes |= 1u << r;
		size_t used = strlen(names[r]);
		snprintf(names[r] + used, CONFIG_NAMES_MAX - used, "%s%s.%s",
			 used ? ", " : "", keys[i].section, keys[i].name);
	}
	return classes;
}

void config_keep(struct config *next, const struct config *cur,
		 enum config_reload r)
{
	for (size_t i = 0; i < NKEYS; i++) {
		const struct key *k = &keys[i];
		if (k->reload != r)
			continue;
		memcpy((char *)next + k->off, (const char *)cur + k->off,
		       k->size);
		if (k->aux)
			memcpy((char *)next + k->aux, (const char *)cur + k->aux,
			       sizeof(size_t));
	}
}

int config_read(struct config *cfg, const char *path, char *const *overrides,
		int noverrides, struct config_errors *errs,
		struct config_errors *warnings)
{
	memset(errs, 0, sizeof(*errs));
	memset(warnings, 0, sizeof(*warnings));
	config_defaults(cfg);
	config_load(cfg, path, errs);
	for (int i = 0; i < noverrides; i++)
		config_set(cfg, overrides[i], errs);
	if (errs->n == 0 && errs->dropped == 0)
		config_finish(cfg, errs, warnings);
	return errs->n || errs->dropped ? -1 : 0;
}
