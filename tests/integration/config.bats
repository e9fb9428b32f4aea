# evd's command line and configuration errors: exact messages, exit codes,
# and no half-started daemon.

bats_require_minimum_version 1.5.0
load helpers

# The model names in table order, as error messages list them.
MODELS="iterative, select, poll, epoll, fork, thread, prefork, prethread, select-prethread, async, reuseport, uring"

setup() {
	CONF=$BATS_TEST_TMPDIR/evd.ini
	SOCK=$BATS_TEST_TMPDIR/evd.sock
}

teardown() {
	evd_cleanup
}

# conf LINE...: writes the lines as the config file.
conf() {
	printf '%s\n' "$@" >"$CONF"
}

@test "evd -t on the shipped conf/evd.ini: valid without a warning, prints every effective key" {
	shipped=$BATS_TEST_DIRNAME/../../conf/evd.ini
	run --separate-stderr "$EVD_BIN" -t -c "$shipped"
	[ "$status" -eq 0 ]
	# Quiet: the shipped file sets no key that its model ignores.
	[ "$stderr" = "evd: configuration $shipped is valid" ]
	# Each key the file sets is printed with its value and its line.
	n=0
	while IFS=: read -r line kv; do
		grep -qxF "$kv	; $shipped:$line" <<<"$output"
		n=$((n + 1))
	done < <(grep -n '^[a-z_]* = ' "$shipped")
	[ "$n" -ge 10 ]
	grep -qx "listen = 127.0.0.1:7777	; $shipped:[0-9]*" <<<"$output"
	grep -qx "model = epoll	; $shipped:[0-9]*" <<<"$output"
	# It documents the defaults: the same values as an empty file.
	diff <(sed 's/	;.*//' <<<"$output") <("$EVD_BIN" -t -c /dev/null 2>/dev/null | sed 's/	;.*//')
	# Every key once, in the documented order, under its section.
	[ "$(grep ' = ' <<<"$output" | sed 's/ = .*//' | tr '\n' ' ')" = \
		"listen protocol model workers backlog max_connections idle_timeout pin_workers delay request_timeout drain_timeout user accept_lock reuseport body max_header_bytes max_headers max_body_bytes max_bulk_bytes max_args max_frame max_frames socket mode group syscalls timing sample profile level listen " ]
	[ "$(grep '^\[' <<<"$output" | tr '\n' ' ')" = "[server] [prefork] [http] [resp] [zmtp] [control] [probes] [log] [metrics] " ]
}

@test "evd -t marks defaults and prints a file that evd -t accepts again" {
	conf '[server]' 'model = poll'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 0 ]
	grep -qx "model = poll	; $CONF:2" <<<"$output"
	grep -qx 'idle_timeout = 60s	; default' <<<"$output"
	grep -qx 'socket = /run/evd/evd.sock	; default' <<<"$output"
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/again.ini"
	run "$EVD_BIN" -t -c "$BATS_TEST_TMPDIR/again.ini"
	[ "$status" -eq 0 ]
}

@test "unknown model: file:line, the value and the accepted values; exit 1" {
	conf '[server]' 'listen = 127.0.0.1:0' 'model = epol'
	run "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $CONF:3: model: unknown model \"epol\" (expected one of: $MODELS)" ]
	[ "${lines[1]}" = "evd: configuration $CONF has 1 error: test failed" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "every error of a file is reported, each with its line" {
	conf '[server]' 'modle = epoll' 'backlog = 0' 'idle_timeout = 5' \
		'[bogus]' 'x = 1' '[control]' 'mode = 0888' 'just words' \
		'[log]' 'level = loud'
	run "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $CONF:2: unknown key \"modle\" in [server] (expected one of: listen, protocol, model, workers, backlog, max_connections, idle_timeout, pin_workers, delay, request_timeout, drain_timeout, user)" ]
	[ "${lines[1]}" = "evd: $CONF:3: backlog: 0 is out of range (expected 1..65535)" ]
	[ "${lines[2]}" = "evd: $CONF:4: idle_timeout: \"5\" is not a duration (expected a number with a unit, ms or s, such as 250ms or 60s)" ]
	[ "${lines[3]}" = "evd: $CONF:5: unknown section [bogus] (expected one of: [server], [prefork], [http], [resp], [zmtp], [control], [probes], [log], [metrics])" ]
	[ "${lines[4]}" = "evd: $CONF:8: mode: \"0888\" is not a file mode (expected octal 0000..0777, such as 0660)" ]
	[ "${lines[5]}" = "evd: $CONF:9: expected \"key = value\", a [section] or a comment, got \"just words\"" ]
	[ "${lines[6]}" = "evd: $CONF:11: level: unknown level \"loud\" (expected one of: error, warning, info, debug)" ]
	[ "${lines[7]}" = "evd: configuration $CONF has 7 errors: test failed" ]
}

