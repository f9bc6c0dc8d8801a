// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * locked.c - the futex-locked backend, and the reference semantics
 *
 * Overview
 * --------
 * One three-state futex lock (struct rq_lock) protects everything:
 *
 *  - a table of per-slot records: open addressing, linear probing,
 *    Fibonacci hashing, power-of-two size, at most 80% full.  A record is
 *    12 bytes: slot, generation and one word holding the state (3 bits),
 *    the NOTIFIED mark (1 bit) and a 28-bit auxiliary field: the record's
 *    ring ticket while QUEUED, its suspension entry while SUSPENDED or
 *    DELAYED.  Records are never removed (a slot's generation must be
 *    remembered to answer -ESTALE), so no tombstones are needed.
 *
 *  - a ring of table cells: the FIFO.  Entries are validated lazily: the
 *    entry with ticket t (its position) is live only while its record is
 *    QUEUED with ticket t, so cancelling a queued index costs O(1) and
 *    leaves a dead entry behind.  The ring always has room for
 *    nr_records + nr_records / 32 entries, and when it fills up the dead
 *    entries are squeezed out in place: queueing never allocates, so
 *    complete(), resume() and the deadline path cannot fail.  When the
 *    table grows, live entries are pointed at their records' new cells
 *    and dead ones at LK_NIL.
 *
 *  - the suspension set (lib/susp.c, shared with the lock-free backend):
 *    one entry per SUSPENDED or DELAYED index, a binary min-heap of
 *    deadlines and a chained hash of signal keys.
 *
 * Waking: nr_queued is written only under the lock (plain load and store
 * of an atomic, so lock-free readers see whole values); after unlocking,
 * the caller issues rq_smp_mb__after_unlock() and kicks the wait queue
 * (see internal.h): the unlock's exchange is the full barrier between
 * publishing nr_queued and reading the sleeper count.  The suspension
 * set's next_deadline mirrors its heap's top for lock-free readers.
 *
 * Allocation happens only when the table, the ring or the suspension
 * arrays grow, always before anything is changed: a call that gets
 * -ENOMEM leaves the state exactly as it was.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

enum lk_state {
	LK_EMPTY = 0,
	LK_IDLE,
	LK_QUEUED,
	LK_RUNNING,
	LK_SUSPENDED,
	LK_DELAYED,
	LK_RETIRED,
};

#define LK_STATE_SHIFT 29
#define LK_NOTIFIED (1u << 28)
#define LK_AUX_MASK ((1u << 28) - 1)
#define LK_MAX_RECORDS (1u << 27)
#define LK_NIL UINT32_MAX

struct lk_rec {
	uint32_t slot;
	uint32_t gen;
	uint32_t word; /* state << 29 | NOTIFIED | aux */
};

/*
 * The first cache line holds everything a register of a new or idle
 * index touches besides its record and ring entry, so that under
 * contention one line moves with the lock.  What lock-free readers poll
 * (readyq_wait, readyq_poll_signal) lives on a line of its own: pollers
 * spinning on a line that also holds the lock word would steal it from
 * the lock holder at every look.
 */
struct locked {
	struct rq_lock lock;
	uint32_t tab_bits;
	struct lk_rec *tab;
	uint32_t *ring;
	uint32_t ring_mask;
	uint32_t head, tail; /* tickets; entry t lives at ring[t & mask] */
	uint32_t nr_rec;
	uint32_t room; /* records that fit without growing anything */
	uint32_t ops; /* lock acquisitions since the last contention() */
	uint64_t registered;
	struct rq_waitq *wq;

	/* read without the lock */
	_Atomic uint32_t nr_queued rq_aligned;
	struct rq_susp_set ss; /* SUSPENDED and DELAYED: lib/susp.c */

	uint64_t duplicates rq_aligned;
	uint64_t notified, unregistered, drained, completed, stale, contended;
	size_t nr_running, nr_suspended, nr_delayed;
};

_Static_assert(offsetof(struct locked, nr_queued) == RQ_CACHELINE &&
		       offsetof(struct locked, wq) < RQ_CACHELINE,
	       "struct locked: hot fields must share the lock's cache line");

/* ---- records ---- */

