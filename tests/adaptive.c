// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * adaptive.c - what is specific to the adaptive backend
 *
 *  - the first pick follows concurrency_hint;
 *  - a migration carries every state over (QUEUED in FIFO order, RUNNING
 *    with NOTIFIED, SUSPENDED on each condition, DELAYED, RETIRED, IDLE
 *    generations) and the counters keep counting;
 *  - it switches up under lock contention and back down when the
 *    contention goes, on its own measurements.
 * (The forced-switching stress with exact accounting is in stress.c.)
 */
#include "testutil.h"
#include "checkutil.h"
#include "alloc.h" /* rq_alloc_fail_nth() */
#include "backend.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MS 1000000ull

static struct readyq *mk(uint32_t hint, uint32_t window, uint32_t flags)
{
	struct readyq_config cfg;
	struct readyq *q;

	readyq_config_init(&cfg);
	ck_assert_int_eq(cfg.backend, READYQ_BACKEND_ADAPTIVE);
	cfg.concurrency_hint = hint;
	cfg.adaptive_window = window;
	cfg.flags = flags;
	ck_assert_int_eq(readyq_create(&cfg, &q), 0);
	return q;
}

START_TEST(first_pick_follows_hint)
{
	struct readyq *q = mk(1, 0, 0);

	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKED);
	readyq_destroy(q);
	q = mk(64, 0, 0);
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKFREE);
	readyq_destroy(q);
}
END_TEST

/* Enough counted ops (unregister of an unknown slot) to end a window. */
static void pump(struct readyq *q, unsigned int n)
{
	unsigned int k;

	for (k = 0; k < n; k++)
		ck_assert_int_eq(readyq_unregister(q, ix(0xfffff000u, 0)), 0);
}

static struct readyq_result r_susp(enum readyq_resume_kind on, uint64_t v)
{
	return readyq_result_suspended(READYQ_SUSPEND_USER, on, v);
}

START_TEST(migration_keeps_every_state)
{
	struct readyq *q = mk(1, 64, READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH);
	struct readyq_index out[16];
	struct readyq_result r;
	struct readyq_stats st;
	uint64_t sw;
	uint32_t s;

	/* 1..5 RUNNING, then: 1 signal, 2 capacity, 3 delayed (long),
	 * 4 retired, 5 running + notified; 10..14 queued; 20 idle gen 7. */
	for (s = 1; s <= 5; s++)
		ck_assert_int_eq(readyq_register(q, ix(s, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 16), 5);
	r = r_susp(READYQ_RESUME_SIGNAL, 99);
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), 0);
	r = r_susp(READYQ_RESUME_CAPACITY, 0);
	ck_assert_int_eq(readyq_complete(q, ix(2, 0), &r), 0);
	r = readyq_result_failed(1, 3600 * 1000 * MS);
	ck_assert_int_eq(readyq_complete(q, ix(3, 0), &r), 0);
	r = readyq_result_stopped();
	ck_assert_int_eq(readyq_complete(q, ix(4, 0), &r), 0);
	ck_assert_int_eq(readyq_register(q, ix(5, 0)), 0);
	for (s = 14; s >= 10; s--)
		ck_assert_int_eq(readyq_register(q, ix(s, s)), 1);
	ck_assert_int_eq(readyq_register(q, ix(20, 7)), 1);
	ck_assert_int_eq(readyq_unregister(q, ix(20, 7)), 1);

	sw = rq_stats_of(q).switches;
	pump(q, 64 * 4);
	st = rq_stats_of(q);
	ck_assert_uint_gt(st.switches, sw);
	ck_assert_uint_eq(st.queued, 5);
	ck_assert_uint_eq(st.running, 1);
	ck_assert_uint_eq(st.suspended, 2);
	ck_assert_uint_eq(st.delayed, 1);
	ck_assert_uint_eq(st.registered, 5 + 5 + 1);
	ck_assert_uint_eq(st.notified, 1);

	/* Every state answers as before the switches. */
	ck_assert_int_eq(readyq_register(q, ix(4, 0)), -ESTALE);
	ck_assert_int_eq(readyq_register(q, ix(20, 6)), -ESTALE);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 0);
	pump(q, 64 * 3);
	ck_assert_int_eq(readyq_resume_signal(q, 99), 1);
	ck_assert_int_eq(readyq_resume(q, ix(2, 0)), 1);
	pump(q, 64 * 3);
	ck_assert_int_eq(readyq_resume(q, ix(3, 0)), 1);
	r = readyq_result_completed(false);
	ck_assert_int_eq(readyq_complete(q, ix(5, 0), &r), 0); /* notified */
	ck_assert_int_eq(readyq_drain(q, out, 16), 9);
	for (s = 0; s < 5; s++) {
		ck_assert_uint_eq(out[s].slot, rq_slot(14 - s));
		ck_assert_uint_eq(out[s].generation, 14 - s);
	}
	ck_assert_uint_eq(out[5].slot, rq_slot(1));
	ck_assert_uint_eq(out[6].slot, rq_slot(2));
	ck_assert_uint_eq(out[7].slot, rq_slot(3));
	ck_assert_uint_eq(out[8].slot, rq_slot(5));
	ck_assert_uint_gt(rq_stats_of(q).switches, sw + 1);
	readyq_destroy(q);
}
END_TEST

