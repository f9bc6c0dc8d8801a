// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lockfree.c - the lock-free backend: urcu wfcqueue + rculfhash
 *
 * Overview
 * --------
 * Per-slot state lives in resident 24-byte entries (struct lf_ent).  The
 * nodes of an RCU lock-free resizable hash table (rculfhash, bp flavour,
 * so callers never register threads) are regions of 32 consecutive slots
 * (struct lf_region, key slot >> 5, 48 bytes): the first slot of a
 * region ever seen lives in the region itself, and a second slot brings
 * a page of 32 entries (struct lf_page, 768 bytes, one unused) for the
 * others.  So a lone slot (strided, hashed, random numbering) costs 48
 * bytes plus its share of the bucket table, and a dense run 26 bytes per
 * slot.  Regions are carved from a per-queue arena (no allocator header
 * per region).  Nothing is removed before readyq_destroy(): a slot's
 * generation must be remembered anyway to answer -ESTALE, so normal
 * operation needs no reclamation and no grace period at all, and a region
 * found by a lookup stays valid after rcu_read_unlock().  Each thread
 * caches the regions it used last, direct-mapped (tagged with the
 * queue's unique id, never its address): 256 to 2,048 on the heap once
 * it has missed once, 8 in TLS before that or when that allocation
 * failed (lf_cache_at()), so registering neighbouring slots, or tens of
 * thousands of dense mailboxes, skips the lookup.  And
 * each counter shard keeps a ring of the last LF_RECENT entries its
 * drains handed out (struct lf_recent), so that the complete of a turn
 * just drained finds its entry without a lookup whatever the numbering
 * (a lone slot's lookup costs two to three cache misses once the table
 * outgrows the cache).  Why regions and not a node per slot: every
 * rculfhash node must be deleted before cds_lfht_destroy(), and deletes
 * are not cheap (perf/README.md, "Why pages"); a dense queue has one node
 * per 32 slots.
 *
 * The table grows in step with the inserts (lf_grow(): the inserting
 * thread doubles it when regions outnumber buckets twice over), not with
 * liburcu's AUTO_RESIZE, whose worker lags a burst of inserts by up to
 * 8x in size and left chains of dozens of regions while it caught up.
 *
 * The state of an entry (enum rq_state; every transition is decided in
 * state.h) is one 64-bit atomic word:
 *
 *	63..32 generation | 31..29 state | 28 NOTIFIED | 27 LINKED | 26..0 aux
 *
 * State 0 (EMPTY) is a slot never seen; it behaves as IDLE with whatever
 * generation the caller brings.  aux is the queue ticket while QUEUED and
 * the suspension entry while SUSPENDED or DELAYED.  Every transition is
 * one compare-and-swap on the word (claim-then-queue, like the kernel
 * workqueue's PENDING bit): the thread whose CAS makes the word QUEUED,
 * and only that thread, puts a queue link for it into the FIFO.
 *
 * The FIFO is one urcu wait-free concurrent queue.  The entry's embedded
 * link is used while it is free (LINKED clear); LINKED says it sits in the
 * queue.  An index cancelled while queued and queued again before the
 * drainer has passed its old link gets a small separately allocated
 * element (struct lf_qel) carrying a non-zero ticket, so that it goes to
 * the tail, not to its old place.  A link is live only while the word is
 * QUEUED with the link's ticket (0 = the embedded link); the drainer drops
 * dead links, frees elements and clears LINKED when it pops the embedded
 * one.  Dead links are bounded by the cancel-and-requeue cycles between
 * two drains.  Tickets come from a 27-bit queue-wide counter (skipping 0;
 * a collision needs 2^27 requeues of one slot between two drains).
 *
 * Locks and ordering rules:
 *
 *  - register takes no lock on any of its hot transitions (EMPTY/IDLE ->
 *    QUEUED, duplicate, RUNNING -> NOTIFIED, first registration of a slot
 *    or of a page); only a generation reset of a SUSPENDED or DELAYED
 *    entry takes @rare.
 *  - @drain_lock serialises dequeuers (wfcqueue requires it).  Dequeue is
 *    nonblocking: on CDS_WFCQ_WOULDBLOCK (an enqueuer between its xchg and
 *    its next-pointer store) drain returns the shorter batch instead of
 *    sleeping.  Only the drainer clears LINKED, after it is done with the
 *    node; a thread that sets LINKED with its CAS re-initialises the node
 *    before enqueueing it.
 *  - @rare protects the suspension set (lib/susp.c: entries, deadline heap,
 *    signal-key chains).  A word in SUSPENDED or DELAYED changes only under
 *    @rare, except for the drainer clearing LINKED; so LINKED can only go
 *    from 1 to 0 there, and queue elements needed to resume can be
 *    allocated before anything changes.  Lock order: @drain_lock, then
 *    @rare.
 *  - Counters live in per-thread shards (128-byte aligned, summed on
 *    read).  "Queued" is q_in - q_out: q_in is incremented (seq_cst RMW)
 *    after the CAS that makes a word QUEUED and the push of its link,
 *    q_out after the CAS that leaves QUEUED (a drain: before it drops
 *    @drain_lock).  poll loads every q_in, then every q_out: an index it
 *    counts was pushed before its first load and not yet counted out at
 *    its last, so a wait that returns 0 saw real work (no empty wake-up
 *    from an enqueue in flight).  It can miss an index: between the CAS
 *    and the increment, or when a q_out it sees belongs to an index
 *    whose q_in came after its loads.  Each such q_in increment comes
 *    after poll's loads, and is followed by a kick, which sees the
 *    sleeper that announced itself before polling: no lost wake-up.
 *    That seq_cst increment is the publication rq_waitq_kick() requires.
 *    Dead links are not counted.  registered counts successful register
 *    CASes on its own, so that, as a plain sum, it never steps back.
 *  - next_deadline mirrors the heap's top (seq_cst store under @rare);
 *    the earliest deadline moving earlier kicks the timer owner.
 *
 * Histograms (READYQ_FLAG_HISTOGRAMS, hist.h): with @hist set, every
 * region's slots live in its page, even the first (r->first stays EMPTY,
 * only its slot names the region), and pages are arrays of struct
 * lf_sent: each entry followed by its 64-bit stamp (lf_stamp()), 32
 * bytes, cache-line aligned, so that the stamp travels between the
 * enqueuer's and the drainer's CPUs with the line of the entry's word,
 * not as a second miss (lf_page_ent()).  The thread whose CAS makes a
 * word QUEUED stores the enqueue time before it pushes the link, so the
 * drainer that pops the link reads it; the drainer stores the drain
 * time, the turn's owner reads it at complete.  One clock reading serves
 * a whole call (rq_hist_lazy(): a batch, a complete and its requeue).  (A
 * register of a newer generation that races a drain of the old one can
 * shorten that one sample: stamps are measurements, never state.)
 * Without the flag no page carries stamps and lone slots stay in their
 * region: the hot paths test one pointer on a line they read anyway.
 *
 * Allocation: a first registration in a region may allocate an arena
 * chunk, the first registration of another slot of a region its page, a
 * register or complete that queues an entry whose embedded link is still
 * in the queue a 24-byte element, a suspension the suspension arrays
 * (and, when its embedded link is still queued, the element it will need
 * to be queued again, so that resume, resume_signal and due deadlines
 * never allocate): always before the state changes, so -ENOMEM leaves
 * the state as it was.  A shard's first drain allocates its ring of
 * recent entries; when that fails the drain goes on without it.
 *
 * liburcu 0.13.2 rules: cds_lfht_destroy() needs an empty table and must
 * not run inside a read-side section, nor may cds_lfht_resize() (which
 * runs in the caller, with helper threads for large tables); destroy pops
 * every link, deletes every region from the table in short read-side
 * sections, destroys the table outside them and only then frees the
 * pages and the arena.
 */
#include <config.h>
#ifndef RQ_URCU_NO_INLINE /* see configure.ac */
#define _LGPL_SOURCE
#endif
#include "backend.h"
#include "alloc.h"
#include "clock.h"
#include "lock.h"
#include "susp.h"
#include "thread.h"
#include "tsan.h"

#include <urcu-bp.h>
#include <urcu/rculfhash.h>
#include <urcu/wfcqueue.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

/* The low half of a word: enum rq_state, NOTIFIED, LINKED, 27-bit aux. */
#define LF_STATE_SHIFT (32 - RQ_STATE_BITS)
#define LF_STATE_MASK ((1u << RQ_STATE_BITS) - 1)
#define LF_NOTIFIED (1ull << (LF_STATE_SHIFT - 1))
#define LF_LINKED (1ull << (LF_STATE_SHIFT - 2))
#define LF_AUX_MASK ((1u << (LF_STATE_SHIFT - 2)) - 1)
#define LF_MAX_SUSP (1u << 26) /* suspension entries: fit in aux */

#define LF_NR_SHARDS 16
#define LF_PAGE_SHIFT 5
#define LF_PAGE (1u << LF_PAGE_SHIFT)
#define LF_MIN_BUCKETS 256ul
#define LF_MAX_BUCKETS (1ul << 27)
/* Regions per bucket before the table doubles (mean chain 1-2). */
#define LF_MAX_LOAD 2
/* Region arena chunks: the first holds 16 regions, each next twice. */
#define LF_CHUNK_MIN 16u
#define LF_CHUNK_MAX 4096u
/*
 * The initial (and minimum) bucket count follows capacity_hint up to
 * here: 64 KiB of buckets, 128 K slots before the first resize.  Above
 * it, creating and destroying an empty table took seconds (2^28 slots:
 * 4.3 s to destroy); the table grows by itself anyway.
 */
#define LF_MAX_INIT_BUCKETS (1ul << 12)
/* What cds_lfht_new() allocates besides the buckets, generously. */
#define LF_LFHT_OVERHEAD (16ul << 10)

/* A queue link: ticket 0 is an entry's own link, others are lf_qel. */
struct lf_link {
	struct cds_wfcq_node node;
	uint32_t ticket;
	uint32_t slot; /* the entry's slot (own link only) */
};

struct lf_ent {
	_Atomic uint64_t word;
	struct lf_link link;
};

/* The entries of a region's LF_PAGE slots (one of them unused). */
struct lf_page {
	struct lf_ent ent[LF_PAGE];
};

/*
 * An entry of a page with stamps (@hist set): its rq_hist_now() ticks
 * on the same cache line as its word.
 */
struct lf_sent {
	struct lf_ent e;
	_Atomic uint64_t ts; /* A: see the header, "Histograms" */
};

_Static_assert(sizeof(struct lf_sent) == 32 &&
		       CAA_CACHE_LINE_SIZE % sizeof(struct lf_sent) == 0,
	       "struct lf_sent: an entry and its stamp share a cache line");

/*
 * struct lf_region - the hash table's unit: LF_PAGE consecutive slots
 * @hnode: the rculfhash node, key slot >> LF_PAGE_SHIFT
 * @first: I (its slot): the entry of the first slot of the region ever
 *	seen, for life; a region whose other slots are never used costs
 *	48 bytes
 * @page: A (set once, NULL -> page, by compare-and-swap): the entries of
 *	the other slots, allocated when a second slot of the region comes
 *
 * 48 bytes, carved from the queue's arena (struct lf_chunk), so no
 * allocator header or rounding is paid per region.
 */
struct lf_region {
	struct cds_lfht_node hnode;
	struct lf_ent first;
	struct lf_page *_Atomic page;
};

/* Region arena: chunks are never freed before destroy. */
struct lf_chunk {
	struct lf_chunk *next; /* I: the chunk carved before this one */
	uint32_t cap; /* I: regions in @r */
	_Atomic uint32_t used; /* A: regions handed out (may pass @cap) */
	struct lf_region r[];
};

struct lf_qel {
	struct lf_link link;
	struct lf_ent *ent;
};

/*
 * struct lf_recent - the entries a shard's drains handed out last
 * @cursor: A: the ring position the next complete looks at first
 * @end: A: the position after the last drain's entries; a complete
 *	looks only at [@cursor, @end), so it never touches an entry drained
 *	long ago (out of cache) once the last batch is done
 * @ent: A (written under @drain_lock, release; read with acquire): the
 *	last LF_RECENT entries drained by the threads of the shard, in
 *	drain order, NULL where none yet
 *
 * A complete of a slot that its thread has just drained finds the entry
 * here instead of in the hash table (two to three cache misses per lookup
 * once the table outgrows the cache).  Every pointer ever stored is an
 * entry of this queue, and entries live until readyq_destroy(), as does
 * the ring; an entry's slot (link.slot) never changes once published.
 * So a reader needs no lock and no read-side section: it takes the
 * pointer at @cursor and uses it only if the entry's slot is the one it
 * looks for (two threads sharing a shard, or completes in another order,
 * only make it miss and look in the table).  What the entry's word says
 * is checked by the caller as for any entry (generation, state).
 */
#define LF_RECENT 1024u
#define LF_RECENT_WINDOW 2u

struct lf_recent {
	_Atomic uint32_t cursor, end;
	struct lf_ent *_Atomic ent[LF_RECENT];
};

/*
 * Per-thread counters that poll reads, summed on read.  All A (relaxed
 * unless noted); RMWs, since threads share a shard by rq_thread_id().
 */
struct lf_shard {
	_Atomic uint64_t q_in; /* seq_cst: after the CAS to QUEUED and push */
	_Atomic uint64_t q_out; /* after a CAS that leaves QUEUED */
	/* A: set once (NULL -> ring, release CAS) by the shard's first drain */
	struct lf_recent *_Atomic recent;
	uint32_t recent_pos; /* D: where the next drained entry goes */
} rq_cacheline_aligned;

/*
 * struct lf_stat - the statistics only readyq_stats() reads, per thread
 * slot (lib/thread.h): the set of a thread's slot is its own, counted
 * with a plain load and store (rq_slot_add()); threads without a slot
 * share the last set, with RMWs.  A, summed on read; each is counted
 * after the CAS it counts, and is monotonic as read.
 */
struct lf_stat {
	_Atomic uint64_t run_out, drained, registered, duplicates;
	_Atomic uint64_t notified, unregistered, completed, stale;
} rq_cacheline_aligned;

/*
 * I: set at creation.  A: atomic, any thread.  D: @drain_lock.
 * R: @rare.  X: only with no other op in flight (import).
 */
struct lockfree {
	struct lf_shard sh[LF_NR_SHARDS]; /* A */
	struct lf_stat st[RQ_SLOT_SETS]; /* A: see struct lf_stat */

	struct __cds_wfcq_head qhead rq_cacheline_aligned; /* D */
	struct rq_lock drain_lock;
	struct cds_wfcq_tail qtail rq_cacheline_aligned; /* A (enqueuers) */

	struct cds_lfht *ht rq_cacheline_aligned; /* I; the table is RCU */
	struct rq_waitq *wq; /* I */
	uint64_t qid; /* I: names this queue in the per-thread region cache */
	struct rq_hist *hist; /* I: the queue's histograms, or NULL */
	_Atomic uint32_t ticket; /* A: the next element ticket */

	/* A: written when a region is created (rare for dense slots) */
	struct lf_chunk *_Atomic chunk rq_cacheline_aligned; /* newest */
	_Atomic unsigned long nr_regions; /* regions in the table */
	_Atomic unsigned long nr_buckets; /* W: the grower, R: any */
	_Atomic bool growing; /* one thread resizes at a time */

	struct rq_lock rare rq_cacheline_aligned;
	struct rq_susp_set ss; /* R (next_deadline: W: R, R: any) */
	size_t nr_suspended, nr_delayed; /* R */
	uint64_t run_imported; /* X: RUNNING entries brought in by import */
};

static _Atomic uint64_t lf_next_qid = 1;


/*
 * The regions this thread used last, direct-mapped by key, in the queues
 * named qid (never 0, never reused): a producer feeding a few thousand
 * mailboxes, or a worker completing the turns it drained, finds their
 * regions here without a hash lookup (which, with urcu-bp's read lock,
 * cost a fifth of the default queue's CPU per message in the steady
 * benchmark at M = 1,024, when the cache had 8 entries).
 *
 * A thread's first miss allocates LF_CACHE_SIZE entries (8 KiB: every
 * region of 8,192 dense slots) on the heap; a key destructor frees them
 * at thread exit and leaves LF_CACHE_GONE behind.  A thread that keeps
 * missing gets a cache twice as large, up to LF_CACHE_MAX entries (64
 * KiB, 65,536 dense slots; lf_cache_miss()): after every LF_CACHE_WINDOW
 * misses, when they were more than a quarter of its lookups since the
 * last such check and hits at least a sixteenth.  With uniform use of R
 * regions a cache of C entries hits C / R of the time: below a sixteenth
 * the largest cache would not hold them either and would only cost cache
 * lines, so a thread among 100,000 sparse mailboxes keeps 8 KiB.  The
 * entries are dropped when it grows: it is only a cache.  Until
 * the first allocation, and for good when it fails or the thread is
 * exiting, the thread uses LF_CACHE_MIN entries of initial-exec TLS.
 * The big cache cannot be TLS itself: a library that is dlopen()ed gets
 * its initial-exec TLS from glibc's surplus of about 1.5 KiB, shared
 * with every other such library (2 KiB of it made dlopen() fail with
 * "cannot allocate memory in static TLS block").  A miss that cannot
 * allocate costs a lookup, never an error.
 */
#define LF_CACHE_MIN 8
#define LF_CACHE_SIZE 256
#define LF_CACHE_MAX 2048
#define LF_CACHE_WINDOW 1024
#define LF_CACHE_GONE ((struct lf_cache_ent *)1)

struct lf_cache_ent {
	uint64_t qid;
	uint32_t key;
	struct lf_region *region;
	struct lf_page *page; /* its page, NULL when it had none */
};

static rq_thread_local struct lf_cache_ent lf_cache_min[LF_CACHE_MIN];
/* NULL: not allocated yet; LF_CACHE_GONE: none for good. */
static rq_thread_local struct lf_cache_ent *lf_cache_big;
static rq_thread_local uint32_t lf_cache_mask; /* entries of big - 1 */
/* Lookups through the cache and misses since the last growth check. */
static rq_thread_local uint32_t lf_cache_ops, lf_cache_missed;

static pthread_key_t lf_cache_key;
static bool lf_cache_key_ok; /* written once under lf_cache_once */
static pthread_once_t lf_cache_once = PTHREAD_ONCE_INIT;

/* At thread exit (key destructor): a later call uses lf_cache_min. */
static void lf_cache_release(void *p)
{
	rq_free(p);
	lf_cache_big = LF_CACHE_GONE;
}

static void lf_cache_key_init(void)
{
	lf_cache_key_ok = !pthread_key_create(&lf_cache_key, lf_cache_release);
}

/* dlclose(): no destructor may point into the unmapped library. */
__attribute__((destructor)) static void lf_cache_key_fini(void)
{
	if (lf_cache_key_ok)
		pthread_key_delete(lf_cache_key);
}

/*
 * Make @n zeroed entries this thread's big cache, in place of the
 * current one (freed).  Returns false, changing nothing, when that cannot
 * be done.
 */
static bool lf_cache_set(uint32_t n)
{
	struct lf_cache_ent *c = rq_zalloc_aligned(sizeof(*c) * n);

	if (!c)
		return false;
	if (pthread_setspecific(lf_cache_key, c)) {
		rq_free(c); /* no destructor would free it */
		return false;
	}
	if (lf_cache_big != LF_CACHE_GONE)
		rq_free(lf_cache_big);
	lf_cache_big = c;
	lf_cache_mask = n - 1;
	return true;
}

/*
 * A miss, before its entry is looked up with lf_cache_at() and filled:
 * the thread's first allocates its big cache (if that fails, or there is
 * no key, it keeps lf_cache_min for good); then every LF_CACHE_WINDOW
 * misses that were more than a quarter of its lookups, with hits at
 * least a sixteenth, the cache doubles, up to LF_CACHE_MAX entries (when
 * that allocation fails it stays as it is until the next check).
 */
static void lf_cache_miss(void)
{
	struct lf_cache_ent *big = lf_cache_big;

	if (caa_unlikely(!big)) {
		lf_cache_big = LF_CACHE_GONE;
		pthread_once(&lf_cache_once, lf_cache_key_init);
		if (lf_cache_key_ok)
			lf_cache_set(LF_CACHE_SIZE);
		return;
	}
	if (big == LF_CACHE_GONE || ++lf_cache_missed < LF_CACHE_WINDOW)
		return;
	if (lf_cache_missed > lf_cache_ops / 4 &&
	    lf_cache_ops - lf_cache_missed >= lf_cache_ops / 16 &&
	    lf_cache_mask + 1 < LF_CACHE_MAX)
		lf_cache_set((lf_cache_mask + 1) * 2);
	lf_cache_ops = lf_cache_missed = 0;
}

/*
 * The cache entry for region @key: in the big cache once the thread has
 * one, else in lf_cache_min.
 */
static inline struct lf_cache_ent *lf_cache_at(uint32_t key)
{
	struct lf_cache_ent *big = lf_cache_big;

	if (caa_likely(big && big != LF_CACHE_GONE))
		return &big[key & lf_cache_mask];
	return &lf_cache_min[key & (LF_CACHE_MIN - 1)];
}

/* ---- words ---- */

static inline uint64_t lf_mkword(uint32_t gen, enum rq_state state,
				 uint32_t aux)
{
	return (uint64_t)gen << 32 | (uint64_t)state << LF_STATE_SHIFT |
	       (aux & LF_AUX_MASK);
}

static inline uint32_t lf_gen(uint64_t w)
{
	return (uint32_t)(w >> 32);
}

static inline enum rq_state lf_state(uint64_t w)
{
	return (enum rq_state)((w >> LF_STATE_SHIFT) & LF_STATE_MASK);
}

static inline uint32_t lf_aux(uint64_t w)
{
	return (uint32_t)w & LF_AUX_MASK;
}

static inline uint64_t lf_load(struct lf_ent *e)
{
	return atomic_load_explicit(&e->word, memory_order_acquire);
}

/* The stamp of @e, which is a struct lf_sent's (@hist set only). */
static inline _Atomic uint64_t *lf_stamp(const struct lf_ent *e)
{
	return &caa_container_of(e, struct lf_sent, e)->ts;
}

/* Entry @i of page @p, which has stamps if @stamped (struct lf_sent). */
static inline struct lf_ent *lf_page_ent(struct lf_page *p, uint32_t i,
					 bool stamped)
{
	if (caa_unlikely(stamped))
		return &((struct lf_sent *)(void *)p)[i].e;
	return &p->ent[i];
}

static inline void lf_stamp_set(const struct lf_ent *e, uint64_t t)
{
	atomic_store_explicit(lf_stamp(e), t, memory_order_relaxed);
}

static inline uint64_t lf_stamp_get(const struct lf_ent *e)
{
	return atomic_load_explicit(lf_stamp(e), memory_order_relaxed);
}

static inline bool lf_cas(struct lf_ent *e, uint64_t *w, uint64_t nw)
{
	return atomic_compare_exchange_strong_explicit(
		&e->word, w, nw, memory_order_seq_cst, memory_order_acquire);
}

static inline struct lf_shard *lf_shard(struct lockfree *b)
{
	return &b->sh[rq_thread_id() & (LF_NR_SHARDS - 1)];
}

/* Count @n in statistic @field of this thread's set (struct lf_stat). */
#define lf_count(b, field, n) rq_slot_count((b)->st, field, n)
#define lf_inc(b, field) lf_count(b, field, 1)
/* Only where no other thread can touch the shard (import). */
#define lf_add_quiet(sh, field)                                              \
	atomic_store_explicit(&(sh)->field,                                   \
			      atomic_load_explicit(&(sh)->field,              \
						   memory_order_relaxed) +    \
				      1,                                      \
			      memory_order_relaxed)

/* ---- the table ---- */

/* SplitMix64's finalizer (Steele, Lea, Flood): every key bit mixed. */
#define LF_MIX_1 0xbf58476d1ce4e5b9ull
#define LF_MIX_2 0x94d049bb133111ebull

static inline unsigned long lf_hash(uint32_t key)
{
	uint64_t h = key + RQ_GOLDEN_RATIO_64;

	h = (h ^ (h >> 30)) * LF_MIX_1;
	h = (h ^ (h >> 27)) * LF_MIX_2;
	return (unsigned long)(h ^ (h >> 31));
}

static int lf_match(struct cds_lfht_node *node, const void *key)
{
	const struct lf_region *r = caa_container_of(node, struct lf_region,
						     hnode);

	return r->first.link.slot >> LF_PAGE_SHIFT == *(const uint32_t *)key;
}

/*
 * lf_region_alloc() - a zeroed region from the queue's arena
 *
 * Lock-free bump allocation: a fetch-and-add on the newest chunk's @used,
 * a new chunk (twice as large, up to LF_CHUNK_MAX) pushed by
 * compare-and-swap when it is full.  The chunk's zeroes are published by
 * that release CAS.  Returns NULL on -ENOMEM (nothing changed).
 */
static struct lf_region *lf_region_alloc(struct lockfree *b)
{
	struct lf_chunk *c, *nc;
	uint32_t i, cap;

	for (;;) {
		c = atomic_load_explicit(&b->chunk, memory_order_acquire);
		if (c) {
			i = atomic_fetch_add_explicit(&c->used, 1,
						      memory_order_relaxed);
			if (i < c->cap)
				return &c->r[i];
		}
		cap = c ? c->cap * 2 : LF_CHUNK_MIN;
		if (cap > LF_CHUNK_MAX)
			cap = LF_CHUNK_MAX;
		nc = rq_calloc(1, sizeof(*nc) + cap * sizeof(nc->r[0]));
		if (!nc)
			return NULL;
		nc->next = c;
		nc->cap = cap;
		if (!atomic_compare_exchange_strong_explicit(
			    &b->chunk, &c, nc, memory_order_acq_rel,
			    memory_order_acquire))
			rq_free(nc); /* another thread pushed one: use it */
	}
}

static struct lf_region *lf_region_lookup(struct lockfree *b, uint32_t key)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	urcu_bp_read_lock();
	cds_lfht_lookup(b->ht, lf_hash(key), lf_match, &key, &it);
	n = cds_lfht_iter_get_node(&it);
	urcu_bp_read_unlock();
	/* Published by cds_lfht_add_unique()'s asm cmpxchg (lib/tsan.h). */
	if (n)
		rq_tsan_acquire(n);
	/* Regions are resident until destroy: valid after the unlock. */
	return n ? caa_container_of(n, struct lf_region, hnode) : NULL;
}

