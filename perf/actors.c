// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * actors.c - readyq-bench actors: Savina-style workloads on the example
 * actor runtime (examples/actors/)
 *
 * Overview
 * --------
 * Four classic actor benchmarks, each run on a fresh runtime of W workers
 * for every backend; perf/caf/caf-bench.cpp runs the same ones on CAF:
 *
 *  - fanin-A: 2 sender threads (outside the runtime) x N messages, sender
 *    s sends its i-th message to actor (i + s * A / 2) mod A; A = 64,
 *    1024, 65536.  N = 1M at scale 1.
 *  - pingpong-P: P pairs; a token goes ping -> pong -> ping, R round
 *    trips per pair (2R messages).  P = 1, 16; R = 100k.
 *  - ring-T: 1,000 actors in a ring, T tokens (T = 1, 64) that hop H
 *    times in all (H / T each).  H = 1M.
 *  - forkjoin-N: one root actor sends one message to each of N actors
 *    and waits for all N replies; 10 rounds.  N = 10k, 100k.
 *
 * Messages are intrusive and recycled (a token is sent on by the handler
 * that received it; fan-in's 2N messages are preallocated): the runtime
 * allocates nothing per message.
 *
 * Every run checks exact accounting and exclusivity:
 *  - each message carries a sequence number that its receiver checks
 *    (fan-in: per sender and actor; ping-pong and ring: per token;
 *    fork-join: per round), so a lost, duplicated or reordered delivery
 *    is counted as an error;
 *  - the runtime's delivered count equals the messages the workload sent;
 *  - the runtime's overlap count (a turn that found its actor already in
 *    a turn) is 0;
 *  - a run that does not finish in 60 s is STUCK (a lost wake-up).
 *
 * Reported: messages/s (first send to last delivery), CPU ns per message
 * (getrusage user + sys of the process over the same window: workers,
 * senders and idle polling included), readyq_wait() calls per message.
 */
#include "bench.h"
#include "../examples/actors/actors.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define AB_STUCK_NS 60000000000ull
#define AB_MAX_ROUNDS 32
#define AB_MAX_W 8

enum ab_kind { AB_FANIN, AB_PINGPONG, AB_RING, AB_FORKJOIN };

struct ab_bench {
	const char *name;
	enum ab_kind kind;
	unsigned long param;
};

static const struct ab_bench ab_benches[] = {
	{ "fanin-64", AB_FANIN, 64 },
	{ "fanin-1024", AB_FANIN, 1024 },
	{ "fanin-65536", AB_FANIN, 65536 },
	{ "pingpong-1", AB_PINGPONG, 1 },
	{ "pingpong-16", AB_PINGPONG, 16 },
	{ "ring-1", AB_RING, 1 },
	{ "ring-64", AB_RING, 64 },
	{ "forkjoin-10k", AB_FORKJOIN, 10000 },
	{ "forkjoin-100k", AB_FORKJOIN, 100000 },
};
#define AB_NR_BENCHES (sizeof(ab_benches) / sizeof(ab_benches[0]))
#define RING_ACTORS 1000

/**
 * struct ab_latch - the main thread waits here for the workload's end
 * @left: count-down; the thread that takes it to 0 wakes the main thread
 */
struct ab_latch {
	atomic_long left;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int done;
};

static void latch_init(struct ab_latch *l, long n)
{
	atomic_init(&l->left, n);
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->cv, NULL);
	l->done = 0;
}

static void latch_down(struct ab_latch *l)
{
	if (atomic_fetch_sub(&l->left, 1) != 1)
		return;
	pthread_mutex_lock(&l->mu);
	l->done = 1;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
}

/* 0, or -ETIMEDOUT after @ns */
static int latch_wait(struct ab_latch *l, uint64_t ns)
{
	struct timespec ts;
	int rc = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += (time_t)(ns / 1000000000ull);
	pthread_mutex_lock(&l->mu);
	while (!l->done && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	rc = l->done ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&l->mu);
	return rc;
}

