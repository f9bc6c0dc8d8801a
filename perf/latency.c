// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * latency.c - wake-up latency: register on an empty queue to a sleeping
 * wait returning in another thread
 *
 * Overview
 * --------
 * A sleeper thread blocks (readyq_wait(q, -1) for the queue variants),
 * and the waker, after the sleeper has announced itself and had 100 µs to
 * fall asleep, stamps the time and registers one index.  The sleeper
 * stamps the time when its wait returns, then drains and completes the
 * index (COMPLETED(false)) so the queue is empty again.  Two baselines run
 * in the same process: a pthread mutex + condition variable flag
 * ("condvar") and a raw futex ping-pong ("futex", FUTEX_WAIT/FUTEX_WAKE
 * on one word: the floor).  Samples are taken in chunks, the variants
 * interleaved chunk by chunk; p50/p99/p99.9 are nearest-rank.
 */
#include "bench.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CHUNK 50

enum lat_kind { LAT_QUEUE, LAT_CONDVAR, LAT_FUTEX };

struct lat_ctx {
	enum lat_kind kind;
	const struct bq_variant *v;
	void *h;
	pthread_mutex_t m;
	pthread_cond_t c;
	int flag;
	_Atomic uint32_t word;
	_Atomic unsigned long ready;
	_Atomic uint64_t t0;
	double *out;
	unsigned long n;
	_Atomic long errors;
};

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void lat_sleep(struct lat_ctx *c)
{
	switch (c->kind) {
	case LAT_QUEUE:
		if (c->v->wait(c->h, -1) != 0)
			atomic_fetch_add(&c->errors, 1);
		break;
	case LAT_CONDVAR:
		pthread_mutex_lock(&c->m);
		while (!c->flag)
			pthread_cond_wait(&c->c, &c->m);
		c->flag = 0;
		pthread_mutex_unlock(&c->m);
		break;
	case LAT_FUTEX:
		while (!atomic_load(&c->word))
			futex(&c->word, FUTEX_WAIT_PRIVATE, 0);
		atomic_store(&c->word, 0);
		break;
	}
}

/* After the time stamp: empty the queue again. */
static void lat_tidy(struct lat_ctx *c)
{
	struct readyq_index idx;
	struct readyq_result res = readyq_result_completed(false);

	if (c->kind != LAT_QUEUE)
		return;
	if (c->v->drain(c->h, &idx, 1) != 1 ||
	    c->v->complete(c->h, idx, &res) < 0)
		atomic_fetch_add(&c->errors, 1);
}

static void lat_wake(struct lat_ctx *c)
{
	struct readyq_index idx = { .slot = 7, .generation = 0 };

	switch (c->kind) {
	case LAT_QUEUE:
		if (c->v->reg(c->h, idx) != 1)
			atomic_fetch_add(&c->errors, 1);
		break;
	case LAT_CONDVAR:
		pthread_mutex_lock(&c->m);
		c->flag = 1;
		pthread_cond_signal(&c->c);
		pthread_mutex_unlock(&c->m);
		break;
	case LAT_FUTEX:
		atomic_store(&c->word, 1);
		futex(&c->word, FUTEX_WAKE_PRIVATE, 1);
		break;
	}
}

static void *lat_sleeper(void *p)
{
	struct lat_ctx *c = p;
	unsigned long s;
	uint64_t t1;

	for (s = 0; s < c->n; s++) {
		atomic_store(&c->ready, s + 1);
		lat_sleep(c);
		t1 = now_ns();
		c->out[s] = (double)(t1 - atomic_load(&c->t0)) / 1000.0;
		lat_tidy(c);
	}
	return NULL;
}

