/* Unit tests for common/folded.c (folded stacks: cleaning names, reading
 * lines, merging, the folded and JSON writers) and common/flame_svg.c (the
 * SVG flame graph), with exact outputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/flame_svg.h"
#include "../../common/folded.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* What a writer made of f, as a string (malloc'd). */
static char *written(int (*fn)(FILE *, const struct folded *, const void *),
		     const struct folded *f, const void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	assert_non_null(m);
	assert_int_equal(fn(m, f, arg), 0);
	assert_int_equal(fclose(m), 0);
	return buf;
}

static int w_folded(FILE *out, const struct folded *f, const void *arg)
{
	(void)arg;
	return folded_write(out, f);
}

static int w_json(FILE *out, const struct folded *f, const void *arg)
{
	return folded_write_json(out, f, arg);
}

static int w_svg(FILE *out, const struct folded *f, const void *arg)
{
	return flame_svg_write(out, f, arg);
}

static void test_clean(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "epoll_run", "epoll_run" },
		{ "a;b", "a:b" },
		{ "operator new(unsigned long)", "operator_new(unsigned_long)" },
		{ "tab\there\nnl", "tab?here?nl" },
		{ "caf\xc3\xa9", "caf??" },
		{ "", "[empty]" },
		{ "clock_nanosleep@GLIBC_2.2.5", "clock_nanosleep@GLIBC_2.2.5" },
	};
	char out[64], small[5];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		folded_clean(out, sizeof(out), cases[i].in);
		assert_string_equal(out, cases[i].want);
	}
	folded_clean(small, sizeof(small), "abcdefgh");
	assert_string_equal(small, "abcd");
}

static void test_lines(void **state)
{
	struct folded f = { 0 };

	(void)state;
	assert_int_equal(folded_add_line(&f, "main;serve;epoll_run 42"), 0);
	assert_int_equal(folded_add_line(&f, "a frame with spaces;leaf 7"), 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.total, 49);
	assert_int_equal(f.v[0].depth, 3);
	assert_string_equal(f.v[0].frame[0], "main");
	assert_string_equal(f.v[0].frame[2], "epoll_run");
	assert_int_equal(f.v[0].value, 42);
	assert_string_equal(f.v[1].frame[0], "a frame with spaces");
	/* Malformed: nothing is added. */
	static const char *const bad[] = {
		"", "main", "main;serve", " 5", "main 5x", "main -5",
		"main 5 ", "a;;b 5", ";a 5", "a; 5", "main 9223372036854775808",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(folded_add_line(&f, bad[i]), -EINVAL);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.total, 49);
	assert_int_equal(folded_add_line(&f, "main 9223372036854775807"), 0);
	folded_free(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.v);
}

static void test_depth_limit(void **state)
{
	struct folded f = { 0 };
	size_t len = FOLDED_DEPTH_MAX * 2 + 8;
	char *line = malloc(len + 2);

	(void)state;
	assert_non_null(line);
	/* FOLDED_DEPTH_MAX frames "a": accepted; one more: refused. */
	size_t n = 0;
	for (int i = 0; i < FOLDED_DEPTH_MAX; i++)
		n += (size_t)sprintf(line + n, "%sa", i ? ";" : "");
	strcpy(line + n, " 1");
	assert_int_equal(folded_add_line(&f, line), 0);
	assert_int_equal(f.v[0].depth, FOLDED_DEPTH_MAX);
	memmove(line + 2, line, n + 3);
	memcpy(line, "a;", 2);
	assert_int_equal(folded_add_line(&f, line), -EINVAL);
	const char *frames[] = { "x" };
	assert_int_equal(folded_add(&f, frames, 0, 1), -EINVAL);
	assert_int_equal(folded_add_joined(&f, "x;;y", 1), -EINVAL);
	assert_int_equal(f.n, 1);
	free(line);
	folded_free(&f);
}

