/* Unit tests for daemon/config.c: defaults, every error message of
 * config_load() and config_set(), config_finish() warnings, config_print()
 * round trips and the shared value parsers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/config_int.h"
#include "../../daemon/model.h"
#include "../../daemon/proto/proto.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define TMP_TEMPLATE "/tmp/evd-ut-config-XXXXXX"
#define SERVER_KEYS "listen, protocol, model, workers, backlog, " \
		    "max_connections, idle_timeout, pin_workers, delay, " \
		    "request_timeout, drain_timeout, user"
#define PREFORK_KEYS "accept_lock, reuseport"
#define HTTP_KEYS "body, max_header_bytes, max_headers, max_body_bytes"
#define RESP_KEYS "max_bulk_bytes, max_args"
#define ZMTP_KEYS "max_frame, max_frames"
#define CONTROL_KEYS "socket, mode, group"
#define SECTION_LIST "[server], [prefork], [http], [resp], [zmtp], [control], " \
		     "[probes], [log], [metrics]"
#define PROTO_LIST "echo, http, resp, zmtp"
/* Indexes of the keys in config.c's table (cfg.origin[] follows it). */
enum {
	K_LISTEN, K_PROTOCOL, K_MODEL, K_WORKERS, K_BACKLOG,
	K_MAX_CONNECTIONS, K_IDLE_TIMEOUT, K_PIN_WORKERS, K_DELAY,
	K_REQUEST_TIMEOUT, K_DRAIN_TIMEOUT, K_USER,
	K_ACCEPT_LOCK, K_REUSEPORT,
	K_BODY, K_MAX_HEADER_BYTES, K_MAX_HEADERS, K_MAX_BODY_BYTES,
	K_MAX_BULK_BYTES, K_MAX_ARGS, K_MAX_FRAME, K_MAX_FRAMES,
	K_SOCKET, K_MODE, K_GROUP, K_SYSCALLS, K_TIMING, K_SAMPLE, K_PROFILE,
	K_LEVEL, K_METRICS_LISTEN,
	NKEYS
};
_Static_assert(NKEYS <= ARRAY_SIZE(((struct config *)0)->origin),
	       "config.origin must have a slot per key");
#define MODEL_LIST "iterative, select, poll, epoll, fork, thread, prefork, " \
		   "prethread, select-prethread, async, reuseport, uring"

/* ---- helpers ------------------------------------------------------------ */

/* Writes len bytes to a new temporary file; path receives its name. */
static void write_tmp(char *path, size_t pathlen, const char *data, size_t len)
{
	snprintf(path, pathlen, "%s", TMP_TEMPLATE);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Loads data over the defaults from a temporary file (removed after). */
static int load_n(const char *data, size_t len, struct config *cfg,
		  struct config_errors *errs, char *path, size_t pathlen)
{
	write_tmp(path, pathlen, data, len);
	config_defaults(cfg);
	memset(errs, 0, sizeof(*errs));
	int rc = config_load(cfg, path, errs);
	assert_int_equal(unlink(path), 0);
	return rc;
}

static int load(const char *text, struct config *cfg,
		struct config_errors *errs, char *path, size_t pathlen)
{
	return load_n(text, strlen(text), cfg, errs, path, pathlen);
}

/* Every field but origin. */
static void assert_config_equal(const struct config *a, const struct config *b)
{
	assert_int_equal(a->nlisten, b->nlisten);
	for (unsigned i = 0; i < a->nlisten; i++) {
		assert_int_equal(a->listen[i].len, b->listen[i].len);
		assert_memory_equal(&a->listen[i].ss, &b->listen[i].ss,
				    a->listen[i].len);
		assert_string_equal(a->listen[i].text, b->listen[i].text);
	}
	assert_ptr_equal(a->proto, b->proto);
	assert_ptr_equal(a->model, b->model);
	assert_int_equal(a->workers, b->workers);
	assert_int_equal(a->backlog, b->backlog);
	assert_int_equal(a->max_connections, b->max_connections);
	assert_int_equal(a->idle_timeout_ms, b->idle_timeout_ms);
	assert_int_equal(a->pin_workers, b->pin_workers);
	assert_int_equal(a->delay_ms, b->delay_ms);
	assert_int_equal(a->request_timeout_ms, b->request_timeout_ms);
	assert_int_equal(a->drain_timeout_ms, b->drain_timeout_ms);
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->accept_lock, b->accept_lock);
	assert_int_equal(a->reuseport, b->reuseport);
	assert_string_equal(a->http_body, b->http_body);
	assert_int_equal(a->http_body_len, b->http_body_len);
	assert_int_equal(a->http_max_header_bytes, b->http_max_header_bytes);
	assert_int_equal(a->http_max_headers, b->http_max_headers);
	assert_int_equal(a->http_max_body_bytes, b->http_max_body_bytes);
	assert_int_equal(a->resp_max_bulk_bytes, b->resp_max_bulk_bytes);
	assert_int_equal(a->resp_max_args, b->resp_max_args);
	assert_string_equal(a->control_socket, b->control_socket);
	assert_int_equal(a->control_mode, b->control_mode);
	assert_string_equal(a->control_group, b->control_group);
	assert_int_equal(a->probes_syscalls, b->probes_syscalls);
	assert_int_equal(a->probes_timing, b->probes_timing);
	assert_int_equal(a->probes_sample, b->probes_sample);
	assert_int_equal(a->probes_profile, b->probes_profile);
	assert_int_equal(a->log_level, b->log_level);
}

/*
 * Loads data and expects exactly the messages in want, in order; each is
 * written without the "PATH:" prefix ("2: model: ...").  When untouched,
 * the configuration must still equal the defaults.
 */
static void expect_errors_n(const char *data, size_t len, bool untouched,
			    const char *const *want, size_t nwant)
{
	struct config cfg, dflt;
	struct config_errors errs;
	char path[64], line[512];

	assert_int_equal(load_n(data, len, &cfg, &errs, path, sizeof(path)), -1);
	for (size_t i = 0; i < errs.n && i < nwant; i++) {
		snprintf(line, sizeof(line), "%s:%s", path, want[i]);
		assert_string_equal(errs.msg[i], line);
	}
	assert_int_equal(errs.n, nwant);
	assert_int_equal(errs.dropped, 0);
	if (untouched) {
		config_defaults(&dflt);
		assert_config_equal(&cfg, &dflt);
	}
}

#define EXPECT_ERRORS(text, ...)                                              \
	do {                                                                  \
		const char *const want_[] = { __VA_ARGS__ };                  \
		expect_errors_n(text, sizeof(text) - 1, true, want_,          \
				ARRAY_SIZE(want_));                           \
	} while (0)

/* "[section]\nkey = value\n" must fail with "PATH:2: key: why". */
static void expect_value_error(const char *section, const char *key,
			       const char *value, const char *why)
{
	char text[400], want[512];
	const char *const w[] = { want };

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	snprintf(want, sizeof(want), "2: %s: %s", key, why);
	expect_errors_n(text, strlen(text), true, w, 1);
}

/* "[section]\nkey = value\n" must load; returns the configuration. */
static void expect_value_ok(const char *section, const char *key,
			    const char *value, struct config *cfg)
{
	struct config_errors errs;
	char text[400], path[64];

	snprintf(text, sizeof(text), "[%s]\n%s = %s\n", section, key, value);
	assert_int_equal(load(text, cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
}

/* The models whose flags hold every bit of flags, as "a, b": computed here
 * from the table, independently of model_list_with(). */
static void models_having(unsigned flags, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; evd_models[i]; i++) {
		if ((evd_models[i]->flags & flags) != flags)
			continue;
		int n = snprintf(out + used, len - used, "%s%s", used ? ", " : "",
				 evd_models[i]->name);
		assert_true(n > 0 && (size_t)n < len - used);
		used += (size_t)n;
	}
}

/* The first model that has (or lacks) every bit of flags, or NULL. */
static const struct evd_model *model_having(unsigned flags, bool having)
{
	for (size_t i = 0; evd_models[i]; i++)
		if (((evd_models[i]->flags & flags) == flags) == having)
			return evd_models[i];
	return NULL;
}

/* Loads text (which must be valid), runs config_finish() and expects
 * exactly the warnings in want, in order, each without its "PATH:". */
static void expect_warnings_n(const char *text, const char *const *want,
			      size_t nwant)
{
	struct config cfg;
	struct config_errors errs, warn = { 0 };
	char path[64], line[700];

	assert_int_equal(load(text, &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	for (size_t i = 0; i < warn.n && i < nwant; i++) {
		snprintf(line, sizeof(line), "%s:%s", path, want[i]);
		assert_string_equal(warn.msg[i], line);
	}
	assert_int_equal(warn.n, nwant);
	assert_int_equal(warn.dropped, 0);
}

static const struct sockaddr_in *sin4(const struct listen_addr *la)
{
	return (const struct sockaddr_in *)&la->ss;
}

static const struct sockaddr_in6 *sin6(const struct listen_addr *la)
{
	return (const struct sockaddr_in6 *)&la->ss;
}

/* ---- defaults ----------------------------------------------------------- */

/* Every row of the key table is sound (config_table_check() says what
 * is not). */
static void test_key_table(void **state)
{
	char why[256] = "";

	(void)state;
	if (config_table_check(why, sizeof(why)) != 0)
		fail_msg("%s", why);
}

static void test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	memset(&cfg, 0xA5, sizeof(cfg));
	config_defaults(&cfg);
	assert_int_equal(cfg.nlisten, 1);
	assert_string_equal(cfg.listen[0].text, "127.0.0.1:7777");
	assert_int_equal(cfg.listen[0].len, sizeof(struct sockaddr_in));
	assert_int_equal(sin4(&cfg.listen[0])->sin_family, AF_INET);
	assert_int_equal(ntohl(sin4(&cfg.listen[0])->sin_addr.s_addr),
			 INADDR_LOOPBACK);
	assert_int_equal(listen_addr_port(&cfg.listen[0]), 7777);
	assert_non_null(cfg.proto);
	assert_string_equal(cfg.proto->name, "echo");
	assert_ptr_equal(cfg.proto, proto_find("echo"));
	assert_non_null(cfg.model);
	assert_string_equal(cfg.model->name, "epoll");
	assert_ptr_equal(cfg.model, model_find("epoll"));
	assert_int_equal(cfg.workers, 0);
	assert_int_equal(cfg.backlog, 511);
	assert_int_equal(cfg.max_connections, 10000);
	assert_int_equal(cfg.idle_timeout_ms, 60000);
	assert_false(cfg.pin_workers);
	assert_int_equal(cfg.delay_ms, 0);
	assert_int_equal(cfg.request_timeout_ms, 10000);
	assert_int_equal(cfg.drain_timeout_ms, 10000);
	assert_string_equal(cfg.user, "");
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_NONE);
	assert_false(cfg.reuseport);
	assert_string_equal(cfg.http_body, "Hello, World!");
	assert_int_equal(cfg.http_body_len, 13);
	assert_int_equal(cfg.http_max_header_bytes, 8192);
	assert_int_equal(cfg.http_max_headers, 100);
	assert_int_equal(cfg.http_max_body_bytes, 1048576);
	assert_int_equal(cfg.resp_max_bulk_bytes, 8192);
	assert_int_equal(cfg.resp_max_args, 64);
	assert_string_equal(cfg.control_socket, "/run/evd/evd.sock");
	assert_int_equal(cfg.control_mode, 0660);
	assert_string_equal(cfg.control_group, "");
	assert_true(cfg.probes_timing);
	assert_int_equal(cfg.probes_sample, 100);
	assert_int_equal(cfg.probes_syscalls, PROBES_OFF);
	assert_false(cfg.probes_profile);
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);
	for (size_t i = 0; i < ARRAY_SIZE(cfg.origin); i++)
		assert_string_equal(cfg.origin[i], "");
}

static void test_workers_resolved(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	cfg.workers = 4;
	/* epoll serves from one thread whatever workers says. */
	assert_int_equal(config_workers(&cfg), 1);

	/* A pool model: the number, or one per CPU for auto. */
	cfg.model = model_having(MODEL_USES_WORKERS, true);
	if (!cfg.model)
		return;	/* no pool model yet */
	assert_int_equal(config_workers(&cfg), 4);
	cfg.workers = 0;
	cpu_set_t allowed;
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	assert_int_equal(config_workers(&cfg), (unsigned)CPU_COUNT(&allowed));

	/* A blocking pool serves one connection per worker: never more
	 * workers than max_connections. */
	cfg.model = model_having(MODEL_USES_WORKERS | MODEL_BLOCKING, true);
	if (!cfg.model)
		return;
	cfg.workers = 8;
	cfg.max_connections = 3;
	assert_int_equal(config_workers(&cfg), 3);
	cfg.max_connections = 8;
	assert_int_equal(config_workers(&cfg), 8);
	/* A multiplexing pool serves many connections per worker. */
	cfg.model = model_having(MODEL_USES_WORKERS, true);
	for (size_t i = 0; evd_models[i]; i++)
		if ((evd_models[i]->flags & MODEL_USES_WORKERS) &&
		    !(evd_models[i]->flags & MODEL_BLOCKING))
			cfg.model = evd_models[i];
	if (cfg.model->flags & MODEL_BLOCKING)
		return;
	cfg.max_connections = 3;
	assert_int_equal(config_workers(&cfg), 8);
}

/* ---- valid files ------------------------------------------------------ */

