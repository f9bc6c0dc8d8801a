// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * faults.c - allocation-failure injection, swept over every allocation
 *
 * Overview
 * --------
 * One representative, single-threaded workload (create; registers of a few
 * hundred slots, so every table and ring grows several times; drains;
 * registers during turns; completes with every outcome: ready, idle,
 * yield, suspend on a signal, after 0 ns, after an hour and on capacity,
 * fail with and without retry, stop; unregister; resume; resume_signal;
 * new generations of every slot, retired ones included; the final drain of
 * everything) is run again and again on every backend of
 * rq_test_backends[]: run N makes the Nth allocation of the library fail
 * (rq_alloc_fail_nth(N), counted from readyq_create()).  N goes up from 1
 * until a run ends without reaching its Nth allocation, so every
 * allocation the workload makes has failed once.
 *
 * Every call of every run is also applied to the reference model
 * (tests/model.h), which allocates nothing through the library.  The call
 * that meets the fault must return -ENOMEM and change nothing: readyq_stats()
 * must be what it was before the call (and what the model says).  It is
 * then repeated with allocations succeeding again and must return what
 * the model returns; so must every later call, and every drain must
 * return what the model allows.  At the end everything registered has
 * been drained (nothing lost) and the queue is empty.
 *
 * A backend may also absorb a failed allocation (fall back and succeed):
 * that is allowed when the results still agree with the model; such
 * faults are counted separately.  The totals are printed for
 * tests/README.md.
 */
#include "testutil.h"
#include "checkutil.h"
#include "alloc.h"
#include "backend.h"
#include "model.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NR_SLOTS 160u
#define NR_NEW 80u

struct ctx {
	struct readyq *q;
	struct mdl m;
	unsigned long nth; /* the armed fault, 0 once it hit */
	bool hit;
	unsigned long calls;
};

static void same_stats(const struct readyq_stats *a,
		       const struct readyq_stats *b)
{
	ck_assert_uint_eq(a->registered, b->registered);
	ck_assert_uint_eq(a->duplicates, b->duplicates);
	ck_assert_uint_eq(a->notified, b->notified);
	ck_assert_uint_eq(a->unregistered, b->unregistered);
	ck_assert_uint_eq(a->drained, b->drained);
	ck_assert_uint_eq(a->completed, b->completed);
	ck_assert_uint_eq(a->stale, b->stale);
	ck_assert_uint_eq(a->queued, b->queued);
	ck_assert_uint_eq(a->running, b->running);
	ck_assert_uint_eq(a->suspended, b->suspended);
	ck_assert_uint_eq(a->delayed, b->delayed);
}

static void check_model(struct ctx *c)
{
	struct readyq_stats got, want;

	ck_assert_int_eq(readyq_stats(c->q, &got), 0);
	mdl_stats(&c->m, &want);
	same_stats(&got, &want);
}

enum kind { K_REG, K_UNREG, K_COMPLETE, K_RESUME, K_SIGNAL };

struct call {
	enum kind kind;
	struct readyq_index idx;
	struct readyq_result res;
	uint64_t key;
};

static long do_call(struct readyq *q, const struct call *cl)
{
	switch (cl->kind) {
	case K_REG:
		return readyq_register(q, cl->idx);
	case K_UNREG:
		return readyq_unregister(q, cl->idx);
	case K_COMPLETE:
		return readyq_complete(q, cl->idx, &cl->res);
	case K_RESUME:
		return readyq_resume(q, cl->idx);
	default:
		return readyq_resume_signal(q, cl->key);
	}
}

static long model_call(struct mdl *m, const struct call *cl)
{
	switch (cl->kind) {
	case K_REG:
		return mdl_register(m, cl->idx);
	case K_UNREG:
		return mdl_unregister(m, cl->idx);
	case K_COMPLETE:
		return mdl_complete(m, cl->idx, &cl->res);
	case K_RESUME:
		return mdl_resume(m, cl->idx);
	default:
		return mdl_resume_signal(m, cl->key);
	}
}

