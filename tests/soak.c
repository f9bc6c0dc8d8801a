// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * soak.c - long randomised concurrent runs with exact accounting
 *
 * Overview
 * --------
 * Usage: soak [--seconds N] [--threads T] [--mailboxes M] [--backend NAME]
 *             [--histograms]
 * (defaults 10 s, 8 threads, 256 mailboxes, every backend of
 * rq_test_backends[] one after the other; make soak runs it for
 * SOAK_SECONDS with SOAK_THREADS).  RQ_TEST_SLOTS numbers the mailboxes
 * as in the other tests (testutil.h).  With --histograms the queue keeps
 * READYQ_FLAG_HISTOGRAMS and, once quiet, every drained index must have
 * been counted once in the delay histogram and its turn once in the turn
 * histogram (every turn of a soak ends in a complete).
 *
 * Of the T threads half are producers and half workers (at least one
 * each), plus one "resumer".  A mailbox is a message counter:
 *  - producers add a message to a random mailbox and register it; now
 *    and then they unregister it and register it again, or resume it;
 *  - workers sleep in readyq_wait(), drain batches of random size, take
 *    up to `throughput` messages from each mailbox and end the turn at
 *    random: COMPLETED (ready or not), YIELDED, FAILED with a retry delay
 *    (50 µs to 1 ms) or, when the mailbox looks empty, without, SUSPENDED
 *    on one of four signal keys, after a delay, or on capacity, and
 *    rarely STOPPED, after which the worker moves the mailbox to its
 *    next generation and registers it;
 *  - the resumer sends the signals and resumes capacity-suspended
 *    mailboxes, until the run is over and everything is taken.
 *
 * Checked all along: every return value is one the spec allows; a
 * mailbox is never in two turns at once (in_turn counter, per mailbox
 * and therefore across its generations); a turn never takes more
 * messages than were sent (nothing twice).  Every half second the
 * producers hold still and every message sent so far must be taken
 * within 10 s with the queue empty (a lost wake-up stalls there, before
 * a later register can hide it); the same at the end, within 60 s.  The figure reported is the number of API calls whose result
 * was checked; the exit status is non-zero on any failure.
 */
#include "testutil.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NR_KEYS 4
#define CHECKPOINT_NS 500000000ull /* quiet points: every 0.5 s */

struct soak {
	struct readyq *q;
	unsigned int mailboxes;
	_Atomic long *pending;
	_Atomic int *in_turn;
	_Atomic uint32_t *gen;
	_Atomic bool *cap_waiting;
	_Atomic bool stop_producers, stop_resumer, hold;
	_Atomic unsigned int held; /* producers waiting while hold is set */
	_Atomic unsigned long long sent, taken, calls, turns, drained,
		double_turns, overtaken, bad_rc, retired;
};

struct arg {
	struct soak *s;
	unsigned int id;
	pthread_t t;
};

static void bad(struct soak *s, const char *what, long rc)
{
	if (atomic_fetch_add(&s->bad_rc, 1) < 10)
		fprintf(stderr, "soak: %s returned %ld\n", what, rc);
}

static void counted(struct soak *s)
{
	atomic_fetch_add_explicit(&s->calls, 1, memory_order_relaxed);
}

/* Register mailbox @m at its current generation; retry when it moved on. */
static void announce(struct soak *s, uint32_t m)
{
	for (;;) {
		uint32_t g = atomic_load(&s->gen[m]);
		int rc = readyq_register(s->q, ix(m, g));

		counted(s);
		if (rc == 0 || rc == 1)
			return;
		if (rc != -ESTALE) {
			bad(s, "register", rc);
			return;
		}
		/* Retired under us: the worker that stopped it re-registers
		 * the next generation, but do it too once gen moved. */
		while (atomic_load(&s->gen[m]) == g)
			sched_yield();
	}
}

