// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alloc.c - the library's allocator, with a fault-injection hook for tests
 *
 * Every allocation the library makes goes through rq_malloc() or
 * rq_calloc().  Tests call rq_alloc_fail_nth(n) to make the nth next
 * allocation return NULL, then check that the failing call returned
 * -ENOMEM and left the state unchanged.  The counters are relaxed atomics:
 * exact in single-threaded tests, approximate but harmless otherwise.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

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

void *rq_malloc(size_t size)
{
	if (rq_unlikely(rq_alloc_should_fail()))
		return NULL;
	return malloc(size);
}

void *rq_calloc(size_t nmemb, size_t size)
{
	if (rq_unlikely(rq_alloc_should_fail()))
		return NULL;
	return calloc(nmemb, size);
}

void *rq_zalloc_aligned(size_t size)
{
	void *p;

	if (rq_unlikely(rq_alloc_should_fail()))
		return NULL;
	if (posix_memalign(&p, RQ_CACHELINE, size))
		return NULL;
	return memset(p, 0, size);
}

void rq_free(void *p)
{
	free(p);
}
