// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * adaptive.c - pick the locked or the lock-free backend, switch at run time
 *
 * Overview
 * --------
 * The adaptive backend owns one inner backend at a time (struct ad_inst:
 * an ops table and its instance) and forwards every op to it.  At creation
 * it picks the lock-free backend when concurrency_hint exceeds
 * AD_LOCKFREE_HINT, else the locked one; above AD_EAGER_HINT a queue that
 * starts locked switches up as soon as a thread arrives while another is
 * inside an op (ad_first_op()): the hint, confirmed.  At run time it
 * measures contention over windows of operations and switches:
 *
 *  - up (locked -> lock-free) when more than adaptive_up_permille of the
 *    lock acquisitions in one window found the lock held (the locked
 *    backend's own meter, struct readyq_ops.contention).  Locked windows
 *    stay at AD_FIRST_WINDOW operations: running contended on a lock
 *    costs two to three times an op, so it must be seen soon.
 *  - down (lock-free -> locked) when fewer than adaptive_down_permille of
 *    the operations in adaptive_hold consecutive *probe windows* would
 *    have been contended, and the quiet spell is long enough for the
 *    migration (every known slot moves) to pay back: ad_payback().  The
 *    lock-free backend has no lock to measure: in a probe window
 *    (AD_PROBE_WINDOW operations, after every AD_PROBE_EVERY lock-free
 *    windows, which double up to adaptive_window) operations look at a
 *    ghost lock that sampled operations hold around the op, as the
 *    locked backend would (see ad_probe_begin()).
 *
 * Hysteresis: the two thresholds are far apart, no switch happens within
 * adaptive_hold windows of the previous one, and down needs adaptive_hold
 * quiet probes in a row.  A queue that starts on the lock-free backend
 * (on the hint's guess) probes at once, so a lone caller moves to the
 * locked backend after about 500 operations, while few slots are known
 * and a migration is cheap (measured: about 45 us).
 *
 * Publication: readers and a grace period of our own
 * --------------------------------------------------
 * Every op reads the current instance (a->cur) and must not be inside it
 * when a switch frees it.  Each thread owns a reader record (struct
 * ad_reader, one cache line, found through initial-exec TLS and kept in a
 * process-wide push-only list) whose @inside names the queue whose op it
 * is running, NULL between ops.  An op (ad_enter()):
 *
 *	r->inside = a;  full barrier (*);  in = a->cur;
 *	if in is NULL: r->inside = NULL (release), wait at a->gate, retry
 *	... the op on in ...
 *	r->inside = NULL (release)
 *
 * and a switch, by one thread outside any op (ad_wait_readers()):
 *
 *	a->cur = NULL (seq_cst);  full barrier (*);
 *	wait until no record has inside == a (acquire loads)
 *
 * (*) Dekker: either the reader sees NULL or the switcher sees the
 * reader's record, so after the wait no thread is inside the old instance
 * and none can enter it; the release/acquire pair on @inside orders what
 * readers did in it before the migration.  Where the kernel offers
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) (registered once per
 * process; never under ThreadSanitizer, which cannot see it) the reader's
 * barrier is a compiler barrier and the switcher's a membarrier() call,
 * which makes every running thread of the process execute a full
 * barrier (liburcu's scheme); otherwise the reader stores with a seq_cst
 * exchange.  A thread that cannot get a record (-ENOMEM) counts itself
 * in a->stragglers with seq_cst read-modify-writes instead, and tries
 * again after AD_RECORD_RETRY ops.  The wait spins, then yields the CPU
 * (a preempted reader needs it), then sleeps 20 us at a time, never
 * for long, unlike urcu-bp's synchronize_rcu(), which
 * falls back to 10 ms sleeps when a reader is slow to leave (a preempted
 * thread, common with more threads than CPUs): as long as a whole seed
 * benchmark run at 8 threads.
 * This costs an op one plain store, one load and one release store on
 * lines the thread owns or that are read-mostly.
 *
 * Migration: a switch, made by one thread (a->switch_lock) outside any
 * op:
 *
 *   1. creates the new instance;
 *   2. publishes NULL and waits for the readers as above; new ops wait on
 *      the a->gate futex (after a short spin);
 *   3. exports every slot of the old instance (QUEUED ones in FIFO order)
 *      and imports them into the new one: QUEUED, RUNNING (with NOTIFIED),
 *      SUSPENDED (key, deadline), DELAYED, RETIRED and IDLE generations
 *      all carry over, so SPEC §2 holds across the switch;
 *   4. publishes the new instance, opens the gate, wakes every waiter of
 *      the queue (what they polled may have moved) and frees the old one
 *      (a lock-free one at the next switch or destroy: ad_retire()).
 *
 * If anything fails (memory), the old instance is published again,
 * unchanged.  FIFO order is kept exactly: no op runs during a migration,
 * so no index is queued "during" one; ops that arrive wait at the gate
 * (register on this backend can therefore block for the length of a
 * migration: measured 70-80 ns per known slot, 0.8 ms per 10,000).
 *
 * Counting: each thread counts its ops (and, in probe windows, its probes)
 * in TLS and adds them to the queue's counters every AD_BATCH ops, so the
 * hot path touches no shared written line outside probe windows.  Fields
 * that every op reads (cur, probing) share a line that only switches and
 * window ends write; counters and the ghost lock have lines of their own.
 */
#include <config.h>
#include "internal.h"
#include "proc.h"
#include "tsan.h"

#include <errno.h>
#include <limits.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define AD_DEFAULT_WINDOW 16384
#define AD_DEFAULT_UP 150 /* permille of contended lock acquisitions */
#define AD_FIRST_WINDOW 256 /* first window; locked windows keep it */
#define AD_DEFAULT_DOWN 30
#define AD_DEFAULT_HOLD 2
#define AD_PROBE_EVERY 4 /* lock-free windows between two probes */
#define AD_PROBE_WINDOW 256 /* ops in a probe window */
#define AD_PROBE_SAMPLE 8 /* one probed op in this many takes the ghost */
#define AD_PAYBACK_MIN (64u << 10) /* quiet ops: see ad_payback() */
#define AD_PAYBACK_CAP (4u << 20)
#define AD_BATCH 64 /* ops a thread counts before adding to the window */
#define AD_GATE_SPIN 200 /* pauses at the gate before yielding */
#define AD_GATE_YIELD 200 /* sched_yield()s at the gate before sleeping */
#define AD_RECORD_RETRY 1024 /* straggler ops between two record tries */
#define AD_WAIT_SPIN 128 /* pauses per reader before yielding the CPU */
#define AD_WAIT_YIELD 1000 /* then sched_yield()s before 20 us sleeps */

/*
 * Concurrency hints: above AD_LOCKFREE_HINT the lock-free backend starts;
 * above AD_EAGER_HINT the locked one starts but switches up as soon as two
 * threads are seen inside ops at once (ad_first_op()).  See perf/README.md,
 * "Adaptive threshold", for the measurements.
 */
#define AD_EAGER_HINT 1
#define AD_LOCKFREE_HINT 8

struct ad_inst {
	const struct readyq_ops *ops;
	void *be;
	enum readyq_backend kind;
};

struct adaptive {
	/* Read by every op, written by switches and window ends only. */
	_Atomic(struct ad_inst *) cur; /* NULL while migrating */
	_Atomic bool probing; /* lock-free: this window is a probe window */
	_Atomic uint32_t gate; /* futex: bumped when a migration ends */
	_Atomic uint64_t window; /* its length: doubles up to adaptive_window */
	bool eager; /* the hint says several threads: see ad_first_op() */
	uint64_t id; /* unique, never 0: see ad_tl */
	struct rq_waitq *wq;
	struct readyq_config cfg;

	/* Written every AD_BATCH ops of any thread. */
	_Atomic uint64_t win_ops __attribute__((aligned(RQ_CACHELINE)));
	_Atomic uint64_t probe_ops, probe_contended;
	_Atomic uint64_t stragglers; /* ops in flight without a record */

	/* Probe windows: the stand-in for the locked backend's lock. */
	struct rq_lock ghost __attribute__((aligned(RQ_CACHELINE)));

	pthread_mutex_t switch_lock /* one evaluation / switch at a time */
		__attribute__((aligned(RQ_CACHELINE)));
	uint32_t windows, streak, since_switch;
	uint32_t normal; /* lock-free windows since the last probe */
	uint64_t grow; /* the next lock-free window's length */
	uint64_t ops; /* in every window so far */
	uint64_t quiet_ops; /* in the current streak of quiet probes */
	_Atomic uint32_t ups; /* switches to the lock-free backend */
	uint64_t switches;
	struct ad_inst *retired; /* a lock-free instance to free later */
	struct readyq_stats base; /* counters of replaced instances */
};

static const struct readyq_ops *ad_ops_of(enum readyq_backend k)
{
	return k == READYQ_BACKEND_LOCKFREE ? &rq_lockfree_ops :
					      &rq_locked_ops;
}

static struct ad_inst *ad_inst_new(struct adaptive *a, enum readyq_backend k)
{
	struct ad_inst *in = rq_malloc(sizeof(*in));
	int rc;

	if (!in)
		return NULL;
	in->kind = k;
	in->ops = ad_ops_of(k);
	rc = in->ops->create(&a->cfg, a->wq, &in->be);
	if (rc) {
		rq_free(in);
		return NULL;
	}
	return in;
}

static void ad_inst_free(struct ad_inst *in)
{
	in->ops->destroy(in->be);
	rq_free(in);
}

/* ---- reader records ---- */

struct ad_reader {
	_Atomic(const struct adaptive *) inside; /* NULL between ops */
	_Atomic bool used; /* owned by a live thread */
	struct ad_reader *next; /* registry order; never unlinked */
} __attribute__((aligned(RQ_CACHELINE)));

static _Atomic(struct ad_reader *) ad_readers; /* push-only list */
static pthread_once_t ad_once = PTHREAD_ONCE_INIT;
static pthread_key_t ad_key; /* its destructor frees a thread's record */
static bool ad_key_ok;
static _Atomic bool ad_membarrier; /* readers: compiler barrier only */
static _Atomic uint64_t ad_next_id = 1;

/*
 * Per thread: its record, and its counts for the queue it used last,
 * named by its id (an address can come back for a new queue).
 */
static __thread __attribute__((tls_model("initial-exec"))) struct {
	struct ad_reader *r;
	uint64_t id;
	uint32_t n, probes, contended;
	uint32_t retry; /* without a record: ops before the next try */
} ad_tl;

static void ad_reader_exit(void *p)
{
	struct ad_reader *r = p;

	ad_tl.r = NULL;
	atomic_store_explicit(&r->inside, NULL, memory_order_release);
	atomic_store_explicit(&r->used, false, memory_order_release);
}

/*
 * rq_adaptive_fork_child() - fork(2) left only the calling thread: free
 * the others' records (lib/proc.c, child handler), or a switch of a queue
 * made at the address of one they were inside would wait for them.
 */
void rq_adaptive_fork_child(void)
{
	struct ad_reader *r;

	for (r = atomic_load_explicit(&ad_readers, memory_order_relaxed); r;
	     r = r->next) {
		if (r == ad_tl.r)
			continue;
		atomic_store_explicit(&r->inside, NULL, memory_order_relaxed);
		atomic_store_explicit(&r->used, false, memory_order_relaxed);
	}
}

static void ad_global_init(void)
{
	ad_key_ok = pthread_key_create(&ad_key, ad_reader_exit) == 0;
#ifndef RQ_TSAN
	{
		long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);

		if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
		    syscall(__NR_membarrier,
			    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0)
			atomic_store(&ad_membarrier, true);
	}
#endif
}

/* At unload: no destructor may point into unmapped code. */
__attribute__((destructor)) static void ad_global_fini(void)
{
	if (ad_key_ok) {
		ad_key_ok = false;
		pthread_key_delete(ad_key);
	}
}

/* This thread's record: a free one reused, or a new one; NULL on -ENOMEM. */
static struct ad_reader *ad_reader_get(void)
{
	struct ad_reader *r, *head;
	bool no;

	for (r = atomic_load_explicit(&ad_readers, memory_order_acquire); r;
	     r = r->next) {
		no = false;
		if (!atomic_load_explicit(&r->used, memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&r->used, &no, true))
			goto found;
	}
	r = rq_zalloc_aligned(sizeof(*r));
	if (!r) {
		/* Out of memory: run as a straggler for a while. */
		ad_tl.retry = AD_RECORD_RETRY;
		return NULL;
	}
	atomic_init(&r->used, true);
	head = atomic_load(&ad_readers);
	do
		r->next = head;
	while (!atomic_compare_exchange_weak(&ad_readers, &head, r));
found:
	ad_tl.retry = 0;
	/* Without the key the record stays this thread's for good. */
	if (ad_key_ok)
		(void)pthread_setspecific(ad_key, r);
	ad_tl.r = r;
	return r;
}

static inline void ad_exit(struct adaptive *a, struct ad_reader *r)
{
	if (rq_likely(r != NULL))
		atomic_store_explicit(&r->inside, NULL, memory_order_release);
	else
		atomic_fetch_sub_explicit(&a->stragglers, 1,
					  memory_order_release);
}

/*
 * One step of waiting, the @i-th: a pause for the first @nspin, then
 * sched_yield() (whoever we wait for may need the CPU) for @nyield more.
 * Returns false once both are used up: the caller sleeps its own way.
 */
static bool ad_pause(unsigned int i, unsigned int nspin, unsigned int nyield)
{
	if (i < nspin)
		rq_cpu_relax();
	else if (i < nspin + nyield)
		sched_yield();
	else
		return false;
	return true;
}

/* Until a migration is over: spin, yield, then sleep on the gate. */
static void ad_gate_wait(struct adaptive *a)
{
	uint32_t gate;
	unsigned int i;

	for (i = 0; ad_pause(i, AD_GATE_SPIN, AD_GATE_YIELD); i++)
		if (atomic_load_explicit(&a->cur, memory_order_relaxed))
			return;
	for (;;) {
		gate = atomic_load_explicit(&a->gate, memory_order_acquire);
		if (atomic_load_explicit(&a->cur, memory_order_acquire))
			return;
		rq_futex_wait(&a->gate, gate, RQ_NO_DEADLINE, RQ_WAKE_ALL);
	}
}

/*
 * ad_enter() - the current instance, with this thread marked inside @a
 *
 * Waits at the gate while a migration runs.  The caller must call
 * ad_leave() (or ad_exit()) when done with the instance.
 */
static inline struct ad_inst *ad_enter(struct adaptive *a,
				       struct ad_reader **rp)
{
	struct ad_reader *r = ad_tl.r;
	struct ad_inst *in;

	if (rq_unlikely(!r) && ad_tl.retry-- == 0)
		r = ad_reader_get();
	*rp = r;
	for (;;) {
		if (rq_unlikely(!r)) {
			atomic_fetch_add_explicit(&a->stragglers, 1,
						  memory_order_seq_cst);
		} else if (rq_likely(atomic_load_explicit(
				   &ad_membarrier, memory_order_relaxed))) {
			atomic_store_explicit(&r->inside, a,
					      memory_order_relaxed);
			atomic_signal_fence(memory_order_seq_cst);
		} else {
			atomic_exchange_explicit(&r->inside, a,
						 memory_order_seq_cst);
		}
		in = atomic_load_explicit(&a->cur, memory_order_seq_cst);
		if (rq_likely(in != NULL))
			return in;
		ad_exit(a, r);
		ad_gate_wait(a);
	}
}

/*
 * Waiting for a reader: spin, yield, then sleep briefly (a real-time
 * switcher must not starve a lower-priority reader on its CPU).
 */
static void ad_backoff(unsigned int spins)
{
	struct timespec ts = { .tv_nsec = 20000 };

	if (!ad_pause(spins, AD_WAIT_SPIN, AD_WAIT_YIELD))
		nanosleep(&ts, NULL);
}

/*
 * ad_wait_readers() - wait until no thread is inside an op of @a
 *
 * Context: a->cur was just set to NULL; a->switch_lock held; the caller
 * is not inside an op of @a.
 */
static void ad_wait_readers(struct adaptive *a)
{
	struct ad_reader *r;
	unsigned int spins;

	if (atomic_load_explicit(&ad_membarrier, memory_order_relaxed)) {
		/*
		 * Registered at init, so it cannot fail unless something
		 * (a seccomp filter) took it away since: readers then have
		 * only a compiler barrier and nothing here is safe.
		 */
		if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED,
			    0))
			abort();
	} else {
		atomic_thread_fence(memory_order_seq_cst);
	}
	for (r = atomic_load_explicit(&ad_readers, memory_order_acquire); r;
	     r = r->next)
		for (spins = 0; atomic_load_explicit(&r->inside,
						     memory_order_acquire) == a;
		     spins++)
			ad_backoff(spins);
	for (spins = 0;
	     atomic_load_explicit(&a->stragglers, memory_order_acquire);
	     spins++)
		ad_backoff(spins);
}