/*
 * lf_grow() - double the table while regions outnumber LF_MAX_LOAD per
 * bucket
 *
 * Called after an insert, outside any read-side section (cds_lfht_resize()
 * waits for its helpers and must not run inside one).  One thread grows
 * at a time (@growing); the others go on inserting meanwhile, so a burst
 * lengthens chains only by what arrives during one doubling.  The table
 * has no AUTO_RESIZE: liburcu's lazy growth lags a burst by a factor of
 * 8 (it grows by count only at powers of two, through a worker thread),
 * which left chains of dozens of regions (perf/README.md).
 */
static void lf_grow(struct lockfree *b)
{
	unsigned long n, size;
	bool busy = false;

	if (!atomic_compare_exchange_strong_explicit(&b->growing, &busy, true,
						     memory_order_acquire,
						     memory_order_relaxed))
		return;
	for (;;) {
		n = atomic_load_explicit(&b->nr_regions, memory_order_relaxed);
		size = atomic_load_explicit(&b->nr_buckets,
					    memory_order_relaxed);
		if (n <= LF_MAX_LOAD * size || size >= LF_MAX_BUCKETS)
			break;
		cds_lfht_resize(b->ht, size * 2);
		atomic_store_explicit(&b->nr_buckets, size * 2,
				      memory_order_relaxed);
	}
	atomic_store_explicit(&b->growing, false, memory_order_release);
}

