/* Reading evd.ini: the file's bytes (bounded: a regular file of at most
 * CONFIG_FILE_MAX bytes), its lines (at most CONFIG_MAX_LINE characters
 * once trimmed), their syntax ([section], key = value, comments); every
 * key = value goes to config_apply().  Also the -o SECTION.KEY=VALUE
 * overrides.  Every problem becomes a "file:line: what is wrong" message
 * and reading goes on, so that one run reports them all. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "config_int.h"

struct reader {
	const char *path;
	int lineno;
	bool section_ok;	/* false inside an unknown or broken section */
	char section[64];	/* "" before the first header */
	bool seen[CONFIG_MAX_KEYS];
	struct config *cfg;
	struct config_errors *errs;
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

/* ---- the file's bytes -------------------------------------------------- */

static const char *file_kind(mode_t mode)
{
	return S_ISDIR(mode) ? "a directory" :
	       S_ISCHR(mode) ? "a character device" :
	       S_ISBLK(mode) ? "a block device" :
	       S_ISFIFO(mode) ? "a FIFO" :
	       S_ISSOCK(mode) ? "a socket" : "not a regular file";
}

/* Reads all of fd (size bytes at fstat time) into a new NUL-terminated
 * buffer.  Returns its length, -EFBIG past CONFIG_FILE_MAX (the file grew),
 * or another -errno. */
static ssize_t read_all(int fd, size_t size, char **out)
{
	size_t cap = size + 1 > 4096 ? size + 1 : 4096, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		if (len + 1 == cap) {
			size_t want = cap * 2 > CONFIG_FILE_MAX + 2 ?
					      CONFIG_FILE_MAX + 2 : cap * 2;
			char *p = want > cap ? realloc(buf, want) : NULL;
			if (!p) {
				free(buf);
				return want > cap ? -ENOMEM : -EFBIG;
			}
			buf = p;
			cap = want;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_FILE_MAX) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = '\0';
	*out = buf;
	return (ssize_t)len;
}

/* Opens and reads path: a regular file of at most CONFIG_FILE_MAX bytes
 * (or /dev/null, which reads as an empty one: `evd -t -c /dev/null` shows
 * the defaults).
 * Returns its length with the bytes in *out (to free), or -1 with the
 * reason added to errs. */
static ssize_t load_file(const char *path, char **out,
			 struct config_errors *errs)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	ssize_t n;

	if (fd < 0) {
		config_err_add(errs, "%s: cannot open: %s", path,
			       strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		n = -errno;
	} else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3)) {
		n = read_all(fd, 0, out);	/* /dev/null: an empty file */
	} else if (!S_ISREG(st.st_mode)) {
		config_err_add(errs, "%s: cannot read: it is %s, not a regular "
			       "file", path, file_kind(st.st_mode));
		close(fd);
		return -1;
	} else if (st.st_size > CONFIG_FILE_MAX) {
		n = -EFBIG;
	} else {
		n = read_all(fd, (size_t)st.st_size, out);
	}
	close(fd);
	if (n == -EFBIG)
		config_err_add(errs, "%s: cannot read: the file is larger than "
			       "%d bytes (1 MiB), the most a configuration may "
			       "hold", path, CONFIG_FILE_MAX);
	else if (n < 0)
		config_err_add(errs, "%s: read error: %s", path,
			       strerror((int)-n));
	return n < 0 ? -1 : n;
}

/* ---- values: plain or quoted ------------------------------------------- */

/* The end of a plain value: a ';' after a blank starts a comment. */
static char *value_end(char *v)
{
	for (char *p = v; *p; p++)
		if (*p == ';' && p > v && is_blank(p[-1]))
			return p;
	return v + strlen(v);
}

/*
 * A quoted value at v ('"' first), decoded in place: \" \\ and \n are the
 * escapes.  After the closing quote only blanks and a comment may follow.
 * Returns 0, or -1 with what is wrong in why.
 */
static int unquote(char *v, const char **why)
{
	char *in = v + 1, *out = v;

	for (; *in && *in != '"'; in++) {
		if (*in != '\\') {
			*out++ = *in;
			continue;
		}
		in++;
		if (*in == '"' || *in == '\\')
			*out++ = *in;
		else if (*in == 'n')
			*out++ = '\n';
		else {
			*why = "unknown escape in a quoted value "
			       "(\\\" \\\\ and \\n are the escapes)";
			return -1;
		}
	}
	if (*in != '"') {
		*why = "quoted value without its closing \"";
		return -1;
	}
	*out = '\0';
	for (in++; is_blank(*in); in++)
		;
	if (*in && *in != ';' && *in != '#') {
		*why = "text after the closing quote (a comment starts with ; "
		       "or #)";
		return -1;
	}
	return 0;
}

/* Whether v must be quoted to read back as itself: blanks at either end, a
 * leading quote, a ';' or '#' (comments) or a newline. */
static bool needs_quotes(const char *v)
{
	size_t n = strlen(v);

	return n && (is_blank(v[0]) || is_blank(v[n - 1]) || v[0] == '"' ||
		     strpbrk(v, ";#\n"));
}

size_t config_quote(const char *v, char *out, size_t len)
{
	size_t n = 0;

#define PUT(c) do { if (n + 1 < len) out[n] = (c); n++; } while (0)
	if (!needs_quotes(v)) {
		for (; *v; v++)
			PUT(*v);
	} else {
		PUT('"');
		for (; *v; v++) {
			if (*v == '"' || *v == '\\')
				PUT('\\');
			if (*v == '\n') {
				PUT('\\');
				PUT('n');
			} else {
				PUT(*v);
			}
		}
		PUT('"');
	}
#undef PUT
	if (len)
		out[n < len ? n : len - 1] = '\0';
	return n;
}

