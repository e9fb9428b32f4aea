# evbench, the load generator (included by the top Makefile).
#
#   make bench-tools   build $(BINDIR)/evbench (also part of `make`)
#   make bench-zmq     build $(BUILD)/bench/zmqref, the libzmq reference
#                      servers (seed 000; needs libzmq3-dev)
#
# Its sources are listed here rather than globbed: bench/ also holds the
# comparison harness.  The unit tests of its pure parts (histogram and
# report, request and reply parsing) link the sanitizer build of those
# files on top of the usual unit-test objects.

EVBENCH_SRCS := bench/evbench.c bench/opts.c bench/reqs.c bench/report.c \
                bench/engine.c bench/slot.c bench/protos.c \
                bench/zmtp_client.c common/hist.c common/num.c common/cli.c

.PHONY: bench-tools
bench-tools: $(BINDIR)/evbench

all: $(BINDIR)/evbench

$(BINDIR)/evbench: $(call obj,$(EVBENCH_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lm -pthread

# The libzmq reference servers of seed 000's benchmark (bench/compare S7):
# not part of `make`, they need libzmq3-dev (packaging/deps.sh --bench).
.PHONY: bench-zmq
ZMQREF := $(BUILD)/bench/zmqref
bench-zmq: $(ZMQREF)

$(ZMQREF): $(call obj,bench/zmqref.c)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lzmq -pthread

$(BUILD)/tests/test_evbench_hist: $(call aobj,bench/report.c bench/opts.c \
                                   common/cli.c)
$(BUILD)/tests/test_evbench_reqs: $(call aobj,bench/reqs.c bench/opts.c \
                                   bench/zmtp_client.c common/cli.c)

# The floors for the fork and thread models (bench/floor): a minimal
# fork-per-connection and thread-per-connection echo server, built the
# ordinary way (the project's CFLAGS, no link flags of evd's).
MINIMAL_BINS := $(BUILD)/bench/forkecho $(BUILD)/bench/threadecho

$(BUILD)/bench/%: bench/minimal/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wall -Wextra -pthread -o $@ $<

# Instructions per request and per parsed byte (make bench-instr).
-include bench/instr.mk