/* Sorting orders frame by frame and merges equal stacks. */
static void test_sort_and_write(void **state)
{
	struct folded f = { 0 };
	const char *a[] = { "main", "serve", "epoll_run" };
	const char *b[] = { "main", "serve" };

	(void)state;
	assert_int_equal(folded_add_joined(&f, "main;serve;epoll_run;send", 3), 0);
	assert_int_equal(folded_add(&f, a, 3, 5), 0);
	assert_int_equal(folded_add(&f, b, 2, 1), 0);
	assert_int_equal(folded_add_line(&f, "main;serve;epoll_run 2"), 0);
	assert_int_equal(folded_add_line(&f, "main;alpha 4"), 0);
	/* "main;serve-x" sorts after "main;serve;..." frame by frame (not
	 * as joined text, where '-' < ';'). */
	assert_int_equal(folded_add_line(&f, "main;serve-x 1"), 0);
	folded_sort(&f);
	assert_int_equal(f.n, 5);
	assert_int_equal(f.total, 16);
	char *out = written(w_folded, &f, NULL);
	assert_string_equal(out,
		"main;alpha 4\n"
		"main;serve 1\n"
		"main;serve;epoll_run 7\n"
		"main;serve;epoll_run;send 3\n"
		"main;serve-x 1\n");
	free(out);
	folded_free(&f);
	/* An empty profile writes nothing. */
	out = written(w_folded, &f, NULL);
	assert_string_equal(out, "");
	free(out);
}

static void test_json(void **state)
{
	struct folded f = { 0 };
	struct folded_meta cpu = {
		.mode = "cpu", .model = "epoll", .protocol = "http",
		.unit = "samples", .seconds = 5.0004, .hz = 99, .lost = 2,
	};
	struct folded_meta off = {
		.mode = "offcpu", .model = "pre\"fork\\", .unit = "us",
		.seconds = 1, .min_block_us = 1000,
	};

	(void)state;
	assert_int_equal(folded_add_line(&f, "main;epoll_wait;do_epoll_wait_[k] 10"), 0);
	assert_int_equal(folded_add_line(&f, "main;a\"b 3"), 0);
	char *out = written(w_json, &f, &cpu);
	assert_string_equal(out,
		"{\"mode\":\"cpu\",\"model\":\"epoll\",\"protocol\":\"http\","
		"\"unit\":\"samples\",\"seconds\":5.000,\"hz\":99,\"total\":13,"
		"\"lost\":2,\"stacks\":[{\"frames\":[\"main\",\"epoll_wait\","
		"\"do_epoll_wait_[k]\"],\"value\":10},{\"frames\":[\"main\","
		"\"a\\\"b\"],\"value\":3}]}\n");
	free(out);
	out = written(w_json, &f, &off);
	assert_string_equal(out,
		"{\"mode\":\"offcpu\",\"model\":\"pre\\\"fork\\\\\",\"unit\":\"us\","
		"\"seconds\":1.000,\"min_block_us\":1000,\"total\":13,"
		"\"lost\":0,\"stacks\":[{\"frames\":[\"main\",\"epoll_wait\","
		"\"do_epoll_wait_[k]\"],\"value\":10},{\"frames\":[\"main\","
		"\"a\\\"b\"],\"value\":3}]}\n");
	free(out);
	folded_free(&f);
}

/* The part of an SVG between <g id="frames"> and its end. */
static char *frames_of(const char *svg)
{
	const char *a = strstr(svg, "<g id=\"frames\">\n");
	const char *b = a ? strstr(a, "</g>\n</svg>\n") : NULL;

	assert_non_null(a);
	assert_non_null(b);
	a += strlen("<g id=\"frames\">\n");
	return strndup(a, (size_t)(b - a));
}

