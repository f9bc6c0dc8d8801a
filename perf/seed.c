// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * seed.c - the seed's workload, and the hardware floor beside it
 *
 * Overview
 * --------
 * SPEC §3: N threads are spawned, each registers 10,000 distinct indices
 * (slot = t * 10000 + i, generation 0), they are joined, and one drain
 * takes all N * 10,000.  Creating and destroying the queue (default
 * configuration, capacity_hint 0) and spawning the threads are inside the
 * timed region, as in the Rust replica.  Every variant runs once per
 * iteration, in an order rotated each iteration, so slow phases of a
 * shared machine hit all of them alike; the median is printed as
 * "VARIANT THREADS MEDIAN_US MIN_US MAX_US".
 *
 * "floor" is SPEC §4's floor: a claim byte per slot in a dense array (no
 * hash, no generations, sized for the run) and a wait-free enqueue (one
 * xchg on the tail of an intrusive list), then one drain.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define PER_THREAD 10000
#define MAX_THREADS 256

/* ---- the floor ---- */

struct floor_node {
	struct floor_node *_Atomic next;
};

struct floor_q {
	_Atomic uint8_t *claim;
	struct floor_node *nodes; /* one per slot, dense */
	struct floor_node head;
	struct floor_node *_Atomic tail;
};

static struct floor_q *floor_create(size_t slots)
{
	struct floor_q *f = malloc(sizeof(*f));

	if (!f)
		return NULL;
	f->claim = calloc(slots, 1);
	f->nodes = malloc(slots * sizeof(*f->nodes));
	if (!f->claim || !f->nodes) {
		free((void *)f->claim);
		free(f->nodes);
		free(f);
		return NULL;
	}
	atomic_init(&f->head.next, NULL);
	atomic_init(&f->tail, &f->head);
	return f;
}

static void floor_register(struct floor_q *f, uint32_t slot)
{
	struct floor_node *n, *prev;

	if (atomic_load_explicit(&f->claim[slot], memory_order_relaxed) ||
	    atomic_exchange_explicit(&f->claim[slot], 1, memory_order_acq_rel))
		return;
	n = &f->nodes[slot];
	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	prev = atomic_exchange_explicit(&f->tail, n, memory_order_acq_rel);
	atomic_store_explicit(&prev->next, n, memory_order_release);
}

/* Single consumer, after the producers are joined. */
static size_t floor_drain(struct floor_q *f, struct readyq_index *out,
			  size_t max)
{
	struct floor_node *n = atomic_load(&f->head.next);
	size_t got = 0;

	while (n && got < max) {
		out[got].slot = (uint32_t)(n - f->nodes);
		out[got].generation = 0;
		atomic_store_explicit(&f->claim[out[got].slot], 0,
				      memory_order_relaxed);
		got++;
		n = atomic_load_explicit(&n->next, memory_order_acquire);
	}
	atomic_store(&f->head.next, n);
	return got;
}

static void floor_destroy(struct floor_q *f)
{
	free((void *)f->claim);
	free(f->nodes);
	free(f);
}

/* ---- one timed run ---- */

struct seed_arg {
	const struct bq_variant *v; /* NULL: the floor */
	void *h;
	unsigned int t;
	_Atomic int errors;
};

static void *seed_thread(void *p)
{
	struct seed_arg *a = p;
	struct readyq_index idx = { .generation = 0 };
	uint32_t i, base = a->t * PER_THREAD;

	if (!a->v) {
		for (i = 0; i < PER_THREAD; i++)
			floor_register(a->h, base + i);
		return NULL;
	}
	for (i = 0; i < PER_THREAD; i++) {
		idx.slot = base + i;
		if (a->v->reg(a->h, idx) != 1)
			atomic_fetch_add(&a->errors, 1);
	}
	return NULL;
}

