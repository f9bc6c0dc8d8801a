/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thread.h - a small number for each thread, to pick counter shards
 *
 * Per-thread counters updated with atomic RMWs (the lock-free backend's
 * shards, the wait queue's) are indexed by rq_thread_id() modulo their
 * shard count, so that threads numbered one after the other use different
 * shards.  Numbers start at 1 and are never reused; they wrap after 2^32
 * threads (skipping 0), which only makes two threads share a shard.
 *
 * Context: any thread.  The first call of a thread takes one relaxed
 * atomic add on a process-wide counter; later calls read TLS only.
 *
 * Thread slots
 * ------------
 * Counters that a thread should own outright (no locked add: the
 * histograms', lib/hist.h, and the lock-free backend's statistics) need
 * a number that no other *live* thread has: rq_thread_slot() hands out
 * the lowest of RQ_THREAD_SLOTS free slots at a thread's first call and
 * takes it back when the thread exits (a pthread key destructor), so a
 * daemon whose threads come and go keeps reusing a few slots.  When all
 * are taken the call returns RQ_THREAD_NO_SLOT, for good for that
 * thread.  Such counters come in RQ_SLOT_SETS sets, one per slot and a
 * last one, at index RQ_THREAD_NO_SLOT, shared by threads without a
 * slot; rq_slot_count() adds to this thread's.  Handing a slot over
 * orders the old owner's stores before the new owner's (release on
 * free, acquire on claim).  In a forked child only the forking thread's
 * slot stays taken (rq_thread_fork_child(), from lib/proc.c).
 */
#ifndef READYQ_THREAD_H
#define READYQ_THREAD_H

#include "compiler.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

extern rq_thread_local uint32_t rq_thread_nr; /* 0: not numbered yet */

uint32_t rq_thread_id_slow(void);

static inline uint32_t rq_thread_id(void)
{
	uint32_t t = rq_thread_nr;

	return caa_likely(t) ? t : rq_thread_id_slow();
}

#define RQ_THREAD_SLOTS 64 /* bits of the slot map */
#define RQ_THREAD_NO_SLOT RQ_THREAD_SLOTS /* also the shared set's index */
#define RQ_SLOT_SETS (RQ_THREAD_SLOTS + 1) /* counter sets, see above */

/* Slot + 1; 0: none asked yet; RQ_THREAD_NO_SLOT + 1: none to be had. */
extern rq_thread_local uint32_t rq_thread_slot_nr;

uint32_t rq_thread_slot_slow(void);
void rq_thread_fork_child(void);

/* This thread's slot, 0 to RQ_THREAD_SLOTS - 1, or RQ_THREAD_NO_SLOT. */
static inline uint32_t rq_thread_slot(void)
{
	uint32_t s = rq_thread_slot_nr;

	return caa_likely(s) ? s - 1 : rq_thread_slot_slow();
}

/*
 * Add @n to counter @c of a per-slot counter set: with @owned (the set of
 * this thread's slot) a plain load and store, else (the set shared by
 * threads without a slot) a relaxed atomic add.  Readers sum the sets
 * with relaxed loads; each counter is monotonic as read.
 */
static inline void rq_slot_add(_Atomic uint64_t *c, uint64_t n, bool owned)
{
	if (caa_likely(owned))
		atomic_store_explicit(
			c, atomic_load_explicit(c, memory_order_relaxed) + n,
			memory_order_relaxed);
	else
		atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/*
 * Add @n to counter @member of this thread's set among @sets (an array of
 * RQ_SLOT_SETS structs): the set of its slot, or the shared last one.
 */
#define rq_slot_count(sets, member, n)                                         \
	do {                                                                   \
		uint32_t _slot = rq_thread_slot();                             \
                                                                               \
		rq_slot_add(&(sets)[_slot].member, (n),                        \
			    _slot != RQ_THREAD_NO_SLOT);                       \
	} while (0)

#endif /* READYQ_THREAD_H */
