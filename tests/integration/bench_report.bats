#!/usr/bin/env bats
# The benchmark report without a benchmark: the committed example's links
# all resolve, and the Findings text follows the data it is given (it says
# what a run shows, also when the run contradicts a seed's premise).

load helpers

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	command -v jq >/dev/null || skip "jq is not installed"
}

# links FILE: every link target of a markdown file, one per line: the
# ](target) of links and images, and src="..."/href="..." of inline HTML.
links() {
	grep -oE '\]\([^)]+\)' "$1" | sed -E 's/^\]\(//; s/\)$//; s/ +"[^"]*"$//'
	grep -oE '(src|href)="[^"]+"' "$1" | sed -E 's/^(src|href)="//; s/"$//'
}

@test "every relative link of bench/example/report.md resolves to a committed file" {
	local md=bench/example/report.md dir target n=0 missing=0
	[ -s "$md" ]
	dir=$(dirname "$md")
	while IFS= read -r target; do
		case $target in
		http://* | https://* | mailto:* | '#'*) continue ;;
		esac
		target=${target%%#*}
		n=$((n + 1))
		if [ ! -e "$dir/$target" ]; then
			echo "report.md links to $target, which is not in $dir"
			missing=$((missing + 1))
		elif ! git ls-files --error-unmatch "$dir/$target" >/dev/null 2>&1; then
			echo "report.md links to $target, which exists but is not committed"
			missing=$((missing + 1))
		fi
	done < <(links "$md")
	echo "$n relative links checked"
	[ "$missing" -eq 0 ]
	# The report links its raw data: a run without a single link would pass
	# vacuously.
	[ "$n" -ge 10 ]
}

@test "the example report opens with Findings, then the seeds' tables" {
	local md=bench/example/report.md
	[ "$(grep -m1 -n '^## ' "$md" | cut -d: -f2-)" = "## Findings" ]
	grep -qxF "## The seeds' tables beside this run" "$md"
	grep -qxF "## Per-run metrics" "$md"
	for s in 001 002 003 004 000; do
		grep -q "^\*\*$s — " "$md" || { echo "no Findings paragraph for seed $s"; return 1; }
	done
}

# rec SERVER CASE FIGURES: one record as bench/compare writes it, with the
# figures given (a jq object expression).
rec() {
	jq -n -c --arg s "$1" --arg c "$2" --argjson x "$(jq -n -c "$3")" \
		'{id: "001", server: $s, kind: "evd", model: $s, scenario: ($c | split(" ")[0]), case: $c,
		  status: "ok", tool: "evbench", errors: 0, latency_us: {}} + $x'
}

@test "findings.jq: the 001 paragraph says who won from the data, both ways" {
	local sel ep out
	# select quicker than epoll: the seed's ranking is reproduced.
	sel=$(rec select "S8 001-shape" '{throughput_rps: 1000, connect_ms_mean: 1, exchange_ms_mean: 9,
		cpu_user_us_per_req: 2, cpu_sys_us_per_req: 8, syscalls_per_req: 2.1,
		syscalls_top: [{"name": "recvfrom", "per_req": 1}, {"name": "sendto", "per_req": 1}, {"name": "pselect6", "per_req": 0.1}]}')
	ep=$(rec epoll "S8 001-shape" '{throughput_rps: 900, connect_ms_mean: 1, exchange_ms_mean: 14,
		cpu_user_us_per_req: 2, cpu_sys_us_per_req: 9, syscalls_per_req: 2.2,
		syscalls_top: [{"name": "recvfrom", "per_req": 1}, {"name": "sendto", "per_req": 1}, {"name": "epoll_ctl", "per_req": 0.04}]}')
	out=$(jq -s -r -L bench 'include "findings"; findings' <<<"$sel$ep")
	echo "$out"
	[[ $out == *"a connection took select 10 ms and epoll 15 ms"* ]]
	[[ $out == *"select was 33 % quicker."* ]]
	[[ $out == *"So this run reproduces the seed's ranking (select ahead) in S8 001-shape."* ]]
	[[ $out == *"epoll made 0.04 epoll_ctl calls per exchange"* ]]
	# epoll quicker: the text says the premise does not hold.
	ep=$(jq -c '.exchange_ms_mean = 4' <<<"$ep")
	out=$(jq -s -r -L bench 'include "findings"; findings' <<<"$sel$ep")
	[[ $out == *"epoll was 50 % quicker."* ]]
	[[ $out == *"select does not beat epoll in S8 001-shape: the seed's premise does not hold here"* ]]
	[[ $out != *"reproduces the seed's ranking"* ]]
}

