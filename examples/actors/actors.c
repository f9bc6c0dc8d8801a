// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * actors.c - a minimal actor runtime on libreadyq (see actors.h)
 *
 * The whole protocol between senders, workers and the ready queue
 * ---------------------------------------------------------------
 * send(actor, msg):
 *	1. enqueue msg on the actor's mailbox (wait-free, any thread);
 *	2. readyq_register(actor's index).
 *
 * worker:
 *	loop:
 *		readyq_wait(forever)       -> -ESHUTDOWN ends the worker
 *		readyq_drain(batch)        -> 0..batch actors, now RUNNING
 *		for each actor: one turn:
 *			dequeue and handle up to readyq_throughput() messages
 *			readyq_complete(YIELDED) if messages remain,
 *			readyq_complete(COMPLETED, ready_hint = false) if not
 *
 * Why no message is ever stranded: a sender's register comes *after* its
 * enqueue.  If the worker saw the mailbox empty, the enqueue it missed is
 * followed by a register that lands either during the turn (the index is
 * RUNNING: it becomes NOTIFIED, and readyq_complete() queues it again
 * even with COMPLETED(false): readyq_complete(3), SPEC "no lost
 * wake-ups") or after it (the index is IDLE: the register queues it).
 * Were the order reversed (register, then enqueue), a turn could run
 * between the two, find nothing, and leave the message behind.
 *
 * Why the mailbox needs no lock on the dequeue side: liburcu's
 * __cds_wfcq_dequeue_nonblocking() asks that dequeuers exclude each
 * other, and readyq gives exactly that: between the drain that returns an
 * index and its complete, no other drain returns it; and the complete of
 * one turn happens before the drain of the next (the queue's own lock or
 * atomics order them), so a turn sees everything the previous turn did to
 * the actor's state.
 *
 * Why the nonblocking dequeue: the blocking form sleeps (10 ms poll) when
 * it meets a sender between its two stores; the nonblocking form returns
 * CDS_WFCQ_WOULDBLOCK, and the turn simply ends YIELDED: the actor is
 * queued again and the next turn finds the message complete.
 */
#define _POSIX_C_SOURCE 200809L
#define _LGPL_SOURCE /* inline liburcu's queue; fine for LGPL code */

#include "actors.h"

/*
 * liburcu's atomics are inline assembly, which ThreadSanitizer cannot
 * see: a message handed over through the wait-free queue would look like
 * a data race.  Under TSan, say the handoff out loud; otherwise nothing.
 */
#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#define actors_tsan_release(p) __tsan_release(p)
#define actors_tsan_acquire(p) __tsan_acquire(p)
#else
#define actors_tsan_release(p) ((void)(p))
#define actors_tsan_acquire(p) ((void)(p))
#endif

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define ACTORS_DEFAULT_WORKERS 2
#define ACTORS_DEFAULT_MAX 1024
#define ACTORS_MAX_BATCH 64

/**
 * struct actors_worker - one worker thread and its private counters
 * @sys: the runtime
 * @thread: the thread
 * @st: what it did (summed by actors_stats() after actors_join())
 *
 * Counters are per worker, on their own cache line: counting costs no
 * shared write.
 */
struct actors_worker {
	struct actors *sys;
	pthread_t thread;
	struct actors_stats st;
} __attribute__((aligned(64)));

/**
 * struct actors - the runtime
 * @q: the ready queue
 * @cfg: the configuration, defaults filled in
 * @throughput: messages per turn (readyq_throughput(), read once)
 * @table: actor by slot number
 * @nr_actors: actors spawned so far (next slot)
 * @workers: the worker threads
 * @started: workers created by actors_start()
 * @joined: actors_join() has run
 */
struct actors {
	struct readyq *q;
	struct actors_config cfg;
	uint32_t throughput;
	struct actor **table;
	atomic_size_t nr_actors;
	struct actors_worker *workers;
	unsigned int started;
	int joined;
};

/**
 * actors_config_init() - fill @cfg with the defaults
 * @cfg: the configuration
 *
 * Adaptive backend, 2 workers, room for 1024 actors, the library's
 * throughput, drain batches of 1 (a drained actor waits in its worker's
 * batch while another worker may be idle: with one index per drain, the
 * queue hands each ready actor to whichever worker asks first).
 */
void actors_config_init(struct actors_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->backend = READYQ_BACKEND_ADAPTIVE;
	cfg->workers = ACTORS_DEFAULT_WORKERS;
	cfg->max_actors = ACTORS_DEFAULT_MAX;
	cfg->batch = 1;
}

/**
 * actors_create() - build a runtime; its workers start with actors_start()
 * @cfg: the configuration (copied), or NULL for the defaults
 * @sysp: where the runtime goes
 *
 * Return: 0, -EINVAL, -ENOMEM, or readyq_create()'s error.
 */
int actors_create(const struct actors_config *cfg, struct actors **sysp)
{
	struct readyq_config qc;
	struct actors *sys;
	int rc;

	if (!sysp)
		return -EINVAL;
	sys = calloc(1, sizeof(*sys));
	if (!sys)
		return -ENOMEM;
	if (cfg)
		sys->cfg = *cfg;
	else
		actors_config_init(&sys->cfg);
	if (!sys->cfg.workers)
		sys->cfg.workers = ACTORS_DEFAULT_WORKERS;
	if (!sys->cfg.max_actors)
		sys->cfg.max_actors = ACTORS_DEFAULT_MAX;
	if (!sys->cfg.batch)
		sys->cfg.batch = 1;
	if (sys->cfg.batch > ACTORS_MAX_BATCH ||
	    sys->cfg.max_actors > UINT32_MAX) {
		free(sys);
		return -EINVAL;
	}

	readyq_config_init(&qc);
	qc.backend = sys->cfg.backend;
	qc.throughput = sys->cfg.throughput;
	/* the workers, plus the threads outside that send */
	qc.concurrency_hint = sys->cfg.workers;
	qc.capacity_hint = sys->cfg.max_actors;
	rc = readyq_create(&qc, &sys->q);
	if (rc < 0) {
		free(sys);
		return rc;
	}
	sys->throughput = readyq_throughput(sys->q);
	sys->table = calloc(sys->cfg.max_actors, sizeof(*sys->table));
	/* Cache-line aligned, as the type says: calloc() guarantees 16. */
	sys->workers = aligned_alloc(_Alignof(struct actors_worker),
				     sys->cfg.workers * sizeof(*sys->workers));
	if (sys->workers)
		memset(sys->workers, 0,
		       sys->cfg.workers * sizeof(*sys->workers));
	if (!sys->table || !sys->workers) {
		actors_destroy(sys);
		return -ENOMEM;
	}
	*sysp = sys;
	return 0;
}

/**
 * actors_spawn() - create an actor
 * @sys: the runtime
 * @receive: its message handler
 * @state: its private state, given back by actors_state()
 *
 * May be called before or after actors_start(), from any thread.
 *
 * Return: the actor, or NULL when max_actors are spawned or memory is
 * short.
 */
struct actor *actors_spawn(struct actors *sys, actor_receive_fn receive,
			   void *state)
{
	struct actor *a;
	size_t slot;

	if (!receive)
		return NULL;
	if (posix_memalign((void **)&a, 64, sizeof(*a)))
		return NULL;
	memset(a, 0, sizeof(*a));
	__cds_wfcq_init(&a->head, &a->tail);
	a->sys = sys;
	a->receive = receive;
	a->state = state;
	atomic_init(&a->in_turn, 0);

	slot = atomic_fetch_add(&sys->nr_actors, 1);
	if (slot >= sys->cfg.max_actors) {
		atomic_fetch_sub(&sys->nr_actors, 1);
		free(a);
		return NULL;
	}
	a->idx.slot = (uint32_t)slot;
	a->idx.generation = 0;
	/*
	 * Published before any send can name the actor: the caller gets
	 * the pointer only after this store, and a send's register orders
	 * it before the worker's drain that returns the slot.
	 */
	sys->table[slot] = a;
	return a;
}

/**
 * actors_send() - send @msg to @to
 * @to: the receiver
 * @msg: the message; the runtime owns it until the handler gets it
 *
 * Enqueue, then register: never the other way round (see the top of
 * this file).
 *
 * Return: 0, or -ESHUTDOWN after actors_stop() (the message stays in the
 * mailbox; actors_destroy() hands it to the drop function).
 */
int actors_send(struct actor *to, struct actor_msg *msg)
{
	int rc;

	cds_wfcq_node_init(&msg->node);
	actors_tsan_release(msg);
	cds_wfcq_enqueue(&to->head, &to->tail, &msg->node);
	rc = readyq_register(to->sys->q, to->idx);
	return rc < 0 ? rc : 0;
}

/*
 * One turn of @a: at most sys->throughput messages, then tell the queue
 * whether messages remain.
 */
static void actors_turn(struct actors_worker *w, struct actor *a,
			struct readyq_index idx)
{
	struct actors *sys = w->sys;
	struct readyq_result res;
	struct cds_wfcq_node *node;
	uint32_t n;
	int more = 0;

	/* Never two workers in one actor: counts what the queue promises. */
	if (atomic_exchange_explicit(&a->in_turn, 1, memory_order_acquire))
		w->st.overlaps++;

	for (n = 0; n < sys->throughput; n++) {
		node = __cds_wfcq_dequeue_nonblocking(&a->head, &a->tail);
		if (!node)
			break; /* empty */
		if (node == CDS_WFCQ_WOULDBLOCK) {
			more = 1; /* a sender is mid-enqueue: come back */
			break;
		}
		actors_tsan_acquire(caa_container_of(node, struct actor_msg,
						     node));
		a->receive(a, caa_container_of(node, struct actor_msg, node));
	}
	w->st.delivered += n;
	if (n == sys->throughput)
		more = !cds_wfcq_empty(&a->head, &a->tail);

	atomic_store_explicit(&a->in_turn, 0, memory_order_release);

	/*
	 * COMPLETED(false) is safe even if a message arrived after the
	 * emptiness test: its sender registers after enqueueing, and a
	 * register during the turn marks it NOTIFIED, so this complete
	 * queues the actor again.
	 */
	if (more) {
		res = readyq_result_yielded();
		w->st.yields++;
	} else {
		res = readyq_result_completed(false);
	}
	if (readyq_complete(sys->q, idx, &res) < 0)
		w->st.errors++;
	w->st.turns++;
}

static void *actors_worker_main(void *arg)
{
	struct actors_worker *w = arg;
	struct actors *sys = w->sys;
	struct readyq_index batch[ACTORS_MAX_BATCH];
	ssize_t n, i;

	/*
	 * readyq_wait() is level-triggered: 0 means an index was queued at
	 * some point during the call, not that this worker will get it.
	 * It returns -ESHUTDOWN once actors_stop() has run.
	 */
	while (readyq_wait(sys->q, -1) == 0) {
		n = readyq_drain(sys->q, batch, sys->cfg.batch);
		if (n < 0) {
			w->st.errors++;
			continue;
		}
		if (n == 0)
			w->st.empty_drains++;
		for (i = 0; i < n; i++)
			actors_turn(w, sys->table[batch[i].slot], batch[i]);
	}
	return NULL;
}

/**
 * actors_start() - start the worker threads
 * @sys: the runtime
 *
 * Return: 0, or a negative errno from pthread_create() (the workers
 * started so far keep running; actors_destroy() stops them).
 */
int actors_start(struct actors *sys)
{
	int rc;

	while (sys->started < sys->cfg.workers) {
		struct actors_worker *w = &sys->workers[sys->started];

		w->sys = sys;
		rc = pthread_create(&w->thread, NULL, actors_worker_main, w);
		if (rc)
			return -rc;
		sys->started++;
	}
	return 0;
}

/**
 * actors_stop() - shut the runtime down
 * @sys: the runtime
 *
 * Any thread, a handler included.  Workers finish the turn they are in
 * and exit; messages still in mailboxes stay there; later sends return
 * -ESHUTDOWN.
 */
void actors_stop(struct actors *sys)
{
	readyq_shutdown(sys->q);
}

/**
 * actors_join() - wait for the workers to exit
 * @sys: the runtime
 *
 * Returns once actors_stop() has been called (by anyone: a handler, a
 * signal-handling thread, this thread) and every worker has finished its
 * turn.  Not from a handler: a worker cannot join itself.
 */
void actors_join(struct actors *sys)
{
	unsigned int i;

	if (sys->joined)
		return;
	for (i = 0; i < sys->started; i++)
		pthread_join(sys->workers[i].thread, NULL);
	sys->joined = 1;
}

/**
 * actors_stats() - sum the workers' counters
 * @sys: the runtime
 * @st: where the sums go
 *
 * Only after actors_join(): the counters are the workers' own, unlocked.
 */
void actors_stats(struct actors *sys, struct actors_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < sys->started; i++) {
		const struct actors_stats *w = &sys->workers[i].st;

		st->turns += w->turns;
		st->delivered += w->delivered;
		st->yields += w->yields;
		st->empty_drains += w->empty_drains;
		st->overlaps += w->overlaps;
		st->errors += w->errors;
	}
}

/**
 * actors_readyq() - the runtime's ready queue, e.g. for readyq_stats()
 * @sys: the runtime
 */
struct readyq *actors_readyq(struct actors *sys)
{
	return sys->q;
}

/**
 * actors_destroy() - stop and join the workers, drop undelivered messages,
 *	free everything
 * @sys: the runtime (may be NULL)
 */
void actors_destroy(struct actors *sys)
{
	struct cds_wfcq_node *node;
	size_t i, n;

	if (!sys)
		return;
	if (sys->q) {
		actors_stop(sys);
		actors_join(sys);
	}
	n = atomic_load(&sys->nr_actors);
	for (i = 0; sys->table && i < n; i++) {
		struct actor *a = sys->table[i];

		if (!a)
			continue;
		/* no worker and no sender left: nothing is mid-enqueue */
		while ((node = __cds_wfcq_dequeue_nonblocking(&a->head,
							      &a->tail)) &&
		       node != CDS_WFCQ_WOULDBLOCK)
			if (sys->cfg.drop)
				sys->cfg.drop(a, caa_container_of(
							 node, struct actor_msg,
							 node));
		free(a);
	}
	free(sys->table);
	free(sys->workers);
	if (sys->q)
		readyq_destroy(sys->q);
	free(sys);
}
