# The comparison harness, bench/compare: evd's models side by side with
# nginx and redis-server.  Included by the top Makefile after bench/bench.mk
# (which builds $(BINDIR)/evbench).
#
#   make bench         every model and scenario, nginx and redis-server
#                      (at most --max-time, 23 minutes: on two cores the
#                      last models' runs are skipped, and the report says so)
#   make bench-seeds   the seeds' models and scenarios in one bounded run,
#                      the command that wrote bench/example/ (about 22 minutes)
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

# The models the seeds compare (001: select, epoll, prefork, prethread,
# select + prethread, asyncio; 004: the library and the thread pool) on
# every scenario but S4 (S10 is seed 002's shape) and S6, with runs short
# enough to fit --max-time with bench/flames at the end.
BENCH_SEEDS_FLAGS := -m select,epoll,prefork,prethread,select-prethread,async \
	-s S1,S2,S3,S5,S7,S8,S9,S10,S11,S12,S13 -d 3 --step 3 --s8-actions 20 \
	--s7-calls 2000 --s1-workers 1000 --rates 1000,4000,16000,64000
.PHONY: bench-seeds
bench-seeds: bench-deps $(BENCH_BINS)
	$(Q)ZMQREF_BIN=$(ZMQREF) bench/compare --bindir $(BINDIR) $(BENCH_SEEDS_FLAGS) $(BENCH_FLAGS)

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