static void ad_maybe_switch(struct adaptive *a);

/* @n operations, at most adaptive_window. */
static uint64_t ad_cap(const struct adaptive *a, uint64_t n)
{
	return n < a->cfg.adaptive_window ? n : a->cfg.adaptive_window;
}

static uint64_t ad_first_window(const struct adaptive *a)
{
	return ad_cap(a, AD_FIRST_WINDOW);
}

/*
 * The next window's length: probe windows are short, locked ones stay at
 * the first length (contention must be seen soon), lock-free ones grow.
 * Context: a->switch_lock held, or creation.
 */
static uint64_t ad_next_window(const struct adaptive *a, bool probe)
{
	if (probe)
		return ad_cap(a, AD_PROBE_WINDOW);
	if (atomic_load_explicit(&a->cur, memory_order_relaxed)->kind ==
	    READYQ_BACKEND_LOCKED)
		return ad_first_window(a);
	return a->grow;
}

/* Whether another thread is inside an op of @a right now. */
static bool ad_others_inside(const struct adaptive *a)
{
	struct ad_reader *r;

	if (atomic_load_explicit(&a->stragglers, memory_order_relaxed))
		return true;
	for (r = atomic_load_explicit(&ad_readers, memory_order_acquire); r;
	     r = r->next)
		if (atomic_load_explicit(&r->inside, memory_order_relaxed) ==
		    a)
			return true;
	return false;
}

