# evbench, the load generator: its counts against evd's own counters (to the
# unit), its latencies against a known server delay, its error counting
# against servers that misbehave on purpose (tests/tools/resetserver.c,
# badecho.c), HTTP's Connection: close against one that ends its connections
# politely (closeserver.c) and against a draining evd worker, its open loop,
# its outputs and exit statuses.  No test asserts a speed.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	EVBENCH=$(dirname "$EVD_BIN")/evbench
	TOOLS=$(dirname "$EVCLIENT_BIN")
	[ -x "$EVBENCH" ] || skip "$EVBENCH not built (make bench-tools)"
}

teardown() {
	if [ -n "${TOOL_PID:-}" ]; then
		kill "$TOOL_PID" 2>/dev/null || true
		wait "$TOOL_PID" 2>/dev/null || true
	fi
	evd_cleanup
}

# bench ARGS...: runs evbench --json (stderr apart) with a generous -T;
# sets status and output, and J to the JSON object.
bench() {
	run --separate-stderr timeout 120 "$EVBENCH" --json "$@"
	J=$output
	if ! jq -e . >/dev/null 2>&1 <<<"$J"; then
		echo "evbench $*: status $status, no JSON: $output $stderr" >&2
		return 1
	fi
}

# j KEY: one value of the last evbench JSON.
j() {
	jq -r ".$1" <<<"$J"
}

# no_errors: every error counter of the last run is 0.
no_errors() {
	[ "$(jq '[.errors[]] | add' <<<"$J")" -eq 0 ]
}

# tool NAME ARGS...: starts tests/tools/NAME in the background, sets
# TOOL_PORT to the port it prints and TOOL_PID.
tool() {
	local name=$1 out=$BATS_TEST_TMPDIR/$1.port
	shift
	"$TOOLS/$name" "$@" >"$out" 2>"$BATS_TEST_TMPDIR/$name.err" &
	TOOL_PID=$!
	wait_until 5 test -s "$out"
	TOOL_PORT=$(head -1 "$out")
	[ -n "$TOOL_PORT" ]
}

# closed_port: a port nothing listens on (a tool's, once it is gone).
closed_port() {
	tool badecho -n 1
	kill "$TOOL_PID"
	wait "$TOOL_PID" 2>/dev/null || true
	CLOSED_PORT=$TOOL_PORT
}

# ---- exact counts against evd ------------------------------------------------

@test "echo, closed loop: -n exact, evd's requests and bytes equal evbench's" {
	evd_start
	bench -c 10 -n 5000 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j mode)" = closed ]
	[ "$(j proto)" = echo ]
	[ "$(j requests)" -eq 5000 ]
	no_errors
	[ "$(j bytes_sent)" -eq 500000 ]
	[ "$(j bytes_received)" -eq 500000 ]
	[ "$(j connects)" -eq 10 ]
	[ "$(j limit_hit)" = false ]
	[ "$(j 'latency_us.p50 > 0')" = true ]
	wait_stat requests 5000
	[ "$(stat_of bytes_in)" -eq 500000 ]
	[ "$(stat_of bytes_out)" -eq 500000 ]
	[ "$(stat_of connections_accepted)" -eq 10 ]
	wait_stat connections_closed 10
	[ "$(stat_of errors_read)" -eq 0 ]
	evd_stop
}

@test "pipeline 8, two threads: exact counts for echo, http and resp" {
	local p
	for p in echo http resp; do
		evd_start server.protocol=$p
		bench --proto $p -c 7 -t 2 -n 1001 --pipeline 8 \
			"127.0.0.1:$EVD_PORT"
		[ "$status" -eq 0 ]
		[ "$(j requests)" -eq 1001 ]
		[ "$(j pipeline)" -eq 8 ]
		[ "$(j threads)" -eq 2 ]
		no_errors
		wait_stat requests 1001
		[ "$(stat_of bytes_in)" -eq "$(j bytes_sent)" ]
		[ "$(stat_of bytes_out)" -eq "$(j bytes_received)" ]
		# Up to 7: a thread that starts late may find the budget gone.
		[ "$(j connects)" -le 7 ]
		[ "$(stat_of connections_accepted)" -eq "$(j connects)" ]
		case $p in
		echo) [ "$(j bytes_sent)" -eq 100100 ] ;;
		http) [ "$(stat_of responses_http_2xx)" -eq 1001 ] ;;
		resp) [ "$(stat_of responses_resp_status)" -eq 1001 ] ;;
		esac
		evd_stop
	done
}

