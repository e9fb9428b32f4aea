/* The floor for evd's fork model: a fork-per-connection echo server with
 * nothing else.  forkecho PORT: listens on 127.0.0.1:PORT; each accepted
 * connection is served by a new child, which echoes until end of stream. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	char buf[4096];
	ssize_t n;

	a.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 7777);
	signal(SIGCHLD, SIG_IGN);	/* the kernel reaps the children */
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 511))
		return 1;
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0 && fork() == 0) {
			close(s);
			while ((n = read(c, buf, sizeof(buf))) > 0)
				if (write(c, buf, (size_t)n) != n)
					break;
			_exit(0);
		}
		close(c);
	}
}
