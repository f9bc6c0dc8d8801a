// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * core.c - argument checking and dispatch through struct readyq_ops
 *
 * Every exported entry point lives here.  It checks its arguments (NULL
 * handles and buffers, max == 0, unknown enum values: -EINVAL with no
 * state change), refuses registers after readyq_shutdown() and calls the
 * backend.  Backends therefore see only valid input.
 */
#include "backend.h"
#include "alloc.h"
#include "clock.h"
#include "probes.h"
#include "proc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RQ_DEFAULT_THROUGHPUT 32

/* Names queues in rq_woken (an address can come back for a new queue). */
static _Atomic uint64_t rq_next_id = 1;

/*
 * The queue whose readyq_wait() this thread's last returned 0, until its
 * next readyq_drain(): a drain that then finds nothing is an empty wake.
 */
static rq_thread_local uint64_t rq_woken;
#define RQ_MAX_CAPACITY_HINT ((size_t)1 << 32)
#define RQ_MAX_CONCURRENCY_HINT 65536u

static const char *const rq_backend_names[] = {
	[READYQ_BACKEND_LOCKED] = "locked",
	[READYQ_BACKEND_LOCKFREE] = "lockfree",
	[READYQ_BACKEND_ADAPTIVE] = "adaptive",
};

static const struct readyq_ops *const rq_backends[] = {
	[READYQ_BACKEND_LOCKED] = &rq_locked_ops,
	[READYQ_BACKEND_LOCKFREE] = &rq_lockfree_ops,
	[READYQ_BACKEND_ADAPTIVE] = &rq_adaptive_ops,
};

/**
 * readyq_config_init() - fill a configuration with the defaults
 * @cfg: the configuration to fill
 *
 * The defaults are the adaptive backend, throughput 32, concurrency hint
 * "online CPUs", a small capacity and the default adaptive thresholds.
 *
 * Context: any.
 */
READYQ_EXPORT void readyq_config_init(struct readyq_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = READYQ_BACKEND_ADAPTIVE;
}

/**
 * readyq_config_size() - the size of struct readyq_config in this library
 *
 * Return: sizeof(struct readyq_config) as the library was built.
 */
READYQ_EXPORT size_t readyq_config_size(void)
{
	return sizeof(struct readyq_config);
}

/**
 * readyq_stats_size() - the size of struct readyq_stats in this library
 *
 * Return: sizeof(struct readyq_stats) as the library was built.
 */
READYQ_EXPORT size_t readyq_stats_size(void)
{
	return sizeof(struct readyq_stats);
}

/**
 * readyq_version() - the library's version
 *
 * Return: (major << 16) | (minor << 8) | patch, comparable with
 * READYQ_VERSION_HEX.
 */
READYQ_EXPORT unsigned int readyq_version(void)
{
	return READYQ_VERSION_HEX;
}

/**
 * readyq_backend_name() - the name of a backend
 * @b: the backend
 *
 * Return: "locked", "lockfree" or "adaptive"; NULL for an unknown value.
 */
READYQ_EXPORT const char *readyq_backend_name(enum readyq_backend b)
{
	if ((unsigned int)b >= sizeof(rq_backend_names) /
				       sizeof(rq_backend_names[0]))
		return NULL;
	return rq_backend_names[b];
}

#define RQ_PERMILLE 1000u

static int rq_check_config(const struct readyq_config *cfg)
{
	if ((unsigned int)cfg->backend > READYQ_BACKEND_ADAPTIVE)
		return -EINVAL;
	if (cfg->capacity_hint > RQ_MAX_CAPACITY_HINT)
		return -EINVAL;
	if (cfg->concurrency_hint > RQ_MAX_CONCURRENCY_HINT)
		return -EINVAL;
	if (cfg->adaptive_up_permille > RQ_PERMILLE ||
	    cfg->adaptive_down_permille > RQ_PERMILLE)
		return -EINVAL;
	if (cfg->flags & ~READYQ_FLAGS_ALL)
		return -EINVAL;
	return 0;
}

