#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# examples.sh - run the daemon-style examples briefly.
#
# examples/daemon: start it, send SIGUSR1 (latency percentiles) and SIGTERM
# after about 0.5 s, expect the percentiles, exit
# status 0, its shutdown message and exact accounting in its output.
# examples/epoll: run to completion, expect exit status 0, some retries
# (DELAYED mailboxes, due through readyq_next_deadline() and the timerfd)
# and exact accounting.  Each run is bounded (30 s after SIGTERM for the
# daemon, 60 s with timeout(1) for the epoll loop).
bin="./examples"
out=$(mktemp "${TMPDIR:-/tmp}/readyq-examples.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT
fail=0
to=""
command -v timeout >/dev/null 2>&1 && to="timeout 60"

"$bin/daemon" 2 2 256 >"$out" 2>&1 &
pid=$!
# SIGTERM is blocked (and taken by sigwait) once it prints "running".
i=0
while ! grep -q '^daemon: running' "$out" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 0.5
kill -USR1 $pid
sleep 0.2
kill -TERM $pid
# A daemon that does not stop within 30 s fails (status 137), not hangs.
i=0
while kill -0 $pid 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -KILL $pid 2>/dev/null
wait $pid
rc=$?
sed 's/^/  /' "$out"
if [ $rc -ne 0 ]; then
	echo "examples: FAIL: daemon exited with $rc"
	fail=1
elif ! grep -q '^daemon: SIGTERM, shutting down$' "$out" ||
     ! grep -q '^daemon: clean exit$' "$out" ||
     ! grep -q '^daemon: queue delay p50 < [1-9][0-9]* ns, p99 < [1-9][0-9]* ns, p99.9 < [1-9][0-9]* ns$' "$out" ||
     ! grep -q '^daemon: turn time p50 < [1-9][0-9]* ns, p99 < [0-9]* ns, p99.9 < [0-9]* ns$' "$out" ||
     ! grep -q '^daemon: sent [1-9][0-9]* taken [0-9]* left 0$' "$out"; then
	echo "examples: FAIL: daemon output"
	fail=1
fi

$to "$bin/epoll" 2 64 20000 >"$out" 2>&1
rc=$?
sed 's/^/  /' "$out"
if [ $rc -ne 0 ]; then
	echo "examples: FAIL: epoll exited with $rc"
	fail=1
elif ! grep -q '^epoll: sent 40000 taken 40000; [1-9][0-9]* retries' "$out" ||
     ! grep -q '^epoll: accounting exact$' "$out"; then
	echo "examples: FAIL: epoll output"
	fail=1
fi
[ $fail -eq 0 ] && echo "examples: PASS"
exit $fail
