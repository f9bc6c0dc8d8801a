/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * alloc.h - the library's allocator (lib/alloc.c)
 *
 * Every allocation the library makes goes through these, so that a test
 * build can make the Nth one fail.  The release library has no such hook:
 * fault injection (rq_alloc_fail_nth(), rq_alloc_count()) exists only when
 * RQ_FAULT_INJECTION is defined, which Makefile.am does for the copy of
 * the library the tests link (lib/libreadyq_test.la).
 *
 * Context: any thread; no locks taken.
 */
#ifndef READYQ_ALLOC_H
#define READYQ_ALLOC_H

#include <stddef.h>

void *rq_malloc(size_t size);
void *rq_calloc(size_t nmemb, size_t size);
/* Zeroed and aligned to CAA_CACHE_LINE_SIZE. */
void *rq_zalloc_aligned(size_t size);
void rq_free(void *p);

#ifdef RQ_FAULT_INJECTION
/*
 * The @nth allocation from now on (1 = the next) fails, 0 disables.
 * rq_alloc_count() is how many allocations were attempted since the last
 * rq_alloc_fail_nth() call.  Exact in single-threaded tests.
 */
void rq_alloc_fail_nth(unsigned long nth);
unsigned long rq_alloc_count(void);
#endif

#endif /* READYQ_ALLOC_H */
