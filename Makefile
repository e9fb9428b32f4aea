# evd — build, run and test.
#
#   make            build evd and evctl (./evd, ./evctl)
#   make run        install missing build dependencies, build, run evd in the
#                   foreground with conf/evd.ini (control socket ./run/evd.sock);
#                   PORT=, MODEL=, PROTOCOL= override those keys
#   make test       installs what the tests need (packaging/deps.sh --test),
#                   unit tests (ASan+UBSan) and integration tests; the last
#                   line reads "N passed, N failed"
#   make test-busy  make test with stress-ng --cpu 2 running beside it
#   make fuzz       each libFuzzer target (HTTP, RESP, ZMTP, control lines,
#                   config files, /metrics requests) for
#                   FUZZ_TIME seconds (default 30) on a copy of its corpus
#   make clean      remove build products
#
# Quiet by default; V=1 shows the commands.

CC       ?= cc
CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter -Wvla \
            -Wno-missing-field-initializers
CPPFLAGS += -D_GNU_SOURCE
# Frame pointers: the stack profiler (evctl profile) walks evd's user
# stacks in the kernel by them, as perf does without DWARF.
EVD_CFLAGS := -std=gnu11 $(WARNINGS) -pthread -MMD -MP \
              -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer
LDLIBS    = -luring -lsystemd -lcap $(PROBE_LIBS) -lm -pthread
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer \
            -fno-sanitize-recover=undefined

BUILD    ?= build
BINDIR   ?= .

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2);
endif

.DELETE_ON_ERROR:
.SECONDARY:
.SECONDEXPANSION:
.PHONY: all run test test-busy test-run unit integration clean deps deps-test fuzz

