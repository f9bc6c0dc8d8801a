// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * adaptive.c - pick the locked or the lock-free backend, switch at run time
 *
 * The adaptive backend owns one inner backend instance at a time and
 * forwards every op to it; this file holds the ops, creation and
 * destruction.  adaptive.h says where the rest lives: the op's hot path
 * (adaptive.h), when to switch (adaptive_policy.c), how (the migration,
 * adaptive_migrate.c) and the grace period that makes freeing the old
 * instance safe (quiesce.h).
 *
 * Every op but stats runs inside the queue's quiescence domain
 * (ad_enter() ... ad_leave()/ad_exit()), so that a switch cannot free
 * the instance under it; stats takes the switch lock instead.
 */
#include <config.h>
#include "adaptive.h"

#include <string.h>

static const struct readyq_ops *ad_ops_of(enum readyq_backend k)
{
	return k == READYQ_BACKEND_LOCKFREE ? &rq_lockfree_ops : &rq_locked_ops;
}

/* A new instance of backend @k for @a; NULL on failure. */
struct ad_inst *ad_inst_new(struct adaptive *a, enum readyq_backend k)
{
	struct ad_inst *in = rq_malloc(sizeof(*in));
	int rc;

	if (!in)
		return NULL;
	in->kind = k;
	in->ops = ad_ops_of(k);
	rc = in->ops->create(&a->cfg, a->wq, a->hist, &in->be);
	if (rc) {
		rq_free(in);
		return NULL;
	}
	return in;
}

void ad_inst_free(struct ad_inst *in)
{
	in->ops->destroy(in->be);
	rq_free(in);
}

/* ---- create, destroy ---- */

static _Atomic uint64_t ad_next_id = 1;

static int ad_create(const struct readyq_config *cfg, struct rq_waitq *wq,
		     struct rq_hist *hist, void **bep)
{
	struct adaptive *a;
	enum readyq_backend first;

	qs_init();
	a = rq_zalloc_aligned(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->id = atomic_fetch_add_explicit(&ad_next_id, 1, memory_order_relaxed);
	a->wq = wq;
	a->hist = hist;
	a->cfg = *cfg;
	pthread_mutex_init(&a->switch_lock, NULL);
	atomic_init(&a->gate, 0);
	atomic_init(&a->win_ops, 0);
	atomic_init(&a->probe_ops, 0);
	atomic_init(&a->probe_contended, 0);
	atomic_init(&a->readers.stragglers, 0);
	first = cfg->concurrency_hint > AD_LOCKFREE_HINT ?
			READYQ_BACKEND_LOCKFREE :
			READYQ_BACKEND_LOCKED;
	a->eager = cfg->concurrency_hint > AD_EAGER_HINT;
	atomic_init(&a->cur, ad_inst_new(a, first));
	if (!atomic_load_explicit(&a->cur, memory_order_relaxed)) {
		pthread_mutex_destroy(&a->switch_lock);
		rq_free(a);
		return -ENOMEM;
	}
	/* Started lock-free on a guess: probe the first windows at once. */
	ad_windows_init(a, first == READYQ_BACKEND_LOCKFREE);
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

/* ---- ops ---- */

static int ad_reg(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct qs_reader *r;
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
	struct qs_reader *r;
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
	struct qs_reader *r;
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
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	int rc = in->ops->complete(in->be, idx, res);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static ssize_t ad_reg_batch(void *be, const struct readyq_index *idx,
			    size_t n)
{
	struct adaptive *a = be;
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	ssize_t rc = in->ops->reg_batch(in->be, idx, n);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static ssize_t ad_complete_batch(void *be, const struct readyq_index *idx,
				 const struct readyq_result *res, size_t n)
{
	struct adaptive *a = be;
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	bool held = ad_probe_begin(a);
	ssize_t rc = in->ops->complete_batch(in->be, idx, res, n);

	ad_probe_end(a, held);
	ad_leave(a, r);
	return rc;
}

static int ad_resume(void *be, struct readyq_index idx)
{
	struct adaptive *a = be;
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	int rc = in->ops->resume(in->be, idx);

	ad_leave(a, r);
	return rc;
}

static int ad_resume_signal(void *be, uint64_t key)
{
	struct adaptive *a = be;
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	int rc = in->ops->resume_signal(in->be, key);

	ad_leave(a, r);
	return rc;
}

/* poll and next_deadline: no window accounting, they are not work. */
static int ad_poll(void *be)
{
	struct adaptive *a = be;
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	int rc = in->ops->poll(in->be);

	ad_exit(a, r);
	return rc;
}

static uint64_t ad_next_deadline(void *be)
{
	struct adaptive *a = be;
	struct qs_reader *r;
	struct ad_inst *in = ad_enter(a, &r);
	uint64_t d = in->ops->next_deadline(in->be);

	ad_exit(a, r);
	return d;
}

static void ad_stats(void *be, struct readyq_stats *st)
{
	struct adaptive *a = be;
	struct ad_inst *in;

	/* Under switch_lock, retired_stats and the instance agree. */
	pthread_mutex_lock(&a->switch_lock);
	in = atomic_load_explicit(&a->cur, memory_order_relaxed);
	in->ops->stats(in->be, st);
	ad_add_counters(st, &a->retired_stats);
	st->switches = a->switches;
	st->active = in->kind;
	pthread_mutex_unlock(&a->switch_lock);
}

const struct readyq_ops rq_adaptive_ops = {
	RQ_BACKEND_OPS(ad),
};
