/* What the loaders of the syscall probes (probes.c) and the stack
 * profiler (profile.c) share: walking and emptying BPF hash maps from user
 * space, bounded (entries the kernel adds or evicts during a walk cannot
 * keep it going), and their error messages. */
#ifndef EVD_PROBES_BPFMAP_H
#define EVD_PROBES_BPFMAP_H

#include <stddef.h>

/* Formats the message into err (errlen bytes) and returns rc: a helper's
 * "fill err, return -errno", in one statement. */
int set_err(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define BPFMAP_KEY_MAX 64	/* bytes in a key */

/* Called with each key and its value; a negative return stops the walk. */
typedef int bpfmap_fn(const void *key, const void *value, void *arg);

/*
 * Calls fn(key, value, arg) for the entries of the map fd (keys of
 * key_size bytes, at most BPFMAP_KEY_MAX; each value read into the
 * caller's value buffer), for at most 2 * max_entries steps: an entry
 * evicted under the walk restarts it, and one evicted between its key and
 * its lookup is passed over.  Returns 0, fn's negative return, or -EINVAL
 * for a key too large.  Never logs.
 */
int bpfmap_walk(int fd, size_t key_size, void *value, unsigned max_entries,
		bpfmap_fn *fn, void *arg);

/*
 * Deletes every entry of the map fd, the first key again and again (an
 * iteration would restart anyway), at most 2 * max_entries of them.
 * Returns 0 once empty, -EAGAIN if entries remain (added meanwhile),
 * -EINVAL for a key too large, or -errno.  Never logs.
 */
int bpfmap_clear(int fd, size_t key_size, unsigned max_entries);

#endif
