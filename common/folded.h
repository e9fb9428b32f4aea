/* Folded stacks, Brendan Gregg's format (the one every flame graph tool
 * reads): one line per distinct stack, its frames from the root to the
 * leaf joined by ';', one space, and its count:
 *
 *     main;serve;epoll_run;conn_on_readable;http_feed 42
 *
 * A profile held as such lines (struct folded), read and written as
 * folded text and as JSON.  evd builds its profiles with it; evctl reads
 * them back and writes them out (and draws them: flame_svg.h).  Writers
 * take a FILE and return 0 or -errno; nothing here logs. */
#ifndef EVD_FOLDED_H
#define EVD_FOLDED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FOLDED_DEPTH_MAX 512		/* frames in one stack */
#define FOLDED_LINE_MAX (64u << 10)	/* bytes of one line */

struct folded_stack {
	char *line;		/* owned: the frames, NUL-separated */
	const char **frame;	/* root first, into line */
	unsigned depth;
	uint64_t value;
};

struct folded {
	struct folded_stack *v;
	size_t n, cap;
	uint64_t total;		/* sum of the values */
};

/* What a profile is, for the JSON writer and the flame graph's title.
 * Strings may be NULL (left out). */
struct folded_meta {
	const char *mode;	/* "cpu" or "offcpu" */
	const char *model, *protocol;
	const char *unit;	/* "samples" or "us" */
	double seconds;
	unsigned hz;		/* cpu */
	uint64_t min_block_us;	/* offcpu */
	uint64_t lost;		/* samples or us not counted (tables full) */
};

/*
 * Copies a frame's name into out (len bytes, len > 0), made safe for the
 * format: ';' becomes ':', a space '_', any other byte outside printable
 * ASCII '?'; an empty name "[empty]".  Cut to len - 1 bytes.
 */
void folded_clean(char *out, size_t len, const char *name);

/*
 * Adds one line "FRAME;FRAME;... COUNT" (no newline).  Returns 0, -EINVAL
 * when it is not such a line (no count, a count that is not a whole
 * number below 2^63, an empty frame, more than FOLDED_DEPTH_MAX frames),
 * or -ENOMEM.
 */
int folded_add_line(struct folded *f, const char *line);

/* Adds one stack given as its frames joined by ';' (root first) and its
 * value.  0, -EINVAL (an empty frame, too many, too long) or -ENOMEM. */
int folded_add_joined(struct folded *f, const char *joined, uint64_t value);

/* Adds one stack given as frames, root first; frames must be clean
 * (folded_clean()).  0, -EINVAL (no frame, too many) or -ENOMEM. */
int folded_add(struct folded *f, const char *const *frames, unsigned depth,
	       uint64_t value);

/* Sorts the stacks by their frames (byte order, frame by frame) and
 * merges equal ones, adding their values. */
void folded_sort(struct folded *f);

/* Frees the stacks; f is empty again.  Accepts a zeroed f. */
void folded_free(struct folded *f);

/* One line per stack, in f's order. */
int folded_write(FILE *out, const struct folded *f);

/*
 * {"mode":..., "model":..., "protocol":..., "unit":..., "seconds":...,
 *  "hz":... (cpu), "min_block_us":... (offcpu), "total":..., "lost":...,
 *  "stacks":[{"frames":["root",...,"leaf"],"value":N},...]} and a newline.
 */
int folded_write_json(FILE *out, const struct folded *f,
		      const struct folded_meta *m);

/* s as a JSON string, quoted and escaped. */
void folded_json_string(FILE *out, const char *s);

#endif