static int ad_switch(struct adaptive *a, enum readyq_backend to);
static void ad_switched(struct adaptive *a);

/*
 * ad_first_op() - a thread's first op on @a (or first after another queue)
 *
 * When the hint said several threads, a thread that arrives while
 * another one is inside an op confirms it: switch up at once rather than
 * after a contended window (measured: a contended window and the larger
 * migration after it cost 6-17 % of a seed run).  Threads that take
 * turns (the seed's final drain after the joins) do not count.  Only
 * until the first switch up: after that the meters decide.
 *
 * Context: outside any op of @a.
 */
static void ad_first_op(struct adaptive *a)
{
	struct ad_inst *cur;

	/* Outside an op the instance may be freed: no dereference here. */
	if (atomic_load_explicit(&a->ups, memory_order_relaxed) ||
	    !ad_others_inside(a) || pthread_mutex_trylock(&a->switch_lock))
		return;
	/* Under switch_lock cur stays, and is not NULL. */
	cur = atomic_load_explicit(&a->cur, memory_order_relaxed);
	if (cur->kind == READYQ_BACKEND_LOCKED &&
	    a->since_switch >= a->cfg.adaptive_hold &&
	    ad_switch(a, READYQ_BACKEND_LOCKFREE) == 0)
		ad_switched(a);
	pthread_mutex_unlock(&a->switch_lock);
}

