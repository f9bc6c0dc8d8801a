#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# manpages.sh - every exported function has a section 3 man page.
#
# The names are the functions the built libreadyq.so exports (nm -D) plus
# the static inline readyq_result_*() constructors of the header.  Each
# needs man/NAME.3 in the source tree and in the installed list
# (dist_man_MANS in man/Makefile.inc), and readyq(7) must exist too.
# Pages that are ".so" links must point at an existing page.  Runs in the
# build directory; $srcdir is the source directory.
srcdir="${srcdir:-.}"
so="./lib/.libs/libreadyq.so"
hdr="$srcdir/include/readyq/readyq.h"
MAN_PAGES=$(grep -v '^#' "$srcdir/man/Makefile.inc" | grep -o 'man/[^ \\]*')
fail=0

if ! command -v nm >/dev/null 2>&1; then
	echo "manpages: SKIP: nm not installed"
	exit 77
fi
names=$( (nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' |
	  sed 's/@.*//'
	  grep -o 'readyq_result_[a-z_]*(' "$hdr" | tr -d '(') | sort -u)
[ -n "$names" ] || { echo "manpages: FAIL: no symbols found"; exit 1; }

listed() {
	for p in $MAN_PAGES; do
		[ "$p" = "$1" ] && return 0
	done
	return 1
}

n=0
for f in $names readyq.7; do
	case $f in
	*.7) page=man/$f ;;
	*) page=man/$f.3 ;;
	esac
	n=$((n + 1))
	if [ ! -f "$srcdir/$page" ]; then
		echo "manpages: FAIL: $f has no $page"
		fail=1
	elif ! listed "$page"; then
		echo "manpages: FAIL: $page is not in dist_man_MANS"
		fail=1
	fi
	target=$(sed -n 's/^\.so  *//p' "$srcdir/$page" 2>/dev/null)
	if [ -n "$target" ] && [ ! -f "$srcdir/man/${target#man?/}" ]; then
		echo "manpages: FAIL: $page links to missing $target"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "manpages: PASS: $n pages"
exit $fail