static void latch_destroy(struct ab_latch *l)
{
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cv);
}

/**
 * struct ab_msg - every message of every workload
 * @m: the runtime's part
 * @kind: fork-join: 0 = request or go, 1 = reply
 * @from: fan-in: the sender
 * @seq: the sequence number the receiver checks
 * @left: ring: hops left
 */
struct ab_msg {
	struct actor_msg m;
	uint32_t kind;
	uint32_t from;
	uint64_t seq;
	uint64_t left;
};

/**
 * struct ab_run - one run of one workload on one runtime
 * @sys: the runtime
 * @done: count-down to the end
 * @bad: sequence errors seen by handlers
 * @expect: deliveries the workload makes in all
 * @n: per-workload size (messages per sender, round trips, hops, rounds)
 * @nr: actors
 * @actors: the actors, spawn order
 * @st: per-actor state, @nr of them
 * @msgs: preallocated messages
 * @start: fan-in: the senders wait here for the clock to start
 */
struct ab_run {
	struct actors *sys;
	struct ab_latch done;
	atomic_long bad;
	uint64_t expect;
	uint64_t n;
	unsigned long param;
	size_t nr;
	struct actor **actors;
	struct ab_state *st;
	struct ab_msg *msgs;
	pthread_barrier_t start;
};

/**
 * struct ab_state - per-actor state (one layout for all workloads)
 * @run: the run
 * @next: fan-in: next sequence number per sender; ping-pong: per
 *	direction; ring: unused; fork-join: rounds seen
 * @got: deliveries
 * @expect: fan-in: deliveries this actor must get
 * @peer: ping-pong: the other actor; ring: the next; fork-join: the root
 * @req: fork-join: the request message the root sends to this actor
 * @rep: fork-join: the reply this actor sends to the root
 */
struct ab_state {
	struct ab_run *run;
	uint64_t next[2];
	uint64_t got;
	uint64_t expect;
	struct actor *peer;
	struct ab_msg req, rep;
};

static void ab_bad(struct ab_run *r)
{
	atomic_fetch_add_explicit(&r->bad, 1, memory_order_relaxed);
}

/* ---- fan-in ---- */

static void fanin_receive(struct actor *self, struct actor_msg *m)
{
	struct ab_state *s = actors_state(self);
	struct ab_msg *msg = caa_container_of(m, struct ab_msg, m);

	if (msg->seq != s->next[msg->from])
		ab_bad(s->run);
	s->next[msg->from] = msg->seq + 1;
	if (++s->got == s->expect)
		latch_down(&s->run->done);
	else if (s->got > s->expect)
		ab_bad(s->run);
}

struct fanin_arg {
	struct ab_run *r;
	uint32_t id;
	pthread_t t;
};

static size_t fanin_dest(const struct ab_run *r, uint32_t sender, uint64_t i)
{
	return (size_t)((i + sender * (r->nr / 2)) % r->nr);
}

static void *fanin_sender(void *p)
{
	struct fanin_arg *a = p;
	struct ab_run *r = a->r;
	struct ab_msg *msgs = r->msgs + (size_t)a->id * r->n;
	uint64_t *seq = calloc(r->nr, sizeof(*seq));
	uint64_t i;
	size_t d;

	if (!seq)
		abort();
	pthread_barrier_wait(&r->start);
	for (i = 0; i < r->n; i++) {
		d = fanin_dest(r, a->id, i);
		msgs[i].from = a->id;
		msgs[i].seq = seq[d]++;
		if (actors_send(r->actors[d], &msgs[i].m) < 0)
			ab_bad(r);
	}
	free(seq);
	return NULL;
}

/* ---- ping-pong ---- */

/*
 * The token's seq is the round trip it is on; ping checks it and sends
 * it on until n round trips are done, pong checks it and returns it.
 */
