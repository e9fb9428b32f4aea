# protocol = resp with real Redis clients (redis-cli, redis-benchmark from
# redis-tools) and raw bytes: exact outputs and exact counters.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	if ! command -v redis-cli >/dev/null ||
		! command -v redis-benchmark >/dev/null; then
		skip "redis-cli and redis-benchmark not installed (packaging/deps.sh, or: apt-get install redis-tools)"
	fi
}

teardown() {
	evd_cleanup
}

cli() {
	timeout 10 redis-cli -h 127.0.0.1 -p "$EVD_PORT" "$@"
}

# raw FORMAT: sends the bytes (printf format), prints what comes back until
# evd closes or 2 s of silence.
raw() {
	printf "$1" | timeout 10 socat -t 2 - "TCP:127.0.0.1:$EVD_PORT"
}

# bench ARGS...: redis-benchmark -t ping -n 10000 (PING_INLINE, then
# PING_MBULK); its report without the \r progress lines.
bench() {
	local out=$BATS_TEST_TMPDIR/bench.out rc
	timeout 120 redis-benchmark -h 127.0.0.1 -p "$EVD_PORT" -t ping \
		-n 10000 "$@" >"$out" 2>&1
	rc=$?
	tr '\r' '\n' <"$out" | grep -v 'rps=' | grep -v '^ *$'
	return $rc
}

# The report of one redis-benchmark run: two tests of 10000 requests, and
# the answers to its CONFIG GET save / appendonly.
check_bench_report() {
	[ "$(grep -c '^====== PING_INLINE ======$' <<<"$1")" -eq 1 ]
	[ "$(grep -c '^====== PING_MBULK ======$' <<<"$1")" -eq 1 ]
	[ "$(grep -cE '^  10000 requests completed in [0-9.]+ seconds$' <<<"$1")" -eq 2 ]
	[ "$(grep -cx '  host configuration "save": ' <<<"$1")" -eq 2 ]
	[ "$(grep -cx '  host configuration "appendonly": no' <<<"$1")" -eq 2 ]
	[ "$(grep -ci 'error\|warning' <<<"$1")" -eq 0 ]
}

@test "redis-cli: PING, ECHO, DELAY, unknown commands, exact output and counters" {
	evd_start server.protocol=resp
	run cli PING
	[ "$status" -eq 0 ]
	[ "$output" = PONG ]
	run cli PING "hello world"
	[ "$status" -eq 0 ]
	[ "$output" = "hello world" ]
	run cli ECHO hello
	[ "$status" -eq 0 ]
	[ "$output" = hello ]
	run cli DELAY 10
	[ "$status" -eq 0 ]
	[ "$output" = OK ]
	run cli foo a b
	[ "$output" = "ERR unknown command 'foo', with args beginning with: 'a' 'b' " ]
	run cli DELAY 60001
	[ "$output" = "ERR DELAY takes milliseconds from 0 to 60000" ]
	run cli ECHO
	[ "$output" = "ERR wrong number of arguments for 'echo' command" ]
	run cli CONFIG GET appendonly
	[ "$status" -eq 0 ]
	[ "$output" = $'appendonly\nno' ]
	run cli SELECT 0
	[ "$output" = OK ]
	# Non-interactive redis-cli sends only the command: 9 requests.
	wait_stat requests 9
	[ "$(stat_of responses_resp_status)" -eq 3 ]
	[ "$(stat_of responses_resp_bulk)" -eq 2 ]
	[ "$(stat_of responses_resp_error)" -eq 3 ]
	[ "$(stat_of responses_resp_array)" -eq 1 ]
	[ "$(stat_of responses_resp_integer)" -eq 0 ]
	[ "$(stat_of errors_protocol)" -eq 0 ]
	wait_stat connections_closed 9
	evd_stop
}

@test "redis-cli -3: HELLO 3 is refused with NOPROTO and redis-cli goes on in RESP2" {
	evd_start server.protocol=resp
	run --separate-stderr cli -3 PING
	[ "$status" -eq 0 ]
	[ "$output" = PONG ]
	[ "$stderr" = "HELLO 3 failed: NOPROTO unsupported protocol version" ]
	wait_stat requests 2
	[ "$(stat_of responses_resp_error)" -eq 1 ]
	evd_stop
}

@test "redis-cli --pipe: a pipelined stream, then its ECHO marker" {
	evd_start server.protocol=resp
	run bash -c "printf 'PING\r\n*2\r\n\$4\r\nECHO\r\n\$3\r\nabc\r\nSELECT 0\r\n' |
		timeout 10 redis-cli -h 127.0.0.1 -p $EVD_PORT --pipe"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "errors: 0, replies: 3" ]
	# The three commands and the ECHO of 20 random bytes --pipe ends with.
	wait_stat requests 4
	[ "$(stat_of responses_resp_bulk)" -eq 2 ]
	evd_stop
}

@test "redis-benchmark PING_INLINE and PING_MBULK, 10000 each, without and with -P 16" {
	evd_start server.protocol=resp
	run bench
	[ "$status" -eq 0 ]
	check_bench_report "$output"
	# 2 x 10000 PINGs and, once per run, CONFIG GET save and appendonly.
	wait_stat requests 20002
	run bench -P 16
	[ "$status" -eq 0 ]
	check_bench_report "$output"
	wait_stat requests 40004
	[ "$(stat_of responses_resp_status)" -eq 40000 ]
	[ "$(stat_of responses_resp_array)" -eq 4 ]
	[ "$(stat_of responses_resp_error)" -eq 0 ]
	[ "$(stat_of errors_protocol)" -eq 0 ]
	wait_stat connections_active 0
	evd_stop
}

@test "raw bytes: inline and multibulk pipelined in one write, replies in order" {
	evd_start server.protocol=resp
	run raw 'PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\necho "a b"\n\r\nCOMMAND COUNT\r\nQUIT\r\nPING\r\n'
	[ "$status" -eq 0 ]
	[ "$output" = $'+PONG\r\n$2\r\nhi\r\n$3\r\na b\r\n:0\r\n+OK\r' ]
	wait_stat requests 5
	[ "$(stat_of responses_resp_integer)" -eq 1 ]
	wait_stat connections_closed 1
	evd_stop
}

@test "raw bytes: a protocol error is answered in Redis's words, counted, and closes" {
	evd_start server.protocol=resp
	run raw 'PING\r\n*1\r\n$x\r\nPING\r\n'
	[ "$status" -eq 0 ]
	[ "$output" = $'+PONG\r\n-ERR Protocol error: invalid bulk length\r' ]
	run raw '*1\r\n:1\r\n'
	[ "$output" = $'-ERR Protocol error: expected \'$\', got \':\'\r' ]
	run raw 'echo "a\r\n'
	[ "$output" = $'-ERR Protocol error: unbalanced quotes in request\r' ]
	run raw '*65\r\n'
	[ "$output" = $'-ERR Protocol error: invalid multibulk length\r' ]
	wait_stat errors_protocol 4
	[ "$(stat_of requests)" -eq 1 ]
	[ "$(stat_of responses_resp_error)" -eq 4 ]
	wait_stat connections_closed 4
	# An inline line without its end: refused once it fills the 16 KiB
	# input buffer (exactly, so that evd leaves nothing unread).
	run bash -c "head -c 16384 /dev/zero | tr '\\0' a |
		timeout 10 socat -t 2 - TCP:127.0.0.1:$EVD_PORT"
	[ "$output" = $'-ERR Protocol error: too big inline request\r' ]
	wait_stat errors_protocol 5
	run cli PING
	[ "$output" = PONG ]
	evd_stop
}