@test "http and resp, depth 1: every request is one evd request; ECHO replies are verified" {
	evd_start server.protocol=http
	bench --proto http -c 3 -n 999 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 999 ]
	[ "$(j path)" = / ]
	wait_stat requests 999
	# "GET / HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\n\r\n"
	[ "$(stat_of bytes_in)" -eq $((999 * (36 + ${#EVD_PORT}))) ]
	evd_stop
	evd_start server.protocol=resp
	bench --proto resp --command "ECHO hello" -c 3 -n 500 --pipeline 4 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 500 ]
	[ "$(j bytes_received)" -eq $((500 * 11)) ]
	wait_stat responses_resp_bulk 500
	evd_stop
}

@test "zmtp: closed loop, pipelined, open loop and conn-per-request: every reply verified, exact counts against evd" {
	evd_start server.protocol=zmtp
	# [echo, 200 bytes] -> [OK, 200 bytes]: 2 + 4 + 2 + 200 out, 4 + 202 back.
	bench --proto zmtp --size 200 -c 10 -n 5000 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	no_errors
	[ "$(j requests)" -eq 5000 ]
	[ "$(j size)" -eq 200 ]
	[ "$(j socket)" = dealer ]
	[ "$(j connects)" -eq 10 ]
	# Each connection: greeting 64 + READY 43 out, 64 + 30 in.
	[ "$(j bytes_sent)" -eq $((5000 * 208 + 10 * 107)) ]
	[ "$(j bytes_received)" -eq $((5000 * 206 + 10 * 94)) ]
	wait_stat requests 5000
	[ "$(stat_of responses_zmtp_ok)" -eq 5000 ]
	[ "$(stat_of bytes_in)" -eq "$(j bytes_sent)" ]
	[ "$(stat_of bytes_out)" -eq "$(j bytes_received)" ]
	# REQ, pipelined 8 deep on 3 connections, 2 threads.
	bench --proto zmtp --socket req --call "echo a bc" --pipeline 8 -c 3 \
		-t 2 -n 1001 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	no_errors
	[ "$(j requests)" -eq 1001 ]
	[ "$(j call)" = "echo a bc" ]
	conns=$((10 + $(j connects)))
	wait_stat requests 6001
	# Open loop.
	bench --proto zmtp --call ping --rate 400 -d 1 -c 4 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	no_errors
	[ "$(j requests)" -eq 400 ]
	conns=$((conns + $(j connects)))
	wait_stat requests 6401
	# A connection per request: each one handshakes, calls once, closes.
	wait_stat connections_closed "$conns"
	bench --proto zmtp --call "delay 1" --conn-per-request -c 4 -n 200 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	no_errors
	[ "$(j connects)" -eq 200 ]
	wait_stat connections_closed $((conns + 200))
	[ "$(stat_of requests)" -eq 6601 ]
	[ "$(stat_of errors_protocol)" -eq 0 ]
	evd_stop
}

@test "zmtp: a libzmq server (pyzmq ROUTER) sends its greeting in pieces: no request before its READY, every reply verified" {
	/usr/bin/python3 -c 'import zmq' 2>/dev/null || skip "python3-zmq missing"
	local out=$BATS_TEST_TMPDIR/serve.port
	/usr/bin/python3 "$BATS_TEST_DIRNAME/../tools/zmq_client.py" --serve >"$out" &
	TOOL_PID=$!
	wait_until 10 test -s "$out"
	port=$(head -1 "$out")
	for mode in "-c 1 -n 300" "-c 3 --pipeline 4 -n 300" "--conn-per-request -c 3 -n 100" \
		"--rate 300 -d 0.5 -c 3"; do
		# shellcheck disable=SC2086
		bench --proto zmtp --size 30 $mode "127.0.0.1:$port"
		echo "$mode: $J"
		[ "$status" -eq 0 ]
		no_errors
	done
	bench --proto zmtp --socket req --call "echo x y" -c 2 -n 100 "127.0.0.1:$port"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 100 ]
}

@test "zmtp: wrong replies are mismatches; a server that is not ZMTP fails every connect" {
	# evd's echo returns the greeting and READY as they came (a fine
	# handshake), then every request instead of its reply.
	evd_start server.protocol=echo
	bench --proto zmtp -c 2 -n 100 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 1 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j errors.mismatch)" -eq 100 ]
	evd_stop
	# HTTP answers the greeting with 400: the handshake fails.
	evd_start server.protocol=http
	bench --proto zmtp -c 2 -n 100 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 1 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j errors.connect)" -eq 100 ]
	evd_stop
	# An unknown method: ERR, a mismatch.
	evd_start server.protocol=zmtp
	bench --proto zmtp --call nope -n 10 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.mismatch)" -eq 10 ]
	wait_stat responses_zmtp_error 10
	evd_stop
}

