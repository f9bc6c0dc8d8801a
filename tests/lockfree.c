// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lockfree.c - tests specific to the lock-free backend
 *
 * The conformance suite and the stress test already run on it; these add
 * what only its design can get wrong: many threads racing on the same
 * new slot (and the same new page of the hash table), concurrent
 * register/unregister/drain/complete churn with exact accounting (queue
 * elements of the cancel-then-requeue path are reclaimed; valgrind runs
 * this too), destroy with everything still inside, FIFO around dead queue
 * links, -ENOMEM on the requeue path, the per-thread page cache
 * across queues that reuse addresses, the per-thread region cache over
 * more regions than it holds, in threads whose cache could and could not
 * be allocated or grown, and completes in any order after drains longer
 * than the ring of recently drained entries.
 */
#include "testutil.h"
#include "checkutil.h"
#include "alloc.h"
#include "backend.h"

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static struct readyq *mk(void)
{
	struct readyq_config cfg;
	struct readyq *q = NULL;

	readyq_config_init(&cfg);
	cfg.backend = READYQ_BACKEND_LOCKFREE;
	ck_assert_int_eq(readyq_create(&cfg, &q), 0);
	return q;
}

/* ---- many threads, one new slot ---- */

#define RACERS 8
#define ROUNDS 300

struct race {
	struct readyq *q;
	pthread_barrier_t bar;
	_Atomic int ones, zeros, bad;
};

static void *racer(void *p)
{
	struct race *r = p;
	int k, rc;

	for (k = 0; k < ROUNDS; k++) {
		pthread_barrier_wait(&r->bar);
		/* A new page each round: the page insert races too. */
		rc = readyq_register(r->q, ix((uint32_t)k * 1000u + 7, 3));
		if (rc == 1)
			atomic_fetch_add(&r->ones, 1);
		else if (rc == 0)
			atomic_fetch_add(&r->zeros, 1);
		else
			atomic_fetch_add(&r->bad, 1);
		pthread_barrier_wait(&r->bar);
	}
	return NULL;
}

START_TEST(same_slot_many_threads)
{
	struct readyq_index out[ROUNDS + 1];
	pthread_t t[RACERS];
	struct race r;
	int k;

	memset(&r, 0, sizeof(r));
	r.q = mk();
	pthread_barrier_init(&r.bar, NULL, RACERS);
	for (k = 0; k < RACERS; k++)
		ck_assert_int_eq(pthread_create(&t[k], NULL, racer, &r), 0);
	for (k = 0; k < RACERS; k++)
		pthread_join(t[k], NULL);
	pthread_barrier_destroy(&r.bar);
	ck_assert_int_eq(r.bad, 0);
	ck_assert_int_eq(r.ones, ROUNDS);
	ck_assert_int_eq(r.zeros, ROUNDS * (RACERS - 1));
	ck_assert_uint_eq(rq_stats_of(r.q).queued, ROUNDS);
	ck_assert_uint_eq(rq_stats_of(r.q).duplicates, ROUNDS * (RACERS - 1));
	/* Each drained exactly once, in round order. */
	ck_assert_int_eq(readyq_drain(r.q, out, ROUNDS + 1), ROUNDS);
	for (k = 0; k < ROUNDS; k++) {
		ck_assert_uint_eq(out[k].slot, rq_slot((uint32_t)k * 1000u + 7));
		ck_assert_uint_eq(out[k].generation, 3);
	}
	ck_assert_int_eq(readyq_drain(r.q, out, ROUNDS + 1), 0);
	readyq_destroy(r.q);
}
END_TEST

/* ---- churn ---- */

#define CHURN_SLOTS 48
#define CHURN_OPS 60000

struct churn {
	struct readyq *q;
	_Atomic int in_turn[CHURN_SLOTS];
	_Atomic long doubles, errors;
	_Atomic bool stop;
};

static void turn(struct churn *c, struct readyq_index idx, uint64_t *seed)
{
	struct readyq_result res;
	uint64_t x = test_xorshift(seed) % 8;
	int rc;

	if (atomic_fetch_add(&c->in_turn[rq_unslot(idx.slot)], 1))
		atomic_fetch_add(&c->doubles, 1);
	atomic_fetch_sub(&c->in_turn[rq_unslot(idx.slot)], 1);
	res = x == 0 ? readyq_result_yielded() :
	      x == 1 ? readyq_result_failed(-EIO, 50000) :
	      x == 2 ? readyq_result_suspended(READYQ_SUSPEND_USER,
					       READYQ_RESUME_SIGNAL, 9) :
		       readyq_result_completed(x == 3);
	rc = readyq_complete(c->q, idx, &res);
	if (rc)
		atomic_fetch_add(&c->errors, 1);
}

