#!/usr/bin/env bats
# The comparison harness, bench/compare, in a tiny configuration: one model,
# one short scenario, no nginx or redis.  It must write the report, the
# charts and the raw data, and leave no process behind, also when it is
# stopped halfway.

load helpers

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	EVBENCH_BIN=${EVBENCH_BIN:-$(dirname "$EVD_BIN")/evbench}
	export EVD_BIN EVCTL_BIN EVBENCH_BIN
	OUT=$BATS_TEST_TMPDIR/out
}

teardown() {
	local p
	# Whatever a failed test left: the harness, and any server whose
	# configuration lives in this test's output directory.
	[ -n "${CMP_PID:-}" ] && kill -TERM "$CMP_PID" 2>/dev/null
	for p in $(pids_of "$BATS_TEST_TMPDIR"); do
		kill -KILL "$p" 2>/dev/null
	done
	true
}

# pids_of STRING: processes whose command line holds STRING (from /proc,
# with bash builtins only, so that the scan never matches itself).
pids_of() {
	local f pid arg
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] && continue
		{ while IFS= read -r -d '' arg; do
			if [[ $arg == *"$1"* ]]; then
				echo "$pid"
				break
			fi
		done <"$f"; } 2>/dev/null || true
	done
}

# A client for S3: evbench when it is built, wrk when it is installed.
need_s3_client() {
	[ -x "$EVBENCH_BIN" ] || command -v wrk >/dev/null ||
		skip "neither evbench ($EVBENCH_BIN) nor wrk is available"
}

evd_of_run_gone() {
	[ -z "$(pids_of "$OUT/raw/evd-")" ]
}

@test "compare --help documents the options; bad options exit 2" {
	run bench/compare --help
	[ "$status" -eq 0 ]
	for opt in --models --scenarios --workers --duration --out --quick --no-nginx --no-redis; do
		[[ $output == *"$opt"* ]] || { echo "--help does not mention $opt"; return 1; }
	done
	run bench/compare --frobnicate
	[ "$status" -eq 2 ]
	[[ $output == *"unknown option '--frobnicate'"* ]]
	run bench/compare -m epol
	[ "$status" -eq 2 ]
	[[ $output == *"unknown model 'epol'"* ]]
	run bench/compare -s S14
	[ "$status" -eq 2 ]
}