static inline unsigned int lk_state(const struct lk_rec *r)
{
	return r->word >> LK_STATE_SHIFT;
}

static inline uint32_t lk_aux(const struct lk_rec *r)
{
	return r->word & LK_AUX_MASK;
}

static inline void lk_set(struct lk_rec *r, unsigned int state, uint32_t aux,
			  bool notified)
{
	r->word = (uint32_t)state << LK_STATE_SHIFT |
		  (notified ? LK_NOTIFIED : 0) | (aux & LK_AUX_MASK);
}

static inline uint32_t lk_hash(uint32_t slot, uint32_t bits)
{
	return (uint32_t)(slot * 0x9e3779b1u) >> (32 - bits);
}

/* The record for @slot, or the empty cell where it would go. */
static struct lk_rec *lk_probe(struct lk_rec *tab, uint32_t bits,
			       uint32_t slot)
{
	uint32_t mask = (1u << bits) - 1, i = lk_hash(slot, bits);

	for (;; i = (i + 1) & mask) {
		struct lk_rec *r = &tab[i];

		if (lk_state(r) == LK_EMPTY || r->slot == slot)
			return r;
	}
}

static struct lk_rec *lk_lookup(struct locked *b, uint32_t slot)
{
	struct lk_rec *r = lk_probe(b->tab, b->tab_bits, slot);

	return lk_state(r) == LK_EMPTY ? NULL : r;
}

static uint32_t lk_pow2_bits(uint64_t n)
{
	uint32_t bits = 6;

	while (((uint64_t)1 << bits) < n)
		bits++;
	return bits;
}

static uint32_t lk_ring_need(uint64_t nr_rec)
{
	return lk_pow2_bits(nr_rec + nr_rec / 32 + 16);
}

/*
 * Make room for one more record: grow the table past 80% load and keep the
 * ring at least nr_rec + nr_rec/32 long.  Both allocations happen before
 * either structure changes.
 */
/* Is ring entry @t live?  Returns its record if so. */
static inline struct lk_rec *lk_ring_live(struct locked *b, uint32_t t)
{
	uint32_t cell = b->ring[t & b->ring_mask];
	struct lk_rec *r;

	if (cell == LK_NIL)
		return NULL;
	r = &b->tab[cell];
	if (r->word == ((uint32_t)LK_QUEUED << LK_STATE_SHIFT |
			(t & LK_AUX_MASK)))
		return r;
	return NULL;
}

static void lk_update_room(struct locked *b)
{
	uint64_t tab = ((uint64_t)4 << b->tab_bits) / 5;
	uint64_t ring = ((uint64_t)b->ring_mask + 1 - 16) * 32 / 33;

	b->room = (uint32_t)(tab < ring ? tab : ring);
}

static int lk_grow(struct locked *b);

static inline int lk_reserve_record(struct locked *b)
{
	if (rq_likely(b->nr_rec < b->room))
		return 0;
	return lk_grow(b);
}

static int lk_grow(struct locked *b)
{
	uint64_t want = (uint64_t)b->nr_rec + 1;
	uint32_t tbits = b->tab_bits, rbits, i;
	struct lk_rec *tab = NULL;
	uint32_t *ring = NULL;

	if (want > LK_MAX_RECORDS)
		return -ENOMEM;
	if (want * 5 > ((uint64_t)4 << tbits))
		tbits++;
	rbits = lk_ring_need(want);
	if (((uint64_t)1 << rbits) <= (uint64_t)b->ring_mask + 1)
		rbits = 0;
	if (tbits == b->tab_bits && !rbits) {
		lk_update_room(b);
		return 0;
	}

	if (tbits != b->tab_bits) {
		tab = rq_calloc((size_t)1 << tbits, sizeof(*tab));
		if (!tab)
			return -ENOMEM;
	}
	if (rbits) {
		ring = rq_malloc(sizeof(*ring) << rbits);
		if (!ring) {
			rq_free(tab);
			return -ENOMEM;
		}
	}

	if (ring) {
		uint32_t mask = (1u << rbits) - 1, t;

		/* Keep tickets: live entries need no renumbering. */
		for (t = b->head; t != b->tail; t++)
			ring[t & mask] = b->ring[t & b->ring_mask];
		rq_free(b->ring);
		b->ring = ring;
		b->ring_mask = mask;
	}
	if (tab) {
		uint32_t t, j;

		/*
		 * Ring entries name table cells.  A QUEUED record's live entry
		 * sits at its ticket, so point that one at the new cell; every
		 * other entry is dead and becomes LK_NIL.
		 */
		for (t = b->head; t != b->tail; t++)
			b->ring[t & b->ring_mask] = LK_NIL;
		for (i = 0; i < (1u << b->tab_bits); i++) {
			struct lk_rec *r = &b->tab[i];

			if (lk_state(r) == LK_EMPTY)
				continue;
			j = (uint32_t)(lk_probe(tab, tbits, r->slot) - tab);
			tab[j] = *r;
			if (lk_state(r) == LK_QUEUED)
				b->ring[lk_aux(r) & b->ring_mask] = j;
		}
		rq_free(b->tab);
		b->tab = tab;
		b->tab_bits = tbits;
	}
	lk_update_room(b);
	return 0;
}

