#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# header.sh - <readyq/readyq.h> compiles cleanly as C and C++.
#
# Builds tests/header-use.c (which includes the header, uses every inline
# constructor and checks its result) as C99, C11, C17 and C2x with gcc and
# clang, and as C++11, C++14, C++17 and C++20 with g++ and clang++, each
# with -Wall -Wextra -Wpedantic -Werror, then runs it: every build must
# pass its checks and print the same structure layout.  A compiler that
# is not installed, or that does not know a standard, is reported as
# SKIP and not counted; exit 77 when nothing could be built at all.
# Extra compilers: HEADER_CC="cc1 cc2", HEADER_CXX="c++1 c++2".
srcdir="${srcdir:-.}"
src="$srcdir/tests/header-use.c"
flags="-Wall -Wextra -Wpedantic -Werror"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readyq-header.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
pass=0
skip=0
fail=0
ref=""

one() { # LANG COMPILER STD
	lang=$1 cc=$2 std=$3
	if ! printf 'int x;\n' >"$tmp/empty.$lang" ||
	   ! $cc -x "$lang" -std="$std" -c "$tmp/empty.$lang" \
		-o "$tmp/empty.o" >/dev/null 2>&1; then
		echo "header: SKIP: $cc does not know -std=$std"
		skip=$((skip + 1))
		return
	fi
	if ! $cc -x "$lang" -std="$std" $flags -I"$srcdir/include" "$src" \
		-o "$tmp/use" >"$tmp/log" 2>&1; then
		echo "header: FAIL: $cc -std=$std $flags:"
		sed 's/^/  /' "$tmp/log"
		fail=$((fail + 1))
		return
	fi
	if ! "$tmp/use" >"$tmp/out" 2>&1; then
		echo "header: FAIL: $cc -std=$std: wrong results:"
		sed 's/^/  /' "$tmp/out"
		fail=$((fail + 1))
		return
	fi
	layout=$(grep '^layout' "$tmp/out")
	if [ -z "$ref" ]; then
		ref=$layout
		printf '%s\n' "$layout" | sed 's/^/header: /'
	elif [ "$layout" != "$ref" ]; then
		echo "header: FAIL: $cc -std=$std: layout differs:"
		printf '%s\n' "$layout" | sed 's/^/  /'
		fail=$((fail + 1))
		return
	fi
	echo "header: ok: $cc -std=$std"
	pass=$((pass + 1))
}

each() { # LANG "COMPILERS" "STANDARDS"
	for cc in $2; do
		if ! command -v "$cc" >/dev/null 2>&1; then
			echo "header: SKIP: $cc not installed ($1)"
			skip=$((skip + 1))
			continue
		fi
		for std in $3; do
			one "$1" "$cc" "$std"
		done
	done
}

each c "gcc clang ${HEADER_CC-}" "c99 c11 c17 c2x"
each c++ "g++ clang++ ${HEADER_CXX-}" "c++11 c++14 c++17 c++20"

echo "header: $pass built and passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || exit 1
[ $pass -gt 0 ] || exit 77
exit 0
