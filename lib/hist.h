/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hist.h - queue-delay and turn-time histograms (READYQ_FLAG_HISTOGRAMS)
 *
 * Overview
 * --------
 * A queue created with READYQ_FLAG_HISTOGRAMS owns one struct rq_hist
 * (lib/core.c); every backend instance of the queue (both of an adaptive
 * one) records into it, so nothing has to be carried over when the
 * adaptive backend migrates but the per-slot stamps (struct rq_export).
 * Without the flag the pointer the backends get is NULL and they store
 * no stamp at all: one predicted branch per op.
 *
 * Stamps are rq_hist_now() ticks: the time stamp counter where it is
 * invariant (x86-64 with the invariant-TSC CPUID bit), calibrated once
 * against CLOCK_MONOTONIC, else CLOCK_MONOTONIC nanoseconds.  A slot's
 * stamp is its enqueue time while QUEUED and its drain time while
 * RUNNING; the backends keep stamps beside (never inside) their per-slot
 * records, written where state.h's transitions happen:
 *
 *   ->QUEUED        stamp = now
 *   QUEUED->RUNNING rq_hist_delay(now - stamp); stamp = now
 *   RUNNING->end    rq_hist_turn(now - stamp)   (a complete's turn end)
 *
 * Counters are sharded per thread and summed on read: a thread with a
 * thread slot (lib/thread.h) owns the shard of that number in every
 * queue and adds with a plain load and store (no locked instruction: the
 * slot is no other live thread's, and a slot handed over orders the old
 * owner's stores before the new owner's); threads without one share the
 * last shard, with relaxed atomic adds (rq_slot_count()).  Each
 * counter is monotonic as read by any thread (one writer, or RMWs);
 * per-bucket sums are exact when no call is in flight.  65 KiB per
 * queue with the flag.
 *
 * Context: any thread; no locks.
 */
#ifndef READYQ_HIST_H
#define READYQ_HIST_H

#include "compiler.h"
#include "clock.h"
#include "probes.h"
#include "thread.h"
#include "tsc.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RQ_HIST_BUCKETS 64 /* bucket i: 2^i <= ns < 2^(i+1) */
#define RQ_HIST_SHARDS RQ_SLOT_SETS /* one per thread slot, one shared */
#define RQ_TSC_SHIFT 32 /* ns = ticks * mult >> RQ_TSC_SHIFT */

enum rq_hist_kind {
	RQ_HIST_DELAY, /* QUEUED -> the drain that returned it */
	RQ_HIST_TURN, /* that drain -> its complete */
	RQ_HIST_KINDS,
};

struct rq_hist_shard {
	_Atomic uint64_t n[RQ_HIST_KINDS][RQ_HIST_BUCKETS]; /* A: relaxed */
} rq_cacheline_aligned;

/*
 * struct rq_hist - one queue's histograms
 * @sh: A: per-thread shards, summed on read (relaxed loads); W: the
 *	owning thread (relaxed load and store), or any thread for the
 *	shared last one (relaxed RMW)
 * @q: I: the queue, for the USDT probes (the handle other probes carry)
 */
struct rq_hist {
	struct rq_hist_shard sh[RQ_HIST_SHARDS];
	const void *q;
};

/*
 * struct rq_hist_clock - what rq_hist_now() counts
 * @tsc: I: ticks are the time stamp counter (else CLOCK_MONOTONIC ns)
 * @mult: I: with @tsc, ns per tick << RQ_TSC_SHIFT
 *
 * Set once (rq_hist_new()'s pthread_once) before the first queue with
 * histograms exists, read-only after.
 */
struct rq_hist_clock {
	bool tsc;
	uint64_t mult;
};

extern struct rq_hist_clock rq_hist_clock;

struct rq_hist *rq_hist_new(const void *q);
void rq_hist_free(struct rq_hist *h);
void rq_hist_read(const struct rq_hist *h, enum rq_hist_kind k,
		  uint64_t *buckets, size_t n);

/* Now, in ticks: only differences of two stamps mean anything. */
static inline uint64_t rq_hist_now(void)
{
#ifdef RQ_HAVE_TSC
	if (caa_likely(rq_hist_clock.tsc))
		return __rdtsc();
#endif
	return rq_now_ns();
}

/*
 * One call's clock reading, taken at its first use: *@now is 0 until
 * then (ticks are never 0), so that what one call stamps (a batch, a
 * complete and the requeue it makes) costs one read.
 */
static inline uint64_t rq_hist_lazy(uint64_t *now)
{
	if (!*now)
		*now = rq_hist_now();
	return *now;
}

/* @to - @from in ns; 0 when @to is earlier (TSC skew between CPUs). */
static inline uint64_t rq_hist_ns(uint64_t from, uint64_t to)
{
	uint64_t d = to - from;

	if ((int64_t)d <= 0)
		return 0;
#ifdef RQ_HAVE_TSC
	if (rq_hist_clock.tsc)
		return (uint64_t)(((unsigned __int128)d * rq_hist_clock.mult) >>
				  RQ_TSC_SHIFT);
#endif
	return d;
}

static inline unsigned int rq_hist_bucket(uint64_t ns)
{
	return ns ? 63 - (unsigned int)__builtin_clzll(ns) : 0;
}

static inline void rq_hist_add(struct rq_hist *h, enum rq_hist_kind k,
			       uint64_t ns)
{
	rq_slot_count(h->sh, n[k][rq_hist_bucket(ns)], 1);
}

/* An index stamped @stamp drained at @now: its queue delay. */
static inline void rq_hist_delay(struct rq_hist *h, uint32_t slot,
				 uint32_t gen, uint64_t stamp, uint64_t now)
{
	uint64_t ns = rq_hist_ns(stamp, now);

	rq_hist_add(h, RQ_HIST_DELAY, ns);
	rq_probe(delay, h->q, slot, gen, ns);
}

/* A turn that began (was drained) at @stamp ended at @now. */
static inline void rq_hist_turn(struct rq_hist *h, uint32_t slot,
				uint32_t gen, uint64_t stamp, uint64_t now)
{
	uint64_t ns = rq_hist_ns(stamp, now);

	rq_hist_add(h, RQ_HIST_TURN, ns);
	rq_probe(turn, h->q, slot, gen, ns);
}

#endif /* READYQ_HIST_H */
