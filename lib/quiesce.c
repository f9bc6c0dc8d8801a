// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * quiesce.c - reader records, membarrier() registration, waiting for
 * the readers of a domain
 *
 * The contract (who may call what, the barriers, why it is safe) is at
 * the top of quiesce.h.
 */
#include <config.h>
#include "alloc.h"
#include "futex.h"
#include "quiesce.h"
#include "tsan.h"

#include <linux/membarrier.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * Waiting for a reader: QS_WAIT_SPIN pauses, then QS_WAIT_YIELD
 * sched_yield()s, then sleeps of QS_WAIT_SLEEP_NS, each short: a
 * real-time writer must not starve a lower-priority reader on its CPU,
 * and a preempted reader (common with more threads than CPUs) needs the
 * CPU to leave.  urcu-bp's synchronize_rcu() falls back to 10 ms sleeps
 * instead: see perf/README.md, "Adaptive backend: why the constants".
 */
#define QS_WAIT_SPIN 128
#define QS_WAIT_YIELD 1000
#define QS_WAIT_SLEEP_NS 20000

rq_thread_local struct qs_self qs_self;
_Atomic bool qs_membarrier;

static _Atomic(struct qs_reader *) qs_readers; /* push-only list */
static pthread_once_t qs_once = PTHREAD_ONCE_INIT;
static pthread_key_t qs_key; /* its destructor frees a thread's record */
static bool qs_key_ok;

/* Thread exit: the record goes back to the list's free ones. */
static void qs_reader_exit(void *p)
{
	struct qs_reader *r = p;

	qs_self.rec = NULL;
	atomic_store_explicit(&r->inside, NULL, memory_order_release);
	atomic_store_explicit(&r->used, false, memory_order_release);
}

static void qs_global_init(void)
{
	qs_key_ok = pthread_key_create(&qs_key, qs_reader_exit) == 0;
#ifndef RQ_TSAN
	{
		long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0);

		if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
		    syscall(__NR_membarrier,
			    MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0)
			atomic_store(&qs_membarrier, true);
	}
#endif
}

/* qs_init() - once per process, before the first section (any thread). */
void qs_init(void)
{
	pthread_once(&qs_once, qs_global_init);
}

/* At unload: no destructor may point into unmapped code. */
__attribute__((destructor)) static void qs_global_fini(void)
{
	if (qs_key_ok) {
		qs_key_ok = false;
		pthread_key_delete(qs_key);
	}
}

/* A record no live thread owns, claimed; NULL if there is none. */
static struct qs_reader *qs_reader_reuse(void)
{
	struct qs_reader *r;
	bool unused;

	for (r = atomic_load_explicit(&qs_readers, memory_order_acquire); r;
	     r = r->next) {
		unused = false;
		if (!atomic_load_explicit(&r->used, memory_order_relaxed) &&
		    atomic_compare_exchange_strong(&r->used, &unused, true))
			return r;
	}
	return NULL;
}

/* A new record, pushed on the list; NULL on -ENOMEM. */
static struct qs_reader *qs_reader_new(void)
{
	struct qs_reader *r = rq_zalloc_aligned(sizeof(*r));
	struct qs_reader *head;

	if (!r)
		return NULL;
	atomic_init(&r->used, true);
	head = atomic_load(&qs_readers);
	do
		r->next = head;
	while (!atomic_compare_exchange_weak(&qs_readers, &head, r));
	return r;
}

/**
 * qs_reader_get() - give this thread a record: a free one, or a new one
 *
 * Return: the record, or NULL (out of memory: the thread runs as a
 * straggler for QS_RECORD_RETRY sections).
 */
struct qs_reader *qs_reader_get(void)
{
	struct qs_reader *r = qs_reader_reuse();

	if (!r)
		r = qs_reader_new();
	if (!r) {
		qs_self.retry = QS_RECORD_RETRY;
		return NULL;
	}
	qs_self.retry = 0;
	/* Without the key the record stays this thread's for good. */
	if (qs_key_ok)
		(void)pthread_setspecific(qs_key, r);
	qs_self.rec = r;
	return r;
}

/**
 * qs_fork_child() - after fork(2), in the child: forget the other threads
 *
 * Only the forking thread exists in the child; the records of the others
 * would read as inside their domains for ever, so that a writer waiting
 * for readers (a domain created at an inherited one's address, say) would
 * never finish.  They are cleared and freed for reuse.
 *
 * Context: the child's only thread, from the pthread_atfork() handler.
 */
void qs_fork_child(void)
{
	struct qs_reader *r;

	for (r = atomic_load_explicit(&qs_readers, memory_order_relaxed); r;
	     r = r->next) {
		if (r == qs_self.rec)
			continue;
		atomic_store_explicit(&r->inside, NULL, memory_order_relaxed);
		atomic_store_explicit(&r->used, false, memory_order_relaxed);
	}
}

/* One step of waiting for a reader (see QS_WAIT_SPIN). */
static void qs_backoff(unsigned int spins)
{
	struct timespec ts = { .tv_nsec = QS_WAIT_SLEEP_NS };

	if (!qs_pause(spins, QS_WAIT_SPIN, QS_WAIT_YIELD))
		nanosleep(&ts, NULL);
}

/* The writer's half of the Dekker pair (see quiesce.h). */
static void qs_full_barrier_everywhere(void)
{
	if (!atomic_load_explicit(&qs_membarrier, memory_order_relaxed)) {
		atomic_thread_fence(memory_order_seq_cst);
		return;
	}
	/*
	 * Registered at init, so it cannot fail unless something (a
	 * seccomp filter) took it away since: readers then have only a
	 * compiler barrier and nothing here is safe.
	 */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0))
		abort();
}

/**
 * qs_synchronize() - wait until no thread is inside @d
 *
 * Context: the pointer the readers load was just unpublished (seq_cst
 * store); one writer per domain at a time; the caller is not inside @d.
 */
void qs_synchronize(struct qs_domain *d)
{
	struct qs_reader *r;
	unsigned int spins;

	rq_assert(!qs_self_inside(d));
	qs_full_barrier_everywhere();
	for (r = atomic_load_explicit(&qs_readers, memory_order_acquire); r;
	     r = r->next)
		for (spins = 0; atomic_load_explicit(&r->inside,
						     memory_order_acquire) == d;
		     spins++)
			qs_backoff(spins);
	for (spins = 0;
	     atomic_load_explicit(&d->stragglers, memory_order_acquire);
	     spins++)
		qs_backoff(spins);
}

/* Whether a thread is inside @d right now (a hint; relaxed loads). */
bool qs_any_inside(const struct qs_domain *d)
{
	struct qs_reader *r;

	if (atomic_load_explicit(&d->stragglers, memory_order_relaxed))
		return true;
	for (r = atomic_load_explicit(&qs_readers, memory_order_acquire); r;
	     r = r->next)
		if (atomic_load_explicit(&r->inside, memory_order_relaxed) == d)
			return true;
	return false;
}
