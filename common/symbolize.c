/* User-space frame names through elfutils' libdwfl (symbolize.h).
 *
 * One Dwfl per process whose /proc/PID/maps could be read (at most
 * SYM_PROCS_MAX; this process's own for the rest), filled once; one cache
 * of the answers per (process, address), since a profile asks for the
 * same addresses again and again. */
#include "symbolize.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folded.h"

#define CACHE_MIN 1024

struct proc_map {
	int pid;
	Dwfl *dwfl;		/* NULL: not readable, use the own one */
};

struct answer {
	uint64_t addr;		/* the address named (a call's, for callers) */
	int proc;		/* index in procs (SYM_PROCS_MAX: the own
				 * mappings), -1: a free slot */
	char *frames;		/* names joined by ';', innermost first */
};

struct symbolizer {
	Dwfl *self;
	int self_pid;
	char exe[4096];			/* this executable: inlines named */
	struct proc_map procs[SYM_PROCS_MAX];
	int nprocs;
	struct answer *cache;
	size_t ncache, cap;	/* cap: a power of two */
};

static const Dwfl_Callbacks callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* A Dwfl of pid's mappings, or NULL when they cannot be read. */
static Dwfl *dwfl_of(int pid)
{
	Dwfl *d = dwfl_begin(&callbacks);

	if (!d)
		return NULL;
	dwfl_report_begin(d);
	int rc = dwfl_linux_proc_report(d, pid);
	if (dwfl_report_end(d, NULL, NULL) != 0 || rc != 0) {
		dwfl_end(d);
		return NULL;
	}
	return d;
}

struct symbolizer *sym_new(void)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->self_pid = (int)getpid();
	s->self = dwfl_of(s->self_pid);
	ssize_t n = readlink("/proc/self/exe", s->exe, sizeof(s->exe) - 1);
	s->exe[n > 0 ? n : 0] = '\0';
	s->cap = CACHE_MIN;
	s->cache = malloc(s->cap * sizeof(*s->cache));
	if (!s->self || !s->cache) {
		sym_free(s);
		return NULL;
	}
	for (size_t i = 0; i < s->cap; i++)
		s->cache[i].proc = -1;
	return s;
}

void sym_free(struct symbolizer *s)
{
	if (!s)
		return;
	for (int i = 0; i < s->nprocs; i++)
		if (s->procs[i].dwfl)
			dwfl_end(s->procs[i].dwfl);
	if (s->self)
		dwfl_end(s->self);
	for (size_t i = 0; s->cache && i < s->cap; i++)
		if (s->cache[i].proc >= 0)
			free(s->cache[i].frames);
	free(s->cache);
	free(s);
}

/* The index of pid's entry (made on first use): its Dwfl, or NULL for
 * this process's. */
static int proc_index(struct symbolizer *s, int pid)
{
	for (int i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return i;
	if (s->nprocs == SYM_PROCS_MAX)
		return -1;
	s->procs[s->nprocs] = (struct proc_map){
		.pid = pid,
		.dwfl = pid == s->self_pid ? NULL : dwfl_of(pid),
	};
	return s->nprocs++;
}

static size_t hash(uint64_t addr, int proc)
{
	uint64_t h = (addr ^ ((uint64_t)(unsigned)proc << 48)) *
		     0x9e3779b97f4a7c15ull;
	return (size_t)(h ^ (h >> 29));
}

/* The cache slot of (addr, proc): its answer, or the free slot for it. */
static struct answer *slot(struct symbolizer *s, uint64_t addr, int proc)
{
	size_t mask = s->cap - 1;

	for (size_t i = hash(addr, proc) & mask;; i = (i + 1) & mask) {
		struct answer *a = &s->cache[i];
		if (a->proc < 0 || (a->proc == proc && a->addr == addr))
			return a;
	}
}

static int cache_grow(struct symbolizer *s)
{
	struct answer *old = s->cache;
	size_t ocap = s->cap;

	s->cap *= 2;
	s->cache = malloc(s->cap * sizeof(*s->cache));
	if (!s->cache) {
		s->cache = old;
		s->cap = ocap;
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->cap; i++)
		s->cache[i].proc = -1;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].proc >= 0)
			*slot(s, old[i].addr, old[i].proc) = old[i];
	free(old);
	return 0;
}

