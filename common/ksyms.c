/* Kernel symbols from a /proc/kallsyms text (ksyms.h). */
#include "ksyms.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define READ_MAX (64u << 20)	/* a kallsyms text is ~5 MiB */

struct ksym {
	uint64_t addr;
	const char *name;	/* into text */
	uint32_t line;		/* order in the file: ties sort by it */
};

struct ksyms {
	char *text;
	struct ksym *v;
	size_t n;
};

/* The whole of fd from offset 0, NUL-terminated; NULL with errno set. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 1u << 20, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return NULL;
	if (lseek(fd, 0, SEEK_SET) < 0 && errno != ESPIPE)
		goto fail;
	for (;;) {
		if (cap - n < 2) {
			if (cap >= READ_MAX) {
				errno = EFBIG;
				goto fail;
			}
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				goto fail;
			buf = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	free(buf);
	return NULL;
}

static int by_addr(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Parses one line "ADDR TYPE NAME[\t[MODULE]]" in place (NUL-terminating
 * the name); false when it is not a code symbol. */
static bool parse_line(char *line, struct ksym *out)
{
	char *p = line, *end;
	uint64_t addr = strtoull(p, &end, 16);

	if (end == p || *end != ' ')
		return false;
	p = end + 1;
	if (!strchr("tTwW", *p) || p[0] == '\0' || p[1] != ' ')
		return false;
	p += 2;
	size_t len = strcspn(p, " \t");
	if (len == 0)
		return false;
	p[len] = '\0';
	out->addr = addr;
	out->name = p;
	return true;
}

struct ksyms *ksyms_read(int fd)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	size_t len = 0, cap = 0;
	bool any_addr = false;
	int e;

	if (!k)
		return NULL;
	if (!(k->text = read_all(fd, &len)))
		goto fail;
	for (char *line = k->text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct ksym s;
		if (parse_line(line, &s)) {
			if (k->n == cap) {
				cap = cap ? cap * 2 : 4096;
				struct ksym *nv = realloc(k->v, cap * sizeof(*nv));
				if (!nv)
					goto fail;
				k->v = nv;
			}
			s.line = (uint32_t)k->n;
			any_addr |= s.addr != 0;
			k->v[k->n++] = s;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!any_addr) {
		errno = EPERM;
		goto fail;
	}
	qsort(k->v, k->n, sizeof(*k->v), by_addr);
	return k;
fail:
	e = errno;
	ksyms_free(k);
	errno = e;
	return NULL;
}

void ksyms_free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->text);
	free(k->v);
	free(k);
}

size_t ksyms_count(const struct ksyms *k)
{
	return k->n;
}

const char *ksyms_find(const struct ksyms *k, uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = k->n;

	/* The first symbol above addr: hi. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (hi == 0)
		return NULL;
	size_t i = hi - 1;
	/* Of several names at one address, the first in the file. */
	while (i > 0 && k->v[i - 1].addr == k->v[i].addr)
		i--;
	if (addr - k->v[i].addr > KSYMS_SPAN_MAX)
		return NULL;
	*off = addr - k->v[i].addr;
	return k->v[i].name;
}
