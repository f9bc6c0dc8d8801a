// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * machine.c - what this machine allows: two costs some targets are bound by
 *
 * Overview
 * --------
 * Two of perf/README.md's targets are bounded by the hardware, by how
 * much depends on the machine, so the benchmarks that judge them also
 * measure the bound and print it as a "# bound" line beside the verdict:
 *
 *  - scale (sparse slots within 2x of dense at the largest size): a
 *    register of a slot with no neighbours must read at least one cache
 *    line at a random place of a table far larger than the caches (its
 *    cell, or its bucket), where dense slots walk the table in order.
 *    bq_chase_ns() measures one such read: a pointer chase through a
 *    random cycle of cache lines spread over that many bytes (4 KiB
 *    pages, as the library's tables get), each load waiting for the last.
 *  - steady (<= 5% more CPU per message with READYQ_FLAG_HISTOGRAMS): a
 *    turn reads the clock at least at its queueing and at its end, two
 *    different calls.  bq_clock_read_ns() measures one read of the clock
 *    the library's histograms use (hist.h: the time stamp counter where
 *    it is invariant, else CLOCK_MONOTONIC), back to back.
 *
 * A bound is a lower limit on what any code must spend, not a forecast:
 * when it alone is over a target, the MISS is this machine's.
 */
#include "bench.h"
#include "../lib/tsc.h" /* the library's clock rule */

#include <stdlib.h>
#include <string.h>

#define BQ_CLOCK_READS 4000000ul

/* One cache line of the chase: the index of the next. */
struct bq_line {
	uint32_t next;
	char pad[60];
};

_Static_assert(sizeof(struct bq_line) == 64, "one line per node");

/**
 * bq_chase_ns() - one dependent read at a random place of @bytes
 * @bytes: the region's size (at least two cache lines)
 * @steps: timed reads
 *
 * Context: one thread; allocates @bytes plus 4 bytes per line.
 * Return: process CPU ns per read, or -1 when out of memory.
 */
double bq_chase_ns(size_t bytes, unsigned long steps)
{
	size_t n = bytes / sizeof(struct bq_line), i, j;
	uint64_t x = 0x853c49e6748fea9bull, t0, t;
	struct bq_line *a;
	volatile uint32_t sink;
	uint32_t *perm, at = 0, tmp;

	if (n < 2 || n > UINT32_MAX || !steps)
		return -1;
	a = aligned_alloc(sizeof(*a), n * sizeof(*a));
	perm = malloc(n * sizeof(*perm));
	if (!a || !perm) {
		free(a);
		free(perm);
		return -1;
	}
	for (i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (i = n - 1; i > 0; i--) { /* Fisher-Yates */
		j = (size_t)(bq_xorshift(&x) % (i + 1));
		tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (i = 0; i < n; i++) /* one cycle through every line */
		a[perm[i]].next = perm[(i + 1) % n];
	free(perm);
	for (i = 0; i < n; i++) /* every page mapped and walked once */
		at = a[at].next;
	t0 = bq_cpu_ns();
	for (i = 0; i < steps; i++)
		at = a[at].next;
	t = bq_cpu_ns() - t0;
	sink = at;
	(void)sink;
	free(a);
	return (double)t / (double)steps;
}

/**
 * bq_clock_read_ns() - one read of the histograms' clock
 * @name: set to the clock's name ("rdtsc" or "CLOCK_MONOTONIC")
 *
 * Context: one thread, about 0.05-0.2 s.
 * Return: process CPU ns per read.
 */
double bq_clock_read_ns(const char **name)
{
	volatile uint64_t sink;
	uint64_t t0, sum = 0;
	unsigned long i;

	t0 = bq_cpu_ns();
#ifdef RQ_HAVE_TSC
	if (rq_tsc_invariant()) {
		*name = "rdtsc";
		for (i = 0; i < BQ_CLOCK_READS; i++)
			sum += __rdtsc();
		goto out;
	}
#endif
	*name = "CLOCK_MONOTONIC";
	for (i = 0; i < BQ_CLOCK_READS; i++)
		sum += now_ns();
#ifdef RQ_HAVE_TSC
out:
#endif
	sink = sum;
	(void)sink;
	return (double)(bq_cpu_ns() - t0) / (double)BQ_CLOCK_READS;
}
