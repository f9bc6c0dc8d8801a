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
 * messages are left, else COMPLETED(false).  The *_batch variants
 * register in batches of STEADY_REG_BATCH and complete a drained batch
 * with one readyq_complete_batch().
 *
 * Wall-clock rates of more threads than CPUs swing with scheduling luck,
 * so every run also reports what does not: CPU time per message
 * (getrusage, user + system, the whole process), futex(2) calls per
 * 1,000 messages (counted by the kernel, when perf events allow; "-"
 * otherwise), voluntary context switches per 1,000 messages, and for the
 * library's variants the empty wake-ups (waits that returned 0 whose next
 * drain found nothing) as a share of the waits that returned 0.
 *
 * Per configuration (P x W, --configs) and M, rounds are interleaved
 * across variants; the median and the spread (max / min) over the rounds
 * are printed.  Every run checks that every message sent was taken
 * exactly once, that no mailbox ran in two turns at once (double turns),
 * and that nothing is left behind (a lost wake-up shows as a run that
 * never finishes: after 20 s it is stopped and reported "STUCK").  The
 * PASS/MISS lines judge the targets of perf/README.md ("Steady state").
 *
 * With an X_hist variant (READYQ_FLAG_HISTOGRAMS) in the run, the cost of
 * one read of the histograms' clock is measured first (machine.c), and
 * each X_hist verdict gets a "# bound" line: a call that queues an index
 * or ends a turn reads the clock once, two calls never share a reading,
 * so X_hist reads it at least (registered + completed) / messages times
 * per message (its own statistics; batch variants, whose calls carry
 * many, are left out), which is a share of X's CPU per message no code
 * can save on this machine.
 */
#include "bench.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_THREADS 64
#define MAX_ROUNDS 32
#define MAX_VARIANTS 16
#define STUCK_NS 20000000000ull
#define STEADY_DRAIN 32
#define STEADY_REG_BATCH 16
/* Issue 17: X_hist's CPU per message at most this times X's. */
#define STEADY_HIST_MAX_RATIO 1.05

struct steady_run {
	const struct bq_variant *v;
	void *h;
	unsigned long mailboxes, per_producer;
	_Atomic long *pending;
	_Atomic int *in_turn;
	_Atomic long taken;
	_Atomic long doubles;
	_Atomic long errors;
};

struct steady_arg {
	struct steady_run *r;
	unsigned long id;
};

/* One mailbox's turn: take up to STEADY_DRAIN messages; its result. */
static struct readyq_result steady_turn(struct steady_run *r, uint32_t m)
{
	long have, take;

	if (atomic_fetch_add(&r->in_turn[m], 1))
		atomic_fetch_add(&r->doubles, 1);
	have = atomic_load(&r->pending[m]);
	take = have < STEADY_DRAIN ? have : STEADY_DRAIN;
	atomic_fetch_sub(&r->pending[m], take);
	atomic_fetch_add(&r->taken, take);
	atomic_fetch_sub(&r->in_turn[m], 1);
	return have > take ? readyq_result_yielded() :
			     readyq_result_completed(false);
}

static void steady_complete(struct steady_run *r, struct readyq_index *batch,
			    ssize_t n)
{
	struct readyq_result res[STEADY_DRAIN];
	ssize_t i;

	for (i = 0; i < n; i++) {
		res[i] = steady_turn(r, batch[i].slot);
		if (!r->v->batch &&
		    r->v->complete(r->h, batch[i], &res[i]) < 0)
			atomic_fetch_add(&r->errors, 1);
	}
	if (r->v->batch && n &&
	    r->v->complete_batch(r->h, batch, res, (size_t)n) != n)
		atomic_fetch_add(&r->errors, 1);
}

static void *steady_worker(void *p)
{
	struct steady_run *r = ((struct steady_arg *)p)->r;
	struct readyq_index batch[STEADY_DRAIN];
	ssize_t n;

	while (r->v->wait(r->h, -1) == 0) {
		n = r->v->drain(r->h, batch, STEADY_DRAIN);
		if (n < 0) {
			atomic_fetch_add(&r->errors, 1);
			continue;
		}
		steady_complete(r, batch, n);
	}
	return NULL;
}

