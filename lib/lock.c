// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lock.c - the three-state lock's slow path; see lock.h
 */
#include "lock.h"
#include "clock.h"

/*
 * Pauses before sleeping: critical sections are a few dozen
 * instructions.  See perf/README.md ("The lock's spin") for why 100.
 */
#define RQ_LOCK_SPIN 100

/*
 * rq_lock_slow() - take @l after its fast path found it held
 *
 * Spins RQ_LOCK_SPIN times for a free lock, then swaps in CONTENDED and
 * sleeps until it swaps out FREE.  Whoever takes the lock that way holds
 * it in state CONTENDED, so its unlock wakes the next sleeper.
 *
 * Return: true (the lock was found held).
 */
bool rq_lock_slow(struct rq_lock *l)
{
	uint32_t c;
	int spin;

	for (spin = 0; spin < RQ_LOCK_SPIN; spin++) {
		caa_cpu_relax();
		c = atomic_load_explicit(&l->word, memory_order_relaxed);
		if (c == RQ_LOCK_FREE &&
		    atomic_compare_exchange_weak_explicit(
			    &l->word, &c, RQ_LOCK_HELD, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	}
	c = atomic_exchange_explicit(&l->word, RQ_LOCK_CONTENDED,
				     memory_order_acquire);
	while (c != RQ_LOCK_FREE) {
		rq_futex_wait(&l->word, RQ_LOCK_CONTENDED, RQ_NO_DEADLINE,
			      RQ_WAKE_ALL);
		c = atomic_exchange_explicit(&l->word, RQ_LOCK_CONTENDED,
					     memory_order_acquire);
	}
	return true;
}
