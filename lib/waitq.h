/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * waitq.h - level-triggered waiting for work (lib/wait.c)
 *
 * Overview
 * --------
 * A backend that turns an index QUEUED (or makes an earlier deadline)
 * calls rq_waitq_kick() (or rq_waitq_kick_timer()) *after* publishing
 * that with a sequentially consistent read-modify-write or fence.  A
 * sleeper announces itself with a seq_cst increment of @sleepers before
 * it polls the backend.  One of the two therefore sees the other: no lost
 * wake-ups, and no futex call at all while nobody sleeps.  The protocol,
 * step by step, is at the top of lib/wait.c.
 *
 * Searching (the wake policy of Go's spinning threads and Tokio's
 * searching workers): a waiter that finds nothing first polls for a
 * bounded time, counted in @searching, and only then sleeps.  A kick for
 * new work wakes a sleeper only when nobody is searching: the searcher
 * will find the work.  A searcher that found work and drained, while
 * others sleep and work remains, wakes one more (rq_waitq_ramp_up()), so
 * that a burst still reaches every worker.
 *
 * Event fd (readyq_fd()): once a caller asked for one, the top bit of
 * @sleepers (RQ_SLEEPERS_FD) stays set, so every kick takes the slow path,
 * which writes the eventfd as well as waking a futex sleeper.  Without an
 * fd the fast path is unchanged: one load of the word it always read.
 */
#ifndef READYQ_WAITQ_H
#define READYQ_WAITQ_H

#include "compiler.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct readyq_ops;

/* @sleepers flag: readyq_fd() was called, kicks write the eventfd. */
#define RQ_SLEEPERS_FD 0x80000000u

/*
 * What every readyq_wait() call counts, per thread (a thread's shard is
 * its number modulo RQ_WAIT_SHARDS), so that workers do not pass a
 * counter's cache line between them at every call; summed on read.
 */
#define RQ_WAIT_SHARDS 16

struct rq_wait_shard {
	_Atomic uint64_t waits, wakeups;
} rq_cacheline_aligned;

/*
 * All fields: A (atomics, any thread); @efd set once (I after that).  What
 * every kick reads (@sleepers, @searching) shares a line that only
 * waiting threads write; the counters, written by waiters and by kicks
 * that call the kernel, have their own.
 */
struct rq_waitq {
	_Atomic uint32_t seq; /* futex word: bumped by every kick */
	_Atomic uint32_t sleepers; /* threads between announce and leave,
				    * | RQ_SLEEPERS_FD */
	_Atomic uint32_t searching; /* threads polling before they sleep */
	_Atomic uint32_t timer_owner; /* a sleeper watches the deadlines */
	_Atomic bool shutdown;
	_Atomic int efd; /* readyq_fd()'s eventfd, -1 until asked for */

	/* readyq_stats(): relaxed counters; the per-call ones sharded */
	struct rq_wait_shard sh[RQ_WAIT_SHARDS];
	_Atomic uint64_t timeouts rq_cacheline_aligned;
	_Atomic uint64_t sleeps; /* futex sleeps inside readyq_wait() */
	_Atomic uint64_t wake_calls; /* futex wakes and eventfd writes */
	_Atomic uint64_t empty_wakes; /* counted by readyq_drain() */
};

/* What an op that changed the state must tell the sleepers. */
/* Bit flags: a batch of ops ORs what each of them needs. */
enum rq_kick {
	RQ_KICK_NONE = 0, /* nothing new for a waiter */
	RQ_KICK_WORK = 1, /* an index became QUEUED: wake one sleeper */
	RQ_KICK_TIMER = 2, /* the earliest deadline moved earlier */
};

void rq_waitq_init(struct rq_waitq *wq);
void rq_waitq_counts(const struct rq_waitq *wq, uint64_t *waits,
		     uint64_t *wakeups);
void rq_waitq_fini(struct rq_waitq *wq);
void rq_waitq_notify_fd(struct rq_waitq *wq);

void rq_waitq_kick_slow(struct rq_waitq *wq);
void rq_waitq_ramp_up_slow(struct rq_waitq *wq, const struct readyq_ops *ops,
			   void *be);
void rq_waitq_kick_n(struct rq_waitq *wq, int n);
void rq_waitq_kick_timer(struct rq_waitq *wq);
void rq_waitq_wake_all(struct rq_waitq *wq);
void rq_waitq_shutdown(struct rq_waitq *wq);

int rq_waitq_wait(struct rq_waitq *wq, const struct readyq_ops *ops,
		  void *be, int64_t timeout_ns);
int rq_waitq_fd(struct rq_waitq *wq, const struct readyq_ops *ops, void *be);

/**
 * rq_waitq_kick() - wake one sleeper, if any and nobody searches, after
 * new work was published
 * @wq: the wait queue
 *
 * Also signals readyq_fd()'s eventfd when one exists (RQ_SLEEPERS_FD),
 * searchers or not.  Costs one load while nobody sleeps, two while
 * someone does.
 *
 * Context: any.  The caller must have published the new QUEUED index with
 * a seq_cst read-modify-write or fence.
 */
static inline void rq_waitq_kick(struct rq_waitq *wq)
{
	uint32_t s = atomic_load_explicit(&wq->sleepers, memory_order_seq_cst);

	if (caa_likely(!s))
		return;
	if ((s & RQ_SLEEPERS_FD) ||
	    !atomic_load_explicit(&wq->searching, memory_order_seq_cst))
		rq_waitq_kick_slow(wq);
}

/* One more system call to wake a waiter (readyq_stats().wake_calls). */
static inline void rq_waitq_count_call(struct rq_waitq *wq)
{
	atomic_fetch_add_explicit(&wq->wake_calls, 1, memory_order_relaxed);
}

/*
 * rq_waitq_ramp_up() - after a drain that took work: if threads sleep,
 * see whether one more should be woken (rq_waitq_ramp_up_slow()).  One
 * load while nobody sleeps, as rq_waitq_kick().
 */
static inline void rq_waitq_ramp_up(struct rq_waitq *wq,
				    const struct readyq_ops *ops, void *be)
{
	if (caa_unlikely(atomic_load_explicit(&wq->sleepers,
					      memory_order_seq_cst) &
			 ~RQ_SLEEPERS_FD))
		rq_waitq_ramp_up_slow(wq, ops, be);
}

/*
 * Tell the sleepers what @kicks (enum rq_kick flags, ORed) say, each
 * once; same context as rq_waitq_kick().
 */
static inline void rq_waitq_kick_for(struct rq_waitq *wq, unsigned int kicks)
{
	if (kicks & RQ_KICK_WORK)
		rq_waitq_kick(wq);
	if (kicks & RQ_KICK_TIMER)
		rq_waitq_kick_timer(wq);
}

#endif /* READYQ_WAITQ_H */
