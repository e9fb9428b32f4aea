#include "config.h"
#include "config_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/num.h"
#include "model.h"
#include "proto/proto.h"

#define WORKERS_MAX 4096

/* ---- value parsers (no I/O, no allocation) ---------------------------- */

static int why_set(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_set(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	       char *why, size_t whylen)
{
	int rc = num_uint(s, min, max, out);

	if (rc == -EINVAL)
		return why_set(why, whylen,
			       "\"%s\" is not a whole number (expected %" PRIu64
			       "..%" PRIu64 ")", s, min, max);
	if (rc < 0)
		return why_set(why, whylen,
			       "%s is out of range (expected %" PRIu64 "..%" PRIu64
			       ")", s, min, max);
	return 0;
}

int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out,
		      char *why, size_t whylen)
{
	int rc = num_duration_ms(s, max_ms, out);

	if (rc == -EINVAL)
		return why_set(why, whylen,
			       "\"%s\" is not a duration (expected a number with "
			       "a unit, ms or s, such as 250ms or 60s)", s);
	if (rc < 0)
		return why_set(why, whylen, "%s is out of range (at most %"
			       PRIu64 "s)", s, max_ms / 1000);
	return 0;
}

int parse_size(const char *s, uint64_t max, uint64_t *out, char *why,
	       size_t whylen)
{
	int rc = num_size(s, 0, max, out);

	if (rc == -EINVAL)
		return why_set(why, whylen,
			       "\"%s\" is not a size (expected bytes, or a number "
			       "with k or m, such as 64k)", s);
	if (rc < 0)
		return why_set(why, whylen, "%s is out of range (at most %" PRIu64
			       " bytes)", s, max);
	return 0;
}

int parse_listen_one(const char *s, struct listen_addr *la, char *why,
		     size_t whylen)
{
	char host[64];
	const char *port_s;
	size_t hlen;

	memset(la, 0, sizeof(*la));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port_s = end + 2;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&la->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return why_set(why, whylen,
				       "\"%s\" is not a numeric IPv6 address", host);
		sin6->sin6_family = AF_INET6;
		la->len = sizeof(*sin6);
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port_s = colon + 1;
		struct sockaddr_in *sin = (struct sockaddr_in *)&la->ss;
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return why_set(why, whylen,
				       "\"%s\" is not a numeric IPv4 address "
				       "(write IPv6 as [::1]:7777)", host);
		sin->sin_family = AF_INET;
		la->len = sizeof(*sin);
	}
	uint64_t port;
	char pwhy[128];
	if (parse_uint(port_s, 0, 65535, &port, pwhy, sizeof(pwhy)) < 0)
		return why_set(why, whylen, "port of \"%s\": %s", s, pwhy);
	bool v6 = la->ss.ss_family == AF_INET6;
	if (v6)
		((struct sockaddr_in6 *)&la->ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&la->ss)->sin_port = htons((uint16_t)port);
	/* Rebuilt from the parts, so that leading zeros in the port cannot
	 * push it past text[]: a numeric host is at most 45 characters
	 * (INET6_ADDRSTRLEN - 1), so "%.45s" never cuts one. */
	snprintf(la->text, sizeof(la->text), "%s%.45s%s:%u", v6 ? "[" : "",
		 host, v6 ? "]" : "", (unsigned)port);
	return 0;
bad:
	return why_set(why, whylen,
		       "\"%s\" is not an address (expected HOST:PORT such as "
		       "127.0.0.1:7777, *:7777 or [::1]:7777)", s);
}

unsigned listen_addr_port(const struct listen_addr *la)
{
	if (la->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&la->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&la->ss)->sin6_port);
}

/* ---- one parser and one printer per key -------------------------------- */

typedef int key_parse_fn(struct config *cfg, const char *v, char *why,
			 size_t whylen);
