// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * state.c - the parts of the state machine (state.h) that are not inline
 */
#include "state.h"
#include "clock.h"

/**
 * rq_park_decode() - where a parking result waits
 * @res: SUSPENDED, or FAILED with a delay (rq_turn_end() said PARK)
 * @park: filled in
 *
 * FAILED with a delay is DELAYED until now + delay.  SUSPENDED waits for
 * its signal key, for now + delay, or (capacity) for readyq_resume() only.
 *
 * Context: any; reads the clock.
 */
void rq_park_decode(const struct readyq_result *res, struct rq_park *park)
{
	park->val = 0;
	if (res->outcome == READYQ_FAILED) {
		park->state = RQ_ST_DELAYED;
		park->kind = RQ_SK_TIMED;
		park->val = rq_deadline_after(rq_now_ns(), res->delay_ns);
		return;
	}
	park->state = RQ_ST_SUSPENDED;
	switch (res->resume_on) {
	case READYQ_RESUME_SIGNAL:
		park->kind = RQ_SK_SIGNAL;
		park->val = res->signal_key;
		break;
	case READYQ_RESUME_AFTER:
		park->kind = RQ_SK_TIMED;
		park->val = rq_deadline_after(rq_now_ns(), res->delay_ns);
		break;
	default:
		park->kind = RQ_SK_CAPACITY;
		break;
	}
}
