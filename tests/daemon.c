// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daemon.c - what a daemon does to the library: fork, cancel, limit
 *
 *  - fork(): a child of a process with busy queues of every backend
 *    creates, uses and destroys new queues (with histograms, whose
 *    counts must be exact), destroys the inherited ones
 *    and exits normally (destructors join liburcu's worker), within a
 *    time limit (alarm(2): a hang fails instead of blocking make check);
 *  - cancellation: threads cancelled at random moments while they call
 *    every function (adaptive queues switching on every window too)
 *    leave the queue working, with exact accounting and an empty wait
 *    queue; readyq_wait() is a cancellation point, the other calls are
 *    not;
 *  - limits: create and destroy under RLIMIT_AS (in forked children)
 *    return 0 or -ENOMEM, never abort; any capacity_hint up to 2^32 makes
 *    and frees an empty queue quickly; above it, -EINVAL;
 *  - readyq_shutdown() works from a signal handler;
 *  - a configuration whose thresholds are impossible once the defaults
 *    are applied is refused;
 *  - every counter is monotonic as read by a concurrent thread.
 */
#include <config.h> /* _GNU_SOURCE: pthread_getattr_np() */
#include "testutil.h"
#include "checkutil.h"
#include "backend.h" /* q->wq: the wait queue's counters */
#include "proc.h" /* rq_asan_unpoison_stack() */

#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RQ_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RQ_SANITIZED 1
#endif
#endif

#ifdef RQ_SANITIZED
#define RQ_SANITIZED_ON 1
#else
#define RQ_SANITIZED_ON 0
#endif

#define MS 1000000ull
#define NR_SLOTS 256u
#define NR_KEYS 4u
#define RETRY_NS (100 * 1000ull)
#define BATCH 8
#define CHILD_SECONDS 30 /* a child that takes longer hangs: SIGALRM */

/*
 * Threads that may be cancelled unpoison their stack in a cleanup
 * handler, as the library's do (rq_asan_unpoison_stack(), lib/proc.h).
 */
static void unpoison_stack(void *unused)
{
	(void)unused;
	rq_asan_unpoison_stack();
}

/*
 * GCC 12's AddressSanitizer does not lock its allocator across fork(2):
 * a child forked while another thread was in malloc(3) hangs in its
 * first malloc.  Under it the hammers hold fork_gate (read) around their
 * calls and the forking thread takes it (write), so they are between
 * calls, not absent, at each fork.  Elsewhere they run through it.
 */
#ifdef __SANITIZE_ADDRESS__
#define FORK_QUIESCE 1
#else
#define FORK_QUIESCE 0
#endif
static pthread_rwlock_t fork_gate =
	PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;

/*
 * LeakSanitizer, at a child's exit(3), would look for threads that only
 * the parent has (and their memory as leaked): it asks this hook.
 */
static volatile int in_child;
int __lsan_is_turned_off(void);
int __lsan_is_turned_off(void)
{
	return in_child;
}

/* The queues under test: every backend, and adaptive switching a lot. */
enum { NR_KINDS = RQ_NR_TEST_BACKENDS + 1 };

static struct readyq *mk_kind(int kind)
{
	struct readyq_config cfg;
	struct readyq *q;

	readyq_config_init(&cfg);
	if (kind < RQ_NR_TEST_BACKENDS) {
		cfg.backend = rq_test_backends[kind];
	} else {
		cfg.backend = READYQ_BACKEND_ADAPTIVE;
		cfg.adaptive_window = 64;
		cfg.flags = READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH;
	}
	ck_assert_int_eq(readyq_create(&cfg, &q), 0);
	return q;
}

/* ---- a thread that calls everything ---- */

/*
 * Counts are stored right after each call returns: no cancellation
 * point lies in between, so they are exact when the thread is cancelled.
 */
struct hammer {
	struct readyq *q;
	pthread_t t;
	unsigned int seed;
	bool idle; /* sleeps in readyq_wait(q, -1) between batches */
	_Atomic bool stop;
	uint64_t reg1, unreg1, drained, completed;
};

static struct readyq_result pick_result(unsigned int *seed)
{
	switch (rand_r(seed) % 8) {
	case 0:
		return readyq_result_yielded();
	case 1:
		return readyq_result_completed(true);
	case 2:
		return readyq_result_suspended(READYQ_SUSPEND_USER,
					       READYQ_RESUME_SIGNAL,
					       rand_r(seed) % NR_KEYS);
	case 3:
		return readyq_result_failed(EIO, RETRY_NS);
	default:
		return readyq_result_completed(false);
	}
}

/* Drain a batch and complete all of it: nothing is held afterwards. */
static void hammer_turns(struct hammer *h)
{
	struct readyq_index out[BATCH];
	struct readyq_result res;
	ssize_t n, i;

	n = readyq_drain(h->q, out, BATCH);
	if (n <= 0)
		return;
	h->drained += (uint64_t)n;
	for (i = 0; i < n; i++) {
		res = pick_result(&h->seed);
		if (readyq_complete(h->q, out[i], &res) == 0)
			h->completed++;
	}
}

static void hammer_other(struct hammer *h)
{
	struct readyq_stats st;
	uint64_t d;
	uint32_t s = rand_r(&h->seed) % NR_SLOTS;

	switch (rand_r(&h->seed) % 8) {
	case 0:
		if (readyq_unregister(h->q, ix(s, 0)) == 1)
			h->unreg1++;
		break;
	case 1:
		readyq_resume(h->q, ix(s, 0));
		break;
	case 2:
		readyq_resume_signal(h->q, rand_r(&h->seed) % NR_KEYS);
		break;
	case 3:
		readyq_poll_signal(h->q);
		readyq_next_deadline(h->q, &d);
		break;
	case 4:
		readyq_stats(h->q, &st);
		break;
	default:
		readyq_wait(h->q, rand_r(&h->seed) % 2 ? 0 : 50 * 1000);
		break;
	}
}

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;

	pthread_cleanup_push(unpoison_stack, NULL);
	while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
		if (h->idle && readyq_wait(h->q, -1) != 0)
			break;
		if (FORK_QUIESCE)
			pthread_rwlock_rdlock(&fork_gate);
		if (readyq_register(h->q, ix(rand_r(&h->seed) % NR_SLOTS,
					      0)) == 1)
			h->reg1++;
		hammer_turns(h);
		if (!h->idle)
			hammer_other(h);
		if (FORK_QUIESCE)
			pthread_rwlock_unlock(&fork_gate);
		pthread_testcancel();
	}
	pthread_cleanup_pop(0);
	return NULL;
}