static void test_svg_frames(void **state)
{
	struct folded f = { 0 };
	struct flame_opts o = { .title = "t & <t>", .subtitle = "s",
				.unit = "samples" };

	(void)state;
	assert_int_equal(folded_add_line(&f, "main;epoll_run 3"), 0);
	assert_int_equal(folded_add_line(&f, "main;send_[k] 1"), 0);
	folded_sort(&f);
	char *svg = written(w_svg, &f, &o);
	/* 1180 px for 4 samples: 295 px each; three rows; root at the
	 * bottom (y 92), the leaves on top (y 60). */
	char *fr = frames_of(svg);
	assert_string_equal(fr,
		"<g data-name=\"all\"><title>all (4 samples, 100.00%)</title>"
		"<rect x=\"10.0\" y=\"92.0\" width=\"1180.0\" height=\"15\" "
		"fill=\"rgb(126,156,206)\" rx=\"2\" ry=\"2\"/><text x=\"13.0\" "
		"y=\"103.5\">all</text></g>\n"
		"<g data-name=\"main\"><title>main (4 samples, 100.00%)</title>"
		"<rect x=\"10.0\" y=\"76.0\" width=\"1180.0\" height=\"15\" "
		"fill=\"rgb(233,5,48)\" rx=\"2\" ry=\"2\"/><text x=\"13.0\" "
		"y=\"87.5\">main</text></g>\n"
		"<g data-name=\"epoll_run\"><title>epoll_run (3 samples, "
		"75.00%)</title><rect x=\"10.0\" y=\"60.0\" width=\"885.0\" "
		"height=\"15\" fill=\"rgb(255,74,20)\" rx=\"2\" ry=\"2\"/>"
		"<text x=\"13.0\" y=\"71.5\">epoll_run</text></g>\n"
		"<g data-name=\"send_[k]\"><title>send_[k] (1 samples, 25.00%)"
		"</title><rect x=\"895.0\" y=\"60.0\" width=\"295.0\" "
		"height=\"15\" fill=\"rgb(237,186,91)\" rx=\"2\" ry=\"2\"/>"
		"<text x=\"898.0\" y=\"71.5\">send_[k]</text></g>\n");
	/* The header: size, escaped title, subtitle. */
	assert_non_null(strstr(svg, "<svg version=\"1.1\" width=\"1200\" "
			       "height=\"142\" viewBox=\"0 0 1200 142\""));
	assert_non_null(strstr(svg, "<text id=\"title\" x=\"600\" y=\"24\">"
			       "t &amp; &lt;t&gt;</text>"));
	assert_non_null(strstr(svg, "<text id=\"subtitle\" x=\"600\" y=\"44\">"
			       "s</text>"));
	assert_null(strstr(svg + 10, "<?xml"));
	free(fr);
	free(svg);
	folded_free(&f);
}

/* Labels are cut to the width; frames under 0.1 px are left out. */
static void test_svg_narrow(void **state)
{
	struct folded f = { 0 };
	struct flame_opts o = { 0 };
	char line[64];

	(void)state;
	assert_int_equal(folded_add_line(&f, "a_rather_long_function_name 100000"), 0);
	assert_int_equal(folded_add_line(&f, "b<&>\"' 10"), 0);
	assert_int_equal(folded_add_line(&f, "tiny 5"), 0);
	snprintf(line, sizeof(line), "mid 20000");
	assert_int_equal(folded_add_line(&f, line), 0);
	folded_sort(&f);
	char *svg = written(w_svg, &f, &o);
	char *fr = frames_of(svg);
	/* 5 of 120015 is 0.05 px: left out; 10 is 0.098 px: left out too. */
	assert_null(strstr(fr, "tiny"));
	assert_null(strstr(fr, "data-name=\"b"));
	/* mid: 196.6 px, its label whole; the long name fits 983 px. */
	assert_non_null(strstr(fr, ">mid</text>"));
	assert_non_null(strstr(fr, ">a_rather_long_function_name</text>"));
	assert_non_null(strstr(svg, ">Flame Graph</text>"));
	assert_null(strstr(svg, "id=\"subtitle\""));
	free(fr);
	free(svg);
	folded_free(&f);

	/* A 40 px frame holds 4 characters: "ab.." */
	assert_int_equal(folded_add_line(&f, "abcdefgh 1"), 0);
	assert_int_equal(folded_add_line(&f, "z 28"), 0);
	folded_sort(&f);
	svg = written(w_svg, &f, &o);
	assert_non_null(strstr(svg, "width=\"40.7\" height=\"15\" "));
	assert_non_null(strstr(svg, ">ab..</text>"));
	/* Escaped in names and tooltips. */
	free(svg);
	folded_free(&f);
	assert_int_equal(folded_add_line(&f, "b<&>\"' 10"), 0);
	svg = written(w_svg, &f, &o);
	assert_non_null(strstr(svg, "<g data-name=\"b&lt;&amp;&gt;&quot;&apos;\">"
			       "<title>b&lt;&amp;&gt;&quot;&apos; (10 samples, "
			       "100.00%)</title>"));
	free(svg);
	folded_free(&f);
}

/* No stacks: a graph with its title and no frame at all. */
static void test_svg_empty(void **state)
{
	struct folded f = { 0 };
	struct flame_opts o = { .title = "nothing" };

	(void)state;
	char *svg = written(w_svg, &f, &o);
	char *fr = frames_of(svg);
	assert_string_equal(fr, "");
	assert_non_null(strstr(svg, ">nothing</text>"));
	free(fr);
	free(svg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_sort_and_write),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_svg_frames),
		cmocka_unit_test(test_svg_narrow),
		cmocka_unit_test(test_svg_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