static void *producer(void *p)
{
	struct arg *a = p;
	struct soak *s = a->s;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (a->id + 1);
	int rc;

	while (!atomic_load_explicit(&s->stop_producers,
				     memory_order_relaxed)) {
		uint32_t m = (uint32_t)(test_xorshift(&x) % s->mailboxes);
		uint64_t dice = test_xorshift(&x) % 256;

		if (atomic_load_explicit(&s->hold, memory_order_relaxed)) {
			/* A checkpoint: stay quiet until it is over. */
			atomic_fetch_add(&s->held, 1);
			while (atomic_load(&s->hold))
				test_sleep_ns(100000);
			atomic_fetch_sub(&s->held, 1);
			continue;
		}

		atomic_fetch_add(&s->pending[m], 1);
		atomic_fetch_add(&s->sent, 1);
		announce(s, m);
		if (dice == 0) {
			/* Cancel, then announce again: nothing may get lost. */
			rc = readyq_unregister(s->q,
					       ix(m, atomic_load(&s->gen[m])));
			counted(s);
			if (rc < 0 && rc != -ESTALE)
				bad(s, "unregister", rc);
			announce(s, m);
		} else if (dice == 1) {
			rc = readyq_resume(s->q,
					   ix(m, atomic_load(&s->gen[m])));
			counted(s);
			if (rc < 0 && rc != -ESTALE)
				bad(s, "resume", rc);
		}
	}
	return NULL;
}

static struct readyq_result pick(uint64_t *x, long left, bool *capacity,
				  bool *stop)
{
	uint64_t d = test_xorshift(x) % 1024;

	*capacity = *stop = false;
	if (d < 12)
		return readyq_result_failed(-EAGAIN,
					    50000 + test_xorshift(x) % 950000);
	if (d < 24)
		return readyq_result_suspended(READYQ_SUSPEND_AWAIT_EXTERNAL,
					       READYQ_RESUME_SIGNAL,
					       test_xorshift(x) % NR_KEYS);
	if (d < 36)
		return readyq_result_suspended(READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER,
					       test_xorshift(x) % 500000);
	if (d < 44) {
		*capacity = true;
		return readyq_result_suspended(READYQ_SUSPEND_BACKPRESSURE,
					       READYQ_RESUME_CAPACITY, 0);
	}
	if (d < 46) {
		*stop = true;
		return readyq_result_stopped();
	}
	if (left > 0)
		return (d & 1) ? readyq_result_yielded() :
				 readyq_result_completed(true);
	/* No retry means idle: only right when nothing is left. */
	return d < 120 ? readyq_result_failed(-EIO, 0) :
			 readyq_result_completed(false);
}

static void run_turn(struct soak *s, struct readyq_index idx, uint64_t *x)
{
	uint32_t m = rq_unslot(idx.slot), tp = readyq_throughput(s->q);
	bool capacity, stop;
	struct readyq_result res;
	long have, take;
	int rc;

	if (m >= s->mailboxes || idx.generation != atomic_load(&s->gen[m])) {
		bad(s, "drain (foreign or old index)", (long)idx.generation);
		return;
	}
	if (atomic_fetch_add(&s->in_turn[m], 1) != 0)
		atomic_fetch_add(&s->double_turns, 1);
	atomic_fetch_add(&s->turns, 1);
	have = atomic_load(&s->pending[m]);
	take = have < (long)tp ? have : (long)tp;
	if (take > 0 && atomic_fetch_sub(&s->pending[m], take) < take)
		atomic_fetch_add(&s->overtaken, 1);
	atomic_fetch_add(&s->taken, (unsigned long long)take);
	/* Widen the window in which a register meets the running turn. */
	for (have = (long)(test_xorshift(x) % 256); have > 0; have--)
		__asm__ __volatile__("" ::: "memory");
	res = pick(x, atomic_load(&s->pending[m]), &capacity, &stop);
	atomic_fetch_sub(&s->in_turn[m], 1);
	rc = readyq_complete(s->q, idx, &res);
	counted(s);
	if (rc) {
		bad(s, "complete", rc);
		return;
	}
	/* After the complete: a resume before it would find it RUNNING. */
	if (capacity)
		atomic_store(&s->cap_waiting[m], true);
	if (stop) {
		/* Retired: the next incarnation takes over what is left. */
		atomic_fetch_add(&s->retired, 1);
		atomic_store(&s->gen[m], idx.generation + 1);
		announce(s, m);
	}
}

