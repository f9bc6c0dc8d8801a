// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * histcost.c - what READYQ_FLAG_HISTOGRAMS adds to a turn, one thread
 *
 * Overview
 * --------
 * The steady benchmark's CPU per message, with producers and workers on
 * two shared CPUs, moves by more than the cost it is meant to show
 * (perf/README.md, "Histograms").  This loop has no second thread: one
 * thread registers mailboxes picked at random among M (xorshift), and
 * after every 8 registers drains up to 32 indices and completes each
 * (one in 16 YIELDED, so that requeues are measured too).  Rounds run
 * the same loop on a queue without and with the flag, interleaved;
 * printed per backend and M: CPU ns per turn (process CPU time) of each,
 * the difference, and the median over rounds of the same round's ratio
 * with its lowest and highest.
 *
 * Every turn is a queueing, a drain and a complete, each stamped, so this
 * is the flag's cost per turn: a message that is a turn of its own pays
 * all of it.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#define HC_OPS 2000000ul
#define HC_MAX_ROUNDS 64

/* Drain once, complete every index; returns the turns. */
static unsigned long hc_drain(struct readyq *q, uint64_t *x)
{
	struct readyq_index out[32];
	struct readyq_result res;
	ssize_t n, i;

	n = readyq_drain(q, out, 32);
	for (i = 0; i < n; i++) {
		res = (bq_xorshift(x) & 15) ? readyq_result_completed(false) :
					      readyq_result_yielded();
		if (readyq_complete(q, out[i], &res))
			abort();
	}
	return n > 0 ? (unsigned long)n : 0;
}

/* One loop; CPU ns per turn, or a negative value if the queue failed. */
static double hc_run(enum readyq_backend be, uint32_t flags, unsigned long m)
{
	uint64_t x = 0x9e3779b97f4a7c15ull, y = 0x2545f4914f6cdd1dull;
	struct readyq_config cfg;
	unsigned long i, n, turns = 0;
	struct readyq *q;
	uint64_t t0;

	readyq_config_init(&cfg);
	cfg.backend = be;
	cfg.flags = flags;
	cfg.capacity_hint = m;
	if (readyq_create(&cfg, &q))
		return -1;
	t0 = bq_cpu_ns();
	for (i = 0; i < HC_OPS; i++) {
		struct readyq_index idx = { 0 };

		idx.slot = (uint32_t)(bq_xorshift(&x) % m);
		if (readyq_register(q, idx) < 0)
			abort();
		if ((i & 7) == 7)
			turns += hc_drain(q, &y);
	}
	while ((n = hc_drain(q, &y)) > 0) /* the rest, requeues included */
		turns += n;
	t0 = bq_cpu_ns() - t0;
	readyq_destroy(q);
	return turns ? (double)t0 / (double)turns : -1;
}

static const struct {
	const char *name;
	enum readyq_backend be;
} hc_backends[] = {
	{ "locked", READYQ_BACKEND_LOCKED },
	{ "lockfree", READYQ_BACKEND_LOCKFREE },
	{ "adaptive", READYQ_BACKEND_ADAPTIVE },
};
#define HC_NR_BACKENDS (sizeof(hc_backends) / sizeof(hc_backends[0]))

/* Interleaved rounds of backend @b at @m mailboxes; one line.  0 or 1. */
static int hc_row(size_t b, unsigned long m, unsigned long rounds)
{
	double off[HC_MAX_ROUNDS], on[HC_MAX_ROUNDS], ratio[HC_MAX_ROUNDS];
	double lo, hi, moff, mon;
	unsigned long r;

	for (r = 0; r < rounds; r++) {
		off[r] = hc_run(hc_backends[b].be, 0, m);
		on[r] = hc_run(hc_backends[b].be, READYQ_FLAG_HISTOGRAMS, m);
		if (off[r] <= 0 || on[r] <= 0)
			return 1;
		ratio[r] = on[r] / off[r];
	}
	qsort(ratio, rounds, sizeof(double), bq_cmp_double);
	lo = ratio[0];
	hi = ratio[rounds - 1];
	moff = bq_median(off, rounds);
	mon = bq_median(on, rounds);
	printf("%-9s %10lu %8.1f %8.1f %9.1f  %.3f [%.3f..%.3f]\n",
	       hc_backends[b].name, m, moff, mon, mon - moff,
	       bq_median(ratio, rounds), lo, hi);
	fflush(stdout);
	return 0;
}

/**
 * bench_histcost() - readyq-bench histcost: the flag's cost per turn
 * @o: --mailboxes (default 64,1024,65536), --rounds (default 7), --only
 *
 * Return: 0, or 1 if a queue could not be created.
 */
int bench_histcost(const struct bq_opts *o)
{
	unsigned long rounds = o->rounds ? o->rounds : 7;
	size_t b, k;

	if (rounds > HC_MAX_ROUNDS)
		rounds = HC_MAX_ROUNDS;
	printf("# histcost: one thread, %lu registers, drain 32 every 8, CPU ns per turn; medians of %lu interleaved rounds\n",
	       HC_OPS, rounds);
	printf("# backend  mailboxes   off_ns    on_ns  extra_ns  on/off [lowest..highest]\n");
	for (k = 0; k < o->nr_mailboxes; k++) {
		for (b = 0; b < HC_NR_BACKENDS; b++) {
			if (o->only && !strstr(o->only, hc_backends[b].name))
				continue;
			if (hc_row(b, o->mailboxes[k], rounds))
				return 1;
		}
	}
	return 0;
}
