// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * variants.c - the implementations readyq-bench compares
 *
 * Overview
 * --------
 *  - locked, lockfree, adaptive: libreadyq with that backend and the
 *    default configuration (capacity_hint as the subcommand asks, 0 for
 *    the seed workload).  readyq_create() answering -ENOTSUP means "not
 *    built" and the subcommands print "n/a (not built)".
 *  - adaptive_h1, adaptive_h64 (only when --only names them): the adaptive
 *    backend with concurrency_hint 1 or 64, so that one run measures the
 *    start on the locked and on the lock-free backend side by side (the
 *    data behind AD_EAGER_HINT and AD_LOCKFREE_HINT in lib/adaptive.h).
 *  - lockfree_mutex: the lock-free backend with every call but wait taken
 *    under one outside pthread mutex: the seed's V1 ("lock-free behind a
 *    Mutex"), kept to re-test its double-locking finding.
 *  - naive: what a user would write instead of the library: one pthread
 *    mutex, a condition variable, a chained hash map of malloc'd per-slot
 *    nodes and an intrusive FIFO list.  It keeps the contract's
 *    IDLE/QUEUED/RUNNING(+NOTIFIED) states and generations, so steady-state
 *    figures compare like with like.  Simplifications (never exercised by
 *    the benchmarks): SUSPENDED, FAILED and STOPPED end a turn as IDLE;
 *    complete on an index that is not RUNNING answers -EINVAL; a newer
 *    generation on a QUEUED slot keeps its queue position.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- the library's backends ---- */

static int lib_create(const struct bq_variant *v, size_t capacity_hint,
		      void **hp)
{
	struct readyq_config cfg;

	readyq_config_init(&cfg);
	cfg.backend = (enum readyq_backend)v->backend;
	cfg.capacity_hint = capacity_hint;
	if (v->hint)
		cfg.concurrency_hint = v->hint;
	cfg.flags = v->flags;
	return readyq_create(&cfg, (struct readyq **)hp);
}

static void lib_destroy(void *h)
{
	readyq_destroy(h);
}

static int lib_reg(void *h, struct readyq_index idx)
{
	return readyq_register(h, idx);
}

static ssize_t lib_drain(void *h, struct readyq_index *out, size_t max)
{
	return readyq_drain(h, out, max);
}

static int lib_complete(void *h, struct readyq_index idx,
			const struct readyq_result *res)
{
	return readyq_complete(h, idx, res);
}

static int lib_wait(void *h, int64_t timeout_ns)
{
	return readyq_wait(h, timeout_ns);
}

static void lib_shutdown(void *h)
{
	readyq_shutdown(h);
}

static ssize_t lib_reg_batch(void *h, const struct readyq_index *idx,
			     size_t n)
{
	return readyq_register_batch(h, idx, n);
}

static ssize_t lib_complete_batch(void *h, const struct readyq_index *idx,
				  const struct readyq_result *res, size_t n)
{
	return readyq_complete_batch(h, idx, res, n);
}

static int lib_stats(void *h, struct readyq_stats *st)
{
	return readyq_stats(h, st);
}

/* ---- lockfree_mutex: the seed's V1 ---- */

struct lfm {
	pthread_mutex_t lock;
	struct readyq *q;
};

static int lfm_create(const struct bq_variant *v, size_t capacity_hint,
		      void **hp)
{
	struct readyq_config cfg;
	struct lfm *m;
	int rc;

	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	readyq_config_init(&cfg);
	cfg.backend = READYQ_BACKEND_LOCKFREE;
	cfg.capacity_hint = capacity_hint;
	rc = readyq_create(&cfg, &m->q);
	if (rc < 0) {
		free(m);
		return rc;
	}
	pthread_mutex_init(&m->lock, NULL);
	*hp = m;
	return 0;
}

