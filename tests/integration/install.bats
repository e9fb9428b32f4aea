# make install (packaging/install.mk) into a temporary DESTDIR: the exact
# file list with modes, the unit's paths, an edited evd.ini that survives a
# second install; the man pages (no groff warning, every key of `evd -t`
# documented in evd.ini(5), every option of `evbench --help` in evbench(1))
# and the units (systemd-analyze verify).

bats_require_minimum_version 1.5.0
load helpers

setup() {
	TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
	# The build that tests/run was given (make test passes BUILD and
	# BINDIR; EVD_BIN is $BINDIR/evd).
	BIN_DIR=$(dirname "$EVD_BIN")
	BUILD_DIR=${BUILD:-build}
	[ -x "$BIN_DIR/evbench" ] || skip "no evbench next to $EVD_BIN: run make first"
	DEST=$BATS_TEST_TMPDIR/dest
}

# install_to DESTDIR [VAR=VALUE...]: make install, quietly.
install_to() {
	local dest=$1
	shift
	make -C "$TOP" --no-print-directory install DESTDIR="$dest" \
		BUILD="$BUILD_DIR" BINDIR="$BIN_DIR" "$@"
}

# listing DIR: "path mode" of everything under DIR, sorted.
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%p %m\n' | LC_ALL=C sort)
}

EXPECTED_LOCAL='./etc 755
./etc/evd.ini 644
./usr 755
./usr/local 755
./usr/local/bin 755
./usr/local/bin/evbench 755
./usr/local/bin/evctl 755
./usr/local/lib 755
./usr/local/lib/systemd 755
./usr/local/lib/systemd/system 755
./usr/local/lib/systemd/system/evd.service 644
./usr/local/lib/systemd/system/evd.socket 644
./usr/local/lib/sysusers.d 755
./usr/local/lib/sysusers.d/evd.conf 644
./usr/local/lib/tmpfiles.d 755
./usr/local/lib/tmpfiles.d/evd.conf 644
./usr/local/sbin 755
./usr/local/sbin/evd 755
./usr/local/share 755
./usr/local/share/bash-completion 755
./usr/local/share/bash-completion/completions 755
./usr/local/share/bash-completion/completions/evbench 644
./usr/local/share/bash-completion/completions/evctl 644
./usr/local/share/bash-completion/completions/evd 644
./usr/local/share/doc 755
./usr/local/share/doc/evd 755
./usr/local/share/doc/evd/README.md 644
./usr/local/share/doc/evd/evd.ini 644
./usr/local/share/evd 755
./usr/local/share/evd/evd-probes.conf 644
./usr/local/share/man 755
./usr/local/share/man/man1 755
./usr/local/share/man/man1/evbench.1 644
./usr/local/share/man/man5 755
./usr/local/share/man/man5/evd.ini.5 644
./usr/local/share/man/man8 755
./usr/local/share/man/man8/evctl.8 644
./usr/local/share/man/man8/evd.8 644'