/* Counts of buckets [@from, @to). */
static uint64_t hsum(const uint64_t *b, unsigned int from, unsigned int to)
{
	uint64_t n = 0;

	for (; from < to; from++)
		n += b[from];
	return n;
}

/*
 * Histograms across migrations: a QUEUED index keeps its enqueue time, a
 * RUNNING one its drain time (2 ms before the switch: a bucket of
 * 2^20..2^31 ns; a lost stamp reads as 0 or as the import time).
 */
START_TEST(migration_keeps_stamps)
{
	struct readyq *q = mk(1, 64, READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH |
				      READYQ_FLAG_HISTOGRAMS);
	struct readyq_result r = readyq_result_completed(false);
	struct readyq_index out[4];
	uint64_t b[READYQ_HISTOGRAM_BUCKETS], sw;

	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 1), 1); /* 1 RUNNING, 2 QUEUED */
	/* 20 ms: 2^24 ns and up, far above what the rest takes, even loaded. */
	test_sleep_ns(20 * MS);
	sw = rq_stats_of(q).switches;
	pump(q, 64 * 3);
	ck_assert_uint_gt(rq_stats_of(q).switches, sw);
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), 0);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	ck_assert_int_eq(readyq_complete(q, ix(2, 0), &r), 0);
	ck_assert_int_eq(readyq_delay_histogram(q, b, 64), 0);
	ck_assert_uint_eq(hsum(b, 0, 64), 2);
	ck_assert_uint_eq(hsum(b, 24, 31), 1); /* 2's delay, not 1's */
	ck_assert_uint_eq(hsum(b, 31, 64), 0);
	ck_assert_int_eq(readyq_turn_histogram(q, b, 64), 0);
	ck_assert_uint_eq(hsum(b, 0, 64), 2);
	ck_assert_uint_eq(hsum(b, 24, 31), 1); /* 1's turn, not 2's */
	ck_assert_uint_eq(hsum(b, 31, 64), 0);
	readyq_destroy(q);
}
END_TEST

START_TEST(migration_keeps_deadlines)
{
	struct readyq *q = mk(1, 64, READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH);
	struct readyq_index out[4];
	struct readyq_result r = readyq_result_failed(1, 40 * MS);
	uint64_t t0 = test_now_ns();

	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &r), 0);
	pump(q, 64 * 3);
	ck_assert_uint_ge(rq_stats_of(q).switches, 1);
	ck_assert_int_eq(readyq_wait(q, 5000 * MS), 0);
	ck_assert_uint_ge(test_now_ns() - t0, 40 * MS);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	readyq_destroy(q);
}
END_TEST

struct hammer {
	pthread_t t;
	struct readyq *q;
	_Atomic bool stop;
	unsigned int id;
};

