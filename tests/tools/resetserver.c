/* resetserver: a TCP server that resets every connection.
 *
 * It accepts connections one at a time, waits for the first bytes of a
 * request (one read, at most 64 bytes, bounded by 10 s), then closes with
 * SO_LINGER {1, 0}: the kernel answers with an RST instead of a FIN, and the
 * client's next read or write fails with ECONNRESET.  With -f it closes
 * gently instead (a FIN, after the rest of the request is read): the client
 * sees the end of the stream before any reply.  evbench's tests count the
 * resets and the premature ends against it.
 *
 * usage: resetserver [-f] [-H HOST] [-p PORT]
 * Binds HOST (default 127.0.0.1) port PORT (default 0: any free port),
 * prints the port on stdout (one line) once it listens, and runs until it
 * is killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PROG "resetserver"

#include "listen_on.h"

#define READ_MAX 64

/* Reads a little (waiting at most 10 s), then resets the connection, or
 * with fin closes it gently: a close() with unread input would reset it, so
 * the input is drained for a moment first. */
static void reset_one(int fd, bool fin)
{
	struct timeval tv = { .tv_sec = 10 };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char buf[READ_MAX];
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	do
		n = read(fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (fin) {
		tv = (struct timeval){ .tv_usec = 20000 };
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
	} else {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	}
	close(fd);
}

static void serve(int fd, void *fin)
{
	reset_one(fd, *(bool *)fin);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	unsigned port = 0;
	bool fin = false;
	int ch, lfd;

	while ((ch = getopt(argc, argv, "fH:p:h")) != -1) {
		switch (ch) {
		case 'f':
			fin = true;
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = (unsigned)opt_num("-p", optarg, 0, 65535);
			break;
		default:
			fprintf(ch == 'h' ? stdout : stderr,
				"usage: " PROG " [-f] [-H HOST] [-p PORT]\n"
				"Accepts connections, reads once, resets each "
				"(SO_LINGER {1,0} + close),\nor with -f closes "
				"it gently (FIN). Prints the port it listens "
				"on.\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	lfd = listen_on(host, port);
	if (lfd < 0)
		return 1;
	return accept_forever(lfd, serve, &fin);
}