static void *churner(void *p)
{
	struct churn *c = p;
	struct readyq_index out[8];
	uint64_t seed = (uintptr_t)&out | 1;
	ssize_t n, i;
	int k, rc;

	for (k = 0; k < CHURN_OPS; k++) {
		uint32_t s = (uint32_t)(test_xorshift(&seed) % CHURN_SLOTS);

		switch (test_xorshift(&seed) % 5) {
		case 0:
		case 1:
			rc = readyq_register(c->q, ix(s, 0));
			break;
		case 2:
			rc = readyq_unregister(c->q, ix(s, 0));
			if (rc >= 0)
				rc = readyq_register(c->q, ix(s, 0));
			break;
		case 3:
			rc = readyq_resume_signal(c->q, 9);
			break;
		default:
			n = readyq_drain(c->q, out, 1 + k % 8);
			rc = n < 0 ? (int)n : 0;
			for (i = 0; i < n; i++)
				turn(c, out[i], &seed);
			break;
		}
		if (rc < 0)
			atomic_fetch_add(&c->errors, 1);
	}
	return NULL;
}

START_TEST(churn_register_unregister_drain)
{
	struct readyq_index out[64];
	struct readyq_result idle = readyq_result_completed(false);
	struct readyq_stats st;
	pthread_t t[4];
	struct churn *c = calloc(1, sizeof(*c));
	ssize_t n, i;
	int k;

	c->q = mk();
	for (k = 0; k < 4; k++)
		ck_assert_int_eq(pthread_create(&t[k], NULL, churner, c), 0);
	for (k = 0; k < 4; k++)
		pthread_join(t[k], NULL);
	ck_assert_int_eq(c->doubles, 0);
	ck_assert_int_eq(c->errors, 0);
	/* Quiesce: everything suspended or delayed is resumed, then all
	 * turns end idle; the counters must come back to zero exactly. */
	for (k = 0; k < CHURN_SLOTS; k++)
		ck_assert_int_ge(readyq_resume(c->q, ix((uint32_t)k, 0)), 0);
	while ((n = readyq_drain(c->q, out, 64)) > 0)
		for (i = 0; i < n; i++)
			ck_assert_int_eq(readyq_complete(c->q, out[i], &idle),
					 0);
	st = rq_stats_of(c->q);
	ck_assert_uint_eq(st.queued, 0);
	ck_assert_uint_eq(st.running, 0);
	ck_assert_uint_eq(st.suspended, 0);
	ck_assert_uint_eq(st.delayed, 0);
	ck_assert_int_eq(readyq_poll_signal(c->q), 0);
	ck_assert_uint_eq(st.registered + st.duplicates + st.notified > 0, 1);
	readyq_destroy(c->q);
	free(c);
}
END_TEST

/* ---- FIFO around dead links, and their reclamation ---- */

START_TEST(requeue_after_cancel_goes_to_tail)
{
	struct readyq *q = mk();
	struct readyq_index out[8];
	int k;

	/* A's own link stays in the queue, dead; its requeues use
	 * elements, which die in turn. */
	for (k = 0; k < 5; k++) {
		ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
		ck_assert_int_eq(readyq_unregister(q, ix(1, 0)), 1);
	}
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_register(q, ix(3, 0)), 1);
	ck_assert_uint_eq(rq_stats_of(q).queued, 3);
	ck_assert_int_eq(readyq_drain(q, out, 8), 3);
	ck_assert_uint_eq(out[0].slot, rq_slot(2));
	ck_assert_uint_eq(out[1].slot, rq_slot(1));
	ck_assert_uint_eq(out[2].slot, rq_slot(3));
	/* Requeue while RUNNING after being drained through an element:
	 * the own link is free again by now. */
	{
		struct readyq_result y = readyq_result_yielded();

		ck_assert_int_eq(readyq_complete(q, ix(1, 0), &y), 0);
		ck_assert_int_eq(readyq_drain(q, out, 8), 1);
		ck_assert_uint_eq(out[0].slot, rq_slot(1));
	}
	ck_assert_int_eq(readyq_poll_signal(q), 0);
	readyq_destroy(q);
}
END_TEST

/* A slot number as the backend sees it (no RQ_TEST_SLOTS mapping). */
static struct readyq_index raw(uint32_t slot)
{
	struct readyq_index i = { .slot = slot, .generation = 0 };

	return i;
}

#define LF_TEST_TRIES 64u

