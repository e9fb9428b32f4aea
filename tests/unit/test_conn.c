/* Unit tests for daemon/conn.c, driven over a non-blocking unix socketpair:
 * the echo protocol through the connection buffers, backpressure, end of
 * stream, errors, counters and the idle list; delayed (held) responses and
 * their timer; reply kinds counted from a protocol (http); the gentle close
 * after the protocol ends a connection. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/conn.h"
#include "../../daemon/proto/proto.h"
#include "../../daemon/server.h"
#include "../../daemon/stats.h"
#include "../../daemon/timer.h"
#include "../../daemon/util.h"
#include "../../daemon/version.h"
#include "../../daemon/proto/http.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MS 1000000ull

static const struct hist_layout L = {
	.sub_bits = STATS_HIST_SUB_BITS,
	.max_bits = STATS_HIST_MAX_BITS,
};

struct fx {
	struct config cfg;
	struct server srv;
	struct stats_slot *slot;
	int peer;
	struct conn *c;
	char *pat;	/* test data, freed by teardown */
	char *rbuf;
};

/* A connection of protocol proto with [server] delay = delay_ms. */
static int setup_with(void **state, const char *proto, uint64_t delay_ms)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f)
		return -1;
	config_defaults(&f->cfg);
	f->cfg.delay_ms = delay_ms;
	f->srv.cfg = &f->cfg;
	f->srv.model = f->cfg.model;
	f->srv.proto = proto_find(proto);
	f->srv.sb = scoreboard_create(1);
	if (!f->srv.proto || !f->srv.sb)
		return -1;
	f->slot = scoreboard_claim(f->srv.sb, 0);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
		       sv) < 0)
		return -1;
	f->peer = sv[1];
	f->c = conn_new(sv[0], &f->srv, f->slot, false);
	if (!f->c)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_with(state, "echo", 0);
}

#define DELAY_MS 100

static int setup_delay(void **state)
{
	return setup_with(state, "echo", DELAY_MS);
}

static int setup_http(void **state)
{
	return setup_with(state, "http", 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;

	conn_close(f->c);
	/* The buffer pool's clock would count in conn_list_expire(). */
	conn_io_trim();
	free(f->pat);
	free(f->rbuf);
	if (f->peer >= 0)
		close(f->peer);
	scoreboard_destroy(f->srv.sb);
	free(f);
	return 0;
}

static uint64_t counter(const struct fx *f, enum stat_id id)
{
	return atomic_load(&f->slot->c[id]);
}

/* Requests recorded in the latency histogram. */
static uint64_t slot_requests_timed(const struct fx *f)
{
	struct stats_total t;

	scoreboard_sum(f->srv.sb, &t);
	return hist_total(L, t.hist);
}

static void peer_write(struct fx *f, const char *s)
{
	size_t len = strlen(s);

	assert_int_equal(write(f->peer, s, len), (ssize_t)len);
}

/* Reads everything the peer has; expects exactly want. */
static void peer_expect(struct fx *f, const char *want)
{
	char buf[256];
	size_t got = 0;
	ssize_t n;

	while ((n = read(f->peer, buf + got, sizeof(buf) - got)) > 0)
		got += (size_t)n;
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(got, strlen(want));
	assert_memory_equal(buf, want, got);
}

/* One round of a readiness loop: whatever the connection waits for. */
static unsigned service(struct conn *c)
{
	unsigned want = conn_want(c);

	if (want & CONN_WANT_READ)
		want = conn_on_readable(c);
	if (want & CONN_WANT_WRITE)
		want = conn_on_writable(c);
	return want;
}

/* ---- echo through the connection ----------------------------------------- */

static void test_new(void **state)
{
	struct fx *f = *state;

	assert_int_equal(counter(f, STAT_accepted), 1);
	assert_int_equal(counter(f, STAT_closed), 0);
	assert_int_equal(conn_want(f->c), CONN_WANT_READ);
	assert_ptr_equal(f->c->slot, f->slot);
	assert_ptr_equal(f->c->proto, f->srv.proto);
	assert_int_equal(f->c->in.cap, CONN_IN_SIZE);
	assert_int_equal(f->c->out.cap, CONN_OUT_SIZE);
	/* Nothing to read yet. */
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	assert_int_equal(counter(f, STAT_bytes_in), 0);
	assert_int_equal(counter(f, STAT_err_read), 0);
}

static void test_echo_line(void **state)
{
	struct fx *f = *state;
	struct stats_total t;

	peer_write(f, "abc\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "abc\n");
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_bytes_in), 4);
	assert_int_equal(counter(f, STAT_bytes_out), 4);
	assert_int_equal(f->c->out_total, 4);
	assert_int_equal(f->c->sent_total, 4);
	assert_int_equal(buf_used(&f->c->in), 0);
	assert_int_equal(buf_used(&f->c->out), 0);
	assert_int_equal(f->c->nruns, 0);
	assert_int_equal(f->c->t_pending, 0);
	assert_int_equal(conn_want(f->c), CONN_WANT_READ);
	scoreboard_sum(f->srv.sb, &t);
	assert_int_equal(t.c[STAT_requests], 1);
	assert_int_equal(hist_total(L, t.hist), 1);
	assert_int_equal(counter(f, STAT_err_read) + counter(f, STAT_err_write) +
			 counter(f, STAT_err_protocol), 0);
}

static void test_partial_line(void **state)
{
	struct fx *f = *state;

	peer_write(f, "ab");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "ab");	/* echo streams: no wait for the newline */
	assert_int_equal(counter(f, STAT_requests), 0);
	assert_true(f->c->t_pending != 0);
	peer_write(f, "c\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "c\n");
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_bytes_in), 4);
	assert_int_equal(counter(f, STAT_bytes_out), 4);
	assert_int_equal(f->c->t_pending, 0);
	assert_int_equal(slot_requests_timed(f), 1);
}

static void test_pipelined(void **state)
{
	struct fx *f = *state;

	peer_write(f, "a\nbb\nccc\nd");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "a\nbb\nccc\nd");
	assert_int_equal(counter(f, STAT_requests), 3);
	assert_int_equal(slot_requests_timed(f), 3);
	assert_int_equal(counter(f, STAT_bytes_out), 10);
	peer_write(f, "\n\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "\n\n");
	assert_int_equal(counter(f, STAT_requests), 5);
	assert_int_equal(slot_requests_timed(f), 5);
}

/* Lines of 1..200 bytes; returns the pattern, fills *len. */
static char *make_pattern(size_t len, uint64_t seed)
{
	char *p = malloc(len);

	assert_non_null(p);
	size_t next_nl = 0;
	for (size_t i = 0; i < len; i++) {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		if (i == next_nl) {
			p[i] = '\n';
			next_nl = i + 1 + seed % 200;
		} else {
			p[i] = (char)(seed >> 40);
			if (p[i] == '\n')
				p[i] = 'n';
		}
	}
	return p;
}

