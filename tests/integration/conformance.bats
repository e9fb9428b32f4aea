# The conformance suite: the same scenarios for every model.  tests/run runs
# this file once per model (evd --list-models) with EVD_MODEL set.

bats_require_minimum_version 1.5.0
load helpers
load zmtp_helpers

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
	[ "$(stat_of 'listen | length')" -eq 2 ]
	v4=$(stat_of 'listen[0]')
	v6=$(stat_of 'listen[1]')
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

@test "$MODEL: SIGTERM drains: a request in flight is answered in full; exit 0" {
	evd_start server.protocol=http
	out=$BATS_TEST_TMPDIR/curl.out
	curl -s -i "http://127.0.0.1:$EVD_PORT/delay/1500" >"$out" 2>&1 &
	cpid=$!
	wait_stat connections_active 1
	evd_stop
	wait "$cpid"
	cat "$out"
	[ "$(head -1 "$out" | tr -d '\r')" = "HTTP/1.1 200 OK" ]
	[ "$(tail -1 "$out")" = "Hello, World!" ]
	# evd stopped once the reply was out, not at drain_timeout (10 s).
	grep -q 'SIGTERM: draining' "$EVD_LOG"
	! grep -q 'drain_timeout .* is over' "$EVD_LOG"
}

@test "$MODEL: SIGTERM: a request longer than drain_timeout is cut at the deadline; exit 0" {
	evd_start server.protocol=http server.drain_timeout=300ms
	out=$BATS_TEST_TMPDIR/curl.out
	curl -s -i "http://127.0.0.1:$EVD_PORT/delay/20000" >"$out" 2>&1 &
	cpid=$!
	wait_stat connections_active 1
	start=$(date +%s%N)
	evd_stop
	took=$((($(date +%s%N) - start) / 1000000))
	run wait "$cpid"
	# curl: empty reply (52) or reset (56); no response bytes.
	[ "$status" -eq 52 ] || [ "$status" -eq 56 ]
	[ ! -s "$out" ]
	# Cut at drain_timeout: never before it, and long before the
	# request's own 20 s were over.
	[ "$took" -ge 300 ] && [ "$took" -lt 15000 ]
	grep -q 'drain_timeout (300 ms) is over: closing the 1 connection still open' "$EVD_LOG"
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

# The models that serve a fixed number of connections at once (iterative:
# one; prefork, prethread: one per worker, and never more workers than
# max_connections) never refuse: the excess waits in the listen backlog
# until a connection leaves (README).
max_connections_bounded() {
	local served=1 extra
	if [ "$(model_bound "$MODEL")" = workers ]; then
		evd_start server.max_connections=2 server.workers=4
		served=2
		[ "$(stat_of workers)" -eq 2 ]
	else
		evd_start server.max_connections=2
	fi
	fds=()
	for i in $(seq 1 "$served"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
		fds+=("$fd")
		printf 'served %d\n' "$i" >&"$fd"
		read -r -t 10 reply <&"$fd"
		[ "$reply" = "served $i" ]
	done
	exec {extra}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'waits\n' >&"$extra"
	# Not served while the others hold every worker (a bounded look).
	if read -r -t 0.5 reply <&"$extra"; then
		echo "served beyond the bound: $reply"
		false
	fi
	[ "$(stat_of connections_accepted)" -eq "$served" ]
	[ "$(stat_of connections_refused)" -eq 0 ]
	# Served as soon as one leaves.
	fd=${fds[0]}
	exec {fd}>&-
	read -r -t 10 reply <&"$extra"
	[ "$reply" = waits ]
	wait_stat connections_accepted $((served + 1))
	for fd in "${fds[@]:1}" "$extra"; do
		exec {fd}>&-
	done
	wait_stat connections_closed $((served + 1))
	[ "$(stat_of connections_refused)" -eq 0 ]
	[ "$(stat_of requests)" -eq $((served + 1)) ]
	evd_stop
}

@test "$MODEL: connections beyond max_connections are refused and counted (or wait in the backlog where the model serves a fixed number)" {
	if [ -n "$(model_bound "$MODEL")" ]; then
		max_connections_bounded
		return
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

@test "$MODEL: 1,000 concurrent connections, all open at once (evclient --barrier); counters exact" {
	bound=$(model_bound "$MODEL")
	if [ -n "$bound" ]; then
		# Show that it cannot, and that --barrier tells: with one
		# connection more than it serves at once, the run is stuck at
		# the barrier after message 0 until -T.
		n=1
		if [ "$bound" = workers ]; then
			evd_start server.workers=2
			n=2
		else
			evd_start
		fi
		run "$EVCLIENT_BIN" -p "$EVD_PORT" -c $((n + 1)) -n $((n + 1)) -m 2 --barrier -T 2
		echo "$output"
		[ "$status" -eq 3 ]
		[ "$(json_of "${lines[-1]}" requests)" -eq "$n" ]
		[ "$(json_of "${lines[-1]}" timeouts)" -eq $((n + 1)) ]
		[ "$(json_of "${lines[-1]}" completed)" -eq 0 ]
		wait_stat connections_active 0
		evd_stop
		if [ "$bound" = workers ]; then
			what="one connection per worker, \`workers\` at a time"
		else
			what="one connection at a time"
		fi
		skip "$MODEL serves $what and leaves the others in the listen backlog: it cannot hold 1,000 open at once (checked: --barrier with $((n + 1)) connections is stuck)"
	fi
	evd_start server.backlog=2048
	# --barrier: no connection sends its second message before all 1,000
	# have had their first echoed, so evd holds 1,000 connections at once.
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 1000 -n 1000 -m 2 --barrier -s 100,4k -T 60
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(json_of "$output" connections)" -eq 1000 ]
	[ "$(json_of "$output" completed)" -eq 1000 ]
	[ "$(json_of "$output" requests)" -eq 2000 ]
	[ "$(json_of "$output" errors)" -eq 0 ]
	# Sizes cycle per connection: each sends one 100 B and one 4 KiB message.
	sent=$((1000 * (100 + 4096)))
	[ "$(json_of "$output" bytes_sent)" -eq "$sent" ]
	[ "$(json_of "$output" bytes_received)" -eq "$sent" ]
	wait_stat connections_closed 1000 30
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	[ "$(json_of "$s" connections_accepted)" -eq 1000 ]
	[ "$(json_of "$s" connections_active)" -eq 0 ]
	[ "$(json_of "$s" connections_refused)" -eq 0 ]
	[ "$(json_of "$s" requests)" -eq 2000 ]
	[ "$(json_of "$s" bytes_in)" -eq "$sent" ]
	[ "$(json_of "$s" bytes_out)" -eq "$sent" ]
	[ "$(json_of "$s" errors_accept)" -eq 0 ]
	[ "$(json_of "$s" errors_read)" -eq 0 ]
	[ "$(json_of "$s" errors_write)" -eq 0 ]
	evd_stop
}

@test "$MODEL: evctl workers: live pids and tids of evd, known roles and states; the rows add up to stats" {
	evd_start
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c "$CONC" -n 20 -m 3 -s 100,4k -T 60
	echo "$output"
	[ "$status" -eq 0 ]
	wait_stat connections_closed 20
	wait_until 10 workers_alive
	live=$(workers_json)
	echo "$live"
	[ "$(jq -r type <<<"$live")" = array ]
	n=$(jq length <<<"$live")
	[ "$n" -ge 1 ]
	# Every row has exactly the documented keys, numbers where numbers are.
	[ "$(jq -c '[.[] | keys_unsorted] | unique' <<<"$live")" = \
		'[["id","role","pid","tid","state","accepted","active","requests","bytes_in","bytes_out","restarts"]]' ]
	[ "$(jq '[.[] | [.id, .pid, .tid, .accepted, .active, .requests, .bytes_in, .bytes_out, .restarts][] | numbers] | length' <<<"$live")" -eq $((9 * n)) ]
	while read -r id role pid tid state; do
		echo "row $id: $role $pid/$tid $state"
		case $role in loop | master | acceptor | worker | conn | mux) ;; *) false ;; esac
		case $state in idle | reading | writing | waiting) ;; *) false ;; esac
		[ -d "/proc/$pid/task/$tid" ]
		if model_processes "$MODEL"; then :; else [ "$pid" -eq "$EVD_PID" ]; fi
	done < <(jq -r '.[] | "\(.id) \(.role) \(.pid) \(.tid) \(.state)"' <<<"$live")
	# One slot per worker: ids and threads are distinct.
	[ "$(jq '[.[].id] | unique | length' <<<"$live")" -eq "$n" ]
	[ "$(jq '[.[] | "\(.pid)/\(.tid)"] | unique | length' <<<"$live")" -eq "$n" ]
	# Every slot ever used ("all") adds up to stats, to the unit; no row
	# has more connections active than it accepted.
	all=$(workers_json all)
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	[ "$(jq '[.[].accepted] | add' <<<"$all")" -eq 20 ]
	[ "$(json_of "$s" connections_accepted)" -eq 20 ]
	[ "$(jq '[.[].active] | add' <<<"$all")" -eq 0 ]
	[ "$(jq '[.[] | select(.active > .accepted)] | length' <<<"$all")" -eq 0 ]
	[ "$(jq '[.[].requests] | add' <<<"$all")" -eq 60 ]
	[ "$(jq '[.[].bytes_in] | add' <<<"$all")" -eq "$(json_of "$s" bytes_in)" ]
	[ "$(jq '[.[].bytes_out] | add' <<<"$all")" -eq "$(json_of "$s" bytes_out)" ]
	[ "$(json_of "$s" bytes_in)" -eq $((30 * 100 + 30 * 4096)) ]
	# The text table has the same rows under its header.
	run "$EVCTL_BIN" -s "$EVD_SOCK" workers
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "  id       role        pid        tid      state   accepted     active   requests   bytes_in  bytes_out   restarts" ]
	[ "${#lines[@]}" -eq $((n + 1)) ]
	# A held connection shows on one row as active.
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'held\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = held ]
	wait_stat connections_active 1
	wait_until 10 workers_alive
	[ "$(workers_sum active)" -eq 1 ]
	[ "$(workers_json | jq '[.[] | select(.active == 1)] | length')" -eq 1 ]
	exec 7>&-
	wait_stat connections_closed 21
	evd_stop
}