/* Leaves the op and counts it; every AD_BATCH ops, adds to the window. */
static inline void ad_leave(struct adaptive *a, struct ad_reader *r)
{
	ad_exit(a, r);
	if (rq_unlikely(ad_tl.id != a->id)) {
		/*
		 * n carries over, so that a thread alternating between
		 * queues still ends windows; probe counts do not.
		 */
		ad_tl.id = a->id;
		ad_tl.probes = ad_tl.contended = 0;
		if (a->eager)
			ad_first_op(a);
	}
	if (rq_unlikely(++ad_tl.n >= AD_BATCH)) {
		ad_tl.n = 0;
		if (ad_tl.probes) {
			atomic_fetch_add_explicit(&a->probe_ops, ad_tl.probes,
						  memory_order_relaxed);
			atomic_fetch_add_explicit(&a->probe_contended,
						  ad_tl.contended,
						  memory_order_relaxed);
			ad_tl.probes = ad_tl.contended = 0;
		}
		if (atomic_fetch_add_explicit(&a->win_ops, AD_BATCH,
					      memory_order_relaxed) +
			    AD_BATCH >=
		    atomic_load_explicit(&a->window, memory_order_relaxed))
			ad_maybe_switch(a);
	}
}

/*
 * Probe windows: would this op have found the lock held?  One op in
 * AD_PROBE_SAMPLE of each thread runs under a try-lock of the ghost lock;
 * the others only look whether it is held.  Either way an op counts as
 * contended when another thread's sampled op holds the ghost, which
 * happens 1/AD_PROBE_SAMPLE as often as a real lock would be found held,
 * so ad_maybe_switch() scales the count back up.  The ghost line is
 * written AD_PROBE_SAMPLE times less often than by a try-lock per op
 * (that cost 9% of a 2-thread seed run).
 */