static void hammers_start(struct hammer *h, int n, struct readyq *q,
			  unsigned int seed)
{
	int i;

	for (i = 0; i < n; i++) {
		memset(&h[i], 0, sizeof(h[i]));
		h[i].q = q;
		h[i].seed = seed + (unsigned int)i;
		h[i].idle = i == 0;
		atomic_init(&h[i].stop, false);
		ck_assert_int_eq(pthread_create(&h[i].t, NULL, hammer_main,
						&h[i]), 0);
	}
}

/*
 * Cancel (@cancel) or stop every hammer, join, and add their counts to
 * *@sum.  Stopping cancels the idle one too: it may sleep with nothing
 * queued.
 */
static void hammers_end(struct hammer *h, int n, bool cancel,
			struct hammer *sum)
{
	void *ret;
	int i;

	for (i = 0; i < n; i++) {
		if (cancel || h[i].idle)
			ck_assert_int_eq(pthread_cancel(h[i].t), 0);
		else
			atomic_store(&h[i].stop, true);
	}
	for (i = 0; i < n; i++) {
		ck_assert_int_eq(pthread_join(h[i].t, &ret), 0);
		if (cancel || h[i].idle)
			ck_assert_ptr_eq(ret, PTHREAD_CANCELED);
		sum->reg1 += h[i].reg1;
		sum->unreg1 += h[i].unreg1;
		sum->drained += h[i].drained;
		sum->completed += h[i].completed;
	}
}

/*
 * With no thread inside a call: the counters match *@sum, the calls made
 * so far, nothing runs, nobody sleeps, and after resuming everything one
 * drain takes exactly what was queued or delayed, each slot once.
 * Leaves the queue empty, checks that it works, and adds its own calls
 * to *@sum.
 */