/*
 * rq_resolve_config() - @cfg (NULL: the defaults) with every 0 that means
 * "default" replaced, into *@out; then checked as a whole, so that a
 * default cannot make an impossible pair (down must stay below up).
 * Return: 0 or -EINVAL.
 */
static int rq_resolve_config(const struct readyq_config *cfg,
			     struct readyq_config *out)
{
	long ncpu;
	int rc;

	if (cfg)
		*out = *cfg;
	else
		readyq_config_init(out);
	rc = rq_check_config(out);
	if (rc)
		return rc;
	if (!out->concurrency_hint) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		out->concurrency_hint = ncpu > 0 ? (uint32_t)ncpu : 1;
	}
	if (!out->adaptive_up_permille)
		out->adaptive_up_permille = RQ_ADAPTIVE_DEFAULT_UP;
	if (!out->adaptive_down_permille)
		out->adaptive_down_permille =
			out->adaptive_up_permille > RQ_ADAPTIVE_DEFAULT_DOWN ?
				RQ_ADAPTIVE_DEFAULT_DOWN :
				out->adaptive_up_permille / 2;
	if (out->adaptive_down_permille >= out->adaptive_up_permille)
		return -EINVAL;
	if (!out->adaptive_window)
		out->adaptive_window = RQ_ADAPTIVE_DEFAULT_WINDOW;
	if (!out->adaptive_hold)
		out->adaptive_hold = RQ_ADAPTIVE_DEFAULT_HOLD;
	return 0;
}

/**
 * readyq_create() - make a ready queue
 * @cfg: the configuration (from readyq_config_init()), or NULL for the
 *	defaults
 * @qp: where to store the new queue
 *
 * Context: any.  Allocates memory.
 * Return: 0; -EINVAL for a NULL @qp or an impossible configuration;
 * -ENOMEM.
 */
READYQ_EXPORT int readyq_create(const struct readyq_config *cfg,
				struct readyq **qp)
{
	struct readyq_config eff;
	struct readyq *q;
	int cs, rc;

	if (!qp)
		return -EINVAL;
	rc = rq_resolve_config(cfg, &eff);
	if (rc)
		return rc;
	/* liburcu may poll(2) or join a thread: no cancellation inside. */
	rq_nocancel_begin(&cs);
	rc = rq_proc_init();
	if (rc)
		goto out;
	rc = -ENOMEM;
	q = rq_zalloc_aligned(sizeof(*q));
	if (!q)
		goto out;
	q->ops = rq_backends[eff.backend];
	q->id = atomic_fetch_add_explicit(&rq_next_id, 1, memory_order_relaxed);
	q->backend = eff.backend;
	q->throughput = eff.throughput ? eff.throughput :
					 RQ_DEFAULT_THROUGHPUT;
	rq_waitq_init(&q->wq);
	if (eff.flags & READYQ_FLAG_HISTOGRAMS) {
		q->hist = rq_hist_new(q);
		if (!q->hist)
			goto out_free;
	}
	rc = q->ops->create(&eff, &q->wq, q->hist, &q->be);
	if (rc)
		goto out_free;
	*qp = q;
	goto out;
out_free:
	rq_waitq_fini(&q->wq);
	rq_hist_free(q->hist);
	rq_free(q);
out:
	rq_nocancel_end(cs);
	return rc;
}

/**
 * readyq_destroy() - free a queue and everything in it
 * @q: the queue, or NULL
 *
 * Indices may still be queued, running or suspended; they are forgotten.
 * Closes the fd returned by readyq_fd(), if any.
 *
 * Context: no other thread may use @q during or after the call.
 */
READYQ_EXPORT void readyq_destroy(struct readyq *q)
{
	int cs;

	if (!q)
		return;
	/* close(2), and liburcu's poll(2): no cancellation inside. */
	rq_nocancel_begin(&cs);
	q->ops->destroy(q->be);
	rq_waitq_fini(&q->wq);
	rq_hist_free(q->hist);
	rq_free(q);
	rq_nocancel_end(cs);
}

