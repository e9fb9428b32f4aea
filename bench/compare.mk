# The comparison harness, bench/compare: evd's models side by side with
# nginx and redis-server.  Included by the top Makefile after bench/bench.mk
# (which builds $(BINDIR)/evbench).
#
#   make bench         every model and scenario, nginx and redis-server
#                      (about 20 minutes on two cores; at most 25)
#   make bench-quick   four models, short runs (about 2 minutes; at most 3)
#   make bench BENCH_FLAGS="-m epoll,uring -s S3,S4"   (bench/compare --help)
#
# Each run writes bench/results/<timestamp>/: report.md, PNG and SVG charts,
# runs.jsonl, runs.csv and raw/.  packaging/deps.sh --bench installs wrk,
# redis-benchmark, redis-server, nginx and gnuplot when run as root; the
# harness skips what is missing and says so in the report.  S7 (seed 000)
# runs the libzmq reference servers of `make bench-zmq`, built here when
# libzmq3-dev is installed.

.PHONY: bench bench-quick bench-deps
BENCH_FLAGS ?=
BENCH_BINS := $(BINDIR)/evd $(BINDIR)/evctl \
              $(if $(wildcard bench/bench.mk),$(if $(wildcard bench/evbench.c),$(BINDIR)/evbench)) \
              $(if $(wildcard /usr/include/zmq.h),$(ZMQREF))

bench-deps:
	$(Q)packaging/deps.sh --bench || echo "bench: going on without the missing tools"

bench: bench-deps $(BENCH_BINS)
	$(Q)ZMQREF_BIN=$(ZMQREF) bench/compare --bindir $(BINDIR) $(BENCH_FLAGS)

bench-quick: bench-deps $(BENCH_BINS)
	$(Q)ZMQREF_BIN=$(ZMQREF) bench/compare --quick --bindir $(BINDIR) $(BENCH_FLAGS)

# C10K memory: evd's models beside nginx with 10,000 idle keep-alive
# connections (bench/c10k --help); about 4 minutes.
.PHONY: bench-c10k
C10K_FLAGS ?=
bench-c10k: bench-deps $(BENCH_BINS) $(BUILD)/tools/idlers
	$(Q)bench/c10k --bindir $(BINDIR) --build $(BUILD) $(C10K_FLAGS)

# The fork and thread models against a minimal fork-per-connection and
# thread-per-connection server, interleaved (bench/floor --help).
.PHONY: bench-floor
FLOOR_FLAGS ?=
bench-floor: bench-deps $(BENCH_BINS) $(MINIMAL_BINS)
	$(Q)bench/floor --bindir $(BINDIR) --build $(BUILD) $(FLOOR_FLAGS)
