# Reloading (SIGHUP), draining, and what evd tells systemd (sd_notify,
# socket activation, the watchdog) — outside systemd, with stand-ins for
# its sockets.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	evd_cleanup
	[ -z "${NETNS:-}" ] || ip netns del "$NETNS"
}

# log_count PATTERN: lines of evd's log matching the extended regex.
log_count() {
	grep -cE -- "$1" "$EVD_LOG" || true
}

log_has() {
	[ "$(log_count "$1")" -ge "$2" ]
}

requests_at_least() {
	[ "$(stat_of requests)" -ge "$1" ]
}

# reload N [SECTION.KEY=VALUE...]: rewrites the config with these keys,
# sends SIGHUP and waits for the N-th reload to be over (applied, refused
# or unchanged).
reload() {
	local n=$1
	shift
	evd_config "$EVD_CONF" "$@"
	kill -HUP "$EVD_PID"
	wait_until 10 log_has '(reloaded \(drained|reload refused|reload: applied at once|has no change|only a restart)' "$n"
}

@test "a model change restarts the serving side on the same socket; counters carry over exactly" {
	evd_start server.protocol=http
	port=$EVD_PORT
	run ab -q -n 100 -c 4 "http://127.0.0.1:$EVD_PORT/"
	grep -qx 'Failed requests: *0' <<<"$output"
	wait_stat requests 100
	reload 1 server.protocol=http server.model=prefork server.workers=3
	grep -q 'reload: server.model, server.workers changed: restarting the serving side' "$EVD_LOG"
	[ "$(stat_of model)" = prefork ]
	[ "$(stat_of workers)" = 3 ]
	[ "$(stat_of 'listen | tojson')" = "[\"127.0.0.1:$port\"]" ]
	[ "$(stat_of requests)" = 100 ]
	run curl -s "http://127.0.0.1:$port/"
	[ "$output" = "Hello, World!" ]
	wait_stat requests 101
	# The new run's worker processes are live; the master is evd itself.
	[ "$("$EVCTL_BIN" -s "$EVD_SOCK" workers -o json | jq '[.workers[] | select(.role == "worker")] | length')" = 3 ]
	reload 2 server.protocol=http server.model=uring
	[ "$(stat_of model)" = uring ]
	run curl -s "http://127.0.0.1:$port/"
	[ "$output" = "Hello, World!" ]
	wait_stat requests 102
	[ "$(stat_of connections_active)" = 0 ]
	evd_stop
}

@test "a broken file is refused with its errors (file:line); the old configuration keeps serving" {
	evd_start
	printf '[server]\nlisten = 127.0.0.1:0\nmodel = modle\nworkers = -1\n[control]\nsocket = %s\n' "$EVD_SOCK" >"$EVD_CONF"
	kill -HUP "$EVD_PID"
	wait_until 10 log_has 'reload refused' 1
	grep -qx "evd\[$EVD_PID\]: error: reload: $EVD_CONF:3: model: unknown model \"modle\" .*" "$EVD_LOG"
	grep -qx "evd\[$EVD_PID\]: error: reload: $EVD_CONF:4: workers: .*" "$EVD_LOG"
	grep -qx "evd\[$EVD_PID\]: error: reload refused: $EVD_CONF has 2 errors; still serving with the previous configuration (evd -t -c $EVD_CONF shows them)" "$EVD_LOG"
	[ "$(stat_of model)" = epoll ]
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 2 -n 2 -m 5 -s 10 -T 30
	[ "$status" -eq 0 ]
	# Fixed, the next reload applies.
	reload 2 server.model=poll
	[ "$(stat_of model)" = poll ]
	evd_stop
}

@test "live keys apply at once: a connection held open through the reload keeps echoing" {
	evd_start log.level=info
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'one\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = one ]
	reload 1 log.level=debug
	grep -q 'reload: applied at once: log.level' "$EVD_LOG"
	! grep -q 'restarting the serving side' "$EVD_LOG"
	printf 'two\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = two ]
	[ "$(stat_of connections_accepted)" = 1 ]
	exec 7>&-
	evd_stop
}