/* An -ENOMEM: only from the armed fault, and with nothing changed. */
static void fault_hit(struct ctx *c, const struct readyq_stats *before)
{
	struct readyq_stats after;

	ck_assert_msg(c->nth && !c->hit,
		      "-ENOMEM without an injected fault (call %lu)", c->calls);
	c->hit = true;
	rq_alloc_fail_nth(0);
	ck_assert_int_eq(readyq_stats(c->q, &after), 0);
	same_stats(&after, before);
	check_model(c);
}

static void call(struct ctx *c, const struct call *cl)
{
	struct readyq_stats before;
	long rc;

	ck_assert_int_eq(readyq_stats(c->q, &before), 0);
	c->calls++;
	rc = do_call(c->q, cl);
	if (rc == -ENOMEM) {
		fault_hit(c, &before);
		rc = do_call(c->q, cl);
	}
	ck_assert_int_eq(rc, model_call(&c->m, cl));
	if (cl->kind == K_COMPLETE && cl->res.outcome == READYQ_SUSPENDED &&
	    cl->res.resume_on == READYQ_RESUME_AFTER && !cl->res.delay_ns) {
		/* Distinct deadlines, as in fuzz-diff.c. */
		uint64_t t0 = test_now_ns();

		while (test_now_ns() == t0)
			;
	}
}

static void reg(struct ctx *c, uint32_t slot, uint32_t gen)
{
	struct call cl = { .kind = K_REG, .idx = ix(slot, gen) };

	call(c, &cl);
}

static void unreg(struct ctx *c, uint32_t slot, uint32_t gen)
{
	struct call cl = { .kind = K_UNREG, .idx = ix(slot, gen) };

	call(c, &cl);
}

static void resume(struct ctx *c, uint32_t slot, uint32_t gen)
{
	struct call cl = { .kind = K_RESUME, .idx = ix(slot, gen) };

	call(c, &cl);
}

static void signal_key(struct ctx *c, uint64_t key)
{
	struct call cl = { .kind = K_SIGNAL, .key = key };

	call(c, &cl);
}

static void complete(struct ctx *c, struct readyq_index idx,
		     struct readyq_result res)
{
	struct call cl = { .kind = K_COMPLETE, .idx = idx, .res = res };

	call(c, &cl);
}

static ssize_t drain(struct ctx *c, struct readyq_index *out, size_t max)
{
	struct readyq_stats before;
	const char *err;
	ssize_t n;

	ck_assert_int_eq(readyq_stats(c->q, &before), 0);
	c->calls++;
	n = readyq_drain(c->q, out, max);
	if (n == -ENOMEM) {
		fault_hit(c, &before);
		n = readyq_drain(c->q, out, max);
	}
	err = mdl_drain_check(&c->m, false, max, n, out);
	ck_assert_msg(!err, "%s (got %zd)", err, n);
	return n;
}

/* The outcome for the @i-th turn of the first round. */
static struct readyq_result outcome(unsigned int i)
{
	switch (i % 10) {
	case 0:
		return readyq_result_completed(false);
	case 1:
		return readyq_result_completed(true);
	case 2:
		return readyq_result_yielded();
	case 3:
		return readyq_result_suspended(READYQ_SUSPEND_AWAIT_EXTERNAL,
					       READYQ_RESUME_SIGNAL, i % 3);
	case 4:
		return readyq_result_suspended(READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER,
					       MDL_LONG_DELAY_NS);
	case 5:
		return readyq_result_suspended(READYQ_SUSPEND_RATE_LIMIT,
					       READYQ_RESUME_AFTER, 0);
	case 6:
		return readyq_result_suspended(READYQ_SUSPEND_BACKPRESSURE,
					       READYQ_RESUME_CAPACITY, 0);
	case 7:
		return readyq_result_failed(-EAGAIN, MDL_LONG_DELAY_NS);
	case 8:
		return readyq_result_failed(-EIO, 0);
	default:
		return readyq_result_stopped();
	}
}

/* Drain until nothing is left, completing each turn with @res. */
static void drain_all(struct ctx *c, struct readyq_result res)
{
	struct readyq_index out[64];
	ssize_t n, k;

	while ((n = drain(c, out, 64)) > 0)
		for (k = 0; k < n; k++)
			complete(c, out[k], res);
}

