// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * locked.c - the futex-locked backend
 *
 * The state machine itself (which transition each call makes) is decided
 * in state.h; this file keeps only how the locked backend stores state.
 *
 * Overview
 * --------
 * One three-state futex lock (struct rq_lock) protects everything:
 *
 *  - a table of per-slot records: open addressing, linear probing,
 *    power-of-two size, at most 80% full.  The home cell of a slot is a
 *    full 32-bit mix of slot >> 3 plus slot & 7, so that slot numbers
 *    that are themselves multiplicative hashes or strides do not
 *    cluster, and eight consecutive slots share one or two cache lines
 *    (dense numbering stays in cache when walked in order).  A record is
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
 * (see waitq.h): the unlock's exchange is the full barrier between
 * publishing nr_queued and reading the sleeper count.  The suspension
 * set's next_deadline mirrors its heap's top for lock-free readers.
 *
 * Histograms (READYQ_FLAG_HISTOGRAMS, hist.h): a queueing's time stamp
 * lives beside its ring entry, in an array of 64-bit stamps allocated
 * with the ring, right after its entries (lk_ring_ts()): the enqueuer
 * writes and the drainer reads them in ring order, eight to a cache line,
 * instead of a line per mailbox passed from the one's CPU to the other's.
 * A turn's start is its drain's time, kept once per drain in a 12-byte
 * struct lk_start that the turns it began share (a RUNNING record's aux
 * names it; the last of them to end frees it), from a pool allocated
 * with the table, after its records (lk_starts()): one more than the
 * records the table holds, so more than turns can be running and a drain
 * never allocates, and a LIFO free list keeps the few in use on hot
 * cache lines instead of a line per mailbox.  Both move with what they
 * stamp; without the flag neither exists and @stamped is false.
 * Recording happens under the lock, and one lock hold reads the clock at
 * most once (lk_now()): a drain and the deadlines it moves, a complete
 * and the requeue it makes, a batch of registers or completes share one
 * reading.
 *
 * Allocation happens only when the table, the ring or the suspension
 * arrays grow, always before anything is changed: a call that gets
 * -ENOMEM leaves the state exactly as it was.
 */
#include "backend.h"
#include "alloc.h"
#include "clock.h"
#include "lock.h"
#include "susp.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

/* A record's word: enum rq_state << 29 | NOTIFIED | 28-bit aux. */
#define LK_STATE_SHIFT (32 - RQ_STATE_BITS)
#define LK_NOTIFIED (1u << (LK_STATE_SHIFT - 1))
#define LK_AUX_MASK (LK_NOTIFIED - 1)
#define LK_MAX_RECORDS (1u << 27) /* tickets (aux) must outnumber records */
#define LK_NIL UINT32_MAX /* a dead ring entry */

/* 2^32 / phi: Fibonacci hashing; groups of LK_GROUP neighbouring slots. */
#define LK_GOLDEN_RATIO_32 0x9e3779b1u
#define LK_FOLD_SHIFT 16
#define LK_GROUP_SHIFT 3
#define LK_GROUP (1u << LK_GROUP_SHIFT)
#define LK_MIN_TABLE_BITS 6
/* Table load: at most 4/5 full (linear probing). */
#define LK_LOAD_NUM 4
#define LK_LOAD_DEN 5
/* Ring slack: nr_rec / LK_RING_SLACK_DIV + LK_RING_SLACK_MIN dead entries. */
#define LK_RING_SLACK_DIV 32
#define LK_RING_SLACK_MIN 16

struct lk_rec {
	uint32_t slot;
	uint32_t gen;
	uint32_t word; /* state << LK_STATE_SHIFT | NOTIFIED | aux */
};

/*
 * The first cache line holds everything a register of a new or idle
 * index touches besides its record and ring entry, so that under
 * contention one line moves with the lock.  What lock-free readers poll
 * (readyq_wait, readyq_poll_signal) lives on a line of its own: pollers
 * spinning on a line that also holds the lock word would steal it from
 * the lock holder at every look.
 *
 * L: @lock.  W: @lock, R: any (a whole value, relaxed or seq_cst load).
 */
struct locked {
	struct rq_lock lock;
	uint8_t tab_bits; /* L */
	bool stamped; /* I: @hist set: stamps after the ring and the table */
	struct lk_rec *tab; /* L: 1 << tab_bits records */
	uint32_t *ring; /* L: table cells, FIFO */
	uint32_t ring_mask; /* L */
	uint32_t head, tail; /* L: tickets; entry t is ring[t & mask] */
	uint32_t nr_rec; /* L */
	uint32_t room; /* L: records that fit without growing anything */
	uint32_t ops; /* L: lock acquisitions since the last contention() */
	uint64_t registered; /* L */
	struct rq_waitq *wq; /* I */