static void *worker(void *p)
{
	struct arg *a = p;
	struct soak *s = a->s;
	struct readyq_index batch[32];
	uint64_t x = 0x1234567ull * (a->id + 3);
	ssize_t n, i;
	int rc;

	for (;;) {
		rc = readyq_wait(s->q, 5000000);
		counted(s);
		if (rc == -ESHUTDOWN)
			break;
		if (rc && rc != -ETIMEDOUT)
			bad(s, "wait", rc);
		n = readyq_drain(s->q, batch, 1 + test_xorshift(&x) % 32);
		counted(s);
		if (n < 0) {
			bad(s, "drain", n);
			continue;
		}
		atomic_fetch_add(&s->drained, (unsigned long long)n);
		for (i = 0; i < n; i++)
			run_turn(s, batch[i], &x);
	}
	return NULL;
}

/* Signals and capacity: nothing stays suspended for long. */
static void *resumer(void *p)
{
	struct soak *s = p;
	uint32_t m;
	int rc, k;

	while (!atomic_load(&s->stop_resumer)) {
		for (k = 0; k < NR_KEYS; k++) {
			rc = readyq_resume_signal(s->q, (uint64_t)k);
			counted(s);
			if (rc < 0)
				bad(s, "resume_signal", rc);
		}
		for (m = 0; m < s->mailboxes; m++) {
			if (!atomic_exchange(&s->cap_waiting[m], false))
				continue;
			rc = readyq_resume(s->q,
					   ix(m, atomic_load(&s->gen[m])));
			counted(s);
			if (rc < 0 && rc != -ESTALE)
				bad(s, "resume", rc);
		}
		test_sleep_ns(200000);
	}
	return NULL;
}

/* Wait until every message sent is taken and the queue is empty. */
static bool drained_all(struct soak *s, unsigned int seconds)
{
	uint64_t end = test_now_ns() + (uint64_t)seconds * 1000000000ull;
	struct readyq_stats st;

	while (test_now_ns() < end) {
		readyq_stats(s->q, &st);
		if (atomic_load(&s->taken) == atomic_load(&s->sent) &&
		    !st.queued && !st.running && !st.suspended && !st.delayed)
			return true;
		test_sleep_ns(1000000);
	}
	return false;
}