/* One chunk of @n samples into @out. */
static int lat_chunk(enum lat_kind kind, const struct bq_variant *v,
		     double *out, unsigned long n)
{
	struct timespec gap = { 0, 100000 };
	struct lat_ctx c;
	pthread_t tid;
	unsigned long s;
	int rc;

	memset(&c, 0, sizeof(c));
	c.kind = kind;
	c.v = v;
	c.out = out;
	c.n = n;
	if (kind == LAT_QUEUE) {
		rc = v->create(v, 0, &c.h);
		if (rc < 0)
			return rc;
	}
	pthread_mutex_init(&c.m, NULL);
	pthread_cond_init(&c.c, NULL);
	if (pthread_create(&tid, NULL, lat_sleeper, &c))
		abort();
	for (s = 0; s < n; s++) {
		while (atomic_load(&c.ready) != s + 1)
			sched_yield();
		nanosleep(&gap, NULL);
		atomic_store(&c.t0, now_ns());
		lat_wake(&c);
	}
	pthread_join(tid, NULL);
	if (kind == LAT_QUEUE)
		v->destroy(c.h);
	pthread_cond_destroy(&c.c);
	pthread_mutex_destroy(&c.m);
	return atomic_load(&c.errors) ? -EIO : 0;
}

int bench_latency(const struct bq_opts *o)
{
	const char *names[16];
	const struct bq_variant *vs[16];
	enum lat_kind kinds[16];
	bool avail[16];
	double *samples[16], p50[16], p99[16], p999[16], futex_p50 = 0;
	unsigned long done, chunk, step = 0, steps;
	size_t nv = 0, i, k;
	FILE *csv;

	nv = bq_pick_variants(o, NULL, vs, avail, 14);
	for (i = 0; i < nv; i++) {
		names[i] = vs[i]->name;
		kinds[i] = LAT_QUEUE;
	}
	if (bq_selected(o, "condvar")) {
		vs[nv] = NULL;
		names[nv] = "condvar";
		kinds[nv] = LAT_CONDVAR;
		avail[nv++] = true;
	}
	if (bq_selected(o, "futex")) {
		vs[nv] = NULL;
		names[nv] = "futex";
		kinds[nv] = LAT_FUTEX;
		avail[nv++] = true;
	}
	for (k = 0; k < nv; k++) {
		samples[k] = calloc(o->samples, sizeof(double));
		if (!samples[k])
			return 1;
	}
	steps = (o->samples + CHUNK - 1) / CHUNK;
	for (done = 0; done < o->samples; done += chunk) {
		chunk = o->samples - done < CHUNK ? o->samples - done : CHUNK;
		for (i = 0; i < nv; i++) {
			k = (i + step) % nv;
			if (avail[k] && lat_chunk(kinds[k], vs[k],
						  samples[k] + done, chunk)) {
				fprintf(stderr,
					"readyq-bench: latency %s: a call failed\n",
					names[k]);
				return 1;
			}
		}
		bq_progress("latency", ++step, steps);
	}
	bq_progress_end();
	csv = bq_csv_open(o, "variant,samples,p50_us,p99_us,p999_us");
	printf("# latency: register on an empty queue -> sleeping wait returns, %lu samples\n",
	       o->samples);
	printf("# variant p50_us p99_us p99.9_us\n");
	for (k = 0; k < nv; k++) {
		if (!avail[k]) {
			printf("%s n/a (not built)\n", names[k]);
			if (csv)
				fprintf(csv, "%s,0,,,\n", names[k]);
			continue;
		}
		qsort(samples[k], o->samples, sizeof(double), bq_cmp_double);
		p50[k] = bq_percentile(samples[k], o->samples, 50);
		p99[k] = bq_percentile(samples[k], o->samples, 99);
		p999[k] = bq_percentile(samples[k], o->samples, 99.9);
		if (kinds[k] == LAT_FUTEX)
			futex_p50 = p50[k];
		printf("%s %.2f %.2f %.2f\n", names[k], p50[k], p99[k],
		       p999[k]);
		if (csv)
			fprintf(csv, "%s,%lu,%.2f,%.2f,%.2f\n", names[k],
				o->samples, p50[k], p99[k], p999[k]);
	}
	if (csv)
		fclose(csv);
	for (k = 0; k < nv && futex_p50 > 0; k++) {
		if (!avail[k] || vs[k] == NULL || vs[k]->backend < 0 ||
		    !strcmp(names[k], "lockfree_mutex"))
			continue;
		bq_verdict(
			p50[k] <= 1.5 * futex_p50,
			"latency %s p50 %.2f us <= 1.5 x futex p50 %.2f us (%.2fx)",
			names[k], p50[k], futex_p50, p50[k] / futex_p50);
	}
	for (k = 0; k < nv; k++)
		free(samples[k]);
	return 0;
}
