# The prefork model beyond the conformance suite: each accept_lock and
# reuseport, the master and its workers in evctl workers, a worker killed
# under load, and stopping.  tests/run runs this file once (it is not
# conformance.bats); EVD_MODEL is ignored.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	# System call numbers, for reading /proc/PID/syscall: where a blocked
	# worker waits (in accept, or for the accept lock).
	local nrs
	nrs=$(printf '#include <sys/syscall.h>\nSYS_accept4 SYS_accept SYS_fcntl SYS_flock SYS_futex\n' |
		cpp -P - | tail -1)
	export NR_ACCEPT4 NR_ACCEPT NR_FCNTL NR_FLOCK NR_FUTEX
	read -r NR_ACCEPT4 NR_ACCEPT NR_FCNTL NR_FLOCK NR_FUTEX <<<"$nrs"
	[[ $NR_ACCEPT4$NR_FCNTL$NR_FLOCK$NR_FUTEX =~ ^[0-9]+$ ]]
}

setup() {
	EVD_MODEL=prefork
}

teardown() {
	evd_cleanup
}

# worker_pids: the pids of the live worker rows, in slot order.
worker_pids() {
	workers_json | jq -r '.[] | select(.role == "worker") | .pid'
}

# blocked_in: the system call each worker is blocked in, as "accept",
# "fcntl", "flock", "futex" or the number, sorted, one line.
blocked_in() {
	local pid nr
	for pid in $(worker_pids); do
		read -r nr _ <"/proc/$pid/syscall" || return 1
		case $nr in
		"$NR_ACCEPT4" | "$NR_ACCEPT") echo accept ;;
		"$NR_FCNTL") echo fcntl ;;
		"$NR_FLOCK") echo flock ;;
		"$NR_FUTEX") echo futex ;;
		*) echo "$nr" ;;
		esac
	done | sort | tr '\n' ' '
}

# blocked_is WANT: blocked_in prints WANT now.
blocked_is() {
	[ "$(blocked_in)" = "$1" ]
}

# locks_of_workers: /proc/locks lines held or awaited by the workers, as
# "holder TYPE" or "waiter TYPE", sorted, one line.
locks_of_workers() {
	local pids
	pids=" $(worker_pids | tr '\n' ' ') "
	awk -v pids="$pids" '
		$2 == "->" { if (index(pids, " " $6 " ")) print "waiter", $3; next }
		{ if (index(pids, " " $5 " ")) print "holder", $2 }' /proc/locks |
		sort | tr '\n' ' '
}

locks_are() {
	[ "$(locks_of_workers)" = "$1" ]
}

# listening_sockets: how many listening sockets (not descriptors) evd has
# on its port.
listening_sockets() {
	ss -Hltn "sport = :$EVD_PORT" | wc -l
}

# A verified load, then exact counters: 30 connections of 5 messages.
load_and_check() {
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 10 -n 30 -m 5 -s 1,100,4k,64k,100k -T 60
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(json_of "$output" completed)" -eq 30 ]
	[ "$(json_of "$output" requests)" -eq 150 ]
	[ "$(json_of "$output" errors)" -eq 0 ]
	sent=$((30 * (1 + 100 + 4096 + 65536 + 102400)))
	[ "$(json_of "$output" bytes_sent)" -eq "$sent" ]
	[ "$(json_of "$output" bytes_received)" -eq "$sent" ]
	wait_stat connections_closed 30
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	[ "$(json_of "$s" connections_accepted)" -eq 30 ]
	[ "$(json_of "$s" connections_active)" -eq 0 ]
	[ "$(json_of "$s" connections_refused)" -eq 0 ]
	[ "$(json_of "$s" requests)" -eq 150 ]
	[ "$(json_of "$s" bytes_in)" -eq "$sent" ]
	[ "$(json_of "$s" bytes_out)" -eq "$sent" ]
	[ "$(json_of "$s" errors_read)" -eq 0 ]
	[ "$(json_of "$s" errors_write)" -eq 0 ]
	# The master accepts nothing; the workers' rows add up to stats.
	[ "$(workers_json | jq '[.[] | select(.role == "master") | .accepted] | add')" -eq 0 ]
	[ "$(workers_sum accepted all)" -eq 30 ]
	[ "$(workers_sum requests all)" -eq 150 ]
}