@test "make install DESTDIR=...: exactly the expected files and modes under /usr/local and /etc" {
	run install_to "$DEST"
	[ "$status" -eq 0 ]
	[ "$(listing "$DEST")" = "$EXPECTED_LOCAL" ]
	cmp "$DEST/usr/local/sbin/evd" "$EVD_BIN"
	cmp "$DEST/etc/evd.ini" "$TOP/conf/evd.ini"
	cmp "$DEST/usr/local/lib/sysusers.d/evd.conf" "$TOP/packaging/systemd/evd.sysusers"
	# The unit runs the installed binary, not /usr/sbin/evd.
	run grep '^Exec' "$DEST/usr/local/lib/systemd/system/evd.service"
	[ "$output" = "ExecStart=/usr/local/sbin/evd -c /etc/evd.ini
ExecReload=/usr/local/bin/evctl reload" ]
	# The installed binary checks the installed configuration.
	run "$DEST/usr/local/sbin/evd" -t -c "$DEST/etc/evd.ini"
	[ "$status" -eq 0 ]
	# Installed, evd's hint is the installed evctl's name (the one on
	# PATH), not a path into a build tree.
	EVD_BIN=$DEST/usr/local/sbin/evd evd_start
	grep -qF "; control socket $EVD_SOCK: try \`evctl -s $EVD_SOCK stats\`" "$EVD_LOG"
	evd_stop
}

@test "a second make install keeps an edited /etc/evd.ini, says so, and changes nothing else" {
	install_to "$DEST" >/dev/null
	sed -i 's/^model = epoll$/model = poll/' "$DEST/etc/evd.ini"
	grep -q '^model = poll$' "$DEST/etc/evd.ini"
	cp "$DEST/etc/evd.ini" "$BATS_TEST_TMPDIR/edited.ini"
	run install_to "$DEST"
	[ "$status" -eq 0 ]
	[[ $output == *"install: keeping $DEST/etc/evd.ini (the new default: $DEST/usr/local/share/doc/evd/evd.ini)"* ]]
	cmp "$DEST/etc/evd.ini" "$BATS_TEST_TMPDIR/edited.ini"
	[ "$(listing "$DEST")" = "$EXPECTED_LOCAL" ]
}

@test "make install PREFIX=/usr: binaries in /usr/sbin and /usr/bin, units in /usr/lib/systemd/system" {
	install_to "$DEST" PREFIX=/usr >/dev/null
	[ "$(listing "$DEST")" = "$(sed '\|^\./usr/local 755$|d; s|/usr/local|/usr|' <<<"$EXPECTED_LOCAL" | LC_ALL=C sort)" ]
	grep -qx 'ExecStart=/usr/sbin/evd -c /etc/evd.ini' "$DEST/usr/lib/systemd/system/evd.service"
}

@test "the man pages render without a groff warning and evd.ini(5) documents every key evd -t prints" {
	local page missing=
	for page in "$TOP"/packaging/man/*.[158]; do
		run --separate-stderr man --warnings -l "$page"
		[ "$status" -eq 0 ]
		[ -z "$stderr" ] || { echo "$page: $stderr" >&2; false; }
	done
	# Every section and every key, as ".SH [section]" and ".BR key ...".
	run "$EVD_BIN" -t -c /dev/null
	[ "$status" -eq 0 ]
	local line
	while IFS= read -r line; do
		case $line in
		\[*\]) grep -qxF ".SH $line" "$TOP/packaging/man/evd.ini.5" || missing="$missing $line" ;;
		*' = '*) grep -q "^\.BR ${line%% = *} \"" "$TOP/packaging/man/evd.ini.5" || missing="$missing ${line%% = *}" ;;
		esac
	done <<<"$output"
	[ -z "$missing" ] || { echo "not in evd.ini.5:$missing" >&2; false; }
	# The reload section names the three ways a change applies.
	man -l "$TOP/packaging/man/evd.ini.5" 2>/dev/null | grep -q 'the serving side restarts'
	man -l "$TOP/packaging/man/evd.ini.5" 2>/dev/null | grep -q 'at the next start only'
}

# man_option_headings PAGE: the options PAGE's OPTIONS section documents,
# as the tags of its .TP and .TQ items there (".BI "\-c, \-\-connections " N"
# gives -c and --connections), sorted, one a line.
man_option_headings() {
	awk '/^\.SH / { on = ($2 == "OPTIONS"); next }
		on && /^\.(TP|TQ)$/ { getline; if ($0 ~ /^\.B/) print }' "$1" |
		sed 's/\\-/-/g; s/"//g' | grep -oE -- '(^|[ ,])--?[a-zA-Z0-9][a-z-]*' |
		tr -d ' ,' | LC_ALL=C sort -u
}

@test "evbench(1) documents every option of evbench --help, and only those, and renders without a warning" {
	local help page=$TOP/packaging/man/evbench.1
	help=$("$BIN_DIR/evbench" --help)
	# The options that start a line of the help ("-c, --connections N",
	# "--proto ...") against the man page's option items.
	want=$(grep -oE -- '^ +(-[a-zA-Z0-9]|--[a-z][a-z-]*)(, +--[a-z][a-z-]*)?' <<<"$help" |
		tr -s ' ,' '\n' | grep . | LC_ALL=C sort -u)
	[ "$(wc -l <<<"$want")" -ge 20 ]
	got=$(man_option_headings "$page")
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2; false; }
	# Every --option the help mentions anywhere, escaped as roff wants it.
	local opt missing=
	for opt in $(grep -oE -- '--[a-z][a-z-]+' <<<"$help" | LC_ALL=C sort -u); do
		grep -qF -- "${opt//-/\\-}" "$page" || missing="$missing $opt"
	done
	[ -z "$missing" ] || { echo "not in evbench.1:$missing" >&2; false; }
	# The help's sections, error kinds and examples are there.
	local text word line
	text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
	for word in Protocol Load Limits Output COUNTING 'EXIT STATUS' EXAMPLES \
		'SEE ALSO' connect reset timeout mismatch eof status; do
		grep -qw -- "$word" <<<"$text" || { echo "no $word" >&2; false; }
	done
	while IFS= read -r line; do
		grep -qxF -- "       $line" <<<"$text" || { echo "example missing: $line" >&2; false; }
	done < <(sed -n '/^Examples:/,$p' <<<"$help" | sed -n 's/^  \(evbench .*\)/\1/p')
	run --separate-stderr man --warnings -l "$page"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "the installed units pass systemd-analyze verify" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	# verify wants the ExecStart binaries where the unit says: install
	# with PREFIX set to the temporary tree itself.  (The user evd need
	# not exist.)
	local root=$BATS_TEST_TMPDIR/root
	install_to "" PREFIX="$root" SYSCONFDIR="$root/etc" >/dev/null
	# MANPATH: verify also opens the Documentation= man pages.
	MANPATH=$root/share/man run --separate-stderr systemd-analyze verify \
		"$root/lib/systemd/system/evd.service" "$root/lib/systemd/system/evd.socket"
	echo "$stderr" >&2
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

# The package from make deb (EVD_DEB, else ./evd_*.deb); skipped without.
deb_file() {
	echo "${EVD_DEB:-$(ls -t "$TOP"/evd_*.deb 2>/dev/null | head -1)}"
}

@test "the .deb: exact file list and modes, /etc/evd.ini a conffile, the dependencies, users created before the start, no lintian tag" {
	local deb
	deb=$(deb_file)
	[ -f "$deb" ] || skip "no package: run make deb first (or set EVD_DEB)"
	command -v lintian >/dev/null || skip "lintian is not installed (packaging/deps.sh)"
	run dpkg-deb -c "$deb"
	[ "$status" -eq 0 ]
	got=$(awk '$6 != "./" {print $6, $1}' <<<"$output" | sed 's|/ | |; s|^\./|/|' | LC_ALL=C sort)
	want="/etc drwxr-xr-x
/etc/evd.ini -rw-r--r--
/lib drwxr-xr-x
/lib/systemd drwxr-xr-x
/lib/systemd/system drwxr-xr-x
/lib/systemd/system/evd.service -rw-r--r--
/lib/systemd/system/evd.socket -rw-r--r--
/usr drwxr-xr-x
/usr/bin drwxr-xr-x
/usr/bin/evbench -rwxr-xr-x
/usr/bin/evctl -rwxr-xr-x
/usr/lib drwxr-xr-x
/usr/lib/sysusers.d drwxr-xr-x
/usr/lib/sysusers.d/evd.conf -rw-r--r--
/usr/lib/tmpfiles.d drwxr-xr-x
/usr/lib/tmpfiles.d/evd.conf -rw-r--r--
/usr/sbin drwxr-xr-x
/usr/sbin/evd -rwxr-xr-x
/usr/share drwxr-xr-x
/usr/share/bash-completion drwxr-xr-x
/usr/share/bash-completion/completions drwxr-xr-x
/usr/share/bash-completion/completions/evbench -rw-r--r--
/usr/share/bash-completion/completions/evctl -rw-r--r--
/usr/share/bash-completion/completions/evd -rw-r--r--
/usr/share/doc drwxr-xr-x
/usr/share/doc/evd drwxr-xr-x
/usr/share/doc/evd/README.md.gz -rw-r--r--
/usr/share/doc/evd/changelog.gz -rw-r--r--
/usr/share/doc/evd/copyright -rw-r--r--
/usr/share/doc/evd/evd.ini -rw-r--r--
/usr/share/evd drwxr-xr-x
/usr/share/evd/evd-probes.conf -rw-r--r--
/usr/share/lintian drwxr-xr-x
/usr/share/lintian/overrides drwxr-xr-x
/usr/share/lintian/overrides/evd -rw-r--r--
/usr/share/man drwxr-xr-x
/usr/share/man/man1 drwxr-xr-x
/usr/share/man/man1/evbench.1.gz -rw-r--r--
/usr/share/man/man5 drwxr-xr-x
/usr/share/man/man5/evd.ini.5.gz -rw-r--r--
/usr/share/man/man8 drwxr-xr-x
/usr/share/man/man8/evctl.8.gz -rw-r--r--
/usr/share/man/man8/evd.8.gz -rw-r--r--"
	[ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") >&2; false; }
	[ "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)" = /etc/evd.ini ]
	# Linked libraries, and the user creation's tool.
	run dpkg-deb -f "$deb" Depends
	for d in liburing2 libbpf1 libsystemd0 libcap2 libjson-c5 'systemd | systemd-standalone-sysusers | systemd-sysusers'; do
		[[ $output == *"$d"* ]] || { echo "Depends lacks $d: $output" >&2; false; }
	done
	# The postinst creates the user before it starts evd.
	post=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./postinst)
	users=$(grep -n 'systemd-sysusers' <<<"$post" | head -1 | cut -d: -f1)
	start=$(grep -n "deb-systemd-invoke \$_dh_action 'evd.service'" <<<"$post" | cut -d: -f1)
	[ -n "$users" ] && [ -n "$start" ] && [ "$users" -lt "$start" ]
	# lintian: every tag, informational and pedantic included; two are
	# overridden in debian/evd.lintian-overrides with the reason.
	run --separate-stderr lintian --tag-display-limit 0 -I -E --pedantic "$deb"
	echo "$output" >&2
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
