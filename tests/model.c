// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * model.c - the reference model of SPEC §2 (see model.h)
 *
 * One record per slot ever named by a call that creates records (register,
 * and complete on an unknown slot, which NEWS says behaves like IDLE);
 * records are found by linear scan and never removed, so a slot keeps its
 * generation.  A QUEUED record carries its FIFO position; a SUSPENDED or
 * DELAYED one what ends it.  Counters follow the kernel-doc of struct
 * readyq_stats:
 *  - registered/duplicates/notified count every register of an index,
 *    including the register that complete() does on an index that is not
 *    RUNNING (ready/yield, the seed's rule);
 *  - unregistered counts unregisters that returned 1;
 *  - completed counts complete() calls that returned 0;
 *  - stale counts calls that returned -ESTALE;
 *  - waits/wakeups/timeouts count mdl_wait0() calls and their outcomes.
 */
#include "model.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum mdl_state { M_IDLE, M_QUEUED, M_RUNNING, M_SUSPENDED, M_DELAYED,
		 M_RETIRED };

enum mdl_wake { W_NONE, W_SIGNAL, W_DUE_NOW, W_NEVER, W_CAPACITY };

struct mdl_slot {
	uint32_t slot, gen;
	enum mdl_state state;
	bool notified; /* RUNNING: registered during the turn */
	uint64_t pos; /* QUEUED: FIFO position */
	enum mdl_wake wake; /* SUSPENDED/DELAYED: what ends it */
	uint64_t key; /* W_SIGNAL: the key; W_DUE_NOW: suspension order */
};

void mdl_init(struct mdl *m)
{
	memset(m, 0, sizeof(*m));
}