/**
 * readyq_register() - announce that a mailbox has work
 * @q: the queue
 * @idx: the mailbox
 *
 * IDLE (or a newer generation): QUEUED at the tail, one sleeper woken.
 * QUEUED: nothing.  RUNNING: NOTIFIED, queued again when the turn ends.
 * SUSPENDED or DELAYED: remembered, queued when resumed.
 *
 * Context: any thread; lock-free on the lock-free backend.
 * Return: 1 if @idx was queued, 0 if it was already queued, running,
 * suspended or delayed; -ESTALE for an older generation or a retired one;
 * -ESHUTDOWN after readyq_shutdown(); -EINVAL for a NULL @q; -ENOMEM.
 */
READYQ_EXPORT int readyq_register(struct readyq *q, struct readyq_index idx)
{
	int rc;

	if (caa_unlikely(!q))
		return -EINVAL;
	if (caa_unlikely(atomic_load_explicit(&q->wq.shutdown,
					     memory_order_relaxed)))
		return -ESHUTDOWN;
	rc = q->ops->reg(q->be, idx);
	rq_probe(register, q, idx.slot, idx.generation, rc);
	return rc;
}

/**
 * readyq_unregister() - cancel whatever is scheduled for a mailbox
 * @q: the queue
 * @idx: the mailbox
 *
 * QUEUED, DELAYED or SUSPENDED become IDLE; on RUNNING the NOTIFIED mark
 * is cleared (the turn's end will not queue it again unless asked to).
 *
 * Context: any thread.
 * Return: 1 if something was cancelled, 0 if not; -ESTALE when @idx is not
 * the slot's current generation or is retired; -EINVAL for a NULL @q.
 */
READYQ_EXPORT int readyq_unregister(struct readyq *q, struct readyq_index idx)
{
	if (caa_unlikely(!q))
		return -EINVAL;
	return q->ops->unreg(q->be, idx);
}

/**
 * readyq_drain() - take a batch of ready mailboxes
 * @q: the queue
 * @out: where to store the indices
 * @max: room in @out
 *
 * Moves due deadlines to the queue first, then takes up to @max QUEUED
 * indices in FIFO order and makes them RUNNING.  The caller owns each
 * returned index until it calls readyq_complete() for it.
 *
 * Context: any thread.  Works after readyq_shutdown().
 * Return: how many indices were stored (0 if none); -EINVAL for a NULL @q
 * or @out or a zero @max.
 */
READYQ_EXPORT ssize_t readyq_drain(struct readyq *q, struct readyq_index *out,
				   size_t max)
{
	ssize_t n;

	if (caa_unlikely(!q || !out || !max))
		return -EINVAL;
	if (max > SSIZE_MAX)
		max = SSIZE_MAX;
	n = q->ops->drain(q->be, out, max);
	rq_probe(drain, q, max, n);
	if (rq_woken == q->id) {
		rq_woken = 0;
		if (!n)
			atomic_fetch_add_explicit(&q->wq.empty_wakes, 1,
						  memory_order_relaxed);
	}
	if (n > 0)
		rq_waitq_ramp_up(&q->wq, q->ops, q->be);
	return n;
}

static int rq_check_result(const struct readyq_result *res)
{
	switch (res->outcome) {
	case READYQ_COMPLETED:
	case READYQ_YIELDED:
	case READYQ_FAILED:
	case READYQ_STOPPED:
		return 0;
	case READYQ_SUSPENDED:
		if ((unsigned int)res->reason > READYQ_SUSPEND_USER)
			return -EINVAL;
		if ((unsigned int)res->resume_on > READYQ_RESUME_CAPACITY)
			return -EINVAL;
		return 0;
	}
	return -EINVAL;
}

