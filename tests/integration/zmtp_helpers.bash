# Shared by zmtp.bats and conformance.bats: the two ZeroMQ clients, raw
# bytes, and the wire pieces in hex.

# zmtp_require: skips the test when a client is missing.
zmtp_require() {
	PY=${EVD_PYTHON:-/usr/bin/python3}
	ZMQCLIENT=${ZMQCLIENT_BIN:-$(dirname "$EVCLIENT_BIN")/zmqclient}
	PYCLIENT=$BATS_TEST_DIRNAME/../tools/zmq_client.py
	[ -x "$ZMQCLIENT" ] ||
		skip "no $ZMQCLIENT (make build/tools/zmqclient; it needs libzmq3-dev: packaging/deps.sh --test)"
	"$PY" -c 'import zmq' 2>/dev/null ||
		skip "$PY has no zmq module (python3-zmq: packaging/deps.sh --test)"
}

# zc c|py ARGS...: one of the two clients, bounded.
zc() {
	local which=$1
	shift
	if [ "$which" = c ]; then
		timeout 60 "$ZMQCLIENT" "$@"
	else
		timeout 60 "$PY" "$PYCLIENT" "$@"
	fi
}

ep() {
	echo "tcp://127.0.0.1:$EVD_PORT"
}

# raw HEX [N]: the bytes over plain TCP; prints the reply in hex and
# EOF/OPEN (see zmq_client.py --raw).
raw() {
	local expect=()
	[ $# -ge 2 ] && expect=(--expect "$2")
	timeout 30 "$PY" "$PYCLIENT" --raw "$1" "${expect[@]}" -T 10000 "$(ep)"
}

# unhex HEX: the bytes.
unhex() {
	# shellcheck disable=SC2059
	printf "$(sed 's/../\\x&/g' <<<"$1")"
}
# Hex of the wire pieces.
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
zeros() { printf '%0*d' $((2 * $1)) 0; }
# greeting MAJOR MINOR MECH [AS_SERVER]: libzmq's (padding 0...01).
greeting() {
	local mech
	mech=$(hex "$3")
	printf 'ff00000000000000017f%02x%02x%s%s%02x%s' "$1" "$2" "$mech" \
		"$(zeros $((20 - ${#3})))" "${4:-0}" "$(zeros 31)"
}
# command NAME DATAHEX
command() {
	local body
	body=$(printf '%02x' ${#1})$(hex "$1")$2
	printf '04%02x%s' $((${#body} / 2)) "$body"
}
# prop NAME VALUE
prop() {
	printf '%02x%s%08x%s' ${#1} "$(hex "$1")" ${#2} "$(hex "$2")"
}
ready() { command READY "$(prop Socket-Type "$1")$(prop Identity '')"; }
SERVER_GREETING=ff00000000000000007f0301$(hex NULL)$(zeros 16)00$(zeros 31)
SERVER_READY=$(command READY "$(prop Socket-Type ROUTER)")
error_cmd() { command ERROR "$(printf '%02x' ${#1})$(hex "$1")"; }
# frame MORE TEXT: a short message frame.
frame() { printf '%02x%02x%s' "$1" ${#2} "$(hex "$2")"; }

CALLS=(ping -- echo a '' 'b c' -- delay 20 -- nope x -- ping 1 -- delay 99999)
REPLIES='[OK]
[OK] [a] [] [b c]
[OK]
[ERR] [unknown-method] [no method "nope" (expected one of: ping, echo, delay)]
[ERR] [bad-arity] [ping takes no arguments, got 1]
[ERR] [bad-argument] [delay takes milliseconds from 0 to 60000]'