@test "prefork: every accept_lock serves a verified load with exact counters, each worker waiting where the lock says" {
	for lock in none fcntl flock mutex; do
		echo "# accept_lock = $lock"
		evd_start server.model=prefork server.workers=3 prefork.accept_lock=$lock
		[ "$(stat_of workers)" -eq 3 ]
		[ "$(listening_sockets)" -eq 1 ]
		# Idle: with no lock all three wait in accept(); with one, the
		# holder waits in accept() and the others for the lock.
		case $lock in
		none)
			wait_until 10 blocked_is "accept accept accept "
			wait_until 10 locks_are ""
			;;
		fcntl)
			wait_until 10 blocked_is "accept fcntl fcntl "
			wait_until 10 locks_are "holder POSIX waiter POSIX waiter POSIX "
			;;
		flock)
			wait_until 10 blocked_is "accept flock flock "
			wait_until 10 locks_are "holder FLOCK waiter FLOCK waiter FLOCK "
			;;
		mutex)
			wait_until 10 blocked_is "accept futex futex "
			wait_until 10 locks_are ""
			;;
		esac
		load_and_check
		evd_stop
	done
}

@test "prefork: reuseport = yes gives each worker its own listening socket and serves a verified load" {
	evd_start server.model=prefork server.workers=3 prefork.reuseport=yes
	[ "$(stat_of workers)" -eq 3 ]
	# Three SO_REUSEPORT sockets on the one port, each worker in accept()
	# on its own, no lock.
	[ "$(listening_sockets)" -eq 3 ]
	wait_until 10 blocked_is "accept accept accept "
	wait_until 10 locks_are ""
	load_and_check
	evd_stop

	# With several listen addresses: one socket per address and worker.
	evd_start server.model=prefork server.workers=2 prefork.reuseport=yes \
		"server.listen=127.0.0.1:0, [::1]:0"
	port6=$(stat_of 'listen[1]' | sed 's/.*://')
	[ "$(ss -Hltn "sport = :$EVD_PORT" | wc -l)" -eq 2 ]
	[ "$(ss -Hltn "sport = :$port6" | wc -l)" -eq 2 ]
	run "$EVCLIENT_BIN" -H ::1 -p "$port6" -c 4 -n 8 -m 2 -s 10,5000
	[ "$status" -eq 0 ]
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 8 -m 2 -s 10,5000
	[ "$status" -eq 0 ]
	wait_stat connections_closed 16
	[ "$(stat_of requests)" -eq 32 ]
	evd_stop
}

@test "prefork: evctl workers shows the master and one row per worker, alive and distinct" {
	evd_start server.model=prefork server.workers=3
	wait_until 10 workers_alive
	json=$(workers_json)
	echo "$json"
	[ "$(jq length <<<"$json")" -eq 4 ]
	# The master: evd itself, in its main thread, slot 0.
	[ "$(jq -c '[.[] | select(.role == "master") | [.id, .pid, .tid]]' <<<"$json")" = "[[0,$EVD_PID,$EVD_PID]]" ]
	# Three workers in slots 1..3: single-threaded children of the master.
	[ "$(jq -c '[.[] | select(.role == "worker") | .id]' <<<"$json")" = "[1,2,3]" ]
	mapfile -t pids < <(worker_pids)
	[ "${#pids[@]}" -eq 3 ]
	[ "$(printf '%s\n' "${pids[@]}" | sort -u | wc -l)" -eq 3 ]
	for p in "${pids[@]}"; do
		[ "$p" -ne "$EVD_PID" ]
		[ "$(awk '{print $4}' "/proc/$p/stat")" -eq "$EVD_PID" ]
		[ "$(ls "/proc/$p/task")" = "$p" ]
		[ "$(jq -r ".[] | select(.pid == $p) | .tid" <<<"$json")" -eq "$p" ]
	done
	[ "$(jq '[.[].restarts] | add' <<<"$json")" -eq 0 ]
	# Every process of this evd is the master or one of these workers.
	[ "$(evd_pids | sort | tr '\n' ' ')" = "$(printf '%s\n' "$EVD_PID" "${pids[@]}" | sort | tr '\n' ' ')" ]
	# A worker serving a connection shows it; the text table lists the rows.
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'held\n' >&7
	read -r -t 10 reply <&7
	[ "$reply" = held ]
	json=$(workers_json)
	[ "$(jq -c '[.[] | select(.active == 1) | .role]' <<<"$json")" = '["worker"]' ]
	run "$EVCTL_BIN" -s "$EVD_SOCK" workers
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -eq 5 ]
	[ "$(grep -c '^ *[0-9]* *worker ' <<<"$output")" -eq 3 ]
	exec 7>&-
	wait_stat connections_closed 1
	evd_stop

	# workers = auto: one per CPU evd may run on.
	evd_start server.model=prefork
	[ "$(stat_of workers)" -eq "$(nproc)" ]
	wait_until 10 workers_alive
	[ "$(worker_pids | wc -l)" -eq "$(nproc)" ]
	evd_stop
}

