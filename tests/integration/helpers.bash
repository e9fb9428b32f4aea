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
# its sections ([server], [prefork], [http], [resp], [zmtp], [control],
# [probes], [log], [metrics])
# filled from SECTION.KEY=VALUE arguments.
evd_config() {
	local file=$1 kv section
	shift
	local -A keys=([server.listen]=127.0.0.1:0 [server.model]=${EVD_MODEL:-epoll}
		[control.socket]=$EVD_SOCK [log.level]=debug)
	for kv in "$@"; do
		keys[${kv%%=*}]=${kv#*=}
	done
	for section in server prefork http resp zmtp control probes log metrics; do
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
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	[ -n "$EVD_PORT" ]
}

evd_answers() {
	kill -0 "$EVD_PID" 2>/dev/null &&
		"$EVCTL_BIN" -s "$EVD_SOCK" ping >/dev/null 2>&1
}

# stat_of KEY: one value from evctl stats -o json (KEY is a jq path:
# listen[0] is the first listen address).
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

# evd_stop: SIGTERM, wait (bounded) and check: exit 0, no process (evd's
# worker processes included: evd waits for them before it exits), no
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
	evd_none_left && evd_log_clean
}

# evd_log_clean: fails, showing the log, when evd's stderr ($EVD_LOG) holds
# a sanitizer report (ASan, LSan, UBSan, TSan: make test-asan, test-tsan).
evd_log_clean() {
	[ -n "${EVD_LOG:-}" ] && [ -f "$EVD_LOG" ] || return 0
	if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|WARNING: ThreadSanitizer' "$EVD_LOG"; then
		echo "sanitizer report in $EVD_LOG:" >&2
		cat "$EVD_LOG" >&2
		return 1
	fi
}

# evd_pids: the pids of every process whose command line holds this test's
# config path: evd and the processes it forked (pgrep never lists itself).
evd_pids() {
	[ -n "${EVD_CONF:-}" ] || return 1
	# pgrep, not a scan of /proc in bash: on a loaded machine with many
	# processes that took seconds, and tests that sample /proc around a
	# sleep need their two samples close to it.
	pgrep -f -- "$(printf '%s' "$EVD_CONF" | sed 's/[][\.*^$+?(){}|]/\\&/g')" || true
}

# evd_none_left: true when no process of this test's evd is left, by both
# pgrep -f and a /proc scan; otherwise lists them.
evd_none_left() {
	local left
	left=$(evd_pids)
	if [ -z "$left" ] && ! pgrep -f -- "$EVD_CONF" >/dev/null; then
		return 0
	fi
	echo "processes of $EVD_CONF left after evd exited:" >&2
	{
		echo "$left"
		pgrep -f -- "$EVD_CONF"
	} | sort -u | while read -r p; do
		[ -n "$p" ] && ps -o pid=,ppid=,stat=,args= -p "$p" >&2
	done
	return 1
}

evd_gone() {
	! kill -0 "$EVD_PID" 2>/dev/null || grep -q '^State:.*Z' "/proc/$EVD_PID/status" 2>/dev/null
}

# Kills whatever a failed test left running, worker processes included.
evd_cleanup() {
	local p
	if [ -n "${EVD_PID:-}" ] && kill -0 "$EVD_PID" 2>/dev/null; then
		kill -KILL "$EVD_PID" 2>/dev/null
		wait "$EVD_PID" 2>/dev/null
	fi
	if [ -n "${EVD_CONF:-}" ]; then
		for p in $(evd_pids); do
			kill -KILL "$p" 2>/dev/null
		done
	fi
	# Background helpers of a test (held connections) end with it.
	local j
	for j in $(jobs -p); do
		kill "$j" 2>/dev/null
	done
	evd_log_clean
}

# json_of JSON KEY
json_of() {
	jq -r ".$2" <<<"$1"
}

# model_bound MODEL: how many connections MODEL serves at once, for the
# models where that number is fixed below max_connections: each connection
# takes a whole worker from a fixed set, and the other connections wait in
# the listen backlog.  Prints "1" (iterative), "workers" (prefork, prethread:
# one connection per worker), or nothing for the models that hold as many
# connections as max_connections allows (select: up to FD_SETSIZE).  An
# explicit list rather than a parse of `evd --list-models`, whose summaries
# are prose; the README's model table says the same.
model_bound() {
	case $1 in
	iterative) echo 1 ;;
	prefork | prethread) echo workers ;;
	*) ;;
	esac
}

# model_processes MODEL: true for the models that serve from processes of
# their own (one per connection, or a pool): evd plus its children.
model_processes() {
	case $1 in
	fork | prefork) return 0 ;;
	*) return 1 ;;
	esac
}

# workers_json [all]: the rows of evctl workers -o json (its "workers"
# array).
workers_json() {
	"$EVCTL_BIN" -s "$EVD_SOCK" workers "$@" -o json | jq '.workers'
}

# workers_sum FIELD [all]: the sum of one column of evctl workers.
workers_sum() {
	local field=$1
	shift
	workers_json "$@" | jq "[.[].$field] | add // 0"
}

# workers_alive: true when every live row of evctl workers names a process
# of this evd (its command line holds the config path) and a thread of it
# (/proc/PID/task/TID).  A row may name a worker that has just exited until
# evd reaps it, hence wait_until workers_alive.
workers_alive() {
	local pid tid
	while read -r pid tid; do
		[ -d "/proc/$pid/task/$tid" ] || return 1
		grep -qF -- "$EVD_CONF" "/proc/$pid/cmdline" 2>/dev/null || return 1
	done < <(workers_json | jq -r '.[] | "\(.pid) \(.tid)"')
}

# evd_built_with asan|tsan...: true when $EVD_BIN is a build with one of
# those sanitizers (their runtime's init symbol is in the binary).
evd_built_with() {
	local s pat=
	for s in "$@"; do
		pat="${pat:+$pat|}__${s}_init"
	done
	grep -qaE "$pat" "$EVD_BIN"
}
