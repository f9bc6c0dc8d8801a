// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * thread.c - numbering threads for counter shards; see thread.h
 */
#include "thread.h"

#include <stdatomic.h>

rq_thread_local uint32_t rq_thread_nr;

static _Atomic uint32_t rq_next_thread_nr;

/* This thread's first rq_thread_id(): give it the next number, never 0. */
uint32_t rq_thread_id_slow(void)
{
	uint32_t t = atomic_fetch_add_explicit(&rq_next_thread_nr, 1,
					       memory_order_relaxed) + 1;

	rq_thread_nr = t ? t : 1;
	return rq_thread_nr;
}
