/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * model.h - a small single-threaded reference model of SPEC §2
 *
 * Overview
 * --------
 * The model is the obvious implementation of the state machine of SPEC §2
 * (plus the choices NEWS documents where the spec is silent), written
 * independently of lib/locked.c: a growing array of slot records found by
 * linear scan, and a FIFO position (a sequence number) per QUEUED record.
 * It is meant to be read and believed, not to be fast.
 *
 * The model mirrors the public API: mdl_register() and friends take the
 * same arguments and return what a correct backend must return, including
 * -EINVAL for bad arguments and -ESHUTDOWN after mdl_shutdown().
 *
 * Time.  The model has no clock.  A deadline is either "now" (a delay of 0
 * for RESUME_AFTER) or "never" (any other delay: callers use only delays
 * that cannot pass while they run, e.g. hours).  Entries with a deadline of
 * "now" are due: poll answers 1, and the next drain queues them at the
 * tail, in the order they were suspended, before it takes anything (SPEC:
 * "drain moves what is due first").  A caller comparing a real queue with
 * the model must make sure two zero-delay suspensions never read the same
 * clock value, see tests/fuzz-diff.c.
 *
 * Drain order.  SPEC §2 orders QUEUED indices by the moment they became
 * QUEUED, but one readyq_resume_signal() call queues several indices "at
 * once" and does not say in which order.  The model gives all of them the
 * same FIFO position; mdl_drain_check() therefore does not predict a drain
 * but checks one: it accepts a drain result when its length is
 * min(max, queued) and each index, in turn, is QUEUED with the smallest
 * position among those not yet taken, and then applies it.  Everything
 * else is exact.
 */
#ifndef READYQ_TEST_MODEL_H
#define READYQ_TEST_MODEL_H

#include <readyq/readyq.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How the model calls a "very long" delay: longer than any test runs. */
#define MDL_LONG_DELAY_NS (3600ull * 1000000000ull)

struct mdl_slot;

struct mdl {
	struct mdl_slot *slots;
	size_t nr, cap;
	uint64_t next_pos; /* FIFO position of the next QUEUED index */
	uint64_t next_due; /* order of zero-delay suspensions */
	bool shutdown;
	struct readyq_stats st; /* counters; the "now" fields are computed */
};

void mdl_init(struct mdl *m);
void mdl_fini(struct mdl *m);

/* Each returns what readyq_<same name> must return on a correct backend. */
int mdl_register(struct mdl *m, struct readyq_index idx);
int mdl_unregister(struct mdl *m, struct readyq_index idx);
int mdl_complete(struct mdl *m, struct readyq_index idx,
		 const struct readyq_result *res);
int mdl_resume(struct mdl *m, struct readyq_index idx);
int mdl_resume_signal(struct mdl *m, uint64_t key);
int mdl_poll_signal(struct mdl *m);
int mdl_wait0(struct mdl *m); /* readyq_wait(q, 0) */
void mdl_shutdown(struct mdl *m);
void mdl_stats(const struct mdl *m, struct readyq_stats *st);

/*
 * mdl_drain_check() - check a drain result and apply it
 * @m: the model
 * @out_null: the caller passed out == NULL
 * @max: the max the caller passed
 * @got: what readyq_drain() returned
 * @out: the indices it stored
 *
 * Return: NULL when @got and @out are a result a correct backend may
 * return (the model then made them RUNNING), else a static text saying
 * what is wrong (the model is then in no useful state: stop there).
 */
const char *mdl_drain_check(struct mdl *m, bool out_null, size_t max,
			    ssize_t got, const struct readyq_index *out);

/* The @k-th RUNNING index (in slot creation order), if there is one. */
bool mdl_nth_running(const struct mdl *m, unsigned int k,
		     struct readyq_index *idx);

/* How many indices are QUEUED, counting due ones the next drain queues. */
size_t mdl_ready(const struct mdl *m);

#endif