/**
 * readyq_complete() - report how a turn ended
 * @q: the queue
 * @idx: the mailbox whose turn ended
 * @res: the outcome, from a readyq_result_*() constructor
 *
 * COMPLETED with ready_hint or YIELDED: QUEUED at the tail.  COMPLETED
 * without ready_hint, or FAILED without retry: IDLE, unless the mailbox was
 * registered during the turn, then QUEUED.  SUSPENDED: until its resume
 * condition.  FAILED with a retry delay: DELAYED, then QUEUED.  STOPPED:
 * RETIRED; every later call with this generation gets -ESTALE.
 *
 * On an index that is not RUNNING the result is applied to its current
 * state (state.h, rq_outside_turn()): ready/yield act as readyq_register(),
 * idle/suspend/fail as readyq_unregister(), stop as unregister and
 * retire.
 *
 * Context: any thread.
 * Return: 0; -ESTALE when @idx is not the slot's current generation or is
 * retired; -EINVAL for NULL arguments or unknown enum values; -ENOMEM (the
 * turn is still running: call again).
 */
READYQ_EXPORT int readyq_complete(struct readyq *q, struct readyq_index idx,
				  const struct readyq_result *res)
{
	int rc;

	if (caa_unlikely(!q || !res))
		return -EINVAL;
	rc = rq_check_result(res);
	if (caa_unlikely(rc))
		return rc;
	rc = q->ops->complete(q->be, idx, res);
	rq_probe(complete, q, idx.slot, idx.generation, (int)res->outcome, rc);
	return rc;
}

/**
 * readyq_register_batch() - readyq_register() for @n mailboxes
 * @q: the queue
 * @idx: the mailboxes
 * @n: how many
 *
 * The same as @n readyq_register() calls in order, with one publication
 * and one wake decision for the whole batch (under one lock hold on the
 * locked backend).  Stops at the first element that fails.
 *
 * Context: any thread.
 * Return: how many were applied (like write(2), a prefix: @n unless one
 * failed); when the first fails, its negative errno (-ESTALE, -ENOMEM);
 * -ESHUTDOWN after readyq_shutdown(); -EINVAL for a NULL @q, or a NULL
 * @idx with @n > 0.  0 for @n == 0.
 */
READYQ_EXPORT ssize_t readyq_register_batch(struct readyq *q,
					    const struct readyq_index *idx,
					    size_t n)
{
	if (caa_unlikely(!q || (!idx && n)))
		return -EINVAL;
	if (caa_unlikely(atomic_load_explicit(&q->wq.shutdown,
					     memory_order_relaxed)))
		return -ESHUTDOWN;
	if (!n)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	return q->ops->reg_batch(q->be, idx, n);
}

/**
 * readyq_complete_batch() - readyq_complete() for @n turns
 * @q: the queue
 * @idx: the mailboxes whose turns ended
 * @res: their outcomes, @res[i] for @idx[i]
 * @n: how many
 *
 * The same as @n readyq_complete() calls in order, with one publication
 * and one wake decision for the whole batch.  Stops at the first element
 * that fails, or whose result is invalid.
 *
 * Context: any thread.
 * Return: how many were applied (a prefix, as readyq_register_batch());
 * when the first fails, its negative errno (-ESTALE, -ENOMEM, -EINVAL for
 * an invalid result); -EINVAL for a NULL @q, or NULL @idx or @res with
 * @n > 0.  0 for @n == 0.
 */
READYQ_EXPORT ssize_t readyq_complete_batch(struct readyq *q,
					    const struct readyq_index *idx,
					    const struct readyq_result *res,
					    size_t n)
{
	size_t valid;

	if (caa_unlikely(!q || ((!idx || !res) && n)))
		return -EINVAL;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	for (valid = 0; valid < n; valid++)
		if (caa_unlikely(rq_check_result(&res[valid])))
			break;
	if (!valid)
		return n ? -EINVAL : 0;
	return q->ops->complete_batch(q->be, idx, res, valid);
}

/**
 * readyq_resume() - end a suspension or a retry delay now
 * @q: the queue
 * @idx: the mailbox
 *
 * A SUSPENDED (on any condition) or DELAYED index becomes QUEUED at the
 * tail; its turn finds out whether there is work.
 *
 * Context: any thread.
 * Return: 1 if @idx was resumed, else 0; -ESTALE for a generation other
 * than the current one or a retired one; -EINVAL for a NULL @q.
 */