static void ping_receive(struct actor *self, struct actor_msg *m)
{
	struct ab_state *s = actors_state(self);
	struct ab_msg *msg = caa_container_of(m, struct ab_msg, m);

	s->got++;
	if (msg->seq != s->next[0])
		ab_bad(s->run);
	if (msg->seq == s->run->n) {
		latch_down(&s->run->done);
		return;
	}
	s->next[0] = msg->seq + 1;
	if (actors_send(s->peer, m) < 0)
		ab_bad(s->run);
}

static void pong_receive(struct actor *self, struct actor_msg *m)
{
	struct ab_state *s = actors_state(self);
	struct ab_msg *msg = caa_container_of(m, struct ab_msg, m);

	s->got++;
	if (msg->seq != s->next[0])
		ab_bad(s->run);
	s->next[0] = ++msg->seq;
	if (actors_send(s->peer, m) < 0)
		ab_bad(s->run);
}

/* ---- thread ring ---- */

static void ring_receive(struct actor *self, struct actor_msg *m)
{
	struct ab_state *s = actors_state(self);
	struct ab_msg *msg = caa_container_of(m, struct ab_msg, m);

	s->got++;
	if (msg->seq != msg->left)	/* seq mirrors left: a cheap check */
		ab_bad(s->run);
	if (!msg->left) {
		latch_down(&s->run->done);
		return;
	}
	msg->left--;
	msg->seq--;
	if (actors_send(s->peer, m) < 0)
		ab_bad(s->run);
}

/* ---- fork-join ---- */

static void fj_fanout(struct ab_run *r, uint64_t round)
{
	size_t i;

	for (i = 1; i < r->nr; i++) {
		r->st[i].req.seq = round;
		if (actors_send(r->actors[i], &r->st[i].req.m) < 0)
			ab_bad(r);
	}
}

/* actor 0: the root; next[0] = current round, got = replies this round */
static void fj_root_receive(struct actor *self, struct actor_msg *m)
{
	struct ab_state *s = actors_state(self);
	struct ab_run *r = s->run;
	struct ab_msg *msg = caa_container_of(m, struct ab_msg, m);

	if (msg->kind == 0) {		/* go */
		s->next[0] = 0;
		s->got = 0;
		fj_fanout(r, 0);
		return;
	}
	if (msg->seq != s->next[0])
		ab_bad(r);
	if (++s->got < r->nr - 1)
		return;
	s->got = 0;
	if (++s->next[0] == r->n) {
		latch_down(&r->done);
		return;
	}
	fj_fanout(r, s->next[0]);
}

static void fj_leaf_receive(struct actor *self, struct actor_msg *m)
{
	struct ab_state *s = actors_state(self);
	struct ab_msg *msg = caa_container_of(m, struct ab_msg, m);

	if (msg->seq != s->next[0])
		ab_bad(s->run);
	s->next[0]++;
	s->got++;
	s->rep.seq = msg->seq;
	if (actors_send(s->peer, &s->rep.m) < 0)
		ab_bad(s->run);
}

/* ---- one run ---- */

/**
 * struct ab_result - what one run measured
 * @msgs_s: deliveries per second
 * @cpu_ns: process CPU ns (user + sys) per delivery
 * @waits: readyq_wait() calls per delivery
 * @wall_s: seconds
 * @errors: failed checks (0 = exact)
 * @stuck: did not finish
 */
struct ab_result {
	double msgs_s, cpu_ns, waits, wall_s;
	long errors;
	bool stuck;
};

static uint64_t cpu_ns_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		       1000000000ull +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static uint64_t scaled(double scale, uint64_t full, uint64_t min)
{
	uint64_t v = (uint64_t)llround((double)full * scale);

	return v < min ? min : v;
}

