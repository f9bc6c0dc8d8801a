/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * readyq.h - the ready-queue core of actor and task schedulers
 *
 * Overview
 * --------
 * A *mailbox* is named by a struct readyq_index: a slot number and a
 * generation.  Producers announce that a mailbox has work with
 * readyq_register().  Worker threads take batches of ready mailboxes with
 * readyq_drain(), run one *turn* on each and report how the turn ended with
 * readyq_complete().  Idle workers sleep in readyq_wait().
 *
 * Each slot has one current generation and one state: IDLE, QUEUED,
 * RUNNING (possibly NOTIFIED: registered again during the turn),
 * SUSPENDED, DELAYED or RETIRED.  The state machine is the same for every
 * backend; readyq(7) describes it row by row.
 *
 * Guarantees (every backend):
 *  - dedup: a QUEUED index is queued once, however often it is registered;
 *  - exclusivity: between the drain that returns an index and its
 *    complete, no drain returns that index again;
 *  - no lost wake-ups: a register during a turn makes the turn's end queue
 *    the mailbox again, even on COMPLETED with ready_hint == false;
 *  - FIFO: indices are drained in the order they became QUEUED;
 *  - waiting is level-triggered and wakes at most one sleeper per newly
 *    queued index; readyq_shutdown() wakes everyone.
 *
 * Event loops wait on readyq_fd(), an eventfd written when an index is
 * queued, with a timer at readyq_next_deadline() (see readyq_fd(3)).
 *
 * Threads: every function may be called from any thread, concurrently,
 * with no registration step.  Errors are negative errno values; the state
 * is unchanged when a call fails.
 *
 * Backends:
 *  - READYQ_BACKEND_LOCKED: one futex-based lock, a ring FIFO and an
 *    open-addressing table of per-slot state.  Best at low concurrency.
 *  - READYQ_BACKEND_LOCKFREE: urcu wait-free queue and RCU lock-free hash
 *    table; register takes no lock.
 *  - READYQ_BACKEND_ADAPTIVE: picks one of the two from the concurrency
 *    hint and switches at run time on measured contention.
 *
 * ABI: struct readyq_config and struct readyq_stats only grow at their
 * end.  readyq_config_size() and readyq_stats_size() tell the size the
 * library was built with; always fill a config with readyq_config_init().
 */
#ifndef READYQ_READYQ_H
#define READYQ_READYQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(READYQ_BUILDING) && defined(__GNUC__)
#define READYQ_EXPORT __attribute__((visibility("default")))
#else
#define READYQ_EXPORT
#endif

#define READYQ_VERSION_MAJOR 0
#define READYQ_VERSION_MINOR 2
#define READYQ_VERSION_PATCH 0
#define READYQ_VERSION_HEX                                                     \
	((READYQ_VERSION_MAJOR << 16) | (READYQ_VERSION_MINOR << 8) |          \
	 READYQ_VERSION_PATCH)

struct readyq; /* opaque */

/**
 * struct readyq_index - names one mailbox
 * @slot: the mailbox's slot number (any value)
 * @generation: which incarnation of the slot; a newer (numerically
 *	greater) generation resets the slot, an older one is stale.
 */
struct readyq_index {
	uint32_t slot;
	uint32_t generation;
};

enum readyq_backend {
	READYQ_BACKEND_LOCKED, /* futex-based lock, ring queue, hash set   */
	READYQ_BACKEND_LOCKFREE, /* urcu wfcqueue + rculfhash, no lock on register */
	READYQ_BACKEND_ADAPTIVE, /* picks and switches between the two       */
};

/**
 * struct readyq_config - how to build a queue; fill with readyq_config_init()
 * @backend: which backend
 * @throughput: messages per turn hint, 0 = default 32
 * @concurrency_hint: threads expected to call in, 0 = online CPUs
 * @capacity_hint: distinct mailboxes expected, 0 = small
 * @adaptive_window: adaptive backend: operations per measurement window,
 *	0 = default (16384); windows start at 256 operations and double on
 *	the lock-free backend only
 * @adaptive_up_permille: adaptive backend: switch to the lock-free backend
 *	when more than this many of 1000 lock acquisitions in a window
 *	found the lock held, 0 = default (150)
 * @adaptive_down_permille: adaptive backend: switch back to the locked
 *	backend when fewer than this many of 1000 operations in a window met
 *	contention, 0 = default (30); must be below @adaptive_up_permille
 * @adaptive_hold: adaptive backend: windows to stay on a backend after a
 *	switch before switching again (hysteresis), and quiet probe windows
 *	in a row needed to switch down, 0 = default (2)
 * @flags: READYQ_FLAG_* bits, 0 for none
 *
 * The structure grows only at its end.
 */
