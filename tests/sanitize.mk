# Sanitizer runs, the valgrind memcheck of every model, and the soak
# (included by the top Makefile).  Each sanitizer build lives in its own
# BUILD and BINDIR under $(SAN_DIR), made by a recursive make of the usual
# targets with other CFLAGS, so it never mixes with the normal build.
#
#   make test-asan   evd, evctl, evbench and the test tools with ASan+UBSan
#                    (UBSan halting); the WHOLE integration suite against
#                    them; any sanitizer report in evd's log fails the test
#                    (helpers.bash).  The unit tests are ASan+UBSan builds
#                    in every build (make test runs them)
#   make test-tsan   evd with TSan; conformance.bats for the threaded
#                    models (TSAN_MODELS) and reload.bats
#   make valgrind    every model under valgrind memcheck with echo + HTTP
#                    load and SIGTERM: one line per model
#   make soak        SOAK_REQUESTS requests (default 1,000,000) per model
#                    and protocol with evbench, counters and RSS/fd checked

SAN_DIR     := $(BUILD)/sanitize
ASAN_BUILD  := $(SAN_DIR)/asan
TSAN_BUILD  := $(SAN_DIR)/tsan
VG_BUILD    := $(SAN_DIR)/valgrind
ASAN_CFLAGS := -O1 -g $(SAN)
TSAN_CFLAGS := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
# Valgrind follows a forked child through glibc's fork() only
# (daemon/server_fork.c).
VG_CFLAGS   := -O1 -g -DEVD_PLAIN_FORK
# Halt at the first report, with a non-zero status; leaks are errors.
ASAN_OPTIONS_RUN := detect_leaks=1:abort_on_error=1:halt_on_error=1
UBSAN_OPTIONS_RUN := print_stacktrace=1:halt_on_error=1
TSAN_OPTIONS_RUN := halt_on_error=1:second_deadlock_stack=1
TSAN_MODELS ?= thread prethread select-prethread reuseport epoll
SOAK_REQUESTS ?= 1000000

.PHONY: test-asan test-tsan valgrind soak asan-build tsan-build vg-build

# The tools and unit tests of a build rooted at $(1).
san_extra = $(patsubst $(BUILD)/%,$(1)/%,$(TOOL_BINS) $(2))

# build_in DIR, CFLAGS, EXTRA TARGETS
define san_build
	$(Q)mkdir -p $(1)/bin
	+$(Q)$(MAKE) --no-print-directory BUILD=$(1) BINDIR=$(1)/bin \
		CFLAGS="$(2)" all $(3)
endef

asan-build:
	$(call san_build,$(ASAN_BUILD),$(ASAN_CFLAGS),$(call san_extra,$(ASAN_BUILD)))

tsan-build:
	$(call san_build,$(TSAN_BUILD),$(TSAN_CFLAGS),$(call san_extra,$(TSAN_BUILD)))

vg-build:
	$(call san_build,$(VG_BUILD),$(VG_CFLAGS),$(call san_extra,$(VG_BUILD)))

# Two lanes side by side (the tests mostly wait on sockets and timers):
# ASAN_LANE1's files, and every other file; each lane's results, then
# both must pass.
ASAN_LANE1 ?= conformance.bats evbench.bats
ASAN_LANE2 := $(filter-out $(ASAN_LANE1),$(notdir $(wildcard tests/integration/*.bats)))
test-asan: asan-build
	$(Q)export ASAN_OPTIONS=$(ASAN_OPTIONS_RUN) \
		UBSAN_OPTIONS=$(UBSAN_OPTIONS_RUN) BUILD=$(ASAN_BUILD) \
		BINDIR=$(ASAN_BUILD)/bin; \
	tests/run $(ASAN_LANE1) >$(ASAN_BUILD)/lane1.log 2>&1 & lane=$$!; \
	tests/run $(ASAN_LANE2) >$(ASAN_BUILD)/lane2.log 2>&1; two=$$?; \
	wait $$lane; one=$$?; \
	echo "# test-asan lane 1: $(ASAN_LANE1)"; cat $(ASAN_BUILD)/lane1.log; \
	echo "# test-asan lane 2: the other files"; cat $(ASAN_BUILD)/lane2.log; \
	[ $$one -eq 0 ] && [ $$two -eq 0 ]

test-tsan: tsan-build
	$(Q)TSAN_OPTIONS=$(TSAN_OPTIONS_RUN) BUILD=$(TSAN_BUILD) \
		BINDIR=$(TSAN_BUILD)/bin tests/sanitize/tsan $(TSAN_MODELS)

valgrind: vg-build
	$(Q)BUILD=$(VG_BUILD) BINDIR=$(VG_BUILD)/bin tests/sanitize/valgrind

soak: all $(TOOL_BINS)
	$(Q)BUILD=$(BUILD) BINDIR=$(BINDIR) SOAK_REQUESTS=$(SOAK_REQUESTS) \
		tests/soak/soak
