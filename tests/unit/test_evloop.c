/* The event loop: file events (readiness, masks, hang-ups, descriptors
 * dropped mid-batch, large descriptors), time events, interruption. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "../../daemon/evloop.h"
#include "../../daemon/util.h"

#define MS 1000000ull

struct seen {
	unsigned calls;
	int fd;
	unsigned events;
	void *arg;
};

static void record_io(struct evloop *loop, int fd, unsigned events, void *arg)
{
	struct seen *s = arg;

	(void)loop;
	s->calls++;
	s->fd = fd;
	s->events = events;
	s->arg = arg;
}

static void test_readable(void **state)
{
	struct evloop *loop = evloop_new();
	struct seen s = { 0 };
	int p[2];

	(void)state;
	assert_non_null(loop);
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(evloop_set(loop, p[0], EV_READ, record_io, &s), 0);
	assert_int_equal(evloop_mask(loop, p[0]), EV_READ);
	/* Nothing ready, no timer: a zero wait returns at once. */
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(s.calls, 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.fd, p[0]);
	assert_int_equal(s.events, EV_READ);
	assert_ptr_equal(s.arg, &s);
	/* Level-triggered: still readable until drained. */
	assert_int_equal(evloop_once(loop, 0), 1);
	char c;
	assert_int_equal(read(p[0], &c, 1), 1);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(s.calls, 2);
	evloop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void test_mask_changes(void **state)
{
	struct evloop *loop = evloop_new();
	struct seen s = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	/* An empty pipe's write end is writable. */
	assert_int_equal(evloop_set(loop, p[1], EV_WRITE, record_io, &s), 0);
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_int_equal(s.events, EV_WRITE);
	/* Reading a write end never becomes ready. */
	assert_int_equal(evloop_set(loop, p[1], EV_READ, record_io, &s), 0);
	assert_int_equal(evloop_once(loop, 0), 0);
	/* Setting the same mask again is harmless (no EEXIST). */
	assert_int_equal(evloop_set(loop, p[1], EV_READ, record_io, &s), 0);
	assert_int_equal(evloop_set(loop, p[1], EV_READ | EV_WRITE, record_io,
				    &s), 0);
	assert_int_equal(evloop_once(loop, 0), 1);
	assert_int_equal(s.events, EV_WRITE);
	/* Mask 0 stops watching; it can be watched again afterwards. */
	assert_int_equal(evloop_set(loop, p[1], 0, record_io, &s), 0);
	assert_int_equal(evloop_mask(loop, p[1]), 0);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(evloop_set(loop, p[1], EV_WRITE, record_io, &s), 0);
	assert_int_equal(evloop_once(loop, 0), 1);
	assert_int_equal(s.calls, 3);
	evloop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void test_set_errors(void **state)
{
	struct evloop *loop = evloop_new();
	struct seen s = { 0 };
	char path[] = "/tmp/evloop-test-XXXXXX";

	(void)state;
	assert_int_equal(evloop_set(loop, -1, EV_READ, record_io, &s), -EBADF);
	int fd = mkostemp(path, O_CLOEXEC);
	assert_true(fd >= 0);
	unlink(path);
	/* epoll refuses regular files; the loop reports it, not a crash. */
	assert_int_equal(evloop_set(loop, fd, EV_READ, record_io, &s), -EPERM);
	assert_int_equal(evloop_mask(loop, fd), 0);
	assert_int_equal(evloop_mask(loop, -1), 0);
	assert_int_equal(evloop_mask(loop, 100000), 0);
	close(fd);
	evloop_free(loop);
	evloop_free(NULL);
}

/* A closed reader is an error on the write end: reported as EV_READ even
 * to a watcher of EV_WRITE alone, so that it looks and fails. */
static void test_hangup_is_readable(void **state)
{
	struct evloop *loop = evloop_new();
	struct seen s = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(evloop_set(loop, p[1], EV_WRITE, record_io, &s), 0);
	char buf[4096] = { 0 };
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	assert_int_equal(evloop_once(loop, 0), 0);
	close(p[0]);
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_true(s.events & EV_READ);
	evloop_free(loop);
	close(p[1]);
}

/* Two ready descriptors; whichever callback runs first drops the other,
 * which must then not run in the same batch. */
struct pair {
	int fd[2];
	int closed;
	unsigned calls;
};

static void drop_other(struct evloop *loop, int fd, unsigned events, void *arg)
{
	struct pair *p = arg;

	(void)events;
	p->calls++;
	int other = fd == p->fd[0] ? p->fd[1] : p->fd[0];
	evloop_forget(loop, other);
	close(other);
	p->closed = other;
}

static void test_dropped_in_batch(void **state)
{
	struct evloop *loop = evloop_new();
	struct pair pr = { 0 };
	int a[2], b[2];

	(void)state;
	assert_int_equal(pipe2(a, O_CLOEXEC | O_NONBLOCK), 0);
	assert_int_equal(pipe2(b, O_CLOEXEC | O_NONBLOCK), 0);
	pr.fd[0] = a[0];
	pr.fd[1] = b[0];
	assert_int_equal(evloop_set(loop, a[0], EV_READ, drop_other, &pr), 0);
	assert_int_equal(evloop_set(loop, b[0], EV_READ, drop_other, &pr), 0);
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	/* Both are reported by one epoll_wait; only one callback runs. */
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_int_equal(pr.calls, 1);
	evloop_free(loop);
	close(pr.closed == a[0] ? b[0] : a[0]);
	close(a[1]);
	close(b[1]);
}

/* Descriptors far above the initial table size grow it. */
static void test_large_fd(void **state)
{
	struct evloop *loop = evloop_new();
	struct seen s = { 0 };
	int p[2];

	(void)state;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	int big = dup3(p[0], 700, O_CLOEXEC);
	assert_int_equal(big, 700);
	assert_int_equal(evloop_set(loop, p[0], EV_READ, record_io, &s), 0);
	assert_int_equal(evloop_set(loop, big, EV_READ, record_io, &s), 0);
	assert_int_equal(evloop_mask(loop, big), EV_READ);
	assert_int_equal(evloop_mask(loop, 699), 0);
	assert_int_equal(evloop_set(loop, p[0], 0, NULL, NULL), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_int_equal(s.fd, big);
	evloop_free(loop);
	close(big);
	close(p[0]);
	close(p[1]);
}

static unsigned fired[8];
static unsigned nfired;

static void record_timer(struct timer *t, void *arg)
{
	(void)t;
	fired[nfired++] = (unsigned)(uintptr_t)arg;
}

/* The loop sleeps until the first timer, not longer, and runs due timers
 * in deadline order after the file events. */
static void test_timers(void **state)
{
	struct evloop *loop = evloop_new();
	struct timer t[3];
	uint64_t start = now_ns();

	(void)state;
	nfired = 0;
	for (unsigned i = 0; i < 3; i++)
		timer_init(&t[i], record_timer, (void *)(uintptr_t)i);
	assert_int_equal(evloop_timer_add(loop, &t[0], start + 200 * MS), 0);
	assert_int_equal(evloop_timer_add(loop, &t[1], start + 20 * MS), 0);
	assert_int_equal(evloop_timer_add(loop, &t[2], start + 40 * MS), 0);
	evloop_timer_del(loop, &t[2]);
	/* max_wait caps the sleep: nothing runs before its deadline (on a
	 * busy machine 20 ms may have passed already: then it runs). */
	int ran = evloop_once(loop, 1);
	assert_true(ran == 0 || now_ns() - start >= 20 * MS);
	/* -1: sleeps until the next deadline, which then runs; each one
	 * runs once, in deadline order, never before its time. */
	while (nfired < 2) {
		assert_true(evloop_once(loop, -1) >= 1);
		assert_true(now_ns() - start >= (nfired == 1 ? 20 : 200) * MS);
	}
	assert_int_equal(nfired, 2);
	assert_int_equal(fired[0], 1);
	assert_int_equal(fired[1], 0);
	assert_false(timer_armed(&t[0]));
	assert_false(timer_armed(&t[2]));
	evloop_free(loop);
}

struct rearm {
	struct evloop *loop;
	struct timer t;
	unsigned runs;
};

static void rearm_fn(struct timer *t, void *arg)
{
	struct rearm *r = arg;

	if (++r->runs < 3)
		assert_int_equal(evloop_timer_add(r->loop, t, now_ns() + MS), 0);
}

static void test_timer_rearms(void **state)
{
	struct rearm r = { .loop = evloop_new() };

	(void)state;
	timer_init(&r.t, rearm_fn, &r);
	assert_int_equal(evloop_timer_add(r.loop, &r.t, now_ns()), 0);
	/* A timer re-armed from its callback waits for the next round. */
	assert_int_equal(evloop_once(r.loop, -1), 1);
	assert_int_equal(r.runs, 1);
	assert_true(timer_armed(&r.t));
	while (timer_armed(&r.t))
		assert_int_equal(evloop_once(r.loop, -1), 1);
	assert_int_equal(r.runs, 3);
	evloop_free(r.loop);
}

static void on_signal(int sig)
{
	(void)sig;
}

static void *kick_later(void *arg)
{
	usleep(20000);
	pthread_kill(*(pthread_t *)arg, SIGUSR1);
	return NULL;
}

/* A signal without SA_RESTART interrupts an endless wait: how evd stops
 * its loops. */
static void test_interrupted(void **state)
{
	struct evloop *loop = evloop_new();
	struct sigaction sa, old;
	pthread_t self = pthread_self(), kicker;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pthread_create(&kicker, NULL, kick_later, &self), 0);
	assert_int_equal(evloop_once(loop, -1), -EINTR);
	pthread_join(kicker, NULL);
	sigaction(SIGUSR1, &old, NULL);
	evloop_free(loop);
}

/* EV_HUP alone keeps a descriptor registered for nothing but its peer's
 * hang-up (how the control thread watches a client that waits, with
 * nothing to read or write): silent while the peer lives, EV_HUP when it
 * is gone. */
static void test_hup_only(void **state)
{
	struct evloop *loop = evloop_new();
	struct seen s = { 0 };
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(evloop_set(loop, sv[0], EV_HUP, record_io, &s), 0);
	assert_int_equal(evloop_mask(loop, sv[0]), EV_HUP);
	/* Data to read is not reported to a watcher of hang-ups. */
	assert_int_equal(write(sv[1], "x", 1), 1);
	assert_int_equal(evloop_once(loop, 0), 0);
	/* A half close (the peer's write side) is not a hang-up either. */
	assert_int_equal(shutdown(sv[1], SHUT_WR), 0);
	assert_int_equal(evloop_once(loop, 0), 0);
	close(sv[1]);
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.events, EV_READ | EV_HUP);
	evloop_free(loop);
	close(sv[0]);
}