READYQ_EXPORT int readyq_resume(struct readyq *q, struct readyq_index idx)
{
	if (caa_unlikely(!q))
		return -EINVAL;
	return q->ops->resume(q->be, idx);
}

/**
 * readyq_resume_signal() - resume every mailbox suspended on a key
 * @q: the queue
 * @key: the signal key given to readyq_result_suspended()
 *
 * Context: any thread.
 * Return: how many indices became QUEUED (clamped to INT_MAX); -EINVAL for
 * a NULL @q.
 */
READYQ_EXPORT int readyq_resume_signal(struct readyq *q, uint64_t key)
{
	if (caa_unlikely(!q))
		return -EINVAL;
	return q->ops->resume_signal(q->be, key);
}

/**
 * readyq_poll_signal() - is there work, without blocking
 * @q: the queue
 *
 * Context: any thread.
 * Return: 1 if an index is QUEUED or a deadline is due, else 0;
 * -ESHUTDOWN after readyq_shutdown(); -EINVAL for a NULL @q.
 */
READYQ_EXPORT int readyq_poll_signal(struct readyq *q)
{
	if (caa_unlikely(!q))
		return -EINVAL;
	if (atomic_load_explicit(&q->wq.shutdown, memory_order_acquire))
		return -ESHUTDOWN;
	return q->ops->poll(q->be);
}

/**
 * readyq_wait() - sleep until there is work
 * @q: the queue
 * @timeout_ns: how long to wait at most; negative = forever, 0 = poll
 *
 * Level-triggered: returns 0 when at some moment during the call an index
 * was QUEUED or due (another worker may have drained it since).  The
 * timeout is measured on CLOCK_MONOTONIC from the call; signals do not
 * stretch it.  A sleeping caller is also woken by the earliest pending
 * deadline.
 *
 * Context: any thread; blocks.
 * Return: 0; -ETIMEDOUT; -ESHUTDOWN after readyq_shutdown() (even with
 * work queued); -EINVAL for a NULL @q.
 */
READYQ_EXPORT int readyq_wait(struct readyq *q, int64_t timeout_ns)
{
	int rc;

	if (caa_unlikely(!q))
		return -EINVAL;
	rc = rq_waitq_wait(&q->wq, q->ops, q->be, timeout_ns);
	rq_probe(wait, q, timeout_ns, rc);
	rq_woken = rc ? 0 : q->id;
	return rc;
}

/**
 * readyq_shutdown() - stop the queue: wake every waiter, refuse registers
 * @q: the queue, or NULL
 *
 * Later readyq_wait() and readyq_register() calls return -ESHUTDOWN;
 * readyq_drain() and readyq_complete() still work so that workers can
 * finish or abandon what they hold.  Makes readyq_fd()'s fd readable.
 * Idempotent.
 *
 * Context: any thread; async-signal-safe (atomics and raw system calls
 * only, rq_waitq_shutdown(); errno is preserved).
 */
READYQ_EXPORT void readyq_shutdown(struct readyq *q)
{
	int saved_errno = errno;

	if (!q)
		return;
	rq_probe(shutdown, q);
	rq_waitq_shutdown(&q->wq);
	errno = saved_errno;
}

