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
#       difference in %.  TIMING=off and SAMPLE as for overhead (with a
#       SAMPLE below 100% the counts cannot agree: perf counts all the
#       time).
#   measure.sh overhead MODEL [ROUNDS] [SECONDS]
#       Throughput with the probes off, then on, then off... in ONE evd
#       (`evctl syscalls on|off` between rounds) under the same client:
#       evbench -c 50 -d SECONDS.  ROUNDS pairs (default 6), 3 s each.
#       evd runs on CPU $EVD_CPU (default 0), evbench on $CLIENT_CPU
#       (default 1).  Prints every round (requests/s, and evd's CPU time
#       per request: the cpu_user_seconds + cpu_sys_seconds of evctl stats,
#       the serving side) and the medians of the on/off ratios.
#       PER_THREAD=on turns the per-thread counting on as well;
#       TIMING=off counts calls and errors only (`evctl syscalls timing
#       off`: the sys_exit tracepoint alone); SAMPLE=N% attaches them N %
#       of each second ([probes] sample).
#   measure.sh paired MODEL [SECONDS] [SLICE]
#       The same comparison, made robust to a machine whose speed drifts
#       from second to second (a shared VM): ONE evbench -c 50 -d SECONDS
#       (default 60) runs while the probes go on and off every SLICE
#       seconds (default 1, one sampling period); each slice's throughput
#       (evd's request counter) and evd CPU per request are compared with
#       the mean of the two neighbouring slices of the other state.
#       Prints the medians and quartiles of those ratios.  TIMING, SAMPLE
#       and PER_THREAD as for overhead.  PROFILE=cpu|offcpu switches a
#       stack profile instead of the syscall probes (evd started with
#       [probes] profile = on; on: `profile start`, off: `profile
#       cancel`, which drops it unprocessed): on-CPU at HZ (default 99),
#       off-CPU counting blocks from MIN_BLOCK us (default 1000).
#   measure.sh progcost MODEL [N] [ROUNDS]
#       The time the kernel spends in each syscall program per run, from
#       its own counters (kernel.bpf_stats_enabled, set back afterwards):
#       ROUNDS times (default 4), with per-thread counting off then on,
#       a getppid loop (daemon/probes/sysloop.c, 2000000 calls) in a
#       process the probes do not count, then `evbench -c 50 -n N`
#       (default 200000) against evd; evd's calls are what evd counted,
#       the rest are priced at the loop's cost.  Also the loop's wall time
#       per call with the probes detached, attached with timing, and
#       attached without (sys_exit alone).  Robust to the machine's load:
#       it times the programs, not the throughput.  TIMING=off runs the
#       rounds without timing (sys_enter then does not run: "-").
#   measure.sh profcost MODEL [SECONDS]
#       The stack profiler's programs timed by the kernel
#       (kernel.bpf_stats_enabled, set back afterwards): a profile
#       on-CPU at HZ (default 99), then off-CPU with blocks from MIN_BLOCK
#       us (default 1000), each over `evbench -c 50 -d SECONDS` (default
#       20); prints runs, ns per run, the programs' time per second and
#       per request, and that time against evd's CPU time meanwhile (an
#       upper bound of their share: off_cpu runs on every context switch
#       of the machine, evd's or not).  Robust to the machine's load: it
#       times the programs, not the throughput.
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
EVD_CPU=${EVD_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
PER_THREAD=${PER_THREAD:-off}
TIMING=${TIMING:-on}
SAMPLE=${SAMPLE:-100%}
PROFILE=${PROFILE:-}
HZ=${HZ:-99}
MIN_BLOCK=${MIN_BLOCK:-1000}
dir=$(mktemp -d /tmp/evd-measure.XXXXXX)
evd_pid=

die() { echo "measure.sh: $*" >&2; exit 1; }

bpf_stats_was=

cleanup() {
	if [ -n "$bpf_stats_was" ]; then
		sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_was" || true
	fi
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
	taskset -c "$EVD_CPU" \
	"$EVD" -c /dev/null -o server.model="$1" -o server.workers="$WORKERS" \
		-o server.listen=127.0.0.1:0 -o server.backlog=4096 \
		-o control.socket="$dir/evd.sock" -o probes.syscalls="$2" \
		-o probes.sample="$SAMPLE" \
		-o probes.profile="$([ -n "$PROFILE" ] && echo on || echo off)" \
		-o log.level=warning 2>"$dir/evd.log" &
	evd_pid=$!
	wait_for 10 ctl stats || { cat "$dir/evd.log" >&2; die "evd did not start"; }
	port=$(stat_of listen | sed 's/,.*//; s/.*://')
	# Pool models: every worker up before anything is measured.
	wait_for 10 workers_up || die "$1: the workers did not come up"
}

workers_up() {
	ctl workers -o json | jq -e '[.workers[] | select(.pid == 0)] | length == 0'
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
	ctl syscalls timing "$TIMING" >/dev/null || die "cannot set timing $TIMING"
	local tids names events ev
	tids=$(ctl workers -o json | jq -r '[.workers[].tid | select(. > 0)] | join(",")')
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

# evd_cpu: CPU seconds (user + system) of evd's serving side so far, as
# evctl stats shows them (the control thread's own time left out).
evd_cpu() {
	ctl stats | awk '$1 == "cpu_user_seconds" { u = $2 }
		$1 == "cpu_sys_seconds" { s = $2 } END { printf "%.3f", u + s }'
}

cmd_overhead() {
	local model=$1 rounds=${2:-6} secs=${3:-3}
	local r state ratios=() cratios=()
	start "$model" off
	local pt=$PER_THREAD
	# An evd from before the switch counts per thread always.
	ctl syscalls workers "$pt" >/dev/null 2>&1 || pt="always (this evd has no switch)"
	ctl syscalls timing "$TIMING" >/dev/null || die "cannot set timing $TIMING"
	echo "model $model, evd on CPU $EVD_CPU, evbench -c 50 -d $secs on CPU $CLIENT_CPU, per-thread counting $pt, timing $TIMING, sample $SAMPLE"
	printf '%-6s %10s %10s %8s   %14s %14s %8s\n' round off_rps on_rps on/off \
		off_evd_us/req on_evd_us/req on/off
	for ((r = 1; r <= rounds; r++)); do
		declare -A rps=() cpu=()
		for state in off on; do
			ctl syscalls "$state" >/dev/null
			local t0 t1 n
			t0=$(evd_cpu)
			taskset -c "$CLIENT_CPU" "$EVBENCH" -c 50 -d "$secs" --json \
				"127.0.0.1:$port" >"$dir/b.json" ||
				die "evbench failed (round $r, probes $state)"
			t1=$(evd_cpu)
			n=$(jq .requests "$dir/b.json")
			rps[$state]=$(jq .throughput_rps "$dir/b.json")
			cpu[$state]=$(awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.3f", 1e6 * (b - a) / n }')
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

# snap: "seconds requests cpu_seconds" of evd now.
snap() {
	local t
	t=$(date +%s.%N)
	ctl stats | awk -v t="$t" '$1 == "requests" { r = $2 }
		$1 == "cpu_user_seconds" { u = $2 } $1 == "cpu_sys_seconds" { s = $2 }
		END { printf "%s %s %.6f\n", t, r, u + s }'
}

# switch STATE: the syscall probes, or with PROFILE a stack profile, on
# or off.
switch() {
	if [ -z "$PROFILE" ]; then
		ctl syscalls "$1" >/dev/null
	elif [ "$1" = on ]; then
		ctl raw profile start "$PROFILE" 300 \
			"$([ "$PROFILE" = cpu ] && echo "$HZ" || echo "$MIN_BLOCK")" \
			>/dev/null || die "cannot start a $PROFILE profile"
	else
		ctl raw profile cancel >/dev/null
	fi
}

cmd_paired() {
	local model=$1 secs=${2:-60} slice=${3:-1}
	local state=off end what
	start "$model" off
	ctl syscalls workers "$PER_THREAD" >/dev/null
	ctl syscalls timing "$TIMING" >/dev/null || die "cannot set timing $TIMING"
	what="probes; per-thread $PER_THREAD, timing $TIMING, sample $SAMPLE"
	case $PROFILE in
	"") ;;
	cpu) what="a stack profile on-CPU at $HZ Hz" ;;
	offcpu) what="a stack profile off-CPU, blocks from $MIN_BLOCK us" ;;
	*) die "PROFILE=$PROFILE: expected cpu or offcpu" ;;
	esac
	echo "model $model, evd on CPU $EVD_CPU, one evbench -c 50 -d $secs on CPU $CLIENT_CPU, switched every $slice s: $what"
	taskset -c "$CLIENT_CPU" "$EVBENCH" -c 50 -d "$secs" --json \
		"127.0.0.1:$port" >"$dir/b.json" &
	local bench=$!
	# Skip the first second: connections opening.
	sleep 1
	: >"$dir/slices"
	end=$(awk -v n="$(date +%s.%N)" -v d="$secs" 'BEGIN { printf "%.3f", n + d - 2 }')
	local prev
	prev=$(snap)
	while awk -v n="$(date +%s.%N)" -v e="$end" 'BEGIN { exit !(n < e) }'; do
		sleep "$slice"
		local cur
		cur=$(snap)
		echo "$state $prev $cur" >>"$dir/slices"
		if [ "$state" = off ]; then state=on; else state=off; fi
		switch "$state"
		# The next slice starts after the switch.
		prev=$(snap)
	done
	wait "$bench" || die "evbench failed"
	switch off
	stop
	# Each slice: state, rate, CPU per request; then the ratios of each
	# on slice to the mean of its off neighbours.
	awk '{ dt = $5 - $2; dr = $6 - $3; dc = $7 - $4
		if (dt <= 0 || dr <= 0) next
		n++; st[n] = $1; rate[n] = dr / dt; cpr[n] = 1e6 * dc / dr }
		END {
			for (i = 2; i < n; i++) {
				if (st[i] != "on" || st[i-1] != "off" || st[i+1] != "off") continue
				printf "%.5f %.5f\n", rate[i] / ((rate[i-1] + rate[i+1]) / 2),
					cpr[i] / ((cpr[i-1] + cpr[i+1]) / 2)
			}
		}' "$dir/slices" >"$dir/ratios"
	[ -s "$dir/ratios" ] || die "no slice pairs (too short a run?)"
	quartiles "$model throughput on/off" $(awk '{ print $1 }' "$dir/ratios")
	quartiles "$model evd CPU per request on/off" $(awk '{ print $2 }' "$dir/ratios")
}