static int ab_setup(struct ab_run *r, const struct ab_bench *b, double scale)
{
	actor_receive_fn fn;
	size_t i;

	switch (b->kind) {
	case AB_FANIN:
		r->nr = b->param;
		r->n = scaled(scale, 1000000, 1);
		r->expect = 2 * r->n;
		break;
	case AB_PINGPONG:
		r->nr = 2 * b->param;
		r->n = scaled(scale, 100000, 1);
		/* n round trips = 2n deliveries, + the start message */
		r->expect = b->param * (2 * r->n + 1);
		break;
	case AB_RING:
		r->nr = RING_ACTORS;
		r->n = scaled(scale, 1000000, b->param) / b->param;
		/* each token: n hops, n + 1 deliveries */
		r->expect = b->param * (r->n + 1);
		break;
	case AB_FORKJOIN:
		r->nr = b->param + 1;
		r->n = scaled(scale, 10, 1);
		r->expect = 1 + 2 * r->n * b->param;
		break;
	}
	r->param = b->param;
	r->actors = calloc(r->nr, sizeof(*r->actors));
	r->st = calloc(r->nr, sizeof(*r->st));
	if (!r->actors || !r->st)
		return -ENOMEM;
	if (b->kind == AB_FANIN || b->kind == AB_PINGPONG ||
	    b->kind == AB_RING) {
		size_t nm = b->kind == AB_FANIN ? 2 * r->n : b->param;

		r->msgs = calloc(nm, sizeof(*r->msgs));
		if (!r->msgs)
			return -ENOMEM;
	}
	for (i = 0; i < r->nr; i++) {
		r->st[i].run = r;
		switch (b->kind) {
		case AB_FANIN:
			fn = fanin_receive;
			break;
		case AB_PINGPONG:
			fn = i % 2 ? pong_receive : ping_receive;
			break;
		case AB_RING:
			fn = ring_receive;
			break;
		default:
			fn = i ? fj_leaf_receive : fj_root_receive;
			r->st[i].rep.kind = 1;
			break;
		}
		r->actors[i] = actors_spawn(r->sys, fn, &r->st[i]);
		if (!r->actors[i])
			return -ENOMEM;
	}
	for (i = 0; i < r->nr; i++) {
		switch (b->kind) {
		case AB_FANIN: {
			/* how many of each sender's n messages land here */
			uint64_t k, q = r->n / r->nr, rem = r->n % r->nr;

			r->st[i].expect = 0;
			for (k = 0; k < 2; k++) {
				size_t off = (size_t)k * (r->nr / 2);
				size_t pos = (i + r->nr - off) % r->nr;

				r->st[i].expect += q + (pos < rem);
			}
			break;
		}
		case AB_PINGPONG:
			r->st[i].peer = r->actors[i ^ 1];
			break;
		case AB_RING:
			r->st[i].peer = r->actors[(i + 1) % r->nr];
			break;
		case AB_FORKJOIN:
			r->st[i].peer = r->actors[0];
			break;
		}
	}
	switch (b->kind) {
	case AB_FANIN: {
		/* at small scales some actors get nothing: not waited for */
		long busy = 0;

		for (i = 0; i < r->nr; i++)
			busy += r->st[i].expect > 0;
		latch_init(&r->done, busy);
		break;
	}
	case AB_PINGPONG:
	case AB_RING:
		latch_init(&r->done, (long)b->param);
		break;
	case AB_FORKJOIN:
		latch_init(&r->done, 1);
		break;
	}
	return 0;
}

/* Sends the first messages; the clock is running. */
static void ab_kick(struct ab_run *r, const struct ab_bench *b)
{
	size_t i;

	switch (b->kind) {
	case AB_FANIN:
		pthread_barrier_wait(&r->start);
		break;
	case AB_PINGPONG:
		for (i = 0; i < b->param; i++) {
			r->msgs[i].seq = 0;
			if (actors_send(r->actors[2 * i], &r->msgs[i].m) < 0)
				ab_bad(r);
		}
		break;
	case AB_RING:
		for (i = 0; i < b->param; i++) {
			r->msgs[i].seq = r->msgs[i].left = r->n;
			if (actors_send(r->actors[i * RING_ACTORS / b->param],
					&r->msgs[i].m) < 0)
				ab_bad(r);
		}
		break;
	case AB_FORKJOIN:
		if (actors_send(r->actors[0], &r->st[0].req.m) < 0)
			ab_bad(r);
		break;
	}
}

