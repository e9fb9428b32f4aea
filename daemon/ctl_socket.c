/* The control socket's file (ctl_socket.h).
 *
 * Why this shape.  A unix socket's owner and mode live on the file bind(2)
 * makes, and fchown/fchmod on the socket's descriptor change the socket
 * inode inside the kernel, not that file; chown(2) and chmod(2) by name
 * follow whatever the name holds at that moment.  Whoever may write the
 * socket's directory (evd's own user, when root starts evd with [server]
 * user) could put a symbolic or hard link there between the bind and the
 * chown, and root would give its group and mode to any file.  So:
 *
 *   1. the directory is opened once (O_PATH, O_NOFOLLOW) and checked on
 *      that descriptor: it belongs to root or evd's user and no one else
 *      may write it (group and other write bits; with an ACL the group
 *      bits are its mask, so no named entry may write either);
 *   2. evd makes a directory of its own in it (mode 0700, checked through
 *      its descriptor: evd's owner, no access for anyone else), binds the
 *      socket there under a restrictive umask, and sets group and mode
 *      through that directory's descriptor: no one else can add, remove or
 *      replace a name in it, so those names cannot be redirected;
 *   3. rename(2) moves the finished socket into place (a rename never
 *      follows a link; RENAME_NOREPLACE refuses to overwrite what another
 *      process put there meanwhile); the private directory is removed.
 *
 * What a writer of the directory can still do is what it could do anyway:
 * remove or replace names in it.  At stop the socket is removed through
 * the directory descriptor, only if the name still holds the file evd
 * made (same device and inode). */
#include "ctl_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRIVATE_TRIES 16

/* Binds (do_bind) or connects fd to name in the directory dirfd: the
 * working directory moves there for the call and back, so that a name
 * someone changes on the way cannot redirect it.  0, or -errno. */
static int sock_at(int dirfd, int fd, const char *name, bool do_bind)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int rc = 0;

	if (strlen(name) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, name);
	int cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0)
		return -errno;
	if (fchdir(dirfd) < 0) {
		rc = -errno;
	} else {
		if ((do_bind ? bind(fd, (struct sockaddr *)&sun, sizeof(sun)) :
			       connect(fd, (struct sockaddr *)&sun,
				       sizeof(sun))) < 0)
			rc = -errno;
		if (fchdir(cwd) < 0 && rc == 0)
			rc = -errno;
	}
	close(cwd);
	return rc;
}

/* Opens the directory of s->path (making it, one level, if missing) and
 * checks that only root or owner may write it.  0, or -1 with err. */