	_Atomic uint32_t nr_queued rq_cacheline_aligned; /* W: lock, R: any */
	struct rq_susp_set ss; /* L (next_deadline W: lock, R: any) */

	/* L: counters and gauges read by stats() only */
	uint64_t duplicates rq_cacheline_aligned;
	uint64_t notified, unregistered, drained, completed, stale, contended;
	size_t nr_running, nr_suspended, nr_delayed;
	struct rq_hist *hist; /* I: the queue's histograms, or NULL */
	uint64_t now; /* L: this lock hold's clock read (lk_now()), 0: none */
	uint32_t start_free; /* L: the first free struct lk_start, or LK_NIL */
};

_Static_assert(offsetof(struct locked, nr_queued) == CAA_CACHE_LINE_SIZE &&
		       offsetof(struct locked, wq) + sizeof(void *) <= 64,
	       "struct locked: hot fields must share the lock's cache line");

/* ---- records ---- */

static inline enum rq_state lk_state(const struct lk_rec *r)
{
	return (enum rq_state)(r->word >> LK_STATE_SHIFT);
}

static inline uint32_t lk_aux(const struct lk_rec *r)
{
	return r->word & LK_AUX_MASK;
}

static inline bool lk_notified(const struct lk_rec *r)
{
	return r->word & LK_NOTIFIED;
}

static inline void lk_set(struct lk_rec *r, enum rq_state state, uint32_t aux,
			  bool notified)
{
	r->word = (uint32_t)state << LK_STATE_SHIFT |
		  (notified ? LK_NOTIFIED : 0) | (aux & LK_AUX_MASK);
}

/*
 * The home cell of @slot in a table of 1 << @bits cells: LK_GROUP
 * consecutive slots share a group, and a group is an aligned run of
 * LK_GROUP cells (one or two cache lines), so dense numbering stays close
 * together.  Groups go to runs by Fibonacci hashing (2^32 / phi), which
 * spreads consecutive groups almost evenly: dense slots hardly ever
 * collide.  Folding the group's high half into its low half first breaks
 * the structure of numbers that are themselves multiplicative hashes,
 * which Fibonacci hashing alone clusters (106 probes per operation at
 * 1k slots numbered i * 2654435761, against under 3 for every numbering
 * now: perf/README.md, "Scale by slot pattern").
 */
static inline uint32_t lk_hash(uint32_t slot, uint32_t bits)
{
	uint32_t group = slot >> LK_GROUP_SHIFT;
	uint32_t run;

	group ^= group >> LK_FOLD_SHIFT;
	run = (uint32_t)(group * LK_GOLDEN_RATIO_32) >>
	      (32 - (bits - LK_GROUP_SHIFT));
	return run << LK_GROUP_SHIFT | (slot & (LK_GROUP - 1));
}

/* The record for @slot, or the empty cell where it would go. */
static struct lk_rec *lk_probe(struct lk_rec *tab, uint32_t bits,
			       uint32_t slot)
{
	uint32_t mask = (1u << bits) - 1, i = lk_hash(slot, bits);

	for (;; i = (i + 1) & mask) {
		struct lk_rec *r = &tab[i];

		if (lk_state(r) == RQ_ST_EMPTY || r->slot == slot)
			return r;
	}
}

static struct lk_rec *lk_lookup(struct locked *b, uint32_t slot)
{
	struct lk_rec *r = lk_probe(b->tab, b->tab_bits, slot);

	return lk_state(r) == RQ_ST_EMPTY ? NULL : r;
}

/*
 * struct lk_start - one drain's time, the start of the turns it began
 * @start: rq_hist_now() ticks, low and high halves (12-byte entries)
 * @refs: in use, those turns still RUNNING (each names this entry in its
 *	aux); free, the next free entry, or LK_NIL
 */
struct lk_start {
	uint32_t start[2];
	uint32_t refs;
};

static inline uint64_t lk_start_time(const struct lk_start *st)
{
	return (uint64_t)st->start[1] << 32 | st->start[0];
}

/*
 * Pool entries for a table of 1 << @bits cells: one more than the records
 * it holds before it grows (LK_LOAD_NUM / LK_LOAD_DEN of the cells), so
 * as many as turns can be running.
 */
static inline uint32_t lk_starts_nr(uint32_t bits)
{
	return (uint32_t)(((uint64_t)LK_LOAD_NUM << bits) / LK_LOAD_DEN) + 1;
}

