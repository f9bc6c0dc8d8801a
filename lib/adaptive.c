// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * adaptive.c - pick the locked or the lock-free backend, switch at run time
 *
 * Overview
 * --------
 * The adaptive backend owns one inner backend at a time (struct ad_inst:
 * an ops table and its instance) and forwards every op to it.  At creation
 * it picks the lock-free backend when concurrency_hint exceeds
 * AD_DEFAULT_HINT_THRESHOLD, else the locked one.  At run time it measures
 * contention over windows of operations and switches:
 *
 *  - up (locked -> lock-free) when more than adaptive_up_permille of the
 *    lock acquisitions in a window found the lock held (the locked
 *    backend's own meter, struct readyq_ops.contention);
 *  - down (lock-free -> locked) when fewer than adaptive_down_permille of
 *    the operations in a *probe window* would have been contended.  The
 *    lock-free backend has no lock to measure, so one window in
 *    AD_PROBE_EVERY runs every operation under a try-lock of a ghost lock
 *    (taken and released around the op, as the locked backend would): its
 *    failure rate is the contention the locked backend would see.
 *
 * Hysteresis: a condition must hold for adaptive_hold consecutive
 * evaluations, and no switch happens within adaptive_hold windows of the
 * previous one.  A probe that finds the lock-free backend uncontended is
 * followed by another until that holds, and a queue that starts on the
 * lock-free backend (on the hint's guess) probes from its first window,
 * so a lone caller is moved to the locked backend after about 3,000
 * operations.
 *
 * Publication and migration (RCU, urcu-bp flavour: callers never register
 * threads).  Every op runs inside an RCU read-side critical section and
 * reads the current instance with an acquire load (rcu_dereference()).  A switch, made by one
 * thread (ad->switch_lock) outside any read-side section:
 *
 *   1. creates the new instance;
 *   2. publishes NULL and waits for a grace period: afterwards no thread
 *      is inside the old instance, and new ops wait on the ad->gate futex;
 *   3. exports every slot of the old instance (QUEUED ones in FIFO order)
 *      and imports them into the new one: QUEUED, RUNNING (with NOTIFIED),
 *      SUSPENDED (key, deadline), DELAYED, RETIRED and IDLE generations
 *      all carry over, so SPEC §2 holds across the switch;
 *   4. publishes the new instance, opens the gate, wakes every waiter of
 *      the queue (what they polled may have moved) and frees the old one.
 *
 * If anything fails (memory), the old instance is published again,
 * unchanged.  FIFO order is kept exactly: no op runs during a migration,
 * so no index is queued "during" one; ops that arrive wait at the gate
 * (register on this backend can therefore block for the length of a
 * migration, typically well under a millisecond per 10,000 known slots).
 */
#include <config.h>
#ifndef RQ_URCU_NO_INLINE /* see configure.ac */
#define _LGPL_SOURCE
#endif
#include "internal.h"
#include "tsan.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <urcu-bp.h>

#define AD_DEFAULT_WINDOW 16384
#define AD_DEFAULT_UP 150 /* permille of contended lock acquisitions */
#define AD_FIRST_WINDOW 1024 /* windows start small and double */
#define AD_DEFAULT_DOWN 30
#define AD_DEFAULT_HOLD 2
#define AD_PROBE_EVERY 4
#define AD_BATCH 64 /* ops a thread counts before adding to the window */

/*
 * Break-even concurrency hint: above it the lock-free backend starts.
 * Measured with perf/readyq-bench seed on the 2-vCPU development machine
 * (2026-11-26 20:05 UTC, medians of 15): locked 560 / 5800 / 15200 /
 * 31000 us, lock-free 830 / 2500 / 4300 / 9000 us at 1 / 2 / 4 / 8
 * threads: the lock-free backend wins from two busy threads on (the
 * seed's prototype measured its break-even at 4).  A hint is only a
 * guess, so the run-time switch corrects a wrong start; windows start at
 * AD_FIRST_WINDOW operations so that happens while few slots are known
 * and a migration is cheap.  See perf/README.md, "Adaptive threshold".
 */
#define AD_DEFAULT_HINT_THRESHOLD 1

struct ad_inst {
	const struct readyq_ops *ops;
	void *be;
	enum readyq_backend kind;
};

struct adaptive {
	/*
	 * RCU-protected, NULL while migrating.  A C11 atomic (release store,
	 * acquire load) rather than rcu_assign_pointer()/rcu_dereference(),
	 * whose inline assembly ThreadSanitizer cannot see.
	 */
	_Atomic(struct ad_inst *) cur;
	char rcu_marker; /* lib/tsan.h: read sections happen before a GP */
	_Atomic uint32_t gate; /* futex: bumped when a migration ends */
	struct rq_waitq *wq;
	struct readyq_config cfg;

	_Atomic uint64_t win_ops; /* ops in the current window */
	_Atomic uint64_t window; /* its length: doubles up to adaptive_window */
	_Atomic bool probing; /* lock-free: this window is a probe window */
	struct rq_lock ghost; /* the probe's stand-in for the locked lock */
	_Atomic uint64_t probe_ops, probe_contended;

	pthread_mutex_t switch_lock; /* one evaluation / switch at a time */
	uint32_t windows, streak, since_switch;
	uint64_t switches;
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

/* ---- entering and leaving an op ---- */

/*
 * ad_enter() - the current instance, inside an RCU read-side section
 *
 * Waits at the gate while a migration runs.  The caller must call
 * ad_leave() when done with the instance.
 */
static struct ad_inst *ad_enter(struct adaptive *a)
{
	struct ad_inst *in;
	uint32_t gate;

	for (;;) {
		gate = atomic_load_explicit(&a->gate, memory_order_acquire);
		urcu_bp_read_lock();
		in = atomic_load_explicit(&a->cur, memory_order_acquire);
		if (rq_likely(in != NULL))
			return in;
		urcu_bp_read_unlock();
		rq_futex_wait(&a->gate, gate, RQ_NO_DEADLINE, RQ_WAKE_ALL);
	}
}

static void ad_maybe_switch(struct adaptive *a);

static __thread __attribute__((tls_model("initial-exec"))) struct {
	const struct adaptive *a;
	uint32_t n;
} ad_tl;

static inline void ad_read_unlock(struct adaptive *a)
{
	rq_tsan_release(&a->rcu_marker);
	urcu_bp_read_unlock();
}

static inline void ad_leave(struct adaptive *a)
{
	ad_read_unlock(a);
	if (ad_tl.a != a) {
		ad_tl.a = a;
		ad_tl.n = 0;
	}
	if (rq_unlikely(++ad_tl.n >= AD_BATCH)) {
		ad_tl.n = 0;
		if (atomic_fetch_add_explicit(&a->win_ops, AD_BATCH,
					      memory_order_relaxed) +
			    AD_BATCH >=
		    atomic_load_explicit(&a->window, memory_order_relaxed))
			ad_maybe_switch(a);
	}
}

/* Probe windows: run the op under a try-lock of the ghost lock. */
static inline bool ad_probe_begin(struct adaptive *a)
{
	uint32_t zero = 0;

	if (rq_likely(!atomic_load_explicit(&a->probing,
					    memory_order_relaxed)))
		return false;
	atomic_fetch_add_explicit(&a->probe_ops, 1, memory_order_relaxed);
	if (atomic_compare_exchange_strong_explicit(&a->ghost.word, &zero, 1,
						    memory_order_acquire,
						    memory_order_relaxed))
		return true;
	atomic_fetch_add_explicit(&a->probe_contended, 1,
				  memory_order_relaxed);
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
 * ad_switch() - migrate everything to a new instance of backend @to
 *
 * Context: a->switch_lock held, outside any RCU read-side section.
 * Return: 0, or a negative errno with the old instance still current.
 */
static int ad_switch(struct adaptive *a, enum readyq_backend to)
{
	struct ad_inst *old = a->cur, *in;
	struct readyq_stats st;
	struct rq_export *x = NULL;
	size_t n = 0, k;
	int rc;

	in = ad_inst_new(a, to);
	if (!in)
		return -ENOMEM;
	atomic_store_explicit(&a->cur, NULL, memory_order_release);
	urcu_bp_synchronize_rcu();
	rq_tsan_acquire(&a->rcu_marker);
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
	ad_inst_free(old);
	a->switches++;
	/* What sleepers polled may have moved: let them look again. */
	rq_waitq_wake_all(a->wq);
	return 0;
}

/* Called at the end of a window; decides and maybe switches. */
static void ad_maybe_switch(struct adaptive *a)
{
	enum readyq_backend kind, want;
	uint64_t ops, cont, permille;
	bool met;

	if (pthread_mutex_trylock(&a->switch_lock))
		return;
	if (atomic_load_explicit(&a->win_ops, memory_order_relaxed) <
	    atomic_load_explicit(&a->window, memory_order_relaxed))
		goto out;
	atomic_store_explicit(&a->win_ops, 0, memory_order_relaxed);
	if (atomic_load_explicit(&a->window, memory_order_relaxed) <
	    a->cfg.adaptive_window)
		atomic_store_explicit(&a->window,
				      2 * atomic_load_explicit(
						  &a->window,
						  memory_order_relaxed),
				      memory_order_relaxed);
	a->windows++;
	a->since_switch++;
	kind = a->cur->kind;
	if (kind == READYQ_BACKEND_LOCKED) {
		cont = a->cur->ops->contention(a->cur->be, &ops);
		permille = ops ? cont * 1000 / ops : 0;
		met = permille > a->cfg.adaptive_up_permille;
		want = READYQ_BACKEND_LOCKFREE;
	} else if (atomic_load_explicit(&a->probing, memory_order_relaxed)) {
		atomic_store_explicit(&a->probing, false,
				      memory_order_relaxed);
		ops = atomic_exchange_explicit(&a->probe_ops, 0,
					       memory_order_relaxed);
		cont = atomic_exchange_explicit(&a->probe_contended, 0,
						memory_order_relaxed);
		permille = ops ? cont * 1000 / ops : 0;
		met = ops && permille < a->cfg.adaptive_down_permille;
		want = READYQ_BACKEND_LOCKED;
	} else if (a->cfg.flags & READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH) {
		met = true;
		want = READYQ_BACKEND_LOCKED;
	} else {
		if (a->windows % AD_PROBE_EVERY == 0)
			atomic_store_explicit(&a->probing, true,
					      memory_order_relaxed);
		goto out;
	}
	a->streak = met ? a->streak + 1 : 0;
	/* A probe that found it quiet probes again until hold is reached. */
	if (kind != READYQ_BACKEND_LOCKED && met &&
	    a->streak < a->cfg.adaptive_hold)
		atomic_store_explicit(&a->probing, true,
				      memory_order_relaxed);
	if (a->cfg.flags & READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH)
		a->streak = a->since_switch = a->cfg.adaptive_hold;
	if (a->streak >= a->cfg.adaptive_hold &&
	    a->since_switch >= a->cfg.adaptive_hold) {
		if (ad_switch(a, want) == 0) {
			a->since_switch = 0;
			atomic_store_explicit(&a->probing, false,
					      memory_order_relaxed);
		}
		a->streak = 0;
	}
out:
	pthread_mutex_unlock(&a->switch_lock);
}

/* ---- ops ---- */

static int ad_create(const struct readyq_config *cfg, struct rq_waitq *wq,
		     void **bep)
{
	struct adaptive *a = rq_calloc(1, sizeof(*a));
	enum readyq_backend first;

	if (!a)
		return -ENOMEM;
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
	atomic_init(&a->window, a->cfg.adaptive_window < AD_FIRST_WINDOW ?
					a->cfg.adaptive_window :
					AD_FIRST_WINDOW);
	atomic_init(&a->probing, false);
	atomic_init(&a->probe_ops, 0);
	atomic_init(&a->probe_contended, 0);
	first = cfg->concurrency_hint > AD_DEFAULT_HINT_THRESHOLD ?
			READYQ_BACKEND_LOCKFREE :
			READYQ_BACKEND_LOCKED;
	/* Started lock-free on a guess: probe the first windows at once. */
	atomic_store_explicit(&a->probing, first == READYQ_BACKEND_LOCKFREE,
			      memory_order_relaxed);
	a->cur = ad_inst_new(a, first);
	if (!a->cur) {
		pthread_mutex_destroy(&a->switch_lock);
		rq_free(a);
		return -ENOMEM;
	}
	*bep = a;
	return 0;
}

static void ad_destroy(void *be)
{
	struct adaptive *a = be;

	ad_inst_free(a->cur);
	pthread_mutex_destroy(&a->switch_lock);
	rq_free(a);
}

static int ad_reg(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	bool held = ad_probe_begin(a);
	int rc = in->ops->reg(in->be, idx);

	ad_probe_end(a, held);
	ad_leave(a);
	return rc;
}

static int ad_unreg(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	bool held = ad_probe_begin(a);
	int rc = in->ops->unreg(in->be, idx);

	ad_probe_end(a, held);
	ad_leave(a);
	return rc;
}

static ssize_t ad_drain(void *be, struct readyq_index *out, size_t max)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	bool held = ad_probe_begin(a);
	ssize_t rc = in->ops->drain(in->be, out, max);

	ad_probe_end(a, held);
	ad_leave(a);
	return rc;
}

static int ad_complete(void *be, struct readyq_index idx,
		       const struct readyq_result *res)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	bool held = ad_probe_begin(a);
	int rc = in->ops->complete(in->be, idx, res);

	ad_probe_end(a, held);
	ad_leave(a);
	return rc;
}

static int ad_resume(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	int rc = in->ops->resume(in->be, idx);

	ad_leave(a);
	return rc;
}

static int ad_resume_signal(void *be, uint64_t key)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	int rc = in->ops->resume_signal(in->be, key);

	ad_leave(a);
	return rc;
}

/* poll and next_deadline: no window accounting, they are not work. */
static int ad_poll(void *be)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	int rc = in->ops->poll(in->be);

	ad_read_unlock(a);
	return rc;
}

static uint64_t ad_next_deadline(void *be)
{
	struct adaptive *a = be;
	struct ad_inst *in = ad_enter(a);
	uint64_t d = in->ops->next_deadline(in->be);

	ad_read_unlock(a);
	return d;
}

static void ad_stats(void *be, struct readyq_stats *st)
{
	struct adaptive *a = be;
	struct ad_inst *in;

	/* The switch lock keeps a->base and the instance consistent. */
	pthread_mutex_lock(&a->switch_lock);
	in = a->cur;
	in->ops->stats(in->be, st);
	ad_add_counters(st, &a->base);
	st->switches = a->switches;
	st->active = in->kind;
	pthread_mutex_unlock(&a->switch_lock);
}

const struct readyq_ops rq_adaptive_ops = {
	.name = "adaptive",
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
