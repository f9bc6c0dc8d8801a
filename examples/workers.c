// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * workers.c - producers and workers around one ready queue
 *
 * P producer threads send messages to M mailboxes (a counter per mailbox,
 * then readyq_register()); W worker threads sleep in readyq_wait(), drain
 * batches, take up to readyq_throughput() messages per turn and complete
 * with YIELDED (messages left) or COMPLETED (none left).  At the end the
 * program checks that every message was taken exactly once and prints the
 * queue's statistics.
 *
 * Usage: workers [BACKEND [PRODUCERS [WORKERS [MAILBOXES [MESSAGES]]]]]
 */
/* POSIX.1-2008 interfaces (sigwait, nanosleep, CLOCK_MONOTONIC) */
#define _POSIX_C_SOURCE 200809L

#include <readyq/readyq.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct readyq *q;
static _Atomic long *pending;
static _Atomic long taken, sent;
static unsigned long nr_mailboxes, per_producer;

static void *producer(void *arg)
{
	unsigned long seed = (unsigned long)(uintptr_t)arg * 2654435761u + 1;
	unsigned long i;

	for (i = 0; i < per_producer; i++) {
		struct readyq_index idx;

		seed = seed * 6364136223846793005ul + 1442695040888963407ul;
		idx.slot = (uint32_t)((seed >> 33) % nr_mailboxes);
		idx.generation = 0;
		atomic_fetch_add(&pending[idx.slot], 1);
		atomic_fetch_add(&sent, 1);
		if (readyq_register(q, idx) < 0)
			abort();
	}
	return NULL;
}

static void *worker(void *arg)
{
	struct readyq_index batch[32];
	struct readyq_result res;
	ssize_t n, i;
	long have, take;

	(void)arg;
	while (readyq_wait(q, -1) == 0) {
		n = readyq_drain(q, batch, 32);
		for (i = 0; i < n; i++) {
			have = atomic_load(&pending[batch[i].slot]);
			take = have < (long)readyq_throughput(q) ?
				       have :
				       (long)readyq_throughput(q);
			atomic_fetch_sub(&pending[batch[i].slot], take);
			atomic_fetch_add(&taken, take);
			res = have > take ? readyq_result_yielded() :
					    readyq_result_completed(false);
			if (readyq_complete(q, batch[i], &res) < 0)
				abort();
		}
	}
	return NULL;
}

static enum readyq_backend parse_backend(const char *s)
{
	int b;

	for (b = 0; readyq_backend_name((enum readyq_backend)b); b++)
		if (!strcmp(s, readyq_backend_name((enum readyq_backend)b)))
			return (enum readyq_backend)b;
	fprintf(stderr, "unknown backend %s\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long np = argc > 2 ? strtoul(argv[2], NULL, 0) : 2;
	unsigned long nw = argc > 3 ? strtoul(argv[3], NULL, 0) : 2;
	pthread_t *threads = calloc(np + nw, sizeof(*threads));
	struct readyq_config cfg;
	struct readyq_stats st;
	unsigned long i;
	int rc;

	nr_mailboxes = argc > 4 ? strtoul(argv[4], NULL, 0) : 1024;
	per_producer = argc > 5 ? strtoul(argv[5], NULL, 0) : 200000;
	pending = calloc(nr_mailboxes, sizeof(*pending));
	if (!threads || !pending || !nr_mailboxes)
		return 2;
	readyq_config_init(&cfg);
	cfg.backend = argc > 1 ? parse_backend(argv[1]) :
				 READYQ_BACKEND_LOCKED;
	cfg.capacity_hint = nr_mailboxes;
	rc = readyq_create(&cfg, &q);
	if (rc) {
		fprintf(stderr, "readyq_create(%s): %s\n",
			readyq_backend_name(cfg.backend), strerror(-rc));
		return 1;
	}
	for (i = 0; i < nw; i++)
		pthread_create(&threads[np + i], NULL, worker, NULL);
	for (i = 0; i < np; i++)
		pthread_create(&threads[i], NULL, producer, (void *)(i + 1));
	for (i = 0; i < np; i++)
		pthread_join(threads[i], NULL);
	while (atomic_load(&taken) < atomic_load(&sent))
		readyq_wait(q, 1000000); /* let the workers finish */
	readyq_shutdown(q);
	for (i = 0; i < nw; i++)
		pthread_join(threads[np + i], NULL);

	readyq_stats(q, &st);
	printf("backend %s: %lu producers, %lu workers, %lu mailboxes\n",
	       readyq_backend_name(cfg.backend), np, nw, nr_mailboxes);
	if (cfg.backend == READYQ_BACKEND_ADAPTIVE)
		printf("adaptive: switches %llu, on %s at the end\n",
		       (unsigned long long)st.switches,
		       readyq_backend_name(st.active));
	printf("messages sent %ld taken %ld\n", atomic_load(&sent),
	       atomic_load(&taken));
	printf("registers: %llu queued, %llu duplicate, %llu notified\n",
	       (unsigned long long)st.registered,
	       (unsigned long long)st.duplicates,
	       (unsigned long long)st.notified);
	printf("turns: %llu drained, %llu completed; waits %llu\n",
	       (unsigned long long)st.drained,
	       (unsigned long long)st.completed,
	       (unsigned long long)st.waits);
	readyq_destroy(q);
	free(pending);
	free(threads);
	return atomic_load(&taken) == atomic_load(&sent) ? 0 : 1;
}
