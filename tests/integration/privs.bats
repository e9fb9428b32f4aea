# Privileges ([server] user, daemon/privs.c): started as root, evd binds,
# loads the probes, then runs as the configured user with no capability
# it does not use, in every thread, read from /proc/PID/task/*/status; and
# it still serves.  Needs root (skipped otherwise, saying why).

bats_require_minimum_version 1.5.0
load helpers

NET_BIND=0000000000000400	# CAP_NET_BIND_SERVICE (10)
PROBE_CAPS=000000c000000000	# CAP_PERFMON (38) + CAP_BPF (39)
NONE=0000000000000000

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root: evd must start as root to switch users"
	getent passwd nobody >/dev/null || skip "no user nobody on this system"
	NOBODY_UID=$(id -u nobody)
	NOBODY_GID=$(id -g nobody)
	# evd runs as nobody: its directory must be nobody's, so that it can
	# remove its control socket when it stops.
	EVD_DIR=$(mktemp -d /tmp/evd-privs.XXXXXX)
	chown nobody: "$EVD_DIR"
	chmod 755 "$EVD_DIR"
}

teardown() {
	evd_cleanup
	[ -z "${EVD_DIR:-}" ] || rm -rf "$EVD_DIR"
	if [ -n "${TEST_USER:-}" ]; then
		userdel "$TEST_USER" 2>/dev/null || true
		groupdel "$TEST_USER" 2>/dev/null || true
		groupdel "$TEST_GROUP" 2>/dev/null || true
	fi
}

# privs_start [-o S.K=V]...: evd as root with these command-line options.
privs_start() {
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/evd.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF"
	"$EVD_BIN" -c "$EVD_CONF" "$@" 2>"$EVD_LOG" &
	EVD_PID=$!
	if ! wait_until 10 evd_answers; then
		cat "$EVD_LOG" >&2
		return 1
	fi
	EVD_PORT=$(stat_of 'listen[0]' | sed 's/.*://')
	[ -n "$EVD_PORT" ]
}

