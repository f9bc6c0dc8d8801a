// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fuzz-diff.c - differential fuzzer: every backend against tests/model.c
 *
 * Overview
 * --------
 * An input is a byte string decoded into a sequence of API calls:
 * register and unregister with varied slots (mostly 12 hot ones, up to
 * 108 so that tables grow, and extreme values) and generations (0-3 and
 * UINT32_MAX), drain with max 0..8 or a NULL buffer, complete with every
 * outcome (ready or not, yield, suspend on a signal, after a delay or on
 * capacity, failed with and without retry,
 * stop, and invalid enum values or a NULL result), resume, resume_signal,
 * poll_signal, wait with a zero timeout, NULL handles, an injected
 * allocation failure before a call, and shutdown.  Each call goes to one
 * queue per backend of rq_test_backends[] and to that queue's own
 * reference model (tests/model.h); the fuzzer aborts on the first
 * difference in a return value, in a drain result (checked by
 * mdl_drain_check()) or in the counters of readyq_stats() (all but
 * switches and active).  An injected allocation failure must give
 * -ENOMEM with the stats unchanged; the call is then repeated without
 * the fault and must agree with the model.
 *
 * Time, made deterministic: the only delays used are 0 and
 * MDL_LONG_DELAY_NS (an hour).  An hour never passes during a run; a
 * RESUME_AFTER suspension of 0 ns is due at once.  After every call that
 * suspends with a zero delay the driver spins until CLOCK_MONOTONIC has
 * moved on, so that no two such suspensions of a queue share a deadline:
 * the library must then queue them in the order they were suspended,
 * which is what the model does.  (FAILED with a 0 retry means "no retry",
 * so DELAYED always uses the long delay.)
 *
 * Two builds:
 *  - make fuzz (clang -fsanitize=fuzzer,address,undefined):
 *    tests/fuzz-diff-libfuzzer, a libFuzzer target;
 *  - tests/fuzz-diff (any compiler, run by make check): replays the seed
 *    corpus tests/fuzz/corpus/ and then RQ_FUZZ_RUNS (default 3000)
 *    random inputs from seed RQ_FUZZ_SEED.  Arguments name other files or
 *    directories to replay instead of the corpus (e.g. a crash file).
 */
#include "testutil.h"
#include "alloc.h"
#include "backend.h"
#include "model.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NB RQ_NR_TEST_BACKENDS

struct target {
	struct readyq *q;
	struct mdl m;
	enum readyq_backend b;
};

struct input {
	const uint8_t *p;
	size_t n;
};

static unsigned long long fz_ops;

static uint8_t get8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static struct readyq_index get_idx(struct input *in)
{
	uint8_t s = get8(in), g = get8(in);
	struct readyq_index idx;

	if (s < 0xa0)
		idx.slot = s % 12;
	else if (s < 0xf0)
		idx.slot = 16 + (s - 0xa0); /* 80 more: tables grow */
	else if (s < 0xf8)
		idx.slot = UINT32_MAX - (s & 3);
	else
		idx.slot = 0x80000000u + (s & 7) * 0x10001u;
	if (g < 0xf0)
		idx.generation = g % 4;
	else
		idx.generation = UINT32_MAX - (g & 1);
	return idx;
}

/* Decode a result; *zero_after tells that it suspends for 0 ns. */
static struct readyq_result get_result(struct input *in, bool *zero_after)
{
	uint8_t o = get8(in), a = get8(in);
	enum readyq_suspend_reason why = (enum readyq_suspend_reason)(a % 4);
	struct readyq_result r;

