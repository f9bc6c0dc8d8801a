// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stress.c - many threads, exact accounting, every backend
 *
 * Producers add messages to shared mailboxes (a counter each) and register
 * the mailbox.  Workers sleep in readyq_wait(), drain batches, take up to
 * `throughput` messages from each mailbox and complete it: YIELDED when
 * messages are left, otherwise COMPLETED(false) (the case in which a
 * register during the turn must not be lost), and now and then a short
 * FAILED retry, a SUSPENDED turn resumed by a signal thread, or an
 * unregister followed by a register.  At the end:
 *  - every message sent was taken exactly once (nothing lost);
 *  - no mailbox was ever in two turns at once (in_turn counter);
 *  - the queue is empty: nothing queued, running, suspended or delayed.
 *
 *
 * Wake-up runs (park): workers wait without a timeout, so nothing rescues
 * a lost wake-up; producers send bursts of 1-6 and wait until each is
 * taken, so workers park, search and are woken all the time.  Besides
 * them, "timing-out" workers wait with random timeouts of 0-100 us for
 * the first 40% of the messages, then leave: a lost wake-up after that
 * stalls a burst for 5 s and fails the run.
 *
 * Histogram runs (hist_threads()): thread slots (lib/thread.h) make the
 * histogram counters thread-owned, so a slot handed from an exited thread
 * to a new one, and threads beyond the owned shards, are exercised:
 * generations of short-lived threads, then more threads at once than
 * there are owned shards, all on one queue; every drained index must be
 * counted exactly once in each histogram.
 *
 * Usage: stress [SECONDS_SCALE]  (default 1: a few seconds in all)
 * RQ_STRESS_PERCENT=P in the environment runs P% of that volume (the
 * sanitizer builds of make check use 50).
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIGNAL_KEY 0x5157

struct run {
	struct readyq *q;
	unsigned int producers, workers, mailboxes;
	unsigned long per_producer;
	bool chaos; /* use FAILED, SUSPENDED and unregister too */
	unsigned int burst; /* producers wait for quiet every burst, 0 = never */
	bool park; /* workers wait forever; bursts of 1-6 (see the top) */
	unsigned int timing_out; /* park: workers 0..n-1 time out, then leave */
	_Atomic long stalls; /* bursts that never got fully taken */
	_Atomic long *pending;
	_Atomic int *in_turn;
	_Atomic long sent, taken, double_turns, turns;
	_Atomic bool stop;
	_Atomic unsigned int suspended_now;
};

struct arg {
	struct run *r;
	unsigned int id;
};

static _Atomic unsigned long spin_sink; /* a portable busy wait */

/*
 * Wait until every message sent so far is taken.  A lost wake-up leaves a
 * message behind that no later register rescues: the wait stalls.
 */
static void wait_quiet(struct run *r)
{
	uint64_t deadline = test_now_ns() + 5000000000ull;

	while (atomic_load(&r->taken) < atomic_load(&r->sent)) {
		if (test_now_ns() > deadline) {
			atomic_fetch_add(&r->stalls, 1);
			return;
		}
		sched_yield();
	}
}

static void *producer(void *p)
{
	struct arg *a = p;
	struct run *r = a->r;
	uint64_t seed = 0x9e3779b97f4a7c15ull ^ (a->id + 1);
	unsigned long i;
	int rc;

	for (i = 0; i < r->per_producer; i++) {
		uint32_t m = (uint32_t)(test_xorshift(&seed) % r->mailboxes);

		atomic_fetch_add(&r->pending[m], 1);
		atomic_fetch_add(&r->sent, 1);
		rc = readyq_register(r->q, ix(m, 1));
		if (rc < 0 || rc > 1) {
			fprintf(stderr, "register: %d\n", rc);
			abort();
		}
		if (r->burst && i % r->burst == r->burst - 1)
			wait_quiet(r);
		if (r->park && test_xorshift(&seed) % 4 == 0)
			wait_quiet(r); /* bursts of 1-6, 4 on average */
		if (r->chaos && (i & 1023) == 7) {
			/* Cancel and re-announce: nothing may get lost. */
			rc = readyq_unregister(r->q, ix(m, 1));
			if (rc < 0)
				abort();
			if (readyq_register(r->q, ix(m, 1)) < 0)
				abort();
		}
	}
	return NULL;
}

static struct readyq_result pick_result(struct run *r, uint64_t *seed,
					long left)
{
	uint64_t x = test_xorshift(seed) % 64;

	if (r->chaos && x == 0)
		return readyq_result_failed(-EAGAIN, 200000); /* 0.2 ms */
	if (r->chaos && x == 1)
		return readyq_result_suspended(READYQ_SUSPEND_AWAIT_EXTERNAL,
					       READYQ_RESUME_SIGNAL,
					       SIGNAL_KEY);
	if (r->chaos && x == 2)
		return readyq_result_suspended(READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER, 100000);
	if (left > 0)
		return (x & 1) ? readyq_result_yielded() :
				 readyq_result_completed(true);
	return readyq_result_completed(false);
}

