// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * susp.c - the suspension set both backends keep SUSPENDED and DELAYED
 *          indices in; the overview and locking rules are in susp.h
 */
#include "susp.h"
#include "alloc.h"

#include <errno.h>
#include <string.h>

#define RQ_SUSP_MIN_CAP 16 /* entries allocated by the first reserve */

void rq_susp_init(struct rq_susp_set *ss, uint32_t max)
{
	memset(ss, 0, sizeof(*ss));
	ss->free = RQ_SUSP_NIL;
	ss->max = max;
	atomic_init(&ss->next_deadline, RQ_NO_DEADLINE);
}

void rq_susp_fini(struct rq_susp_set *ss)
{
	rq_free(ss->e);
	rq_free(ss->heap);
	rq_free(ss->bucket);
}

static void rq_susp_publish(struct rq_susp_set *ss)
{
	uint64_t next = ss->heap_len ? ss->e[ss->heap[0]].val :
				       RQ_NO_DEADLINE;

	atomic_store_explicit(&ss->next_deadline, next, memory_order_seq_cst);
}

static void rq_heap_place(struct rq_susp_set *ss, uint32_t pos, uint32_t s)
{
	ss->heap[pos] = s;
	ss->e[s].heap_pos = pos;
}

static void rq_heap_up(struct rq_susp_set *ss, uint32_t pos)
{
	uint32_t s = ss->heap[pos];

	while (pos) {
		uint32_t parent = (pos - 1) / 2;

		if (ss->e[ss->heap[parent]].val <= ss->e[s].val)
			break;
		rq_heap_place(ss, pos, ss->heap[parent]);
		pos = parent;
	}
	rq_heap_place(ss, pos, s);
}

static void rq_heap_down(struct rq_susp_set *ss, uint32_t pos)
{
	uint32_t s = ss->heap[pos];

	for (;;) {
		uint32_t c = 2 * pos + 1;

		if (c >= ss->heap_len)
			break;
		if (c + 1 < ss->heap_len &&
		    ss->e[ss->heap[c + 1]].val < ss->e[ss->heap[c]].val)
			c++;
		if (ss->e[s].val <= ss->e[ss->heap[c]].val)
			break;
		rq_heap_place(ss, pos, ss->heap[c]);
		pos = c;
	}
	rq_heap_place(ss, pos, s);
}

static void rq_heap_remove(struct rq_susp_set *ss, uint32_t pos)
{
	uint32_t last = ss->heap[--ss->heap_len];

	if (pos == ss->heap_len)
		return;
	rq_heap_place(ss, pos, last);
	rq_heap_up(ss, pos);
	rq_heap_down(ss, ss->e[last].heap_pos);
}

static void rq_chain_link(struct rq_susp_set *ss, uint32_t s)
{
	uint32_t h = rq_susp_bucket(ss, ss->e[s].val);

	ss->e[s].chain.next = ss->bucket[h];
	ss->e[s].chain.prev = RQ_SUSP_NIL;
	if (ss->bucket[h] != RQ_SUSP_NIL)
		ss->e[ss->bucket[h]].chain.prev = s;
	ss->bucket[h] = s;
}

static void rq_chain_unlink(struct rq_susp_set *ss, uint32_t s)
{
	struct rq_susp *e = &ss->e[s];

	if (e->chain.prev != RQ_SUSP_NIL)
		ss->e[e->chain.prev].chain.next = e->chain.next;
	else
		ss->bucket[rq_susp_bucket(ss, e->val)] = e->chain.next;
	if (e->chain.next != RQ_SUSP_NIL)
		ss->e[e->chain.next].chain.prev = e->chain.prev;
}

/**
 * rq_susp_reserve() - make sure rq_susp_add() can take one entry
 * @ss: the set
 *
 * Context: the owner's lock.
 * Return: 0, or -ENOMEM with nothing changed.
 */
int rq_susp_reserve(struct rq_susp_set *ss)
{
	uint32_t cap = ss->cap ? ss->cap * 2 : RQ_SUSP_MIN_CAP, i;
	struct rq_susp *e;
	uint32_t *heap, *bucket;

	if (ss->free != RQ_SUSP_NIL)
		return 0;
	if (cap > ss->max)
		return -ENOMEM;
	e = rq_malloc(sizeof(*e) * cap);
	heap = rq_malloc(sizeof(*heap) * cap);
	bucket = rq_malloc(sizeof(*bucket) * cap);
	if (!e || !heap || !bucket) {
		rq_free(e);
		rq_free(heap);
		rq_free(bucket);
		return -ENOMEM;
	}
	if (ss->cap)
		memcpy(e, ss->e, sizeof(*e) * ss->cap);
	if (ss->heap_len)
		memcpy(heap, ss->heap, sizeof(*heap) * ss->heap_len);
	memset(bucket, 0xff, sizeof(*bucket) * cap);
	for (i = cap; i-- > ss->cap;) {
		e[i].kind = RQ_SK_NONE;
		e[i].spare = NULL;
		e[i].next_free = ss->free;
		ss->free = i;
	}
	rq_susp_fini(ss);
	ss->e = e;
	ss->heap = heap;
	ss->bucket = bucket;
	ss->cap = cap;
	/* Rehash the signal chains into the larger bucket array. */
	for (i = 0; i < cap; i++)
		if (e[i].kind == RQ_SK_SIGNAL)
			rq_chain_link(ss, i);
	return 0;
}

/**
 * rq_susp_add() - file the entry rq_susp_reserve() kept free
 * @ss: the set
 * @kind: what ends the wait
 * @val: the signal key or the deadline
 * @owner: the backend's name for the index (a slot, an entry pointer)
 * @spare: the backend's (rq_susp_del() leaves it alone)
 * @earlier: set to true when the earliest deadline moved earlier
 *
 * The index it returns is rq_susp_next_free() before the call.
 *
 * Context: the owner's lock; rq_susp_reserve() succeeded.
 * Return: the entry's index.
 */
uint32_t rq_susp_add(struct rq_susp_set *ss, enum rq_susp_kind kind,
		     uint64_t val, uintptr_t owner, void *spare, bool *earlier)
{
	uint32_t s = ss->free;
	struct rq_susp *e = &ss->e[s];

	ss->free = e->next_free;
	e->kind = kind;
	e->val = val;
	e->owner = owner;
	e->spare = spare;
	*earlier = false;
	if (kind == RQ_SK_SIGNAL) {
		rq_chain_link(ss, s);
	} else if (kind == RQ_SK_TIMED) {
		ss->heap[ss->heap_len] = s;
		e->heap_pos = ss->heap_len++;
		rq_heap_up(ss, e->heap_pos);
		if (ss->heap[0] == s) {
			rq_susp_publish(ss);
			*earlier = true;
		}
	}
	return s;
}

/**
 * rq_susp_del() - take entry @s out of the heap or its chain and free it
 * @ss: the set
 * @s: the entry
 *
 * Context: the owner's lock.  The entry's spare is the caller's.
 */
void rq_susp_del(struct rq_susp_set *ss, uint32_t s)
{
	struct rq_susp *e = &ss->e[s];

	if (e->kind == RQ_SK_SIGNAL) {
		rq_chain_unlink(ss, s);
	} else if (e->kind == RQ_SK_TIMED) {
		bool top = e->heap_pos == 0;

		rq_heap_remove(ss, e->heap_pos);
		if (top)
			rq_susp_publish(ss);
	}
	e->kind = RQ_SK_NONE;
	e->spare = NULL;
	e->next_free = ss->free;
	ss->free = s;
}
