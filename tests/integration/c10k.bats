# C10K memory: an idle keep-alive connection holds no buffers.  Each test
# opens N keep-alive HTTP connections that each get one request answered
# (tests/tools/idlers) and then stay silent, and checks evd's RSS growth
# against what an idle connection is: its struct conn and HTTP state (528
# bytes), plus for uring its struct uconn (128) — under 1 KiB — and a fixed
# allowance for the buffers a thread pools (given back after a second
# unused) and uring's provided buffers (trimmed after a second).  Before
# buffers were lent per request, each idle connection kept about 9 KiB
# resident (its input and output buffers' first pages).  bench/c10k measures
# the same beside nginx.

bats_require_minimum_version 1.5.0
load helpers

# Idle connections per test: enough that a per-connection cost stands far
# above the fixed allowance (N KiB against 1 MiB).
N=3000
PER_CONN=1024			# bytes an idle connection may hold
FIXED_KIB=1024			# the pool and the provided buffers, settling

setup_file() {
	export IDLERS EVBENCH
	IDLERS=$(dirname "$EVCLIENT_BIN")/idlers
	EVBENCH=$(dirname "$EVD_BIN")/evbench
	[ -x "$IDLERS" ] || {
		echo "$IDLERS not built (make $(dirname "$EVCLIENT_BIN")/idlers)" >&2
		return 1
	}
}

teardown() {
	[ -z "${IDLE_PID:-}" ] || { kill -TERM "$IDLE_PID" 2>/dev/null; wait "$IDLE_PID" 2>/dev/null; }
	evd_cleanup
}

rss_kib() {
	local p t=0 v
	for p in $(evd_pids); do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null) || continue
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# rss_within KIB: evd's RSS is at most KIB now.
rss_within() {
	[ "$(rss_kib)" -le "$1" ]
}

# idle MODEL: N idle connections on MODEL; RSS growth within the bound once
# settled (polled, bounded: the pool gives unused buffers back after a
# second); then the idle connections are all still open, and 100 active
# clients get 10,000 verified replies beside them.
idle() {
	local model=$1 ready=$BATS_TEST_TMPDIR/ready
	# ASan's redzones and quarantine are part of every allocation: an
	# ASan build's RSS says nothing of evd's own memory per connection.
	if evd_built_with asan; then
		skip "an ASan build: RSS per connection includes ASan's own memory"
	fi
	evd_start server.model="$model" server.protocol=http server.workers=1 \
		server.backlog=1024 server.max_connections=$((N + 200)) \
		server.idle_timeout=300s
	# Warm: first-use allocations (stats, timers, the ring) in the baseline.
	"$IDLERS" -p "$EVD_PORT" -c 20 -T 30 --ready "$ready.warm" >/dev/null &
	IDLE_PID=$!
	wait_until 20 test -e "$ready.warm"
	kill -TERM "$IDLE_PID"
	wait "$IDLE_PID"
	IDLE_PID=
	wait_stat connections_active 0 20
	local before bound
	before=$(rss_kib)
	"$IDLERS" -p "$EVD_PORT" -c "$N" --ready "$ready" -T 300 >"$BATS_TEST_TMPDIR/idlers.json" &
	IDLE_PID=$!
	wait_until 120 test -e "$ready"
	wait_stat connections_active "$N" 20
	[ "$(stat_of requests)" -ge "$N" ]
	bound=$((before + N * PER_CONN / 1024 + FIXED_KIB))
	if ! wait_until 15 rss_within "$bound"; then
		echo "$model: RSS $(rss_kib) KiB > $bound KiB (before $before, $N idle)" >&2
		return 1
	fi
	local after
	after=$(rss_kib)
	echo "# $model: $N idle connections: RSS $before -> $after KiB, $(((after - before) * 1024 / N)) B each (bound $PER_CONN B + $FIXED_KIB KiB)" >&3
	# Still served: 100 active clients beside the idle ones.
	if [ -x "$EVBENCH" ]; then
		run --separate-stderr "$EVBENCH" --proto http -c 100 -n 10000 -T 60 --json "127.0.0.1:$EVD_PORT"
		[ "$status" -eq 0 ]
		[ "$(json_of "$output" requests)" -eq 10000 ]
	fi
	[ "$(stat_of connections_active)" -eq "$N" ]
	kill -TERM "$IDLE_PID"
	wait "$IDLE_PID"	# 0: every one answered, none closed by evd
	IDLE_PID=
	out=$(cat "$BATS_TEST_TMPDIR/idlers.json")
	[ "$(json_of "$out" answered)" -eq "$N" ]
	[ "$(json_of "$out" closed)" -eq 0 ]
	wait_stat connections_active 0 20
	evd_stop
}

@test "C10K epoll: an idle keep-alive connection holds under 1 KiB" { idle epoll; }
@test "C10K async: an idle keep-alive connection holds under 1 KiB" { idle async; }
@test "C10K reuseport: an idle keep-alive connection holds under 1 KiB" { idle reuseport; }
@test "C10K uring: an idle keep-alive connection holds under 1 KiB" { idle uring; }
@test "C10K poll: an idle keep-alive connection holds under 1 KiB" { idle poll; }