static void check_quiet(struct readyq *q, struct hammer *sum)
{
	struct readyq_index out[2 * NR_SLOTS];
	bool seen[NR_SLOTS + 1] = { false };
	struct readyq_result idle = readyq_result_completed(false);
	struct readyq_stats st = rq_stats_of(q);
	ssize_t n, i;
	uint32_t k;

	ck_assert_uint_eq(st.registered, sum->reg1);
	ck_assert_uint_eq(st.unregistered, sum->unreg1);
	ck_assert_uint_eq(st.drained, sum->drained);
	ck_assert_uint_eq(st.completed, sum->completed);
	ck_assert_uint_eq(st.running, 0);
	ck_assert_uint_eq(atomic_load(&q->wq.sleepers) & ~RQ_SLEEPERS_FD, 0);
	ck_assert_uint_eq(atomic_load(&q->wq.timer_owner), 0);
	for (k = 0; k < NR_KEYS; k++)
		readyq_resume_signal(q, k);
	test_sleep_ns(2 * RETRY_NS);
	st = rq_stats_of(q);
	ck_assert_uint_eq(st.suspended, 0);
	n = readyq_drain(q, out, 2 * NR_SLOTS);
	ck_assert_int_eq(n, (ssize_t)(st.queued + st.delayed));
	for (i = 0; i < n; i++) {
		ck_assert_uint_le(out[i].slot, NR_SLOTS);
		ck_assert(!seen[out[i].slot]);
		seen[out[i].slot] = true;
		ck_assert_int_eq(readyq_complete(q, out[i], &idle), 0);
	}
	st = rq_stats_of(q);
	ck_assert_uint_eq(st.queued + st.running + st.suspended + st.delayed,
			  0);
	/* Still works: a register wakes a waiter and is drained. */
	ck_assert_int_eq(readyq_register(q, ix(3, 0)), 1);
	ck_assert_int_eq(readyq_wait(q, 1000 * MS), 0);
	ck_assert_int_eq(readyq_drain(q, out, 4), 1);
	ck_assert_uint_eq(out[0].slot, 3);
	ck_assert_int_eq(readyq_complete(q, out[0], &idle), 0);
	sum->reg1 += 1;
	sum->drained += (uint64_t)n + 1;
	sum->completed += (uint64_t)n + 1;
}

/* ---- cancellation ---- */

#define NR_HAMMERS 3
#define CANCEL_ROUNDS 8

START_TEST(cancel_in_every_call)
{
	struct readyq *q = mk_kind(_i);
	struct hammer h[NR_HAMMERS], total;
	unsigned int seed = 12345u + (unsigned int)_i;
	int round;

#ifdef __SANITIZE_THREAD__
	fprintf(stderr, "cancel_in_every_call: SKIP: a cancellation that "
			"acts in readyq_wait()'s asynchronous window can unwind "
			"through ThreadSanitizer's runtime, whose thread "
			"registry then deadlocks\n");
	readyq_destroy(q);
	return;
#endif
	memset(&total, 0, sizeof(total));
	for (round = 0; round < CANCEL_ROUNDS; round++) {
		hammers_start(h, NR_HAMMERS, q, seed + 16u * round);
		test_sleep_ns((1 + rand_r(&seed) % 10) * MS);
		hammers_end(h, NR_HAMMERS, true, &total);
		check_quiet(q, &total);
	}
	if (_i == RQ_NR_TEST_BACKENDS)
		ck_assert_uint_gt(rq_stats_of(q).switches, CANCEL_ROUNDS);
	readyq_destroy(q);
}
END_TEST

static void *wait_forever(void *arg)
{
	pthread_cleanup_push(unpoison_stack, NULL);
	readyq_wait(arg, -1);
	pthread_cleanup_pop(0);
	return arg;
}

/*
 * Other calls are not cancellation points: with a cancel pending they
 * complete (readyq_destroy() closes an eventfd, and close(2) is one),
 * and readyq_wait() acts on it at once, although work is queued.
 */