/* Registers @idx[0..@k): one call, batched or not (then @k is 1). */
static void steady_flush(struct steady_run *r, struct readyq_index *idx,
			 size_t k)
{
	ssize_t rc;

	if (r->v->batch)
		rc = r->v->reg_batch(r->h, idx, k);
	else
		rc = r->v->reg(r->h, idx[0]) < 0 ? -1 : 1;
	if (rc != (ssize_t)k)
		atomic_fetch_add(&r->errors, 1);
}

static void *steady_producer(void *p)
{
	struct steady_arg *a = p;
	struct steady_run *r = a->r;
	uint64_t x = 0x9e3779b97f4a7c15ull ^ (a->id + 1);
	struct readyq_index idx[STEADY_REG_BATCH];
	size_t k = 0, per_call = r->v->batch ? STEADY_REG_BATCH : 1;
	unsigned long i;

	memset(idx, 0, sizeof(idx));
	for (i = 0; i < r->per_producer; i++) {
		idx[k].slot = (uint32_t)(bq_xorshift(&x) % r->mailboxes);
		atomic_fetch_add(&r->pending[idx[k].slot], 1);
		if (++k == per_call) {
			steady_flush(r, idx, k);
			k = 0;
		}
	}
	if (k)
		steady_flush(r, idx, k);
	return NULL;
}

/* One run's figures. */
struct steady_result {
	double msgs_s;
	double cpu_ns; /* user + system CPU per message, whole process */
	double futex_k; /* futex calls per 1,000 messages, < 0: unknown */
	double vcsw_k; /* voluntary context switches per 1,000 messages */
	double empty_pct; /* empty wakes per 100 waits that returned 0 */
	double waitq_k; /* library: sleeps + wake calls per 1,000 messages */
	double reads; /* X_hist: clock reads per message at least, < 0: - */
	long doubles, errors, lost;
	bool stuck;
};

struct steady_clock {
	struct rusage ru;
	uint64_t t;
	long long futex;
};

static void steady_clock_read(struct steady_clock *c, int futex_fd)
{
	getrusage(RUSAGE_SELF, &c->ru);
	c->t = now_ns();
	c->futex = bq_futex_counter_read(futex_fd);
}

static void steady_figures(const struct steady_clock *c0,
			   const struct steady_clock *c1, long sent,
			   struct steady_result *out)
{
	double cpu = bq_tv_ns(&c1->ru.ru_utime) - bq_tv_ns(&c0->ru.ru_utime) +
		     bq_tv_ns(&c1->ru.ru_stime) - bq_tv_ns(&c0->ru.ru_stime);

	out->msgs_s = (double)sent / ((double)(c1->t - c0->t) / 1e9);
	out->cpu_ns = cpu / (double)sent;
	out->vcsw_k = (double)(c1->ru.ru_nvcsw - c0->ru.ru_nvcsw) * 1000.0 /
		      (double)sent;
	out->futex_k = c0->futex < 0 || c1->futex < 0 ?
			       -1 :
			       (double)(c1->futex - c0->futex) * 1000.0 /
				       (double)sent;
}

/* Until every message is taken, or STUCK_NS after the start. */
static void steady_wait_taken(struct steady_run *r, long sent, uint64_t t0)
{
	struct timespec ts = { 0, 100000 };

	while (atomic_load(&r->taken) < sent && now_ns() - t0 < STUCK_NS)
		nanosleep(&ts, NULL);
}

static void steady_threads(struct steady_run *r, unsigned long np,
			   unsigned long nw, long sent, uint64_t t0)
{
	struct steady_arg pa[MAX_THREADS], wa[MAX_THREADS];
	pthread_t pt[MAX_THREADS], wt[MAX_THREADS];
	unsigned long i;

	for (i = 0; i < nw; i++) {
		wa[i] = (struct steady_arg){ .r = r, .id = i };
		pthread_create(&wt[i], NULL, steady_worker, &wa[i]);
	}
	for (i = 0; i < np; i++) {
		pa[i] = (struct steady_arg){ .r = r, .id = i };
		pthread_create(&pt[i], NULL, steady_producer, &pa[i]);
	}
	for (i = 0; i < np; i++)
		pthread_join(pt[i], NULL);
	steady_wait_taken(r, sent, t0);
	r->v->shutdown(r->h);
	for (i = 0; i < nw; i++)
		pthread_join(wt[i], NULL);
}

