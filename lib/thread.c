// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * thread.c - numbering threads for counter shards, and thread slots;
 * see thread.h
 */
#include "thread.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

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

/* ---- thread slots (thread.h, "Thread slots") ---- */

rq_thread_local uint32_t rq_thread_slot_nr;

static _Atomic uint64_t rq_slot_map; /* A: bit s set: slot s is taken */
static pthread_key_t rq_slot_key;
static pthread_once_t rq_slot_once = PTHREAD_ONCE_INIT;
static bool rq_slot_key_ok; /* written once under rq_slot_once */

/* At thread exit (key destructor): the slot goes back to the map. */
static void rq_slot_release(void *v)
{
	uint32_t s = (uint32_t)(uintptr_t)v - 1;

	/* Release: this thread's counter stores before the next owner's. */
	atomic_fetch_and_explicit(&rq_slot_map, ~(1ull << s),
				  memory_order_release);
	/* A later destructor that records again claims a slot anew. */
	rq_thread_slot_nr = 0;
}

static void rq_slot_key_init(void)
{
	rq_slot_key_ok = !pthread_key_create(&rq_slot_key, rq_slot_release);
}

/* dlclose(): no destructor may point into the unmapped library. */
__attribute__((destructor)) static void rq_slot_key_fini(void)
{
	if (rq_slot_key_ok)
		pthread_key_delete(rq_slot_key);
}

/* The lowest free slot, claimed (acquire); RQ_THREAD_NO_SLOT if none. */
static uint32_t rq_slot_claim(void)
{
	uint64_t m = atomic_load_explicit(&rq_slot_map, memory_order_relaxed);
	uint32_t s;

	do {
		if (m == UINT64_MAX)
			return RQ_THREAD_NO_SLOT;
		s = (uint32_t)__builtin_ctzll(~m);
	} while (!atomic_compare_exchange_weak_explicit(
		&rq_slot_map, &m, m | (1ull << s), memory_order_acquire,
		memory_order_relaxed));
	return s;
}

/**
 * rq_thread_slot_slow() - rq_thread_slot() at a thread's first call
 *
 * Without a key (pthread_key_create() failed) no slot could be given
 * back at exit, so none is handed out.
 *
 * Context: any thread.  One compare-and-swap on the slot map.
 * Return: the slot, or RQ_THREAD_NO_SLOT (kept for this thread).
 */
uint32_t rq_thread_slot_slow(void)
{
	uint32_t s = RQ_THREAD_NO_SLOT;
	void *v;

	pthread_once(&rq_slot_once, rq_slot_key_init);
	if (rq_slot_key_ok)
		s = rq_slot_claim();
	if (s != RQ_THREAD_NO_SLOT) {
		v = (void *)(uintptr_t)(s + 1);
		if (pthread_setspecific(rq_slot_key, v)) {
			rq_slot_release(v); /* no destructor would free it */
			s = RQ_THREAD_NO_SLOT;
		}
	}
	rq_thread_slot_nr = s + 1;
	return s;
}

/**
 * rq_thread_fork_child() - in a forked child, free the other threads' slots
 *
 * Context: the pthread_atfork() child handler (only this thread exists).
 */
void rq_thread_fork_child(void)
{
	uint32_t s = rq_thread_slot_nr;

	atomic_store_explicit(&rq_slot_map,
			      s && s <= RQ_THREAD_SLOTS ? 1ull << (s - 1) : 0,
			      memory_order_relaxed);
}
