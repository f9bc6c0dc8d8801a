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

#include <stdint.h>
#include <time.h>

static const enum readyq_backend rq_test_backends[] = {
	READYQ_BACKEND_LOCKED,
	READYQ_BACKEND_LOCKFREE,
	READYQ_BACKEND_ADAPTIVE,
};
#define RQ_NR_TEST_BACKENDS                                                    \
	((int)(sizeof(rq_test_backends) / sizeof(rq_test_backends[0])))

static inline struct readyq_index ix(uint32_t slot, uint32_t gen)
{
	struct readyq_index i = { .slot = slot, .generation = gen };

	return i;
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

#endif