static uint64_t count_newlines(const char *p, size_t len)
{
	uint64_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* Writes from pat[*sent] into the peer until the socket is full. */
static void fill_peer(struct fx *f, const char *pat, size_t total, size_t *sent)
{
	for (int i = 0; i < 100000; i++) {
		size_t chunk = total - *sent < 65536 ? total - *sent : 65536;
		assert_true(chunk > 0);	/* the pattern must outlast the buffers */
		ssize_t w = write(f->peer, pat + *sent, chunk);
		if (w < 0) {
			assert_int_equal(errno, EAGAIN);
			return;
		}
		*sent += (size_t)w;
	}
	fail_msg("the peer's socket never filled up");
}

static void assert_bounded(const struct fx *f)
{
	const struct conn *c = f->c;

	assert_true(buf_used(&c->in) <= CONN_IN_SIZE);
	assert_true(buf_used(&c->out) <= CONN_OUT_SIZE);
	/* Every byte read and not yet sent is in the buffers. */
	assert_int_equal(counter(f, STAT_bytes_in) - counter(f, STAT_bytes_out),
			 buf_used(&c->in) + buf_used(&c->out));
}

/*
 * A peer that writes and never reads: evd must stop reading once its
 * buffers are full, holding at most CONN_IN_SIZE + CONN_OUT_SIZE bytes; when
 * the peer drains, every byte comes back in order and evd reads again.
 */
static void test_backpressure(void **state)
{
	enum { TOTAL = 16 << 20 };
	struct fx *f = *state;
	char *pat = f->pat = make_pattern(TOTAL, 0x9E3779B97F4A7C15ull);
	char *rbuf = f->rbuf = malloc(65536);
	size_t sent = 0, received = 0;
	unsigned want = 0;
	int rounds;

	assert_non_null(rbuf);
	for (rounds = 0; rounds < 100000; rounds++) {
		size_t chunk = TOTAL - sent < 4096 ? TOTAL - sent : 4096;
		assert_true(chunk > 0);
		ssize_t w = write(f->peer, pat + sent, chunk);
		if (w > 0)
			sent += (size_t)w;
		else
			assert_int_equal(errno, EAGAIN);
		want = conn_on_readable(f->c);
		assert_bounded(f);
		if (!(want & CONN_WANT_READ))
			break;
	}
	assert_int_equal(want, CONN_WANT_WRITE);
	assert_int_equal(buf_used(&f->c->in), CONN_IN_SIZE);
	assert_true(buf_used(&f->c->out) > 0);
	assert_non_null(f->c->io);	/* in flight: the buffers stay */
	/* Requests count only once their response is sent. */
	uint64_t out_now = counter(f, STAT_bytes_out);
	assert_true(counter(f, STAT_requests) <= count_newlines(pat, out_now));

	/* The peer goes on writing until its socket is full; evd reads
	 * nothing more however often it is woken. */
	uint64_t in_now = counter(f, STAT_bytes_in);
	fill_peer(f, pat, TOTAL, &sent);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(conn_on_readable(f->c), CONN_WANT_WRITE);
		assert_int_equal(conn_on_writable(f->c), CONN_WANT_WRITE);
	}
	assert_int_equal(counter(f, STAT_bytes_in), in_now);
	assert_int_equal(counter(f, STAT_bytes_out), out_now);
	assert_bounded(f);
	assert_true(sent > in_now);

	/* Drain: everything comes back intact and in order. */
	for (rounds = 0; received < sent && rounds < 1000000; rounds++) {
		ssize_t r = read(f->peer, rbuf, 65536);
		if (r > 0) {
			assert_true(received + (size_t)r <= sent);
			if (memcmp(rbuf, pat + received, (size_t)r) != 0)
				fail_msg("bytes %zu..%zu differ", received,
					 received + (size_t)r);
			received += (size_t)r;
			continue;
		}
		assert_int_equal(r, -1);
		assert_int_equal(errno, EAGAIN);
		want = service(f->c);
		assert_bounded(f);
		assert_true(want != 0);
	}
	assert_int_equal(received, sent);
	assert_int_equal(conn_want(f->c), CONN_WANT_READ);
	assert_int_equal(buf_used(&f->c->in), 0);
	assert_int_equal(buf_used(&f->c->out), 0);
	assert_int_equal(counter(f, STAT_bytes_in), sent);
	assert_int_equal(counter(f, STAT_bytes_out), sent);
	assert_int_equal(counter(f, STAT_requests), count_newlines(pat, sent));
	assert_int_equal(slot_requests_timed(f), counter(f, STAT_requests));
	assert_int_equal(counter(f, STAT_err_read) + counter(f, STAT_err_write), 0);
	assert_int_equal(read(f->peer, rbuf, 1), -1);
	assert_int_equal(errno, EAGAIN);
	/* And it reads again. */
	peer_write(f, "again\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "again\n");
	assert_null(f->c->io);	/* all sent: given back */
}

/* ---- end of stream and errors ----------------------------------------------- */

static void test_eof(void **state)
{
	struct fx *f = *state;

	peer_write(f, "xyz\n");
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	unsigned want = conn_on_readable(f->c);
	if (want)	/* data and end of stream may take two reads */
		want = conn_on_readable(f->c);
	assert_int_equal(want, 0);
	assert_true(f->c->eof);
	assert_false(f->c->failed);
	peer_expect(f, "xyz\n");
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_err_read), 0);
	conn_close(f->c);
	f->c = NULL;
	char b;
	assert_int_equal(read(f->peer, &b, 1), 0);
	assert_int_equal(counter(f, STAT_closed), 1);
}

/* The end of stream waits for pending output to be sent. */
static void test_eof_with_pending_output(void **state)
{
	enum { TOTAL = 16 << 20 };
	struct fx *f = *state;
	char *pat = f->pat = make_pattern(TOTAL, 12345);
	char *rbuf = f->rbuf = malloc(65536);
	size_t sent = 0, received = 0;
	unsigned want = CONN_WANT_READ;
	int rounds;

	assert_non_null(rbuf);
	for (rounds = 0; (want & CONN_WANT_READ) && rounds < 100000; rounds++) {
		ssize_t w = write(f->peer, pat + sent, 4096);
		if (w > 0)
			sent += (size_t)w;
		want = conn_on_readable(f->c);
	}
	assert_int_equal(want, CONN_WANT_WRITE);
	fill_peer(f, pat, TOTAL, &sent);
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	for (rounds = 0; rounds < 1000000; rounds++) {
		ssize_t r = read(f->peer, rbuf, 65536);
		if (r > 0) {
			if (memcmp(rbuf, pat + received, (size_t)r) != 0)
				fail_msg("bytes %zu..%zu differ", received,
					 received + (size_t)r);
			received += (size_t)r;
			continue;
		}
		assert_int_equal(errno, EAGAIN);
		want = service(f->c);
		if (want == 0)
			break;
	}
	assert_int_equal(want, 0);
	assert_true(f->c->eof);
	assert_int_equal(buf_used(&f->c->in), 0);
	assert_int_equal(buf_used(&f->c->out), 0);
	assert_int_equal(counter(f, STAT_bytes_in), sent);
	assert_int_equal(counter(f, STAT_bytes_out), sent);
	/* The rest is waiting in the peer's socket. */
	ssize_t r;
	while ((r = read(f->peer, rbuf, 65536)) > 0) {
		assert_memory_equal(rbuf, pat + received, (size_t)r);
		received += (size_t)r;
	}
	assert_int_equal(received, sent);
	assert_int_equal(counter(f, STAT_requests), count_newlines(pat, sent));
}

