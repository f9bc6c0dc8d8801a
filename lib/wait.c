// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * wait.c - futexes, the three-state lock and level-triggered waiting
 *
 * Waiting protocol (see waitq.h), every access seq_cst:
 *
 *   waiter                               producer
 *   ------                               --------
 *   if (poll()) return 0                 publish QUEUED (RMW)
 *   searching++                          s = load(sleepers)
 *   poll() for up to RQ_SEARCH_NS:       if (s && !load(searching))
 *       found: searching--, return 0         seq++, futex_wake(seq, 1)
 *   searching--
 *   seq = load(wq->seq)
 *   sleepers++
 *   if (poll()) leave
 *   futex_wait(seq, until)
 *   sleepers--
 *
 * A producer that skips the wake saw either no sleeper, so the sleeper's
 * poll (after its increment) sees the new work, or a searcher, whose
 * decrement comes later: if it then sleeps, its poll sees the work; if
 * it found other work, it returns and, after its drain, ramps up
 * (rq_waitq_ramp_up()): work left, sleepers and nobody searching wakes
 * one.  A kick between the sleeper's load of seq and its futex_wait makes
 * the wait return at once (the word changed).  Each kick wakes at most one
 * thread; readyq_shutdown() wakes all.  A searching thread is awake: no
 * kick is needed for it, and none is spent.
 *
 * Deadlines: at most one sleeper (the timer owner) bounds its sleep by the
 * backend's earliest deadline, so a due deadline wakes one thread, not
 * all.  It sleeps with RQ_WAKE_TIMER in its futex bitset: a backend whose
 * earliest deadline moves earlier wakes just that thread to re-arm.  A
 * timer owner that leaves while others sleep and a deadline is pending
 * hands the timer on by waking one of them.
 *
 * Event fd: readyq_fd() creates an eventfd lazily and sets RQ_SLEEPERS_FD
 * in @sleepers, then polls once.  Every kick (new QUEUED index, earlier
 * deadline, shutdown) then writes 1 to the eventfd; the caller reads it to
 * clear it and drains after the read, so a kick that its drain missed
 * came after the read and leaves the fd readable again.  A register that
 * published before the flag was set is caught by that first poll.
 */
#include <config.h>
#include "waitq.h"
#include "backend.h"
#include "clock.h"
#include "futex.h"
#include "probes.h"
#include "proc.h"
#include "thread.h"

#include <errno.h>
#include <sched.h>
#include <limits.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

void rq_waitq_init(struct rq_waitq *wq)
{
	int i;

	atomic_init(&wq->seq, 0);
	atomic_init(&wq->sleepers, 0);
	atomic_init(&wq->searching, 0);
	atomic_init(&wq->timer_owner, 0);
	atomic_init(&wq->shutdown, false);
	for (i = 0; i < RQ_WAIT_SHARDS; i++) {
		atomic_init(&wq->sh[i].waits, 0);
		atomic_init(&wq->sh[i].wakeups, 0);
	}
	atomic_init(&wq->timeouts, 0);
	atomic_init(&wq->sleeps, 0);
	atomic_init(&wq->wake_calls, 0);
	atomic_init(&wq->empty_wakes, 0);
	atomic_init(&wq->efd, -1);
}

/* Context: no other thread may use @wq (readyq_destroy()). */
void rq_waitq_fini(struct rq_waitq *wq)
{
	int fd = atomic_load_explicit(&wq->efd, memory_order_relaxed);

	if (fd >= 0)
		close(fd);
}

/**
 * rq_waitq_notify_fd() - make readyq_fd()'s eventfd readable
 * @wq: the wait queue
 *
 * Adds 1 to the eventfd counter.  A full counter (EAGAIN) is already
 * readable, so the result is ignored.
 *
 * Context: any; async-signal-safe.
 */