@test "-d: a closed loop for a duration drains, and still agrees with evd" {
	evd_start server.protocol=http
	bench --proto http -c 4 -d 0.5 --pipeline 2 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	no_errors
	local n
	n=$(j requests)
	[ "$n" -gt 0 ]
	wait_stat requests "$n"
	[ "$(j 'duration_s >= 0.5 and .duration_s < 5')" = true ]
	evd_stop
}

@test "IPv6 target" {
	evd_start server.listen=[::1]:0
	bench -c 2 -n 100 "[::1]:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j target)" = "[::1]:$EVD_PORT" ]
	[ "$(j requests)" -eq 100 ]
	wait_stat requests 100
	evd_stop
}

@test "conn-per-request (seed 004): one evd connection per request" {
	evd_start
	bench --conn-per-request -c 5 -n 300 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j mode)" = conn-per-request ]
	[ "$(j requests)" -eq 300 ]
	[ "$(j connects)" -eq 300 ]
	no_errors
	[ "$(j 'connections_per_s > 0')" = true ]
	[ "$(j 'connect_us.p50 > 0 and .connect_us.max >= .connect_us.p50')" = true ]
	wait_stat requests 300
	[ "$(stat_of connections_accepted)" -eq 300 ]
	wait_stat connections_closed 300
	[ "$(stat_of bytes_in)" -eq 30000 ]
	evd_stop
}

@test "seed 001 client: W*A connections, W*A*M requests, the seed's two means" {
	evd_start
	bench --workers 6 --actions 4 --messages 5 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j mode)" = seed001 ]
	[ "$(j connections)" -eq 6 ]
	[ "$(j requests)" -eq 120 ]
	[ "$(j connects)" -eq 24 ]
	[ "$(j workers)" -eq 6 ]
	[ "$(j actions)" -eq 4 ]
	[ "$(j messages)" -eq 5 ]
	[ "$(j 'connect_ms_mean > 0 and .exchange_ms_mean > 0')" = true ]
	# A connection's 5 exchanges take at least 5 times the fastest one.
	[ "$(j 'latency_us.mean * 5 / 1000 <= .exchange_ms_mean * 1.05')" = true ]
	wait_stat requests 120
	[ "$(stat_of connections_accepted)" -eq 24 ]
	evd_stop
}

