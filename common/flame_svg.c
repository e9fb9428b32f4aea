/* Flame graphs as SVG (flame_svg.h): the stacks merged into a tree, laid
 * out root at the bottom, written with an embedded script for zoom and
 * search. */
#include "flame_svg.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PAD 10			/* px left and right of the frames */
#define TOP 40			/* px above them (title) */
#define TOP_SUB 60		/* ... with a subtitle */
#define BOTTOM 34		/* px below them (details line) */
#define CHAR_PX 7.0		/* a character of the 12 px font, about */

struct node {
	const char *name;
	uint64_t value;
	uint32_t first, last, next;	/* children and sibling: indices, 0 none */
	uint32_t depth;
};

struct tree {
	struct node *v;
	uint32_t n, cap;
	uint32_t depth;			/* the deepest frame's */
};

static uint32_t node_new(struct tree *t, const char *name, uint32_t depth)
{
	if (t->n == t->cap) {
		uint32_t cap = t->cap ? t->cap * 2 : 256;
		struct node *v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return 0;
		t->v = v;
		t->cap = cap;
	}
	t->v[t->n] = (struct node){ .name = name, .depth = depth };
	if (depth > t->depth)
		t->depth = depth;
	return t->n++;
}

/* The child of p named name, made if missing; 0 when out of memory.
 * Sorted stacks meet their child as the last one made. */
static uint32_t child(struct tree *t, uint32_t p, const char *name)
{
	uint32_t c = t->v[p].last;

	if (c && strcmp(t->v[c].name, name) == 0)
		return c;
	for (c = t->v[p].first; c; c = t->v[c].next)
		if (strcmp(t->v[c].name, name) == 0)
			return c;
	if (!(c = node_new(t, name, t->v[p].depth + 1)))
		return 0;
	if (t->v[p].last)
		t->v[t->v[p].last].next = c;
	else
		t->v[p].first = c;
	t->v[p].last = c;
	return c;
}

static int build(struct tree *t, const struct folded *f)
{
	if (node_new(t, "all", 0) != 0)
		return -ENOMEM;
	t->v[0].value = f->total;
	for (size_t i = 0; i < f->n; i++) {
		uint32_t p = 0;
		for (unsigned j = 0; j < f->v[i].depth; j++) {
			if (!(p = child(t, p, f->v[i].frame[j])))
				return -ENOMEM;
			t->v[p].value += f->v[i].value;
		}
	}
	return 0;
}

/* s with XML's special characters escaped. */
static void xml_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&apos;", out); break;
		default:
			/* No control characters (XML 1.0 allows none of
			 * these) and ASCII only (no broken UTF-8). */
			fputc((unsigned char)*s < 0x20 ||
			      (unsigned char)*s > 0x7e ? '?' : *s, out);
		}
	}
}

