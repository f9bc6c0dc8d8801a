// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * futex.c - private futexes with wake bitsets; see futex.h
 */
#include "futex.h"
#include "clock.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* No address-taken local: no sanitizer redzone (see futex.h). */
long rq_futex_wait_ts(_Atomic uint32_t *uaddr, uint32_t val,
		      const struct timespec *ts, uint32_t bits)
{
	long rc;

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	rc = syscall(SYS_futex, (uint32_t *)uaddr,
		     FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val, ts, NULL,
		     bits);
	return rc < 0 ? -errno : 0;
}

const struct timespec *rq_futex_deadline(uint64_t abs_deadline_ns,
					 struct timespec *ts)
{
	if (abs_deadline_ns == RQ_NO_DEADLINE)
		return NULL;
	ts->tv_sec = (time_t)(abs_deadline_ns / RQ_NSEC_PER_SEC);
	ts->tv_nsec = (long)(abs_deadline_ns % RQ_NSEC_PER_SEC);
	return ts;
}

long rq_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
		   uint64_t abs_deadline_ns, uint32_t bits)
{
	struct timespec ts;

	return rq_futex_wait_ts(uaddr, val,
				rq_futex_deadline(abs_deadline_ns, &ts), bits);
}

void rq_futex_wake(_Atomic uint32_t *uaddr, int nr, uint32_t bits)
{
	syscall(SYS_futex, (uint32_t *)uaddr,
		FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, nr, NULL, NULL, bits);
}
