#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sparse.sh - the conformance, lock-free, adaptive and stress tests again
# with sparse slot numbers (RQ_TEST_SLOTS, tests/testutil.h): strided
# (i rotated left by 12, i * 4096 for small i), multiplicatively hashed
# (i * 2654435761) and random (fmix32 of i).  The backends store slots
# differently for dense and sparse numbering (lib/lockfree.c regions,
# lib/locked.c groups of 8).  The stress test runs with random slots only,
# to keep make check short.  Runs in the build directory.
fail=0
for pattern in stride hash random; do
	for t in conformance lockfree adaptive; do
		if RQ_TEST_SLOTS=$pattern "./tests/$t" >"tests/sparse-$t-$pattern.out" 2>&1; then
			echo "PASS: $t RQ_TEST_SLOTS=$pattern"
		else
			echo "FAIL: $t RQ_TEST_SLOTS=$pattern"
			tail -20 "tests/sparse-$t-$pattern.out"
			fail=1
		fi
	done
done
if RQ_TEST_SLOTS=random ./tests/stress >tests/sparse-stress-random.out 2>&1; then
	echo "PASS: stress RQ_TEST_SLOTS=random"
else
	echo "FAIL: stress RQ_TEST_SLOTS=random"
	tail -20 tests/sparse-stress-random.out
	fail=1
fi
exit $fail