/* Return: microseconds, or a negative errno. */
static double seed_once(const struct bq_variant *v, unsigned int nthreads)
{
	struct seed_arg args[MAX_THREADS];
	pthread_t tid[MAX_THREADS];
	size_t total = (size_t)nthreads * PER_THREAD, got = 0;
	struct readyq_index *out;
	uint64_t t0, t1;
	unsigned int t;
	ssize_t n;
	void *h;
	int rc, errors = 0;

	t0 = now_ns();
	if (v) {
		rc = v->create(v, 0, &h);
		if (rc < 0)
			return rc;
	} else {
		h = floor_create(total);
		if (!h)
			return -ENOMEM;
	}
	for (t = 0; t < nthreads; t++) {
		args[t].v = v;
		args[t].h = h;
		args[t].t = t;
		atomic_init(&args[t].errors, 0);
		if (pthread_create(&tid[t], NULL, seed_thread, &args[t]))
			abort();
	}
	for (t = 0; t < nthreads; t++) {
		pthread_join(tid[t], NULL);
		errors += atomic_load(&args[t].errors);
	}
	out = malloc(total * sizeof(*out));
	if (!out)
		abort();
	if (v) {
		while (got < total &&
		       (n = v->drain(h, out + got, total - got)) > 0)
			got += (size_t)n;
		v->destroy(h);
	} else {
		got = floor_drain(h, out, total);
		floor_destroy(h);
	}
	free(out);
	t1 = now_ns();
	if (errors || got != total) {
		fprintf(stderr,
			"readyq-bench: seed %s: %d failed registers, drained %zu of %zu\n",
			v ? v->name : "floor", errors, got, total);
		exit(1);
	}
	return (double)(t1 - t0) / 1000.0;
}

/**
 * bench_seed() - the "seed" subcommand
 * @o: options (iterations, threads, only, csv)
 *
 * Return: 0, or 1 on a wrong count (which exits earlier).
 */
int bench_seed(const struct bq_opts *o)
{
	const char *names[16];
	const struct bq_variant *vs[16];
	bool avail[16];
	double *samples[16];
	size_t nv = 0, i, k, ti;
	unsigned long it, total_steps, step = 0;
	FILE *csv;

	nv = bq_pick_variants(o, NULL, vs, avail, 15);
	for (i = 0; i < nv; i++)
		names[i] = vs[i]->name;
	if (bq_selected(o, "floor")) {
		vs[nv] = NULL;
		names[nv] = "floor";
		avail[nv] = true;
		nv++;
	}
	for (k = 0; k < nv; k++) {
		samples[k] = calloc(o->iterations, sizeof(double));
		if (!samples[k])
			return 1;
	}
	csv = bq_csv_open(o, "variant,threads,median_us,min_us,max_us");
	total_steps = o->nr_threads * o->iterations;
	for (ti = 0; ti < o->nr_threads; ti++) {
		unsigned int n = (unsigned int)o->threads[ti];

		if (n > MAX_THREADS)
			n = MAX_THREADS;
		for (k = 0; k < nv; k++) /* warm-up */
			if (avail[k])
				seed_once(vs[k], n), seed_once(vs[k], n);
		for (it = 0; it < o->iterations; it++) {
			for (i = 0; i < nv; i++) {
				k = (i + it) % nv;
				if (avail[k])
					samples[k][it] = seed_once(vs[k], n);
			}
			bq_progress("seed", ++step, total_steps);
		}
		for (k = 0; k < nv; k++) {
			double med, lo, hi;

			if (!avail[k]) {
				printf("%s %u n/a (not built)\n", names[k], n);
				if (csv)
					fprintf(csv, "%s,%u,,,\n", names[k], n);
				continue;
			}
			med = bq_median(samples[k], o->iterations);
			lo = samples[k][0];
			hi = samples[k][o->iterations - 1];
			printf("%s %u %.1f %.1f %.1f\n", names[k], n, med, lo,
			       hi);
			if (csv)
				fprintf(csv, "%s,%u,%.1f,%.1f,%.1f\n", names[k],
					n, med, lo, hi);
		}
		fflush(stdout);
	}
	bq_progress_end();
	if (csv)
		fclose(csv);
	for (k = 0; k < nv; k++)
		free(samples[k]);
	return 0;
}