# status_field PID|PID/task/TID KEY: the value of "KEY:" in its status
# file, tabs turned into spaces.
status_field() {
	awk -v k="$2:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# expect_creds UID GID EFF PRM BND: every thread of evd (and every process
# it forked) has these ids and capability sets, no inheritable and no
# ambient ones.
expect_creds() {
	local uid=$1 gid=$2 eff=$3 prm=$4 bnd=$5 pid t n=0 bad=0 got
	for pid in $(evd_pids); do
		for t in /proc/$pid/task/*; do
			t=${t#/proc/}
			n=$((n + 1))
			got="$(status_field "$t" Uid)|$(status_field "$t" Gid)|$(status_field "$t" CapEff)|$(status_field "$t" CapPrm)|$(status_field "$t" CapInh)|$(status_field "$t" CapAmb)|$(status_field "$t" CapBnd)"
			if [ "$got" != "$uid $uid $uid $uid|$gid $gid $gid $gid|$eff|$prm|$NONE|$NONE|$bnd" ]; then
				echo "thread $t: $got" >&2
				echo "expected: $uid $uid $uid $uid|$gid $gid $gid $gid|$eff|$prm|$NONE|$NONE|$bnd" >&2
				bad=1
			fi
		done
	done
	echo "checked $n threads" >&2
	[ "$n" -ge 2 ] && [ "$bad" -eq 0 ]
}

# serves: 20 connections of 10 echoes each, every byte verified.
serves() {
	"$EVCLIENT_BIN" -p "$EVD_PORT" -c 4 -n 20 -m 10 -s 1,100,4k >/dev/null
}

# free_low_port: a port in 1000..1023 that nothing listens on.
free_low_port() {
	local p
	for p in $(seq 1023 -1 1000); do
		if ! ss -Htln "sport = :$p" | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

@test "root with [server] user = nobody: every thread runs as nobody with no capability at all, and evd serves" {
	privs_start -o server.user=nobody
	expect_creds "$NOBODY_UID" "$NOBODY_GID" $NONE $NONE $NONE
	serves
	[ "$(stat_of requests)" -eq 200 ]
	grep -qx "evd\[$EVD_PID\]: info: running as uid $NOBODY_UID gid $NOBODY_GID; capabilities kept: none" "$EVD_LOG"
	evd_stop
}

@test "root with user = nobody and a port below 1024: CAP_NET_BIND_SERVICE alone is kept" {
	port=$(free_low_port)
	privs_start -o server.user=nobody -o server.listen=127.0.0.1:$port
	[ "$EVD_PORT" = "$port" ]
	expect_creds "$NOBODY_UID" "$NOBODY_GID" $NET_BIND $NET_BIND $NET_BIND
	serves
	grep -q "info: running as uid $NOBODY_UID gid $NOBODY_GID; capabilities kept: cap_net_bind_service" "$EVD_LOG"
	evd_stop
}

@test "root with user = nobody and the probes on: CAP_BPF and CAP_PERFMON are kept, evctl syscalls off/on still works" {
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	"$EVCTL_BIN" -h 2>&1 | grep -q syscalls || skip "evctl has no syscalls command"
	privs_start -o server.user=nobody -o probes.syscalls=on
	expect_creds "$NOBODY_UID" "$NOBODY_GID" $PROBE_CAPS $PROBE_CAPS $PROBE_CAPS
	"$EVCTL_BIN" -s "$EVD_SOCK" syscalls off
	"$EVCTL_BIN" -s "$EVD_SOCK" syscalls on
	serves
	run "$EVCTL_BIN" -s "$EVD_SOCK" syscalls -o json
	[ "$status" -eq 0 ]
	[ "$(jq '[.syscalls[] | .calls] | add' <<<"$output")" -gt 0 ]
	evd_stop
}

@test "prefork as nobody: the worker processes have no capability either" {
	privs_start -o server.user=nobody -o server.model=prefork -o server.workers=2
	wait_until 10 bash -c "[ \$(pgrep -P $EVD_PID | wc -l) -eq 2 ]"
	expect_creds "$NOBODY_UID" "$NOBODY_GID" $NONE $NONE $NONE
	serves
	evd_stop
}

@test "a user with a supplementary group: evd takes the user's primary and supplementary groups, nothing else" {
	command -v useradd >/dev/null || skip "no useradd"
	TEST_USER=evdtest-u$$
	TEST_GROUP=evdtest-g$$
	groupadd --system "$TEST_GROUP"
	useradd --system --user-group --no-create-home --shell /usr/sbin/nologin \
		--groups "$TEST_GROUP" "$TEST_USER"
	uid=$(id -u "$TEST_USER")
	gid=$(id -g "$TEST_USER")
	sgid=$(getent group "$TEST_GROUP" | cut -d: -f3)
	chown "$TEST_USER": "$EVD_DIR"
	privs_start -o server.user="$TEST_USER"
	expect_creds "$uid" "$gid" $NONE $NONE $NONE
	want=$(printf '%s\n' "$gid" "$sgid" | sort -n | tr '\n' ' ' | sed 's/ $//')
	got=$(status_field "$EVD_PID" Groups | tr ' ' '\n' | grep . | sort -n | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$want" ]
	serves
	evd_stop
}

@test "an unknown [server] user: evd refuses to serve, exit 78 (a configuration error), the reason on stderr" {
	EVD_CONF=$EVD_DIR/evd.ini
	EVD_SOCK=$EVD_DIR/evd.sock
	evd_config "$EVD_CONF"
	run -78 timeout 10 "$EVD_BIN" -c "$EVD_CONF" -o server.user=evd-no-such-user
	[[ $output == *'-o server.user=evd-no-such-user: user: no such user "evd-no-such-user" ('* ]]
	[ ! -e "$EVD_SOCK" ]
	evd_none_left
}

# start_once: one evd as root with [server] user = nobody in $EVD_DIR, left
# to come up (its "serving" line) or to fail, then stopped; prints nothing.
# The control socket may have been swapped away by then: not evd_start.
start_once() {
	local log=$EVD_DIR/start.log
	"$EVD_BIN" -c "$EVD_CONF" -o server.user=nobody 2>"$log" &
	local pid=$!
	wait_until 10 bash -c "grep -q ' serving ' '$log' || ! kill -0 $pid 2>/dev/null"
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 10 bash -c "! kill -0 $pid 2>/dev/null"
	wait "$pid" || true
	cat "$log" >>"$EVD_DIR/all.log"
	# What the attacker left at the name would stop the next start.
	rm -f "$EVD_DIR/evd.sock"
}

@test "the control socket: nobody swapping a symlink in by rename(2) during many starts never gets root to chown or chmod its target" {
	EVD_SOCK=$EVD_DIR/evd.sock
	EVD_LOG=$EVD_DIR/all.log
	EVD_CONF=$EVD_DIR/evd.ini
	evd_config "$EVD_CONF"
	# Root's file, mode 600, outside the directory nobody may write.
	TARGET=$(mktemp /tmp/evd-target.XXXXXX)
	chmod 600 "$TARGET"
	echo secret >"$TARGET"
	before=$(stat -c '%a %U %G %s' "$TARGET")
	[ "$before" = "600 root root 7" ]
	tools=$(dirname "$EVCLIENT_BIN")
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
		"$tools/symswap" "$EVD_DIR" evd.sock "$TARGET" 120 >"$BATS_TEST_TMPDIR/swap.out" &
	SWAP_PID=$!
	hits=0
	for i in $(seq 1 30); do
		start_once
		after=$(stat -c '%a %U %G %s' "$TARGET")
		if [ "$after" != "$before" ]; then
			echo "start $i: the target is now $after" >&2
			hits=$((hits + 1))
			chown root:root "$TARGET"
			chmod 600 "$TARGET"
		fi
	done
	kill "$SWAP_PID" 2>/dev/null || true
	wait "$SWAP_PID" || true
	rm -f "$TARGET"
	served=$(grep -c ' serving ' "$EVD_LOG" || true)
	echo "the target changed in $hits of 30 starts ($served served); $(cat "$BATS_TEST_TMPDIR/swap.out")" >&2
	[ "$hits" -eq 0 ]
	# The race ran: nobody's link replaced evd's socket at least once.
	grep -q '^swaps [1-9]' "$BATS_TEST_TMPDIR/swap.out"
}

@test "with [server] user: the control socket is removed at stop when its directory lets evd's user; otherwise a log line says why" {
	privs_start -o server.user=nobody
	evd_stop
	! grep -q 'control socket' <(grep -v ' serving ' "$EVD_LOG")
	# A directory of root's: nobody cannot remove a name in it.
	chown root: "$EVD_DIR"
	privs_start -o server.user=nobody
	pid=$EVD_PID
	kill -TERM "$EVD_PID"
	wait_until 10 evd_gone
	wait "$EVD_PID"
	EVD_PID=
	[ -S "$EVD_SOCK" ]
	grep -qxF "evd[$pid]: warning: cannot remove control socket $EVD_SOCK: Permission denied (evd runs as uid $NOBODY_UID now; its directory belongs to uid 0, mode 0755: give the directory to [server] user, or remove the socket by hand; the next evd replaces it anyway)" "$EVD_LOG"
	# The next evd replaces it, and says so.
	privs_start -o server.user=nobody
	grep -qF "info: replaced the stale control socket $EVD_SOCK" "$EVD_LOG"
	kill -TERM "$EVD_PID"
	wait_until 10 evd_gone
	EVD_PID=
}
