/* refuser: a control socket that turns its client away before reading a
 * byte, as evd does when its client slots are full, but deterministically.
 *
 * usage: refuser PATH LINE SECONDS
 *
 * Binds a unix stream socket at PATH, waits up to SECONDS for one client,
 * shuts its own reading side (so the client's send fails at once with
 * EPIPE, before or after the close), writes LINE and a newline, closes.
 * Removes PATH on exit.  Exit status 0, 1 when no client came in time, 2
 * on a usage error or when PATH cannot be bound. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/num.h"

/* Waits up to ms for fd to be readable; returns poll()'s answer. */
static int wait_in(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t secs;
	int rc = 1;

	if (argc != 4 || num_uint(argv[3], 1, 3600, &secs) < 0 ||
	    strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: refuser PATH LINE SECONDS (1..3600)\n");
		return 2;
	}
	strcpy(sa.sun_path, argv[1]);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 1) < 0) {
		fprintf(stderr, "refuser: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	if (wait_in(lfd, (int)secs * 1000) == 1) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			shutdown(fd, SHUT_RD);
			ssize_t w = write(fd, argv[2], strlen(argv[2]));
			w = write(fd, "\n", 1);
			(void)w;
			close(fd);
			rc = 0;
		}
	}
	close(lfd);
	unlink(argv[1]);
	return rc;
}