void rq_waitq_notify_fd(struct rq_waitq *wq)
{
	int fd = atomic_load_explicit(&wq->efd, memory_order_seq_cst);
	uint64_t one = 1;
	ssize_t rc;

	if (fd < 0)
		return;
	rq_probe(fd_notify, wq);
	rq_waitq_count_call(wq);
	/* The raw syscall: write(2) is a cancellation point, calls are not. */
	do
		rc = syscall(SYS_write, fd, &one, sizeof(one));
	while (rc < 0 && errno == EINTR);
}

/* Wake @nr futex sleepers whose bitset has @bits; counted in wake_calls. */
static void rq_waitq_futex_wake(struct rq_waitq *wq, int nr, uint32_t bits)
{
	rq_waitq_count_call(wq);
	rq_futex_wake(&wq->seq, nr, bits);
}

/*
 * After new work: bump seq, write the eventfd if readyq_fd() made one, and
 * wake one futex sleeper whose bitset has @bits, if anyone sleeps and
 * (@searchers_do, new work) nobody searches.
 */
static void rq_waitq_wake(struct rq_waitq *wq, uint32_t bits,
			  bool searchers_do)
{
	uint32_t s = atomic_load_explicit(&wq->sleepers, memory_order_seq_cst);

	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	if (caa_unlikely(s & RQ_SLEEPERS_FD))
		rq_waitq_notify_fd(wq);
	if (!(s & ~RQ_SLEEPERS_FD))
		return;
	if (searchers_do &&
	    atomic_load_explicit(&wq->searching, memory_order_seq_cst))
		return;
	rq_waitq_futex_wake(wq, 1, bits);
}

/**
 * rq_waitq_wake_all() - everything may have moved: every sleeper looks again
 * @wq: the wait queue
 *
 * Used after the adaptive backend migrated its state.  Also signals
 * readyq_fd()'s eventfd.
 *
 * Context: any.
 */
void rq_waitq_wake_all(struct rq_waitq *wq)
{
	uint32_t s = atomic_load_explicit(&wq->sleepers, memory_order_seq_cst);

	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	if (s & RQ_SLEEPERS_FD)
		rq_waitq_notify_fd(wq);
	if (s & ~RQ_SLEEPERS_FD)
		rq_waitq_futex_wake(wq, INT_MAX, RQ_WAKE_ALL);
}

void rq_waitq_kick_slow(struct rq_waitq *wq)
{
	rq_waitq_wake(wq, RQ_WAKE_WORK, true);
}

/**
 * rq_waitq_ramp_up_slow() - after a drain: wake one more worker if work is
 * left, threads sleep and nobody searches
 * @wq: the wait queue
 * @ops: its backend
 * @be: the backend instance
 *
 * A producer skips the wake while a thread searches; the searcher that
 * found the work, once it has drained, passes the wake on when it could
 * not take everything, so that a burst still reaches every worker (Go's
 * wakep() when the last spinning thread finds work).
 *
 * Context: any; after the drain's own publication; threads sleep
 * (rq_waitq_ramp_up() checked).
 */
void rq_waitq_ramp_up_slow(struct rq_waitq *wq, const struct readyq_ops *ops,
			   void *be)
{
	if (atomic_load_explicit(&wq->searching, memory_order_seq_cst) ||
	    !ops->poll(be))
		return;
	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	rq_waitq_futex_wake(wq, 1, RQ_WAKE_WORK);
}

/**
 * rq_waitq_kick_n() - wake one sleeper for each of @n newly queued indices
 * @wq: the wait queue
 * @n: how many indices became QUEUED (readyq_resume_signal())
 *
 * Stops early once nobody sleeps.  Context: any; the caller published the
 * indices and issued a full barrier (see rq_waitq_kick()).
 */
void rq_waitq_kick_n(struct rq_waitq *wq, int n)
{
	while (n-- > 0 &&
	       atomic_load_explicit(&wq->sleepers, memory_order_seq_cst) &&
	       !atomic_load_explicit(&wq->searching, memory_order_seq_cst))
		rq_waitq_kick_slow(wq);
}