/* The region @key, inserted (first slot @slot) if new; NULL on -ENOMEM. */
static struct lf_region *lf_region_insert(struct lockfree *b, uint32_t key,
					  uint32_t slot)
{
	struct cds_lfht_node *got;
	struct lf_region *r;
	unsigned long n;

	r = lf_region_alloc(b); /* zeroed: word RQ_ST_EMPTY, no page */
	if (!r)
		return NULL;
	r->first.link.slot = slot;
	rq_tsan_release(&r->hnode);
	urcu_bp_read_lock();
	got = cds_lfht_add_unique(b->ht, lf_hash(key), lf_match, &key,
				  &r->hnode);
	urcu_bp_read_unlock();
	if (got != &r->hnode) {
		/* Another thread inserted it first: @r stays unused. */
		rq_tsan_acquire(got);
		return caa_container_of(got, struct lf_region, hnode);
	}
	n = atomic_fetch_add_explicit(&b->nr_regions, 1,
				      memory_order_relaxed) + 1;
	if (caa_unlikely(n > LF_MAX_LOAD *
			 atomic_load_explicit(&b->nr_buckets,
					      memory_order_relaxed)))
		lf_grow(b);
	return r;
}

/*
 * The page of region @r, allocated if it has none and @create; NULL (*@rc
 * 0 or -ENOMEM) otherwise.  Published by a C11 release CAS.
 */
