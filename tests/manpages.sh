#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# manpages.sh - every exported function has a section 3 man page.
#
# The names are the functions the built libreadyq.so exports (nm -D) plus
# the static inline readyq_result_*() constructors of the header.  Each
# needs man/NAME.3 in the source tree and in the installed list
# (dist_man_MANS in man/Makefile.inc), or an entry NAME.3=PAGE.3 in
# MAN3_ALIASES there (installed as a symbolic link) whose PAGE.3 is
# installed and names NAME in its NAME section; readyq(7) must exist too.
# Runs in the build directory; $srcdir is the source directory.
srcdir="${srcdir:-.}"
so="./lib/.libs/libreadyq.so"
hdr="$srcdir/include/readyq/readyq.h"
MAN_PAGES=$(grep -v '^#' "$srcdir/man/Makefile.inc" | grep -o 'man/[^ \\]*')
ALIASES=$(grep -o '^[[:space:]]*readyq[a-z_]*\.3=[a-z_]*\.3' \
	"$srcdir/man/Makefile.inc")
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
	target=""
	for a in $ALIASES; do
		[ "${a%%=*}" = "${page#man/}" ] && target=man/${a#*=}
	done
	if [ -n "$target" ]; then
		if [ -f "$srcdir/$page" ]; then
			echo "manpages: FAIL: $page is both a page and an alias"
			fail=1
		elif [ ! -f "$srcdir/$target" ] || ! listed "$target"; then
			echo "manpages: FAIL: alias $page -> missing $target"
			fail=1
		elif ! sed -n '/^\.SH NAME/,/^\.SH/p' "$srcdir/$target" |
		     grep -q "\\<$f\\>"; then
			echo "manpages: FAIL: $target does not name $f"
			fail=1
		fi
	elif [ ! -f "$srcdir/$page" ]; then
		echo "manpages: FAIL: $f has no $page"
		fail=1
	elif ! listed "$page"; then
		echo "manpages: FAIL: $page is not in dist_man_MANS"
		fail=1
	elif grep -q '^\.so' "$srcdir/$page"; then
		echo "manpages: FAIL: $page is a .so page (use MAN3_ALIASES)"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "manpages: PASS: $n pages"
exit $fail
