/* Unit tests for daemon/privs.c: which capabilities a configuration keeps,
 * and what privs_drop() leaves in /proc/self/status.  Each drop runs in a
 * forked child (credentials cannot come back) that reports its state over
 * a pipe; the parent compares it byte for byte.  The drops need root and
 * are skipped otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/privs.h"

#define NET_BIND PRIVS_CAP(CAP_NET_BIND_SERVICE)
#define PROBES (PRIVS_CAP(CAP_BPF) | PRIVS_CAP(CAP_PERFMON))

static void config_with(struct config *cfg, ...)
{
	struct config_errors errs = { 0 };
	va_list ap;

	config_defaults(cfg);
	va_start(ap, cfg);
	for (const char *kv; (kv = va_arg(ap, const char *));)
		assert_int_equal(config_set(cfg, kv, &errs), 0);
	va_end(ap);
}

static void test_needed(void **state)
{
	static struct config cfg;

	config_with(&cfg, NULL);
	assert_int_equal(privs_needed(&cfg), 0);
	config_with(&cfg, "server.listen=127.0.0.1:80", NULL);
	assert_int_equal(privs_needed(&cfg), NET_BIND);
	config_with(&cfg, "server.listen=127.0.0.1:1024,[::1]:1023", NULL);
	assert_int_equal(privs_needed(&cfg), NET_BIND);
	config_with(&cfg, "server.listen=127.0.0.1:1024,[::1]:0", NULL);
	assert_int_equal(privs_needed(&cfg), 0);
	config_with(&cfg, "probes.syscalls=on", NULL);
	assert_int_equal(privs_needed(&cfg), PROBES);
	config_with(&cfg, "probes.syscalls=auto", "server.listen=0.0.0.0:443",
		    NULL);
	assert_int_equal(privs_needed(&cfg), PROBES | NET_BIND);
	/* The stack profiler attaches at runtime: the same two. */
	config_with(&cfg, "probes.profile=on", NULL);
	assert_int_equal(privs_needed(&cfg), PROBES);
	config_with(&cfg, "probes.profile=on", "probes.syscalls=on", NULL);
	assert_int_equal(privs_needed(&cfg), PROBES);
}

static void test_caps_text(void **state)
{
	char buf[64];

	privs_caps_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "none");
	privs_caps_text(NET_BIND | PROBES, buf, sizeof(buf));
	assert_string_equal(buf, "cap_net_bind_service,cap_perfmon,cap_bpf");
	privs_caps_text(PRIVS_CAP(CAP_SYS_ADMIN), buf, sizeof(buf));
	assert_string_equal(buf, "cap_21");
	privs_caps_text(NET_BIND | PROBES, buf, 24);
	assert_string_equal(buf, "cap_net_bind_service");
}