static int soak_one(enum readyq_backend b, unsigned int seconds,
		    unsigned int threads, unsigned int mailboxes, bool hist)
{
	unsigned int i, producers = threads / 2 ? threads / 2 : 1;
	unsigned int workers = threads > producers ? threads - producers : 1;
	struct readyq_config cfg;
	struct readyq_stats st;
	struct arg *args;
	pthread_t rt;
	uint64_t t0, end;
	struct soak s;
	unsigned long checkpoints = 0, stalls = 0;
	long left = 0;
	bool quiet;
	int failed;

	memset(&s, 0, sizeof(s));
	s.mailboxes = mailboxes;
	s.pending = calloc(mailboxes, sizeof(*s.pending));
	s.in_turn = calloc(mailboxes, sizeof(*s.in_turn));
	s.gen = calloc(mailboxes, sizeof(*s.gen));
	s.cap_waiting = calloc(mailboxes, sizeof(*s.cap_waiting));
	args = calloc(producers + workers, sizeof(*args));
	if (!s.pending || !s.in_turn || !s.gen || !s.cap_waiting || !args)
		abort();
	readyq_config_init(&cfg);
	cfg.backend = b;
	cfg.throughput = 8;
	cfg.concurrency_hint = threads;
	if (hist)
		cfg.flags |= READYQ_FLAG_HISTOGRAMS;
	if (readyq_create(&cfg, &s.q)) {
		fprintf(stderr, "soak: cannot create a %s queue\n",
			readyq_backend_name(b));
		return 1;
	}
	t0 = test_now_ns();
	for (i = 0; i < producers + workers; i++) {
		args[i].s = &s;
		args[i].id = i;
		pthread_create(&args[i].t, NULL,
			       i < workers ? worker : producer, &args[i]);
	}
	pthread_create(&rt, NULL, resumer, &s);
	end = t0 + (uint64_t)seconds * 1000000000ull;
	while (test_now_ns() + CHECKPOINT_NS < end) {
		/* A checkpoint: producers hold, everything must come out. */
		test_sleep_ns(CHECKPOINT_NS);
		atomic_store(&s.hold, true);
		while (atomic_load(&s.held) < producers)
			test_sleep_ns(100000);
		if (!drained_all(&s, 10)) {
			stalls++;
			break;
		}
		checkpoints++;
		atomic_store(&s.hold, false);
	}
	if (!stalls && test_now_ns() < end)
		test_sleep_ns(end - test_now_ns());
	atomic_store(&s.stop_producers, true);
	atomic_store(&s.hold, false);
	for (i = workers; i < producers + workers; i++)
		pthread_join(args[i].t, NULL);
	/* Everything sent must come out. */
	quiet = !stalls && drained_all(&s, 60);
	atomic_store(&s.stop_resumer, true);
	pthread_join(rt, NULL);
	readyq_shutdown(s.q);
	for (i = 0; i < workers; i++)
		pthread_join(args[i].t, NULL);
	readyq_stats(s.q, &st);
	for (i = 0; i < mailboxes; i++)
		left += atomic_load(&s.pending[i]);

	failed = !quiet || stalls || left || s.double_turns || s.overtaken ||
		 s.bad_rc || s.sent != s.taken ||
		 (hist && !test_hist_exact(s.q, &st, "soak: "));
	printf("soak: %-8s %u producers %u workers %u mailboxes %.1f s: "
	       "%llu operations checked (%llu drained, %llu turns, %llu "
	       "retired, %lu quiet points, %lu stalls); messages sent %llu "
	       "taken %llu left %ld; double "
	       "turns %llu, overtaken %llu, bad returns %llu; end state q %zu "
	       "run %zu susp %zu del %zu: %s\n",
	       readyq_backend_name(b), producers, workers, mailboxes,
	       (test_now_ns() - t0) / 1e9, s.calls, s.drained, s.turns,
	       s.retired, checkpoints, stalls, s.sent, s.taken, left, s.double_turns, s.overtaken,
	       s.bad_rc, st.queued, st.running, st.suspended, st.delayed,
	       failed ? "FAIL" : "ok, nothing lost, nothing twice");
	readyq_destroy(s.q);
	free(s.pending);
	free((void *)s.in_turn);
	free((void *)s.gen);
	free((void *)s.cap_waiting);
	free(args);
	return failed;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "threads", required_argument, NULL, 't' },
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "backend", required_argument, NULL, 'b' },
		{ "histograms", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	bool hist = false;
	unsigned int seconds = 10, threads = 8, mailboxes = 256;
	const char *backend = NULL;
	int c, k, failed = 0, ran = 0;

	while ((c = getopt_long(argc, argv, "s:t:m:b:H", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			seconds = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 't':
			threads = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'm':
			mailboxes = (unsigned int)strtoul(optarg, NULL, 0);
			break;
		case 'b':
			backend = optarg;
			break;
		case 'H':
			hist = true;
			break;
		default:
			fprintf(stderr, "usage: %s [--seconds N] [--threads T] "
				"[--mailboxes M] [--backend NAME] "
				"[--histograms]\n", argv[0]);
			return 2;
		}
	}
	if (threads < 2)
		threads = 2;
	if (!mailboxes)
		mailboxes = 1;
	for (k = 0; k < RQ_NR_TEST_BACKENDS; k++) {
		enum readyq_backend b = rq_test_backends[k];

		if (backend && strcmp(backend, readyq_backend_name(b)))
			continue;
		failed += soak_one(b, seconds, threads, mailboxes, hist);
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "soak: no backend %s\n", backend);
		return 2;
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