/* The turn-start pool after table @tab of 1 << @bits cells. */
static inline struct lk_start *lk_starts_of(struct lk_rec *tab, uint32_t bits)
{
	return (struct lk_start *)(void *)(tab + ((size_t)1 << bits));
}

/* The table's turn-start pool (@stamped only): after its records. */
static inline struct lk_start *lk_starts(const struct locked *b)
{
	return lk_starts_of(b->tab, b->tab_bits);
}

/*
 * Link pool entries @from .. @to - 1 in front of the free list.  A new
 * table's entries from the old size on are free; below it, entries keep
 * their index (RUNNING records name them).
 */
static void lk_starts_free_range(struct locked *b, struct lk_start *st,
				 uint32_t from, uint32_t to)
{
	uint32_t i;

	for (i = from; i < to; i++)
		st[i].refs = i + 1 < to ? i + 1 : b->start_free;
	if (from < to)
		b->start_free = from;
}

/*
 * A drain at @now: a free pool entry, with no turn yet.  There is always
 * one: entries in use are at most the RUNNING records, fewer than the
 * pool (lk_starts_nr()).
 */
static uint32_t lk_start_new(struct locked *b, uint64_t now)
{
	struct lk_start *st = lk_starts(b);
	uint32_t i = b->start_free;

	rq_assert(i != LK_NIL);
	b->start_free = st[i].refs;
	st[i].start[0] = (uint32_t)now;
	st[i].start[1] = (uint32_t)(now >> 32);
	st[i].refs = 0;
	return i;
}

/* A turn that began at pool entry @i left RUNNING. */
static void lk_start_put(struct locked *b, uint32_t i)
{
	struct lk_start *st = lk_starts(b);

	if (--st[i].refs)
		return;
	st[i].refs = b->start_free; /* free: the link */
	b->start_free = i;
}

/*
 * The clock, read once per lock hold (@stamped only): lk_lock() forgets
 * the previous hold's reading.  Ticks are never 0 (hist.h).
 */
static inline uint64_t lk_now(struct locked *b)
{
	return rq_hist_lazy(&b->now);
}

/* The queueing stamps of the ring's entries (@stamped only): after them. */
static inline uint64_t *lk_ring_ts(const struct locked *b)
{
	return (uint64_t *)(b->ring + b->ring_mask + 1);
}

/* A ring of 1 << @bits entries, with room for stamps if @stamped. */
static uint32_t *lk_ring_alloc(const struct locked *b, uint32_t bits)
{
	size_t ent = sizeof(uint32_t) + (b->stamped ? sizeof(uint64_t) : 0);

	return rq_malloc(ent << bits);
}

/*
 * A zeroed table of 1 << @bits cells, with room for as many turn starts
 * if @stamped.
 */
static struct lk_rec *lk_tab_alloc(const struct locked *b, uint32_t bits)
{
	size_t starts = b->stamped ? lk_starts_nr(bits) : 0;

	return rq_calloc(1, (sizeof(struct lk_rec) << bits) +
				    sizeof(struct lk_start) * starts);
}

static uint32_t lk_pow2_bits(uint64_t n)
{
	uint32_t bits = LK_MIN_TABLE_BITS;

	while (((uint64_t)1 << bits) < n)
		bits++;
	return bits;
}

static uint32_t lk_ring_need(uint64_t nr_rec)
{
	return lk_pow2_bits(nr_rec + nr_rec / LK_RING_SLACK_DIV +
			    LK_RING_SLACK_MIN);
}

/* Is ring entry @t live?  Returns its record if so. */
static inline struct lk_rec *lk_ring_live(struct locked *b, uint32_t t)
{
	uint32_t cell = b->ring[t & b->ring_mask];
	struct lk_rec *r;

	if (cell == LK_NIL)
		return NULL;
	r = &b->tab[cell];
	if (r->word == ((uint32_t)RQ_ST_QUEUED << LK_STATE_SHIFT |
			(t & LK_AUX_MASK)))
		return r;
	return NULL;
}

static void lk_update_room(struct locked *b)
{
	uint64_t tab = ((uint64_t)LK_LOAD_NUM << b->tab_bits) / LK_LOAD_DEN;
	uint64_t ring = ((uint64_t)b->ring_mask + 1 - LK_RING_SLACK_MIN) *
			LK_RING_SLACK_DIV / (LK_RING_SLACK_DIV + 1);

	b->room = (uint32_t)(tab < ring ? tab : ring);
}

/*
 * Move the ring's entries (and stamps) to @ring (1 << @bits entries),
 * keeping tickets.
 */
