/* The control socket's file: made so that no one who may write its
 * directory can turn evd's chown or chmod onto another file, and removed at
 * stop only while it is still evd's.  Helpers fill err and never log. */
#ifndef EVD_CTL_SOCKET_H
#define EVD_CTL_SOCKET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/un.h>

struct ctl_socket {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *name;	/* the last component of path */
	int dirfd;		/* its directory, opened before privileges drop */
	dev_t dev;		/* the socket file evd made */
	ino_t ino;
	bool made_dir;		/* the directory was missing: evd made it */
	bool removed_stale;	/* a dead evd's socket was removed */
};

/*
 * Binds and listens on a unix stream socket at path, with mode and, unless
 * gid is -1, group gid; the caller is single-threaded (umask and the
 * working directory change for a moment).  The directory must belong to
 * root or owner (evd's user) and be writable by no one else.  The socket
 * is made in a private directory evd makes beside it (mode 0700), given
 * its owner and mode there, and moved into place by rename(2): nothing
 * done after the bind goes through a name anyone else may change.  A live
 * evd at path (it answers a connect) is refused; a dead one's socket is
 * replaced.  Returns the listening fd (CLOEXEC, NONBLOCK), or -1 with err
 * set and nothing left behind.
 */
int ctl_socket_open(struct ctl_socket *s, const char *path, unsigned mode,
		    gid_t gid, uid_t owner, char *err, size_t errlen);

/*
 * Removes the socket file if the name still holds the one evd made
 * (through the directory opened at start: valid after a privilege drop).
 * Returns 1 when removed, 0 when the name holds something else now (left
 * alone, why in err), -1 when it cannot be removed (why in err).
 */
int ctl_socket_remove(struct ctl_socket *s, char *err, size_t errlen);

/* Closes the directory descriptor; the file stays.  Safe to repeat. */
void ctl_socket_forget(struct ctl_socket *s);

#endif