@test "one model, one scenario: report, charts, raw data, nothing left running" {
	need_s3_client
	run timeout 120 bench/compare -m epoll -s S3 -d 1 --no-nginx --no-redis --no-flames -o "$OUT"
	echo "$output"
	[ "$status" -eq 0 ]

	# The report and its sections.
	[ -s "$OUT/report.md" ]
	for h in "## Machine" "## Scenarios" "## Throughput (requests/s)" "### Relative to epoll" \
		"## CPU per request (server side)" "## Every run" "## Notes" "## Commands"; do
		grep -qxF "$h" "$OUT/report.md" || { echo "report.md has no '$h'"; return 1; }
	done
	grep -q '^| server | S3 ' "$OUT/report.md"
	grep -q '^| epoll | [0-9]' "$OUT/report.md"
	grep -q 'server on CPU 0, clients on CPU 1' "$OUT/report.md" || [ "$(nproc)" -lt 2 ]
	# No S1, S2, S5 or S6 run, no nginx, no redis.
	run grep -cE '^\| [0-9]+ \| (nginx|redis) ' "$OUT/report.md"
	[ "$output" = 0 ]
	[ "$(jq -s 'map(select(.scenario != "S3" or .kind != "evd")) | length' "$OUT/runs.jsonl")" -eq 0 ]

	# Every run: a record with a throughput and the server's CPU per request.
	local n
	n=$(wc -l <"$OUT/runs.jsonl")
	[ "$n" -ge 1 ]
	[ "$(jq -s 'map(select(.server == "epoll" and .scenario == "S3" and .status == "ok"
		and .throughput_rps > 0 and .requests > 0 and .cpu_user_us_per_req != null)) | length' \
		"$OUT/runs.jsonl")" -eq "$n" ]
	# evbench counts the replies it verified; evd the replies it sent: the
	# same number, since evbench waits for every reply in flight.
	if [ -x "$EVBENCH_BIN" ]; then
		jq -e 'select(.tool == "evbench") | .requests == .server_requests' "$OUT/runs.jsonl"
	fi
	[ "$(wc -l <"$OUT/runs.csv")" -eq $((n + 1)) ]
	head -1 "$OUT/runs.csv" | grep -q '"throughput_rps"'
	for f in $(jq -r '.raw' "$OUT/runs.jsonl"); do
		[ -s "$OUT/$f.out" ] && [ -s "$OUT/$f.before.json" ] && [ -s "$OUT/$f.after.json" ]
	done
	ls "$OUT"/raw/evd-epoll-http.ini

	# Charts, when gnuplot is there: PNG and SVG, linked from the report.
	if command -v gnuplot >/dev/null; then
		for c in throughput throughput-ratio cpu; do
			[ "$(head -c 4 "$OUT/$c.png" | od -An -c | tr -d ' ')" = '211PNG' ]
			grep -q '<svg' "$OUT/$c.svg"
			grep -qF "]($c.png)" "$OUT/report.md"
		done
	fi

	# Nothing left: no evd of this run, no control socket.
	evd_of_run_gone
	# Its temporary directory (evd's control socket) is gone too.
	run grep -o '/tmp/evd-compare\.[A-Za-z0-9]*' "$OUT/raw/evd-epoll-http.ini"
	[ "$status" -eq 0 ]
	[ ! -e "$output" ]
}

@test "stopped halfway, the harness stops evd and the client, and reports what it has" {
	need_s3_client
	timeout 120 bench/compare -m epoll,poll -s S3 -d 3 --no-nginx --no-redis --no-flames -o "$OUT" \
		>"$BATS_TEST_TMPDIR/log" 2>&1 &
	CMP_PID=$!
	# Once the first run is recorded, the next one is under way.
	wait_until 30 test -s "$OUT/runs.jsonl"
	kill -TERM "$CMP_PID"
	local rc=0 port
	wait "$CMP_PID" || rc=$?
	CMP_PID=
	cat "$BATS_TEST_TMPDIR/log"
	[ "$rc" -eq 143 ]
	grep -q 'compare: terminated' "$BATS_TEST_TMPDIR/log"
	# No evd of this run, and no client aimed at one of its ports.
	wait_until 10 evd_of_run_gone
	grep -q 'The run was interrupted' "$OUT/report.md"
	for port in $(grep -oE '127\.0\.0\.1:[0-9]+' "$OUT/report.md" | sort -u); do
		[ -z "$(pids_of "$port")" ] || { echo "a client of $port is still running"; return 1; }
	done
}

