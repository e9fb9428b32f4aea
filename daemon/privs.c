/* Dropping the user and the capabilities evd no longer needs (privs.h). */
#include "privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "config.h"

#define MAX_GROUPS 256

struct capsets {
	uint64_t eff, prm, inh;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

uint64_t privs_needed(const struct config *cfg)
{
	uint64_t caps = 0;

	for (unsigned i = 0; i < cfg->nlisten; i++) {
		unsigned port = listen_addr_port(&cfg->listen[i]);
		if (port > 0 && port < 1024)
			caps |= PRIVS_CAP(CAP_NET_BIND_SERVICE);
	}
	/* The stack profiler attaches at runtime as the probes may. */
	if (cfg->probes_syscalls != PROBES_OFF || cfg->probes_profile)
		caps |= PRIVS_CAP(CAP_BPF) | PRIVS_CAP(CAP_PERFMON);
	return caps;
}

void privs_caps_text(uint64_t caps, char *buf, size_t len)
{
	static const struct {
		int cap;
		const char *name;
	} names[] = {
		{ CAP_NET_BIND_SERVICE, "cap_net_bind_service" },
		{ CAP_PERFMON, "cap_perfmon" },
		{ CAP_BPF, "cap_bpf" },
	};
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (int c = 0; c < 64; c++) {
		if (!(caps & PRIVS_CAP(c)))
			continue;
		const char *name = NULL;
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (names[i].cap == c)
				name = names[i].name;
		int n = name ? snprintf(buf + off, len - off, "%s%s",
					off ? "," : "", name) :
			       snprintf(buf + off, len - off, "%scap_%d",
					off ? "," : "", c);
		if (n < 0 || (size_t)n >= len - off) {
			buf[off] = '\0';	/* whole names only */
			return;
		}
		off += (size_t)n;
	}
	if (off == 0)
		snprintf(buf, len, "none");
}

/* The calling thread's sets as masks, from libcap. */
static int caps_get(struct capsets *s)
{
	static const cap_flag_t flags[3] = { CAP_EFFECTIVE, CAP_PERMITTED,
					     CAP_INHERITABLE };
	uint64_t *masks[3] = { &s->eff, &s->prm, &s->inh };
	cap_t c = cap_get_proc();
	int rc = 0;

	if (!c)
		return -errno;
	memset(s, 0, sizeof(*s));
	for (cap_value_t v = 0; v < 64 && v < cap_max_bits() && !rc; v++)
		for (int f = 0; f < 3; f++) {
			cap_flag_value_t on = CAP_CLEAR;
			if (cap_get_flag(c, v, flags[f], &on) < 0) {
				rc = -errno;
				break;
			}
			if (on == CAP_SET)
				*masks[f] |= PRIVS_CAP(v);
		}
	cap_free(c);
	return rc;
}

/* Sets the calling thread's sets to exactly these masks. */
static int caps_set(const struct capsets *s)
{
	static const cap_flag_t flags[3] = { CAP_EFFECTIVE, CAP_PERMITTED,
					     CAP_INHERITABLE };
	const uint64_t masks[3] = { s->eff, s->prm, s->inh };
	cap_t c = cap_init();
	int rc = 0;

	if (!c)
		return -errno;
	for (cap_value_t v = 0; v < 64 && !rc; v++)
		for (int f = 0; f < 3; f++)
			if ((masks[f] & PRIVS_CAP(v)) &&
			    cap_set_flag(c, flags[f], 1, &v, CAP_SET) < 0) {
				rc = -errno;
				break;
			}
	if (!rc && cap_set_proc(c) < 0)
		rc = -errno;
	cap_free(c);
	return rc;
}

/* Drops every capability but keep from the bounding set (needs
 * CAP_SETPCAP).  cap_get_bound() fails past the kernel's last one. */
static int bounding_cut(uint64_t keep)
{
	for (cap_value_t c = 0; c < 64 && cap_get_bound(c) >= 0; c++) {
		if (keep & PRIVS_CAP(c))
			continue;
		if (cap_drop_bound(c) < 0)
			return -errno;
	}
	return 0;
}

/* Cuts effective and permitted to keep (what of it is permitted), empties
 * the inheritable and ambient sets.  Returns the kept set or -errno. */
static int64_t caps_cut(uint64_t keep, const char **step)
{
	struct capsets now = { 0 }, want;
	int rc;

	*step = "cap_get_proc";
	if ((rc = caps_get(&now)) < 0)
		return rc;
	want.prm = now.prm & keep;
	want.eff = want.prm;
	want.inh = 0;
	if (now.eff != want.eff || now.prm != want.prm || now.inh != want.inh) {
		*step = "cap_set_proc";
		if ((rc = caps_set(&want)) < 0)
			return rc;
	}
	/* Emptying the inheritable set already clears the ambient one; this
	 * covers the case where capset was not needed. */
	*step = "cap_reset_ambient";
	if (cap_reset_ambient() < 0 && errno != EINVAL)	/* no ambient sets */
		return -errno;
	return (int64_t)want.prm;
}

/* Looks the user up; 0, or -1 with err filled. */
static int find_user(const char *name, struct passwd *pw, char *buf,
		     size_t buflen, char *err, size_t errlen)
{
	struct passwd *found = NULL;
	int rc = getpwnam_r(name, pw, buf, buflen, &found);

	if (rc != 0) {
		fail(err, errlen, "[server] user = \"%s\": cannot read the user "
		     "database: %s", name, strerror(rc));
		return -1;
	}
	if (!found) {
		fail(err, errlen, "[server] user = \"%s\": no such user (create "
		     "it, e.g. `systemd-sysusers` or `adduser --system %s`, or "
		     "change the key)", name, name);
		return -1;
	}
	return 0;
}

/* As root: groups, bounding set, then gid and uid keeping the permitted
 * capabilities across the uid change. */
static int switch_user(const struct passwd *pw, uint64_t keep, char *err,
		       size_t errlen)
{
	gid_t groups[MAX_GROUPS];
	int ngroups = MAX_GROUPS;
	const char *step;

	/* getgrouplist includes the primary group itself. */
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &ngroups) < 0) {
		groups[0] = pw->pw_gid;	/* more than MAX_GROUPS: the primary alone */
		ngroups = 1;
	}
	step = "setgroups";
	if (setgroups((size_t)ngroups, groups) < 0)
		goto fail;
	step = "dropping the capability bounding set";
	int rc = bounding_cut(keep);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	step = "prctl(PR_SET_KEEPCAPS)";
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		goto fail;
	step = "setresgid";
	if (setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0)
		goto fail;
	step = "setresuid";
	if (setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		goto fail;
	step = "prctl(PR_SET_KEEPCAPS)";
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		goto fail;
	return 0;
fail:
	fail(err, errlen, "[server] user = \"%s\": %s failed: %s", pw->pw_name,
	     step, strerror(errno));
	return -1;
}

