/* The floor for evd's thread model: a thread-per-connection echo server
 * with nothing else.  threadecho PORT: listens on 127.0.0.1:PORT; each
 * accepted connection is served by a new detached thread, which echoes
 * until end of stream. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg)
{
	int c = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(c, buf, sizeof(buf))) > 0)
		if (write(c, buf, (size_t)n) != n)
			break;
	close(c);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0);
	pthread_attr_t attr;
	pthread_t t;

	a.sin_port = htons(argc > 1 ? (unsigned short)atoi(argv[1]) : 7777);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) || listen(s, 511))
		return 1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);	/* evd's thread stack */
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0 && pthread_create(&t, &attr, serve, (void *)(intptr_t)c))
			close(c);
	}
}