/*
 * A library variant's own figures: empty wake-ups per 100 waits that
 * returned 0, and the wait queue's futex calls (sleeps and wake calls)
 * per 1,000 messages; -1 for baselines outside the library.
 */
static void steady_lib_figures(const struct steady_run *r, long sent,
			       struct steady_result *out)
{
	struct readyq_stats st;

	out->empty_pct = out->waitq_k = out->reads = -1;
	if (!r->v->stats || r->v->stats(r->h, &st) < 0)
		return;
	if ((r->v->flags & READYQ_FLAG_HISTOGRAMS) && !r->v->batch)
		out->reads = (double)(st.registered + st.completed) /
			     (double)sent;
	out->empty_pct = st.wakeups ? 100.0 * (double)st.empty_wakes /
					      (double)st.wakeups :
				      0;
	out->waitq_k = (double)(st.sleeps + st.wake_calls) * 1000.0 /
		       (double)sent;
}

static int steady_once(const struct bq_variant *v, unsigned long np,
		       unsigned long nw, unsigned long per,
		       unsigned long mailboxes, struct steady_result *out)
{
	long sent = (long)(np * per), left = 0;
	struct steady_clock c0, c1;
	struct steady_run r;
	unsigned long i;
	int futex_fd;

	memset(&r, 0, sizeof(r));
	r.v = v;
	r.mailboxes = mailboxes;
	r.per_producer = per;
	r.pending = calloc(mailboxes, sizeof(*r.pending));
	r.in_turn = calloc(mailboxes, sizeof(*r.in_turn));
	if (!r.pending || !r.in_turn || v->create(v, 0, &r.h) < 0) {
		free(r.pending);
		free(r.in_turn);
		return -ENOMEM;
	}
	futex_fd = bq_futex_counter_open();
	steady_clock_read(&c0, futex_fd);
	steady_threads(&r, np, nw, sent, c0.t);
	steady_clock_read(&c1, futex_fd);
	if (futex_fd >= 0)
		close(futex_fd);
	steady_figures(&c0, &c1, sent, out);
	steady_lib_figures(&r, sent, out);
	out->stuck = atomic_load(&r.taken) < sent;
	for (i = 0; i < mailboxes; i++)
		left += atomic_load(&r.pending[i]);
	v->destroy(r.h);
	out->doubles = atomic_load(&r.doubles);
	out->errors = atomic_load(&r.errors);
	out->lost = sent - atomic_load(&r.taken);
	if (left != out->lost)
		out->errors++;
	free(r.pending);
	free(r.in_turn);
	return 0;
}

/* Every round of one variant at one (P, W, M): medians and spreads. */
struct steady_cell {
	double msgs[MAX_ROUNDS], cpu[MAX_ROUNDS], futex[MAX_ROUNDS];
	double vcsw[MAX_ROUNDS], empty[MAX_ROUNDS], waitq[MAX_ROUNDS];
	double reads[MAX_ROUNDS];
	size_t n;
	long doubles, bad;
	/* medians, and msgs/s max / min */
	double m_msgs, m_cpu, m_futex, m_vcsw, m_empty, m_waitq, m_reads;
	double spread;
};

static void steady_add(struct steady_cell *c, const struct steady_result *r)
{
	c->msgs[c->n] = r->msgs_s;
	c->cpu[c->n] = r->cpu_ns;
	c->futex[c->n] = r->futex_k;
	c->vcsw[c->n] = r->vcsw_k;
	c->empty[c->n] = r->empty_pct;
	c->waitq[c->n] = r->waitq_k;
	c->reads[c->n] = r->reads;
	c->n++;
	c->doubles += r->doubles;
	c->bad += r->doubles + r->errors + r->lost + r->stuck;
}

