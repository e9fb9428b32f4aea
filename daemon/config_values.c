/* Values of evd.ini: one parser and one printer per type of key (a whole
 * number, a size, a duration, yes/no, one of a list of names, ...), and the
 * address parser of [server] listen.  No I/O, no allocation: each parser
 * fills its field of struct config or says why not. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <string.h>

#include "../common/num.h"
#include "config_int.h"

int config_why(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- the number parsers, worded for messages --------------------------- */

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
	       char *why, size_t whylen)
{
	int rc = num_uint(s, min, max, out);

	if (rc == -EINVAL)
		return config_why(why, whylen, "\"%s\" is not a whole number "
				  "(expected %" PRIu64 "..%" PRIu64 ")", s, min,
				  max);
	if (rc < 0)
		return config_why(why, whylen, "%s is out of range (expected %"
				  PRIu64 "..%" PRIu64 ")", s, min, max);
	return 0;
}

int parse_duration_ms(const char *s, uint64_t max_ms, uint64_t *out,
		      char *why, size_t whylen)
{
	int rc = num_duration_ms(s, max_ms, out);

	if (rc == -EINVAL)
		return config_why(why, whylen, "\"%s\" is not a duration "
				  "(expected a number with a unit, ms or s, "
				  "such as 250ms or 60s)", s);
	if (rc < 0)
		return config_why(why, whylen, "%s is out of range (at most %"
				  PRIu64 "s)", s, max_ms / 1000);
	return 0;
}

int parse_size(const char *s, uint64_t max, uint64_t *out, char *why,
	       size_t whylen)
{
	int rc = num_size(s, 0, max, out);

	if (rc == -EINVAL)
		return config_why(why, whylen, "\"%s\" is not a size (expected "
				  "bytes, or a number with k or m, such as "
				  "64k)", s);
	if (rc < 0)
		return config_why(why, whylen, "%s is out of range (at most %"
				  PRIu64 " bytes)", s, max);
	return 0;
}

/* ---- [server] listen: one address -------------------------------------- */

int parse_listen_one(const char *s, struct listen_addr *la, char *why,
		     size_t whylen)
{
	char host[64];
	const char *port_s;
	size_t hlen;

	memset(la, 0, sizeof(*la));
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':')
			goto bad;
		hlen = (size_t)(end - s - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		port_s = end + 2;
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&la->ss;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return config_why(why, whylen, "\"%s\" is not a "
					  "numeric IPv6 address", host);
		sin6->sin6_family = AF_INET6;
		la->len = sizeof(*sin6);
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			goto bad;
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof(host))
			goto bad;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
		port_s = colon + 1;
		struct sockaddr_in *sin = (struct sockaddr_in *)&la->ss;
		if (strcmp(host, "*") == 0)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return config_why(why, whylen, "\"%s\" is not a "
					  "numeric IPv4 address (write IPv6 as "
					  "[::1]:7777)", host);
		sin->sin_family = AF_INET;
		la->len = sizeof(*sin);
	}
	uint64_t port;
	char pwhy[128];
	if (parse_uint(port_s, 0, 65535, &port, pwhy, sizeof(pwhy)) < 0)
		return config_why(why, whylen, "port of \"%s\": %s", s, pwhy);
	bool v6 = la->ss.ss_family == AF_INET6;
	uint16_t nport = htons((uint16_t)port);
	if (v6)
		((struct sockaddr_in6 *)&la->ss)->sin6_port = nport;
	else
		((struct sockaddr_in *)&la->ss)->sin_port = nport;
	/* Rebuilt from the parts, so that leading zeros in the port cannot
	 * push it past text[]: a numeric host is at most 45 characters
	 * (INET6_ADDRSTRLEN - 1), so "%.45s" never cuts one. */
	snprintf(la->text, sizeof(la->text), "%s%.45s%s:%u", v6 ? "[" : "",
		 host, v6 ? "]" : "", (unsigned)port);
	return 0;
bad:
	return config_why(why, whylen, "\"%s\" is not an address (expected "
			  "HOST:PORT such as 127.0.0.1:7777, *:7777 or "
			  "[::1]:7777)", s);
}