@test "report.jq: CPU counters that go back between snapshots are clamped at 0 and marked" {
	local meta='{"id":"001","server":"prefork","kind":"evd","scenario":"S3","case":"S3 wrk","tool":"wrk","rc":0}'
	local m='{"requests":1000,"throughput_rps":500,"latency_us":{},"errors":0}'
	local rec
	# user went back 30 ms (a worker gone from /proc, not yet reaped), sys
	# went on 20 ms: user clamped at 0, sys kept, the run marked.
	rec=$(jq -n -c -L bench --argjson m "$m" --argjson meta "$meta" 'include "report";
		record($m; {requests: 0, cpu_user: 1.25, cpu_sys: 2.0}; {requests: 1000, cpu_user: 1.22, cpu_sys: 2.02}; $meta)')
	[ "$(jq -c '[.cpu_user_s, (.cpu_sys_s * 1000 | round), .cpu_clamped, (.cpu_user_s_raw * 1000 | round)]' <<<"$rec")" = '[0,20,true,-30]' ]
	[ "$(jq '.cpu_user_us_per_req' <<<"$rec")" = 0 ]
	[ "$(jq '.cpu_sys_us_per_req | round' <<<"$rec")" = 20 ]
	# The tables mark it.
	jq -r -L bench -s 'include "report"; table_cpu' <<<"$rec" | grep -qF '| prefork | 0 + 20*'
	jq -r -L bench -s 'include "report"; table_runs' <<<"$rec" | grep -qF '| 0* | 20* |'
	# Counters that go forward are taken as they are, unmarked.
	rec=$(jq -n -c -L bench --argjson m "$m" --argjson meta "$meta" 'include "report";
		record($m; {requests: 0, cpu_user: 1.0, cpu_sys: 2.0}; {requests: 1000, cpu_user: 1.5, cpu_sys: 2.25}; $meta)')
	[ "$(jq -c '[.cpu_user_s, .cpu_sys_s, .cpu_clamped]' <<<"$rec")" = '[0.5,0.25,false]' ]
	jq -r -L bench -s 'include "report"; table_cpu' <<<"$rec" | grep -qF '| prefork | 500 + 250 |'
}

@test "bench/flames, when there, runs last and its fragment is in the report; --no-flames skips it" {
	need_s3_client
	local fake=$BATS_TEST_TMPDIR/flames
	# A stand-in for issue 16's script: it writes what the hook expects,
	# and the arguments it was given.
	cat >"$fake" <<'SH'
#!/bin/sh
while [ $# -gt 0 ]; do case $1 in --out) out=$2; shift 2 ;; *) echo "$1" >>"$out.args"; shift ;; esac; done
mkdir -p "$out/flames"
echo '<svg xmlns="http://www.w3.org/2000/svg"/>' >"$out/flames/epoll.svg"
printf '# Flame graphs\n\n![epoll](flames/epoll.svg)\n' >"$out/flames.md"
SH
	chmod +x "$fake"
	FLAMES_BIN=$fake run timeout 120 bench/compare -m epoll -s S3 -d 1 --no-nginx --no-redis -o "$OUT"
	echo "$output"
	[ "$status" -eq 0 ]
	grep -qxF '## Flame graphs' "$OUT/report.md"
	grep -qF '![epoll](flames/epoll.svg)' "$OUT/report.md"
	[[ "$(tr '\n' ' ' <"$OUT.args")" == "--models epoll --bindir "?* ]]
	rm -rf "$OUT" "$OUT.args"
	FLAMES_BIN=$fake run timeout 120 bench/compare -m epoll -s S3 -d 1 --no-nginx --no-redis --no-flames -o "$OUT"
	[ "$status" -eq 0 ]
	! grep -qF '## Flame graphs' "$OUT/report.md"
	[ ! -e "$OUT.args" ]
}

@test "--report-only writes the report again from a finished run; bench/instr's instr.md is included when there" {
	cp -r bench/example "$BATS_TEST_TMPDIR/ex"
	printf '| instructions per request | evd-epoll |\n|---|---:|\n| marker load | 4242 |\n' \
		>"$BATS_TEST_TMPDIR/ex/instr.md"
	run bench/compare --report-only "$BATS_TEST_TMPDIR/ex"
	[ "$status" -eq 0 ]
	grep -qx '## Instructions per request (callgrind)' "$BATS_TEST_TMPDIR/ex/report.md"
	grep -qx '| marker load | 4242 |' "$BATS_TEST_TMPDIR/ex/report.md"
	# Findings first, as before.
	[ "$(grep -m1 '^## ' "$BATS_TEST_TMPDIR/ex/report.md")" = '## Findings' ]
	rm "$BATS_TEST_TMPDIR/ex/instr.md"
	run bench/compare --report-only "$BATS_TEST_TMPDIR/ex"
	[ "$status" -eq 0 ]
	! grep -q '^## Instructions per request' "$BATS_TEST_TMPDIR/ex/report.md"
	run bench/compare --help
	[[ $output == *"--instr "* ]]
}
