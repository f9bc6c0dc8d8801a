#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# bench.sh - what "make bench" runs: readyq-bench beside the seed's Rust
# replica, tables with ratios, PASS/MISS lines, CSV files and PNG charts.
#
# Overview
# --------
# 1. seed:    per thread count, R rounds of [Rust replica, readyq-bench
#             seed] alternating, so both see the same machine; the median
#             of the round medians is printed with the ratios.
# 2. steady:  readyq-bench steady over 1x1, 2x2 and 4x4 producers x
#             workers and M = 64 .. 1M, rounds interleaved; the Rust
#             replica's steady mode (2x2) beside it.
# 3. latency: readyq-bench latency (its baselines run in the same process).
# 4. scale:   readyq-bench scale.
# 5. actors:  readyq-bench actors (every backend) and, when built,
#             perf/caf/caf-bench (CAF), alternating per benchmark and
#             round; medians, spreads (max/min) and CPU ns per message.
# Then the summary: every PASS/MISS line with the "# bound" lines that
# qualify some (perf/machine.c), and the charts under --results
# when gnuplot is installed.  The Rust replica of the seed is not part of
# libreadyq: give its source folder with --seed-rust DIR or
# READYQ_SEED_RUST=DIR.  Without it (or without cargo) the script says so
# and prints our columns only; --no-rust skips it even when given.
#
# Usage: bench.sh [--bin PATH] [--seed-rust DIR] [--results DIR]
#                 [--quick | --long] [--no-rust]
#                 [--actors-only | --no-actors] [--actors-scale F]
#                 [--actors-rounds N] [--caf PATH]
# Environment: READYQ_SEED_RUST (the replica's source, as --seed-rust),
# TMPDIR (where the replica is built).

set -u

BIN=./perf/readyq-bench
SEED_RUST=${READYQ_SEED_RUST:-}
RESULTS=perf/results
MODE=default
USE_RUST=yes
ACTORS=yes
ACTORS_ONLY=no
ACTORS_SCALE=
ACTORS_ROUNDS=
CAF=

while [ $# -gt 0 ]; do
	case "$1" in
	--bin) BIN=$2; shift ;;
	--seed-rust) SEED_RUST=$2; shift ;;
	--results) RESULTS=$2; shift ;;
	--quick) MODE=quick ;;
	--long) MODE=long ;;
	--no-rust) USE_RUST=no ;;
	--actors-only) ACTORS_ONLY=yes ;;
	--no-actors) ACTORS=no ;;
	--actors-scale) ACTORS_SCALE=$2; shift ;;
	--actors-rounds) ACTORS_ROUNDS=$2; shift ;;
	--caf) CAF=$2; shift ;;
	-h|--help) sed -n '3,27p' "$0"; exit 0 ;;
	*) echo "bench.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

case $MODE in
quick)	ITER=5;  ROUNDS=2; STEADY_MSGS=50000; STEADY_ROUNDS=3
	SAMPLES=500;  SCALE_OPS=100000; SCALE_ROUNDS=1
	A_SCALE=0.01; A_ROUNDS=1 ;;
long)	ITER=50; ROUNDS=10; STEADY_MSGS=1000000; STEADY_ROUNDS=15
	SAMPLES=20000; SCALE_OPS=4000000; SCALE_ROUNDS=5
	A_SCALE=1; A_ROUNDS=5 ;;
*)	ITER=12; ROUNDS=10; STEADY_MSGS=200000; STEADY_ROUNDS=10
	SAMPLES=5000; SCALE_OPS=200000; SCALE_ROUNDS=3
	A_SCALE=0.1; A_ROUNDS=5 ;;
esac
[ -n "$ACTORS_SCALE" ] && A_SCALE=$ACTORS_SCALE
[ -n "$ACTORS_ROUNDS" ] && A_ROUNDS=$ACTORS_ROUNDS
[ -n "$CAF" ] || CAF=$(dirname "$BIN")/caf/caf-bench
THREADS="1 2 4 8"
STEADY_MAILBOXES="64 1024 65536 1000000"
STEADY_CONFIGS=1x1,2x2,4x4
STEADY_SEED_ROUNDS=3
[ $MODE = quick ] && STEADY_SEED_ROUNDS=1