@test "seed 001, --messages 0: W*A connections, each connect + close, no request on either side" {
	evd_start
	bench --workers 4 --actions 25 --messages 0 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j mode)" = seed001 ]
	[ "$(j unit)" = connections ]
	[ "$(j messages)" -eq 0 ]
	[ "$(j connects)" -eq 100 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j 'throughput_rps == 0')" = true ]
	[ "$(j bytes_sent)" -eq 0 ]
	[ "$(j bytes_received)" -eq 0 ]
	no_errors
	[ "$(j 'connections_per_s > 0 and .connect_ms_mean > 0')" = true ]
	[ "$(j 'connect_us.p50 > 0')" = true ]
	# evd accepted every one, served no request, got and sent no byte.
	wait_stat connections_closed 100
	[ "$(stat_of connections_accepted)" -eq 100 ]
	[ "$(stat_of requests)" -eq 0 ]
	[ "$(stat_of bytes_in)" -eq 0 ]
	[ "$(stat_of bytes_out)" -eq 0 ]
	# The table says what was counted; several threads share the workers.
	run --separate-stderr "$EVBENCH" -t 2 --workers 3 --actions 4 --messages 0 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "evbench: seed001 mode, connect and close (--messages 0), echo, 127.0.0.1:$EVD_PORT" ]]
	grep -qE '^  connections +12 \([0-9.]+/s\), each connect \+ close, no request sent$' <<<"$output"
	grep -qxE '  requests +0 \(the unit is the connection\)' <<<"$output"
	! grep -qE '^  latency ' <<<"$output"
	wait_stat connections_closed 112
	[ "$(stat_of requests)" -eq 0 ]
	# CSV: the unit in its own column, last.
	run --separate-stderr "$EVBENCH" --csv --workers 2 --actions 2 --messages 0 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == *,connections_per_s,unit ]]
	[[ ${lines[1]} == seed001,echo,*,connections ]]
	wait_stat connections_closed 116
	evd_stop
}

@test "seed 001, --messages 0 against a closed port: each connection fails once; every other mode says requests" {
	closed_port
	bench --workers 2 --actions 3 --messages 0 "127.0.0.1:$CLOSED_PORT"
	[ "$status" -eq 1 ]
	[ "$(j unit)" = connections ]
	[ "$(j errors.connect)" -eq 6 ]
	[ "$(j 'errors | del(.connect) | add')" -eq 0 ]
	[ "$(j connects)" -eq 0 ]
	bench --workers 2 --actions 3 --messages 1 "127.0.0.1:$CLOSED_PORT"
	[ "$(j unit)" = requests ]
	bench -c 1 -n 2 "127.0.0.1:$CLOSED_PORT"
	[ "$(j unit)" = requests ]
}

@test "seed 001, --messages 0: what would shape a request is a usage error (exit 2)" {
	local bad
	for bad in "--pipeline 1" "--pipeline 4" "--size 10" "--proto http --path /x" \
		"--proto resp --command PING" "--proto zmtp --call ping" "-c 3" "-n 5" \
		"-d 1" "--rate 10 -d 1" "--conn-per-request"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$EVBENCH" --messages 0 $bad 127.0.0.1:1
		[ "$status" -eq 2 ] || { echo "--messages 0 $bad: status $status" >&2; return 1; }
		[ -z "$output" ]
		[[ $stderr == "evbench: "* ]]
	done
	run --separate-stderr "$EVBENCH" --messages 0 --pipeline 1 127.0.0.1:1
	[[ $stderr == *"--messages 0 connects and closes without sending: no --pipeline"* ]]
	run --separate-stderr "$EVBENCH" --messages 0 --size 10 127.0.0.1:1
	[[ $stderr == *"no --size, --path, --command or --call (they shape a request)"* ]]
	run --separate-stderr "$EVBENCH" --messages -1 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ $stderr == *'--messages: "-1" is not a number from 0 to '* ]]
}

# ---- HTTP Connection: close ----------------------------------------------------

# answered N: closeserver has answered N requests in all, exactly (it prints
# the total after each connection).
answered() {
	wait_until 5 grep -qx "answered $1" "$BATS_TEST_TMPDIR/closeserver.port" || {
		echo "closeserver: $(tail -1 "$BATS_TEST_TMPDIR/closeserver.port"), expected answered $1" >&2
		return 1
	}
}

# stat_gt KEY N: evd's counter KEY is above N.
stat_gt() {
	[ "$(stat_of "$1")" -gt "$2" ]
}

