// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * wait.c - futexes, the three-state lock and level-triggered waiting
 *
 * Waiting protocol (see internal.h):
 *
 *   sleeper                              producer
 *   -------                              --------
 *   seq = load(wq->seq)                  publish QUEUED (seq_cst RMW)
 *   sleepers++            (seq_cst)      if (load(sleepers))  (seq_cst)
 *   if (poll()) leave                        seq++, futex_wake(seq, 1)
 *   futex_wait(seq, until)
 *   sleepers--
 *
 * Either the producer sees the sleeper or the sleeper's poll sees the new
 * work; a kick between the sleeper's load of seq and its futex_wait makes
 * the wait return at once (the word changed).  Each kick wakes at most one
 * thread; readyq_shutdown() wakes all.
 *
 * Deadlines: at most one sleeper (the timer owner) bounds its sleep by the
 * backend's earliest deadline, so a due deadline wakes one thread, not
 * all.  It sleeps with RQ_WAKE_TIMER in its futex bitset: a backend whose
 * earliest deadline moves earlier wakes just that thread to re-arm.  A timer owner that leaves while others sleep and a deadline is
 * pending hands the timer on by waking one of them.
 *
 * Event fd: readyq_fd() creates an eventfd lazily and sets RQ_SLEEPERS_FD
 * in @sleepers, then polls once.  Every kick (new QUEUED index, earlier
 * deadline, shutdown) then writes 1 to the eventfd; the caller reads it to
 * clear it and drains after the read, so a kick that its drain missed
 * came after the read and leaves the fd readable again.  A register that
 * published before the flag was set is caught by that first poll.
 */
#include "internal.h"
#include "probes.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

long rq_futex_wait(_Atomic uint32_t *uaddr, uint32_t val,
		   uint64_t abs_deadline_ns, uint32_t bits)
{
	struct timespec ts, *tsp = NULL;
	long rc;

	if (abs_deadline_ns != RQ_NO_DEADLINE) {
		ts.tv_sec = (time_t)(abs_deadline_ns / 1000000000ull);
		ts.tv_nsec = (long)(abs_deadline_ns % 1000000000ull);
		tsp = &ts;
	}
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline. */
	rc = syscall(SYS_futex, (uint32_t *)uaddr,
		     FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val, tsp, NULL,
		     bits);
	return rc < 0 ? -errno : 0;
}

void rq_futex_wake(_Atomic uint32_t *uaddr, int nr, uint32_t bits)
{
	syscall(SYS_futex, (uint32_t *)uaddr,
		FUTEX_WAKE_BITSET | FUTEX_PRIVATE_FLAG, nr, NULL, NULL, bits);
}

#define RQ_LOCK_SPIN 100

bool rq_lock_slow(struct rq_lock *l)
{
	uint32_t c;
	int spin;

	/*
	 * Spin briefly: critical sections are a few dozen instructions.
	 * Measured on 2 vCPUs (perf/README.md): 100 pauses beat 10 in
	 * steady state; a waiter-counting lock without the sticky
	 * "contended" state was slower at 4 and 8 threads than this one,
	 * whose sleepers are woken one per unlock.
	 */
	for (spin = 0; spin < RQ_LOCK_SPIN; spin++) {
		rq_cpu_relax();
		c = atomic_load_explicit(&l->word, memory_order_relaxed);
		if (c == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &l->word, &c, 1, memory_order_acquire,
				    memory_order_relaxed))
				return true;
		}
	}
	c = atomic_exchange_explicit(&l->word, 2, memory_order_acquire);
	while (c != 0) {
		rq_futex_wait(&l->word, 2, RQ_NO_DEADLINE, RQ_WAKE_ALL);
		c = atomic_exchange_explicit(&l->word, 2,
					     memory_order_acquire);
	}
	return true;
}

void rq_waitq_init(struct rq_waitq *wq)
{
	atomic_init(&wq->seq, 0);
	atomic_init(&wq->sleepers, 0);
	atomic_init(&wq->timer_owner, 0);
	atomic_init(&wq->shutdown, false);
	atomic_init(&wq->waits, 0);
	atomic_init(&wq->wakeups, 0);
	atomic_init(&wq->timeouts, 0);
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
	/* The raw syscall: write(2) is a cancellation point, calls are not. */
	do
		rc = syscall(SYS_write, fd, &one, sizeof(one));
	while (rc < 0 && errno == EINTR);
}

/*
 * After new work: bump seq, write the eventfd if readyq_fd() made one, and
 * wake one futex sleeper whose bitset has @bits, if anyone sleeps.
 */
static void rq_waitq_wake(struct rq_waitq *wq, uint32_t bits)
{
	uint32_t s = atomic_load_explicit(&wq->sleepers, memory_order_seq_cst);

	atomic_fetch_add_explicit(&wq->seq, 1, memory_order_seq_cst);
	if (rq_unlikely(s & RQ_SLEEPERS_FD))
		rq_waitq_notify_fd(wq);
	if (s & ~RQ_SLEEPERS_FD)
		rq_futex_wake(&wq->seq, 1, bits);
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
		rq_futex_wake(&wq->seq, INT_MAX, RQ_WAKE_ALL);
}