static void lk_ring_move(struct locked *b, uint32_t *ring, uint32_t bits)
{
	uint32_t mask = (1u << bits) - 1, t;
	uint64_t *ts = (uint64_t *)(ring + mask + 1);

	for (t = b->head; t != b->tail; t++) {
		ring[t & mask] = b->ring[t & b->ring_mask];
		if (b->stamped)
			ts[t & mask] = lk_ring_ts(b)[t & b->ring_mask];
	}
	rq_free(b->ring);
	b->ring = ring;
	b->ring_mask = mask;
}

/*
 * Move every record to @tab (1 << @bits cells).  Ring entries name table
 * cells: a QUEUED record's live entry sits at its ticket, so point that
 * one at the new cell; every other entry is dead and becomes LK_NIL.
 */
static void lk_table_move(struct locked *b, struct lk_rec *tab, uint32_t bits)
{
	uint32_t i, j, t, old = lk_starts_nr(b->tab_bits);

	for (t = b->head; t != b->tail; t++)
		b->ring[t & b->ring_mask] = LK_NIL;
	for (i = 0; i < (1u << b->tab_bits); i++) {
		struct lk_rec *r = &b->tab[i];

		if (lk_state(r) == RQ_ST_EMPTY)
			continue;
		j = (uint32_t)(lk_probe(tab, bits, r->slot) - tab);
		tab[j] = *r;
		if (lk_state(r) == RQ_ST_QUEUED)
			b->ring[lk_aux(r) & b->ring_mask] = j;
	}
	if (b->stamped) { /* the pool keeps its indices, and grows */
		memcpy(lk_starts_of(tab, bits), lk_starts(b),
		       sizeof(struct lk_start) * old);
		lk_starts_free_range(b, lk_starts_of(tab, bits), old,
				     lk_starts_nr(bits));
	}
	rq_free(b->tab);
	b->tab = tab;
	b->tab_bits = (uint8_t)bits;
}

/*
 * Make room for one more record: grow the table past its load limit and
 * keep the ring at least nr_rec + slack long.  Both allocations happen
 * before either structure changes.
 */
static int lk_grow(struct locked *b)
{
	uint64_t want = (uint64_t)b->nr_rec + 1;
	uint32_t tbits = b->tab_bits, rbits;
	struct lk_rec *tab = NULL;
	uint32_t *ring = NULL;

	if (want > LK_MAX_RECORDS)
		return -ENOMEM;
	if (want * LK_LOAD_DEN > ((uint64_t)LK_LOAD_NUM << tbits))
		tbits++;
	rbits = lk_ring_need(want);
	if (((uint64_t)1 << rbits) <= (uint64_t)b->ring_mask + 1)
		rbits = 0;
	if (tbits != b->tab_bits) {
		tab = lk_tab_alloc(b, tbits);
		if (!tab)
			return -ENOMEM;
	}
	if (rbits) {
		ring = lk_ring_alloc(b, rbits);
		if (!ring) {
			rq_free(tab);
			return -ENOMEM;
		}
		lk_ring_move(b, ring, rbits);
	}
	if (tab)
		lk_table_move(b, tab, tbits);
	lk_update_room(b);
	return 0;
}

static inline int lk_reserve_record(struct locked *b)
{
	if (caa_likely(b->nr_rec < b->room))
		return 0;
	return lk_grow(b);
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
		if (b->stamped)
			lk_ring_ts(b)[w & b->ring_mask] =
				lk_ring_ts(b)[t & b->ring_mask];
		lk_set(r, RQ_ST_QUEUED, w, false);
		w++;
	}
	b->tail = w;
}

/* Only lock holders write nr_queued: no read-modify-write needed. */
static inline void lk_nr_queued_add(struct locked *b, int32_t delta)
{
	uint32_t v = atomic_load_explicit(&b->nr_queued, memory_order_relaxed);

	rq_lock_assert_held(&b->lock);
	atomic_store_explicit(&b->nr_queued, v + (uint32_t)delta,
			      memory_order_relaxed);
}

/* Unlock, then tell the sleepers what @kick says (see waitq.h). */
static inline void lk_unlock_kick(struct locked *b, unsigned int kicks)
{
	rq_unlock(&b->lock);
	if (kicks == RQ_KICK_NONE)
		return;
	rq_smp_mb__after_unlock();
	rq_waitq_kick_for(b->wq, kicks);
}

