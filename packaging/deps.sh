#!/bin/sh
# Installs what evd needs, from Debian 12's packages, in groups, so that a
# newcomer who only wants to build and run evd does not pull the test,
# packaging and benchmark toolchains.  Idempotent, and quiet when every
# package of the chosen groups is installed.
#
# usage: packaging/deps.sh [--test] [--package] [--bench] [--all] [--list]
#   (none)     build and run: compiler, liburing, libsystemd, libcap,
#              json-c, libbpf + bpftool + clang for the probes, libdw for
#              the stack profiler's symbols (about 60 packages on a
#              minimal Debian 12)
#   --test     what `make test` needs besides: cmocka, bats, jq, socat,
#              curl, ab, h2load, wrk, redis-cli, valgrind, perf, strace,
#              clang's fuzzer runtime, universal-ctags (tests/shape),
#              debootstrap and systemd-nspawn for the end-to-end suite,
#              prometheus (promtool and a real scraper), tmux (drives
#              evctl top), libzmq3-dev and python3-zmq (the real ZeroMQ
#              peers of the zmtp tests: tests/tools/zmqclient.c,
#              zmq_client.py)
#   --package  make deb: debhelper, dpkg-dev, fakeroot, lintian
#   --bench    make bench: nginx, redis-server, gnuplot; libzmq3-dev for
#              make bench-zmq (seed 000's libzmq reference servers)
#   --all      every group (what .ci/run installs)
#   --list     print the packages of the chosen groups, install nothing
set -eu

# libdw-dev: elfutils' libdw, which the stack profiler (evctl profile) uses to
# name user-space frames from ELF symbol tables and DWARF, as perf does.
build="gcc make pkg-config liburing-dev libsystemd-dev
       libcap-dev libjson-c-dev clang llvm libbpf-dev bpftool libelf-dev libdw-dev
       zlib1g-dev linux-libc-dev"
test="libcmocka-dev libclang-rt-14-dev bats jq socat procps iproute2 strace
      linux-perf valgrind redis-tools curl apache2-utils nghttp2-client wrk
      debootstrap systemd-container stress-ng universal-ctags prometheus tmux
      libzmq3-dev python3-zmq"
package="debhelper dpkg-dev fakeroot lintian"
bench="wrk redis-tools redis-server nginx-light gnuplot-nox jq libzmq3-dev"

pkgs=$build
list=0
for opt in "$@"; do
	case $opt in
	--test) pkgs="$pkgs $test" ;;
	--package) pkgs="$pkgs $package" ;;
	--bench) pkgs="$pkgs $bench" ;;
	--all) pkgs="$pkgs $test $package $bench" ;;
	--list) list=1 ;;
	-h | --help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*)
		echo "deps.sh: unknown option '$opt' (expected --test, --package, --bench, --all or --list)" >&2
		exit 2
		;;
	esac
done
# One line per package, each once.
pkgs=$(printf '%s\n' $pkgs | sort -u)
if [ "$list" = 1 ]; then
	printf '%s\n' "$pkgs"
	exit 0
fi

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
