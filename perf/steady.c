// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * steady.c - a long-lived queue under producers and workers
 *
 * Overview
 * --------
 * P producers send messages to M mailboxes chosen at random (xorshift, as
 * in the Rust replica's steady mode): a per-mailbox atomic counter +1,
 * then register, so most registers are duplicates of a QUEUED or RUNNING
 * mailbox, as real mailboxes get.  W workers sleep in wait, drain batches
 * of 32, take up to 32 messages per turn and complete with YIELDED when
 * messages are left, else COMPLETED(false).
 *
 * Reported per variant and M: messages/s (first send to last message
 * taken), registers/s (over the producers' own run, workers competing),
 * and the check: every sent message taken exactly once, no mailbox run by
 * two workers at once (double turns), no failed call, and nothing left
 * behind (a lost wake-up shows as a run that never finishes: after 20 s
 * the run is stopped and reported "STUCK").  Rounds are interleaved
 * across variants and the median is printed.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define MAX_THREADS 64
#define STUCK_NS 20000000000ull

struct steady_run {
	const struct bq_variant *v;
	void *h;
	unsigned long mailboxes, per_producer;
	_Atomic long *pending;
	_Atomic int *in_turn;
	_Atomic long taken;
	_Atomic long doubles;
	_Atomic long errors;
	_Atomic long turns;
};

struct steady_arg {
	struct steady_run *r;
	unsigned long id;
};

static void *steady_worker(void *p)
{
	struct steady_run *r = ((struct steady_arg *)p)->r;
	struct readyq_index batch[32];
	struct readyq_result res;
	long have, take, turns = 0;
	ssize_t n, i;
	uint32_t m;

	while (r->v->wait(r->h, -1) == 0) {
		n = r->v->drain(r->h, batch, 32);
		if (n < 0) {
			atomic_fetch_add(&r->errors, 1);
			continue;
		}
		for (i = 0; i < n; i++) {
			m = batch[i].slot;
			if (atomic_fetch_add(&r->in_turn[m], 1))
				atomic_fetch_add(&r->doubles, 1);
			have = atomic_load(&r->pending[m]);
			take = have < 32 ? have : 32;
			atomic_fetch_sub(&r->pending[m], take);
			atomic_fetch_add(&r->taken, take);
			atomic_fetch_sub(&r->in_turn[m], 1);
			res = have > take ? readyq_result_yielded() :
					    readyq_result_completed(false);
			if (r->v->complete(r->h, batch[i], &res) < 0)
				atomic_fetch_add(&r->errors, 1);
		}
		turns += n;
	}
	atomic_fetch_add(&r->turns, turns);
	return NULL;
}

static void *steady_producer(void *p)
{
	struct steady_arg *a = p;
	struct steady_run *r = a->r;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (a->id + 1);
	struct readyq_index idx = { .generation = 0 };
	unsigned long i;

	for (i = 0; i < r->per_producer; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		idx.slot = (uint32_t)(x % r->mailboxes);
		atomic_fetch_add(&r->pending[idx.slot], 1);
		if (r->v->reg(r->h, idx) < 0)
			atomic_fetch_add(&r->errors, 1);
	}
	return NULL;
}

struct steady_result {
	double msgs_s, regs_s;
	double cpu_ns; /* user + system CPU per message, whole process */
	double vcsw_k; /* voluntary context switches per 1,000 messages */
	long doubles, errors, lost;
	bool stuck;
};

static int steady_once(const struct bq_variant *v, const struct bq_opts *o,
		       unsigned long mailboxes, struct steady_result *out)
{
	struct steady_arg pa[MAX_THREADS], wa[MAX_THREADS];
	pthread_t pt[MAX_THREADS], wt[MAX_THREADS];
	unsigned long np = o->producers, nw = o->workers, i;
	long sent = (long)(np * o->messages), left = 0;
	struct steady_run r;
	struct rusage ru0, ru1;
	uint64_t t0, tp, te;
	int rc;

	memset(&r, 0, sizeof(r));
	r.v = v;
	r.mailboxes = mailboxes;
	r.per_producer = o->messages;
	r.pending = calloc(mailboxes, sizeof(*r.pending));
	r.in_turn = calloc(mailboxes, sizeof(*r.in_turn));
	if (!r.pending || !r.in_turn)
		return -ENOMEM;
	rc = v->create(v, 0, &r.h);
	if (rc < 0) {
		free(r.pending);
		free(r.in_turn);
		return rc;
	}
	getrusage(RUSAGE_SELF, &ru0);
	t0 = now_ns();
	for (i = 0; i < nw; i++) {
		wa[i].r = &r;
		wa[i].id = i;
		pthread_create(&wt[i], NULL, steady_worker, &wa[i]);
	}
	for (i = 0; i < np; i++) {
		pa[i].r = &r;
		pa[i].id = i;
		pthread_create(&pt[i], NULL, steady_producer, &pa[i]);
	}
	for (i = 0; i < np; i++)
		pthread_join(pt[i], NULL);
	tp = now_ns();
	while (atomic_load(&r.taken) < sent && now_ns() - t0 < STUCK_NS) {
		struct timespec ts = { 0, 100000 };

		nanosleep(&ts, NULL);
	}
	te = now_ns();
	out->stuck = atomic_load(&r.taken) < sent;
	v->shutdown(r.h);
	for (i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
	getrusage(RUSAGE_SELF, &ru1);
	out->cpu_ns = (bq_tv_ns(&ru1.ru_utime) - bq_tv_ns(&ru0.ru_utime) +
		       bq_tv_ns(&ru1.ru_stime) - bq_tv_ns(&ru0.ru_stime)) /
		      (double)sent;
	out->vcsw_k = (double)(ru1.ru_nvcsw - ru0.ru_nvcsw) * 1000.0 /
		      (double)sent;
	for (i = 0; i < mailboxes; i++)
		left += atomic_load(&r.pending[i]);
	v->destroy(r.h);
	out->msgs_s = (double)sent / ((double)(te - t0) / 1e9);
	out->regs_s = (double)sent / ((double)(tp - t0) / 1e9);
	out->doubles = atomic_load(&r.doubles);
	out->errors = atomic_load(&r.errors);
	out->lost = sent - atomic_load(&r.taken);
	if (left != out->lost)
		out->errors++;
	free(r.pending);
	free(r.in_turn);
	return 0;
}

int bench_steady(const struct bq_opts *o)
{
	const struct bq_variant *vs[16];
	bool avail[16];
	size_t nv = 0, i, k, mi;
	unsigned long rnd, step = 0, rounds = o->rounds ? o->rounds : 1;
	double msgs[16][32], regs[16][32];
	long bad[16], dbl[16];
	bool any_bad = false;
	FILE *csv;

	if (rounds > 32)
		rounds = 32;
	if (o->producers > MAX_THREADS || o->workers > MAX_THREADS)
		return 1;
	nv = bq_pick_variants(o, NULL, vs, avail,
			      sizeof(avail) / sizeof(avail[0]));
	csv = bq_csv_open(
		o,
		"variant,mailboxes,msgs_per_s,regs_per_s,double_turns,errors,check");
	printf("# steady: %lu producers x %lu messages, %lu workers, batches of 32\n",
	       o->producers, o->messages, o->workers);
	printf("# variant mailboxes msgs_per_s regs_per_s double_turns check\n");
	for (mi = 0; mi < o->nr_mailboxes; mi++) {
		unsigned long m = o->mailboxes[mi];

		memset(bad, 0, sizeof(bad));
		memset(dbl, 0, sizeof(dbl));
		for (rnd = 0; rnd < rounds; rnd++) {
			for (i = 0; i < nv; i++) {
				struct steady_result res;

				k = (i + rnd) % nv;
				if (!avail[k])
					continue;
				if (steady_once(vs[k], o, m, &res) < 0) {
					bad[k]++;
					continue;
				}
				msgs[k][rnd] = res.msgs_s;
				regs[k][rnd] = res.regs_s;
				dbl[k] += res.doubles;
				bad[k] += res.doubles + res.errors + res.lost +
					  res.stuck;
				if (res.stuck)
					fprintf(stderr,
						"readyq-bench: steady %s M=%lu: STUCK, %ld messages never taken\n",
						vs[k]->name, m, res.lost);
				bq_progress("steady", ++step,
					    o->nr_mailboxes * rounds * nv);
			}
		}
		for (k = 0; k < nv; k++) {
			double mm, rr;

			if (!avail[k]) {
				printf("%s %lu n/a (not built)\n", vs[k]->name,
				       m);
				if (csv)
					fprintf(csv, "%s,%lu,,,,,n/a\n",
						vs[k]->name, m);
				continue;
			}
			mm = bq_median(msgs[k], rounds);
			rr = bq_median(regs[k], rounds);
			printf("%s %lu %.0f %.0f %ld %s\n", vs[k]->name, m, mm,
			       rr, dbl[k], bad[k] ? "FAILED" : "ok");
			if (csv)
				fprintf(csv, "%s,%lu,%.0f,%.0f,%ld,%ld,%s\n",
					vs[k]->name, m, mm, rr, dbl[k], bad[k],
					bad[k] ? "FAILED" : "ok");
			any_bad |= bad[k] != 0;
		}
		fflush(stdout);
	}
	bq_progress_end();
	if (csv)
		fclose(csv);
	return any_bad ? 1 : 0;
}