static void test_load_every_key(void **state)
{
	static const char text[] =
		"[server]\n"
		"listen = 127.0.0.1:8001, [::1]:8002,*:8003\n"
		"protocol = echo\n"
		"model = select\n"
		"workers = 8\n"
		"backlog = 128\n"
		"max_connections = 500\n"
		"idle_timeout = 1500ms\n"
		"pin_workers = yes\n"
		"delay = 250ms\n"		/* 10 */
		"request_timeout = 2500ms\n"
		"drain_timeout = 3s\n"
		"user = evd-www_2$\n"		/* 13 */
		"\n"
		"[prefork]\n"
		"accept_lock = flock\n"		/* 16 */
		"reuseport = yes\n"
		"\n"
		"[http]\n"
		"body = <h1>Hi, there!</h1>\n"	/* 20 */
		"max_header_bytes = 300\n"
		"max_headers = 7\n"
		"max_body_bytes = 2k\n"
		"\n"
		"[resp]\n"
		"max_bulk_bytes = 1k\n"		/* 26 */
		"max_args = 3\n"
		"\n"
		"[zmtp]\n"
		"max_frame = 2k\n"		/* 30 */
		"max_frames = 5\n"
		"\n"
		"[control]\n"
		"socket = /tmp/evd-test.sock\n"	/* 34 */
		"mode = 0600\n"
		"group = _evd-ctl\n"		/* 36 */
		"\n"
		"[probes]\n"
		"syscalls = auto\n"		/* 39 */
		"timing = no\n"
		"sample = 15%\n"		/* 41 */
		"profile = on\n"
		"\n"
		"[log]\n"
		"level = debug\n"		/* 45 */
		"\n"
		"[metrics]\n"
		"listen = [::1]:9477\n";	/* 48 */
	struct config cfg;
	struct config_errors errs;
	char path[64], where[96];
	struct in6_addr lo6 = IN6ADDR_LOOPBACK_INIT;

	(void)state;
	assert_int_equal(load(text, &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(cfg.nlisten, 3);
	assert_string_equal(cfg.listen[0].text, "127.0.0.1:8001");
	assert_int_equal(sin4(&cfg.listen[0])->sin_family, AF_INET);
	assert_int_equal(ntohl(sin4(&cfg.listen[0])->sin_addr.s_addr),
			 INADDR_LOOPBACK);
	assert_int_equal(listen_addr_port(&cfg.listen[0]), 8001);
	assert_string_equal(cfg.listen[1].text, "[::1]:8002");
	assert_int_equal(cfg.listen[1].len, sizeof(struct sockaddr_in6));
	assert_int_equal(sin6(&cfg.listen[1])->sin6_family, AF_INET6);
	assert_memory_equal(&sin6(&cfg.listen[1])->sin6_addr, &lo6, sizeof(lo6));
	assert_int_equal(listen_addr_port(&cfg.listen[1]), 8002);
	assert_string_equal(cfg.listen[2].text, "*:8003");
	assert_int_equal(ntohl(sin4(&cfg.listen[2])->sin_addr.s_addr),
			 INADDR_ANY);
	assert_int_equal(listen_addr_port(&cfg.listen[2]), 8003);
	assert_string_equal(cfg.proto->name, "echo");
	assert_string_equal(cfg.model->name, "select");
	assert_int_equal(cfg.workers, 8);
	assert_int_equal(cfg.backlog, 128);
	assert_int_equal(cfg.max_connections, 500);
	assert_int_equal(cfg.idle_timeout_ms, 1500);
	assert_true(cfg.pin_workers);
	assert_int_equal(cfg.delay_ms, 250);
	assert_int_equal(cfg.request_timeout_ms, 2500);
	assert_int_equal(cfg.drain_timeout_ms, 3000);
	assert_string_equal(cfg.user, "evd-www_2$");
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_FLOCK);
	assert_true(cfg.reuseport);
	assert_string_equal(cfg.http_body, "<h1>Hi, there!</h1>");
	assert_int_equal(cfg.http_body_len, 19);
	assert_int_equal(cfg.http_max_header_bytes, 300);
	assert_int_equal(cfg.http_max_headers, 7);
	assert_int_equal(cfg.http_max_body_bytes, 2048);
	assert_int_equal(cfg.resp_max_bulk_bytes, 1024);
	assert_int_equal(cfg.resp_max_args, 3);
	assert_string_equal(cfg.control_socket, "/tmp/evd-test.sock");
	assert_int_equal(cfg.control_mode, 0600);
	assert_string_equal(cfg.control_group, "_evd-ctl");
	assert_int_equal(cfg.probes_syscalls, PROBES_AUTO);
	assert_false(cfg.probes_timing);
	assert_int_equal(cfg.probes_sample, 15);
	assert_true(cfg.probes_profile);
	assert_int_equal(cfg.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(cfg.zmtp_max_frame, 2048);
	assert_int_equal(cfg.zmtp_max_frames, 5);
	assert_string_equal(cfg.metrics_listen.text, "[::1]:9477");
	assert_int_equal(cfg.metrics_listen.len, sizeof(struct sockaddr_in6));
	/* Where each key was set: keys in table order (31 keys), the rest of
	 * origin[] untouched. */
	static const int lines[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
				     16, 17, 20, 21, 22, 23, 26, 27, 30, 31,
				     34, 35, 36, 39, 40, 41, 42, 45, 48 };
	assert_int_equal(NKEYS, 31);
	assert_int_equal(ARRAY_SIZE(lines), NKEYS);
	assert_int_equal(lines[K_USER], 13);
	assert_int_equal(lines[K_MAX_FRAME], 30);
	assert_int_equal(lines[K_MAX_FRAMES], 31);
	assert_int_equal(lines[K_GROUP], 36);
	assert_int_equal(lines[K_TIMING], 40);
	assert_int_equal(lines[K_SAMPLE], 41);
	assert_int_equal(lines[K_PROFILE], 42);
	assert_int_equal(lines[K_LEVEL], 45);
	assert_int_equal(lines[K_METRICS_LISTEN], 48);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++) {
		snprintf(where, sizeof(where), "%s:%d", path, lines[i]);
		assert_string_equal(cfg.origin[i], where);
	}
	for (size_t i = ARRAY_SIZE(lines); i < ARRAY_SIZE(cfg.origin); i++)
		assert_string_equal(cfg.origin[i], "");
}

static void test_load_empty_file(void **state)
{
	struct config cfg, dflt;
	struct config_errors errs;
	char path[64];

	(void)state;
	assert_int_equal(load("", &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	config_defaults(&dflt);
	assert_config_equal(&cfg, &dflt);
}

static void test_load_whitespace_comments_bom(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF; leading BOM, then a comment\n"
		"# hash comment\n"
		"   \n"
		"  [server]   ; inline comment after a header\n"
		"\tmodel = poll ; the poll model\n"
		"   workers = 3\t; three\n"
		"  backlog=64\n"
		"[log]\r\n"
		"level = warning\r\n";
	struct config cfg;
	struct config_errors errs;
	char path[64];

	(void)state;
	assert_int_equal(load(text, &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.model->name, "poll");
	assert_int_equal(cfg.workers, 3);
	assert_int_equal(cfg.backlog, 64);
	assert_int_equal(cfg.log_level, LOG_LEVEL_WARNING);
}

static void test_load_bom_before_section(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64];

	(void)state;
	assert_int_equal(load("\xEF\xBB\xBF[server]\nmodel = iterative\n", &cfg,
			      &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.model->name, "iterative");
}

/* An indented line is a key of its own, never a continuation of the
 * previous value. */
static void test_load_indent_is_not_continuation(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64];

	(void)state;
	assert_int_equal(load("[server]\nmodel = poll\n    workers = 2\n", &cfg,
			      &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.model->name, "poll");
	assert_int_equal(cfg.workers, 2);
}

/* CONFIG_MAX_LINE (1023) characters is the longest line accepted, after
 * trimming. */
static void test_load_line_longest(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char text[2048], path[64];
	int n;

	(void)state;
	/* "[control]\n" + a comment line of exactly 1023 characters. */
	n = snprintf(text, sizeof(text), "[control]\n;%01022d\n", 0);
	assert_int_equal(n, 10 + 1023 + 1);
	assert_int_equal(load(text, &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);

	/* A key line of exactly 1023 characters, indented and with trailing
	 * blanks that do not count. */
	char sock[1024];
	memset(sock, 'a', sizeof(sock));
	sock[0] = '/';
	sock[107] = '\0';	/* 107 bytes: the longest path */
	n = snprintf(text, sizeof(text), "[control]\n  socket = %s ; %.*s  \n",
		     sock, 1023 - 9 - 107 - 3, sock + 108);
	assert_int_equal(n, 10 + 2 + 1023 + 3);
	assert_int_equal(load(text, &cfg, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.control_socket, sock);
}

/* ---- structural errors ------------------------------------------------- */

static void test_err_unknown_section(void **state)
{
	(void)state;
	EXPECT_ERRORS("[server]\n[serve]\nmodel = poll\n[log]\n",
		      "2: unknown section [serve] (expected one of: "
		      SECTION_LIST ")");
	/* Keys under an unknown section are not reported again. */
	EXPECT_ERRORS("[]\nmodel = poll\nbogus\n",
		      "1: unknown section [] (expected one of: " SECTION_LIST ")",
		      "3: expected \"key = value\", a [section] or a comment, "
		      "got \"bogus\"");
}

static void test_err_malformed_section(void **state)
{
	(void)state;
	EXPECT_ERRORS("[server\nmodel = poll\n",
		      "1: malformed section header \"[server\" (expected [name])");
	EXPECT_ERRORS("[server] model = poll\n",
		      "1: malformed section header \"[server] model = poll\" "
		      "(expected [name])");
	EXPECT_ERRORS("[server]]\n",
		      "1: malformed section header \"[server]]\" "
		      "(expected [name])");
}

static void test_err_unknown_key(void **state)
{
	(void)state;
	EXPECT_ERRORS("[server]\nmodle = poll\n",
		      "2: unknown key \"modle\" in [server] (expected one of: "
		      SERVER_KEYS ")");
	EXPECT_ERRORS("[control]\npath = /x\n",
		      "2: unknown key \"path\" in [control] (expected one of: "
		      CONTROL_KEYS ")");
	/* user is a [server] key, group a [control] one. */
	EXPECT_ERRORS("[control]\nuser = evd\n",
		      "2: unknown key \"user\" in [control] (expected one of: "
		      CONTROL_KEYS ")");
	EXPECT_ERRORS("[server]\ngroup = evd\n",
		      "2: unknown key \"group\" in [server] (expected one of: "
		      SERVER_KEYS ")");
	EXPECT_ERRORS("[log]\nlevel = info\nfile = x\n",
		      "3: unknown key \"file\" in [log] (expected one of: level)");
}

static void test_err_duplicate_key(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64], want[256];

	(void)state;
	assert_int_equal(load("[server]\nmodel = poll\n[log]\n[server]\n"
			      "model = select\n", &cfg, &errs, path,
			      sizeof(path)), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:5: duplicate key \"model\" in [server] "
		 "(first set at %s:2); keep one", path, path);
	assert_string_equal(errs.msg[0], want);
	/* The first value stays. */
	assert_string_equal(cfg.model->name, "poll");
}

static void test_err_key_outside_section(void **state)
{
	(void)state;
	EXPECT_ERRORS("model = poll\n[server]\n",
		      "1: key \"model\" is outside any section (put it under "
		      "one of: " SECTION_LIST ")");
	/* The same for a key of the new sections. */
	EXPECT_ERRORS("max_args = 3\n[resp]\n",
		      "1: key \"max_args\" is outside any section (put it "
		      "under one of: " SECTION_LIST ")");
}

static void test_err_line_syntax(void **state)
{
	(void)state;
	EXPECT_ERRORS("[server]\nmodel poll\n",
		      "2: expected \"key = value\", a [section] or a comment, "
		      "got \"model poll\"");
	/* Some ini readers take ':' as a separator: evd accepts only '='. */
	EXPECT_ERRORS("[server]\nmodel: poll\n",
		      "2: expected \"key = value\", a [section] or a comment, "
		      "got \"model: poll\"");
	EXPECT_ERRORS("[server]\nmodel:x = poll\n",
		      "2: expected \"key = value\", a [section] or a comment, "
		      "got \"model:x = poll\"");
	EXPECT_ERRORS("[server]\n  = poll\n",
		      "2: missing key name before \"=\"");
}

static void test_err_line_too_long(void **state)
{
	char text[2048];
	int n;

	(void)state;
	/* 1024 characters of comment. */
	n = snprintf(text, sizeof(text), "[server]\n;%01023d\nmodel = x\n", 0);
	assert_int_equal(n, 9 + 1025 + 10);
	const char *const want[] = {
		"2: line is 1024 characters long (at most 1023)",
		"3: model: unknown model \"x\" (expected one of: "
		MODEL_LIST ")",
	};
	expect_errors_n(text, (size_t)n, true, want, 2);

	/* A long line is rejected whole, not split into pieces. */
	n = snprintf(text, sizeof(text), "[server]\nmodel = poll%01100d\n", 0);
	const char *const want2[] = {
		"2: line is 1112 characters long (at most 1023)",
	};
	expect_errors_n(text, (size_t)n, true, want2, 1);
}

static void test_err_nul_byte(void **state)
{
	static const char text[] = "[server]\nmodel = poll\0 junk\nbacklog = 7\n";
	struct config cfg;
	struct config_errors errs;
	char path[64], want[128];

	(void)state;
	assert_int_equal(load_n(text, sizeof(text) - 1, &cfg, &errs, path,
				sizeof(path)), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:2: NUL byte in line", path);
	assert_string_equal(errs.msg[0], want);
	/* The line is dropped, the next one still read. */
	assert_string_equal(cfg.model->name, "epoll");
	assert_int_equal(cfg.backlog, 7);
}

static void test_err_cannot_open(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 };
	char path[64];

	(void)state;
	write_tmp(path, sizeof(path), "", 0);
	assert_int_equal(unlink(path), 0);
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, path, &errs), -1);
	assert_int_equal(errs.n, 1);
	char want[128];
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
		 path);
	assert_string_equal(errs.msg[0], want);
}

/* Only a regular file (or /dev/null) is read: a directory and another
 * character device are refused with what they are (/dev/zero would never
 * end a line). */
static void test_err_not_regular(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 };
	char dir[] = "/tmp/evd-test-dirXXXXXX", want[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	config_defaults(&cfg);
	assert_int_equal(config_load(&cfg, dir, &errs), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s: cannot read: it is a directory, not a "
		 "regular file", dir);
	assert_string_equal(errs.msg[0], want);
	assert_int_equal(rmdir(dir), 0);

	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_load(&cfg, "/dev/zero", &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "/dev/zero: cannot read: it is a "
			    "character device, not a regular file");

	/* /dev/null reads as an empty file. */
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_load(&cfg, "/dev/null", &errs), 0);
	assert_int_equal(errs.n, 0);
}

/* At most CONFIG_FILE_MAX bytes (1 MiB): one more is refused whole, before
 * any line is read. */
static void test_err_file_too_large(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64], want[256];
	char *text = malloc(CONFIG_FILE_MAX + 2);

	(void)state;
	assert_non_null(text);
	/* 1 MiB of 64-character comment lines, then one key. */
	memset(text, 0, CONFIG_FILE_MAX + 2);
	for (size_t i = 0; i < CONFIG_FILE_MAX; i += 64) {
		memset(text + i, 'c', 63);
		text[i] = ';';
		text[i + 63] = '\n';
	}
	static const char key[] = "[server]\nmodel = poll\n";
	memcpy(text + CONFIG_FILE_MAX - 64 * 2, key, sizeof(key) - 1);
	text[CONFIG_FILE_MAX - 64 * 2 + sizeof(key) - 1] = ';';
	assert_int_equal(load_n(text, CONFIG_FILE_MAX, &cfg, &errs, path,
				sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.model->name, "poll");

	text[CONFIG_FILE_MAX] = '\n';
	assert_int_equal(load_n(text, CONFIG_FILE_MAX + 1, &cfg, &errs, path,
				sizeof(path)), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s: cannot read: the file is larger than "
		 "1048576 bytes (1 MiB), the most a configuration may hold",
		 path);
	assert_string_equal(errs.msg[0], want);
	/* Nothing of it was applied. */
	assert_string_equal(cfg.model->name, "epoll");
	free(text);
}

static void test_err_many_in_one_file(void **state)
{
	(void)state;
	EXPECT_ERRORS("[server]\n"		/* 1 */
		      "model = epol\n"		/* 2 */
		      "bogus = 1\n"		/* 3 */
		      "[nope]\n"		/* 4 */
		      "x = 1\n"			/* 5: under [nope], not reported */
		      "[control]\n"		/* 6 */
		      "mode = 0888\n"		/* 7 */
		      "oops\n"			/* 8 */
		      "[log]\n"			/* 9 */
		      "level = loud\n",		/* 10 */
		      "2: model: unknown model \"epol\" (expected one of: "
		      MODEL_LIST ")",
		      "3: unknown key \"bogus\" in [server] (expected one of: "
		      SERVER_KEYS ")",
		      "4: unknown section [nope] (expected one of: "
		      SECTION_LIST ")",
		      "7: mode: \"0888\" is not a file mode (expected octal "
		      "0000..0777, such as 0660)",
		      "8: expected \"key = value\", a [section] or a comment, "
		      "got \"oops\"",
		      "10: level: unknown level \"loud\" (expected one of: error, "
		      "warning, info, debug)");
}

static void test_err_too_many(void **state)
{
	char text[4096];
	size_t len = 0;
	struct config cfg;
	struct config_errors errs;
	char path[64], want[128];

	(void)state;
	len += (size_t)snprintf(text, sizeof(text), "[server]\n");
	for (int i = 0; i < CONFIG_MAX_ERRORS + 6; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "x%d\n", i);
	assert_true(len < sizeof(text));
	assert_int_equal(load(text, &cfg, &errs, path, sizeof(path)), -1);
	assert_int_equal(errs.n, CONFIG_MAX_ERRORS);
	assert_int_equal(errs.dropped, 6);
	snprintf(want, sizeof(want), "%s:%d: expected \"key = value\", a "
		 "[section] or a comment, got \"x%d\"", path,
		 CONFIG_MAX_ERRORS + 1, CONFIG_MAX_ERRORS - 1);
	assert_string_equal(errs.msg[CONFIG_MAX_ERRORS - 1], want);
}

/* Key errors name the whole path and the line, however long the path. */
static void test_err_long_path(void **state)
{
	static const char text[] = "[server]\nmodel = epol\n";
	char dir[] = "/tmp/evd-ut-config-a-directory-with-a-long-name-XXXXXX";
	char path[256], want[512];
	struct config cfg;
	struct config_errors errs = { 0 };

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/evd.ini", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	config_defaults(&cfg);
	int rc = config_load(&cfg, path, &errs);
	unlink(path);
	rmdir(dir);
	assert_int_equal(rc, -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:2: model: unknown model \"epol\" "
		 "(expected one of: " MODEL_LIST ")", path);
	assert_string_equal(errs.msg[0], want);
}

/* ---- value errors ------------------------------------------------------ */

static void test_listen_errors(void **state)
{
	(void)state;
	expect_value_error("server", "listen", "localhost:7777",
			   "\"localhost\" is not a numeric IPv4 address "
			   "(write IPv6 as [::1]:7777)");
	expect_value_error("server", "listen", "127.0.0.1",
			   "\"127.0.0.1\" is not an address (expected HOST:PORT "
			   "such as 127.0.0.1:7777, *:7777 or [::1]:7777)");
	expect_value_error("server", "listen", "127.0.0.1:",
			   "port of \"127.0.0.1:\": \"\" is not a whole number "
			   "(expected 0..65535)");
	expect_value_error("server", "listen", "127.0.0.1:65536",
			   "port of \"127.0.0.1:65536\": 65536 is out of range "
			   "(expected 0..65535)");
	expect_value_error("server", "listen", "127.0.0.1:http",
			   "port of \"127.0.0.1:http\": \"http\" is not a whole "
			   "number (expected 0..65535)");
	expect_value_error("server", "listen", "::1:7777",
			   "\"::1\" is not a numeric IPv4 address "
			   "(write IPv6 as [::1]:7777)");
	expect_value_error("server", "listen", "[::1]7777",
			   "\"[::1]7777\" is not an address (expected HOST:PORT "
			   "such as 127.0.0.1:7777, *:7777 or [::1]:7777)");
	expect_value_error("server", "listen", "[::g]:7777",
			   "\"::g\" is not a numeric IPv6 address");
	expect_value_error("server", "listen", ":7777",
			   "\":7777\" is not an address (expected HOST:PORT "
			   "such as 127.0.0.1:7777, *:7777 or [::1]:7777)");
	expect_value_error("server", "listen", "127.0.0.1:1, ,127.0.0.1:2",
			   "empty address in \"127.0.0.1:1, ,127.0.0.1:2\" "
			   "(expected HOST:PORT[, HOST:PORT...])");
	expect_value_error("server", "listen", "127.0.0.1:1,",
			   "empty address in \"127.0.0.1:1,\" "
			   "(expected HOST:PORT[, HOST:PORT...])");
	expect_value_error("server", "listen", "",
			   "empty address in \"\" "
			   "(expected HOST:PORT[, HOST:PORT...])");
	expect_value_error("server", "listen", "127.0.0.1:7777, 127.0.0.1:7777",
			   "address 127.0.0.1:7777 is listed twice");
	expect_value_error("server", "listen", "*:7777, 0.0.0.0:7777",
			   "address 0.0.0.0:7777 is listed twice");
	expect_value_error("server", "listen", "[::1]:1,[0:0::1]:1",
			   "address [0:0::1]:1 is listed twice");

	char list[256];
	size_t len = 0;
	for (int i = 1; i <= CONFIG_MAX_LISTEN + 1; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s1.1.1.1:%d",
					i > 1 ? "," : "", i);
	expect_value_error("server", "listen", list, "more than 16 addresses");
}

static void test_listen_ok(void **state)
{
	struct config cfg;
	char list[256];
	size_t len = 0;

	(void)state;
	for (int i = 1; i <= CONFIG_MAX_LISTEN; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s1.1.1.1:%d",
					i > 1 ? "," : "", i);
	expect_value_ok("server", "listen", list, &cfg);
	assert_int_equal(cfg.nlisten, CONFIG_MAX_LISTEN);
	assert_string_equal(cfg.listen[15].text, "1.1.1.1:16");
	assert_int_equal(listen_addr_port(&cfg.listen[15]), 16);

	/* Port 0 (any free port) may repeat. */
	expect_value_ok("server", "listen", "127.0.0.1:0, 127.0.0.1:0", &cfg);
	assert_int_equal(cfg.nlisten, 2);
	assert_int_equal(listen_addr_port(&cfg.listen[1]), 0);

	/* Same port, different families or hosts. */
	expect_value_ok("server", "listen", "0.0.0.0:7, [::]:7, 127.0.0.1:7",
			&cfg);
	assert_int_equal(cfg.nlisten, 3);
}

static void test_protocol_and_model_errors(void **state)
{
	char why[200];

	(void)state;
	snprintf(why, sizeof(why), "unknown protocol \"ftp\" (expected one of: "
		 "%s)", proto_names());
	assert_string_equal(proto_names(), PROTO_LIST);
	expect_value_error("server", "protocol", "ftp", why);
	expect_value_error("server", "protocol", "",
			   "unknown protocol \"\" (expected one of: "
			   PROTO_LIST ")");
	expect_value_error("server", "protocol", "HTTP",
			   "unknown protocol \"HTTP\" (expected one of: "
			   PROTO_LIST ")");
	assert_string_equal(model_names(), MODEL_LIST);
	expect_value_error("server", "model", "epol",
			   "unknown model \"epol\" (expected one of: "
			   MODEL_LIST ")");
	expect_value_error("server", "model", "EPOLL",
			   "unknown model \"EPOLL\" (expected one of: "
			   MODEL_LIST ")");
	/* Models are named with '-', never '_'. */
	expect_value_error("server", "model", "select_prethread",
			   "unknown model \"select_prethread\" (expected one "
			   "of: " MODEL_LIST ")");
}

static void test_models_ok(void **state)
{
	static const char *const names[] = {
		"iterative", "select", "poll", "epoll", "fork", "thread",
		"prefork", "prethread", "select-prethread", "async",
		"reuseport", "uring",
	};
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		expect_value_ok("server", "model", names[i], &cfg);
		assert_string_equal(cfg.model->name, names[i]);
		assert_ptr_equal(cfg.model, evd_models[i]);
	}
	assert_null(evd_models[ARRAY_SIZE(names)]);
}

