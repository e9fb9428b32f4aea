/* Shared by the faulty test servers (badecho, resetserver, closeserver):
 * listens on HOST:PORT (IPv4, numeric; port 0 takes a free one) and
 * prints the bound port on stdout.  Each includes it after defining PROG. */
#ifndef EVD_TOOLS_LISTEN_ON_H
#define EVD_TOOLS_LISTEN_ON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The listening socket, or -1 after saying why on stderr. */
static int listen_on(const char *host, unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sin);
	int one = 1, fd;

	if (inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		fprintf(stderr, PROG ": \"%s\" is not a numeric IPv4 address\n",
			host);
		return -1;
	}
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    listen(fd, 1024) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
		fprintf(stderr, PROG ": cannot listen on %s:%u: %s\n", host,
			port, strerror(errno));
		return -1;
	}
	printf("%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	return fd;
}

#endif