static struct lf_page *lf_page_get(struct lf_region *r, bool create,
				   bool stamped, int *rc)
{
	struct lf_page *p = atomic_load_explicit(&r->page,
						 memory_order_acquire);
	struct lf_page *none = NULL;
	uint32_t i, base = r->first.link.slot & ~(LF_PAGE - 1);

	*rc = 0;
	if (p || !create)
		return p;
	/* every word RQ_ST_EMPTY, every stamp 0 */
	p = stamped ? rq_zalloc_aligned(LF_PAGE * sizeof(struct lf_sent)) :
		      rq_calloc(1, sizeof(*p));
	if (!p) {
		*rc = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < LF_PAGE; i++)
		lf_page_ent(p, i, stamped)->link.slot = base | i;
	if (atomic_compare_exchange_strong_explicit(&r->page, &none, p,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return p;
	rq_free(p); /* another thread set it first; @p was never seen */
	return none;
}

/*
 * The per-thread cache entry of @slot's region, filled from the table on
 * a miss; see lf_find().
 */
static struct lf_cache_ent *lf_region_find(struct lockfree *b, uint32_t slot,
					   bool create, int *rc)
{
	uint32_t key = slot >> LF_PAGE_SHIFT;
	struct lf_cache_ent *c = lf_cache_at(key);
	struct lf_region *r;

	lf_cache_ops++; /* see lf_cache_miss() */
	if (caa_likely(c->qid == b->qid && c->key == key))
		return c;
	lf_cache_miss(); /* may allocate or grow the cache: @c is stale */
	c = lf_cache_at(key);
	*rc = 0;
	r = lf_region_lookup(b, key);
	if (!r) {
		if (!create)
			return NULL;
		r = lf_region_insert(b, key, slot);
		if (!r) {
			*rc = -ENOMEM;
			return NULL;
		}
	}
	c->qid = b->qid;
	c->key = key;
	c->region = r;
	c->page = atomic_load_explicit(&r->page, memory_order_acquire);
	return c;
}

/*
 * The entry of @slot: NULL if it does not exist and @create is false
 * (*@rc 0), or on -ENOMEM (*@rc).  A slot never seen reads RQ_ST_EMPTY.
 * The first slot of a region lives in the region itself, the others in
 * its page: a lone slot costs a region, a dense run a page per LF_PAGE.
 */
static struct lf_ent *lf_find(struct lockfree *b, uint32_t slot, bool create,
			      int *rc)
{
	struct lf_cache_ent *c = lf_region_find(b, slot, create, rc);
	struct lf_page *p;

	if (!c)
		return NULL;
	if (slot == c->region->first.link.slot && caa_likely(!b->hist))
		return &c->region->first;
	p = c->page;
	if (caa_unlikely(!p)) {
		p = lf_page_get(c->region, create, b->hist, rc);
		if (!p)
			return NULL;
		c->page = p;
	}
	return lf_page_ent(p, slot & (LF_PAGE - 1), b->hist);
}

/* ---- the entries a shard drained last ---- */

/*
 * The ring of @sh, allocated by its first drain (outside @drain_lock);
 * NULL when that allocation failed: drains and completes then go without
 * it, so the failure is absorbed, never returned.
 */
static struct lf_recent *lf_recent_get(struct lf_shard *sh)
{
	struct lf_recent *r = atomic_load_explicit(&sh->recent,
						   memory_order_acquire);
	struct lf_recent *none = NULL;

	if (caa_likely(r))
		return r;
	r = rq_calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(&sh->recent, &none, r,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return r;
	rq_free(r); /* a thread sharing the shard set it first */
	return none;
}

/* Under @drain_lock: @e, the @n-th entry of this drain, into the ring. */
static inline void lf_recent_put(struct lf_recent *r, struct lf_shard *sh,
				 size_t n, struct lf_ent *e)
{
	uint32_t i = (sh->recent_pos + (uint32_t)n) & (LF_RECENT - 1);

	/* Release: a reader on another thread dereferences it. */
	atomic_store_explicit(&r->ent[i], e, memory_order_release);
}

/*
 * Under @drain_lock, after a drain that took @n entries: completes look
 * from the first of them on (from the oldest the ring still holds, when
 * the batch was longer than the ring).
 */
static inline void lf_recent_done(struct lf_recent *r, struct lf_shard *sh,
				  size_t n)
{
	uint32_t first = sh->recent_pos;

	sh->recent_pos += (uint32_t)n;
	if (n > LF_RECENT)
		first = sh->recent_pos - LF_RECENT;
	atomic_store_explicit(&r->cursor, first, memory_order_relaxed);
	atomic_store_explicit(&r->end, sh->recent_pos, memory_order_relaxed);
}

/*
 * The entry of @slot if it is at (or just after) the cursor of this
 * shard's ring, within the last drain's entries, else NULL (look in the
 * table).  No lock: see struct lf_recent.  Threads sharing the shard can
 * move @cursor and @end under each other (@cursor can pass @end): that
 * only makes it miss, and every pointer is checked against @slot.
 */
static struct lf_ent *lf_recent_find(struct lf_shard *sh, uint32_t slot)
{
	struct lf_recent *r = atomic_load_explicit(&sh->recent,
						   memory_order_acquire);
	struct lf_ent *e;
	uint32_t c, k, left;

	if (!r)
		return NULL;
	c = atomic_load_explicit(&r->cursor, memory_order_relaxed);
	left = atomic_load_explicit(&r->end, memory_order_relaxed) - c;
	if (left > LF_RECENT) /* @cursor past @end: a race, see above */
		left = 0;
	if (left > LF_RECENT_WINDOW)
		left = LF_RECENT_WINDOW;
	for (k = 0; k < left; k++) {
		e = atomic_load_explicit(&r->ent[(c + k) & (LF_RECENT - 1)],
					 memory_order_acquire);
		if (e && e->link.slot == slot) {
			atomic_store_explicit(&r->cursor, c + k + 1,
					      memory_order_relaxed);
			return e;
		}
	}
	return NULL;
}

/* ---- the FIFO ---- */

static inline void lf_push(struct lockfree *b, struct lf_link *l)
{
	cds_wfcq_node_init(&l->node);
	rq_tsan_release(l); /* wfcq's asm xchg publishes it (lib/tsan.h) */
	/* xchg: a full barrier, after the word's CAS. */
	cds_wfcq_enqueue(&b->qhead, &b->qtail, &l->node);
}

static uint32_t lf_new_ticket(struct lockfree *b)
{
	uint32_t t;

	do
		t = atomic_fetch_add_explicit(&b->ticket, 1,
					      memory_order_relaxed) &
		    LF_AUX_MASK;
	while (!t);
	return t;
}

static struct lf_qel *lf_qel_new(struct lf_ent *e)
{
	struct lf_qel *el = rq_malloc(sizeof(*el));

	if (el)
		el->ent = e;
	return el;
}

/*
 * Try to move @e from word *@w to QUEUED with generation @gen.  When
 * LINKED is set in *@w the embedded link is still in the queue and
 * *@elp must hold a spare element, which is consumed.  The old state's
 * QUEUED/RUNNING accounting is settled here; SUSPENDED/DELAYED is the
 * caller's (under @rare).  @reg: a register, counted as registered once
 * the CAS succeeded (a count derived from q_in could step backwards).
 * *@now: the caller's clock reading (rq_hist_lazy()), with histograms.
 *
 * Return: true when queued (the caller kicks the wait queue), false when
 * the word changed (*@w has the new value).
 */
static bool lf_try_queue(struct lockfree *b, struct lf_shard *sh,
			 struct lf_ent *e, uint64_t *w, uint32_t gen,
			 struct lf_qel **elp, bool reg, uint64_t *now)
{
	struct lf_qel *el = NULL;
	uint64_t nw, old = *w;

	if (old & LF_LINKED) {
		el = *elp;
		el->link.ticket = lf_new_ticket(b);
		nw = lf_mkword(gen, RQ_ST_QUEUED, el->link.ticket);
	} else {
		nw = lf_mkword(gen, RQ_ST_QUEUED, 0);
	}
	nw |= LF_LINKED;
	if (!lf_cas(e, w, nw))
		return false;
	if (reg)
		lf_inc(b, registered);
	if (lf_state(old) == RQ_ST_QUEUED)
		atomic_fetch_add_explicit(&sh->q_out, 1, memory_order_relaxed);
	else if (lf_state(old) == RQ_ST_RUNNING)
		lf_inc(b, run_out);
	if (caa_unlikely(b->hist)) /* before the push: the drainer reads it */
		lf_stamp_set(e, rq_hist_lazy(now));
	if (el) {
		*elp = NULL;
		lf_push(b, &el->link);
	} else {
		lf_push(b, &e->link);
	}
	/*
	 * Counted once its link is in the FIFO, so that poll never reports
	 * an index that a drain cannot reach yet; this seq_cst RMW is the
	 * publication rq_waitq_kick() requires (see the header).
	 */
	atomic_fetch_add_explicit(&sh->q_in, 1, memory_order_seq_cst);
	return true;
}

/* ---- suspension entries (under @rare) ---- */

/*
 * File @e in the suspension set (rq_susp_reserve() succeeded).  Returns true
 * when the earliest deadline moved earlier.
 */
static bool lf_attach(struct lockfree *b, struct lf_ent *e,
		      const struct rq_park *park, struct lf_qel *spare)
{
	bool earlier;

	rq_lock_assert_held(&b->rare);
	/* Takes rq_susp_next_free(), which the caller put in the word. */
	rq_susp_add(&b->ss, park->kind, park->val, (uintptr_t)e, spare,
		    &earlier);
	if (park->state == RQ_ST_SUSPENDED)
		b->nr_suspended++;
	else
		b->nr_delayed++;
	return earlier;
}

/* Release the suspension entry of a word that just left S/D (@old). */
static void lf_detach(struct lockfree *b, uint64_t old)
{
	uint32_t s = lf_aux(old);

	rq_free(b->ss.e[s].spare);
	rq_susp_del(&b->ss, s);
	if (lf_state(old) == RQ_ST_SUSPENDED)
		b->nr_suspended--;
	else
		b->nr_delayed--;
}

static inline bool lf_is_susp(uint64_t w)
{
	return rq_state_parked(lf_state(w));
}

/*
 * Under @rare: @e (generation @gen, SUSPENDED or DELAYED in *@w) ->
 * QUEUED with generation @ngen.  Returns 1, 0 if the word left S/D or
 * @gen (nothing done), -ENOMEM (nothing done).
 */
static int lf_susp_to_queue(struct lockfree *b, struct lf_shard *sh,
			    struct lf_ent *e, uint32_t gen, uint32_t ngen,
			    bool reg)
{
	struct lf_qel *el = NULL;
	uint64_t w = lf_load(e), now = 0;

	for (;;) {
		if (lf_gen(w) != gen || !lf_is_susp(w))
			break;
		if ((w & LF_LINKED) && !el) {
			/* Reserved by lf_suspend(); allocate only as a fallback. */
			el = b->ss.e[lf_aux(w)].spare;
			b->ss.e[lf_aux(w)].spare = NULL;
			if (!el)
				el = lf_qel_new(e);
			if (!el)
				return -ENOMEM;
			continue;
		}
		if (lf_try_queue(b, sh, e, &w, ngen, &el, reg, &now)) {
			/* w still holds the old word on success. */
			lf_detach(b, w);
			rq_free(el);
			return 1;
		}
	}
	rq_free(el);
	return 0;
}

/*
 * Under @rare: @e (generation @gen, S/D) -> @state (IDLE or RETIRED).
 * Returns 1 if done, 0 if the word left S/D or @gen.
 */
static int lf_susp_cancel(struct lockfree *b, struct lf_ent *e, uint32_t gen,
			  enum rq_state state)
{
	uint64_t w = lf_load(e), nw;

	for (;;) {
		if (lf_gen(w) != gen || !lf_is_susp(w))
			return 0;
		nw = lf_mkword(gen, state, 0) | (w & LF_LINKED);
		if (lf_cas(e, &w, nw))
			break;
	}
	lf_detach(b, w);
	return 1;
}

/* Move every due deadline to the queue (drain, under @drain_lock). */
static size_t lf_move_due(struct lockfree *b, struct lf_shard *sh)
{
	size_t n = 0;
	uint64_t now;
	uint32_t s;
	int rc;

	if (atomic_load_explicit(&b->ss.next_deadline,
				 memory_order_acquire) == RQ_NO_DEADLINE)
		return 0;
	now = rq_now_ns();
	if (atomic_load_explicit(&b->ss.next_deadline,
				 memory_order_acquire) > now)
		return 0;
	rq_lock(&b->rare);
	while ((s = rq_susp_due(&b->ss, now)) != RQ_SUSP_NIL) {
		struct lf_ent *e = (struct lf_ent *)b->ss.e[s].owner;
		uint32_t gen = lf_gen(lf_load(e));

		rc = lf_susp_to_queue(b, sh, e, gen, gen, false);
		if (rc <= 0)
			break; /* -ENOMEM: stays due, a later drain retries */
		n++;
	}
	rq_unlock(&b->rare);
	return n;
}

/* ---- ops ---- */

static unsigned long lf_pow2(uint64_t n)
{
	unsigned long v = 1;

	while (v < n && v < LF_MAX_BUCKETS)
		v <<= 1;
	return v;
}

/*
 * A table of @buckets initial buckets, or NULL: cds_lfht_new() asserts
 * that its allocations succeed, so memory for all of them (buckets and
 * LF_LFHT_OVERHEAD) is allocated and freed first.  Not proof against a
 * thread that takes the memory in between, but a process short of
 * memory gets -ENOMEM instead of an abort.  No AUTO_RESIZE: lf_grow()
 * resizes in step with the inserts, so liburcu starts no worker thread
 * (nothing of ours needs to follow fork(2) there).
 */
static struct cds_lfht *lf_table_new(unsigned long buckets)
{
	void *probe = rq_malloc(LF_LFHT_OVERHEAD +
				buckets * sizeof(struct cds_lfht_node));

	if (!probe)
		return NULL;
	rq_free(probe);
	return cds_lfht_new(buckets, buckets, 0, 0, NULL);
}

static int lf_create(const struct readyq_config *cfg, struct rq_waitq *wq,
		     struct rq_hist *hist, void **bep)
{
	unsigned long init = lf_pow2(cfg->capacity_hint / LF_PAGE);
	struct lockfree *b;

	if (init < LF_MIN_BUCKETS)
		init = LF_MIN_BUCKETS;
	if (init > LF_MAX_INIT_BUCKETS)
		init = LF_MAX_INIT_BUCKETS;
	b = rq_zalloc_aligned(sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->wq = wq;
	b->hist = hist;
	b->qid = atomic_fetch_add_explicit(&lf_next_qid, 1,
					   memory_order_relaxed);
	b->ht = lf_table_new(init);
	if (!b->ht) {
		rq_free(b);
		return -ENOMEM;
	}
	atomic_init(&b->nr_buckets, init);
	__cds_wfcq_init(&b->qhead, &b->qtail);
	atomic_init(&b->ticket, 1);
	rq_susp_init(&b->ss, LF_MAX_SUSP);
	*bep = b;
	return 0;
}

/* Destroy: free every queued element (no other thread uses the queue). */
static void lf_drop_links(struct lockfree *b)
{
	struct cds_wfcq_node *node;
	struct lf_link *l;

	/* No enqueuer in flight: nonblocking dequeues cannot block. */
	while ((node = __cds_wfcq_dequeue_nonblocking(&b->qhead, &b->qtail))) {
		if (node == CDS_WFCQ_WOULDBLOCK)
			break;
		l = caa_container_of(node, struct lf_link, node);
		if (l->ticket)
			rq_free(caa_container_of(l, struct lf_qel, link));
	}
}

/*
 * Destroy: empty the table (cds_lfht_destroy() requires it), one short
 * read-side section per region.  The regions themselves live in the
 * arena, freed after cds_lfht_destroy().
 */
static void lf_unhash_regions(struct lockfree *b)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *hn;

	urcu_bp_read_lock();
	cds_lfht_first(b->ht, &it);
	while ((hn = cds_lfht_iter_get_node(&it))) {
		cds_lfht_del(b->ht, hn);
		cds_lfht_next(b->ht, &it);
		urcu_bp_read_unlock();
		urcu_bp_read_lock();
	}
	urcu_bp_read_unlock();
}

/* Destroy: every page, then every chunk of the arena. */
static void lf_free_arena(struct lockfree *b)
{
	struct lf_chunk *c = atomic_load_explicit(&b->chunk,
						  memory_order_relaxed);
	struct lf_chunk *next;
	uint32_t i, n;

	while (c) {
		n = atomic_load_explicit(&c->used, memory_order_relaxed);
		if (n > c->cap)
			n = c->cap;
		/* Regions that lost an insert race have no page either. */
		for (i = 0; i < n; i++)
			rq_free(atomic_load_explicit(&c->r[i].page,
						     memory_order_relaxed));
		next = c->next;
		rq_free(c);
		c = next;
	}
}

static void lf_destroy(void *be)
{
	struct lockfree *b = be;
	uint32_t i;

	lf_drop_links(b);
	lf_unhash_regions(b);
	/* Outside any read-side section (liburcu's rule). */
	cds_lfht_destroy(b->ht, NULL);
	lf_free_arena(b);
	for (i = 0; i < LF_NR_SHARDS; i++)
		rq_free(atomic_load_explicit(&b->sh[i].recent,
					     memory_order_relaxed));
	for (i = 0; i < b->ss.cap; i++)
		if (b->ss.e[i].kind != RQ_SK_NONE)
			rq_free(b->ss.e[i].spare);
	rq_susp_fini(&b->ss);
	rq_free(b);
}

/*
 * Under nothing: a register of a newer generation on a SUSPENDED or
 * DELAYED entry (generation @cur in the word): the rare path, under @rare.
 * Returns 1, 0 if the word changed (look again), -ENOMEM.
 */
static int lf_reset_parked(struct lockfree *b, struct lf_shard *sh,
			   struct lf_ent *e, uint32_t cur, uint32_t gen)
{
	int rc;

	rq_lock(&b->rare);
	rc = lf_susp_to_queue(b, sh, e, cur, gen, true);
	rq_unlock(&b->rare);
	return rc;
}

/*
 * The RQ_REG_QUEUE step of a register on word *@w: 1 queued, 0 the word
 * changed (*@w has the new one), -ENOMEM.  *@elp: a spare element, kept
 * across retries.
 */
static int lf_register_queue(struct lockfree *b, struct lf_shard *sh,
			     struct lf_ent *e, uint64_t *w, uint32_t gen,
			     struct lf_qel **elp, uint64_t *now)
{
	int rc;

	if (lf_is_susp(*w)) {
		rc = lf_reset_parked(b, sh, e, lf_gen(*w), gen);
		if (!rc)
			*w = lf_load(e);
		return rc;
	}
	if ((*w & LF_LINKED) && !*elp) {
		*elp = lf_qel_new(e);
		if (!*elp)
			return -ENOMEM;
	}
	return lf_try_queue(b, sh, e, w, gen, elp, true, now) ? 1 : 0;
}

/*
 * register on an existing entry, as rq_reg_decide() says, or
 * (@in_complete) a ready/yield completion on one that is not running.
 * Returns 1 (queued: the caller kicks), 0, -ESTALE, -ENOMEM, or -EAGAIN
 * when @in_complete and the entry turned RUNNING meanwhile (the caller
 * finishes the turn instead).  *@now: as lf_try_queue()'s.
 */
static int lf_register_ent(struct lockfree *b, struct lf_shard *sh,
			   struct lf_ent *e, uint32_t gen, bool in_complete,
			   uint64_t *now)
{
	struct lf_qel *el = NULL;
	uint64_t w = lf_load(e);
	int rc;

	for (;;) {
		switch (rq_reg_decide(lf_state(w), lf_gen(w), gen)) {
		case RQ_REG_STALE:
			lf_inc(b, stale);
			rc = -ESTALE;
			goto out;
		case RQ_REG_QUEUE:
			rc = lf_register_queue(b, sh, e, &w, gen, &el, now);
			if (rc)
				goto out;
			continue;
		case RQ_REG_DUPLICATE:
			lf_inc(b, duplicates);
			rc = 0;
			goto out;
		case RQ_REG_NOTIFY:
			break;
		}
		if (lf_state(w) == RQ_ST_RUNNING) {
			rc = -EAGAIN;
			if (in_complete)
				goto out;
			if (!(w & LF_NOTIFIED) && !lf_cas(e, &w, w | LF_NOTIFIED))
				continue;
		}
		/* RUNNING, SUSPENDED, DELAYED: remembered. */
		lf_inc(b, notified);
		rc = 0;
		goto out;
	}
out:
	rq_free(el);
	return rc;
}

static int lf_reg(void *be, struct readyq_index idx)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	struct lf_ent *e;
	uint64_t now = 0;
	int rc;

	e = lf_find(b, idx.slot, true, &rc);
	if (!e)
		return rc;
	rc = lf_register_ent(b, sh, e, idx.generation, false, &now);
	if (rc == 1)
		rq_waitq_kick(b->wq);
	return rc;
}

/* Registers one by one (one clock reading), then one wake decision. */
static ssize_t lf_reg_batch(void *be, const struct readyq_index *idx,
			    size_t n)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	unsigned int kicks = RQ_KICK_NONE;
	struct lf_ent *e;
	uint64_t now = 0;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		e = lf_find(b, idx[i].slot, true, &rc);
		if (!e)
			break;
		rc = lf_register_ent(b, sh, e, idx[i].generation, false,
				     &now);
		if (rc < 0)
			break;
		if (rc == 1)
			kicks = RQ_KICK_WORK;
	}
	/* Published by lf_try_queue()'s seq_cst q_in increments. */
	rq_waitq_kick_for(b->wq, kicks);
	return i ? (ssize_t)i : rc;
}

