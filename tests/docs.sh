#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs.sh - what a user reads is complete and self-contained.
#
# 1. COPYING holds the GNU LGPL version 2.1 (identical to Debian's
#    /usr/share/common-licenses/LGPL-2.1 when that exists), every SPDX
#    line says LGPL-2.1-or-later, and debian/copyright (in a checkout)
#    says LGPL-2.1+.
# 2. No shipped file (documentation, man pages, sources, tests, build
#    system, debian/) points at the development workspace's shared
#    folder outside the project, and bench.sh has no default for it.
# 3. README.md names readyq(7) as the contract, and its second set-up
#    command is the one .ci/run runs.
# 4. README.md's first command installs debian/control's Build-Depends
#    and the tools the test scripts use.
srcdir="${srcdir:-.}"
fail=0
bad() { echo "docs: FAIL: $*"; fail=1; }

# 1. license
c="$srcdir/COPYING"
if [ ! -f "$c" ]; then
	bad "no COPYING"
else
	head -3 "$c" | grep -q 'GNU LESSER GENERAL PUBLIC LICENSE' &&
	head -3 "$c" | grep -q 'Version 2\.1, February 1999' ||
		bad "COPYING is not the LGPL 2.1"
	l=/usr/share/common-licenses/LGPL-2.1
	if [ -f "$l" ] && ! cmp -s "$l" "$c"; then
		bad "COPYING differs from $l"
	fi
fi
files=$(cd "$srcdir" && find README.md NEWS Makefile.am configure.ac \
	bootstrap readyq.pc.in include lib man tests perf examples debian \
	.ci -type f ! -path 'tests/fuzz/corpus/*' ! -name '*.png' \
	! -name '*.o' ! -name '*.a' ! -name '*.lo' ! -name '*.la' \
	! -name '*.log' ! -name '*.trs' ! -name '*.csv' -print 2>/dev/null |
	LC_ALL=C sort)
spdx=$(cd "$srcdir" && grep -h '^[#/*.\\" ]*SPDX-License-Identifier:' $files |
	sed 's/.*SPDX-License-Identifier: *//; s/ *\*\/$//' | sort -u)
[ "$spdx" = "LGPL-2.1-or-later" ] ||
	bad "SPDX lines other than LGPL-2.1-or-later: $spdx"
# debian/ is in a git checkout, not in the tarball
if [ -f "$srcdir/debian/copyright" ] &&
   ! grep -q '^License: LGPL-2.1+$' "$srcdir/debian/copyright"; then
	bad "debian/copyright does not say LGPL-2.1+"
fi

# 2. no path outside the project (the pattern is split so that this
# file does not match itself)
out="\.\./"shared
hits=$(cd "$srcdir" && grep -n "$out" $files 2>/dev/null)
[ -z "$hits" ] || bad "references outside the project:
$hits"

# 3. README
r="$srcdir/README.md"
grep -q 'readyq(7)' "$r" || bad "README.md does not name readyq(7)"
grep -q '^    \./bootstrap && \./configure && make -j2 check$' "$r" ||
	bad "README.md lacks the test command"
grep -q '^\./bootstrap && \./configure && make -j2 check$' \
	"$srcdir/.ci/run" || bad ".ci/run does not run README's test command"

# 4. README's first command installs the package build dependencies
# (debian/control, in a checkout) and the tools of the make check scripts,
# so that following it neither stops dpkg-buildpackage nor skips a test.
apt=$(grep -m1 '^    apt-get update && apt-get install' "$r" |
	sed 's/.*apt-get install -y//; s/&&.*//')
[ -n "$apt" ] || bad "README.md has no apt-get install command"
need="g++ clang mandoc groff-base systemtap-sdt-dev"
if [ -f "$srcdir/debian/control" ]; then
	# Build-Depends: first alternative, no version, debhelper-compat is
	# provided by debhelper
	need="$need $(sed -n '/^Build-Depends:/,/^[A-Z]/p' \
		"$srcdir/debian/control" | sed 's/^Build-Depends://' |
		grep -v '^[A-Z]' | tr ',' '\n' | sed 's/|.*//; s/(.*//' |
		tr -d ' \t' | sed 's/^debhelper-compat$/debhelper/' | grep .)"
fi
for p in $need; do
	case " $apt " in
	*" $p "*) ;;
	*) [ "$p" = pkgconf ] && case " $apt " in *" pkg-config "*) continue ;; esac
	   bad "README.md's first command does not install $p" ;;
	esac
done

n=$(echo $files | wc -w)
[ $fail -eq 0 ] && echo "docs: PASS: COPYING (LGPL-2.1), $n files" \
	"self-contained, README front page"
exit $fail
