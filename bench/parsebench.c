/* parsebench: the HTTP request parser alone on real requests, for
 * instruction counts (bench/instr --parser runs it under callgrind).
 *
 *   parsebench               parses each request ITER times; under
 *                            callgrind, zeroes the counters before each
 *                            and dumps them after, named after the request
 *   parsebench -l            lists the requests: name and length
 *   parsebench -i N          N times each (default 10000)
 *
 * Each request is copied to the start of a 16 KiB buffer, as a read puts
 * it in a connection's input buffer, and parsed from there, whole, with
 * the default [http] limits.  Exit status 1 if one does not parse. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <valgrind/callgrind.h>

#include "../daemon/proto/http_parse.h"

static const struct {
	const char *name;
	const char *text;
} requests[] = {
	{ "wrk", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n" },
	{ "h2load", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
	  "user-agent: h2load nghttp2/1.52.0\r\n\r\n" },
	{ "curl", "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
	  "User-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n" },
	{ "ab", "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n"
	  "Host: 127.0.0.1:8080\r\nUser-Agent: ApacheBench/2.3\r\n"
	  "Accept: */*\r\n\r\n" },
	{ "firefox", "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n"
	  "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
	  "Gecko/20100101 Firefox/128.0\r\n"
	  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
	  "image/avif,image/webp,image/png,image/svg+xml,*/*;q=0.8\r\n"
	  "Accept-Language: en-US,en;q=0.5\r\n"
	  "Accept-Encoding: gzip, deflate, br, zstd\r\n"
	  "Connection: keep-alive\r\n"
	  "Upgrade-Insecure-Requests: 1\r\n"
	  "Sec-Fetch-Dest: document\r\nSec-Fetch-Mode: navigate\r\n"
	  "Sec-Fetch-Site: none\r\nSec-Fetch-User: ?1\r\n"
	  "Priority: u=0, i\r\n\r\n" },
	{ "chrome", "GET /index.html?q=evd HTTP/1.1\r\nHost: www.example.com\r\n"
	  "Connection: keep-alive\r\n"
	  "sec-ch-ua: \"Not_A Brand\";v=\"8\", \"Chromium\";v=\"120\", "
	  "\"Google Chrome\";v=\"120\"\r\n"
	  "sec-ch-ua-mobile: ?0\r\nsec-ch-ua-platform: \"Linux\"\r\n"
	  "Upgrade-Insecure-Requests: 1\r\n"
	  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
	  "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36\r\n"
	  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"
	  "image/avif,image/webp,image/apng,*/*;q=0.8,"
	  "application/signed-exchange;v=b3;q=0.7\r\n"
	  "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\n"
	  "Sec-Fetch-User: ?1\r\nSec-Fetch-Dest: document\r\n"
	  "Accept-Encoding: gzip, deflate, br\r\n"
	  "Accept-Language: en-US,en;q=0.9\r\n"
	  "Cookie: session=3f9a1c0e7b2d4e6f8a0b1c2d3e4f5a6b; "
	  "_ga=GA1.1.1234567890.1700000000; theme=dark\r\n\r\n" },
};
#define NREQ (sizeof(requests) / sizeof(requests[0]))

static const struct http_limits limits = {
	.max_head_bytes = 8192, .max_headers = 100,
	.max_body_bytes = 1024 * 1024,
};

/* Parses buf[0..len) iter times; returns how many parsed whole. */
static __attribute__((noinline)) long parse_loop(const char *buf, size_t len,
						  long iter)
{
	long ok = 0;

	for (long i = 0; i < iter; i++) {
		struct http_request req;

		http_request_init(&req);
		ok += http_parse_request(buf, len, &limits, &req) == (ssize_t)len;
		__asm__ volatile("" ::: "memory");	/* keep each one */
	}
	return ok;
}

int main(int argc, char **argv)
{
	static char buf[16384];
	long iter = 10000;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "li:")) != -1) {
		switch (opt) {
		case 'l':
			for (size_t i = 0; i < NREQ; i++)
				printf("%s %zu\n", requests[i].name,
				       strlen(requests[i].text));
			return 0;
		case 'i':
			iter = atol(optarg);
			if (iter > 0)
				break;
			/* fall through */
		default:
			fprintf(stderr, "usage: parsebench [-l] [-i N]\n");
			return 2;
		}
	}
	for (size_t i = 0; i < NREQ; i++) {
		size_t len = strlen(requests[i].text);

		memcpy(buf, requests[i].text, len);
		CALLGRIND_ZERO_STATS;
		long ok = parse_loop(buf, len, iter);
		CALLGRIND_DUMP_STATS_AT(requests[i].name);
		if (ok != iter) {
			fprintf(stderr, "parsebench: %s did not parse\n",
				requests[i].name);
			rc = 1;
		}
	}
	return rc;
}
