// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * header-use.c - <readyq/readyq.h> as C and as C++ (tests/header.sh)
 *
 * Valid C99 and C++11 both: includes the public header, builds every
 * result with its constructor, checks every member, and prints the size
 * and member offsets of the structures, which header.sh compares across
 * languages, standards and compilers (the ABI must not depend on them).
 * Exit status 0 when every member holds what the constructor promises.
 */
#include <readyq/readyq.h>

#include <stddef.h>
#include <stdio.h>

static int failed;

static void expect(int ok, const char *what)
{
	if (!ok) {
		printf("header-use: wrong %s\n", what);
		failed = 1;
	}
}

/* Every member but the outcome is 0. */
static int is_zero(const struct readyq_result *r)
{
	return !r->ready_hint && r->reason == 0 && r->resume_on == 0 &&
	       r->signal_key == 0 && r->delay_ns == 0 && r->error == 0;
}

int main(void)
{
	struct readyq_result r;

	r = readyq_result_completed(true);
	expect(r.outcome == READYQ_COMPLETED && r.ready_hint, "completed");
	r.ready_hint = false;
	expect(is_zero(&r), "completed (other members)");

	r = readyq_result_yielded();
	expect(r.outcome == READYQ_YIELDED && is_zero(&r), "yielded");

	r = readyq_result_suspended(READYQ_SUSPEND_RATE_LIMIT,
				    READYQ_RESUME_SIGNAL, 77);
	expect(r.outcome == READYQ_SUSPENDED &&
		       r.reason == READYQ_SUSPEND_RATE_LIMIT &&
		       r.resume_on == READYQ_RESUME_SIGNAL &&
		       r.signal_key == 77 && r.delay_ns == 0 && r.error == 0 &&
		       !r.ready_hint,
	       "suspended on a signal");

	r = readyq_result_suspended(READYQ_SUSPEND_USER, READYQ_RESUME_AFTER,
				    5000);
	expect(r.outcome == READYQ_SUSPENDED &&
		       r.reason == READYQ_SUSPEND_USER &&
		       r.resume_on == READYQ_RESUME_AFTER &&
		       r.signal_key == 0 && r.delay_ns == 5000,
	       "suspended for a delay");

	r = readyq_result_suspended(READYQ_SUSPEND_BACKPRESSURE,
				    READYQ_RESUME_CAPACITY, 9);
	expect(r.outcome == READYQ_SUSPENDED &&
		       r.resume_on == READYQ_RESUME_CAPACITY &&
		       r.signal_key == 0 && r.delay_ns == 0,
	       "suspended on capacity");

	r = readyq_result_failed(-5, 1000);
	expect(r.outcome == READYQ_FAILED && r.error == -5 &&
		       r.delay_ns == 1000 && r.signal_key == 0 &&
		       !r.ready_hint,
	       "failed");

	r = readyq_result_stopped();
	expect(r.outcome == READYQ_STOPPED && is_zero(&r), "stopped");

	printf("layout result %zu %zu %zu %zu %zu %zu %zu %zu\n",
	       sizeof(struct readyq_result),
	       offsetof(struct readyq_result, outcome),
	       offsetof(struct readyq_result, ready_hint),
	       offsetof(struct readyq_result, reason),
	       offsetof(struct readyq_result, resume_on),
	       offsetof(struct readyq_result, signal_key),
	       offsetof(struct readyq_result, delay_ns),
	       offsetof(struct readyq_result, error));
	printf("layout config %zu %zu %zu index %zu stats %zu %zu\n",
	       sizeof(struct readyq_config),
	       offsetof(struct readyq_config, capacity_hint),
	       offsetof(struct readyq_config, flags),
	       sizeof(struct readyq_index), sizeof(struct readyq_stats),
	       offsetof(struct readyq_stats, active));
	return failed;
}
