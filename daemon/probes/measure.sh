#!/usr/bin/env bash
# The figures behind the probes' claims, measured on this machine:
#
#   measure.sh agree MODEL [N]
#       evd's counts against perf's (the kernel's own raw_syscalls and
#       syscalls:sys_enter_* tracepoint counters) for the same run: N echo
#       requests of 100 bytes over 20 connections (default 100000).  perf
#       counts exactly the threads evd counts (every scoreboard slot's
#       thread; the control thread is left out of both) from before the
#       reset to after the read.  Prints one line per syscall: evd, perf,
#       difference in %.
#   measure.sh overhead MODEL [ROUNDS] [SECONDS]
#       Throughput with the probes off, then on, then off... in ONE evd
#       (`evctl syscalls on|off` between rounds) under the same client:
#       evbench -c 50 -d SECONDS.  ROUNDS pairs (default 6), 3 s each.
#       Prints every round (requests/s, and evd's CPU time per request
#       from /proc) and the medians of the on/off ratios.
#   measure.sh perreq [MODEL...]
#       System calls per request of each model (default: all twelve) under
#       two loads: `evbench -c 10 -n 50000` (keep-alive) and
#       `evbench --conn-per-request -c 10 -n 5000`; a markdown table.
#
# Needs root (the probes), perf for `agree`, jq; runs from the top of the
# tree after `make` (EVD, EVCTL, EVBENCH override the binaries).  Loopback
# only; every evd it starts is stopped, even on error.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
EVD=${EVD:-$top/evd}
EVCTL=${EVCTL:-$top/evctl}
EVBENCH=${EVBENCH:-$top/evbench}
WORKERS=${WORKERS:-2}
dir=$(mktemp -d /tmp/evd-measure.XXXXXX)
evd_pid=

die() { echo "measure.sh: $*" >&2; exit 1; }

cleanup() {
	if [ -n "$evd_pid" ]; then
		kill -TERM "$evd_pid" 2>/dev/null || true
		wait "$evd_pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT

ctl() { "$EVCTL" -s "$dir/evd.sock" "$@"; }
stat_of() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }

# wait_for SECONDS COMMAND...: polls every 20 ms; fails at the deadline.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$end" ] || return 1
		sleep 0.02
	done
}

# start MODEL PROBES: one evd on a free loopback port; sets port.
start() {
	"$EVD" -c /dev/null -o server.model="$1" -o server.workers="$WORKERS" \
		-o server.listen=127.0.0.1:0 -o server.backlog=4096 \
		-o control.socket="$dir/evd.sock" -o probes.syscalls="$2" \
		-o log.level=warning 2>"$dir/evd.log" &
	evd_pid=$!
	wait_for 10 ctl stats || { cat "$dir/evd.log" >&2; die "evd did not start"; }
	port=$(stat_of listen | sed 's/,.*//; s/.*://')
	# Pool models: every worker up before anything is measured.
	wait_for 10 workers_up || die "$1: the workers did not come up"
}

workers_up() {
	ctl workers -o json | jq -e '[.[] | select(.pid == 0)] | length == 0'
}

stop() {
	kill -TERM "$evd_pid"
	wait "$evd_pid" || die "evd exited with $?"
	evd_pid=
}

# settle CLOSED: waits until evd has closed CLOSED connections in all.
settle() {
	wait_for 20 test "$(stat_of connections_closed)" -ge "$1" ||
		die "connections not closed"
}

cmd_agree() {
	local model=$1 n=${2:-100000}
	command -v perf >/dev/null || die "perf is missing (apt-get install linux-perf)"
	start "$model" on
	local tids names events ev
	tids=$(ctl workers -o json | jq -r '[.[].tid | select(. > 0)] | join(",")')
	names="accept4 recvfrom sendto read write close epoll_wait epoll_ctl epoll_pwait poll select pselect6 ppoll futex io_uring_enter setsockopt fcntl shutdown getsockname clone clone3 wait4 exit exit_group"
	events=raw_syscalls:sys_enter
	for ev in $names; do
		[ -d "/sys/kernel/tracing/events/syscalls/sys_enter_$ev" ] &&
			events+=",syscalls:sys_enter_$ev"
	done
	# perf counts these threads for as long as the command runs: from
	# before the reset to after the read.
	# shellcheck disable=SC2016 # the inner script expands its own $0..$5
	perf stat -x, -o "$dir/perf.csv" -e "$events" -t "$tids" -- \
		bash -c '
		set -e
		"$0" -s "$1" syscalls reset >/dev/null
		c0=$("$0" -s "$1" stats | awk "\$1 == \"connections_closed\" { print \$2 }")
		"$2" -c 20 -n "$3" --json "127.0.0.1:$4" >"$5/bench.json"
		end=$((SECONDS + 20))
		until [ "$("$0" -s "$1" stats | awk "\$1 == \"connections_closed\" { print \$2 }")" -ge $((c0 + 20)) ]; do
			[ $SECONDS -lt $end ] || exit 1
			sleep 0.02
		done
		"$0" -s "$1" syscalls -o json >"$5/evd.json"
		' "$EVCTL" "$dir/evd.sock" "$EVBENCH" "$n" "$port" "$dir"
	stop
	jq -e '.requests == '"$n" "$dir/bench.json" >/dev/null || die "evbench failed"
	echo "model $model: $n requests, $(jq -r .requests "$dir/evd.json") counted by evd; threads $tids"
	printf '%-14s %10s %10s %8s\n' syscall evd perf diff%
	for ev in $names; do
		local p e
		p=$(awk -F, -v e="syscalls:sys_enter_$ev" '$3 == e { print $1 }' "$dir/perf.csv")
		[ -n "$p" ] || continue
		e=$(jq --arg n "$ev" '[.syscalls[] | select(.name == $n) | .calls] | add // 0' "$dir/evd.json")
		[ "$p" = 0 ] && [ "$e" = 0 ] && continue
		printf '%-14s %10d %10d %8s\n' "$ev" "$e" "$p" \
			"$(awk -v e="$e" -v p="$p" 'BEGIN { if (p == 0) print "-"; else printf "%+.3f", 100 * (e - p) / p }')"
	done
	p=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$dir/perf.csv")
	e=$(jq .calls "$dir/evd.json")
	printf '%-14s %10d %10d %8s\n' "(all)" "$e" "$p" \
		"$(awk -v e="$e" -v p="$p" 'BEGIN { printf "%+.3f", 100 * (e - p) / p }')"
}

