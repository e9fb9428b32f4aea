/* Logging to stderr, one write(2) per line so that lines from threads and
 * processes never interleave.  Under systemd (JOURNAL_STREAM set) each line
 * starts with a <N> syslog priority prefix that journald turns into the
 * record's priority; in a terminal lines read "evd[PID]: level: message". */
#ifndef EVD_LOG_H
#define EVD_LOG_H

#include <stdbool.h>

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_MAX
};

extern const char *const log_level_names[LOG_LEVEL_MAX];

void log_init(const char *ident);
void log_set_level(enum log_level level);
/* Whether stderr is systemd's journal stream (lines take "<N>" prefixes). */
bool log_to_journal(void);
enum log_level log_get_level(void);

/* The x variants log the message alone; the others append strerror(errno). */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