struct sleeps {
	unsigned before, after;
	bool asleep;		/* between before and after */
	bool io_asleep;		/* a callback ran between them */
};

static void sleep_before(struct evloop *loop, void *arg)
{
	struct sleeps *z = arg;

	(void)loop;
	z->before++;
	z->asleep = true;
}

static void sleep_after(struct evloop *loop, void *arg)
{
	struct sleeps *z = arg;

	(void)loop;
	z->after++;
	z->asleep = false;
}

static struct sleeps *zz;

static void io_checks_sleep(struct evloop *loop, int fd, unsigned ev,
			    void *arg)
{
	(void)loop;
	(void)fd;
	(void)ev;
	(void)arg;
	if (zz->asleep)
		zz->io_asleep = true;
}

/* The hooks run once around each wait, the callbacks outside them; an
 * interrupted wait still calls after. */
static void test_sleep_hooks(void **state)
{
	struct evloop *loop = evloop_new();
	struct sleeps z = { 0 };
	int p[2];

	(void)state;
	zz = &z;
	assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	evloop_set_sleep(loop, sleep_before, sleep_after, &z);
	assert_int_equal(evloop_once(loop, 0), 0);
	assert_int_equal(z.before, 1);
	assert_int_equal(z.after, 1);
	assert_int_equal(evloop_set(loop, p[1], EV_WRITE, io_checks_sleep, NULL),
			 0);
	assert_int_equal(evloop_once(loop, 1000), 1);
	assert_int_equal(z.before, 2);
	assert_int_equal(z.after, 2);
	assert_false(z.io_asleep);
	assert_false(z.asleep);
	evloop_set_sleep(loop, NULL, NULL, NULL);
	assert_int_equal(evloop_once(loop, 0), 1);
	assert_int_equal(z.before, 2);
	evloop_free(loop);
	close(p[0]);
	close(p[1]);
}

