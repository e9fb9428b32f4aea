# protocol = zmtp with real ZeroMQ peers: libzmq 4.3 through a C client
# (tests/tools/zmqclient.c) and pyzmq (tests/tools/zmq_client.py), and raw
# bytes for what no library sends.  Exact replies, closes and counters;
# conformance.bats runs the calls on every model.

bats_require_minimum_version 1.5.0
load helpers
load zmtp_helpers

setup() {
	zmtp_require
}

teardown() {
	evd_cleanup
}

@test "zmtp: libzmq and pyzmq DEALER, REQ and ROUTER call every method; exact replies and counters" {
	evd_start server.protocol=zmtp
	for client in c py; do
		for type in dealer req router; do
			run zc "$client" -t "$type" "$(ep)" "${CALLS[@]}"
			echo "$client $type: $output"
			[ "$status" -eq 0 ]
			[ "$output" = "$REPLIES" ]
		done
	done
	wait_stat connections_closed 6
	[ "$(stat_of connections_accepted)" -eq 6 ]
	[ "$(stat_of requests)" -eq 36 ]
	[ "$(stat_of responses_zmtp_ok)" -eq 18 ]
	[ "$(stat_of responses_zmtp_error)" -eq 18 ]
	[ "$(stat_of errors_protocol)" -eq 0 ]
	# 1,000 calls on one connection, each reply the same.
	run zc c "$(ep)" echo x -- ping
	run zc c -n 500 "$(ep)" echo x -- ping
	[ "$status" -eq 0 ]
	[ "${lines[2]}" = "500 rounds" ]
	wait_stat requests 1038
	evd_stop
}

@test "zmtp: a 1 MiB argument (max_frame) comes back whole; one byte more closes the connection, counted" {
	evd_start server.protocol=zmtp
	run zc py --big 1048576 "$(ep)"
	[ "$status" -eq 0 ]
	[ "$output" = "echo 1048576 ok" ]
	run zc py --big 1048577 -T 3000 "$(ep)"
	[ "$status" -eq 1 ]
	wait_stat errors_protocol 1
	[ "$(stat_of responses_zmtp_ok)" -eq 1 ]
	evd_stop
}

@test "zmtp: [zmtp] max_frames: 8 frames pass, 9 close the connection, counted" {
	evd_start server.protocol=zmtp zmtp.max_frames=8 zmtp.max_frame=64k
	run zc c "$(ep)" echo 1 2 3 4 5 6 7
	[ "$status" -eq 0 ]
	[ "$output" = "[OK] [1] [2] [3] [4] [5] [6] [7]" ]
	# REQ adds its delimiter: 8 frames again.
	run zc c -t req "$(ep)" echo 1 2 3 4 5 6
	[ "$output" = "[OK] [1] [2] [3] [4] [5] [6]" ]
	hello=$(greeting 3 1 NULL)$(ready DEALER)
	msg=$(frame 1 echo)
	for i in 1 2 3 4 5 6 7; do msg+=$(frame 1 "$i"); done
	run raw "$hello${msg}$(frame 0 8)"
	[ "${lines[0]}" = "$SERVER_GREETING$SERVER_READY$(frame 1 OK)$(for i in 1 2 3 4 5 6 7; do frame 1 "$i"; done)" ]
	[ "${lines[1]}" = EOF ]
	wait_stat errors_protocol 1
	evd_stop
}

@test "zmtp: PING from libzmq's heartbeat gets PONG: no reconnect over many heartbeat timeouts" {
	evd_start server.protocol=zmtp
	run zc py --heartbeat 1000 "$(ep)"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "[OK]
[OK]
reconnects 0" ]
	[ "$(stat_of connections_accepted)" -eq 1 ]
	evd_stop
}