/* The peer is gone before the answer: a write error, counted. */
static void test_peer_closed(void **state)
{
	struct fx *f = *state;

	peer_write(f, "abc\n");
	assert_int_equal(close(f->peer), 0);
	f->peer = -1;
	assert_int_equal(conn_on_readable(f->c), 0);
	assert_true(f->c->failed);
	assert_int_equal(counter(f, STAT_bytes_in), 4);
	assert_int_equal(counter(f, STAT_bytes_out), 0);
	assert_int_equal(counter(f, STAT_requests), 0);
	assert_int_equal(counter(f, STAT_err_write), 1);
	assert_int_equal(counter(f, STAT_err_read), 0);
	assert_int_equal(conn_want(f->c), 0);
	/* Further events change nothing. */
	assert_int_equal(conn_on_writable(f->c), 0);
	assert_int_equal(counter(f, STAT_err_write) + counter(f, STAT_err_read), 1);
}

/* The peer closes without reading its echo: the next receive fails
 * (ECONNRESET on a unix socket), counted as a read error. */
static void test_peer_reset(void **state)
{
	struct fx *f = *state;

	peer_write(f, "abc\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(close(f->peer), 0);
	f->peer = -1;
	assert_int_equal(conn_on_readable(f->c), 0);
	assert_true(f->c->failed);
	assert_int_equal(counter(f, STAT_err_read), 1);
	assert_int_equal(counter(f, STAT_err_write), 0);
	assert_int_equal(counter(f, STAT_bytes_in), 4);
	assert_int_equal(counter(f, STAT_bytes_out), 4);
	assert_int_equal(conn_on_readable(f->c), 0);
	assert_int_equal(counter(f, STAT_err_read), 1);
}

static void test_close_counts(void **state)
{
	struct fx *f = *state;
	int fd = f->c->fd;
	char b;

	conn_close(f->c);
	f->c = NULL;
	conn_close(NULL);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(read(f->peer, &b, 1), 0);
	assert_int_equal(counter(f, STAT_accepted), 1);
	assert_int_equal(counter(f, STAT_closed), 1);
	assert_int_equal(counter(f, STAT_err_timeout), 0);

	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv),
			 0);
	struct conn *c = conn_new(sv[0], &f->srv, f->slot, false);
	assert_non_null(c);
	assert_int_equal(counter(f, STAT_accepted), 2);
	conn_close_idle(c);
	assert_int_equal(counter(f, STAT_closed), 2);
	assert_int_equal(counter(f, STAT_err_timeout), 1);
	close(sv[1]);
	struct stats_total t;
	scoreboard_sum(f->srv.sb, &t);
	assert_int_equal(t.c[STAT_accepted], 2);
	assert_int_equal(t.c[STAT_closed], 2);
	assert_int_equal(t.c[STAT_refused], 0);
}

/* ---- the idle list ------------------------------------------------------------ */

static struct conn *idle_conn(struct fx *f)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	struct conn *c = conn_new(fd, &f->srv, f->slot, false);
	assert_non_null(c);
	return c;
}

/* The list holds exactly want[0..n), linked both ways. */
static void assert_list(const struct conn_list *l, struct conn *const *want,
			unsigned n)
{
	struct conn *c = l->head, *prev = NULL;

	assert_int_equal(l->n, n);
	for (unsigned i = 0; i < n; i++) {
		assert_ptr_equal(c, want[i]);
		assert_ptr_equal(c->prev, prev);
		prev = c;
		c = c->next;
	}
	assert_null(c);
	assert_ptr_equal(l->tail, prev);
	if (!n)
		assert_null(l->head);
}

static void test_list_order(void **state)
{
	struct fx *f = *state;
	struct conn_list l = { 0 };
	struct conn *a = idle_conn(f), *b = idle_conn(f), *c = idle_conn(f);

	assert_list(&l, NULL, 0);
	conn_list_add(&l, a);
	assert_list(&l, (struct conn *[]){ a }, 1);
	conn_list_add(&l, b);
	conn_list_add(&l, c);
	assert_list(&l, (struct conn *[]){ a, b, c }, 3);
	a->last_active = 0;
	conn_list_touch(&l, a);
	assert_true(a->last_active != 0);
	assert_list(&l, (struct conn *[]){ b, c, a }, 3);
	c->last_active = 0;
	conn_list_touch(&l, c);
	assert_true(c->last_active != 0);
	assert_list(&l, (struct conn *[]){ b, a, c }, 3);
	conn_list_touch(&l, c);	/* already the tail */
	assert_list(&l, (struct conn *[]){ b, a, c }, 3);
	conn_list_del(&l, a);	/* middle */
	assert_null(a->prev);
	assert_null(a->next);
	assert_list(&l, (struct conn *[]){ b, c }, 2);
	conn_list_del(&l, b);	/* head */
	assert_list(&l, (struct conn *[]){ c }, 1);
	conn_list_add(&l, a);
	conn_list_del(&l, a);	/* tail */
	assert_list(&l, (struct conn *[]){ c }, 1);
	conn_list_del(&l, c);
	assert_list(&l, NULL, 0);
	conn_close(a);
	conn_close(b);
	conn_close(c);
	assert_int_equal(counter(f, STAT_closed), 3);
	assert_int_equal(counter(f, STAT_err_timeout), 0);
}

struct forgotten {
	struct conn *c[8];
	unsigned n;
};

static void forget(struct conn *c, void *arg)
{
	struct forgotten *fg = arg;

	assert_true(fg->n < ARRAY_SIZE(fg->c));
	fg->c[fg->n++] = c;
}