static void *hammer_main(void *p)
{
	struct hammer *h = p;
	struct readyq_index out[8];
	struct readyq_result r = readyq_result_completed(false);
	uint32_t k = 0;
	ssize_t n, i;

	while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
		readyq_register(h->q, ix(h->id * 100000 + (k++ % 1000), 0));
		n = readyq_drain(h->q, out, 8);
		for (i = 0; i < n; i++)
			readyq_complete(h->q, out[i], &r);
	}
	return NULL;
}

START_TEST(switches_with_contention)
{
	struct readyq_config cfg;
	struct hammer h[4];
	struct readyq *q;
	uint64_t t0;
	int k;

	readyq_config_init(&cfg);
	cfg.concurrency_hint = 1;
	cfg.adaptive_window = 4096;
	cfg.adaptive_up_permille = 20;
	cfg.adaptive_down_permille = 5;
	cfg.adaptive_hold = 2;
	ck_assert_int_eq(readyq_create(&cfg, &q), 0);
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKED);

	/* Four threads on one lock: contention, so up. */
	for (k = 0; k < 4; k++) {
		h[k].q = q;
		h[k].id = (unsigned int)k;
		atomic_init(&h[k].stop, false);
		pthread_create(&h[k].t, NULL, hammer_main, &h[k]);
	}
	t0 = test_now_ns();
	while (rq_stats_of(q).active != READYQ_BACKEND_LOCKFREE &&
	       test_now_ns() - t0 < 20000 * MS)
		test_sleep_ns(MS);
	for (k = 0; k < 4; k++)
		atomic_store(&h[k].stop, true);
	for (k = 0; k < 4; k++)
		pthread_join(h[k].t, NULL);
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKFREE);
	ck_assert_uint_ge(rq_stats_of(q).switches, 1);

	/* One thread alone: no contention, so back down. */
	h[0].stop = false;
	t0 = test_now_ns();
	while (rq_stats_of(q).active != READYQ_BACKEND_LOCKED &&
	       test_now_ns() - t0 < 20000 * MS) {
		struct readyq_index out[8];
		struct readyq_result r = readyq_result_completed(false);
		ssize_t n, i;
		int j;

		for (j = 0; j < 1000; j++) {
			readyq_register(q, ix((uint32_t)j, 0));
			n = readyq_drain(q, out, 8);
			for (i = 0; i < n; i++)
				readyq_complete(q, out[i], &r);
		}
	}
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKED);
	ck_assert_uint_ge(rq_stats_of(q).switches, 2);
	readyq_destroy(q);
}
END_TEST

/*
 * A thread whose reader record cannot be allocated runs its ops counted
 * in the queue's straggler count instead (for AD_RECORD_RETRY ops before
 * it tries again); switches must wait for it like for any other reader
 * (ASan and TSan builds see a use after free or a race otherwise) and
 * nothing may be lost.  The no-record thread's first op meets an
 * injected allocation failure before the other thread starts; it arms
 * one more failure every 1024 ops, which either thread may meet (the
 * fault counter is global): a call that meets it answers -ENOMEM and
 * changes nothing (a complete is repeated).
 */
struct churn {
	pthread_t t;
	struct readyq *q;
	uint32_t base;
	bool no_record;
	_Atomic bool started;
	uint64_t queued, drained;
};

static void *churn_main(void *p)
{
	struct churn *c = p;
	struct readyq_result r = readyq_result_completed(false);
	struct readyq_index out[8];
	ssize_t n, i;
	uint32_t k;
	int rc;

	for (k = 0; k < 20000; k++) {
		if (c->no_record && k % 1024 == 0)
			rq_alloc_fail_nth(1);
		/* Every slot once: never a register on a running one. */
		rc = readyq_register(c->q, ix(c->base + k, 0));
		atomic_store(&c->started, true);
		ck_assert(rc == 1 || rc == -ENOMEM);
		c->queued += rc == 1;
		n = readyq_drain(c->q, out, 8);
		ck_assert_int_ge(n, 0);
		c->drained += (uint64_t)n;
		for (i = 0; i < n; i++) {
			while ((rc = readyq_complete(c->q, out[i], &r)) ==
			       -ENOMEM)
				;
			ck_assert_int_eq(rc, 0);
		}
	}
	return NULL;
}

