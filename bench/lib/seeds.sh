# bench/lib/seeds.sh: the seeds' own shapes, scenarios S8..S13 of
# bench/compare (sourced by it), beside S1..S7:
#   S8   seed 001: W = 100 workers, A = S8_ACTIONS connections each, 50
#        exchanges of the seed's short messages (16 bytes)
#   S9   seed 001 as its client really ran: connect and close, no exchange
#        (its loop `range(SEND_RECV_COUNT, 1)` is empty): evbench --messages 0
#   S10  seed 002: HTTP, 100 connections from one client thread, 24
#        requests pipelined per write (wrk and evbench)
#   S11  seed 003: GET /delay/50 at its fixed rates (1,000 / 1,200 / 1,500 /
#        3,000 req/s), every rate run (no stop at the knee)
#   S12  seed 003's second test: GET /delay/50,25,50 (three waits in
#        sequence, 125 ms in all) at the same rates
#   S13  seed 004: a connection per request, RESP PING, evd's models and
#        redis-server (Redis's own ae loop) through the same client
# shellcheck shell=bash disable=SC2034  # variables the caller reads

S8_WORKERS=100 S8_SIZE=16 S8_MESSAGES=50
S8_ACTIONS=${S8_ACTIONS_OPT:-$((QUICK ? 10 : 100))}
S9_ACTIONS=$((QUICK ? 20 : 100))
S10_DEPTH=24
S11_RATES=1000,1200,1500,3000
S12_PATH=/delay/50,25,50

# True when this evbench accepts --messages 0 (connect + close): an older
# one refuses it as a usage error (exit 2) before connecting anywhere.
S9_OK=
evbench_connect_only() {
	local err rc=0
	if [ -z "$S9_OK" ]; then
		S9_OK=0
		if [ "$HAVE_EVBENCH" = 1 ]; then
			err=$(timeout 10 "$EVBENCH" --workers 1 --actions 1 --messages 0 -T 2 --timeout 1 --json \
				127.0.0.1:1 2>&1 >/dev/null) || rc=$?
			[ "$rc" -eq 2 ] && [[ $err == *--messages* ]] || S9_OK=1
		fi
	fi
	[ "$S9_OK" = 1 ]
}

# True when the evd that is up answers PATH with 200 (an older one answers
# /delay/50,25,50 with 400 or 404).
http_path_ok() {
	local line=''
	# shellcheck disable=SC2016  # expanded by the inner bash
	line=$(timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" "$2" >&3
		IFS= read -r l <&3; printf "%s" "$l"' _ "$SRV_PORT" "$1" 2>/dev/null) || true
	[[ $line == "HTTP/1."?" 200"* ]]
}

s8() {
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	run_case S8 "S8 001-shape" evbench $((S1_LIMIT + 5)) -- "$EVBENCH" --proto echo --size "$S8_SIZE" \
		--workers "$S8_WORKERS" --actions "$S8_ACTIONS" --messages "$S8_MESSAGES" -T "$S1_LIMIT" \
		--json "$(TARGET)"
}

s9() {
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	if ! evbench_connect_only; then
		[ -e "$TMP/s9-note" ] || note "S9 (connect + close) skipped: this evbench refuses --messages 0 (it comes with the seedshape branch)."
		touch "$TMP/s9-note"
		return 0
	fi
	run_case S9 "S9 connect" evbench $((S1_LIMIT + 5)) -- "$EVBENCH" --proto echo \
		--workers "$S8_WORKERS" --actions "$S9_ACTIONS" --messages 0 -T "$S1_LIMIT" --json "$(TARGET)"
}

s10() {
	if [ "$HAVE_WRK" = 1 ]; then
		WRK_DEPTH=$S10_DEPTH
		run_case S10 "S10 wrk" wrk $((DURATION + 10)) -- wrk -t1 -c100 -d"${DURATION}s" --timeout 2s \
			-s bench/pipeline.lua "http://$(TARGET)/" -- "$S10_DEPTH" || return 0
	fi
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	run_case S10 "S10 evbench" evbench $((DURATION + 10)) -- "$EVBENCH" --proto http --pipeline "$S10_DEPTH" \
		-c 100 -t 1 -d "$DURATION" --timeout 2 -T $((DURATION + 5)) --json "$(TARGET)"
}

# s11_rates SCEN PATH CONN_PER_100: each of the seed's rates once, with
# enough connections that each has one request in flight.
s11_rates() {
	local scen=$1 path=$2 k=$3 r c
	for r in ${S11_RATES//,/ }; do
		c=$(((r * k + 99) / 100))
		[ "$c" -ge 50 ] || c=50
		run_case "$scen" "$scen r$r" evbench $((STEP + 10)) "$r" -- "$EVBENCH" --proto http --path "$path" \
			--rate "$r" -c "$c" -t 1 -d "$STEP" --timeout 2 -T $((STEP + 5)) --json "$(TARGET)" || return 0
	done
}

s11() {
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	s11_rates S11 /delay/50 7
}

s12() {
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	if ! http_path_ok "$S12_PATH"; then
		[ -e "$TMP/s12-note" ] || note "S12 ($S12_PATH) skipped: this evd does not serve it (it comes with the seedshape branch)."
		touch "$TMP/s12-note"
		return 0
	fi
	s11_rates S12 "$S12_PATH" 16
}

s13() {
	[ "$HAVE_EVBENCH" = 1 ] || return 0
	run_case S13 "S13 conn/s" evbench $((DURATION + 10)) -- "$EVBENCH" --proto resp --conn-per-request \
		-c 50 -t 1 -d "$DURATION" --timeout 2 -T $((DURATION + 5)) --json "$(TARGET)"
}