static void test_list_expire(void **state)
{
	struct fx *f = *state;
	struct conn_list l = { 0 };
	struct forgotten fg = { 0 };
	struct conn *a = idle_conn(f), *b = idle_conn(f), *c = idle_conn(f),
		    *d = idle_conn(f);
	const uint64_t now = 1000000 * MS;

	a->last_active = now - 5000 * MS;
	b->last_active = now - 2000 * MS;	/* exactly idle_ms: expires */
	c->last_active = now - 1999 * MS - MS / 2;
	d->last_active = now - 10 * MS;
	conn_list_add(&l, a);
	conn_list_add(&l, b);
	conn_list_add(&l, c);
	conn_list_add(&l, d);

	/* No timeout: nothing expires. */
	assert_int_equal(conn_list_expire(&l, 0, now, forget, &fg), -1);
	assert_int_equal(l.n, 4);

	/* 0.5 ms left for c rounds up to 1. */
	assert_int_equal(conn_list_expire(&l, 2000, now, forget, &fg), 1);
	assert_int_equal(fg.n, 2);
	assert_ptr_equal(fg.c[0], a);
	assert_ptr_equal(fg.c[1], b);
	assert_list(&l, (struct conn *[]){ c, d }, 2);
	assert_int_equal(counter(f, STAT_err_timeout), 2);
	assert_int_equal(counter(f, STAT_closed), 2);

	/* Nothing more at the same instant. */
	assert_int_equal(conn_list_expire(&l, 2000, now, forget, &fg), 1);
	assert_int_equal(fg.n, 2);

	/* One ms later c goes; d has 2000 - 11 ms left. */
	assert_int_equal(conn_list_expire(&l, 2000, now + MS, forget, &fg), 1989);
	assert_int_equal(fg.n, 3);
	assert_ptr_equal(fg.c[2], c);
	assert_list(&l, (struct conn *[]){ d }, 1);

	/* A clock behind last_active counts as no idleness. */
	assert_int_equal(conn_list_expire(&l, 2000, now - 20 * MS, NULL, NULL),
			 2000);
	assert_list(&l, (struct conn *[]){ d }, 1);

	/* Without forget, far in the future: the list empties. */
	assert_int_equal(conn_list_expire(&l, 2000, now + 86400000 * MS, NULL,
					  NULL), -1);
	assert_list(&l, NULL, 0);
	assert_int_equal(conn_list_expire(&l, 2000, now, forget, &fg), -1);
	assert_int_equal(fg.n, 3);
	assert_int_equal(counter(f, STAT_err_timeout), 4);
	assert_int_equal(counter(f, STAT_closed), 4);
	assert_int_equal(counter(f, STAT_accepted), 5);	/* with the fixture's */
}

/* request_timeout: the clock starts with a request's first byte, keeps its
 * start while the request grows, stops when it is whole, and a request not
 * whole by request_ms is closed as a timeout. */
static void test_request_clock(void **state)
{
	struct fx *f = *state;
	struct conn_list l = { 0 };
	struct forgotten fg = { 0 };
	struct conn *c = f->c;

	assert_int_equal(c->request_ms, 10000);
	conn_list_add(&l, c);
	assert_null(l.rq_head);
	peer_write(f, "half");
	conn_on_readable(c);
	conn_list_touch(&l, c);
	peer_expect(f, "half");
	assert_true(conn_request_waits(c));
	assert_ptr_equal(l.rq_head, c);
	uint64_t start = c->rq_start;
	assert_true(start != 0);
	/* More of the same request: same start. */
	peer_write(f, "more");
	conn_on_readable(c);
	conn_list_touch(&l, c);
	peer_expect(f, "more");
	assert_int_equal(c->rq_start, start);
	/* idle_timeout off: the request deadline alone, 6 s away (the
	 * buffer pool's clock, which would count too, emptied). */
	conn_io_trim();
	assert_int_equal(conn_list_expire(&l, 0, start + 4000 * MS, forget, &fg),
			 6000);
	assert_int_equal(conn_list_next_due(&l, 0), start + 10000 * MS);
	/* Whole: the clock stops. */
	peer_write(f, "\n");
	conn_on_readable(c);
	conn_list_touch(&l, c);
	peer_expect(f, "\n");
	assert_false(conn_request_waits(c));
	assert_null(l.rq_head);
	assert_int_equal(c->rq_start, 0);
	conn_io_trim();
	assert_int_equal(conn_list_expire(&l, 0, start + 20000 * MS, forget, &fg),
			 -1);
	/* The next request has a clock of its own; due, it is closed. */
	peer_write(f, "next");
	conn_on_readable(c);
	conn_list_touch(&l, c);
	peer_expect(f, "next");
	start = c->rq_start;
	conn_io_trim();
	assert_int_equal(conn_list_expire(&l, 0, start + 10000 * MS - 1, forget,
					  &fg), 1);
	assert_int_equal(conn_list_expire(&l, 0, start + 10000 * MS, forget, &fg),
			 -1);
	assert_int_equal(fg.n, 1);
	assert_ptr_equal(fg.c[0], c);
	f->c = NULL;	/* closed */
	assert_list(&l, NULL, 0);
	assert_null(l.rq_head);
	assert_int_equal(counter(f, STAT_err_timeout), 1);
	assert_int_equal(counter(f, STAT_closed), 1);
}

/* ---- buffers lent while a request or reply is in flight ------------------ */

static size_t peer_read_all(struct fx *f, char *buf, size_t cap);

/* An idle non-blocking connection holds no buffers: it takes a block from
 * the thread's pool to read, and gives it back once the reply is sent (echo
 * answers a partial line at once: nothing stays).  test_backpressure: output
 * the peer does not read keeps it. */
static void test_buffers_lent(void **state)
{
	struct fx *f = *state;
	struct conn *c = f->c;

	conn_io_trim();
	assert_null(c->io);
	assert_null(c->in.data);
	assert_null(c->out.data);
	assert_int_equal(c->in.cap, CONN_IN_SIZE);
	/* Nothing to read: the block goes back at once. */
	assert_int_equal(conn_on_readable(c), CONN_WANT_READ);
	assert_null(c->io);
	assert_int_equal(conn_io_pooled(), 1);
	/* A whole line: answered, sent, and given back to the pool. */
	peer_write(f, "abc\n");
	assert_int_equal(conn_on_readable(c), CONN_WANT_READ);
	peer_expect(f, "abc\n");
	assert_null(c->io);
	assert_int_equal(conn_io_pooled(), 1);
	/* Two lines and half a third. */
	peer_write(f, "de\nf\ngh");
	conn_on_readable(c);
	peer_expect(f, "de\nf\ngh");
	assert_null(c->io);
	assert_int_equal(counter(f, STAT_requests), 3);
	assert_int_equal(conn_io_pooled(), 1);	/* the same block each time */
	peer_write(f, "\n");
	conn_on_readable(c);
	peer_expect(f, "\n");
	assert_null(c->io);
	assert_int_equal(counter(f, STAT_requests), 4);
	assert_int_equal(counter(f, STAT_err_nomem), 0);
}

/* http: a head not yet whole keeps the buffer (its bytes wait there); the
 * reply sent, it goes back. */
static void test_buffers_partial_head(void **state)
{
	struct fx *f = *state;
	struct conn *c = f->c;
	char buf[512];

	conn_io_trim();
	peer_write(f, "GET / HTTP/1.1\r\nHo");
	assert_int_equal(conn_on_readable(c), CONN_WANT_READ);
	assert_non_null(c->io);
	assert_int_equal(buf_used(&c->in), 18);
	assert_int_equal(conn_io_pooled(), 0);
	peer_write(f, "st: x\r\n\r\n");
	assert_int_equal(conn_on_readable(c), CONN_WANT_READ);
	size_t n = peer_read_all(f, buf, sizeof(buf));
	assert_true(n > 17);
	assert_memory_equal(buf, "HTTP/1.1 200 OK\r\n", 17);
	assert_null(c->io);
	assert_int_equal(conn_io_pooled(), 1);
	assert_int_equal(counter(f, STAT_requests), 1);
}

