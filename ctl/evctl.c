/* evctl: talks to a running evd over its control socket.
 *
 * The protocol is line-oriented text: one command line out; "key value"
 * lines and "END" back, or one "ERROR reason" line.  evctl sends the line,
 * reads the reply with a timeout and prints it as text or JSON. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/version.h"

#define DEFAULT_SOCKET "/run/evd/evd.sock"
#define TREE_SOCKET "run/evd.sock"
#define REPLY_MAX (4u << 20)

enum exit_code {
	EXIT_OK = 0,
	EXIT_REPLY_ERROR = 1,	/* evd answered ERROR */
	EXIT_USAGE = 2,
	EXIT_NO_DAEMON = 3,	/* cannot connect, or no complete answer */
};

enum format { FMT_TEXT, FMT_JSON };

struct reply {
	char *data;
	size_t len;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evctl [-s SOCKET] [-T SECONDS] COMMAND [-o text|json]\n"
		"\n"
		"Commands:\n"
		"  stats      uptime, model, protocol, workers, connections,\n"
		"             requests, bytes, errors by kind, request rate,\n"
		"             latency p50/p90/p99/max, CPU time of the serving side\n"
		"  workers [all]  one row per worker (live ones, or every slot\n"
		"             ever used): id, role, pid, tid, state (idle, reading,\n"
		"             writing, waiting), connections accepted and active,\n"
		"             requests, bytes in and out, restarts\n"
		"  ping       check that evd answers (pid, uptime)\n"
		"  version    versions of evctl and of the running evd\n"
		"  raw LINE   send LINE as a command and print the reply as is\n"
		"  help       this text\n"
		"\n"
		"Options:\n"
		"  -s SOCKET  control socket; default $EVD_SOCKET, else\n"
		"             " DEFAULT_SOCKET ", else ./" TREE_SOCKET
		" (what `make run` uses)\n"
		"             when only that one exists\n"
		"  -o FORMAT  text (default) or json\n"
		"  -T SECONDS give up waiting for a reply after this long (default 5)\n"
		"  -h         this help;  -V  the version of evctl\n"
		"\n"
		"Exit status: 0 success, 1 evd answered an error, 2 usage error,\n"
		"3 evd not reachable (not running, wrong socket, no answer).\n");
}

static int connect_to(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Connects to the chosen socket; prints the reason and returns -1 if not. */
static int open_control(const char *explicit_path, const char **used)
{
	const char *path = explicit_path ? explicit_path : getenv("EVD_SOCKET");
	bool fallback = !path || !*path;

	if (fallback)
		path = DEFAULT_SOCKET;
	int fd = connect_to(path);
	if (fd < 0 && fallback && (errno == ENOENT || errno == ECONNREFUSED)) {
		struct stat st;
		if (stat(TREE_SOCKET, &st) == 0 && S_ISSOCK(st.st_mode)) {
			path = TREE_SOCKET;
			fd = connect_to(path);
		} else {
			errno = ENOENT;
		}
	}
	if (fd < 0) {
		fprintf(stderr, "evctl: cannot connect to %s: %s: is evd running?"
			"%s\n", path, strerror(errno),
			explicit_path ? "" : " (use -s SOCKET for another path)");
		return -1;
	}
	*used = path;
	return fd;
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when buf ends with a complete reply: a line "END" or "ERROR ...". */
static bool reply_complete(const char *buf, size_t len)
{
	if (len == 0 || buf[len - 1] != '\n')
		return false;
	size_t start = len - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	const char *line = buf + start;
	size_t llen = len - 1 - start;
	if (llen == 3 && memcmp(line, "END", 3) == 0)
		return true;
	/* An ERROR reply is a single line. */
	return start == 0 && llen >= 5 && memcmp(line, "ERROR", 5) == 0;
}

/* Sends one command and reads the whole reply; EXIT_* on failure. */
static int transact(int fd, const char *path, const char *cmd, int timeout_ms,
		    struct reply *r)
{
	size_t clen = strlen(cmd);
	char *line = malloc(clen + 2);
	size_t cap = 8192;

	if (!line)
		return EXIT_NO_DAEMON;
	memcpy(line, cmd, clen);
	line[clen] = '\n';
	if (send(fd, line, clen + 1, MSG_NOSIGNAL) != (ssize_t)(clen + 1)) {
		fprintf(stderr, "evctl: cannot send to %s: %s\n", path,
			strerror(errno));
		free(line);
		return EXIT_NO_DAEMON;
	}
	free(line);
	r->data = malloc(cap);
	r->len = 0;
	if (!r->data)
		return EXIT_NO_DAEMON;
	long long deadline = ms_now() + timeout_ms;
	while (!reply_complete(r->data, r->len)) {
		long long left = deadline - ms_now();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
			fprintf(stderr, "evctl: no complete answer from %s within "
				"%d ms\n", path, timeout_ms);
			return EXIT_NO_DAEMON;
		}
		if (r->len + 1 >= cap) {
			if (cap >= REPLY_MAX) {
				fprintf(stderr, "evctl: reply from %s too large\n",
					path);
				return EXIT_NO_DAEMON;
			}
			cap *= 2;
			char *d = realloc(r->data, cap);
			if (!d)
				return EXIT_NO_DAEMON;
			r->data = d;
		}
		ssize_t n = recv(fd, r->data + r->len, cap - r->len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "evctl: %s closed the connection before "
				"answering%s%s\n", path, n < 0 ? ": " : "",
				n < 0 ? strerror(errno) : "");
			return EXIT_NO_DAEMON;
		}
		r->len += (size_t)n;
	}
	r->data[r->len] = '\0';
	if (strncmp(r->data, "ERROR", 5) == 0) {
		fprintf(stderr, "evctl: evd: %s", r->data);
		return EXIT_REPLY_ERROR;
	}
	return EXIT_OK;
}

