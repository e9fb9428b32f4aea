# End to end on a real systemd: the Debian package installed in a booted
# Debian 12 container (systemd-nspawn).  Needs root; run by `make
# test-system` (and CI).  The root filesystem is debootstrapped once and
# cached outside the tree (tests/system/rootfs.sh); the package comes from
# `make deb` (EVD_DEB, else the newest ../evd_*.deb).

bats_require_minimum_version 1.5.0

# in_ct CMD...: runs CMD inside the container, as its root.
in_ct() {
	nsenter -t "$CT_PID" -a "$@"
}

ct_running() {
	[ -n "${CT_PID:-}" ] && in_ct systemctl is-system-running --wait >/dev/null 2>&1
}

setup_file() {
	[ "$(id -u)" -eq 0 ] || return 0
	command -v systemd-nspawn >/dev/null || return 0
	export TOP=$BATS_TEST_DIRNAME/../..
	local deb=${EVD_DEB:-$(ls -t "$TOP"/../evd_*.deb 2>/dev/null | head -1)}
	[ -f "$deb" ] || return 0
	export CT_DIR=$BATS_FILE_TMPDIR/root
	local cache
	cache=$("$TOP/tests/system/rootfs.sh")
	cp -a "$cache" "$CT_DIR"
	cp "$deb" "$CT_DIR/evd.deb"
	rm -f /run/systemd/nspawn/locks/* 2>/dev/null || true
	systemd-nspawn -D "$CT_DIR" --register=no --keep-unit -q -b \
		>"$BATS_FILE_TMPDIR/nspawn.log" 2>&1 &
	export CT_NSPAWN=$!
	local i
	for i in $(seq 100); do
		CT_PID=$(pgrep -P "$CT_NSPAWN" | head -1)
		[ -n "$CT_PID" ] && break
		sleep 0.1
	done
	export CT_PID
	timeout 60 nsenter -t "$CT_PID" -a systemctl is-system-running --wait >/dev/null 2>&1 || true
	# The package: postinst creates the user, enables and starts evd.
	in_ct dpkg -i /evd.deb >"$BATS_FILE_TMPDIR/dpkg.log" 2>&1
	export CT_READY=1
}

teardown_file() {
	if [ -n "${CT_PID:-}" ]; then
		nsenter -t "$CT_PID" -a systemctl poweroff >/dev/null 2>&1 || true
		timeout 20 tail --pid="$CT_NSPAWN" -f /dev/null || kill -KILL "$CT_NSPAWN"
	fi
}

setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (systemd-nspawn)"
	command -v systemd-nspawn >/dev/null || skip "systemd-nspawn is not installed (packaging/deps.sh)"
	[ -n "${CT_READY:-}" ] || skip "no package to install: run make deb first (or set EVD_DEB)"
}

# wait_ct SECONDS CMD...: polls CMD inside the container.
wait_ct() {
	local limit=$1 i
	shift
	for i in $(seq $((limit * 10))); do
		in_ct "$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out waiting for: $*" >&2
	return 1
}

@test "the package installs: user evd, units, /etc/evd.ini, man pages; evd is enabled and running" {
	run in_ct getent passwd evd
	[ "$status" -eq 0 ]
	[[ $output == evd:* ]]
	in_ct test -f /etc/evd.ini
	in_ct test -f /usr/share/man/man8/evd.8.gz
	in_ct test -f /usr/share/man/man5/evd.ini.5.gz
	run in_ct systemctl is-enabled evd
	[ "$output" = enabled ]
	wait_ct 20 systemctl is-active evd
}

@test "systemctl start evd → active; evctl stats answers; a client is served" {
	in_ct systemctl start evd
	run in_ct systemctl is-active evd
	[ "$output" = active ]
	run in_ct evctl stats -o json
	[ "$status" -eq 0 ]
	[ "$(jq -r .model <<<"$output")" = epoll ]
	run in_ct bash -c "printf 'hello\n' | socat -t 2 - TCP:127.0.0.1:7777"
	[ "$output" = hello ]
	run in_ct evctl stats -o json
	[ "$(jq -r .requests <<<"$output")" -ge 1 ]
	# It runs as the unprivileged user, with no capability left.
	pid=$(in_ct systemctl show -p MainPID --value evd)
	[ "$(in_ct stat -c %U /proc/$pid)" = evd ]
	[ "$(in_ct awk '/^CapEff/ {print $2}' /proc/$pid/status)" = 0000000000000000 ]
}

@test "edit /etc/evd.ini and systemctl reload evd → the new setting in evctl stats" {
	in_ct systemctl start evd
	in_ct sed -i 's/^model = epoll/model = poll/' /etc/evd.ini
	in_ct systemctl reload evd
	wait_ct 10 bash -c '[ "$(evctl stats -o json | jq -r .model)" = poll ]'
	run in_ct bash -c "printf 'again\n' | socat -t 2 - TCP:127.0.0.1:7777"
	[ "$output" = again ]
	# A broken file is refused; the running configuration stays.
	in_ct sed -i 's/^model = poll/model = nope/' /etc/evd.ini
	run in_ct systemctl reload evd
	wait_ct 10 bash -c 'journalctl -u evd --no-pager | grep -q "unknown model \"nope\""'
	run in_ct systemctl is-active evd
	[ "$output" = active ]
	[ "$(in_ct evctl stats -o json | jq -r .model)" = poll ]
	in_ct sed -i 's/^model = nope/model = epoll/' /etc/evd.ini
	in_ct systemctl reload evd
	wait_ct 10 bash -c '[ "$(evctl stats -o json | jq -r .model)" = epoll ]'
}

@test "journalctl -u evd shows evd's lines with priorities (-p warning filters)" {
	run in_ct journalctl -u evd --no-pager -o cat
	grep -q 'serving echo on 127.0.0.1:7777' <<<"$output"
	run in_ct journalctl -u evd --no-pager -o cat -p warning
	grep -q 'unknown model "nope"' <<<"$output"
	! grep -q 'serving echo on' <<<"$output"
}

@test "systemctl stop evd → inactive, exit status 0" {
	in_ct systemctl start evd
	in_ct systemctl stop evd
	run in_ct systemctl is-active evd
	[ "$output" = inactive ]
	[ "$(in_ct systemctl show -p ExecMainStatus --value evd)" = 0 ]
	[ "$(in_ct systemctl show -p Result --value evd)" = success ]
	in_ct test ! -e /run/evd/evd.sock
}

@test "socket activation: evd.socket holds the port; the first client starts evd, which serves it" {
	in_ct systemctl stop evd
	in_ct systemctl start evd.socket
	run in_ct systemctl is-active evd
	[ "$output" = inactive ]
	run in_ct bash -c "printf 'activated\n' | socat -t 5 - TCP:127.0.0.1:7777"
	[ "$output" = activated ]
	wait_ct 10 systemctl is-active evd
	run in_ct journalctl -u evd --no-pager -o cat
	grep -q 'socket activation' <<<"$output"
	in_ct systemctl stop evd.socket evd
}
