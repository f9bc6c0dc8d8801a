// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tsan-urcu.c - are tests/tsan.supp and lib/tsan.h enough for liburcu?
 *
 * Built and run by make check only in --enable-sanitizers=thread builds.
 * Two producers publish nodes through an rculfhash table (add_unique
 * under the bp read lock) and a wait-free queue; a consumer dequeues with
 * the non-blocking dequeue, reads the node, deletes it from the table
 * and frees it with call_rcu: the way the lock-free backend uses liburcu.
 * The handoffs are annotated with lib/tsan.h, the races inside liburcu
 * are suppressed by tests/tsan.supp; TSAN_OPTIONS has halt_on_error=1, so
 * any other report fails the test.
 *
 * With "unannotated" as argument the annotations are skipped: ThreadSanitizer
 * must then report the consumer's read of a node (a race in *our* code as
 * far as it can tell), which shows that the suppressions do not hide our
 * own accesses.  Run by hand:
 *	TSAN_OPTIONS=suppressions=../tests/tsan.supp ./tests/tsan-urcu unannotated
 */
#define _LGPL_SOURCE
#include <urcu-bp.h>
#include <urcu/rculfhash.h>
#include <urcu/wfcqueue.h>

#include "tsan.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PER_PRODUCER 20000ul

struct node {
	struct cds_wfcq_node qn;
	struct cds_lfht_node hn;
	struct rcu_head rh;
	unsigned long key;
};

static struct cds_wfcq_head head;
static struct cds_wfcq_tail tail;
static struct cds_lfht *ht;
static bool annotate = true;
static int rcu_marker; /* read-side sections release, callbacks acquire */

static int match(struct cds_lfht_node *n, const void *key)
{
	return caa_container_of(n, struct node, hn)->key ==
	       *(const unsigned long *)key;
}

static void free_node(struct rcu_head *h)
{
	if (annotate)
		rq_tsan_acquire(&rcu_marker);
	free(caa_container_of(h, struct node, rh));
}

static void *producer(void *arg)
{
	unsigned long i, id = (unsigned long)arg;

	for (i = 0; i < PER_PRODUCER; i++) {
		struct node *n = calloc(1, sizeof(*n));
		struct cds_lfht_node *r;

		if (!n)
			abort();
		n->key = i * 2 + id;
		cds_wfcq_node_init(&n->qn);
		cds_lfht_node_init(&n->hn);
		urcu_bp_read_lock();
		r = cds_lfht_add_unique(ht, n->key, match, &n->key, &n->hn);
		urcu_bp_read_unlock();
		if (r != &n->hn)
			abort();
		if (annotate)
			rq_tsan_release(n);
		cds_wfcq_enqueue(&head, &tail, &n->qn);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	unsigned long got = 0, sum = 0;

	while (got < 2 * PER_PRODUCER) {
		struct cds_wfcq_node *qn;
		struct cds_lfht_iter it;
		struct node *n;

		qn = __cds_wfcq_dequeue_nonblocking(&head, &tail);
		if (!qn || qn == CDS_WFCQ_WOULDBLOCK)
			continue;
		n = caa_container_of(qn, struct node, qn);
		if (annotate)
			rq_tsan_acquire(n);
		sum += n->key;
		urcu_bp_read_lock();
		cds_lfht_lookup(ht, n->key, match, &n->key, &it);
		if (cds_lfht_iter_get_node(&it) != &n->hn ||
		    cds_lfht_del(ht, &n->hn))
			abort();
		if (annotate)
			rq_tsan_release(&rcu_marker);
		urcu_bp_read_unlock();
		urcu_bp_call_rcu(&n->rh, free_node);
		got++;
	}
	*(unsigned long *)arg = sum;
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned long sum = 0, want = 0, i;
	pthread_t t[3];

	if (argc > 1 && !strcmp(argv[1], "unannotated"))
		annotate = false;
	cds_wfcq_init(&head, &tail);
	ht = cds_lfht_new_flavor(1024, 1024, 0, 0, &urcu_bp_flavor, NULL);
	if (!ht)
		abort();
	pthread_create(&t[0], NULL, producer, (void *)0ul);
	pthread_create(&t[1], NULL, producer, (void *)1ul);
	pthread_create(&t[2], NULL, consumer, &sum);
	for (i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	urcu_bp_barrier();
	if (cds_lfht_destroy(ht, NULL))
		abort();
	for (i = 0; i < 2 * PER_PRODUCER; i++)
		want += i;
	printf("tsan-urcu: %lu nodes through rculfhash + wfcqueue + call_rcu, "
	       "%s\n", 2 * PER_PRODUCER,
	       sum == want ? "all accounted for" : "MISMATCH");
	return sum == want ? EXIT_SUCCESS : EXIT_FAILURE;
}
