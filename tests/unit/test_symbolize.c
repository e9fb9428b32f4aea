/* Unit tests for the stack profiler's names: common/ksyms.c (kernel
 * symbols from a kallsyms text) and common/symbolize.c (user frames
 * through libdwfl), with exact outputs: this test's own functions, one
 * inlined, a shared library's, memory without a file, a file that is not
 * ELF, a process that is gone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../common/ksyms.h"
#include "../../common/symbolize.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* A descriptor reading text (a temporary file, already unlinked). */
static int text_fd(const char *text)
{
	char path[] = "/tmp/evd-ksyms-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	return fd;	/* at its end: ksyms_read() rewinds */
}

static void test_ksyms(void **state)
{
	static const char text[] =
		"ffffffff81000000 T _stext\n"
		"ffffffff81000000 T _text\n"
		"ffffffff81001000 t tcp_sendmsg\n"
		"ffffffff81001100 T tcp_sendmsg_locked\n"
		"ffffffff81001180 d some_data\n"
		"ffffffff81002000 W weak_fn\n"
		"0000000000000000 A fixed_percpu_data\n"
		"this is not a symbol\n"
		"ffffffffc0001000 t mod_fn\t[mymod]\n"
		"ffffffff81000800 t before_in_file_order";	/* no newline */
	uint64_t off = 99;
	int fd = text_fd(text);
	struct ksyms *k = ksyms_read(fd);

	(void)state;
	assert_non_null(k);
	assert_int_equal(ksyms_count(k), 7);
	assert_string_equal(ksyms_find(k, 0xffffffff81000000ull, &off), "_stext");
	assert_int_equal(off, 0);
	assert_string_equal(ksyms_find(k, 0xffffffff810007ffull, &off), "_stext");
	assert_int_equal(off, 0x7ff);
	assert_string_equal(ksyms_find(k, 0xffffffff81000801ull, &off),
			    "before_in_file_order");
	assert_int_equal(off, 1);
	assert_string_equal(ksyms_find(k, 0xffffffff81001050ull, &off),
			    "tcp_sendmsg");
	assert_int_equal(off, 0x50);
	/* Data symbols are not code: the function before them holds it. */
	assert_string_equal(ksyms_find(k, 0xffffffff81001190ull, &off),
			    "tcp_sendmsg_locked");
	assert_int_equal(off, 0x90);
	assert_string_equal(ksyms_find(k, 0xffffffff81002001ull, &off), "weak_fn");
	assert_string_equal(ksyms_find(k, 0xffffffffc0001010ull, &off), "mod_fn");
	assert_int_equal(off, 0x10);
	off = 99;
	assert_null(ksyms_find(k, 0xffffffff80ffffffull, &off));
	assert_null(ksyms_find(k, 0xffffffffc0001000ull + KSYMS_SPAN_MAX + 1,
			       &off));
	assert_int_equal(off, 99);
	/* Read again from the same descriptor: the same table. */
	struct ksyms *again = ksyms_read(fd);
	assert_non_null(again);
	assert_int_equal(ksyms_count(again), 7);
	ksyms_free(again);
	ksyms_free(k);
	close(fd);
	ksyms_free(NULL);
}

/* Every address 0: the kernel hides them from this reader. */
static void test_ksyms_hidden(void **state)
{
	int fd = text_fd("0000000000000000 T _stext\n"
			 "0000000000000000 t tcp_sendmsg\n");

	(void)state;
	errno = 0;
	assert_null(ksyms_read(fd));
	assert_int_equal(errno, EPERM);
	close(fd);
	fd = text_fd("");
	assert_null(ksyms_read(fd));
	assert_int_equal(errno, EPERM);
	close(fd);
}

/* ---- user frames ------------------------------------------------------- */

__attribute__((noinline)) int sym_probe_target(int x);
__attribute__((noinline)) void sym_outer_step(void);

__attribute__((noinline)) int sym_probe_target(int x)
{
	__asm__ volatile("" : "+r"(x));
	return x * 3 + 1;
}

static uint64_t recorded_ra;

__attribute__((noinline)) static void record_ra(void)
{
	recorded_ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
	__asm__ volatile("" ::: "memory");
}

static inline __attribute__((always_inline)) void sym_inlined_step(void)
{
	record_ra();
}

