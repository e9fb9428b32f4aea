# bench/compare_s7.sh: scenario S7 of bench/compare (sourced by it): seed
# 000's request/response RPC over ZeroMQ, 10 clients each making S7_CALLS
# sequential calls of echo with 200 bytes (the seed's ['func', 200 bytes]),
# against evd's models (protocol = zmtp) and against libzmq itself: the
# three reference servers of bench/zmqref.c (a single-thread ROUTER loop,
# a ROUTER with zmq_poll, a ROUTER with a worker pool over inproc).
#
# System calls per call come from perf's raw_syscalls:sys_enter counter on
# the server's processes (every thread, prefork's workers, and what they
# fork while counted), for evd and libzmq alike, while the
# client runs; evd's own probes are off for S7, so that both sides pay the
# same counting and nothing else.
# shellcheck shell=bash disable=SC2034  # variables the caller reads

S7_CLIENTS=10
S7_SIZE=200
S7_LIMIT=$((QUICK ? 30 : 120))
ZMQREF=${ZMQREF_BIN:-$ROOT/build/bench/zmqref}
S7_WORKERS=${S7_WORKERS:-4}
HAVE_ZMQREF=1 HAVE_PERF=1
[ -x "$ZMQREF" ] || HAVE_ZMQREF=0
command -v perf >/dev/null &&
	perf stat -x, -e raw_syscalls:sys_enter -o /dev/null -- true 2>/dev/null || HAVE_PERF=0
s7_notes() {
	[ "$HAVE_ZMQREF" = 1 ] ||
		note "S7: no libzmq reference servers at $ZMQREF (make bench-zmq; it needs libzmq3-dev): only evd ran S7."
	[ "$HAVE_PERF" = 1 ] ||
		note "S7: perf cannot count raw_syscalls:sys_enter here (linux-perf, root, tracefs): no system calls per call."
}

# zmq_up MODE: starts a libzmq reference server (pinned like evd); sets
# SRV_*.
zmq_up() {
	local mode=$1 log=$RAW/zmqref-$1.log
	SRV_PORT=$(free_port) || return 1
	local cmd=("${SERVER_PIN[@]}" "$ZMQREF" "$mode" -w "$S7_WORKERS" "tcp://127.0.0.1:$SRV_PORT")
	record_cmd "${cmd[@]}"
	setsid "${cmd[@]}" </dev/null >"$log" 2>&1 &
	SRV_PID=$!
	if ! wait_port "$SRV_PID" "$SRV_PORT"; then
		stop_session "$SRV_PID" 5
		SRV_PID=
		note "zmqref $mode did not start: $(tail -3 "$log" | tr '\n' ' ')"
		return 1
	fi
	SRV_KIND=zmq SRV_MODEL=zmq-$mode SRV_LABEL=zmq-$mode SRV_PROTO=zmtp
	SRV_WORKERS=1
	[ "$mode" = workers ] && SRV_WORKERS=$S7_WORKERS
	return 0
}

# The S7 run on the server that is up.
s7() {
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	S7_PERF=$HAVE_PERF
	run_case S7 "S7 seed000" evbench $((S7_LIMIT + 10)) -- "$EVBENCH" --proto zmtp \
		--size "$S7_SIZE" -c "$S7_CLIENTS" -t 1 -n $((S7_CLIENTS * S7_CALLS)) \
		--timeout 5 -T "$S7_LIMIT" --json "$(TARGET)"
	S7_PERF=0
}

# The server's processes, comma-separated: its session (setsid started it).
s7_pids() {
	local p
	p=$(pgrep -d, -s "$SRV_PID")
	echo "${p:-$SRV_PID}"
}

# run_case's hook after the snapshots: perf's count as the run's system
# calls (0 before, the count after).
s7_syscalls() {
	local base=$1 n
	[ -s "$base.perf" ] || return 0
	n=$(awk -F, '$3 == "raw_syscalls:sys_enter" { print $1 }' "$base.perf")
	[[ $n =~ ^[0-9]+$ ]] || return 0
	jq -c '.syscalls = 0' "$base.before.json" >"$base.tmp" && mv "$base.tmp" "$base.before.json"
	jq -c --argjson n "$n" '.syscalls = $n' "$base.after.json" >"$base.tmp" &&
		mv "$base.tmp" "$base.after.json"
}

# The libzmq servers, after nginx and redis-server.
s7_references() {
	local m
	[ "$HAVE_ZMQREF" = 1 ] && want S7 || return 0
	for m in single poll workers; do
		if zmq_up "$m"; then
			s7
			other_down
		fi
	done
}

# Seconds kept for the libzmq servers' three runs.
s7_reserve() {
	[ "$HAVE_ZMQREF" = 1 ] && want S7 && echo $((3 * (S7_LIMIT / 4 + 3))) || echo 0
}

# The report's S7 section.
s7_md() {
	local runs=$1
	jq -e 'any(.[]; .scenario == "S7")' <<<"$runs" >/dev/null || return 0
	echo "## S7: seed 000, RPC over ZeroMQ (evd against libzmq)"
	echo
	echo "$S7_CLIENTS DEALER clients (evbench --proto zmtp, one thread), $S7_CALLS sequential calls each"
	echo "(\`-n $((S7_CLIENTS * S7_CALLS))\` shared: each client makes about $S7_CALLS): echo with $S7_SIZE bytes,"
	echo "every reply checked byte for byte. evd serves protocol = zmtp; zmq-single, zmq-poll and"
	echo "zmq-workers are bench/zmqref.c linked with libzmq $(ver pkg-config --modversion libzmq 2>/dev/null),"
	echo "answering the same RPC (zmq-workers: $S7_WORKERS worker threads over inproc). CPU per call: the"
	echo "server's user + sys time over the calls; system calls per call: perf's raw_syscalls:sys_enter"
	echo "count on the server's process while the client ran (evd's probes off for S7). Ratios are"
	echo "to the fastest libzmq server of this run."
	echo
	"${JQ[@]}" -r 'include "report"; table_s7' <<<"$runs"
	echo
	echo "The seed's own figures (aiozmq benchmarks/simple.py, Python clients and servers in"
	echo "one process pool, 10 × 10,000 calls of ['func', 200 bytes]): aiozmq.rpc 2,469 RPS"
	echo "(0.405 ms), core aiozmq 5,064 (0.197 ms), single thread raw zmq 9,895 (0.101 ms),"
	echo "zmq with poller 12,574 (0.080 ms), zmq with threads 9,702 (0.103 ms). They are beside"
	echo "the rows that play their part; another machine, another client: compare the ratios."
	echo
}
