/* badecho: an echo server that corrupts every Nth message.
 *
 * Messages end with '\n', as in evd's echo protocol.  The server counts
 * messages over all its connections in the order it reads them (one thread,
 * one poll() loop, so the order is well defined) and flips one bit (0x20:
 * a letter's case) of the first byte of messages N, 2N, 3N...; everything
 * else comes back as it came.  A client sending K messages of two bytes or
 * more gets exactly floor(K / N) corrupted echoes, whatever the number of
 * connections.
 *
 * usage: badecho -n N [-H HOST] [-p PORT]
 * Prints the port on stdout (one line) once it listens; runs until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define PROG "badecho"

#include "listen_on.h"

#define CONNS_MAX 1024
#define BUF_SIZE (64 * 1024)

struct client {
	int fd;
	bool mid;	/* inside a message: its first byte has been seen */
};

static struct pollfd pfd[CONNS_MAX + 1];
static struct client cl[CONNS_MAX + 1];
static unsigned nfds = 1;
static uint64_t messages, every;

/* Counts the messages that start in buf and corrupts the chosen ones. */
static void corrupt(struct client *c, char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		bool nl = buf[i] == '\n';
		if (!c->mid && ++messages % every == 0)
			buf[i] ^= 0x20;
		c->mid = !nl;
	}
}

/* Writes all of buf (the socket is blocking: the client reads while it
 * sends).  Returns -1 if the connection failed. */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

static void drop(unsigned i)
{
	close(pfd[i].fd);
	pfd[i] = pfd[--nfds];
	cl[i] = cl[nfds];
}

static void serve(unsigned i)
{
	static char buf[BUF_SIZE];
	ssize_t n = read(pfd[i].fd, buf, sizeof(buf));

	if (n < 0 && errno == EINTR)
		return;
	if (n <= 0) {
		drop(i);
		return;
	}
	corrupt(&cl[i], buf, (size_t)n);
	if (write_all(pfd[i].fd, buf, (size_t)n) < 0)
		drop(i);
}

static void accept_one(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (nfds == CONNS_MAX + 1) {
		close(fd);
		return;
	}
	pfd[nfds] = (struct pollfd){ .fd = fd, .events = POLLIN };
	cl[nfds] = (struct client){ .fd = fd };
	nfds++;
}

int main(int argc, char **argv)
{
	const char *host = "127.0.0.1";
	unsigned port = 0;
	int ch;

	while ((ch = getopt(argc, argv, "H:p:n:h")) != -1) {
		switch (ch) {
		case 'H':
			host = optarg;
			break;
		case 'p':
			port = (unsigned)opt_num("-p", optarg, 0, 65535);
			break;
		case 'n':
			every = opt_num("-n", optarg, 1, UINT64_MAX);
			break;
		default:
			goto usage;
		}
	}
	if (every == 0)
		goto usage;
	pfd[0] = (struct pollfd){ .fd = listen_on(host, port),
				  .events = POLLIN };
	if (pfd[0].fd < 0)
		return 1;
	for (;;) {
		if (poll(pfd, nfds, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, PROG ": poll: %s\n", strerror(errno));
			return 1;
		}
		/* Backwards: drop() moves the last entry into slot i. */
		for (unsigned i = nfds; i-- > 1;)
			if (pfd[i].revents)
				serve(i);
		if (pfd[0].revents & POLLIN)
			accept_one(pfd[0].fd);
	}
usage:
	fprintf(ch == 'h' ? stdout : stderr,
		"usage: " PROG " -n N [-H HOST] [-p PORT]\n"
		"An echo server that flips bit 0x20 of the first byte of every "
		"Nth message\n(messages end with '\\n'; counted over all "
		"connections). Prints its port.\n");
	return ch == 'h' ? 0 : 2;
}