static inline bool ad_probe_begin(struct adaptive *a)
{
	uint32_t zero = 0;

	if (rq_likely(!atomic_load_explicit(&a->probing,
					    memory_order_relaxed)))
		return false;
	if (ad_tl.id != a->id)
		return false; /* counted from this thread's next batch on */
	if (++ad_tl.probes % AD_PROBE_SAMPLE == 0) {
		if (atomic_compare_exchange_strong_explicit(
			    &a->ghost.word, &zero, 1, memory_order_acquire,
			    memory_order_relaxed))
			return true;
	} else if (!atomic_load_explicit(&a->ghost.word,
					 memory_order_relaxed)) {
		return false;
	}
	ad_tl.contended++;
	return false;
}

static inline void ad_probe_end(struct adaptive *a, bool held)
{
	if (held)
		atomic_store_explicit(&a->ghost.word, 0, memory_order_release);
}

/* ---- switching ---- */

static void ad_add_counters(struct readyq_stats *to,
			    const struct readyq_stats *from)
{
	to->registered += from->registered;
	to->duplicates += from->duplicates;
	to->notified += from->notified;
	to->unregistered += from->unregistered;
	to->drained += from->drained;
	to->completed += from->completed;
	to->stale += from->stale;
}

static void ad_open_gate(struct adaptive *a, struct ad_inst *in)
{
	atomic_store_explicit(&a->cur, in, memory_order_release);
	atomic_fetch_add_explicit(&a->gate, 1, memory_order_release);
	rq_futex_wake(&a->gate, INT_MAX, RQ_WAKE_ALL);
}