/**
 * readyq_fd() - a file descriptor that becomes readable when there is work
 * @q: the queue
 *
 * For event loops (epoll(7), poll(2)) that wait on the queue beside their
 * sockets.  The fd is an eventfd(2) (non-blocking, close-on-exec), created
 * on the first call; later calls return the same fd, and readyq_destroy()
 * closes it.  Do not close it yourself.
 *
 * Semantics (edge-style, nothing lost): the library adds to the fd's
 * counter whenever an index becomes QUEUED, whenever the earliest pending
 * deadline moves earlier, and on readyq_shutdown().  Only the caller
 * clears it, by read(2)ing 8 bytes.  The loop is: wait for the fd (or the
 * deadline timer) to be readable; read it; then call readyq_drain() until
 * it returns 0, completing each index; then arm the timer from
 * readyq_next_deadline() and wait again.  Work queued after the read is
 * either drained by that loop or leaves the fd readable again, so reading
 * before draining never loses a notification.  The fd is readable right
 * after creation when work was already queued or due.
 *
 * Deadlines (DELAYED and after-delay SUSPENDED indices) do not make the
 * fd readable when they pass: no library thread watches them.  Take the
 * earliest one from readyq_next_deadline() after draining and bound the
 * wait by it (epoll timeout or a timerfd); the fd tells when it moved
 * earlier.  After readyq_shutdown() the fd is readable and
 * readyq_poll_signal() returns -ESHUTDOWN.
 *
 * Once the fd exists every new QUEUED index costs one write(2) on it;
 * without it, queues pay nothing.
 *
 * Context: any thread.
 * Return: the fd (>= 0); -EINVAL for a NULL @q; a negative errno from
 * eventfd(2) (-EMFILE, -ENFILE, -ENOMEM), with nothing changed.
 */
READYQ_EXPORT int readyq_fd(struct readyq *q)
{
	if (caa_unlikely(!q))
		return -EINVAL;
	return rq_waitq_fd(&q->wq, q->ops, q->be);
}

/**
 * readyq_next_deadline() - the earliest pending deadline
 * @q: the queue
 * @abs_ns: where to store it, in CLOCK_MONOTONIC nanoseconds
 *
 * The earliest time at which a DELAYED or after-delay SUSPENDED index
 * becomes due; it may already have passed (then readyq_drain() moves it to
 * the queue).  Use it with readyq_fd() to bound an event loop's sleep, for
 * example with a timerfd armed with TFD_TIMER_ABSTIME.
 *
 * Context: any thread.
 * Return: 1 with *@abs_ns set; 0 when nothing waits for a deadline
 * (*@abs_ns is left alone); -EINVAL for NULL arguments.
 */
READYQ_EXPORT int readyq_next_deadline(struct readyq *q, uint64_t *abs_ns)
{
	uint64_t d;

	if (caa_unlikely(!q || !abs_ns))
		return -EINVAL;
	d = q->ops->next_deadline(q->be);
	if (d == RQ_NO_DEADLINE)
		return 0;
	*abs_ns = d;
	return 1;
}

/**
 * readyq_throughput() - messages per turn the queue was configured with
 * @q: the queue
 *
 * Return: the throughput (32 unless configured); 0 for a NULL @q.
 */
READYQ_EXPORT uint32_t readyq_throughput(const struct readyq *q)
{
	return q ? q->throughput : 0;
}

static int rq_histogram(const struct readyq *q, enum rq_hist_kind k,
			uint64_t *buckets, size_t n)
{
	if (!q || !buckets || !n || n > RQ_HIST_BUCKETS)
		return -EINVAL;
	if (!q->hist)
		return -ENOTSUP;
	rq_hist_read(q->hist, k, buckets, n);
	return 0;
}

/**
 * readyq_delay_histogram() - how long indices waited QUEUED
 * @q: the queue, created with READYQ_FLAG_HISTOGRAMS
 * @buckets: where to store the counts
 * @n: room in @buckets, 1 to READYQ_HISTOGRAM_BUCKETS (64)
 *
 * Queue delay: from the moment an index became QUEUED (register, a turn's
 * requeue, resume, signal or due deadline) to the drain that returned it,
 * kept across the adaptive backend's migrations.  @buckets[i] counts
 * delays d (ns) with 2^i <= d < 2^(i+1), bucket 0 also d < 1; with fewer
 * than 64 buckets the last one counts everything from 2^(n-1) ns up.
 * Counts since creation, each monotonic; exact when no call is in flight.
 *
 * Context: any thread; lock-free.
 * Return: 0; -ENOTSUP without READYQ_FLAG_HISTOGRAMS; -EINVAL for NULL
 * arguments, @n == 0 or @n > 64.
 */