/* A blocking connection (or one pinned) keeps its block for its life. */
static void test_buffers_pinned(void **state)
{
	struct fx *f = *state;
	int sv[2];

	conn_io_trim();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct conn *b = conn_new(sv[0], &f->srv, f->slot, true);
	assert_non_null(b);
	assert_non_null(b->io);
	assert_ptr_equal(b->in.data, b->io->in);
	assert_ptr_equal(b->out.data, b->io->out);
	assert_true(conn_pin_buffers(f->c));
	struct conn_io *io = f->c->io;
	assert_non_null(io);
	peer_write(f, "x\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	peer_expect(f, "x\n");
	assert_ptr_equal(f->c->io, io);
	assert_int_equal(conn_io_pooled(), 0);
	/* The blocking one's buffers are part of its allocation: not pooled
	 * (the thread that served it may end); the pinned one's go back to
	 * the pool when it closes. */
	assert_true((char *)b->io > (char *)b &&
		    (char *)b->io < (char *)b + sizeof(*b) + 4096);
	conn_close(b);
	assert_int_equal(conn_io_pooled(), 0);
	conn_close(f->c);
	f->c = NULL;
	assert_int_equal(conn_io_pooled(), 1);
	close(sv[1]);
}

/* conn_new_at: the connection, its state and its buffers in the caller's
 * memory, nothing allocated or pooled; too small a region is refused. */
static void test_conn_new_at(void **state)
{
	struct fx *f = *state;
	static _Alignas(4096) unsigned char mem[CONN_AT_SIZE];
	int sv[2];

	conn_io_trim();
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_null(conn_new_at(sv[0], &f->srv, f->slot, mem, 1024));
	assert_int_equal(counter(f, STAT_err_nomem), 1);
	assert_int_equal(counter(f, STAT_refused), 1);
	assert_int_equal(fcntl(sv[0], F_GETFD), -1);	/* closed */
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct conn *c = conn_new_at(sv[0], &f->srv, f->slot, mem, sizeof(mem));
	assert_ptr_equal(c, (struct conn *)mem);
	assert_true((unsigned char *)c->in.data > mem &&
		    (unsigned char *)c->out.data + CONN_OUT_SIZE <= mem + sizeof(mem));
	/* The input starts on the first page: a short exchange writes two. */
	assert_true((unsigned char *)c->in.data < mem + 4096);
	assert_int_equal(write(sv[1], "hi\n", 3), 3);
	shutdown(sv[1], SHUT_WR);
	conn_serve_blocking(&f->srv, c);	/* counts it closed */
	char buf[8];
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "hi\n", 3);
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_closed), 1);
	assert_int_equal(conn_io_pooled(), 0);
	/* The socket is left to the process's exit. */
	assert_true(fcntl(sv[0], F_GETFD) >= 0);
	close(sv[0]);
	close(sv[1]);
}

/* The pool keeps blocks for reuse, last in first out, and frees those no
 * connection took during a whole CONN_IO_DECAY_MS period. */
static void test_pool_decay(void **state)
{
	const uint64_t t0 = 5000 * MS, period = CONN_IO_DECAY_MS * MS;
	struct conn_io *io[3];

	(void)state;
	conn_io_trim();
	assert_int_equal(conn_io_decay(t0), 0);	/* empty: nothing due */
	for (int i = 0; i < 3; i++)
		assert_non_null(io[i] = conn_io_get());
	for (int i = 0; i < 3; i++)
		conn_io_put(io[i]);
	assert_int_equal(conn_io_pooled(), 3);
	assert_ptr_equal(conn_io_get(), io[2]);	/* the latest first */
	conn_io_put(io[2]);
	/* The period starts at the first check. */
	assert_int_equal(conn_io_decay(t0), t0 + period);
	assert_int_equal(conn_io_decay_due(), t0 + period);
	/* One taken (and returned) during it: one stays, two go. */
	struct conn_io *x = conn_io_get();
	conn_io_put(x);
	assert_int_equal(conn_io_decay(t0 + period - 1), t0 + period);
	assert_int_equal(conn_io_pooled(), 3);
	assert_int_equal(conn_io_decay(t0 + period), t0 + 2 * period);
	assert_int_equal(conn_io_pooled(), 1);
	/* Untouched for a period: none stays, nothing more is due. */
	assert_int_equal(conn_io_decay(t0 + 2 * period), 0);
	assert_int_equal(conn_io_pooled(), 0);
	assert_int_equal(conn_io_decay_due(), 0);
	/* At most CONN_IO_POOL_MAX are kept. */
	static struct conn_io *many[CONN_IO_POOL_MAX + 2];
	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		assert_non_null(many[i] = conn_io_get());
	for (unsigned i = 0; i < ARRAY_SIZE(many); i++)
		conn_io_put(many[i]);
	assert_int_equal(conn_io_pooled(), CONN_IO_POOL_MAX);
	assert_int_equal(conn_io_trim(), CONN_IO_POOL_MAX);
	assert_int_equal(conn_io_pooled(), 0);
}

/* ---- delayed responses -------------------------------------------------------- */

/* Reads what the peer has (at most cap bytes) until EAGAIN; returns it. */
static size_t peer_read_all(struct fx *f, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(f->peer, buf + got, cap - got)) > 0)
		got += (size_t)n;
	if (got < cap) {
		assert_int_equal(n, -1);
		assert_int_equal(errno, EAGAIN);
	}
	return got;
}

/* Reads until end of stream (at most cap bytes); returns what came.  The
 * connection must be closed: a reset instead of the end fails. */
static size_t peer_read_to_end(struct fx *f, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while ((n = read(f->peer, buf + got, cap - got)) > 0) {
		got += (size_t)n;
		assert_true(got < cap);
	}
	if (n < 0)
		fail_msg("read after %zu bytes: %s, expected the end of stream",
			 got, strerror(errno));
	return got;
}

/* The peer has nothing to read now. */
static void peer_expect_nothing(struct fx *f)
{
	char b;

	assert_int_equal(read(f->peer, &b, 1), -1);
	assert_int_equal(errno, EAGAIN);
}

static uint64_t lat_max(const struct fx *f)
{
	struct stats_total t;

	scoreboard_sum(f->srv.sb, &t);
	return t.lat_max_ns;
}

