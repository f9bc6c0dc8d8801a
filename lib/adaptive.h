/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * adaptive.h - what the adaptive backend's files share
 *
 * The adaptive backend owns one inner backend at a time (struct ad_inst)
 * and forwards every op to it; it measures contention over windows of
 * operations and migrates the queue to the other backend when the
 * measurements say so.  Read it one concern at a time:
 *
 *   lib/adaptive.c          the ops, create/destroy, the instances
 *   this file               struct adaptive, the op's hot path: entering
 *                           the current instance, per-thread counting,
 *                           the ghost-lock probe
 *   lib/adaptive_policy.c   windows and when to switch (one evaluator
 *                           per direction)
 *   lib/adaptive_migrate.c  the switch itself: the gate, export/import,
 *                           freeing the old instance
 *   lib/quiesce.[ch]        waiting until no thread is inside the old
 *                           instance (reader records, membarrier())
 *
 * An op:
 *
 *	in = ad_enter(a, &r);		  marked inside, the current instance
 *	held = ad_probe_begin(a);	  probe windows only
 *	rc = in->ops->OP(in->be, ...);
 *	ad_probe_end(a, held);
 *	ad_leave(a, r);			  left; counted; maybe a window end
 *
 * Counting: each thread counts its ops (and, in probe windows, its
 * probes) in TLS and adds them to the queue's counters every AD_BATCH
 * ops, so the hot path touches no shared written line outside probe
 * windows.  Fields that every op reads (cur, probing, window) share a
 * line that only switches and window ends write; counters and the ghost
 * lock have lines of their own.
 */
#ifndef READYQ_ADAPTIVE_H
#define READYQ_ADAPTIVE_H

#include "alloc.h"
#include "backend.h"
#include "futex.h"
#include "lock.h"
#include "quiesce.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <urcu/arch.h>
#include <urcu/compiler.h>

/* Defaults of struct readyq_config's adaptive_* fields (0 = default). */

/* Windows (adaptive_policy.c). */
#define AD_FIRST_WINDOW 256 /* first window; locked windows keep it */
#define AD_PROBE_EVERY 4 /* lock-free windows between two probes */
#define AD_PROBE_WINDOW 256 /* ops in a probe window */
#define AD_PROBE_SAMPLE 8 /* one probed op in this many takes the ghost */
#define AD_BATCH 64 /* ops a thread counts before adding to the window */

/*
 * Concurrency hints: above AD_LOCKFREE_HINT the lock-free backend starts;
 * above AD_EAGER_HINT the locked one starts but switches up as soon as two
 * threads are seen inside ops at once (ad_first_op()).  See perf/README.md,
 * "Adaptive threshold", for the measurements.
 */
#define AD_EAGER_HINT 1
#define AD_LOCKFREE_HINT 8

/* One inner backend instance. */
struct ad_inst {
	const struct readyq_ops *ops;
	void *be;
	enum readyq_backend kind;
};

/*
 * struct adaptive - one adaptive queue
 *
 * Per field, who writes (W) and who reads (R) it, under which lock or
 * rule.  "switch_lock" is @switch_lock; "C" is set at create and
 * read-only after; "any" is any thread inside or outside an op.
 */
struct adaptive {
	/* -- read by every op; written by switches and window ends -- */
	_Atomic(struct ad_inst *) cur; /* W: switch_lock (NULL while
					* migrating: seq_cst); R: inside
					* @readers (seq_cst) or under
					* switch_lock; gate waiters: NULL
					* test only, no dereference */
	_Atomic bool probing; /* W: switch_lock; R: any, relaxed.  The
			       * lock-free backend's window is a probe one */
	_Atomic uint32_t gate; /* futex; W: switch_lock, +1 (release) when a
				* migration ends; R: gate waiters */
	_Atomic uint64_t window; /* W: switch_lock; R: any, relaxed.  This
				  * window's length in ops */
	bool eager; /* C: the hint says several threads (ad_first_op()) */
	uint64_t id; /* C: unique, never 0 (names @a in ad_counts) */
	struct rq_waitq *wq; /* C: the queue's */
	struct rq_hist *hist; /* C: the queue's (shared by every instance) */
	struct readyq_config cfg; /* C: defaults filled in */

	/* -- written every AD_BATCH ops of any thread -- */
	_Atomic uint64_t win_ops /* W: any, relaxed add; switch_lock: reset.
				  * Ops in this window */
		__attribute__((aligned(CAA_CACHE_LINE_SIZE)));
	_Atomic uint64_t probe_ops; /* W: any, relaxed add; switch_lock:
				     * exchange.  Probed ops in this window */
	_Atomic uint64_t probe_contended; /* same rule: of those, contended */
	struct qs_domain readers; /* quiesce.h: who is inside an op */

	/* -- probe windows: the stand-in for the locked backend's lock -- */
	struct rq_lock ghost /* W: any, sampled ops, try-lock only */
		__attribute__((aligned(CAA_CACHE_LINE_SIZE)));

	/* -- policy and migration: all W and R under switch_lock -- */
	pthread_mutex_t switch_lock /* one window end / switch at a time */
		__attribute__((aligned(CAA_CACHE_LINE_SIZE)));
	uint32_t windows_since_switch; /* hysteresis: adaptive_hold */
	uint32_t quiet_probes; /* consecutive quiet probe windows */
	uint32_t plain_windows; /* lock-free windows since the last probe */
	uint64_t lockfree_window; /* the next plain lock-free window's length */
	uint64_t ops_total; /* in every window so far */
	uint64_t quiet_ops; /* in the current run of quiet probe windows */
	uint64_t switches; /* R: also ad_stats() under switch_lock */
	struct ad_inst *retired; /* a lock-free instance to free later */
	struct readyq_stats retired_stats; /* counters of replaced instances */
	_Atomic uint32_t switches_up; /* W: switch_lock; R: any, relaxed */
};

