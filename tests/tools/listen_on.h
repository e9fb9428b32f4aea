/* Shared by the faulty test servers (badecho, resetserver, closeserver):
 * listens on HOST:PORT (IPv4, numeric; port 0 takes a free one) and
 * prints the bound port on stdout; reads their numeric options; runs their
 * accept loop.  Each includes it after defining PROG, and links
 * common/num.c. */
#ifndef EVD_TOOLS_LISTEN_ON_H
#define EVD_TOOLS_LISTEN_ON_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../../common/num.h"

/* The value of option opt, a whole number in [min, max]; exits with status
 * 2 and a message on stderr when it is not one. */
static uint64_t opt_num(const char *opt, const char *s, uint64_t min,
			uint64_t max)
{
	uint64_t v;

	if (num_uint(s, min, max, &v) < 0) {
		fprintf(stderr, PROG ": %s: \"%s\" is not a number from %llu "
			"to %llu\n", opt, s, (unsigned long long)min,
			(unsigned long long)max);
		exit(2);
	}
	return v;
}

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

/* Accepts on lfd for ever, handing each connection to serve().  Returns 1
 * (an exit status) after saying why on stderr when accept() fails for good;
 * interruptions, aborted handshakes and descriptor shortages are retried. */
static inline int accept_forever(int lfd, void (*serve)(int fd, void *arg),
				 void *arg)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			return 1;
		}
		serve(fd, arg);
	}
}

#endif
