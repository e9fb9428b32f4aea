# End to end on a real systemd: the Debian package installed in a booted
# Debian 12 container (systemd-nspawn, its own network namespace so port
# 7777 is its own).  Needs root; run by `make test-system` and by CI as
# root.  The root filesystem is debootstrapped once and cached outside the
# tree (tests/system/rootfs.sh); each run boots an overlay of it, so the
# cache stays clean.  The package comes from `make deb` (EVD_DEB, else the
# newest ./evd_*.deb).

bats_require_minimum_version 1.5.0

# in_ct CMD...: runs CMD inside the container, as its root (bounded).
in_ct() {
	timeout 60 nsenter -t "$CT_PID" -a "$@"
}

# wait_ct SECONDS CMD...: polls CMD inside the container until it succeeds.
wait_ct() {
	local limit=$1 deadline
	shift
	deadline=$((SECONDS + limit))
	until in_ct "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "timed out after ${limit}s waiting for: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# Why the whole file is skipped, or nothing.
skip_reason() {
	[ "$(id -u)" -eq 0 ] || { echo "needs root (systemd-nspawn, nsenter)"; return; }
	command -v systemd-nspawn >/dev/null ||
		{ echo "systemd-nspawn is not installed (packaging/deps.sh installs systemd-container)"; return; }
	command -v debootstrap >/dev/null || [ -f /var/cache/evd-test/bookworm/.evd-rootfs-ok ] ||
		{ echo "debootstrap is not installed (packaging/deps.sh)"; return; }
	[ -f "$(deb_path)" ] || echo "no package: run make deb first (or set EVD_DEB)"
}

deb_path() {
	local top=$BATS_TEST_DIRNAME/../..
	echo "${EVD_DEB:-$(ls -t "$top"/evd_*.deb 2>/dev/null | head -1)}"
}

setup_file() {
	export CT_SKIP
	CT_SKIP=$(skip_reason)
	[ -z "$CT_SKIP" ] || return 0
	local top=$BATS_TEST_DIRNAME/../.. cache t=$BATS_FILE_TMPDIR
	cache=$("$top/tests/system/rootfs.sh")
	export CT_DIR=$t/root
	mkdir -p "$t/upper" "$t/work" "$CT_DIR"
	mount -t overlay overlay -o "lowerdir=$cache,upperdir=$t/upper,workdir=$t/work" "$CT_DIR"
	cp "$(deb_path)" "$CT_DIR/evd.deb"
	# --private-network: only lo, so 127.0.0.1:7777 is the container's.
	# --keep-unit --register=no: no machined needed on the host.
	# CAP_BPF, CAP_PERFMON and bpf(): only for the probes drop-in test.
	systemd-nspawn -D "$CT_DIR" --machine="evdtest-$$" --private-network \
		--capability=CAP_BPF,CAP_PERFMON --system-call-filter='bpf perf_event_open' \
		--register=no --keep-unit -q -b >"$t/nspawn.log" 2>&1 &
	export CT_NSPAWN=$!
	local deadline=$((SECONDS + 30))
	CT_PID=
	# The container's PID 1 is nspawn's child; wait for its systemd.
	until [ -n "$CT_PID" ] && [ "$(cat /proc/"$CT_PID"/comm 2>/dev/null)" = systemd ]; do
		if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$CT_NSPAWN" 2>/dev/null; then
			cat "$t/nspawn.log" >&2
			echo "the container did not boot" >"$t/failed"
			return 0
		fi
		sleep 0.1
		CT_PID=$(pgrep -P "$CT_NSPAWN" | head -1)
	done
	export CT_PID
	# "degraded" is fine (units that make no sense in a container).
	timeout 60 nsenter -t "$CT_PID" -a systemctl is-system-running --wait \
		>"$t/boot.state" 2>&1 || true
	# The package: postinst creates the user, enables and starts evd.
	if ! in_ct dpkg -i /evd.deb >"$t/dpkg.log" 2>&1; then
		echo "dpkg -i failed: $(tail -5 "$t/dpkg.log")" >"$t/failed"
	fi
}

teardown_file() {
	local t=$BATS_FILE_TMPDIR
	if [ -n "${CT_NSPAWN:-}" ] && kill -0 "$CT_NSPAWN" 2>/dev/null; then
		[ -z "${CT_PID:-}" ] || timeout 10 nsenter -t "$CT_PID" -a systemctl poweroff >/dev/null 2>&1 || true
		timeout 30 tail --pid="$CT_NSPAWN" -f /dev/null || kill -KILL "$CT_NSPAWN"
	fi
	if [ -n "${CT_DIR:-}" ] && mountpoint -q "$CT_DIR"; then
		umount "$CT_DIR" || umount -l "$CT_DIR"
	fi
	rm -rf "$t/upper" "$t/work"
}

setup() {
	[ -z "$CT_SKIP" ] || skip "$CT_SKIP"
	if [ -f "$BATS_FILE_TMPDIR/failed" ]; then
		cat "$BATS_FILE_TMPDIR/failed" >&2
		return 1
	fi
	# A failed earlier test must not leave the start limit hit.
	in_ct systemctl reset-failed evd.service evd.socket >/dev/null 2>&1 || true
}

# On a failure, the unit's status and journal explain it.
teardown() {
	if [ -z "$CT_SKIP" ] && [ -n "${CT_PID:-}" ] && [ "${BATS_TEST_COMPLETED:-}" != 1 ]; then
		in_ct systemctl status --no-pager evd evd.socket >&2 || true
		in_ct journalctl -u evd -u evd.socket --no-pager -n 30 >&2 || true
	fi
}

# main_pid: evd's pid inside the container.
main_pid() {
	in_ct systemctl show -p MainPID --value evd
}

# served TEXT: an echo through 127.0.0.1:7777 inside the container.
served() {
	run in_ct bash -c "printf '%s\n' '$1' | socat -t 5 - TCP:127.0.0.1:7777"
	[ "$status" -eq 0 ]
	[ "$output" = "$1" ]
}

stat_in_ct() {
	in_ct evctl stats -o json | jq -r ".$1"
}

@test "dpkg -i: user evd, units, /etc/evd.ini as a conffile, man pages; evd enabled and started" {
	run in_ct getent passwd evd
	[ "$status" -eq 0 ]
	[[ $output == evd:x:*:*:*:/nonexistent:/usr/sbin/nologin ]]
	in_ct test -f /etc/evd.ini
	run in_ct dpkg-query -W -f='${Conffiles}' evd
	[[ $output == *' /etc/evd.ini '* ]]
	for f in /usr/share/man/man8/evd.8.gz /usr/share/man/man8/evctl.8.gz \
		/usr/share/man/man5/evd.ini.5.gz /usr/share/man/man1/evbench.1.gz \
		/lib/systemd/system/evd.service /lib/systemd/system/evd.socket \
		/usr/lib/sysusers.d/evd.conf /usr/lib/tmpfiles.d/evd.conf; do
		in_ct test -f "$f"
	done
	run in_ct systemctl is-enabled evd
	[ "$output" = enabled ]
	run in_ct systemctl is-enabled evd.socket
	[ "$output" = disabled ]
	wait_ct 30 systemctl is-active evd
}

@test "systemctl start evd → active; evctl stats; a client is served; user evd with no capability in any thread" {
	in_ct systemctl start evd
	run in_ct systemctl is-active evd
	[ "$output" = active ]
	[ "$(stat_in_ct model)" = epoll ]
	[ "$(stat_in_ct 'listen | tojson')" = '["127.0.0.1:7777"]' ]
	before=$(stat_in_ct requests)
	served hello
	[ "$(stat_in_ct requests)" -eq $((before + 1)) ]
	pid=$(main_pid)
	[ "$pid" -gt 1 ]
	run in_ct bash -c "for t in /proc/$pid/task/*; do
		stat -c %U \$t; awk '/^Cap(Eff|Prm|Inh|Amb)/ {print \$1, \$2}' \$t/status; done | sort | uniq -c"
	echo "$output" >&2
	n=$(in_ct ls /proc/"$pid"/task | wc -l)
	[ "$output" = "$(printf '%7d CapAmb: 0000000000000000\n%7d CapEff: 0000000000000000\n%7d CapInh: 0000000000000000\n%7d CapPrm: 0000000000000000\n%7d evd' "$n" "$n" "$n" "$n" "$n")" ]
	# Type=notify: evd said READY=1 (active), and sends STATUS= lines.
	wait_ct 15 bash -c 'systemctl show -p StatusText --value evd | grep -Eq "^echo epoll: [0-9]+ connections, [0-9.]+ requests/s, [0-9]+ requests since start$"'

}

@test "edit /etc/evd.ini, systemctl reload evd → the new setting in evctl stats at once; a broken file fails the reload loudly" {
	in_ct systemctl start evd
	pid=$(main_pid)
	in_ct sed -i 's/^model = epoll$/model = poll/' /etc/evd.ini
	# ExecReload=evctl reload waits for the swap: no polling needed.
	in_ct systemctl reload evd
	[ "$(stat_in_ct model)" = poll ]
	served again
	[ "$(main_pid)" = "$pid" ]
	# A broken file: systemctl reload fails, the reason (the first error)
	# from evctl in the journal, evd still active with the running
	# configuration.
	in_ct sed -i 's/^model = poll$/model = nope/' /etc/evd.ini
	run in_ct systemctl reload evd
	[ "$status" -ne 0 ]
	[[ $output == *"Job for evd.service failed"* ]]
	wait_ct 15 bash -c 'journalctl -u evd --no-pager -o cat | grep -q "^evctl: evd: ERROR reload refused: /etc/evd.ini:[0-9]*: model: unknown model \"nope\""'
	run in_ct systemctl is-active evd
	[ "$output" = active ]
	[ "$(stat_in_ct model)" = poll ]
	served still
	in_ct sed -i 's/^model = nope$/model = epoll/' /etc/evd.ini
	in_ct systemctl reload evd
	[ "$(stat_in_ct model)" = epoll ]
	[ "$(main_pid)" = "$pid" ]
}

@test "a broken /etc/evd.ini at start: evd exits 78 with the errors, and systemd does not restart it (RestartPreventExitStatus=78)" {
	in_ct systemctl stop evd
	in_ct sed -i 's/^model = epoll$/model = nope/' /etc/evd.ini
	run in_ct systemctl start evd
	[ "$status" -ne 0 ]
	# Failed for good: a restartable exit would show activating/auto-restart.
	wait_ct 15 bash -c '[ "$(systemctl show -p ActiveState --value evd)/$(systemctl show -p SubState --value evd)" = failed/failed ]'
	[ "$(in_ct systemctl show -p ExecMainStatus --value evd)" = 78 ]
	[ "$(in_ct systemctl show -p NRestarts --value evd)" = 0 ]
	run in_ct journalctl -u evd --no-pager -o cat _PID="$(in_ct systemctl show -p ExecMainPID --value evd)"
	[[ $output == *'unknown model "nope"'* ]]
	[[ $output == *'configuration /etc/evd.ini has 1 error: not starting'* ]]
	in_ct sed -i 's/^model = nope$/model = epoll/' /etc/evd.ini
	in_ct systemctl reset-failed evd
	in_ct systemctl start evd
	run in_ct systemctl is-active evd
	[ "$output" = active ]
}

@test "every model serves under the hardened unit (seccomp filter, io_uring calls for uring, fork for prefork)" {
	in_ct systemctl start evd
	pid=$(main_pid)
	for m in $(in_ct evd --list-models | awk '{print $1}'); do
		in_ct sed -i "s/^model = .*/model = $m/" /etc/evd.ini
		in_ct systemctl reload evd
		wait_ct 20 bash -c "[ \"\$(evctl stats -o json | jq -r .model)\" = $m ]"
		served "through $m"
	done
	[ "$(main_pid)" = "$pid" ]
	# No system call was refused by the filter on the way.
	run in_ct journalctl -u evd --no-pager -o cat -p warning
	! grep -qi 'operation not permitted' <<<"$output"
	in_ct sed -i 's/^model = .*/model = epoll/' /etc/evd.ini
	in_ct systemctl reload evd
	wait_ct 20 bash -c '[ "$(evctl stats -o json | jq -r .model)" = epoll ]'
}

@test "journalctl -u evd shows evd's lines with priorities: -p warning keeps the errors, drops the info lines" {
	run in_ct journalctl -u evd --no-pager -o cat
	grep -q 'serving echo on 127.0.0.1:7777' <<<"$output"
	run in_ct journalctl -u evd --no-pager -o cat -p warning
	grep -q 'unknown model "nope"' <<<"$output"
	# Without the <N> prefixes every stderr line would be priority 6
	# (info) and -p warning would show none of them.
	! grep -q 'serving echo on' <<<"$output"
}

@test "systemctl stop evd → inactive, exit status 0, control socket gone" {
	in_ct systemctl start evd
	in_ct systemctl stop evd
	run in_ct systemctl is-active evd
	[ "$output" = inactive ]
	[ "$(in_ct systemctl show -p ExecMainStatus --value evd)" = 0 ]
	[ "$(in_ct systemctl show -p Result --value evd)" = success ]
	in_ct test ! -e /run/evd/evd.sock
}

@test "socket activation: evd.socket holds 127.0.0.1:7777; the first client starts evd, which serves it; a stop refuses nobody" {
	in_ct systemctl stop evd
	in_ct systemctl start evd.socket
	run in_ct systemctl is-active evd
	[ "$output" = inactive ]
	served activated
	wait_ct 15 systemctl is-active evd
	[ "$(stat_in_ct 'listen | tojson')" = '["127.0.0.1:7777"]' ]
	run in_ct journalctl -u evd --no-pager -o cat _PID="$(main_pid)"
	[[ $output == *'socket activation: serving the 1 socket systemd passed ([server] listen is not used)'* ]]
	# systemd keeps the socket while evd is stopped: the next client
	# starts it again and is served.
	in_ct systemctl stop evd
	run in_ct systemctl is-active evd.socket
	[ "$output" = active ]
	served again
	wait_ct 15 systemctl is-active evd
	in_ct systemctl stop evd.socket evd
	run in_ct systemctl is-active evd
	[ "$output" = inactive ]
}

@test "the probes drop-in: [probes] syscalls = on keeps CAP_BPF and CAP_PERFMON only, and evctl syscalls counts evd's calls" {
	[ -r /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	# Without the drop-in, the refusal names it where the package put it
	# (not under /usr/share/doc, which slim images remove).
	in_ct systemctl start evd
	wait_ct 15 evctl ping
	run in_ct evctl syscalls on
	[ "$status" -eq 1 ]
	[[ $output == *"install -D -m 644 /usr/share/evd/evd-probes.conf /etc/systemd/system/evd.service.d/probes.conf && systemctl daemon-reload && systemctl restart evd"* ]]
	in_ct install -D -m 644 /usr/share/evd/evd-probes.conf \
		/etc/systemd/system/evd.service.d/probes.conf
	in_ct sed -i 's/^syscalls = off$/syscalls = on/' /etc/evd.ini
	in_ct systemctl daemon-reload
	in_ct systemctl restart evd
	wait_ct 15 bash -c '[ "$(awk "/^CapEff/ {print \$2}" /proc/$(systemctl show -p MainPID --value evd)/status)" = 000000c000000000 ]'
	served probed
	run in_ct evctl syscalls -o json
	[ "$status" -eq 0 ]
	[ "$(jq -r .state <<<"$output")" = on ]
	# Inside this container's PID namespace too.
	[ "$(jq '[.syscalls[] | .calls] | add' <<<"$output")" -gt 0 ]
	in_ct sed -i 's/^syscalls = on$/syscalls = off/' /etc/evd.ini
	in_ct rm /etc/systemd/system/evd.service.d/probes.conf
	in_ct systemctl daemon-reload
	in_ct systemctl restart evd
	wait_ct 15 bash -c '[ "$(awk "/^CapEff/ {print \$2}" /proc/$(systemctl show -p MainPID --value evd)/status)" = 0000000000000000 ]'
}

@test "dpkg --purge stops evd and removes the units and /etc/evd.ini" {
	in_ct systemctl start evd
	in_ct dpkg --purge evd
	run in_ct systemctl is-active evd
	[ "$output" != active ]
	in_ct test ! -e /etc/evd.ini
	in_ct test ! -e /lib/systemd/system/evd.service
	run in_ct pgrep -x evd
	[ "$status" -eq 1 ]
}
