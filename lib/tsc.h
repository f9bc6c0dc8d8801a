/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tsc.h - the time stamp counter, which the histograms' clock uses where
 * it is invariant (hist.h, hist.c)
 *
 * RQ_HAVE_TSC is defined on x86; rq_tsc_invariant() says whether CPUID
 * promises a constant rate in every power state (the power leaf's
 * invariant-TSC bit), the condition for taking rdtsc as a clock.
 * Self-contained, so that perf/machine.c times the clock the library
 * reads by the library's own rule.
 *
 * Context: any thread; CPUID only.
 */
#ifndef READYQ_TSC_H
#define READYQ_TSC_H

#include <stdbool.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <x86intrin.h>
#define RQ_HAVE_TSC 1

#define RQ_CPUID_POWER_LEAF 0x80000007u
#define RQ_CPUID_INVARIANT_TSC (1u << 8) /* EDX of the power leaf */

static inline bool rq_tsc_invariant(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_max(0x80000000u, NULL) < RQ_CPUID_POWER_LEAF)
		return false;
	if (!__get_cpuid(RQ_CPUID_POWER_LEAF, &a, &b, &c, &d))
		return false;
	return d & RQ_CPUID_INVARIANT_TSC;
}
#endif

#endif /* READYQ_TSC_H */