struct readyq_config {
	enum readyq_backend backend;
	uint32_t throughput;
	uint32_t concurrency_hint;
	size_t capacity_hint;
	uint32_t adaptive_window;
	uint32_t adaptive_up_permille;
	uint32_t adaptive_down_permille;
	uint32_t adaptive_hold;
	uint32_t flags;
};

/*
 * Diagnostic flag, for tests: the adaptive backend switches at the end of
 * every window whatever it measures, so that tests can force hundreds of
 * migrations.  Every backend accepts it; other bits are -EINVAL.
 */
#define READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH (1u << 0)
/*
 * Keep the queue-delay and turn-time histograms (readyq_delay_histogram(),
 * readyq_turn_histogram(); since 0.2).  Costs a time stamp per queueing,
 * drain and complete; without it the queue stores none.
 */
#define READYQ_FLAG_HISTOGRAMS (1u << 1)
#define READYQ_FLAGS_ALL                                                       \
	(READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH | READYQ_FLAG_HISTOGRAMS)

enum readyq_outcome {
	READYQ_COMPLETED,
	READYQ_YIELDED,
	READYQ_SUSPENDED,
	READYQ_FAILED,
	READYQ_STOPPED,
};

enum readyq_suspend_reason {
	READYQ_SUSPEND_BACKPRESSURE,
	READYQ_SUSPEND_AWAIT_EXTERNAL,
	READYQ_SUSPEND_RATE_LIMIT,
	READYQ_SUSPEND_USER,
};

enum readyq_resume_kind {
	READYQ_RESUME_SIGNAL,
	READYQ_RESUME_AFTER,
	READYQ_RESUME_CAPACITY,
};

/**
 * struct readyq_result - how a turn ended; build with readyq_result_*()
 * @outcome: what happened
 * @ready_hint: COMPLETED: the mailbox still has work, queue it again
 * @reason: SUSPENDED: why (informational)
 * @resume_on: SUSPENDED: what ends the suspension
 * @signal_key: SUSPENDED on READYQ_RESUME_SIGNAL: the key
 * @delay_ns: SUSPENDED on READYQ_RESUME_AFTER: the delay; FAILED: the
 *	retry delay, 0 = no retry
 * @error: FAILED: the caller's code (informational)
 */
struct readyq_result {
	enum readyq_outcome outcome;
	bool ready_hint;
	enum readyq_suspend_reason reason;
	enum readyq_resume_kind resume_on;
	uint64_t signal_key;
	uint64_t delay_ns;
	int error;
};

/**
 * struct readyq_stats - counters since creation, and the state now
 * @registered: registers that queued an index (returned 1)
 * @duplicates: registers suppressed because the index was already QUEUED
 * @notified: registers remembered on a RUNNING, SUSPENDED or DELAYED index
 * @unregistered: unregisters that cancelled something
 * @drained: indices handed out by readyq_drain()
 * @completed: successful readyq_complete() calls
 * @stale: calls answered -ESTALE
 * @waits: readyq_wait() calls
 * @wakeups: readyq_wait() calls that returned 0
 * @timeouts: readyq_wait() calls that returned -ETIMEDOUT
 * @switches: adaptive backend: backend switches
 * @queued: indices QUEUED now
 * @running: indices RUNNING now
 * @suspended: indices SUSPENDED now
 * @delayed: indices DELAYED now
 * @active: the backend serving calls now
 * @sleeps: times a thread blocked in the kernel inside readyq_wait()
 *	(since 0.2)
 * @wake_calls: futex wake and eventfd write system calls the library made
 *	to wake waiters (since 0.2; lock hand-offs are not counted)
 * @empty_wakes: readyq_wait() calls that returned 0 after which the same
 *	thread's next readyq_drain() on the queue returned nothing (since 0.2)
 *
 * The structure grows only at its end.  Counters read while other threads
 * work are a consistent snapshot for the locked backend and per-counter
 * exact (but not mutually consistent) for the others.
 */
struct readyq_stats {
	uint64_t registered, duplicates, notified, unregistered, drained,
		completed, stale, waits, wakeups, timeouts, switches;
	size_t queued, running, suspended, delayed;
	enum readyq_backend active;
	/* since 0.2 (readyq_stats@@READYQ_0.2) */
	uint64_t sleeps, wake_calls, empty_wakes;
};