# http_req_len: bytes of evbench's "GET / HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\n\r\n".
http_req_len() {
	echo $((36 + ${#TOOL_PORT}))
}

@test "Connection: close, depth 1: a new connection per close, no error, nothing sent twice" {
	tool closeserver -k 1
	bench --proto http -c 3 -n 100 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 100 ]
	no_errors
	[ "$(j connects)" -eq 100 ]
	[ "$(j retried)" -eq 0 ]
	[ "$(j bytes_sent)" -eq $((100 * $(http_req_len))) ]
	answered 100
}

@test "Connection: close, pipelined: the requests behind it go again on a new connection, no error" {
	tool closeserver -k 3
	bench --proto http -c 3 -n 100 --pipeline 4 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 100 ]
	no_errors
	# Three answers per connection at most: at least 34 connections, and
	# rounds of 4 on them leave requests behind each close.
	[ "$(j 'connects >= 34')" = true ]
	[ "$(j 'retried > 0')" = true ]
	# Every request sent once, plus once per retry; answered once.
	[ "$(j bytes_sent)" -eq $(((100 + $(j retried)) * $(http_req_len))) ]
	# 40-byte answers, 19 more with Connection: close.
	[ "$(j 'bytes_received >= 4000 and .bytes_received <= 5900')" = true ]
	answered 100
}

@test "Connection: close: open loop, seed001 and conn-per-request go on without error" {
	tool closeserver -k 2
	bench --proto http --rate 1000 -d 0.5 -c 2 --pipeline 8 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 500 ]
	no_errors
	[ "$(j bytes_sent)" -eq $(((500 + $(j retried)) * $(http_req_len))) ]
	answered 500
	# seed001: an action of 5 exchanges takes 3 connections (2 + 2 + 1).
	bench --proto http --workers 3 --actions 2 --messages 5 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 30 ]
	no_errors
	[ "$(j connects)" -eq 18 ]
	answered 530
	bench --proto http --conn-per-request -c 2 -n 20 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 20 ]
	[ "$(j connects)" -eq 20 ]
	no_errors
	answered 550
}

@test "HTTP: a close without Connection: close, requests unanswered, is an error (eof)" {
	tool resetserver -f
	bench --proto http -c 2 -n 21 --pipeline 3 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 1 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j errors.eof)" -eq 21 ]
	[ "$(j retried)" -eq 0 ]
}

# active_worker: the pid of a prefork worker holding a connection, if any.
active_worker() {
	local p
	p=$(workers_json | jq -r '[.[] | select(.role == "worker" and .active == 1)][0].pid')
	[ -n "$p" ] && [ "$p" != null ] && echo "$p"
}

@test "a draining evd worker (prefork, SIGTERM): Connection: close, evbench reconnects, no error" {
	evd_start server.protocol=http server.model=prefork server.workers=2
	timeout 60 "$EVBENCH" --json --proto http -c 2 -d 10 --pipeline 4 \
		"127.0.0.1:$EVD_PORT" >"$BATS_TEST_TMPDIR/b.json" &
	local bpid=$! wpid
	# Each worker serves one connection at a time: take one that has one,
	# once it has served (the load runs 10 s: a slow machine still finds
	# it running).
	wait_until 20 stat_gt requests 100
	wait_until 20 active_worker
	wpid=$(active_worker)
	[ -n "$wpid" ] && [ "$wpid" != null ]
	kill -TERM "$wpid"
	wait "$bpid"
	J=$(cat "$BATS_TEST_TMPDIR/b.json")
	[ "$(j requests)" -gt 0 ]
	no_errors
	# The drained connection was opened again.
	[ "$(j 'connects >= 3')" = true ]
	evd_stop
}

# ---- latency ----------------------------------------------------------------

@test "latency against a fixed 50 ms server delay: all >= 50 ms, p50 in [50, 60) ms" {
	evd_start server.delay=50ms
	bench -c 5 -n 40 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 40 ]
	# The histogram reports bucket midpoints (0.8 %): the smallest sample
	# is at least 50 ms, so p50 is at least 50 ms less 0.8 %.
	[ "$(j 'latency_us.p50 >= 49600 and .latency_us.p50 < 60000')" = true ]
	[ "$(j 'latency_us.mean >= 50000 and .latency_us.max >= 50000')" = true ]
	evd_stop
}

