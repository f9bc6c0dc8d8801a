// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * adaptive_migrate.c - moving an adaptive queue to the other backend
 *
 * A switch (ad_switch()), made by one thread (a->switch_lock) outside
 * any op:
 *
 *   1. creates the new instance;
 *   2. publishes NULL as a->cur and waits until no thread is inside an op
 *      (qs_synchronize(), lib/quiesce.h); new ops wait at the a->gate
 *      futex (after a short spin: ad_gate_wait());
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
 * so no index is queued "during" one; ops that arrive wait at the gate,
 * so any op (register included) can block for the length of a migration,
 * which grows with the number of known slots (see perf/README.md,
 * "Adaptive backend: why the constants").
 */
#include <config.h>
#include "adaptive.h"
#include "proc.h"

#include <limits.h>
#include <string.h>

#define AD_GATE_SPIN 200 /* pauses at the gate before yielding */
#define AD_GATE_YIELD 200 /* sched_yield()s at the gate before sleeping */

/* Adds the counters of @from (an instance's stats) to @to. */
void ad_add_counters(struct readyq_stats *to, const struct readyq_stats *from)
{
	to->registered += from->registered;
	to->duplicates += from->duplicates;
	to->notified += from->notified;
	to->unregistered += from->unregistered;
	to->drained += from->drained;
	to->completed += from->completed;
	to->stale += from->stale;
}

/*
 * ad_gate_wait() - until a migration is over: spin, yield, then sleep on
 * the gate
 *
 * Context: an op that found a->cur NULL, outside the domain again.
 */
void ad_gate_wait(struct adaptive *a)
{
	uint32_t gate;
	unsigned int i;

	for (i = 0; qs_pause(i, AD_GATE_SPIN, AD_GATE_YIELD); i++)
		if (atomic_load_explicit(&a->cur, memory_order_relaxed))
			return;
	for (;;) {
		gate = atomic_load_explicit(&a->gate, memory_order_acquire);
		if (atomic_load_explicit(&a->cur, memory_order_acquire))
			return;
		rq_futex_wait(&a->gate, gate, RQ_NO_DEADLINE, RQ_WAKE_ALL);
	}
}

/* Publishes @in and lets the ops waiting at the gate in. */
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
 * destroy deletes every region from its hash table, which takes long
 * enough to be kept off the op that happened to switch (see
 * perf/README.md, "Adaptive backend: why the constants").
 *
 * Context: a->switch_lock held.
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
 * ad_move_slots() - export every slot of @from and import it into @to
 *
 * Context: no thread is inside @from, and none can enter it.
 * Return: 0 or a negative errno; @from is unchanged either way.
 */
static int ad_move_slots(struct ad_inst *from, struct ad_inst *to)
{
	struct rq_export *x = NULL;
	size_t n = 0, k;
	int rc = from->ops->export(from->be, &x, &n);

	for (k = 0; !rc && k < n; k++)
		rc = to->ops->import(to->be, &x[k]);
	rq_free(x);
	return rc;
}

/*
 * ad_migrate() - migrate everything to a new instance of backend @to,
 * through ad_switch() only
 *
 * Context: a->switch_lock held, not inside an op of @a, no fork and no
 * cancellation in between (rq_switch_begin()).
 * Return: 0, or a negative errno with the old instance still current.
 */
static int ad_migrate(struct adaptive *a, enum readyq_backend to)
{
	struct ad_inst *old =
		atomic_load_explicit(&a->cur, memory_order_relaxed);
	struct ad_inst *in;
	struct readyq_stats st;
	int rc;

	ad_assert_switch_locked(a);
	rq_assert(old != NULL);
	in = ad_inst_new(a, to);
	if (!in)
		return -ENOMEM;
	atomic_store_explicit(&a->cur, NULL, memory_order_seq_cst);
	qs_synchronize(&a->readers);
	rc = ad_move_slots(old, in);
	if (rc) {
		ad_open_gate(a, old);
		ad_inst_free(in);
		return rc;
	}
	memset(&st, 0, sizeof(st));
	old->ops->stats(old->be, &st);
	ad_add_counters(&a->retired_stats, &st);
	ad_open_gate(a, in);
	a->switches++;
	/* What sleepers polled may have moved: let them look again. */
	rq_waitq_wake_all(a->wq);
	ad_retire(a, old);
	return 0;
}

/*
 * ad_switch() - migrate everything to a new instance of backend @to
 *
 * With cancellation off and no fork in between: a switch cancelled or
 * forked half-way would leave the queue without an instance (NULL
 * published, the gate closed) for good.
 *
 * Context: a->switch_lock held, not inside an op of @a.
 * Return: 0, or a negative errno with the old instance still current.
 */
int ad_switch(struct adaptive *a, enum readyq_backend to)
{
	int cs, rc;

	rq_switch_begin(&cs);
	rc = ad_migrate(a, to);
	rq_switch_end(cs);
	return rc;
}
