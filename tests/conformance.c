// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * conformance.c - SPEC §2, row by row, against every backend
 *
 * Every test is a Check loop test: _i indexes rq_test_backends[], so the
 * whole suite runs once per backend that readyq_create() accepts.  Tests
 * look only at what the API returns (drain contents, return codes, stats),
 * except the wake-one test, which reads the sleeper count from
 * lib/backend.h to know that its threads are asleep.
 */
#include "testutil.h"
#include "checkutil.h"
#include "alloc.h"
#include "backend.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

static struct readyq *q;
static enum readyq_backend cur_backend;

static struct readyq *mkq(int i, size_t capacity_hint)
{
	struct readyq_config cfg;
	struct readyq *nq = NULL;

	readyq_config_init(&cfg);
	cfg.backend = rq_test_backends[i];
	cfg.capacity_hint = capacity_hint;
	ck_assert_int_eq(readyq_create(&cfg, &nq), 0);
	ck_assert_ptr_nonnull(nq);
	return nq;
}

static void setup_q(int i)
{
	cur_backend = rq_test_backends[i];
	q = mkq(i, 0);
}

static void teardown_q(void)
{
	readyq_destroy(q);
	q = NULL;
}

#define BEGIN() setup_q(_i)
#define END() teardown_q()

/* Drain everything (up to 64) and compare with the expected indices. */
static void expect_drain(const struct readyq_index *want, size_t n)
{
	struct readyq_index out[64];
	ssize_t got = readyq_drain(q, out, 64);
	size_t k;

	ck_assert_int_eq(got, (ssize_t)n);
	for (k = 0; k < n; k++) {
		ck_assert_uint_eq(out[k].slot, want[k].slot);
		ck_assert_uint_eq(out[k].generation, want[k].generation);
	}
}

static void expect_empty(void)
{
	expect_drain(NULL, 0);
}

static void expect_one(uint32_t slot, uint32_t gen)
{
	struct readyq_index w = ix(slot, gen);

	expect_drain(&w, 1);
}

static int complete_with(struct readyq_index idx, struct readyq_result r)
{
	return readyq_complete(q, idx, &r);
}

/* Register, drain: the index is RUNNING afterwards. */
static void make_running(uint32_t slot, uint32_t gen)
{
	ck_assert_int_eq(readyq_register(q, ix(slot, gen)), 1);
	expect_one(slot, gen);
}

static struct readyq_stats stats(void)
{
	return rq_stats_of(q);
}

/* ---- register ---- */

START_TEST(register_idle_queues)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(7, 0)), 1);
	ck_assert_int_eq(readyq_poll_signal(q), 1);
	ck_assert_uint_eq(stats().queued, 1);
	expect_one(7, 0);
	ck_assert_int_eq(readyq_poll_signal(q), 0);
	ck_assert_uint_eq(stats().running, 1);
	END();
}
END_TEST

START_TEST(register_queued_is_duplicate)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(7, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(7, 0)), 0);
	ck_assert_int_eq(readyq_register(q, ix(7, 0)), 0);
	ck_assert_uint_eq(stats().duplicates, 2);
	expect_one(7, 0);
	expect_empty();
	END();
}
END_TEST

START_TEST(register_running_notifies)
{
	BEGIN();
	make_running(3, 1);
	ck_assert_int_eq(readyq_register(q, ix(3, 1)), 0);
	ck_assert_uint_eq(stats().notified, 1);
	/* Not queued during the turn: exclusivity. */
	expect_empty();
	ck_assert_int_eq(readyq_poll_signal(q), 0);
	/* The lost wake-up case: ready_hint false, but notified. */
	ck_assert_int_eq(complete_with(ix(3, 1), readyq_result_completed(false)),
			 0);
	expect_one(3, 1);
	/* The mark is consumed by that turn. */
	ck_assert_int_eq(complete_with(ix(3, 1), readyq_result_completed(false)),
			 0);
	expect_empty();
	END();
}
END_TEST

START_TEST(register_suspended_remembered)
{
	BEGIN();
	make_running(1, 0);
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_BACKPRESSURE,
					       READYQ_RESUME_CAPACITY, 0)),
			 0);
	ck_assert_uint_eq(stats().suspended, 1);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 0);
	expect_empty();
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 1);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(register_delayed_remembered)
{
	BEGIN();
	make_running(1, 0);
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_failed(-EIO, 3600 * 1000 * MS)),
			 0);
	ck_assert_uint_eq(stats().delayed, 1);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 0);
	expect_empty();
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 1);
	ck_assert_uint_eq(stats().delayed, 0);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(register_older_generation_stale)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(5, 4)), 1);
	ck_assert_int_eq(readyq_register(q, ix(5, 3)), -ESTALE);
	ck_assert_int_eq(readyq_register(q, ix(5, 0)), -ESTALE);
	ck_assert_uint_eq(stats().stale, 2);
	expect_one(5, 4);
	END();
}
END_TEST

START_TEST(register_newer_generation_resets)
{
	struct readyq_index want[2] = { ix(2, 0), ix(5, 9) };

	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(5, 1)), 1);
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	/* Reset: the old queued entry is gone, the new one is at the tail. */
	ck_assert_int_eq(readyq_register(q, ix(5, 9)), 1);
	ck_assert_uint_eq(stats().queued, 2);
	expect_drain(want, 2);
	ck_assert_int_eq(readyq_unregister(q, ix(5, 1)), -ESTALE);
	END();
}
END_TEST

START_TEST(register_newer_generation_resets_suspended)
{
	BEGIN();
	make_running(5, 1);
	ck_assert_int_eq(complete_with(ix(5, 1),
				       readyq_result_suspended(
					       READYQ_SUSPEND_USER,
					       READYQ_RESUME_SIGNAL, 77)),
			 0);
	ck_assert_int_eq(readyq_register(q, ix(5, 2)), 1);
	ck_assert_uint_eq(stats().suspended, 0);
	expect_one(5, 2);
	/* The old suspension is gone: the signal finds nothing. */
	ck_assert_int_eq(readyq_resume_signal(q, 77), 0);
	END();
}
END_TEST

START_TEST(newer_generation_while_running_is_another_mailbox)
{
	BEGIN();
	make_running(9, 1);
	ck_assert_int_eq(readyq_register(q, ix(9, 2)), 1);
	expect_one(9, 2);
	ck_assert_int_eq(complete_with(ix(9, 1), readyq_result_yielded()),
			 -ESTALE);
	ck_assert_int_eq(complete_with(ix(9, 2), readyq_result_yielded()), 0);
	expect_one(9, 2);
	END();
}
END_TEST

START_TEST(register_extreme_values)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(UINT32_MAX, UINT32_MAX)), 1);
	ck_assert_int_eq(readyq_register(q, ix(0, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(UINT32_MAX, UINT32_MAX - 1)),
			 -ESTALE);
	{
		struct readyq_index want[2] = { ix(UINT32_MAX, UINT32_MAX),
						ix(0, 0) };
		expect_drain(want, 2);
	}
	END();
}
END_TEST

/* ---- unregister ---- */