# ---- errors ------------------------------------------------------------------

@test "resets: every request on a connection the server resets counts, exit 1" {
	tool resetserver
	bench -c 5 -n 50 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 1 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j errors.reset)" -eq 50 ]
	[ "$(j 'errors | del(.reset) | add')" -eq 0 ]
	[ "$(j connects)" -eq 50 ]
}

@test "premature end of stream: counted as eof, exit 1" {
	tool resetserver -f
	bench -c 2 -n 20 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.eof)" -eq 20 ]
	[ "$(j 'errors | del(.eof) | add')" -eq 0 ]
}

@test "mismatches: badecho corrupts every 10th message, exactly that many counted" {
	tool badecho -n 10
	bench -c 4 -n 1000 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.mismatch)" -eq 100 ]
	[ "$(j requests)" -eq 900 ]
	[ "$(j 'errors | del(.mismatch) | add')" -eq 0 ]
	# Pipelined, a corrupted echo does not lose the ones behind it.
	bench -c 3 -n 700 --pipeline 5 "127.0.0.1:$TOOL_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.mismatch)" -eq 70 ]
	[ "$(j requests)" -eq 630 ]
}

@test "a closed port: connect errors, exit 1" {
	closed_port
	bench -c 2 -n 20 "127.0.0.1:$CLOSED_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.connect)" -eq 20 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j connects)" -eq 0 ]
	bench --conn-per-request -c 2 -n 7 "127.0.0.1:$CLOSED_PORT"
	[ "$(j errors.connect)" -eq 7 ]
	bench --workers 2 --actions 3 --messages 4 "127.0.0.1:$CLOSED_PORT"
	[ "$(j errors.connect)" -eq 24 ]
}

@test "HTTP 404: status errors, the replies still framed, exit 1" {
	evd_start server.protocol=http
	bench --proto http --path /nope -c 3 -n 90 --pipeline 3 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.status)" -eq 90 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j 'errors | del(.status) | add')" -eq 0 ]
	[ "$(j connects)" -eq 3 ]
	wait_stat responses_http_4xx 90
	evd_stop
}

@test "RESP error replies are mismatches" {
	evd_start server.protocol=resp
	bench --proto resp --command "NOSUCH x" -c 2 -n 30 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.mismatch)" -eq 30 ]
	bench --proto resp --command "COMMAND COUNT" -c 2 -n 30 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 30 ]
	evd_stop
}

@test "-T: the run stops by itself, what is left counts as timeouts, exit 3" {
	# drain_timeout: evd_stop need not wait for the replies evbench left.
	evd_start server.protocol=http server.drain_timeout=500ms
	# The replies would take 30 s: stopping long before proves -T did it.
	local t0=$SECONDS
	bench --proto http --path /delay/30000 -c 2 -n 10 -T 1 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 3 ]
	[ "$(j limit_hit)" = true ]
	[ "$(j errors.timeout)" -eq 10 ]
	[ "$(j requests)" -eq 0 ]
	[ "$(j 'duration_s >= 1 and .duration_s < 15')" = true ]
	[ $((SECONDS - t0)) -lt 15 ]
	evd_stop
}

@test "--timeout: a request without a reply in time fails, its connection is replaced" {
	evd_start server.protocol=http
	bench --proto http --path /delay/3000 -c 2 -n 4 --timeout 0.3 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 1 ]
	[ "$(j errors.timeout)" -eq 4 ]
	[ "$(j connects)" -eq 4 ]
	[ "$(j limit_hit)" = false ]
	evd_stop
}

# ---- open loop ---------------------------------------------------------------

@test "open loop: --rate 1000 -d 2 sends about 2000 requests" {
	evd_start server.protocol=http
	bench --proto http --rate 1000 -d 2 -c 10 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j mode)" = open ]
	[ "$(j rate)" = 1000 ]
	no_errors
	local n
	n=$(j requests)
	[ "$n" -ge 1900 ] && [ "$n" -le 2100 ]
	[ "$(j 'duration_s >= 1.9')" = true ]
	wait_stat requests "$n"
	evd_stop
}