static void count_fire(struct timer *t, void *arg)
{
	(void)t;
	(*(unsigned *)arg)++;
}

/* Reserved room: 300 timers armed, every one fires once. */
static void test_timer_reserve(void **state)
{
	struct evloop *loop = evloop_new();
	static struct timer t[300];
	unsigned ran = 0;

	(void)state;
	assert_int_equal(evloop_timer_reserve(loop, 300), 0);
	assert_int_equal(evloop_timer_reserve(loop, 10), 0);	/* no shrink */
	for (unsigned i = 0; i < 300; i++) {
		timer_init(&t[i], count_fire, &ran);
		assert_int_equal(evloop_timer_add(loop, &t[i], now_ns()), 0);
	}
	assert_int_equal(evloop_once(loop, 0), 300);
	assert_int_equal(ran, 300);
	evloop_free(loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readable),
		cmocka_unit_test(test_mask_changes),
		cmocka_unit_test(test_set_errors),
		cmocka_unit_test(test_hangup_is_readable),
		cmocka_unit_test(test_dropped_in_batch),
		cmocka_unit_test(test_large_fd),
		cmocka_unit_test(test_timers),
		cmocka_unit_test(test_timer_rearms),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_hup_only),
		cmocka_unit_test(test_sleep_hooks),
		cmocka_unit_test(test_timer_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
