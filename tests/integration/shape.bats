#!/usr/bin/env bats
# The code's shape (STYLE.md): no function over 80 lines (usage text
# exempt), no C file over 1,000, in the git-tracked sources.

@test "tests/shape: no function over 80 lines and no C file over 1000 in the sources; exit 0" {
	command -v ctags >/dev/null || skip "universal-ctags is not installed (packaging/deps.sh installs it)"
	run "$BATS_TEST_DIRNAME/../shape"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = "0 functions over 80 lines, 0 files over 1000 lines" ]
}

@test "tests/shape: the unit tests' long tables are counted with -a, and it exits 1" {
	command -v ctags >/dev/null || skip "universal-ctags is not installed (packaging/deps.sh installs it)"
	run "$BATS_TEST_DIRNAME/../shape" -a tests/unit
	[ "$status" -eq 1 ]
	[[ "${lines[-1]}" =~ ^[1-9][0-9]*\ functions\ over\ 80\ lines,\ [1-9][0-9]*\ files\ over\ 1000\ lines$ ]]
	# Each counted function is listed with its length, place and name.
	grep -qE '^[0-9]+ tests/unit/test_[a-z_]+\.c:[0-9]+ [a-z_]+$' <<<"$output"
}
