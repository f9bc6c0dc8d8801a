/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench.h - shared pieces of perf/readyq-bench
 *
 * Overview
 * --------
 * readyq-bench measures every backend of libreadyq beside baselines that
 * live only here: "naive" (one pthread mutex, a chained hash map and a
 * linked FIFO, same RUNNING/NOTIFIED semantics), "lockfree_mutex" (the
 * lock-free backend behind an outside pthread mutex, the seed's V1) and,
 * for the seed workload only, "floor" (a claim byte per slot and a
 * wait-free enqueue).  Every subcommand runs all variants interleaved in
 * one process, so ratios taken from one run hold on a noisy machine.
 *
 * A variant is a small table of operations (struct bq_variant) over an
 * opaque handle; the library's backends go through thin wrappers, so each
 * variant pays the same indirect call.
 */
#ifndef READYQ_PERF_BENCH_H
#define READYQ_PERF_BENCH_H

#include <readyq/readyq.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <sys/time.h>
#include <time.h>

/**
 * struct bq_variant - one implementation of the ready-queue contract
 * @name: printed name (locked, lockfree, adaptive, naive, lockfree_mutex)
 * @backend: the library backend behind it, or -1 for naive
 * @create: build a queue; -ENOTSUP when the backend is not built
 * @destroy: free it (indices may still be queued or running)
 * @reg: readyq_register()
 * @drain: readyq_drain()
 * @complete: readyq_complete()
 * @wait: readyq_wait()
 * @shutdown: readyq_shutdown()
 * @stats: readyq_stats(), NULL for baselines outside the library
 * @batch: steady only (see bq_pick_variants()): use the batch calls
 * @reg_batch: readyq_register_batch()
 * @complete_batch: readyq_complete_batch()
 */
struct bq_variant {
	const char *name;
	int backend;
	uint32_t hint;
	uint32_t flags; /* cfg.flags (READYQ_FLAG_HISTOGRAMS) */
	bool extra;
	int (*create)(const struct bq_variant *v, size_t capacity_hint,
		      void **hp);
	void (*destroy)(void *h);
	int (*reg)(void *h, struct readyq_index idx);
	ssize_t (*drain)(void *h, struct readyq_index *out, size_t max);
	int (*complete)(void *h, struct readyq_index idx,
			const struct readyq_result *res);
	int (*wait)(void *h, int64_t timeout_ns);
	void (*shutdown)(void *h);
	int (*stats)(void *h, struct readyq_stats *st);
	bool batch;
	ssize_t (*reg_batch)(void *h, const struct readyq_index *idx,
			     size_t n);
	ssize_t (*complete_batch)(void *h, const struct readyq_index *idx,
				  const struct readyq_result *res, size_t n);
};

/* variants.c */
extern const struct bq_variant bq_variants[];
extern const size_t bq_nr_variants;
const struct bq_variant *bq_find_variant(const char *name);
bool bq_variant_available(const struct bq_variant *v);

/* A struct timeval (getrusage) in nanoseconds. */
static inline double bq_tv_ns(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e9 + (double)tv->tv_usec * 1e3;
}

/* util.c: system calls counted by the kernel (perf tracepoint) */
int bq_futex_counter_open(void);
long long bq_futex_counter_read(int fd);

/* machine.c: what this machine allows (the "# bound" lines) */
double bq_chase_ns(size_t bytes, unsigned long steps);
double bq_clock_read_ns(const char **name);

/* util.c */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Process CPU time in ns: what the one-thread benchmarks (scale,
 * histcost) time, since on the shared 2-vCPU machines wall time mostly
 * measures the neighbours (perf/README.md).
 */
static inline uint64_t bq_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The next of Marsaglia's xorshift64 (13, 7, 17) numbers in *@x (not 0). */
static inline uint64_t bq_xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/**
 * struct bq_opts - options shared by every subcommand
 * @csv: CSV output file name or NULL
 * @only: comma-separated variant names to run, NULL = all
 * @iterations: seed: timed iterations per variant and thread count
 * @threads: seed: thread counts
 * @mailboxes: steady: mailbox counts; scale: sizes
 * @producers: steady: producer threads
 * @workers: steady: worker threads
 * @messages: steady: messages per producer; scale: operations per size
 * @samples: latency: wake-ups measured per variant
 * @rounds: steady and scale: repetitions (median is reported)
 * @worker_list: actors: worker counts (--workers 2,4; steady takes the
 *	first as @workers)
 * @nr_workers: entries in @worker_list
 * @workers_text: actors: --workers as given, or NULL
 * @scale: actors: message counts times this (1.0 = the full sizes)
 * @bench: actors: comma-separated benchmark names, NULL = all
 * @raw: actors: one line per run instead of medians
 * @fault: actors: spoil one count after each run (tests the checks)
 * @with_batch: steady: also the *_batch variants
 * @configs: steady: producers x workers pairs (--configs 1x1,2x2)
 * @nr_configs: entries in @configs, 0 = @producers x @workers
 */
struct bq_opts {
	const char *csv;
	const char *only;
	unsigned long iterations;
	unsigned long threads[16];
	size_t nr_threads;
	unsigned long mailboxes[16];
	size_t nr_mailboxes;
	unsigned long producers;
	unsigned long workers;
	unsigned long messages;
	unsigned long samples;
	unsigned long rounds;
	unsigned long worker_list[16];
	size_t nr_workers;
	const char *workers_text;
	double scale;
	const char *bench;
	bool raw;
	bool fault;
	bool with_batch; /* steady: the *_batch variants too */
	unsigned long configs[8][2]; /* steady: producers x workers */
	size_t nr_configs;
};

bool bq_selected(const struct bq_opts *o, const char *name);
size_t bq_pick_variants(const struct bq_opts *o, const char *unless_asked,
			const struct bq_variant **vs, bool *avail, size_t max);
int bq_parse_list(const char *s, unsigned long *out, size_t max);
int bq_parse_configs(const char *s, struct bq_opts *o);
int bq_cmp_double(const void *a, const void *b);
double bq_median(double *v, size_t n);
double bq_percentile(double *sorted, size_t n, double p);
FILE *bq_csv_open(const struct bq_opts *o, const char *header);
void bq_progress(const char *what, unsigned long done, unsigned long total);
void bq_progress_end(void);
void bq_verdict(bool pass, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* the subcommands */
int bench_seed(const struct bq_opts *o);
int bench_steady(const struct bq_opts *o);
int bench_latency(const struct bq_opts *o);
int bench_scale(const struct bq_opts *o);
int bench_actors(const struct bq_opts *o);
int bench_histcost(const struct bq_opts *o);

#endif /* READYQ_PERF_BENCH_H */