@test "listen errors name the address and the expected form" {
	conf '[server]' 'listen = localhost:80'
	run "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $CONF:2: listen: \"localhost\" is not a numeric IPv4 address (write IPv6 as [::1]:7777)" ]
	conf '[server]' 'listen = 127.0.0.1:70000'
	run "$EVD_BIN" -t -c "$CONF"
	[ "${lines[0]}" = "evd: $CONF:2: listen: port of \"127.0.0.1:70000\": 70000 is out of range (expected 0..65535)" ]
	conf '[server]' 'listen = 127.0.0.1:1, 127.0.0.1:1'
	run "$EVD_BIN" -t -c "$CONF"
	[ "${lines[0]}" = "evd: $CONF:2: listen: address 127.0.0.1:1 is listed twice" ]
}

@test "a duplicate key is an error that points at the first one" {
	conf '[server]' 'model = poll' 'model = epoll'
	run "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $CONF:3: duplicate key \"model\" in [server] (first set at $CONF:2); keep one" ]
}

@test "workers on a single-threaded model is a warning, not an error" {
	conf '[server]' 'model = select' 'workers = 4'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$(head -1 <<<"$stderr")" = "evd: warning: $CONF:3: workers = 4 is ignored: model select serves from one thread" ]
}

@test "a missing file: the reason and exit 1" {
	run "$EVD_BIN" -t -c "$BATS_TEST_TMPDIR/nope.ini"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $BATS_TEST_TMPDIR/nope.ini: cannot open: No such file or directory" ]
}

@test "only a regular file is read: /dev/zero, a FIFO and a directory are refused at once with what they are" {
	mkfifo "$BATS_TEST_TMPDIR/fifo"
	mkdir "$BATS_TEST_TMPDIR/dir"
	for f in /dev/zero:"a character device" "$BATS_TEST_TMPDIR/fifo":"a FIFO" \
		"$BATS_TEST_TMPDIR/dir":"a directory"; do
		# A hang (reading /dev/zero for ever, waiting for a FIFO's
		# writer) shows as status 124.
		run --separate-stderr timeout 10 "$EVD_BIN" -t -c "${f%%:*}"
		[ "$status" -eq 1 ]
		[ "${stderr_lines[0]}" = "evd: ${f%%:*}: cannot read: it is ${f#*:}, not a regular file" ]
		[ "${stderr_lines[1]}" = "evd: configuration ${f%%:*} has 1 error: test failed" ]
	done
}

