/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * testutil.h - what the validation programs share
 *
 * The tests link a copy of the library built with fault injection
 * (lib/libreadyq_test.la), so they can include lib/backend.h to look at
 * a queue's wait state and lib/alloc.h to inject allocation failures.  RQ_TEST_BACKENDS lists every backend that readyq_create()
 * accepts; each conformance test runs once per entry (Check loop tests).
 */
#ifndef READYQ_TESTUTIL_H
#define READYQ_TESTUTIL_H

#include <readyq/readyq.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const enum readyq_backend rq_test_backends[] = {
	READYQ_BACKEND_LOCKED,
	READYQ_BACKEND_LOCKFREE,
	READYQ_BACKEND_ADAPTIVE,
};
#define RQ_NR_TEST_BACKENDS                                                    \
	((int)(sizeof(rq_test_backends) / sizeof(rq_test_backends[0])))

/*
 * Slot numbering.  RQ_TEST_SLOTS=dense (the default), stride, hash or
 * random runs a test with its slot numbers mapped through a bijection of
 * 32-bit numbers: stride rotates left by 12 (i * 4096 for small i), hash
 * multiplies by 2654435761, random is murmur3's fmix32.  ix() maps,
 * rq_slot() maps a test's own number, rq_unslot() takes a drained slot
 * back to it, so the backends see sparse numbers while the tests keep
 * their small ones.
 */
enum rq_test_slots { RQ_SLOTS_DENSE, RQ_SLOTS_STRIDE, RQ_SLOTS_HASH,
		     RQ_SLOTS_RANDOM };

#define RQ_STRIDE_ROT 12
#define RQ_HASH_MUL 0x9e3779b1u /* 2654435761 */
#define RQ_HASH_INV 0x0e8b2f51u /* its inverse mod 2^32 */
#define RQ_FMIX_1 0x85ebca6bu
#define RQ_FMIX_2 0xc2b2ae35u
#define RQ_FMIX_1_INV 0xa5cb9243u
#define RQ_FMIX_2_INV 0x7ed1b41du

static inline enum rq_test_slots rq_test_slots(void)
{
	/* Read from many threads: an atomic, set the same by all. */
	static _Atomic int mode = -1;
	int m = atomic_load_explicit(&mode, memory_order_relaxed);
	const char *s;

	if (m >= 0)
		return (enum rq_test_slots)m;
	s = getenv("RQ_TEST_SLOTS");
	if (!s || !strcmp(s, "dense"))
		m = RQ_SLOTS_DENSE;
	else if (!strcmp(s, "stride"))
		m = RQ_SLOTS_STRIDE;
	else if (!strcmp(s, "hash"))
		m = RQ_SLOTS_HASH;
	else
		m = RQ_SLOTS_RANDOM;
	atomic_store_explicit(&mode, m, memory_order_relaxed);
	return (enum rq_test_slots)m;
}

static inline uint32_t rq_slot(uint32_t i)
{
	switch (rq_test_slots()) {
	case RQ_SLOTS_STRIDE:
		return i << RQ_STRIDE_ROT | i >> (32 - RQ_STRIDE_ROT);
	case RQ_SLOTS_HASH:
		return i * RQ_HASH_MUL;
	case RQ_SLOTS_RANDOM:
		i ^= i >> 16;
		i *= RQ_FMIX_1;
		i ^= i >> 13;
		i *= RQ_FMIX_2;
		return i ^ (i >> 16);
	default:
		return i;
	}
}

static inline uint32_t rq_unslot(uint32_t s)
{
	switch (rq_test_slots()) {
	case RQ_SLOTS_STRIDE:
		return s >> RQ_STRIDE_ROT | s << (32 - RQ_STRIDE_ROT);
	case RQ_SLOTS_HASH:
		return s * RQ_HASH_INV;
	case RQ_SLOTS_RANDOM:
		s ^= s >> 16;
		s *= RQ_FMIX_2_INV;
		s ^= (s >> 13) ^ (s >> 26);
		s *= RQ_FMIX_1_INV;
		return s ^ (s >> 16);
	default:
		return s;
	}
}

static inline struct readyq_index ix(uint32_t slot, uint32_t gen)
{
	struct readyq_index i = { .slot = rq_slot(slot), .generation = gen };

	return i;
}

/* The next of Marsaglia's xorshift64 (13, 7, 17) numbers in *@x (not 0). */
static inline uint64_t test_xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static inline uint64_t test_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void test_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ull),
			       .tv_nsec = (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts))
		;
}

/*
 * The counts of @q's delay and turn histograms (READYQ_FLAG_HISTOGRAMS),
 * summed over their buckets: 0, or the readers' negative errno.
 */
static inline int test_hist_counts(const struct readyq *q, uint64_t *delays,
				   uint64_t *turns)
{
	uint64_t d[READYQ_HISTOGRAM_BUCKETS], t[READYQ_HISTOGRAM_BUCKETS];
	int i, rc;

	rc = readyq_delay_histogram(q, d, READYQ_HISTOGRAM_BUCKETS);
	if (!rc)
		rc = readyq_turn_histogram(q, t, READYQ_HISTOGRAM_BUCKETS);
	if (rc)
		return rc;
	*delays = *turns = 0;
	for (i = 0; i < READYQ_HISTOGRAM_BUCKETS; i++) {
		*delays += d[i];
		*turns += t[i];
	}
	return 0;
}

/*
 * A quiet queue with histograms whose turns all ended in a complete:
 * every drained index was counted once in the delay histogram and its
 * turn once in the turn histogram.  The counts are printed after @tag.
 */
static inline bool test_hist_exact(const struct readyq *q,
				   const struct readyq_stats *st,
				   const char *tag)
{
	uint64_t nd, nt;

	if (test_hist_counts(q, &nd, &nt))
		return false;
	printf("%shistograms: %llu delays, %llu turns, %llu drained\n", tag,
	       (unsigned long long)nd, (unsigned long long)nt,
	       (unsigned long long)st->drained);
	return nd == st->drained && nt == st->drained;
}

#endif