@test "open loop: too few connections for the rate shows in latency (coordinated omission corrected)" {
	evd_start server.protocol=http
	# 200/s over 10 connections: one request every 50 ms on each, but
	# each takes 100 ms; the queue grows and so do the latencies.
	bench --proto http --path /delay/100 --rate 200 -d 2 -c 10 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 400 ]
	[ "$(j 'latency_us.p99 > 150000')" = true ]
	# 50 connections: one every 250 ms each, the server keeps up.
	bench --proto http --path /delay/100 --rate 200 -d 2 -c 50 \
		"127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ "$(j requests)" -eq 400 ]
	[ "$(j 'latency_us.p50 >= 99000')" = true ]
	[ "$(j 'latency_us.p99 < 150000')" = true ]
	evd_stop
}

# ---- outputs and usage ----------------------------------------------------------

@test "outputs: table by default, CSV header and row, no progress when stderr is not a terminal" {
	evd_start
	run --separate-stderr "$EVBENCH" -c 2 -n 50 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[[ ${lines[0]} == "evbench: closed loop, echo 100 bytes, 127.0.0.1:$EVD_PORT" ]]
	grep -qE '^  requests +50 \(' <<<"$output"
	grep -qE '^  errors +0 \(connect 0, reset 0, timeout 0, mismatch 0, eof 0, status 0\)$' <<<"$output"
	grep -qE '^  latency +p50 ' <<<"$output"
	run --separate-stderr "$EVBENCH" --csv -c 2 -n 50 "127.0.0.1:$EVD_PORT"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${#lines[@]}" -eq 2 ]
	[[ ${lines[0]} == mode,proto,target,connections,threads,pipeline,rate,duration_s,requests,* ]]
	[ "$(tr -cd , <<<"${lines[0]}" | wc -c)" -eq "$(tr -cd , <<<"${lines[1]}" | wc -c)" ]
	[[ ${lines[1]} == closed,echo,127.0.0.1:$EVD_PORT,2,1,1,0.000,*,50,5000,5000,0,0,0,0,0,0,* ]]
	evd_stop
}

@test "progress: once a second on stderr when it is a terminal, erased before the report" {
	command -v script >/dev/null || skip "script (util-linux) is not installed"
	evd_start
	# script runs evbench on a pseudo-terminal (stdout and stderr both).
	run timeout 30 script -qec "$EVBENCH -c 2 -d 2.5 127.0.0.1:$EVD_PORT" /dev/null
	[ "$status" -eq 0 ]
	local esc=$'\e'
	[[ $output == *$'\r'"$esc[Kevbench: 1 s, "*" requests ("*"/s), 0 errors"* ]]
	[[ $output == *$'\r'"$esc[Kevbench: 2 s, "* ]]
	# The line is erased, then the table.
	[[ $output == *$'\r'"$esc[Kevbench: closed loop, echo 100 bytes"* ]]
	evd_stop
}

@test "usage errors exit 2 with a message; -h documents every option" {
	run --separate-stderr "$EVBENCH" -n 5 -d 1 127.0.0.1:1
	[ "$status" -eq 2 ]
	[[ $stderr == *"-n and -d: choose one"* ]]
	run --separate-stderr "$EVBENCH" localhost:80
	[ "$status" -eq 2 ]
	[[ $stderr == *"is not HOST:PORT"* ]]
	run --separate-stderr "$EVBENCH" --rate 100 127.0.0.1:1
	[ "$status" -eq 2 ]
	run --separate-stderr "$EVBENCH" -h
	[ "$status" -eq 0 ]
	local opt
	for opt in --proto --size --path --command --call --socket -c -t -n -d --pipeline \
		--rate --conn-per-request --workers --actions --messages -T \
		--timeout --json --csv "Exit status"; do
		[[ $output == *"$opt"* ]] || { echo "missing $opt" >&2; return 1; }
	done
}
