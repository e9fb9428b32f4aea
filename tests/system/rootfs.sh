#!/bin/sh
# Makes (once) a minimal Debian 12 root filesystem with a real systemd for
# the end-to-end tests, cached outside the tree.
#
# usage: tests/system/rootfs.sh [DIR]   (default $EVD_ROOTFS, else
#                                       /var/cache/evd-test/bookworm)
# Prints the directory.  Needs root and debootstrap.
set -eu
dir=${1:-${EVD_ROOTFS:-/var/cache/evd-test/bookworm}}
mirror=${EVD_MIRROR:-http://deb.debian.org/debian}
# What evd's package links against, and the clients the test uses inside.
pkgs=systemd,systemd-sysv,dbus,liburing2,libbpf1,libelf1,libdw1,zlib1g,libcap2,libjson-c5,socat,curl,procps,jq

# The marker holds the package list: a new list makes a new root.
if [ "$(cat "$dir/.evd-rootfs-ok" 2>/dev/null)" = "$pkgs" ]; then
	echo "$dir"
	exit 0
fi
rm -rf "$dir.tmp"
mkdir -p "$(dirname "$dir")"
echo "rootfs.sh: debootstrap bookworm into $dir (once; about a minute)" >&2
debootstrap --variant=minbase --include="$pkgs" bookworm "$dir.tmp" "$mirror" \
	>"$dir.log" 2>&1 || { tail -20 "$dir.log" >&2; exit 1; }
# A machine id, no getty on the console, no network setup to wait for.
echo evdtest >"$dir.tmp/etc/hostname"
systemd-machine-id-setup --root="$dir.tmp" >/dev/null 2>&1 || true
ln -sf /dev/null "$dir.tmp/etc/systemd/system/console-getty.service"
ln -sf /dev/null "$dir.tmp/etc/systemd/system/systemd-networkd-wait-online.service"
echo "$pkgs" >"$dir.tmp/.evd-rootfs-ok"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
