# Reloading (SIGHUP), draining, and what evd tells systemd (sd_notify,
# socket activation, the watchdog) — outside systemd, with stand-ins for
# its sockets.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	evd_cleanup
	[ -z "${MIGRATE_WAS:-}" ] || sysctl -qw net.ipv4.tcp_migrate_req="$MIGRATE_WAS"
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

@test "ten reloads through every model under continuous HTTP load: zero failed requests" {
	models=(poll select thread prefork prethread async uring fork select-prethread epoll)
	if [ "$(id -u)" -eq 0 ] && [ -w /proc/sys/net/ipv4/tcp_migrate_req ]; then
		# Leaving the one-socket-per-worker models closes sockets; the
		# kernel moves their queued connections only when asked.
		MIGRATE_WAS=$(sysctl -n net.ipv4.tcp_migrate_req)
		sysctl -qw net.ipv4.tcp_migrate_req=1
		models=(poll reuseport select thread prefork prethread async uring reuseport fork select-prethread epoll)
	fi
	evd_start server.protocol=http server.backlog=1024
	out=$BATS_TEST_TMPDIR/h2load.out
	# A fixed number of requests over 8 keep-alive connections; h2load
	# reconnects after each Connection: close and counts every request
	# that got no response as failed.
	timeout 120 h2load --h1 -n 400000 -c 8 "http://127.0.0.1:$EVD_PORT/" >"$out" 2>&1 &
	hpid=$!
	n=0
	for m in "${models[@]}"; do
		n=$((n + 1))
		wait_until 30 requests_at_least $((n * 20000))
		reload "$n" server.protocol=http server.backlog=1024 server.model="$m"
		[ "$(stat_of model)" = "$m" ]
	done
	wait "$hpid"
	cat "$out"
	grep -qx 'requests: 400000 total, 400000 started, 400000 done, 400000 succeeded, 0 failed, 0 errored, 0 timeout' "$out"
	[ "$(grep -c 'reloaded (drained' "$EVD_LOG")" -eq "${#models[@]}" ]
	wait_stat requests 400000
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
