/* Folded stacks: reading, sorting, writing (folded.h). */
#include "folded.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void folded_clean(char *out, size_t len, const char *name)
{
	size_t i = 0;

	if (len == 0)
		return;
	if (!name[0])
		name = "[empty]";
	for (; name[i] && i + 1 < len; i++) {
		unsigned char c = (unsigned char)name[i];
		out[i] = c == ';' ? ':' : c == ' ' ? '_' :
			 c < 0x21 || c > 0x7e ? '?' : (char)c;
	}
	out[i] = '\0';
}

/* Makes room for one more stack. */
static struct folded_stack *grow(struct folded *f)
{
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 64;
		struct folded_stack *v = realloc(f->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		f->v = v;
		f->cap = cap;
	}
	return &f->v[f->n];
}

/* Splits buf (frames joined by ';', NUL-terminated, owned by s) into s. */
static int split(struct folded_stack *s, char *buf)
{
	unsigned depth = 1;

	for (const char *p = buf; *p; p++)
		depth += *p == ';';
	if (depth > FOLDED_DEPTH_MAX)
		return -EINVAL;
	s->frame = malloc(depth * sizeof(*s->frame));
	if (!s->frame)
		return -ENOMEM;
	s->depth = 0;
	for (char *p = buf;;) {
		char *semi = strchr(p, ';');
		if (semi)
			*semi = '\0';
		if (!*p) {
			free(s->frame);
			return -EINVAL;
		}
		s->frame[s->depth++] = p;
		if (!semi)
			break;
		p = semi + 1;
	}
	s->line = buf;
	return 0;
}

/* Adds the stack held in buf (frames joined by ';'; taken over). */
static int add_joined(struct folded *f, char *buf, uint64_t value)
{
	struct folded_stack *s = grow(f);
	int rc;

	if (!s) {
		free(buf);
		return -ENOMEM;
	}
	if ((rc = split(s, buf)) < 0) {
		free(buf);
		return rc;
	}
	s->value = value;
	f->total += value;
	f->n++;
	return 0;
}

int folded_add_line(struct folded *f, const char *line)
{
	size_t len = strlen(line);
	const char *sp = len ? memrchr(line, ' ', len) : NULL;
	uint64_t v = 0;

	if (!sp || sp == line || len > FOLDED_LINE_MAX || !sp[1])
		return -EINVAL;
	for (const char *p = sp + 1; *p; p++) {
		uint64_t d = (uint64_t)(*p - '0');
		if (*p < '0' || *p > '9' || v > ((uint64_t)INT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	char *buf = strndup(line, (size_t)(sp - line));
	if (!buf)
		return -ENOMEM;
	return add_joined(f, buf, v);
}

int folded_add_joined(struct folded *f, const char *joined, uint64_t value)
{
	if (strlen(joined) > FOLDED_LINE_MAX)
		return -EINVAL;
	char *buf = strdup(joined);
	if (!buf)
		return -ENOMEM;
	return add_joined(f, buf, value);
}

int folded_add(struct folded *f, const char *const *frames, unsigned depth,
	       uint64_t value)
{
	size_t len = 0;

	if (depth == 0 || depth > FOLDED_DEPTH_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < depth; i++)
		len += strlen(frames[i]) + 1;
	char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	char *p = buf;
	for (unsigned i = 0; i < depth; i++) {
		size_t n = strlen(frames[i]);
		memcpy(p, frames[i], n);
		p += n;
		*p++ = i + 1 < depth ? ';' : '\0';
	}
	return add_joined(f, buf, value);
}

static int by_frames(const void *a, const void *b)
{
	const struct folded_stack *x = a, *y = b;
	unsigned n = x->depth < y->depth ? x->depth : y->depth;

	for (unsigned i = 0; i < n; i++) {
		int c = strcmp(x->frame[i], y->frame[i]);
		if (c)
			return c;
	}
	return x->depth < y->depth ? -1 : x->depth > y->depth;
}

void folded_sort(struct folded *f)
{
	size_t out = 0;

	if (f->n == 0)
		return;
	qsort(f->v, f->n, sizeof(*f->v), by_frames);
	for (size_t i = 1; i < f->n; i++) {
		if (by_frames(&f->v[out], &f->v[i]) == 0) {
			f->v[out].value += f->v[i].value;
			free(f->v[i].line);
			free(f->v[i].frame);
		} else {
			f->v[++out] = f->v[i];
		}
	}
	f->n = out + 1;
}

void folded_free(struct folded *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].line);
		free(f->v[i].frame);
	}
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int folded_write(FILE *out, const struct folded *f)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct folded_stack *s = &f->v[i];
		for (unsigned j = 0; j < s->depth; j++)
			fprintf(out, "%s%s", j ? ";" : "", s->frame[j]);
		fprintf(out, " %llu\n", (unsigned long long)s->value);
	}
	return ferror(out) ? -EIO : 0;
}

void folded_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* "key":"value", when value is set. */
static void json_field(FILE *out, const char *key, const char *value)
{
	if (!value)
		return;
	fprintf(out, "\"%s\":", key);
	folded_json_string(out, value);
	fputc(',', out);
}

int folded_write_json(FILE *out, const struct folded *f,
		      const struct folded_meta *m)
{
	fputc('{', out);
	json_field(out, "mode", m->mode);
	json_field(out, "model", m->model);
	json_field(out, "protocol", m->protocol);
	json_field(out, "unit", m->unit);
	fprintf(out, "\"seconds\":%.3f,", m->seconds);
	if (m->mode && strcmp(m->mode, "cpu") == 0)
		fprintf(out, "\"hz\":%u,", m->hz);
	if (m->mode && strcmp(m->mode, "offcpu") == 0)
		fprintf(out, "\"min_block_us\":%llu,",
			(unsigned long long)m->min_block_us);
	fprintf(out, "\"total\":%llu,\"lost\":%llu,\"stacks\":[",
		(unsigned long long)f->total, (unsigned long long)m->lost);
	for (size_t i = 0; i < f->n; i++) {
		const struct folded_stack *s = &f->v[i];
		fprintf(out, "%s{\"frames\":[", i ? "," : "");
		for (unsigned j = 0; j < s->depth; j++) {
			if (j)
				fputc(',', out);
			folded_json_string(out, s->frame[j]);
		}
		fprintf(out, "],\"value\":%llu}", (unsigned long long)s->value);
	}
	fputs("]}\n", out);
	return ferror(out) ? -EIO : 0;
}
