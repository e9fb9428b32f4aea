/* evctl: output helpers (JSON with json-c, Prometheus text to stdout). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "evctl.h"

const char *const format_names[FMT_MAX] = {
	[FMT_TEXT] = "text",
	[FMT_JSON] = "json",
	[FMT_PROM] = "prometheus",
	[FMT_FOLDED] = "folded",
	[FMT_SVG] = "svg",
};

struct json_object *json_schema_object(void)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "schema",
			       json_object_new_int(EVCTL_JSON_SCHEMA));
	return o;
}

/* True for a JSON number as written: -?digits[.digits], no leading 0. */
static bool is_number(const char *s, bool *integer)
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
	*integer = *p == '\0';
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

struct json_object *json_wire_value(const char *v)
{
	bool integer;

	if (!is_number(v, &integer))
		return json_object_new_string(v);
	if (integer) {
		errno = 0;
		if (v[0] == '-') {
			long long x = strtoll(v, NULL, 10);
			if (!errno)
				return json_object_new_int64(x);
		} else {
			unsigned long long x = strtoull(v, NULL, 10);
			if (!errno)
				return json_object_new_uint64(x);
		}
	}
	/* Kept as evd wrote it: "12.5", not 12.5000000000000001. */
	return json_object_new_double_s(strtod(v, NULL), v);
}

struct json_object *json_fixed(double v, int prec)
{
	char buf[64];

	if (v < 0)
		return NULL;	/* json-c's null */
	snprintf(buf, sizeof(buf), "%.*f", prec, v);
	return json_object_new_double_s(v, buf);
}

void json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
						 JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

void prom_stdout(void *arg, const char *s, size_t n)
{
	(void)arg;
	fwrite(s, 1, n, stdout);
}

const char *num(char *buf, size_t len, int prec, double v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.*f", prec, v);
	return buf;
}

int bad_reply(const struct evctl *e)
{
	fprintf(stderr, "evctl: unexpected reply from %s\n",
		e->path ? e->path : "evd");
	return EXIT_NO_DAEMON;
}