static void *cancel_pending_body(struct readyq *q)
{
	struct readyq_index out[1];
	struct readyq_result res = readyq_result_completed(false);
	struct readyq *q2;

	pthread_cancel(pthread_self());
	if (readyq_register(q, ix(1, 0)) != 1 || readyq_drain(q, out, 1) != 1 ||
	    readyq_complete(q, out[0], &res) != 0)
		return NULL;
	if (readyq_create(NULL, &q2))
		return NULL;
	if (readyq_fd(q2) < 0)
		return NULL;
	readyq_destroy(q2);
	if (readyq_register(q, ix(9, 0)) != 1)
		return NULL;
	readyq_wait(q, -1);
	return q; /* not cancelled: wrong */
}

static void *calls_with_cancel_pending(void *arg)
{
	void *ret;

	pthread_cleanup_push(unpoison_stack, NULL);
	ret = cancel_pending_body(arg);
	pthread_cleanup_pop(0);
	return ret;
}

START_TEST(wait_is_the_cancellation_point)
{
	struct readyq *q = mk_kind(_i);
	pthread_t t;
	void *ret;

	/* An idle worker asleep with nothing queued can be cancelled. */
	ck_assert_int_eq(pthread_create(&t, NULL, wait_forever, q), 0);
	test_sleep_ns(20 * MS);
	ck_assert_int_eq(pthread_cancel(t), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_ptr_eq(ret, PTHREAD_CANCELED);
	ck_assert_uint_eq(atomic_load(&q->wq.sleepers), 0);
	ck_assert_uint_eq(atomic_load(&q->wq.timer_owner), 0);
	ck_assert_int_eq(readyq_register(q, ix(2, 0)), 1);
	ck_assert_int_eq(readyq_wait(q, 1000 * MS), 0);

	ck_assert_int_eq(pthread_create(&t, NULL, calls_with_cancel_pending,
					q), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_ptr_eq(ret, PTHREAD_CANCELED);
	readyq_destroy(q);
}
END_TEST

/* ---- signals ---- */

static struct readyq *sig_q;
static volatile sig_atomic_t sig_errno_kept;

static void on_sigusr1(int sig)
{
	int saved = errno;

	(void)sig;
	errno = EDOM;
	readyq_shutdown(sig_q);
	sig_errno_kept = errno == EDOM;
	errno = saved;
}

static void *wait_rc(void *arg)
{
	return (void *)(intptr_t)readyq_wait(arg, -1);
}

/* readyq_shutdown() is async-signal-safe: from a handler that runs in
 * the very thread asleep in readyq_wait(). */
START_TEST(shutdown_from_signal_handler)
{
	struct sigaction sa, old;
	pthread_t t;
	void *ret;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, &old), 0);
	sig_q = mk_kind(_i);
	sig_errno_kept = 0;
	ck_assert_int_eq(pthread_create(&t, NULL, wait_rc, sig_q), 0);
	test_sleep_ns(20 * MS);
	ck_assert_int_eq(pthread_kill(t, SIGUSR1), 0);
	ck_assert_int_eq(pthread_join(t, &ret), 0);
	ck_assert_int_eq((int)(intptr_t)ret, -ESHUTDOWN);
	ck_assert(sig_errno_kept);
	ck_assert_int_eq(readyq_register(sig_q, ix(1, 0)), -ESHUTDOWN);
	readyq_destroy(sig_q);
	sigaction(SIGUSR1, &old, NULL);
}
END_TEST

/* ---- fork ---- */

#define NR_FORKS 4
#define FORK_HAMMERS 2
#define CHILD_SLOTS 512u

/* In the child: a new queue of @kind, with histograms, works and goes. */
static int child_new_queue(int kind)
{
	struct readyq_config cfg;
	struct readyq_index out[64];
	struct readyq_result res = readyq_result_completed(false);
	uint64_t delays, turns;
	struct readyq *q;
	ssize_t n, i;
	uint32_t s;

	readyq_config_init(&cfg);
	cfg.capacity_hint = (size_t)1 << 16;
	/* Histograms too: the child's thread slots (lib/thread.h) work. */
	cfg.flags = READYQ_FLAG_HISTOGRAMS;
	if (kind < RQ_NR_TEST_BACKENDS) {
		cfg.backend = rq_test_backends[kind];
	} else {
		cfg.adaptive_window = 64;
		cfg.flags |= READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH;
	}
	if (readyq_create(&cfg, &q))
		return 10;
	for (s = 0; s < CHILD_SLOTS; s++)
		if (readyq_register(q, ix(s, 0)) != 1)
			return 11;
	for (s = 0; s < CHILD_SLOTS; s += (uint32_t)n) {
		n = readyq_drain(q, out, 64);
		if (n <= 0)
			return 12;
		for (i = 0; i < n; i++)
			if (out[i].slot != s + (uint32_t)i ||
			    readyq_complete(q, out[i], &res))
				return 13;
	}
	if (readyq_wait(q, 0) != -ETIMEDOUT)
		return 14;
	if (test_hist_counts(q, &delays, &turns) || delays != CHILD_SLOTS ||
	    turns != CHILD_SLOTS)
		return 15;
	readyq_destroy(q);
	return 0;
}