typedef void key_print_fn(const struct config *cfg, FILE *out);

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
			return why_set(why, whylen, "empty address in \"%s\" "
				       "(expected HOST:PORT[, HOST:PORT...])", v);
		if (len >= sizeof(item))
			return why_set(why, whylen, "address too long in \"%s\"", v);
		if (n == CONFIG_MAX_LISTEN)
			return why_set(why, whylen, "more than %d addresses",
				       CONFIG_MAX_LISTEN);
		memcpy(item, p, len);
		item[len] = '\0';
		if (parse_listen_one(item, &addrs[n], why, whylen) < 0)
			return -1;
		for (unsigned i = 0; i < n; i++)
			if (listen_addr_port(&addrs[n]) != 0 &&
			    addrs[i].len == addrs[n].len &&
			    memcmp(&addrs[i].ss, &addrs[n].ss, addrs[n].len) == 0)
				return why_set(why, whylen,
					       "address %s is listed twice", item);
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
		return why_set(why, whylen, "unknown protocol \"%s\" (expected "
			       "one of: %s)", v, proto_names());
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
		return why_set(why, whylen, "unknown model \"%s\" (expected one "
			       "of: %s)", v, model_names());
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
		return why_set(why, whylen, "%s(expected auto or 1..%d)", inner,
			       WORKERS_MAX);
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

static int key_backlog(struct config *cfg, const char *v, char *why,
		       size_t whylen)
{
	uint64_t n;

	if (parse_uint(v, 1, 65535, &n, why, whylen) < 0)
		return -1;
	cfg->backlog = (unsigned)n;
	return 0;
}

static void print_backlog(const struct config *cfg, FILE *out)
{
	fprintf(out, "%u", cfg->backlog);
}

static int key_max_connections(struct config *cfg, const char *v, char *why,
			       size_t whylen)
{
	uint64_t n;

	if (parse_uint(v, 1, 1000000, &n, why, whylen) < 0)
		return -1;
	cfg->max_connections = (unsigned)n;
	return 0;
}

static void print_max_connections(const struct config *cfg, FILE *out)
{
	fprintf(out, "%u", cfg->max_connections);
}

static void print_duration(uint64_t ms, FILE *out)
{
	if (ms && ms % 1000 == 0)
		fprintf(out, "%" PRIu64 "s", ms / 1000);
	else
		fprintf(out, "%" PRIu64 "ms", ms);
}

static int key_idle_timeout(struct config *cfg, const char *v, char *why,
			    size_t whylen)
{
	return parse_duration_ms(v, 86400 * 1000ull, &cfg->idle_timeout_ms, why,
				 whylen);
}

static void print_idle_timeout(const struct config *cfg, FILE *out)
{
	print_duration(cfg->idle_timeout_ms, out);
}

static int key_request_timeout(struct config *cfg, const char *v, char *why,
			       size_t whylen)
{
	return parse_duration_ms(v, 3600 * 1000ull, &cfg->request_timeout_ms,
				 why, whylen);
}

static void print_request_timeout(const struct config *cfg, FILE *out)
{
	print_duration(cfg->request_timeout_ms, out);
}

static int key_drain_timeout(struct config *cfg, const char *v, char *why,
			     size_t whylen)
{
	return parse_duration_ms(v, 3600 * 1000ull, &cfg->drain_timeout_ms, why,
				 whylen);
}

static void print_drain_timeout(const struct config *cfg, FILE *out)
{
	print_duration(cfg->drain_timeout_ms, out);
}

/* A user or group name as useradd(8) takes them: [a-z_][a-z0-9_-]*[$]?,
 * at most 32 bytes; "" keeps the default. */
static int parse_name(const char *v, char *out, size_t outlen,
		      const char *what, char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n >= outlen)
		return why_set(why, whylen, "%s name is %zu bytes long (at most "
			       "%zu)", what, n, outlen - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		bool ok = (ch >= 'a' && ch <= 'z') || ch == '_' ||
			  (i > 0 && ((ch >= '0' && ch <= '9') || ch == '-' ||
				     (ch == '$' && i == n - 1)));
		if (!ok)
			return why_set(why, whylen, "\"%s\" is not a valid %s "
				       "name (lower-case letters, digits, '_' "
				       "and '-', not starting with a digit or "
				       "'-')", v, what);
	}
	memcpy(out, v, n + 1);
	return 0;
}

