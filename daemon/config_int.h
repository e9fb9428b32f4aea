/* Shared by config.c (the keys) and config_file.c (the file's syntax):
 * nothing else includes it. */
#ifndef EVD_CONFIG_INT_H
#define EVD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

/* Appends one message to errs (NULL: nothing); beyond CONFIG_MAX_ERRORS
 * only counts it. */
void config_err_add(struct config_errors *errs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

bool config_section_known(const char *name);
/* "[server], [prefork], ..." into out. */
void config_section_list(char *out, size_t len);

/*
 * Sets section.name = value.  where is "file:line" or "-o ..." for
 * messages; seen (CONFIG_MAX_KEYS entries, or NULL) catches a key set
 * twice.  Returns 0, or -1 with the error added to errs.
 */
int config_apply(struct config *cfg, const char *section, const char *name,
		 const char *value, const char *where, bool *seen,
		 struct config_errors *errs);

/* v as evd -t prints it: as is, or quoted ("...", with \\" \\\\ \\n) when
 * it would not read back as itself.  Writes at most len bytes with the NUL;
 * returns the length it needs, as snprintf(). */
size_t config_quote(const char *v, char *out, size_t len);

#endif