/*
 * ad_retire() - free an instance that no thread can be inside any more
 *
 * A lock-free instance is kept until the next switch or destroy: its
 * cds_lfht_destroy() waits for liburcu's resize worker thread, which on a
 * busy machine waits for a CPU (measured: 1.3 ms at 8 threads on 2
 * vCPUs, while every other thread had work to do).
 */
static void ad_retire(struct adaptive *a, struct ad_inst *old)
{
	struct ad_inst *prev = a->retired;

	a->retired = NULL;
	if (old->kind == READYQ_BACKEND_LOCKFREE)
		a->retired = old;
	else
		ad_inst_free(old);
	if (prev)
		ad_inst_free(prev);
}

/*
 * ad_migrate() - migrate everything to a new instance of backend @to
 *
 * Context: a->switch_lock held, not inside an op of @a; through
 * ad_switch() only.
 * Return: 0, or a negative errno with the old instance still current.
 */
static int ad_migrate(struct adaptive *a, enum readyq_backend to)
{
	struct ad_inst *old = atomic_load_explicit(&a->cur,
						   memory_order_relaxed);
	struct ad_inst *in;
	struct readyq_stats st;
	struct rq_export *x = NULL;
	size_t n = 0, k;
	int rc;

	in = ad_inst_new(a, to);
	if (!in)
		return -ENOMEM;
	atomic_store_explicit(&a->cur, NULL, memory_order_seq_cst);
	ad_wait_readers(a);
	/* No thread is inside @old now, and none can enter. */
	rc = old->ops->export(old->be, &x, &n);
	for (k = 0; !rc && k < n; k++)
		rc = in->ops->import(in->be, &x[k]);
	rq_free(x);
	if (rc) {
		ad_open_gate(a, old);
		ad_inst_free(in);
		return rc;
	}
	memset(&st, 0, sizeof(st));
	old->ops->stats(old->be, &st);
	ad_add_counters(&a->base, &st);
	ad_open_gate(a, in);
	a->switches++;
	/* What sleepers polled may have moved: let them look again. */
	rq_waitq_wake_all(a->wq);
	ad_retire(a, old);
	return 0;
}

/*
 * ad_switch() - ad_migrate() with cancellation disabled and no fork(2)
 * meanwhile (lib/proc.h): cancelled in ad_wait_readers()' nanosleep(),
 * a switcher would leave a->cur NULL and the switch lock held; a child
 * forked meanwhile would inherit a queue with no current instance.
 *
 * Context: a->switch_lock held, not inside an op of @a.
 * Return: 0, or a negative errno with the old instance still current.
 */
static int ad_switch(struct adaptive *a, enum readyq_backend to)
{
	int cs, rc;

	rq_switch_begin(&cs);
	rc = ad_migrate(a, to);
	rq_switch_end(cs);
	return rc;
}

/*
 * ad_payback() - how long a quiet spell must be before a down switch
 *
 * A down switch migrates every known slot (about 80 ns each) to save
 * about 25 ns an op, so the quiet spell (consecutive quiet probe windows)
 * must be as long as all ops before it, at most AD_PAYBACK_CAP ops (a
 * long busy past must not pin the queue to the lock-free backend).  A
 * lone thread at the start switches after two probes; the last thread of
 * a busy run, alone for a moment, does not; once the queue has switched
 * up (contention seen), the spell must also be AD_PAYBACK_MIN ops long.
 * Measured on 2 vCPUs, 16 seed threads started lock-free: requiring a
 * quarter of the ops before, or all of them, runs still switched down
 * and up again mid-run in 2 of 8-10 runs (35-55 ms instead of 17 ms):
 * threads are spawned one by one and run alone in bursts.
 *
 * Context: a->switch_lock held.
 */