static void child_main(struct readyq **inherited, int n)
{
	int kind, rc;

	signal(SIGALRM, SIG_DFL); /* not Check's handler: it kills the group */
	alarm(CHILD_SECONDS);
	in_child = 1;
	for (kind = 0; kind < NR_KINDS; kind++) {
		rc = child_new_queue(kind);
		if (rc)
			_exit(rc);
	}
	for (kind = 0; kind < n; kind++)
		readyq_destroy(inherited[kind]);
	/* New queues, maybe where the inherited ones were: no thread of the
	 * parent may be taken as inside them. */
	for (kind = 0; kind < NR_KINDS; kind++) {
		rc = child_new_queue(kind);
		if (rc)
			_exit(20 + rc);
	}
	exit(0); /* destructors run: liburcu joins the child's worker */
}

START_TEST(fork_with_busy_queues)
{
	struct hammer h[NR_KINDS][FORK_HAMMERS], sum[NR_KINDS];
	struct readyq *q[NR_KINDS], *once;
	int kind, f, status;
	pid_t pid;

#ifdef __SANITIZE_THREAD__
	fprintf(stderr, "fork_with_busy_queues: SKIP: ThreadSanitizer cannot "
			"start threads in the child of a multithreaded process "
			"(liburcu starts its resize thread there)\n");
	return;
#endif
	/* The case: a lock-free queue made and gone before fork. */
	once = mk_kind(1);
	readyq_destroy(once);
	for (kind = 0; kind < NR_KINDS; kind++) {
		q[kind] = mk_kind(kind);
		hammers_start(h[kind], FORK_HAMMERS, q[kind], 777u * kind);
	}
	for (f = 0; f < NR_FORKS; f++) {
		test_sleep_ns(5 * MS);
		if (FORK_QUIESCE)
			pthread_rwlock_wrlock(&fork_gate);
		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0)
			child_main(q, NR_KINDS);
		if (FORK_QUIESCE)
			pthread_rwlock_unlock(&fork_gate);
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		if (WIFSIGNALED(status))
			ck_abort_msg("child killed by signal %d (%s)",
				     WTERMSIG(status),
				     WTERMSIG(status) == SIGALRM ? "hung" :
								   "crashed");
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			      "child exit status %d", WEXITSTATUS(status));
	}
	/* The parent's queues went on working through every fork. */
	for (kind = 0; kind < NR_KINDS; kind++) {
		memset(&sum[kind], 0, sizeof(sum[kind]));
		hammers_end(h[kind], FORK_HAMMERS, false, &sum[kind]);
		check_quiet(q[kind], &sum[kind]);
		readyq_destroy(q[kind]);
	}
}
END_TEST

/* ---- limits ---- */

static const size_t hints[] = { 0, (size_t)1 << 16, (size_t)1 << 24,
				(size_t)1 << 28, (size_t)1 << 32 };
#define NR_HINTS ((int)(sizeof(hints) / sizeof(hints[0])))