/* ---- one line ---------------------------------------------------------- */

/* [name]: a header alone on its line (a comment may follow). */
static void section_header(struct reader *r, const char *s)
{
	const char *end = strchr(s, ']');
	const char *after = end ? end + 1 : NULL;

	while (after && is_blank(*after))
		after++;
	if (!end || (*after && *after != ';' && *after != '#')) {
		config_err_add(r->errs, "%s:%d: malformed section header "
			       "\"%s\" (expected [name])", r->path, r->lineno,
			       s);
		r->section_ok = false;
		return;
	}
	size_t n = (size_t)(end - s - 1);
	if (n >= sizeof(r->section))
		n = sizeof(r->section) - 1;
	memcpy(r->section, s + 1, n);
	r->section[n] = '\0';
	r->section_ok = config_section_known(r->section);
	if (!r->section_ok) {
		char list[128];
		config_section_list(list, sizeof(list));
		config_err_add(r->errs, "%s:%d: unknown section [%s] (expected "
			       "one of: %s)", r->path, r->lineno, r->section,
			       list);
	}
}

/* key = value (s is trimmed and writable). */
static void assignment(struct reader *r, char *s)
{
	size_t sep = strcspn(s, "=:");
	const char *why = NULL;

	if (s[sep] != '=') {
		config_err_add(r->errs, "%s:%d: expected \"key = value\", a "
			       "[section] or a comment, got \"%s\"", r->path,
			       r->lineno, s);
		return;
	}
	if (sep == 0) {
		config_err_add(r->errs, "%s:%d: missing key name before \"=\"",
			       r->path, r->lineno);
		return;
	}
	if (!r->section_ok)
		return;		/* reported once at the header */
	char *name = s, *v = s + sep + 1, *end = s + sep;
	while (end > name && is_blank(end[-1]))
		end--;
	*end = '\0';
	char *q = v;
	while (is_blank(*q))
		q++;
	if (*q == '"') {
		v = q;
		unquote(v, &why);
	} else {
		/* The comment search starts before the blanks after '='. */
		end = value_end(v);
		v = q < end ? q : end;
		while (end > v && is_blank(end[-1]))
			end--;
		*end = '\0';
	}
	char where[300];
	snprintf(where, sizeof(where), "%s:%d", r->path, r->lineno);
	if (r->section[0] == '\0') {
		char list[128];
		config_section_list(list, sizeof(list));
		config_err_add(r->errs, "%s: key \"%s\" is outside any section "
			       "(put it under one of: %s)", where, name, list);
		return;
	}
	if (why)
		config_err_add(r->errs, "%s: %s: %s", where, name, why);
	else
		config_apply(r->cfg, r->section, name, v, where, r->seen,
			     r->errs);
}

/* One line, its newline excluded: len bytes at s, writable. */
static void line(struct reader *r, char *s, size_t len)
{
	r->lineno++;
	if (r->lineno == 1 && len >= 3 && (unsigned char)s[0] == 0xEF &&
	    (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF)
		s += 3, len -= 3;
	if (memchr(s, '\0', len)) {
		config_err_add(r->errs, "%s:%d: NUL byte in line", r->path,
			       r->lineno);
		return;
	}
	while (len && is_blank(*s))
		s++, len--;
	while (len && is_blank(s[len - 1]))
		len--;
	s[len] = '\0';
	if (len > CONFIG_MAX_LINE) {
		config_err_add(r->errs, "%s:%d: line is %zu characters long "
			       "(at most %d)", r->path, r->lineno, len,
			       CONFIG_MAX_LINE);
		return;
	}
	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[')
		section_header(r, s);
	else
		assignment(r, s);
}

int config_parse_text(struct config *cfg, const char *name, char *text,
		      size_t len, struct config_errors *errs)
{
	struct reader r = {
		.path = name, .section_ok = true, .cfg = cfg, .errs = errs,
	};
	unsigned before = errs->n + errs->dropped;

	for (char *s = text, *end = text + len; s < end;) {
		char *nl = memchr(s, '\n', (size_t)(end - s));
		char *stop = nl ? nl : end;
		line(&r, s, (size_t)(stop - s));
		s = stop + 1;
	}
	return errs->n + errs->dropped == before ? 0 : -1;
}

int config_load(struct config *cfg, const char *path,
		struct config_errors *errs)
{
	char *buf = NULL;
	ssize_t n = load_file(path, &buf, errs);

	if (n < 0)
		return -1;
	int rc = config_parse_text(cfg, path, buf, (size_t)n, errs);
	free(buf);
	return rc;
}

int config_set(struct config *cfg, const char *assignment,
	       struct config_errors *errs)
{
	char buf[CONFIG_MAX_LINE + 1];
	char where[300];

	snprintf(where, sizeof(where), "-o %.40s", assignment);
	if (strlen(assignment) >= sizeof(buf)) {
		config_err_add(errs, "%s...: too long", where);
		return -1;
	}
	strcpy(buf, assignment);
	char *eq = strchr(buf, '=');
	char *dot = strchr(buf, '.');
	if (!eq || !dot || dot > eq || dot == buf || dot + 1 == eq) {
		config_err_add(errs, "%s: expected SECTION.KEY=VALUE, such as "
			       "server.model=poll", where);
		return -1;
	}
	*dot = '\0';
	*eq = '\0';
	if (!config_section_known(buf)) {
		char list[128];
		config_section_list(list, sizeof(list));
		config_err_add(errs, "%s: unknown section [%s] (expected one "
			       "of: %s)", where, buf, list);
		return -1;
	}
	return config_apply(cfg, buf, dot + 1, eq + 1, where, NULL, errs);
}