START_TEST(unregister_cancels_queued)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(4, 0)), 1);
	ck_assert_int_eq(readyq_unregister(q, ix(4, 0)), 1);
	ck_assert_int_eq(readyq_poll_signal(q), 0);
	expect_empty();
	ck_assert_int_eq(readyq_unregister(q, ix(4, 0)), 0);
	/* IDLE again: a register queues it at the tail. */
	ck_assert_int_eq(readyq_register(q, ix(8, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(4, 0)), 1);
	{
		struct readyq_index want[2] = { ix(8, 0), ix(4, 0) };
		expect_drain(want, 2);
	}
	ck_assert_uint_eq(stats().unregistered, 1);
	END();
}
END_TEST

START_TEST(unregister_cancels_suspended_and_delayed)
{
	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER, 20 * MS)),
			 0);
	ck_assert_int_eq(complete_with(ix(2, 0),
				       readyq_result_failed(1, 20 * MS)),
			 0);
	ck_assert_int_eq(readyq_unregister(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_unregister(q, ix(2, 0)), 1);
	ck_assert_uint_eq(stats().suspended, 0);
	ck_assert_uint_eq(stats().delayed, 0);
	test_sleep_ns(40 * MS);
	ck_assert_int_eq(readyq_poll_signal(q), 0);
	expect_empty();
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 0);
	END();
}
END_TEST

START_TEST(unregister_running_clears_notified)
{
	BEGIN();
	make_running(6, 0);
	ck_assert_int_eq(readyq_unregister(q, ix(6, 0)), 0);
	ck_assert_int_eq(readyq_register(q, ix(6, 0)), 0);
	ck_assert_int_eq(readyq_unregister(q, ix(6, 0)), 1);
	ck_assert_int_eq(complete_with(ix(6, 0), readyq_result_completed(false)),
			 0);
	expect_empty();
	END();
}
END_TEST

START_TEST(unregister_unknown_is_zero)
{
	BEGIN();
	ck_assert_int_eq(readyq_unregister(q, ix(123, 0)), 0);
	ck_assert_int_eq(readyq_resume(q, ix(123, 0)), 0);
	END();
}
END_TEST

/* ---- drain ---- */

START_TEST(drain_fifo_and_batches)
{
	struct readyq_index out[8];
	uint32_t s, next = 0;
	ssize_t n, k;

	BEGIN();
	for (s = 0; s < 1000; s++)
		ck_assert_int_eq(readyq_register(q, ix(s * 7919u, s)), 1);
	ck_assert_uint_eq(stats().queued, 1000);
	while ((n = readyq_drain(q, out, 8)) > 0) {
		ck_assert_int_le(n, 8);
		for (k = 0; k < n; k++, next++) {
			ck_assert_uint_eq(out[k].slot, rq_slot(next * 7919u));
			ck_assert_uint_eq(out[k].generation, next);
		}
		ck_assert_int_eq(n == 8 || next == 1000, 1);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(next, 1000);
	ck_assert_uint_eq(stats().running, 1000);
	ck_assert_uint_eq(stats().drained, 1000);
	END();
}
END_TEST

START_TEST(drain_fifo_with_holes)
{
	struct readyq_index out[300];
	uint32_t s, k = 0;

	BEGIN();
	/* Cancel two thirds, re-register some: order = order of queueing. */
	for (s = 0; s < 300; s++)
		ck_assert_int_eq(readyq_register(q, ix(s, 0)), 1);
	for (s = 0; s < 300; s++)
		if (s % 3)
			ck_assert_int_eq(readyq_unregister(q, ix(s, 0)), 1);
	for (s = 0; s < 300; s++)
		if (s % 3 == 1)
			ck_assert_int_eq(readyq_register(q, ix(s, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 300), 200);
	for (s = 0; s < 300; s += 3, k++)
		ck_assert_uint_eq(out[k].slot, rq_slot(s));
	for (s = 1; s < 300; s += 3, k++)
		ck_assert_uint_eq(out[k].slot, rq_slot(s));
	END();
}
END_TEST

START_TEST(drain_churn_keeps_order)
{
	struct readyq_index out[4];
	uint32_t round;

	BEGIN();
	/* Many cancel/requeue rounds on a few slots: the dead entries must
	 * not pile up or reorder anything. */
	for (round = 0; round < 20000; round++) {
		ck_assert_int_eq(readyq_register(q, ix(round % 3, 0)), 1);
		ck_assert_int_eq(readyq_unregister(q, ix(round % 3, 0)), 1);
	}
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(0, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 2);
	ck_assert_uint_eq(out[0].slot, rq_slot(2));
	ck_assert_uint_eq(out[1].slot, rq_slot(0));
	END();
}
END_TEST

/* ---- complete ---- */

START_TEST(complete_ready_and_yield_requeue_at_tail)
{
	struct readyq_index want[3] = { ix(2, 0), ix(1, 0), ix(3, 0) };

	BEGIN();
	make_running(1, 0);
	make_running(3, 0);
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_completed(true)),
			 0);
	ck_assert_int_eq(complete_with(ix(3, 0), readyq_result_yielded()), 0);
	expect_drain(want, 3);
	ck_assert_uint_eq(stats().completed, 2);
	END();
}
END_TEST

START_TEST(complete_idle)
{
	BEGIN();
	make_running(1, 0);
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_completed(false)),
			 0);
	expect_empty();
	ck_assert_uint_eq(stats().running, 0);
	/* IDLE: a register queues it. */
	make_running(1, 0);
	END();
}
END_TEST

START_TEST(complete_suspended_signal)
{
	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	make_running(3, 0);
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_AWAIT_EXTERNAL,
					       READYQ_RESUME_SIGNAL, 42)),
			 0);
	ck_assert_int_eq(complete_with(ix(2, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_AWAIT_EXTERNAL,
					       READYQ_RESUME_SIGNAL, 43)),
			 0);
	ck_assert_int_eq(complete_with(ix(3, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_AWAIT_EXTERNAL,
					       READYQ_RESUME_SIGNAL, 42)),
			 0);
	ck_assert_uint_eq(stats().suspended, 3);
	expect_empty();
	ck_assert_int_eq(readyq_resume_signal(q, 41), 0);
	ck_assert_int_eq(readyq_resume_signal(q, 42), 2);
	ck_assert_int_eq(readyq_resume_signal(q, 42), 0);
	ck_assert_uint_eq(stats().suspended, 1);
	{
		struct readyq_out {
			struct readyq_index i[4];
		} o;
		ssize_t n = readyq_drain(q, o.i, 4);

		ck_assert_int_eq(n, 2);
		ck_assert_uint_eq(rq_unslot(o.i[0].slot) + rq_unslot(o.i[1].slot),
				  4);
	}
	ck_assert_int_eq(readyq_resume_signal(q, 43), 1);
	expect_one(2, 0);
	END();
}
END_TEST

START_TEST(complete_suspended_signal_many)
{
	struct readyq_index out[64];
	uint32_t s;

	BEGIN();
	/* Enough suspensions to grow the backend's structures. */
	for (s = 0; s < 3000; s++) {
		make_running(s, 0);
		ck_assert_int_eq(complete_with(ix(s, 0),
					       readyq_result_suspended(
						       READYQ_SUSPEND_USER,
						       READYQ_RESUME_SIGNAL,
						       s % 10)),
				 0);
	}
	ck_assert_uint_eq(stats().suspended, 3000);
	for (s = 0; s < 10; s++)
		ck_assert_int_eq(readyq_resume_signal(q, s), 300);
	ck_assert_uint_eq(stats().queued, 3000);
	for (s = 0; s < 3000; s += 64)
		ck_assert_int_eq(readyq_drain(q, out, 64),
				 3000 - s >= 64 ? 64 : 3000 - s);
	END();
}
END_TEST