READYQ_EXPORT int readyq_delay_histogram(const struct readyq *q,
					 uint64_t *buckets, size_t n)
{
	return rq_histogram(q, RQ_HIST_DELAY, buckets, n);
}

/**
 * readyq_turn_histogram() - how long turns took
 * @q: the queue, created with READYQ_FLAG_HISTOGRAMS
 * @buckets: where to store the counts
 * @n: room in @buckets, 1 to READYQ_HISTOGRAM_BUCKETS (64)
 *
 * Turn time: from the drain that returned an index to the
 * readyq_complete() (or readyq_complete_batch() element) that ended its
 * turn.  Buckets, folding and guarantees as readyq_delay_histogram().
 * A turn forgotten by a register of a newer generation is not counted.
 *
 * Context: any thread; lock-free.
 * Return: 0; -ENOTSUP without READYQ_FLAG_HISTOGRAMS; -EINVAL for NULL
 * arguments, @n == 0 or @n > 64.
 */
READYQ_EXPORT int readyq_turn_histogram(const struct readyq *q,
					uint64_t *buckets, size_t n)
{
	return rq_histogram(q, RQ_HIST_TURN, buckets, n);
}

/* Every counter and gauge; the caller zeroed @st. */
static void rq_fill_stats(const struct readyq *q, struct readyq_stats *st)
{
	const struct rq_waitq *wq = &q->wq;

	st->active = q->backend;
	q->ops->stats(q->be, st);
	rq_waitq_counts(wq, &st->waits, &st->wakeups);
	st->timeouts = atomic_load_explicit(&wq->timeouts,
					    memory_order_relaxed);
	st->sleeps = atomic_load_explicit(&wq->sleeps, memory_order_relaxed);
	st->wake_calls = atomic_load_explicit(&wq->wake_calls,
					      memory_order_relaxed);
	st->empty_wakes = atomic_load_explicit(&wq->empty_wakes,
					       memory_order_relaxed);
}

/**
 * readyq_stats() - counters and current state
 * @q: the queue
 * @st: where to store them
 *
 * This is readyq_stats@@READYQ_0.2, which fills the whole structure,
 * @sleeps, @wake_calls and @empty_wakes included.  Programs built
 * against 0.1 call readyq_stats@READYQ_0.1, which fills only the fields
 * their smaller structure has.
 *
 * Context: any thread.
 * Return: 0; -EINVAL for NULL arguments.
 */
#if defined(PIC) && defined(RQ_SYMVER)
/* The shared library: readyq_stats@@READYQ_0.2 beside @READYQ_0.1 below. */
#define RQ_STATS_0_2 rq_stats_0_2
int rq_stats_0_2(const struct readyq *q, struct readyq_stats *st);
__asm__(".symver rq_stats_0_2, readyq_stats@@READYQ_0.2");
#else
#define RQ_STATS_0_2 readyq_stats
#endif
READYQ_EXPORT int RQ_STATS_0_2(const struct readyq *q, struct readyq_stats *st)
{
	if (!q || !st)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	rq_fill_stats(q, st);
	return 0;
}

#if defined(PIC) && defined(RQ_SYMVER)
/* struct readyq_stats as 0.1 knew it: everything up to @active. */
#define RQ_STATS_0_1_SIZE offsetof(struct readyq_stats, sleeps)

int rq_stats_0_1(const struct readyq *q, void *st);

/* readyq_stats@READYQ_0.1: the 0.1 structure, which ends at @active. */
__asm__(".symver rq_stats_0_1, readyq_stats@READYQ_0.1");
READYQ_EXPORT int rq_stats_0_1(const struct readyq *q, void *st)
{
	struct readyq_stats all;

	if (!q || !st)
		return -EINVAL;
	memset(&all, 0, sizeof(all));
	rq_fill_stats(q, &all);
	memcpy(st, &all, RQ_STATS_0_1_SIZE);
	return 0;
}
#endif