# quartiles LABEL VALUE...: median and quartiles of the values.
quartiles() {
	local label=$1
	shift
	printf '%s\n' "$@" | sort -g | awk -v m="$label" '
		{ v[NR] = $1 }
		function q(p,   x, i) { x = 1 + (NR - 1) * p; i = int(x); return v[i] + (x - i) * (v[i + 1] - v[i]) }
		END { printf "%s: median %.4f, quartiles %.4f..%.4f over %d slices\n", m, q(0.5), q(0.25), q(0.75), NR }'
}

# prog_counters: "run_time_ns run_cnt" of this evd's sys_enter, then of its
# sys_exit: the programs whose descriptors evd holds (their prog_id in
# /proc/PID/fdinfo; other evds on the machine may have their own).
prog_counters() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$evd_pid"/fdinfo/* 2>/dev/null |
		awk '{ print $2 }' | sort -u | paste -sd, -)
	bpftool prog show -j | jq -r --argjson ids "[${ids:-}]" '
		[.[] | select((.name == "sys_enter" or .name == "sys_exit") and
			(.id as $i | $ids | index($i)))] | unique_by(.name) |
		map("\(.run_time_ns // 0) \(.run_cnt // 0)") | join(" ")'
}

# evd_calls: the system calls evd has counted since its last reset.
evd_calls() {
	ctl syscalls -o json | jq .calls
}