static size_t vm_size(void)
{
	unsigned long pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu", &pages), 1);
	fclose(f);
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

/*
 * In a child under RLIMIT_AS = @limit: every backend and hint gives 0
 * or -ENOMEM.  Exit status: 0, or 1 + how many creates with hint 0
 * failed when @want_all (the limit is generous: all of them must work).
 */
static void child_under_limit(rlim_t limit, bool want_all)
{
	struct rlimit rl = { .rlim_cur = limit, .rlim_max = limit };
	struct readyq_config cfg;
	struct readyq *q;
	int b, k, rc, failed = 0;

	signal(SIGALRM, SIG_DFL);
	alarm(CHILD_SECONDS);
	if (setrlimit(RLIMIT_AS, &rl))
		_exit(100);
	for (b = 0; b < RQ_NR_TEST_BACKENDS; b++) {
		for (k = 0; k < NR_HINTS; k++) {
			readyq_config_init(&cfg);
			cfg.backend = rq_test_backends[b];
			cfg.capacity_hint = hints[k];
			rc = readyq_create(&cfg, &q);
			if (rc && rc != -ENOMEM)
				_exit(101);
			if (rc) {
				failed += k == 0;
				continue;
			}
			rc = readyq_register(q, ix(5, 0));
			if (rc != 1 && rc != -ENOMEM)
				_exit(102);
			readyq_destroy(q);
		}
	}
	_exit(want_all && failed ? 1 + failed : 0);
}

static void run_under_limit(rlim_t limit, bool want_all)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		child_under_limit(limit, want_all);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(!WIFSIGNALED(status),
		      "RLIMIT_AS %lu: killed by signal %d", (unsigned long)limit,
		      WTERMSIG(status));
	ck_assert_msg(WEXITSTATUS(status) == 0, "RLIMIT_AS %lu: status %d",
		      (unsigned long)limit, WEXITSTATUS(status));
}

START_TEST(create_under_rlimit_as)
{
	static const size_t extra_kib[] = { 64, 256, 1024, 4096, 16384 };
	size_t base;
	unsigned int k;

#ifdef RQ_SANITIZED
	fprintf(stderr, "create_under_rlimit_as: SKIP: sanitizers reserve "
			"terabytes of shadow address space, RLIMIT_AS cannot "
			"apply\n");
	return;
#endif
	/* Before and after this process has a lock-free queue (the anchor
	 * table and liburcu's worker thread are made by the first one). */
	for (k = 0; k < 2; k++) {
		base = vm_size();
		for (unsigned int e = 0; e < sizeof(extra_kib) /
						  sizeof(extra_kib[0]); e++)
			run_under_limit(base + (extra_kib[e] << 10), false);
		run_under_limit(base + ((size_t)1 << 30), true);
		if (k == 0)
			readyq_destroy(mk_kind(1));
	}
}
END_TEST

START_TEST(any_hint_is_fast)
{
	struct readyq_config cfg;
	struct readyq *q = (struct readyq *)&cfg;
	uint64_t t0, dt;
	int k;

	readyq_config_init(&cfg);
	cfg.backend = rq_test_backends[_i];
	for (k = 0; k < NR_HINTS; k++) {
		/*
		 * Sanitizers map shadow memory for the locked backend's
		 * reservation (4 GiB at 2^27 mailboxes): seconds.  The
		 * lock-free backend, whose table used to follow the hint,
		 * is timed at every hint.
		 */
		if (RQ_SANITIZED_ON && hints[k] > ((size_t)1 << 20) &&
		    cfg.backend != READYQ_BACKEND_LOCKFREE)
			break;
		cfg.capacity_hint = hints[k];
		t0 = test_now_ns();
		ck_assert_int_eq(readyq_create(&cfg, &q), 0);
		readyq_destroy(q);
		dt = test_now_ns() - t0;
		/* Was 4.3 s to destroy at 2^28 (lock-free). */
		ck_assert_msg(dt < (RQ_SANITIZED_ON ? 1000 : 250) * MS, "hint %zu: %llu ms", hints[k],
			      (unsigned long long)(dt / MS));
	}
	cfg.capacity_hint = ((size_t)1 << 32) + 1;
	q = (struct readyq *)&cfg;
	ck_assert_int_eq(readyq_create(&cfg, &q), -EINVAL);
	ck_assert_ptr_eq(q, (struct readyq *)&cfg);
}
END_TEST

/* ---- configuration ---- */

static int try_thresholds(uint32_t up, uint32_t down)
{
	struct readyq_config cfg;
	struct readyq *q = NULL;
	int rc;

	readyq_config_init(&cfg);
	cfg.adaptive_up_permille = up;
	cfg.adaptive_down_permille = down;
	rc = readyq_create(&cfg, &q);
	if (rc)
		ck_assert_ptr_null(q);
	else
		readyq_destroy(q);
	return rc;
}