@test "$MODEL: SIGTERM leaves no process or thread, idle or with connections open" {
	evd_start
	mapfile -t pids < <(evd_pids)
	mapfile -t tids < <(ls "/proc/$EVD_PID/task")
	echo "idle: pids ${pids[*]}, tids ${tids[*]}"
	[[ " ${pids[*]} " == *" $EVD_PID "* ]]
	model_processes "$MODEL" || [ "${#pids[@]}" -eq 1 ]
	evd_stop
	for p in "${pids[@]}" "${tids[@]}"; do
		[ ! -e "/proc/$p" ]
	done

	# Again with connections being served at stop time: 3 (prefork and
	# prethread get 3 workers to serve them), 1 for iterative.
	held=3
	case $(model_bound "$MODEL") in
	workers) evd_start server.workers=3 ;;
	1) held=1 && evd_start ;;
	*) evd_start ;;
	esac
	fds=()
	for i in $(seq 1 "$held"); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
		fds+=("$fd")
		printf 'hold %d\n' "$i" >&"$fd"
		read -r -t 10 reply <&"$fd"
		[ "$reply" = "hold $i" ]
	done
	wait_stat connections_active "$held"
	mapfile -t pids < <(evd_pids)
	tids=()
	for p in "${pids[@]}"; do
		tids+=($(ls "/proc/$p/task"))
	done
	echo "held $held: pids ${pids[*]}, tids ${tids[*]}"
	if model_processes "$MODEL"; then
		# evd and one process per connection (fork) or per worker (prefork).
		[ "${#pids[@]}" -eq $((1 + held)) ]
	else
		[ "${#pids[@]}" -eq 1 ]
	fi
	evd_stop
	for p in "${pids[@]}" "${tids[@]}"; do
		[ ! -e "/proc/$p" ]
	done
	# evd closed every held connection: each reads end of file.
	for fd in "${fds[@]}"; do
		run timeout 5 cat <&"$fd"
		[ "$status" -eq 0 ]
		[ -z "$output" ]
		exec {fd}>&-
	done
}