cmd_progcost() {
	local model=$1 n=${2:-200000} rounds=${3:-4} loop=2000000
	local r pt a b c0 c1 off_ns on_ns count_ns
	command -v bpftool >/dev/null || die "bpftool is missing"
	cc -O2 -o "$dir/sysloop" "$top/daemon/probes/sysloop.c" ||
		die "cannot compile daemon/probes/sysloop.c"
	start "$model" off
	off_ns=$(taskset -c "$CLIENT_CPU" "$dir/sysloop" "$loop")
	ctl syscalls on >/dev/null
	on_ns=$(taskset -c "$CLIENT_CPU" "$dir/sysloop" "$loop")
	ctl syscalls timing off >/dev/null
	count_ns=$(taskset -c "$CLIENT_CPU" "$dir/sysloop" "$loop")
	ctl syscalls timing "$TIMING" >/dev/null
	echo "model $model; getppid loop in another process: $off_ns ns/call detached, $on_ns attached with timing, $count_ns without"
	echo "timing $TIMING"
	bpf_stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	[ "$(prog_counters | wc -w)" -eq 4 ] || die "cannot find evd's programs with bpftool"
	printf '%-5s %-10s %12s %12s %12s %12s\n' round per_thread \
		other_enter other_exit evd_enter evd_exit
	for ((r = 1; r <= rounds; r++)); do
		for pt in off on; do
			# An evd from before the switch counts per thread always.
			ctl syscalls workers "$pt" >/dev/null 2>&1 || pt=always
			# Another process's calls: the loop's and the machine's.
			read -ra a < <(prog_counters)
			taskset -c "$CLIENT_CPU" "$dir/sysloop" "$loop" >/dev/null
			read -ra b < <(prog_counters)
			local oe ox
			oe=$(per_run $((b[0] - a[0])) $((b[1] - a[1])) 0 0)
			ox=$(per_run $((b[2] - a[2])) $((b[3] - a[3])) 0 0)
			# evd's: its calls counted, the rest priced as above.
			c0=$(evd_calls)
			read -ra a < <(prog_counters)
			taskset -c "$CLIENT_CPU" "$EVBENCH" -c 50 -n "$n" --json \
				"127.0.0.1:$port" >"$dir/b.json" || die "evbench failed"
			read -ra b < <(prog_counters)
			c1=$(evd_calls)
			local m=$((c1 - c0)) ee ex
			ee=$(per_run $((b[0] - a[0])) $((b[1] - a[1])) "$m" "$oe")
			ex=$(per_run $((b[2] - a[2])) $((b[3] - a[3])) "$m" "$ox")
			printf '%-5d %-10s %12s %12s %12s %12s\n' "$r" "$pt" "$oe" "$ox" "$ee" "$ex"
		done
	done
	echo "(ns per run of each program; evd's from $n requests, ~2 calls each)"
	sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_was"
	bpf_stats_was=
	stop
}