START_TEST(thresholds_checked_after_defaults)
{
	/* up 0 means 150: down must stay below it. */
	ck_assert_int_eq(try_thresholds(0, 500), -EINVAL);
	ck_assert_int_eq(try_thresholds(0, 1000), -EINVAL);
	ck_assert_int_eq(try_thresholds(0, 150), -EINVAL);
	ck_assert_int_eq(try_thresholds(0, 149), 0);
	/* down 0 means 30, or half of a lower up. */
	ck_assert_int_eq(try_thresholds(20, 0), 0);
	ck_assert_int_eq(try_thresholds(1, 0), 0);
	ck_assert_int_eq(try_thresholds(30, 0), 0);
	ck_assert_int_eq(try_thresholds(100, 200), -EINVAL);
	ck_assert_int_eq(try_thresholds(1000, 0), 0);
	ck_assert_int_eq(try_thresholds(0, 0), 0);
}
END_TEST

/* ---- counters ---- */

struct reader {
	struct readyq *q;
	pthread_t t;
	_Atomic bool stop;
	uint64_t reads;
	char bad[96]; /* the first counter seen going backwards */
};

#define COUNTERS(X)                                                            \
	X(registered) X(duplicates) X(notified) X(unregistered) X(drained)     \
	X(completed) X(stale) X(waits) X(wakeups) X(timeouts) X(switches)

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	struct readyq_stats prev, st;

	memset(&prev, 0, sizeof(prev));
	while (!atomic_load(&r->stop) && !r->bad[0]) {
		if (readyq_stats(r->q, &st))
			snprintf(r->bad, sizeof(r->bad), "readyq_stats failed");
#define CHECK_ONE(f)                                                           \
	if (st.f < prev.f && !r->bad[0])                                       \
		snprintf(r->bad, sizeof(r->bad), #f " %llu after %llu",        \
			 (unsigned long long)st.f,                             \
			 (unsigned long long)prev.f);
		COUNTERS(CHECK_ONE)
#undef CHECK_ONE
		prev = st;
		r->reads++;
	}
	return NULL;
}

START_TEST(counters_are_monotonic)
{
	struct readyq *q = mk_kind(_i);
	struct hammer h[NR_HAMMERS], sum;
	struct reader r[2];
	int i;

	hammers_start(h, NR_HAMMERS, q, 99u * _i);
	for (i = 0; i < 2; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].q = q;
		atomic_init(&r[i].stop, false);
		ck_assert_int_eq(pthread_create(&r[i].t, NULL, reader_main,
						&r[i]), 0);
	}
	test_sleep_ns(300 * MS);
	for (i = 0; i < 2; i++) {
		atomic_store(&r[i].stop, true);
		pthread_join(r[i].t, NULL);
	}
	memset(&sum, 0, sizeof(sum));
	hammers_end(h, NR_HAMMERS, false, &sum);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(!r[i].bad[0], "%s", r[i].bad);
		ck_assert_uint_gt(r[i].reads, 10);
	}
	/* Exact once nothing is in flight. */
	check_quiet(q, &sum);
	readyq_destroy(q);
}
END_TEST

static TCase *tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return tc;
}

int main(void)
{
	Suite *s = suite_create("daemon");
	TCase *tc;

	tc = tcase(s, "cancel");
	tcase_add_loop_test(tc, cancel_in_every_call, 0, NR_KINDS);
	tcase_add_loop_test(tc, wait_is_the_cancellation_point, 0, NR_KINDS);
	tcase_add_loop_test(tc, shutdown_from_signal_handler, 0, NR_KINDS);
	tc = tcase(s, "fork");
	tcase_add_test(tc, fork_with_busy_queues);
	tc = tcase(s, "limits");
	tcase_add_test(tc, create_under_rlimit_as);
	tcase_add_loop_test(tc, any_hint_is_fast, 0, RQ_NR_TEST_BACKENDS);
	tcase_add_test(tc, thresholds_checked_after_defaults);
	tc = tcase(s, "counters");
	tcase_add_loop_test(tc, counters_are_monotonic, 0, NR_KINDS);
	return rq_check_main(s);
}