static void test_unknown_user(void **state)
{
	static struct config cfg;
	char err[256] = "";

	config_with(&cfg, "server.user=evd-no-such-user", NULL);
	assert_int_equal(privs_drop(&cfg, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "[server] user = \"evd-no-such-user\": no such "
			    "user (create it, e.g. `systemd-sysusers` or "
			    "`adduser --system evd-no-such-user`, or change the "
			    "key)");
}

/* Appends the /proc/self/status line "Key:\tv1\tv2" as " key=v1,v2". */
static void status_field(const char *status, const char *key, char *out,
			 size_t len)
{
	char pat[32];
	snprintf(pat, sizeof(pat), "\n%s:", key);
	const char *p = strstr(status, pat);
	size_t off = strlen(out);

	snprintf(out + off, len - off, " %s=", key);
	off = strlen(out);
	if (!p)
		return;
	p += strlen(pat);
	while (*p == '\t' || *p == ' ')
		p++;
	while (*p && *p != '\n' && off + 1 < len) {
		char c = *p++;
		if (c == '\t' || c == ' ') {
			while (*p == '\t' || *p == ' ')
				p++;
			if (*p == '\n' || !*p)
				break;
			c = ',';
		}
		out[off++] = c;
	}
	out[off] = '\0';
}

/* "rc=R Uid=... Gid=... Groups=... CapInh=... ... err=..." for this
 * process. */
static void report(int rc, const char *err, char *out, size_t len)
{
	char status[8192] = "\n";
	FILE *f = fopen("/proc/self/status", "re");

	if (f) {
		size_t n = fread(status + 1, 1, sizeof(status) - 2, f);
		status[n + 1] = '\0';
		fclose(f);
	}
	snprintf(out, len, "rc=%d", rc);
	static const char *const keys[] = { "Uid", "Gid", "Groups", "CapInh",
					    "CapPrm", "CapEff", "CapBnd",
					    "CapAmb" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		status_field(status, keys[i], out, len);
	size_t off = strlen(out);
	snprintf(out + off, len - off, " err=%s", err);
}

typedef void child_fn(char *out, size_t len, void *arg);

/* Runs fn in a child and returns what it wrote (static buffer). */
static const char *in_child(child_fn *fn, void *arg)
{
	static char buf[2048];
	int p[2];

	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char out[2048] = "";
		close(p[0]);
		fn(out, sizeof(out), arg);
		ssize_t w = write(p[1], out, strlen(out));
		/* _exit: no LeakSanitizer pass in a process that changed
		 * its credentials (it cannot ptrace itself any more). */
		_exit(w == (ssize_t)strlen(out) ? 0 : 1);
	}
	close(p[1]);
	size_t off = 0;
	ssize_t n;
	while ((n = read(p[0], buf + off, sizeof(buf) - 1 - off)) > 0)
		off += (size_t)n;
	buf[off] = '\0';
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return buf;
}

struct drop_arg {
	const char *user;	/* NULL = empty key */
	uint64_t keep;
	/* Before the drop, become nobody with these capabilities in every
	 * set (ambient too), as systemd's User= and AmbientCapabilities=. */
	bool as_nobody;
	uint64_t ambient;
	bool try_bind_low;	/* after the drop, bind a port below 1024 */
};

static int become_nobody(uint64_t caps)
{
	struct passwd *pw = getpwnam("nobody");
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)caps, (uint32_t)caps, (uint32_t)caps },
		{ 0, 0, 0 },
	};

	if (!pw || setgroups(1, &pw->pw_gid) < 0 ||
	    prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0 ||
	    syscall(SYS_capset, &hdr, d) < 0)
		return -1;
	for (int c = 0; c < 32; c++)
		if ((caps & PRIVS_CAP(c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return -1;
	return 0;
}

/* Binds 127.0.0.1 on a free port in 1000..1023: "bind=ok", "bind=EACCES". */
static const char *bind_low(void)
{
	for (int port = 1000; port < 1024; port++) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sin = {
			.sin_family = AF_INET,
			.sin_port = htons((uint16_t)port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		};
		int rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin));
		int e = errno;
		close(fd);
		if (rc == 0)
			return "bind=ok";
		if (e == EACCES)
			return "bind=EACCES";
	}
	return "bind=all-busy";
}

static void drop_child(char *out, size_t len, void *varg)
{
	struct drop_arg *a = varg;
	static struct config cfg;
	char err[512] = "";
	char user[64];

	snprintf(user, sizeof(user), "server.user=%s", a->user ? a->user : "");
	config_with(&cfg, user, NULL);
	if (a->as_nobody && become_nobody(a->ambient) < 0) {
		snprintf(out, len, "become_nobody: %s", strerror(errno));
		return;
	}
	int rc = privs_drop(&cfg, a->keep, err, sizeof(err));
	report(rc, err, out, len);
	if (a->try_bind_low) {
		size_t off = strlen(out);
		snprintf(out + off, len - off, " %s", bind_low());
	}
}

static void need_root(void)
{
	if (geteuid() != 0)
		skip();	/* needs root: the drops switch users */
}

/* This process's bounding set (the test may run with a reduced one). */
static uint64_t full_bounding(void)
{
	uint64_t set = 0;
	int r;
	for (int c = 0; c < 64 && (r = prctl(PR_CAPBSET_READ, c, 0, 0, 0)) >= 0; c++)
		if (r == 1)
			set |= PRIVS_CAP(c);
	return set;
}

#define NOBODY "Uid=65534,65534,65534,65534 Gid=65534,65534,65534,65534 " \
	       "Groups=65534"

static void test_root_to_nobody(void **state)
{
	need_root();
	struct drop_arg a = { .user = "nobody", .try_bind_low = true };
	assert_string_equal(in_child(drop_child, &a),
			    "rc=1 " NOBODY " CapInh=0000000000000000 "
			    "CapPrm=0000000000000000 CapEff=0000000000000000 "
			    "CapBnd=0000000000000000 CapAmb=0000000000000000 "
			    "err= bind=EACCES");
}

