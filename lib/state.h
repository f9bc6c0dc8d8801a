/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.h - the per-slot state machine, described once for every backend
 *
 * Overview
 * --------
 * Every slot a queue has seen is in one of the states below, with a
 * generation and a NOTIFIED mark (a register arrived while the index was
 * RUNNING, SUSPENDED or DELAYED: run it again when that ends).  The
 * contract (readyq(7), "States") is implemented by deciding every
 * transition here and nowhere else:
 *
 *   rq_reg_decide()      what readyq_register() does to a slot;
 *   rq_is_current()      whether @idx names the slot's current life;
 *   rq_turn_end()        what a turn's result does to a RUNNING index;
 *   rq_park_decode()     where a parking result (SUSPENDED, FAILED with a
 *                        delay) waits, and until what;
 *   rq_outside_turn()    readyq_complete() on an index that is not RUNNING.
 *
 *	EMPTY/IDLE --register--> QUEUED --drain--> RUNNING
 *	RUNNING --complete--> IDLE | QUEUED | SUSPENDED | DELAYED | RETIRED
 *	SUSPENDED/DELAYED --resume, signal, deadline--> QUEUED
 *	QUEUED/SUSPENDED/DELAYED --unregister--> IDLE
 *	any --register of a newer generation--> QUEUED
 *
 * Backends keep only how they store and publish a slot's state: the
 * locked backend a record word under its lock, the lock-free backend one
 * 64-bit word changed by compare-and-swap.  Both use enum rq_state for the
 * state bits, and so does the export format that the adaptive backend
 * migrates slots with (struct rq_export).
 *
 * Context: pure functions; any thread, no locks.
 */
#ifndef READYQ_STATE_H
#define READYQ_STATE_H

#include <readyq/readyq.h>

#include "susp.h"

#include <stdbool.h>
#include <stdint.h>

enum rq_state {
	RQ_ST_EMPTY = 0, /* never seen: IDLE with whatever generation comes */
	RQ_ST_IDLE,
	RQ_ST_QUEUED,
	RQ_ST_RUNNING,
	RQ_ST_SUSPENDED,
	RQ_ST_DELAYED,
	RQ_ST_RETIRED, /* STOPPED: only a newer generation brings it back */
};

/* Bits a backend needs to store an enum rq_state. */
#define RQ_STATE_BITS 3

static inline bool rq_state_parked(enum rq_state st)
{
	return st == RQ_ST_SUSPENDED || st == RQ_ST_DELAYED;
}

/* What readyq_register() does to a slot in state @st, generation @cur. */
enum rq_reg_action {
	RQ_REG_STALE, /* older generation, or this one retired: -ESTALE */
	RQ_REG_QUEUE, /* IDLE, never seen, or a newer generation: QUEUED */
	RQ_REG_DUPLICATE, /* already QUEUED: nothing */
	RQ_REG_NOTIFY, /* RUNNING, SUSPENDED, DELAYED: set NOTIFIED */
};

/*
 * rq_reg_decide() - the register rule
 * @st: the slot's state
 * @cur: its generation (ignored when EMPTY)
 * @gen: the generation registered
 *
 * A newer generation (RQ_REG_QUEUE with @gen > @cur) first cancels what
 * the old one had scheduled (a queue entry, a suspension) or forgets its
 * turn, then queues the new one.
 */
static inline enum rq_reg_action rq_reg_decide(enum rq_state st, uint32_t cur,
					       uint32_t gen)
{
	if (st == RQ_ST_EMPTY || gen > cur)
		return RQ_REG_QUEUE;
	if (gen < cur || st == RQ_ST_RETIRED)
		return RQ_REG_STALE;
	switch (st) {
	case RQ_ST_IDLE:
		return RQ_REG_QUEUE;
	case RQ_ST_QUEUED:
		return RQ_REG_DUPLICATE;
	default:
		return RQ_REG_NOTIFY;
	}
}

/*
 * Does @gen name the current life of a slot in state @st, generation
 * @cur?  unregister, resume and complete answer -ESTALE when not.
 */
static inline bool rq_is_current(enum rq_state st, uint32_t cur, uint32_t gen)
{
	return gen == cur && st != RQ_ST_RETIRED;
}

/* What a turn's result does to the RUNNING index. */
enum rq_turn_end {
	RQ_END_IDLE, /* no more work: IDLE */
	RQ_END_REQUEUE, /* work remains (or arrived): QUEUED at the tail */
	RQ_END_PARK, /* SUSPENDED or DELAYED: see rq_park_decode() */
	RQ_END_RETIRE, /* STOPPED: RETIRED */
};

/*
 * rq_turn_end() - the turn-ending rule
 * @res: the turn's result (valid: core.c checked it)
 * @notified: a register arrived during the turn
 */
static inline enum rq_turn_end rq_turn_end(const struct readyq_result *res,
					   bool notified)
{
	switch (res->outcome) {
	case READYQ_COMPLETED:
		return res->ready_hint || notified ? RQ_END_REQUEUE :
						     RQ_END_IDLE;
	case READYQ_YIELDED:
		return RQ_END_REQUEUE;
	case READYQ_FAILED:
		if (res->delay_ns)
			return RQ_END_PARK;
		return notified ? RQ_END_REQUEUE : RQ_END_IDLE;
	case READYQ_SUSPENDED:
		return RQ_END_PARK;
	default: /* READYQ_STOPPED */
		return RQ_END_RETIRE;
	}
}

/* Where a parked index waits: its state, what ends the wait, and until. */
struct rq_park {
	enum rq_state state; /* SUSPENDED or DELAYED */
	enum rq_susp_kind kind;
	uint64_t val; /* the signal key, or the absolute deadline */
};

void rq_park_decode(const struct readyq_result *res, struct rq_park *park);

/* readyq_complete() on an index that is not RUNNING. */
enum rq_outside_action {
	RQ_OUT_REGISTER, /* YIELDED, or COMPLETED with ready_hint: register */
	RQ_OUT_CANCEL, /* COMPLETED, SUSPENDED, FAILED: cancel, then IDLE */
	RQ_OUT_RETIRE, /* STOPPED: cancel, then RETIRED */
};

static inline enum rq_outside_action
rq_outside_turn(const struct readyq_result *res)
{
	switch (res->outcome) {
	case READYQ_YIELDED:
		return RQ_OUT_REGISTER;
	case READYQ_COMPLETED:
		return res->ready_hint ? RQ_OUT_REGISTER : RQ_OUT_CANCEL;
	case READYQ_STOPPED:
		return RQ_OUT_RETIRE;
	default:
		return RQ_OUT_CANCEL;
	}
}

/*
 * One slot's whole state, for moving a queue from one backend to another
 * (the adaptive backend's migration).  @wait and @val only for SUSPENDED
 * and DELAYED; deadlines are absolute CLOCK_MONOTONIC nanoseconds.
 * @stamp, with histograms only (hist.h): a QUEUED slot's enqueue time, a
 * RUNNING one's drain time, in rq_hist_now() ticks.
 */
struct rq_export {
	uint64_t val;
	uint64_t stamp;
	uint32_t slot;
	uint32_t gen;
	uint8_t state; /* enum rq_state, never EMPTY */
	uint8_t wait; /* enum rq_susp_kind */
	bool notified;
};

#endif /* READYQ_STATE_H */