# echoes FD TEXT: true when a line sent on FD comes back within 5 s.
echoes() {
	local reply
	(printf '%s\n' "$2" >&"$1") 2>/dev/null || return 1
	read -r -t 5 reply <&"$1" 2>/dev/null && [ "$reply" = "$2" ]
}

@test "$MODEL: a serving process killed with SIGKILL fails only its own connection; none is left counted active" {
	model_processes "$MODEL" ||
		skip "$MODEL serves from one process (its threads cannot be killed alone): no worker process to kill"
	if [ "$(model_bound "$MODEL")" = workers ]; then
		evd_start server.workers=3
	else
		evd_start
	fi
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	exec 8<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	echoes 7 first
	echoes 8 second
	wait_stat connections_active 2
	wait_until 10 workers_alive
	victim=$(workers_json | jq -r '[.[] | select(.active == 1 and .pid != '"$EVD_PID"')][0].pid')
	[ "$victim" -gt 0 ]
	kill -KILL "$victim"
	# evd settles the dead process's connection (closed, counted as
	# aborted): one is left active.
	wait_stat connections_active 1
	[ "$(stat_of errors_aborted)" -eq 1 ]
	# Exactly one of the two connections still echoes.
	ok=0
	echoes 7 again && ok=$((ok + 1))
	echoes 8 again && ok=$((ok + 1))
	[ "$ok" -eq 1 ]
	exec 7>&- 8>&-
	wait_stat connections_active 0
	[ "$(stat_of connections_accepted)" -eq 2 ]
	# The server still serves new clients.
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 8 -m 2 -s 100 -T 30
	[ "$status" -eq 0 ]
	wait_stat connections_accepted 10
	wait_stat connections_active 0
	evd_stop
}

