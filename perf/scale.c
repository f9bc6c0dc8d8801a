// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * scale.c - cost per operation and bytes per mailbox, 1,000 to 1,000,000
 * mailboxes
 *
 * Overview
 * --------
 * For each size N and variant (default configuration, capacity_hint 0, so
 * growth is part of the cost):
 *  - memory: glibc's mallinfo2() (in-use arena bytes plus mmapped bytes)
 *    before readyq_create(), after registering N distinct mailboxes
 *    (all QUEUED: the peak) and after draining and completing them all
 *    (all known and IDLE).  The deltas divided by N are the bytes per
 *    mailbox, fixed costs included.
 *  - time: then K operations on mailboxes picked at random among the N
 *    (register; every 32 registers, drain and complete each with
 *    COMPLETED(false)); ns per register+drain+complete.
 * Each round runs every size and every variant (order rotated), so the
 * sizes compared by the 2x target are measured side by side; the median
 * over rounds is printed.
 * Everything runs in the main thread, so mallinfo2() sees every
 * allocation the queue makes (its own helper threads' arenas included).
 */
#include "bench.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

static size_t heap_bytes(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

struct scale_result {
	double bytes_queued, bytes_idle, ns_per_op;
};

static int scale_once(const struct bq_variant *v, unsigned long n,
		      unsigned long ops, struct scale_result *out)
{
	struct readyq_result done = readyq_result_completed(false);
	struct readyq_index idx = { .generation = 0 }, batch[1024];
	size_t before, queued, idle;
	uint64_t x = 0x2545f4914f6cdd1dull, t0, t1;
	unsigned long i, got = 0;
	ssize_t k, j;
	void *h;
	int rc;

	before = heap_bytes();
	rc = v->create(v, 0, &h);
	if (rc < 0)
		return rc;
	for (i = 0; i < n; i++) {
		idx.slot = (uint32_t)i;
		if (v->reg(h, idx) != 1)
			goto fail;
	}
	queued = heap_bytes();
	while ((k = v->drain(h, batch, 1024)) > 0) {
		for (j = 0; j < k; j++)
			if (v->complete(h, batch[j], &done) < 0)
				goto fail;
		got += (unsigned long)k;
	}
	if (got != n)
		goto fail;
	idle = heap_bytes();

	t0 = now_ns();
	for (i = 0; i < ops; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		idx.slot = (uint32_t)(x % n);
		if (v->reg(h, idx) < 0)
			goto fail;
		if ((i & 31) != 31)
			continue;
		while ((k = v->drain(h, batch, 32)) > 0)
			for (j = 0; j < k; j++)
				if (v->complete(h, batch[j], &done) < 0)
					goto fail;
	}
	t1 = now_ns();
	v->destroy(h);
	out->bytes_queued = ((double)queued - (double)before) / (double)n;
	out->bytes_idle = ((double)idle - (double)before) / (double)n;
	out->ns_per_op = (double)(t1 - t0) / (double)ops;
	return 0;
fail:
	v->destroy(h);
	return -EIO;
}

int bench_scale(const struct bq_opts *o)
{
	const struct bq_variant *vs[16];
	bool avail[16];
	double bq[16][16], bi[16][16], ns[16][16], tmp[32];
	size_t nv = 0, i, k, si, ns_sz = o->nr_mailboxes;
	unsigned long rnd, rounds = o->rounds ? o->rounds : 1, step = 0;
	static struct scale_result res[16][16][32];
	FILE *csv;

	if (rounds > 32)
		rounds = 32;
	/* lockfree_mutex holds what lockfree holds: only on request */
	nv = bq_pick_variants(o, "lockfree_mutex", vs, avail,
			      sizeof(avail) / sizeof(avail[0]));
	csv = bq_csv_open(
		o,
		"variant,mailboxes,bytes_per_mailbox_queued,bytes_per_mailbox_idle,ns_per_op");
	printf("# scale: %lu random register+drain+complete per size; bytes from mallinfo2()\n",
	       o->messages);
	printf("# variant mailboxes bytes_per_mailbox_queued bytes_per_mailbox_idle ns_per_op\n");
	if (ns_sz > 16)
		ns_sz = 16;
	/* sizes inside rounds: the 1k and 1M figures see the same machine */
	for (rnd = 0; rnd < rounds; rnd++) {
		for (si = 0; si < ns_sz; si++) {
			for (i = 0; i < nv; i++) {
				k = (i + rnd + si) % nv;
				if (!avail[k])
					continue;
				if (scale_once(vs[k], o->mailboxes[si],
					       o->messages, &res[k][si][rnd])) {
					fprintf(stderr,
						"readyq-bench: scale %s %lu: a call failed\n",
						vs[k]->name, o->mailboxes[si]);
					return 1;
				}
				bq_progress("scale", ++step,
					    ns_sz * rounds * nv);
			}
		}
	}
	for (si = 0; si < ns_sz; si++) {
		unsigned long n = o->mailboxes[si];

		for (k = 0; k < nv; k++) {
			if (!avail[k]) {
				printf("%s %lu n/a (not built)\n", vs[k]->name,
				       n);
				if (csv)
					fprintf(csv, "%s,%lu,,,\n", vs[k]->name,
						n);
				continue;
			}
			for (rnd = 0; rnd < rounds; rnd++)
				tmp[rnd] = res[k][si][rnd].bytes_queued;
			bq[k][si] = bq_median(tmp, rounds);
			for (rnd = 0; rnd < rounds; rnd++)
				tmp[rnd] = res[k][si][rnd].bytes_idle;
			bi[k][si] = bq_median(tmp, rounds);
			for (rnd = 0; rnd < rounds; rnd++)
				tmp[rnd] = res[k][si][rnd].ns_per_op;
			ns[k][si] = bq_median(tmp, rounds);
			printf("%s %lu %.1f %.1f %.1f\n", vs[k]->name, n,
			       bq[k][si], bi[k][si], ns[k][si]);
			if (csv)
				fprintf(csv, "%s,%lu,%.1f,%.1f,%.1f\n",
					vs[k]->name, n, bq[k][si], bi[k][si],
					ns[k][si]);
		}
		fflush(stdout);
	}
	bq_progress_end();
	if (csv)
		fclose(csv);
	for (k = 0; k < nv && ns_sz >= 2; k++) {
		double lim = 0;

		if (!avail[k] || vs[k]->backend < 0 ||
		    !strcmp(vs[k]->name, "lockfree_mutex"))
			continue;
		bq_verdict(
			ns[k][ns_sz - 1] <= 2 * ns[k][0],
			"scale %s per-op %.1f ns at %lu <= 2 x %.1f ns at %lu (%.2fx)",
			vs[k]->name, ns[k][ns_sz - 1], o->mailboxes[ns_sz - 1],
			ns[k][0], o->mailboxes[0], ns[k][ns_sz - 1] / ns[k][0]);
		if (vs[k]->backend == READYQ_BACKEND_LOCKED)
			lim = 32;
		else if (vs[k]->backend == READYQ_BACKEND_LOCKFREE)
			lim = 64;
		if (lim > 0)
			bq_verdict(
				bq[k][ns_sz - 1] <= lim &&
					bi[k][ns_sz - 1] <= lim,
				"scale %s bytes/mailbox at %lu: %.1f queued, %.1f idle <= %.0f",
				vs[k]->name, o->mailboxes[ns_sz - 1],
				bq[k][ns_sz - 1], bi[k][ns_sz - 1], lim);
	}
	return 0;
}