static int key_user(struct config *cfg, const char *v, char *why,
		    size_t whylen)
{
	return parse_name(v, cfg->user, sizeof(cfg->user), "user", why, whylen);
}

static void print_user(const struct config *cfg, FILE *out)
{
	fputs(cfg->user, out);
}

static int key_group(struct config *cfg, const char *v, char *why,
		     size_t whylen)
{
	return parse_name(v, cfg->control_group, sizeof(cfg->control_group),
			  "group", why, whylen);
}

static void print_group(const struct config *cfg, FILE *out)
{
	fputs(cfg->control_group, out);
}

static int key_socket(struct config *cfg, const char *v, char *why,
		      size_t whylen)
{
	size_t len = strlen(v);

	if (len == 0)
		return why_set(why, whylen, "empty path (expected the path of "
			       "the control socket, such as /run/evd/evd.sock)");
	if (len > CONFIG_SOCKET_PATH_MAX)
		return why_set(why, whylen, "path is %zu bytes long; a unix "
			       "socket path holds at most %d", len,
			       CONFIG_SOCKET_PATH_MAX);
	memcpy(cfg->control_socket, v, len + 1);
	return 0;
}

static void print_socket(const struct config *cfg, FILE *out)
{
	fputs(cfg->control_socket, out);
}

static int key_mode(struct config *cfg, const char *v, char *why,
		    size_t whylen)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '7' && i < 4; i++)
		m = m * 8 + (unsigned)(v[i] - '0');
	if (i == 0 || v[i] != '\0' || m > 0777)
		return why_set(why, whylen, "\"%s\" is not a file mode (expected "
			       "octal 0000..0777, such as 0660)", v);
	cfg->control_mode = m;
	return 0;
}

static void print_mode(const struct config *cfg, FILE *out)
{
	fprintf(out, "%04o", cfg->control_mode);
}

const char *const probes_mode_names[PROBES_MODE_MAX] = {
	[PROBES_OFF] = "off",
	[PROBES_ON] = "on",
	[PROBES_AUTO] = "auto",
};

static int key_syscalls(struct config *cfg, const char *v, char *why,
			size_t whylen)
{
	for (int i = 0; i < PROBES_MODE_MAX; i++)
		if (strcmp(v, probes_mode_names[i]) == 0) {
			cfg->probes_syscalls = (enum probes_mode)i;
			return 0;
		}
	return why_set(why, whylen, "unknown value \"%s\" (expected one of: "
		       "off, on, auto)", v);
}

static void print_syscalls(const struct config *cfg, FILE *out)
{
	fputs(probes_mode_names[cfg->probes_syscalls], out);
}

static int key_level(struct config *cfg, const char *v, char *why,
		     size_t whylen)
{
	for (int i = 0; i < LOG_LEVEL_MAX; i++)
		if (strcmp(v, log_level_names[i]) == 0) {
			cfg->log_level = (enum log_level)i;
			return 0;
		}
	return why_set(why, whylen, "unknown level \"%s\" (expected one of: "
		       "debug, info, warning, error)", v);
}

static void print_level(const struct config *cfg, FILE *out)
{
	fputs(log_level_names[cfg->log_level], out);
}

const char *const accept_lock_names[ACCEPT_LOCK_MAX] = {
	[ACCEPT_LOCK_NONE] = "none",
	[ACCEPT_LOCK_FCNTL] = "fcntl",
	[ACCEPT_LOCK_FLOCK] = "flock",
	[ACCEPT_LOCK_MUTEX] = "mutex",
};