# ---- protocols and delays on every model ------------------------------------

# http_conc: clients at once for keep-alive HTTP loads: each keep-alive
# connection holds a worker of a bounded model for the whole load.
http_conc() {
	if [ -n "$(model_bound "$MODEL")" ]; then echo 1; else echo 10; fi
}

@test "$MODEL: http: GET, HEAD, 404, 405 exact; pipelined requests answered in order" {
	evd_start server.protocol=http
	url=http://127.0.0.1:$EVD_PORT
	run curl -s -i "$url/"
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$output" | tr -d '\r')" = "HTTP/1.1 200 OK" ]
	grep -qx $'Content-Length: 13\r' <<<"$output"
	grep -q '^Date: .* GMT' <<<"$output"
	grep -q '^Server: evd/' <<<"$output"
	[ "$(tail -1 <<<"$output")" = "Hello, World!" ]
	run curl -s -I "$url/"
	[ "$(head -1 <<<"$output" | tr -d '\r')" = "HTTP/1.1 200 OK" ]
	grep -qx $'Content-Length: 13\r' <<<"$output"
	run curl -s -o /dev/null -w '%{http_code}' "$url/nope"
	[ "$output" = 404 ]
	run curl -s -i -X POST --data x "$url/"
	[ "$(head -1 <<<"$output" | tr -d '\r')" = "HTTP/1.1 405 Method Not Allowed" ]
	grep -qx $'Allow: GET, HEAD\r' <<<"$output"
	# HTTP/1.0: closes after the response unless asked to keep alive.
	run curl -s -i --http1.0 "$url/"
	grep -qx $'Connection: close\r' <<<"$output"
	# Three requests in one write: three responses, in order.
	run bash -c "printf 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | timeout 10 socat -t 5 - TCP:127.0.0.1:$EVD_PORT"
	# (The 200's body has no newline: the next status line follows it.)
	[ "$(grep -o 'HTTP/1.1 [0-9][0-9][0-9]' <<<"$output" | tr '\n' '|')" = "HTTP/1.1 404|HTTP/1.1 200|HTTP/1.1 404|" ]
	# GET, HEAD, 404, 405, HTTP/1.0, and the three pipelined ones.
	wait_stat requests 8
	[ "$(stat_of responses_http_2xx)" -eq 4 ]
	[ "$(stat_of responses_http_4xx)" -eq 4 ]
	[ "$(stat_of errors_protocol)" -eq 0 ]
	evd_stop
}

