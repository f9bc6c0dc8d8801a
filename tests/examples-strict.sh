#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples-strict.sh - the shipped examples are strict ISO C11 + POSIX.
#
# Compiles every examples/*.c with gcc and clang under -std=c11 -Wall
# -Wextra -Wpedantic -Werror against the source tree's header, the way a
# user would build the copies that libreadyq-dev installs: each example
# must ask for what it needs with a feature-test macro, not rely on GNU
# mode.  A compiler that is not installed is reported as SKIP and not
# counted; exit 77 when neither is.  (make builds examples/ with -std=c11
# too; tests/examples.sh runs them.)
srcdir="${srcdir:-.}"
# No -pthread when compiling: it defines _REENTRANT, which glibc takes as
# _POSIX_C_SOURCE 199506L and would hide a missing feature-test macro.
flags="-std=c11 -Wall -Wextra -Wpedantic -Werror"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readyq-strict.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
n=0

for cc in gcc clang ${STRICT_CC-}; do
	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "examples-strict: SKIP: $cc not installed"
		continue
	fi
	for src in "$srcdir"/examples/*.c; do
		n=$((n + 1))
		if $cc $flags -I"$srcdir/include" -c "$src" -o "$tmp/ex.o" \
			>"$tmp/log" 2>&1; then
			echo "examples-strict: ok: $cc $flags ${src##*/}"
			pass=$((pass + 1))
		else
			echo "examples-strict: FAIL: $cc $flags ${src##*/}:"
			sed 's/^/  /' "$tmp/log"
			fail=$((fail + 1))
		fi
	done
done
[ $n -gt 0 ] || { echo "examples-strict: SKIP: no C compiler"; exit 77; }
[ $pass -ge 3 ] || [ $fail -gt 0 ] || {
	echo "examples-strict: FAIL: fewer than 3 examples found"; exit 1; }
echo "examples-strict: $pass passed, $fail failed"
[ $fail -eq 0 ]
