/* evctl: the control socket: which one, connecting, one exchange. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "evctl.h"

#define DEFAULT_SOCKET CTL_WIRE_DEFAULT_SOCKET
#define TREE_SOCKET CTL_WIRE_TREE_SOCKET
#define REPLY_MAX (4u << 20)

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* "name" of uid/gid, or the number when it has none. */
static const char *user_name(uid_t uid, char *buf, size_t len)
{
	struct passwd *pw = getpwuid(uid);	/* static: copied */

	if (pw)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "%u", (unsigned)uid);
	return buf;
}

static const char *group_name(gid_t gid, char *buf, size_t len)
{
	struct group *gr = getgrgid(gid);	/* static: copied */

	if (gr)
		snprintf(buf, len, "%s", gr->gr_name);
	else
		snprintf(buf, len, "%u", (unsigned)gid);
	return buf;
}

/* Why connecting to path was refused, and the fix.  What refuses is the
 * first directory on the way that this user may not search (the packaged
 * /run/evd is 0750, group evd), else the socket itself (it needs write
 * permission). */
static void denied(const char *path)
{
	char dir[4096], what[4200], me[64], owner[64], group[64];
	struct stat st;
	bool got = false;

	snprintf(dir, sizeof(dir), "%s", path);
	for (char *slash = strchr(dir + 1, '/'); slash;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (access(dir, X_OK) < 0 && errno == EACCES &&
		    stat(dir, &st) == 0) {
			snprintf(what, sizeof(what), "the directory %s", dir);
			got = true;
			break;
		}
		*slash = '/';
	}
	if (!got) {
		snprintf(what, sizeof(what), "the socket");
		got = stat(path, &st) == 0;
	}
	const char *u = user_name(getuid(), me, sizeof(me));
	if (!got) {
		fprintf(stderr, "evctl: cannot connect to %s: permission denied; "
			"run as root, or as a user that may reach it\n", path);
		return;
	}
	const char *g = group_name(st.st_gid, group, sizeof(group));
	const char *o = user_name(st.st_uid, owner, sizeof(owner));
	fprintf(stderr, "evctl: cannot connect to %s: permission denied: %s "
		"is mode %03o, owner %s, group %s; run as root%s%s, or join "
		"group %s (`adduser %s %s`, then log in again)\n", path, what,
		(unsigned)(st.st_mode & 0777), o, g, st.st_uid ? " or as " : "",
		st.st_uid ? o : "", g, u, g);
}

/* Connects to the chosen socket: -s, else $EVD_SOCKET, else the system's,
 * else the tree's (make run) when only that one exists.  Prints the reason
 * and returns -1 if not. */
static int open_control(const char *explicit_path, const char **used)
{
	const char *path = explicit_path ? explicit_path : getenv("EVD_SOCKET");
	bool fallback = !path || !*path;

	if (fallback)
		path = DEFAULT_SOCKET;
	int fd = connect_to(path);
	if (fd < 0 && fallback && (errno == ENOENT || errno == ECONNREFUSED)) {
		struct stat st;
		if (stat(TREE_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode)) {
			path = TREE_SOCKET;
			fd = connect_to(path);
		} else {
			errno = ENOENT;
		}
	}
	if (fd < 0 && errno == EACCES) {
		denied(path);
		return -1;
	}
	if (fd < 0) {
		fprintf(stderr, "evctl: cannot connect to %s: %s: is evd running?"
			"%s\n", path, strerror(errno),
			explicit_path ? "" : " (use -s SOCKET for another path)");
		return -1;
	}
	*used = path;
	return fd;
}

