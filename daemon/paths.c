/* Where evd's companions are: the data files it ships and evctl. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "paths.h"

/* evd's own directory (no trailing slash) in buf; -errno if unknown. */
static int exe_dir(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -errno;
	if ((size_t)n >= len - 1)
		return -ENAMETOOLONG;
	buf[n] = '\0';
	char *slash = strrchr(buf, '/');
	if (!slash)
		return -ENOENT;
	if (slash == buf)
		buf[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

static int is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int paths_data_file(const char *name, char *buf, size_t len)
{
	char dir[PATH_MAX];
	int rc = exe_dir(dir, sizeof(dir));

	if (rc < 0)
		return rc;
	char *slash = strrchr(dir, '/');
	if (!slash || (strcmp(slash, "/sbin") && strcmp(slash, "/bin")))
		return -ENOENT;
	*slash = '\0';
	int n = snprintf(buf, len, "%s/share/evd/%s", dir, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	return is_file(buf) ? 0 : -ENOENT;
}

/* Whether the evctl that $PATH finds is dir/evctl. */
static int path_finds(const char *dir)
{
	const char *path = getenv("PATH");
	char want[PATH_MAX], got[PATH_MAX], cand[PATH_MAX];

	if (!path || !realpath(dir, want))
		return 0;
	while (*path) {
		size_t n = strcspn(path, ":");
		int w = snprintf(cand, sizeof(cand), "%.*s/evctl", (int)n,
				 n ? path : ".");
		if (w > 0 && (size_t)w < sizeof(cand) &&
		    access(cand, X_OK) == 0) {
			cand[w - 6] = '\0';
			return realpath(cand, got) && !strcmp(got, want);
		}
		path += n + (path[n] == ':');
	}
	return 0;
}

void paths_evctl(char *buf, size_t len)
{
	char dir[PATH_MAX], cand[PATH_MAX + 8], cwd[PATH_MAX];

	snprintf(buf, len, "evctl");
	if (exe_dir(dir, sizeof(dir)) < 0)
		return;
	snprintf(cand, sizeof(cand), "%s/evctl", dir);
	if (access(cand, X_OK) < 0 || path_finds(dir))
		return;
	if (getcwd(cwd, sizeof(cwd)) && !strcmp(cwd, dir))
		snprintf(buf, len, "./evctl");
	else
		snprintf(buf, len, "%s", cand);
}