@test "keys only a restart applies: a warning, and the running value stays" {
	evd_start
	reload 1 control.socket="$BATS_TEST_TMPDIR/other.sock" control.mode=0600
	grep -q 'reload: control.socket, control.mode changed: only a restart of evd applies that (systemctl restart evd); keeping the running value' "$EVD_LOG"
	[ ! -e "$BATS_TEST_TMPDIR/other.sock" ]
	[ "$(stat -c %a "$EVD_SOCK")" = 660 ]
	"$EVCTL_BIN" -s "$EVD_SOCK" ping >/dev/null
	evd_stop
}

@test "listen changes: a new address is opened, the kept one is the same socket, a removed one closes" {
	evd_start
	port=$EVD_PORT
	ino=$(ss -Hltne "sport = :$port" | grep -o 'ino:[0-9]*')
	[ -n "$ino" ]
	reload 1 server.listen="127.0.0.1:0,[::1]:0"
	listen=$(stat_of 'listen | join(",")')
	[[ $listen == "127.0.0.1:$port,[::1]:"* ]]
	port6=${listen##*:}
	# The same socket (inode) kept listening through the reload.
	[ "$(ss -Hltne "sport = :$port" | grep -o 'ino:[0-9]*')" = "$ino" ]
	run "$EVCLIENT_BIN" -H ::1 -p "$port6" -c 2 -n 2 -m 5 -s 10 -T 30
	[ "$status" -eq 0 ]
	reload 2 server.listen="[::1]:0"
	grep -q "reload: no longer listening on 127.0.0.1:$port" "$EVD_LOG"
	run "$EVCLIENT_BIN" -p "$port" -c 1 -n 1 -m 1 -s 10 -T 5
	[ "$status" -ne 0 ]
	evd_stop
}

# netns_up: a network namespace of this test's own ($NETNS) with loopback
# up and net.ipv4.tcp_migrate_req = 0 set explicitly (the kernel's default:
# a closing SO_REUSEPORT socket's queue is reset, not moved), whatever the
# host has.
netns_up() {
	[ "$(id -u)" -eq 0 ] || skip "needs root for a network namespace"
	NETNS=evd-reload-$$-$BATS_TEST_NUMBER
	ip netns add "$NETNS"
	ip -n "$NETNS" link set lo up
	ip netns exec "$NETNS" sysctl -qw net.ipv4.tcp_migrate_req=0
	[ "$(ip netns exec "$NETNS" sysctl -n net.ipv4.tcp_migrate_req)" = 0 ]
}

# in_netns CMD...: runs CMD in $NETNS.
in_netns() {
	ip netns exec "$NETNS" "$@"
}

# progress_or_over N PID: evd counted N requests, or PID (the load) ended.
progress_or_over() {
	requests_at_least "$1" || ! kill -0 "$2" 2>/dev/null
}

@test "reloads under load, leaving reuseport and prefork's reuseport sets again and again, with tcp_migrate_req = 0: zero failed requests" {
	netns_up
	# Every model but iterative (one client at a time); seven reloads
	# leave a run with one SO_REUSEPORT socket set per worker.
	local steps=("server.model=epoll"
		"server.model=prefork prefork.reuseport=yes"
		"server.model=poll"
		"server.model=reuseport"
		"server.model=thread"
		"server.model=reuseport server.workers=3"
		"server.model=prefork prefork.reuseport=yes"
		"server.model=uring"
		"server.model=reuseport"
		"server.model=select-prethread"
		"server.model=prefork prefork.reuseport=yes server.workers=3"
		"server.model=async"
		"server.model=prethread"
		"server.model=fork"
		"server.model=select")
	EVD_DIR=$BATS_TEST_TMPDIR
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	local base=(server.protocol=http server.backlog=1024 server.workers=2)
	evd_config "$EVD_CONF" "${base[@]}" server.model=reuseport
	# Not through a function: $! must be evd's pid (ip execs it).
	ip netns exec "$NETNS" "$EVD_BIN" -c "$EVD_CONF" 2>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	out=$BATS_TEST_TMPDIR/h2load.out
	# A fixed number of requests over 8 keep-alive connections; h2load
	# reconnects after each Connection: close and counts every request
	# that got no response as failed.
	local total=$(((${#steps[@]} + 1) * 20000))
	in_netns timeout 300 h2load --h1 -n "$total" -c 8 "http://127.0.0.1:$EVD_PORT/" >"$out" 2>&1 &
	hpid=$!
	n=0
	for step in "${steps[@]}"; do
		n=$((n + 1))
		# (Should h2load give up early, its summary below says why.)
		wait_until 60 progress_or_over $((n * 20000)) "$hpid"
		# shellcheck disable=SC2086 # a step is several KEY=VALUE words
		reload "$n" "${base[@]}" $step
		m=${step#server.model=}
		[ "$(stat_of model)" = "${m%% *}" ]
	done
	wait "$hpid"
	cat "$out"
	grep -qx "requests: $total total, $total started, $total done, $total succeeded, 0 failed, 0 errored, 0 timeout" "$out"
	[ "$(grep -c 'reloaded (drained' "$EVD_LOG")" -eq "${#steps[@]}" ]
	grep -o 'reloaded (drained in [0-9]* ms)' "$EVD_LOG" | tr '\n' ' ' >&2
	# Nothing was left on a socket that closed.
	! grep 'reached a closing SO_REUSEPORT socket' "$EVD_LOG"
	wait_stat requests "$total"
	evd_stop
}

@test "reloads from reuseport under echo load (a connection per message), tcp_migrate_req = 0: every echo comes back" {
	netns_up
	local steps=("server.model=epoll" "server.model=reuseport"
		"server.model=prefork prefork.reuseport=yes" "server.model=poll"
		"server.model=reuseport server.workers=3" "server.model=async")
	EVD_DIR=$BATS_TEST_TMPDIR
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	local base=(server.backlog=1024 server.workers=2)
	evd_config "$EVD_CONF" "${base[@]}" server.model=reuseport
	ip netns exec "$NETNS" "$EVD_BIN" -c "$EVD_CONF" 2>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	local total=$(((${#steps[@]} + 1) * 8000))
	in_netns "$EVCLIENT_BIN" -p "$EVD_PORT" -c 8 -n "$total" -m 1 -s 100 -T 240 \
		>"$BATS_TEST_TMPDIR/load.json" 2>"$BATS_TEST_TMPDIR/load.err" &
	lpid=$!
	n=0
	for step in "${steps[@]}"; do
		n=$((n + 1))
		wait_until 60 progress_or_over $((n * 8000)) "$lpid"
		# shellcheck disable=SC2086 # a step is several KEY=VALUE words
		reload "$n" "${base[@]}" $step
	done
	wait "$lpid" || true
	cat "$BATS_TEST_TMPDIR/load.json" "$BATS_TEST_TMPDIR/load.err" >&2
	[ "$(jq -r .completed "$BATS_TEST_TMPDIR/load.json")" = "$total" ]
	[ "$(jq -r .errors "$BATS_TEST_TMPDIR/load.json")" = 0 ]
	[ "$(grep -c 'reloaded (drained' "$EVD_LOG")" -eq "${#steps[@]}" ]
	evd_stop
}

@test "SIGTERM during a reload's drain: evd stops, the new configuration is not applied; exit 0" {
	evd_start server.protocol=http
	curl -s "http://127.0.0.1:$EVD_PORT/delay/1500" >"$BATS_TEST_TMPDIR/out" &
	cpid=$!
	wait_stat connections_active 1
	evd_config "$EVD_CONF" server.protocol=http server.model=poll
	kill -HUP "$EVD_PID"
	wait_until 10 log_has 'restarting the serving side' 1
	evd_stop
	wait "$cpid"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Hello, World!" ]
	grep -q 'SIGTERM: stopping once the reload.s drain is over' "$EVD_LOG"
	! grep -q 'reloaded (drained' "$EVD_LOG"
}

# notify_start [KEY=VALUE...]: evd with NOTIFY_SOCKET pointing at a
# notifyrecv; its messages go to $NOTIFY_OUT.
notify_start() {
	NOTIFY_SOCK=$BATS_TEST_TMPDIR/notify.sock
	NOTIFY_OUT=$BATS_TEST_TMPDIR/notify.out
	"$BUILD_TOOLS/notifyrecv" "$NOTIFY_SOCK" 60 >"$NOTIFY_OUT" &
	NOTIFY_PID=$!
	wait_until 5 test -S "$NOTIFY_SOCK"
	EVD_DIR=$BATS_TEST_TMPDIR
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF" "$@"
	# exec: WATCHDOG_PID must be evd's own pid.
	NOTIFY_SOCKET=$NOTIFY_SOCK WATCHDOG_USEC=${WD_USEC:-} \
		bash -c 'export WATCHDOG_PID=$$; [ -n "$WATCHDOG_USEC" ] || unset WATCHDOG_USEC WATCHDOG_PID; exec "$0" -c "$1"' \
		"$EVD_BIN" "$EVD_CONF" 2>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
}

notified() {
	[ "$(grep -cE -- "$1" "$NOTIFY_OUT")" -ge "${2:-1}" ]
}

@test "sd_notify: READY=1, STATUS= every few seconds, RELOADING=1 with MONOTONIC_USEC, READY=1 again, STOPPING=1" {
	BUILD_TOOLS=$(dirname "$EVCLIENT_BIN")
	notify_start server.protocol=http
	wait_until 5 notified '^READY=1$'
	wait_until 5 notified '^STATUS=http epoll: 0 connections, '
	reload_cfg=$EVD_CONF
	evd_config "$reload_cfg" server.protocol=http server.model=poll
	kill -HUP "$EVD_PID"
	wait_until 10 notified '^READY=1$' 2
	line=$(grep -E '^RELOADING=1\|MONOTONIC_USEC=[0-9]+\|RECEIVED_USEC=[0-9]+$' "$NOTIFY_OUT")
	usec=$(sed 's/.*MONOTONIC_USEC=\([0-9]*\).*/\1/' <<<"$line")
	got=${line##*=}
	# MONOTONIC_USEC is CLOCK_MONOTONIC when evd sent it: at most 5 s
	# before the receiver's clock read it (ms resolution there).
	[ $((got - usec)) -ge -1000 ] && [ $((got - usec)) -lt 5000000 ]
	# In order: READY, RELOADING, READY.
	[ "$(grep -E '^(READY|RELOADING)=' "$NOTIFY_OUT" | sed 's/|.*//' | tr '\n' ' ')" = "READY=1 RELOADING=1 READY=1 " ]
	wait_until 10 notified '^STATUS=http poll: '
	evd_stop
	wait_until 5 notified '^STOPPING=1$'
	kill "$NOTIFY_PID"
}

@test "the watchdog: pinged while workers accept; not while connections wait and no worker accepts" {
	BUILD_TOOLS=$(dirname "$EVCLIENT_BIN")
	WD_USEC=400000 notify_start server.model=prefork server.workers=2
	wait_until 5 notified '^WATCHDOG=1$' 3
	# Stop every worker: connections queue and nobody accepts them.
	workers=$("$EVCTL_BIN" -s "$EVD_SOCK" workers -o json | jq -r '.workers[] | select(.role == "worker") | .pid')
	[ "$(wc -w <<<"$workers")" -eq 2 ]
	kill -STOP $workers
	# kill returns before they stop: one still running could accept.
	for w in $workers; do
		wait_until 5 grep -q '^State:.*T (stopped)' "/proc/$w/status"
	done
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	wait_until 10 grep -q 'watchdog: connections wait to be accepted and no worker accepted one' "$EVD_LOG"
	n=$(grep -c '^WATCHDOG=1$' "$NOTIFY_OUT")
	# Half a second more (the ping period is 0.2 s): no ping.
	sleep 0.6
	[ "$(grep -c '^WATCHDOG=1$' "$NOTIFY_OUT")" -eq "$n" ]
	kill -CONT $workers
	wait_until 10 grep -q 'watchdog: the workers accept again' "$EVD_LOG"
	wait_until 5 notified '^WATCHDOG=1$' $((n + 1))
	printf 'x\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = x ]
	exec 7>&-
	evd_stop
	kill "$NOTIFY_PID"
}

@test "socket activation: evd serves the sockets systemd passes, keeps them across a reload" {
	command -v systemd-socket-activate >/dev/null || skip "systemd-socket-activate is not installed"
	EVD_DIR=$BATS_TEST_TMPDIR
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	# A port nobody listens on, for the activator.
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Hltn "sport = :$port")" ] && break
	done
	evd_config "$EVD_CONF" server.listen=127.0.0.1:1 server.model=reuseport server.workers=2
	systemd-socket-activate -l "127.0.0.1:$port" "$EVD_BIN" -c "$EVD_CONF" 2>"$EVD_LOG" &
	EVD_PID=$!
	# The activator listens at once and starts evd on the first connection.
	wait_until 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port"
	wait_until 10 evd_answers
	grep -q 'socket activation: serving the 1 socket systemd passed (\[server\] listen is not used); its workers share them' "$EVD_LOG"
	[ "$(stat_of 'listen | tojson')" = "[\"127.0.0.1:$port\"]" ]
	run "$EVCLIENT_BIN" -p "$port" -c 4 -n 4 -m 10 -s 10 -T 30
	[ "$status" -eq 0 ]
	reload 1 server.listen=127.0.0.1:1 server.model=epoll
	[ "$(stat_of 'listen | tojson')" = "[\"127.0.0.1:$port\"]" ]
	[ "$(stat_of model)" = epoll ]
	run "$EVCLIENT_BIN" -p "$port" -c 4 -n 4 -m 10 -s 10 -T 30
	[ "$status" -eq 0 ]
	evd_stop
	# systemd's sockets are not shut at the stop: it queues for the next start.
	grep -q 'SIGTERM: draining (requests in flight get up to [0-9]* ms), then stopping; the sockets systemd passed stay open (it queues new connections for the next start)' "$EVD_LOG"
}

@test "under the journal (JOURNAL_STREAM names stderr): syslog priority prefixes; otherwise the plain format" {
	EVD_DIR=$BATS_TEST_TMPDIR
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF" server.workers=3 log.level=info
	: >"$EVD_LOG"
	js=$(stat -c '%d:%i' "$EVD_LOG")
	JOURNAL_STREAM=$js "$EVD_BIN" -c "$EVD_CONF" 2>>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers
	evd_stop
	# info is <6>, warning <4>; no "evd[PID]: level:" part.
	grep -q '^<4>.*workers = 3 is ignored: model epoll serves from one thread' "$EVD_LOG"
	grep -q '^<6>evd .* serving echo on 127.0.0.1:' "$EVD_LOG"
	grep -qx '<6>stopped' "$EVD_LOG"
	! grep -q '^evd\[' "$EVD_LOG"
	# The variable names another stream: plain lines.
	: >"$EVD_LOG"
	JOURNAL_STREAM=1:2 "$EVD_BIN" -c "$EVD_CONF" 2>>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers
	evd_stop
	grep -qx "evd\[[0-9]*\]: info: stopped" "$EVD_LOG"
}

# refused_now PORT: one connect(2) from this very shell (no process is
# started, so it takes microseconds): succeeds if it was refused
# (ECONNREFUSED) and sets REFUSED_AT (EPOCHREALTIME in us); fails, saying
# so, if the connection was accepted.
refused_now() {
	local err=$BATS_TEST_TMPDIR/connect.err
	if { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>"$err"; then
		exec 3>&-
		echo "connected to 127.0.0.1:$1 after the drain began" >&2
		return 1
	fi
	REFUSED_AT=${EPOCHREALTIME/./}
	grep -q 'Connection refused' "$err" || { cat "$err" >&2; return 1; }
}

# drain_refuses MODEL [KEY=VALUE...]: evd on MODEL with a /delay request in
# flight; SIGTERM: once the drain's log line is out, a connect is refused
# at once (and again until evd exits), and the request in flight completes.
drain_refuses() {
	local model=$1 t_log n=0
	shift
	evd_start server.protocol=http server.model="$model" server.workers=2 "$@"
	curl -s --max-time 20 "http://127.0.0.1:$EVD_PORT/delay/3000" >"$BATS_TEST_TMPDIR/out" &
	local cpid=$!
	wait_stat connections_active 1
	kill -TERM "$EVD_PID"
	wait_until 10 grep -q 'SIGTERM: draining' "$EVD_LOG"
	t_log=${EPOCHREALTIME/./}
	# The first attempt once the drain is observable is refused: the
	# listeners were shut before the line was written, so this holds
	# however long the machine takes to run the attempt (shown below;
	# well under 100 ms when the machine is not overloaded).
	refused_now "$EVD_PORT"
	echo "$model $*: refused $((REFUSED_AT - t_log)) us after the log line was seen" >&2
	# Again while the request is in flight: never accepted.
	while kill -0 "$cpid" 2>/dev/null && [ "$n" -lt 50 ]; do
		refused_now "$EVD_PORT"
		n=$((n + 1))
		sleep 0.02
	done
	wait "$cpid"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Hello, World!" ]
	wait_until 10 evd_gone
	wait "$EVD_PID"
	EVD_PID=
	! grep -qE 'error|warning' "$EVD_LOG"
	[ ! -e "$EVD_SOCK" ]
}

@test "SIGTERM: every model refuses new connections at once (ECONNREFUSED), the request in flight still completes" {
	local m
	for m in $("$EVD_BIN" --list-models | awk '{print $1}'); do
		drain_refuses "$m"
	done
	drain_refuses prefork prefork.reuseport=yes
}

@test "evctl reload waits for the outcome: restarted, applied, unchanged, exit 0; the new model serves as soon as it returns" {
	evd_start server.protocol=http
	evd_config "$EVD_CONF" server.protocol=http server.model=poll
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 0 ]
	[[ $output =~ ^restarted\ \(drained\ in\ [0-9]+\ ms\)$ ]]
	[ -z "$stderr" ]
	# No waiting: the swap is over when evctl returns.
	[ "$(stat_of model)" = poll ]
	run curl -s "http://127.0.0.1:$EVD_PORT/"
	[ "$output" = "Hello, World!" ]
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$output" = unchanged ]
	evd_config "$EVD_CONF" server.protocol=http server.model=poll log.level=info
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$output" = applied ]
	# The protocol: the same, readable with socat (which sends EOF at once).
	evd_config "$EVD_CONF" server.protocol=http server.model=epoll
	run bash -c "printf 'reload\nping\n' | timeout 20 socat -t 15 - UNIX-CONNECT:$EVD_SOCK"
	[ "${lines[0]}" = "reload restarted" ]
	[[ ${lines[1]} =~ ^drained_ms\ [0-9]+$ ]]
	[ "${lines[2]}" = END ]
	# What was sent behind the reload runs after its answer.
	[ "${lines[3]}" = "pid $EVD_PID" ]
	[ "${#lines[@]}" -eq 6 ]
	[ "$(stat_of model)" = epoll ]
	# A key only a restart applies: said on stderr, exit 0.
	evd_config "$EVD_CONF" server.protocol=http server.model=epoll control.mode=0600
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 0 ]
	[ "$output" = applied ]
	[ "$stderr" = "evctl: warning: not applied until evd restarts: control.mode (systemctl restart evd)" ]
	evd_stop
}

@test "evctl reload: a broken file exits 1 with the first error; the old configuration keeps serving" {
	evd_start
	printf '[server]\nlisten = 127.0.0.1:0\nmodel = modle\nworkers = -1\n[control]\nsocket = %s\n' "$EVD_SOCK" >"$EVD_CONF"
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ $stderr == "evctl: evd: ERROR reload refused: $EVD_CONF:3: model: unknown model \"modle\" "*" and more (evd -t -c $EVD_CONF shows them all); still serving with the previous configuration" ]]
	[ "$(stat_of model)" = epoll ]
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 1 -n 1 -m 2 -s 10 -T 30
	[ "$status" -eq 0 ]
	evd_stop
}

@test "evctl reload: an address that cannot be bound exits 1 with the reason; evd serves on with the previous configuration" {
	evd_start server.protocol=http
	# A port another server holds (a job: evd_cleanup ends it).
	"$(dirname "$EVCLIENT_BIN")/closeserver" >"$BATS_TEST_TMPDIR/other.port" &
	wait_until 5 test -s "$BATS_TEST_TMPDIR/other.port"
	taken=$(head -1 "$BATS_TEST_TMPDIR/other.port")
	[ -n "$taken" ]
	evd_config "$EVD_CONF" server.protocol=http server.listen="127.0.0.1:0,127.0.0.1:$taken" server.model=poll
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 1 ]
	[ "$stderr" = "evctl: evd: ERROR reload failed: cannot listen on 127.0.0.1:$taken: Address already in use (another server holds that port: stop it or change listen in the config); still serving with the previous configuration" ]
	grep -q "error: reload failed: cannot listen on 127.0.0.1:$taken" "$EVD_LOG"
	[ "$(stat_of model)" = epoll ]
	[ "$(stat_of 'listen | join(",")')" = "127.0.0.1:$EVD_PORT" ]
	run curl -s "http://127.0.0.1:$EVD_PORT/"
	[ "$output" = "Hello, World!" ]
	evd_stop
}

@test "evctl reload as root with [server] user = nobody: a port below 1024 after the drop exits 1 with the reason" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to drop to nobody"
	EVD_DIR=$(mktemp -d /tmp/evd-reload.XXXXXX)
	chown nobody: "$EVD_DIR"
	chmod 755 "$EVD_DIR"
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF" server.user=nobody
	"$EVD_BIN" -c "$EVD_CONF" 2>"$EVD_LOG" &
	EVD_PID=$!
	wait_until 10 evd_answers
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	low=
	for p in $(seq 1023 -1 1000); do
		ss -Htln "sport = :$p" | grep -q . || { low=$p; break; }
	done
	evd_config "$EVD_CONF" server.user=nobody server.listen="127.0.0.1:0,127.0.0.1:$low"
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 1 ]
	[ "$stderr" = "evctl: evd: ERROR reload failed: cannot listen on 127.0.0.1:$low: Permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE); still serving with the previous configuration" ]
	[ "$(stat_of 'listen | join(",")')" = "127.0.0.1:$EVD_PORT" ]
	evd_stop
	rm -rf "$EVD_DIR"
}

@test "evctl reload waiting on a drain when SIGTERM comes: exit 1, not applied; a reload asked while stopping is refused" {
	evd_start server.protocol=http
	curl -s --max-time 20 "http://127.0.0.1:$EVD_PORT/delay/4000" >"$BATS_TEST_TMPDIR/out" &
	cpid=$!
	wait_stat connections_active 1
	evd_config "$EVD_CONF" server.protocol=http server.model=poll
	"$EVCTL_BIN" -s "$EVD_SOCK" reload >"$BATS_TEST_TMPDIR/r.out" 2>"$BATS_TEST_TMPDIR/r.err" &
	rpid=$!
	wait_until 10 log_has 'restarting the serving side' 1
	kill -TERM "$EVD_PID"
	wait_until 10 grep -q 'SIGTERM: stopping once the reload.s drain is over' "$EVD_LOG"
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 1 ]
	[ "$stderr" = "evctl: evd: ERROR reload refused: evd is stopping (the new configuration is not applied)" ]
	rc=0
	wait "$rpid" || rc=$?
	[ "$rc" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/r.err")" = "evctl: evd: ERROR reload not applied: evd is stopping" ]
	[ ! -s "$BATS_TEST_TMPDIR/r.out" ]
	wait "$cpid"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Hello, World!" ]
	wait_until 10 evd_gone
	wait "$EVD_PID"
	EVD_PID=
}

# cpu_ticks PID: the user + system clock ticks of a process so far.
cpu_ticks() {
	awk '{ print $14 + $15 }' "/proc/$1/stat"
}

@test "evctl reload killed while it waits: evd forgets that client and does not spin; the reload completes" {
	evd_start server.protocol=http
	curl -s --max-time 20 "http://127.0.0.1:$EVD_PORT/delay/5000" >"$BATS_TEST_TMPDIR/out" &
	cpid=$!
	wait_stat connections_active 1
	evd_config "$EVD_CONF" server.protocol=http server.model=poll
	"$EVCTL_BIN" -s "$EVD_SOCK" reload >"$BATS_TEST_TMPDIR/r.out" 2>&1 &
	rpid=$!
	wait_until 10 log_has 'restarting the serving side' 1
	# Still waiting (nothing printed): the drain holds for the request.
	[ ! -s "$BATS_TEST_TMPDIR/r.out" ]
	kill -KILL "$rpid"
	wait "$rpid" || true
	t0=$(cpu_ticks "$EVD_PID")
	s0=${EPOCHREALTIME/./}
	wait "$cpid"
	[ "$(cat "$BATS_TEST_TMPDIR/out")" = "Hello, World!" ]
	t1=$(cpu_ticks "$EVD_PID")
	s1=${EPOCHREALTIME/./}
	# Ticks are 10 ms.  Waiting, evd wakes every 50 ms (the drain's
	# kicks): a few ms of CPU.  Spinning on the dead client's POLLHUP
	# burns what the machine gives it: seconds when idle, and still
	# 630 ms of 4.2 s at load average 30.
	local cpu_ms=$(((t1 - t0) * 10)) wall_ms=$(((s1 - s0) / 1000))
	echo "evd used $cpu_ms ms of CPU in $wall_ms ms" >&2
	[ "$cpu_ms" -lt $((150 + wall_ms / 20)) ]
	wait_until 10 log_has 'reloaded \(drained' 1
	[ "$(stat_of model)" = poll ]
	evd_stop
}
