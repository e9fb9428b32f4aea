#!/bin/sh
# Installs what evd needs to build and test, from Debian 12's packages.
# Idempotent and quiet when everything is already installed.
#
# usage: packaging/deps.sh [--bench]
#   --bench   also the load tools and servers for the comparisons
set -eu

pkgs="gcc make pkg-config libcmocka-dev liburing-dev libsystemd-dev
      clang llvm libclang-rt-14-dev libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
      bats jq socat procps iproute2 strace linux-perf valgrind universal-ctags
      redis-tools curl apache2-utils nghttp2-client wrk
      debhelper dpkg-dev fakeroot lintian debootstrap systemd-container"
case "${1:-}" in
--bench) pkgs="$pkgs wrk redis-tools redis-server nginx-light gnuplot-nox" ;;
"") ;;
-h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "deps.sh: unknown option '$1' (expected --bench)" >&2; exit 2 ;;
esac

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
		grep -q '^install ok installed$'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run as root (or: sudo apt-get install$missing)" >&2
	exit 1
fi
echo "deps.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