/* After the run: every actor got exactly what it should. */
static long ab_verify(struct ab_run *r, const struct ab_bench *b)
{
	long bad = 0;
	size_t i;

	for (i = 0; i < r->nr; i++) {
		const struct ab_state *s = &r->st[i];

		switch (b->kind) {
		case AB_FANIN:
			bad += s->got != s->expect;
			break;
		case AB_PINGPONG:
			/* ping: n + 1 deliveries, pong: n */
			bad += s->got != r->n + !(i % 2);
			break;
		case AB_FORKJOIN:
			bad += i && s->got != r->n;
			break;
		case AB_RING:
			break;
		}
	}
	return bad;
}

static int ab_once(const struct ab_bench *b, enum readyq_backend be,
		   unsigned long workers, double scale, int fault,
		   struct ab_result *out)
{
	struct fanin_arg senders[2];
	struct actors_config cfg;
	struct actors_stats ast;
	struct readyq_stats qst;
	struct ab_run r;
	uint64_t t0, c0, t1, c1;
	int rc, i;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	atomic_init(&r.bad, 0);
	actors_config_init(&cfg);
	cfg.backend = be;
	cfg.workers = (unsigned int)workers;
	cfg.max_actors = b->kind == AB_PINGPONG ? 2 * b->param :
			 b->kind == AB_RING     ? RING_ACTORS :
			 b->kind == AB_FORKJOIN ? b->param + 1 :
						  b->param;
	rc = actors_create(&cfg, &r.sys);
	if (rc < 0)
		return rc;
	rc = ab_setup(&r, b, scale);
	if (rc < 0)
		goto out;
	if (b->kind == AB_FANIN) {
		pthread_barrier_init(&r.start, NULL, 3);
		for (i = 0; i < 2; i++) {
			senders[i].r = &r;
			senders[i].id = (uint32_t)i;
			pthread_create(&senders[i].t, NULL, fanin_sender,
				       &senders[i]);
		}
	}
	rc = actors_start(r.sys);
	if (rc < 0)
		goto out;

	c0 = cpu_ns_now();
	t0 = now_ns();
	ab_kick(&r, b);
	out->stuck = latch_wait(&r.done, AB_STUCK_NS) < 0;
	t1 = now_ns();
	c1 = cpu_ns_now();

	if (b->kind == AB_FANIN) {
		for (i = 0; i < 2; i++)
			pthread_join(senders[i].t, NULL);
		pthread_barrier_destroy(&r.start);
	}
	readyq_stats(actors_readyq(r.sys), &qst);
	actors_stop(r.sys);
	actors_join(r.sys);
	actors_stats(r.sys, &ast);

	if (fault && r.nr > 1) /* --fault: prove the checks catch a loss */
		r.st[1].got--;
	out->errors = atomic_load(&r.bad) + ab_verify(&r, b) +
		      (long)ast.overlaps + (long)ast.errors +
		      (ast.delivered != r.expect) + out->stuck;
	if (out->errors)
		fprintf(stderr,
			"readyq-bench: actors %s %s W=%lu: %ld errors "
			"(sequence %ld, delivered %llu of %llu, overlaps %llu, "
			"call errors %llu%s)\n",
			b->name, readyq_backend_name(be), workers, out->errors,
			atomic_load(&r.bad), (unsigned long long)ast.delivered,
			(unsigned long long)r.expect,
			(unsigned long long)ast.overlaps,
			(unsigned long long)ast.errors,
			out->stuck ? ", STUCK" : "");
	out->wall_s = (double)(t1 - t0) / 1e9;
	out->msgs_s = (double)r.expect / out->wall_s;
	out->cpu_ns = (double)(c1 - c0) / (double)r.expect;
	out->waits = (double)qst.waits / (double)r.expect;
	latch_destroy(&r.done);
out:
	actors_destroy(r.sys);
	free(r.actors);
	free(r.st);
	free(r.msgs);
	return rc;
}

