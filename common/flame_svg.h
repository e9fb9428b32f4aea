/* A flame graph of folded stacks as one self-contained SVG file: every
 * stack a tower of frames from the root (bottom) up, each frame as wide as
 * its share of the total; a title; hovering names a frame with its value
 * and share; clicking a frame zooms to it (Reset Zoom undoes); Search (or
 * Ctrl-F) highlights the frames matching a regular expression and says
 * their share.  The script is embedded: a browser needs nothing else.
 *
 * Colours follow the usual conventions, from a hash of the name so that a
 * function keeps its colour from one graph to the next: warm for user
 * code, orange for kernel frames ("_[k]"), aqua for inlined functions
 * ("_[i]"), blue for the root and the threads' frames, grey for frames
 * without a symbol ("+0x").  Frames narrower than FLAME_MIN_PX are left
 * out (their value still counts in their parents). */
#ifndef EVD_FLAME_SVG_H
#define EVD_FLAME_SVG_H

#include <stdio.h>

#include "folded.h"

#define FLAME_WIDTH 1200	/* px */
#define FLAME_FRAME_PX 16	/* height of one frame */
#define FLAME_MIN_PX 0.1

struct flame_opts {
	const char *title;	/* NULL: "Flame Graph" */
	const char *subtitle;	/* NULL: none */
	const char *unit;	/* what the values count: "samples", "us" */
};

/* Writes the graph of f (sorted by folded_sort()) to out.  0 or -errno
 * (-ENOMEM, -EIO). */
int flame_svg_write(FILE *out, const struct folded *f,
		    const struct flame_opts *o);

#endif