/* Squeeze dead entries out of a full ring, in place, keeping order. */
static void lk_ring_compact(struct locked *b)
{
	uint32_t t, w = b->head;
	struct lk_rec *r;

	for (t = b->head; t != b->tail; t++) {
		r = lk_ring_live(b, t);
		if (!r)
			continue;
		b->ring[w & b->ring_mask] = (uint32_t)(r - b->tab);
		lk_set(r, LK_QUEUED, w, false);
		w++;
	}
	b->tail = w;
}

/* Only lock holders write nr_queued: no read-modify-write needed. */
static inline void lk_nr_queued_add(struct locked *b, int32_t delta)
{
	uint32_t v = atomic_load_explicit(&b->nr_queued, memory_order_relaxed);

	atomic_store_explicit(&b->nr_queued, v + (uint32_t)delta,
			      memory_order_relaxed);
}

/* Unlock, then wake a sleeper for new work (@kick 1) or a deadline (2). */
static inline void lk_unlock_kick(struct locked *b, int kick)
{
	rq_unlock(&b->lock);
	if (kick <= 0)
		return;
	rq_smp_mb__after_unlock();
	if (kick == 1)
		rq_waitq_kick(b->wq);
	else
		rq_waitq_kick_timer(b->wq);
}

/* IDLE (or just detached) -> QUEUED at the tail. */
static void lk_enqueue(struct locked *b, struct lk_rec *r)
{
	if (b->tail - b->head > b->ring_mask)
		lk_ring_compact(b);
	b->ring[b->tail & b->ring_mask] = (uint32_t)(r - b->tab);
	lk_set(r, LK_QUEUED, b->tail, false);
	b->tail++;
	lk_nr_queued_add(b, 1);
}

/* QUEUED -> IDLE; the ring entry dies. */
static void lk_dequeue(struct locked *b, struct lk_rec *r)
{
	lk_set(r, LK_IDLE, 0, false);
	lk_nr_queued_add(b, -1);
}

/* ---- suspension entries ---- */

/*
 * RUNNING (or any state being replaced) -> SUSPENDED/DELAYED with entry
 * @kind.  rq_susp_reserve() must have succeeded.  Returns true when the
 * earliest deadline moved earlier (sleepers must re-arm their timers).
 */
static bool lk_attach(struct locked *b, struct lk_rec *r, unsigned int state,
		      enum rq_susp_kind kind, uint64_t val, bool notified)
{
	bool earlier;
	uint32_t s = rq_susp_add(&b->ss, kind, val, r->slot, NULL, &earlier);

	lk_set(r, state, s, notified);
	if (state == LK_SUSPENDED)
		b->nr_suspended++;
	else
		b->nr_delayed++;
	return earlier;
}

/* SUSPENDED/DELAYED -> IDLE: release the suspension entry. */
static void lk_detach(struct locked *b, struct lk_rec *r)
{
	rq_susp_del(&b->ss, lk_aux(r));
	if (lk_state(r) == LK_SUSPENDED)
		b->nr_suspended--;
	else
		b->nr_delayed--;
	lk_set(r, LK_IDLE, 0, false);
}