LIB_SRCS := daemon/config.c daemon/config_file.c daemon/config_values.c \
            daemon/log.c daemon/stats.c daemon/server.c daemon/server_fork.c \
            daemon/conn.c daemon/conn_io.c daemon/control.c daemon/ctl_stats.c \
            daemon/ctl_probes.c daemon/lifecycle.c daemon/ctl_parse.c daemon/ctl_socket.c \
            daemon/timer.c daemon/paths.c \
            daemon/metrics.c daemon/metrics_http.c daemon/metrics_text.c \
            daemon/evloop.c \
            daemon/children.c daemon/notify.c daemon/privs.c \
            daemon/ctl_profile.c \
            $(sort $(wildcard daemon/proto/*.c)) \
            $(sort $(wildcard daemon/models/*.c)) \
            common/hist.c common/num.c common/prom.c common/folded.c common/ksyms.c
# Optional parts own their make fragments: daemon/probes/probes.mk adds
# the syscall probes (or their stub) to PROBE_SRCS and PROBE_LIBS, and to
# CPPFLAGS; it adds its own rules for generated headers.
PROBE_SRCS :=
PROBE_LIBS :=
-include daemon/probes/probes.mk
LIB_SRCS += $(PROBE_SRCS)
EVD_SRCS := daemon/main.c $(LIB_SRCS)
EVCTL_SRCS := $(sort $(wildcard ctl/*.c)) common/hist.c common/prom.c \
              common/folded.c common/flame_svg.c common/ksyms.c
# A test tool is one tests/tools/NAME.c with main(); TOOL_PARTS are files
# of a tool kept apart (NAME_*.c), linked into it, never a binary.
TOOL_PARTS := tests/tools/evclient_opts.c
TOOL_SRCS := $(filter-out $(TOOL_PARTS),$(wildcard tests/tools/*.c))
TOOL_COMMON := common/num.c common/cli.c
UNIT_SRCS := $(wildcard tests/unit/test_*.c)

obj  = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
aobj = $(patsubst %.c,$(BUILD)/asan/%.o,$(1))

UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRCS))

all: $(BINDIR)/evd $(BINDIR)/evctl

# Symbols bound at start (-z now): a process the fork model makes for a
# connection would otherwise resolve each library call it makes anew, each
# lookup faulting pages in; read-only relocations after start (relro).
EVD_LDFLAGS := -Wl,-z,relro,-z,now

$(BINDIR)/evd: $(call obj,$(EVD_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(EVD_LDFLAGS) -o $@ $^ $(LDLIBS)

$(BINDIR)/evctl: $(call obj,$(EVCTL_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -ljson-c -lm

$(BUILD)/obj/%.o: %.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(EVD_CFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/asan/%.o: %.c
	$(call msg,CC-SAN,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(EVD_CFLAGS) -O1 -g $(SAN) -c -o $@ $<

# The unit tests link the daemon's sources and evctl's own writers.
UNIT_LINK_SRCS := $(LIB_SRCS) common/flame_svg.c
$(BUILD)/tests/%: $(BUILD)/asan/tests/unit/%.o $(call aobj,$(UNIT_LINK_SRCS))
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SAN) -o $@ $^ -lcmocka $(LDLIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(call obj,$(TOOL_COMMON))
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lm -pthread

# The ZMTP tests' client is libzmq's own (libzmq3-dev).
$(BUILD)/tools/zmqclient: $(BUILD)/obj/tests/tools/zmqclient.o
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lzmq

$(BUILD)/tools/evclient: $(call obj,tests/tools/evclient_opts.c)

# ---- fuzzing (clang's libFuzzer) --------------------------------------------
FUZZ_CC    ?= clang
FUZZ_TIME  ?= 30
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined -D_GNU_SOURCE -std=gnu11 -Idaemon
FUZZ_http  := tests/fuzz/fuzz_http.c daemon/proto/http.c daemon/proto/http_parse.c \
              daemon/proto/http_chunked.c tests/fuzz/http_parse_scalar.c
FUZZ_resp  := tests/fuzz/fuzz_resp.c daemon/proto/resp.c daemon/proto/resp_parse.c
FUZZ_ctl   := tests/fuzz/fuzz_ctl.c daemon/ctl_parse.c
FUZZ_zmtp  := tests/fuzz/fuzz_zmtp.c daemon/proto/zmtp.c daemon/proto/zmtp_rpc.c
FUZZ_config := tests/fuzz/fuzz_config.c daemon/config.c daemon/config_file.c \
               daemon/config_values.c daemon/log.c common/num.c
FUZZ_metrics := tests/fuzz/fuzz_metrics.c daemon/metrics_http.c
FUZZERS    := http resp ctl zmtp config metrics

$(BUILD)/fuzz/fuzz_%: $$(FUZZ_$$*)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_$*)

# Runs every target on a copy of its corpus (new inputs stay out of the
# tree); any crash, leak or failed check stops with a non-zero status and
# leaves the reproducer in $(BUILD)/fuzz/.
fuzz: $(foreach f,$(FUZZERS),$(BUILD)/fuzz/fuzz_$(f))
	$(Q)set -e; for f in $(FUZZERS); do \
		rm -rf $(BUILD)/fuzz/corpus-$$f; \
		cp -r tests/fuzz/corpus/$$f $(BUILD)/fuzz/corpus-$$f; \
		echo "fuzz: $$f for $(FUZZ_TIME) s"; \
		(cd $(BUILD)/fuzz && ./fuzz_$$f -max_total_time=$(FUZZ_TIME) \
			-print_final_stats=1 corpus-$$f 2>fuzz_$$f.log) || \
			{ tail -40 $(BUILD)/fuzz/fuzz_$$f.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^Done' $(BUILD)/fuzz/fuzz_$$f.log | tr '\n' ' '; echo; \
	done

# Build and run dependencies only; the tests' own come with make test.
deps:
	$(Q)packaging/deps.sh

deps-test:
	$(Q)packaging/deps.sh --test

# make run [PORT=7777] [MODEL=epoll] [PROTOCOL=echo]: conf/evd.ini with
# those keys overridden, the control socket at ./run/evd.sock.
RUN_OPTS = $(if $(PORT),-o server.listen=127.0.0.1:$(PORT)) \
           $(if $(MODEL),-o server.model=$(MODEL)) \
           $(if $(PROTOCOL),-o server.protocol=$(PROTOCOL))
run: deps all
	$(Q)mkdir -p run
	./evd -c conf/evd.ini -o control.socket=run/evd.sock $(strip $(RUN_OPTS))

# As root, make test also runs the end-to-end suite on systemd (tests/system:
# the .deb, rebuilt when stale, booted in systemd-nspawn); SYSTEM=0 leaves
# it out.  One tests/run, so "N passed, N failed" is the last line.
SYSTEM ?= 1
test: deps-test
	+$(Q)$(MAKE) --no-print-directory test-run

test-run: all $(UNIT_BINS) $(TOOL_BINS)
	$(Q)if [ "$(SYSTEM)" != 0 ] && [ "$$(id -u)" -eq 0 ]; then \
		{ test -f $(DEB) -a $(DEB) -nt $(BINDIR)/evd || \
		  $(MAKE) --no-print-directory deb; } && \
		EVD_DEB=$(CURDIR)/$(DEB) BUILD=$(BUILD) BINDIR=$(BINDIR) \
			tests/run unit integration system; \
	else \
		echo "# system tests left out: $$( [ "$(SYSTEM)" = 0 ] && echo SYSTEM=0 || echo 'they need root (systemd-nspawn)')"; \
		BUILD=$(BUILD) BINDIR=$(BINDIR) tests/run unit integration; \
	fi

# make test with stress-ng --cpu 2 beside it the whole time: a test states
# a property, never a speed, so a busy machine must not fail it.  The
# stressor stops with the run, whatever its outcome.
test-busy: deps-test
	$(Q)stress-ng --cpu 2 --timeout 7200s --quiet & busy=$$!; \
	trap 'kill $$busy 2>/dev/null; wait $$busy 2>/dev/null' EXIT INT TERM; \
	echo "# test-busy: stress-ng --cpu 2 (pid $$busy) runs beside the suite"; \
	$(MAKE) --no-print-directory test-run

unit: $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) BINDIR=$(BINDIR) tests/run unit

integration: all $(TOOL_BINS)
	$(Q)BUILD=$(BUILD) BINDIR=$(BINDIR) tests/run integration

# The benchmark tools and harness (evbench, make bench, bench-quick).
-include bench/bench.mk
-include bench/compare.mk
-include bench/flames.mk

# Sanitizer suites, valgrind, soak (test-asan, test-tsan, valgrind, soak).
-include tests/sanitize.mk

# Installing, packaging, the end-to-end test on systemd.
include packaging/install.mk

clean:
	rm -rf $(BUILD) evd evctl evbench run

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