static uint64_t ad_payback(const struct adaptive *a)
{
	uint64_t before = a->ops - a->quiet_ops;

	/* Contention seen once (an up switch) needs a longer proof. */
	if (atomic_load_explicit(&a->ups, memory_order_relaxed) &&
	    before < AD_PAYBACK_MIN)
		before = AD_PAYBACK_MIN;
	return before < AD_PAYBACK_CAP ? before : AD_PAYBACK_CAP;
}

/* After a switch: windows start again.  Context: a->switch_lock held. */
static void ad_switched(struct adaptive *a)
{
	if (atomic_load_explicit(&a->cur, memory_order_relaxed)->kind ==
	    READYQ_BACKEND_LOCKFREE)
		atomic_fetch_add_explicit(&a->ups, 1, memory_order_relaxed);
	a->since_switch = 0;
	a->streak = 0;
	a->quiet_ops = 0;
	a->normal = 0;
	a->grow = ad_first_window(a);
	atomic_store_explicit(&a->probing, false, memory_order_relaxed);
	atomic_store_explicit(&a->win_ops, 0, memory_order_relaxed);
	atomic_store_explicit(&a->probe_ops, 0, memory_order_relaxed);
	atomic_store_explicit(&a->probe_contended, 0, memory_order_relaxed);
	atomic_store_explicit(&a->window, ad_next_window(a, false),
			      memory_order_relaxed);
}

/* Called at the end of a window; decides and maybe switches. */
static void ad_maybe_switch(struct adaptive *a)
{
	enum readyq_backend kind, want = READYQ_BACKEND_LOCKED;
	struct ad_inst *cur;
	uint64_t ops, cont, w;
	uint32_t hold = a->cfg.adaptive_hold;
	bool met = false, probe = false;

	if (pthread_mutex_trylock(&a->switch_lock))
		return;
	w = atomic_load_explicit(&a->window, memory_order_relaxed);
	if (atomic_load_explicit(&a->win_ops, memory_order_relaxed) < w)
		goto out;
	atomic_store_explicit(&a->win_ops, 0, memory_order_relaxed);
	a->windows++;
	a->since_switch++;
	a->ops += w;
	/* Only switches, under switch_lock, change cur: no NULL here. */
	cur = atomic_load_explicit(&a->cur, memory_order_relaxed);
	kind = cur->kind;
	if (kind == READYQ_BACKEND_LOCKED) {
		cont = cur->ops->contention(cur->be, &ops);
		met = ops && cont * 1000 / ops > a->cfg.adaptive_up_permille;
		want = READYQ_BACKEND_LOCKFREE;
		/* Running contended on a lock costs 2-3x: one window does. */
		hold = 1;
	} else if (atomic_load_explicit(&a->probing, memory_order_relaxed)) {
		ops = atomic_exchange_explicit(&a->probe_ops, 0,
					       memory_order_relaxed);
		cont = atomic_exchange_explicit(&a->probe_contended, 0,
						memory_order_relaxed);
		met = ops && cont * AD_PROBE_SAMPLE * 1000 / ops <
				     a->cfg.adaptive_down_permille;
		a->quiet_ops = met ? a->quiet_ops + w : 0;
		/* A quiet probe is followed by another until it switches. */
		probe = met;
		/* Payback: see ad_payback(). */
		if (met && a->quiet_ops < ad_payback(a) &&
		    !(a->cfg.flags & READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH))
			hold = UINT32_MAX;
	} else if (a->cfg.flags & READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH) {
		met = true;
	} else {
		/* A lock-free window: grow, and probe every few. */
		a->grow = ad_cap(a, 2 * a->grow);
		probe = ++a->normal % AD_PROBE_EVERY == 0;
		goto next;
	}
	a->streak = met ? a->streak + 1 : 0;
	if (a->cfg.flags & READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH) {
		a->streak = hold;
		a->since_switch = a->cfg.adaptive_hold;
	}
	if (a->streak >= hold && a->since_switch >= a->cfg.adaptive_hold) {
		a->streak = 0;
		if (ad_switch(a, want) == 0) {
			ad_switched(a);
			goto out;
		}
	}
next:
	atomic_store_explicit(&a->probing, probe, memory_order_relaxed);
	atomic_store_explicit(&a->window, ad_next_window(a, probe),
			      memory_order_relaxed);
out:
	pthread_mutex_unlock(&a->switch_lock);
}

/* ---- ops ---- */