/* Whatever is scheduled or running -> IDLE.  Returns true if cancelled. */
static bool lk_cancel(struct locked *b, struct lk_rec *r)
{
	switch (lk_state(r)) {
	case LK_QUEUED:
		lk_dequeue(b, r);
		return true;
	case LK_SUSPENDED:
	case LK_DELAYED:
		lk_detach(b, r);
		return true;
	case LK_RUNNING:
		b->nr_running--;
		lk_set(r, LK_IDLE, 0, false);
		return false;
	default:
		return false;
	}
}

/* Move every due deadline to the queue.  Returns how many moved. */
static size_t lk_move_due(struct locked *b)
{
	uint64_t now;
	size_t n = 0;
	uint32_t s;

	if (!b->ss.heap_len)
		return 0;
	now = rq_now_ns();
	while ((s = rq_susp_due(&b->ss, now)) != RQ_SUSP_NIL) {
		struct lk_rec *r = lk_lookup(b, (uint32_t)b->ss.e[s].owner);

		lk_detach(b, r);
		lk_enqueue(b, r);
		n++;
	}
	return n;
}

/* ---- ops ---- */

static inline void lk_lock(struct locked *b)
{
	if (rq_unlikely(rq_lock(&b->lock)))
		b->contended++;
	b->ops++;
}