static void test_workers(void **state)
{
	struct config cfg;

	(void)state;
	expect_value_ok("server", "workers", "auto", &cfg);
	assert_int_equal(cfg.workers, 0);
	expect_value_ok("server", "workers", "1", &cfg);
	assert_int_equal(cfg.workers, 1);
	expect_value_ok("server", "workers", "4096", &cfg);
	assert_int_equal(cfg.workers, 4096);
	expect_value_error("server", "workers", "0",
			   "0 is out of range (expected auto or 1..4096)");
	expect_value_error("server", "workers", "4097",
			   "4097 is out of range (expected auto or 1..4096)");
	expect_value_error("server", "workers", "x",
			   "\"x\" is not a whole number (expected auto or 1..4096)");
	expect_value_error("server", "workers", "Auto",
			   "\"Auto\" is not a whole number (expected auto or "
			   "1..4096)");
	expect_value_error("server", "workers", "-1",
			   "\"-1\" is not a whole number (expected auto or "
			   "1..4096)");
	expect_value_error("server", "workers", "99999999999999999999999",
			   "99999999999999999999999 is out of range (expected "
			   "auto or 1..4096)");
}

static void test_backlog_and_max_connections(void **state)
{
	struct config cfg;

	(void)state;
	expect_value_ok("server", "backlog", "1", &cfg);
	assert_int_equal(cfg.backlog, 1);
	expect_value_ok("server", "backlog", "65535", &cfg);
	assert_int_equal(cfg.backlog, 65535);
	expect_value_error("server", "backlog", "0",
			   "0 is out of range (expected 1..65535)");
	expect_value_error("server", "backlog", "65536",
			   "65536 is out of range (expected 1..65535)");
	expect_value_error("server", "backlog", "12x",
			   "\"12x\" is not a whole number (expected 1..65535)");

	expect_value_ok("server", "max_connections", "1000000", &cfg);
	assert_int_equal(cfg.max_connections, 1000000);
	expect_value_error("server", "max_connections", "0",
			   "0 is out of range (expected 1..1000000)");
	expect_value_error("server", "max_connections", "1000001",
			   "1000001 is out of range (expected 1..1000000)");
	expect_value_error("server", "max_connections", "1e3",
			   "\"1e3\" is not a whole number (expected 1..1000000)");
}

static void test_idle_timeout(void **state)
{
	static const char bad[] = "is not a duration (expected a number with a "
				  "unit, ms or s, such as 250ms or 60s)";
	struct config cfg;
	char why[200];

	(void)state;
	snprintf(why, sizeof(why), "\"5\" %s", bad);
	expect_value_error("server", "idle_timeout", "5", why);
	snprintf(why, sizeof(why), "\"5m\" %s", bad);
	expect_value_error("server", "idle_timeout", "5m", why);
	snprintf(why, sizeof(why), "\"s\" %s", bad);
	expect_value_error("server", "idle_timeout", "s", why);
	snprintf(why, sizeof(why), "\"1.5s\" %s", bad);
	expect_value_error("server", "idle_timeout", "1.5s", why);
	expect_value_error("server", "idle_timeout", "86401s",
			   "86401s is out of range (at most 86400s)");
	expect_value_error("server", "idle_timeout", "86400001ms",
			   "86400001ms is out of range (at most 86400s)");

	expect_value_ok("server", "idle_timeout", "0", &cfg);
	assert_int_equal(cfg.idle_timeout_ms, 0);
	expect_value_ok("server", "idle_timeout", "250ms", &cfg);
	assert_int_equal(cfg.idle_timeout_ms, 250);
	expect_value_ok("server", "idle_timeout", "86400s", &cfg);
	assert_int_equal(cfg.idle_timeout_ms, 86400000);
	expect_value_ok("server", "idle_timeout", "86400000ms", &cfg);
	assert_int_equal(cfg.idle_timeout_ms, 86400000);
}

static void test_control_socket(void **state)
{
	struct config cfg;
	char path[120], why[128];

	(void)state;
	expect_value_error("control", "socket", "",
			   "empty path (expected the path of the control socket, "
			   "such as /run/evd/evd.sock)");
	memset(path, 'p', sizeof(path));
	path[0] = '/';
	path[108] = '\0';
	snprintf(why, sizeof(why), "path is 108 bytes long; a unix socket path "
		 "holds at most 107");
	expect_value_error("control", "socket", path, why);
	path[107] = '\0';
	expect_value_ok("control", "socket", path, &cfg);
	assert_string_equal(cfg.control_socket, path);
	expect_value_ok("control", "socket", "run/evd.sock", &cfg);
	assert_string_equal(cfg.control_socket, "run/evd.sock");
}

static void test_control_mode(void **state)
{
	static const char bad[] = "is not a file mode (expected octal "
				  "0000..0777, such as 0660)";
	static const char *const bads[] = { "0888", "12345", "", "1000", "0o660",
					    "66a", "00000", "-660" };
	struct config cfg;
	char why[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" %s", bads[i], bad);
		expect_value_error("control", "mode", bads[i], why);
	}
	expect_value_ok("control", "mode", "0660", &cfg);
	assert_int_equal(cfg.control_mode, 0660);
	expect_value_ok("control", "mode", "600", &cfg);
	assert_int_equal(cfg.control_mode, 0600);
	expect_value_ok("control", "mode", "0777", &cfg);
	assert_int_equal(cfg.control_mode, 0777);
	expect_value_ok("control", "mode", "0", &cfg);
	assert_int_equal(cfg.control_mode, 0);
}

static void test_log_level(void **state)
{
	static const char *const names[] = { "debug", "info", "warning", "error" };
	static const enum log_level levels[] = { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO,
						 LOG_LEVEL_WARNING,
						 LOG_LEVEL_ERROR };
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		expect_value_ok("log", "level", names[i], &cfg);
		assert_int_equal(cfg.log_level, levels[i]);
	}
	expect_value_error("log", "level", "warn",
			   "unknown level \"warn\" (expected one of: error, "
			   "warning, info, debug)");
}

static void test_pin_workers(void **state)
{
	static const char *const bads[] = { "Yes", "NO", "1", "0", "true",
					     "on", "", "yes no" };
	struct config cfg;
	char why[200];

	(void)state;
	expect_value_ok("server", "pin_workers", "yes", &cfg);
	assert_true(cfg.pin_workers);
	expect_value_ok("server", "pin_workers", "no", &cfg);
	assert_false(cfg.pin_workers);
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" is not yes or no", bads[i]);
		expect_value_error("server", "pin_workers", bads[i], why);
	}
	/* It belongs to [server], not [prefork]. */
	EXPECT_ERRORS("[prefork]\npin_workers = yes\n",
		      "2: unknown key \"pin_workers\" in [prefork] (expected one "
		      "of: " PREFORK_KEYS ")");
}

static void test_accept_lock(void **state)
{
	static const char *const names[] = { "none", "fcntl", "flock", "mutex" };
	static const enum accept_lock locks[] = {
		ACCEPT_LOCK_NONE, ACCEPT_LOCK_FCNTL, ACCEPT_LOCK_FLOCK,
		ACCEPT_LOCK_MUTEX,
	};
	static const char *const bads[] = { "posix", "FCNTL", "", "lockf",
					    "none,flock", "fcntl;" };
	struct config cfg;
	char why[200];

	(void)state;
	assert_int_equal(ARRAY_SIZE(names), ACCEPT_LOCK_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		assert_string_equal(accept_lock_names[locks[i]], names[i]);
		expect_value_ok("prefork", "accept_lock", names[i], &cfg);
		assert_int_equal(cfg.accept_lock, locks[i]);
		/* The other [prefork] key keeps its default. */
		assert_false(cfg.reuseport);
	}
	/* Blanks around a value are not part of it. */
	expect_value_ok("prefork", "accept_lock", "  mutex\t", &cfg);
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_MUTEX);
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "unknown lock \"%s\" (expected one "
			 "of: none, fcntl, flock, mutex)", bads[i]);
		expect_value_error("prefork", "accept_lock", bads[i], why);
	}
	/* It belongs to [prefork], not [server]. */
	EXPECT_ERRORS("[server]\naccept_lock = fcntl\n",
		      "2: unknown key \"accept_lock\" in [server] (expected one "
		      "of: " SERVER_KEYS ")");
}

static void test_reuseport(void **state)
{
	static const char *const bads[] = { "YES", "1", "true", "", "n" };
	struct config cfg;
	char why[200];

	(void)state;
	expect_value_ok("prefork", "reuseport", "yes", &cfg);
	assert_true(cfg.reuseport);
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_NONE);
	expect_value_ok("prefork", "reuseport", "no", &cfg);
	assert_false(cfg.reuseport);
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" is not yes or no", bads[i]);
		expect_value_error("prefork", "reuseport", bads[i], why);
	}
}

static void test_prefork_section(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64], want[256];

	(void)state;
	EXPECT_ERRORS("[prefork]\nlock = fcntl\n",
		      "2: unknown key \"lock\" in [prefork] (expected one of: "
		      PREFORK_KEYS ")");
	EXPECT_ERRORS("[prefork]\nworkers = 4\n",
		      "2: unknown key \"workers\" in [prefork] (expected one of: "
		      PREFORK_KEYS ")");
	/* An empty [prefork] is valid; a repeated key is an error. */
	assert_int_equal(load("[prefork]\n[server]\nmodel = poll\n", &cfg, &errs,
			      path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(load("[prefork]\naccept_lock = flock\n[log]\n[prefork]\n"
			      "accept_lock = mutex\n", &cfg, &errs, path,
			      sizeof(path)), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:5: duplicate key \"accept_lock\" in "
		 "[prefork] (first set at %s:2); keep one", path, path);
	assert_string_equal(errs.msg[0], want);
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_FLOCK);
}

/* A bad value on a line of its own does not undo earlier good keys. */
static void test_err_keeps_good_keys(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64];

	(void)state;
	assert_int_equal(load("[server]\nbacklog = 9\nlisten = 1.2.3.4:5, x\n"
			      "workers = 2\n", &cfg, &errs, path, sizeof(path)),
			 -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(cfg.backlog, 9);
	assert_int_equal(cfg.workers, 2);
	assert_int_equal(cfg.nlisten, 1);
	assert_string_equal(cfg.listen[0].text, "127.0.0.1:7777");
}

/* ---- config_set (-o) ----------------------------------------------------- */

static void test_set_valid(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 };

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "server.model=poll", &errs), 0);
	assert_int_equal(config_set(&cfg, "control.socket=run/x.sock", &errs), 0);
	assert_int_equal(config_set(&cfg, "server.listen=[::1]:1,*:2", &errs), 0);
	/* -o may repeat a key: the last one wins. */
	assert_int_equal(config_set(&cfg, "server.model=select", &errs), 0);
	assert_int_equal(config_set(&cfg, "log.level=", &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "-o log.level=: level: unknown level "
			    "\"\" (expected one of: error, warning, info, debug)");
	assert_string_equal(cfg.model->name, "select");
	assert_string_equal(cfg.control_socket, "run/x.sock");
	assert_int_equal(cfg.nlisten, 2);
	assert_string_equal(cfg.listen[0].text, "[::1]:1");
	assert_string_equal(cfg.listen[1].text, "*:2");
	assert_string_equal(cfg.origin[K_MODEL], "-o server.model=select");
	assert_string_equal(cfg.origin[K_LISTEN], "-o server.listen=[::1]:1,*:2");
	assert_int_equal(cfg.log_level, LOG_LEVEL_INFO);

	/* The new keys, by index in the key table. */
	assert_int_equal(config_set(&cfg, "server.pin_workers=yes", &errs), 0);
	assert_int_equal(config_set(&cfg, "prefork.accept_lock=fcntl", &errs), 0);
	assert_int_equal(config_set(&cfg, "prefork.reuseport=yes", &errs), 0);
	assert_true(cfg.pin_workers);
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_FCNTL);
	assert_true(cfg.reuseport);
	/* The table's order, spelled out. */
	assert_int_equal(K_PIN_WORKERS, 7);
	assert_int_equal(K_DELAY, 8);
	assert_int_equal(K_REQUEST_TIMEOUT, 9);
	assert_int_equal(K_DRAIN_TIMEOUT, 10);
	assert_int_equal(K_USER, 11);
	assert_int_equal(K_ACCEPT_LOCK, 12);
	assert_int_equal(K_MAX_FRAME, 20);
	assert_int_equal(K_MAX_FRAMES, 21);
	assert_int_equal(K_SOCKET, 22);
	assert_int_equal(K_MODE, 23);
	assert_int_equal(K_GROUP, 24);
	assert_int_equal(K_SYSCALLS, 25);
	assert_int_equal(K_TIMING, 26);
	assert_int_equal(K_SAMPLE, 27);
	assert_int_equal(K_PROFILE, 28);
	assert_int_equal(K_LEVEL, 29);

	assert_string_equal(cfg.origin[K_PIN_WORKERS],
			    "-o server.pin_workers=yes");
	assert_string_equal(cfg.origin[K_DELAY], "");
	assert_string_equal(cfg.origin[K_USER], "");
	assert_string_equal(cfg.origin[K_ACCEPT_LOCK],
			    "-o prefork.accept_lock=fcntl");
	assert_string_equal(cfg.origin[K_REUSEPORT], "-o prefork.reuseport=yes");
	assert_string_equal(cfg.origin[K_SOCKET], "-o control.socket=run/x.sock");
	assert_string_equal(cfg.origin[K_GROUP], "");
	assert_string_equal(cfg.origin[K_SYSCALLS], "");
	assert_string_equal(cfg.origin[K_LEVEL], "");	/* it failed */
	for (int k = NKEYS; k < (int)ARRAY_SIZE(cfg.origin); k++)
		assert_string_equal(cfg.origin[k], "");
	assert_int_equal(config_set(&cfg, "prefork.accept_lock=sem", &errs), -1);
	assert_int_equal(config_set(&cfg, "prefork.reuseport=1", &errs), -1);
	assert_int_equal(config_set(&cfg, "server.pin_workers=", &errs), -1);
	assert_int_equal(config_set(&cfg, "prefork.pin_workers=no", &errs), -1);
	assert_int_equal(errs.n, 5);
	assert_string_equal(errs.msg[1], "-o prefork.accept_lock=sem: accept_lock: "
			    "unknown lock \"sem\" (expected one of: none, fcntl, "
			    "flock, mutex)");
	assert_string_equal(errs.msg[2], "-o prefork.reuseport=1: reuseport: "
			    "\"1\" is not yes or no");
	assert_string_equal(errs.msg[3], "-o server.pin_workers=: pin_workers: "
			    "\"\" is not yes or no");
	assert_string_equal(errs.msg[4], "-o prefork.pin_workers=no: unknown key "
			    "\"pin_workers\" in [prefork] (expected one of: "
			    PREFORK_KEYS ")");
	/* Failed overrides leave the values alone. */
	assert_int_equal(cfg.accept_lock, ACCEPT_LOCK_FCNTL);
	assert_true(cfg.reuseport);
	assert_true(cfg.pin_workers);
}

static void test_set_malformed(void **state)
{
	static const char *const bad[] = { "foo", "server.=x", ".x=1", "x=1.y",
					   "servermodel=poll", "server.model" };
	struct config cfg, dflt;
	struct config_errors errs = { 0 };
	char want[200];

	(void)state;
	config_defaults(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(config_set(&cfg, bad[i], &errs), -1);
		assert_int_equal(errs.n, i + 1);
		snprintf(want, sizeof(want), "-o %s: expected SECTION.KEY=VALUE, "
			 "such as server.model=poll", bad[i]);
		assert_string_equal(errs.msg[i], want);
	}
	config_defaults(&dflt);
	assert_config_equal(&cfg, &dflt);
}

static void test_set_unknown_section_and_key(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 };

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "srv.model=poll", &errs), -1);
	assert_int_equal(config_set(&cfg, "server.mdl=poll", &errs), -1);
	assert_int_equal(config_set(&cfg, "server.model=pol", &errs), -1);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.msg[0], "-o srv.model=poll: unknown section [srv] "
			    "(expected one of: " SECTION_LIST ")");
	assert_string_equal(errs.msg[1], "-o server.mdl=poll: unknown key \"mdl\" "
			    "in [server] (expected one of: " SERVER_KEYS ")");
	assert_string_equal(errs.msg[2], "-o server.model=pol: model: unknown "
			    "model \"pol\" (expected one of: " MODEL_LIST ")");
	assert_string_equal(cfg.model->name, "epoll");
}

static void test_set_too_long(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 };
	char a[CONFIG_MAX_LINE + 2];

	(void)state;
	config_defaults(&cfg);
	memset(a, 'x', sizeof(a));
	memcpy(a, "control.socket=/", 16);
	a[CONFIG_MAX_LINE + 1] = '\0';	/* 200 characters */
	assert_int_equal(config_set(&cfg, a, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "-o control.socket=/xxxxxxxxxxxxxxxxxxxxxxxx"
			    "...: too long");
}

/* ---- config_finish ------------------------------------------------------- */

static void test_finish_warns_on_workers(void **state)
{
	struct config cfg;
	struct config_errors errs, warn = { 0 };
	char path[64], want[200];

	(void)state;
	assert_int_equal(load("[server]\nmodel = epoll\nworkers = 4\n", &cfg, &errs,
			      path, sizeof(path)), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warn.n, 1);
	snprintf(want, sizeof(want), "%s:3: workers = 4 is ignored: model epoll "
		 "serves from one thread", path);
	assert_string_equal(warn.msg[0], want);

	/* From -o, with another single-threaded model. */
	memset(&warn, 0, sizeof(warn));
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "server.workers=4", &errs), 0);
	assert_int_equal(config_set(&cfg, "server.model=iterative", &errs), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(warn.n, 1);
	assert_string_equal(warn.msg[0], "-o server.workers=4: workers = 4 is "
			    "ignored: model iterative serves from one thread");
}

static void test_finish_quiet(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 }, warn = { 0 };

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(config_set(&cfg, "server.workers=1", &errs), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(config_set(&cfg, "server.workers=auto", &errs), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warn.n, 0);

	/* No key set: no warning, whatever the model; a pool model takes any
	 * number of workers. */
	for (size_t i = 0; evd_models[i]; i++) {
		char text[128];
		const char *const none[] = { NULL };
		snprintf(text, sizeof(text), "[server]\nmodel = %s\n",
			 evd_models[i]->name);
		expect_warnings_n(text, none, 0);
		if (!(evd_models[i]->flags & MODEL_USES_WORKERS))
			continue;
		snprintf(text, sizeof(text), "[server]\nmodel = %s\n"
			 "workers = 4096\n", evd_models[i]->name);
		expect_warnings_n(text, none, 0);
	}
}

