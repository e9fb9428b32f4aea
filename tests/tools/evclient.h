/* evclient's command line, shared by evclient.c (the run) and
 * evclient_opts.c (usage, the values of the options, the checks across
 * them, the descriptor limit). */
#ifndef EVD_TOOLS_EVCLIENT_H
#define EVD_TOOLS_EVCLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define PROG "evclient"

#define CHUNK (64 * 1024)	/* bytes per send() or recv() */
#define IO_BUDGET 16		/* chunks per connection per wake-up */
#define SIZES_MAX 256		/* entries in -s */
#define MSG_SIZE_MAX (1ull << 30)
#define CONNS_MAX 1000000ull
#define COUNT_MAX 1000000000000ull
#define TIMEOUT_MAX_S 1e6
#define FD_SPARE 16		/* descriptors besides the connections */
#define DIAG_MAX 10		/* failures described on stderr */

enum disconnect {
	DISC_NONE,		/* exchange messages */
	DISC_CLOSE,		/* send a prefix, then close() */
	DISC_RESET,		/* send a prefix, then abort with an RST */
	DISC_MAX
};

struct opts {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addr_text[INET6_ADDRSTRLEN + 16];	/* "[::1]:7777", for messages */
	uint64_t conns;		/* open at once */
	uint64_t total;		/* made in all */
	uint64_t messages;	/* per connection */
	uint64_t sizes[SIZES_MAX];
	unsigned nsizes;
	double timeout_s;
	uint64_t seed;
	enum disconnect disc;
	uint64_t after;		/* bytes sent before a disconnect */
	bool barrier;		/* lockstep: see --barrier */
};

/* Prints the usage text to out. */
void evclient_usage(FILE *out);

/* Reads argv into o.  Returns 0, 1 when help is asked for, or -1 with a
 * message in err.  No I/O besides getaddrinfo() on a numeric host. */
int evclient_parse_args(int argc, char **argv, struct opts *o, char *err,
			size_t errlen);

/* Makes room for n descriptors, raising the soft limit if needed.
 * Returns 0, or -1 with a message in err when the hard limit is lower. */
int evclient_reserve_fds(uint64_t n, char *err, size_t errlen);

#endif