# http_exchange BYTES: sends BYTES (printf %b escapes) on one connection and
# prints what came back until evd closed it (or 5 s after the input ended).
http_exchange() {
	printf '%b' "$1" | timeout 10 socat -t 5 - "TCP:127.0.0.1:$EVD_PORT"
}

# http_refused BYTES TEXT: evd answers BYTES, then a well-formed request on
# the same connection, with exactly one response, 400 with body TEXT, and
# closes.
http_refused() {
	local out
	out=$(http_exchange "$1GET / HTTP/1.1\r\nHost: a\r\n\r\n")
	echo "sent: $1" >&2
	echo "got: $out" >&2
	[ "$(head -1 <<<"$out")" = $'HTTP/1.1 400 Bad Request\r' ]
	[ "$(grep -c '^HTTP/1.1 ' <<<"$out")" -eq 1 ]
	grep -qx $'Connection: close\r' <<<"$out"
	[ "$(tail -1 <<<"$out")" = "$2" ]
}

@test "$MODEL: http: framing is strict where a front proxy could disagree (bare LF, chunk extensions, Host, Content-Length); Expect: 100-continue in any case" {
	evd_start server.protocol=http
	# A bare LF ends no line: "Dummy: x\nContent-Length: 23" is one field
	# to a proxy that splits on CRLF only.
	http_refused 'GET / HTTP/1.1\r\nHost: a\r\nDummy: x\nContent-Length: 23\r\n\r\n' 'bare LF'
	http_refused 'GET / HTTP/1.1\nHost: a\n\n' 'bare LF'
	http_refused 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n' 'bare LF'
	# Chunk extensions follow the grammar.
	http_refused 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a b\r\nx\r\n0\r\n\r\n' 'invalid chunk extension'
	http_refused 'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;a="x\r\nx\r\n0\r\n\r\n' 'invalid chunk extension'
	http_refused 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n' 'invalid Host'
	http_refused 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx' 'more than one Content-Length'
	http_refused 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 01\r\n\r\nx' 'invalid Content-Length'
	# What the grammar allows still works, pipelined.
	out=$(http_exchange 'GET / HTTP/1.1\r\nHost: [::1]:80\r\nTransfer-Encoding: chunked\r\n\r\n1 ; a = "q \\" ;" ; b\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')
	# (The 200's body has no newline: the next status line follows it.)
	[ "$(grep -o 'HTTP/1.1 200 OK' <<<"$out" | wc -l)" -eq 2 ]
	# Expect: 100-continue, any case: the 100 comes before the body is sent.
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-CONTINUE\r\nContent-Length: 1\r\n\r\n' >&7
	read -r -t 10 line <&7
	[ "$line" = $'HTTP/1.1 100 Continue\r' ]
	read -r -t 10 line <&7
	[ "$line" = $'\r' ]
	printf 'x' >&7
	read -r -t 10 line <&7
	[ "$line" = $'HTTP/1.1 200 OK\r' ]
	exec 7>&-
	# 8 refused, 2 pipelined, 1 after its 100 Continue.
	wait_stat requests 11
	[ "$(stat_of errors_protocol)" -eq 8 ]
	[ "$(stat_of responses_http_4xx)" -eq 8 ]
	[ "$(stat_of responses_http_1xx)" -eq 1 ]
	[ "$(stat_of responses_http_2xx)" -eq 3 ]
	evd_stop
}