/*
 * Per thread: its op counts for the queue it used last, named by the
 * queue's id (an address can come back for a new queue).
 */
struct ad_thread_counts {
	uint64_t queue_id;
	uint32_t ops; /* since the last batch (carry over between queues) */
	uint32_t probes; /* ops in probe windows, since the last batch */
	uint32_t contended; /* of those, would have found the lock held */
};

extern rq_thread_local struct ad_thread_counts ad_counts;

/* Debug builds: is @a's switch lock held (by anyone: a cheap check)? */
#define ad_assert_switch_locked(a) \
	rq_assert(pthread_mutex_trylock(&(a)->switch_lock) == EBUSY)

/* lib/adaptive.c */
struct ad_inst *ad_inst_new(struct adaptive *a, enum readyq_backend k);
void ad_inst_free(struct ad_inst *in);

/* lib/adaptive_policy.c */
void ad_windows_init(struct adaptive *a, bool probe);
void ad_window_end(struct adaptive *a);
void ad_first_op(struct adaptive *a);

/* lib/adaptive_migrate.c */
void ad_gate_wait(struct adaptive *a);
int ad_switch(struct adaptive *a, enum readyq_backend to);
void ad_add_counters(struct readyq_stats *to, const struct readyq_stats *from);

/*
 * ad_enter() - the current instance, with this thread marked inside @a
 *
 * Waits at the gate while a migration runs.  The caller must call
 * ad_leave() (or ad_exit()) with *@rp when done with the instance.
 */
static inline struct ad_inst *ad_enter(struct adaptive *a,
				       struct qs_reader **rp)
{
	struct qs_reader *r = qs_reader();
	struct ad_inst *in;

	*rp = r;
	for (;;) {
		qs_read_enter(&a->readers, r);
		in = atomic_load_explicit(&a->cur, memory_order_seq_cst);
		if (caa_likely(in != NULL))
			return in;
		qs_read_exit(&a->readers, r);
		ad_gate_wait(a);
	}
}

/* Leaves the op without counting it (ops that are not work). */
static inline void ad_exit(struct adaptive *a, struct qs_reader *r)
{
	qs_read_exit(&a->readers, r);
}

/* Adds this thread's batch to @a's window; ends the window when full. */
static inline void ad_flush_counts(struct adaptive *a)
{
	ad_counts.ops = 0;
	if (ad_counts.probes) {
		atomic_fetch_add_explicit(&a->probe_ops, ad_counts.probes,
					  memory_order_relaxed);
		atomic_fetch_add_explicit(&a->probe_contended,
					  ad_counts.contended,
					  memory_order_relaxed);
		ad_counts.probes = ad_counts.contended = 0;
	}
	if (atomic_fetch_add_explicit(&a->win_ops, AD_BATCH,
				      memory_order_relaxed) +
		    AD_BATCH >=
	    atomic_load_explicit(&a->window, memory_order_relaxed))
		ad_window_end(a);
}

/* Leaves the op and counts it; every AD_BATCH ops, adds to the window. */
static inline void ad_leave(struct adaptive *a, struct qs_reader *r)
{
	ad_exit(a, r);
	if (caa_unlikely(ad_counts.queue_id != a->id)) {
		/*
		 * ops carry over, so that a thread alternating between
		 * queues still ends windows; probe counts do not.
		 */
		ad_counts.queue_id = a->id;
		ad_counts.probes = ad_counts.contended = 0;
		if (a->eager)
			ad_first_op(a);
	}
	if (caa_unlikely(++ad_counts.ops >= AD_BATCH))
		ad_flush_counts(a);
}

/*
 * Probe windows: would this op have found the lock held?  One op in
 * AD_PROBE_SAMPLE of each thread runs under a try-lock of the ghost lock;
 * the others only look whether it is held.  Either way an op counts as
 * contended when another thread's sampled op holds the ghost, which
 * happens 1/AD_PROBE_SAMPLE as often as a real lock would be found held,
 * so the policy scales the count back up.  The ghost line is written
 * AD_PROBE_SAMPLE times less often than by a try-lock per op (see
 * perf/README.md, "Adaptive backend: why the constants", for what that
 * costs).
 */
static inline bool ad_probe_begin(struct adaptive *a)
{
	uint32_t zero = 0;

	if (caa_likely(
		    !atomic_load_explicit(&a->probing, memory_order_relaxed)))
		return false;
	if (ad_counts.queue_id != a->id)
		return false; /* counted from this thread's next batch on */
	if (++ad_counts.probes % AD_PROBE_SAMPLE == 0) {
		if (atomic_compare_exchange_strong_explicit(
			    &a->ghost.word, &zero, 1, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	} else if (!atomic_load_explicit(&a->ghost.word,
					 memory_order_relaxed)) {
		return false;
	}
	ad_counts.contended++;
	return false;
}

static inline void ad_probe_end(struct adaptive *a, bool held)
{
	if (held)
		atomic_store_explicit(&a->ghost.word, 0, memory_order_release);
}

#endif /* READYQ_ADAPTIVE_H */