static void sleep_until_ns(uint64_t when)
{
	struct timespec ts = {
		.tv_sec = (time_t)(when / 1000000000u),
		.tv_nsec = (long)(when % 1000000000u),
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
		;
}

/* A line is held for the delay: nothing is sent, the connection asks for
 * its timer; when it fires the line arrives, counted with its latency. */
static void test_delay_holds(void **state)
{
	struct fx *f = *state;

	peer_write(f, "abc\n");
	uint64_t t0 = now_ns();
	assert_int_equal(conn_on_readable(f->c),
			 CONN_WANT_READ | CONN_WANT_TIMER);
	uint64_t t1 = now_ns();
	peer_expect_nothing(f);
	assert_true(f->c->held);
	assert_int_equal(f->c->hold_off, 0);
	assert_true(f->c->hold_until >= t0 + DELAY_MS * MS);
	assert_true(f->c->hold_until <= t1 + DELAY_MS * MS);
	assert_int_equal(f->c->out_total, 4);
	assert_int_equal(f->c->sent_total, 0);
	assert_int_equal(buf_used(&f->c->out), 4);
	assert_int_equal(counter(f, STAT_bytes_in), 4);
	assert_int_equal(counter(f, STAT_bytes_out), 0);
	assert_int_equal(counter(f, STAT_requests), 0);
	assert_int_equal(slot_requests_timed(f), 0);
	/* Being writable changes nothing: the bytes are not due. */
	assert_int_equal(conn_on_writable(f->c),
			 CONN_WANT_READ | CONN_WANT_TIMER);
	assert_int_equal(conn_want(f->c), CONN_WANT_READ | CONN_WANT_TIMER);
	peer_expect_nothing(f);

	sleep_until_ns(f->c->hold_until);
	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ);
	assert_false(f->c->held);
	peer_expect(f, "abc\n");
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_bytes_out), 4);
	assert_int_equal(slot_requests_timed(f), 1);
	/* Its latency includes the delay. */
	assert_true(lat_max(f) >= DELAY_MS * MS);
	assert_true(lat_max(f) < DELAY_MS * MS + 5000 * MS);
	assert_int_equal(f->c->t_pending, 0);
	assert_int_equal(f->c->nruns, 0);
	assert_int_equal(counter(f, STAT_err_read) + counter(f, STAT_err_write) +
			 counter(f, STAT_err_protocol), 0);
}

/* Pipelined lines: one held at a time; the next is fed once the held one
 * is released, and held in turn. */
static void test_delay_pipelined(void **state)
{
	struct fx *f = *state;

	peer_write(f, "a\nbb\nccc\n");
	assert_int_equal(conn_on_readable(f->c),
			 CONN_WANT_READ | CONN_WANT_TIMER);
	peer_expect_nothing(f);
	assert_int_equal(buf_used(&f->c->out), 2);
	assert_int_equal(buf_used(&f->c->in), 7);	/* waits, unfed */
	uint64_t first = f->c->hold_until;

	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ | CONN_WANT_TIMER);
	peer_expect(f, "a\n");
	assert_true(f->c->held);
	assert_int_equal(f->c->hold_off, 2);
	assert_true(f->c->hold_until >= first);
	assert_int_equal(buf_used(&f->c->in), 4);
	/* "a" counts once sent, not with "bb" a delay later. */
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(slot_requests_timed(f), 1);

	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ | CONN_WANT_TIMER);
	peer_expect(f, "bb\n");
	assert_int_equal(f->c->hold_off, 5);
	assert_int_equal(counter(f, STAT_requests), 2);

	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ);
	peer_expect(f, "ccc\n");
	assert_false(f->c->held);
	assert_int_equal(counter(f, STAT_requests), 3);
	assert_int_equal(slot_requests_timed(f), 3);
	assert_int_equal(counter(f, STAT_bytes_out), 9);
	assert_int_equal(buf_used(&f->c->in), 0);
}

/* Output that precedes the held response is sent at once: here a 16 KiB
 * line without a newline (it streams undelayed) that the socket could not
 * take whole, then the end of the line, held behind it. */
static void test_delay_sends_what_precedes(void **state)
{
	enum { FULL = CONN_IN_SIZE };
	struct fx *f = *state;
	char *big = f->pat = malloc(FULL);
	char *rbuf = f->rbuf = malloc(FULL + 64);
	int small = 4096;
	unsigned want;

	assert_non_null(big);
	assert_non_null(rbuf);
	for (size_t i = 0; i < FULL; i++)
		big[i] = (char)('a' + i % 26);
	assert_int_equal(setsockopt(f->c->fd, SOL_SOCKET, SO_SNDBUF, &small,
				    sizeof(small)), 0);
	assert_int_equal(write(f->peer, big, FULL), FULL);
	want = conn_on_readable(f->c);
	assert_false(f->c->held);
	assert_int_equal(f->c->out_total, FULL);
	if (f->c->sent_total >= FULL)
		fail_msg("the socket took all %d bytes: the test needs it full",
			 FULL);
	assert_int_equal(want, CONN_WANT_READ | CONN_WANT_WRITE);

	peer_write(f, "yz\n");
	want = conn_on_readable(f->c);
	assert_true(f->c->held);
	assert_int_equal(f->c->hold_off, FULL);
	assert_int_equal(f->c->out_total, FULL + 3);
	assert_true(want & CONN_WANT_TIMER);

	/* The peer drains: exactly the streamed bytes come, then nothing. */
	size_t got = 0;
	for (int i = 0; i < 10000 && (want & CONN_WANT_WRITE); i++) {
		got += peer_read_all(f, rbuf + got, FULL + 64 - got);
		want = conn_on_writable(f->c);
	}
	got += peer_read_all(f, rbuf + got, FULL + 64 - got);
	assert_int_equal(want, CONN_WANT_READ | CONN_WANT_TIMER);
	assert_int_equal(got, FULL);
	assert_memory_equal(rbuf, big, FULL);
	assert_int_equal(f->c->sent_total, FULL);
	assert_int_equal(counter(f, STAT_requests), 0);
	peer_expect_nothing(f);

	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ);
	peer_expect(f, "yz\n");
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_bytes_out), FULL + 3);
}

struct fired {
	struct conn *c;
	unsigned want;
	unsigned n;
};

static struct fired fired;

/* A model's timer callback: the held response is due. */
static void on_timer(struct timer *t, void *arg)
{
	struct conn *c = arg;

	assert_ptr_equal(&c->timer, t);
	fired.c = c;
	fired.want = conn_on_timer(c);
	fired.n++;
}

/* conn_timer_sync keeps c->timer armed for hold_until exactly while the
 * connection wants its timer. */