# replaced ID OLDPID: row ID has a live pid other than OLDPID and restarts 1.
replaced() {
	local row pid
	row=$(workers_json | jq -c ".[] | select(.id == $1)")
	pid=$(jq -r .pid <<<"$row")
	[ -n "$pid" ] && [ "$pid" != "$2" ] && [ -d "/proc/$pid" ] &&
		[ "$(jq -r .restarts <<<"$row")" = 1 ] &&
		[ "$(jq -r .role <<<"$row")" = worker ]
}

# all_busy: every worker row is serving a connection.
all_busy() {
	[ "$(workers_json | jq '[.[] | select(.role == "worker" and .active == 1)] | length')" -eq 3 ]
}

@test "prefork: a worker killed with SIGKILL under load is replaced; the other workers' clients are unaffected" {
	evd_start server.model=prefork server.workers=3
	wait_until 10 workers_alive
	before=$(workers_json)
	victim=$(jq -r '.[] | select(.id == 1) | .pid' <<<"$before")
	# Six long connections on three workers: each worker serves one at a
	# time (the other three wait in the backlog), 20,000 messages each.
	"$EVCLIENT_BIN" -p "$EVD_PORT" -c 6 -n 6 -m 20000 -s 100 -T 60 \
		>"$BATS_TEST_TMPDIR/load.json" 2>"$BATS_TEST_TMPDIR/load.err" &
	load=$!
	wait_until 10 all_busy
	kill -KILL "$victim"
	wait_until 10 replaced 1 "$victim"
	new=$(jq -r '.[] | select(.id == 1) | .pid' <<<"$(workers_json)")
	# It was serving (all_busy): its connection is lost with it.
	grep -qx "evd\[$EVD_PID\]: warning: worker 0 (pid $victim) killed by signal 9, with the connection it served" "$EVD_LOG"
	rc=0
	wait "$load" || rc=$?
	out=$(cat "$BATS_TEST_TMPDIR/load.json")
	echo "$out"
	cat "$BATS_TEST_TMPDIR/load.err"
	# The killed worker's connection may fail (end of file or reset,
	# never wrong bytes); every other connection completes, verified.
	errors=$(json_of "$out" errors)
	[ "$errors" -le 1 ]
	[ "$(json_of "$out" completed)" -eq $((6 - errors)) ]
	[ "$(json_of "$out" mismatches)" -eq 0 ]
	[ "$(json_of "$out" timeouts)" -eq 0 ]
	[ "$(json_of "$out" connect_errors)" -eq 0 ]
	[ "$(($(json_of "$out" eof) + $(json_of "$out" resets)))" -eq "$errors" ]
	[ "$rc" -eq "$((errors == 1 ? 1 : 0))" ]
	creq=$(json_of "$out" requests)
	[ "$creq" -ge $(((6 - errors) * 20000)) ]
	# Only worker 1 was restarted; the others kept their pids.
	after=$(workers_json)
	[ "$(jq -c '[.[] | select(.id != 1) | [.id, .pid, .restarts]]' <<<"$after")" = \
		"$(jq -c '[.[] | select(.id != 1) | [.id, .pid, .restarts]]' <<<"$before")" ]
	[ "$(jq '[.[].restarts] | add' <<<"$after")" -eq 1 ]
	[ "$(jq -r '.[] | select(.id == 1) | .pid' <<<"$after")" -eq "$new" ]
	[ ! -d "/proc/$victim" ]
	# Counters: six connections accepted, none left open (the dead
	# worker's too).  Requests agree but for the one in flight on the
	# killed connection: echoed but not yet counted by the worker, or
	# counted but not yet read by the client.
	wait_stat connections_active 0
	s=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	[ "$(json_of "$s" connections_accepted)" -eq 6 ]
	[ "$(json_of "$s" errors_aborted)" -eq 1 ]
	sreq=$(json_of "$s" requests)
	[ "$sreq" -ge $((creq - errors)) ]
	[ "$sreq" -le $((creq + errors)) ]
	# The new worker serves: a second load completes with exact counts.
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 6 -n 12 -m 3 -s 100,4k -T 60
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$(json_of "$output" completed)" -eq 12 ]
	wait_stat connections_accepted 18
	wait_stat connections_active 0
	[ "$(stat_of requests)" -eq $((sreq + 36)) ]
	evd_stop
	[ ! -d "/proc/$new" ]
}

