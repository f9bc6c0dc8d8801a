// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * proc.c - fork(2) handlers and cancellation helpers; see proc.h
 *
 * Fork, step by step (pthread_atfork(3) order: prepare, then parent or
 * child):
 *
 *   prepare: write-lock rq_fork_lock     no adaptive switch in flight
 *            call_rcu_before_fork()      rculfhash's worker paused (it
 *                                        may need rcu_gp_lock: first)
 *            urcu_bp_before_fork()       rcu_gp_lock, registry lock
 *   parent:  urcu_bp_after_fork_parent(), call_rcu_after_fork_parent(),
 *            unlock
 *   child:   urcu_bp_after_fork_child()  registry pruned to this thread
 *            call_rcu_after_fork_child() a new resize worker thread
 *            qs_fork_child()             the other threads' reader
 *                                        records freed
 *            rq_thread_fork_child()      the other threads' slots free
 *            rq_fork_lock made anew
 *
 * Lock order: a queue's switch lock, then rq_fork_lock (read side, in
 * rq_switch_begin()); the fork handlers take rq_fork_lock first and
 * liburcu's locks after it.  The lock prefers writers, so a stream of
 * switches cannot hold a fork off.  A switch never waits for the forking
 * thread: it waits only for threads inside calls on its queue, and for
 * the resize worker, which is paused only after the write lock is held.
 *
 * Programs that also use liburcu-bp must not call these liburcu hooks
 * themselves: its locks are not recursive (readyq(7), FORK).
 */
#include <config.h>
#include "proc.h"
#include "quiesce.h"
#include "thread.h"

#include <urcu-bp.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#define RQ_FORK_LOCK_INIT PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP
static pthread_rwlock_t rq_fork_lock = RQ_FORK_LOCK_INIT;
static pthread_mutex_t rq_proc_mutex = PTHREAD_MUTEX_INITIALIZER;
static _Atomic bool rq_proc_ready;

static void rq_fork_prepare(void)
{
	pthread_rwlock_wrlock(&rq_fork_lock);
	call_rcu_before_fork();
	urcu_bp_before_fork();
}

static void rq_fork_parent(void)
{
	urcu_bp_after_fork_parent();
	call_rcu_after_fork_parent();
	pthread_rwlock_unlock(&rq_fork_lock);
}

/*
 * The only thread of the child is the one that forked.  The lock is made
 * anew, not unlocked: it still counts the parent's threads that were
 * waiting for it.
 */
static void rq_fork_child(void)
{
	static const pthread_rwlock_t fresh = RQ_FORK_LOCK_INIT;

	urcu_bp_after_fork_child();
	call_rcu_after_fork_child();
	qs_fork_child();
	rq_thread_fork_child();
	rq_fork_lock = fresh;
}

/**
 * rq_proc_init() - register the fork handlers, once per process
 *
 * A failure is not remembered: the next readyq_create() tries again.
 * glibc unregisters the handlers when the library is unloaded.
 *
 * Context: any thread; cancellation disabled (readyq_create()).
 * Return: 0, or -ENOMEM from pthread_atfork().
 */
int rq_proc_init(void)
{
	int rc = 0;

	if (atomic_load_explicit(&rq_proc_ready, memory_order_acquire))
		return 0;
	pthread_mutex_lock(&rq_proc_mutex);
	if (!atomic_load_explicit(&rq_proc_ready, memory_order_relaxed)) {
		rc = -pthread_atfork(rq_fork_prepare, rq_fork_parent,
				     rq_fork_child);
		if (!rc)
			atomic_store_explicit(&rq_proc_ready, true,
					      memory_order_release);
	}
	pthread_mutex_unlock(&rq_proc_mutex);
	return rc;
}

void rq_nocancel_begin(int *cs)
{
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, cs);
}

void rq_nocancel_end(int cs)
{
	pthread_setcancelstate(cs, NULL);
}

void rq_switch_begin(int *cs)
{
	rq_nocancel_begin(cs);
	pthread_rwlock_rdlock(&rq_fork_lock);
}

void rq_switch_end(int cs)
{
	pthread_rwlock_unlock(&rq_fork_lock);
	rq_nocancel_end(cs);
}