static void test_delay_timer_sync(void **state)
{
	struct fx *f = *state;
	struct conn *c = f->c;
	struct timer_heap h = { 0 };
	unsigned want;

	memset(&fired, 0, sizeof(fired));
	assert_ptr_equal(c->timer.arg, c);
	assert_false(timer_armed(&c->timer));
	c->timer.fn = on_timer;

	/* Nothing held: nothing armed. */
	conn_timer_sync(c, &h, conn_want(c));
	assert_false(timer_armed(&c->timer));
	assert_int_equal(h.n, 0);

	peer_write(f, "a\nb\n");
	want = conn_on_readable(c);
	assert_int_equal(want, CONN_WANT_READ | CONN_WANT_TIMER);
	conn_timer_sync(c, &h, want);
	assert_true(timer_armed(&c->timer));
	assert_true(c->timer.when == c->hold_until);
	assert_int_equal(h.n, 1);
	conn_timer_sync(c, &h, want);	/* idempotent */
	assert_int_equal(h.n, 1);
	assert_true(c->timer.when == c->hold_until);

	/* Not due a nanosecond early; due at hold_until. */
	uint64_t first = c->hold_until;
	assert_int_equal(timer_run(&h, first - 1), 0);
	assert_int_equal(fired.n, 0);
	assert_int_equal(timer_run(&h, first), 1);
	assert_int_equal(fired.n, 1);
	assert_ptr_equal(fired.c, c);
	peer_expect(f, "a\n");
	/* "b" is held now, for a later deadline: the timer follows it. */
	assert_int_equal(fired.want, CONN_WANT_READ | CONN_WANT_TIMER);
	assert_false(timer_armed(&c->timer));
	conn_timer_sync(c, &h, fired.want);
	assert_true(timer_armed(&c->timer));
	assert_true(c->timer.when == c->hold_until);
	assert_true(c->hold_until >= first);
	assert_int_equal(h.n, 1);
	/* A new deadline for the same connection re-arms, never twice. */
	c->hold_until += 5 * MS;
	conn_timer_sync(c, &h, fired.want);
	assert_true(c->timer.when == c->hold_until);
	assert_int_equal(h.n, 1);

	/* Released another way: the timer goes. */
	want = conn_on_timer(c);
	assert_int_equal(want, CONN_WANT_READ);
	peer_expect(f, "b\n");
	conn_timer_sync(c, &h, want);
	assert_false(timer_armed(&c->timer));
	assert_int_equal(h.n, 0);
	conn_timer_sync(c, &h, want);	/* disarming twice is harmless */
	assert_int_equal(h.n, 0);
	assert_int_equal(timer_run(&h, UINT64_MAX), 0);
	assert_int_equal(fired.n, 1);
	assert_int_equal(counter(f, STAT_requests), 2);
	timer_heap_free(&h);
}

/* End of stream while a response is held: the connection lives until the
 * held responses are sent (conn_want is never 0 while held). */
static void test_delay_eof(void **state)
{
	struct fx *f = *state;
	unsigned want;

	peer_write(f, "a\nbb\n");
	assert_int_equal(shutdown(f->peer, SHUT_WR), 0);
	want = conn_on_readable(f->c);
	if (want & CONN_WANT_READ)	/* data and end of stream: two reads */
		want = conn_on_readable(f->c);
	assert_true(f->c->eof);
	assert_int_equal(want, CONN_WANT_TIMER);
	assert_int_equal(conn_on_writable(f->c), CONN_WANT_TIMER);
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_TIMER);
	peer_expect_nothing(f);

	/* The second line is held in turn, still not finished. */
	assert_int_equal(conn_on_timer(f->c), CONN_WANT_TIMER);
	peer_expect(f, "a\n");
	assert_int_equal(conn_on_timer(f->c), 0);
	peer_expect(f, "bb\n");
	assert_int_equal(counter(f, STAT_requests), 2);
	assert_int_equal(counter(f, STAT_err_read) + counter(f, STAT_err_write),
			 0);
	conn_close(f->c);
	f->c = NULL;
	char b;
	assert_int_equal(read(f->peer, &b, 1), 0);
}

/* A blocking model's worker sleeps through the delay, then answers. */
static void test_delay_blocking(void **state)
{
	struct fx *f = *state;
	int sv[2];
	char buf[16];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
			 0);
	struct conn *c = conn_new(sv[0], &f->srv, f->slot, true);
	assert_non_null(c);
	assert_int_equal(write(sv[1], "x\nyz\n", 5), 5);
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	uint64_t t0 = now_ns();
	conn_serve_blocking(&f->srv, c);	/* closes c */
	uint64_t took = now_ns() - t0;
	assert_true(took >= 2 * DELAY_MS * MS);	/* two lines, one at a time */
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 5);
	assert_memory_equal(buf, "x\nyz\n", 5);
	assert_int_equal(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
	assert_int_equal(counter(f, STAT_requests), 2);
	assert_int_equal(counter(f, STAT_closed), 1);
	assert_int_equal(counter(f, STAT_err_timeout), 0);
	assert_true(lat_max(f) >= 2 * DELAY_MS * MS);
	assert_int_equal(f->slot->state, WORKER_IDLE);
}

static struct forgotten not_idle_fg;

/* forget() that fails at once, before the close, for a held connection. */
static void forget_unheld(struct conn *c, void *arg)
{
	struct fx *f = arg;

	if (c->held) {
		f->c = NULL;	/* leaked, never closed twice */
		fail_msg("the idle timeout expired a held connection");
	}
	forget(c, &not_idle_fg);
}

/* The idle timeout never closes a connection that waits on evd. */
static void test_delay_not_idle(void **state)
{
	struct fx *f = *state;
	struct conn_list l = { 0 };
	struct forgotten *fg = &not_idle_fg;
	struct conn *a = idle_conn(f), *d = idle_conn(f);

	memset(fg, 0, sizeof(*fg));
	peer_write(f, "abc\n");
	assert_int_equal(conn_on_readable(f->c),
			 CONN_WANT_READ | CONN_WANT_TIMER);
	uint64_t now = now_ns();
	a->last_active = now - 5000 * MS;
	f->c->last_active = now - 5000 * MS;
	d->last_active = now - 10 * MS;
	conn_list_add(&l, a);
	conn_list_add(&l, f->c);
	conn_list_add(&l, d);
	/* a expires; the held one is touched (to the tail), not closed; d
	 * has 1990 ms left. */
	assert_int_equal(conn_list_expire(&l, 2000, now, forget_unheld, f),
			 1990);
	assert_int_equal(fg->n, 1);
	assert_ptr_equal(fg->c[0], a);
	assert_list(&l, (struct conn *[]){ d, f->c }, 2);
	assert_true(f->c->last_active >= now);
	assert_true(f->c->held);
	assert_int_equal(counter(f, STAT_err_timeout), 1);
	assert_int_equal(counter(f, STAT_closed), 1);
	/* Released, it answers as usual. */
	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ);
	peer_expect(f, "abc\n");
	conn_list_del(&l, f->c);
	conn_list_del(&l, d);
	conn_close(d);
}

/* ---- reply kinds and the protocol's close (http) ---------------------------- */

/* "HTTP/1.1 ...\r\nServer: evd/V\r\nDate: " + 29 bytes + rest: checks
 * every byte but the date's. */
static void assert_http(const char *got, size_t len, const char *status,
			const char *rest)
{
	static const char server[] = "Server: evd/" EVD_VERSION "\r\nDate: ";
	size_t sl = strlen(status), svl = sizeof(server) - 1, rl = strlen(rest);

	assert_int_equal(len, sl + svl + HTTP_DATE_LEN + rl);
	assert_memory_equal(got, status, sl);
	assert_memory_equal(got + sl, server, svl);
	assert_memory_equal(got + sl + svl + HTTP_DATE_LEN - 4, " GMT", 4);
	assert_memory_equal(got + sl + svl + HTTP_DATE_LEN, rest, rl);
}

static const char ok_rest[] = "\r\nContent-Length: 13\r\nContent-Type: "
			      "text/plain\r\n\r\nHello, World!";
static const char missing_host_rest[] = "\r\nContent-Length: 13\r\n"
					"Content-Type: text/plain\r\n"
					"Connection: close\r\n\r\nmissing Host\n";

