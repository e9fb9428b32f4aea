# [metrics] listen: evd's Prometheus text at /metrics over HTTP, served by
# the control thread: exact replies, the same families as evctl metrics,
# bounded and hostile requests, idle connections, bind failures, reload.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	local fd
	for fd in ${IDLE_FDS:-}; do
		exec {fd}>&- 2>/dev/null || true
	done
	evd_cleanup
}

ctl() {
	"$EVCTL_BIN" -s "$EVD_SOCK" "$@"
}

# metrics_start [SECTION.KEY=VALUE...]: evd_start with [metrics] listen on a
# free loopback port; sets MPORT (from evd's log line) and MURL.
metrics_start() {
	evd_start metrics.listen=127.0.0.1:0 "$@"
	MURL=$(sed -n 's,.*info: metrics: serving \(http://127\.0\.0\.1:[0-9]*/metrics\)$,\1,p' "$EVD_LOG")
	[ -n "$MURL" ] || { cat "$EVD_LOG" >&2; false; }
	MPORT=${MURL#http://127.0.0.1:}
	MPORT=${MPORT%/metrics}
}

# get PATH [CURL ARGS...]: the reply's head into $BATS_TEST_TMPDIR/head and
# body into .../body; curl's exit status.
get() {
	local path=$1
	shift
	curl -s --max-time 10 -D "$BATS_TEST_TMPDIR/head" -o "$BATS_TEST_TMPDIR/body" \
		"$@" "http://127.0.0.1:$MPORT$path"
}

# head_is STATUS-LINE HEADER...: the head is exactly these lines, CRLF ended.
head_is() {
	local want
	want=$(printf '%s\r\n' "$@" '')
	[ "$(cat "$BATS_TEST_TMPDIR/head")" = "$want" ] ||
		{ echo "head:" >&2; cat -A "$BATS_TEST_TMPDIR/head" >&2; false; }
}

# series FILE: the series of a Prometheus text (names and labels, no value).
series() {
	grep -v '^#' "$1" | sed 's/ [^ ]*$//' | sort
}

@test "GET /metrics: 200, the Prometheus text type, Content-Length, Connection: close; promtool passes; evctl metrics' families and series" {
	command -v promtool >/dev/null || skip "promtool is missing (packaging/deps.sh --test installs prometheus)"
	metrics_start
	grep -qx "evd\[$EVD_PID\]: info: metrics: serving $MURL" "$EVD_LOG"
	get /metrics
	size=$(stat -c %s "$BATS_TEST_TMPDIR/body")
	head_is 'HTTP/1.1 200 OK' 'Content-Type: text/plain; version=0.0.4; charset=utf-8' \
		"Content-Length: $size" 'Connection: close'
	run -0 promtool check metrics <"$BATS_TEST_TMPDIR/body"
	ctl metrics >"$BATS_TEST_TMPDIR/evctl"
	# The same HELP and TYPE lines, the same series (values move).
	diff <(grep '^#' "$BATS_TEST_TMPDIR/evctl") <(grep '^#' "$BATS_TEST_TMPDIR/body")
	diff <(series "$BATS_TEST_TMPDIR/evctl") <(series "$BATS_TEST_TMPDIR/body")
	grep -q '^evd_request_duration_seconds_bucket{model="epoll",protocol="echo",le="+Inf"} 0$' "$BATS_TEST_TMPDIR/body"
	grep -q '^evd_worker_requests_total{' "$BATS_TEST_TMPDIR/body"
	# A query string is the same resource; HEAD is the head alone.
	get '/metrics?x=1'
	head -1 "$BATS_TEST_TMPDIR/head" | grep -qx $'HTTP/1.1 200 OK\r'
	run -0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf 'HEAD /metrics HTTP/1.0\r\n\r\n' >&3; cat <&3"
	[[ $output == $'HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: '*$'\r\nConnection: close\r\n\r' ]]
	evd_stop
}

@test "evd_requests_total in /metrics equals evctl's count after a bounded load" {
	metrics_start
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 5 -m 10 -s 100 -T 60
	wait_stat requests 50
	get /metrics
	grep -qx 'evd_requests_total{model="epoll",protocol="echo"} 50' "$BATS_TEST_TMPDIR/body"
	grep -qx 'evd_request_duration_seconds_count{model="epoll",protocol="echo"} 50' "$BATS_TEST_TMPDIR/body"
	grep -qx 'evd_connections_accepted_total{model="epoll",protocol="echo"} 5' "$BATS_TEST_TMPDIR/body"
	[ "$(stat_of requests)" = 50 ]
	evd_stop
}

@test "another path 404, another method 405 with Allow, a head over 8 KiB 431, a bad request line 400, HTTP/2.0 505: exact replies" {
	metrics_start
	get /
	head_is 'HTTP/1.1 404 Not Found' 'Content-Type: text/plain; charset=utf-8' \
		'Content-Length: 31' 'Connection: close'
	[ "$(cat "$BATS_TEST_TMPDIR/body")" = 'not found: evd serves /metrics' ]
	get /metricsx
	head -1 "$BATS_TEST_TMPDIR/head" | grep -qx $'HTTP/1.1 404 Not Found\r'
	get /metrics -X POST -d 'a=1'
	head_is 'HTTP/1.1 405 Method Not Allowed' 'Content-Type: text/plain; charset=utf-8' \
		'Content-Length: 44' 'Allow: GET, HEAD' 'Connection: close'
	[ "$(cat "$BATS_TEST_TMPDIR/body")" = 'method not allowed: evd serves GET /metrics' ]
	get /metrics -X DELETE
	head -1 "$BATS_TEST_TMPDIR/head" | grep -qx $'HTTP/1.1 405 Method Not Allowed\r'
	# 9 KiB of headers: 431 once 8 KiB are in, and the connection closes.
	get /metrics -H "X-Big: $(head -c 9216 /dev/zero | tr '\0' a)"
	head_is 'HTTP/1.1 431 Request Header Fields Too Large' \
		'Content-Type: text/plain; charset=utf-8' 'Content-Length: 29' 'Connection: close'
	[ "$(cat "$BATS_TEST_TMPDIR/body")" = 'request head over 8192 bytes' ]
	# Raw bytes: a malformed request line is answered as soon as it is
	# whole; a version other than 1.0 and 1.1 is 505.
	run -0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET  /metrics HTTP/1.1\r\n' >&3; cat <&3"
	[ "$output" = $'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\nConnection: close\r\n\r\nbad request: evd serves GET /metrics' ]
	run -0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; printf 'GET /metrics HTTP/2.0\r\n\r\n' >&3; cat <&3"
	[ "${lines[0]}" = $'HTTP/1.1 505 HTTP Version Not Supported\r' ]
	# Binary garbage with newlines: 400, and evd goes on.
	run -0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$MPORT; head -c 20000 /dev/urandom | tr '\0' '\n' >&3 2>/dev/null; timeout 10 cat <&3 | head -1"
	[[ ${lines[0]} == $'HTTP/1.1 4'[03][01]* ]]
	get /metrics
	head -1 "$BATS_TEST_TMPDIR/head" | grep -qx $'HTTP/1.1 200 OK\r'
	run -0 ctl ping
	evd_stop
}

@test "20 idle connections to /metrics: at most 16 held, the oldest idle ones closed; evctl ping and another scraper are served" {
	metrics_start
	IDLE_FDS=
	for i in $(seq 1 20); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$MPORT"
		IDLE_FDS="$IDLE_FDS $fd"
	done
	# 16 held at most: the 17th to 20th took the slots of the 1st to 4th.
	wait_until 10 bash -c "[ \$(ss -Htn state established '( sport = :$MPORT )' | wc -l) -eq 16 ]"
	# The first one reads end of file (1), not a timeout (124).
	first=${IDLE_FDS# }
	first=${first%% *}
	run -1 timeout 10 bash -c "read -r -u $first line"
	run -0 timeout 10 "$EVCTL_BIN" -T 5 -s "$EVD_SOCK" ping
	get /metrics
	head -1 "$BATS_TEST_TMPDIR/head" | grep -qx $'HTTP/1.1 200 OK\r'
	grep -q '^evd_requests_total{' "$BATS_TEST_TMPDIR/body"
	# The scraper took the slot of the 5th; it is gone too once read.
	wait_until 10 bash -c "[ \$(ss -Htn state established '( sport = :$MPORT )' | wc -l) -eq 15 ]"
	# The serving side never noticed.
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 1 -n 3 -m 10 -s 10 -T 60
	wait_stat requests 30
	evd_stop
}

@test "a [metrics] listen address that cannot be bound stops evd at start with the address and the reason" {
	metrics_start
	taken=$MPORT
	other=$BATS_TEST_TMPDIR/other
	mkdir "$other"
	EVD_SOCK=$other/evd.sock evd_config "$other/evd.ini" metrics.listen="127.0.0.1:$taken"
	run -1 --separate-stderr timeout 10 "$EVD_BIN" -c "$other/evd.ini"
	grep -qF "[metrics] listen = 127.0.0.1:$taken: cannot listen: Address already in use (another server holds that port: stop it or change [metrics] listen)" <<<"$stderr" ||
		{ echo "$stderr" >&2; false; }
	[ ! -e "$other/evd.sock" ]
	# evd -t checks the syntax.
	run -1 --separate-stderr "$EVD_BIN" -t -c /dev/null -o metrics.listen=localhost:9477
	[ "$stderr" = 'evd: -o metrics.listen=localhost:9477: listen: "localhost" is not a numeric IPv4 address (write IPv6 as [::1]:7777)
evd: configuration /dev/null has 1 error: test failed' ] || { echo "$stderr" >&2; false; }
	evd_stop
}

@test "reload: a change of [metrics] listen is not applied until evd restarts; /metrics stays where it was" {
	metrics_start
	evd_config "$EVD_CONF" metrics.listen=127.0.0.1:1
	run -0 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	echo "out: $output err: $stderr" >&2
	grep -q 'metrics.listen' <<<"$stderr"
	grep -q 'reload: metrics.listen changed: only a restart of evd applies that (systemctl restart evd); keeping the running value' "$EVD_LOG"
	get /metrics
	head -1 "$BATS_TEST_TMPDIR/head" | grep -qx $'HTTP/1.1 200 OK\r'
	evd_stop
}

@test "the syscall probes' counts and histograms are in /metrics while they count, as in evctl metrics" {
	[ "$(id -u)" -eq 0 ] || skip "loading the eBPF probes needs root (CAP_BPF and CAP_PERFMON)"
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	metrics_start probes.syscalls=auto
	grep -q 'syscall probes' "$EVD_LOG" || true
	if ! ctl syscalls >/dev/null 2>&1; then
		skip "the probes did not load here: $(grep -m1 'probes' "$EVD_LOG")"
	fi
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 2 -n 5 -m 10 -s 10 -T 60
	wait_stat requests 50
	get /metrics
	grep -qE '^evd_syscalls_total\{model="epoll",protocol="echo",syscall="sendto"\} [0-9]+$' "$BATS_TEST_TMPDIR/body"
	grep -qE '^evd_syscall_duration_seconds_bucket\{model="epoll",protocol="echo",syscall="sendto",le="\+Inf"\} [0-9]+$' "$BATS_TEST_TMPDIR/body"
	grep -qx 'evd_syscall_probe_requests_total{model="epoll",protocol="echo"} 50' "$BATS_TEST_TMPDIR/body"
	ctl metrics >"$BATS_TEST_TMPDIR/evctl"
	diff <(grep '^# TYPE' "$BATS_TEST_TMPDIR/evctl") <(grep '^# TYPE' "$BATS_TEST_TMPDIR/body")
	# Off: the families go.
	run -0 ctl syscalls off
	get /metrics
	! grep -q '^evd_syscalls_total' "$BATS_TEST_TMPDIR/body"
	evd_stop
}

@test "[metrics] listen on IPv6 loopback: [::1]:PORT serves /metrics; HEAD of another path is 404 with no body" {
	[ -e /proc/net/if_inet6 ] && grep -q '^0\{31\}1 ' /proc/net/if_inet6 || skip "no IPv6 loopback here"
	evd_start metrics.listen=[::1]:0
	murl=$(sed -n 's,.*info: metrics: serving \(http://\[::1\]:[0-9]*/metrics\)$,\1,p' "$EVD_LOG")
	[ -n "$murl" ] || { cat "$EVD_LOG" >&2; false; }
	run -0 curl -sg --max-time 10 -o /dev/null -w '%{http_code}' "$murl"
	[ "$output" = 200 ]
	port=${murl##*:}
	port=${port%/metrics}
	run -0 bash -c "exec 3<>/dev/tcp/::1/$port; printf 'HEAD /x HTTP/1.1\r\n\r\n' >&3; cat <&3"
	[ "$output" = $'HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 31\r\nConnection: close\r\n\r' ]
	evd_stop
}
