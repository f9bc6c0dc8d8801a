#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# dist-files.sh SRCDIR DISTDIR [BUILT...] - run by "make dist" (dist-hook).
#
# Every file that README.md, NEWS, perf/README.md or tests/README.md
# cites (a `path` in backquotes, relative to the top or to the citing
# file's folder) and that exists in the source tree must be in the
# tarball too, programs that make builds (BUILT) and debian/ aside (the
# packaging stays in git: Debian wants upstream tarballs without it,
# lintian says no-debian-changes otherwise), and no file of the tarball
# may point at the development workspace's shared folder outside the
# project.  Fails make dist.
src=$1
dist=$2
shift 2
built=" $* "
fail=0
n=0
for doc in README.md NEWS perf/README.md tests/README.md; do
	[ -f "$src/$doc" ] || continue
	dir=$(dirname "$doc")
	for t in $(grep -o '`[A-Za-z0-9_./-]*`' "$src/$doc" | tr -d '`' |
		   sort -u); do
		case $t in
		*/*|*.c|*.h|*.sh|*.md|*.png|*.supp|*.abi|*.sym) ;;
		*) continue ;;
		esac
		for c in "$t" "$dir/$t"; do
			c=${c#./}
			[ -e "$src/$c" ] || continue
			case $built in *" $c "*) break ;; esac
			case $c in debian/*) break ;; esac
			n=$((n + 1))
			if [ ! -e "$dist/$c" ]; then
				echo "dist-files: $doc cites $c, not in the tarball"
				fail=1
			fi
			break
		done
	done
done
out="\.\./"shared
if grep -rln "$out" "$dist" >/dev/null 2>&1; then
	echo "dist-files: files that point outside the project:"
	grep -rn "$out" "$dist" | sed 's/^/  /'
	fail=1
fi
[ $fail -eq 0 ] && echo "dist-files: $n cited paths in the tarball"
exit $fail
