# Flame graphs of evd's models, bench/flames: an on-CPU flame graph and the
# off-CPU ("idle") share per model under HTTP keep-alive and seed 003's
# /delay/50 at a fixed rate, from evd's stack profiler.  Included by the top
# Makefile after bench/compare.mk.  Needs root (CAP_BPF, CAP_PERFMON) and a
# kernel with BTF; without them flames.md says why.
#
#   make bench-flames                   every model, 5 s profiles (about 30 s
#                                       a model)
#   make bench-flames FLAMES_FLAGS="--models epoll,prefork --seconds 10"
#
# A later --models in FLAMES_FLAGS replaces the default "all".
# Writes bench/results/flames-<timestamp>/flames.md and flames/*.svg,
# *.folded (bench/flames --help).

.PHONY: bench-flames
FLAMES_FLAGS ?=

bench-flames: $(BINDIR)/evd $(BINDIR)/evctl $(BINDIR)/evbench
	$(Q)bench/flames --bindir $(BINDIR) --out bench/results/flames-$$(date +%Y%m%d-%H%M%S) \
		--models all $(FLAMES_FLAGS)