mkdir -p "$RESULTS" || exit 1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/readyq-bench.XXXXXX") || exit 1
[ -n "${BENCH_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT INT TERM
START=$(date +%s)

say() { printf '%s\n' "$*"; }
progress() { printf '[bench %4ss] %s\n' $(( $(date +%s) - START )) "$*" >&2; }

# ---- 5. actors (defined here, run after scale or alone) ----
# Per round, per benchmark: readyq-bench actors (locked, lockfree,
# adaptive at W = 2 and 4), then caf-bench (CAF at W = 2 and 4): both see
# the same machine.  Median of the rounds, spread = max / min of the
# rounds' msgs/s, median CPU ns per message; PASS/MISS for the targets of
# issue 15 (adaptive >= 1.5x CAF, adaptive spread <= 1.5x) and for exact
# accounting; CSV and a chart under $RESULTS.
ACTOR_BENCHES="fanin-64 fanin-1024 fanin-65536 pingpong-1 pingpong-16 ring-1 ring-64 forkjoin-10k forkjoin-100k"
run_actors() {
	: >"$WORK/actors.txt"
	: >>"$WORK/verdicts.txt"
	if [ -x "$CAF" ]; then
		say "# actors: CAF from $CAF"
	else
		say "# actors: $CAF not built (apt-get install g++ libcaf-dev, configure again): our columns only"
		CAF=
	fi
	say "# actors: scale $A_SCALE, $A_ROUNDS rounds, W = 2 and 4"
	r=1
	while [ $r -le $A_ROUNDS ]; do
		for b in $ACTOR_BENCHES; do
			progress "actors: $b, round $r/$A_ROUNDS"
			"$BIN" actors --bench "$b" --scale "$A_SCALE" --raw \
				--workers 2,4 | grep -v '^#' >>"$WORK/actors.txt"
			if [ -n "$CAF" ]; then
				"$CAF" --bench "$b" --scale "$A_SCALE" --raw \
					--workers 2,4 | grep -v '^#' >>"$WORK/actors.txt"
			fi
		done
		r=$((r + 1))
	done
	awk -v benches="$ACTOR_BENCHES" -v csv="$RESULTS/actors.csv" \
	    -v dat="$WORK/actors.dat" -v verdicts="$WORK/verdicts.txt" '
	$4 == "n/a" { next }
	{
		k = $1 SUBSEP $2 SUBSEP $3; n = ++c[k]
		rate[k, n] = $4; cpu[k, n] = $5
		if ($NF != "ok") bad[k]++
		seen[$3] = 1
	}
	function med(arr, k, n,   i, j, t, v) {
		for (i = 1; i <= n; i++) v[i] = arr[k, i]
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function spreadof(arr, k, n,   i, lo, hi) {
		lo = hi = arr[k, 1]
		for (i = 2; i <= n; i++) {
			if (arr[k, i] < lo) lo = arr[k, i]
			if (arr[k, i] > hi) hi = arr[k, i]
		}
		return lo > 0 ? hi / lo : 0
	}
	function spread(k, n) { return spreadof(rate, k, n) }
	function m(b, w, v,   k) { k = b SUBSEP w SUBSEP v; return (k in c) ? med(rate, k, c[k]) : "" }
	function sp(b, w, v,   k) { k = b SUBSEP w SUBSEP v; return (k in c) ? spread(k, c[k]) : "" }
	function csp(b, w, v,   k) { k = b SUBSEP w SUBSEP v; return (k in c) ? spreadof(cpu, k, c[k]) : "" }
	function cp(b, w, v,   k) { k = b SUBSEP w SUBSEP v; return (k in c) ? med(cpu, k, c[k]) : "" }
	function f(x) { return x == "" ? "n/a" : sprintf("%.2f", x / 1e6) }
	function g(x) { return x == "" ? "n/a" : sprintf("%.2f", x) }
	function h(x) { return x == "" ? "n/a" : sprintf("%.0f", x) }
	END {
		nb = split(benches, B, " ")
		print ""
		print "== actors: million messages/s (median of rounds), spread = max/min, CPU ns per message =="
		printf "%-14s %2s %8s %8s %8s %8s | %7s %7s | %6s %6s %7s %7s | %8s\n",
		    "bench", "W", "locked", "lockfree", "adaptive", "caf",
		    "A sprd", "C sprd", "A ns", "C ns", "A nsspr", "C nsspr", "A/CAF"
		print "bench,workers,variant,msgs_per_s,spread,cpu_ns_per_msg,rounds,check" > csv
		print "cell locked lockfree adaptive caf" > dat
		for (i = 1; i <= nb; i++) for (w = 2; w <= 4; w += 2) {
			b = B[i]
			L = m(b, w, "locked"); LF = m(b, w, "lockfree")
			A = m(b, w, "adaptive"); C = m(b, w, "caf")
			if (A == "" && C == "") continue
			as = sp(b, w, "adaptive"); cs = sp(b, w, "caf")
			printf "%-14s %2d %8s %8s %8s %8s | %7s %7s | %6s %6s %7s %7s | %8s\n",
			    b, w, f(L), f(LF), f(A), f(C), g(as), g(cs),
			    h(cp(b, w, "adaptive")), h(cp(b, w, "caf")),
			    g(csp(b, w, "adaptive")), g(csp(b, w, "caf")),
			    (A != "" && C != "") ? sprintf("%.2fx", A / C) : "n/a"
			split("locked lockfree adaptive caf", V, " ")
			line = b "/W" w
			for (j = 1; j <= 4; j++) {
				k = b SUBSEP w SUBSEP V[j]
				x = m(b, w, V[j])
				line = line " " (x == "" ? "?" : x / 1e6)
				if (x != "")
					printf "%s,%d,%s,%.0f,%.3f,%.1f,%d,%s\n", b, w,
					    V[j], x, sp(b, w, V[j]), cp(b, w, V[j]),
					    c[k], (k in bad) ? "FAILED" : "ok" > csv
			}
			print line > dat
			if (C != "")
				printf "%s actors %s W=%d: adaptive >= 1.5x CAF msgs/s (%.2fx) [issue 15]\n",
				    (A != "" && A / C >= 1.5) ? "PASS" : "MISS", b, w,
				    A == "" ? 0 : A / C >> verdicts
			if (A != "" && c[b SUBSEP w SUBSEP "adaptive"] >= 2)
				printf "%s actors %s W=%d: adaptive run-to-run spread <= 1.5x (%.2fx over %d rounds) [issue 15]\n",
				    (as <= 1.5) ? "PASS" : "MISS", b, w, as,
				    c[b SUBSEP w SUBSEP "adaptive"] >> verdicts
		}
		nbad = 0
		for (k in bad) nbad += bad[k]
		printf "%s actors: exact accounting and exclusivity in every run of every variant (%d failed runs)\n",
		    nbad ? "MISS" : "PASS", nbad >> verdicts
		print "A/CAF: adaptive median msgs/s / CAF median msgs/s (>1: we are faster); A ns, C ns: median CPU ns (user+sys) per message; nsspr: max/min of CPU ns per message over the rounds"
	}' "$WORK/actors.txt"
	command -v gnuplot >/dev/null 2>&1 || return 0
	gnuplot >"$WORK/gnuplot-actors.log" 2>&1 <<GP || say "# gnuplot (actors) failed"
set terminal pngcairo size 1100,560 font ",10" noenhanced
set datafile missing "?"
set output "$RESULTS/actors.png"
set title "Actor workloads, million messages/s (median of $A_ROUNDS rounds, scale $A_SCALE), higher is better"
set style data histograms; set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y; set ylabel "million messages/s (log)"
set xtics rotate by -35 scale 0
set key outside right; set grid ytics
plot for [c=2:5] "$WORK/actors.dat" using c:xtic(1) title columnhead(c)
GP
	say "# chart: $RESULTS/actors.png; CSV: $RESULTS/actors.csv"
}

if [ $ACTORS_ONLY = yes ]; then
	START=$(date +%s)
	mkdir -p "$RESULTS" || exit 1
	say "# machine: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
	run_actors
	say ""
	say "== targets =="
	cat "$WORK/verdicts.txt"
	say "$(grep -c '^PASS' "$WORK/verdicts.txt") PASS, $(grep -c '^MISS' "$WORK/verdicts.txt") MISS; total $(( $(date +%s) - START )) s"
	exit 0
fi

# ---- the Rust replica ----
RUST=
if [ $USE_RUST = no ]; then
	say "# seed replica: skipped (--no-rust); our columns only"
elif [ -z "$SEED_RUST" ]; then
	say "# seed replica: not given; our columns only"
	say "#   (READYQ_SEED_RUST=DIR make bench, DIR holding its Cargo.toml)"
elif ! command -v cargo >/dev/null 2>&1; then
	say "# seed replica: cargo not installed; our columns only"
	say "#   (apt-get install cargo librust-dashmap-dev librust-crossbeam-queue-dev librust-spin-dev)"
elif [ ! -f "$SEED_RUST/Cargo.toml" ]; then
	say "# seed replica: no Cargo.toml in '${SEED_RUST}'; our columns only"
else
	TARGET="${TMPDIR:-/tmp}/seed-rust-target"
	progress "building the seed replica into $TARGET"
	# from its folder, so that its .cargo/config.toml (Debian's crates)
	# applies; the folder may be read-only: build into $TMPDIR
	if (cd "$SEED_RUST" && cargo build --release --offline --quiet \
		--target-dir "$TARGET") >"$WORK/cargo.log" 2>&1; then
		RUST="$TARGET/release/seed-rust-anchor"
	else
		say "# seed replica: cargo build failed; our columns only"
		sed 's/^/#   /' "$WORK/cargo.log" | tail -5
	fi
fi

say "# machine: $(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p'), $(nproc) CPUs; $(date -u '+%Y-%m-%d %H:%M UTC')"
say "# mode: $MODE (seed: $ROUNDS rounds x $ITER iterations per thread count)"

# ---- 1. seed workload ----
: >"$WORK/seed.txt"
for n in $THREADS; do
	r=1
	while [ $r -le $ROUNDS ]; do
		progress "seed: $n threads, round $r/$ROUNDS"
		if [ -n "$RUST" ]; then
			"$RUST" "$ITER" "$n" | sed "s/^/$r /" >>"$WORK/seed.txt"
		fi
		"$BIN" seed --iterations "$ITER" --threads "$n" |
			sed "s/^/$r /" >>"$WORK/seed.txt" || exit 1
		r=$((r + 1))
	done
done

# Median of the round medians, min of the minima, max of the maxima.
awk '
$4 == "n/a" { na[$2] = 1; next }
{
	k = $2 SUBSEP $3
	cnt[k]++; med[k, cnt[k]] = $4
	if (!(k in lo) || $5 < lo[k]) lo[k] = $5
	if (!(k in hi) || $6 > hi[k]) hi[k] = $6
}
END {
	for (k in cnt) {
		n = cnt[k]
		for (i = 1; i <= n; i++) v[i] = med[k, i]
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		m = n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
		# quartiles of the round medians: the round-to-round noise
		q1 = v[int((n - 1) / 4) + 1]; q3 = v[n - int((n - 1) / 4)]
		split(k, p, SUBSEP)
		printf "%s %s %.1f %.1f %.1f %.1f %.1f\n", p[1], p[2], m, lo[k], hi[k], q1, q3
	}
	for (x in na) print x, "na"
}' "$WORK/seed.txt" | sort >"$WORK/seed.med"

awk -v threads="$THREADS" -v csv="$RESULTS/seed.csv" \
    -v dat="$WORK/seed.dat" -v verdicts="$WORK/verdicts.txt" '
function val(v, n) { return ((v, n) in t) ? t[v, n] : "" }
function cell(x) { return x == "" ? "n/a" : sprintf("%.0f", x) }
function ratio(a, b) { return (a == "" || b == "") ? "n/a, not built" : sprintf("%.2fx", a / b) }
function rt(a, b) { return (a == "" || b == "") ? "n/a" : sprintf("%.2fx", a / b) }
function verdict(ok, text) { printf "%s %s\n", ok ? "PASS" : "MISS", text >> verdicts }
$2 == "na" { next }
{ t[$1, $2] = $3; spread[$1, $2] = $6 > 0 ? $7 / $6 : 1; seen[$1] = 1 }
END {
	nt = split(threads, th, " ")
	have_seed = ("seed_default_locked" in seen)
	print ""
	print "== seed workload (SPEC 3): median us per run, lower is better =="
	printf "%-7s %9s %9s %9s | %9s %9s %9s %9s %9s %9s | %8s %8s %8s %8s %8s %8s\n",
	    "threads", "seed_def", "seed_v1", "seed_v2", "locked", "lockfree",
	    "adaptive", "naive", "lf_mutex", "floor",
	    "L/def", "LF/v2", "A/best", "A/naive", "A/L|LF", "L/floor"
	print "variant,threads,median_us" > csv
	print "threads seed_default seed_v1 seed_v2 locked lockfree adaptive naive lockfree_mutex floor" > dat
	for (i = 1; i <= nt; i++) {
		n = th[i]
		sd = val("seed_default_locked", n); s1 = val("seed_v1_with_mutex", n)
		s2 = val("seed_v2_no_mutex", n)
		best = sd; if (s1 != "" && (best == "" || s1 < best)) best = s1
		if (s2 != "" && (best == "" || s2 < best)) best = s2
		L = val("locked", n); LF = val("lockfree", n); A = val("adaptive", n)
		N = val("naive", n); LM = val("lockfree_mutex", n); F = val("floor", n)
		# the better of the two backends under the adaptive one
		bb = L; bn = "locked"
		if (LF != "" && (bb == "" || LF < bb)) { bb = LF; bn = "lockfree" }
		printf "%-7s %9s %9s %9s | %9s %9s %9s %9s %9s %9s | %8s %8s %8s %8s %8s %8s\n",
		    n, cell(sd), cell(s1), cell(s2), cell(L), cell(LF), cell(A),
		    cell(N), cell(LM), cell(F), rt(sd, L), rt(s2, LF),
		    rt(best, A), rt(N, A), rt(bb, A), rt(L, F)
		# Within noise: no slower than the better backend times that
		# backend round-to-round spread (Q3/Q1 of its round medians).
		if (A != "" && bb != "")
			verdict(A <= bb * spread[bn, n], sprintf("seed %s threads: adaptive as fast as the better backend (%s) within noise (%s; its rounds spread %.2fx) [floor]", n, bn, ratio(bb, A), spread[bn, n]))
		split("seed_default_locked seed_v1_with_mutex seed_v2_no_mutex locked lockfree adaptive naive lockfree_mutex floor", names, " ")
		line = n
		for (j = 1; j <= 9; j++) {
			x = val(names[j], n)
			line = line " " (x == "" ? "?" : x)
			if (x != "") print names[j] "," n "," x > csv
		}
		print line > dat
		if (have_seed) {
			verdict(A != "" && best / A >= 3, sprintf("seed %s threads: adaptive >= 3x best seed variant (%s) [goal]", n, ratio(best, A)))
			if (n >= 4)
				verdict(A != "" && N / A >= 1.3, sprintf("seed %s threads: adaptive >= 1.3x naive (%s) [goal]", n, ratio(N, A)))
			verdict(L != "" && L < sd, sprintf("seed %s threads: locked ahead of seed_default (%s) [floor]", n, ratio(sd, L)))
			verdict(LF != "" && LF < s2, sprintf("seed %s threads: lockfree ahead of seed_v2 (%s) [floor]", n, ratio(s2, LF)))
			verdict(L != "" && sd / L >= 2, sprintf("seed %s threads: locked >= 2x seed_default (%s)", n, ratio(sd, L)))
		} else if (n >= 4) {
			verdict(A != "" && N / A >= 1.3, sprintf("seed %s threads: adaptive >= 1.3x naive (%s) [goal]", n, ratio(N, A)))
		}
	}
	print "ratios: seed time / our time (>1: we are faster); A/L|LF: the better of locked and lockfree / adaptive; L/floor: locked time / floor time"
	if (!have_seed) print "(no seed replica: targets against the seed not judged)"
}' "$WORK/seed.med"

# ---- 2. steady state ----
# The Rust replica's steady mode (2 producers, 2 workers) per M, then
# readyq-bench steady over every configuration, rounds interleaved inside
# it; its PASS/MISS lines go to the summary, and adaptive (2x2) is judged
# against the best seed variant at each M.
: >"$WORK/steady_seed.txt"
if [ -n "$RUST" ]; then
	for m in $STEADY_MAILBOXES; do
		r=1
		while [ $r -le $STEADY_SEED_ROUNDS ]; do
			progress "steady: seed replica, $m mailboxes, round $r/$STEADY_SEED_ROUNDS"
			"$RUST" steady "$STEADY_MSGS" "$m" |
				awk -v m="$m" '{ print $2, m, $4 }' >>"$WORK/steady_seed.txt"
			r=$((r + 1))
		done
	done
fi
progress "steady: $STEADY_CONFIGS x M=$STEADY_MAILBOXES, $STEADY_ROUNDS rounds"
"$BIN" steady --configs "$STEADY_CONFIGS" \
	--mailboxes "$(echo $STEADY_MAILBOXES | tr ' ' ,)" \
	--messages "$STEADY_MSGS" --rounds "$STEADY_ROUNDS" \
	--csv "$RESULTS/steady.csv" >"$WORK/steady.txt"
say ""
say "== steady state: median of $STEADY_ROUNDS rounds per configuration (P producers x W workers) =="
grep -v -e '^PASS' -e '^MISS' "$WORK/steady.txt"
grep -e '^PASS' -e '^MISS' -e '^# bound' "$WORK/steady.txt" >>"$WORK/verdicts.txt"
if [ -s "$WORK/steady_seed.txt" ]; then
	awk -v verdicts="$WORK/verdicts.txt" '
	FNR == NR { k = $1 SUBSEP $2; c[k]++; v[k, c[k]] = $3; ms[$2] = 1; names[$1] = 1; next }
	$1 == "adaptive" && $2 == "2x2" { ad[$3] = $4 * 1e6 }
	END {
		print ""
		print "== steady, seed replica (2x2): million messages/s, median =="
		for (m in ms) {
			best = 0; bn = ""
			for (nm in names) {
				k = nm SUBSEP m; n = c[k]
				if (!n) continue
				for (a = 1; a <= n; a++) s[a] = v[k, a]
				for (a = 1; a <= n; a++) for (b = a + 1; b <= n; b++)
					if (s[b] < s[a]) { x = s[a]; s[a] = s[b]; s[b] = x }
				med = n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
				printf "%-24s M=%-8s %8.2f\n", nm, m, med / 1e6
				if (med > best) { best = med; bn = nm }
			}
			if (best > 0 && (m in ad))
				printf "%s steady 2x2 M=%s: adaptive >= 2x the best seed variant (%s, %.2fx)\n", \
					(ad[m] >= 2 * best ? "PASS" : "MISS"), m, bn, ad[m] / best >> verdicts
		}
	}' "$WORK/steady_seed.txt" "$WORK/steady.txt"
fi

# ---- 3. latency ----
progress "latency: $SAMPLES samples per variant"
say ""
say "== latency: register on an empty queue -> sleeping wait returns (us) =="
"$BIN" latency --samples "$SAMPLES" --csv "$RESULTS/latency.csv" >"$WORK/latency.txt"
grep -v -e '^PASS' -e '^MISS' "$WORK/latency.txt"
grep -e '^PASS' -e '^MISS' "$WORK/latency.txt" >>"$WORK/verdicts.txt"

# ---- 4. scale ----
progress "scale: 1k..1M mailboxes, 4 slot patterns"
say ""
say "== scale: bytes per mailbox and ns per register+drain+complete =="
"$BIN" scale --messages "$SCALE_OPS" --rounds "$SCALE_ROUNDS" \
	--csv "$RESULTS/scale.csv" >"$WORK/scale.txt"
grep -v -e '^PASS' -e '^MISS' "$WORK/scale.txt"
grep -e '^PASS' -e '^MISS' -e '^# bound' "$WORK/scale.txt" >>"$WORK/verdicts.txt"

# ---- 5. actors ----
[ $ACTORS = yes ] && run_actors

# ---- summary ----
say ""
say "== targets =="
cat "$WORK/verdicts.txt"
say "$(grep -c '^PASS' "$WORK/verdicts.txt") PASS, $(grep -c '^MISS' "$WORK/verdicts.txt") MISS; total $(( $(date +%s) - START )) s"

# ---- charts ----
if ! command -v gnuplot >/dev/null 2>&1; then
	say "# gnuplot not installed: no charts"
	exit 0
fi
grep -v -e '^#' -e 'n/a' "$WORK/latency.txt" | grep -v -e '^PASS' -e '^MISS' >"$WORK/latency.dat"
for v in locked lockfree adaptive naive; do
	for p in dense random; do
		awk -v v=$v -v p=$p '$1 == v && $2 == p && $4 != "n/a"' \
			"$WORK/scale.txt" >"$WORK/scale_${v}_$p.dat"
	done
done
for v in locked lockfree adaptive naive adaptive_batch; do
	awk -F, -v v=$v '$1 == v && $2 == 2 && $3 == 2 { print $4, $5 / 1e6, $7 }' \
		"$RESULTS/steady.csv" >"$WORK/steady_$v.dat"
done
gnuplot >"$WORK/gnuplot.log" 2>&1 <<EOF || { say "# gnuplot failed:"; grep -v warning "$WORK/gnuplot.log" | tail -5; }
set terminal pngcairo size 900,560 font ",10" noenhanced
set datafile missing "?"
set key outside right
set grid
set output "$RESULTS/seed.png"
set title "Seed workload (N threads x 10,000 registers, one drain): median us, lower is better"
set xlabel "threads"; set ylabel "microseconds (log)"
set logscale y; set logscale x 2; set xrange [0.8:10]
set xtics ("1" 1, "2" 2, "4" 4, "8" 8)
colors = "#9400d3 #009e73 #56b4e9 #e69f00 #0072b2 #d55e00 #e51e10 #cc79a7 #000000"
plot for [c=2:4] "$WORK/seed.dat" using 1:c with linespoints lw 2 lc rgb word(colors, c - 1) dt 2 \
	title columnhead(c) noenhanced, \
     for [c=5:10] "$WORK/seed.dat" using 1:c with linespoints lw 2 lc rgb word(colors, c - 1) \
	title columnhead(c) noenhanced
unset logscale; unset xtics; set xtics; set autoscale x
set output "$RESULTS/latency.png"
set title "Wake-up latency: register -> sleeping wait returns (us)"
set style data histograms; set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y; set ylabel "microseconds (log)"; set xlabel ""
plot "$WORK/latency.dat" using 2:xtic(1) title "p50", "" using 3 title "p99", \
	"" using 4 title "p99.9"
unset logscale; set style data linespoints
set output "$RESULTS/scale.png"
set multiplot layout 1,2 title "Scale (capacity_hint 0): dense and random slot numbers"
set logscale x; set xlabel "mailboxes (log)"; set xrange [500:2000000]
set xtics ("1k" 1000, "10k" 10000, "100k" 100000, "1M" 1000000)
set title "ns per register+drain+complete"; set ylabel "ns"
set key inside left top
plot for [v in "locked lockfree adaptive naive"] for [p in "dense random"] \
	"$WORK/scale_".v."_".p.".dat" using 3:6 with linespoints lw 2 title v." ".p
set title "bytes per mailbox (all queued)"; set ylabel "bytes"
plot for [v in "locked lockfree adaptive naive"] for [p in "dense random"] \
	"$WORK/scale_".v."_".p.".dat" using 3:4 with linespoints lw 2 title v." ".p
unset multiplot
set output "$RESULTS/steady.png"
set multiplot layout 1,2 title "Steady state, 2 producers x 2 workers (medians)"
set xrange [40:2000000]
set xtics ("64" 64, "1024" 1024, "65536" 65536, "1M" 1000000)
set title "million messages/s, higher is better"; set ylabel "M msg/s"
plot for [v in "locked lockfree adaptive naive adaptive_batch"] \
	"$WORK/steady_".v.".dat" using 1:2 with linespoints lw 2 title v
set title "CPU ns per message, lower is better"; set ylabel "ns"
plot for [v in "locked lockfree adaptive naive adaptive_batch"] \
	"$WORK/steady_".v.".dat" using 1:3 with linespoints lw 2 title v
unset multiplot
EOF
say "# charts: $RESULTS/seed.png steady.png latency.png scale.png; CSV: seed.csv steady.csv latency.csv scale.csv"