static void test_root_to_nobody_keeps_net_bind(void **state)
{
	need_root();
	struct drop_arg a = { .user = "nobody", .keep = NET_BIND,
			      .try_bind_low = true };
	assert_string_equal(in_child(drop_child, &a),
			    "rc=1 " NOBODY " CapInh=0000000000000000 "
			    "CapPrm=0000000000000400 CapEff=0000000000000400 "
			    "CapBnd=0000000000000400 CapAmb=0000000000000000 "
			    "err= bind=ok");
}

static void test_root_to_nobody_keeps_probes(void **state)
{
	need_root();
	struct drop_arg a = { .user = "nobody", .keep = PROBES | NET_BIND };
	assert_string_equal(in_child(drop_child, &a),
			    "rc=1 " NOBODY " CapInh=0000000000000000 "
			    "CapPrm=000000c000000400 CapEff=000000c000000400 "
			    "CapBnd=000000c000000400 CapAmb=0000000000000000 "
			    "err=");
}

/* Root without [server] user stays root, every capability intact. */
static void test_root_without_user(void **state)
{
	need_root();
	char full[32], caps[256];
	struct drop_arg a = { 0 };
	const char *got = in_child(drop_child, &a);

	snprintf(full, sizeof(full), "%016llx",
		 (unsigned long long)full_bounding());
	/* The groups are whatever the test runs with. */
	assert_non_null(strstr(got, "rc=0 Uid=0,0,0,0 Gid=0,0,0,0 "));
	snprintf(caps, sizeof(caps), "CapPrm=%s CapEff=%s CapBnd=%s", full,
		 full, full);
	assert_non_null(strstr(got, caps));
}

/* systemd's User=evd with AmbientCapabilities=CAP_NET_BIND_SERVICE and a
 * port above 1023: nothing is kept. */
static void test_unprivileged_ambient_cut(void **state)
{
	need_root();
	struct drop_arg a = { .as_nobody = true, .ambient = NET_BIND,
			      .try_bind_low = true };
	char want[512];
	snprintf(want, sizeof(want), "rc=0 " NOBODY " CapInh=0000000000000000 "
		 "CapPrm=0000000000000000 CapEff=0000000000000000 "
		 "CapBnd=%016llx CapAmb=0000000000000000 err= bind=EACCES",
		 (unsigned long long)full_bounding());
	assert_string_equal(in_child(drop_child, &a), want);
}

/* The same with a low port: the capability stays, the ambient set goes;
 * [server] user naming the current user is fine. */
static void test_unprivileged_keeps_net_bind(void **state)
{
	need_root();
	struct drop_arg a = { .user = "nobody", .keep = NET_BIND | PROBES,
			      .as_nobody = true, .ambient = NET_BIND,
			      .try_bind_low = true };
	char want[512];
	snprintf(want, sizeof(want), "rc=0 " NOBODY " CapInh=0000000000000000 "
		 "CapPrm=0000000000000400 CapEff=0000000000000400 "
		 "CapBnd=%016llx CapAmb=0000000000000000 err= bind=ok",
		 (unsigned long long)full_bounding());
	assert_string_equal(in_child(drop_child, &a), want);
}

static void test_unprivileged_cannot_switch(void **state)
{
	need_root();
	struct drop_arg a = { .user = "root", .as_nobody = true };
	char want[512];
	snprintf(want, sizeof(want), "rc=-1 " NOBODY " CapInh=0000000000000000 "
		 "CapPrm=0000000000000000 CapEff=0000000000000000 "
		 "CapBnd=%016llx CapAmb=0000000000000000 err=[server] user = "
		 "\"root\": evd runs as uid 65534 and only root can switch "
		 "users (start evd as root, or empty the key)",
		 (unsigned long long)full_bounding());
	assert_string_equal(in_child(drop_child, &a), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_needed),
		cmocka_unit_test(test_caps_text),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_root_to_nobody),
		cmocka_unit_test(test_root_to_nobody_keeps_net_bind),
		cmocka_unit_test(test_root_to_nobody_keeps_probes),
		cmocka_unit_test(test_root_without_user),
		cmocka_unit_test(test_unprivileged_ambient_cut),
		cmocka_unit_test(test_unprivileged_keeps_net_bind),
		cmocka_unit_test(test_unprivileged_cannot_switch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
