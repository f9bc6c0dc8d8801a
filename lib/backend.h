/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * backend.h - what the core (lib/core.c) and the backends share
 *
 * Overview
 * --------
 * lib/core.c checks every argument and dispatches through one
 * struct readyq_ops; each backend lives in its own file(s) and implements
 * the state machine of state.h behind it.  Backends never check
 * arguments: by the time an op runs, handles and buffers are non-NULL,
 * max > 0 and every enum in a result is valid.
 *
 * Shared pieces, one header each: compiler.h (liburcu's helpers, debug
 * assertions), alloc.h, clock.h, futex.h, lock.h, thread.h (a number
 * per thread, for counter shards), waitq.h (waking sleepers), susp.h
 * (the suspension set), state.h (the state machine and the export
 * format).
 */
#ifndef READYQ_BACKEND_H
#define READYQ_BACKEND_H

#include <readyq/readyq.h>

#include "compiler.h"
#include "hist.h"
#include "state.h"
#include "waitq.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/**
 * struct readyq_ops - one backend
 *
 * @create gets the queue's histograms (hist.h), NULL without
 * READYQ_FLAG_HISTOGRAMS: the backend then stores no time stamp.
 *
 * Every op but @create and @destroy may run concurrently with every
 * other.  @poll answers 1 when an index is QUEUED or a deadline is due,
 * else 0, without blocking; it must read the queued count with a seq_cst
 * load (see rq_waitq_kick()).  @next_deadline is the earliest pending
 * deadline (CLOCK_MONOTONIC ns) or RQ_NO_DEADLINE.  @contention, when
 * set, returns and resets the contention meter: *ops gets operations since
 * the last call and the return value how many of them met contention.
 *
 * @reg_batch and @complete_batch are the same as n calls of @reg or
 * @complete in order, with one publication and one wake decision; they
 * return how many were applied (a prefix) or, when the first fails, its
 * negative errno.  Every backend sets them.
 *
 * @export lists every known slot: the QUEUED ones first, in FIFO order,
 * then the others; it allocates *out (rq_malloc) and does not change the
 * backend.  @import loads one such entry into a backend that has just been
 * created, QUEUED ones at the tail, so importing a list in its order keeps
 * the FIFO; on failure the backend must still be destroyable.  The
 * adaptive backend sets neither (it is never migrated itself).  Both run
 * with no other op in flight.
 */
struct readyq_ops {
	int (*create)(const struct readyq_config *cfg, struct rq_waitq *wq,
		      struct rq_hist *hist, void **bep);
	void (*destroy)(void *be);
	int (*reg)(void *be, struct readyq_index idx);
	int (*unreg)(void *be, struct readyq_index idx);
	ssize_t (*drain)(void *be, struct readyq_index *out, size_t max);
	int (*complete)(void *be, struct readyq_index idx,
			const struct readyq_result *res);
	ssize_t (*reg_batch)(void *be, const struct readyq_index *idx,
			     size_t n);
	ssize_t (*complete_batch)(void *be, const struct readyq_index *idx,
				  const struct readyq_result *res, size_t n);
	int (*resume)(void *be, struct readyq_index idx);
	int (*resume_signal)(void *be, uint64_t key);
	int (*poll)(void *be);
	uint64_t (*next_deadline)(void *be);
	void (*stats)(void *be, struct readyq_stats *st);
	uint64_t (*contention)(void *be, uint64_t *ops);
	int (*export)(void *be, struct rq_export **out, size_t *n);
	int (*import)(void *be, const struct rq_export *x);
};

/*
 * Defaults of struct readyq_config's adaptive_* fields, applied by
 * readyq_create() (lib/core.c) before any backend sees the configuration,
 * so that every check runs on the values in force: up 150 permille of
 * contended lock acquisitions; down 30, or half of a lower up; windows of
 * 16384 operations at most; a hold of 2 windows.
 */
#define RQ_ADAPTIVE_DEFAULT_UP 150u
#define RQ_ADAPTIVE_DEFAULT_DOWN 30u
#define RQ_ADAPTIVE_DEFAULT_WINDOW 16384u
#define RQ_ADAPTIVE_DEFAULT_HOLD 2u

/*
 * The ops every backend has, named PREFIX_create, PREFIX_destroy, ...:
 * a backend's table is RQ_BACKEND_OPS(prefix) plus its optional ops.
 */
#define RQ_BACKEND_OPS(p)                                                     \
	.create = p##_create, .destroy = p##_destroy, .reg = p##_reg,        \
	.unreg = p##_unreg, .drain = p##_drain, .complete = p##_complete,    \
	.reg_batch = p##_reg_batch, .complete_batch = p##_complete_batch,    \
	.resume = p##_resume, .resume_signal = p##_resume_signal,            \
	.poll = p##_poll, .next_deadline = p##_next_deadline,                \
	.stats = p##_stats

extern const struct readyq_ops rq_locked_ops;
extern const struct readyq_ops rq_lockfree_ops;
extern const struct readyq_ops rq_adaptive_ops;

/* The queue handle.  All fields I (set by readyq_create()) but @wq. */
struct readyq {
	const struct readyq_ops *ops;
	void *be;
	uint64_t id; /* unique for the life of the process */
	struct rq_hist *hist; /* READYQ_FLAG_HISTOGRAMS, else NULL */
	uint32_t throughput;
	enum readyq_backend backend;
	struct rq_waitq wq rq_cacheline_aligned;
};

#endif /* READYQ_BACKEND_H */