/*
 * Cancel what is scheduled on the current-generation entry @e and leave it
 * in @state (IDLE or RETIRED).  On RUNNING only NOTIFIED is cleared (or,
 * @in_complete, -EAGAIN: the caller finishes the turn instead).  Returns
 * 1 if something was cancelled, 0 if not, -ESTALE.
 */
static int lf_cancel(struct lockfree *b, struct lf_shard *sh,
		     struct lf_ent *e, uint32_t gen, enum rq_state state,
		     bool in_complete)
{
	uint64_t w = lf_load(e), nw;
	int rc;

	for (;;) {
		enum rq_state st = lf_state(w);

		if (st == RQ_ST_EMPTY)
			return 0;
		if (!rq_is_current(st, lf_gen(w), gen)) {
			lf_inc(b, stale);
			return -ESTALE;
		}
		if (lf_is_susp(w)) {
			rq_lock(&b->rare);
			rc = lf_susp_cancel(b, e, gen, state);
			rq_unlock(&b->rare);
			if (rc)
				return 1;
			w = lf_load(e);
			continue;
		}
		if (st == RQ_ST_RUNNING) {
			if (in_complete)
				return -EAGAIN;
			nw = w & ~LF_NOTIFIED;
			if (nw == w)
				return 0;
			if (!lf_cas(e, &w, nw))
				continue;
			return 1;
		}
		nw = lf_mkword(gen, state, 0) | (w & LF_LINKED);
		if (nw == w)
			return 0;
		if (!lf_cas(e, &w, nw))
			continue;
		if (st == RQ_ST_QUEUED) {
			atomic_fetch_add_explicit(&sh->q_out, 1,
						  memory_order_relaxed);
			return 1;
		}
		return 0;
	}
}