static void run_turn(struct run *r, struct readyq_index idx, uint64_t *seed)
{
	uint32_t m = rq_unslot(idx.slot);
	struct readyq_result res;
	long have, take;
	int rc;

	if (idx.generation != 1 || m >= r->mailboxes)
		abort();
	if (atomic_fetch_add(&r->in_turn[m], 1) != 0)
		atomic_fetch_add(&r->double_turns, 1);
	atomic_fetch_add(&r->turns, 1);
	have = atomic_load(&r->pending[m]);
	take = have < (long)readyq_throughput(r->q) ?
		       have :
		       (long)readyq_throughput(r->q);
	atomic_fetch_sub(&r->pending[m], take);
	/* Widen the window in which a register meets the running turn. */
	for (have = (long)(test_xorshift(seed) % 256); have > 0; have--)
		atomic_fetch_add_explicit(&spin_sink, 1,
					  memory_order_relaxed);
	have = atomic_load(&r->pending[m]);
	atomic_fetch_add(&r->taken, take);
	res = pick_result(r, seed, have);
	atomic_fetch_sub(&r->in_turn[m], 1);
	if (res.outcome == READYQ_SUSPENDED &&
	    res.resume_on == READYQ_RESUME_SIGNAL)
		atomic_fetch_add(&r->suspended_now, 1);
	rc = readyq_complete(r->q, idx, &res);
	if (rc) {
		fprintf(stderr, "complete: %d\n", rc);
		abort();
	}
}

/* This worker's next timeout (see the top); false: it is time to leave. */
static bool worker_timeout(struct run *r, struct arg *a, uint64_t *seed,
			   int64_t *timeout)
{
	long total = (long)(r->per_producer * r->producers);

	*timeout = 5000000; /* 5 ms */
	if (!r->park)
		return true;
	*timeout = -1;
	if (a->id >= r->timing_out)
		return true;
	*timeout = (int64_t)(test_xorshift(seed) % 100000);
	return atomic_load(&r->sent) < total * 4 / 10;
}

static void *worker(void *p)
{
	struct arg *a = p;
	struct run *r = a->r;
	struct readyq_index batch[16];
	uint64_t seed = 0x1234567ull * (a->id + 3);
	int64_t timeout;
	ssize_t n, i;
	int rc;

	while (worker_timeout(r, a, &seed, &timeout)) {
		rc = readyq_wait(r->q, timeout);
		if (rc == -ESHUTDOWN)
			break;
		if (rc && rc != -ETIMEDOUT)
			abort();
		n = readyq_drain(r->q, batch, 1 + a->id % 16);
		if (n < 0)
			abort();
		for (i = 0; i < n; i++)
			run_turn(r, batch[i], &seed);
	}
	/* After shutdown, finish what is left. */
	while ((n = readyq_drain(r->q, batch, 16)) > 0)
		for (i = 0; i < n; i++)
			run_turn(r, batch[i], &seed);
	return NULL;
}

/* Resumes signal-suspended mailboxes now and then. */
static void *signaller(void *p)
{
	struct run *r = p;

	while (!atomic_load(&r->stop)) {
		int n = readyq_resume_signal(r->q, SIGNAL_KEY);

		if (n < 0)
			abort();
		atomic_fetch_sub(&r->suspended_now, (unsigned int)n);
		test_sleep_ns(100000);
	}
	return NULL;
}

static uint64_t total_switches;

#define SWITCHING READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH
#define HIST READYQ_FLAG_HISTOGRAMS

/*
 * One run; @park: a wake-up run (see the top), in which @timing_out of
 * the @workers time out.
 */