# prof_counters NAME: "run_time_ns run_cnt" of this evd's program NAME.
prof_counters() {
	local ids
	ids=$(grep -h '^prog_id:' /proc/"$evd_pid"/fdinfo/* 2>/dev/null |
		awk '{ print $2 }' | sort -u | paste -sd, -)
	bpftool prog show -j | jq -r --arg n "$1" --argjson ids "[${ids:-}]" '
		[.[] | select(.name == $n and (.id as $i | $ids | index($i)))][0] |
		"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}

cmd_profcost() {
	local model=$1 secs=${2:-20} mode prog arg a b c0 c1 n
	command -v bpftool >/dev/null || die "bpftool is missing"
	PROFILE=cpu start "$model" off
	bpf_stats_was=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
	echo "model $model, evd on CPU $EVD_CPU, evbench -c 50 -d $secs on CPU $CLIENT_CPU per profile"
	printf '%-7s %10s %8s %12s %12s %14s\n' profile runs ns/run prog_ms/s prog_us/req "of evd's CPU"
	for mode in cpu offcpu; do
		prog=on_cpu arg=$HZ
		[ "$mode" = offcpu ] && prog=off_cpu arg=$MIN_BLOCK
		ctl raw profile start "$mode" 300 "$arg" >/dev/null ||
			die "cannot start a $mode profile"
		read -ra a < <(prof_counters "$prog")
		c0=$(evd_cpu)
		taskset -c "$CLIENT_CPU" "$EVBENCH" -c 50 -d "$secs" --json \
			"127.0.0.1:$port" >"$dir/b.json" || die "evbench failed"
		c1=$(evd_cpu)
		read -ra b < <(prof_counters "$prog")
		ctl raw profile cancel >/dev/null
		n=$(jq .requests "$dir/b.json")
		awk -v t="$((b[0] - a[0]))" -v r="$((b[1] - a[1]))" -v n="$n" \
			-v s="$secs" -v c="$(awk -v x="$c0" -v y="$c1" 'BEGIN { print y - x }')" \
			-v m="$mode ($arg)" 'BEGIN {
			printf "%-7s %10d %8.0f %12.3f %12.4f %13.2f%%\n", m, r,
				r ? t / r : 0, t / 1e6 / s, n ? t / 1e3 / n : 0,
				(c > 0 ? 100 * t / 1e9 / c : 0) }'
	done
	sysctl -qw kernel.bpf_stats_enabled="$bpf_stats_was"
	bpf_stats_was=
	stop
}

# per_run TIME RUNS M O: ns per run; with M > 0, of M runs out of RUNS,
# the other RUNS - M priced at O ns each; "-" when the program did not run.
per_run() {
	awk -v t="$1" -v c="$2" -v m="$3" -v o="$4" 'BEGIN {
		if (c == 0 || o == "-") { print "-"; exit }
		if (m > 0) printf "%.1f", (t - (c - m) * o) / m
		else printf "%.1f", t / c
	}'
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

[ $# -ge 1 ] || { sed -n '2,64p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ "$(id -u)" -eq 0 ] || die "the probes need root (CAP_BPF and CAP_PERFMON)"
what=$1
shift
case $what in
agree) [ $# -ge 1 ] || die "usage: measure.sh agree MODEL [N]"; cmd_agree "$@" ;;
overhead) [ $# -ge 1 ] || die "usage: measure.sh overhead MODEL [ROUNDS] [SECONDS]"; cmd_overhead "$@" ;;
paired) [ $# -ge 1 ] || die "usage: measure.sh paired MODEL [SECONDS] [SLICE]"; cmd_paired "$@" ;;
progcost) [ $# -ge 1 ] || die "usage: measure.sh progcost MODEL [N] [ROUNDS]"; cmd_progcost "$@" ;;
profcost) [ $# -ge 1 ] || die "usage: measure.sh profcost MODEL [SECONDS]"; cmd_profcost "$@" ;;
perreq) cmd_perreq "$@" ;;
*) die "unknown command \"$what\" (expected agree, overhead, paired, progcost, profcost or perreq)" ;;
esac