/* "WHERE: [SECTION] KEY is ignored: model M does not use it (it shapes:
 * ...)"; WHERE is a line number, or "-o ..." */
static void ignored_text(char *out, size_t len, const char *where,
			 const char *section, const char *key,
			 const char *model, unsigned needs)
{
	char users[256];

	models_having(needs, users, sizeof(users));
	snprintf(out, len, "%s: [%s] %s is ignored: model %s does not use it "
		 "(it shapes: %s)", where, section, key, model, users);
}

/* The models each model-specific key shapes, as warnings and the docs list
 * them (conf/evd.ini, README): a change here is a behaviour change. */
static void test_models_shaped_by_keys(void **state)
{
	static const struct {
		unsigned flags;
		const char *models;
	} want[] = {
		{ MODEL_PREFORK_KEYS, "prefork" },
		{ MODEL_PINNABLE, "prefork, prethread, reuseport" },
		{ MODEL_USES_WORKERS,
		  "prefork, prethread, select-prethread, reuseport" },
		/* Pools of blocking workers: capped at max_connections. */
		{ MODEL_USES_WORKERS | MODEL_BLOCKING, "prefork, prethread" },
		{ MODEL_PROCESSES, "fork, prefork" },
	};
	char mine[256], theirs[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		models_having(want[i].flags, mine, sizeof(mine));
		assert_string_equal(mine, want[i].models);
		model_list_with(want[i].flags, theirs, sizeof(theirs));
		assert_string_equal(theirs, want[i].models);
	}
}

/* A key that shapes only some models warns, with the models it shapes, when
 * it is set (to any value, its default included) for any other model; it is
 * silent for the models it shapes. */
static void test_finish_warns_on_unused_keys(void **state)
{
	static const struct {
		const char *section, *key, *value;
		unsigned needs;
	} keys[] = {
		{ "server", "pin_workers", "yes", MODEL_PINNABLE },
		{ "server", "pin_workers", "no", MODEL_PINNABLE },
		{ "prefork", "accept_lock", "fcntl", MODEL_PREFORK_KEYS },
		{ "prefork", "accept_lock", "none", MODEL_PREFORK_KEYS },
		{ "prefork", "reuseport", "yes", MODEL_PREFORK_KEYS },
		{ "prefork", "reuseport", "no", MODEL_PREFORK_KEYS },
	};
	char text[256], want[700];
	const char *const w[] = { want };
	unsigned warned = 0, silent = 0;

	(void)state;
	for (size_t m = 0; evd_models[m]; m++) {
		const struct evd_model *model = evd_models[m];
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			snprintf(text, sizeof(text), "[server]\nmodel = %s\n[%s]\n"
				 "%s = %s\n", model->name, keys[k].section,
				 keys[k].key, keys[k].value);
			if ((model->flags & keys[k].needs) == keys[k].needs) {
				expect_warnings_n(text, w, 0);
				silent++;
				continue;
			}
			ignored_text(want, sizeof(want), "4", keys[k].section,
				     keys[k].key, model->name, keys[k].needs);
			expect_warnings_n(text, w, 1);
			warned++;
		}
	}
	assert_int_equal(warned + silent, ARRAY_SIZE(keys) * 12);
	/* The four models of the first release use none of these keys. */
	assert_true(warned >= ARRAY_SIZE(keys) * 4);
}

/* Every ignored key of one file, in key-table order, each at its line. */
static void test_finish_warns_in_order(void **state)
{
	static const char text[] =
		"[prefork]\n"			/* 1 */
		"reuseport = yes\n"		/* 2 */
		"accept_lock = mutex\n"		/* 3 */
		"[server]\n"			/* 4 */
		"pin_workers = no\n"		/* 5 */
		"workers = 2\n"			/* 6 */
		"model = epoll\n";		/* 7 */
	char w1[700], w2[700], w3[700];
	const char *const want[] = {
		"6: workers = 2 is ignored: model epoll serves from one thread",
		w1, w2, w3,
	};
	struct config cfg;
	struct config_errors errs = { 0 }, warn = { 0 };

	(void)state;
	assert_false(model_find("epoll")->flags &
		     (MODEL_PINNABLE | MODEL_PREFORK_KEYS | MODEL_USES_WORKERS));
	ignored_text(w1, sizeof(w1), "5", "server", "pin_workers", "epoll",
		     MODEL_PINNABLE);
	ignored_text(w2, sizeof(w2), "3", "prefork", "accept_lock", "epoll",
		     MODEL_PREFORK_KEYS);
	ignored_text(w3, sizeof(w3), "2", "prefork", "reuseport", "epoll",
		     MODEL_PREFORK_KEYS);
	/* No "accept_lock with reuseport" warning: epoll uses neither. */
	expect_warnings_n(text, want, ARRAY_SIZE(want));

	/* From -o, where the message names the override. */
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "server.model=poll", &errs), 0);
	assert_int_equal(config_set(&cfg, "prefork.accept_lock=none", &errs), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warn.n, 1);
	ignored_text(w1, sizeof(w1), "-o prefork.accept_lock=none", "prefork",
		     "accept_lock", "poll", MODEL_PREFORK_KEYS);
	assert_string_equal(warn.msg[0], w1);
}

/* With reuseport = yes each prefork worker accepts on its own socket, so an
 * accept_lock other than none is ignored, with a warning of its own. */
static void test_finish_lock_with_reuseport(void **state)
{
	const struct evd_model *m = model_having(MODEL_PREFORK_KEYS, true);
	char text[256], want[400];
	const char *const w[] = { want };

	(void)state;
	if (!m)
		skip();	/* no model takes the [prefork] keys yet */
	for (int l = ACCEPT_LOCK_NONE + 1; l < ACCEPT_LOCK_MAX; l++) {
		snprintf(text, sizeof(text), "[server]\nmodel = %s\n[prefork]\n"
			 "accept_lock = %s\nreuseport = yes\n", m->name,
			 accept_lock_names[l]);
		snprintf(want, sizeof(want), "4: accept_lock = %s is ignored "
			 "with reuseport = yes: each worker accepts on its own "
			 "socket", accept_lock_names[l]);
		expect_warnings_n(text, w, 1);
		/* Without reuseport the lock is used: no warning. */
		snprintf(text, sizeof(text), "[server]\nmodel = %s\n[prefork]\n"
			 "accept_lock = %s\nreuseport = no\n", m->name,
			 accept_lock_names[l]);
		expect_warnings_n(text, w, 0);
	}
	snprintf(text, sizeof(text), "[server]\nmodel = %s\n[prefork]\n"
		 "accept_lock = none\nreuseport = yes\n", m->name);
	expect_warnings_n(text, w, 0);
	snprintf(text, sizeof(text), "[server]\nmodel = %s\n[prefork]\n"
		 "reuseport = yes\n", m->name);
	expect_warnings_n(text, w, 0);

	/* From -o. */
	struct config cfg;
	struct config_errors errs = { 0 }, warn = { 0 };
	config_defaults(&cfg);
	snprintf(text, sizeof(text), "server.model=%s", m->name);
	assert_int_equal(config_set(&cfg, text, &errs), 0);
	assert_int_equal(config_set(&cfg, "prefork.reuseport=yes", &errs), 0);
	assert_int_equal(config_set(&cfg, "prefork.accept_lock=flock", &errs), 0);
	assert_int_equal(config_finish(&cfg, &errs, &warn), 0);
	assert_int_equal(warn.n, 1);
	assert_string_equal(warn.msg[0], "-o prefork.accept_lock=flock: "
			    "accept_lock = flock is ignored with reuseport = yes: "
			    "each worker accepts on its own socket");
}

/* ---- config_print ---------------------------------------------------------- */

static void print_to(const struct config *cfg, char *out, size_t outlen)
{
	FILE *f = fmemopen(out, outlen, "w");

	assert_non_null(f);
	config_print(cfg, f);
	assert_int_equal(ferror(f), 0);
	assert_int_equal(fclose(f), 0);
}

static void test_print_defaults(void **state)
{
	struct config cfg;
	char out[2048];

	(void)state;
	config_defaults(&cfg);
	print_to(&cfg, out, sizeof(out));
	assert_string_equal(out,
			    "[server]\n"
			    "listen = 127.0.0.1:7777\t; default\n"
			    "protocol = echo\t; default\n"
			    "model = epoll\t; default\n"
			    "workers = auto\t; default\n"
			    "backlog = 511\t; default\n"
			    "max_connections = 10000\t; default\n"
			    "idle_timeout = 60s\t; default\n"
			    "pin_workers = no\t; default\n"
			    "delay = 0ms\t; default\n"
			    "request_timeout = 10s\t; default\n"
			    "drain_timeout = 10s\t; default\n"
			    "user = \t; default\n"
			    "\n"
			    "[prefork]\n"
			    "accept_lock = none\t; default\n"
			    "reuseport = no\t; default\n"
			    "\n"
			    "[http]\n"
			    "body = Hello, World!\t; default\n"
			    "max_header_bytes = 8k\t; default\n"
			    "max_headers = 100\t; default\n"
			    "max_body_bytes = 1m\t; default\n"
			    "\n"
			    "[resp]\n"
			    "max_bulk_bytes = 8k\t; default\n"
			    "max_args = 64\t; default\n"
			    "\n"
			    "[zmtp]\n"
			    "max_frame = 1m\t; default\n"
			    "max_frames = 64\t; default\n"
			    "\n"
			    "[control]\n"
			    "socket = /run/evd/evd.sock\t; default\n"
			    "mode = 0660\t; default\n"
			    "group = \t; default\n"
			    "\n"
			    "[probes]\n"
			    "syscalls = off\t; default\n"
			    "timing = yes\t; default\n"
			    "sample = 100%\t; default\n"
			    "profile = off\t; default\n"
			    "\n"
			    "[log]\n"
			    "level = info\t; default\n"
			    "\n"
			    "[metrics]\n"
			    "listen = \t; default\n");
}

/* [probes] syscalls: off (the default), on, auto; anything else is an
 * error naming the three. */
static void test_probes_syscalls(void **state)
{
	static const char *const names[] = { "off", "on", "auto" };
	struct config cfg;
	struct config_errors errs;
	char set[160], out[4096];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.probes_syscalls, PROBES_OFF);
	for (int i = 0; i < PROBES_MODE_MAX; i++) {
		memset(&errs, 0, sizeof(errs));
		assert_string_equal(probes_mode_names[i], names[i]);
		snprintf(set, sizeof(set), "probes.syscalls=%s", names[i]);
		assert_int_equal(config_set(&cfg, set, &errs), 0);
		assert_int_equal(cfg.probes_syscalls, i);
		print_to(&cfg, out, sizeof(out));
		snprintf(set, sizeof(set), "\n[probes]\nsyscalls = %s\t; "
			 "-o probes.syscalls=%s\ntiming = yes\t; default\n"
			 "sample = 100%%\t; default\nprofile = off\t; "
			 "default\n\n[log]\n", names[i],
			 names[i]);
		assert_non_null(strstr(out, set));
	}
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_set(&cfg, "probes.syscalls=yes", &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.msg[0], "-o probes.syscalls=yes: syscalls: "
			    "unknown value \"yes\" (expected one of: off, on, "
			    "auto)");
	assert_int_equal(cfg.probes_syscalls, PROBES_AUTO);
}

/* [probes] profile: off or on; anything else names both. */
static void test_probes_profile(void **state)
{
	struct config cfg;
	struct config_errors errs = { 0 };
	char out[4096];

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(config_set(&cfg, "probes.profile=on", &errs), 0);
	assert_true(cfg.probes_profile);
	print_to(&cfg, out, sizeof(out));
	assert_non_null(strstr(out, "\nprofile = on\t; -o probes.profile=on\n"));
	assert_int_equal(config_set(&cfg, "probes.profile=off", &errs), 0);
	assert_false(cfg.probes_profile);
	static const char *const bad[] = { "yes", "On", "", "auto", "on " };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char set[64], want[160];
		memset(&errs, 0, sizeof(errs));
		snprintf(set, sizeof(set), "probes.profile=%s", bad[i]);
		assert_int_equal(config_set(&cfg, set, &errs), -1);
		assert_int_equal(errs.n, 1);
		snprintf(want, sizeof(want), "-o %s: profile: unknown value "
			 "\"%s\" (expected one of: off, on)", set, bad[i]);
		assert_string_equal(errs.msg[0], want);
		assert_false(cfg.probes_profile);
	}
}

/* [probes] sample: N% or N, 1..100; anything else names the range. */
static void test_probes_sample(void **state)
{
	static const struct {
		const char *v;
		unsigned want;	/* 0: an error */
	} cases[] = {
		{ "10%", 10 }, { "10", 10 }, { "1%", 1 }, { "100%", 100 },
		{ "100", 100 }, { "0%", 0 }, { "0", 0 }, { "101%", 0 },
		{ "%", 0 }, { "", 0 }, { "10%%", 0 }, { "-5%", 0 },
		{ "5 %", 0 }, { "1e1%", 0 }, { "99999999999999999999%", 0 },
	};
	struct config cfg;
	struct config_errors errs;
	char set[96], want[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		config_defaults(&cfg);
		memset(&errs, 0, sizeof(errs));
		snprintf(set, sizeof(set), "probes.sample=%s", cases[i].v);
		if (cases[i].want) {
			assert_int_equal(config_set(&cfg, set, &errs), 0);
			assert_int_equal(cfg.probes_sample, cases[i].want);
			continue;
		}
		assert_int_equal(config_set(&cfg, set, &errs), -1);
		assert_int_equal(errs.n, 1);
		snprintf(want, sizeof(want), "-o probes.sample=%s: sample: \"%s\" "
			 "is not a share of the time (expected 1%%..100%%, such "
			 "as 10%%)", cases[i].v, cases[i].v);
		assert_string_equal(errs.msg[0], want);
		assert_int_equal(cfg.probes_sample, 100);
	}
}

/* Prints cfg, loads the text back over the defaults and compares. */
static void round_trip(const struct config *cfg)
{
	struct config back;
	struct config_errors errs;
	char out[4096], path[64];

	print_to(cfg, out, sizeof(out));
	assert_int_equal(load(out, &back, &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_config_equal(&back, cfg);
}

/* "section.key" of every key, from what evd -t prints for the defaults;
 * returns how many. */
static size_t every_key(char (*out)[64], size_t max)
{
	struct config cfg;
	char text[8192], section[32] = "";
	size_t n = 0;

	config_defaults(&cfg);
	print_to(&cfg, text, sizeof(text));
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '[')
			snprintf(section, sizeof(section), "%.*s",
				 (int)strcspn(line + 1, "]"), line + 1);
		else if (strstr(line, " = ") && n < max)
			snprintf(out[n++], 64, "%s.%.*s", section,
				 (int)strcspn(line, " "), line);
	}
	return n;
}

/* Values that read back only quoted (blanks at either end, a comment
 * character, a leading quote, a newline from -o), and some that need no
 * quotes, tried on every key: each one a key accepts prints as a value
 * that reads back the same. */
static void test_print_round_trip_quoted(void **state)
{
	static const char *const values[] = {
		"a ; b", "a;b", ";", " ;", "x ;", "#x", "a # b", "a#b",
		" lead", "trail ", "\ttab", "tab\t", " ", "  both  ",
		"\"q\"", "\"", "x\"", "\"a ; b\"", "back\\slash", "a\\",
		"\\\"", "both ; \"q\" \\ end ", "nl\nnl", "\n", "=", "a = b",
		"[x]", "\"unterminated", "'single'", "\xc3\xa9t\xc3\xa9",
		"/tmp/evd a ; b.sock", "8k", "10%", "yes", "0", "127.0.0.1:0",
	};
	char keys[64][64], set[512];
	size_t nkeys = every_key(keys, ARRAY_SIZE(keys));
	unsigned accepted = 0;

	(void)state;
	assert_int_equal(nkeys, NKEYS);
	for (size_t k = 0; k < nkeys; k++) {
		for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
			struct config cfg;
			struct config_errors errs = { 0 };
			config_defaults(&cfg);
			snprintf(set, sizeof(set), "%s=%s", keys[k], values[i]);
			if (config_set(&cfg, set, &errs) != 0)
				continue;
			accepted++;
			round_trip(&cfg);
		}
	}
	/* body and socket take every value above; other keys a few. */
	assert_true(accepted >= 2 * ARRAY_SIZE(values));
}

