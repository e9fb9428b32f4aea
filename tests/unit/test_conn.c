/* Unit tests for daemon/conn.c, driven over a non-blocking unix socketpair:
 * the echo protocol through the connection buffers, backpressure, end of
 * stream, errors, counters and the idle list. */
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
#include <unistd.h>

#include "../../daemon/config.h"
#include "../../daemon/conn.h"
#include "../../daemon/proto/proto.h"
#include "../../daemon/server.h"
#include "../../daemon/stats.h"

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

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f)
		return -1;
	config_defaults(&f->cfg);
	f->srv.cfg = &f->cfg;
	f->srv.model = f->cfg.model;
	f->srv.proto = proto_find("echo");
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

static int teardown(void **state)
{
	struct fx *f = *state;

	conn_close(f->c);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