@test "zmtp: peers that do not pair with ROUTER, and PLAIN or CURVE, are refused: libzmq's view, counted" {
	evd_start server.protocol=zmtp
	n=0
	for client in c py; do
		for type in pub sub xpub xsub push pull pair rep; do
			run zc "$client" -w -t "$type" -T 10000 "$(ep)"
			echo "$client $type: $output"
			[ "$status" -eq 0 ]
			[ "$(grep -v CONNECT_DELAYED <<<"$output")" = "CONNECTED
DISCONNECTED" ]
			n=$((n + 1))
		done
	done
	# libzmq sees evd's NULL mechanism in evd's greeting and closes before
	# it sends the rest of its own: evd never reads "PLAIN" (the raw test
	# below checks evd's ERROR for that), nothing is counted.
	for m in "-P u:p" "--plain u:p" "--curve"; do
		client=py
		[ "$m" = "-P u:p" ] && client=c
		# shellcheck disable=SC2086
		run zc "$client" -w $m -T 10000 "$(ep)"
		echo "$m: $output"
		[ "$status" -eq 0 ]
		[ "$(grep -v CONNECT_DELAYED <<<"$output")" = "CONNECTED
HANDSHAKE_FAILED_PROTOCOL
DISCONNECTED" ]
	done
	wait_stat connections_closed $((n + 3))
	[ "$(stat_of connections_accepted)" -eq $((n + 3)) ]
	[ "$(stat_of errors_protocol)" -eq "$n" ]
	[ "$(stat_of requests)" -eq 0 ]
	# A DEALER still gets its answer.
	run zc c "$(ep)" ping
	[ "$output" = "[OK]" ]
	evd_stop
}

@test "zmtp: raw bytes: the greeting, READY, ERROR with its reason, and the close, exact" {
	evd_start server.protocol=zmtp
	# Not ZMTP: closed at once, nothing written.
	run raw "$(hex 'GET / HTTP/1.1')0d0a0d0a"
	[ "$output" = "
EOF" ]
	# A ZMTP 2.0 peer: evd does not downgrade.
	run raw ff00000000000000017f0105
	[ "$output" = "$SERVER_GREETING
EOF" ]
	# The ERROR command, then the close.
	run raw "$(greeting 3 1 PLAIN)"
	[ "$output" = "$SERVER_GREETING$(error_cmd unsupported-mechanism)
EOF" ]
	[ "$(error_cmd unsupported-mechanism)" = 041c054552524f5215$(hex unsupported-mechanism) ]
	run raw "$(greeting 3 1 NULL 1)"
	[ "$output" = "$SERVER_GREETING$(error_cmd as-server-must-be-0)
EOF" ]
	run raw "$(greeting 3 1 NULL)$(ready PUSH)"
	[ "$output" = "$SERVER_GREETING$(error_cmd incompatible-socket-type)
EOF" ]
	run raw "$(greeting 3 1 NULL)$(frame 0 ping)"
	[ "$output" = "$SERVER_GREETING$(error_cmd expected-READY)
EOF" ]
	# A 3.0 peer gets READY with the greeting, before its own.
	run raw "$(greeting 3 0 NULL)" 94
	[ "$output" = "$SERVER_GREETING$SERVER_READY
OPEN" ]
	# A 3.1 peer: READY, a request, PING: each answered; then a reserved
	# flag closes without a word.
	run raw "$(greeting 3 1 NULL)$(ready DEALER)$(frame 0 ping)$(command PING 000a6869)1000"
	[ "$output" = "$SERVER_GREETING$SERVER_READY$(frame 0 OK)$(command PONG 6869)
EOF" ]
	wait_stat errors_protocol 7
	[ "$(stat_of requests)" -eq 1 ]
	evd_stop
}

@test "zmtp: request_timeout runs from a started greeting or message, not on an idle connection" {
	evd_start server.protocol=zmtp server.request_timeout=300ms server.idle_timeout=60s
	hello=$(greeting 3 1 NULL)$(ready DEALER)
	# An idle connection after a whole handshake and request.
	exec {idle}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	unhex "$hello$(frame 0 ping)" >&"$idle"
	wait_stat requests 1
	# Half a greeting.
	exec {half}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	unhex ff00000000000000017f03 >&"$half"
	wait_stat errors_timeout 1
	# Half a message after a whole handshake.
	exec {part}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	unhex "$hello$(frame 1 echo)0105" >&"$part"
	wait_stat errors_timeout 2
	[ "$(stat_of connections_active)" -eq 1 ]
	exec {idle}>&- {half}>&- {part}>&-
	wait_stat connections_active 0
	[ "$(stat_of errors_protocol)" -eq 0 ]
	evd_stop
}