static int lf_unreg(void *be, struct readyq_index idx)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	struct lf_ent *e;
	int rc;

	e = lf_find(b, idx.slot, false, &rc);
	if (!e)
		return 0;
	rc = lf_cancel(b, sh, e, idx.generation, RQ_ST_IDLE, false);
	if (rc == 1)
		lf_inc(b, unregistered);
	return rc;
}

/* The link just popped: make its entry RUNNING if it is live (else NULL). */
static struct lf_ent *lf_take(struct lf_link *l, struct readyq_index *out)
{
	struct lf_qel *el = NULL;
	struct lf_ent *e;
	uint64_t w, nw;
	bool live;

	if (l->ticket) {
		el = caa_container_of(l, struct lf_qel, link);
		e = el->ent;
	} else {
		e = caa_container_of(l, struct lf_ent, link);
	}
	w = lf_load(e);
	for (;;) {
		live = lf_state(w) == RQ_ST_QUEUED && lf_aux(w) == l->ticket;
		if (live)
			nw = lf_mkword(lf_gen(w), RQ_ST_RUNNING, 0) |
			     (el ? (w & LF_LINKED) : 0);
		else if (!el)
			nw = w & ~LF_LINKED; /* own link free again */
		else
			break;
		if (lf_cas(e, &w, nw))
			break;
	}
	if (live) {
		out->slot = e->link.slot;
		out->generation = lf_gen(w);
	}
	if (el) /* rare: not a call per entry */
		rq_free(el);
	return live ? e : NULL;
}

/* @e, just drained into *@idx at @now: its queue delay; its turn starts. */
static void lf_stamp_drain(struct lockfree *b, const struct lf_ent *e,
			   const struct readyq_index *idx, uint64_t now)
{
	rq_hist_delay(b->hist, idx->slot, idx->generation, lf_stamp_get(e),
		      now);
	lf_stamp_set(e, now);
}

/*
 * An enqueuer between its xchg and its next-pointer store blocks the
 * dequeue.  With nothing taken yet (@first), the caller was told there is
 * work, and returning empty-handed would send it round wait and drain
 * again: yield the CPU (the enqueuer may have been preempted) and retry,
 * LF_BLOCKED_RETRIES times, before giving up.
 */
#define LF_BLOCKED_RETRIES 64

static struct cds_wfcq_node *lf_dequeue(struct lockfree *b, bool first)
{
	struct cds_wfcq_node *node;
	int retry = 0;

	for (;;) {
		node = __cds_wfcq_dequeue_nonblocking(&b->qhead, &b->qtail);
		if (node != CDS_WFCQ_WOULDBLOCK || !first ||
		    retry++ == LF_BLOCKED_RETRIES)
			return node;
		sched_yield();
	}
}

