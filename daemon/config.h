/* /etc/evd.ini, read by config_file.c into one struct.  Every key is listed once
 * in config.c's table with its default, its parser and its printer, so that
 * defaults, validation and `evd -t` cannot drift apart. */
#ifndef EVD_CONFIG_H
#define EVD_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "log.h"

#define CONFIG_MAX_LISTEN 16
#define CONFIG_MAX_ERRORS 64
/* Characters in a line, once trimmed: room for every value as evd -t
 * prints it, quoted (a 16-address listen, a body of CONFIG_BODY_MAX). */
#define CONFIG_MAX_LINE 1023
#define CONFIG_BODY_MAX 255	/* bytes of [http] body */
#define CONFIG_FILE_MAX (1024 * 1024)	/* bytes in a configuration file */
#define CONFIG_MAX_KEYS 48	/* room in struct config for the keys */
#define CONFIG_SOCKET_PATH_MAX 107	/* sizeof(sun_path) - 1 */
/* A connection's input buffer (conn.h checks it): what must hold one whole
 * HTTP head or RESP command. */
#define CONFIG_IN_BUFFER 16384

struct evd_model;
struct evd_proto;

/* How prefork workers take turns at accept(). */
enum accept_lock {
	ACCEPT_LOCK_NONE,	/* all block in accept(); the kernel picks one */
	ACCEPT_LOCK_FCNTL,	/* fcntl(F_SETLKW) on a lock file (seed 001) */
	ACCEPT_LOCK_FLOCK,	/* flock(LOCK_EX) on a lock file */
	ACCEPT_LOCK_MUTEX,	/* a robust process-shared pthread mutex */
	ACCEPT_LOCK_MAX
};

extern const char *const accept_lock_names[ACCEPT_LOCK_MAX];

/* [probes] syscalls: whether the eBPF syscall probes count evd's calls. */
enum probes_mode {
	PROBES_OFF,	/* not loaded at start; `evctl syscalls on` loads them */
	PROBES_ON,	/* loaded and attached at start, or evd does not start */
	PROBES_AUTO,	/* as on when they load; a warning and none otherwise */
	PROBES_MODE_MAX
};

extern const char *const probes_mode_names[PROBES_MODE_MAX];

/* [probes] profile: the stack profiler loads at start (off is 0). */
enum probes_profile {
	PROFILE_OFF,
	PROFILE_ON,
	PROFILE_MAX
};
extern const char *const probes_profile_names[PROFILE_MAX];

/* How a reload (SIGHUP) applies a changed key. */
enum config_reload {
	RELOAD_SERVING,	/* restart the serving side; listeners stay open */
	RELOAD_LIVE,	/* applied at once */
	RELOAD_RESTART,	/* only a restart of evd applies it */
	CONFIG_RELOAD_MAX
};

struct listen_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64];	/* "127.0.0.1:7777" or "[::1]:7777" */
};

struct config {
	/* [server] */
	struct listen_addr listen[CONFIG_MAX_LISTEN];
	unsigned nlisten;
	const struct evd_proto *proto;
	const struct evd_model *model;
	unsigned workers;		/* 0 = auto */
	unsigned backlog;
	unsigned max_connections;
	uint64_t idle_timeout_ms;	/* 0 = never */
	bool pin_workers;		/* one CPU per worker */
	uint64_t delay_ms;		/* every reply is due this much later */
	uint64_t request_timeout_ms;	/* a started request must be whole by
					 * then (slowloris); 0 = never */
	uint64_t drain_timeout_ms;	/* SIGTERM/reload: in-flight requests
					 * get this long, then connections close */
	char user[33];			/* drop to this user after start; "" = stay */
	/* [prefork] */
	enum accept_lock accept_lock;
	bool reuseport;
	/* [http] */
	char http_body[CONFIG_BODY_MAX + 1];
	size_t http_body_len;
	unsigned http_max_header_bytes;	/* request line and headers */
	unsigned http_max_headers;
	uint64_t http_max_body_bytes;
	/* [resp] */
	unsigned resp_max_bulk_bytes;
	unsigned resp_max_args;
	/* [zmtp] */
	uint64_t zmtp_max_frame;	/* bytes in one message frame */
	unsigned zmtp_max_frames;	/* frames in one message */
	/* [control] */
	char control_socket[CONFIG_SOCKET_PATH_MAX + 1];
	unsigned control_mode;
	char control_group[33];		/* group of the socket; "" = evd's own */
	/* [probes] */
	enum probes_mode probes_syscalls;
	bool probes_timing;		/* time each call, or count only */
	unsigned probes_sample;		/* % of each second attached (1..100) */
	enum probes_profile probes_profile; /* loads at start */
	/* [log] */
	enum log_level log_level;
	/* [metrics] */
	struct listen_addr metrics_listen;	/* len 0: off */

