/* closeserver: an HTTP/1.1 server that ends its connections politely, as
 * evd does when it drains (reload, stop).
 *
 * It serves one connection at a time.  Each request head (up to the blank
 * line; bodies are not supported) is answered "200 OK" with the 2-byte body
 * "ok"; the K-th answer on a connection (-k, default 1) carries
 * "Connection: close", and the server then closes gently: FIN first, the
 * rest of the input (pipelined requests it will never answer) read and
 * discarded until the client closes (at most 2 s), then close().  A client
 * that follows HTTP sends those requests again on a new connection.
 *
 * After each connection it prints "answered N" (the total so far) on
 * stdout, so a test can check that every request was answered exactly once.
 *
 * usage: closeserver [-k K] [-H HOST] [-p PORT]
 * Binds HOST (default 127.0.0.1) port PORT (default 0: any free port),
 * prints the port on stdout (one line) once it listens, and runs until it
 * is killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define PROG "closeserver"

#include "listen_on.h"

#define HEAD_MAX 8192

static const char reply_keep[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
static const char reply_close[] =
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";

static unsigned long answered;

/* Writes all of p.  Returns 0, or -1 if the connection failed. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* FIN, then the input read and dropped until the client closes (a close()
 * with unread input would send a reset, and the client could lose the last
 * reply). */
static void close_gently(int fd)
{
	struct timeval tv = { .tv_sec = 2 };
	char buf[4096];

	shutdown(fd, SHUT_WR);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

/* Serves one connection until its K-th answer, the client's end, an error,
 * or 10 s without input. */
static void serve(int fd, unsigned long k)
{
	struct timeval tv = { .tv_sec = 10 };
	char buf[HEAD_MAX];
	size_t have = 0;
	unsigned long n = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		char *end = memmem(buf, have, "\r\n\r\n", 4);
		if (end) {
			size_t used = (size_t)(end + 4 - buf);
			bool last = ++n == k;
			const char *r = last ? reply_close : reply_keep;
			size_t rlen = last ? sizeof(reply_close) - 1 :
					     sizeof(reply_keep) - 1;
			if (write_all(fd, r, rlen) < 0)
				break;
			answered++;
			if (last) {
				close_gently(fd);
				break;
			}
			memmove(buf, buf + used, have - used);
			have -= used;
			continue;
		}
		if (have == sizeof(buf)) {
			fprintf(stderr, PROG ": a request head over %d bytes\n",
				HEAD_MAX);
			break;
		}
		ssize_t r = read(fd, buf + have, sizeof(buf) - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	close(fd);
	printf("answered %lu\n", answered);
	fflush(stdout);
}

static void serve_k(int fd, void *k)
{
	serve(fd, *(unsigned long *)k);
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	unsigned port = 0;
	unsigned long k = 1;
	int ch, lfd;

	while ((ch = getopt(argc, argv, "k:H:p:h")) != -1) {
		switch (ch) {
		case 'k':
			k = (unsigned long)opt_num("-k", optarg, 1, ULONG_MAX);
			break;
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = (unsigned)opt_num("-p", optarg, 0, 65535);
			break;
		default:
			fprintf(ch == 'h' ? stdout : stderr,
				"usage: " PROG " [-k K] [-H HOST] [-p PORT]\n"
				"An HTTP server whose K-th answer (default 1) "
				"on each connection says\n\"Connection: close\" "
				"before it closes gently. Prints the port it "
				"listens on,\nthen \"answered N\" after each "
				"connection.\n");
			return ch == 'h' ? 0 : 2;
		}
	}
	lfd = listen_on(host, port);
	if (lfd < 0)
		return 1;
	return accept_forever(lfd, serve_k, &k);
}