static int lk_create(const struct readyq_config *cfg, struct rq_waitq *wq,
		     void **bep)
{
	uint64_t hint = cfg->capacity_hint;
	struct locked *b;

	if (hint > LK_MAX_RECORDS)
		hint = LK_MAX_RECORDS;
	b = rq_zalloc_aligned(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->wq = wq;
	b->tab_bits = lk_pow2_bits(hint + hint / 4 + 1);
	b->tab = rq_calloc((size_t)1 << b->tab_bits, sizeof(*b->tab));
	b->ring_mask = (1u << lk_ring_need(hint)) - 1;
	b->ring = rq_malloc(sizeof(*b->ring) * ((size_t)b->ring_mask + 1));
	if (!b->tab || !b->ring)
		goto out_free;
	rq_susp_init(&b->ss, LK_MAX_RECORDS);
	lk_update_room(b);
	atomic_init(&b->nr_queued, 0);
	*bep = b;
	return 0;

out_free:
	rq_free(b->tab);
	rq_free(b->ring);
	rq_free(b);
	return -ENOMEM;
}

static void lk_destroy(void *be)
{
	struct locked *b = be;

	rq_free(b->tab);
	rq_free(b->ring);
	rq_susp_fini(&b->ss);
	rq_free(b);
}

/*
 * The record for @idx as register sees it: created IDLE if the slot is
 * unknown, reset to IDLE if @idx is a newer generation.  NULL with *rc set
 * on -ESTALE or -ENOMEM.
 */
static struct lk_rec *lk_get_for_register(struct locked *b,
					  struct readyq_index idx, int *rc)
{
	struct lk_rec *r = lk_probe(b->tab, b->tab_bits, idx.slot);

	if (lk_state(r) == LK_EMPTY) {
		if (rq_unlikely(b->nr_rec >= b->room)) {
			*rc = lk_grow(b);
			if (*rc)
				return NULL;
			r = lk_probe(b->tab, b->tab_bits, idx.slot);
		}
		r->slot = idx.slot;
		r->gen = idx.generation;
		lk_set(r, LK_IDLE, 0, false);
		b->nr_rec++;
		return r;
	}
	if (idx.generation < r->gen ||
	    (idx.generation == r->gen && lk_state(r) == LK_RETIRED)) {
		b->stale++;
		*rc = -ESTALE;
		return NULL;
	}
	if (idx.generation > r->gen) {
		lk_cancel(b, r);
		lk_set(r, LK_IDLE, 0, false);
		r->gen = idx.generation;
	}
	return r;
}

/* register on a current record; returns 1 if it became QUEUED. */
static int lk_register_rec(struct locked *b, struct lk_rec *r)
{
	switch (lk_state(r)) {
	case LK_IDLE:
		lk_enqueue(b, r);
		b->registered++;
		return 1;
	case LK_QUEUED:
		b->duplicates++;
		return 0;
	default: /* RUNNING, SUSPENDED, DELAYED: remember */
		r->word |= LK_NOTIFIED;
		b->notified++;
		return 0;
	}
}

static int lk_reg(void *be, struct readyq_index idx)
{
	struct locked *b = be;
	struct lk_rec *r;
	int rc;

	lk_lock(b);
	r = lk_get_for_register(b, idx, &rc);
	if (r)
		rc = lk_register_rec(b, r);
	lk_unlock_kick(b, rc);
	return rc;
}

/* The current record of @idx, or NULL with *rc = 0 (unknown slot) or
 * -ESTALE (other generation, or retired). */
static struct lk_rec *lk_get_current(struct locked *b,
				     struct readyq_index idx, int *rc)
{
	struct lk_rec *r = lk_lookup(b, idx.slot);

	*rc = 0;
	if (!r)
		return NULL;
	if (r->gen != idx.generation || lk_state(r) == LK_RETIRED) {
		b->stale++;
		*rc = -ESTALE;
		return NULL;
	}
	return r;
}

static int lk_unreg_rec(struct locked *b, struct lk_rec *r)
{
	int rc = 0;

	switch (lk_state(r)) {
	case LK_QUEUED:
	case LK_SUSPENDED:
	case LK_DELAYED:
		lk_cancel(b, r);
		rc = 1;
		break;
	case LK_RUNNING:
		rc = !!(r->word & LK_NOTIFIED);
		r->word &= ~LK_NOTIFIED;
		break;
	}
	b->unregistered += rc;
	return rc;
}

static int lk_unreg(void *be, struct readyq_index idx)
{
	struct locked *b = be;
	struct lk_rec *r;
	int rc;

	lk_lock(b);
	r = lk_get_current(b, idx, &rc);
	if (r)
		rc = lk_unreg_rec(b, r);
	rq_unlock(&b->lock);
	return rc;
}

static ssize_t lk_drain(void *be, struct readyq_index *out, size_t max)
{
	struct locked *b = be;
	size_t n = 0, moved;
	struct lk_rec *r;

	lk_lock(b);
	moved = lk_move_due(b);
	while (n < max && b->head != b->tail) {
		r = lk_ring_live(b, b->head++);
		if (!r)
			continue;
		lk_set(r, LK_RUNNING, 0, false);
		out[n].slot = r->slot;
		out[n].generation = r->gen;
		n++;
	}
	lk_nr_queued_add(b, -(int32_t)n);
	b->nr_running += n;
	b->drained += n;
	/* Due entries this drain did not take need another worker. */
	lk_unlock_kick(b, moved && atomic_load_explicit(&b->nr_queued,
							 memory_order_relaxed));
	return (ssize_t)n;
}

/*
 * The result applied to a RUNNING record.  Returns 1 when it became
 * QUEUED, 2 when the earliest deadline moved earlier, 0 otherwise, or
 * -ENOMEM with nothing changed.
 */
static int lk_finish_turn(struct locked *b, struct lk_rec *r,
			  const struct readyq_result *res)
{
	bool notified = r->word & LK_NOTIFIED;
	enum rq_susp_kind kind;
	unsigned int state;
	uint64_t val;
	int rc;

	switch (res->outcome) {
	case READYQ_COMPLETED:
		if (res->ready_hint || notified)
			goto requeue;
		goto idle;
	case READYQ_YIELDED:
		goto requeue;
	case READYQ_FAILED:
		if (!res->delay_ns) {
			if (notified)
				goto requeue;
			goto idle;
		}
		state = LK_DELAYED;
		kind = RQ_SK_TIMED;
		val = rq_deadline_after(rq_now_ns(), res->delay_ns);
		break;
	case READYQ_SUSPENDED:
		state = LK_SUSPENDED;
		if (res->resume_on == READYQ_RESUME_SIGNAL) {
			kind = RQ_SK_SIGNAL;
			val = res->signal_key;
		} else if (res->resume_on == READYQ_RESUME_AFTER) {
			kind = RQ_SK_TIMED;
			val = rq_deadline_after(rq_now_ns(), res->delay_ns);
		} else {
			kind = RQ_SK_CAPACITY;
			val = 0;
		}
		break;
	default: /* READYQ_STOPPED */
		b->nr_running--;
		lk_set(r, LK_RETIRED, 0, false);
		return 0;
	}
	rc = rq_susp_reserve(&b->ss);
	if (rc)
		return rc;
	b->nr_running--;
	return lk_attach(b, r, state, kind, val, notified) ? 2 : 0;

requeue:
	b->nr_running--;
	lk_enqueue(b, r);
	return 1;
idle:
	b->nr_running--;
	lk_set(r, LK_IDLE, 0, false);
	return 0;
}

/* The seed's rules for complete() on an index that is not RUNNING. */
static int lk_apply_outside_turn(struct locked *b, struct lk_rec *r,
				 const struct readyq_result *res)
{
	switch (res->outcome) {
	case READYQ_COMPLETED:
		if (res->ready_hint)
			return lk_register_rec(b, r);
		/* fall through */
	case READYQ_SUSPENDED:
	case READYQ_FAILED:
		lk_cancel(b, r);
		return 0;
	case READYQ_YIELDED:
		return lk_register_rec(b, r);
	default: /* READYQ_STOPPED */
		lk_cancel(b, r);
		lk_set(r, LK_RETIRED, 0, false);
		return 0;
	}
}

static int lk_complete(void *be, struct readyq_index idx,
		       const struct readyq_result *res)
{
	struct locked *b = be;
	struct lk_rec *r;
	int rc;

	lk_lock(b);
	r = lk_lookup(b, idx.slot);
	if (!r) {
		/* Unknown slot: create it, as register would. */
		r = lk_get_for_register(b, idx, &rc);
		if (!r)
			goto out;
	} else if (r->gen != idx.generation || lk_state(r) == LK_RETIRED) {
		b->stale++;
		rc = -ESTALE;
		goto out;
	}
	if (lk_state(r) == LK_RUNNING) {
		rc = lk_finish_turn(b, r, res);
		if (rc >= 0)
			b->completed++;
	} else {
		rc = lk_apply_outside_turn(b, r, res);
		b->completed++;
	}
out:
	lk_unlock_kick(b, rc);
	return rc < 0 ? rc : 0;
}

static int lk_resume(void *be, struct readyq_index idx)
{
	struct locked *b = be;
	struct lk_rec *r;
	int rc;

	lk_lock(b);
	r = lk_get_current(b, idx, &rc);
	if (r && (lk_state(r) == LK_SUSPENDED || lk_state(r) == LK_DELAYED)) {
		lk_detach(b, r);
		lk_enqueue(b, r);
		rc = 1;
	}
	lk_unlock_kick(b, rc);
	return rc;
}

static int lk_resume_signal(void *be, uint64_t key)
{
	struct locked *b = be;
	uint32_t s, next;
	int n = 0;

	lk_lock(b);
	for (s = rq_susp_chain(&b->ss, key); s != RQ_SUSP_NIL; s = next) {
		struct rq_susp *e = &b->ss.e[s];
		struct lk_rec *r;

		next = e->a;
		if (e->val != key)
			continue;
		r = lk_lookup(b, (uint32_t)e->owner);
		lk_detach(b, r);
		lk_enqueue(b, r);
		if (n < INT_MAX)
			n++;
	}
	rq_unlock(&b->lock);
	rq_smp_mb__after_unlock();
	rq_waitq_kick_n(b->wq, n);
	return n;
}

static int lk_poll(void *be)
{
	struct locked *b = be;

	if (atomic_load_explicit(&b->nr_queued, memory_order_seq_cst))
		return 1;
	return rq_susp_any_due(&b->ss);
}

static uint64_t lk_next_deadline(void *be)
{
	struct locked *b = be;

	return rq_susp_next_deadline(&b->ss);
}

static void lk_stats(void *be, struct readyq_stats *st)
{
	struct locked *b = be;

	rq_lock(&b->lock);
	st->registered = b->registered;
	st->duplicates = b->duplicates;
	st->notified = b->notified;
	st->unregistered = b->unregistered;
	st->drained = b->drained;
	st->completed = b->completed;
	st->stale = b->stale;
	st->queued = atomic_load_explicit(&b->nr_queued, memory_order_relaxed);
	st->running = b->nr_running;
	st->suspended = b->nr_suspended;
	st->delayed = b->nr_delayed;
	st->active = READYQ_BACKEND_LOCKED;
	rq_unlock(&b->lock);
}

/* The adaptive meter: lock acquisitions, and how many met the lock held. */
static uint64_t lk_contention(void *be, uint64_t *ops)
{
	struct locked *b = be;
	uint64_t c;

	rq_lock(&b->lock);
	*ops = b->ops;
	c = b->contended;
	b->ops = 0;
	b->contended = 0;
	rq_unlock(&b->lock);
	return c;
}

static const uint8_t lk_to_x[] = {
	[LK_IDLE] = RQ_X_IDLE,	       [LK_QUEUED] = RQ_X_QUEUED,
	[LK_RUNNING] = RQ_X_RUNNING,   [LK_SUSPENDED] = RQ_X_SUSPENDED,
	[LK_DELAYED] = RQ_X_DELAYED,   [LK_RETIRED] = RQ_X_RETIRED,
};

static const uint8_t lk_from_x[] = {
	[RQ_X_IDLE] = LK_IDLE,	       [RQ_X_QUEUED] = LK_QUEUED,
	[RQ_X_RUNNING] = LK_RUNNING,   [RQ_X_SUSPENDED] = LK_SUSPENDED,
	[RQ_X_DELAYED] = LK_DELAYED,   [RQ_X_RETIRED] = LK_RETIRED,
};

static void lk_export_rec(struct locked *b, const struct lk_rec *r,
			  struct rq_export *x)
{
	unsigned int st = lk_state(r);

	memset(x, 0, sizeof(*x));
	x->slot = r->slot;
	x->gen = r->gen;
	x->state = lk_to_x[st];
	x->notified = r->word & LK_NOTIFIED;
	if (st == LK_SUSPENDED || st == LK_DELAYED) {
		const struct rq_susp *e = &b->ss.e[lk_aux(r)];

		x->wait = rq_sk_to_xw[e->kind];
		x->val = e->val;
	}
}

static int lk_export(void *be, struct rq_export **out, size_t *n)
{
	struct locked *b = be;
	struct rq_export *x;
	struct lk_rec *r;
	size_t k = 0;
	uint32_t i, t;

	x = rq_malloc(sizeof(*x) * (b->nr_rec ? b->nr_rec : 1));
	if (!x)
		return -ENOMEM;
	for (t = b->head; t != b->tail; t++) {
		r = lk_ring_live(b, t);
		if (r)
			lk_export_rec(b, r, &x[k++]);
	}
	for (i = 0; i < (1u << b->tab_bits); i++) {
		r = &b->tab[i];
		if (lk_state(r) != LK_EMPTY && lk_state(r) != LK_QUEUED)
			lk_export_rec(b, r, &x[k++]);
	}
	*out = x;
	*n = k;
	return 0;
}

static int lk_import(void *be, const struct rq_export *x)
{
	struct locked *b = be;
	unsigned int st = lk_from_x[x->state];
	struct lk_rec *r;
	int rc;

	rc = lk_reserve_record(b);
	if (rc)
		return rc;
	r = lk_probe(b->tab, b->tab_bits, x->slot);
	r->slot = x->slot;
	r->gen = x->gen;
	lk_set(r, LK_IDLE, 0, false);
	b->nr_rec++;
	switch (st) {
	case LK_QUEUED:
		lk_enqueue(b, r);
		break;
	case LK_SUSPENDED:
	case LK_DELAYED:
		rc = rq_susp_reserve(&b->ss);
		if (rc)
			return rc;
		lk_attach(b, r, st, rq_xw_to_sk[x->wait], x->val,
			  x->notified);
		break;
	case LK_RUNNING:
		b->nr_running++;
		/* fall through */
	default:
		lk_set(r, st, 0, x->notified);
	}
	return 0;
}

const struct readyq_ops rq_locked_ops = {
	.name = "locked",
	.create = lk_create,
	.destroy = lk_destroy,
	.reg = lk_reg,
	.unreg = lk_unreg,
	.drain = lk_drain,
	.complete = lk_complete,
	.resume = lk_resume,
	.resume_signal = lk_resume_signal,
	.poll = lk_poll,
	.next_deadline = lk_next_deadline,
	.stats = lk_stats,
	.contention = lk_contention,
	.export = lk_export,
	.import = lk_import,
};
