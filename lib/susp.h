/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * susp.h - the suspension set: SUSPENDED and DELAYED indices (lib/susp.c)
 *
 * One entry (struct rq_susp) per suspended or delayed index, in an array
 * with a free list.  Entries waiting for a deadline sit in a binary
 * min-heap; entries waiting for a signal key sit in a chained hash of
 * keys; capacity waits are in neither.  The earliest deadline is mirrored
 * in @next_deadline (seq_cst store) for lock-free readers.
 *
 * Locking: none here.  The owning backend serialises every call (the
 * locked backend's lock, the lock-free backend's @rare lock); only
 * @next_deadline (rq_susp_next_deadline(), rq_susp_any_due()) may be read
 * without it.
 *
 * Allocation: rq_susp_reserve() grows the arrays before the caller
 * changes any state, so that rq_susp_add() never fails.
 */
#ifndef READYQ_SUSP_H
#define READYQ_SUSP_H

#include "clock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* 2^64 / phi: Fibonacci hashing (Knuth) of 64-bit keys. */
#define RQ_GOLDEN_RATIO_64 0x9e3779b97f4a7c15ull

#define RQ_SUSP_NIL UINT32_MAX

/* What ends a wait; also the wait of an exported slot (state.h). */
enum rq_susp_kind {
	RQ_SK_NONE, /* a free entry; an exported slot that waits for nothing */
	RQ_SK_SIGNAL, /* in a signal-key chain; @val is the key */
	RQ_SK_TIMED, /* in the deadline heap; @val is the deadline */
	RQ_SK_CAPACITY, /* waits for readyq_resume() only */
};

struct rq_susp {
	uint64_t val; /* signal key or deadline */
	uintptr_t owner; /* the backend's name for the index */
	void *spare; /* the backend's */
	union {
		struct {
			uint32_t next, prev;
		} chain; /* RQ_SK_SIGNAL: links in the key's bucket */
		uint32_t heap_pos; /* RQ_SK_TIMED: position in @heap */
		uint32_t next_free; /* RQ_SK_NONE: the free list */
	};
	uint32_t kind; /* enum rq_susp_kind */
};

/* L: the owner's lock, except @next_deadline (W: lock, R: any). */
struct rq_susp_set {
	_Atomic uint64_t next_deadline; /* the heap's top, for lock-free reads */
	struct rq_susp *e;
	uint32_t *heap; /* entry indices, min-heap on val */
	uint32_t *bucket; /* signal-key chain heads */
	uint32_t cap, free, heap_len, max;
};

void rq_susp_init(struct rq_susp_set *ss, uint32_t max);
void rq_susp_fini(struct rq_susp_set *ss);
int rq_susp_reserve(struct rq_susp_set *ss);
uint32_t rq_susp_add(struct rq_susp_set *ss, enum rq_susp_kind kind,
		     uint64_t val, uintptr_t owner, void *spare, bool *earlier);
void rq_susp_del(struct rq_susp_set *ss, uint32_t s);

/* The index the next rq_susp_add() will return. */
static inline uint32_t rq_susp_next_free(const struct rq_susp_set *ss)
{
	return ss->free;
}

/* The earliest deadline, read without the owner's lock. */
static inline uint64_t rq_susp_next_deadline(struct rq_susp_set *ss)
{
	return atomic_load_explicit(&ss->next_deadline, memory_order_seq_cst);
}

/* Is a deadline due now?  Lock-free, for the backends' poll. */
static inline bool rq_susp_any_due(struct rq_susp_set *ss)
{
	uint64_t next = rq_susp_next_deadline(ss);

	return next != RQ_NO_DEADLINE && next <= rq_now_ns();
}

/* The entry with the earliest deadline if it is due at @now, else NIL. */
static inline uint32_t rq_susp_due(const struct rq_susp_set *ss, uint64_t now)
{
	return ss->heap_len && ss->e[ss->heap[0]].val <= now ? ss->heap[0] :
							       RQ_SUSP_NIL;
}

static inline uint32_t rq_susp_bucket(const struct rq_susp_set *ss,
				      uint64_t key)
{
	return (uint32_t)((key * RQ_GOLDEN_RATIO_64) >> 32) &
	       (ss->cap - 1);
}

/* The first entry of @key's chain (compare val: chains are shared). */
static inline uint32_t rq_susp_chain(const struct rq_susp_set *ss,
				     uint64_t key)
{
	return ss->cap ? ss->bucket[rq_susp_bucket(ss, key)] : RQ_SUSP_NIL;
}

#endif /* READYQ_SUSP_H */