/* Each response's kind reaches the slot's counters. */
static void test_http_replies_counted(void **state)
{
	struct fx *f = *state;
	char buf[512];
	size_t n;

	peer_write(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	n = peer_read_all(f, buf, sizeof(buf));
	assert_http(buf, n, "HTTP/1.1 200 OK\r\n", ok_rest);
	assert_int_equal(counter(f, STAT_http_2xx), 1);
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_err_protocol), 0);

	/* Two pipelined: 200 and 404. */
	peer_write(f, "GET /?q HTTP/1.1\r\nHost: x\r\n\r\n"
		   "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_READ);
	n = peer_read_all(f, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(counter(f, STAT_http_2xx), 2);
	assert_int_equal(counter(f, STAT_http_4xx), 1);
	assert_int_equal(counter(f, STAT_requests), 3);
	assert_int_equal(counter(f, STAT_err_protocol), 0);

	/* A bad request: 400, a protocol error, and the end. */
	peer_write(f, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(conn_on_readable(f->c), 0);
	assert_true(f->c->closing);
	assert_false(f->c->failed);
	n = peer_read_all(f, buf, sizeof(buf));
	assert_http(buf, n, "HTTP/1.1 400 Bad Request\r\n", missing_host_rest);
	assert_int_equal(counter(f, STAT_http_4xx), 2);
	assert_int_equal(counter(f, STAT_err_protocol), 1);
	assert_int_equal(counter(f, STAT_requests), 4);
	static const enum stat_id zero[] = {
		STAT_http_1xx, STAT_http_3xx, STAT_http_5xx, STAT_resp_status,
		STAT_resp_error, STAT_resp_integer, STAT_resp_bulk,
		STAT_resp_array, STAT_zmtp_ok, STAT_zmtp_error,
	};
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		assert_int_equal(counter(f, zero[i]), 0);
}

/*
 * The protocol ends the connection with input unread (the rest of a bad
 * request): the peer must still read the whole response, then a clean end
 * of stream.  A plain close() with unread input resets the connection
 * (ECONNRESET on a unix socket, RST on TCP).
 */
static void test_http_gentle_close(void **state)
{
	enum { JUNK = 3 * CONN_IN_SIZE };
	struct fx *f = *state;
	char buf[512];
	char *junk = f->pat = malloc(JUNK);

	assert_non_null(junk);
	memset(junk, 'j', JUNK);
	peer_write(f, "GET / HTTP/1.1\r\n\r\n");
	assert_int_equal(write(f->peer, junk, JUNK), JUNK);
	assert_int_equal(conn_on_readable(f->c), 0);
	assert_true(f->c->closing);
	/* Input read with the request is dropped, the rest is still queued. */
	assert_int_equal(buf_used(&f->c->in), 0);
	assert_true(counter(f, STAT_bytes_in) < 18 + JUNK);
	conn_close(f->c);
	f->c = NULL;
	size_t n = peer_read_to_end(f, buf, sizeof(buf));
	assert_http(buf, n, "HTTP/1.1 400 Bad Request\r\n", missing_host_rest);
	assert_int_equal(counter(f, STAT_closed), 1);
	assert_int_equal(counter(f, STAT_err_protocol), 1);
	assert_int_equal(counter(f, STAT_err_read), 0);
}

/* Pipelined: a response due now, then a delayed one.  The first is sent
 * and counted at once (its latency without the delay); the second when
 * its time comes. */
static void test_http_undelayed_then_delayed(void **state)
{
	struct fx *f = *state;
	char buf[512];
	size_t n;

	peer_write(f, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
		   "GET /delay/100 HTTP/1.1\r\nHost: x\r\n\r\n");
	uint64_t t0 = now_ns();
	assert_int_equal(conn_on_readable(f->c),
			 CONN_WANT_READ | CONN_WANT_TIMER);
	assert_true(f->c->held);
	assert_true(f->c->hold_off > 0);
	assert_true(f->c->hold_off < f->c->out_total);
	n = peer_read_all(f, buf, sizeof(buf));
	assert_http(buf, n, "HTTP/1.1 200 OK\r\n", ok_rest);
	assert_int_equal(f->c->sent_total, f->c->hold_off);
	assert_int_equal(counter(f, STAT_http_2xx), 2);	/* both made */
	assert_int_equal(counter(f, STAT_requests), 1);	/* one sent */
	assert_int_equal(slot_requests_timed(f), 1);
	assert_true(lat_max(f) < 100 * MS);

	sleep_until_ns(f->c->hold_until);
	assert_true(now_ns() - t0 >= 100 * MS);
	assert_int_equal(conn_on_timer(f->c), CONN_WANT_READ);
	n = peer_read_all(f, buf, sizeof(buf));
	assert_http(buf, n, "HTTP/1.1 200 OK\r\n", ok_rest);
	assert_int_equal(counter(f, STAT_requests), 2);
	assert_int_equal(slot_requests_timed(f), 2);
	assert_true(lat_max(f) >= 100 * MS);
}

/* A delayed closing response: held, then sent, then the end. */
static void test_http_delay_then_close(void **state)
{
	struct fx *f = *state;
	char buf[512];

	peer_write(f, "GET /delay/30 HTTP/1.1\r\nHost: x\r\n"
		   "Connection: close\r\n\r\n");
	assert_int_equal(conn_on_readable(f->c), CONN_WANT_TIMER);
	assert_true(f->c->closing);
	assert_true(f->c->held);
	peer_expect_nothing(f);
	assert_int_equal(counter(f, STAT_http_2xx), 1);	/* counted when made */
	assert_int_equal(counter(f, STAT_requests), 0);	/* and when sent */
	assert_int_equal(conn_on_timer(f->c), 0);
	assert_int_equal(counter(f, STAT_requests), 1);
	assert_int_equal(counter(f, STAT_err_protocol), 0);
	conn_close(f->c);
	f->c = NULL;
	size_t n = peer_read_to_end(f, buf, sizeof(buf));
	assert_http(buf, n, "HTTP/1.1 200 OK\r\n",
		    "\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n"
		    "Connection: close\r\n\r\nHello, World!");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_new, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_partial_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backpressure, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eof_with_pending_output,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peer_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_counts, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_expire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delay_holds, setup_delay,
						teardown),
		cmocka_unit_test_setup_teardown(test_delay_pipelined, setup_delay,
						teardown),
		cmocka_unit_test_setup_teardown(test_delay_sends_what_precedes,
						setup_delay, teardown),
		cmocka_unit_test_setup_teardown(test_delay_timer_sync, setup_delay,
						teardown),
		cmocka_unit_test_setup_teardown(test_delay_eof, setup_delay,
						teardown),
		cmocka_unit_test_setup_teardown(test_delay_blocking, setup_delay,
						teardown),
		cmocka_unit_test_setup_teardown(test_delay_not_idle, setup_delay,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_replies_counted,
						setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_http_gentle_close, setup_http,
						teardown),
		cmocka_unit_test_setup_teardown(test_http_undelayed_then_delayed,
						setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_http_delay_then_close,
						setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_lent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_pinned, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_conn_new_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buffers_partial_head,
						setup_http, teardown),
		cmocka_unit_test_setup_teardown(test_pool_decay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_clock, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