	/* Where each key was last set ("" = default), for messages. */
	char origin[CONFIG_MAX_KEYS][256];
};

struct config_errors {
	unsigned n;
	unsigned dropped;	/* errors beyond CONFIG_MAX_ERRORS */
	char msg[CONFIG_MAX_ERRORS][640];
};

/* Fills cfg with every default. */
void config_defaults(struct config *cfg);

/*
 * Parses path over the defaults in cfg.  Returns 0 when the file is valid,
 * -1 when errs holds at least one "path:line: what is wrong" message.
 */
int config_load(struct config *cfg, const char *path, struct config_errors *errs);

/*
 * Applies one "section.key=value" override (evd -o).  Returns 0 or -1 with
 * an error appended to errs.
 */
int config_set(struct config *cfg, const char *assignment,
	       struct config_errors *errs);

/* Cross-key checks and warnings once everything is read; 0 or -1. */
int config_finish(struct config *cfg, struct config_errors *errs,
		  struct config_errors *warnings);

/* All of the above: defaults, the file, the -o overrides, the cross-key
 * checks.  Returns 0, or -1 when errs holds at least one error. */
int config_read(struct config *cfg, const char *path, char *const *overrides,
		int noverrides, struct config_errors *errs,
		struct config_errors *warnings);

/* What `evd -t` checks beyond the file: that [server] user and [control]
 * group name an existing user and group (evd itself finds out only as it
 * starts).  0, or -1 with the errors added. */
int config_check_names(const struct config *cfg, struct config_errors *errs);

/* evd --list-keys: each key as "section.key default help", one a line,
 * in the order evd -t prints them (an empty default as ""). */
void config_list_keys(FILE *out);

/* Writes the effective configuration as a valid ini file. */
void config_print(const struct config *cfg, FILE *out);

/* Copies into next the value in cur of every key that class r applies
 * (RELOAD_RESTART: what a reload keeps running until evd restarts), from
 * the key table: no list to forget a key in. */
void config_keep(struct config *next, const struct config *cur,
		 enum config_reload r);

/*
 * Compares two configurations key by key.  Returns a mask of
 * 1 << enum config_reload for the classes with a changed key, and lists
 * the changed keys ("server.model, server.workers") of each class.
 */
#define CONFIG_NAMES_MAX 640	/* every key's "section.name", comma-separated */
unsigned config_compare(const struct config *a, const struct config *b,
			char names[CONFIG_RELOAD_MAX][CONFIG_NAMES_MAX]);

/* Number of workers the model will run ("auto" resolved). */
unsigned config_workers(const struct config *cfg);

/* Parsers shared with the tests; each returns 0 or -1 with why filled in. */
int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out,
		      char *why, size_t whylen);
int parse_size(const char *s, uint64_t max, uint64_t *out, char *why,
	       size_t whylen);
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	       char *why, size_t whylen);
unsigned listen_addr_port(const struct listen_addr *la);
int parse_listen_one(const char *s, struct listen_addr *la, char *why,
		     size_t whylen);

#endif
