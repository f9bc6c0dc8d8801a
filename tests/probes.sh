#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# probes.sh - the USDT probes of lib/probes.h are in the built library.
#
# Skips (77) when configure found no <sys/sdt.h> (or --disable-usdt) and
# when readelf is missing.  Otherwise every probe of provider "readyq"
# must have a stapsdt note in libreadyq.so.
so="./lib/.libs/libreadyq.so"

if ! grep -q '^#define HAVE_SYS_SDT_H 1' ./config.h 2>/dev/null; then
	echo "probes: SKIP: built without USDT probes (no <sys/sdt.h>)"
	exit 77
fi
if ! command -v readelf >/dev/null 2>&1; then
	echo "probes: SKIP: readelf not installed"
	exit 77
fi
notes=$(readelf -n "$so") || exit 1
fail=0
for p in register drain complete wait shutdown fd_notify delay turn; do
	if ! printf '%s\n' "$notes" | grep -A2 'stapsdt' |
	     grep -q "Name: $p\$"; then
		echo "probes: FAIL: no readyq:$p probe in $so"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "probes: PASS: readyq:{register,drain,complete,wait,shutdown,fd_notify,delay,turn}"
exit $fail