/* The label that fits w px: the name, cut with "..", or nothing. */
static void label(FILE *out, const char *name, double w)
{
	int n = (int)((w - 6) / CHAR_PX);
	size_t len = strlen(name);
	char buf[512];

	if (n < 3)
		return;
	if (len <= (size_t)n) {
		xml_text(out, name);
		return;
	}
	if (n > (int)sizeof(buf) - 1)
		n = (int)sizeof(buf) - 1;
	memcpy(buf, name, (size_t)n - 2);
	strcpy(buf + n - 2, "..");
	xml_text(out, buf);
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A frame's colour: its kind's palette, the shade from its name. */
static void colour(const char *name, bool root, int rgb[3])
{
	uint32_t h = hash(name);
	double a = (h & 0xff) / 255.0, b = ((h >> 8) & 0xff) / 255.0,
	       c = ((h >> 16) & 0xff) / 255.0;

	if (root || strchr(name, ':') || strchr(name, '#')) {
		rgb[0] = 80 + (int)(60 * a);	/* blue: the root, threads */
		rgb[1] = 110 + (int)(60 * a);
		rgb[2] = 190 + (int)(55 * b);
	} else if (strstr(name, "+0x")) {
		rgb[0] = rgb[1] = rgb[2] = 160 + (int)(40 * a);	/* grey */
	} else if (ends_with(name, "_[k]")) {
		rgb[0] = 225 + (int)(30 * a);	/* pale orange: kernel */
		rgb[1] = 150 + (int)(50 * b);
		rgb[2] = 60 + (int)(40 * c);
	} else if (ends_with(name, "_[i]")) {
		rgb[0] = 50 + (int)(60 * a);	/* aqua: inlined */
		rgb[1] = 165 + (int)(55 * b);
		rgb[2] = 165 + (int)(55 * c);
	} else {
		rgb[0] = 205 + (int)(50 * c);	/* red to yellow: user code */
		rgb[1] = (int)(170 * a);
		rgb[2] = (int)(55 * b);
	}
}

struct layout {
	FILE *out;
	const struct tree *t;
	const char *unit;
	double scale;			/* px per unit of value */
	double y0;			/* the top of the deepest row */
};

/* One frame: a group with its tooltip, rectangle and label. */
static void frame(const struct layout *l, const struct node *nd, double x)
{
	double w = (double)nd->value * l->scale;
	double y = l->y0 + (double)(l->t->depth - nd->depth) * FLAME_FRAME_PX;
	double share = l->t->v[0].value ?
		100.0 * (double)nd->value / (double)l->t->v[0].value : 0;
	int rgb[3];

	colour(nd->name, nd == l->t->v, rgb);
	fputs("<g data-name=\"", l->out);
	xml_text(l->out, nd->name);
	fputs("\"><title>", l->out);
	xml_text(l->out, nd->name);
	fprintf(l->out, " (%llu %s, %.2f%%)</title><rect x=\"%.1f\" y=\"%.1f\" "
		"width=\"%.1f\" height=\"%d\" fill=\"rgb(%d,%d,%d)\" rx=\"2\" "
		"ry=\"2\"/><text x=\"%.1f\" y=\"%.1f\">",
		(unsigned long long)nd->value, l->unit, share, x, y, w,
		FLAME_FRAME_PX - 1, rgb[0], rgb[1], rgb[2], x + 3, y + 11.5);
	label(l->out, nd->name, w);
	fputs("</text></g>\n", l->out);
}

/* The frames of the subtree at i, whose left edge is x, depth first
 * (recursion as deep as the stacks: at most FOLDED_DEPTH_MAX). */
static void frames(const struct layout *l, uint32_t i, double x)
{
	const struct node *v = l->t->v;

	if ((double)v[i].value * l->scale < FLAME_MIN_PX)
		return;
	frame(l, &v[i], x);
	for (uint32_t c = v[i].first; c; c = v[c].next) {
		frames(l, c, x);
		x += (double)v[c].value * l->scale;
	}
}

/* Zoom, search and the details line; the frames are read from the
 * document as written (their first layout is the unzoomed one). */
static const char script[] =
"var W = 1200, PAD = 10, frames = [], root = null, zoomed = null;\n"
"var searching = null, details, matched, reset;\n"
"function init(evt) {\n"
"  details = document.getElementById('details');\n"
"  matched = document.getElementById('matched');\n"
"  reset = document.getElementById('reset');\n"
"  var gs = document.getElementById('frames').getElementsByTagName('g');\n"
"  for (var i = 0; i < gs.length; i++) {\n"
"    var g = gs[i], r = g.getElementsByTagName('rect')[0];\n"
"    var f = { g: g, r: r, t: g.getElementsByTagName('text')[0],\n"
"      name: g.getAttribute('data-name'), fill: r.getAttribute('fill'),\n"
"      x: +r.getAttribute('x'), w: +r.getAttribute('width'),\n"
"      y: +r.getAttribute('y'),\n"
"      info: g.getElementsByTagName('title')[0].textContent };\n"
"    frames.push(f);\n"
"    if (!root || f.y > root.y) root = f;\n"
"    g.onclick = zoomer(f);\n"
"    g.onmouseover = shower(f.info);\n"
"    g.onmouseout = shower(' ');\n"
"  }\n"
"  reset.onclick = unzoom;\n"
"  document.getElementById('search').onclick = function () { search(); };\n"
"  window.addEventListener('keydown', function (e) {\n"
"    if ((e.ctrlKey || e.metaKey) && e.keyCode == 70) {\n"
"      e.preventDefault(); search();\n"
"    } else if (e.keyCode == 27) { unzoom(); clearsearch(); }\n"
"  });\n"
"}\n"
"function zoomer(f) { return function () { zoom(f); }; }\n"
"function shower(s) { return function () { details.textContent = s; }; }\n"
"function label(name, w) {\n"
"  var n = Math.floor((w - 6) / 7);\n"
"  if (n < 3) return '';\n"
"  return name.length <= n ? name : name.substring(0, n - 2) + '..';\n"
"}\n"
"function place(f, x, w, shown, faded) {\n"
"  f.r.setAttribute('x', x.toFixed(1));\n"
"  f.r.setAttribute('width', w.toFixed(1));\n"
"  f.t.setAttribute('x', (x + 3).toFixed(1));\n"
"  f.t.textContent = label(f.name, w);\n"
"  f.g.style.display = shown ? '' : 'none';\n"
"  f.g.style.opacity = faded ? '0.6' : '';\n"
"}\n"
"function zoom(z) {\n"
"  var scale = (W - 2 * PAD) / z.w, e = 0.05;\n"
"  for (var i = 0; i < frames.length; i++) {\n"
"    var f = frames[i];\n"
"    if (f.y > z.y) {\n"
"      var below = f.x <= z.x + e && f.x + f.w >= z.x + z.w - e;\n"
"      place(f, PAD, W - 2 * PAD, below, true);\n"
"    } else {\n"
"      var inside = f.x >= z.x - e && f.x + f.w <= z.x + z.w + e;\n"
"      place(f, PAD + (f.x - z.x) * scale, f.w * scale, inside, false);\n"
"    }\n"
"  }\n"
"  zoomed = z;\n"
"  reset.style.display = '';\n"
"}\n"
"function unzoom() {\n"
"  for (var i = 0; i < frames.length; i++)\n"
"    place(frames[i], frames[i].x, frames[i].w, true, false);\n"
"  zoomed = null;\n"
"  reset.style.display = 'none';\n"
"}\n"
"function clearsearch() {\n"
"  for (var i = 0; i < frames.length; i++)\n"
"    frames[i].r.setAttribute('fill', frames[i].fill);\n"
"  searching = null;\n"
"  matched.textContent = ' ';\n"
"}\n"
"function search() {\n"
"  var term = prompt('Search (a regular expression):', searching || '');\n"
"  if (term === null) return;\n"
"  if (term === '') { clearsearch(); return; }\n"
"  var re;\n"
"  try { re = new RegExp(term); } catch (err) { alert(err.message); return; }\n"
"  var spans = [], sum = 0, end = -1;\n"
"  for (var i = 0; i < frames.length; i++) {\n"
"    var f = frames[i], hit = re.test(f.name);\n"
"    f.r.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);\n"
"    if (hit) spans.push([f.x, f.x + f.w]);\n"
"  }\n"
"  spans.sort(function (a, b) { return a[0] - b[0]; });\n"
"  for (var j = 0; j < spans.length; j++) {\n"
"    var a = Math.max(spans[j][0], end), b = spans[j][1];\n"
"    if (b > a) { sum += b - a; end = b; }\n"
"  }\n"
"  searching = term;\n"
"  matched.textContent = 'Matched: ' +\n"
"    (root && root.w ? 100 * sum / root.w : 0).toFixed(1) + '%';\n"
"}\n";

_Static_assert(FLAME_WIDTH == 1200, "the script's W says 1200");

static void header(FILE *out, const struct flame_opts *o, int height,
		   int top)
{
	fprintf(out, "<?xml version=\"1.0\" standalone=\"no\"?>\n"
		"<svg version=\"1.1\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" xmlns=\"http://www.w3.org/2000/svg\" "
		"onload=\"init(evt)\">\n"
		"<style type=\"text/css\">\n"
		"text { font-family: Verdana, sans-serif; font-size: 12px; "
		"fill: #000; }\n"
		"#title { text-anchor: middle; font-size: 17px; }\n"
		"#subtitle { text-anchor: middle; fill: #555; }\n"
		"#search, #reset { cursor: pointer; }\n"
		"#frames g:hover rect { stroke: #000; stroke-width: 0.5; }\n"
		"#frames g { cursor: pointer; }\n"
		"</style>\n<script type=\"text/ecmascript\"><![CDATA[\n%s"
		"]]></script>\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"#f8f8f8\"/>\n<text id=\"title\" x=\"%d\" y=\"24\">",
		FLAME_WIDTH, height, FLAME_WIDTH, height, script, FLAME_WIDTH,
		height, FLAME_WIDTH / 2);
	xml_text(out, o->title ? o->title : "Flame Graph");
	fputs("</text>\n", out);
	if (o->subtitle) {
		fprintf(out, "<text id=\"subtitle\" x=\"%d\" y=\"44\">",
			FLAME_WIDTH / 2);
		xml_text(out, o->subtitle);
		fputs("</text>\n", out);
	}
	fprintf(out, "<text id=\"reset\" x=\"%d\" y=\"%d\" "
		"style=\"display:none\">Reset Zoom</text>\n"
		"<text id=\"search\" x=\"%d\" y=\"%d\">Search</text>\n"
		"<text id=\"details\" x=\"%d\" y=\"%d\"> </text>\n"
		"<text id=\"matched\" x=\"%d\" y=\"%d\"> </text>\n",
		PAD, top - 16, FLAME_WIDTH - PAD - 50, top - 16, PAD,
		height - 12, FLAME_WIDTH - PAD - 120, height - 12);
}

int flame_svg_write(FILE *out, const struct folded *f,
		    const struct flame_opts *o)
{
	struct tree t = { 0 };
	int rc = build(&t, f);

	if (rc < 0) {
		free(t.v);
		return rc;
	}
	int top = o->subtitle ? TOP_SUB : TOP;
	int height = top + (int)(t.depth + 1) * FLAME_FRAME_PX + BOTTOM;
	struct layout l = {
		.out = out, .t = &t, .unit = o->unit ? o->unit : "samples",
		.scale = f->total ? (double)(FLAME_WIDTH - 2 * PAD) /
				    (double)f->total : 0,
		.y0 = top,
	};
	header(out, o, height, top);
	fputs("<g id=\"frames\">\n", out);
	if (f->total)
		frames(&l, 0, PAD);
	fputs("</g>\n</svg>\n", out);
	free(t.v);
	return ferror(out) ? -EIO : 0;
}