static void test_print_round_trip(void **state)
{
	static const char *const sets[] = {
		"server.listen=127.0.0.1:8001, [::1]:8002,*:0,[::]:9",
		"server.model=poll",
		"server.workers=3",
		"server.backlog=128",
		"server.max_connections=77",
		"server.idle_timeout=1500ms",
		"server.pin_workers=yes",
		"prefork.accept_lock=mutex",
		"prefork.reuseport=yes",
		"server.delay=1500ms",
		"http.body=<p>Hi, \"you\" & =all=</p>",
		"http.max_header_bytes=300",
		"http.max_headers=1000",
		"http.max_body_bytes=0",
		"resp.max_bulk_bytes=15k",
		"resp.max_args=1",
		"control.socket=/tmp/evd ut.sock",
		"control.mode=0600",
		"log.level=error",
		"server.request_timeout=2500ms",
		"server.drain_timeout=0",
		"server.user=www-data",
		"control.group=adm",
		"probes.syscalls=auto",
		"probes.timing=no",
		"probes.sample=5",
		"probes.profile=on",
	};
	struct config cfg;
	struct config_errors errs = { 0 };
	char out[4096];

	(void)state;
	config_defaults(&cfg);
	round_trip(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		assert_int_equal(config_set(&cfg, sets[i], &errs), 0);
	print_to(&cfg, out, sizeof(out));
	assert_non_null(strstr(out, "listen = 127.0.0.1:8001, [::1]:8002, *:0, "
			       "[::]:9\t; -o server.listen=127.0.0.1:8001, "));
	assert_non_null(strstr(out, "\nidle_timeout = 1500ms\t; -o "));
	assert_non_null(strstr(out, "\nmode = 0600\t; -o control.mode=0600\n"));
	assert_non_null(strstr(out, "\npin_workers = yes\t; -o "
			       "server.pin_workers=yes\n"));
	assert_non_null(strstr(out, "\n\n[prefork]\naccept_lock = mutex\t; -o "
			       "prefork.accept_lock=mutex\nreuseport = yes\t; "
			       "-o prefork.reuseport=yes\n\n[http]\n"));
	assert_non_null(strstr(out, "\ndelay = 1500ms\t; -o server.delay=1500ms\n"
			       "request_timeout = 2500ms\t; -o "
			       "server.request_timeout=2500ms\n"
			       "drain_timeout = 0ms\t; -o server.drain_timeout=0\n"
			       "user = www-data\t; -o server.user=www-data\n"
			       "\n[prefork]\n"));
	assert_non_null(strstr(out, "\n[control]\nsocket = /tmp/evd ut.sock\t; "
			       "-o control.socket=/tmp/evd ut.sock\n"
			       "mode = 0600\t; -o control.mode=0600\n"
			       "group = adm\t; -o control.group=adm\n"
			       "\n[probes]\nsyscalls = auto\t; -o "
			       "probes.syscalls=auto\n"
			       "timing = no\t; -o probes.timing=no\n"
			       "sample = 5%\t; -o probes.sample=5\n"
			       "profile = on\t; -o probes.profile=on\n\n[log]\n"
			       "level = error\t; -o log.level=error\n"));
	assert_non_null(strstr(out, "\n[http]\nbody = <p>Hi, \"you\" & =all=</p>"
			       "\t; -o http.body=<p>Hi, \"you\" & =all=</p>\n"
			       "max_header_bytes = 300\t; -o "
			       "http.max_header_bytes=300\n"
			       "max_headers = 1000\t; -o http.max_headers=1000\n"
			       "max_body_bytes = 0\t; -o http.max_body_bytes=0\n"
			       "\n[resp]\nmax_bulk_bytes = 15k\t; -o "
			       "resp.max_bulk_bytes=15k\nmax_args = 1\t; -o "
			       "resp.max_args=1\n\n[zmtp]\n"));
	round_trip(&cfg);
	/* Every lock prints as it reads. */
	for (int l = 0; l < ACCEPT_LOCK_MAX; l++) {
		char set[64];
		snprintf(set, sizeof(set), "prefork.accept_lock=%s",
			 accept_lock_names[l]);
		assert_int_equal(config_set(&cfg, set, &errs), 0);
		assert_int_equal(cfg.accept_lock, l);
		round_trip(&cfg);
	}

	/* A port written with leading zeros prints as a valid address. */
	assert_int_equal(config_set(&cfg, "server.listen=[1111:2222:3333:4444:"
				    "5555:6666:7777:8888]:00000000000000000009",
				    &errs), 0);
	print_to(&cfg, out, sizeof(out));
	assert_non_null(strstr(out, "\nlisten = [1111:2222:3333:4444:5555:6666:"
			       "7777:8888]:9\t; "));
	round_trip(&cfg);

	/* Durations print in the largest exact unit; 0 as 0ms. */
	assert_int_equal(config_set(&cfg, "server.idle_timeout=0", &errs), 0);
	print_to(&cfg, out, sizeof(out));
	assert_non_null(strstr(out, "\nidle_timeout = 0ms\t; "));
	round_trip(&cfg);
	assert_int_equal(config_set(&cfg, "server.idle_timeout=120000ms", &errs),
			 0);
	print_to(&cfg, out, sizeof(out));
	assert_non_null(strstr(out, "\nidle_timeout = 120s\t; "));
	round_trip(&cfg);
	assert_int_equal(config_set(&cfg, "control.mode=7", &errs), 0);
	print_to(&cfg, out, sizeof(out));
	assert_non_null(strstr(out, "\nmode = 0007\t; "));
	round_trip(&cfg);
	assert_int_equal(errs.n, 0);
}

/* ---- [server] delay, [http] and [resp] ----------------------------------- */

static void test_delay(void **state)
{
	static const char bad[] = "is not a duration (expected a number with a "
				  "unit, ms or s, such as 250ms or 60s)";
	static const char *const bads[] = { "5", "1m", "-1s", "1.5s", "ms", "",
					    "5 s" };
	static const struct {
		const char *v;
		uint64_t ms;
	} ok[] = {
		{ "0", 0 }, { "0ms", 0 }, { "0s", 0 }, { "1ms", 1 },
		{ "250ms", 250 }, { "1s", 1000 }, { "60s", 60000 },
		{ "60000ms", 60000 }, { "0060s", 60000 },
	};
	struct config cfg;
	char why[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		expect_value_ok("server", "delay", ok[i].v, &cfg);
		assert_int_equal(cfg.delay_ms, ok[i].ms);
		/* Nothing else moves. */
		assert_int_equal(cfg.idle_timeout_ms, 60000);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" %s", bads[i], bad);
		expect_value_error("server", "delay", bads[i], why);
	}
	expect_value_error("server", "delay", "61s",
			   "61s is out of range (at most 60s)");
	expect_value_error("server", "delay", "60001ms",
			   "60001ms is out of range (at most 60s)");
	expect_value_error("server", "delay", "99999999999999999999999ms",
			   "99999999999999999999999ms is out of range (at most "
			   "60s)");
	/* It belongs to [server]. */
	EXPECT_ERRORS("[http]\ndelay = 1s\n",
		      "2: unknown key \"delay\" in [http] (expected one of: "
		      HTTP_KEYS ")");
}

static void test_http_body(void **state)
{
	struct config cfg;
	char text[400], body[CONFIG_BODY_MAX + 2];

	(void)state;
	expect_value_ok("http", "body", "Hi", &cfg);
	assert_string_equal(cfg.http_body, "Hi");
	assert_int_equal(cfg.http_body_len, 2);
	/* Any bytes: no value is an error. */
	expect_value_ok("http", "body", "a;b #c = d [e]", &cfg);
	assert_string_equal(cfg.http_body, "a;b #c = d [e]");
	assert_int_equal(cfg.http_body_len, 14);
	expect_value_ok("http", "body", "h\xC3\xA9llo", &cfg);
	assert_int_equal(cfg.http_body_len, 6);
	/* Blanks around the value are not part of it, " ;" starts a comment
	 * (as conf/evd.ini says). */
	expect_value_ok("http", "body", "  x y \t", &cfg);
	assert_string_equal(cfg.http_body, "x y");
	assert_int_equal(cfg.http_body_len, 3);
	expect_value_ok("http", "body", "a ; b", &cfg);
	assert_string_equal(cfg.http_body, "a");
	assert_int_equal(cfg.http_body_len, 1);
	expect_value_ok("http", "body", "", &cfg);
	assert_string_equal(cfg.http_body, "");
	assert_int_equal(cfg.http_body_len, 0);
	/* The other [http] keys keep their defaults. */
	assert_int_equal(cfg.http_max_header_bytes, 8192);
	assert_int_equal(cfg.http_max_headers, 100);
	assert_int_equal(cfg.http_max_body_bytes, 1048576);

	/* Quoted: blanks at the ends, " ;", '#', quotes and \\ \\" \\n. */
	expect_value_ok("http", "body", "\" a ; \\\"b\\\" # \\\\ \\n \"  ; c",
			&cfg);
	assert_string_equal(cfg.http_body, " a ; \"b\" # \\ \n ");
	assert_int_equal(cfg.http_body_len, 15);
	expect_value_ok("http", "body", "\"\"", &cfg);
	assert_int_equal(cfg.http_body_len, 0);
	/* Not quoted: a quote inside is only a quote. */
	expect_value_ok("http", "body", "say \"hi\"", &cfg);
	assert_string_equal(cfg.http_body, "say \"hi\"");

	/* The longest: CONFIG_BODY_MAX bytes. */
	memset(body, 'b', sizeof(body));
	body[CONFIG_BODY_MAX] = '\0';
	expect_value_ok("http", "body", body, &cfg);
	assert_string_equal(cfg.http_body, body);
	assert_int_equal(cfg.http_body_len, CONFIG_BODY_MAX);
	body[CONFIG_BODY_MAX] = 'c';
	body[CONFIG_BODY_MAX + 1] = '\0';
	snprintf(text, sizeof(text), "[http]\nbody = %s\n", body);
	const char *const w[] = { "2: body: 256 bytes long (at most 255)" };
	expect_errors_n(text, strlen(text), true, w, 1);
}

/* A quoted value: its closing quote, its escapes, nothing after it but a
 * comment. */
static void test_quoted_errors(void **state)
{
	(void)state;
	EXPECT_ERRORS("[http]\nbody = \"abc\n",
		      "2: body: quoted value without its closing \"");
	EXPECT_ERRORS("[http]\nbody = \"a\\\"\n",
		      "2: body: quoted value without its closing \"");
	EXPECT_ERRORS("[http]\nbody = \"a\\tb\"\n",
		      "2: body: unknown escape in a quoted value (\\\" \\\\ "
		      "and \\n are the escapes)");
	EXPECT_ERRORS("[http]\nbody = \"a\" b\n",
		      "2: body: text after the closing quote (a comment starts "
		      "with ; or #)");
	/* A comment after the quote needs no blank; the value is still
	 * checked. */
	EXPECT_ERRORS("[http]\nmax_headers = \"0\";x\nmax_body_bytes = \"x\" # c\n",
		      "2: max_headers: 0 is out of range (expected 1..1000)",
		      "3: max_body_bytes: \"x\" is not a size (expected bytes, "
		      "or a number with k or m, such as 64k)");
}

static void test_http_max_header_bytes(void **state)
{
	static const char bad[] = "is not a size (expected bytes, or a number "
				  "with k or m, such as 64k)";
	static const char *const bads[] = { "8kb", "", "x", "-1", "1.5k", "8 k",
					    "1g" };
	static const struct {
		const char *v;
		unsigned n;
	} ok[] = {
		{ "256", 256 }, { "300", 300 }, { "8K", 8192 }, { "16k", 16384 },
		{ "16384", 16384 },
	};
	struct config cfg;
	char why[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		expect_value_ok("http", "max_header_bytes", ok[i].v, &cfg);
		assert_int_equal(cfg.http_max_header_bytes, ok[i].n);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" %s", bads[i], bad);
		expect_value_error("http", "max_header_bytes", bads[i], why);
	}
	expect_value_error("http", "max_header_bytes", "255",
			   "255 is too small (at least 256 bytes)");
	expect_value_error("http", "max_header_bytes", "0",
			   "0 is too small (at least 256 bytes)");
	expect_value_error("http", "max_header_bytes", "0k",
			   "0k is too small (at least 256 bytes)");
	expect_value_error("http", "max_header_bytes", "16385",
			   "16385 is out of range (at most 16384 bytes)");
	expect_value_error("http", "max_header_bytes", "17k",
			   "17k is out of range (at most 16384 bytes)");
	expect_value_error("http", "max_header_bytes", "1m",
			   "1m is out of range (at most 16384 bytes)");
}

static void test_http_max_headers(void **state)
{
	struct config cfg;

	(void)state;
	expect_value_ok("http", "max_headers", "1", &cfg);
	assert_int_equal(cfg.http_max_headers, 1);
	expect_value_ok("http", "max_headers", "1000", &cfg);
	assert_int_equal(cfg.http_max_headers, 1000);
	expect_value_ok("http", "max_headers", "042", &cfg);
	assert_int_equal(cfg.http_max_headers, 42);
	expect_value_error("http", "max_headers", "0",
			   "0 is out of range (expected 1..1000)");
	expect_value_error("http", "max_headers", "1001",
			   "1001 is out of range (expected 1..1000)");
	expect_value_error("http", "max_headers", "99999999999999999999999",
			   "99999999999999999999999 is out of range (expected "
			   "1..1000)");
	expect_value_error("http", "max_headers", "1k",
			   "\"1k\" is not a whole number (expected 1..1000)");
	expect_value_error("http", "max_headers", "",
			   "\"\" is not a whole number (expected 1..1000)");
	expect_value_error("http", "max_headers", "-5",
			   "\"-5\" is not a whole number (expected 1..1000)");
}

static void test_http_max_body_bytes(void **state)
{
	static const struct {
		const char *v;
		uint64_t n;
	} ok[] = {
		{ "0", 0 }, { "1", 1 }, { "64k", 65536 }, { "1m", 1048576 },
		{ "1024m", 1073741824 }, { "1073741824", 1073741824 },
		{ "1048576k", 1073741824 },
	};
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		expect_value_ok("http", "max_body_bytes", ok[i].v, &cfg);
		assert_int_equal(cfg.http_max_body_bytes, ok[i].n);
	}
	expect_value_error("http", "max_body_bytes", "1025m",
			   "1025m is out of range (at most 1073741824 bytes)");
	expect_value_error("http", "max_body_bytes", "1073741825",
			   "1073741825 is out of range (at most 1073741824 "
			   "bytes)");
	expect_value_error("http", "max_body_bytes", "99999999999999999999999k",
			   "99999999999999999999999k is out of range (at most "
			   "1073741824 bytes)");
	/* No g unit: 1024m is the largest. */
	expect_value_error("http", "max_body_bytes", "1g",
			   "\"1g\" is not a size (expected bytes, or a number "
			   "with k or m, such as 64k)");
	expect_value_error("http", "max_body_bytes", "-1",
			   "\"-1\" is not a size (expected bytes, or a number "
			   "with k or m, such as 64k)");
}

static void test_resp_max_bulk_bytes(void **state)
{
	static const struct {
		const char *v;
		unsigned n;
	} ok[] = {
		{ "1", 1 }, { "512", 512 }, { "8k", 8192 }, { "15k", 15360 },
		{ "15360", 15360 },
	};
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		expect_value_ok("resp", "max_bulk_bytes", ok[i].v, &cfg);
		assert_int_equal(cfg.resp_max_bulk_bytes, ok[i].n);
		assert_int_equal(cfg.resp_max_args, 64);
	}
	/* A whole command fits the 16 KiB input buffer, with 1 KiB left for
	 * its framing. */
	assert_int_equal(CONFIG_IN_BUFFER - 1024, 15360);
	expect_value_error("resp", "max_bulk_bytes", "0",
			   "0 is too small (at least 1 byte)");
	expect_value_error("resp", "max_bulk_bytes", "0k",
			   "0k is too small (at least 1 byte)");
	expect_value_error("resp", "max_bulk_bytes", "15361",
			   "15361 is out of range (at most 15360 bytes)");
	expect_value_error("resp", "max_bulk_bytes", "16k",
			   "16k is out of range (at most 15360 bytes)");
	expect_value_error("resp", "max_bulk_bytes", "1m",
			   "1m is out of range (at most 15360 bytes)");
	expect_value_error("resp", "max_bulk_bytes", "8kb",
			   "\"8kb\" is not a size (expected bytes, or a number "
			   "with k or m, such as 64k)");
	expect_value_error("resp", "max_bulk_bytes", "",
			   "\"\" is not a size (expected bytes, or a number "
			   "with k or m, such as 64k)");
}

static void test_resp_max_args(void **state)
{
	struct config cfg;

	(void)state;
	expect_value_ok("resp", "max_args", "1", &cfg);
	assert_int_equal(cfg.resp_max_args, 1);
	expect_value_ok("resp", "max_args", "1024", &cfg);
	assert_int_equal(cfg.resp_max_args, 1024);
	assert_int_equal(cfg.resp_max_bulk_bytes, 8192);
	expect_value_error("resp", "max_args", "0",
			   "0 is out of range (expected 1..1024)");
	expect_value_error("resp", "max_args", "1025",
			   "1025 is out of range (expected 1..1024)");
	expect_value_error("resp", "max_args", "6x4",
			   "\"6x4\" is not a whole number (expected 1..1024)");
	expect_value_error("resp", "max_args", "1k",
			   "\"1k\" is not a whole number (expected 1..1024)");
	expect_value_error("resp", "max_args", "",
			   "\"\" is not a whole number (expected 1..1024)");
}

/* [zmtp] max_frame: a size, 1 byte to 1g. */
static void test_zmtp_max_frame(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.zmtp_max_frame, 1024 * 1024);
	assert_int_equal(cfg.zmtp_max_frames, 64);
	expect_value_ok("zmtp", "max_frame", "1", &cfg);
	assert_int_equal(cfg.zmtp_max_frame, 1);
	expect_value_ok("zmtp", "max_frame", "1024m", &cfg);
	assert_int_equal(cfg.zmtp_max_frame, 1024ull * 1024 * 1024);
	assert_int_equal(cfg.zmtp_max_frames, 64);
	expect_value_error("zmtp", "max_frame", "0",
			   "0 is too small (at least 1 byte)");
	expect_value_error("zmtp", "max_frame", "1025m",
			   "1025m is out of range (at most 1073741824 bytes)");
	expect_value_error("zmtp", "max_frame", "1mb",
			   "\"1mb\" is not a size (expected bytes, or a number "
			   "with k or m, such as 64k)");
}

/* [zmtp] max_frames: 1 .. 65536. */
static void test_zmtp_max_frames(void **state)
{
	struct config cfg;

	(void)state;
	expect_value_ok("zmtp", "max_frames", "1", &cfg);
	assert_int_equal(cfg.zmtp_max_frames, 1);
	expect_value_ok("zmtp", "max_frames", "65536", &cfg);
	assert_int_equal(cfg.zmtp_max_frames, 65536);
	expect_value_error("zmtp", "max_frames", "0",
			   "0 is out of range (expected 1..65536)");
	expect_value_error("zmtp", "max_frames", "65537",
			   "65537 is out of range (expected 1..65536)");
	expect_value_error("zmtp", "max_frames", "2k",
			   "\"2k\" is not a whole number (expected 1..65536)");
}

static void test_zmtp_section(void **state)
{
	(void)state;
	EXPECT_ERRORS("[zmtp]\nmax_frame_bytes = 1k\n",
		      "2: unknown key \"max_frame_bytes\" in [zmtp] (expected "
		      "one of: " ZMTP_KEYS ")");
}

static void test_http_resp_sections(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64], want[256];

	(void)state;
	EXPECT_ERRORS("[http]\nmax_body = 1k\n",
		      "2: unknown key \"max_body\" in [http] (expected one of: "
		      HTTP_KEYS ")");
	EXPECT_ERRORS("[resp]\nmax_bulk = 1\n",
		      "2: unknown key \"max_bulk\" in [resp] (expected one of: "
		      RESP_KEYS ")");
	/* Each key belongs to its own section. */
	EXPECT_ERRORS("[server]\nbody = x\n",
		      "2: unknown key \"body\" in [server] (expected one of: "
		      SERVER_KEYS ")");
	EXPECT_ERRORS("[resp]\nmax_headers = 3\n",
		      "2: unknown key \"max_headers\" in [resp] (expected one "
		      "of: " RESP_KEYS ")");
	EXPECT_ERRORS("[http]\nmax_args = 3\n",
		      "2: unknown key \"max_args\" in [http] (expected one of: "
		      HTTP_KEYS ")");
	EXPECT_ERRORS("[HTTP]\nbody = x\n",
		      "1: unknown section [HTTP] (expected one of: "
		      SECTION_LIST ")");
	/* Several in one file, each reported at its line. */
	EXPECT_ERRORS("[server]\n"		/* 1 */
		      "delay = 1h\n"		/* 2 */
		      "[http]\n"		/* 3 */
		      "max_headers = 0\n"	/* 4 */
		      "max_header_bytes = 100\n"	/* 5 */
		      "[resp]\n"		/* 6 */
		      "max_args = 2000\n"	/* 7 */
		      "max_bulk_bytes = 16k\n",	/* 8 */
		      "2: delay: \"1h\" is not a duration (expected a number "
		      "with a unit, ms or s, such as 250ms or 60s)",
		      "4: max_headers: 0 is out of range (expected 1..1000)",
		      "5: max_header_bytes: 100 is too small (at least 256 "
		      "bytes)",
		      "7: max_args: 2000 is out of range (expected 1..1024)",
		      "8: max_bulk_bytes: 16k is out of range (at most 15360 "
		      "bytes)");

	/* Empty sections are valid; a repeated key is an error, the first
	 * value stays. */
	assert_int_equal(load("[http]\n[resp]\n", &cfg, &errs, path,
			      sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(load("[http]\nmax_headers = 5\n[resp]\nmax_args = 9\n"
			      "[http]\nmax_headers = 6\n[resp]\nmax_args = 8\n",
			      &cfg, &errs, path, sizeof(path)), -1);
	assert_int_equal(errs.n, 2);
	snprintf(want, sizeof(want), "%s:6: duplicate key \"max_headers\" in "
		 "[http] (first set at %s:2); keep one", path, path);
	assert_string_equal(errs.msg[0], want);
	snprintf(want, sizeof(want), "%s:8: duplicate key \"max_args\" in "
		 "[resp] (first set at %s:4); keep one", path, path);
	assert_string_equal(errs.msg[1], want);
	assert_int_equal(cfg.http_max_headers, 5);
	assert_int_equal(cfg.resp_max_args, 9);
}

static void test_protocols_ok(void **state)
{
	static const char *const names[] = { "echo", "http", "resp", "zmtp" };
	struct config cfg;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		expect_value_ok("server", "protocol", names[i], &cfg);
		assert_string_equal(cfg.proto->name, names[i]);
		assert_ptr_equal(cfg.proto, evd_protos[i]);
		assert_ptr_equal(cfg.proto, proto_find(names[i]));
	}
	assert_null(evd_protos[ARRAY_SIZE(names)]);
}

