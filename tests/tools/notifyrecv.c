/* notifyrecv: stands in for systemd's notification socket in tests.
 *
 * usage: notifyrecv PATH SECONDS
 *
 * Binds a unix datagram socket at PATH and prints every message received
 * on one line ("READY=1", "STATUS=...", with newlines inside a message
 * shown as '|'), flushed at once; a message carrying MONOTONIC_USEC gets
 * "|RECEIVED_USEC=N" appended, this side's CLOCK_MONOTONIC then; until SECONDS have passed or SIGTERM
 * comes.  Removes PATH on exit.  Exit status 0, or 2 on a usage error or
 * when PATH cannot be bound. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../common/num.h"

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[4096];
	uint64_t secs;

	if (argc != 3 || num_uint(argv[2], 1, 86400, &secs) < 0 ||
	    strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: notifyrecv PATH SECONDS\n");
		return 2;
	}
	long long deadline = now_ms() + 1000LL * (long long)secs;
	strcpy(sa.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unlink(argv[1]);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "notifyrecv: %s: %s\n", argv[1], strerror(errno));
		return 2;
	}
	struct sigaction act = { .sa_handler = on_term };
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	while (!done) {
		long long left = deadline - now_ms();
		if (left <= 0)
			break;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) <= 0)
			continue;
		ssize_t n = recv(fd, msg, sizeof(msg) - 1, 0);
		if (n <= 0)
			continue;
		msg[n] = '\0';
		while (n > 0 && msg[n - 1] == '\n')
			msg[--n] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (msg[i] == '\n')
				msg[i] = '|';
		if (strstr(msg, "MONOTONIC_USEC="))
			printf("%s|RECEIVED_USEC=%lld\n", msg, now_ms() * 1000);
		else
			printf("%s\n", msg);
		fflush(stdout);
	}
	unlink(argv[1]);
	return 0;
}