@test "$MODEL: http: ab, h2load and wrk run error-free; requests counted exactly" {
	evd_start server.protocol=http
	c=$(http_conc)
	run ab -q -k -n 2000 -c "$c" "http://127.0.0.1:$EVD_PORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qx 'Complete requests: *2000' <<<"$output"
	grep -qx 'Failed requests: *0' <<<"$output"
	grep -qx 'Non-2xx responses: *0' <<<"$output" || ! grep -q 'Non-2xx' <<<"$output"
	wait_stat requests 2000
	run h2load --h1 -n 2000 -c "$c" "http://127.0.0.1:$EVD_PORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -q '^requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, 0 failed, 0 errored, 0 timeout' <<<"$output"
	wait_stat requests 4000
	run wrk -t1 -c "$c" -d 1s "http://127.0.0.1:$EVD_PORT/"
	echo "$output"
	[ "$status" -eq 0 ]
	! grep -q 'Socket errors\|Non-2xx' <<<"$output"
	done=$(awk '/requests in/ {print $1}' <<<"$output")
	[ "$done" -gt 0 ]
	[ "$(stat_of responses_http_4xx)" -eq 0 ]
	[ "$(stat_of errors_protocol)" -eq 0 ]
	evd_stop
}

@test "$MODEL: resp: redis-cli answers and redis-benchmark PING runs error-free, pipelined too" {
	evd_start server.protocol=resp
	run redis-cli -p "$EVD_PORT" PING
	[ "$output" = PONG ]
	run redis-cli -p "$EVD_PORT" ECHO "hello world"
	[ "$output" = "hello world" ]
	c=$(http_conc)
	for p in 1 16; do
		run redis-benchmark -p "$EVD_PORT" -t ping -n 2000 -c "$c" -P "$p" -q
		echo "$output"
		[ "$status" -eq 0 ]
		[ "$(grep -c 'requests per second' <<<"$output")" -eq 2 ]
	done
	[ "$(stat_of errors_protocol)" -eq 0 ]
	[ "$(stat_of responses_resp_error)" -eq 0 ]
	evd_stop
}

@test "$MODEL: delayed replies: the delay counts as latency; multiplexing models serve others meanwhile" {
	evd_start server.protocol=http server.backlog=1024
	bound=$(model_bound "$MODEL")
	if [ -n "$bound" ]; then
		# A blocking worker sleeps through its delay: one at a time.
		start=$(date +%s%N)
		run curl -s "http://127.0.0.1:$EVD_PORT/delay/100"
		[ "$output" = "Hello, World!" ]
		[ $(($(date +%s%N) - start)) -ge 100000000 ]
	else
		# 200 concurrent /delay/100 overlap: one after another they
		# would take 20 s; a model that serialized them even in pairs
		# would need 10 s.  (A property, not a speed: a loaded machine
		# adds seconds of scheduling, never ten.)
		run ab -q -n 200 -c 200 "http://127.0.0.1:$EVD_PORT/delay/100"
		echo "$output"
		grep -qx 'Complete requests: *200' <<<"$output"
		grep -qx 'Failed requests: *0' <<<"$output"
		took=$(awk '/^Time taken for tests:/ {print $5}' <<<"$output")
		awk -v t="$took" 'BEGIN { exit !(t >= 0.1 && t < 10.0) }'
	fi
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	# The histogram reports within 1.6 % of the true value.
	awk -v p="$(json_of "$s" latency_p50_us)" 'BEGIN { exit !(p >= 98000 && p < 1000000) }'
	evd_stop
	# The [server] delay key delays every echo reply the same way.
	evd_start server.delay=100ms server.backlog=1024
	if [ -z "$bound" ]; then
		run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 200 -n 200 -m 1 -s 10 -T 30
		[ "$status" -eq 0 ]
		# As above: overlapping, not 200 x 100 ms in turn.
		awk -v t="$(json_of "$output" elapsed_s)" 'BEGIN { exit !(t >= 0.1 && t < 10.0) }'
	else
		run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 1 -n 1 -m 2 -s 10 -T 30
		[ "$status" -eq 0 ]
		awk -v t="$(json_of "$output" elapsed_s)" 'BEGIN { exit !(t >= 0.2) }'
	fi
	awk -v p="$(stat_of latency_p50_us)" 'BEGIN { exit !(p >= 98000) }'
	evd_stop
}

# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}

# http_norm: evd's responses with the Date and Server values replaced by X.
http_norm() {
	sed -e $'s/^Date: .* GMT\r$/Date: X\r/' -e $'s/^Server: evd\\/.*\r$/Server: X\r/'
}

@test "$MODEL: http: /delay/50,25,50 waits on three backends in sequence: exact bytes, no earlier than the sum; strict list" {
	evd_start server.protocol=http
	local ok=$'HTTP/1.1 200 OK\r\nServer: X\r\nDate: X\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n'
	# Pipelined on one connection: 125 ms, then 125 ms (HEAD), then at
	# once (zeros are backends that answer at once), in order.
	local t0 out took
	t0=$(date +%s%N)
	out=$(http_exchange 'GET /delay/50,25,50 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /delay/50,25,50?q=1 HTTP/1.1\r\nHost: a\r\n\r\nGET /delay/0,0,0 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | http_norm)
	took=$(ms_since "$t0")
	echo "took ${took} ms; got: $out" >&2
	[ "$out" = "$ok"$'\r\nHello, World!'"$ok"$'\r\n'"$ok"$'Connection: close\r\n\r\nHello, World!' ]
	[ "$took" -ge 250 ]
	# One request alone, timed to its first byte by curl.
	run curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code} %{time_starttransfer}' \
		"http://127.0.0.1:$EVD_PORT/delay/50,25,50"
	[ "${output%% *}" = 200 ]
	[ "$(cat "$BATS_TEST_TMPDIR/body")" = "Hello, World!" ]
	awk -v t="${output#* }" 'BEGIN { exit !(t >= 0.125) }'
	# The list is strict: each refusal is a 400 that names the problem
	# and closes, as /delay/N's.
	http_refused 'GET /delay/1,,2 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay: an empty wait (/delay/MS or /delay/MS,MS,...)'
	http_refused 'GET /delay/1, HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay: an empty wait (/delay/MS or /delay/MS,MS,...)'
	http_refused 'GET /delay/,1 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay: an empty wait (/delay/MS or /delay/MS,MS,...)'
	http_refused 'GET /delay/1,2,3,4,5,6,7,8,9 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay: more than 8 waits'
	http_refused 'GET /delay/30000,30001 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay: the waits add up to more than 60000 ms'
	http_refused 'GET /delay/5,60001 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay (0 to 60000 ms)'
	http_refused 'GET /delay/5,x HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay (0 to 60000 ms)'
	http_refused 'GET /delay/5;6 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay (0 to 60000 ms)'
	# Today's /delay/N is unchanged.
	http_refused 'GET /delay/60001 HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay (0 to 60000 ms)'
	http_refused 'GET /delay/ HTTP/1.1\r\nHost: a\r\n\r\n' 'invalid delay (0 to 60000 ms)'
	# 3 pipelined, curl's, 10 refused.
	wait_stat requests 14
	[ "$(stat_of responses_http_2xx)" -eq 4 ]
	[ "$(stat_of responses_http_4xx)" -eq 10 ]
	[ "$(stat_of errors_protocol)" -eq 10 ]
	evd_stop
}