START_TEST(complete_suspended_after_delay)
{
	uint64_t t0;

	BEGIN();
	make_running(1, 0);
	t0 = test_now_ns();
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER, 30 * MS)),
			 0);
	expect_empty();
	ck_assert_int_eq(readyq_poll_signal(q), test_now_ns() - t0 >= 30 * MS);
	/* A sleeping wait ends at the deadline. */
	ck_assert_int_eq(readyq_wait(q, 5000 * MS), 0);
	ck_assert_uint_ge(test_now_ns() - t0, 30 * MS);
	ck_assert_int_eq(readyq_poll_signal(q), 1);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(complete_suspended_capacity)
{
	BEGIN();
	make_running(1, 0);
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_BACKPRESSURE,
					       READYQ_RESUME_CAPACITY, 0)),
			 0);
	ck_assert_int_eq(readyq_resume_signal(q, 0), 0);
	expect_empty();
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 0);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(complete_failed_retry_delay)
{
	uint64_t t0;

	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	t0 = test_now_ns();
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_failed(-5, 40 * MS)),
			 0);
	ck_assert_int_eq(complete_with(ix(2, 0), readyq_result_failed(-5, 20 * MS)),
			 0);
	ck_assert_uint_eq(stats().delayed, 2);
	ck_assert_int_eq(readyq_wait(q, 5000 * MS), 0);
	ck_assert_uint_ge(test_now_ns() - t0, 20 * MS);
	test_sleep_ns(40 * MS);
	/* Both due: queued in deadline order. */
	{
		struct readyq_index want[2] = { ix(2, 0), ix(1, 0) };
		expect_drain(want, 2);
	}
	ck_assert_uint_eq(stats().delayed, 0);
	END();
}
END_TEST

START_TEST(complete_failed_no_retry)
{
	BEGIN();
	make_running(1, 0);
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_failed(-5, 0)), 0);
	expect_empty();
	make_running(1, 0);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 0);
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_failed(-5, 0)), 0);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(complete_stopped_retires)
{
	BEGIN();
	make_running(1, 3);
	ck_assert_int_eq(readyq_register(q, ix(1, 3)), 0);
	ck_assert_int_eq(complete_with(ix(1, 3), readyq_result_stopped()), 0);
	expect_empty();
	ck_assert_int_eq(readyq_register(q, ix(1, 3)), -ESTALE);
	ck_assert_int_eq(readyq_unregister(q, ix(1, 3)), -ESTALE);
	ck_assert_int_eq(readyq_resume(q, ix(1, 3)), -ESTALE);
	ck_assert_int_eq(complete_with(ix(1, 3), readyq_result_yielded()),
			 -ESTALE);
	/* A newer generation brings the slot back. */
	make_running(1, 4);
	END();
}
END_TEST

START_TEST(complete_stopped_not_running)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_stopped()), 0);
	expect_empty();
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), -ESTALE);
	/* On a slot never seen: retired too. */
	ck_assert_int_eq(complete_with(ix(2, 5), readyq_result_stopped()), 0);
	ck_assert_int_eq(readyq_register(q, ix(2, 5)), -ESTALE);
	ck_assert_int_eq(readyq_register(q, ix(2, 6)), 1);
	END();
}
END_TEST

START_TEST(complete_not_running_seed_rules)
{
	BEGIN();
	/* ready / yield act as register. */
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_yielded()), 0);
	ck_assert_int_eq(complete_with(ix(2, 0), readyq_result_completed(true)),
			 0);
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_yielded()), 0);
	ck_assert_uint_eq(stats().queued, 2);
	/* idle / suspend / fail cancel a queued entry. */
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_completed(false)),
			 0);
	ck_assert_int_eq(complete_with(ix(2, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_USER,
					       READYQ_RESUME_SIGNAL, 5)),
			 0);
	expect_empty();
	ck_assert_int_eq(readyq_resume_signal(q, 5), 0);
	ck_assert_int_eq(readyq_register(q, ix(3, 0)), 1);
	ck_assert_int_eq(complete_with(ix(3, 0), readyq_result_failed(1, MS)), 0);
	test_sleep_ns(3 * MS);
	expect_empty();
	END();
}
END_TEST

START_TEST(other_generation_is_stale)
{
	struct readyq_result r = readyq_result_yielded();

	BEGIN();
	make_running(1, 5);
	ck_assert_int_eq(readyq_unregister(q, ix(1, 4)), -ESTALE);
	ck_assert_int_eq(readyq_unregister(q, ix(1, 6)), -ESTALE);
	ck_assert_int_eq(readyq_resume(q, ix(1, 6)), -ESTALE);
	ck_assert_int_eq(readyq_complete(q, ix(1, 4), &r), -ESTALE);
	ck_assert_int_eq(readyq_complete(q, ix(1, 6), &r), -ESTALE);
	/* Nothing changed: the turn is still running. */
	ck_assert_uint_eq(stats().running, 1);
	ck_assert_uint_eq(stats().stale, 5);
	ck_assert_int_eq(readyq_complete(q, ix(1, 5), &r), 0);
	expect_one(1, 5);
	END();
}
END_TEST

START_TEST(resume_only_suspended_or_delayed)
{
	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 0);
	expect_one(1, 0);
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 0);
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_USER,
					       READYQ_RESUME_SIGNAL, 9)),
			 0);
	/* resume works on any condition, and the key forgets it. */
	ck_assert_int_eq(readyq_resume(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_resume_signal(q, 9), 0);
	expect_one(1, 0);
	END();
}
END_TEST

/* ---- waiting ---- */

START_TEST(wait_level_triggered_and_timeout)
{
	uint64_t t0;

	BEGIN();
	t0 = test_now_ns();
	ck_assert_int_eq(readyq_wait(q, 20 * MS), -ETIMEDOUT);
	ck_assert_uint_ge(test_now_ns() - t0, 20 * MS);
	ck_assert_int_eq(readyq_wait(q, 0), -ETIMEDOUT);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_wait(q, 0), 0);
	ck_assert_int_eq(readyq_wait(q, -1), 0);
	ck_assert_uint_eq(stats().waits, 4);
	ck_assert_uint_eq(stats().wakeups, 2);
	ck_assert_uint_eq(stats().timeouts, 2);
	END();
}
END_TEST

struct waiter {
	pthread_t t;
	int64_t timeout;
	int rc;
	bool take; /* drain what woke us */
	ssize_t drained;
	_Atomic bool done;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	struct readyq_index out[4];

	uint64_t until;

	w->rc = readyq_wait(q, w->timeout);
	if (w->rc != 0 || !w->take)
		goto out;
	/*
	 * The register that woke us may still be in flight (the lock-free
	 * backend counts an index before its queue link is in place): the
	 * spec lets drain come back short until it lands.
	 */
	until = test_now_ns() + 2000 * MS;
	do
		w->drained = readyq_drain(q, out, 4);
	while (w->drained == 0 && test_now_ns() < until);
out:
	atomic_store(&w->done, true);
	return NULL;
}

static void wait_for_sleepers(unsigned int n)
{
	int tries = 0;

	while (atomic_load(&q->wq.sleepers) < n) {
		ck_assert_int_lt(++tries, 5000);
		test_sleep_ns(MS);
	}
	/*
	 * Let them reach futex_wait: one still between its announce and
	 * futex_wait when a kick bumps the futex word returns at once and,
	 * seeing the index still queued, returns 0 too (level-triggered).
	 * 5 ms was once too short under TSan.
	 */
	test_sleep_ns(50 * MS);
}