/* IDLE (or just detached) -> QUEUED at the tail. */
static void lk_enqueue(struct locked *b, struct lk_rec *r)
{
	if (b->tail - b->head > b->ring_mask)
		lk_ring_compact(b);
	b->ring[b->tail & b->ring_mask] = (uint32_t)(r - b->tab);
	if (caa_unlikely(b->stamped))
		lk_ring_ts(b)[b->tail & b->ring_mask] = lk_now(b);
	lk_set(r, RQ_ST_QUEUED, b->tail, false);
	b->tail++;
	lk_nr_queued_add(b, 1);
}

/*
 * QUEUED @r, ring entry @t, drained now: its queue delay; it becomes
 * RUNNING, its turn starting at pool entry @start (see the header).
 */
static void lk_stamp_drain(struct locked *b, struct lk_rec *r, uint32_t t,
			   uint32_t start)
{
	struct lk_start *st = &lk_starts(b)[start];

	rq_hist_delay(b->hist, r->slot, r->gen,
		      lk_ring_ts(b)[t & b->ring_mask], lk_start_time(st));
	st->refs++;
	lk_set(r, RQ_ST_RUNNING, start, false);
}

/* ---- suspension entries ---- */

/*
 * A record whose state is being replaced -> @park's state, with a
 * suspension entry.  rq_susp_reserve() must have succeeded.  Returns true
 * when the earliest deadline moved earlier (sleepers must re-arm).
 */
static bool lk_attach(struct locked *b, struct lk_rec *r,
		      const struct rq_park *park, bool notified)
{
	bool earlier;
	uint32_t s = rq_susp_add(&b->ss, park->kind, park->val, r->slot, NULL,
				 &earlier);

	lk_set(r, park->state, s, notified);
	if (park->state == RQ_ST_SUSPENDED)
		b->nr_suspended++;
	else
		b->nr_delayed++;
	return earlier;
}

/* SUSPENDED/DELAYED -> IDLE: release the suspension entry. */
static void lk_detach(struct locked *b, struct lk_rec *r)
{
	rq_susp_del(&b->ss, lk_aux(r));
	if (lk_state(r) == RQ_ST_SUSPENDED)
		b->nr_suspended--;
	else
		b->nr_delayed--;
	lk_set(r, RQ_ST_IDLE, 0, false);
}

/* SUSPENDED/DELAYED -> QUEUED (resume, signal, due deadline). */
static void lk_wake_parked(struct locked *b, struct lk_rec *r)
{
	lk_detach(b, r);
	lk_enqueue(b, r);
}

/*
 * Whatever is scheduled or running -> IDLE.  Returns true if something
 * scheduled (queued, suspended, delayed) was cancelled.
 */
static bool lk_cancel(struct locked *b, struct lk_rec *r)
{
	switch (lk_state(r)) {
	case RQ_ST_QUEUED: /* the ring entry dies */
		lk_set(r, RQ_ST_IDLE, 0, false);
		lk_nr_queued_add(b, -1);
		return true;
	case RQ_ST_SUSPENDED:
	case RQ_ST_DELAYED:
		lk_detach(b, r);
		return true;
	case RQ_ST_RUNNING:
		b->nr_running--;
		if (b->stamped)
			lk_start_put(b, lk_aux(r));
		lk_set(r, RQ_ST_IDLE, 0, false);
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
		lk_wake_parked(b, lk_lookup(b, (uint32_t)b->ss.e[s].owner));
		n++;
	}
	return n;
}

/* ---- ops ---- */

static inline void lk_lock(struct locked *b)
{
	if (caa_unlikely(rq_lock(&b->lock)))
		b->contended++;
	b->ops++;
	if (caa_unlikely(b->stamped))
		b->now = 0; /* lk_now(): a new hold reads the clock anew */
}

static int lk_create(const struct readyq_config *cfg, struct rq_waitq *wq,
		     struct rq_hist *hist, void **bep)
{
	uint64_t hint = cfg->capacity_hint;
	struct locked *b;

