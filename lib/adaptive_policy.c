// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * adaptive_policy.c - the adaptive backend's windows, and when to switch
 *
 * At creation the queue starts on the lock-free backend when
 * concurrency_hint exceeds AD_LOCKFREE_HINT, else on the locked one;
 * above AD_EAGER_HINT a queue that starts locked switches up as soon as a
 * thread arrives while another is inside an op (ad_first_op()): the hint,
 * confirmed.  At run time the ops are counted in windows, and at the end
 * of each window (ad_window_end()) one evaluator per direction decides:
 *
 *  - up (locked -> lock-free), ad_up_wanted(): more than
 *    adaptive_up_permille of the lock acquisitions in one window found the
 *    lock held (the locked backend's own meter, struct
 *    readyq_ops.contention).  Locked windows stay at AD_FIRST_WINDOW ops
 *    and one contended window is enough: running contended on a lock
 *    costs more than an op (see perf/README.md, "Adaptive backend: why
 *    the constants"), so it must be seen soon.
 *  - down (lock-free -> locked), ad_down_wanted(): fewer than
 *    adaptive_down_permille of the ops in adaptive_hold consecutive
 *    *probe windows* would have been contended, and the quiet spell is
 *    long enough for the migration to pay back (ad_payback()).  The
 *    lock-free backend has no lock to measure: in a probe window
 *    (AD_PROBE_WINDOW ops, after every AD_PROBE_EVERY plain lock-free
 *    windows, which double up to adaptive_window) ops look at a ghost
 *    lock that sampled ops hold around the op, as the locked backend
 *    would (ad_probe_begin() in adaptive.h).
 *
 * Hysteresis: the two thresholds are far apart, no switch happens within
 * adaptive_hold windows of the previous one (ad_switch_now()), and down
 * needs adaptive_hold quiet probes in a row.  A queue that starts on the
 * lock-free backend (on the hint's guess) probes at once, so a lone
 * caller moves to the locked backend after about 500 ops, while few slots
 * are known and a migration is cheap.
 *
 * READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH (a diagnostic flag for tests) is
 * handled in one place, ad_switch_now(): every window end switches.
 *
 * Context: everything here but ad_first_op()'s first checks runs under
 * a->switch_lock.
 */
#include <config.h>
#include "adaptive.h"

#define AD_PERMILLE 1000
#define AD_PAYBACK_MIN (64u << 10) /* quiet ops: see ad_payback() */
#define AD_PAYBACK_CAP (4u << 20)

rq_thread_local struct ad_thread_counts ad_counts;

/* ---- windows ---- */

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
 */
static uint64_t ad_next_window(const struct adaptive *a, bool probe)
{
	if (probe)
		return ad_cap(a, AD_PROBE_WINDOW);
	if (atomic_load_explicit(&a->cur, memory_order_relaxed)->kind ==
	    READYQ_BACKEND_LOCKED)
		return ad_first_window(a);
	return a->lockfree_window;
}

/*
 * ad_windows_init() - the first window of a new queue
 * @probe: whether it is a probe window (a start on the lock-free backend)
 *
 * Context: creation, a->cur set.
 */
void ad_windows_init(struct adaptive *a, bool probe)
{
	a->lockfree_window = ad_first_window(a);
	/* No switch before: the first may come at once. */
	a->windows_since_switch = a->cfg.adaptive_hold;
	atomic_init(&a->probing, probe);
	atomic_init(&a->window, ad_next_window(a, probe));
}

/* After a switch: windows start again.  Context: a->switch_lock held. */
static void ad_after_switch(struct adaptive *a)
{
	ad_assert_switch_locked(a);
	if (atomic_load_explicit(&a->cur, memory_order_relaxed)->kind ==
	    READYQ_BACKEND_LOCKFREE)
		atomic_fetch_add_explicit(&a->switches_up, 1,
					  memory_order_relaxed);
	a->windows_since_switch = 0;
	a->quiet_probes = 0;
	a->quiet_ops = 0;
	a->plain_windows = 0;
	a->lockfree_window = ad_first_window(a);
	atomic_store_explicit(&a->probing, false, memory_order_relaxed);
	atomic_store_explicit(&a->win_ops, 0, memory_order_relaxed);
	atomic_store_explicit(&a->probe_ops, 0, memory_order_relaxed);
	atomic_store_explicit(&a->probe_contended, 0, memory_order_relaxed);
	atomic_store_explicit(&a->window, ad_next_window(a, false),
			      memory_order_relaxed);
}

/* ---- the evaluators ---- */

/*
 * ad_up_wanted() - the up evaluator: was this locked window contended?
 *
 * Reads and resets the locked backend's meter.
 */
static bool ad_up_wanted(const struct adaptive *a, struct ad_inst *cur)
{
	uint64_t ops, cont = cur->ops->contention(cur->be, &ops);

	return ops && cont * AD_PERMILLE / ops > a->cfg.adaptive_up_permille;
}

/*
 * ad_payback() - how long a quiet spell must be before a down switch
 *
 * A down switch migrates every known slot to save a little on every op,
 * so the quiet spell (consecutive quiet probe windows) must be as long
 * as all ops before it, at most AD_PAYBACK_CAP ops (a long busy past
 * must not pin the queue to the lock-free backend).  A lone thread at
 * the start switches after two probes; the last thread of a busy run,
 * alone for a moment, does not; once the queue has switched up
 * (contention seen), the spell must also be AD_PAYBACK_MIN ops long.
 * Shorter spells made burst benchmarks whose threads start one by one
 * switch down and up again mid-run: see perf/README.md, "Adaptive
 * backend: why the constants".
 */
static uint64_t ad_payback(const struct adaptive *a)
{
	uint64_t before = a->ops_total - a->quiet_ops;

	/* Contention seen once (an up switch) needs a longer proof. */
	if (atomic_load_explicit(&a->switches_up, memory_order_relaxed) &&
	    before < AD_PAYBACK_MIN)
		before = AD_PAYBACK_MIN;
	return before < AD_PAYBACK_CAP ? before : AD_PAYBACK_CAP;
}

/* Was this probe window quiet?  Reads and resets the probe counters. */
static bool ad_probe_quiet(struct adaptive *a)
{
	uint64_t ops = atomic_exchange_explicit(&a->probe_ops, 0,
						memory_order_relaxed);
	uint64_t cont = atomic_exchange_explicit(&a->probe_contended, 0,
						 memory_order_relaxed);

	/* Sampled: one contended op in AD_PROBE_SAMPLE is seen. */
	return ops && cont * AD_PROBE_SAMPLE * AD_PERMILLE / ops <
			      a->cfg.adaptive_down_permille;
}

/*
 * ad_down_wanted() - the down evaluator, at the end of a lock-free window
 * @w: the window's length in ops
 * @probe_next: set to whether the next window is a probe window
 *
 * A plain window only grows the next one and schedules a probe every
 * AD_PROBE_EVERY windows.  A quiet probe window is followed by another
 * one until the queue switches.
 */
static bool ad_down_wanted(struct adaptive *a, uint64_t w, bool *probe_next)
{
	bool quiet;

	if (!atomic_load_explicit(&a->probing, memory_order_relaxed)) {
		a->lockfree_window = ad_cap(a, 2 * a->lockfree_window);
		*probe_next = ++a->plain_windows % AD_PROBE_EVERY == 0;
		return false;
	}
	quiet = ad_probe_quiet(a);
	a->quiet_ops = quiet ? a->quiet_ops + w : 0;
	a->quiet_probes = quiet ? a->quiet_probes + 1 : 0;
	*probe_next = quiet;
	return quiet && a->quiet_probes >= a->cfg.adaptive_hold &&
	       a->quiet_ops >= ad_payback(a);
}

/*
 * ad_switch_now() - whether a window end switches: hysteresis, and the
 * one place where READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH is looked at
 * @want: the evaluator's answer
 *
 * A wanted switch waits until adaptive_hold windows have passed since
 * the previous one.  With the diagnostic flag (tests: migrations under
 * load) every window end switches, whatever the evaluators said; they
 * still ran, so their meters stay as without the flag.
 */
static bool ad_switch_now(const struct adaptive *a, bool want)
{
	if (a->cfg.flags & READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH)
		return true;
	return want && a->windows_since_switch >= a->cfg.adaptive_hold;
}

/* The end of a full window of @w ops.  Context: a->switch_lock held. */
static void ad_decide(struct adaptive *a, uint64_t w)
{
	/* Only switches, under switch_lock, change cur: no NULL here. */
	struct ad_inst *cur =
		atomic_load_explicit(&a->cur, memory_order_relaxed);
	enum readyq_backend to;
	bool want, probe_next = false;

	rq_assert(cur != NULL);
	a->windows_since_switch++;
	a->ops_total += w;
	if (cur->kind == READYQ_BACKEND_LOCKED) {
		to = READYQ_BACKEND_LOCKFREE;
		want = ad_up_wanted(a, cur);
	} else {
		to = READYQ_BACKEND_LOCKED;
		want = ad_down_wanted(a, w, &probe_next);
	}
	if (ad_switch_now(a, want)) {
		a->quiet_probes = 0;
		if (ad_switch(a, to) == 0) {
			ad_after_switch(a);
			return;
		}
	}
	atomic_store_explicit(&a->probing, probe_next, memory_order_relaxed);
	atomic_store_explicit(&a->window, ad_next_window(a, probe_next),
			      memory_order_relaxed);
}

/*
 * ad_window_end() - a thread's batch filled the window: decide
 *
 * Only one thread decides: the others go on (trylock), and a window
 * another thread already closed is not closed twice.
 *
 * Context: outside any op of @a.
 */
void ad_window_end(struct adaptive *a)
{
	uint64_t w;

	if (pthread_mutex_trylock(&a->switch_lock))
		return;
	w = atomic_load_explicit(&a->window, memory_order_relaxed);
	if (atomic_load_explicit(&a->win_ops, memory_order_relaxed) >= w) {
		atomic_store_explicit(&a->win_ops, 0, memory_order_relaxed);
		ad_decide(a, w);
	}
	pthread_mutex_unlock(&a->switch_lock);
}

/*
 * ad_first_op() - a thread's first op on @a (or first after another queue)
 *
 * When the hint said several threads, a thread that arrives while
 * another one is inside an op confirms it: switch up at once rather than
 * after a contended window (which, with the larger migration after it,
 * costs a burst benchmark noticeably: see perf/README.md, "Adaptive
 * backend: why the constants").  Threads that take turns (a final drain
 * after the producers joined) do not count.  Only until the first switch
 * up: after that the meters decide.
 *
 * Context: outside any op of @a.
 */
void ad_first_op(struct adaptive *a)
{
	struct ad_inst *cur;

	/* Outside an op the instance may be freed: no dereference here. */
	if (atomic_load_explicit(&a->switches_up, memory_order_relaxed) ||
	    !qs_any_inside(&a->readers) ||
	    pthread_mutex_trylock(&a->switch_lock))
		return;
	/* Under switch_lock cur stays, and is not NULL. */
	cur = atomic_load_explicit(&a->cur, memory_order_relaxed);
	if (cur->kind == READYQ_BACKEND_LOCKED &&
	    a->windows_since_switch >= a->cfg.adaptive_hold &&
	    ad_switch(a, READYQ_BACKEND_LOCKFREE) == 0)
		ad_after_switch(a);
	pthread_mutex_unlock(&a->switch_lock);
}
