/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * quiesce.h - wait until no thread is inside a domain
 *
 * A small grace-period facility.  A *domain* (struct qs_domain, embedded
 * in the object it guards) is something readers enter and leave around
 * their use of a pointer published by a writer.  A writer that has
 * unpublished the pointer calls qs_synchronize(): when it returns, no
 * thread still uses what the pointer named, and none can start to.
 * Unlike RCU it waits only for the readers of *one* domain, and it waits
 * by spinning, yielding and short sleeps, never for long (see
 * qs_synchronize()).  The adaptive backend uses one domain per queue,
 * guarding its current backend instance.
 *
 * Who may call what
 * -----------------
 *  - A reader thread:
 *
 *	r = qs_reader();
 *	qs_read_enter(d, r);
 *	p = atomic_load_explicit(&published, memory_order_seq_cst);
 *	... use p (if it is NULL: qs_read_exit() and wait elsewhere) ...
 *	qs_read_exit(d, r);
 *
 *    A thread is inside at most one domain at a time (its record names
 *    one); sections do not nest.
 *  - A writer, one at a time per domain (the caller serialises), outside
 *    any read-side section of that domain (it would wait for itself):
 *
 *	atomic_store_explicit(&published, NULL, memory_order_seq_cst);
 *	qs_synchronize(d);
 *	... nobody uses the old pointer: migrate it, free it ...
 *
 *  - qs_any_inside(): anyone, as a hint (it can be stale at once).
 *
 * Barriers
 * --------
 *  - qs_read_enter() orders its store to the thread's record before the
 *    caller's following loads: a full barrier, paid for either by the
 *    reader (a seq_cst exchange) or, where membarrier() is registered, by
 *    the writer (the reader has a compiler barrier only).
 *  - qs_read_exit() is a release: what the section did happens before
 *    qs_synchronize() returns in the writer.
 *  - qs_synchronize() starts with a full barrier on every running thread
 *    (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)) or in the writer (a
 *    seq_cst fence), then reads every record with acquire loads.
 *
 * Why it is safe (Dekker): the reader stores "inside d", full barrier,
 * loads the pointer; the writer stores NULL, full barrier, loads every
 * record.  At least one of them sees the other's store: either the reader
 * sees NULL (and leaves), or the writer sees the reader inside and waits
 * for its release.  With membarrier() the writer's call makes every
 * running thread execute a full barrier, which stands in for the one
 * the reader left out (liburcu's scheme); it is never used under
 * ThreadSanitizer, which cannot see it.
 *
 * Records: each thread gets one record (struct qs_reader, one cache line)
 * on its first section, kept in a process-wide push-only list and reused
 * after the thread exits.  A thread that cannot get one (-ENOMEM) is a
 * *straggler*: it counts itself in the domain's @stragglers with seq_cst
 * read-modify-writes instead, and tries again after QS_RECORD_RETRY
 * sections.
 */
#ifndef READYQ_QUIESCE_H
#define READYQ_QUIESCE_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

#define QS_RECORD_RETRY 1024 /* straggler sections between two record tries */

/* A domain: its address names it in the records. */
struct qs_domain {
	_Atomic uint64_t stragglers; /* W: readers without a record, RMW;
				      * R: writer, acquire */
};

/* One thread's reader record. */
struct qs_reader {
	_Atomic(const struct qs_domain *) inside; /* W: owner thread;
						   * R: any (writers) */
	_Atomic bool used; /* W: claimed by CAS, released at thread exit */
	struct qs_reader *next; /* C: set before the record is pushed */
} __attribute__((aligned(CAA_CACHE_LINE_SIZE)));

/* Per thread: its record (NULL: none yet, or a straggler). */
struct qs_self {
	struct qs_reader *rec;
	uint32_t retry; /* without a record: sections before the next try */
};

extern rq_thread_local struct qs_self qs_self;
extern _Atomic bool qs_membarrier; /* readers need a compiler barrier only */

void qs_init(void);
struct qs_reader *qs_reader_get(void);
void qs_fork_child(void);
void qs_synchronize(struct qs_domain *d);
bool qs_any_inside(const struct qs_domain *d);

/**
 * qs_reader() - this thread's record, or NULL (run as a straggler)
 *
 * Context: after qs_init() returned in some thread.
 */
static inline struct qs_reader *qs_reader(void)
{
	struct qs_reader *r = qs_self.rec;

	if (caa_unlikely(!r) && qs_self.retry-- == 0)
		r = qs_reader_get();
	return r;
}

/**
 * qs_read_enter() - mark this thread inside @d
 * @r: qs_reader()'s answer
 *
 * Barrier: full (see the top of this file) before the caller's next load.
 */
static inline void qs_read_enter(struct qs_domain *d, struct qs_reader *r)
{
	if (caa_unlikely(!r)) {
		atomic_fetch_add_explicit(&d->stragglers, 1,
					  memory_order_seq_cst);
	} else if (caa_likely(atomic_load_explicit(&qs_membarrier,
						   memory_order_relaxed))) {
		atomic_store_explicit(&r->inside, d, memory_order_relaxed);
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		atomic_exchange_explicit(&r->inside, d, memory_order_seq_cst);
	}
}

/* qs_read_exit() - leave @d.  Barrier: release. */
static inline void qs_read_exit(struct qs_domain *d, struct qs_reader *r)
{
	if (caa_likely(r != NULL))
		atomic_store_explicit(&r->inside, NULL, memory_order_release);
	else
		atomic_fetch_sub_explicit(&d->stragglers, 1,
					  memory_order_release);
}

/* Whether this thread's record says it is inside @d (debug checks). */
static inline bool qs_self_inside(const struct qs_domain *d)
{
	return qs_self.rec && atomic_load_explicit(&qs_self.rec->inside,
						   memory_order_relaxed) == d;
}

/*
 * qs_pause() - one step of waiting, the @i-th
 *
 * A pause for the first @nspin steps, then sched_yield() (whoever we wait
 * for may need the CPU) for @nyield more.  Returns false once both are
 * used up: the caller then sleeps its own way.  Shared with callers that
 * wait for a writer to finish.
 */
static inline bool qs_pause(unsigned int i, unsigned int nspin,
			    unsigned int nyield)
{
	if (i < nspin)
		caa_cpu_relax();
	else if (i < nspin + nyield)
		sched_yield();
	else
		return false;
	return true;
}

#endif /* READYQ_QUIESCE_H */