static ssize_t lf_drain(void *be, struct readyq_index *out, size_t max)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	struct lf_recent *rec = lf_recent_get(sh);
	struct cds_wfcq_node *node;
	size_t n = 0, moved;
	bool blocked = false;
	struct lf_ent *e;
	uint64_t now = 0;

	rq_lock(&b->drain_lock);
	moved = lf_move_due(b, sh);
	if (caa_unlikely(b->hist))
		now = rq_hist_now();
	while (n < max) {
		node = lf_dequeue(b, !n);
		/* Empty, or an enqueue in flight: a shorter batch. */
		if (!node)
			break;
		if (node == CDS_WFCQ_WOULDBLOCK) {
			blocked = true; (void)blocked;
			break;
		}
		rq_tsan_acquire(caa_container_of(node, struct lf_link, node));
		e = lf_take(caa_container_of(node, struct lf_link, node),
			    &out[n]);
		if (!e)
			continue;
		if (caa_unlikely(b->hist))
			lf_stamp_drain(b, e, &out[n], now);
		if (caa_likely(rec))
			lf_recent_put(rec, sh, n, e);
		n++;
	}
	if (rec && n)
		lf_recent_done(rec, sh, n);
	/* Before the next drainer can look: it must not find them counted. */
	if (n)
		atomic_fetch_add_explicit(&sh->q_out, n, memory_order_relaxed);
	rq_unlock(&b->drain_lock);
	if (n)
		lf_count(b, drained, n);
	/* Due entries this drain did not take need another worker. */
	if (moved > n)
		rq_waitq_kick(b->wq);
	return (ssize_t)n;
}

/*
 * A parking result (rq_turn_end() said PARK) on a RUNNING entry: under
 * @rare.  Returns 0 done (*@kick RQ_KICK_TIMER when the earliest
 * deadline moved earlier), -EAGAIN the word changed, -ENOMEM.
 */
static int lf_park(struct lockfree *b, struct lf_shard *sh, struct lf_ent *e,
		   uint64_t w, const struct readyq_result *res,
		   enum rq_kick *kick)
{
	struct lf_qel *spare = NULL;
	struct rq_park park;
	uint64_t nw;
	int rc;

	rq_park_decode(res, &park);
	rq_lock(&b->rare);
	rc = rq_susp_reserve(&b->ss);
	if (rc)
		goto out;
	/*
	 * RUNNING with LINKED happens when a registrar's own link was pushed
	 * after a later registrar's element (CAS order is not push order).
	 * LINKED cannot be set again while SUSPENDED/DELAYED: an element
	 * reserved now lets resume, resume_signal and the deadline path
	 * queue it without allocating.
	 */
	if (w & LF_LINKED) {
		spare = lf_qel_new(e);
		if (!spare) {
			rc = -ENOMEM;
			goto out;
		}
	}
	nw = lf_mkword(lf_gen(w), park.state, rq_susp_next_free(&b->ss)) |
	     (w & (LF_LINKED | LF_NOTIFIED));
	rc = -EAGAIN;
	if (!lf_cas(e, &w, nw))
		goto out;
	lf_inc(b, run_out);
	if (lf_attach(b, e, &park, spare))
		*kick = RQ_KICK_TIMER;
	spare = NULL;
	rc = 0;
out:
	rq_unlock(&b->rare);
	rq_free(spare);
	return rc;
}

/* A RUNNING entry (word @w) back to the queue: 0, -EAGAIN, -ENOMEM. */
static int lf_requeue(struct lockfree *b, struct lf_shard *sh,
		      struct lf_ent *e, uint64_t w, enum rq_kick *kick,
		      uint64_t *now)
{
	struct lf_qel *el = NULL;
	int rc = -EAGAIN;

	if (w & LF_LINKED) {
		el = lf_qel_new(e);
		if (!el)
			return -ENOMEM;
	}
	if (lf_try_queue(b, sh, e, &w, lf_gen(w), &el, false, now)) {
		*kick = RQ_KICK_WORK;
		rc = 0;
	}
	rq_free(el);
	return rc;
}

/*
 * complete on a RUNNING entry (word @w), as rq_turn_end() says.
 * Returns 0 done (*@kick set), -EAGAIN the word changed, -ENOMEM.
 */
static int lf_finish_turn(struct lockfree *b, struct lf_shard *sh,
			  struct lf_ent *e, uint64_t w,
			  const struct readyq_result *res, enum rq_kick *kick,
			  uint64_t *now)
{
	enum rq_state st;

	switch (rq_turn_end(res, w & LF_NOTIFIED)) {
	case RQ_END_REQUEUE:
		return lf_requeue(b, sh, e, w, kick, now);
	case RQ_END_PARK:
		return lf_park(b, sh, e, w, res, kick);
	case RQ_END_IDLE:
		st = RQ_ST_IDLE;
		break;
	default: /* RQ_END_RETIRE */
		st = RQ_ST_RETIRED;
		break;
	}
	if (!lf_cas(e, &w, lf_mkword(lf_gen(w), st, 0) | (w & LF_LINKED)))
		return -EAGAIN;
	lf_inc(b, run_out);
	return 0;
}

/*
 * lf_finish_turn(), and with histograms the turn's time: the turn ends
 * at the reading a requeue stamps (one clock read for both).
 */
static int lf_end_turn(struct lockfree *b, struct lf_shard *sh,
		       struct lf_ent *e, uint64_t w,
		       const struct readyq_result *res, enum rq_kick *kick,
		       uint64_t *now)
{
	uint64_t start;
	int rc;

	if (caa_likely(!b->hist))
		return lf_finish_turn(b, sh, e, w, res, kick, now);
	start = lf_stamp_get(e); /* a requeue stamps it again */
	rc = lf_finish_turn(b, sh, e, w, res, kick, now);
	if (!rc)
		rq_hist_turn(b->hist, e->link.slot, lf_gen(w), start,
			     rq_hist_lazy(now));
	return rc;
}

/*
 * complete on an entry that is not RUNNING, as rq_outside_turn() says.
 * Returns 0 (*@kick set), -EAGAIN (it became RUNNING: finish the turn
 * instead), -ESTALE, -ENOMEM.
 */
static int lf_outside_turn(struct lockfree *b, struct lf_shard *sh,
			   struct lf_ent *e, uint32_t gen,
			   const struct readyq_result *res, enum rq_kick *kick,
			   uint64_t *now)
{
	int rc;

	switch (rq_outside_turn(res)) {
	case RQ_OUT_REGISTER:
		rc = lf_register_ent(b, sh, e, gen, true, now);
		if (rc == 1)
			*kick = RQ_KICK_WORK;
		break;
	case RQ_OUT_CANCEL:
		rc = lf_cancel(b, sh, e, gen, RQ_ST_IDLE, true);
		break;
	default: /* RQ_OUT_RETIRE */
		rc = lf_cancel(b, sh, e, gen, RQ_ST_RETIRED, true);
		break;
	}
	return rc < 0 ? rc : 0;
}

/*
 * complete() without its wake-up: 0 with *@kick set, or a negative errno.
 * *@now: the clock reading shared by the caller's completions.
 */
static int lf_complete_one(struct lockfree *b, struct lf_shard *sh,
			   struct readyq_index idx,
			   const struct readyq_result *res, enum rq_kick *kick,
			   uint64_t *now)
{
	struct lf_ent *e;
	uint64_t w;
	int rc;

	/* Most completes follow their drain: no table lookup for those. */
	e = lf_recent_find(sh, idx.slot);
	if (!e)
		e = lf_find(b, idx.slot, true, &rc);
	if (!e)
		return rc;
	do {
		*kick = RQ_KICK_NONE;
		w = lf_load(e);
		if (lf_state(w) == RQ_ST_EMPTY) {
			/* Unknown slot: make it IDLE, as register would. */
			lf_cas(e, &w, lf_mkword(idx.generation, RQ_ST_IDLE, 0));
			rc = -EAGAIN;
		} else if (!rq_is_current(lf_state(w), lf_gen(w),
					  idx.generation)) {
			lf_inc(b, stale);
			return -ESTALE;
		} else if (lf_state(w) == RQ_ST_RUNNING) {
			rc = lf_end_turn(b, sh, e, w, res, kick, now);
		} else {
			rc = lf_outside_turn(b, sh, e, idx.generation, res,
					     kick, now);
		}
	} while (rc == -EAGAIN);
	if (!rc)
		lf_inc(b, completed);
	return rc;
}

static int lf_complete(void *be, struct readyq_index idx,
		       const struct readyq_result *res)
{
	struct lockfree *b = be;
	enum rq_kick kick;
	uint64_t now = 0;
	int rc;

	rc = lf_complete_one(b, lf_shard(b), idx, res, &kick, &now);
	if (!rc)
		rq_waitq_kick_for(b->wq, kick);
	return rc;
}

/*
 * Completions one by one, sharing one clock reading, then one wake
 * decision (see lk_complete_batch).
 */
static ssize_t lf_complete_batch(void *be, const struct readyq_index *idx,
				 const struct readyq_result *res, size_t n)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	unsigned int kicks = RQ_KICK_NONE;
	enum rq_kick kick;
	uint64_t now = 0;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++) {
		rc = lf_complete_one(b, sh, idx[i], &res[i], &kick, &now);
		if (rc < 0)
			break;
		kicks |= kick;
	}
	rq_waitq_kick_for(b->wq, kicks);
	return i ? (ssize_t)i : rc;
}

static int lf_resume(void *be, struct readyq_index idx)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	struct lf_ent *e;
	uint64_t w;
	int rc;

	e = lf_find(b, idx.slot, false, &rc);
	if (!e)
		return 0;
	w = lf_load(e);
	if (lf_state(w) == RQ_ST_EMPTY)
		return 0;
	if (!rq_is_current(lf_state(w), lf_gen(w), idx.generation)) {
		lf_inc(b, stale);
		return -ESTALE;
	}
	if (!lf_is_susp(w))
		return 0;
	rq_lock(&b->rare);
	rc = lf_susp_to_queue(b, sh, e, idx.generation, idx.generation,
			      false);
	rq_unlock(&b->rare);
	if (rc == 1)
		rq_waitq_kick(b->wq);
	return rc;
}