# evd_ticks: CPU time (user + system, in clock ticks) of evd's processes
# (master and workers) so far.
evd_ticks() {
	local pids p t=0
	pids=$(ctl workers -o json | jq -r '[.[].pid | select(. > 0)] | unique | .[]')
	for p in $evd_pid $pids; do
		[ -r "/proc/$p/stat" ] || continue
		t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')))
	done
	echo "$t"
}

cmd_overhead() {
	local model=$1 rounds=${2:-6} secs=${3:-3}
	local hz r state ratios=() cratios=()
	hz=$(getconf CLK_TCK)
	start "$model" off
	printf '%-6s %10s %10s %8s   %14s %14s %8s\n' round off_rps on_rps on/off \
		off_evd_us/req on_evd_us/req on/off
	for ((r = 1; r <= rounds; r++)); do
		declare -A rps=() cpu=()
		for state in off on; do
			ctl syscalls "$state" >/dev/null
			local t0 t1 n
			t0=$(evd_ticks)
			"$EVBENCH" -c 50 -d "$secs" --json "127.0.0.1:$port" >"$dir/b.json" ||
				die "evbench failed (round $r, probes $state)"
			t1=$(evd_ticks)
			n=$(jq .requests "$dir/b.json")
			rps[$state]=$(jq .throughput_rps "$dir/b.json")
			cpu[$state]=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v n="$n" 'BEGIN { printf "%.3f", 1e6 * t / hz / n }')
		done
		local ratio cratio
		ratio=$(awk -v a="${rps[on]}" -v b="${rps[off]}" 'BEGIN { printf "%.4f", a / b }')
		cratio=$(awk -v a="${cpu[on]}" -v b="${cpu[off]}" 'BEGIN { printf "%.4f", a / b }')
		ratios+=("$ratio")
		cratios+=("$cratio")
		printf '%-6d %10.0f %10.0f %8s   %14s %14s %8s\n' "$r" "${rps[off]}" "${rps[on]}" \
			"$ratio" "${cpu[off]}" "${cpu[on]}" "$cratio"
		unset rps cpu
	done
	stop
	median "$model throughput on/off" "${ratios[@]}"
	median "$model evd CPU per request on/off" "${cratios[@]}"
}

# median LABEL VALUE...: the median, min and max of the values.
median() {
	local label=$1
	shift
	printf '%s\n' "$@" | sort -n | awk -v m="$label" '
		{ v[NR] = $1 }
		END {
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%s: median %.4f, min %.4f, max %.4f over %d rounds\n",
				m, med, v[1], v[NR], NR
		}'
}

# perreq_run EVBENCH-ARGS...: reset, one evbench run, waits for the
# closes; prints calls per request, a tab, and the main syscalls.
perreq_run() {
	ctl syscalls reset >/dev/null
	local c0
	c0=$(stat_of connections_closed)
	"$EVBENCH" "$@" --json "127.0.0.1:$port" >"$dir/b.json" || die "evbench $* failed"
	settle $((c0 + $(jq .connects "$dir/b.json")))
	ctl syscalls -o json >"$dir/evd.json"
	jq -r '"\(.calls_per_request)\t" + ([.syscalls | sort_by(-.calls)[] | select(.calls_per_request >= 0.05) | "\(.name) \(.calls_per_request)"][:5] | join(", "))' "$dir/evd.json"
}

cmd_perreq() {
	local models=("$@") m a b
	[ ${#models[@]} -gt 0 ] || models=(iterative select poll epoll fork thread prefork prethread select-prethread async reuseport uring)
	echo "| model | keep-alive: calls/req | main calls/req | conn per request: calls/req | main calls/req |"
	echo "|---|---:|---|---:|---|"
	for m in "${models[@]}"; do
		start "$m" on
		a=$(perreq_run -c 10 -n 50000)
		b=$(perreq_run --conn-per-request -c 10 -n 5000)
		stop
		echo "| $m | ${a%%$'\t'*} | ${a#*$'\t'} | ${b%%$'\t'*} | ${b#*$'\t'} |"
	done
}

[ $# -ge 1 ] || { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "$(id -u)" -eq 0 ] || die "the probes need root (CAP_BPF and CAP_PERFMON)"
what=$1
shift
case $what in
agree) [ $# -ge 1 ] || die "usage: measure.sh agree MODEL [N]"; cmd_agree "$@" ;;
overhead) [ $# -ge 1 ] || die "usage: measure.sh overhead MODEL [ROUNDS] [SECONDS]"; cmd_overhead "$@" ;;
perreq) cmd_perreq "$@" ;;
*) die "unknown command \"$what\" (expected agree, overhead or perreq)" ;;
esac
