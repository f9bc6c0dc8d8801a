#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# actors.sh - the example actor runtime (examples/actors/) on every backend,
# at small scale, with its accounting and exclusivity checks.
#
# 1. examples/actors/pingpong on locked, lockfree and adaptive with 1, 2
#    and 4 workers: exit status 0 means every round trip arrived once and
#    in order and no actor ran on two workers at once.
# 2. readyq-bench actors --quick: the nine Savina-style workloads on every
#    backend at W = 2 and 4 (54 runs); every run must print "ok" (exact
#    accounting: sequence numbers, per-actor counts, delivered == sent;
#    overlaps == 0; nothing stuck) and the program must exit 0.
# 3. The same with --fault, which spoils one count after each run: the
#    checks must report FAILED and exit 1 (they can fail).
# Each command is bounded with timeout(1) when it exists.
fail=0
to=""
command -v timeout >/dev/null 2>&1 && to="timeout 120"
out=$(mktemp "${TMPDIR:-/tmp}/readyq-actors.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT

for b in locked lockfree adaptive; do
	for w in 1 2 4; do
		if ! $to ./examples/actors/pingpong 5000 $w $b >"$out" 2>&1; then
			echo "FAIL: pingpong on $b, $w workers:"
			cat "$out"
			fail=1
		fi
	done
done

$to ./perf/readyq-bench actors --quick --raw >"$out" 2>&1
rc=$?
runs=$(grep -c ' ok$' "$out")
if [ $rc -ne 0 ] || [ "$runs" -ne 54 ]; then
	echo "FAIL: readyq-bench actors --quick: exit $rc, $runs of 54 runs ok"
	cat "$out"
	fail=1
else
	echo "PASS: readyq-bench actors --quick: 54 runs exact"
fi

$to ./perf/readyq-bench actors --quick --raw --fault \
	--bench pingpong-1,forkjoin-10k >"$out" 2>&1
rc=$?
bad=$(grep -c ' FAILED$' "$out")
if [ $rc -ne 1 ] || [ "$bad" -ne 12 ]; then
	echo "FAIL: --fault: exit $rc (want 1), $bad of 12 runs FAILED"
	cat "$out"
	fail=1
else
	echo "PASS: --fault: the checks catch a spoiled count"
fi
exit $fail
