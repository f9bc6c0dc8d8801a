// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * daemon.c - a daemon-style worker pool around one ready queue
 *
 * W worker threads sleep in readyq_wait(), drain batches and run turns;
 * P producer threads send messages to M mailboxes at a steady pace until
 * the queue shuts down.  SIGTERM and SIGINT are blocked in every thread
 * and taken by a dedicated thread with sigwait(), which calls
 * readyq_shutdown() (a normal call from a normal thread: the library's
 * functions are not async-signal-safe).  Shutdown makes readyq_register()
 * fail with -ESHUTDOWN, which stops the producers, and readyq_wait()
 * return -ESHUTDOWN, which stops the workers; each worker then drains
 * what is still queued, so that every message sent is accounted for:
 * taken by a turn, or left behind (counted, not lost).  The statistics
 * are printed at exit.  SIGUSR1 (taken by the same thread) prints the
 * p50, p99 and p99.9 of the queue delay and of the turn time, from the
 * queue's histograms (READYQ_FLAG_HISTOGRAMS): as the upper bound of the
 * power-of-two bucket where each percentile falls.
 *
 * Usage: daemon [PRODUCERS [WORKERS [MAILBOXES]]]
 * Runs until SIGTERM or SIGINT (SIGUSR1: print latencies); exit status 0 when the accounting holds.
 */
/* POSIX.1-2008 interfaces (sigwait, nanosleep, CLOCK_MONOTONIC) */
#define _POSIX_C_SOURCE 200809L

#include <readyq/readyq.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct readyq *q;
static _Atomic long *pending;
static _Atomic long sent, taken;
static unsigned long nr_mailboxes;

#define NR_BUCKETS READYQ_HISTOGRAM_BUCKETS

/*
 * The upper bound (ns) of the bucket where the @permille-th per mille of
 * the counts in @b falls; 0 when @b is empty.
 */
static unsigned long long percentile(const uint64_t *b, unsigned int permille)
{
	uint64_t total = 0, seen = 0;
	int i;

	for (i = 0; i < NR_BUCKETS; i++)
		total += b[i];
	if (!total)
		return 0;
	for (i = 0; i < NR_BUCKETS - 1; i++) {
		seen += b[i];
		if (seen * 1000 >= total * permille)
			break;
	}
	return 2ull << i; /* bucket i: below 2^(i+1) ns */
}

static void print_histogram(const char *what, const uint64_t *b)
{
	printf("daemon: %s p50 < %llu ns, p99 < %llu ns, p99.9 < %llu ns\n",
	       what, percentile(b, 500), percentile(b, 990),
	       percentile(b, 999));
}

static void print_latencies(void)
{
	uint64_t b[NR_BUCKETS];

	if (readyq_delay_histogram(q, b, NR_BUCKETS) == 0)
		print_histogram("queue delay", b);
	if (readyq_turn_histogram(q, b, NR_BUCKETS) == 0)
		print_histogram("turn time", b);
	fflush(stdout);
}

static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	do
		if (sigwait(set, &sig))
			abort();
		else if (sig == SIGUSR1)
			print_latencies();
	while (sig == SIGUSR1);
	printf("daemon: %s, shutting down\n",
	       sig == SIGTERM ? "SIGTERM" : "SIGINT");
	fflush(stdout);
	readyq_shutdown(q);
	return NULL;
}

static void *producer(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg * 2654435761u + 1;
	struct timespec pause = { .tv_nsec = 100000 }; /* 0.1 ms */
	struct readyq_index idx = { 0 };
	int i, rc;

	for (;;) {
		for (i = 0; i < 64; i++) {
			seed = seed * 6364136223846793005ul +
			       1442695040888963407ul;
			idx.slot = (uint32_t)((seed >> 33) % nr_mailboxes);
			atomic_fetch_add(&pending[idx.slot], 1);
			rc = readyq_register(q, idx);
			if (rc == -ESHUTDOWN) {
				/* Not announced: take the message back. */
				atomic_fetch_sub(&pending[idx.slot], 1);
				return NULL;
			}
			if (rc < 0)
				abort();
			atomic_fetch_add(&sent, 1);
		}
		nanosleep(&pause, NULL);
	}
}