START_TEST(wait_wakes_on_register)
{
	struct waiter w = { .timeout = -1, .rc = 99, .take = false };

	BEGIN();
	ck_assert_int_eq(pthread_create(&w.t, NULL, waiter_main, &w), 0);
	wait_for_sleepers(1);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(pthread_join(w.t, NULL), 0);
	ck_assert_int_eq(w.rc, 0);
	END();
}
END_TEST

START_TEST(wait_wakes_one_per_index)
{
	struct waiter w[3];
	int k, woken = 0, timed_out = 0;

	BEGIN();
	for (k = 0; k < 3; k++) {
		/*
		 * Long enough that no timeout runs out near the register
		 * (TSan builds start the waiters 100+ ms apart): a waiter
		 * whose timeout ends while the index is queued may return
		 * 0 too (the wait is level-triggered), seen once in seven
		 * TSan runs with 400 ms.
		 */
		w[k].timeout = 1500 * MS;
		w[k].rc = 99;
		atomic_init(&w[k].done, false);
		w[k].take = true;
		w[k].drained = 0;
		ck_assert_int_eq(pthread_create(&w[k].t, NULL, waiter_main,
						&w[k]),
				 0);
	}
	wait_for_sleepers(3);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(pthread_join(w[k].t, NULL), 0);
		woken += w[k].rc == 0;
		timed_out += w[k].rc == -ETIMEDOUT;
		if (w[k].rc == 0)
			ck_assert_int_eq(w[k].drained, 1);
	}
	/* No thundering herd: one index, one sleeper woken; it took the
	 * index, so the others saw nothing until their timeout. */
	ck_assert_int_eq(woken, 1);
	ck_assert_int_eq(timed_out, 2);
	END();
}
END_TEST

START_TEST(wait_counts_sleeps_and_wake_calls)
{
	struct waiter w = { .timeout = -1, .rc = 99, .take = true };
	struct readyq_stats st;

	BEGIN();
	ck_assert_int_eq(pthread_create(&w.t, NULL, waiter_main, &w), 0);
	wait_for_sleepers(1);
	ck_assert_uint_eq(stats().sleeps, 1);
	ck_assert_uint_eq(stats().wake_calls, 0);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(pthread_join(w.t, NULL), 0);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_int_eq(w.drained, 1);
	st = stats();
	ck_assert_uint_eq(st.wake_calls, 1);
	ck_assert_uint_eq(st.sleeps, 1);
	ck_assert_uint_eq(st.empty_wakes, 0);
	END();
}
END_TEST

static void *drain_one(void *arg)
{
	struct readyq_index out[4];

	*(ssize_t *)arg = readyq_drain(q, out, 4);
	return NULL;
}

START_TEST(wait_counts_empty_wakes)
{
	struct readyq_index out[4];
	ssize_t other = -1;
	pthread_t t;

	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_wait(q, 0), 0);
	/* Another thread takes the index before this one drains. */
	ck_assert_int_eq(pthread_create(&t, NULL, drain_one, &other), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(other, 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 0);
	ck_assert_uint_eq(stats().empty_wakes, 1);
	/* Only the first drain after the wait counts. */
	ck_assert_int_eq(readyq_drain(q, out, 4), 0);
	ck_assert_uint_eq(stats().empty_wakes, 1);
	ck_assert_uint_eq(stats().wakeups, 1);
	END();
}
END_TEST

START_TEST(complete_batch_wakes_a_sleeper)
{
	struct waiter w = { .timeout = -1, .rc = 99, .take = true };
	struct readyq_index in[2] = { ix(1, 0), ix(2, 0) };
	struct readyq_result res[2] = { readyq_result_yielded(),
					readyq_result_completed(false) };

	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	ck_assert_int_eq(pthread_create(&w.t, NULL, waiter_main, &w), 0);
	wait_for_sleepers(1);
	ck_assert_int_eq(readyq_complete_batch(q, in, res, 2), 2);
	ck_assert_int_eq(pthread_join(w.t, NULL), 0);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_int_eq(w.drained, 1);
	END();
}
END_TEST

START_TEST(wait_wakes_on_earlier_deadline)
{
	struct waiter w = { .timeout = 10000 * MS, .rc = 99, .take = false };
	uint64_t t0;

	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	/* A far deadline first, so the sleeper arms a long timer ... */
	ck_assert_int_eq(complete_with(ix(2, 0), readyq_result_failed(0, 60000 * MS)),
			 0);
	ck_assert_int_eq(pthread_create(&w.t, NULL, waiter_main, &w), 0);
	wait_for_sleepers(1);
	/* ... then a near one: the sleeper must re-arm. */
	t0 = test_now_ns();
	ck_assert_int_eq(complete_with(ix(1, 0), readyq_result_failed(0, 30 * MS)),
			 0);
	ck_assert_int_eq(pthread_join(w.t, NULL), 0);
	ck_assert_int_eq(w.rc, 0);
	ck_assert_uint_lt(test_now_ns() - t0, 5000 * MS);
	expect_one(1, 0);
	END();
}
END_TEST

/*
 * A deadline set while sleepers wait but none of them watches the timer
 * (the watcher timed out and left) must still wake one of them.
 */
START_TEST(wait_deadline_without_timer_owner)
{
	/*
	 * a must still own the timer after two wait_for_sleepers() (50 ms
	 * each, more on a loaded machine): 100 ms was too short under load.
	 */
	struct waiter a = { .timeout = 600 * MS, .rc = 99, .take = false };
	struct waiter b = { .timeout = -1, .rc = 99, .take = false };
	uint64_t t0, took;

	BEGIN();
	make_running(1, 0);
	ck_assert_int_eq(pthread_create(&a.t, NULL, waiter_main, &a), 0);
	wait_for_sleepers(1);
	ck_assert_uint_eq(atomic_load(&q->wq.timer_owner), 1);
	ck_assert_int_eq(pthread_create(&b.t, NULL, waiter_main, &b), 0);
	wait_for_sleepers(2);
	/* a owned the timer; it times out and leaves, b sleeps on. */
	ck_assert_int_eq(pthread_join(a.t, NULL), 0);
	ck_assert_int_eq(a.rc, -ETIMEDOUT);
	t0 = test_now_ns();
	ck_assert_int_eq(complete_with(ix(1, 0),
				       readyq_result_suspended(
					       READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER, 20 * MS)),
			 0);
	/*
	 * Wait for b to return (not for the sleeper count to drop: b leaves
	 * and re-enters its sleep once when woken to take the timer).
	 */
	while (!atomic_load(&b.done) && test_now_ns() - t0 < 3000 * MS)
		test_sleep_ns(MS);
	took = test_now_ns() - t0;
	readyq_shutdown(q); /* releases b if nobody woke it */
	ck_assert_int_eq(pthread_join(b.t, NULL), 0);
	ck_assert_int_eq(b.rc, 0);
	ck_assert_uint_lt(took, 3000 * MS);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(shutdown_wakes_all_and_refuses)
{
	struct waiter w[3];
	struct readyq_result r = readyq_result_yielded();
	int k;

	BEGIN();
	for (k = 0; k < 3; k++) {
		w[k].timeout = -1;
		w[k].rc = 99;
		atomic_init(&w[k].done, false);
		w[k].take = false;
		ck_assert_int_eq(pthread_create(&w[k].t, NULL, waiter_main,
						&w[k]),
				 0);
	}
	wait_for_sleepers(3);
	make_running(1, 0);
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	readyq_shutdown(q);
	for (k = 0; k < 3; k++) {
		ck_assert_int_eq(pthread_join(w[k].t, NULL), 0);
		/* Woken by the register or by the shutdown. */
		ck_assert(w[k].rc == 0 || w[k].rc == -ESHUTDOWN);
	}
	/* Shutdown takes precedence over queued work. */
	ck_assert_int_eq(readyq_wait(q, -1), -ESHUTDOWN);
	ck_assert_int_eq(readyq_poll_signal(q), -ESHUTDOWN);
	ck_assert_int_eq(readyq_register(q, ix(3, 0)), -ESHUTDOWN);
	/* Workers can still finish. */
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), 0);
	{
		struct readyq_index want[2] = { ix(2, 0), ix(1, 0) };
		expect_drain(want, 2);
	}
	readyq_shutdown(q);
	END();
}
END_TEST

