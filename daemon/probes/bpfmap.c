/* What the probes' loaders share (bpfmap.h). */
#include "bpfmap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

int set_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int bpfmap_walk(int fd, size_t key_size, void *value, unsigned max_entries,
		bpfmap_fn *fn, void *arg)
{
	char key[BPFMAP_KEY_MAX], next[BPFMAP_KEY_MAX];
	const void *prev = NULL;

	if (key_size > sizeof(key))
		return -EINVAL;
	for (unsigned i = 0; i < 2 * max_entries &&
			     bpf_map_get_next_key(fd, prev, next) == 0; i++) {
		memcpy(key, next, key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, value) < 0)
			continue;	/* evicted meanwhile */
		int rc = fn(key, value, arg);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int bpfmap_clear(int fd, size_t key_size, unsigned max_entries)
{
	char key[BPFMAP_KEY_MAX];

	if (key_size > sizeof(key))
		return -EINVAL;
	for (unsigned i = 0; i < 2 * max_entries; i++) {
		if (bpf_map_get_next_key(fd, NULL, key) < 0)
			return errno == ENOENT ? 0 : -errno;
		if (bpf_map_delete_elem(fd, key) < 0 && errno != ENOENT)
			return -errno;
	}
	return -EAGAIN;
}