@test "a file over 1 MiB is refused before it is read; a SIGHUP with a 400 MB comment line does not grow evd's memory" {
	# 1 MiB + 1 byte of valid lines: refused whole.
	{ echo '[server]'; yes '; a comment of 32 characters....' | head -c $((1024 * 1024 - 9)); echo; } >"$CONF"
	[ "$(stat -c %s "$CONF")" -eq $((1024 * 1024 + 1)) ]
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "evd: $CONF: cannot read: the file is larger than 1048576 bytes (1 MiB), the most a configuration may hold" ]
	truncate -s -1 "$CONF"
	run --separate-stderr "$EVD_BIN" -t -q -c "$CONF"
	[ "$status" -eq 0 ]

	evd_start
	hwm() { awk '/^VmHWM:/ { print $2 }' "/proc/$EVD_PID/status"; }
	before=$(hwm)
	# One comment line of 400 MB (sparse: NULs after "; ").
	printf '; ' >"$EVD_CONF"
	truncate -s 400M "$EVD_CONF"
	kill -HUP "$EVD_PID"
	wait_until 10 grep -q 'reload refused' "$EVD_LOG"
	grep -qF "reload: $EVD_CONF: cannot read: the file is larger than 1048576 bytes (1 MiB)" "$EVD_LOG"
	after=$(hwm)
	echo "# peak RSS before ${before} kB, after ${after} kB" >&3
	# Reading 1 MiB at most: far below 16 MiB of growth.
	[ $((after - before)) -lt 16384 ]
	evd_answers
	evd_stop
}

@test "evd -t: a [server] user or [control] group that does not exist is an error with its line" {
	conf '[server]' 'model = poll' 'user = evd-no-such-user' '[control]' 'group = evd-no-such-group'
	run --separate-stderr "$EVD_BIN" -t -q -c "$CONF"
	[ "$status" -eq 1 ]
	[ "$output" = "" ]
	[ "${#stderr_lines[@]}" -eq 3 ]
	[ "${stderr_lines[0]}" = "evd: $CONF:3: user: no such user \"evd-no-such-user\" (create it, e.g. \`systemd-sysusers\` or \`adduser --system evd-no-such-user\`, or change the key)" ]
	[ "${stderr_lines[1]}" = "evd: $CONF:5: group: no such group \"evd-no-such-group\" (create it, e.g. \`groupadd --system evd-no-such-group\`, or leave group empty)" ]
	[ "${stderr_lines[2]}" = "evd: configuration $CONF has 2 errors: test failed" ]
	# Existing ones, from the file or -o, pass.
	run --separate-stderr "$EVD_BIN" -t -q -c "$CONF" -o server.user=nobody -o control.group=nogroup
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	run --separate-stderr "$EVD_BIN" -t -q -c "$CONF" -o server.user=nobody
	[ "$status" -eq 1 ]
	[ "${stderr_lines[0]}" = "evd: $CONF:5: group: no such group \"evd-no-such-group\" (create it, e.g. \`groupadd --system evd-no-such-group\`, or leave group empty)" ]
}

@test "evd -t: the unknown user and group errors are reported with every other error" {
	conf '[server]' 'model = nope' 'user = evd-no-such-user' '[control]' 'group = evd-no-such-group' 'mode = 9999'
	run --separate-stderr "$EVD_BIN" -t -q -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 5 ]
	[ "${stderr_lines[0]}" = "evd: $CONF:2: model: unknown model \"nope\" (expected one of: $MODELS)" ]
	[ "${stderr_lines[1]}" = "evd: $CONF:6: mode: \"9999\" is not a file mode (expected octal 0000..0777, such as 0660)" ]
	[ "${stderr_lines[2]}" = "evd: $CONF:3: user: no such user \"evd-no-such-user\" (create it, e.g. \`systemd-sysusers\` or \`adduser --system evd-no-such-user\`, or change the key)" ]
	[ "${stderr_lines[3]}" = "evd: $CONF:5: group: no such group \"evd-no-such-group\" (create it, e.g. \`groupadd --system evd-no-such-group\`, or leave group empty)" ]
	[ "${stderr_lines[4]}" = "evd: configuration $CONF has 4 errors: test failed" ]
}