/* ---- bad input, allocation failure, lifetime ---- */

START_TEST(bad_input)
{
	struct readyq_index out[2];
	struct readyq_result r = readyq_result_yielded();
	struct readyq_config cfg;
	struct readyq_stats st;
	struct readyq *nq = NULL;

	BEGIN();
	ck_assert_int_eq(readyq_register(NULL, ix(1, 0)), -EINVAL);
	ck_assert_int_eq(readyq_unregister(NULL, ix(1, 0)), -EINVAL);
	ck_assert_int_eq(readyq_drain(NULL, out, 2), -EINVAL);
	ck_assert_int_eq(readyq_drain(q, NULL, 2), -EINVAL);
	ck_assert_int_eq(readyq_drain(q, out, 0), -EINVAL);
	ck_assert_int_eq(readyq_complete(NULL, ix(1, 0), &r), -EINVAL);
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), NULL), -EINVAL);
	ck_assert_int_eq(readyq_resume(NULL, ix(1, 0)), -EINVAL);
	ck_assert_int_eq(readyq_resume_signal(NULL, 1), -EINVAL);
	ck_assert_int_eq(readyq_poll_signal(NULL), -EINVAL);
	ck_assert_int_eq(readyq_wait(NULL, 0), -EINVAL);
	ck_assert_int_eq(readyq_stats(NULL, &st), -EINVAL);
	ck_assert_int_eq(readyq_stats(q, NULL), -EINVAL);
	ck_assert_uint_eq(readyq_throughput(NULL), 0);
	readyq_shutdown(NULL);
	readyq_destroy(NULL);
	readyq_config_init(NULL);

	/* Unknown enum values in a result: refused, nothing changed. */
	make_running(1, 0);
	r.outcome = (enum readyq_outcome)17;
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), -EINVAL);
	r = readyq_result_suspended(READYQ_SUSPEND_USER, READYQ_RESUME_SIGNAL,
				    1);
	r.resume_on = (enum readyq_resume_kind)9;
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), -EINVAL);
	r = readyq_result_suspended(READYQ_SUSPEND_USER, READYQ_RESUME_SIGNAL,
				    1);
	r.reason = (enum readyq_suspend_reason)-1;
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), -EINVAL);
	ck_assert_uint_eq(stats().running, 1);
	ck_assert_uint_eq(stats().completed, 0);

	/* Configurations. */
	ck_assert_int_eq(readyq_create(NULL, NULL), -EINVAL);
	readyq_config_init(&cfg);
	cfg.backend = (enum readyq_backend)3;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	ck_assert_ptr_null(nq);
	readyq_config_init(&cfg);
	cfg.flags = 1u << 31;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	cfg.flags = READYQ_FLAGS_ALL | (READYQ_FLAGS_ALL + 1);
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	readyq_config_init(&cfg);
	cfg.concurrency_hint = 65537;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	readyq_config_init(&cfg);
	cfg.adaptive_down_permille = 1001;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	ck_assert_ptr_null(nq);
	/* readyq_create(3): the one flag is accepted by every backend. */
	readyq_config_init(&cfg);
	cfg.backend = rq_test_backends[_i];
	cfg.flags = READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH;
	ck_assert_int_eq(readyq_create(&cfg, &nq), 0);
	ck_assert_ptr_nonnull(nq);
	readyq_destroy(nq);
	nq = NULL;
	readyq_config_init(&cfg);
	cfg.capacity_hint = (size_t)1 << 40;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	readyq_config_init(&cfg);
	cfg.adaptive_up_permille = 100;
	cfg.adaptive_down_permille = 200;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	readyq_config_init(&cfg);
	cfg.adaptive_up_permille = 1001;
	ck_assert_int_eq(readyq_create(&cfg, &nq), -EINVAL);
	ck_assert_ptr_null(nq);

	ck_assert_ptr_null(readyq_backend_name((enum readyq_backend)3));
	ck_assert_ptr_null(readyq_backend_name((enum readyq_backend)-1));
	ck_assert_str_eq(readyq_backend_name(READYQ_BACKEND_LOCKED), "locked");
	ck_assert_str_eq(readyq_backend_name(READYQ_BACKEND_LOCKFREE),
			 "lockfree");
	ck_assert_str_eq(readyq_backend_name(READYQ_BACKEND_ADAPTIVE),
			 "adaptive");
	END();
}
END_TEST

START_TEST(config_and_queries)
{
	struct readyq_config cfg;
	struct readyq *nq;

	BEGIN();
	readyq_config_init(&cfg);
	ck_assert_int_eq(cfg.backend, READYQ_BACKEND_ADAPTIVE);
	ck_assert_uint_eq(cfg.throughput, 0);
	ck_assert_uint_eq(readyq_throughput(q), 32);
	cfg.backend = cur_backend;
	cfg.throughput = 7;
	ck_assert_int_eq(readyq_create(&cfg, &nq), 0);
	ck_assert_uint_eq(readyq_throughput(nq), 7);
	readyq_destroy(nq);
	ck_assert_uint_eq(readyq_config_size(), sizeof(struct readyq_config));
	ck_assert_uint_eq(readyq_stats_size(), sizeof(struct readyq_stats));
	ck_assert_uint_eq(readyq_version(), READYQ_VERSION_HEX);
	END();
}
END_TEST

