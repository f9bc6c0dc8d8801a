#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# manlint.sh - every man page renders without a warning.
#
# Each page of dist_man_MANS (man/Makefile.inc) is formatted with
# groff -man -t -ww (all warnings, tbl for readyq(7)) at 80 and at 60
# columns, as man(1) would on a terminal of that width, and checked with
# mandoc -Tlint: any output fails.  There is nothing to explain away:
# alias pages are symbolic links made at install time (MAN3_ALIASES),
# not ".so" pages.  A tool that is not installed is reported as SKIP and
# its half not counted; exit 77 when neither is (apt-get install
# groff-base mandoc).
srcdir="${srcdir:-.}"
PAGES=$(grep -v '^#' "$srcdir/man/Makefile.inc" | grep -o 'man/[^ \\]*')
tmp=$(mktemp "${TMPDIR:-/tmp}/readyq-manlint.XXXXXX") || exit 99
trap 'rm -f "$tmp"' EXIT
ran=0
fail=0
n=0

if command -v groff >/dev/null 2>&1; then
	ran=1
	for p in $PAGES; do
		for w in 80 60; do
			n=$((n + 1))
			# man(1) sets the line length to the terminal's width
			# less a margin; LL is that line length.
			groff -man -t -Tutf8 -ww -rLL=$((w - 2))n -z \
				"$srcdir/$p" >"$tmp" 2>&1
			if [ -s "$tmp" ]; then
				echo "manlint: FAIL: groff, $w columns, $p:"
				sed 's/^/  /' "$tmp"
				fail=1
			fi
		done
	done
	echo "manlint: groff -ww at 80 and 60 columns: $n renderings"
else
	echo "manlint: SKIP: groff not installed (apt-get install groff-base)"
fi

if command -v mandoc >/dev/null 2>&1; then
	ran=1
	# -W style: every message mandoc knows, down to style hints
	( cd "$srcdir" && mandoc -Tlint -W style $PAGES ) >"$tmp" 2>&1
	if [ -s "$tmp" ]; then
		echo "manlint: FAIL: mandoc -Tlint:"
		sed 's/^/  /' "$tmp"
		fail=1
	else
		echo "manlint: mandoc -Tlint: $(echo $PAGES | wc -w) pages clean"
	fi
else
	echo "manlint: SKIP: mandoc not installed (apt-get install mandoc)"
fi

[ $ran -eq 1 ] || exit 77
[ $fail -eq 0 ] && echo "manlint: PASS"
exit $fail