@test "prefork: SIGTERM stops the master and every worker, idle or serving; exit 0" {
	for held in 0 2; do
		evd_start server.model=prefork server.workers=3
		wait_until 10 workers_alive
		mapfile -t pids < <(worker_pids)
		[ "${#pids[@]}" -eq 3 ]
		fds=()
		for i in $(seq 1 "$held"); do
			exec {fd}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
			fds+=("$fd")
			printf 'hold %d\n' "$i" >&"$fd"
			read -r -t 10 reply <&"$fd"
			[ "$reply" = "hold $i" ]
		done
		wait_stat connections_active "$held"
		# evd_stop: exit 0, and no process of this evd left.
		evd_stop
		for p in "${pids[@]}"; do
			[ ! -e "/proc/$p" ]
		done
		for fd in "${fds[@]}"; do
			run timeout 5 cat <&"$fd"
			[ "$status" -eq 0 ]
			[ -z "$output" ]
			exec {fd}>&-
		done
	done
}

# state_of PID: the state letter of /proc/PID/stat (T: stopped).
state_of() {
	awk '{print $3}' "/proc/$1/stat" 2>/dev/null
}

state_is() {
	[ "$(state_of "$1")" = "$2" ]
}

# in_accept: the pid of a worker blocked in accept() now (with a lock: the
# one holding it).
in_accept() {
	local pid nr
	for pid in $(worker_pids); do
		read -r nr _ <"/proc/$pid/syscall" || continue
		if [ "$nr" = "$NR_ACCEPT4" ] || [ "$nr" = "$NR_ACCEPT" ]; then
			echo "$pid"
			return 0
		fi
	done
	return 1
}

# A stopped worker (SIGSTOP) must not stop the others accepting.  none:
# it holds nothing, the others accept at once, and it is left alone.
# fcntl, flock, mutex: the one in accept() holds the lock; stopped, it
# would block everyone, so the master kills it after 1 s and a new worker
# replaces it.  reuseport: connections hashed to its own socket wait, until
# the master kills it after 1 s and the replacement takes its queue.
@test "prefork: a worker stopped with SIGSTOP does not stop the others accepting, for every accept_lock and reuseport" {
	for mode in none fcntl flock mutex reuseport; do
		echo "# $mode"
		if [ "$mode" = reuseport ]; then
			evd_start server.model=prefork server.workers=2 prefork.reuseport=yes
			n=20
		else
			evd_start server.model=prefork server.workers=3 prefork.accept_lock=$mode
			n=12
		fi
		wait_until 10 workers_alive
		wait_until 10 in_accept
		victim=$(in_accept)
		id=$(workers_json | jq -r ".[] | select(.pid == $victim) | .id")
		stopped=$(date +%s%N)
		kill -STOP "$victim"
		wait_until 10 state_is "$victim" T
		run "$EVCLIENT_BIN" -p "$EVD_PORT" -c "$n" -n "$n" -m 2 -s 100 -T 20
		took=$((($(date +%s%N) - stopped) / 1000000))
		echo "$mode: ${took} ms: $output"
		[ "$status" -eq 0 ]
		[ "$(json_of "$output" requests)" -eq $((2 * n)) ]
		msg="evd[$EVD_PID]: warning: worker $((id - 1)) (pid $victim) has been stopped for 1000 ms"
		if [ "$mode" = none ]; then
			# Served without waiting for the stopped one, which is
			# left stopped, not restarted; it serves again on SIGCONT.
			[ "$(state_of "$victim")" = T ]
			[ "$(workers_sum restarts)" -eq 0 ]
			! grep -qF "has been stopped" "$EVD_LOG"
			kill -CONT "$victim"
			wait_until 10 in_accept
		else
			# Waited for the master to kill the stopped worker: 1 s
			# from its first sighting, which follows the SIGSTOP;
			# a lower bound holds however loaded the machine is.
			[ "$took" -ge 1000 ]
			if [ "$mode" = reuseport ]; then
				grep -qxF "$msg with connections waiting on its own socket: killing it; a new worker replaces it" "$EVD_LOG"
			else
				grep -qxF "$msg holding the accept lock the others wait for: killing it; a new worker replaces it" "$EVD_LOG"
			fi
			wait_until 10 replaced "$id" "$victim"
			[ "$(workers_sum restarts)" -eq 1 ]
			[ "$(stat_of errors_aborted)" -eq 0 ]
		fi
		wait_stat connections_closed "$n"
		[ "$(stat_of requests)" -eq $((2 * n)) ]
		total=$((n + 6))
		run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 6 -n 6 -m 2 -s 100 -T 20
		[ "$status" -eq 0 ]
		wait_stat connections_closed "$total"
		evd_stop
	done
}