	*zero_after = false;
	switch (o % 15) {
	case 0:
		return readyq_result_completed(true);
	case 1:
	case 2:
		return readyq_result_completed(false);
	case 3:
		return readyq_result_yielded();
	case 4:
		return readyq_result_suspended(why, READYQ_RESUME_SIGNAL,
					       (a >> 2) % 4);
	case 5:
		*zero_after = true;
		return readyq_result_suspended(why, READYQ_RESUME_AFTER, 0);
	case 6:
		return readyq_result_suspended(why, READYQ_RESUME_AFTER,
					       MDL_LONG_DELAY_NS);
	case 7:
		return readyq_result_suspended(why, READYQ_RESUME_CAPACITY, 0);
	case 8:
		return readyq_result_failed(-EIO, 0);
	case 9:
		return readyq_result_failed(-EAGAIN, MDL_LONG_DELAY_NS);
	case 10:
		return readyq_result_stopped();
	case 11: /* an unknown outcome */
		r = readyq_result_yielded();
		r.outcome = (enum readyq_outcome)(5 + a);
		return r;
	case 12: /* an unknown suspend reason */
		r = readyq_result_suspended(why, READYQ_RESUME_CAPACITY, 0);
		r.reason = (enum readyq_suspend_reason)(4 + a);
		return r;
	case 13: /* an unknown resume kind */
		r = readyq_result_suspended(why, READYQ_RESUME_SIGNAL, 1);
		r.resume_on = (enum readyq_resume_kind)(3 + a);
		return r;
	default: /* fields that do not apply are ignored */
		r = readyq_result_completed(a & 1);
		r.reason = (enum readyq_suspend_reason)0x7fff;
		r.resume_on = (enum readyq_resume_kind)0x7fff;
		r.delay_ns = a;
		return r;
	}
}

static void fail(const struct target *t, const char *what, long got,
		 long want)
{
	fprintf(stderr, "fuzz-diff: backend %s: %s: got %ld, model %ld\n",
		readyq_backend_name(t->b), what, got, want);
	abort();
}

static void check_rc(const struct target *t, const char *what, long got,
		     long want)
{
	if (got != want)
		fail(t, what, got, want);
}