@test "$MODEL: http: while /delay/2000,2000 waits, another connection is answered (all but iterative); the delayed one comes no earlier than 4 s" {
	evd_start server.protocol=http
	local req=$'GET /delay/2000,2000 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
	local t0 line took
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	t0=$(date +%s%N)
	printf '%s' "$req" >&7
	# evd has the whole request: it waits now.
	wait_stat bytes_in "${#req}"
	if [ "$MODEL" != iterative ]; then
		run curl -s -w ' %{http_code}' "http://127.0.0.1:$EVD_PORT/"
		[ "$output" = "Hello, World! 200" ]
		wait_stat requests 1
		# The delayed one is still pending: nothing to read yet.
		# (requests counts a response once sent.)
		! read -r -t 0 -u 7
		[ "$(stat_of requests)" -eq 1 ]
	fi
	read -r -t 30 -u 7 line
	took=$(ms_since "$t0")
	echo "delayed answer after ${took} ms" >&2
	[ "$line" = $'HTTP/1.1 200 OK\r' ]
	[ "$took" -ge 4000 ]
	exec 7>&-
	if [ "$MODEL" = iterative ]; then
		run curl -s -w ' %{http_code}' "http://127.0.0.1:$EVD_PORT/"
		[ "$output" = "Hello, World! 200" ]
	fi
	wait_stat requests 2
	evd_stop
}

@test "$MODEL: zmtp: libzmq and pyzmq DEALER, REQ and ROUTER call every method; exact replies and counters" {
	zmtp_require
	evd_start server.protocol=zmtp
	for client in c py; do
		for type in dealer req router; do
			run zc "$client" -t "$type" "$(ep)" "${CALLS[@]}"
			echo "$client $type: $output"
			[ "$status" -eq 0 ]
			[ "$output" = "$REPLIES" ]
		done
	done
	run zc c -n 200 "$(ep)" echo hello -- ping
	[ "$status" -eq 0 ]
	[ "$output" = "[OK] [hello]
[OK]
200 rounds" ]
	run zc py --big 1048576 "$(ep)"
	[ "$output" = "echo 1048576 ok" ]
	wait_stat connections_closed 8
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	[ "$(json_of "$s" connections_accepted)" -eq 8 ]
	[ "$(json_of "$s" requests)" -eq $((36 + 400 + 1)) ]
	[ "$(json_of "$s" responses_zmtp_ok)" -eq $((18 + 400 + 1)) ]
	[ "$(json_of "$s" responses_zmtp_error)" -eq 18 ]
	[ "$(json_of "$s" errors_protocol)" -eq 0 ]
	[ "$(json_of "$s" protocol)" = zmtp ]
	evd_stop
}

@test "$MODEL: zmtp: delay <ms> holds only its own connection where the model serves connections at once; a refused PUB disturbs nobody" {
	zmtp_require
	evd_start server.protocol=zmtp
	run zc py --parallel 1 "$(ep)" delay 300
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "[OK]" ]
	t1=$(awk '{print $4}' <<<"${lines[1]}")
	awk -v t="$t1" 'BEGIN { exit !(t >= 0.3) }'
	if [ -z "$(model_bound "$MODEL")" ]; then
		# 20 at once: one after another they would take 20 x t1.
		run zc py --parallel 20 "$(ep)" delay 300
		echo "$output (one alone: $t1 s)"
		[ "$status" -eq 0 ]
		[ "${lines[1]%% in *}" = "20 replies" ]
		t20=$(awk '{print $4}' <<<"${lines[1]}")
		awk -v t="$t20" -v one="$t1" 'BEGIN { exit !(t >= 0.3 && t < 10 * one) }'
	fi
	run zc c -w -t pub -T 10000 "$(ep)"
	[ "$status" -eq 0 ]
	[ "$(grep -v CONNECT_DELAYED <<<"$output")" = "CONNECTED
DISCONNECTED" ]
	run zc c "$(ep)" ping
	[ "$output" = "[OK]" ]
	wait_stat errors_protocol 1
	evd_stop
}