START_TEST(enomem_leaves_state_unchanged)
{
	struct readyq_index out[1024];
	unsigned long nth;
	uint32_t s, registered = 0;
	int rc, failures = 0;

	BEGIN();
	/*
	 * Fail each allocation of each register in turn (the first, then
	 * the second...) while registering new slots.
	 */
	for (nth = 1; registered < 600; nth++) {
		rq_alloc_fail_nth(nth);
		rc = readyq_register(q, ix(registered, 0));
		rq_alloc_fail_nth(0);
		if (rc == -ENOMEM) {
			failures++;
			ck_assert_uint_eq(stats().queued, registered);
			continue;
		}
		ck_assert_int_eq(rc, 1);
		registered++;
		nth = 0;
	}
	ck_assert_int_gt(failures, 0);
	ck_assert_int_eq(readyq_drain(q, out, 1024), 600);
	for (s = 0; s < 600; s++)
		ck_assert_uint_eq(out[s].slot, rq_slot(s));
	/* Suspension needs memory too: -ENOMEM keeps the turn running. */
	rq_alloc_fail_nth(1);
	rc = complete_with(ix(0, 0),
			   readyq_result_suspended(READYQ_SUSPEND_USER,
						   READYQ_RESUME_SIGNAL, 3));
	rq_alloc_fail_nth(0);
	if (rc == -ENOMEM) {
		ck_assert_uint_eq(stats().running, 600);
		ck_assert_uint_eq(stats().suspended, 0);
		rc = complete_with(ix(0, 0),
				   readyq_result_suspended(
					   READYQ_SUSPEND_USER,
					   READYQ_RESUME_SIGNAL, 3));
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(readyq_resume_signal(q, 3), 1);
	END();
}
END_TEST

START_TEST(destroy_with_everything_inside)
{
	uint32_t s;

	BEGIN();
	for (s = 0; s < 100; s++)
		make_running(s, 0);
	for (s = 0; s < 25; s++)
		ck_assert_int_eq(complete_with(ix(s, 0),
					       readyq_result_suspended(
						       READYQ_SUSPEND_USER,
						       READYQ_RESUME_SIGNAL, s)),
				 0);
	for (s = 25; s < 50; s++)
		ck_assert_int_eq(complete_with(ix(s, 0),
					       readyq_result_failed(1, 1000 * MS)),
				 0);
	for (s = 100; s < 200; s++)
		ck_assert_int_eq(readyq_register(q, ix(s, 0)), 1);
	END(); /* valgrind: nothing leaks */
}
END_TEST

/* ---- the batch calls (0.2) ---- */

START_TEST(register_batch_same_as_singles)
{
	struct readyq_index in[4] = { ix(1, 0), ix(2, 0), ix(1, 0), ix(3, 0) };
	struct readyq_index want[3] = { ix(1, 0), ix(2, 0), ix(3, 0) };

	BEGIN();
	ck_assert_int_eq(readyq_register_batch(q, in, 4), 4);
	ck_assert_uint_eq(stats().registered, 3);
	ck_assert_uint_eq(stats().duplicates, 1);
	expect_drain(want, 3);
	END();
}
END_TEST

START_TEST(register_batch_stops_at_first_failure)
{
	struct readyq_index in[3] = { ix(6, 0), ix(5, 1), ix(7, 0) };

	BEGIN();
	ck_assert_int_eq(readyq_register(q, ix(5, 2)), 1);
	expect_one(5, 2);
	/* A prefix, like write(2): 6 applied, 5 stale, 7 not tried. */
	ck_assert_int_eq(readyq_register_batch(q, in, 3), 1);
	expect_one(6, 0);
	/* The first fails: its errno, nothing applied. */
	ck_assert_int_eq(readyq_register_batch(q, &in[1], 2), -ESTALE);
	expect_empty();
	END();
}
END_TEST

START_TEST(register_batch_bad_arguments)
{
	struct readyq_index in[1] = { ix(1, 0) };

	BEGIN();
	ck_assert_int_eq(readyq_register_batch(NULL, in, 1), -EINVAL);
	ck_assert_int_eq(readyq_register_batch(q, NULL, 1), -EINVAL);
	ck_assert_int_eq(readyq_register_batch(q, NULL, 0), 0);
	ck_assert_int_eq(readyq_register_batch(q, in, 0), 0);
	expect_empty();
	readyq_shutdown(q);
	ck_assert_int_eq(readyq_register_batch(q, in, 1), -ESHUTDOWN);
	expect_empty();
	END();
}
END_TEST

START_TEST(complete_batch_same_as_singles)
{
	struct readyq_index in[3] = { ix(1, 0), ix(2, 0), ix(3, 0) };
	struct readyq_result res[3] = { readyq_result_yielded(),
					readyq_result_completed(false),
					readyq_result_stopped() };

	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	make_running(3, 0);
	ck_assert_int_eq(readyq_complete_batch(q, in, res, 3), 3);
	ck_assert_uint_eq(stats().completed, 3);
	ck_assert_uint_eq(stats().running, 0);
	expect_one(1, 0);
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(3, 0)), -ESTALE);
	expect_one(2, 0);
	END();
}
END_TEST

START_TEST(complete_batch_stops_at_invalid)
{
	struct readyq_index in[2] = { ix(1, 0), ix(2, 0) };
	struct readyq_result res[2] = { readyq_result_yielded(),
					readyq_result_yielded() };

	BEGIN();
	make_running(1, 0);
	make_running(2, 0);
	res[1].outcome = (enum readyq_outcome)99;
	ck_assert_int_eq(readyq_complete_batch(q, in, res, 2), 1);
	ck_assert_uint_eq(stats().running, 1);
	ck_assert_int_eq(readyq_complete_batch(q, &in[1], &res[1], 1),
			 -EINVAL);
	ck_assert_int_eq(readyq_complete_batch(q, in, NULL, 1), -EINVAL);
	ck_assert_int_eq(readyq_complete_batch(NULL, in, res, 1), -EINVAL);
	ck_assert_int_eq(readyq_complete_batch(q, NULL, NULL, 0), 0);
	ck_assert_uint_eq(stats().running, 1);
	/* 2 is still RUNNING: a valid result ends its turn. */
	res[1] = readyq_result_completed(false);
	ck_assert_int_eq(readyq_complete_batch(q, &in[1], &res[1], 1), 1);
	expect_one(1, 0);
	END();
}
END_TEST

START_TEST(create_with_capacity_hint)
{
	struct readyq *big = mkq(_i, 100000);
	struct readyq_index out[16];
	uint32_t s;

	for (s = 0; s < 100000; s++)
		ck_assert_int_eq(readyq_register(big, ix(s, 0)), 1);
	ck_assert_int_eq(readyq_drain(big, out, 16), 16);
	ck_assert_uint_eq(out[15].slot, rq_slot(15));
	readyq_destroy(big);
}
END_TEST

/* ---- histograms (READYQ_FLAG_HISTOGRAMS) ---- */

#define HB READYQ_HISTOGRAM_BUCKETS
#define SLEEP_2MS_BUCKET 20 /* 2^20 ns = 1.05 ms <= 2 ms < 2^21 ns */
#define SLEEP_20MS_BUCKET 24 /* 2^24 ns = 16.8 ms <= 20 ms */

static struct readyq *mkq_hist(int i)
{
	struct readyq_config cfg;
	struct readyq *nq = NULL;

	readyq_config_init(&cfg);
	cfg.backend = rq_test_backends[i];
	cfg.flags = READYQ_FLAG_HISTOGRAMS;
	ck_assert_int_eq(readyq_create(&cfg, &nq), 0);
	return nq;
}

static uint64_t hist_total(const uint64_t *b, size_t n, size_t from)
{
	uint64_t t = 0;

	for (; from < n; from++)
		t += b[from];
	return t;
}

