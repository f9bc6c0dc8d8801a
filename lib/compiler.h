/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * compiler.h - compiler and architecture helpers, taken from liburcu
 *
 * The library uses liburcu's own: caa_likely()/caa_unlikely(),
 * caa_cpu_relax() (the spin-wait hint), CAA_CACHE_LINE_SIZE (128 on x86,
 * where the adjacent-line prefetcher pairs 64-byte lines) and
 * cmm_barrier().  What liburcu lacks is defined here.
 *
 * Debug builds (configure --enable-debug, RQ_DEBUG) check the locking
 * rules stated in field annotations with rq_assert(); release builds
 * compile the checks away.
 *
 * Field annotations, as in the kernel: a comment beside a field names what
 * protects it, e.g. "L: lock" (read and written under @lock), "W: lock, R:
 * any" (written under @lock, read without it as a whole value), "A"
 * (atomic, any thread), "I" (set at creation, read-only after).
 */
#ifndef READYQ_COMPILER_H
#define READYQ_COMPILER_H

#include <urcu/arch.h>
#include <urcu/compiler.h>

/* Thread-local storage reached without a call (initial-exec model). */
#define rq_thread_local __thread __attribute__((tls_model("initial-exec")))

/* Aligned to its own cache line (pair): no false sharing with the next. */
#define rq_cacheline_aligned __attribute__((aligned(CAA_CACHE_LINE_SIZE)))

#ifdef RQ_DEBUG
#include <stdio.h>
#include <stdlib.h>
#define rq_assert(cond)                                                        \
	do {                                                                   \
		if (caa_unlikely(!(cond))) {                                   \
			fprintf(stderr, "libreadyq: %s:%d: %s: assertion "     \
				"'%s' failed\n", __FILE__, __LINE__, __func__, \
				#cond);                                        \
			abort();                                               \
		}                                                              \
	} while (0)
#else
#define rq_assert(cond) ((void)sizeof(!(cond)))
#endif

#endif /* READYQ_COMPILER_H */
