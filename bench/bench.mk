# evbench, the load generator (included by the top Makefile).
#
#   make bench-tools   build $(BINDIR)/evbench (also part of `make`)
#
# Its sources are listed here rather than globbed: bench/ also holds the
# comparison harness.  The unit tests of its pure parts (histogram and
# report, request and reply parsing) link the sanitizer build of those
# files on top of the usual unit-test objects.

EVBENCH_SRCS := bench/evbench.c bench/opts.c bench/reqs.c bench/report.c \
                bench/engine.c bench/slot.c bench/protos.c common/hist.c \
                common/num.c common/cli.c

.PHONY: bench-tools
bench-tools: $(BINDIR)/evbench

all: $(BINDIR)/evbench

$(BINDIR)/evbench: $(call obj,$(EVBENCH_SRCS))
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lm -pthread

$(BUILD)/tests/test_evbench_hist: $(call aobj,bench/report.c bench/opts.c common/cli.c)
$(BUILD)/tests/test_evbench_reqs: $(call aobj,bench/reqs.c bench/opts.c common/cli.c)

# Instructions per request and per parsed byte (make bench-instr).
-include bench/instr.mk
