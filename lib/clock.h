/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * clock.h - the library's clock: CLOCK_MONOTONIC nanoseconds
 *
 * Deadlines are absolute CLOCK_MONOTONIC nanoseconds; RQ_NO_DEADLINE (the
 * largest value) means none, so a deadline is never allowed to equal it.
 */
#ifndef READYQ_CLOCK_H
#define READYQ_CLOCK_H

#include <stdint.h>
#include <time.h>

#define RQ_NSEC_PER_SEC 1000000000ull
#define RQ_NO_DEADLINE UINT64_MAX

static inline uint64_t rq_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * RQ_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* @now + @delay_ns, saturated below RQ_NO_DEADLINE. */
static inline uint64_t rq_deadline_after(uint64_t now, uint64_t delay_ns)
{
	uint64_t d = now + delay_ns;

	return (d < now || d == RQ_NO_DEADLINE) ? RQ_NO_DEADLINE - 1 : d;
}

#endif /* READYQ_CLOCK_H */
