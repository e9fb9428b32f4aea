/* The stack profiler of a build without eBPF (`make BPF=0`, or bpftool,
 * clang, libbpf, libdw or the kernel BTF missing at build time): loading
 * answers -ENOTSUP with the reason; nothing else is ever reached. */
#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct profile {
	char unused;
};

struct profile *profile_new(void)
{
	return calloc(1, sizeof(struct profile));
}

void profile_free(struct profile *p)
{
	free(p);
}

int profile_load(struct profile *p, int members_fd, char *err, size_t errlen)
{
	(void)p;
	(void)members_fd;
	snprintf(err, errlen, "this evd was built without it (make BPF=0, or "
		 "bpftool, clang, libbpf, libdw or the kernel BTF missing at "
		 "build time)");
	return -ENOTSUP;
}

bool profile_loaded(const struct profile *p)
{
	(void)p;
	return false;
}

int profile_kernel_ids(struct profile *p, uint32_t *tgid, uint32_t *tid)
{
	(void)p;
	(void)tgid;
	(void)tid;
	return -ENOTSUP;
}

int profile_ignore_thread(struct profile *p, bool on)
{
	(void)p;
	(void)on;
	return -ENOTSUP;
}

int profile_start(struct profile *p, const struct profile_opts *o, char *err,
		  size_t errlen)
{
	(void)o;
	return profile_load(p, -1, err, errlen);
}

void profile_stop(struct profile *p)
{
	(void)p;
}

int profile_read(struct profile *p,
		 int (*fn)(const struct profile_entry *e, void *arg),
		 void *arg)
{
	(void)p;
	(void)fn;
	(void)arg;
	return -ENOTSUP;
}

int profile_stack(struct profile *p, uint64_t id, uint64_t *ips,
		  unsigned max)
{
	(void)p;
	(void)id;
	(void)ips;
	(void)max;
	return -ENOTSUP;
}

void profile_lost(const struct profile *p, struct profile_lost *out)
{
	(void)p;
	memset(out, 0, sizeof(*out));
}

int profile_clear(struct profile *p)
{
	(void)p;
	return -ENOTSUP;
}

void profile_forget(struct profile *p)
{
	(void)p;
}
