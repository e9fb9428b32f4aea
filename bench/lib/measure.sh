# bench/lib/measure.sh: what bench/compare reads of the server's processes
# and of the two pinned CPUs at each snapshot, beside the server's own
# counters (sourced by bench/compare).
#
# Context switches: voluntary and involuntary, summed over every thread of
# every process in the server's session (evd's workers, nginx's, redis's
# threads).  A thread or process that exits between two snapshots takes its
# counts with it: for the models that start one per connection (fork,
# thread) the figure is a lower bound, and is marked so in the report.
# RSS: the session's processes' VmRSS, summed (shared pages count once per
# process).  CPU busy: user + nice + system + irq + softirq clock ticks of
# the server's and the client's CPU, from /proc/stat.
# shellcheck shell=bash

# The processes of the server's session (setsid made SRV_PID its leader).
session_pids() {
	local p
	p=$(pgrep -s "$SRV_PID" 2>/dev/null | tr '\n' ' ')
	[ -n "$p" ] || p=$SRV_PID
	echo "$p"
}

# cpu_ticks_busy CPU: the busy clock ticks of CPU (all busy kinds), or -1.
cpu_ticks_busy() {
	awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8; found = 1 } END { if (!found) print -1 }' /proc/stat
}

# proc_extra: one JSON object of the server's session and CPUs now:
# {ctx_vol, ctx_invol, rss_kb, procs, threads, srv_ticks, cli_ticks}.
proc_extra() {
	local pids p tasks=() stats=() v n rss srv=-1 cli=-1
	pids=$(session_pids)
	for p in $pids; do
		stats+=("/proc/$p/status")
		tasks+=(/proc/"$p"/task/*/status)
	done
	read -r v n < <(awk '/^voluntary_ctxt_switches/ { v += $2 } /^nonvoluntary_ctxt_switches/ { n += $2 }
		END { print v + 0, n + 0 }' "${tasks[@]}" 2>/dev/null)
	rss=$(awk '/^VmRSS/ { r += $2 } END { print r + 0 }' "${stats[@]}" 2>/dev/null)
	if [ ${#SERVER_PIN[@]} -gt 0 ]; then
		srv=$(cpu_ticks_busy "$SERVER_CPU")
		cli=$(cpu_ticks_busy "$CLIENT_CPU")
	fi
	# shellcheck disable=SC2086
	printf '{"ctx_vol":%s,"ctx_invol":%s,"rss_kb":%s,"procs":%s,"threads":%s,"srv_ticks":%s,"cli_ticks":%s}\n' \
		"${v:-null}" "${n:-null}" "${rss:-null}" "$(wc -w <<<"$pids")" "${#tasks[@]}" \
		"$( [ "$srv" -ge 0 ] && echo "$srv" || echo null)" "$( [ "$cli" -ge 0 ] && echo "$cli" || echo null)"
}

# children_cpu_delta FILE0 FILE1: seconds of CPU (user + sys) that this
# shell's waited-for children used between two `times` outputs (the second
# line of each: "0m1.234s 0m0.567s"), or null.
children_cpu_delta() {
	awk 'FNR == 2 {
		t = 0
		for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); t += a[1] * 60 + a[2] }
		v[FILENAME == ARGV[1] ? 0 : 1] = t
	} END { if (1 in v && 0 in v) printf "%.3f\n", v[1] - v[0]; else print "null" }' "$1" "$2"
}
