/* The control socket: one thread in the main process serves a unix stream
 * socket for every model.  Text protocol, readable with socat: one command
 * line in; zero or more "key value" lines and a line "END" out, or a single
 * line "ERROR <reason>".  The same thread turns SIGTERM/SIGINT into a stop. */
#ifndef EVD_CONTROL_H
#define EVD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct server;
struct control;
struct probes;

#define CTL_LINE_MAX 1024	/* bytes in a command line, newline excluded */
#define CTL_ARGS_MAX 16
#define CTL_CLIENTS_MAX 64
#define CTL_RESERVED 16		/* of them, for root and evd's user only */
#define CTL_OTHERS_MAX 48	/* CTL_CLIENTS_MAX - CTL_RESERVED */
#define CTL_IDLE_MS 30000	/* a client is dropped after this long without
				 * a command (a blank line is none) */
#define CTL_OUT_MAX (1 << 20)	/* output queued for one client */

/*
 * Splits the len bytes of a command line in place (line[len] is writable
 * and becomes a NUL) into at most max words separated by spaces or tabs.
 * Returns the word count (max + 1: too many), or -1 with *bad set to the
 * first byte outside printable ASCII (a NUL, or one of 0x80 and above,
 * anywhere in the line: nothing of it runs).
 */
int ctl_split(char *line, size_t len, char **argv, int max,
	      unsigned char *bad);

/*
 * Binds the control socket, refusing if a live evd answers there and
 * removing a stale one.  Returns NULL with a message in err on failure.
 * The caller has blocked SIGTERM, SIGINT and SIGHUP.
 */
struct control *control_open(struct server *srv, char *err, size_t errlen);

/* Hands the syscall probes (loaded or not) to the control thread, which
 * serves the `syscalls` commands and keeps its own calls out of the counts.
 * Call before control_run(); the caller frees them after control_stop(). */
void control_set_probes(struct control *ctl, struct probes *probes);

/* Hands the stack profiler (ctl_profile.h) to the control thread, which
 * serves `profile`.  Call before control_run(); the caller frees it after
 * control_stop(). */
struct ctl_profile;
void control_set_profile(struct control *ctl, struct ctl_profile *prof);

/* Where SIGHUP re-reads the configuration: the file and the -o overrides
 * (kept by the caller for evd's life). */
void control_set_reload(struct control *ctl, const char *path,
			char *const *overrides, int noverrides);

/*
 * The main thread, after a run of the model returned: the configuration a
 * reload asked for (the caller owns it and swaps the serving side to it),
 * or NULL when evd is to exit.
 */
struct config *control_next_run(struct control *ctl);

/* The main thread, the swap done (holding swap_lock for writing): clears
 * the drain of the run that ended.  Returns false when a SIGTERM came
 * meanwhile and evd is to exit instead. */
bool control_resume(struct control *ctl);

/* The main thread, after swapping to the configuration control_next_run()
 * gave: how it went (why: NULL when the new run starts, drained in
 * drained_ms; otherwise the reason, and the previous configuration
 * serves).  The clients that asked for that reload (evctl reload) get the
 * answer. */
void control_reload_done(struct control *ctl, double drained_ms,
			 const char *why);

/* Starts the control thread once the server's listeners and scoreboard
 * exist.  Returns 0, or -1 with a message in err. */
int control_run(struct control *ctl, char *err, size_t errlen);

/* In a forked child: closes the control descriptors without touching the
 * socket file or the (absent) thread.  Accepts NULL. */
void control_forget(struct control *ctl);

/* The control thread's stack and its guard pages (lowest address,
 * length): 0, or -errno when it is not running or cannot be read. */
int control_stack(struct control *ctl, void **lo, size_t *len);

/* Stops the thread, closes and removes the socket.  Accepts NULL. */
void control_stop(struct control *ctl);

#endif
