/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * futex.h - private futexes with wake bitsets (lib/futex.c)
 *
 * rq_futex_wait() sleeps while *@uaddr == @val, until an absolute
 * CLOCK_MONOTONIC deadline (RQ_NO_DEADLINE: none), and is woken only by a
 * rq_futex_wake() whose @bits share a bit with its own.  Both are plain
 * system calls, not cancellation points.
 *
 * Context: any thread.  The futex word is private to the process.
 */
#ifndef READYQ_FUTEX_H
#define READYQ_FUTEX_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define RQ_WAKE_WORK 1u /* a new QUEUED index */
#define RQ_WAKE_TIMER 2u /* the earliest deadline moved earlier */
#define RQ_WAKE_ALL 0xffffffffu

/* Return: 0 when woken (or *@uaddr != @val), -ETIMEDOUT, -EINTR. */
long rq_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
		   uint64_t abs_deadline_ns, uint32_t bits);
void rq_futex_wake(_Atomic uint32_t *uaddr, int nr, uint32_t bits);

/*
 * The same wait in two steps, for readyq_wait()'s asynchronous
 * cancellation window (lib/wait.c): rq_futex_deadline() fills *@ts (NULL:
 * no deadline) outside it, rq_futex_wait_ts() is all that runs inside.
 * It has no address-taken local, so AddressSanitizer poisons nothing
 * that the unwinding of a cancellation would leave poisoned below the
 * caller's frame.
 */
const struct timespec *rq_futex_deadline(uint64_t abs_deadline_ns,
					 struct timespec *ts);
long rq_futex_wait_ts(_Atomic uint32_t *uaddr, uint32_t val,
		      const struct timespec *ts, uint32_t bits);

#endif /* READYQ_FUTEX_H */