static int parse_bool(const char *v, bool *out, char *why, size_t whylen)
{
	if (strcmp(v, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(v, "no") == 0) {
		*out = false;
		return 0;
	}
	return why_set(why, whylen, "\"%s\" is not yes or no", v);
}

static int key_timing(struct config *cfg, const char *v, char *why,
		      size_t whylen)
{
	return parse_bool(v, &cfg->probes_timing, why, whylen);
}

static void print_timing(const struct config *cfg, FILE *out)
{
	fputs(cfg->probes_timing ? "yes" : "no", out);
}

/* [probes] sample: "N%" or "N", 1..100. */
static int key_sample(struct config *cfg, const char *v, char *why,
		      size_t whylen)
{
	uint64_t n;

	if (num_percent(v, 1, 100, &n) < 0)
		return why_set(why, whylen, "\"%s\" is not a share of the time "
			       "(expected 1%%..100%%, such as 10%%)", v);
	cfg->probes_sample = (unsigned)n;
	return 0;
}

static void print_sample(const struct config *cfg, FILE *out)
{
	fprintf(out, "%u%%", cfg->probes_sample);
}

static int key_pin_workers(struct config *cfg, const char *v, char *why,
			   size_t whylen)
{
	return parse_bool(v, &cfg->pin_workers, why, whylen);
}

static void print_pin_workers(const struct config *cfg, FILE *out)
{
	fputs(cfg->pin_workers ? "yes" : "no", out);
}

static int key_accept_lock(struct config *cfg, const char *v, char *why,
			   size_t whylen)
{
	for (int i = 0; i < ACCEPT_LOCK_MAX; i++)
		if (strcmp(v, accept_lock_names[i]) == 0) {
			cfg->accept_lock = (enum accept_lock)i;
			return 0;
		}
	return why_set(why, whylen, "unknown lock \"%s\" (expected one of: "
		       "none, fcntl, flock, mutex)", v);
}

static void print_accept_lock(const struct config *cfg, FILE *out)
{
	fputs(accept_lock_names[cfg->accept_lock], out);
}

static int key_reuseport(struct config *cfg, const char *v, char *why,
			 size_t whylen)
{
	return parse_bool(v, &cfg->reuseport, why, whylen);
}

static void print_reuseport(const struct config *cfg, FILE *out)
{
	fputs(cfg->reuseport ? "yes" : "no", out);
}

static int key_delay(struct config *cfg, const char *v, char *why,
		     size_t whylen)
{
	return parse_duration_ms(v, 60 * 1000ull, &cfg->delay_ms, why, whylen);
}

static void print_delay(const struct config *cfg, FILE *out)
{
	print_duration(cfg->delay_ms, out);
}

static int key_body(struct config *cfg, const char *v, char *why,
		    size_t whylen)
{
	size_t n = strlen(v);

	if (n > CONFIG_BODY_MAX)
		return why_set(why, whylen, "%zu bytes long (at most %d)", n,
			       CONFIG_BODY_MAX);
	memcpy(cfg->http_body, v, n + 1);
	cfg->http_body_len = n;
	return 0;
}

static void print_body(const struct config *cfg, FILE *out)
{
	fputs(cfg->http_body, out);
}

static int key_max_header_bytes(struct config *cfg, const char *v, char *why,
				size_t whylen)
{
	uint64_t n;

	if (parse_size(v, CONFIG_IN_BUFFER, &n, why, whylen) < 0)
		return -1;
	if (n < 256)
		return why_set(why, whylen, "%s is too small (at least 256 "
			       "bytes)", v);
	cfg->http_max_header_bytes = (unsigned)n;
	return 0;
}

static void print_size(uint64_t n, FILE *out)
{
	if (n && n % (1024 * 1024) == 0)
		fprintf(out, "%" PRIu64 "m", n / (1024 * 1024));
	else if (n && n % 1024 == 0)
		fprintf(out, "%" PRIu64 "k", n / 1024);
	else
		fprintf(out, "%" PRIu64, n);
}

static void print_max_header_bytes(const struct config *cfg, FILE *out)
{
	print_size(cfg->http_max_header_bytes, out);
}

static int key_max_headers(struct config *cfg, const char *v, char *why,
			   size_t whylen)
{
	uint64_t n;

	if (parse_uint(v, 1, 1000, &n, why, whylen) < 0)
		return -1;
	cfg->http_max_headers = (unsigned)n;
	return 0;
}

static void print_max_headers(const struct config *cfg, FILE *out)
{
	fprintf(out, "%u", cfg->http_max_headers);
}

static int key_max_body_bytes(struct config *cfg, const char *v, char *why,
			      size_t whylen)
{
	return parse_size(v, 1024ull * 1024 * 1024, &cfg->http_max_body_bytes,
			  why, whylen);
}

static void print_max_body_bytes(const struct config *cfg, FILE *out)
{
	print_size(cfg->http_max_body_bytes, out);
}

static int key_max_bulk_bytes(struct config *cfg, const char *v, char *why,
			      size_t whylen)
{
	uint64_t n;

	/* A whole command must fit the input buffer, headers included. */
	if (parse_size(v, CONFIG_IN_BUFFER - 1024, &n, why, whylen) < 0)
		return -1;
	if (n < 1)
		return why_set(why, whylen, "%s is too small (at least 1)", v);
	cfg->resp_max_bulk_bytes = (unsigned)n;
	return 0;
}

static void print_max_bulk_bytes(const struct config *cfg, FILE *out)
{
	print_size(cfg->resp_max_bulk_bytes, out);
}

static int key_max_args(struct config *cfg, const char *v, char *why,
			size_t whylen)
{
	uint64_t n;

	if (parse_uint(v, 1, 1024, &n, why, whylen) < 0)
		return -1;
	cfg->resp_max_args = (unsigned)n;
	return 0;
}

static void print_max_args(const struct config *cfg, FILE *out)
{
	fprintf(out, "%u", cfg->resp_max_args);
}

struct key {
	const char *section;
	const char *name;
	const char *dflt;
	key_parse_fn *parse;
	key_print_fn *print;
	unsigned needs;		/* model flags without which the key is ignored */
	enum config_reload reload;	/* how SIGHUP applies a change */
};

static const struct key keys[] = {
	{ "server", "listen", "127.0.0.1:7777", key_listen, print_listen },
	{ "server", "protocol", "echo", key_protocol, print_protocol },
	{ "server", "model", "epoll", key_model, print_model },
	{ "server", "workers", "auto", key_workers, print_workers },
	{ "server", "backlog", "511", key_backlog, print_backlog },
	{ "server", "max_connections", "10000", key_max_connections,
	  print_max_connections },
	{ "server", "idle_timeout", "60s", key_idle_timeout, print_idle_timeout },
	{ "server", "pin_workers", "no", key_pin_workers, print_pin_workers,
	  MODEL_PINNABLE },
	{ "server", "delay", "0ms", key_delay, print_delay },
	{ "server", "request_timeout", "10s", key_request_timeout,
	  print_request_timeout },
	{ "server", "drain_timeout", "10s", key_drain_timeout,
	  print_drain_timeout },
	{ "server", "user", "", key_user, print_user, 0, RELOAD_RESTART },
	{ "prefork", "accept_lock", "none", key_accept_lock, print_accept_lock,
	  MODEL_PREFORK_KEYS },
	{ "prefork", "reuseport", "no", key_reuseport, print_reuseport,
	  MODEL_PREFORK_KEYS },
	{ "http", "body", "Hello, World!", key_body, print_body },
	{ "http", "max_header_bytes", "8k", key_max_header_bytes,
	  print_max_header_bytes },
	{ "http", "max_headers", "100", key_max_headers, print_max_headers },
	{ "http", "max_body_bytes", "1m", key_max_body_bytes,
	  print_max_body_bytes },
	{ "resp", "max_bulk_bytes", "8k", key_max_bulk_bytes,
	  print_max_bulk_bytes },
	{ "resp", "max_args", "64", key_max_args, print_max_args },
	{ "control", "socket", "/run/evd/evd.sock", key_socket, print_socket, 0,
	  RELOAD_RESTART },
	{ "control", "mode", "0660", key_mode, print_mode, 0, RELOAD_RESTART },
	{ "control", "group", "", key_group, print_group, 0, RELOAD_RESTART },
	{ "probes", "syscalls", "off", key_syscalls, print_syscalls, 0,
	  RELOAD_LIVE },
	{ "probes", "timing", "yes", key_timing, print_timing, 0, RELOAD_LIVE },
	{ "probes", "sample", "100%", key_sample, print_sample, 0, RELOAD_LIVE },
	{ "log", "level", "info", key_level, print_level, 0, RELOAD_LIVE },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static const char *const sections[] = { "server", "prefork", "http", "resp",
					"control", "probes", "log" };
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

_Static_assert(NKEYS <= CONFIG_MAX_KEYS,
	       "config.origin and the reader's seen[] need a slot per key");

/* ---- errors ----------------------------------------------------------- */

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
	for (size_t i = 0; i < NSECTIONS; i++)
		if (strcmp(name, sections[i]) == 0)
			return true;
	return false;
}

void config_section_list(char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NSECTIONS && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s[%s]",
					 i ? ", " : "", sections[i]);
}