/* config_keep(): every restart-only key takes the running value, from the
 * table (profile and metrics.listen included); the others stay new. */
static void test_config_keep_restart(void **state)
{
	struct config cur, next;
	struct config_errors errs = { 0 };
	char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];
	static const char *const sets[] = {
		"control.socket=/tmp/other.sock", "control.mode=0600",
		"control.group=nogroup", "server.user=nobody",
		"probes.profile=on", "metrics.listen=127.0.0.1:9477",
		"log.level=debug",
	};

	(void)state;
	config_defaults(&cur);
	config_defaults(&next);
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		assert_int_equal(config_set(&next, sets[i], &errs), 0);
	unsigned changed = config_compare(&cur, &next, names);
	assert_true(changed & (1u << RELOAD_RESTART));
	assert_string_equal(names[RELOAD_RESTART], "server.user, "
			    "control.socket, control.mode, control.group, "
			    "probes.profile, metrics.listen");
	config_keep(&next, &cur, RELOAD_RESTART);
	changed = config_compare(&cur, &next, names);
	assert_int_equal(changed, 1u << RELOAD_LIVE);
	assert_string_equal(names[RELOAD_LIVE], "log.level");
	assert_int_equal(next.probes_profile, PROFILE_OFF);
	assert_int_equal(next.metrics_listen.len, 0);
}

/* [metrics] listen: off ("") by default; one address, IPv4 or [IPv6];
 * anything else an error with its line. */
static void test_metrics_listen(void **state)
{
	static const struct {
		const char *set, *text;
		int family;
	} ok[] = {
		{ "metrics.listen=127.0.0.1:9477", "127.0.0.1:9477", AF_INET },
		{ "metrics.listen=[::1]:9477", "[::1]:9477", AF_INET6 },
		{ "metrics.listen=*:9477", "*:9477", AF_INET },
		{ "metrics.listen=127.0.0.1:0", "127.0.0.1:0", AF_INET },
	};
	struct config cfg;
	struct config_errors errs = { 0 };

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.metrics_listen.len, 0);
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		config_defaults(&cfg);
		assert_int_equal(config_set(&cfg, ok[i].set, &errs), 0);
		assert_string_equal(cfg.metrics_listen.text, ok[i].text);
		assert_int_equal(cfg.metrics_listen.ss.ss_family, ok[i].family);
		assert_true(cfg.metrics_listen.len > 0);
		/* And back to off. */
		assert_int_equal(config_set(&cfg, "metrics.listen=", &errs), 0);
		assert_int_equal(cfg.metrics_listen.len, 0);
	}
	assert_int_equal(errs.n, 0);
	EXPECT_ERRORS("[metrics]\nlisten = 9477\n",
		      "2: listen: \"9477\" is not an address (expected "
		      "HOST:PORT such as 127.0.0.1:7777, *:7777 or [::1]:7777)");
	EXPECT_ERRORS("[metrics]\nlisten = localhost:9477\n",
		      "2: listen: \"localhost\" is not a numeric IPv4 address "
		      "(write IPv6 as [::1]:7777)");
	EXPECT_ERRORS("[metrics]\nlisten = 127.0.0.1:9477, 127.0.0.1:9478\n",
		      "2: listen: one address only (\"127.0.0.1:9477, "
		      "127.0.0.1:9478\" is a list)");
	EXPECT_ERRORS("[metrics]\nport = 9477\n",
		      "2: unknown key \"port\" in [metrics] (expected one of: "
		      "listen)");
}

/* -o for each new key: the value, where it was set, and the errors. */
static void test_set_new_keys(void **state)
{
	static const struct {
		const char *set;
		int key;
	} sets[] = {
		{ "server.delay=2s", K_DELAY },
		{ "http.body=  spaced ; out  ", K_BODY },
		{ "http.max_header_bytes=1k", K_MAX_HEADER_BYTES },
		{ "http.max_headers=3", K_MAX_HEADERS },
		{ "http.max_body_bytes=5m", K_MAX_BODY_BYTES },
		{ "resp.max_bulk_bytes=100", K_MAX_BULK_BYTES },
		{ "resp.max_args=2", K_MAX_ARGS },
		{ "zmtp.max_frame=64k", K_MAX_FRAME },
		{ "zmtp.max_frames=8", K_MAX_FRAMES },
		{ "server.request_timeout=30s", K_REQUEST_TIMEOUT },
		{ "server.drain_timeout=500ms", K_DRAIN_TIMEOUT },
		{ "server.user=evd", K_USER },
		{ "control.group=evd-ctl", K_GROUP },
	};
	static const char *const bads[] = {
		"server.delay=61s",
		"http.max_header_bytes=255",
		"http.max_headers=1001",
		"http.max_body_bytes=2g",
		"resp.max_bulk_bytes=0",
		"resp.max_args=0",
		"http.max_args=3",
		"resp.body=x",
		"http.delay=1s",
		"server.request_timeout=5x",
		"server.drain_timeout=-1",
		"server.user=Bad",
		"control.group=a b",
		"control.user=evd",
		"server.group=evd",
	};
	static const char *const whys[] = {
		"-o server.delay=61s: delay: 61s is out of range (at most 60s)",
		"-o http.max_header_bytes=255: max_header_bytes: 255 is too small "
		"(at least 256 bytes)",
		"-o http.max_headers=1001: max_headers: 1001 is out of range "
		"(expected 1..1000)",
		"-o http.max_body_bytes=2g: max_body_bytes: \"2g\" is not a size "
		"(expected bytes, or a number with k or m, such as 64k)",
		"-o resp.max_bulk_bytes=0: max_bulk_bytes: 0 is too small (at "
		"least 1 byte)",
		"-o resp.max_args=0: max_args: 0 is out of range (expected "
		"1..1024)",
		"-o http.max_args=3: unknown key \"max_args\" in [http] (expected "
		"one of: " HTTP_KEYS ")",
		"-o resp.body=x: unknown key \"body\" in [resp] (expected one of: "
		RESP_KEYS ")",
		"-o http.delay=1s: unknown key \"delay\" in [http] (expected one "
		"of: " HTTP_KEYS ")",
		"-o server.request_timeout=5x: request_timeout: \"5x\" is not a "
		"duration (expected a number with a unit, ms or s, such as 250ms "
		"or 60s)",
		"-o server.drain_timeout=-1: drain_timeout: \"-1\" is not a "
		"duration (expected a number with a unit, ms or s, such as 250ms "
		"or 60s)",
		"-o server.user=Bad: user: \"Bad\" is not a valid user name "
		"(lower-case letters, digits, '_' and '-', not starting with a "
		"digit or '-')",
		"-o control.group=a b: group: \"a b\" is not a valid group name "
		"(lower-case letters, digits, '_' and '-', not starting with a "
		"digit or '-')",
		"-o control.user=evd: unknown key \"user\" in [control] (expected "
		"one of: " CONTROL_KEYS ")",
		"-o server.group=evd: unknown key \"group\" in [server] (expected "
		"one of: " SERVER_KEYS ")",
	};
	struct config cfg;
	struct config_errors errs = { 0 };
	char want[256];

	(void)state;
	config_defaults(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(sets); i++) {
		assert_int_equal(config_set(&cfg, sets[i].set, &errs), 0);
		snprintf(want, sizeof(want), "-o %s", sets[i].set);
		assert_string_equal(cfg.origin[sets[i].key], want);
	}
	assert_int_equal(errs.n, 0);
	assert_int_equal(cfg.delay_ms, 2000);
	/* -o takes the value verbatim: no trimming, no comment. */
	assert_string_equal(cfg.http_body, "  spaced ; out  ");
	assert_int_equal(cfg.http_body_len, 16);
	assert_int_equal(cfg.http_max_header_bytes, 1024);
	assert_int_equal(cfg.http_max_headers, 3);
	assert_int_equal(cfg.http_max_body_bytes, 5 * 1048576);
	assert_int_equal(cfg.resp_max_bulk_bytes, 100);
	assert_int_equal(cfg.resp_max_args, 2);
	assert_int_equal(cfg.request_timeout_ms, 30000);
	assert_int_equal(cfg.drain_timeout_ms, 500);
	assert_string_equal(cfg.user, "evd");
	assert_string_equal(cfg.control_group, "evd-ctl");

	assert_int_equal(ARRAY_SIZE(bads), ARRAY_SIZE(whys));
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		assert_int_equal(config_set(&cfg, bads[i], &errs), -1);
		assert_int_equal(errs.n, i + 1);
		assert_string_equal(errs.msg[i], whys[i]);
	}
	/* Failed overrides leave values and origins alone. */
	assert_int_equal(cfg.delay_ms, 2000);
	assert_int_equal(cfg.http_max_header_bytes, 1024);
	assert_int_equal(cfg.http_max_headers, 3);
	assert_int_equal(cfg.http_max_body_bytes, 5 * 1048576);
	assert_int_equal(cfg.resp_max_bulk_bytes, 100);
	assert_int_equal(cfg.resp_max_args, 2);
	assert_int_equal(cfg.request_timeout_ms, 30000);
	assert_int_equal(cfg.drain_timeout_ms, 500);
	assert_string_equal(cfg.user, "evd");
	assert_string_equal(cfg.control_group, "evd-ctl");
	assert_string_equal(cfg.origin[K_DELAY], "-o server.delay=2s");
	assert_string_equal(cfg.origin[K_MAX_ARGS], "-o resp.max_args=2");
	assert_string_equal(cfg.origin[K_REQUEST_TIMEOUT],
			    "-o server.request_timeout=30s");
	assert_string_equal(cfg.origin[K_DRAIN_TIMEOUT],
			    "-o server.drain_timeout=500ms");
	assert_string_equal(cfg.origin[K_USER], "-o server.user=evd");
	assert_string_equal(cfg.origin[K_GROUP], "-o control.group=evd-ctl");

	/* The longest -o body: CONFIG_BODY_MAX bytes; one more is refused. */
	char a[10 + CONFIG_BODY_MAX + 2];
	memset(a, 'x', sizeof(a));
	memcpy(a, "http.body=", 10);
	a[10 + CONFIG_BODY_MAX] = '\0';
	assert_int_equal(config_set(&cfg, a, &errs), 0);
	assert_int_equal(cfg.http_body_len, CONFIG_BODY_MAX);
	assert_string_equal(cfg.http_body, a + 10);
	a[10 + CONFIG_BODY_MAX] = 'x';
	a[10 + CONFIG_BODY_MAX + 1] = '\0';
	assert_int_equal(config_set(&cfg, a, &errs), -1);
	assert_string_equal(errs.msg[errs.n - 1], "-o http.body=xxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxx: body: 256 bytes long (at most 255)");
	assert_int_equal(cfg.http_body_len, CONFIG_BODY_MAX);
	/* An -o assignment is at most CONFIG_MAX_LINE characters. */
	char b[CONFIG_MAX_LINE + 2];
	memset(b, 'x', sizeof(b));
	memcpy(b, "http.body=", 10);
	b[CONFIG_MAX_LINE + 1] = '\0';
	assert_int_equal(config_set(&cfg, b, &errs), -1);
	assert_string_equal(errs.msg[errs.n - 1], "-o http.body=xxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxx...: too long");
}

/* [server] delay, [http] and [resp] shape every model: never a warning. */
static void test_finish_quiet_on_proto_keys(void **state)
{
	char text[300];
	const char *const none[] = { NULL };

	(void)state;
	for (size_t i = 0; evd_models[i]; i++) {
		snprintf(text, sizeof(text),
			 "[server]\nmodel = %s\nprotocol = echo\ndelay = 1s\n"
			 "[http]\nbody = x\nmax_header_bytes = 1k\n"
			 "max_headers = 2\nmax_body_bytes = 0\n[resp]\n"
			 "max_bulk_bytes = 1\nmax_args = 1\n",
			 evd_models[i]->name);
		expect_warnings_n(text, none, 0);
	}
}

/* The new keys print as they read, sizes in the largest exact unit. */
static void test_print_new_keys(void **state)
{
	static const struct {
		const char *set;
		const char *line;
	} cases[] = {
		{ "server.delay=0", "\ndelay = 0ms\t; " },
		{ "server.delay=0s", "\ndelay = 0ms\t; " },
		{ "server.delay=60000ms", "\ndelay = 60s\t; " },
		{ "server.delay=1001ms", "\ndelay = 1001ms\t; " },
		{ "http.max_header_bytes=16384", "\nmax_header_bytes = 16k\t; " },
		{ "http.max_header_bytes=1025", "\nmax_header_bytes = 1025\t; " },
		{ "http.max_header_bytes=256", "\nmax_header_bytes = 256\t; " },
		{ "http.max_body_bytes=1073741824", "\nmax_body_bytes = 1024m\t; " },
		{ "http.max_body_bytes=2048k", "\nmax_body_bytes = 2m\t; " },
		{ "http.max_body_bytes=1536k", "\nmax_body_bytes = 1536k\t; " },
		{ "http.max_body_bytes=0", "\nmax_body_bytes = 0\t; " },
		{ "resp.max_bulk_bytes=15360", "\nmax_bulk_bytes = 15k\t; " },
		{ "resp.max_bulk_bytes=1", "\nmax_bulk_bytes = 1\t; " },
		{ "http.max_headers=0999", "\nmax_headers = 999\t; " },
		{ "resp.max_args=01024", "\nmax_args = 1024\t; " },
		{ "zmtp.max_frame=1048576", "\nmax_frame = 1m\t; " },
		{ "zmtp.max_frame=1073741824", "\nmax_frame = 1024m\t; " },
		{ "zmtp.max_frame=1025", "\nmax_frame = 1025\t; " },
		{ "zmtp.max_frames=065536", "\nmax_frames = 65536\t; " },
		{ "http.body=", "\nbody = \t; -o http.body=\n" },
		{ "http.body=a;b #c [d] =e", "\nbody = \"a;b #c [d] =e\"\t; " },
		{ "server.request_timeout=0", "\nrequest_timeout = 0ms\t; " },
		{ "server.request_timeout=3600000ms",
		  "\nrequest_timeout = 3600s\t; " },
		{ "server.request_timeout=1001ms",
		  "\nrequest_timeout = 1001ms\t; " },
		{ "server.drain_timeout=0s", "\ndrain_timeout = 0ms\t; " },
		{ "server.drain_timeout=120000ms", "\ndrain_timeout = 120s\t; " },
		{ "server.user=evd$", "\nuser = evd$\t; -o server.user=evd$\n" },
		{ "server.user=", "\nuser = \t; -o server.user=\n" },
		{ "control.group=_g-1", "\ngroup = _g-1\t; -o control.group=_g-1\n" },
		{ "control.group=", "\ngroup = \t; -o control.group=\n" },
	};
	struct config cfg;
	struct config_errors errs = { 0 };
	char out[4096];

	(void)state;
	config_defaults(&cfg);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		assert_int_equal(config_set(&cfg, cases[i].set, &errs), 0);
		print_to(&cfg, out, sizeof(out));
		if (!strstr(out, cases[i].line))
			fail_msg("%s: no \"%s\" in:\n%s", cases[i].set,
				 cases[i].line, out);
		round_trip(&cfg);
	}
	assert_int_equal(errs.n, 0);
	assert_int_equal(cfg.http_body_len, 13);
}

/* ---- [server] request_timeout, drain_timeout, user; [control] group ------ */

static uint64_t ms_at(const struct config *cfg, size_t offset)
{
	uint64_t v;

	memcpy(&v, (const char *)cfg + offset, sizeof(v));
	return v;
}

/* A [server] duration key with an upper bound of 3600s, at offset in struct
 * config: the values it takes, the errors, and that the other one of
 * request_timeout and drain_timeout (at other) keeps its 10s. */
static void check_hour_duration(const char *key, size_t offset, size_t other)
{
	static const char bad[] = "is not a duration (expected a number with a "
				  "unit, ms or s, such as 250ms or 60s)";
	static const char *const bads[] = { "5x", "5", "10", "-1", "-1s", "1m",
					    "1h", "1.5s", "ms", "s", "", "5 s",
					    "5S", "0x10s" };
	static const struct {
		const char *v;
		uint64_t ms;
	} ok[] = {
		{ "0", 0 }, { "0ms", 0 }, { "0s", 0 }, { "1ms", 1 },
		{ "250ms", 250 }, { "10s", 10000 }, { "0030s", 30000 },
		{ "3600s", 3600000 }, { "3600000ms", 3600000 },
	};
	struct config mine;
	char why[200];

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		expect_value_ok("server", key, ok[i].v, &mine);
		assert_int_equal(ms_at(&mine, offset), ok[i].ms);
		/* Nothing else moves. */
		assert_int_equal(ms_at(&mine, other), 10000);
		assert_int_equal(mine.idle_timeout_ms, 60000);
		assert_int_equal(mine.delay_ms, 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" %s", bads[i], bad);
		expect_value_error("server", key, bads[i], why);
	}
	expect_value_error("server", key, "3601s",
			   "3601s is out of range (at most 3600s)");
	expect_value_error("server", key, "3600001ms",
			   "3600001ms is out of range (at most 3600s)");
	expect_value_error("server", key, "99999999999999999999999s",
			   "99999999999999999999999s is out of range (at most "
			   "3600s)");
}