/**
 * rq_waitq_kick_timer() - the earliest deadline moved earlier
 * @wq: the wait queue
 *
 * Wakes the timer owner only (it sleeps with RQ_WAKE_TIMER in its futex
 * bitset), so that it re-arms its timeout.  When nobody owns the timer
 * (its owner left while others kept sleeping without one), wakes any one
 * sleeper instead: it goes round its loop, takes the timer and reads the
 * new deadline.  A sleeper that takes the timer after our load of
 * timer_owner reads the deadline after taking it, so it sees this one.
 * Also signals readyq_fd()'s eventfd so that an event loop re-reads
 * readyq_next_deadline().
 *
 * Context: any.  The caller published the deadline with a seq_cst store.
 */
void rq_waitq_kick_timer(struct rq_waitq *wq)
{
	uint32_t bits;

	if (!atomic_load_explicit(&wq->sleepers, memory_order_seq_cst))
		return;
	bits = atomic_load_explicit(&wq->timer_owner, memory_order_seq_cst) ?
		       RQ_WAKE_TIMER :
		       RQ_WAKE_WORK;
	/* A searcher may sleep with the old deadline: searchers or not. */
	rq_waitq_wake(wq, bits, false);
}

/**
 * rq_waitq_shutdown() - readyq_shutdown(): wake every sleeper for good
 * @wq: the wait queue
 *
 * Context: any thread.  Idempotent.
 */
void rq_waitq_shutdown(struct rq_waitq *wq)
{
	atomic_store_explicit(&wq->shutdown, true, memory_order_seq_cst);
	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	rq_waitq_futex_wake(wq, INT_MAX, RQ_WAKE_ALL);
	rq_waitq_notify_fd(wq);
}

static bool rq_shut(struct rq_waitq *wq)
{
	return atomic_load_explicit(&wq->shutdown, memory_order_seq_cst);
}

/* What a sleeper cancelled in its futex wait must undo. */
struct rq_sleeper {
	struct rq_waitq *wq;
	bool timer; /* it owns the timer */
};

/*
 * rq_sleep_cancelled() - pthread_cleanup_push() handler of the sleep
 *
 * The thread leaves the sleepers and gives up the timer, as a normal
 * wake-up would.  A kick may have chosen it just before the cancellation
 * acted, and the timer may be needed by the others: one other sleeper,
 * if any, is woken to look again (level-triggered, so a spare wake-up
 * costs a poll).
 *
 * Context: the cancelled thread, unwinding; cancellation disabled.
 */
static void rq_sleep_cancelled(void *arg)
{
	struct rq_sleeper *s = arg;
	struct rq_waitq *wq = s->wq;
	uint32_t left;

	if (s->timer)
		atomic_store_explicit(&wq->timer_owner, 0,
				      memory_order_seq_cst);
	left = atomic_fetch_sub_explicit(&wq->sleepers, 1,
					 memory_order_seq_cst) - 1;
	if (left & ~RQ_SLEEPERS_FD)
		rq_waitq_kick_slow(wq);
	rq_asan_unpoison_stack();
}

/*
 * The futex wait is readyq_wait()'s cancellation point: asynchronous
 * cancellation for the system call only, with rq_sleep_cancelled() as
 * the cleanup handler.  Nothing else runs in that window; with
 * cancellation disabled by the caller it is a plain wait.
 */
static void rq_sleep_cancellable(struct rq_sleeper *s, uint32_t seq,
				 uint64_t until, uint32_t bits)
{
	const struct timespec *tsp;
	struct timespec ts;
	int type;

	tsp = rq_futex_deadline(until, &ts);
	pthread_cleanup_push(rq_sleep_cancelled, s);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &type);
	rq_futex_wait_ts(&s->wq->seq, seq, tsp, bits);
	pthread_setcanceltype(type, NULL);
	pthread_cleanup_pop(0);
}