static int run_mode(enum readyq_backend b, unsigned int producers,
		    unsigned int workers, unsigned int mailboxes,
		    unsigned long per, bool chaos, unsigned int burst,
		    uint32_t flags, bool park, unsigned int timing_out)
{
	struct readyq_config cfg;
	struct readyq_stats st;
	struct arg *args;
	pthread_t *t, sig;
	struct run r;
	unsigned int i, nt = producers + workers;
	uint64_t t0, deadline;
	int bad = 0;
	long left = 0;

	memset(&r, 0, sizeof(r));
	r.producers = producers;
	r.workers = workers;
	r.mailboxes = mailboxes;
	r.per_producer = per;
	r.chaos = chaos;
	r.burst = burst;
	r.park = park;
	r.timing_out = timing_out;
	r.pending = calloc(mailboxes, sizeof(*r.pending));
	r.in_turn = calloc(mailboxes, sizeof(*r.in_turn));
	t = calloc(nt, sizeof(*t));
	args = calloc(nt, sizeof(*args));
	if (!r.pending || !r.in_turn || !t || !args)
		abort();
	readyq_config_init(&cfg);
	cfg.backend = b;
	cfg.throughput = 8;
	cfg.flags = flags;
	if (flags & SWITCHING)
		cfg.adaptive_window = 256;
	if (readyq_create(&cfg, &r.q))
		abort();
	t0 = test_now_ns();
	for (i = 0; i < nt; i++) {
		args[i].r = &r;
		args[i].id = i;
		pthread_create(&t[i], NULL, i < workers ? worker : producer,
			       &args[i]);
	}
	pthread_create(&sig, NULL, signaller, &r);
	for (i = workers; i < nt; i++)
		pthread_join(t[i], NULL);
	/* Wait until every message is taken and the queue is quiet. */
	deadline = test_now_ns() + 60ull * 1000000000ull;
	while (test_now_ns() < deadline) {
		readyq_stats(r.q, &st);
		if (atomic_load(&r.taken) == atomic_load(&r.sent) &&
		    !st.queued && !st.running && !st.suspended && !st.delayed)
			break;
		test_sleep_ns(1000000);
	}
	atomic_store(&r.stop, true);
	pthread_join(sig, NULL);
	readyq_shutdown(r.q);
	for (i = 0; i < workers; i++)
		pthread_join(t[i], NULL);

	readyq_stats(r.q, &st);
	for (i = 0; i < mailboxes; i++)
		left += atomic_load(&r.pending[i]);
	printf("%-8s P=%u W=%u M=%-5u %s%s: sent %ld taken %ld turns %ld "
	       "double %ld stalls %ld left %ld | q %zu run %zu susp %zu "
	       "del %zu switches %llu | sleeps %llu wake calls %llu "
	       "empty wakes %llu (%.2fs)%s\n",
	       readyq_backend_name(b), producers, workers, mailboxes,
	       r.park ? "park" : chaos ? "chaos" : "plain",
	       flags & SWITCHING ? "+switching" : "",
	       atomic_load(&r.sent),
	       atomic_load(&r.taken), atomic_load(&r.turns),
	       atomic_load(&r.double_turns), atomic_load(&r.stalls), left,
	       st.queued, st.running, st.suspended, st.delayed,
	       (unsigned long long)st.switches,
	       (unsigned long long)st.sleeps,
	       (unsigned long long)st.wake_calls,
	       (unsigned long long)st.empty_wakes,
	       (test_now_ns() - t0) / 1e9, flags & HIST ? " +histograms" : "");
	if (atomic_load(&r.taken) != atomic_load(&r.sent) || left ||
	    atomic_load(&r.double_turns) || atomic_load(&r.stalls) ||
	    ((flags & SWITCHING) && st.switches < 25) || st.running ||
	    st.suspended || st.delayed || st.queued ||
	    ((flags & HIST) && !test_hist_exact(r.q, &st, "  "))) {
		printf("FAIL\n");
		bad = 1;
	}
	if (flags & SWITCHING)
		total_switches += st.switches;
	readyq_destroy(r.q);
	free(r.pending);
	free((void *)r.in_turn);
	free(t);
	free(args);
	return bad;
}

static int run_one(enum readyq_backend b, unsigned int producers,
		   unsigned int workers, unsigned int mailboxes,
		   unsigned long per, bool chaos, unsigned int burst,
		   uint32_t flags)
{
	return run_mode(b, producers, workers, mailboxes, per, chaos, burst,
			flags, false, 0);
}

static int run_park(enum readyq_backend b, unsigned int producers,
		    unsigned int workers, unsigned int timing_out,
		    unsigned long per)
{
	return run_mode(b, producers, workers, 64, per, false, 0, 0, true,
			timing_out);
}

#define HIST_CHURN_THREADS 6 /* live at once, per generation */
#define HIST_CHURN_GENERATIONS 40
#define HIST_WIDE_THREADS 80 /* more than the 64 owned shards */
#define HIST_OPS 4000

struct hist_arg {
	struct readyq *q;
	unsigned int id;
	_Atomic bool *go;
	_Atomic int failed;
};