/* ---- output ------------------------------------------------------------ */

static bool is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p < '0' || *p > '9')
		return false;
	if (*p == '0' && p[1] >= '0' && p[1] <= '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Calls fn(key, value) for each "key value" line before END. */
static void each_pair(char *reply, void (*fn)(const char *k, const char *v,
					      void *arg), void *arg)
{
	for (char *line = strtok(reply, "\n"); line; line = strtok(NULL, "\n")) {
		if (strcmp(line, "END") == 0)
			break;
		char *sp = strchr(line, ' ');
		const char *value = "";
		if (sp) {
			*sp = '\0';
			value = sp + 1;
		}
		fn(line, value, arg);
	}
}

struct json_state {
	bool first;
};

static void json_pair(const char *k, const char *v, void *arg)
{
	struct json_state *st = arg;

	printf("%s\n  ", st->first ? "{" : ",");
	st->first = false;
	json_string(k);
	printf(": ");
	if (is_json_number(v))
		fputs(v, stdout);
	else
		json_string(v);
}

static void text_pair(const char *k, const char *v, void *arg)
{
	(void)arg;
	printf("%-22s %s\n", k, v);
}

static void print_reply(char *reply, enum format fmt)
{
	if (fmt == FMT_JSON) {
		struct json_state st = { .first = true };
		each_pair(reply, json_pair, &st);
		puts(st.first ? "{}" : "\n}");
	} else {
		each_pair(reply, text_pair, NULL);
	}
}

/* ---- commands ------------------------------------------------------------ */

/* Prints a "fields a b c" + "worker v v v" reply as a table or a JSON
 * array of objects. */
static void print_table(char *reply, enum format fmt)
{
	char *fields[32];
	int nf = 0;
	bool first = true;
	char *save = NULL;

	if (fmt == FMT_JSON)
		fputs("[", stdout);
	for (char *line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strcmp(line, "END") == 0)
			break;
		char *sp = strchr(line, ' ');
		if (!sp)
			continue;
		*sp = '\0';
		char *rest = sp + 1, *fsave = NULL;
		if (strcmp(line, "fields") == 0) {
			for (char *f = strtok_r(rest, " ", &fsave); f && nf < 32;
			     f = strtok_r(NULL, " ", &fsave))
				fields[nf++] = f;
			if (fmt == FMT_TEXT) {
				for (int i = 0; i < nf; i++)
					printf(i ? " %10s" : "%4s", fields[i]);
				putchar('\n');
			}
			continue;
		}
		if (fmt == FMT_JSON)
			printf("%s\n  {", first ? "" : ",");
		first = false;
		int i = 0;
		for (char *v = strtok_r(rest, " ", &fsave); v && i < nf;
		     v = strtok_r(NULL, " ", &fsave), i++) {
			if (fmt == FMT_TEXT) {
				printf(i ? " %10s" : "%4s", v);
				continue;
			}
			printf("%s", i ? ", " : "");
			json_string(fields[i]);
			printf(": ");
			if (is_json_number(v))
				fputs(v, stdout);
			else
				json_string(v);
		}
		fputs(fmt == FMT_JSON ? "}" : "\n", stdout);
	}
	if (fmt == FMT_JSON)
		puts(first ? "]" : "\n]");
}

/* The value of key in a reply, or "?" (copied into out). */
static const char *reply_value(const char *reply, const char *key, char *out,
			       size_t outlen)
{
	size_t klen = strlen(key);

	snprintf(out, outlen, "?");
	for (const char *p = reply; *p; p = strchr(p, '\n') + 1) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		if ((size_t)(nl - p) > klen && !strncmp(p, key, klen) &&
		    p[klen] == ' ') {
			snprintf(out, outlen, "%.*s", (int)(nl - p - klen - 1),
				 p + klen + 1);
			break;
		}
	}
	return out;
}

