# Instructions per request, counted by callgrind (included by bench/bench.mk).
#
#   make bench-instr    evd's single-loop models, nginx and redis-server:
#                       instructions per request for HTTP keep-alive and
#                       pipelined, RESP PING and PING -P16; and the HTTP
#                       parser's instructions per byte on real requests
#                       (about a minute with the defaults)
#   make bench-instr INSTR_FLAGS="-m epoll -n 50000"   (bench/instr --help)
#
# Needs valgrind, h2load (nghttp2-client) and redis-benchmark (redis-tools);
# nginx and redis-server are measured when installed.

.PHONY: bench-instr
INSTR_FLAGS ?=

$(BUILD)/bench/parsebench: $(call obj,bench/parsebench.c daemon/proto/http_parse.c)
	$(call msg,LINK,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

bench-instr: $(BINDIR)/evd $(BINDIR)/evctl $(BUILD)/bench/parsebench
	$(Q)bench/instr --bindir $(BINDIR) --parsebench $(BUILD)/bench/parsebench $(INSTR_FLAGS)