# age_ms PID: how long the process has run.
age_ms() {
	local start up
	start=$(awk '{print $22}' "/proc/$1/stat")
	up=$(awk '{print $1}' /proc/uptime)
	awk -v s="$start" -v u="$up" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%d\n", (u - s / hz) * 1000 }'
}

# new_pid ID OLD: row ID shows a live pid other than OLD.
new_pid() {
	local pid
	pid=$(workers_json | jq -r ".[] | select(.id == $1) | .pid")
	[ -n "$pid" ] && [ "$pid" != "$2" ] && [ -d "/proc/$pid" ] && echo "$pid"
}

@test "prefork: a worker that keeps dying within a second of starting is restarted after 100, 200, 400 ms; the others keep serving" {
	evd_start server.model=prefork server.workers=2
	wait_until 10 workers_alive
	pid=$(workers_json | jq -r '.[] | select(.id == 1) | .pid')
	# A worker that ran for over a second is replaced at once.
	wait_until 10 eval '[ "$(age_ms "$pid")" -ge 1100 ]'
	kill -KILL "$pid"
	wait_until 10 new_pid 1 "$pid"
	pid=$(new_pid 1 "$pid")
	! grep -q "in a row" "$EVD_LOG"
	# Each replacement killed at once: backoff doubles from 100 ms.
	for k in 1 2 3; do
		delay=$((100 << (k - 1)))
		# The streak needs the kill within the worker's first second;
		# a loaded machine (an ASan build beside another suite) can find
		# the replacement later than that: then the backoff cannot show.
		age=$(age_ms "$pid")
		if [ "$age" -ge 600 ]; then
			skip "replacement $k found $age ms after it started (needs < 1 s)"
		fi
		kill -KILL "$pid"
		t0=$(date +%s%N)
		# Meanwhile the other worker serves.
		run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 2 -n 2 -m 2 -s 100 -T 20
		[ "$status" -eq 0 ]
		wait_until 10 new_pid 1 "$pid"
		gap=$((($(date +%s%N) - t0) / 1000000))
		pid=$(new_pid 1 "$pid")
		times=times
		[ "$k" -eq 1 ] && times=time
		echo "death $k: replaced after ${gap} ms (backoff $delay ms)"
		grep -qxF "evd[$EVD_PID]: warning: worker 0 died $k $times in a row within a second of starting: restarting it in $delay ms" "$EVD_LOG"
		[ "$gap" -ge $((delay * 9 / 10)) ]
	done
	[ "$(workers_json | jq -r '.[] | select(.id == 1) | .restarts')" -eq 4 ]
	[ "$(workers_json | jq -r '.[] | select(.id == 2) | .restarts')" -eq 0 ]
	wait_stat connections_closed 6
	[ "$(stat_of requests)" -eq 12 ]
	evd_stop
}