void mdl_fini(struct mdl *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static struct mdl_slot *find(struct mdl *m, uint32_t slot)
{
	size_t i;

	for (i = 0; i < m->nr; i++)
		if (m->slots[i].slot == slot)
			return &m->slots[i];
	return NULL;
}

static struct mdl_slot *add(struct mdl *m, struct readyq_index idx)
{
	struct mdl_slot *s;

	if (m->nr == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 16;
		m->slots = realloc(m->slots, m->cap * sizeof(*m->slots));
		if (!m->slots)
			abort();
	}
	s = &m->slots[m->nr++];
	memset(s, 0, sizeof(*s));
	s->slot = idx.slot;
	s->gen = idx.generation;
	s->state = M_IDLE;
	return s;
}

static void to_queued(struct mdl *m, struct mdl_slot *s)
{
	s->state = M_QUEUED;
	s->notified = false;
	s->wake = W_NONE;
	s->pos = m->next_pos++;
}

static void to_idle(struct mdl_slot *s)
{
	s->state = M_IDLE;
	s->notified = false;
	s->wake = W_NONE;
}

/* register on a current, not retired record */
static int do_register(struct mdl *m, struct mdl_slot *s)
{
	switch (s->state) {
	case M_IDLE:
		to_queued(m, s);
		m->st.registered++;
		return 1;
	case M_QUEUED:
		m->st.duplicates++;
		return 0;
	default: /* RUNNING, SUSPENDED, DELAYED */
		s->notified = true;
		m->st.notified++;
		return 0;
	}
}

/* unregister's effect; returns true when something was cancelled */
static bool do_cancel(struct mdl_slot *s)
{
	switch (s->state) {
	case M_QUEUED:
	case M_SUSPENDED:
	case M_DELAYED:
		to_idle(s);
		return true;
	case M_RUNNING:
		to_idle(s);
		return false;
	default:
		return false;
	}
}

int mdl_register(struct mdl *m, struct readyq_index idx)
{
	struct mdl_slot *s;

	if (m->shutdown)
		return -ESHUTDOWN;
	s = find(m, idx.slot);
	if (!s)
		return do_register(m, add(m, idx));
	if (idx.generation < s->gen ||
	    (idx.generation == s->gen && s->state == M_RETIRED)) {
		m->st.stale++;
		return -ESTALE;
	}
	if (idx.generation > s->gen) {
		/* A new mailbox in this slot: forget the old one. */
		to_idle(s);
		s->gen = idx.generation;
	}
	return do_register(m, s);
}

/* The current record of @idx; NULL with *rc = 0 or -ESTALE otherwise. */
static struct mdl_slot *current(struct mdl *m, struct readyq_index idx,
				int *rc)
{
	struct mdl_slot *s = find(m, idx.slot);

	*rc = 0;
	if (!s)
		return NULL;
	if (s->gen != idx.generation || s->state == M_RETIRED) {
		m->st.stale++;
		*rc = -ESTALE;
		return NULL;
	}
	return s;
}

int mdl_unregister(struct mdl *m, struct readyq_index idx)
{
	struct mdl_slot *s;
	int rc;

	s = current(m, idx, &rc);
	if (!s)
		return rc;
	switch (s->state) {
	case M_QUEUED:
	case M_SUSPENDED:
	case M_DELAYED:
		to_idle(s);
		rc = 1;
		break;
	case M_RUNNING:
		rc = s->notified;
		s->notified = false;
		break;
	default:
		rc = 0;
	}
	m->st.unregistered += rc;
	return rc;
}

static bool result_valid(const struct readyq_result *res)
{
	switch (res->outcome) {
	case READYQ_COMPLETED:
	case READYQ_YIELDED:
	case READYQ_FAILED:
	case READYQ_STOPPED:
		return true;
	case READYQ_SUSPENDED:
		return (unsigned int)res->reason <= READYQ_SUSPEND_USER &&
		       (unsigned int)res->resume_on <= READYQ_RESUME_CAPACITY;
	}
	return false;
}

static void suspend(struct mdl *m, struct mdl_slot *s, enum mdl_state state,
		    enum mdl_wake wake, uint64_t key)
{
	s->state = state;
	s->notified = false;
	s->wake = wake;
	s->key = wake == W_DUE_NOW ? m->next_due++ : key;
}

/* The end of a turn: @s is RUNNING. */
static void finish_turn(struct mdl *m, struct mdl_slot *s,
			const struct readyq_result *res)
{
	switch (res->outcome) {
	case READYQ_COMPLETED:
		if (res->ready_hint || s->notified)
			to_queued(m, s);
		else
			to_idle(s);
		break;
	case READYQ_YIELDED:
		to_queued(m, s);
		break;
	case READYQ_FAILED:
		if (res->delay_ns)
			suspend(m, s, M_DELAYED, W_NEVER, 0);
		else if (s->notified)
			to_queued(m, s);
		else
			to_idle(s);
		break;
	case READYQ_SUSPENDED:
		if (res->resume_on == READYQ_RESUME_SIGNAL)
			suspend(m, s, M_SUSPENDED, W_SIGNAL, res->signal_key);
		else if (res->resume_on == READYQ_RESUME_AFTER)
			suspend(m, s, M_SUSPENDED,
				res->delay_ns ? W_NEVER : W_DUE_NOW, 0);
		else
			suspend(m, s, M_SUSPENDED, W_CAPACITY, 0);
		break;
	case READYQ_STOPPED:
		to_idle(s);
		s->state = M_RETIRED;
		break;
	}
}

/* complete() on an index that is not RUNNING: the seed's rules. */
static void outside_turn(struct mdl *m, struct mdl_slot *s,
			 const struct readyq_result *res)
{
	switch (res->outcome) {
	case READYQ_COMPLETED:
		if (res->ready_hint)
			do_register(m, s);
		else
			do_cancel(s);
		break;
	case READYQ_YIELDED:
		do_register(m, s);
		break;
	case READYQ_SUSPENDED:
	case READYQ_FAILED:
		do_cancel(s);
		break;
	case READYQ_STOPPED:
		do_cancel(s);
		s->state = M_RETIRED;
		break;
	}
}

int mdl_complete(struct mdl *m, struct readyq_index idx,
		 const struct readyq_result *res)
{
	struct mdl_slot *s;

	if (!res || !result_valid(res))
		return -EINVAL;
	s = find(m, idx.slot);
	if (!s) {
		s = add(m, idx); /* an unknown slot behaves as IDLE */
	} else if (s->gen != idx.generation || s->state == M_RETIRED) {
		m->st.stale++;
		return -ESTALE;
	}
	if (s->state == M_RUNNING)
		finish_turn(m, s, res);
	else
		outside_turn(m, s, res);
	m->st.completed++;
	return 0;
}

int mdl_resume(struct mdl *m, struct readyq_index idx)
{
	struct mdl_slot *s;
	int rc;

	s = current(m, idx, &rc);
	if (!s)
		return rc;
	if (s->state != M_SUSPENDED && s->state != M_DELAYED)
		return 0;
	to_queued(m, s);
	return 1;
}

int mdl_resume_signal(struct mdl *m, uint64_t key)
{
	uint64_t pos = m->next_pos;
	size_t i;
	int n = 0;

	/* All of them at once: one shared FIFO position (see model.h). */
	for (i = 0; i < m->nr; i++) {
		struct mdl_slot *s = &m->slots[i];

		if (s->state != M_SUSPENDED || s->wake != W_SIGNAL ||
		    s->key != key)
			continue;
		to_queued(m, s);
		s->pos = pos;
		n++;
	}
	m->next_pos = pos + 1;
	return n;
}

static size_t count(const struct mdl *m, enum mdl_state state,
		    enum mdl_wake wake)
{
	size_t i, n = 0;

	for (i = 0; i < m->nr; i++)
		if (m->slots[i].state == state &&
		    (wake == W_NONE || m->slots[i].wake == wake))
			n++;
	return n;
}

size_t mdl_ready(const struct mdl *m)
{
	return count(m, M_QUEUED, W_NONE) +
	       count(m, M_SUSPENDED, W_DUE_NOW);
}

int mdl_poll_signal(struct mdl *m)
{
	if (m->shutdown)
		return -ESHUTDOWN;
	return mdl_ready(m) ? 1 : 0;
}

int mdl_wait0(struct mdl *m)
{
	m->st.waits++;
	if (m->shutdown)
		return -ESHUTDOWN;
	if (mdl_ready(m)) {
		m->st.wakeups++;
		return 0;
	}
	m->st.timeouts++;
	return -ETIMEDOUT;
}

void mdl_shutdown(struct mdl *m)
{
	m->shutdown = true;
}

/* Queue every due index, in the order they were suspended. */
static void move_due(struct mdl *m)
{
	for (;;) {
		struct mdl_slot *first = NULL;
		size_t i;

		for (i = 0; i < m->nr; i++) {
			struct mdl_slot *s = &m->slots[i];

			if (s->state == M_SUSPENDED && s->wake == W_DUE_NOW &&
			    (!first || s->key < first->key))
				first = s;
		}
		if (!first)
			return;
		to_queued(m, first);
	}
}

const char *mdl_drain_check(struct mdl *m, bool out_null, size_t max,
			    ssize_t got, const struct readyq_index *out)
{
	size_t want, k, i;

	if (out_null || !max)
		return got == -EINVAL ? NULL : "drain: bad arguments not -EINVAL";
	move_due(m);
	want = count(m, M_QUEUED, W_NONE);
	if (want > max)
		want = max;
	if (got < 0 || (size_t)got != want)
		return "drain: wrong count";
	for (k = 0; k < want; k++) {
		struct mdl_slot *first = NULL, *s = find(m, out[k].slot);

		for (i = 0; i < m->nr; i++)
			if (m->slots[i].state == M_QUEUED &&
			    (!first || m->slots[i].pos < first->pos))
				first = &m->slots[i];
		if (!s || s->state != M_QUEUED || s->gen != out[k].generation)
			return "drain: returned an index that is not QUEUED";
		if (s->pos != first->pos)
			return "drain: not in FIFO order";
		s->state = M_RUNNING;
		s->notified = false;
		m->st.drained++;
	}
	return NULL;
}

void mdl_stats(const struct mdl *m, struct readyq_stats *st)
{
	*st = m->st;
	st->queued = count(m, M_QUEUED, W_NONE);
	st->running = count(m, M_RUNNING, W_NONE);
	st->suspended = count(m, M_SUSPENDED, W_NONE);
	st->delayed = count(m, M_DELAYED, W_NONE);
}

bool mdl_nth_running(const struct mdl *m, unsigned int k,
		     struct readyq_index *idx)
{
	size_t i, n = 0;

	for (i = 0; i < m->nr; i++)
		if (m->slots[i].state == M_RUNNING && n++ == k) {
			idx->slot = m->slots[i].slot;
			idx->generation = m->slots[i].gen;
			return true;
		}
	return false;
}