static void test_request_timeout(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.request_timeout_ms, 10000);
	check_hour_duration("request_timeout",
			    offsetof(struct config, request_timeout_ms),
			    offsetof(struct config, drain_timeout_ms));
	/* The exact messages of the brief's examples, from a file. */
	EXPECT_ERRORS("[server]\nrequest_timeout = 5x\n",
		      "2: request_timeout: \"5x\" is not a duration (expected a "
		      "number with a unit, ms or s, such as 250ms or 60s)");
	/* It belongs to [server]. */
	EXPECT_ERRORS("[http]\nrequest_timeout = 1s\n",
		      "2: unknown key \"request_timeout\" in [http] (expected "
		      "one of: " HTTP_KEYS ")");
}

static void test_drain_timeout(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	assert_int_equal(cfg.drain_timeout_ms, 10000);
	check_hour_duration("drain_timeout",
			    offsetof(struct config, drain_timeout_ms),
			    offsetof(struct config, request_timeout_ms));
	EXPECT_ERRORS("[server]\ndrain_timeout = -1\n",
		      "2: drain_timeout: \"-1\" is not a duration (expected a "
		      "number with a unit, ms or s, such as 250ms or 60s)");
	EXPECT_ERRORS("[control]\ndrain_timeout = 1s\n",
		      "2: unknown key \"drain_timeout\" in [control] (expected "
		      "one of: " CONTROL_KEYS ")");
}

/* A user or group name: [a-z_][a-z0-9_-]*[$]?, at most 32 bytes, or "". */
static void check_name_key(const char *section, const char *key,
			   const char *what, size_t offset)
{
	static const char *const oks[] = {
		"", "a", "_", "evd", "_evd", "www-data", "a1", "a_b-c9", "evd$",
		"_$", "a-", "systemd-network",
		"abcdefghijklmnopqrstuvwxyz012345",	/* 32 bytes */
	};
	static const char *const bads[] = {
		"1bad", "Bad", "EVD", "-x", "a b", "a.b", "a/b", "a:b", "$",
		"a$b", "a$$", "9", "0evd", "\xC3\xA9vd", "ev\xC3\xA9", "a\tb",
	};
	struct config cfg;
	char why[300], name[64];

	for (size_t i = 0; i < ARRAY_SIZE(oks); i++) {
		expect_value_ok(section, key, oks[i], &cfg);
		assert_string_equal((const char *)&cfg + offset, oks[i]);
	}
	assert_int_equal(strlen(oks[ARRAY_SIZE(oks) - 1]), 32);
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		snprintf(why, sizeof(why), "\"%s\" is not a valid %s name "
			 "(lower-case letters, digits, '_' and '-', not starting "
			 "with a digit or '-')", bads[i], what);
		expect_value_error(section, key, bads[i], why);
	}
	/* 33 bytes: too long, whatever its letters. */
	memset(name, 'a', sizeof(name));
	name[33] = '\0';
	snprintf(why, sizeof(why), "%s name is 33 bytes long (at most 32)", what);
	expect_value_error(section, key, name, why);
	name[0] = '1';
	expect_value_error(section, key, name, why);
	name[60] = '\0';
	memset(name, 'A', 60);
	snprintf(why, sizeof(why), "%s name is 60 bytes long (at most 32)", what);
	expect_value_error(section, key, name, why);
}

static void test_user(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64], want[256];

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.user, "");
	check_name_key("server", "user", "user", offsetof(struct config, user));
	/* The brief's examples, word for word. */
	EXPECT_ERRORS("[server]\nuser = 1bad\n",
		      "2: user: \"1bad\" is not a valid user name (lower-case "
		      "letters, digits, '_' and '-', not starting with a digit "
		      "or '-')");
	EXPECT_ERRORS("[server]\nuser = Bad\n",
		      "2: user: \"Bad\" is not a valid user name (lower-case "
		      "letters, digits, '_' and '-', not starting with a digit "
		      "or '-')");
	EXPECT_ERRORS("[server]\nuser = abcdefghijklmnopqrstuvwxyz0123456\n",
		      "2: user: user name is 33 bytes long (at most 32)");
	/* An inline comment is not part of the name; the other keys keep
	 * their defaults. */
	assert_int_equal(load("[server]\nuser = evd ; the service user\n", &cfg,
			      &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.user, "evd");
	assert_string_equal(cfg.control_group, "");
	/* Set twice: an error, the first value stays. */
	assert_int_equal(load("[server]\nuser = evd\nuser = root\n", &cfg, &errs,
			      path, sizeof(path)), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s:3: duplicate key \"user\" in [server] "
		 "(first set at %s:2); keep one", path, path);
	assert_string_equal(errs.msg[0], want);
	assert_string_equal(cfg.user, "evd");
	/* A failed -o leaves the earlier value. */
	memset(&errs, 0, sizeof(errs));
	assert_int_equal(config_set(&cfg, "server.user=-evd", &errs), -1);
	assert_string_equal(cfg.user, "evd");
	assert_int_equal(config_set(&cfg, "server.user=", &errs), 0);
	assert_string_equal(cfg.user, "");
	assert_int_equal(errs.n, 1);
}

static void test_control_group(void **state)
{
	struct config cfg;
	struct config_errors errs;
	char path[64];

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.control_group, "");
	check_name_key("control", "group", "group",
		       offsetof(struct config, control_group));
	EXPECT_ERRORS("[control]\ngroup = a b\n",
		      "2: group: \"a b\" is not a valid group name (lower-case "
		      "letters, digits, '_' and '-', not starting with a digit "
		      "or '-')");
	assert_int_equal(load("[control]\nmode = 0640\ngroup = adm\n", &cfg,
			      &errs, path, sizeof(path)), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(cfg.control_group, "adm");
	assert_int_equal(cfg.control_mode, 0640);
	assert_string_equal(cfg.control_socket, "/run/evd/evd.sock");
	assert_string_equal(cfg.user, "");
}

/* The four keys shape every model: never a warning, at any value. */
static void test_finish_quiet_on_service_keys(void **state)
{
	char text[300];
	const char *const none[] = { NULL };

	(void)state;
	for (size_t i = 0; evd_models[i]; i++) {
		snprintf(text, sizeof(text),
			 "[server]\nmodel = %s\nrequest_timeout = 0\n"
			 "drain_timeout = 3600s\nuser = nobody\n[control]\n"
			 "group = nogroup\n", evd_models[i]->name);
		expect_warnings_n(text, none, 0);
	}
}

/* ---- config_compare --------------------------------------------------- */

#define MASK(r) (1u << (r))

/* Compares a with b both ways: the same mask and names either way. */
static unsigned compare(const struct config *a, const struct config *b,
			char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX])
{
	char back[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];

	memset(names, 'Z', sizeof(back));
	unsigned mask = config_compare(a, b, names);
	memset(back, 'Z', sizeof(back));
	assert_int_equal(config_compare(b, a, back), mask);
	for (int r = 0; r < CONFIG_RELOAD_MAX; r++) {
		assert_string_equal(back[r], names[r]);
		/* A class is in the mask exactly when it names a key. */
		assert_int_equal(!!(mask & MASK(r)), names[r][0] != '\0');
	}
	assert_int_equal(mask & ~(MASK(CONFIG_RELOAD_MAX) - 1), 0);
	return mask;
}

/* Applies each "-o" in sets to a copy of the defaults and compares it with
 * the defaults: want is the mask, and the names of each class. */
static void expect_compare(const char *const *sets, size_t nsets,
			   unsigned want, const char *serving,
			   const char *live, const char *restart)
{
	struct config a, b;
	struct config_errors errs = { 0 };
	char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];

	config_defaults(&a);
	config_defaults(&b);
	for (size_t i = 0; i < nsets; i++)
		assert_int_equal(config_set(&b, sets[i], &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(compare(&a, &b, names), want);
	assert_string_equal(names[RELOAD_SERVING], serving);
	assert_string_equal(names[RELOAD_LIVE], live);
	assert_string_equal(names[RELOAD_RESTART], restart);
}

#define EXPECT_COMPARE(want, serving, live, restart, ...)                    \
	do {                                                                  \
		const char *const sets_[] = { __VA_ARGS__ };                  \
		expect_compare(sets_, ARRAY_SIZE(sets_), want, serving, live, \
			       restart);                                      \
	} while (0)

static void test_compare_examples(void **state)
{
	struct config a, b;
	struct config_errors errs = { 0 };
	char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX];

	(void)state;
	assert_int_equal(RELOAD_SERVING, 0);
	assert_int_equal(RELOAD_LIVE, 1);
	assert_int_equal(RELOAD_RESTART, 2);
	assert_int_equal(CONFIG_RELOAD_MAX, 3);

	/* Nothing changed: no class, every list empty. */
	config_defaults(&a);
	config_defaults(&b);
	assert_int_equal(compare(&a, &b, names), 0);
	for (int r = 0; r < CONFIG_RELOAD_MAX; r++)
		assert_string_equal(names[r], "");

	EXPECT_COMPARE(MASK(RELOAD_SERVING), "server.model", "", "",
		       "server.model=poll");
	EXPECT_COMPARE(MASK(RELOAD_LIVE), "", "log.level", "",
		       "log.level=debug");
	/* Listed in table order, whatever the order of the changes. */
	EXPECT_COMPARE(MASK(RELOAD_RESTART), "", "", "server.user, "
		       "control.socket", "control.socket=/tmp/x.sock",
		       "server.user=evd");
	EXPECT_COMPARE(MASK(RELOAD_SERVING) | MASK(RELOAD_LIVE) |
		       MASK(RELOAD_RESTART),
		       "server.workers, server.request_timeout, "
		       "server.drain_timeout, http.body",
		       "probes.syscalls, log.level",
		       "control.mode, control.group",
		       "log.level=error", "http.body=x", "control.group=adm",
		       "server.drain_timeout=0", "probes.syscalls=on",
		       "control.mode=0600", "server.request_timeout=1s",
		       "server.workers=2");

	/* Where a key was set is not part of its value; a value written
	 * another way but printed the same is no change. */
	EXPECT_COMPARE(0, "", "", "", "server.model=epoll", "log.level=info",
		       "server.idle_timeout=60000ms", "control.mode=660",
		       "server.request_timeout=10000ms",
		       "server.drain_timeout=0010s", "server.user=",
		       "control.group=", "http.max_body_bytes=1024k");

	/* A key changed back and forth is no change. */
	assert_int_equal(config_set(&b, "server.user=evd", &errs), 0);
	assert_int_equal(compare(&a, &b, names), MASK(RELOAD_RESTART));
	assert_string_equal(names[RELOAD_RESTART], "server.user");
	assert_int_equal(config_set(&b, "server.user=", &errs), 0);
	assert_int_equal(compare(&a, &b, names), 0);
	/* Two changed configurations: only the keys that differ. */
	config_defaults(&a);
	config_defaults(&b);
	assert_int_equal(config_set(&a, "server.model=poll", &errs), 0);
	assert_int_equal(config_set(&b, "server.model=poll", &errs), 0);
	assert_int_equal(config_set(&a, "control.group=adm", &errs), 0);
	assert_int_equal(config_set(&b, "control.group=staff", &errs), 0);
	assert_int_equal(config_set(&b, "server.backlog=7", &errs), 0);
	assert_int_equal(compare(&a, &b, names),
			 MASK(RELOAD_SERVING) | MASK(RELOAD_RESTART));
	assert_string_equal(names[RELOAD_SERVING], "server.backlog");
	assert_string_equal(names[RELOAD_LIVE], "");
	assert_string_equal(names[RELOAD_RESTART], "control.group");
	assert_int_equal(errs.n, 0);
}

/* The class of every key, in table order: a change here changes what a
 * SIGHUP does. */
static void test_compare_every_key(void **state)
{
	static const struct {
		int key;
		const char *set;
		const char *name;
		enum config_reload reload;
	} keys[] = {
		{ K_LISTEN, "server.listen=127.0.0.1:7778", "server.listen",
		  RELOAD_SERVING },
		{ K_PROTOCOL, "server.protocol=http", "server.protocol",
		  RELOAD_SERVING },
		{ K_MODEL, "server.model=poll", "server.model", RELOAD_SERVING },
		{ K_WORKERS, "server.workers=3", "server.workers",
		  RELOAD_SERVING },
		{ K_BACKLOG, "server.backlog=64", "server.backlog",
		  RELOAD_SERVING },
		{ K_MAX_CONNECTIONS, "server.max_connections=9",
		  "server.max_connections", RELOAD_SERVING },
		{ K_IDLE_TIMEOUT, "server.idle_timeout=5s", "server.idle_timeout",
		  RELOAD_SERVING },
		{ K_PIN_WORKERS, "server.pin_workers=yes", "server.pin_workers",
		  RELOAD_SERVING },
		{ K_DELAY, "server.delay=1ms", "server.delay", RELOAD_SERVING },
		{ K_REQUEST_TIMEOUT, "server.request_timeout=0",
		  "server.request_timeout", RELOAD_SERVING },
		{ K_DRAIN_TIMEOUT, "server.drain_timeout=1s",
		  "server.drain_timeout", RELOAD_SERVING },
		{ K_USER, "server.user=nobody", "server.user", RELOAD_RESTART },
		{ K_ACCEPT_LOCK, "prefork.accept_lock=mutex",
		  "prefork.accept_lock", RELOAD_SERVING },
		{ K_REUSEPORT, "prefork.reuseport=yes", "prefork.reuseport",
		  RELOAD_SERVING },
		{ K_BODY, "http.body=Bye", "http.body", RELOAD_SERVING },
		{ K_MAX_HEADER_BYTES, "http.max_header_bytes=1k",
		  "http.max_header_bytes", RELOAD_SERVING },
		{ K_MAX_HEADERS, "http.max_headers=5", "http.max_headers",
		  RELOAD_SERVING },
		{ K_MAX_BODY_BYTES, "http.max_body_bytes=0",
		  "http.max_body_bytes", RELOAD_SERVING },
		{ K_MAX_BULK_BYTES, "resp.max_bulk_bytes=1k",
		  "resp.max_bulk_bytes", RELOAD_SERVING },
		{ K_MAX_ARGS, "resp.max_args=2", "resp.max_args",
		  RELOAD_SERVING },
		{ K_MAX_FRAME, "zmtp.max_frame=4k", "zmtp.max_frame",
		  RELOAD_SERVING },
		{ K_MAX_FRAMES, "zmtp.max_frames=3", "zmtp.max_frames",
		  RELOAD_SERVING },
		{ K_SOCKET, "control.socket=/tmp/e.sock", "control.socket",
		  RELOAD_RESTART },
		{ K_MODE, "control.mode=0600", "control.mode", RELOAD_RESTART },
		{ K_GROUP, "control.group=adm", "control.group",
		  RELOAD_RESTART },
		{ K_SYSCALLS, "probes.syscalls=auto", "probes.syscalls",
		  RELOAD_LIVE },
		{ K_TIMING, "probes.timing=no", "probes.timing", RELOAD_LIVE },
		{ K_SAMPLE, "probes.sample=10%", "probes.sample", RELOAD_LIVE },
		{ K_PROFILE, "probes.profile=on", "probes.profile",
		  RELOAD_RESTART },
		{ K_LEVEL, "log.level=warning", "log.level", RELOAD_LIVE },
		{ K_METRICS_LISTEN, "metrics.listen=127.0.0.1:9477",
		  "metrics.listen", RELOAD_RESTART },
	};
	struct config a, b;
	struct config_errors errs = { 0 };
	char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX], want[CONFIG_RELOAD_MAX][512];
	char origin[128];
	size_t used[CONFIG_RELOAD_MAX] = { 0 };
	unsigned mask = 0;

	(void)state;
	assert_int_equal(ARRAY_SIZE(keys), NKEYS);
	config_defaults(&a);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		assert_int_equal(keys[i].key, (int)i);
		config_defaults(&b);
		assert_int_equal(config_set(&b, keys[i].set, &errs), 0);
		snprintf(origin, sizeof(origin), "-o %s", keys[i].set);
		assert_string_equal(b.origin[i], origin);	/* the right key */
		assert_int_equal(compare(&a, &b, names), MASK(keys[i].reload));
		for (int r = 0; r < CONFIG_RELOAD_MAX; r++)
			assert_string_equal(names[r], r == (int)keys[i].reload ?
					    keys[i].name : "");
	}
	assert_int_equal(errs.n, 0);

	/* All at once: each class lists its keys in table order, whole. */
	memset(want, 0, sizeof(want));
	config_defaults(&b);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		int r = keys[i].reload;
		assert_int_equal(config_set(&b, keys[i].set, &errs), 0);
		used[r] += (size_t)snprintf(want[r] + used[r],
					    sizeof(want[r]) - used[r], "%s%s",
					    used[r] ? ", " : "", keys[i].name);
		assert_true(used[r] < sizeof(want[r]));
		mask |= MASK(r);
	}
	assert_int_equal(compare(&a, &b, names), mask);
	assert_int_equal(mask, MASK(RELOAD_SERVING) | MASK(RELOAD_LIVE) |
			 MASK(RELOAD_RESTART));
	assert_string_equal(names[RELOAD_LIVE], "probes.syscalls, probes.timing, "
			    "probes.sample, log.level");
	assert_string_equal(names[RELOAD_RESTART], "server.user, "
			    "control.socket, control.mode, control.group, "
			    "probes.profile, metrics.listen");
	assert_string_equal(names[RELOAD_LIVE], want[RELOAD_LIVE]);
	assert_string_equal(names[RELOAD_RESTART], want[RELOAD_RESTART]);
	assert_true(strlen(want[RELOAD_SERVING]) > 255);
	assert_string_equal(names[RELOAD_SERVING], want[RELOAD_SERVING]);
}

/* ---- config_read ------------------------------------------------------ */