int privs_drop(const struct config *cfg, uint64_t keep_caps, char *err,
	       size_t errlen)
{
	struct passwd pw;
	char *buf = NULL;
	bool switched = false;
	const char *step;
	int rc = -1;

	if (cfg->user[0] == '\0' && geteuid() == 0)
		return 0;	/* root by choice */
	if (cfg->user[0]) {
		long len = sysconf(_SC_GETPW_R_SIZE_MAX);
		size_t buflen = len > 0 ? (size_t)len : 16384;
		buf = malloc(buflen);
		if (!buf) {
			fail(err, errlen, "[server] user = \"%s\": out of memory",
			     cfg->user);
			goto out;
		}
		if (find_user(cfg->user, &pw, buf, buflen, err, errlen) < 0)
			goto out;
		if (geteuid() == 0 && pw.pw_uid != 0) {
			if (switch_user(&pw, keep_caps, err, errlen) < 0)
				goto out;
			switched = true;
		} else if (pw.pw_uid != geteuid()) {
			fail(err, errlen, "[server] user = \"%s\": evd runs as "
			     "uid %u and only root can switch users (start evd "
			     "as root, or empty the key)", cfg->user,
			     (unsigned)geteuid());
			goto out;
		}
	}
	int64_t kept = caps_cut(keep_caps, &step);
	if (kept < 0) {
		fail(err, errlen, "dropping capabilities: %s failed: %s", step,
		     strerror((int)-kept));
		goto out;
	}
	/* Belt and braces: with no CAP_SETUID left, root must be out of
	 * reach.  (glibc applies setuid to every thread: none other yet.) */
	if (switched && !(kept & PRIVS_CAP(CAP_SETUID)) &&
	    (setuid(0) == 0 || getuid() == 0 || geteuid() == 0)) {
		fail(err, errlen, "[server] user = \"%s\": still able to become "
		     "root after dropping privileges", cfg->user);
		goto out;
	}
	rc = switched ? 1 : 0;
out:
	free(buf);
	return rc;
}