/* Sleep 2 ms between register and drain: a bucket >= 2^20 ns. */
START_TEST(histogram_delay_lands_in_bucket)
{
	struct readyq *hq = mkq_hist(_i);
	struct readyq_result r = readyq_result_completed(false);
	struct readyq_index out[4];
	uint64_t b[HB];

	ck_assert_int_eq(readyq_delay_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 0);
	ck_assert_int_eq(readyq_register(hq, ix(1, 0)), 1);
	test_sleep_ns(2 * MS);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 1);
	ck_assert_int_eq(readyq_complete(hq, out[0], &r), 0);
	ck_assert_int_eq(readyq_delay_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 1);
	ck_assert_uint_eq(hist_total(b, HB, SLEEP_2MS_BUCKET), 1);
	/*
	 * Drained at once: below 2^24 ns (16.8 ms) even for a test thread
	 * preempted on a loaded machine; 2 ms < 2^31 ns: nothing absurd.
	 */
	ck_assert_int_eq(readyq_register(hq, ix(2, 0)), 1);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 1);
	ck_assert_int_eq(readyq_complete(hq, out[0], &r), 0);
	ck_assert_int_eq(readyq_delay_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 2);
	ck_assert_uint_eq(hist_total(b, HB, SLEEP_20MS_BUCKET), 0);
	ck_assert_uint_eq(hist_total(b, HB, 31), 0);
	readyq_destroy(hq);
}
END_TEST

/* Sleep 20 ms between drain and complete: the turn time. */
START_TEST(histogram_turn_lands_in_bucket)
{
	struct readyq *hq = mkq_hist(_i);
	struct readyq_result r = readyq_result_completed(true);
	struct readyq_index out[4];
	uint64_t b[HB], d[HB];

	ck_assert_int_eq(readyq_register(hq, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 1);
	/*
	 * 20 ms (bucket 24 and up): a requeue that kept the register's
	 * enqueue time would show a delay of 20 ms too, while a preempted
	 * test thread (a loaded machine) stays far below 2^24 ns.
	 */
	test_sleep_ns(20 * MS);
	/* ready_hint: queued again; the new enqueue time counts. */
	ck_assert_int_eq(readyq_complete(hq, out[0], &r), 0);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 1);
	r = readyq_result_stopped();
	ck_assert_int_eq(readyq_complete(hq, out[0], &r), 0);
	ck_assert_int_eq(readyq_turn_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 2);
	ck_assert_uint_eq(hist_total(b, HB, SLEEP_20MS_BUCKET), 1);
	ck_assert_int_eq(readyq_delay_histogram(hq, d, HB), 0);
	ck_assert_uint_eq(hist_total(d, HB, 0), 2);
	ck_assert_uint_eq(hist_total(d, HB, SLEEP_20MS_BUCKET), 0);
	/* A complete outside a turn, and a stale one, count nothing. */
	r = readyq_result_completed(false);
	ck_assert_int_eq(readyq_complete(hq, ix(5, 0), &r), 0);
	ck_assert_int_eq(readyq_complete(hq, ix(1, 0), &r), -ESTALE);
	ck_assert_int_eq(readyq_turn_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 2);
	readyq_destroy(hq);
}
END_TEST

/* Resume and due deadlines queue too: their delay starts then. */
START_TEST(histogram_counts_batches_and_resumes)
{
	struct readyq *hq = mkq_hist(_i);
	struct readyq_index idx[3] = { ix(1, 0), ix(2, 0), ix(3, 0) };
	struct readyq_result res[3];
	struct readyq_index out[4];
	uint64_t b[HB];
	int k;

	ck_assert_int_eq(readyq_register_batch(hq, idx, 3), 3);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 3);
	for (k = 0; k < 3; k++)
		res[k] = readyq_result_suspended(READYQ_SUSPEND_USER,
						 READYQ_RESUME_SIGNAL, 7);
	ck_assert_int_eq(readyq_complete_batch(hq, out, res, 3), 3);
	test_sleep_ns(20 * MS);
	ck_assert_int_eq(readyq_resume_signal(hq, 7), 3);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 3);
	ck_assert_int_eq(readyq_delay_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 6);
	/* The 20 ms suspension is not queue delay (see SLEEP_20MS_BUCKET). */
	ck_assert_uint_eq(hist_total(b, HB, SLEEP_20MS_BUCKET), 0);
	ck_assert_int_eq(readyq_turn_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), 3);
	readyq_destroy(hq);
}
END_TEST

/*
 * Many turns running at once, each from its own drain, while the queue
 * grows under them (the locked backend keeps one turn start per drain in
 * a pool that moves with its table), one of them cancelled by a newer
 * generation: every turn's start survives, and each drained index and
 * ended turn is counted once.
 */
#define HG_RUNNING 1500u
#define HG_MORE 3000u

START_TEST(histogram_turns_across_growth)
{
	struct readyq *hq = mkq_hist(_i);
	struct readyq_result r = readyq_result_completed(false);
	struct readyq_index out[64], run[HG_RUNNING];
	struct readyq_stats st;
	uint64_t b[HB], d[HB];
	uint32_t i;
	ssize_t n, k;

	for (i = 0; i < HG_RUNNING; i++) {
		ck_assert_int_eq(readyq_register(hq, ix(i, 0)), 1);
		ck_assert_int_eq(readyq_drain(hq, &run[i], 1), 1);
	}
	for (i = 0; i < HG_MORE; i++)
		ck_assert_int_eq(readyq_register(hq, ix(HG_RUNNING + i, 0)), 1);
	/* A newer generation of a running mailbox cancels that turn. */
	ck_assert_int_eq(readyq_register(hq, ix(rq_unslot(run[0].slot), 1)),
			 1);
	test_sleep_ns(20 * MS);
	ck_assert_int_eq(readyq_complete(hq, run[0], &r), -ESTALE);
	for (i = 1; i < HG_RUNNING; i++)
		ck_assert_int_eq(readyq_complete(hq, run[i], &r), 0);
	ck_assert_int_eq(readyq_turn_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), HG_RUNNING - 1);
	ck_assert_uint_eq(hist_total(b, HB, SLEEP_20MS_BUCKET),
			  HG_RUNNING - 1);
	ck_assert_uint_eq(hist_total(b, HB, 31), 0); /* < 2.1 s: no lost start */
	while ((n = readyq_drain(hq, out, 64)) > 0)
		for (k = 0; k < n; k++)
			ck_assert_int_eq(readyq_complete(hq, out[k], &r), 0);
	ck_assert_int_eq(readyq_stats(hq, &st), 0);
	ck_assert_uint_eq(st.drained, HG_RUNNING + HG_MORE + 1);
	ck_assert_int_eq(readyq_delay_histogram(hq, d, HB), 0);
	ck_assert_uint_eq(hist_total(d, HB, 0), st.drained);
	ck_assert_int_eq(readyq_turn_histogram(hq, b, HB), 0);
	ck_assert_uint_eq(hist_total(b, HB, 0), st.drained - 1);
	readyq_destroy(hq);
}
END_TEST

/* Fewer buckets fold the rest into the last; bad arguments change nothing. */
START_TEST(histogram_folds_and_checks)
{
	struct readyq *hq = mkq_hist(_i);
	struct readyq_index out[4];
	uint64_t b[HB + 1], f[4];
	size_t k;

	ck_assert_int_eq(readyq_register(hq, ix(1, 0)), 1);
	test_sleep_ns(2 * MS);
	ck_assert_int_eq(readyq_drain(hq, out, 4), 1);
	ck_assert_int_eq(readyq_delay_histogram(hq, b, HB), 0);
	ck_assert_int_eq(readyq_delay_histogram(hq, f, 4), 0);
	ck_assert_uint_eq(f[0] + f[1] + f[2], hist_total(b, 4, 0) - b[3]);
	ck_assert_uint_eq(f[3], hist_total(b, HB, 3));
	ck_assert_uint_eq(f[3], 1);
	ck_assert_int_eq(readyq_delay_histogram(hq, f, 1), 0);
	ck_assert_uint_eq(f[0], 1);
	for (k = 0; k < HB + 1; k++)
		b[k] = 42;
	ck_assert_int_eq(readyq_delay_histogram(hq, b, HB + 1), -EINVAL);
	ck_assert_int_eq(readyq_turn_histogram(hq, b, 0), -EINVAL);
	ck_assert_int_eq(readyq_turn_histogram(hq, NULL, 4), -EINVAL);
	ck_assert_int_eq(readyq_delay_histogram(NULL, b, 4), -EINVAL);
	for (k = 0; k < HB + 1; k++)
		ck_assert_uint_eq(b[k], 42);
	readyq_destroy(hq);
}
END_TEST

