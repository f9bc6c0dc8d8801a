// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alloc.c - the library's allocator; see alloc.h
 *
 * Built twice: into the release library, where these are plain malloc(3)
 * calls, and with RQ_FAULT_INJECTION into the copy of the library that
 * the tests link, where rq_alloc_fail_nth(n) makes the nth next
 * allocation return NULL, so that tests can check that the failing call
 * returned -ENOMEM and left the state unchanged.
 */
#include "alloc.h"
#include "compiler.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef RQ_FAULT_INJECTION
/* Relaxed: exact in single-threaded tests, harmless otherwise. */
static _Atomic unsigned long rq_alloc_calls;
static _Atomic unsigned long rq_alloc_fail_at;

void rq_alloc_fail_nth(unsigned long nth)
{
	atomic_store_explicit(&rq_alloc_calls, 0, memory_order_relaxed);
	atomic_store_explicit(&rq_alloc_fail_at, nth, memory_order_relaxed);
}

unsigned long rq_alloc_count(void)
{
	return atomic_load_explicit(&rq_alloc_calls, memory_order_relaxed);
}

static bool rq_alloc_should_fail(void)
{
	unsigned long n = atomic_fetch_add_explicit(&rq_alloc_calls, 1,
						    memory_order_relaxed) + 1;
	unsigned long at = atomic_load_explicit(&rq_alloc_fail_at,
						memory_order_relaxed);

	return at && n == at;
}
#else
static inline bool rq_alloc_should_fail(void)
{
	return false;
}
#endif

void *rq_malloc(size_t size)
{
	if (caa_unlikely(rq_alloc_should_fail()))
		return NULL;
	return malloc(size);
}

void *rq_calloc(size_t nmemb, size_t size)
{
	if (caa_unlikely(rq_alloc_should_fail()))
		return NULL;
	return calloc(nmemb, size);
}

void *rq_zalloc_aligned(size_t size)
{
	void *p;

	if (caa_unlikely(rq_alloc_should_fail()))
		return NULL;
	if (posix_memalign(&p, CAA_CACHE_LINE_SIZE, size))
		return NULL;
	return memset(p, 0, size);
}

void rq_free(void *p)
{
	free(p);
}
