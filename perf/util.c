// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * util.c - statistics, CSV, progress and verdict helpers for readyq-bench
 *
 * Overview
 * --------
 * Medians and percentiles over sorted doubles, the variant filter
 * (--only), comma-separated list parsing, CSV files with a header, a
 * progress line on stderr that appears only once a run has lasted a few
 * seconds, and the PASS/MISS lines of the summaries.
 */
#include "bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <linux/perf_event.h>
#include <unistd.h>

bool bq_selected(const struct bq_opts *o, const char *name)
{
	const char *p = o->only;
	size_t len = strlen(name);

	if (!p)
		return true;
	while (*p) {
		if (!strncmp(p, name, len) && (p[len] == ',' || !p[len]))
			return true;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	return false;
}

/*
 * The variants --only selects, in table order, into @vs (room for @max),
 * with whether each can run in @avail.  @unless_asked names one that is
 * left out unless --only names it (or NULL).  Returns how many.
 */
size_t bq_pick_variants(const struct bq_opts *o, const char *unless_asked,
			const struct bq_variant **vs, bool *avail, size_t max)
{
	size_t i, nv = 0;

	for (i = 0; i < bq_nr_variants && nv < max; i++) {
		if (!bq_selected(o, bq_variants[i].name) ||
		    (bq_variants[i].extra && !o->only) ||
		    (bq_variants[i].batch && !o->with_batch) ||
		    (unless_asked && !o->only &&
		     !strcmp(bq_variants[i].name, unless_asked)))
			continue;
		vs[nv] = &bq_variants[i];
		avail[nv] = bq_variant_available(vs[nv]);
		nv++;
	}
	return nv;
}

/**
 * bq_parse_list() - parse "1,2,4,8" (k and M suffixes allowed)
 * @s: the text
 * @out: where the numbers go
 * @max: room in @out
 *
 * Return: how many numbers, or -EINVAL.
 */
int bq_parse_list(const char *s, unsigned long *out, size_t max)
{
	size_t n = 0;
	char *end;

	while (*s) {
		if (n == max)
			return -EINVAL;
		errno = 0;
		out[n] = strtoul(s, &end, 10);
		if (errno || end == s || !out[n])
			return -EINVAL;
		if (*end == 'k') {
			out[n] *= 1000;
			end++;
		} else if (*end == 'M') {
			out[n] *= 1000000;
			end++;
		}
		n++;
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return n ? (int)n : -EINVAL;
}

int bq_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v in place. */
double bq_median(double *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bq_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nearest-rank percentile of an already sorted array. */
double bq_percentile(double *sorted, size_t n, double p)
{
	size_t k;

	if (!n)
		return 0;
	k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return sorted[k - 1];
}

FILE *bq_csv_open(const struct bq_opts *o, const char *header)
{
	FILE *f;

	if (!o->csv)
		return NULL;
	f = fopen(o->csv, "w");
	if (!f) {
		fprintf(stderr, "readyq-bench: %s: %s\n", o->csv,
			strerror(errno));
		return NULL;
	}
	fprintf(f, "%s\n", header);
	return f;
}

static uint64_t progress_start, progress_last;
static bool progress_shown;

/**
 * bq_progress() - report progress on stderr for runs longer than 3 s
 * @what: the subcommand and step
 * @done: units done
 * @total: units in all
 *
 * Silent for the first 3 seconds; then at most twice a second on a
 * terminal (one rewritten line) and every 10 seconds otherwise.
 */
void bq_progress(const char *what, unsigned long done, unsigned long total)
{
	uint64_t t = now_ns();
	bool tty = isatty(2);

	if (!progress_start)
		progress_start = t;
	if (t - progress_start < 3000000000ull)
		return;
	if (t - progress_last < (tty ? 500000000ull : 10000000000ull))
		return;
	progress_last = t;
	fprintf(stderr, "%s[%s] %lu/%lu, %.0f s%s", tty ? "\r" : "", what, done,
		total, (double)(t - progress_start) / 1e9, tty ? "   " : "\n");
	progress_shown = tty;
}

void bq_progress_end(void)
{
	if (progress_shown)
		fputc('\n', stderr);
	progress_shown = false;
	progress_start = 0;
	progress_last = 0;
}

void bq_verdict(bool pass, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", pass ? "PASS" : "MISS");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/**
 * bq_futex_counter_open() - count this process's futex(2) calls
 *
 * A perf event on the syscalls:sys_enter_futex tracepoint for the calling
 * thread and every thread it creates from now on (inherit), so the
 * figure covers every variant alike, the baselines' condition variables
 * included.  Needs tracefs and perf_event_paranoid <= 1 or root.
 *
 * Return: the event's fd, or -1 when the kernel does not allow it.
 */
int bq_futex_counter_open(void)
{
	static const char *const ids[] = {
		"/sys/kernel/tracing/events/syscalls/sys_enter_futex/id",
		"/sys/kernel/debug/tracing/events/syscalls/sys_enter_futex/id",
	};
	struct perf_event_attr pe;
	unsigned long long id = 0;
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]) && !id; i++) {
		f = fopen(ids[i], "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &id) != 1)
			id = 0;
		fclose(f);
	}
	if (!id)
		return -1;
	memset(&pe, 0, sizeof(pe));
	pe.type = PERF_TYPE_TRACEPOINT;
	pe.size = sizeof(pe);
	pe.config = id;
	pe.inherit = 1;
	pe.disabled = 0;
	return (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

/*
 * bq_futex_counter_read() - the count so far (threads that exited
 * included), or -1.
 */
long long bq_futex_counter_read(int fd)
{
	long long v;

	if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return -1;
	return v;
}

/**
 * bq_parse_configs() - parse "1x1,2x2,4x4" into @o->configs
 * @s: the text
 * @o: the options
 *
 * Return: how many pairs, or -EINVAL.
 */
int bq_parse_configs(const char *s, struct bq_opts *o)
{
	size_t n = 0, max = sizeof(o->configs) / sizeof(o->configs[0]);
	unsigned long p, w;
	char *end;

	while (*s) {
		if (n == max)
			return -EINVAL;
		p = strtoul(s, &end, 10);
		if (end == s || *end != 'x' || !p)
			return -EINVAL;
		s = end + 1;
		w = strtoul(s, &end, 10);
		if (end == s || !w || (*end && *end != ','))
			return -EINVAL;
		o->configs[n][0] = p;
		o->configs[n][1] = w;
		n++;
		s = *end ? end + 1 : end;
	}
	o->nr_configs = n;
	return n ? (int)n : -EINVAL;
}