static void steady_summarise(struct steady_cell *c)
{
	double lo = 0, hi = 0;
	size_t i;

	for (i = 0; i < c->n; i++) {
		if (!i || c->msgs[i] < lo)
			lo = c->msgs[i];
		if (!i || c->msgs[i] > hi)
			hi = c->msgs[i];
	}
	c->spread = lo > 0 ? hi / lo : 0;
	c->m_msgs = bq_median(c->msgs, c->n);
	c->m_cpu = bq_median(c->cpu, c->n);
	c->m_futex = bq_median(c->futex, c->n);
	c->m_vcsw = bq_median(c->vcsw, c->n);
	c->m_empty = bq_median(c->empty, c->n);
	c->m_waitq = bq_median(c->waitq, c->n);
	c->m_reads = bq_median(c->reads, c->n);
}

static const char *steady_num(char *buf, size_t len, double v,
			      const char *fmt)
{
	if (v < 0)
		return "-";
	snprintf(buf, len, fmt, v);
	return buf;
}

static void steady_print(const struct bq_variant *v, unsigned long np,
			 unsigned long nw, unsigned long m,
			 const struct steady_cell *c, FILE *csv)
{
	char fx[32], em[32], wq[32];

	printf("%-16s %lux%lu %8lu %8.2f %6.2f %7.1f %7s %7s %7.2f %6s %ld %s\n",
	       v->name, np, nw, m, c->m_msgs / 1e6, c->spread, c->m_cpu,
	       steady_num(fx, sizeof(fx), c->m_futex, "%.2f"),
	       steady_num(wq, sizeof(wq), c->m_waitq, "%.2f"), c->m_vcsw,
	       steady_num(em, sizeof(em), c->m_empty, "%.1f"), c->doubles,
	       c->bad ? "FAILED" : "ok");
	if (csv)
		fprintf(csv, "%s,%lu,%lu,%lu,%.0f,%.3f,%.1f,%.3f,%.3f,%.3f,%.2f,%ld,%s\n",
			v->name, np, nw, m, c->m_msgs, c->spread, c->m_cpu,
			c->m_futex, c->m_waitq, c->m_vcsw, c->m_empty,
			c->doubles, c->bad ? "FAILED" : "ok");
}

/* The variant called @name among @vs, or NULL. */
static const struct steady_cell *steady_find(const struct bq_variant **vs,
					     const struct steady_cell *cells,
					     size_t nv, const char *name)
{
	size_t k;

	for (k = 0; k < nv; k++)
		if (!strcmp(vs[k]->name, name) && cells[k].n)
			return &cells[k];
	return NULL;
}

/* One read of the histograms' clock (ns, < 0: not measured) and its name. */
static double steady_clock_ns = -1;
static const char *steady_clock_name;

/*
 * The 5% target's bound for @h, X_hist beside X (@b), whose CPU/msg
 * ratio's median was @ratio: see the header.  A ratio below the bound is
 * noise (the rounds moved more than the clock reads cost).
 */
static void steady_hist_bound(const struct steady_cell *h,
			      const struct steady_cell *b, const char *name,
			      unsigned long np, unsigned long nw,
			      unsigned long m, double ratio)
{
	double pct, max = 100.0 * (STEADY_HIST_MAX_RATIO - 1.0);

	if (steady_clock_ns < 0 || h->m_reads < 0 || b->m_cpu <= 0)
		return;
	pct = 100.0 * h->m_reads * steady_clock_ns / b->m_cpu;
	printf("# bound steady %lux%lu M=%lu %s: >= %.2f clock reads per message at %.1f ns (%s) = %.1f%% of the %.0f CPU ns per message without: %s on this machine%s\n",
	       np, nw, m, name, h->m_reads, steady_clock_ns, steady_clock_name,
	       pct, b->m_cpu, pct > max ? "out of reach" : "within reach",
	       100.0 * (ratio - 1.0) < pct ? " (the ratio is below it: noise)" :
					     "");
}

