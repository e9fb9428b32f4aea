/* The probes of a build without eBPF (`make BPF=0`, or bpftool, clang or
 * the kernel BTF missing at build time): every operation that needs them
 * answers -ENOTSUP with the reason. */
#include "probes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct probes {
	bool timing;
};

struct probes *probes_new(void)
{
	struct probes *p = calloc(1, sizeof(struct probes));

	if (p)
		p->timing = true;
	return p;
}

void probes_free(struct probes *p)
{
	free(p);
}

int probes_enable(struct probes *p, bool on, char *err, size_t errlen)
{
	(void)p;
	if (!on)
		return 0;
	snprintf(err, errlen, "this evd was built without them (make BPF=0, "
		 "or bpftool, clang or the kernel BTF missing at build time)");
	return -ENOTSUP;
}

bool probes_enabled(const struct probes *p)
{
	(void)p;
	return false;
}

int probes_members_fd(struct probes *p, char *err, size_t errlen)
{
	return probes_enable(p, true, err, errlen);
}

int probes_set_timing(struct probes *p, bool on, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	p->timing = on;
	return 0;
}

bool probes_timing(const struct probes *p)
{
	return p->timing;
}

uint64_t probes_counted_ns(const struct probes *p)
{
	(void)p;
	return 0;
}

int probes_ignore_thread(struct probes *p)
{
	(void)p;
	return 0;
}

void probes_forget(struct probes *p)
{
	(void)p;
}

int probes_reset(struct probes *p)
{
	(void)p;
	return -ENOTSUP;
}

int probes_read(struct probes *p, struct probes_syscall *out)
{
	(void)p;
	(void)out;
	return -ENOTSUP;
}

void probes_set_per_thread(struct probes *p, bool on)
{
	(void)p;
	(void)on;
}

bool probes_per_thread(const struct probes *p)
{
	(void)p;
	return false;
}

int probes_read_tasks(struct probes *p,
		      void (*fn)(const struct probes_task *t, void *arg),
		      void *arg)
{
	(void)p;
	(void)fn;
	(void)arg;
	return -ENOTSUP;
}

uint64_t probes_untracked(const struct probes *p)
{
	(void)p;
	return 0;
}

const char *probes_syscall_name(unsigned nr, char *buf, size_t len)
{
	snprintf(buf, len, "syscall_%u", nr);
	return buf;
}

int probes_syscall_nr(const char *name)
{
	unsigned nr;
	int end = 0;

	if (sscanf(name, "syscall_%u%n", &nr, &end) == 1 && name[end] == '\0' &&
	    nr < PROBES_NR_MAX)
		return (int)nr;
	return -1;
}