	if (hint > LK_MAX_RECORDS)
		hint = LK_MAX_RECORDS;
	b = rq_zalloc_aligned(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->wq = wq;
	b->hist = hist;
	b->stamped = hist != NULL;
	b->tab_bits = (uint8_t)lk_pow2_bits(hint + hint / 4 + 1);
	b->tab = lk_tab_alloc(b, b->tab_bits);
	b->ring_mask = (1u << lk_ring_need(hint)) - 1;
	b->ring = lk_ring_alloc(b, lk_ring_need(hint));
	if (!b->tab || !b->ring)
		goto out_free;
	b->start_free = LK_NIL;
	if (b->stamped)
		lk_starts_free_range(b, lk_starts(b), 0,
				     lk_starts_nr(b->tab_bits));
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
 * A new IDLE record for @idx (the slot is unknown) in the empty cell @r
 * that lk_probe() found, or, when the table must grow first (or @r is
 * NULL), in the cell found again after it; NULL on -ENOMEM.
 */
static struct lk_rec *lk_new_record_at(struct locked *b, struct lk_rec *r,
				       struct readyq_index idx, int *rc)
{
	*rc = 0;
	if (!r || b->nr_rec >= b->room) {
		*rc = lk_reserve_record(b);
		if (*rc)
			return NULL;
		r = lk_probe(b->tab, b->tab_bits, idx.slot);
	}
	r->slot = idx.slot;
	r->gen = idx.generation;
	lk_set(r, RQ_ST_IDLE, 0, false);
	b->nr_rec++;
	return r;
}

static struct lk_rec *lk_new_record(struct locked *b, struct readyq_index idx,
				    int *rc)
{
	return lk_new_record_at(b, NULL, idx, rc);
}

/*
 * register on @r, the cell lk_probe() found for @idx (its record, or
 * the empty cell where it would go), as rq_reg_decide() says.  Returns
 * 1 if it became QUEUED, 0, -ESTALE or -ENOMEM.
 */
static int lk_register_rec(struct locked *b, struct lk_rec *r,
			   struct readyq_index idx)
{
	int rc;

	if (lk_state(r) == RQ_ST_EMPTY) {
		r = lk_new_record_at(b, r, idx, &rc);
		if (!r)
			return rc;
	}
	switch (rq_reg_decide(lk_state(r), r->gen, idx.generation)) {
	case RQ_REG_STALE:
		b->stale++;
		return -ESTALE;
	case RQ_REG_QUEUE:
		if (idx.generation != r->gen) { /* a newer generation */
			lk_cancel(b, r);
			r->gen = idx.generation;
		}
		lk_enqueue(b, r);
		b->registered++;
		return 1;
	case RQ_REG_DUPLICATE:
		b->duplicates++;
		return 0;
	default: /* RQ_REG_NOTIFY */
		r->word |= LK_NOTIFIED;
		b->notified++;
		return 0;
	}
}

static int lk_reg(void *be, struct readyq_index idx)
{
	struct locked *b = be;
	int rc;

	lk_lock(b);
	rc = lk_register_rec(b, lk_probe(b->tab, b->tab_bits, idx.slot), idx);
	lk_unlock_kick(b, rc == 1 ? RQ_KICK_WORK : RQ_KICK_NONE);
	return rc;
}

/* Registers under one lock hold, then one wake decision. */
static ssize_t lk_reg_batch(void *be, const struct readyq_index *idx,
			    size_t n)
{
	struct locked *b = be;
	unsigned int kicks = RQ_KICK_NONE;
	size_t i;
	int rc = 0;

	lk_lock(b);
	for (i = 0; i < n; i++) {
		rc = lk_register_rec(b, lk_probe(b->tab, b->tab_bits,
						 idx[i].slot),
				     idx[i]);
		if (rc < 0)
			break;
		if (rc == 1)
			kicks = RQ_KICK_WORK;
	}
	lk_unlock_kick(b, kicks);
	return i ? (ssize_t)i : rc;
}

/*
 * The current record of @idx, or NULL with *rc = 0 (unknown slot) or
 * -ESTALE (another generation, or retired).
 */
static struct lk_rec *lk_get_current(struct locked *b,
				     struct readyq_index idx, int *rc)
{
	struct lk_rec *r = lk_lookup(b, idx.slot);

	*rc = 0;
	if (!r)
		return NULL;
	if (!rq_is_current(lk_state(r), r->gen, idx.generation)) {
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
	case RQ_ST_QUEUED:
	case RQ_ST_SUSPENDED:
	case RQ_ST_DELAYED:
		lk_cancel(b, r);
		rc = 1;
		break;
	case RQ_ST_RUNNING:
		rc = lk_notified(r);
		r->word &= ~LK_NOTIFIED;
		break;
	default:
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
	uint32_t start = LK_NIL;
	size_t n = 0, moved;
	struct lk_rec *r;

	lk_lock(b);
	moved = lk_move_due(b);
	while (n < max && b->head != b->tail) {
		r = lk_ring_live(b, b->head++);
		if (!r)
			continue;
		if (caa_unlikely(b->stamped)) {
			if (start == LK_NIL)
				start = lk_start_new(b, lk_now(b));
			lk_stamp_drain(b, r, b->head - 1, start);
		} else {
			lk_set(r, RQ_ST_RUNNING, 0, false);
		}
		out[n].slot = r->slot;
		out[n].generation = r->gen;
		n++;
	}
	lk_nr_queued_add(b, -(int32_t)n);
	b->nr_running += n;
	b->drained += n;
	/* Due entries this drain did not take need another worker. */
	lk_unlock_kick(b, moved && atomic_load_explicit(&b->nr_queued,
							 memory_order_relaxed) ?
				  RQ_KICK_WORK :
				  RQ_KICK_NONE);
	return (ssize_t)n;
}

/*
 * The result applied to a RUNNING record, as rq_turn_end() says.
 * Return: 0 with *@kick set, or -ENOMEM with nothing changed.
 */
static int lk_finish_turn(struct locked *b, struct lk_rec *r,
			  const struct readyq_result *res, enum rq_kick *kick)
{
	bool notified = lk_notified(r);
	struct rq_park park;
	int rc;

	*kick = RQ_KICK_NONE;
	switch (rq_turn_end(res, notified)) {
	case RQ_END_IDLE:
		lk_set(r, RQ_ST_IDLE, 0, false);
		break;
	case RQ_END_REQUEUE:
		lk_enqueue(b, r);
		*kick = RQ_KICK_WORK;
		break;
	case RQ_END_PARK:
		rc = rq_susp_reserve(&b->ss);
		if (rc)
			return rc;
		rq_park_decode(res, &park);
		if (lk_attach(b, r, &park, notified))
			*kick = RQ_KICK_TIMER;
		break;
	case RQ_END_RETIRE:
		lk_set(r, RQ_ST_RETIRED, 0, false);
		break;
	}
	b->nr_running--;
	return 0;
}

/*
 * lk_finish_turn(), and with histograms the turn's time; the turn's pool
 * entry is let go once the record has left RUNNING.
 */
static int lk_end_turn(struct locked *b, struct lk_rec *r,
		       const struct readyq_result *res, enum rq_kick *kick)
{
	uint32_t i;
	int rc;

	if (caa_likely(!b->stamped))
		return lk_finish_turn(b, r, res, kick);
	i = lk_aux(r);
	rc = lk_finish_turn(b, r, res, kick);
	if (!rc) {
		rq_hist_turn(b->hist, r->slot, r->gen,
			     lk_start_time(&lk_starts(b)[i]), lk_now(b));
		lk_start_put(b, i);
	}
	return rc;
}

/* complete() on a record that is not RUNNING: rq_outside_turn(). */
static enum rq_kick lk_outside_turn(struct locked *b, struct lk_rec *r,
				    struct readyq_index idx,
				    const struct readyq_result *res)
{
	switch (rq_outside_turn(res)) {
	case RQ_OUT_REGISTER:
		/* Current generation: cannot be stale, allocates nothing. */
		return lk_register_rec(b, r, idx) == 1 ? RQ_KICK_WORK :
							 RQ_KICK_NONE;
	case RQ_OUT_CANCEL:
		lk_cancel(b, r);
		return RQ_KICK_NONE;
	default: /* RQ_OUT_RETIRE */
		lk_cancel(b, r);
		lk_set(r, RQ_ST_RETIRED, 0, false);
		return RQ_KICK_NONE;
	}
}

/* complete() under the lock: 0 with *@kick set, or a negative errno. */
static int lk_complete_rec(struct locked *b, struct readyq_index idx,
			   const struct readyq_result *res, enum rq_kick *kick)
{
	struct lk_rec *r;
	int rc = 0;

	*kick = RQ_KICK_NONE;
	r = lk_lookup(b, idx.slot);
	if (!r) {
		/* Unknown slot: create it, as register would. */
		r = lk_new_record(b, idx, &rc);
		if (!r)
			goto out;
	} else if (!rq_is_current(lk_state(r), r->gen, idx.generation)) {
		b->stale++;
		rc = -ESTALE;
		goto out;
	}
	if (lk_state(r) == RQ_ST_RUNNING)
		rc = lk_end_turn(b, r, res, kick);
	else
		*kick = lk_outside_turn(b, r, idx, res);
	if (!rc)
		b->completed++;
out:
	return rc;
}

static int lk_complete(void *be, struct readyq_index idx,
		       const struct readyq_result *res)
{
	struct locked *b = be;
	enum rq_kick kick;
	int rc;

	lk_lock(b);
	rc = lk_complete_rec(b, idx, res, &kick);
	lk_unlock_kick(b, kick);
	return rc;
}

/*
 * Completions under one lock hold, then one wake decision: new work
 * wakes a worker; otherwise an earlier deadline re-arms the timer owner.
 */
static ssize_t lk_complete_batch(void *be, const struct readyq_index *idx,
				 const struct readyq_result *res, size_t n)
{
	struct locked *b = be;
	unsigned int kicks = RQ_KICK_NONE;
	enum rq_kick kick;
	size_t i;
	int rc = 0;

	lk_lock(b);
	for (i = 0; i < n; i++) {
		rc = lk_complete_rec(b, idx[i], &res[i], &kick);
		if (rc < 0)
			break;
		kicks |= kick;
	}
	lk_unlock_kick(b, kicks);
	return i ? (ssize_t)i : rc;
}

static int lk_resume(void *be, struct readyq_index idx)
{
	struct locked *b = be;
	struct lk_rec *r;
	int rc;

	lk_lock(b);
	r = lk_get_current(b, idx, &rc);
	if (r && rq_state_parked(lk_state(r))) {
		lk_wake_parked(b, r);
		rc = 1;
	}
	lk_unlock_kick(b, rc == 1 ? RQ_KICK_WORK : RQ_KICK_NONE);
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

		next = e->chain.next;
		if (e->val != key)
			continue;
		lk_wake_parked(b, lk_lookup(b, (uint32_t)e->owner));
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

/* ---- migration (the adaptive backend): no other op runs ---- */

static void lk_export_rec(struct locked *b, const struct lk_rec *r,
			  struct rq_export *x)
{
	memset(x, 0, sizeof(*x));
	x->slot = r->slot;
	x->gen = r->gen;
	x->state = lk_state(r);
	x->notified = lk_notified(r);
	if (b->stamped && lk_state(r) == RQ_ST_RUNNING)
		x->stamp = lk_start_time(&lk_starts(b)[lk_aux(r)]);
	if (rq_state_parked(lk_state(r))) {
		const struct rq_susp *e = &b->ss.e[lk_aux(r)];

		x->wait = e->kind;
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
		if (!r)
			continue;
		lk_export_rec(b, r, &x[k]);
		if (b->stamped) /* a queueing's stamp is its ring entry's */
			x[k].stamp = lk_ring_ts(b)[t & b->ring_mask];
		k++;
	}
	for (i = 0; i < (1u << b->tab_bits); i++) {
		r = &b->tab[i];
		if (lk_state(r) != RQ_ST_EMPTY && lk_state(r) != RQ_ST_QUEUED)
			lk_export_rec(b, r, &x[k++]);
	}
	*out = x;
	*n = k;
	return 0;
}

/* One exported slot in: the import proper, under the lock. */
static int lk_import_locked(struct locked *b, const struct rq_export *x)
{
	struct readyq_index idx = { .slot = x->slot, .generation = x->gen };
	struct rq_park park = { .state = (enum rq_state)x->state,
				.kind = (enum rq_susp_kind)x->wait,
				.val = x->val };
	struct lk_rec *r;
	int rc;

	r = lk_new_record(b, idx, &rc);
	if (!r)
		return rc;
	switch (park.state) {
	case RQ_ST_QUEUED:
		lk_enqueue(b, r);
		if (b->stamped) /* the enqueue time is kept */
			lk_ring_ts(b)[(b->tail - 1) & b->ring_mask] = x->stamp;
		return 0;
	case RQ_ST_SUSPENDED:
	case RQ_ST_DELAYED:
		rc = rq_susp_reserve(&b->ss);
		if (rc)
			return rc;
		lk_attach(b, r, &park, x->notified);
		break;
	case RQ_ST_RUNNING:
		b->nr_running++;
		if (b->stamped) { /* its own pool entry: the start is kept */
			uint32_t i = lk_start_new(b, x->stamp);

			lk_starts(b)[i].refs = 1;
			lk_set(r, RQ_ST_RUNNING, i, x->notified);
			break;
		}
		/* fall through */
	default:
		lk_set(r, park.state, 0, x->notified);
	}
	return 0;
}

/*
 * No other op runs during an import, so the lock is never contended: it
 * is taken so that every change of the state has one rule (L: @lock).
 */
static int lk_import(void *be, const struct rq_export *x)
{
	struct locked *b = be;
	int rc;

	rq_lock(&b->lock);
	b->now = 0; /* as lk_lock() */
	rc = lk_import_locked(b, x);
	rq_unlock(&b->lock);
	return rc;
}

const struct readyq_ops rq_locked_ops = {
	RQ_BACKEND_OPS(lk),
	.contention = lk_contention,
	.export = lk_export,
	.import = lk_import,
};