/*
 * The cost of READYQ_FLAG_HISTOGRAMS: for every variant "X_hist" run
 * beside "X", the median over rounds of the CPU/msg ratio of the same
 * round (rounds are interleaved, so a round's pair met the same load),
 * and the spread of that ratio (lowest and highest).
 */
static void steady_hist_verdicts(const struct bq_variant **vs,
				 const struct steady_cell *cells, size_t nv,
				 unsigned long np, unsigned long nw,
				 unsigned long m)
{
	double ratio[MAX_ROUNDS], lo, hi, med;
	char base[64];
	size_t k, i, len;

	for (k = 0; k < nv; k++) {
		const struct steady_cell *h = &cells[k], *b;

		len = strlen(vs[k]->name);
		if (!h->n || len < 6 || len - 5 >= sizeof(base) ||
		    strcmp(vs[k]->name + len - 5, "_hist"))
			continue;
		memcpy(base, vs[k]->name, len - 5);
		base[len - 5] = '\0';
		b = steady_find(vs, cells, nv, base);
		if (!b || b->n != h->n)
			continue;
		for (i = 0; i < h->n; i++)
			ratio[i] = h->cpu[i] / b->cpu[i];
		lo = hi = ratio[0];
		for (i = 1; i < h->n; i++) {
			lo = ratio[i] < lo ? ratio[i] : lo;
			hi = ratio[i] > hi ? ratio[i] : hi;
		}
		med = bq_median(ratio, h->n);
		bq_verdict(med <= STEADY_HIST_MAX_RATIO,
			   "steady %lux%lu M=%lu %s: CPU/msg %.2fx %s (rounds %.2f-%.2f) <= %.2fx",
			   np, nw, m, vs[k]->name, med, base, lo, hi,
			   STEADY_HIST_MAX_RATIO);
		steady_hist_bound(h, b, vs[k]->name, np, nw, m, med);
	}
}

/* PASS/MISS lines for one (P, W, M); see perf/README.md "Steady state". */
static void steady_verdicts(const struct bq_variant **vs,
			    const struct steady_cell *cells, size_t nv,
			    unsigned long np, unsigned long nw,
			    unsigned long m)
{
	const struct steady_cell *a = steady_find(vs, cells, nv, "adaptive");
	const struct steady_cell *n = steady_find(vs, cells, nv, "naive");
	size_t k;

	for (k = 0; k < nv; k++) {
		const struct steady_cell *c = &cells[k];

		if (!c->n)
			continue;
		bq_verdict(!c->bad, "steady %lux%lu M=%lu %s: exact accounting",
			   np, nw, m, vs[k]->name);
		if (c->m_empty >= 0)
			bq_verdict(c->m_empty <= 10.0,
				   "steady %lux%lu M=%lu %s: empty wakes %.1f%% <= 10%% of wake-ups",
				   np, nw, m, vs[k]->name, c->m_empty);
	}
	steady_hist_verdicts(vs, cells, nv, np, nw, m);
	if (!a || !n)
		return;
	if (np == 2 && nw == 2)
		bq_verdict(a->m_msgs >= 1.5 * n->m_msgs,
			   "steady 2x2 M=%lu: adaptive >= 1.5x naive msgs/s (%.2fx)",
			   m, a->m_msgs / n->m_msgs);
	bq_verdict(a->m_cpu <= 0.6 * n->m_cpu,
		   "steady %lux%lu M=%lu: adaptive CPU/msg <= 0.6x naive (%.2fx)",
		   np, nw, m, a->m_cpu / n->m_cpu);
	if (a->m_futex >= 0 && n->m_futex >= 0)
		bq_verdict(a->m_futex <= 1.0 && a->m_futex <= n->m_futex,
			   "steady %lux%lu M=%lu: adaptive futex calls %.2f per 1k msgs <= 1 and <= naive (%.2f)",
			   np, nw, m, a->m_futex, n->m_futex);
}