static void lfm_destroy(void *h)
{
	struct lfm *m = h;

	readyq_destroy(m->q);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static int lfm_reg(void *h, struct readyq_index idx)
{
	struct lfm *m = h;
	int rc;

	pthread_mutex_lock(&m->lock);
	rc = readyq_register(m->q, idx);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static ssize_t lfm_drain(void *h, struct readyq_index *out, size_t max)
{
	struct lfm *m = h;
	ssize_t rc;

	pthread_mutex_lock(&m->lock);
	rc = readyq_drain(m->q, out, max);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int lfm_complete(void *h, struct readyq_index idx,
			const struct readyq_result *res)
{
	struct lfm *m = h;
	int rc;

	pthread_mutex_lock(&m->lock);
	rc = readyq_complete(m->q, idx, res);
	pthread_mutex_unlock(&m->lock);
	return rc;
}

static int lfm_wait(void *h, int64_t timeout_ns)
{
	return readyq_wait(((struct lfm *)h)->q, timeout_ns);
}

static void lfm_shutdown(void *h)
{
	readyq_shutdown(((struct lfm *)h)->q);
}

/* ---- naive: one mutex, a hash map, a list ---- */

enum { N_IDLE, N_QUEUED, N_RUNNING };

struct naive_node {
	uint32_t slot;
	uint32_t gen;
	uint8_t state;
	bool notified;
	struct naive_node *hnext; /* hash chain */
	struct naive_node *qnext; /* FIFO list */
};

struct naive {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct naive_node **buckets;
	size_t nr_buckets; /* power of two */
	size_t count;
	struct naive_node *head, *tail;
	size_t queued;
	int sleepers;
	bool shut;
};

static size_t naive_hash(uint32_t slot, size_t nr)
{
	return (size_t)((slot * 0x9e3779b97f4a7c15ull) >> 32) & (nr - 1);
}

static int naive_create(const struct bq_variant *v, size_t capacity_hint,
			void **hp)
{
	pthread_condattr_t ca;
	struct naive *n;

	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->nr_buckets = 16;
	while (n->nr_buckets < capacity_hint)
		n->nr_buckets *= 2;
	n->buckets = calloc(n->nr_buckets, sizeof(*n->buckets));
	if (!n->buckets) {
		free(n);
		return -ENOMEM;
	}
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cond, &ca);
	pthread_condattr_destroy(&ca);
	*hp = n;
	return 0;
}

static void naive_destroy(void *h)
{
	struct naive *n = h;
	struct naive_node *e, *next;
	size_t i;

	for (i = 0; i < n->nr_buckets; i++) {
		for (e = n->buckets[i]; e; e = next) {
			next = e->hnext;
			free(e);
		}
	}
	free(n->buckets);
	pthread_cond_destroy(&n->cond);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static struct naive_node *naive_find(struct naive *n, uint32_t slot)
{
	struct naive_node *e;

	for (e = n->buckets[naive_hash(slot, n->nr_buckets)]; e; e = e->hnext)
		if (e->slot == slot)
			return e;
	return NULL;
}

static void naive_grow(struct naive *n)
{
	size_t nr = n->nr_buckets * 2, i, b;
	struct naive_node **nb, *e, *next;

	nb = calloc(nr, sizeof(*nb));
	if (!nb)
		return; /* keep the longer chains */
	for (i = 0; i < n->nr_buckets; i++) {
		for (e = n->buckets[i]; e; e = next) {
			next = e->hnext;
			b = naive_hash(e->slot, nr);
			e->hnext = nb[b];
			nb[b] = e;
		}
	}
	free(n->buckets);
	n->buckets = nb;
	n->nr_buckets = nr;
}

static void naive_enqueue(struct naive *n, struct naive_node *e)
{
	e->state = N_QUEUED;
	e->qnext = NULL;
	if (n->tail)
		n->tail->qnext = e;
	else
		n->head = e;
	n->tail = e;
	n->queued++;
	if (n->sleepers)
		pthread_cond_signal(&n->cond);
}

static int naive_reg(void *h, struct readyq_index idx)
{
	struct naive *n = h;
	struct naive_node *e;
	size_t b;
	int rc = 0;

	pthread_mutex_lock(&n->lock);
	if (n->shut) {
		rc = -ESHUTDOWN;
		goto out;
	}
	e = naive_find(n, idx.slot);
	if (!e) {
		if (n->count >= n->nr_buckets)
			naive_grow(n);
		e = calloc(1, sizeof(*e));
		if (!e) {
			rc = -ENOMEM;
			goto out;
		}
		e->slot = idx.slot;
		e->gen = idx.generation;
		b = naive_hash(idx.slot, n->nr_buckets);
		e->hnext = n->buckets[b];
		n->buckets[b] = e;
		n->count++;
	} else if (idx.generation < e->gen) {
		rc = -ESTALE;
		goto out;
	} else if (idx.generation > e->gen) {
		e->gen = idx.generation;
		e->notified = false;
		if (e->state == N_RUNNING)
			e->state = N_IDLE;
	}
	switch (e->state) {
	case N_IDLE:
		naive_enqueue(n, e);
		rc = 1;
		break;
	case N_RUNNING:
		e->notified = true;
		break;
	}
out:
	pthread_mutex_unlock(&n->lock);
	return rc;
}

static ssize_t naive_drain(void *h, struct readyq_index *out, size_t max)
{
	struct naive *n = h;
	struct naive_node *e;
	size_t got = 0;

	if (!out || !max)
		return -EINVAL;
	pthread_mutex_lock(&n->lock);
	while (got < max && n->head) {
		e = n->head;
		n->head = e->qnext;
		if (!n->head)
			n->tail = NULL;
		n->queued--;
		e->state = N_RUNNING;
		e->notified = false;
		out[got].slot = e->slot;
		out[got].generation = e->gen;
		got++;
	}
	pthread_mutex_unlock(&n->lock);
	return (ssize_t)got;
}

static int naive_complete(void *h, struct readyq_index idx,
			  const struct readyq_result *res)
{
	struct naive *n = h;
	struct naive_node *e;
	bool again;
	int rc = 0;

	pthread_mutex_lock(&n->lock);
	e = naive_find(n, idx.slot);
	if (!e || e->gen != idx.generation) {
		rc = e ? -ESTALE : -EINVAL;
		goto out;
	}
	if (e->state != N_RUNNING) {
		rc = -EINVAL;
		goto out;
	}
	again = res->outcome == READYQ_YIELDED ||
		(res->outcome == READYQ_COMPLETED && res->ready_hint);
	if (again || (e->notified && (res->outcome == READYQ_COMPLETED ||
				      res->outcome == READYQ_FAILED)))
		naive_enqueue(n, e);
	else
		e->state = N_IDLE;
	e->notified = false;
out:
	pthread_mutex_unlock(&n->lock);
	return rc;
}

static int naive_wait(void *h, int64_t timeout_ns)
{
	struct naive *n = h;
	struct timespec ts;
	int rc = 0;

	if (timeout_ns >= 0) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += timeout_ns / 1000000000;
		ts.tv_nsec += timeout_ns % 1000000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
	}
	pthread_mutex_lock(&n->lock);
	while (!n->shut && !n->queued && rc != ETIMEDOUT) {
		n->sleepers++;
		if (timeout_ns < 0)
			pthread_cond_wait(&n->cond, &n->lock);
		else
			rc = pthread_cond_timedwait(&n->cond, &n->lock, &ts);
		n->sleepers--;
	}
	if (n->shut)
		rc = -ESHUTDOWN;
	else if (n->queued)
		rc = 0;
	else
		rc = -ETIMEDOUT;
	pthread_mutex_unlock(&n->lock);
	return rc;
}

static void naive_shutdown(void *h)
{
	struct naive *n = h;

	pthread_mutex_lock(&n->lock);
	n->shut = true;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
}

/* ---- the table ---- */

#define LIB_OPS                                                         \
	.create = lib_create, .destroy = lib_destroy, .reg = lib_reg,   \
	.drain = lib_drain, .complete = lib_complete, .wait = lib_wait, \
	.shutdown = lib_shutdown, .stats = lib_stats

/* steady only: producers register and workers complete in batches */
#define LIB_BATCH_OPS                                                  \
	LIB_OPS, .batch = true, .reg_batch = lib_reg_batch,             \
	.complete_batch = lib_complete_batch

const struct bq_variant bq_variants[] = {
	{ .name = "locked", .backend = READYQ_BACKEND_LOCKED, LIB_OPS },
	{ .name = "lockfree", .backend = READYQ_BACKEND_LOCKFREE, LIB_OPS },
	{ .name = "adaptive", .backend = READYQ_BACKEND_ADAPTIVE, LIB_OPS },
	/* The cost of READYQ_FLAG_HISTOGRAMS, beside "adaptive". */
	{ .name = "adaptive_hist",
	  .backend = READYQ_BACKEND_ADAPTIVE,
	  .flags = READYQ_FLAG_HISTOGRAMS,
	  LIB_OPS },
	/* Only with --only: the same on each fixed backend. */
	{ .name = "locked_hist",
	  .backend = READYQ_BACKEND_LOCKED,
	  .flags = READYQ_FLAG_HISTOGRAMS,
	  .extra = true,
	  LIB_OPS },
	{ .name = "lockfree_hist",
	  .backend = READYQ_BACKEND_LOCKFREE,
	  .flags = READYQ_FLAG_HISTOGRAMS,
	  .extra = true,
	  LIB_OPS },
	/* Only with --only: the adaptive backend told 1 or 64 threads. */
	{ .name = "adaptive_h1",
	  .backend = READYQ_BACKEND_ADAPTIVE,
	  .hint = 1,
	  .extra = true,
	  LIB_OPS },
	{ .name = "adaptive_h64",
	  .backend = READYQ_BACKEND_ADAPTIVE,
	  .hint = 64,
	  .extra = true,
	  LIB_OPS },
	{ .name = "naive",
	  .backend = -1,
	  .create = naive_create,
	  .destroy = naive_destroy,
	  .reg = naive_reg,
	  .drain = naive_drain,
	  .complete = naive_complete,
	  .wait = naive_wait,
	  .shutdown = naive_shutdown },
	{ .name = "locked_batch",
	  .backend = READYQ_BACKEND_LOCKED,
	  LIB_BATCH_OPS },
	{ .name = "lockfree_batch",
	  .backend = READYQ_BACKEND_LOCKFREE,
	  LIB_BATCH_OPS },
	{ .name = "adaptive_batch",
	  .backend = READYQ_BACKEND_ADAPTIVE,
	  LIB_BATCH_OPS },
	/* Only with --only: the histograms' cost with the batch calls. */
	{ .name = "adaptive_batch_hist",
	  .backend = READYQ_BACKEND_ADAPTIVE,
	  .flags = READYQ_FLAG_HISTOGRAMS,
	  .extra = true,
	  LIB_BATCH_OPS },
	{ .name = "lockfree_mutex",
	  .backend = READYQ_BACKEND_LOCKFREE,
	  .create = lfm_create,
	  .destroy = lfm_destroy,
	  .reg = lfm_reg,
	  .drain = lfm_drain,
	  .complete = lfm_complete,
	  .wait = lfm_wait,
	  .shutdown = lfm_shutdown },
};
const size_t bq_nr_variants = sizeof(bq_variants) / sizeof(bq_variants[0]);

const struct bq_variant *bq_find_variant(const char *name)
{
	size_t i;

	for (i = 0; i < bq_nr_variants; i++)
		if (!strcmp(bq_variants[i].name, name))
			return &bq_variants[i];
	return NULL;
}

/**
 * bq_variant_available() - whether readyq_create() accepts the variant
 * @v: the variant
 *
 * Return: false when the backend answers -ENOTSUP (not built yet).
 */
bool bq_variant_available(const struct bq_variant *v)
{
	void *h;

	if (v->create(v, 0, &h) < 0)
		return false;
	v->destroy(h);
	return true;
}
