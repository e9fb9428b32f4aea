/* sysloop N: N getppid system calls in a loop, then prints the mean wall
 * time per call in nanoseconds.  measure.sh progcost compiles it to time
 * the syscall path of a process the probes do not count (every process on
 * the machine pays the tracepoints while they are attached).  Not part of
 * evd's build. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *end;
	unsigned long n = argc == 2 ? strtoul(argv[1], &end, 10) : 0;
	struct timespec a, b;

	if (argc != 2 || *end || n == 0 || n > 100000000ul) {
		fprintf(stderr, "usage: sysloop N (1..100000000 calls)\n");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (unsigned long i = 0; i < n; i++)
		syscall(SYS_getppid);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 +
		    (double)(b.tv_nsec - a.tv_nsec);
	printf("%.1f\n", ns / (double)n);
	return 0;
}