@test "findings.jq: a question whose scenario did not run names the -s to add" {
	local out
	out=$(echo '[]' | jq -r -L bench 'include "findings"; findings')
	[[ $out == *'**002 — where does the gain from pipelining come from?** Needs S3 and S10 (or S4) on one model (not run: add `-s S3,S10`).'* ]]
	[[ $out == *'Needs S11 (not run: add `-s S11`)'* ]]
	[[ $out == *'Needs S13 (not run: add `-s S13`)'* ]]
	[ "$(grep -c '^\*\*' <<<"$out")" -eq 8 ]
}

@test "findings.jq: 002 counts writes per batch, 004 reads a client-bound run by its CPU per connection" {
	local one p out e r
	one=$(rec epoll "S3 evbench" '{throughput_rps: 50000, cpu_user_us_per_req: 3, cpu_sys_us_per_req: 7, syscalls_per_req: 2.05,
		syscalls_top: [{"name": "recvfrom", "per_req": 1}, {"name": "sendto", "per_req": 1}]}')
	p=$(rec epoll "S10 evbench" '{throughput_rps: 500000, cpu_user_us_per_req: 0.4, cpu_sys_us_per_req: 0.6, syscalls_per_req: 0.09,
		syscalls_top: [{"name": "recvfrom", "per_req": 0.045}, {"name": "sendto", "per_req": 0.0417}]}')
	out=$(jq -s -r -L bench 'include "findings"; findings' <<<"$one$p")
	echo "$out"
	[[ $out == *"gave 50,000 requests/s; 24 pipelined per write (S10) gave 500,000: 10×."* ]]
	[[ $out == *"evd wrote 1 times per batch of 24"* ]]
	[[ $out == *"CPU per request fell from 10 to 1 µs (10×)"* ]]
	# S13: the client's core saturated, the server's not.
	e=$(rec epoll "S13 conn/s" '{throughput_rps: 6000, cpu_user_us_per_req: 10, cpu_sys_us_per_req: 40, capacity_rps: 20000,
		client_bound: true, client_busy_pct: 99, server_busy_pct: 30, syscalls_per_req: 7}')
	r=$(jq -c '.server = "redis" | .kind = "redis" | .model = "redis" | .cpu_sys_us_per_req = 90 | .capacity_rps = 10000 | .errors = 3' <<<"$e")
	out=$(jq -s -r -L bench 'include "findings"; findings' <<<"$e$r")
	[[ $out == *"epoll 6,000 conn/s, redis 6,000 conn/s with 3 errors."* ]]
	[[ $out == *"The client's core was saturated in 2 of these 2 runs"* ]]
	[[ $out == *"epoll 50 µs (20,000 conn/s), redis 100 µs (10,000 conn/s)."* ]]
	[[ $out == *"redis-server lost 3 connections here"* ]]
}

@test "report.jq: per-run metrics from two snapshots (syscalls by name, context switches, busy shares, RSS)" {
	local meta b a rec
	meta='{"id":"001","server":"epoll","kind":"evd","model":"epoll","scenario":"S3","case":"S3 wrk","tool":"wrk","rc":0,"clk_tck":100,"wall_s":2,"client_cpu_s":1.9}'
	b='{"requests": 0, "cpu_user": 0, "cpu_sys": 0, "t": 10, "ctx_vol": 100, "ctx_invol": 10, "srv_ticks": 1000, "cli_ticks": 5000,
	    "sc_names": {"recvfrom": 5, "sendto": 5, "epoll_wait": 1}, "rss_kb": 4000}'
	a='{"requests": 1000, "cpu_user": 0.002, "cpu_sys": 0.008, "t": 12, "ctx_vol": 150, "ctx_invol": 30, "srv_ticks": 1100, "cli_ticks": 5196,
	    "sc_names": {"recvfrom": 1005, "sendto": 1005, "epoll_wait": 51, "close": 2}, "rss_kb": 5120}'
	rec=$(jq -n -c -L bench --argjson meta "$meta" --argjson b "$b" --argjson a "$a" 'include "report";
		record({requests: 1000, throughput_rps: 500, latency_us: {}, errors: 0}; $b; $a; $meta)')
	echo "$rec"
	[ "$(jq -c '.syscalls_top' <<<"$rec")" = '[{"name":"recvfrom","per_req":1},{"name":"sendto","per_req":1},{"name":"epoll_wait","per_req":0.05},{"name":"close","per_req":0.002}]' ]
	[ "$(jq -c '[.ctx_vol_per_req, .ctx_invol_per_req]' <<<"$rec")" = '[0.05,0.02]' ]
	# 100 ticks of 1/100 s over 2 s: 50 %; 196 ticks: 98 %: client-bound.
	[ "$(jq -c '[.server_busy_pct, .client_busy_pct, .client_bound, .client_own_pct, .rss_kb, .capacity_rps]' <<<"$rec")" = '[50,98,true,95,5120,100000]' ]
}
