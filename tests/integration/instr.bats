#!/usr/bin/env bats
# bench/instr, instructions per request under callgrind, on seed 000's two
# loads (echo, and the ZMTP RPC) with few requests: the table and the
# layers' rows must be there, with numbers that add up.  No figure is
# compared with a speed or a fixed count.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	EVBENCH=$(dirname "$EVD_BIN")/evbench
	[ -x "$EVBENCH" ] || skip "$EVBENCH not built (make bench-tools)"
	command -v valgrind >/dev/null || skip "valgrind is not installed"
	# An ASan or TSan evd does not run under valgrind.
	! evd_built_with asan tsan || skip "evd is a sanitizer build: valgrind cannot run it"
}

@test "bench/instr: bad options exit 2 or name the problem" {
	run -2 bench/instr --frobnicate
	run -1 --separate-stderr bench/instr -l echo,smoke
	[ "$stderr" = 'bench/instr: --loads: unknown load "smoke" (expected ka, pipe, ping, ping16, echo, rpc)' ]
	run -1 --separate-stderr bench/instr -l rpc --evbench /nonexistent
	[ "$stderr" = 'bench/instr: /nonexistent not found: build it (make evbench) or give --evbench' ]
}

@test "bench/instr -l echo,rpc: a row per load, and the layers add up (rpc = echo + framing)" {
	run -0 --separate-stderr timeout 300 bench/instr --bindir "$(dirname "$EVD_BIN")" \
		--evbench "$EVBENCH" -m epoll -l echo,rpc -n 300 -w 100 --no-zmq
	local echo rpc framing whole
	echo=$(awk -F'|' '$2 ~ /^ echo, 200-byte lines / { gsub(/ /, "", $3); print $3 }' <<<"$output")
	rpc=$(awk -F'|' '$2 ~ /^ ZMTP RPC, echo of 200 bytes / { gsub(/ /, "", $3); print $3 }' <<<"$output")
	[[ $echo =~ ^[0-9]+$ && $rpc =~ ^[0-9]+$ ]]
	[ "$echo" -gt 0 ] && [ "$rpc" -gt "$echo" ]
	grep -qx 'What each layer costs per call (evd-epoll):' <<<"$output"
	framing=$(awk -F'|' '$2 ~ /^ ZMTP framing and RPC dispatch / { gsub(/ /, "", $3); print $3 }' <<<"$output")
	whole=$(awk -F'|' '$2 ~ /^ the whole call in evd / { gsub(/ /, "", $3); print $3 }' <<<"$output")
	[ "$framing" -eq $((rpc - echo)) ]
	[ "$whole" -eq "$rpc" ]
	# zmtp_feed's inclusive count is found in the dump.
	grep -qE '^\| ZMTP framing and RPC dispatch \| [0-9]+ \| rpc minus echo; zmtp_feed inclusive: [0-9]+ \|$' <<<"$output"
	# No server left behind.
	! pgrep -f "evd-instr\.[A-Za-z0-9]+/evd-epoll" >/dev/null
}