/* Sleep once; returns the poll result seen on the way in (1 = work). */
static int rq_sleep_once(struct rq_waitq *wq, const struct readyq_ops *ops,
			 void *be, uint64_t abs_deadline)
{
	uint32_t seq = atomic_load_explicit(&wq->seq, memory_order_seq_cst);
	struct rq_sleeper s = { .wq = wq };
	uint32_t zero = 0;
	uint64_t until = abs_deadline, next;
	int work;

	atomic_fetch_add_explicit(&wq->sleepers, 1, memory_order_seq_cst);
	work = rq_shut(wq) || ops->poll(be);
	if (work)
		goto out;
	s.timer = atomic_compare_exchange_strong_explicit(
		&wq->timer_owner, &zero, 1, memory_order_seq_cst,
		memory_order_relaxed);
	if (s.timer) {
		next = ops->next_deadline(be);
		if (next < until)
			until = next;
	}
	atomic_fetch_add_explicit(&wq->sleeps, 1, memory_order_relaxed);
	rq_sleep_cancellable(&s, seq, until,
			     s.timer ? RQ_WAKE_WORK | RQ_WAKE_TIMER :
				       RQ_WAKE_WORK);
	if (s.timer) {
		atomic_store_explicit(&wq->timer_owner, 0,
				      memory_order_seq_cst);
		/* Hand the timer to another sleeper if deadlines remain. */
		if ((atomic_load_explicit(&wq->sleepers,
					  memory_order_seq_cst) &
		     ~RQ_SLEEPERS_FD) > 1 &&
		    ops->next_deadline(be) != RQ_NO_DEADLINE)
			rq_waitq_kick_slow(wq);
	}
out:
	atomic_fetch_sub_explicit(&wq->sleepers, 1, memory_order_seq_cst);
	return work;
}

/*
 * Before sleeping, search: poll for a little while, counted in
 * @searching so that producers need not wake anyone.  Under a steady
 * stream of work the queue is empty for moments only, and a futex sleep
 * and wake-up (a system call on each side) per moment makes producers pay
 * for a FUTEX_WAKE on many registers.  RQ_WAIT_SPIN polls, RQ_WAIT_PAUSES
 * pauses apart; perf/README.md ("Polling before sleeping") has the
 * measurements behind the numbers.  A searcher never yields its CPU
 * while it counts as searching: a kick it made unnecessary would then
 * wake nobody for a whole time slice (p99 wake-up latency went from
 * 41 us to 4 ms under load); it yields afterwards (rq_yield_for_work()).
 */
#define RQ_WAIT_SPIN 64
#define RQ_WAIT_PAUSES 8
#define RQ_WAIT_YIELDS 16
#define RQ_MAX_SEARCHERS 2

/*
 * After searching, RQ_WAIT_YIELDS more polls a sched_yield() apart: with
 * more threads than CPUs, the thread that would queue the work may be
 * waiting for this CPU.  Not counted in @searching: a thread that gave
 * its CPU away must not stop a kick from waking a sleeper (nor is it a
 * sleeper: a kick spends nothing on it, and its next poll sees the work).
 */
static bool rq_yield_for_work(struct rq_waitq *wq,
			      const struct readyq_ops *ops, void *be)
{
	int i;

	for (i = 0; i < RQ_WAIT_YIELDS; i++) {
		sched_yield();
		if (rq_shut(wq) || ops->poll(be))
			return true;
	}
	return false;
}

static bool rq_search(struct rq_waitq *wq, const struct readyq_ops *ops,
		      void *be)
{
	bool found = false;
	int i, k;

	/*
	 * At most RQ_MAX_SEARCHERS at a time: when work comes, every
	 * searcher sees it and all but one find nothing to drain (empty
	 * wakes).  The others sleep at once; a searcher that found work
	 * ramps up.  Two, not one, so that one can search while another
	 * drains what the first found (fewer sleeps under a steady flow).
	 */
	if (atomic_fetch_add_explicit(&wq->searching, 1,
				      memory_order_seq_cst) >= RQ_MAX_SEARCHERS) {
		atomic_fetch_sub_explicit(&wq->searching, 1,
					  memory_order_seq_cst);
		return false;
	}
	for (i = 0; i < RQ_WAIT_SPIN && !found; i++) {
		for (k = 0; k < RQ_WAIT_PAUSES; k++)
			caa_cpu_relax();
		found = rq_shut(wq) || ops->poll(be);
	}
	/* Before the sleeper's announce and poll: see the top of the file. */
	atomic_fetch_sub_explicit(&wq->searching, 1, memory_order_seq_cst);
	return found || rq_yield_for_work(wq, ops, be);
}