@test "evd -t quotes a value that would not read back (\" ;\", #, a leading quote, blanks at the ends): its output, read again, is the same configuration" {
	conf '[http]' 'body = "a ; b"' '[control]' "socket = \"$BATS_TEST_TMPDIR/e #1.sock\""
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 0 ]
	grep -qx "body = \"a ; b\"	; $CONF:2" <<<"$output"
	grep -qx "socket = \"$BATS_TEST_TMPDIR/e #1.sock\"	; $CONF:4" <<<"$output"
	first=$output
	# The same from -o, with a quote and blanks at the ends.
	run --separate-stderr "$EVD_BIN" -t -c "$CONF" -o 'http.body= say "hi" ; bye '
	[ "$status" -eq 0 ]
	grep -qx 'body = " say \\"hi\\" ; bye "	; -o http.body= say "hi" ; bye ' <<<"$output"
	# Each output, read again, prints the same values.
	for out in "$first" "$output"; do
		printf '%s\n' "$out" >"$BATS_TEST_TMPDIR/again.ini"
		run --separate-stderr "$EVD_BIN" -t -c "$BATS_TEST_TMPDIR/again.ini"
		[ "$status" -eq 0 ]
		diff <(sed 's/	;.*//' <<<"$out") <(sed 's/	;.*//' <<<"$output")
	done
}

@test "-o overrides the file and is checked like it" {
	conf '[server]' 'model = poll'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF" -o server.model=select -o log.level=debug
	[ "$status" -eq 0 ]
	grep -qx 'model = select	; -o server.model=select' <<<"$output"
	run "$EVD_BIN" -t -c "$CONF" -o server.model
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: -o server.model: expected SECTION.KEY=VALUE, such as server.model=poll" ]
	run "$EVD_BIN" -t -c "$CONF" -o server.workers=0
	[ "${lines[0]}" = "evd: -o server.workers=0: workers: 0 is out of range (expected auto or 1..4096)" ]
}

@test "a broken config never starts the daemon: exit 78 (EX_CONFIG: evd.service does not restart it), no socket, no listener" {
	conf '[server]' 'listen = 127.0.0.1:0' 'model = nope' '[control]' "socket = $SOCK"
	run timeout 10 "$EVD_BIN" -c "$CONF"
	[ "$status" -eq 78 ]
	[ "${lines[1]}" = "evd: configuration $CONF has 1 error: not starting" ]
	[ ! -e "$SOCK" ]
}

@test "usage: -h prints help (exit 0), a bad option prints it to stderr (exit 2), -V the version" {
	run --separate-stderr "$EVD_BIN" -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: evd [-c FILE] "* ]]
	run --separate-stderr "$EVD_BIN" -Z
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	grep -q '^usage: evd' <<<"$stderr"
	run "$EVD_BIN" extra
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = 'evd: unexpected argument "extra"' ]
	run "$EVD_BIN" -V
	[ "$status" -eq 0 ]
	[[ $output =~ ^evd\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "a port in use: a clear startup error naming the address, exit 1" {
	# A first evd holds a port; a second one on that port must fail.
	evd_start
	port=$EVD_PORT
	SOCK=$BATS_TEST_TMPDIR/second.sock
	conf '[server]' "listen = 127.0.0.1:$port" '[control]' "socket = $SOCK"
	run timeout 10 "$EVD_BIN" -c "$CONF"
	[ "$status" -eq 1 ]
	grep -q "error: cannot listen on 127.0.0.1:$port: Address already in use (another server holds that port: stop it or change listen in the config)" <<<"$output"
	[ ! -e "$SOCK" ]
	evd_stop
}

# The models each key shapes (their flags in daemon/models/*.c), as the
# warnings list them.  A change here is a documented behaviour change.
PREFORK_KEY_MODELS="prefork"
PINNABLE_MODELS="prefork, prethread, reuseport"

@test "[prefork] and pin_workers: bad values and keys are errors with exact messages; exit 1" {
	conf '[server]' 'model = prefork' 'pin_workers = true' \
		'[prefork]' 'accept_lock = sem' 'reuseport = 1' 'lock = fcntl' 'pin_workers = no'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	mapfile -t err <<<"$stderr"
	[ "${err[0]}" = "evd: $CONF:3: pin_workers: \"true\" is not yes or no" ]
	[ "${err[1]}" = "evd: $CONF:5: accept_lock: unknown lock \"sem\" (expected one of: none, fcntl, flock, mutex)" ]
	[ "${err[2]}" = "evd: $CONF:6: reuseport: \"1\" is not yes or no" ]
	[ "${err[3]}" = "evd: $CONF:7: unknown key \"lock\" in [prefork] (expected one of: accept_lock, reuseport)" ]
	[ "${err[4]}" = "evd: $CONF:8: unknown key \"pin_workers\" in [prefork] (expected one of: accept_lock, reuseport)" ]
	[ "${err[5]}" = "evd: configuration $CONF has 5 errors: test failed" ]
	[ "${#err[@]}" -eq 6 ]
	conf '[server]' 'accept_lock = fcntl'
	run "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $CONF:2: unknown key \"accept_lock\" in [server] (expected one of: listen, protocol, model, workers, backlog, max_connections, idle_timeout, pin_workers, delay, request_timeout, drain_timeout, user)" ]
	run "$EVD_BIN" -t -c /dev/null -o prefork.accept_lock=FLOCK -o prefork.reuseport=on -o server.pin_workers=
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: -o prefork.accept_lock=FLOCK: accept_lock: unknown lock \"FLOCK\" (expected one of: none, fcntl, flock, mutex)" ]
	[ "${lines[1]}" = "evd: -o prefork.reuseport=on: reuseport: \"on\" is not yes or no" ]
	[ "${lines[2]}" = "evd: -o server.pin_workers=: pin_workers: \"\" is not yes or no" ]
	[ "${lines[3]}" = "evd: configuration /dev/null has 3 errors: test failed" ]
	[ "${#lines[@]}" -eq 4 ]
}

