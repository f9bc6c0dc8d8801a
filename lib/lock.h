/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lock.h - the futex-based three-state lock (Drepper, "Futexes are tricky")
 *
 * @word is 0 free, 1 held, 2 held and contended.  rq_lock() is one
 * compare-and-swap when the lock is free; the slow path (lib/lock.c)
 * spins briefly, then marks the lock contended and sleeps on the futex.
 * rq_unlock() wakes one sleeper, and only from state 2.
 *
 * Barriers: rq_lock() is an acquire, rq_unlock() a seq_cst exchange
 * (a full barrier on every architecture the library builds on; see
 * rq_smp_mb__after_unlock() for what callers may rely on).
 *
 * Context: any thread; not recursive; not async-signal-safe.  Neither
 * call is a cancellation point.
 */
#ifndef READYQ_LOCK_H
#define READYQ_LOCK_H

#include "compiler.h"
#include "futex.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

enum rq_lock_word {
	RQ_LOCK_FREE = 0,
	RQ_LOCK_HELD = 1,
	RQ_LOCK_CONTENDED = 2, /* held, and someone may sleep on it */
};

struct rq_lock {
	_Atomic uint32_t word; /* enum rq_lock_word */
};

bool rq_lock_slow(struct rq_lock *l);

/*
 * rq_lock() - take @l
 *
 * Return: whether it found the lock held (the adaptive backend's
 * contention meter counts these).
 */
static inline bool rq_lock(struct rq_lock *l)
{
	uint32_t free = RQ_LOCK_FREE;

	if (caa_likely(atomic_compare_exchange_strong_explicit(
		    &l->word, &free, RQ_LOCK_HELD, memory_order_acquire,
		    memory_order_relaxed)))
		return false;
	return rq_lock_slow(l);
}

static inline void rq_unlock(struct rq_lock *l)
{
	if (caa_unlikely(atomic_exchange_explicit(&l->word, RQ_LOCK_FREE,
						  memory_order_seq_cst) ==
			 RQ_LOCK_CONTENDED))
		rq_futex_wake(&l->word, 1, RQ_WAKE_ALL);
}

/* Debug builds: the caller holds @l (someone does, at least). */
#define rq_lock_assert_held(l)                                                 \
	rq_assert(atomic_load_explicit(&(l)->word, memory_order_relaxed) !=    \
		  RQ_LOCK_FREE)

/*
 * rq_smp_mb__after_unlock() - order the critical section's stores before
 * the loads that follow rq_unlock() (kernel: smp_mb__after_spinlock)
 *
 * rq_unlock() is an atomic exchange.  On x86 that is a locked instruction,
 * which already drains the store buffer before any later load, so only the
 * compiler must be kept from reordering; elsewhere a full fence is needed.
 * The locked backend relies on it to publish nr_queued before
 * rq_waitq_kick() reads the sleeper count (Dekker with the sleeper's
 * seq_cst increment), so that it needs no extra atomic per register.
 */
static inline void rq_smp_mb__after_unlock(void)
{
#if defined(__x86_64__) || defined(__i386__)
	cmm_barrier();
#else
	atomic_thread_fence(memory_order_seq_cst);
#endif
}

#endif /* READYQ_LOCK_H */
