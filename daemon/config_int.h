/* Shared by config.c (the keys), config_values.c (the types of values) and
 * config_file.c (the file's syntax): nothing else includes it. */
#ifndef EVD_CONFIG_INT_H
#define EVD_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

/* ---- a key is a row: config.c's keys[] ------------------------------------- */

typedef int key_parse_fn(struct config *cfg, const char *v, char *why,
			 size_t whylen);
typedef void key_print_fn(const struct config *cfg, FILE *out);

/* What a value is; one parser and one printer each (config_values.c). */
enum key_type {
	KT_UINT,	/* a whole number, min..max: unsigned or uint64_t */
	KT_SIZE,	/* bytes, with k or m, min..max; printed 8k, 1m */
	KT_DURATION,	/* milliseconds, with ms or s, up to max: uint64_t */
	KT_BOOL,	/* yes or no: bool */
	KT_ENUM,	/* one of names[]: an int-sized enum, names[i] is i */
	KT_NAME,	/* a user or group name (useradd's rules): char[] */
	KT_SOCKET,	/* a unix socket's path, not empty: char[] */
	KT_TEXT,	/* any bytes up to max: char[], its length at aux */
	KT_MODE,	/* an octal file mode, 0..0777: unsigned */
	KT_CUSTOM,	/* parse() and print() of its own */
	KT_MAX
};

struct key {
	const char *section;
	const char *name;
	const char *dflt;		/* parsed by config_defaults() */
	enum key_type type;
	size_t off, size;		/* the field in struct config */
	uint64_t min, max;
	const char *const *names;	/* KT_ENUM: value i's name */
	unsigned nnames;
	const char *what;		/* KT_ENUM, KT_NAME, KT_SOCKET: the noun
					 * of its messages ("level", "user") */
	size_t aux;			/* KT_TEXT: offset of its size_t length */
	key_parse_fn *parse;		/* KT_CUSTOM */
	key_print_fn *print;
	unsigned needs;		/* model flags without which it is ignored */
	enum config_reload reload;	/* how SIGHUP applies a change */
	const char *help;		/* one line for people */
};

/* config_values.c: the value of key k.  parse returns 0, or -1 with why
 * filled in (cfg untouched); print writes what parse reads back. */
int config_value_parse(const struct key *k, struct config *cfg, const char *v,
		       char *why, size_t whylen);
void config_value_print(const struct key *k, const struct config *cfg,
			FILE *out);
/* Fills why; returns -1. */
int config_why(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "a, b, c": n names in order, into out. */
void config_names_list(const char *const *names, unsigned n, char *out,
		       size_t len);

/* ---- config_file.c ---------------------------------------------------------- */

/* Parses len bytes at text (writable, with a byte after them for a NUL) as
 * a configuration file named name in messages, over cfg.  Returns 0, or -1
 * with the errors added to errs.  config_load() reads a file into it; the
 * fuzzer feeds it directly. */
int config_parse_text(struct config *cfg, const char *name, char *text,
		      size_t len, struct config_errors *errs);

/* ---- config.c -------------------------------------------------------------- */

/* Checks every row of the key table (field sizes for its type, names, bounds,
 * help, a default its parser takes, no key twice, a section's keys
 * together).  Returns 0, or -1 with the first problem in why.  For the unit
 * tests: a new row is checked before it is used. */
int config_table_check(char *why, size_t whylen);

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
