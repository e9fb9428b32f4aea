# The bash completions (packaging/completion/) against the programs
# themselves: evctl's commands and each one's options as its help prints
# them (generated from the command table), evd's and evbench's options as
# their --help lists them.  A command or option added on one side only
# fails here.

bats_require_minimum_version 1.5.0
load helpers

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	BIN_DIR=$(dirname "$EVD_BIN")
	EVBENCH_BIN=$BIN_DIR/evbench
}

# complete_words SCRIPT WORD...: the candidates the completion of SCRIPT
# (the command of that name) offers for the last WORD of the command line
# WORD..., sorted, one a line.
complete_words() {
	local script=$1
	shift
	bash -c '
		source "$1"
		fn=$(complete -p "$2" | awk "{print \$3}")
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		"$fn"
		printf "%s\n" "${COMPREPLY[@]}"
	' _ "$TOP/packaging/completion/$script" "$script" "$@" | LC_ALL=C sort -u | grep .
}

# long_options TEXT: the --options TEXT mentions, sorted, one a line.
long_options() {
	grep -oE -- '--[a-z][a-z-]+' <<<"$1" | LC_ALL=C sort -u
}

# leading_options TEXT: the options that start a line of help (-x and
# --long, "-c, --connections" both), sorted.
leading_options() {
	grep -oE -- '^ +(-[a-zA-Z0-9]|--[a-z][a-z-]*)(, +--[a-z][a-z-]*)?' <<<"$1" |
		tr -s ' ,' '\n' | grep . | LC_ALL=C sort -u
}

evctl_commands() {
	"$EVCTL_BIN" help | awk '/^Commands/ { on = 1; next } /^$/ { if (on) exit }
		on && /^  [a-z]/ { print $1 }' | LC_ALL=C sort
}

@test "evctl: the commands completed are evctl help's" {
	[ "$(complete_words evctl evctl '')" = "$(evctl_commands)" ]
	[ "$(complete_words evctl evctl -s /tmp/x -o json '')" = "$(evctl_commands)" ]
	[ "$(complete_words evctl evctl help '')" = "$(evctl_commands)" ]
	[ "$(complete_words evctl evctl st)" = stats ]
}

@test "evctl: each command's options completed are those its --help names, plus the global ones" {
	global=$(long_options "$("$EVCTL_BIN" help | sed -n '/^Options:/,/^$/p')")
	[ "$global" = "--help
--output
--socket
--timeout
--version" ]
	for c in $(evctl_commands); do
		want=$( { long_options "$("$EVCTL_BIN" "$c" --help)"; echo "$global"; } |
			LC_ALL=C sort -u)
		got=$(complete_words evctl evctl "$c" -- | LC_ALL=C sort -u)
		[ "$got" = "$want" ] || { echo "$c: completion: $got; help: $want" >&2; false; }
	done
	# The short global options too.
	[ "$(complete_words evctl evctl -)" = "$(printf '%s\n' -T -V -h -o -s --help --output --socket --timeout --version | LC_ALL=C sort)" ]
}

@test "evctl: the words after a command, and option values" {
	[ "$(complete_words evctl evctl workers '')" = all ]
	[ "$(complete_words evctl evctl syscalls '')" = "$(printf '%s\n' off on reset timing workers)" ]
	[ "$(complete_words evctl evctl syscalls workers '')" = "$(printf '%s\n' off on)" ]
	[ "$(complete_words evctl evctl stats -o '')" = "$(printf '%s\n' json prometheus text)" ]
	[ "$(complete_words evctl evctl -o p)" = prometheus ]
	# profile's formats, and its --output is a file.
	[ "$(complete_words evctl evctl profile -o '')" = "$(printf '%s\n' folded json svg text)" ]
	[ "$(complete_words evctl evctl profile --output "$BATS_TEST_DIRNAME/completion.ba")" = "$BATS_TEST_DIRNAME/completion.bats" ]
	[ -z "$(complete_words evctl evctl profile --seconds '')" ]
	# Every format evctl knows is offered before a command.
	[ "$(complete_words evctl evctl -o '')" = "$(printf '%s\n' folded json prometheus svg text)" ]
	run -2 --separate-stderr "$EVCTL_BIN" stats -o nosuch
	[ "$stderr" = 'evctl: unknown format "nosuch" (expected text, json, prometheus, folded or svg)' ]
}

@test "evd: the options completed are those of evd --help (and the long forms of -h and -V)" {
	want=$( { leading_options "$("$EVD_BIN" --help)"; printf '%s\n' --help --version; } | LC_ALL=C sort -u)
	[ "$(complete_words evd evd -)" = "$want" ]
	# --help and --version are real.
	run -0 "$EVD_BIN" --version
	run -0 "$EVD_BIN" --help
	# -o completes the keys evd knows, from evd -t; models from --list-models.
	# (The command word is the binary under test: evd runs it.)
	[ "$(complete_words evd "$EVD_BIN" -o server.mo)" = server.model= ]
	[ "$(complete_words evd "$EVD_BIN" -o server.model=ep)" = server.model=epoll ]
	[ "$(complete_words evd "$EVD_BIN" -o server.model= | wc -l)" -eq "$("$EVD_BIN" --list-models | wc -l)" ]
	[ "$(complete_words evd "$EVD_BIN" -o probes.s)" = "$(printf '%s\n' probes.sample= probes.syscalls=)" ]
	# Every key of evd -t is offered.
	[ "$(complete_words evd "$EVD_BIN" -o '' | wc -l)" -eq "$("$EVD_BIN" -t -c /dev/null | grep -c '^[a-z_]* = ')" ]
}

@test "evbench: the options completed are those of evbench --help" {
	[ -x "$EVBENCH_BIN" ] || skip "no evbench next to $EVD_BIN: run make first"
	want=$(leading_options "$("$EVBENCH_BIN" --help)")
	[ "$(complete_words evbench evbench -)" = "$want" ]
	# The protocols and socket types as evbench --help spells them
	# ("--proto echo|http|resp|zmtp"), so a protocol added there alone fails.
	protos=$("$EVBENCH_BIN" --help | sed -n 's/^ *--proto \([a-z|]*\).*/\1/p' | tr '|' '\n' | LC_ALL=C sort)
	[ "$protos" = "$(printf '%s\n' echo http resp zmtp)" ]
	[ "$(complete_words evbench evbench --proto '')" = "$protos" ]
	[ "$(complete_words evbench evbench --socket '')" = "$(printf '%s\n' dealer req)" ]
}