/* This thread's counter shard of @wq. */
static struct rq_wait_shard *rq_wait_shard(struct rq_waitq *wq)
{
	return &wq->sh[rq_thread_id() % RQ_WAIT_SHARDS];
}

/* readyq_stats(): the sums of the per-thread counters. */
void rq_waitq_counts(const struct rq_waitq *wq, uint64_t *waits,
		     uint64_t *wakeups)
{
	int i;

	*waits = *wakeups = 0;
	for (i = 0; i < RQ_WAIT_SHARDS; i++) {
		*waits += atomic_load_explicit(&wq->sh[i].waits,
					       memory_order_relaxed);
		*wakeups += atomic_load_explicit(&wq->sh[i].wakeups,
						 memory_order_relaxed);
	}
}

/**
 * rq_waitq_wait() - readyq_wait(): until @ops->poll(@be) says work, the
 * timeout passes or the queue is shut down
 * @wq: the queue's wait queue
 * @ops: its backend
 * @be: the backend instance
 * @timeout_ns: relative timeout, < 0 for none
 *
 * Context: any thread; blocks.  A cancellation point: on entry, and
 * while asleep in the futex (rq_sleep_cancellable()); nowhere else.
 * Return: 0, -ETIMEDOUT or -ESHUTDOWN.
 */
int rq_waitq_wait(struct rq_waitq *wq, const struct readyq_ops *ops,
		  void *be, int64_t timeout_ns)
{
	struct rq_wait_shard *sh;
	uint64_t deadline = RQ_NO_DEADLINE;
	bool spun = timeout_ns == 0;
	int rc;

	pthread_testcancel();
	sh = rq_wait_shard(wq);
	atomic_fetch_add_explicit(&sh->waits, 1, memory_order_relaxed);
	if (timeout_ns >= 0)
		deadline = rq_deadline_after(rq_now_ns(), (uint64_t)timeout_ns);
	for (;;) {
		if (rq_shut(wq)) {
			rc = -ESHUTDOWN;
			break;
		}
		if (ops->poll(be)) {
			rc = 0;
			break;
		}
		if (deadline != RQ_NO_DEADLINE && rq_now_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if (!spun) {
			spun = true;
			if (rq_search(wq, ops, be))
				continue;
		}
		rq_sleep_once(wq, ops, be, deadline);
	}
	if (rc == 0)
		atomic_fetch_add_explicit(&sh->wakeups, 1,
					  memory_order_relaxed);
	else if (rc == -ETIMEDOUT)
		atomic_fetch_add_explicit(&wq->timeouts, 1,
					  memory_order_relaxed);
	return rc;
}

/**
 * rq_waitq_fd() - readyq_fd(): the queue's eventfd, created on first use
 * @wq: the queue's wait queue
 * @ops: its backend
 * @be: the backend instance
 *
 * Return: the fd, or a negative errno from eventfd(2).
 */
int rq_waitq_fd(struct rq_waitq *wq, const struct readyq_ops *ops, void *be)
{
	int fd = atomic_load_explicit(&wq->efd, memory_order_acquire);
	int none = -1;

	if (fd >= 0)
		return fd;
	fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (!atomic_compare_exchange_strong_explicit(&wq->efd, &none, fd,
						     memory_order_seq_cst,
						     memory_order_seq_cst)) {
		close(fd); /* another thread won; @none holds its fd */
		return none;
	}
	/*
	 * From here every kick writes the fd.  Work published before the
	 * flag was visible was not signalled: the seq_cst RMW here and the
	 * seq_cst load in rq_waitq_kick() order it before this poll.
	 */
	atomic_fetch_or_explicit(&wq->sleepers, RQ_SLEEPERS_FD,
				 memory_order_seq_cst);
	if (rq_shut(wq) || ops->poll(be))
		rq_waitq_notify_fd(wq);
	return fd;
}