static const struct ab_bench *ab_find(const char *name)
{
	size_t i;

	for (i = 0; i < AB_NR_BENCHES; i++)
		if (!strcmp(ab_benches[i].name, name))
			return &ab_benches[i];
	return NULL;
}

static bool ab_bench_selected(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

#define AB_NR_BE 3
static const enum readyq_backend ab_bes[AB_NR_BE] = {
	READYQ_BACKEND_LOCKED, READYQ_BACKEND_LOCKFREE, READYQ_BACKEND_ADAPTIVE
};

/**
 * struct ab_cells - results of every run, by benchmark, W and backend
 * @rate: msgs/s per round
 * @cpu: CPU ns per message per round
 * @bad: failed checks over the rounds
 */
struct ab_cells {
	double rate[AB_NR_BENCHES][AB_MAX_W][AB_NR_BE][AB_MAX_ROUNDS];
	double cpu[AB_NR_BENCHES][AB_MAX_W][AB_NR_BE][AB_MAX_ROUNDS];
	long bad[AB_NR_BENCHES][AB_MAX_W][AB_NR_BE];
};

/* One run of benchmark @bi at W = worker_list[@wi] on backend @k. */
static void ab_cell_run(const struct bq_opts *o, struct ab_cells *c,
			size_t bi, size_t wi, size_t k, unsigned long rnd)
{
	const struct ab_bench *b = &ab_benches[bi];
	unsigned long w = o->worker_list[wi];
	const char *name = readyq_backend_name(ab_bes[k]);
	double scale = o->scale > 0 ? o->scale : 1.0;
	struct ab_result res;
	int rc;

	rc = ab_once(b, ab_bes[k], w, scale, o->fault, &res);
	if (rc < 0) {
		if (rnd == 0 && rc == -ENOTSUP)
			printf("%s %lu %s n/a (not built)\n", b->name, w, name);
		c->bad[bi][wi][k] += rc != -ENOTSUP;
		return;
	}
	c->rate[bi][wi][k][rnd] = res.msgs_s;
	c->cpu[bi][wi][k][rnd] = res.cpu_ns;
	c->bad[bi][wi][k] += res.errors;
	if (o->raw)
		printf("%s %lu %s %.0f %.1f %.3f %.4f %s\n", b->name, w, name,
		       res.msgs_s, res.cpu_ns, res.waits, res.wall_s,
		       res.errors ? "FAILED" : "ok");
	fflush(stdout);
}

/* The median line of one cell (and its CSV row). */
static void ab_cell_report(const struct bq_opts *o, struct ab_cells *c,
			   size_t bi, size_t wi, size_t k, unsigned long rounds,
			   FILE *csv)
{
	const char *check = c->bad[bi][wi][k] ? "FAILED" : "ok";
	double *rate = c->rate[bi][wi][k];
	double lo = rate[0], hi = rate[0], med, cmed;
	unsigned long rnd;

	for (rnd = 1; rnd < rounds; rnd++) {
		lo = rate[rnd] < lo ? rate[rnd] : lo;
		hi = rate[rnd] > hi ? rate[rnd] : hi;
	}
	med = bq_median(rate, rounds);
	cmed = bq_median(c->cpu[bi][wi][k], rounds);
	printf("%s %lu %s %.0f %.2f %.1f %s\n", ab_benches[bi].name,
	       o->worker_list[wi], readyq_backend_name(ab_bes[k]), med,
	       hi / lo, cmed, check);
	if (csv)
		fprintf(csv, "%s,%lu,%s,%.0f,%.3f,%.1f,%s\n",
			ab_benches[bi].name, o->worker_list[wi],
			readyq_backend_name(ab_bes[k]), med, hi / lo, cmed,
			check);
}

/* Does the user want benchmark @bi on backend @k? */
static bool ab_wanted(const struct bq_opts *o, size_t bi, size_t k)
{
	return ab_bench_selected(o->bench, ab_benches[bi].name) &&
	       bq_selected(o, readyq_backend_name(ab_bes[k]));
}

/* Every name in --bench is a benchmark. */
static bool ab_bench_list_ok(const char *list)
{
	char *copy, *save = NULL, *t;
	bool ok = true;

	if (!list)
		return true;
	copy = strdup(list);
	if (!copy)
		return false;
	for (t = strtok_r(copy, ",", &save); t && ok;
	     t = strtok_r(NULL, ",", &save))
		if (!ab_find(t)) {
			fprintf(stderr, "readyq-bench: no benchmark %s\n", t);
			ok = false;
		}
	free(copy);
	return ok;
}

/**
 * bench_actors() - readyq-bench actors
 * @o: the options: --only (backends), --workers (list), --rounds,
 *	--scale, --bench, --raw, --fault
 *
 * Interleaved: per round, per benchmark, per W, every backend in a
 * rotating order.  Prints one line per run with --raw, else per cell the
 * median msgs/s, the spread (max / min) of the rounds and the median CPU
 * ns per message.
 *
 * Return: 0 when every run was exact, 1 if any check failed, 2 on bad
 * options.
 */
int bench_actors(const struct bq_opts *o)
{
	static struct ab_cells c;
	unsigned long rounds = o->rounds ? o->rounds : 1, rnd;
	size_t bi, wi, k, j, step = 0, total;
	bool any_bad = false;
	FILE *csv;

	if (rounds > AB_MAX_ROUNDS || o->nr_workers > AB_MAX_W ||
	    !ab_bench_list_ok(o->bench))
		return 2;
	for (wi = 0; wi < o->nr_workers; wi++)
		if (o->worker_list[wi] > 256)
			return 2;
	memset(&c, 0, sizeof(c));
	total = AB_NR_BENCHES * o->nr_workers * AB_NR_BE * rounds;
	csv = bq_csv_open(o, "bench,workers,variant,msgs_per_s,spread,"
			     "cpu_ns_per_msg,check");
	printf("# actors: scale %g, %lu round(s), workers %s; %s\n",
	       o->scale > 0 ? o->scale : 1.0, rounds,
	       o->workers_text ? o->workers_text : "2,4",
	       o->raw ? "bench W variant msgs_per_s cpu_ns_per_msg "
			"waits_per_msg wall_s check" :
			"bench W variant median_msgs_per_s spread "
			"median_cpu_ns_per_msg check");
	for (rnd = 0; rnd < rounds; rnd++)
		for (bi = 0; bi < AB_NR_BENCHES; bi++)
			for (wi = 0; wi < o->nr_workers; wi++)
				for (j = 0; j < AB_NR_BE; j++) {
					k = (j + rnd + bi) % AB_NR_BE;
					if (!ab_wanted(o, bi, k))
						continue;
					ab_cell_run(o, &c, bi, wi, k, rnd);
					bq_progress("actors", ++step, total);
				}
	bq_progress_end();
	for (bi = 0; bi < AB_NR_BENCHES; bi++)
		for (wi = 0; wi < o->nr_workers; wi++)
			for (k = 0; k < AB_NR_BE; k++) {
				if (!ab_wanted(o, bi, k))
					continue;
				any_bad |= c.bad[bi][wi][k] != 0;
				if (!o->raw && c.rate[bi][wi][k][0])
					ab_cell_report(o, &c, bi, wi, k, rounds,
						       csv);
			}
	if (csv)
		fclose(csv);
	return any_bad ? 1 : 0;
}
