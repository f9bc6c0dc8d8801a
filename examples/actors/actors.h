/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * actors.h - a minimal actor runtime on libreadyq
 *
 * Overview
 * --------
 * An *actor* is a mailbox plus a function that receives one message at a
 * time.  The runtime is the smallest correct one that libreadyq allows;
 * copy it into a daemon and grow it:
 *
 *  - each actor's mailbox is an intrusive MPSC queue (liburcu's wait-free
 *    concurrent queue, <urcu/wfcqueue.h>): any thread enqueues, only the
 *    worker running the actor's turn dequeues;
 *  - actors_send() enqueues the message, *then* calls readyq_register()
 *    with the actor's index: the order matters (see actors.c);
 *  - W worker threads loop on readyq_wait() -> readyq_drain() -> one turn
 *    per drained actor (at most readyq_throughput() messages) ->
 *    readyq_complete(): YIELDED when messages remain, COMPLETED(false)
 *    when the mailbox looked empty;
 *  - actors_stop() (any thread, a message handler included) shuts the
 *    queue down; actors_join() waits for the workers to exit;
 *    actors_destroy() does both and frees everything.
 *
 * Messages are intrusive: embed a struct actor_msg in your own message
 * structure and get it back with container_of() (caa_container_of() from
 * <urcu/compiler.h>).  The runtime never allocates or frees a message;
 * after a handler returns the message belongs to the handler again (it
 * may free it, keep it, or send it on: ping-pong tokens cost nothing).
 *
 * Actors live as long as the runtime: slot N of the ready queue is the
 * N-th actor spawned, generation 0.  Retiring actors (a STOPPED turn and a
 * new generation for the slot's next owner) is left out on purpose.
 *
 * Threads: actors_spawn() and actors_send() may be called from any thread,
 * message handlers included, concurrently.
 */
#ifndef READYQ_EXAMPLES_ACTORS_H
#define READYQ_EXAMPLES_ACTORS_H

#include <readyq/readyq.h>
#include <urcu/wfcqueue.h>

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct actor;
struct actors;

/**
 * struct actor_msg - the part of a message the runtime uses
 * @node: mailbox link; initialised by actors_send()
 *
 * Embed it in your message type.  A message is in at most one mailbox at
 * a time.
 */
struct actor_msg {
	struct cds_wfcq_node node;
};

/**
 * typedef actor_receive_fn - a message handler
 * @self: the actor the message was sent to
 * @msg: the message, owned by the handler from now on
 *
 * Runs on a worker thread, never on two threads at once for one actor:
 * the actor's state needs no lock.
 */
typedef void (*actor_receive_fn)(struct actor *self, struct actor_msg *msg);

/**
 * typedef actor_drop_fn - what to do with a message never delivered
 * @self: the actor whose mailbox still held it at actors_destroy()
 * @msg: the message
 */
typedef void (*actor_drop_fn)(struct actor *self, struct actor_msg *msg);

/**
 * struct actor - one actor; allocated by actors_spawn()
 * @tail: mailbox tail, written by senders
 * @sys: the runtime
 * @idx: the actor's ready-queue index (slot = spawn order, generation 0)
 * @head: mailbox head, read by the worker running the turn; on its own
 *	cache line so that senders and the running worker do not share one
 * @receive: the handler
 * @state: the caller's per-actor state (actors_state())
 * @in_turn: 1 while a worker runs the actor; the exclusivity check
 */
struct actor {
	struct cds_wfcq_tail tail;
	struct actors *sys;
	struct readyq_index idx;
	_Alignas(64) struct __cds_wfcq_head head;
	actor_receive_fn receive;
	void *state;
	atomic_int in_turn;
};

/**
 * struct actors_config - how to build a runtime; zero means default
 * @backend: the ready queue's backend (default: READYQ_BACKEND_ADAPTIVE,
 *	i.e. 0 is *not* the default: set it, or use actors_config_init())
 * @workers: worker threads (default: 2)
 * @max_actors: how many actors may be spawned (default: 1024)
 * @throughput: messages per turn (default: the library's, 32)
 * @batch: indices taken per readyq_drain() (default: 1, see
 *	actors_config_init())
 * @drop: called for each message left in a mailbox at actors_destroy()
 *	(default: none, the messages are forgotten)
 */
struct actors_config {
	enum readyq_backend backend;
	unsigned int workers;
	size_t max_actors;
	uint32_t throughput;
	unsigned int batch;
	actor_drop_fn drop;
};

/**
 * struct actors_stats - what the workers did, summed over all of them
 * @turns: turns run (drained indices)
 * @delivered: messages handed to a handler
 * @yields: turns that ended YIELDED (messages left)
 * @empty_drains: readyq_wait() returned 0 but the drain found nothing
 * @overlaps: turns that found the actor already in a turn on another
 *	worker; always 0 unless the ready queue breaks exclusivity
 * @errors: failed readyq_drain() or readyq_complete() calls
 */
struct actors_stats {
	uint64_t turns, delivered, yields, empty_drains, overlaps, errors;
};

void actors_config_init(struct actors_config *cfg);
int actors_create(const struct actors_config *cfg, struct actors **sysp);
struct actor *actors_spawn(struct actors *sys, actor_receive_fn receive,
			   void *state);
int actors_start(struct actors *sys);
int actors_send(struct actor *to, struct actor_msg *msg);
void actors_stop(struct actors *sys);
void actors_join(struct actors *sys);
void actors_destroy(struct actors *sys);
void actors_stats(struct actors *sys, struct actors_stats *st);
struct readyq *actors_readyq(struct actors *sys);

/**
 * actors_state() - the per-actor state given to actors_spawn()
 * @a: the actor
 */
static inline void *actors_state(const struct actor *a)
{
	return a->state;
}

#endif /* READYQ_EXAMPLES_ACTORS_H */