/* Appends one cleaned name (and ";" before it unless first) to buf. */
static void put(char *buf, size_t len, const char *name, const char *suffix)
{
	char clean[SYM_NAME_MAX];
	size_t used = strlen(buf);

	folded_clean(clean, sizeof(clean), name);
	snprintf(buf + used, len - used, "%s%s%s", used ? ";" : "", clean,
		 suffix);
}

/* The functions inlined at pc, innermost first, each marked "_[i]". */
static void inlined(Dwfl_Module *m, uint64_t pc, char *buf, size_t len)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(m, pc, &bias);
	Dwarf_Die *scopes = NULL;

	if (!cu)
		return;
	int n = dwarf_getscopes(cu, pc - bias, &scopes);
	for (int i = 0; i < n; i++) {
		if (dwarf_tag(&scopes[i]) != DW_TAG_inlined_subroutine)
			continue;
		const char *name = dwarf_diename(&scopes[i]);
		put(buf, len, name ? name : "[inlined]", "_[i]");
	}
	free(scopes);
}

/* The names of pc in d, innermost first, joined by ';' (malloc'd).
 * Inlined functions are named in this executable only: a library's DWARF
 * (libc6-dbg's) takes a second to index, for frames that matter little. */
static char *resolve(const struct symbolizer *s, Dwfl *d, uint64_t pc)
{
	char buf[4 * SYM_NAME_MAX * 4] = "";
	char name[64];
	Dwfl_Module *m = dwfl_addrmodule(d, pc);

	if (!m) {
		snprintf(name, sizeof(name), "[unknown]+0x%llx",
			 (unsigned long long)pc);
		put(buf, sizeof(buf), name, "");
		return strdup(buf);
	}
	GElf_Off off;
	GElf_Sym sym;
	const char *fn = dwfl_module_addrinfo(m, pc, &off, &sym, NULL, NULL,
					      NULL);
	const char *path = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL,
					    NULL, NULL);
	if (path && s->exe[0] && strcmp(path, s->exe) == 0)
		inlined(m, pc, buf, sizeof(buf));
	if (fn && *fn) {
		put(buf, sizeof(buf), fn, "");
		return strdup(buf);
	}
	/* No symbol: the module's file and the address as its ELF file
	 * numbers it (or the offset in the mapping, without an ELF). */
	Dwarf_Addr start, bias;
	const char *mod = dwfl_module_info(m, NULL, &start, NULL, NULL, NULL,
					   NULL, NULL);
	uint64_t rel = dwfl_module_getelf(m, &bias) ? pc - bias : pc - start;
	const char *base = mod ? strrchr(mod, '/') : NULL;
	char unres[SYM_NAME_MAX];
	snprintf(unres, sizeof(unres), "%s+0x%llx",
		 base ? base + 1 : mod ? mod : "[unknown]",
		 (unsigned long long)rel);
	put(buf, sizeof(buf), unres, "");
	return strdup(buf);
}

/* Emits the names kept in frames (joined by ';'). */
static int emit_all(const char *frames, sym_emit_fn emit, void *arg)
{
	char name[SYM_NAME_MAX];
	int n = 0;

	for (const char *p = frames; *p;) {
		size_t len = strcspn(p, ";");
		if (len >= sizeof(name))
			len = sizeof(name) - 1;
		memcpy(name, p, len);
		name[len] = '\0';
		int rc = emit(name, arg);
		if (rc < 0)
			return rc;
		n++;
		p += strcspn(p, ";");
		if (*p)
			p++;
	}
	return n;
}

int sym_user(struct symbolizer *s, int pid, uint64_t addr, bool caller,
	     sym_emit_fn emit, void *arg)
{
	int proc = proc_index(s, pid);
	Dwfl *d = proc >= 0 && s->procs[proc].dwfl ? s->procs[proc].dwfl :
						     s->self;
	if (d == s->self)
		proc = SYM_PROCS_MAX;	/* one cache for all who use it */
	/* A return address: the call is the instruction before it. */
	uint64_t pc = caller && addr ? addr - 1 : addr;
	struct answer *a = slot(s, pc, proc);

	if (a->proc < 0) {
		if (s->ncache + 1 > s->cap / 2) {
			if (cache_grow(s) < 0)
				return -ENOMEM;
			a = slot(s, pc, proc);
		}
		char *frames = resolve(s, d, pc);
		if (!frames)
			return -ENOMEM;
		*a = (struct answer){ .addr = pc, .proc = proc,
				      .frames = frames };
		s->ncache++;
	}
	return emit_all(a->frames, emit, arg);
}