/* One turn: take up to readyq_throughput() messages. */
static void run_turn(struct readyq_index idx)
{
	long have = atomic_load(&pending[idx.slot]);
	long take = have < (long)readyq_throughput(q) ?
			    have :
			    (long)readyq_throughput(q);
	struct readyq_result res;

	atomic_fetch_sub(&pending[idx.slot], take);
	atomic_fetch_add(&taken, take);
	res = have > take ? readyq_result_yielded() :
			    readyq_result_completed(false);
	if (readyq_complete(q, idx, &res) < 0)
		abort();
}

static void *worker(void *arg)
{
	struct readyq_index batch[32];
	ssize_t n, i;
	int rc;

	(void)arg;
	while ((rc = readyq_wait(q, -1)) == 0) {
		n = readyq_drain(q, batch, 32);
		for (i = 0; i < n; i++)
			run_turn(batch[i]);
	}
	if (rc != -ESHUTDOWN)
		abort();
	/*
	 * Shut down: finish what is queued.  Turns that yield queue their
	 * mailbox again, so this ends when every mailbox ran dry.
	 */
	while ((n = readyq_drain(q, batch, 32)) > 0)
		for (i = 0; i < n; i++)
			run_turn(batch[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long np = argc > 1 ? strtoul(argv[1], NULL, 0) : 2;
	unsigned long nw = argc > 2 ? strtoul(argv[2], NULL, 0) : 2;
	pthread_t *threads, sigthr;
	struct readyq_index batch[32];
	ssize_t n, j;
	struct readyq_config cfg;
	struct readyq_stats st;
	unsigned long i;
	long left = 0;
	sigset_t set;
	int rc;

	nr_mailboxes = argc > 3 ? strtoul(argv[3], NULL, 0) : 256;
	threads = calloc(np + nw, sizeof(*threads));
	pending = calloc(nr_mailboxes, sizeof(*pending));
	if (!threads || !pending || !nr_mailboxes || !nw)
		return 2;

	/* Before any thread exists, so that every thread inherits it. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (rc) {
		fprintf(stderr, "pthread_sigmask: %s\n", strerror(rc));
		return 1;
	}

	readyq_config_init(&cfg);
	cfg.backend = READYQ_BACKEND_LOCKED;
	cfg.capacity_hint = nr_mailboxes;
	cfg.flags = READYQ_FLAG_HISTOGRAMS;
	rc = readyq_create(&cfg, &q);
	if (rc) {
		fprintf(stderr, "readyq_create: %s\n", strerror(-rc));
		return 1;
	}
	if (pthread_create(&sigthr, NULL, signal_thread, &set))
		return 1;
	for (i = 0; i < nw; i++)
		if (pthread_create(&threads[np + i], NULL, worker, NULL))
			return 1;
	for (i = 0; i < np; i++)
		if (pthread_create(&threads[i], NULL, producer,
				   (void *)(uintptr_t)(i + 1)))
			return 1;
	printf("daemon: running, %lu producers, %lu workers, %lu mailboxes\n",
	       np, nw, nr_mailboxes);
	fflush(stdout);

	pthread_join(sigthr, NULL);
	for (i = 0; i < np + nw; i++)
		pthread_join(threads[i], NULL);
	/* A register that raced with shutdown may have queued after the
	 * workers' last drain. */
	while ((n = readyq_drain(q, batch, 32)) > 0)
		for (j = 0; j < n; j++)
			run_turn(batch[j]);

	for (i = 0; i < nr_mailboxes; i++)
		left += atomic_load(&pending[i]);
	readyq_stats(q, &st);
	printf("daemon: sent %ld taken %ld left %ld\n", atomic_load(&sent),
	       atomic_load(&taken), left);
	printf("daemon: registers %llu queued, %llu duplicate, %llu notified\n",
	       (unsigned long long)st.registered,
	       (unsigned long long)st.duplicates,
	       (unsigned long long)st.notified);
	printf("daemon: turns %llu drained, %llu completed; waits %llu, "
	       "wakeups %llu\n",
	       (unsigned long long)st.drained,
	       (unsigned long long)st.completed,
	       (unsigned long long)st.waits, (unsigned long long)st.wakeups);
	readyq_destroy(q);
	free(pending);
	free(threads);
	if (left || atomic_load(&taken) != atomic_load(&sent) ||
	    st.drained != st.completed || st.queued || st.running) {
		printf("daemon: accounting FAILED\n");
		return 1;
	}
	printf("daemon: clean exit\n");
	return 0;
}
