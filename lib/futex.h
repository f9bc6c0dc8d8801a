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

#define RQ_WAKE_WORK 1u /* a new QUEUED index */
#define RQ_WAKE_TIMER 2u /* the earliest deadline moved earlier */
#define RQ_WAKE_ALL 0xffffffffu

/* Return: 0 when woken (or *@uaddr != @val), -ETIMEDOUT, -EINTR. */
long rq_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
		   uint64_t abs_deadline_ns, uint32_t bits);
void rq_futex_wake(_Atomic uint32_t *uaddr, int nr, uint32_t bits);

#endif /* READYQ_FUTEX_H */
