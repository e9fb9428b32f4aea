/* evctl: talks to a running evd over its control socket.
 *
 * The protocol is line-oriented text (common/ctl_wire.h): one command line
 * out; "key value" lines and "END" back, or one "ERROR reason" line.  The
 * commands are rows of a table (ctl/commands.c), bgpctl's habit: the help,
 * the options each command takes and the formats it prints all come from
 * its row.  Command names are matched whole, never abbreviated: a script's
 * `evctl st` must not change meaning when a command is added; an unknown
 * word is answered with the commands that start with it and the full list.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evctl.h"
#include "../daemon/version.h"

#define DEFAULT_TIMEOUT_MS 5000
#define OPTS_MAX 32

static const struct option global_opts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
};
#define GLOBAL_SHORT ":s:T:o:hV"
#define NGLOBAL (sizeof(global_opts) / sizeof(global_opts[0]))

/* ---- help, generated from the table ------------------------------------- */

/* "text, json or prometheus". */
static void formats_text(unsigned formats, char *buf, size_t len)
{
	size_t off = 0;
	int total = 0, n = 0;

	for (int f = 0; f < FMT_MAX; f++)
		total += !!(formats & FMT_BIT(f));
	buf[0] = '\0';
	for (int f = 0; f < FMT_MAX; f++) {
		if (!(formats & FMT_BIT(f)))
			continue;
		n++;
		int w = snprintf(buf + off, len - off, "%s%s",
				 n == 1 ? "" : n == total ? " or " : ", ",
				 format_names[f]);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

/* Prints text with every line indented by indent spaces. */
static void indented(FILE *out, const char *text, int indent)
{
	while (text && *text) {
		const char *nl = strchr(text, '\n');
		int len = nl ? (int)(nl - text) : (int)strlen(text);
		fprintf(out, "%*s%.*s\n", len ? indent : 0, "", len, text);
		text += len + (nl != NULL);
	}
}

void evctl_cmd_usage(const struct evctl_cmd *c, FILE *out)
{
	char fm[64];

	formats_text(c->formats, fm, sizeof(fm));
	fprintf(out, "usage: evctl [-s SOCKET] [-T SECONDS] [-o FORMAT] %s%s%s\n"
		"\n", c->name, c->args[0] ? " " : "", c->args);
	indented(out, c->summary, 2);
	indented(out, c->help, 2);
	fprintf(out, "\n  output formats (-o): %s\n", fm);
	if (c->needs_admin)
		fputs("  changes evd's state: root or evd's own user only\n", out);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evctl [-s SOCKET] [-T SECONDS] [-o FORMAT] COMMAND [ARGS]\n"
		"\n"
		"Commands (evctl COMMAND --help for each one's details):\n");
	for (size_t i = 0; i < evctl_ncommands; i++) {
		const struct evctl_cmd *c = evctl_commands[i];
		char head[256];
		snprintf(head, sizeof(head), "%s%s%s", c->name,
			 c->args[0] ? " " : "", c->args);
		/* The summary starts beside a short head, below a long one. */
		if (strlen(head) <= 10)
			fprintf(out, "  %-10s ", head);
		else
			fprintf(out, "  %s\n%13s", head, "");
		const char *nl = strchr(c->summary, '\n');
		int len = nl ? (int)(nl - c->summary) : (int)strlen(c->summary);
		fprintf(out, "%.*s%s\n", len, c->summary,
			c->needs_admin && !nl ? " [admin]" : "");
		if (nl)
			indented(out, nl + 1, 13);
	}
	fprintf(out,
		"\n"
		"Options:\n"
		"  -s, --socket SOCKET    control socket; default $EVD_SOCKET, else\n"
		"                         /run/evd/evd.sock, else ./run/evd.sock\n"
		"                         (what `make run` uses) when only that\n"
		"                         one exists\n"
		"  -o, --output FORMAT    text (default), json or prometheus (the\n"
		"                         read commands); folded, svg (profile)\n"
		"  -T, --timeout SECONDS  give up waiting for a reply after this\n"
		"                         long (default 5)\n"
		"  -h, --help             this help; evctl COMMAND --help: the\n"
		"                         command's\n"
		"  -V, --version          the version of evctl\n"
		"\n"
		"Exit status: 0 success, 1 evd answered an error, 2 usage error,\n"
		"3 evd not reachable (not running, wrong socket, no answer).\n"
		"[admin]: needs root or evd's own user, as do syscalls on, off,\n"
		"reset, workers on|off and timing on|off, and profile but\n"
		"--last; the other commands are for whoever may open the socket\n"
		"([control] mode and group).\n"
		"Commands are never abbreviated.\n");
}

/* ---- finding the command -------------------------------------------------- */

static const struct evctl_cmd *find_cmd(const char *name)
{
	for (size_t i = 0; i < evctl_ncommands; i++)
		if (!strcmp(evctl_commands[i]->name, name))
			return evctl_commands[i];
	return NULL;
}

/* The names of the commands starting with prefix (all for ""), joined
 * "a, b or c". */
static void names_with(const char *prefix, char *buf, size_t len)
{
	size_t plen = strlen(prefix), n = 0, off = 0, total = 0;

	for (size_t i = 0; i < evctl_ncommands; i++)
		total += !strncmp(evctl_commands[i]->name, prefix, plen);
	buf[0] = '\0';
	for (size_t i = 0; i < evctl_ncommands; i++) {
		const char *name = evctl_commands[i]->name;
		if (strncmp(name, prefix, plen))
			continue;
		n++;
		int w = snprintf(buf + off, len - off, "%s%s",
				 n == 1 ? "" : n == total ? " or " : ", ", name);
		if (w < 0 || (size_t)w >= len - off)
			return;
		off += (size_t)w;
	}
}

static int unknown_command(const char *word)
{
	char all[512], some[512];

	names_with("", all, sizeof(all));
	names_with(word, some, sizeof(some));
	if (word[0] && some[0])
		fprintf(stderr, "evctl: unknown command \"%s\" (did you mean %s? "
			"commands are not abbreviated; expected %s)\n", word,
			some, all);
	else
		fprintf(stderr, "evctl: unknown command \"%s\" (expected %s)\n",
			word, all);
	return EXIT_USAGE;
}

/* ---- options ------------------------------------------------------------ */

static int parse_format(const char *v, enum format *fmt)
{
	char all[128];

	for (int f = 0; f < FMT_MAX; f++)
		if (!strcmp(v, format_names[f])) {
			*fmt = (enum format)f;
			return 0;
		}
	formats_text(FMT_BIT(FMT_MAX) - 1, all, sizeof(all));
	fprintf(stderr, "evctl: unknown format \"%s\" (expected %s)\n", v, all);
	return EXIT_USAGE;
}

static int parse_timeout(const char *v, struct evctl *e)
{
	char *end;
	double s = strtod(v, &end);

	if (end == v || *end || !(s > 0) || s > 3600) {
		fprintf(stderr, "evctl: -T wants seconds in (0, 3600], got \"%s\"\n",
			v);
		return EXIT_USAGE;
	}
	e->timeout_ms = (int)(s * 1000);
	if (e->timeout_ms < 1)
		e->timeout_ms = 1;
	e->timeout_given = true;
	return 0;
}

/* Reports getopt's '?' or ':' for argv[optind - 1]. */
static int bad_option(int ch, char **argv, const struct evctl_cmd *c)
{
	const char *what = argv[optind - 1];
	char shortopt[3] = { '-', (char)optopt, '\0' };

	/* A short option inside a cluster ("-xs"): name it alone. */
	if (optopt && strncmp(what, "--", 2))
		what = shortopt;
	if (ch == ':')
		fprintf(stderr, "evctl: %s needs an argument\n", what);
	else if (c)
		fprintf(stderr, "evctl: unknown option \"%s\" for %s (evctl %s "
			"--help lists its options)\n", what, c->name, c->name);
	else
		fprintf(stderr, "evctl: unknown option \"%s\" (evctl help lists "
			"the options)\n", what);
	return EXIT_USAGE;
}

/* One option of either pass; returns -1 for --help, else 0 or EXIT_*. */
static int one_option(int ch, const char *arg, struct evctl *e,
		      struct evctl_req *r, const struct evctl_cmd *c)
{
	switch (ch) {
	case 's':
		e->sock_opt = arg;
		return 0;
	case 'T':
		return parse_timeout(arg, e);
	case 'o':
		return parse_format(arg, &r->fmt);
	case 'h':
		return -1;
	case 'V':
		printf("evctl %s\n", EVD_VERSION);
		exit(EXIT_OK);
	default:
		return c && c->opt ? c->opt(r, ch, arg) : EXIT_USAGE;
	}
}

/* Whether the command has a long option of that name. */
static bool command_has(const struct evctl_cmd *c, const char *name)
{
	for (const struct option *o = c->options; o && o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	return false;
}

/* The global options and the command's, for getopt_long: a command's
 * long option replaces a global one of the same name. */
static void merged_options(const struct evctl_cmd *c, struct option *all)
{
	size_t n = 0;

	for (size_t i = 0; i < NGLOBAL; i++)
		if (!command_has(c, global_opts[i].name))
			all[n++] = global_opts[i];
	for (const struct option *o = c->options; o && o->name && n + 1 < OPTS_MAX;
	     o++)
		all[n++] = *o;
	memset(&all[n], 0, sizeof(all[n]));
}

/* The command's options and words (permuted by getopt_long: options may
 * follow the words).  Returns -1 for --help, else 0 or EXIT_USAGE; the
 * words are (*argv)[optind..]. */
static int command_options(int argc, char **argv, struct evctl *e,
			   struct evctl_req *r, const struct evctl_cmd *c)
{
	struct option all[OPTS_MAX];
	int ch;

	merged_options(c, all);
	optind = 0;	/* glibc: start over, argv[0] being the command */
	while ((ch = getopt_long(argc, argv, GLOBAL_SHORT, all, NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return bad_option(ch, argv, c);
		int rc = one_option(ch, optarg, e, r, c);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- running ------------------------------------------------------------ */

static int run_command(const struct evctl_cmd *c, struct evctl *e,
		       struct evctl_req *r, int nargs, char **args)
{
	char fm[64];

	if (!(c->formats & FMT_BIT(r->fmt))) {
		formats_text(c->formats, fm, sizeof(fm));
		fprintf(stderr, "evctl: %s has no %s output (it prints %s)\n",
			c->name, format_names[r->fmt], fm);
		return EXIT_USAGE;
	}
	if (c->make_request) {
		int rc = c->make_request(r, nargs, args);
		if (rc)
			return rc;
	} else if (nargs) {
		fprintf(stderr, "evctl: %s takes no argument (got \"%s\")\n",
			c->name, args[0]);
		return EXIT_USAGE;
	} else {
		snprintf(r->line, sizeof(r->line), "%s", c->name);
	}
	if (!e->timeout_given && c->default_timeout_ms)
		e->timeout_ms = c->default_timeout_ms;
	if (c->run)
		return c->run(e, r);
	char *reply = NULL;
	int rc = evctl_transact(e, r->line, &reply, false);
	if (rc == EXIT_OK)
		rc = c->print(e, r, reply);
	free(reply);
	return rc;
}

int main(int argc, char **argv)
{
	struct evctl e = { .fd = -1, .timeout_ms = DEFAULT_TIMEOUT_MS };
	struct evctl_req r = { .fmt = FMT_TEXT };
	struct option globals[NGLOBAL + 1];
	int ch, rc;

	opterr = 0;
	memcpy(globals, global_opts, sizeof(global_opts));
	memset(&globals[NGLOBAL], 0, sizeof(globals[NGLOBAL]));
	/* First pass: the options before the command ("+": stop there). */
	while ((ch = getopt_long(argc, argv, "+" GLOBAL_SHORT, globals,
				 NULL)) != -1) {
		if (ch == '?' || ch == ':')
			return bad_option(ch, argv, NULL);
		rc = one_option(ch, optarg, &e, &r, NULL);
		if (rc < 0) {
			usage(stdout);
			return EXIT_OK;
		}
		if (rc)
			return rc;
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const struct evctl_cmd *c = find_cmd(argv[optind]);
	if (!c)
		return unknown_command(argv[optind]);
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	rc = command_options(sub_argc, sub_argv, &e, &r, c);
	if (rc < 0) {
		evctl_cmd_usage(c, stdout);
		return EXIT_OK;
	}
	if (rc)
		return rc;
	rc = run_command(c, &e, &r, sub_argc - optind, sub_argv + optind);
	if (e.fd >= 0)
		close(e.fd);
	return rc;
}

/* ---- help [COMMAND] ------------------------------------------------------- */

/* Checks the words; the command to describe goes in r->priv (NULL: all). */
static int help_request(struct evctl_req *r, int argc, char **argv)
{
	r->priv = NULL;
	if (argc > 1) {
		fprintf(stderr, "evctl: usage: help [COMMAND]\n");
		return EXIT_USAGE;
	}
	if (argc == 1) {
		r->priv = (void *)find_cmd(argv[0]);
		if (!r->priv)
			return unknown_command(argv[0]);
	}
	return 0;
}

static int help_run(struct evctl *e, struct evctl_req *r)
{
	(void)e;
	if (r->priv)
		evctl_cmd_usage(r->priv, stdout);
	else
		usage(stdout);
	return EXIT_OK;
}

const struct evctl_cmd evctl_cmd_help = {
	.name = "help",
	.args = "[COMMAND]",
	.summary = "this text, or one command's",
	.formats = FMTS_ALL,
	.make_request = help_request,
	.run = help_run,
};
