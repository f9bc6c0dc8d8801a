#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# static.sh - libreadyq.a: readyq_* only, and a static link that works.
#
# 1. nm lib/libreadyq.a: the archive defines readyq_* and no other global
#    symbol; internal ones (rq_*) are local, and the fault-injection
#    hook rq_alloc_fail_nth, built only into the tests' copy of the
#    library, is not there at all.
# 2. No member was compiled with -fPIC (DW_AT_producer, when the build
#    has debug information).
# 3. tests/static-use.c is linked with -static and the flags of
#    "pkg-config --static --libs readyq" (the built readyq.pc, pointed at
#    the build tree), has no dynamic section, and runs on every backend.
# Skips (77) when the archive is not built (--disable-static, sanitizer
# builds) or a tool is missing; needs the static liburcu and libc
# (liburcu-dev, libc6-dev ship them).
srcdir="${srcdir:-.}"
a="./lib/libreadyq.a"
cc="${CC:-cc}"
pc="${PKG_CONFIG:-pkg-config}"

if [ "${READYQ_STATIC:-yes}" != yes ]; then
	echo "static: SKIP: configured without the static library"
	exit 77
fi
for tool in nm readelf "$pc"; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "static: SKIP: $tool not installed"
		exit 77
	fi
done
if [ ! -f "$a" ]; then
	echo "static: FAIL: $a not built"
	exit 1
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/readyq-static.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail=0

# 1. global symbols
nm "$a" >"$tmp/nm" || { echo "static: FAIL: nm $a"; exit 1; }
bad=$(awk 'NF == 3 && $2 ~ /^[A-Z]$/ && $2 != "U" && $3 !~ /^readyq_/ {
	print $3 }' "$tmp/nm")
good=$(awk 'NF == 3 && $2 == "T" && $3 ~ /^readyq_/' "$tmp/nm" | wc -l)
if [ -n "$bad" ]; then
	echo "static: FAIL: global symbols outside readyq_* in $a:"
	printf '  %s\n' $bad
	fail=1
fi
if [ "$good" -lt 20 ]; then
	echo "static: FAIL: only $good readyq_* functions in $a"
	fail=1
fi
hook=$(awk '$3 == "rq_alloc_fail_nth" { print $2 }' "$tmp/nm")
if [ -n "$hook" ]; then
	echo "static: FAIL: test hook rq_alloc_fail_nth is in $a ($hook)"
	fail=1
fi
[ $fail -eq 0 ] && echo "static: ok: $good readyq_* functions," \
	"nothing else global; no rq_alloc_fail_nth"

# 2. non-PIC objects
if readelf --debug-dump=info "$a" 2>/dev/null |
   grep 'DW_AT_producer' >"$tmp/producer" && [ -s "$tmp/producer" ]; then
	if grep -q -e '-fPIC' -e '-fpic' "$tmp/producer"; then
		echo "static: FAIL: $a was compiled with -fPIC:"
		sed 's/^/  /' "$tmp/producer" | head -3
		fail=1
	else
		echo "static: ok: no member compiled with -fPIC"
	fi
else
	echo "static: note: no debug information, -fPIC not checked"
fi

# 3. static link through pkg-config --static
mkdir -p "$tmp/lib/pkgconfig" &&
cp "$a" "$tmp/lib/" &&
sed -e "s|^libdir=.*|libdir=$tmp/lib|" \
    -e "s|^includedir=.*|includedir=$(cd "$srcdir" && pwd)/include|" \
    ./readyq.pc >"$tmp/lib/pkgconfig/readyq.pc" || exit 99
export PKG_CONFIG_PATH="$tmp/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
cflags=$($pc --cflags readyq) && libs=$($pc --static --libs readyq) || {
	echo "static: FAIL: $pc --static --libs readyq"; exit 1; }
echo "static: $pc --static --libs readyq: $libs"
if ! $cc $cflags -o "$tmp/static-use" "$srcdir/tests/static-use.c" \
	-static $libs >"$tmp/log" 2>&1; then
	if grep -q -e 'cannot find -lc\b' -e 'cannot find -lurcu' "$tmp/log"; then
		echo "static: SKIP: no static libc or liburcu:"
		sed 's/^/  /' "$tmp/log"
		exit 77
	fi
	echo "static: FAIL: $cc ... -static $libs:"
	sed 's/^/  /' "$tmp/log"
	exit 1
fi
if readelf -d "$tmp/static-use" | grep -q NEEDED; then
	echo "static: FAIL: the -static program needs shared libraries:"
	readelf -d "$tmp/static-use" | grep NEEDED | sed 's/^/  /'
	fail=1
fi
if ! "$tmp/static-use"; then
	echo "static: FAIL: the statically linked program failed"
	fail=1
fi
[ $fail -eq 0 ] && echo "static: PASS"
exit $fail
