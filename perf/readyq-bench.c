// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * readyq-bench.c - the benchmark suite of libreadyq (main and options)
 *
 * Overview
 * --------
 *   readyq-bench seed    [--iterations N] [--threads 1,2,4,8]
 *   readyq-bench steady  [--mailboxes 64,1024,65536] [--producers 2]
 *                        [--workers 2] [--messages 500000] [--rounds 1]
 *   readyq-bench latency [--samples 2000]
 *   readyq-bench scale   [--mailboxes 1k,10k,100k,1M] [--messages 500000]
 *                        [--rounds 3]
 *   readyq-bench actors  [--workers 2,4] [--rounds 1] [--scale 1 | --quick]
 *                        [--bench fanin-64,...] [--raw] [--fault]
 *   readyq-bench histcost [--mailboxes 64,1024,65536] [--rounds 7]
 * Common: --csv FILE, --only VARIANT,... (locked, lockfree, adaptive,
 * naive, lockfree_mutex, and per subcommand floor, condvar, futex).
 *
 * Every subcommand runs every variant that readyq_create() accepts, the
 * others print "n/a (not built)".  Output is plain lines, one per result;
 * PASS/MISS lines state the targets a subcommand can judge on its own
 * (perf/bench.sh adds those that need the Rust replica's figures).
 */
#include "bench.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
	fputs("usage: readyq-bench seed|steady|latency|scale|actors|histcost [options]\n"
	      "  --csv FILE            also write the results as CSV\n"
	      "  --only LIST           run only these variants\n"
	      "  --iterations N        seed: timed iterations (default 30)\n"
	      "  --threads LIST        seed: thread counts (default 1,2,4,8)\n"
	      "  --mailboxes LIST      steady, histcost: mailbox counts\n"
	      "                        (64,1024,65536); scale: sizes (1k,10k,100k,1M)\n"
	      "  --producers N         steady: producers (2)\n"
	      "  --configs LIST        steady: producers x workers, e.g. 1x1,2x2,4x4\n"
	      "  --workers N|LIST      steady: workers (2); actors: counts (2,4)\n"
	      "  --messages N          steady: messages per producer (500000);\n"
	      "                        scale: operations per size (500000)\n"
	      "  --samples N           latency: wake-ups per variant (2000)\n"
	      "  --rounds N            steady, scale, actors, histcost: repetitions\n"
	      "                        (1, 3, 1, 7)\n"
	      "  --scale F             actors: message counts x F (1.0)\n"
	      "  --quick               actors: --scale 0.01\n"
	      "  --bench LIST          actors: fanin-64,fanin-1024,fanin-65536,\n"
	      "                        pingpong-1,pingpong-16,ring-1,ring-64,\n"
	      "                        forkjoin-10k,forkjoin-100k (all)\n"
	      "  --raw                 actors: one line per run, no medians\n"
	      "  --fault               actors: spoil a count (the checks must fail)\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "csv", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "threads", required_argument, NULL, 't' },
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "producers", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "messages", required_argument, NULL, 'n' },
		{ "samples", required_argument, NULL, 's' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "scale", required_argument, NULL, 'S' },
		{ "quick", no_argument, NULL, 'Q' },
		{ "bench", required_argument, NULL, 'B' },
		{ "raw", no_argument, NULL, 'R' },
		{ "fault", no_argument, NULL, 'F' },
		{ "configs", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bq_opts o = {
		.iterations = 30,
		.producers = 2,
		.workers = 2,
		.messages = 500000,
		.samples = 2000,
	};
	const char *cmd;
	char *end;
	bool have_m = false;
	int c, n;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	o.nr_threads = (size_t)bq_parse_list("1,2,4,8", o.threads, 16);
	o.nr_workers = (size_t)bq_parse_list("2,4", o.worker_list, 16);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		unsigned long *dst = NULL;

		switch (c) {
		case 'c':
			o.csv = optarg;
			continue;
		case 'o':
			o.only = optarg;
			continue;
		case 't':
			n = bq_parse_list(optarg, o.threads, 16);
			if (n < 0)
				goto bad;
			o.nr_threads = (size_t)n;
			continue;
		case 'm':
			n = bq_parse_list(optarg, o.mailboxes, 16);
			if (n < 0)
				goto bad;
			o.nr_mailboxes = (size_t)n;
			have_m = true;
			continue;
		case 'i':
			dst = &o.iterations;
			break;
		case 'p':
			dst = &o.producers;
			break;
		case 'w':
			n = bq_parse_list(optarg, o.worker_list, 16);
			if (n < 0)
				goto bad;
			o.nr_workers = (size_t)n;
			o.workers = o.worker_list[0];
			o.workers_text = optarg;
			continue;
		case 'C':
			if (bq_parse_configs(optarg, &o) < 0)
				goto bad;
			continue;
		case 'S':
			o.scale = strtod(optarg, &end);
			if (*end || !(o.scale > 0 && o.scale <= 100))
				goto bad;
			continue;
		case 'Q':
			o.scale = 0.01;
			continue;
		case 'B':
			o.bench = optarg;
			continue;
		case 'R':
			o.raw = true;
			continue;
		case 'F':
			o.fault = true;
			continue;
		case 'n':
			dst = &o.messages;
			break;
		case 's':
			dst = &o.samples;
			break;
		case 'r':
			dst = &o.rounds;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
		if (bq_parse_list(optarg, dst, 1) != 1)
			goto bad;
	}
	if (optind != argc)
		goto bad;

	if (!strcmp(cmd, "seed"))
		return bench_seed(&o);
	if (!strcmp(cmd, "steady")) {
		if (!have_m)
			o.nr_mailboxes = (size_t)bq_parse_list("64,1024,65536",
							       o.mailboxes, 16);
		if (!o.rounds)
			o.rounds = 1;
		return bench_steady(&o);
	}
	if (!strcmp(cmd, "latency"))
		return bench_latency(&o);
	if (!strcmp(cmd, "scale")) {
		if (!have_m)
			o.nr_mailboxes = (size_t)bq_parse_list("1k,10k,100k,1M",
							       o.mailboxes, 16);
		if (!o.rounds)
			o.rounds = 3;
		return bench_scale(&o);
	}
	if (!strcmp(cmd, "actors"))
		return bench_actors(&o);
	if (!strcmp(cmd, "histcost")) {
		if (!have_m)
			o.nr_mailboxes = (size_t)bq_parse_list("64,1024,65536",
							       o.mailboxes, 16);
		return bench_histcost(&o);
	}
bad:
	usage(stderr);
	return 2;
}
