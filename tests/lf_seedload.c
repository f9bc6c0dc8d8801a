// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * lf_seedload.c - the seed's workload (SPEC §3) on our backends
 *
 * N threads each register 10,000 distinct indices (slot = t * 10000 + i,
 * generation 0) into a freshly created queue (default config but the
 * backend, capacity_hint 0), join, then one drain of all N * 10,000;
 * create and destroy are inside the timed region.  Backends alternate
 * iteration by iteration so that their ratio is measured under the same
 * noise.  Prints "backend threads median_us min_us max_us".
 *
 * Usage: lf_seedload [ITERATIONS] [THREADS,...] [BACKEND,...]
 * (defaults 30, 1,2,4,8, locked,lockfree).  Not built by make; e.g.
 *   cc -O2 -Iinclude tests/lf_seedload.c _build/lib/.libs/libreadyq.so \
 *      -lpthread -o lf_seedload
 */
#include <readyq/readyq.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PER_THREAD 10000u

struct job {
	struct readyq *q;
	unsigned int t;
	pthread_t th;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *producer(void *p)
{
	struct job *j = p;
	unsigned int i;

	for (i = 0; i < PER_THREAD; i++) {
		struct readyq_index idx = { j->t * PER_THREAD + i, 0 };

		if (readyq_register(j->q, idx) != 1)
			abort();
	}
	return NULL;
}

static double one_run(enum readyq_backend b, unsigned int n,
		      struct readyq_index *out)
{
	struct readyq_config cfg;
	struct job jobs[64];
	struct readyq *q;
	uint64_t t0 = now_ns();
	unsigned int t;

	readyq_config_init(&cfg);
	cfg.backend = b;
	if (readyq_create(&cfg, &q))
		abort();
	for (t = 0; t < n; t++) {
		jobs[t].q = q;
		jobs[t].t = t;
		pthread_create(&jobs[t].th, NULL, producer, &jobs[t]);
	}
	for (t = 0; t < n; t++)
		pthread_join(jobs[t].th, NULL);
	if (readyq_drain(q, out, (size_t)n * PER_THREAD) !=
	    (ssize_t)(n * PER_THREAD))
		abort();
	readyq_destroy(q);
	return (double)(now_ns() - t0) / 1000.0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 30;
	const char *tlist = argc > 2 ? argv[2] : "1,2,4,8";
	const char *blist = argc > 3 ? argv[3] : "locked,lockfree";
	enum readyq_backend bs[3];
	int nb = 0, k, i;
	char buf[256], *tok, *save;
	struct readyq_index *out;
	double *res[3];

	snprintf(buf, sizeof(buf), "%s", blist);
	for (tok = strtok_r(buf, ",", &save); tok && nb < 3;
	     tok = strtok_r(NULL, ",", &save))
		if (!strcmp(tok, "locked"))
			bs[nb++] = READYQ_BACKEND_LOCKED;
		else if (!strcmp(tok, "lockfree"))
			bs[nb++] = READYQ_BACKEND_LOCKFREE;
		else
			bs[nb++] = READYQ_BACKEND_ADAPTIVE;
	out = malloc(sizeof(*out) * 64 * PER_THREAD);
	for (k = 0; k < nb; k++)
		res[k] = malloc(sizeof(double) * iters);
	snprintf(buf, sizeof(buf), "%s", tlist);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int n = (unsigned int)atoi(tok);

		if (!n || n > 64)
			continue;
		for (k = 0; k < nb; k++) /* warm-up */
			one_run(bs[k], n, out);
		for (i = 0; i < iters; i++)
			for (k = 0; k < nb; k++)
				res[k][i] = one_run(bs[k], n, out);
		for (k = 0; k < nb; k++) {
			qsort(res[k], iters, sizeof(double), cmp);
			printf("%-8s %u %.0f %.0f %.0f\n",
			       readyq_backend_name(bs[k]), n,
			       res[k][iters / 2], res[k][0],
			       res[k][iters - 1]);
		}
		fflush(stdout);
	}
	return 0;
}
