/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tsan.h - happens-before annotations for ThreadSanitizer
 *
 * liburcu 0.13.2's atomics are inline assembly that ThreadSanitizer does
 * not understand, so data handed from one thread to another through
 * liburcu (a node published by cds_wfcq_enqueue() and taken by a dequeue,
 * memory freed by a call_rcu callback after read-side sections used it)
 * looks racy.  Code that relies on such a handoff states it:
 *
 *	rq_tsan_release(node);		before cds_wfcq_enqueue(..., node)
 *	rq_tsan_acquire(node);		after the dequeue returned node
 *
 * For RCU reclamation release a per-queue marker at the end of every
 * read-side section and acquire it in the callback.  Outside TSan builds
 * the macros are empty.  Atomics we write ourselves use <stdatomic.h>,
 * which ThreadSanitizer understands: no annotation needed.  The few
 * races inside liburcu itself are suppressed in tests/tsan.supp.
 */
#ifndef READYQ_TSAN_H
#define READYQ_TSAN_H

#if defined(__SANITIZE_THREAD__)
#define RQ_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RQ_TSAN 1
#endif
#endif

#ifdef RQ_TSAN
#include <sanitizer/tsan_interface.h>
#define rq_tsan_release(p) __tsan_release((void *)(p))
#define rq_tsan_acquire(p) __tsan_acquire((void *)(p))
#else
#define rq_tsan_release(p) ((void)(p))
#define rq_tsan_acquire(p) ((void)(p))
#endif

#endif /* READYQ_TSAN_H */
