// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * wait.c - futexes, the three-state lock and level-triggered waiting
 *
 * Waiting protocol (see internal.h):
 *
 *   sleeper                              producer
 *   -------                              --------
 *   seq = load(wq->seq)                  publish QUEUED (seq_cst RMW)
 *   sleepers++            (seq_cst)      if (load(sleepers))  (seq_cst)
 *   if (poll()) leave                        seq++, futex_wake(seq, 1)
 *   futex_wait(seq, until)
 *   sleepers--
 *
 * Either the producer sees the sleeper or the sleeper's poll sees the new
 * work; a kick between the sleeper's load of seq and its futex_wait makes
 * the wait return at once (the word changed).  Each kick wakes at most one
 * thread; readyq_shutdown() wakes all.
 *
 * Deadlines: at most one sleeper (the timer owner) bounds its sleep by the
 * backend's earliest deadline, so a due deadline wakes one thread, not
 * all.  It sleeps with RQ_WAKE_TIMER in its futex bitset: a backend whose
 * earliest deadline moves earlier wakes just that thread to re-arm.  A timer owner that leaves while others sleep and a deadline is
 * pending hands the timer on by waking one of them.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

long rq_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
		   uint64_t abs_deadline_ns, uint32_t bits)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	if (abs_deadline_ns != RQ_NO_DEADLINE) {
		ts.tv_sec = (time_t)(abs_deadline_ns / 1000000000ull);
		ts.tv_nsec = (long)(abs_deadline_ns % 1000000000ull);
		tsp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	rc = syscall(SYS_futex, (uint32_t *)uaddr,
		     FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val, tsp, NULL,
		     bits);
	return rc < 0 ? -errno : 0;
}

void rq_futex_wake(_Atomic uint32_t *uaddr, int nr, uint32_t bits)
{
	syscall(SYS_futex, (uint32_t *)uaddr,
		FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, nr, NULL, NULL, bits);
}

bool rq_lock_slow(struct rq_lock *l)
{
	uint32_t c;
	int spin;

	/* Spin briefly: critical sections are a few dozen instructions. */
	for (spin = 0; spin < 100; spin++) {
		__builtin_ia32_pause();
		c = atomic_load_explicit(&l->word, memory_order_relaxed);
		if (c == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &l->word, &c, 1, memory_order_acquire,
				    memory_order_relaxed))
				return true;
		}
	}
	c = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
	while (c != 0) {
		rq_futex_wait(&l->word, 2, RQ_NO_DEADLINE, RQ_WAKE_ALL);
		c = atomic_exchange_explicit(&l->word, 2,
					     memory_order_acquire);
	}
	return true;
}

void rq_waitq_init(struct rq_waitq *wq)
{
	atomic_init(&wq->seq, 0);
	atomic_init(&wq->sleepers, 0);
	atomic_init(&wq->timer_owner, 0);
	atomic_init(&wq->shutdown, false);
	atomic_init(&wq->waits, 0);
	atomic_init(&wq->wakeups, 0);
	atomic_init(&wq->timeouts, 0);
}

void rq_waitq_kick_slow(struct rq_waitq *wq)
{
	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	rq_futex_wake(&wq->seq, 1, RQ_WAKE_WORK);
}

/**
 * rq_waitq_kick_timer() - the earliest deadline moved earlier
 * @wq: the wait queue
 *
 * Wakes the timer owner only (it sleeps with RQ_WAKE_TIMER in its futex
 * bitset), so that it re-arms its timeout.  When nobody owns the timer
 * (its owner left while others kept sleeping without one), wakes any one
 * sleeper instead: it goes round its loop, takes the timer and reads the
 * new deadline.  A sleeper that takes the timer after our load of
 * timer_owner reads the deadline after taking it, so it sees this one.
 *
 * Context: any.  The caller published the deadline with a seq_cst store.
 */
void rq_waitq_kick_timer(struct rq_waitq *wq)
{
	uint32_t bits;

	if (!atomic_load_explicit(&wq->sleepers, memory_order_seq_cst))
		return;
	bits = atomic_load_explicit(&wq->timer_owner, memory_order_seq_cst) ?
		       RQ_WAKE_TIMER :
		       RQ_WAKE_WORK;
	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	rq_futex_wake(&wq->seq, 1, bits);
}

static bool rq_shut(struct rq_waitq *wq)
{
	return atomic_load_explicit(&wq->shutdown, memory_order_seq_cst);
}

/* Sleep once; returns the poll result seen on the way in (1 = work). */
static int rq_sleep_once(struct readyq *q, uint64_t abs_deadline)
{
	struct rq_waitq *wq = &q->wq;
	uint32_t seq = atomic_load_explicit(&wq->seq, memory_order_seq_cst);
	uint32_t zero = 0;
	uint64_t until = abs_deadline, next;
	bool timer;
	int work;

	atomic_fetch_add_explicit(&wq->sleepers, 1, memory_order_seq_cst);
	work = rq_shut(wq) || q->ops->poll(q->be);
	if (work)
		goto out;
	timer = atomic_compare_exchange_strong_explicit(
		&wq->timer_owner, &zero, 1, memory_order_seq_cst,
		memory_order_relaxed);
	if (timer) {
		next = q->ops->next_deadline(q->be);
		if (next < until)
			until = next;
	}
	rq_futex_wait(&wq->seq, seq, until,
		      timer ? RQ_WAKE_WORK | RQ_WAKE_TIMER : RQ_WAKE_WORK);
	if (timer) {
		atomic_store_explicit(&wq->timer_owner, 0,
				      memory_order_seq_cst);
		/* Hand the timer to another sleeper if deadlines remain. */
		if (atomic_load_explicit(&wq->sleepers,
					 memory_order_seq_cst) > 1 &&
		    q->ops->next_deadline(q->be) != RQ_NO_DEADLINE)
			rq_waitq_kick_slow(wq);
	}
out:
	atomic_fetch_sub_explicit(&wq->sleepers, 1, memory_order_seq_cst);
	return work;
}

int rq_wait(struct readyq *q, int64_t timeout_ns)
{
	struct rq_waitq *wq = &q->wq;
	uint64_t deadline = RQ_NO_DEADLINE;
	int rc;

	atomic_fetch_add_explicit(&wq->waits, 1, memory_order_relaxed);
	if (timeout_ns >= 0)
		deadline = rq_deadline_after(rq_now_ns(), (uint64_t)timeout_ns);
	for (;;) {
		if (rq_shut(wq)) {
			rc = -ESHUTDOWN;
			break;
		}
		if (q->ops->poll(q->be)) {
			rc = 0;
			break;
		}
		if (deadline != RQ_NO_DEADLINE && rq_now_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		rq_sleep_once(q, deadline);
	}
	if (rc == 0)
		atomic_fetch_add_explicit(&wq->wakeups, 1,
					  memory_order_relaxed);
	else if (rc == -ETIMEDOUT)
		atomic_fetch_add_explicit(&wq->timeouts, 1,
					  memory_order_relaxed);
	return rc;
}