static void key_list(const char *section, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NKEYS && used < len; i++)
		if (strcmp(keys[i].section, section) == 0)
			used += (size_t)snprintf(out + used, len - used, "%s%s",
						 used ? ", " : "", keys[i].name);
}

/* ---- applying one key ---------------------------------------------------- */

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
			config_err_add(errs, "%s: duplicate key \"%s\" in [%s] (first set "
				"at %s); keep one", where, name, section,
				cfg->origin[i]);
			return -1;
		}
		if (keys[i].parse(cfg, value, why, sizeof(why)) < 0) {
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
	config_err_add(errs, "%s: unknown key \"%s\" in [%s] (expected one of: %s)",
		where, name, section, list);
	return -1;
}

void config_defaults(struct config *cfg)
{
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++) {
		int rc = keys[i].parse(cfg, keys[i].dflt, why, sizeof(why));
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
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
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
		config_err_add(warnings, "%s: workers = %u is ignored: model %s serves "
			"from one thread", cfg->origin[wi], cfg->workers,
			cfg->model->name);
	/* Other keys that shape only some models. */
	for (size_t i = 0; i < NKEYS; i++) {
		if (!keys[i].needs || !cfg->origin[i][0] ||
		    (cfg->model->flags & keys[i].needs) == keys[i].needs)
			continue;
		char users[160];
		model_list_with(keys[i].needs, users, sizeof(users));
		config_err_add(warnings, "%s: [%s] %s is ignored: model %s does not use "
			"it (it shapes: %s)", cfg->origin[i], keys[i].section,
			keys[i].name, cfg->model->name, users);
	}
	int li = key_index("prefork", "accept_lock");
	if ((cfg->model->flags & MODEL_PREFORK_KEYS) && cfg->reuseport &&
	    cfg->origin[li][0] && cfg->accept_lock != ACCEPT_LOCK_NONE)
		config_err_add(warnings, "%s: accept_lock = %s is ignored with reuseport "
			"= yes: each worker accepts on its own socket",
			cfg->origin[li], accept_lock_names[cfg->accept_lock]);
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
			config_err_add(errs, "%s: user: cannot read the user database: "
				"%s", where, strerror(rc));
		else if (!found)
			config_err_add(errs, "%s: user: no such user \"%s\" (create it, "
				"e.g. `systemd-sysusers` or `adduser --system %s`, "
				"or change the key)", where, cfg->user, cfg->user);
	}
	if (cfg->control_group[0]) {
		struct group gr, *found = NULL;
		const char *where = cfg->origin[key_index("control", "group")];
		rc = getgrnam_r(cfg->control_group, &gr, buf, sizeof(buf),
				&found);
		if (rc)
			config_err_add(errs, "%s: group: cannot read the group database: "
				"%s", where, strerror(rc));
		else if (!found)
			config_err_add(errs, "%s: group: no such group \"%s\" (create it, "
				"e.g. `groupadd --system %s`, or leave group "
				"empty)", where, cfg->control_group,
				cfg->control_group);
	}
	return errs->n + errs->dropped == before ? 0 : -1;
}

/* The value of key i in cfg, as evd -t prints it. */
static void key_value(const struct config *cfg, size_t i, char *out,
		      size_t len)
{
	FILE *v = fmemopen(out, len, "w");

	out[0] = '\0';
	if (!v)
		return;
	keys[i].print(cfg, v);
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
		const char *origin = cfg->origin[i][0] ? cfg->origin[i] : "default";
		/* Keep each line within what the parser reads back: a long
		 * value gets its origin on the line before. */
		if (strlen(keys[i].name) + 3 + strlen(quoted) + 3 + strlen(origin) >
		    CONFIG_MAX_LINE)
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