@test "evd -t prints each accept_lock, reuseport and pin_workers value with where it was set; prefork gives no warning" {
	for lock in none fcntl flock mutex; do
		conf '[server]' 'model = prefork' 'workers = 3' '[prefork]' "accept_lock = $lock"
		run --separate-stderr "$EVD_BIN" -t -c "$CONF"
		[ "$status" -eq 0 ]
		[ "$stderr" = "evd: configuration $CONF is valid" ]
		grep -qx "accept_lock = $lock	; $CONF:5" <<<"$output"
		grep -qx "reuseport = no	; default" <<<"$output"
		grep -qx "pin_workers = no	; default" <<<"$output"
		grep -qx "workers = 3	; $CONF:3" <<<"$output"
	done
	conf '[server]' 'model = prefork' 'pin_workers = yes' '[prefork]' 'reuseport = yes'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF" -o prefork.accept_lock=none
	[ "$status" -eq 0 ]
	[ "$stderr" = "evd: configuration $CONF is valid" ]
	grep -qx "pin_workers = yes	; $CONF:3" <<<"$output"
	grep -qx "reuseport = yes	; $CONF:5" <<<"$output"
	grep -qx "accept_lock = none	; -o prefork.accept_lock=none" <<<"$output"
	# The printed file is valid input again, with the same values.
	printf '%s\n' "$output" >"$BATS_TEST_TMPDIR/again.ini"
	run --separate-stderr "$EVD_BIN" -t -c "$BATS_TEST_TMPDIR/again.ini"
	[ "$status" -eq 0 ]
	line=$(grep -n '^reuseport = ' "$BATS_TEST_TMPDIR/again.ini" | cut -d: -f1)
	grep -qx "reuseport = yes	; $BATS_TEST_TMPDIR/again.ini:$line" <<<"$output"
}

