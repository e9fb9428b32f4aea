# The control socket and evctl: protocol, hostile clients, instance
# protection.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	evd_cleanup
}

# ctl TEXT: sends TEXT (printf format) to the control socket, prints the reply.
ctl() {
	printf "$1" | timeout 10 socat -t 5 - "UNIX-CONNECT:$EVD_SOCK"
}

@test "the protocol: key value lines and END; an unknown command leaves the connection usable" {
	evd_start
	run ctl 'bogus\nping\nversion\n'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 'ERROR unknown command "bogus" (try: help)' ]
	[ "${lines[1]}" = "pid $EVD_PID" ]
	[[ ${lines[2]} =~ ^uptime_seconds\ [0-9]+\.[0-9]{3}$ ]]
	[ "${lines[3]}" = END ]
	[[ ${lines[4]} =~ ^version\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
	[ "${lines[5]}" = END ]
	[ "${#lines[@]}" -eq 6 ]
	run ctl 'ping extra\nhelp\n'
	[ "${lines[0]}" = 'ERROR usage: ping' ]
	[ "${lines[1]}" = 'stats [hist] counters, latency and CPU time' ]
	evd_stop
}

@test "garbage bytes get an error line; the daemon keeps serving" {
	evd_start
	run ctl 'st\001ats\n\xff\xfe\nping\n'
	[ "${lines[0]}" = 'ERROR invalid byte 0x01 in command (expected printable ASCII)' ]
	[ "${lines[1]}" = 'ERROR invalid byte 0xff in command (expected printable ASCII)' ]
	[ "${lines[2]}" = "pid $EVD_PID" ]
	head -c 100000 /dev/urandom | timeout 10 socat -t 2 - "UNIX-CONNECT:$EVD_SOCK" >/dev/null || true
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	evd_stop
}

@test "an endless line gets one error, is dropped up to its newline, and the connection goes on" {
	evd_start
	run bash -c "{ head -c 1048576 /dev/zero | tr '\\0' a; printf '\\nping\\n'; } | timeout 10 socat -t 5 - UNIX-CONNECT:$EVD_SOCK"
	[ "${lines[0]}" = 'ERROR line too long (at most 1024 bytes)' ]
	[ "${lines[1]}" = "pid $EVD_PID" ]
	[ "${lines[3]}" = END ]
	[ "${#lines[@]}" -eq 4 ]
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	evd_stop
}

@test "silent clients do not block others; beyond 64 clients the extra ones are told why" {
	evd_start
	silent=()
	for i in $(seq 1 70); do
		socat -u "EXEC:sleep 30" "UNIX-CONNECT:$EVD_SOCK" &
		silent+=($!)
	done
	# The 65th and later are refused with one line; count refusals by
	# connecting once more and reading the answer.
	# (quit ends a probe that got a slot at once, so it holds none.)
	wait_until 30 bash -c "[ \"\$(printf 'ping\nquit\n' | timeout 5 socat -t 2 - UNIX-CONNECT:$EVD_SOCK | head -1)\" = 'ERROR too many control clients (at most 64); try again' ]"
	kill "${silent[@]}" 2>/dev/null || true
	wait_until 10 "$EVCTL_BIN" -s "$EVD_SOCK" ping
	run "$EVCTL_BIN" -s "$EVD_SOCK" stats -o json
	[ "$status" -eq 0 ]
	evd_stop
}

# files_are DIR N: DIR holds N exit-status files.
files_are() {
	local f=("$1"/*.rc)
	[ -e "${f[0]}" ] && [ "${#f[@]}" -eq "$2" ]
}

@test "1,000 concurrent evctl clients while evd serves load: each gets stats or the clear refusal; serving goes on" {
	evd_start
	# Its status in a file: with a thousand children after it, bash may
	# no longer remember this one's for `wait`.
	{ "$EVCLIENT_BIN" -p "$EVD_PORT" -c 20 -n 200 -m 200 -s 100 -T 60 >"$BATS_TEST_TMPDIR/load.json"; echo $? >"$BATS_TEST_TMPDIR/load.rc"; } &
	dir=$BATS_TEST_TMPDIR/ctl
	mkdir "$dir"
	for i in $(seq 1 1000); do
		{ "$EVCTL_BIN" -s "$EVD_SOCK" -T 20 stats -o json >"$dir/$i.out" 2>"$dir/$i.err"; echo $? >"$dir/$i.rc"; } &
	done
	wait_until 60 files_are "$dir" 1000
	ok=0 refused=0
	for i in $(seq 1 1000); do
		rc=$(cat "$dir/$i.rc")
		if [ "$rc" -eq 0 ]; then
			[ "$(jq -r .pid "$dir/$i.out")" = "$EVD_PID" ] ||
				{ echo "client $i: exit 0, stdout:" >&2; cat "$dir/$i.out" "$dir/$i.err" >&2; false; }
			ok=$((ok + 1))
		else
			[ "$rc" -eq 1 ]
			[ "$(cat "$dir/$i.err")" = "evctl: evd: ERROR too many control clients (at most 64); try again" ]
			refused=$((refused + 1))
		fi
	done
	echo "ok $ok refused $refused"
	[ $((ok + refused)) -eq 1000 ]
	[ "$ok" -ge 64 ]
	wait_until 90 test -s "$BATS_TEST_TMPDIR/load.rc"
	[ "$(cat "$BATS_TEST_TMPDIR/load.rc")" = 0 ]
	# The load ran to the end, every byte verified.
	[ "$(jq -r .errors "$BATS_TEST_TMPDIR/load.json")" = 0 ]
	[ "$(jq -r .requests "$BATS_TEST_TMPDIR/load.json")" = 40000 ]
	wait_stat requests 40000
	evd_stop
}

@test "evctl: no daemon gives a clear message and exit 3" {
	run --separate-stderr "$EVCTL_BIN" -s "$BATS_TEST_TMPDIR/none.sock" stats
	[ "$status" -eq 3 ]
	[ "$stderr" = "evctl: cannot connect to $BATS_TEST_TMPDIR/none.sock: No such file or directory: is evd running?" ]
	EVD_SOCKET=$BATS_TEST_TMPDIR/none.sock run --separate-stderr "$EVCTL_BIN" ping
	[ "$status" -eq 3 ]
}

@test "evctl: usage errors exit 2; --help exits 0; an evd error reply exits 1" {
	run "$EVCTL_BIN" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: evctl "* ]]
	run "$EVCTL_BIN" frobnicate
	[ "$status" -eq 2 ]
	run "$EVCTL_BIN" stats -o yaml
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'evctl: unknown format "yaml" (expected text, json, prometheus, folded or svg)' ]
	run "$EVCTL_BIN"
	[ "$status" -eq 2 ]
	evd_start
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw frobnicate
	[ "$status" -eq 1 ]
	[ "$stderr" = 'evctl: evd: ERROR unknown command "frobnicate" (try: help)' ]
	evd_stop
}

@test "evctl stats: text and JSON carry the same keys and values" {
	evd_start
	run "$EVCTL_BIN" -s "$EVD_SOCK" stats
	[ "$status" -eq 0 ]
	text_keys=$(awk '{print $1}' <<<"$output" | sort)
	for k in uptime_seconds model protocol workers connections_accepted \
		connections_active connections_closed connections_refused requests \
		bytes_in bytes_out errors_accept errors_read errors_write \
		errors_timeout errors_protocol errors_nomem request_rate \
		latency_p50_us latency_p90_us latency_p99_us latency_max_us \
		cpu_user_seconds cpu_sys_seconds; do
		grep -qx "$k" <<<"$text_keys"
	done
	json=$("$EVCTL_BIN" -s "$EVD_SOCK" stats -o json)
	# The same keys, and the version of the JSON shape.
	[ "$(jq -r 'del(.schema) | keys[]' <<<"$json" | sort)" = "$text_keys" ]
	[ "$(jq .schema <<<"$json")" = 1 ]
	[ "$(jq -r .model <<<"$json")" = epoll ]
	[ "$(jq -r '.requests | type' <<<"$json")" = number ]
	evd_stop
}

@test "a second evd on the same control socket refuses to start; the first keeps it" {
	evd_start
	first=$EVD_PID
	run timeout 10 "$EVD_BIN" -c "$EVD_CONF"
	[ "$status" -eq 1 ]
	grep -q "error: another evd is running with control socket $EVD_SOCK (stop it, or set \[control\] socket to another path)" <<<"$output"
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	[[ $output == *"(pid $first,"* ]]
	evd_stop
}

@test "a stale socket left by a killed evd is replaced; a non-socket file is never removed" {
	evd_start
	kill -KILL "$EVD_PID"
	wait "$EVD_PID" || true
	[ -S "$EVD_SOCK" ]
	evd_start
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	evd_stop
	echo precious >"$EVD_SOCK"
	run timeout 10 "$EVD_BIN" -c "$EVD_CONF"
	[ "$status" -eq 1 ]
	grep -q "control socket path $EVD_SOCK exists and is not a socket" <<<"$output"
	[ "$(cat "$EVD_SOCK")" = precious ]
}

@test "the socket gets the configured mode" {
	evd_start
	[ "$(stat -c %a "$EVD_SOCK")" = 660 ]
	evd_stop
	evd_start control.mode=0600
	[ "$(stat -c %a "$EVD_SOCK")" = 600 ]
	evd_stop
}

@test "SIGINT stops evd like SIGTERM; SIGHUP with an unchanged file changes nothing" {
	evd_start
	kill -HUP "$EVD_PID"
	wait_until 5 grep -q "reload: $EVD_CONF has no change" "$EVD_LOG"
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	kill -INT "$EVD_PID"
	wait_until 10 evd_gone
	wait "$EVD_PID"
	[ ! -e "$EVD_SOCK" ]
	EVD_PID=
}

# workers_row ID ROLE PID TID STATE ACCEPTED ACTIVE REQUESTS IN OUT RESTARTS:
# one row of the evctl workers table, as evctl prints it.
workers_row() {
	printf '%4s %10s %10s %10s %10s %10s %10s %10s %10s %10s %10s\n' "$@"
}

@test "evctl workers: the text table and JSON rows, exact; rows follow the counters" {
	evd_start
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" workers
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "${lines[0]}" = "  id       role        pid        tid      state   accepted     active   requests   bytes_in  bytes_out   restarts" ]
	[ "${lines[1]}" = "$(workers_row 0 loop "$EVD_PID" "$EVD_PID" idle 0 0 0 0 0 0)" ]
	[ "${#lines[@]}" -eq 2 ]
	run "$EVCTL_BIN" -s "$EVD_SOCK" workers -o json
	[ "$status" -eq 0 ]
	[ "$(jq -c . <<<"$output")" = "{\"schema\":1,\"workers\":[{\"id\":0,\"role\":\"loop\",\"pid\":$EVD_PID,\"tid\":$EVD_PID,\"state\":\"idle\",\"accepted\":0,\"active\":0,\"requests\":0,\"bytes_in\":0,\"bytes_out\":0,\"restarts\":0}]}" ]
	# The keys and their types, as documented.
	[ "$(jq -c '.workers[0] | to_entries | map([.key, (.value | type)])' <<<"$output")" = \
		'[["id","number"],["role","string"],["pid","number"],["tid","number"],["state","string"],["accepted","number"],["active","number"],["requests","number"],["bytes_in","number"],["bytes_out","number"],["restarts","number"]]' ]

	# After a load, the one row has every connection and byte.
	run "$EVCLIENT_BIN" -p "$EVD_PORT" -c 5 -n 5 -m 2 -s 100
	[ "$status" -eq 0 ]
	wait_stat connections_closed 5
	run "$EVCTL_BIN" -s "$EVD_SOCK" workers
	[ "${lines[1]}" = "$(workers_row 0 loop "$EVD_PID" "$EVD_PID" idle 5 0 10 1000 1000 0)" ]
	# A held connection: active 1, and the state of a loop waiting for it.
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'x\n' >&7
	read -r -t 10 reply <&7
	wait_stat requests 11
	run "$EVCTL_BIN" -s "$EVD_SOCK" workers -o json
	[ "$(jq -c '.workers[0] | [.accepted, .active, .requests, .bytes_in, .bytes_out]' <<<"$output")" = "[6,1,11,1002,1002]" ]
	exec 7>&-
	wait_stat connections_closed 6
	evd_stop
}

@test "evctl workers: usage errors exit 2; raw workers all is the protocol reply; a bad argument is an evd error" {
	run --separate-stderr "$EVCTL_BIN" -s "$BATS_TEST_TMPDIR/none.sock" workers bogus
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: usage: workers [all]" ]
	[ -z "$output" ]
	run --separate-stderr "$EVCTL_BIN" -s "$BATS_TEST_TMPDIR/none.sock" workers all extra
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: usage: workers [all]" ]
	evd_start
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw workers all
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fields id role pid tid state accepted active requests bytes_in bytes_out restarts" ]
	[ "${lines[1]}" = "worker 0 loop $EVD_PID $EVD_PID idle 0 0 0 0 0 0" ]
	[ "${lines[2]}" = END ]
	[ "${#lines[@]}" -eq 3 ]
	# "all" lists the same row here: one slot, in use.
	[ "$("$EVCTL_BIN" -s "$EVD_SOCK" raw workers)" = "$output" ]
	[ "$("$EVCTL_BIN" -s "$EVD_SOCK" workers all -o json)" = "$("$EVCTL_BIN" -s "$EVD_SOCK" workers -o json)" ]
	run --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw workers bogus
	[ "$status" -eq 1 ]
	[ "$stderr" = 'evctl: evd: ERROR usage: workers [all]' ]
	run ctl 'workers a b\nworkers all\n'
	[ "${lines[0]}" = 'ERROR usage: workers [all]' ]
	[ "${lines[1]}" = "fields id role pid tid state accepted active requests bytes_in bytes_out restarts" ]
	[ "${lines[3]}" = END ]
	run ctl 'help\n'
	grep -qx 'workers \[all\] one line per worker: role, pid, state, counters' <<<"$output"
	evd_stop
}

# as_nobody CMD...: runs CMD as user nobody, group nogroup.
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
}

# The test directory must be searchable by nobody to reach the socket.
open_dirs() {
	local d=$BATS_TEST_TMPDIR
	while [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
}

@test "control permissions: read-only commands for whoever may connect; reload and syscalls on/off/reset for root or evd's user" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run evctl as another user"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	open_dirs
	evd_start control.mode=0666
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" stats -o json
	[ "$status" -eq 0 ]
	[ "$(jq -r .model <<<"$output")" = epoll ]
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 1 ]
	[ "$output" = "evctl: evd: ERROR permission denied: \"reload\" changes evd's state: only root or evd's user (uid 0) may; you are uid $(id -u nobody)" ]
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls reset
	[ "$output" = "evctl: evd: ERROR permission denied: \"syscalls reset\" changes evd's state: only root or evd's user (uid 0) may; you are uid $(id -u nobody)" ]
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" raw syscalls workers on
	[ "$output" = "evctl: evd: ERROR permission denied: \"syscalls workers on\" changes evd's state: only root or evd's user (uid 0) may; you are uid $(id -u nobody)" ]
	grep -q "warning: control: uid $(id -u nobody) was refused \"reload\"" "$EVD_LOG"
	# Root may.
	run "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$status" -eq 0 ]
	[ "$output" = unchanged ]
	evd_stop
}

@test "control permissions: the socket's mode and group come from the config; others cannot connect" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to give the socket to a group"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	open_dirs
	evd_start control.group=nogroup
	[ "$(stat -c '%a %U %G' "$EVD_SOCK")" = "660 root nogroup" ]
	# A member of the group reads.
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	evd_stop
	evd_start
	[ "$(stat -c '%a %U %G' "$EVD_SOCK")" = "660 root root" ]
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 3 ]
	[ "$output" = "evctl: cannot connect to $EVD_SOCK: permission denied: the socket is mode 660, owner root, group root; run as root, or join group root (\`adduser nobody root\`, then log in again)" ]
	# A directory on the way that nobody may search (the packaged /run/evd
	# is 0750, group evd) is named, with its group and the fix.
	chgrp root "$BATS_TEST_TMPDIR"
	chmod 0750 "$BATS_TEST_TMPDIR"
	run as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 3 ]
	[ "$output" = "evctl: cannot connect to $EVD_SOCK: permission denied: the directory $BATS_TEST_TMPDIR is mode 750, owner root, group root; run as root, or join group root (\`adduser nobody root\`, then log in again)" ]
	chmod 0755 "$BATS_TEST_TMPDIR"
	evd_stop
	# A group that does not exist stops the start with the reason: a
	# configuration error, found before anything starts (exit 78).
	evd_config "$EVD_CONF" control.group=nosuchgroup
	run "$EVD_BIN" -c "$EVD_CONF"
	[ "$status" -eq 78 ]
	[[ ${lines[0]} =~ ^evd:\ $EVD_CONF:[0-9]+:\ group:\ no\ such\ group\ \"nosuchgroup\"\ \(create\ it,\ e\.g\.\ \`groupadd\ --system\ nosuchgroup\`,\ or\ leave\ group\ empty\)$ ]]
	[ "${lines[1]}" = "evd: configuration $EVD_CONF has 1 error: not starting" ]
	[ "${#lines[@]}" -eq 2 ]
	[ ! -e "$EVD_SOCK" ]
}

@test "a socket directory others may write is refused with the reason; so is one another user owns" {
	EVD_SOCK=$BATS_TEST_TMPDIR/open/evd.sock
	EVD_CONF=$BATS_TEST_TMPDIR/evd.ini
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	chmod 0777 "$BATS_TEST_TMPDIR/open"
	evd_config "$EVD_CONF"
	run -1 timeout 10 "$EVD_BIN" -c "$EVD_CONF"
	[ "${lines[-1]}" = "evd[${lines[-1]#evd[}" ]
	grep -qF "error: control socket directory $BATS_TEST_TMPDIR/open is writable by every user (mode 0777): only root or evd's user may write it, or another user could swap the socket (chmod go-w $BATS_TEST_TMPDIR/open, or set [control] socket to another directory)" <<<"$output"
	chmod 0775 "$BATS_TEST_TMPDIR/open"
	run -1 timeout 10 "$EVD_BIN" -c "$EVD_CONF"
	grep -qF "error: control socket directory $BATS_TEST_TMPDIR/open is writable by its group (mode 0775)" <<<"$output"
	# Sticky like /tmp: still anyone's to add names to.
	chmod 1777 "$BATS_TEST_TMPDIR/open"
	run -1 timeout 10 "$EVD_BIN" -c "$EVD_CONF"
	grep -qF "is writable by every user (mode 1777)" <<<"$output"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/open")" ]
	chmod 0755 "$BATS_TEST_TMPDIR/open"
	if [ "$(id -u)" -eq 0 ] && getent passwd nobody >/dev/null; then
		chown nobody "$BATS_TEST_TMPDIR/open"
		run -1 timeout 10 "$EVD_BIN" -c "$EVD_CONF"
		grep -qF "error: control socket directory $BATS_TEST_TMPDIR/open belongs to uid $(id -u nobody): only root or evd's user (uid 0) may own it" <<<"$output"
		chown root "$BATS_TEST_TMPDIR/open"
	fi
	# Fixed, evd starts there; nothing of its own is left beside the socket.
	EVD_DIR=$BATS_TEST_TMPDIR/open
	evd_start
	[ "$(ls -A "$EVD_DIR" | grep -v '^evd\.\(ini\|log\)$')" = evd.sock ]
	evd_stop
	[ -z "$(ls -A "$EVD_DIR" | grep -v '^evd\.\(ini\|log\)$')" ]
}

@test "a directory given as a symbolic link is refused with the reason" {
	mkdir "$BATS_TEST_TMPDIR/real"
	ln -s real "$BATS_TEST_TMPDIR/link"
	EVD_SOCK=$BATS_TEST_TMPDIR/link/evd.sock
	EVD_CONF=$BATS_TEST_TMPDIR/evd.ini
	evd_config "$EVD_CONF"
	run -1 timeout 10 "$EVD_BIN" -c "$EVD_CONF"
	grep -qF "error: control socket directory $BATS_TEST_TMPDIR/link: Not a directory (a symbolic link? name the real directory in [control] socket)" <<<"$output"
}

# live PIDS...: how many of these processes are still running.
live() {
	local p n=0
	for p in "$@"; do
		kill -0 "$p" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}

live_is() {
	local want=$1
	shift
	[ "$(live "$@")" -eq "$want" ]
}

@test "70 idle clients of uid 65534 sending blank lines: root still gets in; they are dropped after 30 s, as blank lines are no activity" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to run clients as nobody"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	open_dirs
	evd_start control.mode=0666
	# A newline every 2 s; socat exits at the first write after evd
	# closes the connection.
	blanks=$BATS_TEST_TMPDIR/blanks.sh
	printf '#!/bin/sh\nwhile :; do printf "\\n"; sleep 2; done\n' >"$blanks"
	chmod 755 "$blanks"
	idle=()
	t0=$SECONDS
	for i in $(seq 1 70); do
		as_nobody socat -u "EXEC:$blanks" "UNIX-CONNECT:$EVD_SOCK" 2>/dev/null &
		idle+=($!)
	done
	# 48 hold a slot; the others are turned away at once (16 are kept for
	# root and evd's user).
	wait_until 20 live_is 48 "${idle[@]}"
	run --separate-stderr as_nobody "$EVCTL_BIN" -s "$EVD_SOCK" ping
	echo "$stderr" >&2
	[ "$status" -eq 1 ]
	[ "$stderr" = "evctl: evd: ERROR too many control clients (at most 48 for users other than root and evd's own; 16 are kept for them); try again" ]
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	[[ $output == "evd is alive at $EVD_SOCK (pid $EVD_PID, up "* ]]
	# Sixteen root clients at once still get in; the 65th is told why.
	root=()
	for i in $(seq 1 16); do
		socat -u "EXEC:sleep 60" "UNIX-CONNECT:$EVD_SOCK" &
		root+=($!)
	done
	wait_until 20 bash -c "[ \"\$(printf 'ping\nquit\n' | timeout 5 socat -t 2 - UNIX-CONNECT:$EVD_SOCK | head -1)\" = 'ERROR too many control clients (at most 64); try again' ]"
	kill "${root[@]}"
	wait_until 10 "$EVCTL_BIN" -s "$EVD_SOCK" ping
	# Blank lines keep nobody's clients no longer than 30 s of silence.
	wait_until 60 live_is 0 "${idle[@]}"
	echo "dropped after $((SECONDS - t0)) s" >&2
	[ $((SECONDS - t0)) -ge 29 ]
	evd_stop
}

@test "a NUL or a byte >= 0x80 anywhere in a line: ERROR, and nothing of that line runs" {
	evd_start
	run ctl 'ping\0reload\nversion\303\251\nreload\200\nping\n'
	[ "${lines[0]}" = 'ERROR invalid byte 0x00 in command (expected printable ASCII)' ]
	[ "${lines[1]}" = 'ERROR invalid byte 0xc3 in command (expected printable ASCII)' ]
	[ "${lines[2]}" = 'ERROR invalid byte 0x80 in command (expected printable ASCII)' ]
	[ "${lines[3]}" = "pid $EVD_PID" ]
	[ "${#lines[@]}" -eq 6 ]
	# Neither the ping nor the reload before or after the bad byte ran.
	! grep -q 'reload asked for' "$EVD_LOG"
	evd_stop
}

@test "evctl raw: an empty line, or one with a byte that is not printable ASCII, is a usage error at once (exit 2)" {
	# No daemon is needed to be told: nothing is sent.
	none=$BATS_TEST_TMPDIR/none.sock
	SECONDS=0
	run --separate-stderr "$EVCTL_BIN" -s "$none" raw ""
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: raw needs a command line (try: evctl raw help)" ]
	run --separate-stderr "$EVCTL_BIN" -s "$none" raw " " "	"
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: raw needs a command line (try: evctl raw help)" ]
	# A newline would send a second command.
	run --separate-stderr "$EVCTL_BIN" -s "$none" raw $'ping\nreload'
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: raw: byte 0x0a in the command line (expected printable ASCII)" ]
	run --separate-stderr "$EVCTL_BIN" -s "$none" raw $'stats\xc3\xa9'
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: raw: byte 0xc3 in the command line (expected printable ASCII)" ]
	[ "$SECONDS" -lt 5 ]
	run --separate-stderr "$EVCTL_BIN" -s "$none" raw
	[ "$status" -eq 2 ]
	[ "$stderr" = "evctl: raw needs a command line (try: evctl raw help)" ]
}

# evd_start_in DIR PATH [KEY=VALUE...]: evd_start from DIR with that PATH.
evd_start_in() {
	local dir=$1 path=$2
	shift 2
	pushd "$dir" >/dev/null
	PATH=$path evd_start "$@"
	popd >/dev/null
}

@test "the startup line names an evctl that works from where evd was started: ./evctl in its directory, the full path elsewhere, evctl when PATH finds it" {
	local bindir sys=/usr/sbin:/usr/bin:/sbin:/bin
	bindir=$(dirname "$EVD_BIN")
	[ -x "$bindir/evctl" ] || skip "no evctl next to $EVD_BIN"
	evd_start_in "$bindir" "$sys"
	grep -qF "; control socket $EVD_SOCK: try \`./evctl -s $EVD_SOCK stats\`" "$EVD_LOG"
	evd_stop
	evd_start_in "$BATS_TEST_TMPDIR" "$sys"
	grep -qF "; control socket $EVD_SOCK: try \`$bindir/evctl -s $EVD_SOCK stats\`" "$EVD_LOG"
	evd_stop
	evd_start_in "$BATS_TEST_TMPDIR" "$bindir:$sys"
	grep -qF "; control socket $EVD_SOCK: try \`evctl -s $EVD_SOCK stats\`" "$EVD_LOG"
	evd_stop
}

@test "evctl turned away before its line goes out (EPIPE on send) still prints evd's answer and exits 1" {
	# refuser shuts its reading side before answering: evctl's send fails
	# with EPIPE every time, as it does at random when evd's client slots
	# are full and evd closes first.
	sock=$BATS_TEST_TMPDIR/refuse.sock
	line="ERROR too many control clients (at most 48 for users other than root and evd's own; 16 are kept for them); try again"
	"$(dirname "$EVCLIENT_BIN")/refuser" "$sock" "$line" 30 &
	pid=$!
	wait_until 10 test -S "$sock"
	run --separate-stderr "$EVCTL_BIN" -s "$sock" ping
	wait "$pid"
	[ "$status" -eq 1 ]
	[ "$stderr" = "evctl: evd: $line" ]
	[ "$output" = "" ]
}
