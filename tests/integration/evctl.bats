# evctl's own shape and its operator views: the command table (help, usage
# errors, unknown commands), the typed JSON, Prometheus text checked by
# promtool, stats --watch, top (plain, and full screen inside tmux), and a
# client-side reading of multi-line reload replies.

bats_require_minimum_version 1.5.0
load helpers

teardown() {
	local p
	for p in ${PROM_PIDS:-}; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "${TMUX_SOCK:-}" ]; then
		tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
	fi
	if [ -n "${FAKE_PID:-}" ]; then
		kill "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
	fi
	evd_cleanup
}

ctl() {
	"$EVCTL_BIN" -s "$EVD_SOCK" "$@"
}

# commands: the command names of `evctl help`, one per line.
commands() {
	"$EVCTL_BIN" help | awk '/^Commands/ { on = 1; next } /^$/ { if (on) exit }
		on && /^  [a-z]/ { print $1 }'
}

@test "evctl help lists every command; COMMAND --help and help COMMAND print its usage; exit 0" {
	run -0 commands
	[ "$output" = "stats
workers
syscalls
top
metrics
profile
reload
ping
version
raw
help" ]
	for c in $(commands); do
		run -0 --separate-stderr "$EVCTL_BIN" "$c" --help
		[[ ${lines[0]} == "usage: evctl [-s SOCKET] [-T SECONDS] [-o FORMAT] $c"* ]]
		[ -z "$stderr" ]
		[ "$("$EVCTL_BIN" help "$c")" = "$output" ]
		grep -q '^  output formats (-o): ' <<<"$output"
	done
	# reload says it needs privileges, in both places.
	run -0 "$EVCTL_BIN" reload --help
	grep -qx "  changes evd's state: root or evd's own user only" <<<"$output"
	run -0 "$EVCTL_BIN" help
	grep -qx '  reload     re-read evd.ini, as SIGHUP does, and wait for the outcome \[admin\]' <<<"$output"
}

@test "unknown and abbreviated commands are usage errors that list the commands, before any connection" {
	all='stats, workers, syscalls, top, metrics, profile, reload, ping, version, raw or help'
	none=$BATS_TEST_TMPDIR/none.sock
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" frobnicate
	[ "$stderr" = "evctl: unknown command \"frobnicate\" (expected $all)" ]
	[ -z "$output" ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" st
	[ "$stderr" = "evctl: unknown command \"st\" (did you mean stats? commands are not abbreviated; expected $all)" ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" s
	[ "$stderr" = "evctl: unknown command \"s\" (did you mean stats or syscalls? commands are not abbreviated; expected $all)" ]
	run -2 --separate-stderr "$EVCTL_BIN" help nosuch
	[ "$stderr" = "evctl: unknown command \"nosuch\" (expected $all)" ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" stats --hist x
	[ "$stderr" = 'evctl: unknown option "--hist" for stats (evctl stats --help lists its options)' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" -x stats
	[ "$stderr" = 'evctl: unknown option "-x" (evctl help lists the options)' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" stats -T
	[ "$stderr" = 'evctl: -T needs an argument' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" ping extra
	[ "$stderr" = 'evctl: ping takes no argument (got "extra")' ]
	# A format a command does not print.
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" reload -o prometheus
	[ "$stderr" = 'evctl: reload has no prometheus output (it prints text or json)' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" top -o json
	[ "$stderr" = 'evctl: top has no json output (it prints text)' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" stats --watch 1 -o json
	[ "$stderr" = 'evctl: --watch prints text lines (no -o json)' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" stats --count 3
	[ "$stderr" = 'evctl: --count goes with --watch S' ]
	run -2 --separate-stderr "$EVCTL_BIN" -s "$none" syscalls --interval 1 -o prometheus
	[ "$stderr" = 'evctl: syscalls: -o prometheus shows the totals (no action, no --interval: Prometheus takes the rates)' ]
}

@test "evctl raw with an empty or blank line is a usage error at once (evd answers nothing to it)" {
	evd_start
	for line in "" "   " "	"; do
		run -2 --separate-stderr timeout 5 "$EVCTL_BIN" -s "$EVD_SOCK" raw "$line"
		[ "$stderr" = 'evctl: raw needs a command line (try: evctl raw help)' ]
		[ -z "$output" ]
	done
	run -2 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw
	[ "$stderr" = 'evctl: raw needs a command line (try: evctl raw help)' ]
	long=$(printf 'x%.0s' $(seq 1 1025))
	run -2 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" raw "$long"
	[ "$stderr" = 'evctl: command line too long (at most 1024 bytes)' ]
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" raw ping
	[ "${lines[0]}" = "pid $EVD_PID" ]
	evd_stop
}

@test "JSON: schema 1, listen an array, numbers typed, latency null before the first request" {
	evd_start "server.listen=127.0.0.1:0, [::1]:0"
	json=$(ctl stats -o json)
	[ "$(jq -c '[.schema, (.listen | type), (.listen | length)]' <<<"$json")" = '[1,"array",2]' ]
	[ "$(jq -r '.listen[0]' <<<"$json")" = "127.0.0.1:$EVD_PORT" ]
	[[ $(jq -r '.listen[1]' <<<"$json") == "[::1]:"[1-9]* ]]
	[ "$(jq -c '[.pid, .workers, .requests, .uptime_seconds, .cpu_user_seconds] | map(type)' <<<"$json")" = '["number","number","number","number","number"]' ]
	[ "$(jq -c '[.model, .protocol, .version] | map(type)' <<<"$json")" = '["string","string","string"]' ]
	[ "$(jq -c '[.latency_p50_us, .latency_p90_us, .latency_p99_us, .latency_max_us]' <<<"$json")" = '[null,null,null,null]' ]
	# No value is -1 (absent values are null).
	[ "$(jq '[.. | numbers | select(. < 0)] | length' <<<"$json")" = 0 ]
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 2 -n 2 -m 3 -s 100
	wait_stat requests 6
	json=$(ctl stats -o json)
	[ "$(jq -c '[.latency_p50_us, .latency_max_us] | map(type)' <<<"$json")" = '["number","number"]' ]
	[ "$(jq '.latency_p50_us <= .latency_max_us and .latency_p50_us > 0' <<<"$json")" = true ]
	# ping, version and workers: objects with the schema.
	[ "$(ctl ping -o json | jq -c '[.schema, .pid == '"$EVD_PID"', (.uptime_seconds | type)]')" = '[1,true,"number"]' ]
	[ "$(ctl version -o json | jq -c '[.schema, (.version | type)]')" = '[1,"string"]' ]
	[ "$(ctl workers -o json | jq -c '[.schema, (.workers | length), .workers[0].requests]')" = '[1,1,6]' ]
	run -0 ctl reload -o json
	[ "$(jq -c . <<<"$output")" = '{"schema":1,"reload":"unchanged"}' ]
	evd_stop
}

# promtool_ok: stdin passes `promtool check metrics`, with no lint either.
promtool_ok() {
	local out
	out=$(promtool check metrics 2>&1) || { echo "$out" >&2; return 1; }
	[ -z "$out" ] || { echo "promtool: $out" >&2; return 1; }
}

# prom_value TEXT SERIES: the value of the series (name and labels exactly).
prom_value() {
	awk -v s="$2" 'index($0, s " ") == 1 { print substr($0, length(s) + 2) }' <<<"$1"
}

@test "-o prometheus on every read command passes promtool; exact counters, a real histogram, labels" {
	command -v promtool >/dev/null || skip "promtool is missing (packaging/deps.sh --test installs prometheus)"
	evd_start server.delay=20ms
	for c in stats workers "workers all" ping version metrics; do
		# shellcheck disable=SC2086
		ctl $c -o prometheus | promtool_ok
	done
	ctl metrics | promtool_ok
	# A known load: 4 connections of 5 requests, each held 20 ms.
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 4 -m 5 -s 100 -T 60
	wait_stat requests 20
	p=$(ctl stats -o prometheus)
	promtool_ok <<<"$p"
	l='model="epoll",protocol="echo"'
	[ "$(prom_value "$p" "evd_requests_total{$l}")" = 20 ]
	[ "$(prom_value "$p" "evd_connections_accepted_total{$l}")" = 4 ]
	[ "$(prom_value "$p" "evd_bytes_in_total{$l}")" = 2000 ]
	[ "$(prom_value "$p" "evd_errors_total{$l,kind=\"read\"}")" = 0 ]
	[ "$(prom_value "$p" "evd_responses_total{$l,type=\"http_2xx\"}")" = 0 ]
	[ "$(prom_value "$p" "evd_info{$l,version=\"$(ctl version -o json | jq -r .version)\"}")" = 1 ]
	grep -qx '# TYPE evd_request_duration_seconds histogram' <<<"$p"
	[ "$(prom_value "$p" "evd_request_duration_seconds_count{$l}")" = 20 ]
	[ "$(prom_value "$p" "evd_request_duration_seconds_bucket{$l,le=\"+Inf\"}")" = 20 ]
	# Every request took 20 ms or more: none under 10 ms, and the sum is
	# at least 20 x 20 ms.
	[ "$(prom_value "$p" "evd_request_duration_seconds_bucket{$l,le=\"0.01\"}")" = 0 ]
	awk -v s="$(prom_value "$p" "evd_request_duration_seconds_sum{$l}")" 'BEGIN { exit !(s >= 0.4) }'
	# The buckets never decrease.
	grep "^evd_request_duration_seconds_bucket{" <<<"$p" | awk '{ if ($2 < last) exit 1; last = $2 }'
	# Per worker: its labels and its counters.
	w=$(ctl workers -o prometheus)
	promtool_ok <<<"$w"
	[ "$(prom_value "$w" "evd_worker_requests_total{$l,worker=\"0\",role=\"loop\"}")" = 20 ]
	[ "$(prom_value "$w" "evd_worker_state{$l,worker=\"0\",role=\"loop\",state=\"idle\"}")" = 1 ]
	[ "$(prom_value "$w" "evd_worker_info{$l,worker=\"0\",role=\"loop\",pid=\"$EVD_PID\",tid=\"$EVD_PID\"}")" = 1 ]
	# metrics: all of it, once each family.
	m=$(ctl metrics)
	promtool_ok <<<"$m"
	[ "$(grep -c '^# TYPE evd_requests_total counter$' <<<"$m")" = 1 ]
	[ "$(grep -c '^# TYPE evd_worker_requests_total counter$' <<<"$m")" = 1 ]
	evd_stop
}

# require_probes: skips unless this evd can load the eBPF probes.
require_probes() {
	[ "$(id -u)" -eq 0 ] || skip "the eBPF probes need root"
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF"
	if grep -qF 'this evd was built without them' "$EVD_BIN"; then
		skip "$EVD_BIN was built without the probes"
	fi
}

@test "syscalls -o prometheus: counts, errors, time and log2 histograms per call; per thread; promtool passes" {
	command -v promtool >/dev/null || skip "promtool is missing"
	require_probes
	evd_start probes.syscalls=on
	run -0 ctl syscalls workers on
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 1 -n 1 -m 50 -s 100
	wait_stat requests 50
	p=$(ctl syscalls -o prometheus)
	promtool_ok <<<"$p"
	l='model="epoll",protocol="echo"'
	# One send per request (the counts are exact).
	[ "$(prom_value "$p" "evd_syscalls_total{$l,syscall=\"sendto\"}")" = 50 ]
	[ "$(prom_value "$p" "evd_syscall_duration_seconds_count{$l,syscall=\"sendto\"}")" = 50 ]
	[ "$(prom_value "$p" "evd_syscall_duration_seconds_bucket{$l,syscall=\"sendto\",le=\"+Inf\"}")" = 50 ]
	[ "$(prom_value "$p" "evd_syscall_probe_requests_total{$l}")" = 50 ]
	ctl syscalls --hist sendto -o prometheus | promtool_ok
	ctl syscalls --workers -o prometheus | promtool_ok
	ctl syscalls --worker "$EVD_PID" -o prometheus | promtool_ok
	[ "$(prom_value "$(ctl syscalls --worker "$EVD_PID" -o prometheus)" "evd_syscalls_total{$l,tid=\"$EVD_PID\",syscall=\"sendto\"}")" = 50 ]
	# metrics adds them while the probes count, and leaves them out when off.
	ctl metrics | grep -q '^evd_syscalls_total{'
	run -0 ctl syscalls off
	run -0 ctl metrics
	! grep -q '^evd_syscalls_total{' <<<"$output"
	promtool_ok <<<"$output"
	# JSON: the per-thread view is an object now.
	run -0 ctl syscalls on
	[ "$(ctl syscalls --workers -o json | jq -c '[.schema, (.threads | type)]')" = '[1,"array"]' ]
	evd_stop
}

@test "stats --watch S --count N: a header and N lines of rates; the header again every 20 lines" {
	evd_start
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	exec 8<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	wait_stat connections_active 2
	run -0 --separate-stderr ctl stats --watch 0.2 --count 3
	header='    req/s  conn/s active  in_kB/s out_kB/s  err/s   p50_us   p99_us cpu_us/rq'
	idle='      0.0     0.0      2      0.0      0.0    0.0        -        -         -'
	[ "${#lines[@]}" -eq 4 ]
	[ "${lines[0]}" = "$header" ]
	[ "${lines[1]}" = "$idle" ]
	[ "${lines[3]}" = "$idle" ]
	run -0 ctl stats --watch 0.1 --count 21
	[ "${#lines[@]}" -eq 23 ]
	[ "${lines[21]}" = "$header" ]
	[ "$(grep -cx -- "$header" <<<"$output")" -eq 2 ]
	exec 7>&- 8>&-
	evd_stop
}

@test "top without a terminal: one block per interval, --count of them, exact labels and totals" {
	evd_start
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 3 -n 3 -m 4 -s 100
	wait_stat requests 12
	exec 7<>"/dev/tcp/127.0.0.1/$EVD_PORT"
	wait_stat connections_active 1
	run -0 --separate-stderr ctl top --interval 0.2 --count 2
	[ -z "$stderr" ]
	# Two blocks of the same shape, a blank line between them.
	[ "$(grep -c '^model epoll  protocol echo  workers 1  max_connections 10000$' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^requests 12 (0.0/s)  connections 4 (0.0/s)  active 1$' <<<"$output")" -eq 2 ]
	[ "$(grep -c "^evd [0-9.]*  pid $EVD_PID  up [0-9]*m[0-9][0-9]s  listen 127.0.0.1:$EVD_PORT\$" <<<"$output")" -eq 2 ]
	[ "$(grep -c '^latency p50 -  p90 -  p99 -  (interval)$' <<<"$output")" -eq 2 ]
	[ "$(grep -cE "^ +0 loop +$EVD_PID +$EVD_PID [a-z]+ +1 +0.0 +12\$" <<<"$output")" -eq 2 ]
	[ "$(grep -c '^system calls: syscall probes are off' <<<"$output")" -eq 2 ]
	# No line wider than 80 columns.
	[ "$(awk 'length > 80' <<<"$output" | wc -l)" -eq 0 ]
	exec 7>&-
	evd_stop
}

# screen: the tmux pane's text now.
screen() {
	tmux -S "$TMUX_SOCK" capture-pane -p -t top
}

screen_has() {
	screen | grep -qE -- "$1"
}

@test "top on a terminal (tmux, 80x24): full screen with the load's figures; q quits with 0" {
	command -v tmux >/dev/null || skip "tmux is missing (packaging/deps.sh --test installs it)"
	evd_start server.delay=20ms
	TMUX_SOCK=$BATS_TEST_TMPDIR/tmux.sock
	rc=$BATS_TEST_TMPDIR/top.rc
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s top -x 80 -y 24 \
		"'$EVCTL_BIN' -s '$EVD_SOCK' top; echo \$? >'$rc'; sleep 60"
	wait_until 10 screen_has '^q quits; every 1 s'
	# A known load while top watches: 2 connections of 60 requests,
	# each reply held 20 ms.
	"$EVCLIENT_BIN" -p "$EVD_PORT" -c 2 -n 2 -m 60 -s 100 -T 60 >/dev/null &
	load=$!
	# An interval with requests in it: its percentiles are at least the
	# 20 ms every reply waited (shown in ms).
	wait_until 30 screen_has '^latency p50 [0-9]+\.[0-9]+ms'
	p50=$(screen | sed -n 's/^latency p50 \([0-9.]*\)ms.*/\1/p')
	awk -v p="$p50" 'BEGIN { exit !(p >= 20) }'
	wait "$load"
	wait_stat requests 120
	# The totals, exact, once the screen caught up.
	wait_until 10 screen_has '^requests 120 \('
	s=$(screen)
	echo "$s" >&2
	grep -qx 'model epoll  protocol echo  workers 1  max_connections 10000' <<<"$s"
	grep -qE '^requests 120 \([0-9.]+/s\)  connections 2 \([0-9.]+/s\)  active [0-9]+$' <<<"$s"
	grep -qE '^cpu user [0-9.]+%  sys [0-9.]+%  per request ' <<<"$s"
	grep -qE "^ +0 loop +$EVD_PID +$EVD_PID [a-z]+ +[0-9]+ +[0-9.]+ +120\$" <<<"$s"
	grep -q '^system calls: syscall probes are off' <<<"$s"
	# It fits: 24 lines of at most 80 columns.
	[ "$(wc -l <<<"$s")" -le 24 ]
	[ "$(awk 'length > 80' <<<"$s" | wc -l)" -eq 0 ]
	tmux -S "$TMUX_SOCK" send-keys -t top q
	wait_until 10 test -s "$rc"
	[ "$(cat "$rc")" = 0 ]
	evd_stop
}

# fake_evd SCRIPT: a control socket at $EVD_SOCK whose every connection runs
# SCRIPT (its stdout is the reply).
fake_evd() {
	EVD_SOCK=$BATS_TEST_TMPDIR/fake.sock
	socat "UNIX-LISTEN:$EVD_SOCK,fork" "EXEC:$1" &
	FAKE_PID=$!
	wait_until 10 test -S "$EVD_SOCK"
}

@test "reload: every line evd reports is printed; an ERROR after them exits 1 with evd's reason" {
	command -v socat >/dev/null || skip "socat is missing"
	script=$BATS_TEST_TMPDIR/reply
	printf '#!/bin/sh\nread -r line\nprintf "reload restarting\\nERROR reload failed: cannot bind 127.0.0.1:80: Permission denied; serving with the previous configuration\\n"\n' >"$script"
	chmod +x "$script"
	fake_evd "$script"
	run -1 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$output" = restarting ]
	[ "$stderr" = 'evctl: evd: ERROR reload failed: cannot bind 127.0.0.1:80: Permission denied; serving with the previous configuration' ]
	kill "$FAKE_PID"
	wait "$FAKE_PID" 2>/dev/null || true
	printf '#!/bin/sh\nread -r line\nprintf "reload restarting\\nreload applied\\nEND\\n"\n' >"$script"
	fake_evd "$script"
	run -0 --separate-stderr "$EVCTL_BIN" -s "$EVD_SOCK" reload
	[ "$output" = "restarting
applied" ]
	run -0 "$EVCTL_BIN" -s "$EVD_SOCK" reload -o json
	[ "$(jq -c . <<<"$output")" = '{"schema":1,"reload":"applied"}' ]
}

# free_port: a loopback TCP port nobody listens on now.
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$((20000 + RANDOM % 20000))
		[ -z "$(ss -Hltn "sport = :$p")" ] && { echo "$p"; return 0; }
	done
	return 1
}

# prom_query EXPR: the first value of an instant query, or nothing.
prom_query() {
	curl -sf "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[0].value[1] // empty'
}

# prom_diag: what Prometheus saw, for a failed wait.
prom_diag() {
	curl -s "http://127.0.0.1:$PROM_PORT/api/v1/targets" | jq -c '.data.activeTargets[] | {health, lastError}' >&2
	tail -5 "$BATS_TEST_TMPDIR/prometheus.log" >&2
	return 1
}

prom_query_is() {
	[ "$(prom_query "$1")" = "$2" ]
}

@test "a real Prometheus scrapes evd's own /metrics ([metrics] listen) and answers queries" {
	command -v prometheus >/dev/null || skip "prometheus is missing (packaging/deps.sh --test installs it)"
	evd_start server.delay=20ms metrics.listen=127.0.0.1:0
	murl=$(sed -n 's,.*info: metrics: serving \(http://127\.0\.0\.1:[0-9]*/metrics\)$,\1,p' "$EVD_LOG")
	[ -n "$murl" ] || { cat "$EVD_LOG" >&2; false; }
	mtarget=${murl#http://}
	mtarget=${mtarget%/metrics}
	run -0 curl -sf "$murl"
	grep -q '^evd_requests_total{model="epoll",protocol="echo"} 0$' <<<"$output"
	# Prometheus on loopback, scraping every 2 s (a scrape that takes
	# longer, on a loaded machine, fails and marks every series stale
	# until the next one: the queries below wait for a good one).
	PROM_PORT=$(free_port)
	cat >"$BATS_TEST_TMPDIR/prometheus.yml" <<-EOF
		global:
		  scrape_interval: 2s
		  scrape_timeout: 2s
		scrape_configs:
		  - job_name: evd
		    static_configs:
		      - targets: ['$mtarget']
	EOF
	prometheus --config.file="$BATS_TEST_TMPDIR/prometheus.yml" \
		--storage.tsdb.path="$BATS_TEST_TMPDIR/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" \
		>"$BATS_TEST_TMPDIR/prometheus.log" 2>&1 &
	PROM_PIDS="$PROM_PIDS $!"
	wait_until 60 curl -sf "http://127.0.0.1:$PROM_PORT/-/ready" ||
		{ tail -20 "$BATS_TEST_TMPDIR/prometheus.log" >&2; false; }
	# A known load: 40 requests, each reply held 20 ms.
	run -0 "$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 4 -m 10 -s 100 -T 60
	wait_stat requests 40
	wait_until 60 prom_query_is 'evd_requests_total{job="evd"}' 40 || prom_diag
	wait_until 60 prom_query_is 'evd_request_duration_seconds_count' 40 || prom_diag
	# The median from the histogram lies in the bucket where evd's own
	# histogram puts the 20th of the 40 requests (how long past 20 ms a
	# busy machine held them decides which bucket; not the check), and
	# never at or below 10 ms: every request waited 20 ms.
	q='histogram_quantile(0.5, sum by (le) (evd_request_duration_seconds_bucket))'
	wait_until 60 bash -c "[ -n \"\$(curl -sf 'http://127.0.0.1:$PROM_PORT/api/v1/query' --data-urlencode 'query=$q' | jq -r '.data.result[0].value[1] // empty')\" ]" || prom_diag
	p50=$(prom_query "$q")
	echo "# Prometheus: $q = $p50" >&3
	read -r lo hi < <("$EVCTL_BIN" -s "$EVD_SOCK" metrics |
		sed -n 's/^evd_request_duration_seconds_bucket{.*le="\([^"]*\)"} \([0-9]*\)$/\1 \2/p' |
		awk '$2 >= 20 { print prev + 0, $1; exit } { prev = $1 }')
	echo "# evd's histogram: the 20th request in ($lo, $hi]" >&3
	awk -v p="$p50" -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(p > 0.01 && p > lo && p <= hi) }'
	evd_stop
}