@test "keys a model does not use are warnings naming the models they shape, from a file and from -o" {
	conf '[server]' 'model = epoll' 'pin_workers = yes' \
		'[prefork]' 'accept_lock = fcntl' 'reuseport = no'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 0 ]
	mapfile -t err <<<"$stderr"
	[ "${err[0]}" = "evd: warning: $CONF:3: [server] pin_workers is ignored: model epoll does not use it (it shapes: $PINNABLE_MODELS)" ]
	[ "${err[1]}" = "evd: warning: $CONF:5: [prefork] accept_lock is ignored: model epoll does not use it (it shapes: $PREFORK_KEY_MODELS)" ]
	[ "${err[2]}" = "evd: warning: $CONF:6: [prefork] reuseport is ignored: model epoll does not use it (it shapes: $PREFORK_KEY_MODELS)" ]
	[ "${err[3]}" = "evd: configuration $CONF is valid" ]
	[ "${#err[@]}" -eq 4 ]
	# The values are still printed as read.
	grep -qx "accept_lock = fcntl	; $CONF:5" <<<"$output"
	run --separate-stderr "$EVD_BIN" -t -c /dev/null -o server.model=iterative -o server.workers=2 -o prefork.reuseport=yes
	[ "$status" -eq 0 ]
	mapfile -t err <<<"$stderr"
	[ "${err[0]}" = "evd: warning: -o server.workers=2: workers = 2 is ignored: model iterative serves from one thread" ]
	[ "${err[1]}" = "evd: warning: -o prefork.reuseport=yes: [prefork] reuseport is ignored: model iterative does not use it (it shapes: $PREFORK_KEY_MODELS)" ]
	[ "${#err[@]}" -eq 3 ]
}

