/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * thread.h - a small number for each thread, to pick counter shards
 *
 * Per-thread counters (the lock-free backend's shards, the wait queue's
 * and the histograms') are indexed by rq_thread_id() modulo their shard
 * count, so that threads numbered one after the other use different
 * shards.  Numbers start at 1 and are never reused; they wrap after 2^32
 * threads (skipping 0), which only makes two threads share a shard.
 *
 * Context: any thread.  The first call of a thread takes one relaxed
 * atomic add on a process-wide counter; later calls read TLS only.
 */
#ifndef READYQ_THREAD_H
#define READYQ_THREAD_H

#include "compiler.h"

#include <stdint.h>

extern rq_thread_local uint32_t rq_thread_nr; /* 0: not numbered yet */

uint32_t rq_thread_id_slow(void);

static inline uint32_t rq_thread_id(void)
{
	uint32_t t = rq_thread_nr;

	return caa_likely(t) ? t : rq_thread_id_slow();
}

#endif /* READYQ_THREAD_H */
