# The eBPF syscall probes ([probes] syscalls, evctl syscalls): counts against
# a known load, evd's processes only (forked workers in, evctl's control
# calls out), on/off at runtime, reset, histograms, intervals, the
# per-thread view, and the refusals: a build without the probes, no
# privileges.
#
# Loading the probes needs root (CAP_BPF + CAP_PERFMON), kernel BTF and a
# build that has them; without those the tests that load them are skipped
# with the reason.

bats_require_minimum_version 1.5.0
load helpers

STUB_MSG='this evd was built without them (make BPF=0, or bpftool, clang or the kernel BTF missing at build time)'
OFF_MSG='evctl: evd: ERROR syscall probes are off (turn them on with `evctl syscalls on`, or [probes] syscalls = on)'
PER_THREAD_OFF_MSG='evctl: evd: ERROR per-thread counting is off (turn it on with `evctl syscalls workers on`: threads are counted from then on)'
EPERM_MSG='permission denied: loading them needs CAP_BPF and CAP_PERFMON (run evd as root, or grant it those capabilities)'

teardown() {
	if [ -n "${STRACE_PID:-}" ]; then
		kill -KILL "$STRACE_PID" 2>/dev/null || true
		wait "$STRACE_PID" 2>/dev/null || true
	fi
	evd_cleanup
	# A directory outside BATS_TEST_TMPDIR, for tests that run evd as nobody.
	if [ -n "${PROBES_TMP:-}" ]; then
		rm -rf "$PROBES_TMP"
	fi
}

# is_stub BIN: true when BIN was built with daemon/probes/probes_none.c.
is_stub() {
	grep -qF "$STUB_MSG" "$1"
}

# require_probes: skips the test, saying why, when the probes cannot load.
require_probes() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "loading the eBPF probes needs root (CAP_BPF and CAP_PERFMON)"
	fi
	if [ ! -r /sys/kernel/btf/vmlinux ]; then
		skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	fi
	if is_stub "$EVD_BIN"; then
		skip "$EVD_BIN was built without the probes (BPF=0, or bpftool, clang or BTF missing)"
	fi
}

# probes_start [-o S.K=V]...: evd_start, with these options on evd's command
# line ([probes] is set with -o).
probes_start() {
	EVD_DIR=${EVD_DIR:-$BATS_TEST_TMPDIR}
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF"
	"$EVD_BIN" -c "$EVD_CONF" "$@" 2>"$EVD_LOG" &
	EVD_PID=$!
	if ! wait_until 10 evd_answers; then
		cat "$EVD_LOG" >&2
		return 1
	fi
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	[ -n "$EVD_PORT" ]
}

sc() {
	"$EVCTL_BIN" -s "$EVD_SOCK" syscalls "$@"
}

# load N M: N connections one after the other, M 100-byte echoes each.
load() {
	"$EVCLIENT_BIN" -p "$EVD_PORT" -c 1 -n "$1" -m "$2" -s 100 >/dev/null
}

# field JSON NAME KEY: one key of one syscall's row, 0 when it has no row.
field() {
	jq -r --arg n "$2" "([.syscalls[] | select(.name == \$n)][0] // {}) | .$3 // 0" <<<"$1"
}

# ok_calls JSON NAME: calls that did not fail.
ok_calls() {
	echo $(($(field "$1" "$2" calls) - $(field "$1" "$2" errors)))
}

