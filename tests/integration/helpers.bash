# Shared by the integration suites: start a real evd on a free port with a
# temporary config and control socket, query it, stop it.  Every wait is a
# condition polled with a bounded deadline.
#
# Environment (set by tests/run): EVD_BIN, EVCTL_BIN, EVCLIENT_BIN.

: "${EVD_BIN:?run through tests/run or make test}"
: "${EVCTL_BIN:?}"
: "${EVCLIENT_BIN:?}"

# wait_until SECONDS COMMAND...: polls COMMAND every 20 ms until it
# succeeds; fails after SECONDS.
wait_until() {
	local limit=$1
	shift
	local deadline=$((SECONDS + limit))
	until "$@"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "timed out after ${limit}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

# evd_config FILE [KEY=VALUE...] writes a config with listen on port 0 and
# sections filled from SECTION.KEY=VALUE arguments.
evd_config() {
	local file=$1 kv section
	shift
	local -A keys=([server.listen]=127.0.0.1:0 [server.model]=${EVD_MODEL:-epoll}
		[control.socket]=$EVD_SOCK [log.level]=debug)
	for kv in "$@"; do
		keys[${kv%%=*}]=${kv#*=}
	done
	for section in server control log; do
		echo "[$section]"
		for kv in "${!keys[@]}"; do
			case $kv in "$section".*) echo "${kv#*.} = ${keys[$kv]}" ;; esac
		done
	done >"$file"
}

# evd_start [SECTION.KEY=VALUE...]: starts evd in the background; sets
# EVD_PID, EVD_SOCK, EVD_PORT, EVD_LOG.
evd_start() {
	EVD_DIR=${EVD_DIR:-$BATS_TEST_TMPDIR}
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF" "$@"
	"$EVD_BIN" -c "$EVD_CONF" 2>"$EVD_LOG" &
	EVD_PID=$!
	if ! wait_until 10 evd_answers; then
		cat "$EVD_LOG" >&2
		return 1
	fi
	EVD_PORT=$(stat_of listen | sed 's/,.*//; s/.*://')
	[ -n "$EVD_PORT" ]
}

evd_answers() {
	kill -0 "$EVD_PID" 2>/dev/null &&
		"$EVCTL_BIN" -s "$EVD_SOCK" ping >/dev/null 2>&1
}

# stat_of KEY: one value from evctl stats -o json.
stat_of() {
	"$EVCTL_BIN" -s "$EVD_SOCK" stats -o json | jq -r ".$1"
}

# stat_is KEY VALUE: true when the counter has that value now.
stat_is() {
	[ "$(stat_of "$1")" = "$2" ]
}

# wait_stat KEY VALUE [SECONDS]: waits until the counter has that value.
wait_stat() {
	if ! wait_until "${3:-10}" stat_is "$1" "$2"; then
		echo "$1 is $(stat_of "$1"), expected $2" >&2
		return 1
	fi
}

# evd_stop: SIGTERM, wait (bounded) and check: exit 0, no process, no
# socket file.  Sets EVD_STATUS.
evd_stop() {
	kill -TERM "$EVD_PID"
	if ! wait_until 10 evd_gone; then
		echo "evd $EVD_PID still running 10 s after SIGTERM" >&2
		kill -KILL "$EVD_PID"
		return 1
	fi
	wait "$EVD_PID"
	EVD_STATUS=$?
	EVD_PID=
	if [ "$EVD_STATUS" -ne 0 ]; then
		echo "evd exited with status $EVD_STATUS" >&2
		cat "$EVD_LOG" >&2
		return 1
	fi
	if [ -e "$EVD_SOCK" ]; then
		echo "control socket $EVD_SOCK left behind" >&2
		return 1
	fi
}

evd_gone() {
	! kill -0 "$EVD_PID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$EVD_PID/status" 2>/dev/null
}

# Kills whatever a failed test left running.
evd_cleanup() {
	if [ -n "${EVD_PID:-}" ] && kill -0 "$EVD_PID" 2>/dev/null; then
		kill -KILL "$EVD_PID" 2>/dev/null
		wait "$EVD_PID" 2>/dev/null
	fi
	# Background helpers of a test (held connections) end with it.
	local j
	for j in $(jobs -p); do
		kill "$j" 2>/dev/null
	done
	true
}

# json_of JSON KEY
json_of() {
	jq -r ".$2" <<<"$1"
}