int main(int argc, char **argv)
{
	const char *sock = NULL, *used = NULL;
	const char *command = NULL;
	char raw[1100];
	enum format fmt = FMT_TEXT;
	int timeout_ms = 5000;
	int nargs = 0;
	char *args[16];

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help") ||
		    (!command && !strcmp(a, "help"))) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("evctl %s\n", EVD_VERSION);
			return EXIT_OK;
		} else if (!strcmp(a, "-s") || !strcmp(a, "-o") ||
			   !strcmp(a, "-T")) {
			if (i + 1 == argc) {
				fprintf(stderr, "evctl: %s needs an argument\n", a);
				return EXIT_USAGE;
			}
			const char *v = argv[++i];
			if (a[1] == 's') {
				sock = v;
			} else if (a[1] == 'o') {
				if (!strcmp(v, "json"))
					fmt = FMT_JSON;
				else if (!strcmp(v, "text"))
					fmt = FMT_TEXT;
				else {
					fprintf(stderr, "evctl: unknown format "
						"\"%s\" (expected text or json)\n",
						v);
					return EXIT_USAGE;
				}
			} else {
				char *end;
				double s = strtod(v, &end);
				if (*end || !(s > 0) || s > 3600) {
					fprintf(stderr, "evctl: -T wants seconds "
						"in (0, 3600], got \"%s\"\n", v);
					return EXIT_USAGE;
				}
				timeout_ms = (int)(s * 1000);
				if (timeout_ms < 1)
					timeout_ms = 1;
			}
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "evctl: unknown option \"%s\"\n", a);
			usage(stderr);
			return EXIT_USAGE;
		} else if (!command) {
			command = a;
		} else if (nargs < (int)(sizeof(args) / sizeof(args[0]))) {
			args[nargs++] = argv[i];
		} else {
			fprintf(stderr, "evctl: too many arguments\n");
			return EXIT_USAGE;
		}
	}
	if (!command) {
		usage(stderr);
		return EXIT_USAGE;
	}

	const char *line = command;
	bool is_raw = !strcmp(command, "raw");
	if (is_raw) {
		size_t used_len = 0;
		raw[0] = '\0';
		if (nargs == 0) {
			fprintf(stderr, "evctl: raw needs a command line\n");
			return EXIT_USAGE;
		}
		for (int i = 0; i < nargs; i++) {
			int n = snprintf(raw + used_len, sizeof(raw) - used_len,
					 "%s%s", i ? " " : "", args[i]);
			if (n < 0 || (size_t)n >= sizeof(raw) - used_len) {
				fprintf(stderr, "evctl: command line too long\n");
				return EXIT_USAGE;
			}
			used_len += (size_t)n;
		}
		line = raw;
	} else if (!strcmp(command, "workers")) {
		if (nargs > 1 || (nargs == 1 && strcmp(args[0], "all"))) {
			fprintf(stderr, "evctl: usage: workers [all]\n");
			return EXIT_USAGE;
		}
		line = nargs ? "workers all" : "workers";
	} else if (strcmp(command, "stats") && strcmp(command, "ping") &&
		   strcmp(command, "version")) {
		fprintf(stderr, "evctl: unknown command \"%s\" (expected stats, "
			"workers, ping, version, raw or help)\n", command);
		return EXIT_USAGE;
	} else if (nargs) {
		fprintf(stderr, "evctl: %s takes no argument (got \"%s\")\n",
			command, args[0]);
		return EXIT_USAGE;
	}

	int fd = open_control(sock, &used);
	if (fd < 0)
		return EXIT_NO_DAEMON;
	struct reply r = { 0 };
	int rc = transact(fd, used, line, timeout_ms, &r);
	close(fd);
	if (rc != EXIT_OK) {
		free(r.data);
		return rc;
	}

	if (is_raw) {
		fputs(r.data, stdout);
	} else if (!strcmp(command, "workers")) {
		print_table(r.data, fmt);
	} else if (!strcmp(command, "ping") && fmt == FMT_TEXT) {
		char pid[32], up[32];
		printf("evd is alive at %s (pid %s, up %s s)\n", used,
		       reply_value(r.data, "pid", pid, sizeof(pid)),
		       reply_value(r.data, "uptime_seconds", up, sizeof(up)));
	} else if (!strcmp(command, "version") && fmt == FMT_TEXT) {
		char v[64];
		printf("evctl %s\nevd %s\n", EVD_VERSION,
		       reply_value(r.data, "version", v, sizeof(v)));
	} else {
		print_reply(r.data, fmt);
	}
	free(r.data);
	return EXIT_OK;
}
