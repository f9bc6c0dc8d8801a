/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * proc.h - process behaviour: fork(2) and thread cancellation (lib/proc.c)
 *
 * Fork: rq_proc_init() (from readyq_create()) registers pthread_atfork()
 * handlers once per process.  They hold off adaptive switches across the
 * fork (rq_switch_begin()), so that a child never inherits a queue
 * half-way through a migration, and call liburcu's own fork hooks: the
 * urcu-bp registry (urcu_bp_before_fork() and friends) and call_rcu's
 * (the lock-free backend starts no rculfhash resize worker: it resizes
 * its tables itself, so none has to follow the fork), and, in the child,
 * forget the other threads' adaptive reader records (qs_fork_child()).
 *
 * Cancellation: library calls are not cancellation points, except
 * readyq_wait() while it sleeps (lib/wait.c).  Slow paths that may reach
 * one inside the C library or liburcu (nanosleep(2), poll(2), close(2):
 * queue creation, destruction and adaptive switches) run between
 * rq_nocancel_begin() and rq_nocancel_end(), which disable cancellation
 * and restore the caller's state.
 */
#ifndef READYQ_PROC_H
#define READYQ_PROC_H

/* Once per process, before the first queue exists.  Return: 0, -ENOMEM. */
int rq_proc_init(void);

/*
 * An adaptive switch, from publishing NULL to publishing the new
 * instance: no fork in between.  Nests inside no other library lock but
 * the queue's switch lock; not recursive.  *@cs keeps the caller's
 * cancellation state (cancellation is off in between).
 */
void rq_switch_begin(int *cs);
void rq_switch_end(int cs);

void rq_nocancel_begin(int *cs);
void rq_nocancel_end(int cs);

/*
 * AddressSanitizer does not follow glibc's cancellation unwinding: the
 * frames it unwinds stay poisoned, and the thread's exit then trips on
 * them.  A cancelled thread's cleanup handler unpoisons its whole stack
 * instead (it is leaving; its live frames lose their redzones, nothing
 * else).  The tests' cancelled threads call it too (tests/daemon.c).
 */
#ifdef __SANITIZE_ADDRESS__
#include <pthread.h>
#include <sanitizer/asan_interface.h>
static inline void rq_asan_unpoison_stack(void)
{
	pthread_attr_t attr;
	size_t size;
	void *addr;

	if (pthread_getattr_np(pthread_self(), &attr))
		return;
	if (!pthread_attr_getstack(&attr, &addr, &size))
		__asan_unpoison_memory_region(addr, size);
	pthread_attr_destroy(&attr);
}
#else
static inline void rq_asan_unpoison_stack(void)
{
}
#endif

#endif /* READYQ_PROC_H */