/* Register this thread's own slots, drain whatever is there, complete it. */
static void *hist_thread(void *p)
{
	struct hist_arg *a = p;
	struct readyq_result res = readyq_result_completed(false);
	struct readyq_index out[8];
	unsigned int i;
	ssize_t n, j;

	while (!atomic_load(a->go))
		sched_yield();
	for (i = 0; i < HIST_OPS; i++) {
		struct readyq_index idx = { .slot = a->id * 16 + i % 16 };

		if (readyq_register(a->q, idx) < 0)
			atomic_fetch_add(&a->failed, 1);
		if (i % 4)
			continue;
		n = readyq_drain(a->q, out, 8);
		for (j = 0; j < n; j++)
			if (readyq_complete(a->q, out[j], &res))
				atomic_fetch_add(&a->failed, 1);
	}
	return NULL;
}

/* @nt threads at once, @gens times over; then the rest drained. */
static int hist_threads(enum readyq_backend b, unsigned int nt,
			unsigned int gens)
{
	struct readyq_result res = readyq_result_completed(false);
	struct readyq_config cfg;
	struct hist_arg args[HIST_WIDE_THREADS];
	pthread_t t[HIST_WIDE_THREADS];
	struct readyq_index out[64];
	struct readyq_stats st;
	struct readyq *q;
	_Atomic bool go;
	unsigned int g, i;
	ssize_t n, j;
	int bad = 0;

	readyq_config_init(&cfg);
	cfg.backend = b;
	cfg.flags = HIST;
	if (readyq_create(&cfg, &q))
		return 1;
	for (g = 0; g < gens; g++) {
		atomic_store(&go, false);
		for (i = 0; i < nt; i++) {
			args[i] = (struct hist_arg){ .q = q, .go = &go,
						     .id = g * nt + i };
			pthread_create(&t[i], NULL, hist_thread, &args[i]);
		}
		atomic_store(&go, true);
		for (i = 0; i < nt; i++) {
			pthread_join(t[i], NULL);
			bad += atomic_load(&args[i].failed);
		}
	}
	while ((n = readyq_drain(q, out, 64)) > 0)
		for (j = 0; j < n; j++)
			bad += readyq_complete(q, out[j], &res) != 0;
	readyq_stats(q, &st);
	printf("hist threads: %s, %u threads x %u generations\n",
	       readyq_backend_name(b), nt, gens);
	if (bad || st.drained < (uint64_t)nt * gens ||
	    !test_hist_exact(q, &st, "  ")) {
		printf("FAIL: %d errors, %llu drained\n", bad,
		       (unsigned long long)st.drained);
		bad++;
	}
	readyq_destroy(q);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	unsigned long scale = argc > 1 ? strtoul(argv[1], NULL, 0) : 1;
	const char *pct = getenv("RQ_STRESS_PERCENT");
	unsigned long per = 250000 * scale;
	int k, failed = 0, ran = 0;

	if (pct && strtoul(pct, NULL, 0) > 0)
		per = per * strtoul(pct, NULL, 0) / 100;
	for (k = 0; k < RQ_NR_TEST_BACKENDS; k++) {
		enum readyq_backend b = rq_test_backends[k];

		failed += run_one(b, 2, 2, 16, per, false, 0, 0);
		failed += run_one(b, 2, 2, 8, per / 4, false, 16, 0);
		failed += run_one(b, 3, 4, 1024, per, false, 0, 0);
		failed += run_one(b, 2, 3, 64, per, true, 0, 0);
		failed += run_one(b, 2, 3, 64, per / 2, true, 0, HIST);
		failed += run_one(b, 2, 3, 32, per / 4, true, 64, 0);
		failed += run_one(b, 4, 8, 4096, per / 2, true, 0, 0);
		/* Lost wake-ups: parked, searching and timing-out workers. */
		failed += run_park(b, 2, 3, 1, per / 8);
		failed += run_park(b, 1, 4, 2, per / 8);
		failed += hist_threads(b, HIST_CHURN_THREADS,
				       HIST_CHURN_GENERATIONS);
		failed += hist_threads(b, HIST_WIDE_THREADS, 1);
		ran += 11;
		if (b != READYQ_BACKEND_ADAPTIVE)
			continue;
		/* Hundreds of forced migrations, exact accounting. */
		failed += run_one(b, 2, 3, 64, 3 * per, true, 0,
				  READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH);
		failed += run_one(b, 2, 3, 32, per, true, 64, SWITCHING | HIST);
		failed += run_one(b, 3, 4, 1024, 3 * per, false, 0,
				  READYQ_FLAG_ADAPTIVE_ALWAYS_SWITCH);
		ran += 3;
		/* Hundreds of migrations in all (each run did at least 25). */
		printf("forced migrations in all: %llu\n",
		       (unsigned long long)total_switches);
		if (total_switches < 300) {
			printf("FAIL: fewer than 300 forced migrations\n");
			failed++;
		}
	}
	printf("%d passed, %d failed\n", ran - failed, failed);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