START_TEST(requeue_enomem_changes_nothing)
{
	struct readyq *q = mk();
	struct readyq_index out[4];
	uint32_t i;
	int rc;

	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_unregister(q, ix(1, 0)), 1);
	/* The own link is still queued: this needs an element. */
	rq_alloc_fail_nth(1);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), -ENOMEM);
	rq_alloc_fail_nth(0);
	ck_assert_uint_eq(rq_stats_of(q).queued, 0);
	ck_assert_int_eq(readyq_poll_signal(q), 0);
	ck_assert_int_eq(readyq_unregister(q, ix(1, 0)), 0);
	ck_assert_int_eq(readyq_register(q, ix(1, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	/* A region's page failing (raw slots: 64 and 65 share one). */
	ck_assert_int_eq(readyq_register(q, raw(64)), 1);
	rq_alloc_fail_nth(1);
	ck_assert_int_eq(readyq_register(q, raw(65)), -ENOMEM);
	rq_alloc_fail_nth(0);
	ck_assert_uint_eq(rq_stats_of(q).queued, 1);
	ck_assert_int_eq(readyq_register(q, raw(65)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 2);
	/* New regions until one needs a new arena chunk, which fails. */
	for (i = 0; i < LF_TEST_TRIES; i++) {
		rq_alloc_fail_nth(1);
		rc = readyq_register(q, raw((1000 + i) << 5));
		rq_alloc_fail_nth(0);
		if (rc == -ENOMEM)
			break;
		ck_assert_int_eq(rc, 1);
	}
	ck_assert_uint_lt(i, LF_TEST_TRIES);
	ck_assert_uint_eq(rq_stats_of(q).queued, i);
	ck_assert_int_eq(readyq_register(q, raw((1000 + i) << 5)), 1);
	readyq_destroy(q);
}
END_TEST

/* ---- lifetime ---- */

START_TEST(destroy_with_entries_queued)
{
	struct readyq *q = mk();
	struct readyq_result susp = readyq_result_suspended(
		READYQ_SUSPEND_USER, READYQ_RESUME_SIGNAL, 4);
	struct readyq_result later = readyq_result_failed(-EIO, 1000000000);
	struct readyq_index out[16];
	uint32_t s;

	for (s = 0; s < 16; s++)
		ck_assert_int_eq(readyq_register(q, ix(s, 0)), 1);
	ck_assert_int_eq(readyq_drain(q, out, 4), 4); /* 0..3 running */
	ck_assert_int_eq(readyq_complete(q, ix(0, 0), &susp), 0);
	ck_assert_int_eq(readyq_complete(q, ix(1, 0), &later), 0);
	/* Dead links and live elements left in the queue. */
	for (s = 4; s < 10; s++) {
		ck_assert_int_eq(readyq_unregister(q, ix(s, 0)), 1);
		ck_assert_int_eq(readyq_register(q, ix(s, 0)), 1);
	}
	for (s = 0; s < 5000; s++)
		ck_assert_int_ge(readyq_register(q, ix(s * 37u, 1)), 0);
	readyq_destroy(q); /* valgrind: nothing leaks */
}
END_TEST

START_TEST(page_cache_is_per_queue)
{
	struct readyq *a = mk(), *b = mk();
	struct readyq_index out[4];
	int k;

	ck_assert_int_eq(readyq_register(a, ix(5, 0)), 1);
	ck_assert_int_eq(readyq_register(b, ix(5, 0)), 1);
	ck_assert_int_eq(readyq_register(a, ix(6, 0)), 1);
	ck_assert_int_eq(readyq_drain(b, out, 4), 1);
	ck_assert_int_eq(readyq_drain(a, out, 4), 2);
	/* Destroy and recreate, likely at the same address: the thread's
	 * cached page of the old queue must not be used. */
	for (k = 0; k < 20; k++) {
		readyq_destroy(a);
		a = mk();
		ck_assert_int_eq(readyq_unregister(a, ix(5, 0)), 0);
		ck_assert_int_eq(readyq_register(a, ix(5, 0)), 1);
		ck_assert_uint_eq(rq_stats_of(a).queued, 1);
	}
	readyq_destroy(a);
	readyq_destroy(b);
}
END_TEST

/* ---- the per-thread region cache ---- */

#define CACHE_REGIONS 700u /* more than the big cache's 256 entries */

struct cache_arg {
	struct readyq *a, *b;
	bool fail_first; /* the thread's cache allocation fails */
	int bad;
};

/*
 * Drain all of @q; returns how many, or -1 if one is not raw(s << 5)
 * with @from <= s < @to.
 */
static long cache_drain(struct readyq *q, uint32_t from, uint32_t to)
{
	struct readyq_index out[64];
	long got = 0;
	ssize_t n, i;

	while ((n = readyq_drain(q, out, 64)) > 0) {
		for (i = 0; i < n; i++)
			if (out[i].slot & 31 || out[i].slot >> 5 < from ||
			    out[i].slot >> 5 >= to)
				return -1;
		got += n;
	}
	return got;
}

/*
 * In a thread of its own: slot 0's region exists in @a already, so its
 * first register allocates nothing but the thread's cache (which fails
 * with @fail_first: the call must succeed all the same).  Then regions
 * 1.. on both queues, more than the cache holds, twice: queued, then
 * duplicates, each return checked, and each queue drained exactly.
 */
static void *cache_user(void *p)
{
	struct cache_arg *c = p;
	uint32_t s;
	int bad = 0;

	if (c->fail_first)
		rq_alloc_fail_nth(1);
	bad |= readyq_register(c->a, raw(0)) != 1;
	if (c->fail_first) {
		bad |= (rq_alloc_count() != 1) << 1; /* it was asked for */
		rq_alloc_fail_nth(0);
	}
	for (s = 1; s < CACHE_REGIONS; s++) {
		bad |= (readyq_register(c->a, raw(s << 5)) != 1) << 2;
		bad |= (readyq_register(c->b, raw(s << 5)) != 1) << 2;
	}
	for (s = 0; s < CACHE_REGIONS; s++) {
		bad |= (readyq_register(c->a, raw(s << 5)) != 0) << 3;
		bad |= (s && readyq_register(c->b, raw(s << 5)) != 0) << 3;
	}
	bad |= (cache_drain(c->a, 0, CACHE_REGIONS) != CACHE_REGIONS) << 4;
	bad |= (cache_drain(c->b, 1, CACHE_REGIONS) != CACHE_REGIONS - 1) << 4;
	c->bad = bad;
	return NULL;
}

START_TEST(region_cache_threads)
{
	struct readyq_result done = readyq_result_completed(false);
	struct cache_arg c = { .a = mk(), .b = mk() };
	struct readyq_index out[4];
	pthread_t t;
	int k;

	for (k = 0; k < 2; k++) {
		/* Region 0 of @a known and IDLE, everything else new. */
		ck_assert_int_eq(readyq_register(c.a, raw(0)), 1);
		ck_assert_int_eq(readyq_drain(c.a, out, 4), 1);
		ck_assert_int_eq(readyq_complete(c.a, out[0], &done), 0);
		c.fail_first = k == 0;
		ck_assert_int_eq(pthread_create(&t, NULL, cache_user, &c), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(c.bad, 0);
		ck_assert_uint_eq(rq_stats_of(c.a).queued, 0);
		/* This thread's cache must not have kept the old queues. */
		readyq_destroy(c.a);
		readyq_destroy(c.b);
		c.a = mk();
		c.b = mk();
	}
	readyq_destroy(c.a);
	readyq_destroy(c.b);
}
END_TEST

#define GROW_REGIONS 1500u /* fit the grown cache, not the first */
#define GROW_SPARSE 20000u /* more than a grown cache would hold */
#define GROW_OPS 40000u

struct grow_arg {
	struct readyq *q;
	uint32_t regions;
	bool fail_first; /* the first growth's allocation fails */
	unsigned long allocs; /* allocations the random registers asked for */
	int bad;
};

/*
 * In a thread of its own (a cache of its own): GROW_OPS random registers
 * of the first slots of @q's regions, all queued already, so duplicates
 * that allocate nothing but the thread's cache, first and as it grows;
 * each must return 0.
 */
static void *grow_user(void *p)
{
	struct grow_arg *g = p;
	uint64_t x = 0x9e3779b97f4a7c15ull;
	uint32_t s, i;
	int bad = 0;

	/* The second allocation is the first growth's (the first: 256). */
	rq_alloc_fail_nth(g->fail_first ? 2 : 0);
	for (i = 0; i < GROW_OPS; i++) {
		s = (uint32_t)(test_xorshift(&x) % g->regions);
		bad |= (readyq_register(g->q, raw(s << 5)) != 0) << 1;
	}
	g->allocs = rq_alloc_count();
	rq_alloc_fail_nth(0);
	g->bad = bad;
	return NULL;
}

START_TEST(region_cache_grows)
{
	struct grow_arg g;
	pthread_t t;
	uint32_t s;
	int k;

	for (k = 0; k < 3; k++) {
		memset(&g, 0, sizeof(g));
		g.q = mk();
		g.fail_first = k == 1;
		g.regions = k == 2 ? GROW_SPARSE : GROW_REGIONS;
		for (s = 0; s < g.regions; s++)
			ck_assert_int_eq(readyq_register(g.q, raw(s << 5)), 1);
		ck_assert_int_eq(pthread_create(&t, NULL, grow_user, &g), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(g.bad, 0);
		/*
		 * The cache, then 256 -> 512 -> 1,024 -> 2,048 entries (a
		 * failed growth is tried again a window later); over 20,000
		 * regions 256 entries hit 1.3 % of the time, under the
		 * sixteenth that growing needs.
		 */
		if (k == 2)
			ck_assert_uint_eq(g.allocs, 1);
		else
			ck_assert_uint_eq(g.allocs,
					  4 + (unsigned long)g.fail_first);
		ck_assert_int_eq(cache_drain(g.q, 0, g.regions), g.regions);
		readyq_destroy(g.q);
	}
}
END_TEST

/* ---- completes that find their entry among the drained ones ---- */

#define RING_SLOTS 3000u /* more than a drain's ring of recent entries */

static struct readyq_index ring_out[RING_SLOTS];

/* Complete ring_out[order[i]] for every i: each must succeed. */
static void complete_all(struct readyq *q, const uint32_t *order, uint32_t n)
{
	struct readyq_result done = readyq_result_completed(false);
	uint32_t i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(readyq_complete(q, ring_out[order[i]], &done),
				 0);
}

START_TEST(recent_ring_any_order)
{
	struct readyq *q = mk(), *other = mk();
	struct readyq_result done = readyq_result_completed(false);
	struct readyq_index o2[8], stale = { .generation = 4 };
	static uint32_t order[RING_SLOTS];
	uint32_t s, i, k, n;

	for (s = 0; s < RING_SLOTS; s++)
		ck_assert_int_eq(readyq_register(q, ix(s * 37u, 5)), 1);
	/* One drain longer than the ring, completed backwards. */
	ck_assert_int_eq(readyq_drain(q, ring_out, RING_SLOTS), RING_SLOTS);
	for (i = 0; i < RING_SLOTS; i++)
		order[i] = RING_SLOTS - 1 - i;
	complete_all(q, order, RING_SLOTS);
	ck_assert_uint_eq(rq_stats_of(q).running, 0);
	/* Batches of 100, odd positions first, another queue in between. */
	for (s = 0; s < RING_SLOTS; s++)
		ck_assert_int_eq(readyq_register(q, ix(s * 37u, 5)), 1);
	ck_assert_int_eq(readyq_register(other, ix(0, 0)), 1);
	ck_assert_int_eq(readyq_drain(other, o2, 8), 1);
	for (k = 0; k < RING_SLOTS; k += 100) {
		ck_assert_int_eq(readyq_drain(q, ring_out, 100), 100);
		/* The ring's entry for this position is the other queue's. */
		ck_assert_int_eq(readyq_complete(other, o2[0], &done), 0);
		ck_assert_int_eq(readyq_register(other, o2[0]), 1);
		ck_assert_int_eq(readyq_drain(other, o2, 8), 1);
		/* An older generation is stale even when the entry is found. */
		stale.slot = ring_out[1].slot; /* ix() would map it again */
		ck_assert_int_eq(readyq_complete(q, stale, &done), -ESTALE);
		n = 0;
		for (i = 1; i < 100; i += 2)
			order[n++] = i;
		for (i = 0; i < 100; i += 2)
			order[n++] = i;
		complete_all(q, order, n);
	}
	ck_assert_int_eq(readyq_complete(other, o2[0], &done), 0);
	ck_assert_uint_eq(rq_stats_of(q).running, 0);
	ck_assert_uint_eq(rq_stats_of(q).queued, 0);
	ck_assert_uint_eq(rq_stats_of(q).completed, 2 * RING_SLOTS);
	ck_assert_uint_eq(rq_stats_of(other).running, 0);
	readyq_destroy(other);
	readyq_destroy(q);
}
END_TEST

static Suite *lockfree_suite(void)
{
	Suite *s = suite_create("lockfree");
	TCase *tc = tcase_create("lockfree");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, same_slot_many_threads);
	tcase_add_test(tc, churn_register_unregister_drain);
	tcase_add_test(tc, requeue_after_cancel_goes_to_tail);
	tcase_add_test(tc, requeue_enomem_changes_nothing);
	tcase_add_test(tc, destroy_with_entries_queued);
	tcase_add_test(tc, page_cache_is_per_queue);
	tcase_add_test(tc, recent_ring_any_order);
	tcase_add_test(tc, region_cache_threads);
	tcase_add_test(tc, region_cache_grows);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return rq_check_main(lockfree_suite());
}