@test "the model list in each warning is exactly the models that take the key without a warning" {
	mapfile -t models < <("$EVD_BIN" --list-models | awk '{print $1}')
	[ "${#models[@]}" -eq 12 ]
	[ "$(printf '%s, ' "${models[@]}")" = "$MODELS, " ]
	quiet_pin=() quiet_lock=()
	for m in "${models[@]}"; do
		run --separate-stderr "$EVD_BIN" -t -c /dev/null -o "server.model=$m" -o server.pin_workers=no
		[ "$status" -eq 0 ]
		if [ "$stderr" = "evd: configuration /dev/null is valid" ]; then
			quiet_pin+=("$m")
		else
			[ "$stderr" = "evd: warning: -o server.pin_workers=no: [server] pin_workers is ignored: model $m does not use it (it shapes: $PINNABLE_MODELS)
evd: configuration /dev/null is valid" ]
		fi
		run --separate-stderr "$EVD_BIN" -t -c /dev/null -o "server.model=$m" -o prefork.accept_lock=mutex
		[ "$status" -eq 0 ]
		if [ "$stderr" = "evd: configuration /dev/null is valid" ]; then
			quiet_lock+=("$m")
		else
			[ "$stderr" = "evd: warning: -o prefork.accept_lock=mutex: [prefork] accept_lock is ignored: model $m does not use it (it shapes: $PREFORK_KEY_MODELS)
evd: configuration /dev/null is valid" ]
		fi
	done
	echo "quiet with pin_workers: ${quiet_pin[*]}; with accept_lock: ${quiet_lock[*]}"
	[ "$(IFS=,; echo "${quiet_pin[*]}" | sed 's/,/, /g')" = "$PINNABLE_MODELS" ]
	[ "$(IFS=,; echo "${quiet_lock[*]}" | sed 's/,/, /g')" = "$PREFORK_KEY_MODELS" ]
}

@test "accept_lock with reuseport = yes is a warning: each worker accepts on its own socket" {
	for lock in fcntl flock mutex; do
		conf '[server]' 'model = prefork' '[prefork]' "accept_lock = $lock" 'reuseport = yes'
		run --separate-stderr "$EVD_BIN" -t -c "$CONF"
		[ "$status" -eq 0 ]
		[ "$stderr" = "evd: warning: $CONF:4: accept_lock = $lock is ignored with reuseport = yes: each worker accepts on its own socket
evd: configuration $CONF is valid" ]
	done
	conf '[server]' 'model = prefork' '[prefork]' 'accept_lock = none' 'reuseport = yes'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 0 ]
	[ "$stderr" = "evd: configuration $CONF is valid" ]
	run --separate-stderr "$EVD_BIN" -t -c "$CONF" -o prefork.accept_lock=flock
	[ "$status" -eq 0 ]
	[ "$stderr" = "evd: warning: -o prefork.accept_lock=flock: accept_lock = flock is ignored with reuseport = yes: each worker accepts on its own socket
evd: configuration $CONF is valid" ]
	# -o reuseport=no puts the lock back in use: no warning.
	conf '[server]' 'model = prefork' '[prefork]' 'accept_lock = fcntl' 'reuseport = yes'
	run --separate-stderr "$EVD_BIN" -t -c "$CONF" -o prefork.reuseport=no
	[ "$status" -eq 0 ]
	[ "$stderr" = "evd: configuration $CONF is valid" ]
}

@test "a warning does not stop evd: it is logged at startup and evd serves" {
	evd_start server.model=epoll prefork.accept_lock=flock
	grep -qx "evd: warning: $EVD_CONF:[0-9]*: \[prefork\] accept_lock is ignored: model epoll does not use it (it shapes: $PREFORK_KEY_MODELS)" "$EVD_LOG"
	run "$EVCTL_BIN" -s "$EVD_SOCK" ping
	[ "$status" -eq 0 ]
	evd_stop
}

@test "evd --list-keys: every key evd -t prints, in its order, with its default and a line of help" {
	run --separate-stderr "$EVD_BIN" --list-keys
	[ "$status" -eq 0 ]
	[ "$stderr" = "" ]
	keys=$output
	run --separate-stderr "$EVD_BIN" -t -c /dev/null
	[ "$status" -eq 0 ]
	# section.key default, from evd -t's output of the defaults.
	want=$(awk '/^\[/ { s = substr($0, 2, length($0) - 2) } / = / {
		v = $0; sub(/^[^=]* = /, "", v); sub(/\t;.*/, "", v)
		print s "." $1, (v == "" ? "\"\"" : v) }' <<<"$output")
	got=$(awk '{ printf "%s ", $1; d = substr($0, 26, 18); sub(/ +$/, "", d); print d }' <<<"$keys")
	diff <(echo "$want") <(echo "$got")
	# Each line has help after the default.
	while read -r line; do
		[ "${#line}" -gt 44 ]
	done <<<"$keys"
	[ "$(wc -l <<<"$keys")" -eq "$(grep -c ' = ' <<<"$output")" ]
}

@test "golden files: evd -t over each conf/tests/*.ini and conf/examples/*.ini prints its .ok, byte for byte" {
	run "$BATS_TEST_DIRNAME/../golden"
	echo "$output"
	[ "$status" -eq 0 ]
	# Every case ran: one TAP line each.
	n=$(ls "$BATS_TEST_DIRNAME"/../../conf/tests/*.ini "$BATS_TEST_DIRNAME"/../../conf/examples/*.ini | wc -l)
	[ "$(grep -c '^ok ' <<<"$output")" -eq "$n" ]
	[ "$n" -ge 30 ]
}

@test "conf/examples: one per model, each valid without a warning and naming its model" {
	examples=$BATS_TEST_DIRNAME/../../conf/examples
	mapfile -t models < <("$EVD_BIN" --list-models | awk '{print $1}')
	[ "${#models[@]}" -ge 12 ]
	for m in "${models[@]}"; do
		run --separate-stderr "$EVD_BIN" -t -q -c "$examples/$m.ini"
		[ "$status" -eq 0 ] || { echo "$m: $stderr"; false; }
		[ "$stderr" = "" ] || { echo "$m: $stderr"; false; }
		run --separate-stderr "$EVD_BIN" -t -c "$examples/$m.ini"
		grep -qx "model = $m	; $examples/$m.ini:[0-9]*" <<<"$output"
	done
	# No example for a model that does not exist.
	[ "$(ls "$examples" | wc -l)" -eq "${#models[@]}" ]
}
