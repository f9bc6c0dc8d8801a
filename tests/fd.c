// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd.c - readyq_fd() and readyq_next_deadline(), against every backend
 *
 * The fd is an eventfd that the library writes when an index becomes
 * QUEUED, when the earliest deadline moves earlier and on shutdown; the
 * caller reads it to clear it.  These tests look at it only through
 * poll(2), read(2) and epoll(7), as a daemon would.
 */
#include "testutil.h"
#include "checkutil.h"

#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MS 1000000ull

static struct readyq *q;

static void setup_q(int i)
{
	struct readyq_config cfg;

	readyq_config_init(&cfg);
	cfg.backend = rq_test_backends[i];
	ck_assert_int_eq(readyq_create(&cfg, &q), 0);
}

#define BEGIN() setup_q(_i)
#define END() (readyq_destroy(q), q = NULL)

static bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	ck_assert_int_ge(rc, 0);
	return rc == 1 && (p.revents & POLLIN);
}

/* Read the counter (clears it); 0 when it was not readable. */
static uint64_t clear(int fd)
{
	uint64_t v = 0;
	ssize_t n = read(fd, &v, sizeof(v));

	if (n < 0) {
		ck_assert_int_eq(errno, EAGAIN);
		return 0;
	}
	ck_assert_int_eq(n, sizeof(v));
	return v;
}

static void finish(struct readyq_index idx)
{
	struct readyq_result r = readyq_result_completed(false);

	ck_assert_int_eq(readyq_complete(q, idx, &r), 0);
}

START_TEST(test_fd_same_and_quiet)
{
	int fd;

	BEGIN();
	ck_assert_int_eq(readyq_fd(NULL), -EINVAL);
	fd = readyq_fd(q);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(readyq_fd(q), fd);
	ck_assert(!readable(fd, 0));
	END();
}
END_TEST

START_TEST(test_fd_register_read_register)
{
	struct readyq_index out[4];
	int fd;

	BEGIN();
	fd = readyq_fd(q);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert(readable(fd, 0));
	ck_assert_uint_ge(clear(fd), 1);
	ck_assert(!readable(fd, 0));
	/* A duplicate queues nothing and signals nothing. */
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 0);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	ck_assert_int_eq(readyq_drain(q, out + 1, 3), 0);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert(readable(fd, 0));
	clear(fd);
	/* A register during the turn queues it at the turn's end. */
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 0);
	ck_assert(!readable(fd, 0));
	finish(out[0]);
	ck_assert(readable(fd, 0));
	END();
}
END_TEST

START_TEST(test_fd_created_after_work)
{
	int fd;

	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(7, 0)), 1);
	fd = readyq_fd(q);
	ck_assert_int_ge(fd, 0);
	ck_assert(readable(fd, 0));
	END();
}
END_TEST

struct producer_arg {
	uint64_t delay_ns;
	int rc;
};

static void *late_register(void *arg)
{
	struct producer_arg *a = arg;

	test_sleep_ns(a->delay_ns);
	a->rc = readyq_register(q, ix(3, 0));
	return NULL;
}

START_TEST(test_fd_epoll_wakes)
{
	struct producer_arg a = { .delay_ns = 50 * MS };
	struct epoll_event ev = { .events = EPOLLIN }, got;
	struct readyq_index out[4];
	pthread_t t;
	int ep, fd, n;

	BEGIN();
	fd = readyq_fd(q);
	ep = epoll_create1(EPOLL_CLOEXEC);
	ck_assert_int_ge(ep, 0);
	ev.data.fd = fd;
	ck_assert_int_eq(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, late_register, &a), 0);
	do
		n = epoll_wait(ep, &got, 1, 5000);
	while (n < 0 && errno == EINTR);
	ck_assert_int_eq(n, 1);
	ck_assert_int_eq(got.data.fd, fd);
	pthread_join(t, NULL);
	ck_assert_int_eq(a.rc, 1);
	clear(fd);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	ck_assert_uint_eq(out[0].slot, 3);
	n = epoll_wait(ep, &got, 1, 0);
	ck_assert_int_eq(n, 0);
	close(ep);
	END();
}
END_TEST

START_TEST(test_fd_shutdown)
{
	int fd;

	BEGIN();
	fd = readyq_fd(q);
	ck_assert(!readable(fd, 0));
	readyq_shutdown(q);
	ck_assert(readable(fd, 0));
	ck_assert_int_eq(readyq_poll_signal(q), -ESHUTDOWN);
	END();
}
END_TEST

START_TEST(test_fd_after_shutdown)
{
	BEGIN();
	readyq_shutdown(q);
	ck_assert(readable(readyq_fd(q), 0));
	END();
}
END_TEST

START_TEST(test_fd_deadline)
{
	struct readyq_result r = readyq_result_failed(5, 30 * MS);
	struct readyq_index out[4];
	uint64_t d = 0, before;
	int fd;

	BEGIN();
	fd = readyq_fd(q);
	ck_assert_int_eq(readyq_next_deadline(NULL, &d), -EINVAL);
	ck_assert_int_eq(readyq_next_deadline(q, NULL), -EINVAL);
	ck_assert_int_eq(readyq_next_deadline(q, &d), 0);
	ck_assert_int_eq(readyq_register(q, ix(4, 0)), 1);
	clear(fd);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	before = test_now_ns();
	ck_assert_int_eq(readyq_complete(q, out[0], &r), 0);
	/* The earliest deadline moved (from none): the loop must re-arm. */
	ck_assert(readable(fd, 0));
	clear(fd);
	ck_assert_int_eq(readyq_next_deadline(q, &d), 1);
	ck_assert_uint_ge(d, before + 30 * MS);
	ck_assert_uint_le(d, test_now_ns() + 30 * MS);
	ck_assert_int_eq(readyq_drain(q, out, 4), 0);
	/* Wait the way a daemon does: the fd, bounded by the deadline. */
	while (test_now_ns() < d)
		readable(fd, 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	ck_assert_uint_eq(out[0].slot, 4);
	ck_assert_int_eq(readyq_next_deadline(q, &d), 0);
	END();
}
END_TEST

static Suite *fd_suite(void)
{
	Suite *s = suite_create("fd");
	TCase *tc = tcase_create("fd");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_fd_same_and_quiet, 0, RQ_NR_TEST_BACKENDS);
	tcase_add_loop_test(tc, test_fd_register_read_register, 0,
			    RQ_NR_TEST_BACKENDS);
	tcase_add_loop_test(tc, test_fd_created_after_work, 0,
			    RQ_NR_TEST_BACKENDS);
	tcase_add_loop_test(tc, test_fd_epoll_wakes, 0, RQ_NR_TEST_BACKENDS);
	tcase_add_loop_test(tc, test_fd_shutdown, 0, RQ_NR_TEST_BACKENDS);
	tcase_add_loop_test(tc, test_fd_after_shutdown, 0,
			    RQ_NR_TEST_BACKENDS);
	tcase_add_loop_test(tc, test_fd_deadline, 0, RQ_NR_TEST_BACKENDS);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rq_check_main(fd_suite());
}