READYQ_EXPORT void readyq_config_init(struct readyq_config *cfg);
READYQ_EXPORT size_t readyq_config_size(void);
READYQ_EXPORT size_t readyq_stats_size(void);
READYQ_EXPORT unsigned int readyq_version(void);
READYQ_EXPORT int readyq_create(const struct readyq_config *cfg,
				struct readyq **qp);
READYQ_EXPORT void readyq_destroy(struct readyq *q);

READYQ_EXPORT int readyq_register(struct readyq *q, struct readyq_index idx);
READYQ_EXPORT int readyq_unregister(struct readyq *q, struct readyq_index idx);
READYQ_EXPORT ssize_t readyq_drain(struct readyq *q, struct readyq_index *out,
				   size_t max);
READYQ_EXPORT int readyq_complete(struct readyq *q, struct readyq_index idx,
				  const struct readyq_result *res);
READYQ_EXPORT ssize_t readyq_register_batch(struct readyq *q,
					    const struct readyq_index *idx,
					    size_t n);
READYQ_EXPORT ssize_t readyq_complete_batch(struct readyq *q,
					    const struct readyq_index *idx,
					    const struct readyq_result *res,
					    size_t n);
READYQ_EXPORT int readyq_resume(struct readyq *q, struct readyq_index idx);
READYQ_EXPORT int readyq_resume_signal(struct readyq *q, uint64_t key);

READYQ_EXPORT int readyq_poll_signal(struct readyq *q);
READYQ_EXPORT int readyq_wait(struct readyq *q, int64_t timeout_ns);
READYQ_EXPORT void readyq_shutdown(struct readyq *q);
READYQ_EXPORT int readyq_fd(struct readyq *q);
READYQ_EXPORT int readyq_next_deadline(struct readyq *q, uint64_t *abs_ns);

READYQ_EXPORT uint32_t readyq_throughput(const struct readyq *q);
READYQ_EXPORT int readyq_stats(const struct readyq *q, struct readyq_stats *st);
READYQ_EXPORT const char *readyq_backend_name(enum readyq_backend b);

/*
 * Since 0.2, with READYQ_FLAG_HISTOGRAMS: bucket i counts durations d (ns)
 * with 2^i <= d < 2^(i+1) (bucket 0 also d < 1), since creation.
 */
#define READYQ_HISTOGRAM_BUCKETS 64
READYQ_EXPORT int readyq_delay_histogram(const struct readyq *q,
					 uint64_t *buckets, size_t n);
READYQ_EXPORT int readyq_turn_histogram(const struct readyq *q,
					uint64_t *buckets, size_t n);

/*
 * Result constructors.  Every member is initialized in declaration order
 * (no designated initializers), so that the header is also valid C++11
 * under -Wall -Wextra -Wpedantic: members a constructor does not name are
 * 0, the first enumerator of their type.
 */

static inline struct readyq_result readyq_result_completed(bool ready_hint)
{
	struct readyq_result r = { READYQ_COMPLETED, ready_hint,
				   READYQ_SUSPEND_BACKPRESSURE,
				   READYQ_RESUME_SIGNAL, 0, 0, 0 };
	return r;
}

static inline struct readyq_result readyq_result_yielded(void)
{
	struct readyq_result r = { READYQ_YIELDED, false,
				   READYQ_SUSPEND_BACKPRESSURE,
				   READYQ_RESUME_SIGNAL, 0, 0, 0 };
	return r;
}

static inline struct readyq_result
readyq_result_suspended(enum readyq_suspend_reason why,
			enum readyq_resume_kind on, uint64_t key_or_delay_ns)
{
	struct readyq_result r = { READYQ_SUSPENDED, false, why, on,
				   0, 0, 0 };
	if (on == READYQ_RESUME_SIGNAL)
		r.signal_key = key_or_delay_ns;
	else if (on == READYQ_RESUME_AFTER)
		r.delay_ns = key_or_delay_ns;
	return r;
}

static inline struct readyq_result readyq_result_failed(int error,
						       uint64_t retry_after_ns)
{
	struct readyq_result r = { READYQ_FAILED, false,
				   READYQ_SUSPEND_BACKPRESSURE,
				   READYQ_RESUME_SIGNAL, 0, retry_after_ns,
				   error };
	return r;
}

static inline struct readyq_result readyq_result_stopped(void)
{
	struct readyq_result r = { READYQ_STOPPED, false,
				   READYQ_SUSPEND_BACKPRESSURE,
				   READYQ_RESUME_SIGNAL, 0, 0, 0 };
	return r;
}

#ifdef __cplusplus
}
#endif

#endif /* READYQ_READYQ_H */
