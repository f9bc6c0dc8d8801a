// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * hist.c - the histograms' clock, allocation and reading (see hist.h)
 *
 * The clock: on x86-64 rdtsc costs 12.7 ns per read where
 * clock_gettime(CLOCK_MONOTONIC) through the vDSO costs 33 ns (AMD EPYC,
 * kvm guest with the tsc clocksource; perf/README.md, "Histogram
 * clock"), and a message takes two or three stamps.  The TSC is used when
 * CPUID says it is invariant (constant rate, runs in every C-state),
 * calibrated against CLOCK_MONOTONIC over RQ_TSC_CALIBRATE_NS when the
 * first queue with histograms is created; elsewhere CLOCK_MONOTONIC.
 */
#include "alloc.h"
#include "hist.h"

#include <pthread.h>
#include <string.h>

#define RQ_TSC_CALIBRATE_NS 1000000ull /* 1 ms of spinning, once */

struct rq_hist_clock rq_hist_clock;
static pthread_once_t rq_hist_once = PTHREAD_ONCE_INIT;

#ifdef RQ_HAVE_TSC
/* ns per tick << RQ_TSC_SHIFT, over RQ_TSC_CALIBRATE_NS; 0: unusable. */
static uint64_t rq_tsc_calibrate(void)
{
	uint64_t t0 = rq_now_ns(), c0 = __rdtsc(), t1, c1;

	do
		t1 = rq_now_ns();
	while (t1 - t0 < RQ_TSC_CALIBRATE_NS);
	c1 = __rdtsc();
	if (c1 <= c0)
		return 0;
	return (uint64_t)(((unsigned __int128)(t1 - t0) << RQ_TSC_SHIFT) /
			  (c1 - c0));
}
#endif

static void rq_hist_clock_init(void)
{
#ifdef RQ_HAVE_TSC
	uint64_t mult;

	if (!rq_tsc_invariant())
		return;
	mult = rq_tsc_calibrate();
	if (!mult)
		return;
	rq_hist_clock.mult = mult;
	rq_hist_clock.tsc = true;
#endif
}

/**
 * rq_hist_new() - the histograms of a new queue, all counters 0
 * @q: the queue handle, carried by the USDT probes
 *
 * The first call calibrates the clock (hist.c's header).
 *
 * Return: the histograms, or NULL on -ENOMEM.
 */
struct rq_hist *rq_hist_new(const void *q)
{
	struct rq_hist *h;

	pthread_once(&rq_hist_once, rq_hist_clock_init);
	h = rq_zalloc_aligned(sizeof(*h));
	if (h)
		h->q = q;
	return h;
}

void rq_hist_free(struct rq_hist *h)
{
	rq_free(h);
}

/**
 * rq_hist_read() - one histogram, folded into @n buckets
 * @h: the histograms
 * @k: which
 * @buckets: where to store them
 * @n: 1 to RQ_HIST_BUCKETS; buckets @n - 1 and up add into the last
 */
void rq_hist_read(const struct rq_hist *h, enum rq_hist_kind k,
		  uint64_t *buckets, size_t n)
{
	unsigned int s, i;

	memset(buckets, 0, n * sizeof(*buckets));
	for (i = 0; i < RQ_HIST_BUCKETS; i++)
		for (s = 0; s < RQ_HIST_SHARDS; s++)
			buckets[i < n ? i : n - 1] += atomic_load_explicit(
				&h->sh[s].n[k][i], memory_order_relaxed);
}