static void workload(struct ctx *c)
{
	struct readyq_index out[NR_SLOTS];
	unsigned int i, turn = 0;
	ssize_t n, k;

	/* Registers that grow the tables, and duplicates. */
	for (i = 0; i < NR_SLOTS; i++)
		reg(c, i, 0);
	for (i = 0; i < 10; i++)
		reg(c, i, 0);
	/* Turns that end every way; a register during some of them. */
	while ((n = drain(c, out, 48)) > 0) {
		for (k = 0; k < n; k++) {
			if (turn % 4 == 0)
				reg(c, out[k].slot, out[k].generation);
			complete(c, out[k], outcome(turn++));
		}
		if (turn > 2 * NR_SLOTS)
			break;
	}
	/* Cancel, resume, signal. */
	for (i = 0; i < NR_SLOTS; i += 7)
		unreg(c, i, 0);
	for (i = 0; i < NR_SLOTS; i += 3)
		resume(c, i, 0);
	reg(c, 5, 0);
	signal_key(c, 0);
	signal_key(c, 1);
	/* Stale calls: older generations cannot register. */
	reg(c, 9, 0);
	complete(c, ix(1, 7), readyq_result_yielded());
	/* A new generation of every slot (retired ones too), more slots. */
	for (i = 0; i < NR_SLOTS; i += 2)
		reg(c, i, 1);
	for (i = NR_SLOTS; i < NR_SLOTS + NR_NEW; i++)
		reg(c, i, 0);
	reg(c, 3, 0); /* stale when slot 3 moved on, else a register */
	/* Suspend again, then wake everything. */
	n = drain(c, out, 40);
	for (k = 0; k < n; k++)
		complete(c, out[k],
			 readyq_result_suspended(READYQ_SUSPEND_USER,
						 READYQ_RESUME_SIGNAL, 2));
	signal_key(c, 2);
	for (i = 0; i < NR_SLOTS + NR_NEW; i++) {
		resume(c, i, 0);
		resume(c, i, 1);
	}
	/* The end: everything comes out, nothing is left behind. */
	drain_all(c, readyq_result_completed(false));
}

START_TEST(fault_sweep)
{
	enum readyq_backend b = rq_test_backends[_i];
	unsigned long nth, enomem = 0, absorbed = 0;
	struct readyq_config cfg;
	struct readyq_stats st;
	struct readyq *sentinel = (struct readyq *)&cfg;

	readyq_config_init(&cfg);
	cfg.backend = b;
	for (nth = 1;; nth++) {
		struct ctx c;
		int rc;

		memset(&c, 0, sizeof(c));
		mdl_init(&c.m);
		c.nth = nth;
		c.q = sentinel;
		rq_alloc_fail_nth(nth);
		rc = readyq_create(&cfg, &c.q);
		if (rc == -ENOMEM) {
			ck_assert_ptr_eq(c.q, sentinel);
			c.hit = true;
			rq_alloc_fail_nth(0);
			rc = readyq_create(&cfg, &c.q);
		}
		ck_assert_int_eq(rc, 0);
		workload(&c);
		check_model(&c);
		ck_assert_int_eq(readyq_stats(c.q, &st), 0);
		ck_assert_uint_eq(st.queued + st.running + st.suspended +
					  st.delayed,
				  0);
		ck_assert_uint_eq(mdl_ready(&c.m), 0);
		if (!c.hit && rq_alloc_count() < nth) {
			/* The workload never reached allocation nth: done. */
			rq_alloc_fail_nth(0);
			readyq_destroy(c.q);
			mdl_fini(&c.m);
			break;
		}
		if (c.hit)
			enomem++;
		else
			absorbed++;
		rq_alloc_fail_nth(0);
		readyq_destroy(c.q);
		mdl_fini(&c.m);
	}
	ck_assert_uint_gt(enomem, 0);
	printf("faults: %-8s %lu allocations each failed once: %lu gave "
	       "-ENOMEM with the state unchanged, %lu absorbed; nothing lost\n",
	       readyq_backend_name(b), enomem + absorbed, enomem, absorbed);
	fflush(stdout);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("sweep");

	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, fault_sweep, 0, RQ_NR_TEST_BACKENDS);
	suite_add_tcase(s, tc);
	return rq_check_main(s);
}