START_TEST(thread_without_reader_record)
{
	struct readyq_index out[256];
	struct churn c[2];
	struct readyq *q = mk(1, 256, READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH);
	uint64_t queued = 0, drained = 0;
	ssize_t n;
	int k;

	for (k = 1; k >= 0; k--) {
		memset(&c[k], 0, sizeof(c[k]));
		c[k].q = q;
		c[k].base = (uint32_t)k * 100000;
		c[k].no_record = k == 1;
		ck_assert_int_eq(pthread_create(&c[k].t, NULL, churn_main,
						&c[k]),
				 0);
		while (!atomic_load(&c[k].started))
			test_sleep_ns(MS / 10);
	}
	for (k = 0; k < 2; k++) {
		pthread_join(c[k].t, NULL);
		queued += c[k].queued;
		drained += c[k].drained;
	}
	rq_alloc_fail_nth(0);
	while ((n = readyq_drain(q, out, 256)) > 0)
		drained += (uint64_t)n;
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(rq_stats_of(q).notified, 0);
	ck_assert_uint_eq(drained, queued);
	ck_assert_uint_eq(rq_stats_of(q).drained, queued);
	ck_assert_uint_ge(rq_stats_of(q).switches, 20);
	readyq_destroy(q);
}
END_TEST

/*
 * A hint of several threads starts on the locked backend and switches up
 * as soon as a thread arrives while another is inside an op (the up
 * threshold is set out of reach, so the contention meter cannot be what
 * switched); threads that take turns do not switch it.
 */
static void *one_drain(void *p)
{
	struct readyq_index out[64];

	ck_assert_int_eq(readyq_drain(p, out, 64), 10);
	return NULL;
}

START_TEST(eager_switch_on_overlap)
{
	struct readyq_config cfg;
	struct readyq *q, *other;
	struct hammer h;
	pthread_t t;
	uint64_t t0;
	uint32_t k;

	readyq_config_init(&cfg);
	cfg.concurrency_hint = 2;
	cfg.adaptive_up_permille = 1000;
	ck_assert_int_eq(readyq_create(&cfg, &q), 0);
	ck_assert_int_eq(readyq_create(&cfg, &other), 0);
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKED);

	/* Taking turns: register here, drain in another thread. */
	for (k = 0; k < 10; k++)
		ck_assert_int_eq(readyq_register(q, ix(k, 0)), 1);
	pthread_create(&t, NULL, one_drain, q);
	pthread_join(t, NULL);
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKED);
	ck_assert_uint_eq(rq_stats_of(q).switches, 0);

	/* Overlap: a hammer inside ops while this thread comes in again. */
	h.q = q;
	h.id = 1;
	atomic_init(&h.stop, false);
	pthread_create(&h.t, NULL, hammer_main, &h);
	t0 = test_now_ns();
	while (rq_stats_of(q).active != READYQ_BACKEND_LOCKFREE &&
	       test_now_ns() - t0 < 20000 * MS) {
		/* An op on another queue makes the next one here a first. */
		readyq_unregister(other, ix(0, 0));
		readyq_unregister(q, ix(99999, 0));
	}
	atomic_store(&h.stop, true);
	pthread_join(h.t, NULL);
	ck_assert_int_eq(rq_stats_of(q).active, READYQ_BACKEND_LOCKFREE);
	ck_assert_uint_eq(rq_stats_of(q).switches, 1);
	readyq_destroy(other);
	readyq_destroy(q);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("adaptive");
	TCase *tc = tcase_create("adaptive");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, first_pick_follows_hint);
	tcase_add_test(tc, migration_keeps_every_state);
	tcase_add_test(tc, migration_keeps_deadlines);
	tcase_add_test(tc, migration_keeps_stamps);
	tcase_add_test(tc, switches_with_contention);
	tcase_add_test(tc, thread_without_reader_record);
	tcase_add_test(tc, eager_switch_on_overlap);
	suite_add_tcase(s, tc);
	return rq_check_main(s);
}