__attribute__((noinline)) void sym_outer_step(void)
{
	sym_inlined_step();
	__asm__ volatile("" ::: "memory");	/* no tail call */
}

struct names {
	char v[8][SYM_NAME_MAX];
	int n;
};

static int collect(const char *name, void *arg)
{
	struct names *nm = arg;

	if (nm->n == 8)
		return -E2BIG;
	snprintf(nm->v[nm->n++], SYM_NAME_MAX, "%s", name);
	return 0;
}

/* The frames of addr in pid, joined by ';' into out. */
static int frames(struct symbolizer *s, int pid, uint64_t addr, bool caller,
		  char *out, size_t len)
{
	struct names nm = { .n = 0 };
	int rc = sym_user(s, pid, addr, caller, collect, &nm);

	out[0] = '\0';
	for (int i = 0; i < nm.n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
			 i ? ";" : "", nm.v[i]);
	return rc;
}

static int emit_fail(const char *name, void *arg)
{
	(void)name;
	(void)arg;
	return -EIO;
}

static void test_user_frames(void **state)
{
	char out[1024], want[256];
	int self = (int)getpid();

	(void)state;
	/* Mappings made before the symbolizer reads this process's maps. */
	void *anon = mmap(NULL, 4096, PROT_READ | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char path[] = "/tmp/evd-sym-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char zeros[8192] = { 0 };
	assert_int_equal(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
	void *file = mmap(NULL, sizeof(zeros), PROT_READ | PROT_EXEC,
			  MAP_PRIVATE, fd, 0);
	assert_true(anon != MAP_FAILED && file != MAP_FAILED);
	sym_outer_step();

	struct symbolizer *s = sym_new();
	assert_non_null(s);
	uint64_t target = (uint64_t)(uintptr_t)&sym_probe_target;
	int rc = frames(s, self, target + 2, false, out, sizeof(out));
	if (rc == -ENOTSUP) {
		sym_free(s);
		munmap(anon, 4096);
		munmap(file, sizeof(zeros));
		close(fd);
		unlink(path);
		skip();	/* a build without libdw: symbolize_none.c */
	}
	assert_int_equal(rc, 1);
	assert_string_equal(out, "sym_probe_target");
	/* A return address just past the function's first byte: the call
	 * before it, in the function. */
	assert_int_equal(frames(s, self, target + 1, true, out, sizeof(out)), 1);
	assert_string_equal(out, "sym_probe_target");
	/* The same again (from the cache). */
	assert_int_equal(frames(s, self, target + 2, false, out, sizeof(out)), 1);
	assert_string_equal(out, "sym_probe_target");

	/* Inlined: the inlined function first, marked, then its host. */
	assert_int_equal(frames(s, self, recorded_ra, true, out, sizeof(out)), 2);
	assert_string_equal(out, "sym_inlined_step_[i];sym_outer_step");

	/* A shared library's function. */
	uint64_t lib = (uint64_t)(uintptr_t)&_cmocka_run_group_tests;
	assert_int_equal(frames(s, self, lib, false, out, sizeof(out)), 1);
	assert_string_equal(out, "_cmocka_run_group_tests");

	/* Memory without a file: the address. */
	uint64_t a = (uint64_t)(uintptr_t)anon + 0x10;
	snprintf(want, sizeof(want), "[unknown]+0x%llx", (unsigned long long)a);
	assert_int_equal(frames(s, self, a, false, out, sizeof(out)), 1);
	assert_string_equal(out, want);
	/* A file that is not ELF: its name and the offset in the mapping. */
	snprintf(want, sizeof(want), "%s+0x20", strrchr(path, '/') + 1);
	assert_int_equal(frames(s, self, (uint64_t)(uintptr_t)file + 0x20,
				false, out, sizeof(out)), 1);
	assert_string_equal(out, want);

	/* A process that is gone: this process's mappings stand in. */
	assert_int_equal(frames(s, 0x7ffffff0, target + 2, false, out,
				sizeof(out)), 1);
	assert_string_equal(out, "sym_probe_target");
	/* emit's error comes back. */
	assert_int_equal(sym_user(s, self, target + 2, false, emit_fail, NULL),
			 -EIO);

	sym_free(s);
	sym_free(NULL);
	munmap(anon, 4096);
	munmap(file, sizeof(zeros));
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksyms),
		cmocka_unit_test(test_ksyms_hidden),
		cmocka_unit_test(test_user_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