#define CMP(f)                                                                 \
	do {                                                                   \
		if (a->f != b->f)                                              \
			fail(t, "stats." #f, (long)a->f, (long)b->f);          \
	} while (0)

static void cmp_stats(const struct target *t, const struct readyq_stats *a,
		      const struct readyq_stats *b)
{
	CMP(registered);
	CMP(duplicates);
	CMP(notified);
	CMP(unregistered);
	CMP(drained);
	CMP(completed);
	CMP(stale);
	CMP(waits);
	CMP(wakeups);
	CMP(timeouts);
	CMP(queued);
	CMP(running);
	CMP(suspended);
	CMP(delayed);
}

static void check_stats(const struct target *t)
{
	struct readyq_stats got, want;

	check_rc(t, "stats", readyq_stats(t->q, &got), 0);
	mdl_stats(&t->m, &want);
	cmp_stats(t, &got, &want);
}

/* Let CLOCK_MONOTONIC move past every deadline set so far. */
static void clock_tick(void)
{
	uint64_t t0 = test_now_ns();

	while (test_now_ns() == t0)
		;
}

enum op {
	OP_REGISTER, OP_REGISTER2, OP_REGISTER3, OP_UNREGISTER, OP_DRAIN,
	OP_DRAIN2, OP_COMPLETE_RUNNING, OP_COMPLETE_RUNNING2, OP_COMPLETE_ANY,
	OP_RESUME, OP_RESUME_SIGNAL, OP_POLL, OP_WAIT0, OP_BAD, OP_FAULT,
	OP_SHUTDOWN, NR_OPS
};

/*
 * One call on one target, decoded from a private copy of the input so
 * that every target gets the same call.  Returns what the call returned
 * (-ENOMEM tells the caller that an injected fault hit).
 */
static long one_call(struct target *t, struct input in, enum op op,
		     bool *zero_after)
{
	struct readyq_index idx, out[8];
	struct readyq_result res;
	struct readyq_stats st;
	long rc;
	size_t max;
	bool null_out;
	uint8_t x;
	const char *err;

	*zero_after = false;
	switch (op) {
	case OP_REGISTER:
	case OP_REGISTER2:
	case OP_REGISTER3:
		idx = get_idx(&in);
		rc = readyq_register(t->q, idx);
		if (rc != -ENOMEM)
			check_rc(t, "register", rc, mdl_register(&t->m, idx));
		return rc;
	case OP_UNREGISTER:
		idx = get_idx(&in);
		rc = readyq_unregister(t->q, idx);
		if (rc != -ENOMEM)
			check_rc(t, "unregister", rc,
				 mdl_unregister(&t->m, idx));
		return rc;
	case OP_DRAIN:
	case OP_DRAIN2:
		x = get8(&in);
		max = x % 9;
		null_out = x >= 0xf8;
		memset(out, 0xa5, sizeof(out));
		rc = readyq_drain(t->q, null_out ? NULL : out, max);
		if (rc == -ENOMEM)
			return rc;
		err = mdl_drain_check(&t->m, null_out, max, rc, out);
		if (err)
			fail(t, err, rc, (long)mdl_ready(&t->m));
		return rc;
	case OP_COMPLETE_RUNNING:
	case OP_COMPLETE_RUNNING2:
	case OP_COMPLETE_ANY:
		x = get8(&in);
		if (op == OP_COMPLETE_ANY ||
		    !mdl_nth_running(&t->m, x % 4, &idx))
			idx = get_idx(&in);
		res = get_result(&in, zero_after);
		rc = readyq_complete(t->q, idx, &res);
		if (rc != -ENOMEM)
			check_rc(t, "complete", rc,
				 mdl_complete(&t->m, idx, &res));
		return rc;
	case OP_RESUME:
		idx = get_idx(&in);
		rc = readyq_resume(t->q, idx);
		if (rc != -ENOMEM)
			check_rc(t, "resume", rc, mdl_resume(&t->m, idx));
		return rc;
	case OP_RESUME_SIGNAL:
		x = get8(&in);
		rc = readyq_resume_signal(t->q, x % 4);
		if (rc != -ENOMEM)
			check_rc(t, "resume_signal", rc,
				 mdl_resume_signal(&t->m, x % 4));
		return rc;
	case OP_POLL:
		rc = readyq_poll_signal(t->q);
		check_rc(t, "poll_signal", rc, mdl_poll_signal(&t->m));
		return rc;
	case OP_WAIT0:
		rc = readyq_wait(t->q, 0);
		check_rc(t, "wait(0)", rc, mdl_wait0(&t->m));
		return rc;
	case OP_BAD:
		idx = get_idx(&in);
		res = readyq_result_yielded();
		x = get8(&in);
		switch (x % 8) {
		case 0:
			rc = readyq_register(NULL, idx);
			break;
		case 1:
			rc = readyq_unregister(NULL, idx);
			break;
		case 2:
			rc = readyq_drain(NULL, out, 8);
			break;
		case 3:
			rc = readyq_complete(NULL, idx, &res);
			break;
		case 4:
			rc = readyq_complete(t->q, idx, NULL);
			break;
		case 5:
			rc = readyq_resume(NULL, idx);
			break;
		case 6:
			rc = readyq_resume_signal(NULL, 0);
			break;
		default:
			rc = readyq_stats(t->q, NULL) ?:
				     readyq_stats(NULL, &st) ?:
				     readyq_poll_signal(NULL) ?:
				     readyq_wait(NULL, 0);
			break;
		}
		check_rc(t, "NULL argument", rc, -EINVAL);
		return rc;
	case OP_SHUTDOWN:
		readyq_shutdown(t->q);
		mdl_shutdown(&t->m);
		return 0;
	default:
		abort();
	}
}

static enum op get_op(struct input *in, bool *shutdown_ok)
{
	enum op op = (enum op)(get8(in) % NR_OPS);

	/* Shut down rarely: it ends most of the interesting behaviour. */
	if (op == OP_SHUTDOWN && !(*shutdown_ok = get8(in) == 0x5d))
		op = OP_POLL;
	return op;
}

/*
 * Skip the arguments of @op in @in: one_call() read them from a copy.  At
 * most this many bytes: idx 2 + selector 1 + idx 2 + result 2.
 */
static void skip_args(struct input *in, enum op op)
{
	static const uint8_t len[NR_OPS] = {
		[OP_REGISTER] = 2, [OP_REGISTER2] = 2, [OP_REGISTER3] = 2,
		[OP_UNREGISTER] = 2, [OP_DRAIN] = 1, [OP_DRAIN2] = 1,
		[OP_COMPLETE_RUNNING] = 5, [OP_COMPLETE_RUNNING2] = 5,
		[OP_COMPLETE_ANY] = 5, [OP_RESUME] = 2,
		[OP_RESUME_SIGNAL] = 1, [OP_BAD] = 3,
	};
	size_t k = len[op] < in->n ? len[op] : in->n;

	in->p += k;
	in->n -= k;
}

static void run_input(const uint8_t *data, size_t size)
{
	struct target t[NB];
	struct input in = { data, size };
	struct readyq_config cfg;
	struct readyq_stats before, after;
	struct readyq_index out[64];
	int k;

	for (k = 0; k < NB; k++) {
		readyq_config_init(&cfg);
		cfg.backend = rq_test_backends[k];
		t[k].b = cfg.backend;
		if (readyq_create(&cfg, &t[k].q))
			abort();
		mdl_init(&t[k].m);
	}
	while (in.n) {
		bool shutdown_ok = false, zero_after = false, any_zero = false;
		unsigned long fault = 0;
		enum op op = get_op(&in, &shutdown_ok);
		long rc;

		if (op == OP_FAULT) {
			/* Fail one of the next allocations of the next call. */
			fault = get8(&in) % 4 + 1;
			op = get_op(&in, &shutdown_ok);
			if (op == OP_FAULT)
				op = OP_REGISTER;
		}
		for (k = 0; k < NB; k++) {
			if (fault) {
				check_rc(&t[k], "stats", readyq_stats(t[k].q,
								      &before),
					 0);
				rq_alloc_fail_nth(fault);
			}
			rc = one_call(&t[k], in, op, &zero_after);
			rq_alloc_fail_nth(0);
			if (rc == -ENOMEM) {
				if (!fault)
					fail(&t[k], "-ENOMEM without a fault",
					     rc, 0);
				/* Nothing may have changed; then retry. */
				check_rc(&t[k], "stats", readyq_stats(t[k].q,
								      &after),
					 0);
				cmp_stats(&t[k], &after, &before);
				check_stats(&t[k]);
				rc = one_call(&t[k], in, op, &zero_after);
				if (rc == -ENOMEM)
					fail(&t[k], "-ENOMEM without a fault",
					     rc, 0);
			}
			any_zero |= zero_after && rc == 0;
			check_stats(&t[k]);
			fz_ops++;
		}
		skip_args(&in, op);
		if (any_zero)
			clock_tick();
	}
	/* The end: everything still queued comes out, in order. */
	for (k = 0; k < NB; k++) {
		ssize_t n;
		const char *err;

		do {
			n = readyq_drain(t[k].q, out, 64);
			err = mdl_drain_check(&t[k].m, false, 64, n, out);
			if (err)
				fail(&t[k], err, n, (long)mdl_ready(&t[k].m));
		} while (n > 0);
		check_stats(&t[k]);
		readyq_destroy(t[k].q);
		mdl_fini(&t[k].m);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run_input(data, size);
	return 0;
}

#ifndef RQ_LIBFUZZER

static unsigned long replay_file(const char *path)
{
	static uint8_t buf[1 << 16];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	run_input(buf, n);
	return 1;
}

static unsigned long replay(const char *path)
{
	struct stat sb;
	struct dirent *de;
	unsigned long n = 0;
	char name[4096];
	DIR *d;

	if (stat(path, &sb)) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	if (!S_ISDIR(sb.st_mode))
		return replay_file(path);
	d = opendir(path);
	if (!d) {
		perror(path);
		exit(EXIT_FAILURE);
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", path, de->d_name);
		n += replay_file(name);
	}
	closedir(d);
	return n;
}

int main(int argc, char **argv)
{
	const char *env_runs = getenv("RQ_FUZZ_RUNS");
	const char *env_seed = getenv("RQ_FUZZ_SEED");
	unsigned long runs = env_runs ? strtoul(env_runs, NULL, 0) : 3000;
	uint64_t seed = env_seed ? strtoull(env_seed, NULL, 0) : 0x5eed;
	unsigned long files = 0, i;
	static uint8_t buf[1024];
	int a;

	if (argc > 1) {
		for (a = 1; a < argc; a++)
			files += replay(argv[a]);
	} else {
		files = replay(RQ_FUZZ_CORPUS);
	}
	if (!seed)
		seed = 1;
	for (i = 0; i < runs; i++) {
		size_t n = test_xorshift(&seed) % sizeof(buf), j;

		for (j = 0; j < n; j++)
			buf[j] = (uint8_t)test_xorshift(&seed);
		run_input(buf, n);
	}
	printf("fuzz-diff: %d backend(s), %lu corpus + %lu random inputs, "
	       "%llu calls compared with the model: no difference\n",
	       NB, files, runs, fz_ops);
	return EXIT_SUCCESS;
}
#endif