int evctl_connect(struct evctl *e)
{
	if (e->fd >= 0)
		return EXIT_OK;
	e->fd = open_control(e->sock_opt, &e->path);
	return e->fd < 0 ? EXIT_NO_DAEMON : EXIT_OK;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool reply_complete(const char *buf, size_t len)
{
	if (len == 0 || buf[len - 1] != '\n')
		return false;
	size_t start = len - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	const char *line = buf + start;
	size_t llen = len - 1 - start;
	size_t elen = strlen(CTL_WIRE_ERROR);
	if (llen == strlen(CTL_WIRE_END) && !memcmp(line, CTL_WIRE_END, llen))
		return true;
	/* An ERROR line ends a reply: alone, or after progress lines (a
	 * reload that reports its steps, then fails). */
	return llen >= elen && memcmp(line, CTL_WIRE_ERROR, elen) == 0;
}

/* The line of a complete reply that starts with ERROR, or NULL. */
static const char *error_line(const char *reply)
{
	size_t elen = strlen(CTL_WIRE_ERROR);

	for (const char *p = reply; *p;) {
		if (!strncmp(p, CTL_WIRE_ERROR, elen))
			return p;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}
	return NULL;
}

static int send_line(struct evctl *e, const char *cmd)
{
	size_t clen = strlen(cmd);
	char line[CTL_WIRE_LINE_MAX + 2];

	if (clen > CTL_WIRE_LINE_MAX) {
		fprintf(stderr, "evctl: command line too long (at most %d "
			"bytes)\n", CTL_WIRE_LINE_MAX);
		return EXIT_USAGE;
	}
	memcpy(line, cmd, clen);
	line[clen] = '\n';
	if (send(e->fd, line, clen + 1, MSG_NOSIGNAL) != (ssize_t)(clen + 1)) {
		/* evd may have answered and closed before the line went out
		 * (a client it turns away at accept): its answer is still
		 * there to read, and read_reply() reports a close without
		 * one. */
		if (errno == EPIPE || errno == ECONNRESET)
			return EXIT_OK;
		fprintf(stderr, "evctl: cannot send to %s: %s\n", e->path,
			strerror(errno));
		return EXIT_NO_DAEMON;
	}
	return EXIT_OK;
}

/* Reads until the reply is complete, within the timeout. */
static int read_reply(struct evctl *e, char **out)
{
	size_t cap = 8192, len = 0;
	char *data = malloc(cap);
	long long deadline = ms_now() + e->timeout_ms;

	*out = data;
	if (!data)
		return EXIT_NO_DAEMON;
	while (!reply_complete(data, len)) {
		long long left = deadline - ms_now();
		struct pollfd pfd = { .fd = e->fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "evctl: no complete answer from %s within "
				"%d ms\n", e->path, e->timeout_ms);
			return EXIT_NO_DAEMON;
		}
		if (len + 1 >= cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "evctl: reply from %s too large\n",
					e->path);
				return EXIT_NO_DAEMON;
			}
			char *d = realloc(data, cap * 2);
			if (!d)
				return EXIT_NO_DAEMON;
			*out = data = d;
			cap *= 2;
		}
		ssize_t n = recv(e->fd, data + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "evctl: %s closed the connection before "
				"answering%s%s\n", e->path, n < 0 ? ": " : "",
				n < 0 ? strerror(errno) : "");
			return EXIT_NO_DAEMON;
		}
		len += (size_t)n;
		data[len] = '\0';
	}
	data[len] = '\0';
	return EXIT_OK;
}

int evctl_transact(struct evctl *e, const char *line, char **out,
		   bool quiet_error)
{
	int rc = evctl_connect(e);

	*out = NULL;
	if (rc == EXIT_OK)
		rc = send_line(e, line);
	if (rc == EXIT_OK)
		rc = read_reply(e, out);
	if (rc != EXIT_OK)
		return rc;
	const char *err = error_line(*out);
	if (!err)
		return EXIT_OK;
	if (!quiet_error)
		fprintf(stderr, "evctl: evd: %s", err);
	return EXIT_REPLY_ERROR;
}

bool evctl_sleep(double s, volatile int *stop)
{
	struct timespec ts = {
		.tv_sec = (time_t)s,
		.tv_nsec = (long)((s - (double)(time_t)s) * 1e9),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		if (stop && *stop)
			return false;
	return !(stop && *stop);
}
