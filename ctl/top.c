/* evctl top [--interval S] [--count N]: a live view of evd, refreshed
 * every S seconds (default 1).
 *
 * On a terminal: full screen (the alternate screen, restored on exit),
 * drawn with a handful of ANSI/VT100 sequences (home, erase to end of
 * line, erase below) that every terminal emulator and tmux understand; no
 * curses: the frame is rebuilt whole each time, so a library's screen
 * optimisation buys nothing, and evctl keeps no dependency for it.  `q`
 * quits.  Otherwise (a pipe, a file): one block of text per interval, a
 * blank line between blocks, as many as --count says (default: until
 * interrupted). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "top.h"

enum { OPT_INTERVAL = 256, OPT_COUNT };

static volatile sig_atomic_t stop_sig, resized;
static struct termios saved_tio;
static bool tty_raw;

static void on_signal(int sig)
{
	if (sig == SIGWINCH)
		resized = 1;
	else
		stop_sig = sig;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() returns at once. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
}

/* Raw input (no echo, no line buffering) and the alternate screen. */
static void tty_enter(void)
{
	struct termios t;

	if (tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		t = saved_tio;
		t.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		tty_raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
	}
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	fflush(stdout);
}

static void tty_leave(void)
{
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	if (tty_raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
	tty_raw = false;
}

static void tty_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row &&
	    ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
	if (*cols >= TOP_WIDTH_MAX)
		*cols = TOP_WIDTH_MAX - 1;
}

static void draw_tty(const struct top_frame *f)
{
	fputs("\033[H", stdout);
	for (int i = 0; i < f->n; i++)
		/* No newline after the last line: the screen must not
		 * scroll. */
		printf("%s\033[K%s", f->line[i], i + 1 < f->n ? "\r\n" : "");
	fputs("\033[J", stdout);
	fflush(stdout);
}

static void draw_plain(const struct top_frame *f, bool first)
{
	if (!first)
		putchar('\n');
	for (int i = 0; i < f->n; i++)
		puts(f->line[i]);
	fflush(stdout);
}

static long long ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum tick { TICK_TIME, TICK_RESIZE, TICK_QUIT };

/* Waits for the next refresh (the deadline), a resize of the terminal, or
 * the end: `q` typed, or a signal. */
static enum tick wait_tick(bool *tty, long long deadline)
{
	for (;;) {
		long long left = deadline - ms_now();
		if (stop_sig)
			return TICK_QUIT;
		if (resized) {
			resized = 0;
			return TICK_RESIZE;
		}
		if (left <= 0)
			return TICK_TIME;
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		if (poll(&p, *tty ? 1 : 0, (int)left) <= 0)
			continue;
		char c;
		ssize_t got = read(STDIN_FILENO, &c, 1);
		if (got == 1 && (c == 'q' || c == 'Q'))
			return TICK_QUIT;
		if (got == 0)
			*tty = false;	/* stdin closed: no more keys */
	}
}

struct top_state {
	struct top_snap snap[2];
	struct top_frame frame;
	int cur;		/* snap[cur] is the newest */
	bool have_prev;
};

static void redraw(struct top_state *s, bool tty, int frames, double iv)
{
	int rows = 0, cols = 0;

	if (tty)
		tty_size(&rows, &cols);
	top_frame_build(&s->frame, s->have_prev ? &s->snap[!s->cur] : NULL,
			&s->snap[s->cur], rows, cols, iv);
	if (tty)
		draw_tty(&s->frame);
	else
		draw_plain(&s->frame, frames == 0);
}

static int top_loop(struct evctl *e, struct evctl_req *r, bool tty,
		    struct top_state *s)
{
	double iv = r->interval > 0 ? r->interval : 1;
	int frames = 0, rc = top_snap_take(e, &s->snap[0]);

	/* On a terminal the first frame (totals) comes at once. */
	if (rc == EXIT_OK && tty)
		redraw(s, tty, frames++, iv);
	while (rc == EXIT_OK && (!r->count || frames < r->count)) {
		long long deadline = ms_now() + (long long)(iv * 1000);
		bool keys = tty;
		enum tick t;
		while ((t = wait_tick(&keys, deadline)) == TICK_RESIZE)
			redraw(s, tty, frames, iv);
		if (t == TICK_QUIT)
			break;
		top_snap_free(&s->snap[!s->cur]);
		rc = top_snap_take(e, &s->snap[!s->cur]);
		if (rc != EXIT_OK)
			break;
		s->cur = !s->cur;
		s->have_prev = true;
		redraw(s, tty, frames++, iv);
	}
	return rc;
}

static int top_run(struct evctl *e, struct evctl_req *r)
{
	static struct top_state s;
	static char errbuf[4096];
	bool tty = isatty(STDOUT_FILENO) && isatty(STDIN_FILENO);
	int rc;

	catch_signals();
	if (tty) {
		/* What goes wrong is said once the screen is back: held in
		 * stderr's buffer until then. */
		setvbuf(stderr, errbuf, _IOFBF, sizeof(errbuf));
		tty_enter();
	}
	rc = top_loop(e, r, tty, &s);
	if (tty) {
		tty_leave();
		fflush(stderr);
		setvbuf(stderr, NULL, _IONBF, 0);
	}
	top_snap_free(&s.snap[0]);
	top_snap_free(&s.snap[1]);
	return rc;
}

static int top_opt(struct evctl_req *r, int val, const char *arg)
{
	char *end;

	if (val == OPT_INTERVAL) {
		r->interval = strtod(arg, &end);
		if (end == arg || *end || !(r->interval >= 0.1) ||
		    r->interval > 3600) {
			fprintf(stderr, "evctl: --interval wants seconds in "
				"[0.1, 3600], got \"%s\"\n", arg);
			return EXIT_USAGE;
		}
		return 0;
	}
	long n = strtol(arg, &end, 10);
	if (end == arg || *end || n < 1 || n > 1000000000) {
		fprintf(stderr, "evctl: --count wants a number of refreshes in "
			"[1, 1000000000], got \"%s\"\n", arg);
		return EXIT_USAGE;
	}
	r->count = (int)n;
	return 0;
}

static const struct option top_options[] = {
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ NULL, 0, NULL, 0 },
};

const struct evctl_cmd evctl_cmd_top = {
	.name = "top",
	.args = "[--interval S] [--count N]",
	.summary = "a live view: rates, latency percentiles and CPU per\n"
		   "request of the last interval, one row per worker, the\n"
		   "busiest system calls when the probes count",
	.help = "\n"
		"On a terminal: full screen, redrawn every S seconds (default\n"
		"1), q quits; it fits 80x24.  Otherwise one block of text per\n"
		"interval.  --count N stops after N refreshes.",
	.formats = FMT_BIT(FMT_TEXT),
	.options = top_options,
	.opt = top_opt,
	.run = top_run,
};