unsigned listen_addr_port(const struct listen_addr *la)
{
	if (la->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&la->ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)&la->ss)->sin6_port);
}

/* ---- fields ------------------------------------------------------------ */

static void *field(const struct key *k, struct config *cfg)
{
	return (char *)cfg + k->off;
}

static const void *cfield(const struct key *k, const struct config *cfg)
{
	return (const char *)cfg + k->off;
}

/* Integer fields are unsigned or uint64_t (enums: int-sized). */
static void put_uint(const struct key *k, struct config *cfg, uint64_t v)
{
	if (k->size == sizeof(uint64_t))
		*(uint64_t *)field(k, cfg) = v;
	else
		*(unsigned *)field(k, cfg) = (unsigned)v;
}

static uint64_t get_uint(const struct key *k, const struct config *cfg)
{
	if (k->size == sizeof(uint64_t))
		return *(const uint64_t *)cfield(k, cfg);
	return *(const unsigned *)cfield(k, cfg);
}

/* ---- one parser and one printer per type ------------------------------- */

static int uint_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	uint64_t n;

	if (parse_uint(v, k->min, k->max, &n, why, whylen) < 0)
		return -1;
	put_uint(k, cfg, n);
	return 0;
}

static void uint_print(const struct key *k, const struct config *cfg,
		       FILE *out)
{
	fprintf(out, "%" PRIu64, get_uint(k, cfg));
}

static int size_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	uint64_t n;

	if (parse_size(v, k->max, &n, why, whylen) < 0)
		return -1;
	if (n < k->min)
		return config_why(why, whylen, "%s is too small (at least %"
				  PRIu64 " byte%s)", v, k->min,
				  k->min == 1 ? "" : "s");
	put_uint(k, cfg, n);
	return 0;
}

/* In the largest unit that is exact: 1m, 8k, 300. */
static void size_print(const struct key *k, const struct config *cfg,
		       FILE *out)
{
	uint64_t n = get_uint(k, cfg);

	if (n && n % (1024 * 1024) == 0)
		fprintf(out, "%" PRIu64 "m", n / (1024 * 1024));
	else if (n && n % 1024 == 0)
		fprintf(out, "%" PRIu64 "k", n / 1024);
	else
		fprintf(out, "%" PRIu64, n);
}

static int duration_parse(const struct key *k, struct config *cfg,
			  const char *v, char *why, size_t whylen)
{
	uint64_t ms;

	if (parse_duration_ms(v, k->max, &ms, why, whylen) < 0)
		return -1;
	put_uint(k, cfg, ms);
	return 0;
}

/* In seconds when exact, else milliseconds: 60s, 1500ms, 0ms. */
static void duration_print(const struct key *k, const struct config *cfg,
			   FILE *out)
{
	uint64_t ms = get_uint(k, cfg);

	if (ms && ms % 1000 == 0)
		fprintf(out, "%" PRIu64 "s", ms / 1000);
	else
		fprintf(out, "%" PRIu64 "ms", ms);
}

static int bool_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	bool *b = field(k, cfg);

	if (strcmp(v, "yes") == 0)
		*b = true;
	else if (strcmp(v, "no") == 0)
		*b = false;
	else
		return config_why(why, whylen, "\"%s\" is not yes or no", v);
	return 0;
}

static void bool_print(const struct key *k, const struct config *cfg,
		       FILE *out)
{
	fputs(*(const bool *)cfield(k, cfg) ? "yes" : "no", out);
}

/* "a, b, c": names[] in table order. */
void config_names_list(const char *const *names, unsigned n, char *out,
		       size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%s",
					 i ? ", " : "", names[i]);
}

static int enum_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	char list[256];

	for (unsigned i = 0; i < k->nnames; i++)
		if (strcmp(v, k->names[i]) == 0) {
			*(int *)field(k, cfg) = (int)i;
			return 0;
		}
	config_names_list(k->names, k->nnames, list, sizeof(list));
	return config_why(why, whylen, "unknown %s \"%s\" (expected one of: "
			  "%s)", k->what, v, list);
}

static void enum_print(const struct key *k, const struct config *cfg,
		       FILE *out)
{
	fputs(k->names[*(const int *)cfield(k, cfg)], out);
}