static int ad_create(const struct readyq_config *cfg, struct rq_waitq *wq,
		     void **bep)
{
	struct adaptive *a;
	enum readyq_backend first;
	bool probe;

	pthread_once(&ad_once, ad_global_init);
	a = rq_zalloc_aligned(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->id = atomic_fetch_add_explicit(&ad_next_id, 1, memory_order_relaxed);
	a->wq = wq;
	a->cfg = *cfg;
	if (!a->cfg.adaptive_window)
		a->cfg.adaptive_window = AD_DEFAULT_WINDOW;
	if (!a->cfg.adaptive_up_permille)
		a->cfg.adaptive_up_permille = AD_DEFAULT_UP;
	if (!a->cfg.adaptive_down_permille)
		a->cfg.adaptive_down_permille =
			a->cfg.adaptive_up_permille > AD_DEFAULT_DOWN ?
				AD_DEFAULT_DOWN :
				a->cfg.adaptive_up_permille / 2;
	if (!a->cfg.adaptive_hold)
		a->cfg.adaptive_hold = AD_DEFAULT_HOLD;
	pthread_mutex_init(&a->switch_lock, NULL);
	atomic_init(&a->gate, 0);
	atomic_init(&a->win_ops, 0);
	a->grow = ad_first_window(a);
	atomic_init(&a->probe_ops, 0);
	atomic_init(&a->probe_contended, 0);
	atomic_init(&a->stragglers, 0);
	first = cfg->concurrency_hint > AD_LOCKFREE_HINT ?
			READYQ_BACKEND_LOCKFREE :
			READYQ_BACKEND_LOCKED;
	a->eager = cfg->concurrency_hint > AD_EAGER_HINT;
	/* No switch before: the first may come at once. */
	a->since_switch = a->cfg.adaptive_hold;
	/* Started lock-free on a guess: probe the first windows at once. */
	probe = first == READYQ_BACKEND_LOCKFREE;
	atomic_init(&a->probing, probe);
	atomic_init(&a->cur, ad_inst_new(a, first));
	if (!atomic_load_explicit(&a->cur, memory_order_relaxed)) {
		pthread_mutex_destroy(&a->switch_lock);
		rq_free(a);
		return -ENOMEM;
	}
	atomic_init(&a->window, ad_next_window(a, probe));
	*bep = a;
	return 0;
}

static void ad_destroy(void *be)
{
	struct adaptive *a = be;

	ad_inst_free(atomic_load_explicit(&a->cur, memory_order_relaxed));
	if (a->retired)
		ad_inst_free(a->retired);
	pthread_mutex_destroy(&a->switch_lock);
	rq_free(a);
}

static int ad_reg(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	int rc = in->ops->reg(in->be, idx);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static int ad_unreg(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	int rc = in->ops->unreg(in->be, idx);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static ssize_t ad_drain(void *be, struct readyq_index *out, size_t max)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	ssize_t rc = in->ops->drain(in->be, out, max);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static int ad_complete(void *be, struct readyq_index idx,
		       const struct readyq_result *res)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	int rc = in->ops->complete(in->be, idx, res);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static int ad_resume(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	int rc = in->ops->resume(in->be, idx);

	ad_leave(a, r);
	return rc;
}

static int ad_resume_signal(void *be, uint64_t key)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	int rc = in->ops->resume_signal(in->be, key);

	ad_leave(a, r);
	return rc;
}

/* poll and next_deadline: no window accounting, they are not work. */
static int ad_poll(void *be)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	int rc = in->ops->poll(in->be);

	ad_exit(a, r);
	return rc;
}

static uint64_t ad_next_deadline(void *be)
{
	struct adaptive *a = be;
	struct ad_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	uint64_t d = in->ops->next_deadline(in->be);

	ad_exit(a, r);
	return d;
}

static void ad_stats(void *be, struct readyq_stats *st)
{
	struct adaptive *a = be;
	struct ad_inst *in;

	/* The switch lock keeps a->base and the instance consistent. */
	pthread_mutex_lock(&a->switch_lock);
	in = atomic_load_explicit(&a->cur, memory_order_relaxed);
	in->ops->stats(in->be, st);
	ad_add_counters(st, &a->base);
	st->switches = a->switches;
	st->active = in->kind;
	pthread_mutex_unlock(&a->switch_lock);
}

const struct readyq_ops rq_adaptive_ops = {
	.create = ad_create,
	.destroy = ad_destroy,
	.reg = ad_reg,
	.unreg = ad_unreg,
	.drain = ad_drain,
	.complete = ad_complete,
	.resume = ad_resume,
	.resume_signal = ad_resume_signal,
	.poll = ad_poll,
	.next_deadline = ad_next_deadline,
	.stats = ad_stats,
};