static int open_dir(struct ctl_socket *s, uid_t owner, char *err, size_t len)
{
	char dir[sizeof(s->path)];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", s->path);
	char *slash = strrchr(dir, '/');
	s->name = slash ? s->path + (slash - dir) + 1 : s->path;
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if (!*s->name) {
		snprintf(err, len, "[control] socket = %s names a directory, "
			 "not a socket file (e.g. /run/evd/evd.sock)", s->path);
		return -1;
	}
	if (mkdir(dir, 0755) == 0)
		s->made_dir = true;
	else if (errno != EEXIST) {
		snprintf(err, len, "cannot create directory %s for the control "
			 "socket: %s", dir, strerror(errno));
		return -1;
	}
	s->dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (s->dirfd < 0 || fstat(s->dirfd, &st) < 0) {
		snprintf(err, len, "control socket directory %s: %s%s", dir,
			 strerror(errno), errno == ENOTDIR ? " (a symbolic link? "
			 "name the real directory in [control] socket)" : "");
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != owner) {
		snprintf(err, len, "control socket directory %s belongs to uid "
			 "%u: only root or evd's user (uid %u) may own it, or "
			 "another user could swap the socket (chown it, or set "
			 "[control] socket to another directory)", dir,
			 (unsigned)st.st_uid, (unsigned)owner);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, len, "control socket directory %s is writable by "
			 "%s (mode %04o): only root or evd's user may write it, "
			 "or another user could swap the socket (chmod go-w %s, "
			 "or set [control] socket to another directory)", dir,
			 st.st_mode & S_IWOTH ? "every user" : "its group",
			 (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

/* Refuses a path held by a live evd or by something other than a socket;
 * *stale: a dead evd's socket is there.  0, or -1 with err. */
static int check_name(struct ctl_socket *s, bool *stale, char *err,
		      size_t len)
{
	struct stat st;

	*stale = false;
	if (fstatat(s->dirfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, len, "control socket path %s exists and is not a "
			 "socket (move it away, or set [control] socket to "
			 "another path)", s->path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, len, "control socket %s: %s", s->path,
			 strerror(errno));
		return -1;
	}
	int rc = sock_at(s->dirfd, fd, s->name, false);
	close(fd);
	if (rc == 0) {
		snprintf(err, len, "another evd is running with control "
			 "socket %s (stop it, or set [control] socket to "
			 "another path)", s->path);
		return -1;
	}
	*stale = rc == -ECONNREFUSED;
	return 0;
}

/* Makes evd's private directory beside the socket: its name in tmp, its
 * descriptor returned (checked: a directory of evd's, mode 0700), or -1
 * with err. */
static int make_private(struct ctl_socket *s, char *tmp, size_t tmplen,
			char *err, size_t len)
{
	struct stat st;
	int fd = -1;

	for (int i = 0; i < PRIVATE_TRIES; i++) {
		unsigned r = 0;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r ^= (unsigned)getpid() * 2654435761u + (unsigned)i;
		snprintf(tmp, tmplen, ".%s.%08x", s->name, r);
		if (mkdirat(s->dirfd, tmp, 0700) == 0)
			break;
		if (errno != EEXIST || i == PRIVATE_TRIES - 1) {
			snprintf(err, len, "control socket %s: cannot make a "
				 "directory beside it: %s", s->path,
				 strerror(errno));
			return -1;
		}
	}
	fd = openat(s->dirfd, tmp, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == geteuid() && !(st.st_mode & 077))
		return fd;
	snprintf(err, len, "control socket %s: the directory evd made beside "
		 "it was replaced before evd could open it (another user "
		 "writes there?)", s->path);
	if (fd >= 0)
		close(fd);
	unlinkat(s->dirfd, tmp, AT_REMOVEDIR);
	return -1;
}

/* Binds fd in the private directory and gives the file its group and
 * mode there; records its device and inode.  0, or -1 with err. */
static int bind_private(struct ctl_socket *s, int fd, int tmpfd, unsigned mode,
			gid_t gid, char *err, size_t len)
{
	struct stat st;
	const char *step = "bind";

	mode_t old = umask(0777 & ~mode);
	int rc = sock_at(tmpfd, fd, s->name, true);
	umask(old);
	if (rc < 0) {
		errno = -rc;
		goto fail;
	}
	step = "chown";
	if (gid != (gid_t)-1 &&
	    fchownat(tmpfd, s->name, (uid_t)-1, gid, AT_SYMLINK_NOFOLLOW) < 0)
		goto fail;
	step = "chmod";
	if (fchmodat(tmpfd, s->name, mode, 0) < 0)
		goto fail;
	step = "stat";
	if (fstatat(tmpfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		goto fail;
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
fail:
	if (!strcmp(step, "chown"))
		snprintf(err, len, "control socket %s: cannot give it to group "
			 "%u: %s (evd must run as root or be a member of that "
			 "group)", s->path, (unsigned)gid, strerror(errno));
	else
		snprintf(err, len, "control socket %s: %s: %s", s->path, step,
			 strerror(errno));
	return -1;
}

/* Moves the finished socket from the private directory to its name,
 * replacing nothing (a dead evd's socket was removed just before). */
static int move_into_place(struct ctl_socket *s, int tmpfd, bool stale,
			   char *err, size_t len)
{
	if (stale && unlinkat(s->dirfd, s->name, 0) == 0)
		s->removed_stale = true;
	int rc = renameat2(tmpfd, s->name, s->dirfd, s->name, RENAME_NOREPLACE);
	if (rc < 0 && errno == EINVAL)	/* a file system without it */
		rc = renameat(tmpfd, s->name, s->dirfd, s->name);
	if (rc == 0)
		return 0;
	snprintf(err, len, "cannot bind control socket %s: %s%s", s->path,
		 strerror(errno), errno == EEXIST ? " (something is in the way "
		 "at that name: remove it if no evd runs there)" : "");
	return -1;
}

int ctl_socket_open(struct ctl_socket *s, const char *path, unsigned mode,
		    gid_t gid, uid_t owner, char *err, size_t errlen)
{
	char tmp[sizeof(s->path) + 16];
	int fd = -1, tmpfd = -1;
	bool stale;

	memset(s, 0, sizeof(*s));
	s->dirfd = -1;
	if (strlen(path) >= sizeof(s->path)) {
		snprintf(err, errlen, "[control] socket = %s: longer than the "
			 "%zu bytes a unix socket path may have", path,
			 sizeof(s->path) - 1);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s", path);
	if (open_dir(s, owner, err, errlen) < 0 ||
	    check_name(s, &stale, err, errlen) < 0)
		goto fail;
	tmpfd = make_private(s, tmp, sizeof(tmp), err, errlen);
	if (tmpfd < 0)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket %s: %s", s->path,
			 strerror(errno));
		goto fail;
	}
	if (bind_private(s, fd, tmpfd, mode, gid, err, errlen) < 0)
		goto fail;
	if (listen(fd, 64) < 0) {
		snprintf(err, errlen, "control socket %s: listen: %s", s->path,
			 strerror(errno));
		goto fail;
	}
	if (move_into_place(s, tmpfd, stale, err, errlen) < 0)
		goto fail;
	unlinkat(s->dirfd, tmp, AT_REMOVEDIR);
	close(tmpfd);
	return fd;
fail:
	if (tmpfd >= 0) {
		unlinkat(tmpfd, s->name, 0);
		unlinkat(s->dirfd, tmp, AT_REMOVEDIR);
		close(tmpfd);
	}
	if (fd >= 0)
		close(fd);
	ctl_socket_forget(s);
	return -1;
}

int ctl_socket_remove(struct ctl_socket *s, char *err, size_t errlen)
{
	struct stat st, dir;

	if (s->dirfd < 0)
		return 0;
	if (fstatat(s->dirfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen, "control socket %s is already gone",
			 s->path);
		return 0;
	}
	if (st.st_dev != s->dev || st.st_ino != s->ino) {
		snprintf(err, errlen, "left %s alone: it is no longer the "
			 "socket evd made (someone replaced it)", s->path);
		return 0;
	}
	if (unlinkat(s->dirfd, s->name, 0) == 0)
		return 1;
	int e = errno;
	bool got = fstat(s->dirfd, &dir) == 0;
	snprintf(err, errlen, "cannot remove control socket %s: %s (evd runs "
		 "as uid %u now; its directory belongs to uid %u, mode %04o: "
		 "give the directory to [server] user, or remove the socket by "
		 "hand; the next evd replaces it anyway)", s->path, strerror(e),
		 (unsigned)geteuid(), got ? (unsigned)dir.st_uid : 0u,
		 got ? (unsigned)(dir.st_mode & 07777) : 0u);
	return -1;
}

void ctl_socket_forget(struct ctl_socket *s)
{
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->dirfd = -1;
}
