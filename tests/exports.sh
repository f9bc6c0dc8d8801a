#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# exports.sh - the shared library exports readyq_* and nothing else.
#
# Reads the dynamic symbol table of the built libreadyq.so with nm -D and
# fails on any defined symbol outside the readyq_ namespace and the
# version nodes READYQ_0.1 and READYQ_0.2 (the nodes themselves aside).  Exit 77 (skip) only when nm is missing.
so="./lib/.libs/libreadyq.so"

if ! command -v nm >/dev/null 2>&1; then
	echo "exports: SKIP: nm not installed"
	exit 77
fi
if [ ! -f "$so" ]; then
	echo "exports: FAIL: $so not built"
	exit 1
fi
syms=$(nm -D --defined-only "$so") || {
	echo "exports: FAIL: nm -D $so failed"
	exit 1
}
# "ADDR TYPE NAME@@VERSION"; type A is the version node.
bad=$(printf '%s\n' "$syms" | awk '$2 != "A" { print $3 }' |
	grep -v '^readyq_[a-z0-9_]*@@\{0,1\}READYQ_0\.[12]$')
good=$(printf '%s\n' "$syms" | grep -c ' T readyq_')
if [ -n "$bad" ]; then
	echo "exports: FAIL: exported outside readyq_* / READYQ_0.[12]:"
	printf '  %s\n' $bad
	exit 1
fi
if [ "$good" -lt 1 ]; then
	echo "exports: FAIL: no readyq_ function exported"
	exit 1
fi
echo "exports: PASS: $good readyq_* functions, nothing else"