/* Every round of every variant at one (P, W, M), interleaved. */
static void steady_rounds(const struct bq_opts *o,
			  const struct bq_variant **vs, const bool *avail,
			  size_t nv, unsigned long np, unsigned long nw,
			  unsigned long m, struct steady_cell *cells,
			  unsigned long *step, unsigned long steps)
{
	unsigned long rounds = o->rounds ? o->rounds : 1, rnd;
	struct steady_result res;
	size_t i, k;

	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	memset(cells, 0, sizeof(*cells) * nv);
	for (rnd = 0; rnd < rounds; rnd++) {
		for (i = 0; i < nv; i++) {
			k = (i + rnd) % nv;
			if (!avail[k])
				continue;
			if (steady_once(vs[k], np, nw, o->messages, m,
					&res) < 0) {
				cells[k].bad++;
				continue;
			}
			steady_add(&cells[k], &res);
			if (res.stuck)
				fprintf(stderr,
					"readyq-bench: steady %s %lux%lu M=%lu: STUCK, %ld messages never taken\n",
					vs[k]->name, np, nw, m, res.lost);
			bq_progress("steady", ++*step, steps);
		}
	}
	for (k = 0; k < nv; k++)
		if (cells[k].n)
			steady_summarise(&cells[k]);
}

int bench_steady(const struct bq_opts *o)
{
	const struct bq_variant *vs[MAX_VARIANTS];
	struct steady_cell *cells;
	bool avail[MAX_VARIANTS], any_bad = false;
	unsigned long cfg[8][2], step = 0, steps;
	size_t nv, nc, ci, mi, k;
	struct bq_opts opts = *o;
	FILE *csv;

	opts.with_batch = true;
	nc = o->nr_configs;
	if (nc) {
		memcpy(cfg, o->configs, sizeof(cfg));
	} else {
		cfg[0][0] = o->producers;
		cfg[0][1] = o->workers;
		nc = 1;
	}
	for (ci = 0; ci < nc; ci++)
		if (cfg[ci][0] > MAX_THREADS || cfg[ci][1] > MAX_THREADS)
			return 1;
	nv = bq_pick_variants(&opts, NULL, vs, avail, MAX_VARIANTS);
	cells = calloc(nv, sizeof(*cells));
	if (!cells)
		return 1;
	for (k = 0; k < nv && steady_clock_ns < 0; k++)
		if (avail[k] && (vs[k]->flags & READYQ_FLAG_HISTOGRAMS))
			steady_clock_ns = bq_clock_read_ns(&steady_clock_name);
	steps = nc * o->nr_mailboxes * nv * (o->rounds ? o->rounds : 1);
	csv = bq_csv_open(o, "variant,producers,workers,mailboxes,msgs_per_s,spread,cpu_ns_per_msg,futex_per_1k,waitq_futex_per_1k,vcsw_per_1k,empty_wake_pct,double_turns,check");
	printf("# steady: %lu messages per producer, batches of %d; medians of %lu rounds\n",
	       o->messages, STEADY_DRAIN, o->rounds ? o->rounds : 1);
	printf("# futex/k: futex(2) calls per 1,000 messages (kernel count); waitq/k:\n"
	       "# the library's wait-queue sleeps + wake calls per 1,000 messages\n");
	printf("# %-14s PxW %8s %8s %6s %7s %7s %7s %7s %6s %s\n", "variant",
	       "M", "Mmsg/s", "spread", "cpu_ns", "futex/k", "waitq/k",
	       "vcsw/k", "empty%", "double check");
	for (ci = 0; ci < nc; ci++) {
		for (mi = 0; mi < o->nr_mailboxes; mi++) {
			unsigned long m = o->mailboxes[mi];

			steady_rounds(o, vs, avail, nv, cfg[ci][0], cfg[ci][1],
				      m, cells, &step, steps);
			for (k = 0; k < nv; k++) {
				if (!cells[k].n)
					continue;
				steady_print(vs[k], cfg[ci][0], cfg[ci][1], m,
					     &cells[k], csv);
				any_bad |= cells[k].bad != 0;
			}
			steady_verdicts(vs, cells, nv, cfg[ci][0], cfg[ci][1],
					m);
			fflush(stdout);
		}
	}
	bq_progress_end();
	if (csv)
		fclose(csv);
	free(cells);
	return any_bad ? 1 : 0;
}
