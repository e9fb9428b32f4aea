# evd's command line and configuration errors: exact messages, exit codes,
# and no half-started daemon.

bats_require_minimum_version 1.5.0
load helpers

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

@test "evd -t on the shipped conf/evd.ini: valid, prints every effective key" {
	run --separate-stderr "$EVD_BIN" -t -c "$BATS_TEST_DIRNAME/../../conf/evd.ini"
	[ "$status" -eq 0 ]
	[ "$stderr" = "evd: configuration $BATS_TEST_DIRNAME/../../conf/evd.ini is valid" ]
	grep -qx 'listen = 127.0.0.1:7777	; .*conf/evd.ini:11' <<<"$output"
	grep -qx 'model = epoll	; .*conf/evd.ini:18' <<<"$output"
	[ "$(grep -c ' = ' <<<"$output")" -eq 10 ]
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
	[ "${lines[0]}" = "evd: $CONF:3: model: unknown model \"epol\" (expected one of: iterative, select, poll, epoll)" ]
	[ "${lines[1]}" = "evd: configuration $CONF has 1 error: test failed" ]
	[ "${#lines[@]}" -eq 2 ]
}

@test "every error of a file is reported, each with its line" {
	conf '[server]' 'modle = epoll' 'backlog = 0' 'idle_timeout = 5' \
		'[bogus]' 'x = 1' '[control]' 'mode = 0888' 'just words' \
		'[log]' 'level = loud'
	run "$EVD_BIN" -t -c "$CONF"
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "evd: $CONF:2: unknown key \"modle\" in [server] (expected one of: listen, protocol, model, workers, backlog, max_connections, idle_timeout)" ]
	[ "${lines[1]}" = "evd: $CONF:3: backlog: 0 is out of range (expected 1..65535)" ]
	[ "${lines[2]}" = "evd: $CONF:4: idle_timeout: \"5\" is not a duration (expected a number with a unit, ms or s, such as 250ms or 60s)" ]
	[ "${lines[3]}" = "evd: $CONF:5: unknown section [bogus] (expected one of: [server], [control], [log])" ]
	[ "${lines[4]}" = "evd: $CONF:8: mode: \"0888\" is not a file mode (expected octal 0000..0777, such as 0660)" ]
	[ "${lines[5]}" = "evd: $CONF:9: expected \"key = value\", a [section] or a comment, got \"just words\"" ]
	[ "${lines[6]}" = "evd: $CONF:11: level: unknown level \"loud\" (expected one of: debug, info, warning, error)" ]
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

@test "a broken config never starts the daemon: exit 1, no socket, no listener" {
	conf '[server]' 'listen = 127.0.0.1:0' 'model = nope' '[control]' "socket = $SOCK"
	run timeout 10 "$EVD_BIN" -c "$CONF"
	[ "$status" -eq 1 ]
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