void rq_waitq_kick_slow(struct rq_waitq *wq)
{
	rq_waitq_wake(wq, RQ_WAKE_WORK);
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
	       atomic_load_explicit(&wq->sleepers, memory_order_seq_cst))
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
	rq_waitq_wake(wq, bits);
}

static bool rq_shut(struct rq_waitq *wq)
{
	return atomic_load_explicit(&wq->shutdown, memory_order_seq_cst);
}

/* Sleep once; returns the poll result seen on the way in (1 = work). */
static int rq_sleep_once(struct readyq *q, uint64_t abs_deadline)
{
	struct rq_waitq *wq = &q->wq;
	uint32_t seq = atomic_load_explicit(&wq->seq, memory_order_seq_cst);
	uint32_t zero = 0;
	uint64_t until = abs_deadline, next;
	bool timer;
	int work;

	atomic_fetch_add_explicit(&wq->sleepers, 1, memory_order_seq_cst);
	work = rq_shut(wq) || q->ops->poll(q->be);
	if (work)
		goto out;
	timer = atomic_compare_exchange_strong_explicit(
		&wq->timer_owner, &zero, 1, memory_order_seq_cst,
		memory_order_relaxed);
	if (timer) {
		next = q->ops->next_deadline(q->be);
		if (next < until)
			until = next;
	}
	rq_futex_wait(&wq->seq, seq, until,
		      timer ? RQ_WAKE_WORK | RQ_WAKE_TIMER : RQ_WAKE_WORK);
	if (timer) {
		atomic_store_explicit(&wq->timer_owner, 0,
				      memory_order_seq_cst);
		/* Hand the timer to another sleeper if deadlines remain. */
		if ((atomic_load_explicit(&wq->sleepers,
					  memory_order_seq_cst) &
		     ~RQ_SLEEPERS_FD) > 1 &&
		    q->ops->next_deadline(q->be) != RQ_NO_DEADLINE)
			rq_waitq_kick_slow(wq);
	}
out:
	atomic_fetch_sub_explicit(&wq->sleepers, 1, memory_order_seq_cst);
	return work;
}

/*
 * Before sleeping, poll for a little while: under a steady stream of work
 * the queue is empty for moments only, and a futex sleep and wake-up (a
 * syscall on each side, several microseconds in a VM) per moment makes
 * producers pay for a FUTEX_WAKE on many registers.  Measured with
 * strace in perf/readyq-bench steady (locked, M = 1024): 356,696 futex
 * calls for 200,000 messages without the spin, 46,522 with it.
 */
#define RQ_WAIT_SPIN 64

static bool rq_spin_for_work(struct readyq *q)
{
	int i, k;

	for (i = 0; i < RQ_WAIT_SPIN; i++) {
		for (k = 0; k < 8; k++)
			rq_cpu_relax();
		if (rq_shut(&q->wq) || q->ops->poll(q->be))
			return true;
	}
	return false;
}

int rq_wait(struct readyq *q, int64_t timeout_ns)
{
	struct rq_waitq *wq = &q->wq;
	uint64_t deadline = RQ_NO_DEADLINE;
	bool spun = timeout_ns == 0;
	int rc;

	atomic_fetch_add_explicit(&wq->waits, 1, memory_order_relaxed);
	if (timeout_ns >= 0)
		deadline = rq_deadline_after(rq_now_ns(), (uint64_t)timeout_ns);
	for (;;) {
		if (rq_shut(wq)) {
			rc = -ESHUTDOWN;
			break;
		}
		if (q->ops->poll(q->be)) {
			rc = 0;
			break;
		}
		if (deadline != RQ_NO_DEADLINE && rq_now_ns() >= deadline) {
			rc = -ETIMEDOUT;
			break;
		}
		if (!spun) {
			spun = true;
			if (rq_spin_for_work(q))
				continue;
		}
		rq_sleep_once(q, deadline);
	}
	if (rc == 0)
		atomic_fetch_add_explicit(&wq->wakeups, 1,
					  memory_order_relaxed);
	else if (rc == -ETIMEDOUT)
		atomic_fetch_add_explicit(&wq->timeouts, 1,
					  memory_order_relaxed);
	return rc;
}

/**
 * rq_waitq_fd() - readyq_fd(): the queue's eventfd, created on first use
 * @q: the queue
 *
 * Return: the fd, or a negative errno from eventfd(2).
 */
int rq_waitq_fd(struct readyq *q)
{
	struct rq_waitq *wq = &q->wq;
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
	if (rq_shut(wq) || q->ops->poll(q->be))
		rq_waitq_notify_fd(wq);
	return fd;
}