static void test_config_read(void **state)
{
	struct config cfg, dflt;
	struct config_errors errs, warn;
	char path[64], want[300];
	char o1[] = "server.model=poll", o2[] = "server.user=evd";
	char o3[] = "server.user=Evd", o4[] = "log.level=loud";
	char *const ok[] = { o1, o2 }, *const bad[] = { o3, o4 };

	(void)state;
	config_defaults(&dflt);

	/* An empty file, no overrides: the defaults, whatever cfg and the
	 * error lists held before. */
	write_tmp(path, sizeof(path), "", 0);
	memset(&cfg, 0xA5, sizeof(cfg));
	memset(&errs, 0xA5, sizeof(errs));
	memset(&warn, 0xA5, sizeof(warn));
	assert_int_equal(config_read(&cfg, path, NULL, 0, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(errs.dropped, 0);
	assert_int_equal(warn.n, 0);
	assert_int_equal(warn.dropped, 0);
	assert_config_equal(&cfg, &dflt);
	for (size_t i = 0; i < ARRAY_SIZE(cfg.origin); i++)
		assert_string_equal(cfg.origin[i], "");
	assert_int_equal(unlink(path), 0);

	/* The file, then the overrides over it, then the cross-key checks:
	 * workers = 4 warns with the file's epoll... */
	static const char text[] = "[server]\nworkers = 4\nuser = www-data\n"
				   "[control]\ngroup = adm\n";
	write_tmp(path, sizeof(path), text, sizeof(text) - 1);
	assert_int_equal(config_read(&cfg, path, NULL, 0, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warn.n, 1);
	snprintf(want, sizeof(want), "%s:2: workers = 4 is ignored: model epoll "
		 "serves from one thread", path);
	assert_string_equal(warn.msg[0], want);
	assert_string_equal(cfg.user, "www-data");
	assert_string_equal(cfg.control_group, "adm");
	snprintf(want, sizeof(want), "%s:3", path);
	assert_string_equal(cfg.origin[K_USER], want);
	/* ... and with -o server.model=poll too; -o server.user wins over
	 * the file. */
	assert_int_equal(config_read(&cfg, path, ok, 2, &errs, &warn), 0);
	assert_int_equal(errs.n, 0);
	assert_int_equal(warn.n, 1);
	assert_string_equal(cfg.model->name, "poll");
	assert_string_equal(cfg.user, "evd");
	assert_string_equal(cfg.origin[K_USER], "-o server.user=evd");
	assert_string_equal(cfg.control_group, "adm");
	assert_int_equal(cfg.workers, 4);
	/* A pool model: no warning. */
	char o5[] = "server.model=prethread";
	char *const pool[] = { o5 };
	assert_int_equal(config_read(&cfg, path, pool, 1, &errs, &warn), 0);
	assert_int_equal(warn.n, 0);
	assert_string_equal(cfg.user, "www-data");	/* defaults first */

	/* Errors of the file, then of the overrides, in order; no warnings
	 * once there is an error. */
	assert_int_equal(unlink(path), 0);
	static const char broken[] = "[server]\nworkers = 4\n"
				     "request_timeout = 5x\n[control]\n"
				     "group = a b\n";
	write_tmp(path, sizeof(path), broken, sizeof(broken) - 1);
	assert_int_equal(config_read(&cfg, path, bad, 2, &errs, &warn), -1);
	assert_int_equal(errs.n, 4);
	assert_int_equal(warn.n, 0);
	snprintf(want, sizeof(want), "%s:3: request_timeout: \"5x\" is not a "
		 "duration (expected a number with a unit, ms or s, such as "
		 "250ms or 60s)", path);
	assert_string_equal(errs.msg[0], want);
	snprintf(want, sizeof(want), "%s:5: group: \"a b\" is not a valid group "
		 "name (lower-case letters, digits, '_' and '-', not starting "
		 "with a digit or '-')", path);
	assert_string_equal(errs.msg[1], want);
	assert_string_equal(errs.msg[2], "-o server.user=Evd: user: \"Evd\" is "
			    "not a valid user name (lower-case letters, digits, "
			    "'_' and '-', not starting with a digit or '-')");
	assert_string_equal(errs.msg[3], "-o log.level=loud: level: unknown "
			    "level \"loud\" (expected one of: error, warning, "
			    "info, debug)");
	/* Errors only in the overrides fail too. */
	assert_int_equal(unlink(path), 0);
	write_tmp(path, sizeof(path), text, sizeof(text) - 1);
	assert_int_equal(config_read(&cfg, path, bad, 1, &errs, &warn), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(warn.n, 0);
	assert_int_equal(unlink(path), 0);

	/* A missing file. */
	assert_int_equal(config_read(&cfg, path, ok, 2, &errs, &warn), -1);
	assert_int_equal(errs.n, 1);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or "
		 "directory", path);
	assert_string_equal(errs.msg[0], want);
}

/* ---- shared parsers -------------------------------------------------------- */

/* Parses a heap copy, so that any read outside the string is caught. */
static int uint_of(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		   char *why, size_t whylen)
{
	char *copy = strdup(s);

	assert_non_null(copy);
	int rc = parse_uint(copy, min, max, out, why, whylen);
	free(copy);
	return rc;
}

static void test_parse_uint(void **state)
{
	static const struct {
		const char *s;
		const char *why;
	} bad[] = {
		{ "", "\"\" is not a whole number (expected 0..18446744073709551615)" },
		{ " 1", "\" 1\" is not a whole number (expected 0..18446744073709551615)" },
		{ "1 ", "\"1 \" is not a whole number (expected 0..18446744073709551615)" },
		{ "+1", "\"+1\" is not a whole number (expected 0..18446744073709551615)" },
		{ "0x10", "\"0x10\" is not a whole number (expected 0..18446744073709551615)" },
		{ "18446744073709551616",
		  "18446744073709551616 is out of range (expected "
		  "0..18446744073709551615)" },
		{ "99999999999999999999999",
		  "99999999999999999999999 is out of range (expected "
		  "0..18446744073709551615)" },
	};
	uint64_t v;
	char why[256];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 12345;
		why[0] = '\0';
		assert_int_equal(uint_of(bad[i].s, 0, UINT64_MAX, &v, why,
					 sizeof(why)), -1);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(v, 12345);	/* untouched on failure */
	}
	assert_int_equal(uint_of("18446744073709551615", 0, UINT64_MAX, &v, why,
				 sizeof(why)), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(uint_of("0", 0, 5, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(uint_of("007", 0, 7, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 7);
	assert_int_equal(uint_of("8", 0, 7, &v, why, sizeof(why)), -1);
	assert_string_equal(why, "8 is out of range (expected 0..7)");
	assert_int_equal(uint_of("2", 3, 7, &v, why, sizeof(why)), -1);
	assert_string_equal(why, "2 is out of range (expected 3..7)");
	/* A garbage suffix after an overflowing number. */
	assert_int_equal(uint_of("99999999999999999999999x", 0, 7, &v, why,
				 sizeof(why)), -1);
	assert_string_equal(why, "\"99999999999999999999999x\" is not a whole "
			    "number (expected 0..7)");
	/* why is bounded by whylen. */
	char small[8];
	assert_int_equal(uint_of("x", 0, 7, &v, small, sizeof(small)), -1);
	assert_string_equal(small, "\"x\" is ");
}

static void test_parse_duration(void **state)
{
	uint64_t v;
	char why[256];

	(void)state;
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{ "0", 0 }, { "0ms", 0 }, { "0s", 0 }, { "1ms", 1 }, { "1s", 1000 },
		{ "007s", 7000 }, { "86400s", 86400000 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		v = 1;
		assert_int_equal(parse_duration_ms(ok[i].s, 86400000, &v, why,
						   sizeof(why)), 0);
		assert_int_equal(v, ok[i].ms);
	}
	static const char *const bad[] = { "", "ms", "s", "5", "5m", "5 s", "5S",
					   "5sec", "5msx", " 5s", "-5s", "1.5s" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[256];
		v = 1;
		assert_int_equal(parse_duration_ms(bad[i], 86400000, &v, why,
						   sizeof(why)), -1);
		snprintf(want, sizeof(want), "\"%s\" is not a duration (expected a "
			 "number with a unit, ms or s, such as 250ms or 60s)",
			 bad[i]);
		assert_string_equal(why, want);
		assert_int_equal(v, 1);
	}
	assert_int_equal(parse_duration_ms("99999999999999999999999s", 86400000,
					   &v, why, sizeof(why)), -1);
	assert_string_equal(why, "99999999999999999999999s is out of range "
			    "(at most 86400s)");
	/* Not a duration, however large the number before the junk. */
	assert_int_equal(parse_duration_ms("99999999999999999999999x", 86400000,
					   &v, why, sizeof(why)), -1);
	assert_string_equal(why, "\"99999999999999999999999x\" is not a duration "
			    "(expected a number with a unit, ms or s, such as "
			    "250ms or 60s)");
	assert_int_equal(parse_duration_ms("99999999999999999999999", 86400000,
					   &v, why, sizeof(why)), -1);
	assert_string_equal(why, "\"99999999999999999999999\" is not a duration "
			    "(expected a number with a unit, ms or s, such as "
			    "250ms or 60s)");
	/* v * 1000 would overflow 64 bits. */
	assert_int_equal(parse_duration_ms("18446744073709551615s", UINT64_MAX,
					   &v, why, sizeof(why)), -1);
	assert_string_equal(why, "18446744073709551615s is out of range (at most "
			    "18446744073709551s)");
	assert_int_equal(parse_duration_ms("18446744073709551615ms", UINT64_MAX,
					   &v, why, sizeof(why)), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_duration_ms("18446744073709551s", UINT64_MAX, &v,
					   why, sizeof(why)), 0);
	assert_true(v == 18446744073709551000ull);
}

static void test_parse_size(void **state)
{
	uint64_t v;
	char why[256];

	(void)state;
	static const struct {
		const char *s;
		uint64_t n;
	} ok[] = {
		{ "0", 0 }, { "1", 1 }, { "64k", 65536 }, { "64K", 65536 },
		{ "1m", 1048576 }, { "3M", 3145728 }, { "0k", 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(parse_size(ok[i].s, UINT64_MAX, &v, why,
					    sizeof(why)), 0);
		assert_int_equal(v, ok[i].n);
	}
	static const char *const bad[] = { "", "k", "1kb", "1g", "1 k", "-1",
					   "1.5k", "kk" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char want[256];
		assert_int_equal(parse_size(bad[i], UINT64_MAX, &v, why,
					    sizeof(why)), -1);
		snprintf(want, sizeof(want), "\"%s\" is not a size (expected "
			 "bytes, or a number with k or m, such as 64k)", bad[i]);
		assert_string_equal(why, want);
	}
	assert_int_equal(parse_size("1025", 1024, &v, why, sizeof(why)), -1);
	assert_string_equal(why, "1025 is out of range (at most 1024 bytes)");
	assert_int_equal(parse_size("2k", 2047, &v, why, sizeof(why)), -1);
	assert_string_equal(why, "2k is out of range (at most 2047 bytes)");
	assert_int_equal(parse_size("2k", 2048, &v, why, sizeof(why)), 0);
	assert_int_equal(v, 2048);
	assert_int_equal(parse_size("99999999999999999999999", UINT64_MAX, &v,
				    why, sizeof(why)), -1);
	assert_string_equal(why, "99999999999999999999999 is out of range (at "
			    "most 18446744073709551615 bytes)");
	assert_int_equal(parse_size("99999999999999999999999kb", UINT64_MAX, &v,
				    why, sizeof(why)), -1);
	assert_string_equal(why, "\"99999999999999999999999kb\" is not a size "
			    "(expected bytes, or a number with k or m, such as "
			    "64k)");
	/* 2^54 * 1024 = 2^64 would wrap to 0. */
	assert_int_equal(parse_size("18014398509481984k", UINT64_MAX, &v, why,
				    sizeof(why)), -1);
	assert_string_equal(why, "18014398509481984k is out of range (at most "
			    "18446744073709551615 bytes)");
	assert_int_equal(parse_size("17592186044415m", UINT64_MAX, &v, why,
				    sizeof(why)), 0);
	assert_true(v == 17592186044415ull << 20);
}

static void test_parse_listen_one(void **state)
{
	struct listen_addr la;
	char why[256];
	struct in6_addr any6 = IN6ADDR_ANY_INIT;

	(void)state;
	assert_int_equal(parse_listen_one("*:0", &la, why, sizeof(why)), 0);
	assert_int_equal(la.ss.ss_family, AF_INET);
	assert_int_equal(la.len, sizeof(struct sockaddr_in));
	assert_int_equal(sin4(&la)->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_int_equal(listen_addr_port(&la), 0);
	assert_string_equal(la.text, "*:0");

	assert_int_equal(parse_listen_one("10.1.2.3:65535", &la, why,
					  sizeof(why)), 0);
	assert_int_equal(ntohl(sin4(&la)->sin_addr.s_addr), 0x0A010203);
	assert_int_equal(listen_addr_port(&la), 65535);

	assert_int_equal(parse_listen_one("[::]:80", &la, why, sizeof(why)), 0);
	assert_int_equal(la.ss.ss_family, AF_INET6);
	assert_int_equal(la.len, sizeof(struct sockaddr_in6));
	assert_memory_equal(&sin6(&la)->sin6_addr, &any6, sizeof(any6));
	assert_int_equal(listen_addr_port(&la), 80);
	assert_string_equal(la.text, "[::]:80");

	/* The longest numeric IPv6 address. */
	static const char longest[] =
		"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535";
	assert_int_equal(parse_listen_one(longest, &la, why, sizeof(why)), 0);
	assert_string_equal(la.text, longest);

	/* Leading zeros in the port: the text stays whole and valid. */
	assert_int_equal(parse_listen_one("[ffff:ffff:ffff:ffff:ffff:ffff:255.255."
					  "255.255]:00000000000000000065535",
					  &la, why, sizeof(why)), 0);
	assert_string_equal(la.text, longest);
	assert_int_equal(listen_addr_port(&la), 65535);
	assert_int_equal(parse_listen_one("127.0.0.1:07777", &la, why,
					  sizeof(why)), 0);
	assert_string_equal(la.text, "127.0.0.1:7777");

	static const struct {
		const char *s;
		const char *why;
	} bad[] = {
		{ "[::1]", "\"[::1]\" is not an address (expected HOST:PORT such as "
			   "127.0.0.1:7777, *:7777 or [::1]:7777)" },
		{ "[]:1", "\"[]:1\" is not an address (expected HOST:PORT such as "
			  "127.0.0.1:7777, *:7777 or [::1]:7777)" },
		{ "[::1:1", "\"[::1:1\" is not an address (expected HOST:PORT such as "
			    "127.0.0.1:7777, *:7777 or [::1]:7777)" },
		{ "[::1]:", "port of \"[::1]:\": \"\" is not a whole number "
			    "(expected 0..65535)" },
		{ "[127.0.0.1]:1", "\"127.0.0.1\" is not a numeric IPv6 address" },
		{ "1.2.3:1", "\"1.2.3\" is not a numeric IPv4 address (write IPv6 "
			     "as [::1]:7777)" },
		{ "1.2.3.4:-1", "port of \"1.2.3.4:-1\": \"-1\" is not a whole "
				"number (expected 0..65535)" },
		{ "1.2.3.4:99999999999999999999999",
		  "port of \"1.2.3.4:99999999999999999999999\": "
		  "99999999999999999999999 is out of range (expected 0..65535)" },
		{ "[::1]:99999999999999999999999",
		  "port of \"[::1]:99999999999999999999999\": "
		  "99999999999999999999999 is out of range (expected 0..65535)" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char *copy = strdup(bad[i].s);
		assert_non_null(copy);
		int rc = parse_listen_one(copy, &la, why, sizeof(why));
		free(copy);
		assert_int_equal(rc, -1);
		assert_string_equal(why, bad[i].why);
	}
	/* A host of 64 characters or more is not an address. */
	char host[100];
	memset(host, '1', sizeof(host));
	snprintf(host + 70, sizeof(host) - 70, ":1");
	assert_int_equal(parse_listen_one(host, &la, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "is not an address (expected HOST:PORT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_workers_resolved),
		cmocka_unit_test(test_load_every_key),
		cmocka_unit_test(test_load_empty_file),
		cmocka_unit_test(test_load_whitespace_comments_bom),
		cmocka_unit_test(test_load_bom_before_section),
		cmocka_unit_test(test_load_indent_is_not_continuation),
		cmocka_unit_test(test_load_line_longest),
		cmocka_unit_test(test_err_unknown_section),
		cmocka_unit_test(test_err_malformed_section),
		cmocka_unit_test(test_err_unknown_key),
		cmocka_unit_test(test_err_duplicate_key),
		cmocka_unit_test(test_err_key_outside_section),
		cmocka_unit_test(test_err_line_syntax),
		cmocka_unit_test(test_err_line_too_long),
		cmocka_unit_test(test_err_nul_byte),
		cmocka_unit_test(test_err_cannot_open),
		cmocka_unit_test(test_err_not_regular),
		cmocka_unit_test(test_err_file_too_large),
		cmocka_unit_test(test_err_many_in_one_file),
		cmocka_unit_test(test_err_too_many),
		cmocka_unit_test(test_err_long_path),
		cmocka_unit_test(test_listen_errors),
		cmocka_unit_test(test_listen_ok),
		cmocka_unit_test(test_protocol_and_model_errors),
		cmocka_unit_test(test_models_ok),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_backlog_and_max_connections),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_control_socket),
		cmocka_unit_test(test_control_mode),
		cmocka_unit_test(test_log_level),
		cmocka_unit_test(test_pin_workers),
		cmocka_unit_test(test_accept_lock),
		cmocka_unit_test(test_reuseport),
		cmocka_unit_test(test_prefork_section),
		cmocka_unit_test(test_err_keeps_good_keys),
		cmocka_unit_test(test_set_valid),
		cmocka_unit_test(test_set_malformed),
		cmocka_unit_test(test_set_unknown_section_and_key),
		cmocka_unit_test(test_set_too_long),
		cmocka_unit_test(test_finish_warns_on_workers),
		cmocka_unit_test(test_finish_quiet),
		cmocka_unit_test(test_models_shaped_by_keys),
		cmocka_unit_test(test_finish_warns_on_unused_keys),
		cmocka_unit_test(test_finish_warns_in_order),
		cmocka_unit_test(test_finish_lock_with_reuseport),
		cmocka_unit_test(test_print_defaults),
		cmocka_unit_test(test_probes_syscalls),
		cmocka_unit_test(test_probes_sample),
		cmocka_unit_test(test_probes_profile),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_print_round_trip_quoted),
		cmocka_unit_test(test_delay),
		cmocka_unit_test(test_http_body),
		cmocka_unit_test(test_quoted_errors),
		cmocka_unit_test(test_http_max_header_bytes),
		cmocka_unit_test(test_http_max_headers),
		cmocka_unit_test(test_http_max_body_bytes),
		cmocka_unit_test(test_resp_max_bulk_bytes),
		cmocka_unit_test(test_resp_max_args),
		cmocka_unit_test(test_zmtp_max_frame),
		cmocka_unit_test(test_zmtp_max_frames),
		cmocka_unit_test(test_zmtp_section),
		cmocka_unit_test(test_http_resp_sections),
		cmocka_unit_test(test_protocols_ok),
		cmocka_unit_test(test_set_new_keys),
		cmocka_unit_test(test_finish_quiet_on_proto_keys),
		cmocka_unit_test(test_print_new_keys),
		cmocka_unit_test(test_request_timeout),
		cmocka_unit_test(test_drain_timeout),
		cmocka_unit_test(test_user),
		cmocka_unit_test(test_control_group),
		cmocka_unit_test(test_finish_quiet_on_service_keys),
		cmocka_unit_test(test_metrics_listen),
		cmocka_unit_test(test_config_keep_restart),
		cmocka_unit_test(test_compare_examples),
		cmocka_unit_test(test_compare_every_key),
		cmocka_unit_test(test_config_read),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_listen_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
