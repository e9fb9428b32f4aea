# The fork model's connection processes carry only what they use
# (daemon/server.c server_fork_conn(), daemon/models/fork.c): no library
# but libc, libm and the dynamic linker mapped, no descriptor but 0..2 and
# their connection, signal handlers inherited from the parent (which sets
# them only while the model runs), and they still serve a configuration
# reloaded by the control thread.  Checked on the processes themselves
# (/proc), not by timing.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	evd_cleanup
}

# conn_child: the pid of evd's one connection process (the only child).
conn_child() {
	local kids
	kids=$(ps -o pid= --ppid "$EVD_PID" | tr -d ' ')
	[ "$(wc -w <<<"$kids")" -eq 1 ] && echo "$kids"
}

# caught PID SIG: the signal's bit is set in /proc/PID/status SigCgt.
caught() {
	local mask
	mask=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status")
	(( (16#$mask >> ($2 - 1)) & 1 ))
}

reload_to() {
	local n=$1
	shift
	evd_config "$EVD_CONF" "$@"
	kill -HUP "$EVD_PID"
	wait_until 10 eval "[ \$(grep -c 'reloaded (drained' '$EVD_LOG') -ge $n ]"
}

@test "fork: a connection's process maps no library but libc, libm and ld.so, and holds only its socket" {
	# A sanitizer build forks through glibc (server_fork.c BARE_FORK): the
	# runtime must follow the child, so its libraries stay mapped.
	if evd_built_with asan tsan; then
		skip "a sanitizer build forks through glibc (BARE_FORK off)"
	fi
	evd_start server.model=fork
	exec {c}<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	printf 'ping\n' >&"$c"
	read -r -t 10 reply <&"$c"
	[ "$reply" = ping ]
	wait_until 10 conn_child
	kid=$(conn_child)
	libs=$(awk '$6 ~ /\.so/ {n = split($6, p, "/"); print p[n]}' "/proc/$kid/maps" | sort -u)
	echo "child libraries: $libs"
	grep -q '^libc\.so' <<<"$libs"
	[ -z "$(grep -vE '^(libc\.so|libm\.so|ld-linux)' <<<"$libs")" ]
	# The parent maps the others (libsystemd at least).
	grep -q 'libsystemd' "/proc/$EVD_PID/maps"
	# Descriptors: 0, 1, 2 and the connection's socket.
	fds=$(ls "/proc/$kid/fd" | sort -n | tr '\n' ' ')
	echo "child fds: $fds"
	[ "$(ls "/proc/$kid/fd" | wc -l)" -eq 4 ]
	[[ $(readlink "/proc/$kid/fd/$(ls "/proc/$kid/fd" | sort -n | tail -1)") == socket:* ]]
	# SIGTERM, SIGINT and SIGQUIT handled (inherited), and SIGTERM drains:
	# the process answers no more and ends.
	caught "$kid" 15 && caught "$kid" 2 && caught "$kid" 3
	kill -TERM "$kid"
	wait_until 10 eval "! kill -0 $kid 2>/dev/null || grep -q '^State:.*Z' /proc/$kid/status"
	exec {c}>&-
	wait_stat connections_active 0
	[ "$(stat_of errors_aborted)" -eq 0 ]
	evd_stop
}

@test "fork: children serve a configuration reloaded by the control thread; the handlers leave with the model" {
	evd_start server.model=epoll server.protocol=http
	# The parent catches none of these itself (the control thread reads
	# them through signalfd).
	! caught "$EVD_PID" 15
	reload_to 1 server.model=fork server.protocol=http 'http.body=from the reload'
	caught "$EVD_PID" 15
	run curl -s -m 10 "http://127.0.0.1:$EVD_PORT/"
	[ "$status" -eq 0 ]
	[ "$output" = "from the reload" ]
	run ab -q -n 200 -c 4 "http://127.0.0.1:$EVD_PORT/"
	grep -qx 'Failed requests: *0' <<<"$output"
	! grep -q 'died of signal' "$EVD_LOG"
	reload_to 2 server.model=epoll server.protocol=http
	! caught "$EVD_PID" 15
	run curl -s -m 10 "http://127.0.0.1:$EVD_PORT/"
	[ "$output" = "Hello, World!" ]
	evd_stop
}