/* A user or group name as useradd(8) takes them: [a-z_][a-z0-9_-]*[$]?,
 * shorter than the field; "" keeps the default. */
static int name_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n >= k->size)
		return config_why(why, whylen, "%s name is %zu bytes long (at "
				  "most %zu)", k->what, n, k->size - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		bool ok = (ch >= 'a' && ch <= 'z') || ch == '_' ||
			  (i > 0 && ((ch >= '0' && ch <= '9') || ch == '-' ||
				     (ch == '$' && i == n - 1)));
		if (!ok)
			return config_why(why, whylen, "\"%s\" is not a valid "
					  "%s name (lower-case letters, digits, "
					  "'_' and '-', not starting with a "
					  "digit or '-')", v, k->what);
	}
	memcpy(field(k, cfg), v, n + 1);
	return 0;
}

static void string_print(const struct key *k, const struct config *cfg,
			 FILE *out)
{
	fputs(cfield(k, cfg), out);
}

/* The path of a unix socket: not empty, at most sizeof(sun_path) - 1. */
static int socket_parse(const struct key *k, struct config *cfg,
			const char *v, char *why, size_t whylen)
{
	size_t len = strlen(v);

	if (len == 0)
		return config_why(why, whylen, "empty path (expected the path "
				  "of the %s, such as %s)", k->what, k->dflt);
	if (len >= k->size)
		return config_why(why, whylen, "path is %zu bytes long; a unix "
				  "socket path holds at most %zu", len,
				  k->size - 1);
	memcpy(field(k, cfg), v, len + 1);
	return 0;
}

/* Any bytes, at most max; the length goes to the size_t at aux. */
static int text_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	size_t n = strlen(v);

	if (n > k->max)
		return config_why(why, whylen, "%zu bytes long (at most %"
				  PRIu64 ")", n, k->max);
	memcpy(field(k, cfg), v, n + 1);
	*(size_t *)((char *)cfg + k->aux) = n;
	return 0;
}

static int mode_parse(const struct key *k, struct config *cfg, const char *v,
		      char *why, size_t whylen)
{
	unsigned m = 0;
	size_t i;

	for (i = 0; v[i] >= '0' && v[i] <= '7' && i < 4; i++)
		m = m * 8 + (unsigned)(v[i] - '0');
	if (i == 0 || v[i] != '\0' || m > 0777)
		return config_why(why, whylen, "\"%s\" is not a file mode "
				  "(expected octal 0000..0777, such as 0660)",
				  v);
	put_uint(k, cfg, m);
	return 0;
}

static void mode_print(const struct key *k, const struct config *cfg,
		       FILE *out)
{
	fprintf(out, "%04" PRIo64, get_uint(k, cfg));
}

static int custom_parse(const struct key *k, struct config *cfg,
			const char *v, char *why, size_t whylen)
{
	return k->parse(cfg, v, why, whylen);
}

static void custom_print(const struct key *k, const struct config *cfg,
			 FILE *out)
{
	k->print(cfg, out);
}

static const struct {
	int (*parse)(const struct key *k, struct config *cfg, const char *v,
		     char *why, size_t whylen);
	void (*print)(const struct key *k, const struct config *cfg, FILE *out);
} types[KT_MAX] = {
	[KT_UINT] = { uint_parse, uint_print },
	[KT_SIZE] = { size_parse, size_print },
	[KT_DURATION] = { duration_parse, duration_print },
	[KT_BOOL] = { bool_parse, bool_print },
	[KT_ENUM] = { enum_parse, enum_print },
	[KT_NAME] = { name_parse, string_print },
	[KT_SOCKET] = { socket_parse, string_print },
	[KT_TEXT] = { text_parse, string_print },
	[KT_MODE] = { mode_parse, mode_print },
	[KT_CUSTOM] = { custom_parse, custom_print },
};

int config_value_parse(const struct key *k, struct config *cfg, const char *v,
		       char *why, size_t whylen)
{
	return types[k->type].parse(k, cfg, v, why, whylen);
}

void config_value_print(const struct key *k, const struct config *cfg,
			FILE *out)
{
	types[k->type].print(k, cfg, out);
}