# links TP: how many processes of this evd hold a link on tracepoint TP.
links() {
	local p n=0
	# LINK_PIDS: the pids to look at, when a test knows them (a window of
	# 200 ms is easier to catch without a process scan in each look).
	for p in ${LINK_PIDS:-$(evd_pids)}; do
		if grep -qx "tp_name:	$1" /proc/"$p"/fdinfo/* 2>/dev/null; then
			n=$((n + $(grep -lx "tp_name:	$1" /proc/"$p"/fdinfo/* 2>/dev/null | wc -l)))
		fi
	done
	echo "$n"
}

# known_load MODEL [per-thread]: 10 connections of 100 requests each; every
# count that the load fixes must be exact.  With per-thread, the per-thread
# counting (off by default) is turned on before the load.
known_load() {
	require_probes
	probes_start -o probes.syscalls=on -o server.model="$1" -o server.workers=2
	grep -q 'syscall probes on: counting the system calls of evd' "$EVD_LOG"
	if [ "${2:-}" = per-thread ]; then
		run -0 sc workers on
		[ "$output" = "per-thread syscall counting on" ]
	fi
	known_counts
	[ "$(jq -r .state <<<"$json")" = on ]
	[ "$(jq ".syscalls[] | select(.name == \"sendto\") | .calls_per_request == 1" <<<"$json")" = true ]
	[ "$(jq -r .untracked_processes <<<"$json")" = 0 ]
}

# known_counts: 10 connections of 100 requests each against the running
# evd (its counts reset or fresh); sets json to evctl syscalls -o json and
# checks every count that the load fixes.
known_counts() {
	load 10 100
	wait_stat requests 1000
	wait_stat connections_closed 10
	json=$(sc -o json)
	echo "$json" >&2
	[ "$(jq -r .requests <<<"$json")" = 1000 ]
	# One accept per connection (failed ones, EAGAIN after the last, aside).
	[ "$(ok_calls "$json" accept4)" -eq 10 ]
	# One send per echo of 100 bytes, none failing.
	[ "$(field "$json" sendto calls)" -eq 1000 ]
	[ "$(field "$json" sendto errors)" -eq 0 ]
	# A read per request, and one more per connection that sees its end.
	[ "$(ok_calls "$json" recvfrom)" -ge 1010 ]
	[ "$(field "$json" close calls)" -ge 10 ]
}

@test "syscalls = on, epoll: accept4, recvfrom and sendto match the load" {
	known_load epoll
	evd_stop
}

@test "syscalls = on, thread: threads of the master are counted" {
	known_load thread
	evd_stop
}

@test "syscalls = on, prefork: worker processes forked after loading are counted" {
	known_load prefork per-thread
	# The sends happen in the two workers, none in the master.
	workers=$(sc --workers -o json)
	echo "$workers" >&2
	for pid in $(workers_json | jq -r '.[] | select(.role == "worker") | .pid'); do
		[ "$(jq --argjson p "$pid" '[.threads[] | select(.pid == $p) | .calls] | add // 0' <<<"$workers")" -gt 0 ]
	done
	# The master, which waits in one call from before `workers on`, has
	# no per-thread row at all, or none for sendto.
	master_tid=$(workers_json | jq -r '.[] | select(.role == "master") | .tid')
	run --separate-stderr sc --worker "$master_tid" -o json
	if [ "$status" -eq 1 ]; then
		[ "$stderr" = "evctl: evd: ERROR no system call counted for thread $master_tid (evctl syscalls --workers lists them)" ]
	else
		[ "$status" -eq 0 ]
		[ "$(field "$output" sendto calls)" -eq 0 ]
	fi
	evd_stop
}

@test "syscalls = on, fork: one process per connection, each followed from fork to exit" {
	known_load fork
	json=$(sc -o json)
	# Every connection's process exits once the connection is over.
	[ "$(field "$json" exit_group calls)" -eq 10 ]
	evd_stop
}

# strace_calls FILE NAME: calls and errors ("C E") of one syscall in the
# table strace -c wrote to FILE, "0 0" when it has no row.
strace_calls() {
	awk -v n="$2" '$NF == n { e = NF == 6 ? $5 : 0; print $4, e; found = 1 }
		END { if (!found) print 0, 0 }' "$1"
}

# strace_attached FILE N: strace said "Process N attached" N times.
strace_attached() {
	[ "$(grep -c ' attached$' "$1")" -eq "$2" ]
}

# strace_agrees MODEL: evd's counts and strace's for the same run, on the
# threads evd counts (every scoreboard slot; the control thread is in
# neither): accept4 that succeeded, recvfrom and sendto (calls and errors)
# must be the same numbers.
strace_agrees() {
	require_probes
	command -v strace >/dev/null || skip "strace is missing (apt-get install strace)"
	probes_start -o probes.syscalls=on -o server.model="$1" -o server.workers=2
	wait_until 10 workers_alive
	local tids=() t args=()
	tids=($(workers_json | jq -r '.[].tid'))
	for t in "${tids[@]}"; do
		args+=(-p "$t")
	done
	run -0 sc reset
	strace -c -o "$BATS_TEST_TMPDIR/strace.txt" -e trace=accept4,recvfrom,sendto \
		"${args[@]}" 2>"$BATS_TEST_TMPDIR/strace.err" &
	STRACE_PID=$!
	wait_until 10 strace_attached "$BATS_TEST_TMPDIR/strace.err" "${#tids[@]}"
	load 10 50
	wait_stat requests 500
	wait_stat connections_closed 10
	json=$(sc -o json)
	# strace detaches on SIGINT, writes its table and exits 0 or 130.
	kill -INT "$STRACE_PID"
	local rc=0
	wait "$STRACE_PID" || rc=$?
	STRACE_PID=
	[ "$rc" -eq 0 ] || [ "$rc" -eq 130 ]
	cat "$BATS_TEST_TMPDIR/strace.txt" >&2
	local name ours theirs
	for name in recvfrom sendto; do
		ours="$(field "$json" $name calls) $(field "$json" $name errors)"
		theirs=$(strace_calls "$BATS_TEST_TMPDIR/strace.txt" $name)
		echo "$name: evd $ours, strace $theirs" >&2
		[ "$ours" = "$theirs" ]
	done
	[ "$(field "$json" sendto calls)" -eq 500 ]
	# A blocking accept4 that strace's attach interrupted is one more
	# failed call for evd: compare those that succeeded.
	read -r t e < <(strace_calls "$BATS_TEST_TMPDIR/strace.txt" accept4)
	echo "accept4 that succeeded: evd $(ok_calls "$json" accept4), strace $((t - e))" >&2
	[ "$(ok_calls "$json" accept4)" -eq $((t - e)) ]
	[ $((t - e)) -eq 10 ]
	evd_stop
}

@test "the counts match strace's for the same run: epoll" {
	strace_agrees epoll
}

@test "the counts match strace's for the same run: prefork" {
	strace_agrees prefork
}

# perf_agrees MODEL: evd's count of EVERY system call against the kernel's
# own sys_enter tracepoint counters (perf stat: raw_syscalls:sys_enter and
# one syscalls:sys_enter_NAME per call the kernel has), for the same window
# and the same threads: those of evd's scoreboard (the control thread is in
# neither) and, through perf's inheritance, every thread and process they
# create meanwhile (thread: one per connection; fork: one process each).
# A call blocked across an edge of the window is counted by one side only,
# so each count may differ by at most the number of threads watched from
# the start; anything else must match.  fork, clone and clone3 return twice
# (parent and child) and rt_sigreturn returns elsewhere: the classic ways a
# sys_exit-based count goes wrong.  With PERF_RELOAD=1 a reload restarts
# the serving side inside the window: its drain interrupts the workers
# with a signal, whose handler returns through rt_sigreturn.
perf_agrees() {
	require_probes
	command -v perf >/dev/null || skip "perf is missing (apt-get install linux-perf)"
	[ -d /sys/kernel/tracing/events/syscalls ] || skip "tracefs is not mounted at /sys/kernel/tracing"
	probes_start -o probes.syscalls=on -o server.model="$1" -o server.workers=2
	wait_until 10 workers_alive
	# The file a reload inside the window reads: a serving key changed.
	[ -z "${PERF_RELOAD:-}" ] || evd_config "$EVD_CONF" server.backlog=77
	local tids names events name
	tids=$(workers_json | jq -r '[.[].tid] | join(",")')
	local ntids=$(($(tr -cd , <<<"$tids" | wc -c) + 1))
	names=$(ls /sys/kernel/tracing/events/syscalls | sed -n 's/^sys_enter_//p')
	events=raw_syscalls:sys_enter$(printf ',syscalls:sys_enter_%s' $names)
	local dir=$BATS_TEST_TMPDIR
	# The window: perf counts these threads while the command runs, from
	# before the reset to after the read.
	# shellcheck disable=SC2016 # the inner script expands its own $1..$5
	perf stat -x, -o "$dir/perf.csv" -e "$events" -t "$tids" -- bash -c '
		set -e
		"$1" -s "$2" syscalls reset >/dev/null
		"$3" -p "$4" -c 2 -n 10 -m 20 -s 100 >/dev/null
		[ -z "$6" ] || "$1" -s "$2" reload >/dev/null
		for _ in $(seq 500); do
			# Every connection closed and its process or thread gone.
			[ "$("$1" -s "$2" stats -o json | jq .connections_closed)" = 10 ] &&
				[ "$("$1" -s "$2" workers -o json | jq ".workers | length")" = '"$ntids"' ] && break
			sleep 0.02
		done
		"$1" -s "$2" syscalls -o json >"$5/evd.json"
		' _ "$EVCTL_BIN" "$EVD_SOCK" "$EVCLIENT_BIN" "$EVD_PORT" "$dir" \
		"${PERF_RELOAD:-}"
	json=$(cat "$dir/evd.json")
	[ "$(jq -r .requests <<<"$json")" = 200 ]
	local bad=0 n=0 e p all
	all=$( { jq -r '.syscalls[].name' <<<"$json"; awk -F, '$1 ~ /^[0-9]+$/ && $1 > 0 && $3 ~ /^syscalls:sys_enter_/ { sub(/^syscalls:sys_enter_/, "", $3); print $3 }' "$dir/perf.csv"; } | sort -u)
	for name in $all; do
		e=$(field "$json" "$name" calls)
		p=$(awk -F, -v ev="syscalls:sys_enter_$name" '$3 == ev { print $1 }' "$dir/perf.csv")
		if [ -z "$p" ]; then
			echo "$name: evd $e, perf has no tracepoint for it" >&2
			bad=1
			continue
		fi
		n=$((n + 1))
		local d=$((e - p))
		echo "$name: evd $e perf $p" >&2
		if [ "${d#-}" -gt "$ntids" ]; then
			echo "  ^ differs by $d (at most $ntids allowed)" >&2
			bad=1
		fi
	done
	e=$(jq .calls <<<"$json")
	p=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$dir/perf.csv")
	echo "all: evd $e perf $p; $n syscalls compared, $ntids threads watched from the start" >&2
	[ "$bad" -eq 0 ]
	[ $((e - p)) -le $((2 * ntids)) ] && [ $((p - e)) -le $((2 * ntids)) ]
	[ "$n" -ge 10 ]
	evd_stop
}

@test "every syscall's count matches perf's sys_enter count: fork (clone returns twice, once per connection; a reload's signal returns through rt_sigreturn)" {
	PERF_RELOAD=1 perf_agrees fork
	[ "$(field "$json" clone calls)" -eq 10 ]
	# The drain's signal to the acceptor: counted, as often as perf saw.
	[ "$(field "$json" rt_sigreturn calls)" -ge 1 ]
	[ "$(field "$json" rt_sigreturn calls)" -eq "$(awk -F, '$3 == "syscalls:sys_enter_rt_sigreturn" { print $1 }' "$BATS_TEST_TMPDIR/perf.csv")" ]
}

@test "every syscall's count matches perf's sys_enter count: thread (clone3 returns in the new thread too)" {
	perf_agrees thread
	[ "$(field "$json" clone3 calls)" -eq 10 ]
}

@test "counts exclude evctl's own control calls" {
	require_probes
	probes_start -o probes.syscalls=on
	run -0 sc reset
	[ "$output" = "syscall probes reset" ]
	for _ in $(seq 30); do
		"$EVCTL_BIN" -s "$EVD_SOCK" stats >/dev/null
	done
	json=$(sc -o json)
	echo "$json" >&2
	[ "$(jq -r .requests <<<"$json")" = 0 ]
	for name in accept4 recvfrom sendto; do
		[ "$(field "$json" $name calls)" -eq 0 ]
	done
	load 2 3
	json=$(sc -o json)
	[ "$(ok_calls "$json" accept4)" -eq 2 ]
	[ "$(field "$json" sendto calls)" -eq 6 ]
	evd_stop
}

@test "evctl syscalls on/off at runtime: counts kept across, nothing counted while off" {
	require_probes
	probes_start
	run --separate-stderr sc
	[ "$status" -eq 1 ]
	[ "$stderr" = "$OFF_MSG" ]
	[ "$(links sys_enter)" -eq 0 ]
	# A call counts when it starts while the probes are on.
	run -0 sc on
	[ "$output" = "syscall probes on" ]
	[ "$(links sys_enter)" -eq 1 ]
	[ "$(links sys_exit)" -eq 1 ]
	load 5 4
	wait_stat requests 20
	json=$(sc -o json)
	[ "$(ok_calls "$json" accept4)" -eq 5 ]
	run -0 sc off
	[ "$output" = "syscall probes off" ]
	[ "$(links sys_enter)" -eq 0 ]
	[ "$(links sys_exit)" -eq 0 ]
	run --separate-stderr sc --hist sendto
	[ "$status" -eq 1 ]
	[ "$stderr" = "$OFF_MSG" ]
	load 7 4
	wait_stat requests 48
	run -0 sc on
	load 3 4
	wait_stat requests 60
	json=$(sc -o json)
	[ "$(ok_calls "$json" accept4)" -eq 8 ]
	[ "$(field "$json" sendto calls)" -eq 32 ]
	[ "$(jq -r .requests <<<"$json")" = 32 ]
	grep -q 'info: syscall probes attached (evctl syscalls on)' "$EVD_LOG"
	grep -q 'info: syscall probes detached (evctl syscalls off)' "$EVD_LOG"
	evd_stop
}

@test "evctl syscalls off detaches at once, though workers were forked while on" {
	require_probes
	probes_start -o probes.syscalls=on -o server.model=prefork -o server.workers=2
	wait_until 10 workers_alive
	[ "$(workers_json | jq '[.[] | select(.role == "worker")] | length')" -eq 2 ]
	# Only the master holds the links: forked workers closed their copies.
	[ "$(links sys_enter)" -eq 1 ]
	[ "$(links sched_process_fork)" -eq 1 ]
	run -0 sc off
	[ "$(links sys_enter)" -eq 0 ]
	[ "$(links sys_exit)" -eq 0 ]
	# Processes are still followed while off: a worker started now counts
	# once the probes are on again.
	run -0 sc on
	load 4 5
	wait_stat requests 20
	json=$(sc -o json)
	[ "$(field "$json" sendto calls)" -eq 20 ]
	evd_stop
}

@test "evctl syscalls: the table, reset, --hist, --interval, --workers, errors" {
	require_probes
	probes_start -o probes.syscalls=on
	# Per thread: off by default (it costs on every call), counted from
	# `workers on`.
	run --separate-stderr sc --workers
	[ "$status" -eq 1 ]
	[ "$stderr" = "$PER_THREAD_OFF_MSG" ]
	run -0 sc workers on
	[ "$output" = "per-thread syscall counting on" ]
	grep -q 'info: per-thread syscall counting started (evctl syscalls workers on)' "$EVD_LOG"
	load 4 25
	wait_stat requests 100
	# The table: sorted by total time, the header names the columns.
	run -0 sc
	[[ ${lines[0]} =~ ^system\ calls\ of\ evd\'s\ processes\ over\ [0-9.]+\ s:\ [0-9]+\ calls,\ 100\ requests,\ [0-9.]+\ calls\ per\ request$ ]]
	[ "${lines[1]}" = "$(printf '%-22s %10s %9s %8s %10s %9s %9s %9s %6s' syscall calls calls/req errors total_ms avg_us p50_us p99_us %time)" ]
	json=$(sc -o json)
	[ "$(jq '[.syscalls[].total_ms] == ([.syscalls[].total_ms] | sort | reverse)' <<<"$json")" = true ]
	[ "$(jq '[.syscalls[].time_pct] | add | . > 99.9 and . < 100.1' <<<"$json")" = true ]
	[ "$(jq '.syscalls[] | select(.name == "sendto") | .p50_us <= .p99_us and .p99_us <= .max_us' <<<"$json")" = true ]
	# The raw protocol: key value lines, a fields line, rows, END.
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls
	[ "${lines[0]}" = "state on" ]
	grep -qx 'per_thread on' <<<"$output"
	grep -qx 'fields name nr calls errors total_ns max_ns hist' <<<"$output"
	grep -Eqx 'syscall sendto 44 100 0 [0-9]+ [0-9]+ [0-9]+:[0-9]+(,[0-9]+:[0-9]+)*' <<<"$output"
	[ "${lines[-1]}" = END ]
	# The histogram: its counts add up to the calls.
	run -0 sc --hist sendto
	[[ ${lines[0]} =~ ^sendto:\ 100\ calls,\ 0\ errors, ]]
	[ "$(grep -E '^ +[0-9]+ -> ' <<<"$output" | awk '{ n += $5 } END { print n }')" -eq 100 ]
	run -0 sc --hist sendto -o json
	[ "$(jq '[.buckets[].count] | add' <<<"$output")" -eq 100 ]
	run --separate-stderr sc --hist nosuchcall
	[ "$status" -eq 1 ]
	[ "$stderr" = 'evctl: evd: ERROR unknown syscall "nosuchcall" (expected a name such as sendto, or syscall_N)' ]
	# --interval: only what happened during the interval.
	sc --interval 2 -o json >"$BATS_TEST_TMPDIR/delta" &
	interval=$!
	sleep 0.5
	load 3 10
	wait "$interval"
	delta=$(cat "$BATS_TEST_TMPDIR/delta")
	echo "$delta" >&2
	[ "$(ok_calls "$delta" accept4)" -eq 3 ]
	[ "$(field "$delta" sendto calls)" -eq 30 ]
	[ "$(jq -r .requests <<<"$delta")" = 30 ]
	# --workers: the loop thread did every send.
	loop_tid=$(workers_json | jq -r '.[0].tid')
	run -0 sc --workers -o json
	[ "$(jq --argjson t "$loop_tid" '.threads[] | select(.tid == $t) | .role' <<<"$output")" = '"loop"' ]
	run -0 sc --worker "$loop_tid" -o json
	[ "$(field "$output" sendto calls)" -eq 130 ]
	run --separate-stderr sc --worker 999999999
	[ "$status" -eq 1 ]
	[ "$stderr" = 'evctl: evd: ERROR no system call counted for thread 999999999 (evctl syscalls --workers lists them)' ]
	# workers off: no more per-thread counting, the totals go on.
	run -0 sc workers off
	[ "$output" = "per-thread syscall counting off" ]
	run --separate-stderr sc --worker "$loop_tid"
	[ "$status" -eq 1 ]
	[ "$stderr" = "$PER_THREAD_OFF_MSG" ]
	load 1 5
	wait_stat requests 135
	[ "$(field "$(sc -o json)" sendto calls)" -eq 135 ]
	run -0 sc workers on
	run -0 sc --worker "$loop_tid" -o json
	[ "$(field "$output" sendto calls)" -eq 130 ]
	# reset: nothing left.
	run -0 sc reset
	json=$(sc -o json)
	[ "$(field "$json" sendto calls)" -eq 0 ]
	[ "$(jq -r .requests <<<"$json")" = 0 ]
	# Usage errors stay in evctl.
	run --separate-stderr sc --hist
	[ "$status" -eq 2 ]
	run --separate-stderr sc on --workers
	[ "$status" -eq 2 ]
	run --separate-stderr sc workers maybe
	[ "$status" -eq 2 ]
	usage='evctl: evd: ERROR usage: syscalls [on|off|reset|workers|workers on|workers off|timing on|timing off|hist NAME|worker TID]'
	run -1 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls bogus
	[ "$stderr" = "$usage" ]
	run -1 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls workers maybe
	[ "$stderr" = "$usage" ]
	evd_stop
}

@test "[probes] timing = no, evctl syscalls timing on|off, and its reload: sys_exit alone, exact counts, no times" {
	require_probes
	evd_start probes.syscalls=on probes.timing=no
	grep -q "syscall probes on: counting the system calls of evd's processes, calls and errors only (\[probes\] timing = no)" "$EVD_LOG"
	[ "$(links sys_enter)" -eq 0 ]
	[ "$(links sys_exit)" -eq 1 ]
	known_counts
	[ "$(jq -r .timing <<<"$json")" = off ]
	# No call has a time: no total, no average, no quantiles.
	[ "$(jq '[.syscalls[] | .total_ms == 0 and .avg_us == null and .p50_us == null and .max_us == null] | all' <<<"$json")" = true ]
	run -0 sc
	[ "${lines[1]}" = '(timing off: calls and errors only; `evctl syscalls timing on` times them)' ]
	[ "$(grep -E '^sendto +1000 +1\.000 +0 +0\.000 +- +- +- +0\.00$' <<<"$output" | wc -l)" -eq 1 ]
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls
	grep -qx 'timing off' <<<"$output"
	# On at runtime: sys_enter attached; calls from then on timed, the
	# counts go on; the histogram holds the timed calls only.
	run -0 sc timing on
	[ "$output" = "syscall timing on" ]
	grep -q 'info: syscall timing on (evctl syscalls timing on)' "$EVD_LOG"
	[ "$(links sys_enter)" -eq 1 ]
	load 2 50
	wait_stat requests 1100
	run -0 sc --hist sendto -o json
	[ "$(jq .calls <<<"$output")" -eq 1100 ]
	[ "$(jq '[.buckets[].count] | add' <<<"$output")" -eq 100 ]
	json=$(sc -o json)
	[ "$(jq -r .timing <<<"$json")" = on ]
	[ "$(jq '.syscalls[] | select(.name == "sendto") | .avg_us > 0 and .p50_us <= .p99_us' <<<"$json")" = true ]
	# Off at runtime: sys_enter detached at once.
	run -0 sc timing off
	[ "$output" = "syscall timing off" ]
	[ "$(links sys_enter)" -eq 0 ]
	[ "$(links sys_exit)" -eq 1 ]
	# A reload applies [probes] timing at once.
	evd_config "$EVD_CONF" probes.syscalls=on probes.timing=yes
	kill -HUP "$EVD_PID"
	wait_until 10 grep -q 'reload: applied at once: .*probes.timing' "$EVD_LOG"
	[ "$(links sys_enter)" -eq 1 ]
	[ "$(jq -r .timing <<<"$(sc -o json)")" = on ]
	# Usage errors.
	run -2 --separate-stderr sc timing maybe
	run -1 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls timing maybe
	[ "$stderr" = 'evctl: evd: ERROR usage: syscalls timing on|off' ]
	evd_stop
}

# links_are TP N: this evd holds N links on tracepoint TP (for wait_until).
links_are() {
	[ "$(links "$1")" -eq "$2" ]
}

# main_links_are TP N: evd's own process (not its children) holds N links
# on TP: one directory to read, quick enough to catch a 200 ms window on a
# busy machine (links scans every process).
main_links_are() {
	local n
	n=$(grep -lx "tp_name:	$1" /proc/"$EVD_PID"/fdinfo/* 2>/dev/null | wc -l)
	[ "$n" -eq "$2" ]
}

# attached_seconds: the probes' attached time so far, from evctl.
attached_seconds() {
	sc -o json | jq .seconds
}

@test "[probes] sample = 20%: attached 200 ms of each second; the counts and requests are those of the attached time" {
	require_probes
	evd_start probes.syscalls=on probes.sample=20%
	grep -q 'info: syscall probes sampled: attached 20 % of each second (\[probes\] sample)' "$EVD_LOG"
	# The syscall links come and go (the fork and exit ones stay).
	# (Seconds, not one: a window is 200 ms, and on a loaded machine one
	# look can take longer than that.)
	wait_until 20 main_links_are sys_exit 1
	wait_until 20 main_links_are sys_exit 0
	[ "$(links sched_process_fork)" -eq 1 ]
	json=$(sc -o json)
	[ "$(jq -r .state <<<"$json")" = on ]
	[ "$(jq -r .sample_pct <<<"$json")" = 20 ]
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls
	grep -qx 'sample 20' <<<"$output"
	run -0 sc
	[ "${lines[1]}" = '(sampled: attached 20 % of each second; the counts and requests are those of the attached time)' ]
	# Over 3 s of wall time, ~0.6 s attached: a share near 20 % of the
	# time that passed (not all of it, not none; a loaded machine wakes
	# the control thread late at a window's edges, which moves it a little).
	run -0 sc reset
	t0=$(date +%s.%N)
	sleep 3
	a=$(attached_seconds)
	t1=$(date +%s.%N)
	echo "attached $a s of $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }') s" >&2
	awk -v a="$a" -v t0="$t0" -v t1="$t1" 'BEGIN { s = a / (t1 - t0); exit !(s >= 0.1 && s <= 0.5) }'
	# Under a load: one sendto per request counted, of the requests served
	# while attached (a request straddling a window's edge aside), and
	# fewer than were served in all.
	run -0 sc reset
	"$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 4 -m 5000 -s 100 >/dev/null
	wait_stat requests 20000
	json=$(sc -o json)
	echo "$json" >&2
	req=$(jq .requests <<<"$json")
	send=$(field "$json" sendto calls)
	[ "$req" -gt 0 ] && [ "$req" -lt 20000 ]
	[ $((send - req)) -le 20 ] && [ $((req - send)) -le 20 ]
	# 100 % by a reload: attached for good.
	evd_config "$EVD_CONF" probes.syscalls=on probes.sample=100%
	kill -HUP "$EVD_PID"
	wait_until 10 grep -q 'reload: applied at once: .*probes.sample' "$EVD_LOG"
	[ "$(links sys_exit)" -eq 1 ]
	[ "$(jq -r .sample_pct <<<"$(sc -o json)")" = 100 ]
	run -0 sc reset
	sleep 1.5
	[ "$(links sys_exit)" -eq 1 ]
	awk -v a="$(attached_seconds)" 'BEGIN { exit !(a >= 1.4) }'
	# Back to sampling, then off: detached, and no window opens again.
	evd_config "$EVD_CONF" probes.syscalls=on probes.sample=10
	kill -HUP "$EVD_PID"
	wait_until 10 eval '[ "$(grep -c "reload: applied at once: .*probes.sample" "$EVD_LOG")" -eq 2 ]'
	wait_until 20 links_are sys_exit 0
	run -0 sc off
	sleep 1.2
	[ "$(links sys_exit)" -eq 0 ]
	[ "$(links sys_enter)" -eq 0 ]
	run --separate-stderr sc
	[ "$status" -eq 1 ]
	[ "$stderr" = "$OFF_MSG" ]
	evd_stop
}

# stub_evd: an evd built with BPF=0 ($EVD_BIN when it is one).
stub_evd() {
	if is_stub "$EVD_BIN"; then
		STUB_BIN=$EVD_BIN
		return 0
	fi
	local dir=$BATS_FILE_TMPDIR/stub
	STUB_BIN=$dir/evd
	[ -x "$STUB_BIN" ] && return 0
	make -C "$BATS_TEST_DIRNAME/../.." -j2 BPF=0 CFLAGS=-O0 BUILD="$dir" \
		BINDIR="$dir" "$dir/evd" >"$BATS_FILE_TMPDIR/stub.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/stub.log" >&2; return 1; }
}

@test "a build without the probes: on fails with the exact message, auto warns, evctl says why" {
	stub_evd
	is_stub "$STUB_BIN"
	EVD_SOCK=$BATS_TEST_TMPDIR/evd.sock
	EVD_CONF=$BATS_TEST_TMPDIR/evd.ini
	evd_config "$EVD_CONF"
	run --separate-stderr "$STUB_BIN" -c "$EVD_CONF" -o probes.syscalls=on
	[ "$status" -eq 1 ]
	[[ $stderr =~ ^evd\[[0-9]+\]:\ error:\ \[probes\]\ syscalls\ =\ on:\ cannot\ load\ the\ syscall\ probes:\ (.*)$ ]]
	[ "${BASH_REMATCH[1]}" = "$STUB_MSG" ]
	[ ! -e "$EVD_SOCK" ]
	EVD_BIN=$STUB_BIN probes_start -o probes.syscalls=auto
	grep -qF "warning: [probes] syscalls = auto: running without the syscall probes: $STUB_MSG" "$EVD_LOG"
	run --separate-stderr sc on
	[ "$status" -eq 1 ]
	[ "$stderr" = "evctl: evd: ERROR cannot turn the syscall probes on: $STUB_MSG" ]
	run --separate-stderr sc
	[ "$stderr" = "$OFF_MSG" ]
	evd_stop
}

@test "without CAP_BPF: on fails with the reason, auto warns and serves" {
	if [ "$(id -u)" -ne 0 ]; then
		skip "needs root to run evd as an unprivileged user"
	fi
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	is_stub "$EVD_BIN" && skip "$EVD_BIN was built without the probes"
	dir=$(mktemp -d /tmp/evd-probes.XXXXXX)
	PROBES_TMP=$dir
	# nobody's: it makes its control socket there (a directory others
	# may write is refused).
	chown 65534:65534 "$dir"
	chmod 0755 "$dir"
	EVD_DIR=$dir
	EVD_SOCK=$dir/evd.sock
	EVD_CONF=$dir/evd.ini
	evd_config "$EVD_CONF"
	chmod 0644 "$EVD_CONF"
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run --separate-stderr "${nobody[@]}" "$EVD_BIN" -c "$EVD_CONF" -o probes.syscalls=on
	[ "$status" -eq 1 ]
	[[ $stderr == *"error: [probes] syscalls = on: cannot load the syscall probes: $EPERM_MSG" ]]
	"${nobody[@]}" "$EVD_BIN" -c "$EVD_CONF" -o probes.syscalls=auto 2>"$dir/evd.log" &
	EVD_PID=$!
	EVD_LOG=$dir/evd.log
	wait_until 10 evd_answers
	grep -qF "warning: [probes] syscalls = auto: running without the syscall probes: $EPERM_MSG" "$EVD_LOG"
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	load 1 5
	run --separate-stderr sc
	[ "$stderr" = "$OFF_MSG" ]
	evd_stop
}

@test "as nobody with only CAP_BPF and CAP_PERFMON: the probes load, count, and attach again at runtime" {
	require_probes
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	dir=$(mktemp -d /tmp/evd-probes.XXXXXX)
	PROBES_TMP=$dir
	# nobody's: it makes its control socket there (a directory others
	# may write is refused).
	chown 65534:65534 "$dir"
	chmod 0755 "$dir"
	EVD_DIR=$dir
	EVD_SOCK=$dir/evd.sock
	EVD_CONF=$dir/evd.ini
	EVD_LOG=$dir/evd.log
	evd_config "$EVD_CONF"
	chmod 0644 "$EVD_CONF"
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=-all,+bpf,+perfmon --ambient-caps=-all,+bpf,+perfmon \
		"$EVD_BIN" -c "$EVD_CONF" -o probes.syscalls=on \
		-o server.model=prefork -o server.workers=2 2>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers || { cat "$EVD_LOG" >&2; false; }
	# Exactly those two capabilities (bits 38 and 39), nothing else.
	grep -qx $'CapEff:\t000000c000000000' /proc/"$EVD_PID"/status
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	wait_until 10 workers_alive
	load 3 5
	wait_stat requests 15
	json=$(sc -o json)
	[ "$(ok_calls "$json" accept4)" -eq 3 ]
	[ "$(field "$json" sendto calls)" -eq 15 ]
	# Attaching again needs the capabilities still.
	run -0 sc off
	run -0 sc on
	[ "$output" = "syscall probes on" ]
	[ "$(links sys_enter)" -eq 1 ]
	evd_stop
}

# ns_start -o ...: evd_start inside a pid namespace of its own (pid 1 there,
# as in a container); EVD_PID is unshare's, NS_EVD the host pid of evd.
ns_start() {
	EVD_DIR=$BATS_TEST_TMPDIR
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF"
	unshare --pid --fork --mount-proc "$EVD_BIN" -c "$EVD_CONF" "$@" 2>"$EVD_LOG" &
	EVD_PID=$!
	if ! wait_until 10 evd_answers; then
		cat "$EVD_LOG" >&2
		return 1
	fi
	NS_EVD=$(pgrep -P "$EVD_PID")
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	[ "$(stat_of pid)" -eq 1 ]
	# The pids evctl shows are the namespace's: wait for the slots.
	wait_until 10 ns_workers_up
}

ns_workers_up() {
	workers_json | jq -e 'all(.[]; .pid > 0)' >/dev/null
}

# ns_stop: SIGTERM to evd (unshare passes on no signal); evd exits 0.
ns_stop() {
	kill -TERM "$NS_EVD"
	wait "$EVD_PID"
}

@test "in a pid namespace of its own: counted when loaded at startup; a late first load refused with the reason" {
	require_probes
	unshare --pid --fork --mount-proc true 2>/dev/null ||
		skip "unshare --pid --fork --mount-proc does not work here"
	ns_start -o probes.syscalls=on -o server.model=prefork -o server.workers=2
	load 4 5
	wait_stat requests 20
	wait_stat connections_closed 4
	json=$(sc -o json)
	echo "$json" >&2
	[ "$(ok_calls "$json" accept4)" -eq 4 ]
	[ "$(field "$json" sendto calls)" -eq 20 ]
	ns_stop
	# Off at startup, workers already there: their host pids are unknown.
	ns_start -o server.model=prefork -o server.workers=2
	run --separate-stderr sc on
	[ "$status" -eq 1 ]
	[[ $stderr =~ ^evctl:\ evd:\ ERROR\ cannot\ turn\ the\ syscall\ probes\ on:\ evd\ runs\ in\ a\ pid\ namespace\ of\ its\ own\ \(pid\ 1,\ ([0-9]+)\ on\ the\ host\)\ and\ has\ worker\ processes\ already:\ the\ probes\ cannot\ tell\ the\ host\ their\ pids\;\ load\ them\ at\ startup\ with\ \[probes\]\ syscalls\ =\ on\ or\ auto,\ or\ run\ evd\ in\ the\ host\'s\ pid\ namespace$ ]]
	[ "${BASH_REMATCH[1]}" -eq "$NS_EVD" ]
	# The epoll model has no worker process: a late load works.
	ns_stop
	ns_start -o server.model=epoll
	run -0 sc on
	load 2 3
	wait_stat requests 6
	json=$(sc -o json)
	[ "$(ok_calls "$json" accept4)" -eq 2 ]
	[ "$(field "$json" sendto calls)" -eq 6 ]
	ns_stop
}