/* Without the flag: -ENOTSUP, the buffer untouched. */
START_TEST(histogram_needs_the_flag)
{
	uint64_t b[4] = { 7, 7, 7, 7 };

	BEGIN();
	ck_assert_int_eq(readyq_delay_histogram(q, b, 4), -ENOTSUP);
	ck_assert_int_eq(readyq_turn_histogram(q, b, 4), -ENOTSUP);
	ck_assert_uint_eq(b[0] + b[1] + b[2] + b[3], 28);
	/* Checked arguments first: bad ones are -EINVAL with or without. */
	ck_assert_int_eq(readyq_turn_histogram(q, b, 0), -EINVAL);
	END();
}
END_TEST

/* -ENOMEM creating the histograms: nothing leaks, no queue. */
START_TEST(histogram_create_enomem)
{
	struct readyq_config cfg;
	struct readyq *nq = NULL;
	uint64_t b[4];
	unsigned long nth;
	int rc = -ENOMEM;

	readyq_config_init(&cfg);
	cfg.backend = rq_test_backends[_i];
	cfg.flags = READYQ_FLAG_HISTOGRAMS;
	/* Fail each allocation in turn until the create gets through. */
	for (nth = 1; rc == -ENOMEM; nth++) {
		rq_alloc_fail_nth(nth);
		rc = readyq_create(&cfg, &nq);
		rq_alloc_fail_nth(0);
		if (rc == -ENOMEM)
			ck_assert_ptr_null(nq);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_ge(nth, 3); /* the queue, the histograms, the backend */
	ck_assert_int_eq(readyq_delay_histogram(nq, b, 4), 0);
	readyq_destroy(nq);
}
END_TEST

static Suite *conformance_suite(void)
{
	Suite *s = suite_create("conformance");
	TCase *tc = tcase_create("spec2");
	int n = RQ_NR_TEST_BACKENDS;

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, register_idle_queues, 0, n);
	tcase_add_loop_test(tc, register_queued_is_duplicate, 0, n);
	tcase_add_loop_test(tc, register_running_notifies, 0, n);
	tcase_add_loop_test(tc, register_suspended_remembered, 0, n);
	tcase_add_loop_test(tc, register_delayed_remembered, 0, n);
	tcase_add_loop_test(tc, register_older_generation_stale, 0, n);
	tcase_add_loop_test(tc, register_newer_generation_resets, 0, n);
	tcase_add_loop_test(tc, register_newer_generation_resets_suspended, 0,
			    n);
	tcase_add_loop_test(tc, newer_generation_while_running_is_another_mailbox,
			    0, n);
	tcase_add_loop_test(tc, register_extreme_values, 0, n);
	tcase_add_loop_test(tc, register_batch_same_as_singles, 0, n);
	tcase_add_loop_test(tc, register_batch_stops_at_first_failure, 0, n);
	tcase_add_loop_test(tc, register_batch_bad_arguments, 0, n);
	tcase_add_loop_test(tc, complete_batch_same_as_singles, 0, n);
	tcase_add_loop_test(tc, complete_batch_stops_at_invalid, 0, n);
	tcase_add_loop_test(tc, wait_counts_sleeps_and_wake_calls, 0, n);
	tcase_add_loop_test(tc, wait_counts_empty_wakes, 0, n);
	tcase_add_loop_test(tc, complete_batch_wakes_a_sleeper, 0, n);
	tcase_add_loop_test(tc, unregister_cancels_queued, 0, n);
	tcase_add_loop_test(tc, unregister_cancels_suspended_and_delayed, 0, n);
	tcase_add_loop_test(tc, unregister_running_clears_notified, 0, n);
	tcase_add_loop_test(tc, unregister_unknown_is_zero, 0, n);
	tcase_add_loop_test(tc, drain_fifo_and_batches, 0, n);
	tcase_add_loop_test(tc, drain_fifo_with_holes, 0, n);
	tcase_add_loop_test(tc, drain_churn_keeps_order, 0, n);
	tcase_add_loop_test(tc, complete_ready_and_yield_requeue_at_tail, 0, n);
	tcase_add_loop_test(tc, complete_idle, 0, n);
	tcase_add_loop_test(tc, complete_suspended_signal, 0, n);
	tcase_add_loop_test(tc, complete_suspended_signal_many, 0, n);
	tcase_add_loop_test(tc, complete_suspended_after_delay, 0, n);
	tcase_add_loop_test(tc, complete_suspended_capacity, 0, n);
	tcase_add_loop_test(tc, complete_failed_retry_delay, 0, n);
	tcase_add_loop_test(tc, complete_failed_no_retry, 0, n);
	tcase_add_loop_test(tc, complete_stopped_retires, 0, n);
	tcase_add_loop_test(tc, complete_stopped_not_running, 0, n);
	tcase_add_loop_test(tc, complete_not_running_seed_rules, 0, n);
	tcase_add_loop_test(tc, other_generation_is_stale, 0, n);
	tcase_add_loop_test(tc, resume_only_suspended_or_delayed, 0, n);
	tcase_add_loop_test(tc, wait_level_triggered_and_timeout, 0, n);
	tcase_add_loop_test(tc, wait_wakes_on_register, 0, n);
	tcase_add_loop_test(tc, wait_wakes_one_per_index, 0, n);
	tcase_add_loop_test(tc, wait_wakes_on_earlier_deadline, 0, n);
	tcase_add_loop_test(tc, wait_deadline_without_timer_owner, 0, n);
	tcase_add_loop_test(tc, shutdown_wakes_all_and_refuses, 0, n);
	tcase_add_loop_test(tc, bad_input, 0, n);
	tcase_add_loop_test(tc, config_and_queries, 0, n);
	tcase_add_loop_test(tc, enomem_leaves_state_unchanged, 0, n);
	tcase_add_loop_test(tc, destroy_with_everything_inside, 0, n);
	tcase_add_loop_test(tc, create_with_capacity_hint, 0, n);
	tcase_add_loop_test(tc, histogram_delay_lands_in_bucket, 0, n);
	tcase_add_loop_test(tc, histogram_turn_lands_in_bucket, 0, n);
	tcase_add_loop_test(tc, histogram_counts_batches_and_resumes, 0, n);
	tcase_add_loop_test(tc, histogram_turns_across_growth, 0, n);
	tcase_add_loop_test(tc, histogram_folds_and_checks, 0, n);
	tcase_add_loop_test(tc, histogram_needs_the_flag, 0, n);
	tcase_add_loop_test(tc, histogram_create_enomem, 0, n);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rq_check_main(conformance_suite());
}
