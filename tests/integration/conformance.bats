# The conformance suite: the same scenarios for every model.  tests/run runs
# this file once per model (evd --list-models) with EVD_MODEL set.

bats_require_minimum_version 1.5.0
load helpers

MODEL=${EVD_MODEL:-epoll}

setup() {
	EVD_MODEL=$MODEL
	# The iterative model serves one client at a time (the rest wait in the
	# listen backlog), so its clients run one after another.
	if [ "$MODEL" = iterative ]; then CONC=1; else CONC=50; fi
}

teardown() {
	evd_cleanup
}

@test "$MODEL: clients echo 1 B to 1 MiB byte-exact; counters equal what they did" {
	evd_start
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c "$CONC" -n 50 -m 5 \
		-s 1,100,4k,64k,1m -T 120
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(json_of "$output" connections)" -eq 50 ]
	[ "$(json_of "$output" completed)" -eq 50 ]
	[ "$(json_of "$output" requests)" -eq 250 ]
	[ "$(json_of "$output" errors)" -eq 0 ]
	sent=$(json_of "$output" bytes_sent)
	# 50 connections x 5 messages, sizes cycled: each size 50 times.
	[ "$sent" -eq $((50 * (1 + 100 + 4096 + 65536 + 1048576))) ]
	[ "$(json_of "$output" bytes_received)" -eq "$sent" ]

	wait_stat connections_closed 50
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	[ "$(json_of "$s" connections_accepted)" -eq 50 ]
	[ "$(json_of "$s" connections_active)" -eq 0 ]
	[ "$(json_of "$s" connections_refused)" -eq 0 ]
	[ "$(json_of "$s" requests)" -eq 250 ]
	[ "$(json_of "$s" bytes_in)" -eq "$sent" ]
	[ "$(json_of "$s" bytes_out)" -eq "$sent" ]
	[ "$(json_of "$s" errors_read)" -eq 0 ]
	[ "$(json_of "$s" errors_write)" -eq 0 ]
	[ "$(json_of "$s" model)" = "$MODEL" ]
	[ "$(json_of "$s" protocol)" = echo ]
	# Every request has a latency sample; the maximum bounds the median.
	awk -v p50="$(json_of "$s" latency_p50_us)" -v max="$(json_of "$s" latency_max_us)" \
		'BEGIN { exit !(p50 > 0 && p50 <= max) }'
	evd_stop
}

@test "$MODEL: IPv6 and several listeners at once" {
	evd_start "server.listen=127.0.0.1:0, [::1]:0"
	listen=$(stat_of listen)
	v4=${listen%%,*}
	v6=${listen#*,}
	[[ $v4 == 127.0.0.1:* ]]
	[[ $v6 == "[::1]:"* ]]
	port6=${v6##*:}
	run "$EVCLIENT_BIN" -H ::1 -p "$port6" -c "$CONC" -n 4 -m 2 -s 10,5000
	echo "$output"
	[ "$status" -eq 0 ]
	run "$EVCLIENT_BIN" -H 127.0.0.1 -p "$EVD_PORT" -c "$CONC" -n 4 -m 2 -s 10,5000
	[ "$status" -eq 0 ]
	wait_stat connections_closed 8
	[ "$(stat_of requests)" -eq 16 ]
	evd_stop
}

@test "$MODEL: clients that reset or vanish mid-message do not disturb the others" {
	evd_start
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c "$CONC" -n 20 -s 64k --disconnect reset --after 1000
	echo "$output"
	[ "$(json_of "$output" connections)" -eq 20 ]
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c "$CONC" -n 20 -s 64k --disconnect close --after 3
	[ "$(json_of "$output" connections)" -eq 20 ]
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c "$CONC" -n 20 -m 3 -s 1,1m
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(json_of "$output" requests)" -eq 60 ]
	wait_stat connections_closed 60
	[ "$(stat_of connections_accepted)" -eq 60 ]
	[ "$(stat_of requests)" -eq 60 ]
	evd_stop
}

@test "$MODEL: evctl stats answers while a client holds the server" {
	evd_start
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'held\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = held ]
	run "$EVCTL_BIN" -T 5 -s "$EVD_SOCK" stats -o json
	[ "$status" -eq 0 ]
	[ "$(json_of "$output" connections_active)" -eq 1 ]
	# The client may read the echo before evd counts it as sent.
	wait_stat requests 1
	exec 7>&-
	wait_stat connections_closed 1
	evd_stop
}

@test "$MODEL: SIGTERM with a client connected exits 0, no process or socket left" {
	evd_start
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'x\n' >&7
	read -r -t 10 reply <&7
	pid=$EVD_PID
	evd_stop
	[ ! -d "/proc/$pid" ]
	[ ! -e "$EVD_SOCK" ]
	# The held connection was closed by evd: reading gives end of file.
	run timeout 5 cat <&7
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	exec 7>&-
}

@test "$MODEL: a client that never reads gets backpressure, not unbounded buffering" {
	evd_start
	# socat -u only sends: 64 MiB that nobody reads back.
	head -c 64M /dev/zero | socat -u - "TCP:127.0.0.1:$EVD_PORT" &
	writer=$!
	# Wait until evd stops taking bytes (bytes_in unchanged for 0.5 s).
	last=-1
	stable() {
		local now
		now=$(stat_of bytes_in)
		if [ "$now" = "$last" ] && [ "$now" -gt 0 ]; then return 0; fi
		last=$now
		sleep 0.5
		return 1
	}
	wait_until 30 stable
	in=$(stat_of bytes_in)
	out=$(stat_of bytes_out)
	echo "bytes_in=$in bytes_out=$out"
	[ "$in" -lt $((64 * 1024 * 1024)) ]
	# What evd holds is what it read and could not send yet: at most its
	# two buffers, 16 KiB in and 64 KiB out.
	[ $((in - out)) -le $((16 * 1024 + 64 * 1024)) ]
	kill "$writer"
	wait_stat connections_closed 1
	evd_stop
}

@test "$MODEL: a silent connection is closed after idle_timeout" {
	evd_start server.idle_timeout=300ms
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	wait_stat errors_timeout 1
	wait_stat connections_closed 1
	run timeout 5 cat <&7
	[ "$status" -eq 0 ]
	exec 7>&-
	evd_stop
}

@test "$MODEL: connections beyond max_connections are refused and counted" {
	if [ "$MODEL" = iterative ]; then
		skip "iterative serves one connection at a time; the rest wait in the backlog (README)"
	fi
	evd_start server.max_connections=2
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	exec 8<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	wait_stat connections_active 2
	exec 9<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	wait_stat connections_refused 1
	# The refused one reads end of file; the others still echo.
	run timeout 5 cat <&9
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	printf 'ok\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = ok ]
	exec 7>&- 8>&- 9>&-
	wait_stat connections_closed 2
	[ "$(stat_of connections_accepted)" -eq 2 ]
	evd_stop
}