static int lf_resume_signal(void *be, uint64_t key)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	uint32_t s, next;
	int n = 0, rc;

	rq_lock(&b->rare);
	for (s = rq_susp_chain(&b->ss, key); s != RQ_SUSP_NIL; s = next) {
		struct lf_ent *e = (struct lf_ent *)b->ss.e[s].owner;
		uint32_t gen;

		next = b->ss.e[s].chain.next;
		if (b->ss.e[s].val != key)
			continue;
		gen = lf_gen(lf_load(e));
		/* Its element was reserved at suspension: cannot fail. */
		rc = lf_susp_to_queue(b, sh, e, gen, gen, false);
		if (rc < 0)
			break;
		if (rc && n < INT_MAX)
			n++;
	}
	rq_unlock(&b->rare);
	/* Published by lf_try_queue()'s seq_cst q_in increments. */
	rq_waitq_kick_n(b->wq, n);
	return n;
}

static int lf_poll(void *be)
{
	struct lockfree *b = be;
	uint64_t in = 0, out = 0;
	int i;

	/* Every q_in first, then every q_out: see the header. */
	for (i = 0; i < LF_NR_SHARDS; i++)
		in += atomic_load_explicit(&b->sh[i].q_in,
					   memory_order_seq_cst);
	for (i = 0; i < LF_NR_SHARDS; i++)
		out += atomic_load_explicit(&b->sh[i].q_out,
					    memory_order_seq_cst);
	if (in > out)
		return 1;
	return rq_susp_any_due(&b->ss);
}

static uint64_t lf_next_deadline(void *be)
{
	struct lockfree *b = be;

	return rq_susp_next_deadline(&b->ss);
}

#define lf_sum_of(b, set, nr, field)                                           \
	({                                                                     \
		uint64_t _s = 0;                                               \
		int _i;                                                        \
		for (_i = 0; _i < (nr); _i++)                                  \
			_s += atomic_load_explicit(&(b)->set[_i].field,        \
						   memory_order_relaxed);      \
		_s;                                                            \
	})
#define lf_sum(b, field) lf_sum_of(b, sh, LF_NR_SHARDS, field)
#define lf_stat_sum(b, field) lf_sum_of(b, st, RQ_SLOT_SETS, field)

static void lf_stats(void *be, struct readyq_stats *st)
{
	struct lockfree *b = be;
	uint64_t q_out = lf_sum(b, q_out), q_in = lf_sum(b, q_in);
	uint64_t run_out = lf_stat_sum(b, run_out);
	uint64_t drained = lf_stat_sum(b, drained);

	/* Every counter is a sum of per-shard counters: never decreases. */
	st->registered = lf_stat_sum(b, registered);
	st->duplicates = lf_stat_sum(b, duplicates);
	st->notified = lf_stat_sum(b, notified);
	st->unregistered = lf_stat_sum(b, unregistered);
	st->drained = drained;
	st->completed = lf_stat_sum(b, completed);
	st->stale = lf_stat_sum(b, stale);
	st->queued = q_in > q_out ? (size_t)(q_in - q_out) : 0;
	drained += b->run_imported;
	st->running = drained > run_out ? (size_t)(drained - run_out) : 0;
	rq_lock(&b->rare);
	st->suspended = b->nr_suspended;
	st->delayed = b->nr_delayed;
	rq_unlock(&b->rare);
	st->active = READYQ_BACKEND_LOCKFREE;
}

/* ---- migration (the adaptive backend): no other op runs ---- */

static void lf_export_ent(struct lockfree *b, const struct lf_ent *e,
			  uint64_t w, struct rq_export *x)
{
	memset(x, 0, sizeof(*x));
	x->slot = e->link.slot;
	x->gen = lf_gen(w);
	x->state = lf_state(w);
	x->notified = w & LF_NOTIFIED;
	if (b->hist)
		x->stamp = lf_stamp_get(e);
	if (lf_is_susp(w)) {
		x->wait = b->ss.e[lf_aux(w)].kind;
		x->val = b->ss.e[lf_aux(w)].val;
	}
}

/* Entries a region holds: its first slot, and its page's others. */
static size_t lf_region_span(const struct lf_region *r)
{
	return atomic_load_explicit(&r->page, memory_order_relaxed) ? LF_PAGE :
								     1;
}

/* Export @e unless EMPTY or QUEUED (those come from the FIFO walk). */
static size_t lf_export_known(struct lockfree *b, struct lf_ent *e,
			      struct rq_export *x)
{
	uint64_t w = lf_load(e);

	if (lf_state(w) == RQ_ST_EMPTY || lf_state(w) == RQ_ST_QUEUED)
		return 0;
	lf_export_ent(b, e, w, x);
	return 1;
}

/* Every known entry of the table that is not QUEUED, into @x. */
static size_t lf_export_table(struct lockfree *b, struct rq_export *x)
{
	struct cds_lfht_iter it;
	struct lf_region *r;
	struct lf_page *p;
	size_t k = 0;
	uint32_t i, skip;

	urcu_bp_read_lock();
	cds_lfht_for_each_entry(b->ht, &it, r, hnode) {
		k += lf_export_known(b, &r->first, &x[k]);
		p = atomic_load_explicit(&r->page, memory_order_relaxed);
		/* With stamps the first slot lives in the page too. */
		skip = b->hist ? LF_PAGE : r->first.link.slot & (LF_PAGE - 1);
		for (i = 0; p && i < LF_PAGE; i++)
			if (i != skip)
				k += lf_export_known(
					b, lf_page_ent(p, i, b->hist), &x[k]);
	}
	urcu_bp_read_unlock();
	return k;
}

/*
 * Walk the FIFO without taking anything (no enqueuer is in flight, so the
 * blocking iterator never waits), then every region of the table.
 */
static int lf_export(void *be, struct rq_export **out, size_t *n)
{
	struct lockfree *b = be;
	struct cds_wfcq_node *node;
	struct cds_lfht_iter it;
	struct lf_region *r;
	struct rq_export *x;
	struct lf_link *l;
	struct lf_ent *e;
	size_t ents = 0, k = 0;
	uint64_t w;

	urcu_bp_read_lock();
	cds_lfht_for_each_entry(b->ht, &it, r, hnode)
		ents += lf_region_span(r);
	urcu_bp_read_unlock();
	x = rq_malloc(sizeof(*x) * (ents ? ents : 1));
	if (!x)
		return -ENOMEM;
	__cds_wfcq_for_each_blocking(&b->qhead, &b->qtail, node) {
		l = caa_container_of(node, struct lf_link, node);
		e = l->ticket ? caa_container_of(l, struct lf_qel, link)->ent :
				caa_container_of(l, struct lf_ent, link);
		w = lf_load(e);
		if (lf_state(w) == RQ_ST_QUEUED && lf_aux(w) == l->ticket)
			lf_export_ent(b, e, w, &x[k++]);
	}
	*out = x;
	*n = k + lf_export_table(b, x + k);
	return 0;
}

/* Import a SUSPENDED or DELAYED slot into entry @e. */
static int lf_import_parked(struct lockfree *b, struct lf_ent *e,
			    const struct rq_export *x, uint64_t nflag)
{
	struct rq_park park = { .state = (enum rq_state)x->state,
				.kind = (enum rq_susp_kind)x->wait,
				.val = x->val };
	uint32_t s;
	int rc;

	rq_lock(&b->rare);
	rc = rq_susp_reserve(&b->ss);
	if (!rc) {
		s = rq_susp_next_free(&b->ss);
		atomic_store_explicit(&e->word,
				      lf_mkword(x->gen, park.state, s) | nflag,
				      memory_order_relaxed);
		lf_attach(b, e, &park, NULL);
	}
	rq_unlock(&b->rare);
	return rc;
}

static int lf_import(void *be, const struct rq_export *x)
{
	struct lockfree *b = be;
	struct lf_shard *sh = lf_shard(b);
	enum rq_state st = (enum rq_state)x->state;
	uint64_t nflag = x->notified ? LF_NOTIFIED : 0;
	struct lf_ent *e;
	int rc = 0;

	e = lf_find(b, x->slot, true, &rc);
	if (!e)
		return rc ? rc : -ENOMEM;
	switch (st) {
	case RQ_ST_QUEUED:
		/*
		 * A queueing that was not a register.  No other op is in
		 * flight: a plain add, not a locked instruction.
		 */
		lf_add_quiet(sh, q_in);
		if (b->hist)
			lf_stamp_set(e, x->stamp);
		atomic_store_explicit(&e->word,
				      lf_mkword(x->gen, RQ_ST_QUEUED, 0) |
					      LF_LINKED,
				      memory_order_relaxed);
		lf_push(b, &e->link);
		break;
	case RQ_ST_SUSPENDED:
	case RQ_ST_DELAYED:
		rc = lf_import_parked(b, e, x, nflag);
		break;
	case RQ_ST_RUNNING:
		b->run_imported++;
		if (b->hist)
			lf_stamp_set(e, x->stamp);
		/* fall through */
	default:
		atomic_store_explicit(&e->word, lf_mkword(x->gen, st, 0) | nflag,
				      memory_order_relaxed);
	}
	return rc;
}

const struct readyq_ops rq_lockfree_ops = {
	RQ_BACKEND_OPS(lf),
	.export = lf_export,
	.import = lf_import,
};
